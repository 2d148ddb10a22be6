//! The sample packs shipped inside the program (from `assets/packs/`), one per format, and
//! installing them into a packs folder without ever overwriting a user's file.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Every sample pack file: (file name, contents). `Architecture.json` is the settings-only
/// companion of `Architecture.txt`; `Landscapes.json` gives `Landscapes.txt` its settings and
/// the values of its `[[season]]` and `[[time_of_day]]` matrix tokens.
static SAMPLE_PACK_FILES: &[(&str, &str)] = &[
    (
        "Animals.tsv",
        include_str!("../../../../assets/packs/Animals.tsv"),
    ),
    (
        "Architecture.json",
        include_str!("../../../../assets/packs/Architecture.json"),
    ),
    (
        "Architecture.txt",
        include_str!("../../../../assets/packs/Architecture.txt"),
    ),
    (
        "Landscapes.json",
        include_str!("../../../../assets/packs/Landscapes.json"),
    ),
    (
        "Landscapes.txt",
        include_str!("../../../../assets/packs/Landscapes.txt"),
    ),
    (
        "Photo Styles.csv",
        include_str!("../../../../assets/packs/Photo Styles.csv"),
    ),
    (
        "Portraits.tsv",
        include_str!("../../../../assets/packs/Portraits.tsv"),
    ),
    (
        "Sci-Fi Vehicles.json",
        include_str!("../../../../assets/packs/Sci-Fi Vehicles.json"),
    ),
    (
        "Still Life.json",
        include_str!("../../../../assets/packs/Still Life.json"),
    ),
];

/// The sample wildcard files (`__weather__`, `__season__`), installed under `wildcards/` in
/// the packs folder: (path relative to the packs folder, contents).
static SAMPLE_WILDCARD_FILES: &[(&str, &str)] = &[
    (
        "wildcards/season.txt",
        include_str!("../../../../assets/packs/wildcards/season.txt"),
    ),
    (
        "wildcards/weather.txt",
        include_str!("../../../../assets/packs/wildcards/weather.txt"),
    ),
];

/// The sample wildcard files compiled into the program: (path under the packs folder,
/// contents).
pub fn sample_wildcard_files() -> &'static [(&'static str, &'static str)] {
    SAMPLE_WILDCARD_FILES
}

/// The sample pack files compiled into the program: (file name, contents).
pub fn sample_pack_files() -> &'static [(&'static str, &'static str)] {
    SAMPLE_PACK_FILES
}

/// The lower-cased stem of a file name (`"Still Life.json"` -> `"still life"`).
fn stem_key(name: &str) -> String {
    Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// Writes each sample pack file into `dir` (created if needed) and returns how many were
/// written. A file is skipped when `dir` already holds a file of that name, or a user's file
/// with the same stem in any case (it would become a companion of the sample and mix with the
/// user's pack); a user's file is never overwritten.
pub fn install_sample_packs(dir: &Path) -> io::Result<usize> {
    // The packs folder usually sits in the data folder: both private when we create them.
    crate::fsutil::create_private_dir_all(dir)?;
    // Stems of the user's own files, taken before anything is written: a sample's companions
    // (e.g. Architecture.txt + .json) install together.
    let mut user_stems = std::collections::HashSet::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        user_stems.insert(stem_key(&entry.file_name().to_string_lossy()));
    }
    let mut written = 0;
    for (name, contents) in SAMPLE_PACK_FILES {
        if user_stems.contains(&stem_key(name)) {
            continue;
        }
        // `create_new` fails if the file appeared meanwhile: never overwrite.
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(name))
        {
            Ok(mut file) => {
                file.write_all(contents.as_bytes())?;
                file.sync_all()?;
                written += 1;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    install_sample_wildcards(dir)?;
    Ok(written)
}

/// Writes the sample wildcard files under `dir/wildcards/` (created if needed), never over an
/// existing file; returns how many were written (not counted as packs by the caller).
fn install_sample_wildcards(dir: &Path) -> io::Result<usize> {
    let mut written = 0;
    for (rel, contents) in SAMPLE_WILDCARD_FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            crate::fsutil::create_private_dir_all(parent)?;
        }
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(contents.as_bytes())?;
                file.sync_all()?;
                written += 1;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}
