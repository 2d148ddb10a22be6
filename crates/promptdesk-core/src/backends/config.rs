//! The configured backends: `backends.json` in the data folder.
//!
//! The file holds passwords in plain text, so it is written with mode 0600 (owner only) and
//! atomically. Fields and entries a newer version added are kept when this version saves.

use crate::fsutil;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The file's name inside the data folder.
pub const BACKENDS_FILE_NAME: &str = "backends.json";
/// The folder (inside the data folder) holding ComfyUI workflows in API format.
pub const WORKFLOWS_DIR_NAME: &str = "workflows";

/// Which API a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BackendKind {
    /// AUTOMATIC1111's WebUI, SD WebUI Forge, reForge: `/sdapi/v1/...`.
    #[serde(rename = "a1111")]
    A1111,
    /// ComfyUI: `/prompt`, `/ws`, `/history`, `/view`.
    #[serde(rename = "comfyui")]
    ComfyUi,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::A1111 => "a1111",
            BackendKind::ComfyUi => "comfyui",
        }
    }

    /// `a1111` (also `forge`, `reforge`, `automatic1111`) or `comfyui` (also `comfy`), any case.
    pub fn parse(text: &str) -> Option<BackendKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "a1111" | "automatic1111" | "forge" | "reforge" | "sdwebui" => Some(BackendKind::A1111),
            "comfyui" | "comfy" => Some(BackendKind::ComfyUi),
            _ => None,
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One configured backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendConfig {
    /// The user's name for it (unique); records say which backend ran a job by this name.
    pub name: String,
    pub kind: BackendKind,
    /// `http://127.0.0.1:7860` (A1111) or `http://127.0.0.1:8188` (ComfyUI).
    pub url: String,
    /// HTTP Basic user and password (A1111's `--api-auth`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// ComfyUI: a workflow in API format, a file name in `workflows/` or a path; unset = the
    /// built-in txt2img graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// Fields a newer version wrote, kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl BackendConfig {
    pub fn new(name: &str, kind: BackendKind, url: &str) -> BackendConfig {
        BackendConfig {
            name: name.to_owned(),
            kind,
            url: normalize_url(url),
            user: None,
            password: None,
            workflow: None,
            extra: Map::new(),
        }
    }

    /// The URL without a trailing `/`.
    pub fn base_url(&self) -> &str {
        self.url.trim_end_matches('/')
    }
}

/// `127.0.0.1:7860` → `http://127.0.0.1:7860`; trailing `/` removed.
pub fn normalize_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

/// Checks a URL a user typed: `http` or `https`, a host, no credentials in it.
pub fn check_url(url: &str) -> Result<(), String> {
    let url = normalize_url(url);
    let (scheme, rest) = url.split_once("://").unwrap_or(("", &url));
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "{url}: only http:// and https:// URLs are supported"
        ));
    }
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err(format!("{url}: the URL has no host"));
    }
    if host.contains('@') {
        return Err(format!(
            "{url}: put the user and password in --user and --password, not in the URL"
        ));
    }
    Ok(())
}

/// The backends file: every configured backend, in the user's order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackendsFile {
    #[serde(default)]
    pub backends: Vec<BackendConfig>,
    /// Fields a newer version wrote, kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Why the backends file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}", path = .path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: this is not a backends file promptdesk can read ({reason}); it was left as it is", path = .path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("{0}")]
    Rejected(String),
}

impl BackendsFile {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(BACKENDS_FILE_NAME)
    }

    /// The backends configured in `data_dir` (none when there is no file yet).
    pub fn load(data_dir: &Path) -> Result<BackendsFile, ConfigError> {
        let path = BackendsFile::path(data_dir);
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BackendsFile::default()),
            Err(source) => return Err(ConfigError::Io { path, source }),
        };
        serde_json::from_slice(&text).map_err(|e| ConfigError::Invalid {
            path,
            reason: e.to_string(),
        })
    }

    /// Writes the file atomically with mode 0600 (it may hold passwords).
    pub fn save(&self, data_dir: &Path) -> Result<(), ConfigError> {
        let path = BackendsFile::path(data_dir);
        let io_err = |source| ConfigError::Io {
            path: path.clone(),
            source,
        };
        fsutil::create_private_dir_all(data_dir).map_err(io_err)?;
        let mut text = serde_json::to_vec_pretty(self).expect("backends always serialise");
        text.push(b'\n');
        fsutil::write_atomically(&path, |f| f.write_all(&text)).map_err(io_err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(io_err)?;
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&BackendConfig> {
        self.backends.iter().find(|b| b.name == name)
    }

    /// Adds a backend, or replaces the one with its name. Checks the name and URL.
    pub fn upsert(&mut self, backend: BackendConfig) -> Result<(), ConfigError> {
        if backend.name.trim().is_empty() {
            return Err(ConfigError::Rejected("a backend needs a name".into()));
        }
        check_url(&backend.url).map_err(ConfigError::Rejected)?;
        match self.backends.iter_mut().find(|b| b.name == backend.name) {
            Some(slot) => *slot = backend,
            None => self.backends.push(backend),
        }
        Ok(())
    }

    /// Removes a backend by name; false when there is none.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.backends.len();
        self.backends.retain(|b| b.name != name);
        self.backends.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_private_and_newer_fields_survive() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            BackendsFile::path(dir.path()),
            r#"{"backends":[{"name":"a","kind":"a1111","url":"http://h:7860","gpu":"4090"}],"version":9}"#,
        )
        .unwrap();
        let mut file = BackendsFile::load(dir.path()).unwrap();
        let mut c = BackendConfig::new("c", BackendKind::ComfyUi, "127.0.0.1:8188/");
        c.password = Some("pw".into());
        file.upsert(c).unwrap();
        file.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(BackendsFile::path(dir.path())).unwrap();
        assert!(text.contains("\"gpu\": \"4090\""), "{text}");
        assert!(text.contains("\"version\": 9"), "{text}");
        let again = BackendsFile::load(dir.path()).unwrap();
        assert_eq!(again.get("c").unwrap().url, "http://127.0.0.1:8188");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(BackendsFile::path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn bad_urls_and_a_damaged_file_are_refused_with_reasons() {
        let mut file = BackendsFile::default();
        let e = file
            .upsert(BackendConfig::new(
                "x",
                BackendKind::A1111,
                "http://u:p@h:7860",
            ))
            .unwrap_err();
        assert!(e.to_string().contains("--user"), "{e}");
        let e = file
            .upsert(BackendConfig::new("x", BackendKind::A1111, "ftp://h"))
            .unwrap_err();
        assert!(e.to_string().contains("http://"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(BackendsFile::path(dir.path()), "{not json").unwrap();
        let e = BackendsFile::load(dir.path()).unwrap_err();
        assert!(e.to_string().contains("backends.json"), "{e}");
    }
}
