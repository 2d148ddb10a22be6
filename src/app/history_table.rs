//! The history (bottom, resizable): filter bar, a virtualised table that only lays out the
//! visible rows, and a footer. Rows come from the cached query in [`HistoryView`]; nothing
//! here is O(number of records), and a row's cells borrow from the record (no copy of its
//! prompts).
//!
//! The filter is bound directly; sorting, selecting a row and scrolling to a new job are
//! commands.

mod banners;
mod keys;

use super::commands::{Command, CommandQueue};
use super::state::{Damage, ViewContext, short_id, testing_pub_struct};
use super::thumb_textures::{ThumbState, ThumbTextures};
use super::widgets::{self, plural};
use crate::history::{HistoryFilter, SortColumn, first_prompt_line};
use crate::job_record::{JobRecord, JobStatus};
use crate::packs::escape_control;
use crate::run_config::PromptSource;
use egui::RichText;
use egui_extras::{Column, TableBuilder};

testing_pub_struct! {
    /// The history table's view: filter, sort, the cached rows they give, and the selected
    /// job.
    #[derive(Debug, Default)]
    pub struct HistoryView {
        filter: HistoryFilter,
        sort_column: SortColumn,
        sort_descending: bool,
        /// Indices into the store's records, in display order.
        rows: Vec<u32>,
        /// The (filter, sort, store generation) `rows` was computed for.
        rows_key: Option<(HistoryFilter, SortColumn, bool, u64)>,
        selected: Option<String>,
        /// A job the table should scroll to once its row is there (a new submission).
        scroll_to: Option<String>,
        /// Deleted records, oldest first: each Undo restores the last one.
        last_deleted: Vec<JobRecord>,
        /// `rows` are the newest-first rows shown while a large history streams in (replaced
        /// by the query's once it is loaded).
        rows_provisional: bool,
        /// Every pack id the history names (scanned in the background when the history
        /// changes), offered by the Pack filter beside the packs in the folder.
        history_packs: Vec<String>,
        /// The damage whose banner the user dismissed (it shows again when the damage changes).
        dismissed_damage: Option<Damage>,
        /// A job just recorded that the filters hide, and the filter that hid it (the notice
        /// goes when the filter changes).
        hidden_job: Option<(String, HistoryFilter)>,
        /// The keyboard cursor: the row last selected (kept when the selection goes, so Down
        /// after a delete selects the row that took its place).
        cursor_row: Option<usize>,
        /// How many rows the table shows at once (PageUp/PageDown move by this).
        page_rows: usize,
        /// The rows last searched for `scroll_to` without finding it: they are searched again
        /// only once they change (not every frame while a query runs on a large history).
        follow_searched: Option<RowsStamp>,
        /// How many times the rows were searched for a job to scroll to (tests check that an
        /// unchanged set of rows is searched once).
        follow_searches: usize,
        /// The thumbnail column is shown (the footer's switch).
        show_thumbs: bool,
    }
}

/// What identifies one set of rows: the job looked for, the (filter, sort, store generation)
/// they were computed for, whether they are the provisional ones of a loading history, and
/// how many there are.
pub type RowsStamp = (
    String,
    Option<(HistoryFilter, SortColumn, bool, u64)>,
    bool,
    usize,
);

const COLUMNS: &[(SortColumn, &str)] = &[
    (SortColumn::Time, "Time"),
    (SortColumn::Source, "Source"),
    (SortColumn::Pack, "Pack"),
    (SortColumn::Keys, "Keys"),
    (SortColumn::Prompt, "Prompt"),
    (SortColumn::Model, "Model"),
    (SortColumn::Steps, "Steps"),
    (SortColumn::Cfg, "CFG"),
    (SortColumn::Seed, "Seed"),
    (SortColumn::Status, "Status"),
    (SortColumn::Rating, "Rating"),
    (SortColumn::ConfigHash, "Config hash"),
];

/// The number of columns (the thumbnail column, when shown, comes before them).
const NCOLS: usize = 12;
/// The thumbnail column's size (and the row height while it is shown).
pub const ROW_THUMB: f32 = 44.0;

/// The table keeps at least its header and this many rows when the panel has room for them;
/// the banners above it scroll rather than push them out.
const MIN_TABLE_ROWS: f32 = 3.0;

impl HistoryView {
    /// Draws the history into `ui`, filling it and never more: the footer sits on the panel's
    /// bottom edge, the table takes what is between it and the filter bar (at least a header
    /// and [`MIN_TABLE_ROWS`] rows when the panel has that room), and the banners above get
    /// the rest, scrolling when they need more. So the panel's size changes only when the user
    /// drags its edge, and nothing is drawn below the window.
    pub fn show(&mut self, ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        self.show_with(ctx, ui, commands, None);
    }

