//! `HistoryStore::append` of one new record into a history of N = 0 and N = 1,000,000 records
//! (target: the two cost the same, within 20 %). Every append takes the lock, catches up with
//! the file, writes one line and `sync_data`s it, as in the app; both stores live in the same
//! folder on the same file system, so the fsync costs the same.
//!
//! Besides criterion's mean, `append/latency` prints the median, 99th percentile and maximum of
//! single appends, because an occasional slow append (a vector or index growing) is what a user
//! would feel: the app appends on the UI thread.

use promptdesk_testdata as testdata;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use promptdesk::{HistoryStore, JobRecord, PromptPack};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Records to append: a different seed from the stored history, so ids never collide.
struct Fresh {
    packs: Vec<PromptPack>,
    next: u64,
}

impl Fresh {
    fn new() -> Fresh {
        Fresh {
            packs: testdata::history_packs(testdata::DEFAULT_SEED),
            next: 0,
        }
    }

    fn record(&mut self) -> JobRecord {
        self.next += 1;
        testdata::history_record(0xA99E_4D00, &self.packs, self.next)
    }
}

fn work_dir(name: &str) -> PathBuf {
    let dir = testdata::cache_dir().join("work").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the work folder");
    dir
}

/// An empty store in `dir` (a new file).
fn empty_store(dir: &Path) -> HistoryStore {
    let path = dir.join("history.jsonl");
    let _ = std::fs::remove_file(&path);
    HistoryStore::open(&path).expect("open an empty history")
}

/// A store holding a copy of the cached 1,000,000-record history.
fn big_store(dir: &Path) -> HistoryStore {
    let src = testdata::cached_history(1_000_000);
    let path = dir.join("history.jsonl");
    std::fs::copy(&src, &path).expect("copy the 1M history");
    // Write the copy out now: 1.4 GB of dirty pages still being written back would slow every
    // fsync measured next (a cost of the copy, not of appending).
    std::fs::File::open(&path)
        .and_then(|f| f.sync_all())
        .expect("sync the copy");
    let store = HistoryStore::open(&path).expect("open the 1M history");
    assert_eq!(store.len(), 1_000_000);
    store
}

/// Times `iters` appends; `reset` (untimed) may replace the store between appends.
fn time_appends(
    store: &mut HistoryStore,
    fresh: &mut Fresh,
    iters: u64,
    mut reset: impl FnMut(&mut HistoryStore),
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        reset(store);
        let record = fresh.record();
        let start = Instant::now();
        store.append(&record).expect("append");
        total += start.elapsed();
    }
    total
}

fn append(c: &mut Criterion) {
    let mut fresh = Fresh::new();
    let mut group = c.benchmark_group("append");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));

    let dir0 = work_dir("append-0");
    let mut small = empty_store(&dir0);
    group.bench_function(BenchmarkId::new("append", 0), |b| {
        b.iter_custom(|iters| {
            // Keep N near 0: a fresh empty store every 100 appends (untimed).
            time_appends(&mut small, &mut fresh, iters, |s| {
                if s.len() >= 100 {
                    *s = empty_store(&dir0);
                }
            })
        })
    });

    let dir1 = work_dir("append-1m");
    let mut big = big_store(&dir1);
    group.bench_function(BenchmarkId::new("append", 1_000_000), |b| {
        b.iter_custom(|iters| time_appends(&mut big, &mut fresh, iters, |_| {}))
    });
    group.finish();

    // Latency distribution of single appends, both sizes, interleaved in blocks so that disk
    // noise hits both alike.
    let mut lat0 = Vec::new();
    let mut lat1 = Vec::new();
    for _ in 0..10 {
        for _ in 0..200 {
            lat0.push(time_appends(&mut small, &mut fresh, 1, |s| {
                if s.len() >= 100 {
                    *s = empty_store(&dir0);
                }
            }));
        }
        for _ in 0..200 {
            lat1.push(time_appends(&mut big, &mut fresh, 1, |_| {}));
        }
    }
    for (n, lat) in [(0, &mut lat0), (big.len(), &mut lat1)] {
        lat.sort();
        let pct = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize];
        let mean = lat.iter().sum::<Duration>() / lat.len() as u32;
        println!(
            "append/latency N={n:>7}: {} appends, mean {:.3} ms, median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            lat.len(),
            mean.as_secs_f64() * 1e3,
            pct(0.5).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            pct(1.0).as_secs_f64() * 1e3,
        );
    }
    drop(small);
    drop(big);
    let _ = std::fs::remove_dir_all(&dir0);
    let _ = std::fs::remove_dir_all(&dir1);
}

criterion_group!(benches, append);
criterion_main!(benches);
