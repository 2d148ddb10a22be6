//! The CLI around a history it cannot fully trust (issue 8, items 2, 5, 7, 8, 9, 15): verify
//! reports what the quarantine holds, messages say what really happened on full and read-only
//! disks, read-only commands create nothing, and writers get their turn between back-to-back
//! compactions.

mod support;
use promptdesk::cli::{Outcome, run_from};
use promptdesk::history::HistoryStore;
use promptdesk::{JobRecord, build_run_config_for_manual_prompt, job_record_from_run_config};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::cli::cli;

fn manual(prompt: &str) -> JobRecord {
    let cfg = build_run_config_for_manual_prompt(prompt, "", None);
    job_record_from_run_config(&HistoryStore::new_job_id(), &cfg)
}

/// Writes `records` as a history plus `tail` (a torn last line when it has no newline).
fn write_history(path: &Path, records: &[JobRecord], tail: &str) {
    let mut text = String::new();
    for r in records {
        text.push_str(&r.to_json_line());
        text.push('\n');
    }
    text.push_str(tail);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A small tmpfs mounted for one test (root only; the test says so and skips otherwise).
struct TmpFs {
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl TmpFs {
    fn mount(size: &str) -> Option<TmpFs> {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("mnt");
        fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(&dir)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!(
                "SKIPPED: cannot mount a tmpfs here (needs root); the full/read-only disk case is not tested on this machine"
            );
            return None;
        }
        Some(TmpFs { dir, _tmp: tmp })
    }

    fn remount_read_only(&self) {
        let ok = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount read-only");
    }

    /// Fills the file system to the last byte.
    fn fill(&self) {
        let mut f = fs::File::create(self.dir.join("filler")).unwrap();
        let block = vec![0u8; 4096];
        while std::io::Write::write_all(&mut f, &block).is_ok() {}
        while std::io::Write::write_all(&mut f, &[0u8]).is_ok() {}
    }
}

impl Drop for TmpFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

#[test]
fn verify_reports_what_the_quarantine_holds_after_another_command_repaired_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let history = data.join("history.jsonl");
    let rs = [manual("one"), manual("two")];
    let torn = &manual("torn").to_json_line()[..50];
    write_history(&history, &rs, torn);

    // First command after the crash: verify reports the torn tail and changes nothing.
    let before = fs::read(&history).unwrap();
    let run = cli(&data, &["verify"]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run.out.contains("line 3"), "{}", run.out);
    assert_eq!(fs::read(&history).unwrap(), before, "verify only reads");

    // Another command repairs it (sets the torn line aside, cuts it off).
    let run = cli(&data, &["submit", "--prompt", "after the crash"]);
    assert_eq!(run.code, 0, "{}", run.err);

    // verify no longer sees damage in the history, but says what the quarantine holds.
    let run = cli(&data, &["verify"]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(
        run.out.contains("no damaged lines in the history"),
        "{}",
        run.out
    );
    assert!(
        run.out
            .contains("holds 1 damaged line set aside from the history"),
        "{}",
        run.out
    );
    assert!(run.out.contains("line 3 ("), "the line number: {}", run.out);
    assert!(run.out.contains(" UTC"), "when: {}", run.out);
    assert!(run.out.contains("torn last line"), "why: {}", run.out);
}

#[test]
fn read_only_commands_create_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("never-created");
    let run = cli(&data, &["history"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("no matching jobs (0 jobs"), "{}", run.out);
    let run = cli(&data, &["verify"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("no history yet"), "{}", run.out);
    let run = cli(&data, &["history", "--json"]);
    assert_eq!((run.code, run.out.as_str()), (0, ""));
    assert!(!data.exists(), "history/verify created the data folder");
}

#[test]
fn compact_reports_what_the_quarantine_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let r = manual("kept");
    let text = format!("same junk\n{}\nsame junk\n", r.to_json_line());
    fs::create_dir_all(&data).unwrap();
    fs::write(data.join("history.jsonl"), text).unwrap();
    let run = cli(&data, &["compact"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(
        run.out
            .contains("2 damaged lines dropped from the history;"),
        "{}",
        run.out
    );
    assert!(
        run.out
            .contains("holds 1 damaged line (identical lines are kept once)"),
        "{}",
        run.out
    );
}

#[test]
fn verify_and_history_show_another_versions_records_apart_from_damage() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut paused: serde_json::Value =
        serde_json::from_str(&manual("paused by a newer version").to_json_line()).unwrap();
    paused["status"] = "paused".into();
    paused["outputs"] = serde_json::json!([{"path": "a.png"}]);
    let paused_id = paused["job_id"].as_str().unwrap().to_owned();
    let unreadable = r#"{"job_id":"from-the-future","prompt_source":"wildcard"}"#;
    let text = format!("{paused}\n{unreadable}\n");
    fs::create_dir_all(&data).unwrap();
    fs::write(data.join("history.jsonl"), text).unwrap();

    let run = cli(&data, &["verify"]);
    assert_eq!(run.code, 0, "not damage: {}", run.out);
    assert!(run.out.contains("from another version"), "{}", run.out);
    assert!(
        run.out
            .contains("line 2: job from-the-future cannot be read"),
        "{}",
        run.out
    );
    assert!(
        run.out
            .contains(&format!("job {paused_id}: status \"paused\" is unknown")),
        "{}",
        run.out
    );
    assert!(run.out.contains("1 record carries fields"), "{}", run.out);
    assert!(run.out.contains("no damaged lines"), "{}", run.out);

    let run = cli(&data, &["history"]);
    assert_eq!(run.code, 0);
    assert!(
        run.out.contains("paused"),
        "the table shows the status text: {}",
        run.out
    );

    // Deleting it still works (through the store, as the app does).
    let mut store = HistoryStore::open(&data).unwrap();
    store.delete(&paused_id).unwrap();
    let run = cli(&data, &["compact"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(
        run.out.contains("1 line from another version kept"),
        "{}",
        run.out
    );
    let after = fs::read_to_string(data.join("history.jsonl")).unwrap();
    assert_eq!(after, format!("{unreadable}\n"));
}

#[test]
fn a_folder_or_device_where_the_history_should_be_is_named_in_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir_all(data.join("history.jsonl")).unwrap();
    let run = cli(&data, &["submit", "--prompt", "x"]);
    assert_eq!(run.code, 1);
    assert!(
        run.err
            .contains("history.jsonl: this is a folder, not a history file"),
        "{}",
        run.err
    );
    assert!(!data.join("history.jsonl").join("history.jsonl").exists());

    #[cfg(unix)]
    {
        let data = tmp.path().join("data2");
        fs::create_dir_all(&data).unwrap();
        std::os::unix::fs::symlink("/dev/null", data.join("history.jsonl")).unwrap();
        for args in [&["history"][..], &["verify"], &["submit", "--prompt", "x"]] {
            let run = cli(&data, args);
            assert_eq!(run.code, 1, "{args:?}");
            assert!(
                run.err.contains("a link to /dev/null (a device)"),
                "{args:?}: {}",
                run.err
            );
            assert!(!run.err.contains("os error 22"), "{}", run.err);
        }
    }
}

#[test]
fn negative_numbers_get_a_range_message_not_unexpected_argument() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for (flag, want) in [
        ("--cfg", "not between 0 and 100"),
        ("--steps", "-1"),
        ("--width", "-1"),
    ] {
        let run = cli(&data, &["submit", "--prompt", "x", flag, "-1"]);
        assert_eq!(run.code, 2, "{flag}");
        assert!(run.err.contains(want), "{flag}: {}", run.err);
        assert!(
            !run.err.contains("unexpected argument"),
            "{flag}: {}",
            run.err
        );
    }
    assert!(!data.exists());
}

#[test]
fn a_full_disk_with_a_torn_tail_says_the_line_stays_and_nothing_else() {
    let Some(fs_) = TmpFs::mount("256k") else {
        return;
    };
    let data = fs_.dir.join("data");
    let rs = [manual("one"), manual("two")];
    let torn = &manual("torn").to_json_line()[..60];
    // Blank lines (harmless) make the file end exactly at a page boundary, so that any write
    // to it needs a new page of the full file system.
    let body: usize = rs.iter().map(|r| r.to_json_line().len() + 1).sum();
    let pad = (4096 - (body + torn.len()) % 4096) % 4096;
    write_history(
        &data.join("history.jsonl"),
        &rs,
        &format!("{}{torn}", "\n".repeat(pad)),
    );
    fs_.fill();
    let before = fs::read(data.join("history.jsonl")).unwrap();

    let run = cli(&data, &["submit", "--prompt", "no room"]);
    assert_eq!(run.code, 1);
    assert!(run.err.contains("disk is full"), "{}", run.err);
    assert!(!run.err.contains("copied to"), "{}", run.err);
    assert_eq!(fs::read(data.join("history.jsonl")).unwrap(), before);

    // The library's report: the torn line is listed as not quarantined, with one warning
    // that says it stays, and no claim that it was copied.
    let store = HistoryStore::open(&data).unwrap();
    let report = store.load_report();
    assert_eq!(report.not_quarantined, vec![3 + pad], "{report:?}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("stays in the history")),
        "{report:?}"
    );
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| w.contains("copied to quarantine")),
        "{report:?}"
    );
    assert_eq!(store.records(), &rs);

    let run = cli(&data, &["verify"]);
    assert_eq!(run.code, 1);
    assert!(!run.out.contains("copied to quarantine"), "{}", run.out);
    assert_eq!(fs::read(data.join("history.jsonl")).unwrap(), before);
}

