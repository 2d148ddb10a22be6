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

use crate::job_record::{JobRecord, JobStatus};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a write waits for another process to release the history lock.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes read (and parsed in parallel) per step of a load.
const CHUNK_BYTES: usize = 32 * 1024 * 1024;

/// A history store error, saying what failed and where. Every message reads as one line.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Any other I/O failure; `message` says which operation failed and why.
    #[error("{path}: {message}", path = .path.display())]
    Io { path: PathBuf, message: String },
    /// Another process held the history lock for longer than the timeout.
    #[error(
        "{path}: the history is locked by another promptdesk process (waited {secs:.1} s); nothing was written, try again",
        path = .path.display(), secs = .waited.as_secs_f64()
    )]
    Locked { path: PathBuf, waited: Duration },
    /// The disk (or quota) is full.
    #[error("{path}: the disk is full; the change was not saved (free some space and retry)", path = .path.display())]
    DiskFull { path: PathBuf },
    /// The history is read-only (file or file system); loads work, writes do not.
    #[error("{path}: the history is read-only; the change was not saved", path = .path.display())]
    ReadOnly { path: PathBuf },
    /// The operating system refused access.
    #[error("{path}: permission denied (cannot {op})", path = .path.display())]
    PermissionDenied { path: PathBuf, op: &'static str },
    /// A part of the path that should be a folder is a regular file.
    #[error("{path}: cannot {op}: a part of this path is a file, not a folder", path = .path.display())]
    NotAFolder { path: PathBuf, op: &'static str },
    /// `append`/`restore` of a job id the history already has.
    #[error("{path}: job {job_id} is already in the history", path = .path.display())]
    DuplicateJobId { path: PathBuf, job_id: String },
    /// `update`/`delete`/`set_status`/`cancel` of a job id the history does not have.
    #[error("{path}: there is no job {job_id} in the history", path = .path.display())]
    UnknownJob { path: PathBuf, job_id: String },
    /// `cancel` of a job that is no longer queued.
    #[error("job {job_id} is {status}; only a queued job can be cancelled")]
    NotCancellable { job_id: String, status: JobStatus },
    /// The history path is not a regular file (a folder, a device, a FIFO, a link to one).
    #[error("{path}: this is {what}, not a history file; promptdesk keeps its history in a regular file", path = .path.display())]
    NotAFile { path: PathBuf, what: String },
    /// There is no history file yet (only from [`HistoryStore::open_read_only`], which never
    /// creates one).
    #[error("{path}: there is no history yet", path = .path.display())]
    NoHistory { path: PathBuf },
    /// Other processes kept replacing the file (compacting it) for the whole lock timeout.
    #[error(
        "{path}: the history kept being replaced by other promptdesk processes compacting it (waited {secs:.1} s); nothing was written, try again",
        path = .path.display(), secs = .waited.as_secs_f64()
    )]
    Busy { path: PathBuf, waited: Duration },
    /// A record that cannot be stored (empty id, a value JSON cannot carry, ...).
    #[error("{path}: job {job_id:?} cannot be stored: {reason}", path = .path.display())]
    InvalidRecord {
        path: PathBuf,
        job_id: String,
        reason: String,
    },
}

impl HistoryError {
    /// True for failures that go away by themselves (another process held the lock or kept
    /// replacing the file): retrying later succeeds.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            HistoryError::Locked { .. } | HistoryError::Busy { .. }
        )
    }

    /// Maps an I/O error of operation `op` ("append to the history", ...) on `path` to a
    /// clear error: a full disk, a read-only file system, a refused permission and a file
    /// where a folder should be get their own variants.
    pub fn from_io(path: &Path, op: &'static str, err: io::Error) -> HistoryError {
        let path = path.to_path_buf();
        match err.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                HistoryError::DiskFull { path }
            }
            io::ErrorKind::ReadOnlyFilesystem => HistoryError::ReadOnly { path },
            io::ErrorKind::PermissionDenied => HistoryError::PermissionDenied { path, op },
            io::ErrorKind::NotADirectory => HistoryError::NotAFolder { path, op },
            _ => HistoryError::Io {
                path,
                message: format!("cannot {op}: {err}"),
            },
        }
    }
}

/// Load progress, reported once per chunk read (a few tens of MiB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadProgress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Live records so far.
    pub records: usize,
}

/// A damaged line that was skipped (and copied into the quarantine file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedLine {
    /// 1-based line number in the history file.
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for QuarantinedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What loading the history found. Lines read later (by [`HistoryStore::reload`] or before a
/// write) are added to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    /// Lines read (including blank and damaged ones).
    pub lines: usize,
    /// Live records after the load.
    pub records: usize,
    /// Bytes read.
    pub bytes: u64,
    /// Lines that replaced an earlier snapshot of the same job.
    pub updates: usize,
    /// Delete lines.
    pub tombstones: usize,
    /// Damaged lines that were skipped, in file order.
    pub quarantined: Vec<QuarantinedLine>,
    /// A torn last line (no trailing newline, not valid JSON) was set aside. It is also listed
    /// in `quarantined`.
    pub torn_tail: bool,
    /// The file could only be opened for reading.
    pub read_only: bool,
    /// Problems that did not stop the load (e.g. the quarantine file could not be written).
    pub warnings: Vec<String>,
    /// Line numbers of damaged lines that are NOT in the quarantine file (writing it failed, or
    /// the store was opened read-only): they stay in the history, untouched.
    pub not_quarantined: Vec<usize>,
    /// Lines of another (newer) version that this one cannot read: kept in the history as they
    /// are (compact keeps them too), not counted as damage.
    pub foreign: Vec<ForeignLine>,
}

/// A line another version wrote for a job that this version cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignLine {
    /// 1-based line number in the history file.
    pub line: usize,
    pub job_id: String,
    /// Why this version cannot read it.
    pub reason: String,
}

/// Reads lines of the old file for a compaction, through a window of a few MiB (the lines
/// come mostly in file order).
struct RawLines<'a> {
    file: &'a File,
    buf: Vec<u8>,
    start: u64,
}

impl<'a> RawLines<'a> {
    const WINDOW: usize = 4 << 20;

