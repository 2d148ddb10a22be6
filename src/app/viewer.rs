//! A job's images: the thumbnail strip of the details panel and the image viewer.
//!
//! The strip's thumbnails come from the thumbnail cache in the data folder through the app's
//! [`ThumbTextures`] (as the Gallery's: made once per image by the pool, decoded off the UI
//! thread, shown at [`THUMB_SIZE`] points). The viewer's image (and Compare's) are decoded off
//! the UI thread by one decoder thread (`image-decode`) into [`ImageCache`], an LRU of
//! [`THUMB_CACHE`] textures keyed by sha256 plus the one full image the viewer shows, scaled
//! down to the largest texture the GPU takes. A file that cannot be read shows a placeholder
//! with its path; the job stays.
//!
//! Rating keys (1–5 stars, 0 clears, F toggles the favourite) work in the viewer and on a
//! hovered or focused thumbnail; every change is a [`Command::RateImage`] for the history
//! writer.

use super::commands::{Command, CommandQueue};
use super::state::ViewContext;
use super::tasks::{Repaint, Task, spawn_named};
use super::thumb_textures::{ThumbState, ThumbTextures};
use super::writer::RatingChange;
use crate::job_record::JobRecord;
use crate::outputs::OutputImage;
use egui::{Key, Modifiers, RichText};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

/// The longest side of a thumbnail, in pixels.
pub const THUMB_SIZE: u32 = 128;
/// How many thumbnail textures are kept (the least recently drawn goes first).
pub const THUMB_CACHE: usize = 64;

/// One decoded (or failed) image.
enum Slot {
    Loading,
    Ready {
        texture: egui::TextureHandle,
        /// The pixels (full-size images only: Copy image hands them to the clipboard).
        pixels: Option<Arc<egui::ColorImage>>,
    },
    Failed(String),
}

struct DecodeJob {
    key: String,
    path: PathBuf,
    /// Thumbnails: the longest side; `None` for the full image.
    max: Option<u32>,
}

struct Decoded {
    key: String,
    result: Result<egui::ColorImage, String>,
}

/// The decoder thread, started on first use.
struct Decoder {
    tx: Sender<DecodeJob>,
    rx: Receiver<Decoded>,
}

impl Decoder {
    fn start(ctx: &egui::Context) -> Option<Decoder> {
        let (tx, jobs) = channel::<DecodeJob>();
        let (done, rx) = channel();
        let ctx = ctx.clone();
        spawn_named("image-decode", move || {
            while let Ok(job) = jobs.recv() {
                let result = decode(&job.path, job.max);
                if done
                    .send(Decoded {
                        key: job.key,
                        result,
                    })
                    .is_err()
                {
                    return;
                }
                ctx.request_repaint();
            }
        })?;
        Some(Decoder { tx, rx })
    }
}

/// Reads and decodes an image file (PNG, JPEG, WebP), downscaled to `max` when given.
pub fn decode(path: &Path, max: Option<u32>) -> Result<egui::ColorImage, String> {
    // The core's bounded decoding (a hostile file cannot exhaust memory; a phone JPEG is
    // turned as it was taken).
    let image = crate::thumbs::decode_image_file(path).map_err(|e| e.to_string())?;
    let image = match max {
        Some(max) if image.width() > max || image.height() > max => image.thumbnail(max, max),
        _ => image,
    };
    let rgba = image.to_rgba8();
    let size = [rgba.width() as usize, rgba.height() as usize];
    Ok(egui::ColorImage::from_rgba_unmultiplied(
        size,
        rgba.as_raw(),
    ))
}

/// A downscaled image as [`ImageCache::sized`] gives it.
pub enum SizedImage<'a> {
    Loading,
    Ready(&'a egui::TextureHandle),
    /// The file cannot be read or decoded: why.
    Failed(&'a str),
}

/// The thumbnail textures (an LRU keyed by sha256) and the viewer's full image.
#[derive(Default)]
pub struct ImageCache {
    thumbs: HashMap<String, (Slot, u64)>,
    clock: u64,
    /// The viewer's image: its sha256 and slot.
    full: Option<(String, Slot)>,
    decoder: Option<Decoder>,
}

impl std::fmt::Debug for ImageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageCache")
            .field("thumbs", &self.thumbs.len())
            .finish()
    }
}

