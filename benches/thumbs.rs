//! First-time thumbnail generation (issue 13): 1024x1024 PNGs decoded, scaled to 256 px and
//! encoded as JPEG (quality 85), per image on one core, and through the worker pool.
//!
//! The images: 1024x1024 RGB PNGs of soft gradients, shapes and fine grain, written by the
//! `image` crate's PNG encoder (default compression), about 2.6 MB each: grainier than a real
//! render (A1111's PIL PNGs of SD/SDXL output are 1.2-2 MB), so decoding here is, if anything,
//! slower than for real outputs. Measured side by side in one run:
//! - `decode`, `scale`, `encode`: the three steps alone (with the `image` crate directly);
//! - `make_thumbnail`: the three together (what a worker does per image), one core: images/s
//!   per core is 1 / this time;
//! - `ensure_thumbnail (first time)`: plus reading the source file and writing the thumbnail
//!   atomically (temp file, fsync, rename, folder fsync) into a fresh cache slot;
//! - `ensure_thumbnail (cache hit)`: a thumbnail already made (one `stat`);
//! - `pool of N, 32 images`: 32 first-time thumbnails through a [`ThumbnailPool`] of 1 and 2
//!   threads, from request to the last result.

use criterion::{Criterion, criterion_group, criterion_main};
use promptdesk::thumbs::{THUMBNAIL_SIDE, ThumbnailPool, ensure_thumbnail, make_thumbnail};
use std::hint::black_box;
use std::io::Cursor;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A photo-like 1024x1024 PNG (different for each `seed`).
fn render_like_png(seed: u64) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 59) as i32 - 16
    };
    let (cx, cy) = (300.0 + (seed % 7) as f32 * 60.0, 500.0);
    let img = image::RgbImage::from_fn(1024, 1024, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let d = ((fx - cx).powi(2) + (fy - cy).powi(2)).sqrt();
        let sun = (255.0 - d * 0.6).max(0.0);
        let sky = 80.0 + fy * 0.12;
        let wave = ((fx * 0.02).sin() * (fy * 0.013).cos() * 40.0) + 40.0;
        let px = |v: f32, n: i32| (v + n as f32).clamp(0.0, 255.0) as u8;
        image::Rgb([
            px(sky * 0.6 + sun * 0.8, noise()),
            px(sky * 0.7 + wave, noise()),
            px(sky + wave * 0.5 + sun * 0.2, noise()),
        ])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn bench(c: &mut Criterion) {
    let pngs: Vec<Vec<u8>> = (0..8).map(render_like_png).collect();
    let mean_kb = pngs.iter().map(Vec::len).sum::<usize>() / pngs.len() / 1024;
    eprintln!("thumbs bench: 1024x1024 PNGs of about {mean_kb} KiB");
    let dir = tempfile::tempdir().unwrap();
    let sources: Vec<PathBuf> = pngs
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let p = dir.path().join(format!("src{i}.png"));
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect();
    let data = dir.path().join("data");

    let mut g = c.benchmark_group("thumbnail of a 1024x1024 PNG");
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    let mut i = 0usize;
    let mut next = || {
        i += 1;
        i % pngs.len()
    };
    g.bench_function("decode", |b| {
        b.iter(|| black_box(image::load_from_memory(&pngs[next()]).unwrap()))
    });
    let decoded = image::load_from_memory(&pngs[0]).unwrap();
    g.bench_function("scale", |b| {
        b.iter(|| black_box(decoded.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)))
    });
    let small = decoded
        .thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
        .into_rgb8();
    g.bench_function("encode", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
                .encode_image(&small)
                .unwrap();
            black_box(out)
        })
    });
    let thumb = make_thumbnail(&pngs[0], THUMBNAIL_SIDE).unwrap();
    eprintln!("thumbs bench: a thumbnail is {} KiB", thumb.len() / 1024);
    g.bench_function("make_thumbnail", |b| {
        b.iter(|| black_box(make_thumbnail(&pngs[next()], THUMBNAIL_SIDE).unwrap()))
    });
    let mut key = 0u64;
    g.bench_function("ensure_thumbnail (first time)", |b| {
        b.iter(|| {
            key += 1;
            let sha = format!("{key:064x}");
            black_box(ensure_thumbnail(&data, &sha, &sources[next()]).unwrap())
        })
    });
    let cached = format!("{:064x}", 1);
    g.bench_function("ensure_thumbnail (cache hit)", |b| {
        b.iter(|| black_box(ensure_thumbnail(&data, &cached, &sources[0]).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("thumbnail pool, 32 first-time 1024x1024 PNGs");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for threads in [1, 2] {
        let mut round = 0u64;
        g.bench_function(format!("pool of {threads}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    let cache = dir.path().join(format!("pool{threads}-{round}"));
                    let pool = ThumbnailPool::new(&cache, threads);
                    let keys: Vec<String> = (0..32).map(|n| format!("{n:064x}")).collect();
                    let start = Instant::now();
                    pool.request_many(
                        keys.iter()
                            .enumerate()
                            .map(|(n, k)| (k.as_str(), &sources[n % sources.len()])),
                    );
                    for _ in 0..32 {
                        let done = pool.recv_timeout(Duration::from_secs(60)).unwrap();
                        done.result.unwrap();
                    }
                    total += start.elapsed();
                    drop(pool);
                    let _ = std::fs::remove_dir_all(&cache);
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
