//! The history writer: one thread, named `history-writer`, owns every change to the history
//! the window makes. It opens the history and streams it in, appends submitted jobs, changes
//! a job's status, deletes and restores jobs, imports StableNew files, exports rows and reads
//! what other processes appended (every [`POLL_INTERVAL`]). The UI sends [`WriteRequest`]s
//! and applies the [`WriteEvent`]s it gets back in `AppState::poll`; it never waits for the
//! store's write lock, the history's file lock or an fsync.
//!
//! Readers (the table, the details, the query worker) keep reading through the shared
//! `Arc<RwLock<HistoryStore>>`. The writer holds that lock's write side only to change memory,
//! never while it waits for the file lock or for a disk:
//!
//! - **Appends** (Submit, Undo of a delete) go through an append-only store the writer opens
//!   for each write ([`HistoryStore::open_append_only`]: it reads nothing of the history, so
//!   a Submit works while a large history is still loading). That store waits for the file
//!   lock, writes and fsyncs without touching the shared store; then the shared store reads
//!   the new line under its write lock, as it reads any other process's append
//!   ([`HistoryStore::reload`]; while the history is still streaming in, the loader reaches
//!   the line by itself).
//! - **Status changes and deletes** need the whole history. The writer first waits until the
//!   file lock is free, probing it on a file handle of its own (outside the `RwLock`); then it
//!   takes the write lock and runs the change with a short lock timeout, so losing the race
//!   to another process costs at most [`RACE_LOCK_TIMEOUT`] and counts as a busy history. The
//!   one line written and its fsync happen under the write lock (milliseconds).
//! - **Imports** read the StableNew file and write its jobs on a full store the writer opens
//!   for the import; the result replaces the shared store's contents in one move under the
//!   write lock (memory holds two copies of the history while an import runs).
//! - **Image imports** (File → Import images folder, `super::image_import`) run on a task
//!   of their own: listing the folder, reading, hashing and parsing the files take seconds
//!   to minutes, and on this thread they would hold back every other change meanwhile (a
//!   rating, the queue runner's claims and results). The task reaches the history only
//!   through [`WriterQueue`]'s [`ImportTarget`] calls ([`WriteRequest::ImageImport`]): the
//!   images the history holds (once), the new jobs (1,000 per append, through an
//!   append-only store as a Submit) and the rare link of a moved or promptdesk-made image.
//!   Each takes its turn in this queue like the runner's requests, so the writer still owns
//!   every change.
//! - **Exports** read the shared store (the read side: the table keeps drawing) and write the
//!   file atomically.
//!
//! The write lock is taken with `try_write` in a loop, never queued: a thread waiting for the
//! write side of a `std` `RwLock` blocks new readers, which would stall the UI thread behind a
//! long query.
//!
//! A request that finds the history locked by another process (a transient
//! [`HistoryError`]) is reported with [`WriteEvent::Waiting`] and retried by itself every
//! [`RETRY_INTERVAL`], up to [`RETRY_LIMIT`] times; requests behind it wait their turn, so
//! their order is kept (a delete and its undo).
//!
//! The queue runner's changes go through this thread too ([`WriterQueue`], the runner's
//! [`QueueStore`]): its threads send [`WriteRequest::Transition`] and [`WriteRequest::Active`]
//! and wait for the answer on a channel of their own (never the UI thread); they take their
//! turn in the same queue as the window's requests, and each change asks for a repaint so
//! the table shows it at once.

use super::tasks::{IndexCache, Repaint, spawn_named};
use crate::history::{
    ExportFormat, HistoryError, HistoryStore, ImportError, ImportReport, export_to_file,
    import_stablenew, sort_for_export,
};
use crate::images::{ImportTarget, KnownImage, known_images_of};
use crate::job_record::{JobRecord, JobStatus};
use crate::outputs::OutputImage;
use crate::runner::{
    Change, Check, QueueMove, QueueStore, move_in_queue, queue_key, queued_in_order, retried,
};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::sync::{Arc, RwLock, TryLockError};
use std::time::{Duration, Instant};

/// How often the history file is checked for other processes' appends.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// How long one write from the window waits for another process's history lock before it is
/// reported as waiting (on the writer thread; the window never waits).
pub const GUI_LOCK_TIMEOUT: Duration = Duration::from_millis(750);
/// The lock timeout while the shared store is write-locked, just after the file lock was seen
/// free: only a race with another process can make it wait.
pub const RACE_LOCK_TIMEOUT: Duration = Duration::from_millis(50);
/// How long to wait between automatic retries of a write the history was too busy for.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(2);
/// Automatic retries before giving up (about a minute).
pub const RETRY_LIMIT: u32 = 30;

/// Bytes read before the window first shows rows.
const FIRST_BYTES: u64 = 4 * 1024 * 1024;
/// Bytes read per step afterwards; the store is write-locked only for one step at a time (a
/// few milliseconds), so the UI never waits long for it.
const STEP_BYTES: u64 = 2 * 1024 * 1024;

/// The answer to a runner's request.
pub type Reply<T> = Sender<Result<T, HistoryError>>;

/// A change (or an export) for the writer to carry out.
#[derive(Debug)]
pub enum WriteRequest {
    /// Record a new job (Submit); `summary` is what the success message says about it.
    Append { record: JobRecord, summary: String },
    /// Set a job's status.
    SetStatus { job_id: String, status: JobStatus },
    /// Cancel a queued job.
    Cancel(String),
    /// Delete a job (it can be restored).
    Delete(String),
    /// Write a deleted job again (Undo).
    Restore(JobRecord),
    /// Import a StableNew history file.
    ImportStableNew(PathBuf),
    /// Export these rows (indices into the store's records), written oldest first
    /// ([`sort_for_export`]) whatever their order here.
    Export {
        path: PathBuf,
        format: ExportFormat,
        rows: Vec<u32>,
    },
    /// Move a queued job in the run order (new `queue_order`s, worked out against the
    /// history as it is on disk when the move is made).
    MoveInQueue { job_id: String, how: QueueMove },
    /// Queue a failed or cancelled job again, at the end of the queue (its error and results
    /// cleared).
    Requeue(String),
    /// The runner: change a job if `check` accepts its current state
    /// ([`HistoryStore::update_if`]); the record written (or `None`) goes to `reply`.
    Transition {
        job_id: String,
        call: RunnerCall,
        reply: Reply<Option<JobRecord>>,
    },
    /// The runner: the queued and running jobs, after reading other processes' changes.
    Active { reply: Reply<Vec<JobRecord>> },
    /// An image import's call on the history (answered on its own channel, see
    /// [`ImportCall`]).
    ImageImport(ImportCall),
    /// Rate or (un)favourite one image of a job, found by its sha256 (a new snapshot line of
    /// the job; the file may have moved since).
    RateImage {
        job_id: String,
        sha256: String,
        change: RatingChange,
    },
}

