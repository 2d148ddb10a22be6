//! Import of StableNew's `job_history.jsonl`.
//!
//! StableNew appends one full snapshot line per status change; the last line for a job wins.
//! Its history has known defects, handled here:
//!
//! - **Reused ids**: some versions wrote every job as `"new-job"`. Lines are folded per
//!   (job_id, created_at): a reused id with a different `created_at` is another job. Such jobs
//!   get the id `<id>@<created_at as RFC 3339 UTC>` (deterministic, so a second import
//!   recognises them); a unique id is kept as it is. An id that the store already holds for a
//!   *different* job (other created_at) is stamped the same way.
//! - **Origin reset**: later status lines reset `prompt_source` to "manual" and the pack id to
//!   null. The origin comes from the latest line that carries a pack origin: `prompt_source`
//!   "pack" with its `prompt_pack_id` / `prompt_keys` (null keys = none), or a snapshot
//!   (`snapshot`, `snapshot.normalized_job`, 2.6 `normalized_record_snapshot` /
//!   `njr_snapshot`) naming a pack (`prompt_pack_id`, `prompt_pack_name`, or
//!   `execution_metadata.source_pack` whose file stem is the pack id). A snapshot's 0-based
//!   `prompt_pack_row_index` / `slot_index` becomes the 1-based key promptdesk uses when the
//!   line names no keys. A pack id on a line whose source is "manual" is a pack origin too:
//!   StableNew resets the source to "manual" on some status lines, and its learning
//!   experiments name their `learning_…` pack id on some lines only; the job keeps it.
//! - **Jobs left "running"** by a crash are imported as failed, with an error message saying
//!   StableNew stopped while the job was running (counted in [`ImportReport::orphaned`]).
//!   Jobs whose history ends "queued" never ran: they are imported as cancelled with a message
//!   saying so ([`ImportReport::never_ran`]), so they never look like pending work.
//! - **Missing durations**: `duration_ms`, else `completed_at - started_at`, else
//!   `execution_metadata.duration_seconds`, else `result.metadata.duration_ms`.
//! - **Seed -1**: a real seed from any source of the job wins over -1.
//! - **The seed used**: where a line records the seed the backend actually drew (StableNew's
//!   result metadata `seeds.final_seed`, `actual_seed`, `final_seed`, a snapshot's
//!   `actual_seed` / `resolved_seed`), the record keeps it ([`seed_used`]); the configured
//!   seed stays as it was (-1 for random), so the config hash does not change.
//! - **Corrupt lines** are skipped and reported with their 1-based line number and reason.
//!
//! - **Not StableNew's at all**: a file none of whose lines is a StableNew job record (a CSV,
//!   a promptdesk history, ...) is refused with [`ImportError::NotStableNew`] and nothing is
//!   written. promptdesk's own history lines (records with `schema_version`, `config_hash` and
//!   `run_config`, and `{"op":"delete"}` tombstones) are not StableNew job records: importing
//!   them would re-tag promptdesk's jobs as StableNew GUI jobs, so such lines are skipped and
//!   a promptdesk history is refused. A file with some good lines imports those and reports
//!   the others as skipped.
//! - **Not a file**: a folder, a FIFO (named pipe), a device or a socket is refused before it
//!   is opened ([`ImportError::NotAFile`]); a FIFO is never opened, so nothing blocks.
//!
//! **Interrupted imports.** All new jobs are written with one `append_many`. While it runs, the
//! import keeps a marker file beside the history (`<history stem>.import-<random>.json`, e.g.
//! `history.import-0f3c….json`, mode 0600, holding the source path, job counts, start time and
//! pid) and holds an exclusive lock on it. The marker is removed once the write succeeded (or
//! failed with nothing written). If the process dies mid-write (a kill, a power cut) the
//! marker stays, unlocked: [`interrupted_imports`] reports it, and the CLI and the app say so
//! until an import of the same file succeeds (which completes it: jobs already imported are
//! recognised, never duplicated) and removes the marker. Test hook: the environment variable
//! `PROMPTDESK_TEST_IMPORT_PAUSE_MS` makes the import sleep that many milliseconds after it
//! created its marker and before it writes (so a test can kill it at that point).
//!
//! Timestamps are naive UTC ISO strings (`2025-11-28T02:47:18.238146`) or RFC 3339 (`…Z`,
//! offsets); older schemas (2.0 `pipeline_config`, 2.4 `config` + `prompts`, 2.6
//! `normalized_record_snapshot`) have no `created_at` and use `timestamp` (else `started_at` /
//! `execution_metadata.start_time`). Prompts and settings are gathered from every source a
//! line carries (`pipeline_config`, `config` + `prompts`, the snapshots, `result.config`, and
//! the txt2img payload StableNew sent, `result.result.variants[0].txt2img`), each setting from
//! the latest line that has it; settings no line names keep promptdesk's defaults. A sampler
//! written the old A1111 way with its schedule (`DPM++ 2M Karras`) is split into sampler and
//! scheduler when no scheduler is given, as A1111 does. Jobs are `RunSource::Gui` (StableNew is
//! a GUI), run mode `queue` unless a line says `direct`, and carry
//! `run_config.prompt_payload.imported_from = "StableNew"` ([`is_stablenew_import`]; the
//! marker is not searchable text and is not exported as CSV or infotext).

use super::store::{HistoryError, HistoryStore};
use crate::job_record::{JOB_RECORD_SCHEMA_VERSION, JobRecord, JobStatus};
use crate::run_config::{GenerationSettings, PromptSource, RunConfig, RunMode, RunSource};
use crate::settings_override::SettingsOverride;
use crate::wording::{one_line, plural};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// What an import found and did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Lines read (blank lines not counted).
    pub lines: usize,
    /// Distinct jobs found in the file (after last-line-wins folding).
    pub jobs: usize,
    /// Jobs added to the store.
    pub imported: usize,
    /// Jobs the store already had (an earlier import of the same file).
    pub already_present: usize,
    /// Jobs an earlier import brought in that this file shows further along (queued then,
    /// completed now), that an older promptdesk imported with StableNew's unrecorded
    /// settings taken for defaults, or whose seed used this file names for the first time:
    /// updated in place (origin kept). A finished job is never set back.
    pub updated: usize,
    /// Lines that could not be used: (1-based line, reason).
    pub skipped: Vec<(usize, String)>,
    /// Jobs StableNew left "running" (it stopped mid-job): imported as failed. For an import
    /// into a history, those written now (not those it already had).
    pub orphaned: usize,
    /// Jobs whose history ends "queued" (they never ran): imported as cancelled. For an
    /// import into a history, those written now (not those it already had).
    pub never_ran: usize,
    /// Jobs whose StableNew id was reused or already taken, stored as `<id>@<created_at>`.
    /// For an import into a history, those written now.
    pub renamed: usize,
    /// Lines that are promptdesk history lines (counted in `skipped` too).
    pub promptdesk_lines: usize,
    /// True when this import completed an earlier, interrupted import of the same file (and
    /// removed its marker).
    pub completed_interrupted: bool,
    /// The updated records `updated` counts (written by the import, not part of the report).
    pub(crate) updates: Vec<JobRecord>,
}

