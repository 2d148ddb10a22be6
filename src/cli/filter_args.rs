//! The history filter flags `history` and `export` share.

use crate::history::HistoryFilter;
use crate::job_record::JobStatus;
use crate::run_config::PromptSource;
use clap::Args;

#[derive(Args, Debug, Default)]
pub(crate) struct FilterArgs {
    /// Only jobs from a pack or typed prompts.
    #[arg(long, value_parser = parse_source, value_name = "manual|pack")]
    source: Option<PromptSource>,
    /// Only jobs from this pack.
    #[arg(long, value_name = "ID")]
    pack: Option<String>,
    /// Only jobs that ran this pack key.
    #[arg(long, value_name = "K")]
    key: Option<String>,
    /// Only jobs whose prompts, pack, keys, model or id contain this text (any case).
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Only jobs with this status.
    #[arg(long, value_parser = parse_status, value_name = "STATUS")]
    status: Option<JobStatus>,
}

impl FilterArgs {
    pub(crate) fn to_filter(&self) -> HistoryFilter {
        HistoryFilter {
            text: self.search.clone().unwrap_or_default(),
            source: self.source,
            pack: self.pack.clone(),
            key: self.key.clone(),
            status: self.status,
        }
    }
}

fn parse_source(text: &str) -> Result<PromptSource, String> {
    PromptSource::parse(text).ok_or_else(|| format!("{text:?} is not manual or pack"))
}

fn parse_status(text: &str) -> Result<JobStatus, String> {
    JobStatus::parse(text).ok_or_else(|| {
        let all: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
        format!("{text:?} is not one of {}", all.join(", "))
    })
}
