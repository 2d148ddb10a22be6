//! StableNew `job_history.jsonl` lines (queued, running, completed/failed/cancelled), interleaved per batch as StableNew's queue writes them.

use crate::history::*;
use crate::rng::Rng;
use crate::text::*;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use promptdesk_core::{GenerationSettings, PromptPack};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub(crate) fn naive(t: DateTime<Utc>) -> String {
    // StableNew writes naive UTC ISO strings with microseconds.
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// A StableNew-style `result` object: the config it ran with and the txt2img payload sent to
/// the WebUI; `full` adds the other stage settings StableNew copies into every completed line.
pub(crate) fn stablenew_result(
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
pub(crate) fn stablenew_snapshot(
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
pub(crate) fn stablenew_job(seed: u64, packs: &[PromptPack], j: u64) -> Vec<String> {
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
    write_stablenew_until(path, seed, Stop::Lines(lines))
}

/// Writes a StableNew `job_history.jsonl` of exactly `jobs` jobs (about 2.9 lines each), the
/// same lines as [`write_stablenew`] up to there (the last batch may be cut short). Importing
/// it gives a promptdesk history of `jobs` records. Returns (lines, bytes).
pub fn write_stablenew_jobs(path: &Path, jobs: u64, seed: u64) -> io::Result<(u64, u64)> {
    write_stablenew_until(path, seed, Stop::Jobs(jobs))
}

#[derive(Clone, Copy)]
enum Stop {
    Lines(u64),
    Jobs(u64),
}

fn write_stablenew_until(path: &Path, seed: u64, stop: Stop) -> io::Result<(u64, u64)> {
    let packs = history_packs(seed);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let (mut written, mut bytes, mut jobs_written) = (0u64, 0u64, 0u64);
    let more = |written: u64, jobs: u64| match stop {
        Stop::Lines(n) => written < n,
        Stop::Jobs(n) => jobs < n,
    };
    let mut j = 0u64;
    while more(written, jobs_written) {
        // Generate in parallel, in blocks of jobs, then interleave per batch of 1-4 jobs.
        let block: Vec<Vec<String>> = (j..j + 4096)
            .into_par_iter()
            .map(|k| stablenew_job(seed, &packs, k))
            .collect();
        let mut rng = Rng::for_item(seed, 3, j);
        let mut idx = 0;
        while idx < block.len() && more(written, jobs_written) {
            let mut batch = (1 + rng.below(4)).min(block.len() - idx);
            if let Stop::Jobs(n) = stop {
                batch = batch.min((n - jobs_written) as usize);
            }
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
            jobs_written += batch as u64;
            idx += batch;
        }
        j += 4096;
    }
    out.flush()?;
    Ok((written, bytes))
}
