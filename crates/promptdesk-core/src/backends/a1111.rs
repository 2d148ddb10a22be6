//! AUTOMATIC1111 / Forge / reForge: `/sdapi/v1/...`.
//!
//! One request is one `POST /sdapi/v1/txt2img`, which blocks on the server until every image
//! is made. It runs on a helper thread while this one polls `GET /sdapi/v1/progress` for the
//! progress bar and the live preview, watches for a cancel (then `POST /sdapi/v1/interrupt`)
//! and for a stall (no change in the server's progress for the stall timeout: interrupted,
//! and the hung call abandoned after a short grace).
//!
//! The answer is `{"images": [base64...], "parameters": {...}, "info": "<JSON text>"}`; in
//! `info`, image `images[index_of_first_image + i]` has seed `all_seeds[i]` (a grid, when the
//! server returns one, comes first; images after the last seed, such as ControlNet maps, are
//! not kept).

use super::http::{Http, Wait};
use super::{
    Backend, BackendConfig, BackendError, Catalogues, GenerateRequest, Generated, GeneratedImage,
    ModelInfo, Progress, RunControl, names,
};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PROGRESS_PATH: &str = "/sdapi/v1/progress?skip_current_image=false";
const PING_PATH: &str = "/sdapi/v1/progress?skip_current_image=true";
const TXT2IMG_PATH: &str = "/sdapi/v1/txt2img";
const INTERRUPT_PATH: &str = "/sdapi/v1/interrupt";
const MODELS_PATH: &str = "/sdapi/v1/sd-models";
const SAMPLERS_PATH: &str = "/sdapi/v1/samplers";
const SCHEDULERS_PATH: &str = "/sdapi/v1/schedulers";

/// The longest a stalled request's hung call is waited for after the interrupt.
const STALL_GRACE: Duration = Duration::from_secs(5);
/// The longest a cancelled request's call is waited for after the interrupt (A1111 finishes
/// the step and decodes what it has); a server that takes longer is left to it.
const CANCEL_WAIT: Duration = Duration::from_secs(30);
/// The shortest poll interval used (a zero interval would spin).
const MIN_POLL: Duration = Duration::from_millis(10);
/// Old combined sampler names carried the scheduler (`DPM++ 2M Karras`); A1111 1.9+ splits
/// these suffixes off and reports the sampler alone.
const OLD_SCHEDULER_SUFFIXES: &[&str] = &[" Karras", " Exponential", " SGM Uniform"];

/// An A1111-API server.
pub struct A1111 {
    config: BackendConfig,
    http: Arc<Http>,
    /// What the server offers, once read (by [`Backend::catalogues`] or lazily before the
    /// first request): used to check the model before sending.
    known: Mutex<Option<Known>>,
    /// The answer of a request given up on as stalled, still on its way: until it comes (or
    /// the server shows it idle) the server is busy, and no other job is sent behind it.
    stalled: Mutex<Option<mpsc::Receiver<Result<Value, BackendError>>>>,
}

/// The catalogues as read, with what the payload needs beyond the names.
#[derive(Debug, Clone)]
struct Known {
    catalogues: Catalogues,
    /// Each sampler's name and aliases (`Euler a`: `k_euler_a`).
    samplers: Vec<(String, Vec<String>)>,
    /// False when the server has no `/sdapi/v1/schedulers` (A1111 before 1.9, where the
    /// scheduler is part of the sampler's name).
    has_schedulers: bool,
}

impl A1111 {
    pub fn new(config: BackendConfig) -> A1111 {
        let http = Arc::new(Http::new(&config));
        A1111 {
            config,
            http,
            known: Mutex::new(None),
            stalled: Mutex::new(None),
        }
    }

    fn backend(&self) -> String {
        self.config.name.clone()
    }

