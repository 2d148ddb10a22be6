//! One submitted job, as the history stores it.

use crate::run_config::{PromptSource, RunConfig, RunMode, RunSource};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The schema version written into every new record.
pub const JOB_RECORD_SCHEMA_VERSION: u32 = 1;

/// Where a job is in its life.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    #[default]
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<JobStatus> {
        JobStatus::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn default_schema_version() -> u32 {
    JOB_RECORD_SCHEMA_VERSION
}

/// A job in the history: its origin (copied from the RunConfig, never re-derived), status,
/// timestamps, settings hash and the full RunConfig snapshot. Serialises to one line of JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    #[serde(default = "default_schema_version")]
    pub schema_version: u32,
    pub job_id: String,
    /// UTC, RFC 3339 in JSON.
    pub created_at: DateTime<Utc>,
    pub status: JobStatus,
    pub prompt_source: PromptSource,
    #[serde(default)]
    pub prompt_pack_id: Option<String>,
    #[serde(default)]
    pub prompt_keys: Vec<String>,
    #[serde(default)]
    pub run_mode: RunMode,
    #[serde(default)]
    pub source: RunSource,
    pub config_hash: String,
    pub run_config: RunConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl JobRecord {
    /// The record as one line of JSON (no trailing newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("a JobRecord always serialises")
    }

    /// The first positive prompt, for tables and summaries.
    pub fn first_prompt(&self) -> String {
        self.run_config
            .prompt_pairs()
            .into_iter()
            .next()
            .map(|(p, _)| p)
            .unwrap_or_default()
    }
}

/// Builds a queued record, created now, with the origin fields copied from `run_config` and
/// its settings hash computed.
pub fn job_record_from_run_config(job_id: &str, run_config: &RunConfig) -> JobRecord {
    JobRecord {
        schema_version: JOB_RECORD_SCHEMA_VERSION,
        job_id: job_id.to_owned(),
        created_at: Utc::now(),
        status: JobStatus::Queued,
        prompt_source: run_config.prompt_source,
        prompt_pack_id: run_config.prompt_pack_id.clone(),
        prompt_keys: run_config.prompt_keys.clone(),
        run_mode: run_config.run_mode,
        source: run_config.source,
        config_hash: run_config.config_hash(),
        run_config: run_config.clone(),
        started_at: None,
        completed_at: None,
        duration_ms: None,
        error_message: None,
    }
}
