//! ComfyUI: `/prompt`, the `/ws` progress socket, `/history`, `/view`.
//!
//! One request runs as `batch_count` prompts (seeds `seed`, `seed + 1`, ...), one after the
//! other, each through the backend's [`Workflow`]:
//!
//! 1. The progress socket `ws://host/ws?clientId=<our id>` is opened first (an `https://`
//!    server has none here: our websocket has no TLS, so such servers are only polled).
//! 2. `POST /prompt {"prompt", "client_id", "prompt_id"}` with a prompt id we choose. A 400
//!    is [`BackendError::Rejected`] with ComfyUI's message and its node errors.
//! 3. Socket messages for our prompt move the progress (`progress`, binary previews) and end
//!    it (`execution_success`, `executing` with `node: null`, `execution_error`,
//!    `execution_interrupted`). `GET /history/{id}` is asked every `poll_interval` as a
//!    backstop, and `GET /queue` until the socket has said something about the prompt.
//! 4. The images listed in the history's outputs (type `output`; `temp` when a workflow only
//!    previews) are fetched with `GET /view`.
//!
//! Cancelling deletes a prompt still waiting (`POST /queue {"delete"}`) or interrupts a
//! running one (`POST /interrupt {"prompt_id"}`). No progress for `stall_timeout` while the
//! prompt runs interrupts it and fails as [`BackendError::Stalled`]; a prompt waiting behind
//! other people's prompts in ComfyUI's queue is not stalled. Without a socket (or one that
//! never says anything about the prompt), a running prompt shows no progress, so it is never
//! counted as stalled.

use super::http::{self, Http};
use super::workflow::{Workflow, WorkflowValues};
use super::{
    Backend, BackendConfig, BackendError, Catalogues, GenerateRequest, Generated, GeneratedImage,
    ModelInfo, Progress, RunControl, names,
};
use crate::history::infotext_block;
use serde_json::{Value, json};
use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::WebSocket;

/// How long one wait on the socket lasts: how quickly a cancel is seen.
const SOCKET_TICK: Duration = Duration::from_millis(50);
/// How long the socket's connection and handshake may take.
const SOCKET_CONNECT: Duration = Duration::from_secs(5);
/// How often the history is asked once the socket said the prompt ended (ComfyUI sends
/// `execution_success` just before it stores the history entry).
const FINISH_POLL: Duration = Duration::from_millis(25);

type Socket = WebSocket<TcpStream>;

/// A ComfyUI server with the workflow its jobs run through.
pub struct ComfyUi {
    config: BackendConfig,
    http: Http,
    workflow: Workflow,
    /// Ours for the life of this client: ComfyUI sends a prompt's progress only to the
    /// socket of the client id it was submitted with.
    client_id: String,
}

impl ComfyUi {
    /// Reads and checks the backend's workflow (the built-in graph when none is set): a
    /// missing or unusable workflow is a [`BackendError::Config`] naming the file.
    pub fn new(config: BackendConfig, data_dir: &Path) -> Result<ComfyUi, BackendError> {
        let workflow = match &config.workflow {
            None => Workflow::builtin(),
            Some(name) => {
                Workflow::load(&super::workflow::resolve(data_dir, name)).map_err(|reason| {
                    BackendError::Config {
                        backend: config.name.clone(),
                        reason,
                    }
                })?
            }
        };
        let http = Http::new(&config);
        Ok(ComfyUi {
            config,
            http,
            workflow,
            client_id: uuid::Uuid::new_v4().to_string(),
        })
    }

    /// The workflow jobs run through.
    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    fn name(&self) -> String {
        self.config.name.clone()
    }

    fn config_error(&self, reason: impl Into<String>) -> BackendError {
        BackendError::Config {
            backend: self.name(),
            reason: reason.into(),
        }
    }

