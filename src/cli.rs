//! The headless command line: `promptdesk <command>` runs a command and exits; with no command
//! it says to start the desktop app.
//!
//! Exit codes: 0 success; 1 a history (or other file) error, or `verify` found damage; 2 bad
//! input (unknown pack or key, empty prompt, bad option), in which case nothing is written.
//! Every error is one line on stderr: `promptdesk: error: ...`.

use crate::history::{
    ExportFormat, HistoryError, HistoryFilter, HistoryStore, SortColumn, export_to_file,
    import_stablenew, interrupted_imports, query_indices,
};
use crate::job_record::{JobRecord, JobStatus, job_record_from_run_config};
use crate::packs::{DiscoveredPacks, PromptPack, discover_packs};
use crate::prompt_packs::{build_run_config_for_manual_prompt, build_run_config_from_prompt_pack};
use crate::run_config::{PromptSource, RunConfig, RunMode, RunSource};
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

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
        if let Err(f) = ctx.ensure_sample_packs() {
            let _ = report_failure(&f, err);
        }
        return Outcome::Gui {
            data_dir: ctx.data_dir,
            packs_dir: ctx.packs_dir,
            packs_dir_is_default: ctx.packs_dir_is_default,
        };
    };
    if !matches!(command, Command::ImportStablenew { .. }) {
        warn_interrupted_imports(&ctx, cli.data_dir.as_deref(), err);
    }
    let result = match command {
        Command::Packs { json } => cmd_packs(&ctx, json, out),
        Command::Submit(args) => cmd_submit(&ctx, &args, out),
        Command::History(args) => cmd_history(&ctx, &args, out),
        Command::Export(args) => cmd_export(&ctx, &args, out),
        Command::ImportStablenew { file } => cmd_import(&ctx, &file, out),
        Command::Verify => cmd_verify(&ctx, out),
        Command::Compact => cmd_compact(&ctx, out),
        Command::DebugAppendLoop { count } => cmd_debug_append_loop(&ctx, count, out),
    };
    match result {
        Ok(code) => Outcome::Exit(code),
        Err(f) => Outcome::Exit(report_failure(&f, err)),
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
    Packs {
        /// Print one JSON document instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Add a queued job from pack keys (--pack ID --keys K1,K2) or a typed prompt (--prompt);
    /// prints its job id.
    Submit(SubmitArgs),
    /// Show the history, newest first.
    History(HistoryArgs),
    /// Write the (filtered) history to a file, oldest first.
    Export(ExportArgs),
    /// Import a StableNew job_history.jsonl (importing it again adds nothing).
    #[command(name = "import-stablenew")]
    ImportStablenew {
        /// StableNew's job_history.jsonl.
        file: PathBuf,
    },
    /// Check the history file: count records, list damaged lines; exit 1 if any.
    Verify,
    /// Rewrite the history with one line per job (drops old snapshots and deleted jobs).
    Compact,
    /// Test helper: append jobs in a loop, printing each id once it is stored.
    #[command(name = "debug-append-loop", hide = true)]
    DebugAppendLoop {
        /// Stop after this many jobs (default: never).
        #[arg(long)]
        count: Option<u64>,
    },
}

#[derive(Args, Debug)]
struct SubmitArgs {
    /// The pack id (its file name without extension).
    #[arg(long, value_name = "ID")]
    pack: Option<String>,
    /// The pack keys to run, comma-separated (or the option repeated).
    #[arg(long, value_name = "K1,K2")]
    keys: Vec<String>,
    /// A typed prompt (instead of --pack).
    #[arg(long, value_name = "TEXT")]
    prompt: Option<String>,
    /// The negative prompt of a typed prompt.
    #[arg(long, value_name = "TEXT")]
    negative: Option<String>,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// Generation settings; for a pack they override the pack's defaults.
#[derive(Args, Debug, Default)]
struct SettingsArgs {
    /// Checkpoint name.
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    sampler: Option<String>,
    #[arg(long)]
    scheduler: Option<String>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    steps: Option<u32>,
    /// CFG scale.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_cfg)]
    cfg: Option<f64>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(8..=65_536))]
    width: Option<u32>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(8..=65_536))]
    height: Option<u32>,
    /// -1 for a random seed.
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(-1..))]
    seed: Option<i64>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch_size: Option<u32>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch_count: Option<u32>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=100))]
    clip_skip: Option<u32>,
}