    fn new(file: &'a File) -> RawLines<'a> {
        RawLines {
            file,
            buf: Vec::new(),
            start: 0,
        }
    }

    fn line(&mut self, loc: Loc) -> io::Result<&[u8]> {
        let end = loc.offset + loc.len;
        let have = self.start + self.buf.len() as u64;
        if loc.offset < self.start || end > have {
            self.buf.clear();
            self.start = loc.offset;
            let want = usize::try_from(loc.len)
                .unwrap_or(usize::MAX)
                .max(Self::WINDOW);
            read_at(self.file, loc.offset, &mut self.buf, want)?;
            if (self.buf.len() as u64) < loc.len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the history is shorter than what was read from it",
                ));
            }
        }
        let from = (loc.offset - self.start) as usize;
        Ok(&self.buf[from..from + loc.len as usize])
    }
}

/// One line a compaction writes.
enum Item {
    Record(usize),
    Foreign(usize),
}

/// A foreign line kept in memory so that compaction writes it back.
#[derive(Debug, Clone)]
struct KeptLine {
    /// Written before the job with this sequence number (the slots allocated before it).
    before_seq: u64,
    job_id: String,
    bytes: Box<[u8]>,
    /// Its line number in the file.
    line: usize,
}

impl LoadReport {
    /// True when a damaged line was found (skipped or torn).
    pub fn is_damaged(&self) -> bool {
        self.torn_tail || !self.quarantined.is_empty()
    }
}

/// What [`HistoryStore::compact`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// Records written (one line each).
    pub records: usize,
    /// Lines of other versions kept as they were (see [`LoadReport::foreign`]).
    pub foreign_kept: usize,
    /// Temp files of killed compactions or exports that were removed.
    pub stale_temps_removed: usize,
    pub lines_before: usize,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// A delete line.
#[derive(Debug, Serialize, Deserialize)]
struct Tombstone {
    op: String,
    job_id: String,
    #[serde(default)]
    at: Option<DateTime<Utc>>,
}

const TOMBSTONE_PREFIX: &[u8] = b"{\"op\":";

/// One parsed line.
#[allow(clippy::large_enum_variant)]
enum Parsed {
    Blank,
    Record(JobRecord),
    Delete(String),
    /// A JSON object with a `job_id` that this version cannot read (another version's record
    /// or operation): kept in the file as it is, never quarantined or dropped.
    Foreign {
        job_id: String,
        reason: String,
        line: Box<[u8]>,
    },
    Bad(String),
}

fn parse_tombstone(line: &[u8]) -> Result<String, String> {
    match serde_json::from_slice::<Tombstone>(line) {
        Ok(t) if t.op == "delete" && !t.job_id.is_empty() => Ok(t.job_id),
        Ok(t) if t.op != "delete" => Err(format!("unknown operation {:?}", t.op)),
        Ok(_) => Err("delete line without a job_id".to_owned()),
        Err(e) => Err(describe_json_error(line, &e)),
    }
}

fn describe_json_error(line: &[u8], err: &serde_json::Error) -> String {
    if let Err(e) = std::str::from_utf8(line) {
        return format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1);
    }
    match err.classify() {
        serde_json::error::Category::Data => format!("not a job record: {err}"),
        _ => format!("malformed JSON: {err}"),
    }
}

/// The UTF-8 byte order mark some editors (Windows Notepad) put before the first line.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn parse_line(line: &[u8]) -> Parsed {
    let mut trimmed = line.trim_ascii();
    if let Some(rest) = trimmed.strip_prefix(BOM) {
        trimmed = rest.trim_ascii();
    }
    if trimmed.is_empty() {
        return Parsed::Blank;
    }
    if trimmed.starts_with(TOMBSTONE_PREFIX) {
        return match parse_tombstone(trimmed) {
            Ok(id) => Parsed::Delete(id),
            Err(reason) => foreign_or_bad(trimmed, reason),
        };
    }
    match JobRecord::from_json_line(trimmed) {
        Ok(r) if r.job_id.trim().is_empty() => Parsed::Bad("the job_id is empty".to_owned()),
        Ok(r) => Parsed::Record(r),
        Err(e) => match parse_tombstone(trimmed) {
            // A delete line written with other spacing or key order.
            Ok(id) => Parsed::Delete(id),
            Err(_) => foreign_or_bad(trimmed, describe_json_error(trimmed, &e)),
        },
    }
}

