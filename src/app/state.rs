//! The app's state apart from any drawing.
//!
//! [`AppState`] holds the data every panel reads (the packs found, the history store, the
//! selection, the status line) and one state per panel: [`PackBrowserState`] (pack search),
//! [`Composer`] (the composer's inputs), [`HistoryView`] (filter, sort, rows, selected job)
//! and [`DetailsState`] (the selected job's fields, formatted once). A panel's `show` gets its
//! own state mutably, a read-only [`ViewContext`] and a [`CommandQueue`]:
//!
//! - form fields (prompt text, settings, filter, pack search) are bound directly;
//! - anything that touches the disk, the selection or another panel is a [`Command`], applied
//!   after the frame (`command_handling.rs`).
//!
//! Fields are crate-internal; with the `testing` feature (tests and benches) they are `pub`.

use super::backends::BackendsState;
use super::backends_window::BackendsWindow;
use super::gallery::GalleryView;
use super::pack_import::ImportReport as PackImportReport;
use super::queue_runner::{QueueRunner, QueueStatus, RunnerNews};
use super::queue_view::QueueView;
use super::tasks::{PackIdScan, PackScan, QueryWorker, Repaint, Task};
use super::thumb_textures::ThumbTextures;
use super::writer::{HistoryWriter, LoadProgress, RequestKind, WriteEvent};
use crate::history::{HistoryStore, InterruptedImport, interrupted_imports};
use crate::job_record::JobRecord;
use crate::packs::{PackError, PromptPack};
use crate::render::{WildcardError, Wildcards};
use crate::run_config::RunConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub use super::commands::{Command, CommandQueue};
pub use super::composer::Composer;
pub use super::composer_commands::{draft_run_config, submit_blocker};
pub use super::details::DetailsState;
pub use super::history_table::HistoryView;
pub use super::pack_browser::PackBrowserState;
pub use super::persist::Persisted;
pub use super::writer::{GUI_LOCK_TIMEOUT, POLL_INTERVAL};

/// Above this many records, filtering and sorting run on the query worker thread.
pub const SYNC_QUERY_LIMIT: usize = 20_000;

/// How long to wait between automatic retries of a submit the history was too busy for.
pub const SUBMIT_RETRY_INTERVAL: Duration = super::writer::RETRY_INTERVAL;

