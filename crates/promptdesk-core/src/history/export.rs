//! Export to JSON Lines, CSV and AUTOMATIC1111 infotext.
//!
//! - **JSON Lines**: one [`JobRecord`] per line ([`JobRecord::to_json_line`]); the exact
//!   format, re-readable field for field.
//! - **CSV** (for spreadsheets): a header row, then one row per record with the columns of
//!   [`CSV_HEADER`]. `prompt_keys` is a JSON array (`["1","3"]`, `[]` for none), so any key
//!   round-trips, commas included. `prompt` / `negative_prompt` hold the prompts of every
//!   selected key in key order, joined with a blank line (`"\n\n"`); a manual run has one.
//!   Timestamps are RFC 3339 UTC; absent values are empty cells; `cfg_scale` is written in its
//!   shortest exact form (`7`, `6.5`).
//! - **Infotext**: what AUTOMATIC1111 shows under a picture and reads back with "Read
//!   generation parameters": per prompt pair the prompt, a `Negative prompt:` line (left out
//!   when empty) and the parameter line `Steps: 20, Sampler: Euler a, Schedule type: Karras,
//!   CFG scale: 7, Seed: -1, Size: 512x512, Model hash: …, Model: …, Clip skip: 2`.
//!   Schedule type is left out when the scheduler is empty or "Automatic" (A1111 reads a
//!   missing Schedule type as Automatic); Model hash appears only when the model name is an
//!   A1111 checkpoint title ending in `[hash]`, Model (the checkpoint name without its
//!   extension and hash, as A1111 writes it) only when a model is set; Clip skip only when
//!   above 1. The seed is the one actually used once a job has run, where the record knows it
//!   ([`seed_used`]: an import keeps the seed StableNew recorded as drawn), else the
//!   configured one (-1 for a random seed the record never learnt). Settings the source never
//!   recorded ([`crate::RunConfig::unknown_settings`]) are left out. Values containing `,`,
//!   `:` or a newline are JSON-quoted. One block per request the record sent (its rendered
//!   requests, else its prompt pairs), records in order, blocks separated by one blank line.
//!
//! CSV takes the same choices: the `prompt` / `negative_prompt` cells hold the requests sent
//! (rendered, else as recorded), the `seed` cell the seed used where known, and a setting the
//! source never recorded is a blank cell.
//!
//! **Control characters.** In CSV and infotext, the C0 control characters other than tab, line
//! feed and carriage return (U+0000–U+001F: NUL, ESC, ...) and DEL (U+007F) are written as their
//! Unicode control pictures (U+2400–U+241F, and U+2421 for DEL: NUL becomes `␀`, ESC `␛`), so a
//! prompt can never put raw terminal escapes or NULs into a spreadsheet or a text file; see
//! [`visible_controls`]. JSON Lines keeps them exact (JSON escapes them as `\u0000`).
//!
//! **Order**: oldest first, by submission ([`sort_for_export`]), in the CLI and the app alike.
//!
//! **Writing a file** ([`export_to_file`], used by the CLI and the app alike): the file is
//! replaced atomically ([`crate::fsutil::write_atomically`]), and an output that is the live
//! history or its quarantine file (by any path: relative, through a symlink or a hard link) is
//! refused before anything is written ([`check_export_target`]).

use super::query::{SortColumn, sort_indices};
use super::store::quarantine_path_for;
use crate::job_record::JobRecord;
use crate::run_config::{GenerationSettings, RunConfig};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use std::borrow::Cow;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
    Csv,
    Infotext,
}

impl ExportFormat {
    /// The usual file extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Csv => "csv",
            ExportFormat::Infotext => "txt",
        }
    }
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "jsonl" | "json" => Ok(ExportFormat::Jsonl),
            "csv" => Ok(ExportFormat::Csv),
            "infotext" | "txt" => Ok(ExportFormat::Infotext),
            other => Err(format!(
                "unknown export format {other:?} (expected jsonl, csv or infotext)"
            )),
        }
    }
}

