//! Carrying out [`Command`]s, after the frame that pushed them. Nothing here waits for the
//! disk: changes to the history go to the history writer (see [`super::writer`]) and come
//! back as events; pack-file copies and file dialogs run as background [`Task`]s.

use super::commands::Command;
use super::state::{AppState, InFlight, Message, busy_now, short_id};
use super::tasks::Task;
use super::writer::{Outcome, RequestKind, WriteRequest, lock_held_elsewhere};
use crate::history::{ExportFormat, HistoryStore, SortColumn, infotext_for_record};
use crate::job_record::job_record_from_run_config;
use crate::run_config::PromptSource;
use std::path::PathBuf;

impl AppState {
    /// Carries out one command.
    pub fn apply(&mut self, command: Command) {
        match command {
            Command::SelectPack(id) => self.select_pack(id),
            Command::SetKeyChecked(key, checked) => {
                self.checked_keys.retain(|k| k != &key);
                if checked {
                    self.checked_keys.push(key);
                }
            }
            Command::CheckAllKeys => {
                self.checked_keys = self
                    .selected_pack()
                    .map(|p| p.keys().into_iter().map(str::to_owned).collect())
                    .unwrap_or_default();
            }
            Command::CheckNoKeys => self.checked_keys.clear(),
            Command::SetMode(mode) => self.composer.mode = mode,
            Command::Submit => self.submit(),
            Command::SelectJob(id) => self.view.selected = id,
            Command::LoadIntoComposer(id) => self.load_into_composer(&id),
            Command::CopyPrompt(id) => {
                if let Some(r) = self.record(&id) {
                    let text = r
                        .run_config
                        .prompt_pairs()
                        .into_iter()
                        .map(|(p, _)| p)
                        .collect::<Vec<_>>()
                        .join("\n\n");
                    self.clipboard = Some(text);
                    self.message = Some(Message::Info("Prompt copied.".into()));
                }
            }
            Command::CopyInfotext(id) => {
                if let Some(r) = self.record(&id) {
                    self.clipboard = Some(infotext_for_record(&r));
                    self.message = Some(Message::Info("Infotext copied.".into()));
                }
            }
            Command::CancelJob(id) => self.write(WriteRequest::Cancel(id)),
            Command::DeleteJob(id) => self.write(WriteRequest::Delete(id)),
            Command::UndoDelete => {
                if let Some(record) = self.view.last_deleted.take() {
                    self.view.selected = Some(record.job_id.clone());
                    self.write(WriteRequest::Restore(record));
                }
            }
            Command::SortBy(column) => {
                if self.view.sort_column == column {
                    self.view.sort_descending = !self.view.sort_descending;
                } else {
                    self.view.sort_column = column;
                    self.view.sort_descending = matches!(column, SortColumn::Time);
                }
            }
            Command::ReloadPacks => self.pack_scan.restart(self.packs_dir.clone()),
            Command::SetPacksDir(dir) => {
                self.packs_dir = dir.clone();
                self.selected_pack = None;
                self.checked_keys.clear();
                self.pack_scan.restart(dir);
            }
            Command::ImportPackFiles(files) => self.import_pack_files(files),
            Command::ImportStableNew(path) => {
                self.write(WriteRequest::ImportStableNew(path));
            }
            Command::Export(path, format) => self.export(path, format),
            Command::SetTheme(theme) => self.theme = theme,
            Command::DismissMessage => self.message = None,
            Command::Quit => {}
            Command::ScrolledToSelection => self.view.scroll_to = None,
            Command::PickPacksFolder => {
                let start = self.packs_dir.clone();
                self.dialog(move || {
                    rfd::FileDialog::new()
                        .set_directory(start)
                        .pick_folder()
                        .map(Command::SetPacksDir)
                });
            }
            Command::PickPackFiles => self.dialog(|| {
                rfd::FileDialog::new()
                    .add_filter("Prompt packs", &crate::packs::PACK_EXTENSIONS)
                    .pick_files()
                    .map(Command::ImportPackFiles)
            }),
            Command::PickStableNewFile => self.dialog(|| {
                rfd::FileDialog::new()
                    .add_filter("StableNew job history", &["jsonl", "json"])
                    .pick_file()
                    .map(Command::ImportStableNew)
            }),
            Command::PickExportFile(format) => self.dialog(move || {
                let (label, ext) = export_label(format);
                rfd::FileDialog::new()
                    .set_file_name(format!("promptdesk-history.{ext}"))
                    .add_filter(label, &[ext])
                    .save_file()
                    .map(|path| Command::Export(path, format))
            }),
        }
        self.refresh_rows();
    }

    /// Sends a change to the history writer. When another process holds the history right
    /// now (one non-blocking look), the status line says at once that it waits.
    fn write(&mut self, request: WriteRequest) {
        let kind = request.kind();
        let starting = match &request {
            WriteRequest::ImportStableNew(path) => Some(format!(
                "Importing {}...",
                crate::packs::escape_control(&path.display().to_string())
            )),
            WriteRequest::Export { path, rows, .. } => Some(format!(
                "Exporting {} record(s) to {}...",
                rows.len(),
                crate::packs::escape_control(&path.display().to_string())
            )),
            _ => None,
        };
        let Some(id) = self.writer.send(request) else {
            self.message = Some(Message::Error(
                "The history writer stopped unexpectedly; restart promptdesk to save changes."
                    .into(),
            ));
            return;
        };
        let busy = match kind {
            RequestKind::Export => None,
            _ => lock_held_elsewhere(&self.history_path()),
        };
        if let Some(e) = &busy {
            self.message = Some(Message::Error(busy_now(kind, e)));
        } else if let Some(text) = starting {
            self.message = Some(Message::Info(text));
        }
        self.writes.push(InFlight {
            id,
            kind,
            waiting: busy.is_some(),
        });
    }

