//! Import of StableNew's job_history.jsonl (stub: signatures fixed).

use super::store::{HistoryError, HistoryStore};
use crate::job_record::JobRecord;
use std::path::Path;

/// What an import found and did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Lines read (blank lines not counted).
    pub lines: usize,
    /// Distinct jobs found in the file (after last-line-wins folding).
    pub jobs: usize,
    /// Jobs added to the store.
    pub imported: usize,
    /// Jobs the store already had (an earlier import of the same file).
    pub already_present: usize,
    /// Lines that could not be used: (1-based line, reason).
    pub skipped: Vec<(usize, String)>,
}

/// Reads a StableNew history file and converts it to JobRecords (one per job, last line wins).
pub fn read_stablenew_history(path: &Path) -> Result<(Vec<JobRecord>, ImportReport), HistoryError> {
    let _ = path;
    Ok((Vec::new(), ImportReport::default()))
}

/// Imports a StableNew history file into `store`; importing the same file twice adds nothing.
pub fn import_stablenew(store: &mut HistoryStore, path: &Path) -> Result<ImportReport, HistoryError> {
    let (records, mut report) = read_stablenew_history(path)?;
    for r in &records {
        store.append(r)?;
        report.imported += 1;
    }
    Ok(report)
}
