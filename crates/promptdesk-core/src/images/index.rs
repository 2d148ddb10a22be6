//! The image hash index: a small file in the data folder remembering, per image file seen by
//! an import, its size, modification time and SHA-256, so that a re-scan does not read and
//! hash files that did not change.
//!
//! `image-hashes.tsv`: a header line, then one line per file, `sha256 TAB size TAB mtime (ns
//! since 1970, may be negative) TAB absolute path`. A path holding a tab, CR or LF is not
//! remembered (its file is hashed every time). Lines that do not read are ignored; the file
//! is rewritten whole (atomically, [`crate::fsutil::write_atomically`]) when an import
//! changed it. A file whose size or modification time differs from what is remembered is
//! hashed again: a change that keeps both (same size, time restored) goes unnoticed, as in
//! `make` and `rsync`'s quick check.

use std::collections::HashMap;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The index's file name in the data folder.
pub const IMAGE_INDEX_FILE_NAME: &str = "image-hashes.tsv";
const HEADER: &str = "promptdesk image hashes 1";
/// An index larger than this is not read (it is rebuilt).
const MAX_INDEX_BYTES: u64 = 1 << 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub size: u64,
    pub mtime_ns: i128,
    pub sha256: String,
}

#[derive(Debug, Default)]
pub(crate) struct HashIndex {
    path: PathBuf,
    entries: HashMap<String, Entry>,
    dirty: bool,
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl HashIndex {
    /// The index of the data folder `data_dir` (empty when it does not exist or cannot be
    /// read).
    pub fn load(data_dir: &Path) -> HashIndex {
        let path = data_dir.join(IMAGE_INDEX_FILE_NAME);
        let mut index = HashIndex {
            path,
            ..HashIndex::default()
        };
        let Ok(file) = crate::fsutil::open_no_follow(&index.path) else {
            return index;
        };
        let mut text = String::new();
        if file
            .take(MAX_INDEX_BYTES)
            .read_to_string(&mut text)
            .is_err()
        {
            return index;
        }
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return index;
        }
        index.entries.reserve(text.len() / 128);
        for line in lines {
            let mut parts = line.splitn(4, '\t');
            let (Some(sha), Some(size), Some(mtime), Some(path)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let (Ok(size), Ok(mtime_ns)) = (size.parse(), mtime.parse()) else {
                continue;
            };
            if !is_sha256(sha) || path.is_empty() {
                continue;
            }
            index.entries.insert(
                path.to_owned(),
                Entry {
                    size,
                    mtime_ns,
                    sha256: sha.to_ascii_lowercase(),
                },
            );
        }
        index
    }

    /// The SHA-256 remembered for `path` if its size and time are still those remembered.
    pub fn lookup(&self, path: &str, size: u64, mtime_ns: i128) -> Option<&str> {
        self.entries
            .get(path)
            .filter(|e| e.size == size && e.mtime_ns == mtime_ns)
            .map(|e| e.sha256.as_str())
    }

    /// Remembers a file's hash.
    pub fn record(&mut self, path: &str, size: u64, mtime_ns: i128, sha256: &str) {
        if path.contains(['\t', '\n', '\r']) {
            return;
        }
        let entry = Entry {
            size,
            mtime_ns,
            sha256: sha256.to_owned(),
        };
        if self.entries.get(path) != Some(&entry) {
            self.entries.insert(path.to_owned(), entry);
            self.dirty = true;
        }
    }

    /// Forgets the files `in_scope` accepts that are not in `seen` (gone since).
    pub fn forget_unseen(
        &mut self,
        in_scope: impl Fn(&Path) -> bool,
        seen: &std::collections::HashSet<&str>,
    ) {
        let before = self.entries.len();
        self.entries
            .retain(|p, _| seen.contains(p.as_str()) || !in_scope(Path::new(p)));
        self.dirty |= self.entries.len() != before;
    }

    /// Writes the index if it changed.
    pub fn save(&mut self) -> io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let mut paths: Vec<(&String, &Entry)> = self.entries.iter().collect();
        paths.sort_unstable_by(|a, b| a.0.cmp(b.0));
        crate::fsutil::write_atomically(&self.path, |file| {
            let mut w = BufWriter::with_capacity(1 << 16, file);
            writeln!(w, "{HEADER}")?;
            for (path, e) in paths {
                writeln!(w, "{}\t{}\t{}\t{path}", e.sha256, e.size, e.mtime_ns)?;
            }
            w.flush()
        })?;
        self.dirty = false;
        Ok(())
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_odd_lines_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let sha = "ab".repeat(32);
        let mut index = HashIndex::load(dir.path());
        index.record("/pics/a.png", 10, -5, &sha);
        index.record("/pics/tab\there.png", 10, 5, &sha);
        index.save().unwrap();
        let again = HashIndex::load(dir.path());
        assert_eq!(again.len(), 1);
        assert_eq!(again.lookup("/pics/a.png", 10, -5), Some(sha.as_str()));
        assert_eq!(again.lookup("/pics/a.png", 11, -5), None);
        assert_eq!(again.lookup("/pics/a.png", 10, 6), None);
        let path = dir.path().join(IMAGE_INDEX_FILE_NAME);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("garbage\nzz\t1\t2\t/x.png\n");
        std::fs::write(&path, text).unwrap();
        assert_eq!(HashIndex::load(dir.path()).len(), 1);
        std::fs::write(&path, "something else\n").unwrap();
        assert_eq!(HashIndex::load(dir.path()).len(), 0);
    }
}
