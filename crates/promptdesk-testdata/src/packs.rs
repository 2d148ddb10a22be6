//! Packs folders in every format the app reads.

use crate::history::*;
use crate::rng::Rng;
use crate::text::*;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::fs;
use std::io;
use std::path::Path;

/// Writes `m` packs into `dir`, cycling through every format: StableNew .txt, unified .json
/// (v2.6), keyed .json, .tsv, A1111 styles .csv, and a .txt with a settings-only v1 .json
/// companion. Returns the number of files written.
pub fn write_packs(dir: &Path, m: usize, seed: u64) -> io::Result<usize> {
    fs::create_dir_all(dir)?;
    let results: Vec<io::Result<usize>> = (0..m)
        .into_par_iter()
        .map(|p| write_pack(dir, p, seed))
        .collect();
    results.into_iter().sum()
}

pub(crate) fn write_pack(dir: &Path, p: usize, seed: u64) -> io::Result<usize> {
    let mut rng = Rng::for_item(seed, 4, p as u64);
    let id = pack_id(p);
    let count = rng.range(4, 30) as usize;
    let prompts: Vec<(String, String)> = (0..count)
        .map(|_| {
            let len = prompt_len(&mut rng);
            (positive_prompt(&mut rng, len), negative_prompt(&mut rng))
        })
        .collect();
    let s = settings(&mut rng);
    let txt2img = json!({
        "model": s.model, "sampler_name": s.sampler, "scheduler": s.scheduler,
        "steps": s.steps, "cfg_scale": s.cfg_scale, "width": s.width, "height": s.height,
        "clip_skip": s.clip_skip, "seed": s.seed
    });
    let write = |name: String, text: String| fs::write(dir.join(name), text);
    match p % 6 {
        0 | 5 => {
            let mut text = format!("# {id}: generated pack, StableNew .txt blocks\n\n");
            for (pos, neg) in &prompts {
                // Long prompts wrap over several lines, as people write them.
                for chunk in pos.split(", ").collect::<Vec<_>>().chunks(6) {
                    text.push_str(&chunk.join(", "));
                    text.push('\n');
                }
                if !neg.is_empty() {
                    text.push_str("neg: ");
                    text.push_str(neg);
                    text.push('\n');
                }
                text.push('\n');
            }
            write(format!("{id}.txt"), text)?;
            if p % 6 == 5 {
                // v1 companion: stage settings only.
                let companion = json!({"txt2img": txt2img, "img2img": {"steps": 10,
                    "denoising_strength": 0.3}, "api": {"base_url": "http://127.0.0.1:7860"}});
                write(format!("{id}.json"), pretty(&companion))?;
                return Ok(2);
            }
        }
        1 => {
            let slots: Vec<Value> = prompts
                .iter()
                .enumerate()
                .map(|(i, (pos, neg))| {
                    json!({"index": i, "text": pos, "negative": neg,
                           "positive_embeddings": [], "negative_embeddings": [],
                           "loras": if i % 3 == 0 { json!([["detail_tweaker", 0.6]]) } else { json!([]) }})
                })
                .collect();
            let pack = json!({
                "pack_data": {"name": id.replace('_', " "), "show_preview": true, "slots": slots,
                    "matrix": {"enabled": true, "mode": "fanout", "limit": 8, "slots": [
                        {"name": "season", "values": ["spring", "summer", "autumn", "winter"]},
                        {"name": "time of day", "values": ["dawn", "noon", "dusk"]}]}},
                "preset_data": {"txt2img": txt2img, "img2img": {"steps": 9}}
            });
            write(format!("{id}.json"), pretty(&pack))?;
        }
        2 => {
            let mut map = serde_json::Map::new();
            for (i, (pos, neg)) in prompts.iter().enumerate() {
                let key = format!("{}_{i}", SUBJECT_KEYS[i % SUBJECT_KEYS.len()]);
                let v = if neg.is_empty() {
                    json!(pos)
                } else {
                    json!({"prompt": pos, "negative_prompt": neg})
                };
                map.insert(key, v);
            }
            let pack = json!({"name": id.replace('_', " "), "preset_data": {"txt2img": txt2img},
                              "prompts": map});
            write(format!("{id}.json"), pretty(&pack))?;
        }
        3 => {
            let mut text = String::from("# positive<TAB>negative\n");
            for (pos, neg) in &prompts {
                text.push_str(pos);
                if !neg.is_empty() {
                    text.push('\t');
                    text.push_str(neg);
                }
                text.push('\n');
            }
            write(format!("{id}.tsv"), text)?;
        }
        _ => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["name", "prompt", "negative_prompt"])
                .map_err(io::Error::other)?;
            for (i, (pos, neg)) in prompts.iter().enumerate() {
                let name = format!("Style {i:02} {}", SUBJECT_KEYS[i % SUBJECT_KEYS.len()]);
                let text = if i % 2 == 0 {
                    format!("{{prompt}}, {pos}")
                } else {
                    pos.clone()
                };
                w.write_record([name.as_str(), text.as_str(), neg.as_str()])
                    .map_err(io::Error::other)?;
            }
            let bytes = w
                .into_inner()
                .map_err(|e| io::Error::other(e.to_string()))?;
            fs::write(dir.join(format!("{id}.csv")), bytes)?;
        }
    }
    Ok(1)
}

pub(crate) const SUBJECT_KEYS: &[&str] = &[
    "lighthouse",
    "castle",
    "fox",
    "market",
    "harbour",
    "village",
    "train",
    "portrait",
    "greenhouse",
    "dragon",
];

pub(crate) fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("a JSON value serialises")
}
