//! `promptdesk verify`: check the history file without writing anything; exit 1 if damaged.

use super::command_error::CommandError;
use super::context::Context;
use super::output::{one_line, plural, truncate, write_quarantine_summary};
use crate::history::{HistoryStore, quarantine_path_for};
use crate::job_record::{JobRecord, JobStatus};
use clap::Args;
use std::fs;
use std::io::{self, Write};

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {}

pub(crate) fn run(
    ctx: &Context,
    _args: &VerifyArgs,
    out: &mut dyn Write,
) -> Result<i32, CommandError> {
    let history = ctx.history_path();
    let Some(store) = ctx.open_store_read_only()? else {
        writeln!(
            out,
            "history: {} (there is no history yet)",
            history.display()
        )?;
        write_quarantine_summary(&quarantine_path_for(&history), out)?;
        return Ok(0);
    };
    let r = store.load_report();
    writeln!(out, "history: {}", store.path().display())?;
    writeln!(
        out,
        "records: {} ({}, {} bytes, {} updates, {} deletes)",
        r.records,
        plural(r.lines, "line"),
        r.bytes,
        r.updates,
        r.tombstones
    )?;
    // Whether a write would be allowed (permissions as the OS applies them, read-only
    // mounts): an append-only open that writes nothing.
    if fs::OpenOptions::new()
        .append(true)
        .open(store.path())
        .is_err()
    {
        writeln!(out, "read-only: the history cannot be written")?;
    }
    for w in &r.warnings {
        writeln!(out, "warning: {}", one_line(w))?;
    }
    write_not_understood(&store, out)?;
    let damaged = r.is_damaged();
    if damaged {
        writeln!(
            out,
            "damaged: {} in the history, skipped when it loads (a command that writes copies them to {}; `promptdesk compact` then removes them):",
            plural(r.quarantined.len(), "line"),
            store.quarantine_path().display()
        )?;
        for q in &r.quarantined {
            writeln!(out, "  line {}: {}", q.line, one_line(&q.reason))?;
        }
    } else {
        writeln!(out, "no damaged lines in the history")?;
    }
    write_quarantine_summary(store.quarantine_path(), out)?;
    Ok(if damaged { 1 } else { 0 })
}

/// Lists what another (newer) version wrote that this one cannot fully read: kept, not damage.
fn write_not_understood(store: &HistoryStore, out: &mut dyn Write) -> io::Result<()> {
    let r = store.load_report();
    let unknown_status: Vec<&JobRecord> = store
        .records()
        .iter()
        .filter(|j| j.status == JobStatus::Unknown)
        .collect();
    let extra_fields = store
        .records()
        .iter()
        .filter(|j| j.unknown.field_count() > 0)
        .count();
    if r.foreign.is_empty() && unknown_status.is_empty() && extra_fields == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "from another version (kept as they are, never dropped by compact):"
    )?;
    for f in &r.foreign {
        writeln!(
            out,
            "  line {}: job {} cannot be read by this version: {}",
            f.line,
            truncate(&f.job_id, 60),
            one_line(&f.reason)
        )?;
    }
    for j in &unknown_status {
        writeln!(
            out,
            "  job {}: status {:?} is unknown to this version",
            truncate(&j.job_id, 60),
            j.status_text()
        )?;
    }
    if extra_fields > 0 {
        let who = if extra_fields == 1 {
            "1 record carries".to_owned()
        } else {
            format!("{extra_fields} records carry")
        };
        writeln!(out, "  {who} fields this version does not know")?;
    }
    Ok(())
}
