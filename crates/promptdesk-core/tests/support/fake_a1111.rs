//! A fake AUTOMATIC1111 WebUI API (`/sdapi/v1/...`) for tests: a real HTTP server on
//! `127.0.0.1`, answering in A1111's own shapes, recording every request.
//!
//! Include it in a test file with
//!
//! ```ignore
//! #[path = "support/fake_a1111.rs"]
//! mod fake_a1111;
//! use fake_a1111::{FakeA1111, FakeOptions, Txt2Img, UnknownSampler};
//! ```
//!
//! It needs `serde_json`, `base64`, `flate2` and `crc32fast` (no promptdesk code, no
//! tiny_http: tiny_http cannot close a connection in the middle of a body, which the
//! truncated answer needs).
//!
//! # Starting and stopping
//!
//! - [`FakeA1111::start(options)`](FakeA1111::start): on a free port; [`FakeA1111::url`] is
//!   `http://127.0.0.1:PORT`.
//! - [`FakeA1111::start_on(port, options)`](FakeA1111::start_on): on a known port, e.g. one
//!   from [`free_port`] a client was already pointed at while nothing listened ("down"), to
//!   test recovery. [`unused_url`] is such a URL.
//! - Dropping the fake stops it: the listener closes and every request still being answered
//!   (a hung txt2img) is closed without an answer.
//!
//! # Behaviours ([`FakeOptions`], changeable while running with [`FakeA1111::update`])
//!
//! - `txt2img`: [`Txt2Img::Generate`] (default: real PNGs, one per seed, carrying A1111's
//!   `parameters` text; `info` as a JSON *string* with `all_seeds`, `index_of_first_image`,
//!   `infotexts`, `sd_model_name`, `sd_model_hash`, `sampler_name`, ...),
//!   [`Txt2Img::Hang`] (never answers, progress never moves), [`Txt2Img::OutOfMemory`]
//!   (HTTP 500 with A1111's error body), [`Txt2Img::Truncated`] (a `Content-Length` larger
//!   than what is sent, then the connection closes), [`Txt2Img::MalformedJson`],
//!   [`Txt2Img::Respond`] (any status and body).
//! - `step_delay`: how long each sampling step takes; `/sdapi/v1/progress` reports the steps
//!   (and a live preview when `live_previews`) while the txt2img call sleeps through them.
//!   `POST /sdapi/v1/interrupt` ends a running generation when its step is over; it answers with
//!   the batches finished so far (and `all_seeds` still lists every seed, as A1111 does).
//! - `auth`: HTTP Basic required on every route: 401 `{"detail":"Not authenticated"}`
//!   without credentials, `{"detail":"Incorrect username or password"}` with wrong ones.
//! - `unknown_sampler`: [`UnknownSampler::FallBack`] (A1111 1.10: uses `Euler` and reports
//!   it in `info.sampler_name`) or [`UnknownSampler::NotFound`] (older: 404
//!   `{"detail":"Sampler not found"}`).
//! - `return_grid` (a grid image first when there are two images or more, as A1111's
//!   "return grid" option), `extra_images` (images after the seeds', like ControlNet maps),
//!   `png_parameters` (false: the PNGs carry no `parameters` chunk), `random_seed` (the first
//!   seed used for seed -1; seeds count up from the first, as A1111's do), `models`,
//!   `samplers`, `schedulers` (`None`: `/sdapi/v1/schedulers` is a 404, as before A1111 1.9),
//!   `broken_catalogues` (those three lists answer HTTP 500; txt2img still works).
//!
//! # Assertions
//!
//! [`FakeA1111::requests`] (method, path, query, headers, body, JSON body),
//! [`FakeA1111::count`], [`FakeA1111::txt2img_bodies`], [`FakeA1111::interrupts`],
//! [`FakeA1111::txt2img_answered`],
//! [`FakeA1111::wait_for`]. [`png`] makes the same PNGs the fake sends.

