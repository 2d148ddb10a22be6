//! The crash-safe JSON Lines history store.
//!
//! # File format
//!
//! `history.jsonl` holds one line per change:
//!
//! * a full [`JobRecord`] snapshot (`JobRecord::to_json_line`). The first line of a job adds
//!   it; every later line for the same `job_id` replaces it (last line wins), except that the
//!   prompt origin (`prompt_source`, `prompt_pack_id`, `prompt_keys`, also inside
//!   `run_config`) always stays the one the job was created with;
//! * a tombstone `{"op":"delete","job_id":"..","at":".."}` removing a job. A record line for a
//!   deleted job brings it back at its old place (undo).
//!
//! Jobs are kept in the order of their first line (submission order).
//!
//! # Durability and concurrency
//!
//! Several processes may use one file. Every write takes an exclusive advisory lock on the
//! file (waiting up to [`DEFAULT_LOCK_TIMEOUT`]), first reads the lines other processes
//! appended since this store last read, then appends whole lines with a single `write_all`
//! through an `O_APPEND` handle and `sync_data`s before returning. A failed write is
//! truncated away again. Only [`HistoryStore::compact`] rewrites the file, atomically (temp
//! file, fsync, rename, fsync of the folder).
//!
//! Damaged lines never stop a load: a bad line is skipped, reported in the [`LoadReport`]
//! with its 1-based line number and copied verbatim into `history.quarantine.jsonl` beside
//! the history; a torn last line (a crash in the middle of a write) is quarantined and then
//! cut off so that the next append starts on a fresh line.
//!
//! # Layout
//!
//! `error` ([`HistoryError`]), `report` ([`LoadReport`], [`CompactReport`], ...), `codec` (what a
//! line is), `file` (opening, positioned reads, the lock loop, appends cut back on failure),
//! `index` (the jobs in memory: last line wins, origin kept, undo positions; no disk),
//! `recovery` (torn tail, quarantine), `compact` (the rewrite), and here the store itself.

mod codec;
mod compact;
mod error;
mod file;
mod index;
mod recovery;
mod report;

pub use error::HistoryError;
pub use file::quarantine_path_for;
pub use report::{CompactReport, ForeignLine, LoadProgress, LoadReport, QuarantinedLine};

use crate::job_record::{JobRecord, JobStatus};
use chrono::Utc;
use codec::{Parsed, parse_chunk, parse_line};
use file::{CHUNK_BYTES, open_existing_read_only, open_handle, read_at, read_lines};
use index::{Fold, JobIndex, Loc, RecordLine, keep_origin, loc_of};
use std::collections::HashSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a write waits for another process to release the history lock.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// A process-wide counter so that generations never repeat, even across stores.
static GENERATION: AtomicU64 = AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// The history: every job in `history.jsonl`, current state in submission order.
///
/// Open it with [`HistoryStore::open`]; every change is on disk (fsynced) when the method
/// returns `Ok`, and in memory only then.
#[derive(Debug)]
pub struct HistoryStore {
    path: PathBuf,
    quarantine_path: PathBuf,
    file: File,
    read_only: bool,
    /// The live jobs, their places and the lines kept for compaction.
    jobs: JobIndex,
    /// Bytes of the file consumed (always just after a '\n', or 0).
    offset: u64,
    /// Lines consumed.
    lines_read: usize,
    generation: u64,
    report: LoadReport,
    /// Some damaged lines are not in the quarantine file (writing it failed): compact would
    /// lose them, so it refuses.
    unsaved_quarantine: bool,
    lock_timeout: Duration,
    /// False while a store opened with [`HistoryStore::open_partial`] has more to read.
    fully_loaded: bool,
    /// Opened with [`HistoryStore::open_read_only`]: nothing is ever written (not even the
    /// quarantine file).
    inspect_only: bool,
    /// Opened with [`HistoryStore::open_append_only`]: a file replaced by a compaction is not
    /// read again in full, only from its end.
    append_only: bool,
    /// `lines_read` does not count the lines before `offset` (an append-only store).
    lines_unknown: bool,
    /// `file` was switched to a new file at our path (another process compacted): the records
    /// must be read again, which [`HistoryStore::acquire`] does under the new file's lock.
    stale: bool,
}

