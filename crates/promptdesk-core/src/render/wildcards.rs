//! Wildcard files: `wildcards/**/*.txt` in the packs folder, the Dynamic Prompts convention.
//!
//! `__name__` draws one line of `wildcards/name.txt`; a file in a sub-folder is `__dir/name__`.
//! Lines are trimmed; blank lines and lines starting with `#` are skipped. Names match as
//! written, else case-insensitively. Every file is read with the same care as a pack file: a
//! regular file (a FIFO, a device, a link loop is named and never opened), at most
//! [`MAX_PACK_FILE_BYTES`], UTF-8 (a BOM is dropped). A bad file is a [`WildcardError`] naming
//! it; the others still load. Linked folders are followed once (a folder link loop ends).

use crate::packs::{MAX_PACK_FILE_BYTES, open_pack_file};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The folder, under the packs folder, that holds the wildcard files.
pub const WILDCARDS_DIR: &str = "wildcards";

/// How deep sub-folders are followed.
const MAX_FOLDER_DEPTH: usize = 16;

/// The wildcard files of a packs folder: `wildcards/**/*.txt`, each by its name relative to
/// `wildcards/` without `.txt` (`weather`, `dir/name`), its usable lines in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wildcards {
    pub files: BTreeMap<String, Vec<String>>,
}

/// A wildcard file that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct WildcardError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for WildcardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for WildcardError {}

impl Wildcards {
    /// Reads `packs_dir/wildcards` (absent: no wildcards, no error).
    pub fn load(packs_dir: &Path) -> (Wildcards, Vec<WildcardError>) {
        let root = packs_dir.join(WILDCARDS_DIR);
        let mut found = Wildcards::default();
        let mut errors = Vec::new();
        if !root.is_dir() {
            return (found, errors);
        }
        let mut visited = HashSet::new();
        walk(&root, "", 0, &mut visited, &mut found.files, &mut errors);
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        (found, errors)
    }

    /// The lines of wildcard `name` (matched as written, then case-insensitively; `\` is read
    /// as `/`).
    pub fn get(&self, name: &str) -> Option<&[String]> {
        if let Some(lines) = self.files.get(name) {
            return Some(lines);
        }
        let folded = |s: &str| -> Vec<char> {
            s.chars()
                .map(|c| if c == '\\' { '/' } else { c })
                .flat_map(char::to_lowercase)
                .collect()
        };
        let wanted = folded(name);
        self.files
            .iter()
            .find(|(k, _)| {
                k.chars()
                    .flat_map(char::to_lowercase)
                    .eq(wanted.iter().copied())
            })
            .map(|(_, v)| v.as_slice())
    }

    /// The usable lines of a wildcard file's text: trimmed, blank lines and `#` comments left
    /// out.
    pub fn parse_lines(text: &str) -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    }
}

fn error(path: &Path, message: impl Into<String>) -> WildcardError {
    WildcardError {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    visited: &mut HashSet<PathBuf>,
    files: &mut BTreeMap<String, Vec<String>>,
    errors: &mut Vec<WildcardError>,
) {
    // A folder reached twice (through a link) is read once: a link loop ends here.
    let real = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    if !visited.insert(real) {
        return;
    }
    if depth > MAX_FOLDER_DEPTH {
        errors.push(error(dir, "folders nested too deeply; not read"));
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(error(dir, format!("cannot list the folder: {e}")));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let Some(file_name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if file_name.starts_with('.') {
            continue;
        }
        // The folder check follows links; a link loop or dangling link is no folder.
        if fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            let sub = format!("{prefix}{file_name}/");
            walk(&path, &sub, depth + 1, visited, files, errors);
            continue;
        }
        let is_txt = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("txt"));
        if !is_txt {
            continue;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match read_lines(&path) {
            Ok(lines) => {
                files.insert(format!("{prefix}{stem}"), lines);
            }
            Err(e) => errors.push(e),
        }
    }
}

/// Reads one wildcard file with the pack files' checks.
fn read_lines(path: &Path) -> Result<Vec<String>, WildcardError> {
    let pack_error = |e: crate::packs::PackError| error(path, e.kind.to_string());
    let (file, len) = open_pack_file(path).map_err(pack_error)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(MAX_PACK_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| error(path, e.to_string()))?;
    if bytes.len() as u64 > MAX_PACK_FILE_BYTES {
        return Err(error(
            path,
            format!("larger than {MAX_PACK_FILE_BYTES} bytes; not read"),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = memchr::memchr_iter(b'\n', &e.as_bytes()[..offset]).count() + 1;
        error(
            path,
            format!("line {line}: not UTF-8 text (bad byte at offset {offset})"),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(Wildcards::parse_lines(text))
}