#[test]
fn a_read_only_disk_reads_fine_and_writes_say_read_only() {
    let Some(fs_) = TmpFs::mount("1m") else {
        return;
    };
    let data = fs_.dir.join("data");
    let rs = [manual("one"), manual("two")];
    write_history(&data.join("history.jsonl"), &rs, "damaged line\n");
    fs_.remount_read_only();

    let run = cli(&data, &["history"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(
        run.err.is_empty(),
        "a read says nothing about saving: {}",
        run.err
    );
    assert!(
        run.out.contains("one") && run.out.contains("two"),
        "{}",
        run.out
    );

    let run = cli(&data, &["verify"]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(!run.out.contains("copied to quarantine"), "{}", run.out);

    let run = cli(&data, &["submit", "--prompt", "refused"]);
    assert_eq!(run.code, 1);
    assert!(run.err.contains("read-only"), "{}", run.err);

    // The library, opened for writing on a read-only disk: loads, quarantines nothing, and
    // says so.
    let store = HistoryStore::open(&data).unwrap();
    assert!(store.is_read_only());
    assert_eq!(store.load_report().not_quarantined, vec![3]);
    assert!(
        store.load_report().warnings[0].contains("stay in the history")
            || store.load_report().warnings[0].contains("stays in the history"),
        "{:?}",
        store.load_report()
    );
}

/// Back-to-back compactions in other processes must not starve writers: every submit (new
/// processes, as the CLI does) and every append of a long-lived store (as the app does) lands.
#[test]
fn writers_get_their_turn_between_back_to_back_compactions() {
    let bin = env!("CARGO_BIN_EXE_promptdesk");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let history = data.join("history.jsonl");
    write_history(&history, &[manual("seed")], "");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));

    // Three compaction loops, back to back.
    let compactors: Vec<_> = (0..3)
        .map(|_| {
            let stop = stop.clone();
            let data = data.clone();
            std::thread::spawn(move || {
                let mut runs = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let out = Command::new(bin)
                        .arg("--data-dir")
                        .arg(&data)
                        .arg("compact")
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    runs += 1;
                }
                runs
            })
        })
        .collect();

    // A long-lived store appending in this process (the app's path)...
    let long_lived = {
        let history = history.clone();
        std::thread::spawn(move || {
            let mut store = HistoryStore::open(&history).unwrap();
            let mut ids = Vec::new();
            for i in 0..40 {
                let r = manual(&format!("long-lived {i}"));
                store
                    .append(&r)
                    .unwrap_or_else(|e| panic!("append {i}: {e}"));
                ids.push(r.job_id);
            }
            ids
        })
    };
    // ...and CLI submits from three threads.
    let submitters: Vec<_> = (0..3)
        .map(|t| {
            let data = data.clone();
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..40 {
                    let out = Command::new(bin)
                        .arg("--data-dir")
                        .arg(&data)
                        .args(["submit", "--prompt", &format!("submit {t}-{i}")])
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "submit {t}-{i}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    ids.push(String::from_utf8(out.stdout).unwrap().trim().to_owned());
                }
                ids
            })
        })
        .collect();

    let mut ids = long_lived.join().unwrap();
    for s in submitters {
        ids.extend(s.join().unwrap());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let compactions: u32 = compactors.into_iter().map(|c| c.join().unwrap()).sum();
    assert!(compactions > 0);
    let store = HistoryStore::open(&history).unwrap();
    assert_eq!(
        store.len(),
        1 + 160,
        "every acknowledged job is in the history"
    );
    for id in &ids {
        assert!(store.get(id).is_some(), "{id} lost");
    }
}