    /// The checkpoints (`CheckpointLoaderSimple`'s `ckpt_name` choices).
    fn models(&self) -> Result<Vec<ModelInfo>, BackendError> {
        let path = "/object_info/CheckpointLoaderSimple";
        let info = self.http.get_json(path)?;
        let names = combo(&info, "CheckpointLoaderSimple", "ckpt_name")
            .map_err(|r| self.http.malformed(&self.http.url(path), r))?;
        Ok(names
            .into_iter()
            .map(|title| ModelInfo {
                name: file_stem(&title).to_owned(),
                title,
                hash: None,
            })
            .collect())
    }

    /// The checkpoint to put into the workflow (empty: the workflow's own), and a warning
    /// when the job names a model the workflow has no place for.
    fn choose_model(&self, wanted: &str) -> Result<(String, Option<String>), BackendError> {
        let wanted = wanted.trim();
        if !self.workflow.takes_model() {
            let warning = (!wanted.is_empty()).then(|| {
                format!(
                    "{}: the workflow {} loads its own model, so the job's model {wanted:?} was not used",
                    self.config.name, self.workflow.name
                )
            });
            return Ok((String::new(), warning));
        }
        if wanted.is_empty() && !self.workflow.needs_model() {
            return Ok((String::new(), None));
        }
        let models = self.models()?;
        if wanted.is_empty() {
            return match models.first() {
                Some(m) => Ok((m.title.clone(), None)),
                None => Err(self.config_error(
                    "the job names no model and ComfyUI lists no checkpoints (models/checkpoints is empty)",
                )),
            };
        }
        match names::match_model(wanted, &models) {
            Some(m) => Ok((m.title.clone(), None)),
            None => {
                let mut listed: Vec<&str> = models.iter().map(|m| m.title.as_str()).collect();
                let more = listed.len().saturating_sub(8);
                listed.truncate(8);
                let mut list = listed.join(", ");
                if more > 0 {
                    list.push_str(&format!(" and {more} more"));
                }
                if list.is_empty() {
                    list = "none".into();
                }
                Err(self.config_error(format!(
                    "the model {wanted:?} is not among ComfyUI's checkpoints ({list})"
                )))
            }
        }
    }