    /// [`HistoryView::show`], with the textures for the thumbnail column (without them, the
    /// column is not drawn even when switched on).
    pub fn show_with(
        &mut self,
        ctx: &ViewContext<'_>,
        ui: &mut egui::Ui,
        commands: &mut CommandQueue,
        thumbs: Option<&mut ThumbTextures>,
    ) {
        let panel = ui.available_rect_before_wrap();
        ui.add_space(4.0);
        let banner_room = (ui.available_height() - below_banners_height(ui)).max(0.0);
        egui::ScrollArea::vertical()
            .id_salt("history_banners")
            .max_height(banner_room)
            .min_scrolled_height(banner_room.min(64.0))
            .auto_shrink([false, true])
            .show(ui, |ui| banners::show(self, ctx, ui, banner_room));
        let filter_top = ui.cursor().top();
        filter_bar(self, ctx, ui);
        ui.separator();
        let filter_height = ui.cursor().top() - filter_top;
        ui.data_mut(|d| d.insert_temp(filter_bar_id(ui), filter_height));
        let (table_rect, footer_rect) = table_and_footer_rects(ui, panel.bottom());
        let mut table_ui = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(table_rect)
                .layout(egui::Layout::top_down(egui::Align::Min)),
        );
        table_ui.shrink_clip_rect(table_rect);
        let row_clicked = table_area(self, ctx, &mut table_ui, commands, thumbs);
        keys::focus_target(&mut table_ui, table_rect);
        if row_clicked {
            // After the focus target is registered: a click elsewhere than on a widget
            // surrenders its focus when it registers.
            keys::take_focus(&table_ui);
        }
        let mut footer_ui = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(footer_rect)
                .layout(egui::Layout::left_to_right(egui::Align::Center)),
        );
        footer_ui.shrink_clip_rect(footer_rect);
        footer(self, ctx, &mut footer_ui);
        ui.advance_cursor_after_rect(table_rect.union(footer_rect));
    }
}

/// The height of a table row.
fn row_height(ui: &egui::Ui) -> f32 {
    ui.text_style_height(&egui::TextStyle::Body) + 6.0
}

/// Where the height the filter bar and its separator took last frame is kept.
fn filter_bar_id(ui: &egui::Ui) -> egui::Id {
    ui.scope_id().with("history_filter_bar_height")
}

/// What the panel needs below the banners: the filter bar and its separator (as measured
/// last frame), the table's header and [`MIN_TABLE_ROWS`] rows, and the footer.
fn below_banners_height(ui: &egui::Ui) -> f32 {
    let line = ui.spacing().interact_size.y;
    let gap = ui.spacing().item_spacing.y;
    let filter_bar: f32 = ui
        .data(|d| d.get_temp(filter_bar_id(ui)))
        .unwrap_or(2.0 * line + 2.0 * gap);
    let table = row_height(ui) + 2.0 + MIN_TABLE_ROWS * row_height(ui) + 2.0 * gap;
    let footer = line + gap;
    gap + filter_bar + table + footer
}

/// Splits what is left of `ui` down to `bottom` (the panel's bottom edge) into the table's
/// rect and the footer's (one line on the bottom edge). The table gets what the footer leaves,
/// down to nothing in a panel too small for it: nothing is ever placed below `bottom`.
fn table_and_footer_rects(ui: &egui::Ui, bottom: f32) -> (egui::Rect, egui::Rect) {
    let rest = ui.available_rect_before_wrap();
    let footer_height = ui.spacing().interact_size.y;
    let gap = ui.spacing().item_spacing.y;
    let footer_top = (bottom - footer_height).max(rest.min.y);
    let table_bottom = (footer_top - gap).max(rest.min.y);
    let table = egui::Rect::from_min_max(rest.min, egui::pos2(rest.max.x, table_bottom));
    let footer = egui::Rect::from_min_max(
        egui::pos2(rest.min.x, footer_top),
        egui::pos2(rest.max.x, footer_top + footer_height),
    );
    (table, footer)
}

