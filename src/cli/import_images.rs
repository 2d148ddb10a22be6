//! `promptdesk import-images DIR [--recursive] [--json]`: every PNG, JPEG and WebP image in a
//! folder becomes a completed job (see [`crate::images::import`]). A progress bar on stderr
//! when it is a terminal; then the summary (or, with `--json`, one JSON object) on stdout.
//!
//! Exit codes: 0 done (unreadable files are listed, they do not fail the import); 2 the folder
//! is missing or not a folder (nothing written); 1 a history error; 130 stopped by Ctrl+C
//! (what was imported before stays, and a re-run finishes the rest).

use super::command_error::CommandError;
use super::context::Context;
use super::output::one_line;
use super::run::{CTRL_C, install_ctrl_c};
use crate::images::{
    ImportImagesError, ImportImagesOptions, ImportImagesPhase, ImportImagesProgress,
    ImportImagesReport, import_images,
};
use crate::run_config::RunSource;
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub(crate) struct ImportImagesArgs {
    /// The folder of images.
    dir: PathBuf,
    /// Also the images in its subfolders, at any depth.
    #[arg(long, short = 'r')]
    recursive: bool,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

/// Unreadable files listed by the text summary (all of them are in `--json`).
const LISTED: usize = 50;

pub(crate) fn run(
    ctx: &Context,
    args: &ImportImagesArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CommandError> {
    // A folder that is not there is refused before the history is opened (or created).
    match std::fs::metadata(&args.dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ImportImagesError::NotFound {
                path: args.dir.clone(),
            }
            .into());
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(ImportImagesError::NotAFolder {
                path: args.dir.clone(),
            }
            .into());
        }
        _ => {}
    }
    let mut store = ctx.open_store()?;
    install_ctrl_c();
    let mut bar = Bar::new(std::io::stderr().is_terminal());
    let result = import_images(
        &mut store,
        &args.dir,
        &ImportImagesOptions {
            recursive: args.recursive,
            source: RunSource::Cli,
        },
        &mut |p| bar.show(p, err),
        &CTRL_C,
    );
    bar.clear(err);
    let report = result?;
    if args.json {
        writeln!(out, "{}", report_json(&args.dir, &report))?;
    } else {
        write_summary(&args.dir, &report, out)?;
    }
    for warning in &report.warnings {
        writeln!(err, "promptdesk: warning: {}", one_line(warning))?;
    }
    Ok(if report.cancelled { 130 } else { 0 })
}

fn write_summary(
    dir: &Path,
    report: &ImportImagesReport,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out, "{}: {}", dir.display(), report.summary())?;
    if !report.by_source.is_empty() {
        let tools: Vec<String> = report
            .by_source
            .iter()
            .map(|(tool, n)| format!("{n} {}", tool_label(tool)))
            .collect();
        writeln!(out, "imported from: {}", tools.join(", "))?;
    }
    if !report.unreadable.is_empty() {
        writeln!(out, "unreadable:")?;
        for (path, reason) in report.unreadable.iter().take(LISTED) {
            writeln!(out, "  {}: {}", path.display(), one_line(reason))?;
        }
        if report.unreadable.len() > LISTED {
            writeln!(
                out,
                "  ... and {} more (--json lists them all)",
                report.unreadable.len() - LISTED
            )?;
        }
    }
    if report.cancelled {
        writeln!(
            out,
            "stopped by Ctrl+C: run the same command again to import the rest"
        )?;
    }
    Ok(())
}

fn tool_label(tool: &str) -> &str {
    match tool {
        "a1111" => "A1111/Forge",
        "comfyui" => "ComfyUI",
        "invokeai" => "InvokeAI",
        "swarmui" => "SwarmUI",
        other => other,
    }
}

fn report_json(dir: &Path, r: &ImportImagesReport) -> serde_json::Value {
    serde_json::json!({
        "dir": dir,
        "scanned": r.scanned,
        "imported": r.imported,
        "already_known": r.already_known,
        "linked": r.linked,
        "no_parameters": r.no_parameters,
        "by_source": r.by_source,
        "unreadable": r.unreadable.iter().map(|(path, reason)| serde_json::json!({
            "path": path,
            "reason": reason,
        })).collect::<Vec<_>>(),
        "hashed": r.hashed,
        "cancelled": r.cancelled,
        "warnings": r.warnings,
    })
}

/// The progress line on stderr (a terminal only), redrawn at most 10 times a second.
struct Bar {
    enabled: bool,
    shown: bool,
    last: Option<Instant>,
}

impl Bar {
    fn new(enabled: bool) -> Bar {
        Bar {
            enabled,
            shown: false,
            last: None,
        }
    }

    fn show(&mut self, p: &ImportImagesProgress, err: &mut dyn Write) {
        if !self.enabled {
            return;
        }
        let done = p.phase == ImportImagesPhase::Importing && p.done == p.total;
        if !done
            && self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        let text = match p.phase {
            ImportImagesPhase::Scanning => format!("scanning: {} images found", p.found),
            ImportImagesPhase::Importing => {
                let fraction = if p.total == 0 {
                    1.0
                } else {
                    p.done as f64 / p.total as f64
                };
                let filled = (fraction * 20.0).round() as usize;
                format!(
                    "[{}{}] {:>3}% {}/{} images",
                    "#".repeat(filled),
                    "-".repeat(20 - filled.min(20)),
                    (fraction * 100.0).round() as u32,
                    p.done,
                    p.total
                )
            }
        };
        let _ = write!(err, "\r\x1b[2K{text}");
        let _ = err.flush();
        self.shown = true;
    }

    fn clear(&mut self, err: &mut dyn Write) {
        if self.shown {
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}
