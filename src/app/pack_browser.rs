//! The pack browser (left): packs folder, search, pack list, and the selected pack's prompts as
//! checkboxes with their full text on hover.
//!
//! Pack ids come from file names, and names and keys from file contents: every one is shown
//! with control characters escaped (`\n`, `\t`, `\u{1b}`), so a label stays on one line. The
//! commands carry the real id and keys.
//!
//! Both lists draw only the rows on screen, one line each (long labels are cut with "…", the
//! full text is on hover). The pack list takes the height its rows need, up to the larger of
//! its share of the panel and what the selected pack's prompt rows leave free (all of it with
//! no pack selected); once the user drags the bar below it, up to the share they chose. The
//! prompt list takes the rest. A pack row's tooltip is built only while it is hovered. A prompt
//! is labelled by its slot name, if any, and by the part of its text that differs from the
//! pack's other prompts ([`crate::packs::prompt_labels`], computed once per pack load).
//!
//! Its state, [`PackBrowserState`], is the search text (bound directly), the list of packs it
//! matches and the selected pack's prompt labels; selecting a pack, checking a prompt and
//! choosing a folder are commands.

use super::commands::{Command, CommandQueue};
use super::state::{ViewContext, testing_pub_struct};
use super::widgets::{self, plural};
use crate::packs::{
    MatrixConfig, PackError, PackFormat, PromptPack, escape_control as esc, matrix_slot,
    prompt_labels,
};
use egui::RichText;
use std::path::Path;
use std::sync::Arc;

/// The pack list's share of the panel height when the user has not dragged the split.
pub const DEFAULT_PACK_LIST_SHARE: f32 = 0.4;
/// The prompt area keeps at least this height below the split (header and a few rows).
const MIN_PROMPT_AREA: f32 = 150.0;
/// The pack list keeps at least this height (two rows) when it has that many packs.
const MIN_PACK_LIST: f32 = 48.0;
/// Height of the bar that moves the split.
const SPLITTER_HEIGHT: f32 = 9.0;
/// At most this many values of a matrix token are listed in a tooltip.
const MAX_MATRIX_VALUES: usize = 24;

