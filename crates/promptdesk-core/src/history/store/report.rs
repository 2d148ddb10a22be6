//! What a load, a later read or a compaction found: the reports the store hands out.

use std::fmt;

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
///
/// [`HistoryStore::reload`]: super::HistoryStore::reload
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

impl LoadReport {
    /// True when a damaged line was found (skipped or torn).
    pub fn is_damaged(&self) -> bool {
        self.torn_tail || !self.quarantined.is_empty()
    }
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

/// What [`HistoryStore::compact`] did.
///
/// [`HistoryStore::compact`]: super::HistoryStore::compact
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
