//! One backend's thread: wait for a job, claim it, run its requests, save the images and
//! record the outcome.

use super::queue::{queued_in_order, requeued};
use super::{BackendState, RunnerEvent, Shared};
use crate::backends::{Backend, BackendError, GenerateRequest, RunControl};
use crate::job_record::{JOB_RECORD_SCHEMA_VERSION, JobRecord, JobStatus};
use crate::outputs::{self, ImageToSave, JobResult};
use chrono::Utc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How often an idle backend looks at the queue when nothing wakes it (other processes may
/// queue jobs too).
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Ends a backend's thread however it ends (a panic included): the runner's count of live
/// threads goes down and the last one out says `Done`, so a caller waiting for the end
/// (`promptdesk run`) never waits forever.
struct ThreadGuard<'a>(&'a Shared);

impl Drop for ThreadGuard<'_> {
    fn drop(&mut self) {
        if self.0.live_threads.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.send(RunnerEvent::Done);
        }
    }
}

pub(super) fn run_backend(shared: &Shared, backend: &dyn Backend) {
    let _guard = ThreadGuard(shared);
    let name = backend.config().name.clone();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        backend_loop(shared, backend);
    }));
    if outcome.is_err() {
        shared.send(RunnerEvent::BackendFailed {
            backend: name.clone(),
            error: format!("{name}: promptdesk hit an internal error and stopped using this backend (the job it ran is failed at the next start; please report this)"),
        });
    }
    shared.send(RunnerEvent::Backend {
        backend: name,
        state: BackendState::Stopped,
    });
}

fn backend_loop(shared: &Shared, backend: &dyn Backend) {
    let name = backend.config().name.clone();
    let mut state = None::<BackendState>;
    let mut set_state = |s: BackendState| {
        if state.as_ref() != Some(&s) {
            state = Some(s.clone());
            shared.send(RunnerEvent::Backend {
                backend: name.clone(),
                state: s,
            });
        }
    };
    // The wait before the next try of an unreachable server; `None` when it answered last.
    // The server is asked before the first job, so a server that is down from the start
    // never takes (and hands back) a job.
    let mut backoff: Option<Duration> = Some(shared.options.retry_min);
    let mut retry_at = Instant::now();
    loop {
        if shared.stopping() {
            break;
        }
        if shared.paused.load(Ordering::SeqCst) {
            set_state(BackendState::Paused);
            shared.wait(IDLE_CHECK);
            continue;
        }
        if let Some(limit) = shared.options.limit
            && shared.claimed.load(Ordering::SeqCst) >= limit
        {
            break;
        }
        let candidates = match shared.store.active() {
            Ok(active) => active,
            Err(e) => {
                shared.send(RunnerEvent::HistoryError(e.to_string()));
                shared.wait(IDLE_CHECK * 5);
                continue;
            }
        };
        let queue: Vec<String> = queued_in_order(&candidates)
            .into_iter()
            .filter(|r| {
                shared.options.only_jobs.is_empty() || shared.options.only_jobs.contains(&r.job_id)
            })
            .map(|r| r.job_id.clone())
            .collect();
        if queue.is_empty() {
            if shared.options.exit_when_idle {
                break;
            }
            set_state(BackendState::Idle);
            shared.wait(IDLE_CHECK);
            continue;
        }
        // A server that was down: wait out the backoff (looking at the queue now and then).
        if backoff.is_some() {
            let now = Instant::now();
            if now < retry_at {
                shared.wait((retry_at - now).min(IDLE_CHECK));
                continue;
            }
        }
        // Ask the server before taking a job: one that is down, refuses our login or is
        // still busy with a request we gave up on never takes (and hands back) a job.
        if let Err(e) = backend.ping() {
            if !e.is_down() && shared.options.exit_when_idle {
                // Waiting would never end by itself (a wrong password, the API turned off).
                shared.send(RunnerEvent::BackendFailed {
                    backend: name.clone(),
                    error: e.to_string(),
                });
                break;
            }
            let next = backoff.map_or(shared.options.retry_min, |w| {
                (w * 2).min(shared.options.retry_max)
            });
            backoff = Some(next);
            retry_at = Instant::now() + next;
            set_state(BackendState::Waiting {
                error: e.to_string(),
                retry_in: next,
            });
            continue;
        }
        backoff = None;
        if shared.stopping() {
            break;
        }
        let Some(job) = claim_first(shared, &queue, &name) else {
            // Another backend or process took them all meanwhile.
            shared.wait(Duration::from_millis(50));
            continue;
        };
        // Registered before anyone hears of the job, so an interrupt always finds it.
        let mut control = RunControl::default();
        control.stall_timeout = shared.options.stall_timeout;
        control.poll_interval = shared.options.poll_interval;
        shared
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(job.job_id.clone(), control.clone());
        // A stop that went through the running jobs just before this one was registered.
        if shared.stopping() {
            control.cancel();
        }
        set_state(BackendState::Running {
            job_id: job.job_id.clone(),
        });
        shared.send(RunnerEvent::Started {
            job_id: job.job_id.clone(),
            backend: name.clone(),
        });
        match run_job(shared, backend, job, control) {
            Outcome::Done => backoff = None,
            Outcome::ServerDown(error) => {
                let wait = shared.options.retry_min;
                backoff = Some(wait);
                retry_at = Instant::now() + wait;
                set_state(BackendState::Waiting {
                    error,
                    retry_in: wait,
                });
            }
        }
    }
}

