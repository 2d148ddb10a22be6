//! The history store in one process: every record field survives the file, updates keep the
//! prompt origin, delete/restore/cancel/compact persist, damaged files load what can be loaded
//! and are repaired, and I/O failures give clear errors.

extern crate promptdesk_core as promptdesk;

use chrono::{TimeZone, Utc};
use promptdesk::history::{HistoryError, HistoryStore, LoadProgress};
use promptdesk::{
    GenerationSettings, JobRecord, JobStatus, PromptSource, RunConfig, RunMode, RunSource,
    build_run_config_for_manual_prompt, job_record_from_run_config,
};
use serde_json::json;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

fn manual(prompt: &str) -> JobRecord {
    let cfg = build_run_config_for_manual_prompt(prompt, "lowres, blurry", None);
    job_record_from_run_config(&HistoryStore::new_job_id(), &cfg)
}

fn pack_record(pack: &str, keys: &[&str]) -> JobRecord {
    let mut prompts = serde_json::Map::new();
    for k in keys {
        prompts.insert(
            (*k).to_owned(),
            json!({"prompt": format!("prompt of {k}"), "negative_prompt": ""}),
        );
    }
    let mut payload = serde_json::Map::new();
    payload.insert("pack_id".into(), json!(pack));
    payload.insert("prompts".into(), serde_json::Value::Object(prompts));
    let cfg = RunConfig {
        prompt_source: PromptSource::Pack,
        prompt_pack_id: Some(pack.to_owned()),
        prompt_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        prompt_payload: payload,
        run_mode: RunMode::Queue,
        source: RunSource::Gui,
        settings: GenerationSettings::default(),
    };
    job_record_from_run_config(&HistoryStore::new_job_id(), &cfg)
}

/// A record with every optional field set and non-ASCII text everywhere.
fn full_record() -> JobRecord {
    let mut r = pack_record("Fantasy Beasts ✨ 龍", &["3", "wyvern çà", "1"]);
    r.run_config.prompt_payload["prompts"]["3"]["prompt"] =
        json!("a dragon 🐉 over a lake,\n\"quoted\" and \\ back-slashed, Ωμέγα, 日本語");
    r.run_config.prompt_payload["prompts"]["3"]["negative_prompt"] = json!("blurry\tlowres");
    r.run_config.settings = GenerationSettings {
        model: "sd_xl_base_1.0.safetensors".into(),
        sampler: "DPM++ 2M".into(),
        scheduler: "Karras".into(),
        steps: 34,
        cfg_scale: 6.5,
        width: 832,
        height: 1216,
        seed: 4_294_967_297,
        batch_size: 2,
        batch_count: 3,
        clip_skip: 2,
    };
    r.config_hash = r.run_config.config_hash();
    r.status = JobStatus::Failed;
    r.source = RunSource::Api;
    r.run_mode = RunMode::Direct;
    r.created_at = Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap();
    r.started_at = Some(Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 8).unwrap());
    r.completed_at = Some(Utc.with_ymd_and_hms(2025, 3, 4, 5, 7, 9).unwrap());
    r.duration_ms = Some(61_000);
    r.error_message = Some("CUDA out of memory — «retry» with a smaller batch".into());
    r
}

fn history_file(dir: &Path) -> PathBuf {
    dir.join("history.jsonl")
}

fn lines_of(path: &Path) -> Vec<Vec<u8>> {
    let bytes = fs::read(path).unwrap();
    assert!(
        bytes.is_empty() || bytes.ends_with(b"\n"),
        "file ends mid-line"
    );
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn ids(store: &HistoryStore) -> Vec<String> {
    store.records().iter().map(|r| r.job_id.clone()).collect()
}

#[test]
fn every_field_survives_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let record = full_record();
    let plain = manual("a quiet harbour at dawn");
    {
        let mut store = HistoryStore::open(dir.path()).unwrap();
        assert!(store.is_empty());
        store.append(&record).unwrap();
        store.append(&plain).unwrap();
        assert_eq!(store.get(&record.job_id), Some(&record));
    }
    let store = HistoryStore::open(history_file(dir.path())).unwrap();
    assert_eq!(store.records(), &[record.clone(), plain.clone()]);
    assert_eq!(store.path(), history_file(dir.path()));
    let report = store.load_report();
    assert!(!report.is_damaged(), "{report:?}");
    assert_eq!((report.lines, report.records), (2, 2));
    assert_eq!(report.bytes, fs::metadata(store.path()).unwrap().len());
    // One line per record, each the record's own JSON line.
    let lines = lines_of(store.path());
    assert_eq!(lines[0], record.to_json_line().into_bytes());
}