/// The [`ImportTarget`] calls of an image import, each with the channel its answer goes to.
#[derive(Debug)]
pub enum ImportCall {
    /// [`ImportTarget::known_images`].
    KnownImages { reply: Reply<Vec<KnownImage>> },
    /// [`ImportTarget::append_jobs`].
    AppendJobs {
        records: Vec<JobRecord>,
        reply: Reply<()>,
    },
    /// [`ImportTarget::move_image`].
    MoveImage {
        job_id: String,
        sha256: String,
        old_path: String,
        new_path: String,
        reply: Reply<bool>,
    },
    /// [`ImportTarget::add_image`].
    AddImage {
        job_id: String,
        image: Box<OutputImage>,
        reply: Reply<bool>,
    },
}

impl ImportCall {
    /// Answers the call with `error` (it failed for good).
    fn fail(self, error: HistoryError) {
        match self {
            ImportCall::KnownImages { reply } => drop(reply.send(Err(error))),
            ImportCall::AppendJobs { reply, .. } => drop(reply.send(Err(error))),
            ImportCall::MoveImage { reply, .. } | ImportCall::AddImage { reply, .. } => {
                drop(reply.send(Err(error)));
            }
        }
    }
}

/// What a [`WriteRequest::RateImage`] changes (the core's, applied by
/// [`crate::history::change_image`]).
pub use crate::history::RatingChange;

/// The runner's check and change for a [`WriteRequest::Transition`]. Kept while an attempt
/// finds the history busy (the store drops them unused then), so the retry can run them.
pub struct RunnerCall {
    check: Option<Check>,
    change: Option<Change>,
}

impl std::fmt::Debug for RunnerCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RunnerCall")
    }
}

/// Which kind of request an event answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Append,
    SetStatus,
    Cancel,
    Delete,
    Restore,
    Import,
    Export,
    Move,
    Requeue,
    Rate,
    /// A runner's request (answered on its own channel, never as an event).
    Runner,
    /// An image import's call (answered on its own channel; only its waits for a busy
    /// history are events).
    ImageImport,
}

impl RequestKind {
    /// True for requests that wait for a busy history without a word: the runner's (it
    /// reports what it could not do once it gives up). An image import's waits are told
    /// ([`WriteEvent::Waiting`], for the status line): its progress would stand still
    /// otherwise.
    pub fn waits_silently(self) -> bool {
        self == RequestKind::Runner
    }
}

impl WriteRequest {
    pub fn kind(&self) -> RequestKind {
        match self {
            WriteRequest::Append { .. } => RequestKind::Append,
            WriteRequest::SetStatus { .. } => RequestKind::SetStatus,
            WriteRequest::Cancel(_) => RequestKind::Cancel,
            WriteRequest::Delete(_) => RequestKind::Delete,
            WriteRequest::Restore(_) => RequestKind::Restore,
            WriteRequest::ImportStableNew(_) => RequestKind::Import,
            WriteRequest::Export { .. } => RequestKind::Export,
            WriteRequest::MoveInQueue { .. } => RequestKind::Move,
            WriteRequest::Requeue(_) => RequestKind::Requeue,
            WriteRequest::RateImage { .. } => RequestKind::Rate,
            WriteRequest::ImageImport(_) => RequestKind::ImageImport,
            WriteRequest::Transition { .. } | WriteRequest::Active { .. } => RequestKind::Runner,
        }
    }

    /// Appends need none of the history (they can run while it loads).
    fn needs_full_history(&self) -> bool {
        // A restore must see the whole history: the job may be live again (another process,
        // an import), and writing it blindly would overwrite its newer state.
        !matches!(self, WriteRequest::Append { .. })
    }
}

/// What a finished request did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Recorded {
        job_id: String,
        summary: String,
    },
    StatusSet(String),
    Cancelled(String),
    /// A queued job was moved (false: it was not queued any more, or already there).
    Moved {
        job_id: String,
        moved: bool,
    },
    /// A failed or cancelled job is queued again (false: it was not failed or cancelled).
    Requeued {
        job_id: String,
        requeued: bool,
    },
    /// An image's rating or favourite was recorded (`image`: the image as written; `None`
    /// when the job or the image is no longer in the history).
    Rated {
        job_id: String,
        image: Option<Box<crate::outputs::OutputImage>>,
    },
    /// A runner's request was answered on its own channel.
    Answered,
    Deleted(Box<JobRecord>),
    Restored(String),
    Imported {
        path: PathBuf,
        report: ImportReport,
    },
    Exported {
        path: PathBuf,
        count: usize,
    },
    /// Nothing was changed; the message says why (ready for the status line).
    Failed {
        kind: RequestKind,
        message: String,
    },
    /// A restore (Undo of a delete) failed: nothing was written, and the job is handed back
    /// so that it can go back on the undo stack. The message says why.
    NotRestored {
        record: Box<JobRecord>,
        message: String,
    },
}

impl Outcome {
    /// The outcome of `request` failing for good with `message` (a runner's request is
    /// answered with the error on its channel).
    fn failure(request: WriteRequest, message: String, error: HistoryError) -> Outcome {
        match request {
            WriteRequest::Transition { reply, .. } => {
                let _ = reply.send(Err(error));
                Outcome::Answered
            }
            WriteRequest::Active { reply } => {
                let _ = reply.send(Err(error));
                Outcome::Answered
            }
            WriteRequest::ImageImport(call) => {
                call.fail(error);
                Outcome::Answered
            }
            WriteRequest::Restore(record) => Outcome::NotRestored {
                record: Box::new(record),
                message,
            },
            other => Outcome::Failed {
                kind: other.kind(),
                message,
            },
        }
    }
}