const FULL_PREFIX: &str = "full:";

impl ImageCache {
    /// Uploads what the decoder finished (a few per frame at most).
    pub fn poll(&mut self, ctx: &egui::Context) {
        let Some(decoder) = &self.decoder else { return };
        while let Ok(done) = decoder.rx.try_recv() {
            if let Some(sha) = done.key.strip_prefix(FULL_PREFIX) {
                let Some((current, slot)) = &mut self.full else {
                    continue;
                };
                if current != sha {
                    continue;
                }
                *slot = match done.result {
                    Ok(image) => {
                        let image = Arc::new(image);
                        Slot::Ready {
                            texture: ctx.load_texture(
                                format!("image-{sha}"),
                                egui::ImageData::Color(image.clone()),
                                egui::TextureOptions::LINEAR,
                            ),
                            pixels: Some(image),
                        }
                    }
                    Err(e) => Slot::Failed(e),
                };
            } else if let Some((slot, _)) = self.thumbs.get_mut(&done.key) {
                *slot = match done.result {
                    Ok(image) => Slot::Ready {
                        texture: ctx.load_texture(
                            format!("thumb-{}", done.key),
                            image,
                            egui::TextureOptions::LINEAR,
                        ),
                        pixels: None,
                    },
                    Err(e) => Slot::Failed(e),
                };
            }
        }
    }

    fn send(&mut self, ctx: &egui::Context, job: DecodeJob) -> bool {
        if self.decoder.is_none() {
            self.decoder = Decoder::start(ctx);
        }
        self.decoder
            .as_ref()
            .is_some_and(|d| d.tx.send(job).is_ok())
    }

    /// The image at `path` downscaled to at most `max` px, cached under `key` in the LRU.
    fn sized_slot(&mut self, ctx: &egui::Context, key: String, path: &Path, max: u32) -> &Slot {
        self.clock += 1;
        let clock = self.clock;
        if !self.thumbs.contains_key(&key) {
            self.evict();
            let sent = self.send(
                ctx,
                DecodeJob {
                    key: key.clone(),
                    path: path.to_path_buf(),
                    max: Some(max),
                },
            );
            let slot = if sent {
                Slot::Loading
            } else {
                Slot::Failed("no thread to decode images".into())
            };
            self.thumbs.insert(key.clone(), (slot, clock));
        }
        let entry = self.thumbs.get_mut(&key).expect("inserted above");
        entry.1 = clock;
        &entry.0
    }

    /// `image` at most `max` px on its longest side (decoded off the UI thread, kept in the
    /// thumbnail LRU beside the thumbnails): [`SizedImage::Loading`] until the decoder is done.
    /// Call [`ImageCache::poll`] each frame to receive it.
    pub fn sized(
        &mut self,
        ctx: &egui::Context,
        image: &OutputImage,
        path: &Path,
        max: u32,
    ) -> SizedImage<'_> {
        let key = if max == THUMB_SIZE {
            image.sha256.clone()
        } else {
            format!("{max}px:{}", image.sha256)
        };
        match self.sized_slot(ctx, key, path, max) {
            Slot::Loading => SizedImage::Loading,
            Slot::Ready { texture, .. } => SizedImage::Ready(texture),
            Slot::Failed(why) => SizedImage::Failed(why),
        }
    }

    /// Drops the least recently used thumbnails (their textures are freed) to make room for
    /// one more; ones still decoding stay.
    fn evict(&mut self) {
        while self.thumbs.len() >= THUMB_CACHE {
            let oldest = self
                .thumbs
                .iter()
                .filter(|(_, (slot, _))| !matches!(slot, Slot::Loading))
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(key) => {
                    self.thumbs.remove(&key);
                }
                None => return,
            }
        }
    }

    /// The full-size image of `image` (asked for when another one is held).
    fn full(&mut self, ctx: &egui::Context, image: &OutputImage, path: &Path) -> &Slot {
        if self
            .full
            .as_ref()
            .is_none_or(|(sha, _)| sha != &image.sha256)
        {
            let sent = self.send(
                ctx,
                DecodeJob {
                    key: format!("{FULL_PREFIX}{}", image.sha256),
                    path: path.to_path_buf(),
                    // No texture larger than the GPU takes (an upscaled panorama would
                    // crash the renderer): scaled down to it, Copy image included.
                    max: Some(ctx.input(|i| i.max_texture_side).max(1) as u32),
                },
            );
            let slot = if sent {
                Slot::Loading
            } else {
                Slot::Failed("no thread to decode images".into())
            };
            self.full = Some((image.sha256.clone(), slot));
        }
        &self.full.as_ref().expect("set above").1
    }
}