/// The `job_id` of a line that is a JSON object with one (a non-empty string, or a number),
/// whatever else it holds.
fn job_id_of(line: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct IdOnly {
        job_id: serde_json::Value,
    }
    if !line.starts_with(b"{") {
        return None;
    }
    match serde_json::from_slice::<IdOnly>(line).ok()?.job_id {
        serde_json::Value::String(id) if !id.trim().is_empty() => Some(id),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// True when `raw` is a line of the job `job_id` (checked cheaply, then by parsing its id).
fn line_is_job(raw: &[u8], job_id: &str) -> bool {
    if !raw.starts_with(b"{") {
        return false;
    }
    let quoted = format!("\"job_id\":{}", serde_json::Value::from(job_id));
    if memchr::memmem::find(raw, quoted.as_bytes()).is_some() {
        return true;
    }
    job_id_of(raw).as_deref() == Some(job_id)
}

/// A line this version cannot read: another version's (a JSON object with a `job_id`, kept as
/// it is) or damaged.
fn foreign_or_bad(line: &[u8], reason: String) -> Parsed {
    match job_id_of(line) {
        Some(job_id) => Parsed::Foreign {
            job_id,
            reason,
            line: line.into(),
        },
        None => Parsed::Bad(reason),
    }
}

/// Parses the complete lines of `chunk` (which ends with '\n') in parallel, in order.
fn parse_chunk(chunk: &[u8]) -> Vec<(std::ops::Range<usize>, Parsed)> {
    let mut ranges = Vec::with_capacity(chunk.len() / 512 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', chunk) {
        ranges.push(start..end);
        start = end + 1;
    }
    ranges
        .into_par_iter()
        .with_min_len(64)
        .map(|r| {
            let parsed = parse_line(&chunk[r.clone()]);
            (r, parsed)
        })
        .collect()
}

/// Keeps the prompt origin of `old` in `new` (an update never changes where a prompt came
/// from).
fn keep_origin(new: &mut JobRecord, old: &JobRecord) -> bool {
    let changed = new.prompt_source != old.prompt_source
        || new.prompt_pack_id != old.prompt_pack_id
        || new.prompt_keys != old.prompt_keys
        || new.run_config.prompt_source != old.run_config.prompt_source
        || new.run_config.prompt_pack_id != old.run_config.prompt_pack_id
        || new.run_config.prompt_keys != old.run_config.prompt_keys;
    if !changed {
        return false;
    }
    new.prompt_source = old.prompt_source;
    new.prompt_pack_id.clone_from(&old.prompt_pack_id);
    new.prompt_keys.clone_from(&old.prompt_keys);
    let (nc, oc) = (&mut new.run_config, &old.run_config);
    nc.prompt_source = oc.prompt_source;
    nc.prompt_pack_id.clone_from(&oc.prompt_pack_id);
    nc.prompt_keys.clone_from(&oc.prompt_keys);
    true
}

/// Where a record's last line is in the file: compaction copies that line unchanged (every
/// value exactly as written, whichever version wrote it) instead of serialising the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc {
    offset: u64,
    len: u64,
}

/// The location of `range` (a line without its '\n') of a chunk that starts at `chunk_start`.
fn loc_of(chunk_start: u64, range: &std::ops::Range<usize>) -> Option<Loc> {
    Some(Loc {
        offset: chunk_start + range.start as u64,
        len: range.len() as u64,
    })
}

/// A process-wide counter so that generations never repeat, even across stores.
static GENERATION: AtomicU64 = AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// Reads `len` bytes at `pos` (fewer at end of file).
fn read_at(file: &File, pos: u64, buf: &mut Vec<u8>, len: usize) -> io::Result<usize> {
    let mut f = file;
    let before = buf.len();
    let mut attempts = 0;
    loop {
        let result = f
            .seek(SeekFrom::Start(pos))
            .and_then(|_| f.take(len as u64).read_to_end(buf));
        match result {
            Ok(_) => return Ok(buf.len() - before),
            // Windows locks are mandatory: a writer in another process holds the file for a
            // moment (ERROR_LOCK_VIOLATION). Wait for it.
            Err(e) if cfg!(windows) && e.raw_os_error() == Some(33) && attempts < 400 => {
                buf.truncate(before);
                attempts += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Reads `file[start..end]` in chunks cut after a '\n' and hands each chunk of complete lines
/// to `on_chunk(chunk, bytes_done)`. Returns the bytes after the last '\n' (the tail).
fn read_lines(
    file: &File,
    start: u64,
    end: u64,
    mut on_chunk: impl FnMut(&[u8], u64),
) -> io::Result<Vec<u8>> {
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = start;
    while pos < end {
        let want = usize::try_from(end - pos)
            .unwrap_or(usize::MAX)
            .min(CHUNK_BYTES);
        buf.reserve(want);
        let got = read_at(file, pos, &mut buf, want)?;
        if got == 0 {
            break; // the file shrank while we read it
        }
        pos += got as u64;
        if let Some(last) = memchr::memrchr(b'\n', &buf) {
            on_chunk(&buf[..=last], pos - (buf.len() - last - 1) as u64);
            buf.drain(..=last);
        }
    }
    Ok(buf)
}

/// Folds the lines of a full load: slots in first-appearance order, deleted ones flagged.
#[derive(Default)]
struct Fold {
    records: Vec<JobRecord>,
    dead: Vec<bool>,
    slot_of: HashMap<String, usize>,
    live: usize,
    foreign: Vec<KeptLine>,
    /// Per slot: where its last line is.
    locs: Vec<Option<Loc>>,
    /// Jobs with foreign lines -> the line number of their last readable line after the first
    /// of them (0 if none).
    foreign_last: HashMap<String, usize>,
}

impl Fold {
    fn record(
        &mut self,
        mut r: JobRecord,
        mut loc: Option<Loc>,
        line: usize,
        report: &mut LoadReport,
    ) {
        if let Some(last) = self.foreign_last.get_mut(r.job_id.as_str()) {
            *last = line;
        }
        match self.slot_of.get(r.job_id.as_str()) {
            Some(&slot) => {
                if self.dead[slot] {
                    self.dead[slot] = false;
                    self.live += 1;
                } else {
                    if keep_origin(&mut r, &self.records[slot]) {
                        loc = None;
                    }
                    report.updates += 1;
                }
                self.records[slot] = r;
                self.locs[slot] = loc;
            }
            None => {
                self.slot_of.insert(r.job_id.clone(), self.records.len());
                self.records.push(r);
                self.locs.push(loc);
                self.dead.push(false);
                self.live += 1;
            }
        }
    }

    fn foreign(&mut self, job_id: String, bytes: Box<[u8]>, line: usize) {
        self.foreign_last.entry(job_id.clone()).or_insert(0);
        self.foreign.push(KeptLine {
            before_seq: self.dead.len() as u64,
            job_id,
            bytes,
            line,
        });
    }

    fn delete(&mut self, job_id: &str) {
        // A delete ends the job for every version: its foreign lines so far go with it.
        if self.foreign_last.remove(job_id).is_some() {
            self.foreign.retain(|f| f.job_id != job_id);
        }
        if let Some(&slot) = self.slot_of.get(job_id)
            && !self.dead[slot]
        {
            self.dead[slot] = true;
            self.live -= 1;
        }
    }
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
    /// Live records, in submission order.
    records: Vec<JobRecord>,
    /// Submission sequence number of each record (strictly increasing).
    seqs: Vec<u64>,
    /// job_id -> index into `records`.
    index: HashMap<String, usize>,
    /// job_id -> sequence number of deleted jobs (so a restore goes back to its place).
    deleted: HashMap<String, u64>,
    next_seq: u64,
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
    /// Bumped when an existing record changes or moves (anything but jobs added at the end).
    edits: u64,
    /// Lines of other versions this one cannot read, kept for compaction, in file order.
    foreign: Vec<KeptLine>,
    /// Opened with [`HistoryStore::open_read_only`]: nothing is ever written (not even the
    /// quarantine file).
    inspect_only: bool,
    /// Opened with [`HistoryStore::open_append_only`]: a file replaced by a compaction is not
    /// read again in full, only from its end.
    append_only: bool,
    /// `lines_read` does not count the lines before `offset` (an append-only store).
    lines_unknown: bool,
    /// Per record (same index as `records`): where its last line is in the file, if the record
    /// is exactly that line (not when an origin was kept from an earlier line).
    locs: Vec<Option<Loc>>,
    /// Jobs with foreign lines -> the line number of their last readable line after the first
    /// of them (0 if none): compaction keeps a job's lines in that order.
    foreign_last: HashMap<String, usize>,
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
        let path = resolve_history_path(path.as_ref())?;
        if inspect_only && !path.exists() {
            return Err(HistoryError::NoHistory { path });
        }
        if let Some(dir) = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty() && !inspect_only)
        {
            let op = "create the data folder";
            super::private_fs::create_private_dir_all(dir).map_err(|e| {
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
            records: Vec::new(),
            seqs: Vec::new(),
            index: HashMap::new(),
            deleted: HashMap::new(),
            next_seq: 0,
            offset: 0,
            lines_read: 0,
            generation: next_generation(),
            report: LoadReport::default(),
            unsaved_quarantine: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            fully_loaded: true,
            edits: 0,
            foreign: Vec::new(),
            inspect_only,
            append_only: false,
            lines_unknown: false,
            locs: Vec::new(),
            foreign_last: HashMap::new(),
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
        store.report.records = store.records.len();
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
        let mut end = len;
        let mut window = 64 * 1024u64;
        while end > 0 {
            let start = end.saturating_sub(window);
            let mut buf = Vec::new();
            let want = usize::try_from(end - start).unwrap_or(usize::MAX);
            read_at(&self.file, start, &mut buf, want)
                .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))?;
            if let Some(i) = memchr::memrchr(b'\n', &buf) {
                return Ok(start + i as u64 + 1);
            }
            end = start;
            window = window.saturating_mul(2);
        }
        Ok(0)
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
                self.report.records = self.records.len();
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
            records: self.records.len(),
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
        &self.records
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The job with this id.
    pub fn get(&self, job_id: &str) -> Option<&JobRecord> {
        self.index.get(job_id).map(|&i| &self.records[i])
    }

    /// Index of the job with this id in [`HistoryStore::records`].
    pub fn position(&self, job_id: &str) -> Option<usize> {
        self.index.get(job_id).copied()
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
        self.edits
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
            if let Some(r) = records.iter().find(|r| s.index.contains_key(&r.job_id)) {
                return Err(s.duplicate(&r.job_id));
            }
            let base = s.offset;
            s.write_locked(&buf, records.len())?;
            for (r, &(start, end)) in records.iter().zip(&spans) {
                let loc = Loc {
                    offset: base + start as u64,
                    len: (end - start) as u64,
                };
                s.insert_new(r.clone(), Some(loc));
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
            if !s.index.contains_key(job_id) {
                return Err(s.unknown(job_id));
            }
            let line = serde_json::to_string(&Tombstone {
                op: "delete".to_owned(),
                job_id: job_id.to_owned(),
                at: Some(Utc::now()),
            })
            .map_err(|e| s.invalid(job_id, e.to_string()))?;
            let mut buf = line.into_bytes();
            buf.push(b'\n');
            s.write_locked(&buf, 1)?;
            s.drop_foreign(job_id);
            let removed = s.remove_live(job_id);
            s.generation = next_generation();
            removed.ok_or_else(|| s.unknown(job_id))
        })
    }

    /// Undoes a [`delete`](Self::delete): writes the record again; it goes back to its old
    /// place in the list. Fails with `DuplicateJobId` if the job is not deleted.
    pub fn restore(&mut self, record: &JobRecord) -> Result<(), HistoryError> {
        self.append(record)
    }

    /// Applies the lines other processes appended since this store last read (reading only
    /// the new bytes; a file replaced by another process's compaction is read again in
    /// full). Returns the number of lines applied (or, after a full re-read, records loaded).
    /// Takes no lock: a line still being written is left for the next call.
    pub fn reload(&mut self) -> Result<usize, HistoryError> {
        if self.stale {
            self.read_contents()?;
            return Ok(self.records.len());
        }
        if !self.same_file()? || !self.offset_still_valid()? {
            self.reopen()?;
            return Ok(self.records.len());
        }
        let len = self.file_len()?;
        let (applied, _tail) = self.read_new_lines(len)?;
        Ok(applied)
    }

    /// Rewrites the file with one line per live job (dropping old snapshots, delete lines and
    /// damaged lines, which are in the quarantine file), atomically: a temp file in the same
    /// folder, fsync, rename over the history, fsync of the folder. Other processes notice
    /// and re-read.
    pub fn compact(&mut self) -> Result<CompactReport, HistoryError> {
        if self.unsaved_quarantine {
            return Err(HistoryError::Io {
                path: self.quarantine_path.clone(),
                message: "cannot compact: damaged lines could not be saved to this quarantine file earlier, and compacting would drop them".to_owned(),
            });
        }
        if self.append_only {
            // It never read the old records: read everything (under the lock) first.
            self.append_only = false;
            self.stale = true;
        }
        self.acquire()?;
        let result = self.compact_locked();
        if result.is_err() {
            let _ = self.file.unlock();
        }
        result
    }

    fn compact_locked(&mut self) -> Result<CompactReport, HistoryError> {
        // A history linked into another folder (a synced or backup folder) is compacted where
        // it really is, and the link stays a link.
        let target = fs::canonicalize(&self.path)
            .map_err(|e| HistoryError::from_io(&self.path, "find the history file", e))?;
        let dir = target
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let stale_temps_removed = self.remove_stale_temps_locked();
        let tmp = crate::fsutil::temp_path_for(&target)
            .map_err(|e| HistoryError::from_io(&target, "write the compacted history", e))?;
        let op = "write the compacted history";
        // create_new never follows a link; 0600 until the history's own mode is copied.
        let new_file = super::private_fs::safe_options(true)
            .read(true)
            .append(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| HistoryError::from_io(&tmp, op, e))?;
        // Held while writing, so a temp cleaner in another process leaves this file alone;
        // once renamed, it is the lock on the new history until we are done.
        let _ = new_file.try_lock();
        let order = self.compaction_order();
        let mut new_locs: Vec<Option<Loc>> = vec![None; self.records.len()];
        let written = (|| -> io::Result<u64> {
            let mut w = BufWriter::with_capacity(1 << 20, &new_file);
            let mut bytes = 0u64;
            let mut line = Vec::with_capacity(2048);
            let mut old = RawLines::new(&self.file);
            for item in &order {
                line.clear();
                match *item {
                    Item::Record(i) => match self.locs[i] {
                        // The record is exactly its last line: copy it, every value as written.
                        Some(loc) => {
                            let raw = old.line(loc)?;
                            let mut raw = raw.trim_ascii();
                            if let Some(rest) = raw.strip_prefix(BOM) {
                                raw = rest.trim_ascii();
                            }
                            if line_is_job(raw, &self.records[i].job_id) {
                                line.extend_from_slice(raw);
                            } else {
                                // Not what was read there (changed behind our back): write
                                // the record as this version knows it.
                                serde_json::to_writer(&mut line, &self.records[i])
                                    .map_err(io::Error::other)?;
                            }
                        }
                        None => serde_json::to_writer(&mut line, &self.records[i])
                            .map_err(io::Error::other)?,
                    },
                    Item::Foreign(i) => line.extend_from_slice(&self.foreign[i].bytes),
                }
                if let Item::Record(i) = *item {
                    new_locs[i] = Some(Loc {
                        offset: bytes,
                        len: line.len() as u64,
                    });
                }
                line.push(b'\n');
                w.write_all(&line)?;
                bytes += line.len() as u64;
            }
            w.flush()?;
            drop(w);
            // Keep the history's permissions (best effort).
            if let Ok(meta) = self.file.metadata() {
                let _ = new_file.set_permissions(meta.permissions());
            }
            new_file.sync_all()?;
            Ok(bytes)
        })();
        let bytes_after = match written {
            Ok(b) => b,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(HistoryError::from_io(&self.path, op, e));
            }
        };
        if let Err(e) = fs::rename(&tmp, &target) {
            let _ = fs::remove_file(&tmp);
            return Err(HistoryError::from_io(
                &self.path,
                "replace the history with its compacted copy",
                e,
            ));
        }
        sync_dir(&dir);
        let report = CompactReport {
            records: self.records.len(),
            foreign_kept: self.foreign.len(),
            stale_temps_removed,
            lines_before: self.lines_read,
            bytes_before: self.offset,
            bytes_after,
        };
        // The new file is ours now; the old handle (locked) goes.
        let old = std::mem::replace(&mut self.file, new_file);
        let _ = old.unlock();
        drop(old);
        let _ = self.file.unlock();
        self.offset = bytes_after;
        self.lines_read = order.len();
        self.seqs = (0..self.records.len() as u64).collect();
        self.next_seq = self.records.len() as u64;
        self.locs = new_locs;
        // Renumber: the foreign lines in their new order, with their new places and lines.
        let mut records_before = 0u64;
        let mut foreign = Vec::with_capacity(self.foreign.len());
        let mut old_foreign: Vec<Option<KeptLine>> = std::mem::take(&mut self.foreign)
            .into_iter()
            .map(Some)
            .collect();
        for (n, item) in order.iter().enumerate() {
            match *item {
                Item::Record(i) => {
                    records_before += 1;
                    if let Some(last) = self.foreign_last.get_mut(self.records[i].job_id.as_str()) {
                        *last = n + 1;
                    }
                }
                Item::Foreign(f) => {
                    if let Some(mut kept) = old_foreign[f].take() {
                        kept.before_seq = records_before;
                        kept.line = n + 1;
                        foreign.push(kept);
                    }
                }
            }
        }
        self.foreign = foreign;
        self.deleted.clear();
        Ok(report)
    }

    /// The lines a compaction writes: every live record in submission order, with the foreign
    /// lines of other versions at their places among them.
    ///
    /// For every version, the last line of a job must stay the last: a job's foreign lines
    /// that came before its last readable line are written just before its record line; the
    /// others keep their place after it.
    fn compaction_order(&self) -> Vec<Item> {
        let mut order = Vec::with_capacity(self.records.len() + self.foreign.len());
        let mut early: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut is_early = vec![false; self.foreign.len()];
        for (k, f) in self.foreign.iter().enumerate() {
            if self
                .foreign_last
                .get(f.job_id.as_str())
                .is_some_and(|&last| last > f.line)
                && self.index.contains_key(f.job_id.as_str())
            {
                early.entry(f.job_id.as_str()).or_default().push(k);
                is_early[k] = true;
            }
        }
        let mut f = 0;
        for (i, &seq) in self.seqs.iter().enumerate() {
            while f < self.foreign.len() && self.foreign[f].before_seq <= seq {
                if !is_early[f] {
                    order.push(Item::Foreign(f));
                }
                f += 1;
            }
            if let Some(lines) = early.get(self.records[i].job_id.as_str()) {
                order.extend(lines.iter().map(|&k| Item::Foreign(k)));
            }
            order.push(Item::Record(i));
        }
        order.extend(
            (f..self.foreign.len())
                .filter(|&k| !is_early[k])
                .map(Item::Foreign),
        );
        order
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
            let Some(&i) = s.index.get(job_id) else {
                return Err(s.unknown(job_id));
            };
            let mut new = change(&s.records[i])?;
            new.job_id = job_id.to_owned();
            if new == s.records[i] {
                return Ok(());
            }
            let mut buf = Vec::with_capacity(2048);
            s.encode_into(&new, &mut buf)?;
            let loc = Loc {
                offset: s.offset,
                len: buf.len() as u64 - 1,
            };
            s.write_locked(&buf, 1)?;
            s.records[i] = new;
            s.locs[i] = Some(loc);
            s.edits += 1;
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
            match lock_with_timeout(&self.file, &self.path, remaining) {
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

    /// Handles the bytes after the last '\n' while holding the lock: a complete record just
    /// gets its newline; anything else goes to quarantine and is cut off.
    fn repair_tail_locked(&mut self, tail: &[u8]) -> Result<(), HistoryError> {
        if self.lines_unknown {
            // An append-only store skipped the old lines: count them now (rare: only for a
            // repair), so the quarantine names the right line.
            self.lines_read = self.count_lines_before(self.offset)?;
            self.lines_unknown = false;
        }
        let line_no = self.lines_read + 1;
        let parsed = parse_line(tail);
        if matches!(
            parsed,
            Parsed::Record(_) | Parsed::Delete(_) | Parsed::Foreign { .. }
        ) {
            self.write_raw(b"\n", self.offset + tail.len() as u64)?;
            self.offset += tail.len() as u64 + 1;
            self.lines_read += 1;
            self.report.lines += 1;
            self.report.bytes += tail.len() as u64 + 1;
            let loc = Loc {
                offset: self.offset - tail.len() as u64 - 1,
                len: tail.len() as u64,
            };
            self.apply(parsed, line_no, Some(loc));
            return Ok(());
        }
        if matches!(parsed, Parsed::Blank) {
            // Only whitespace: nothing to keep.
            return self
                .file
                .set_len(self.offset)
                .and_then(|()| self.file.sync_data())
                .map_err(|e| HistoryError::from_io(&self.path, "repair the last line", e));
        }
        let reason = match parsed {
            Parsed::Bad(reason) => format!("torn last line (a write was cut short): {reason}"),
            _ => "torn last line (a write was cut short)".to_owned(),
        };
        self.report.torn_tail = true;
        let saved = self.quarantine(&[(line_no, &reason, tail)]);
        self.report.quarantined.push(QuarantinedLine {
            line: line_no,
            reason,
        });
        match saved {
            Ok(_) => {
                // Only now that the bytes are safe: cut them off.
                self.file
                    .set_len(self.offset)
                    .and_then(|()| self.file.sync_data())
                    .map_err(|e| {
                        HistoryError::from_io(&self.path, "repair the torn last line", e)
                    })?;
            }
            Err(e) => {
                // Keep the bytes in the history, on a line of their own.
                self.report.warnings.push(format!(
                    "the torn last line (line {line_no}) could not be copied to the quarantine file, so it stays in the history: {e}"
                ));
                self.report.not_quarantined.push(line_no);
                self.unsaved_quarantine = true;
                self.write_raw(b"\n", self.offset + tail.len() as u64)?;
                self.offset += tail.len() as u64 + 1;
                self.lines_read += 1;
                self.report.lines += 1;
            }
        }
        Ok(())
    }

    /// Appends raw bytes, synced; on failure cuts the file back to `keep_len` bytes.
    fn write_raw(&mut self, bytes: &[u8], keep_len: u64) -> Result<(), HistoryError> {
        let result = (&self.file)
            .write_all(bytes)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = result {
            let _ = self.file.set_len(keep_len);
            let _ = self.file.sync_data();
            return Err(HistoryError::from_io(
                &self.path,
                "append to the history",
                e,
            ));
        }
        Ok(())
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
        self.report.records = self.records.len();
        if !bad.is_empty() {
            self.quarantine_or_warn(&bad);
        }
        Ok((applied, tail))
    }

    /// Applies one parsed line to the in-memory state. Returns true if it changed anything.
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
            Parsed::Record(mut r) => {
                if let Some(last) = self.foreign_last.get_mut(r.job_id.as_str()) {
                    *last = line_no;
                }
                if let Some(&i) = self.index.get(r.job_id.as_str()) {
                    let kept = keep_origin(&mut r, &self.records[i]);
                    self.locs[i] = if kept { None } else { loc };
                    self.report.updates += 1;
                    if self.records[i] != r {
                        self.records[i] = r;
                        self.edits += 1;
                        return true;
                    }
                    false
                } else {
                    self.insert_new(r, loc);
                    true
                }
            }
            Parsed::Delete(job_id) => {
                self.report.tombstones += 1;
                self.drop_foreign(&job_id);
                self.remove_live(&job_id).is_some()
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
                self.foreign_last.entry(job_id.clone()).or_insert(0);
                self.foreign.push(KeptLine {
                    before_seq: self.next_seq,
                    job_id,
                    bytes: line,
                    line: line_no,
                });
                false
            }
        }
    }

    /// Adds a job that is not live: back at its old place if it was deleted, else at the end.
    fn insert_new(&mut self, r: JobRecord, loc: Option<Loc>) {
        match self.deleted.remove(r.job_id.as_str()) {
            Some(seq) => {
                let pos = self.seqs.partition_point(|&s| s < seq);
                self.records.insert(pos, r);
                self.locs.insert(pos, loc);
                self.edits += 1;
                self.seqs.insert(pos, seq);
                self.reindex_from(pos);
            }
            None => {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.index.insert(r.job_id.clone(), self.records.len());
                self.records.push(r);
                self.locs.push(loc);
                self.seqs.push(seq);
            }
        }
    }

    /// Removes a live job from memory, remembering its place.
    fn remove_live(&mut self, job_id: &str) -> Option<JobRecord> {
        let i = self.index.remove(job_id)?;
        let r = self.records.remove(i);
        self.locs.remove(i);
        self.edits += 1;
        let seq = self.seqs.remove(i);
        self.deleted.insert(r.job_id.clone(), seq);
        self.reindex_from(i);
        Some(r)
    }

    /// A delete ends a job for every version: its foreign lines so far go with it.
    fn drop_foreign(&mut self, job_id: &str) {
        if self.foreign_last.remove(job_id).is_some() {
            self.foreign.retain(|f| f.job_id != job_id);
        }
    }

    fn reindex_from(&mut self, from: usize) {
        for (i, r) in self.records.iter().enumerate().skip(from) {
            if let Some(slot) = self.index.get_mut(r.job_id.as_str()) {
                *slot = i;
            } else {
                self.index.insert(r.job_id.clone(), i);
            }
        }
    }

    fn reset(&mut self) {
        self.edits += 1;
        self.records = Vec::new();
        self.seqs = Vec::new();
        self.index = HashMap::new();
        self.deleted = HashMap::new();
        self.foreign = Vec::new();
        self.locs = Vec::new();
        self.foreign_last = HashMap::new();
        self.next_seq = 0;
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
            // Only new lines matter to an append-only store: start at the end again.
            let (records, seqs, index) = (
                std::mem::take(&mut self.records),
                std::mem::take(&mut self.seqs),
                std::mem::take(&mut self.index),
            );
            let n = records.len();
            self.reset();
            (self.records, self.seqs, self.index) = (records, seqs, index);
            // Their lines were in the old file.
            self.locs = vec![None; n];
            self.next_seq = self.seqs.last().map_or(0, |s| s + 1);
            self.offset = self.last_line_end()?;
            self.lines_unknown = true;
            self.fully_loaded = true;
            return Ok(());
        }
        self.reset();
        self.fully_loaded = true;
        self.load_body(None, &|_| {})?;
        self.report.records = self.records.len();
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
            if fold.records.is_empty() && !parsed.is_empty() {
                // Size the vectors from the first chunk's average line length.
                let estimate = (total / (chunk.len() as u64 / parsed.len() as u64).max(1)) as usize;
                fold.records.reserve(estimate.min(1 << 24));
                fold.dead.reserve(estimate.min(1 << 24));
            }
            for (range, p) in parsed {
                lines += 1;
                match p {
                    Parsed::Blank => {}
                    Parsed::Record(r) => fold.record(r, loc_of(chunk_start, &range), lines, report),
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
                records: fold.live,
            });
        })
        .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))?;
        self.report.lines += lines;
        self.report.bytes += consumed;
        self.lines_read = lines;
        self.offset = consumed;
        self.finish_fold(fold);
        if !bad.is_empty() {
            self.quarantine_or_warn(&bad);
        }
        progress(LoadProgress {
            bytes_done: total,
            bytes_total: total,
            records: self.records.len(),
        });
        Ok(())
    }

    /// Turns the slots of a full load into the live list, its index and the deleted places.
    fn finish_fold(&mut self, fold: Fold) {
        let Fold {
            mut records,
            dead,
            mut slot_of,
            live: _,
            foreign,
            mut locs,
            foreign_last,
        } = fold;
        self.foreign = foreign;
        self.foreign_last = foreign_last;
        let mut pos_of_slot = Vec::with_capacity(dead.len());
        let mut seqs = Vec::with_capacity(records.len());
        let mut live = 0usize;
        for (slot, &d) in dead.iter().enumerate() {
            pos_of_slot.push(live);
            if !d {
                seqs.push(slot as u64);
                live += 1;
            }
        }
        let mut k = 0usize;
        records.retain(|_| {
            let keep = !dead[k];
            k += 1;
            keep
        });
        let mut k = 0usize;
        locs.retain(|_| {
            let keep = !dead[k];
            k += 1;
            keep
        });
        self.locs = locs;
        let mut deleted = HashMap::new();
        slot_of.retain(|id, slot| {
            if dead[*slot] {
                deleted.insert(id.clone(), *slot as u64);
                false
            } else {
                *slot = pos_of_slot[*slot];
                true
            }
        });
        self.next_seq = dead.len() as u64;
        self.records = records;
        self.edits += 1;
        self.seqs = seqs;
        self.index = slot_of;
        self.deleted = deleted;
        self.generation = next_generation();
    }

    /// After the lock-free load: deal with bytes after the last '\n' (a write in progress in
    /// another process, or a torn line). Writable: under the lock, which also repairs. A
    /// failure here never fails the open; it is noted in the report.
    fn finish_tail(&mut self) {
        if !self.read_only {
            match self.file_len() {
                Ok(len) if len == self.offset => return,
                _ => {}
            }
            match self.acquire() {
                Ok(()) => {
                    let _ = self.file.unlock();
                }
                Err(e) => self
                    .report
                    .warnings
                    .push(format!("the end of the history was not checked: {e}")),
            }
            return;
        }
        // Read-only: apply a complete last line, report a torn one, repair nothing.
        let Ok(len) = self.file_len() else { return };
        if len <= self.offset {
            return;
        }
        let mut tail = Vec::new();
        let want = usize::try_from(len - self.offset).unwrap_or(usize::MAX);
        if read_at(&self.file, self.offset, &mut tail, want).is_err() {
            return;
        }
        let line_no = self.lines_read + 1;
        match parse_line(&tail) {
            p @ (Parsed::Record(_) | Parsed::Delete(_) | Parsed::Foreign { .. }) => {
                let loc = Loc {
                    offset: self.offset,
                    len: tail.len() as u64,
                };
                self.offset += tail.len() as u64;
                self.lines_read += 1;
                self.report.lines += 1;
                self.report.bytes += tail.len() as u64;
                self.apply(p, line_no, Some(loc));
            }
            Parsed::Blank => {}
            Parsed::Bad(reason) => {
                self.report.torn_tail = true;
                self.report.quarantined.push(QuarantinedLine {
                    line: line_no,
                    reason: format!("torn last line (a write was cut short; not repaired, the history is read-only): {reason}"),
                });
            }
        }
    }

    /// Copies damaged lines `(line number, reason, bytes)` into the quarantine file, noting a
    /// failure in the report (the lines then stay in the history, listed in
    /// [`LoadReport::not_quarantined`]). A store opened read-only writes nothing.
    fn quarantine_or_warn(&mut self, lines: &[(usize, String, Vec<u8>)]) {
        let refs: Vec<(usize, &str, &[u8])> = lines
            .iter()
            .map(|(n, r, b)| (*n, r.as_str(), b.as_slice()))
            .collect();
        if self.inspect_only {
            self.report
                .not_quarantined
                .extend(lines.iter().map(|(n, _, _)| *n));
            return;
        }
        if let Err(e) = self.quarantine(&refs) {
            self.unsaved_quarantine = true;
            self.report
                .not_quarantined
                .extend(lines.iter().map(|(n, _, _)| *n));
            self.report.warnings.push(format!(
                "{} could not be copied to the quarantine file, so they stay in the history: {e}",
                if lines.len() == 1 {
                    "a damaged line".to_owned()
                } else {
                    format!("{} damaged lines", lines.len())
                }
            ));
        }
    }

    /// Appends damaged lines to the quarantine file, each verbatim on its own line after a
    /// header line saying when, from which line and why (see [`super::quarantine`]), leaving out
    /// lines it already holds; syncs it. Never follows a symbolic link. Returns how many lines
    /// were added.
    fn quarantine(&self, lines: &[(usize, &str, &[u8])]) -> Result<usize, HistoryError> {
        if self.inspect_only {
            return Err(HistoryError::ReadOnly {
                path: self.quarantine_path.clone(),
            });
        }
        let qpath = &self.quarantine_path;
        let op = "write the quarantine file";
        let mut existing = Vec::new();
        match super::private_fs::open_read_no_follow(qpath) {
            Ok(mut f) => {
                f.read_to_end(&mut existing)
                    .map_err(|e| HistoryError::from_io(qpath, "read the quarantine file", e))?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(HistoryError::from_io(qpath, "read the quarantine file", e)),
        }
        let mut known: HashSet<&[u8]> = existing.split(|&b| b == b'\n').collect();
        let mut buf = Vec::new();
        if !existing.is_empty() && !existing.ends_with(b"\n") {
            buf.push(b'\n');
        }
        let at = Utc::now();
        let mut added = 0;
        for &(line, reason, bytes) in lines {
            if known.insert(bytes) {
                super::quarantine::write_entry(&mut buf, at, line, reason, bytes);
                added += 1;
            }
        }
        if added == 0 {
            return Ok(0);
        }
        let mut f = super::private_fs::open_append_no_follow(qpath)
            .map_err(|e| HistoryError::from_io(qpath, op, e))?;
        f.write_all(&buf)
            .and_then(|()| f.sync_data())
            .map_err(|e| HistoryError::from_io(qpath, op, e))?;
        Ok(added)
    }

    /// The number of '\n' in the first `end` bytes of the file.
    fn count_lines_before(&self, end: u64) -> Result<usize, HistoryError> {
        let mut count = 0;
        let mut pos = 0u64;
        let mut buf = Vec::new();
        while pos < end {
            buf.clear();
            let want = usize::try_from(end - pos)
                .unwrap_or(usize::MAX)
                .min(CHUNK_BYTES);
            let got = read_at(&self.file, pos, &mut buf, want)
                .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))?;
            if got == 0 {
                break;
            }
            count += memchr::memchr_iter(b'\n', &buf).count();
            pos += got as u64;
        }
        Ok(count)
    }

    fn file_len(&self) -> Result<u64, HistoryError> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))
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
        let on_disk = match fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(HistoryError::from_io(&self.path, "read the history", e)),
        };
        let ours = self
            .file
            .metadata()
            .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Ok(ours.dev() == on_disk.dev() && ours.ino() == on_disk.ino())
        }
        #[cfg(not(unix))]
        {
            Ok(ours.len() == on_disk.len())
        }
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

