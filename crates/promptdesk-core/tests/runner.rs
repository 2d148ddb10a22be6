//! The runner over a real history file with scripted backends (the HTTP clients have their
//! own tests against fake servers): jobs run oldest first and are recorded line by line,
//! images are saved with their seeds, servers that are down keep jobs queued, failures are
//! kept, two backends never run a job twice, and a dead runner's job is failed at the next
//! start.

use promptdesk_core::backends::{
    Backend, BackendConfig, BackendError, BackendKind, Catalogues, GenerateRequest, Generated,
    GeneratedImage, Progress, RunControl,
};
use promptdesk_core::history::HistoryStore;
use promptdesk_core::job_record::{JobRecord, JobStatus, job_record_from_run_config};
use promptdesk_core::outputs::{png_text, sha256_hex};
use promptdesk_core::prompt_packs::build_run_config_for_manual_prompt;
use promptdesk_core::runner::{
    BackendState, INTERRUPTED_MESSAGE, Runner, RunnerEvent, RunnerLock, RunnerOptions, StoreQueue,
};
use std::collections::VecDeque;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A hand-made PNG of `w` x `h` (one grey row repeated), carrying `parameters` like A1111's.
fn png(w: u32, h: u32, parameters: &str) -> Vec<u8> {
    use promptdesk_core::outputs::push_png_chunk as chunk;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let mut text = b"parameters\0".to_vec();
    text.extend_from_slice(parameters.as_bytes());
    chunk(&mut out, b"tEXt", &text);
    let mut raw = Vec::new();
    for _ in 0..h {
        raw.push(0);
        raw.extend(std::iter::repeat_n(128u8, w as usize));
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&raw).unwrap();
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

/// What a scripted backend does for one `generate` call.
#[derive(Clone)]
enum Step {
    /// Images with these seeds.
    Images(Vec<i64>),
    /// Images with these seeds, then the request stopped (interrupted, failed mid-batch).
    Partial(Vec<i64>, BackendError),
    Fail(BackendError),
    /// Waits until cancelled, then ends interrupted.
    Hang,
}

struct Scripted {
    config: BackendConfig,
    steps: Mutex<VecDeque<Step>>,
    /// Default when the script is used up.
    otherwise: Step,
    /// Pings fail while this is above zero (counting down).
    down_pings: AtomicUsize,
    delay: Duration,
    prompts: Mutex<Vec<String>>,
    /// Holds this backend's first request until that backend has been sent one.
    wait_for: Mutex<Option<Arc<Scripted>>>,
}

impl Scripted {
    fn new(name: &str, steps: Vec<Step>, otherwise: Step) -> Arc<Scripted> {
        Arc::new(Scripted {
            config: BackendConfig::new(name, BackendKind::A1111, "http://127.0.0.1:9"),
            steps: Mutex::new(steps.into()),
            otherwise,
            down_pings: AtomicUsize::new(0),
            delay: Duration::from_millis(5),
            prompts: Mutex::new(Vec::new()),
            wait_for: Mutex::new(None),
        })
    }

    fn calls(&self) -> Vec<String> {
        self.prompts.lock().unwrap().clone()
    }
}

fn unreachable(name: &str) -> BackendError {
    BackendError::Unreachable {
        backend: name.into(),
        url: "http://127.0.0.1:9".into(),
        reason: "connection refused".into(),
    }
}

impl Backend for Scripted {
    fn config(&self) -> &BackendConfig {
        &self.config
    }
    fn ping(&self) -> Result<(), BackendError> {
        let left = self.down_pings.load(Ordering::SeqCst);
        if left > 0 {
            self.down_pings.store(left - 1, Ordering::SeqCst);
            return Err(unreachable(&self.config.name));
        }
        Ok(())
    }
    fn catalogues(&self) -> Result<Catalogues, BackendError> {
        Ok(Catalogues::default())
    }
    fn generate(
        &self,
        request: &GenerateRequest<'_>,
        control: &RunControl,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generated, BackendError> {
        self.prompts.lock().unwrap().push(request.prompt.to_owned());
        let other = self.wait_for.lock().unwrap().take();
        if let Some(other) = other {
            let start = std::time::Instant::now();
            while other.calls().is_empty() && start.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let step = self
            .steps
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| self.otherwise.clone());
        std::thread::sleep(self.delay);
        let (seeds, ended_early) = match step {
            Step::Images(seeds) => (seeds, None),
            Step::Partial(seeds, e) => (seeds, Some(e)),
            Step::Fail(e) => return Err(e),
            Step::Hang => {
                while !control.is_cancelled() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                return Err(BackendError::Interrupted {
                    backend: self.config.name.clone(),
                });
            }
        };
        {
            {
                progress(Progress {
                    fraction: 0.5,
                    step: 10,
                    steps: 20,
                    eta_secs: Some(1.0),
                    preview: None,
                });
                let s = request.settings;
                Ok(Generated {
                    images: seeds
                        .into_iter()
                        .map(|seed| GeneratedImage {
                            bytes: png(
                                s.width,
                                s.height,
                                &format!("{}\nSteps: {}, Seed: {seed}", request.prompt, s.steps),
                            ),
                            seed,
                            parameters: None,
                        })
                        .collect(),
                    model_name: Some("sd_xl_base_1.0".into()),
                    model_hash: Some("31e35c80fc".into()),
                    warnings: Vec::new(),
                    ended_early,
                })
            }
        }
    }
}

fn submit(store: &mut HistoryStore, prompt: &str) -> String {
    let mut cfg = build_run_config_for_manual_prompt(prompt, "blurry", None);
    cfg.settings.width = 8;
    cfg.settings.height = 4;
    let id = HistoryStore::new_job_id();
    store
        .append(&job_record_from_run_config(&id, &cfg))
        .unwrap();
    id
}

fn options(dir: &Path) -> RunnerOptions {
    let mut o = RunnerOptions::new(dir.to_path_buf());
    o.exit_when_idle = true;
    o.retry_min = Duration::from_millis(20);
    o.retry_max = Duration::from_millis(50);
    o.poll_interval = Duration::from_millis(10);
    o
}

/// Runs to the end; returns the events seen.
fn run_all(
    dir: &Path,
    backends: Vec<Arc<dyn Backend>>,
    options: RunnerOptions,
) -> Vec<RunnerEvent> {
    let store = HistoryStore::open(dir).unwrap();
    let (tx, rx) = channel();
    let runner = Runner::start(Arc::new(StoreQueue::new(store)), backends, options, tx).unwrap();
    let events = drain(&rx);
    runner.join();
    events
}

fn drain(rx: &Receiver<RunnerEvent>) -> Vec<RunnerEvent> {
    let mut events = Vec::new();
    while let Ok(e) = rx.recv_timeout(Duration::from_secs(60)) {
        let done = matches!(e, RunnerEvent::Done);
        events.push(e);
        if done {
            return events;
        }
    }
    panic!("the runner did not finish within 60 s; events: {events:?}");
}

fn reopen(dir: &Path) -> HistoryStore {
    HistoryStore::open(dir).unwrap()
}

/// Every line the history file holds for `job_id`, as records, in order.
fn lines_for(dir: &Path, job_id: &str) -> Vec<JobRecord> {
    std::fs::read_to_string(dir.join("history.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| JobRecord::from_json_line(l.as_bytes()).ok())
        .filter(|r| r.job_id == job_id)
        .collect()
}

#[test]
fn queued_jobs_run_oldest_first_and_each_status_change_is_a_new_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    let first = submit(&mut store, "a lighthouse at dusk");
    let second = submit(&mut store, "a harbour in fog");
    drop(store);
    let backend = Scripted::new("gpu1", vec![], Step::Images(vec![1001, 1002]));
    run_all(dir.path(), vec![backend.clone()], options(dir.path()));

    assert_eq!(
        backend.calls(),
        ["a lighthouse at dusk", "a harbour in fog"]
    );
    let store = reopen(dir.path());
    for id in [&first, &second] {
        let r = store.get(id).unwrap();
        assert_eq!(r.status, JobStatus::Completed, "{r:?}");
        assert_eq!(r.backend.as_deref(), Some("gpu1"));
        assert!(r.started_at.is_some() && r.completed_at.is_some() && r.duration_ms.is_some());
        let statuses: Vec<JobStatus> = lines_for(dir.path(), id).iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [JobStatus::Queued, JobStatus::Running, JobStatus::Completed]
        );
        let result = r.result.as_ref().unwrap();
        assert_eq!(result.backend, "gpu1");
        assert_eq!(result.model_name.as_deref(), Some("sd_xl_base_1.0"));
        let seeds: Vec<i64> = result.images.iter().map(|i| i.seed).collect();
        assert_eq!(seeds, [1001, 1002]);
        for image in &result.images {
            assert!(image.path.starts_with("outputs/"), "{}", image.path);
            assert!(image.path.contains(id.as_str()), "{}", image.path);
            assert_eq!((image.width, image.height), (8, 4));
            let bytes = std::fs::read(dir.path().join(&image.path)).unwrap();
            assert_eq!(sha256_hex(&bytes), image.sha256);
            let texts = png_text(&bytes).unwrap();
            let params = &texts.iter().find(|(k, _)| k == "parameters").unwrap().1;
            assert!(
                params.contains(&format!("Seed: {}", image.seed)),
                "{params}"
            );
            let link = &texts.iter().find(|(k, _)| k == "promptdesk").unwrap().1;
            assert!(link.contains(id.as_str()), "{link}");
        }
    }
}

#[test]
fn a_server_that_is_down_keeps_the_job_queued_and_it_runs_when_the_server_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    let id = submit(&mut store, "a red kite");
    drop(store);
    let backend = Scripted::new(
        "gpu1",
        vec![Step::Fail(unreachable("gpu1"))],
        Step::Images(vec![7]),
    );
    backend.down_pings.store(2, Ordering::SeqCst);
    let events = run_all(dir.path(), vec![backend.clone()], options(dir.path()));

    assert!(
        events
            .iter()
            .any(|e| matches!(e, RunnerEvent::Requeued { job_id, .. } if *job_id == id)),
        "{events:?}"
    );
    let waiting = events.iter().any(|e| {
        matches!(e, RunnerEvent::Backend { state: BackendState::Waiting { error, .. }, .. }
            if error.contains("http://127.0.0.1:9"))
    });
    assert!(
        waiting,
        "the user sees the backend waiting, with its URL: {events:?}"
    );
    let statuses: Vec<JobStatus> = lines_for(dir.path(), &id)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Completed
        ]
    );
    let back_in_queue = &lines_for(dir.path(), &id)[2];
    assert!(back_in_queue.started_at.is_none() && back_in_queue.backend.is_none());
}

