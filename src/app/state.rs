//! The app's state apart from any drawing: packs, the composer, the history view, and the
//! commands that change them. Panels read this state and push [`Command`]s; the commands are
//! applied after the frame (see `PromptDeskApp::ui`).

use super::pack_import::PackImport;
use super::tasks::{HistoryLoad, LoadEvent, PackScan, QueryWorker};
use crate::history::{
    ExportFormat, HistoryFilter, HistoryStore, InterruptedImport, SortColumn, export_to_file,
    import_stablenew, infotext_for_record, interrupted_imports,
};
use crate::job_record::{JobRecord, JobStatus, job_record_from_run_config};
use crate::packs::{PackError, PromptPack};
use crate::prompt_packs::{build_run_config_for_manual_prompt, build_run_config_from_prompt_pack};
use crate::run_config::{GenerationSettings, PromptSource, RunConfig, RunMode, RunSource};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Above this many records, filtering and sorting run on the query worker thread.
pub const SYNC_QUERY_LIMIT: usize = 20_000;

/// How often the packs folder and the history file are checked for outside changes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The colour theme the user picked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    System,
    Dark,
    Light,
}

/// What survives a restart (through eframe persistence).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Persisted {
    pub packs_dir: Option<PathBuf>,
    pub filter: HistoryFilter,
    pub sort_column: SortColumn,
    pub sort_descending: Option<bool>,
    pub theme: ThemeChoice,
    pub settings: Option<GenerationSettings>,
    pub random_seed: Option<bool>,
}

/// Everything a user can do, as data. Panels push these; `AppState::apply` carries them out.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    SelectPack(String),
    SetKeyChecked(String, bool),
    CheckAllKeys,
    CheckNoKeys,
    SetMode(PromptSource),
    Submit,
    SelectJob(Option<String>),
    LoadIntoComposer(String),
    CopyPrompt(String),
    CopyInfotext(String),
    CancelJob(String),
    DeleteJob(String),
    UndoDelete,
    SortBy(SortColumn),
    ReloadPacks,
    SetPacksDir(PathBuf),
    ImportPackFiles(Vec<PathBuf>),
    ImportStableNew(PathBuf),
    Export(PathBuf, ExportFormat),
    SetTheme(ThemeChoice),
    DismissMessage,
    /// Close the window (handled by the UI).
    Quit,
    /// The table has scrolled to `view.scroll_to`.
    ScrolledToSelection,
}

/// A message shown in the window's status line (errors stay until dismissed).
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Info(String),
    Error(String),
}

/// The composer's inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Composer {
    pub mode: PromptSource,
    pub prompt: String,
    pub negative: String,
    pub settings: GenerationSettings,
    /// When set, the recorded seed is -1 (random) whatever `settings.seed` says.
    pub random_seed: bool,
}

impl Default for Composer {
    fn default() -> Self {
        Composer {
            mode: PromptSource::Pack,
            prompt: String::new(),
            negative: String::new(),
            settings: GenerationSettings::default(),
            random_seed: true,
        }
    }
}

/// The history table's view: filter, sort and the cached rows they give.
#[derive(Debug, Default)]
pub struct HistoryView {
    pub filter: HistoryFilter,
    pub sort_column: SortColumn,
    pub sort_descending: bool,
    /// Indices into the store's records, in display order.
    pub rows: Vec<u32>,
    /// The (filter, sort, store generation) `rows` was computed for.
    pub rows_key: Option<(HistoryFilter, SortColumn, bool, u64)>,
    pub selected: Option<String>,
    /// A job the table should scroll to once its row is there (a new submission).
    pub scroll_to: Option<String>,
    /// The last deleted record, for undo.
    pub last_deleted: Option<JobRecord>,
}