/// Declares a struct whose fields are `pub(crate)`, or `pub` with the `testing` feature (so
/// tests and benches can reach in without the fields being a public API).
macro_rules! testing_pub_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident $(<$lt:lifetime>)? {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        #[cfg(feature = "testing")]
        $(#[$meta])*
        pub struct $name $(<$lt>)? { $( $(#[$fmeta])* pub $field: $ty ),* }
        #[cfg(not(feature = "testing"))]
        $(#[$meta])*
        pub struct $name $(<$lt>)? { $( $(#[$fmeta])* pub(crate) $field: $ty ),* }
    };
}
pub(crate) use testing_pub_struct;

/// The colour theme the user picked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    System,
    Dark,
    Light,
}

/// A message shown in the window's status line (errors stay until dismissed).
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Info(String),
    Error(String),
}

/// The views of the central area: Compose and Queue; the others are shown as disabled tabs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CentralView {
    #[default]
    Compose,
    Queue,
    Gallery,
    Insights,
}

impl CentralView {
    pub const ALL: [CentralView; 4] = [
        CentralView::Compose,
        CentralView::Queue,
        CentralView::Gallery,
        CentralView::Insights,
    ];

    pub fn title(self) -> &'static str {
        match self {
            CentralView::Compose => "Compose",
            CentralView::Queue => "Queue",
            CentralView::Gallery => "Gallery",
            CentralView::Insights => "Insights",
        }
    }

    /// True for the views that exist yet.
    pub fn is_available(self) -> bool {
        matches!(
            self,
            CentralView::Compose | CentralView::Queue | CentralView::Gallery
        )
    }
}

testing_pub_struct! {
    /// A request sent to the history writer and not answered yet.
    #[derive(Debug, Clone)]
    pub struct InFlight {
        id: u64,
        kind: RequestKind,
        /// The history was found locked by another process: the writer retries by itself.
        waiting: bool,
    }
}

/// The interrupted imports last found, and when.
#[derive(Debug, Default)]
pub struct InterruptedWatch {
    pub(crate) checked: Option<Instant>,
    pub(crate) found: Vec<InterruptedImport>,
}

testing_pub_struct! {
    /// The app's state.
    pub struct AppState {
        data_dir: PathBuf,
        packs_dir: PathBuf,
        // Packs found in the packs folder: read by every panel.
        packs: Vec<PromptPack>,
        pack_errors: Vec<PackError>,
        /// Per pack (same index as `packs`): errors of its companion files that failed to load.
        pack_warnings: Vec<Vec<String>>,
        /// Bumped whenever `packs` is replaced.
        packs_version: u64,
        /// The wildcard files of the packs folder's `wildcards/` (read with the packs).
        wildcards: Arc<Wildcards>,
        wildcard_errors: Vec<WildcardError>,
        pack_scan: PackScan,
        /// Imports of pack files still copying (File → Import pack files, dropped files).
        pack_imports: Vec<Task<PackImportReport>>,
        /// The image import under way (File → Import images folder), one at a time.
        image_import: Option<super::image_import::ImageImportRun>,
        // The selection.
        selected_pack: Option<String>,
        /// Checked keys of the selected pack (kept in the pack's key order when submitted).
        checked_keys: Vec<String>,
        // Panel states.
        pack_browser: PackBrowserState,
        composer: Composer,
        view: HistoryView,
        details: DetailsState,
        central: CentralView,
        queue_view: QueueView,
        gallery: GalleryView,
        /// Thumbnail textures (the Gallery and the table's thumbnail column).
        thumbs: ThumbTextures,
        backends_window: BackendsWindow,
        /// The Compare window and its items (the compare tray).
        compare: super::compare::CompareWindow,
        // Backends and the queue runner.
        backends: BackendsState,
        queue_runner: QueueRunner,
        // History.
        store: Option<Arc<RwLock<HistoryStore>>>,
        /// Progress while the writer streams the history in.
        history_load: Option<Arc<LoadProgress>>,
        history_error: Option<String>,
        writer: HistoryWriter,
        /// Requests the writer has not answered yet.
        writes: Vec<InFlight>,
        /// Imports into the history that were interrupted, for their banner.
        interrupted: InterruptedWatch,
        query_worker: QueryWorker,
        /// Collects the pack ids the history names (for the Pack filter).
        pack_id_scan: PackIdScan,
        /// File dialogs open on their own threads; each answers with a command.
        dialogs: super::dialogs::Dialogs,
        theme: ThemeChoice,
        message: Option<Message>,
        /// The message a delete or a restore left: while it is the one shown, the status bar
        /// offers Undo beside it (beside any other message, Undo would restore a job the
        /// message does not speak of).
        undo_message: Option<Message>,
        /// A Re-run with this seed waiting for "Replace your draft?" (job id, seed).
        rerun_confirm: Option<(String, i64)>,
        /// Text for the clipboard, taken by the UI after the frame.
        clipboard: Option<String>,
        repaint: Repaint,
        last_poll: Instant,
    }
}

testing_pub_struct! {
    /// What the panels read while they draw (nothing in it is the drawing panel's own state).
    pub struct ViewContext<'a> {
        packs_dir: &'a Path,
        /// The packs found, sorted by id.
        packs: &'a [PromptPack],
        pack_errors: &'a [PackError],
        pack_warnings: &'a [Vec<String>],
        packs_version: u64,
        wildcards: &'a Wildcards,
        /// The wildcard files that could not be read (named under the composer's requests).
        wildcard_errors: &'a [WildcardError],
        scanning_packs: bool,
        selected_pack: Option<&'a PromptPack>,
        checked_keys: &'a [String],
        store: Option<&'a Arc<RwLock<HistoryStore>>>,
        history: HistoryStatus<'a>,
        message: Option<&'a Message>,
        /// The job the status bar's Undo button restores (the last deleted), as the status
        /// line names it, while the message beside it is about deleted jobs (see
        /// `AppState::undo_message`).
        undo: Option<String>,
        theme: ThemeChoice,
        query_busy: bool,
        /// The rows are newest first while a large history streams in.
        rows_provisional: bool,
        /// The rows are those of the current filter, sort and history (no query pending, not
        /// provisional).
        rows_current: bool,
        interrupted: &'a [InterruptedImport],
        data_dir: &'a Path,
        /// The queue runner's state (the Run queue switch, backends, running jobs).
        queue: &'a QueueStatus,
        backends: &'a BackendsState,
        /// The image import under way, if any (its progress row in the status bar; the
        /// menu's import entries are disabled meanwhile).
        image_import: Option<&'a super::image_import::ImageImportRun>,
    }
}

testing_pub_struct! {
    /// The history's state as the panels see it.
    #[derive(Clone, Copy, Default)]
    pub struct HistoryStatus<'a> {
        loading: Option<&'a LoadProgress>,
        error: Option<&'a str>,
        /// A Submit is being recorded.
        submitting: bool,
        /// A Submit waits for a busy history (retried by itself).
        submit_waiting: bool,
    }
}

/// The wildcards of a context with no packs folder.
static NO_WILDCARDS: Wildcards = Wildcards {
    files: std::collections::BTreeMap::new(),
};

/// The queue of a context with no runner.
static NO_QUEUE: std::sync::LazyLock<QueueStatus> = std::sync::LazyLock::new(QueueStatus::default);
thread_local! {
    /// The backends of a context with none read (one per thread: the state holds tasks,
    /// which are not `Sync`).
    static NO_BACKENDS: &'static BackendsState = Box::leak(Box::default());
}

impl<'a> ViewContext<'a> {
    /// A context with no packs and no history (for panels drawn alone, in tests).
    pub fn empty(packs_dir: &'a Path) -> ViewContext<'a> {
        ViewContext {
            packs_dir,
            packs: &[],
            pack_errors: &[],
            pack_warnings: &[],
            packs_version: 0,
            wildcards: &NO_WILDCARDS,
            wildcard_errors: &[],
            scanning_packs: false,
            selected_pack: None,
            checked_keys: &[],
            store: None,
            history: HistoryStatus::default(),
            message: None,
            undo: None,
            theme: ThemeChoice::System,
            query_busy: false,
            rows_provisional: false,
            rows_current: true,
            interrupted: &[],
            data_dir: packs_dir,
            queue: &NO_QUEUE,
            backends: NO_BACKENDS.with(|b| *b),
            image_import: None,
        }
    }
}

/// The panel states, borrowed mutably beside a [`ViewContext`].
pub struct Panels<'a> {
    pub pack_browser: &'a mut PackBrowserState,
    pub composer: &'a mut Composer,
    pub view: &'a mut HistoryView,
    pub details: &'a mut DetailsState,
    pub central: &'a mut CentralView,
    pub queue_view: &'a mut QueueView,
    pub gallery: &'a mut GalleryView,
    pub thumbs: &'a mut ThumbTextures,
    pub backends_window: &'a mut BackendsWindow,
    pub compare: &'a mut super::compare::CompareWindow,
}

impl AppState {
    /// Creates the state and starts loading packs and history in the background.
    pub fn new(data_dir: PathBuf, packs_dir: PathBuf, persisted: Persisted) -> AppState {
        AppState::with_repaint(data_dir, packs_dir, persisted, Repaint::default())
    }

    /// As [`AppState::new`]; finished background work asks `repaint` for a repaint.
    pub fn with_repaint(
        data_dir: PathBuf,
        packs_dir: PathBuf,
        persisted: Persisted,
        repaint: Repaint,
    ) -> AppState {
        let history_path = crate::paths::history_path(&data_dir);
        let composer = Composer::restored(&persisted);
        let packs_dir = persisted
            .packs_dir
            .filter(|p| p.is_dir())
            .unwrap_or(packs_dir);
        let query_worker = QueryWorker::start(&repaint);
        let pack_id_scan = PackIdScan::new(&repaint);
        let writer = HistoryWriter::start(history_path, &repaint, query_worker.index_cache());
        let backends = BackendsState::start(data_dir.clone(), &repaint);
        let queue_runner = QueueRunner::new(data_dir.clone(), &repaint);
        let mut state = AppState {
            data_dir,
            packs_dir: packs_dir.clone(),
            packs: Vec::new(),
            pack_errors: Vec::new(),
            pack_warnings: Vec::new(),
            packs_version: 0,
            wildcards: Arc::new(Wildcards::default()),
            wildcard_errors: Vec::new(),
            pack_scan: PackScan::start(packs_dir, &repaint),
            pack_imports: Vec::new(),
            image_import: None,
            selected_pack: None,
            checked_keys: Vec::new(),
            pack_browser: PackBrowserState::default(),
            composer,
            view: HistoryView {
                filter: persisted.filter,
                sort_column: persisted.sort_column,
                sort_descending: persisted.sort_descending.unwrap_or(true),
                show_thumbs: persisted.history_thumbnails,
                ..HistoryView::default()
            },
            details: DetailsState::default(),
            central: CentralView::default(),
            queue_view: QueueView::default(),
            gallery: GalleryView::with_thumb_size(persisted.gallery_thumb_size),
            thumbs: ThumbTextures::default(),
            backends_window: BackendsWindow::default(),
            compare: Default::default(),
            backends,
            queue_runner,
            store: None,
            history_load: Some(writer.progress().clone()),
            history_error: None,
            writer,
            writes: Vec::new(),
            interrupted: InterruptedWatch::default(),
            query_worker,
            pack_id_scan,
            dialogs: Default::default(),
            theme: persisted.theme,
            message: None,
            undo_message: None,
            rerun_confirm: None,
            clipboard: None,
            repaint,
            last_poll: Instant::now(),
        };
        state.poll();
        state
    }

    /// What to save for the next start.
    pub fn persisted(&self) -> Persisted {
        let mut persisted = Persisted {
            packs_dir: Some(self.packs_dir.clone()),
            filter: self.view.filter.clone(),
            sort_column: self.view.sort_column,
            sort_descending: Some(self.view.sort_descending),
            theme: self.theme,
            history_thumbnails: self.view.show_thumbs,
            gallery_thumb_size: Some(self.gallery.thumb_size),
            ..Persisted::default()
        };
        self.composer.save(&mut persisted);
        persisted
    }

    /// The history file.
    pub fn history_path(&self) -> PathBuf {
        crate::paths::history_path(&self.data_dir)
    }

    /// True while packs or history are loading, a query is being computed or a change to the
    /// history is not done yet.
    pub fn is_busy(&self) -> bool {
        self.pack_scan.is_running()
            || self.history_load.is_some()
            || self.query_worker.is_busy()
            || self.pack_id_scan.is_running()
            || !self.pack_imports.is_empty()
            || self.image_import.is_some()
            || !self.writes.is_empty()
            || self.backends.is_busy()
            || self.queue_runner.is_busy()
    }

    /// Changes sent to the history writer and not answered yet.
    pub fn writes_in_flight(&self) -> usize {
        self.writes.len()
    }

    /// True while a submitted job waits to be retried (the history was busy).
    pub fn submit_retry_pending(&self) -> bool {
        self.writes
            .iter()
            .any(|w| w.kind == RequestKind::Append && w.waiting)
    }

    /// True while a request of this kind is with the writer.
    pub fn write_pending(&self, kind: RequestKind) -> bool {
        self.writes.iter().any(|w| w.kind == kind)
    }

    /// True while a request of this kind waits for a busy history.
    pub fn write_waiting(&self, kind: RequestKind) -> bool {
        self.writes.iter().any(|w| w.kind == kind && w.waiting)
    }

    /// Polls until the history writer has answered every request (at most `timeout`); true
    /// when it has. For tests: the app itself never waits.
    #[cfg(feature = "testing")]
    pub fn finish_writes(&mut self, timeout: Duration) -> bool {
        let start = Instant::now();
        loop {
            self.poll();
            if self.writes.is_empty() {
                return true;
            }
            if start.elapsed() >= timeout {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Takes finished background work and the writer's events; re-checks outside changes
    /// every [`POLL_INTERVAL`]; recomputes the history rows when the filter, sort or data
    /// changed.
    pub fn poll(&mut self) {
        self.finish_pack_imports();
        self.finish_image_import();
        self.finish_dialogs();
        if let Some(scan) = self.pack_scan.take_result() {
            self.wildcards = Arc::new(scan.wildcards);
            self.wildcard_errors = scan.wildcard_errors;
            self.set_packs(scan.found.packs, scan.found.errors);
        }
        while let Some(event) = self.writer.next_event() {
            self.apply_write_event(event);
        }
        self.poll_backends();
        self.poll_queue_runner();
        if self.last_poll.elapsed() >= POLL_INTERVAL {
            self.last_poll = Instant::now();
            self.pack_scan.refresh_if_changed();
        }
        self.refresh_interrupted(false);
        self.refresh_rows();
        self.refresh_history_packs();
    }

    /// Takes what the queue runner reports.
    pub(crate) fn poll_queue_runner(&mut self) {
        let (backends, writer) = (&self.backends, &self.writer);
        let news = self.queue_runner.poll(|| {
            let configs = backends.configs().to_vec();
            (!configs.is_empty()).then(|| (configs, writer.queue()))
        });
        for news in news {
            self.apply_runner_news(news);
        }
    }

    /// Says what the runner did in the status line.
    fn apply_runner_news(&mut self, news: RunnerNews) {
        use crate::job_record::JobStatus;
        let job = |id: &str| {
            self.record(id).map_or_else(
                || format!("job {}", short_id(id)),
                |r| super::command_handling::job_label(&r),
            )
        };
        self.message = Some(match news {
            RunnerNews::Finished(record) => {
                let label = super::command_handling::job_label(&record);
                match record.status {
                    JobStatus::Completed => {
                        let images = record.result.as_ref().map_or(0, |r| r.images.len());
                        Message::Info(format!(
                            "Completed {label}: {}.",
                            crate::wording::plural(images, "image")
                        ))
                    }
                    JobStatus::Cancelled => Message::Info(format!("Interrupted {label}.")),
                    _ => Message::Error(format!(
                        "{label} failed: {}",
                        record.error_message.as_deref().unwrap_or("no reason given")
                    )),
                }
            }
            RunnerNews::Requeued { job_id, reason } => {
                Message::Info(format!("{} went back to the queue: {reason}", job(&job_id)))
            }
            RunnerNews::Recovered(job_id) => Message::Error(format!(
                "{} was left running by a promptdesk that stopped; it is marked failed (Re-queue runs it again).",
                job(&job_id)
            )),
            RunnerNews::HistoryError(e) => Message::Error(format!("The queue runner: {e}")),
            RunnerNews::StartFailed(e) => Message::Error(format!("Run queue could not start: {e}")),
        });
    }

    /// Brings the Pack filter's list of the history's pack ids, and the composer's Model
    /// suggestions, up to date: scanned on a background task when the store's generation
    /// changes, once the history is loaded.
    fn refresh_history_packs(&mut self) {
        if let Some(names) = self.pack_id_scan.take_result() {
            self.view.history_packs = names.pack_ids;
            self.composer.set_history_models(names.models);
        }
        if self.history_load.is_some() {
            return;
        }
        if let Some(store) = self.store.clone() {
            let generation = self.store_generation();
            self.pack_id_scan.refresh(&store, generation);
        }
    }

    /// Applies what the history writer reports.
    fn apply_write_event(&mut self, event: WriteEvent) {
        match event {
            WriteEvent::Opened(store) => {
                self.store = Some(store);
                self.history_error = None;
            }
            WriteEvent::Loaded => {
                self.history_load = None;
                // Jobs left running by a promptdesk that was killed are failed now (so they
                // can be re-queued), not only when Run queue is switched on. Off the UI
                // thread; the changes go through the history writer like any other.
                let queue = self.writer.queue();
                let data_dir = self.data_dir.clone();
                let _ = super::tasks::spawn_named("recover-orphans", move || {
                    let _ = crate::runner::recover_orphans(&queue, &data_dir);
                });
            }
            WriteEvent::LoadFailed(e) => {
                self.history_load = None;
                if self.store.is_some() {
                    self.message =
                        Some(Message::Error(format!("Reading the history stopped: {e}")));
                } else {
                    self.history_error = Some(e);
                }
            }
            WriteEvent::Waiting {
                id,
                kind,
                error,
                attempts,
            } => {
                if let Some(w) = self.writes.iter_mut().find(|w| w.id == id) {
                    w.waiting = true;
                }
                self.message = Some(Message::Error(waiting_message(kind, &error, attempts)));
            }
            WriteEvent::Done { id, outcome } => {
                self.writes.retain(|w| w.id != id);
                self.apply_outcome(outcome);
            }
            WriteEvent::ReloadFailed(e) => self.message = Some(Message::Error(e)),
            WriteEvent::Stopped => {
                if !self.writes.is_empty() {
                    self.message = Some(Message::Error(
                        "The history writer stopped unexpectedly; the last change may not be saved."
                            .into(),
                    ));
                }
                self.writes.clear();
                self.history_load = None;
            }
        }
    }

    pub(crate) fn set_packs(&mut self, mut packs: Vec<PromptPack>, errors: Vec<PackError>) {
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
                    // What loaded with a guess (a LoRA weight read as 1.0, a repeated name).
                    .chain(p.warnings.iter().map(ToString::to_string))
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

    pub(crate) fn refresh_rows(&mut self) {
        if let Some((key, rows)) = self.query_worker.take_result() {
            self.view.rows = rows;
            self.view.rows_key = Some(key);
            self.view.rows_provisional = false;
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
        // Rows shown newest first while a large history streamed in are replaced once it is
        // loaded, even when the load's last step left the generation as it was when they were
        // taken (the filter, text search included, and the sort apply then).
        let loaded_since = self.view.rows_provisional && self.history_load.is_none();
        // One query at a time: when the filter changes again while one runs (typing), the
        // next starts as soon as it is done, with the latest filter.
        if (self.view.rows_key.as_ref() == Some(&key) && !loaded_since)
            || self.query_worker.is_busy()
        {
            return;
        }
        let Ok(guard) = store.read() else {
            return;
        };
        self.view.rows_provisional = false;
        if guard.len() <= SYNC_QUERY_LIMIT {
            self.view.rows = crate::history::query_indices(guard.records(), &key.0, key.1, key.2);
            self.view.rows_key = Some(key);
        } else if self.history_load.is_some() {
            // Still streaming in: show the jobs newest first (submission order reversed) and
            // leave filtering and sorting until the load is done, so no query holds the store
            // while the loader waits to add the next step.
            self.view.rows = (0..guard.len() as u32).rev().collect();
            self.view.rows_key = Some(key);
            self.view.rows_provisional = true;
        } else {
            drop(guard);
            if !self.query_worker.request(store.clone(), key.clone(), true)
                && let Ok(guard) = store.read()
            {
                // No worker thread: compute here rather than show nothing.
                self.view.rows =
                    crate::history::query_indices(guard.records(), &key.0, key.1, key.2);
                self.view.rows_key = Some(key);
            }
        }
    }

    /// True while a large history is still loading and the rows shown are simply newest
    /// first, whatever the filter and sort say.
    pub fn rows_are_provisional(&self) -> bool {
        self.history_load.is_some() && self.counts().0 > SYNC_QUERY_LIMIT
    }

    /// True when the rows shown are those of the current filter, sort and history: no query
    /// is pending and they are not the provisional newest-first rows of a loading history.
    pub fn rows_are_current(&self) -> bool {
        let Some(key) = &self.view.rows_key else {
            return false;
        };
        !self.view.rows_provisional
            && !self.query_worker.is_busy()
            && key.0 == self.view.filter
            && key.1 == self.view.sort_column
            && key.2 == self.view.sort_descending
            && key.3 == self.store_generation()
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
        selected_pack(&self.packs, self.selected_pack.as_deref())
    }

    /// The history as the panels see it.
    fn history_status(&self) -> HistoryStatus<'_> {
        HistoryStatus {
            loading: self.history_load.as_deref(),
            error: self.history_error.as_deref(),
            submitting: self.write_pending(RequestKind::Append),
            submit_waiting: self.submit_retry_pending(),
        }
    }

    /// Why Submit is disabled, or None when it can run.
    pub fn submit_blocker(&self) -> Option<String> {
        submit_blocker(
            &self.composer,
            self.selected_pack(),
            &self.checked_keys,
            &self.history_status(),
        )
    }

    /// The RunConfig Submit would record now.
    pub fn draft_run_config(&self) -> Result<RunConfig, String> {
        draft_run_config(&self.composer, self.selected_pack(), &self.checked_keys)
    }

    /// The record with this id (a copy).
    pub fn record(&self, job_id: &str) -> Option<JobRecord> {
        let store = self.store.as_ref()?.read().ok()?;
        store.get(job_id).cloned()
    }

    /// The read-only context and the panel states, borrowed side by side for one frame.
    pub fn split(&mut self) -> (ViewContext<'_>, Panels<'_>) {
        let submitting = self.write_pending(RequestKind::Append);
        let submit_waiting = self.submit_retry_pending();
        let undo = self
            .view
            .last_deleted
            .last()
            .filter(|_| self.message.is_some() && self.message == self.undo_message)
            .map(super::command_handling::job_label);
        let query_busy = self.query_worker.is_busy();
        let rows_provisional = self.rows_are_provisional();
        let rows_current = self.rows_are_current();
        let scanning_packs = self.pack_scan.is_running();
        let ctx = ViewContext {
            packs_dir: &self.packs_dir,
            packs: &self.packs,
            pack_errors: &self.pack_errors,
            pack_warnings: &self.pack_warnings,
            packs_version: self.packs_version,
            wildcards: &self.wildcards,
            wildcard_errors: &self.wildcard_errors,
            scanning_packs,
            selected_pack: selected_pack(&self.packs, self.selected_pack.as_deref()),
            checked_keys: &self.checked_keys,
            store: self.store.as_ref(),
            history: HistoryStatus {
                loading: self.history_load.as_deref(),
                error: self.history_error.as_deref(),
                submitting,
                submit_waiting,
            },
            message: self.message.as_ref(),
            undo,
            theme: self.theme,
            query_busy,
            rows_provisional,
            rows_current,
            interrupted: &self.interrupted.found,
            data_dir: &self.data_dir,
            queue: &self.queue_runner.status,
            backends: &self.backends,
            image_import: self.image_import.as_ref(),
        };
        let panels = Panels {
            pack_browser: &mut self.pack_browser,
            composer: &mut self.composer,
            view: &mut self.view,
            details: &mut self.details,
            central: &mut self.central,
            queue_view: &mut self.queue_view,
            gallery: &mut self.gallery,
            thumbs: &mut self.thumbs,
            backends_window: &mut self.backends_window,
            compare: &mut self.compare,
        };
        (ctx, panels)
    }

    /// Re-checks the interrupted imports when due (or `now`).
    pub(crate) fn refresh_interrupted(&mut self, now: bool) {
        let due = now
            || self
                .interrupted
                .checked
                .is_none_or(|t| t.elapsed() >= POLL_INTERVAL);
        if due {
            self.interrupted.checked = Some(Instant::now());
            self.interrupted.found = interrupted_imports(&self.history_path());
        }
    }

    /// Imports into the history that were interrupted (their process died mid-write), for
    /// the banner; re-checked at most every [`POLL_INTERVAL`].
    pub fn interrupted_imports(&mut self) -> &[InterruptedImport] {
        self.refresh_interrupted(false);
        &self.interrupted.found
    }

    /// The damage banner's facts: damaged lines (with the first line numbers), and how many
    /// of them could not be copied to the quarantine file (they stay in the history).
    pub fn damage(&self) -> Option<Damage> {
        damage(self.store.as_ref()?)
    }

    /// A job can be cancelled only while it is queued.
    pub fn can_cancel(record: &JobRecord) -> bool {
        record.status.is_cancellable()
    }
}

/// The pack with this id.
pub(crate) fn selected_pack<'a>(
    packs: &'a [PromptPack],
    id: Option<&str>,
) -> Option<&'a PromptPack> {
    let id = id?;
    packs.iter().find(|p| p.id == id)
}

/// How many lines of another (newer) version the history holds that this one cannot show.
pub(crate) fn foreign_lines(store: &RwLock<HistoryStore>) -> usize {
    store.read().map_or(0, |s| s.load_report().foreign.len())
}

/// The damage banner's facts for this store.
pub(crate) fn damage(store: &RwLock<HistoryStore>) -> Option<Damage> {
    let store = store.read().ok()?;
    let report = store.load_report();
    report.is_damaged().then(|| Damage {
        damaged: report.quarantined.len(),
        first_lines: report
            .quarantined
            .iter()
            .take(DAMAGE_LINES_SHOWN)
            .map(|q| q.line)
            .collect(),
        unsaved: report.not_quarantined.len(),
        why: report.warnings.first().cloned(),
    })
}

/// How many damaged line numbers the banner names (the rest are counted).
pub const DAMAGE_LINES_SHOWN: usize = 5;

/// What the damaged-history banner says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Damaged lines found (each skipped).
    pub damaged: usize,
    /// The first [`DAMAGE_LINES_SHOWN`] of their line numbers (1-based), in file order.
    pub first_lines: Vec<usize>,
    /// How many of them could not be copied to the quarantine file.
    pub unsaved: usize,
    /// Why the copy failed, when it did.
    pub why: Option<String>,
}

/// The message while a request waits for a busy history.
fn waiting_message(kind: RequestKind, err: &crate::history::HistoryError, attempts: u32) -> String {
    let tries = if attempts == 0 {
        String::new()
    } else {
        format!(" (retry {attempts})")
    };
    let secs = SUBMIT_RETRY_INTERVAL.as_secs();
    let what = match kind {
        RequestKind::Append => {
            return format!(
                "The history is busy: {}. promptdesk records the job by itself in {secs} s{tries}; your prompt stays in the composer.",
                busy_cause(err)
            );
        }
        RequestKind::SetStatus => "changes the job",
        RequestKind::Cancel => "cancels the job",
        RequestKind::Delete => "deletes the job",
        RequestKind::Restore => "restores the job",
        RequestKind::Import => "imports the file",
        RequestKind::Export => "exports the rows",
        RequestKind::Move => "moves the job",
        RequestKind::Requeue => "queues the job again",
        RequestKind::Rate => "records the rating",
        RequestKind::Runner => "records the queue's change",
        RequestKind::ImageImport => "records the imported images",
    };
    format!(
        "The history is busy: {}. promptdesk {what} by itself in {secs} s{tries}; waiting.",
        busy_cause(err)
    )
}

/// Why the history is busy, without the CLI's "try again" (the app retries by itself).
fn busy_cause(err: &crate::history::HistoryError) -> String {
    use crate::history::HistoryError;
    match err {
        HistoryError::Locked { path, .. } => {
            format!("another promptdesk process is writing {}", path.display())
        }
        HistoryError::Busy { path, .. } => format!(
            "other promptdesk processes keep compacting {}",
            path.display()
        ),
        other => other.to_string(),
    }
}

/// The message when a request is sent while another process holds the history.
pub(crate) fn busy_now(kind: RequestKind, err: &crate::history::HistoryError) -> String {
    waiting_message(kind, err, 0)
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
