//! The queue from the window, driven headless (egui_kittest) as a user would: Run queue with
//! a scripted backend runs a submitted job to completed (the row, the details and its image
//! show it), the live progress and preview of a running job and Interrupt, the Queue view's
//! waiting jobs and Move to top (kept in the history as `queue_order`), Re-queue of a failed
//! job, the Backends window adding a backend to backends.json, and the notice when Run queue
//! is switched on with no backend.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use promptdesk::app::PromptDeskApp;
use promptdesk::app::state::{Command, Message};
use promptdesk::backends::{
    Backend, BackendConfig, BackendError, BackendKind, BackendsFile, Catalogues, GenerateRequest,
    Generated, GeneratedImage, ModelInfo, Progress, RunControl,
};
use promptdesk::runner::{INTERRUPTED_MESSAGE, queued_in_order};
use promptdesk::{HistoryStore, JobRecord, JobStatus, build_run_config_for_manual_prompt};
use promptdesk::{job_record_from_run_config, runner::QueueMove};
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod support;
use support::*;

type App = Harness<'static, PromptDeskApp>;

/// What the scripted backend does with each request.
#[derive(Clone)]
enum Script {
    /// Reports progress with a preview, then returns one 64×48 image (seed 4242).
    Succeed,
    /// Reports progress and waits until the test says go (or the runner cancels).
    WaitForGo(Arc<Mutex<Receiver<()>>>),
}

/// A backend run by the test: no server, no network.
struct Scripted {
    config: BackendConfig,
    script: Script,
}

impl Backend for Scripted {
    fn config(&self) -> &BackendConfig {
        &self.config
    }

    fn ping(&self) -> Result<(), BackendError> {
        Ok(())
    }

    fn catalogues(&self) -> Result<Catalogues, BackendError> {
        Ok(Catalogues {
            models: vec![ModelInfo {
                title: "scripted_v1.safetensors [abcd1234]".into(),
                name: "scripted_v1".into(),
                hash: Some("abcd1234".into()),
            }],
            samplers: vec!["Scripted sampler".into(), "Euler a".into()],
            schedulers: vec!["Karras".into()],
        })
    }

