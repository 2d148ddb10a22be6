//! Thumbnail textures for the Gallery and the history table's thumbnail column.
//!
//! The pictures come from the thumbnail cache in the data folder (`thumbs/ab/<sha256>.jpg`,
//! about 256 px, see [`crate::thumbs`]); nothing here ever decodes a full-size image on the UI
//! thread, and no full-size image is ever uploaded:
//!
//! * two `thumb-decode` threads read a cached thumbnail and decode it (a 256 px JPEG: about a
//!   millisecond), checking on the way that the image's own file is still there;
//! * a thumbnail not in the cache yet is asked of a [`ThumbnailPool`] (its workers decode the
//!   full image, scale it and write the thumbnail, off the UI thread), re-ordered every frame
//!   so that the images on screen come first, in reading order, then the rows just off
//!   screen; then it is decoded as above once it is written;
//! * the UI uploads at most [`UPLOADS_PER_FRAME`] decoded thumbnails per frame as textures and
//!   keeps them in an LRU: what is on screen plus a margin, at least [`MIN_TEXTURES`].
//!
//! Every frame the view says which images it draws ([`ThumbTextures::get`]) and which it
//! would like next ([`ThumbTextures::end_frame`]'s prefetch); the work queues are then
//! replaced by exactly those, on-screen first, so scrolling quickly past ten thousand images
//! never leaves ten thousand requests behind it.

use super::tasks::spawn_named;
use crate::thumbs::{ThumbnailPool, thumbnail_path};
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};

/// The fewest textures kept (the LRU grows with what one screen shows).
pub const MIN_TEXTURES: usize = 160;
/// Decoded thumbnails uploaded per frame at most (the rest wait for the next frame).
pub const UPLOADS_PER_FRAME: usize = 48;
/// Threads decoding cached thumbnails.
const DECODE_THREADS: usize = 2;

/// One image's texture, or why there is none yet.
pub enum ThumbState {
    /// Being decoded or made.
    Loading,
    Ready {
        texture: egui::TextureHandle,
        /// The image's own file was not found (the thumbnail is older than its move or
        /// deletion): drawn with a warning and its path.
        source_missing: bool,
    },
    /// No thumbnail can be made (a missing or damaged file): the reason, naming the file.
    Failed(String),
}

struct Entry {
    state: ThumbState,
    /// The frame it was last drawn in.
    used: u64,
}

/// A thumbnail that could not be made is tried again after this many frames in which it is
/// drawn or not (a file put back, a folder mounted again).
const RETRY_FAILED_FRAMES: u64 = 600;
/// With nothing drawn for this many frames (no Gallery, no thumbnail column), every texture
/// is freed.
const IDLE_FRAMES: u64 = 300;

/// What a decode thread is asked for.
#[derive(Clone)]
struct Want {
    sha256: String,
    source: PathBuf,
}

/// What a decode thread answers.
enum Decoded {
    Image {
        sha256: String,
        image: egui::ColorImage,
        source_missing: bool,
    },
    /// Not in the cache: asked of the pool.
    Making {
        sha256: String,
    },
    Failed {
        sha256: String,
        why: String,
    },
}

#[derive(Default)]
struct Queue {
    wants: VecDeque<Want>,
    shutdown: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

struct Workers {
    shared: Arc<Shared>,
    pool: Arc<ThumbnailPool>,
    rx: Receiver<Decoded>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        if let Ok(mut q) = self.shared.queue.lock() {
            q.shutdown = true;
            q.wants.clear();
        }
        self.shared.wake.notify_all();
    }
}

/// Counters for tests and benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ThumbStats {
    /// Textures uploaded.
    pub uploads: u64,
}

/// The thumbnail textures and their workers (started on first use).
#[derive(Default)]
pub struct ThumbTextures {
    data_dir: Option<PathBuf>,
    entries: HashMap<String, Entry>,
    frame: u64,
    /// Drawn this frame and not ready, in drawing order.
    wanted: Vec<Want>,
    /// Wanted soon (just off screen), in order.
    prefetch: Vec<Want>,
    /// Not in the cache: made by the pool, decoded once it has written them.
    making: HashSet<String>,
    /// Drawn this frame and to be made by the pool, in drawing order.
    to_make: Vec<Want>,
    /// Wanted soon and to be made by the pool.
    prefetch_make: Vec<Want>,
    workers: Option<Workers>,
    /// Decoded, waiting for their upload.
    pending: VecDeque<Decoded>,
    /// How many were drawn last frame (the LRU keeps three screens).
    drawn_last: usize,
    drawn: usize,
    /// Cells drawn this frame (so far) whose picture was not ready.
    drawn_loading: usize,
    /// The last frame anything was drawn in.
    last_drawn_frame: u64,
    /// When each failed thumbnail failed (frame), to try it again later.
    failed_at: HashMap<String, u64>,
    pub stats: ThumbStats,
}

