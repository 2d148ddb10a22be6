//! Recovery: a torn last line (a write cut short by a crash) set aside and cut off, and
//! damaged lines copied into the quarantine file.

use super::codec::{Parsed, parse_line};
use super::file::{count_lines_before, read_at};
use super::index::Loc;
use super::{HistoryError, HistoryStore, QuarantinedLine};
use chrono::Utc;
use std::collections::HashSet;
use std::io::{self, Read, Write};

impl HistoryStore {
    /// Handles the bytes after the last '\n' while holding the lock: a complete record just
    /// gets its newline; anything else goes to quarantine and is cut off.
    pub(super) fn repair_tail_locked(&mut self, tail: &[u8]) -> Result<(), HistoryError> {
        if self.lines_unknown {
            // An append-only store skipped the old lines: count them now (rare: only for a
            // repair), so the quarantine names the right line.
            self.lines_read = count_lines_before(&self.file, self.offset)
                .map_err(|e| HistoryError::from_io(&self.path, "read the history", e))?;
            self.lines_unknown = false;
        }
        let line_no = self.lines_read + 1;
        let parsed = parse_line(tail);
        if parsed.is_meaningful() {
            self.write_raw(b"\n", self.offset + tail.len() as u64)?;
            self.offset += tail.len() as u64 + 1;
            self.lines_read += 1;
            self.report.lines += 1;
            self.report.bytes += tail.len() as u64 + 1;
            let loc = Loc {
                offset: self.offset - tail.len() as u64 - 1,
                len: tail.len() as u64,
            };
            self.apply(parsed, line_no, Some(loc));
            return Ok(());
        }
        if matches!(parsed, Parsed::Blank) {
            // Only whitespace: nothing to keep.
            return self
                .file
                .set_len(self.offset)
                .and_then(|()| self.file.sync_data())
                .map_err(|e| HistoryError::from_io(&self.path, "repair the last line", e));
        }
        let reason = match parsed {
            Parsed::Bad(reason) => format!("torn last line (a write was cut short): {reason}"),
            _ => "torn last line (a write was cut short)".to_owned(),
        };
        self.report.torn_tail = true;
        let saved = self.quarantine(&[(line_no, &reason, tail)]);
        self.report.quarantined.push(QuarantinedLine {
            line: line_no,
            reason,
        });
        match saved {
            Ok(_) => {
                // Only now that the bytes are safe: cut them off.
                self.file
                    .set_len(self.offset)
                    .and_then(|()| self.file.sync_data())
                    .map_err(|e| {
                        HistoryError::from_io(&self.path, "repair the torn last line", e)
                    })?;
            }
            Err(e) => {
                // Keep the bytes in the history, on a line of their own.
                self.report.warnings.push(format!(
                    "the torn last line (line {line_no}) could not be copied to the quarantine file, so it stays in the history: {e}"
                ));
                self.report.not_quarantined.push(line_no);
                self.unsaved_quarantine = true;
                self.write_raw(b"\n", self.offset + tail.len() as u64)?;
                self.offset += tail.len() as u64 + 1;
                self.lines_read += 1;
                self.report.lines += 1;
            }
        }
        Ok(())
    }

