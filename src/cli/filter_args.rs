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
    /// Only jobs rated at least N stars (1-5; a job's rating is its best image's).
    #[arg(long, value_parser = parse_min_rating, value_name = "N")]
    min_rating: Option<u8>,
    /// Only jobs with an image marked favourite.
    #[arg(long)]
    favorites: bool,
}

impl FilterArgs {
    pub(crate) fn to_filter(&self) -> HistoryFilter {
        HistoryFilter {
            text: self.search.clone().unwrap_or_default(),
            source: self.source,
            pack: self.pack.clone(),
            key: self.key.clone(),
            status: self.status,
            min_rating: self.min_rating,
            favorites_only: self.favorites,
        }
    }
}

fn parse_source(text: &str) -> Result<PromptSource, String> {
    PromptSource::parse(text).ok_or_else(|| format!("{text:?} is not manual or pack"))
}

fn parse_min_rating(text: &str) -> Result<u8, String> {
    match text.trim().parse::<u8>() {
        Ok(n) if (1..=crate::history::MAX_STARS).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a rating: give 1 to 5 stars")),
    }
}

fn parse_status(text: &str) -> Result<JobStatus, String> {
    JobStatus::parse(text).ok_or_else(|| {
        let all: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
        format!("{text:?} is not one of {}", all.join(", "))
    })
}