impl ImportReport {
    /// What the import did, in the words both the CLI (`import-stablenew`) and the app say it:
    /// the counts, then what happened to particular jobs on the way in (jobs left running
    /// imported as failed, never-ran jobs as cancelled, reused ids stored under new ids) and
    /// whether an interrupted import was completed. Skipped lines are not in it: see
    /// [`ImportReport::skipped_summary`].
    pub fn summary(&self) -> String {
        let mut parts = vec![
            format!(
                "{} read, {} found",
                plural(self.lines, "line"),
                plural(self.jobs, "job")
            ),
            format!(
                "{} imported, {} already in the history",
                self.imported, self.already_present
            ),
        ];
        if self.updated > 0 {
            parts.push(format!(
                "{} updated from this file",
                plural(self.updated, "job")
            ));
        }
        if self.orphaned > 0 {
            parts.push(format!(
                "{} left running by StableNew imported as failed",
                self.orphaned
            ));
        }
        if self.never_ran > 0 {
            parts.push(format!(
                "{} that never ran imported as cancelled",
                self.never_ran
            ));
        }
        if self.renamed > 0 {
            parts.push(format!(
                "{} with a reused id stored under a new id",
                self.renamed
            ));
        }
        if self.completed_interrupted {
            parts.push("the interrupted import of this file is now complete".to_owned());
        }
        parts.join("; ")
    }

    /// The skipped lines in one sentence, the first `max` with their line number and reason
    /// (`2 lines skipped: line 4: not JSON; line 9: no job_id`), or None when none was.
    pub fn skipped_summary(&self, max: usize) -> Option<String> {
        if self.skipped.is_empty() {
            return None;
        }
        let listed: Vec<String> = self
            .skipped
            .iter()
            .take(max)
            .map(|(line, reason)| format!("line {line}: {}", one_line(reason)))
            .collect();
        let more = self.skipped.len().saturating_sub(max);
        let more = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        Some(format!(
            "{} skipped: {}{more}",
            plural(self.skipped.len(), "line"),
            listed.join("; ")
        ))
    }
}

/// Why an import failed. In every case nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file does not exist.
    #[error("{path}: no such file", path = .path.display())]
    NotFound { path: PathBuf },
    /// A folder, FIFO, device or socket.
    #[error("{path} is {what}, not a file", path = .path.display())]
    NotAFile {
        path: PathBuf,
        /// "a folder", "a FIFO (named pipe)", "a device", "a socket", "a special file".
        what: &'static str,
    },
    /// None of the file's lines is a StableNew job record.
    #[error("{}", not_stablenew_message(.path, *.lines, *.promptdesk_lines))]
    NotStableNew {
        path: PathBuf,
        /// Non-blank lines in the file.
        lines: usize,
        /// How many of them are promptdesk history lines.
        promptdesk_lines: usize,
    },
    /// Reading the file or writing the history failed.
    #[error(transparent)]
    History(#[from] HistoryError),
}

impl ImportError {
    /// True when the input is at fault (not a file, not StableNew's): the CLI's exit 2.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ImportError::History(_))
    }
}

fn not_stablenew_message(path: &Path, lines: usize, promptdesk_lines: usize) -> String {
    let none = if lines == 1 {
        "its only line is not a StableNew job record".to_owned()
    } else {
        format!("none of its {lines} lines is a StableNew job record")
    };
    let what = if promptdesk_lines == lines {
        "; it is a promptdesk history, whose jobs are already promptdesk's and are not imported"
    } else {
        ""
    };
    format!(
        "{} is not a StableNew job history ({none}{what}); nothing was imported",
        path.display()
    )
}

/// The `run_config.prompt_payload` key an imported job carries, naming where it came from.
pub const IMPORTED_FROM_KEY: &str = "imported_from";
/// Its value for a job imported from a StableNew history.
pub const IMPORTED_FROM_STABLENEW: &str = "StableNew";

/// True for a job imported from a StableNew history. Such a job is recorded with
/// `"source": "gui"` (StableNew is a GUI) and StableNew's run mode; what tells it apart is
/// `run_config.prompt_payload.imported_from` = "StableNew" (written since this version).
///
/// A GUI job imported before carries no such key: it is recognised by what only an import
/// leaves ([`left_by_stablenew_import`]), never by its run mode (the app will queue jobs too).
pub fn is_stablenew_import(record: &JobRecord) -> bool {
    match record
        .run_config
        .prompt_payload
        .get(IMPORTED_FROM_KEY)
        .and_then(Value::as_str)
    {
        Some(from) => from == IMPORTED_FROM_STABLENEW,
        None => record.source == RunSource::Gui && left_by_stablenew_import(record),
    }
}

/// What an import of a StableNew history leaves in a job and promptdesk itself never writes
/// (for jobs imported before the [`IMPORTED_FROM_KEY`] marker): StableNew's payload summary
/// (`stablenew_summary`), the messages the import gives jobs StableNew left running or never
/// ran ([`ORPHANED_MESSAGE`], [`NEVER_RAN_MESSAGE`]), or a job id StableNew made. promptdesk
/// names every job it records with a UUID version 7 ([`HistoryStore::new_job_id`]); StableNew
/// names them with a UUID version 4 or with names such as `new-job` (then stamped
/// `new-job@<created_at>` by the import), `learning_…` or `job-1`. Of the 409 jobs of the
/// real StableNew histories at hand, 113 have a summary or one of the messages; every one has
/// an id promptdesk does not make.
fn left_by_stablenew_import(record: &JobRecord) -> bool {
    record
        .run_config
        .prompt_payload
        .contains_key("stablenew_summary")
        || matches!(
            record.error_message.as_deref(),
            Some(ORPHANED_MESSAGE | NEVER_RAN_MESSAGE)
        )
        || !is_promptdesk_job_id(&record.job_id)
}

/// True for a job id promptdesk makes ([`HistoryStore::new_job_id`]): a hyphenated UUID of
/// version 7.
fn is_promptdesk_job_id(id: &str) -> bool {
    id.len() == 36 && uuid::Uuid::try_parse(id).is_ok_and(|u| u.get_version_num() == 7)
}

/// The error message of a job StableNew left running.
pub const ORPHANED_MESSAGE: &str =
    "StableNew stopped while this job was running (its history never recorded an end)";
/// The error message of a job StableNew's history leaves queued.
pub const NEVER_RAN_MESSAGE: &str =
    "StableNew's history ends with this job still queued; it never ran";

/// Reads a StableNew history file and converts it to JobRecords (one per job, last line wins).
/// A file none of whose lines is usable gives no records (and every line in `skipped`).
pub fn read_stablenew_history(path: &Path) -> Result<(Vec<JobRecord>, ImportReport), ImportError> {
    let (jobs, report) = read_jobs(path)?;
    Ok((jobs.into_iter().map(|j| j.record).collect(), report))
}