#[test]
fn failures_are_kept_with_the_servers_message_and_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    let oom = submit(&mut store, "a huge poster");
    let fine = submit(&mut store, "a small icon");
    drop(store);
    let backend = Scripted::new(
        "gpu1",
        vec![Step::Fail(BackendError::OutOfMemory {
            backend: "gpu1".into(),
            message: "CUDA out of memory. Tried to allocate 20.00 GiB".into(),
        })],
        Step::Images(vec![5]),
    );
    let events = run_all(dir.path(), vec![backend.clone()], options(dir.path()));
    assert_eq!(backend.calls().len(), 2, "the failed job is not sent again");
    let store = reopen(dir.path());
    let r = store.get(&oom).unwrap();
    assert_eq!(r.status, JobStatus::Failed);
    assert!(
        r.error_message
            .as_deref()
            .unwrap()
            .contains("CUDA out of memory"),
        "{:?}",
        r.error_message
    );
    assert_eq!(store.get(&fine).unwrap().status, JobStatus::Completed);
    let finished = events
        .iter()
        .filter(|e| matches!(e, RunnerEvent::Finished { .. }))
        .count();
    assert_eq!(finished, 2);
}

#[test]
fn two_backends_share_one_queue_and_no_job_runs_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    let ids: Vec<String> = (0..12)
        .map(|i| submit(&mut store, &format!("prompt {i}")))
        .collect();
    drop(store);
    let a = Scripted::new("gpu-a", vec![], Step::Images(vec![1]));
    let b = Scripted::new("gpu-b", vec![], Step::Images(vec![2]));
    // Each holds its first job until the other has one: both must take part.
    *a.wait_for.lock().unwrap() = Some(b.clone());
    *b.wait_for.lock().unwrap() = Some(a.clone());
    run_all(dir.path(), vec![a.clone(), b.clone()], options(dir.path()));

    let mut all = a.calls();
    all.extend(b.calls());
    all.sort();
    let mut expected: Vec<String> = (0..12).map(|i| format!("prompt {i}")).collect();
    expected.sort();
    assert_eq!(all, expected, "each job was sent exactly once");
    assert!(
        !a.calls().is_empty() && !b.calls().is_empty(),
        "both backends worked"
    );
    let store = reopen(dir.path());
    for id in &ids {
        let r = store.get(id).unwrap();
        assert_eq!(r.status, JobStatus::Completed);
        let running_lines = lines_for(dir.path(), id)
            .iter()
            .filter(|l| l.status == JobStatus::Running)
            .count();
        assert_eq!(running_lines, 1, "claimed once: {id}");
    }
}