/// What the writer tells the UI.
#[derive(Debug)]
pub enum WriteEvent {
    /// The first part of the file is in: rows can be shown while the rest streams in.
    Opened(Arc<RwLock<HistoryStore>>),
    /// Everything is read.
    Loaded,
    /// Opening or reading the history failed.
    LoadFailed(String),
    /// Request `id` found the history locked by another process; it is retried by itself in
    /// [`RETRY_INTERVAL`] (`attempts` retries so far).
    Waiting {
        id: u64,
        kind: RequestKind,
        error: HistoryError,
        attempts: u32,
    },
    /// Request `id` is done.
    Done { id: u64, outcome: Outcome },
    /// Reading other processes' appends failed.
    ReloadFailed(String),
    /// The writer thread is gone (it panicked); pending requests are lost.
    Stopped,
}

/// How far loading the history got.
#[derive(Debug, Default)]
pub struct LoadProgress {
    pub bytes_done: AtomicU64,
    pub bytes_total: AtomicU64,
    pub records: AtomicUsize,
}

impl LoadProgress {
    fn set(&self, p: crate::history::LoadProgress) {
        self.bytes_done.store(p.bytes_done, Ordering::Relaxed);
        self.bytes_total.store(p.bytes_total, Ordering::Relaxed);
        self.records.store(p.records, Ordering::Relaxed);
    }

    /// Fraction of the file read so far.
    pub fn fraction(&self) -> f32 {
        let total = self.bytes_total.load(Ordering::Relaxed);
        if total == 0 {
            0.0
        } else {
            self.bytes_done.load(Ordering::Relaxed) as f32 / total as f32
        }
    }
}

/// The UI's end of the writer: send requests, take events.
pub struct HistoryWriter {
    tx: Sender<(u64, WriteRequest)>,
    rx: Receiver<WriteEvent>,
    next_id: u64,
    progress: Arc<LoadProgress>,
    stopped: bool,
    path: PathBuf,
}

impl HistoryWriter {
    /// Starts the writer thread on the history at `path`; it opens the history at once.
    pub fn start(path: PathBuf, repaint: &Repaint, index_cache: Arc<IndexCache>) -> HistoryWriter {
        let (tx, requests) = channel();
        let (events, rx) = channel();
        let progress = Arc::new(LoadProgress::default());
        let writer = Writer {
            path: path.clone(),
            events,
            repaint: repaint.clone(),
            index_cache,
            progress: progress.clone(),
            shared: None,
            loaded: false,
            open_error: None,
            queue: VecDeque::new(),
        };
        // Without a thread, `requests` is dropped and the first poll reports `Stopped`.
        let _ = spawn_named("history-writer", move || writer.run(requests));
        HistoryWriter {
            tx,
            rx,
            next_id: 1,
            progress,
            stopped: false,
            path,
        }
    }

    /// How far loading got.
    pub fn progress(&self) -> &Arc<LoadProgress> {
        &self.progress
    }

    /// Queues a request; returns its id (events name it), or `None` when the writer thread
    /// is gone.
    pub fn send(&mut self, request: WriteRequest) -> Option<u64> {
        let id = self.next_id;
        self.next_id += 1;
        self.tx.send((id, request)).ok().map(|()| id)
    }

    /// The runner's handle on the history (its requests go to this writer).
    pub fn queue(&self) -> WriterQueue {
        WriterQueue {
            tx: self.tx.clone(),
            path: self.path.clone(),
        }
    }

    /// The next event, if any (never waits).
    pub fn next_event(&mut self) -> Option<WriteEvent> {
        if self.stopped {
            return None;
        }
        match self.rx.try_recv() {
            Ok(event) => Some(event),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.stopped = true;
                Some(WriteEvent::Stopped)
            }
        }
    }
}

/// True when another holder has the history's file lock right now. Never waits (one
/// non-blocking try on a handle of its own), so the UI can say at once that a write will
/// wait. `None` when the file cannot be opened or has no locks (the write will tell).
pub fn lock_held_elsewhere(path: &Path) -> Option<HistoryError> {
    let file = std::fs::File::open(path).ok()?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(std::fs::TryLockError::WouldBlock) => Some(HistoryError::Locked {
            path: path.to_path_buf(),
            waited: Duration::ZERO,
        }),
        Err(std::fs::TryLockError::Error(_)) => None,
    }
}

/// Waits (on the writer thread) until no other holder has the history's file lock, for at
/// most `timeout`. A file that cannot be opened is left to the write itself to report.
fn wait_for_file_lock(path: &Path, timeout: Duration) -> Result<(), HistoryError> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => {
                let _ = file.unlock();
                return Ok(());
            }
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(_)) => return Ok(()),
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(HistoryError::Locked {
                path: path.to_path_buf(),
                waited,
            });
        }
        std::thread::sleep(Duration::from_millis(5).min(timeout - waited));
    }
}

/// A request waiting its turn (or its retry).
struct Pending {
    id: u64,
    request: WriteRequest,
    attempts: u32,
    next: Instant,
}

/// Why an attempt did not succeed.
enum Failure {
    /// Another process held the history: try again later.
    Busy(HistoryError),
    /// For good; the message is ready for the status line.
    Failed(String),
}

/// The writer thread's state.
struct Writer {
    path: PathBuf,
    events: Sender<WriteEvent>,
    repaint: Repaint,
    index_cache: Arc<IndexCache>,
    progress: Arc<LoadProgress>,
    shared: Option<Arc<RwLock<HistoryStore>>>,
    loaded: bool,
    open_error: Option<String>,
    queue: VecDeque<Pending>,
}

impl Writer {
    fn send(&self, event: WriteEvent) {
        let _ = self.events.send(event);
        self.repaint.request();
    }

    fn run(mut self, requests: Receiver<(u64, WriteRequest)>) {
        self.open();
        let mut last_reload = Instant::now();
        let mut connected = true;
        loop {
            while connected {
                match requests.try_recv() {
                    Ok((id, request)) => self.enqueue(id, request),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => connected = false,
                }
            }
            self.process_queue();
            if !self.loaded && self.open_error.is_none() {
                self.load_step();
                continue;
            }
            if !connected && self.queue.is_empty() {
                return;
            }
            let now = Instant::now();
            if self.queue.is_empty() && now >= last_reload + POLL_INTERVAL {
                last_reload = now;
                self.reload();
            }
            let mut until = last_reload + POLL_INTERVAL;
            if let Some(front) = self.queue.front() {
                until = until.min(front.next);
            }
            let wait = until.saturating_duration_since(Instant::now());
            if !connected {
                std::thread::sleep(wait);
                continue;
            }
            match requests.recv_timeout(wait) {
                Ok((id, request)) => self.enqueue(id, request),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => connected = false,
            }
        }
    }

