//! The composer's generation settings: the user's own settings (the baseline), a selected
//! pack's defaults laid over them, and the settings grid that shows which value came from
//! where.
//!
//! The rule, as the composer says it:
//! - your own settings are what you set by hand (or took from a job with Load into composer);
//!   they stay when you switch packs and are what a restart brings back;
//! - a pack's defaults (its `.json`) apply over your settings only while that pack is selected
//!   in Pack mode; each such field is marked, with the file on hover;
//! - changing a marked field makes the value yours: it becomes your own setting, and it wins
//!   over that pack's default until promptdesk restarts (*Use pack defaults* brings the pack's
//!   values back); *Reset to my settings* sets every marked field back to yours.

use super::combo;
use super::{Composer, PackDefaultsInUse};
use crate::packs::PromptPack;
use crate::run_config::{GenerationSettings, PromptSource};
use crate::settings_override::SettingsOverride;
use egui::RichText;

/// The file a pack's defaults come from: its `.json` (a `.txt` pack's settings live in its
/// `.json` companion), else its first file.
pub fn defaults_file(pack: &PromptPack) -> String {
    let is_json = |p: &&std::path::PathBuf| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    };
    pack.paths
        .iter()
        .find(is_json)
        .or(pack.paths.first())
        .and_then(|p| p.file_name())
        .map(|n| crate::packs::escape_control(&n.to_string_lossy()).into_owned())
        .unwrap_or_else(|| format!("{}.json", pack.id))
}

/// `baseline` (and its Random seed tick) with `applied` laid over it. A seed of -1 from a pack
/// means Random; any other seed it names unticks Random.
fn laid_over(
    baseline: &GenerationSettings,
    random: bool,
    applied: &SettingsOverride,
) -> (GenerationSettings, bool) {
    let mut settings = baseline.clone();
    let mut random = random;
    let mut rest = applied.clone();
    match rest.seed.take() {
        Some(seed) if seed < 0 => random = true,
        Some(seed) => {
            random = false;
            settings.seed = seed;
        }
        None => {}
    }
    rest.apply_to(&mut settings);
    (settings, random)
}

/// A width or height rounded to the nearest multiple of 8 (AUTOMATIC1111's step), within
/// the field's range.
pub fn round_to_multiple_of_8(value: u32) -> u32 {
    (value.saturating_add(4) / 8 * 8).clamp(64, 4096)
}

impl Composer {
    /// What the fields show when nothing was changed by hand since the composer last set them.
    fn expected(&self) -> (GenerationSettings, bool) {
        let applied = self
            .pack_defaults
            .as_ref()
            .map(|p| p.applied.clone())
            .unwrap_or_default();
        laid_over(&self.baseline, self.baseline_random_seed, &applied)
    }

    /// The fields changed by hand since the composer last set them. The seed counts as changed
    /// when the Random tick changed, or its number while Random is off.
    fn edits(&self) -> SettingsOverride {
        let (expected, expected_random) = self.expected();
        let mut edits = SettingsOverride::differences(&expected, &self.settings);
        let seed_edited = self.random_seed != expected_random
            || (!self.random_seed && self.settings.seed != expected.seed);
        edits.seed = seed_edited.then_some(self.settings.seed);
        edits
    }

    /// Takes the fields changed by hand into the user's own settings. A changed field the
    /// selected pack had set becomes the user's for that pack until a restart.
    pub(crate) fn absorb_edits(&mut self) {
        let edits = self.edits();
        if edits.is_empty() {
            return;
        }
        let mut others = edits.clone();
        others.seed = None;
        others.apply_to(&mut self.baseline);
        if edits.seed.is_some() {
            self.baseline.seed = self.settings.seed.max(0);
            self.baseline_random_seed = self.random_seed;
        }
        if let Some(p) = &mut self.pack_defaults {
            let from_pack = edits.without(&edits.without(&p.defaults));
            self.taken_over
                .entry(p.pack_id.clone())
                .or_default()
                .merge(&from_pack);
            p.applied = p.applied.without(&edits);
        }
    }