#[test]
fn open_creates_missing_folders_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/c");
    let mut store = HistoryStore::open(&nested).unwrap_or_else(|e| panic!("{e}"));
    // `nested` did not exist, so it is taken as the history file's own path.
    assert_eq!(store.path(), nested);
    store.append(&manual("x")).unwrap();
    assert!(nested.is_file());

    let folder = dir.path().join("data");
    fs::create_dir(&folder).unwrap();
    let store = HistoryStore::open(&folder).unwrap();
    assert_eq!(store.path(), folder.join("history.jsonl"));
    assert!(store.path().is_file());
}

#[test]
fn duplicate_ids_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path()).unwrap();
    let r = manual("first");
    store.append(&r).unwrap();
    let size = fs::metadata(store.path()).unwrap().len();
    let generation = store.generation();
    let mut again = manual("second");
    again.job_id = r.job_id.clone();
    let err = store.append(&again).unwrap_err();
    assert!(matches!(err, HistoryError::DuplicateJobId { .. }), "{err}");
    assert!(err.to_string().contains(&r.job_id), "{err}");
    assert_eq!(fs::metadata(store.path()).unwrap().len(), size);
    assert_eq!(store.generation(), generation);
    assert_eq!(store.get(&r.job_id).unwrap().first_prompt(), "first");

    // append_many is all or nothing: a duplicate inside the batch or against the store.
    let (a, b) = (manual("a"), manual("b"));
    let mut b_dup = b.clone();
    b_dup.run_config.settings.steps = 99;
    assert!(store.append_many(&[a.clone(), b.clone(), b_dup]).is_err());
    assert!(store.append_many(&[a.clone(), r.clone()]).is_err());
    assert_eq!(fs::metadata(store.path()).unwrap().len(), size);
    assert_eq!(store.len(), 1);
    store.append_many(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(ids(&store), vec![r.job_id.clone(), a.job_id, b.job_id]);
    assert_eq!(HistoryStore::open(dir.path()).unwrap().len(), 3);
}

#[test]
fn records_json_cannot_carry_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path()).unwrap();
    let mut nan = manual("nan cfg");
    nan.run_config.settings.cfg_scale = f64::NAN;
    let err = store.append(&nan).unwrap_err();
    assert!(matches!(err, HistoryError::InvalidRecord { .. }), "{err}");
    let mut empty = manual("no id");
    empty.job_id = String::new();
    assert!(matches!(
        store.append(&empty),
        Err(HistoryError::InvalidRecord { .. })
    ));
    assert_eq!(fs::metadata(store.path()).unwrap().len(), 0);
    assert!(store.is_empty());
}

#[test]
fn updates_keep_the_prompt_origin() {
    let dir = tempfile::tempdir().unwrap();
    let original = pack_record("landscapes", &["2", "5"]);
    let mut store = HistoryStore::open(dir.path()).unwrap();
    store.append(&original).unwrap();

    // A status snapshot built carelessly, with the origin reset to manual (StableNew's bug).
    let mut snapshot = original.clone();
    snapshot.status = JobStatus::Running;
    snapshot.prompt_source = PromptSource::Manual;
    snapshot.prompt_pack_id = None;
    snapshot.prompt_keys.clear();
    snapshot.run_config.prompt_source = PromptSource::Manual;
    snapshot.run_config.prompt_pack_id = None;
    snapshot.run_config.prompt_keys.clear();
    store.update(&snapshot).unwrap();

    for store in [store, HistoryStore::open(dir.path()).unwrap()] {
        let got = store.get(&original.job_id).unwrap();
        assert_eq!(got.status, JobStatus::Running);
        assert_eq!(got.prompt_source, PromptSource::Pack);
        assert_eq!(got.prompt_pack_id.as_deref(), Some("landscapes"));
        assert_eq!(got.prompt_keys, vec!["2", "5"]);
        assert_eq!(got.run_config.prompt_source, PromptSource::Pack);
        assert_eq!(got.run_config.prompt_keys, vec!["2", "5"]);
        assert_eq!(store.len(), 1);
    }
    // Every line in the file carries the origin.
    for line in lines_of(&history_file(dir.path())) {
        let r: JobRecord = serde_json::from_slice(&line).unwrap();
        assert_eq!(r.prompt_source, PromptSource::Pack);
    }

    // A foreign line that resets the origin is also overruled on load.
    let mut foreign = snapshot.clone();
    foreign.status = JobStatus::Completed;
    let mut bytes = fs::read(history_file(dir.path())).unwrap();
    bytes.extend_from_slice(foreign.to_json_line().as_bytes());
    bytes.push(b'\n');
    fs::write(history_file(dir.path()), bytes).unwrap();
    let store = HistoryStore::open(dir.path()).unwrap();
    let got = store.get(&original.job_id).unwrap();
    assert_eq!(got.status, JobStatus::Completed);
    assert_eq!(got.prompt_pack_id.as_deref(), Some("landscapes"));
}

