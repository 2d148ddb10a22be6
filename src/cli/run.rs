//! `promptdesk run`: runs queued jobs on the configured backends (or one given with `--url`)
//! and exits when none are left (`--watch` keeps waiting for new ones).
//!
//! Prints one line per job as it ends (`<job id>\t<status>\t...`) on stdout; on a terminal,
//! a progress bar on stderr meanwhile. Exit 0 when every job it ran completed, 1 when any
//! failed or was cancelled, 2 for bad arguments.

use super::backends::{ConnectionArgs, config_from_args, unknown_backend};
use super::command_error::CommandError;
use super::context::Context;
use super::output::{one_line, plural};
use crate::backends::BackendsFile;
use crate::backends::{self, Backend};
use crate::job_record::JobStatus;
use crate::runner::{BackendState, Runner, RunnerEvent, RunnerOptions, StoreQueue};
use clap::Args;
use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    /// A configured backend to run on (repeat for several: a job goes to the first free
    /// one). Default: every configured backend.
    #[arg(long = "backend", value_name = "NAME")]
    backends: Vec<String>,
    /// Run on this server instead of a configured one (with --kind).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Only this job (repeat for several). Default: every queued job.
    #[arg(long = "job", value_name = "ID")]
    jobs: Vec<String>,
    /// Run at most N jobs.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Keep running: wait for new jobs instead of exiting when the queue is empty.
    #[arg(long)]
    watch: bool,
    /// Seconds without progress after which a request is interrupted and its job failed.
    #[arg(long, value_name = "SECS", default_value_t = 90.0, hide = true)]
    stall_timeout: f64,
    /// Milliseconds between progress polls.
    #[arg(long, value_name = "MS", default_value_t = 1000, hide = true)]
    poll_ms: u64,
    /// Seconds before the first retry of a server that is down.
    #[arg(long, value_name = "SECS", default_value_t = 2.0, hide = true)]
    retry_secs: f64,
}

