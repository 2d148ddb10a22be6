//! `import-images` of a folder of 10,000 small PNG files (64x64, each with its own A1111
//! `parameters` text, about 1 KB), into an empty history on each run:
//!
//! * `first`: the whole import (listing, reading, hashing and parsing on all cores, 10 batches
//!   of 1,000 jobs written with `append_many`); throughput = files per second;
//! * `rescan`: the same folder again, nothing new (the hash index answers: a listing and a
//!   `stat` per file; the target is under 1 s), on a store already open;
//! * `rescan_with_open`: the same, opening the history (10,000 jobs) first, as the CLI does;
//! * `rescan_without_index`: nothing new but the hash index deleted first (every file read
//!   and hashed again), to show what the index saves.
//!
//! The files are generated once into `target/bench-data/v*/work/import_images/pics`.

use promptdesk_testdata as testdata;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use promptdesk::HistoryStore;
use promptdesk::images::{IMAGE_INDEX_FILE_NAME, ImportImagesOptions, import_images};
use promptdesk::outputs::png_with_text;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

const FILES: usize = 10_000;

/// The folder of generated images (made once).
fn pictures(work: &Path) -> PathBuf {
    let dir = work.join("pics");
    let done = dir.join(".complete");
    if done.exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("pics folder");
    let base = {
        let img =
            image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 90]));
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("encode");
        out.into_inner()
    };
    for i in 0..FILES {
        let parameters = format!(
            "a lighthouse at dusk, number {i}, oil painting, dramatic sky\nNegative prompt: blurry, lowres\nSteps: {}, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: {}, Size: 64x64, Model hash: 31e35c80fc, Model: sdxl_base, Version: v1.10.1",
            20 + i % 20,
            1_000_000 + i
        );
        let png = png_with_text(&base, &[("parameters", &parameters)]).expect("png");
        std::fs::write(dir.join(format!("{:05}-{}.png", i, 1_000_000 + i)), png).expect("write");
    }
    std::fs::write(&done, b"").expect("marker");
    dir
}

fn import_once(data: &Path, pics: &Path) -> (HistoryStore, Duration) {
    // A fresh data folder: its history and hash index start empty.
    let _ = std::fs::remove_dir_all(data);
    std::fs::create_dir_all(data).expect("data folder");
    let mut store = HistoryStore::open(data).expect("open");
    let start = Instant::now();
    let report = import_images(
        &mut store,
        pics,
        &ImportImagesOptions::default(),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .expect("import");
    let took = start.elapsed();
    assert!(
        report.imported + report.already_known == FILES,
        "{report:?}"
    );
    (store, took)
}

fn rescan(store: &mut HistoryStore, pics: &Path) -> usize {
    let report = import_images(
        store,
        pics,
        &ImportImagesOptions::default(),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .expect("rescan");
    assert_eq!(report.imported, 0);
    assert_eq!(report.already_known, FILES);
    report.hashed
}

fn bench(c: &mut Criterion) {
    let work = testdata::cache_dir().join("work").join("import_images");
    let pics = pictures(&work);
    let bytes: u64 = std::fs::read_dir(&pics)
        .expect("pics")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("import_images: {FILES} PNG files, {bytes} bytes");

    let mut group = c.benchmark_group(format!("import_images/{FILES}"));
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(FILES as u64));
    group.bench_function(BenchmarkId::from_parameter("first"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let data = work.join("data-first");
                let (_store, took) = import_once(&data, &pics);
                total += took;
            }
            total
        })
    });

    // One imported history for the re-scans.
    let data = work.join("data-rescan");
    let (mut store, _) = import_once(&data, &pics);
    group.bench_function(BenchmarkId::from_parameter("rescan"), |b| {
        b.iter(|| assert_eq!(rescan(&mut store, &pics), 0))
    });
    drop(store);
    group.bench_function(BenchmarkId::from_parameter("rescan_with_open"), |b| {
        b.iter(|| {
            let mut store = HistoryStore::open(&data).expect("open");
            assert_eq!(rescan(&mut store, &pics), 0)
        })
    });
    let mut store = HistoryStore::open(&data).expect("open");
    group.bench_function(BenchmarkId::from_parameter("rescan_without_index"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let _ = std::fs::remove_file(data.join(IMAGE_INDEX_FILE_NAME));
                let start = Instant::now();
                assert_eq!(rescan(&mut store, &pics), FILES);
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
    drop(store);
    let _ = std::fs::remove_dir_all(work.join("data-first"));
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_file(work.join(IMAGE_INDEX_FILE_NAME));
}

criterion_group!(benches, bench);
criterion_main!(benches);
