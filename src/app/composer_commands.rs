//! Commands of the composer: selecting a pack (its defaults are laid over the user's own
//! settings), Submit, Load into composer and Undo load.

use super::composer::{Composer, RecordedPrompts, text_not_by_key};
use super::state::{AppState, HistoryStatus, Message, short_id};
use super::writer::WriteRequest;
use crate::history::HistoryStore;
use crate::job_record::{JobRecord, job_record_from_run_config};
use crate::packs::PromptPack;
use crate::prompt_packs::{build_run_config_for_manual_prompt, build_run_config_from_prompt_pack};
use crate::run_config::PromptSource;
use crate::run_config::{RunConfig, RunMode, RunSource};
use serde_json::{Value, json};

impl AppState {
    pub(crate) fn select_pack(&mut self, id: String) {
        if self.selected_pack.as_ref() != Some(&id) {
            self.checked_keys.clear();
        }
        self.selected_pack = Some(id);
        self.composer.mode = PromptSource::Pack;
        self.sync_composer();
    }

    /// Lays the selected pack's defaults (Pack mode) over the user's own settings, as the
    /// composer does each frame; called before anything reads or replaces the settings.
    fn sync_composer(&mut self) {
        let pack = super::state::selected_pack(&self.packs, self.selected_pack.as_deref());
        self.composer.reconcile(pack);
    }

    /// Sends the job to the writer. The composer keeps everything: a failed write leaves it
    /// as it is. A width or height still being typed off the step of 8 is rounded first.
    pub(crate) fn submit(&mut self) {
        self.sync_composer();
        self.composer.round_typed_sizes();
        if let Some(reason) = self.submit_blocker() {
            self.message = Some(Message::Error(reason));
            return;
        }
        let mut cfg = match self.draft_run_config() {
            Ok(cfg) => cfg,
            Err(e) => {
                self.message = Some(Message::Error(e));
                return;
            }
        };
        // What the run sends, recorded with it: never a literal token or `{prompt}`.
        if let Err(e) = crate::render::render_into(
            &mut cfg,
            &self.packs,
            &self.wildcards,
            &self.composer.styles,
            self.composer.wildcard_seed,
        ) {
            self.message = Some(Message::Error(e.to_string()));
            return;
        }
        let record = job_record_from_run_config(&HistoryStore::new_job_id(), &cfg);
        let summary = match cfg.prompt_source {
            PromptSource::Pack => format!(
                "pack {}, keys {}",
                cfg.prompt_pack_id.as_deref().unwrap_or_default(),
                cfg.prompt_keys.join(", ")
            ),
            PromptSource::Manual => "manual prompt".to_owned(),
        };
        self.write(WriteRequest::Append { record, summary });
    }

    /// Puts a recorded job back into the composer: its origin, keys and recorded prompts, and
    /// its settings (laid over the user's own, never becoming them). A pack job whose pack or
    /// keys are gone comes back as a manual prompt. What the composer held before can be
    /// brought back with Undo load.
    pub(crate) fn load_into_composer(&mut self, id: &str) {
        let Some(record) = self.record(id) else {
            return;
        };
        self.load_record_into_composer(record);
    }

    /// As [`Self::load_into_composer`], with a record (a copy, possibly changed: Re-run with
    /// this seed sets an image's seed in it).
    pub(crate) fn load_record_into_composer(&mut self, record: JobRecord) {
        self.sync_composer();
        let undo = self.composer.undo_snapshot(
            &record.job_id,
            self.selected_pack.as_deref(),
            &self.checked_keys,
        );
        // The styles and draw seed come back too, so a re-run sends the same requests.
        self.composer.styles = record.run_config.prompt_styles();
        if let Some(seed) = record.run_config.wildcard_seed() {
            self.composer.wildcard_seed = seed;
        }
        let message = match record.prompt_source {
            PromptSource::Pack => self.load_pack_job(&record),
            PromptSource::Manual => {
                self.load_as_manual(&record);
                Message::Info(format!(
                    "Loaded job {} into the composer. {UNDO_HINT}",
                    short_id(&record.job_id)
                ))
            }
        };
        self.sync_composer();
        self.composer.push_undo(undo);
        self.message = Some(message);
    }