/// Imports a StableNew history file into `store`; importing the same file twice adds nothing.
/// The new jobs are written with one `append_many`, under an import marker (see the module
/// docs). A file none of whose lines is a StableNew job record is refused
/// ([`ImportError::NotStableNew`]).
pub fn import_stablenew(
    store: &mut HistoryStore,
    path: &Path,
) -> Result<ImportReport, ImportError> {
    let (jobs, report) = read_jobs(path)?;
    if report.jobs == 0 && report.lines > 0 {
        return Err(ImportError::NotStableNew {
            path: path.to_path_buf(),
            lines: report.lines,
            promptdesk_lines: report.promptdesk_lines,
        });
    }
    let source = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    // Catch up with what other processes wrote, so "already present" is accurate.
    store.reload()?;
    let (mut fresh, mut report_now) = select_new(store, &jobs, report.clone());
    let updates = std::mem::take(&mut report_now.updates);
    if !fresh.is_empty() {
        let marker = ImportMarker::create(store.path(), &source, report.jobs, fresh.len());
        test_pause();
        let mut result = store.append_many(&fresh);
        if let Err(HistoryError::DuplicateJobId { .. }) = result {
            // Another process added one of these ids meanwhile: look again, once.
            result = store.reload().map(drop);
            if result.is_ok() {
                let (again_fresh, again) = select_new(store, &jobs, report);
                fresh = again_fresh;
                report_now = again;
                result = store.append_many(&fresh);
            }
        }
        if let Err(e) = result {
            // A duplicate id is found before anything is written, and the store cuts a failed
            // write back; if some of it is there after all, the marker stays (unlocked once we
            // return) and says the import was interrupted.
            let written = !matches!(e, HistoryError::DuplicateJobId { .. })
                && (store.reload().is_err()
                    || fresh.iter().any(|r| {
                        store
                            .get(&r.job_id)
                            .is_some_and(|s| s.created_at == r.created_at)
                    }));
            if let Some(marker) = marker {
                marker.finish(!written);
            }
            return Err(e.into());
        }
        if let Some(marker) = marker {
            marker.finish(true);
        }
    }
    // Jobs an earlier import left queued (or running) that this file shows finished: a new
    // line each, so the last line wins across imports as it does within a file.
    for record in &updates {
        store.update(record)?;
    }
    report_now.completed_interrupted = clear_interrupted(store.path(), &source);
    Ok(report_now)
}

/// Sleeps for `PROMPTDESK_TEST_IMPORT_PAUSE_MS` milliseconds, if set (a test hook, see the
/// module docs).
fn test_pause() {
    if let Some(ms) = std::env::var("PROMPTDESK_TEST_IMPORT_PAUSE_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// An import that was interrupted: its marker exists and no process holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct InterruptedImport {
    /// The marker file.
    pub marker: PathBuf,
    /// The StableNew file being imported (absolute), if the marker could be read.
    pub source: Option<PathBuf>,
    /// Jobs in the file, and how many of them the import was writing.
    pub jobs: Option<usize>,
    pub to_import: Option<usize>,
    /// When the import started.
    pub started_at: Option<DateTime<Utc>>,
    /// The process that ran it.
    pub pid: Option<u32>,
}

impl InterruptedImport {
    /// The source file as shown to the user.
    pub fn source_text(&self) -> String {
        self.source.as_deref().map_or_else(
            || "a StableNew history".to_owned(),
            |p| p.display().to_string(),
        )
    }

    /// When it started, in local time (`started 2025-12-01 09:00:00`), or `time unknown`.
    pub fn when_text(&self) -> String {
        self.started_at.map_or_else(
            || "time unknown".to_owned(),
            |t| {
                format!(
                    "started {}",
                    t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")
                )
            },
        )
    }

    /// The CLI's warning (without the `promptdesk: warning: ` prefix): what happened and the
    /// command that completes it. `global_args` go before the command (e.g. `--data-dir DIR`).
    pub fn cli_message(&self, global_args: &[&str]) -> String {
        let source = self.source_text();
        let mut command = vec!["promptdesk".to_owned()];
        command.extend(global_args.iter().map(|a| shell_quote(a)));
        command.push("import-stablenew".to_owned());
        command.push(self.source.as_deref().map_or_else(
            || "<file>".to_owned(),
            |p| shell_quote(&p.to_string_lossy()),
        ));
        format!(
            "an import of {source} was interrupted ({}); run `{}` again to complete it (jobs already imported are not duplicated)",
            self.when_text(),
            command.join(" ")
        )
    }
}

/// `text` quoted for a POSIX shell when it needs it.
fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// The marker file names of the history at `history_path`: `<stem>.import-<32 hex>.json`.
fn marker_name_prefix(history_path: &Path) -> String {
    let stem = history_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "history".to_owned());
    format!("{stem}.import-")
}

