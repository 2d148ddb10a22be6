//! Keyboard navigation of the history table. The table takes the keyboard focus when a row is
//! clicked (or with Tab); while it has it (never while a text field has it), Up/Down move the
//! selection, Home/End go to the first/last row, PageUp/PageDown move by a page, Enter opens
//! the details of the row under the cursor (again, after Esc closed them) and moves the
//! keyboard focus to their first action, and Delete deletes
//! the selected job (undoable, as the Delete button). Selecting is a command, like a click.

use super::HistoryView;
use crate::app::commands::{Command, CommandQueue};
use crate::job_record::JobRecord;
use egui::{Key, Modifiers};

/// The id of the table's focus target (one Tab stop for the whole table).
pub(super) fn focus_id() -> egui::Id {
    egui::Id::unique("history_table_focus")
}

/// True while the table has the keyboard focus.
pub(super) fn has_focus(ui: &egui::Ui) -> bool {
    ui.memory(|m| m.has_focus(focus_id()))
}

/// Gives the table the keyboard focus (a row was clicked).
pub(super) fn take_focus(ui: &egui::Ui) {
    ui.memory_mut(|m| m.request_focus(focus_id()));
}

/// Registers the table's focus target over `rect` (after the table is drawn: it takes no
/// clicks, so the rows keep theirs) and outlines the table while it has the focus.
pub(super) fn focus_target(ui: &mut egui::Ui, rect: egui::Rect) {
    let response = ui.interact(rect, focus_id(), egui::Sense::FOCUSABLE);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Grid, true, "History rows"));
    if response.has_focus() {
        // Arrow keys move the selection, not the focus to the next widget.
        crate::app::widgets::hold_arrow_keys(ui, focus_id(), rect, false);
    }
}

/// Where a key moves the cursor.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Move {
    By(isize),
    First,
    Last,
}

/// Handles this frame's navigation keys when the table has the focus; returns the row to
/// scroll into view.
pub(super) fn handle(
    view: &mut HistoryView,
    ui: &mut egui::Ui,
    records: &[JobRecord],
    commands: &mut CommandQueue,
) -> Option<usize> {
    if !has_focus(ui) {
        return None;
    }
    let page = view.page_rows.max(1) as isize;
    let moves = [
        (Key::ArrowDown, Move::By(1)),
        (Key::ArrowUp, Move::By(-1)),
        (Key::PageDown, Move::By(page)),
        (Key::PageUp, Move::By(-page)),
        (Key::Home, Move::First),
        (Key::End, Move::Last),
    ];
    let mut scroll = None;
    for (key, step) in moves {
        while ui.input_mut(|i| i.consume_key(Modifiers::NONE, key)) {
            scroll = move_cursor(view, records, step, commands).or(scroll);
        }
    }
    if ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Enter)) {
        // Opens the details of the row under the cursor (after Esc closed them), and brings
        // the selected row into view.
        scroll = move_cursor(view, records, Move::By(0), commands).or(scroll);
        commands.push(Command::FocusDetails);
    }
    if ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Delete))
        && let Some(id) = &view.selected
    {
        if let Some(row) = current_row(view, records) {
            view.cursor_row = Some(row);
        }
        commands.push(Command::DeleteJob(id.clone()));
    }
    scroll
}

/// The row of the selected job, if it is shown.
fn current_row(view: &HistoryView, records: &[JobRecord]) -> Option<usize> {
    let selected = view.selected.as_deref()?;
    let is_selected =
        |row: usize| row_job(view, records, row).is_some_and(|r| r.job_id == selected);
    // Most often the cursor still points at it; else one pass over the rows.
    if let Some(row) = view.cursor_row.filter(|&row| is_selected(row)) {
        return Some(row);
    }
    (0..view.rows.len()).find(|&row| is_selected(row))
}

fn row_job<'r>(view: &HistoryView, records: &'r [JobRecord], row: usize) -> Option<&'r JobRecord> {
    view.rows.get(row).and_then(|&i| records.get(i as usize))
}

/// Moves the selection; returns the new row. With no selection (closed with Esc, or the job
/// was deleted), the cursor sits before the row it was on: Down or Enter select that row
/// (the one that took a deleted job's place), Up the one above.
fn move_cursor(
    view: &mut HistoryView,
    records: &[JobRecord],
    step: Move,
    commands: &mut CommandQueue,
) -> Option<usize> {
    let last = view.rows.len().checked_sub(1)?;
    let target = match (step, current_row(view, records)) {
        (Move::First, _) => 0,
        (Move::Last, _) => last,
        (Move::By(d), Some(row)) => row.saturating_add_signed(d).min(last),
        (Move::By(d), None) => {
            let cursor = view.cursor_row.unwrap_or(0).min(last + 1);
            if d > 0 {
                cursor.saturating_add_signed(d - 1).min(last)
            } else {
                cursor.saturating_add_signed(d).min(last)
            }
        }
    };
    let record = row_job(view, records, target)?;
    if view.selected.as_deref() != Some(record.job_id.as_str()) {
        commands.push(Command::SelectJob(Some(record.job_id.clone())));
    }
    view.cursor_row = Some(target);
    Some(target)
}
