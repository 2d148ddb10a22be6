//! A fake ComfyUI server for tests, on `127.0.0.1:<free port>`, speaking ComfyUI's API the
//! way ComfyUI does (shapes read from Comfy-Org/ComfyUI `server.py`, `execution.py`,
//! `main.py`): `POST /prompt`, the `/ws?clientId=` progress socket, `GET /history/{id}`,
//! `GET /view`, `GET|POST /queue`, `POST /interrupt`, `GET /object_info/{class}`,
//! `GET /system_stats`.
//!
//! Include it with `#[path = "support/fake_comfyui.rs"] mod fake_comfyui;` (from a crate's
//! `tests/` folder; adjust the path). It needs, as dev-dependencies, `tiny_http = "0.12"`,
//! `tungstenite = { version = "0.30", default-features = false, features = ["handshake"] }`
//! and `serde_json`.
//!
//! ```ignore
//! let fake = FakeComfyUi::start(FakeOptions::default()); // or FakeComfyUi::default()
//! let url = fake.url();                                   // "http://127.0.0.1:PORT"
//! fake.set_behaviour(Behaviour::Hang);                    // for the next prompts submitted
//! fake.prompts();                                          // every POST /prompt body
//! fake.posts("/interrupt");                                // bodies POSTed to a path
//! fake.count("GET", "/history/");                          // requests whose path starts so
//! fake.requests();                                         // everything, in order
//! ```
//!
//! What a submitted prompt does depends on the [`Behaviour`] set when it was submitted:
//!
//! - [`Behaviour::Succeed`]: to the submitting client's socket (only when the body had a
//!   `client_id`, as ComfyUI does): `execution_start`, `execution_cached`, `executing`
//!   (the sampler), `progress` × `steps` (waiting `step_delay` after each; a binary preview
//!   frame, event 1 PREVIEW_IMAGE with image type 2 PNG, after the first), `executing` (the
//!   output node), `executed` with the images, `execution_success`; then the history entry
//!   is stored, then `executing` with `node: null`. The images: `batch_size` of the prompt's
//!   empty latent (default 1), PNGs named `<filename_prefix>_<counter:05>_.png` in
//!   [`FakeOptions::subfolder`], type `output` (`temp` for a `PreviewImage` output), each a
//!   1×1 PNG with `prompt` and `workflow` tEXt chunks like ComfyUI's (no `parameters`).
//!   `POST /interrupt` between steps ends it with `execution_interrupted`.
//! - [`Behaviour::ExecutionError`]: one progress step, then `execution_error` with the given
//!   exception type and message; [`Behaviour::OutOfMemory`] is that with PyTorch's CUDA OOM
//!   text. The history entry says `status_str: "error"`.
//! - [`Behaviour::Hang`]: `execution_start`, then nothing until `POST /interrupt`.
//! - [`Behaviour::StayQueued`]: never starts (stays in `queue_pending`) until
//!   `POST /queue {"delete": [id]}`.
//! - [`Behaviour::Reject`]: `POST /prompt` answers 400 with ComfyUI's validation error body
//!   (`prompt_outputs_failed_validation` and `node_errors`).
//!
//! Independently of behaviours, `POST /prompt` validates like ComfyUI does when
//! [`FakeOptions::validate`] is on (the default): a `ckpt_name`, `sampler_name` or
//! `scheduler` not in the server's lists is a 400 `value_not_in_list`.
//! [`FakeOptions::websocket`] off answers `/ws` with 404 (the client must poll `/history`),
//! [`FakeComfyUi::drop_sockets`] closes the open ones mid-run;
//! [`FakeOptions::history_delay`] delays the history entry after `execution_success`;
//! [`FakeOptions::silent_socket`] keeps sockets open but tells them nothing;
//! [`FakeOptions::history`] serves finished entries cut short or malformed;
//! [`FakeOptions::object_info`] picks the old (`[[names], {}]`) or the `COMBO`
//! (`["COMBO", {"options": [names]}]`) combo format.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

/// What a prompt submitted from now on does.
#[derive(Debug, Clone, PartialEq)]
pub enum Behaviour {
    Succeed,
    ExecutionError {
        exception_type: String,
        message: String,
    },
    OutOfMemory,
    Hang,
    StayQueued,
    Reject,
}

