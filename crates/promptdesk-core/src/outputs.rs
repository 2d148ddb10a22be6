//! What a job produced: the result recorded with the job, and the images saved under
//! `outputs/YYYY-MM-DD/` in the data folder (PNG text chunks written without re-encoding).

use crate::fsutil;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The outputs folder's name inside the data folder.
pub const OUTPUTS_DIR_NAME: &str = "outputs";
/// The PNG text keyword A1111 reads generation parameters from.
pub const PARAMETERS_KEYWORD: &str = "parameters";
/// The PNG text keyword holding promptdesk's own link back to the job (JSON).
pub const PROMPTDESK_KEYWORD: &str = "promptdesk";

/// What running a job produced, as the record keeps it (`result` in `history --json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    /// The backend's configured name.
    pub backend: String,
    /// `a1111` or `comfyui`.
    #[serde(default)]
    pub backend_kind: String,
    /// The backend's URL (never with a password in it).
    #[serde(default)]
    pub backend_url: String,
    /// The checkpoint the backend reports it used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_hash: Option<String>,
    /// Every image saved, in the order the requests were sent.
    #[serde(default)]
    pub images: Vec<OutputImage>,
    /// Things the user should know that did not fail the job (a sampler the backend swapped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One saved image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputImage {
    /// Relative to the data folder, with `/` separators.
    pub path: String,
    /// The seed the backend actually used for this image.
    pub seed: i64,
    pub width: u32,
    pub height: u32,
    /// Hex SHA-256 of the file as saved.
    pub sha256: String,
    /// The pack key (empty for a manual prompt).
    #[serde(default)]
    pub key: String,
    /// The request's variant (1 when the prompt has no tokens).
    #[serde(default = "one")]
    pub variant: u32,
    /// The user's rating, 1 to 5 stars (none when unrated). Kept with the image's entry in
    /// the job's record, so it follows the image's sha256, not its path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub favorite: bool,
}

fn one() -> u32 {
    1
}

/// The outputs folder of a data folder.
pub fn outputs_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(OUTPUTS_DIR_NAME)
}

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Why image bytes could not be read as a PNG.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PngError {
    #[error("not a PNG image (it starts with {0})")]
    NotPng(String),
    #[error("the PNG image is cut short ({0})")]
    Truncated(&'static str),
    #[error("the PNG image is damaged: {0}")]
    Damaged(String),
}

/// One chunk of a PNG file: its type and where its data lies in the file.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    kind: [u8; 4],
    /// Start of the whole chunk (length field).
    start: usize,
    data: (usize, usize),
    /// Just after the CRC.
    end: usize,
}

fn chunks(png: &[u8]) -> Result<Vec<Chunk>, PngError> {
    if png.len() < 8 || &png[..8] != PNG_SIGNATURE {
        let head: String = png
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ");
        return Err(PngError::NotPng(if head.is_empty() {
            "nothing".into()
        } else {
            head
        }));
    }
    let mut out = Vec::new();
    let mut at = 8;
    loop {
        if at + 8 > png.len() {
            return Err(PngError::Truncated("no IEND chunk"));
        }
        let len = u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes")) as usize;
        let kind: [u8; 4] = png[at + 4..at + 8].try_into().expect("4 bytes");
        let data = (at + 8, at + 8 + len);
        let end = data.1 + 4;
        if end > png.len() {
            return Err(PngError::Truncated("a chunk runs past the end"));
        }
        out.push(Chunk {
            kind,
            start: at,
            data,
            end,
        });
        at = end;
        if &kind == b"IEND" {
            break;
        }
    }
    match out.first() {
        Some(c) if &c.kind == b"IHDR" && c.data.1 - c.data.0 >= 8 => Ok(out),
        _ => Err(PngError::Damaged("the first chunk is not IHDR".into())),
    }
}

/// Width and height from a PNG's header.
pub fn png_size(png: &[u8]) -> Result<(u32, u32), PngError> {
    let ihdr = chunks(png)?[0];
    let d = &png[ihdr.data.0..ihdr.data.1];
    Ok((
        u32::from_be_bytes(d[0..4].try_into().expect("4 bytes")),
        u32::from_be_bytes(d[4..8].try_into().expect("4 bytes")),
    ))
}

