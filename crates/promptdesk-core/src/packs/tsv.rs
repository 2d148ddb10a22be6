//! `.tsv` packs: one prompt per line, `positive<TAB>negative`.
//!
//! Blank lines and lines starting with `#` (after trimming) are skipped. A line with no tab is a
//! positive prompt with an empty negative; text after a second tab stays in the negative.
//!
//! Keys are 1-based row numbers counted over the prompt rows only (comments and blank lines
//! take no number), so key `"3"` is the third prompt in the file whatever comes between.

use super::{PackError, PackPrompt, ParsedFile};
use std::path::Path;

/// Parses one file's text. `path` is only used to name the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<ParsedFile, PackError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut prompts = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let (positive, negative) = raw.split_once('\t').unwrap_or((raw, ""));
        let key = (prompts.len() + 1).to_string();
        let prompt = PackPrompt::from_texts(key, positive.trim(), negative.trim(), Some(line_no))
            .map_err(|kind| PackError::in_file(path, Some(line_no), kind))?;
        prompts.push(prompt);
    }
    Ok(ParsedFile {
        prompts,
        ..ParsedFile::default()
    })
}