/// The filter bar: one line; in a panel too narrow for all of it, it scrolls sideways (so it
/// never takes the table's height). Source MANUAL keeps the Pack and Key filters but
/// disables them: the query ignores them for manual jobs (see [`HistoryFilter`]), and they
/// apply again when Source goes back to All or PACK.
fn filter_bar(view: &mut HistoryView, ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    let packs = ctx.packs;
    let busy = ctx.query_busy;
    let provisional = ctx.rows_provisional;
    let history_packs = &view.history_packs;
    let filter = &mut view.filter;
    // A narrow panel gets narrower fields, so more of the bar is in view.
    let narrow = ui.available_width() < 900.0;
    let (search_width, pack_width) = if narrow {
        (110.0, 100.0)
    } else {
        (170.0, 130.0)
    };
    egui::ScrollArea::horizontal()
        .id_salt("history_filter_bar")
        .auto_shrink([false, true])
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("History");
                ui.add_space(8.0);
                search_field(filter, search_width, ui);
                source_combo(filter, ui);
                let manual = filter.source == Some(PromptSource::Manual);
                let why = "Manual jobs have no pack and no keys: this filter applies when Source is All or PACK.";
                ui.add_enabled_ui(!manual, |ui| {
                    pack_combo(filter, packs, history_packs, pack_width, ui)
                        .on_disabled_hover_text(why);
                    key_field(filter, ui).on_disabled_hover_text(why);
                });
                status_combo(filter, ui);
                rating_filter(filter, ui);
                if !filter.is_empty() && ui.button("Clear filters").clicked() {
                    *filter = Default::default();
                }
                if busy {
                    ui.spinner();
                }
                if provisional {
                    ui.weak("Newest first while loading; filters and sorting apply when it is done.");
                }
            });
        });
}

fn search_field(filter: &mut HistoryFilter, width: f32, ui: &mut egui::Ui) {
    let label = ui.label("Search history");
    let search = ui
        .add(
            egui::TextEdit::singleline(&mut filter.text)
                .hint_text("prompt, pack, key, model, id (Ctrl+F)")
                .desired_width(width),
        )
        .labelled_by(label.id);
    if ui.input_mut(|i| {
        i.consume_shortcut(&egui::KeyboardShortcut::new(
            egui::Modifiers::COMMAND,
            egui::Key::F,
        ))
    }) {
        search.request_focus();
    }
}

fn source_combo(filter: &mut HistoryFilter, ui: &mut egui::Ui) {
    let label = ui.label("Source");
    egui::ComboBox::from_id_salt("filter_source")
        .selected_text(match filter.source {
            None => "All",
            Some(PromptSource::Pack) => "PACK",
            Some(PromptSource::Manual) => "MANUAL",
        })
        .width(80.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut filter.source, None, "All");
            ui.selectable_value(&mut filter.source, Some(PromptSource::Pack), "PACK");
            ui.selectable_value(&mut filter.source, Some(PromptSource::Manual), "MANUAL");
        })
        .response
        .labelled_by(label.id);
}

/// The Pack filter: every pack id in the history and in the packs folder (ids only in the
/// history are shown dimmed).
fn pack_combo(
    filter: &mut HistoryFilter,
    packs: &[crate::packs::PromptPack],
    history_packs: &[String],
    width: f32,
    ui: &mut egui::Ui,
) -> egui::Response {
    let label = ui.label("Pack");
    egui::ComboBox::from_id_salt("filter_pack")
        .selected_text(filter.pack.as_deref().map_or("All".into(), escape_control))
        .width(width)
        .height(400.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut filter.pack, None, "All");
            let folder: Vec<&str> = packs.iter().map(|p| p.id.as_str()).collect();
            for id in pack_choices(&folder, history_packs, filter.pack.as_deref()) {
                let mut text = RichText::new(escape_control(&id));
                let in_folder = folder.contains(&id.as_str());
                if !in_folder {
                    text = text.weak();
                }
                let response = ui.selectable_value(&mut filter.pack, Some(id), text);
                if !in_folder {
                    response.on_hover_text("In the history; not in the packs folder now");
                }
            }
        })
        .response
        .labelled_by(label.id)
}

/// The Pack filter's choices: the packs in the folder, the pack ids of the history and the
/// current choice, once each, sorted case-insensitively.
pub(crate) fn pack_choices(
    folder: &[&str],
    history: &[String],
    current: Option<&str>,
) -> Vec<String> {
    let mut ids: Vec<String> = folder
        .iter()
        .copied()
        .chain(history.iter().map(String::as_str))
        .chain(current)
        .map(str::to_owned)
        .collect();
    ids.sort_by(|a, b| {
        a.to_lowercase()
            .cmp(&b.to_lowercase())
            .then_with(|| a.cmp(b))
    });
    ids.dedup();
    ids
}

