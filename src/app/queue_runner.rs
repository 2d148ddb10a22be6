//! The queue runner inside the app: the "Run queue" switch, the runner's life and what it
//! reports.
//!
//! - The runner ([`crate::runner::Runner`]) is started on a background task (connecting the
//!   backends reads workflow files, and the runner's first look at the history waits for the
//!   history writer): its history changes all go through the writer thread
//!   ([`super::writer::WriterQueue`]).
//! - Its events are forwarded by a small thread (`queue-events`) that decodes live previews
//!   (off the UI thread) and asks for a repaint, so the window updates without polling.
//! - Switching "Run queue" off pauses the runner (a running job goes on to its end);
//!   switching it on again resumes it. Closing the window stops it on a background thread:
//!   running jobs go back to the queue ([`QueueRunner::begin_stop`]).
//! - When the backends change while it runs, the runner is started again with them as soon
//!   as none of its jobs runs.
//!
//! [`QueueStatus`] is what the Queue view reads: each backend's state, and the running jobs
//! with their progress and preview texture.

use super::tasks::{Repaint, Task, spawn_named};
use super::writer::WriterQueue;
use crate::backends::{Backend, BackendConfig, BackendError, BackendsFile, Catalogues, connect};
use crate::job_record::{JobRecord, JobStatus};
use crate::runner::{BackendState, Runner, RunnerEvent, RunnerOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::time::{Duration, Instant};

/// Makes the client of a configured backend: the core's [`connect`] (tests hand the app
/// scripted backends through it).
pub type Connector =
    Arc<dyn Fn(&BackendConfig, &Path) -> Result<Box<dyn Backend>, BackendError> + Send + Sync>;

/// The core's clients (A1111, ComfyUI).
pub fn core_connector() -> Connector {
    Arc::new(|config: &BackendConfig, data_dir: &Path| connect(config, data_dir))
}

/// What the runner reports, as the UI takes it: previews already decoded.
#[derive(Debug)]
pub enum QueueEvent {
    Runner(RunnerEvent),
    /// A live preview of a running job, decoded on the forwarding thread.
    Preview {
        job_id: String,
        image: egui::ColorImage,
    },
}

/// One backend as the Queue view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendShown {
    pub state: BackendState,
    /// When the state was reported (a "retry in N s" counts down from it).
    pub since: Instant,
}

/// A running job's progress as last reported.
pub struct RunningJob {
    pub backend: String,
    /// The request running (0-based) and how many the job has.
    pub request: usize,
    pub requests: usize,
    pub fraction: f32,
    pub step: u32,
    pub steps: u32,
    pub eta_secs: Option<f32>,
    /// A decoded preview not yet uploaded as a texture.
    pub pending_preview: Option<egui::ColorImage>,
    /// The preview texture (replaced in place by each new preview; freed with the job).
    pub preview: Option<egui::TextureHandle>,
}

impl RunningJob {
    fn new(backend: String) -> RunningJob {
        RunningJob {
            backend,
            request: 0,
            requests: 0,
            fraction: 0.0,
            step: 0,
            steps: 0,
            eta_secs: None,
            pending_preview: None,
            preview: None,
        }
    }
}

/// What the Queue view and the Run queue switch read.
#[derive(Default)]
pub struct QueueStatus {
    /// The Run queue switch.
    pub on: bool,
    /// The runner is being started or stopped.
    pub starting: bool,
    pub stopping: bool,
    /// The runner is running (maybe paused).
    pub started: bool,
    /// Per backend (by name), its last state.
    pub backends: BTreeMap<String, BackendShown>,
    /// Running jobs by id.
    pub running: BTreeMap<String, RunningJob>,
    /// Backends that could not be used (their error), from the last start.
    pub unusable: Vec<String>,
    /// The last history error the runner reported.
    pub history_error: Option<String>,
}

