//! The runner: takes queued jobs from the history, oldest first, and runs each on the first
//! free backend (one job in flight per backend, several backends at once), saving the images
//! under `outputs/` and recording every status change as a new history line.
//!
//! - A backend that cannot be reached leaves the job queued and is tried again with backoff.
//! - A runner that dies mid-job leaves a lock file nobody holds: the next runner to start
//!   fails that job ("interrupted: promptdesk stopped while it ran"), which can be re-queued.
//! - Nothing here touches a GUI: the app and the CLI read [`RunnerEvent`]s from a channel.

mod liveness;
pub mod queue;
mod worker;

pub use liveness::RunnerLock;
pub use queue::{
    Change, Check, QueueMove, QueueStore, StoreQueue, move_in_queue, queue_key, queued_in_order,
    requeued, retried,
};

use crate::backends::{Backend, Progress, RunControl};
use crate::job_record::{JobRecord, JobStatus};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The error a job left running by a runner that is gone gets.
pub const INTERRUPTED_MESSAGE: &str = "interrupted: promptdesk stopped while it ran";

/// How a runner runs.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// The data folder (outputs and runner lock files go there).
    pub data_dir: PathBuf,
    /// No progress for this long interrupts a request and fails the job as stalled.
    pub stall_timeout: Duration,
    /// How often a backend's progress is polled.
    pub poll_interval: Duration,
    /// The first wait before trying an unreachable backend again; doubled each time up to
    /// `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// Only these jobs (empty = every queued job).
    pub only_jobs: HashSet<String>,
    /// Run at most this many jobs.
    pub limit: Option<usize>,
    /// Stop once no queued job is left (the CLI's `run` without `--watch`); otherwise wait for
    /// new jobs.
    pub exit_when_idle: bool,
    /// Start paused (the app's "Run queue" switch off).
    pub paused: bool,
}

impl RunnerOptions {
    pub fn new(data_dir: PathBuf) -> RunnerOptions {
        RunnerOptions {
            data_dir,
            stall_timeout: Duration::from_secs(90),
            poll_interval: Duration::from_secs(1),
            retry_min: Duration::from_secs(2),
            retry_max: Duration::from_secs(60),
            only_jobs: HashSet::new(),
            limit: None,
            exit_when_idle: false,
            paused: false,
        }
    }
}

/// What a backend's thread is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendState {
    /// Nothing to run (or the queue is paused).
    Idle,
    Paused,
    Running {
        job_id: String,
    },
    /// The server did not answer; the next try is in `retry_in`.
    Waiting {
        error: String,
        retry_in: Duration,
    },
    /// The thread ended (the runner stopped, or nothing is left to run).
    Stopped,
}

/// What the runner reports, in order, on its channel.
#[derive(Debug, Clone)]
pub enum RunnerEvent {
    Backend {
        backend: String,
        state: BackendState,
    },
    /// A job was claimed and is running.
    Started { job_id: String, backend: String },
    /// Progress of the running request `request` (0-based) of `requests`.
    Progress {
        job_id: String,
        backend: String,
        request: usize,
        requests: usize,
        progress: Progress,
    },
    /// A job ended (the record as written).
    Finished { record: Box<JobRecord> },
    /// A job went back to the queue (its server went away before it ran).
    Requeued {
        job_id: String,
        backend: String,
        reason: String,
    },
    /// A job left running by a runner that is gone was failed.
    Recovered { job_id: String },
    /// The history could not be read or written; the message names the file.
    HistoryError(String),
    /// A backend cannot be used as configured (a refused login, the API turned off) or hit
    /// an internal error; with `exit_when_idle` its thread ends.
    BackendFailed { backend: String, error: String },
    /// Every backend's thread has ended.
    Done,
}

pub(crate) struct Shared {
    pub(crate) store: Arc<dyn QueueStore>,
    pub(crate) options: RunnerOptions,
    pub(crate) runner_id: String,
    pub(crate) events: Mutex<Sender<RunnerEvent>>,
    pub(crate) paused: AtomicBool,
    pub(crate) stop: AtomicBool,
    /// Jobs claimed so far (for `limit`).
    pub(crate) claimed: AtomicUsize,
    /// The running jobs' controls, by job id.
    pub(crate) running: Mutex<HashMap<String, RunControl>>,
    /// Wakes waiting threads (new jobs, resume, stop).
    pub(crate) wake: (Mutex<u64>, Condvar),
    pub(crate) live_threads: AtomicUsize,
}

impl Shared {
    pub(crate) fn send(&self, event: RunnerEvent) {
        let _ = self
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(event);
    }

    /// Waits until woken or `timeout` passes.
    pub(crate) fn wait(&self, timeout: Duration) {
        let (lock, cv) = &self.wake;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let seen = *guard;
        let _ = cv.wait_timeout_while(guard, timeout, |n| *n == seen && !self.stopping());
    }

