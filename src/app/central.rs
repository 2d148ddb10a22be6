//! The central area: the status line, a switch between views, and the view shown. Compose
//! (the composer) is the default and the only view so far; Queue, Gallery and Insights are
//! shown as disabled tabs until they exist. The view switch is a form field of the app
//! ([`CentralView`]), bound directly.

use super::commands::{Command, CommandQueue};
use super::composer::Composer;
use super::state::{CentralView, Message, ViewContext};
use egui::RichText;

/// Draws the central area into `ui`.
pub fn show(
    view: &mut CentralView,
    composer: &mut Composer,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    view_switch(view, ui);
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("central")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            message_bar(ctx, ui, commands);
            match view {
                CentralView::Compose => {
                    composer.show_header(ctx, ui, commands);
                    ui.add_space(6.0);
                    composer.show(ctx, ui, commands);
                }
                // Not available yet: the switch never selects them.
                CentralView::Queue | CentralView::Gallery | CentralView::Insights => {
                    ui.weak("Coming soon.");
                }
            }
        });
}

fn view_switch(view: &mut CentralView, ui: &mut egui::Ui) {
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

/// The status line: the last message, with Dismiss (and Undo after a delete).
fn message_bar(ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    let Some(message) = ctx.message else {
        return;
    };
    let (text, color) = match message {
        Message::Info(t) => (t.as_str(), ui.visuals().text_color()),
        Message::Error(t) => (t.as_str(), ui.visuals().error_fg_color),
    };
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                    commands.push(Command::DismissMessage);
                }
                if ctx.can_undo && ui.small_button("Undo").clicked() {
                    commands.push(Command::UndoDelete);
                }
            });
        });
    });
}