/// The app's state.
pub struct AppState {
    pub data_dir: PathBuf,
    pub packs_dir: PathBuf,
    // Packs.
    pub packs: Vec<PromptPack>,
    pub pack_errors: Vec<PackError>,
    pub pack_search: String,
    pub selected_pack: Option<String>,
    /// Checked keys of the selected pack (kept in the pack's key order when submitted).
    pub checked_keys: Vec<String>,
    pub pack_scan: PackScan,
    /// Per pack (same index as `packs`): errors of its companion files that failed to load.
    pub pack_warnings: Vec<Vec<String>>,
    /// Imports of pack files still copying (File → Import pack files, dropped files).
    pack_imports: Vec<PackImport>,
    /// Bumped whenever `packs` is replaced.
    packs_version: u64,
    /// (search text, packs_version, matching indices).
    pack_filter_cache: Option<(String, u64, Vec<usize>)>,
    // Composer.
    pub composer: Composer,
    // History.
    pub store: Option<Arc<RwLock<HistoryStore>>>,
    pub history_load: Option<HistoryLoad>,
    pub history_error: Option<String>,
    /// Imports into the history that were interrupted, for their banner.
    interrupted: InterruptedWatch,
    pub view: HistoryView,
    pub query_worker: QueryWorker,
    pub theme: ThemeChoice,
    pub message: Option<Message>,
    /// Text for the clipboard, taken by the UI after the frame.
    pub clipboard: Option<String>,
    /// A submitted job whose write failed for a passing reason (another process held the
    /// history): retried on its own until it is recorded.
    submit_retry: Option<SubmitRetry>,
    last_poll: Instant,
}

/// A job to record again after a transient failure.
struct SubmitRetry {
    record: JobRecord,
    /// What the success message says about the job.
    summary: String,
    next: Instant,
    attempts: u32,
}

/// How long to wait between automatic retries of a submit the history was too busy for.
pub const SUBMIT_RETRY_INTERVAL: Duration = Duration::from_secs(2);
/// Automatic retries before giving up (about a minute).
const SUBMIT_RETRY_LIMIT: u32 = 30;

impl AppState {
    /// Creates the state and starts loading packs and history in the background.
    pub fn new(data_dir: PathBuf, packs_dir: PathBuf, persisted: Persisted) -> AppState {
        let history_path = crate::paths::history_path(&data_dir);
        let mut composer = Composer::default();
        if let Some(settings) = persisted.settings {
            composer.settings = settings;
        }
        if let Some(random) = persisted.random_seed {
            composer.random_seed = random;
        }
        let packs_dir = persisted
            .packs_dir
            .filter(|p| p.is_dir())
            .unwrap_or(packs_dir);
        let mut state = AppState {
            data_dir,
            packs_dir: packs_dir.clone(),
            packs: Vec::new(),
            pack_errors: Vec::new(),
            pack_search: String::new(),
            selected_pack: None,
            checked_keys: Vec::new(),
            pack_scan: PackScan::start(packs_dir),
            pack_warnings: Vec::new(),
            pack_imports: Vec::new(),
            submit_retry: None,
            packs_version: 0,
            pack_filter_cache: None,
            composer,
            store: None,
            history_load: Some(HistoryLoad::start(history_path)),
            history_error: None,
            interrupted: InterruptedWatch::default(),
            view: HistoryView {
                filter: persisted.filter,
                sort_column: persisted.sort_column,
                sort_descending: persisted.sort_descending.unwrap_or(true),
                ..HistoryView::default()
            },
            query_worker: QueryWorker::start(),
            theme: persisted.theme,
            message: None,
            clipboard: None,
            last_poll: Instant::now(),
        };
        state.poll();
        state
    }

    /// What to save for the next start.
    pub fn persisted(&self) -> Persisted {
        Persisted {
            packs_dir: Some(self.packs_dir.clone()),
            filter: self.view.filter.clone(),
            sort_column: self.view.sort_column,
            sort_descending: Some(self.view.sort_descending),
            theme: self.theme,
            settings: Some(self.composer.settings.clone()),
            random_seed: Some(self.composer.random_seed),
        }
    }

    /// True while packs or history are loading or a query is being computed.
    pub fn is_busy(&self) -> bool {
        self.pack_scan.is_running()
            || self.history_load.is_some()
            || self.query_worker.is_busy()
            || !self.pack_imports.is_empty()
            || self.submit_retry.is_some()
    }

    /// True while a submitted job waits to be retried (the history was busy).
    pub fn submit_retry_pending(&self) -> bool {
        self.submit_retry.is_some()
    }