fn is_marker_name(name: &std::ffi::OsStr, prefix: &str) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(".json"))
        .is_some_and(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The markers of the history at `history_path` that no process holds, locked by us (so a
/// caller can remove them safely), oldest first.
fn unheld_markers(history_path: &Path) -> Vec<(InterruptedImport, File)> {
    let dir = crate::fsutil::parent_dir(history_path);
    let prefix = marker_name_prefix(history_path);
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        if !is_marker_name(&entry.file_name(), &prefix) {
            continue;
        }
        let path = entry.path();
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let Ok(mut file) = crate::fsutil::open_no_follow(&path) else {
            continue;
        };
        // Held: its import is running. Locks unsupported: we cannot tell, say nothing.
        if file.try_lock().is_err() {
            continue;
        }
        let mut text = String::new();
        let doc: Value = file
            .read_to_string(&mut text)
            .ok()
            .and_then(|_| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
        let number = |key: &str| doc.get(key).and_then(Value::as_u64);
        found.push((
            InterruptedImport {
                marker: path,
                source: doc.get("source").and_then(Value::as_str).map(PathBuf::from),
                jobs: number("jobs").map(|n| n as usize),
                to_import: number("to_import").map(|n| n as usize),
                started_at: doc.get("started_at").and_then(parse_time),
                pid: number("pid").and_then(|n| u32::try_from(n).ok()),
            },
            file,
        ));
    }
    found.sort_by(|a, b| (a.0.started_at, &a.0.marker).cmp(&(b.0.started_at, &b.0.marker)));
    found
}

/// Every interrupted import into the history at `history_path` (markers that exist and that
/// no process holds), oldest first. Cheap: one listing of the history's folder.
pub fn interrupted_imports(history_path: &Path) -> Vec<InterruptedImport> {
    unheld_markers(history_path)
        .into_iter()
        .map(|(info, _lock)| info)
        .collect()
}

/// The oldest interrupted import into the history at `history_path`, if any.
pub fn interrupted_import(history_path: &Path) -> Option<InterruptedImport> {
    interrupted_imports(history_path).into_iter().next()
}

/// Removes the markers of interrupted imports of `source` (now complete). True if any.
fn clear_interrupted(history_path: &Path, source: &Path) -> bool {
    let mut cleared = false;
    for (info, lock) in unheld_markers(history_path) {
        if info.source.as_deref() == Some(source) {
            cleared |= remove_marker(&info.marker, lock);
        }
    }
    cleared
}

/// Removes a marker we hold (Unix: while holding it; Windows cannot remove an open file).
fn remove_marker(path: &Path, lock: File) -> bool {
    #[cfg(not(unix))]
    drop(lock);
    let removed = fs::remove_file(path).is_ok();
    #[cfg(unix)]
    drop(lock);
    removed
}

/// The marker of a running import, held (locked) until [`ImportMarker::finish`] or the end of
/// the process.
struct ImportMarker {
    path: PathBuf,
    file: File,
}

impl ImportMarker {
    /// Creates and locks the marker. It is written under a temp name and renamed into place,
    /// so it never appears unlocked or half written. None when it cannot be created (the
    /// import goes on without it).
    fn create(
        history_path: &Path,
        source: &Path,
        jobs: usize,
        to_import: usize,
    ) -> Option<ImportMarker> {
        let dir = crate::fsutil::parent_dir(history_path);
        let prefix = marker_name_prefix(history_path);
        let path = dir.join(format!("{prefix}{}.json", uuid::Uuid::new_v4().simple()));
        // Temp files of markers share one pattern, so a crash between the two steps leaves
        // something `remove_stale_temps` recognises.
        let temp_target = dir.join(prefix.trim_end_matches('-'));
        let temp = crate::fsutil::temp_path_for(&temp_target).ok()?;
        let mut file = crate::fsutil::create_new_private(&temp).ok()?;
        let doc = serde_json::json!({
            "source": source,
            "jobs": jobs,
            "to_import": to_import,
            "started_at": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
            "pid": std::process::id(),
            "history": history_path,
        });
        let written = file.try_lock().is_ok()
            && file
                .write_all(format!("{doc}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .and_then(|()| fs::rename(&temp, &path))
                .is_ok();
        if !written {
            let _ = fs::remove_file(&temp);
            return None;
        }
        let _ = crate::fsutil::sync_dir(dir);
        Some(ImportMarker { path, file })
    }

    /// Ends the import: removes the marker when `done`, else leaves it to be reported.
    fn finish(self, done: bool) {
        if done {
            remove_marker(&self.path, self.file);
            if let Some(name) = self.path.file_name().and_then(|n| n.to_str())
                && let Some((stem, _)) = name.rsplit_once('-')
            {
                crate::fsutil::remove_stale_temps(
                    crate::fsutil::parent_dir(&self.path),
                    stem,
                    crate::fsutil::STALE_TEMP_AGE,
                );
            }
        }
    }
}

/// A job read from the file, with the id StableNew gave it.
struct ImportedJob {
    record: JobRecord,
    original_id: String,
}

fn stamped_id(id: &str, created_at: &DateTime<Utc>) -> String {
    format!(
        "{id}@{}",
        created_at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    )
}

/// How far along an imported job is: 0 never ran (StableNew's history ended "queued"), 1 left
/// running by a crash, 2 finished.
fn import_rank(record: &JobRecord) -> u8 {
    match record.error_message.as_deref() {
        Some(NEVER_RAN_MESSAGE) if record.status == JobStatus::Cancelled => 0,
        Some(ORPHANED_MESSAGE) if record.status == JobStatus::Failed => 1,
        _ => 2,
    }
}

/// The jobs the store does not have yet, with ids that are free in the store; in
/// `report.updates`, the imported jobs this file shows further along.
fn select_new(
    store: &HistoryStore,
    jobs: &[ImportedJob],
    mut report: ImportReport,
) -> (Vec<JobRecord>, ImportReport) {
    let same_job =
        |id: &str, created: &DateTime<Utc>| store.get(id).is_some_and(|r| r.created_at == *created);
    let mut taken: HashSet<String> = HashSet::new();
    let mut fresh = Vec::new();
    let mut renamed = 0;
    for job in jobs {
        let created = &job.record.created_at;
        let stamped = stamped_id(&job.original_id, created);
        let present = [&job.record.job_id, &job.original_id, &stamped]
            .into_iter()
            .find(|id| same_job(id, created))
            .and_then(|id| store.get(id));
        if let Some(stored) = present {
            // Further along now; or as far, but imported by a promptdesk that took StableNew's
            // missing settings for defaults (they are unknown now: repaired, origin kept).
            let further = import_rank(&job.record) > import_rank(stored);
            let same = import_rank(&job.record) == import_rank(stored);
            let repaired = same
                && stored.run_config.unknown_settings().is_empty()
                && !job.record.run_config.unknown_settings().is_empty();
            // As far, and the file now names the seed the backend used.
            let seed_learnt = same
                && super::export::seed_used(&stored.run_config).is_none()
                && super::export::seed_used(&job.record.run_config).is_some();
            if is_stablenew_import(stored) && (further || repaired || seed_learnt) {
                let mut newer = job.record.clone();
                newer.job_id.clone_from(&stored.job_id);
                newer.unknown = stored.unknown.clone();
                report.updates.push(newer);
                report.updated += 1;
            } else {
                report.already_present += 1;
            }
            continue;
        }
        let mut record = job.record.clone();
        if store.get(&record.job_id).is_some() || taken.contains(&record.job_id) {
            // The id belongs to another job in the store: stamp it with the creation time.
            if store.get(&stamped).is_some() || taken.contains(&stamped) {
                report.already_present += 1;
                continue;
            }
            record.job_id = stamped;
        }
        if record.job_id != job.original_id {
            renamed += 1;
        }
        taken.insert(record.job_id.clone());
        fresh.push(record);
    }
    report.imported = fresh.len();
    // Like the counts below: of the jobs written now (a reused id within the file, or one the
    // history gives another job), not of those the history already had.
    report.renamed = renamed;
    // Jobs imported as failed (left running) or cancelled (never ran): of those written now,
    // not of those the history already had.
    let count = |rank: u8| {
        fresh
            .iter()
            .chain(&report.updates)
            .filter(|r| import_rank(r) == rank)
            .count()
    };
    let (orphaned, never_ran) = (count(1), count(0));
    report.orphaned = orphaned;
    report.never_ran = never_ran;
    (fresh, report)
}

/// Reads the whole file at `path`, refusing (before opening it) anything but a regular file.
fn read_regular_file(path: &Path) -> Result<Vec<u8>, ImportError> {
    let io_error = |e| HistoryError::from_io(path, "read the StableNew history", e);
    let refuse = |what| ImportError::NotAFile {
        path: path.to_path_buf(),
        what,
    };
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ImportError::NotFound {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(io_error(e).into()),
    };
    if let Some(what) = crate::fsutil::describe_non_regular(&meta) {
        return Err(refuse(what));
    }
    // Opened without blocking (in case the path was swapped for a FIFO meanwhile), then checked
    // again through the handle.
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = options.open(path).map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    if let Some(what) = crate::fsutil::describe_non_regular(&meta) {
        return Err(refuse(what));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes).map_err(io_error)?;
    Ok(bytes)
}

/// True for a line of promptdesk's own history: a job record or a delete tombstone.
fn is_promptdesk_line(line: &Map<String, Value>) -> bool {
    let record = line.contains_key("schema_version")
        && line.contains_key("config_hash")
        && line.get("run_config").is_some_and(Value::is_object);
    let tombstone = line.get("op").and_then(Value::as_str) == Some("delete")
        && line.contains_key("at")
        && !line.contains_key("status");
    record || tombstone
}

fn read_jobs(path: &Path) -> Result<(Vec<ImportedJob>, ImportReport), ImportError> {
    let bytes = read_regular_file(path)?;
    let mut report = ImportReport::default();
    let mut groups: Vec<Group> = Vec::new();
    let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();

    let mut raw_lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if raw_lines.last().is_some_and(|l| l.is_empty()) {
        raw_lines.pop();
    }
    for (i, raw) in raw_lines.into_iter().enumerate() {
        let line_no = i + 1;
        let mut raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if i == 0 {
            raw = raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw);
        }
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        report.lines += 1;
        let info = match parse_line(raw) {
            Ok(info) => info,
            Err(LineError::Promptdesk) => {
                report.promptdesk_lines += 1;
                report.skipped.push((
                    line_no,
                    "a promptdesk history line, not a StableNew job record".to_owned(),
                ));
                continue;
            }
            Err(LineError::Bad(reason)) => {
                report.skipped.push((line_no, reason));
                continue;
            }
        };
        let candidates = by_id.entry(info.job_id.clone()).or_default();
        let found = match info.created_at {
            Some(t) => candidates
                .iter()
                .rev()
                .copied()
                .find(|&g| groups[g].explicit_created == Some(t))
                .or_else(|| {
                    // A job first seen without created_at (old schema) adopts it.
                    candidates
                        .last()
                        .copied()
                        .filter(|&g| groups[g].explicit_created.is_none())
                }),
            None => candidates.last().copied(),
        };
        match found {
            Some(g) => {
                if groups[g].explicit_created.is_none() {
                    groups[g].explicit_created = info.created_at;
                }
                groups[g].lines.push(info);
            }
            None => {
                let Some(created) = info.created_at.or(info.fallback_created) else {
                    report.skipped.push((
                        line_no,
                        "no created_at, timestamp or start time: the job cannot be placed"
                            .to_owned(),
                    ));
                    continue;
                };
                candidates.push(groups.len());
                groups.push(Group {
                    original_id: info.job_id.clone(),
                    explicit_created: info.created_at,
                    created,
                    lines: vec![info],
                });
            }
        }
    }
    report.jobs = groups.len();

    let mut jobs = Vec::with_capacity(groups.len());
    for group in groups {
        let reused = by_id.get(&group.original_id).is_some_and(|g| g.len() > 1);
        let created = group.explicit_created.unwrap_or(group.created);
        let job_id = if reused {
            report.renamed += 1;
            stamped_id(&group.original_id, &created)
        } else {
            group.original_id.clone()
        };
        let Some(record) = fold_group(&group, job_id, created, &mut report) else {
            continue;
        };
        jobs.push(ImportedJob {
            record,
            original_id: group.original_id,
        });
    }
    Ok((jobs, report))
}

/// The lines of one job, in file order.
struct Group {
    original_id: String,
    /// The `created_at` the lines carry (None for old schemas without one).
    explicit_created: Option<DateTime<Utc>>,
    /// The creation time used when no line has `created_at`.
    created: DateTime<Utc>,
    lines: Vec<LineInfo>,
}

/// What one line says, extracted (the JSON value itself is not kept).
struct LineInfo {
    job_id: String,
    created_at: Option<DateTime<Utc>>,
    fallback_created: Option<DateTime<Utc>>,
    status: JobStatus,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    error_message: Option<String>,
    duration_ms: Option<u64>,
    /// Duration from `execution_metadata` or `result.metadata`.
    other_duration_ms: Option<u64>,
    run_mode: Option<RunMode>,
    origin: Option<PackOrigin>,
    settings: Partial,
    summary: Option<String>,
    /// The seed the backend actually used, where StableNew recorded it.
    seed_used: Option<i64>,
}

#[derive(Clone, Default)]
struct PackOrigin {
    pack_id: Option<String>,
    keys: Vec<String>,
}

/// Prompts and settings as far as a line (or a job) names them.
#[derive(Clone, Default)]
struct Partial {
    prompt: Option<String>,
    negative: Option<String>,
    settings: SettingsOverride,
}

impl Partial {
    /// Takes every value `newer` names; a random seed (-1) does not replace a real one.
    fn merge(&mut self, newer: Partial) {
        if newer.prompt.is_some() {
            self.prompt = newer.prompt;
        }
        if newer.negative.is_some() {
            self.negative = newer.negative;
        }
        let kept_seed = match (self.settings.seed, newer.settings.seed) {
            (Some(old), Some(new)) if old >= 0 && new < 0 => Some(old),
            _ => None,
        };
        self.settings.merge(&newer.settings);
        if kept_seed.is_some() {
            self.settings.seed = kept_seed;
        }
    }

    fn to_settings(&self) -> GenerationSettings {
        let mut s = self.settings.to_settings();
        if self
            .settings
            .scheduler
            .as_deref()
            .is_none_or(|sch| sch.eq_ignore_ascii_case("automatic"))
        {
            // Old A1111 sampler names carry the schedule ("DPM++ 2M Karras").
            for schedule in ["Karras", "Exponential"] {
                if let Some(base) = s.sampler.strip_suffix(schedule)
                    && let Some(base) = base.strip_suffix(' ')
                    && !base.trim().is_empty()
                {
                    s.sampler = base.trim_end().to_owned();
                    s.scheduler = schedule.to_owned();
                    break;
                }
            }
        }
        s
    }
}

/// Why a line is not used.
enum LineError {
    /// A line of promptdesk's own history.
    Promptdesk,
    /// Anything else, with the reason.
    Bad(String),
}

impl From<String> for LineError {
    fn from(reason: String) -> LineError {
        LineError::Bad(reason)
    }
}

fn parse_line(raw: &[u8]) -> Result<LineInfo, LineError> {
    let text = std::str::from_utf8(raw).map_err(|e| {
        format!(
            "not UTF-8 text (bad byte at column {})",
            e.valid_up_to() + 1
        )
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(line) = value else {
        return Err("not a JSON object".to_owned().into());
    };
    if is_promptdesk_line(&line) {
        return Err(LineError::Promptdesk);
    }
    let job_id = match line.get("job_id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("no job_id".to_owned().into()),
    };
    let status = match line.get("status") {
        None | Some(Value::Null) => JobStatus::Queued, // StableNew's own reader defaults so
        Some(Value::String(s)) => parse_status(s).ok_or_else(|| format!("unknown status {s:?}"))?,
        Some(other) => return Err(format!("unknown status {other}").into()),
    };
    let created_at = match line.get("created_at") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_time(v).ok_or_else(|| format!("created_at {v} is not a timestamp"))?),
    };
    let exec = line.get("execution_metadata").and_then(Value::as_object);
    let exec_time = |key: &str| exec.and_then(|m| m.get(key)).and_then(parse_time);
    let time = |key: &str| line.get(key).and_then(parse_time);
    let started_at = time("started_at").or_else(|| exec_time("start_time"));
    let completed_at = time("completed_at").or_else(|| exec_time("end_time"));
    let fallback_created = time("timestamp")
        .or(started_at)
        .or_else(|| exec_time("start_time"))
        .or(completed_at);
    let duration_ms = line.get("duration_ms").and_then(as_millis);
    let result = line.get("result").and_then(Value::as_object);
    let other_duration_ms = exec
        .and_then(|m| m.get("duration_seconds"))
        .and_then(as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e12)
        .map(|s| (s * 1000.0).round() as u64)
        .or_else(|| {
            result
                .and_then(|r| r.get("metadata"))
                .and_then(|m| m.get("duration_ms"))
                .and_then(as_millis)
        });
    let error_message = line
        .get("error_message")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned);
    let run_mode = line
        .get("run_mode")
        .and_then(Value::as_str)
        .and_then(parse_run_mode);
    let summary = line
        .get("payload_summary")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "callable payload" && *s != job_id)
        .map(str::to_owned);

    // Snapshots: the NJR-like objects a line carries, oldest schema first.
    let mut snapshots: Vec<&Map<String, Value>> = Vec::new();
    for key in ["normalized_record_snapshot", "njr_snapshot", "snapshot"] {
        if let Some(obj) = line.get(key).and_then(Value::as_object) {
            snapshots.push(obj);
            if let Some(nj) = obj.get("normalized_job").and_then(Value::as_object) {
                snapshots.push(nj);
            }
        }
    }

    let mut settings = Partial::default();
    if let Some(pc) = line.get("pipeline_config").and_then(Value::as_object) {
        read_container(pc, &mut settings);
    }
    read_container(&line, &mut settings);
    for snap in &snapshots {
        read_container(snap, &mut settings);
    }
    if let Some(result) = result {
        if let Some(cfg) = result.get("config").and_then(Value::as_object) {
            read_container(cfg, &mut settings);
        }
        let variants = result
            .get("result")
            .and_then(|r| r.get("variants"))
            .or_else(|| result.get("variants"));
        if let Some(txt2img) = variants
            .and_then(Value::as_array)
            .and_then(|v| v.first())
            .and_then(|v| v.get("txt2img"))
            .and_then(Value::as_object)
        {
            read_flat(txt2img, &mut settings);
        }
    }

    let origin = line_origin(&line, &snapshots);
    let seed_used = seed_used_in(result, &snapshots);
    Ok(LineInfo {
        job_id,
        created_at,
        fallback_created,
        status,
        started_at,
        completed_at,
        error_message,
        duration_ms,
        other_duration_ms,
        run_mode,
        origin,
        settings,
        summary,
        seed_used,
    })
}

/// The seed the backend actually used, where a StableNew line records it, looked up in the
/// order StableNew's own history panel reads it (`JobHistoryPanelV2._extract_seed`): the
/// result's metadata (a dict, or the last dict of a list of stage manifests) `seeds.final_seed`,
/// then its `actual_seed` / `final_seed`, then the result's own `actual_seed` / `final_seed`,
/// then a snapshot's `actual_seed` / `resolved_seed`. -1 (random, not drawn yet) and
/// negative values are not seeds used.
fn seed_used_in(
    result: Option<&Map<String, Value>>,
    snapshots: &[&Map<String, Value>],
) -> Option<i64> {
    let drawn = |v: Option<&Value>| v.and_then(as_i64).filter(|s| *s >= 0);
    let either = |obj: &Map<String, Value>, keys: [&str; 2]| {
        keys.into_iter().find_map(|k| drawn(obj.get(k)))
    };
    let metadata = result.and_then(|r| match r.get("metadata") {
        Some(Value::Object(m)) => Some(m),
        Some(Value::Array(items)) => items.iter().rev().find_map(Value::as_object),
        _ => None,
    });
    metadata
        .and_then(|m| drawn(m.get("seeds").and_then(|s| s.get("final_seed"))))
        .or_else(|| metadata.and_then(|m| either(m, ["actual_seed", "final_seed"])))
        .or_else(|| result.and_then(|r| either(r, ["actual_seed", "final_seed"])))
        .or_else(|| {
            snapshots
                .iter()
                .rev()
                .find_map(|s| either(s, ["actual_seed", "resolved_seed"]))
        })
}

fn parse_status(s: &str) -> Option<JobStatus> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("canceled") {
        return Some(JobStatus::Cancelled);
    }
    JobStatus::parse(s)
}

