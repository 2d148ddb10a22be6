//! The pack browser (left): packs folder, search, pack list, and the selected pack's prompts as
//! checkboxes with their full text on hover.
//!
//! Pack ids come from file names, and names and keys from file contents: every one is shown
//! with control characters escaped (`\n`, `\t`, `\u{1b}`), so a label stays on one line. The
//! commands carry the real id and keys.

use super::PromptDeskApp;
use super::state::Command;
use super::widgets;
use crate::packs::escape_control as esc;
use egui::RichText;

pub fn show(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    egui::Panel::left("pack_browser")
        .resizable(true)
        .default_size(320.0)
        .size_range(220.0..=600.0)
        .show(ui, |ui| {
            folder_row(app, ui);
            ui.separator();
            pack_list(app, ui);
            ui.separator();
            prompt_list(app, ui);
        });
}

fn folder_row(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.heading("Packs");
        if app.state.pack_scan.is_running() {
            ui.spinner();
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("🔄")
                .on_hover_text("Reload the packs folder (F5)")
                .clicked()
            {
                app.push(Command::ReloadPacks);
            }
            if ui.button("Open folder...").clicked() {
                let start = app.state.packs_dir.clone();
                let ctx = ui.ctx().clone();
                app.spawn_dialog(&ctx, move || {
                    rfd::FileDialog::new()
                        .set_directory(start)
                        .pick_folder()
                        .map(Command::SetPacksDir)
                });
            }
        });
    });
    let dir = esc(&app.state.packs_dir.display().to_string()).into_owned();
    ui.add(egui::Label::new(RichText::new(&dir).small().monospace()).truncate())
        .on_hover_text(&dir);
    ui.horizontal(|ui| {
        let label = ui.label("Search packs");
        ui.add(
            egui::TextEdit::singleline(&mut app.state.pack_search)
                .hint_text("id or name")
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
    });
}

fn pack_list(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    let visible = app.state.visible_packs().to_vec();
    let state = &app.state;
    let errors = &state.pack_errors;
    let mut clicked = None;
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    egui::ScrollArea::vertical()
        .id_salt("pack_list")
        .max_height((ui.available_height() * 0.45).max(120.0))
        .auto_shrink([false, false])
        .show_rows(ui, row_height, visible.len(), |ui, range| {
            // Only the rows on screen are formatted.
            for &i in &visible[range] {
                let pack = &state.packs[i];
                let count = pack.prompts.len();
                let format = pack.format_name();
                let id = esc(&pack.id);
                let label = if pack.name != pack.id {
                    format!("{}  ({id})", esc(&pack.name))
                } else {
                    id.clone().into_owned()
                };
                let warnings = state.pack_warnings.get(i).map_or(&[][..], Vec::as_slice);
                let marker = if warnings.is_empty() { "" } else { "⚠ " };
                let text = format!("{marker}{label}   {count} prompts · {format}");
                let selected = state.selected_pack.as_deref() == Some(pack.id.as_str());
                let mut hover = format!("{id}: {count} prompts, {format}");
                for warning in warnings {
                    hover.push_str("\n⚠ ");
                    hover.push_str(&esc(warning));
                }
                let response = ui.selectable_label(selected, text).on_hover_text(hover);
                if response.clicked() {
                    clicked = Some(pack.id.clone());
                }
            }
        });
    if !errors.is_empty() {
        ui.add_space(4.0);
        egui::CollapsingHeader::new(
            RichText::new(format!("⚠ {} file(s) could not be loaded", errors.len()))
                .color(ui.visuals().warn_fg_color),
        )
        .id_salt("pack_errors")
        .default_open(true)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("pack_error_list")
                .max_height(120.0)
                .show(ui, |ui| {
                    for error in errors {
                        let name = error
                            .path
                            .as_ref()
                            .and_then(|p| p.file_name())
                            .map(|n| esc(&n.to_string_lossy()).into_owned())
                            .unwrap_or_else(|| "?".into());
                        let line = error.line.map(|l| format!(":{l}")).unwrap_or_default();
                        ui.label(
                            RichText::new(format!("⚠ {name}{line}"))
                                .color(ui.visuals().warn_fg_color),
                        )
                        .on_hover_text(esc(&error.to_string()));
                    }
                });
        });
    }
    if let Some(id) = clicked {
        app.push(Command::SelectPack(id));
    }
}

fn prompt_list(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    let Some(pack) = app.state.selected_pack() else {
        ui.weak("Select a pack to see its prompts.");
        return;
    };
    let pack = pack.clone();
    ui.horizontal(|ui| {
        ui.strong(format!("Prompts in {}", esc(&pack.name)));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("None").clicked() {
                app.push(Command::CheckNoKeys);
            }
            if ui.small_button("All").clicked() {
                app.push(Command::CheckAllKeys);
            }
        });
    });
    ui.label(
        RichText::new(format!(
            "{} · {} of {} checked",
            pack.format_name(),
            app.state.checked_keys.len(),
            pack.prompts.len()
        ))
        .small(),
    );
    widgets::token_legend(ui);
    egui::ScrollArea::vertical()
        .id_salt("prompt_list")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for prompt in &pack.prompts {
                let mut checked = app.state.checked_keys.contains(&prompt.key);
                let key = esc(&prompt.key);
                let label = match &prompt.label {
                    Some(l) => format!("{key} {}: {}", esc(l), esc(&prompt.summary(24))),
                    None => format!("{key}: {}", esc(&prompt.summary(34))),
                };
                let response = ui.checkbox(&mut checked, label).on_hover_ui(|ui| {
                    ui.set_max_width(460.0);
                    prompt_details(ui, prompt);
                });
                if response.changed() {
                    app.push(Command::SetKeyChecked(prompt.key.clone(), checked));
                }
            }
        });
}

/// Full positive and negative text of one pack prompt, with its tokens marked.
pub fn prompt_details(ui: &mut egui::Ui, prompt: &crate::packs::PackPrompt) {
    ui.strong(format!("Key {}", esc(&prompt.key)));
    widgets::highlighted_prompt(ui, &prompt.positive);
    if !prompt.negative.is_empty() {
        ui.label(RichText::new("Negative").small().strong());
        widgets::highlighted_prompt(ui, &prompt.negative);
    }
    if !prompt.loras.is_empty() {
        let loras: Vec<String> = prompt
            .loras
            .iter()
            .map(|l| format!("{} ({})", l.name, l.weight))
            .collect();
        ui.label(RichText::new(format!("LoRAs: {}", loras.join(", "))).small());
    }
    if !prompt.embeddings.is_empty() {
        let names: Vec<String> = prompt
            .embeddings
            .iter()
            .map(|e| format!("{} ({})", e.name, e.weight))
            .collect();
        ui.label(RichText::new(format!("Embeddings: {}", names.join(", "))).small());
    }
    if !prompt.matrix_tokens.is_empty() {
        ui.label(RichText::new(format!("Matrix: {}", prompt.matrix_tokens.join(", "))).small());
    }
}
