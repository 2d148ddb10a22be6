//! The menu bar: File (folders, imports, export, quit) and View (theme).

use super::PromptDeskApp;
use super::state::{Command, ThemeChoice};
use crate::history::ExportFormat;

pub fn show(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    egui::Panel::top("menu_bar").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| file_menu(app, ui));
            ui.menu_button("View", |ui| {
                for (theme, label) in [
                    (ThemeChoice::System, "System theme"),
                    (ThemeChoice::Dark, "Dark theme"),
                    (ThemeChoice::Light, "Light theme"),
                ] {
                    if ui.radio(app.state.theme == theme, label).clicked() {
                        app.push(Command::SetTheme(theme));
                        ui.close();
                    }
                }
            });
        });
    });
}

fn file_menu(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    let ctx = ui.ctx().clone();
    if ui.button("Open packs folder...").clicked() {
        let start = app.state.packs_dir.clone();
        app.spawn_dialog(&ctx, move || {
            rfd::FileDialog::new()
                .set_directory(start)
                .pick_folder()
                .map(Command::SetPacksDir)
        });
        ui.close();
    }
    if ui.button("Import pack files...").clicked() {
        app.spawn_dialog(&ctx, || {
            rfd::FileDialog::new()
                .add_filter("Prompt packs", &["txt", "json", "tsv", "csv"])
                .pick_files()
                .map(Command::ImportPackFiles)
        });
        ui.close();
    }
    if ui.button("Reload packs (F5)").clicked() {
        app.push(Command::ReloadPacks);
        ui.close();
    }
    ui.separator();
    if ui.button("Import StableNew history...").clicked() {
        app.spawn_dialog(&ctx, || {
            rfd::FileDialog::new()
                .add_filter("StableNew job history", &["jsonl", "json"])
                .pick_file()
                .map(Command::ImportStableNew)
        });
        ui.close();
    }
    ui.menu_button("Export history (shown rows)", |ui| {
        for (format, label, ext) in [
            (ExportFormat::Jsonl, "JSON Lines...", "jsonl"),
            (ExportFormat::Csv, "CSV...", "csv"),
            (ExportFormat::Infotext, "A1111 infotext...", "txt"),
        ] {
            if ui.button(label).clicked() {
                app.spawn_dialog(&ctx, move || {
                    rfd::FileDialog::new()
                        .set_file_name(format!("promptdesk-history.{ext}"))
                        .add_filter(label.trim_end_matches("..."), &[ext])
                        .save_file()
                        .map(|path| Command::Export(path, format))
                });
                ui.close();
            }
        }
    });
    ui.separator();
    if ui.button("Quit").clicked() {
        app.push(Command::Quit);
        ui.close();
    }
}