#[test]
fn unknown_jobs_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path()).unwrap();
    let ghost = manual("ghost");
    for err in [
        store.update(&ghost).unwrap_err(),
        store
            .set_status(&ghost.job_id, JobStatus::Running)
            .unwrap_err(),
        store.cancel(&ghost.job_id).unwrap_err(),
        store.delete(&ghost.job_id).unwrap_err(),
    ] {
        assert!(matches!(err, HistoryError::UnknownJob { .. }), "{err}");
        assert!(err.to_string().contains(&ghost.job_id));
    }
    assert_eq!(fs::metadata(store.path()).unwrap().len(), 0);
}

#[test]
fn status_changes_and_cancel_persist() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (manual("a"), manual("b"));
    let mut store = HistoryStore::open(dir.path()).unwrap();
    store.append_many(&[a.clone(), b.clone()]).unwrap();

    store.set_status(&a.job_id, JobStatus::Running).unwrap();
    let started = store.get(&a.job_id).unwrap().started_at;
    assert!(started.is_some());
    store.set_status(&a.job_id, JobStatus::Completed).unwrap();
    let done = store.get(&a.job_id).unwrap().clone();
    assert_eq!(done.started_at, started, "the start time is kept");
    assert!(done.completed_at.is_some() && done.duration_ms.is_some());

    // Only a queued job can be cancelled; the error names its status.
    let err = store.cancel(&a.job_id).unwrap_err();
    assert!(matches!(
        err,
        HistoryError::NotCancellable {
            status: JobStatus::Completed,
            ..
        }
    ));
    assert!(err.to_string().contains("completed"), "{err}");
    store.cancel(&b.job_id).unwrap();

    let store = HistoryStore::open(dir.path()).unwrap();
    assert_eq!(store.get(&a.job_id), Some(&done));
    assert_eq!(store.get(&b.job_id).unwrap().status, JobStatus::Cancelled);
    assert_eq!(ids(&store), vec![a.job_id, b.job_id], "order unchanged");
}

#[test]
fn delete_and_restore_persist_and_restore_keeps_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let rs: Vec<JobRecord> = (0..4).map(|i| manual(&format!("p{i}"))).collect();
    let mut store = HistoryStore::open(dir.path()).unwrap();
    store.append_many(&rs).unwrap();

    let removed = store.delete(&rs[1].job_id).unwrap();
    assert_eq!(removed, rs[1]);
    assert!(store.get(&rs[1].job_id).is_none());
    assert!(store.delete(&rs[1].job_id).is_err(), "already deleted");
    let expect_after_delete = vec![
        rs[0].job_id.clone(),
        rs[2].job_id.clone(),
        rs[3].job_id.clone(),
    ];
    assert_eq!(ids(&store), expect_after_delete);
    assert_eq!(
        ids(&HistoryStore::open(dir.path()).unwrap()),
        expect_after_delete
    );

    store.restore(&removed).unwrap();
    assert!(
        store.restore(&removed).is_err(),
        "restoring a live job is a duplicate"
    );
    let all: Vec<String> = rs.iter().map(|r| r.job_id.clone()).collect();
    assert_eq!(ids(&store), all);
    assert_eq!(store.position(&rs[1].job_id), Some(1));
    let reopened = HistoryStore::open(dir.path()).unwrap();
    assert_eq!(ids(&reopened), all);
    assert_eq!(reopened.records(), store.records());
    assert!(!reopened.load_report().is_damaged());
}

#[test]
fn compact_keeps_exactly_the_live_records() {
    let dir = tempfile::tempdir().unwrap();
    let rs: Vec<JobRecord> = (0..6).map(|i| manual(&format!("p{i}"))).collect();
    let mut store = HistoryStore::open(dir.path()).unwrap();
    store.append_many(&rs).unwrap();
    store.set_status(&rs[0].job_id, JobStatus::Running).unwrap();
    store
        .set_status(&rs[0].job_id, JobStatus::Completed)
        .unwrap();
    store.delete(&rs[2].job_id).unwrap();
    store.delete(&rs[4].job_id).unwrap();
    store.cancel(&rs[5].job_id).unwrap();
    let before = store.records().to_vec();
    let bytes_before = fs::metadata(store.path()).unwrap().len();

    let report = store.compact().unwrap();
    assert_eq!(report.records, 4);
    assert_eq!(report.lines_before, 11);
    assert_eq!(report.bytes_before, bytes_before);
    assert_eq!(
        report.bytes_after,
        fs::metadata(store.path()).unwrap().len()
    );
    assert!(report.bytes_after < bytes_before);
    assert_eq!(store.records(), &before[..]);
    let lines = lines_of(store.path());
    assert_eq!(lines.len(), 4, "one line per live job");

    let reopened = HistoryStore::open(dir.path()).unwrap();
    assert_eq!(reopened.records(), &before[..]);
    assert!(!reopened.load_report().is_damaged());
    // No temp file is left behind.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["history.jsonl"]);

    // The store keeps working on the new file, and a deleted job restored after the
    // compaction is found by a fresh open.
    store.append(&manual("after")).unwrap();
    store.restore(&rs[2]).unwrap();
    let reopened = HistoryStore::open(dir.path()).unwrap();
    assert_eq!(reopened.records(), store.records());
    assert_eq!(reopened.len(), 6);
}