impl HistoryStore {
    /// Opens (creating the folder and the file if missing) the history at `path`: the history
    /// file itself, or a folder, meaning `folder/history.jsonl`. A file without write access
    /// opens read-only (every write then fails with [`HistoryError::ReadOnly`]).
    pub fn open(path: impl AsRef<Path>) -> Result<HistoryStore, HistoryError> {
        HistoryStore::open_with_progress(path, &|_| {})
    }

    /// Like [`HistoryStore::open`], calling `progress` after every chunk read (for a progress
    /// bar while a background thread loads a large history).
    pub fn open_with_progress(
        path: impl AsRef<Path>,
        progress: &(dyn Fn(LoadProgress) + Sync),
    ) -> Result<HistoryStore, HistoryError> {
        HistoryStore::open_inner(path, None, progress)
    }

    /// Opens an existing history for reading only: nothing is created, repaired or written
    /// (not the folder, not the file, not the quarantine), so it suits commands that only
    /// look (`history`, `verify`) and read-only disks. Damaged lines are reported (and listed
    /// in [`LoadReport::not_quarantined`]); a torn last line is reported, not cut off. A missing
    /// history is [`HistoryError::NoHistory`]; every write fails with `ReadOnly`.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<HistoryStore, HistoryError> {
        HistoryStore::open_mode(path, None, &|_| {}, true)
    }

    fn open_inner(
        path: impl AsRef<Path>,
        limit: Option<u64>,
        progress: &(dyn Fn(LoadProgress) + Sync),
    ) -> Result<HistoryStore, HistoryError> {
        HistoryStore::open_mode(path, limit, progress, false)
    }

    fn open_mode(
        path: impl AsRef<Path>,
        limit: Option<u64>,
        progress: &(dyn Fn(LoadProgress) + Sync),
        inspect_only: bool,
    ) -> Result<HistoryStore, HistoryError> {
        let path = file::resolve_history_path(path.as_ref())?;
        if inspect_only && !path.exists() {
            return Err(HistoryError::NoHistory { path });
        }
        if let Some(dir) = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty() && !inspect_only)
        {
            let op = "create the data folder";
            crate::fsutil::create_private_dir_all(dir).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    // The folder's name is taken by a file.
                    HistoryError::NotAFolder {
                        path: dir.to_path_buf(),
                        op,
                    }
                } else {
                    HistoryError::from_io(dir, op, e)
                }
            })?;
        }
        let (file, read_only) = if inspect_only {
            (open_existing_read_only(&path)?, true)
        } else {
            open_handle(&path)?
        };
        let quarantine_path = quarantine_path_for(&path);
        let mut store = HistoryStore {
            path,
            quarantine_path,
            file,
            read_only,
            jobs: JobIndex::default(),
            offset: 0,
            lines_read: 0,
            generation: next_generation(),
            report: LoadReport::default(),
            unsaved_quarantine: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            fully_loaded: true,
            inspect_only,
            append_only: false,
            lines_unknown: false,
            stale: false,
        };
        store.load_body(limit, progress)?;
        if limit == Some(0) {
            // open_append_only: positions itself.
        } else if store.offset_reaches_end()? {
            store.finish_tail();
        } else {
            store.fully_loaded = false;
        }
        store.report.records = store.jobs.len();
        if !store.read_only {
            store.remove_stale_temps_unlocked();
        }
        Ok(store)
    }

    /// Removes temp files left by killed compactions and exports beside the history, when no
    /// other process holds the history lock (one that does may be compacting right now).
    fn remove_stale_temps_unlocked(&mut self) {
        if self.file.try_lock().is_err() {
            return;
        }
        self.remove_stale_temps_locked();
        let _ = self.file.unlock();
    }

    /// Under the lock: removes our stale temp files beside the real history file.
    fn remove_stale_temps_locked(&self) -> usize {
        let Ok(target) = fs::canonicalize(&self.path) else {
            return 0;
        };
        let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
            return 0;
        };
        crate::fsutil::remove_stale_temps(dir, name, crate::fsutil::STALE_TEMP_AGE).len()
    }

    /// Opens the history reading only about its first `first_bytes` (whole lines); the rest
    /// comes with [`HistoryStore::load_more`]. A UI shows the first rows at once and streams
    /// in the others. Until [`HistoryStore::is_fully_loaded`], the records are those of a
    /// prefix of the file; a write first reads the rest (so it is never based on a partial
    /// view).
    pub fn open_partial(
        path: impl AsRef<Path>,
        first_bytes: u64,
    ) -> Result<HistoryStore, HistoryError> {
        HistoryStore::open_inner(path, Some(first_bytes.max(1)), &|_| {})
    }

    /// Opens the history for adding jobs only, without reading the records already in it:
    /// the cost does not grow with the history (the CLI's `submit`). `records()` then holds
    /// only what this store wrote or read since (other processes' appends, caught up before
    /// each write). A torn last line is still set aside and repaired before the first write.
    /// Job ids from [`HistoryStore::new_job_id`] never collide, so skipping the old ids is
    /// safe; line numbers in reports count from the end of the old content.
    pub fn open_append_only(path: impl AsRef<Path>) -> Result<HistoryStore, HistoryError> {
        // Read nothing, then start just after the last '\n'.
        let mut store = HistoryStore::open_inner(path, Some(0), &|_| {})?;
        store.offset = store.last_line_end()?;
        store.fully_loaded = true;
        store.append_only = true;
        store.lines_unknown = true;
        Ok(store)
    }

    /// The offset just after the last '\n' of the file (0 if it has none).
    fn last_line_end(&self) -> Result<u64, HistoryError> {
        let len = self.file_len()?;
        file::last_line_end(&self.file, len)
            .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))
    }

    /// Reads about `max_bytes` more (whole lines) of a store opened with
    /// [`HistoryStore::open_partial`]. Returns true once everything is read.
    pub fn load_more(&mut self, max_bytes: u64) -> Result<bool, HistoryError> {
        if self.fully_loaded {
            return Ok(true);
        }
        let len = self.file_len()?;
        let mut window = max_bytes.max(1);
        loop {
            let end = len.min(self.offset.saturating_add(window));
            let before = self.offset;
            self.read_new_lines(end)?;
            if end >= len {
                self.finish_tail();
                self.report.records = self.jobs.len();
                self.fully_loaded = true;
                return Ok(true);
            }
            if self.offset > before {
                return Ok(false);
            }
            // One line longer than the window: widen it.
            window = window.saturating_mul(2);
        }
    }

    /// False while an [`HistoryStore::open_partial`] store has more of the file to read.
    pub fn is_fully_loaded(&self) -> bool {
        self.fully_loaded
    }

    /// How much of the file has been read.
    pub fn load_progress(&self) -> LoadProgress {
        LoadProgress {
            bytes_done: self.offset,
            bytes_total: self.file_len().unwrap_or(self.offset).max(self.offset),
            records: self.jobs.len(),
        }
    }

    fn offset_reaches_end(&self) -> Result<bool, HistoryError> {
        // Everything but a tail without its '\n' has been read.
        let len = self.file_len()?;
        if len <= self.offset {
            return Ok(true);
        }
        let end = len.min(self.offset.saturating_add(CHUNK_BYTES as u64));
        let file = self
            .file
            .try_clone()
            .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))?;
        let mut buf = Vec::new();
        let want = usize::try_from(end - self.offset).unwrap_or(usize::MAX);
        read_at(&file, self.offset, &mut buf, want)
            .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))?;
        Ok(end == len && !buf.contains(&b'\n'))
    }

    /// A new job id: a UUID v7 (time-ordered, random part), unique across processes.
    pub fn new_job_id() -> String {
        uuid::Uuid::now_v7().to_string()
    }

    /// The history file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The quarantine file beside it (`history.quarantine.jsonl`).
    pub fn quarantine_path(&self) -> &Path {
        &self.quarantine_path
    }

    /// True when the file could only be opened for reading.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// How long writes wait for another process's lock (default 10 s).
    pub fn set_lock_timeout(&mut self, timeout: Duration) {
        self.lock_timeout = timeout;
    }

    /// Every live job, in submission order.
    pub fn records(&self) -> &[JobRecord] {
        self.jobs.records()
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.len() == 0
    }

    /// The job with this id.
    pub fn get(&self, job_id: &str) -> Option<&JobRecord> {
        self.jobs.get(job_id)
    }

    /// Index of the job with this id in [`HistoryStore::records`].
    pub fn position(&self, job_id: &str) -> Option<usize> {
        self.jobs.position(job_id)
    }

    /// Changes whenever the records change (never repeats within a process, even across
    /// stores), so views can cache per generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Changes whenever an existing record changes or moves; stays the same while jobs are
    /// only added at the end. A cache of per-record data (like a search index) built at edit
    /// count E for the first N records stays valid for them while the count is E.
    pub fn edit_count(&self) -> u64 {
        self.jobs.edits()
    }

    /// What the load (and later reads) found: counts and damaged lines.
    pub fn load_report(&self) -> &LoadReport {
        &self.report
    }

    /// Adds a new job. Fails with `DuplicateJobId` if the history has the id (also when another
    /// process added it). A job that was deleted comes back at its old place.
    pub fn append(&mut self, record: &JobRecord) -> Result<(), HistoryError> {
        self.append_many(std::slice::from_ref(record))
    }

    /// Adds many new jobs with one locked write (an import). All or nothing: if one id is
    /// already present (or given twice) nothing is written.
    pub fn append_many(&mut self, records: &[JobRecord]) -> Result<(), HistoryError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(records.len() * 1024);
        // Where each record's line starts and ends in `buf`.
        let mut spans = Vec::with_capacity(records.len());
        for r in records {
            let start = buf.len();
            self.encode_into(r, &mut buf)?;
            spans.push((start, buf.len() - 1));
        }
        let mut seen = HashSet::with_capacity(records.len());
        for r in records {
            if !seen.insert(r.job_id.as_str()) {
                return Err(self.duplicate(&r.job_id));
            }
        }
        self.locked(|s| {
            if let Some(r) = records.iter().find(|r| s.jobs.contains(&r.job_id)) {
                return Err(s.duplicate(&r.job_id));
            }
            let base = s.offset;
            s.write_locked(&buf, records.len())?;
            for (r, &(start, end)) in records.iter().zip(&spans) {
                let loc = Loc {
                    offset: base + start as u64,
                    len: (end - start) as u64,
                };
                s.jobs.insert_new(r.clone(), Some(loc));
            }
            s.generation = next_generation();
            Ok(())
        })
    }

    /// Writes a new snapshot of an existing job (status, times, error, ...). The prompt origin
    /// is always kept from the stored record. Nothing is written when nothing changed.
    pub fn update(&mut self, record: &JobRecord) -> Result<(), HistoryError> {
        let job_id = record.job_id.clone();
        self.modify(&job_id, |stored| {
            let mut new = record.clone();
            keep_origin(&mut new, stored);
            Ok(new)
        })
    }

    /// Sets a job's status. Going to `running` sets `started_at` (if unset); going to
    /// `completed`, `failed` or `cancelled` sets `completed_at` (if unset) and `duration_ms`
    /// (if unset and the job has a start time).
    pub fn set_status(&mut self, job_id: &str, status: JobStatus) -> Result<(), HistoryError> {
        self.modify(job_id, |stored| Ok(with_status(stored, status)))
    }

    /// Changes a job only if `check` accepts its current state, read under the write lock
    /// after catching up with the file (so two processes, or two threads with their own
    /// stores, never both see a job as theirs): the runner claims a queued job this way.
    /// Returns the record written, or `None` when `check` refused (nothing written). The
    /// prompt origin is always kept from the stored record.
    pub fn update_if(
        &mut self,
        job_id: &str,
        check: impl FnOnce(&JobRecord) -> bool,
        change: impl FnOnce(&JobRecord) -> JobRecord,
    ) -> Result<Option<JobRecord>, HistoryError> {
        let mut written = None;
        self.modify(job_id, |stored| {
            if !check(stored) {
                return Ok(stored.clone());
            }
            let mut new = change(stored);
            keep_origin(&mut new, stored);
            new.job_id = stored.job_id.clone();
            written = Some(new.clone());
            Ok(new)
        })?;
        Ok(written)
    }

    /// Cancels a queued job; a job in any other state gives `NotCancellable` naming it.
    pub fn cancel(&mut self, job_id: &str) -> Result<(), HistoryError> {
        self.modify(job_id, |stored| {
            if stored.status != JobStatus::Queued {
                return Err(HistoryError::NotCancellable {
                    job_id: stored.job_id.clone(),
                    status: stored.status,
                });
            }
            Ok(with_status(stored, JobStatus::Cancelled))
        })
    }

    /// Deletes a job (a delete line) and returns it, so it can be [`restored`](Self::restore).
    pub fn delete(&mut self, job_id: &str) -> Result<JobRecord, HistoryError> {
        self.locked(|s| {
            if !s.jobs.contains(job_id) {
                return Err(s.unknown(job_id));
            }
            let line = codec::delete_line(job_id, Utc::now())
                .map_err(|e| s.invalid(job_id, e.to_string()))?;
            let mut buf = line.into_bytes();
            buf.push(b'\n');
            s.write_locked(&buf, 1)?;
            let removed = s.jobs.delete_line(job_id);
            s.generation = next_generation();
            removed.ok_or_else(|| s.unknown(job_id))
        })
    }

    /// Undoes a [`delete`](Self::delete): writes the record again; it goes back to its old
    /// place in the list. Fails with `DuplicateJobId` if the job is not deleted.
    pub fn restore(&mut self, record: &JobRecord) -> Result<(), HistoryError> {
        self.append(record)
    }

    /// True when [`HistoryStore::reload`] would read the whole file again (another process
    /// replaced it by compacting, or it no longer ends where this store stopped reading). A
    /// caller that shares the store (the app) can then open a fresh store without holding
    /// any lock and swap it in, instead of re-reading under its own lock.
    pub fn needs_full_reread(&self) -> bool {
        self.stale
            || !self.same_file().unwrap_or(false)
            || !self.offset_still_valid().unwrap_or(false)
    }

    /// Applies the lines other processes appended since this store last read (reading only
    /// the new bytes; a file replaced by another process's compaction is read again in
    /// full). Returns the number of lines applied (or, after a full re-read, records loaded).
    /// Takes no lock: a line still being written is left for the next call.
    pub fn reload(&mut self) -> Result<usize, HistoryError> {
        if self.stale {
            self.read_contents()?;
            return Ok(self.jobs.len());
        }
        if !self.same_file()? || !self.offset_still_valid()? {
            self.reopen()?;
            return Ok(self.jobs.len());
        }
        let len = self.file_len()?;
        let (applied, _tail) = self.read_new_lines(len)?;
        Ok(applied)
    }

    // ----- internals -----

    fn duplicate(&self, job_id: &str) -> HistoryError {
        HistoryError::DuplicateJobId {
            path: self.path.clone(),
            job_id: job_id.to_owned(),
        }
    }

    fn unknown(&self, job_id: &str) -> HistoryError {
        HistoryError::UnknownJob {
            path: self.path.clone(),
            job_id: job_id.to_owned(),
        }
    }

    fn invalid(&self, job_id: &str, reason: String) -> HistoryError {
        HistoryError::InvalidRecord {
            path: self.path.clone(),
            job_id: job_id.to_owned(),
            reason,
        }
    }

    /// Serialises `r` plus '\n' into `buf`, checking it reads back as the same job.
    fn encode_into(&self, r: &JobRecord, buf: &mut Vec<u8>) -> Result<(), HistoryError> {
        if r.job_id.trim().is_empty() {
            return Err(self.invalid(&r.job_id, "the job id is empty".to_owned()));
        }
        let start = buf.len();
        serde_json::to_writer(&mut *buf, r).map_err(|e| self.invalid(&r.job_id, e.to_string()))?;
        match parse_line(&buf[start..]) {
            Parsed::Record(back) if back.job_id == r.job_id => {}
            Parsed::Bad(reason) => {
                buf.truncate(start);
                return Err(self.invalid(
                    &r.job_id,
                    format!("it would not read back ({reason}); is a number not finite?"),
                ));
            }
            _ => {
                buf.truncate(start);
                return Err(self.invalid(&r.job_id, "it would not read back".to_owned()));
            }
        }
        buf.push(b'\n');
        Ok(())
    }

    /// Locked read-modify-write of one job: `change` gets the current stored record (after
    /// catching up with other processes) and returns the new one.
    fn modify(
        &mut self,
        job_id: &str,
        change: impl FnOnce(&JobRecord) -> Result<JobRecord, HistoryError>,
    ) -> Result<(), HistoryError> {
        self.locked(|s| {
            let Some(i) = s.jobs.position(job_id) else {
                return Err(s.unknown(job_id));
            };
            let stored = &s.jobs.records()[i];
            let mut new = change(stored)?;
            new.job_id = job_id.to_owned();
            if new == *stored {
                return Ok(());
            }
            let mut buf = Vec::with_capacity(2048);
            s.encode_into(&new, &mut buf)?;
            let loc = Loc {
                offset: s.offset,
                len: buf.len() as u64 - 1,
            };
            s.write_locked(&buf, 1)?;
            s.jobs.replace(i, new, loc);
            s.generation = next_generation();
            Ok(())
        })
    }

    /// Runs `f` under the write lock, after catching up with the file.
    fn locked<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, HistoryError>,
    ) -> Result<T, HistoryError> {
        self.acquire()?;
        let result = f(self);
        let _ = self.file.unlock();
        result
    }

    /// Takes the write lock on the current history file and catches up with it (repairing a
    /// torn tail). On error the lock is not held.
    fn acquire(&mut self) -> Result<(), HistoryError> {
        if self.read_only || self.inspect_only {
            return Err(HistoryError::ReadOnly {
                path: self.path.clone(),
            });
        }
        // Compactions in other processes replace the file; each time, lock the new one. Keep
        // trying for the whole timeout (not a fixed number of times), so a writer always gets
        // its turn between back-to-back compactions.
        let start = Instant::now();
        let mut replaced = 0u32;
        loop {
            let waited = start.elapsed();
            if replaced > 0 && waited >= self.lock_timeout {
                return Err(HistoryError::Busy {
                    path: self.path.clone(),
                    waited,
                });
            }
            let remaining = self.lock_timeout.saturating_sub(waited);
            match file::lock_with_timeout(&self.file, &self.path, remaining) {
                Ok(()) => {}
                Err(HistoryError::Locked { .. }) if replaced > 0 => {
                    return Err(HistoryError::Busy {
                        path: self.path.clone(),
                        waited: start.elapsed(),
                    });
                }
                Err(HistoryError::Locked { path, .. }) => {
                    return Err(HistoryError::Locked {
                        path,
                        waited: start.elapsed(),
                    });
                }
                Err(e) => return Err(e),
            }
            match self.same_file() {
                Ok(true) => {}
                Ok(false) => {
                    // Another process replaced the file (a compaction). Open the new one and
                    // lock it BEFORE reading it: a file whose lock we hold cannot be replaced,
                    // so a long read is never wasted by the next compaction.
                    let _ = self.file.unlock();
                    replaced += 1;
                    self.switch_file()?;
                    if self.read_only {
                        return Err(HistoryError::ReadOnly {
                            path: self.path.clone(),
                        });
                    }
                    continue;
                }
                Err(e) => {
                    let _ = self.file.unlock();
                    return Err(e);
                }
            }
            if self.stale
                && let Err(e) = self.read_contents()
            {
                let _ = self.file.unlock();
                return Err(e);
            }
            match self.catch_up_locked() {
                Ok(()) => return Ok(()),
                Err(e) => {
                    let _ = self.file.unlock();
                    return Err(e);
                }
            }
        }
    }

    /// Under the lock: read lines other processes appended; a partial last line is torn (no
    /// writer can be in the middle of a write), so set it aside.
    fn catch_up_locked(&mut self) -> Result<(), HistoryError> {
        if !self.offset_still_valid()? {
            self.reset();
            self.load_body(None, &|_| {})?;
        }
        let len = self.file_len()?;
        let (_, tail) = self.read_new_lines(len)?;
        // Everything is read now (a partially opened store is complete from here on).
        self.fully_loaded = true;
        if !tail.is_empty() {
            self.repair_tail_locked(&tail)?;
        }
        Ok(())
    }

    /// Appends raw bytes, synced; on failure cuts the file back to `keep_len` bytes.
    fn write_raw(&mut self, bytes: &[u8], keep_len: u64) -> Result<(), HistoryError> {
        file::write_raw(&self.file, &self.path, bytes, keep_len)
    }

    /// Appends whole lines (caller holds the lock and has caught up, so the file ends at
    /// `self.offset`). A failed write is cut off, so the next append starts on a fresh line.
    fn write_locked(&mut self, buf: &[u8], lines: usize) -> Result<(), HistoryError> {
        self.write_raw(buf, self.offset)?;
        self.offset += buf.len() as u64;
        self.lines_read += lines;
        Ok(())
    }

    /// Reads complete lines from `self.offset` to `len`, applying them. Returns the number of
    /// lines applied and the bytes after the last '\n'.
    fn read_new_lines(&mut self, len: u64) -> Result<(usize, Vec<u8>), HistoryError> {
        if len <= self.offset {
            return Ok((0, Vec::new()));
        }
        let mut applied = 0usize;
        let mut bad: Vec<(usize, String, Vec<u8>)> = Vec::new();
        let file = self
            .file
            .try_clone()
            .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))?;
        let start = self.offset;
        let tail = read_lines(&file, start, len, |chunk, done| {
            let chunk_start = done - chunk.len() as u64;
            let parsed = parse_chunk(chunk);
            for (range, p) in parsed {
                self.lines_read += 1;
                self.report.lines += 1;
                let line_no = self.lines_read;
                if let Parsed::Bad(reason) = &p {
                    bad.push((line_no, reason.clone(), chunk[range.clone()].to_vec()));
                }
                if self.apply(p, line_no, loc_of(chunk_start, &range)) {
                    applied += 1;
                }
            }
            self.offset += chunk.len() as u64;
            self.report.bytes += chunk.len() as u64;
        })
        .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))?;
        if applied > 0 {
            self.generation = next_generation();
        }
        self.report.records = self.jobs.len();
        if !bad.is_empty() {
            self.quarantine_or_warn(&bad);
        }
        Ok((applied, tail))
    }

    /// Applies one parsed line to the in-memory state, counting it in the report. Returns true
    /// if it changed anything.
    fn apply(&mut self, parsed: Parsed, line_no: usize, loc: Option<Loc>) -> bool {
        match parsed {
            Parsed::Blank => false,
            Parsed::Bad(reason) => {
                self.report.quarantined.push(QuarantinedLine {
                    line: line_no,
                    reason,
                });
                false
            }
            Parsed::Record(r) => match self.jobs.record_line(r, loc, line_no) {
                RecordLine::Added => true,
                RecordLine::Updated { changed } => {
                    self.report.updates += 1;
                    changed
                }
            },
            Parsed::Delete(job_id) => {
                self.report.tombstones += 1;
                self.jobs.delete_line(&job_id).is_some()
            }
            Parsed::Foreign {
                job_id,
                reason,
                line,
            } => {
                self.report.foreign.push(ForeignLine {
                    line: line_no,
                    job_id: job_id.clone(),
                    reason,
                });
                self.jobs.foreign_line(job_id, line, line_no);
                false
            }
        }
    }

    fn reset(&mut self) {
        self.jobs.clear();
        self.offset = 0;
        self.lines_read = 0;
        self.report = LoadReport {
            read_only: self.read_only,
            ..LoadReport::default()
        };
        self.generation = next_generation();
    }

    /// Opens the file at our path again (another process replaced it) and reads it in full.
    fn reopen(&mut self) -> Result<(), HistoryError> {
        self.switch_file()?;
        self.read_contents()
    }

    /// Opens the file now at our path (another process replaced ours); its contents are read
    /// by [`HistoryStore::read_contents`] (under its lock, by `acquire`).
    fn switch_file(&mut self) -> Result<(), HistoryError> {
        let (file, read_only) = if self.inspect_only {
            (open_existing_read_only(&self.path)?, true)
        } else {
            open_handle(&self.path)?
        };
        self.file = file;
        self.read_only = read_only;
        self.stale = true;
        Ok(())
    }

    /// Reads the current file from the start (the records of a replaced file are gone).
    fn read_contents(&mut self) -> Result<(), HistoryError> {
        self.stale = false;
        if self.append_only {
            // Only new lines matter to an append-only store: keep the records (their lines
            // were in the old file) and start at the end again.
            self.jobs.forget_lines();
            self.offset = 0;
            self.lines_read = 0;
            self.report = LoadReport {
                read_only: self.read_only,
                ..LoadReport::default()
            };
            self.generation = next_generation();
            self.offset = self.last_line_end()?;
            self.lines_unknown = true;
            self.fully_loaded = true;
            return Ok(());
        }
        self.reset();
        self.fully_loaded = true;
        self.load_body(None, &|_| {})?;
        self.report.records = self.jobs.len();
        Ok(())
    }

    /// Reads every complete line of the file (from offset 0) without the lock: parallel
    /// parse per chunk, folded in order. The tail after the last '\n' is left unread.
    fn load_body(
        &mut self,
        limit: Option<u64>,
        progress: &(dyn Fn(LoadProgress) + Sync),
    ) -> Result<(), HistoryError> {
        let total = self.file_len()?;
        let total = limit.map_or(total, |l| total.min(l));
        self.report.read_only = self.read_only;
        let mut fold = Fold::default();
        let mut bad: Vec<(usize, String, Vec<u8>)> = Vec::new();
        let mut lines = 0usize;
        let mut consumed = 0u64;
        let report = &mut self.report;
        read_lines(&self.file, 0, total, |chunk, done| {
            let chunk_start = done - chunk.len() as u64;
            let parsed = parse_chunk(chunk);
            if fold.is_empty() && !parsed.is_empty() {
                // Size the vectors from the first chunk's average line length.
                let estimate = (total / (chunk.len() as u64 / parsed.len() as u64).max(1)) as usize;
                fold.reserve(estimate.min(1 << 24));
            }
            for (range, p) in parsed {
                lines += 1;
                match p {
                    Parsed::Blank => {}
                    Parsed::Record(r) => {
                        if fold.record(r, loc_of(chunk_start, &range), lines) {
                            report.updates += 1;
                        }
                    }
                    Parsed::Delete(id) => {
                        report.tombstones += 1;
                        fold.delete(&id);
                    }
                    Parsed::Foreign {
                        job_id,
                        reason,
                        line,
                    } => {
                        report.foreign.push(ForeignLine {
                            line: lines,
                            job_id: job_id.clone(),
                            reason,
                        });
                        fold.foreign(job_id, line, lines);
                    }
                    Parsed::Bad(reason) => {
                        bad.push((lines, reason.clone(), chunk[range].to_vec()));
                        report.quarantined.push(QuarantinedLine {
                            line: lines,
                            reason,
                        });
                    }
                }
            }
            consumed += chunk.len() as u64;
            progress(LoadProgress {
                bytes_done: done,
                bytes_total: total,
                records: fold.live(),
            });
        })
        .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))?;
        self.report.lines += lines;
        self.report.bytes += consumed;
        self.lines_read = lines;
        self.offset = consumed;
        self.jobs.install(fold);
        self.generation = next_generation();
        if !bad.is_empty() {
            self.quarantine_or_warn(&bad);
        }
        progress(LoadProgress {
            bytes_done: total,
            bytes_total: total,
            records: self.jobs.len(),
        });
        Ok(())
    }

    fn file_len(&self) -> Result<u64, HistoryError> {
        file::file_len(&self.file, &self.path)
    }

    /// The file still ends with what we read: it is at least `offset` long and has a '\n'
    /// just before `offset`.
    fn offset_still_valid(&self) -> Result<bool, HistoryError> {
        if self.offset == 0 {
            return Ok(true);
        }
        if self.file_len()? < self.offset {
            return Ok(false);
        }
        let mut byte = Vec::with_capacity(1);
        read_at(&self.file, self.offset - 1, &mut byte, 1)
            .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))?;
        Ok(byte == b"\n")
    }

    /// Our open handle still is the file at our path (not replaced by a compaction).
    fn same_file(&self) -> Result<bool, HistoryError> {
        file::is_same_file(&self.file, &self.path)
    }
}

/// The new record after a status change (see [`HistoryStore::set_status`]).
fn with_status(stored: &JobRecord, status: JobStatus) -> JobRecord {
    let mut r = stored.clone();
    r.status = status;
    let now = Utc::now();
    match status {
        JobStatus::Running => {
            if r.started_at.is_none() {
                r.started_at = Some(now);
            }
        }
        JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled => {
            if r.completed_at.is_none() {
                r.completed_at = Some(now);
            }
            if r.duration_ms.is_none()
                && let (Some(start), Some(end)) = (r.started_at, r.completed_at)
            {
                r.duration_ms = u64::try_from((end - start).num_milliseconds()).ok();
            }
        }
        JobStatus::Queued | JobStatus::Unknown => {}
    }
    r
}
