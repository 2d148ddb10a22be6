//! Export never destroys the history (issue 8): `export --output` naming the live history or
//! its quarantine file, by any path (direct, relative, `..`, a symlink to the file or to its
//! folder, a hard link), is refused with exit 2 and nothing written, in the CLI (the real
//! binary) and in the app; exports go through the shared atomic writer (private new files,
//! stale temp files of a crashed export removed); control characters are made visible in CSV
//! and infotext.

use promptdesk::app::state::{AppState, Command, Message, Persisted};
use promptdesk::history::{ExportFormat, HistoryStore};
use promptdesk::{
    JobRecord, PromptSource, RunConfig, RunSource, build_run_config_for_manual_prompt,
    job_record_from_run_config,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};
use std::time::{Duration, Instant, SystemTime};

const BIN: &str = env!("CARGO_BIN_EXE_promptdesk");

struct Env {
    tmp: tempfile::TempDir,
    data: PathBuf,
}

impl Env {
    /// A data folder whose history holds 3 jobs: 2 manual, 1 from a pack.
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        fs::create_dir_all(&data).unwrap();
        let env = Env { tmp, data };
        let mut store = HistoryStore::open(env.history()).unwrap();
        for i in 0..2 {
            let cfg = build_run_config_for_manual_prompt(
                &format!("a lighthouse at dawn, number {i}"),
                "blurry",
                None,
            );
            store
                .append(&job_record_from_run_config(
                    &HistoryStore::new_job_id(),
                    &cfg,
                ))
                .unwrap();
        }
        let mut pack = build_run_config_for_manual_prompt("harbour at night", "", None);
        pack.prompt_source = PromptSource::Pack;
        pack.prompt_pack_id = Some("Harbour".to_owned());
        pack.prompt_keys = vec!["1".to_owned()];
        store
            .append(&job_record_from_run_config(
                &HistoryStore::new_job_id(),
                &pack,
            ))
            .unwrap();
        env
    }

    fn history(&self) -> PathBuf {
        self.data.join("history.jsonl")
    }

    fn quarantine(&self) -> PathBuf {
        self.data.join("history.quarantine.jsonl")
    }

    /// Runs the real binary on this data folder, in `cwd`.
    fn run_in(&self, cwd: &Path, args: &[&str]) -> Output {
        Process::new(BIN)
            .arg("--data-dir")
            .arg(&self.data)
            .args(args)
            .current_dir(cwd)
            .env_remove("PROMPTDESK_DATA_DIR")
            .output()
            .expect("run promptdesk")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_in(self.tmp.path(), args)
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exports `output` in every format (and with a filter) and checks each is refused: exit 2,
/// one error line naming the output and the history file, the history byte-identical.
fn assert_refused(env: &Env, cwd: &Path, output: &str, protected: &Path) {
    let before = fs::read(protected).ok();
    let history_before = fs::read(env.history()).unwrap();
    for args in [
        vec!["--format", "jsonl", "--source", "pack"],
        vec!["--format", "csv"],
        vec!["--format", "infotext"],
    ] {
        let mut all = vec!["export", "--output", output];
        all.extend(args.iter().copied());
        let o = env.run_in(cwd, &all);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{output} {args:?}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "one stderr line: {err}");
        assert!(
            lines[0].starts_with("promptdesk: error: refusing to export to"),
            "{err}"
        );
        assert!(lines[0].contains(output), "names the output: {err}");
        let real = fs::canonicalize(protected).unwrap_or_else(|_| protected.to_path_buf());
        assert!(
            lines[0].contains(&real.display().to_string()),
            "names the history file {}: {err}",
            real.display()
        );
        assert!(String::from_utf8_lossy(&o.stdout).is_empty());
        assert_eq!(fs::read(protected).ok(), before, "{output} {args:?}");
        assert_eq!(fs::read(env.history()).unwrap(), history_before);
    }
    // The history still loads all three jobs.
    assert_eq!(HistoryStore::open(env.history()).unwrap().len(), 3);
}

#[test]
fn export_over_the_history_by_its_own_path_is_refused() {
    let env = Env::new();
    let history = env.history();
    assert_refused(&env, env.tmp.path(), history.to_str().unwrap(), &history);
    // Written another way: with `.` and `..` in it.
    let odd = env.data.join(".").join("sub-that-is-not-there/..");
    let odd = format!("{}/history.jsonl", odd.display());
    let o = env.run(&["export", "--format", "csv", "--output", &odd]);
    // `sub-that-is-not-there/..` cannot be resolved: it is not the history, and the folder
    // does not exist, so the export fails (exit 1) without touching anything.
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(HistoryStore::open(&history).unwrap().len(), 3);
    fs::create_dir_all(env.data.join("sub")).unwrap();
    let dotted = format!("{}/./sub/../history.jsonl", env.data.display());
    assert_refused(&env, env.tmp.path(), &dotted, &history);
}

