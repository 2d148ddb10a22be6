//! Packs folders with hostile entries (issue 8): file names that are not UTF-8 or hold control
//! characters, and entries that are not regular files (a FIFO, a symbolic link loop, links to
//! /dev/zero and /dev/urandom, a dangling link, a folder or a socket named like a pack file).
//! Each is reported by name with its reason, nothing hangs, the good packs still load, and the
//! CLI and the GUI show every name on one line.
//!
//! Scans run on a thread with a 20 s guard: a scan that opened a FIFO or read /dev/zero would
//! hang, and the guard turns that into a failure (it is not a timing assertion).

#![cfg(unix)]

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use promptdesk::app::state::{Command, Message};
use promptdesk::app::{AppConfig, PromptDeskApp};
use promptdesk::packs::{EntryKind, NotAFile};
use promptdesk::{DiscoveredPacks, PackErrorKind, discover_packs, load_pack};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};
use std::sync::mpsc;
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(20);

/// Runs `work` on a thread; panics if it has not returned within [`GUARD`].
fn guarded<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    rx.recv_timeout(GUARD)
        .unwrap_or_else(|_| panic!("{what} did not return within {GUARD:?} (it hangs)"))
}

fn discover_guarded(dir: &Path) -> DiscoveredPacks {
    let dir = dir.to_path_buf();
    guarded("discover_packs", move || discover_packs(&dir))
}

/// Runs the real binary with `--data-dir` and `--packs-dir`, under the hang guard.
fn promptdesk(data: &Path, packs: &Path, args: &[&str]) -> Output {
    let mut cmd = Process::new(env!("CARGO_BIN_EXE_promptdesk"));
    cmd.arg("--data-dir")
        .arg(data)
        .arg("--packs-dir")
        .arg(packs)
        .args(args)
        .env_remove("PROMPTDESK_DATA_DIR");
    guarded("promptdesk", move || cmd.output().unwrap())
}

fn mkfifo(path: &Path) {
    let status = Process::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

const GOOD_TXT: &str = "a lighthouse at dawn\n\nold stone quay at night\n";

// ------------------------------------------------------------ entries that are not files

/// A packs folder with one good pack, a link to it, and one of each hostile entry.
fn hostile_folder() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(d.join("Good.txt"), GOOD_TXT).unwrap();
    symlink("Good.txt", d.join("Linked.txt")).unwrap();
    mkfifo(&d.join("x.txt"));
    symlink("loop.txt", d.join("loop.txt")).unwrap();
    symlink("a.json", d.join("b.json")).unwrap();
    symlink("b.json", d.join("a.json")).unwrap();
    symlink("/dev/zero", d.join("zero.txt")).unwrap();
    symlink("/dev/urandom", d.join("random.tsv")).unwrap();
    symlink("missing.txt", d.join("dangling.txt")).unwrap();
    fs::create_dir(d.join("foo.txt")).unwrap();
    std::os::unix::net::UnixListener::bind(d.join("socket.csv")).unwrap();
    tmp
}

/// Each hostile entry of [`hostile_folder`], with its expected error kind and reason.
fn expected_reasons() -> Vec<(&'static str, PackErrorKind, &'static str)> {
    let nf = PackErrorKind::NotAFile;
    vec![
        (
            "a.json",
            nf(NotAFile::SymlinkLoop),
            "is a symbolic link loop",
        ),
        (
            "b.json",
            nf(NotAFile::SymlinkLoop),
            "is a symbolic link loop",
        ),
        (
            "dangling.txt",
            nf(NotAFile::DanglingLink {
                target: "missing.txt".into(),
            }),
            "is a dangling symbolic link (target missing.txt does not exist)",
        ),
        (
            "foo.txt",
            nf(NotAFile::Is(EntryKind::Folder)),
            "is a folder, not a file",
        ),
        (
            "loop.txt",
            nf(NotAFile::SymlinkLoop),
            "is a symbolic link loop",
        ),
        (
            "random.tsv",
            nf(NotAFile::PointsTo {
                kind: EntryKind::Device,
                target: "/dev/urandom".into(),
            }),
            "points to a device (/dev/urandom), not a file",
        ),
        (
            "socket.csv",
            nf(NotAFile::Is(EntryKind::Socket)),
            "is a socket, not a file",
        ),
        (
            "x.txt",
            nf(NotAFile::Is(EntryKind::Fifo)),
            "is a FIFO (named pipe), not a file",
        ),
        (
            "zero.txt",
            nf(NotAFile::PointsTo {
                kind: EntryKind::Device,
                target: "/dev/zero".into(),
            }),
            "points to a device (/dev/zero), not a file",
        ),
    ]
}

