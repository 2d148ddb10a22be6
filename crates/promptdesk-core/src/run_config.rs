//! The prompt-origin contract: where a run's prompt came from, and the settings it ran with.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
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
        hash_value(&value)
    }
}

/// Hex SHA-256 of the canonical JSON of `value`.
fn hash_value(value: &Value) -> String {
    let mut canonical = String::with_capacity(256);
    write_canonical_json(value, &mut canonical);
    let digest = Sha256::digest(canonical.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        use fmt::Write;
        let _ = write!(out, "{byte:02x}");
    }
    out
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

/// A style applied to a run's prompts: the style source (the id of the pack it comes from,
/// e.g. an A1111 `styles.csv`) and the style's name (its key in that pack).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StyleRef {
    pub source: String,
    pub name: String,
}

impl StyleRef {
    pub fn new(source: impl Into<String>, name: impl Into<String>) -> StyleRef {
        StyleRef {
            source: source.into(),
            name: name.into(),
        }
    }

    /// Parses `PACK:NAME` (split at the first `:`; the name may hold more).
    pub fn parse(text: &str) -> Option<StyleRef> {
        let (source, name) = text.split_once(':')?;
        (!source.is_empty() && !name.is_empty()).then(|| StyleRef::new(source, name))
    }
}

impl fmt::Display for StyleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.name)
    }
}

/// One request exactly as a run sends it to a backend: styles applied, matrix tokens,
/// wildcards and `{a|b}` variants replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderedRequest {
    /// The pack key the request comes from; empty for a manual prompt.
    pub key: String,
    /// 1-based number of this request among the requests of the same key.
    pub variant: u32,
    pub prompt: String,
    pub negative_prompt: String,
    /// The value chosen for each token, keyed by the token as written (`[[season]]`,
    /// `__weather__`, `{a|b|c}`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
}

/// The `prompt_payload` keys that hold what a run renders and sends (beside the prompts as
/// written). They live in the payload so that the RunConfig's fields stay the contract's.
pub mod payload_keys {
    /// `[{"source", "name"}]`: the styles applied, in order.
    pub const STYLES: &str = "styles";
    /// The seed wildcard and `{a|b}` draws were made with.
    pub const WILDCARD_SEED: &str = "wildcard_seed";
    /// `[{"key", "variant", "prompt", "negative_prompt", "values"}]`: every request sent.
    pub const RENDERED: &str = "rendered";
    /// `[name]`: [`super::GenerationSettings`] fields the source never recorded.
    pub const UNKNOWN_SETTINGS: &str = "unknown_settings";
}

/// Everything a run needs: its prompt origin, the prompts themselves and the settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunConfig {
    pub prompt_source: PromptSource,
    pub prompt_pack_id: Option<String>,
    pub prompt_keys: Vec<String>,
    /// Minimal prompt information: for a pack `{"pack_id", "prompts": {key: {"prompt",
    /// "negative_prompt"}}}`, for a manual run `{"prompt", "negative_prompt"}`: the text as
    /// written (tokens kept). Beside it, under [`payload_keys`]: the styles applied, the
    /// wildcard seed, every rendered request (what is sent) and the settings never recorded.
    pub prompt_payload: Map<String, Value>,
    pub run_mode: RunMode,
    pub source: RunSource,
    pub settings: GenerationSettings,
}