#![allow(dead_code)]

use base64::Engine as _;
use serde_json::{Value, json};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the fake answers `POST /sdapi/v1/txt2img`.
#[derive(Debug, Clone, PartialEq)]
pub enum Txt2Img {
    /// Runs the steps (`step_delay` each) and answers with the images.
    Generate,
    /// Takes the request, shows a job that never moves on `/progress`, never answers
    /// (ignores interrupts); the connection closes when the fake is dropped.
    Hang,
    /// HTTP 500 with A1111's error body for a CUDA out-of-memory error.
    OutOfMemory,
    /// A 200 whose `Content-Length` is larger than what is sent; then the connection closes.
    Truncated,
    /// A 200 whose body is not JSON.
    MalformedJson,
    /// Any status and body (sent as `application/json`).
    Respond { status: u16, body: String },
}

/// What the fake does with a sampler it does not list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnknownSampler {
    /// A1111 1.10: uses `Euler` and says so in `info.sampler_name`.
    FallBack,
    /// A1111 before 1.10: HTTP 404 `{"detail":"Sampler not found"}`.
    NotFound,
}

/// A checkpoint the fake lists on `/sdapi/v1/sd-models`.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeModel {
    /// `SDXL/juggernautXL_v9.safetensors [a1b2c3d4e5]`
    pub title: String,
    /// `SDXL/juggernautXL_v9`
    pub model_name: String,
    /// `a1b2c3d4e5`
    pub hash: String,
}

impl FakeModel {
    /// A model from its path under the models folder and its short hash.
    pub fn new(path: &str, hash: &str) -> FakeModel {
        let stem = path.rsplit_once('.').map_or(path, |(s, _)| s);
        FakeModel {
            title: format!("{path} [{hash}]"),
            model_name: stem.to_owned(),
            hash: hash.to_owned(),
        }
    }

    /// The file name without folder or extension, as `info.sd_model_name` has it.
    pub fn short_name(&self) -> &str {
        self.model_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(&self.model_name)
    }
}

/// The fake's behaviour (see the module's documentation).
#[derive(Debug, Clone)]
pub struct FakeOptions {
    pub txt2img: Txt2Img,
    /// How long one sampling step takes.
    pub step_delay: Duration,
    /// `(user, password)` required with HTTP Basic.
    pub auth: Option<(String, String)>,
    pub unknown_sampler: UnknownSampler,
    /// A grid first when there are two images or more (`index_of_first_image` 1).
    pub return_grid: bool,
    /// Images added after the seeds' images (ControlNet maps).
    pub extra_images: usize,
    /// The images carry a `parameters` text chunk (A1111's default).
    pub png_parameters: bool,
    /// `/progress` has a `current_image` once a step is done.
    pub live_previews: bool,
    /// The first seed used when the request's seed is -1.
    pub random_seed: i64,
    /// The first is the one loaded (used when the request names none or an unknown one).
    pub models: Vec<FakeModel>,
    /// `(name, aliases)`.
    pub samplers: Vec<(String, Vec<String>)>,
    /// `(name, label)`; `None`: the endpoint is a 404 (A1111 before 1.9).
    pub schedulers: Option<Vec<(String, String)>>,
    /// The model, sampler and scheduler lists answer HTTP 500 (txt2img still works).
    pub broken_catalogues: bool,
}