fn key_field(filter: &mut HistoryFilter, ui: &mut egui::Ui) -> egui::Response {
    let label = ui.label("Key");
    let mut key = filter.key.clone().unwrap_or_default();
    let response = ui
        .add(
            egui::TextEdit::singleline(&mut key)
                .hint_text("any")
                .desired_width(40.0),
        )
        .labelled_by(label.id);
    if response.changed() {
        filter.key = (!key.trim().is_empty()).then(|| key.trim().to_owned());
    }
    response
}

fn status_combo(filter: &mut HistoryFilter, ui: &mut egui::Ui) {
    let label = ui.label("Status");
    egui::ComboBox::from_id_salt("filter_status")
        .selected_text(filter.status.map_or("All", JobStatus::as_str))
        .width(90.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut filter.status, None, "All");
            for status in JobStatus::ALL {
                ui.selectable_value(&mut filter.status, Some(status), status.as_str());
            }
        })
        .response
        .labelled_by(label.id);
}

/// The rating filters: a job rated at least N stars (its best image's), a job with a
/// favourite image.
fn rating_filter(filter: &mut HistoryFilter, ui: &mut egui::Ui) {
    // Compact (a star for a label): the bar keeps room for Clear filters.
    let label = ui
        .label("★")
        .on_hover_text("Rating: jobs rated at least N stars");
    let shown = match filter.min_rating.filter(|n| *n > 0) {
        None => "Any".to_owned(),
        Some(n) => format!("{n}+"),
    };
    egui::ComboBox::from_id_salt("filter_rating")
        .selected_text(shown)
        .width(44.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut filter.min_rating, None, "Any");
            for n in 1..=5u8 {
                ui.selectable_value(
                    &mut filter.min_rating,
                    Some(n),
                    format!("at least {n} {}", "★".repeat(n as usize)),
                );
            }
        })
        .response
        .labelled_by(label.id);
    ui.checkbox(&mut filter.favorites_only, "♥")
        .on_hover_text("Only jobs with an image marked favourite (F)");
}

/// The table, or what to say instead of an empty one; handles the keyboard and follows a new
/// job. True when a row was clicked.
fn table_area(
    view: &mut HistoryView,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
    thumbs: Option<&mut ThumbTextures>,
) -> bool {
    let Some(store) = ctx.store else {
        return false;
    };
    let Ok(store) = store.read() else {
        return false;
    };
    let records = store.records();
    let mut scroll = follow_new_job(view, ctx, &store, commands);
    if empty_state(view, ctx, records.len(), ui) {
        return false;
    }
    scroll = keys::handle(view, ui, records, commands).or(scroll);
    let thumbs = thumbs
        .filter(|_| view.show_thumbs)
        .map(|t| (t, ctx.data_dir));
    table(view, ui, records, scroll, commands, thumbs)
}

/// Says why there are no rows (no jobs yet, or filters that match none) and returns true;
/// false when there are rows (or they are still being computed).
fn empty_state(
    view: &mut HistoryView,
    ctx: &ViewContext<'_>,
    total: usize,
    ui: &mut egui::Ui,
) -> bool {
    let no_jobs = total == 0 && ctx.history.loading.is_none();
    let none_match = total > 0 && view.rows.is_empty() && ctx.rows_current;
    if !no_jobs && !none_match {
        return false;
    }
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() / 3.0 - 20.0).max(4.0));
        if no_jobs {
            ui.label(RichText::new("No jobs yet: check a prompt and press Submit.").strong());
            ui.weak(
                "Select a pack on the left and check its prompts, or switch to Manual and type one. Every job you submit is listed here.",
            );
        } else {
            ui.label(RichText::new("No rows match these filters.").strong());
            ui.weak(format!("{} in the history.", plural(total, "record")));
            if ui.button("Clear filters").clicked() {
                view.filter = Default::default();
            }
        }
    });
    true
}

/// Scrolls to a job just submitted once its row is there; when the filters hide it, says so
/// (a notice above the table). Returns the row to scroll to.
fn follow_new_job(
    view: &mut HistoryView,
    ctx: &ViewContext<'_>,
    store: &crate::history::HistoryStore,
    commands: &mut CommandQueue,
) -> Option<usize> {
    let target = view.scroll_to.clone()?;
    let records = store.records();
    let stamp = (
        target.clone(),
        view.rows_key.clone(),
        view.rows_provisional,
        view.rows.len(),
    );
    // These rows were searched already (the query for the next ones is still running).
    let row = if view.follow_searched.as_ref() == Some(&stamp) {
        None
    } else {
        view.follow_searches += 1;
        let row = view
            .rows
            .iter()
            .position(|&i| records.get(i as usize).is_some_and(|r| r.job_id == target));
        view.follow_searched = row.is_none().then_some(stamp);
        row
    };
    if let Some(row) = row {
        commands.push(Command::ScrolledToSelection);
        view.cursor_row = Some(row);
        return Some(row);
    }
    if ctx.rows_current {
        // Not among the rows of the current filter, sort and history: hidden by the filters.
        if store.get(&target).is_some() && !view.filter.is_empty() {
            view.hidden_job = Some((target, view.filter.clone()));
        }
        commands.push(Command::ScrolledToSelection);
    }
    None
}