    /// After the lock-free load: deal with bytes after the last '\n' (a write in progress in
    /// another process, or a torn line). Writable: under the lock, which also repairs. A
    /// failure here never fails the open; it is noted in the report.
    pub(super) fn finish_tail(&mut self) {
        if !self.read_only {
            match self.file_len() {
                Ok(len) if len == self.offset => return,
                _ => {}
            }
            match self.acquire() {
                Ok(()) => {
                    let _ = self.file.unlock();
                }
                Err(e) => self
                    .report
                    .warnings
                    .push(format!("the end of the history was not checked: {e}")),
            }
            return;
        }
        // Read-only: apply a complete last line, report a torn one, repair nothing.
        let Ok(len) = self.file_len() else { return };
        if len <= self.offset {
            return;
        }
        let mut tail = Vec::new();
        let want = usize::try_from(len - self.offset).unwrap_or(usize::MAX);
        if read_at(&self.file, self.offset, &mut tail, want).is_err() {
            return;
        }
        let line_no = self.lines_read + 1;
        match parse_line(&tail) {
            p if p.is_meaningful() => {
                let loc = Loc {
                    offset: self.offset,
                    len: tail.len() as u64,
                };
                self.offset += tail.len() as u64;
                self.lines_read += 1;
                self.report.lines += 1;
                self.report.bytes += tail.len() as u64;
                self.apply(p, line_no, Some(loc));
            }
            Parsed::Bad(reason) => {
                self.report.torn_tail = true;
                self.report.quarantined.push(QuarantinedLine {
                    line: line_no,
                    reason: format!("torn last line (a write was cut short; not repaired, the history is read-only): {reason}"),
                });
            }
            _ => {}
        }
    }

    /// Copies damaged lines `(line number, reason, bytes)` into the quarantine file, noting a
    /// failure in the report (the lines then stay in the history, listed in
    /// [`LoadReport::not_quarantined`](super::LoadReport::not_quarantined)). A store opened
    /// read-only writes nothing.
    pub(super) fn quarantine_or_warn(&mut self, lines: &[(usize, String, Vec<u8>)]) {
        let refs: Vec<(usize, &str, &[u8])> = lines
            .iter()
            .map(|(n, r, b)| (*n, r.as_str(), b.as_slice()))
            .collect();
        if self.inspect_only {
            self.report
                .not_quarantined
                .extend(lines.iter().map(|(n, _, _)| *n));
            return;
        }
        if let Err(e) = self.quarantine(&refs) {
            self.unsaved_quarantine = true;
            self.report
                .not_quarantined
                .extend(lines.iter().map(|(n, _, _)| *n));
            self.report.warnings.push(format!(
                "{} could not be copied to the quarantine file, so they stay in the history: {e}",
                if lines.len() == 1 {
                    "a damaged line".to_owned()
                } else {
                    format!("{} damaged lines", lines.len())
                }
            ));
        }
    }

    /// Appends damaged lines to the quarantine file, each verbatim on its own line after a
    /// header line saying when, from which line and why (see [`crate::history::quarantine`]),
    /// leaving out lines it already holds; syncs it. Never follows a symbolic link. Returns how
    /// many lines were added.
    fn quarantine(&self, lines: &[(usize, &str, &[u8])]) -> Result<usize, HistoryError> {
        if self.inspect_only {
            return Err(HistoryError::ReadOnly {
                path: self.quarantine_path.clone(),
            });
        }
        let qpath = &self.quarantine_path;
        let op = "write the quarantine file";
        let mut existing = Vec::new();
        match super::super::private_fs::open_read_no_follow(qpath) {
            Ok(mut f) => {
                f.read_to_end(&mut existing)
                    .map_err(|e| HistoryError::from_io(qpath, "read the quarantine file", e))?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(HistoryError::from_io(qpath, "read the quarantine file", e)),
        }
        let mut known: HashSet<&[u8]> = existing.split(|&b| b == b'\n').collect();
        let mut buf = Vec::new();
        if !existing.is_empty() && !existing.ends_with(b"\n") {
            buf.push(b'\n');
        }
        let at = Utc::now();
        let mut added = 0;
        for &(line, reason, bytes) in lines {
            if known.insert(bytes) {
                super::super::quarantine::write_entry(&mut buf, at, line, reason, bytes);
                added += 1;
            }
        }
        if added == 0 {
            return Ok(0);
        }
        let mut f = super::super::private_fs::open_append_no_follow(qpath)
            .map_err(|e| HistoryError::from_io(qpath, op, e))?;
        f.write_all(&buf)
            .and_then(|()| f.sync_data())
            .map_err(|e| HistoryError::from_io(qpath, op, e))?;
        Ok(added)
    }
}
