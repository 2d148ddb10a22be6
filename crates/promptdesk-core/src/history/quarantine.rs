//! The quarantine file (`history.quarantine.jsonl`): damaged lines set aside from the history.
//!
//! Each damaged line is kept verbatim on its own line, preceded by a header line
//!
//! ```text
//! #promptdesk-quarantine {"at":"2026-11-28T10:00:00Z","line":17,"reason":"malformed JSON: …"}
//! ```
//!
//! saying when it was set aside, which line of the history it was and why. Identical damaged
//! lines are kept once. Files written by earlier versions have no header lines; their entries
//! count, with the file's modification time as "when" and no line number.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::io::{self, Read};
use std::path::Path;

/// The start of a header line.
pub const HEADER_PREFIX: &str = "#promptdesk-quarantine ";

#[derive(Serialize, Deserialize)]
struct Header {
    at: DateTime<Utc>,
    line: usize,
    reason: String,
}

/// Appends one entry (header line + the damaged bytes + '\n') to `buf`.
pub(crate) fn write_entry(
    buf: &mut Vec<u8>,
    at: DateTime<Utc>,
    line: usize,
    reason: &str,
    bytes: &[u8],
) {
    buf.extend_from_slice(HEADER_PREFIX.as_bytes());
    let header = Header {
        at,
        line,
        reason: reason.to_owned(),
    };
    serde_json::to_writer(&mut *buf, &header).expect("a header always serialises");
    buf.push(b'\n');
    buf.extend_from_slice(bytes);
    buf.push(b'\n');
}

/// One damaged line held by the quarantine file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineEntry {
    /// When it was set aside (the file's modification time for entries without a header).
    pub at: Option<DateTime<Utc>>,
    /// Its 1-based line number in the history, when known.
    pub history_line: Option<usize>,
    /// Why it was set aside, when known.
    pub reason: Option<String>,
    /// Its length in bytes.
    pub bytes: usize,
}

/// What a quarantine file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuarantineSummary {
    pub entries: Vec<QuarantineEntry>,
}

impl QuarantineSummary {
    /// The earliest and latest time an entry was set aside.
    pub fn span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let times = self.entries.iter().filter_map(|e| e.at);
        let first = times.clone().min()?;
        Some((first, times.max()?))
    }
}

/// Reads the quarantine file at `path` (never through a symbolic link, never a FIFO). A missing
/// file is an empty summary.
pub fn read_quarantine(path: &Path) -> io::Result<QuarantineSummary> {
    let mut file = match super::private_fs::open_read_no_follow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(QuarantineSummary::default()),
        Err(e) => return Err(e),
    };
    let modified: Option<DateTime<Utc>> = file.metadata()?.modified().ok().map(DateTime::from);
    let mut data = Vec::new();
    file.read_to_end(&mut data)?;
    let mut entries = Vec::new();
    let mut pending: Option<Header> = None;
    for line in data.split(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(HEADER_PREFIX.as_bytes())
            && pending.is_none()
            && let Ok(h) = serde_json::from_slice::<Header>(rest)
        {
            pending = Some(h);
            continue;
        }
        if line.is_empty() && pending.is_none() {
            continue;
        }
        let header = pending.take();
        entries.push(QuarantineEntry {
            at: header.as_ref().map(|h| h.at).or(modified),
            history_line: header.as_ref().map(|h| h.line),
            reason: header.map(|h| h.reason),
            bytes: line.len(),
        });
    }
    Ok(QuarantineSummary { entries })
}

/// `2026-11-28 10:00:00 UTC`, for messages.
pub fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
        .replace('T', " ")
        .replace('Z', " UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_their_header_and_old_style_lines_still_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        let at = Utc::now();
        let mut buf = b"{\"old style damaged line\n".to_vec();
        write_entry(&mut buf, at, 17, "torn last line", b"{\"job_id\":\"x");
        // A damaged line that itself looks like a header is still just data after a header.
        write_entry(
            &mut buf,
            at,
            20,
            "odd",
            format!("{HEADER_PREFIX}{{}}").as_bytes(),
        );
        std::fs::write(&path, &buf).unwrap();
        let s = read_quarantine(&path).unwrap();
        assert_eq!(s.entries.len(), 3, "{s:?}");
        assert_eq!(s.entries[0].history_line, None);
        assert!(s.entries[0].at.is_some(), "old entries use the file's time");
        assert_eq!(s.entries[1].history_line, Some(17));
        assert_eq!(s.entries[1].reason.as_deref(), Some("torn last line"));
        assert_eq!(s.entries[2].history_line, Some(20));
        assert!(
            read_quarantine(&dir.path().join("none"))
                .unwrap()
                .entries
                .is_empty()
        );
    }
}