    /// `POST /prompt`; the prompt id ComfyUI runs it under, and warnings for outputs it
    /// dropped.
    fn submit(
        &self,
        graph: &Value,
        prompt_id: &str,
    ) -> Result<(String, Vec<String>), BackendError> {
        let body = json!({"prompt": graph, "client_id": self.client_id, "prompt_id": prompt_id});
        let url = self.http.url("/prompt");
        let node_errors = |bytes: &[u8]| {
            serde_json::from_slice::<Value>(bytes)
                .ok()
                .and_then(|v| node_errors_summary(&v["node_errors"]))
        };
        let answer =
            self.http
                .post_json_detailed("/prompt", &body, http::Wait::Short, &node_errors)?;
        let id = answer
            .get("prompt_id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| self.http.malformed(&url, "the answer has no prompt_id"))?;
        let warnings = node_errors_summary(&answer["node_errors"])
            .map(|s| {
                vec![format!(
                    "{}: ComfyUI left out parts of the workflow that failed validation: {s}",
                    self.config.name
                )]
            })
            .unwrap_or_default();
        Ok((id.to_owned(), warnings))
    }

    /// The progress socket, or `None` (an `https://` server, or none answers): then the
    /// history is polled alone.
    fn open_socket(&self) -> Option<Socket> {
        let rest = self.config.base_url().strip_prefix("http://")?;
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        let host_port = if has_port {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let stream = host_port
            .to_socket_addrs()
            .ok()?
            .find_map(|addr| TcpStream::connect_timeout(&addr, SOCKET_CONNECT).ok())?;
        stream.set_read_timeout(Some(SOCKET_CONNECT)).ok()?;
        stream.set_write_timeout(Some(SOCKET_CONNECT)).ok()?;
        let url = format!("ws://{authority}{prefix}/ws?clientId={}", self.client_id);
        use tungstenite::client::IntoClientRequest as _;
        let mut request = url.into_client_request().ok()?;
        if let Some(a) = self.http.auth_header() {
            request
                .headers_mut()
                .insert("Authorization", a.parse().ok()?);
        }
        let (socket, _) = tungstenite::client(request, stream).ok()?;
        socket.get_ref().set_read_timeout(Some(SOCKET_TICK)).ok()?;
        Some(socket)
    }

    /// The finished prompt's history entry, or `None` while ComfyUI has none.
    fn history(&self, prompt_id: &str) -> Result<Option<Value>, BackendError> {
        let path = format!("/history/{}", encode(prompt_id));
        let answer = self.http.get_json(&path)?;
        let Value::Object(mut map) = answer else {
            return Err(self
                .http
                .malformed(&self.http.url(&path), "the history is not a JSON object"));
        };
        Ok(map.remove(prompt_id))
    }

    /// Where the prompt is in ComfyUI's queue.
    fn queue_state(&self, prompt_id: &str) -> Result<Queued, BackendError> {
        let answer = self.http.get_json("/queue")?;
        let has = |key: &str| {
            answer[key].as_array().is_some_and(|items| {
                items
                    .iter()
                    .any(|item| item.get(1).and_then(Value::as_str) == Some(prompt_id))
            })
        };
        Ok(if has("queue_running") {
            Queued::Running
        } else if has("queue_pending") {
            Queued::Pending
        } else {
            Queued::Absent
        })
    }

    /// Stops the prompt: deleted from the queue when still waiting, interrupted when
    /// running. Best effort: the request ends as interrupted either way.
    fn stop(&self, prompt_id: &str, started: bool) {
        let state = if started {
            Ok(Queued::Running)
        } else {
            self.queue_state(prompt_id)
        };
        let delete = || {
            let _ =
                self.http
                    .post_json("/queue", &json!({"delete": [prompt_id]}), http::Wait::Short);
        };
        let interrupt = || {
            let _ = self.http.post_json(
                "/interrupt",
                &json!({"prompt_id": prompt_id}),
                http::Wait::Short,
            );
        };
        match state {
            // It may start between the look and the delete: the interrupt names it, so it
            // stops only that prompt (ComfyUI ignores it when another one runs).
            Ok(Queued::Pending) => {
                delete();
                interrupt();
            }
            Ok(Queued::Running) => interrupt(),
            Ok(Queued::Absent) => {}
            Err(_) => {
                delete();
                interrupt();
            }
        }
    }

    /// Waits for one submitted prompt to end; its history entry.
    fn wait(
        &self,
        prompt_id: &str,
        socket: &mut Option<Socket>,
        control: &RunControl,
        report: &mut dyn FnMut(u32, u32, Option<Arc<Vec<u8>>>),
    ) -> Result<Value, BackendError> {
        let mut started = false;
        let mut ended = false;
        // Whether the socket has said anything about this prompt: until it has, only the
        // queue tells whether the prompt runs (a proxy may pass the socket but not our
        // messages).
        let mut heard = false;
        let mut last_activity = Instant::now();
        let mut next_poll = Instant::now() + control.poll_interval;
        let (mut step, mut steps) = (0u32, 0u32);
        loop {
            if control.is_cancelled() {
                self.stop(prompt_id, started);
                return Err(BackendError::Interrupted {
                    backend: self.name(),
                });
            }
            if last_activity.elapsed() > control.stall_timeout {
                self.stop(prompt_id, true);
                return Err(BackendError::Stalled {
                    backend: self.name(),
                    secs: control.stall_timeout.as_secs(),
                });
            }
            match socket.as_mut().map(read_event) {
                None => {
                    let left = next_poll.saturating_duration_since(Instant::now());
                    std::thread::sleep(left.min(SOCKET_TICK));
                }
                Some(Event::Nothing) => {}
                Some(Event::Gone) => *socket = None,
                Some(Event::Message(kind, data)) => {
                    let ours = data.get("prompt_id").and_then(Value::as_str) == Some(prompt_id);
                    if ours {
                        heard = true;
                        last_activity = Instant::now();
                        match kind.as_str() {
                            "execution_start" | "execution_cached" | "progress_state"
                            | "executed" => started = true,
                            "executing" if data["node"].is_null() => ended = true,
                            "executing" => started = true,
                            "progress" => {
                                started = true;
                                let n = |k: &str| {
                                    data[k].as_f64().map(|v| v.max(0.0) as u32).unwrap_or(0)
                                };
                                (step, steps) = (n("value"), n("max"));
                                report(step, steps, None);
                            }
                            "execution_success" => ended = true,
                            "execution_error" => return Err(self.execution_error(&data)),
                            "execution_interrupted" => {
                                return Err(BackendError::Interrupted {
                                    backend: self.name(),
                                });
                            }
                            _ => {}
                        }
                        if ended {
                            next_poll = Instant::now();
                        }
                    }
                }
                Some(Event::Preview(bytes, for_prompt)) => {
                    if for_prompt.as_deref().is_none_or(|p| p == prompt_id) && started {
                        heard = true;
                        last_activity = Instant::now();
                        report(step, steps, Some(Arc::new(bytes)));
                    }
                }
            }
            if Instant::now() < next_poll {
                continue;
            }
            next_poll = Instant::now()
                + if ended {
                    FINISH_POLL.min(control.poll_interval)
                } else {
                    control.poll_interval
                };
            // With the socket open, a history question that fails now and then is not fatal
            // (the socket still reports, and a dead server also closes the socket).
            match self.history(prompt_id) {
                Ok(Some(entry)) => return Ok(entry),
                Ok(None) => {}
                Err(e) if e.is_retryable() && socket.is_some() => continue,
                Err(e) => return Err(e),
            }
            if socket.is_some() && heard {
                continue;
            }
            let queued = match self.queue_state(prompt_id) {
                Ok(q) => q,
                Err(e) if e.is_retryable() && socket.is_some() => continue,
                Err(e) => return Err(e),
            };
            match queued {
                // Waiting behind other prompts is not stalling.
                Queued::Pending => last_activity = Instant::now(),
                // Running, with no socket reporting on it: nothing shows its progress, so it
                // is not counted as stalled.
                Queued::Running => {
                    started = true;
                    last_activity = Instant::now();
                }
                Queued::Absent => {
                    // It may have ended between the two questions.
                    if let Some(entry) = self.history(prompt_id)? {
                        return Ok(entry);
                    }
                    return Err(BackendError::Execution {
                        backend: self.name(),
                        message: format!(
                            "ComfyUI no longer has the prompt {prompt_id}: it left the queue without a result (deleted from ComfyUI's queue, or ComfyUI restarted)"
                        ),
                    });
                }
            }
        }
    }

    /// An `execution_error` message's data as an error (out of memory recognised).
    fn execution_error(&self, data: &Value) -> BackendError {
        let text = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or("").trim();
        let exception = text("exception_message");
        let kind = text("exception_type");
        let node_type = text("node_type");
        let node_id = match data.get("node_id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let mut message = String::new();
        if !node_type.is_empty() {
            message.push_str(&format!("{node_type} (node {node_id}): "));
        }
        match (kind.is_empty(), exception.is_empty()) {
            (false, false) => message.push_str(&format!("{kind}: {exception}")),
            (false, true) => message.push_str(kind),
            (true, false) => message.push_str(exception),
            (true, true) => message.push_str("ComfyUI reported an error without a message"),
        }
        let lower = format!("{kind} {exception}").to_ascii_lowercase();
        if lower.contains("out of memory") || lower.contains("outofmemory") {
            BackendError::OutOfMemory {
                backend: self.name(),
                message,
            }
        } else {
            BackendError::Execution {
                backend: self.name(),
                message,
            }
        }
    }

    /// The images a finished prompt's history entry lists, or why it failed.
    fn outcome(&self, prompt_id: &str, entry: &Value) -> Result<Vec<ImageRef>, BackendError> {
        let url = self.http.url(&format!("/history/{}", encode(prompt_id)));
        let malformed = |reason: &str| self.http.malformed(&url, reason);
        if !entry.is_object() {
            return Err(malformed("the prompt's history entry is not an object"));
        }
        let status = &entry["status"];
        if status["status_str"].as_str() == Some("error") {
            let messages = status["messages"].as_array().cloned().unwrap_or_default();
            for m in &messages {
                match m.get(0).and_then(Value::as_str) {
                    Some("execution_error") => return Err(self.execution_error(&m[1])),
                    Some("execution_interrupted") => {
                        return Err(BackendError::Interrupted {
                            backend: self.name(),
                        });
                    }
                    _ => {}
                }
            }
            return Err(BackendError::Execution {
                backend: self.name(),
                message: "ComfyUI reports the prompt failed, without saying why".into(),
            });
        }
        let outputs = entry
            .get("outputs")
            .and_then(Value::as_object)
            .ok_or_else(|| malformed("the prompt's history entry has no outputs"))?;
        let mut images = Vec::new();
        for (node, out) in outputs {
            let Some(out) = out.as_object() else {
                return Err(malformed(&format!(
                    "the output of node {node} is not an object"
                )));
            };
            let Some(list) = out.get("images") else {
                continue;
            };
            let list = list
                .as_array()
                .ok_or_else(|| malformed(&format!("node {node}'s images are not a list")))?;
            for image in list {
                let field = |k: &str| image.get(k).and_then(Value::as_str);
                let filename = field("filename").filter(|f| !f.is_empty()).ok_or_else(|| {
                    malformed(&format!("an image of node {node} has no filename"))
                })?;
                images.push(ImageRef {
                    filename: filename.to_owned(),
                    subfolder: field("subfolder").unwrap_or("").to_owned(),
                    kind: field("type").unwrap_or("output").to_owned(),
                });
            }
        }
        // Saved images; a workflow that only previews gives temporary ones.
        let saved: Vec<ImageRef> = images
            .iter()
            .filter(|i| i.kind == "output")
            .cloned()
            .collect();
        let chosen = if saved.is_empty() { images } else { saved };
        if chosen.is_empty() {
            return Err(BackendError::Execution {
                backend: self.name(),
                message: format!(
                    "ComfyUI ran the prompt but it produced no image (does the workflow {} save or preview one?)",
                    self.workflow.name
                ),
            });
        }
        Ok(chosen)
    }

    fn fetch(&self, image: &ImageRef) -> Result<Vec<u8>, BackendError> {
        let path = format!(
            "/view?filename={}&subfolder={}&type={}",
            encode(&image.filename),
            encode(&image.subfolder),
            encode(&image.kind)
        );
        let bytes = self.http.get_bytes(&path)?;
        if bytes.is_empty() {
            return Err(self
                .http
                .malformed(&self.http.url(&path), "the image is empty"));
        }
        Ok(bytes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Queued {
    Pending,
    Running,
    /// In neither list (finished, deleted, or never known).
    Absent,
}

#[derive(Debug, Clone)]
struct ImageRef {
    filename: String,
    subfolder: String,
    kind: String,
}

/// What one look at the socket found.
enum Event {
    Nothing,
    /// The socket closed or broke: poll from now on.
    Gone,
    /// A JSON message: its `type` and `data`.
    Message(String, Value),
    /// A preview image, and the prompt it is for when the frame says.
    Preview(Vec<u8>, Option<String>),
}

/// Waits up to [`SOCKET_TICK`] for a socket message.
fn read_event(socket: &mut Socket) -> Event {
    use tungstenite::{Error, Message};
    match socket.read() {
        Ok(Message::Text(text)) => match serde_json::from_str::<Value>(text.as_str()) {
            Ok(v) => match v.get("type").and_then(Value::as_str) {
                Some(kind) => Event::Message(kind.to_owned(), v["data"].clone()),
                None => Event::Nothing,
            },
            Err(_) => Event::Nothing,
        },
        Ok(Message::Binary(bytes)) => preview(&bytes).unwrap_or(Event::Nothing),
        Ok(Message::Close(_)) => Event::Gone,
        Ok(_) => Event::Nothing,
        Err(Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Event::Nothing
        }
        Err(_) => Event::Gone,
    }
}

/// A binary frame: 4-byte big-endian event type; 1 = PREVIEW_IMAGE (4-byte image type, then
/// the image), 4 = PREVIEW_IMAGE_WITH_METADATA (4-byte length, JSON metadata, the image).
fn preview(frame: &[u8]) -> Option<Event> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(frame.get(at..at + 4)?.try_into().ok()?))
    };
    match word(0)? {
        1 => {
            let image = frame.get(8..)?;
            (!image.is_empty()).then(|| Event::Preview(image.to_vec(), None))
        }
        4 => {
            let len = usize::try_from(word(4)?).ok()?;
            let meta: Value =
                serde_json::from_slice(frame.get(8..8usize.checked_add(len)?)?).ok()?;
            let image = frame.get(8 + len..)?;
            let prompt = meta["prompt_id"].as_str().map(str::to_owned);
            (!image.is_empty()).then(|| Event::Preview(image.to_vec(), prompt))
        }
        _ => None,
    }
}

/// The choices of a combo input in an `/object_info/{class}` answer: the old
/// `[["a", "b"], {...}]` or the newer `["COMBO", {"options": ["a", "b"]}]`.
fn combo(info: &Value, class: &str, input: &str) -> Result<Vec<String>, String> {
    let node = info
        .get(class)
        .ok_or_else(|| format!("ComfyUI lists no {class} node"))?;
    let spec = ["required", "optional"]
        .iter()
        .find_map(|group| node.get("input")?.get(group)?.get(input))
        .ok_or_else(|| format!("{class} has no {input} input"))?;
    let names = match spec.get(0) {
        Some(Value::Array(names)) => names,
        Some(Value::String(t)) if t == "COMBO" => spec
            .get(1)
            .and_then(|o| o.get("options"))
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{class}'s {input} is a COMBO without options"))?,
        _ => return Err(format!("{class}'s {input} is not a list of choices")),
    };
    Ok(names
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect())
}

/// `SDXL/juggernautXL_v9.safetensors` → `juggernautXL_v9`.
fn file_stem(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    }
}

/// ComfyUI's `node_errors` in one line: `CheckpointLoaderSimple "4": Value not in list:
/// ckpt_name: ...`; `None` when there are none.
fn node_errors_summary(node_errors: &Value) -> Option<String> {
    let map = node_errors.as_object().filter(|m| !m.is_empty())?;
    let parts: Vec<String> = map
        .iter()
        .map(|(id, e)| {
            let class = e["class_type"].as_str().unwrap_or("node");
            let reasons: Vec<String> = e["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    let m = r["message"].as_str().unwrap_or("").trim();
                    let d = r["details"].as_str().unwrap_or("").trim();
                    match (m.is_empty(), d.is_empty()) {
                        (false, false) => format!("{m}: {d}"),
                        (false, true) => m.to_owned(),
                        _ => d.to_owned(),
                    }
                })
                .filter(|s| !s.is_empty())
                .collect();
            if reasons.is_empty() {
                format!("{class} \"{id}\"")
            } else {
                format!("{class} \"{id}\": {}", reasons.join("; "))
            }
        })
        .collect();
    Some(parts.join("; "))
}

/// Percent-encodes a query value or path part (all but RFC 3986's unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A random seed the way A1111 picks one (0 to 2³²−1).
fn random_seed() -> i64 {
    i64::from(uuid::Uuid::new_v4().as_u128() as u32)
}

impl Backend for ComfyUi {
    fn config(&self) -> &BackendConfig {
        &self.config
    }