/// The width a header needs to show its title and the sort arrow (whichever column is sorted:
/// a minimum that changed with the sort would leave columns wider each time).
fn header_width(ui: &egui::Ui, title: &str) -> f32 {
    let text = egui::WidgetText::from(RichText::new(format!("{title} ⬇")).strong());
    let galley = text.into_galley(
        ui,
        Some(egui::TextWrapMode::Extend),
        f32::INFINITY,
        egui::TextStyle::Button,
    );
    // A header is a frameless button: its text is all its width.
    galley.size().x + 4.0
}

/// The width of `text` in the body font.
fn text_width(ui: &egui::Ui, text: &str) -> f32 {
    egui::WidgetText::from(text)
        .into_galley(
            ui,
            Some(egui::TextWrapMode::Extend),
            f32::INFINITY,
            egui::TextStyle::Body,
        )
        .size()
        .x
}

/// The columns: (width when there is room, can be cut with "…"). Prompt (0 here) takes
/// what the others leave; see [`column_widths`].
const WIDTHS: [(f32, bool); NCOLS] = [
    (110.0, true), // Time
    (64.0, false), // Source
    (100.0, true), // Pack
    (60.0, true),  // Keys
    (0.0, true),   // Prompt (the rest)
    (100.0, true), // Model
    (48.0, false), // Steps
    (40.0, false), // CFG
    (64.0, true),  // Seed
    (70.0, false), // Status
    (80.0, false), // Rating
    (90.0, true),  // Config hash
];

/// The Prompt column's index in [`COLUMNS`].
const PROMPT_COLUMN: usize = 4;
/// The Prompt column (the one people read) keeps at least this width, or this share of the
/// table's width, before the other columns get more than their header's width.
const PROMPT_MIN: f32 = 180.0;
const PROMPT_SHARE: f32 = 0.35;

/// The width of each column in a table `available` wide, given each header's minimum
/// (`least`): the other columns get their width from [`WIDTHS`] when that leaves Prompt at
/// least its share; otherwise they narrow first (in proportion to what they have above their
/// minimum), down to their minimum; Prompt gets the rest. When the others are at their
/// minimum, Prompt's share gives way down to [`PROMPT_MIN`] before the table gets wider than
/// `available` (then it scrolls sideways).
pub fn column_widths(available: f32, least: &[f32; NCOLS]) -> [f32; NCOLS] {
    let prompt_min = least[PROMPT_COLUMN].max(PROMPT_MIN);
    let prompt_floor = prompt_min.max(available * PROMPT_SHARE);
    let mut widths = [0.0; NCOLS];
    for (i, ((ideal, _), min)) in WIDTHS.iter().zip(least).enumerate() {
        widths[i] = if i == PROMPT_COLUMN {
            0.0
        } else {
            ideal.max(*min)
        };
    }
    let ideal_total: f32 = widths.iter().sum();
    let slack: f32 = (0..widths.len())
        .filter(|&i| i != PROMPT_COLUMN)
        .map(|i| widths[i] - least[i])
        .sum();
    let over = ideal_total - (available - prompt_floor);
    if over > 0.0 {
        for (i, width) in widths.iter_mut().enumerate() {
            if i == PROMPT_COLUMN {
                continue;
            }
            let own = *width - least[i];
            *width -= if over >= slack || slack <= 0.0 {
                own
            } else {
                over * own / slack
            };
        }
    }
    let others: f32 = widths.iter().sum();
    widths[PROMPT_COLUMN] = (available - others).max(prompt_min);
    widths
}

