//! The composer (central area, Compose view): Pack / Manual switch, manual prompt boxes,
//! generation settings, a preview of the RunConfig, and Submit (Ctrl+Enter).
//!
//! Its state is [`Composer`]: the prompt, the settings and the mode are form fields bound
//! directly; Submit, the mode switch and Undo load are commands (they read or change the
//! selection). The settings are the user's own with the selected pack's defaults laid over
//! them (see `composer/settings.rs` for the rule); after Load into composer, the recorded
//! prompts of a pack job are used rather than the pack's current text, and the load can be
//! undone.

mod combo;
mod settings;

use super::commands::{Command, CommandQueue};
use super::persist::Persisted;
use super::state::{ViewContext, draft_run_config, short_id, submit_blocker, testing_pub_struct};
use super::widgets;
use crate::job_record::JobRecord;
use crate::packs::{PackPrompt, PromptPack};
use crate::run_config::{GenerationSettings, PromptSource};
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
        /// What the fields show and Submit records: `baseline` with the applied pack defaults
        /// laid over it.
        settings: GenerationSettings,
        /// When set, the recorded seed is -1 (random) whatever `settings.seed` says.
        random_seed: bool,
        /// The user's own settings (set by hand, or taken from a loaded job): kept when packs
        /// change and across restarts. Its seed is never negative (Random is the tick below).
        baseline: GenerationSettings,
        baseline_random_seed: bool,
        /// The selected pack's defaults, while they are laid over the baseline.
        pack_defaults: Option<PackDefaultsInUse>,
        /// Per pack id, the settings of its defaults the user took over in this session (only
        /// which settings are named counts, not their values).
        taken_over: BTreeMap<String, SettingsOverride>,
        /// The prompts a loaded pack job recorded, used instead of the pack's current text.
        recorded: Option<RecordedPrompts>,
        /// What Undo load brings back.
        undo_load: Option<LoadUndo>,
        /// The drop-down suggestions of the Model, Sampler and Scheduler fields.
        suggestions: Suggestions,
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
    /// The prompts a pack job recorded, by key.
    #[derive(Debug, Clone, PartialEq)]
    pub struct RecordedPrompts {
        job_id: String,
        pack_id: String,
        prompts: Vec<PackPrompt>,
    }
}

testing_pub_struct! {
    /// The composer and selection as they were before a Load into composer.
    #[derive(Debug, Clone, PartialEq)]
    pub struct LoadUndo {
        /// The job that was loaded.
        job_id: String,
        composer: Box<Composer>,
        selected_pack: Option<String>,
        checked_keys: Vec<String>,
    }
}

testing_pub_struct! {
    /// Suggestion lists of the editable combos (plain lists: a backend can replace them).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Suggestions {
        samplers: Vec<String>,
        schedulers: Vec<String>,
        /// Models seen in the history and the packs (filled when the list is opened).
        models: Vec<String>,
        /// (history generation, packs version) the model list was made from.
        models_key: Option<(u64, u64)>,
    }
}

impl Default for Suggestions {
    fn default() -> Self {
        Suggestions {
            samplers: combo::joined(combo::A1111_SAMPLERS, combo::COMFYUI_SAMPLERS),
            schedulers: combo::joined(combo::A1111_SCHEDULERS, combo::COMFYUI_SCHEDULERS),
            models: Vec::new(),
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
            taken_over: BTreeMap::new(),
            recorded: None,
            undo_load: None,
            suggestions: Suggestions::default(),
        }
    }
}

impl RecordedPrompts {
    /// The prompts a pack job recorded (`{"prompts": {key: ..}}` of its payload), or None for
    /// a job of no pack or with no recorded prompts.
    pub fn from_record(record: &JobRecord) -> Option<RecordedPrompts> {
        let cfg = &record.run_config;
        let pack_id = cfg.prompt_pack_id.clone()?;
        let map = cfg.prompt_payload.get("prompts")?.as_object()?;
        let text = |v: Option<&serde_json::Value>| {
            v.and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let prompts: Vec<PackPrompt> = map
            .iter()
            .map(|(key, entry)| {
                let (positive, negative) = match entry {
                    serde_json::Value::String(s) => (s.clone(), String::new()),
                    other => (
                        text(other.get("prompt")),
                        text(other.get("negative_prompt")),
                    ),
                };
                PackPrompt::from_texts(key.as_str(), positive.as_str(), negative.as_str(), None)
                    .unwrap_or(PackPrompt {
                        key: key.clone(),
                        positive,
                        negative,
                        ..PackPrompt::default()
                    })
            })
            .collect();
        (!prompts.is_empty()).then(|| RecordedPrompts {
            job_id: record.job_id.clone(),
            pack_id,
            prompts,
        })
    }

    /// The recorded prompt of this key.
    pub fn get(&self, key: &str) -> Option<&PackPrompt> {
        self.prompts.iter().find(|p| p.key == key)
    }

    /// The checked keys whose text in `pack` differs from the recorded one.
    pub fn changed_keys<'a>(&'a self, pack: &PromptPack, checked: &[String]) -> Vec<&'a str> {
        self.prompts
            .iter()
            .filter(|r| checked.contains(&r.key))
            .filter(|r| {
                pack.get(&r.key)
                    .is_some_and(|p| p.positive != r.positive || p.negative != r.negative)
            })
            .map(|r| r.key.as_str())
            .collect()
    }
}