#[test]
fn export_over_the_history_by_a_relative_path_is_refused() {
    let env = Env::new();
    assert_refused(&env, &env.data, "history.jsonl", &env.history());
    assert_refused(&env, &env.data, "./history.jsonl", &env.history());
    let sub = env.data.join("exports");
    fs::create_dir_all(&sub).unwrap();
    assert_refused(&env, &sub, "../history.jsonl", &env.history());
}

#[cfg(unix)]
#[test]
fn export_through_a_symlink_or_hard_link_to_the_history_is_refused() {
    let env = Env::new();
    let link = env.tmp.path().join("link.jsonl");
    std::os::unix::fs::symlink(env.history(), &link).unwrap();
    assert_refused(&env, env.tmp.path(), link.to_str().unwrap(), &env.history());
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    // A symlink to the data folder: here a rename really would replace the history.
    let dir_link = env.tmp.path().join("data-link");
    std::os::unix::fs::symlink(&env.data, &dir_link).unwrap();
    let through = dir_link.join("history.jsonl");
    assert_refused(
        &env,
        env.tmp.path(),
        through.to_str().unwrap(),
        &env.history(),
    );

    let hard = env.tmp.path().join("hard.jsonl");
    fs::hard_link(env.history(), &hard).unwrap();
    assert_refused(&env, env.tmp.path(), hard.to_str().unwrap(), &env.history());
}

#[test]
fn export_over_the_quarantine_file_is_refused() {
    let env = Env::new();
    // Whether or not it exists yet.
    let q = env.quarantine();
    assert_refused(&env, env.tmp.path(), q.to_str().unwrap(), &q);
    assert!(!q.exists());
    fs::write(&q, b"{\"torn\n").unwrap();
    assert_refused(&env, env.tmp.path(), q.to_str().unwrap(), &q);
    assert_refused(
        &env,
        &env.data,
        "history.quarantine.jsonl",
        &env.quarantine(),
    );
}

#[test]
fn a_history_that_does_not_exist_yet_is_protected_too() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("fresh");
    fs::create_dir_all(&data).unwrap();
    let history = data.join("history.jsonl");
    let o = Process::new(BIN)
        .args(["--data-dir", data.to_str().unwrap()])
        .args(["export", "--format", "csv", "--output"])
        .arg(&history)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // Opening the store creates an empty history; the export did not write into it.
    assert_eq!(fs::read(&history).unwrap_or_default(), b"");
}

