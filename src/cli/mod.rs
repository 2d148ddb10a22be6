//! The headless command line: `promptdesk <command>` runs a command and exits; with no command
//! it says to start the desktop app.
//!
//! Exit codes: 0 success; 1 a history (or other file) error, or `verify` found damage; 2 bad
//! input (unknown pack or key, empty prompt, bad option), in which case nothing is written.
//! Every error is one line on stderr: `promptdesk: error: ...`.
//!
//! Layout: this module parses the command line (the global flags and the command) and
//! dispatches; each command is its own module with its own clap args type and a
//! `run(ctx, args, out)` that returns the exit code or a [`CommandError`] (kind, message,
//! optional hint, source). [`Context`](context::Context) holds the folders the global flags
//! chose; `output` holds the text helpers the commands share.

mod backends;
mod command_error;
mod compact;
mod context;
mod debug_append_loop;
mod export;
mod filter_args;
mod history;
mod import_images;
mod import_stablenew;
mod output;
mod packs;
mod prompt_file;
mod rate;
mod render;
mod requeue;
mod run;
mod submit;
mod verify;

pub use command_error::{CommandError, CommandErrorKind};

use clap::{Parser, Subcommand};
use context::Context;
use output::one_line;
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;

/// What `main` should do after parsing the command line.
pub enum Outcome {
    /// Start the desktop app with these folders.
    Gui {
        data_dir: PathBuf,
        packs_dir: PathBuf,
        /// False when `--packs-dir` named the folder (then the app must not replace it with
        /// the folder remembered from the last run).
        packs_dir_is_default: bool,
    },
    /// A subcommand ran; exit with this code.
    Exit(i32),
}

/// Parses the command line and runs a subcommand, or says to start the GUI.
pub fn run() -> Outcome {
    let stdout = io::stdout();
    let stderr = io::stderr();
    run_from(std::env::args_os(), &mut stdout.lock(), &mut stderr.lock())
}

/// [`run`] with the arguments (program name first) and output streams given, for tests.
pub fn run_from<I: IntoIterator<Item = OsString>>(
    args: I,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Outcome {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return clap_failure(&e, out, err),
    };
    let data_dir = crate::paths::resolve_data_dir(cli.data_dir.as_deref());
    let ctx = Context {
        packs_dir: crate::paths::resolve_packs_dir(&data_dir, cli.packs_dir.as_deref()),
        packs_dir_is_default: cli.packs_dir.is_none(),
        data_dir,
    };
    let Some(command) = cli.command else {
        if let Err(e) = ctx.ensure_sample_packs() {
            let _ = e.report(err);
        }
        return Outcome::Gui {
            data_dir: ctx.data_dir,
            packs_dir: ctx.packs_dir,
            packs_dir_is_default: ctx.packs_dir_is_default,
        };
    };
    if !matches!(command, Command::ImportStablenew(_)) {
        import_stablenew::warn_interrupted_imports(&ctx, cli.data_dir.as_deref(), err);
    }
    match command.run(&ctx, out, err) {
        Ok(code) => Outcome::Exit(code),
        Err(e) => Outcome::Exit(e.report(err)),
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "promptdesk",
    version,
    about = "Prompt packs and a prompt-origin job history for Stable Diffusion users.\n\
             With no command, starts the desktop app.",
    disable_help_subcommand = true
)]
struct Cli {
    /// The data folder (history, packs). Default: $PROMPTDESK_DATA_DIR, else the platform's
    /// data folder.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The prompt packs folder. Default: `packs` in the data folder (filled with sample packs
    /// on first use).
    #[arg(long, global = true, value_name = "DIR")]
    packs_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every prompt pack (id, format, prompt count, keys) and every bad pack file.
    Packs(packs::PacksArgs),
    /// Add a queued job from pack keys (--pack ID --keys K1,K2) or a typed prompt (--prompt,
    /// or --prompt-file FILE, `-` for stdin); prints its job id.
    Submit(submit::SubmitArgs),
    /// Print the requests a run would send, one per line (styles applied, matrix tokens,
    /// wildcards and {a|b} variants replaced); records nothing.
    Render(render::RenderArgs),
    /// Show the history, newest first.
    History(history::HistoryArgs),
    /// Write the (filtered) history to a file, oldest first.
    Export(export::ExportArgs),
    /// Import a StableNew job_history.jsonl (importing it again adds nothing).
    #[command(name = "import-stablenew")]
    ImportStablenew(import_stablenew::ImportStablenewArgs),
    /// Import a folder of PNG, JPEG and WebP images as completed jobs, reading the prompts and
    /// settings A1111/Forge, ComfyUI, InvokeAI and SwarmUI wrote into them (images are
    /// referenced where they are; importing again adds only new files).
    #[command(name = "import-images")]
    ImportImages(import_images::ImportImagesArgs),
    /// Configure the servers jobs run on: add, list, remove, test (AUTOMATIC1111/Forge or
    /// ComfyUI).
    Backends(backends::BackendsArgs),
    /// Run queued jobs on the backends; exits when none are left (--watch keeps waiting).
    Run(run::RunArgs),
    /// Put failed or cancelled jobs back in the queue.
    Requeue(requeue::RequeueArgs),
    /// Rate an output image of a job (1-5 stars, 0 clears) and mark it favourite or not.
    Rate(rate::RateArgs),
    /// Check the history file: count records, list damaged lines; exit 1 if any.
    Verify(verify::VerifyArgs),
    /// Rewrite the history with one line per job (drops old snapshots and deleted jobs).
    Compact(compact::CompactArgs),
    /// Test helper: append jobs in a loop, printing each id once it is stored.
    #[command(name = "debug-append-loop", hide = true)]
    DebugAppendLoop(debug_append_loop::DebugAppendLoopArgs),
}