#[test]
fn a_second_store_sees_appends_and_compaction_of_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = HistoryStore::open(dir.path()).unwrap();
    let mut b = HistoryStore::open(dir.path()).unwrap();
    let r1 = manual("one");
    a.append(&r1).unwrap();
    let generation = b.generation();
    assert_eq!(b.reload().unwrap(), 1);
    assert_ne!(b.generation(), generation);
    assert_eq!(b.records(), a.records());
    assert_eq!(b.reload().unwrap(), 0, "nothing new");

    // b writes after a's delete without reloading first: it catches up before writing.
    a.delete(&r1.job_id).unwrap();
    let r2 = manual("two");
    b.append(&r2).unwrap();
    assert_eq!(ids(&b), vec![r2.job_id.clone()]);
    // The same id cannot be added by two stores.
    let err = a.append(&r2).unwrap_err();
    assert!(matches!(err, HistoryError::DuplicateJobId { .. }));

    // a compacts (replacing the file); b notices on reload and on its next write.
    a.append(&manual("three")).unwrap();
    a.compact().unwrap();
    b.reload().unwrap();
    assert_eq!(b.records(), a.records());
    let r4 = manual("four");
    b.append(&r4).unwrap();
    a.reload().unwrap();
    assert_eq!(a.records(), b.records());
    assert_eq!(a.len(), 3);
    a.compact().unwrap();
    let r5 = manual("five");
    b.append(&r5).unwrap();
    let fresh = HistoryStore::open(dir.path()).unwrap();
    assert_eq!(fresh.len(), 4);
    assert_eq!(fresh.records(), b.records());
}

/// Writes `records` as lines, with `damage` inserted before the line index given.
fn write_with_damage(path: &Path, records: &[JobRecord], damage: &[(usize, &[u8])]) {
    let mut bytes = Vec::new();
    for (i, r) in records.iter().enumerate() {
        for (at, junk) in damage {
            if *at == i {
                bytes.extend_from_slice(junk);
                bytes.push(b'\n');
            }
        }
        bytes.extend_from_slice(r.to_json_line().as_bytes());
        bytes.push(b'\n');
    }
    fs::write(path, bytes).unwrap();
}

#[test]
fn damaged_lines_in_the_middle_are_skipped_reported_and_quarantined_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_file(dir.path());
    let rs: Vec<JobRecord> = (0..4).map(|i| manual(&format!("good {i}"))).collect();
    let bad_utf8: &[u8] = b"{\"job_id\":\"\xff\xfe broken\"}";
    let half: Vec<u8> = rs[0].to_json_line().as_bytes()[..40].to_vec();
    write_with_damage(
        &path,
        &rs,
        &[
            (1, b"this is not json at all"),
            (2, bad_utf8),
            (2, br#"{"hello": "a valid JSON object but not a job"}"#),
            (3, &half),
            (3, br#"{"op":"explode","job_id":"x"}"#),
        ],
    );

    let mut store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.records(), &rs[..], "every valid record loads");
    let report = store.load_report().clone();
    assert!(report.is_damaged());
    assert!(!report.torn_tail);
    assert_eq!(report.lines, 9);
    let lines: Vec<usize> = report.quarantined.iter().map(|q| q.line).collect();
    assert_eq!(lines, vec![2, 4, 5, 7]);
    // A JSON object with a job_id is another version's line, not damage.
    assert_eq!(report.foreign.len(), 1);
    assert_eq!(
        (report.foreign[0].line, report.foreign[0].job_id.as_str()),
        (8, "x")
    );
    let reasons: Vec<&str> = report
        .quarantined
        .iter()
        .map(|q| q.reason.as_str())
        .collect();
    assert!(reasons[0].contains("malformed JSON"), "{reasons:?}");
    assert!(reasons[1].contains("UTF-8"), "{reasons:?}");
    assert!(reasons[2].contains("not a job record"), "{reasons:?}");
    assert!(reasons[3].contains("malformed JSON"), "{reasons:?}");
    assert!(report.foreign[0].reason.contains("explode"), "{report:?}");

    let quarantine = quarantined_bytes(store.quarantine_path());
    assert_eq!(
        store.quarantine_path(),
        dir.path().join("history.quarantine.jsonl")
    );
    let mut expected = Vec::new();
    for junk in [
        &b"this is not json at all"[..],
        bad_utf8,
        br#"{"hello": "a valid JSON object but not a job"}"#,
        &half,
    ] {
        expected.extend_from_slice(junk);
        expected.push(b'\n');
    }
    assert_eq!(quarantine, expected, "copied verbatim, in order");

    // Appending still works; opening again reports the same lines but does not quarantine
    // them a second time.
    let extra = manual("after the damage");
    store.append(&extra).unwrap();
    drop(store);
    let store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.len(), 5);
    assert_eq!(store.load_report().quarantined.len(), 4);
    assert_eq!(quarantined_bytes(store.quarantine_path()), expected);

    // Compaction drops the damaged lines (they are in quarantine): the file is clean. The
    // other version's line stays.
    let mut store = store;
    store.compact().unwrap();
    let store = HistoryStore::open(&path).unwrap();
    assert!(!store.load_report().is_damaged());
    assert_eq!(store.len(), 5);
    assert_eq!(store.load_report().foreign.len(), 1);
    assert!(
        fs::read_to_string(&path)
            .unwrap()
            .contains(r#"{"op":"explode","job_id":"x"}"#)
    );
}