testing_pub_struct! {
    /// The pack browser's state.
    #[derive(Debug, Default)]
    pub struct PackBrowserState {
        search: String,
        /// (search text, packs version, matching indices).
        filter_cache: Option<(String, u64, Vec<usize>)>,
        /// The selected pack's prompt rows: (packs version, pack id, one label per prompt).
        /// Computed when the pack or the packs change, never per frame.
        prompt_rows: Option<(u64, String, Arc<[String]>)>,
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

    /// The selected pack's prompt labels, one per prompt (computed once per pack load).
    pub fn prompt_rows(&mut self, ctx: &ViewContext<'_>, pack: &PromptPack) -> Arc<[String]> {
        let fresh = matches!(&self.prompt_rows,
            Some((version, id, _)) if *version == ctx.packs_version && *id == pack.id);
        if !fresh {
            self.prompt_rows = Some((ctx.packs_version, pack.id.clone(), prompt_row_labels(pack)));
        }
        self.prompt_rows
            .as_ref()
            .map_or_else(|| Arc::from(Vec::new()), |(_, _, rows)| rows.clone())
    }

    /// Draws the browser into `ui`.
    pub fn show(&mut self, ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        folder_row(self, ctx, ui, commands);
        ui.separator();
        let split_id = ui.scope_id().with("pack_list_share");
        // Set only by a drag on the split: then the user's share holds.
        let dragged: Option<f32> = ui.data_mut(|d| d.get_persisted(split_id));
        let total = ui.available_height();
        let wanted = match ctx.selected_pack {
            // With no pack selected there are no prompts to show: the list may take the room.
            None => f32::INFINITY,
            Some(_) if dragged.is_some() => dragged.unwrap_or(DEFAULT_PACK_LIST_SHARE) * total,
            // Its share, or what the selected pack's prompt rows leave free if that is more.
            Some(pack) => (DEFAULT_PACK_LIST_SHARE * total)
                .max(total - SPLITTER_HEIGHT - prompt_area_needed(ui, pack.prompts.len())),
        };
        let list_height = pack_list(self, ctx, ui, commands, wanted);
        if let Some(new_height) = splitter(ui, list_height) {
            let share = (new_height / total.max(1.0)).clamp(0.05, 0.95);
            ui.data_mut(|d| d.insert_persisted(split_id, share));
        }
        prompt_list(self, ctx, ui, commands);
    }
}

/// Where the height of the prompt area's header (title, format, settings line, token legend)
/// measured last frame is kept.
fn prompt_header_id() -> egui::Id {
    egui::Id::unique("pack_browser_prompt_header_height")
}

/// Where the height the error list took last frame is kept.
fn error_list_id() -> egui::Id {
    egui::Id::unique("pack_browser_error_list_height")
}

/// The height the prompt area needs for `prompts` rows under its header.
fn prompt_area_needed(ui: &egui::Ui, prompts: usize) -> f32 {
    let header: f32 = ui
        .data(|d| d.get_temp(prompt_header_id()))
        .unwrap_or(4.0 * ui.spacing().interact_size.y);
    header + prompts as f32 * ui.spacing().interact_size.y + ui.spacing().item_spacing.y
}

/// The one-line label of each prompt of `pack`: `key: text` or `key name: text`, where text
/// starts with "…" when the prefix it shares with the other prompts is left out.
fn prompt_row_labels(pack: &PromptPack) -> Arc<[String]> {
    pack.prompts
        .iter()
        .zip(prompt_labels(&pack.prompts))
        .map(|(prompt, label)| {
            let key = esc(&prompt.key);
            let elided = if label.prefix_removed { "…" } else { "" };
            let text = esc(&label.text);
            match &label.name {
                Some(name) => format!("{key} {}: {elided}{text}", esc(name)),
                None => format!("{key}: {elided}{text}"),
            }
        })
        .collect()
}

fn folder_row(
    state: &mut PackBrowserState,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    ui.horizontal(|ui| {
        // The buttons first (right to left), so a narrow panel cuts the heading, not them.
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("🔄")
                .on_hover_text("Reload the packs folder (F5)")
                .clicked()
            {
                commands.push(Command::ReloadPacks);
            }
            // In a narrow panel the button shrinks to its icon, so the heading keeps its room.
            let open = if ui.available_width() < 240.0 {
                "📂"
            } else {
                "📂 Open folder..."
            };
            if ui
                .button(open)
                .on_hover_text("Open another packs folder")
                .clicked()
            {
                commands.push(Command::PickPacksFolder);
            }
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                ui.add(egui::Label::new(RichText::new("Packs").heading()).truncate());
                if ctx.scanning_packs {
                    ui.spinner();
                }
            });
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

/// The pack list (and the files that failed to load), at most `wanted` high unless its rows
/// need less, leaving the prompts their room (only a line when no pack is selected); returns
/// the height the rows took.
fn pack_list(
    state: &mut PackBrowserState,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
    wanted: f32,
) -> f32 {
    let visible = state.visible_packs(ctx);
    let errors = ctx.pack_errors;
    let mut clicked = None;
    let row_height = ui
        .spacing()
        .interact_size
        .y
        .max(ui.text_style_height(&egui::TextStyle::Body) + 4.0);
    let rows_height = visible.len() as f32 * (row_height + ui.spacing().item_spacing.y);
    // What the error list took last frame (one line when collapsed).
    let errors_height = if errors.is_empty() {
        0.0
    } else {
        ui.data(|d| d.get_temp(error_list_id())).unwrap_or(150.0)
    };
    let prompt_area = match ctx.selected_pack {
        Some(pack) => MIN_PROMPT_AREA.min(prompt_area_needed(ui, pack.prompts.len())),
        None => 2.0 * row_height,
    };
    let most =
        (ui.available_height() - errors_height - SPLITTER_HEIGHT - prompt_area).max(MIN_PACK_LIST);
    let height = rows_height
        .min(wanted.clamp(MIN_PACK_LIST, most))
        .max(row_height);
    egui::ScrollArea::vertical()
        .id_salt("pack_list")
        .max_height(height)
        .min_scrolled_height(height)
        .auto_shrink([false, false])
        .show_rows(ui, row_height, visible.len(), |ui, range| {
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
            // Only the rows on screen are formatted.
            for &i in &visible[range] {
                let pack = &ctx.packs[i];
                let warnings = ctx.pack_warnings.get(i).map_or(&[][..], Vec::as_slice);
                let selected = ctx.selected_pack.is_some_and(|p| p.id == pack.id);
                // The tooltip is built only while the row is hovered.
                let response = ui
                    .selectable_label(selected, pack_row(pack, warnings))
                    .on_hover_ui(|ui| {
                        ui.label(pack_hover(pack, warnings, errors));
                    });
                if response.clicked() {
                    clicked = Some(pack.id.clone());
                }
            }
        });
    if !errors.is_empty() {
        let top = ui.cursor().top();
        error_list(ctx, ui);
        let used = ui.cursor().top() - top;
        ui.data_mut(|d| d.insert_temp(error_list_id(), used));
    }
    if let Some(id) = clicked {
        commands.push(Command::SelectPack(id));
    }
    height
}

/// One pack's row text.
fn pack_row(pack: &PromptPack, warnings: &[String]) -> String {
    let count = plural(pack.prompts.len(), "prompt");
    let format = pack.format_name();
    let id = esc(&pack.id);
    let label = if pack.name != pack.id {
        format!("{}  ({id})", esc(&pack.name))
    } else {
        id.into_owned()
    };
    let marker = if warnings.is_empty() { "" } else { "⚠ " };
    format!("{marker}{label}   {count} · {format}")
}

/// One pack's tooltip: its files, where its settings come from, its warnings.
fn pack_hover(pack: &PromptPack, warnings: &[String], errors: &[PackError]) -> String {
    let count = plural(pack.prompts.len(), "prompt");
    let mut hover = format!("{}: {count}, {}", esc(&pack.id), pack.format_name());
    for path in &pack.paths {
        hover.push_str("\n  ");
        hover.push_str(&esc(&file_name(path)));
    }
    hover.push('\n');
    hover.push_str(&settings_source(pack, errors).0);
    for warning in warnings {
        hover.push_str("\n⚠ ");
        hover.push_str(&esc(warning));
    }
    hover
}

/// The files of the packs folder that could not be loaded, each with its error on hover.
fn error_list(ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    let errors = ctx.pack_errors;
    ui.add_space(4.0);
    let title = format!("⚠ {} could not be loaded", plural(errors.len(), "file"));
    egui::CollapsingHeader::new(RichText::new(title).color(ui.visuals().warn_fg_color))
        .id_salt("pack_errors")
        .default_open(true)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("pack_error_list")
                .max_height(110.0)
                .show(ui, |ui| {
                    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
                    for error in errors {
                        let name = error
                            .path
                            .as_ref()
                            .map(|p| esc(&file_name(p)).into_owned())
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

/// The bar between the pack list and the prompts; dragging it moves the split. Returns the
/// pack list's new height while it is dragged.
fn splitter(ui: &mut egui::Ui, list_height: f32) -> Option<f32> {
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), SPLITTER_HEIGHT),
        egui::Sense::drag(),
    );
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::accesskit::Role::Splitter,
            true,
            "Drag to resize the pack list",
        )
    });
    let response = response.on_hover_cursor(egui::CursorIcon::ResizeVertical);
    let stroke = if response.hovered() || response.dragged() {
        ui.visuals().widgets.hovered.fg_stroke
    } else {
        ui.visuals().widgets.noninteractive.bg_stroke
    };
    ui.painter().hline(rect.x_range(), rect.center().y, stroke);
    // A grip in the middle says the bar can be dragged.
    let grip = egui::Rect::from_center_size(rect.center(), egui::vec2(28.0, 4.0));
    ui.painter().rect_filled(grip, 2.0, stroke.color);
    if response.dragged() {
        let delta = response.drag_delta().y;
        (delta != 0.0).then_some(list_height + delta)
    } else {
        None
    }
}