/// Where an image's file is: its path is relative to the data folder (imported images are
/// absolute, and `join` keeps those as they are).
pub fn image_path(data_dir: &Path, image: &OutputImage) -> PathBuf {
    data_dir.join(&image.path)
}

/// Stars as text: "★★★☆☆", or "☆ unrated".
pub fn stars_text(rating: Option<u8>) -> String {
    match rating.filter(|r| (1..=5).contains(r)) {
        Some(r) => format!("{}{}", "★".repeat(r as usize), "☆".repeat(5 - r as usize)),
        None => "unrated".to_owned(),
    }
}

/// What the status line says about a rating.
pub fn rating_words(rating: Option<u8>, favorite: bool) -> String {
    let stars = match rating {
        Some(1) => "1 star".to_owned(),
        Some(r) => format!("{r} stars"),
        None => "no rating".to_owned(),
    };
    if favorite {
        format!("{stars}, favourite")
    } else {
        stars
    }
}

/// A job's rating: its best image's, and whether any image is a favourite.
pub fn job_rating(images: &[OutputImage]) -> (Option<u8>, bool) {
    (
        images.iter().filter_map(|i| i.rating).max(),
        images.iter().any(|i| i.favorite),
    )
}

/// The rating key pressed this frame (1–5, 0, F), consumed; none while a text field has the
/// keyboard.
pub(crate) fn rating_key(ctx: &egui::Context) -> Option<RatingChange> {
    if ctx.text_edit_focused() {
        return None;
    }
    let keys = [
        (Key::Num0, RatingChange::Stars(None)),
        (Key::Num1, RatingChange::Stars(Some(1))),
        (Key::Num2, RatingChange::Stars(Some(2))),
        (Key::Num3, RatingChange::Stars(Some(3))),
        (Key::Num4, RatingChange::Stars(Some(4))),
        (Key::Num5, RatingChange::Stars(Some(5))),
        (Key::F, RatingChange::ToggleFavorite),
    ];
    ctx.input_mut(|i| {
        keys.into_iter()
            .find(|(key, _)| i.consume_key(Modifiers::NONE, *key))
            .map(|(_, change)| change)
    })
}

/// The request an image was rendered from: the job's request of the same key and variant
/// (see [`crate::compare::image_request`]).
pub fn image_request(
    record: &JobRecord,
    image: &OutputImage,
) -> Option<crate::run_config::RenderedRequest> {
    crate::compare::image_request(record, image)
}

/// The A1111 infotext of one image: its own prompt and negative, the job's settings and the
/// image's seed and size.
pub fn image_infotext(record: &JobRecord, sha256: &str) -> Option<String> {
    let image = record
        .result
        .as_ref()?
        .images
        .iter()
        .find(|i| i.sha256 == sha256)?;
    let (positive, negative) = image_request(record, image)
        .map(|r| (r.prompt, r.negative_prompt))
        .unwrap_or_default();
    let mut settings = record.run_config.settings.clone();
    settings.seed = image.seed;
    if image.width > 0 && image.height > 0 {
        settings.width = image.width;
        settings.height = image.height;
    }
    let mut unknown = record.run_config.unknown_settings();
    unknown.retain(|u| !matches!(u.as_str(), "seed" | "width" | "height"));
    Some(crate::history::infotext_block_known(
        &positive, &negative, &settings, &unknown,
    ))
}

