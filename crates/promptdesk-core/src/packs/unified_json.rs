//! StableNew v2.6 "unified" `.json` packs, and the settings-only `.json` of StableNew v1.
//!
//! Unified: `{"pack_data": {"name", "slots": [...], "matrix": {...}}, "preset_data":
//! {"txt2img": {...}, ...}}`. Each slot becomes one prompt whose key is its 1-based position in
//! the file (`"1"`, `"2"`, ...; the slot's own `index` is not used) and whose label is the slot's
//! `name`, if any. A slot renders as its positive embeddings, its text, then its LoRAs, joined
//! with spaces; the negative as its negative embeddings, then its negative text. A listed
//! LoRA or embedding already written (same name and weight) in the slot's text is not rendered
//! twice. The prompt's `loras`/`embeddings` hold the listed ones and those written in the texts,
//! in rendering order, without repeats. `pack_data.matrix` becomes the pack's matrix (limit 8
//! when not given); `preset_data.txt2img` its defaults.
//!
//! A `.json` without `pack_data` (StableNew v1: top-level `txt2img`, `img2img`, ... stage
//! settings) holds no prompts, only the generation defaults of its `.txt` companion.

use super::keyed_json::{child_lines, declared_name, parse_value, top_object};
use super::syntax::render_embedding;
use super::{
    Embedding, Lora, MatrixConfig, MatrixSlot, PackDefaults, PackError, PackErrorKind, PackPrompt,
    ParsedFile, parse_prompt_tokens,
};
use serde_json::{Map, Value};
use std::path::Path;

/// The matrix limit when a pack does not give one.
pub const DEFAULT_MATRIX_LIMIT: u32 = 8;

/// Parses one file's text. `path` is only used to name the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<ParsedFile, PackError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value = parse_value(path, text)?;
    from_value(path, text, &value)
}

/// Builds the pack from an already-read JSON value (`text` is the same document, used to find
/// line numbers). Without `pack_data` the file is settings-only.
pub(crate) fn from_value(path: &Path, text: &str, value: &Value) -> Result<ParsedFile, PackError> {
    let top = top_object(path, value)?;
    // StableNew reads `data.get("pack_data", data)`: slots at the top level are read too.
    let (pack_data, slots_path): (&Value, &[&str]) = match top.get("pack_data") {
        Some(pack_data) => (pack_data, &["pack_data", "slots"]),
        None if top.contains_key("slots") => (value, &["slots"]),
        None => return Ok(settings_only(top)),
    };
    let pack_data = pack_data.as_object().ok_or_else(|| {
        let line = child_lines(text, &[])
            .into_iter()
            .find_map(|(k, l)| (k.as_deref() == Some("pack_data")).then_some(l));
        PackError::in_file(
            path,
            line,
            PackErrorKind::Structure("\"pack_data\" must be an object".to_owned()),
        )
    })?;

    let slots: &[Value] = match pack_data.get("slots") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(_) => {
            let line = child_lines(text, &["pack_data"])
                .into_iter()
                .find_map(|(k, l)| (k.as_deref() == Some("slots")).then_some(l));
            return Err(PackError::in_file(
                path,
                line,
                PackErrorKind::Structure("\"pack_data.slots\" must be a list".to_owned()),
            ));
        }
    };
    let lines: Vec<usize> = if slots.is_empty() {
        Vec::new()
    } else {
        child_lines(text, slots_path)
            .into_iter()
            .map(|(_, l)| l)
            .collect()
    };

    let mut prompts = Vec::with_capacity(slots.len());
    let mut warnings = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        let line = lines.get(i).copied();
        let (mut prompt, slot_warnings) =
            slot_prompt(i + 1, slot, line).map_err(|kind| PackError::in_file(path, line, kind))?;
        warnings.extend(
            slot_warnings
                .into_iter()
                .map(|kind| PackError::in_file(path, line, kind)),
        );
        // A slot that renders to nothing (no text, negative, embedding or LoRA) is dropped,
        // as StableNew drops it; keys number the kept slots, as StableNew's row index does.
        if prompt.positive.trim().is_empty() && prompt.negative.trim().is_empty() {
            continue;
        }
        prompt.key = (prompts.len() + 1).to_string();
        prompts.push(prompt);
    }

    Ok(ParsedFile {
        name: declared_name(pack_data),
        prompts,
        defaults: txt2img_defaults(top.get("preset_data")),
        matrix: pack_data
            .get("matrix")
            .and_then(Value::as_object)
            .map(matrix_config),
        warnings,
    })
}

