//! The runner's own work per image (issue 12), which must stay small next to generation
//! (seconds per image on a GPU): aim under 20 ms per 1024x1024 image.
//!
//! The image: a 1024x1024 RGB PNG of noise (about 3 MB, larger than a real render, which
//! compresses to 1.2-2 MB), base64-encoded inside an A1111 txt2img answer with its `info`
//! string. Measured side by side in one run:
//! - `parse+decode`: reading the answer's JSON and decoding the image from base64;
//! - `text chunks`: adding `parameters` and `promptdesk` to the PNG (no re-encoding);
//! - `sha256`: hashing the file;
//! - `save`: all of the above plus writing the file atomically (fsync) under `outputs/`;
//! - `save batch of 4`: four images of one request (the folder synced once);
//! - `save+record`: `save` plus the job's completed line in a 10,000-job history (fsync).

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use promptdesk::HistoryStore;
use promptdesk::outputs::{ImageToSave, png_with_text, save_image, save_images, sha256_hex};
use std::hint::black_box;
use std::io::Write as _;
use std::time::Duration;

fn noise_png(w: u32, h: u32) -> Vec<u8> {
    use promptdesk::outputs::push_png_chunk as chunk;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut raw = Vec::with_capacity((w as usize * 3 + 1) * h as usize);
    for _ in 0..h {
        // Filter type 0, then the row's bytes.
        let row = (0..w * 3).map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8 & 0x3f
        });
        raw.extend(std::iter::once(0).chain(row));
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&raw).unwrap();
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

fn bench(c: &mut Criterion) {
    let png = noise_png(1024, 1024);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let info = serde_json::json!({
        "all_seeds": [1234], "index_of_first_image": 0, "sd_model_name": "sd_xl_base_1.0",
        "infotexts": ["a lighthouse\nSteps: 30, Seed: 1234"]
    })
    .to_string();
    let answer = serde_json::json!({"images": [b64], "parameters": {}, "info": info}).to_string();
    let params = "a lighthouse at dusk\nNegative prompt: blurry\nSteps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 1024x1024";
    let dir = tempfile::tempdir().unwrap();
    promptdesk_testdata::history::write_history(&dir.path().join("history.jsonl"), 10_000, 7)
        .unwrap();
    let mut store = HistoryStore::open(dir.path()).unwrap();
    let job = store.records()[5000].clone();

    let decode = |answer: &str| -> Vec<u8> {
        let v: serde_json::Value = serde_json::from_str(answer).unwrap();
        let image = v["images"][0].as_str().unwrap();
        let _info: serde_json::Value = serde_json::from_str(v["info"].as_str().unwrap()).unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(image)
            .unwrap()
    };

    let mut g = c.benchmark_group("runner per 1024x1024 image");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function("parse+decode", |b| b.iter(|| black_box(decode(&answer))));
    g.bench_function("text chunks", |b| {
        b.iter(|| {
            black_box(png_with_text(&png, &[("parameters", params), ("promptdesk", "{}")]).unwrap())
        })
    });
    g.bench_function("sha256", |b| b.iter(|| black_box(sha256_hex(&png))));
    let image = ImageToSave {
        job_id: &job.job_id,
        key: "12",
        variant: 1,
        seed: 1234,
        parameters: Some(params),
        when: chrono::Utc::now(),
    };
    g.bench_function("save", |b| {
        b.iter(|| {
            let bytes = decode(&answer);
            black_box(save_image(dir.path(), &image, &bytes).unwrap())
        })
    });
    g.bench_function("save batch of 4", |b| {
        b.iter(|| {
            let decoded: Vec<Vec<u8>> = (0..4).map(|_| decode(&answer)).collect();
            let batch: Vec<(ImageToSave<'_>, &[u8])> =
                decoded.iter().map(|d| (image.clone(), &d[..])).collect();
            black_box(save_images(dir.path(), &batch).unwrap())
        })
    });
    let mut n = 0u64;
    g.bench_function("save+record", |b| {
        b.iter(|| {
            let bytes = decode(&answer);
            let saved = save_image(dir.path(), &image, &bytes).unwrap();
            n += 1;
            let mut r = job.clone();
            r.duration_ms = Some(n);
            let mut result = promptdesk::outputs::JobResult::default();
            result.images.push(saved);
            r.result = Some(result);
            store.update(&r).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