fn table(
    view: &mut HistoryView,
    ui: &mut egui::Ui,
    records: &[JobRecord],
    scroll: Option<usize>,
    commands: &mut CommandQueue,
    mut thumbs: Option<(&mut ThumbTextures, &std::path::Path)>,
) -> bool {
    let selected = view.selected.as_deref();
    let (sort_column, descending) = (view.sort_column, view.sort_descending);
    let header_height = row_height(ui);
    let row_height = if thumbs.is_some() {
        header_height.max(ROW_THUMB + 4.0)
    } else {
        header_height
    };
    let thumb_width = if thumbs.is_some() { ROW_THUMB } else { 0.0 };
    view.page_rows = ((ui.available_height() / row_height) as usize)
        .saturating_sub(2)
        .max(1);
    // Clicks anywhere on a row select it, so the cells' labels must not take them.
    ui.style_mut().interaction.selectable_labels = false;
    let mut least: [f32; NCOLS] = std::array::from_fn(|i| header_width(ui, COLUMNS[i].1));
    // A time cut to "2026-…" says nothing: Time keeps the width of its text.
    least[0] = least[0].max(text_width(ui, "0000-00-00 00:00") + 4.0);
    // Status is not cut: it keeps the width of the longest status.
    let status = JobStatus::ALL.iter().map(|s| text_width(ui, s.as_str()));
    least[9] = least[9].max(status.fold(0.0, f32::max) + 4.0);
    // Rating is not cut: five stars and the heart.
    least[10] = least[10].max(text_width(ui, "★★★★★♥") + 4.0);
    let ncols = COLUMNS.len() + usize::from(thumbs.is_some());
    let spacing = ui.spacing().item_spacing.x * ncols as f32;
    let widths = column_widths(ui.available_width() - spacing - thumb_width, &least);
    // Fitted to the panel each frame (so they follow the window), not dragged.
    let thumb_column = thumbs.is_some().then(|| Column::exact(thumb_width));
    let columns: Vec<Column> = thumb_column
        .into_iter()
        .chain(
            widths
                .iter()
                .zip(WIDTHS)
                .map(|(&width, (_, clip))| Column::exact(width).clip(clip)),
        )
        .collect();
    let table_width = widths.iter().sum::<f32>() + spacing + thumb_width;
    let mut clicked = None;
    // Narrower than its columns (a small window): the table scrolls sideways.
    egui::ScrollArea::horizontal()
        .id_salt("history_hscroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            // The table lays its columns out in the width it is given: give it all of them.
            ui.set_max_width(table_width.max(ui.available_width()));
            let mut builder = TableBuilder::new(ui)
                .id_salt("history_table")
                .striped(true)
                .resizable(false)
                // Rows take clicks but not the focus: the table is one Tab stop (see `keys`).
                .sense(egui::Sense::CLICK)
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                .min_scrolled_height(0.0)
                .max_scroll_height(f32::INFINITY)
                .auto_shrink([false, false]);
            for column in columns {
                builder = builder.column(column);
            }
            if let Some(row) = scroll {
                builder = builder.scroll_to_row(row, None);
            }
            let rows = &view.rows;
            builder
                .header(header_height + 2.0, |mut header| {
                    if thumb_width > 0.0 {
                        header.col(|_| {});
                    }
                    headers(&mut header, sort_column, descending, commands);
                })
                .body(|body| {
                    body.rows(row_height, rows.len(), |mut row| {
                        let index = row.index();
                        let Some(record) = rows.get(index).and_then(|&i| records.get(i as usize))
                        else {
                            return;
                        };
                        row.set_selected(selected == Some(record.job_id.as_str()));
                        if let Some((thumbs, data_dir)) = thumbs.as_mut() {
                            row.col(|ui| thumbnail_cell(ui, record, thumbs, data_dir));
                        }
                        cells(&mut row, record);
                        if row.response().clicked() {
                            clicked = Some((index, record.job_id.clone()));
                        }
                    });
                });
        });
    let Some((index, job_id)) = clicked else {
        return false;
    };
    commands.push(Command::SelectJob(Some(job_id)));
    view.cursor_row = Some(index);
    true
}