/// The app's runner and its switch.
pub struct QueueRunner {
    /// Makes the backends' clients (for the runner and the connection tests).
    pub connector: Connector,
    data_dir: PathBuf,
    repaint: Repaint,
    pub status: QueueStatus,
    starting: Option<Task<Result<Started, String>>>,
    runner: Option<Runner>,
    stopping: Option<Task<()>>,
    events: Option<Receiver<QueueEvent>>,
    /// The backends changed while the runner was running: start it again with them once
    /// none of its jobs runs.
    restart: bool,
    /// The window is closing: the runner is stopped and not started again.
    closing: bool,
}

/// A runner that started, with the backends that could not be used.
struct Started {
    runner: Runner,
    unusable: Vec<String>,
}

/// What happened that the rest of the app acts on (messages, the composer's suggestions).
#[derive(Debug)]
pub enum RunnerNews {
    /// A job ended (the record as written).
    Finished(Box<JobRecord>),
    Requeued {
        job_id: String,
        reason: String,
    },
    Recovered(String),
    HistoryError(String),
    /// The runner could not start (every backend unusable, or the lock file).
    StartFailed(String),
}

impl QueueRunner {
    pub fn new(data_dir: PathBuf, repaint: &Repaint) -> QueueRunner {
        QueueRunner {
            connector: core_connector(),
            data_dir,
            repaint: repaint.clone(),
            status: QueueStatus::default(),
            starting: None,
            runner: None,
            stopping: None,
            events: None,
            restart: false,
            closing: false,
        }
    }

    /// True while the runner is being started or stopped (background tasks).
    pub fn is_busy(&self) -> bool {
        self.starting.is_some() || self.stopping.is_some()
    }

    /// True when no runner is running, starting or stopping.
    pub fn is_stopped(&self) -> bool {
        self.runner.is_none() && self.starting.is_none() && self.stopping.is_none()
    }

    /// Switches the queue on: resumes the runner, or starts one over `backends`.
    pub fn switch_on(&mut self, backends: Vec<BackendConfig>, queue: WriterQueue) {
        self.status.on = true;
        if let Some(runner) = &self.runner {
            runner.resume();
            return;
        }
        if self.starting.is_some() || self.stopping.is_some() {
            // Resumed (or started) once that is done.
            return;
        }
        self.start(backends, queue);
    }

    /// Switches the queue off: the runner takes no new job (a running one goes on).
    pub fn switch_off(&mut self) {
        self.status.on = false;
        if let Some(runner) = &self.runner {
            runner.pause();
        }
    }

    /// Tells an idle runner the queue changed (a job was submitted, moved or re-queued).
    pub fn wake(&self) {
        if let Some(runner) = &self.runner {
            runner.wake();
        }
    }

    /// Interrupts a running job; false when this runner does not run it.
    pub fn interrupt(&self, job_id: &str) -> bool {
        self.runner.as_ref().is_some_and(|r| r.interrupt(job_id))
    }

    /// The backends were changed: a running runner is started again with them once none of
    /// its jobs runs.
    pub fn backends_changed(&mut self) {
        if self.runner.is_some() || self.starting.is_some() {
            self.restart = true;
        }
    }

    fn start(&mut self, backends: Vec<BackendConfig>, queue: WriterQueue) {
        self.status.history_error = None;
        self.status.unusable.clear();
        self.status.backends = backends
            .iter()
            .map(|b| {
                (
                    b.name.clone(),
                    BackendShown {
                        state: BackendState::Idle,
                        since: Instant::now(),
                    },
                )
            })
            .collect();
        let (runner_tx, runner_rx) = channel();
        let (ui_tx, ui_rx) = channel();
        let repaint = self.repaint.clone();
        let _ = spawn_named("queue-events", move || forward(runner_rx, ui_tx, repaint));
        self.events = Some(ui_rx);
        let data_dir = self.data_dir.clone();
        let paused = !self.status.on;
        let connector = self.connector.clone();
        self.starting = Some(Task::spawn("queue-start", &self.repaint, move || {
            start_runner(&connector, data_dir, backends, queue, runner_tx, paused)
        }));
        self.status.starting = true;
    }