#[derive(Args, Debug, Default)]
struct FilterArgs {
    /// Only jobs from a pack or typed prompts.
    #[arg(long, value_parser = parse_source, value_name = "manual|pack")]
    source: Option<PromptSource>,
    /// Only jobs from this pack.
    #[arg(long, value_name = "ID")]
    pack: Option<String>,
    /// Only jobs that ran this pack key.
    #[arg(long, value_name = "K")]
    key: Option<String>,
    /// Only jobs whose prompts, pack, keys, model or id contain this text (any case).
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Only jobs with this status.
    #[arg(long, value_parser = parse_status, value_name = "STATUS")]
    status: Option<JobStatus>,
}

impl FilterArgs {
    fn to_filter(&self) -> HistoryFilter {
        HistoryFilter {
            text: self.search.clone().unwrap_or_default(),
            source: self.source,
            pack: self.pack.clone(),
            key: self.key.clone(),
            status: self.status,
        }
    }
}

#[derive(Args, Debug)]
struct HistoryArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Show at most N jobs (the newest).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// One JobRecord (JSON) per line instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct ExportArgs {
    /// jsonl, csv or infotext.
    #[arg(long, value_parser = parse_format)]
    format: ExportFormat,
    /// The file to write (replaced only once the export is complete).
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    filter: FilterArgs,
}

fn parse_cfg(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !v.is_finite() || !(0.0..=100.0).contains(&v) {
        return Err(format!("{text} is not between 0 and 100"));
    }
    Ok(v)
}

fn parse_source(text: &str) -> Result<PromptSource, String> {
    PromptSource::parse(text).ok_or_else(|| format!("{text:?} is not manual or pack"))
}

fn parse_status(text: &str) -> Result<JobStatus, String> {
    JobStatus::parse(text).ok_or_else(|| {
        let all: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
        format!("{text:?} is not one of {}", all.join(", "))
    })
}

fn parse_format(text: &str) -> Result<ExportFormat, String> {
    text.parse()
}

/// Why a command failed.
enum Failure {
    /// Bad input: exit 2, nothing written.
    Usage(String),
    /// A history or file error: exit 1.
    Store(String),
    /// Writing our own output failed (e.g. a closed pipe): exit 1 quietly.
    Output(io::Error),
}

impl From<HistoryError> for Failure {
    fn from(e: HistoryError) -> Failure {
        Failure::Store(e.to_string())
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Output(e)
    }
}

/// Writes the one-line error and returns the exit code.
fn report_failure(f: &Failure, err: &mut dyn Write) -> i32 {
    let (code, msg) = match f {
        Failure::Usage(m) => (2, m.clone()),
        Failure::Store(m) => (1, m.clone()),
        Failure::Output(e) if e.kind() == io::ErrorKind::BrokenPipe => return 1,
        Failure::Output(e) => (1, format!("cannot write the output: {e}")),
    };
    let _ = writeln!(err, "promptdesk: error: {}", one_line(&msg));
    let _ = err.flush();
    code
}

/// Collapses line breaks so that a message stays on one line.
fn one_line(msg: &str) -> String {
    msg.split(['\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

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
            let first = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let _ = writeln!(
                err,
                "promptdesk: error: {} (see promptdesk --help)",
                one_line(first)
            );
            let _ = err.flush();
            Outcome::Exit(2)
        }
    }
}

struct Context {
    data_dir: PathBuf,
    packs_dir: PathBuf,
    packs_dir_is_default: bool,
}