    /// Reads the three catalogues and keeps them.
    fn read_known(&self) -> Result<Known, BackendError> {
        let models_url = self.http.url(MODELS_PATH);
        let models = self.http.get_json(MODELS_PATH).map_err(explain_404)?;
        let models = parse_models(&models).map_err(|r| self.http.malformed(&models_url, r))?;

        let samplers_url = self.http.url(SAMPLERS_PATH);
        let samplers = self.http.get_json(SAMPLERS_PATH)?;
        let samplers =
            parse_samplers(&samplers).map_err(|r| self.http.malformed(&samplers_url, r))?;

        let schedulers_url = self.http.url(SCHEDULERS_PATH);
        let (schedulers, has_schedulers) = match self.http.get_json(SCHEDULERS_PATH) {
            Ok(v) => (
                parse_schedulers(&v).map_err(|r| self.http.malformed(&schedulers_url, r))?,
                true,
            ),
            // A1111 before 1.9 has no such endpoint: no schedulers, not an error.
            Err(BackendError::Rejected { status: 404, .. }) => (Vec::new(), false),
            Err(e) => return Err(e),
        };

        let known = Known {
            catalogues: Catalogues {
                models,
                samplers: samplers.iter().map(|(n, _)| n.clone()).collect(),
                schedulers,
            },
            samplers,
            has_schedulers,
        };
        *self.known.lock().unwrap_or_else(|p| p.into_inner()) = Some(known.clone());
        Ok(known)
    }

    /// The catalogues read before, or read now; `None` when they cannot be read (that does
    /// not stop a request: the server then judges the names itself).
    fn known_or_read(&self) -> Option<Known> {
        let cached = self.known.lock().unwrap_or_else(|p| p.into_inner()).clone();
        cached.or_else(|| self.read_known().ok())
    }

    /// The title to send for the request's model, or a [`BackendError::Config`] when the
    /// server's list does not have it. A list read earlier is read again before refusing
    /// (the user may have added the model since).
    fn resolve_model(
        &self,
        wanted: &str,
        known: &mut Option<Known>,
    ) -> Result<Option<String>, BackendError> {
        let Some(k) = known.as_ref() else {
            return Ok(None);
        };
        if k.catalogues.models.is_empty() {
            return Ok(None);
        }
        if let Some(m) = names::match_model(wanted, &k.catalogues.models) {
            return Ok(Some(m.title.clone()));
        }
        if let Ok(fresh) = self.read_known() {
            *known = Some(fresh);
        }
        let models = &known
            .as_ref()
            .map(|k| &k.catalogues.models[..])
            .unwrap_or(&[]);
        if let Some(m) = names::match_model(wanted, models) {
            return Ok(Some(m.title.clone()));
        }
        let mut listed: Vec<&str> = models.iter().take(5).map(|m| m.title.as_str()).collect();
        let more = models.len().saturating_sub(listed.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        if listed.is_empty() {
            listed.push("(none)");
        }
        Err(BackendError::Config {
            backend: self.backend(),
            reason: format!(
                "the model \"{wanted}\" is not on this server (it has {}{tail}): pick one of its models or add the file to its models folder",
                listed.join(", ")
            ),
        })
    }

    /// Sends the interrupt; a failure is not reported (the caller is already failing the
    /// request, and the server may be the reason).
    fn interrupt(&self) {
        let _ = self.http.post_json(INTERRUPT_PATH, &json!({}), Wait::Short);
    }
}

/// The JSON body of `POST /sdapi/v1/txt2img` for one request (the model as the request names
/// it; [`A1111`] replaces it with the server's title when it knows the server's list).
pub fn txt2img_payload(request: &GenerateRequest<'_>) -> Value {
    let s = request.settings;
    let mut body = Map::new();
    body.insert("prompt".into(), json!(request.prompt));
    body.insert("negative_prompt".into(), json!(request.negative_prompt));
    body.insert("seed".into(), json!(s.seed));
    if !s.sampler.trim().is_empty() {
        body.insert("sampler_name".into(), json!(s.sampler.trim()));
    }
    if !s.scheduler.trim().is_empty() {
        body.insert("scheduler".into(), json!(s.scheduler.trim()));
    }
    body.insert("steps".into(), json!(s.steps));
    body.insert("cfg_scale".into(), json!(s.cfg_scale));
    body.insert("width".into(), json!(s.width));
    body.insert("height".into(), json!(s.height));
    body.insert("batch_size".into(), json!(s.batch_size));
    body.insert("n_iter".into(), json!(s.batch_count));
    let mut overrides = Map::new();
    if !s.model.trim().is_empty() {
        overrides.insert("sd_model_checkpoint".into(), json!(s.model.trim()));
    }
    if s.clip_skip > 0 {
        overrides.insert("CLIP_stop_at_last_layers".into(), json!(s.clip_skip));
    }
    // The images come back in the server's "samples format": PNG keeps the `parameters`
    // chunk promptdesk reads and adds to (JPEG or WebP would carry it in EXIF only).
    overrides.insert("samples_format".into(), json!("png"));
    body.insert("override_settings".into(), Value::Object(overrides));
    body.insert("override_settings_restore_afterwards".into(), json!(true));
    body.insert("send_images".into(), json!(true));
    body.insert("save_images".into(), json!(false));
    Value::Object(body)
}

impl Backend for A1111 {
    fn config(&self) -> &BackendConfig {
        &self.config
    }