/// A v1 settings-only file: defaults from its top-level `txt2img` (or `preset_data.txt2img`).
fn settings_only(top: &Map<String, Value>) -> ParsedFile {
    let defaults = match top.get("txt2img").and_then(Value::as_object) {
        Some(txt2img) => PackDefaults::from_txt2img(txt2img),
        None => txt2img_defaults(top.get("preset_data")),
    };
    ParsedFile {
        name: declared_name(top),
        defaults,
        ..ParsedFile::default()
    }
}

fn txt2img_defaults(preset_data: Option<&Value>) -> PackDefaults {
    preset_data
        .and_then(|p| p.get("txt2img"))
        .and_then(Value::as_object)
        .map(PackDefaults::from_txt2img)
        .unwrap_or_default()
}

fn structure(msg: impl Into<String>) -> PackErrorKind {
    PackErrorKind::Structure(msg.into())
}

/// A text field of a slot: missing or null is empty, anything but text is an error.
fn text_field<'a>(
    slot: &'a Map<String, Value>,
    field: &str,
    position: usize,
) -> Result<&'a str, PackErrorKind> {
    match slot.get(field) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(structure(format!(
            "\"{field}\" of slot {position} must be text"
        ))),
    }
}

/// A weight given as a number or as numeric text.
fn weight_of(value: Option<&Value>) -> Option<Result<f32, String>> {
    let value = value?;
    let parsed = match value {
        Value::Number(n) => n.as_f64().map(|f| f as f32),
        Value::String(s) => s.trim().parse::<f32>().ok(),
        _ => None,
    };
    Some(match parsed.filter(|w| w.is_finite()) {
        Some(w) => Ok(w),
        None => Err(match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
    })
}

/// A `name`, `[name]`, `[name, weight]` or `{"name", "weight"}` entry: its name and weight
/// (1.0 when none is given; `Err(raw)` when the weight is not a number).
fn named_weight(entry: &Value) -> Option<(String, Result<f32, String>)> {
    let (name, weight) = match entry {
        Value::String(name) => (name.as_str(), None),
        Value::Array(items) => (items.first()?.as_str()?, items.get(1)),
        Value::Object(obj) => (obj.get("name")?.as_str()?, obj.get("weight")),
        _ => return None,
    };
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    Some((name.to_owned(), weight_of(weight).unwrap_or(Ok(1.0))))
}

fn list_field<'a>(
    slot: &'a Map<String, Value>,
    field: &str,
    position: usize,
) -> Result<&'a [Value], PackErrorKind> {
    match slot.get(field) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(structure(format!(
            "\"{field}\" of slot {position} must be a list"
        ))),
    }
}

fn embeddings_of(
    slot: &Map<String, Value>,
    field: &str,
    position: usize,
) -> Result<Vec<Embedding>, PackErrorKind> {
    let mut out = Vec::new();
    for entry in list_field(slot, field, position)? {
        let (name, weight) = named_weight(entry).ok_or_else(|| {
            structure(format!(
                "slot {position} has a malformed entry in \"{field}\""
            ))
        })?;
        let weight = weight.map_err(|weight| PackErrorKind::BadEmbeddingWeight {
            name: name.clone(),
            weight,
        })?;
        out.push(Embedding { name, weight });
    }
    Ok(out)
}

/// A slot's listed LoRAs, each with its prompt text: the weight written as in the file
/// (`0.4959677419354839` stays that, not the f32 `0.49596775`); a weight that is not a number
/// counts as 1.0 (StableNew's `float()` fallback) with a warning.
fn loras_of(
    slot: &Map<String, Value>,
    position: usize,
    warnings: &mut Vec<PackErrorKind>,
) -> Result<Vec<(Lora, String)>, PackErrorKind> {
    let mut out = Vec::new();
    for entry in list_field(slot, "loras", position)? {
        let (name, weight) = named_weight(entry).ok_or_else(|| {
            structure(format!(
                "slot {position} has a malformed entry in \"loras\""
            ))
        })?;
        let written = match entry {
            Value::Array(items) => items.get(1),
            Value::Object(obj) => obj.get("weight"),
            _ => None,
        };
        let (weight, text) = match weight {
            Ok(w) => {
                let shown = match written {
                    Some(Value::Number(n)) => n.to_string(),
                    Some(Value::String(s)) => s.trim().to_owned(),
                    _ => w.to_string(),
                };
                (w, format!("<lora:{name}:{shown}>"))
            }
            Err(raw) => {
                warnings.push(PackErrorKind::BadLoraWeight {
                    name: name.clone(),
                    weight: raw,
                });
                (1.0, format!("<lora:{name}:1.0>"))
            }
        };
        out.push((Lora { name, weight }, text));
    }
    Ok(out)
}