    /// Applies what a finished request did.
    pub(crate) fn apply_outcome(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Recorded { job_id, summary } => {
                self.message = Some(Message::Info(format!(
                    "Recorded job {} ({summary}).",
                    short_id(&job_id)
                )));
                self.view.selected = Some(job_id.clone());
                self.view.scroll_to = Some(job_id);
            }
            Outcome::StatusSet(_) => self.message = Some(Message::Info("Job updated.".into())),
            Outcome::Cancelled(_) => self.message = Some(Message::Info("Job cancelled.".into())),
            Outcome::Deleted(record) => {
                self.message = Some(Message::Info(format!(
                    "Deleted job {}. Press Ctrl+Z or Undo to restore it.",
                    short_id(&record.job_id)
                )));
                if self.view.selected.as_deref() == Some(record.job_id.as_str()) {
                    self.view.selected = None;
                }
                self.view.last_deleted = Some(*record);
            }
            Outcome::Restored(_) => self.message = Some(Message::Info("Job restored.".into())),
            Outcome::Imported { path, report: r } => {
                self.message = Some(Message::Info(format!(
                    "Imported {} job(s) from {} ({} already present, {} line(s) skipped){}.",
                    r.imported,
                    path.display(),
                    r.already_present,
                    r.skipped.len(),
                    if r.completed_interrupted {
                        "; the interrupted import of this file is now complete"
                    } else {
                        ""
                    }
                )));
                // The interrupted-import banner may have to go (or come).
                self.refresh_interrupted(true);
            }
            Outcome::Exported { path, count } => {
                self.message = Some(Message::Info(format!(
                    "Exported {count} record(s) to {}.",
                    path.display()
                )));
            }
            Outcome::Failed { kind, message } => {
                self.message = Some(Message::Error(message));
                if kind == RequestKind::Import {
                    self.refresh_interrupted(true);
                }
            }
        }
    }

    fn select_pack(&mut self, id: String) {
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
    fn submit(&mut self) {
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

    fn load_into_composer(&mut self, id: &str) {
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

    /// Starts copying pack files into the packs folder on a background task (see
    /// [`super::pack_import`]: only regular pack files within the size limit are copied, never
    /// over an existing file); [`Self::finish_pack_imports`] reports the result.
    fn import_pack_files(&mut self, files: Vec<PathBuf>) {
        self.message = Some(Message::Info(format!(
            "Importing {} pack file(s)...",
            files.len()
        )));
        let dir = self.packs_dir.clone();
        self.pack_imports
            .push(Task::spawn("pack-import", &self.repaint, move || {
                super::pack_import::import_pack_files(&dir, &files)
            }));
    }

    /// Takes the reports of finished imports: says what was copied (and what not, and why),
    /// and rescans the packs folder.
    pub(crate) fn finish_pack_imports(&mut self) {
        let mut finished = Vec::new();
        self.pack_imports.retain(|task| match task.poll() {
            Some(result) => {
                finished.push(result.unwrap_or_else(|e| super::pack_import::ImportReport {
                    copied: 0,
                    errors: vec![e],
                }));
                false
            }
            None => true,
        });
        for report in finished {
            self.message = Some(if report.errors.is_empty() {
                Message::Info(report.message())
            } else {
                Message::Error(report.message())
            });
            self.pack_scan.restart(self.packs_dir.clone());
        }
    }

    /// Opens a file dialog on its own thread; its answer arrives as a command.
    fn dialog(&mut self, pick: impl FnOnce() -> Option<Command> + Send + 'static) {
        self.dialogs
            .push(Task::spawn("file-dialog", &self.repaint, pick));
    }

    /// Applies the answers of closed file dialogs.
    pub(crate) fn finish_dialogs(&mut self) {
        let mut answers = Vec::new();
        self.dialogs.retain(|task| match task.poll() {
            Some(answer) => {
                answers.extend(answer.ok().flatten());
                false
            }
            None => true,
        });
        for command in answers {
            self.apply(command);
        }
    }

    /// Exports the rows shown, through the same core code as the CLI (on the writer: it
    /// refuses the history's own files and replaces the file atomically).
    fn export(&mut self, path: PathBuf, format: ExportFormat) {
        if self.store.is_none() {
            return;
        }
        let rows = self.view.rows.clone();
        self.write(WriteRequest::Export { path, format, rows });
    }
}

/// The file-dialog filter name and extension of an export format.
pub(crate) fn export_label(format: ExportFormat) -> (&'static str, &'static str) {
    match format {
        ExportFormat::Jsonl => ("JSON Lines", "jsonl"),
        ExportFormat::Csv => ("CSV", "csv"),
        ExportFormat::Infotext => ("A1111 infotext", "txt"),
    }
}