    /// Stops the runner on a background thread (running jobs go back to the queue); the
    /// window closes once [`Self::is_stopped`]. A runner still starting is stopped once it
    /// has started.
    pub fn begin_stop(&mut self) {
        self.closing = true;
        self.status.on = false;
        if let Some(runner) = self.runner.take() {
            self.stopping = Some(Task::spawn("queue-stop", &self.repaint, move || {
                runner.stop()
            }));
            self.status.stopping = true;
        }
    }

    /// Takes what the runner and its tasks report; starts it again when its backends
    /// changed and none of its jobs runs. `restart_with` gives the current backends and a
    /// history handle for such a restart.
    pub fn poll(
        &mut self,
        restart_with: impl FnOnce() -> Option<(Vec<BackendConfig>, WriterQueue)>,
    ) -> Vec<RunnerNews> {
        let closing = self.closing;
        let mut news = Vec::new();
        if let Some(result) = self.starting.as_ref().and_then(Task::poll) {
            self.starting = None;
            self.status.starting = false;
            match result.and_then(|r| r) {
                Ok(started) => {
                    self.status.unusable = started.unusable;
                    if self.status.on {
                        started.runner.resume();
                    } else {
                        started.runner.pause();
                    }
                    self.runner = Some(started.runner);
                    self.status.started = true;
                    if closing {
                        self.begin_stop();
                    }
                }
                Err(e) => {
                    self.status.on = false;
                    self.status.backends.clear();
                    news.push(RunnerNews::StartFailed(e));
                }
            }
        }
        if let Some(result) = self.stopping.as_ref().and_then(Task::poll) {
            self.stopping = None;
            self.status.stopping = false;
            self.status.started = false;
            if let Err(e) = result {
                news.push(RunnerNews::HistoryError(e));
            }
        }
        self.take_events(&mut news);
        if self.restart && self.runner.is_some() && self.status.running.is_empty() && !closing {
            self.restart = false;
            let on = self.status.on;
            if let Some(runner) = self.runner.take() {
                // Stopped here: nothing runs, so this only ends idle threads.
                self.stopping = Some(Task::spawn("queue-stop", &self.repaint, move || {
                    runner.stop()
                }));
                self.status.stopping = true;
            }
            self.status.on = on;
        }
        if self.runner.is_none()
            && self.starting.is_none()
            && self.stopping.is_none()
            && self.status.on
            && !self.status.started
            && !closing
            && let Some((backends, queue)) = restart_with()
        {
            self.start(backends, queue);
        }
        news
    }

    fn take_events(&mut self, news: &mut Vec<RunnerNews>) {
        let Some(rx) = &self.events else { return };
        loop {
            match rx.try_recv() {
                Ok(event) => {
                    if let Some(n) = self.status.apply(event) {
                        news.push(n);
                    }
                }
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.events = None;
                    self.status.running.clear();
                    return;
                }
            }
        }
    }

    /// Uploads the previews decoded since the last frame (each replaces its job's texture in
    /// place: one texture per running job, freed when the job ends).
    pub fn upload_previews(&mut self, ctx: &egui::Context) {
        for (job_id, job) in &mut self.status.running {
            let Some(image) = job.pending_preview.take() else {
                continue;
            };
            match &mut job.preview {
                Some(texture) => texture.set(image, egui::TextureOptions::LINEAR),
                None => {
                    job.preview = Some(ctx.load_texture(
                        format!("preview-{job_id}"),
                        image,
                        egui::TextureOptions::LINEAR,
                    ));
                }
            }
        }
    }
}