/// How a finished `/history/{id}` entry is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryAnswer {
    Normal,
    /// The JSON text cut in the middle.
    Truncated,
    /// Valid JSON, but an image entry has no `filename` and `outputs` holds a string.
    Malformed,
}

/// How combo inputs look in `/object_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectInfoFormat {
    /// `[["euler", ...], {"tooltip": ...}]` (ComfyUI until 2025).
    Lists,
    /// `["COMBO", {"options": ["euler", ...]}]` (newer ComfyUI).
    Combo,
}

#[derive(Debug, Clone)]
pub struct FakeOptions {
    pub checkpoints: Vec<String>,
    /// ComfyUI's names (`euler_ancestral`, `dpmpp_2m`).
    pub samplers: Vec<String>,
    pub schedulers: Vec<String>,
    pub object_info: ObjectInfoFormat,
    /// Progress steps sent per prompt.
    pub steps: u32,
    pub step_delay: Duration,
    pub websocket: bool,
    pub behaviour: Behaviour,
    pub history: HistoryAnswer,
    /// The subfolder images are saved in (`""`: the output folder itself).
    pub subfolder: String,
    pub validate: bool,
    /// How long after `execution_success` the history entry appears (ComfyUI stores it
    /// just after sending that message).
    pub history_delay: Duration,
    /// Sockets open but never told anything about prompts (a proxy in the way).
    pub silent_socket: bool,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            checkpoints: vec![
                "sd_xl_base_1.0.safetensors".into(),
                "SDXL/juggernautXL_v9.safetensors".into(),
            ],
            samplers: [
                "euler",
                "euler_ancestral",
                "heun",
                "dpmpp_2m",
                "dpmpp_2m_sde",
                "dpmpp_sde",
                "uni_pc",
                "ddim",
                "res_multistep",
            ]
            .map(String::from)
            .to_vec(),
            schedulers: [
                "normal",
                "karras",
                "exponential",
                "sgm_uniform",
                "simple",
                "ddim_uniform",
                "beta",
                "linear_quadratic",
            ]
            .map(String::from)
            .to_vec(),
            object_info: ObjectInfoFormat::Lists,
            steps: 3,
            step_delay: Duration::from_millis(5),
            websocket: true,
            behaviour: Behaviour::Succeed,
            history: HistoryAnswer::Normal,
            subfolder: String::new(),
            validate: true,
            history_delay: Duration::ZERO,
            silent_socket: false,
        }
    }
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path without the query (`/history/abc`).
    pub path: String,
    /// The query, percent-decoded (`filename` → `x.png`).
    pub query: Vec<(String, String)>,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
}

type Socket = WebSocket<Box<dyn tiny_http::ReadWrite + Send>>;

struct Item {
    number: u64,
    prompt_id: String,
    prompt: Value,
    client_id: Option<String>,
    behaviour: Behaviour,
}

#[derive(Default)]
struct Queue {
    pending: Vec<Item>,
    running: Option<(u64, String, Value, Option<String>)>,
}

struct State {
    options: Mutex<FakeOptions>,
    requests: Mutex<Vec<Recorded>>,
    queue: Mutex<Queue>,
    wake: Condvar,
    history: Mutex<HashMap<String, Value>>,
    /// (subfolder, filename, type) → bytes.
    files: Mutex<HashMap<(String, String, String), Vec<u8>>>,
    sockets: Mutex<HashMap<String, Arc<Mutex<Socket>>>>,
    interrupt: AtomicBool,
    stop: AtomicBool,
    number: AtomicU64,
    counter: AtomicU64,
}

pub struct FakeComfyUi {
    url: String,
    state: Arc<State>,
    server: Arc<tiny_http::Server>,
    threads: Vec<JoinHandle<()>>,
}

impl Default for FakeComfyUi {
    fn default() -> Self {
        FakeComfyUi::start(FakeOptions::default())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeComfyUi {
    pub fn start(options: FakeOptions) -> FakeComfyUi {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let state = Arc::new(State {
            options: Mutex::new(options),
            requests: Mutex::default(),
            queue: Mutex::default(),
            wake: Condvar::new(),
            history: Mutex::default(),
            files: Mutex::default(),
            sockets: Mutex::default(),
            interrupt: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            number: AtomicU64::new(0),
            counter: AtomicU64::new(1),
        });
        let accept = {
            let (server, state) = (server.clone(), state.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    if state.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let state = state.clone();
                    std::thread::spawn(move || handle(&state, request));
                }
            })
        };
        let worker = {
            let state = state.clone();
            std::thread::spawn(move || work(&state))
        };
        FakeComfyUi {
            url: format!("http://127.0.0.1:{port}"),
            state,
            server,
            threads: vec![accept, worker],
        }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Changes the options (behaviour, history answer, formats) for what comes next.
    pub fn update(&self, change: impl FnOnce(&mut FakeOptions)) {
        change(&mut lock(&self.state.options));
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.update(|o| o.behaviour = behaviour);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state.requests).clone()
    }

