//! Prompt packs: the types, loading one pack, and discovering every pack in a folder.
//!
//! One file per format (`txt`, `tsv`, `keyed_json`, `unified_json`, and the style sources
//! `styles_csv`, `styles_json`, `invokeai_presets`, `swarmui_presets`), the inline
//! prompt syntax in `syntax`, companion merging and the folder scan in `discover`, and in
//! `entry` the checks that keep a folder entry that is no regular file (a FIFO, a device, a
//! link loop, ...) from ever being opened.

pub mod bundled;
mod discover;
mod entry;
mod error;
pub mod invokeai_presets;
pub mod keyed_json;
pub mod labels;
pub mod styles_csv;
pub mod styles_json;
pub mod swarmui_presets;
pub mod syntax;
pub mod tsv;
pub mod txt;
pub mod unified_json;

pub use discover::{DiscoveredPacks, discover_packs, load_pack, load_pack_reporting};
pub use entry::{check_regular_file, open_pack_file};
pub use error::{EntryKind, NotAFile, PackError, PackErrorKind, escape_control};
pub use labels::{PromptLabel, matrix_slot, prompt_labels};
pub use syntax::{Embedding, Lora, PromptTokens, normalize_matrix_name, parse_prompt_tokens};

use crate::settings_override::SettingsOverride;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// Files larger than this are refused.
pub const MAX_PACK_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The extensions of pack files (matched in any case), in the order companions sharing a stem
/// are preferred in: the `.json` is the richest.
pub const PACK_EXTENSIONS: [&str; 4] = ["json", "txt", "tsv", "csv"];

/// True when `path` has one of the [`PACK_EXTENSIONS`] (any case).
pub fn has_pack_extension(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PACK_EXTENSIONS.iter().any(|p| e.eq_ignore_ascii_case(p)))
}

/// Which file format a pack's prompts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackFormat {
    /// `{"prompts": {key: text | {"prompt", "negative_prompt"}}}`
    KeyedJson,
    /// StableNew v2.6 `{"pack_data": {"slots": [...]}, "preset_data": {...}}`
    UnifiedJson,
    /// StableNew `.txt` blocks.
    Txt,
    /// `positive<TAB>negative` lines.
    Tsv,
    /// AUTOMATIC1111 `styles.csv`.
    StylesCsv,
    /// The JSON list of styles `[{"name", "prompt", "negative_prompt"}]` (ComfyUI SDXL Prompt
    /// Styler, Fooocus).
    StylesJson,
    /// InvokeAI style presets `[{"name", "preset_data": {"positive_prompt",
    /// "negative_prompt"}}]`, or InvokeAI's import list with `positive_prompt`.
    #[serde(rename = "invokeai_presets")]
    InvokeAiPresets,
    /// SwarmUI presets `{key: {"title", "param_map": {"prompt", "negativeprompt"}}}`.
    #[serde(rename = "swarmui_presets")]
    SwarmUiPresets,
}

impl PackFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PackFormat::KeyedJson => "keyed-json",
            PackFormat::UnifiedJson => "unified-json",
            PackFormat::Txt => "txt",
            PackFormat::Tsv => "tsv",
            PackFormat::StylesCsv => "styles-csv",
            PackFormat::StylesJson => "styles-json",
            PackFormat::InvokeAiPresets => "invokeai-presets",
            PackFormat::SwarmUiPresets => "swarmui-presets",
        }
    }

    /// True for the formats whose prompts are styles (modifiers applied to a prompt, see
    /// [`crate::styles`]): A1111 `styles.csv`, the JSON list of styles, InvokeAI and SwarmUI
    /// presets. Their texts keep the `{prompt}` / `{value}` placeholder as written.
    pub fn is_style_source(self) -> bool {
        match self {
            PackFormat::StylesCsv
            | PackFormat::StylesJson
            | PackFormat::InvokeAiPresets
            | PackFormat::SwarmUiPresets => true,
            PackFormat::KeyedJson | PackFormat::UnifiedJson | PackFormat::Txt | PackFormat::Tsv => {
                false
            }
        }
    }
}