impl std::fmt::Debug for ThumbTextures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThumbTextures")
            .field("textures", &self.textures())
            .field("stats", &self.stats)
            .finish()
    }
}

impl ThumbTextures {
    /// Starts a frame: takes what the workers finished and uploads some of it.
    pub fn begin_frame(&mut self, ctx: &egui::Context, data_dir: &Path) {
        if self.data_dir.as_deref() != Some(data_dir) {
            *self = ThumbTextures {
                data_dir: Some(data_dir.to_path_buf()),
                ..ThumbTextures::default()
            };
        }
        self.frame += 1;
        self.drawn_last = self.drawn;
        self.drawn = 0;
        self.drawn_loading = 0;
        self.wanted.clear();
        self.to_make.clear();
        self.prefetch_make.clear();
        self.prefetch.clear();
        let Some(workers) = &self.workers else { return };
        // "Being made" first: the pool's answer for it may be in this very poll.
        while let Ok(done) = workers.rx.try_recv() {
            match done {
                Decoded::Making { sha256 } => {
                    // A prefetched image gets its entry now (so it is not decoded again).
                    let frame = self.frame;
                    self.entries.entry(sha256.clone()).or_insert(Entry {
                        state: ThumbState::Loading,
                        used: frame,
                    });
                    self.making.insert(sha256);
                }
                done => self.pending.push_back(done),
            }
        }
        while let Some(done) = workers.pool.try_recv() {
            self.making.remove(&done.sha256);
            match done.result {
                // Written to the cache: decode it like any cached one.
                Ok(_) => {
                    if let Some(entry) = self.entries.get_mut(&done.sha256) {
                        // Asked again at the end of this frame if still wanted.
                        if matches!(entry.state, ThumbState::Loading) {
                            self.entries.remove(&done.sha256);
                        }
                    }
                }
                Err(e) => {
                    self.failed_at.insert(done.sha256.clone(), self.frame);
                    self.entries.insert(
                        done.sha256,
                        Entry {
                            state: ThumbState::Failed(format!("{}: {e}", done.source.display())),
                            used: self.frame,
                        },
                    );
                }
            }
        }
        let mut uploads = 0;
        while uploads < UPLOADS_PER_FRAME {
            let Some(done) = self.pending.pop_front() else {
                break;
            };
            match done {
                Decoded::Image {
                    sha256,
                    image,
                    source_missing,
                } => {
                    // Scrolled away meanwhile (its entry forgotten): not uploaded, so the
                    // frame's uploads go to what is on screen.
                    if !self.entries.contains_key(&sha256) {
                        continue;
                    }
                    uploads += 1;
                    self.stats.uploads += 1;
                    let texture = ctx.load_texture(
                        format!("thumb:{sha256}"),
                        image,
                        egui::TextureOptions::LINEAR,
                    );
                    self.entries.insert(
                        sha256,
                        Entry {
                            state: ThumbState::Ready {
                                texture,
                                source_missing,
                            },
                            used: self.frame,
                        },
                    );
                }
                Decoded::Making { .. } => {}
                Decoded::Failed { sha256, why } => {
                    self.failed_at.insert(sha256.clone(), self.frame);
                    self.entries.insert(
                        sha256,
                        Entry {
                            state: ThumbState::Failed(why),
                            used: self.frame,
                        },
                    );
                }
            }
        }
        if !self.pending.is_empty() {
            ctx.request_repaint();
        }
    }

