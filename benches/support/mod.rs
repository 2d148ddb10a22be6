//! Shared by the benchmarks and by `examples/gen_data.rs`: a deterministic generator of
//! realistic synthetic data (promptdesk histories, StableNew `job_history.jsonl` files and
//! packs folders), the on-disk cache of generated data under `target/bench-data`, and
//! CPU-time clocks.
//!
//! Everything is seeded: the same arguments give byte-identical files, whatever the number of
//! threads (each record draws from its own generator, seeded by the file seed and its index).
#![allow(dead_code)]

use chrono::{DateTime, Duration as ChronoDuration, SecondsFormat, TimeZone, Utc};
use promptdesk::{
    GenerationSettings, JobRecord, JobStatus, PackPrompt, PromptPack, RunConfig, RunMode,
    RunSource, build_run_config_for_manual_prompt, build_run_config_from_prompt_pack,
    job_record_from_run_config,
};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Bump when the generator's output changes, so stale cached files are not reused.
pub const DATA_VERSION: u32 = 2;

/// The default seed of every generated file.
pub const DEFAULT_SEED: u64 = 0x5EED_2026;

/// Number of packs the history refers to, and keys per pack ("1".."12").
pub const HISTORY_PACKS: usize = 20;
pub const KEYS_PER_PACK: usize = 12;

// ---------------------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------------------