    /// The bodies POSTed to `/prompt`, in order.
    pub fn prompts(&self) -> Vec<Value> {
        self.posts("/prompt")
    }

    /// The bodies POSTed to exactly `path`.
    pub fn posts(&self, path: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .map(|r| r.body)
            .collect()
    }

    /// How many `method` requests had a path starting with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .count()
    }

    /// The image files saved so far, as (subfolder, filename, type) → PNG bytes.
    pub fn files(&self) -> HashMap<(String, String, String), Vec<u8>> {
        lock(&self.state.files).clone()
    }

    /// How many clients have the progress socket open.
    pub fn sockets(&self) -> usize {
        lock(&self.state.sockets).len()
    }

    /// Closes every progress socket (a proxy or network dropping them): clients must go on
    /// by polling.
    pub fn drop_sockets(&self) {
        lock(&self.state.sockets).clear();
    }
}

impl Drop for FakeComfyUi {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        self.state.wake.notify_all();
        self.server.unblock();
        lock(&self.state.sockets).clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// HTTP

fn handle(state: &State, mut request: tiny_http::Request) {
    let method = request.method().to_string().to_ascii_uppercase();
    let url = request.url().to_owned();
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p.to_owned(), parse_query(q)),
        None => (url.clone(), Vec::new()),
    };
    let mut body = Vec::new();
    if method == "POST" {
        let _ = request.as_reader().read_to_end(&mut body);
    }
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    lock(&state.requests).push(Recorded {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        body: body.clone(),
    });
    let q = |k: &str| {
        query
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let options = lock(&state.options).clone();
    match (method.as_str(), path.as_str()) {
        ("GET", "/ws") => {
            if options.websocket {
                open_socket(state, request, q("clientId"));
            } else {
                respond_json(request, 404, &json!({"error": "no websocket here"}));
            }
        }
        ("POST", "/prompt") => post_prompt(state, request, &body, &options),
        ("GET", "/queue") => {
            let queue = lock(&state.queue);
            let running: Vec<Value> = queue
                .running
                .iter()
                .map(|(n, id, p, c)| json!([n, id, p, {"client_id": c}, []]))
                .collect();
            let pending: Vec<Value> = queue
                .pending
                .iter()
                .map(|i| json!([i.number, i.prompt_id, i.prompt, {"client_id": i.client_id}, []]))
                .collect();
            drop(queue);
            respond_json(
                request,
                200,
                &json!({"queue_running": running, "queue_pending": pending}),
            );
        }
        ("POST", "/queue") => {
            {
                let mut queue = lock(&state.queue);
                if body.get("clear").and_then(Value::as_bool) == Some(true) {
                    queue.pending.clear();
                }
                if let Some(ids) = body.get("delete").and_then(Value::as_array) {
                    queue
                        .pending
                        .retain(|i| !ids.iter().any(|id| id.as_str() == Some(&i.prompt_id)));
                }
            }
            broadcast_status(state);
            respond_empty(request, 200);
        }
        ("POST", "/interrupt") => {
            let running = lock(&state.queue).running.as_ref().map(|r| r.1.clone());
            let wanted = body.get("prompt_id").and_then(Value::as_str);
            if running.is_some() && (wanted.is_none() || wanted == running.as_deref()) {
                state.interrupt.store(true, Ordering::SeqCst);
            }
            respond_empty(request, 200);
        }
        ("GET", "/system_stats") => respond_json(
            request,
            200,
            &json!({
                "system": {"os": "posix", "comfyui_version": "0.3.64", "python_version": "3.12.3",
                           "embedded_python": false, "ram_total": 34359738368_u64, "ram_free": 17179869184_u64},
                "devices": [{"name": "cuda:0 Fake GPU", "type": "cuda", "index": 0,
                             "vram_total": 25769803776_u64, "vram_free": 20000000000_u64}]
            }),
        ),
        ("GET", "/view") => {
            let key = (
                q("subfolder").unwrap_or_default(),
                q("filename").unwrap_or_default(),
                q("type").unwrap_or_else(|| "output".into()),
            );
            match lock(&state.files).get(&key).cloned() {
                Some(bytes) => {
                    let response = tiny_http::Response::from_data(bytes)
                        .with_header(header("Content-Type", "image/png"));
                    let _ = request.respond(response);
                }
                None => respond_empty(request, 404),
            }
        }
        ("GET", p) if p.starts_with("/history/") => {
            let id = percent_decode(&p["/history/".len()..]);
            let entry = lock(&state.history).get(&id).cloned();
            match entry {
                None => respond_json(request, 200, &json!({})),
                Some(entry) => match options.history {
                    HistoryAnswer::Normal => respond_json(request, 200, &json!({ id: entry })),
                    HistoryAnswer::Truncated => {
                        let text = json!({ id: entry }).to_string();
                        let cut = text[..text.len() / 2].to_owned();
                        respond_text(request, 200, cut);
                    }
                    HistoryAnswer::Malformed => respond_json(
                        request,
                        200,
                        &json!({ id: {
                            "prompt": entry["prompt"],
                            "outputs": {"9": {"images": [{"subfolder": "", "type": "output"}]}, "10": "nonsense"},
                            "status": {"status_str": "success", "completed": true, "messages": []}
                        }}),
                    ),
                },
            }
        }
        ("GET", p) if p.starts_with("/object_info") => {
            let class = p.strip_prefix("/object_info/").map(percent_decode);
            let mut all = serde_json::Map::new();
            all.insert(
                "KSampler".into(),
                node_info(
                    "KSampler",
                    &[
                        ("sampler_name", &options.samplers),
                        ("scheduler", &options.schedulers),
                    ],
                    options.object_info,
                ),
            );
            all.insert(
                "CheckpointLoaderSimple".into(),
                node_info(
                    "CheckpointLoaderSimple",
                    &[("ckpt_name", &options.checkpoints)],
                    options.object_info,
                ),
            );
            let out = match class {
                None => Value::Object(all),
                Some(c) => match all.remove(&c) {
                    Some(info) => json!({ c: info }),
                    None => json!({}),
                },
            };
            respond_json(request, 200, &out);
        }
        _ => respond_empty(request, 404),
    }
}

