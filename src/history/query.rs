//! Filtering and sorting the history: the rows of the history table and of `promptdesk history`.
//!
//! Built for large histories (a million records filter or sort in well under a second on two
//! cores): the text filter compiles one case-insensitive matcher per search term and looks
//! at the record's strings in place, without allocating per record; sorting extracts one small
//! key per row (a number, or an 8-byte case-folded prefix of a text column) and sorts those
//! with rayon's stable parallel sort, comparing the full texts only on prefix ties.

use crate::job_record::{JobRecord, JobStatus};
use crate::run_config::PromptSource;
use rayon::prelude::*;
use serde_json::Value;
use std::cmp::Ordering;

/// What the history table / `promptdesk history` shows. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HistoryFilter {
    /// Case-insensitive substring of the prompts, negative prompts, pack id, keys, model or job id.
    /// Whitespace-separated terms must all match (each anywhere in the record).
    pub text: String,
    pub source: Option<PromptSource>,
    /// Exact pack id.
    pub pack: Option<String>,
    /// Exact prompt key (the record's prompt_keys contain it).
    pub key: Option<String>,
    pub status: Option<JobStatus>,
}

impl HistoryFilter {
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
            && self.source.is_none()
            && self.pack.is_none()
            && self.key.is_none()
            && self.status.is_none()
    }

    /// True when `record` passes every part of the filter. Compiles the text matcher on each
    /// call: to test many records, use [`HistoryFilter::compile`] once (as [`filter_indices`]
    /// does).
    pub fn matches(&self, record: &JobRecord) -> bool {
        self.compile().matches(record)
    }

    /// The filter prepared for testing many records: the search text split into terms, each
    /// compiled into a case-insensitive matcher.
    pub fn compile(&self) -> CompiledFilter<'_> {
        CompiledFilter {
            filter: self,
            terms: self.text.split_whitespace().map(TermMatcher::new).collect(),
        }
    }
}

/// A [`HistoryFilter`] ready to test records; see [`HistoryFilter::compile`].
#[derive(Debug)]
pub struct CompiledFilter<'a> {
    filter: &'a HistoryFilter,
    terms: Vec<TermMatcher>,
}

impl CompiledFilter<'_> {
    /// True when `record` passes every part of the filter.
    pub fn matches(&self, record: &JobRecord) -> bool {
        let f = self.filter;
        if let Some(source) = f.source
            && record.prompt_source != source
        {
            return false;
        }
        if let Some(status) = f.status
            && record.status != status
        {
            return false;
        }
        if let Some(pack) = &f.pack
            && record.prompt_pack_id.as_deref() != Some(pack.as_str())
        {
            return false;
        }
        if let Some(key) = &f.key
            && !record.prompt_keys.iter().any(|k| k == key)
        {
            return false;
        }
        self.terms
            .iter()
            .all(|term| for_each_text(record, |text| term.is_match(text)))
    }

    /// True when the filter lets every record through.
    pub fn matches_everything(&self) -> bool {
        self.terms.is_empty()
            && self.filter.source.is_none()
            && self.filter.pack.is_none()
            && self.filter.key.is_none()
            && self.filter.status.is_none()
    }
}

/// Calls `found` on each searchable string of `record` until it returns true; returns whether
/// it did. The strings: job id, pack id, keys, model, then every prompt and negative prompt
/// of the payload (`{"prompts": {key: text | {"prompt", "negative_prompt"}}}` or
/// `{"prompt", "negative_prompt"}`), read in place.
fn for_each_text(record: &JobRecord, mut found: impl FnMut(&str) -> bool) -> bool {
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
    if found(&record.run_config.settings.model) {
        return true;
    }
    fn pair(entry: &serde_json::Map<String, Value>, found: &mut impl FnMut(&str) -> bool) -> bool {
        ["prompt", "negative_prompt"].into_iter().any(|field| {
            entry
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(&mut *found)
        })
    }
    let payload = &record.run_config.prompt_payload;
    if let Some(prompts) = payload.get("prompts").and_then(Value::as_object) {
        prompts.values().any(|entry| match entry {
            Value::String(s) => found(s),
            Value::Object(map) => pair(map, &mut found),
            _ => false,
        })
    } else {
        pair(payload, &mut found)
    }
}

/// One search term, matched case-insensitively as a substring.
#[derive(Debug)]
enum TermMatcher {
    /// An ASCII term: lower-cased bytes and the position of its rarest byte, found with
    /// `memchr2` (both cases) and then checked in place.
    Ascii { needle: Vec<u8>, anchor: usize },
    /// A term with non-ASCII letters: a Unicode case-insensitive regex of the escaped text.
    Unicode(regex::Regex),
    /// The (pathological) case where the regex could not be built: lower-case and compare.
    Lowercase(String),
}

