//! The Compare window (issue 13): jobs or images side by side, and under them a table of
//! only the fields that differ among them ([`crate::compare`]): prompt tokens not every item
//! has are highlighted; "N fields are the same", and "Show all fields" shows those too.
//!
//! Its items are the compare tray: the details panel's and the viewer's "Add to compare"
//! (or [`ADD_TO_COMPARE`], Ctrl+Shift+C) push a [`Command::AddToCompare`]; any view with a
//! selection of its own pushes [`Command::Compare`], which replaces the items. Each column
//! has a Remove button. Images are decoded off the UI thread by the window's own
//! [`ImageCache`]; a file that cannot be read shows its path. Esc closes the window.
//!
//! [`ADD_TO_COMPARE`]: super::shortcuts::ADD_TO_COMPARE

use super::commands::{Command, CommandQueue};
use super::state::{ViewContext, short_id};
use super::viewer::{ImageCache, SizedImage, image_path};
use crate::compare::{Cell, CompareInput, Comparison, Row, compare};
use crate::job_record::JobRecord;
use crate::outputs::OutputImage;
use egui::text::LayoutJob;
use egui::{Key, Modifiers, RichText, TextFormat};

/// One thing in the compare tray: a job, or one of its images (by its sha256).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompareItem {
    pub job_id: String,
    pub sha256: Option<String>,
}

impl CompareItem {
    pub fn job(job_id: impl Into<String>) -> CompareItem {
        CompareItem {
            job_id: job_id.into(),
            sha256: None,
        }
    }

    pub fn image(job_id: impl Into<String>, sha256: impl Into<String>) -> CompareItem {
        CompareItem {
            job_id: job_id.into(),
            sha256: Some(sha256.into()),
        }
    }
}

/// Columns up to this many share the window's width; more scroll sideways.
const FIT_COLUMNS: usize = 4;
/// A column's width when they scroll, and the narrowest a shared one gets.
const COLUMN_WIDTH: f32 = 240.0;
/// The widest a column gets.
const MAX_COLUMN_WIDTH: f32 = 480.0;
/// The width of the field-name column.
const NAME_WIDTH: f32 = 110.0;

/// One column: the record (a copy) and which image.
struct Column {
    item: CompareItem,
    record: JobRecord,
    /// The item's image index in `result.images` (None: the job as a whole).
    image: Option<usize>,
}

/// What the window shows, worked out once per items and history generation.
struct Computed {
    generation: u64,
    items: Vec<CompareItem>,
    columns: Vec<Column>,
    /// Items no longer in the history (or whose image is gone).
    gone: Vec<CompareItem>,
    comparison: Comparison,
}

/// The Compare window's state: the tray and whether the window is open.
#[derive(Default)]
pub struct CompareWindow {
    pub open: bool,
    /// The compare tray, in the order added.
    pub items: Vec<CompareItem>,
    /// Show the fields that are the same too.
    pub show_all: bool,
    cache: ImageCache,
    computed: Option<Computed>,
}

impl std::fmt::Debug for CompareWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompareWindow")
            .field("open", &self.open)
            .field("items", &self.items)
            .finish()
    }
}

impl CompareWindow {
    /// Opens the window on `items` (replacing the tray; repeats dropped).
    pub fn replace(&mut self, items: Vec<CompareItem>) {
        self.items.clear();
        for item in items {
            if !self.items.contains(&item) {
                self.items.push(item);
            }
        }
        self.open = true;
    }

    /// Adds `item` to the tray (false when it is there already) and opens the window.
    pub fn add(&mut self, item: CompareItem) -> bool {
        self.open = true;
        if self.items.contains(&item) {
            return false;
        }
        self.items.push(item);
        true
    }

    /// The comparison shown (None before the window was first drawn with its items).
    pub fn comparison(&self) -> Option<&Comparison> {
        self.computed.as_ref().map(|c| &c.comparison)
    }

    /// Brings the columns and the comparison up to date with the tray and the history.
    fn refresh(&mut self, view: &ViewContext<'_>) {
        let Some(store) = view.store.and_then(|s| s.read().ok()) else {
            return;
        };
        let generation = store.generation();
        if self
            .computed
            .as_ref()
            .is_some_and(|c| c.generation == generation && c.items == self.items)
        {
            return;
        }
        let mut columns = Vec::new();
        let mut gone = Vec::new();
        for item in &self.items {
            let Some(record) = store.get(&item.job_id) else {
                gone.push(item.clone());
                continue;
            };
            let image = match &item.sha256 {
                None => None,
                Some(sha) => {
                    let at = record
                        .result
                        .as_ref()
                        .and_then(|r| r.images.iter().position(|i| &i.sha256 == sha));
                    if at.is_none() {
                        gone.push(item.clone());
                        continue;
                    }
                    at
                }
            };
            columns.push(Column {
                item: item.clone(),
                record: record.clone(),
                image,
            });
        }
        drop(store);
        let inputs: Vec<CompareInput<'_>> = columns
            .iter()
            .map(|c| CompareInput {
                record: &c.record,
                image: c.image,
            })
            .collect();
        let comparison = compare(&inputs);
        self.computed = Some(Computed {
            generation,
            items: self.items.clone(),
            columns,
            gone,
            comparison,
        });
    }