fn node_info(class: &str, combos: &[(&str, &Vec<String>)], format: ObjectInfoFormat) -> Value {
    let mut required = serde_json::Map::new();
    for (name, values) in combos {
        let tooltip = format!("The {name}.");
        let v = match format {
            ObjectInfoFormat::Lists => json!([values, {"tooltip": tooltip}]),
            ObjectInfoFormat::Combo => {
                json!(["COMBO", {"options": values, "tooltip": tooltip, "multiselect": false}])
            }
        };
        required.insert((*name).to_owned(), v);
    }
    if class == "KSampler" {
        required.insert("model".into(), json!(["MODEL", {}]));
        required.insert(
            "seed".into(),
            json!(["INT", {"default": 0, "min": 0, "max": u64::MAX, "control_after_generate": true}]),
        );
        required.insert(
            "steps".into(),
            json!(["INT", {"default": 20, "min": 1, "max": 10000}]),
        );
    }
    json!({
        "input": {"required": required},
        "input_order": {"required": required.keys().collect::<Vec<_>>()},
        "output": if class == "KSampler" { json!(["LATENT"]) } else { json!(["MODEL", "CLIP", "VAE"]) },
        "name": class,
        "display_name": class,
        "category": "sampling",
        "output_node": false
    })
}

fn post_prompt(state: &State, request: tiny_http::Request, body: &Value, options: &FakeOptions) {
    let Some(prompt) = body.get("prompt").filter(|p| p.is_object()) else {
        let error = json!({"type": "no_prompt", "message": "No prompt provided",
                           "details": "No prompt provided", "extra_info": {}});
        respond_json(request, 400, &json!({"error": error, "node_errors": {}}));
        return;
    };
    let mut node_errors = serde_json::Map::new();
    let output = output_node(prompt).unwrap_or_else(|| "9".into());
    if options.behaviour == Behaviour::Reject {
        node_errors.insert(
            "4".into(),
            json!({"errors": [{"type": "value_not_in_list", "message": "Value not in list",
                               "details": "ckpt_name: 'gone.safetensors' not in []",
                               "extra_info": {"input_name": "ckpt_name"}}],
                   "dependent_outputs": [output], "class_type": "CheckpointLoaderSimple"}),
        );
    } else if options.validate {
        for (id, node) in prompt.as_object().into_iter().flatten() {
            for (input, list) in [
                ("ckpt_name", &options.checkpoints),
                ("sampler_name", &options.samplers),
                ("scheduler", &options.schedulers),
            ] {
                if let Some(Value::String(v)) = node["inputs"].get(input)
                    && !list.contains(v)
                {
                    node_errors.insert(
                        id.clone(),
                        json!({"errors": [{"type": "value_not_in_list", "message": "Value not in list",
                                           "details": format!("{input}: '{v}' not in {list:?}"),
                                           "extra_info": {"input_name": input}}],
                               "dependent_outputs": [output],
                               "class_type": node["class_type"]}),
                    );
                }
            }
        }
    }
    if !node_errors.is_empty() {
        let details: Vec<String> = node_errors
            .values()
            .flat_map(|e| e["errors"].as_array().cloned().unwrap_or_default())
            .map(|e| {
                format!(
                    "{}: {}",
                    e["message"].as_str().unwrap_or(""),
                    e["details"].as_str().unwrap_or("")
                )
            })
            .collect();
        let error = json!({"type": "prompt_outputs_failed_validation",
                           "message": "Prompt outputs failed validation",
                           "details": details.join("\n"), "extra_info": {}});
        respond_json(
            request,
            400,
            &json!({"error": error, "node_errors": node_errors}),
        );
        return;
    }
    let number = state.number.fetch_add(1, Ordering::SeqCst);
    let prompt_id = match body.get("prompt_id") {
        Some(Value::String(id)) => id.clone(),
        _ => format!("fake-{number:08}-0000-4000-8000-000000000000"),
    };
    let client_id = body
        .get("client_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    lock(&state.queue).pending.push(Item {
        number,
        prompt_id: prompt_id.clone(),
        prompt: prompt.clone(),
        client_id,
        behaviour: options.behaviour.clone(),
    });
    state.wake.notify_all();
    broadcast_status(state);
    respond_json(
        request,
        200,
        &json!({"prompt_id": prompt_id, "number": number, "node_errors": {}}),
    );
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

