//! Export to JSON Lines, CSV and AUTOMATIC1111 infotext (stub: signatures fixed).

use crate::job_record::JobRecord;
use crate::run_config::GenerationSettings;
use std::io::Write;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
    Csv,
    Infotext,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "jsonl" | "json" => Ok(ExportFormat::Jsonl),
            "csv" => Ok(ExportFormat::Csv),
            "infotext" | "txt" => Ok(ExportFormat::Infotext),
            other => Err(format!("unknown export format {other:?} (expected jsonl, csv or infotext)")),
        }
    }
}

/// Writes `records` in `format` to `out`; returns how many records were written.
pub fn export_records<'a, W: Write>(
    records: impl IntoIterator<Item = &'a JobRecord>,
    format: ExportFormat,
    out: W,
) -> std::io::Result<usize> {
    let _ = (format, out);
    Ok(records.into_iter().count())
}

/// One A1111 infotext block for one prompt pair and its settings.
pub fn infotext_block(positive: &str, negative: &str, settings: &GenerationSettings) -> String {
    let _ = (negative, settings);
    positive.to_owned()
}

/// A record as infotext: one block per prompt, blocks separated by a blank line.
pub fn infotext_for_record(record: &JobRecord) -> String {
    record
        .run_config
        .prompt_pairs()
        .iter()
        .map(|(p, n)| infotext_block(p, n, &record.run_config.settings))
        .collect::<Vec<_>>()
        .join("\n\n")
}