fn parse_run_mode(s: &str) -> Option<RunMode> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("queue") {
        Some(RunMode::Queue)
    } else if s.eq_ignore_ascii_case("direct") {
        Some(RunMode::Direct)
    } else {
        None
    }
}

/// A timestamp: RFC 3339 (`Z` or an offset), a naive ISO date-time taken as UTC (`T` or a
/// space between date and time, optional fraction), or a number of Unix seconds.
fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Some(t.with_timezone(&Utc));
            }
            ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                .into_iter()
                .find_map(|fmt| NaiveDateTime::parse_from_str(s, fmt).ok())
                .map(|naive| Utc.from_utc_datetime(&naive))
        }
        Value::Number(n) => {
            let secs = n.as_f64()?;
            if !secs.is_finite() || secs <= 0.0 || secs > 1e11 {
                return None;
            }
            let whole = secs.floor();
            DateTime::from_timestamp(whole as i64, ((secs - whole) * 1e9) as u32)
        }
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            (f.fract() == 0.0 && f.abs() < 9.0e18).then_some(f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A positive whole number that fits u32 (0 counts as "not set": StableNew writes 0 for
/// unknown steps and sizes).
fn as_positive_u32(v: &Value) -> Option<u32> {
    as_i64(v)
        .filter(|&n| n > 0)
        .and_then(|n| u32::try_from(n).ok())
}

fn as_millis(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            let f = n.as_f64()?;
            (0.0..1.8e19).contains(&f).then_some(f.round() as u64)
        }),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
}

