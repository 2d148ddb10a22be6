//! StableNew v2.6 "unified" `.json` packs, and the settings-only `.json` of StableNew v1.
//!
//! Unified: `{"pack_data": {"name", "slots": [...], "matrix": {...}}, "preset_data":
//! {"txt2img": {...}, ...}}`. Each slot becomes one prompt whose key is its 1-based position in
//! the file among the kept slots (`"1"`, `"2"`, ...; StableNew's `prompt_pack_row_index` + 1;
//! the slot's own `index` is not used) and whose label is the slot's `name`, if any. Slots
//! render as StableNew's `read_prompt_pack` renders them (see [`slot_prompt`]); a slot that
//! renders to nothing is dropped, as StableNew drops it. The prompt's `loras`/`embeddings` are
//! those of the rendered texts, in order, without repeats. `pack_data.matrix` becomes the
//! pack's matrix (limit 8 when not given); `preset_data.txt2img` its defaults.
//!
//! A `.json` without `pack_data` (StableNew v1: top-level `txt2img`, `img2img`, ... stage
//! settings) holds no prompts, only the generation defaults of its `.txt` companion.

use super::keyed_json::{child_lines, declared_name, parse_value, top_object};
use super::{
    MatrixConfig, MatrixSlot, PackDefaults, PackError, PackErrorKind, PackPrompt, ParsedFile,
    parse_prompt_tokens,
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
        if !slot.is_object() {
            // StableNew skips a slot that is not an object.
            warnings.push(PackError::in_file(
                path,
                line,
                PackErrorKind::Note(format!(
                    "slot {} is not an object and is skipped, as StableNew skips it",
                    i + 1
                )),
            ));
            continue;
        }
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

/// Python's `float(value)` of a JSON value, as StableNew coerces weights: a number, numeric
/// text (surrounding whitespace allowed) or a boolean. `None` for anything else, and for a
/// value that is not finite (`"nan"`, `"inf"`: never a usable weight).
fn py_float(value: &Value) -> Option<f64> {
    let v = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }?;
    v.is_finite().then_some(v)
}