/// The CSV export's columns, in order.
pub const CSV_HEADER: [&str; 26] = [
    "job_id",
    "created_at",
    "status",
    "prompt_source",
    "prompt_pack_id",
    "prompt_keys",
    "run_mode",
    "source",
    "config_hash",
    "prompt",
    "negative_prompt",
    "model",
    "sampler",
    "scheduler",
    "steps",
    "cfg_scale",
    "width",
    "height",
    "seed",
    "batch_size",
    "batch_count",
    "clip_skip",
    "started_at",
    "completed_at",
    "duration_ms",
    "error_message",
];

/// The `run_config.prompt_payload` key holding the seed the backend actually used (an
/// integer), where the record knows it: a StableNew import keeps the seed StableNew recorded
/// as drawn. Not part of the config hash (the configured seed is), not searchable text.
pub const SEED_USED_KEY: &str = "seed_used";

/// The seed the backend actually used for this run, where the record knows it.
pub fn seed_used(cfg: &RunConfig) -> Option<i64> {
    cfg.prompt_payload
        .get(SEED_USED_KEY)
        .and_then(Value::as_i64)
        .filter(|s| *s >= 0)
}

/// Records (or, with None, forgets) the seed the backend actually used.
pub fn set_seed_used(cfg: &mut RunConfig, seed: Option<i64>) {
    match seed.filter(|s| *s >= 0) {
        Some(seed) => {
            cfg.prompt_payload
                .insert(SEED_USED_KEY.to_owned(), Value::from(seed));
        }
        None => {
            cfg.prompt_payload.remove(SEED_USED_KEY);
        }
    }
}

/// The seed an export writes: the one used where known, else the configured one; None when
/// neither is known (the source never recorded a seed and the record never learnt one used).
pub fn seed_written(cfg: &RunConfig) -> Option<i64> {
    seed_used(cfg).or_else(|| (!cfg.is_setting_unknown("seed")).then_some(cfg.settings.seed))
}

/// Why an export to a file was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The output is (by some path) a file of the history; nothing was written.
    #[error(
        "refusing to export to {output}: it is {what} {protected}, and the export would replace it; choose another file (nothing was written)",
        output = .output.display(), protected = .protected.display()
    )]
    WouldReplaceHistory {
        output: PathBuf,
        /// The history file it resolves to.
        protected: PathBuf,
        /// "the history file" or "the history's quarantine file".
        what: &'static str,
    },
    /// The output is a folder; nothing was written.
    #[error("{path} is a folder; give a file name to export to", path = .path.display())]
    IsAFolder { path: PathBuf },
    /// Writing failed; the old file (if any) is unchanged.
    #[error("{path}: cannot export: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ExportError {
    /// True when the export was refused because of what the output is (bad input, the CLI's
    /// exit 2), false when writing failed.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, ExportError::Io { .. })
    }
}

