//! What text a record has: its searchable strings, read in place, and its first prompt.

use crate::history::import::IMPORTED_FROM_KEY;
use crate::job_record::JobRecord;
use serde_json::{Map, Value};

/// Calls `found` on each searchable string of `record` until it returns true; returns whether
/// it did. The strings: every text in the payload (its prompts and negative prompts:
/// `{"prompts": {key: text | {"prompt", "negative_prompt"}}}` or `{"prompt",
/// "negative_prompt"}`, and the pack id it repeats), then the job id, pack id, keys and model.
/// Not searched: the payload's [`IMPORTED_FROM_KEY`] marker (`"imported_from": "StableNew"`),
/// which says where a job came from, not what it asked for (a search for "new" must not find
/// every imported job), and the names of the settings an import did not know. Searched: the
/// rendered requests (what was sent, matrix values and wildcard draws included) and the
/// styles' names.
///
/// Read in place, and with as little look at the payload's key names as can be: in a large
/// history the cost is memory latency, one cache miss per string touched, so the prompt texts
/// are reached with as few loads as possible and searched first (most searches are for prompt
/// words). The marker's key is told apart by its length first, which is held beside the key's
/// pointer: only a key of the same length is read.
pub(super) fn for_each_text(record: &JobRecord, mut found: impl FnMut(&str) -> bool) -> bool {
    fn texts_in(value: &Value, depth: u8, found: &mut impl FnMut(&str) -> bool) -> bool {
        match value {
            Value::String(s) => found(s),
            Value::Object(map) if depth < 3 => map.values().any(|v| texts_in(v, depth + 1, found)),
            // The rendered requests and the styles (lists of objects).
            Value::Array(items) if depth < 3 => items.iter().any(|v| texts_in(v, depth + 1, found)),
            _ => false,
        }
    }
    if record.run_config.prompt_payload.iter().any(|(k, v)| {
        k.as_str() != IMPORTED_FROM_KEY
            && k.as_str() != crate::run_config::payload_keys::UNKNOWN_SETTINGS
            && texts_in(v, 1, &mut found)
    }) {
        return true;
    }
    if found(&record.job_id) {
        return true;
    }
    if let Some(pack) = &record.prompt_pack_id
        && found(pack)
    {
        return true;
    }
    if record.prompt_keys.iter().any(|k| found(k)) {
        return true;
    }
    found(&record.run_config.settings.model)
}

/// `map.get(key)` by walking the entries: cheaper than hashing for the payload's tiny maps.
fn small_get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() > 8 {
        return map.get(key);
    }
    map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
}

/// The first positive prompt of a record (the first selected key's prompt for a pack run),
/// read in place from the payload; when none was recorded, the prompt part of StableNew's
/// `payload_summary` (kept as `stablenew_summary` by the import); "" when there is neither.
pub fn first_prompt_str(record: &JobRecord) -> &str {
    let found = recorded_first_prompt(record);
    if !found.is_empty() {
        return found;
    }
    summary_prompt(&record.run_config.prompt_payload).unwrap_or("")
}

/// The prompt part of StableNew's `payload_summary` (`<prompt> | <model>`), if the record
/// holds one.
pub fn summary_prompt(payload: &serde_json::Map<String, Value>) -> Option<&str> {
    let summary = small_get(payload, "stablenew_summary")?.as_str()?;
    let prompt = summary
        .rsplit_once(" | ")
        .map_or(summary, |(p, _)| p)
        .trim();
    (!prompt.is_empty()).then_some(prompt)
}

fn recorded_first_prompt(record: &JobRecord) -> &str {
    fn text_of(entry: &Value) -> &str {
        match entry {
            Value::String(s) => s,
            Value::Object(map) => small_get(map, "prompt")
                .and_then(Value::as_str)
                .unwrap_or(""),
            _ => "",
        }
    }
    let payload = &record.run_config.prompt_payload;
    if let Some(prompts) = small_get(payload, "prompts").and_then(Value::as_object) {
        let entry = if record.run_config.prompt_keys.is_empty() {
            prompts.values().next()
        } else {
            record
                .run_config
                .prompt_keys
                .iter()
                .find_map(|k| small_get(prompts, k))
        };
        entry.map(text_of).unwrap_or("")
    } else {
        small_get(payload, "prompt")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// The first non-blank line of the first positive prompt, trimmed: the table's prompt cell.
pub fn first_prompt_line(record: &JobRecord) -> &str {
    first_prompt_str(record)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}
