//! Keyed `.json` packs: `{"name"?: str, "prompts": {key: "text" | {"prompt", "negative_prompt"}}}`.
//!
//! The key is the entry name and prompts keep the file's order. Optional generation defaults
//! come from `"settings": {...}` or `"preset_data": {"txt2img": {...}}` (StableNew names such as
//! `sampler_name`). A key written twice inside `"prompts"` is a `DuplicateKey` error (a JSON
//! reader would silently keep the last one).
//!
//! This module also holds the small JSON helpers the unified parser shares: reading the text
//! into a `Value` with the error's line, and finding the line of each member of an object or
//! element of an array (serde_json's `Value` keeps no positions).

use super::{PackDefaults, PackError, PackErrorKind, PackPrompt, ParsedFile};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Parses one file's text. `path` is only used to name the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<ParsedFile, PackError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value = parse_value(path, text)?;
    from_value(path, text, &value)
}

/// Reads `text` as JSON; a syntax error names serde's line.
pub(crate) fn parse_value(path: &Path, text: &str) -> Result<Value, PackError> {
    serde_json::from_str(text).map_err(|e| {
        let line = Some(e.line()).filter(|&l| l > 0);
        PackError::in_file(path, line, PackErrorKind::Json(e.to_string()))
    })
}

/// The top-level object of a JSON pack, or a `Structure` error.
pub(crate) fn top_object<'a>(
    path: &Path,
    value: &'a Value,
) -> Result<&'a Map<String, Value>, PackError> {
    value.as_object().ok_or_else(|| {
        PackError::in_file(
            path,
            Some(1),
            PackErrorKind::Structure("the file must hold a JSON object".to_owned()),
        )
    })
}

/// Defaults from `"settings": {...}` or `"preset_data": {"txt2img": {...}}` of `obj`.
pub(crate) fn defaults_from(obj: &Map<String, Value>) -> PackDefaults {
    if let Some(settings) = obj.get("settings").and_then(Value::as_object) {
        return PackDefaults::from_txt2img(settings);
    }
    obj.get("preset_data")
        .and_then(|p| p.get("txt2img"))
        .and_then(Value::as_object)
        .map(PackDefaults::from_txt2img)
        .unwrap_or_default()
}