/// `path` made absolute with its symlinks resolved: the file itself when it exists (following
/// a symlink), else its existing folder resolved plus the file name, else the path made
/// absolute as written.
fn resolve_path(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    if let Some(name) = path.file_name()
        && let Ok(dir) = std::fs::canonicalize(crate::fsutil::parent_dir(path))
    {
        return dir.join(name);
    }
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// True when `a` and `b` name the same file: the same resolved path, or (Unix, both existing)
/// the same device and inode (a hard link).
fn same_file(a: &Path, b: &Path) -> bool {
    if resolve_path(a) == resolve_path(b) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    false
}

/// Refuses an export to `output` when it is the history file at `history_path` or its
/// quarantine file ([`quarantine_path_for`]), by whatever path (relative, `..`, a symlink to
/// the file or to its folder, a hard link), whether or not they exist yet.
pub fn check_export_target(output: &Path, history_path: &Path) -> Result<(), ExportError> {
    let quarantine = quarantine_path_for(history_path);
    for (protected, what) in [
        (history_path, "the history file"),
        (quarantine.as_path(), "the history's quarantine file"),
    ] {
        if same_file(output, protected) {
            return Err(ExportError::WouldReplaceHistory {
                output: output.to_path_buf(),
                protected: resolve_path(protected),
                what,
            });
        }
    }
    Ok(())
}

/// Puts `rows` (indices into `records`) in the order every export writes, whatever the
/// table's sort: oldest first, by submission (`created_at`, then the job's position in the
/// history). The CLI's `export` and the app's Export history both call it, so the same rows
/// give the same file in all three formats.
pub fn sort_for_export(records: &[JobRecord], rows: &mut [u32]) {
    sort_indices(records, rows, SortColumn::Time, false);
}

/// Exports `records` to the file `output` (the CLI's `export` and the app's Export history):
/// refuses a folder and the files of the history at `history_path` ([`check_export_target`]),
/// removes temp files a crashed export to the same name left behind
/// ([`crate::fsutil::remove_stale_temps`]), then replaces `output` atomically. Returns how
/// many records were written.
pub fn export_to_file<'a>(
    records: impl IntoIterator<Item = &'a JobRecord>,
    format: ExportFormat,
    output: &Path,
    history_path: &Path,
) -> Result<usize, ExportError> {
    check_export_target(output, history_path)?;
    if output.is_dir() {
        return Err(ExportError::IsAFolder {
            path: output.to_path_buf(),
        });
    }
    if let Some(name) = output.file_name() {
        crate::fsutil::remove_stale_temps(
            crate::fsutil::parent_dir(output),
            name,
            crate::fsutil::STALE_TEMP_AGE,
        );
    }
    crate::fsutil::write_atomically(output, |file| export_records(records, format, file)).map_err(
        |source| ExportError::Io {
            path: output.to_path_buf(),
            source,
        },
    )
}

/// `text` with every C0 control character except tab, line feed and carriage return, and DEL,
/// replaced by its Unicode control picture (U+2400 + code; DEL is U+2421): `"a\0b\x1b"` gives
/// `"a␀b␛"`. Text without such characters is returned as it is.
pub fn visible_controls(text: &str) -> Cow<'_, str> {
    let hidden = |c: char| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}';
    if !text.contains(hidden) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match c {
                '\u{7f}' => '\u{2421}',
                c if hidden(c) => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
                c => c,
            })
            .collect(),
    )
}

fn visible_owned(text: String) -> String {
    match visible_controls(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(clean) => clean,
    }
}

/// Writes `records` in `format` to `out`; returns how many records were written.
pub fn export_records<'a, W: Write>(
    records: impl IntoIterator<Item = &'a JobRecord>,
    format: ExportFormat,
    out: W,
) -> std::io::Result<usize> {
    match format {
        ExportFormat::Jsonl => {
            let mut out = BufWriter::new(out);
            let mut n = 0;
            for record in records {
                out.write_all(record.to_json_line().as_bytes())?;
                out.write_all(b"\n")?;
                n += 1;
            }
            out.flush()?;
            Ok(n)
        }
        ExportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(CSV_HEADER)?;
            let mut n = 0;
            for record in records {
                csv.write_record(csv_row(record))?;
                n += 1;
            }
            csv.flush()?;
            Ok(n)
        }
        ExportFormat::Infotext => {
            let mut out = BufWriter::new(out);
            let mut n = 0;
            for record in records {
                if n > 0 {
                    out.write_all(b"\n")?;
                }
                out.write_all(infotext_for_record(record).as_bytes())?;
                out.write_all(b"\n")?;
                n += 1;
            }
            out.flush()?;
            Ok(n)
        }
    }
}