/// The damaged lines a quarantine file holds, without its header lines.
fn quarantined_bytes(path: &Path) -> Vec<u8> {
    let data = fs::read(path).unwrap();
    let mut out = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if !line.starts_with(b"#promptdesk-quarantine ") {
            out.extend_from_slice(line);
        }
    }
    out
}

#[test]
fn a_torn_last_line_is_quarantined_and_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_file(dir.path());
    let rs: Vec<JobRecord> = (0..3).map(|i| manual(&format!("good {i}"))).collect();
    write_with_damage(&path, &rs, &[]);
    let good_len = fs::metadata(&path).unwrap().len();
    let torn = &manual("never finished").to_json_line().into_bytes()[..57];
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(torn);
    fs::write(&path, &bytes).unwrap();

    let mut store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.records(), &rs[..]);
    let report = store.load_report();
    assert!(report.torn_tail && report.is_damaged());
    assert_eq!(report.quarantined.len(), 1);
    assert_eq!(report.quarantined[0].line, 4);
    assert!(report.quarantined[0].reason.contains("torn"));
    assert_eq!(
        fs::metadata(&path).unwrap().len(),
        good_len,
        "cut back to the last newline"
    );
    let mut q = torn.to_vec();
    q.push(b'\n');
    assert_eq!(quarantined_bytes(store.quarantine_path()), q);

    let next = manual("next");
    store.append(&next).unwrap();
    let store = HistoryStore::open(&path).unwrap();
    assert!(
        !store.load_report().is_damaged(),
        "opens clean after the repair"
    );
    assert_eq!(store.len(), 4);
    assert_eq!(store.records()[3], next);
}

#[test]
fn a_complete_last_line_without_newline_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_file(dir.path());
    let rs: Vec<JobRecord> = (0..2).map(|i| manual(&format!("r{i}"))).collect();
    let bytes = format!("{}\n{}", rs[0].to_json_line(), rs[1].to_json_line());
    fs::write(&path, &bytes).unwrap();
    let mut store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.records(), &rs[..]);
    assert!(!store.load_report().is_damaged());
    assert!(fs::read(&path).unwrap().ends_with(b"}\n"), "newline added");
    store.append(&manual("r2")).unwrap();
    let store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.len(), 3);
    assert!(!store.load_report().is_damaged());
}

#[test]
fn a_file_truncated_anywhere_loads_the_complete_lines() {
    let dir = tempfile::tempdir().unwrap();
    let rs: Vec<JobRecord> = (0..3).map(|i| manual(&format!("line {i}"))).collect();
    let mut full = Vec::new();
    let mut ends = Vec::new();
    for r in &rs {
        full.extend_from_slice(r.to_json_line().as_bytes());
        full.push(b'\n');
        ends.push(full.len());
    }
    // Cut points: inside each line, just before and at each newline.
    let mut cuts = vec![
        1,
        10,
        ends[0] - 1,
        ends[0],
        ends[0] + 3,
        ends[1] - 2,
        ends[1],
    ];
    cuts.extend([ends[1] + 100, ends[2] - 1]);
    for cut in cuts {
        let path = dir.path().join(format!("cut{cut}.jsonl"));
        fs::write(&path, &full[..cut]).unwrap();
        let complete = ends.iter().filter(|&&e| e <= cut).count();
        // A cut just before the newline leaves a complete JSON line, which is kept.
        let kept = if ends.contains(&(cut + 1)) {
            complete + 1
        } else {
            complete
        };
        let mut store = HistoryStore::open(&path).unwrap();
        assert_eq!(store.records(), &rs[..kept], "cut at {cut}");
        let torn = cut != 0 && !ends.contains(&cut) && !ends.contains(&(cut + 1));
        assert_eq!(store.load_report().torn_tail, torn, "cut at {cut}");
        store.append(&manual("after")).unwrap();
        let store = HistoryStore::open(&path).unwrap();
        assert!(!store.load_report().is_damaged(), "cut at {cut}");
        assert_eq!(store.len(), kept + 1);
    }
}

