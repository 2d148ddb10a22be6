//! Where promptdesk keeps its data: the data folder, the history file and the packs folder.

use std::path::{Path, PathBuf};

/// The environment variable that overrides the data folder.
pub const DATA_DIR_ENV: &str = "PROMPTDESK_DATA_DIR";
/// The history file's name inside the data folder.
pub const HISTORY_FILE_NAME: &str = "history.jsonl";
/// The quarantine file's name inside the data folder (damaged history lines, kept verbatim).
pub const QUARANTINE_FILE_NAME: &str = "history.quarantine.jsonl";
/// The packs folder's name inside the data folder.
pub const PACKS_DIR_NAME: &str = "packs";

/// The data folder: `explicit` (from `--data-dir`), else `$PROMPTDESK_DATA_DIR`, else the
/// platform data directory (`~/.local/share/promptdesk` on Linux,
/// `~/Library/Application Support/promptdesk` on macOS, `%APPDATA%\promptdesk\data` on
/// Windows), else `./promptdesk-data` when the platform has no home directory.
pub fn resolve_data_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "promptdesk")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("promptdesk-data"))
}

/// The history file inside a data folder.
pub fn history_path(data_dir: &Path) -> PathBuf {
    data_dir.join(HISTORY_FILE_NAME)
}

/// The packs folder: `explicit` (from `--packs-dir`) or `packs` inside the data folder.
pub fn resolve_packs_dir(data_dir: &Path, explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.join(PACKS_DIR_NAME))
}
