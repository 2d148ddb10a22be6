//! Compaction: the history rewritten with one line per live job (and the lines of other
//! versions), atomically through [`crate::fsutil::write_atomically_keep_open`].

use super::codec::{line_is_job, trim_line};
use super::file::read_at;
use super::index::{Item, Loc};
use super::{CompactReport, HistoryError, HistoryStore};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};

/// Reads lines of the old file for a compaction, through a window of a few MiB (the lines
/// come mostly in file order).
struct RawLines<'a> {
    file: &'a File,
    buf: Vec<u8>,
    start: u64,
}

impl<'a> RawLines<'a> {
    const WINDOW: usize = 4 << 20;

    fn new(file: &'a File) -> RawLines<'a> {
        RawLines {
            file,
            buf: Vec::new(),
            start: 0,
        }
    }

    fn line(&mut self, loc: Loc) -> io::Result<&[u8]> {
        let end = loc.offset + loc.len;
        let have = self.start + self.buf.len() as u64;
        if loc.offset < self.start || end > have {
            self.buf.clear();
            self.start = loc.offset;
            let want = usize::try_from(loc.len)
                .unwrap_or(usize::MAX)
                .max(Self::WINDOW);
            read_at(self.file, loc.offset, &mut self.buf, want)?;
            if (self.buf.len() as u64) < loc.len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the history is shorter than what was read from it",
                ));
            }
        }
        let from = (loc.offset - self.start) as usize;
        Ok(&self.buf[from..from + loc.len as usize])
    }
}

impl HistoryStore {
    /// Rewrites the file with one line per live job (dropping old snapshots, delete lines and
    /// damaged lines, which are in the quarantine file), atomically: a temp file in the same
    /// folder, fsync, rename over the history, fsync of the folder. Other processes notice
    /// and re-read.
    pub fn compact(&mut self) -> Result<CompactReport, HistoryError> {
        if self.unsaved_quarantine {
            return Err(HistoryError::other(
                &self.quarantine_path,
                "cannot compact: damaged lines could not be saved to this quarantine file earlier, and compacting would drop them".to_owned(),
            ));
        }
        if self.append_only {
            // It never read the old records: read everything (under the lock) first.
            self.append_only = false;
            self.stale = true;
        }
        self.acquire()?;
        let result = self.compact_locked();
        if result.is_err() {
            let _ = self.file.unlock();
        }
        result
    }

    fn compact_locked(&mut self) -> Result<CompactReport, HistoryError> {
        // A history linked into another folder (a synced or backup folder) is compacted where
        // it really is, and the link stays a link.
        let target = fs::canonicalize(&self.path)
            .map_err(|e| HistoryError::from_io(&self.path, "find the history file", e))?;
        let stale_temps_removed = self.remove_stale_temps_locked();
        let order = self.jobs.compaction_order();
        let mut new_locs: Vec<Option<Loc>> = vec![None; self.jobs.len()];
        let mut written = false;
        // The temp file is created new (never through a link), private until the history's
        // mode is copied, and locked while it is written (so a temp cleaner in another process
        // leaves it alone); once renamed, it is the lock on the new history until we are done.
        let replaced = crate::fsutil::write_atomically_keep_open(&target, |new_file| {
            let bytes = self.write_compacted(new_file, &order, &mut new_locs)?;
            written = true;
            Ok(bytes)
        });
        let (new_file, bytes_after) = replaced.map_err(|e| {
            let op = if written {
                "replace the history with its compacted copy"
            } else {
                "write the compacted history"
            };
            HistoryError::from_io(&self.path, op, e)
        })?;
        let report = CompactReport {
            records: self.jobs.len(),
            foreign_kept: self.jobs.foreign().len(),
            stale_temps_removed,
            lines_before: self.lines_read,
            bytes_before: self.offset,
            bytes_after,
        };
        // The new file is ours now; the old handle (locked) goes.
        let old = std::mem::replace(&mut self.file, new_file);
        let _ = old.unlock();
        drop(old);
        let _ = self.file.unlock();
        self.offset = bytes_after;
        self.lines_read = order.len();
        self.jobs.compacted(&order, new_locs);
        Ok(report)
    }

    /// Writes the lines of `order` into `new_file`, noting where each record's line is in
    /// `new_locs`; returns the bytes written. A record that is exactly its last line is copied
    /// from the old file byte for byte (every value as written, whichever version wrote it).
    fn write_compacted(
        &self,
        new_file: &mut File,
        order: &[Item],
        new_locs: &mut [Option<Loc>],
    ) -> io::Result<u64> {
        let records = self.jobs.records();
        let foreign = self.jobs.foreign();
        let mut w = BufWriter::with_capacity(1 << 20, new_file);
        let mut bytes = 0u64;
        let mut line = Vec::with_capacity(2048);
        let mut old = RawLines::new(&self.file);
        for item in order {
            line.clear();
            match *item {
                Item::Record(i) => match self.jobs.loc(i) {
                    Some(loc) => {
                        let raw = trim_line(old.line(loc)?);
                        if line_is_job(raw, &records[i].job_id) {
                            line.extend_from_slice(raw);
                        } else {
                            // Not what was read there (changed behind our back): write the
                            // record as this version knows it.
                            serde_json::to_writer(&mut line, &records[i])
                                .map_err(io::Error::other)?;
                        }
                    }
                    None => {
                        serde_json::to_writer(&mut line, &records[i]).map_err(io::Error::other)?
                    }
                },
                Item::Foreign(k) => line.extend_from_slice(&foreign[k].bytes),
            }
            if let Item::Record(i) = *item {
                new_locs[i] = Some(Loc {
                    offset: bytes,
                    len: line.len() as u64,
                });
            }
            line.push(b'\n');
            w.write_all(&line)?;
            bytes += line.len() as u64;
        }
        w.flush()?;
        Ok(bytes)
    }
}
