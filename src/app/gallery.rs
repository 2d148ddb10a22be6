//! The Gallery view: the output images of the jobs the history's filters select, as a grid of
//! thumbnails, in the history table's order (newest first unless sorted otherwise), narrowed
//! further by "Favourites only" and "Rated at least N" (per image), and by the Key filter per
//! image too (a pack job's images made by that key).
//!
//! * **Virtualised.** Only the rows on screen are laid out ([`egui::ScrollArea::show_rows`]);
//!   the list of images ([`GalleryView::items`]: two small numbers per image) is rebuilt only
//!   when the table's rows, the history or the gallery's own filters change. Thumbnails come
//!   from the thumbnail cache through [`ThumbTextures`] (decoded off the UI thread, an LRU of
//!   textures, started and ended once per frame by the app); a full-size image is never drawn
//!   in the grid.
//! * **Mouse.** A click selects the image (and its job: the details show it); Ctrl+click
//!   (Cmd on macOS) marks it for Compare; a double click opens the viewer.
//! * **Keyboard** (once the grid has the focus: a click, or Tab): arrows move, Home/End,
//!   PageUp/PageDown, Enter opens the viewer, 1–5 rate, 0 clears, F toggles the favourite,
//!   Space marks for Compare, C compares the marked images, Esc clears the marks.
//! * A missing file keeps its place: a placeholder naming the path (or its thumbnail with a
//!   warning when the thumbnail was made before the file went).

use super::commands::{Command, CommandQueue};
use super::compare::CompareItem;
use super::history_table::HistoryView;
use super::state::{ViewContext, short_id, testing_pub_struct};
use super::thumb_textures::{ThumbState, ThumbTextures};
use super::viewer::{image_path, stars_text};
use super::widgets::plural;
use crate::history::{HistoryStore, image_rating};
use crate::job_record::JobRecord;
use crate::outputs::OutputImage;
use crate::run_config::PromptSource;
use egui::{Key, Modifiers};

/// The smallest and largest thumbnail sizes (the slider's range), in points.
pub const MIN_THUMB: f32 = 64.0;
pub const MAX_THUMB: f32 = 320.0;
/// The size a new gallery starts with.
pub const DEFAULT_THUMB: f32 = 160.0;
/// Space between two thumbnails.
const GAP: f32 = 6.0;
/// Rows above and below the screen whose thumbnails are prepared before they scroll in.
const PREFETCH_ROWS: usize = 2;

/// One image of the gallery: its job's index in the store's records and its index in the
/// job's images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub record: u32,
    pub image: u16,
}

/// One image named so that it stays the same image when the history changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub job_id: String,
    pub sha256: String,
}

/// What the item list was built from.
type ItemsKey = (
    Option<(
        crate::history::HistoryFilter,
        crate::history::SortColumn,
        bool,
        u64,
    )>,
    usize,
    bool,
    u64,
    bool,
    u8,
);

testing_pub_struct! {
    /// The gallery's state.
    #[derive(Debug)]
    pub struct GalleryView {
        /// Thumbnail size in points (the slider).
        thumb_size: f32,
        favorites_only: bool,
        /// 0 = any rating.
        min_rating: u8,
        /// The images shown, in order.
        items: Vec<Item>,
        items_key: Option<ItemsKey>,
        /// How many jobs the items come from.
        jobs: usize,
        /// The image under the keyboard cursor (also the one last clicked).
        cursor: Option<ImageRef>,
        /// Its place in `items` (found again when the items change).
        cursor_index: Option<usize>,
        /// Images marked for Compare, in the order they were marked.
        marked: Vec<ImageRef>,
        /// Columns of the last frame's grid (Up/Down move by this).
        columns: usize,
        /// Rows on screen in the last frame (PageUp/PageDown move by this).
        page_rows: usize,
        /// The rows drawn in the last frame (partly seen ones included).
        visible_rows: std::ops::Range<usize>,
        /// The grid's scroll offset and height last frame (to scroll a row wholly into view).
        scroll_offset: f32,
        viewport_height: f32,
        /// Scroll so this item's row is on screen.
        scroll_to: Option<usize>,
        /// The grid's rectangle last frame (its focus target).
        grid_rect: egui::Rect,
    }
}