#[test]
fn two_runners_in_separate_stores_never_claim_the_same_job() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    for i in 0..10 {
        submit(&mut store, &format!("job {i}"));
    }
    drop(store);
    let a = Scripted::new("gpu-a", vec![], Step::Images(vec![1]));
    let b = Scripted::new("gpu-b", vec![], Step::Images(vec![2]));
    let (da, db) = (dir.path().to_path_buf(), dir.path().to_path_buf());
    let (oa, ob) = (options(dir.path()), options(dir.path()));
    let (aa, bb) = (a.clone(), b.clone());
    let ta = std::thread::spawn(move || run_all(&da, vec![aa], oa));
    let tb = std::thread::spawn(move || run_all(&db, vec![bb], ob));
    ta.join().unwrap();
    tb.join().unwrap();
    let mut all = a.calls();
    all.extend(b.calls());
    all.sort();
    all.dedup();
    assert_eq!(a.calls().len() + b.calls().len(), 10, "{all:?}");
    assert_eq!(all.len(), 10);
}

#[test]
fn interrupting_a_running_job_cancels_it_and_the_next_job_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    let hung = submit(&mut store, "never ends");
    let next = submit(&mut store, "next");
    drop(store);
    let backend = Scripted::new("gpu1", vec![Step::Hang], Step::Images(vec![3]));
    let store = reopen(dir.path());
    let (tx, rx) = channel();
    let backends: Vec<Arc<dyn Backend>> = vec![backend.clone()];
    let runner = Runner::start(
        Arc::new(StoreQueue::new(store)),
        backends,
        options(dir.path()),
        tx,
    )
    .unwrap();
    loop {
        match rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the job starts")
        {
            RunnerEvent::Started { job_id, .. } if job_id == hung => break,
            _ => {}
        }
    }
    // Interrupt once the request is at the server.
    while backend.calls().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(runner.interrupt(&hung));
    drain(&rx);
    runner.join();
    let store = reopen(dir.path());
    assert_eq!(store.get(&hung).unwrap().status, JobStatus::Cancelled);
    assert_eq!(store.get(&next).unwrap().status, JobStatus::Completed);
}

