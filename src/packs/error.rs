use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong with a pack.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PackErrorKind {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("the file is {size} bytes, over the 16 MiB limit")]
    TooLarge { size: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("the file is not valid UTF-8 (bad byte at offset {offset})")]
    InvalidUtf8 { offset: usize },
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("malformed CSV: {0}")]
    Csv(String),
    #[error("the pack has no prompts")]
    NoPrompts,
    #[error("duplicate key {0:?}")]
    DuplicateKey(String),
    #[error("LoRA {name:?} has a non-numeric weight {weight:?}")]
    BadLoraWeight { name: String, weight: String },
    #[error("embedding {name:?} has a non-numeric weight {weight:?}")]
    BadEmbeddingWeight { name: String, weight: String },
    #[error("unexpected structure: {0}")]
    Structure(String),
    #[error("not a pack file (expected .json, .txt, .tsv or .csv)")]
    UnsupportedExtension,
    #[error("pack {pack:?} has no prompt with key {key:?}")]
    UnknownKey { pack: String, key: String },
    #[error("key {key:?} of pack {pack:?} is selected more than once")]
    RepeatedKey { pack: String, key: String },
    #[error("no prompt selected from pack {pack:?}")]
    EmptySelection { pack: String },
}

/// A pack error, naming the file and, where known, the 1-based line.
#[derive(Debug, Clone, PartialEq)]
pub struct PackError {
    pub path: Option<PathBuf>,
    pub line: Option<usize>,
    pub kind: PackErrorKind,
}

impl PackError {
    pub fn new(path: Option<&Path>, line: Option<usize>, kind: PackErrorKind) -> PackError {
        PackError {
            path: path.map(Path::to_path_buf),
            line,
            kind,
        }
    }

    pub fn in_file(path: &Path, line: Option<usize>, kind: PackErrorKind) -> PackError {
        PackError::new(Some(path), line, kind)
    }

    /// An error about a pack as a whole (no file), e.g. an unknown key in a selection.
    pub fn of_pack(kind: PackErrorKind) -> PackError {
        PackError::new(None, None, kind)
    }
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => write!(f, "{}:{}: {}", p.display(), l, self.kind),
            (Some(p), None) => write!(f, "{}: {}", p.display(), self.kind),
            (None, _) => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for PackError {}