impl Default for GalleryView {
    fn default() -> GalleryView {
        GalleryView {
            thumb_size: DEFAULT_THUMB,
            favorites_only: false,
            min_rating: 0,
            items: Vec::new(),
            items_key: None,
            jobs: 0,
            cursor: None,
            cursor_index: None,
            marked: Vec::new(),
            columns: 1,
            page_rows: 1,
            visible_rows: 0..0,
            scroll_offset: 0.0,
            viewport_height: 0.0,
            scroll_to: None,
            grid_rect: egui::Rect::NOTHING,
        }
    }
}

/// The id of the grid's focus target.
fn focus_id() -> egui::Id {
    egui::Id::unique("gallery_grid_focus")
}

/// An image's accessible name and hover title: "Image 2 of job 0192ab34, 4 stars, favourite".
pub fn item_label(record: &JobRecord, index: usize, image: &OutputImage) -> String {
    let mut label = format!("Image {} of job {}", index + 1, short_id(&record.job_id));
    if let Some(stars) = image_rating(image) {
        label.push_str(&format!(", {}", plural(stars as usize, "star")));
    }
    if image.favorite {
        label.push_str(", favourite");
    }
    label
}

impl GalleryView {
    /// A gallery with thumbnails of `size` points (the default when unset), within the
    /// slider's range.
    pub fn with_thumb_size(size: Option<f32>) -> GalleryView {
        let size = size.filter(|s| s.is_finite()).unwrap_or(DEFAULT_THUMB);
        GalleryView {
            thumb_size: size.clamp(MIN_THUMB, MAX_THUMB),
            ..GalleryView::default()
        }
    }

    /// The images shown now, in order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The image under the cursor.
    pub fn cursor(&self) -> Option<&ImageRef> {
        self.cursor.as_ref()
    }

    /// The images marked for Compare.
    pub fn marked(&self) -> &[ImageRef] {
        &self.marked
    }

    /// Rebuilds the item list when the rows, the history or the filters changed.
    pub fn refresh_items(&mut self, history: &HistoryView, store: &HistoryStore) {
        let key: ItemsKey = (
            history.rows_key.clone(),
            history.rows.len(),
            history.rows_provisional,
            store.generation(),
            self.favorites_only,
            self.min_rating,
        );
        if self.items_key.as_ref() == Some(&key) {
            return;
        }
        let records = store.records();
        let min = self.min_rating;
        let favorites_only = self.favorites_only;
        // The Key filter picks images too: of a pack job that ran keys 1-3, "Key 3" shows
        // the images key 3 made.
        // (The filter the rows were made with, not the one being typed.)
        let key_filter = history
            .rows_key
            .as_ref()
            .map(|(filter, ..)| filter)
            .filter(|f| f.source != Some(PromptSource::Manual))
            .and_then(|f| f.key.as_deref());
        let mut items = Vec::new();
        let mut jobs = 0;
        for &row in &history.rows {
            let Some(record) = records.get(row as usize) else {
                continue;
            };
            let Some(result) = &record.result else {
                continue;
            };
            let before = items.len();
            for (i, image) in result.images.iter().enumerate().take(u16::MAX as usize) {
                if favorites_only && !image.favorite {
                    continue;
                }
                if min > 0 && image_rating(image).unwrap_or(0) < min {
                    continue;
                }
                if let Some(key) = key_filter
                    && record.prompt_source == PromptSource::Pack
                    && !image.key.is_empty()
                    && image.key != key
                {
                    continue;
                }
                items.push(Item {
                    record: row,
                    image: i as u16,
                });
            }
            if items.len() > before {
                jobs += 1;
            }
        }
        self.items = items;
        self.jobs = jobs;
        self.items_key = Some(key);
        // The cursor follows its image; when the image left the list (rated below "Rated at
        // least", unmarked under "Favourites only"), it stays at the same place, on the image
        // that took it.
        let old = self.cursor_index;
        let found = self.cursor.as_ref().and_then(|c| {
            self.items.iter().position(|item| {
                image_of(records, *item).is_some_and(|i| i.sha256 == c.sha256)
                    && records[item.record as usize].job_id == c.job_id
            })
        });
        self.cursor_index = match (found, old) {
            (Some(at), _) => Some(at),
            (None, Some(old)) if !self.items.is_empty() => {
                let at = old.min(self.items.len() - 1);
                self.cursor = item_ref(records, self.items[at]);
                Some(at)
            }
            _ => None,
        };
    }