impl QueueStatus {
    /// Applies one event; returns what the rest of the app should hear of it.
    fn apply(&mut self, event: QueueEvent) -> Option<RunnerNews> {
        let event = match event {
            QueueEvent::Preview { job_id, image } => {
                if let Some(job) = self.running.get_mut(&job_id) {
                    job.pending_preview = Some(image);
                }
                return None;
            }
            QueueEvent::Runner(event) => event,
        };
        match event {
            RunnerEvent::Backend { backend, state } => {
                self.backends.insert(
                    backend,
                    BackendShown {
                        state,
                        since: Instant::now(),
                    },
                );
                None
            }
            RunnerEvent::Started { job_id, backend } => {
                self.running.insert(job_id, RunningJob::new(backend));
                None
            }
            RunnerEvent::Progress {
                job_id,
                backend,
                request,
                requests,
                progress,
            } => {
                let job = self
                    .running
                    .entry(job_id)
                    .or_insert_with(|| RunningJob::new(backend));
                job.request = request;
                job.requests = requests;
                job.fraction = progress.fraction;
                job.step = progress.step;
                job.steps = progress.steps;
                job.eta_secs = progress.eta_secs;
                None
            }
            RunnerEvent::Finished { record } => {
                self.running.remove(&record.job_id);
                Some(RunnerNews::Finished(record))
            }
            RunnerEvent::Requeued { job_id, reason, .. } => {
                self.running.remove(&job_id);
                Some(RunnerNews::Requeued { job_id, reason })
            }
            RunnerEvent::Recovered { job_id } => Some(RunnerNews::Recovered(job_id)),
            RunnerEvent::HistoryError(e) => {
                self.history_error = Some(e.clone());
                Some(RunnerNews::HistoryError(e))
            }
            // The app's runner waits for new jobs, so only an internal error ends a backend:
            // shown like a history error (the status line and the Queue view).
            RunnerEvent::BackendFailed { error, .. } => {
                self.history_error = Some(error.clone());
                Some(RunnerNews::HistoryError(error))
            }
            RunnerEvent::Done => None,
        }
    }

    /// A backend's state as the Queue view words it.
    pub fn describe(shown: &BackendShown) -> String {
        match &shown.state {
            BackendState::Idle => "idle".to_owned(),
            BackendState::Paused => "paused".to_owned(),
            BackendState::Running { job_id } => {
                format!("running job {}", super::state::short_id(job_id))
            }
            BackendState::Waiting { error, retry_in } => {
                let left = retry_in.saturating_sub(shown.since.elapsed());
                let secs = left.as_millis().div_ceil(1000).max(1);
                format!("waiting: {error}, retry in {secs} s")
            }
            BackendState::Stopped => "stopped".to_owned(),
        }
    }

    /// True while a backend waits to retry (the view counts the seconds down).
    pub fn counting_down(&self) -> bool {
        self.backends
            .values()
            .any(|b| matches!(b.state, BackendState::Waiting { .. }))
    }
}

/// Connects the backends and starts the runner (on the `queue-start` task).
fn start_runner(
    connector: &Connector,
    data_dir: PathBuf,
    configs: Vec<BackendConfig>,
    queue: WriterQueue,
    events: Sender<RunnerEvent>,
    paused: bool,
) -> Result<Started, String> {
    let mut backends: Vec<Arc<dyn Backend>> = Vec::new();
    let mut unusable = Vec::new();
    for config in &configs {
        match connector(config, &data_dir) {
            Ok(backend) => backends.push(Arc::from(backend)),
            Err(e) => unusable.push(e.to_string()),
        }
    }
    if backends.is_empty() {
        return Err(if unusable.is_empty() {
            "no backend is configured".to_owned()
        } else {
            format!("no backend can be used: {}", unusable.join("; "))
        });
    }
    let mut options = RunnerOptions::new(data_dir);
    options.paused = paused;
    Runner::start(Arc::new(queue), backends, options, events)
        .map(|runner| Started { runner, unusable })
        .map_err(|e| format!("the queue runner could not start: {e}"))
}

/// The forwarding thread: decodes previews, hands every event to the UI, asks for a repaint.
/// Ends when the runner is gone (its sender dropped) or the UI stopped listening.
fn forward(events: Receiver<RunnerEvent>, ui: Sender<QueueEvent>, repaint: Repaint) {
    while let Ok(mut event) = events.recv() {
        if let RunnerEvent::Progress {
            job_id, progress, ..
        } = &mut event
            && let Some(bytes) = progress.preview.take()
            && let Some(image) = decode_preview(&bytes)
        {
            let preview = QueueEvent::Preview {
                job_id: job_id.clone(),
                image,
            };
            if ui.send(preview).is_err() {
                return;
            }
        }
        if ui.send(QueueEvent::Runner(event)).is_err() {
            return;
        }
        repaint.request();
    }
}

