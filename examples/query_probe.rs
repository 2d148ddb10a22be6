//! Runs one history query many times, for profiling (`perf record`, `valgrind --tool=callgrind`)
//! and for quick timings outside criterion.
//!
//! ```text
//! cargo run --release --example query_probe -- FILE filter castle 5
//! cargo run --release --example query_probe -- FILE sort Prompt 3
//! ```
//!
//! `filter TEXT`: `filter_indices` with that search text; `sort COLUMN`: `query_indices` with
//! an empty filter, ascending (Time: descending, as the app opens it); `rawscan TEXT`: the bare
//! limit of a text search, a case-insensitive scan of the file's bytes, in memory and
//! contiguous, for TEXT (regex crate, one thread). Prints each run's time.

use promptdesk::HistoryStore;
use promptdesk::history::{HistoryFilter, SortColumn, filter_indices, query_indices};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(file), Some(kind), Some(what)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: query_probe FILE (filter TEXT | sort COLUMN) [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);
    if kind == "rawscan" {
        raw_scan(file, what, runs);
        return;
    }
    let t = Instant::now();
    let store = match HistoryStore::open(file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("query_probe: {e}");
            std::process::exit(1);
        }
    };
    eprintln!(
        "opened {} records in {:.2} s",
        store.len(),
        t.elapsed().as_secs_f64()
    );
    let records = store.records();
    for _ in 0..runs {
        let t = Instant::now();
        let rows = match kind.as_str() {
            "filter" => {
                let filter = HistoryFilter {
                    text: what.clone(),
                    ..HistoryFilter::default()
                };
                filter_indices(records, &filter)
            }
            "sort" => {
                let Some(column) = SortColumn::ALL
                    .into_iter()
                    .find(|c| format!("{c:?}").eq_ignore_ascii_case(what))
                else {
                    eprintln!("query_probe: unknown column {what}");
                    std::process::exit(2);
                };
                let descending = column == SortColumn::Time;
                query_indices(records, &HistoryFilter::default(), column, descending)
            }
            other => {
                eprintln!("query_probe: unknown query kind {other}");
                std::process::exit(2);
            }
        };
        println!(
            "{kind} {what}: {} rows in {:.1} ms",
            rows.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}

/// Counts the occurrences of `term` (case-insensitive) in `file`'s bytes, held in memory,
/// contiguous, with the regex crate's SIMD literal search: the bare limit of a text search.
fn raw_scan(file: &str, term: &str, runs: usize) {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("query_probe: {file}: {e}");
            std::process::exit(1);
        }
    };
    let re = match regex::bytes::RegexBuilder::new(&regex::escape(term))
        .case_insensitive(true)
        .build()
    {
        Ok(re) => re,
        Err(e) => {
            eprintln!("query_probe: {e}");
            std::process::exit(2);
        }
    };
    for _ in 0..runs {
        let t = Instant::now();
        let hits = re.find_iter(&bytes).count();
        let secs = t.elapsed().as_secs_f64();
        println!(
            "rawscan {term}: {hits} occurrences in {} bytes, {:.1} ms ({:.2} GB/s)",
            bytes.len(),
            secs * 1e3,
            bytes.len() as f64 / secs / 1e9
        );
    }
}
