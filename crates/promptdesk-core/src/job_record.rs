//! One submitted job, as the history stores it.

use crate::run_config::{PromptSource, RunConfig, RunMode, RunSource, StyleRef};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;

/// The schema version written into every new record.
///
/// 2 added what running a job records: `backend`, `runner`, `queue_order` and `result`.
/// Version 1 lines load unchanged (the new fields are absent there).
pub const JOB_RECORD_SCHEMA_VERSION: u32 = 2;

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
        /// Matches the text where it lies (no copy of it is made).
        struct StatusVisitor;
        impl serde::de::Visitor<'_> for StatusVisitor {
            type Value = JobStatus;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<JobStatus, E> {
                Ok(JobStatus::ALL
                    .into_iter()
                    .find(|s| s.as_str() == text)
                    .unwrap_or(JobStatus::Unknown))
            }
        }
        d.deserialize_str(StatusVisitor)
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
    /// The styles applied to the prompts (copied from the RunConfig, like the origin).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompt_styles: Vec<StyleRef>,
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
    /// The backend (its configured name) that ran or is running the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The runner (one per running promptdesk process) that claimed the job; a job left
    /// `running` by a runner that is gone is failed at the next start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<String>,
    /// Where a queued job stands in the queue (lower runs first); unset = by creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_order: Option<i64>,
    /// What a completed (or partly completed) job produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<crate::outputs::JobResult>,
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
    ///
    /// Most lines hold nothing unknown: they take a fast path (one pass, no path tracking, the
    /// line's UTF-8 checked once, timestamps in their canonical form parsed directly). Any line
    /// the fast path does not accept as it is (an unknown field or status, a duplicate or
    /// missing field, bad JSON) is read again the careful way, which gives the same record,
    /// unknown fields and errors as ever.
    pub fn from_json_line(line: &[u8]) -> Result<JobRecord, serde_json::Error> {
        if let Some(record) = fast::parse(line) {
            return Ok(record);
        }
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

    /// The first positive prompt, for tables and summaries; when none was recorded, the
    /// prompt StableNew's `payload_summary` names (imports).
    pub fn first_prompt(&self) -> String {
        self.run_config
            .prompt_pairs()
            .into_iter()
            .next()
            .map(|(p, _)| p)
            .filter(|p| !p.is_empty())
            .or_else(|| {
                crate::history::query::summary_prompt(&self.run_config.prompt_payload)
                    .map(str::to_owned)
            })
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
        prompt_styles: run_config.prompt_styles(),
        run_mode: run_config.run_mode,
        source: run_config.source,
        config_hash: run_config.config_hash(),
        run_config: run_config.clone(),
        started_at: None,
        completed_at: None,
        duration_ms: None,
        error_message: None,
        backend: None,
        runner: None,
        queue_order: None,
        result: None,
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

    /// Forgets what a newer version wrote under the top-level field `name` (and `name`
    /// itself when it is unknown): for a field this version replaces whole, such as `result`
    /// when a job runs again, whose old unknown parts must not be merged into the new value.
    pub fn forget(&mut self, name: &str) {
        self.tree.fields.retain(|(k, _)| k != name);
        self.tree
            .children
            .retain(|(seg, _)| *seg != Seg::Key(name.to_owned()));
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

/// The fast path of [`JobRecord::from_json_line`]: hand-written visitors for the record, its
/// run config and its settings that accept exactly the lines the derived ones accept with
/// nothing unknown in them, and give up (`None`) on anything else, an unknown key first of all.
mod fast {
    use super::{JOB_RECORD_SCHEMA_VERSION, JobRecord, JobStatus, UnknownFields};
    use crate::run_config::{GenerationSettings, RunConfig};
    use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
    use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
    use std::fmt;

    /// The record on `line`, or `None` when the line needs the careful path.
    pub(super) fn parse(line: &[u8]) -> Option<JobRecord> {
        let text = std::str::from_utf8(line).ok()?;
        let mut de = serde_json::Deserializer::from_str(text);
        let record = de::Deserializer::deserialize_map(&mut de, RecordVisitor).ok()?;
        de.end().ok()?;
        (record.status != JobStatus::Unknown).then_some(record)
    }

    /// A value read with derived serde, given up on (an error) when it holds a field the type
    /// does not know: the careful path then keeps that field.
    struct Strict<T>(std::marker::PhantomData<T>);

    impl<'de, T: de::Deserialize<'de>> DeserializeSeed<'de> for Strict<T> {
        type Value = T;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
            let mut unknown = false;
            let value = serde_ignored::deserialize(d, |_| unknown = true)?;
            if unknown {
                return Err(de::Error::custom("unknown field"));
            }
            Ok(value)
        }
    }

    /// A struct's field name as its index; an unknown name is an error (the careful path then
    /// keeps it).
    struct Key(fn(&str) -> Option<u8>);

    impl<'de> DeserializeSeed<'de> for Key {
        type Value = u8;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<u8, D::Error> {
            d.deserialize_identifier(self)
        }
    }

    impl Visitor<'_> for Key {
        type Value = u8;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a field name")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u8, E> {
            (self.0)(v).ok_or_else(|| E::custom("unknown field"))
        }
    }

    /// Fills `slot` from the map's next value; a second value for it is an error.
    fn put<'de, A: MapAccess<'de>, T: de::Deserialize<'de>>(
        slot: &mut Option<T>,
        map: &mut A,
    ) -> Result<(), A::Error> {
        put_seed(slot, map, std::marker::PhantomData)
    }

    fn put_seed<'de, A: MapAccess<'de>, S: DeserializeSeed<'de>>(
        slot: &mut Option<S::Value>,
        map: &mut A,
        seed: S,
    ) -> Result<(), A::Error> {
        if slot.is_some() {
            return Err(de::Error::custom("duplicate field"));
        }
        *slot = Some(map.next_value_seed(seed)?);
        Ok(())
    }

    fn required<T, E: de::Error>(slot: Option<T>) -> Result<T, E> {
        slot.ok_or_else(|| E::custom("missing field"))
    }

    fn record_field(name: &str) -> Option<u8> {
        Some(match name {
            "schema_version" => 0,
            "job_id" => 1,
            "created_at" => 2,
            "status" => 3,
            "prompt_source" => 4,
            "prompt_pack_id" => 5,
            "prompt_keys" => 6,
            "run_mode" => 7,
            "source" => 8,
            "config_hash" => 9,
            "run_config" => 10,
            "started_at" => 11,
            "completed_at" => 12,
            "duration_ms" => 13,
            "error_message" => 14,
            "prompt_styles" => 15,
            "backend" => 16,
            "runner" => 17,
            "queue_order" => 18,
            "result" => 19,
            _ => return None,
        })
    }

    struct RecordVisitor;

    impl<'de> Visitor<'de> for RecordVisitor {
        type Value = JobRecord;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a job record")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JobRecord, A::Error> {
            let mut schema_version = None;
            let mut job_id = None;
            let mut created_at = None;
            let mut status = None;
            let mut prompt_source = None;
            let mut prompt_pack_id = None;
            let mut prompt_keys = None;
            let mut run_mode = None;
            let mut source = None;
            let mut config_hash = None;
            let mut run_config = None;
            let mut started_at = None;
            let mut completed_at = None;
            let mut duration_ms = None;
            let mut error_message = None;
            let mut prompt_styles = None;
            let mut backend = None;
            let mut runner = None;
            let mut queue_order = None;
            let mut result = None;
            while let Some(key) = map.next_key_seed(Key(record_field))? {
                match key {
                    0 => put(&mut schema_version, &mut map)?,
                    1 => put(&mut job_id, &mut map)?,
                    2 => put_seed(&mut created_at, &mut map, Timestamp)?,
                    3 => put(&mut status, &mut map)?,
                    4 => put(&mut prompt_source, &mut map)?,
                    5 => put(&mut prompt_pack_id, &mut map)?,
                    6 => put(&mut prompt_keys, &mut map)?,
                    7 => put(&mut run_mode, &mut map)?,
                    8 => put(&mut source, &mut map)?,
                    9 => put(&mut config_hash, &mut map)?,
                    10 => put_seed(&mut run_config, &mut map, RunConfigVisitor)?,
                    11 => put_seed(&mut started_at, &mut map, OptionalTimestamp)?,
                    12 => put_seed(&mut completed_at, &mut map, OptionalTimestamp)?,
                    13 => put(&mut duration_ms, &mut map)?,
                    14 => put(&mut error_message, &mut map)?,
                    15 => put(&mut prompt_styles, &mut map)?,
                    16 => put(&mut backend, &mut map)?,
                    17 => put(&mut runner, &mut map)?,
                    18 => put(&mut queue_order, &mut map)?,
                    _ => put_seed(&mut result, &mut map, Strict(std::marker::PhantomData))?,
                }
            }
            Ok(JobRecord {
                schema_version: schema_version.unwrap_or(JOB_RECORD_SCHEMA_VERSION),
                job_id: required(job_id)?,
                created_at: required(created_at)?,
                status: required(status)?,
                prompt_source: required(prompt_source)?,
                prompt_pack_id: prompt_pack_id.flatten(),
                prompt_keys: prompt_keys.unwrap_or_default(),
                prompt_styles: prompt_styles.unwrap_or_default(),
                run_mode: run_mode.unwrap_or_default(),
                source: source.unwrap_or_default(),
                config_hash: required(config_hash)?,
                run_config: required(run_config)?,
                started_at: started_at.flatten(),
                completed_at: completed_at.flatten(),
                duration_ms: duration_ms.flatten(),
                error_message: error_message.flatten(),
                backend: backend.flatten(),
                runner: runner.flatten(),
                queue_order: queue_order.flatten(),
                result: result.flatten(),
                unknown: UnknownFields::default(),
            })
        }
    }

    impl<'de> DeserializeSeed<'de> for RecordVisitor {
        type Value = JobRecord;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<JobRecord, D::Error> {
            d.deserialize_map(self)
        }
    }

    fn run_config_field(name: &str) -> Option<u8> {
        Some(match name {
            "prompt_source" => 0,
            "prompt_pack_id" => 1,
            "prompt_keys" => 2,
            "prompt_payload" => 3,
            "run_mode" => 4,
            "source" => 5,
            "settings" => 6,
            _ => return None,
        })
    }

    /// A [`RunConfig`] (`#[serde(default)]`: a missing field takes `RunConfig::default()`'s).
    struct RunConfigVisitor;

    impl<'de> DeserializeSeed<'de> for RunConfigVisitor {
        type Value = RunConfig;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RunConfig, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for RunConfigVisitor {
        type Value = RunConfig;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a run config")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RunConfig, A::Error> {
            let mut prompt_source = None;
            let mut prompt_pack_id = None;
            let mut prompt_keys = None;
            let mut prompt_payload = None;
            let mut run_mode = None;
            let mut source = None;
            let mut settings = None;
            while let Some(key) = map.next_key_seed(Key(run_config_field))? {
                match key {
                    0 => put(&mut prompt_source, &mut map)?,
                    1 => put(&mut prompt_pack_id, &mut map)?,
                    2 => put(&mut prompt_keys, &mut map)?,
                    3 => put(&mut prompt_payload, &mut map)?,
                    4 => put(&mut run_mode, &mut map)?,
                    5 => put(&mut source, &mut map)?,
                    _ => put_seed(&mut settings, &mut map, SettingsVisitor)?,
                }
            }
            let d = RunConfig::default();
            Ok(RunConfig {
                prompt_source: prompt_source.unwrap_or(d.prompt_source),
                prompt_pack_id: prompt_pack_id.unwrap_or(d.prompt_pack_id),
                prompt_keys: prompt_keys.unwrap_or(d.prompt_keys),
                prompt_payload: prompt_payload.unwrap_or(d.prompt_payload),
                run_mode: run_mode.unwrap_or(d.run_mode),
                source: source.unwrap_or(d.source),
                settings: settings.unwrap_or(d.settings),
            })
        }
    }

    fn settings_field(name: &str) -> Option<u8> {
        Some(match name {
            "model" => 0,
            "sampler" => 1,
            "scheduler" => 2,
            "steps" => 3,
            "cfg_scale" => 4,
            "width" => 5,
            "height" => 6,
            "seed" => 7,
            "batch_size" => 8,
            "batch_count" => 9,
            "clip_skip" => 10,
            _ => return None,
        })
    }

    /// [`GenerationSettings`] (`#[serde(default)]` too).
    struct SettingsVisitor;

    impl<'de> DeserializeSeed<'de> for SettingsVisitor {
        type Value = GenerationSettings;
        fn deserialize<D: de::Deserializer<'de>>(
            self,
            d: D,
        ) -> Result<GenerationSettings, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for SettingsVisitor {
        type Value = GenerationSettings;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("generation settings")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GenerationSettings, A::Error> {
            let mut model = None;
            let mut sampler = None;
            let mut scheduler = None;
            let mut steps = None;
            let mut cfg_scale = None;
            let mut width = None;
            let mut height = None;
            let mut seed = None;
            let mut batch_size = None;
            let mut batch_count = None;
            let mut clip_skip = None;
            while let Some(key) = map.next_key_seed(Key(settings_field))? {
                match key {
                    0 => put(&mut model, &mut map)?,
                    1 => put(&mut sampler, &mut map)?,
                    2 => put(&mut scheduler, &mut map)?,
                    3 => put(&mut steps, &mut map)?,
                    4 => put(&mut cfg_scale, &mut map)?,
                    5 => put(&mut width, &mut map)?,
                    6 => put(&mut height, &mut map)?,
                    7 => put(&mut seed, &mut map)?,
                    8 => put(&mut batch_size, &mut map)?,
                    9 => put(&mut batch_count, &mut map)?,
                    _ => put(&mut clip_skip, &mut map)?,
                }
            }
            let d = GenerationSettings::default();
            Ok(GenerationSettings {
                model: model.unwrap_or(d.model),
                sampler: sampler.unwrap_or(d.sampler),
                scheduler: scheduler.unwrap_or(d.scheduler),
                steps: steps.unwrap_or(d.steps),
                cfg_scale: cfg_scale.unwrap_or(d.cfg_scale),
                width: width.unwrap_or(d.width),
                height: height.unwrap_or(d.height),
                seed: seed.unwrap_or(d.seed),
                batch_size: batch_size.unwrap_or(d.batch_size),
                batch_count: batch_count.unwrap_or(d.batch_count),
                clip_skip: clip_skip.unwrap_or(d.clip_skip),
            })
        }
    }

    /// A `DateTime<Utc>` as chrono's serde reads it (RFC 3339 through
    /// `DateTime<FixedOffset>`'s `FromStr`), with the canonical form promptdesk writes
    /// (`2024-05-01T12:30:00.123456789Z`) parsed directly.
    struct Timestamp;

    impl<'de> DeserializeSeed<'de> for Timestamp {
        type Value = DateTime<Utc>;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<DateTime<Utc>, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl Visitor<'_> for Timestamp {
        type Value = DateTime<Utc>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 timestamp")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<DateTime<Utc>, E> {
            match canonical_utc(v.as_bytes()) {
                Some(t) => Ok(t),
                None => v
                    .parse::<DateTime<FixedOffset>>()
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(E::custom),
            }
        }
    }

    /// `Option<DateTime<Utc>>`: `null` is `None`.
    struct OptionalTimestamp;

    impl<'de> DeserializeSeed<'de> for OptionalTimestamp {
        type Value = Option<DateTime<Utc>>;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_option(self)
        }
    }

    impl<'de> Visitor<'de> for OptionalTimestamp {
        type Value = Option<DateTime<Utc>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 timestamp or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            Timestamp.deserialize(d).map(Some)
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` exactly, as a valid UTC time; `None` for anything else
    /// (chrono then decides).
    pub(super) fn canonical_utc(b: &[u8]) -> Option<DateTime<Utc>> {
        fn num(b: &[u8]) -> Option<u32> {
            b.iter().try_fold(0u32, |n, &c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        }
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b.last() != Some(&b'Z')
        {
            return None;
        }
        let nanos = match &b[19..b.len() - 1] {
            [] => 0,
            [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
                num(digits)? * 10u32.pow(9 - digits.len() as u32)
            }
            _ => return None,
        };
        let second = num(&b[17..19])?;
        if second > 59 {
            return None; // a leap second: chrono's rules
        }
        let date = NaiveDate::from_ymd_opt(num(&b[0..4])? as i32, num(&b[5..7])?, num(&b[8..10])?)?;
        let time = date.and_hms_nano_opt(num(&b[11..13])?, num(&b[14..16])?, second, nanos)?;
        Some(time.and_utc())
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    fn careful(line: &str) -> Result<JobRecord, String> {
        let mut ignored: Vec<Vec<Seg>> = Vec::new();
        let mut de = serde_json::Deserializer::from_slice(line.as_bytes());
        let mut record: JobRecord =
            serde_ignored::deserialize(&mut de, |path| ignored.push(segments(&path)))
                .map_err(|e| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        if !ignored.is_empty() || record.status == JobStatus::Unknown {
            record.unknown =
                UnknownFields::capture(line.as_bytes(), &ignored).map_err(|e| e.to_string())?;
        }
        Ok(record)
    }

    fn same(line: &str) {
        let fast = JobRecord::from_json_line(line.as_bytes()).map_err(|e| e.to_string());
        assert_eq!(fast, careful(line), "{line}");
    }

    const FULL: &str = r#"{"schema_version":1,"job_id":"j1","created_at":"2022-01-03T09:01:53.049756Z","status":"completed","prompt_source":"pack","prompt_pack_id":"p","prompt_keys":["12"],"run_mode":"queue","source":"gui","config_hash":"abc","run_config":{"prompt_source":"pack","prompt_pack_id":"p","prompt_keys":["12"],"prompt_payload":{"pack_id":"p","prompts":{"12":{"prompt":"a \"cat\" \u00fcber","negative_prompt":"x"}}},"run_mode":"queue","source":"gui","settings":{"model":"m","sampler":"LMS","scheduler":"Automatic","steps":42,"cfg_scale":4,"width":832,"height":1024,"seed":-1,"batch_size":2,"batch_count":1,"clip_skip":2}},"started_at":"2022-01-03T09:01:56Z","completed_at":null,"duration_ms":13804,"error_message":"boom"}"#;

    #[test]
    fn the_fast_path_reads_what_the_careful_one_reads() {
        assert!(
            fast::parse(FULL.as_bytes()).is_some(),
            "a plain line takes the fast path"
        );
        same(FULL);
        // Defaults and nulls.
        same(
            r#"{"job_id":"j","created_at":"2024-05-01T12:30:00+02:00","status":"queued","prompt_source":"manual","config_hash":"h","run_config":{}}"#,
        );
        same(
            r#"{"job_id":"j","created_at":"2024-05-01 12:30:00.5Z","status":"queued","prompt_source":"manual","prompt_pack_id":null,"config_hash":"h","run_config":{"settings":{"steps":3}},"started_at":null}"#,
        );
        // Unknown fields at each level, unknown status: the careful path keeps them.
        same(&FULL.replace(r#""job_id":"j1""#, r#""job_id":"j1","outputs":[1,2]"#));
        same(&FULL.replace(
            r#""run_mode":"queue","source":"gui","settings""#,
            r#""run_mode":"queue","styles":["s"],"source":"gui","settings""#,
        ));
        same(&FULL.replace(r#""clip_skip":2"#, r#""clip_skip":2,"hires":{"on":true}"#));
        same(&FULL.replace(r#""status":"completed""#, r#""status":"paused""#));
        // Errors come from the careful path, unchanged.
        same(&FULL.replace(r#""job_id":"j1","#, ""));
        same(&FULL.replace(
            r#""config_hash":"abc""#,
            r#""config_hash":"abc","config_hash":"x""#,
        ));
        same(&FULL.replace(r#""steps":42"#, r#""steps":-42"#));
        same(&FULL.replace(
            r#""created_at":"2022-01-03T09:01:53.049756Z""#,
            r#""created_at":"2022-02-30T09:01:53Z""#,
        ));
        same(&format!("{FULL} x"));
        same(r#"{"job_id":"j","#);
        same("[1,2]");
        same(r#"{"job_id":7}"#);
    }

    #[test]
    fn canonical_timestamps_parse_as_chrono_parses_them() {
        for text in [
            "2022-01-03T09:01:53.049756Z",
            "2022-01-03T09:01:53Z",
            "2022-01-03T09:01:53.1Z",
            "2022-01-03T09:01:53.123456789Z",
            "1999-12-31T23:59:59.999999999Z",
            "2024-02-29T00:00:00Z",
        ] {
            let chrono: DateTime<Utc> = text
                .parse::<DateTime<chrono::FixedOffset>>()
                .unwrap()
                .into();
            assert_eq!(fast::canonical_utc(text.as_bytes()), Some(chrono), "{text}");
        }
        for text in [
            "2023-02-29T00:00:00Z",
            "2022-01-03T09:01:60Z",
            "2022-01-03T09:01:53.1234567890Z",
            "2022-01-03T09:01:53.Z",
            "2022-01-03T09:01:53+00:00",
            "2022-01-03 09:01:53Z",
            "+2022-01-03T09:01:53Z",
        ] {
            assert_eq!(fast::canonical_utc(text.as_bytes()), None, "{text}");
        }
    }
}