fn prompt_list(
    state: &mut PackBrowserState,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    let Some(pack) = ctx.selected_pack else {
        ui.weak("Select a pack to see its prompts.");
        return;
    };
    let header_top = ui.cursor().top();
    ui.horizontal(|ui| {
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("None").clicked() {
                commands.push(Command::CheckNoKeys);
            }
            if ui.small_button("All").clicked() {
                commands.push(Command::CheckAllKeys);
            }
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                let title = format!("Prompts in {}", esc(&pack.name));
                ui.add(egui::Label::new(RichText::new(title).strong()).truncate());
            });
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
    let (settings, settings_hover) = settings_source(pack, ctx.pack_errors);
    ui.add(egui::Label::new(RichText::new(settings).small()).truncate())
        .on_hover_text(settings_hover);
    widgets::token_legend(ui);
    let header = ui.cursor().top() - header_top;
    ui.data_mut(|d| d.insert_temp(prompt_header_id(), header));
    let rows = state.prompt_rows(ctx, pack);
    let row_height = ui.spacing().interact_size.y;
    egui::ScrollArea::vertical()
        .id_salt("prompt_list")
        .auto_shrink([false, false])
        .show_rows(ui, row_height, pack.prompts.len(), |ui, range| {
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
            for i in range {
                let prompt = &pack.prompts[i];
                let mut checked = ctx.checked_keys.contains(&prompt.key);
                let response = ui
                    .checkbox(&mut checked, rows[i].as_str())
                    .on_hover_ui(|ui| {
                        ui.set_max_width(460.0);
                        prompt_details(ui, prompt, pack.matrix.as_ref());
                    });
                if response.changed() {
                    commands.push(Command::SetKeyChecked(prompt.key.clone(), checked));
                }
            }
        });
}