/// The thumbnail column's cell: the job's first image (a placeholder while it loads, a warning
/// sign when its file is missing), with the number of images when there are more.
fn thumbnail_cell(
    ui: &mut egui::Ui,
    record: &JobRecord,
    thumbs: &mut ThumbTextures,
    data_dir: &std::path::Path,
) {
    let Some(images) = record.result.as_ref().map(|r| &r.images) else {
        return;
    };
    let Some(image) = images.first() else { return };
    let path = super::viewer::image_path(data_dir, image);
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(ROW_THUMB, ROW_THUMB), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let mut problem = None;
    match thumbs.get(&image.sha256, &path) {
        ThumbState::Ready {
            texture,
            source_missing,
        } => {
            if *source_missing {
                problem = Some(format!("File not found: {}", path.display()));
            }
            let size = texture.size_vec2();
            let scale = (rect.width() / size.x).min(rect.height() / size.y);
            painter.image(
                texture.id(),
                egui::Rect::from_center_size(rect.center(), size * scale),
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                egui::Color32::WHITE,
            );
        }
        ThumbState::Loading => {
            painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
        }
        ThumbState::Failed(why) => {
            problem = Some(why.clone());
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "⚠",
                egui::TextStyle::Body.resolve(ui.style()),
                ui.visuals().warn_fg_color,
            );
        }
    }
    if let Some(problem) = problem {
        // A picture whose file is gone gets a corner mark (a failed one is all warning).
        if problem.starts_with("File not found") {
            painter.text(
                rect.right_top() + egui::vec2(-2.0, 2.0),
                egui::Align2::RIGHT_TOP,
                "⚠",
                egui::TextStyle::Small.resolve(ui.style()),
                ui.visuals().warn_fg_color,
            );
        }
        response.on_hover_text(problem);
    }
    if images.len() > 1 {
        let text = format!("{}", images.len());
        let font = egui::TextStyle::Small.resolve(ui.style());
        let galley = ui.fonts_mut(|f| f.layout_no_wrap(text, font, egui::Color32::WHITE));
        let badge = egui::Rect::from_min_size(
            rect.right_bottom() - galley.size() - egui::vec2(4.0, 2.0),
            galley.size() + egui::vec2(4.0, 2.0),
        );
        painter.rect_filled(badge, 2.0, egui::Color32::from_black_alpha(170));
        painter.galley(
            badge.min + egui::vec2(2.0, 1.0),
            galley,
            egui::Color32::WHITE,
        );
    }
}

/// The header row: one sort button per column, the sorted one with its arrow.
fn headers(
    header: &mut egui_extras::TableRow<'_, '_>,
    sort_column: SortColumn,
    descending: bool,
    commands: &mut CommandQueue,
) {
    for &(column, title) in COLUMNS {
        header.col(|ui| {
            let arrow = match (column == sort_column, descending) {
                (false, _) => "",
                (true, true) => " ⬇",
                (true, false) => " ⬆",
            };
            let text = RichText::new(format!("{title}{arrow}")).strong();
            let response = ui
                .add(egui::Button::new(text).frame(false))
                .on_hover_text(format!("Sort by {title}"));
            if response.clicked() {
                commands.push(Command::SortBy(column));
            }
        });
    }
}

/// One row's cells.
fn cells(row: &mut egui_extras::TableRow<'_, '_>, record: &JobRecord) {
    let settings = &record.run_config.settings;
    // Settings an import never recorded show as "—" (only imports carry the list).
    let unknown = record.run_config.unknown_settings();
    let known = |name: &str| !unknown.iter().any(|u| u == name);
    row.col(|ui| {
        let local = record.created_at.with_timezone(&chrono::Local);
        ui.label(local.format("%Y-%m-%d %H:%M").to_string());
    });
    row.col(|ui| {
        widgets::source_badge(ui, record.prompt_source);
    });
    row.col(|ui| {
        ui.label(record.prompt_pack_id.as_deref().unwrap_or("—"));
    });
    row.col(|ui| {
        ui.label(record.prompt_keys.join(", "));
    });
    row.col(|ui| {
        ui.label(widgets::truncate_chars(first_prompt_line(record), 160));
    });
    row.col(|ui| {
        ui.label(if settings.model.is_empty() || !known("model") {
            "—"
        } else {
            &settings.model
        });
    });
    row.col(|ui| {
        ui.label(if known("steps") {
            settings.steps.to_string()
        } else {
            "—".to_owned()
        });
    });
    row.col(|ui| {
        ui.label(if known("cfg_scale") {
            format_cfg(settings.cfg_scale)
        } else {
            "—".to_owned()
        });
    });
    row.col(|ui| {
        // A random seed shows the one the backend drew, once promptdesk has run the job
        // (an imported job's seed used is in its details).
        let drawn = record
            .result
            .as_ref()
            .and_then(|r| r.images.first())
            .map(|i| i.seed);
        if !known("seed") {
            ui.label("—");
        } else if settings.seed < 0 {
            match drawn {
                Some(seed) => {
                    ui.label(seed.to_string())
                        .on_hover_text("A random seed: this is the one the backend drew");
                }
                None => {
                    ui.label("random");
                }
            }
        } else {
            ui.label(settings.seed.to_string());
        }
    });
    row.col(|ui| {
        status_label(ui, record);
    });
    row.col(|ui| {
        let (stars, favorite) = (record.rating(), record.is_favorite());
        let mut text = stars.map_or(String::new(), |n| "★".repeat(n as usize));
        if favorite {
            text.push('♥');
        }
        if !text.is_empty() {
            ui.label(RichText::new(text).color(egui::Color32::from_rgb(230, 170, 40)))
                .on_hover_text(super::viewer::rating_words(stars, favorite));
        }
    });
    row.col(|ui| {
        ui.label(RichText::new(hash_prefix(&record.config_hash)).monospace())
            .on_hover_text(&record.config_hash);
    });
}