/// Claims the first job of `queue` still queued (under the history's lock), as running on
/// `backend` by this runner.
fn claim_first(shared: &Shared, queue: &[String], backend: &str) -> Option<JobRecord> {
    for job_id in queue {
        if let Some(limit) = shared.options.limit {
            // Reserve a slot first, so two backends never go over the limit.
            if shared.claimed.fetch_add(1, Ordering::SeqCst) >= limit {
                shared.claimed.fetch_sub(1, Ordering::SeqCst);
                return None;
            }
        } else {
            shared.claimed.fetch_add(1, Ordering::SeqCst);
        }
        let backend_name = backend.to_owned();
        let runner = shared.runner_id.clone();
        let claimed = shared.store.transition(
            job_id,
            Box::new(|r| r.status == JobStatus::Queued),
            Box::new(move |r| {
                let mut r = r.clone();
                r.schema_version = JOB_RECORD_SCHEMA_VERSION;
                r.status = JobStatus::Running;
                r.started_at = Some(Utc::now());
                r.completed_at = None;
                r.duration_ms = None;
                r.error_message = None;
                r.backend = Some(backend_name);
                r.runner = Some(runner);
                r
            }),
        );
        match claimed {
            Ok(Some(record)) => return Some(record),
            Ok(None) => {
                shared.claimed.fetch_sub(1, Ordering::SeqCst);
            }
            Err(e) => {
                shared.claimed.fetch_sub(1, Ordering::SeqCst);
                shared.send(RunnerEvent::HistoryError(e.to_string()));
                return None;
            }
        }
    }
    None
}

enum Outcome {
    Done,
    /// The server went away before anything ran: the job is queued again.
    ServerDown(String),
}

fn run_job(shared: &Shared, backend: &dyn Backend, job: JobRecord, control: RunControl) -> Outcome {
    let config = backend.config();
    let mut result = JobResult {
        backend: config.name.clone(),
        backend_kind: config.kind.as_str().to_owned(),
        backend_url: config.base_url().to_owned(),
        ..JobResult::default()
    };
    let started = job.started_at.unwrap_or_else(Utc::now);
    let ended = run_requests(shared, backend, &job, &control, &mut result, started);
    shared
        .running
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&job.job_id);
    let (status, error) = match ended {
        Ok(()) => (JobStatus::Completed, None),
        // Nothing ran: the server is down, or refuses our login (the user fixes the password
        // in the backend's settings; the job is not at fault).
        Err(e)
            if (e.is_retryable() || matches!(e, BackendError::Unauthorized { .. }))
                && result.images.is_empty() =>
        {
            let reason = e.to_string();
            requeue(shared, &job, &config.name, &reason);
            return Outcome::ServerDown(reason);
        }
        // Stopped by promptdesk (quit, Ctrl+C), not by the user's Interrupt: the job runs
        // again later, whole (images already saved stay on disk).
        Err(BackendError::Interrupted { .. }) if shared.stopping() => {
            requeue(shared, &job, &config.name, "promptdesk stopped");
            return Outcome::Done;
        }
        Err(BackendError::Interrupted { .. }) => (JobStatus::Cancelled, None),
        Err(e) => (JobStatus::Failed, Some(e.to_string())),
    };
    let runner = shared.runner_id.clone();
    let job_result = (!result.images.is_empty()
        || status == JobStatus::Completed
        || !result.warnings.is_empty())
    .then_some(result);
    let write = || {
        let runner = runner.clone();
        let (error, job_result) = (error.clone(), job_result.clone());
        shared.store.transition(
            &job.job_id,
            Box::new(move |r| {
                r.status == JobStatus::Running && r.runner.as_deref() == Some(&runner)
            }),
            Box::new(move |r| {
                let mut r = r.clone();
                let now = Utc::now();
                r.schema_version = JOB_RECORD_SCHEMA_VERSION;
                r.status = status;
                r.completed_at = Some(now);
                r.duration_ms = u64::try_from((now - started).num_milliseconds()).ok();
                r.error_message = error;
                r.result = job_result;
                r.unknown.forget("result");
                r
            }),
        )
    };
    // The outcome must reach the history (a busy or full disk passes): retried for a
    // while before giving up (the job is then failed at the next start).
    let written = with_retries(shared, write);
    match written {
        Ok(Some(record)) => shared.send(RunnerEvent::Finished {
            record: Box::new(record),
        }),
        Ok(None) => shared.send(RunnerEvent::HistoryError(format!(
            "job {} changed while it ran (deleted, or taken over); its outcome was not recorded",
            job.job_id
        ))),
        Err(e) => shared.send(RunnerEvent::HistoryError(e.to_string())),
    }
    Outcome::Done
}