#[test]
fn normal_exports_still_work_and_clean_up_after_a_crashed_one() {
    let env = Env::new();
    let out_dir = env.tmp.path().join("exports");
    fs::create_dir_all(&out_dir).unwrap();
    // Temp files a crashed export left: an old one (removed) and a fresh one (kept: it may be
    // a live writer's), plus an old one for another target (not ours to remove).
    let old = out_dir.join(".all.csv.promptdesk-0123456789abcdef0123456789abcdef.tmp");
    let fresh = out_dir.join(".all.csv.promptdesk-fedcba9876543210fedcba9876543210.tmp");
    let other = out_dir.join(".other.csv.promptdesk-0123456789abcdef0123456789abcdef.tmp");
    for (path, age) in [(&old, 3600), (&fresh, 0), (&other, 3600)] {
        fs::write(path, b"partial").unwrap();
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(age))
            .unwrap();
    }
    let csv = out_dir.join("all.csv");
    let o = env.run(&[
        "export",
        "--format",
        "csv",
        "--output",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    assert_eq!(csv::Reader::from_path(&csv).unwrap().records().count(), 3);
    assert!(!old.exists(), "the stale temp file is removed");
    assert!(fresh.exists(), "a fresh temp file is kept");
    assert!(other.exists(), "another target's temp file is kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&csv).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a new export is private");
        fs::set_permissions(&csv, fs::Permissions::from_mode(0o644)).unwrap();
        let o = env.run(&[
            "export",
            "--format",
            "csv",
            "--output",
            csv.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let mode = fs::metadata(&csv).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "a replaced export keeps its mode");
    }
    // A folder as output: exit 2.
    let o = env.run(&[
        "export",
        "--format",
        "csv",
        "--output",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a folder"), "{}", stderr(&o));
}

/// A record whose prompts and settings carry NUL, ESC, other C0 controls and DEL.
fn hostile_record() -> JobRecord {
    let mut cfg = build_run_config_for_manual_prompt(
        "red\u{1b}[31m alert\u{0} tail\u{7f}\u{7}",
        "neg\u{1b}]0;title\u{7}",
        Some(RunConfig {
            source: RunSource::Cli,
            ..RunConfig::default()
        }),
    );
    cfg.settings.model = "model\u{1b}[2J".to_owned();
    cfg.settings.sampler = "Euler\u{0}a".to_owned();
    job_record_from_run_config(&HistoryStore::new_job_id(), &cfg)
}

fn has_raw_controls(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .any(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f)
}

#[test]
fn control_characters_are_visible_in_csv_and_infotext_and_exact_in_jsonl() {
    let env = Env::new();
    let record = hostile_record();
    HistoryStore::open(env.history())
        .unwrap()
        .append(&record)
        .unwrap();
    let out = env.tmp.path();
    for (format, name) in [
        ("csv", "x.csv"),
        ("infotext", "x.txt"),
        ("jsonl", "x.jsonl"),
    ] {
        let path = out.join(name);
        let o = env.run(&[
            "export",
            "--format",
            format,
            "--output",
            path.to_str().unwrap(),
            "--search",
            "alert",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let mut bytes = fs::read(&path).unwrap();
        if format == "jsonl" {
            // JSON escapes C0 controls but not DEL; JSON Lines is left exact.
            bytes.retain(|&b| b != 0x7f);
        }
        assert!(
            !has_raw_controls(&bytes),
            "{format}: {:?}",
            String::from_utf8_lossy(&bytes)
        );
        let text = fs::read_to_string(&path).unwrap();
        if format == "jsonl" {
            let back: JobRecord = serde_json::from_str(text.trim_end()).unwrap();
            assert_eq!(back, record, "JSON Lines keeps the exact text");
        } else {
            assert!(
                text.contains("red\u{241b}[31m alert\u{2400} tail\u{2421}\u{2407}"),
                "{text}"
            );
            assert!(text.contains("neg\u{241b}]0;title\u{2407}"), "{text}");
            assert!(text.contains("model\u{241b}[2J"), "{text}");
        }
        if format != "jsonl" {
            assert!(text.contains("Euler\u{2400}a"), "{text}");
        }
    }
}

/// The app's state, with the history loaded.
fn app_state(env: &Env) -> AppState {
    let mut state = AppState::new(
        env.data.clone(),
        env.tmp.path().join("packs"),
        Persisted::default(),
    );
    let start = Instant::now();
    while state.is_busy() || state.store.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the app never loaded"
        );
        std::thread::sleep(Duration::from_millis(5));
        state.poll();
    }
    state
}

#[test]
fn the_app_refuses_to_export_over_the_history_and_writes_through_the_shared_helper() {
    let env = Env::new();
    let mut state = app_state(&env);
    assert_eq!(state.counts(), (3, 3));
    let before = fs::read(env.history()).unwrap();
    let mut targets = vec![
        env.history(),
        env.quarantine(),
        env.data.join("./history.jsonl"),
    ];
    #[cfg(unix)]
    {
        let link = env.tmp.path().join("link.jsonl");
        std::os::unix::fs::symlink(env.history(), &link).unwrap();
        targets.push(link);
    }
    for target in targets {
        for format in [
            ExportFormat::Jsonl,
            ExportFormat::Csv,
            ExportFormat::Infotext,
        ] {
            state.apply(Command::Export(target.clone(), format));
            assert!(
                state.finish_writes(Duration::from_secs(60)),
                "the history writer never answered"
            );
            match &state.message {
                Some(Message::Error(e)) => {
                    assert!(e.contains("refusing to export"), "{e}");
                    assert!(e.contains(&target.display().to_string()), "{e}");
                }
                other => panic!("{}: expected a refusal, got {other:?}", target.display()),
            }
            assert_eq!(fs::read(env.history()).unwrap(), before);
        }
    }
    assert!(!env.quarantine().exists());

    // A normal export: the shared helper's temp pattern, so an old crashed temp is cleaned.
    let out_dir = env.tmp.path().join("gui-exports");
    fs::create_dir_all(&out_dir).unwrap();
    let stale = out_dir.join(".rows.jsonl.promptdesk-0123456789abcdef0123456789abcdef.tmp");
    fs::write(&stale, b"partial").unwrap();
    fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let target = out_dir.join("rows.jsonl");
    state.apply(Command::Export(target.clone(), ExportFormat::Jsonl));
    assert!(
        state.finish_writes(Duration::from_secs(60)),
        "the history writer never answered"
    );
    assert!(
        matches!(&state.message, Some(Message::Info(m)) if m.contains("Exported 3")),
        "{:?}",
        state.message
    );
    assert_eq!(fs::read_to_string(&target).unwrap().lines().count(), 3);
    let names: Vec<String> = fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["rows.jsonl"],
        "no temp files left, the stale one removed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[cfg(unix)]
#[test]
fn the_app_export_never_writes_through_a_planted_temp_symlink() {
    // The old app export wrote `.{name}.tmp-{pid}` with File::create, following a symlink
    // planted there. The shared helper uses a random name and create_new.
    let env = Env::new();
    let mut state = app_state(&env);
    let out_dir = env.tmp.path().join("planted");
    fs::create_dir_all(&out_dir).unwrap();
    let victim = env.tmp.path().join("victim.txt");
    fs::write(&victim, b"precious").unwrap();
    let planted = out_dir.join(format!(".rows.csv.tmp-{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let target = out_dir.join("rows.csv");
    state.apply(Command::Export(target.clone(), ExportFormat::Csv));
    assert!(
        state.finish_writes(Duration::from_secs(60)),
        "the history writer never answered"
    );
    assert!(
        matches!(&state.message, Some(Message::Info(_))),
        "{:?}",
        state.message
    );
    assert_eq!(fs::read(&victim).unwrap(), b"precious");
    assert!(
        fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        csv::Reader::from_path(&target).unwrap().records().count(),
        3
    );
}