/// The thumbnails of a job's images, in a wrapping row; a click opens the viewer. Rating keys
/// apply to the thumbnail under the pointer or with the keyboard focus.
pub fn thumbnail_strip(
    ui: &mut egui::Ui,
    thumbs: &mut ThumbTextures,
    viewer: &mut Viewer,
    job_id: &str,
    images: &[OutputImage],
    data_dir: &Path,
    commands: &mut CommandQueue,
) {
    let ctx = ui.ctx().clone();
    let count = images.len();
    ui.horizontal_wrapped(|ui| {
        for (index, image) in images.iter().enumerate() {
            let path = image_path(data_dir, image);
            ui.vertical(|ui| {
                ui.set_max_width(THUMB_SIZE as f32 + 8.0);
                let label = format!("Image {} of {count}", index + 1);
                let side = egui::vec2(THUMB_SIZE as f32, THUMB_SIZE as f32);
                // From the thumbnail cache, as the Gallery's (decoded off the UI thread).
                let mut failed = None;
                let response = match thumbs.get(&image.sha256, &path) {
                    ThumbState::Ready {
                        texture,
                        source_missing,
                    } => {
                        if *source_missing {
                            failed = Some(format!("{} is not there any more", path.display()));
                        }
                        let size = texture.size_vec2();
                        let scale = (side.x / size.x).min(side.y / size.y).min(1.0);
                        ui.add(
                            egui::Button::image(egui::Image::new((texture.id(), size * scale)))
                                .min_size(side),
                        )
                    }
                    ThumbState::Loading => ui.add(egui::Button::new("…").min_size(side)),
                    ThumbState::Failed(why) => {
                        failed = Some(why.clone());
                        ui.add(
                            egui::Button::new(RichText::new("missing").weak())
                                .min_size(side)
                                .fill(ui.visuals().extreme_bg_color),
                        )
                    }
                };
                response.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Button, true, &label)
                });
                let response = response.on_hover_text(format!(
                    "{} · seed {} · {}×{}\nClick: open the viewer. Keys 1–5 rate, 0 clears, F favourite.",
                    image.path, image.seed, image.width, image.height
                ));
                if response.clicked() {
                    viewer.open(job_id, index);
                }
                if (response.hovered() || response.has_focus())
                    && viewer.open.is_none()
                    && let Some(change) = rating_key(&ctx)
                {
                    commands.push(Command::RateImage {
                        job_id: job_id.to_owned(),
                        sha256: image.sha256.clone(),
                        change,
                    });
                }
                let mut marks = stars_text(image.rating);
                if image.favorite {
                    marks.push_str(" ♥");
                }
                ui.label(RichText::new(marks).small());
                if let Some(why) = failed {
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!("Not found: {}", path.display()))
                                .small()
                                .color(ui.visuals().warn_fg_color),
                        )
                        .wrap(),
                    )
                    .on_hover_text(why);
                }
            });
        }
    });
}

/// Which image the viewer shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub job_id: String,
    pub index: usize,
}

/// The image viewer's state.
#[derive(Default)]
pub struct Viewer {
    pub open: Option<Open>,
    /// 100 % instead of fit to the window.
    pub actual_size: bool,
    /// Opened from the Gallery: ◀ / ▶ and the arrow keys step through the Gallery's images
    /// (across jobs) rather than this job's.
    pub in_gallery: bool,
    /// Opening the file or its folder, off the UI thread.
    opening: Vec<Task<Result<(), String>>>,
    /// What the last open failed with.
    pub error: Option<String>,
    /// The image's pixels are to go to the clipboard once decoded.
    copy_pending: bool,
}

impl std::fmt::Debug for Viewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Viewer").field("open", &self.open).finish()
    }
}

