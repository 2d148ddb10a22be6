//! The servers that run jobs: AUTOMATIC1111 / Forge / reForge (`a1111`) and ComfyUI
//! (`comfyui`). Each backend is a blocking client; the runner gives every backend its own
//! thread.
//!
//! - [`config`]: the configured backends (`backends.json` in the data folder, mode 0600).
//! - [`a1111`]: `/sdapi/v1/txt2img`, progress polling, interrupt, catalogues.
//! - [`comfyui`]: `/prompt`, the `/ws` progress socket, `/history`, `/view`, catalogues.
//! - [`workflow`]: ComfyUI graphs: the built-in txt2img graph, `{{placeholders}}` and
//!   placing values by walking a user's graph.
//! - [`names`]: sampler and scheduler names between A1111 and ComfyUI, and model matching.

pub mod a1111;
pub mod comfyui;
pub mod config;
mod http;
pub mod names;
pub mod workflow;

pub use config::{BackendConfig, BackendKind, BackendsFile};

use crate::run_config::GenerationSettings;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A checkpoint a backend offers.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ModelInfo {
    /// What the backend's own UI shows (`juggernautXL_v9.safetensors [a1b2c3d4]` on A1111, the
    /// file name on ComfyUI): the value the composer offers and the one sent.
    pub title: String,
    /// The file name without folder, extension or hash (`juggernautXL_v9`).
    pub name: String,
    /// A1111's short hash, when known.
    pub hash: Option<String>,
}

/// What "Test connection" reads: the names a backend accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Catalogues {
    pub models: Vec<ModelInfo>,
    /// In A1111's vocabulary (translated for ComfyUI), as the composer offers them.
    pub samplers: Vec<String>,
    /// In A1111's vocabulary (labels such as `Karras`), as the composer offers them.
    pub schedulers: Vec<String>,
}

/// How far the running request is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Progress {
    /// 0.0 to 1.0 over the whole request (all its images).
    pub fraction: f32,
    /// Sampling step of the current image, and of how many.
    pub step: u32,
    pub steps: u32,
    /// Seconds left, when the backend says.
    pub eta_secs: Option<f32>,
    /// A live preview (PNG, JPEG or WebP bytes) when the backend sends one.
    pub preview: Option<Arc<Vec<u8>>>,
}

/// One request to generate: one rendered prompt pair with its settings.
#[derive(Debug, Clone)]
pub struct GenerateRequest<'a> {
    pub job_id: &'a str,
    pub prompt: &'a str,
    pub negative_prompt: &'a str,
    /// The job's settings; `settings.seed` is the seed to send (`-1`: the backend picks).
    pub settings: &'a GenerationSettings,
}

/// One image a backend returned.
#[derive(Debug, Clone)]
pub struct GeneratedImage {
    /// The file as the backend sent it (PNG, usually).
    pub bytes: Vec<u8>,
    /// The seed the backend used for this image.
    pub seed: i64,
    /// The A1111 `parameters` text to write into the PNG; `None` keeps what the image
    /// already carries (A1111's own PNGs have it, with the seed used).
    pub parameters: Option<String>,
}

/// What one request produced.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub images: Vec<GeneratedImage>,
    pub model_name: Option<String>,
    pub model_hash: Option<String>,
    /// Things that did not fail the request (the backend used another sampler than asked).
    pub warnings: Vec<String>,
    /// The request stopped before its end (interrupted, or failed after some images): the
    /// images it did produce are here, and this is why it stopped. The runner saves them and
    /// then ends the job as this error says.
    pub ended_early: Option<BackendError>,
}

/// The runner's hold on a running request: cancel it, and how long a silence is a stall.
#[derive(Debug, Clone)]
pub struct RunControl {
    cancel: Arc<AtomicBool>,
    /// No progress for this long interrupts the request and fails it as stalled.
    pub stall_timeout: Duration,
    /// How often progress is polled (A1111) or the history checked (ComfyUI backstop).
    pub poll_interval: Duration,
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl {
            cancel: Arc::new(AtomicBool::new(false)),
            stall_timeout: Duration::from_secs(90),
            poll_interval: Duration::from_secs(1),
        }
    }
}