    fn ping(&self) -> Result<(), BackendError> {
        let answer = self.http.get_json(PING_PATH).map_err(explain_404)?;
        let mut stalled = self.stalled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rx) = stalled.as_ref() {
            let ended = !matches!(rx.try_recv(), Err(mpsc::TryRecvError::Empty));
            // `job_count` 0 and no job: the server has nothing running any more.
            let state = &answer["state"];
            let idle = state["job_count"].as_i64().unwrap_or(0) == 0
                && state["job"].as_str().unwrap_or("").is_empty();
            if ended || idle {
                *stalled = None;
            } else {
                return Err(BackendError::Timeout {
                    backend: self.backend(),
                    url: self.http.url(PING_PATH),
                    reason: "the server is still busy with a request that stalled; nothing more is sent until it ends".into(),
                });
            }
        }
        Ok(())
    }

    fn catalogues(&self) -> Result<Catalogues, BackendError> {
        self.read_known().map(|k| k.catalogues)
    }

    fn generate(
        &self,
        request: &GenerateRequest<'_>,
        control: &RunControl,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generated, BackendError> {
        let backend = self.backend();
        if control.is_cancelled() {
            return Err(BackendError::Interrupted { backend });
        }
        let settings = request.settings;
        let mut payload = txt2img_payload(request);
        let mut warnings = Vec::new();
        let mut known = self.known_or_read();

        if !settings.model.trim().is_empty()
            && let Some(title) = self.resolve_model(settings.model.trim(), &mut known)?
        {
            // Same file name, other weights: the job asked for one hash and the server has
            // another under that name.
            if let (Some(asked), Some(found)) =
                (bracket_hash(settings.model.trim()), bracket_hash(&title))
                && !found
                    .to_ascii_lowercase()
                    .starts_with(&asked.to_ascii_lowercase())
                && !asked
                    .to_ascii_lowercase()
                    .starts_with(&found.to_ascii_lowercase())
            {
                warnings.push(format!(
                    "the job asked for the model {:?} but the server's file of that name has the hash [{found}]: other weights may give other images",
                    settings.model.trim()
                ));
            }
            payload["override_settings"]["sd_model_checkpoint"] = json!(title);
        }

        // A1111 before 1.9 has no scheduler field: the scheduler is in the sampler's name.
        let scheduler = settings.scheduler.trim();
        let sampler = settings.sampler.trim();
        let already_combined = sampler.len() > scheduler.len()
            && sampler.is_char_boundary(sampler.len() - scheduler.len())
            && sampler[sampler.len() - scheduler.len()..].eq_ignore_ascii_case(scheduler)
            && sampler[..sampler.len() - scheduler.len()].ends_with(' ');
        if let Some(k) = &known
            && !k.has_schedulers
            && !scheduler.is_empty()
            && !scheduler.eq_ignore_ascii_case("automatic")
            && !already_combined
        {
            let combined = format!("{sampler} {scheduler}");
            match k
                .samplers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&combined))
            {
                Some((name, _)) => payload["sampler_name"] = json!(name),
                None => warnings.push(format!(
                    "this server has no scheduler setting (A1111 before 1.9) and no sampler \"{combined}\", so the scheduler \"{scheduler}\" was not applied"
                )),
            }
        }
        let sent_sampler = payload
            .get("sampler_name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();

        let url = self.http.url(TXT2IMG_PATH);
        let (tx, rx) = mpsc::channel();
        let http = Arc::clone(&self.http);
        let body = payload;
        std::thread::Builder::new()
            .name("a1111-txt2img".into())
            .spawn(move || {
                let result = http.post_json(TXT2IMG_PATH, &body, Wait::Long);
                let _ = tx.send(result);
            })
            .map_err(|e| BackendError::Config {
                backend: backend.clone(),
                reason: format!("could not start a thread for the request: {e}"),
            })?;

        let poll_every = control.poll_interval.max(MIN_POLL);
        let mut watch = Watch::new();
        let answer = loop {
            if control.is_cancelled() {
                self.interrupt();
                // A1111 stops at the next step and answers with what it has: those images
                // are kept.
                // A1111 also decodes the batch it was interrupted in (from its last, noisy
                // latent): only the batches finished before it are kept.
                let finished = watch.batches_finished() * settings.batch_size.max(1) as usize;
                let partial = rx
                    .recv_timeout(control.stall_timeout.clamp(STALL_GRACE, CANCEL_WAIT))
                    .ok()
                    .and_then(Result::ok)
                    .and_then(|v| parse_txt2img_as(&v, true).ok())
                    .map(|p| {
                        let mut g = p.generated;
                        g.images.truncate(finished);
                        g
                    })
                    .filter(|g| !g.images.is_empty());
                let interrupted = BackendError::Interrupted { backend };
                return match partial {
                    Some(mut g) => {
                        g.ended_early = Some(interrupted);
                        Ok(g)
                    }
                    None => Err(interrupted),
                };
            }
            match rx.recv_timeout(poll_every) {
                Ok(answer) => break answer,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(self
                        .http
                        .malformed(&url, "the request ended without an answer"));
                }
            }
            if control.is_cancelled() {
                continue;
            }
            // A failed poll is not fatal: the request itself says how it ended.
            // Bounded, so a server that takes connections but never answers them cannot hold
            // up a cancel or the stall check.
            let within =
                (control.poll_interval * 3).clamp(Duration::from_secs(1), Duration::from_secs(5));
            if let Ok(v) = self.http.get_json_within(PROGRESS_PATH, within)
                && let Some(p) = watch.update(&v)
            {
                progress(p);
            }
            // Before sampling starts A1111 may be loading (and hashing) a checkpoint for
            // minutes without a sign: that phase gets three times the stall timeout.
            let allowed = if watch.sampling_started() {
                control.stall_timeout
            } else {
                control.stall_timeout * 3
            };
            if watch.since_change() >= allowed {
                let secs = watch.since_change().as_secs();
                self.interrupt();
                if rx
                    .recv_timeout(control.stall_timeout.min(STALL_GRACE))
                    .is_err()
                {
                    // Still hung: remember it, so the next job waits for the server.
                    *self.stalled.lock().unwrap_or_else(|e| e.into_inner()) = Some(rx);
                }
                return Err(BackendError::Stalled { backend, secs });
            }
        };
        // (A connection that broke after A1111 took the request is `Lost`, not retried.)
        let value = answer.map_err(explain_404)?;
        let mut generated = parse_txt2img(&value).map_err(|r| self.http.malformed(&url, r))?;
        if let Some(used) = generated.sampler_used.take()
            && !sent_sampler.is_empty()
            && !same_sampler(&sent_sampler, &used, known.as_ref())
        {
            warnings.push(format!(
                "the server used the sampler \"{used}\" instead of \"{sent_sampler}\" (it does not know \"{sent_sampler}\")"
            ));
        }
        let mut out = generated.generated;
        out.warnings.splice(0..0, warnings);
        Ok(out)
    }
}

