//! The prompt-origin contract: where a run's prompt came from, and the settings it ran with.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;

/// Where the prompt of a run came from.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PromptSource {
    /// Typed ad hoc by the user.
    #[default]
    Manual,
    /// Taken from a prompt pack (see `prompt_pack_id` and `prompt_keys`).
    Pack,
}

impl PromptSource {
    /// `"manual"` or `"pack"`, the same text serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            PromptSource::Manual => "manual",
            PromptSource::Pack => "pack",
        }
    }

    /// Parses `"manual"` / `"pack"` (any case).
    pub fn parse(text: &str) -> Option<PromptSource> {
        if text.eq_ignore_ascii_case("manual") {
            Some(PromptSource::Manual)
        } else if text.eq_ignore_ascii_case("pack") {
            Some(PromptSource::Pack)
        } else {
            None
        }
    }
}

impl fmt::Display for PromptSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for PromptSource {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for PromptSource {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// How a job is run: straight away or through the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    #[default]
    Direct,
    Queue,
}

impl RunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::Direct => "direct",
            RunMode::Queue => "queue",
        }
    }
}

/// Which face of the program created a job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunSource {
    #[default]
    Gui,
    Cli,
    Api,
}

/// Another name for [`RunSource`].
pub type JobSource = RunSource;

impl RunSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RunSource::Gui => "gui",
            RunSource::Cli => "cli",
            RunSource::Api => "api",
        }
    }
}

/// The generation settings a Stable Diffusion user sets. These, and only these, feed
/// [`RunConfig::config_hash`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerationSettings {
    /// Checkpoint name, e.g. `sd_xl_base_1.0.safetensors`. Empty = the front end's current one.
    pub model: String,
    pub sampler: String,
    pub scheduler: String,
    pub steps: u32,
    pub cfg_scale: f64,
    pub width: u32,
    pub height: u32,
    /// `-1` means a random seed.
    pub seed: i64,
    pub batch_size: u32,
    pub batch_count: u32,
    pub clip_skip: u32,
}

impl Default for GenerationSettings {
    fn default() -> Self {
        GenerationSettings {
            model: String::new(),
            sampler: "Euler a".to_owned(),
            scheduler: "Automatic".to_owned(),
            steps: 20,
            cfg_scale: 7.0,
            width: 512,
            height: 512,
            seed: -1,
            batch_size: 1,
            batch_count: 1,
            clip_skip: 1,
        }
    }
}

impl GenerationSettings {
    /// Hex SHA-256 of the canonical JSON (sorted keys, compact) of these settings.
    pub fn hash(&self) -> String {
        let value = serde_json::to_value(self).expect("settings always serialise");
        let mut canonical = String::with_capacity(256);
        write_canonical_json(&value, &mut canonical);
        let digest = Sha256::digest(canonical.as_bytes());
        let mut out = String::with_capacity(64);
        for byte in digest {
            use fmt::Write;
            let _ = write!(out, "{byte:02x}");
        }
        out
    }
}

/// Writes `value` as compact JSON with every object's keys sorted.
pub fn write_canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical_json(&map[key.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical_json(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Everything a run needs: its prompt origin, the prompts themselves and the settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunConfig {
    pub prompt_source: PromptSource,
    pub prompt_pack_id: Option<String>,
    pub prompt_keys: Vec<String>,
    /// Minimal prompt information: for a pack `{"pack_id", "prompts": {key: {"prompt",
    /// "negative_prompt"}}}`, for a manual run `{"prompt", "negative_prompt"}`.
    pub prompt_payload: Map<String, Value>,
    pub run_mode: RunMode,
    pub source: RunSource,
    pub settings: GenerationSettings,
}

impl RunConfig {
    /// Hex SHA-256 of the canonical JSON of the generation settings only: two runs with the
    /// same settings share a hash whatever their prompts or origin.
    pub fn config_hash(&self) -> String {
        self.settings.hash()
    }

    /// The positive and negative prompts this config carries, one pair per selected key (pack)
    /// or a single pair (manual), read from `prompt_payload`.
    pub fn prompt_pairs(&self) -> Vec<(String, String)> {
        fn text(v: Option<&Value>) -> String {
            v.and_then(Value::as_str).unwrap_or_default().to_owned()
        }
        if let Some(prompts) = self
            .prompt_payload
            .get("prompts")
            .and_then(Value::as_object)
        {
            let mut pairs = Vec::with_capacity(prompts.len());
            let ordered: Vec<&String> = if self.prompt_keys.is_empty() {
                prompts.keys().collect()
            } else {
                self.prompt_keys.iter().collect()
            };
            for key in ordered {
                if let Some(entry) = prompts.get(key.as_str()) {
                    match entry {
                        Value::String(s) => pairs.push((s.clone(), String::new())),
                        other => pairs.push((
                            text(other.get("prompt")),
                            text(other.get("negative_prompt")),
                        )),
                    }
                }
            }
            pairs
        } else if self.prompt_payload.contains_key("prompt") {
            vec![(
                text(self.prompt_payload.get("prompt")),
                text(self.prompt_payload.get("negative_prompt")),
            )]
        } else {
            Vec::new()
        }
    }
}