fn time_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// One CSV row (the columns of [`CSV_HEADER`]), control characters made visible
/// ([`visible_controls`]).
pub fn csv_row(record: &JobRecord) -> Vec<String> {
    let s = &record.run_config.settings;
    // What was sent (the rendered requests), else the prompts as recorded.
    let pairs: Vec<(String, String)> = record
        .run_config
        .requests()
        .into_iter()
        .map(|r| (r.prompt, r.negative_prompt))
        .collect();
    let unknown = record.run_config.unknown_settings();
    // A setting the source never recorded is a blank cell, not a placeholder value.
    let cell = |name: &str, value: String| {
        if unknown.iter().any(|u| u == name) {
            String::new()
        } else {
            value
        }
    };
    let join = |pick: fn(&(String, String)) -> &str| {
        pairs.iter().map(pick).collect::<Vec<_>>().join("\n\n")
    };
    let keys = Value::Array(
        record
            .prompt_keys
            .iter()
            .map(|k| Value::String(k.clone()))
            .collect(),
    )
    .to_string();
    vec![
        record.job_id.clone(),
        time_text(&record.created_at),
        record.status_text().into_owned(),
        record.prompt_source.as_str().to_owned(),
        record.prompt_pack_id.clone().unwrap_or_default(),
        keys,
        record.run_mode.as_str().to_owned(),
        record.source.as_str().to_owned(),
        record.config_hash.clone(),
        join(|p| &p.0),
        join(|p| &p.1),
        cell("model", s.model.clone()),
        cell("sampler", s.sampler.clone()),
        cell("scheduler", s.scheduler.clone()),
        cell("steps", s.steps.to_string()),
        cell("cfg_scale", s.cfg_scale.to_string()),
        cell("width", s.width.to_string()),
        cell("height", s.height.to_string()),
        seed_written(&record.run_config)
            .map(|seed| seed.to_string())
            .unwrap_or_default(),
        cell("batch_size", s.batch_size.to_string()),
        cell("batch_count", s.batch_count.to_string()),
        cell("clip_skip", s.clip_skip.to_string()),
        record
            .started_at
            .as_ref()
            .map(time_text)
            .unwrap_or_default(),
        record
            .completed_at
            .as_ref()
            .map(time_text)
            .unwrap_or_default(),
        record
            .duration_ms
            .map(|d| d.to_string())
            .unwrap_or_default(),
        record.error_message.clone().unwrap_or_default(),
    ]
    .into_iter()
    .map(visible_owned)
    .collect()
}

/// A parameter value as A1111 writes it: JSON-quoted when it contains `,`, `:` or a newline.
pub fn quote_infotext_value(value: &str) -> String {
    if value.contains([',', ':', '\n']) {
        Value::String(value.to_owned()).to_string()
    } else {
        value.to_owned()
    }
}

/// The `Model` value A1111 writes for a checkpoint title: its `CheckpointInfo.model_name`
/// (sub-folders joined with `_` instead of `/` or `\`, no extension) with `,` and `:` removed
/// (`processing.create_infotext`); and the hash, if the title carries one.
fn a1111_model_name(model: &str) -> (String, Option<&str>) {
    let (name, hash) = model_name_and_hash(model);
    let name: String = name
        .chars()
        .filter(|c| !matches!(c, ',' | ':'))
        .map(|c| if matches!(c, '/' | '\\') { '_' } else { c })
        .collect();
    (name, hash)
}

/// Splits an A1111 checkpoint title (`name.safetensors [0123abcd]`) into the file name
/// without its checkpoint extension and the hash, if the title carries one.
fn model_name_and_hash(model: &str) -> (&str, Option<&str>) {
    let model = model.trim();
    let (name, hash) = match model.strip_suffix(']').and_then(|m| m.rsplit_once(" [")) {
        Some((name, hash)) if !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            (name.trim_end(), Some(hash))
        }
        _ => (model, None),
    };
    // Keep folders (A1111 writes sub-folder names too) but drop a checkpoint extension.
    let lower = name.to_ascii_lowercase();
    for ext in [".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf"] {
        if lower.ends_with(ext) && name.len() > ext.len() {
            return (&name[..name.len() - ext.len()], hash);
        }
    }
    (name, hash)
}

/// The A1111 parameter line for `settings` (control characters made visible).
pub fn infotext_parameters(settings: &GenerationSettings) -> String {
    infotext_parameters_known(settings, &[])
}

