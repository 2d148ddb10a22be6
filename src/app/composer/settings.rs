//! The composer's generation settings: the user's own settings (the baseline), a selected
//! pack's defaults laid over them, a loaded job's settings over those, and the settings grid
//! that shows which value came from where.
//!
//! The rule, as the composer says it:
//! - your own settings are what you set by hand; they stay when you switch packs and are what
//!   a restart brings back;
//! - a pack's defaults (its `.json`) apply over your settings only while that pack is selected
//!   in Pack mode; each such field is marked, with the file on hover;
//! - a job put back with Load into composer brings its settings as a layer of their own, over
//!   your settings and the pack's defaults, until another pack is selected, the mode changes
//!   or *Reset to my settings*; they are marked as the job's and never saved as yours;
//! - changing a marked field makes the value yours: it becomes your own setting, and it wins
//!   over that pack's default until promptdesk restarts (*Use pack defaults* brings the pack's
//!   values back); *Reset to my settings* sets every marked field back to yours.
//!
//! A value outside a field's range (a pack's `"steps": 200`, a seed above 2^32) is shown and
//! recorded as it is, with a warning: drawing a field never changes its value.

use super::combo;
use super::{Composer, PackDefaultsInUse, UnroundedSizes};
use crate::app::state::short_id;
use crate::packs::PromptPack;
use crate::run_config::{GenerationSettings, PromptSource};
use crate::settings_override::SettingsOverride;
use egui::RichText;
use std::ops::RangeInclusive;

/// The file a pack's defaults come from: its `.json` (a `.txt` pack's settings live in its
/// `.json` companion), else its first file.
pub fn defaults_file(pack: &PromptPack) -> String {
    file_where(pack, is_json)
}

/// The file a pack's prompts come from: its first file that is not a `.json` companion (the
/// `.txt` or `.tsv`), else its `.json`.
pub fn prompts_file(pack: &PromptPack) -> String {
    file_where(pack, |p| !is_json(p))
}

