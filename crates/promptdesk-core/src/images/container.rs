//! The image containers, read without decoding a pixel: a PNG's, JPEG's or WebP's size and the
//! texts its metadata carries (PNG text chunks; EXIF `UserComment`, `ImageDescription` and
//! `XPComment`, and a JPEG comment). Every offset and length read from the file is checked
//! against the bytes there are: a damaged or hostile file gives an error or nothing, never a
//! panic, and nothing is allocated beyond the texts found.

use crate::outputs::{PngError, png_size, png_text};

/// The three formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

impl ImageFormat {
    /// The format the bytes start like, if one of the three.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::Webp)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::Webp => "WebP",
        }
    }
}

/// Why an image's container could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainerError {
    #[error("not a PNG, JPEG or WebP image (it starts with {0})")]
    NotAnImage(String),
    #[error("the {0} image is cut short ({1})")]
    Truncated(&'static str, &'static str),
    #[error("the {0} image is damaged: {1}")]
    Damaged(&'static str, String),
}

impl From<PngError> for ContainerError {
    fn from(e: PngError) -> ContainerError {
        match e {
            PngError::NotPng(head) => ContainerError::NotAnImage(head),
            PngError::Truncated(what) => ContainerError::Truncated("PNG", what),
            PngError::Damaged(what) => ContainerError::Damaged("PNG", what),
        }
    }
}

/// What a container holds: its format, size and metadata texts (keyword, text), in file order.
/// PNG keywords are the chunks' own; EXIF texts are keyed `UserComment`, `ImageDescription`
/// and `XPComment`, a JPEG comment `comment`.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub texts: Vec<(String, String)>,
}

/// The first bytes of a file, in hex, for a message.
pub(crate) fn head_hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing: the file is empty".to_owned();
    }
    bytes
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads a PNG, JPEG or WebP container.
pub fn read_container(bytes: &[u8]) -> Result<Container, ContainerError> {
    match ImageFormat::sniff(bytes) {
        Some(ImageFormat::Png) => {
            let (width, height) = png_size(bytes)?;
            let texts = png_text(bytes)?
                .into_iter()
                .map(|(k, t)| (k, utf8_in_latin1(t)))
                .collect();
            Ok(Container {
                format: ImageFormat::Png,
                width,
                height,
                texts,
            })
        }
        Some(ImageFormat::Jpeg) => read_jpeg(bytes),
        Some(ImageFormat::Webp) => read_webp(bytes),
        None => Err(ContainerError::NotAnImage(head_hex(bytes))),
    }
}