/// The status as stored: a status of a newer version shows as its own text, in italics.
fn status_label(ui: &mut egui::Ui, record: &JobRecord) {
    let status = record.status;
    if status == JobStatus::Unknown {
        ui.label(RichText::new(record.status_text()).italics())
            .on_hover_text("A status this version of promptdesk does not know (written by a newer version). The job is kept as it is; it can still be deleted.");
        return;
    }
    let color = match status {
        JobStatus::Completed => egui::Color32::from_rgb(80, 170, 90),
        JobStatus::Failed => ui.visuals().error_fg_color,
        JobStatus::Cancelled => ui.visuals().weak_text_color(),
        JobStatus::Running => egui::Color32::from_rgb(90, 150, 230),
        JobStatus::Queued | JobStatus::Unknown => ui.visuals().text_color(),
    };
    ui.label(RichText::new(status.as_str()).color(color));
}

/// CFG as users write it: `7`, `6.5`, `4.25`.
pub fn format_cfg(cfg: f64) -> String {
    let text = format!("{cfg:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn footer(view: &mut HistoryView, ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    ui.checkbox(&mut view.show_thumbs, "Thumbnails")
        .on_hover_text("Show each job's first image in the table");
    if let Some(load) = ctx.history.loading {
        // Counts mean little until everything is read.
        let read = load.records.load(std::sync::atomic::Ordering::Relaxed);
        ui.label(format!("Loading… {} read", plural(read, "record")));
    } else {
        let total = ctx
            .store
            .and_then(|s| s.read().ok().map(|s| s.len()))
            .unwrap_or(0);
        ui.label(format!(
            "{}, {} shown",
            plural(total, "record"),
            view.rows.len()
        ));
    }
    if let Some(id) = &view.selected {
        ui.weak(format!("· selected {}", short_id(id)));
    }
}

/// The first 10 characters of a config hash, borrowed (a foreign hash may hold multi-byte
/// text, so the cut is on a character boundary).
fn hash_prefix(hash: &str) -> &str {
    hash.char_indices()
        .nth(10)
        .map_or(hash, |(i, _)| &hash[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAST: [f32; NCOLS] = [
        40.0, 60.0, 40.0, 45.0, 60.0, 50.0, 50.0, 40.0, 40.0, 55.0, 50.0, 95.0,
    ];

    fn others(widths: &[f32; NCOLS]) -> f32 {
        widths.iter().sum::<f32>() - widths[PROMPT_COLUMN]
    }

    #[test]
    fn with_room_the_columns_get_their_width_and_prompt_the_rest() {
        let widths = column_widths(1400.0, &LEAST);
        assert_eq!(widths[0], 110.0);
        assert_eq!(widths[11], 95.0, "never below its header");
        assert!((widths.iter().sum::<f32>() - 1400.0).abs() < 0.01);
        // 1400 less the others' widths (833: Steps keeps its header's 50).
        assert!((widths[PROMPT_COLUMN] - 567.0).abs() < 0.01, "{widths:?}");
    }

    #[test]
    fn the_other_columns_narrow_first() {
        // 900 wide: Prompt keeps its share, the others give (each above its minimum).
        let widths = column_widths(900.0, &LEAST);
        assert!((widths[PROMPT_COLUMN] - 315.0).abs() < 0.01, "{widths:?}");
        assert!((others(&widths) - 585.0).abs() < 0.01, "{widths:?}");
        assert!(widths.iter().zip(LEAST).all(|(w, m)| *w >= m));
        assert!(widths[0] > LEAST[0] && widths[2] > LEAST[2]);
        assert!(widths[0] < 110.0 && widths[5] < 100.0);
        // Too narrow for the minimums and Prompt's share: Prompt gives way to its minimum.
        let minimums: f32 = LEAST.iter().sum::<f32>() - LEAST[PROMPT_COLUMN];
        let widths = column_widths(minimums + 200.0, &LEAST);
        assert!((widths[PROMPT_COLUMN] - 200.0).abs() < 0.01, "{widths:?}");
        assert!((others(&widths) - minimums).abs() < 0.01);
        // Too narrow even for that: every other column at its header's width, Prompt at its
        // minimum, and the table scrolls sideways.
        let widths = column_widths(320.0, &LEAST);
        assert_eq!(widths[PROMPT_COLUMN], PROMPT_MIN);
        assert!((others(&widths) - minimums).abs() < 0.01);
    }
}
