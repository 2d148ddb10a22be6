//! promptdesk history records (the bytes the app writes) and the packs they refer to.

use crate::rng::Rng;
use crate::text::*;
use chrono::{DateTime, Duration as ChronoDuration, TimeZone, Utc};
use promptdesk_core::{
    JobRecord, JobStatus, PackPrompt, PromptPack, RunConfig, RunMode, RunSource,
    build_run_config_for_manual_prompt, build_run_config_from_prompt_pack,
    job_record_from_run_config,
};
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Number of packs the history refers to, and keys per pack ("1".."12").
pub const HISTORY_PACKS: usize = 20;
pub const KEYS_PER_PACK: usize = 12;

pub(crate) const THEMES: &[&str] = &[
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

// promptdesk history records

pub(crate) fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 1, 3, 9, 0, 0)
        .single()
        .expect("a valid date")
}

/// A UUID v7 (what `HistoryStore::new_job_id` makes) for a job created at `t`.
pub(crate) fn job_id(rng: &mut Rng, t: DateTime<Utc>) -> String {
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    random[8..].copy_from_slice(&rng.next_u64().to_le_bytes()[..2]);
    let millis = u64::try_from(t.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
}

pub(crate) const ERRORS: &[&str] = &[
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
