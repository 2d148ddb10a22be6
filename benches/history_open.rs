//! Opening the history (every record in memory) at N = 10,000 / 100,000 / 1,000,000, beside
//! the bare limits measured on the same bytes in the same run:
//!
//! * `read_bytes`: `std::fs::read` of the file (page cache warm);
//! * `serde_json`: plain `serde_json::from_slice::<JobRecord>` per line, one thread, into a
//!   `Vec<JobRecord>` (the reference speed);
//! * `serde_json_par`: the same, lines split over both cores with rayon (what two cores allow
//!   for this parse).
//!
//! `HistoryStore::open` reads the whole file; `open_partial+load_more` reads it the way the app
//! streams it into the window (4 MB, then 8 MB steps).
//!
//! Throughput is reported in bytes of the file; records/s = N / time.

use promptdesk_testdata as testdata;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use promptdesk::{HistoryStore, JobRecord};
use rayon::prelude::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SIZES: &[u64] = &[10_000, 100_000, 1_000_000];

/// Plain serde_json, one thread: what "the plain serde_json parse speed" means.
fn serde_lines(bytes: &[u8]) -> Vec<JobRecord> {
    let mut out = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        if let Ok(r) = serde_json::from_slice::<JobRecord>(line) {
            out.push(r);
        }
    }
    out
}

/// The same parse, lines shared out over every core.
fn serde_lines_par(bytes: &[u8]) -> Vec<JobRecord> {
    let mut starts = Vec::with_capacity(bytes.len() / 512);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', bytes) {
        starts.push((start, end));
        start = end + 1;
    }
    starts
        .into_par_iter()
        .with_min_len(256)
        .filter_map(|(s, e)| serde_json::from_slice::<JobRecord>(&bytes[s..e]).ok())
        .collect()
}

/// Runs `f` `iters` times, timing only `f` itself: what it returns (a whole history in memory)
/// is dropped outside the timed part, the same for every variant.
fn timed<T>(iters: u64, mut f: impl FnMut() -> T) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        let out = black_box(f());
        total += start.elapsed();
        drop(out);
    }
    total
}

fn open(c: &mut Criterion) {
    for &n in SIZES {
        let path = testdata::cached_history(n);
        let len = std::fs::metadata(&path).expect("generated history").len();
        let mut group = c.benchmark_group(format!("open/{n}"));
        group.throughput(Throughput::Bytes(len));
        if n >= 1_000_000 {
            group
                .sample_size(10)
                .sampling_mode(SamplingMode::Flat)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(20));
        } else if n >= 100_000 {
            group
                .sample_size(10)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(5));
        } else {
            group
                .sample_size(20)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(3));
        }
        group.bench_function(BenchmarkId::new("read_bytes", n), |b| {
            b.iter_custom(|iters| timed(iters, || std::fs::read(&path).expect("read")))
        });
        group.bench_function(BenchmarkId::new("serde_json", n), |b| {
            b.iter_custom(|iters| {
                timed(iters, || {
                    let bytes = std::fs::read(&path).expect("read");
                    let records = serde_lines(&bytes);
                    assert_eq!(records.len() as u64, n);
                    records
                })
            })
        });
        group.bench_function(BenchmarkId::new("serde_json_par", n), |b| {
            b.iter_custom(|iters| {
                timed(iters, || {
                    let bytes = std::fs::read(&path).expect("read");
                    let records = serde_lines_par(&bytes);
                    assert_eq!(records.len() as u64, n);
                    records
                })
            })
        });
        group.bench_function(BenchmarkId::new("HistoryStore::open", n), |b| {
            b.iter_custom(|iters| {
                timed(iters, || {
                    let store = HistoryStore::open(&path).expect("open");
                    assert_eq!(store.len() as u64, n);
                    store
                })
            })
        });
        group.bench_function(BenchmarkId::new("open_partial+load_more", n), |b| {
            b.iter_custom(|iters| {
                timed(iters, || {
                    let store = stream(&path);
                    assert_eq!(store.len() as u64, n);
                    store
                })
            })
        });
        group.finish();
    }
}

/// How the app loads: the first 4 MB, then 8 MB steps (see `app::tasks::HistoryLoad`).
fn stream(path: &std::path::Path) -> HistoryStore {
    let mut store = HistoryStore::open_partial(path, 4 << 20).expect("open_partial");
    while !store.load_more(8 << 20).expect("load_more") {}
    store
}

criterion_group!(benches, open);
criterion_main!(benches);
