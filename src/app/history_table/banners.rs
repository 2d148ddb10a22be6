//! The notices above the history table: loading progress, a history that could not be
//! opened, damaged lines (with their line numbers, what `promptdesk verify` and
//! `promptdesk compact` do, and a dismiss button), lines of a newer version, interrupted
//! imports, and a new job the current filters hide.

use super::HistoryView;
use crate::app::state::{Damage, ViewContext, damage, foreign_lines, short_id};
use crate::app::widgets::plural;
use egui::RichText;
use std::sync::atomic::Ordering;

/// Below this height for the banners (a small window), the damage banner is one line with
/// the whole text on hover.
const COMPACT_BELOW: f32 = 90.0;

/// Draws every banner that applies, in `room` (they scroll when they need more).
pub(super) fn show(view: &mut HistoryView, ctx: &ViewContext<'_>, ui: &mut egui::Ui, room: f32) {
    if let Some(load) = ctx.history.loading {
        ui.horizontal(|ui| {
            ui.spinner();
            let records = load.records.load(Ordering::Relaxed);
            ui.add(
                egui::ProgressBar::new(load.fraction())
                    .desired_width(260.0)
                    .text(format!(
                        "Loading history… {} read",
                        plural(records, "record")
                    )),
            );
        });
    }
    if let Some(error) = ctx.history.error {
        ui.label(
            RichText::new(format!("⚠ The history could not be opened: {error}"))
                .color(ui.visuals().error_fg_color),
        );
    }
    damage_banner(view, ctx, ui, room < COMPACT_BELOW);
    let foreign = ctx.store.map_or(0, |s| foreign_lines(s));
    if foreign > 0 {
        ui.label(
            RichText::new(format!(
                "ℹ {} in the history {} written by another (newer) version of promptdesk and cannot be shown by this one. They are kept in the file as they are (`promptdesk verify` lists them).",
                plural(foreign, "line"),
                if foreign == 1 { "was" } else { "were" }
            ))
            .color(ui.visuals().weak_text_color()),
        );
    }
    interrupted_import_banners(ctx, ui);
    hidden_job_banner(view, ui);
}

/// The damaged-history banner, unless the user dismissed this same damage; on one line (cut,
/// whole on hover) when `compact`.
fn damage_banner(view: &mut HistoryView, ctx: &ViewContext<'_>, ui: &mut egui::Ui, compact: bool) {
    let Some(found) = ctx.store.and_then(|s| damage(s)) else {
        return;
    };
    if view.dismissed_damage.as_ref() == Some(&found) {
        return;
    }
    let color = ui.visuals().warn_fg_color;
    let dismiss = |ui: &mut egui::Ui| {
        ui.small_button("Dismiss")
            .on_hover_text("Hide this notice (it shows again if the damage changes)")
            .clicked()
    };
    let mut dismissed = false;
    if compact {
        ui.horizontal(|ui| {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                dismissed = dismiss(ui);
                let text = RichText::new(damage_text(&found)).color(color);
                ui.add(egui::Label::new(text).truncate()).on_hover_ui(|ui| {
                    ui.set_max_width(420.0);
                    ui.label(damage_text(&found));
                    ui.label(RichText::new(damage_hint(&found)).weak());
                });
            });
        });
    } else {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.vertical(|ui| {
                    ui.set_max_width((ui.available_width() - 70.0).max(100.0));
                    ui.add(
                        egui::Label::new(RichText::new(damage_text(&found)).color(color)).wrap(),
                    );
                    ui.add(egui::Label::new(RichText::new(damage_hint(&found)).weak()).wrap());
                });
                dismissed = dismiss(ui);
            });
        });
    }
    if dismissed {
        view.dismissed_damage = Some(found);
    }
}

/// What is damaged and where: the first line numbers, then how many more.
pub(super) fn damage_text(found: &Damage) -> String {
    let lines = line_list(&found.first_lines, found.damaged);
    let quarantine = crate::paths::QUARANTINE_FILE_NAME;
    let n = found.damaged;
    let what = format!(
        "⚠ The history file is damaged: {} could not be read ({lines}).",
        plural(n, "line")
    );
    if found.unsaved == 0 {
        let copy = if n == 1 {
            "A copy of it is"
        } else {
            "A copy of each is"
        };
        format!(
            "{what} {copy} in {quarantine}. Everything else loaded and new jobs are recorded as usual."
        )
    } else {
        format!(
            "{what} {} could not be copied to {quarantine}, so {} in the history file untouched ({}). Everything else loaded.",
            if found.unsaved == n {
                if n == 1 {
                    "It".to_owned()
                } else {
                    "They".to_owned()
                }
            } else {
                format!("{} of them", found.unsaved)
            },
            if found.unsaved == 1 {
                "it stays"
            } else {
                "they stay"
            },
            found.why.as_deref().unwrap_or("no reason given")
        )
    }
}

/// What the two CLI commands do about it.
pub(super) fn damage_hint(found: &Damage) -> String {
    let verify = "`promptdesk verify` lists each damaged line and why it could not be read, and what the quarantine file holds (it changes nothing).";
    if found.unsaved == 0 {
        format!(
            "{verify} `promptdesk compact` rewrites the history with one line per job, without the damaged lines (their copies stay in {}).",
            crate::paths::QUARANTINE_FILE_NAME
        )
    } else {
        format!(
            "{verify} `promptdesk compact` refuses to run while damaged lines cannot be copied to {} (so that none is lost).",
            crate::paths::QUARANTINE_FILE_NAME
        )
    }
}

/// "line 7", "lines 3, 9 and 12", "lines 3, 9, 12, 15, 20 and 4 more".
pub(super) fn line_list(first: &[usize], total: usize) -> String {
    let numbers: Vec<String> = first.iter().map(ToString::to_string).collect();
    let more = total.saturating_sub(first.len());
    match (numbers.as_slice(), more) {
        ([], _) => format!("{} not numbered", plural(total, "line")),
        ([one], 0) => format!("line {one}"),
        (all, 0) => {
            let (last, rest) = all.split_last().expect("two or more");
            format!("lines {} and {last}", rest.join(", "))
        }
        (all, more) => format!("lines {} and {more} more", all.join(", ")),
    }
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

/// A job just recorded that the current filters hide: say so, and offer to show it.
fn hidden_job_banner(view: &mut HistoryView, ui: &mut egui::Ui) {
    let Some((job_id, filter)) = &view.hidden_job else {
        return;
    };
    if *filter != view.filter {
        // The filters changed since: the notice is out of date.
        view.hidden_job = None;
        return;
    }
    let job_id = job_id.clone();
    let mut show_it = false;
    let mut dismiss = false;
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!(
                "ℹ Job {} was recorded; the current filters hide it.",
                short_id(&job_id)
            ))
            .color(ui.visuals().warn_fg_color),
        );
        show_it = ui
            .button("Show it")
            .on_hover_text("Clear the filters and scroll to the job")
            .clicked();
        dismiss = ui.small_button("×").on_hover_text("Dismiss").clicked();
    });
    if show_it {
        view.filter = Default::default();
        view.scroll_to = Some(job_id);
    }
    if show_it || dismiss {
        view.hidden_job = None;
    }
}