fn is_json(path: &&std::path::PathBuf) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The name of the pack's first file `wanted` accepts, else of its first file, else
/// `<id>.json`; control characters escaped.
fn file_where(pack: &PromptPack, wanted: impl Fn(&&std::path::PathBuf) -> bool) -> String {
    pack.paths
        .iter()
        .find(wanted)
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

/// A width or height rounded to the nearest multiple of 8 (AUTOMATIC1111's step), at least 8.
/// The field's range is not applied: rounding never clamps a value.
pub fn round_to_multiple_of_8(value: u32) -> u32 {
    (value.saturating_add(4) / 8 * 8).max(8)
}

/// The settings that differ between two (settings, Random tick) pairs, with the second's
/// values. The seed counts as different when the tick differs, or its number while Random is
/// off.
fn changes(
    (from, from_random): (&GenerationSettings, bool),
    (to, to_random): (&GenerationSettings, bool),
) -> SettingsOverride {
    let mut changed = SettingsOverride::differences(from, to);
    let seed_changed = from_random != to_random || (!to_random && from.seed != to.seed);
    changed.seed = seed_changed.then_some(to.seed);
    changed
}

impl Composer {
    /// The user's own settings with the applied pack defaults over them (what shows without a
    /// loaded job).
    fn under_job(&self) -> (GenerationSettings, bool) {
        let applied = self
            .pack_defaults
            .as_ref()
            .map(|p| p.applied.clone())
            .unwrap_or_default();
        laid_over(&self.baseline, self.baseline_random_seed, &applied)
    }

    /// What the fields show when nothing was changed by hand since the composer last set them.
    fn expected(&self) -> (GenerationSettings, bool) {
        let (under, random) = self.under_job();
        match &self.loaded {
            Some(l) => laid_over(&under, random, &l.applied),
            None => (under, random),
        }
    }

    /// The fields changed by hand since the composer last set them.
    fn edits(&self) -> SettingsOverride {
        let (expected, expected_random) = self.expected();
        changes(
            (&expected, expected_random),
            (&self.settings, self.random_seed),
        )
    }

    /// The fields whose value comes from the loaded job (it differs from what is below it).
    pub(super) fn job_marks(&self) -> SettingsOverride {
        let Some(l) = &self.loaded else {
            return SettingsOverride::default();
        };
        let (under, under_random) = self.under_job();
        let (shown, random) = laid_over(&under, under_random, &l.applied);
        changes((&under, under_random), (&shown, random))
    }

    /// The fields whose value comes from the pack's defaults (not covered by the job's).
    fn pack_marks(&self, job: &SettingsOverride) -> SettingsOverride {
        self.pack_defaults
            .as_ref()
            .map(|p| p.applied.without(job))
            .unwrap_or_default()
    }

    /// Puts what an A1111 infotext holds into the manual prompt boxes and the user's own
    /// settings (only the settings it names change).
    pub(crate) fn read_parameters(&mut self, info: &crate::infotext::Infotext) {
        self.prompt.clone_from(&info.prompt);
        self.negative.clone_from(&info.negative_prompt);
        info.settings.apply_to(&mut self.settings);
        if let Some(seed) = info.settings.seed {
            self.random_seed = seed < 0;
        }
        self.absorb_edits();
    }

    /// Takes the fields changed by hand into the user's own settings. A changed field the
    /// selected pack or the loaded job had set becomes the user's (for that pack until a
    /// restart).
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
        note_unrounded(&mut self.unrounded, &edits);
        if let Some(p) = &mut self.pack_defaults {
            let from_pack = edits.without(&edits.without(&p.defaults));
            self.taken_over
                .entry(p.pack_id.clone())
                .or_default()
                .merge(&from_pack);
            p.applied = p.applied.without(&edits);
        }
        if let Some(l) = &mut self.loaded {
            l.applied = l.applied.without(&edits);
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

    /// Shows the user's own settings with the applied pack defaults and job settings over them.
    pub(super) fn show_laid(&mut self) {
        (self.settings, self.random_seed) = self.expected();
    }

    /// Rounds a width or height the user typed off the step of 8 (Submit does this, so a size
    /// still being typed when Ctrl+Enter is pressed is recorded rounded). Sizes from a pack
    /// or a loaded job are kept as they are.
    pub(crate) fn round_typed_sizes(&mut self) {
        self.absorb_edits();
        if self.unrounded.width {
            self.baseline.width = round_to_multiple_of_8(self.baseline.width);
        }
        if self.unrounded.height {
            self.baseline.height = round_to_multiple_of_8(self.baseline.height);
        }
        self.unrounded = UnroundedSizes::default();
        self.show_laid();
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

    /// Applies the selection: a loaded job's settings and recorded prompts are dropped once
    /// another pack is selected or the mode changed; the selected pack's defaults apply in
    /// Pack mode, none in Manual mode.
    pub(crate) fn reconcile(&mut self, selected: Option<&PromptPack>) {
        let pack = selected.filter(|_| self.mode == PromptSource::Pack);
        self.drop_stale_load(pack);
        self.use_pack(pack);
    }

    /// "Reset to my settings": the loaded job's settings are dropped, and every field the pack
    /// set goes back to the user's own value (and stays so for this pack until a restart).
    pub(crate) fn reset_to_own_settings(&mut self) {
        self.absorb_edits();
        self.loaded = None;
        if let Some(p) = &mut self.pack_defaults {
            self.taken_over
                .entry(p.pack_id.clone())
                .or_default()
                .merge(&p.defaults);
            p.applied = SettingsOverride::default();
        }
        self.show_laid();
    }

    /// "Use pack defaults": the selected pack's defaults apply again, over every field it
    /// names (over a loaded job's value too).
    pub(crate) fn use_pack_defaults(&mut self) {
        self.absorb_edits();
        if let Some(p) = &mut self.pack_defaults {
            self.taken_over.remove(&p.pack_id);
            p.applied = p.defaults.clone();
            if let Some(l) = &mut self.loaded {
                l.applied = l.applied.without(&p.defaults);
            }
        }
        self.show_laid();
    }
}

/// Notes which of the user's own width and height were just typed off the step of 8 (a
/// rounded value clears the note).
fn note_unrounded(unrounded: &mut UnroundedSizes, edits: &SettingsOverride) {
    if let Some(w) = edits.width {
        unrounded.width = !w.is_multiple_of(8);
    }
    if let Some(h) = edits.height {
        unrounded.height = !h.is_multiple_of(8);
    }
}

/// Where a field's value came from, when not from the user's own settings.
#[derive(Clone, Copy)]
enum Origin<'a> {
    Pack(&'a PackDefaultsInUse),
    Job(&'a str),
}

/// The colour of the marker of a value that came from a pack (the PACK badge's).
fn pack_color(ui: &egui::Ui) -> egui::Color32 {
    crate::app::widgets::source_color(PromptSource::Pack, ui.visuals().dark_mode)
}

const MARKER_WIDTH: f32 = 10.0;

/// A small dot in the PACK colour (a pack's value), or a small diamond in the strong text
/// colour (a loaded job's value); drawn: not every font has these glyphs.
fn origin_dot(ui: &mut egui::Ui, job: bool) -> egui::Response {
    let size = egui::vec2(MARKER_WIDTH, ui.spacing().interact_size.y);
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    let name = if job {
        "from the loaded job"
    } else {
        "from the pack's defaults"
    };
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, name));
    if ui.is_rect_visible(rect) {
        let c = rect.center();
        if job {
            let r = 4.0;
            let points = vec![
                egui::pos2(c.x, c.y - r),
                egui::pos2(c.x + r, c.y),
                egui::pos2(c.x, c.y + r),
                egui::pos2(c.x - r, c.y),
            ];
            let color = ui.visuals().strong_text_color();
            ui.painter().add(egui::Shape::convex_polygon(
                points,
                color,
                egui::Stroke::NONE,
            ));
        } else {
            ui.painter().circle_filled(c, 3.5, pack_color(ui));
        }
    }
    response
}

/// The marker beside a field whose value came from the pack's defaults or the loaded job.
/// Without one, the same space is left empty, so that the grid does not move when a pack
/// with defaults is selected.
fn origin_marker(ui: &mut egui::Ui, origin: Option<Origin<'_>>) {
    match origin {
        None => {
            ui.add_space(MARKER_WIDTH);
        }
        Some(Origin::Pack(p)) => {
            origin_dot(ui, false).on_hover_text(format!(
                "From {} (the default of pack {} while it is selected). Change it to make it your own setting.",
                p.file,
                crate::packs::escape_control(&p.pack_id)
            ));
        }
        Some(Origin::Job(job)) => {
            origin_dot(ui, true).on_hover_text(format!(
                "From job {} (Load into composer), until you select another pack or switch Pack / Manual. Change it to make it your own setting.",
                short_id(job)
            ));
        }
    }
}

/// Which fields came from the loaded job and which from the pack, for the markers.
struct Marks<'a> {
    job: SettingsOverride,
    job_id: &'a str,
    pack: SettingsOverride,
    defaults: Option<&'a PackDefaultsInUse>,
}

impl Marks<'_> {
    /// The origin of a field, given whether the job's and the pack's layers name it.
    fn origin(&self, named: impl Fn(&SettingsOverride) -> bool) -> Option<Origin<'_>> {
        if named(&self.job) {
            return Some(Origin::Job(self.job_id));
        }
        self.defaults
            .filter(|_| named(&self.pack))
            .map(Origin::Pack)
    }
}