#[test]
fn a_file_written_by_an_earlier_version_loads() {
    // A hand-written history: two jobs, a status update, a delete, a blank line and junk.
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/history/v1_mixed.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let path = history_file(dir.path());
    fs::copy(&fixture, &path).unwrap();
    let store = HistoryStore::open(&path).unwrap();
    let report = store.load_report();
    assert_eq!(store.len(), 2, "{report:?}");
    let first = &store.records()[0];
    assert_eq!(first.job_id, "0190a1b2-0000-7000-8000-000000000001");
    assert_eq!(first.status, JobStatus::Completed);
    assert_eq!(first.prompt_source, PromptSource::Pack);
    assert_eq!(first.prompt_pack_id.as_deref(), Some("harbour_scenes"));
    assert_eq!(first.prompt_keys, vec!["2"]);
    assert_eq!(first.duration_ms, Some(4200));
    assert_eq!(
        first.first_prompt(),
        "a fishing harbour at dawn, soft light"
    );
    assert_eq!(first.run_config.settings.steps, 28);
    let second = &store.records()[1];
    assert_eq!(second.prompt_source, PromptSource::Manual);
    assert_eq!(second.first_prompt(), "a red bicycle leaning on a wall");
    assert_eq!(report.tombstones, 1);
    assert_eq!(report.updates, 1);
    let lines: Vec<usize> = report.quarantined.iter().map(|q| q.line).collect();
    assert_eq!(lines, vec![6]);
}

#[test]
fn progress_is_reported_up_to_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let rs: Vec<JobRecord> = (0..50).map(|i| manual(&format!("p{i}"))).collect();
    HistoryStore::open(dir.path())
        .unwrap()
        .append_many(&rs)
        .unwrap();
    let seen = Mutex::new(Vec::<LoadProgress>::new());
    let store =
        HistoryStore::open_with_progress(dir.path(), &|p| seen.lock().unwrap().push(p)).unwrap();
    let seen = seen.into_inner().unwrap();
    let total = fs::metadata(store.path()).unwrap().len();
    let last = seen.last().copied().unwrap();
    assert_eq!(
        last,
        LoadProgress {
            bytes_done: total,
            bytes_total: total,
            records: 50
        }
    );
    assert!(seen.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done));
}

#[test]
fn a_held_lock_times_out_with_a_clear_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path()).unwrap();
    store.set_lock_timeout(Duration::from_millis(200));
    let holder = fs::File::open(store.path()).unwrap();
    holder.lock().unwrap();
    let err = store.append(&manual("blocked")).unwrap_err();
    assert!(matches!(err, HistoryError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("history.jsonl"), "{err}");
    assert!(store.is_empty());
    holder.unlock().unwrap();
    store.append(&manual("free")).unwrap();
    assert_eq!(HistoryStore::open(dir.path()).unwrap().len(), 1);
}

#[test]
fn a_data_folder_under_a_regular_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    fs::write(&file, "x").unwrap();
    let err = HistoryStore::open(file.join("data/history.jsonl")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("not-a-folder"), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert!(
        msg.contains("not a folder") || msg.contains("ot a directory"),
        "{msg}"
    );

    // The data folder itself is a file.
    let err = HistoryStore::open(file.join("history.jsonl")).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, HistoryError::NotAFolder { .. }), "{msg}");
    assert!(
        msg.contains("not-a-folder") && msg.contains("not a folder"),
        "{msg}"
    );
}

