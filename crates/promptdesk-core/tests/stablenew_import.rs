//! Importing StableNew's job_history.jsonl: folding, its known defects, older schemas, and
//! idempotent import into the store. Fixtures: tests/fixtures/stablenew/history (written in
//! StableNew's shapes for these tests).

extern crate promptdesk_core as promptdesk;

use chrono::{DateTime, TimeZone, Utc};
use promptdesk::history::{
    ImportReport, NEVER_RAN_MESSAGE, ORPHANED_MESSAGE, import_stablenew, read_stablenew_history,
};
use promptdesk::{HistoryStore, JobRecord, JobStatus, PromptSource, RunMode};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stablenew/history")
        .join(name)
}

fn read(name: &str) -> (Vec<JobRecord>, ImportReport) {
    read_stablenew_history(&fixture(name)).expect("fixture is readable")
}

fn by_id<'a>(records: &'a [JobRecord], id: &str) -> &'a JobRecord {
    records
        .iter()
        .find(|r| r.job_id == id)
        .unwrap_or_else(|| panic!("no job {id} in {:?}", ids(records)))
}

fn ids(records: &[JobRecord]) -> Vec<&str> {
    records.iter().map(|r| r.job_id.as_str()).collect()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid date")
        + chrono::Duration::microseconds(micros as i64)
}

fn prompt_pairs(r: &JobRecord) -> Vec<(String, String)> {
    r.run_config.prompt_pairs()
}

const LIGHTHOUSE: &str = "5f0c2a9e-1d4b-4c11-9a61-0c8f3b7d2e10";
const TIDE_POOLS: &str = "8e3d1f70-6a2b-4f7e-b0c4-7d9a1e2f3b44";
const ORPHAN: &str = "c0ffee00-0000-4000-8000-000000000003";
const FAILED: &str = "f41led-job-0004";

#[test]
fn lines_fold_into_one_job_each_and_bad_lines_are_reported_by_number() {
    let (records, report) = read("job_history.jsonl");
    // 20 lines, one blank: 19 read.
    assert_eq!(report.lines, 19);
    let skipped_lines: Vec<usize> = report.skipped.iter().map(|(l, _)| *l).collect();
    assert_eq!(skipped_lines, vec![10, 15, 16, 17], "{:?}", report.skipped);
    assert!(
        report.skipped[0].1.contains("JSON"),
        "{:?}",
        report.skipped[0]
    );
    assert!(
        report.skipped[1].1.contains("paused"),
        "{:?}",
        report.skipped[1]
    );
    assert!(
        report.skipped[2].1.contains("object"),
        "{:?}",
        report.skipped[2]
    );
    assert!(
        report.skipped[3].1.contains("job_id"),
        "{:?}",
        report.skipped[3]
    );
    // lighthouse, tide pools, two new-jobs, orphan, failed, never ran
    assert_eq!(report.jobs, 7);
    assert_eq!(records.len(), 7);
    assert!(!ids(&records).contains(&"torn-1"));
    assert!(!ids(&records).contains(&"d-unknown-status"));
    // File order of first appearance is kept.
    assert_eq!(records[0].job_id, LIGHTHOUSE);
    assert_eq!(records[1].job_id, TIDE_POOLS);
}

#[test]
fn the_last_line_of_a_job_wins_for_status_times_and_duration() {
    let (records, _) = read("job_history.jsonl");
    let r = by_id(&records, LIGHTHOUSE);
    assert_eq!(r.status, JobStatus::Completed);
    assert_eq!(r.created_at, utc(2025, 12, 1, 9, 0, 0, 100));
    assert_eq!(r.started_at, Some(utc(2025, 12, 1, 9, 0, 1, 500_000)));
    assert_eq!(r.completed_at, Some(utc(2025, 12, 1, 9, 0, 21, 750_000)));
    assert_eq!(r.duration_ms, Some(20_250));
    assert_eq!(r.error_message, None);
    assert_eq!(r.run_mode, RunMode::Queue);
}