    /// `GET /system_stats` (`GET /queue` on a server without it).
    fn ping(&self) -> Result<(), BackendError> {
        match self.http.get_json("/system_stats") {
            Ok(_) => Ok(()),
            Err(BackendError::Rejected { status: 404, .. }) => {
                self.http.get_json("/queue").map(|_| ())
            }
            Err(e) => Err(e),
        }
    }

    /// Samplers and schedulers from `/object_info/KSampler`, in A1111's names; ComfyUI's
    /// with no A1111 counterpart (`res_multistep`, `linear_quadratic`, ...) are left out,
    /// since a job could not name them. Models from `CheckpointLoaderSimple`'s list.
    fn catalogues(&self) -> Result<Catalogues, BackendError> {
        let path = "/object_info/KSampler";
        let info = self.http.get_json(path)?;
        let malformed = |r: String| self.http.malformed(&self.http.url(path), r);
        let translate = |names: Vec<String>, f: fn(&str) -> Option<String>| {
            let mut out: Vec<String> = Vec::new();
            for n in names.iter().filter_map(|n| f(n)) {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
            out
        };
        let samplers = combo(&info, "KSampler", "sampler_name").map_err(malformed)?;
        let schedulers = combo(&info, "KSampler", "scheduler").map_err(malformed)?;
        Ok(Catalogues {
            models: self.models()?,
            samplers: translate(samplers, names::sampler_from_comfy),
            schedulers: translate(schedulers, names::scheduler_from_comfy),
        })
    }

    fn generate(
        &self,
        request: &GenerateRequest<'_>,
        control: &RunControl,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generated, BackendError> {
        let settings = request.settings;
        let (sampler, scheduler) = names::to_comfy(&settings.sampler, &settings.scheduler)
            .map_err(|r| self.config_error(r))?;
        self.workflow.check().map_err(|r| self.config_error(r))?;
        let base_seed = if settings.seed < 0 {
            random_seed()
        } else {
            settings.seed
        };
        let (model, warning) = self.choose_model(&settings.model)?;
        let mut generated = Generated {
            warnings: warning.into_iter().collect(),
            ..Generated::default()
        };
        let total = settings.batch_count.max(1);
        // Every graph is filled before anything is sent, so a misfit sends nothing.
        let mut graphs = Vec::with_capacity(total as usize);
        for i in 0..total {
            let seed = base_seed.saturating_add(i64::from(i));
            let values = WorkflowValues {
                prompt: request.prompt.to_owned(),
                negative_prompt: request.negative_prompt.to_owned(),
                seed,
                steps: settings.steps,
                cfg: settings.cfg_scale,
                sampler: sampler.clone(),
                scheduler: scheduler.clone(),
                width: settings.width,
                height: settings.height,
                batch_size: settings.batch_size.max(1),
                model: model.clone(),
                clip_skip: settings.clip_skip,
            };
            let graph = self
                .workflow
                .fill(&values)
                .map_err(|r| self.config_error(r))?;
            graphs.push((seed, graph));
        }
        let mut socket = self.open_socket();
        let result = (|| {
            for (i, (seed, graph)) in graphs.iter().enumerate() {
                if control.is_cancelled() {
                    return Err(BackendError::Interrupted {
                        backend: self.name(),
                    });
                }
                let checkpoint = Workflow::checkpoint(graph);
                if generated.model_name.is_none() {
                    generated.model_name = checkpoint.clone();
                }
                let ours = uuid::Uuid::new_v4().to_string();
                // A submission that timed out may have been queued: never "nothing ran".
                let (prompt_id, warnings) = self.submit(graph, &ours).map_err(|e| match e {
                    BackendError::Timeout { .. } => e.after_submission(),
                    other => other,
                })?;
                for w in warnings {
                    if !generated.warnings.contains(&w) {
                        generated.warnings.push(w);
                    }
                }
                let index = i as f32;
                // Later nodes (an upscaler after the sampler) report their own steps: the
                // fraction never goes back.
                let mut within = 0.0f32;
                let entry = self
                    .wait(
                        &prompt_id,
                        &mut socket,
                        control,
                        &mut |step, steps, preview| {
                            if steps > 0 {
                                within = within.max((step as f32 / steps as f32).min(1.0));
                            }
                            progress(Progress {
                                fraction: (index + within) / total as f32,
                                step,
                                steps,
                                eta_secs: None,
                                preview,
                            });
                        },
                    )
                    // Once ComfyUI has the prompt, a server that stops answering is a lost
                    // request, not one to send again.
                    .map_err(BackendError::after_submission)?;
                let images = self
                    .outcome(&prompt_id, &entry)
                    .map_err(BackendError::after_submission)?;
                let mut used = settings.clone();
                used.seed = *seed;
                if let Some(c) = &checkpoint {
                    used.model = c.clone();
                }
                let parameters = infotext_block(request.prompt, request.negative_prompt, &used);
                for image in &images {
                    generated.images.push(GeneratedImage {
                        bytes: self.fetch(image).map_err(BackendError::after_submission)?,
                        seed: *seed,
                        parameters: Some(parameters.clone()),
                    });
                }
                progress(Progress {
                    fraction: (index + 1.0) / total as f32,
                    ..Progress::default()
                });
            }
            Ok(())
        })();
        if let Some(mut s) = socket {
            let _ = s.close(None);
            let _ = s.flush();
        }
        match result {
            Ok(()) => Ok(generated),
            // The prompts that finished before keep their images.
            Err(e) if !generated.images.is_empty() => {
                generated.ended_early = Some(e);
                Ok(generated)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combos_are_read_in_both_formats() {
        let old = json!({"KSampler": {"input": {"required": {"sampler_name": [["euler", "dpmpp_2m"], {"tooltip": "x"}]}}}});
        assert_eq!(
            combo(&old, "KSampler", "sampler_name").unwrap(),
            ["euler", "dpmpp_2m"]
        );
        let new = json!({"KSampler": {"input": {"required": {"sampler_name": ["COMBO", {"options": ["euler"], "multiselect": false}]}}}});
        assert_eq!(combo(&new, "KSampler", "sampler_name").unwrap(), ["euler"]);
        assert!(combo(&json!({}), "KSampler", "sampler_name").is_err());
        let odd = json!({"KSampler": {"input": {"required": {"sampler_name": ["INT", {}]}}}});
        assert!(combo(&odd, "KSampler", "sampler_name").is_err());
    }

    #[test]
    fn preview_frames_of_both_kinds_are_read_and_odd_ones_ignored() {
        let mut old = 1u32.to_be_bytes().to_vec();
        old.extend_from_slice(&2u32.to_be_bytes());
        old.extend_from_slice(b"PNGDATA");
        assert!(matches!(preview(&old), Some(Event::Preview(b, None)) if b == b"PNGDATA"));
        let meta = br#"{"prompt_id":"p1","image_type":"image/png"}"#;
        let mut new = 4u32.to_be_bytes().to_vec();
        new.extend_from_slice(&(meta.len() as u32).to_be_bytes());
        new.extend_from_slice(meta);
        new.extend_from_slice(b"JPEG");
        assert!(
            matches!(preview(&new), Some(Event::Preview(b, Some(p))) if b == b"JPEG" && p == "p1")
        );
        assert!(preview(&[0, 0]).is_none());
        let mut cut = 4u32.to_be_bytes().to_vec();
        cut.extend_from_slice(&1000u32.to_be_bytes());
        assert!(preview(&cut).is_none());
        assert!(preview(&3u32.to_be_bytes()).is_none());
    }

    #[test]
    fn names_stems_and_encoding() {
        assert_eq!(
            file_stem("SDXL/juggernautXL_v9.safetensors"),
            "juggernautXL_v9"
        );
        assert_eq!(file_stem("a\\b.ckpt"), "b");
        assert_eq!(file_stem("plain"), "plain");
        assert_eq!(encode("my run/a&b=c d.png"), "my%20run%2Fa%26b%3Dc%20d.png");
        assert!((0..=u32::MAX as i64).contains(&random_seed()));
        let summary = node_errors_summary(&json!({"4": {"class_type": "CheckpointLoaderSimple", "errors": [{"message": "Value not in list", "details": "ckpt_name: 'x' not in []"}]}})).unwrap();
        assert_eq!(
            summary,
            "CheckpointLoaderSimple \"4\": Value not in list: ckpt_name: 'x' not in []"
        );
        assert!(node_errors_summary(&json!({})).is_none());
    }
}