impl Default for FakeOptions {
    fn default() -> Self {
        let samplers: &[(&str, &[&str])] = &[
            ("DPM++ 2M", &["k_dpmpp_2m"]),
            ("DPM++ SDE", &["k_dpmpp_sde"]),
            ("DPM++ 2M SDE", &["k_dpmpp_2m_sde"]),
            ("Euler a", &["k_euler_a"]),
            ("Euler", &["k_euler"]),
            ("LMS", &["k_lms"]),
            ("Heun", &["k_heun"]),
            ("DDIM", &[]),
            ("UniPC", &[]),
        ];
        let schedulers = [
            ("automatic", "Automatic"),
            ("uniform", "Uniform"),
            ("karras", "Karras"),
            ("exponential", "Exponential"),
            ("polyexponential", "Polyexponential"),
            ("sgm_uniform", "SGM Uniform"),
            ("kl_optimal", "KL Optimal"),
            ("align_your_steps", "Align Your Steps"),
            ("simple", "Simple"),
            ("normal", "Normal"),
            ("ddim", "DDIM"),
            ("beta", "Beta"),
        ];
        FakeOptions {
            txt2img: Txt2Img::Generate,
            step_delay: Duration::ZERO,
            auth: None,
            unknown_sampler: UnknownSampler::FallBack,
            return_grid: false,
            extra_images: 0,
            png_parameters: true,
            live_previews: true,
            random_seed: 1_000_000,
            models: vec![
                FakeModel::new("sd_xl_base_1.0.safetensors", "31e35c80fc"),
                FakeModel::new("SDXL/juggernautXL_v9.safetensors", "a1b2c3d4e5"),
            ],
            samplers: samplers
                .iter()
                .map(|(n, a)| (n.to_string(), a.iter().map(|s| s.to_string()).collect()))
                .collect(),
            schedulers: Some(
                schedulers
                    .iter()
                    .map(|(n, l)| (n.to_string(), l.to_string()))
                    .collect(),
            ),
            broken_catalogues: false,
        }
    }
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Without the query (`/sdapi/v1/progress`).
    pub path: String,
    /// After the `?` (`skip_current_image=false`), empty when none.
    pub query: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body as JSON, when it is.
    pub json: Option<Value>,
    pub at: Instant,
}

impl Recorded {
    /// A header's value (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running fake A1111 server.
pub struct FakeA1111 {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    options: Mutex<FakeOptions>,
    requests: Mutex<Vec<Recorded>>,
    /// What `/progress` shows; the condvar wakes a sleeping generation (interrupt, stop).
    state: Mutex<State>,
    wake: Condvar,
    /// A1111's queue lock: one generation at a time.
    queue: Mutex<()>,
    stopping: AtomicBool,
    jobs: AtomicU64,
    /// txt2img answers sent (a hung one is not).
    answered: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    job: String,
    job_count: i64,
    job_no: i64,
    step: u32,
    steps: u32,
    job_timestamp: String,
    interrupted: bool,
    skipped: bool,
    started: Option<Instant>,
    preview_color: Option<[u8; 3]>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A port on 127.0.0.1 that nothing listens on (it was free a moment ago).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `http://127.0.0.1:PORT` with nothing listening.
pub fn unused_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

impl FakeA1111 {
    /// Starts on a free port.
    pub fn start(options: FakeOptions) -> FakeA1111 {
        FakeA1111::start_on(0, options).expect("the fake A1111 starts")
    }

