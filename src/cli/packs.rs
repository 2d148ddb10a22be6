//! `promptdesk packs`: every prompt pack and every bad pack file.

use super::command_error::CommandError;
use super::context::Context;
use super::output::{one_line, plural, summarize_keys, truncate, write_table};
use crate::packs::escape_control;
use clap::Args;
use std::io::Write;
use std::path::Path;

#[derive(Args, Debug)]
pub(crate) struct PacksArgs {
    /// Print one JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

/// `packs`: the table, or with `--json` one document:
/// `{"packs_dir", "packs": [{"id", "name", "format", "prompts", "keys", "files"}],
/// "errors": [{"file", "line", "error", "message"}]}`.
///
/// Paths (`packs_dir`, `files`, `file`) are strings, lossy where the path is not valid UTF-8
/// (bad bytes become U+FFFD). Only then the exact path is given too, beside it: a
/// `<field>_bytes` array of byte values (`packs_dir_bytes`, `file_bytes`; for a pack,
/// `files_bytes`, parallel to `files`, `null` for the paths that are UTF-8). On Unix those are
/// the path's raw bytes; elsewhere the platform's encoded bytes (WTF-8 on Windows).
///
/// In the table, ids and file names are shown with control characters escaped (`\n`, `\t`,
/// `\u{1b}`), so each pack and each bad file stays on one line.
pub(crate) fn run(
    ctx: &Context,
    args: &PacksArgs,
    out: &mut dyn Write,
) -> Result<i32, CommandError> {
    let found = ctx.discover()?;
    if args.json {
        let packs: Vec<serde_json::Value> = found
            .packs
            .iter()
            .map(|p| {
                let mut pack = serde_json::json!({
                    "id": p.id,
                    "name": p.name,
                    "format": p.format_name(),
                    "prompts": p.prompts.len(),
                    "keys": p.keys(),
                    "files": p.paths.iter().map(|f| f.to_string_lossy()).collect::<Vec<_>>(),
                });
                if !p.warnings.is_empty() {
                    pack["warnings"] = p.warnings.iter().map(|w| w.to_string()).collect();
                }
                if p.paths.iter().any(|f| f.to_str().is_none()) {
                    pack["files_bytes"] = p.paths.iter().map(|f| non_utf8_path_bytes(f)).collect();
                }
                pack
            })
            .collect();
        let errors: Vec<serde_json::Value> = found
            .errors
            .iter()
            .map(|e| {
                let mut error = serde_json::json!({
                    "file": e.path.as_deref().map(Path::to_string_lossy),
                    "line": e.line,
                    "error": e.kind.to_string(),
                    "message": e.to_string(),
                });
                if let Some(bytes) = e.path.as_deref().map(non_utf8_path_bytes)
                    && !bytes.is_null()
                {
                    error["file_bytes"] = bytes;
                }
                error
            })
            .collect();
        let mut doc = serde_json::json!({
            "packs_dir": ctx.packs_dir.to_string_lossy(),
            "packs": packs,
            "errors": errors,
        });
        let dir_bytes = non_utf8_path_bytes(&ctx.packs_dir);
        if !dir_bytes.is_null() {
            doc["packs_dir_bytes"] = dir_bytes;
        }
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        )?;
        return Ok(0);
    }
    let mut rows = vec![[
        "ID".to_owned(),
        "FORMAT".to_owned(),
        "PROMPTS".to_owned(),
        "KEYS".to_owned(),
    ]];
    for p in &found.packs {
        rows.push([
            escape_control(&p.id).into_owned(),
            p.format_name().to_owned(),
            p.prompts.len().to_string(),
            truncate(&summarize_keys(&p.keys()), 60),
        ]);
    }
    let dir = ctx.packs_dir.display().to_string();
    let dir = escape_control(&dir);
    if found.packs.is_empty() {
        writeln!(out, "no packs in {dir}")?;
    } else {
        write_table(out, &rows, &[false, false, true, false])?;
    }
    // What loaded with a guess (a LoRA weight read as 1.0, a style name given twice): a few
    // per pack, then how many more.
    const SHOWN_WARNINGS: usize = 5;
    for pack in &found.packs {
        for w in pack.warnings.iter().take(SHOWN_WARNINGS) {
            writeln!(
                out,
                "warning: {}",
                escape_control(&one_line(&w.to_string()))
            )?;
        }
        if pack.warnings.len() > SHOWN_WARNINGS {
            writeln!(
                out,
                "warning: {} more in pack {}",
                plural(pack.warnings.len() - SHOWN_WARNINGS, "warning"),
                escape_control(&pack.id)
            )?;
        }
    }
    for e in &found.errors {
        // The error's Display escapes control characters in the file name.
        writeln!(
            out,
            "bad file: {}",
            escape_control(&one_line(&e.to_string()))
        )?;
    }
    writeln!(
        out,
        "{} in {dir}{}",
        plural(found.packs.len(), "pack"),
        if found.errors.is_empty() {
            String::new()
        } else {
            format!(
                "; {} could not be read",
                plural(found.errors.len(), "bad file")
            )
        }
    )?;
    Ok(0)
}

/// The exact bytes of a path that is not valid UTF-8, as a JSON array of numbers; `null` for
/// a UTF-8 path (its string says it all). See [`run`].
fn non_utf8_path_bytes(path: &Path) -> serde_json::Value {
    if path.to_str().is_some() {
        return serde_json::Value::Null;
    }
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    #[cfg(not(unix))]
    let bytes = path.as_os_str().as_encoded_bytes();
    serde_json::Value::from(bytes.to_vec())
}
