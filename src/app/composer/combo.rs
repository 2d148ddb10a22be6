//! An editable combo box: a text field that takes any value, with a drop-down of suggestions
//! beside it (clicking one puts it in the field). The suggestions are a plain list handed to the
//! widget: the AUTOMATIC1111 and ComfyUI names below for samplers and schedulers, the models
//! seen in the history and the packs for Model (a backend can hand its own lists later).

use crate::packs::PromptPack;
use egui::{Response, Sense, Ui, WidgetInfo};
use std::collections::BTreeSet;

/// AUTOMATIC1111 / Forge sampler names.
pub const A1111_SAMPLERS: &[&str] = &[
    "Euler a",
    "Euler",
    "LMS",
    "Heun",
    "DPM2",
    "DPM2 a",
    "DPM++ 2S a",
    "DPM++ 2M",
    "DPM++ SDE",
    "DPM++ 2M SDE",
    "DPM++ 2M SDE Heun",
    "DPM++ 3M SDE",
    "DPM fast",
    "DPM adaptive",
    "Restart",
    "DDIM",
    "DDIM CFG++",
    "PLMS",
    "UniPC",
    "LCM",
];

/// ComfyUI (KSampler) sampler names.
pub const COMFYUI_SAMPLERS: &[&str] = &[
    "euler",
    "euler_ancestral",
    "heun",
    "heunpp2",
    "dpm_2",
    "dpm_2_ancestral",
    "lms",
    "dpm_fast",
    "dpm_adaptive",
    "dpmpp_2s_ancestral",
    "dpmpp_sde",
    "dpmpp_sde_gpu",
    "dpmpp_2m",
    "dpmpp_2m_sde",
    "dpmpp_2m_sde_gpu",
    "dpmpp_3m_sde",
    "dpmpp_3m_sde_gpu",
    "ddpm",
    "lcm",
    "ipndm",
    "deis",
    "ddim",
    "uni_pc",
    "uni_pc_bh2",
];

/// AUTOMATIC1111 / Forge schedule types.
pub const A1111_SCHEDULERS: &[&str] = &[
    "Automatic",
    "Uniform",
    "Karras",
    "Exponential",
    "Polyexponential",
    "SGM Uniform",
    "KL Optimal",
    "Align Your Steps",
    "Simple",
    "Normal",
    "DDIM",
    "Beta",
];

/// ComfyUI scheduler names.
pub const COMFYUI_SCHEDULERS: &[&str] = &[
    "normal",
    "karras",
    "exponential",
    "sgm_uniform",
    "simple",
    "ddim_uniform",
    "beta",
    "linear_quadratic",
    "kl_optimal",
];

/// The names of two lists, in order, as owned strings.
pub fn joined(first: &[&str], second: &[&str]) -> Vec<String> {
    first
        .iter()
        .chain(second)
        .map(|s| (*s).to_owned())
        .collect()
}

/// The models named by the history's records and the packs' defaults, sorted, once each.
pub fn models_seen<'a>(
    history_models: impl Iterator<Item = &'a str>,
    packs: &'a [PromptPack],
) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let from_packs = packs.iter().filter_map(|p| p.defaults.model.as_deref());
    for model in history_models.chain(from_packs) {
        let model = model.trim();
        if !model.is_empty() && !seen.contains(model) {
            seen.insert(model.to_owned());
        }
    }
    seen.into_iter().collect()
}

/// The id of the suggestions drop-down of the combo named `name`.
pub fn popup_id(name: &str) -> egui::Id {
    egui::Id::unique(("promptdesk-editable-combo", name))
}

/// Draws a text field for `value` and a drop-down button listing `suggestions` (named
/// "`name` suggestions" for screen readers). Returns the text field's response: name it with
/// `labelled_by`.
pub fn editable_combo(
    ui: &mut Ui,
    name: &str,
    value: &mut String,
    hint: &str,
    width: f32,
    suggestions: &[String],
) -> Response {
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 2.0;
        let field = ui.add(
            egui::TextEdit::singleline(value)
                .hint_text(hint)
                .desired_width(width),
        );
        let button = drop_down_button(ui, &format!("{name} suggestions")).on_hover_text(format!(
            "Pick a {} from the list, or type any name",
            name.to_lowercase()
        ));
        egui::Popup::menu(&button)
            .id(popup_id(name))
            .anchor(field.rect.union(button.rect))
            .width(field.rect.width() + button.rect.width())
            .show(|ui| suggestion_list(ui, value, suggestions));
        field
    })
    .inner
}

/// A small button with a down-pointing triangle, named for screen readers.
fn drop_down_button(ui: &mut Ui, accessible: &str) -> Response {
    let size = egui::vec2(ui.spacing().interact_size.y, ui.spacing().interact_size.y);
    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
    let enabled = ui.is_enabled();
    let label = accessible.to_owned();
    response.widget_info(|| WidgetInfo::labeled(egui::Role::Button, enabled, label.clone()));
    if ui.is_rect_visible(rect) {
        let visuals = ui.style().interact(&response);
        ui.painter().rect(
            rect,
            visuals.corner_radius,
            visuals.weak_bg_fill,
            visuals.bg_stroke,
            egui::StrokeKind::Inside,
        );
        let c = rect.center();
        let r = rect.height() * 0.18;
        ui.painter().add(egui::Shape::convex_polygon(
            vec![
                egui::pos2(c.x - r * 1.3, c.y - r * 0.6),
                egui::pos2(c.x + r * 1.3, c.y - r * 0.6),
                egui::pos2(c.x, c.y + r * 0.9),
            ],
            visuals.fg_stroke.color,
            egui::Stroke::NONE,
        ));
    }
    response
}

/// The suggestions, those containing the typed text first; clicking one takes it.
fn suggestion_list(ui: &mut Ui, value: &mut String, suggestions: &[String]) {
    if suggestions.is_empty() {
        ui.weak("No suggestions yet: type a name.");
        return;
    }
    let typed = value.trim().to_lowercase();
    let filtering = !typed.is_empty() && !suggestions.iter().any(|s| s == value);
    let (matching, others): (Vec<&String>, Vec<&String>) = suggestions
        .iter()
        .partition(|s| filtering && s.to_lowercase().contains(&typed));
    egui::ScrollArea::vertical()
        .max_height(300.0)
        .show(ui, |ui| {
            pick_one(ui, value, &matching);
            if !matching.is_empty() && !others.is_empty() {
                ui.separator();
            }
            pick_one(ui, value, &others);
        });
}

/// One selectable row per suggestion; a click puts it in `value`.
fn pick_one(ui: &mut Ui, value: &mut String, suggestions: &[&String]) {
    for suggestion in suggestions {
        if ui
            .selectable_label(value == *suggestion, suggestion.as_str())
            .clicked()
        {
            value.clone_from(suggestion);
        }
    }
}