impl Command {
    /// Runs the command; `Ok` is the exit code (`verify` exits 1 on damage). `err` is for
    /// what a command says on the way (a hint), not for its error, which the caller reports.
    fn run(
        &self,
        ctx: &Context,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<i32, CommandError> {
        match self {
            Command::Packs(args) => packs::run(ctx, args, out),
            Command::Submit(args) => submit::run(ctx, args, out, err),
            Command::Render(args) => render::run(ctx, args, out, err),
            Command::History(args) => history::run(ctx, args, out),
            Command::Export(args) => export::run(ctx, args, out),
            Command::ImportStablenew(args) => import_stablenew::run(ctx, args, out),
            Command::ImportImages(args) => import_images::run(ctx, args, out, err),
            Command::Verify(args) => verify::run(ctx, args, out),
            Command::Backends(args) => backends::run(ctx, args, out),
            Command::Run(args) => run::run(ctx, args, out, err),
            Command::Requeue(args) => requeue::run(ctx, args, out),
            Command::Rate(args) => rate::run(ctx, args, out),
            Command::Compact(args) => compact::run(ctx, args, out),
            Command::DebugAppendLoop(args) => debug_append_loop::run(ctx, args, out),
        }
    }
}

/// A command line clap refused (exit 2, one stderr line), or `--help`/`--version` (exit 0,
/// printed on stdout).
fn clap_failure(e: &clap::Error, out: &mut dyn Write, err: &mut dyn Write) -> Outcome {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = write!(out, "{e}");
            let _ = out.flush();
            Outcome::Exit(0)
        }
        _ => {
            let text = e.to_string();
            // The first paragraph: clap lists what is missing on the lines after "the
            // following required arguments were not provided:".
            let first = text
                .lines()
                .map(str::trim)
                .skip_while(|l| l.is_empty())
                .take_while(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let first = if first.is_empty() {
                "invalid arguments"
            } else {
                first.as_str()
            };
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let e = CommandError::usage(format!("{} (see promptdesk --help)", one_line(first)));
            Outcome::Exit(e.report(err))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