/// The first key of `keys` that `obj` has a usable value for.
fn first<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .filter_map(|k| obj.get(*k))
        .find(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()))
}

/// Settings and prompts named directly in `obj`.
fn read_flat(obj: &Map<String, Value>, out: &mut Partial) {
    let mut settings = SettingsOverride {
        model: text(first(
            obj,
            &[
                "model",
                "model_name",
                "base_model",
                "sd_model_checkpoint",
                "checkpoint",
            ],
        )),
        sampler: text(first(obj, &["sampler_name", "sampler"])),
        scheduler: text(first(obj, &["scheduler", "schedule_type"])),
        steps: first(obj, &["steps"]).and_then(as_positive_u32),
        cfg_scale: first(obj, &["cfg_scale", "cfg"])
            .and_then(as_f64)
            .filter(|c| c.is_finite() && *c > 0.0),
        width: first(obj, &["width"]).and_then(as_positive_u32),
        height: first(obj, &["height"]).and_then(as_positive_u32),
        seed: first(obj, &["seed"]).and_then(as_i64),
        batch_size: first(obj, &["batch_size"]).and_then(as_positive_u32),
        batch_count: first(obj, &["n_iter", "batch_count"]).and_then(as_positive_u32),
        clip_skip: first(obj, &["clip_skip"]).and_then(as_positive_u32),
    };
    if settings.model.is_none() {
        // StableNew's pipeline config keeps the model name in its metadata too.
        settings.model = obj
            .get("metadata")
            .and_then(Value::as_object)
            .and_then(|m| text(m.get("model_name")));
    }
    let p = Partial {
        prompt: text(first(obj, &["prompt", "positive_prompt"])),
        negative: text(first(obj, &["negative_prompt"])),
        settings,
    };
    out.merge(p);
}