    fn enqueue(&mut self, id: u64, request: WriteRequest) {
        self.queue.push_back(Pending {
            id,
            request,
            attempts: 0,
            next: Instant::now(),
        });
    }

    fn open(&mut self) {
        match HistoryStore::open_partial(&self.path, FIRST_BYTES) {
            Ok(mut store) => {
                store.set_lock_timeout(GUI_LOCK_TIMEOUT);
                self.progress.set(store.load_progress());
                let shared = Arc::new(RwLock::new(store));
                self.shared = Some(shared.clone());
                self.send(WriteEvent::Opened(shared));
            }
            Err(e) => {
                self.open_error = Some(e.to_string());
                self.send(WriteEvent::LoadFailed(e.to_string()));
            }
        }
    }

    /// Reads the next step of the history.
    fn load_step(&mut self) {
        let step = self.with_write(|s| {
            // The last step may check a partial last line under the file lock: under the
            // shared write lock, never wait long for another process (a busy end is noted
            // in the load report and repaired by the next write).
            s.set_lock_timeout(RACE_LOCK_TIMEOUT);
            let step = s
                .load_more(STEP_BYTES)
                .map(|done| (done, s.load_progress()));
            s.set_lock_timeout(GUI_LOCK_TIMEOUT);
            step
        });
        match step {
            Some(Ok((done, progress))) => {
                self.progress.set(progress);
                if done {
                    self.loaded = true;
                    self.send(WriteEvent::Loaded);
                }
            }
            Some(Err(e)) => {
                self.open_error = Some(e.to_string());
                self.send(WriteEvent::LoadFailed(e.to_string()));
            }
            None => {
                let message = "the history is unavailable".to_owned();
                self.open_error = Some(message.clone());
                self.send(WriteEvent::LoadFailed(message));
            }
        }
    }

    /// Reads what other processes appended (every [`POLL_INTERVAL`]); a failure is reported.
    fn reload(&mut self) {
        if let Err(e) = self.try_reload() {
            self.send(WriteEvent::ReloadFailed(e.to_string()));
        }
    }

    /// Reads what other processes appended. A file another process replaced (compacted) is
    /// read again into a fresh store outside every lock, then swapped in, so the UI's readers
    /// never wait for a whole re-read. Asks for a repaint when anything changed.
    fn try_reload(&mut self) -> Result<(), HistoryError> {
        let replaced = self
            .shared
            .as_ref()
            .and_then(|shared| shared.read().ok().map(|s| s.needs_full_reread()))
            .unwrap_or(false);
        if replaced {
            let mut fresh = HistoryStore::open(&self.path)?;
            fresh.set_lock_timeout(GUI_LOCK_TIMEOUT);
            self.with_write(|shared| {
                std::mem::swap(shared, &mut fresh);
                if let Ok(mut cache) = self.index_cache.lock() {
                    *cache = None;
                }
            });
            // The old contents are freed here, outside the lock.
            drop(fresh);
            self.repaint.request();
            return Ok(());
        }
        match self.with_write(HistoryStore::reload) {
            Some(Ok(0)) | None => Ok(()),
            Some(Ok(_)) => {
                self.repaint.request();
                Ok(())
            }
            Some(Err(e)) => Err(e),
        }
    }

    /// Runs the requests whose turn has come, in order; stops at one that waits for its retry
    /// or for the history to finish loading.
    fn process_queue(&mut self) {
        while let Some(front) = self.queue.front() {
            if front.next > Instant::now() {
                return;
            }
            if !self.loaded && self.open_error.is_none() && front.request.needs_full_history() {
                return;
            }
            let Some(mut pending) = self.queue.pop_front() else {
                return;
            };
            let kind = pending.request.kind();
            match self.attempt(&mut pending.request) {
                Ok(Outcome::Answered) => self.repaint.request(),
                Ok(outcome) => self.send(WriteEvent::Done {
                    id: pending.id,
                    outcome,
                }),
                Err(Failure::Busy(error)) if pending.attempts < RETRY_LIMIT => {
                    if !kind.waits_silently() {
                        self.send(WriteEvent::Waiting {
                            id: pending.id,
                            kind,
                            error,
                            attempts: pending.attempts,
                        });
                    }
                    pending.attempts += 1;
                    pending.next = Instant::now() + RETRY_INTERVAL;
                    self.queue.push_front(pending);
                    return;
                }
                Err(Failure::Busy(error)) => {
                    let message = failure_message(&pending.request, &error.to_string(), true);
                    self.finish(pending.id, pending.request, message, Some(error));
                }
                Err(Failure::Failed(message)) => {
                    self.finish(pending.id, pending.request, message, None);
                }
            }
        }
    }

    /// Reports a request that failed for good (a runner's on its own channel).
    fn finish(&self, id: u64, request: WriteRequest, message: String, error: Option<HistoryError>) {
        let error = error.unwrap_or_else(|| unavailable_error(&self.path, &message));
        match Outcome::failure(request, message, error) {
            Outcome::Answered => self.repaint.request(),
            outcome => self.send(WriteEvent::Done { id, outcome }),
        }
    }