#[cfg(unix)]
#[test]
fn a_read_only_history_still_loads() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let r = manual("kept");
    HistoryStore::open(dir.path()).unwrap().append(&r).unwrap();
    let path = history_file(dir.path());
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    if fs::OpenOptions::new().append(true).open(&path).is_ok() {
        // Root (how CI runs) ignores file permissions: make the file read-only the way root
        // cannot ignore, on a file system mounted read-only.
        let Some(ro) = ReadOnlyTmpFs::with_history(&r) else {
            eprintln!(
                "SKIPPED a_read_only_history_still_loads: this user can write a 0444 file \
                 (root?) and cannot mount a tmpfs, so no read-only history can be made here"
            );
            return;
        };
        assert!(
            fs::OpenOptions::new()
                .append(true)
                .open(history_file(&ro.dir))
                .is_err(),
            "the remounted file system refuses writes"
        );
        assert_read_only_store_loads(&ro.dir, &r);
        return;
    }
    assert_read_only_store_loads(dir.path(), &r);
}

#[cfg(unix)]
fn assert_read_only_store_loads(data: &Path, r: &JobRecord) {
    let mut store = HistoryStore::open(data).unwrap();
    assert!(store.is_read_only());
    assert_eq!(store.records(), std::slice::from_ref(r));
    let err = store.append(&manual("refused")).unwrap_err();
    assert!(matches!(err, HistoryError::ReadOnly { .. }), "{err}");
    assert!(err.to_string().contains("read-only"));
    assert_eq!(store.len(), 1);
}

/// A small tmpfs holding a one-record history, remounted read-only (root only).
#[cfg(unix)]
struct ReadOnlyTmpFs {
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

#[cfg(unix)]
impl ReadOnlyTmpFs {
    fn with_history(r: &JobRecord) -> Option<ReadOnlyTmpFs> {
        use std::process::Command;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("mnt");
        fs::create_dir_all(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs"])
            .arg(&dir)
            .output()
            .is_ok_and(|o| o.status.success());
        if !mounted {
            return None;
        }
        let ro = ReadOnlyTmpFs { dir, _tmp: tmp };
        HistoryStore::open(&ro.dir).unwrap().append(r).unwrap();
        let remounted = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&ro.dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(remounted, "remount the tmpfs read-only");
        Some(ro)
    }
}

#[cfg(unix)]
impl Drop for ReadOnlyTmpFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .status();
    }
}

#[test]
fn job_ids_are_unique_and_time_ordered() {
    let ids: Vec<String> = (0..20_000).map(|_| HistoryStore::new_job_id()).collect();
    let set: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len());
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sortable by creation");
    assert!(ids.iter().all(|id| uuid_like(id)));
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|&c| c == '-').count() == 4
}

#[test]
fn generation_changes_with_every_change_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path()).unwrap();
    let mut seen = vec![store.generation()];
    let r = manual("g");
    store.append(&r).unwrap();
    seen.push(store.generation());
    store.set_status(&r.job_id, JobStatus::Running).unwrap();
    seen.push(store.generation());
    store.delete(&r.job_id).unwrap();
    seen.push(store.generation());
    store.restore(&r).unwrap();
    seen.push(store.generation());
    let set: std::collections::HashSet<u64> = seen.iter().copied().collect();
    assert_eq!(set.len(), seen.len(), "{seen:?}");
    let g = store.generation();
    store.reload().unwrap();
    let current = store.get(&r.job_id).unwrap().clone();
    store.update(&current).unwrap();
    assert_eq!(store.generation(), g, "no change, same generation");
}

#[test]
fn trailing_whitespace_after_the_last_line_is_not_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_file(dir.path());
    let r = manual("only");
    fs::write(&path, format!("{}\n  \r", r.to_json_line())).unwrap();
    let mut store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.records(), std::slice::from_ref(&r));
    assert!(!store.load_report().is_damaged());
    store.append(&manual("next")).unwrap();
    let store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.len(), 2);
    assert!(!store.load_report().is_damaged());
    assert!(!store.quarantine_path().exists());
}