/// The text chunks of a PNG (`tEXt`, uncompressed `iTXt`, `zTXt` and compressed `iTXt`
/// are read; compressed ones only when they inflate), keyword and text, in file order.
pub fn png_text(png: &[u8]) -> Result<Vec<(String, String)>, PngError> {
    let mut out = Vec::new();
    let mut budget = MAX_INFLATED_TEXT;
    for c in chunks(png)? {
        let data = &png[c.data.0..c.data.1];
        if let Some(kv) = text_chunk(&c.kind, data, &mut budget) {
            out.push(kv);
        }
    }
    Ok(out)
}

/// True when the PNG has a text chunk with this keyword (nothing is inflated: a hostile file
/// with many compressed chunks costs no memory here).
pub fn png_has_text(png: &[u8], keyword: &str) -> Result<bool, PngError> {
    Ok(chunks(png)?.iter().any(|c| {
        matches!(&c.kind, b"tEXt" | b"iTXt" | b"zTXt") && {
            let data = &png[c.data.0..c.data.1];
            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            &data[..end] == keyword.as_bytes()
        }
    }))
}

/// At most this much text is inflated from one PNG's compressed text chunks, all of them
/// together (so that many small "zip bombs" in a hostile file cannot add up).
const MAX_INFLATED_TEXT: u64 = 64 << 20;

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

fn text_chunk(kind: &[u8; 4], data: &[u8], budget: &mut u64) -> Option<(String, String)> {
    let nul = data.iter().position(|&b| b == 0)?;
    let keyword = latin1(&data[..nul]);
    let rest = &data[nul + 1..];
    match kind {
        b"tEXt" => Some((keyword, latin1(rest))),
        b"zTXt" => {
            let body = rest.get(1..)?;
            Some((keyword, latin1(&inflate(body, budget)?)))
        }
        b"iTXt" => {
            let (&compressed, rest) = rest.split_first()?;
            let rest = rest.get(1..)?; // compression method
            let lang_end = rest.iter().position(|&b| b == 0)?;
            let rest = &rest[lang_end + 1..];
            let tkw_end = rest.iter().position(|&b| b == 0)?;
            let text = &rest[tkw_end + 1..];
            let text = if compressed == 1 {
                inflate(text, budget)?
            } else {
                text.to_vec()
            };
            Some((keyword, String::from_utf8_lossy(&text).into_owned()))
        }
        _ => None,
    }
}

/// Inflates at most `budget` bytes (what is left of it after).
fn inflate(data: &[u8], budget: &mut u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data)
        .take(*budget)
        .read_to_end(&mut out)
        .ok()?;
    *budget = budget.saturating_sub(out.len() as u64);
    Some(out)
}

/// Appends one PNG chunk (length, type, data, CRC) to `out`: what writing text chunks needs,
/// and what tests and benchmarks use to build PNGs by hand.
pub fn push_png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// `png` with the given text chunks set: any text chunk with one of the keywords is dropped
/// and the new ones go right after the header. Text that Latin-1 can hold is written as
/// `tEXt` (as PIL, and so A1111, writes it), anything else as UTF-8 `iTXt`. The image data
/// is copied as it is (no decoding, no re-encoding).
pub fn png_with_text(png: &[u8], texts: &[(&str, &str)]) -> Result<Vec<u8>, PngError> {
    let all = chunks(png)?;
    let mut out = Vec::with_capacity(
        png.len()
            + texts
                .iter()
                .map(|(k, t)| k.len() + t.len() + 32)
                .sum::<usize>(),
    );
    out.extend_from_slice(PNG_SIGNATURE);
    for (i, c) in all.iter().enumerate() {
        let is_text = matches!(&c.kind, b"tEXt" | b"iTXt" | b"zTXt");
        let replaced = is_text && {
            let data = &png[c.data.0..c.data.1];
            let kw_end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            let kw = &data[..kw_end];
            texts.iter().any(|(k, _)| k.as_bytes() == kw)
        };
        if !replaced {
            out.extend_from_slice(&png[c.start..c.end]);
        }
        if i == 0 {
            for (keyword, text) in texts {
                let mut data = Vec::with_capacity(keyword.len() + text.len() + 8);
                data.extend_from_slice(keyword.as_bytes());
                data.push(0);
                if text.chars().all(|ch| (ch as u32) < 256) {
                    data.extend(text.chars().map(|ch| ch as u32 as u8));
                    push_png_chunk(&mut out, b"tEXt", &data);
                } else {
                    data.extend_from_slice(&[0, 0, 0, 0]);
                    data.extend_from_slice(text.as_bytes());
                    push_png_chunk(&mut out, b"iTXt", &data);
                }
            }
        }
    }
    Ok(out)
}

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Makes a name part safe for any file system: letters, digits, `-` and `_` kept, anything
/// else `_`, at most 40 characters.
fn name_part(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if s.is_empty() { "x".into() } else { s }
}