    pub(crate) fn notify(&self) {
        let (lock, cv) = &self.wake;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        cv.notify_all();
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// A running runner: one thread per backend. Dropping it stops it (running jobs are
/// interrupted and put back in the queue).
pub struct Runner {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    _lock: RunnerLock,
}

impl Runner {
    /// Starts a runner over `store` with `backends`: first fails the jobs that runners which
    /// are gone left running, then starts one thread per backend. Events go to `events`.
    pub fn start(
        store: Arc<dyn QueueStore>,
        backends: Vec<Arc<dyn Backend>>,
        options: RunnerOptions,
        events: Sender<RunnerEvent>,
    ) -> std::io::Result<Runner> {
        let lock = RunnerLock::acquire(&options.data_dir)?;
        let shared = Arc::new(Shared {
            store,
            runner_id: lock.id().to_owned(),
            paused: AtomicBool::new(options.paused),
            options,
            events: Mutex::new(events),
            stop: AtomicBool::new(false),
            claimed: AtomicUsize::new(0),
            running: Mutex::new(HashMap::new()),
            wake: (Mutex::new(0), Condvar::new()),
            live_threads: AtomicUsize::new(backends.len()),
        });
        recover_at_start(&shared);
        let threads = backends
            .into_iter()
            .map(|backend| {
                let shared = Arc::clone(&shared);
                let name = format!("runner-{}", backend.config().name);
                std::thread::Builder::new()
                    .name(name)
                    .spawn(move || worker::run_backend(&shared, backend.as_ref()))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        if threads.is_empty() {
            shared.send(RunnerEvent::Done);
        }
        Ok(Runner {
            shared,
            threads,
            _lock: lock,
        })
    }

    /// This runner's id (recorded as `runner` on the jobs it claims).
    pub fn id(&self) -> &str {
        &self.shared.runner_id
    }

    /// Stops taking new jobs (a running job goes on to its end).
    pub fn pause(&self) {
        self.shared.paused.store(true, Ordering::SeqCst);
        self.shared.notify();
    }

    pub fn resume(&self) {
        self.shared.paused.store(false, Ordering::SeqCst);
        self.shared.notify();
    }

    pub fn is_paused(&self) -> bool {
        self.shared.paused.load(Ordering::SeqCst)
    }

    /// Tells the runner the queue changed (a job was submitted, moved or re-queued), so an
    /// idle backend looks at once instead of at its next check.
    pub fn wake(&self) {
        self.shared.notify();
    }

    /// Interrupts a running job (it ends cancelled, keeping the images already saved). False
    /// when this runner is not running it.
    pub fn interrupt(&self, job_id: &str) -> bool {
        let running = self
            .shared
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match running.get(job_id) {
            Some(control) => {
                control.cancel();
                true
            }
            None => false,
        }
    }

    /// True once every backend's thread has ended.
    pub fn is_done(&self) -> bool {
        self.shared.live_threads.load(Ordering::SeqCst) == 0
    }

    /// Waits for every backend's thread to end (with `exit_when_idle`, when nothing is left).
    pub fn join(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// Stops: running jobs are interrupted and put back in the queue; waits for the threads.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for control in self
            .shared
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            control.cancel();
        }
        self.shared.notify();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.stop_inner();
        }
    }
}

/// Fails every job left `running` by a runner whose lock nobody holds any more (promptdesk
/// was killed while it ran): it ends failed with [`INTERRUPTED_MESSAGE`] and can be
/// re-queued. Returns the jobs failed so; the errors met on the way (the history could not be
/// written) are in the second list. The runner does this when it starts; the CLI's `requeue`
/// and the app do it too, so such a job never stays `running` forever.
pub fn recover_orphans(
    store: &dyn QueueStore,
    data_dir: &std::path::Path,
) -> (Vec<String>, Vec<crate::history::HistoryError>) {
    let (mut recovered, mut errors) = (Vec::new(), Vec::new());
    let active = match store.active() {
        Ok(a) => a,
        Err(e) => {
            errors.push(e);
            return (recovered, errors);
        }
    };
    for record in active {
        let Some(owner) = record.runner.clone() else {
            continue;
        };
        if record.status != JobStatus::Running || liveness::is_alive(data_dir, &owner) {
            continue;
        }
        let check_owner = owner.clone();
        let result = store.transition(
            &record.job_id,
            Box::new(move |r| {
                r.status == JobStatus::Running && r.runner.as_deref() == Some(&check_owner)
            }),
            Box::new(|r| {
                let mut r = r.clone();
                r.status = JobStatus::Failed;
                r.error_message = Some(INTERRUPTED_MESSAGE.to_owned());
                r.completed_at = Some(chrono::Utc::now());
                r.duration_ms = r
                    .started_at
                    .and_then(|s| u64::try_from((chrono::Utc::now() - s).num_milliseconds()).ok());
                r
            }),
        );
        match result {
            Ok(Some(_)) => recovered.push(record.job_id.clone()),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
        liveness::forget(data_dir, &owner);
    }
    (recovered, errors)
}

fn recover_at_start(shared: &Shared) {
    let (recovered, errors) = recover_orphans(shared.store.as_ref(), &shared.options.data_dir);
    for job_id in recovered {
        shared.send(RunnerEvent::Recovered { job_id });
    }
    for e in errors {
        shared.send(RunnerEvent::HistoryError(e.to_string()));
    }
}