    /// Draws the gallery into `ui`.
    pub fn show(
        &mut self,
        history: &HistoryView,
        thumbs: &mut ThumbTextures,
        ctx: &ViewContext<'_>,
        ui: &mut egui::Ui,
        commands: &mut CommandQueue,
    ) {
        self.toolbar(ui, commands);
        ui.separator();
        let Some(store) = ctx.store.and_then(|s| s.read().ok()) else {
            let text = if ctx.history.loading.is_some() {
                "Loading the history…"
            } else {
                "The history could not be opened."
            };
            ui.weak(text);
            return;
        };
        self.refresh_items(history, &store);
        if self.items.is_empty() {
            ui.add_space(12.0);
            ui.weak(self.empty_text(history));
            return;
        }
        self.handle_keys(ui, &store, commands);
        self.grid(ui, &store, thumbs, ctx, commands);
    }

    fn empty_text(&self, history: &HistoryView) -> String {
        if self.favorites_only || self.min_rating > 0 {
            "No image matches “Favourites only” or “Rated at least”: rate images with the keys 1–5 and F, or clear these filters.".to_owned()
        } else if history.rows.is_empty() {
            "No jobs match the history's filters.".to_owned()
        } else {
            "No images yet. Jobs that ran on a backend show their images here; File → Import images folder… brings in images made elsewhere.".to_owned()
        }
    }