#[test]
fn a_missing_duration_is_computed_from_the_timestamps_and_z_times_parse() {
    let (records, _) = read("job_history.jsonl");
    let r = by_id(&records, FAILED);
    assert_eq!(r.status, JobStatus::Failed);
    assert_eq!(r.created_at, utc(2025, 12, 4, 7, 0, 0, 0));
    assert_eq!(r.duration_ms, Some(2_250));
    assert_eq!(
        r.error_message.as_deref(),
        Some("WebUI returned 500: out of memory")
    );
    assert_eq!(r.run_mode, RunMode::Direct);
}

#[test]
fn a_reused_id_with_another_created_at_is_another_job() {
    let (records, report) = read("job_history.jsonl");
    let first = by_id(&records, "new-job@2025-12-02T08:00:00.000001Z");
    let second = by_id(&records, "new-job@2025-12-02T08:30:00.000002Z");
    assert!(!ids(&records).contains(&"new-job"));
    assert_eq!(report.renamed, 2);
    // The first only ever got queued; the second ran to completion (its lines interleave
    // with others and a torn line).
    assert_eq!(first.status, JobStatus::Cancelled);
    assert_eq!(second.status, JobStatus::Completed);
    assert_eq!(second.duration_ms, Some(3_500));
    // The prompt and settings came from the queued line's snapshot; the status lines had none.
    assert_eq!(
        prompt_pairs(second),
        vec![("a paper boat on a puddle".to_owned(), String::new())]
    );
    assert_eq!(second.run_config.settings.seed, 777);
    assert_eq!(second.run_config.settings.sampler, "Euler");
    // A snapshot full of zeros and empty strings sets nothing: defaults stay.
    assert_eq!(first.run_config.settings.steps, 20);
    assert_eq!(first.run_config.settings.width, 512);
    assert_eq!(first.run_config.settings.seed, -1);
}

#[test]
fn a_job_left_running_by_a_crash_is_imported_as_failed() {
    let (records, report) = read("job_history.jsonl");
    let r = by_id(&records, ORPHAN);
    assert_eq!(r.status, JobStatus::Failed);
    assert_eq!(r.error_message.as_deref(), Some(ORPHANED_MESSAGE));
    assert!(ORPHANED_MESSAGE.contains("StableNew stopped"));
    assert_eq!(r.started_at, Some(utc(2025, 12, 3, 20, 0, 0, 900_000)));
    assert_eq!(r.completed_at, None);
    assert_eq!(r.duration_ms, None);
    assert_eq!(report.orphaned, 1);
}

#[test]
fn a_job_whose_history_ends_queued_is_imported_as_cancelled() {
    let (records, report) = read("job_history.jsonl");
    let r = by_id(&records, "e-never-ran");
    assert_eq!(r.status, JobStatus::Cancelled);
    assert_eq!(r.error_message.as_deref(), Some(NEVER_RAN_MESSAGE));
    assert_eq!(r.started_at, None);
    // e-never-ran and the first new-job
    assert_eq!(report.never_ran, 2);
}

