//! Carrying out [`Command`]s, after the frame that pushed them. Nothing here waits for the
//! disk: changes to the history go to the history writer (see [`super::writer`]) and come
//! back as events; pack-file copies and file dialogs run as background [`Task`]s.

use super::commands::Command;
use super::shortcuts::undo_keys;
use super::state::{AppState, InFlight, Message, busy_now, short_id};
use super::tasks::Task;
use super::widgets::truncate_chars;
use super::writer::{Outcome, RequestKind, WriteRequest, lock_held_elsewhere};
use crate::history::{ExportFormat, SortColumn, first_prompt_line, infotext_for_record};
use crate::job_record::JobRecord;
use crate::run_config::PromptSource;
use std::path::PathBuf;

/// How many deletes Undo can take back, the last first.
pub const UNDO_DEPTH: usize = 100;

impl AppState {
    /// Loads job `job_id` into the composer with `seed` (Undo load brings back what it held).
    fn rerun_with_seed(&mut self, job_id: &str, seed: i64) {
        if let Some(mut record) = self.record(job_id) {
            record.run_config.settings.seed = seed;
            self.load_record_into_composer(record);
            // The load's own words (a pack that is gone, ...), with the seed first.
            self.message = self.message.take().map(|m| match m {
                Message::Info(t) => Message::Info(format!("Seed {seed}: {t}")),
                Message::Error(t) => Message::Error(format!("Seed {seed}: {t}")),
            });
        }
    }

    /// The viewer opened from the Gallery steps `by` images through it: the Gallery's
    /// cursor moves, the job under it is selected (and shown in the table), and the viewer
    /// shows the image.
    fn gallery_step(&mut self, by: isize) {
        let Some(store) = self.store.clone() else {
            return;
        };
        let step = match store.read() {
            Ok(store) => self.gallery.step(by, &store),
            Err(_) => None,
        };
        let Some((job_id, index)) = step else {
            return;
        };
        if self.view.selected.as_deref() != Some(job_id.as_str()) {
            self.view.selected = Some(job_id.clone());
            self.view.scroll_to = Some(job_id.clone());
            self.details.scroll_to_top();
        }
        self.details.open_viewer_in_gallery(&job_id, index);
    }

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
            Command::OpenImage { job_id, index } => {
                if self.view.selected.as_deref() != Some(job_id.as_str()) {
                    self.view.selected = Some(job_id.clone());
                    self.details.scroll_to_top();
                }
                self.details.open_viewer_in_gallery(&job_id, index);
            }
            Command::GalleryStep(by) => self.gallery_step(by),
            Command::ShowInTable(id) => self.view.scroll_to = Some(id),
            Command::SelectJob(id) => {
                self.view.selected = id;
                self.details.scroll_to_top();
            }
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
            Command::UndoDelete => self.undo_delete(),
            Command::SortBy(column) => {
                if self.view.sort_column == column {
                    self.view.sort_descending = !self.view.sort_descending;
                } else {
                    self.view.sort_column = column;
                    // Newest and best rated first.
                    self.view.sort_descending =
                        matches!(column, SortColumn::Time | SortColumn::Rating);
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
            Command::PickPacksFolder
            | Command::PickPackFiles
            | Command::PickStableNewFile
            | Command::PickImagesFolder { .. }
            | Command::PickExportFile(_) => self.pick(command),
            Command::ImportImages { dir, recursive } => self.import_images(dir, recursive),
            Command::CancelImageImport => self.cancel_image_import(),
            Command::UndoLoad => self.undo_load(),
            Command::FocusDetails => self.details.focus_first_action(),
            Command::DropBrackets { token, key } => self.drop_brackets(&token, &key),
            Command::ReadParameters => self.read_parameters(),
            Command::SetRunQueue(on) => self.set_run_queue(on),
            Command::ShowView(view) => {
                if view.is_available() {
                    self.central = view;
                }
            }
            Command::OpenBackends => {
                self.backends_window.no_backend_notice = false;
                self.backends_window.open = true;
            }
            Command::SaveBackend { previous, config } => self.save_backend(previous, *config),
            Command::RemoveBackend(name) => self.remove_backend(name),
            Command::TestBackend(name) => self.test_backend_named(&name),
            Command::MoveInQueue(id, how) => {
                self.write(WriteRequest::MoveInQueue { job_id: id, how });
            }
            Command::InterruptJob(id) => {
                if !self.queue_runner.interrupt(&id) {
                    self.message = Some(Message::Error(format!(
                        "Job {} is not running here; nothing was interrupted.",
                        short_id(&id)
                    )));
                }
            }
            Command::RequeueJob(id) => self.write(WriteRequest::Requeue(id)),
            Command::CopyPath(path) => {
                let full = self.data_dir.join(&path);
                self.clipboard = Some(full.display().to_string());
                self.message = Some(Message::Info(format!("Copied {}.", full.display())));
            }
            Command::RateImage {
                job_id,
                sha256,
                change,
            } => self.write(WriteRequest::RateImage {
                job_id,
                sha256,
                change,
            }),
            Command::CopyImageInfotext { job_id, sha256 } => {
                if let Some(r) = self.record(&job_id)
                    && let Some(text) = super::viewer::image_infotext(&r, &sha256)
                {
                    self.clipboard = Some(text);
                    self.message = Some(Message::Info("Image infotext copied.".into()));
                }
            }
            Command::RerunWithSeed { job_id, seed } => {
                // A draft (a typed prompt, or pack keys checked) is never replaced without
                // asking.
                let composer = &self.composer;
                let typed =
                    !composer.prompt.trim().is_empty() || !composer.negative.trim().is_empty();
                let checked = composer.mode == PromptSource::Pack && !self.checked_keys.is_empty();
                if typed || checked {
                    self.rerun_confirm = Some((job_id, seed));
                } else {
                    self.rerun_with_seed(&job_id, seed);
                }
            }
            Command::ConfirmRerun(replace) => {
                if let Some((job_id, seed)) = self.rerun_confirm.take()
                    && replace
                {
                    self.rerun_with_seed(&job_id, seed);
                }
            }
            Command::Compare(items) => self.compare.replace(items),
            Command::AddToCompare(item) => self.add_to_compare(item),
        }
        self.refresh_rows();
    }

