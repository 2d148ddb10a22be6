//! Commands of the composer: selecting a pack (its defaults reach the settings), Submit and
//! Load into composer.

use super::composer::Composer;
use super::state::{AppState, HistoryStatus, Message, short_id};
use super::writer::WriteRequest;
use crate::history::HistoryStore;
use crate::job_record::job_record_from_run_config;
use crate::packs::PromptPack;
use crate::prompt_packs::{build_run_config_for_manual_prompt, build_run_config_from_prompt_pack};
use crate::run_config::PromptSource;
use crate::run_config::{RunConfig, RunMode, RunSource};

impl AppState {
    pub(crate) fn select_pack(&mut self, id: String) {
        if self.selected_pack.as_ref() != Some(&id) {
            self.checked_keys.clear();
        }
        if let Some(pack) = self.packs.iter().find(|p| p.id == id) {
            pack.defaults.apply_to(&mut self.composer.settings);
            if pack.defaults.seed.is_some_and(|s| s >= 0) {
                self.composer.random_seed = false;
            }
        }
        self.selected_pack = Some(id);
        self.composer.mode = PromptSource::Pack;
    }

    /// Sends the job to the writer. The composer keeps everything: a failed write leaves it
    /// as it is.
    pub(crate) fn submit(&mut self) {
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

    pub(crate) fn load_into_composer(&mut self, id: &str) {
        let Some(record) = self.record(id) else {
            return;
        };
        self.composer.settings = record.run_config.settings.clone();
        self.composer.random_seed = record.run_config.settings.seed < 0;
        match record.prompt_source {
            PromptSource::Pack => {
                let pack_id = record.prompt_pack_id.clone().unwrap_or_default();
                self.composer.mode = PromptSource::Pack;
                match self.packs.iter().find(|p| p.id == pack_id) {
                    Some(pack) => {
                        let missing: Vec<&String> = record
                            .prompt_keys
                            .iter()
                            .filter(|k| pack.get(k).is_none())
                            .collect();
                        self.selected_pack = Some(pack_id.clone());
                        self.checked_keys = record
                            .prompt_keys
                            .iter()
                            .filter(|k| pack.get(k).is_some())
                            .cloned()
                            .collect();
                        self.message = Some(if missing.is_empty() {
                            Message::Info(format!("Loaded job {} into the composer.", short_id(id)))
                        } else {
                            Message::Error(format!(
                                "Pack {pack_id} no longer has key(s) {}.",
                                missing
                                    .iter()
                                    .map(|s| s.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        });
                    }
                    None => {
                        self.message = Some(Message::Error(format!(
                            "Pack {pack_id:?} is not in the packs folder; its settings were loaded."
                        )))
                    }
                }
            }
            PromptSource::Manual => {
                let (prompt, negative) = record
                    .run_config
                    .prompt_pairs()
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                self.composer.mode = PromptSource::Manual;
                self.composer.prompt = prompt;
                self.composer.negative = negative;
                self.message = Some(Message::Info(format!(
                    "Loaded job {} into the composer.",
                    short_id(id)
                )));
            }
        }
    }
}

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

/// The RunConfig Submit would record now.
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
            build_run_config_from_prompt_pack(pack, &keys, Some(base)).map_err(|e| e.to_string())
        }
    }
}
