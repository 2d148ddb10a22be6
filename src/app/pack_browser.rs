//! The pack browser (left): packs folder, search, pack list, and the selected pack's prompts as
//! checkboxes with their full text on hover.
//!
//! Pack ids come from file names, and names and keys from file contents: every one is shown
//! with control characters escaped (`\n`, `\t`, `\u{1b}`), so a label stays on one line. The
//! commands carry the real id and keys.
//!
//! Its state, [`PackBrowserState`], is the search text (bound directly) and the list of packs
//! it matches; selecting a pack, checking a prompt and choosing a folder are commands.

use super::commands::{Command, CommandQueue};
use super::state::{ViewContext, testing_pub_struct};
use super::widgets;
use crate::packs::escape_control as esc;
use egui::RichText;

testing_pub_struct! {
    /// The pack browser's state.
    #[derive(Debug, Default)]
    pub struct PackBrowserState {
        search: String,
        /// (search text, packs version, matching indices).
        filter_cache: Option<(String, u64, Vec<usize>)>,
    }
}

impl PackBrowserState {
    /// Indices (into `ctx.packs`) of the packs whose id or name contains the search text
    /// (case-insensitive). Cached: recomputed only when the search or the packs change.
    pub fn visible_packs(&mut self, ctx: &ViewContext<'_>) -> &[usize] {
        let needle = self.search.trim().to_lowercase();
        let fresh = matches!(&self.filter_cache,
            Some((search, version, _)) if *search == needle && *version == ctx.packs_version);
        if !fresh {
            let indices = ctx
                .packs
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    needle.is_empty()
                        || p.id.to_lowercase().contains(&needle)
                        || p.name.to_lowercase().contains(&needle)
                })
                .map(|(i, _)| i)
                .collect();
            self.filter_cache = Some((needle, ctx.packs_version, indices));
        }
        self.filter_cache
            .as_ref()
            .map_or(&[], |(_, _, indices)| indices.as_slice())
    }

    /// Draws the browser into `ui`.
    pub fn show(&mut self, ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        folder_row(self, ctx, ui, commands);
        ui.separator();
        pack_list(self, ctx, ui, commands);
        ui.separator();
        prompt_list(ctx, ui, commands);
    }
}

fn folder_row(
    state: &mut PackBrowserState,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    ui.horizontal(|ui| {
        ui.heading("Packs");
        if ctx.scanning_packs {
            ui.spinner();
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("🔄")
                .on_hover_text("Reload the packs folder (F5)")
                .clicked()
            {
                commands.push(Command::ReloadPacks);
            }
            if ui.button("Open folder...").clicked() {
                commands.push(Command::PickPacksFolder);
            }
        });
    });
    let dir = esc(&ctx.packs_dir.display().to_string()).into_owned();
    ui.add(egui::Label::new(RichText::new(&dir).small().monospace()).truncate())
        .on_hover_text(&dir);
    ui.horizontal(|ui| {
        let label = ui.label("Search packs");
        ui.add(
            egui::TextEdit::singleline(&mut state.search)
                .hint_text("id or name")
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
    });
}

fn pack_list(
    state: &mut PackBrowserState,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    let visible = state.visible_packs(ctx);
    let errors = ctx.pack_errors;
    let mut clicked = None;
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    egui::ScrollArea::vertical()
        .id_salt("pack_list")
        .max_height((ui.available_height() * 0.45).max(120.0))
        .auto_shrink([false, false])
        .show_rows(ui, row_height, visible.len(), |ui, range| {
            // Only the rows on screen are formatted.
            for &i in &visible[range] {
                let pack = &ctx.packs[i];
                let count = pack.prompts.len();
                let format = pack.format_name();
                let id = esc(&pack.id);
                let label = if pack.name != pack.id {
                    format!("{}  ({id})", esc(&pack.name))
                } else {
                    id.clone().into_owned()
                };
                let warnings = ctx.pack_warnings.get(i).map_or(&[][..], Vec::as_slice);
                let marker = if warnings.is_empty() { "" } else { "⚠ " };
                let text = format!("{marker}{label}   {count} prompts · {format}");
                let selected = ctx.selected_pack.is_some_and(|p| p.id == pack.id);
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
        commands.push(Command::SelectPack(id));
    }
}

fn prompt_list(ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    let Some(pack) = ctx.selected_pack else {
        ui.weak("Select a pack to see its prompts.");
        return;
    };
    ui.horizontal(|ui| {
        ui.strong(format!("Prompts in {}", esc(&pack.name)));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("None").clicked() {
                commands.push(Command::CheckNoKeys);
            }
            if ui.small_button("All").clicked() {
                commands.push(Command::CheckAllKeys);
            }
        });
    });
    ui.label(
        RichText::new(format!(
            "{} · {} of {} checked",
            pack.format_name(),
            ctx.checked_keys.len(),
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
                let mut checked = ctx.checked_keys.contains(&prompt.key);
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
                    commands.push(Command::SetKeyChecked(prompt.key.clone(), checked));
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
