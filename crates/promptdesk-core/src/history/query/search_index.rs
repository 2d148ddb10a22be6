//! The search index: every record's searchable text, lower-cased, in contiguous memory.

use super::filter::{CHUNK, HistoryFilter, filter_indices};
use super::sort::{SortColumn, sort_indices};
use super::text::for_each_text;
use crate::job_record::JobRecord;
use rayon::prelude::*;

/// The searchable text of every record, ASCII-lower-cased and laid out end to end, so a text
/// search is one linear scan of contiguous memory instead of a cache miss per string. Costs
/// about the size of the prompts in memory; build it once per history state (the app's query
/// worker keeps one and extends it as jobs are added). Kept as the parts it was built in (one
/// per chunk of records), so building never holds two copies of the text.
#[derive(Debug, Default, Clone)]
pub struct SearchIndex {
    parts: Vec<IndexPart>,
    len: usize,
}

/// The text of records `first..first + ends.len()`: record `first + k` is
/// `text[ends[k - 1]..ends[k]]` (from 0 for k = 0).
#[derive(Debug, Default, Clone)]
struct IndexPart {
    first: usize,
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl IndexPart {
    /// Records of this part whose text contains `finder`'s needle (as absolute indices).
    fn hits(&self, finder: &memchr::memmem::Finder<'_>) -> Vec<usize> {
        let mut hits = Vec::new();
        let mut at = 0;
        while let Some(pos) = finder.find(&self.text[at..]) {
            let pos = at + pos;
            // The record holding `pos`: the first whose end is past it.
            let k = self.ends.partition_point(|&e| e <= pos);
            hits.push(self.first + k);
            at = self.ends[k];
            if at >= self.text.len() {
                break;
            }
        }
        hits
    }
}

impl SearchIndex {
    /// Builds the index of `records` (in parallel).
    pub fn build(records: &[JobRecord]) -> SearchIndex {
        let mut index = SearchIndex::default();
        index.extend(records);
        index
    }

    /// Adds `more` records (the ones after those it covers).
    pub fn extend(&mut self, more: &[JobRecord]) {
        let base = self.len;
        let parts: Vec<IndexPart> = more
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(n, chunk)| {
                let mut text = Vec::with_capacity(chunk.len() * 256);
                let mut ends = Vec::with_capacity(chunk.len());
                for r in chunk {
                    for_each_text(r, |s| {
                        text.extend(s.bytes().map(|b| b.to_ascii_lowercase()));
                        // No term holds a '\n' (terms are split at whitespace), so no match
                        // spans two strings or two records.
                        text.push(b'\n');
                        false
                    });
                    ends.push(text.len());
                }
                text.shrink_to_fit();
                IndexPart {
                    first: base + n * CHUNK,
                    text,
                    ends,
                }
            })
            .collect();
        self.parts.extend(parts);
        self.len += more.len();
    }

    /// How many records it covers.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of text it holds.
    pub fn text_bytes(&self) -> usize {
        self.parts.iter().map(|p| p.text.len()).sum()
    }

    /// Sets `marks[i]` for each record whose text contains `term` (lower-case ASCII).
    fn mark(&self, term: &[u8], marks: &mut [bool]) {
        let finder = memchr::memmem::Finder::new(term);
        let hits: Vec<Vec<usize>> = self.parts.par_iter().map(|p| p.hits(&finder)).collect();
        for rec in hits.into_iter().flatten() {
            marks[rec] = true;
        }
    }
}

/// Like [`filter_indices`], using `index` (built from exactly these `records`) for the text
/// terms. Falls back to [`filter_indices`] when the index does not cover `records` or a term
/// has non-ASCII letters (those need Unicode case folding).
pub fn filter_indices_indexed(
    records: &[JobRecord],
    index: &SearchIndex,
    filter: &HistoryFilter,
) -> Vec<u32> {
    let terms: Vec<&str> = filter.text.split_whitespace().collect();
    if terms.is_empty() || index.len() != records.len() || !terms.iter().all(|t| t.is_ascii()) {
        return filter_indices(records, filter);
    }
    let records = &records[..records.len().min(u32::MAX as usize)];
    let mut found = vec![true; records.len()];
    for term in terms {
        let needle: Vec<u8> = term.bytes().map(|b| b.to_ascii_lowercase()).collect();
        let mut marks = vec![false; records.len()];
        index.mark(&needle, &mut marks);
        for (f, m) in found.iter_mut().zip(marks) {
            *f &= m;
        }
    }
    let rest = HistoryFilter {
        text: String::new(),
        ..filter.clone()
    };
    let rest = rest.compile();
    found
        .iter()
        .enumerate()
        .filter(|&(i, &f)| f && rest.matches(&records[i]))
        .map(|(i, _)| i as u32)
        .collect()
}

/// Filter (with `index`) then sort.
pub fn query_indices_indexed(
    records: &[JobRecord],
    index: &SearchIndex,
    filter: &HistoryFilter,
    column: SortColumn,
    descending: bool,
) -> Vec<u32> {
    let mut idx = filter_indices_indexed(records, index, filter);
    sort_indices(records, &mut idx, column, descending);
    idx
}