impl Context {
    fn open_store(&self) -> Result<HistoryStore, Failure> {
        Ok(HistoryStore::open(crate::paths::history_path(
            &self.data_dir,
        ))?)
    }

    /// The history for a command that only reads it: nothing is created, repaired or written.
    /// `None` when there is no history yet.
    fn open_store_read_only(&self) -> Result<Option<HistoryStore>, Failure> {
        match HistoryStore::open_read_only(crate::paths::history_path(&self.data_dir)) {
            Ok(store) => Ok(Some(store)),
            Err(HistoryError::NoHistory { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// First use of the default packs folder: fill it with the bundled sample packs. A folder
    /// given with --packs-dir is never written to.
    fn ensure_sample_packs(&self) -> Result<(), Failure> {
        if self.packs_dir_is_default && !self.packs_dir.exists() {
            crate::packs::bundled::install_sample_packs(&self.packs_dir).map_err(|e| {
                Failure::Store(format!(
                    "{}: cannot install the sample packs: {e}",
                    self.packs_dir.display()
                ))
            })?;
        }
        Ok(())
    }

    fn discover(&self) -> Result<DiscoveredPacks, Failure> {
        self.ensure_sample_packs()?;
        if !self.packs_dir.is_dir() {
            return Err(Failure::Usage(format!(
                "the packs folder {} does not exist",
                self.packs_dir.display()
            )));
        }
        Ok(discover_packs(&self.packs_dir))
    }
}

// ----- packs -----

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
fn cmd_packs(ctx: &Context, json: bool, out: &mut dyn Write) -> Result<i32, Failure> {
    let found = ctx.discover()?;
    if json {
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
            crate::packs::escape_control(&p.id).into_owned(),
            p.format_name().to_owned(),
            p.prompts.len().to_string(),
            truncate(&summarize_keys(&p.keys()), 60),
        ]);
    }
    let dir = ctx.packs_dir.display().to_string();
    let dir = crate::packs::escape_control(&dir);
    if found.packs.is_empty() {
        writeln!(out, "no packs in {dir}")?;
    } else {
        write_table(out, &rows, &[false, false, true, false])?;
    }
    for e in &found.errors {
        // The error's Display escapes control characters in the file name.
        writeln!(
            out,
            "bad file: {}",
            crate::packs::escape_control(&one_line(&e.to_string()))
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
/// a UTF-8 path (its string says it all). See [`cmd_packs`].
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

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// `1, 2, 3, 4, 7` -> `1-4, 7`; keys holding a comma are quoted.
fn summarize_keys(keys: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        let start: Option<u64> = keys[i].parse().ok().filter(|_| !keys[i].starts_with('0'));
        if let Some(first) = start {
            let mut j = i;
            while j + 1 < keys.len()
                && keys[j + 1].parse::<u64>().ok() == Some(first + (j + 1 - i) as u64)
            {
                j += 1;
            }
            if j - i >= 2 {
                parts.push(format!("{}-{}", keys[i], keys[j]));
                i = j + 1;
                continue;
            }
        }
        if keys[i].contains(',') {
            parts.push(format!("{:?}", keys[i]));
        } else {
            parts.push(keys[i].to_owned());
        }
        i += 1;
    }
    parts.join(", ")
}

// ----- submit -----

fn cmd_submit(ctx: &Context, args: &SubmitArgs, out: &mut dyn Write) -> Result<i32, Failure> {
    let usage = |m: &str| Err(Failure::Usage(m.to_owned()));
    let mut cfg = match (&args.pack, &args.prompt) {
        (Some(_), Some(_)) => {
            return usage("give either --pack ID --keys K1,K2 or --prompt TEXT, not both");
        }
        (None, None) => {
            return usage("nothing to submit: give --pack ID --keys K1,K2 or --prompt TEXT");
        }
        (None, Some(prompt)) => {
            if !args.keys.is_empty() {
                return usage("--keys goes with --pack, not with --prompt");
            }
            if prompt.trim().is_empty() {
                return usage("the prompt is empty");
            }
            let base = RunConfig {
                source: RunSource::Cli,
                run_mode: RunMode::Queue,
                ..RunConfig::default()
            };
            build_run_config_for_manual_prompt(
                prompt,
                args.negative.as_deref().unwrap_or(""),
                Some(base),
            )
        }
        (Some(pack_id), None) => {
            if args.negative.is_some() {
                return usage(
                    "--negative goes with --prompt; a pack's prompts bring their own negatives",
                );
            }
            let found = ctx.discover()?;
            let pack = find_pack(&found, pack_id, &ctx.packs_dir)?;
            if args.keys.iter().all(|k| k.trim().is_empty()) {
                return Err(Failure::Usage(format!(
                    "--pack needs --keys K1,K2 (pack {:?} has keys {})",
                    pack.id,
                    truncate(&summarize_keys(&pack.keys()), 80)
                )));
            }
            let keys = split_keys(&args.keys, pack);
            let mut cfg = build_run_config_from_prompt_pack(pack, &keys, None).map_err(|e| {
                Failure::Usage(format!(
                    "{e} (its keys: {})",
                    truncate(&summarize_keys(&pack.keys()), 80)
                ))
            })?;
            cfg.source = RunSource::Cli;
            cfg.run_mode = RunMode::Queue;
            cfg
        }
    };
    apply_settings(&args.settings, &mut cfg);
    // Adding one job must not cost a read of the whole history.
    let mut store = HistoryStore::open_append_only(crate::paths::history_path(&ctx.data_dir))?;
    let record = job_record_from_run_config(&HistoryStore::new_job_id(), &cfg);
    store.append(&record)?;
    writeln!(out, "{}", record.job_id)?;
    out.flush()?;
    Ok(0)
}

/// The keys of `--keys` values: a value that is itself a key of the pack stays whole (styles
/// may have commas in their names), anything else is split at commas.
fn split_keys(values: &[String], pack: &PromptPack) -> Vec<String> {
    let mut keys = Vec::new();
    for v in values {
        if pack.get(v).is_some() {
            keys.push(v.clone());
        } else {
            keys.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    keys
}

fn find_pack<'a>(
    found: &'a DiscoveredPacks,
    id: &str,
    dir: &Path,
) -> Result<&'a PromptPack, Failure> {
    if let Some(p) = found.packs.iter().find(|p| p.id == id) {
        return Ok(p);
    }
    let folded: Vec<&PromptPack> = found
        .packs
        .iter()
        .filter(|p| p.id.eq_ignore_ascii_case(id) || p.id.to_lowercase() == id.to_lowercase())
        .collect();
    if let [only] = folded.as_slice() {
        return Ok(only);
    }
    // A pack file with that stem that failed to load.
    let bad = found.errors.iter().find(|e| {
        e.path
            .as_deref()
            .and_then(Path::file_stem)
            .is_some_and(|s| s.to_string_lossy().eq_ignore_ascii_case(id))
    });
    if let Some(e) = bad {
        return Err(Failure::Usage(format!(
            "pack {id:?} could not be loaded: {}",
            one_line(&e.to_string())
        )));
    }
    let names: Vec<&str> = found.packs.iter().map(|p| p.id.as_str()).collect();
    Err(Failure::Usage(format!(
        "no pack {id:?} in {} (packs: {})",
        dir.display(),
        if names.is_empty() {
            "none".to_owned()
        } else {
            truncate(&names.join(", "), 120)
        }
    )))
}

fn apply_settings(s: &SettingsArgs, cfg: &mut RunConfig) {
    let t = &mut cfg.settings;
    if let Some(v) = &s.model {
        t.model.clone_from(v);
    }
    if let Some(v) = &s.sampler {
        t.sampler.clone_from(v);
    }
    if let Some(v) = &s.scheduler {
        t.scheduler.clone_from(v);
    }
    if let Some(v) = s.steps {
        t.steps = v;
    }
    if let Some(v) = s.cfg {
        t.cfg_scale = v;
    }
    if let Some(v) = s.width {
        t.width = v;
    }
    if let Some(v) = s.height {
        t.height = v;
    }
    if let Some(v) = s.seed {
        t.seed = v;
    }
    if let Some(v) = s.batch_size {
        t.batch_size = v;
    }
    if let Some(v) = s.batch_count {
        t.batch_count = v;
    }
    if let Some(v) = s.clip_skip {
        t.clip_skip = v;
    }
}

// ----- history -----

fn cmd_history(ctx: &Context, args: &HistoryArgs, out: &mut dyn Write) -> Result<i32, Failure> {
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
    [
        r.created_at
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        r.prompt_source.as_str().to_owned(),
        truncate(r.prompt_pack_id.as_deref().unwrap_or("-"), 24),
        truncate(&summarize_keys(&keys), 16),
        truncate(crate::history::first_prompt_line(r), 40),
        truncate(if model.is_empty() { "-" } else { model }, 24),
        r.run_config.settings.steps.to_string(),
        truncate(&r.status_text(), 16),
        r.job_id.clone(),
    ]
}

/// At most `max` characters, with `…` marking a cut; control characters become spaces.
fn truncate(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Writes rows as columns separated by two spaces; `right[i]` right-aligns column i.
fn write_table<const N: usize>(
    out: &mut dyn Write,
    rows: &[[String; N]],
    right: &[bool; N],
) -> io::Result<()> {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut line = String::new();
    for row in rows {
        line.clear();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths[i] - cell.chars().count();
            if right[i] {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if i + 1 < N {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

// ----- export -----

fn cmd_export(ctx: &Context, args: &ExportArgs, out: &mut dyn Write) -> Result<i32, Failure> {
    let output = &args.output;
    let store = ctx.open_store()?;
    let records = store.records();
    let rows = query_indices(records, &args.filter.to_filter(), SortColumn::Time, false);
    // Refuses the history's own files (exit 2) and writes through the shared atomic helper.
    let n = export_to_file(
        rows.iter().map(|&i| &records[i as usize]),
        args.format,
        output,
        store.path(),
    )
    .map_err(|e| {
        if e.is_refusal() {
            Failure::Usage(e.to_string())
        } else {
            Failure::Store(e.to_string())
        }
    })?;
    writeln!(out, "exported {} to {}", plural(n, "job"), output.display())?;
    Ok(0)
}

// ----- import, verify, compact -----

/// Warns (one line on stderr each) about imports that were interrupted (see
/// [`crate::history::interrupted_imports`]); every command but `import-stablenew` calls it.
fn warn_interrupted_imports(ctx: &Context, data_dir_arg: Option<&Path>, err: &mut dyn Write) {
    let history = crate::paths::history_path(&ctx.data_dir);
    let interrupted = interrupted_imports(&history);
    if interrupted.is_empty() {
        return;
    }
    // The command to run again must reach the same history.
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

fn cmd_import(ctx: &Context, file: &Path, out: &mut dyn Write) -> Result<i32, Failure> {
    let mut store = ctx.open_store()?;
    // Not a file (a folder, FIFO, device), or not StableNew's: exit 2, nothing written.
    let report = import_stablenew(&mut store, file).map_err(|e| {
        if e.is_bad_input() {
            Failure::Usage(e.to_string())
        } else {
            Failure::Store(e.to_string())
        }
    })?;
    let mut text = format!(
        "{}: {} read, {} found; {} imported, {} already in the history",
        file.display(),
        plural(report.lines, "line"),
        plural(report.jobs, "job"),
        report.imported,
        report.already_present,
    );
    if report.orphaned > 0 {
        let _ = write!(
            text,
            "; {} left running by StableNew imported as failed",
            report.orphaned
        );
    }
    if report.never_ran > 0 {
        let _ = write!(
            text,
            "; {} that never ran imported as cancelled",
            report.never_ran
        );
    }
    if report.renamed > 0 {
        let _ = write!(
            text,
            "; {} with a reused id stored under a new id",
            report.renamed
        );
    }
    if report.completed_interrupted {
        text.push_str("; the interrupted import of this file is now complete");
    }
    writeln!(out, "{text}")?;
    if !report.skipped.is_empty() {
        writeln!(out, "skipped {}:", plural(report.skipped.len(), "line"))?;
        for (line, reason) in &report.skipped {
            writeln!(out, "  line {line}: {}", one_line(reason))?;
        }
    }
    Ok(0)
}

fn cmd_verify(ctx: &Context, out: &mut dyn Write) -> Result<i32, Failure> {
    let history = crate::paths::history_path(&ctx.data_dir);
    let Some(store) = ctx.open_store_read_only()? else {
        writeln!(
            out,
            "history: {} (there is no history yet)",
            history.display()
        )?;
        write_quarantine_summary(&crate::history::quarantine_path_for(&history), out)?;
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

/// What the quarantine file holds: how many lines, when they were set aside, from which lines.
fn write_quarantine_summary(path: &Path, out: &mut dyn Write) -> io::Result<()> {
    let summary = match crate::history::read_quarantine(path) {
        Ok(s) => s,
        Err(e) => {
            writeln!(out, "quarantine: {}: cannot read it: {e}", path.display())?;
            return Ok(());
        }
    };
    if summary.entries.is_empty() {
        return Ok(());
    }
    let when = match summary.span() {
        Some((a, b)) if a == b => {
            format!(", set aside {}", crate::history::quarantine::format_time(a))
        }
        Some((a, b)) => format!(
            ", set aside between {} and {}",
            crate::history::quarantine::format_time(a),
            crate::history::quarantine::format_time(b)
        ),
        None => String::new(),
    };
    writeln!(
        out,
        "quarantine: {} holds {} set aside from the history{when}:",
        path.display(),
        plural(summary.entries.len(), "damaged line"),
    )?;
    for e in summary.entries.iter().take(50) {
        let line = e
            .history_line
            .map_or_else(|| "line ?".to_owned(), |l| format!("line {l}"));
        let at =
            e.at.map(|t| format!(" ({})", crate::history::quarantine::format_time(t)))
                .unwrap_or_default();
        let reason = e.reason.as_deref().map(one_line).unwrap_or_default();
        writeln!(
            out,
            "  {line}{at}: {} bytes{}",
            e.bytes,
            if reason.is_empty() {
                String::new()
            } else {
                format!(", {reason}")
            }
        )?;
    }
    if summary.entries.len() > 50 {
        writeln!(out, "  ... and {} more", summary.entries.len() - 50)?;
    }
    Ok(())
}

fn cmd_compact(ctx: &Context, out: &mut dyn Write) -> Result<i32, Failure> {
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
            "{} from another version kept as {} (this version cannot read them)",
            plural(c.foreign_kept, "line"),
            if c.foreign_kept == 1 {
                "it was"
            } else {
                "they were"
            }
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

fn cmd_debug_append_loop(
    ctx: &Context,
    count: Option<u64>,
    out: &mut dyn Write,
) -> Result<i32, Failure> {
    let mut store = ctx.open_store()?;
    let mut n = 0u64;
    while count.is_none_or(|c| n < c) {
        let cfg = build_run_config_for_manual_prompt(
            &format!("debug append {n}: a lighthouse on a cliff"),
            "",
            Some(RunConfig {
                source: RunSource::Cli,
                ..RunConfig::default()
            }),
        );
        let record = job_record_from_run_config(&HistoryStore::new_job_id(), &cfg);
        store.append(&record)?;
        writeln!(out, "{}", record.job_id)?;
        out.flush()?;
        n += 1;
    }
    Ok(0)
}
