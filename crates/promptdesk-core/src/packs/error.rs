use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong with a pack.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PackErrorKind {
    #[error("cannot read the file: {0}")]
    Io(String),
    /// The entry is not a regular file (or a link to one), so it is never opened: a folder,
    /// a FIFO, a device, a socket, a symbolic link loop, a dangling link.
    #[error("{0}")]
    NotAFile(NotAFile),
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
    #[error("LoRA {name:?} has a non-numeric weight {weight:?} (read as 1.0)")]
    BadLoraWeight { name: String, weight: String },
    #[error("embedding {name:?} has a non-numeric weight {weight:?}")]
    BadEmbeddingWeight { name: String, weight: String },
    #[error("unexpected structure: {0}")]
    Structure(String),
    /// A warning in words: what was skipped or not applied, as the file's own tool does.
    #[error("{0}")]
    Note(String),
    #[error("not a pack file (expected .json, .txt, .tsv or .csv)")]
    UnsupportedExtension,
    #[error("pack {pack:?} has no prompt with key {key:?}")]
    UnknownKey { pack: String, key: String },
    #[error("key {key:?} of pack {pack:?} is selected more than once")]
    RepeatedKey { pack: String, key: String },
    #[error("no prompt selected from pack {pack:?}")]
    EmptySelection { pack: String },
}

/// Why an entry of the packs folder is not a file that can be read as a pack. Found from the
/// entry's metadata, before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAFile {
    /// The entry itself is not a regular file (no symbolic link involved).
    Is(EntryKind),
    /// A symbolic link to something that is not a regular file.
    PointsTo { kind: EntryKind, target: PathBuf },
    /// A symbolic link that leads back to itself (too many levels of links).
    SymlinkLoop,
    /// A symbolic link whose target does not exist.
    DanglingLink { target: PathBuf },
}

/// The kind of a non-regular directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Folder,
    Fifo,
    Device,
    Socket,
    /// Anything else that is not a regular file.
    Other,
}

impl EntryKind {
    fn describe(self) -> &'static str {
        match self {
            EntryKind::Folder => "a folder",
            EntryKind::Fifo => "a FIFO (named pipe)",
            EntryKind::Device => "a device",
            EntryKind::Socket => "a socket",
            EntryKind::Other => "not a regular file",
        }
    }
}

impl fmt::Display for NotAFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotAFile::Is(EntryKind::Other) => f.write_str("is not a regular file"),
            NotAFile::Is(kind) => write!(f, "is {}, not a file", kind.describe()),
            NotAFile::PointsTo {
                kind: EntryKind::Other,
                target,
            } => write!(
                f,
                "is a symbolic link to {}, which is not a regular file",
                escape_path(target)
            ),
            NotAFile::PointsTo { kind, target } => write!(
                f,
                "points to {} ({}), not a file",
                kind.describe(),
                escape_path(target)
            ),
            NotAFile::SymlinkLoop => f.write_str("is a symbolic link loop"),
            NotAFile::DanglingLink { target } => write!(
                f,
                "is a dangling symbolic link (target {} does not exist)",
                escape_path(target)
            ),
        }
    }
}

/// A path for messages: lossy, with control characters escaped (see [`escape_control`]).
fn escape_path(path: &Path) -> String {
    escape_control(&path.display().to_string()).into_owned()
}

/// Text for one-line display: control characters (and Unicode bidirectional overrides, which
/// reorder what follows them) escaped as `\n`, `\t`, `\r`, `\u{1b}`, ...; everything
/// else, backslashes included, kept. For showing pack ids, names, keys and file names that
/// come from file names or file contents; never for lookups.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    fn needs_escape(c: char) -> bool {
        c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A pack error, naming the file and, where known, the 1-based line. Its `Display` shows the
/// path lossily, with control characters escaped, so a message is always one line.
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
            (Some(p), Some(l)) => write!(f, "{}:{}: {}", escape_path(p), l, self.kind),
            (Some(p), None) => write!(f, "{}: {}", escape_path(p), self.kind),
            (None, _) => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for PackError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_for_display() {
        assert!(matches!(escape_control("plain ok"), Cow::Borrowed(_)));
        assert_eq!(
            escape_control("two\nlines\ttab\r\u{1b}[31m\u{7f}\u{202e}é\\"),
            "two\\nlines\\ttab\\r\\u{1b}[31m\\u{7f}\\u{202e}é\\"
        );
        let err = PackError::in_file(
            Path::new("dir/two\nlines.txt"),
            Some(3),
            PackErrorKind::Empty,
        );
        assert_eq!(err.to_string(), "dir/two\\nlines.txt:3: the file is empty");
    }

    #[test]
    fn not_a_file_reasons_read_as_sentences() {
        let msg = |why: NotAFile| PackErrorKind::NotAFile(why).to_string();
        assert_eq!(
            msg(NotAFile::Is(EntryKind::Fifo)),
            "is a FIFO (named pipe), not a file"
        );
        assert_eq!(
            msg(NotAFile::Is(EntryKind::Folder)),
            "is a folder, not a file"
        );
        assert_eq!(
            msg(NotAFile::PointsTo {
                kind: EntryKind::Device,
                target: "/dev/zero".into()
            }),
            "points to a device (/dev/zero), not a file"
        );
        assert_eq!(msg(NotAFile::SymlinkLoop), "is a symbolic link loop");
        assert_eq!(
            msg(NotAFile::DanglingLink {
                target: "gone.txt".into()
            }),
            "is a dangling symbolic link (target gone.txt does not exist)"
        );
    }
}