#[test]
fn a_pack_origin_survives_later_lines_that_reset_it_to_manual() {
    let (records, _) = read("job_history.jsonl");
    let r = by_id(&records, TIDE_POOLS);
    assert_eq!(r.prompt_source, PromptSource::Pack);
    assert_eq!(r.prompt_pack_id.as_deref(), Some("coastal_scenes"));
    assert_eq!(r.prompt_keys, vec!["2".to_owned()]);
    // The RunConfig snapshot carries the same origin and the prompt under its key.
    assert_eq!(r.run_config.prompt_source, PromptSource::Pack);
    assert_eq!(
        r.run_config.prompt_pack_id.as_deref(),
        Some("coastal_scenes")
    );
    assert_eq!(r.run_config.prompt_keys, vec!["2".to_owned()]);
    assert_eq!(
        r.run_config.prompt_payload["pack_id"],
        serde_json::json!("coastal_scenes")
    );
    assert_eq!(
        r.run_config.prompt_payload["prompts"]["2"]["prompt"],
        serde_json::json!("tide pools at low tide, macro photo")
    );
    assert_eq!(
        prompt_pairs(r),
        vec![(
            "tide pools at low tide, macro photo".to_owned(),
            "blurry".to_owned()
        )]
    );
    let s = &r.run_config.settings;
    assert_eq!(
        (s.steps, s.cfg_scale, s.width, s.height),
        (24, 5.0, 1024, 1024)
    );
    assert_eq!(s.model, "coastXL_v2");
    // The snapshot's seed is real; a later "-1" (random) does not replace it.
    assert_eq!(s.seed, 1234);
    assert_eq!(r.config_hash, r.run_config.config_hash());
    assert_eq!(r.status, JobStatus::Completed);
    assert_eq!(r.duration_ms, Some(9_125));
}

#[test]
fn manual_jobs_take_prompts_and_settings_from_the_result_config_and_txt2img_payload() {
    let (records, _) = read("job_history.jsonl");
    let r = by_id(&records, LIGHTHOUSE);
    assert_eq!(r.prompt_source, PromptSource::Manual);
    assert_eq!(r.prompt_pack_id, None);
    assert!(r.prompt_keys.is_empty());
    assert_eq!(
        prompt_pairs(r),
        vec![(
            "a lighthouse on a cliff at dusk, oil painting".to_owned(),
            "lowres, watermark".to_owned()
        )]
    );
    let s = &r.run_config.settings;
    assert_eq!(s.model, "coastXL_v2.safetensors [a1b2c3d4e5]");
    assert_eq!(s.sampler, "DPM++ 2M");
    assert_eq!(s.scheduler, "Karras");
    assert_eq!((s.steps, s.cfg_scale), (28, 6.5));
    assert_eq!((s.width, s.height), (832, 1216));
    assert_eq!(s.clip_skip, 2);
    assert_eq!(s.seed, -1);
    // StableNew recorded no batch size or count: unknown, not the defaults, and the hash
    // says so (it can never equal a job's whose batch values were recorded).
    assert_eq!(
        r.run_config.unknown_settings(),
        ["batch_size", "batch_count"]
    );
    assert_eq!(r.config_hash, r.run_config.config_hash());
    assert_ne!(r.config_hash, s.hash());
}

#[test]
fn schema_2_0_pipeline_config_maps_prompts_settings_and_timing() {
    let (records, report) = read("compat_v2.0.jsonl");
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let [r] = records.as_slice() else {
        panic!("one job expected, got {:?}", ids(&records))
    };
    assert_eq!(r.job_id, "legacy20-0001");
    assert_eq!(r.status, JobStatus::Completed);
    assert_eq!(r.created_at, utc(2024, 5, 1, 6, 0, 0, 0));
    assert_eq!(r.started_at, Some(utc(2024, 5, 1, 6, 0, 0, 0)));
    assert_eq!(r.completed_at, Some(utc(2024, 5, 1, 6, 1, 10, 0)));
    assert_eq!(r.duration_ms, Some(70_000));
    assert_eq!(r.prompt_source, PromptSource::Manual);
    assert_eq!(
        prompt_pairs(r),
        vec![(
            "wildflower meadow, morning mist".to_owned(),
            "people, text".to_owned()
        )]
    );
    let s = &r.run_config.settings;
    assert_eq!(s.model, "meadowSD15.ckpt");
    assert_eq!(s.sampler, "DDIM");
    assert_eq!(
        (s.steps, s.cfg_scale, s.width, s.height),
        (35, 8.0, 768, 512)
    );
    assert_eq!((s.seed, s.batch_size, s.batch_count), (2024, 2, 3));
}