impl RunControl {
    /// Asks the running request to stop (the backend is interrupted).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

/// Why talking to a backend failed. Every message names the backend, and the URL where one
/// was called.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    /// Nothing answers (connection refused, no route, DNS): the job stays queued and the
    /// backend is tried again later.
    #[error("{backend}: cannot reach {url}: {reason}")]
    Unreachable {
        backend: String,
        url: String,
        reason: String,
    },
    /// The connection or an answer took too long: the job stays queued.
    #[error("{backend}: {url} did not answer in time ({reason})")]
    Timeout {
        backend: String,
        url: String,
        reason: String,
    },
    /// The connection broke after the server took the request (it may have crashed, or a
    /// proxy cut it): the job fails and is not sent again, so a request that crashes the
    /// server cannot run over and over.
    #[error(
        "{backend}: the connection to {url} was lost while the server worked on the request ({reason}); the job is not sent again by itself"
    )]
    Lost {
        backend: String,
        url: String,
        reason: String,
    },
    /// HTTP 401 (A1111 started with `--api-auth`).
    #[error(
        "{backend}: {url} refused the login (HTTP 401): check the user and password set for this backend"
    )]
    Unauthorized { backend: String, url: String },
    /// The GPU ran out of memory: the job fails with the backend's text and is not retried.
    #[error("{backend}: out of memory: {message}")]
    OutOfMemory { backend: String, message: String },
    /// An HTTP error with the server's own message (unknown sampler or model, validation).
    #[error("{backend}: {url} answered HTTP {status}: {message}")]
    Rejected {
        backend: String,
        url: String,
        status: u16,
        message: String,
    },
    /// The answer could not be understood (bad JSON, cut short, missing fields).
    #[error("{backend}: {url} sent an answer promptdesk cannot read: {reason}")]
    Malformed {
        backend: String,
        url: String,
        reason: String,
    },
    /// No progress for the stall timeout: the backend was interrupted.
    #[error("{backend}: stalled: no progress for {secs} s, so the request was interrupted")]
    Stalled { backend: String, secs: u64 },
    /// Cancelled by the user (the backend was interrupted).
    #[error("{backend}: interrupted")]
    Interrupted { backend: String },
    /// The backend ran the request and it failed (ComfyUI `execution_error`).
    #[error("{backend}: the request failed on the server: {message}")]
    Execution { backend: String, message: String },
    /// Refused before anything was sent (a sampler with no counterpart, a workflow that
    /// does not fit, a missing workflow file).
    #[error("{backend}: {reason}")]
    Config { backend: String, reason: String },
}

impl BackendError {
    /// True when the job should stay queued and the backend be tried again later (nothing
    /// was run): the server is down or did not answer.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            BackendError::Unreachable { .. } | BackendError::Timeout { .. }
        )
    }

    /// True when the server looks down or unusable for now (a ping answered so): wait and
    /// ask again, rather than give up on it.
    pub fn is_down(&self) -> bool {
        self.is_retryable() || matches!(self, BackendError::Lost { .. })
    }

    /// The same failure, but known to come after the server took the request: a server
    /// that stopped answering then is [`BackendError::Lost`], never "nothing ran".
    pub fn after_submission(self) -> BackendError {
        match self {
            BackendError::Unreachable {
                backend,
                url,
                reason,
            }
            | BackendError::Timeout {
                backend,
                url,
                reason,
            } => BackendError::Lost {
                backend,
                url,
                reason,
            },
            other => other,
        }
    }
}

/// A server that runs requests. Blocking: the runner calls it from the backend's own thread.
pub trait Backend: Send + Sync {
    fn config(&self) -> &BackendConfig;

    /// A cheap call that succeeds when the server answers (used before taking a job and
    /// while waiting for a server to come back).
    fn ping(&self) -> Result<(), BackendError>;

    /// The models, samplers and schedulers the server offers.
    fn catalogues(&self) -> Result<Catalogues, BackendError>;

    /// Runs one request to the end, calling `progress` as it goes; stops early (and
    /// interrupts the server) when `control` is cancelled or the server stalls.
    fn generate(
        &self,
        request: &GenerateRequest<'_>,
        control: &RunControl,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generated, BackendError>;
}

/// The client for a configured backend. A ComfyUI backend's workflow is read here (from
/// `workflows/` in `data_dir` when its name has no folder): a missing or unusable workflow is
/// a [`BackendError::Config`].
pub fn connect(config: &BackendConfig, data_dir: &Path) -> Result<Box<dyn Backend>, BackendError> {
    match config.kind {
        BackendKind::A1111 => Ok(Box::new(a1111::A1111::new(config.clone()))),
        BackendKind::ComfyUi => Ok(Box::new(comfyui::ComfyUi::new(config.clone(), data_dir)?)),
    }
}
