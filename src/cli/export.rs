//! `promptdesk export`: the (filtered) history to a file, oldest first.

use super::command_error::CommandError;
use super::context::Context;
use super::filter_args::FilterArgs;
use super::output::plural;
use crate::history::{ExportFormat, export_to_file, filter_indices, sort_for_export};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    /// jsonl, csv or infotext.
    #[arg(long, value_parser = parse_format)]
    format: ExportFormat,
    /// The file to write (replaced only once the export is complete).
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    filter: FilterArgs,
}

fn parse_format(text: &str) -> Result<ExportFormat, String> {
    text.parse()
}

pub(crate) fn run(
    ctx: &Context,
    args: &ExportArgs,
    out: &mut dyn Write,
) -> Result<i32, CommandError> {
    let output = &args.output;
    let store = ctx.open_store()?;
    let records = store.records();
    let mut rows = filter_indices(records, &args.filter.to_filter());
    sort_for_export(records, &mut rows);
    // Refuses the history's own files (bad input, exit 2) and writes through the shared
    // atomic helper.
    let n = export_to_file(
        rows.iter().map(|&i| &records[i as usize]),
        args.format,
        output,
        store.path(),
    )?;
    writeln!(out, "exported {} to {}", plural(n, "job"), output.display())?;
    Ok(0)
}