/// A `tEXt` chunk is Latin-1 by the PNG standard, but some tools write UTF-8 into it: text
/// whose Latin-1 bytes are valid UTF-8 with something beyond ASCII in it is read as UTF-8
/// (Latin-1 text practically never is: `Ã©` would have to stand for itself).
fn utf8_in_latin1(text: String) -> String {
    if text.is_ascii() || text.chars().any(|c| c as u32 > 0xff) {
        return text;
    }
    let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    match String::from_utf8(bytes) {
        Ok(utf8) => utf8,
        Err(_) => text,
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

fn read_jpeg(bytes: &[u8]) -> Result<Container, ContainerError> {
    const J: &str = "JPEG";
    let mut texts = Vec::new();
    let mut size = None;
    let mut at = 2;
    let mut scan_start = None;
    while at < bytes.len() {
        if bytes[at] != 0xff {
            return Err(ContainerError::Damaged(
                J,
                format!("no segment marker at byte {at}"),
            ));
        }
        // Fill bytes before a marker.
        while at < bytes.len() && bytes[at] == 0xff {
            at += 1;
        }
        let Some(&marker) = bytes.get(at) else { break };
        at += 1;
        match marker {
            // Markers without a length.
            0x01 | 0xd0..=0xd8 => continue,
            0xd9 => break,
            _ => {}
        }
        let len = usize::from(be16(bytes, at).ok_or(ContainerError::Truncated(
            J,
            "a segment header runs past the end",
        ))?);
        if len < 2 {
            return Err(ContainerError::Damaged(
                J,
                format!("a segment at byte {at} has the impossible length {len}"),
            ));
        }
        let segment = bytes
            .get(at + 2..at + len)
            .ok_or(ContainerError::Truncated(J, "a segment runs past the end"))?;
        match marker {
            // Start of frame (not DHT 0xc4, JPG 0xc8, DAC 0xcc).
            0xc0..=0xcf if !matches!(marker, 0xc4 | 0xc8 | 0xcc) => {
                if size.is_none()
                    && let (Some(h), Some(w)) = (be16(segment, 1), be16(segment, 3))
                {
                    size = Some((u32::from(w), u32::from(h)));
                }
            }
            0xe1 => {
                if let Some(tiff) = segment.strip_prefix(b"Exif\0\0") {
                    exif_texts(tiff, &mut texts);
                }
            }
            0xfe => {
                let text = String::from_utf8_lossy(segment)
                    .trim_end_matches('\0')
                    .to_owned();
                if !text.trim().is_empty() {
                    texts.push(("comment".to_owned(), text));
                }
            }
            0xda => {
                scan_start = Some(at + len);
                break;
            }
            _ => {}
        }
        at += len;
    }
    let Some((width, height)) = size else {
        return Err(ContainerError::Damaged(
            J,
            "it has no frame header (no SOF segment before the image data)".to_owned(),
        ));
    };
    let Some(scan_start) = scan_start else {
        return Err(ContainerError::Truncated(J, "the image data is missing"));
    };
    // The image data ends with an end-of-image marker (tools may append data after it).
    if memchr::memmem::rfind(&bytes[scan_start.min(bytes.len())..], &[0xff, 0xd9]).is_none() {
        return Err(ContainerError::Truncated(
            J,
            "the image data has no end marker",
        ));
    }
    Ok(Container {
        format: ImageFormat::Jpeg,
        width,
        height,
        texts,
    })
}

fn read_webp(bytes: &[u8]) -> Result<Container, ContainerError> {
    const W: &str = "WebP";
    let riff_len = le32(bytes, 4).ok_or(ContainerError::Truncated(W, "no RIFF header"))?;
    let end = 8usize.saturating_add(riff_len as usize);
    if end > bytes.len() {
        return Err(ContainerError::Truncated(
            W,
            "the file is shorter than its RIFF header says",
        ));
    }
    let mut texts = Vec::new();
    let mut canvas = None;
    let mut frame = None;
    let mut at = 12;
    while at + 8 <= end {
        let fourcc = &bytes[at..at + 4];
        let len = le32(bytes, at + 4).unwrap_or(0) as usize;
        let data = bytes
            .get(at + 8..(at + 8).saturating_add(len))
            .filter(|_| (at + 8).saturating_add(len) <= end)
            .ok_or(ContainerError::Truncated(W, "a chunk runs past the end"))?;
        match fourcc {
            b"VP8X" => {
                if let (Some(w), Some(h)) = (le24(data, 4), le24(data, 7)) {
                    canvas = Some((w + 1, h + 1));
                }
            }
            b"VP8L" if frame.is_none() => {
                if data.first() == Some(&0x2f)
                    && let Some(bits) = le32(data, 1)
                {
                    frame = Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1));
                }
            }
            b"VP8 " if frame.is_none() => {
                if data.get(3..6) == Some(&[0x9d, 0x01, 0x2a][..])
                    && let (Some(w), Some(h)) = (le16(data, 6), le16(data, 8))
                {
                    frame = Some((u32::from(w & 0x3fff), u32::from(h & 0x3fff)));
                }
            }
            b"EXIF" => {
                // Some writers keep JPEG's `Exif\0\0` header in the chunk.
                exif_texts(data.strip_prefix(b"Exif\0\0").unwrap_or(data), &mut texts);
            }
            _ => {}
        }
        at = (at + 8).saturating_add(len).saturating_add(len & 1);
    }
    let Some((width, height)) = canvas.or(frame) else {
        return Err(ContainerError::Damaged(
            W,
            "it has no VP8, VP8L or VP8X chunk giving its size".to_owned(),
        ));
    };
    Ok(Container {
        format: ImageFormat::Webp,
        width,
        height,
        texts,
    })
}

