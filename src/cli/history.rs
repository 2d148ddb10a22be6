//! `promptdesk history`: the (filtered) history, newest first, as a table or JSON lines.

use super::command_error::CommandError;
use super::context::Context;
use super::filter_args::FilterArgs;
use super::output::{clean, plural, summarize_keys, truncate, write_table};
use crate::history::{SortColumn, first_prompt_line, query_indices};
use crate::job_record::JobRecord;
use clap::Args;
use std::io::{self, Write};

#[derive(Args, Debug)]
pub(crate) struct HistoryArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Show at most N jobs (the newest).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// One JobRecord (JSON) per line instead of a table.
    #[arg(long)]
    json: bool,
}

/// Reads the history without writing anything (no history yet reads as empty).
pub(crate) fn run(
    ctx: &Context,
    args: &HistoryArgs,
    out: &mut dyn Write,
) -> Result<i32, CommandError> {
    let store = ctx.open_store_read_only()?;
    let records = store.as_ref().map_or(&[][..], |s| s.records());
    let mut rows = query_indices(records, &args.filter.to_filter(), SortColumn::Time, true);
    if let Some(limit) = args.limit {
        rows.truncate(limit);
    }
    if args.json {
        let mut w = io::BufWriter::new(out);
        for &i in &rows {
            w.write_all(records[i as usize].to_json_line().as_bytes())?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
        return Ok(0);
    }
    if rows.is_empty() {
        writeln!(
            out,
            "no matching jobs ({} in the history)",
            plural(records.len(), "job")
        )?;
        return Ok(0);
    }
    let mut table = vec![
        [
            "TIME", "SOURCE", "PACK", "KEYS", "PROMPT", "MODEL", "STEPS", "STATUS", "ID",
        ]
        .map(str::to_owned),
    ];
    for &i in &rows {
        table.push(history_row(&records[i as usize]));
    }
    write_table(
        out,
        &table,
        &[false, false, false, false, false, false, true, false, false],
    )?;
    Ok(0)
}

fn history_row(r: &JobRecord) -> [String; 9] {
    let keys: Vec<&str> = r.prompt_keys.iter().map(String::as_str).collect();
    let model = &r.run_config.settings.model;
    let unknown = r.run_config.unknown_settings();
    let known = |name: &str| !unknown.iter().any(|u| u == name);
    [
        r.created_at
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        r.prompt_source.as_str().to_owned(),
        truncate(r.prompt_pack_id.as_deref().unwrap_or("-"), 24),
        truncate(&summarize_keys(&keys), 16),
        truncate(first_prompt_line(r), 40),
        truncate(
            if model.is_empty() || !known("model") {
                "-"
            } else {
                model
            },
            24,
        ),
        if known("steps") {
            r.run_config.settings.steps.to_string()
        } else {
            "-".to_owned()
        },
        truncate(&r.status_text(), 16),
        clean(&r.job_id),
    ]
}