#[cfg(unix)]
#[test]
fn compact_keeps_the_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path()).unwrap();
    store.append(&manual("private")).unwrap();
    fs::set_permissions(store.path(), fs::Permissions::from_mode(0o600)).unwrap();
    store.compact().unwrap();
    let mode = fs::metadata(store.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// A history with updates, a delete, a restore and a damaged line, written through the store.
fn busy_history(path: &Path) -> Vec<String> {
    let mut store = HistoryStore::open(path).unwrap();
    let mut ids = Vec::new();
    for i in 0..300 {
        let r = if i % 3 == 0 {
            pack_record("Landscapes", &["1", "2"])
        } else {
            manual(&format!("prompt number {i} {}", "x".repeat(i % 50)))
        };
        store.append(&r).unwrap();
        ids.push(r.job_id);
    }
    for id in ids.iter().step_by(7) {
        store.set_status(id, JobStatus::Completed).unwrap();
    }
    let gone = store.delete(&ids[10]).unwrap();
    store.delete(&ids[11]).unwrap();
    store.restore(&gone).unwrap();
    drop(store);
    // Damage one line in the middle.
    let text = fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.insert(150, "{\"job_id\": not json".to_owned());
    fs::write(path, lines.join("\n") + "\n").unwrap();
    ids
}

#[test]
fn a_partially_opened_store_streams_to_the_same_state_as_a_full_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    busy_history(&path);
    let full = HistoryStore::open(&path).unwrap();

    let mut partial = HistoryStore::open_partial(&path, 4096).unwrap();
    assert!(!partial.is_fully_loaded());
    let first = partial.records().len();
    assert!(
        first > 0 && first < full.records().len(),
        "a prefix: {first}"
    );
    let mut steps = 0;
    let mut last = partial.load_progress().bytes_done;
    while !partial.load_more(4096).unwrap() {
        steps += 1;
        let now = partial.load_progress();
        assert!(now.bytes_done > last, "every step reads more");
        assert!(now.bytes_done <= now.bytes_total);
        last = now.bytes_done;
    }
    assert!(steps > 3, "it took several steps ({steps})");
    assert!(partial.is_fully_loaded());
    assert_eq!(partial.records(), full.records());
    assert_eq!(
        partial.load_report().quarantined,
        full.load_report().quarantined
    );
    assert_eq!(partial.records().len(), 299);
}

#[test]
fn a_write_to_a_partially_opened_store_first_reads_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    let ids = busy_history(&path);
    let mut partial = HistoryStore::open_partial(&path, 2048).unwrap();
    assert!(partial.get(&ids[299]).is_none(), "not read yet");
    let new = manual("written before the load finished");
    partial.append(&new).unwrap();
    assert!(partial.is_fully_loaded());
    assert!(partial.get(&ids[299]).is_some());
    let reopened = HistoryStore::open(&path).unwrap();
    assert_eq!(partial.records(), reopened.records());
    assert_eq!(reopened.records().last().unwrap().job_id, new.job_id);
}

#[test]
fn append_only_open_adds_jobs_without_reading_the_history_and_repairs_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    let ids = busy_history(&path);
    // A crash left half a line at the end.
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"job_id\": \"half-writ");
    fs::write(&path, &bytes).unwrap();

    let mut store = HistoryStore::open_append_only(&path).unwrap();
    assert!(store.records().is_empty(), "nothing read");
    let new = manual("added by submit");
    store.append(&new).unwrap();
    assert_eq!(store.records().len(), 1);

    let full = HistoryStore::open(&path).unwrap();
    assert_eq!(
        full.records().len(),
        300,
        "all 299 old jobs and the new one"
    );
    assert!(full.get(&ids[0]).is_some());
    assert_eq!(full.records().last().unwrap().job_id, new.job_id);
    assert!(!full.load_report().torn_tail, "repaired before the write");
    let quarantine = fs::read_to_string(dir.path().join("history.quarantine.jsonl")).unwrap();
    assert!(quarantine.contains("half-writ"), "{quarantine}");
}

#[test]
fn append_only_open_works_on_a_new_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("history.jsonl");
    let mut store = HistoryStore::open_append_only(&path).unwrap();
    let r = manual("first job");
    store.append(&r).unwrap();
    let full = HistoryStore::open(&path).unwrap();
    assert_eq!(full.records(), &[r][..]);
}

#[test]
fn the_edit_count_changes_on_edits_but_not_when_jobs_are_added() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(history_file(dir.path())).unwrap();
    let a = manual("first");
    store.append(&a).unwrap();
    let edits = store.edit_count();
    store.append(&manual("second")).unwrap();
    store
        .append_many(&[manual("third"), manual("fourth")])
        .unwrap();
    assert_eq!(store.edit_count(), edits, "adding jobs is not an edit");
    store.cancel(&a.job_id).unwrap();
    let after_cancel = store.edit_count();
    assert_ne!(after_cancel, edits);
    let gone = store.delete(&a.job_id).unwrap();
    let after_delete = store.edit_count();
    assert_ne!(after_delete, after_cancel);
    store.restore(&gone).unwrap();
    assert_ne!(store.edit_count(), after_delete, "a restore moves jobs");
}

#[test]
fn a_store_knows_when_another_process_replaced_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = HistoryStore::open(dir.path()).unwrap();
    a.append(&manual("one")).unwrap();
    assert!(!a.needs_full_reread());
    let mut b = HistoryStore::open(dir.path()).unwrap();
    b.append(&manual("two")).unwrap();
    assert!(!a.needs_full_reread(), "an append is read incrementally");
    b.compact().unwrap();
    assert!(a.needs_full_reread(), "a compaction replaced the file");
    a.reload().unwrap();
    assert!(!a.needs_full_reread());
    assert_eq!(a.len(), 2);
}
