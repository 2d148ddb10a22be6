//! Filtering and sorting the history (stub: signatures fixed, bodies being written).

use crate::job_record::{JobRecord, JobStatus};
use crate::run_config::PromptSource;

/// What the history table / `promptdesk history` shows. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HistoryFilter {
    /// Case-insensitive substring of the prompts, negative prompts, pack id, keys, model or job id.
    pub text: String,
    pub source: Option<PromptSource>,
    /// Exact pack id.
    pub pack: Option<String>,
    /// Exact prompt key (the record's prompt_keys contain it).
    pub key: Option<String>,
    pub status: Option<JobStatus>,
}

impl HistoryFilter {
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
            && self.source.is_none()
            && self.pack.is_none()
            && self.key.is_none()
            && self.status.is_none()
    }

    pub fn matches(&self, record: &JobRecord) -> bool {
        let _ = record;
        true
    }
}

/// A history table column to sort by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SortColumn {
    #[default]
    Time,
    Source,
    Pack,
    Keys,
    Prompt,
    Model,
    Steps,
    Cfg,
    Seed,
    Status,
    ConfigHash,
}

/// Indices (into `records`) of the records `filter` matches, in record order.
pub fn filter_indices(records: &[JobRecord], filter: &HistoryFilter) -> Vec<u32> {
    (0..records.len() as u32)
        .filter(|&i| filter.matches(&records[i as usize]))
        .collect()
}

/// Sorts `indices` by `column` (stable; ties keep their order).
pub fn sort_indices(records: &[JobRecord], indices: &mut [u32], column: SortColumn, descending: bool) {
    let _ = (records, indices, column, descending);
}

/// Filter then sort: the rows of the history table.
pub fn query_indices(
    records: &[JobRecord],
    filter: &HistoryFilter,
    column: SortColumn,
    descending: bool,
) -> Vec<u32> {
    let mut idx = filter_indices(records, filter);
    sort_indices(records, &mut idx, column, descending);
    idx
}
