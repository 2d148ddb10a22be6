//! The composer (central area, Compose view): Pack / Manual switch, manual prompt boxes,
//! generation settings, a preview of the RunConfig, and Submit (Ctrl+Enter).
//!
//! Its state is [`Composer`]: the prompt, the settings and the mode are form fields bound
//! directly; Submit, the mode switch and Undo load are commands (they read or change the
//! selection). The settings are the user's own with the selected pack's defaults laid over
//! them, and a loaded job's settings over those (see `composer/settings.rs` for the rule);
//! after Load into composer, the recorded prompts of a pack job are used rather than the
//! pack's current text, and loads can be undone, several deep (`composer/load.rs`).

mod combo;
mod load;
mod render_view;
mod settings;

pub use render_view::RenderCache;

pub use load::{LoadUndo, LoadedSettings, RecordedPrompts, text_not_by_key};

use super::commands::{Command, CommandQueue};
use super::persist::Persisted;
use super::state::{ViewContext, draft_run_config, short_id, submit_blocker, testing_pub_struct};
use super::widgets;
use crate::run_config::{GenerationSettings, PromptSource, StyleRef};
use crate::settings_override::SettingsOverride;
use egui::RichText;
use std::collections::BTreeMap;

testing_pub_struct! {
    /// The composer's inputs.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Composer {
        mode: PromptSource,
        /// The manual prompt (the draft: kept across restarts).
        prompt: String,
        negative: String,
        /// What the fields show and Submit records: `baseline`, the applied pack defaults laid
        /// over it, and a loaded job's settings over those.
        settings: GenerationSettings,
        /// When set, the recorded seed is -1 (random) whatever `settings.seed` says.
        random_seed: bool,
        /// The user's own settings (set by hand): kept when packs change and across restarts.
        /// Its seed is never negative (Random is the tick below).
        baseline: GenerationSettings,
        baseline_random_seed: bool,
        /// The selected pack's defaults, while they are laid over the baseline.
        pack_defaults: Option<PackDefaultsInUse>,
        /// A loaded job's settings, laid over the pack's defaults until another pack is selected
        /// or the mode changes (never the user's own settings).
        loaded: Option<LoadedSettings>,
        /// Per pack id, the settings of its defaults the user took over in this session (only
        /// which settings are named counts, not their values).
        taken_over: BTreeMap<String, SettingsOverride>,
        /// The prompts a loaded pack job recorded, used instead of the pack's current text.
        recorded: Option<RecordedPrompts>,
        /// What Undo load brings back, the last load last (at most `load::MAX_LOAD_UNDO`).
        undo_load: Vec<LoadUndo>,
        /// The load bar is hidden (Undo load stays offered beside Pack / Manual).
        load_bar_hidden: bool,
        /// A width or height typed by hand and not rounded to a multiple of 8 yet (it is when
        /// the field is left, or at Submit).
        unrounded: UnroundedSizes,
        /// The drop-down suggestions of the Model, Sampler and Scheduler fields.
        suggestions: Suggestions,
        /// The styles applied to the prompts, in order (part of the draft).
        styles: Vec<StyleRef>,
        /// The seed of wildcard, `{a|b}` and random matrix draws (part of the draft).
        wildcard_seed: u64,
        /// The Styles picker's search text.
        style_search: String,
        /// The styles matching `style_search`, found once per search and packs scan.
        style_matches: render_view::StyleMatches,
        /// The draft rendered: what Submit sends (redone when its inputs change).
        rendered: Option<RenderCache>,
    }
}

testing_pub_struct! {
    /// Which of the user's own width and height were typed off the step of 8.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct UnroundedSizes {
        width: bool,
        height: bool,
    }
}

testing_pub_struct! {
    /// A pack's defaults laid over the user's own settings.
    #[derive(Debug, Clone, PartialEq)]
    pub struct PackDefaultsInUse {
        pack_id: String,
        /// The file they come from (`Architecture.json`).
        file: String,
        /// Every setting the pack names.
        defaults: SettingsOverride,
        /// The ones that apply now (the user took over the others).
        applied: SettingsOverride,
    }
}

