//! Filtering and sorting 1,000,000 records (target: each under 100 ms), as the history table
//! asks for them: `filter_indices` for each kind of filter, and `query_indices` with an empty
//! filter for each sort column (what a click on a column header computes).
//!
//! Filters: a common word in the prompts (`castle`, in roughly one record in ten), two words
//! that must both match, a word found nowhere (every string of every record is searched), a
//! non-ASCII word (`café`: the Unicode path), the source, a pack, a pack and a key, and
//! everything combined. The text filters again through a `SearchIndex` (what the app's query
//! worker uses), and the index's build time and size.

use promptdesk_testdata as testdata;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use promptdesk::PromptSource;
use promptdesk::history::{
    HistoryFilter, SearchIndex, SortColumn, filter_indices, filter_indices_indexed, query_indices,
    query_indices_indexed,
};
use promptdesk::{HistoryStore, JobStatus};
use std::hint::black_box;
use std::time::Duration;

const N: u64 = 1_000_000;

fn filters() -> Vec<(&'static str, HistoryFilter)> {
    let pack = Some(testdata::pack_id(3));
    vec![
        (
            "text_common",
            HistoryFilter {
                text: "castle".into(),
                ..HistoryFilter::default()
            },
        ),
        (
            "text_two_terms",
            HistoryFilter {
                text: "lighthouse FOG".into(),
                ..HistoryFilter::default()
            },
        ),
        (
            "text_no_match",
            HistoryFilter {
                text: "zeppelin".into(),
                ..HistoryFilter::default()
            },
        ),
        (
            "text_unicode",
            HistoryFilter {
                text: "café".into(),
                ..HistoryFilter::default()
            },
        ),
        (
            "source_pack",
            HistoryFilter {
                source: Some(PromptSource::Pack),
                ..HistoryFilter::default()
            },
        ),
        (
            "source_manual",
            HistoryFilter {
                source: Some(PromptSource::Manual),
                ..HistoryFilter::default()
            },
        ),
        (
            "pack",
            HistoryFilter {
                pack: pack.clone(),
                ..HistoryFilter::default()
            },
        ),
        (
            "pack_and_key",
            HistoryFilter {
                pack: pack.clone(),
                key: Some("7".into()),
                ..HistoryFilter::default()
            },
        ),
        (
            "all_combined",
            HistoryFilter {
                text: "castle".into(),
                source: Some(PromptSource::Pack),
                pack,
                key: Some("7".into()),
                status: Some(JobStatus::Completed),
                ..HistoryFilter::default()
            },
        ),
    ]
}

fn query(c: &mut Criterion) {
    let path = testdata::cached_history(N);
    let store = HistoryStore::open(&path).expect("open the 1M history");
    let records = store.records();
    assert_eq!(records.len() as u64, N);

    let mut group = c.benchmark_group("filter/1000000");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (name, filter) in filters() {
        let hits = filter_indices(records, &filter).len();
        println!("filter {name}: {hits} of {N} records match");
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| black_box(filter_indices(records, &filter)))
        });
    }
    group.finish();

    // The app's path: a SearchIndex (built once per history state by the query worker), then
    // filter_indices_indexed for the text terms.
    let mut group = c.benchmark_group("search_index/1000000");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    group.bench_function(BenchmarkId::from_parameter("build"), |b| {
        b.iter(|| black_box(SearchIndex::build(records)))
    });
    let index = SearchIndex::build(records);
    println!(
        "search_index: {} records, {} bytes of text ({:.2} x the history file)",
        index.len(),
        index.text_bytes(),
        index.text_bytes() as f64
            / std::fs::metadata(&path)
                .map(|m| m.len() as f64)
                .unwrap_or(f64::NAN)
    );
    for (name, filter) in filters() {
        if filter.text.is_empty() {
            continue;
        }
        let want = filter_indices(records, &filter);
        assert_eq!(filter_indices_indexed(records, &index, &filter), want);
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| black_box(filter_indices_indexed(records, &index, &filter)))
        });
    }
    let typed = HistoryFilter {
        text: "castle".into(),
        ..HistoryFilter::default()
    };
    group.bench_function(BenchmarkId::from_parameter("text_common+Time"), |b| {
        b.iter(|| {
            black_box(query_indices_indexed(
                records,
                &index,
                &typed,
                SortColumn::Time,
                true,
            ))
        })
    });
    group.finish();
    drop(index);

    let mut group = c.benchmark_group("sort/1000000");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let empty = HistoryFilter::default();
    for column in SortColumn::ALL {
        // Time opens descending (newest first), every other column ascending, as in the app.
        let descending = column == SortColumn::Time;
        group.bench_function(BenchmarkId::from_parameter(format!("{column:?}")), |b| {
            b.iter(|| black_box(query_indices(records, &empty, column, descending)))
        });
    }
    // The same sorts the other way round (a second click on the header).
    for column in [SortColumn::Time, SortColumn::Prompt, SortColumn::Seed] {
        let descending = column != SortColumn::Time;
        group.bench_function(
            BenchmarkId::from_parameter(format!("{column:?}_reversed")),
            |b| b.iter(|| black_box(query_indices(records, &empty, column, descending))),
        );
    }
    // Filter and sort together: the table with the filter bar in use.
    let typed = HistoryFilter {
        text: "castle".into(),
        ..HistoryFilter::default()
    };
    group.bench_function(BenchmarkId::from_parameter("text_common+Prompt"), |b| {
        b.iter(|| black_box(query_indices(records, &typed, SortColumn::Prompt, false)))
    });
    group.finish();
}

criterion_group!(benches, query);
criterion_main!(benches);