#[test]
fn schema_2_4_config_and_prompts_map_and_an_old_sampler_name_is_split() {
    let (records, _) = read("compat_v2.4.jsonl");
    let [r] = records.as_slice() else {
        panic!("one job expected, got {:?}", ids(&records))
    };
    assert_eq!(r.status, JobStatus::Failed);
    assert_eq!(r.error_message.as_deref(), Some("connection refused"));
    assert_eq!(r.duration_ms, Some(2_000));
    assert_eq!(
        prompt_pairs(r),
        vec![(
            "fishing harbor at golden hour".to_owned(),
            "oversaturated".to_owned()
        )]
    );
    let s = &r.run_config.settings;
    assert_eq!(s.model, "harborXL.safetensors");
    // "DPM++ SDE Karras" is A1111's old combined name for sampler + schedule.
    assert_eq!(s.sampler, "DPM++ SDE");
    assert_eq!(s.scheduler, "Karras");
    assert_eq!((s.steps, s.cfg_scale), (30, 5.5));
    assert_eq!((s.width, s.height, s.seed), (1152, 896, 31337));
}

#[test]
fn schema_2_6_normalized_snapshot_maps_prompts_settings_and_its_source_pack() {
    let (records, _) = read("compat_v2.6.jsonl");
    let [r] = records.as_slice() else {
        panic!("one job expected, got {:?}", ids(&records))
    };
    assert_eq!(r.job_id, "canon26-0003");
    assert_eq!(r.created_at, utc(2024, 7, 20, 22, 10, 0, 0));
    assert_eq!(r.duration_ms, Some(40_000));
    // source_pack "winter_landscapes.json", slot_index 2 (0-based) -> pack key "3".
    assert_eq!(r.prompt_source, PromptSource::Pack);
    assert_eq!(r.prompt_pack_id.as_deref(), Some("winter_landscapes"));
    assert_eq!(r.prompt_keys, vec!["3".to_owned()]);
    assert_eq!(
        prompt_pairs(r),
        vec![("aurora over a frozen lake".to_owned(), "noise".to_owned())]
    );
    let s = &r.run_config.settings;
    // The ADetailer model inside the config is not mistaken for the checkpoint.
    assert_eq!(s.model, "nordicXL.safetensors");
    assert_eq!(s.sampler, "Euler");
    assert_eq!((s.steps, s.cfg_scale), (26, 4.5));
    assert_eq!((s.width, s.height, s.seed), (1344, 768, 555));
}

#[test]
fn importing_into_a_store_adds_every_job_once_and_a_second_import_adds_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = dir.path().join("history.jsonl");
    let mut store = HistoryStore::open(&history).expect("open store");
    let path = fixture("job_history.jsonl");
    let first = import_stablenew(&mut store, &path).expect("first import");
    assert_eq!(first.imported, 7);
    assert_eq!(first.already_present, 0);
    assert_eq!(store.len(), 7);

    let (expected, _) = read("job_history.jsonl");
    assert_eq!(store.records(), expected.as_slice());

    let second = import_stablenew(&mut store, &path).expect("second import");
    assert_eq!(second.imported, 0);
    assert_eq!(second.already_present, 7);
    assert_eq!(store.len(), 7);

    // The same holds for another process that opens the file afresh.
    drop(store);
    let mut reopened = HistoryStore::open(&history).expect("reopen");
    assert_eq!(reopened.records(), expected.as_slice());
    let third = import_stablenew(&mut reopened, &path).expect("third import");
    assert_eq!(third.imported, 0);
    assert_eq!(reopened.len(), 7);
}

