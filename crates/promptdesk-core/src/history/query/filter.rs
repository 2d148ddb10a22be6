//! The history filter: its fields, and the case-insensitive matchers of its search terms run
//! over records in parallel chunks.

use super::text::for_each_text;
use crate::job_record::{JobRecord, JobStatus};
use crate::run_config::PromptSource;
use rayon::prelude::*;
use serde_json::Value;

/// What the history table / `promptdesk history` shows. Empty fields match everything.
///
/// The pack and key filters select among pack jobs: with `source` MANUAL they do not apply
/// (manual jobs have neither), so a pack filter left set when the table is switched to manual
/// jobs hides nothing, and applies again when the source goes back to all or pack.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HistoryFilter {
    /// Case-insensitive substring of the prompts and negative prompts (every text in the
    /// payload), pack id, keys, model or job id. Whitespace-separated terms must all match,
    /// each anywhere in the record (not across two fields).
    pub text: String,
    pub source: Option<PromptSource>,
    /// Exact pack id.
    pub pack: Option<String>,
    /// Exact prompt key (the record's prompt_keys contain it).
    pub key: Option<String>,
    pub status: Option<JobStatus>,
    /// Only jobs rated at least this many stars (a job's rating is its best image's, see
    /// [`JobRecord::rating`]); unrated jobs are left out. `Some(0)` matches every job.
    pub min_rating: Option<u8>,
    /// Only jobs with a favourite image ([`JobRecord::is_favorite`]).
    pub favorites_only: bool,
}

impl HistoryFilter {
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
            && self.source.is_none()
            && self.pack.is_none()
            && self.key.is_none()
            && self.status.is_none()
            && !self.rates()
    }

    /// True when the filter looks at ratings or favourites.
    fn rates(&self) -> bool {
        self.min_rating.is_some_and(|n| n > 0) || self.favorites_only
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
        if let Some(min) = f.min_rating.filter(|&n| n > 0)
            && record.rating().is_none_or(|r| r < min)
        {
            return false;
        }
        if f.favorites_only && !record.is_favorite() {
            return false;
        }
        let pack_jobs = f.source != Some(PromptSource::Manual);
        if let Some(pack) = f.pack.as_ref().filter(|_| pack_jobs)
            && record.prompt_pack_id.as_deref() != Some(pack.as_str())
        {
            return false;
        }
        if let Some(key) = f.key.as_ref().filter(|_| pack_jobs)
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
            && !self.filter.rates()
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

/// Records per rayon task when filtering or extracting sort keys.
pub(super) const CHUNK: usize = 16 * 1024;

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
            let mut hits = Vec::new();
            let mut at = chunk_no * CHUNK;
            for block in chunk.chunks(TOUCH_BLOCK) {
                if !compiled.terms.is_empty() {
                    touch_texts(block);
                }
                for r in block {
                    if compiled.matches(r) {
                        hits.push(at as u32);
                    }
                    at += 1;
                }
            }
            hits
        })
        .collect();
    parts.concat()
}

/// Records whose strings are touched ahead of the search, together.
const TOUCH_BLOCK: usize = 32;

/// Reads one byte of each searchable string of `block`'s records before they are searched.
/// The strings live in separate heap blocks, so searching record after record waits for one
/// cache miss after another; these loads do not depend on each other, so the processor
/// overlaps them, and the search then finds the bytes in cache (several times faster on a
/// large history).
fn touch_texts(block: &[JobRecord]) {
    fn first_byte(s: &str) -> u8 {
        s.as_bytes().first().copied().unwrap_or(0)
    }
    fn touch(value: &Value, depth: u8) -> u8 {
        match value {
            Value::String(s) => first_byte(s),
            Value::Object(map) if depth < 3 => {
                map.values().fold(0, |acc, v| acc ^ touch(v, depth + 1))
            }
            _ => 0,
        }
    }
    let mut acc = 0u8;
    for r in block {
        acc ^= r
            .run_config
            .prompt_payload
            .values()
            .fold(0, |a, v| a ^ touch(v, 1));
        acc ^= first_byte(&r.job_id) ^ first_byte(&r.run_config.settings.model);
    }
    std::hint::black_box(acc);
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
    fn pack_and_key_filters_do_not_apply_to_manual_jobs() {
        let config = crate::run_config::RunConfig::default();
        let mut manual = crate::job_record::job_record_from_run_config("m", &config);
        manual.prompt_source = PromptSource::Manual;
        let mut pack = manual.clone();
        pack.prompt_source = PromptSource::Pack;
        pack.prompt_pack_id = Some("beasts".into());
        pack.prompt_keys = vec!["3".into()];
        let mut filter = HistoryFilter {
            pack: Some("beasts".into()),
            key: Some("3".into()),
            ..HistoryFilter::default()
        };
        assert!(filter.matches(&pack) && !filter.matches(&manual));
        filter.source = Some(PromptSource::Manual);
        assert!(
            filter.matches(&manual),
            "the pack and key filters are set aside"
        );
        assert!(!filter.matches(&pack), "the source still applies");
        filter.source = Some(PromptSource::Pack);
        filter.key = Some("4".into());
        assert!(!filter.matches(&pack), "they apply again to pack jobs");
    }

    #[test]
    fn unicode_search_folds_case() {
        let m = TermMatcher::new("ÉTÉ");
        assert!(m.is_match("un été chaud"));
        assert!(!m.is_match("un ete chaud"));
        let greek = TermMatcher::new("δράκος");
        assert!(greek.is_match("ΔΡΆΚΟΣ"));
    }
}
