//! The JSON Lines store (stub, being written).

use crate::job_record::JobRecord;
use std::path::{Path, PathBuf};

/// A history store error, saying what failed and where.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
}

/// The history: every JobRecord in `history.jsonl`, current state in submission order.
#[derive(Debug)]
pub struct HistoryStore {
    path: PathBuf,
    records: Vec<JobRecord>,
}

impl HistoryStore {
    pub fn open(path: impl AsRef<Path>) -> Result<HistoryStore, HistoryError> {
        Ok(HistoryStore { path: path.as_ref().to_path_buf(), records: Vec::new() })
    }

    pub fn append(&mut self, record: &JobRecord) -> Result<(), HistoryError> {
        self.records.push(record.clone());
        Ok(())
    }

    pub fn records(&self) -> &[JobRecord] {
        &self.records
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