/// What [`save_image`] needs to know about one image.
#[derive(Debug, Clone)]
pub struct ImageToSave<'a> {
    pub job_id: &'a str,
    pub key: &'a str,
    pub variant: u32,
    pub seed: i64,
    /// A1111 `parameters` text; `None` keeps what the image carries (A1111's own).
    pub parameters: Option<&'a str>,
    /// When the job ran (names the day folder, local time).
    pub when: DateTime<Utc>,
}

/// Saves one image; see [`save_images`].
pub fn save_image(
    data_dir: &Path,
    image: &ImageToSave<'_>,
    bytes: &[u8],
) -> io::Result<OutputImage> {
    let mut saved = save_images(data_dir, &[(image.clone(), bytes)])?;
    Ok(saved.remove(0))
}

/// Saves images under `outputs/YYYY-MM-DD/` in `data_dir` as
/// `<job id>_<key>_v<variant>_<seed>.png` (`-2`, `-3`, … when that name is taken), each with
/// the `parameters` text (when given) and a `promptdesk` chunk naming the job. Each file is
/// written whole under a temp name, synced and renamed into place (never a half image); the
/// folder is synced once at the end, so the names survive a power cut before the record that
/// points at them is written. Bytes that are not a PNG are saved as they are with their own
/// extension. Returns the record's entries, in order.
pub fn save_images(
    data_dir: &Path,
    images: &[(ImageToSave<'_>, &[u8])],
) -> io::Result<Vec<OutputImage>> {
    let mut out = Vec::with_capacity(images.len());
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (image, bytes) in images {
        let (saved, dir) = save_one(data_dir, image, bytes)?;
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
        out.push(saved);
    }
    for dir in dirs {
        fsutil::sync_dir(&dir)?;
    }
    Ok(out)
}

fn save_one(
    data_dir: &Path,
    image: &ImageToSave<'_>,
    bytes: &[u8],
) -> io::Result<(OutputImage, PathBuf)> {
    let day = image
        .when
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d")
        .to_string();
    let dir = outputs_dir(data_dir).join(&day);
    fsutil::create_private_dir_all(&dir)?;
    let link = serde_json::json!({
        "job_id": image.job_id,
        "key": image.key,
        "variant": image.variant,
        "seed": image.seed,
    })
    .to_string();
    let (data, ext, (width, height)) = match png_size(bytes) {
        Ok(size) => {
            let mut texts: Vec<(&str, &str)> = Vec::with_capacity(2);
            if let Some(p) = image.parameters {
                texts.push((PARAMETERS_KEYWORD, p));
            }
            texts.push((PROMPTDESK_KEYWORD, &link));
            let data = png_with_text(bytes, &texts).map_err(io::Error::other)?;
            (std::borrow::Cow::Owned(data), "png", size)
        }
        Err(PngError::NotPng(_)) => (
            std::borrow::Cow::Borrowed(bytes),
            sniff_extension(bytes),
            (0, 0),
        ),
        Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
    };
    let stem = format!(
        "{}_{}_v{}_{}",
        name_part(image.job_id),
        name_part(if image.key.is_empty() {
            "manual"
        } else {
            image.key
        }),
        image.variant,
        image.seed
    );
    let sha256 = sha256_hex(&data);
    let mut n = 1;
    let name = loop {
        let name = if n == 1 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-{n}.{ext}")
        };
        let path = dir.join(&name);
        if !path.exists() && write_new(&path, &data)? {
            break name;
        }
        n += 1;
    };
    Ok((
        OutputImage {
            path: format!("{OUTPUTS_DIR_NAME}/{day}/{name}"),
            seed: image.seed,
            width,
            height,
            sha256,
            key: image.key.to_owned(),
            variant: image.variant,
            rating: None,
            favorite: false,
        },
        dir,
    ))
}

/// Writes `data` under a temp name, syncs it and links it at `target` (false, and nothing
/// left behind, when `target` appeared meanwhile: an existing file is never replaced).
fn write_new(target: &Path, data: &[u8]) -> io::Result<bool> {
    let temp = fsutil::temp_path_for(target)?;
    let result = (|| {
        let mut f = fsutil::create_new_private(&temp)?;
        f.write_all(data)?;
        f.sync_data()?;
        match std::fs::hard_link(&temp, target) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            // No hard links on this file system: a rename (the name was free a moment ago).
            Err(_) => std::fs::rename(&temp, target).map(|()| true),
        }
    })();
    let _ = std::fs::remove_file(&temp);
    result
}

