//! Discovering a packs folder of M = 100 and M = 5,000 packs (target: 5,000 in under 1 s),
//! beside the bare limit: listing the folder and reading every file's bytes (one thread, and
//! over every core with rayon).
//!
//! The packs cycle through every format (StableNew .txt, unified .json, keyed .json, .tsv,
//! styles .csv, and .txt with a settings-only .json companion), 4–30 prompts each.

use promptdesk_testdata as testdata;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use promptdesk::discover_packs;
use rayon::prelude::*;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

fn files(dir: &std::path::Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("list")
        .flatten()
        .map(|e| e.path())
        .collect()
}

fn packs(c: &mut Criterion) {
    for m in [100usize, 5_000] {
        let dir = testdata::cached_packs(m);
        let bytes = testdata::folder_bytes(&dir);
        let found = discover_packs(&dir);
        assert_eq!(found.packs.len(), m, "every generated pack loads");
        assert!(found.errors.is_empty(), "{:?}", found.errors.first());
        println!(
            "packs/{m}: {} files, {} bytes, {} prompts",
            files(&dir).len(),
            bytes,
            found.packs.iter().map(|p| p.prompts.len()).sum::<usize>()
        );
        let mut group = c.benchmark_group(format!("packs/{m}"));
        group
            .throughput(Throughput::Bytes(bytes))
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(if m > 1000 { 6 } else { 2 }));
        group.bench_function(BenchmarkId::from_parameter("read_all_files"), |b| {
            b.iter(|| {
                let total: usize = files(&dir)
                    .iter()
                    .map(|p| std::fs::read(p).map(|v| v.len()).unwrap_or(0))
                    .sum();
                black_box(total)
            })
        });
        group.bench_function(BenchmarkId::from_parameter("read_all_files_par"), |b| {
            b.iter(|| {
                let total: usize = files(&dir)
                    .par_iter()
                    .map(|p| std::fs::read(p).map(|v| v.len()).unwrap_or(0))
                    .sum();
                black_box(total)
            })
        });
        group.bench_function(BenchmarkId::from_parameter("discover_packs"), |b| {
            b.iter(|| black_box(discover_packs(&dir)))
        });
        group.finish();
    }
}

criterion_group!(benches, packs);
criterion_main!(benches);