    /// Retries a submit that failed for a passing reason, when its time has come.
    fn retry_submit(&mut self) {
        let due = self
            .submit_retry
            .as_ref()
            .is_some_and(|r| Instant::now() >= r.next);
        if !due {
            return;
        }
        let Some(mut retry) = self.submit_retry.take() else {
            return;
        };
        let Some(store) = self.store.clone() else {
            self.submit_retry = Some(retry);
            return;
        };
        let result = match store.write() {
            Ok(mut s) => s.append(&retry.record),
            Err(_) => {
                self.message = Some(Message::Error(
                    "The history is unavailable; the job was not recorded.".into(),
                ));
                return;
            }
        };
        match result {
            Ok(()) => self.recorded(&retry.record.job_id, &retry.summary),
            // Recorded by an earlier attempt whose answer was lost: nothing more to do.
            Err(crate::history::HistoryError::DuplicateJobId { .. }) => {
                self.recorded(&retry.record.job_id, &retry.summary)
            }
            Err(e) if e.is_transient() && retry.attempts < SUBMIT_RETRY_LIMIT => {
                retry.attempts += 1;
                retry.next = Instant::now() + SUBMIT_RETRY_INTERVAL;
                self.message = Some(Message::Error(busy_message(&e, retry.attempts)));
                self.submit_retry = Some(retry);
            }
            Err(e) => {
                self.message = Some(Message::Error(format!(
                    "Could not record the job: {e}. Your prompt is still in the composer; press Submit to try again."
                )))
            }
        }
    }

    fn recorded(&mut self, id: &str, summary: &str) {
        self.message = Some(Message::Info(format!(
            "Recorded job {} ({summary}).",
            short_id(id)
        )));
        self.view.selected = Some(id.to_owned());
        self.view.scroll_to = Some(id.to_owned());
    }

    /// Takes finished background work; re-checks outside changes every [`POLL_INTERVAL`];
    /// recomputes the history rows when the filter, sort or data changed.
    pub fn poll(&mut self) {
        self.finish_pack_imports();
        self.retry_submit();
        if let Some(found) = self.pack_scan.take_result() {
            self.set_packs(found.packs, found.errors);
        }
        while let Some(event) = self.history_load.as_ref().and_then(HistoryLoad::next_event) {
            match event {
                LoadEvent::Opened(store) => {
                    self.store = Some(store);
                    self.history_error = None;
                }
                LoadEvent::Done => self.history_load = None,
                LoadEvent::Failed(e) => {
                    self.history_load = None;
                    if self.store.is_some() {
                        self.message =
                            Some(Message::Error(format!("Reading the history stopped: {e}")));
                    } else {
                        self.history_error = Some(e);
                    }
                }
            }
        }
        if self.last_poll.elapsed() >= POLL_INTERVAL {
            self.last_poll = Instant::now();
            self.pack_scan.refresh_if_changed();
            if let Some(store) = &self.store
                && self.history_load.is_none()
                && !self.query_worker.is_busy()
                && let Ok(mut store) = store.try_write()
                && let Err(e) = store.reload()
            {
                self.message = Some(Message::Error(e.to_string()));
            }
        }
        self.refresh_rows();
    }

    fn set_packs(&mut self, mut packs: Vec<PromptPack>, errors: Vec<PackError>) {
        packs.sort_by_key(|p| p.id.to_lowercase());
        // A pack that loaded while one of its companion files failed gets a warning marker.
        self.pack_warnings = packs
            .iter()
            .map(|p| {
                errors
                    .iter()
                    .filter(|e| {
                        e.path
                            .as_ref()
                            .and_then(|path| path.file_stem())
                            .is_some_and(|stem| stem.to_string_lossy().eq_ignore_ascii_case(&p.id))
                    })
                    .map(ToString::to_string)
                    .collect()
            })
            .collect();
        self.packs = packs;
        self.packs_version += 1;
        self.pack_errors = errors;
        if let Some(id) = &self.selected_pack {
            match self.packs.iter().find(|p| &p.id == id) {
                Some(pack) => self.checked_keys.retain(|k| pack.get(k).is_some()),
                None => {
                    self.selected_pack = None;
                    self.checked_keys.clear();
                }
            }
        }
    }

