//! The window stays responsive while another holder has the history's file lock: Submit,
//! Delete and Import (StableNew) are handed to the history writer, the frame returns to
//! drawing at once and says the change waits, and every change lands once the lock is
//! released.
//!
//! The lock is taken with `std::fs::File::lock` on a second handle: flock locks belong to an
//! open file description, so it blocks the app's own handles exactly as another process would.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use promptdesk::app::state::{Command, Message};
use promptdesk::app::writer::RequestKind;
use promptdesk::app::{AppConfig, PromptDeskApp};
use promptdesk::{
    HistoryStore, RunConfig, build_run_config_for_manual_prompt, job_record_from_run_config,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const FIXTURE_PACKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/packs");

/// The longest one frame may take while the lock is held. Generous for a debug build on a
/// loaded machine, and still below the 750 ms one write used to block the frame for (and far
/// below the store's 10 s lock timeout).
const FRAME_BOUND: Duration = Duration::from_millis(700);

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A packs folder under `dir` holding the UI fixture packs.
fn fixture_packs(dir: &Path) -> PathBuf {
    let packs = dir.join("packs");
    std::fs::create_dir_all(&packs).unwrap();
    copy_folder(Path::new(FIXTURE_PACKS), &packs);
    packs
}

/// The real app on these folders, in a 1400 x 950 window.
fn app(data: &Path, packs: &Path) -> Harness<'static, PromptDeskApp> {
    let config = AppConfig {
        data_dir: data.to_path_buf(),
        packs_dir: packs.to_path_buf(),
        restore_packs_dir: false,
    };
    Harness::builder()
        // Background work (pack scan, queries, the history writer) finishing during run() asks
        // for a few more frames; do not fail for that on a slow machine.
        .with_max_steps(64)
        .with_size([1400.0, 950.0])
        .build_eframe(move |cc| PromptDeskApp::new(cc, config))
}

fn history_file(data: &Path) -> PathBuf {
    data.join("history.jsonl")
}

fn records_on_disk(path: &Path) -> Vec<promptdesk::JobRecord> {
    HistoryStore::open(path).unwrap().records().to_vec()
}

fn seed_history(path: &Path) {
    let mut store = HistoryStore::open(path).unwrap();
    for (i, prompt) in ["alpha sunrise", "beta harbour", "gamma forest"]
        .into_iter()
        .enumerate()
    {
        let cfg = build_run_config_for_manual_prompt(prompt, "", Some(RunConfig::default()));
        let mut record = job_record_from_run_config(&format!("job-{i}"), &cfg);
        record.created_at += chrono::Duration::seconds(i as i64);
        store.append(&record).unwrap();
    }
}