    /// The user's own settings and Random tick, with any change not taken in yet.
    pub fn own_settings(&self) -> (GenerationSettings, bool) {
        let edits = self.edits();
        let mut baseline = self.baseline.clone();
        let mut others = edits.clone();
        others.seed = None;
        others.apply_to(&mut baseline);
        if edits.seed.is_some() {
            baseline.seed = self.settings.seed.max(0);
            return (baseline, self.random_seed);
        }
        (baseline, self.baseline_random_seed)
    }

    /// Shows the user's own settings with the applied pack defaults over them.
    fn show_laid(&mut self) {
        (self.settings, self.random_seed) = self.expected();
    }

    /// Lays the defaults of `pack` over the user's own settings (`None`: no pack, or Manual
    /// mode: the user's own settings alone). Nothing changes while the same pack, with the
    /// same defaults, stays selected.
    pub(crate) fn use_pack(&mut self, pack: Option<&PromptPack>) {
        self.absorb_edits();
        let wanted = pack.filter(|p| !p.defaults.is_empty());
        let same = match (&self.pack_defaults, wanted) {
            (None, None) => true,
            (Some(now), Some(pack)) => now.pack_id == pack.id && now.defaults == pack.defaults,
            _ => false,
        };
        if same {
            return;
        }
        self.pack_defaults = wanted.map(|pack| {
            let taken = self.taken_over.get(&pack.id).cloned().unwrap_or_default();
            PackDefaultsInUse {
                pack_id: pack.id.clone(),
                file: defaults_file(pack),
                defaults: pack.defaults.clone(),
                applied: pack.defaults.without(&taken),
            }
        });
        self.show_laid();
    }

    /// Applies the selection: the selected pack's defaults in Pack mode, none in Manual mode;
    /// the recorded prompts of a loaded job are dropped once another pack is selected.
    pub(crate) fn reconcile(&mut self, selected: Option<&PromptPack>) {
        let pack = selected.filter(|_| self.mode == PromptSource::Pack);
        self.use_pack(pack);
        if self
            .recorded
            .as_ref()
            .is_some_and(|r| Some(r.pack_id.as_str()) != selected.map(|p| p.id.as_str()))
        {
            self.recorded = None;
        }
    }

    /// "Reset to my settings": every field the pack set goes back to the user's own value, and
    /// stays so for this pack until a restart.
    pub(crate) fn reset_to_own_settings(&mut self) {
        self.absorb_edits();
        if let Some(p) = &mut self.pack_defaults {
            self.taken_over
                .entry(p.pack_id.clone())
                .or_default()
                .merge(&p.defaults);
            p.applied = SettingsOverride::default();
        }
        self.show_laid();
    }

    /// "Use pack defaults": the selected pack's defaults apply again, over every field it names.
    pub(crate) fn use_pack_defaults(&mut self) {
        self.absorb_edits();
        if let Some(p) = &mut self.pack_defaults {
            self.taken_over.remove(&p.pack_id);
            p.applied = p.defaults.clone();
        }
        self.show_laid();
    }

    /// Makes a loaded job's `settings` the user's own. With its `pack`, that pack's defaults do
    /// not override them until a restart (the job's values are what was asked).
    pub(crate) fn take_settings(
        &mut self,
        settings: &GenerationSettings,
        pack: Option<&PromptPack>,
    ) {
        let old_seed = self.baseline.seed.max(0);
        self.baseline = settings.clone();
        self.baseline_random_seed = settings.seed < 0;
        if settings.seed < 0 {
            self.baseline.seed = old_seed;
        }
        if let Some(pack) = pack {
            self.taken_over
                .entry(pack.id.clone())
                .or_default()
                .merge(&pack.defaults);
        }
        // Show the new own settings first, so that they are not taken for hand edits.
        self.pack_defaults = None;
        self.show_laid();
        self.use_pack(pack);
    }
}