    /// The store's generation, or 0 with no store.
    fn store_generation(&self) -> u64 {
        self.store
            .as_ref()
            .and_then(|s| s.read().ok().map(|s| s.generation()))
            .unwrap_or(0)
    }

    fn refresh_rows(&mut self) {
        if let Some((key, rows)) = self.query_worker.take_result() {
            self.view.rows = rows;
            self.view.rows_key = Some(key);
        }
        let Some(store) = self.store.clone() else {
            return;
        };
        let key = (
            self.view.filter.clone(),
            self.view.sort_column,
            self.view.sort_descending,
            self.store_generation(),
        );
        // One query at a time: when the filter changes again while one runs (typing), the
        // next starts as soon as it is done, with the latest filter.
        if self.view.rows_key.as_ref() == Some(&key) || self.query_worker.is_busy() {
            return;
        }
        let Ok(guard) = store.read() else {
            return;
        };
        if guard.len() <= SYNC_QUERY_LIMIT {
            self.view.rows = crate::history::query_indices(guard.records(), &key.0, key.1, key.2);
            self.view.rows_key = Some(key);
        } else if self.history_load.is_some() {
            // Still streaming in: show the jobs newest first (submission order reversed) and
            // leave filtering and sorting until the load is done, so no query holds the store
            // while the loader waits to add the next step (which would stall this thread).
            self.view.rows = (0..guard.len() as u32).rev().collect();
            self.view.rows_key = Some(key);
        } else {
            drop(guard);
            self.query_worker.request(store, key, true);
        }
    }

    /// True while a large history is still loading and the rows shown are simply newest
    /// first, whatever the filter and sort say.
    pub fn rows_are_provisional(&self) -> bool {
        self.history_load.is_some() && self.counts().0 > SYNC_QUERY_LIMIT
    }

    /// Records loaded, and rows shown.
    pub fn counts(&self) -> (usize, usize) {
        let total = self
            .store
            .as_ref()
            .and_then(|s| s.read().ok().map(|s| s.len()))
            .unwrap_or(0);
        (total, self.view.rows.len())
    }

    /// The selected pack.
    pub fn selected_pack(&self) -> Option<&PromptPack> {
        let id = self.selected_pack.as_ref()?;
        self.packs.iter().find(|p| &p.id == id)
    }

