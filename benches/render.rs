//! Rendering what a run sends (issue 11): the composer re-renders its preview whenever the
//! selection, the text, the styles or the seed change, and Submit renders once more.
//!
//! The pack: 100 prompts, each with two `[[matrix]]` tokens (4 x 4 values, fanout limit 8),
//! two `__wildcard__` draws from 200-line files (one in a sub-folder) and an `{a|b|c}`
//! variant, with two styles applied. Measured: one key (a preview after a click), all 100
//! keys (800 requests), and, beside them, the floor: copying the same prompt texts once per
//! request with styles applied and nothing else (what a run costs without rendering).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use promptdesk::discover_packs;
use promptdesk::render::{PromptInput, RenderOptions, Wildcards, render};
use promptdesk::styles::{apply_styles, resolve_styles};
use promptdesk::{PromptPack, StyleRef};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn write_packs(dir: &Path) {
    let mut slots = Vec::new();
    for i in 0..100 {
        slots.push(serde_json::json!({
            "index": i,
            "text": format!(
                "(masterpiece) study {i} of a lighthouse keeper, [[season]] light, [[lens]], \
                 __weather__ sky, __moods/calm__ mood, {{oil|ink|pastel}} texture, detailed"
            ),
            "negative": "blurry, lowres, watermark",
            "loras": [["detail", 0.5]],
        }));
    }
    let pack = serde_json::json!({
        "pack_data": {
            "name": "Bench",
            "slots": slots,
            "matrix": {
                "enabled": true, "mode": "fanout", "limit": 8,
                "slots": [
                    {"name": "season", "values": ["spring", "summer", "autumn", "winter"]},
                    {"name": "lens", "values": ["35mm", "50mm", "85mm", "fisheye"]}
                ]
            }
        }
    });
    std::fs::write(dir.join("Bench.json"), pack.to_string()).unwrap();
    std::fs::write(
        dir.join("styles.csv"),
        "name,prompt,negative_prompt\nFilm,\"film still of {prompt}, grain\",\"cartoon\"\nSoft,soft light,\n",
    )
    .unwrap();
    let wild = dir.join("wildcards");
    std::fs::create_dir_all(wild.join("moods")).unwrap();
    let lines = |w: &str| (0..200).map(|i| format!("{w} {i}\n")).collect::<String>();
    std::fs::write(wild.join("weather.txt"), lines("weather")).unwrap();
    std::fs::write(wild.join("moods").join("calm.txt"), lines("calm")).unwrap();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    write_packs(dir.path());
    let found = discover_packs(dir.path());
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    let packs: Vec<PromptPack> = found.packs;
    let pack = packs.iter().find(|p| p.id == "Bench").expect("bench pack");
    let (wildcards, errors) = Wildcards::load(dir.path());
    assert!(errors.is_empty(), "{errors:?}");
    let styles = [
        StyleRef::new("styles", "Film"),
        StyleRef::new("styles", "Soft"),
    ];
    let resolved = resolve_styles(&packs, &styles).unwrap();
    let options = RenderOptions {
        styles: &resolved,
        wildcards: &wildcards,
        seed: 1234,
    };
    let all_keys: Vec<String> = pack.keys().into_iter().map(str::to_owned).collect();
    let one_key = vec![all_keys[0].clone()];

    for (name, keys) in [("1_key", &one_key), ("100_keys", &all_keys)] {
        let plan = render(PromptInput::Pack { pack, keys }, &options).expect("renders");
        println!("render/{name}: {}", plan.summary());
        let requests = plan.requests.len();
        let mut group = c.benchmark_group(format!("render/{name}"));
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2));
        group.bench_function(BenchmarkId::from_parameter("render"), |b| {
            b.iter(|| black_box(render(PromptInput::Pack { pack, keys }, &options).unwrap()))
        });
        group.bench_function(BenchmarkId::from_parameter("copy_styled_floor"), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(requests);
                for key in keys {
                    let p = pack.get(key).unwrap();
                    for _ in 0..requests / keys.len() {
                        out.push(apply_styles(&p.positive, &p.negative, &resolved));
                    }
                }
                black_box(out)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