pub(crate) fn run(
    ctx: &Context,
    args: &RunArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CommandError> {
    if args.limit == Some(0) {
        return Err(CommandError::usage("--limit must be at least 1"));
    }
    let configs = choose_backends(ctx, args)?;
    let mut clients: Vec<Arc<dyn Backend>> = Vec::with_capacity(configs.len());
    for c in &configs {
        let client =
            backends::connect(c, &ctx.data_dir).map_err(|e| CommandError::usage(e.to_string()))?;
        clients.push(Arc::from(client));
    }
    let store = ctx.open_store()?;
    for id in &args.jobs {
        match store.get(id) {
            None => {
                return Err(CommandError::usage(format!(
                    "there is no job {id} in {}",
                    store.path().display()
                )));
            }
            Some(r) if r.status != JobStatus::Queued => {
                return Err(CommandError::usage(format!(
                    "job {id} is {}; only queued jobs run (re-queue it with `promptdesk requeue {id}`)",
                    r.status_text()
                )));
            }
            Some(_) => {}
        }
    }
    let mut options = RunnerOptions::new(ctx.data_dir.clone());
    options.exit_when_idle = !args.watch;
    options.limit = args.limit;
    options.only_jobs = args.jobs.iter().cloned().collect::<HashSet<_>>();
    options.stall_timeout = secs(args.stall_timeout, "--stall-timeout")?;
    options.poll_interval = Duration::from_millis(args.poll_ms.max(10));
    options.retry_min = secs(args.retry_secs, "--retry-secs")?;
    let (tx, rx) = std::sync::mpsc::channel();
    let runner =
        Runner::start(Arc::new(StoreQueue::new(store)), clients, options, tx).map_err(|e| {
            CommandError::failure(format!(
                "{}: cannot start the runner: {e}",
                ctx.data_dir.display()
            ))
        })?;
    let mut bar = ProgressBar::new(std::io::stderr().is_terminal());
    let mut ended: Vec<JobStatus> = Vec::new();
    let mut history_errors = 0usize;
    let mut backend_failures = 0usize;
    install_ctrl_c();
    let mut runner = Some(runner);
    let mut stopped = false;
    loop {
        // Checked on every turn: a busy backend sends events faster than the timeout.
        if CTRL_C.swap(false, Ordering::SeqCst)
            && let Some(r) = runner.take()
        {
            bar.clear(err);
            writeln!(
                err,
                "promptdesk: stopping: interrupting the running jobs and putting them back in the queue (Ctrl+C again quits at once)"
            )?;
            stopped = true;
            // Stopping sends the remaining events (requeues) and then Done.
            std::thread::spawn(move || r.stop());
        }
        let event = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(event) => event,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match event {
            RunnerEvent::Started { job_id, backend } => {
                bar.start(&job_id, &backend);
            }
            RunnerEvent::Progress {
                job_id,
                request,
                requests,
                progress,
                ..
            } => bar.progress(&job_id, request, requests, &progress),
            RunnerEvent::Finished { record } => {
                bar.clear(err);
                bar.finish(&record.job_id);
                let images = record.result.as_ref().map_or(0, |r| r.images.len());
                let mut line = format!("{}\t{}", record.job_id, record.status);
                if let Some(b) = &record.backend {
                    line.push_str(&format!("\t{b}"));
                }
                line.push_str(&format!("\t{}", plural(images, "image")));
                if let Some(e) = &record.error_message {
                    line.push_str(&format!("\t{}", one_line(e)));
                }
                writeln!(out, "{line}")?;
                out.flush()?;
                for w in record.result.iter().flat_map(|r| &r.warnings) {
                    writeln!(
                        err,
                        "promptdesk: warning: job {}: {}",
                        record.job_id,
                        one_line(w)
                    )?;
                }
                ended.push(record.status);
            }
            RunnerEvent::Requeued {
                job_id,
                backend,
                reason,
            } => {
                bar.clear(err);
                writeln!(
                    err,
                    "promptdesk: job {job_id} is back in the queue ({backend}: {})",
                    one_line(&reason)
                )?;
            }
            RunnerEvent::Backend { backend, state } => {
                if let BackendState::Waiting { error, retry_in } = state {
                    bar.clear(err);
                    writeln!(
                        err,
                        "promptdesk: waiting for {backend}: {}; next try in {} s",
                        one_line(&error),
                        retry_in.as_secs().max(1)
                    )?;
                }
            }
            RunnerEvent::Recovered { job_id } => {
                writeln!(
                    err,
                    "promptdesk: job {job_id} was left running by a promptdesk that stopped; it is marked failed (re-queue it with `promptdesk requeue {job_id}`)"
                )?;
            }
            RunnerEvent::BackendFailed { backend, error } => {
                bar.clear(err);
                backend_failures += 1;
                writeln!(
                    err,
                    "promptdesk: error: {backend} cannot be used: {}",
                    one_line(&error)
                )?;
            }
            RunnerEvent::HistoryError(e) => {
                bar.clear(err);
                history_errors += 1;
                writeln!(err, "promptdesk: error: {}", one_line(&e))?;
            }
            RunnerEvent::Done => break,
        }
        bar.draw(err);
    }
    bar.clear(err);
    if let Some(r) = runner {
        r.join();
    }
    let failed = ended.iter().filter(|s| **s != JobStatus::Completed).count();
    if stopped {
        writeln!(err, "promptdesk: stopped")?;
        return Ok(130);
    }
    if ended.is_empty() && !args.watch {
        writeln!(err, "promptdesk: no queued job to run")?;
    }
    Ok(
        if failed > 0 || history_errors > 0 || backend_failures > 0 {
            1
        } else {
            0
        },
    )
}

/// Set by Ctrl+C while `run` runs.
pub(super) static CTRL_C: AtomicBool = AtomicBool::new(false);
/// Ctrl+C seen once already: the second quits at once.
static CTRL_C_TWICE: AtomicBool = AtomicBool::new(false);

/// The first Ctrl+C stops the runner cleanly (the backends are interrupted, their jobs go back
/// to the queue); the second exits at once (the jobs are then failed as interrupted at the
/// next start). Installed once per process; `import-images` uses it too (the first Ctrl+C
/// stops the import between batches, keeping what it imported).
pub(super) fn install_ctrl_c() {
    CTRL_C.store(false, Ordering::SeqCst);
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if CTRL_C_TWICE.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            CTRL_C.store(true, Ordering::SeqCst);
        });
    });
}