/// Python's `repr(float)`, as StableNew's f-string writes a LoRA weight: the shortest text
/// that reads back to the same number, `1.0` for whole numbers, exponent form below 1e-4 and
/// from 1e16 (`1e-05`, `1.5e+16`).
pub(crate) fn py_repr(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let plain = v.to_string();
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Python's `f"{v:g}"`, as StableNew writes an embedding weight: 6 significant digits,
/// trailing zeros dropped, exponent form below 1e-4 and from 1e6.
fn py_g(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let sci = format!("{v:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    if (-4..6).contains(&exp) {
        let decimals = usize::try_from(5 - exp).unwrap_or(0);
        trim(&format!("{v:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    }
}

/// Python's `str(value or "")` of a name: text as is, a number as Python writes it; `None`
/// for anything else.
fn py_name(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) if n.is_f64() => n.as_f64().map(py_repr),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
    .filter(|n| !n.is_empty() && n != "0" && n != "0.0")
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

/// A slot's embeddings as StableNew's `normalize_embedding_entries` reads them: `"name"`,
/// `{"name", "weight"}` or `[name, weight]` (weight 1.0 when not given); an entry without a
/// name is skipped; a weight that is not a number counts as 1.0 (with a warning). Each is
/// rendered as StableNew writes it: `<embedding:name>`, or `(<embedding:name>:w)` with `w` as
/// Python's `{:g}`.
fn embeddings_of(
    slot: &Map<String, Value>,
    field: &str,
    position: usize,
    warnings: &mut Vec<PackErrorKind>,
) -> Result<Vec<String>, PackErrorKind> {
    let mut out = Vec::new();
    for entry in list_field(slot, field, position)? {
        let (name, weight) = match entry {
            Value::String(name) => (Some(name.trim().to_owned()), None),
            Value::Object(obj) => (obj.get("name").and_then(py_name), obj.get("weight")),
            Value::Array(items) => (items.first().and_then(py_name), items.get(1)),
            _ => (None, None),
        };
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            continue;
        };
        let weight = match weight {
            None => 1.0,
            Some(raw) => py_float(raw).unwrap_or_else(|| {
                if !raw.is_null() {
                    warnings.push(PackErrorKind::BadEmbeddingWeight {
                        name: name.clone(),
                        weight: raw.as_str().map_or_else(|| raw.to_string(), str::to_owned),
                    });
                }
                1.0
            }),
        };
        out.push(if (weight - 1.0).abs() < 1e-6 {
            format!("<embedding:{name}>")
        } else {
            format!("(<embedding:{name}>:{})", py_g(weight))
        });
    }
    Ok(out)
}

/// A slot's listed LoRAs as StableNew renders them: each `[name, weight]` entry (exactly two
/// items, a name) as `<lora:name:w>` with `w` as Python writes the float (the file's
/// `0.4959677419354839` stays that, not the f32 `0.49596775`; `1` becomes `1.0`). A weight that
/// is not a number counts as 1.0, with a warning; any other entry is skipped, as StableNew
/// skips it, with a warning.
fn loras_of(
    slot: &Map<String, Value>,
    position: usize,
    warnings: &mut Vec<PackErrorKind>,
) -> Result<Vec<String>, PackErrorKind> {
    let mut out = Vec::new();
    for entry in list_field(slot, "loras", position)? {
        let (name, raw) = match entry {
            Value::Array(items) if items.len() == 2 => (py_name(&items[0]), &items[1]),
            _ => {
                warnings.push(PackErrorKind::Note(format!(
                    "slot {position}: the \"loras\" entry {} is not [name, weight] and is \
                     skipped, as StableNew skips it",
                    truncate_json(entry)
                )));
                continue;
            }
        };
        let Some(name) = name else {
            continue;
        };
        let weight = py_float(raw).unwrap_or_else(|| {
            warnings.push(PackErrorKind::BadLoraWeight {
                name: name.clone(),
                weight: raw.as_str().map_or_else(|| raw.to_string(), str::to_owned),
            });
            1.0
        });
        out.push(format!("<lora:{name}:{}>", py_repr(weight)));
    }
    Ok(out)
}

fn truncate_json(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text,
    }
}

fn push_unique<T: PartialEq>(into: &mut Vec<T>, items: impl IntoIterator<Item = T>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

/// The prompt of the slot at 1-based `position`, rendered as StableNew's
/// `_render_slot` does it: the positive is the positive embeddings, the text (trimmed of
/// surrounding whitespace, spaces and commas, as `compose_prompt_text` does) and the listed
/// LoRAs, joined with spaces; the negative is the negative embeddings and the negative text's
/// non-empty lines, each trimmed, joined with spaces.
fn slot_prompt(
    position: usize,
    slot: &Value,
    line: Option<usize>,
) -> Result<(PackPrompt, Vec<PackErrorKind>), PackErrorKind> {
    let mut warnings = Vec::new();
    let slot = slot
        .as_object()
        .ok_or_else(|| structure(format!("slot {position} must be an object")))?;
    let text = text_field(slot, "text", position)?
        .trim()
        .trim_matches([' ', ',']);
    let negative_text = text_field(slot, "negative", position)?;
    if let Some(template) = slot
        .get("template_id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        warnings.push(PackErrorKind::Note(format!(
            "slot {position}: StableNew prompt template {template:?} is not applied (only the \
             slot's text is read)"
        )));
    }

    let mut positive_parts = embeddings_of(slot, "positive_embeddings", position, &mut warnings)?;
    positive_parts.push(text.to_owned());
    positive_parts.extend(loras_of(slot, position, &mut warnings)?);
    let mut negative_parts = embeddings_of(slot, "negative_embeddings", position, &mut warnings)?;
    negative_parts.extend(negative_text.lines().map(|l| l.trim().to_owned()));
    let join = |parts: Vec<String>| {
        parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
            .trim()
            .to_owned()
    };
    let positive = join(positive_parts);
    let negative = join(negative_parts);

    // The tokens are those of what is sent. A LoRA weight in the texts that is not a number is
    // warned about with the pack's other prompt warnings (discover.rs).
    let mut tokens = parse_prompt_tokens(&positive)?;
    let negative_tokens = parse_prompt_tokens(&negative)?;
    let mut loras = Vec::new();
    push_unique(&mut loras, tokens.loras.drain(..));
    push_unique(&mut loras, negative_tokens.loras.iter().cloned());
    let mut embeddings = Vec::new();
    push_unique(&mut embeddings, tokens.embeddings.drain(..));
    push_unique(&mut embeddings, negative_tokens.embeddings.iter().cloned());
    tokens.merge(negative_tokens);

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
            loras,
            embeddings,
            matrix_tokens: tokens.matrix_tokens,
            wildcards: tokens.wildcards,
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