/// The A1111 parameter line for `settings`, leaving out the settings named in `unknown`
/// ([`GenerationSettings`] field names a source never recorded).
pub fn infotext_parameters_known(settings: &GenerationSettings, unknown: &[String]) -> String {
    let known = |name: &str| !unknown.iter().any(|u| u == name);
    let mut params: Vec<(&str, String)> = Vec::with_capacity(9);
    if known("steps") {
        params.push(("Steps", settings.steps.to_string()));
    }
    if known("sampler") {
        params.push(("Sampler", settings.sampler.clone()));
    }
    let scheduler = settings.scheduler.trim();
    if known("scheduler") && !scheduler.is_empty() && !scheduler.eq_ignore_ascii_case("automatic") {
        params.push(("Schedule type", scheduler.to_owned()));
    }
    if known("cfg_scale") {
        params.push(("CFG scale", settings.cfg_scale.to_string()));
    }
    if known("seed") {
        params.push(("Seed", settings.seed.to_string()));
    }
    if known("width") && known("height") {
        params.push(("Size", format!("{}x{}", settings.width, settings.height)));
    }
    if known("model") {
        let (model, hash) = a1111_model_name(&settings.model);
        if let Some(hash) = hash {
            params.push(("Model hash", hash.to_owned()));
        }
        if !model.is_empty() {
            params.push(("Model", model));
        }
    }
    if known("clip_skip") && settings.clip_skip > 1 {
        params.push(("Clip skip", settings.clip_skip.to_string()));
    }
    let line = params
        .into_iter()
        .map(|(k, v)| format!("{k}: {}", quote_infotext_value(&v)))
        .collect::<Vec<_>>()
        .join(", ");
    visible_owned(line)
}

/// One A1111 infotext block for one prompt pair and its settings (control characters made
/// visible, see [`visible_controls`]).
pub fn infotext_block(positive: &str, negative: &str, settings: &GenerationSettings) -> String {
    infotext_block_known(positive, negative, settings, &[])
}

/// [`infotext_block`] leaving out the settings named in `unknown`.
pub fn infotext_block_known(
    positive: &str,
    negative: &str,
    settings: &GenerationSettings,
    unknown: &[String],
) -> String {
    let mut out = String::with_capacity(positive.len() + negative.len() + 160);
    let positive = visible_controls(positive.trim());
    let negative = visible_controls(negative.trim());
    let (positive, negative) = (positive.as_ref(), negative.as_ref());
    if !positive.is_empty() {
        out.push_str(positive);
        out.push('\n');
    }
    if !negative.is_empty() {
        out.push_str("Negative prompt: ");
        out.push_str(negative);
        out.push('\n');
    }
    out.push_str(&infotext_parameters_known(settings, unknown));
    out
}

