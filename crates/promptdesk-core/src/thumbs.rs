//! The thumbnail cache: small JPEGs of output images in `thumbs/` in the data folder, keyed by
//! the image's SHA-256 (the one its job's record holds), so a moved or renamed image keeps its
//! thumbnail and two copies of one image share it.
//!
//! * [`thumbnail_path`]: where an image's thumbnail lives, `thumbs/ab/<sha256>.jpg` (`ab` = the
//!   hash's first two hex digits, so no folder holds more than a few hundred files per 100,000
//!   images).
//! * [`make_thumbnail`]: image bytes (PNG, JPEG or WebP) to a JPEG (quality 85) at most
//!   `max_side` pixels on its long side, aspect kept, never enlarged. Decoding is bounded
//!   (at most [`MAX_SOURCE_SIDE`] pixels a side and [`MAX_DECODED_BYTES`] decoded), a JPEG's
//!   or WebP's EXIF orientation is applied, transparency is flattened onto mid-grey, and a
//!   damaged or foreign file is an error, never a panic.
//! * [`ensure_thumbnail`]: the cached thumbnail, made from the source file (and written
//!   atomically) only when it is not there yet; a hit costs one `stat` and never reads the
//!   source.
//! * [`ThumbnailPool`]: a few worker threads making thumbnails off the UI thread, the most
//!   recently requested first (what is on screen now), each image once however often it is
//!   asked for, requests no longer wanted cancelled, results on a channel.
//!
//! The cache is never cleaned by promptdesk; deleting the `thumbs` folder is always safe (the
//! thumbnails are made again on demand).

use crate::fsutil;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::io::{self, Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

/// The thumbnail folder's name inside the data folder.
pub const THUMBS_DIR_NAME: &str = "thumbs";
/// The long side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 256;
/// JPEG quality of the thumbnails.
pub const THUMBNAIL_QUALITY: u8 = 85;
/// Images wider or taller than this are not decoded.
pub const MAX_SOURCE_SIDE: u32 = 16_384;
/// The most memory a decoded source image may take.
pub const MAX_DECODED_BYTES: u64 = 512 << 20;
/// Source files larger than this are not read.
pub const MAX_SOURCE_FILE_BYTES: u64 = 256 << 20;

/// Why a thumbnail could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ThumbError {
    /// The key is not a SHA-256 in hex (64 hex digits).
    #[error(
        "{sha256:?} is not a SHA-256 (64 hex digits); thumbnails are keyed by the image's hash"
    )]
    BadKey { sha256: String },
    /// The image file is not there.
    #[error("{path}: the image file is missing", path = .path.display())]
    SourceMissing { path: PathBuf },
    /// The image file could not be read.
    #[error("{path}: cannot read the image file: {source}", path = .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The image file is larger than [`MAX_SOURCE_FILE_BYTES`].
    #[error("{path}: the image file is {size} bytes, too large for a thumbnail", path = .path.display())]
    TooLarge { path: PathBuf, size: u64 },
    /// The bytes are not an image this build reads, or a damaged one.
    #[error("{}cannot decode the image: {reason}", at(.path))]
    Decode {
        /// The file, when the bytes came from one.
        path: Option<PathBuf>,
        reason: String,
    },
    /// Encoding the JPEG failed.
    #[error("cannot encode the thumbnail: {reason}")]
    Encode { reason: String },
    /// The thumbnail could not be written into the cache.
    #[error("{path}: cannot write the thumbnail: {source}", path = .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn at(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map_or_else(String::new, |p| format!("{}: ", p.display()))
}

impl ThumbError {
    /// The same error, naming the file its bytes came from.
    fn at_path(self, path: &Path) -> ThumbError {
        match self {
            ThumbError::Decode { path: None, reason } => ThumbError::Decode {
                path: Some(path.to_path_buf()),
                reason,
            },
            other => other,
        }
    }
}

/// True when `text` is a SHA-256 in hex (64 digits, either case).
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The thumbnail folder of a data folder.
pub fn thumbs_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(THUMBS_DIR_NAME)
}