    /// The texture of the image `sha256` (its file at `source`), asked for when there is none:
    /// call it for every image drawn this frame.
    pub fn get(&mut self, sha256: &str, source: &Path) -> &ThumbState {
        self.drawn += 1;
        let frame = self.frame;
        self.last_drawn_frame = frame;
        if let Some(&at) = self.failed_at.get(sha256)
            && frame.saturating_sub(at) >= RETRY_FAILED_FRAMES
        {
            self.failed_at.remove(sha256);
            self.entries.remove(sha256);
        }
        if !self.entries.contains_key(sha256) {
            self.entries.insert(
                sha256.to_owned(),
                Entry {
                    state: ThumbState::Loading,
                    used: frame,
                },
            );
        }
        let entry = self.entries.get_mut(sha256).expect("inserted above");
        entry.used = frame;
        if matches!(entry.state, ThumbState::Loading) {
            self.drawn_loading += 1;
            let want = Want {
                sha256: sha256.to_owned(),
                source: source.to_path_buf(),
            };
            if self.making.contains(sha256) {
                self.to_make.push(want);
            } else {
                self.wanted.push(want);
            }
        }
        &self.entries[sha256].state
    }

    /// Asks for the thumbnail of an image about to be drawn (the rows just off screen), after
    /// everything drawn this frame.
    pub fn prefetch(&mut self, sha256: &str, source: PathBuf) {
        let want = Want {
            sha256: sha256.to_owned(),
            source,
        };
        match self.entries.get(sha256).map(|e| &e.state) {
            None => {
                // An entry, so that its picture is uploaded when it comes (one that nobody
                // wants any more is dropped instead, see `begin_frame`).
                let frame = self.frame;
                self.entries.insert(
                    sha256.to_owned(),
                    Entry {
                        state: ThumbState::Loading,
                        used: frame,
                    },
                );
                self.prefetch.push(want);
            }
            Some(ThumbState::Loading) if self.making.contains(sha256) => {
                self.prefetch_make.push(want);
            }
            Some(ThumbState::Loading) => self.prefetch.push(want),
            Some(_) => {}
        }
    }

    /// Ends a frame: the work queues become what was drawn and not ready (first) and then the
    /// prefetched images, for the decoders and for the pool (thumbnails not in the cache; the
    /// pool makes the first of its batch first); everything else queued is dropped. Then the
    /// least recently drawn textures beyond the LRU's size are freed.
    pub fn end_frame(&mut self, ctx: &egui::Context) {
        let mut wants = std::mem::take(&mut self.wanted);
        wants.append(&mut self.prefetch);
        // Decoded and waiting for their upload: not decoded again.
        if !self.pending.is_empty() {
            let pending: HashSet<&str> = self
                .pending
                .iter()
                .filter_map(|d| match d {
                    Decoded::Image { sha256, .. } => Some(sha256.as_str()),
                    _ => None,
                })
                .collect();
            wants.retain(|w| !pending.contains(w.sha256.as_str()));
        }
        if self.frame.saturating_sub(self.last_drawn_frame) >= IDLE_FRAMES
            && !self.entries.is_empty()
        {
            // Nothing shows thumbnails: free them all (made again from the cache when shown).
            self.entries.clear();
            self.failed_at.clear();
        }
        let mut make = std::mem::take(&mut self.to_make);
        make.append(&mut self.prefetch_make);
        let idle = wants.is_empty() && make.is_empty() && self.workers.is_none();
        if !idle && self.workers.is_none() {
            self.workers = self
                .data_dir
                .as_deref()
                .and_then(|dir| start_workers(ctx, dir));
        }
        if !idle && let Some(workers) = &self.workers {
            let mut keep: HashSet<&str> = wants.iter().map(|w| w.sha256.as_str()).collect();
            let making: HashSet<&str> = make.iter().map(|w| w.sha256.as_str()).collect();
            workers.pool.retain(|sha| making.contains(sha));
            if !make.is_empty() {
                workers
                    .pool
                    .request_many(make.iter().map(|w| (w.sha256.as_str(), &w.source)));
            }
            keep.extend(making);
            if let Ok(mut q) = workers.shared.queue.lock() {
                q.wants = wants.iter().cloned().collect();
            }
            workers.shared.wake.notify_all();
            // Loading entries nobody wants any more are forgotten (asked again when drawn).
            let frame = self.frame;
            self.entries.retain(|sha, e| {
                !matches!(e.state, ThumbState::Loading)
                    || e.used == frame
                    || keep.contains(sha.as_str())
            });
            let entries = &self.entries;
            self.making
                .retain(|sha| keep.contains(sha.as_str()) && entries.contains_key(sha));
        }
        self.evict();
    }

    /// How many images drawn in the last frame had no picture yet (drawn as "…").
    pub fn drawn_loading(&self) -> usize {
        self.drawn_loading
    }

