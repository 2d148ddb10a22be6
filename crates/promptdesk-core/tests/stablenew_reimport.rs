//! Importing StableNew histories again and what StableNew did not record (issue 11): a job
//! imported while queued becomes completed when a later file shows it completed (the last
//! line wins across imports) and a finished job never goes back; settings StableNew did not
//! record are unknown, never defaults that could share a hash with real jobs; the
//! `payload_summary` stands in for a prompt that was not recorded; a learning job keeps its
//! pack id on every line.

extern crate promptdesk_core as promptdesk;

use promptdesk::history::{
    ExportFormat, export_records, import_stablenew, read_stablenew_history, seed_used,
};
use promptdesk::{GenerationSettings, HistoryStore, JobStatus, PromptSource};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reimport")
        .join(name)
}

const HARBOUR: &str = "a1b2c3d4-0000-4000-8000-000000000001";

#[test]
fn a_job_imported_queued_is_completed_by_a_later_file_and_never_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path().join("history.jsonl")).unwrap();

    let first = import_stablenew(&mut store, &fixture("queued_only.jsonl")).unwrap();
    assert_eq!(first.imported, 1);
    assert_eq!(
        store.get(HARBOUR).unwrap().status,
        JobStatus::Cancelled,
        "never ran (yet)"
    );

    let second = import_stablenew(&mut store, &fixture("all_lines.jsonl")).unwrap();
    assert_eq!(
        (second.imported, second.updated),
        (1, 1),
        "{}",
        second.summary()
    );
    assert!(
        second.summary().contains("1 job updated"),
        "{}",
        second.summary()
    );
    let job = store.get(HARBOUR).unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.duration_ms, Some(30_000));
    assert_eq!(job.error_message, None);

    // The older file again: the finished job stays finished, and the history survives a reopen.
    let third = import_stablenew(&mut store, &fixture("queued_only.jsonl")).unwrap();
    assert_eq!(
        (third.imported, third.updated, third.already_present),
        (0, 0, 1)
    );
    drop(store);
    let store = HistoryStore::open(dir.path().join("history.jsonl")).unwrap();
    assert_eq!(store.get(HARBOUR).unwrap().status, JobStatus::Completed);
    assert_eq!(store.len(), 2);
}

#[test]
fn settings_stablenew_did_not_record_are_unknown_and_never_share_a_real_hash() {
    let (records, _) = read_stablenew_history(&fixture("all_lines.jsonl")).unwrap();
    let job = records.iter().find(|r| r.job_id == HARBOUR).unwrap();
    let unknown = job.run_config.unknown_settings();
    for name in [
        "model",
        "sampler",
        "steps",
        "cfg_scale",
        "width",
        "height",
        "seed",
    ] {
        assert!(
            unknown.iter().any(|u| u == name),
            "{name} is unknown: {unknown:?}"
        );
        assert!(job.run_config.is_setting_unknown(name));
    }
    // A real job with exactly the placeholder values has another hash.
    let real = GenerationSettings::default().hash();
    assert_ne!(job.config_hash, real);
    assert_eq!(job.config_hash, job.run_config.config_hash());
}

#[test]
fn the_payload_summary_stands_in_for_a_prompt_that_was_not_recorded() {
    let (records, _) = read_stablenew_history(&fixture("all_lines.jsonl")).unwrap();
    let job = records.iter().find(|r| r.job_id == HARBOUR).unwrap();
    assert_eq!(job.first_prompt(), "a harbour at dawn, soft light");
    assert_eq!(
        promptdesk::history::first_prompt_line(job),
        "a harbour at dawn, soft light"
    );
}

#[test]
fn a_learning_job_keeps_its_pack_id_although_a_later_line_says_manual_without_it() {
    let (records, _) = read_stablenew_history(&fixture("all_lines.jsonl")).unwrap();
    let job = records
        .iter()
        .find(|r| r.job_id == "learning_20260301_exp_cfg_1")
        .unwrap();
    assert_eq!(job.prompt_source, PromptSource::Pack);
    assert_eq!(
        job.prompt_pack_id.as_deref(),
        Some("learning_20260301_exp_cfg")
    );
    assert_eq!(job.status, JobStatus::Completed);
}

#[test]
fn jobs_an_older_promptdesk_imported_with_default_settings_are_repaired_by_a_reimport() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path().join("history.jsonl")).unwrap();
    import_stablenew(&mut store, &fixture("all_lines.jsonl")).unwrap();
    // What an import before issue 11 wrote: the placeholders as if they were recorded.
    let mut old = store.get(HARBOUR).unwrap().clone();
    old.run_config.set_unknown_settings(&[]);
    old.config_hash = old.run_config.config_hash();
    store.update(&old).unwrap();
    assert_eq!(
        store.get(HARBOUR).unwrap().config_hash,
        GenerationSettings::default().hash()
    );

    let again = import_stablenew(&mut store, &fixture("all_lines.jsonl")).unwrap();
    assert_eq!(again.updated, 1, "{}", again.summary());
    let job = store.get(HARBOUR).unwrap();
    assert!(job.run_config.is_setting_unknown("steps"));
    assert_ne!(job.config_hash, GenerationSettings::default().hash());
    assert_eq!(job.status, JobStatus::Completed);
    // Nothing left to repair: a further import changes nothing.
    let third = import_stablenew(&mut store, &fixture("all_lines.jsonl")).unwrap();
    assert_eq!((third.updated, third.already_present), (0, 2));
}

