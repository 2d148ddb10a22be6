//! The history never destroys what it cannot read (issue 8, items 2, 4, 5, 11, 12, 14):
//! a BOM, another version's status and fields, lines this version cannot read, a symlinked
//! history, a folder where the file should be, stale temp files, a quarantine file that is a
//! link, and the modes of the files we create.

extern crate promptdesk_core as promptdesk;

use promptdesk::history::{
    ExportFormat, HistoryError, HistoryStore, export_records, read_quarantine,
};
use promptdesk::{
    JobRecord, JobStatus, build_run_config_for_manual_prompt, job_record_from_run_config,
};
use std::fs;
use std::path::{Path, PathBuf};

fn manual(prompt: &str) -> JobRecord {
    let cfg = build_run_config_for_manual_prompt(prompt, "", None);
    job_record_from_run_config(&HistoryStore::new_job_id(), &cfg)
}

fn history_in(dir: &Path) -> PathBuf {
    dir.join("history.jsonl")
}

/// A record line as a newer promptdesk might write it: an unknown status, unknown fields at
/// the top, inside `run_config` and inside `run_config.settings`, with numbers serde_json would
/// not print the same way (a big integer, `1.10`, `1e3`).
fn newer_line(job_id: &str, status: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&manual("from a newer version").to_json_line()).unwrap();
    v["job_id"] = job_id.into();
    v["status"] = status.into();
    let mut text = serde_json::to_string(&v).unwrap();
    // Splice the unknown fields in as raw text, so their exact bytes can be checked.
    text.insert_str(
        text.len() - 1,
        r#","outputs":[{"path":"out/1.png","sha256":"ab","seed":123456789012345678901234567890}],"rating":1.10"#,
    );
    let rc = text.find("\"run_config\":{").unwrap() + "\"run_config\":{".len();
    text.insert_str(rc, r#""styles":[{"source":"styles.csv","name":"Film"}],"#);
    let st = text.find("\"settings\":{").unwrap() + "\"settings\":{".len();
    text.insert_str(st, r#""hires_fix":{"scale":1e3,"upscaler":"Latent"},"#);
    text
}

const UNKNOWN_PARTS: [&str; 4] = [
    r#""outputs":[{"path":"out/1.png","sha256":"ab","seed":123456789012345678901234567890}]"#,
    r#""rating":1.10"#,
    r#""styles":[{"source":"styles.csv","name":"Film"}]"#,
    r#""hires_fix":{"scale":1e3,"upscaler":"Latent"}"#,
];

fn assert_unknown_parts_kept(text: &str, when: &str) {
    for part in UNKNOWN_PARTS {
        assert!(
            text.contains(part),
            "{when}: {part} was lost or altered in\n{text}"
        );
    }
}

#[test]
fn a_bom_before_the_first_line_is_not_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_in(dir.path());
    let (a, b) = (manual("first"), manual("second"));
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    for r in [&a, &b] {
        bytes.extend_from_slice(r.to_json_line().as_bytes());
        bytes.push(b'\n');
    }
    fs::write(&path, &bytes).unwrap();
    let mut store = HistoryStore::open(&path).unwrap();
    assert!(
        !store.load_report().is_damaged(),
        "{:?}",
        store.load_report()
    );
    assert_eq!(store.records(), &[a.clone(), b.clone()]);
    store.compact().unwrap();
    let store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.records(), &[a, b], "compact keeps the first record");
}