/// A file's name (lossy), or the whole path when it has none.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Where the pack's generation settings come from, as a short line and a longer tooltip
/// (with the settings it names). A `.txt`, `.tsv` or `styles.csv` pack has none of its own: a
/// `.json` of the same name (StableNew's `preset_data.txt2img`) gives them. `errors` are the
/// packs folder's load errors: a `.json` of the pack's name among them failed to load.
pub fn settings_source(pack: &PromptPack, errors: &[PackError]) -> (String, String) {
    let is_json = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    };
    let json = pack.paths.iter().find(|p| is_json(p));
    let json_name = json.map(|p| esc(&file_name(p)).into_owned());
    let prompts_from_json = matches!(
        pack.format,
        Some(PackFormat::UnifiedJson | PackFormat::KeyedJson)
    );
    let failed_json = errors.iter().find(|e| {
        e.path.as_deref().is_some_and(|p| {
            is_json(p)
                && p.file_stem()
                    .is_some_and(|s| s.to_string_lossy().eq_ignore_ascii_case(&pack.id))
        })
    });
    let named = settings_summary(pack);
    match (json_name, named.is_empty()) {
        (Some(json), false) => (
            format!("Settings from {json}"),
            format!("Generation settings of this pack, from {json}: {named}."),
        ),
        (Some(json), true) if !prompts_from_json && !pack.format.is_some_and(PackFormat::is_style_source) => (
            format!("No settings: {json} names none"),
            format!(
                "{json}, beside the prompts file, names no generation settings (preset_data.txt2img)."
            ),
        ),
        _ if prompts_from_json => (
            "No settings in this pack".to_owned(),
            "This pack's .json names no generation settings (preset_data.txt2img).".to_owned(),
        ),
        _ if failed_json.is_some() => {
            let error = failed_json.expect("checked");
            let name = error
                .path
                .as_deref()
                .map(|p| esc(&file_name(p)).into_owned())
                .unwrap_or_default();
            (
                format!("No settings: {name} could not be loaded"),
                format!(
                    "{name}, beside the prompts file, would give this pack its generation settings, but it could not be loaded: {}",
                    esc(&error.to_string())
                ),
            )
        }
        _ if pack.format.is_some_and(PackFormat::is_style_source) => (
            "No settings (A1111 styles hold prompts only)".to_owned(),
            "An A1111 styles.csv holds prompt styles only, no generation settings: jobs from it use your own settings (Generation settings in the composer).".to_owned(),
        ),
        _ => (
            format!("No settings (no {}.json)", esc(&pack.id)),
            format!(
                "A {} pack holds prompts only. StableNew keeps a pack's generation settings in a .json of the same name ({}.json, preset_data.txt2img) beside it; this pack has none.",
                pack.format_name(),
                esc(&pack.id)
            ),
        ),
    }
}