fn secs(value: f64, flag: &str) -> Result<Duration, CommandError> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| CommandError::usage(format!("{flag} must be a positive number of seconds")))
}

/// The backends to run on: `--url` (an unnamed one), the named ones, or every configured one.
fn choose_backends(
    ctx: &Context,
    args: &RunArgs,
) -> Result<Vec<crate::backends::BackendConfig>, CommandError> {
    let file = BackendsFile::load(&ctx.data_dir)?;
    let mut chosen = Vec::new();
    for name in &args.backends {
        let b = file.get(name).ok_or_else(|| unknown_backend(&file, name))?;
        chosen.push(b.clone());
    }
    if let Some(url) = &args.url {
        let name = crate::backends::config::normalize_url(url);
        chosen.push(config_from_args(ctx, &name, url, &args.connection)?);
    } else if args.connection.kind.is_some()
        || args.connection.user.is_some()
        || args.connection.workflow.is_some()
    {
        return Err(CommandError::usage(
            "--kind, --user, --password and --workflow go with --url",
        ));
    }
    if chosen.is_empty() {
        chosen = file.backends.clone();
    }
    if chosen.is_empty() {
        return Err(CommandError::usage(
            "no backend to run on: add one with `promptdesk backends add NAME --kind a1111|comfyui --url URL`, or pass --url URL --kind KIND",
        ));
    }
    Ok(chosen)
}

/// The terminal progress line (stderr), redrawn in place; nothing when not a terminal.
struct ProgressBar {
    enabled: bool,
    /// Per running job: its backend and its progress text.
    jobs: HashMap<String, (String, String)>,
    shown: bool,
}

impl ProgressBar {
    fn new(enabled: bool) -> ProgressBar {
        ProgressBar {
            enabled,
            jobs: HashMap::new(),
            shown: false,
        }
    }

    fn start(&mut self, job_id: &str, backend: &str) {
        self.jobs.insert(
            job_id.to_owned(),
            (backend.to_owned(), "starting".to_owned()),
        );
    }

    fn progress(
        &mut self,
        job_id: &str,
        request: usize,
        requests: usize,
        p: &crate::backends::Progress,
    ) {
        let Some(slot) = self.jobs.get_mut(job_id) else {
            return;
        };
        let overall = ((request as f32 + p.fraction.clamp(0.0, 1.0)) / requests.max(1) as f32)
            .clamp(0.0, 1.0);
        let filled = (overall * 20.0).round() as usize;
        let mut text = format!(
            "[{}{}] {:>3}% request {}/{}",
            "#".repeat(filled),
            "-".repeat(20 - filled),
            (overall * 100.0).round() as u32,
            request + 1,
            requests
        );
        if p.steps > 0 {
            text.push_str(&format!(" step {}/{}", p.step, p.steps));
        }
        if let Some(eta) = p.eta_secs.filter(|e| e.is_finite() && *e >= 0.0) {
            text.push_str(&format!(" ETA {}s", eta.round() as u64));
        }
        slot.1 = text;
    }

    fn draw(&mut self, err: &mut dyn Write) {
        if !self.enabled || self.jobs.is_empty() {
            return;
        }
        let line: Vec<String> = self
            .jobs
            .iter()
            .map(|(id, (backend, text))| {
                format!("{} on {backend}: {text}", id.get(..8).unwrap_or(id))
            })
            .collect();
        let _ = write!(err, "\r\x1b[2K{}", line.join(" | "));
        let _ = err.flush();
        self.shown = true;
    }

    fn finish(&mut self, job_id: &str) {
        self.jobs.remove(job_id);
    }

    /// Removes the line before other output.
    fn clear(&mut self, err: &mut dyn Write) {
        if self.shown {
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}