    /// Sends a change to the history writer. When another process holds the history right
    /// now (one non-blocking look), the status line says at once that it waits.
    pub(crate) fn write(&mut self, request: WriteRequest) {
        let kind = request.kind();
        let starting = match &request {
            WriteRequest::ImportStableNew(path) => Some(format!(
                "Importing {}...",
                crate::packs::escape_control(&path.display().to_string())
            )),
            WriteRequest::Export { path, rows, .. } => Some(format!(
                "Exporting {} to {}...",
                crate::wording::plural(rows.len(), "record"),
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
                self.queue_runner.wake();
            }
            Outcome::StatusSet(_) => self.message = Some(Message::Info("Job updated.".into())),
            Outcome::Moved { job_id, moved } => {
                self.message = Some(if moved {
                    self.queue_runner.wake();
                    Message::Info(format!("Moved job {} in the queue.", short_id(&job_id)))
                } else {
                    Message::Info(format!(
                        "Job {} was not moved: it is not waiting in the queue any more, or is there already.",
                        short_id(&job_id)
                    ))
                });
            }
            Outcome::Requeued { job_id, requeued } => {
                self.message = Some(if requeued {
                    self.queue_runner.wake();
                    Message::Info(format!(
                        "Job {} is queued again, at the end of the queue.",
                        short_id(&job_id)
                    ))
                } else {
                    Message::Error(format!(
                        "Job {} was not queued again: only a failed or cancelled job can be.",
                        short_id(&job_id)
                    ))
                });
            }
            Outcome::Answered => {}
            Outcome::Rated { job_id, image } => {
                // Which image: its place in the job (the record holds it).
                let number = image.as_ref().and_then(|image| {
                    let store = self.store.as_ref()?.read().ok()?;
                    let images = &store.get(&job_id)?.result.as_ref()?.images;
                    let at = images.iter().position(|i| i.sha256 == image.sha256)?;
                    Some(format!(" {}", at + 1))
                });
                self.message = Some(match image {
                    Some(image) => Message::Info(format!(
                        "Image{} of job {}: {}.",
                        number.unwrap_or_default(),
                        short_id(&job_id),
                        super::viewer::rating_words(image.rating, image.favorite)
                    )),
                    None => Message::Error(format!(
                        "Job {} or its image is no longer in the history; nothing was rated.",
                        short_id(&job_id)
                    )),
                });
            }
            Outcome::Cancelled(_) => self.message = Some(Message::Info("Job cancelled.".into())),
            Outcome::Deleted(record) => {
                if self.view.selected.as_deref() == Some(record.job_id.as_str()) {
                    self.view.selected = None;
                }
                self.push_deleted(*record);
                self.say_about_undo(Message::Info(self.deleted_message()));
            }
            Outcome::Restored(job_id) => {
                let restored = self
                    .record(&job_id)
                    .map_or_else(|| format!("job {}", short_id(&job_id)), |r| job_label(&r));
                let mut text = format!("Restored {restored}.");
                if let Some(next) = self.view.last_deleted.last() {
                    text.push_str(&format!(
                        " {} or Undo again restores {}.",
                        undo_keys(),
                        job_label(next)
                    ));
                }
                self.say_about_undo(Message::Info(text));
            }
            Outcome::NotRestored { record, message } => self.restore_failed(*record, message),
            Outcome::Imported { path, report } => {
                // The same words as the CLI's `import-stablenew`.
                let mut text = format!(
                    "Imported {}: {}.",
                    crate::packs::escape_control(&path.display().to_string()),
                    report.summary()
                );
                if let Some(skipped) = report.skipped_summary(3) {
                    text.push_str(&format!(" {skipped}."));
                }
                self.message = Some(Message::Info(text));
                // The interrupted-import banner may have to go (or come).
                self.refresh_interrupted(true);
            }
            Outcome::Exported { path, count } => {
                self.message = Some(Message::Info(format!(
                    "Exported {} to {}.",
                    crate::wording::plural(count, "record"),
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

    /// Restores the job deleted last (the top of the undo stack), and selects it. Should the
    /// write fail, the job comes back on the stack ([`Self::restore_failed`]).
    fn undo_delete(&mut self) {
        if let Some(record) = self.view.last_deleted.pop() {
            self.view.selected = Some(record.job_id.clone());
            self.write(WriteRequest::Restore(record));
        }
    }

    /// Puts a deleted job on top of the undo stack (the oldest falls off past
    /// [`UNDO_DEPTH`]).
    fn push_deleted(&mut self, record: JobRecord) {
        let deleted = &mut self.view.last_deleted;
        deleted.push(record);
        if deleted.len() > UNDO_DEPTH {
            deleted.remove(0);
        }
    }

    /// Shows a message about deleted jobs: the status bar offers Undo beside it.
    fn say_about_undo(&mut self, message: Message) {
        self.undo_message = Some(message.clone());
        self.message = Some(message);
    }

    /// A restore that failed: the job goes back on the undo stack, so Undo can try again
    /// (a busy or read-only history must not lose it), unless it is in the history again
    /// (another process or an import wrote it back: there is nothing left to restore).
    fn restore_failed(&mut self, record: JobRecord, why: String) {
        let job = job_label(&record);
        if self.record(&record.job_id).is_some() {
            self.message = Some(Message::Error(format!("Could not restore {job}: {why}")));
            return;
        }
        self.push_deleted(record);
        self.say_about_undo(Message::Error(format!(
            "Could not restore {job}: {why}. It can still be restored: {} or Undo tries again.",
            undo_keys()
        )));
    }

    /// What the status line says after a delete: which job Undo restores, and how many can be.
    fn deleted_message(&self) -> String {
        let Some(last) = self.view.last_deleted.last() else {
            return "Job deleted.".to_owned();
        };
        let job = job_label(last);
        let keys = undo_keys();
        match self.view.last_deleted.len() {
            1 => format!("Deleted {job}. {keys} or Undo restores it."),
            n => format!(
                "Deleted {job}. {keys} or Undo restores it; {n} deleted jobs can be restored, the last deleted first."
            ),
        }
    }

    /// Starts copying pack files into the packs folder on a background task (see
    /// [`super::pack_import`]: only regular pack files within the size limit are copied, never
    /// over an existing file); [`Self::finish_pack_imports`] reports the result.
    fn import_pack_files(&mut self, files: Vec<PathBuf>) {
        self.message = Some(Message::Info(super::pack_import::starting_message(
            files.len(),
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

impl AppState {
    /// Adds a job or image to the Compare window (and opens it); the status line says so.
    fn add_to_compare(&mut self, item: super::compare::CompareItem) {
        let what = match &item.sha256 {
            Some(_) => format!("An image of job {}", short_id(&item.job_id)),
            None => format!("Job {}", short_id(&item.job_id)),
        };
        let added = self.compare.add(item);
        let count = crate::wording::plural(self.compare.items.len(), "item");
        self.message = Some(Message::Info(if added {
            format!("{what} added to Compare ({count}).")
        } else {
            format!("{what} is in Compare already ({count}).")
        }));
    }
}

/// A job as the status line names it: its short id and the start of its prompt (ids alone,
/// such as an imported `new-job@2025-11-02T08:00:00Z`, say little).
pub(crate) fn job_label(record: &JobRecord) -> String {
    let id = short_id(&record.job_id);
    let prompt = first_prompt_line(record).trim();
    if prompt.is_empty() {
        format!("job {id}")
    } else {
        format!("job {id} (“{}”)", truncate_chars(prompt, 40))
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