fn payload_list<T: serde::de::DeserializeOwned>(payload: &Map<String, Value>, key: &str) -> Vec<T> {
    payload
        .get(key)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

fn set_payload_list<T: Serialize>(payload: &mut Map<String, Value>, key: &str, items: &[T]) {
    if items.is_empty() {
        payload.remove(key);
    } else {
        payload.insert(
            key.to_owned(),
            serde_json::to_value(items).expect("payload items always serialise"),
        );
    }
}

impl RunConfig {
    /// Hex SHA-256 of the canonical JSON of the generation settings only: two runs with the
    /// same settings share a hash whatever their prompts or origin. A setting named in
    /// [`RunConfig::unknown_settings`] is hashed as `null`, which no recorded setting ever is,
    /// so a record with unknown settings never shares a hash with a real one.
    pub fn config_hash(&self) -> String {
        let unknown = self.unknown_settings();
        if unknown.is_empty() {
            return self.settings.hash();
        }
        let mut value = serde_json::to_value(&self.settings).expect("settings always serialise");
        if let Value::Object(map) = &mut value {
            for name in unknown {
                map.insert(name, Value::Null);
            }
        }
        hash_value(&value)
    }

    /// The styles applied to the prompts, in the order applied.
    pub fn prompt_styles(&self) -> Vec<StyleRef> {
        payload_list(&self.prompt_payload, payload_keys::STYLES)
    }

    pub fn set_prompt_styles(&mut self, styles: &[StyleRef]) {
        set_payload_list(&mut self.prompt_payload, payload_keys::STYLES, styles);
    }

    /// The seed wildcard and `{a|b}` draws were made with, when any were made.
    pub fn wildcard_seed(&self) -> Option<u64> {
        self.prompt_payload
            .get(payload_keys::WILDCARD_SEED)
            .and_then(Value::as_u64)
    }

    pub fn set_wildcard_seed(&mut self, seed: Option<u64>) {
        match seed {
            Some(seed) => {
                self.prompt_payload
                    .insert(payload_keys::WILDCARD_SEED.to_owned(), Value::from(seed));
            }
            None => {
                self.prompt_payload.remove(payload_keys::WILDCARD_SEED);
            }
        }
    }

    /// Every request the run sends, in order, as recorded. Empty in records made before
    /// rendering existed and in imports: see [`RunConfig::requests`].
    pub fn rendered(&self) -> Vec<RenderedRequest> {
        payload_list(&self.prompt_payload, payload_keys::RENDERED)
    }

    pub fn set_rendered(&mut self, requests: &[RenderedRequest]) {
        set_payload_list(&mut self.prompt_payload, payload_keys::RENDERED, requests);
    }

    /// Names of [`GenerationSettings`] fields the source never recorded (an import from a tool
    /// that did not keep them): their values are placeholders, shown as "—", left out of
    /// infotext and CSV, and they keep the config hash from ever equalling a real one.
    pub fn unknown_settings(&self) -> Vec<String> {
        payload_list(&self.prompt_payload, payload_keys::UNKNOWN_SETTINGS)
    }

    pub fn set_unknown_settings(&mut self, names: &[String]) {
        set_payload_list(
            &mut self.prompt_payload,
            payload_keys::UNKNOWN_SETTINGS,
            names,
        );
    }

    /// True when the source never recorded the setting `name` (a [`GenerationSettings`]
    /// field name).
    pub fn is_setting_unknown(&self, name: &str) -> bool {
        self.unknown_settings().iter().any(|n| n == name)
    }

    /// What the run asks for, one request per entry: the rendered requests when there are
    /// any, else the prompt pairs as recorded (key empty for a manual prompt).
    pub fn requests(&self) -> Vec<RenderedRequest> {
        let rendered = self.rendered();
        if !rendered.is_empty() {
            return rendered;
        }
        let keys: Vec<String> = if self.prompt_source == PromptSource::Pack {
            if self.prompt_keys.is_empty() {
                self.prompt_payload
                    .get("prompts")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default()
            } else {
                self.prompt_keys.clone()
            }
        } else {
            Vec::new()
        };
        self.prompt_pairs()
            .into_iter()
            .enumerate()
            .map(|(i, (prompt, negative_prompt))| RenderedRequest {
                key: keys.get(i).cloned().unwrap_or_default(),
                variant: 1,
                prompt,
                negative_prompt,
                values: BTreeMap::new(),
            })
            .collect()
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