/// An object that may hold `config` (settings), `prompts` (`{positive, negative}`) and flat
/// fields of its own (which win).
fn read_container(obj: &Map<String, Value>, out: &mut Partial) {
    if let Some(cfg) = obj.get("config").and_then(Value::as_object) {
        read_flat(cfg, out);
    }
    match obj.get("prompts") {
        Some(Value::Object(p)) => out.merge(Partial {
            prompt: text(first(p, &["positive", "prompt", "positive_prompt"])),
            negative: text(first(p, &["negative", "negative_prompt"])),
            ..Partial::default()
        }),
        Some(Value::String(s)) if !s.trim().is_empty() => out.merge(Partial {
            prompt: Some(s.clone()),
            ..Partial::default()
        }),
        _ => {}
    }
    read_flat(obj, out);
}

/// `source_pack` names a pack file ("fantasy.json", "packs/fantasy.txt"): its stem is the id.
fn pack_id_from_file(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    let stem = crate::packs::PACK_EXTENSIONS
        .into_iter()
        .find(|ext| {
            lower
                .strip_suffix(ext)
                .is_some_and(|rest| rest.ends_with('.'))
        })
        .map(|ext| &base[..base.len() - ext.len() - 1])
        .unwrap_or(base);
    let stem = stem.trim();
    (!stem.is_empty()).then(|| stem.to_owned())
}

/// 1-based key from a 0-based row/slot index.
fn key_from_index(v: Option<&Value>) -> Option<String> {
    let i = v.and_then(as_i64).filter(|&i| i >= 0)?;
    Some(i.checked_add(1)?.to_string())
}

