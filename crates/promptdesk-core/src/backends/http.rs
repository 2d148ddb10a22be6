//! The HTTP calls both clients make, with errors mapped to [`BackendError`] (naming the
//! backend and the URL) and bodies read up to [`MAX_BODY`] (an A1111 answer with many images
//! is far over ureq's 10 MB default).

// The clients being written use all of it.
#![allow(dead_code)]

use super::{BackendConfig, BackendError};
use base64::Engine as _;
use serde_json::Value;
use std::time::Duration;

/// The largest answer read: hundreds of MB of base64 images fit.
pub(crate) const MAX_BODY: u64 = 1 << 30;
/// How long a short call (catalogues, progress, ping) may take.
pub(crate) const SHORT_TIMEOUT: Duration = Duration::from_secs(15);

pub(crate) struct Http {
    agent: ureq::Agent,
    base: String,
    auth: Option<String>,
    backend: String,
}

/// How long a call may take.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wait {
    /// [`SHORT_TIMEOUT`].
    Short,
    /// No limit on the answer (generation blocks until done; stalls are caught by progress).
    Long,
}

impl Http {
    pub(crate) fn new(config: &BackendConfig) -> Http {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .build()
            .into();
        let auth = config.user.as_ref().map(|user| {
            let pair = format!("{user}:{}", config.password.as_deref().unwrap_or(""));
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        Http {
            agent,
            base: config.base_url().to_owned(),
            auth,
            backend: config.name.clone(),
        }
    }

    /// The `Authorization` header value, when the backend has a user (the ComfyUI socket
    /// sends it too).
    pub(crate) fn auth_header(&self) -> Option<&str> {
        self.auth.as_deref()
    }

    pub(crate) fn backend(&self) -> &str {
        &self.backend
    }

    /// The full URL of a path (`/sdapi/v1/progress`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn get_json(&self, path: &str) -> Result<Value, BackendError> {
        let url = self.url(path);
        let bytes = self.get_bytes(path)?;
        self.parse_json(&url, &bytes)
    }

    pub(crate) fn get_bytes(&self, path: &str) -> Result<Vec<u8>, BackendError> {
        self.get_bytes_within(path, SHORT_TIMEOUT)
    }

    /// [`Http::get_json`] giving up after `timeout` (a progress poll must not hold up a
    /// cancel or a stall check for the whole short timeout).
    pub(crate) fn get_json_within(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<Value, BackendError> {
        let url = self.url(path);
        let bytes = self.get_bytes_within(path, timeout)?;
        self.parse_json(&url, &bytes)
    }

    pub(crate) fn get_bytes_within(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<Vec<u8>, BackendError> {
        let url = self.url(path);
        let mut req = self
            .agent
            .get(&url)
            .config()
            .timeout_global(Some(timeout))
            .build();
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let resp = req.call().map_err(|e| self.transport(&url, e))?;
        self.read(&url, resp, &|_| None)
    }

    pub(crate) fn post_json(
        &self,
        path: &str,
        body: &Value,
        wait: Wait,
    ) -> Result<Value, BackendError> {
        self.post_json_detailed(path, body, wait, &|_| None)
    }

    /// [`Http::post_json`] where an error answer's message gets `detail(body)` added in
    /// brackets (ComfyUI's node errors).
    pub(crate) fn post_json_detailed(
        &self,
        path: &str,
        body: &Value,
        wait: Wait,
        detail: &dyn Fn(&[u8]) -> Option<String>,
    ) -> Result<Value, BackendError> {
        let url = self.url(path);
        let payload = serde_json::to_vec(body).expect("JSON values always serialise");
        let timeout = match wait {
            Wait::Short => Some(SHORT_TIMEOUT),
            Wait::Long => None,
        };
        let mut req = self
            .agent
            .post(&url)
            .config()
            .timeout_global(timeout)
            .build()
            .header("Content-Type", "application/json");
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let resp = req
            .send(&payload[..])
            .map_err(|e| self.transport(&url, e))?;
        let bytes = self.read(&url, resp, detail)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        self.parse_json(&url, &bytes)
    }

    pub(crate) fn parse_json(&self, url: &str, bytes: &[u8]) -> Result<Value, BackendError> {
        serde_json::from_slice(bytes).map_err(|e| BackendError::Malformed {
            backend: self.backend.clone(),
            url: url.to_owned(),
            reason: if e.is_eof() {
                format!("the JSON is cut short ({} bytes read)", bytes.len())
            } else {
                format!("not valid JSON: {e}")
            },
        })
    }

    pub(crate) fn malformed(&self, url: &str, reason: impl Into<String>) -> BackendError {
        BackendError::Malformed {
            backend: self.backend.clone(),
            url: url.to_owned(),
            reason: reason.into(),
        }
    }

    /// The body of a 2xx answer; any other status becomes the matching error, with the
    /// server's own message taken from its JSON body (`detail`, `errors`, `error.message`).
    fn read(
        &self,
        url: &str,
        resp: ureq::http::Response<ureq::Body>,
        detail: &dyn Fn(&[u8]) -> Option<String>,
    ) -> Result<Vec<u8>, BackendError> {
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::Timeout(t) => BackendError::Timeout {
                    backend: self.backend.clone(),
                    url: url.to_owned(),
                    reason: format!("reading the answer: {t}"),
                },
                other => self.malformed(url, format!("the answer was cut short: {other}")),
            })?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        if status == 401 {
            return Err(BackendError::Unauthorized {
                backend: self.backend.clone(),
                url: url.to_owned(),
            });
        }
        let mut message = error_message(&body);
        if let Some(extra) = detail(&body) {
            message.push_str(&format!(" ({extra})"));
        }
        if message.to_ascii_lowercase().contains("out of memory") {
            return Err(BackendError::OutOfMemory {
                backend: self.backend.clone(),
                message,
            });
        }
        Err(BackendError::Rejected {
            backend: self.backend.clone(),
            url: url.to_owned(),
            status,
            message,
        })
    }

    fn transport(&self, url: &str, e: ureq::Error) -> BackendError {
        let backend = self.backend.clone();
        let url = url.to_owned();
        match e {
            ureq::Error::Timeout(t) => BackendError::Timeout {
                backend,
                url,
                reason: t.to_string(),
            },
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                BackendError::Timeout {
                    backend,
                    url,
                    reason: io.to_string(),
                }
            }
            ureq::Error::Io(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::ConnectionAborted
                ) =>
            {
                // The server took the request and closed: it may have died mid-request.
                BackendError::Lost {
                    backend,
                    url,
                    reason: format!("the connection was closed ({io})"),
                }
            }
            ureq::Error::Io(io) => BackendError::Unreachable {
                backend,
                url,
                reason: io.to_string(),
            },
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
                BackendError::Unreachable {
                    backend,
                    url,
                    reason: e.to_string(),
                }
            }
            other => BackendError::Malformed {
                backend,
                url,
                reason: other.to_string(),
            },
        }
    }
}