    /// Starts on `port` (0: a free one).
    pub fn start_on(port: u16, options: FakeOptions) -> io::Result<FakeA1111> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            options: Mutex::new(options),
            requests: Mutex::new(Vec::new()),
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            queue: Mutex::new(()),
            stopping: AtomicBool::new(false),
            jobs: AtomicU64::new(0),
            answered: AtomicU64::new(0),
        });
        let inner = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("fake-a1111-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if inner.stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = Arc::clone(&inner);
                    let _ = std::thread::Builder::new()
                        .name("fake-a1111-conn".into())
                        .spawn(move || serve_connection(stream, &shared));
                }
            })?;
        Ok(FakeA1111 {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Changes the behaviour while running.
    pub fn update(&self, change: impl FnOnce(&mut FakeOptions)) {
        change(&mut lock(&self.shared.options));
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// The requests with this method and path (no query).
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
            .cloned()
            .collect()
    }

    pub fn count(&self, method: &str, path: &str) -> usize {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
            .count()
    }

    /// The JSON bodies of every `POST /sdapi/v1/txt2img`.
    pub fn txt2img_bodies(&self) -> Vec<Value> {
        self.requests_to("POST", "/sdapi/v1/txt2img")
            .into_iter()
            .filter_map(|r| r.json)
            .collect()
    }

    /// How many `POST /sdapi/v1/interrupt` arrived.
    pub fn interrupts(&self) -> usize {
        self.count("POST", "/sdapi/v1/interrupt")
    }

    /// How many txt2img requests were answered, whatever the status (a hung one is not).
    pub fn txt2img_answered(&self) -> usize {
        self.shared.answered.load(Ordering::SeqCst) as usize
    }

    /// Waits until `count(method, path) >= n` or `timeout` passes; true when it happened.
    pub fn wait_for(&self, method: &str, path: &str, n: usize, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        loop {
            if self.count(method, path) >= n {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for FakeA1111 {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        {
            let _s = lock(&self.shared.state);
            self.shared.wake.notify_all();
        }
        // Wakes the accept loop, which then sees `stopping`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// HTTP

/// What to send back.
enum Reply {
    Json(u16, Value),
    /// Status, extra headers, body.
    Raw(u16, Vec<(String, String)>, Vec<u8>),
    /// A `Content-Length` of `declared` but only `body` sent.
    Truncated {
        declared: usize,
        body: Vec<u8>,
    },
    /// Close without answering.
    Close,
}

fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    lock(&shared.requests).push(request.clone());
    let reply = route(shared, &request);
    // Counted before the answer leaves, so a client that has it sees the count.
    if !matches!(reply, Reply::Close)
        && request.method == "POST"
        && request.path == "/sdapi/v1/txt2img"
    {
        shared.answered.fetch_add(1, Ordering::SeqCst);
    }
    let _ = write_reply(&mut stream, reply);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

fn read_request(stream: &TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target, String::new()),
    };
    let json = serde_json::from_slice(&body).ok();
    Some(Recorded {
        method,
        path,
        query,
        headers,
        body,
        json,
        at: Instant::now(),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

fn write_reply(stream: &mut TcpStream, reply: Reply) -> io::Result<()> {
    let (status, headers, body, declared) = match reply {
        Reply::Close => return Ok(()),
        Reply::Json(status, v) => (status, Vec::new(), v.to_string().into_bytes(), None),
        Reply::Raw(status, headers, body) => (status, headers, body, None),
        Reply::Truncated { declared, body } => (200, Vec::new(), body, Some(declared)),
    };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nserver: uvicorn\r\n",
        reason(status),
        declared.unwrap_or(body.len())
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)
}

// ---------------------------------------------------------------------------------------
// Routes

fn route(shared: &Shared, rq: &Recorded) -> Reply {
    let options = lock(&shared.options).clone();
    if let Some((user, password)) = &options.auth {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let www = vec![("www-authenticate".to_owned(), "Basic".to_owned())];
        match rq.header("authorization") {
            None => {
                return Reply::Raw(401, www, br#"{"detail":"Not authenticated"}"#.to_vec());
            }
            Some(given) if given != expected => {
                return Reply::Raw(
                    401,
                    www,
                    br#"{"detail":"Incorrect username or password"}"#.to_vec(),
                );
            }
            Some(_) => {}
        }
    }
    let known = [
        ("GET", "/sdapi/v1/progress"),
        ("POST", "/sdapi/v1/interrupt"),
        ("POST", "/sdapi/v1/skip"),
        ("GET", "/sdapi/v1/sd-models"),
        ("GET", "/sdapi/v1/samplers"),
        ("GET", "/sdapi/v1/schedulers"),
        ("GET", "/sdapi/v1/options"),
        ("POST", "/sdapi/v1/refresh-checkpoints"),
        ("POST", "/sdapi/v1/txt2img"),
    ];
    let catalogue = [
        "/sdapi/v1/sd-models",
        "/sdapi/v1/samplers",
        "/sdapi/v1/schedulers",
    ];
    if options.broken_catalogues && rq.method == "GET" && catalogue.contains(&rq.path.as_str()) {
        return Reply::Json(
            500,
            json!({"error": "RuntimeError", "detail": "", "body": "", "errors": "list broken"}),
        );
    }
    match (rq.method.as_str(), rq.path.as_str()) {
        ("GET", "/sdapi/v1/progress") => progress(shared, &options, &rq.query),
        ("POST", "/sdapi/v1/interrupt") => {
            let mut s = lock(&shared.state);
            if s.job_count != 0 {
                s.interrupted = true;
            }
            shared.wake.notify_all();
            Reply::Json(200, json!({}))
        }
        ("POST", "/sdapi/v1/skip") => {
            lock(&shared.state).skipped = true;
            Reply::Json(200, Value::Null)
        }
        ("GET", "/sdapi/v1/sd-models") => Reply::Json(
            200,
            Value::Array(
                options
                    .models
                    .iter()
                    .map(|m| {
                        json!({
                            "title": m.title,
                            "model_name": m.model_name,
                            "hash": m.hash,
                            "sha256": format!("{}{}", m.hash, "0".repeat(64 - m.hash.len().min(64))),
                            "filename": format!("/home/user/stable-diffusion-webui/models/Stable-diffusion/{}", m.title.split(" [").next().unwrap_or(&m.title)),
                            "config": null,
                        })
                    })
                    .collect(),
            ),
        ),
        ("GET", "/sdapi/v1/samplers") => Reply::Json(
            200,
            Value::Array(
                options
                    .samplers
                    .iter()
                    .map(|(n, a)| json!({"name": n, "aliases": a, "options": {}}))
                    .collect(),
            ),
        ),
        ("GET", "/sdapi/v1/schedulers") => match &options.schedulers {
            Some(list) => Reply::Json(
                200,
                Value::Array(
                    list.iter()
                        .map(|(n, l)| {
                            json!({"name": n, "label": l, "aliases": null,
                                   "default_rho": if n == "karras" { json!(7.0) } else { json!(-1.0) },
                                   "need_inner_model": false})
                        })
                        .collect(),
                ),
            ),
            None => Reply::Json(404, json!({"detail": "Not Found"})),
        },
        ("GET", "/sdapi/v1/options") => Reply::Json(
            200,
            json!({"sd_model_checkpoint": options.models.first().map(|m| m.title.clone()),
                   "CLIP_stop_at_last_layers": 1, "samples_format": "png"}),
        ),
        ("POST", "/sdapi/v1/refresh-checkpoints") => Reply::Json(200, Value::Null),
        ("POST", "/sdapi/v1/txt2img") => txt2img(shared, &options, rq),
        (_, path) if known.iter().any(|(_, p)| *p == path) => {
            Reply::Json(405, json!({"detail": "Method Not Allowed"}))
        }
        _ => Reply::Json(404, json!({"detail": "Not Found"})),
    }
}

fn progress(shared: &Shared, options: &FakeOptions, query: &str) -> Reply {
    let s = lock(&shared.state);
    let state = json!({
        "skipped": s.skipped,
        "interrupted": s.interrupted,
        "stopping_generation": false,
        "job": s.job,
        "job_count": s.job_count,
        "job_timestamp": s.job_timestamp,
        "job_no": s.job_no,
        "sampling_step": s.step,
        "sampling_steps": s.steps,
    });
    if s.job_count == 0 {
        return Reply::Json(
            200,
            json!({"progress": 0.0, "eta_relative": 0.0, "state": state, "current_image": null, "textinfo": null}),
        );
    }
    let mut progress = 0.01 + s.job_no as f64 / s.job_count as f64;
    if s.steps > 0 {
        progress += s.step as f64 / s.steps as f64 / s.job_count as f64;
    }
    let elapsed = s.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let eta_relative = elapsed / progress - elapsed;
    let progress = progress.min(1.0);
    let skip = query.contains("skip_current_image=true");
    let current_image = match s.preview_color {
        Some(color) if options.live_previews && !skip => {
            json!(base64::engine::general_purpose::STANDARD.encode(png(8, 8, color, None)))
        }
        _ => Value::Null,
    };
    Reply::Json(
        200,
        json!({"progress": progress, "eta_relative": eta_relative, "state": state,
               "current_image": current_image, "textinfo": null}),
    )
}

/// A1111's sampler lookup: name or alias, any case; an old combined name (`DPM++ 2M
/// Karras`) gives its sampler.
fn find_sampler(options: &FakeOptions, wanted: &str) -> Option<String> {
    let find = |w: &str| {
        options
            .samplers
            .iter()
            .find(|(n, a)| n.eq_ignore_ascii_case(w) || a.iter().any(|x| x.eq_ignore_ascii_case(w)))
            .map(|(n, _)| n.clone())
    };
    find(wanted).or_else(|| {
        [" Karras", " Exponential", " SGM Uniform"]
            .iter()
            .find_map(|suffix| wanted.strip_suffix(suffix).and_then(find))
    })
}

fn find_model<'a>(options: &'a FakeOptions, wanted: Option<&str>) -> Option<&'a FakeModel> {
    let first = options.models.first();
    let Some(w) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
        return first;
    };
    options
        .models
        .iter()
        .find(|m| {
            m.title == w
                || m.model_name == w
                || m.short_name() == w
                || m.title.split(" [").next() == Some(w)
                || m.hash == w
        })
        .or(first)
}

fn txt2img(shared: &Shared, options: &FakeOptions, rq: &Recorded) -> Reply {
    match &options.txt2img {
        Txt2Img::Generate => {}
        Txt2Img::Hang => {
            let _queue = lock(&shared.queue);
            let mut s = lock(&shared.state);
            *s = State {
                job: "scripts_txt2img".into(),
                job_count: 1,
                job_no: 0,
                step: 0,
                steps: rq
                    .json
                    .as_ref()
                    .and_then(|b| b.get("steps"))
                    .and_then(Value::as_u64)
                    .unwrap_or(20) as u32,
                job_timestamp: timestamp(shared),
                started: Some(Instant::now()),
                ..State::default()
            };
            while !shared.stopping.load(Ordering::SeqCst) {
                s = shared
                    .wake
                    .wait_timeout(s, Duration::from_millis(200))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            return Reply::Close;
        }
        Txt2Img::OutOfMemory => {
            return Reply::Json(
                500,
                json!({
                    "error": "OutOfMemoryError",
                    "detail": "",
                    "body": "",
                    "errors": "CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 7.79 GiB total capacity; 6.52 GiB already allocated; 13.19 MiB free; 6.74 GiB reserved in total by PyTorch)",
                }),
            );
        }
        Txt2Img::Truncated => {
            let body = format!(
                r#"{{"images": ["{}"#,
                base64::engine::general_purpose::STANDARD.encode(png(16, 16, [1, 2, 3], None))
            )
            .into_bytes();
            return Reply::Truncated {
                declared: body.len() + 4096,
                body,
            };
        }
        Txt2Img::MalformedJson => {
            return Reply::Raw(
                200,
                Vec::new(),
                br#"{"images": ["iVBORw0KGgo="], "parameters": {}, "info": }"#.to_vec(),
            );
        }
        Txt2Img::Respond { status, body } => {
            return Reply::Raw(*status, Vec::new(), body.clone().into_bytes());
        }
    }

    let Some(body) = rq.json.as_ref().filter(|b| b.is_object()) else {
        return Reply::Json(
            422,
            json!({"detail": [{"loc": ["body"], "msg": "value is not a valid dict", "type": "type_error.dict"}]}),
        );
    };
    let text = |k: &str, d: &str| body.get(k).and_then(Value::as_str).unwrap_or(d).to_owned();
    let int = |k: &str, d: i64| body.get(k).and_then(Value::as_i64).unwrap_or(d);
    let prompt = text("prompt", "");
    let negative = text("negative_prompt", "");
    let asked_sampler = text("sampler_name", "DPM++ 2M");
    let scheduler = text("scheduler", "Automatic");
    let steps = int("steps", 20).clamp(1, 150) as u32;
    let cfg = body.get("cfg_scale").and_then(Value::as_f64).unwrap_or(7.0);
    let width = int("width", 512).clamp(1, 2048) as u32;
    let height = int("height", 512).clamp(1, 2048) as u32;
    let batch_size = int("batch_size", 1).clamp(1, 64) as usize;
    let n_iter = int("n_iter", 1).clamp(1, 64) as usize;
    let seed = int("seed", -1);
    let overrides = body.get("override_settings");
    let clip_skip = overrides
        .and_then(|o| o.get("CLIP_stop_at_last_layers"))
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let sampler = match find_sampler(options, &asked_sampler) {
        Some(s) => s,
        None => match options.unknown_sampler {
            UnknownSampler::FallBack => "Euler".to_owned(),
            UnknownSampler::NotFound => {
                return Reply::Json(404, json!({"detail": "Sampler not found"}));
            }
        },
    };
    let model = find_model(
        options,
        overrides
            .and_then(|o| o.get("sd_model_checkpoint"))
            .and_then(Value::as_str),
    )
    .cloned()
    .unwrap_or_else(|| FakeModel::new("model.safetensors", "0000000000"));

    // Runs the steps, as /progress shows them.
    let _queue = lock(&shared.queue);
    let job_timestamp = timestamp(shared);
    {
        let mut s = lock(&shared.state);
        *s = State {
            job: "scripts_txt2img".into(),
            job_count: n_iter as i64,
            steps,
            job_timestamp: job_timestamp.clone(),
            started: Some(Instant::now()),
            ..State::default()
        };
    }
    let mut batches_done = 0;
    'batches: for batch in 0..n_iter {
        for step in 1..=steps {
            if sleep_step(shared, options.step_delay) {
                // As A1111 does: the sampler returns its last latent when interrupted and
                // that batch is decoded and returned too (unfinished); only the next
                // iterations are skipped.
                if step > 1 {
                    batches_done += 1;
                }
                break 'batches;
            }
            let mut s = lock(&shared.state);
            s.step = step;
            s.preview_color = Some([(batch * 40) as u8, (step * 10) as u8, 128]);
        }
        batches_done += 1;
        let mut s = lock(&shared.state);
        s.job_no += 1;
        s.step = 0;
    }
    *lock(&shared.state) = State::default();
    if shared.stopping.load(Ordering::SeqCst) {
        return Reply::Close;
    }

    let first_seed = if seed == -1 {
        options.random_seed
    } else {
        seed
    };
    let all_seeds: Vec<i64> = (0..(batch_size * n_iter) as i64)
        .map(|i| first_seed + i)
        .collect();
    let infotext = |seed: i64| {
        let mut t = prompt.clone();
        if !negative.is_empty() {
            t.push_str(&format!("\nNegative prompt: {negative}"));
        }
        t.push_str(&format!(
            "\nSteps: {steps}, Sampler: {sampler}, Schedule type: {scheduler}, CFG scale: {cfg}, Seed: {seed}, Size: {width}x{height}, Model hash: {}, Model: {}",
            model.hash,
            model.short_name()
        ));
        if clip_skip > 1 {
            t.push_str(&format!(", Clip skip: {clip_skip}"));
        }
        t.push_str(", Version: v1.10.1");
        t
    };
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(bytes);
    let made = batches_done * batch_size;
    let mut images = Vec::new();
    let mut infotexts = Vec::new();
    for &seed in &all_seeds[..made] {
        let text = infotext(seed);
        let color = [(seed % 251) as u8, (seed / 251 % 251) as u8, 7];
        let params = options.png_parameters.then_some(text.as_str());
        images.push(b64(png(width, height, color, params)));
        infotexts.push(text);
    }
    let mut index_of_first_image = 0;
    if options.return_grid && made >= 2 {
        let text = infotext(first_seed);
        let params = options.png_parameters.then_some(text.as_str());
        images.insert(0, b64(png(width, height, [200, 200, 200], params)));
        infotexts.insert(0, text);
        index_of_first_image = 1;
    }
    for i in 0..options.extra_images {
        images.push(b64(png(width, height, [0, 0, i as u8], None)));
    }
    let info = json!({
        "prompt": prompt,
        "all_prompts": vec![prompt.clone(); all_seeds.len()],
        "negative_prompt": negative,
        "all_negative_prompts": vec![negative.clone(); all_seeds.len()],
        "seed": first_seed,
        "all_seeds": all_seeds,
        "subseed": 42,
        "all_subseeds": vec![42; all_seeds.len()],
        "subseed_strength": 0,
        "width": width,
        "height": height,
        "sampler_name": sampler,
        "cfg_scale": cfg,
        "steps": steps,
        "batch_size": batch_size,
        "restore_faces": false,
        "face_restoration_model": null,
        "sd_model_name": model.short_name(),
        "sd_model_hash": model.hash,
        "sd_vae_name": null,
        "sd_vae_hash": null,
        "seed_resize_from_w": -1,
        "seed_resize_from_h": -1,
        "denoising_strength": null,
        "extra_generation_params": {"Schedule type": scheduler},
        "index_of_first_image": index_of_first_image,
        "infotexts": infotexts,
        "styles": [],
        "job_timestamp": job_timestamp,
        "clip_skip": clip_skip,
        "is_using_inpainting_conditioning": false,
        "version": "v1.10.1",
    });
    Reply::Json(
        200,
        json!({"images": images, "parameters": body, "info": info.to_string()}),
    )
}

/// Runs one step; true when the generation is to end. As in A1111, an interrupt is seen
/// when the step is over (the fake stopping ends it at once).
fn sleep_step(shared: &Shared, delay: Duration) -> bool {
    let end = Instant::now() + delay;
    let mut s = lock(&shared.state);
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return true;
        }
        let now = Instant::now();
        if now >= end {
            return s.interrupted;
        }
        s = shared
            .wake
            .wait_timeout(s, end - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

/// A1111's `job_timestamp` (`YYYYmmddHHMMSS`), made unique per job.
fn timestamp(shared: &Shared) -> String {
    let n = shared.jobs.fetch_add(1, Ordering::SeqCst);
    format!("20240101{:06}", n)
}

// ---------------------------------------------------------------------------------------
// PNG

/// A `width` x `height` RGB PNG of one colour, with a `parameters` tEXt chunk (Latin-1, as
/// PIL writes it) when given.
pub fn png(width: u32, height: u32, rgb: [u8; 3], parameters: Option<&str>) -> Vec<u8> {
    use promptdesk_core::outputs::push_png_chunk as chunk;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, no filter, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    if let Some(text) = parameters {
        let mut data = b"parameters\0".to_vec();
        data.extend(text.chars().map(|c| {
            if (c as u32) < 256 {
                c as u32 as u8
            } else {
                b'?'
            }
        }));
        chunk(&mut out, b"tEXt", &data);
    }
    let mut row = Vec::with_capacity(1 + width as usize * 3);
    row.push(0); // filter: none
    for _ in 0..width {
        row.extend_from_slice(&rgb);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    for _ in 0..height {
        z.write_all(&row).expect("writing to memory");
    }
    chunk(&mut out, b"IDAT", &z.finish().expect("writing to memory"));
    chunk(&mut out, b"IEND", &[]);
    out
}