#[test]
fn another_versions_status_and_fields_survive_compact_status_changes_restore_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_in(dir.path());
    let plain = manual("plain");
    let paused = newer_line("job-paused", "paused");
    let done = newer_line("job-later", "queued");
    fs::write(
        &path,
        format!("{}\n{paused}\n{done}\n", plain.to_json_line()),
    )
    .unwrap();

    let mut store = HistoryStore::open(&path).unwrap();
    assert!(
        !store.load_report().is_damaged(),
        "{:?}",
        store.load_report()
    );
    assert_eq!(store.len(), 3);
    let p = store.get("job-paused").unwrap();
    assert_eq!(p.status, JobStatus::Unknown);
    assert_eq!(p.status_text(), "paused");
    assert!(!p.status.is_cancellable());
    assert_eq!(p.unknown.field_count(), 4, "{:?}", p.unknown.field_names());

    // Compact: the paused record keeps its status text and every unknown field.
    store.compact().unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let line = text.lines().find(|l| l.contains("job-paused")).unwrap();
    assert!(line.contains(r#""status":"paused""#), "{line}");
    assert_unknown_parts_kept(line, "compact");

    // A status change keeps the unknown fields.
    store.set_status("job-later", JobStatus::Completed).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.contains(r#""status":"completed""#), "{last}");
    assert_unknown_parts_kept(last, "set_status");

    // Delete and restore (undo) of an unknown-status record keeps it whole.
    let removed = store.delete("job-paused").unwrap();
    assert!(store.get("job-paused").is_none());
    store.restore(&removed).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.contains(r#""status":"paused""#), "{last}");
    assert_unknown_parts_kept(last, "restore");

    // Export to JSON Lines keeps them too.
    let store = HistoryStore::open(&path).unwrap();
    let mut out = Vec::new();
    export_records(store.records().iter(), ExportFormat::Jsonl, &mut out).unwrap();
    let exported = String::from_utf8(out).unwrap();
    for id in ["job-paused", "job-later"] {
        let line = exported.lines().find(|l| l.contains(id)).unwrap();
        assert_unknown_parts_kept(line, "export");
    }
    assert!(exported.contains(r#""status":"paused""#));

    // And a deleted unknown-status record stays deleted.
    let mut store = store;
    store.delete("job-paused").unwrap();
    store.compact().unwrap();
    assert!(!fs::read_to_string(&path).unwrap().contains("job-paused"));
}

#[test]
fn lines_this_version_cannot_read_are_kept_in_place_by_compact() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_in(dir.path());
    let (a, b) = (manual("a"), manual("b"));
    // A record whose prompt source this version does not know, an operation it does not know,
    // and a foreign line of a job that is deleted afterwards.
    let wildcard = r#"{"job_id":"w-1","prompt_source":"wildcard","status":"queued","shape":2}"#;
    let op = r#"{"op":"pin","job_id":"w-1","at":"2026-11-28T00:00:00Z"}"#;
    let gone = r#"{"job_id":"gone","prompt_source":"wildcard"}"#;
    let delete_gone = r#"{"op":"delete","job_id":"gone"}"#;
    fs::write(
        &path,
        format!(
            "{}\n{wildcard}\n{gone}\n{op}\n{delete_gone}\n{}\n",
            a.to_json_line(),
            b.to_json_line()
        ),
    )
    .unwrap();
    let mut store = HistoryStore::open(&path).unwrap();
    let report = store.load_report().clone();
    assert!(!report.is_damaged(), "{report:?}");
    let lines: Vec<(usize, &str)> = report
        .foreign
        .iter()
        .map(|f| (f.line, f.job_id.as_str()))
        .collect();
    assert_eq!(lines, vec![(2, "w-1"), (3, "gone"), (4, "w-1")]);
    assert!(!store.quarantine_path().exists(), "nothing is quarantined");
    assert_eq!(store.len(), 2);

    let c = store.compact().unwrap();
    assert_eq!((c.records, c.foreign_kept), (2, 2));
    let text = fs::read_to_string(&path).unwrap();
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got.len(), 4, "{text}");
    assert_eq!(got[1], wildcard, "kept byte for byte, in place");
    assert_eq!(got[2], op);
    assert!(got[0].contains(&a.job_id) && got[3].contains(&b.job_id));
    // Compacting again changes nothing.
    let mut store = HistoryStore::open(&path).unwrap();
    store.compact().unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

#[cfg(unix)]
#[test]
fn compact_of_a_symlinked_history_rewrites_the_target_and_keeps_the_link() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let synced = dir.path().join("synced");
    let data = dir.path().join("data");
    fs::create_dir_all(&synced).unwrap();
    fs::create_dir_all(&data).unwrap();
    let target = synced.join("promptdesk-history.jsonl");
    fs::write(&target, "").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    let link = history_in(&data);
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let mut store = HistoryStore::open(&data).unwrap();
    let r = manual("kept through the link");
    store.append(&r).unwrap();
    store.set_status(&r.job_id, JobStatus::Completed).unwrap();
    store.compact().unwrap();

    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays"
    );
    assert_eq!(fs::read_link(&link).unwrap(), target);
    assert_eq!(fs::read_to_string(&target).unwrap().lines().count(), 1);
    assert_eq!(
        fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o640,
        "the target's own mode is kept"
    );
    let leftovers: Vec<_> = fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no local copy or temp file: {leftovers:?}"
    );
    // The store keeps working through the link after compacting.
    store.append(&manual("after")).unwrap();
    assert_eq!(HistoryStore::open(&link).unwrap().len(), 2);
}

#[cfg(unix)]
#[test]
fn a_history_that_is_a_device_fifo_or_folder_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // A folder named history.jsonl, given directly or as the data folder's file.
    let data = dir.path().join("data");
    fs::create_dir_all(history_in(&data)).unwrap();
    for path in [data.clone(), history_in(&data)] {
        let err = HistoryStore::open(&path).unwrap_err();
        assert!(matches!(err, HistoryError::NotAFile { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("history.jsonl") && msg.contains("folder"),
            "{msg}"
        );
        assert!(
            !history_in(&history_in(&data)).exists(),
            "nothing created inside it"
        );
    }
    // A link to /dev/null.
    let d2 = dir.path().join("d2");
    fs::create_dir_all(&d2).unwrap();
    std::os::unix::fs::symlink("/dev/null", history_in(&d2)).unwrap();
    let msg = HistoryStore::open(&d2).unwrap_err().to_string();
    assert!(msg.contains("/dev/null") && msg.contains("device"), "{msg}");
    // A FIFO is never opened (it would block).
    let d3 = dir.path().join("d3");
    fs::create_dir_all(&d3).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(history_in(&d3))
            .status()
            .unwrap()
            .success()
    );
    let msg = HistoryStore::open(&d3).unwrap_err().to_string();
    assert!(msg.contains("FIFO"), "{msg}");
}

#[cfg(unix)]
#[test]
fn a_quarantine_file_that_is_a_link_is_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_in(dir.path());
    let outside = dir.path().join("outside.txt");
    fs::write(&outside, "precious\n").unwrap();
    std::os::unix::fs::symlink(&outside, dir.path().join("history.quarantine.jsonl")).unwrap();
    let r = manual("good");
    fs::write(
        &path,
        format!("this line is damaged\n{}\n", r.to_json_line()),
    )
    .unwrap();
    let store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.records(), &[r]);
    assert_eq!(
        fs::read_to_string(&outside).unwrap(),
        "precious\n",
        "nothing written through the link"
    );
    let report = store.load_report();
    assert_eq!(report.not_quarantined, vec![1]);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("symbolic link") && w.contains("stay")),
        "{report:?}"
    );
    // Compacting would drop the line that is not saved anywhere else: refused.
    let mut store = store;
    assert!(store.compact().is_err());
    assert!(
        fs::read_to_string(&path)
            .unwrap()
            .contains("this line is damaged")
    );
}