#[test]
fn a_job_left_running_by_a_dead_runner_is_failed_at_the_next_start_and_a_live_ones_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    let orphan = submit(&mut store, "orphan");
    let owned = submit(&mut store, "owned");
    let alive = RunnerLock::acquire(dir.path()).unwrap();
    for (id, runner) in [(&orphan, "0190-dead-runner"), (&owned, alive.id())] {
        let mut r = store.get(id).unwrap().clone();
        r.status = JobStatus::Running;
        r.started_at = Some(chrono::Utc::now());
        r.backend = Some("gpu1".into());
        r.runner = Some(runner.to_owned());
        store.update(&r).unwrap();
    }
    drop(store);
    let backend = Scripted::new("gpu1", vec![], Step::Images(vec![1]));
    let events = run_all(dir.path(), vec![backend.clone()], options(dir.path()));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RunnerEvent::Recovered { job_id } if *job_id == orphan))
    );
    let store = reopen(dir.path());
    let r = store.get(&orphan).unwrap();
    assert_eq!(r.status, JobStatus::Failed);
    assert_eq!(r.error_message.as_deref(), Some(INTERRUPTED_MESSAGE));
    assert_eq!(store.get(&owned).unwrap().status, JobStatus::Running);
    assert!(backend.calls().is_empty());

    // One action puts it back; the next run completes it.
    let mut store = reopen(dir.path());
    store
        .update_if(
            &orphan,
            |r| r.status == JobStatus::Failed,
            promptdesk_core::runner::retried,
        )
        .unwrap()
        .unwrap();
    drop(store);
    run_all(dir.path(), vec![backend.clone()], options(dir.path()));
    let r = reopen(dir.path()).get(&orphan).unwrap().clone();
    assert_eq!(r.status, JobStatus::Completed);
    assert_eq!(r.error_message, None);
}

#[test]
fn only_the_named_jobs_run_and_the_limit_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    let ids: Vec<String> = (0..4)
        .map(|i| submit(&mut store, &format!("p{i}")))
        .collect();
    drop(store);
    let backend = Scripted::new("gpu1", vec![], Step::Images(vec![1]));
    let mut o = options(dir.path());
    o.only_jobs = [ids[1].clone(), ids[3].clone()].into_iter().collect();
    run_all(dir.path(), vec![backend.clone()], o);
    assert_eq!(backend.calls(), ["p1", "p3"]);
    let mut o = options(dir.path());
    o.limit = Some(1);
    run_all(dir.path(), vec![backend.clone()], o);
    assert_eq!(backend.calls(), ["p1", "p3", "p0"]);
    assert_eq!(
        reopen(dir.path()).get(&ids[2]).unwrap().status,
        JobStatus::Queued
    );
}