/// Where the thumbnail of the image with this SHA-256 lives: `thumbs/ab/<sha256>.jpg` in the
/// data folder (the hash lower-cased). A key that is not a SHA-256 (a damaged record) gets a
/// name derived from its own hash instead, so no key can name a path outside `thumbs/`
/// ([`ensure_thumbnail`] refuses such keys).
pub fn thumbnail_path(data_dir: &Path, sha256: &str) -> PathBuf {
    let key = if is_sha256(sha256) {
        sha256.to_ascii_lowercase()
    } else {
        crate::outputs::sha256_hex(sha256.as_bytes())
    };
    thumbs_dir(data_dir)
        .join(&key[..2])
        .join(format!("{key}.jpg"))
}

/// The cached thumbnail of the image with this SHA-256 when there is one (one `stat`; makes
/// nothing): for a view that shows what is cached at once and asks a [`ThumbnailPool`] for
/// the rest.
pub fn cached_thumbnail(data_dir: &Path, sha256: &str) -> Option<PathBuf> {
    if !is_sha256(sha256) {
        return None;
    }
    let path = thumbnail_path(data_dir, sha256);
    is_cached(&path).then_some(path)
}

fn is_cached(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0)
}

/// A JPEG (quality [`THUMBNAIL_QUALITY`]) of the image in `image_bytes` (PNG, JPEG or WebP),
/// scaled down to at most `max_side` pixels on its long side (aspect kept; a smaller image
/// keeps its size). See the [module docs](self) for the limits.
pub fn make_thumbnail(image_bytes: &[u8], max_side: u32) -> Result<Vec<u8>, ThumbError> {
    let image = decode(image_bytes)?;
    let small = shrink(&image, max_side.max(1));
    drop(image);
    encode_jpeg(&small)
}

/// Reads and decodes an image file (PNG, JPEG or WebP) as a thumbnail's source is: within
/// the same limits ([`MAX_SOURCE_FILE_BYTES`], [`MAX_SOURCE_SIDE`], [`MAX_DECODED_BYTES`]),
/// the EXIF orientation applied, every error naming the file. The app's image viewer shows
/// images this way.
pub fn decode_image_file(path: &Path) -> Result<DynamicImage, ThumbError> {
    let bytes = read_source(path)?;
    decode(&bytes).map_err(|e| e.at_path(path))
}

/// Decodes PNG, JPEG or WebP bytes within the limits, orientation applied.
fn decode(bytes: &[u8]) -> Result<DynamicImage, ThumbError> {
    let bad = |reason: String| ThumbError::Decode { path: None, reason };
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(e.to_string()))?;
    if reader.format().is_none() {
        return Err(bad(format!(
            "not a PNG, JPEG or WebP image (it starts with {})",
            crate::images::container::head_hex(bytes)
        )));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SOURCE_SIDE);
    limits.max_image_height = Some(MAX_SOURCE_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| bad(e.to_string()))?;
    if decoder.total_bytes() > MAX_DECODED_BYTES {
        let (w, h) = decoder.dimensions();
        return Err(bad(format!(
            "{w}x{h} is too large to decode for a thumbnail"
        )));
    }
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| bad(e.to_string()))?;
    if let Some(o) = orientation {
        image.apply_orientation(o);
    }
    Ok(image)
}

/// The image scaled to fit `max_side` (integer area averaging: each source pixel counts
/// once), as 8-bit RGB with any transparency flattened onto mid-grey.
fn shrink(image: &DynamicImage, max_side: u32) -> image::RgbImage {
    let (w, h) = (image.width(), image.height());
    let fits = w <= max_side && h <= max_side;
    let small = if fits {
        image.clone()
    } else {
        image.thumbnail(max_side, max_side)
    };
    if !small.color().has_alpha() {
        return small.into_rgb8();
    }
    let rgba = small.into_rgba8();
    let mut out = image::RgbImage::new(rgba.width(), rgba.height());
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(src[3]);
        for c in 0..3 {
            let v = u32::from(src[c]) * a + 128 * (255 - a);
            dst[c] = ((v + 127) / 255) as u8;
        }
    }
    out
}

fn encode_jpeg(image: &image::RgbImage) -> Result<Vec<u8>, ThumbError> {
    let mut out = Vec::with_capacity(32 << 10);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, THUMBNAIL_QUALITY)
        .encode_image(image)
        .map_err(|e| ThumbError::Encode {
            reason: e.to_string(),
        })?;
    Ok(out)
}

