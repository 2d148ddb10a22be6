//! Commands of the composer: selecting a pack (its defaults are laid over the user's own
//! settings), Submit, Load into composer and Undo load.

use super::composer::{Composer, LoadUndo, RecordedPrompts};
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
    /// as it is.
    pub(crate) fn submit(&mut self) {
        self.sync_composer();
        if let Some(reason) = self.submit_blocker() {
            self.message = Some(Message::Error(reason));
            return;
        }
        let cfg = match self.draft_run_config() {
            Ok(cfg) => cfg,
            Err(e) => {
                self.message = Some(Message::Error(e));
                return;
            }
        };
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
    /// its settings (which become the user's own). What the composer held before can be
    /// brought back with Undo load.
    pub(crate) fn load_into_composer(&mut self, id: &str) {
        let Some(record) = self.record(id) else {
            return;
        };
        self.sync_composer();
        let undo = LoadUndo {
            job_id: record.job_id.clone(),
            composer: Box::new(self.composer.without_undo()),
            selected_pack: self.selected_pack.clone(),
            checked_keys: self.checked_keys.clone(),
        };
        self.message = Some(match record.prompt_source {
            PromptSource::Pack => self.load_pack_job(&record),
            PromptSource::Manual => self.load_manual_job(&record),
        });
        self.composer.recorded = RecordedPrompts::from_record(&record)
            .filter(|r| self.selected_pack.as_deref() == Some(r.pack_id.as_str()));
        self.composer.undo_load = Some(undo);
    }

    /// Selects the job's pack and keys, takes its settings; the message to show.
    fn load_pack_job(&mut self, record: &JobRecord) -> Message {
        let pack_id = record.prompt_pack_id.clone().unwrap_or_default();
        self.composer.mode = PromptSource::Pack;
        let Some(pack) = self.packs.iter().find(|p| p.id == pack_id) else {
            self.selected_pack = None;
            self.checked_keys.clear();
            self.composer
                .take_settings(&record.run_config.settings, None);
            return Message::Error(format!(
                "Pack {pack_id:?} is not in the packs folder; only the settings of job {} were loaded. {UNDO_HINT}",
                short_id(&record.job_id),
            ));
        };
        let missing: Vec<&str> = record
            .prompt_keys
            .iter()
            .filter(|k| pack.get(k).is_none())
            .map(String::as_str)
            .collect();
        self.selected_pack = Some(pack_id.clone());
        self.checked_keys = record
            .prompt_keys
            .iter()
            .filter(|k| pack.get(k).is_some())
            .cloned()
            .collect();
        self.composer
            .take_settings(&record.run_config.settings, Some(pack));
        if missing.is_empty() {
            Message::Info(format!(
                "Loaded job {} into the composer. {UNDO_HINT}",
                short_id(&record.job_id)
            ))
        } else {
            Message::Error(format!(
                "Pack {pack_id} no longer has key(s) {}; the others were loaded. {UNDO_HINT}",
                missing.join(", ")
            ))
        }
    }

    /// Puts the job's prompt in the Manual boxes, takes its settings; the message to show.
    fn load_manual_job(&mut self, record: &JobRecord) -> Message {
        let (prompt, negative) = record
            .run_config
            .prompt_pairs()
            .into_iter()
            .next()
            .unwrap_or_default();
        self.composer.mode = PromptSource::Manual;
        self.composer.prompt = prompt;
        self.composer.negative = negative;
        self.composer
            .take_settings(&record.run_config.settings, None);
        Message::Info(format!(
            "Loaded job {} into the composer. {UNDO_HINT}",
            short_id(&record.job_id)
        ))
    }

    /// Brings back the composer and the pack selection as they were before the last load.
    pub(crate) fn undo_load(&mut self) {
        let Some(undo) = self.composer.undo_load.take() else {
            return;
        };
        self.composer = *undo.composer;
        let pack = super::state::selected_pack(&self.packs, undo.selected_pack.as_deref());
        self.checked_keys = match pack {
            Some(pack) => undo
                .checked_keys
                .into_iter()
                .filter(|k| pack.get(k).is_some())
                .collect(),
            None => Vec::new(),
        };
        self.selected_pack = pack.map(|p| p.id.clone());
        self.sync_composer();
        self.message = Some(Message::Info(format!(
            "Load of job {} undone: your previous prompt, pack selection and settings are back.",
            short_id(&undo.job_id)
        )));
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
            Some(_) => None,
        },
        PromptSource::Manual if composer.prompt.trim().is_empty() => {
            Some("Type a prompt first.".to_owned())
        }
        PromptSource::Manual => None,
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