/// What the loaded job's settings and the pack's defaults do now, with Reset to my settings /
/// Use pack defaults.
fn origin_note(composer: &mut Composer, ui: &mut egui::Ui) {
    let job = composer.job_marks();
    let pack = composer.pack_marks(&job);
    let job_line = composer
        .loaded
        .as_ref()
        .filter(|_| !job.is_empty())
        .map(|l| {
            format!(
                "From job {}: {}.",
                short_id(&l.job_id),
                job.named_fields().join(", ")
            )
        });
    let mut reset = false;
    let mut use_defaults = false;
    if let Some(line) = &job_line {
        ui.horizontal_wrapped(|ui| {
            origin_dot(ui, true);
            ui.label(line).on_hover_text(RULE);
            reset = reset_button(ui);
        });
    }
    match &composer.pack_defaults {
        None if job_line.is_none() => {
            ui.weak("Your own settings: kept when you switch packs and after a restart.")
                .on_hover_text(RULE);
            return;
        }
        None => {}
        Some(p) => {
            let name = crate::packs::escape_control(&p.pack_id);
            ui.horizontal_wrapped(|ui| {
                if p.applied.is_empty() {
                    ui.label(format!(
                        "Pack {name}'s defaults ({}) are not used: your own settings apply.",
                        p.file
                    ));
                } else if !pack.is_empty() {
                    origin_dot(ui, false);
                    ui.label(format!(
                        "From {}: {}.",
                        p.file,
                        pack.named_fields().join(", ")
                    ))
                    .on_hover_text(RULE);
                    if job_line.is_none() {
                        reset = reset_button(ui);
                    }
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
        }
    }
    ui.weak(
        "A pack's defaults apply only while it is selected, a loaded job's settings until you select another pack; a value you change becomes your own.",
    )
    .on_hover_text(RULE);
    if reset {
        composer.reset_to_own_settings();
    }
    if use_defaults {
        composer.use_pack_defaults();
    }
}

/// The Reset to my settings button; true when clicked.
fn reset_button(ui: &mut egui::Ui) -> bool {
    ui.small_button("Reset to my settings")
        .on_hover_text(
            "Set the marked fields back to your own settings (a pack's values for this pack until you restart)",
        )
        .clicked()
}

/// The settings rule, on hover.
const RULE: &str = "Your own settings are the ones you set by hand: they stay when you switch packs, and a restart brings them back.\n\nA pack's defaults (from its .json file) apply over your settings only while that pack is selected in Pack mode; the fields they set are marked with a dot in the PACK colour.\n\nLoad into composer brings a job's settings over yours (fields marked with a diamond) until you select another pack, switch Pack / Manual or Reset to my settings; they are not saved as yours.\n\nChanging a marked field makes the value your own: it stays when you switch packs, and it wins over that pack's default until you restart (Use pack defaults brings the pack's values back).";

/// The generation settings grid (and the note on the pack's defaults above it).
pub(super) fn settings_section(composer: &mut Composer, ui: &mut egui::Ui) {
    egui::CollapsingHeader::new(RichText::new("Generation settings").strong())
        .id_salt("settings")
        .default_open(true)
        .show(ui, |ui| {
            origin_note(composer, ui);
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

/// The fields' ranges (what dragging or typing keeps to; a value from elsewhere outside them
/// is kept, with a warning).
const STEPS: RangeInclusive<u32> = 1..=150;
const CFG_SCALE: RangeInclusive<f64> = 1.0..=30.0;
const SIZE: RangeInclusive<u32> = 64..=4096;
const SEED: RangeInclusive<i64> = 0..=i64::MAX;
const CLIP_SKIP: RangeInclusive<u32> = 1..=12;
const BATCH_SIZE: RangeInclusive<u32> = 1..=64;
const BATCH_COUNT: RangeInclusive<u32> = 1..=100;

/// A number field over `range` that never changes the value just by being drawn (egui clamps
/// an existing value to the range by default).
fn number<'a, N: egui::emath::Numeric>(
    value: &'a mut N,
    range: RangeInclusive<N>,
) -> egui::DragValue<'a> {
    egui::DragValue::new(value)
        .range(range)
        .clamp_existing_to_range(false)
}

/// "steps 200 (1–150)" for each setting outside its field's range.
pub fn out_of_range(s: &GenerationSettings) -> Vec<String> {
    fn check<T: PartialOrd + std::fmt::Display>(
        name: &str,
        value: T,
        range: &RangeInclusive<T>,
    ) -> Option<String> {
        (!range.contains(&value))
            .then(|| format!("{name} {value} ({}–{})", range.start(), range.end()))
    }
    [
        check("steps", s.steps, &STEPS),
        check("CFG scale", s.cfg_scale, &CFG_SCALE),
        check("width", s.width, &SIZE),
        check("height", s.height, &SIZE),
        check("clip skip", s.clip_skip, &CLIP_SKIP),
        check("batch size", s.batch_size, &BATCH_SIZE),
        check("batch count", s.batch_count, &BATCH_COUNT),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn settings_grid(composer: &mut Composer, ui: &mut egui::Ui) {
    let job = composer.job_marks();
    let pack = composer.pack_marks(&job);
    let loaded = composer.loaded.clone();
    let defaults = composer.pack_defaults.clone();
    let marks = Marks {
        job,
        job_id: loaded.as_ref().map_or("", |l| l.job_id.as_str()),
        pack,
        defaults: defaults.as_ref(),
    };
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
        origin_marker(ui, marks.origin(|o| o.model.is_some()));
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
                origin_marker(ui, marks.origin(|o| o.sampler.is_some()));
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
                origin_marker(ui, marks.origin(|o| o.scheduler.is_some()));
            });
            next(ui);
            let label = ui.label("Steps");
            ui.horizontal(|ui| {
                ui.add(number(&mut s.steps, STEPS)).labelled_by(label.id);
                origin_marker(ui, marks.origin(|o| o.steps.is_some()));
            });
            next(ui);
            let label = ui.label("CFG scale");
            ui.horizontal(|ui| {
                ui.add(
                    number(&mut s.cfg_scale, CFG_SCALE)
                        .speed(0.1)
                        .max_decimals(2),
                )
                .labelled_by(label.id);
                origin_marker(ui, marks.origin(|o| o.cfg_scale.is_some()));
            });
            next(ui);
            let label = ui.label("Width");
            ui.horizontal(|ui| {
                size_field(ui, &mut s.width, "Width").labelled_by(label.id);
                origin_marker(ui, marks.origin(|o| o.width.is_some()));
            });
            next(ui);
            let label = ui.label("Height");
            ui.horizontal(|ui| {
                size_field(ui, &mut s.height, "Height").labelled_by(label.id);
                origin_marker(ui, marks.origin(|o| o.height.is_some()));
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
                ui.add_enabled(!*random_seed, number(&mut s.seed, SEED))
                    .labelled_by(label.id);
                ui.checkbox(random_seed, "Random")
                    .on_hover_text("A new random seed for every image (recorded as -1)");
                origin_marker(ui, marks.origin(|o| o.seed.is_some()));
            });
            next(ui);
            let label = ui.label("Clip skip");
            ui.horizontal(|ui| {
                ui.add(number(&mut s.clip_skip, CLIP_SKIP))
                    .labelled_by(label.id);
                origin_marker(ui, marks.origin(|o| o.clip_skip.is_some()));
            });
            next(ui);
            let label = ui.label("Batch size");
            ui.horizontal(|ui| {
                ui.add(number(&mut s.batch_size, BATCH_SIZE))
                    .labelled_by(label.id);
                origin_marker(ui, marks.origin(|o| o.batch_size.is_some()));
            });
            next(ui);
            let label = ui.label("Batch count");
            ui.horizontal(|ui| {
                ui.add(number(&mut s.batch_count, BATCH_COUNT))
                    .labelled_by(label.id);
                origin_marker(ui, marks.origin(|o| o.batch_count.is_some()));
            });
            next(ui);
        });
    settings_warnings(s, ui);
}

/// Warnings under the grid: a size off the step of 8, values outside the fields' ranges.
fn settings_warnings(s: &GenerationSettings, ui: &mut egui::Ui) {
    let warn = |ui: &mut egui::Ui, text: String| {
        ui.add(egui::Label::new(RichText::new(text).color(ui.visuals().warn_fg_color)).wrap());
    };
    if !s.width.is_multiple_of(8) || !s.height.is_multiple_of(8) {
        warn(
            ui,
            format!(
                "⚠ {}×{} is not a multiple of 8: AUTOMATIC1111 may round it. A size you type is rounded when you leave the field or Submit.",
                s.width, s.height
            ),
        );
    }
    let outside = out_of_range(s);
    if !outside.is_empty() {
        warn(
            ui,
            format!(
                "⚠ {}: outside the fields' ranges. Submit records them as they are; your front end may refuse or clamp them.",
                outside.join(", ")
            ),
        );
    }
}

/// A width or height field: typed or dragged values are rounded to a multiple of 8 when the
/// field is left (and at Submit).
fn size_field(ui: &mut egui::Ui, value: &mut u32, name: &str) -> egui::Response {
    let response = ui
        .add(number(value, SIZE).speed(8))
        .on_hover_text(format!(
            "{name} in pixels; rounded to a multiple of 8 (AUTOMATIC1111's step) when you leave the field or Submit"
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
    fn sizes_round_to_the_nearest_multiple_of_8_without_clamping() {
        assert_eq!(round_to_multiple_of_8(1001), 1000);
        assert_eq!(round_to_multiple_of_8(1004), 1008);
        assert_eq!(round_to_multiple_of_8(1003), 1000);
        assert_eq!(round_to_multiple_of_8(832), 832);
        assert_eq!(round_to_multiple_of_8(1), 8);
        assert_eq!(round_to_multiple_of_8(8190), 8192);
        assert_eq!(round_to_multiple_of_8(u32::MAX), u32::MAX / 8 * 8);
    }
}