impl Composer {
    /// The composer as the last run left it: the user's own settings and the draft.
    pub fn restored(persisted: &Persisted) -> Composer {
        let mut composer = Composer::default();
        if let Some(settings) = &persisted.settings {
            composer.baseline = settings.clone();
            if settings.seed < 0 {
                composer.baseline.seed = 0;
                composer.baseline_random_seed = true;
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
        composer.settings = composer.baseline.clone();
        composer.random_seed = composer.baseline_random_seed;
        composer
    }

    /// Saves what the next run restores ([`Composer::restored`]): the user's own settings
    /// (never a pack's defaults) and the draft.
    pub fn save(&self, persisted: &mut Persisted) {
        let (settings, random) = self.own_settings();
        persisted.settings = Some(settings);
        persisted.random_seed = Some(random);
        persisted.prompt = Some(self.prompt.clone());
        persisted.negative = Some(self.negative.clone());
        persisted.mode = Some(self.mode);
    }

    /// A copy without its own undo (what an undo snapshot holds).
    pub(crate) fn without_undo(&self) -> Composer {
        Composer {
            undo_load: None,
            ..self.clone()
        }
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
        mode_switch(self, ui, commands);
        submit_row(self, ctx, ui, commands);
    }

    /// Draws the composer's body (prompts, settings, preview) into `ui` (the central area gives
    /// it a scroll area).
    pub fn show(&mut self, ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        self.reconcile(ctx.selected_pack);
        load_banner(self, ctx, ui, commands);
        match self.mode {
            PromptSource::Manual => manual_inputs(self, ui),
            PromptSource::Pack => pack_summary(self, ctx, ui),
        }
        ui.add_space(8.0);
        self.refresh_model_suggestions(ctx, ui);
        settings::settings_section(self, ui);
        // Take any edit made this frame into the user's own settings at once.
        self.absorb_edits();
        ui.add_space(6.0);
        preview(self, ctx, ui);
    }

    /// Fills the Model suggestions from the history and the packs while its list is open
    /// (again when either changed).
    fn refresh_model_suggestions(&mut self, ctx: &ViewContext<'_>, ui: &egui::Ui) {
        if !egui::Popup::is_id_open(ui.ctx(), combo::popup_id("Model")) {
            return;
        }
        let loading = ctx.history.loading.is_some();
        let generation = ctx
            .store
            .and_then(|s| s.read().ok().map(|s| s.generation()))
            .unwrap_or(0);
        let key = (generation, ctx.packs_version);
        if !loading && self.suggestions.models_key == Some(key) {
            return;
        }
        // A history still streaming in is left out until it is loaded.
        let store = ctx.store.filter(|_| !loading).and_then(|s| s.read().ok());
        let models = store.iter().flat_map(|s| {
            s.records()
                .iter()
                .map(|r| r.run_config.settings.model.as_str())
        });
        self.suggestions.models = combo::models_seen(models, ctx.packs);
        self.suggestions.models_key = (!loading).then_some(key);
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
    });
}

/// After Load into composer: Undo load, and (pack jobs) a warning when the pack's text changed
/// since the job was recorded, with Use current text.
fn load_banner(
    composer: &mut Composer,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    let changed: Vec<String> = match (&composer.recorded, ctx.selected_pack) {
        (Some(recorded), Some(pack)) if composer.mode == PromptSource::Pack => recorded
            .changed_keys(pack, ctx.checked_keys)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let undo_job = composer.undo_load.as_ref().map(|u| u.job_id.clone());
    if changed.is_empty() && undo_job.is_none() {
        return;
    }
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        if let (false, Some(recorded), Some(pack)) =
            (changed.is_empty(), &composer.recorded, ctx.selected_pack)
        {
            let file = pack
                .paths
                .first()
                .and_then(|p| p.file_name())
                .map(|n| crate::packs::escape_control(&n.to_string_lossy()).into_owned())
                .unwrap_or_else(|| pack.id.clone());
            ui.add(
                egui::Label::new(
                    RichText::new(format!(
                        "⚠ {file} has changed since job {} was recorded (key {}): the composer shows, and Submit records, the recorded text.",
                        short_id(&recorded.job_id),
                        changed.join(", ")
                    ))
                    .color(ui.visuals().warn_fg_color),
                )
                .wrap(),
            );
            if ui
                .button("Use current text")
                .on_hover_text(format!("Use the text as it is now in {file}"))
                .clicked()
            {
                composer.recorded = None;
            }
        }
        if let Some(job) = undo_job {
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("Loaded job {} into the composer.", short_id(&job)));
                if ui
                    .button("Undo load")
                    .on_hover_text(
                        "Bring back the prompt, mode, pack selection and settings you had before the load",
                    )
                    .clicked()
                {
                    commands.push(Command::UndoLoad);
                }
                if ui
                    .small_button("Hide")
                    .on_hover_text("Keep the loaded job and hide this (Undo load is no longer offered)")
                    .clicked()
                {
                    composer.undo_load = None;
                }
            });
        }
    });
    ui.add_space(4.0);
}

fn manual_inputs(composer: &mut Composer, ui: &mut egui::Ui) {
    let label = ui.label("Prompt");
    ui.add(
        egui::TextEdit::multiline(&mut composer.prompt)
            .hint_text("a lighthouse on a cliff at dawn, <lora:name:0.7>")
            .desired_rows(4)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
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
