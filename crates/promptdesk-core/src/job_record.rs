//! One submitted job, as the history stores it.

use crate::run_config::{PromptSource, RunConfig, RunMode, RunSource};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;

/// The schema version written into every new record.
pub const JOB_RECORD_SCHEMA_VERSION: u32 = 1;

/// Where a job is in its life.
///
/// [`JobStatus::Unknown`] is a status this version does not know (a newer promptdesk's
/// `"paused"`, say): the record still loads and shows, and the history keeps the original text
/// (see [`JobRecord::status_text`]); it is never written as `"unknown"` over it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    #[default]
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
    /// A status written by another (newer) version.
    Unknown,
}

impl<'de> Deserialize<'de> for JobStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(JobStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .unwrap_or(JobStatus::Unknown))
    }
}

impl JobStatus {
    /// The statuses this version knows (not [`JobStatus::Unknown`]).
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Unknown => "unknown",
        }
    }

    /// A known status by name (any case); `None` for anything else, "unknown" included.
    pub fn parse(text: &str) -> Option<JobStatus> {
        JobStatus::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// Only a queued job can be cancelled.
    pub fn is_cancellable(self) -> bool {
        self == JobStatus::Queued
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn default_schema_version() -> u32 {
    JOB_RECORD_SCHEMA_VERSION
}

/// A job in the history: its origin (copied from the RunConfig, never re-derived), status,
/// timestamps, settings hash and the full RunConfig snapshot. Serialises to one line of JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct JobRecord {
    #[serde(default = "default_schema_version")]
    pub schema_version: u32,
    pub job_id: String,
    /// UTC, RFC 3339 in JSON.
    pub created_at: DateTime<Utc>,
    pub status: JobStatus,
    pub prompt_source: PromptSource,
    #[serde(default)]
    pub prompt_pack_id: Option<String>,
    #[serde(default)]
    pub prompt_keys: Vec<String>,
    #[serde(default)]
    pub run_mode: RunMode,
    #[serde(default)]
    pub source: RunSource,
    pub config_hash: String,
    pub run_config: RunConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// What the line this record was read from held that this version does not understand
    /// (fields of a newer version, at any depth, and an unknown status text). Written back
    /// unchanged with the record, so no version strips another's data. Empty for new records.
    #[serde(skip)]
    pub unknown: UnknownFields,
}

impl Serialize for JobRecord {
    /// The record's fields plus, unchanged, whatever [`JobRecord::unknown`] holds.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.unknown.is_empty() {
            return JobRecord::serialize(self, s);
        }
        let known = JobRecord::serialize(self, serde_json::value::Serializer)
            .map_err(serde::ser::Error::custom)?;
        let status = (self.status == JobStatus::Unknown)
            .then_some(self.unknown.status.as_deref())
            .flatten();
        Merged {
            value: &known,
            tree: &self.unknown.tree,
            status,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for JobRecord {
    /// The known fields only; [`JobRecord::from_json_line`] also keeps the unknown ones.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        JobRecord::deserialize(d)
    }
}

impl JobRecord {
    /// The record as one line of JSON (no trailing newline), unknown fields included.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("a JobRecord always serialises")
    }

    /// Reads a record from one line of JSON, keeping in [`JobRecord::unknown`] every field this
    /// version does not know (at any depth) and an unknown status text, byte for byte.
    pub fn from_json_line(line: &[u8]) -> Result<JobRecord, serde_json::Error> {
        let mut ignored: Vec<Vec<Seg>> = Vec::new();
        let mut de = serde_json::Deserializer::from_slice(line);
        let mut record: JobRecord =
            serde_ignored::deserialize(&mut de, |path| ignored.push(segments(&path)))?;
        de.end()?;
        if !ignored.is_empty() || record.status == JobStatus::Unknown {
            record.unknown = UnknownFields::capture(line, &ignored)?;
        }
        Ok(record)
    }

    /// The status as the history has it: the known name, or a newer version's own text.
    pub fn status_text(&self) -> std::borrow::Cow<'_, str> {
        match (self.status, self.unknown.status_text()) {
            (JobStatus::Unknown, Some(text)) => text.into(),
            (status, _) => status.as_str().into(),
        }
    }

    /// The first positive prompt, for tables and summaries.
    pub fn first_prompt(&self) -> String {
        self.run_config
            .prompt_pairs()
            .into_iter()
            .next()
            .map(|(p, _)| p)
            .unwrap_or_default()
    }
}

