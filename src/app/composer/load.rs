//! What Load into composer leaves in the composer: the recorded prompts of a pack job, the
//! loaded job's settings (a layer over the user's own settings, never saved as them), and the
//! Undo load stack (several loads deep, kept across restarts), with the bar that offers it.

use super::Composer;
use super::settings::prompts_file;
use crate::app::commands::{Command, CommandQueue};
use crate::app::state::{ViewContext, short_id, testing_pub_struct};
use crate::job_record::JobRecord;
use crate::packs::{PackPrompt, PromptPack};
use crate::run_config::{GenerationSettings, PromptSource};
use crate::settings_override::SettingsOverride;
use egui::RichText;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many loads Undo load can go back.
pub const MAX_LOAD_UNDO: usize = 10;

testing_pub_struct! {
    /// The prompts a pack job recorded, by key.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct RecordedPrompts {
        job_id: String,
        pack_id: String,
        prompts: Vec<PackPrompt>,
    }
}

testing_pub_struct! {
    /// A loaded job's settings: laid over the user's own settings (and the selected pack's
    /// defaults) until another pack is selected, the mode changes, or Reset to my settings.
    /// A field the user changes becomes their own and leaves this layer.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct LoadedSettings {
        job_id: String,
        /// The pack it was loaded into (Pack mode), or None (Manual mode).
        pack_id: Option<String>,
        /// The job's settings not changed by hand since the load.
        applied: SettingsOverride,
    }
}

testing_pub_struct! {
    /// The composer and selection as they were before a Load into composer (saved with the
    /// draft, so a restart keeps them).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct LoadUndo {
        /// The job that was loaded.
        job_id: String,
        mode: PromptSource,
        prompt: String,
        negative: String,
        /// The user's own settings and Random tick.
        settings: GenerationSettings,
        random_seed: bool,
        loaded: Option<LoadedSettings>,
        recorded: Option<RecordedPrompts>,
        selected_pack: Option<String>,
        checked_keys: Vec<String>,
        /// The pack defaults the user took over (for this session only).
        #[serde(skip)]
        taken_over: BTreeMap<String, SettingsOverride>,
        /// The chosen styles and the draw seed (a load replaces them too).
        #[serde(default)]
        styles: Vec<crate::run_config::StyleRef>,
        #[serde(default)]
        wildcard_seed: Option<u64>,
    }
}