#[test]
fn an_imported_job_with_unrecorded_settings_fails_with_a_reason_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    let mut cfg = build_run_config_for_manual_prompt("from stablenew", "", None);
    cfg.set_unknown_settings(&["sampler".to_owned(), "steps".to_owned()]);
    let id = HistoryStore::new_job_id();
    store
        .append(&job_record_from_run_config(&id, &cfg))
        .unwrap();
    drop(store);
    let backend = Scripted::new("gpu1", vec![], Step::Images(vec![1]));
    run_all(dir.path(), vec![backend.clone()], options(dir.path()));
    assert!(backend.calls().is_empty());
    let r = reopen(dir.path()).get(&id).unwrap().clone();
    assert_eq!(r.status, JobStatus::Failed);
    let e = r.error_message.unwrap();
    assert!(e.contains("sampler, steps were not recorded"), "{e}");
}

#[test]
fn a_refused_login_keeps_the_job_queued_until_the_password_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    let id = submit(&mut store, "behind a login");
    drop(store);
    let refused = BackendError::Unauthorized {
        backend: "gpu1".into(),
        url: "http://127.0.0.1:9".into(),
    };
    let backend = Scripted::new("gpu1", vec![Step::Fail(refused)], Step::Images(vec![9]));
    let events = run_all(dir.path(), vec![backend.clone()], options(dir.path()));
    let waiting = events.iter().any(|e| {
        matches!(e, RunnerEvent::Backend { state: BackendState::Waiting { error, .. }, .. }
            if error.contains("user and password"))
    });
    assert!(waiting, "{events:?}");
    let statuses: Vec<JobStatus> = lines_for(dir.path(), &id)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses.first(), Some(&JobStatus::Queued));
    assert_eq!(statuses[2], JobStatus::Queued, "not failed: {statuses:?}");
    assert_eq!(
        reopen(dir.path()).get(&id).unwrap().status,
        JobStatus::Completed
    );
}

#[test]
fn images_made_before_an_interrupt_or_a_failure_are_kept_with_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    let stopped = submit(&mut store, "stopped halfway");
    let broke = submit(&mut store, "broke halfway");
    drop(store);
    let backend = Scripted::new(
        "gpu1",
        vec![
            Step::Partial(
                vec![1, 2],
                BackendError::Interrupted {
                    backend: "gpu1".into(),
                },
            ),
            Step::Partial(
                vec![3],
                BackendError::Execution {
                    backend: "gpu1".into(),
                    message: "VAE decode failed".into(),
                },
            ),
        ],
        Step::Images(vec![9]),
    );
    run_all(dir.path(), vec![backend.clone()], options(dir.path()));
    let store = reopen(dir.path());
    let r = store.get(&stopped).unwrap();
    assert_eq!(r.status, JobStatus::Cancelled);
    let seeds: Vec<i64> = r
        .result
        .as_ref()
        .unwrap()
        .images
        .iter()
        .map(|i| i.seed)
        .collect();
    assert_eq!(seeds, [1, 2]);
    let r = store.get(&broke).unwrap();
    assert_eq!(r.status, JobStatus::Failed);
    assert!(
        r.error_message
            .as_deref()
            .unwrap()
            .contains("VAE decode failed")
    );
    assert_eq!(r.result.as_ref().unwrap().images.len(), 1);
    assert!(
        dir.path()
            .join(&r.result.as_ref().unwrap().images[0].path)
            .is_file()
    );
}

#[test]
fn stopping_the_runner_puts_the_running_job_back_in_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = reopen(dir.path());
    let id = submit(&mut store, "long job");
    drop(store);
    let backend = Scripted::new("gpu1", vec![Step::Hang], Step::Images(vec![1]));
    let (tx, rx) = channel();
    let mut o = options(dir.path());
    o.exit_when_idle = false;
    let backends: Vec<Arc<dyn Backend>> = vec![backend.clone()];
    let runner = Runner::start(
        Arc::new(StoreQueue::new(reopen(dir.path()))),
        backends,
        o,
        tx,
    )
    .unwrap();
    while backend.calls().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    runner.stop();
    drop(rx);
    let r = reopen(dir.path()).get(&id).unwrap().clone();
    assert_eq!(r.status, JobStatus::Queued);
    assert!(r.runner.is_none() && r.started_at.is_none());
}