/// `history.jsonl` -> `history.quarantine.jsonl` (same folder).
pub fn quarantine_path_for(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "history".to_owned());
    path.with_file_name(format!("{stem}.quarantine.jsonl"))
}

/// The history file for `path`: the file itself, or a folder meaning `folder/history.jsonl`.
/// A folder that is itself named like a history file (`history.jsonl/`) is an error, as is a
/// history path that exists but is not a regular file (after following links): a device, a
/// FIFO (never opened: it would block), a folder.
fn resolve_history_path(path: &Path) -> Result<PathBuf, HistoryError> {
    let mut path = path.to_path_buf();
    if path.is_dir() {
        let named_like_history = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
        if !named_like_history {
            path.push(crate::paths::HISTORY_FILE_NAME);
        }
    }
    match fs::metadata(&path) {
        Ok(meta) => {
            if let Some(what) = super::private_fs::describe_non_regular(&meta) {
                let what = match fs::read_link(&path) {
                    Ok(target) => format!("a link to {} ({what})", target.display()),
                    Err(_) => what.to_owned(),
                };
                return Err(HistoryError::NotAFile { path, what });
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Ok(target) = fs::read_link(&path) {
                // A dangling link would be "created" somewhere unexpected: say so.
                return Err(HistoryError::NotAFile {
                    what: format!("a link to {}, which does not exist", target.display()),
                    path,
                });
            }
        }
        Err(e) => return Err(HistoryError::from_io(&path, "open the history", e)),
    }
    Ok(path)
}

/// Opens the history for reading and appending (creating it, 0600), or read-only when writing
/// is not allowed but the file exists. Never blocks on a FIFO swapped in meanwhile.
fn open_handle(path: &Path) -> Result<(File, bool), HistoryError> {
    let opened = super::private_fs::safe_options(false)
        .read(true)
        .append(true)
        .create(true)
        .open(path);
    let (file, read_only) = match opened {
        Ok(f) => (f, false),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
            ) && path.is_file() =>
        {
            (open_existing_read_only(path)?, true)
        }
        Err(e) => return Err(HistoryError::from_io(path, "open the history", e)),
    };
    check_regular(&file, path)?;
    Ok((file, read_only))
}