#[test]
fn a_store_job_with_the_same_id_but_another_creation_time_keeps_both() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = HistoryStore::open(dir.path().join("history.jsonl")).expect("open store");
    // A job of our own that happens to use StableNew's id.
    let cfg = promptdesk::build_run_config_for_manual_prompt("mine", "", None);
    let mine = promptdesk::job_record_from_run_config("legacy20-0001", &cfg);
    store.append(&mine).expect("append");

    let path = fixture("compat_v2.0.jsonl");
    let report = import_stablenew(&mut store, &path).expect("import");
    assert_eq!(report.imported, 1);
    assert_eq!(report.renamed, 1);
    assert_eq!(store.len(), 2);
    let stamped = "legacy20-0001@2024-05-01T06:00:00Z";
    let imported = store.get(stamped).expect("stored under a stamped id");
    assert_eq!(imported.first_prompt(), "wildflower meadow, morning mist");
    assert_eq!(store.get("legacy20-0001"), Some(&mine));

    let again = import_stablenew(&mut store, &path).expect("import again");
    assert_eq!(again.imported, 0);
    assert_eq!(again.already_present, 1);
    assert_eq!(store.len(), 2);
}

#[test]
fn a_file_with_bom_crlf_and_no_final_newline_imports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("job_history.jsonl");
    let text = "\u{feff}{\"job_id\":\"j1\",\"created_at\":\"2025-01-02 03:04:05\",\"status\":\"queued\"}\r\n\
                {\"job_id\":\"j1\",\"created_at\":\"2025-01-02 03:04:05\",\"status\":\"completed\",\"prompt_source\":\"manual\",\"prompt_keys\":null,\"snapshot\":{\"positive_prompt\":\"été à Paris, 東京の夜\",\"steps\":12}}";
    std::fs::write(&path, text).expect("write");
    let (records, report) = read_stablenew_history(&path).expect("readable");
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.lines, 2);
    let [r] = records.as_slice() else {
        panic!("one job expected, got {:?}", ids(&records))
    };
    assert_eq!(r.job_id, "j1");
    assert_eq!(r.created_at, utc(2025, 1, 2, 3, 4, 5, 0));
    assert_eq!(r.status, JobStatus::Completed);
    assert!(r.prompt_keys.is_empty());
    assert_eq!(r.first_prompt(), "été à Paris, 東京の夜");
    assert_eq!(r.run_config.settings.steps, 12);
}

#[test]
fn invalid_utf8_and_unparseable_created_at_are_skipped_with_reasons() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("job_history.jsonl");
    let mut bytes =
        b"{\"job_id\":\"ok\",\"created_at\":\"2025-01-01T00:00:00\",\"status\":\"completed\"}\n"
            .to_vec();
    bytes.extend_from_slice(b"{\"job_id\":\"bad\xff\",\"status\":\"completed\"}\n");
    bytes.extend_from_slice(
        b"{\"job_id\":\"when\",\"created_at\":\"yesterday\",\"status\":\"completed\"}\n",
    );
    bytes.extend_from_slice(b"{\"job_id\":\"nowhen\",\"status\":\"completed\"}\n");
    std::fs::write(&path, bytes).expect("write");
    let (records, report) = read_stablenew_history(&path).expect("readable");
    assert_eq!(ids(&records), vec!["ok"]);
    let lines: Vec<usize> = report.skipped.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![2, 3, 4]);
    assert!(
        report.skipped[0].1.contains("UTF-8"),
        "{:?}",
        report.skipped
    );
    assert!(
        report.skipped[1].1.contains("yesterday"),
        "{:?}",
        report.skipped
    );
    assert!(
        report.skipped[2].1.contains("created_at"),
        "{:?}",
        report.skipped
    );
}

#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no_such_history.jsonl");
    let err = read_stablenew_history(&missing).expect_err("missing file");
    assert!(
        err.to_string().contains("no_such_history.jsonl"),
        "message should name the file: {err}"
    );
    // A folder is not a history file either.
    let err = read_stablenew_history(dir.path()).expect_err("a folder");
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "message should name the folder: {err}"
    );
    let mut store = HistoryStore::open(dir.path().join("history.jsonl")).expect("open");
    assert!(import_stablenew(&mut store, &missing).is_err());
    assert!(store.is_empty());
}