/// The platform's opener for a file or folder.
fn opener(target: &Path) -> std::process::Command {
    #[cfg(target_os = "windows")]
    {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]).arg(target);
        c
    }
    #[cfg(target_os = "macos")]
    {
        let mut c = std::process::Command::new("open");
        c.arg(target);
        c
    }
    #[cfg(not(any(target_os = "windows", target_os = "macos")))]
    {
        let mut c = std::process::Command::new("xdg-open");
        c.arg(target);
        c
    }
}

/// Opens `target` with the platform's opener and waits for the opener (not the program it
/// starts) to finish.
fn open_with_system(target: &Path) -> Result<(), String> {
    if !target.exists() {
        return Err(format!("{} does not exist", target.display()));
    }
    let status = opener(target)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("could not start the system opener: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the system opener failed on {} ({status})",
            target.display()
        ))
    }
}

impl Viewer {
    /// Shows image `index` of job `job_id`.
    pub fn open(&mut self, job_id: &str, index: usize) {
        self.in_gallery = false;
        self.open = Some(Open {
            job_id: job_id.to_owned(),
            index,
        });
        self.error = None;
        self.copy_pending = false;
    }

    fn spawn_open(&mut self, ctx: &egui::Context, target: PathBuf) {
        let repaint = Repaint::default();
        repaint.set(ctx);
        self.error = None;
        self.opening
            .push(Task::spawn("system-open", &repaint, move || {
                open_with_system(&target)
            }));
    }

    fn poll_opening(&mut self) {
        let mut error = None;
        self.opening.retain(|t| match t.poll() {
            Some(Ok(Err(e)) | Err(e)) => {
                error = Some(e);
                false
            }
            Some(Ok(Ok(()))) => false,
            None => true,
        });
        if error.is_some() {
            self.error = error;
        }
    }