impl RecordedPrompts {
    /// The prompts a pack job recorded: its payload's `{"prompts": {key: ..}}`, or the one
    /// prompt pair it holds at the top level when it names exactly one key. None for a job of
    /// no pack or with no prompt recorded per key.
    pub fn from_record(record: &JobRecord) -> Option<RecordedPrompts> {
        let cfg = &record.run_config;
        let pack_id = cfg.prompt_pack_id.clone()?;
        let prompts: Vec<PackPrompt> = match cfg
            .prompt_payload
            .get("prompts")
            .and_then(serde_json::Value::as_object)
        {
            Some(map) => map
                .iter()
                .map(|(key, entry)| {
                    let (positive, negative) = match entry {
                        serde_json::Value::String(s) => (s.clone(), String::new()),
                        other => (
                            text(other.get("prompt")),
                            text(other.get("negative_prompt")),
                        ),
                    };
                    pack_prompt(key, positive, negative)
                })
                .collect(),
            None => match (cfg.prompt_keys.as_slice(), cfg.prompt_pairs().first()) {
                ([key], Some((positive, negative))) => {
                    vec![pack_prompt(key, positive.clone(), negative.clone())]
                }
                _ => Vec::new(),
            },
        };
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

/// True when a pack job recorded its prompt text once for several keys (or none), without
/// saying which key it belongs to (StableNew imports of multi-prompt jobs).
pub fn text_not_by_key(record: &JobRecord) -> bool {
    let payload = &record.run_config.prompt_payload;
    !payload.contains_key("prompts")
        && payload.contains_key("prompt")
        && record.prompt_keys.len() != 1
}

fn text(v: Option<&serde_json::Value>) -> String {
    v.and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A recorded prompt, parsed like a pack's (LoRAs, matrix tokens...).
fn pack_prompt(key: &str, positive: String, negative: String) -> PackPrompt {
    PackPrompt::from_texts(key, positive.as_str(), negative.as_str(), None).unwrap_or(PackPrompt {
        key: key.to_owned(),
        positive,
        negative,
        ..PackPrompt::default()
    })
}

impl LoadedSettings {
    /// Whether this layer still applies: a manual job's in Manual mode, a pack job's while its
    /// pack is selected in Pack mode.
    fn applies(&self, mode: PromptSource, pack: Option<&PromptPack>) -> bool {
        match (&self.pack_id, mode) {
            (None, PromptSource::Manual) => true,
            (Some(id), PromptSource::Pack) => pack.is_some_and(|p| &p.id == id),
            _ => false,
        }
    }
}

impl Composer {
    /// Lays the settings of job `job_id` over the user's own (and the pack's defaults), until
    /// another pack is selected (`pack_id`: the pack it was loaded into; None: Manual mode).
    pub(crate) fn load_settings(
        &mut self,
        job_id: &str,
        settings: &GenerationSettings,
        pack_id: Option<&str>,
    ) {
        self.absorb_edits();
        self.loaded = Some(LoadedSettings {
            job_id: job_id.to_owned(),
            pack_id: pack_id.map(str::to_owned),
            applied: SettingsOverride::from_settings(settings),
        });
        self.show_laid();
    }

    /// Drops the loaded job's settings once they no longer apply (another pack, another mode).
    pub(super) fn drop_stale_load(&mut self, pack: Option<&PromptPack>) {
        if self
            .loaded
            .as_ref()
            .is_some_and(|l| !l.applies(self.mode, pack))
        {
            self.absorb_edits();
            self.loaded = None;
            self.show_laid();
        }
        let selected = pack.map(|p| p.id.as_str());
        if self
            .recorded
            .as_ref()
            .is_some_and(|r| Some(r.pack_id.as_str()) != selected)
        {
            self.recorded = None;
        }
    }

    /// What Undo load of job `job_id` brings back: the composer as it is now, with the
    /// selection.
    pub(crate) fn undo_snapshot(
        &self,
        job_id: &str,
        selected_pack: Option<&str>,
        checked_keys: &[String],
    ) -> LoadUndo {
        let (settings, random_seed) = self.own_settings();
        LoadUndo {
            job_id: job_id.to_owned(),
            mode: self.mode,
            prompt: self.prompt.clone(),
            negative: self.negative.clone(),
            settings,
            random_seed,
            loaded: self.loaded.clone(),
            recorded: self.recorded.clone(),
            selected_pack: selected_pack.map(str::to_owned),
            checked_keys: checked_keys.to_vec(),
            taken_over: self.taken_over.clone(),
            styles: self.styles.clone(),
            wildcard_seed: Some(self.wildcard_seed),
        }
    }

    /// Remembers what a load replaced (the oldest is forgotten past [`MAX_LOAD_UNDO`]) and
    /// shows the load bar again.
    pub(crate) fn push_undo(&mut self, undo: LoadUndo) {
        self.undo_load.push(undo);
        let extra = self.undo_load.len().saturating_sub(MAX_LOAD_UNDO);
        self.undo_load.drain(..extra);
        self.load_bar_hidden = false;
    }

    /// Takes the last load's undo, or None.
    pub(crate) fn pop_undo(&mut self) -> Option<LoadUndo> {
        self.undo_load.pop()
    }

    /// Brings back the composer an undo snapshot holds (the selection is the caller's).
    pub(crate) fn restore(&mut self, undo: &LoadUndo) {
        self.mode = undo.mode;
        self.prompt.clone_from(&undo.prompt);
        self.negative.clone_from(&undo.negative);
        self.baseline = undo.settings.clone();
        self.baseline_random_seed = undo.random_seed;
        self.loaded.clone_from(&undo.loaded);
        self.recorded.clone_from(&undo.recorded);
        self.taken_over.clone_from(&undo.taken_over);
        self.styles.clone_from(&undo.styles);
        if let Some(seed) = undo.wildcard_seed {
            self.wildcard_seed = seed;
        }
        self.pack_defaults = None;
        self.unrounded = Default::default();
        self.show_laid();
    }
}

/// After Load into composer: a warning when the pack's text changed since the job was
/// recorded (with Use current text), and Undo load (until hidden).
pub(super) fn load_banner(
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
    let show_undo = !composer.undo_load.is_empty() && !composer.load_bar_hidden;
    if changed.is_empty() && !show_undo {
        return;
    }
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        if let (false, Some(pack)) = (changed.is_empty(), ctx.selected_pack) {
            changed_text_warning(composer, pack, &changed, ui);
        }
        if show_undo {
            undo_row(composer, ui, commands);
        }
    });
    ui.add_space(4.0);
}

/// "⚠ Architecture.txt has changed since job … was recorded" with Use current text.
fn changed_text_warning(
    composer: &mut Composer,
    pack: &PromptPack,
    changed: &[String],
    ui: &mut egui::Ui,
) {
    let Some(recorded) = &composer.recorded else {
        return;
    };
    let file = prompts_file(pack);
    let keys = if changed.len() == 1 { "key" } else { "keys" };
    ui.add(
        egui::Label::new(
            RichText::new(format!(
                "⚠ {file} has changed since job {} was recorded ({keys} {}): the composer shows, and Submit records, the recorded text.",
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

/// "Loaded job … into the composer." with Undo load and Hide.
fn undo_row(composer: &mut Composer, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    let Some(last) = composer.undo_load.last() else {
        return;
    };
    let depth = composer.undo_load.len();
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "Loaded job {} into the composer.",
            short_id(&last.job_id)
        ));
        undo_button(ui, depth, commands);
        if ui
            .small_button("Hide")
            .on_hover_text("Hide this bar; Undo load stays beside Pack / Manual")
            .clicked()
        {
            composer.load_bar_hidden = true;
        }
        if depth > 1 {
            ui.weak(format!("{depth} loads can be undone, the last first."));
        }
    });
}

/// The Undo load button (in the load bar, or beside Pack / Manual once the bar is hidden).
fn undo_button(ui: &mut egui::Ui, depth: usize, commands: &mut CommandQueue) {
    let hover = if depth > 1 {
        format!(
            "Bring back the prompt, mode, pack selection and settings you had before the last load ({depth} loads can be undone)"
        )
    } else {
        "Bring back the prompt, mode, pack selection and settings you had before the load"
            .to_owned()
    };
    if ui.button("Undo load").on_hover_text(hover).clicked() {
        commands.push(Command::UndoLoad);
    }
}

/// Undo load beside Pack / Manual while the load bar is hidden.
pub(super) fn header_undo(composer: &Composer, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    if composer.load_bar_hidden && !composer.undo_load.is_empty() {
        ui.separator();
        undo_button(ui, composer.undo_load.len(), commands);
    }
}
