//! InvokeAI style presets ("prompt templates").
//!
//! Two list shapes, as InvokeAI reads them (`invokeai/app/services/style_preset_records/`):
//! - its presets file (`default_style_presets.json`):
//!   `[{"name", "type", "preset_data": {"positive_prompt", "negative_prompt"}}, ...]`, texts kept
//!   as written;
//! - its import list (`StylePresetImportRow`): `[{"name", "positive_prompt" (or "prompt"),
//!   "negative_prompt"}, ...]`, where InvokeAI strips surrounding whitespace from every value
//!   (`str_strip_whitespace`), and so does this reader.
//!
//! Each preset is one style keyed by its name; InvokeAI's placeholder is `{prompt}`. An element
//! without a non-empty `name` is skipped with a warning (InvokeAI refuses the whole import); a
//! name used twice: the later one wins, in the earlier one's place, with a warning.

use super::styles_json::{named_list, text_of};
use super::{PackError, ParsedFile};
use serde_json::Value;
use std::path::Path;

/// True when `value` is a list in one of the InvokeAI shapes: an element has `preset_data` or
/// a top-level `positive_prompt`.
pub(crate) fn is_presets_list(value: &Value) -> bool {
    value.as_array().is_some_and(|items| {
        items.iter().any(|item| {
            item.as_object()
                .is_some_and(|o| o.contains_key("preset_data") || o.contains_key("positive_prompt"))
        })
    })
}

/// Parses one file's text. `path` is only used to name the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<ParsedFile, PackError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value = super::keyed_json::parse_value(path, text)?;
    from_value(path, text, &value)
}

/// Builds the styles from an already-read JSON value (`text` is the same document, used to
/// find line numbers).
pub(crate) fn from_value(path: &Path, text: &str, value: &Value) -> Result<ParsedFile, PackError> {
    named_list(path, text, value, "style preset", |obj, what| {
        match obj.get("preset_data") {
            Some(Value::Object(data)) => Ok((
                text_of(data, "positive_prompt", what)?,
                text_of(data, "negative_prompt", what)?,
            )),
            Some(_) => Err(format!("\"preset_data\" of {what} must be an object")),
            None => {
                // The import row: `positive_prompt`, else its alias `prompt`; values stripped.
                let positive = match text_of(obj, "positive_prompt", what)? {
                    Some(p) => Some(p),
                    None => text_of(obj, "prompt", what)?,
                };
                let negative = text_of(obj, "negative_prompt", what)?;
                Ok((positive.map(str::trim), negative.map(str::trim)))
            }
        }
    })
}