testing_pub_struct! {
    /// Suggestion lists of the editable combos (plain lists: a backend can replace them).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Suggestions {
        samplers: Vec<String>,
        schedulers: Vec<String>,
        /// Models seen in the history and the packs.
        models: Vec<String>,
        /// The models the history names, as the background history scan found them.
        history_models: Vec<String>,
        /// Bumped each time `history_models` is replaced.
        history_models_version: u64,
        /// The models the tested or connected backends offer (listed first).
        backend_models: Vec<String>,
        /// Bumped each time the backends' catalogues are replaced.
        backend_version: u64,
        /// (history models version, packs version, backend version) `models` was made from.
        models_key: Option<(u64, u64, u64)>,
    }
}

impl Default for Suggestions {
    fn default() -> Self {
        Suggestions {
            samplers: combo::joined(combo::A1111_SAMPLERS, combo::COMFYUI_SAMPLERS),
            schedulers: combo::joined(combo::A1111_SCHEDULERS, combo::COMFYUI_SCHEDULERS),
            models: Vec::new(),
            history_models: Vec::new(),
            history_models_version: 0,
            backend_models: Vec::new(),
            backend_version: 0,
            models_key: None,
        }
    }
}

impl Default for Composer {
    fn default() -> Self {
        let baseline = GenerationSettings {
            seed: 0,
            ..GenerationSettings::default()
        };
        Composer {
            mode: PromptSource::Pack,
            prompt: String::new(),
            negative: String::new(),
            settings: baseline.clone(),
            random_seed: true,
            baseline,
            baseline_random_seed: true,
            pack_defaults: None,
            loaded: None,
            taken_over: BTreeMap::new(),
            recorded: None,
            undo_load: Vec::new(),
            load_bar_hidden: false,
            unrounded: UnroundedSizes::default(),
            suggestions: Suggestions::default(),
            styles: Vec::new(),
            wildcard_seed: crate::render::new_seed(),
            style_search: String::new(),
            style_matches: Default::default(),
            rendered: None,
        }
    }
}

impl Composer {
    /// The composer as the last run left it: the user's own settings, the draft, a loaded
    /// job's settings (while they still apply) and the Undo load stack.
    ///
    /// A state saved before the user's own settings were kept apart from a pack's defaults
    /// (no `mode` and no `prompt`) holds the values shown then, pack defaults included. Its
    /// model is dropped (empty: the front end's current one): a checkpoint is the one value a
    /// pack names that is wrong for every other pack; the rest (sampler, steps, size...) are
    /// ordinary choices the user may well have made.
    pub fn restored(persisted: &Persisted) -> Composer {
        let mut composer = Composer::default();
        if let Some(settings) = &persisted.settings {
            composer.baseline = settings.clone();
            if settings.seed < 0 {
                composer.baseline.seed = 0;
                composer.baseline_random_seed = true;
            }
            if persisted.mode.is_none() && persisted.prompt.is_none() {
                composer.baseline.model.clear();
            }
        }
        if let Some(random) = persisted.random_seed {
            composer.baseline_random_seed = random;
        }
        if let Some(prompt) = &persisted.prompt {
            composer.prompt.clone_from(prompt);
        }
        if let Some(negative) = &persisted.negative {
            composer.negative.clone_from(negative);
        }
        if let Some(mode) = persisted.mode {
            composer.mode = mode;
        }
        composer.loaded.clone_from(&persisted.loaded_settings);
        composer.undo_load.clone_from(&persisted.load_undo);
        composer.load_bar_hidden = persisted.load_bar_hidden;
        composer.styles.clone_from(&persisted.styles);
        if let Some(seed) = persisted.wildcard_seed {
            composer.wildcard_seed = seed;
        }
        composer.show_laid();
        composer
    }

    /// Saves what the next run restores ([`Composer::restored`]): the user's own settings
    /// (never a pack's defaults or a loaded job's settings), the draft, the loaded job's
    /// settings apart, and the Undo load stack.
    pub fn save(&self, persisted: &mut Persisted) {
        let (settings, random) = self.own_settings();
        persisted.settings = Some(settings);
        persisted.random_seed = Some(random);
        persisted.prompt = Some(self.prompt.clone());
        persisted.negative = Some(self.negative.clone());
        persisted.mode = Some(self.mode);
        persisted.loaded_settings = self.loaded.clone();
        persisted.load_undo.clone_from(&self.undo_load);
        persisted.load_bar_hidden = self.load_bar_hidden;
        persisted.styles.clone_from(&self.styles);
        persisted.wildcard_seed = Some(self.wildcard_seed);
    }