#[cfg(unix)]
#[test]
fn new_files_are_private_and_existing_modes_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new").join("data");
    let mut store = HistoryStore::open(history_in(&data)).unwrap();
    store.append(&manual("private")).unwrap();
    assert_eq!(mode(&data), 0o700, "a data folder we create");
    assert_eq!(
        mode(data.parent().unwrap()),
        0o700,
        "and its missing parents"
    );
    assert_eq!(mode(&history_in(&data)), 0o600, "a history we create");
    // Damage makes a quarantine file: private too.
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(history_in(&data))
        .unwrap();
    std::io::Write::write_all(&mut f, b"damaged\n").unwrap();
    let store = HistoryStore::open(&data).unwrap();
    assert_eq!(mode(store.quarantine_path()), 0o600);

    // A mode the user set stays, through appends and compaction.
    fs::set_permissions(history_in(&data), fs::Permissions::from_mode(0o644)).unwrap();
    let mut store = HistoryStore::open(&data).unwrap();
    store.append(&manual("again")).unwrap();
    store.compact().unwrap();
    assert_eq!(mode(&history_in(&data)), 0o644);
}

#[test]
fn temp_files_of_killed_compactions_are_removed_on_open_and_compact() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path()).unwrap();
    store.append(&manual("x")).unwrap();
    drop(store);
    let old = dir.path().join(".history.jsonl.compact-0123abcd.tmp");
    let older = dir.path().join(".history.jsonl.promptdesk-4567abcd.tmp");
    let fresh = dir.path().join(".history.jsonl.promptdesk-89abcdef.tmp");
    let unrelated = dir.path().join("notes.tmp");
    for p in [&old, &older, &fresh, &unrelated] {
        fs::write(p, vec![b'x'; 4096]).unwrap();
    }
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for p in [&old, &older, &unrelated] {
        fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
    }
    let mut store = HistoryStore::open(dir.path()).unwrap();
    assert!(
        !old.exists() && !older.exists(),
        "stale temps removed on open"
    );
    assert!(
        fresh.exists(),
        "a recent temp may belong to a running compaction"
    );
    assert!(unrelated.exists(), "only our own names");
    fs::File::options()
        .write(true)
        .open(&fresh)
        .unwrap()
        .set_modified(an_hour_ago)
        .unwrap();
    let report = store.compact().unwrap();
    assert_eq!(report.stale_temps_removed, 1);
    assert!(!fresh.exists());
}

