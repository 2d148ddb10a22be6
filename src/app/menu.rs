//! The menu bar: File (folders, imports, export, quit) and View (theme). Every entry is a
//! command (file dialogs run on their own threads, see `command_handling.rs`).

use super::command_handling::export_label;
use super::commands::{Command, CommandQueue};
use super::state::{ThemeChoice, ViewContext};
use crate::history::ExportFormat;

/// Draws the menu bar into `ui`.
pub fn show(ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| file_menu(ui, commands));
        ui.menu_button("View", |ui| {
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
    });
}

fn file_menu(ui: &mut egui::Ui, commands: &mut CommandQueue) {
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
}