    /// Draws the composer's header: the Pack / Manual switch and the Submit row (the central
    /// area keeps it in view; the rest, [`Composer::show`], scrolls).
    pub fn show_header(
        &mut self,
        ctx: &ViewContext<'_>,
        ui: &mut egui::Ui,
        commands: &mut CommandQueue,
    ) {
        self.reconcile(ctx.selected_pack);
        self.refresh_render(ctx);
        mode_switch(self, ui, commands);
        submit_row(self, ctx, ui, commands);
    }

    /// Draws the composer's body (prompts, settings, preview) into `ui` (the central area gives
    /// it a scroll area).
    pub fn show(&mut self, ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        self.reconcile(ctx.selected_pack);
        load::load_banner(self, ctx, ui, commands);
        match self.mode {
            PromptSource::Manual => manual_inputs(self, ui, commands),
            PromptSource::Pack => pack_summary(self, ctx, ui),
        }
        ui.add_space(8.0);
        self.refresh_model_suggestions(ctx);
        settings::settings_section(self, ui);
        // Take any edit made this frame into the user's own settings at once.
        self.absorb_edits();
        ui.add_space(6.0);
        render_view::styles_section(self, ctx, ui);
        self.refresh_render(ctx);
        render_view::requests_preview(self, ctx, ui, commands);
        ui.add_space(6.0);
        preview(self, ctx, ui);
    }

    /// Takes the models the background history scan found (the UI thread never reads the
    /// history for them).
    pub(crate) fn set_history_models(&mut self, models: Vec<String>) {
        self.suggestions.history_models = models;
        self.suggestions.history_models_version += 1;
    }

    /// Takes the names the backends offer (their catalogues, as "Test connection" or the
    /// runner's start read them): listed first in the Model, Sampler and Scheduler
    /// suggestions, before the names promptdesk knows. Typed values stay allowed.
    pub(crate) fn set_backend_catalogues(
        &mut self,
        models: Vec<String>,
        samplers: Vec<String>,
        schedulers: Vec<String>,
    ) {
        let first_then = |first: Vec<String>, known: Vec<String>| {
            let mut all = first;
            for name in known {
                if !all.contains(&name) {
                    all.push(name);
                }
            }
            all
        };
        let s = &mut self.suggestions;
        s.samplers = first_then(
            samplers,
            combo::joined(combo::A1111_SAMPLERS, combo::COMFYUI_SAMPLERS),
        );
        s.schedulers = first_then(
            schedulers,
            combo::joined(combo::A1111_SCHEDULERS, combo::COMFYUI_SCHEDULERS),
        );
        s.backend_models = models;
        s.backend_version += 1;
    }

    /// Joins the backends', the history's and the packs' models into the Model suggestions
    /// when any changed (a few names: no history is read here).
    fn refresh_model_suggestions(&mut self, ctx: &ViewContext<'_>) {
        let s = &mut self.suggestions;
        let key = (
            s.history_models_version,
            ctx.packs_version,
            s.backend_version,
        );
        if s.models_key == Some(key) {
            return;
        }
        let history = s.history_models.iter().map(String::as_str);
        let mut models = s.backend_models.clone();
        for model in combo::models_seen(history, ctx.packs) {
            if !models.contains(&model) {
                models.push(model);
            }
        }
        s.models = models;
        s.models_key = Some(key);
    }
}

fn mode_switch(composer: &Composer, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    ui.horizontal(|ui| {
        let mode = composer.mode;
        if ui
            .selectable_label(mode == PromptSource::Pack, "Pack")
            .on_hover_text("Use the checked prompts of the selected pack")
            .clicked()
        {
            commands.push(Command::SetMode(PromptSource::Pack));
        }
        if ui
            .selectable_label(mode == PromptSource::Manual, "Manual")
            .on_hover_text("Type a prompt")
            .clicked()
        {
            commands.push(Command::SetMode(PromptSource::Manual));
        }
        load::header_undo(composer, ui, commands);
    });
}