/// Builds a queued record, created now, with the origin fields copied from `run_config` and
/// its settings hash computed.
pub fn job_record_from_run_config(job_id: &str, run_config: &RunConfig) -> JobRecord {
    JobRecord {
        schema_version: JOB_RECORD_SCHEMA_VERSION,
        job_id: job_id.to_owned(),
        created_at: Utc::now(),
        status: JobStatus::Queued,
        prompt_source: run_config.prompt_source,
        prompt_pack_id: run_config.prompt_pack_id.clone(),
        prompt_keys: run_config.prompt_keys.clone(),
        run_mode: run_config.run_mode,
        source: run_config.source,
        config_hash: run_config.config_hash(),
        run_config: run_config.clone(),
        started_at: None,
        completed_at: None,
        duration_ms: None,
        error_message: None,
        unknown: UnknownFields::default(),
    }
}

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Seg {
    Key(String),
    Index(usize),
}

fn segments(path: &serde_ignored::Path<'_>) -> Vec<Seg> {
    use serde_ignored::Path;
    let mut out = Vec::new();
    let mut p = path;
    loop {
        match p {
            Path::Root => break,
            Path::Seq { parent, index } => {
                out.push(Seg::Index(*index));
                p = parent;
            }
            Path::Map { parent, key } => {
                out.push(Seg::Key(key.clone()));
                p = parent;
            }
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => p = parent,
        }
    }
    out.reverse();
    out
}

/// Unknown fields at one level of a record, and the levels below that hold some.
#[derive(Debug, Clone, Default)]
struct Tree {
    /// Fields this version does not know, with their JSON exactly as read.
    fields: Vec<(String, Box<RawValue>)>,
    children: Vec<(Seg, Tree)>,
}

impl Tree {
    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.children.is_empty()
    }

    fn child(&mut self, seg: Seg) -> &mut Tree {
        let i = match self.children.iter().position(|(s, _)| *s == seg) {
            Some(i) => i,
            None => {
                self.children.push((seg, Tree::default()));
                self.children.len() - 1
            }
        };
        &mut self.children[i].1
    }

    fn find(&self, seg: &Seg) -> Option<&Tree> {
        self.children.iter().find(|(s, _)| s == seg).map(|(_, t)| t)
    }

    fn count(&self) -> usize {
        self.fields.len() + self.children.iter().map(|(_, t)| t.count()).sum::<usize>()
    }

    fn names(&self, prefix: &str, out: &mut Vec<String>) {
        for (k, _) in &self.fields {
            out.push(format!("{prefix}{k}"));
        }
        for (seg, t) in &self.children {
            let p = match seg {
                Seg::Key(k) => format!("{prefix}{k}."),
                Seg::Index(i) => format!("{prefix}{i}."),
            };
            t.names(&p, out);
        }
    }
}

impl PartialEq for Tree {
    fn eq(&self, other: &Tree) -> bool {
        self.fields.len() == other.fields.len()
            && self
                .fields
                .iter()
                .zip(&other.fields)
                .all(|((a, x), (b, y))| a == b && x.get() == y.get())
            && self.children == other.children
    }
}

/// What a record's line held that this version does not understand: fields of a newer
/// version (at any depth, kept as the exact JSON text read) and an unknown status text.
/// [`JobRecord`]'s serialisation writes them back, so compact, status changes, restores and
/// JSON Lines exports never strip them.
#[derive(Debug, Clone, Default)]
pub struct UnknownFields {
    tree: Tree,
    /// The JSON of the `status` field when it is not one this version knows.
    status: Option<Box<RawValue>>,
}

impl PartialEq for UnknownFields {
    fn eq(&self, other: &UnknownFields) -> bool {
        self.tree == other.tree
            && self.status.as_ref().map(|r| r.get()) == other.status.as_ref().map(|r| r.get())
    }
}

