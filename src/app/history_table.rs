//! The history (bottom, resizable): filter bar, a virtualised table that only lays out the
//! visible rows, and a footer. Rows come from the cached query in [`HistoryView`]; nothing
//! here is O(number of records), and a row's cells borrow from the record (no copy of its
//! prompts).
//!
//! The filter is bound directly; sorting, selecting a row and scrolling to a new job are
//! commands.

use super::commands::{Command, CommandQueue};
use super::state::{ViewContext, damage, foreign_lines, short_id, testing_pub_struct};
use super::widgets;
use crate::history::{HistoryFilter, SortColumn, first_prompt_line};
use crate::job_record::{JobRecord, JobStatus};
use crate::packs::escape_control;
use crate::run_config::PromptSource;
use egui::RichText;
use egui_extras::{Column, TableBuilder};
use std::sync::atomic::Ordering;

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
    }
}

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
    (SortColumn::ConfigHash, "Config hash"),
];

impl HistoryView {
    /// Draws the history into `ui`, filling it.
    pub fn show(&mut self, ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        ui.add_space(4.0);
        banners(ctx, ui);
        filter_bar(self, ctx, ui);
        ui.separator();
        let footer_height = ui.text_style_height(&egui::TextStyle::Body) + 8.0;
        let table_height = (ui.available_height() - footer_height).max(60.0);
        ui.allocate_ui(egui::vec2(ui.available_width(), table_height), |ui| {
            // The panel keeps its size whatever the table holds (a resizable panel is as
            // tall as its contents).
            ui.set_min_height(table_height);
            table(self, ctx, ui, commands);
        });
        footer(self, ctx, ui);
    }
}

fn banners(ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    if let Some(load) = ctx.history.loading {
        ui.horizontal(|ui| {
            ui.spinner();
            let records = load.records.load(Ordering::Relaxed);
            ui.add(
                egui::ProgressBar::new(load.fraction())
                    .desired_width(260.0)
                    .text(format!("Loading history… {records} records")),
            );
        });
    }
    if let Some(error) = ctx.history.error {
        ui.label(
            RichText::new(format!("⚠ The history could not be opened: {error}"))
                .color(ui.visuals().error_fg_color),
        );
    }
    if let Some((damaged, unsaved, why)) = ctx.store.and_then(|s| damage(s)) {
        let text = if unsaved == 0 {
            format!(
                "⚠ The history file is damaged: {damaged} line(s) could not be read; a copy of each is in {}. Everything else loaded and new jobs are recorded as usual.",
                crate::paths::QUARANTINE_FILE_NAME
            )
        } else {
            format!(
                "⚠ The history file is damaged: {damaged} line(s) could not be read. {unsaved} of them could not be copied to {}, so they stay in the history file untouched ({}). Everything else loaded.",
                crate::paths::QUARANTINE_FILE_NAME,
                why.unwrap_or_default()
            )
        };
        ui.label(RichText::new(text).color(ui.visuals().warn_fg_color));
    }
    let foreign = ctx.store.map_or(0, |s| foreign_lines(s));
    if foreign > 0 {
        ui.label(
            RichText::new(format!(
                "ℹ {foreign} line(s) in the history were written by another (newer) version of promptdesk and cannot be shown by this one. They are kept in the file as they are (`promptdesk verify` lists them)."
            ))
            .color(ui.visuals().weak_text_color()),
        );
    }
    interrupted_import_banners(ctx, ui);
}

/// One banner per import that was interrupted (its process died mid-write).
fn interrupted_import_banners(ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    let color = ui.visuals().warn_fg_color;
    for import in ctx.interrupted {
        let text = format!(
            "⚠ An import of {} was interrupted ({}): only part of it may be in the history. Import the same file again (File > Import StableNew history) to complete it; jobs already imported are not duplicated.",
            import.source_text(),
            import.when_text()
        );
        ui.label(RichText::new(text).color(color));
    }
}