impl TermMatcher {
    fn new(term: &str) -> TermMatcher {
        if term.is_ascii() {
            let needle: Vec<u8> = term.bytes().map(|b| b.to_ascii_lowercase()).collect();
            let anchor = needle
                .iter()
                .enumerate()
                .min_by_key(|&(_, &b)| byte_rank(b))
                .map(|(i, _)| i)
                .unwrap_or(0);
            return TermMatcher::Ascii { needle, anchor };
        }
        match regex::RegexBuilder::new(&regex::escape(term))
            .case_insensitive(true)
            .size_limit(1 << 24)
            .build()
        {
            Ok(re) => TermMatcher::Unicode(re),
            Err(_) => TermMatcher::Lowercase(term.to_lowercase()),
        }
    }

    fn is_match(&self, haystack: &str) -> bool {
        match self {
            TermMatcher::Ascii { needle, anchor } => {
                ascii_icase_contains(haystack.as_bytes(), needle, *anchor)
            }
            TermMatcher::Unicode(re) => re.is_match(haystack),
            TermMatcher::Lowercase(term) => haystack.to_lowercase().contains(term.as_str()),
        }
    }
}

/// How common a (lower-case) byte is in prompt text: higher is more common. The rarest byte
/// of a term is the one searched for, so fewer candidate positions need checking.
fn byte_rank(b: u8) -> u8 {
    match b {
        b' ' => 255,
        b'e' => 250,
        b't' | b'a' | b'o' | b'i' | b'n' => 240,
        b's' | b'r' | b'h' | b'l' => 230,
        b'd' | b'c' | b'u' | b'm' | b',' => 220,
        b'f' | b'p' | b'g' | b'w' | b'y' | b'b' => 200,
        b'v' | b'k' => 150,
        b'x' | b'j' | b'q' | b'z' => 100,
        b'0'..=b'9' => 120,
        _ => 50,
    }
}

/// Whether `hay` contains `needle` (lower-case ASCII) ignoring ASCII case. Candidates are the
/// places where needle[anchor] occurs (either case); each is verified in place.
fn ascii_icase_contains(hay: &[u8], needle: &[u8], anchor: usize) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.len() < needle.len() {
        return false;
    }
    let lower = needle[anchor];
    let upper = lower.to_ascii_uppercase();
    // The anchor byte can sit at hay[anchor ..= hay.len() - needle.len() + anchor].
    let last = hay.len() - needle.len() + anchor;
    let window = &hay[anchor..=last];
    let check = |pos: usize| {
        let start = pos; // position in `window` == start of the candidate match in `hay`
        hay[start..start + needle.len()].eq_ignore_ascii_case(needle)
    };
    if lower == upper {
        memchr::memchr_iter(lower, window).any(check)
    } else {
        memchr::memchr2_iter(lower, upper, window).any(check)
    }
}

/// A history table column to sort by.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum SortColumn {
    #[default]
    Time,
    Source,
    Pack,
    Keys,
    Prompt,
    Model,
    Steps,
    Cfg,
    Seed,
    Status,
    ConfigHash,
}

impl SortColumn {
    pub const ALL: [SortColumn; 11] = [
        SortColumn::Time,
        SortColumn::Source,
        SortColumn::Pack,
        SortColumn::Keys,
        SortColumn::Prompt,
        SortColumn::Model,
        SortColumn::Steps,
        SortColumn::Cfg,
        SortColumn::Seed,
        SortColumn::Status,
        SortColumn::ConfigHash,
    ];
}

/// Records per rayon task when filtering or extracting sort keys.
const CHUNK: usize = 16 * 1024;

/// Indices (into `records`) of the records `filter` matches, in record order.
pub fn filter_indices(records: &[JobRecord], filter: &HistoryFilter) -> Vec<u32> {
    let records = &records[..records.len().min(u32::MAX as usize)];
    let compiled = filter.compile();
    if compiled.matches_everything() {
        return (0..records.len() as u32).collect();
    }
    let parts: Vec<Vec<u32>> = records
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(chunk_no, chunk)| {
            let base = (chunk_no * CHUNK) as u32;
            chunk
                .iter()
                .enumerate()
                .filter(|(_, r)| compiled.matches(r))
                .map(|(i, _)| base + i as u32)
                .collect()
        })
        .collect();
    parts.concat()
}

