//! `import-stablenew` never leaves the user in the dark and never reads what it should not
//! (issue 8), with the real binary:
//!
//! * an import killed mid-write (SIGKILL) is reported by the next command (and by the app's
//!   state, for its banner), and running it again completes it with exactly the expected jobs
//!   and no more warning;
//! * a FIFO, a device or a folder is refused (exit 2) before it is opened;
//! * a file that is not StableNew's (a CSV, a promptdesk history) is refused once (exit 2),
//!   nothing written; a file with some good lines still imports those.

use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use promptdesk::app::state::{AppState, Command, Message, Persisted};
use promptdesk::app::{AppConfig, PromptDeskApp};
use promptdesk::history::{HistoryStore, interrupted_import};
use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_promptdesk");
const PAUSE_ENV: &str = "PROMPTDESK_TEST_IMPORT_PAUSE_MS";

fn promptdesk(data: &Path) -> Process {
    let mut p = Process::new(BIN);
    p.arg("--data-dir")
        .arg(data)
        .env_remove("PROMPTDESK_DATA_DIR")
        .env_remove(PAUSE_ENV);
    p
}

fn run(data: &Path, args: &[&str]) -> Output {
    promptdesk(data)
        .args(args)
        .output()
        .expect("run promptdesk")
}

/// Runs with a deadline, so a command that blocks (on a FIFO) fails the test instead of
/// hanging it.
fn run_with_deadline(data: &Path, args: &[&str], deadline: Duration) -> Output {
    let mut child = promptdesk(data)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn promptdesk");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("promptdesk {args:?} did not finish in {deadline:?} (blocked?)");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn err_text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn out_text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The job id of generated job `i`.
fn job_id(i: usize) -> String {
    format!("gen-{i:06}")
}

/// StableNew's line shape (see tests/stablenew_import.rs and its fixtures): one snapshot per
/// status change; here the final one of each job.
fn stablenew_line(i: usize) -> String {
    let base = Utc.with_ymd_and_hms(2025, 11, 1, 8, 0, 0).unwrap();
    let created = base + ChronoDuration::seconds(i as i64 * 30);
    let started = created + ChronoDuration::seconds(2);
    let completed = started + ChronoDuration::seconds(17);
    let fmt = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    let prompt = format!(
        "a lighthouse on a cliff at dusk number {i}, dramatic clouds, crashing waves, oil painting, \
         highly detailed, golden hour light, seagulls, long exposure, wide angle, 35mm film grain"
    );
    serde_json::json!({
        "job_id": job_id(i),
        "created_at": fmt(created),
        "status": "completed",
        "payload_summary": "callable payload",
        "started_at": fmt(started),
        "completed_at": fmt(completed),
        "error_message": null,
        "worker_id": "local",
        "run_mode": "queue",
        "result": {"config": {
            "prompt": prompt,
            "negative_prompt": "blurry, lowres, watermark, text",
            "model": "coastXL_v2.safetensors [a1b2c3d4e5]",
            "sampler": "DPM++ 2M Karras",
            "width": 832, "height": 1216, "steps": 28, "cfg_scale": 6.5, "seed": i,
        }},
        "prompt_source": "manual",
        "prompt_pack_id": null,
        "prompt_keys": null,
        "snapshot": null,
        "duration_ms": 17000,
    })
    .to_string()
}

/// A StableNew job_history.jsonl with `n` jobs.
fn write_stablenew(path: &Path, n: usize) {
    let mut out = std::io::BufWriter::new(fs::File::create(path).unwrap());
    for i in 0..n {
        out.write_all(stablenew_line(i).as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
}

fn markers(data: &Path) -> Vec<PathBuf> {
    fs::read_dir(data)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    name.starts_with("history.import-") && name.ends_with(".json")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A child process killed (SIGKILL) when dropped, so a failing test leaves no import behind.
struct Running(Child);

impl Running {
    /// Kills it now and waits for it.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn_import(data: &Path, file: &Path, pause_ms: Option<u64>) -> Running {
    let mut p = promptdesk(data);
    p.arg("import-stablenew")
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(ms) = pause_ms {
        p.env(PAUSE_ENV, ms.to_string());
    }
    Running(p.spawn().expect("spawn the import"))
}

/// Waits until the import's marker exists (the hook then holds it there).
fn wait_for_marker(data: &Path, child: &mut Running) {
    let start = Instant::now();
    while markers(data).is_empty() {
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "the import ended before it created its marker"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no marker appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A random fraction in [0, 1) (no rand crate here).
fn random_fraction() -> f64 {
    (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0
}

fn warning_lines(o: &Output) -> Vec<String> {
    err_text(o)
        .lines()
        .filter(|l| l.starts_with("promptdesk: warning: an import of"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn an_import_killed_mid_write_is_reported_and_running_it_again_completes_it() {
    const JOBS: usize = 20_000;
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("job_history.jsonl");
    write_stablenew(&file, JOBS);
    let file_text = fs::canonicalize(&file).unwrap().display().to_string();

    // How long a whole import takes on this machine (and that it works).
    let scratch = tmp.path().join("scratch");
    let start = Instant::now();
    let o = run(&scratch, &["import-stablenew", file.to_str().unwrap()]);
    let full = start.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    assert!(
        out_text(&o).contains(&format!("{JOBS} imported")),
        "{}",
        out_text(&o)
    );
    assert!(markers(&scratch).is_empty());

    // Kill imports after a random delay until a kill lands while the marker exists (the
    // import was writing). If the machine is so fast or slow that no kill lands, the test
    // hook holds the import after it created its marker, and the kill lands there.
    let mut landed: Option<(PathBuf, &str)> = None;
    for attempt in 0..5 {
        let data = tmp.path().join(format!("data-{attempt}"));
        let mut child = spawn_import(&data, &file, None);
        let delay = full.mul_f64(0.3 + 0.7 * random_fraction());
        std::thread::sleep(delay);
        child.kill(); // SIGKILL
        if !markers(&data).is_empty() {
            landed = Some((data, "a random kill"));
            break;
        }
    }
    let (data, how) = landed.unwrap_or_else(|| {
        let data = tmp.path().join("data-hook");
        let mut child = spawn_import(&data, &file, Some(600_000));
        wait_for_marker(&data, &mut child);
        child.kill();
        (data, "the pause hook")
    });
    eprintln!("the kill landed through {how}");
    let history = data.join("history.jsonl");
    if fs::metadata(&history).map_or(0, |m| m.len()) == 0 {
        // The kill came before the one large write began. Leave what a kill during that write
        // leaves: a byte prefix of it, cut mid-line (the scratch import wrote the same bytes:
        // the records are deterministic).
        let whole = fs::read(scratch.join("history.jsonl")).unwrap();
        let mut cut = whole.len() * 37 / 100;
        while whole[cut - 1] == b'\n' || whole[cut] == b'\n' {
            cut += 1;
        }
        fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&history)
            .unwrap()
            .write_all(&whole[..cut])
            .unwrap();
        eprintln!("the write was torn at byte {cut} of {}", whole.len());
    }

    // The next command says so, once, on stderr; its own output is as usual.
    let o = run(&data, &["history", "--limit", "1"]);
    let warnings = warning_lines(&o);
    assert_eq!(warnings.len(), 1, "{}", err_text(&o));
    let w = &warnings[0];
    assert!(
        w.contains(&format!(
            "an import of {file_text} was interrupted (started "
        )),
        "{w}"
    );
    assert!(
        w.contains(&format!(
            "run `promptdesk --data-dir {} import-stablenew {file_text}` again to complete it (jobs already imported are not duplicated)",
            data.display()
        )),
        "{w}"
    );
    let o = run(&data, &["verify"]);
    assert_eq!(warning_lines(&o).len(), 1, "{}", err_text(&o));

    // The core says it, for the app's banner.
    let found = interrupted_import(&history).expect("reported");
    assert_eq!(
        found.source.as_deref(),
        Some(fs::canonicalize(&file).unwrap().as_path())
    );
    assert_eq!(found.jobs, Some(JOBS));
    let partial = HistoryStore::open(&history).unwrap().len();
    eprintln!("{partial} of {JOBS} jobs were in the history after the kill");
    assert!(partial <= JOBS, "{partial}");

    // Running it again completes it: exactly the expected jobs, and no more warning.
    let o = run(&data, &["import-stablenew", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    assert!(warning_lines(&o).is_empty(), "{}", err_text(&o));
    let out = out_text(&o);
    assert!(
        out.contains(&format!("{} imported", JOBS - partial)),
        "{out}"
    );
    assert!(out.contains("now complete"), "{out}");
    let store = HistoryStore::open(&history).unwrap();
    assert_eq!(store.len(), JOBS);
    let ids: HashSet<String> = store.records().iter().map(|r| r.job_id.clone()).collect();
    let expected: HashSet<String> = (0..JOBS).map(job_id).collect();
    assert!(ids == expected, "the history holds exactly the file's jobs");
    assert!(markers(&data).is_empty());
    for args in [&["history", "--limit", "1"][..], &["verify"][..]] {
        let o = run(&data, args);
        assert!(warning_lines(&o).is_empty(), "{args:?}: {}", err_text(&o));
    }
    assert!(interrupted_import(&history).is_none());
}

#[test]
fn a_running_import_is_not_reported_a_killed_one_is_until_that_file_is_imported() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("job_history.jsonl");
    write_stablenew(&file, 10);
    let other = tmp.path().join("other_history.jsonl");
    fs::write(&other, stablenew_line(99) + "\n").unwrap();

    let mut child = spawn_import(&data, &file, Some(600_000));
    wait_for_marker(&data, &mut child);
    // Alive and holding its marker: nothing to report.
    let o = run(&data, &["history"]);
    assert!(warning_lines(&o).is_empty(), "{}", err_text(&o));
    assert!(interrupted_import(&data.join("history.jsonl")).is_none());
    // The marker is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&markers(&data)[0])
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    child.kill();

    // Dead: every command but the import itself reports it.
    for args in [&["history"][..], &["verify"][..], &["packs"][..]] {
        let o = run(&data, args);
        assert_eq!(warning_lines(&o).len(), 1, "{args:?}: {}", err_text(&o));
    }
    // The app's state reports it for its banner, until the app imports the file again.
    let mut state = AppState::new(data.clone(), tmp.path().join("packs"), Persisted::default());
    let start = Instant::now();
    while state.is_busy() || state.store.is_none() {
        assert!(start.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(5));
        state.poll();
    }
    assert_eq!(state.interrupted_imports().len(), 1);
    assert_eq!(
        state.interrupted_imports()[0].source.as_deref(),
        Some(fs::canonicalize(&file).unwrap().as_path())
    );

    // Importing another file completes nothing of this one.
    let o = run(&data, &["import-stablenew", other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    let o = run(&data, &["history"]);
    assert_eq!(warning_lines(&o).len(), 1, "{}", err_text(&o));

    // The app imports the same file: complete, the banner goes.
    state.apply(Command::ImportStableNew(file.clone()));
    assert!(
        state.finish_writes(Duration::from_secs(60)),
        "the history writer never answered"
    );
    assert!(
        matches!(&state.message, Some(Message::Info(m)) if m.contains("10 imported") && m.contains("now complete")),
        "{:?}",
        state.message
    );
    assert!(state.interrupted_imports().is_empty());
    let o = run(&data, &["history"]);
    assert!(warning_lines(&o).is_empty(), "{}", err_text(&o));
    assert_eq!(
        HistoryStore::open(data.join("history.jsonl"))
            .unwrap()
            .len(),
        11
    );
}

#[test]
fn an_import_where_everything_was_already_written_still_clears_the_warning() {
    // A kill after the write but before the marker was removed: the re-run adds nothing and
    // the warning goes.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("job_history.jsonl");
    write_stablenew(&file, 5);
    let mut child = spawn_import(&data, &file, Some(600_000));
    wait_for_marker(&data, &mut child);
    child.kill();
    // Someone else imports the jobs meanwhile (an older promptdesk, say), with a copy.
    let copy = tmp.path().join("copy.jsonl");
    fs::copy(&file, &copy).unwrap();
    let o = run(&data, &["import-stablenew", copy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    assert_eq!(warning_lines(&run(&data, &["history"])).len(), 1);
    let o = run(&data, &["import-stablenew", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    assert!(
        out_text(&o).contains("0 imported, 5 already"),
        "{}",
        out_text(&o)
    );
    assert!(out_text(&o).contains("now complete"), "{}", out_text(&o));
    assert!(warning_lines(&run(&data, &["history"])).is_empty());
    assert!(markers(&data).is_empty());
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_being_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fifo = tmp.path().join("history.pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let o = run_with_deadline(
        &data,
        &["import-stablenew", fifo.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(2), "{}", err_text(&o));
    assert_eq!(
        err_text(&o).trim_end(),
        format!(
            "promptdesk: error: {} is a FIFO (named pipe), not a file",
            fifo.display()
        )
    );
    // Through a symlink too.
    let link = tmp.path().join("link.jsonl");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    let o = run_with_deadline(
        &data,
        &["import-stablenew", link.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(2), "{}", err_text(&o));
    assert!(
        err_text(&o).contains("is a FIFO (named pipe), not a file"),
        "{}",
        err_text(&o)
    );
}

#[cfg(unix)]
#[test]
fn a_device_and_a_folder_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let o = run_with_deadline(
        &data,
        &["import-stablenew", "/dev/null"],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(2), "{}", err_text(&o));
    assert_eq!(
        err_text(&o).trim_end(),
        "promptdesk: error: /dev/null is a device, not a file"
    );
    let folder = tmp.path().join("a folder");
    fs::create_dir_all(&folder).unwrap();
    let o = run(&data, &["import-stablenew", folder.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", err_text(&o));
    assert_eq!(
        err_text(&o).trim_end(),
        format!(
            "promptdesk: error: {} is a folder, not a file",
            folder.display()
        )
    );
    let missing = tmp.path().join("missing.jsonl");
    let o = run(&data, &["import-stablenew", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", err_text(&o));
    assert!(err_text(&o).contains("no such file"), "{}", err_text(&o));
    assert_eq!(
        fs::read(data.join("history.jsonl")).unwrap_or_default(),
        b""
    );
}

#[test]
fn a_file_that_is_not_stablenews_is_refused_once_and_nothing_written() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let csv = tmp.path().join("jobs.csv");
    fs::write(&csv, "job_id,prompt\nj1,a cat\nj2,a dog\n").unwrap();
    let o = run(&data, &["import-stablenew", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", err_text(&o));
    assert_eq!(
        err_text(&o).trim_end(),
        format!(
            "promptdesk: error: {} is not a StableNew job history (none of its 3 lines is a StableNew job record); nothing was imported",
            csv.display()
        )
    );
    assert!(
        out_text(&o).is_empty(),
        "no skipped lines: {}",
        out_text(&o)
    );
    assert_eq!(
        fs::read(data.join("history.jsonl")).unwrap_or_default(),
        b""
    );
    let one = tmp.path().join("one.txt");
    fs::write(&one, "hello\n").unwrap();
    let o = run(&data, &["import-stablenew", one.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", err_text(&o));
    assert!(
        err_text(&o).contains("its only line is not a StableNew job record"),
        "{}",
        err_text(&o)
    );
}

#[test]
fn a_promptdesk_history_is_not_a_stablenew_history() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for prompt in ["a cat", "a dog"] {
        let o = run(&data, &["submit", "--prompt", prompt]);
        assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    }
    let history = data.join("history.jsonl");
    let o = run(&data, &["compact"]);
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    let before = fs::read(&history).unwrap();

    // Another promptdesk's history, and this one's own file.
    let other = tmp.path().join("other.jsonl");
    fs::copy(&history, &other).unwrap();
    let other_data = tmp.path().join("other-data");
    let o = run(&other_data, &["import-stablenew", other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", err_text(&o));
    let err = err_text(&o);
    assert!(
        err.contains("is not a StableNew job history (none of its 2 lines is a StableNew job record; it is a promptdesk history"),
        "{err}"
    );
    assert_eq!(
        fs::read(other_data.join("history.jsonl")).unwrap_or_default(),
        b""
    );

    let o = run(&data, &["import-stablenew", history.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", err_text(&o));
    assert!(
        err_text(&o).contains("it is a promptdesk history"),
        "{}",
        err_text(&o)
    );
    assert_eq!(fs::read(&history).unwrap(), before);
}

#[test]
fn a_file_with_some_good_lines_imports_them_and_reports_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("job_history.jsonl");
    let text = format!(
        "{}\nnot json at all\n{}\n{{\"schema_version\":1,\"job_id\":\"x\",\"config_hash\":\"0\",\"run_config\":{{}},\"created_at\":\"2025-01-01T00:00:00Z\",\"status\":\"queued\"}}\n",
        stablenew_line(1),
        stablenew_line(2)
    );
    fs::write(&file, text).unwrap();
    let o = run(&data, &["import-stablenew", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    let out = out_text(&o);
    assert!(out.contains("2 imported"), "{out}");
    assert!(out.contains("skipped 2 lines"), "{out}");
    assert!(out.contains("line 2: not valid JSON"), "{out}");
    assert!(out.contains("line 4: a promptdesk history line"), "{out}");
    assert_eq!(
        HistoryStore::open(data.join("history.jsonl"))
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn the_app_shows_a_banner_for_an_interrupted_import() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let packs = tmp.path().join("packs");
    fs::create_dir_all(&packs).unwrap();
    let file = tmp.path().join("job_history.jsonl");
    write_stablenew(&file, 3);
    let mut child = spawn_import(&data, &file, Some(600_000));
    wait_for_marker(&data, &mut child);
    child.kill();

    let config = AppConfig {
        data_dir: data.clone(),
        packs_dir: packs,
        restore_packs_dir: false,
    };
    let mut harness = Harness::builder()
        // Background work (pack scan, queries, the history writer) finishing during run() asks for
        // a few more frames; do not fail for that on a slow machine.
        .with_max_steps(64)
        .with_size([1400.0, 950.0])
        .build_eframe(move |cc| PromptDeskApp::new(cc, config));
    for _ in 0..1000 {
        harness.step();
        if !harness.state().state.is_busy() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.run();
    let source = fs::canonicalize(&file).unwrap().display().to_string();
    // One banner, naming the file and saying how to complete it (get_by_* fails otherwise).
    harness.get_by_label_contains(&format!("An import of {source} was interrupted"));
    harness.get_by_label_contains("Import the same file again (File > Import StableNew history)");
}