    /// Runs `f` under the shared store's write lock, taken without queueing for it.
    fn with_write<T>(&self, f: impl FnOnce(&mut HistoryStore) -> T) -> Option<T> {
        let shared = self.shared.as_ref()?;
        loop {
            match shared.try_write() {
                Ok(mut guard) => return Some(f(&mut guard)),
                Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(1)),
                Err(TryLockError::Poisoned(_)) => return None,
            }
        }
    }

    /// A change that needs the whole history: wait for the file lock outside the `RwLock`,
    /// then make it under the write lock with a short lock timeout.
    fn locked_change<T>(
        &self,
        request: &WriteRequest,
        change: impl FnOnce(&mut HistoryStore) -> Result<T, HistoryError>,
    ) -> Result<T, Failure> {
        match self.locked_raw(change) {
            Err(busy) => Err(Failure::Busy(busy)),
            Ok(None) => Err(Failure::Failed(self.unavailable(request))),
            Ok(Some(result)) => result.map_err(|e| classify(request, e)),
        }
    }

    /// As [`Self::locked_change`], with the store's own error: `Err` when another process
    /// holds the file lock, `Ok(None)` when the history is not open.
    fn locked_raw<T>(
        &self,
        change: impl FnOnce(&mut HistoryStore) -> Result<T, HistoryError>,
    ) -> Result<Option<Result<T, HistoryError>>, HistoryError> {
        wait_for_file_lock(&self.path, GUI_LOCK_TIMEOUT)?;
        Ok(self.with_write(|s| {
            s.set_lock_timeout(RACE_LOCK_TIMEOUT);
            let result = change(s);
            s.set_lock_timeout(GUI_LOCK_TIMEOUT);
            result
        }))
    }

    /// A runner's change: answered on its channel, or busy (the check and change are kept for
    /// the retry as long as the store did not run them).
    fn transition(
        &self,
        job_id: &str,
        call: &mut RunnerCall,
        reply: &Reply<Option<JobRecord>>,
    ) -> Result<Outcome, Failure> {
        let (check, change) = (&mut call.check, &mut call.change);
        if check.is_none() || change.is_none() {
            let _ = reply.send(Err(unavailable_error(
                &self.path,
                "the change was tried once already and could not be finished",
            )));
            return Ok(Outcome::Answered);
        }
        let result = self.locked_raw(|s| {
            s.update_if(
                job_id,
                |r| check.take().is_some_and(|c| c(r)),
                |r| change.take().map_or_else(|| r.clone(), |c| c(r)),
            )
        });
        let intact = call.check.is_some();
        let answer = match result {
            Err(busy) => return Err(Failure::Busy(busy)),
            Ok(None) => Err(unavailable_error(&self.path, &self.unavailable_why())),
            Ok(Some(Err(e))) if e.is_transient() && intact => return Err(Failure::Busy(e)),
            Ok(Some(answer)) => answer,
        };
        let _ = reply.send(answer);
        Ok(Outcome::Answered)
    }

    /// The runner's look at the queue: other processes' changes read first.
    fn active(&mut self, reply: &Reply<Vec<JobRecord>>) -> Result<Outcome, Failure> {
        let answer = match self.try_reload() {
            Err(e) if e.is_transient() => return Err(Failure::Busy(e)),
            Err(e) => Err(e),
            Ok(()) => self
                .shared
                .as_ref()
                .and_then(|shared| shared.read().ok())
                .map(|s| {
                    s.records()
                        .iter()
                        .filter(|r| matches!(r.status, JobStatus::Queued | JobStatus::Running))
                        .cloned()
                        .collect()
                })
                .ok_or_else(|| unavailable_error(&self.path, &self.unavailable_why())),
        };
        let _ = reply.send(answer);
        Ok(Outcome::Answered)
    }

    /// Moves a queued job: the moves are worked out on the history as it is now, and only
    /// `queue_order` is written, on jobs still queued.
    fn move_in_queue(
        &mut self,
        request: &WriteRequest,
        job_id: &str,
        how: QueueMove,
    ) -> Result<Outcome, Failure> {
        if let Err(e) = self.try_reload() {
            return Err(classify(request, e));
        }
        let moved = self.locked_change(request, |s| {
            let changes = move_in_queue(s.records(), job_id, how);
            let mut moved = !changes.is_empty();
            for c in changes {
                let order = c.queue_order;
                let written = s.update_if(
                    &c.job_id,
                    |r| r.status == JobStatus::Queued,
                    |r| {
                        let mut r = r.clone();
                        r.queue_order = order;
                        r
                    },
                )?;
                moved &= written.is_some();
            }
            Ok(moved)
        })?;
        Ok(Outcome::Moved {
            job_id: job_id.to_owned(),
            moved,
        })
    }

    fn unavailable_why(&self) -> String {
        self.open_error
            .clone()
            .unwrap_or_else(|| "the history is not open".to_owned())
    }

    fn unavailable(&self, request: &WriteRequest) -> String {
        failure_message(request, &self.unavailable_why(), false)
    }

    /// Appends `record` through an append-only store of its own, then lets the shared store
    /// read the new line.
    fn append(&self, request: &WriteRequest, record: &JobRecord) -> Result<(), Failure> {
        let mut appender = HistoryStore::open_append_only(&self.path)
            .map_err(|e| Failure::Failed(failure_message(request, &e.to_string(), false)))?;
        appender.set_lock_timeout(GUI_LOCK_TIMEOUT);
        appender.append(record).map_err(|e| classify(request, e))?;
        drop(appender);
        if self.loaded
            && let Some(Err(e)) = self.with_write(HistoryStore::reload)
        {
            self.send(WriteEvent::ReloadFailed(e.to_string()));
        }
        Ok(())
    }

    fn attempt(&mut self, request: &mut WriteRequest) -> Result<Outcome, Failure> {
        if request.needs_full_history() && self.shared.is_none() {
            return Err(Failure::Failed(self.unavailable(request)));
        }
        match request {
            WriteRequest::Transition {
                job_id,
                call,
                reply,
            } => return self.transition(job_id, call, reply),
            WriteRequest::Active { reply } => return self.active(reply),
            _ => {}
        }
        let request = &*request;
        match request {
            WriteRequest::Transition { .. } | WriteRequest::Active { .. } => {
                unreachable!("answered above")
            }
            WriteRequest::ImageImport(call) => self.image_import(call),
            WriteRequest::MoveInQueue { job_id, how } => {
                let (job_id, how) = (job_id.clone(), *how);
                self.move_in_queue(request, &job_id, how)
            }
            WriteRequest::RateImage {
                job_id,
                sha256,
                change,
            } => {
                let image = self.locked_change(request, |s| {
                    crate::history::change_image(s, job_id, sha256, *change)
                })?;
                Ok(Outcome::Rated {
                    job_id: job_id.clone(),
                    image: image.map(Box::new),
                })
            }
            WriteRequest::Requeue(job_id) => {
                let written = self.locked_change(request, |s| {
                    // At the end of the queue: after every waiting job, whatever its age
                    // (`retried` alone would put an old job back in its old place).
                    let last = queued_in_order(s.records()).last().map(|r| queue_key(r));
                    let order = last.map_or(i64::MIN, |k| k.saturating_add(1));
                    let order = order.max(chrono::Utc::now().timestamp_millis());
                    s.update_if(
                        job_id,
                        |r| matches!(r.status, JobStatus::Failed | JobStatus::Cancelled),
                        |r| {
                            let mut r = retried(r);
                            r.queue_order = Some(order);
                            r
                        },
                    )
                })?;
                Ok(Outcome::Requeued {
                    job_id: job_id.clone(),
                    requeued: written.is_some(),
                })
            }
            WriteRequest::Append { record, summary } => {
                self.append(request, record)?;
                Ok(Outcome::Recorded {
                    job_id: record.job_id.clone(),
                    summary: summary.clone(),
                })
            }
            WriteRequest::Restore(record) => {
                // Through the full store: it refuses a job that is live again.
                self.locked_change(request, |s| s.restore(record))?;
                Ok(Outcome::Restored(record.job_id.clone()))
            }
            WriteRequest::SetStatus { job_id, status } => {
                self.locked_change(request, |s| s.set_status(job_id, *status))?;
                Ok(Outcome::StatusSet(job_id.clone()))
            }
            WriteRequest::Cancel(job_id) => {
                self.locked_change(request, |s| s.cancel(job_id))?;
                Ok(Outcome::Cancelled(job_id.clone()))
            }
            WriteRequest::Delete(job_id) => {
                let record = self.locked_change(request, |s| s.delete(job_id))?;
                Ok(Outcome::Deleted(Box::new(record)))
            }
            WriteRequest::ImportStableNew(file) => self.import(request, file),
            WriteRequest::Export { path, format, rows } => {
                let shared = self.shared.as_ref().expect("checked above");
                let guard = shared
                    .read()
                    .map_err(|_| Failure::Failed(self.unavailable(request)))?;
                let records = guard.records();
                // The table's order is only how the rows are shown: every export is oldest
                // first, as the CLI's.
                let mut rows = rows.clone();
                rows.retain(|&i| (i as usize) < records.len());
                sort_for_export(records, &mut rows);
                let result = export_to_file(
                    rows.iter().map(|&i| &records[i as usize]),
                    *format,
                    path,
                    guard.path(),
                );
                match result {
                    Ok(count) => Ok(Outcome::Exported {
                        path: path.clone(),
                        count,
                    }),
                    Err(e) if e.is_refusal() => Err(Failure::Failed(e.to_string())),
                    Err(e) => Err(Failure::Failed(format!(
                        "Export to {} failed: {e}",
                        path.display()
                    ))),
                }
            }
        }
    }

    /// An image import's call: answered on its channel, or busy (retried; nothing was
    /// written then).
    fn image_import(&mut self, call: &ImportCall) -> Result<Outcome, Failure> {
        fn busy_or<T>(e: HistoryError) -> Result<Result<T, HistoryError>, Failure> {
            if e.is_transient() {
                Err(Failure::Busy(e))
            } else {
                Ok(Err(e))
            }
        }
        match call {
            ImportCall::KnownImages { reply } => {
                let answer = match self.try_reload() {
                    Err(e) => busy_or(e)?,
                    Ok(()) => self
                        .shared
                        .as_ref()
                        .and_then(|shared| shared.read().ok())
                        .map(|s| known_images_of(s.records()))
                        .ok_or_else(|| unavailable_error(&self.path, &self.unavailable_why())),
                };
                let _ = reply.send(answer);
            }
            ImportCall::AppendJobs { records, reply } => {
                let answer = match self.append_many(records) {
                    Err(e) => busy_or(e)?,
                    Ok(()) => Ok(()),
                };
                let _ = reply.send(answer);
            }
            ImportCall::MoveImage {
                job_id,
                sha256,
                old_path,
                new_path,
                reply,
            } => {
                let answer =
                    self.import_change(|s| s.move_image(job_id, sha256, old_path, new_path))?;
                let _ = reply.send(answer);
            }
            ImportCall::AddImage {
                job_id,
                image,
                reply,
            } => {
                let answer = self.import_change(|s| s.add_image(job_id, image))?;
                let _ = reply.send(answer);
            }
        }
        Ok(Outcome::Answered)
    }

    /// A change of an image import on the shared store ([`Self::locked_raw`]): busy, or the
    /// answer.
    fn import_change<T>(
        &self,
        change: impl FnOnce(&mut HistoryStore) -> Result<T, HistoryError>,
    ) -> Result<Result<T, HistoryError>, Failure> {
        match self.locked_raw(change) {
            Err(busy) => Err(Failure::Busy(busy)),
            Ok(None) => Ok(Err(unavailable_error(&self.path, &self.unavailable_why()))),
            Ok(Some(Err(e))) if e.is_transient() => Err(Failure::Busy(e)),
            Ok(Some(answer)) => Ok(answer),
        }
    }

    /// Writes an image import's new jobs through an append-only store of its own (as a
    /// Submit: the shared store is not locked while the lines are written and synced), then
    /// the shared store reads them.
    fn append_many(&self, records: &[JobRecord]) -> Result<(), HistoryError> {
        let mut appender = HistoryStore::open_append_only(&self.path)?;
        appender.set_lock_timeout(GUI_LOCK_TIMEOUT);
        appender.append_many(records)?;
        drop(appender);
        if self.loaded
            && let Some(Err(e)) = self.with_write(HistoryStore::reload)
        {
            self.send(WriteEvent::ReloadFailed(e.to_string()));
        }
        Ok(())
    }

    /// Imports on a full store of the writer's own, then moves it into the shared store.
    fn import(&mut self, request: &WriteRequest, file: &Path) -> Result<Outcome, Failure> {
        wait_for_file_lock(&self.path, GUI_LOCK_TIMEOUT).map_err(Failure::Busy)?;
        let mut store = HistoryStore::open(&self.path).map_err(|e| classify(request, e))?;
        store.set_lock_timeout(GUI_LOCK_TIMEOUT);
        let report = match import_stablenew(&mut store, file) {
            Ok(report) => report,
            Err(ImportError::History(e)) => return Err(classify(request, e)),
            Err(e) => return Err(Failure::Failed(e.to_string())),
        };
        let replaced = self.with_write(|shared| {
            std::mem::swap(shared, &mut store);
            // The index was built for the old contents; the new store's edit count says
            // nothing about them.
            if let Ok(mut cache) = self.index_cache.lock() {
                *cache = None;
            }
        });
        // The old contents are freed here, outside the lock.
        drop(store);
        if replaced.is_none() {
            return Err(Failure::Failed(self.unavailable(request)));
        }
        if let Some(shared) = &self.shared
            && let Ok(s) = shared.read()
        {
            self.progress.set(s.load_progress());
        }
        Ok(Outcome::Imported {
            path: file.to_path_buf(),
            report,
        })
    }
}

