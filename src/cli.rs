//! Headless subcommands (stub, being written).

use std::path::PathBuf;

/// What `main` should do after parsing the command line.
pub enum Outcome {
    /// Start the desktop app with these folders.
    Gui { data_dir: PathBuf, packs_dir: PathBuf },
    /// A subcommand ran; exit with this code.
    Exit(i32),
}

/// Parses the command line and runs a subcommand, or says to start the GUI.
pub fn run() -> Outcome {
    let data_dir = crate::paths::resolve_data_dir(None);
    let packs_dir = crate::paths::resolve_packs_dir(&data_dir, None);
    Outcome::Gui { data_dir, packs_dir }
}