    /// Draws the viewer (a modal over the window) when it is open.
    pub fn show(
        &mut self,
        cache: &mut ImageCache,
        view: &ViewContext<'_>,
        ctx: &egui::Context,
        commands: &mut CommandQueue,
    ) {
        self.poll_opening();
        let Some(open) = self.open.clone() else {
            return;
        };
        let record = view
            .store
            .and_then(|s| s.read().ok())
            .and_then(|s| s.get(&open.job_id).cloned());
        let Some(record) = record else {
            self.open = None;
            return;
        };
        let images = record
            .result
            .as_ref()
            .map(|r| r.images.as_slice())
            .unwrap_or_default();
        if images.is_empty() {
            self.open = None;
            return;
        }
        let count = images.len();
        let index = open.index.min(count - 1);
        let image = &images[index];
        let path = image_path(view.data_dir, image);
        cache.poll(ctx);

        // Keys first: the panels behind the viewer must not see them.
        let mut go = 0isize;
        if !ctx.text_edit_focused() {
            ctx.input_mut(|i| {
                if i.consume_key(Modifiers::NONE, Key::ArrowRight) {
                    go += 1;
                }
                if i.consume_key(Modifiers::NONE, Key::ArrowLeft) {
                    go -= 1;
                }
            });
        }
        let mut close = ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape));
        if ctx.input_mut(|i| i.consume_shortcut(&super::shortcuts::ADD_TO_COMPARE)) {
            commands.push(Command::AddToCompare(super::compare::CompareItem::image(
                &record.job_id,
                &image.sha256,
            )));
        }
        if let Some(change) = rating_key(ctx) {
            commands.push(Command::RateImage {
                job_id: record.job_id.clone(),
                sha256: image.sha256.clone(),
                change,
            });
        }

        let screen = ctx.content_rect();
        let modal = egui::Modal::new(egui::Id::unique("image_viewer")).show(ctx, |ui| {
            ui.set_width((screen.width() - 80.0).max(300.0));
            ui.horizontal(|ui| {
                ui.heading(format!("Image {} of {count}", index + 1));
                let (has_previous, has_next) = if self.in_gallery {
                    (true, true)
                } else {
                    (index > 0, index + 1 < count)
                };
                if ui
                    .add_enabled(has_previous, egui::Button::new("◀ Previous"))
                    .on_hover_text("Previous image (Left arrow)")
                    .clicked()
                {
                    go -= 1;
                }
                if ui
                    .add_enabled(has_next, egui::Button::new("Next ▶"))
                    .on_hover_text("Next image (Right arrow)")
                    .clicked()
                {
                    go += 1;
                }
                ui.separator();
                ui.selectable_value(&mut self.actual_size, false, "Fit");
                ui.selectable_value(&mut self.actual_size, true, "100 %");
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button("Close").on_hover_text("Close (Esc)").clicked() {
                        close = true;
                    }
                });
            });
            ui.separator();
            let area = egui::vec2(ui.available_width(), (screen.height() * 0.55).max(160.0));
            let mut copy_now = None;
            match cache.full(ctx, image, &path) {
                Slot::Ready { texture, pixels } => {
                    let size = texture.size_vec2();
                    if self.actual_size {
                        egui::ScrollArea::both()
                            .id_salt("viewer_scroll")
                            .max_height(area.y)
                            .show(ui, |ui| {
                                ui.add(egui::Image::new((texture.id(), size)));
                            });
                    } else {
                        let scale = (area.x / size.x).min(area.y / size.y).min(1.0);
                        ui.vertical_centered(|ui| {
                            ui.add(egui::Image::new((texture.id(), size * scale)));
                        });
                    }
                    if self.copy_pending {
                        copy_now = pixels.clone();
                    }
                }
                Slot::Loading => {
                    // No spinner: it would repaint every frame; the decoder asks for a repaint
                    // when the image is ready.
                    ui.allocate_ui(area, |ui| ui.label("Loading the image…"));
                }
                Slot::Failed(why) => {
                    ui.allocate_ui(area, |ui| {
                        ui.colored_label(
                            ui.visuals().warn_fg_color,
                            format!("The image cannot be shown: {}", path.display()),
                        );
                        ui.weak(why.as_str());
                    });
                }
            }
            if let Some(pixels) = copy_now {
                self.copy_pending = false;
                ctx.copy_image((*pixels).clone());
            }
            ui.separator();
            self.info(ui, &record, image, &path, commands);
        });
        if modal.should_close() {
            close = true;
        }
        if close {
            self.open = None;
            return;
        }
        if go != 0 && self.in_gallery {
            commands.push(Command::GalleryStep(go));
        } else if go != 0 {
            let next = (index as isize + go).clamp(0, count as isize - 1) as usize;
            if next != index {
                self.open(&record.job_id, next);
            }
        }
    }

    /// The image's facts and actions under it.
    fn info(
        &mut self,
        ui: &mut egui::Ui,
        record: &JobRecord,
        image: &OutputImage,
        path: &Path,
        commands: &mut CommandQueue,
    ) {
        let ctx = ui.ctx().clone();
        let s = &record.run_config.settings;
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("Seed: {}", image.seed));
            ui.label(format!("{}×{}", image.width, image.height));
            if !image.key.is_empty() {
                ui.label(format!("Key {} #{}", image.key, image.variant));
            }
            // The settings as the record knows them ("—" for one an import did not record).
            let unknown = record.run_config.unknown_settings();
            let known = |name: &str| !unknown.iter().any(|u| u == name);
            let or_dash = |name: &str, value: String| {
                if known(name) && !value.is_empty() {
                    value
                } else {
                    "—".to_owned()
                }
            };
            ui.label(format!(
                "{} · {} · {} · {} steps · CFG {} · clip skip {}",
                or_dash("model", s.model.clone()),
                or_dash("sampler", s.sampler.clone()),
                or_dash("scheduler", s.scheduler.clone()),
                or_dash("steps", s.steps.to_string()),
                or_dash("cfg_scale", super::history_table::format_cfg(s.cfg_scale)),
                or_dash("clip_skip", s.clip_skip.to_string()),
            ));
            let styles = record.run_config.prompt_styles();
            if !styles.is_empty() {
                let names: Vec<&str> = styles.iter().map(|st| st.name.as_str()).collect();
                ui.label(format!("Styles: {}", names.join(", ")));
            }
        });
        ui.horizontal(|ui| {
            ui.label("Rating:");
            for stars in 1..=5u8 {
                let lit = image.rating.is_some_and(|r| r >= stars);
                let text = if lit { "★" } else { "☆" };
                if ui
                    .add(egui::Button::new(text).frame(false))
                    .on_hover_text(format!("{stars} (key {stars})"))
                    .clicked()
                {
                    let change = if image.rating == Some(stars) {
                        RatingChange::Stars(None)
                    } else {
                        RatingChange::Stars(Some(stars))
                    };
                    commands.push(Command::RateImage {
                        job_id: record.job_id.clone(),
                        sha256: image.sha256.clone(),
                        change,
                    });
                }
            }
            ui.label(stars_text(image.rating));
            let heart = if image.favorite {
                "♥ Favourite"
            } else {
                "♡ Favourite"
            };
            if ui
                .selectable_label(image.favorite, heart)
                .on_hover_text("Toggle favourite (F); 0 clears the stars")
                .clicked()
            {
                commands.push(Command::RateImage {
                    job_id: record.job_id.clone(),
                    sha256: image.sha256.clone(),
                    change: RatingChange::ToggleFavorite,
                });
            }
        });
        if let Some(request) = image_request(record, image) {
            egui::ScrollArea::vertical()
                .id_salt("viewer_prompt")
                .max_height(120.0)
                .show(ui, |ui| {
                    ui.add(egui::Label::new(RichText::new(&request.prompt).monospace()).wrap());
                    if !request.negative_prompt.trim().is_empty() {
                        ui.label(RichText::new("Negative").small().strong());
                        ui.add(
                            egui::Label::new(RichText::new(&request.negative_prompt).monospace())
                                .wrap(),
                        );
                    }
                });
        }
        ui.weak(path.display().to_string());
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Open in system viewer")
                .on_hover_text("Open the file with the system's image viewer")
                .clicked()
            {
                self.spawn_open(&ctx, path.to_path_buf());
            }
            if ui.button("Show in folder").clicked() {
                let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
                self.spawn_open(&ctx, folder);
            }
            if ui
                .button("Copy image")
                .on_hover_text("Copy the image to the clipboard")
                .clicked()
            {
                self.copy_pending = true;
            }
            if ui
                .button("Copy infotext")
                .on_hover_text("AUTOMATIC1111 parameters text of this image (its prompt and seed)")
                .clicked()
            {
                commands.push(Command::CopyImageInfotext {
                    job_id: record.job_id.clone(),
                    sha256: image.sha256.clone(),
                });
            }
            if ui
                .button("Re-run with this seed")
                .on_hover_text(
                    "Load the job into the composer with this image's seed (Undo load brings the draft back)",
                )
                .clicked()
            {
                commands.push(Command::RerunWithSeed {
                    job_id: record.job_id.clone(),
                    seed: image.seed,
                });
                self.open = None;
            }
            if ui
                .button("Add to compare")
                .on_hover_text(format!(
                    "Compare this image with others, side by side ({})",
                    super::shortcuts::keys_text(&super::shortcuts::ADD_TO_COMPARE)
                ))
                .clicked()
            {
                commands.push(Command::AddToCompare(super::compare::CompareItem::image(
                    &record.job_id,
                    &image.sha256,
                )));
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
    }
}

#[cfg(test)]
mod decode_tests {
    use super::decode;

    #[test]
    fn a_full_image_is_scaled_down_to_the_largest_texture_and_keeps_its_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.png");
        image::RgbaImage::from_pixel(600, 200, image::Rgba([10, 20, 30, 255]))
            .save(&path)
            .unwrap();
        let small = decode(&path, Some(300)).unwrap();
        assert_eq!(small.size, [300, 100]);
        let whole = decode(&path, Some(4096)).unwrap();
        assert_eq!(whole.size, [600, 200], "never enlarged");
        let missing = decode(&dir.path().join("gone.png"), None).unwrap_err();
        assert!(missing.contains("gone.png"), "{missing}");
    }
}