fn join_nonempty(parts: impl IntoIterator<Item = String>) -> String {
    let mut out = String::new();
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

fn push_unique<T: PartialEq>(into: &mut Vec<T>, items: impl IntoIterator<Item = T>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

/// The prompt of the slot at 1-based `position`.
fn slot_prompt(
    position: usize,
    slot: &Value,
    line: Option<usize>,
) -> Result<(PackPrompt, Vec<PackErrorKind>), PackErrorKind> {
    let mut warnings = Vec::new();
    let slot = slot
        .as_object()
        .ok_or_else(|| structure(format!("slot {position} must be an object")))?;
    let text = text_field(slot, "text", position)?;
    let negative_text = text_field(slot, "negative", position)?;
    let positive_embeddings = embeddings_of(slot, "positive_embeddings", position)?;
    let negative_embeddings = embeddings_of(slot, "negative_embeddings", position)?;
    let loras = loras_of(slot, position, &mut warnings)?;

    // Tokens already written inside a text are not rendered a second time; every list keeps
    // rendering order without repeats.
    let mut text_tokens = parse_prompt_tokens(text)?;
    let negative_tokens = parse_prompt_tokens(negative_text)?;
    let mut extra_positive_embeddings = Vec::new();
    push_unique(
        &mut extra_positive_embeddings,
        positive_embeddings
            .into_iter()
            .filter(|e| !text_tokens.embeddings.contains(e)),
    );
    let mut extra_loras: Vec<(Lora, String)> = Vec::new();
    for (lora, text) in loras {
        if !text_tokens.loras.contains(&lora) && !extra_loras.iter().any(|(l, _)| *l == lora) {
            extra_loras.push((lora, text));
        }
    }
    let mut extra_negative_embeddings = Vec::new();
    push_unique(
        &mut extra_negative_embeddings,
        negative_embeddings
            .into_iter()
            .filter(|e| !negative_tokens.embeddings.contains(e)),
    );

    let positive = join_nonempty(
        extra_positive_embeddings
            .iter()
            .map(render_embedding)
            .chain(std::iter::once(text.to_owned()))
            .chain(extra_loras.iter().map(|(_, text)| text.clone())),
    );
    let negative = join_nonempty(
        extra_negative_embeddings
            .iter()
            .map(render_embedding)
            .chain(std::iter::once(negative_text.to_owned())),
    );

    let mut all_loras = Vec::new();
    push_unique(&mut all_loras, text_tokens.loras.drain(..));
    push_unique(&mut all_loras, extra_loras.into_iter().map(|(l, _)| l));
    push_unique(&mut all_loras, negative_tokens.loras.iter().cloned());
    let mut embeddings = extra_positive_embeddings;
    push_unique(&mut embeddings, text_tokens.embeddings.drain(..));
    push_unique(&mut embeddings, extra_negative_embeddings);
    push_unique(&mut embeddings, negative_tokens.embeddings.iter().cloned());
    text_tokens.merge(negative_tokens);

    let label = slot
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    Ok((
        PackPrompt {
            key: position.to_string(),
            label,
            positive,
            negative,
            loras: all_loras,
            embeddings,
            matrix_tokens: text_tokens.matrix_tokens,
            wildcards: text_tokens.wildcards,
            line,
        },
        warnings,
    ))
}

/// `pack_data.matrix`: missing fields take StableNew's defaults (disabled, `fanout`, limit 8).
fn matrix_config(obj: &Map<String, Value>) -> MatrixConfig {
    let slots = obj
        .get("slots")
        .and_then(Value::as_array)
        .map(|slots| {
            slots
                .iter()
                .filter_map(|slot| {
                    let name = slot.get("name")?.as_str()?.trim();
                    if name.is_empty() {
                        return None;
                    }
                    let values = slot
                        .get("values")
                        .and_then(Value::as_array)
                        .map(|values| {
                            values
                                .iter()
                                .filter_map(|v| match v {
                                    Value::String(s) => Some(s.clone()),
                                    Value::Number(n) => Some(n.to_string()),
                                    _ => None,
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    Some(MatrixSlot {
                        name: name.to_owned(),
                        values,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    MatrixConfig {
        enabled: obj.get("enabled").and_then(Value::as_bool).unwrap_or(false),
        mode: obj
            .get("mode")
            .and_then(Value::as_str)
            .filter(|m| !m.trim().is_empty())
            .unwrap_or("fanout")
            .to_owned(),
        limit: obj
            .get("limit")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_MATRIX_LIMIT, |l| {
                u32::try_from(l).unwrap_or(u32::MAX)
            }),
        slots,
    }
}
