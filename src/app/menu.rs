//! The menu bar: File (folders, imports of packs, StableNew histories and image folders,
//! export, quit), View (the central view, theme) and
//! Run (Run queue, Backends), with the Run queue switch at its right end (the toolbar).
//! Every entry is a command (file dialogs run on their own threads, see
//! `command_handling.rs`).

use super::command_handling::export_label;
use super::commands::{Command, CommandQueue};
use super::shortcuts::RUN_QUEUE;
use super::state::{CentralView, ThemeChoice, ViewContext};
use crate::history::ExportFormat;

/// Draws the menu bar into `ui`.
pub fn show(ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| file_menu(ctx, ui, commands));
        ui.menu_button("View", |ui| {
            for view in CentralView::ALL.into_iter().filter(|v| v.is_available()) {
                let mut button = egui::Button::new(format!("{} view", view.title()));
                if let Some(keys) = super::shortcuts::view_shortcut(view) {
                    button = button.shortcut_text(ui.ctx().format_shortcut(&keys));
                }
                if ui.add(button).clicked() {
                    commands.push(Command::ShowView(view));
                    ui.close();
                }
            }
            ui.separator();
            for (theme, label) in [
                (ThemeChoice::System, "System theme"),
                (ThemeChoice::Dark, "Dark theme"),
                (ThemeChoice::Light, "Light theme"),
            ] {
                if ui.radio(ctx.theme == theme, label).clicked() {
                    commands.push(Command::SetTheme(theme));
                    ui.close();
                }
            }
        });
        ui.menu_button("Run", |ui| {
            let on = ctx.queue.on;
            let shortcut = ui.ctx().format_shortcut(&RUN_QUEUE);
            if ui
                .add(egui::Button::selectable(on, "Run queue").shortcut_text(shortcut))
                .on_hover_text(run_queue_help(on))
                .clicked()
            {
                commands.push(Command::SetRunQueue(!on));
                ui.close();
            }
            if ui.button("Backends...").clicked() {
                commands.push(Command::OpenBackends);
                ui.close();
            }
            if ui.button("Show the queue").clicked() {
                commands.push(Command::ShowView(CentralView::Queue));
                ui.close();
            }
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            run_queue_switch(ctx, ui, commands);
        });
    });
}

/// The toolbar's Run queue switch (a toggle button), with what the runner is doing.
fn run_queue_switch(ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    let on = ctx.queue.on;
    let text = if on { "⏸ Run queue" } else { "▶ Run queue" };
    let response = ui
        .add(egui::Button::selectable(on, text))
        .on_hover_text(format!(
            "{} ({})",
            run_queue_help(on),
            super::shortcuts::keys_text(&RUN_QUEUE)
        ));
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, on, "Run queue"));
    if response.clicked() {
        commands.push(Command::SetRunQueue(!on));
    }
    let running = ctx.queue.running.len();
    if ctx.queue.starting {
        ui.spinner();
    } else if running > 0 {
        ui.weak(format!("{} running", running));
    }
}

fn run_queue_help(on: bool) -> &'static str {
    if on {
        "Pause the queue: no new job starts (a running job goes on to its end)"
    } else {
        "Run the queued jobs on the configured backends, oldest first"
    }
}

fn file_menu(ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    let mut item = |ui: &mut egui::Ui, label: &str, command: Command| {
        if ui.button(label).clicked() {
            commands.push(command);
            ui.close();
        }
    };
    item(ui, "Open packs folder...", Command::PickPacksFolder);
    item(ui, "Import pack files...", Command::PickPackFiles);
    item(ui, "Reload packs (F5)", Command::ReloadPacks);
    ui.separator();
    item(
        ui,
        "Import StableNew history...",
        Command::PickStableNewFile,
    );
    // One image import at a time: both entries wait for the one under way.
    let importing = ctx.image_import.is_some();
    let mut picked = None;
    for (label, recursive, help) in [
        (
            "Import images folder...",
            false,
            "Every PNG, JPEG and WebP image of a folder becomes a completed job, with the prompt and settings its metadata gives (images already in the history are skipped)",
        ),
        (
            "Import images folder with sub-folders...",
            true,
            "As Import images folder, with the images of its sub-folders at any depth",
        ),
    ] {
        let response = ui
            .add_enabled(!importing, egui::Button::new(label))
            .on_hover_text(help)
            .on_disabled_hover_text(super::image_import::ALREADY_RUNNING);
        if response.clicked() {
            picked = Some(recursive);
            ui.close();
        }
    }
    ui.menu_button("Export history (shown rows)", |ui| {
        for format in [
            ExportFormat::Jsonl,
            ExportFormat::Csv,
            ExportFormat::Infotext,
        ] {
            let label = format!("{}...", export_label(format).0);
            item(ui, &label, Command::PickExportFile(format));
        }
    });
    ui.separator();
    item(ui, "Quit", Command::Quit);
    if let Some(recursive) = picked {
        commands.push(Command::PickImagesFolder { recursive });
    }
}