    /// Selects the job's pack and keys, lays its settings over the user's and keeps its
    /// recorded prompts; falls back to a manual prompt when the pack or all its keys are gone.
    /// The message to show.
    fn load_pack_job(&mut self, record: &JobRecord) -> Message {
        let job = short_id(&record.job_id);
        let Some(pack_id) = record.prompt_pack_id.as_deref().filter(|id| !id.is_empty()) else {
            let first = self.load_as_manual(record);
            return Message::Error(format!(
                "Job {job} names no pack, so it was loaded as a manual prompt{first}. {UNDO_HINT}"
            ));
        };
        let shown = crate::packs::escape_control(pack_id).into_owned();
        let Some(pack) = self.packs.iter().find(|p| p.id == pack_id) else {
            let first = self.load_as_manual(record);
            return Message::Error(format!(
                "Pack {shown:?} is not in the packs folder, so job {job} was loaded as a manual prompt{first}. {UNDO_HINT}"
            ));
        };
        let (kept, missing): (Vec<String>, Vec<String>) = record
            .prompt_keys
            .iter()
            .cloned()
            .partition(|k| pack.get(k).is_some());
        let has_text = !record.run_config.prompt_pairs().is_empty();
        if kept.is_empty() && has_text {
            let first = self.load_as_manual(record);
            let why = if missing.is_empty() {
                format!(
                    "Job {job} recorded its prompt but not which key of pack {shown} it came from"
                )
            } else {
                format!("Pack {shown} no longer has {}", keys_phrase(&missing))
            };
            return Message::Error(format!(
                "{why}, so job {job} was loaded as a manual prompt{first}. {UNDO_HINT}"
            ));
        }
        let pack_id = pack_id.to_owned();
        self.selected_pack = Some(pack_id.clone());
        self.checked_keys = kept.clone();
        self.composer.mode = PromptSource::Pack;
        self.composer
            .load_settings(&record.job_id, &record.run_config.settings, Some(&pack_id));
        self.composer.recorded =
            RecordedPrompts::from_record(record).filter(|r| r.pack_id == pack_id);
        let mut notes = Vec::new();
        if !missing.is_empty() {
            notes.push(format!(
                "Pack {shown} no longer has {}; the other keys were loaded.",
                keys_phrase(&missing)
            ));
        }
        if kept.is_empty() {
            notes.push(format!(
                "It names no key of pack {shown}: check the prompts to run."
            ));
        } else if text_not_by_key(record) {
            notes.push(format!(
                "It recorded one prompt text for {}, not which key it belongs to: the pack's current text of each key is used.",
                keys_phrase(&kept)
            ));
        } else if !has_text {
            notes.push("It recorded no prompt text: the pack's current text is used.".to_owned());
        }
        let text = format!(
            "Loaded job {job} into the composer. {}{UNDO_HINT}",
            notes.iter().map(|n| format!("{n} ")).collect::<String>()
        );
        if notes.is_empty() {
            Message::Info(text)
        } else {
            Message::Error(text)
        }
    }

    /// Puts the job's (first) prompt in the Manual boxes and lays its settings over the
    /// user's. Returns " (the first of its N prompts)" when it recorded several, else "".
    fn load_as_manual(&mut self, record: &JobRecord) -> String {
        let pairs = record.run_config.prompt_pairs();
        let (prompt, negative) = pairs.first().cloned().unwrap_or_default();
        self.composer.mode = PromptSource::Manual;
        self.composer.prompt = prompt;
        self.composer.negative = negative;
        self.composer.recorded = None;
        self.composer
            .load_settings(&record.job_id, &record.run_config.settings, None);
        if pairs.len() > 1 {
            format!(" (the first of its {} prompts)", pairs.len())
        } else {
            String::new()
        }
    }

    /// Drops the brackets of `token` (a token with no values): in the manual prompt, or, in
    /// Pack mode, in a manual draft made from the pack prompt `key` (the pack file is not
    /// edited).
    pub(crate) fn drop_brackets(&mut self, token: &str, key: &str) {
        use crate::render::drop_brackets;
        self.sync_composer();
        match self.composer.mode {
            PromptSource::Manual => {
                self.composer.prompt = drop_brackets(&self.composer.prompt, token);
                self.composer.negative = drop_brackets(&self.composer.negative, token);
            }
            PromptSource::Pack => {
                let Ok(cfg) = self.draft_run_config() else {
                    return;
                };
                let Some(entry) = cfg.prompt_payload.get("prompts").and_then(|p| p.get(key)) else {
                    return;
                };
                let text = |k: &str| entry.get(k).and_then(Value::as_str).unwrap_or_default();
                let prompt = drop_brackets(text("prompt"), token);
                let negative = drop_brackets(text("negative_prompt"), token);
                let pack = cfg.prompt_pack_id.unwrap_or_default();
                self.composer.mode = PromptSource::Manual;
                self.composer.prompt = prompt;
                self.composer.negative = negative;
                self.message = Some(Message::Info(format!(
                    "Key {key} of pack {pack} is now a manual prompt, with {token} written without its brackets. The pack file is unchanged."
                )));
            }
        }
        self.sync_composer();
    }