#[test]
fn read_only_opening_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let err = HistoryStore::open_read_only(&data).unwrap_err();
    assert!(matches!(err, HistoryError::NoHistory { .. }), "{err}");
    assert!(!data.exists());
    // Damage is reported, not repaired or quarantined.
    fs::create_dir_all(&data).unwrap();
    let r = manual("ok");
    let torn = &r.to_json_line()[..30];
    fs::write(
        history_in(&data),
        format!("garbage\n{}\n{torn}", r.to_json_line()),
    )
    .unwrap();
    let before = fs::read(history_in(&data)).unwrap();
    let mut store = HistoryStore::open_read_only(&data).unwrap();
    assert_eq!(store.records(), &[r]);
    let report = store.load_report();
    assert!(report.torn_tail);
    assert_eq!(report.not_quarantined, vec![1]);
    assert!(!store.quarantine_path().exists());
    assert_eq!(fs::read(history_in(&data)).unwrap(), before);
    assert!(matches!(
        store.append(&manual("no")).unwrap_err(),
        HistoryError::ReadOnly { .. }
    ));
    assert_eq!(fs::read_dir(&data).unwrap().count(), 1);
}

#[test]
fn the_quarantine_keeps_identical_lines_once_and_says_when_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_in(dir.path());
    let r = manual("ok");
    fs::write(
        &path,
        format!("same junk\n{}\nsame junk\n", r.to_json_line()),
    )
    .unwrap();
    let store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.load_report().quarantined.len(), 2);
    let q = read_quarantine(store.quarantine_path()).unwrap();
    assert_eq!(q.entries.len(), 1, "identical lines are kept once: {q:?}");
    assert_eq!(q.entries[0].history_line, Some(1));
    assert!(q.entries[0].at.is_some());
    assert_eq!(q.entries[0].bytes, "same junk".len());
}

/// The last line of every job, as a newer version would read it (last line wins).
fn last_line_per_job(text: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(_) => continue,
        };
        let id = match &v["job_id"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.insert(id, line.to_owned());
    }
    out
}