    /// Draws the window when it is open (before the panels: Esc closes it, and the panels
    /// behind it must not see that key).
    pub fn show(
        &mut self,
        view: &ViewContext<'_>,
        ctx: &egui::Context,
        commands: &mut CommandQueue,
    ) {
        if !self.open {
            return;
        }
        if !ctx.text_edit_focused()
            && ctx.memory(|m| m.top_modal_layer().is_none())
            && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape))
        {
            self.open = false;
            return;
        }
        self.refresh(view);
        self.cache.poll(ctx);
        let screen = ctx.content_rect();
        let mut open = true;
        let mut remove = None;
        let mut clear = false;
        egui::Window::new("Compare")
            .open(&mut open)
            .default_size([
                (screen.width() - 120.0).clamp(320.0, 1200.0),
                (screen.height() - 120.0).clamp(240.0, 800.0),
            ])
            .resizable(true)
            .collapsible(false)
            .vscroll(false)
            .show(ctx, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(crate::wording::plural(self.items.len(), "item"));
                    ui.checkbox(&mut self.show_all, "Show all fields");
                    if !self.items.is_empty() && ui.button("Clear").clicked() {
                        clear = true;
                    }
                    ui.weak(format!(
                        "Add to compare ({}) in a job's details or the image viewer adds more. Esc closes.",
                        super::shortcuts::keys_text(&super::shortcuts::ADD_TO_COMPARE)
                    ));
                });
                let Some(computed) = &self.computed else {
                    ui.label("Loading the history…");
                    return;
                };
                for item in &computed.gone {
                    ui.horizontal(|ui| {
                        ui.colored_label(
                            ui.visuals().warn_fg_color,
                            format!(
                                "Job {}{} is no longer in the history.",
                                short_id(&item.job_id),
                                if item.sha256.is_some() { " (its image)" } else { "" }
                            ),
                        );
                        if ui.small_button("Remove").clicked() {
                            remove = Some(item.clone());
                        }
                    });
                }
                if computed.columns.len() < 2 {
                    ui.label(
                        "Add at least two jobs or images to compare: select a job and press Add to compare.",
                    );
                }
                ui.separator();
                let n = computed.columns.len().max(1);
                let room = ui.available_width() - NAME_WIDTH - 12.0 * n as f32;
                let width = if n > FIT_COLUMNS {
                    COLUMN_WIDTH
                } else {
                    (room / n as f32).clamp(COLUMN_WIDTH, MAX_COLUMN_WIDTH)
                };
                // The images take at most half the height: the differences stay in view.
                let image_height = (ui.available_height() * 0.5).max(120.0);
                egui::ScrollArea::both()
                    .id_salt("compare_scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        images_row(
                            ui,
                            &mut self.cache,
                            view,
                            &computed.columns,
                            egui::vec2(width, image_height),
                            &mut remove,
                            commands,
                        );
                        if computed.columns.len() >= 2 {
                            ui.separator();
                            table(ui, &computed.comparison, self.show_all, width);
                        }
                    });
            });
        if !open {
            self.open = false;
        }
        if clear {
            self.items.clear();
        }
        if let Some(item) = remove {
            self.items.retain(|i| i != &item);
        }
    }
}

/// The image a column shows: its own, or the job's first.
fn shown_image(column: &Column) -> Option<(usize, &OutputImage)> {
    let images = &column.record.result.as_ref()?.images;
    let at = column.image.unwrap_or(0);
    images.get(at).map(|i| (at, i))
}

/// A row of cells: the field name, then `count` cells of `width`, side by side.
fn row_of(
    ui: &mut egui::Ui,
    width: f32,
    count: usize,
    name: impl FnOnce(&mut egui::Ui),
    mut cell: impl FnMut(&mut egui::Ui, usize),
) {
    ui.horizontal_top(|ui| {
        ui.allocate_ui_with_layout(
            egui::vec2(NAME_WIDTH, 0.0),
            egui::Layout::top_down(egui::Align::Min),
            |ui| {
                ui.set_width(NAME_WIDTH);
                name(ui);
            },
        );
        for i in 0..count {
            ui.allocate_ui_with_layout(
                egui::vec2(width, 0.0),
                egui::Layout::top_down(egui::Align::Min),
                |ui| {
                    ui.set_width(width);
                    cell(ui, i);
                },
            );
        }
    });
}

/// The images side by side, fitted to the column width, each with its caption (job, seed,
/// stars) and a Remove button.
fn images_row(
    ui: &mut egui::Ui,
    cache: &mut ImageCache,
    view: &ViewContext<'_>,
    columns: &[Column],
    room: egui::Vec2,
    remove: &mut Option<CompareItem>,
    commands: &mut CommandQueue,
) {
    let width = room.x;
    // Decoded at one of two sizes, so resizing the window does not decode again.
    let max = if width <= 256.0 { 256 } else { 512 };
    row_of(
        ui,
        width,
        columns.len(),
        |ui| {
            ui.strong("Image");
        },
        |ui, i| {
            column_head(ui, cache, view, &columns[i], room, max, remove, commands);
        },
    );
}