/// The settings a pack names, as text (`sampler DPM++ 2M, 34 steps, ...`); empty when none.
fn settings_summary(pack: &PromptPack) -> String {
    let d = &pack.defaults;
    let mut parts = Vec::new();
    if let Some(model) = &d.model {
        parts.push(format!("model {}", esc(model)));
    }
    if let Some(sampler) = &d.sampler {
        parts.push(format!("sampler {}", esc(sampler)));
    }
    if let Some(scheduler) = &d.scheduler {
        parts.push(format!("scheduler {}", esc(scheduler)));
    }
    if let Some(steps) = d.steps {
        parts.push(plural(steps as usize, "step"));
    }
    if let Some(cfg) = d.cfg_scale {
        parts.push(format!("CFG {cfg}"));
    }
    match (d.width, d.height) {
        (Some(w), Some(h)) => parts.push(format!("size {w}×{h}")),
        (Some(w), None) => parts.push(format!("width {w}")),
        (None, Some(h)) => parts.push(format!("height {h}")),
        (None, None) => {}
    }
    if let Some(seed) = d.seed {
        parts.push(if seed < 0 {
            "random seed".to_owned()
        } else {
            format!("seed {seed}")
        });
    }
    if let Some(n) = d.batch_size {
        parts.push(format!("batch size {n}"));
    }
    if let Some(n) = d.batch_count {
        parts.push(format!("batch count {n}"));
    }
    if let Some(n) = d.clip_skip {
        parts.push(format!("clip skip {n}"));
    }
    parts.join(", ")
}

/// Full positive and negative text of one pack prompt, with its tokens marked, and the values
/// its `[[matrix]]` tokens take in `matrix` (the pack's matrix settings).
pub fn prompt_details(
    ui: &mut egui::Ui,
    prompt: &crate::packs::PackPrompt,
    matrix: Option<&MatrixConfig>,
) {
    match &prompt.label {
        Some(name) => ui.strong(format!("Key {} · {}", esc(&prompt.key), esc(name))),
        None => ui.strong(format!("Key {}", esc(&prompt.key))),
    };
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
        matrix_details(ui, &prompt.matrix_tokens, matrix);
    }
}

/// Each `[[token]]` of a prompt with the values the pack gives it, and how the pack runs them.
fn matrix_details(ui: &mut egui::Ui, tokens: &[String], matrix: Option<&MatrixConfig>) {
    let heading = match matrix {
        Some(m) if m.enabled => format!(
            "Matrix ({}, at most {} per prompt)",
            esc(&m.mode),
            plural(m.limit as usize, "combination")
        ),
        Some(m) => format!("Matrix (off in this pack; mode {})", esc(&m.mode)),
        None => "Matrix".to_owned(),
    };
    ui.label(RichText::new(heading).small().strong());
    for token in tokens {
        let values = match matrix.and_then(|m| matrix_slot(m, token)) {
            Some(slot) if !slot.values.is_empty() => matrix_values(&slot.values),
            Some(_) => "no values in this pack".to_owned(),
            None => "no values defined in this pack".to_owned(),
        };
        ui.label(RichText::new(format!("[[{}]]: {values}", esc(token))).small());
    }
}

/// Matrix values joined with " · ", at most [`MAX_MATRIX_VALUES`] of them.
fn matrix_values(values: &[String]) -> String {
    let shown: Vec<String> = values
        .iter()
        .take(MAX_MATRIX_VALUES)
        .map(|v| esc(v).into_owned())
        .collect();
    let mut text = shown.join(" · ");
    if values.len() > MAX_MATRIX_VALUES {
        text.push_str(&format!(
            " · … and {} more",
            values.len() - MAX_MATRIX_VALUES
        ));
    }
    text
}