/// A 404 "Not Found" on an `/sdapi/` path means the API is off: say how to turn it on.
fn explain_404(e: BackendError) -> BackendError {
    match e {
        BackendError::Rejected {
            backend,
            url,
            status: 404,
            message,
        } if message.trim().eq_ignore_ascii_case("not found") => BackendError::Rejected {
            backend,
            url,
            status: 404,
            message: format!(
                "{message}: is this an AUTOMATIC1111/Forge WebUI started with --api (or --nowebui)?"
            ),
        },
        other => other,
    }
}

/// Follows the server's progress: what changed last, and the preview decoded once.
struct Watch {
    last_key: Option<ProgressKey>,
    last_change: Instant,
    preview_b64: Option<String>,
    preview: Option<Arc<Vec<u8>>>,
}

/// What counts as progress: a change in any of these (not the ETA, which moves by itself).
#[derive(Debug, Clone, PartialEq)]
struct ProgressKey {
    progress: u64,
    step: i64,
    steps: i64,
    job_no: i64,
    job_count: i64,
    job: String,
    job_timestamp: String,
}

impl Watch {
    fn new() -> Watch {
        Watch {
            last_key: None,
            last_change: Instant::now(),
            preview_b64: None,
            preview: None,
        }
    }

    /// A sampling step has been seen (the model is loaded and sampling runs).
    fn sampling_started(&self) -> bool {
        self.last_key
            .as_ref()
            .is_some_and(|k| k.step > 0 || k.job_no > 0)
    }