fn filter_bar(view: &mut HistoryView, ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    let packs = ctx.packs;
    let busy = ctx.query_busy;
    let provisional = ctx.rows_provisional;
    let filter = &mut view.filter;
    ui.horizontal_wrapped(|ui| {
        ui.heading("History");
        ui.add_space(8.0);
        let label = ui.label("Search history");
        let search = ui
            .add(
                egui::TextEdit::singleline(&mut filter.text)
                    .hint_text("prompt, pack, key, model, id (Ctrl+F)")
                    .desired_width(170.0),
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
        let label = ui.label("Pack");
        egui::ComboBox::from_id_salt("filter_pack")
            .selected_text(filter.pack.as_deref().map_or("All".into(), escape_control))
            .width(130.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut filter.pack, None, "All");
                if let Some(current) = filter.pack.clone()
                    && !packs.iter().any(|p| p.id == current)
                {
                    let text = escape_control(&current).into_owned();
                    ui.selectable_value(&mut filter.pack, Some(current), text);
                }
                for pack in packs {
                    let id = &pack.id;
                    ui.selectable_value(&mut filter.pack, Some(id.clone()), escape_control(id));
                }
            })
            .response
            .labelled_by(label.id);
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
}

fn table(
    view: &HistoryView,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    let Some(store) = ctx.store else {
        return;
    };
    let Ok(store) = store.read() else {
        return;
    };
    let records = store.records();
    let rows = &view.rows;
    let selected = view.selected.as_deref();
    let (sort_column, descending) = (view.sort_column, view.sort_descending);
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    // Clicks anywhere on a row select it, so the cells' labels must not take them.
    ui.style_mut().interaction.selectable_labels = false;
    let mut builder = TableBuilder::new(ui)
        .id_salt("history_table")
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(110.0).at_least(70.0).clip(true)) // Time
        .column(Column::initial(64.0).at_least(56.0)) // Source
        .column(Column::initial(100.0).at_least(50.0).clip(true)) // Pack
        .column(Column::initial(60.0).at_least(36.0).clip(true)) // Keys
        .column(Column::remainder().at_least(100.0).clip(true)) // Prompt
        .column(Column::initial(100.0).at_least(40.0).clip(true)) // Model
        .column(Column::initial(48.0).at_least(36.0)) // Steps
        .column(Column::initial(40.0).at_least(32.0)) // CFG
        .column(Column::initial(64.0).at_least(40.0).clip(true)) // Seed
        .column(Column::initial(70.0).at_least(50.0)) // Status
        .column(Column::initial(72.0).at_least(40.0).clip(true)) // Config hash
        .min_scrolled_height(0.0)
        .auto_shrink([false, false]);
    if let Some(target) = &view.scroll_to {
        if let Some(pos) = rows
            .iter()
            .position(|&i| records.get(i as usize).is_some_and(|r| &r.job_id == target))
        {
            builder = builder.scroll_to_row(pos, Some(egui::Align::Center));
            commands.push(Command::ScrolledToSelection);
        } else if !ctx.query_busy {
            // Filtered out: nothing to scroll to.
            commands.push(Command::ScrolledToSelection);
        }
    }
    builder
        .header(row_height + 2.0, |mut header| {
            for &(column, title) in COLUMNS {
                header.col(|ui| {
                    let arrow = if column == sort_column {
                        if descending { " ⬇" } else { " ⬆" }
                    } else {
                        ""
                    };
                    let response = ui
                        .add(
                            egui::Button::new(RichText::new(format!("{title}{arrow}")).strong())
                                .frame(false),
                        )
                        .on_hover_text(format!("Sort by {title}"));
                    if response.clicked() {
                        commands.push(Command::SortBy(column));
                    }
                });
            }
        })
        .body(|body| {
            body.rows(row_height, rows.len(), |mut row| {
                let Some(record) = rows.get(row.index()).and_then(|&i| records.get(i as usize))
                else {
                    return;
                };
                row.set_selected(selected == Some(record.job_id.as_str()));
                let settings = &record.run_config.settings;
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
                    ui.label(if settings.model.is_empty() {
                        "—"
                    } else {
                        &settings.model
                    });
                });
                row.col(|ui| {
                    ui.label(settings.steps.to_string());
                });
                row.col(|ui| {
                    ui.label(format_cfg(settings.cfg_scale));
                });
                row.col(|ui| {
                    ui.label(if settings.seed < 0 {
                        "random".to_owned()
                    } else {
                        settings.seed.to_string()
                    });
                });
                row.col(|ui| {
                    status_label(ui, record);
                });
                row.col(|ui| {
                    ui.label(RichText::new(hash_prefix(&record.config_hash)).monospace())
                        .on_hover_text(&record.config_hash);
                });
                if row.response().clicked() {
                    commands.push(Command::SelectJob(Some(record.job_id.clone())));
                }
            });
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

fn footer(view: &HistoryView, ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    let total = ctx
        .store
        .and_then(|s| s.read().ok().map(|s| s.len()))
        .unwrap_or(0);
    let shown = view.rows.len();
    ui.horizontal(|ui| {
        ui.label(format!("{total} records, {shown} shown"));
        if let Some(id) = &view.selected {
            ui.weak(format!("· selected {}", short_id(id)));
        }
    });
}

/// The first 10 characters of a config hash, borrowed (a foreign hash may hold multi-byte
/// text, so the cut is on a character boundary).
fn hash_prefix(hash: &str) -> &str {
    hash.char_indices()
        .nth(10)
        .map_or(hash, |(i, _)| &hash[..i])
}
