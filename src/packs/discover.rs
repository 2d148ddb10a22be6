//! Loading one pack (with its companions) and scanning a folder (stub, being written).

use super::{PackError, PackErrorKind, PromptPack};
use std::path::Path;

/// Every pack found in a folder, plus one error per bad file.
#[derive(Debug, Clone, Default)]
pub struct DiscoveredPacks {
    pub packs: Vec<PromptPack>,
    pub errors: Vec<PackError>,
}

/// Loads the pack at `path` together with its companion files (same stem, other extension).
pub fn load_pack(path: impl AsRef<Path>) -> Result<PromptPack, PackError> {
    Err(PackError::in_file(path.as_ref(), None, PackErrorKind::NoPrompts))
}

/// Finds every pack in `dir` (not recursive). A bad file never stops the scan.
pub fn discover_packs(dir: impl AsRef<Path>) -> DiscoveredPacks {
    let _ = dir;
    DiscoveredPacks::default()
}