/// SplitMix64: tiny, fast, good enough for test data, and stable across versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A generator for item `index` of a stream seeded with `seed`.
    pub fn for_item(seed: u64, stream: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        r.0 ^= index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// One of `words`.
    pub fn word(&mut self, words: &[&'static str]) -> &'static str {
        words[self.below(words.len())]
    }
}

// ---------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------

const SUBJECTS: &[&str] = &[
    "a lighthouse on a rocky cliff",
    "an old stone castle",
    "a red fox in fresh snow",
    "a busy night market",
    "a quiet harbour at dawn",
    "a mountain village",
    "a steam locomotive",
    "a portrait of an elderly fisherman",
    "a glass greenhouse full of ferns",
    "a dragon curled around a tower",
    "a desert caravan",
    "a cozy reading nook",
    "a futuristic city skyline",
    "a bowl of ramen",
    "a sailing ship in a storm",
    "a koi pond in autumn",
    "an astronaut tending a garden",
    "a cathedral interior",
    "a snowy pine forest",
    "a vintage motorcycle",
    "a tram crossing a bridge",
    "a lavender field",
    "a café terrace at night",
    "a windmill by a canal",
    "a paper lantern festival",
    "a waterfall in a jungle",
    "a clockmaker's workshop",
    "a herd of horses on a beach",
    "a treehouse village",
    "an owl on a mossy branch",
];

const DETAILS: &[&str] = &[
    "golden hour",
    "volumetric fog",
    "soft rim light",
    "dramatic clouds",
    "highly detailed",
    "sharp focus",
    "cinematic composition",
    "shallow depth of field",
    "wide angle",
    "35mm photo",
    "oil painting",
    "watercolor",
    "ink sketch",
    "studio lighting",
    "overcast sky",
    "reflections on wet pavement",
    "warm color palette",
    "muted tones",
    "intricate ornaments",
    "morning mist",
    "long exposure",
    "bokeh",
    "rule of thirds",
    "isometric view",
    "matte painting",
    "film grain",
    "backlit",
    "blue hour",
    "light rays through the trees",
    "symmetrical",
    "trending colors",
    "hand painted texture",
    "8k",
    "masterpiece",
    "best quality",
    "ultra wide shot",
    "macro shot",
    "snow falling",
    "rain drops",
    "lens flare",
    "über detailed stonework",
    "Fuji-san in the distance",
];

const NEGATIVES: &[&str] = &[
    "blurry",
    "lowres",
    "jpeg artifacts",
    "watermark",
    "text",
    "signature",
    "bad anatomy",
    "extra fingers",
    "deformed",
    "oversaturated",
    "cropped",
    "worst quality",
    "out of frame",
    "duplicate",
    "noise",
    "grainy",
];

const LORAS: &[&str] = &[
    "detail_tweaker",
    "film_look",
    "soft_light",
    "watercolor_style",
    "neon_glow",
];
const EMBEDDINGS: &[&str] = &["warm_tones", "bad_quality", "fine_detail", "clean_hands"];
const MATRIX: &[&str] = &["season", "time of day", "art-style"];
const WILDCARDS: &[&str] = &["weather", "color", "animal"];

/// A positive prompt of about `len` characters (at least one subject), with the odd LoRA,
/// embedding, matrix token or wildcard.
pub fn positive_prompt(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 64);
    if rng.chance(10) {
        s.push_str(&format!("(<embedding:{}>:0.8) ", rng.word(EMBEDDINGS)));
    }
    s.push_str(rng.word(SUBJECTS));
    while s.len() < len {
        s.push_str(", ");
        match rng.below(40) {
            0 => s.push_str(&format!("[[{}]]", rng.word(MATRIX))),
            1 => s.push_str(&format!("__{}__", rng.word(WILDCARDS))),
            2 => s.push_str(rng.word(SUBJECTS)),
            _ => s.push_str(rng.word(DETAILS)),
        }
    }
    if rng.chance(25) {
        s.push_str(&format!(
            " <lora:{}:{:.2}>",
            rng.word(LORAS),
            0.3 + rng.below(8) as f64 * 0.1
        ));
    }
    s
}

/// Positive prompt lengths: 50–600 characters, and about 3 in 100 near 2 KB.
pub fn prompt_len(rng: &mut Rng) -> usize {
    if rng.chance(3) {
        rng.range(1800, 2300) as usize
    } else {
        rng.range(50, 600) as usize
    }
}

/// A negative prompt of 0–250 characters.
pub fn negative_prompt(rng: &mut Rng) -> String {
    let len = match rng.below(10) {
        0..=2 => 0,
        3..=7 => rng.range(10, 80) as usize,
        _ => rng.range(80, 250) as usize,
    };
    let mut s = String::new();
    while s.len() < len {
        if !s.is_empty() {
            s.push_str(", ");
        }
        s.push_str(rng.word(NEGATIVES));
    }
    if rng.chance(8) {
        s.push_str(&format!(" <embedding:{}>", rng.word(EMBEDDINGS)));
    }
    s
}

// ---------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------

const MODELS: &[&str] = &[
    "sd_xl_base_1.0.safetensors",
    "juggernautXL_v9.safetensors",
    "dreamshaper_8.safetensors",
    "realisticVision_v60.safetensors",
    "v1-5-pruned-emaonly.safetensors",
    "protovisionXL_v6.safetensors",
    "animagineXL_v31.safetensors",
    "ponyDiffusionV6XL.safetensors",
    "epicrealism_naturalSin.safetensors",
    "sdxl_lightning_4step.safetensors",
    "flux1-dev-fp8.safetensors",
    "",
];
const SAMPLERS: &[&str] = &[
    "Euler a",
    "Euler",
    "DPM++ 2M",
    "DPM++ SDE",
    "DPM++ 2M SDE",
    "DDIM",
    "UniPC",
    "Heun",
    "LMS",
];
const SCHEDULERS: &[&str] = &[
    "Automatic",
    "Karras",
    "Exponential",
    "Normal",
    "SGM Uniform",
];
const SIZES: &[u32] = &[512, 640, 768, 832, 896, 1024, 1152, 1216];

pub fn settings(rng: &mut Rng) -> GenerationSettings {
    GenerationSettings {
        model: rng.word(MODELS).to_string(),
        sampler: rng.word(SAMPLERS).to_string(),
        scheduler: rng.word(SCHEDULERS).to_string(),
        steps: rng.range(8, 60) as u32,
        cfg_scale: 1.5 + rng.below(22) as f64 * 0.5,
        width: *rng.pick(SIZES),
        height: *rng.pick(SIZES),
        seed: if rng.chance(30) {
            -1
        } else {
            (rng.next_u64() >> 32) as i64
        },
        batch_size: rng.range(1, 4) as u32,
        batch_count: rng.range(1, 4) as u32,
        clip_skip: rng.range(1, 2) as u32,
    }
}

// ---------------------------------------------------------------------------------------
// The packs a history refers to
// ---------------------------------------------------------------------------------------

const THEMES: &[&str] = &[
    "SDXL_castles_Fantasy",
    "harbour_scenes",
    "Portrait Studio",
    "night_city",
    "mythical_beasts",
    "cozy_interiors",
    "space_gardens",
    "winter_landscapes",
    "food_photography",
    "vintage_vehicles",
    "botanical_plates",
    "desert_journeys",
    "lighthouses",
    "festival_lights",
    "waterfalls",
    "workshops",
    "animal_friends",
    "cathedrals",
    "koi_and_ponds",
    "skylines_2077",
    "canal_towns",
    "treehouses",
    "storm_at_sea",
    "lavender_fields",
];

/// Pack id `p` of a packs folder (`theme` plus a number past the first round).
pub fn pack_id(p: usize) -> String {
    let theme = THEMES[p % THEMES.len()];
    if p < THEMES.len() {
        theme.to_owned()
    } else {
        format!("{theme}_{p:05}")
    }
}

/// The [`HISTORY_PACKS`] packs (keys "1".."12") a generated history draws pack runs from.
pub fn history_packs(seed: u64) -> Vec<PromptPack> {
    (0..HISTORY_PACKS)
        .map(|p| {
            let mut rng = Rng::for_item(seed, 7, p as u64);
            let prompts = (1..=KEYS_PER_PACK)
                .map(|k| {
                    let len = prompt_len(&mut rng);
                    let positive = positive_prompt(&mut rng, len);
                    let negative = negative_prompt(&mut rng);
                    PackPrompt::from_texts(k.to_string(), positive, negative, None)
                        .expect("generated prompts are valid pack syntax")
                })
                .collect();
            let id = pack_id(p);
            PromptPack {
                name: id.replace('_', " "),
                id,
                prompts,
                ..PromptPack::default()
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// promptdesk history records
// ---------------------------------------------------------------------------------------

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 1, 3, 9, 0, 0)
        .single()
        .expect("a valid date")
}

/// A UUID v7 (what `HistoryStore::new_job_id` makes) for a job created at `t`.
fn job_id(rng: &mut Rng, t: DateTime<Utc>) -> String {
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    random[8..].copy_from_slice(&rng.next_u64().to_le_bytes()[..2]);
    let millis = u64::try_from(t.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
}

const ERRORS: &[&str] = &[
    "CUDA out of memory. Tried to allocate 2.50 GiB",
    "the WebUI at http://127.0.0.1:7860 did not answer (connection refused)",
    "model file not found: the checkpoint was moved or renamed",
    "the WebUI returned HTTP 500: NaNs were produced in the VAE",
    "timed out after 300 s",
];

/// Record `i` of a history generated with `seed`: 60 % pack runs (1–3 keys of one of the
/// [`HISTORY_PACKS`] packs), 40 % manual prompts; varied settings, statuses and times. Built
/// with the library's own builders, so the bytes are those the app writes.
pub fn history_record(seed: u64, packs: &[PromptPack], i: u64) -> JobRecord {
    let mut rng = Rng::for_item(seed, 1, i);
    let mut base = RunConfig {
        run_mode: if rng.chance(70) {
            RunMode::Direct
        } else {
            RunMode::Queue
        },
        source: match rng.below(100) {
            0..=84 => RunSource::Gui,
            85..=96 => RunSource::Cli,
            _ => RunSource::Api,
        },
        settings: settings(&mut rng),
        ..RunConfig::default()
    };
    let cfg = if rng.chance(60) {
        let pack = rng.pick(packs);
        let count = match rng.below(100) {
            0..=59 => 1,
            60..=84 => 2,
            _ => 3,
        };
        let mut keys: Vec<usize> = Vec::with_capacity(count);
        while keys.len() < count {
            let k = 1 + rng.below(KEYS_PER_PACK);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        keys.sort_unstable(); // the app submits in the pack's key order
        let keys: Vec<String> = keys.iter().map(usize::to_string).collect();
        if rng.chance(50) {
            base.settings.model = MODELS[(i as usize / 997) % (MODELS.len() - 1)].to_owned();
        }
        build_run_config_from_prompt_pack(pack, &keys, Some(base))
            .expect("generated keys exist in the pack")
    } else {
        let len = prompt_len(&mut rng);
        let positive = positive_prompt(&mut rng, len);
        let negative = negative_prompt(&mut rng);
        build_run_config_for_manual_prompt(&positive, &negative, Some(base))
    };
    // About two minutes apart, nanosecond timestamps as `Utc::now()` gives them.
    let created = base_time()
        + ChronoDuration::seconds(i as i64 * 120 + rng.range(0, 90) as i64)
        + ChronoDuration::nanoseconds(rng.range(0, 999_999_999) as i64);
    let id = job_id(&mut rng, created);
    let mut record = job_record_from_run_config(&id, &cfg);
    record.created_at = created;
    let status = match rng.below(100) {
        0..=84 => JobStatus::Completed,
        85..=90 => JobStatus::Failed,
        91..=95 => JobStatus::Cancelled,
        96..=97 => JobStatus::Queued,
        _ => JobStatus::Running,
    };
    record.status = status;
    let started = created + ChronoDuration::milliseconds(rng.range(5, 30_000) as i64);
    let run_ms = rng.range(800, 180_000) as i64;
    match status {
        JobStatus::Queued => {}
        JobStatus::Running => record.started_at = Some(started),
        JobStatus::Completed | JobStatus::Failed => {
            let done = started + ChronoDuration::milliseconds(run_ms);
            record.started_at = Some(started);
            record.completed_at = Some(done);
            record.duration_ms = Some(run_ms as u64);
            if status == JobStatus::Failed {
                record.error_message = Some(rng.word(ERRORS).to_string());
            }
        }
        JobStatus::Cancelled => record.completed_at = Some(started),
        JobStatus::Unknown => {}
    }
    record
}

/// Writes `n` records (one line each, as after `compact`) to `path`, generated in parallel and
/// written in order. Returns the file size.
pub fn write_history(path: &Path, n: u64, seed: u64) -> io::Result<u64> {
    let packs = history_packs(seed);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut bytes = 0u64;
    const BATCH: u64 = 20_000;
    let mut start = 0;
    while start < n {
        let end = (start + BATCH).min(n);
        let lines: Vec<Vec<u8>> = (start..end)
            .into_par_iter()
            .map(|i| {
                let mut line = history_record(seed, &packs, i).to_json_line().into_bytes();
                line.push(b'\n');
                line
            })
            .collect();
        for line in lines {
            out.write_all(&line)?;
            bytes += line.len() as u64;
        }
        start = end;
    }
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(bytes)
}

// ---------------------------------------------------------------------------------------
// StableNew job_history.jsonl
// ---------------------------------------------------------------------------------------

fn naive(t: DateTime<Utc>) -> String {
    // StableNew writes naive UTC ISO strings with microseconds.
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// A StableNew-style `result` object: the config it ran with and the txt2img payload sent to
/// the WebUI; `full` adds the other stage settings StableNew copies into every completed line.
fn stablenew_result(
    rng: &mut Rng,
    s: &GenerationSettings,
    prompt: &str,
    negative: &str,
    full: bool,
) -> Value {
    // The payload sent to the WebUI; StableNew's copy leaves the prompt out.
    let mut txt2img = json!({
        "negative_prompt": negative,
        "steps": s.steps,
        "sampler_name": s.sampler,
        "scheduler": s.scheduler,
        "cfg_scale": s.cfg_scale,
        "width": s.width,
        "height": s.height,
        "seed": s.seed,
        "clip_skip": s.clip_skip,
        "model": s.model,
        "n_iter": s.batch_count,
        "batch_size": s.batch_size,
    });
    if full && let Value::Object(map) = &mut txt2img {
        for (k, v) in [
            ("seed_resize_from_h", json!(-1)),
            ("seed_resize_from_w", json!(-1)),
            ("enable_hr", json!(false)),
            ("hr_scale", json!(2.0)),
            ("hr_upscaler", json!("Latent")),
            ("hr_sampler_name", json!("")),
            ("hr_second_pass_steps", json!(0)),
            ("denoising_strength", json!(0.7)),
            ("vae", json!("")),
            ("hypernetwork", json!("None")),
            ("hypernetwork_strength", json!(1.0)),
            ("styles", json!([])),
            ("refiner_checkpoint", json!("")),
            ("refiner_switch_at", json!(0.8)),
            ("refiner_enabled", json!(false)),
            ("enabled", json!(true)),
        ] {
            map.insert(k.to_owned(), v);
        }
    }
    let mut variant = json!({ "txt2img": txt2img });
    if full && let Value::Object(map) = &mut variant {
        map.insert(
            "img2img".to_owned(),
            json!({"steps": 15, "sampler_name": s.sampler, "scheduler": "Normal",
                   "cfg_scale": 7.0, "denoising_strength": 0.3, "seed": -1,
                   "clip_skip": s.clip_skip, "model": s.model, "vae": "",
                   "prompt_adjust": "", "negative_adjust": "", "enabled": rng.chance(30)}),
        );
        map.insert(
            "upscale".to_owned(),
            json!({"upscaler": "R-ESRGAN 4x+", "upscaling_resize": 2.0,
                   "upscale_mode": "single", "denoising_strength": 0.35, "steps": 20,
                   "sampler_name": "Euler a", "scheduler": "Normal",
                   "gfpgan_visibility": 0.0, "codeformer_visibility": 0.0,
                   "codeformer_weight": 0.5, "enabled": rng.chance(40)}),
        );
        map.insert(
            "adetailer".to_owned(),
            json!({"enabled": false, "adetailer_model": "face_yolov8n.pt",
                   "adetailer_confidence": 0.3, "adetailer_mask_feather": 4,
                   "adetailer_sampler": "DPM++ 2M", "adetailer_steps": 28,
                   "adetailer_denoise": 0.4, "adetailer_cfg": 7.0,
                   "adetailer_prompt": "", "adetailer_negative_prompt": ""}),
        );
        map.insert(
            "randomization".to_owned(),
            json!({"enabled": false, "seed": null,
                   "prompt_sr": {"enabled": false, "mode": "random", "rules": [], "raw_text": ""},
                   "wildcards": {"enabled": false, "mode": "random", "tokens": [], "raw_text": ""},
                   "matrix": {"enabled": false, "mode": "fanout", "limit": 8, "slots": [],
                              "raw_text": ""}}),
        );
        map.insert(
            "pipeline".to_owned(),
            json!({"img2img_enabled": false, "upscale_enabled": true,
                   "adetailer_enabled": false, "allow_hr_with_stages": false,
                   "refiner_compare_mode": false, "apply_global_negative_txt2img": true}),
        );
        map.insert("max_variants".to_owned(), json!(1));
        map.insert("lora_strengths".to_owned(), json!([]));
        map.insert("metadata".to_owned(), json!({}));
    }
    let mut result = json!({
        "config": {
            "prompt": prompt,
            "model": s.model,
            "sampler": s.sampler,
            "width": s.width,
            "height": s.height,
            "steps": s.steps,
            "cfg_scale": s.cfg_scale,
            "negative_prompt": negative,
            "pack_name": null,
            "preset_name": null,
            "metadata": {"negative_prompt": negative, "model_name": s.model,
                         "output": {"batch_size": s.batch_size}},
            "refiner_enabled": false,
            "hires_fix": {}
        },
        "result": {
            "run_id": format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()),
            "success": true,
            "error": null,
            "variants": [variant],
            "learning_records": [],
            "metadata": {"_pack_output_dir": "output", "stage_outputs": []}
        }
    });
    if full && let Some(Value::Object(inner)) = result.get_mut("result") {
        inner.insert(
            "stage_plan".to_owned(),
            json!({"stages": [{"stage_type": "txt2img", "config": {"enabled": true}}],
                   "run_id": null, "one_click_action": null}),
        );
    }
    result
}

/// A StableNew snapshot (the normalized job it queued) naming the pack row it came from.
fn stablenew_snapshot(
    pack: &str,
    row: usize,
    prompt: &str,
    negative: &str,
    s: &GenerationSettings,
) -> Value {
    let mut v = json!({
        "job_id": "new-job",
        "config": {},
        "path_output_dir": "output",
        "filename_template": "{seed}",
        "seed": s.seed,
        "variant_index": 0,
        "variant_total": 1,
        "batch_index": 0,
        "batch_total": s.batch_count,
        "pack_usage": [],
        "prompt_pack_id": pack,
        "prompt_pack_name": pack,
        "prompt_pack_row_index": row,
        "prompt_pack_version": null,
        "positive_prompt": prompt,
        "negative_prompt": negative,
        "positive_embeddings": [],
        "negative_embeddings": [],
        "lora_tags": [],
        "matrix_slot_values": {},
    });
    let rest = json!({
        "steps": s.steps,
        "cfg_scale": s.cfg_scale,
        "width": s.width,
        "height": s.height,
        "sampler_name": s.sampler,
        "scheduler": s.scheduler,
        "clip_skip": s.clip_skip,
        "base_model": s.model,
        "vae": null,
        "stage_chain": [],
        "loop_type": "pipeline",
        "loop_count": 1,
        "images_per_prompt": 1,
        "variant_mode": "standard",
        "run_mode": "QUEUE",
        "queue_source": "ADD_TO_QUEUE",
        "randomization_enabled": false,
        "config_variant_label": "base",
        "extra_metadata": {},
        "output_paths": [],
        "status": "queued",
        "error_message": null
    });
    if let (Value::Object(map), Value::Object(rest)) = (&mut v, rest) {
        map.extend(rest);
    }
    v
}

/// The status lines of StableNew job `j`: queued, then (usually) running, then completed,
/// failed or nothing (left running by a crash, or never ran). Pack jobs carry their origin (and,
/// half of them, a snapshot) on the queued line only; later lines reset it to manual
/// (StableNew's defect).
/// Some jobs reuse the id `new-job` (another defect).
fn stablenew_job(seed: u64, packs: &[PromptPack], j: u64) -> Vec<String> {
    let mut rng = Rng::for_item(seed, 2, j);
    let s = settings(&mut rng);
    let created = base_time()
        + ChronoDuration::seconds(j as i64 * 300 + rng.range(0, 200) as i64)
        + ChronoDuration::microseconds(rng.range(0, 999_999) as i64);
    let id = if rng.chance(2) {
        "new-job".to_owned()
    } else {
        job_id(&mut rng, created)
    };
    let from_pack = rng.chance(55);
    let (prompt, negative, origin) = if from_pack {
        let pack = rng.pick(packs);
        let row = rng.below(pack.prompts.len());
        let p = &pack.prompts[row];
        (
            p.positive.clone(),
            p.negative.clone(),
            Some((pack.id.clone(), row)),
        )
    } else {
        let len = prompt_len(&mut rng);
        (
            positive_prompt(&mut rng, len),
            negative_prompt(&mut rng),
            None,
        )
    };
    let started = created + ChronoDuration::milliseconds(rng.range(1, 5_000) as i64);
    let run_ms = rng.range(1_000, 120_000) as i64;
    let done = started + ChronoDuration::milliseconds(run_ms);
    let mode = if rng.chance(80) { "queue" } else { "direct" };
    // Newer StableNew versions add a snapshot of the queued job; older ones do not.
    let with_snapshot = rng.chance(50);
    let ending = match rng.below(100) {
        0..=85 => "completed",
        86..=93 => "failed",
        94..=96 => "running", // StableNew stopped mid-job
        _ => "queued",        // never ran
    };

    let line = |status: &str,
                started: Option<DateTime<Utc>>,
                completed: Option<DateTime<Utc>>,
                first: bool,
                rng: &mut Rng| {
        let mut v = json!({
            "job_id": id,
            "created_at": naive(created),
            "status": status,
            "payload_summary": "callable payload",
            "started_at": started.map(naive),
            "completed_at": completed.map(naive),
            "error_message": null,
            "worker_id": "local",
            "run_mode": mode,
            "result": null,
            "prompt_source": "manual",
            "prompt_pack_id": null,
            "prompt_keys": null,
            "snapshot": null,
        });
        let Value::Object(map) = &mut v else {
            unreachable!("json! object")
        };
        if first && let Some((pack, row)) = &origin {
            map.insert("prompt_source".into(), json!("pack"));
            map.insert("prompt_pack_id".into(), json!(pack));
            map.insert("prompt_keys".into(), json!([(row + 1).to_string()]));
            if with_snapshot {
                map.insert(
                    "snapshot".into(),
                    stablenew_snapshot(pack, *row, &prompt, &negative, &s),
                );
            }
        }
        match status {
            "completed" => {
                map.insert("duration_ms".into(), json!(run_ms));
                // About one completed line in ten carries every stage's settings (~5 KB).
                let full = rng.chance(10);
                map.insert(
                    "result".into(),
                    stablenew_result(rng, &s, &prompt, &negative, full),
                );
            }
            "failed" => {
                map.insert("duration_ms".into(), json!(run_ms));
                map.insert("error_message".into(), json!(rng.word(ERRORS)));
            }
            _ => {}
        }
        v.to_string()
    };

    let mut lines = vec![line("queued", None, None, true, &mut rng)];
    match ending {
        "queued" => {}
        "running" => lines.push(line("running", Some(started), None, false, &mut rng)),
        end => {
            lines.push(line("running", Some(started), None, false, &mut rng));
            lines.push(line(end, Some(started), Some(done), false, &mut rng));
        }
    }
    lines
}

/// Writes a StableNew `job_history.jsonl` of about `lines` lines (100,000 lines come to about
/// 95 MB, near the 92 MB of the example) (stopping after the job that
/// reaches the count). Jobs run in small batches: a batch's queued lines come first, then each
/// job's later lines, as StableNew's queue writes them. Returns (lines, bytes).
pub fn write_stablenew(path: &Path, lines: u64, seed: u64) -> io::Result<(u64, u64)> {
    let packs = history_packs(seed);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let (mut written, mut bytes) = (0u64, 0u64);
    let mut j = 0u64;
    while written < lines {
        // Generate in parallel, in blocks of jobs, then interleave per batch of 1-4 jobs.
        let block: Vec<Vec<String>> = (j..j + 4096)
            .into_par_iter()
            .map(|k| stablenew_job(seed, &packs, k))
            .collect();
        let mut rng = Rng::for_item(seed, 3, j);
        let mut idx = 0;
        while idx < block.len() && written < lines {
            let batch = (1 + rng.below(4)).min(block.len() - idx);
            let jobs = &block[idx..idx + batch];
            for job in jobs {
                out.write_all(job[0].as_bytes())?;
                out.write_all(b"\n")?;
                bytes += job[0].len() as u64 + 1;
                written += 1;
            }
            for job in jobs {
                for l in &job[1..] {
                    out.write_all(l.as_bytes())?;
                    out.write_all(b"\n")?;
                    bytes += l.len() as u64 + 1;
                    written += 1;
                }
            }
            idx += batch;
        }
        j += 4096;
    }
    out.flush()?;
    Ok((written, bytes))
}

// ---------------------------------------------------------------------------------------
// Packs folder
// ---------------------------------------------------------------------------------------

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

fn write_pack(dir: &Path, p: usize, seed: u64) -> io::Result<usize> {
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

const SUBJECT_KEYS: &[&str] = &[
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

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("a JSON value serialises")
}

// ---------------------------------------------------------------------------------------
// Cache of generated data
// ---------------------------------------------------------------------------------------

/// `target/bench-data/v<DATA_VERSION>` (git-ignored).
pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench-data")
        .join(format!("v{DATA_VERSION}"))
}

/// Builds `final_path` with `make(tmp_path)` unless it already exists; the result appears
/// atomically (a rename), so an interrupted run never leaves a half-written file in the cache.
fn cached(final_path: PathBuf, make: impl FnOnce(&Path) -> io::Result<()>) -> PathBuf {
    if final_path.exists() {
        return final_path;
    }
    let parent = final_path.parent().expect("cache paths have a parent");
    fs::create_dir_all(parent).expect("create the bench-data folder");
    let tmp = parent.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        final_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let _ = fs::remove_dir_all(&tmp);
    let _ = fs::remove_file(&tmp);
    let started = std::time::Instant::now();
    eprintln!("generating {} ...", final_path.display());
    make(&tmp).expect("generate bench data");
    fs::rename(&tmp, &final_path).expect("move generated data into the cache");
    eprintln!("  done in {:.1} s", started.elapsed().as_secs_f64());
    final_path
}

/// A promptdesk history of `n` records (default seed), generated once.
pub fn cached_history(n: u64) -> PathBuf {
    cached(cache_dir().join(format!("history-{n}.jsonl")), |tmp| {
        write_history(tmp, n, DEFAULT_SEED).map(|_| ())
    })
}

/// A StableNew `job_history.jsonl` of `lines` lines (default seed), generated once.
pub fn cached_stablenew(lines: u64) -> PathBuf {
    cached(
        cache_dir().join(format!("stablenew-{lines}.jsonl")),
        |tmp| write_stablenew(tmp, lines, DEFAULT_SEED).map(|_| ()),
    )
}

/// A packs folder of `m` packs (default seed), generated once.
pub fn cached_packs(m: usize) -> PathBuf {
    cached(cache_dir().join(format!("packs-{m}")), |tmp| {
        write_packs(tmp, m, DEFAULT_SEED).map(|_| ())
    })
}

/// Total size of the regular files in `dir` (not recursive).
pub fn folder_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Lines in a file (counting '\n').
pub fn count_lines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

// ---------------------------------------------------------------------------------------
// CPU time
// ---------------------------------------------------------------------------------------

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

unsafe extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

fn cpu_clock(clock: i32) -> std::time::Duration {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec (two 64-bit fields on 64-bit Linux) into a
    // valid, exclusively borrowed struct; it has no other side effects.
    let rc = unsafe { clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time used by the whole process so far (all threads).
pub fn process_cpu() -> std::time::Duration {
    cpu_clock(CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time used by the calling thread so far.
pub fn thread_cpu() -> std::time::Duration {
    cpu_clock(CLOCK_THREAD_CPUTIME_ID)
}

/// Peak resident set size (VmHWM) of this process, in bytes.
pub fn peak_rss() -> u64 {
    status_kb("VmHWM:") * 1024
}

/// Current resident set size (VmRSS) of this process, in bytes.
pub fn current_rss() -> u64 {
    status_kb("VmRSS:") * 1024
}

fn status_kb(field: &str) -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// An RFC 3339 timestamp for reports.
pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}
