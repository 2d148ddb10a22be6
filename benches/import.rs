//! Importing a StableNew `job_history.jsonl` of 100,000 lines (about 90 MB, several status
//! lines per job), beside the bare limits on the same bytes:
//!
//! * `read_bytes`: `std::fs::read` of the file;
//! * `serde_json_value`: plain `serde_json::from_slice::<serde_json::Value>` per line, one
//!   thread (StableNew lines have no fixed record type; a `Value` is what the importer reads);
//! * `read_stablenew_history`: parse and fold into `JobRecord`s, nothing written;
//! * `import_stablenew`: the whole import into a new, empty history (`append_many`, one locked
//!   write and `sync_data`).

use promptdesk_testdata as testdata;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use promptdesk::HistoryStore;
use promptdesk::history::{import_stablenew, read_stablenew_history};
use std::hint::black_box;
use std::time::{Duration, Instant};

const LINES: u64 = 100_000;

fn serde_values(bytes: &[u8]) -> usize {
    let mut ok = 0;
    for line in bytes.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) {
            black_box(v);
            ok += 1;
        }
    }
    ok
}

fn import(c: &mut Criterion) {
    let path = testdata::cached_stablenew(LINES);
    let bytes = std::fs::read(&path).expect("generated StableNew history");
    let lines = testdata::count_lines(&bytes) as u64;
    let (records, report) = read_stablenew_history(&path).expect("read");
    println!(
        "import: {} lines, {} bytes, {} jobs, {} skipped, {} orphaned, {} never ran, {} renamed",
        lines,
        bytes.len(),
        records.len(),
        report.skipped.len(),
        report.orphaned,
        report.never_ran,
        report.renamed
    );
    drop(records);

    let work = testdata::cache_dir().join("work").join("import");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work folder");

    let mut group = c.benchmark_group(format!("import/{LINES}"));
    group
        .throughput(Throughput::Bytes(bytes.len() as u64))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(8));
    group.bench_function(BenchmarkId::from_parameter("read_bytes"), |b| {
        b.iter(|| black_box(std::fs::read(&path).expect("read")))
    });
    group.bench_function(BenchmarkId::from_parameter("serde_json_value"), |b| {
        b.iter(|| {
            let bytes = std::fs::read(&path).expect("read");
            assert_eq!(serde_values(&bytes) as u64, lines);
        })
    });
    group.bench_function(BenchmarkId::from_parameter("read_stablenew_history"), |b| {
        b.iter(|| black_box(read_stablenew_history(&path).expect("read")))
    });
    group.bench_function(BenchmarkId::from_parameter("import_stablenew"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let history = work.join("history.jsonl");
                let _ = std::fs::remove_file(&history);
                let mut store = HistoryStore::open(&history).expect("open");
                let start = Instant::now();
                let report = import_stablenew(&mut store, &path).expect("import");
                total += start.elapsed();
                assert!(report.imported > 0);
                drop(store);
            }
            total
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&work);
}

criterion_group!(benches, import);
criterion_main!(benches);