/// A record as infotext: one block per request it sends (the rendered requests, else the
/// prompts as recorded), blocks separated by a blank line; the seed used where known
/// ([`seed_written`]); settings the source never recorded are left out. A record without any
/// prompt gives one block holding only the parameter line.
pub fn infotext_for_record(record: &JobRecord) -> String {
    let cfg = &record.run_config;
    let mut unknown = cfg.unknown_settings();
    let mut settings = std::borrow::Cow::Borrowed(&cfg.settings);
    // None only when the seed is unknown (and so left out already).
    if let Some(seed) = seed_written(cfg) {
        settings.to_mut().seed = seed;
        unknown.retain(|u| u != "seed");
    }
    let requests = cfg.requests();
    if requests.is_empty() {
        return infotext_block_known("", "", &settings, &unknown);
    }
    // A job promptdesk ran knows the seed of every image: each request's block gets the seed
    // of its first image.
    let images = record
        .result
        .as_ref()
        .map(|r| r.images.as_slice())
        .unwrap_or(&[]);
    requests
        .iter()
        .map(|r| {
            let used = images
                .iter()
                .find(|i| i.key == r.key && i.variant == r.variant)
                .map(|i| i.seed);
            match used {
                Some(seed) if seed != settings.seed => {
                    let mut own = settings.clone().into_owned();
                    own.seed = seed;
                    let unknown: Vec<String> =
                        unknown.iter().filter(|u| *u != "seed").cloned().collect();
                    infotext_block_known(&r.prompt, &r.negative_prompt, &own, &unknown)
                }
                _ => infotext_block_known(&r.prompt, &r.negative_prompt, &settings, &unknown),
            }
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// One infotext block read back: prompt, negative prompt and the `key: value` parameters in
/// the order written (quoted values unquoted; `Size` kept as `WxH`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedInfotext {
    pub prompt: String,
    pub negative: String,
    pub params: Vec<(String, String)>,
}

impl ParsedInfotext {
    /// The value of parameter `key` (exact name, e.g. `"CFG scale"`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn param_regex() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        // A1111's re_param: a key of word characters, spaces, '-' and '/', then either a
        // JSON-quoted value or everything up to the next comma.
        regex::Regex::new(r#"\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)"#).ok()
    })
    .as_ref()
}

/// Parses one infotext block the way A1111 does: the last line holds the parameters only
/// when it yields at least 3 `key: value` matches (otherwise it belongs to the prompt); lines
/// from the first one starting with `Negative prompt:` on are the negative prompt. Returns
/// None for empty text.
pub fn parse_infotext(text: &str) -> Option<ParsedInfotext> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut lines: Vec<&str> = text.split('\n').collect();
    let mut params = Vec::new();
    if let (Some(last), Some(re)) = (lines.last(), param_regex()) {
        let found: Vec<(String, String)> = re
            .captures_iter(last)
            .filter_map(|c| Some((c.get(1)?.as_str().to_owned(), c.get(2)?.as_str().to_owned())))
            .collect();
        if found.len() >= 3 {
            lines.pop();
            params = found
                .into_iter()
                .map(|(k, v)| {
                    let v = if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
                        serde_json::from_str::<String>(&v).unwrap_or(v)
                    } else {
                        v
                    };
                    (k, v)
                })
                .collect();
        }
    }
    let mut prompt = String::new();
    let mut negative = String::new();
    let mut in_negative = false;
    for line in lines {
        let mut line = line.trim();
        if let Some(rest) = line.strip_prefix("Negative prompt:") {
            in_negative = true;
            line = rest.trim();
        }
        let target = if in_negative {
            &mut negative
        } else {
            &mut prompt
        };
        if !target.is_empty() {
            target.push('\n');
        }
        target.push_str(line);
    }
    Some(ParsedInfotext {
        prompt,
        negative,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_titles_lose_extension_and_hash() {
        assert_eq!(
            model_name_and_hash("juggernautXL_v9.safetensors [dd08fa32f9]"),
            ("juggernautXL_v9", Some("dd08fa32f9"))
        );
        assert_eq!(
            model_name_and_hash("sd_xl_base_1.0.safetensors"),
            ("sd_xl_base_1.0", None)
        );
        assert_eq!(model_name_and_hash("StableNew-XL"), ("StableNew-XL", None));
        assert_eq!(model_name_and_hash("odd [name]"), ("odd [name]", None));
        assert_eq!(model_name_and_hash(""), ("", None));
    }

    #[test]
    fn values_with_separators_are_quoted() {
        assert_eq!(quote_infotext_value("Euler a"), "Euler a");
        assert_eq!(quote_infotext_value("a, b"), "\"a, b\"");
        assert_eq!(quote_infotext_value("x:y"), "\"x:y\"");
        assert_eq!(quote_infotext_value("l1\nl2"), "\"l1\\nl2\"");
    }

    #[test]
    fn control_characters_become_control_pictures() {
        assert!(matches!(
            visible_controls("plain\ttext\r\n"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            visible_controls("a\0b\x1b[31mc\x7fd\x01"),
            "a\u{2400}b\u{241b}[31mc\u{2421}d\u{2401}"
        );
        assert_eq!(visible_controls("\u{1f}"), "\u{241f}");
    }

    #[test]
    fn a_prompt_line_with_few_colons_is_not_taken_for_parameters() {
        let parsed = parse_infotext("castle: tall, moat: deep").expect("non-empty");
        assert_eq!(parsed.prompt, "castle: tall, moat: deep");
        assert!(parsed.params.is_empty());
        assert_eq!(parse_infotext("  \n "), None);
    }
}