/// The error a runner's request gets when the history cannot be used (`why` says why).
fn unavailable_error(path: &Path, why: &str) -> HistoryError {
    HistoryError::Io {
        path: path.to_path_buf(),
        message: why.to_owned(),
        source: std::io::Error::other(why.to_owned()),
    }
}

/// The runner's history: every look and change is a request to the history writer thread,
/// answered on a channel of its own. Called from the runner's threads only (it waits for the
/// answer); the writer takes its requests in turn with the window's.
pub struct WriterQueue {
    tx: Sender<(u64, WriteRequest)>,
    path: PathBuf,
}

/// Requests from the runner carry this id (the window's start at 1); they are never reported
/// as events.
const RUNNER_REQUEST_ID: u64 = 0;

const WRITER_GONE: &str = "the history writer has stopped";

impl WriterQueue {
    fn ask<T>(&self, request: impl FnOnce(Reply<T>) -> WriteRequest) -> Result<T, HistoryError> {
        let (reply, answer) = channel();
        self.tx
            .send((RUNNER_REQUEST_ID, request(reply)))
            .map_err(|_| unavailable_error(&self.path, WRITER_GONE))?;
        answer
            .recv()
            .unwrap_or_else(|_| Err(unavailable_error(&self.path, WRITER_GONE)))
    }
}

