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
    /// One JobRecord (JSON) per line instead of a table, with the job's `rating` and
    /// `favorite` added at the end of each line.
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
            w.write_all(json_line(&records[i as usize]).as_bytes())?;
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
            "TIME", "SOURCE", "PACK", "KEYS", "PROMPT", "MODEL", "STEPS", "STATUS", "RATING", "ID",
        ]
        .map(str::to_owned),
    ];
    for &i in &rows {
        table.push(history_row(&records[i as usize]));
    }
    write_table(
        out,
        &table,
        &[
            false, false, false, false, false, false, true, false, false, false,
        ],
    )?;
    Ok(0)
}

/// The record's JSON line (as stored and as `export --format jsonl` writes it) with two keys
/// added at its end for scripts: `rating`, the job's rating (its best image's, `null` when
/// none is rated), and `favorite`, whether any image is a favourite. Each image's own
/// `rating` and `favorite` are in `result.images`. A key that a newer version already wrote
/// at the top of the record (kept as an unknown field) is left as it is, never duplicated.
fn json_line(r: &JobRecord) -> String {
    let mut line = r.to_json_line();
    let taken: Vec<String> = if r.unknown.is_empty() {
        Vec::new()
    } else {
        r.unknown.field_names()
    };
    let free = |key: &str| !taken.iter().any(|t| t == key);
    if line.ends_with('}') && line.len() > 2 {
        line.pop();
        if free("rating") {
            match r.rating() {
                Some(n) => line.push_str(&format!(",\"rating\":{n}")),
                None => line.push_str(",\"rating\":null"),
            }
        }
        if free("favorite") {
            line.push_str(&format!(",\"favorite\":{}", r.is_favorite()));
        }
        line.push('}');
    }
    line
}

/// The RATING cell: `4`, `4 fav`, `fav` or `-`.
fn rating_cell(r: &JobRecord) -> String {
    match (r.rating(), r.is_favorite()) {
        (Some(n), true) => format!("{n} fav"),
        (Some(n), false) => n.to_string(),
        (None, true) => "fav".to_owned(),
        (None, false) => "-".to_owned(),
    }
}

fn history_row(r: &JobRecord) -> [String; 10] {
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
        rating_cell(r),
        clean(&r.job_id),
    ]
}
