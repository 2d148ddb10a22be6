//! What the app remembers between runs (through eframe persistence, per data folder).

use super::composer::{LoadUndo, LoadedSettings};
use super::state::ThemeChoice;
use crate::history::{HistoryFilter, SortColumn};
use crate::run_config::{GenerationSettings, PromptSource};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What survives a restart (through eframe persistence). Every field has a default, so a file
/// saved by an older version (missing fields) still loads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Persisted {
    pub packs_dir: Option<PathBuf>,
    pub filter: HistoryFilter,
    pub sort_column: SortColumn,
    pub sort_descending: Option<bool>,
    pub theme: ThemeChoice,
    /// The user's own generation settings (never a pack's defaults laid over them).
    pub settings: Option<GenerationSettings>,
    /// The Random seed tick of the user's own settings.
    pub random_seed: Option<bool>,
    /// The composer's manual prompt (the draft).
    pub prompt: Option<String>,
    /// The composer's manual negative prompt.
    pub negative: Option<String>,
    /// Pack or Manual.
    pub mode: Option<PromptSource>,
    /// A loaded job's settings, still laid over the user's own (kept apart from them).
    pub loaded_settings: Option<LoadedSettings>,
    /// What Undo load brings back, the last load last.
    pub load_undo: Vec<LoadUndo>,
    /// The composer's load bar was hidden (Undo load stays beside Pack / Manual).
    pub load_bar_hidden: bool,
    /// The composer's chosen styles, in order.
    pub styles: Vec<crate::run_config::StyleRef>,
    /// The composer's draw seed (wildcards, `{a|b}`, random matrix).
    pub wildcard_seed: Option<u64>,
    /// The history table's thumbnail column is shown.
    pub history_thumbnails: bool,
    /// The Gallery's thumbnail size, in points.
    pub gallery_thumb_size: Option<f32>,
}
