//! Importing StableNew histories again and what StableNew did not record (issue 11): a job
//! imported while queued becomes completed when a later file shows it completed (the last
//! line wins across imports) and a finished job never goes back; settings StableNew did not
//! record are unknown, never defaults that could share a hash with real jobs; the
//! `payload_summary` stands in for a prompt that was not recorded; a learning job keeps its
//! pack id on every line.

extern crate promptdesk_core as promptdesk;

use promptdesk::history::{import_stablenew, read_stablenew_history};
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