    /// Fills the manual prompt, its negative and every setting promptdesk knows from the A1111
    /// infotext in the prompt box (the settings become the user's own, as A1111 fills its
    /// fields); the keys it does not know are named in the message.
    pub(crate) fn read_parameters(&mut self) {
        let Some(info) = crate::infotext::parse_infotext(&self.composer.prompt) else {
            self.message = Some(Message::Error(
                "The prompt box holds no A1111 parameters line (Steps: .., Sampler: .., ...)."
                    .to_owned(),
            ));
            return;
        };
        self.sync_composer();
        let filled = info.settings.named_fields().len();
        self.composer.read_parameters(&info);
        self.sync_composer();
        let mut text = format!(
            "Read parameters: the prompt, the negative prompt and {} filled in.",
            crate::wording::plural(filled, "setting")
        );
        if !info.unknown.is_empty() {
            let names: Vec<&str> = info.unknown.iter().map(|(k, _)| k.as_str()).collect();
            text.push_str(&format!(" Not used here: {}.", names.join(", ")));
        }
        self.message = Some(Message::Info(text));
    }

    /// Brings back the composer and the pack selection as they were before the last load.
    pub(crate) fn undo_load(&mut self) {
        let Some(undo) = self.composer.pop_undo() else {
            return;
        };
        self.composer.restore(&undo);
        let pack = super::state::selected_pack(&self.packs, undo.selected_pack.as_deref());
        self.checked_keys = match pack {
            Some(pack) => undo
                .checked_keys
                .iter()
                .filter(|k| pack.get(k).is_some())
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        self.selected_pack = pack.map(|p| p.id.clone());
        self.sync_composer();
        let more = match self.composer.undo_load.len() {
            0 => String::new(),
            1 => " Undo load once more goes back one more load.".to_owned(),
            n => format!(" Undo load goes back {n} more loads."),
        };
        self.message = Some(Message::Info(format!(
            "Load of job {} undone: your previous prompt, pack selection and settings are back.{more}",
            short_id(&undo.job_id)
        )));
    }
}

/// "key 7" or "keys 7, 8".
fn keys_phrase(keys: &[String]) -> String {
    match keys {
        [one] => format!("key {one}"),
        _ => format!("keys {}", keys.join(", ")),
    }
}

/// Said after every load.
const UNDO_HINT: &str =
    "Undo load (in the composer) brings back your previous prompt, pack selection and settings.";

/// Why Submit is disabled, or None when it can run. A history still loading does not block
/// it (the writer appends without reading the history).
pub fn submit_blocker(
    composer: &Composer,
    pack: Option<&PromptPack>,
    checked_keys: &[String],
    history: &HistoryStatus<'_>,
) -> Option<String> {
    if history.submit_waiting {
        return Some(
            "Waiting to record the previous job: the history is busy (it is retried by itself)."
                .to_owned(),
        );
    }
    if history.submitting {
        return Some("Recording the previous job…".to_owned());
    }
    if let Some(e) = history.error {
        return Some(format!("The history could not be opened: {e}"));
    }
    match composer.mode {
        PromptSource::Pack => match pack {
            None => Some("Select a pack on the left.".to_owned()),
            Some(_) if checked_keys.is_empty() => {
                Some("Check at least one prompt of the pack.".to_owned())
            }
            Some(_) => composer.render_error().map(ToString::to_string),
        },
        PromptSource::Manual if composer.prompt.trim().is_empty() => {
            Some("Type a prompt first.".to_owned())
        }
        PromptSource::Manual => composer.render_error().map(ToString::to_string),
    }
}

/// The RunConfig Submit would record now. After Load into composer, a pack job's recorded
/// prompts stand in for the pack's current text (until Use current text).
pub fn draft_run_config(
    composer: &Composer,
    pack: Option<&PromptPack>,
    checked_keys: &[String],
) -> Result<RunConfig, String> {
    let mut settings = composer.settings.clone();
    if composer.random_seed {
        settings.seed = -1;
    }
    let base = RunConfig {
        run_mode: RunMode::Direct,
        source: RunSource::Gui,
        settings,
        ..RunConfig::default()
    };
    match composer.mode {
        PromptSource::Manual => Ok(build_run_config_for_manual_prompt(
            &composer.prompt,
            &composer.negative,
            Some(base),
        )),
        PromptSource::Pack => {
            let pack = pack.ok_or_else(|| "Select a pack on the left.".to_owned())?;
            // Submit in the pack's key order, whatever order they were checked in.
            let keys: Vec<&str> = pack
                .keys()
                .into_iter()
                .filter(|k| checked_keys.iter().any(|c| c == k))
                .collect();
            let mut cfg = build_run_config_from_prompt_pack(pack, &keys, Some(base))
                .map_err(|e| e.to_string())?;
            if let Some(recorded) = composer.recorded.as_ref().filter(|r| r.pack_id == pack.id) {
                use_recorded_prompts(&mut cfg, recorded);
            }
            Ok(cfg)
        }
    }
}

/// Replaces the payload's prompts by the recorded ones, key by key.
fn use_recorded_prompts(cfg: &mut RunConfig, recorded: &RecordedPrompts) {
    let Some(prompts) = cfg
        .prompt_payload
        .get_mut("prompts")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (key, entry) in prompts.iter_mut() {
        if let Some(old) = recorded.get(key) {
            *entry = json!({"prompt": old.positive, "negative_prompt": old.negative});
        }
    }
}