impl fmt::Display for PackFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One prompt of a pack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PackPrompt {
    /// The key a RunConfig names it by: the entry name (keyed JSON, styles.csv) or the
    /// 1-based row number as a string (.txt, .tsv, unified .json slots).
    pub key: String,
    /// An optional display name (a unified slot's `name`).
    pub label: Option<String>,
    pub positive: String,
    pub negative: String,
    /// LoRAs named in the positive or negative text (or a unified slot's `loras`).
    pub loras: Vec<Lora>,
    /// Embeddings named in the positive or negative text.
    pub embeddings: Vec<Embedding>,
    /// `[[name]]` matrix token names, as written, first occurrence order.
    pub matrix_tokens: Vec<String>,
    /// `__name__` wildcard names, first occurrence order.
    pub wildcards: Vec<String>,
    /// 1-based line in the source file where the prompt starts, where known.
    pub line: Option<usize>,
}

impl PackPrompt {
    /// Builds a prompt from its texts, parsing LoRAs, embeddings, matrix tokens and wildcards.
    pub fn from_texts(
        key: impl Into<String>,
        positive: impl Into<String>,
        negative: impl Into<String>,
        line: Option<usize>,
    ) -> Result<PackPrompt, PackErrorKind> {
        let positive = positive.into();
        let negative = negative.into();
        let mut tokens = parse_prompt_tokens(&positive)?;
        tokens.merge(parse_prompt_tokens(&negative)?);
        Ok(PackPrompt {
            key: key.into(),
            label: None,
            positive,
            negative,
            loras: tokens.loras,
            embeddings: tokens.embeddings,
            matrix_tokens: tokens.matrix_tokens,
            wildcards: tokens.wildcards,
            line,
        })
    }

    /// The first few words of the positive prompt, with markup left out, for labels.
    pub fn summary(&self, max_chars: usize) -> String {
        let mut out = String::new();
        for word in self.positive.split_whitespace() {
            if word.starts_with('<') || word.starts_with("(<") {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
            if out.chars().count() >= max_chars {
                let cut: String = out.chars().take(max_chars).collect();
                return format!("{}…", cut.trim_end());
            }
        }
        out
    }
}

/// A `[[name]]` matrix slot of a unified pack: the values the token takes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MatrixSlot {
    pub name: String,
    pub values: Vec<String>,
}

/// The matrix settings of a unified pack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MatrixConfig {
    pub enabled: bool,
    pub mode: String,
    pub limit: u32,
    pub slots: Vec<MatrixSlot>,
}

/// Generation defaults a pack carries (StableNew `preset_data.txt2img`, or the stage settings
/// of a v1 companion `.json`). Only the settings the pack names are set; [`apply_to`] lays them
/// over a run's settings and [`from_txt2img`] reads them.
///
/// [`apply_to`]: SettingsOverride::apply_to
/// [`from_txt2img`]: SettingsOverride::from_txt2img
pub type PackDefaults = SettingsOverride;

/// A prompt pack: one stem in the packs folder, from one or more companion files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptPack {
    /// The file stem, case and spaces kept.
    pub id: String,
    /// Display name (a unified pack's `pack_data.name`, a keyed pack's `name`, else the id).
    pub name: String,
    /// Every file the pack was read from (prompts file first).
    pub paths: Vec<PathBuf>,
    /// The format its prompts came from.
    pub format: Option<PackFormat>,
    /// Generation defaults, from the `.json` companion where there is one.
    pub defaults: PackDefaults,
    /// Matrix slots of a unified pack.
    pub matrix: Option<MatrixConfig>,
    /// Prompts in file order.
    pub prompts: Vec<PackPrompt>,
    /// What was read with a guess (e.g. `<lora:name:abc>` read as weight 1.0), naming the file
    /// and line: the pack loads, and the user is told.
    #[serde(skip)]
    pub warnings: Vec<PackError>,
}

impl PromptPack {
    /// The prompt keys, in file order.
    pub fn keys(&self) -> Vec<&str> {
        self.prompts.iter().map(|p| p.key.as_str()).collect()
    }

    /// The prompt with this key.
    pub fn get(&self, key: &str) -> Option<&PackPrompt> {
        self.prompts.iter().find(|p| p.key == key)
    }

    /// The format as text, `"?"` when unknown.
    pub fn format_name(&self) -> &'static str {
        self.format.map_or("?", PackFormat::as_str)
    }
}

/// What one format parser returns for one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFile {
    /// Display name the file declares, if any.
    pub name: Option<String>,
    pub prompts: Vec<PackPrompt>,
    pub defaults: PackDefaults,
    pub matrix: Option<MatrixConfig>,
    /// What was read with a guess (see [`PromptPack::warnings`]).
    pub warnings: Vec<PackError>,
}
