//! `promptdesk compact`: rewrite the history with one line per job.

use super::command_error::CommandError;
use super::context::Context;
use super::output::plural;
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub(crate) struct CompactArgs {}

pub(crate) fn run(
    ctx: &Context,
    _args: &CompactArgs,
    out: &mut dyn Write,
) -> Result<i32, CommandError> {
    let mut store = ctx.open_store()?;
    let damaged = store.load_report().quarantined.len();
    let c = store.compact()?;
    writeln!(
        out,
        "compacted {}: {} kept; {} -> {} lines, {} -> {} bytes",
        store.path().display(),
        plural(c.records, "job"),
        c.lines_before,
        c.records + c.foreign_kept,
        c.bytes_before,
        c.bytes_after
    )?;
    if c.foreign_kept > 0 {
        writeln!(
            out,
            "{} from another version kept as {} (this version cannot read {})",
            plural(c.foreign_kept, "line"),
            if c.foreign_kept == 1 {
                "it was"
            } else {
                "they were"
            },
            if c.foreign_kept == 1 { "it" } else { "them" }
        )?;
    }
    if damaged > 0 {
        let kept = crate::history::read_quarantine(store.quarantine_path())
            .map(|q| q.entries.len())
            .unwrap_or(0);
        writeln!(
            out,
            "{} dropped from the history; {} holds {} (identical lines are kept once)",
            plural(damaged, "damaged line"),
            store.quarantine_path().display(),
            plural(kept, "damaged line"),
        )?;
    }
    if c.stale_temps_removed > 0 {
        writeln!(
            out,
            "removed {} left by interrupted compactions or exports",
            plural(c.stale_temps_removed, "temp file")
        )?;
    }
    Ok(0)
}