    /// Indices (into `packs`) of the packs whose id or name contains the search text
    /// (case-insensitive). Cached: recomputed only when the search or the packs change.
    pub fn visible_packs(&mut self) -> &[usize] {
        let needle = self.pack_search.trim().to_lowercase();
        let fresh = matches!(&self.pack_filter_cache,
            Some((search, version, _)) if *search == needle && *version == self.packs_version);
        if !fresh {
            let indices = self
                .packs
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    needle.is_empty()
                        || p.id.to_lowercase().contains(&needle)
                        || p.name.to_lowercase().contains(&needle)
                })
                .map(|(i, _)| i)
                .collect();
            self.pack_filter_cache = Some((needle, self.packs_version, indices));
        }
        self.pack_filter_cache
            .as_ref()
            .map_or(&[], |(_, _, indices)| indices.as_slice())
    }

    /// Why Submit is disabled, or None when it can run.
    pub fn submit_blocker(&self) -> Option<String> {
        if self.submit_retry.is_some() {
            return Some(
                "Waiting to record the previous job: the history is busy (it is retried by itself)."
                    .to_owned(),
            );
        }
        if let (Some(_), Some(load)) = (&self.store, &self.history_load) {
            return Some(format!(
                "The history is still loading ({:.0}%).",
                load.fraction() * 100.0
            ));
        }
        if self.store.is_none() {
            return Some(match (&self.history_load, &self.history_error) {
                (Some(_), _) => "The history is still loading.".to_owned(),
                (None, Some(e)) => format!("The history could not be opened: {e}"),
                (None, None) => "The history is not open.".to_owned(),
            });
        }
        match self.composer.mode {
            PromptSource::Pack => match self.selected_pack() {
                None => Some("Select a pack on the left.".to_owned()),
                Some(_) if self.checked_keys.is_empty() => {
                    Some("Check at least one prompt of the pack.".to_owned())
                }
                Some(_) => None,
            },
            PromptSource::Manual if self.composer.prompt.trim().is_empty() => {
                Some("Type a prompt first.".to_owned())
            }
            PromptSource::Manual => None,
        }
    }

    /// The RunConfig Submit would record now.
    pub fn draft_run_config(&self) -> Result<RunConfig, String> {
        let mut settings = self.composer.settings.clone();
        if self.composer.random_seed {
            settings.seed = -1;
        }
        let base = RunConfig {
            run_mode: RunMode::Direct,
            source: RunSource::Gui,
            settings,
            ..RunConfig::default()
        };
        match self.composer.mode {
            PromptSource::Manual => Ok(build_run_config_for_manual_prompt(
                &self.composer.prompt,
                &self.composer.negative,
                Some(base),
            )),
            PromptSource::Pack => {
                let pack = self
                    .selected_pack()
                    .ok_or_else(|| "Select a pack on the left.".to_owned())?;
                // Submit in the pack's key order, whatever order they were checked in.
                let keys: Vec<&str> = pack
                    .keys()
                    .into_iter()
                    .filter(|k| self.checked_keys.iter().any(|c| c == k))
                    .collect();
                build_run_config_from_prompt_pack(pack, &keys, Some(base))
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// The record with this id.
    pub fn record(&self, job_id: &str) -> Option<JobRecord> {
        let store = self.store.as_ref()?.read().ok()?;
        store.get(job_id).cloned()
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
            Command::CancelJob(id) => {
                self.with_store(|s| s.cancel(&id).map(|_| "Job cancelled.".to_owned()))
            }
            Command::DeleteJob(id) => {
                let Some(store) = self.store.clone() else {
                    return;
                };
                let result = store
                    .write()
                    .map_err(|_| "history lock poisoned".to_owned())
                    .and_then(|mut s| s.delete(&id).map_err(|e| e.to_string()));
                match result {
                    Ok(record) => {
                        self.message = Some(Message::Info(format!(
                            "Deleted job {}. Press Ctrl+Z or Undo to restore it.",
                            short_id(&record.job_id)
                        )));
                        self.view.last_deleted = Some(record);
                        if self.view.selected.as_deref() == Some(id.as_str()) {
                            self.view.selected = None;
                        }
                    }
                    Err(e) => self.message = Some(Message::Error(e)),
                }
            }
            Command::UndoDelete => {
                if let Some(record) = self.view.last_deleted.take() {
                    let id = record.job_id.clone();
                    self.with_store(|s| s.restore(&record).map(|_| "Job restored.".to_owned()));
                    self.view.selected = Some(id);
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
            Command::ImportPackFiles(files) => self.import_pack_files(&files),
            Command::ImportStableNew(path) => {
                self.with_store(|s| {
                    import_stablenew(s, &path).map(|r| {
                        format!(
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
                        )
                    })
                });
                // The interrupted-import banner may have to go (or come).
                self.interrupted.checked = None;
            }
            Command::Export(path, format) => self.export(&path, format),
            Command::SetTheme(theme) => self.theme = theme,
            Command::DismissMessage => self.message = None,
            Command::Quit => {}
            Command::ScrolledToSelection => self.view.scroll_to = None,
        }
        self.refresh_rows();
    }

    fn with_store<E: std::fmt::Display>(
        &mut self,
        f: impl FnOnce(&mut HistoryStore) -> Result<String, E>,
    ) {
        let Some(store) = self.store.clone() else {
            self.message = Some(Message::Error("The history is not open yet.".into()));
            return;
        };
        let Ok(mut guard) = store.write() else {
            self.message = Some(Message::Error("The history is unavailable.".into()));
            return;
        };
        self.message = Some(match f(&mut guard) {
            Ok(text) => Message::Info(text),
            Err(e) => Message::Error(e.to_string()),
        });
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
        let Some(store) = self.store.clone() else {
            return;
        };
        let result = match store.write() {
            Ok(mut s) => s.append(&record),
            Err(_) => {
                self.message = Some(Message::Error("The history is unavailable.".into()));
                return;
            }
        };
        match result {
            Ok(()) => self.recorded(&record.job_id, &summary),
            // Another process holds the history: keep the job and try again by ourselves.
            Err(e) if e.is_transient() => {
                self.message = Some(Message::Error(busy_message(&e, 0)));
                self.submit_retry = Some(SubmitRetry {
                    record,
                    summary,
                    next: Instant::now() + SUBMIT_RETRY_INTERVAL,
                    attempts: 0,
                });
            }
            // The composer keeps everything the user entered.
            Err(e) => self.message = Some(Message::Error(format!("Could not record the job: {e}"))),
        }
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

    /// Starts copying pack files into the packs folder on a background thread (see
    /// [`super::pack_import`]: only regular pack files within the size limit are copied, never
    /// over an existing file); [`Self::finish_pack_imports`] reports the result.
    fn import_pack_files(&mut self, files: &[PathBuf]) {
        self.pack_imports
            .push(PackImport::start(self.packs_dir.clone(), files.to_vec()));
        self.message = Some(Message::Info(format!(
            "Importing {} pack file(s)...",
            files.len()
        )));
    }

    /// Takes the reports of finished imports: says what was copied (and what not, and why),
    /// and rescans the packs folder.
    fn finish_pack_imports(&mut self) {
        let mut finished = Vec::new();
        self.pack_imports
            .retain_mut(|import| match import.take_result() {
                Some(report) => {
                    finished.push(report);
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

    /// Exports the rows shown, through the same core code as the CLI ([`export_to_file`]):
    /// refuses the history's own files, replaces the file atomically.
    fn export(&mut self, path: &Path, format: ExportFormat) {
        let Some(store) = self.store.clone() else {
            return;
        };
        let Ok(guard) = store.read() else { return };
        let records = guard.records();
        let rows = &self.view.rows;
        let result = export_to_file(
            rows.iter().filter_map(|&i| records.get(i as usize)),
            format,
            path,
            guard.path(),
        );
        self.message = Some(match result {
            Ok(n) => Message::Info(format!("Exported {n} record(s) to {}.", path.display())),
            Err(e) if e.is_refusal() => Message::Error(e.to_string()),
            Err(e) => Message::Error(format!("Export to {} failed: {e}", path.display())),
        });
    }

    /// Imports into the history that were interrupted (their process died mid-write), for
    /// the banner; re-checked at most every [`POLL_INTERVAL`].
    pub fn interrupted_imports(&mut self) -> &[InterruptedImport] {
        let due = self
            .interrupted
            .checked
            .is_none_or(|t| t.elapsed() >= POLL_INTERVAL);
        if due {
            self.interrupted.checked = Some(Instant::now());
            self.interrupted.found =
                interrupted_imports(&crate::paths::history_path(&self.data_dir));
        }
        &self.interrupted.found
    }

    /// The damage banner's facts: damaged lines, and how many of them could not be copied to
    /// the quarantine file (they stay in the history).
    pub fn damage(&self) -> Option<(usize, usize, Option<String>)> {
        let store = self.store.as_ref()?.read().ok()?;
        let report = store.load_report();
        report.is_damaged().then(|| {
            (
                report.quarantined.len(),
                report.not_quarantined.len(),
                report.warnings.first().cloned(),
            )
        })
    }

    /// The status a record would get when cancelled is only reachable from Queued.
    pub fn can_cancel(record: &JobRecord) -> bool {
        record.status == JobStatus::Queued
    }
}

/// The interrupted imports last found, and when.
#[derive(Debug, Default)]
struct InterruptedWatch {
    checked: Option<Instant>,
    found: Vec<InterruptedImport>,
}

/// The message while a submitted job waits for a busy history.
fn busy_message(err: &crate::history::HistoryError, attempts: u32) -> String {
    let tries = if attempts == 0 {
        String::new()
    } else {
        format!(" (retry {attempts})")
    };
    format!(
        "The history is busy: {err}. promptdesk records the job by itself in {} s{tries}; your prompt stays in the composer.",
        SUBMIT_RETRY_INTERVAL.as_secs()
    )
}

/// The last 8 characters of a job id, for messages and narrow columns (time-ordered ids share
/// their first characters, so the end is what tells them apart).
pub fn short_id(id: &str) -> &str {
    let count = id.chars().count();
    match id.char_indices().nth(count.saturating_sub(8)) {
        Some((i, _)) => &id[i..],
        None => id,
    }
}