impl QueueStore for WriterQueue {
    fn active(&self) -> Result<Vec<JobRecord>, HistoryError> {
        self.ask(|reply| WriteRequest::Active { reply })
    }

    fn transition(
        &self,
        job_id: &str,
        check: Check,
        change: Change,
    ) -> Result<Option<JobRecord>, HistoryError> {
        self.ask(|reply| WriteRequest::Transition {
            job_id: job_id.to_owned(),
            call: RunnerCall {
                check: Some(check),
                change: Some(change),
            },
            reply,
        })
    }
}

/// An image import's history: each call is a [`WriteRequest::ImageImport`] answered in turn
/// by the writer. Called from the import's task thread only (it waits for the answers).
impl ImportTarget for WriterQueue {
    fn history_path(&self) -> PathBuf {
        self.path.clone()
    }

    fn known_images(&mut self) -> Result<Vec<KnownImage>, HistoryError> {
        self.ask(|reply| WriteRequest::ImageImport(ImportCall::KnownImages { reply }))
    }

    fn append_jobs(&mut self, records: Vec<JobRecord>) -> Result<(), HistoryError> {
        self.ask(|reply| WriteRequest::ImageImport(ImportCall::AppendJobs { records, reply }))
    }

    fn move_image(
        &mut self,
        job_id: &str,
        sha256: &str,
        old_path: &str,
        new_path: &str,
    ) -> Result<bool, HistoryError> {
        self.ask(|reply| {
            WriteRequest::ImageImport(ImportCall::MoveImage {
                job_id: job_id.to_owned(),
                sha256: sha256.to_owned(),
                old_path: old_path.to_owned(),
                new_path: new_path.to_owned(),
                reply,
            })
        })
    }

    fn add_image(&mut self, job_id: &str, image: &OutputImage) -> Result<bool, HistoryError> {
        self.ask(|reply| {
            WriteRequest::ImageImport(ImportCall::AddImage {
                job_id: job_id.to_owned(),
                image: Box::new(image.clone()),
                reply,
            })
        })
    }
}

/// A store error as a failure of `request`: busy (retried) or for good.
fn classify(request: &WriteRequest, e: HistoryError) -> Failure {
    if e.is_transient() {
        Failure::Busy(e)
    } else {
        Failure::Failed(failure_message(request, &e.to_string(), false))
    }
}

