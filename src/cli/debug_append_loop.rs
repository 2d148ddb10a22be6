//! `promptdesk debug-append-loop` (hidden): a test helper that appends jobs in a loop and
//! prints each id once it is stored.

use super::command_error::CommandError;
use super::context::Context;
use crate::history::HistoryStore;
use crate::job_record::job_record_from_run_config;
use crate::prompt_packs::build_run_config_for_manual_prompt;
use crate::run_config::{RunConfig, RunSource};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub(crate) struct DebugAppendLoopArgs {
    /// Stop after this many jobs (default: never).
    #[arg(long)]
    count: Option<u64>,
}

pub(crate) fn run(
    ctx: &Context,
    args: &DebugAppendLoopArgs,
    out: &mut dyn Write,
) -> Result<i32, CommandError> {
    let mut store = ctx.open_store()?;
    let mut n = 0u64;
    while args.count.is_none_or(|c| n < c) {
        let cfg = build_run_config_for_manual_prompt(
            &format!("debug append {n}: a lighthouse on a cliff"),
            "",
            Some(RunConfig {
                source: RunSource::Cli,
                ..RunConfig::default()
            }),
        );
        let record = job_record_from_run_config(&HistoryStore::new_job_id(), &cfg);
        store.append(&record)?;
        writeln!(out, "{}", record.job_id)?;
        out.flush()?;
        n += 1;
    }
    Ok(0)
}