/// Runs a history write, retrying failures (with a pause, about a minute in all).
fn with_retries<T>(
    shared: &Shared,
    mut write: impl FnMut() -> Result<T, crate::history::HistoryError>,
) -> Result<T, crate::history::HistoryError> {
    let mut pause = Duration::from_millis(200);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match write() {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(e) => {
                shared.send(RunnerEvent::HistoryError(format!("{e} (trying again)")));
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

fn requeue(shared: &Shared, job: &JobRecord, backend: &str, reason: &str) {
    let written = with_retries(shared, || {
        let runner = shared.runner_id.clone();
        shared.store.transition(
            &job.job_id,
            Box::new(move |r| {
                r.status == JobStatus::Running && r.runner.as_deref() == Some(&runner)
            }),
            Box::new(requeued),
        )
    });
    shared.claimed.fetch_sub(1, Ordering::SeqCst);
    match written {
        Ok(_) => shared.send(RunnerEvent::Requeued {
            job_id: job.job_id.clone(),
            backend: backend.to_owned(),
            reason: reason.to_owned(),
        }),
        Err(e) => shared.send(RunnerEvent::HistoryError(e.to_string())),
    }
}

/// Sends every request of the job in turn, saving each image as it comes.
fn run_requests(
    shared: &Shared,
    backend: &dyn Backend,
    job: &JobRecord,
    control: &RunControl,
    result: &mut JobResult,
    started: chrono::DateTime<Utc>,
) -> Result<(), BackendError> {
    let config = backend.config();
    let cfg = &job.run_config;
    let unknown = cfg.unknown_settings();
    if !unknown.is_empty() {
        return Err(BackendError::Config {
            backend: config.name.clone(),
            reason: format!(
                "the job's {} {} not recorded (an imported job): load it into the composer, set them and submit it again",
                unknown.join(", "),
                if unknown.len() == 1 { "was" } else { "were" }
            ),
        });
    }
    let requests = cfg.requests();
    if requests.is_empty() {
        return Err(BackendError::Config {
            backend: config.name.clone(),
            reason: "the job has no prompt to send".into(),
        });
    }
    let total = requests.len();
    for (i, request) in requests.iter().enumerate() {
        if control.is_cancelled() {
            return Err(BackendError::Interrupted {
                backend: config.name.clone(),
            });
        }
        let generate = GenerateRequest {
            job_id: &job.job_id,
            prompt: &request.prompt,
            negative_prompt: &request.negative_prompt,
            settings: &cfg.settings,
        };
        let sent = Instant::now();
        let generated = backend.generate(&generate, control, &mut |mut progress| {
            // ComfyUI says no ETA: estimated from the pace so far.
            if progress.eta_secs.is_none() && progress.fraction > 0.02 {
                let f = progress.fraction.min(1.0);
                progress.eta_secs = Some(sent.elapsed().as_secs_f32() * (1.0 - f) / f);
            }
            shared.send(RunnerEvent::Progress {
                job_id: job.job_id.clone(),
                backend: config.name.clone(),
                request: i,
                requests: total,
                progress,
            });
        })?;
        if result.model_name.is_none() {
            result.model_name = generated.model_name.clone();
            result.model_hash = generated.model_hash.clone();
        }
        let ended_early = generated.ended_early;
        for w in generated.warnings {
            if !result.warnings.contains(&w) {
                result.warnings.push(w);
            }
        }
        let batch: Vec<(ImageToSave<'_>, &[u8])> = generated
            .images
            .iter()
            .map(|image| {
                let to_save = ImageToSave {
                    job_id: &job.job_id,
                    key: &request.key,
                    variant: request.variant,
                    seed: image.seed,
                    parameters: image.parameters.as_deref(),
                    when: started,
                };
                (to_save, &image.bytes[..])
            })
            .collect();
        let saved = outputs::save_images(&shared.options.data_dir, &batch).map_err(|e| {
            BackendError::Config {
                backend: config.name.clone(),
                reason: format!(
                    "could not save an image under {}: {e}",
                    outputs::outputs_dir(&shared.options.data_dir).display()
                ),
            }
        })?;
        result.images.extend(saved);
        if let Some(e) = ended_early {
            return Err(e);
        }
    }
    Ok(())
}
