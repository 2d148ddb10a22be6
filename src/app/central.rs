//! The central area: a switch between views and the view shown. Compose (the composer) is the
//! default; Queue shows the queue runner (`queue_view.rs`); Gallery and Insights are shown as
//! disabled tabs until they exist. The view switch is a form field of the app ([`CentralView`]), bound
//! directly.
//!
//! The composer's header (Pack / Manual and the Submit row) stays in view; its body scrolls
//! (both ways, so a narrow window hides nothing). The status line is drawn apart, at the bottom
//! of the window ([`status_bar`]), so a message is seen wherever the composer is scrolled.

use super::commands::{Command, CommandQueue};
use super::composer::Composer;
use super::gallery::GalleryView;
use super::history_table::HistoryView;
use super::queue_view::QueueView;
use super::state::{CentralView, Message, ViewContext};
use super::thumb_textures::ThumbTextures;
use egui::RichText;

/// A message is shown on at most this many lines; the whole text is on hover.
const MESSAGE_MAX_ROWS: usize = 3;

/// The states of the central area's views.
pub struct Views<'a> {
    pub view: &'a mut CentralView,
    pub composer: &'a mut Composer,
    pub queue: &'a mut QueueView,
    pub gallery: &'a mut GalleryView,
    /// The history table's rows (the Gallery shows their images).
    pub history: &'a HistoryView,
    pub thumbs: &'a mut ThumbTextures,
}

/// Draws the central area into `ui`.
pub fn show(
    views: Views<'_>,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    let Views {
        view,
        composer,
        queue,
        gallery,
        history,
        thumbs,
    } = views;
    view_switch(view, ui);
    ui.separator();
    match view {
        CentralView::Compose => {
            ui.scope(|ui| {
                // A long reason beside Submit is cut (whole on hover) rather than pushed out.
                ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
                composer.show_header(ctx, ui, commands);
            });
            ui.add_space(4.0);
            egui::ScrollArea::both()
                .id_salt("central")
                .auto_shrink([false, false])
                .show(ui, |ui| composer.show(ctx, ui, commands));
        }
        CentralView::Queue => queue.show(ctx, ui, commands),
        CentralView::Gallery => gallery.show(history, thumbs, ctx, ui, commands),
        // Not available yet: the switch never selects it.
        CentralView::Insights => {
            ui.weak("Coming soon.");
        }
    }
}

/// The view tabs; in a narrow window the last ones scroll (Compose, first, is always seen)
/// rather than push the central area wider.
fn view_switch(view: &mut CentralView, ui: &mut egui::Ui) {
    egui::ScrollArea::horizontal()
        .id_salt("view_switch")
        .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysHidden)
        .show(ui, |ui| view_tabs(view, ui));
}

fn view_tabs(view: &mut CentralView, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        for candidate in CentralView::ALL {
            let title = RichText::new(candidate.title()).heading();
            if candidate.is_available() {
                ui.selectable_value(view, candidate, title);
            } else {
                ui.add_enabled_ui(false, |ui| ui.selectable_label(false, title))
                    .inner
                    .on_disabled_hover_text("Coming soon");
            }
        }
    });
}

/// What the status bar says when there is no message: the keys worth knowing, named as the
/// platform names them (Cmd on macOS).
pub fn idle_hint() -> String {
    use egui::{Key, KeyboardShortcut, Modifiers};
    let keys = |key| super::shortcuts::keys_text(&KeyboardShortcut::new(Modifiers::COMMAND, key));
    format!(
        "Ready · {} submits · {} searches the history · {} undoes a delete · F5 reloads the packs",
        keys(Key::Enter),
        keys(Key::F),
        super::shortcuts::undo_keys()
    )
}

/// The status bar, always one line high at least (so the panels above never move when a
/// message comes or goes): the last message (errors in the error colour, on up to
/// [`MESSAGE_MAX_ROWS`] lines; other messages on one), with Dismiss, and Undo beside a message
/// about deleted jobs (its hover names the job it restores); with no message, [`idle_hint`]. A
/// cut message is whole on hover.
pub fn status_bar(ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    // An image import under way: its progress and Cancel, above the message.
    if let Some(run) = ctx.image_import {
        super::image_import::show_progress(run, ui, commands);
    }
    let Some(message) = ctx.message else {
        ui.horizontal(|ui| {
            ui.set_min_height(ui.spacing().interact_size.y);
            let hint = RichText::new(idle_hint()).color(ui.visuals().weak_text_color());
            ui.add(egui::Label::new(hint).truncate());
        });
        return;
    };
    let (text, color, icon, rows) = match message {
        Message::Info(t) => (t.as_str(), ui.visuals().text_color(), "ℹ", 1),
        Message::Error(t) => (
            t.as_str(),
            ui.visuals().error_fg_color,
            "⚠",
            MESSAGE_MAX_ROWS,
        ),
    };
    ui.horizontal(|ui| {
        ui.set_min_height(ui.spacing().interact_size.y);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                commands.push(Command::DismissMessage);
            }
            if let Some(job) = &ctx.undo
                && ui
                    .small_button("Undo")
                    .on_hover_text(format!(
                        "Restore the job deleted last: {job} ({})",
                        super::shortcuts::undo_keys()
                    ))
                    .clicked()
            {
                commands.push(Command::UndoDelete);
            }
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                ui.label(RichText::new(icon).color(color));
                message_label(ui, text, color, rows);
            });
        });
    });
}

/// `text` wrapped to the width left, on at most `max_rows` lines (then "…"), with the whole
/// text on hover when it was cut.
fn message_label(
    ui: &mut egui::Ui,
    text: &str,
    color: egui::Color32,
    max_rows: usize,
) -> egui::Response {
    let mut job = egui::text::LayoutJob::simple(
        text.to_owned(),
        egui::TextStyle::Body.resolve(ui.style()),
        color,
        ui.available_width(),
    );
    job.wrap.max_rows = max_rows;
    job.wrap.break_anywhere = false;
    let galley = ui.fonts_mut(|f| f.layout_job(job));
    let elided = galley.elided;
    let response = ui.add(egui::Label::new(galley).selectable(true));
    if elided {
        response.on_hover_text(text)
    } else {
        response
    }
}