/// One column's image, caption and Remove button.
#[allow(clippy::too_many_arguments)]
fn column_head(
    ui: &mut egui::Ui,
    cache: &mut ImageCache,
    view: &ViewContext<'_>,
    column: &Column,
    room: egui::Vec2,
    max: u32,
    remove: &mut Option<CompareItem>,
    commands: &mut CommandQueue,
) {
    match shown_image(column) {
        Some((_, image)) => {
            let path = image_path(view.data_dir, image);
            match cache.sized(ui.ctx(), image, &path, max) {
                SizedImage::Ready(texture) => {
                    let size = texture.size_vec2();
                    let scale = (room.x / size.x).min(room.y / size.y);
                    ui.add(egui::Image::new((texture.id(), size * scale)));
                }
                SizedImage::Loading => {
                    ui.allocate_ui(egui::vec2(room.x, room.y.min(room.x * 0.5)), |ui| {
                        ui.weak("Loading the image…");
                    });
                }
                SizedImage::Failed(why) => {
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!("Not found: {}", path.display()))
                                .color(ui.visuals().warn_fg_color),
                        )
                        .wrap(),
                    )
                    .on_hover_text(why.to_owned());
                }
            }
        }
        None => {
            ui.weak("No image");
        }
    }
    let input = CompareInput {
        record: &column.record,
        image: column.image,
    };
    let mut title = format!("Job {}", short_id(&column.record.job_id));
    let count = column.record.result.as_ref().map_or(0, |r| r.images.len());
    match column.image {
        Some(i) => title.push_str(&format!(" · image {} of {count}", i + 1)),
        None if count > 1 => title.push_str(&format!(" · {count} images (the first shown)")),
        None => {}
    }
    if ui
        .link(RichText::new(title).strong())
        .on_hover_text("Select this job (its details open on the right)")
        .clicked()
    {
        commands.push(Command::SelectJob(Some(column.record.job_id.clone())));
    }
    let (rating, favorite) = input.rating();
    ui.label(format!(
        "Seed {} · {}",
        crate::compare::seed_text(input.seed()),
        super::viewer::stars_text(rating) + if favorite { " ♥" } else { "" }
    ));
    if ui
        .small_button("Remove")
        .on_hover_text("Remove from the comparison")
        .clicked()
    {
        *remove = Some(column.item.clone());
    }
}

/// The diff table: a row per differing field (every field with `show_all`), a cell per item,
/// and how many fields are the same.
fn table(ui: &mut egui::Ui, comparison: &Comparison, show_all: bool, width: f32) {
    let same = comparison.same_count();
    if comparison.rows.is_empty() {
        ui.label("Every field is the same.");
    } else if same > 0 {
        let text = if same == 1 {
            "1 field is the same".to_owned()
        } else {
            format!("{same} fields are the same")
        };
        ui.weak(if show_all {
            text
        } else {
            format!("{text} (Show all fields shows them)")
        });
    }
    let rows: Vec<&Row> = if show_all {
        comparison.all_rows()
    } else {
        comparison.rows.iter().collect()
    };
    for row in rows {
        let differs = comparison.rows.iter().any(|r| r.field == row.field);
        row_of(
            ui,
            width,
            row.cells.len(),
            |ui| {
                let name = RichText::new(row.field.label());
                if differs {
                    ui.strong(name);
                } else {
                    ui.weak(name);
                }
            },
            |ui, i| cell_ui(ui, &row.cells[i], differs),
        );
        ui.separator();
    }
}

/// One cell: text, or a prompt's tokens with those not every item has highlighted (and
/// named under it).
fn cell_ui(ui: &mut egui::Ui, cell: &Cell, differs: bool) {
    match cell {
        Cell::Text(text) => {
            let text = RichText::new(text).monospace();
            ui.add(egui::Label::new(if differs { text } else { text.weak() }).wrap());
        }
        Cell::Tokens(tokens) if tokens.is_empty() => {
            ui.weak(crate::compare::ABSENT);
        }
        Cell::Tokens(tokens) => {
            let visuals = ui.visuals();
            let font = egui::FontId::monospace(12.5);
            let common = TextFormat {
                font_id: font.clone(),
                color: visuals.weak_text_color(),
                ..Default::default()
            };
            let strong = TextFormat {
                font_id: font,
                color: visuals.strong_text_color(),
                background: visuals.selection.bg_fill.gamma_multiply(0.6),
                ..Default::default()
            };
            let mut job = LayoutJob::default();
            job.wrap.max_width = ui.available_width();
            for token in tokens {
                job.append(token.sep, 0.0, common.clone());
                let format = if token.in_all { &common } else { &strong };
                job.append(&token.text, 0.0, format.clone());
            }
            ui.label(job);
            let only: Vec<&str> = cell.differing_tokens();
            if !only.is_empty() {
                ui.label(
                    RichText::new(format!("Not in all: {}", only.join(", ")))
                        .small()
                        .color(ui.visuals().warn_fg_color),
                );
            }
        }
    }
}