/// Previews larger than this (either side) are not shown (a preview is small; a huge one
/// would cost the UI a large texture).
const MAX_PREVIEW_SIDE: u32 = 2048;

/// A PNG, JPEG or WebP preview as an egui image; `None` when it cannot be read.
pub fn decode_preview(bytes: &[u8]) -> Option<egui::ColorImage> {
    let image = image::load_from_memory(bytes).ok()?;
    if image.width() > MAX_PREVIEW_SIDE || image.height() > MAX_PREVIEW_SIDE {
        return None;
    }
    let rgba = image.to_rgba8();
    let size = [rgba.width() as usize, rgba.height() as usize];
    Some(egui::ColorImage::from_rgba_unmultiplied(
        size,
        rgba.as_raw(),
    ))
}

/// The backends file and the workflow files beside it.
#[derive(Debug, Clone, Default)]
pub struct BackendsRead {
    pub file: BackendsFile,
    /// The file names in `workflows/` (for the ComfyUI workflow field).
    pub workflows: Vec<String>,
}

/// Reads the backends file and lists `workflows/`.
pub fn read_backends(data_dir: &Path) -> Result<BackendsRead, String> {
    let file = BackendsFile::load(data_dir).map_err(|e| e.to_string())?;
    Ok(BackendsRead {
        file,
        workflows: list_workflows(data_dir),
    })
}

/// The `.json` files in `workflows/`, sorted.
pub fn list_workflows(data_dir: &Path) -> Vec<String> {
    let dir = data_dir.join(crate::backends::config::WORKFLOWS_DIR_NAME);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.to_lowercase().ends_with(".json"))
                .collect()
        })
        .unwrap_or_default();
    names.sort_by_key(|n| n.to_lowercase());
    names
}

/// Connects to `config` and reads its catalogues (on a task): the error names the URL.
pub fn read_catalogues(
    connector: &Connector,
    config: &BackendConfig,
    data_dir: &Path,
) -> Result<Catalogues, String> {
    let backend = connector(config, data_dir).map_err(|e| e.to_string())?;
    backend.catalogues().map_err(|e| {
        let text = e.to_string();
        if text.contains(config.base_url()) {
            text
        } else {
            format!("{text} ({})", config.base_url())
        }
    })
}

/// How long before a retry the Queue view repaints to count down.
pub const COUNTDOWN_REPAINT: Duration = Duration::from_secs(1);

/// True for a job the Re-queue action applies to.
pub fn can_requeue(record: &JobRecord) -> bool {
    matches!(record.status, JobStatus::Failed | JobStatus::Cancelled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(format: image::ImageFormat) -> Vec<u8> {
        let image = image::RgbImage::from_pixel(12, 8, image::Rgb([200, 30, 30]));
        let mut bytes = std::io::Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn previews_decode_from_png_and_jpeg_and_garbage_is_skipped() {
        for format in [image::ImageFormat::Png, image::ImageFormat::Jpeg] {
            let image = decode_preview(&encoded(format)).expect("decoded");
            assert_eq!(image.size, [12, 8], "{format:?}");
        }
        assert!(decode_preview(b"not an image").is_none());
    }

    #[test]
    fn a_waiting_backend_says_why_and_counts_down() {
        let shown = BackendShown {
            state: BackendState::Waiting {
                error: "forge: cannot reach http://127.0.0.1:7860: connection refused".into(),
                retry_in: Duration::from_secs(8),
            },
            since: Instant::now(),
        };
        let text = QueueStatus::describe(&shown);
        assert!(
            text.starts_with("waiting: forge: cannot reach http://127.0.0.1:7860")
                && text.ends_with("retry in 8 s"),
            "{text}"
        );
        let running = BackendShown {
            state: BackendState::Running {
                job_id: "0199aaaa-bbbb-cccc-dddd-eeeeffff0001".into(),
            },
            since: Instant::now(),
        };
        assert_eq!(QueueStatus::describe(&running), "running job ffff0001");
    }
}