fn keys_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|k| match k {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The pack origin a line carries, if any (see the module docs).
fn line_origin(line: &Map<String, Value>, snapshots: &[&Map<String, Value>]) -> Option<PackOrigin> {
    let mut from_snapshot: Option<PackOrigin> = None;
    for snap in snapshots {
        let exec = snap.get("execution_metadata").and_then(Value::as_object);
        let pack_id = text(snap.get("prompt_pack_id"))
            .or_else(|| text(snap.get("prompt_pack_name")))
            .or_else(|| {
                exec.and_then(|m| m.get("source_pack"))
                    .and_then(Value::as_str)
                    .and_then(pack_id_from_file)
            });
        if let Some(pack_id) = pack_id {
            let key = key_from_index(snap.get("prompt_pack_row_index"))
                .or_else(|| key_from_index(exec.and_then(|m| m.get("slot_index"))));
            from_snapshot = Some(PackOrigin {
                pack_id: Some(pack_id),
                keys: key.into_iter().collect(),
            });
        }
    }
    let says_pack = line
        .get("prompt_source")
        .and_then(Value::as_str)
        .and_then(|s| PromptSource::parse(s.trim()))
        == Some(PromptSource::Pack);
    if says_pack {
        let mut origin = PackOrigin {
            pack_id: text(line.get("prompt_pack_id")),
            keys: keys_of(line.get("prompt_keys")),
        };
        // The snapshot fills in what the line leaves out, if it names the same pack.
        if let Some(snap) = from_snapshot
            && (origin.pack_id.is_none() || origin.pack_id == snap.pack_id)
        {
            origin.pack_id = snap.pack_id;
            if origin.keys.is_empty() {
                origin.keys = snap.keys;
            }
        }
        Some(origin)
    } else {
        // StableNew resets the origin to "manual" on some status lines (its learning
        // experiments write their `learning_…` pack id on some lines only): a line that names
        // a pack id carries it, so every line of the job agrees.
        from_snapshot.or_else(|| {
            text(line.get("prompt_pack_id")).map(|pack_id| PackOrigin {
                pack_id: Some(pack_id),
                keys: keys_of(line.get("prompt_keys")),
            })
        })
    }
}

/// The [`GenerationSettings`] fields `known` does not name (a scheduler read from an old
/// sampler name such as "DPM++ 2M Karras" counts as named).
fn unknown_setting_names(known: &SettingsOverride, settings: &GenerationSettings) -> Vec<String> {
    let scheduler_known =
        known.scheduler.is_some() || settings.scheduler != GenerationSettings::default().scheduler;
    [
        ("model", known.model.is_some()),
        ("sampler", known.sampler.is_some()),
        ("scheduler", scheduler_known),
        ("steps", known.steps.is_some()),
        ("cfg_scale", known.cfg_scale.is_some()),
        ("width", known.width.is_some()),
        ("height", known.height.is_some()),
        ("seed", known.seed.is_some()),
        ("batch_size", known.batch_size.is_some()),
        ("batch_count", known.batch_count.is_some()),
        ("clip_skip", known.clip_skip.is_some()),
    ]
    .into_iter()
    .filter(|(_, named)| !named)
    .map(|(name, _)| name.to_owned())
    .collect()
}

fn fold_group(
    group: &Group,
    job_id: String,
    created_at: DateTime<Utc>,
    report: &mut ImportReport,
) -> Option<JobRecord> {
    let last = group.lines.last()?;
    let mut status = last.status;
    let started_at = last.started_at.or_else(|| {
        (status != JobStatus::Queued)
            .then(|| group.lines.iter().rev().find_map(|l| l.started_at))
            .flatten()
    });
    let mut completed_at = match status {
        JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled => last.completed_at,
        JobStatus::Queued | JobStatus::Running | JobStatus::Unknown => None,
    };
    let mut error_message = last.error_message.clone();
    let mut duration_ms = last
        .duration_ms
        .or_else(|| {
            let (start, end) = (started_at?, completed_at?);
            u64::try_from((end - start).num_milliseconds()).ok()
        })
        .or(last.other_duration_ms);
    match status {
        JobStatus::Running => {
            status = JobStatus::Failed;
            error_message = Some(ORPHANED_MESSAGE.to_owned());
            completed_at = None;
            duration_ms = None;
            report.orphaned += 1;
        }
        JobStatus::Queued => {
            status = JobStatus::Cancelled;
            error_message = Some(NEVER_RAN_MESSAGE.to_owned());
            duration_ms = None;
            report.never_ran += 1;
        }
        _ => {}
    }

    let mut partial = Partial::default();
    for line in &group.lines {
        partial.merge(line.settings.clone());
    }
    let settings = partial.to_settings();
    // Settings StableNew did not record are unknown, not the defaults standing in for them.
    let unknown_settings = unknown_setting_names(&partial.settings, &settings);
    let origin = group.lines.iter().rev().find_map(|l| l.origin.clone());
    let run_mode = group
        .lines
        .iter()
        .rev()
        .find_map(|l| l.run_mode)
        .unwrap_or(RunMode::Queue);
    let summary = group.lines.iter().rev().find_map(|l| l.summary.clone());
    let seed_used = group.lines.iter().rev().find_map(|l| l.seed_used);

    let prompt_known = partial.prompt.is_some() || partial.negative.is_some();
    let pair = || {
        let mut m = Map::new();
        m.insert(
            "prompt".to_owned(),
            Value::String(partial.prompt.clone().unwrap_or_default()),
        );
        m.insert(
            "negative_prompt".to_owned(),
            Value::String(partial.negative.clone().unwrap_or_default()),
        );
        m
    };
    let mut payload = Map::new();
    let (prompt_source, prompt_pack_id, prompt_keys) = match origin {
        Some(origin) => {
            if let Some(id) = &origin.pack_id {
                payload.insert("pack_id".to_owned(), Value::String(id.clone()));
            }
            if prompt_known {
                if let [key] = origin.keys.as_slice() {
                    let mut prompts = Map::new();
                    prompts.insert(key.clone(), Value::Object(pair()));
                    payload.insert("prompts".to_owned(), Value::Object(prompts));
                } else {
                    // The text is known but not which key it belongs to.
                    payload.extend(pair());
                }
            }
            (PromptSource::Pack, origin.pack_id, origin.keys)
        }
        None => {
            payload.extend(pair());
            (PromptSource::Manual, None, Vec::new())
        }
    };
    if let Some(summary) = summary {
        payload.insert("stablenew_summary".to_owned(), Value::String(summary));
    }
    payload.insert(
        IMPORTED_FROM_KEY.to_owned(),
        Value::String(IMPORTED_FROM_STABLENEW.to_owned()),
    );

    let run_config = RunConfig {
        prompt_source,
        prompt_pack_id: prompt_pack_id.clone(),
        prompt_keys: prompt_keys.clone(),
        prompt_payload: payload,
        run_mode,
        source: RunSource::Gui,
        settings,
    };
    let mut run_config = run_config;
    run_config.set_unknown_settings(&unknown_settings);
    super::export::set_seed_used(&mut run_config, seed_used);
    Some(JobRecord {
        schema_version: JOB_RECORD_SCHEMA_VERSION,
        job_id,
        created_at,
        status,
        prompt_source,
        prompt_pack_id,
        prompt_keys,
        prompt_styles: Vec::new(),
        run_mode,
        source: RunSource::Gui,
        config_hash: run_config.config_hash(),
        run_config,
        started_at,
        completed_at,
        duration_ms,
        error_message,
        backend: None,
        runner: None,
        queue_order: None,
        result: None,
        unknown: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(source: RunSource, run_mode: RunMode) -> JobRecord {
        let cfg = RunConfig {
            source,
            run_mode,
            ..RunConfig::default()
        };
        crate::job_record::job_record_from_run_config("j", &cfg)
    }

    #[test]
    fn imported_jobs_are_told_apart_from_the_apps_and_the_clis() {
        let app_id = HistoryStore::new_job_id();
        let job = |id: &str, source: RunSource, run_mode: RunMode| {
            let mut r = record(source, run_mode);
            r.job_id = id.to_owned();
            r
        };
        // Marked by this version's import, whatever the id and run mode.
        let mut marked = job(&app_id, RunSource::Gui, RunMode::Direct);
        marked.run_config.prompt_payload.insert(
            IMPORTED_FROM_KEY.into(),
            Value::String(IMPORTED_FROM_STABLENEW.into()),
        );
        assert!(is_stablenew_import(&marked));

        // The app's own jobs, direct or queued (the app will queue jobs): never imports.
        for mode in [RunMode::Direct, RunMode::Queue] {
            assert!(!is_stablenew_import(&job(&app_id, RunSource::Gui, mode)));
            // The CLI's jobs are not GUI jobs, whatever their id.
            assert!(!is_stablenew_import(&job("job-1", RunSource::Cli, mode)));
        }

        // Imported before the marker: what only an import leaves.
        let mut summary = job(&app_id, RunSource::Gui, RunMode::Queue);
        summary.run_config.prompt_payload.insert(
            "stablenew_summary".into(),
            Value::String("a harbour | model".into()),
        );
        assert!(is_stablenew_import(&summary));
        for message in [ORPHANED_MESSAGE, NEVER_RAN_MESSAGE] {
            let mut ended = job(&app_id, RunSource::Gui, RunMode::Queue);
            ended.error_message = Some(message.to_owned());
            assert!(is_stablenew_import(&ended), "{message}");
        }
        let mut other_error = job(&app_id, RunSource::Gui, RunMode::Queue);
        other_error.error_message = Some("the backend failed".into());
        assert!(!is_stablenew_import(&other_error));
        // Ids StableNew made (a UUID v4, a stamped reused id, a name).
        for id in [
            "5f0c2a9e-1d4b-4c11-9a61-0c8f3b7d2e10",
            "new-job@2025-12-02T08:00:00.000001Z",
            "learning_2025",
        ] {
            assert!(
                is_stablenew_import(&job(id, RunSource::Gui, RunMode::Direct)),
                "{id}"
            );
        }
    }

    #[test]
    fn the_summary_names_every_fact_with_plurals() {
        let report = ImportReport {
            lines: 1,
            jobs: 1,
            imported: 1,
            orphaned: 2,
            never_ran: 1,
            renamed: 1,
            skipped: vec![(4, "not\nJSON".into()), (5, "x".into())],
            ..ImportReport::default()
        };
        assert_eq!(
            report.summary(),
            "1 line read, 1 job found; 1 imported, 0 already in the history; 2 left running by StableNew imported as failed; 1 that never ran imported as cancelled; 1 with a reused id stored under a new id"
        );
        assert_eq!(
            report.skipped_summary(1).unwrap(),
            "2 lines skipped: line 4: not JSON; and 1 more"
        );
        assert_eq!(ImportReport::default().skipped_summary(3), None);
    }
}