fn sniff_extension(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "jpg"
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "webp"
    } else {
        "bin"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2x1 RGB PNG made by hand (stored deflate block).
    pub(crate) fn tiny_png() -> Vec<u8> {
        let mut out = PNG_SIGNATURE.to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&2u32.to_be_bytes());
        ihdr.extend_from_slice(&1u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        push_png_chunk(&mut out, b"IHDR", &ihdr);
        let raw = [0u8, 255, 0, 0, 0, 0, 255];
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&raw).unwrap();
        push_png_chunk(&mut out, b"IDAT", &z.finish().unwrap());
        push_png_chunk(&mut out, b"IEND", &[]);
        out
    }

    #[test]
    fn text_chunks_are_added_replaced_and_read_back() {
        let png = tiny_png();
        assert_eq!(png_size(&png).unwrap(), (2, 1));
        let once = png_with_text(
            &png,
            &[("parameters", "a cat\nSteps: 20"), ("promptdesk", "{}")],
        )
        .unwrap();
        let again = png_with_text(&once, &[("parameters", "ein Kätzchen 猫\nSteps: 30")]).unwrap();
        let texts = png_text(&again).unwrap();
        assert_eq!(
            texts,
            vec![
                (
                    "parameters".to_owned(),
                    "ein Kätzchen 猫\nSteps: 30".to_owned()
                ),
                ("promptdesk".to_owned(), "{}".to_owned()),
            ]
        );
        // The image data is untouched and the file is still a valid PNG.
        assert_eq!(png_size(&again).unwrap(), (2, 1));
        assert!(png_has_text(&again, "parameters").unwrap());
        assert!(!png_has_text(&png, "parameters").unwrap());
        let idat = |b: &[u8]| {
            chunks(b)
                .unwrap()
                .into_iter()
                .find(|c| &c.kind == b"IDAT")
                .map(|c| b[c.data.0..c.data.1].to_vec())
        };
        assert_eq!(idat(&png), idat(&again));
    }

    #[test]
    fn damaged_and_foreign_bytes_are_errors_not_panics() {
        let png = tiny_png();
        assert!(matches!(png_size(b"GIF89a...."), Err(PngError::NotPng(_))));
        assert!(matches!(
            png_size(&png[..png.len() - 6]),
            Err(PngError::Truncated(_))
        ));
        assert!(matches!(
            png_with_text(&png[..20], &[]),
            Err(PngError::Truncated(_))
        ));
    }

    #[test]
    fn saving_names_the_job_key_variant_and_seed_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let img = ImageToSave {
            job_id: "job/1",
            key: "12",
            variant: 2,
            seed: 42,
            parameters: Some("a cat\nSteps: 20, Seed: 42"),
            when: Utc::now(),
        };
        let a = save_image(dir.path(), &img, &tiny_png()).unwrap();
        let b = save_image(dir.path(), &img, &tiny_png()).unwrap();
        assert!(a.path.starts_with("outputs/"), "{}", a.path);
        assert!(a.path.ends_with("/job_1_12_v2_42.png"), "{}", a.path);
        assert!(b.path.ends_with("/job_1_12_v2_42-2.png"), "{}", b.path);
        let saved = std::fs::read(dir.path().join(&a.path)).unwrap();
        assert_eq!(sha256_hex(&saved), a.sha256);
        assert_eq!((a.width, a.height), (2, 1));
        let texts = png_text(&saved).unwrap();
        assert_eq!(
            texts[0],
            ("parameters".into(), "a cat\nSteps: 20, Seed: 42".into())
        );
        let link: serde_json::Value = serde_json::from_str(&texts[1].1).unwrap();
        assert_eq!(link["job_id"], "job/1");
        assert_eq!(link["seed"], 42);
    }
}