fn manual_inputs(composer: &mut Composer, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    let label = ui.label("Prompt");
    ui.add(
        egui::TextEdit::multiline(&mut composer.prompt)
            .hint_text("a lighthouse on a cliff at dawn, <lora:name:0.7>")
            .desired_rows(4)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
    // A pasted A1111 infotext (prompt, "Negative prompt:" and the parameters line) can be
    // read into the fields, as A1111's ↙ button does.
    if composer.prompt.contains(':') && crate::infotext::has_parameters_line(&composer.prompt) {
        ui.horizontal(|ui| {
            if ui
                .button("↙ Read parameters")
                .on_hover_text(
                    "The prompt holds generation parameters: fill the prompt, the negative prompt and the settings from them",
                )
                .clicked()
            {
                commands.push(Command::ReadParameters);
            }
            ui.weak("pasted text with generation parameters");
        });
    }
    let label = ui.label("Negative prompt");
    ui.add(
        egui::TextEdit::multiline(&mut composer.negative)
            .hint_text("blurry, low quality")
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
}

fn pack_summary(composer: &Composer, ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    let Some(pack) = ctx.selected_pack else {
        ui.weak("Select a pack on the left and check the prompts to run.");
        return;
    };
    ui.horizontal_wrapped(|ui| {
        widgets::source_badge(ui, PromptSource::Pack);
        ui.strong(crate::packs::escape_control(&pack.id));
        let keys: Vec<&str> = pack
            .keys()
            .into_iter()
            .filter(|k| ctx.checked_keys.iter().any(|c| c == k))
            .collect();
        if keys.is_empty() {
            ui.weak("no prompt checked");
        } else {
            ui.label(format!("keys {}", keys.join(", ")));
        }
    });
    let recorded = composer.recorded.as_ref().filter(|r| r.pack_id == pack.id);
    for key in ctx.checked_keys {
        let Some(current) = pack.get(key) else {
            continue;
        };
        let old = recorded.and_then(|r| r.get(key).map(|p| (r, p)));
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            match old {
                Some((r, prompt)) => {
                    super::pack_browser::prompt_details(ui, prompt, pack.matrix.as_ref());
                    let differs =
                        prompt.positive != current.positive || prompt.negative != current.negative;
                    let note = if differs {
                        format!(
                            "As recorded by job {} (the pack's text is different now)",
                            short_id(&r.job_id)
                        )
                    } else {
                        format!("As recorded by job {}", short_id(&r.job_id))
                    };
                    ui.label(RichText::new(note).small().italics());
                }
                None => super::pack_browser::prompt_details(ui, current, pack.matrix.as_ref()),
            }
        });
    }
}

fn submit_row(
    composer: &Composer,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    let blocker = submit_blocker(composer, ctx.selected_pack, ctx.checked_keys, &ctx.history);
    ui.horizontal(|ui| {
        let button =
            egui::Button::new(RichText::new("Submit").strong()).min_size([120.0, 30.0].into());
        let response = ui
            .add_enabled(blocker.is_none(), button)
            .on_hover_text("Record this job in the history (Ctrl+Enter)");
        if response.clicked() {
            commands.push(Command::Submit);
        }
        match &blocker {
            Some(reason) => {
                ui.label(RichText::new(reason).color(ui.visuals().warn_fg_color));
            }
            None => {
                ui.weak("Ctrl+Enter");
            }
        }
    });
}

fn preview(composer: &Composer, ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    egui::CollapsingHeader::new("RunConfig preview")
        .id_salt("preview")
        .default_open(false)
        .show(ui, |ui| {
            match draft_run_config(composer, ctx.selected_pack, ctx.checked_keys) {
                Ok(cfg) => {
                    let mut text = serde_json::to_string_pretty(&cfg).unwrap_or_default();
                    ui.horizontal(|ui| {
                        ui.label(
                            RichText::new(format!("config hash {}", &cfg.config_hash()[..12]))
                                .small()
                                .monospace(),
                        );
                        if ui.small_button("Copy").clicked() {
                            ui.ctx().copy_text(text.clone());
                        }
                    });
                    let label = ui.label(RichText::new("JSON that Submit will record").small());
                    ui.add(
                        egui::TextEdit::multiline(&mut text)
                            .code_editor()
                            .interactive(false)
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(label.id);
                }
                Err(e) => {
                    ui.weak(e);
                }
            }
        });
}