/// The colour of the marker of a value that came from a pack (the PACK badge's).
fn pack_color(ui: &egui::Ui) -> egui::Color32 {
    crate::app::widgets::source_color(PromptSource::Pack, ui.visuals().dark_mode)
}

const MARKER_WIDTH: f32 = 10.0;

/// A small dot in the PACK colour (drawn: not every font has a bullet glyph).
fn pack_dot(ui: &mut egui::Ui) -> egui::Response {
    let size = egui::vec2(MARKER_WIDTH, ui.spacing().interact_size.y);
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Image, true, "from the pack's defaults")
    });
    if ui.is_rect_visible(rect) {
        ui.painter()
            .circle_filled(rect.center(), 3.5, pack_color(ui));
    }
    response
}

/// The marker beside a field whose value came from the pack's defaults.
/// Without one, the same space is left empty, so that the grid does not move when a pack
/// with defaults is selected.
fn pack_marker(ui: &mut egui::Ui, from_pack: bool, defaults: Option<&PackDefaultsInUse>) {
    let Some(p) = defaults.filter(|_| from_pack) else {
        ui.add_space(MARKER_WIDTH);
        return;
    };
    pack_dot(ui).on_hover_text(format!(
        "From {} (the default of pack {} while it is selected). Change it to make it your own setting.",
        p.file,
        crate::packs::escape_control(&p.pack_id)
    ));
}

/// What the pack's defaults do now, with Reset to my settings / Use pack defaults.
fn pack_defaults_note(composer: &mut Composer, ui: &mut egui::Ui) {
    let Some(p) = &composer.pack_defaults else {
        ui.weak("Your own settings: kept when you switch packs and after a restart.")
            .on_hover_text(RULE);
        return;
    };
    let applied = p.applied.named_fields();
    let pack = crate::packs::escape_control(&p.pack_id);
    let mut reset = false;
    let mut use_defaults = false;
    ui.horizontal_wrapped(|ui| {
        if applied.is_empty() {
            ui.label(format!(
                "Pack {pack}'s defaults ({}) are not used: your own settings apply.",
                p.file
            ));
        } else {
            pack_dot(ui);
            ui.label(format!("From {}: {}.", p.file, applied.join(", ")))
                .on_hover_text(RULE);
            reset = ui
                .small_button("Reset to my settings")
                .on_hover_text("Set the marked fields back to your own settings (for this pack, until you restart)")
                .clicked();
        }
        if p.applied != p.defaults {
            use_defaults = ui
                .small_button("Use pack defaults")
                .on_hover_text(format!(
                    "Use every setting {} names again: {}",
                    p.file,
                    p.defaults.named_fields().join(", ")
                ))
                .clicked();
        }
    });
    ui.weak(
        "A pack's defaults apply only while it is selected; a value you change becomes your own.",
    )
    .on_hover_text(RULE);
    if reset {
        composer.reset_to_own_settings();
    }
    if use_defaults {
        composer.use_pack_defaults();
    }
}

/// The settings rule, on hover.
const RULE: &str = "Your own settings are the ones you set by hand (or took from a job with Load into composer): they stay when you switch packs, and a restart brings them back.\n\nA pack's defaults (from its .json file) apply over your settings only while that pack is selected in Pack mode; the fields they set are marked with a dot in the PACK colour.\n\nChanging a marked field makes the value your own: it stays when you switch packs, and it wins over that pack's default until you restart (Use pack defaults brings the pack's values back).";

/// The generation settings grid (and the note on the pack's defaults above it).
pub(super) fn settings_section(composer: &mut Composer, ui: &mut egui::Ui) {
    egui::CollapsingHeader::new(RichText::new("Generation settings").strong())
        .id_salt("settings")
        .default_open(true)
        .show(ui, |ui| {
            pack_defaults_note(composer, ui);
            ui.add_space(4.0);
            settings_grid(composer, ui);
        });
}