impl UnknownFields {
    /// True when the record's line held nothing this version does not understand.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty() && self.status.is_none()
    }

    /// How many unknown fields the record carries (the unknown status not counted).
    pub fn field_count(&self) -> usize {
        self.tree.count()
    }

    /// The unknown fields' dotted paths (`outputs`, `run_config.styles`, ...).
    pub fn field_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.tree.names("", &mut out);
        out
    }

    /// The unknown status as written (`paused`), when the status is not one this version knows.
    pub fn status_text(&self) -> Option<String> {
        let raw = self.status.as_ref()?;
        Some(serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| raw.get().to_owned()))
    }

    /// Takes the JSON text of each ignored path (and of an unknown status) out of `line`.
    fn capture(line: &[u8], ignored: &[Vec<Seg>]) -> Result<UnknownFields, serde_json::Error> {
        let root: &RawValue = serde_json::from_slice(line)?;
        let mut out = UnknownFields::default();
        for path in ignored {
            let Some((Seg::Key(last), parents)) = path.split_last() else {
                continue;
            };
            let Some(parent) = raw_at(root, parents) else {
                continue;
            };
            let Ok(map) =
                serde_json::from_str::<std::collections::BTreeMap<String, &RawValue>>(parent.get())
            else {
                continue;
            };
            let Some(raw) = map.get(last.as_str()) else {
                continue;
            };
            let mut tree = &mut out.tree;
            for seg in parents {
                tree = tree.child(seg.clone());
            }
            if !tree.fields.iter().any(|(k, _)| k == last) {
                tree.fields.push((last.clone(), (*raw).to_owned()));
            }
        }
        let map: std::collections::BTreeMap<String, &RawValue> = serde_json::from_str(root.get())?;
        if let Some(raw) = map.get("status")
            && serde_json::from_str::<JobStatus>(raw.get()).ok() == Some(JobStatus::Unknown)
        {
            out.status = Some((*raw).to_owned());
        }
        Ok(out)
    }
}

/// The JSON text at `path` inside `root` (object keys and array indices).
fn raw_at<'a>(root: &'a RawValue, path: &[Seg]) -> Option<&'a RawValue> {
    let mut here = root;
    for seg in path {
        here = match seg {
            Seg::Key(k) => {
                let map: std::collections::BTreeMap<String, &'a RawValue> =
                    serde_json::from_str(here.get()).ok()?;
                map.get(k.as_str()).copied()?
            }
            Seg::Index(i) => {
                let list: Vec<&'a RawValue> = serde_json::from_str(here.get()).ok()?;
                list.get(*i).copied()?
            }
        };
    }
    Some(here)
}

/// Serialises a record's known fields (`value`) with its unknown ones (`tree`) put back in
/// place, and an unknown status text instead of `"unknown"`.
struct Merged<'a> {
    value: &'a Value,
    tree: &'a Tree,
    status: Option<&'a RawValue>,
}

impl Serialize for Merged<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.value {
            Value::Object(map) => {
                let mut m = s.serialize_map(None)?;
                for (k, v) in map {
                    if k == "status"
                        && let Some(raw) = self.status
                    {
                        m.serialize_entry(k, raw)?;
                        continue;
                    }
                    match self.tree.find(&Seg::Key(k.clone())) {
                        Some(tree) => m.serialize_entry(
                            k,
                            &Merged {
                                value: v,
                                tree,
                                status: None,
                            },
                        )?,
                        None => m.serialize_entry(k, v)?,
                    }
                }
                for (k, raw) in &self.tree.fields {
                    if !map.contains_key(k) {
                        m.serialize_entry(k, raw)?;
                    }
                }
                m.end()
            }
            Value::Array(list) => {
                let mut q = s.serialize_seq(Some(list.len()))?;
                for (i, v) in list.iter().enumerate() {
                    match self.tree.find(&Seg::Index(i)) {
                        Some(tree) => q.serialize_element(&Merged {
                            value: v,
                            tree,
                            status: None,
                        })?,
                        None => q.serialize_element(v)?,
                    }
                }
                q.end()
            }
            other => other.serialize(s),
        }
    }
}