fn respond_json(request: tiny_http::Request, status: u16, body: &Value) {
    respond_text(request, status, body.to_string());
}

fn respond_text(request: tiny_http::Request, status: u16, body: String) {
    let response = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json"));
    let _ = request.respond(response);
}

fn respond_empty(request: tiny_http::Request, status: u16) {
    let _ = request.respond(tiny_http::Response::empty(status));
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------
// The progress socket

fn open_socket(state: &State, request: tiny_http::Request, client_id: Option<String>) {
    let key = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Sec-WebSocket-Key"))
        .map(|h| h.value.as_str().to_owned());
    let Some(key) = key else {
        respond_empty(request, 400);
        return;
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let response =
        tiny_http::Response::empty(101).with_header(header("Sec-WebSocket-Accept", &accept));
    let stream = request.upgrade("websocket", response);
    let socket = WebSocket::from_raw_socket(stream, Role::Server, None);
    let sid = client_id
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| format!("{:032x}", state.counter.fetch_add(1, Ordering::SeqCst)));
    lock(&state.sockets).insert(sid.clone(), Arc::new(Mutex::new(socket)));
    let status = json!({"status": queue_info(state), "sid": sid});
    send_json(state, Some(&sid), "status", status);
}

fn queue_info(state: &State) -> Value {
    let q = lock(&state.queue);
    let remaining = q.pending.len() + usize::from(q.running.is_some());
    json!({"exec_info": {"queue_remaining": remaining}})
}

fn broadcast_status(state: &State) {
    let status = json!({"status": queue_info(state)});
    send_json(state, None, "status", status);
}

/// Sends to one client (`Some`) or all (`None`); a socket that fails is dropped.
fn send_json(state: &State, sid: Option<&str>, kind: &str, data: Value) {
    let text = json!({"type": kind, "data": data}).to_string();
    send(state, sid, Message::text(text));
}

fn send(state: &State, sid: Option<&str>, message: Message) {
    let targets: Vec<(String, Arc<Mutex<Socket>>)> = {
        let sockets = lock(&state.sockets);
        match sid {
            Some(sid) => sockets
                .get(sid)
                .map(|s| vec![(sid.to_owned(), s.clone())])
                .unwrap_or_default(),
            None => sockets
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    };
    for (sid, socket) in targets {
        if lock(&socket).send(message.clone()).is_err() {
            lock(&state.sockets).remove(&sid);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The queue

fn work(state: &State) {
    loop {
        let item = {
            let mut queue = lock(&state.queue);
            loop {
                if state.stop.load(Ordering::SeqCst) {
                    return;
                }
                if let Some(i) = queue
                    .pending
                    .iter()
                    .position(|i| i.behaviour != Behaviour::StayQueued)
                {
                    let item = queue.pending.remove(i);
                    queue.running = Some((
                        item.number,
                        item.prompt_id.clone(),
                        item.prompt.clone(),
                        item.client_id.clone(),
                    ));
                    break item;
                }
                queue = state
                    .wake
                    .wait_timeout(queue, Duration::from_millis(50))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        };
        state.interrupt.store(false, Ordering::SeqCst);
        broadcast_status(state);
        execute(state, &item);
        lock(&state.queue).running = None;
        broadcast_status(state);
        let silent = lock(&state.options).silent_socket;
        if let Some(c) = item.client_id.as_ref().filter(|_| !silent) {
            send_json(
                state,
                Some(c),
                "executing",
                json!({"node": null, "prompt_id": item.prompt_id}),
            );
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn sampler_node(prompt: &Value) -> String {
    prompt
        .as_object()
        .and_then(|nodes| {
            nodes.iter().find(|(_, n)| {
                n["class_type"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("KSampler"))
                    || n["inputs"].get("seed").is_some()
            })
        })
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| "3".into())
}

fn output_node(prompt: &Value) -> Option<String> {
    let nodes = prompt.as_object()?;
    ["SaveImage", "PreviewImage"].iter().find_map(|class| {
        nodes
            .iter()
            .find(|(_, n)| n["class_type"] == *class)
            .map(|(id, _)| id.clone())
    })
}

fn execute(state: &State, item: &Item) {
    let options = lock(&state.options).clone();
    let pid = item.prompt_id.clone();
    let client = item.client_id.as_deref().filter(|_| !options.silent_socket);
    let mut messages: Vec<Value> = Vec::new();
    let mut message = |kind: &str, data: Value| {
        let mut data = data;
        data["timestamp"] = json!(now_ms());
        messages.push(json!([kind, data.clone()]));
        if client.is_some() {
            send_json(state, client, kind, data);
        }
    };
    let sampler = sampler_node(&item.prompt);
    let output = output_node(&item.prompt).unwrap_or_else(|| "9".into());
    let class_of = |id: &str| item.prompt[id]["class_type"].clone();
    message("execution_start", json!({"prompt_id": pid}));
    message("execution_cached", json!({"nodes": [], "prompt_id": pid}));
    let interrupted = |message: &mut dyn FnMut(&str, Value), node: &str| {
        message(
            "execution_interrupted",
            json!({"prompt_id": pid, "node_id": node, "node_type": class_of(node), "executed": []}),
        );
    };
    let finish = |status_str: &str, outputs: Value, messages: Vec<Value>| {
        let entry = json!({
            "prompt": [item.number, pid, item.prompt, {"client_id": item.client_id}, [output]],
            "outputs": outputs,
            "status": {"status_str": status_str, "completed": status_str == "success", "messages": messages},
            "meta": {}
        });
        lock(&state.history).insert(pid.clone(), entry);
    };
    match &item.behaviour {
        Behaviour::Hang => {
            loop {
                if state.stop.load(Ordering::SeqCst) {
                    return;
                }
                if state.interrupt.swap(false, Ordering::SeqCst) {
                    interrupted(&mut message, &sampler);
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            finish("error", json!({}), messages);
        }
        Behaviour::ExecutionError { .. } | Behaviour::OutOfMemory => {
            let (exception_type, text) = match &item.behaviour {
                Behaviour::ExecutionError {
                    exception_type,
                    message,
                } => (exception_type.clone(), message.clone()),
                _ => (
                    "torch.OutOfMemoryError".to_owned(),
                    "Allocation on device \nThis error means you ran out of memory on your GPU.\n\nTIPS: If the workflow worked before you might have accidentally set the batch_size to a large number.".to_owned(),
                ),
            };
            message(
                "executing",
                json!({"node": sampler, "display_node": sampler, "prompt_id": pid}),
            );
            message(
                "progress",
                json!({"value": 1, "max": options.steps, "prompt_id": pid, "node": sampler}),
            );
            message(
                "execution_error",
                json!({"prompt_id": pid, "node_id": sampler, "node_type": class_of(&sampler),
                       "executed": [], "exception_message": text, "exception_type": exception_type,
                       "traceback": ["  File \"execution.py\", line 496, in execute\n"],
                       "current_inputs": {}, "current_outputs": []}),
            );
            finish("error", json!({}), messages);
        }
        _ => {
            message(
                "executing",
                json!({"node": sampler, "display_node": sampler, "prompt_id": pid}),
            );
            for step in 1..=options.steps {
                if state.stop.load(Ordering::SeqCst) {
                    return;
                }
                if state.interrupt.swap(false, Ordering::SeqCst) {
                    interrupted(&mut message, &sampler);
                    finish("error", json!({}), messages);
                    return;
                }
                message(
                    "progress",
                    json!({"value": step, "max": options.steps, "prompt_id": pid, "node": sampler}),
                );
                if step == 1 && client.is_some() {
                    let mut frame = 1u32.to_be_bytes().to_vec();
                    frame.extend_from_slice(&2u32.to_be_bytes());
                    frame.extend_from_slice(&png(0x80, &[("preview", "yes")]));
                    send(state, client, Message::binary(frame));
                }
                std::thread::sleep(options.step_delay);
            }
            if state.interrupt.swap(false, Ordering::SeqCst) {
                interrupted(&mut message, &sampler);
                finish("error", json!({}), messages);
                return;
            }
            message(
                "executing",
                json!({"node": output, "display_node": output, "prompt_id": pid}),
            );
            let preview = class_of(&output) == "PreviewImage";
            let kind = if preview { "temp" } else { "output" };
            let prefix = item.prompt[&output]["inputs"]["filename_prefix"]
                .as_str()
                .unwrap_or("ComfyUI")
                .to_owned();
            let batch = item
                .prompt
                .as_object()
                .and_then(|nodes| {
                    nodes
                        .values()
                        .find_map(|n| n["inputs"].get("batch_size").and_then(Value::as_u64))
                })
                .unwrap_or(1);
            let prompt_text = item.prompt.to_string();
            let workflow_text = json!({"last_node_id": 9, "last_link_id": 9, "nodes": [], "links": [], "version": 0.4}).to_string();
            let mut images = Vec::new();
            for _ in 0..batch {
                let counter = state.counter.fetch_add(1, Ordering::SeqCst);
                let filename = format!("{prefix}_{counter:05}_.png");
                let bytes = png(
                    counter as u8,
                    &[("prompt", &prompt_text), ("workflow", &workflow_text)],
                );
                lock(&state.files).insert(
                    (options.subfolder.clone(), filename.clone(), kind.to_owned()),
                    bytes,
                );
                images.push(
                    json!({"filename": filename, "subfolder": options.subfolder, "type": kind}),
                );
            }
            let outputs = json!({ output.clone(): {"images": images} });
            message(
                "executed",
                json!({"node": output, "display_node": output, "output": outputs[&output], "prompt_id": pid}),
            );
            message("execution_success", json!({"prompt_id": pid}));
            std::thread::sleep(options.history_delay);
            finish("success", outputs, messages);
        }
    }
}

// ---------------------------------------------------------------------------------------
// PNG

/// A 1×1 grey PNG of `shade` with tEXt chunks, as ComfyUI writes `prompt` and `workflow`.
pub fn png(shade: u8, texts: &[(&str, &str)]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale
    chunk(&mut out, b"IHDR", &ihdr);
    for (k, v) in texts {
        let mut data = k.as_bytes().to_vec();
        data.push(0);
        data.extend_from_slice(v.as_bytes());
        chunk(&mut out, b"tEXt", &data);
    }
    // zlib: one stored block holding the scanline (filter 0, the pixel).
    let raw = [0u8, shade];
    let mut z = vec![0x78, 0x01, 0x01];
    z.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    z.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    z.extend_from_slice(&raw);
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

use promptdesk_core::outputs::push_png_chunk as chunk;

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &d in data {
        a = (a + u32::from(d)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}