/// The width of the label columns (the Model row lines up with the grid below it).
const LABEL_WIDTH: f32 = 80.0;
/// The spacing between the grid's columns.
const COLUMN_GAP: f32 = 12.0;

/// What an editable combo takes beside its text field: the drop-down button, the pack marker
/// and the spacing between them.
const COMBO_EXTRA: f32 = 44.0;

/// Below this width the settings take one per row instead of two.
const TWO_PER_ROW_MIN_WIDTH: f32 = 500.0;

/// How many settings a grid row holds at this width.
fn settings_per_row(available: f32) -> usize {
    if available >= TWO_PER_ROW_MIN_WIDTH {
        2
    } else {
        1
    }
}

/// The width of the Sampler and Scheduler fields: the label columns and combos of a row
/// share `available`, within limits that keep the names readable.
fn combo_width(available: f32, per_row: usize) -> f32 {
    let n = per_row as f32;
    let labels = n * LABEL_WIDTH + (2.0 * n - 1.0) * COLUMN_GAP;
    ((available - labels) / n - COMBO_EXTRA).clamp(110.0, 180.0)
}

/// A label taking the label column's width.
fn label_cell(ui: &mut egui::Ui, text: &str) -> egui::Response {
    let label = ui.label(text);
    let rest = LABEL_WIDTH - label.rect.width();
    if rest > 0.0 {
        ui.add_space(rest);
    }
    label
}