/// The status-line text of a request that failed for good. `gave_up`: after every retry.
fn failure_message(request: &WriteRequest, error: &str, gave_up: bool) -> String {
    match request {
        WriteRequest::Append { .. } if gave_up => format!(
            "Could not record the job: {error}. Your prompt is still in the composer; press Submit to try again."
        ),
        WriteRequest::Append { .. } => format!("Could not record the job: {error}"),
        _ => error.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt_packs::build_run_config_for_manual_prompt;

    fn next(writer: &mut HistoryWriter) -> WriteEvent {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(event) = writer.next_event() {
                return event;
            }
            assert!(Instant::now() < deadline, "the writer said nothing");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn record(id: &str) -> JobRecord {
        let cfg = build_run_config_for_manual_prompt("a harbour at dawn", "", None);
        crate::job_record::job_record_from_run_config(id, &cfg)
    }

    /// While another holder has the file lock, the writer waits without holding the shared
    /// store: readers always get in. The changes land in order once the lock is released.
    #[test]
    fn a_held_file_lock_never_blocks_readers_and_requests_keep_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        HistoryStore::open(&path)
            .unwrap()
            .append(&record("old"))
            .unwrap();
        let mut writer = HistoryWriter::start(path.clone(), &Repaint::default(), Arc::default());
        let store = match next(&mut writer) {
            WriteEvent::Opened(store) => store,
            other => panic!("{other:?}"),
        };
        assert!(matches!(next(&mut writer), WriteEvent::Loaded));

        let holder = std::fs::File::options()
            .read(true)
            .append(true)
            .open(&path)
            .unwrap();
        holder.lock().unwrap();
        assert!(lock_held_elsewhere(&path).is_some());
        let delete = writer.send(WriteRequest::Delete("old".into())).unwrap();
        let append = writer
            .send(WriteRequest::Append {
                record: record("new"),
                summary: "manual prompt".into(),
            })
            .unwrap();
        // The writer tries for GUI_LOCK_TIMEOUT; readers are never shut out meanwhile.
        let until = Instant::now() + GUI_LOCK_TIMEOUT + Duration::from_millis(300);
        while Instant::now() < until {
            assert!(store.try_read().is_ok(), "a reader waited for the writer");
            std::thread::sleep(Duration::from_millis(3));
        }
        match next(&mut writer) {
            WriteEvent::Waiting {
                id, kind, error, ..
            } => {
                assert_eq!((id, kind), (delete, RequestKind::Delete));
                assert!(error.is_transient());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(store.read().unwrap().len(), 1);

        holder.unlock().unwrap();
        match next(&mut writer) {
            WriteEvent::Done {
                id,
                outcome: Outcome::Deleted(r),
            } => assert_eq!((id, r.job_id.as_str()), (delete, "old")),
            other => panic!("{other:?}"),
        }
        match next(&mut writer) {
            WriteEvent::Done {
                id,
                outcome: Outcome::Recorded { job_id, .. },
            } => assert_eq!((id, job_id.as_str()), (append, "new")),
            other => panic!("{other:?}"),
        }
        let ids: Vec<String> = store
            .read()
            .unwrap()
            .records()
            .iter()
            .map(|r| r.job_id.clone())
            .collect();
        assert_eq!(ids, ["new"]);
        let on_disk = HistoryStore::open(&path).unwrap();
        assert_eq!(on_disk.len(), 1);
        assert!(on_disk.get("new").is_some());
    }

    /// An image import reaches the history only through the writer (its [`WriterQueue`] as
    /// the import's target): the new jobs land in the shared store the table reads and on
    /// disk, and a moved file keeps its job (the move written by the writer, too).
    #[test]
    fn an_image_import_through_the_writer_appends_and_links_a_moved_file() {
        use crate::images::{ImportImagesOptions, import_images};
        use std::sync::atomic::AtomicBool;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("history.jsonl");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut writer = HistoryWriter::start(path.clone(), &Repaint::default(), Arc::default());
        let store = match next(&mut writer) {
            WriteEvent::Opened(store) => store,
            other => panic!("{other:?}"),
        };
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        std::fs::create_dir_all(&first).unwrap();
        std::fs::create_dir_all(&second).unwrap();
        let mut png = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(3, 2, image::Rgb([9, 80, 200]))
            .write_to(&mut png, image::ImageFormat::Png)
            .unwrap();
        std::fs::write(first.join("a.png"), png.into_inner()).unwrap();

        let run = |folder: &Path| {
            let mut target = writer.queue();
            // Off the writer thread, as the app's task.
            let folder = folder.to_path_buf();
            std::thread::spawn(move || {
                import_images(
                    &mut target,
                    &folder,
                    &ImportImagesOptions::default(),
                    &mut |_| {},
                    &AtomicBool::new(false),
                )
            })
            .join()
            .unwrap()
            .unwrap()
        };
        let report = run(&first);
        assert_eq!((report.imported, report.linked), (1, 0), "{report:?}");
        let image_path = |store: &HistoryStore| {
            store.records()[0].result.as_ref().unwrap().images[0]
                .path
                .clone()
        };
        assert_eq!(store.read().unwrap().len(), 1);
        assert!(image_path(&store.read().unwrap()).ends_with("first/a.png"));

        std::fs::rename(first.join("a.png"), second.join("a.png")).unwrap();
        let report = run(&second);
        assert_eq!((report.imported, report.linked), (0, 1), "{report:?}");
        assert!(image_path(&store.read().unwrap()).ends_with("second/a.png"));
        let on_disk = HistoryStore::open(&path).unwrap();
        assert_eq!(on_disk.len(), 1);
        assert!(image_path(&on_disk).ends_with("second/a.png"));
        // Answered on the import's own channel: no event for the window.
        while let Some(event) = writer.next_event() {
            assert!(
                matches!(event, WriteEvent::Loaded),
                "unexpected event {event:?}"
            );
        }
    }

    /// The runner's requests go through the writer: its look at the queue reads other
    /// processes' jobs, a claim is checked against the job's current state, and a claim made
    /// while another process holds the history waits for it (kept, then retried) instead of
    /// failing; the shared store the table reads has every change.
    #[test]
    fn the_runners_requests_are_answered_in_turn_and_wait_out_a_busy_history() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        HistoryStore::open(&path)
            .unwrap()
            .append(&record("first"))
            .unwrap();
        let mut writer = HistoryWriter::start(path.clone(), &Repaint::default(), Arc::default());
        let store = match next(&mut writer) {
            WriteEvent::Opened(store) => store,
            other => panic!("{other:?}"),
        };
        let queue = writer.queue();
        // Another process queues a job: the runner's look sees it.
        HistoryStore::open(&path)
            .unwrap()
            .append(&record("second"))
            .unwrap();
        let ids: Vec<String> = queue
            .active()
            .unwrap()
            .into_iter()
            .map(|r| r.job_id)
            .collect();
        assert_eq!(ids, ["first", "second"]);

        let claim = |queue: &WriterQueue, id: &str| {
            queue.transition(
                id,
                Box::new(|r| r.status == JobStatus::Queued),
                Box::new(|r| {
                    let mut r = r.clone();
                    r.status = JobStatus::Running;
                    r.runner = Some("me".into());
                    r
                }),
            )
        };
        let claimed = claim(&queue, "first").unwrap().expect("claimed");
        assert_eq!(claimed.status, JobStatus::Running);
        assert!(
            claim(&queue, "first").unwrap().is_none(),
            "claimed once only"
        );
        assert_eq!(
            store.read().unwrap().get("first").unwrap().status,
            JobStatus::Running
        );

        let holder = std::fs::File::options()
            .read(true)
            .append(true)
            .open(&path)
            .unwrap();
        holder.lock().unwrap();
        let waiting = std::thread::spawn(move || claim(&queue, "second"));
        std::thread::sleep(GUI_LOCK_TIMEOUT + Duration::from_millis(300));
        assert!(!waiting.is_finished(), "the claim waits for the history");
        holder.unlock().unwrap();
        let claimed = waiting.join().unwrap().unwrap().expect("claimed");
        assert_eq!(claimed.runner.as_deref(), Some("me"));
        let on_disk = HistoryStore::open(&path).unwrap();
        assert_eq!(on_disk.get("second").unwrap().status, JobStatus::Running);
        // No event was sent for the runner's requests (the window tracks none of them).
        while let Some(event) = writer.next_event() {
            assert!(
                matches!(event, WriteEvent::Loaded),
                "unexpected event {event:?}"
            );
        }
    }
}
