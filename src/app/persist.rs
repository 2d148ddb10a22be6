//! What the app remembers between runs (through eframe persistence, per data folder).

use super::state::ThemeChoice;
use crate::history::{HistoryFilter, SortColumn};
use crate::run_config::GenerationSettings;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What survives a restart (through eframe persistence).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Persisted {
    pub packs_dir: Option<PathBuf>,
    pub filter: HistoryFilter,
    pub sort_column: SortColumn,
    pub sort_descending: Option<bool>,
    pub theme: ThemeChoice,
    pub settings: Option<GenerationSettings>,
    pub random_seed: Option<bool>,
}
