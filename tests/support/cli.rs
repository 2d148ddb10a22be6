//! The CLI run in-process (`promptdesk::cli::run_from`), for the CLI test binaries.

use promptdesk::cli::{Outcome, run_from};
use std::ffi::OsString;
use std::path::Path;

/// What one command did: its exit code and what it wrote.
pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

/// Runs `promptdesk` with exactly these arguments (after the program name).
pub fn run_args(args: Vec<OsString>) -> Run {
    let mut argv: Vec<OsString> = vec!["promptdesk".into()];
    let shown = format!("{args:?}");
    argv.extend(args);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = match run_from(argv, &mut out, &mut err) {
        Outcome::Exit(code) => code,
        Outcome::Gui { .. } => panic!("expected a command to run, got the GUI for {shown}"),
    };
    Run {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

/// Runs `promptdesk ARGS` (no data folder given).
pub fn cli_plain(args: &[&str]) -> Run {
    run_args(args.iter().map(OsString::from).collect())
}

/// Runs `promptdesk --data-dir DATA ARGS`.
pub fn cli(data: &Path, args: &[&str]) -> Run {
    let mut argv: Vec<OsString> = vec!["--data-dir".into(), data.into()];
    argv.extend(args.iter().map(OsString::from));
    run_args(argv)
}