    fn since_change(&self) -> Duration {
        self.last_change.elapsed()
    }

    /// Reads one `/sdapi/v1/progress` answer: the progress to report, or `None` when the
    /// answer is not one.
    /// The batches (`n_iter` rounds) finished so far: A1111's `job_no` is the round running.
    fn batches_finished(&self) -> usize {
        self.last_key
            .as_ref()
            .map_or(0, |k| usize::try_from(k.job_no).unwrap_or(0))
    }

    fn update(&mut self, v: &Value) -> Option<Progress> {
        let fraction = v.get("progress")?.as_f64()?;
        let state = v.get("state").cloned().unwrap_or(Value::Null);
        let int = |k: &str| state.get(k).and_then(Value::as_i64).unwrap_or(0);
        let text = |k: &str| {
            state
                .get(k)
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .unwrap_or_default()
        };
        let key = ProgressKey {
            progress: fraction.to_bits(),
            step: int("sampling_step"),
            steps: int("sampling_steps"),
            job_no: int("job_no"),
            job_count: int("job_count"),
            job: text("job"),
            job_timestamp: text("job_timestamp"),
        };
        if self.last_key.as_ref() != Some(&key) {
            self.last_key = Some(key.clone());
            self.last_change = Instant::now();
        }
        if let Some(b64) = v.get("current_image").and_then(Value::as_str)
            && !b64.is_empty()
            && self.preview_b64.as_deref() != Some(b64)
        {
            self.preview = decode_base64(b64).ok().map(Arc::new);
            self.preview_b64 = Some(b64.to_owned());
        }
        let eta = v.get("eta_relative").and_then(Value::as_f64);
        Some(Progress {
            fraction: fraction.clamp(0.0, 1.0) as f32,
            step: key.step.clamp(0, u32::MAX as i64) as u32,
            steps: key.steps.clamp(0, u32::MAX as i64) as u32,
            eta_secs: eta
                .filter(|e| e.is_finite() && *e >= 0.0 && fraction > 0.0)
                .map(|e| e as f32),
            preview: self.preview.clone(),
        })
    }
}

/// A parsed answer, and the sampler the server says it used.
#[derive(Debug)]
struct Parsed {
    generated: Generated,
    sampler_used: Option<String>,
}

/// Reads a txt2img answer; the error is the reason it cannot be read.
fn parse_txt2img(value: &Value) -> Result<Parsed, String> {
    parse_txt2img_as(value, false)
}