#[cfg(unix)]
#[test]
fn the_data_folder_and_history_the_cli_creates_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let tmp = tempfile::tempdir().unwrap();
    // Starting the app first installs the sample packs into the data folder.
    let data = tmp.path().join("first-start");
    let argv: Vec<OsString> = vec![
        "promptdesk".into(),
        "--data-dir".into(),
        data.clone().into(),
    ];
    let outcome = run_from(argv, &mut Vec::new(), &mut Vec::new());
    assert!(matches!(outcome, Outcome::Gui { .. }));
    assert_eq!(mode(&data), 0o700);
    // A first submit creates the folder and the history.
    let data = tmp.path().join("first-submit");
    let run = cli(&data, &["submit", "--prompt", "private"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("history.jsonl")), 0o600);
}

/// The app's kind of store (long-lived, holding the whole history) must also get its turn
/// when compactions of a large history run back to back in other processes: it locks the new
/// file before reading it, so the next compaction cannot replace it meanwhile.
#[test]
fn a_long_lived_store_gets_its_turn_with_a_large_history_being_compacted() {
    let bin = env!("CARGO_BIN_EXE_promptdesk");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let history = data.join("history.jsonl");
    // About 30 MB: reading it takes longer than the gap between two compactions.
    let seed: Vec<JobRecord> = (0..40_000)
        .map(|i| {
            manual(&format!(
                "seed job {i}: a harbour at dusk, boats, lanterns, mist"
            ))
        })
        .collect();
    write_history(&history, &seed, "");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let compactors: Vec<_> = (0..3)
        .map(|_| {
            let (stop, data) = (stop.clone(), data.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let out = Command::new(bin)
                        .arg("--data-dir")
                        .arg(&data)
                        .arg("compact")
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    // Let the compaction loops get going.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = Command::new(bin)
        .arg("--data-dir")
        .arg(&data)
        .args(["debug-append-loop", "--count", "10"])
        .output()
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in compactors {
        c.join().unwrap();
    }
    assert!(
        out.status.success(),
        "the long-lived store was starved: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), 10);
    let store = HistoryStore::open(&history).unwrap();
    assert_eq!(store.len(), 40_010);
    for id in &ids {
        assert!(store.get(id).is_some(), "{id} lost");
    }
}