/// The cached thumbnail of the image with this SHA-256, made from `source` (read whole,
/// decoded, scaled to [`THUMBNAIL_SIDE`], written atomically through
/// [`fsutil::write_atomically`]) only when the cache does not have it yet. A hit does not
/// touch `source`: the cache trusts the hash (it names the file's content as saved).
pub fn ensure_thumbnail(
    data_dir: &Path,
    sha256: &str,
    source: &Path,
) -> Result<PathBuf, ThumbError> {
    if !is_sha256(sha256) {
        return Err(ThumbError::BadKey {
            sha256: sha256.to_owned(),
        });
    }
    let target = thumbnail_path(data_dir, sha256);
    if is_cached(&target) {
        return Ok(target);
    }
    let bytes = read_source(source)?;
    let jpeg = make_thumbnail(&bytes, THUMBNAIL_SIDE).map_err(|e| e.at_path(source))?;
    drop(bytes);
    let write_err = |e: io::Error| ThumbError::Write {
        path: target.clone(),
        source: e,
    };
    fsutil::create_private_dir_all(fsutil::parent_dir(&target)).map_err(write_err)?;
    fsutil::write_atomically(&target, |f| f.write_all(&jpeg)).map_err(write_err)?;
    Ok(target)
}

fn read_source(source: &Path) -> Result<Vec<u8>, ThumbError> {
    let read_err = |e: io::Error| {
        if e.kind() == io::ErrorKind::NotFound {
            ThumbError::SourceMissing {
                path: source.to_path_buf(),
            }
        } else {
            ThumbError::Read {
                path: source.to_path_buf(),
                source: e,
            }
        }
    };
    let file = std::fs::File::open(source).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(ThumbError::Read {
            path: source.to_path_buf(),
            source: io::Error::other("not a regular file"),
        });
    }
    if meta.len() > MAX_SOURCE_FILE_BYTES {
        return Err(ThumbError::TooLarge {
            path: source.to_path_buf(),
            size: meta.len(),
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_SOURCE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    Ok(bytes)
}

// ----- the worker pool -----

/// One finished request of a [`ThumbnailPool`].
#[derive(Debug)]
pub struct ThumbnailDone {
    /// The image's SHA-256, as requested.
    pub sha256: String,
    /// The source file, as requested.
    pub source: PathBuf,
    /// The thumbnail's path in the cache, or why there is none.
    pub result: Result<PathBuf, ThumbError>,
}

/// Worker threads making thumbnails through [`ensure_thumbnail`], off the UI thread.
///
/// * **Priority**: the most recently requested image goes first, so what is on screen now is
///   made before what was on screen a moment ago. [`ThumbnailPool::request_many`] puts a whole
///   batch ahead of everything older, in the batch's own order.
/// * **Dedup**: an image (by SHA-256) is queued once; asking again moves it to the front; one
///   already being made is not queued again (its result is on its way).
/// * **Cancel**: [`ThumbnailPool::cancel`], [`ThumbnailPool::retain`] (keep only what is
///   still wanted, say what is near the screen) and [`ThumbnailPool::clear`] drop queued
///   requests; one being made finishes.
/// * **Results** arrive on a channel ([`ThumbnailPool::try_recv`]); a callback set with
///   [`ThumbnailPool::set_notify`] runs after each (the app asks for a repaint there).
///
/// Dropping the pool drops what is queued and waits for the images being made (each takes a
/// few tens of milliseconds).
pub struct ThumbnailPool {
    shared: Arc<Shared>,
    results: Mutex<mpsc::Receiver<ThumbnailDone>>,
    workers: Vec<JoinHandle<()>>,
}

type Notify = Arc<dyn Fn() + Send + Sync>;

struct Shared {
    data_dir: PathBuf,
    state: Mutex<PoolState>,
    wake: Condvar,
    notify: Mutex<Option<Notify>>,
}

#[derive(Default)]
struct PoolState {
    /// (priority, sha256): higher first. Entries whose priority no longer matches `queued`
    /// are stale (re-requested or cancelled) and skipped.
    heap: BinaryHeap<(u64, String)>,
    /// The live request per image: its priority and source.
    queued: HashMap<String, (u64, PathBuf)>,
    /// Images being made now.
    running: HashSet<String>,
    next_priority: u64,
    paused: bool,
    shutdown: bool,
}

impl PoolState {
    /// Queues (or moves to the front) one request with this priority.
    fn push(&mut self, sha256: &str, source: &Path, priority: u64) -> bool {
        if self.running.contains(sha256) {
            return false;
        }
        self.queued
            .insert(sha256.to_owned(), (priority, source.to_path_buf()));
        self.heap.push((priority, sha256.to_owned()));
        true
    }

    /// The next live request, taken out of the queue.
    fn pop(&mut self) -> Option<(String, PathBuf)> {
        while let Some((priority, sha)) = self.heap.pop() {
            if self.queued.get(&sha).is_some_and(|(p, _)| *p == priority) {
                let (_, source) = self.queued.remove(&sha).expect("just checked");
                return Some((sha, source));
            }
        }
        None
    }

    /// Drops stale heap entries once they outnumber the live ones.
    fn tidy(&mut self) {
        if self.heap.len() > 2 * self.queued.len() + 64 {
            self.rebuild();
        }
    }

    fn rebuild(&mut self) {
        self.heap = self
            .queued
            .iter()
            .map(|(sha, (p, _))| (*p, sha.clone()))
            .collect();
    }
}

impl ThumbnailPool {
    /// A pool of `threads` workers (at least one) keeping thumbnails in `data_dir`'s cache.
    pub fn new(data_dir: impl Into<PathBuf>, threads: usize) -> ThumbnailPool {
        let shared = Arc::new(Shared {
            data_dir: data_dir.into(),
            state: Mutex::new(PoolState::default()),
            wake: Condvar::new(),
            notify: Mutex::new(None),
        });
        let (tx, rx) = mpsc::channel();
        let workers = (0..threads.max(1))
            .filter_map(|i| {
                let shared = Arc::clone(&shared);
                let tx = tx.clone();
                std::thread::Builder::new()
                    .name(format!("promptdesk-thumbs-{i}"))
                    .spawn(move || worker(&shared, &tx))
                    .ok()
            })
            .collect();
        ThumbnailPool {
            shared,
            results: Mutex::new(rx),
            workers,
        }
    }

    /// The number of workers that leaves one core to the UI: the cores less one, at least one.
    pub fn default_threads() -> usize {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .max(1)
    }

    /// The number of worker threads running.
    pub fn threads(&self) -> usize {
        self.workers.len()
    }

    /// Asks for the thumbnail of the image with this SHA-256 (made from `source` if the cache
    /// lacks it), ahead of every earlier request. Returns false when that image is being made
    /// right now (nothing is queued; its result is coming).
    pub fn request(&self, sha256: &str, source: &Path) -> bool {
        let mut state = self.lock();
        state.next_priority += 1;
        let priority = state.next_priority;
        let queued = state.push(sha256, source, priority);
        state.tidy();
        drop(state);
        if queued {
            self.shared.wake.notify_one();
        }
        queued
    }

    /// Asks for many thumbnails at once (the images on screen, in the order they should
    /// come): all ahead of every earlier request, the first one first. Returns how many were
    /// queued (those being made now are not).
    pub fn request_many<'a, I, P>(&self, requests: I) -> usize
    where
        I: IntoIterator<Item = (&'a str, P)>,
        P: AsRef<Path>,
    {
        let requests: Vec<(&str, P)> = requests.into_iter().collect();
        let mut state = self.lock();
        let base = state.next_priority;
        let n = requests.len() as u64;
        state.next_priority += n;
        let mut queued = 0;
        // The first of the batch gets the highest priority.
        for (i, (sha, source)) in requests.iter().enumerate() {
            if state.push(sha, source.as_ref(), base + n - i as u64) {
                queued += 1;
            }
        }
        state.tidy();
        drop(state);
        if queued > 0 {
            self.shared.wake.notify_all();
        }
        queued
    }

    /// Drops the queued request for this image; false when none was queued (one being made
    /// still finishes).
    pub fn cancel(&self, sha256: &str) -> bool {
        let mut state = self.lock();
        let removed = state.queued.remove(sha256).is_some();
        state.tidy();
        removed
    }

    /// Keeps only the queued requests `keep` says are still wanted; returns how many were
    /// dropped.
    pub fn retain(&self, mut keep: impl FnMut(&str) -> bool) -> usize {
        let mut state = self.lock();
        let before = state.queued.len();
        state.queued.retain(|sha, _| keep(sha));
        let dropped = before - state.queued.len();
        if dropped > 0 {
            state.rebuild();
        }
        dropped
    }

    /// Drops every queued request.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.queued.clear();
        state.heap.clear();
    }

    /// Requests queued and not started.
    pub fn queued(&self) -> usize {
        self.lock().queued.len()
    }

    /// Images being made right now.
    pub fn in_progress(&self) -> usize {
        self.lock().running.len()
    }

    /// Stops starting new work (what is being made finishes); requests still queue.
    pub fn pause(&self) {
        self.lock().paused = true;
    }

    /// Starts work again after [`ThumbnailPool::pause`].
    pub fn resume(&self) {
        self.lock().paused = false;
        self.shared.wake.notify_all();
    }

    /// Runs `notify` after each result is sent (from a worker thread).
    pub fn set_notify(&self, notify: impl Fn() + Send + Sync + 'static) {
        *self.shared.notify.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(notify));
    }

    /// The next finished request, if one is waiting.
    pub fn try_recv(&self) -> Option<ThumbnailDone> {
        self.receiver().try_recv().ok()
    }

    /// The next finished request, waiting up to `timeout` for one.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<ThumbnailDone> {
        self.receiver().recv_timeout(timeout).ok()
    }

    fn receiver(&self) -> MutexGuard<'_, mpsc::Receiver<ThumbnailDone>> {
        self.results.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.shared.lock()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ThumbnailPool {
    fn drop(&mut self) {
        {
            let mut state = self.lock();
            state.shutdown = true;
            state.queued.clear();
            state.heap.clear();
        }
        self.shared.wake.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl std::fmt::Debug for ThumbnailPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("ThumbnailPool")
            .field("data_dir", &self.shared.data_dir)
            .field("threads", &self.workers.len())
            .field("queued", &state.queued.len())
            .field("in_progress", &state.running.len())
            .finish()
    }
}

fn worker(shared: &Shared, tx: &mpsc::Sender<ThumbnailDone>) {
    loop {
        let (sha256, source) = {
            let mut state = shared.lock();
            loop {
                if state.shutdown {
                    return;
                }
                if !state.paused
                    && let Some(next) = state.pop()
                {
                    state.running.insert(next.0.clone());
                    break next;
                }
                state = shared.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        };
        // A decoder panic on a hostile file must not take the worker (and every later
        // thumbnail) with it.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ensure_thumbnail(&shared.data_dir, &sha256, &source)
        }))
        .unwrap_or_else(|_| {
            Err(ThumbError::Decode {
                path: Some(source.clone()),
                reason: "the decoder failed on this file".to_owned(),
            })
        });
        shared.lock().running.remove(&sha256);
        let sent = tx.send(ThumbnailDone {
            sha256,
            source,
            result,
        });
        if sent.is_err() {
            return;
        }
        let notify = shared
            .notify
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(notify) = notify {
            notify();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnail_paths_are_sharded_lower_case_and_stay_inside_the_cache() {
        let data = Path::new("/data");
        let sha = "AB".to_owned() + &"c".repeat(62);
        assert_eq!(
            thumbnail_path(data, &sha),
            Path::new("/data/thumbs/ab").join(format!("ab{}.jpg", "c".repeat(62)))
        );
        for hostile in ["../../etc/passwd", "", "ab/../../x", "é"] {
            let p = thumbnail_path(data, hostile);
            assert!(p.starts_with("/data/thumbs"), "{}", p.display());
            assert_eq!(p.components().count(), 5, "{}", p.display());
        }
        assert!(is_sha256(&sha) && !is_sha256("abc") && !is_sha256(&"g".repeat(64)));
    }

    #[test]
    fn transparency_is_flattened_onto_grey() {
        let mut rgba = image::RgbaImage::new(2, 1);
        rgba.put_pixel(0, 0, image::Rgba([255, 0, 0, 255]));
        rgba.put_pixel(1, 0, image::Rgba([255, 255, 255, 0]));
        let out = shrink(&DynamicImage::ImageRgba8(rgba), 256);
        assert_eq!(out.get_pixel(0, 0).0, [255, 0, 0]);
        assert_eq!(out.get_pixel(1, 0).0, [128, 128, 128]);
    }

    #[test]
    fn the_pool_state_skips_stale_entries_and_orders_by_priority() {
        let mut s = PoolState::default();
        s.push("a", Path::new("a.png"), 1);
        s.push("b", Path::new("b.png"), 2);
        s.push("a", Path::new("a2.png"), 3);
        s.queued.remove("b");
        assert_eq!(s.pop(), Some(("a".into(), PathBuf::from("a2.png"))));
        assert_eq!(s.pop(), None);
        s.running.insert("c".into());
        assert!(!s.push("c", Path::new("c.png"), 4));
    }
}