fn settings_grid(composer: &mut Composer, ui: &mut egui::Ui) {
    let marks = composer.pack_defaults.clone();
    let marks = marks.as_ref();
    let applied = marks.map(|p| p.applied.clone()).unwrap_or_default();
    let Composer {
        settings: s,
        random_seed,
        suggestions,
        ..
    } = composer;
    let per_row = settings_per_row(ui.available_width());
    let combo_w = combo_width(ui.available_width(), per_row);
    // Model names are long: the Model field has a row of its own, as wide as there is room.
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = COLUMN_GAP;
        let label = label_cell(ui, "Model");
        let width = (ui.available_width() - COMBO_EXTRA - COLUMN_GAP).clamp(combo_w, 480.0);
        combo::editable_combo(
            ui,
            "Model",
            &mut s.model,
            "empty = current model",
            width,
            &suggestions.models,
        )
        .labelled_by(label.id)
        .on_hover_text("The checkpoint to use; empty keeps the front end's current one");
        ui.spacing_mut().item_spacing.x = 4.0;
        pack_marker(ui, applied.model.is_some(), marks);
    });
    ui.add_space(2.0);
    egui::Grid::new("settings_grid")
        .num_columns(2 * per_row)
        .min_col_width(LABEL_WIDTH)
        .spacing([COLUMN_GAP, 6.0])
        .show(ui, |ui| {
            let mut placed = 0;
            // Ends the grid row once it holds `per_row` settings.
            let mut next = |ui: &mut egui::Ui| {
                placed += 1;
                if placed % per_row == 0 {
                    ui.end_row();
                }
            };
            let label = ui.label("Sampler");
            ui.horizontal(|ui| {
                combo::editable_combo(
                    ui,
                    "Sampler",
                    &mut s.sampler,
                    "",
                    combo_w,
                    &suggestions.samplers,
                )
                .labelled_by(label.id);
                pack_marker(ui, applied.sampler.is_some(), marks);
            });
            next(ui);
            let label = ui.label("Scheduler");
            ui.horizontal(|ui| {
                combo::editable_combo(
                    ui,
                    "Scheduler",
                    &mut s.scheduler,
                    "",
                    combo_w,
                    &suggestions.schedulers,
                )
                .labelled_by(label.id);
                pack_marker(ui, applied.scheduler.is_some(), marks);
            });
            next(ui);
            let label = ui.label("Steps");
            ui.horizontal(|ui| {
                ui.add(egui::DragValue::new(&mut s.steps).range(1..=150))
                    .labelled_by(label.id);
                pack_marker(ui, applied.steps.is_some(), marks);
            });
            next(ui);
            let label = ui.label("CFG scale");
            ui.horizontal(|ui| {
                ui.add(
                    egui::DragValue::new(&mut s.cfg_scale)
                        .range(1.0..=30.0)
                        .speed(0.1)
                        .max_decimals(2),
                )
                .labelled_by(label.id);
                pack_marker(ui, applied.cfg_scale.is_some(), marks);
            });
            next(ui);
            let label = ui.label("Width");
            ui.horizontal(|ui| {
                size_field(ui, &mut s.width, "Width").labelled_by(label.id);
                pack_marker(ui, applied.width.is_some(), marks);
            });
            next(ui);
            let label = ui.label("Height");
            ui.horizontal(|ui| {
                size_field(ui, &mut s.height, "Height").labelled_by(label.id);
                pack_marker(ui, applied.height.is_some(), marks);
                if ui
                    .small_button("Swap")
                    .on_hover_text("Swap width and height")
                    .clicked()
                {
                    std::mem::swap(&mut s.width, &mut s.height);
                }
            });
            next(ui);
            let label = ui.label("Seed");
            ui.horizontal(|ui| {
                ui.add_enabled(
                    !*random_seed,
                    egui::DragValue::new(&mut s.seed).range(0..=i64::from(u32::MAX)),
                )
                .labelled_by(label.id);
                ui.checkbox(random_seed, "Random")
                    .on_hover_text("A new random seed for every image (recorded as -1)");
                pack_marker(ui, applied.seed.is_some(), marks);
            });
            next(ui);
            let label = ui.label("Clip skip");
            ui.horizontal(|ui| {
                ui.add(egui::DragValue::new(&mut s.clip_skip).range(1..=12))
                    .labelled_by(label.id);
                pack_marker(ui, applied.clip_skip.is_some(), marks);
            });
            next(ui);
            let label = ui.label("Batch size");
            ui.horizontal(|ui| {
                ui.add(egui::DragValue::new(&mut s.batch_size).range(1..=64))
                    .labelled_by(label.id);
                pack_marker(ui, applied.batch_size.is_some(), marks);
            });
            next(ui);
            let label = ui.label("Batch count");
            ui.horizontal(|ui| {
                ui.add(egui::DragValue::new(&mut s.batch_count).range(1..=100))
                    .labelled_by(label.id);
                pack_marker(ui, applied.batch_count.is_some(), marks);
            });
            next(ui);
        });
    if s.width % 8 != 0 || s.height % 8 != 0 {
        ui.label(
            RichText::new(format!(
                "⚠ {}×{} is not a multiple of 8: AUTOMATIC1111 may round it. Edit the field to round it.",
                s.width, s.height
            ))
            .color(ui.visuals().warn_fg_color),
        );
    }
}

/// A width or height field: typed or dragged values are rounded to a multiple of 8 when the
/// field is left.
fn size_field(ui: &mut egui::Ui, value: &mut u32, name: &str) -> egui::Response {
    let response = ui
        .add(egui::DragValue::new(value).range(64..=4096).speed(8))
        .on_hover_text(format!(
            "{name} in pixels; rounded to a multiple of 8 (AUTOMATIC1111's step) when you leave the field"
        ));
    if response.lost_focus() || response.drag_stopped() {
        *value = round_to_multiple_of_8(*value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::round_to_multiple_of_8;

    #[test]
    fn sizes_round_to_the_nearest_multiple_of_8_within_range() {
        assert_eq!(round_to_multiple_of_8(1001), 1000);
        assert_eq!(round_to_multiple_of_8(1004), 1008);
        assert_eq!(round_to_multiple_of_8(1003), 1000);
        assert_eq!(round_to_multiple_of_8(832), 832);
        assert_eq!(round_to_multiple_of_8(1), 64);
        assert_eq!(round_to_multiple_of_8(5000), 4096);
        assert_eq!(round_to_multiple_of_8(u32::MAX), 4096);
    }
}