    fn toolbar(&mut self, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Size");
            ui.add(
                egui::Slider::new(&mut self.thumb_size, MIN_THUMB..=MAX_THUMB).show_value(false),
            )
            .on_hover_text("Thumbnail size");
            ui.checkbox(&mut self.favorites_only, "Favourites only");
            let shown = match self.min_rating {
                0 => "Any rating".to_owned(),
                n => format!("Rated at least {n}"),
            };
            let label = ui.label("Stars");
            egui::ComboBox::from_id_salt("gallery_min_rating")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.min_rating, 0, "Any rating");
                    for n in 1..=5u8 {
                        ui.selectable_value(
                            &mut self.min_rating,
                            n,
                            format!("Rated at least {n} {}", stars_text(Some(n))),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            ui.separator();
            // Whole on one line (a narrow window moves it to the next).
            ui.add(
                egui::Label::new(format!(
                    "{} of {}",
                    plural(self.items.len(), "image"),
                    plural(self.jobs, "job")
                ))
                .extend(),
            );
            if !self.marked.is_empty() {
                ui.separator();
                let n = self.marked.len();
                if ui
                    .add_enabled(n >= 2, egui::Button::new(format!("Compare {n}")))
                    .on_hover_text("Compare the marked images side by side (C)")
                    .on_disabled_hover_text("Mark at least two images (Ctrl+click or Space)")
                    .clicked()
                {
                    commands.push(self.compare_command());
                }
                if ui
                    .button("Clear marks")
                    .on_hover_text("Unmark every image (Esc)")
                    .clicked()
                {
                    self.marked.clear();
                }
            }
        });
    }

    fn cell_size(&self) -> egui::Vec2 {
        let side = self.thumb_size.clamp(MIN_THUMB, MAX_THUMB);
        egui::vec2(side + GAP, side + GAP)
    }

    fn grid(
        &mut self,
        ui: &mut egui::Ui,
        store: &HistoryStore,
        thumbs: &mut ThumbTextures,
        ctx: &ViewContext<'_>,
        commands: &mut CommandQueue,
    ) {
        let records = store.records();
        let least = self.cell_size();
        let width = ui.available_width().max(least.x);
        let columns = ((width / least.x).floor() as usize).max(1);
        // The columns share the whole width (no ragged gap on the right).
        let cell = egui::vec2((width - 1.0) / columns as f32, least.y);
        self.columns = columns;
        let rows = self.items.len().div_ceil(columns);
        let mut area = egui::ScrollArea::vertical()
            .id_salt("gallery_grid")
            .auto_shrink([false, false]);
        let row_h = cell.y + ui.spacing().item_spacing.y;
        if let Some(target) = self.scroll_to.take() {
            // Only when the row is not wholly on screen: to the top when it is above, to the
            // bottom when below.
            let top = (target / columns) as f32 * row_h;
            let (top, bottom) = (top, top + cell.y);
            let (seen_top, height) = (self.scroll_offset, self.viewport_height);
            if top < seen_top {
                area = area.vertical_scroll_offset(top);
            } else if bottom > seen_top + height {
                area = area.vertical_scroll_offset((bottom - height).max(0.0));
            }
        }
        let mut clicked_cell = false;
        let output = area.show_rows(ui, cell.y, rows, |ui, range| {
            self.visible_rows = range.clone();
            for row in range {
                let (row_rect, _) = ui.allocate_exact_size(
                    egui::vec2(columns as f32 * cell.x, cell.y),
                    egui::Sense::hover(),
                );
                for col in 0..columns {
                    let index = row * columns + col;
                    let Some(&item) = self.items.get(index) else {
                        break;
                    };
                    let rect = egui::Rect::from_min_size(
                        row_rect.min + egui::vec2(col as f32 * cell.x, 0.0),
                        cell,
                    );
                    if self.cell(ui, rect, index, item, records, thumbs, ctx, commands) {
                        clicked_cell = true;
                    }
                }
            }
        });
        self.scroll_offset = output.state.clamped_offset().y;
        self.viewport_height = output.inner_rect.height();
        self.page_rows = ((self.viewport_height / row_h).floor() as usize).max(1);
        self.grid_rect = output.inner_rect;
        // The focus target over the grid (registered after the cells, so they keep their
        // clicks).
        let focus = ui.interact(output.inner_rect, focus_id(), egui::Sense::FOCUSABLE);
        focus.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Grid, true, "Gallery"));
        if clicked_cell {
            // After the focus target is registered (a click surrenders the focus of what
            // registered before it).
            focus.request_focus();
        }
        if focus.has_focus() || clicked_cell {
            super::widgets::hold_arrow_keys(ui, focus_id(), output.inner_rect, true);
        }
        // Prefetch the rows just above and below the screen.
        let first = self.visible_rows.start.saturating_sub(PREFETCH_ROWS) * columns;
        let last = ((self.visible_rows.end + PREFETCH_ROWS) * columns).min(self.items.len());
        for item in &self.items[first..last] {
            if let Some(image) = image_of(records, *item) {
                thumbs.prefetch(&image.sha256, image_path(ctx.data_dir, image));
            }
        }
    }

    /// Draws one cell; true when it was clicked.
    #[allow(clippy::too_many_arguments)]
    fn cell(
        &mut self,
        ui: &mut egui::Ui,
        rect: egui::Rect,
        index: usize,
        item: Item,
        records: &[JobRecord],
        thumbs: &mut ThumbTextures,
        ctx: &ViewContext<'_>,
        commands: &mut CommandQueue,
    ) -> bool {
        let Some(record) = records.get(item.record as usize) else {
            return false;
        };
        let Some(image) = image_of(records, item) else {
            return false;
        };
        let id = egui::Id::unique(("gallery_cell", &record.job_id, item.image));
        let inner = rect.shrink(GAP / 2.0);
        let response = ui.interact(inner, id, egui::Sense::click());
        let painter = ui.painter_at(inner);
        let visuals = ui.visuals();
        let path = image_path(ctx.data_dir, image);
        let mut missing = None;
        // The picture's own rectangle (the cell's when there is none yet): marks and
        // outlines go on it.
        let mut frame = inner;
        match thumbs.get(&image.sha256, &path) {
            ThumbState::Ready {
                texture,
                source_missing,
            } => {
                let size = texture.size_vec2();
                let scale = (inner.width() / size.x).min(inner.height() / size.y);
                let shown = egui::Rect::from_center_size(inner.center(), size * scale);
                frame = shown;
                let tint = if *source_missing {
                    egui::Color32::from_white_alpha(90)
                } else {
                    egui::Color32::WHITE
                };
                painter.image(
                    texture.id(),
                    shown,
                    egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                    tint,
                );
                if *source_missing {
                    missing = Some(format!("File not found: {}", path.display()));
                }
            }
            ThumbState::Loading => {
                painter.rect_filled(inner, 4.0, visuals.extreme_bg_color);
                painter.text(
                    inner.center(),
                    egui::Align2::CENTER_CENTER,
                    "…",
                    egui::TextStyle::Body.resolve(ui.style()),
                    visuals.weak_text_color(),
                );
            }
            ThumbState::Failed(why) => {
                painter.rect_filled(inner, 4.0, visuals.extreme_bg_color);
                missing = Some(why.clone());
            }
        }
        if let Some(text) = &missing {
            let galley = ui.fonts_mut(|f| {
                f.layout(
                    format!("⚠ {text}"),
                    egui::TextStyle::Small.resolve(ui.style()),
                    visuals.warn_fg_color,
                    frame.width() - 8.0,
                )
            });
            painter.galley(
                frame.min + egui::vec2(4.0, 4.0),
                galley,
                visuals.warn_fg_color,
            );
        }
        let mut label = item_label(record, item.image as usize, image);
        if let Some(text) = &missing {
            label.push_str(&format!(". {text}"));
        }
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
        // Stars and favourite on a strip at the bottom.
        let mut marks = String::new();
        if let Some(stars) = image_rating(image) {
            marks.push_str(&"★".repeat(stars as usize));
        }
        if image.favorite {
            marks.push_str(" ♥");
        }
        if !marks.is_empty() {
            let font = egui::TextStyle::Body.resolve(ui.style());
            let galley = ui.fonts_mut(|f| {
                f.layout_no_wrap(marks, font, egui::Color32::from_rgb(255, 200, 60))
            });
            let strip = egui::Rect::from_min_size(
                egui::pos2(frame.left(), frame.bottom() - galley.size().y - 4.0),
                egui::vec2(galley.size().x + 8.0, galley.size().y + 4.0),
            );
            painter.rect_filled(strip, 3.0, egui::Color32::from_black_alpha(160));
            painter.galley(
                strip.min + egui::vec2(4.0, 2.0),
                galley,
                egui::Color32::WHITE,
            );
        }
        let is_cursor = self.cursor_index == Some(index);
        // (Compared in place: a cell is drawn every frame.)
        let is_marked = self
            .marked
            .iter()
            .any(|m| m.job_id == record.job_id && m.sha256 == image.sha256);
        if is_marked {
            let badge = egui::Rect::from_min_size(
                egui::pos2(frame.right() - 24.0, frame.top() + 4.0),
                egui::vec2(20.0, 20.0),
            );
            painter.rect_filled(badge, 10.0, visuals.selection.bg_fill);
            painter.text(
                badge.center(),
                egui::Align2::CENTER_CENTER,
                "✔",
                egui::TextStyle::Body.resolve(ui.style()),
                visuals.selection.stroke.color,
            );
        }
        if is_cursor || is_marked || response.hovered() {
            let stroke = if is_cursor {
                egui::Stroke::new(3.0, visuals.selection.stroke.color)
            } else if is_marked {
                egui::Stroke::new(2.0, visuals.selection.bg_fill)
            } else {
                visuals.widgets.hovered.bg_stroke
            };
            painter.rect_stroke(frame, 4.0, stroke, egui::StrokeKind::Inside);
        }
        let response = response.on_hover_ui(|ui| {
            ui.set_max_width(360.0);
            ui.strong(&label);
            let prompt = super::viewer::image_request(record, image)
                .map(|r| r.prompt)
                .unwrap_or_default();
            let first: String = prompt
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect();
            if !first.is_empty() {
                ui.label(first);
            }
            ui.weak(format!(
                "Seed {} · {}×{}\n{}",
                image.seed,
                image.width,
                image.height,
                path.display()
            ));
            if let Some(text) = &missing {
                ui.colored_label(ui.visuals().warn_fg_color, text);
            }
            ui.weak("Double-click: viewer · Ctrl+click: mark for Compare · 1–5, 0, F: rate");
        });
        let command_key = ui.input(|i| i.modifiers.command);
        if response.double_clicked() {
            commands.push(Command::OpenImage {
                job_id: record.job_id.clone(),
                index: item.image as usize,
            });
        } else if response.clicked() {
            let this = ImageRef {
                job_id: record.job_id.clone(),
                sha256: image.sha256.clone(),
            };
            if command_key {
                toggle(&mut self.marked, this.clone());
            }
            self.set_cursor(index, this, commands);
        }
        // Rating keys on the hovered image when the grid does not have the focus.
        if response.hovered()
            && !ui.memory(|m| m.has_focus(focus_id()) || m.top_modal_layer().is_some())
            && let Some(change) = super::viewer::rating_key(ui.ctx())
        {
            commands.push(Command::RateImage {
                job_id: record.job_id.clone(),
                sha256: image.sha256.clone(),
                change,
            });
        }
        response.clicked()
    }

    /// Opens Compare on the marked images.
    fn compare_command(&self) -> Command {
        Command::Compare(
            self.marked
                .iter()
                .map(|m| CompareItem::image(m.job_id.clone(), m.sha256.clone()))
                .collect(),
        )
    }

    /// Moves the cursor `by` images (within the Gallery); returns the image now under it: its
    /// job and its index in the job (the viewer opened from the Gallery steps with this).
    pub fn step(&mut self, by: isize, store: &HistoryStore) -> Option<(String, usize)> {
        let count = self.items.len();
        if count == 0 {
            return None;
        }
        let from = self.cursor_index.unwrap_or(0) as isize;
        let to = (from + by).clamp(0, count as isize - 1) as usize;
        let item = self.items[to];
        let image = item_ref(store.records(), item)?;
        self.cursor_index = Some(to);
        self.scroll_to = Some(to);
        let job = image.job_id.clone();
        self.cursor = Some(image);
        Some((job, item.image as usize))
    }

    /// Puts the cursor on item `index` and selects its job.
    fn set_cursor(&mut self, index: usize, image: ImageRef, commands: &mut CommandQueue) {
        if self.cursor.as_ref().map(|c| &c.job_id) != Some(&image.job_id) {
            commands.push(Command::SelectJob(Some(image.job_id.clone())));
            commands.push(Command::ShowInTable(image.job_id.clone()));
        }
        self.cursor = Some(image);
        self.cursor_index = Some(index);
    }

    /// The keys of a focused grid.
    fn handle_keys(
        &mut self,
        ui: &mut egui::Ui,
        store: &HistoryStore,
        commands: &mut CommandQueue,
    ) {
        // Nothing behind a modal (the viewer) or while typing.
        if !ui.memory(|m| m.has_focus(focus_id()))
            || ui.ctx().text_edit_focused()
            || ui.memory(|m| m.top_modal_layer().is_some())
        {
            return;
        }
        let records = store.records();
        let count = self.items.len();
        let columns = self.columns.max(1) as isize;
        let page = (self.page_rows.max(1) as isize) * columns;
        let moves = [
            (Key::ArrowRight, 1),
            (Key::ArrowLeft, -1),
            (Key::ArrowDown, columns),
            (Key::ArrowUp, -columns),
            (Key::PageDown, page),
            (Key::PageUp, -page),
        ];
        let mut target = None;
        ui.input_mut(|i| {
            for (key, by) in moves {
                if i.consume_key(Modifiers::NONE, key) {
                    let from = self.cursor_index.map_or(-1, |c| c as isize);
                    let to = if from < 0 { 0 } else { from + by };
                    target = Some(to.clamp(0, count as isize - 1) as usize);
                }
            }
            if i.consume_key(Modifiers::NONE, Key::Home) {
                target = Some(0);
            }
            if i.consume_key(Modifiers::NONE, Key::End) {
                target = Some(count - 1);
            }
        });
        if let Some(to) = target
            && let Some(image) = item_ref(records, self.items[to])
        {
            self.set_cursor(to, image, commands);
            self.scroll_to = Some(to);
        }
        let Some(cursor) = self.cursor_index.filter(|c| *c < count) else {
            return;
        };
        let item = self.items[cursor];
        let Some(this) = item_ref(records, item) else {
            return;
        };
        let (enter, space, escape, compare) = ui.input_mut(|i| {
            (
                i.consume_key(Modifiers::NONE, Key::Enter),
                i.consume_key(Modifiers::NONE, Key::Space),
                i.consume_key(Modifiers::NONE, Key::Escape),
                i.consume_key(Modifiers::NONE, Key::C),
            )
        });
        if compare && self.marked.len() >= 2 {
            commands.push(self.compare_command());
        }
        if enter {
            commands.push(Command::OpenImage {
                job_id: this.job_id.clone(),
                index: item.image as usize,
            });
        }
        if space {
            toggle(&mut self.marked, this.clone());
        }
        if escape {
            self.marked.clear();
        }
        if let Some(change) = super::viewer::rating_key(ui.ctx()) {
            commands.push(Command::RateImage {
                job_id: this.job_id,
                sha256: this.sha256,
                change,
            });
        }
    }
}

fn toggle(marked: &mut Vec<ImageRef>, image: ImageRef) {
    if let Some(at) = marked.iter().position(|m| *m == image) {
        marked.remove(at);
    } else {
        marked.push(image);
    }
}

fn image_of(records: &[JobRecord], item: Item) -> Option<&OutputImage> {
    records
        .get(item.record as usize)?
        .result
        .as_ref()?
        .images
        .get(item.image as usize)
}

fn item_ref(records: &[JobRecord], item: Item) -> Option<ImageRef> {
    let record = records.get(item.record as usize)?;
    let image = image_of(records, item)?;
    Some(ImageRef {
        job_id: record.job_id.clone(),
        sha256: image.sha256.clone(),
    })
}
