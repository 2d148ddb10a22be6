//! AUTOMATIC1111 `styles.csv` (also read by InvokeAI and SwarmUI).
//!
//! UTF-8, with or without a BOM; a header row naming the columns `name`, `prompt` (or the
//! legacy `text`) and, optionally, `negative_prompt`, in any order and any case; standard CSV
//! quoting, so values may span lines. Each row is one prompt keyed by its style name (kept as
//! written, surrounding spaces trimmed). Rows with an empty name, or a name starting with `#`,
//! are skipped. A name used twice is a `DuplicateKey` error on the second row's line.

use super::{PackError, PackErrorKind, PackPrompt, ParsedFile, check_unique_keys};
use std::path::Path;

fn csv_error(path: &Path, err: &csv::Error) -> PackError {
    let line = err.position().map(|p| p.line() as usize).filter(|&l| l > 0);
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("the row has {len} fields, the header has {expected_len}")
        }
        _ => err.to_string(),
    };
    PackError::in_file(path, line, PackErrorKind::Csv(message))
}

/// Parses one file's text. `path` is only used to name the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<ParsedFile, PackError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());

    let header = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
    let column = |names: &[&str]| {
        names.iter().find_map(|want| {
            header.iter().position(|h| {
                h.trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(want)
            })
        })
    };
    let name_col = column(&["name"]);
    let prompt_col = column(&["prompt", "text"]);
    let (Some(name_col), Some(prompt_col)) = (name_col, prompt_col) else {
        return Err(PackError::in_file(
            path,
            Some(1),
            PackErrorKind::Structure(
                "the header must name the columns \"name\" and \"prompt\" (or \"text\")".to_owned(),
            ),
        ));
    };
    let negative_col = column(&["negative_prompt", "negative"]);

    let mut prompts = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record
            .position()
            .map(|p| p.line() as usize)
            .filter(|&l| l > 0);
        let name = record.get(name_col).unwrap_or_default().trim();
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        let positive = record.get(prompt_col).unwrap_or_default();
        let negative = negative_col.and_then(|c| record.get(c)).unwrap_or_default();
        let prompt = PackPrompt::from_texts(name, positive, negative, line)
            .map_err(|kind| PackError::in_file(path, line, kind))?;
        prompts.push(prompt);
    }
    check_unique_keys(&prompts).map_err(|(line, kind)| PackError::in_file(path, line, kind))?;
    Ok(ParsedFile {
        prompts,
        ..ParsedFile::default()
    })
}
