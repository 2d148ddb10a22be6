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

use super::tasks::{IndexCache, Repaint, spawn_named};
use crate::history::{
    ExportFormat, HistoryError, HistoryStore, ImportError, ImportReport, export_to_file,
    import_stablenew, sort_for_export,
};
use crate::job_record::{JobRecord, JobStatus};
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

/// A change (or an export) for the writer to carry out.
#[derive(Debug, Clone, PartialEq)]
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
    /// The outcome of `request` failing for good with `message`.
    fn failure(request: WriteRequest, message: String) -> Outcome {
        match request {
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
}

impl HistoryWriter {
    /// Starts the writer thread on the history at `path`; it opens the history at once.
    pub fn start(path: PathBuf, repaint: &Repaint, index_cache: Arc<IndexCache>) -> HistoryWriter {
        let (tx, requests) = channel();
        let (events, rx) = channel();
        let progress = Arc::new(LoadProgress::default());
        let writer = Writer {
            path,
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

    /// Reads what other processes appended. A file another process replaced (compacted) is
    /// read again into a fresh store outside every lock, then swapped in, so the UI's readers
    /// never wait for a whole re-read.
    fn reload(&mut self) {
        let replaced = self
            .shared
            .as_ref()
            .and_then(|shared| shared.read().ok().map(|s| s.needs_full_reread()))
            .unwrap_or(false);
        if replaced {
            match HistoryStore::open(&self.path) {
                Ok(mut fresh) => {
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
                }
                Err(e) => self.send(WriteEvent::ReloadFailed(e.to_string())),
            }
            return;
        }
        match self.with_write(HistoryStore::reload) {
            Some(Ok(0)) | None => {}
            Some(Ok(_)) => self.repaint.request(),
            Some(Err(e)) => self.send(WriteEvent::ReloadFailed(e.to_string())),
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
            match self.attempt(&pending.request) {
                Ok(outcome) => self.send(WriteEvent::Done {
                    id: pending.id,
                    outcome,
                }),
                Err(Failure::Busy(error)) if pending.attempts < RETRY_LIMIT => {
                    self.send(WriteEvent::Waiting {
                        id: pending.id,
                        kind,
                        error,
                        attempts: pending.attempts,
                    });
                    pending.attempts += 1;
                    pending.next = Instant::now() + RETRY_INTERVAL;
                    self.queue.push_front(pending);
                    return;
                }
                Err(Failure::Busy(error)) => {
                    let message = failure_message(&pending.request, &error.to_string(), true);
                    self.send(WriteEvent::Done {
                        id: pending.id,
                        outcome: Outcome::failure(pending.request, message),
                    });
                }
                Err(Failure::Failed(message)) => self.send(WriteEvent::Done {
                    id: pending.id,
                    outcome: Outcome::failure(pending.request, message),
                }),
            }
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
        wait_for_file_lock(&self.path, GUI_LOCK_TIMEOUT).map_err(Failure::Busy)?;
        let result = self
            .with_write(|s| {
                s.set_lock_timeout(RACE_LOCK_TIMEOUT);
                let result = change(s);
                s.set_lock_timeout(GUI_LOCK_TIMEOUT);
                result
            })
            .ok_or_else(|| Failure::Failed(self.unavailable(request)))?;
        result.map_err(|e| classify(request, e))
    }

    fn unavailable(&self, request: &WriteRequest) -> String {
        let why = self
            .open_error
            .clone()
            .unwrap_or_else(|| "the history is not open".to_owned());
        failure_message(request, &why, false)
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

    fn attempt(&mut self, request: &WriteRequest) -> Result<Outcome, Failure> {
        if request.needs_full_history() && self.shared.is_none() {
            return Err(Failure::Failed(self.unavailable(request)));
        }
        match request {
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
}