/// EXIF tags read.
const TAG_IMAGE_DESCRIPTION: u16 = 0x010e;
const TAG_EXIF_IFD: u16 = 0x8769;
const TAG_USER_COMMENT: u16 = 0x9286;
const TAG_XP_COMMENT: u16 = 0x9c9c;

/// At most this many entries of an IFD are looked at (real ones have a few dozen).
const MAX_IFD_ENTRIES: usize = 1024;

/// A TIFF structure (EXIF) in the byte order its header gives.
struct Tiff<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

struct IfdEntry {
    tag: u16,
    kind: u16,
    count: u32,
    /// Where the entry's 4-byte value/offset field lies.
    field: usize,
}

impl<'a> Tiff<'a> {
    fn new(bytes: &'a [u8]) -> Option<Tiff<'a>> {
        let big_endian = match bytes.get(0..2)? {
            b"MM" => true,
            b"II" => false,
            _ => return None,
        };
        let tiff = Tiff { bytes, big_endian };
        (tiff.u16_at(2)? == 42).then_some(tiff)
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn ifd(&self, offset: u32) -> Vec<IfdEntry> {
        let offset = offset as usize;
        let Some(count) = self.u16_at(offset) else {
            return Vec::new();
        };
        (0..usize::from(count).min(MAX_IFD_ENTRIES))
            .map_while(|i| {
                let at = offset + 2 + i * 12;
                Some(IfdEntry {
                    tag: self.u16_at(at)?,
                    kind: self.u16_at(at + 2)?,
                    count: self.u32_at(at + 4)?,
                    field: at + 8,
                })
            })
            .collect()
    }

    /// An entry's value bytes (in place when they fit in 4 bytes, else at its offset).
    fn value(&self, e: &IfdEntry) -> Option<&'a [u8]> {
        let unit: usize = match e.kind {
            1 | 2 | 6 | 7 => 1,
            3 | 8 => 2,
            4 | 9 | 11 => 4,
            5 | 10 | 12 => 8,
            _ => return None,
        };
        let len = (e.count as usize).checked_mul(unit)?;
        if len <= 4 {
            self.bytes.get(e.field..e.field + len)
        } else {
            let at = self.u32_at(e.field)? as usize;
            self.bytes.get(at..at.checked_add(len)?)
        }
    }
}

/// The texts of a TIFF structure (what follows `Exif\0\0`): IFD0's `ImageDescription` and
/// `XPComment`, the Exif IFD's `UserComment`.
pub(crate) fn exif_texts(tiff: &[u8], out: &mut Vec<(String, String)>) {
    let Some(t) = Tiff::new(tiff) else { return };
    let Some(ifd0) = t.u32_at(4) else { return };
    let mut push = |key: &str, text: Option<String>| {
        if let Some(text) = text.filter(|s| !s.trim().is_empty()) {
            out.push((key.to_owned(), text));
        }
    };
    let entries = t.ifd(ifd0);
    for e in &entries {
        match e.tag {
            TAG_EXIF_IFD => {
                let Some(offset) = t.u32_at(e.field) else {
                    continue;
                };
                if offset as usize == ifd0 as usize {
                    continue;
                }
                for x in t.ifd(offset) {
                    if x.tag == TAG_USER_COMMENT {
                        push(
                            "UserComment",
                            t.value(&x).map(|v| user_comment(v, t.big_endian)),
                        );
                    }
                }
            }
            TAG_IMAGE_DESCRIPTION => push(
                "ImageDescription",
                t.value(e)
                    .map(|v| String::from_utf8_lossy(v).trim_end_matches('\0').to_owned()),
            ),
            TAG_XP_COMMENT => push("XPComment", t.value(e).map(|v| utf16(v, false))),
            _ => {}
        }
    }
}

/// An EXIF `UserComment`: an 8-byte character code, then the text. `UNICODE\0` is UTF-16 (a
/// byte order mark decides its byte order, else which bytes are zero, else the TIFF's: piexif,
/// which A1111 uses, writes UTF-16BE in a big-endian TIFF; some tools write little-endian
/// text whatever the TIFF's order), `ASCII\0\0\0` and an undefined (all zero) code are read
/// as UTF-8; anything else is read whole as UTF-8. Trailing NULs are dropped.
pub(crate) fn user_comment(data: &[u8], big_endian: bool) -> String {
    let text = match data.split_at_checked(8) {
        Some((b"UNICODE\0", body)) => utf16(body, big_endian),
        Some((b"ASCII\0\0\0" | b"\0\0\0\0\0\0\0\0" | b"JIS\0\0\0\0\0", body)) => {
            String::from_utf8_lossy(body).into_owned()
        }
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    text.trim_end_matches('\0').to_owned()
}

/// UTF-16 text of unknown byte order: a byte order mark, else the side the zero bytes are on
/// (the high byte of ASCII text is zero), else `big_endian`.
fn utf16(body: &[u8], big_endian: bool) -> String {
    let (body, big_endian) = match body {
        [0xfe, 0xff, rest @ ..] => (rest, true),
        [0xff, 0xfe, rest @ ..] => (rest, false),
        _ => {
            let sample = &body[..body.len().min(4096)];
            let zeros_even = sample.iter().step_by(2).filter(|b| **b == 0).count();
            let zeros_odd = sample
                .iter()
                .skip(1)
                .step_by(2)
                .filter(|b| **b == 0)
                .count();
            let be = match zeros_even.cmp(&zeros_odd) {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Less => false,
                std::cmp::Ordering::Equal => big_endian,
            };
            (body, be)
        }
    };
    let units: Vec<u16> = body
        .chunks_exact(2)
        .map(|c| {
            if big_endian {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_le_bytes([c[0], c[1]])
            }
        })
        .collect();
    String::from_utf16_lossy(&units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_comments_decode_in_either_byte_order() {
        let text = "a cat 猫\nSteps: 20";
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        for (body, tiff_be) in [(&be, true), (&be, false), (&le, true), (&le, false)] {
            let mut data = b"UNICODE\0".to_vec();
            data.extend_from_slice(body);
            assert_eq!(user_comment(&data, tiff_be), text);
        }
        assert_eq!(user_comment(b"ASCII\0\0\0a dog\0", true), "a dog");
        assert_eq!(user_comment(b"short", true), "short");
        assert_eq!(user_comment(b"", true), "");
    }

    #[test]
    fn a_lossy_webp_gives_its_size_from_the_frame_header() {
        let mut vp8 = vec![0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a];
        vp8.extend_from_slice(&(832u16 | 0x4000).to_le_bytes()); // scale bits set
        vp8.extend_from_slice(&1216u16.to_le_bytes());
        vp8.extend_from_slice(&[0; 6]);
        let mut body = b"WEBPVP8 ".to_vec();
        body.extend_from_slice(&(vp8.len() as u32).to_le_bytes());
        body.extend_from_slice(&vp8);
        let mut webp = b"RIFF".to_vec();
        webp.extend_from_slice(&(body.len() as u32).to_le_bytes());
        webp.extend_from_slice(&body);
        let c = read_container(&webp).unwrap();
        assert_eq!(
            (c.format, c.width, c.height),
            (ImageFormat::Webp, 832, 1216)
        );
        // Cut: the chunk runs past the end.
        assert!(read_container(&webp[..webp.len() - 4]).is_err());
    }

    #[test]
    fn hostile_bytes_are_errors_or_nothing_never_panics() {
        for bytes in [
            &b""[..],
            b"\xff\xd8\xff",
            b"\xff\xd8\xff\xe1\xff\xffExif",
            b"\xff\xd8\xff\xe1\x00\x01",
            b"RIFF\xff\xff\xff\xffWEBP",
            b"RIFF\x10\x00\x00\x00WEBPVP8X\xff\xff\xff\xff",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00",
        ] {
            assert!(read_container(bytes).is_err(), "{bytes:?}");
        }
        // A TIFF whose offsets point anywhere.
        let mut out = Vec::new();
        exif_texts(b"MM\x00\x2a\xff\xff\xff\xff", &mut out);
        exif_texts(b"II\x2a\x00\x08\x00\x00\x00\xff\xff", &mut out);
        exif_texts(
            b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x87\x69\x00\x04\x00\x00\x00\x01\x00\x00\x00\x08",
            &mut out,
        );
        assert!(out.is_empty());
    }
}