/// A declared, non-blank `"name"` of `obj`.
pub(crate) fn declared_name(obj: &Map<String, Value>) -> Option<String> {
    obj.get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

/// Builds the keyed pack from an already-read JSON value (`text` is the same document, used to
/// find line numbers).
pub(crate) fn from_value(path: &Path, text: &str, value: &Value) -> Result<ParsedFile, PackError> {
    let top = top_object(path, value)?;
    let entries = match top.get("prompts") {
        Some(Value::Object(map)) => map,
        Some(_) => {
            let line = child_lines(text, &[])
                .into_iter()
                .find_map(|(k, l)| (k.as_deref() == Some("prompts")).then_some(l));
            return Err(PackError::in_file(
                path,
                line,
                PackErrorKind::Structure("\"prompts\" must be an object of key: prompt".to_owned()),
            ));
        }
        None => {
            return Err(PackError::in_file(
                path,
                None,
                PackErrorKind::Structure("no \"prompts\" object".to_owned()),
            ));
        }
    };

    // Lines of the keys as written; a key written twice is an error.
    let mut lines = HashMap::with_capacity(entries.len());
    let mut seen = HashSet::with_capacity(entries.len());
    for (key, line) in child_lines(text, &["prompts"]) {
        let Some(key) = key else { continue };
        if !seen.insert(key.clone()) {
            return Err(PackError::in_file(
                path,
                Some(line),
                PackErrorKind::DuplicateKey(key),
            ));
        }
        lines.insert(key, line);
    }

    let mut prompts = Vec::with_capacity(entries.len());
    for (key, entry) in entries {
        let line = lines.get(key).copied();
        let structure = |msg: String| PackError::in_file(path, line, PackErrorKind::Structure(msg));
        if key.trim().is_empty() {
            return Err(structure("a prompt key is empty".to_owned()));
        }
        let (positive, negative) = match entry {
            Value::String(s) => (s.as_str(), ""),
            Value::Object(obj) => {
                let text_of = |names: &[&str]| -> Result<&str, PackError> {
                    match names.iter().find_map(|n| obj.get(*n)) {
                        None | Some(Value::Null) => Ok(""),
                        Some(Value::String(s)) => Ok(s.as_str()),
                        Some(_) => Err(structure(format!(
                            "{}s of prompt {key:?} must be text",
                            names[0]
                        ))),
                    }
                };
                if !obj.contains_key("prompt") && !obj.contains_key("positive") {
                    return Err(structure(format!("prompt {key:?} has no \"prompt\" text")));
                }
                (
                    text_of(&["prompt", "positive"])?,
                    text_of(&["negative_prompt", "negative"])?,
                )
            }
            _ => {
                return Err(structure(format!(
                    "prompt {key:?} must be a text or an object with \"prompt\" and \"negative_prompt\""
                )));
            }
        };
        let prompt = PackPrompt::from_texts(key.as_str(), positive, negative, line)
            .map_err(|kind| PackError::in_file(path, line, kind))?;
        prompts.push(prompt);
    }

    Ok(ParsedFile {
        name: declared_name(top),
        prompts,
        defaults: defaults_from(top),
        matrix: None,
        warnings: Vec::new(),
    })
}

/// The children of the container reached by following the object keys `path` from the top of
/// the JSON document `text`: for an object, each member's key and the line of the key; for an
/// array, `None` and the line where each element starts. When a key on the way is written
/// twice, the last one counts (as in serde_json). Meant for text serde_json has already
/// accepted; on anything unexpected it stops and returns what it found, never panics.
pub(crate) fn child_lines(text: &str, path: &[&str]) -> Vec<(Option<String>, usize)> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut out = Vec::new();
    scanner.skip_ws();
    scanner.walk(path, &mut out);
    out
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    /// Skips a string starting at `"`; returns its raw contents (without quotes).
    fn string(&mut self) -> Option<&[u8]> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut i = start;
        while let Some(&b) = self.bytes.get(i) {
            match b {
                b'\\' => i += 2,
                b'"' => {
                    self.pos = i + 1;
                    return self.bytes.get(start..i);
                }
                b'\n' => {
                    self.line += 1;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        self.pos = self.bytes.len();
        None
    }

    /// Skips one value of any kind (nesting handled without recursion).
    fn skip_value(&mut self) {
        let mut depth = 0usize;
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    if self.string().is_none() {
                        return;
                    }
                    if depth == 0 {
                        return;
                    }
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                b',' if depth == 0 => return,
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' if depth == 0 => return,
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// Reads an object key at `"` and the `:` after it; returns the decoded key.
    fn key(&mut self) -> Option<String> {
        let raw = self.string()?;
        let key = if raw.contains(&b'\\') {
            let mut quoted = Vec::with_capacity(raw.len() + 2);
            quoted.push(b'"');
            quoted.extend_from_slice(raw);
            quoted.push(b'"');
            serde_json::from_slice::<String>(&quoted).ok()?
        } else {
            String::from_utf8(raw.to_vec()).ok()?
        };
        self.skip_ws();
        if self.peek() != Some(b':') {
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        Some(key)
    }

    /// After a member or element: true when a `,` follows (and is consumed).
    fn next_item(&mut self) -> bool {
        self.skip_ws();
        if self.peek() == Some(b',') {
            self.pos += 1;
            self.skip_ws();
            true
        } else {
            false
        }
    }

    fn walk(&mut self, path: &[&str], out: &mut Vec<(Option<String>, usize)>) {
        match (self.peek(), path.split_first()) {
            (Some(b'{'), first) => {
                self.pos += 1;
                self.skip_ws();
                if first.is_none() {
                    out.clear();
                }
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return;
                }
                loop {
                    let line = self.line;
                    let Some(key) = self.key() else { return };
                    match first {
                        None => {
                            out.push((Some(key), line));
                            self.skip_value();
                        }
                        Some((want, rest)) if key == *want => self.walk(rest, out),
                        Some(_) => self.skip_value(),
                    }
                    if !self.next_item() {
                        break;
                    }
                }
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                }
            }
            (Some(b'['), None) => {
                self.pos += 1;
                self.skip_ws();
                out.clear();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return;
                }
                loop {
                    out.push((None, self.line));
                    self.skip_value();
                    if !self.next_item() {
                        break;
                    }
                }
                if self.peek() == Some(b']') {
                    self.pos += 1;
                }
            }
            _ => self.skip_value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_member_and_element_lines() {
        let text = "{\n \"a\": {\"x\": [1, {\"y\": \"}\"}]},\n \"prompts\": {\n  \"one\": \"a\",\n  \"t\\u0077o\": {\"prompt\": \"b\"}\n },\n \"list\": [\n  1,\n  {\"k\": [2]}\n ]\n}";
        assert_eq!(
            child_lines(text, &["prompts"]),
            vec![(Some("one".to_owned()), 4), (Some("two".to_owned()), 5)]
        );
        assert_eq!(child_lines(text, &["list"]), vec![(None, 8), (None, 9)]);
        assert!(child_lines(text, &["missing"]).is_empty());
    }

    #[test]
    fn last_of_a_repeated_parent_counts() {
        let text = "{\"prompts\": {\"a\": \"1\"},\n\"prompts\": {\n\"b\": \"2\"}}";
        assert_eq!(
            child_lines(text, &["prompts"]),
            vec![(Some("b".to_owned()), 3)]
        );
    }
}
