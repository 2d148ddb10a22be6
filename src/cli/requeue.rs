//! `promptdesk requeue ID...`: puts failed or cancelled jobs back in the queue (their error
//! and results cleared; the images already saved stay on disk), at its end.

use super::command_error::CommandError;
use super::context::Context;
use crate::job_record::JobStatus;
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub(crate) struct RequeueArgs {
    /// The jobs to queue again.
    #[arg(required = true, value_name = "ID")]
    jobs: Vec<String>,
}

pub(crate) fn run(
    ctx: &Context,
    args: &RequeueArgs,
    out: &mut dyn Write,
) -> Result<i32, CommandError> {
    // A job left running by a promptdesk that was killed is failed first, so it can be
    // re-queued here without starting a runner.
    let queue = crate::runner::StoreQueue::new(ctx.open_store()?);
    let (recovered, errors) = crate::runner::recover_orphans(&queue, &ctx.data_dir);
    if let Some(e) = errors.into_iter().next() {
        return Err(e.into());
    }
    for id in &recovered {
        writeln!(out, "{id}\tfailed\t{}", crate::runner::INTERRUPTED_MESSAGE)?;
    }
    let mut store = queue.into_inner();
    for id in &args.jobs {
        let Some(record) = store.get(id) else {
            return Err(CommandError::usage(format!(
                "there is no job {id} in {}",
                store.path().display()
            )));
        };
        if !matches!(record.status, JobStatus::Failed | JobStatus::Cancelled) {
            return Err(CommandError::usage(format!(
                "job {id} is {}; only failed or cancelled jobs can be re-queued",
                record.status_text()
            )));
        }
    }
    for id in &args.jobs {
        let done = store.update_if(
            id,
            |r| matches!(r.status, JobStatus::Failed | JobStatus::Cancelled),
            crate::runner::retried,
        )?;
        if done.is_some() {
            writeln!(out, "{id}\tqueued")?;
        }
    }
    Ok(0)
}
