//! SwarmUI presets: `{key: {"title", "description", "param_map": {"prompt", "negativeprompt",
//! ...}}, ...}` (SwarmUI's preset export and import).
//!
//! Each preset whose `param_map` sets `prompt` or `negativeprompt` is one style, named by its
//! `title` (else its key; surrounding spaces trimmed); its texts are kept as written with
//! SwarmUI's `{value}` placeholder. Other parameters of a preset (steps, model, ...) are not
//! read, and a preset that sets no prompt is not a style (it is left out). A name used twice:
//! the later one wins, in the earlier one's place, with a warning.

use super::keyed_json::child_lines;
use super::styles_json::{StyleList, text_of};
use super::{PackError, PackErrorKind, ParsedFile};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// True when `value` is an object of presets: every member an object, one with `param_map`.
pub(crate) fn is_presets_object(value: &Value) -> bool {
    value.as_object().is_some_and(|top| {
        !top.is_empty()
            && top.values().all(Value::is_object)
            && top.values().any(|p| p.get("param_map").is_some())
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
    let Some(top) = value.as_object() else {
        return Err(PackError::in_file(
            path,
            Some(1),
            PackErrorKind::Structure("the file must hold a JSON object of presets".to_owned()),
        ));
    };
    let lines: HashMap<String, usize> = child_lines(text, &[])
        .into_iter()
        .filter_map(|(k, l)| k.map(|k| (k, l)))
        .collect();
    let mut styles = StyleList::new(path);
    for (key, preset) in top {
        let line = lines.get(key).copied();
        let structure = |msg: String| PackError::in_file(path, line, PackErrorKind::Structure(msg));
        let Some(preset) = preset.as_object() else {
            return Err(structure(format!("preset {key:?} must be an object")));
        };
        let what = format!("preset {key:?}");
        let name = text_of(preset, "title", &what)
            .map_err(structure)?
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(key);
        if name.trim().is_empty() {
            styles.warn(
                line,
                PackErrorKind::Structure("a preset without a title or key is skipped".to_owned()),
            );
            continue;
        }
        let params = match preset.get("param_map") {
            Some(Value::Object(params)) => params,
            None | Some(Value::Null) => continue,
            Some(_) => {
                return Err(structure(format!(
                    "\"param_map\" of {what} must be an object"
                )));
            }
        };
        let positive = text_of(params, "prompt", &what).map_err(structure)?;
        let negative = text_of(params, "negativeprompt", &what).map_err(structure)?;
        if positive.is_none() && negative.is_none() {
            continue;
        }
        styles.add(
            name,
            positive.unwrap_or_default(),
            negative.unwrap_or_default(),
            line,
        )?;
    }
    Ok(styles.finish())
}