fn file_name(path: Option<&PathBuf>) -> String {
    path.and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn each_hostile_entry_is_an_error_naming_it_and_the_scan_returns() {
    let tmp = hostile_folder();
    let found = discover_guarded(tmp.path());

    let ids: Vec<&str> = found.packs.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        ["Good", "Linked"],
        "the good pack and the link to it load"
    );
    assert_eq!(found.packs[1].keys(), ["1", "2"]);
    assert_eq!(found.packs[1].prompts[0].positive, "a lighthouse at dawn");

    let got: Vec<(String, PackErrorKind, String)> = found
        .errors
        .iter()
        .map(|e| (file_name(e.path.as_ref()), e.kind.clone(), e.to_string()))
        .collect();
    let expected = expected_reasons();
    assert_eq!(
        got.iter()
            .map(|(f, k, _)| (f.as_str(), k))
            .collect::<Vec<_>>(),
        expected.iter().map(|(f, k, _)| (*f, k)).collect::<Vec<_>>()
    );
    for ((name, _, message), (_, _, reason)) in got.iter().zip(&expected) {
        let path = tmp.path().join(name);
        assert_eq!(message, &format!("{}: {reason}", path.display()));
    }
}

#[test]
fn load_pack_on_a_hostile_entry_is_a_clear_error_not_a_hang() {
    let tmp = hostile_folder();
    for (name, kind, _) in expected_reasons() {
        let path = tmp.path().join(name);
        let err =
            guarded("load_pack", move || load_pack(&path)).expect_err("a hostile entry is no pack");
        assert_eq!(err.kind, kind, "{name}: {err}");
        assert_eq!(file_name(err.path.as_ref()), name);
    }
    // A link to a regular pack file keeps working.
    let linked = tmp.path().join("Linked.txt");
    let pack = guarded("load_pack", move || load_pack(&linked)).unwrap();
    assert_eq!(pack.id, "Linked");
    assert_eq!(pack.keys(), ["1", "2"]);
}

#[test]
fn a_hostile_companion_does_not_hide_its_good_pack() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("Harbour.txt"), GOOD_TXT).unwrap();
    mkfifo(&tmp.path().join("Harbour.json"));
    let found = discover_guarded(tmp.path());
    assert_eq!(found.packs.len(), 1);
    assert_eq!(found.packs[0].keys(), ["1", "2"]);
    assert_eq!(found.errors.len(), 1);
    assert_eq!(
        found.errors[0].kind,
        PackErrorKind::NotAFile(NotAFile::Is(EntryKind::Fifo))
    );
    let txt = tmp.path().join("Harbour.txt");
    let (pack, errors) = guarded("load_pack_reporting", move || {
        promptdesk::packs::load_pack_reporting(&txt)
    });
    assert!(pack.is_some());
    assert_eq!(errors, found.errors);
}

#[test]
fn the_cli_lists_each_hostile_entry_with_its_reason() {
    let tmp = hostile_folder();
    let data = tempfile::tempdir().unwrap();
    let out = promptdesk(data.path(), tmp.path(), &["packs"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    let bad: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("bad file: "))
        .collect();
    let expected = expected_reasons();
    assert_eq!(bad.len(), expected.len(), "{stdout}");
    for (line, (name, _, reason)) in bad.iter().zip(&expected) {
        assert!(
            line.ends_with(&format!("/{name}: {reason}")),
            "{line:?} vs {name}: {reason}"
        );
    }
    assert!(
        stdout.contains("2 packs in ") && stdout.contains("9 bad files could not be read"),
        "{stdout}"
    );

    let out = promptdesk(data.path(), tmp.path(), &["packs", "--json"]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), expected.len());
    assert_eq!(errors[7]["error"], "is a FIFO (named pipe), not a file");
    assert!(errors[7]["file"].as_str().unwrap().ends_with("/x.txt"));
}