/// [`parse_txt2img`]; with `partial` (the answer to an interrupted request), fewer images
/// than seeds are the ones finished, not an incomplete answer.
fn parse_txt2img_as(value: &Value, partial: bool) -> Result<Parsed, String> {
    let images = value
        .get("images")
        .and_then(Value::as_array)
        .ok_or("the answer has no \"images\" list")?;
    let info: Value = match value.get("info") {
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|e| format!("\"info\" is not the JSON text it should be ({e})"))?,
        Some(obj @ Value::Object(_)) => obj.clone(),
        Some(other) => {
            return Err(format!(
                "\"info\" should be a JSON text (a string) but is {}",
                kind_of(other)
            ));
        }
        None => return Err("the answer has no \"info\"".into()),
    };
    if !info.is_object() {
        return Err("\"info\" is not a JSON object".into());
    }
    let seeds: Vec<i64> = info
        .get("all_seeds")
        .and_then(Value::as_array)
        .ok_or("\"info\" has no \"all_seeds\" list")?
        .iter()
        .map(|s| {
            s.as_i64()
                .or_else(|| s.as_f64().map(|f| f as i64))
                .ok_or_else(|| format!("a seed in \"all_seeds\" is not a number: {s}"))
        })
        .collect::<Result<_, _>>()?;
    let first = match info.get("index_of_first_image") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .ok_or("\"index_of_first_image\" is not a number")? as usize,
    };
    let seeds = if partial {
        let done = images.len().saturating_sub(first).min(seeds.len());
        seeds[..done].to_vec()
    } else {
        seeds
    };
    if first
        .checked_add(seeds.len())
        .is_none_or(|needed| images.len() < needed)
    {
        return Err(format!(
            "{} image(s) for {} seed(s) (the first at index {first}): the answer is incomplete (was the request interrupted on the server?)",
            images.len(),
            seeds.len()
        ));
    }
    let infotexts: Vec<Option<&str>> = info
        .get("infotexts")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(Value::as_str).collect())
        .unwrap_or_default();
    // A1111 puts the grid's infotext first too, so infotexts line up with images; should
    // a server list only the seeds' images, they line up with the seeds.
    let aligned_with_images = infotexts.len() >= first + seeds.len();
    let mut out = Vec::with_capacity(seeds.len());
    for (i, &seed) in seeds.iter().enumerate() {
        let at = first + i;
        let b64 = images[at]
            .as_str()
            .ok_or_else(|| format!("image {at} is not a base64 text"))?;
        let bytes = decode_base64(b64).map_err(|e| format!("image {at} is not base64: {e}"))?;
        if bytes.is_empty() {
            return Err(format!("image {at} is empty"));
        }
        let parameters = if bytes.starts_with(PNG_SIGNATURE) {
            let has = crate::outputs::png_has_text(&bytes, "parameters")
                .map_err(|e| format!("image {at} is a damaged PNG: {e}"))?;
            if has {
                None
            } else {
                let text = if aligned_with_images {
                    infotexts.get(at)
                } else {
                    infotexts.get(i)
                };
                text.copied().flatten().map(str::to_owned)
            }
        } else {
            None
        };
        out.push(GeneratedImage {
            bytes,
            seed,
            parameters,
        });
    }
    let text = |k: &str| {
        info.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(Parsed {
        generated: Generated {
            ended_early: None,
            images: out,
            model_name: text("sd_model_name"),
            model_hash: text("sd_model_hash"),
            warnings: Vec::new(),
        },
        sampler_used: text("sampler_name"),
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Base64 as A1111 sends it (standard alphabet; a `data:...;base64,` prefix, missing padding
/// and line breaks tolerated).
fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let text = text.trim();
    let text = match text.strip_prefix("data:") {
        Some(rest) => rest.split_once(',').map_or(rest, |(_, data)| data),
        None => text,
    };
    if text.contains(['\n', '\r', ' ']) {
        let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        ENGINE.decode(clean)
    } else {
        ENGINE.decode(text)
    }
}

/// True when the server's `used` sampler is the one `sent` names: the same name in any case,
/// an alias of it, or an old combined name (`DPM++ 2M Karras`) that 1.9+ reports without its
/// scheduler.
fn same_sampler(sent: &str, used: &str, known: Option<&Known>) -> bool {
    let (sent, used) = (sent.trim(), used.trim());
    if sent.eq_ignore_ascii_case(used) {
        return true;
    }
    if OLD_SCHEDULER_SUFFIXES.iter().any(|suffix| {
        sent.len() > suffix.len()
            && sent.is_char_boundary(sent.len() - suffix.len())
            && sent[sent.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            && sent[..sent.len() - suffix.len()].eq_ignore_ascii_case(used)
    }) {
        return true;
    }
    known.is_some_and(|k| {
        k.samplers.iter().any(|(name, aliases)| {
            name.eq_ignore_ascii_case(used) && aliases.iter().any(|a| a.eq_ignore_ascii_case(sent))
        })
    })
}

/// `[{title, model_name, hash, sha256, filename, config}]`.
fn parse_models(v: &Value) -> Result<Vec<ModelInfo>, String> {
    let list = v.as_array().ok_or("the model list is not a JSON list")?;
    list.iter()
        .map(|m| {
            let title = m
                .get("title")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("a model has no \"title\": {m}"))?;
            let model_name = m.get("model_name").and_then(Value::as_str).unwrap_or(title);
            // `SDXL/juggernautXL_v9` (a sub-folder of the models folder) → `juggernautXL_v9`.
            let name = model_name
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(model_name)
                .to_owned();
            let hash = m
                .get("hash")
                .and_then(Value::as_str)
                .filter(|h| !h.is_empty())
                .map(str::to_owned);
            Ok(ModelInfo {
                title: title.to_owned(),
                name,
                hash,
            })
        })
        .collect()
}

/// `[{name, aliases, options}]` → each name with its aliases.
fn parse_samplers(v: &Value) -> Result<Vec<(String, Vec<String>)>, String> {
    let list = v.as_array().ok_or("the sampler list is not a JSON list")?;
    list.iter()
        .map(|s| {
            let name = s
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("a sampler has no \"name\": {s}"))?;
            let aliases = s
                .get("aliases")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            Ok((name.to_owned(), aliases))
        })
        .collect()
}

/// `[{name, label, aliases, default_rho, need_inner_model}]` → the labels (`Karras`).
fn parse_schedulers(v: &Value) -> Result<Vec<String>, String> {
    let list = v
        .as_array()
        .ok_or("the scheduler list is not a JSON list")?;
    list.iter()
        .map(|s| {
            s.get("label")
                .and_then(Value::as_str)
                .or_else(|| s.get("name").and_then(Value::as_str))
                .map(str::to_owned)
                .ok_or_else(|| format!("a scheduler has no \"label\": {s}"))
        })
        .collect()
}

/// The `[hash]` at the end of a model title, if any.
fn bracket_hash(title: &str) -> Option<&str> {
    let t = title.trim();
    let open = t.rfind(" [")?;
    let hash = t.strip_suffix(']')?.get(open + 2..)?;
    (!hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit())).then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_config::GenerationSettings;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// A 1x1 PNG, with a `parameters` chunk when given.
    fn png(parameters: Option<&str>) -> Vec<u8> {
        use crate::outputs::push_png_chunk as chunk;
        use std::io::Write as _;
        let mut out = PNG_SIGNATURE.to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&1u32.to_be_bytes());
        ihdr.extend_from_slice(&1u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &ihdr);
        if let Some(p) = parameters {
            let mut data = b"parameters\0".to_vec();
            data.extend_from_slice(p.as_bytes());
            chunk(&mut out, b"tEXt", &data);
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&[0, 1, 2, 3]).unwrap();
        chunk(&mut out, b"IDAT", &z.finish().unwrap());
        chunk(&mut out, b"IEND", &[]);
        out
    }

    #[test]
    fn the_payload_carries_every_setting_under_a1111_s_names() {
        let settings = GenerationSettings {
            model: "juggernautXL_v9".into(),
            sampler: "DPM++ 2M".into(),
            scheduler: "Karras".into(),
            steps: 30,
            cfg_scale: 5.5,
            width: 832,
            height: 1216,
            seed: 42,
            batch_size: 2,
            batch_count: 3,
            clip_skip: 2,
        };
        let request = GenerateRequest {
            job_id: "j",
            prompt: "a cat",
            negative_prompt: "blurry",
            settings: &settings,
        };
        let p = txt2img_payload(&request);
        assert_eq!(
            p,
            json!({
                "prompt": "a cat", "negative_prompt": "blurry", "seed": 42,
                "sampler_name": "DPM++ 2M", "scheduler": "Karras", "steps": 30,
                "cfg_scale": 5.5, "width": 832, "height": 1216, "batch_size": 2, "n_iter": 3,
                "override_settings": {"sd_model_checkpoint": "juggernautXL_v9", "CLIP_stop_at_last_layers": 2, "samples_format": "png"},
                "override_settings_restore_afterwards": true, "send_images": true, "save_images": false,
            })
        );
        let settings = GenerationSettings::default();
        let request = GenerateRequest {
            settings: &settings,
            ..request
        };
        let p = txt2img_payload(&request);
        assert_eq!(
            p["override_settings"],
            json!({"CLIP_stop_at_last_layers": 1, "samples_format": "png"})
        );
        assert_eq!(p["seed"], json!(-1));
    }

    #[test]
    fn images_map_to_seeds_past_the_grid_and_extra_images_are_dropped() {
        let grid = png(Some("grid"));
        let plain = png(None);
        let with = png(Some("own parameters"));
        let info = json!({
            "all_seeds": [10, 11],
            "index_of_first_image": 1,
            "infotexts": ["grid text", "text 10", "text 11"],
            "sd_model_name": "m", "sd_model_hash": "abc", "sampler_name": "Euler",
        });
        let answer = json!({
            "images": [b64(&grid), b64(&plain), format!("data:image/png;base64,{}", b64(&with)), b64(b"controlnet map")],
            "parameters": {},
            "info": info.to_string(),
        });
        let parsed = parse_txt2img(&answer).unwrap();
        let g = parsed.generated;
        assert_eq!(g.images.len(), 2);
        assert_eq!((g.images[0].seed, g.images[1].seed), (10, 11));
        assert_eq!(g.images[0].bytes, plain);
        // No parameters chunk: the infotext is written; the other keeps its own.
        assert_eq!(g.images[0].parameters.as_deref(), Some("text 10"));
        assert_eq!(g.images[1].parameters, None);
        assert_eq!(g.model_name.as_deref(), Some("m"));
        assert_eq!(g.model_hash.as_deref(), Some("abc"));
        assert_eq!(parsed.sampler_used.as_deref(), Some("Euler"));
    }

    #[test]
    fn broken_answers_are_reasons_not_panics() {
        let ok_png = b64(&png(None));
        let cases = [
            json!({"info": "{}"}),
            json!({"images": [ok_png], "info": 5}),
            json!({"images": [ok_png], "info": "{\"all_seeds\": [1"}),
            json!({"images": [ok_png], "info": "{\"all_seeds\": [1, 2]}"}),
            json!({"images": ["***"], "info": "{\"all_seeds\": [1]}"}),
            json!({"images": [b64(b"\x89PNG\r\n\x1a\nxx")], "info": "{\"all_seeds\": [1]}"}),
            json!({"images": [ok_png], "info": "[1]"}),
            json!({"images": [ok_png], "info": "{\"all_seeds\": [\"x\"]}"}),
            json!([]),
        ];
        for case in cases {
            assert!(parse_txt2img(&case).is_err(), "{case}");
        }
    }

    #[test]
    fn samplers_are_the_same_by_case_alias_or_old_combined_name() {
        let known = Known {
            catalogues: Catalogues::default(),
            samplers: vec![("Euler a".into(), vec!["k_euler_a".into()])],
            has_schedulers: true,
        };
        assert!(same_sampler("euler a", "Euler a", None));
        assert!(same_sampler("DPM++ 2M Karras", "DPM++ 2M", None));
        assert!(same_sampler("k_euler_a", "Euler a", Some(&known)));
        assert!(!same_sampler("Euler a", "Euler", Some(&known)));
        assert!(!same_sampler("Fancy", "Euler", Some(&known)));
    }

    #[test]
    fn progress_reads_steps_eta_and_the_preview_and_notices_change() {
        let mut w = Watch::new();
        let preview = png(None);
        let v = json!({
            "progress": 0.51, "eta_relative": 3.5,
            "state": {"skipped": false, "interrupted": false, "job": "scripts_txt2img", "job_count": 2,
                      "job_timestamp": "20240101000000", "job_no": 1, "sampling_step": 5, "sampling_steps": 10},
            "current_image": b64(&preview), "textinfo": null,
        });
        let p = w.update(&v).unwrap();
        assert_eq!((p.step, p.steps), (5, 10));
        assert!((p.fraction - 0.51).abs() < 1e-6);
        assert_eq!(p.eta_secs, Some(3.5));
        assert_eq!(p.preview.as_deref(), Some(&preview));
        let first = w.last_change;
        std::thread::sleep(Duration::from_millis(5));
        let mut same = v.clone();
        same["eta_relative"] = json!(2.0);
        w.update(&same).unwrap();
        assert_eq!(w.last_change, first, "the ETA alone is no progress");
        let mut next = v.clone();
        next["state"]["sampling_step"] = json!(6);
        w.update(&next).unwrap();
        assert!(w.last_change > first);
        assert!(w.update(&json!({"detail": "x"})).is_none());
    }

    #[test]
    fn catalogue_entries_are_read_from_a1111_s_shapes() {
        let models = parse_models(&json!([
            {"title": "SDXL/juggernautXL_v9.safetensors [a1b2c3d4e5]", "model_name": "SDXL/juggernautXL_v9",
             "hash": "a1b2c3d4e5", "sha256": null, "filename": "/m/SDXL/juggernautXL_v9.safetensors", "config": null},
            {"title": "v1-5.ckpt", "model_name": "v1-5", "hash": null, "sha256": null, "filename": "/m/v1-5.ckpt", "config": null}
        ]))
        .unwrap();
        assert_eq!(models[0].name, "juggernautXL_v9");
        assert_eq!(models[0].hash.as_deref(), Some("a1b2c3d4e5"));
        assert_eq!(models[1].hash, None);
        assert_eq!(
            parse_schedulers(&json!([{"name": "karras", "label": "Karras", "aliases": null, "default_rho": 7.0, "need_inner_model": false}])).unwrap(),
            vec!["Karras".to_owned()]
        );
        assert!(parse_models(&json!({"x": 1})).is_err());
    }
}