    fn generate(
        &self,
        _request: &GenerateRequest<'_>,
        control: &RunControl,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generated, BackendError> {
        progress(Progress {
            fraction: 0.3,
            step: 3,
            steps: 10,
            eta_secs: Some(7.0),
            preview: Some(Arc::new(solid_png(16, 12, [40, 120, 200]))),
        });
        if let Script::WaitForGo(go) = &self.script {
            let go = go.lock().unwrap();
            loop {
                if control.is_cancelled() {
                    return Err(BackendError::Interrupted {
                        backend: self.config.name.clone(),
                    });
                }
                if go.recv_timeout(Duration::from_millis(10)).is_ok() {
                    break;
                }
            }
        }
        Ok(Generated {
            images: vec![GeneratedImage {
                bytes: solid_png(64, 48, [40, 120, 200]),
                seed: 4242,
                parameters: Some("scripted parameters".into()),
            }],
            model_name: Some("scripted_v1".into()),
            model_hash: Some("abcd1234".into()),
            warnings: vec!["the scripted backend used Euler a".into()],
            ..Default::default()
        })
    }
}

/// A data folder with one backend configured (named "scripted").
fn setup_with_backend() -> Setup {
    let setup = setup();
    let mut file = BackendsFile::default();
    file.upsert(BackendConfig::new(
        "scripted",
        BackendKind::A1111,
        "http://127.0.0.1:9",
    ))
    .unwrap();
    file.save(&setup.data_dir).unwrap();
    setup
}

/// The app, its backends made by `script`.
fn scripted_harness(setup: &Setup, script: Script) -> App {
    let mut harness = harness(setup);
    harness.state_mut().state.queue_runner.connector = Arc::new(move |config, _| {
        Ok(Box::new(Scripted {
            config: config.clone(),
            script: script.clone(),
        }))
    });
    harness
}

fn records(setup: &Setup) -> Vec<JobRecord> {
    HistoryStore::open(history_file(setup))
        .unwrap()
        .records()
        .to_vec()
}

fn record(setup: &Setup, id: &str) -> JobRecord {
    records(setup)
        .into_iter()
        .find(|r| r.job_id == id)
        .expect("the job is in the history")
}

/// Appends queued manual jobs `job-0`, `job-1`, ... one minute apart (oldest first).
fn seed(setup: &Setup, prompts: &[&str]) {
    let mut store = HistoryStore::open(history_file(setup)).unwrap();
    for (i, prompt) in prompts.iter().enumerate() {
        let cfg = build_run_config_for_manual_prompt(prompt, "", None);
        let mut record = job_record_from_run_config(&format!("job-{i}"), &cfg);
        record.created_at += chrono::Duration::minutes(i as i64);
        store.append(&record).unwrap();
    }
}

fn message(harness: &App) -> String {
    match &harness.state().state.message {
        Some(Message::Info(m) | Message::Error(m)) => m.clone(),
        None => String::new(),
    }
}

/// Runs frames until `done` holds (at most about 30 s): background work (the runner, the
/// history writer) reports by itself; nothing here depends on how long it takes.
fn step_until(harness: &mut App, what: &str, mut done: impl FnMut(&mut App) -> bool) {
    for _ in 0..3000 {
        harness.step();
        if done(harness) {
            harness.step();
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("never happened: {what} (status line: {})", message(harness));
}

fn shows(harness: &App, label: &str) -> bool {
    harness.query_all_by_label(label).next().is_some()
}

fn shows_text(harness: &App, part: &str) -> bool {
    harness.query_all_by_label_contains(part).next().is_some()
}

fn submit_manual(harness: &mut App, prompt: &str) {
    harness.get_by_label("Manual").click();
    harness.run();
    harness
        .get_by_role_and_label(Role::MultilineTextInput, "Prompt")
        .focus();
    harness.run();
    harness
        .get_by_role_and_label(Role::MultilineTextInput, "Prompt")
        .type_text(prompt);
    harness.run();
    harness.get_by_label("Submit").click();
    settle(harness);
}

fn run_queue_switch(harness: &mut App) {
    harness
        .get_by_role_and_label(Role::Button, "Run queue")
        .click();
    harness.step();
}

fn open_queue_view(harness: &mut App) {
    harness.get_by_label("Queue").click();
    settle(harness);
}

/// Stops the runner as closing the window does, and waits for it.
fn stop_runner(harness: &mut App) {
    harness.state_mut().state.queue_runner.begin_stop();
    step_until(harness, "the runner stopped", |h| {
        h.state().state.queue_runner.is_stopped()
    });
}

#[test]
fn run_queue_runs_a_submitted_job_to_completed_and_the_details_show_its_image() {
    let setup = setup_with_backend();
    let mut harness = scripted_harness(&setup, Script::Succeed);
    submit_manual(&mut harness, "a lighthouse in fog");
    let job = records(&setup).pop().unwrap();
    assert_eq!(job.status, JobStatus::Queued);

    run_queue_switch(&mut harness);
    step_until(&mut harness, "the job completed", |h| {
        h.state()
            .state
            .record(&job.job_id)
            .is_some_and(|r| r.status == JobStatus::Completed)
    });
    // The history table shows it without anyone asking.
    step_until(&mut harness, "the row says completed", |h| {
        shows(h, "completed")
    });
    assert!(
        message(&harness).contains("Completed") && message(&harness).contains("1 image"),
        "{}",
        message(&harness)
    );

    let on_disk = record(&setup, &job.job_id);
    assert_eq!(on_disk.status, JobStatus::Completed);
    assert_eq!(on_disk.backend.as_deref(), Some("scripted"));
    let result = on_disk.result.clone().expect("a result");
    assert_eq!(result.images.len(), 1);
    let image = &result.images[0];
    assert_eq!((image.seed, image.width, image.height), (4242, 64, 48));
    assert!(setup.data_dir.join(&image.path).is_file());

    // The details (the job is selected since Submit) show the backend, model and image.
    harness
        .state_mut()
        .push(Command::SelectJob(Some(job.job_id.clone())));
    step_until(&mut harness, "the details show the image", |h| {
        shows(h, &image.path)
    });
    assert!(shows_text(&harness, "scripted_v1 [abcd1234]"));
    assert!(shows_text(&harness, "the scripted backend used Euler a"));
    assert!(shows_text(&harness, "seed 4242 · 64×48"));
    harness.get_by_label(&image.path).click();
    harness.step();
    harness.step();
    assert!(
        message(&harness).contains(&setup.data_dir.join(&image.path).display().to_string()),
        "{}",
        message(&harness)
    );

    // The catalogues read when the queue started feed the composer's suggestions.
    step_until(&mut harness, "the sampler suggestions", |h| {
        h.state()
            .state
            .composer
            .suggestions
            .samplers
            .first()
            .is_some_and(|s| s == "Scripted sampler")
    });
    assert_eq!(
        harness
            .state()
            .state
            .composer
            .suggestions
            .models
            .first()
            .map(String::as_str),
        Some("scripted_v1.safetensors [abcd1234]")
    );
    stop_runner(&mut harness);
}

#[test]
fn the_queue_view_shows_a_running_jobs_progress_and_preview_and_interrupt_cancels_it() {
    let setup = setup_with_backend();
    let (go, wait): (Sender<()>, Receiver<()>) = channel();
    seed(&setup, &["a slow harbour"]);
    let mut harness = scripted_harness(&setup, Script::WaitForGo(Arc::new(Mutex::new(wait))));
    open_queue_view(&mut harness);
    run_queue_switch(&mut harness);
    step_until(&mut harness, "the progress shows", |h| {
        shows(h, "step 3/10") && shows(h, "request 1 of 1") && shows(h, "ETA 7 s")
    });
    step_until(&mut harness, "the preview shows", |h| {
        shows_text(h, "Live preview of job")
    });
    assert!(
        shows_text(&harness, "running job job-0"),
        "the backend's state"
    );

    harness.get_by_label("Interrupt").click();
    step_until(&mut harness, "the job ended", |h| {
        h.state()
            .state
            .record("job-0")
            .is_some_and(|r| r.status == JobStatus::Cancelled)
    });
    drop(go);
    assert_eq!(record(&setup, "job-0").status, JobStatus::Cancelled);
    // No running job is left, and with it its preview texture.
    step_until(&mut harness, "the preview is gone", |h| {
        !shows_text(h, "Live preview of job")
    });
    // The runner's own "finished" news may come a frame after the history shows the job
    // cancelled (two threads report them).
    step_until(&mut harness, "no running job is left", |h| {
        h.state().state.queue_runner.status.running.is_empty()
    });
    stop_runner(&mut harness);
}

#[test]
fn the_queue_view_lists_waiting_jobs_and_move_to_top_reorders_them_for_good() {
    let setup = setup();
    seed(
        &setup,
        &["first harbour", "second harbour", "third harbour"],
    );
    let mut harness = harness(&setup);
    open_queue_view(&mut harness);
    assert!(shows(&harness, "Waiting (3)"));
    let rows = |h: &App| -> Vec<String> {
        h.state()
            .state
            .queue_view
            .waiting
            .iter()
            .map(|r| r.job_id.clone())
            .collect()
    };
    assert_eq!(rows(&harness), ["job-0", "job-1", "job-2"]);

    // The third row's Move to top (the first row's is disabled).
    let tops: Vec<_> = harness.query_all_by_label("Move to top").collect();
    assert_eq!(tops.len(), 3);
    tops[2].click();
    settle(&mut harness);
    assert_eq!(rows(&harness), ["job-2", "job-0", "job-1"]);
    assert!(
        message(&harness).contains("Moved job job-2"),
        "{}",
        message(&harness)
    );

    // On disk: job-2 has a queue_order ahead of the others, for every runner and the CLI.
    let on_disk = records(&setup);
    let order: Vec<&str> = queued_in_order(&on_disk)
        .into_iter()
        .map(|r| r.job_id.as_str())
        .collect();
    assert_eq!(order, ["job-2", "job-0", "job-1"]);
    assert!(record(&setup, "job-2").queue_order.is_some());

    // Move down, through the same command the buttons push.
    harness
        .state_mut()
        .push(Command::MoveInQueue("job-2".into(), QueueMove::Down));
    settle(&mut harness);
    assert_eq!(rows(&harness), ["job-0", "job-2", "job-1"]);

    // Cancel from the queue: the job leaves it.
    let cancels: Vec<_> = harness.query_all_by_label("Cancel").collect();
    cancels[0].click();
    settle(&mut harness);
    assert_eq!(rows(&harness), ["job-2", "job-1"]);
    assert_eq!(record(&setup, "job-0").status, JobStatus::Cancelled);
}

#[test]
fn re_queue_puts_a_failed_job_back_at_the_end_of_the_queue() {
    let setup = setup();
    seed(&setup, &["a crashed run", "a waiting run"]);
    {
        let mut store = HistoryStore::open(history_file(&setup)).unwrap();
        let mut failed = store.get("job-0").unwrap().clone();
        failed.status = JobStatus::Failed;
        failed.error_message = Some(INTERRUPTED_MESSAGE.into());
        failed.backend = Some("forge".into());
        store.update(&failed).unwrap();
    }
    let mut harness = harness(&setup);
    harness
        .state_mut()
        .push(Command::SelectJob(Some("job-0".into())));
    settle(&mut harness);
    assert!(shows_text(&harness, INTERRUPTED_MESSAGE));
    harness.get_by_label("Re-queue").click();
    settle(&mut harness);
    assert!(
        message(&harness).contains("queued again"),
        "{}",
        message(&harness)
    );
    let again = record(&setup, "job-0");
    assert_eq!(again.status, JobStatus::Queued);
    assert_eq!((again.error_message, again.backend), (None, None));
    let on_disk = records(&setup);
    let order: Vec<&str> = queued_in_order(&on_disk)
        .into_iter()
        .map(|r| r.job_id.as_str())
        .collect();
    assert_eq!(order, ["job-1", "job-0"], "at the end of the queue");
    assert!(
        harness.query_by_label("Re-queue").is_none(),
        "a queued job offers no Re-queue"
    );

    // The Queue view lists failed jobs with their error and Re-queue too.
    {
        let mut store = HistoryStore::open(history_file(&setup)).unwrap();
        let mut failed = store.get("job-1").unwrap().clone();
        failed.status = JobStatus::Failed;
        failed.error_message = Some("forge: out of memory: CUDA".into());
        store.update(&failed).unwrap();
    }
    open_queue_view(&mut harness);
    step_until(&mut harness, "the failed job shows", |h| {
        shows_text(h, "forge: out of memory: CUDA")
    });
    harness.state_mut().push(Command::SelectJob(None));
    settle(&mut harness);
    harness.get_by_label("Re-queue").click();
    settle(&mut harness);
    assert_eq!(record(&setup, "job-1").status, JobStatus::Queued);
    assert!(shows(&harness, "Waiting (2)"));
}

fn type_into(harness: &mut App, role: Role, label: &str, text: &str) {
    harness.get_by_role_and_label(role, label).focus();
    harness.run();
    harness.get_by_role_and_label(role, label).type_text(text);
    harness.run();
}

fn backends_json(data_dir: &Path) -> BackendsFile {
    BackendsFile::load(data_dir).unwrap()
}

#[test]
fn the_backends_window_adds_a_backend_to_backends_json_and_tests_it() {
    let setup = setup();
    let mut harness = scripted_harness(&setup, Script::Succeed);
    harness.get_by_label("Run").click();
    harness.run();
    harness.get_by_label("Backends...").click();
    harness.run();
    harness.get_by_label("Add backend").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, "Name", "forge");
    harness
        .get_by_role_and_label(Role::TextInput, "URL")
        .focus();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run();
    harness
        .get_by_role_and_label(Role::TextInput, "URL")
        .type_text("127.0.0.1:7861");
    harness.run();
    type_into(&mut harness, Role::TextInput, "User", "me");
    type_into(&mut harness, Role::PasswordInput, "Password", "secret");
    harness.get_by_label("Save backend").click();
    settle(&mut harness);

    let file = backends_json(&setup.data_dir);
    let forge = file.get("forge").expect("saved");
    assert_eq!(forge.kind, BackendKind::A1111);
    assert_eq!(forge.url, "http://127.0.0.1:7861");
    assert_eq!(forge.user.as_deref(), Some("me"));
    assert_eq!(forge.password.as_deref(), Some("secret"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(BackendsFile::path(&setup.data_dir))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        message(&harness).contains("Backends saved"),
        "{}",
        message(&harness)
    );
    // The password is never shown.
    assert!(!shows_text(&harness, "secret"));

    harness.get_by_label("Test connection").click();
    settle(&mut harness);
    assert!(
        shows(&harness, "Connected: 1 model, 2 samplers, 1 scheduler."),
        "the test's counts"
    );
    assert_eq!(
        harness
            .state()
            .state
            .composer
            .suggestions
            .samplers
            .first()
            .map(String::as_str),
        Some("Scripted sampler")
    );

    harness.get_by_label("Remove").click();
    settle(&mut harness);
    assert!(backends_json(&setup.data_dir).backends.is_empty());
}

#[test]
fn a_failed_connection_test_names_the_url() {
    let setup = setup_with_backend();
    let mut harness = harness(&setup);
    harness.state_mut().state.queue_runner.connector = Arc::new(|config, _| {
        Err(BackendError::Unreachable {
            backend: config.name.clone(),
            url: config.base_url().to_owned(),
            reason: "connection refused".into(),
        })
    });
    harness.state_mut().push(Command::OpenBackends);
    settle(&mut harness);
    harness.get_by_label("Test connection").click();
    settle(&mut harness);
    assert!(shows_text(
        &harness,
        "scripted: cannot reach http://127.0.0.1:9: connection refused"
    ));
}

#[test]
fn run_queue_with_no_backend_says_so_and_offers_the_backends_window() {
    let setup = setup();
    let mut harness = harness(&setup);
    run_queue_switch(&mut harness);
    settle(&mut harness);
    assert!(shows(&harness, "No backend configured"));
    assert!(
        !harness.state().state.queue_runner.status.on,
        "the switch stays off"
    );
    harness.get_by_label("Open Backends").click();
    settle(&mut harness);
    assert!(!shows(&harness, "No backend configured"));
    assert!(
        shows(&harness, "Add backend"),
        "the Backends window is open"
    );

    // The shortcut does the same.
    harness.state_mut().state.backends_window.open = false;
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    settle(&mut harness);
    assert!(shows(&harness, "No backend configured"));
    harness.get_by_label("Close").click();
    settle(&mut harness);
    assert!(!shows(&harness, "No backend configured"));
}

/// Closing the window stops the runner first (as `begin_stop` does here): a running job goes
/// back to the queue, not lost as running.
#[test]
fn stopping_the_queue_puts_a_running_job_back_in_the_queue() {
    let setup = setup_with_backend();
    let (_go, wait): (Sender<()>, Receiver<()>) = channel();
    seed(&setup, &["a harbour at closing time"]);
    let mut harness = scripted_harness(&setup, Script::WaitForGo(Arc::new(Mutex::new(wait))));
    run_queue_switch(&mut harness);
    step_until(&mut harness, "the job runs", |h| {
        h.state()
            .state
            .record("job-0")
            .is_some_and(|r| r.status == JobStatus::Running)
    });
    stop_runner(&mut harness);
    let job = record(&setup, "job-0");
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(
        (job.runner, job.backend, job.started_at),
        (None, None, None)
    );
    assert!(!harness.state().state.queue_runner.status.on);
}

/// Editing a backend keeps its password and the fields a newer version wrote; a ComfyUI
/// backend takes a workflow from `workflows/`.
#[test]
fn editing_a_backend_keeps_what_the_form_does_not_show() {
    let setup = setup();
    std::fs::write(
        BackendsFile::path(&setup.data_dir),
        r#"{"backends":[{"name":"comfy","kind":"comfyui","url":"http://127.0.0.1:8188","password":"pw","gpu":"4090"}]}"#,
    )
    .unwrap();
    let workflows = setup.data_dir.join("workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::write(workflows.join("portrait.json"), "{}").unwrap();
    let mut harness = harness(&setup);
    harness.state_mut().push(Command::OpenBackends);
    settle(&mut harness);
    harness.get_by_label("Edit").click();
    harness.run();
    harness
        .get_by_role_and_label(Role::ComboBox, "Workflow")
        .click();
    harness.run();
    harness.get_by_label("portrait.json").click();
    harness.run();
    harness.get_by_label("Save backend").click();
    settle(&mut harness);
    let file = backends_json(&setup.data_dir);
    let comfy = file.get("comfy").unwrap();
    assert_eq!(comfy.workflow.as_deref(), Some("portrait.json"));
    assert_eq!(comfy.password.as_deref(), Some("pw"));
    assert_eq!(
        comfy.extra.get("gpu").and_then(|v| v.as_str()),
        Some("4090")
    );
}

#[test]
fn a_job_left_running_by_a_killed_promptdesk_is_failed_when_the_app_opens_and_can_be_requeued() {
    let setup = setup();
    seed(&setup, &["killed mid-run"]);
    {
        let mut store = HistoryStore::open(history_file(&setup)).unwrap();
        let mut running = store.get("job-0").unwrap().clone();
        running.status = JobStatus::Running;
        running.started_at = Some(chrono::Utc::now());
        running.backend = Some("forge".into());
        // A runner id whose lock file nobody holds: that promptdesk is gone.
        running.runner = Some("0190aaaa-dead-7000-8000-000000000000".into());
        store.update(&running).unwrap();
    }
    // No backend, Run queue off: opening the app is enough.
    let mut harness = harness(&setup);
    step_until(&mut harness, "the job to be failed", |_| {
        record(&setup, "job-0").status == JobStatus::Failed
    });
    let r = record(&setup, "job-0");
    assert_eq!(r.error_message.as_deref(), Some(INTERRUPTED_MESSAGE));
    harness
        .state_mut()
        .push(Command::SelectJob(Some("job-0".into())));
    settle(&mut harness);
    harness.get_by_label("Re-queue").click();
    settle(&mut harness);
    assert_eq!(record(&setup, "job-0").status, JobStatus::Queued);
}

#[test]
fn a_long_queue_lays_out_only_the_rows_in_sight_and_scrolls_to_the_last() {
    let setup = setup();
    let prompts: Vec<String> = (0..150).map(|i| format!("harbour study {i}")).collect();
    let prompts: Vec<&str> = prompts.iter().map(String::as_str).collect();
    seed(&setup, &prompts);
    let mut harness = harness(&setup);
    open_queue_view(&mut harness);
    assert!(shows(&harness, "Waiting (150)"));
    let laid_out = |h: &App| h.query_all_by_label("Move to top").count();
    let first = laid_out(&harness);
    assert!(
        (1..60).contains(&first),
        "{first} of 150 waiting rows laid out"
    );
    // A waiting row names its job and prompt in quotes (the table below shows the prompt
    // alone).
    assert!(!shows_text(&harness, "“harbour study 149”"));
    // Scroll to the end: the last rows are there, the first ones are not laid out any more.
    let view = harness.get_by_label("Waiting (150)").rect().center();
    harness.event(egui::Event::PointerMoved(view));
    for _ in 0..100 {
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Page,
            delta: egui::vec2(0.0, -1.0),
            phase: egui::TouchPhase::Move,
            modifiers: egui::Modifiers::NONE,
            source: egui::MouseWheelSource::Wheel,
        });
        harness.step();
        if shows_text(&harness, "“harbour study 149”") {
            break;
        }
    }
    harness.run();
    assert!(shows_text(&harness, "“harbour study 149”"));
    assert!(!shows_text(&harness, "“harbour study 0”"));
    assert!(laid_out(&harness) < 60);
}