/// The first positive prompt of a record (the first selected key's prompt for a pack run),
/// read in place from the payload; "" when there is none.
pub fn first_prompt_str(record: &JobRecord) -> &str {
    fn text_of(entry: &Value) -> &str {
        match entry {
            Value::String(s) => s,
            Value::Object(map) => map.get("prompt").and_then(Value::as_str).unwrap_or(""),
            _ => "",
        }
    }
    let payload = &record.run_config.prompt_payload;
    if let Some(prompts) = payload.get("prompts").and_then(Value::as_object) {
        let entry = if record.run_config.prompt_keys.is_empty() {
            prompts.values().next()
        } else {
            record
                .run_config
                .prompt_keys
                .iter()
                .find_map(|k| prompts.get(k.as_str()))
        };
        entry.map(text_of).unwrap_or("")
    } else {
        payload.get("prompt").and_then(Value::as_str).unwrap_or("")
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

/// Sorts `indices` by `column` (stable; ties keep their order).
///
/// Orders: Time by `created_at`, then by position in the history (job order), so descending
/// puts the newest, last-submitted job first; Source manual before pack; Pack, Keys (the key
/// lists compared key by key), Prompt (the first prompt), Model and ConfigHash as text,
/// ignoring ASCII case first (records without a pack id before any pack); Steps, Cfg, Seed
/// as numbers; Status in lifecycle order (queued, running, completed, failed, cancelled).
/// `descending` reverses the order, but ties still keep their order (except Time, whose job
/// order tie-break is part of the order and is reversed too).
pub fn sort_indices(
    records: &[JobRecord],
    indices: &mut [u32],
    column: SortColumn,
    descending: bool,
) {
    if indices.len() < 2 {
        return;
    }
    // An index past the end cannot be keyed: leave such input alone rather than panic.
    if indices.iter().any(|&i| i as usize >= records.len()) {
        return;
    }
    match column {
        SortColumn::Time => sort_by_num_key(indices, descending, |i| {
            let t = records[i as usize].created_at;
            // seconds and nanoseconds, then job order
            ((t.timestamp() as i128) << 64)
                | ((t.timestamp_subsec_nanos() as i128) << 32)
                | i as i128
        }),
        SortColumn::Source => sort_by_num_key(indices, descending, |i| {
            records[i as usize].prompt_source as u8
        }),
        SortColumn::Status => {
            sort_by_num_key(indices, descending, |i| records[i as usize].status as u8)
        }
        SortColumn::Steps => sort_by_num_key(indices, descending, |i| {
            records[i as usize].run_config.settings.steps
        }),
        SortColumn::Seed => sort_by_num_key(indices, descending, |i| {
            records[i as usize].run_config.settings.seed
        }),
        SortColumn::Cfg => sort_by_num_key(indices, descending, |i| {
            total_order_f64(records[i as usize].run_config.settings.cfg_scale)
        }),
        SortColumn::Pack => sort_by_text(records, indices, descending, |r| {
            r.prompt_pack_id
                .as_deref()
                .map(TextKey::Some)
                .unwrap_or(TextKey::None)
        }),
        SortColumn::Prompt => sort_by_text(records, indices, descending, |r| {
            TextKey::Some(first_prompt_str(r))
        }),
        SortColumn::Model => sort_by_text(records, indices, descending, |r| {
            TextKey::Some(&r.run_config.settings.model)
        }),
        SortColumn::ConfigHash => sort_by_text(records, indices, descending, |r| {
            TextKey::Some(&r.config_hash)
        }),
        SortColumn::Keys => sort_by_keys(records, indices, descending),
    }
}

/// Filter then sort: the rows of the history table.
pub fn query_indices(
    records: &[JobRecord],
    filter: &HistoryFilter,
    column: SortColumn,
    descending: bool,
) -> Vec<u32> {
    let mut idx = filter_indices(records, filter);
    sort_indices(records, &mut idx, column, descending);
    idx
}

/// An f64 mapped to an i64 that orders like `f64::total_cmp`.
fn total_order_f64(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

fn directed(ord: Ordering, descending: bool) -> Ordering {
    if descending { ord.reverse() } else { ord }
}

/// Extracts one `Copy` key per index (in parallel), sorts (key, index) pairs stably, writes
/// the indices back.
fn sort_by_num_key<K, F>(indices: &mut [u32], descending: bool, key: F)
where
    K: Ord + Copy + Send + Sync,
    F: Fn(u32) -> K + Sync,
{
    let mut keyed: Vec<(K, u32)> = indices.par_iter().map(|&i| (key(i), i)).collect();
    keyed.par_sort_by(|a, b| directed(a.0.cmp(&b.0), descending));
    indices
        .par_iter_mut()
        .zip(keyed.par_iter())
        .for_each(|(slot, &(_, i))| *slot = i);
}

/// A text column's value: records without one (no pack id) sort before any text.
#[derive(Clone, Copy)]
enum TextKey<'a> {
    None,
    Some(&'a str),
}

/// The first 8 bytes of `s`, ASCII-lower-cased, big-endian: comparing prefixes orders like
/// comparing the case-folded texts, up to the first 8 bytes.
fn folded_prefix(s: &str) -> u64 {
    let mut buf = [0u8; 8];
    for (slot, b) in buf.iter_mut().zip(s.bytes()) {
        *slot = b.to_ascii_lowercase();
    }
    u64::from_be_bytes(buf)
}

/// Compares texts ignoring ASCII case, then exactly (so the order is total and deterministic).
fn cmp_text(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
        .then_with(|| a.cmp(b))
}

fn cmp_text_key(a: TextKey<'_>, b: TextKey<'_>) -> Ordering {
    match (a, b) {
        (TextKey::None, TextKey::None) => Ordering::Equal,
        (TextKey::None, TextKey::Some(_)) => Ordering::Less,
        (TextKey::Some(_), TextKey::None) => Ordering::Greater,
        (TextKey::Some(x), TextKey::Some(y)) => cmp_text(x, y),
    }
}

fn sort_by_text<F>(records: &[JobRecord], indices: &mut [u32], descending: bool, text: F)
where
    F: for<'r> Fn(&'r JobRecord) -> TextKey<'r> + Sync,
{
    // Key: (has text, folded prefix, index). The full comparison runs only on prefix ties.
    let mut keyed: Vec<(u8, u64, u32)> = indices
        .par_iter()
        .map(|&i| match text(&records[i as usize]) {
            TextKey::None => (0, 0, i),
            TextKey::Some(s) => (1, folded_prefix(s), i),
        })
        .collect();
    keyed.par_sort_by(|a, b| {
        let ord = (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| cmp_text_key(text(&records[a.2 as usize]), text(&records[b.2 as usize])));
        directed(ord, descending)
    });
    indices
        .par_iter_mut()
        .zip(keyed.par_iter())
        .for_each(|(slot, &(_, _, i))| *slot = i);
}

fn sort_by_keys(records: &[JobRecord], indices: &mut [u32], descending: bool) {
    fn cmp_keys(a: &[String], b: &[String]) -> Ordering {
        for (x, y) in a.iter().zip(b) {
            let ord = cmp_text(x, y);
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.len().cmp(&b.len())
    }
    let mut keyed: Vec<(u64, u32)> = indices
        .par_iter()
        .map(|&i| {
            let keys = &records[i as usize].prompt_keys;
            // Records without keys first; otherwise the first key's prefix (shifted so that
            // an empty first key still sorts after "no keys").
            let prefix = keys
                .first()
                .map(|k| 1 + (folded_prefix(k) >> 1))
                .unwrap_or(0);
            (prefix, i)
        })
        .collect();
    keyed.par_sort_by(|a, b| {
        let ord = a.0.cmp(&b.0).then_with(|| {
            cmp_keys(
                &records[a.1 as usize].prompt_keys,
                &records[b.1 as usize].prompt_keys,
            )
        });
        directed(ord, descending)
    });
    indices
        .par_iter_mut()
        .zip(keyed.par_iter())
        .for_each(|(slot, &(_, i))| *slot = i);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_search_ignores_case_and_finds_every_position() {
        let m = TermMatcher::new("DrAgon");
        assert!(m.is_match("a red dragon"));
        assert!(m.is_match("DRAGON"));
        assert!(m.is_match("dragon at the start"));
        assert!(!m.is_match("drago"));
        assert!(!m.is_match("a red dragoon"));
        let single = TermMatcher::new("x");
        assert!(single.is_match("X"));
        assert!(!single.is_match(""));
        let punct = TermMatcher::new("1.5,");
        assert!(punct.is_match("cfg 1.5, steps"));
        assert!(!punct.is_match("cfg 1.5 steps"));
    }

    #[test]
    fn unicode_search_folds_case() {
        let m = TermMatcher::new("ÉTÉ");
        assert!(m.is_match("un été chaud"));
        assert!(!m.is_match("un ete chaud"));
        let greek = TermMatcher::new("δράκος");
        assert!(greek.is_match("ΔΡΆΚΟΣ"));
    }

    #[test]
    fn total_order_f64_orders_like_total_cmp() {
        let xs = [
            -3.5,
            -0.0,
            0.0,
            1.0,
            6.5,
            7.0,
            f64::INFINITY,
            -f64::INFINITY,
        ];
        for a in xs {
            for b in xs {
                assert_eq!(
                    total_order_f64(a).cmp(&total_order_f64(b)),
                    a.total_cmp(&b),
                    "{a} {b}"
                );
            }
        }
    }

    #[test]
    fn folded_prefix_orders_like_folded_text() {
        let words = [
            "",
            "a",
            "Apple",
            "apple pie",
            "B",
            "banana",
            "zz",
            "Zebra crossing",
        ];
        for a in words {
            for b in words {
                let pa = folded_prefix(a);
                let pb = folded_prefix(b);
                if pa != pb {
                    assert_eq!(pa.cmp(&pb), cmp_text(a, b), "{a:?} {b:?}");
                }
            }
        }
    }
}
