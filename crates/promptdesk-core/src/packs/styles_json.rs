//! The JSON list of styles: `[{"name", "prompt", "negative_prompt"}, ...]`.
//!
//! The shape of ComfyUI's SDXL Prompt Styler (`sdxl_styles_*.json`) and Fooocus
//! (`sdxl_styles/*.json`); InvokeAI and SwarmUI import it too. Each object is one style keyed by
//! its `name` (surrounding spaces trimmed); `prompt` and `negative_prompt` are its texts, kept
//! as written with their `{prompt}` placeholder (missing or `null` = empty; SwarmUI's import
//! also takes `negativeprompt`). An element that is not an object with a non-empty `name` is
//! skipped with a warning (SDXL Prompt Styler lists only the elements with a name). A name used
//! twice: the later one wins, in the earlier one's place, with a warning (Fooocus keeps the
//! last).
//!
//! This module also holds [`StyleList`], which the other style-source formats share.

use super::keyed_json::child_lines;
use super::{PackError, PackErrorKind, PackPrompt, ParsedFile};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

/// Styles in file order, a repeated name replacing the earlier style in its place (with a
/// warning), as a Python dict or a JavaScript object keeps them.
pub(crate) struct StyleList<'a> {
    path: &'a Path,
    prompts: Vec<PackPrompt>,
    index: HashMap<String, usize>,
    warnings: Vec<PackError>,
}

impl<'a> StyleList<'a> {
    pub(crate) fn new(path: &'a Path) -> Self {
        StyleList {
            path,
            prompts: Vec::new(),
            index: HashMap::new(),
            warnings: Vec::new(),
        }
    }

    /// Adds one style; a bad LoRA or embedding weight in its texts is an error on its line.
    pub(crate) fn add(
        &mut self,
        name: &str,
        positive: &str,
        negative: &str,
        line: Option<usize>,
    ) -> Result<(), PackError> {
        let key = name.trim();
        let prompt = PackPrompt::from_texts(key, positive, negative, line)
            .map_err(|kind| PackError::in_file(self.path, line, kind))?;
        match self.index.get(key) {
            Some(&at) => {
                self.warn(line, PackErrorKind::DuplicateKey(key.to_owned()));
                self.prompts[at] = prompt;
            }
            None => {
                self.index.insert(key.to_owned(), self.prompts.len());
                self.prompts.push(prompt);
            }
        }
        Ok(())
    }

    /// Records a warning about this file.
    pub(crate) fn warn(&mut self, line: Option<usize>, kind: PackErrorKind) {
        self.warnings
            .push(PackError::in_file(self.path, line, kind));
    }

    pub(crate) fn finish(self) -> ParsedFile {
        ParsedFile {
            prompts: self.prompts,
            warnings: self.warnings,
            ..ParsedFile::default()
        }
    }
}

/// The text of `obj[key]`: missing or `null` is `None`; anything but a string is an error.
pub(crate) fn text_of<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Option<&'v str>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("\"{key}\" of {what} must be text")),
    }
}

/// The non-blank `"name"` of a list element, or why it has none.
pub(crate) fn element_name(item: &Value) -> Result<&str, &'static str> {
    let obj = item.as_object().ok_or("the element is not an object")?;
    match obj.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err("the element's \"name\" is empty"),
        Some(_) => Err("the element's \"name\" is not text"),
        None => Err("the element has no \"name\""),
    }
}

/// The line each element of the top-level array starts on.
pub(crate) fn element_lines(text: &str) -> Vec<usize> {
    child_lines(text, &[]).into_iter().map(|(_, l)| l).collect()
}

/// True when `value` is a list with an object naming a style (`"name"`): the shape of this
/// module (InvokeAI's list shapes are told apart first, see
/// [`super::invokeai_presets::is_presets_list`]).
pub(crate) fn is_styles_list(value: &Value) -> bool {
    value.as_array().is_some_and(|items| {
        items
            .iter()
            .any(|item| item.as_object().is_some_and(|o| o.contains_key("name")))
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
    named_list(path, text, value, "style", |obj, what| {
        let positive = text_of(obj, "prompt", what)?;
        let negative = match text_of(obj, "negative_prompt", what)? {
            Some(n) => Some(n),
            None => text_of(obj, "negativeprompt", what)?,
        };
        Ok((positive, negative))
    })
}

/// Reads a top-level JSON list of named objects (`[{"name", ...}, ...]`), one style each, with
/// `texts` giving an object's prompt and negative (`what` names it in errors, e.g.
/// `style "Film"`). An element without a usable `name` is skipped with a warning; an ill-typed
/// text is an error on the element's line. `noun` names the elements ("style", "preset").
pub(crate) fn named_list<'v>(
    path: &Path,
    text: &str,
    value: &'v Value,
    noun: &str,
    texts: impl Fn(&'v Map<String, Value>, &str) -> Result<(Option<&'v str>, Option<&'v str>), String>,
) -> Result<ParsedFile, PackError> {
    let Some(items) = value.as_array() else {
        return Err(PackError::in_file(
            path,
            Some(1),
            PackErrorKind::Structure(format!("the file must hold a JSON list of {noun}s")),
        ));
    };
    let lines = element_lines(text);
    let mut styles = StyleList::new(path);
    for (i, item) in items.iter().enumerate() {
        let line = lines.get(i).copied();
        let name = match element_name(item) {
            Ok(name) => name,
            Err(why) => {
                styles.warn(
                    line,
                    PackErrorKind::Structure(format!("{why}: it is skipped")),
                );
                continue;
            }
        };
        let obj = item.as_object().expect("element_name checked");
        let what = format!("{noun} {:?}", name.trim());
        let (positive, negative) = texts(obj, &what)
            .map_err(|msg| PackError::in_file(path, line, PackErrorKind::Structure(msg)))?;
        styles.add(
            name,
            positive.unwrap_or_default(),
            negative.unwrap_or_default(),
            line,
        )?;
    }
    Ok(styles.finish())
}
