//! Filtering and sorting the history: the rows of the history table and of `promptdesk history`.
//!
//! Built for large histories. The text filter compiles one case-insensitive matcher per
//! search term (ASCII terms: a `memchr2` scan for the term's rarest byte in both cases, then
//! an in-place check; other terms: a Unicode case-insensitive regex of the escaped text) and
//! reads each record's strings where they are, allocating nothing per record; records are
//! searched in parallel chunks. Sorting builds one small key per row, in parallel, with the
//! row's input position as the last tie-break, so a fast unstable parallel sort gives a
//! stable order: numbers sort directly; text columns use a most-significant-chunk-first sort
//! on 8-byte case-folded chunks held inline (comparisons never follow pointers; texts are read
//! in linear passes, shared prefixes skipped in one pass).
//!
//! Measured on a loaded 2-vCPU machine with a million records (release build): numeric and
//! time sorts take 10-50 ms; text columns with repeated values (model, pack, config hash,
//! keys) 70-250 ms; the prompt column with a million distinct prompts sharing a long prefix
//! about 0.6-1 s; a text search 300-500 ms, bound by memory latency (each record's strings
//! are separate heap blocks).
//!
//! # Layout
//!
//! `text` (the searchable strings of a record, the first prompt), `filter` (the filter and its
//! case-insensitive term matchers), `sort` (the columns and the key sorts), `text_sort` (the
//! MSD sort of text columns) and `search_index` (the contiguous lower-cased text index).

mod filter;
mod search_index;
mod sort;
mod text;
mod text_sort;

pub use filter::{CompiledFilter, HistoryFilter, filter_indices};
pub use search_index::{SearchIndex, filter_indices_indexed, query_indices_indexed};
pub use sort::{SortColumn, query_indices, sort_indices};
pub use text::{first_prompt_line, first_prompt_str, summary_prompt};