/// A StableNew history with two jobs.
fn write_stablenew(path: &Path) {
    let lines: Vec<String> = (0..2)
        .map(|i| {
            serde_json::json!({
                "job_id": format!("sn-{i}"),
                "created_at": format!("2025-11-01T08:00:0{i}.000000"),
                "status": "completed",
                "payload_summary": "callable payload",
                "started_at": format!("2025-11-01T08:00:0{i}.500000"),
                "completed_at": format!("2025-11-01T08:00:1{i}.000000"),
                "error_message": null,
                "worker_id": "local",
                "run_mode": "queue",
                "result": {"config": {
                    "prompt": format!("imported lighthouse {i}"),
                    "negative_prompt": "blurry",
                    "model": "coastXL",
                    "sampler": "Euler a",
                    "width": 512, "height": 512, "steps": 20, "cfg_scale": 7.0, "seed": i,
                }},
                "prompt_source": "manual",
                "prompt_pack_id": null,
                "prompt_keys": null,
                "snapshot": null,
                "duration_ms": 9500,
            })
            .to_string()
        })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn settle(harness: &mut Harness<'static, PromptDeskApp>, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        harness.step();
        if !harness.state().state.is_busy() {
            break;
        }
        assert!(Instant::now() < deadline, "the app never finished its work");
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.run();
}

/// Runs `action` and then one `harness.run()`, and checks that drawing came back at once.
fn responsive(
    harness: &mut Harness<'static, PromptDeskApp>,
    what: &str,
    action: impl FnOnce(&mut Harness<'static, PromptDeskApp>),
) {
    let started = Instant::now();
    action(harness);
    // One frame: the click is handled and its command applied within it.
    harness.step();
    let took = started.elapsed();
    assert!(took < FRAME_BOUND, "{what}: the frame waited {took:?}");
    harness.run();
}

fn message(harness: &Harness<'static, PromptDeskApp>) -> String {
    match &harness.state().state.message {
        Some(Message::Info(m) | Message::Error(m)) => m.clone(),
        None => String::new(),
    }
}

#[test]
fn submit_delete_and_import_do_not_wait_for_another_holder_of_the_history_lock() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let packs = fixture_packs(dir.path());
    let history = history_file(&data);
    seed_history(&history);
    let stablenew = dir.path().join("job_history.jsonl");
    write_stablenew(&stablenew);

    let mut harness = app(&data, &packs);
    settle(&mut harness, Duration::from_secs(30));
    harness.get_by_label("3 records, 3 shown");

    // Compose a pack job and select a row before the lock is taken.
    harness.get_by_label_contains("harbour_scenes").click();
    harness.run();
    harness.get_by_label_contains("1: a red lighthouse").click();
    harness.run();
    harness.get_by_label("beta harbour").click();
    harness.run();
    assert_eq!(
        harness.state().state.view.selected.as_deref(),
        Some("job-1")
    );

    let holder = std::fs::File::options()
        .read(true)
        .append(true)
        .open(&history)
        .unwrap();
    holder.lock().unwrap();

    // Submit: the frame comes back, the job waits, the composer keeps its keys.
    responsive(&mut harness, "Submit", |h| h.get_by_label("Submit").click());
    let state = &harness.state().state;
    assert!(state.submit_retry_pending());
    assert_eq!(state.checked_keys, vec!["1"]);
    let text = message(&harness);
    assert!(
        text.contains("busy") && text.contains("records the job by itself"),
        "{text}"
    );

    // Delete: the same; the row stays until the delete is written.
    responsive(&mut harness, "Delete", |h| h.get_by_label("Delete").click());
    assert!(harness.state().state.write_waiting(RequestKind::Delete));
    let text = message(&harness);
    assert!(text.contains("deletes the job by itself"), "{text}");

    // Import (the menu's file dialog answers with this command).
    responsive(&mut harness, "Import", |h| {
        h.state_mut()
            .push(Command::ImportStableNew(stablenew.clone()))
    });
    assert!(harness.state().state.write_waiting(RequestKind::Import));
    let text = message(&harness);
    assert!(text.contains("imports the file by itself"), "{text}");

    // While the lock is held (past one automatic retry), every frame stays short and nothing
    // is written.
    let until = Instant::now() + Duration::from_millis(2600);
    let mut frames = 0;
    while Instant::now() < until {
        let started = Instant::now();
        harness.step();
        let took = started.elapsed();
        assert!(took < FRAME_BOUND, "frame {frames} waited {took:?}");
        frames += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(frames > 3, "only {frames} frames in 2.6 s");
    assert!(harness.state().state.is_busy());
    assert!(harness.state().state.submit_retry_pending());
    assert_eq!(records_on_disk(&history).len(), 3);
    harness.get_by_label("3 records, 3 shown");

    // Released: everything lands, in order.
    holder.unlock().unwrap();
    settle(&mut harness, Duration::from_secs(60));
    let records = records_on_disk(&history);
    let ids: Vec<&str> = records.iter().map(|r| r.job_id.as_str()).collect();
    assert!(!ids.contains(&"job-1"), "deleted: {ids:?}");
    assert!(
        ids.contains(&"sn-0") && ids.contains(&"sn-1"),
        "imported: {ids:?}"
    );
    assert_eq!(records.len(), 5, "{ids:?}");
    let submitted: Vec<_> = records
        .iter()
        .filter(|r| r.prompt_pack_id.as_deref() == Some("harbour_scenes"))
        .collect();
    assert_eq!(submitted.len(), 1, "recorded once");
    assert_eq!(submitted[0].prompt_keys, vec!["1"]);
    let text = message(&harness);
    assert!(text.contains("2 imported"), "{text}");
    let state = &harness.state().state;
    assert!(!state.submit_retry_pending());
    assert_eq!(state.counts().0, 5, "the window shows what was written");
    assert_eq!(
        state.view.last_deleted.last().map(|r| r.job_id.as_str()),
        Some("job-1"),
        "the delete can be undone"
    );
    harness.get_by_label("5 records, 5 shown");
}

/// An append does not need the history: Submit is enabled and records the job while a large
/// history is still streaming in.
#[test]
fn submit_works_while_the_history_is_still_loading() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let history = history_file(&data);
    // About 24 MB: several load steps.
    {
        let mut store = HistoryStore::open(&history).unwrap();
        let text = "a lighthouse ".repeat(2000);
        let cfg = build_run_config_for_manual_prompt(&text, "", Some(RunConfig::default()));
        let records: Vec<_> = (0..900)
            .map(|i| job_record_from_run_config(&format!("big-{i:05}"), &cfg))
            .collect();
        store.append_many(&records).unwrap();
    }
    let mut harness = app(&data, &dir.path().join("packs"));
    harness.step();
    harness.state_mut().state.composer.mode = promptdesk::PromptSource::Manual;
    harness.state_mut().state.composer.prompt = "while loading".to_owned();
    assert_eq!(
        harness.state().state.submit_blocker(),
        None,
        "Submit is not blocked by the load"
    );
    harness.state_mut().push(Command::Submit);
    harness.step();
    settle(&mut harness, Duration::from_secs(60));
    let records = records_on_disk(&history);
    assert_eq!(records.len(), 901);
    assert_eq!(records[900].first_prompt(), "while loading");
    assert_eq!(harness.state().state.counts().0, 901);
}

/// Closing the window while a submitted job still waits for a busy history asks first, and
/// closes by itself once the job is recorded: nothing the user submitted is lost on quit.
#[test]
fn closing_with_a_job_still_waiting_asks_first_and_the_job_lands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let packs = fixture_packs(dir.path());
    let history = history_file(&data);
    seed_history(&history);
    let mut harness = app(&data, &packs);
    settle(&mut harness, Duration::from_secs(30));
    harness.get_by_label_contains("harbour_scenes").click();
    harness.run();
    harness.get_by_label_contains("1: a red lighthouse").click();
    harness.run();

    let holder = std::fs::File::options()
        .read(true)
        .append(true)
        .open(&history)
        .unwrap();
    holder.lock().unwrap();
    harness.get_by_label("Submit").click();
    harness.step();
    assert_eq!(harness.state().state.writes_in_flight(), 1);

    // The user closes the window.
    harness
        .input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    harness.step();
    harness.step();
    harness.get_by_label_contains("not recorded yet");
    harness.get_by_label("Quit anyway (lose them)");

    // The lock goes; the job lands and the question goes away by itself.
    holder.unlock().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while harness.state().state.writes_in_flight() > 0 && Instant::now() < deadline {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    harness.step();
    assert_eq!(harness.state().state.writes_in_flight(), 0);
    assert!(
        harness
            .query_by_label_contains("not recorded yet")
            .is_none()
    );
    assert_eq!(
        records_on_disk(&history).len(),
        4,
        "the waiting job was recorded"
    );
}

/// Undo of a delete never overwrites a job that is live again (another process wrote it back
/// meanwhile, with a newer status): the restore is refused and the newer state stays.
#[test]
fn undo_never_overwrites_a_job_that_came_back_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let packs = dir.path().join("packs");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&packs).unwrap();
    let history = history_file(&data);
    seed_history(&history);
    let mut harness = app(&data, &packs);
    settle(&mut harness, Duration::from_secs(30));
    harness.get_by_label("beta harbour").click();
    harness.run();
    harness.get_by_label("Delete").click();
    settle(&mut harness, Duration::from_secs(30));
    assert!(
        records_on_disk(&history)
            .iter()
            .all(|r| r.job_id != "job-1")
    );

    // Another process brings job-1 back, completed.
    let mut other = HistoryStore::open(&history).unwrap();
    let mut back = records_on_disk(&history)[0].clone();
    back.job_id = "job-1".to_owned();
    back.status = promptdesk::JobStatus::Completed;
    other.restore(&back).unwrap();
    drop(other);

    harness.state_mut().push(Command::UndoDelete);
    settle(&mut harness, Duration::from_secs(30));
    let job = records_on_disk(&history)
        .into_iter()
        .find(|r| r.job_id == "job-1")
        .expect("job-1 is live");
    assert_eq!(
        job.status,
        promptdesk::JobStatus::Completed,
        "the newer state was overwritten by the undo"
    );
    let text = message(&harness);
    assert!(text.contains("already in the history"), "{text}");
}
