//! `promptdesk import-stablenew`: import a StableNew job_history.jsonl, and the warning every
//! other command gives about an import that was interrupted.

use super::command_error::CommandError;
use super::context::Context;
use super::output::{one_line, plural};
use crate::history::{import_stablenew, interrupted_imports};
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub(crate) struct ImportStablenewArgs {
    /// StableNew's job_history.jsonl.
    file: PathBuf,
}

pub(crate) fn run(
    ctx: &Context,
    args: &ImportStablenewArgs,
    out: &mut dyn Write,
) -> Result<i32, CommandError> {
    let file = args.file.as_path();
    let mut store = ctx.open_store()?;
    // Not a file (a folder, FIFO, device), or not StableNew's: exit 2, nothing written.
    let report = import_stablenew(&mut store, file)?;
    // The same words as the app's message.
    let text = format!("{}: {}", file.display(), report.summary());
    writeln!(out, "{text}")?;
    if !report.skipped.is_empty() {
        writeln!(out, "skipped {}:", plural(report.skipped.len(), "line"))?;
        for (line, reason) in &report.skipped {
            writeln!(out, "  line {line}: {}", one_line(reason))?;
        }
    }
    Ok(0)
}

/// Warns (one line on stderr each) about imports that were interrupted (see
/// [`crate::history::interrupted_imports`]); every command but `import-stablenew` calls it.
/// `data_dir_arg` is the `--data-dir` given, so that the command it suggests reaches the same
/// history.
pub(crate) fn warn_interrupted_imports(
    ctx: &Context,
    data_dir_arg: Option<&Path>,
    err: &mut dyn Write,
) {
    let interrupted = interrupted_imports(&ctx.history_path());
    if interrupted.is_empty() {
        return;
    }
    let dir_text = data_dir_arg.map(|d| d.to_string_lossy().into_owned());
    let global: Vec<&str> = match &dir_text {
        Some(dir) => vec!["--data-dir", dir.as_str()],
        None => Vec::new(),
    };
    for import in &interrupted {
        let _ = writeln!(
            err,
            "promptdesk: warning: {}",
            one_line(&import.cli_message(&global))
        );
    }
    let _ = err.flush();
}
