//! The line codec: what one line of `history.jsonl` is (a record, a delete, another
//! version's line, blank or damaged), read in parallel chunks, and the delete line written.

use crate::job_record::JobRecord;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// A delete line.
#[derive(Debug, Serialize, Deserialize)]
struct Tombstone {
    op: String,
    job_id: String,
    #[serde(default)]
    at: Option<DateTime<Utc>>,
}

const TOMBSTONE_PREFIX: &[u8] = b"{\"op\":";

/// The UTF-8 byte order mark some editors (Windows Notepad) put before the first line.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One parsed line.
#[allow(clippy::large_enum_variant)]
pub(super) enum Parsed {
    Blank,
    Record(JobRecord),
    Delete(String),
    /// A JSON object with a `job_id` that this version cannot read (another version's record
    /// or operation): kept in the file as it is, never quarantined or dropped.
    Foreign {
        job_id: String,
        reason: String,
        line: Box<[u8]>,
    },
    Bad(String),
}

impl Parsed {
    /// True for a line that says something (a record, a delete, another version's line).
    pub(super) fn is_meaningful(&self) -> bool {
        matches!(
            self,
            Parsed::Record(_) | Parsed::Delete(_) | Parsed::Foreign { .. }
        )
    }
}

/// The delete line for `job_id` at `at` (without its '\n').
pub(super) fn delete_line(job_id: &str, at: DateTime<Utc>) -> serde_json::Result<String> {
    serde_json::to_string(&Tombstone {
        op: "delete".to_owned(),
        job_id: job_id.to_owned(),
        at: Some(at),
    })
}

fn parse_tombstone(line: &[u8]) -> Result<String, String> {
    match serde_json::from_slice::<Tombstone>(line) {
        Ok(t) if t.op == "delete" && !t.job_id.is_empty() => Ok(t.job_id),
        Ok(t) if t.op != "delete" => Err(format!("unknown operation {:?}", t.op)),
        Ok(_) => Err("delete line without a job_id".to_owned()),
        Err(e) => Err(describe_json_error(line, &e)),
    }
}

fn describe_json_error(line: &[u8], err: &serde_json::Error) -> String {
    if let Err(e) = std::str::from_utf8(line) {
        return format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1);
    }
    match err.classify() {
        serde_json::error::Category::Data => format!("not a job record: {err}"),
        _ => format!("malformed JSON: {err}"),
    }
}

/// `line` without surrounding ASCII whitespace and a leading byte order mark.
pub(super) fn trim_line(line: &[u8]) -> &[u8] {
    let mut trimmed = line.trim_ascii();
    if let Some(rest) = trimmed.strip_prefix(BOM) {
        trimmed = rest.trim_ascii();
    }
    trimmed
}

/// Parses one line (without its '\n').
pub(super) fn parse_line(line: &[u8]) -> Parsed {
    let trimmed = trim_line(line);
    if trimmed.is_empty() {
        return Parsed::Blank;
    }
    if trimmed.starts_with(TOMBSTONE_PREFIX) {
        return match parse_tombstone(trimmed) {
            Ok(id) => Parsed::Delete(id),
            Err(reason) => foreign_or_bad(trimmed, reason),
        };
    }
    match JobRecord::from_json_line(trimmed) {
        Ok(r) if r.job_id.trim().is_empty() => Parsed::Bad("the job_id is empty".to_owned()),
        Ok(r) => Parsed::Record(r),
        Err(e) => match parse_tombstone(trimmed) {
            // A delete line written with other spacing or key order.
            Ok(id) => Parsed::Delete(id),
            Err(_) => foreign_or_bad(trimmed, describe_json_error(trimmed, &e)),
        },
    }
}

/// The `job_id` of a line that is a JSON object with one (a non-empty string, or a number),
/// whatever else it holds.
fn job_id_of(line: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct IdOnly {
        job_id: serde_json::Value,
    }
    if !line.starts_with(b"{") {
        return None;
    }
    match serde_json::from_slice::<IdOnly>(line).ok()?.job_id {
        serde_json::Value::String(id) if !id.trim().is_empty() => Some(id),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// True when `raw` is a line of the job `job_id` (checked cheaply, then by parsing its id).
pub(super) fn line_is_job(raw: &[u8], job_id: &str) -> bool {
    if !raw.starts_with(b"{") {
        return false;
    }
    let quoted = format!("\"job_id\":{}", serde_json::Value::from(job_id));
    if memchr::memmem::find(raw, quoted.as_bytes()).is_some() {
        return true;
    }
    job_id_of(raw).as_deref() == Some(job_id)
}

/// A line this version cannot read: another version's (a JSON object with a `job_id`, kept as
/// it is) or damaged.
fn foreign_or_bad(line: &[u8], reason: String) -> Parsed {
    match job_id_of(line) {
        Some(job_id) => Parsed::Foreign {
            job_id,
            reason,
            line: line.into(),
        },
        None => Parsed::Bad(reason),
    }
}

/// Parses the complete lines of `chunk` (which ends with '\n') in parallel, in order.
pub(super) fn parse_chunk(chunk: &[u8]) -> Vec<(Range<usize>, Parsed)> {
    let mut ranges = Vec::with_capacity(chunk.len() / 512 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', chunk) {
        ranges.push(start..end);
        start = end + 1;
    }
    ranges
        .into_par_iter()
        .with_min_len(64)
        .map(|r| {
            let parsed = parse_line(&chunk[r.clone()]);
            (r, parsed)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_told_apart() {
        assert!(matches!(parse_line(b"  \r"), Parsed::Blank));
        assert!(matches!(parse_line(b"\xEF\xBB\xBF "), Parsed::Blank));
        let delete = delete_line("job-1", Utc::now()).unwrap();
        assert!(matches!(parse_line(delete.as_bytes()), Parsed::Delete(id) if id == "job-1"));
        // Other spacing and key order.
        assert!(matches!(
            parse_line(br#"{ "job_id": "j", "op": "delete" }"#),
            Parsed::Delete(id) if id == "j"
        ));
        assert!(matches!(
            parse_line(br#"{"op":"merge","job_id":"j"}"#),
            Parsed::Foreign { job_id, .. } if job_id == "j"
        ));
        assert!(matches!(
            parse_line(br#"{"job_id":7,"whatever":true}"#),
            Parsed::Foreign { job_id, .. } if job_id == "7"
        ));
        assert!(
            matches!(parse_line(b"{\"job_id\":\"x\""), Parsed::Bad(r) if r.starts_with("malformed JSON"))
        );
        assert!(
            matches!(parse_line(b"\xff\xfe"), Parsed::Bad(r) if r.starts_with("invalid UTF-8"))
        );
        assert!(line_is_job(br#"{"job_id":"a\"b","x":1}"#, "a\"b"));
        assert!(line_is_job(br#"{"x":1, "job_id" : "ab"}"#, "ab"));
        assert!(!line_is_job(br#"{"job_id":"abc"}"#, "ab"));
    }

    #[test]
    fn a_chunk_is_parsed_in_order_with_its_line_ranges() {
        let chunk = b"\n{\"op\":\"delete\",\"job_id\":\"a\"}\nnot json\n";
        let parsed = parse_chunk(chunk);
        let ranges: Vec<Range<usize>> = parsed.iter().map(|(r, _)| r.clone()).collect();
        assert_eq!(ranges, vec![0..0, 1..29, 30..38]);
        assert!(matches!(parsed[0].1, Parsed::Blank));
        assert!(matches!(parsed[1].1, Parsed::Delete(_)));
        assert!(matches!(parsed[2].1, Parsed::Bad(_)));
    }
}