// ------------------------------------------------------------ names that are not UTF-8

#[test]
fn packs_json_survives_file_and_folder_names_that_are_not_utf8() {
    let tmp = tempfile::tempdir().unwrap();
    // The packs folder's own name is not UTF-8 either.
    let packs = tmp.path().join(OsStr::from_bytes(b"packs \xfe"));
    fs::create_dir(&packs).unwrap();
    fs::write(packs.join("Good.txt"), GOOD_TXT).unwrap();
    fs::write(packs.join(OsStr::from_bytes(b"caf\xe9.txt")), GOOD_TXT).unwrap();
    fs::write(packs.join(OsStr::from_bytes(b"bad\xff.tsv")), "").unwrap();
    let data = tmp.path().join("data");

    let out = promptdesk(&data, &packs, &["packs", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("packs --json prints valid JSON");

    let raw = |path: &Path| serde_json::json!(path.as_os_str().as_bytes());
    assert_eq!(doc["packs_dir"], packs.to_string_lossy().as_ref());
    assert_eq!(doc["packs_dir_bytes"], raw(&packs));

    let listed = doc["packs"].as_array().unwrap();
    let ids: Vec<&str> = listed.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["caf\u{fffd}", "Good"]);
    let cafe = &listed[0];
    let cafe_path = packs.join(OsStr::from_bytes(b"caf\xe9.txt"));
    assert_eq!(
        cafe["files"],
        serde_json::json!([cafe_path.to_string_lossy()])
    );
    assert_eq!(cafe["files_bytes"], serde_json::json!([raw(&cafe_path)]));
    assert_eq!(cafe["keys"], serde_json::json!(["1", "2"]));
    // A path of the folder that is not UTF-8: "files_bytes" has a raw form for every path
    // that needs one, so Good's file gets one too.
    assert_eq!(
        listed[1]["files_bytes"],
        serde_json::json!([raw(&packs.join("Good.txt"))])
    );

    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    let bad_path = packs.join(OsStr::from_bytes(b"bad\xff.tsv"));
    assert_eq!(errors[0]["file"], bad_path.to_string_lossy().as_ref());
    assert_eq!(errors[0]["file_bytes"], raw(&bad_path));
    assert_eq!(errors[0]["error"], "the file is empty");

    // The table is fine too.
    let out = promptdesk(&data, &packs, &["packs"]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("caf\u{fffd}"), "{table}");
    assert!(table.contains("bad file: "), "{table}");
}

#[test]
fn packs_json_with_utf8_paths_has_no_raw_forms() {
    let tmp = tempfile::tempdir().unwrap();
    let packs = tmp.path().join("packs");
    fs::create_dir(&packs).unwrap();
    fs::write(packs.join("Good.txt"), GOOD_TXT).unwrap();
    fs::write(packs.join("Empty.tsv"), "").unwrap();
    let out = promptdesk(&tmp.path().join("data"), &packs, &["packs", "--json"]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = doc.to_string();
    assert!(!text.contains("_bytes"), "{text}");
}

// ------------------------------------------------------------ control characters in ids

/// A packs folder whose pack ids hold a newline, a tab and an ESC, plus a broken file whose
/// name holds a newline.
fn control_char_folder() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["two\nlines.txt", "tab\there.txt", "red\u{1b}[31m.txt"] {
        fs::write(tmp.path().join(name), GOOD_TXT).unwrap();
    }
    fs::write(tmp.path().join("broken\nfile.json"), "{").unwrap();
    tmp
}

#[test]
fn control_characters_in_pack_ids_are_escaped_in_the_packs_table() {
    let tmp = control_char_folder();
    let data = tempfile::tempdir().unwrap();
    let out = promptdesk(data.path(), tmp.path(), &["packs"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    // Header, one line per pack, one per bad file, the summary.
    assert_eq!(lines.len(), 6, "{stdout}");
    assert!(lines[0].starts_with("ID"), "{stdout}");
    assert!(lines[1].starts_with("red\\u{1b}[31m  "), "{stdout}");
    assert!(lines[2].starts_with("tab\\there  "), "{stdout}");
    assert!(lines[3].starts_with("two\\nlines  "), "{stdout}");
    for line in &lines[1..4] {
        assert!(line.contains(" txt ") && line.ends_with("1, 2"), "{line:?}");
    }
    assert!(
        lines[4].starts_with("bad file: ") && lines[4].contains("broken\\nfile.json:"),
        "{stdout}"
    );
    assert!(lines[5].starts_with("3 packs in "), "{stdout}");
    assert!(
        !stdout.contains('\t') && !stdout.contains('\u{1b}'),
        "{stdout:?}"
    );

    // The JSON keeps the real ids (JSON escapes them itself).
    let out = promptdesk(data.path(), tmp.path(), &["packs", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = doc["packs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["red\u{1b}[31m", "tab\there", "two\nlines"]);
}

// ------------------------------------------------------------ the GUI

fn harness(data_dir: PathBuf, packs_dir: PathBuf) -> Harness<'static, PromptDeskApp> {
    let config = AppConfig {
        data_dir,
        packs_dir,
        restore_packs_dir: false,
    };
    let mut harness = Harness::builder()
        // Background work (pack scan, queries, the history writer) finishing during run() asks for
        // a few more frames; do not fail for that on a slow machine.
        .with_max_steps(64)
        .with_size([1400.0, 950.0])
        .build_eframe(move |cc| PromptDeskApp::new(cc, config));
    settle(&mut harness);
    harness
}

/// Steps frames until background work (pack scan, history, imports) is done.
fn settle(harness: &mut Harness<'static, PromptDeskApp>) {
    let deadline = std::time::Instant::now() + GUARD;
    loop {
        harness.step();
        if !harness.state().state.is_busy() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the app never finished its background work"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.run();
}

#[test]
fn the_gui_pack_list_shows_escaped_ids_and_selects_the_real_one() {
    let tmp = control_char_folder();
    let data = tempfile::tempdir().unwrap();
    let mut harness = harness(data.path().to_path_buf(), tmp.path().to_path_buf());
    assert_eq!(harness.state().state.packs.len(), 3);
    harness
        .get_by_label_contains("two\\nlines   2 prompts")
        .click();
    harness.run();
    assert_eq!(
        harness.state().state.selected_pack.as_deref(),
        Some("two\nlines")
    );
    harness.get_by_label_contains("tab\\there   2 prompts");
    harness.get_by_label_contains("red\\u{1b}[31m   2 prompts");
    // The bad file's entry in the error list, escaped too.
    harness.get_by_label_contains("⚠ broken\\nfile.json");
}

#[test]
fn the_gui_lists_hostile_entries_as_errors() {
    let tmp = hostile_folder();
    let data = tempfile::tempdir().unwrap();
    let harness = harness(data.path().to_path_buf(), tmp.path().to_path_buf());
    let state = &harness.state().state;
    assert_eq!(state.packs.len(), 2);
    assert_eq!(state.pack_errors.len(), expected_reasons().len());
    harness.get_by_label_contains("⚠ 9 files could not be loaded");
    harness.get_by_label("⚠ a.json");
}

#[test]
fn the_gui_import_refuses_hostile_sources_and_copies_good_ones() {
    let src = hostile_folder();
    let packs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut harness = harness(data.path().to_path_buf(), packs.path().to_path_buf());
    let files: Vec<PathBuf> = ["Good.txt", "x.txt", "zero.txt", "foo.txt"]
        .iter()
        .map(|n| src.path().join(n))
        .collect();
    harness
        .state_mut()
        .state
        .apply(Command::ImportPackFiles(files));
    settle(&mut harness);
    let state = &harness.state().state;
    let Some(Message::Error(message)) = &state.message else {
        panic!("expected an error message, got {:?}", state.message);
    };
    assert!(message.starts_with("Imported 1 pack file; "), "{message}");
    assert!(
        message.contains("x.txt: is a FIFO (named pipe), not a file"),
        "{message}"
    );
    assert!(
        message.contains("zero.txt: points to a device (/dev/zero), not a file"),
        "{message}"
    );
    assert!(
        message.contains("foo.txt: is a folder, not a file"),
        "{message}"
    );
    assert_eq!(
        fs::read_to_string(packs.path().join("Good.txt")).unwrap(),
        GOOD_TXT
    );
    assert_eq!(state.packs.len(), 1, "the packs folder was rescanned");
    assert_eq!(state.packs[0].id, "Good");
}