const LIGHTHOUSE: &str = "c3d4e5f6-0000-4000-8000-000000000003";
const READING_ROOM: &str = "d4e5f6a7-0000-4000-8000-000000000004";

#[test]
fn the_seed_stablenew_recorded_as_used_is_kept_and_exported_and_the_hash_stays() {
    let (records, _) = read_stablenew_history(&fixture("seed_done.jsonl")).unwrap();
    let job = records.iter().find(|r| r.job_id == LIGHTHOUSE).unwrap();
    // result.metadata (a list of stage manifests) seeds.final_seed.
    assert_eq!(seed_used(&job.run_config), Some(1_234_567_890));
    // The configured seed stays random, and the hash is that of the configured settings.
    assert_eq!(job.run_config.settings.seed, -1);
    assert_eq!(job.config_hash, job.run_config.config_hash());
    let text = export_text(job, ExportFormat::Infotext);
    assert!(text.contains("Seed: 1234567890,"), "{text}");
    assert!(!text.contains("Seed: -1"), "{text}");
    assert!(
        text.ends_with(
            "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234567890, Size: 832x1216, Model: models_sdxl_lighthouseXL_v2\n"
        ),
        "{text}"
    );
    let csv = export_text(job, ExportFormat::Csv);
    assert!(csv.contains(",1234567890,"), "{csv}");

    // A snapshot's actual_seed, on a job that failed after the draw.
    let failed = records.iter().find(|r| r.job_id == READING_ROOM).unwrap();
    assert_eq!(seed_used(&failed.run_config), Some(42));

    // A job that has not run yet has no seed used: the configured -1 is written.
    let (queued, _) = read_stablenew_history(&fixture("seed_running.jsonl")).unwrap();
    let job = queued.iter().find(|r| r.job_id == LIGHTHOUSE).unwrap();
    assert_eq!(seed_used(&job.run_config), None);
    assert!(export_text(job, ExportFormat::Infotext).contains("Seed: -1,"));
}

#[test]
fn reimport_counts_only_what_it_wrote_and_learns_the_seed_used() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path().join("history.jsonl")).unwrap();
    let first = import_stablenew(&mut store, &fixture("seed_running.jsonl")).unwrap();
    assert_eq!(
        (first.never_ran, first.orphaned),
        (1, 1),
        "{}",
        first.summary()
    );

    let second = import_stablenew(&mut store, &fixture("seed_done.jsonl")).unwrap();
    assert_eq!(second.updated, 2, "{}", second.summary());
    // Both jobs are finished now: nothing was imported as cancelled or failed-by-crash.
    assert_eq!((second.never_ran, second.orphaned), (0, 0));
    assert!(
        !second.summary().contains("never ran"),
        "{}",
        second.summary()
    );
    assert!(
        second.summary().contains("2 jobs updated"),
        "{}",
        second.summary()
    );
    let job = store.get(LIGHTHOUSE).unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(seed_used(&job.run_config), Some(1_234_567_890));
    let failed = store.get(READING_ROOM).unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(
        failed.error_message.as_deref(),
        Some("backend refused the request")
    );

    // The older file again: nothing goes back, and nothing is said to be imported as
    // cancelled or failed.
    let third = import_stablenew(&mut store, &fixture("seed_running.jsonl")).unwrap();
    assert_eq!(
        (third.imported, third.updated, third.already_present),
        (0, 0, 2)
    );
    assert_eq!(
        (third.never_ran, third.orphaned, third.renamed),
        (0, 0, 0),
        "{}",
        third.summary()
    );
    assert_eq!(store.get(LIGHTHOUSE).unwrap().status, JobStatus::Completed);
    assert_eq!(
        seed_used(&store.get(LIGHTHOUSE).unwrap().run_config),
        Some(1_234_567_890)
    );
}

fn export_text(record: &promptdesk::JobRecord, format: ExportFormat) -> String {
    let mut out = Vec::new();
    export_records([record], format, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn a_reimport_does_not_say_it_renamed_jobs_it_already_had() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path().join("history.jsonl")).unwrap();
    let first = import_stablenew(&mut store, &fixture("reused_ids.jsonl")).unwrap();
    assert_eq!(
        (first.imported, first.renamed),
        (2, 2),
        "{}",
        first.summary()
    );
    let again = import_stablenew(&mut store, &fixture("reused_ids.jsonl")).unwrap();
    assert_eq!(
        (again.imported, again.already_present, again.renamed),
        (0, 2, 0)
    );
    assert_eq!(
        again.summary(),
        "2 lines read, 2 jobs found; 0 imported, 2 already in the history"
    );
}