#[test]
fn compact_keeps_the_last_line_of_every_job_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_in(dir.path());
    let a = manual("a");
    let mut cancelled = a.clone();
    cancelled.status = JobStatus::Cancelled;
    let b = manual("b");
    // A queued, then a newer version's unreadable "running" line, then A cancelled (readable):
    // A's last line is the cancel. B gets a foreign line after its last readable line.
    let foreign_a = format!(
        r#"{{"job_id":"{}","status":"running","shape":"new"}}"#,
        a.job_id
    );
    let foreign_b = format!(r#"{{"job_id":"{}","prompt_source":"wildcard"}}"#, b.job_id);
    let numeric = r#"{"job_id":42,"prompt_source":"wildcard"}"#;
    let text = format!(
        "{}\n{}\n{foreign_a}\n{}\n{foreign_b}\n{numeric}\n",
        a.to_json_line(),
        b.to_json_line(),
        cancelled.to_json_line()
    );
    fs::write(&path, &text).unwrap();
    let before = last_line_per_job(&text);
    let mut store = HistoryStore::open(&path).unwrap();
    assert!(
        !store.load_report().is_damaged(),
        "a numeric job_id is another version's line"
    );
    store.compact().unwrap();
    let after_text = fs::read_to_string(&path).unwrap();
    assert_eq!(last_line_per_job(&after_text), before, "{after_text}");
    // And again, after more changes in memory.
    let mut store = HistoryStore::open(&path).unwrap();
    store.compact().unwrap();
    assert_eq!(
        last_line_per_job(&fs::read_to_string(&path).unwrap()),
        before
    );
}

#[test]
fn compact_copies_unchanged_records_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_in(dir.path());
    // Values serde would print differently: a time with an offset, a huge integer and a long
    // decimal inside the prompt payload, spacing of another writer.
    let mut v: serde_json::Value = serde_json::from_str(&manual("exact").to_json_line()).unwrap();
    v["created_at"] = "2026-11-28T02:00:00.5+01:00".into();
    let mut line = serde_json::to_string(&v).unwrap();
    let p = line.find("\"prompt_payload\":{").unwrap() + "\"prompt_payload\":{".len();
    line.insert_str(
        p,
        r#""big": 123456789012345678901234567890, "pi": 3.14159265358979323846264,"#,
    );
    let other = manual("other");
    fs::write(
        &path,
        format!(
            "{line}\n{}\n{}\n",
            other.to_json_line(),
            other.to_json_line()
        ),
    )
    .unwrap();
    let mut store = HistoryStore::open(&path).unwrap();
    assert!(
        !store.load_report().is_damaged(),
        "{:?}",
        store.load_report()
    );
    store.compact().unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().next().unwrap(), line, "copied unchanged");
    assert_eq!(text.lines().count(), 2);
    // Compacting the compacted file (through the new file's lines) keeps it too.
    store.set_status(&other.job_id, JobStatus::Running).unwrap();
    store.compact().unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap().lines().next().unwrap(),
        line
    );
}

#[test]
fn compact_on_an_append_only_store_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_in(dir.path());
    let old = manual("old");
    let foreign = r#"{"job_id":"f-1","prompt_source":"wildcard"}"#;
    fs::write(&path, format!("{}\n{foreign}\n", old.to_json_line())).unwrap();
    let mut store = HistoryStore::open_append_only(&path).unwrap();
    let new = manual("new");
    store.append(&new).unwrap();
    store.compact().unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(&old.job_id) && text.contains(&new.job_id),
        "{text}"
    );
    assert!(text.contains(foreign), "{text}");
}

#[test]
fn deleting_a_job_drops_its_foreign_lines_so_compact_cannot_bring_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_in(dir.path());
    let a = manual("a");
    let foreign = format!(
        r#"{{"job_id":"{}","status":"paused","shape":"new"}}"#,
        a.job_id
    );
    fs::write(&path, format!("{}\n{foreign}\n", a.to_json_line())).unwrap();
    let mut store = HistoryStore::open(&path).unwrap();
    store.delete(&a.job_id).unwrap();
    store.compact().unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains(&a.job_id),
        "the deleted job came back: {text}"
    );
}