/// The message in an error body: A1111's `{"error", "detail", "errors"}` (the exception
/// text is in `errors`), FastAPI's `{"detail": ...}`, ComfyUI's `{"error": {"message",
/// "details"}}`; else the body's text (shortened).
pub(crate) fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let text = |v: &Value| -> Option<String> {
            match v {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Null => None,
                Value::String(_) => None,
                other => Some(other.to_string()),
            }
        };
        if let Some(s) = v.get("errors").and_then(text) {
            return s;
        }
        if let Some(s) = v.get("detail").and_then(text) {
            return s;
        }
        if let Some(err) = v.get("error") {
            if let Some(m) = err.get("message").and_then(text) {
                let details = err.get("details").and_then(text);
                return match details {
                    Some(d) => format!("{m}: {d}"),
                    None => m,
                };
            }
            if let Some(s) = text(err) {
                return s;
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(no message)".into();
    }
    text.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::error_message;

    #[test]
    fn server_messages_are_found_in_each_tool_s_error_shape() {
        assert_eq!(
            error_message(br#"{"error":"OutOfMemoryError","detail":"","body":"","errors":"CUDA out of memory. Tried to allocate 2.00 GiB"}"#),
            "CUDA out of memory. Tried to allocate 2.00 GiB"
        );
        assert_eq!(
            error_message(br#"{"detail":"Sampler not found"}"#),
            "Sampler not found"
        );
        assert_eq!(
            error_message(br#"{"error":{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"ckpt missing","extra_info":{}},"node_errors":{}}"#),
            "Prompt outputs failed validation: ckpt missing"
        );
        assert_eq!(
            error_message(b"Internal Server Error"),
            "Internal Server Error"
        );
    }
}