/// Opens an existing history for reading only.
fn open_existing_read_only(path: &Path) -> Result<File, HistoryError> {
    let file = super::private_fs::safe_options(false)
        .read(true)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => HistoryError::NoHistory {
                path: path.to_path_buf(),
            },
            _ => HistoryError::from_io(path, "open the history", e),
        })?;
    check_regular(&file, path)?;
    Ok(file)
}

fn check_regular(file: &File, path: &Path) -> Result<(), HistoryError> {
    let meta = file
        .metadata()
        .map_err(|e| HistoryError::from_io(path, "open the history", e))?;
    match super::private_fs::describe_non_regular(&meta) {
        None => Ok(()),
        Some(what) => Err(HistoryError::NotAFile {
            path: path.to_path_buf(),
            what: what.to_owned(),
        }),
    }
}

/// Takes the exclusive lock, retrying until `timeout`.
fn lock_with_timeout(file: &File, path: &Path, timeout: Duration) -> Result<(), HistoryError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) => {}
            // No advisory locks on this platform or file system: go on without.
            Err(fs::TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {
                return Ok(());
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(HistoryError::from_io(path, "lock the history", e));
            }
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(HistoryError::Locked {
                path: path.to_path_buf(),
                waited,
            });
        }
        std::thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(Duration::from_millis(8));
    }
}

/// Makes a rename durable (Unix: fsync the folder). Best effort.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
