//! What every command gets: the data and packs folders the global flags chose, and the ways
//! to open the history and the packs from them.

use super::command_error::CommandError;
use crate::history::{HistoryError, HistoryStore};
use crate::packs::{DiscoveredPacks, discover_packs};
use std::path::PathBuf;

pub(crate) struct Context {
    pub(crate) data_dir: PathBuf,
    pub(crate) packs_dir: PathBuf,
    /// False when `--packs-dir` named the folder.
    pub(crate) packs_dir_is_default: bool,
}

impl Context {
    /// The history file in the data folder.
    pub(crate) fn history_path(&self) -> PathBuf {
        crate::paths::history_path(&self.data_dir)
    }

    /// The history for a command that writes it (created and repaired as needed).
    pub(crate) fn open_store(&self) -> Result<HistoryStore, CommandError> {
        Ok(HistoryStore::open(self.history_path())?)
    }

    /// The history for a command that only reads it: nothing is created, repaired or written.
    /// `None` when there is no history yet.
    pub(crate) fn open_store_read_only(&self) -> Result<Option<HistoryStore>, CommandError> {
        match HistoryStore::open_read_only(self.history_path()) {
            Ok(store) => Ok(Some(store)),
            Err(HistoryError::NoHistory { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// First use of the default packs folder: fill it with the bundled sample packs. A folder
    /// given with --packs-dir is never written to.
    pub(crate) fn ensure_sample_packs(&self) -> Result<(), CommandError> {
        if self.packs_dir_is_default && !self.packs_dir.exists() {
            crate::packs::bundled::install_sample_packs(&self.packs_dir).map_err(|e| {
                CommandError::failure(format!(
                    "{}: cannot install the sample packs: {e}",
                    self.packs_dir.display()
                ))
                .with_source(e)
            })?;
        }
        Ok(())
    }

    /// Every pack in the packs folder (bad input when the folder does not exist).
    pub(crate) fn discover(&self) -> Result<DiscoveredPacks, CommandError> {
        self.ensure_sample_packs()?;
        if !self.packs_dir.is_dir() {
            return Err(CommandError::usage(format!(
                "the packs folder {} does not exist",
                self.packs_dir.display()
            )));
        }
        Ok(discover_packs(&self.packs_dir))
    }
}