    /// Textures held now.
    pub fn textures(&self) -> usize {
        self.entries
            .values()
            .filter(|e| matches!(e.state, ThumbState::Ready { .. }))
            .count()
    }

    /// True while thumbnails are being decoded, made or uploaded.
    pub fn is_busy(&self) -> bool {
        !self.pending.is_empty()
            || self
                .entries
                .values()
                .any(|e| matches!(e.state, ThumbState::Loading))
    }

    fn capacity(&self) -> usize {
        (self.drawn_last.max(self.drawn) * 3).max(MIN_TEXTURES)
    }

    /// Frees the least recently drawn textures beyond the capacity (with some slack, so
    /// this sorts rarely); what was drawn this frame stays.
    fn evict(&mut self) {
        let capacity = self.capacity();
        if self.entries.len() <= capacity + capacity / 4 {
            return;
        }
        let mut by_age: Vec<(u64, String)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.used < self.frame && !matches!(e.state, ThumbState::Loading))
            .map(|(sha, e)| (e.used, sha.clone()))
            .collect();
        by_age.sort_unstable();
        let excess = self.entries.len().saturating_sub(capacity);
        for (_, sha) in by_age.into_iter().take(excess) {
            self.entries.remove(&sha);
        }
    }
}

fn start_workers(ctx: &egui::Context, data_dir: &Path) -> Option<Workers> {
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue::default()),
        wake: Condvar::new(),
    });
    let pool = Arc::new(ThumbnailPool::new(
        data_dir,
        ThumbnailPool::default_threads(),
    ));
    let repaint = ctx.clone();
    pool.set_notify(move || repaint.request_repaint());
    let (tx, rx) = channel();
    for i in 0..DECODE_THREADS {
        let shared = Arc::clone(&shared);
        let tx: Sender<Decoded> = tx.clone();
        let ctx = ctx.clone();
        let data_dir = data_dir.to_path_buf();
        let name = format!("thumb-decode-{i}");
        spawn_named(&name, move || decode_loop(&shared, &tx, &ctx, &data_dir))?;
    }
    Some(Workers { shared, pool, rx })
}

fn decode_loop(shared: &Shared, tx: &Sender<Decoded>, ctx: &egui::Context, data_dir: &Path) {
    loop {
        let want = {
            let Ok(mut q) = shared.queue.lock() else {
                return;
            };
            loop {
                if q.shutdown {
                    return;
                }
                if let Some(w) = q.wants.pop_front() {
                    break w;
                }
                q = match shared.wake.wait(q) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
        };
        let answer = decode_one(data_dir, want);
        if tx.send(answer).is_err() {
            return;
        }
        ctx.request_repaint();
    }
}

/// Decodes one cached thumbnail, or says it is not in the cache.
fn decode_one(data_dir: &Path, want: Want) -> Decoded {
    let Want { sha256, source } = want;
    if !crate::thumbs::is_sha256(&sha256) {
        // No hash to key a cached thumbnail (a hand-made record): scaled from the file each
        // time it is shown.
        let side = crate::thumbs::THUMBNAIL_SIDE;
        return match super::viewer::decode(&source, Some(side)) {
            Ok(image) => Decoded::Image {
                sha256,
                image,
                source_missing: false,
            },
            Err(why) => Decoded::Failed { sha256, why },
        };
    }
    let cached = thumbnail_path(data_dir, &sha256);
    let bytes = match std::fs::read(&cached) {
        Ok(bytes) => bytes,
        // The UI asks the pool (it orders the requests by what is on screen).
        Err(_) => return Decoded::Making { sha256 },
    };
    match decode_jpeg(&bytes) {
        Ok(image) => Decoded::Image {
            sha256,
            image,
            source_missing: !source.exists(),
        },
        Err(_) => {
            // A damaged cache file: made again.
            let _ = std::fs::remove_file(&cached);
            Decoded::Making { sha256 }
        }
    }
}

/// Decodes a cached thumbnail (small: at most 256 px a side).
pub fn decode_jpeg(bytes: &[u8]) -> Result<egui::ColorImage, String> {
    let image = image::load_from_memory(bytes).map_err(|e| e.to_string())?;
    let rgba = image.to_rgba8();
    let size = [rgba.width() as usize, rgba.height() as usize];
    Ok(egui::ColorImage::from_rgba_unmultiplied(
        size,
        rgba.as_raw(),
    ))
}
