//! Issue 12: "the UI must stay at full frame rate while images arrive". The real app
//! (`PromptDeskApp::new`), headless (egui_kittest, no display, no GPU), release build, with the
//! Queue view shown over a history of 5,000 generated jobs plus 600 queued manual ones, one
//! configured backend and frames drawn at about 60 a second.
//!
//! The backend is scripted in this file (no server, no network), handed to the app through
//! `queue_runner.connector` as the UI tests do. Each request it runs reports progress every
//! 20 ms, each event carrying a 128×128 JPEG latent preview (what ComfyUI and A1111 send), and
//! returns one 1024×1024 PNG of noise (about 2.9 MB, deflated fast) after 250 ms: the runner
//! saves it under `outputs/` and records the job's start and end as history lines (through the
//! app's history writer), job after job.
//!
//! Side by side in one run (the ratios are what matter on a noisy machine):
//! * `queue_frame/*` (printed): mean, p95 and max UI-thread CPU per frame and frame wall time,
//!   for (a) the queue idle (Run queue off, the runner never started), (b) the queue running
//!   with previews and images arriving, (c) the queue switched off again (runner paused,
//!   nothing arriving); for (b) also split by what the frame took in: a history change (a job
//!   started or ended), a progress event (and its preview), or nothing. The wall time is split
//!   (`/proc/thread-self/schedstat`) into CPU, waiting for a core (other processes on a busy
//!   machine) and blocked (a lock held by another thread, the disk); a probe thread reads the
//!   history store every 2 ms meanwhile and notes how long the history writer's write lock
//!   kept it waiting. For reference, the idle Compose view first (what the Queue view itself
//!   costs);
//! * `queue_frame/5600/{idle,arriving}_{cpu_ui_thread,wall}` (criterion): the same frames,
//!   paced at 60 Hz (the pacing sleep is not timed);
//! * `queue_frame/5600/parts_*` (printed): what a history change costs the UI thread, piece by
//!   piece, on the app's own store: the history table's query (run on the UI thread below
//!   20,000 records) and the Queue view's rescan of the records.
//!
//! CPU is the UI thread's (`CLOCK_THREAD_CPUTIME_ID`); work the frame hands to rayon shows in
//! the wall time, not there. Texture uploads to a GPU are not part of a headless frame: the
//! preview's texture delta (64 KiB per preview) is only handed to egui.
//!
//! Run: `cargo bench --bench queue_frame` (about 2 minutes; the printed lines are the report).

mod support;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use egui_kittest::Harness;
use promptdesk::app::state::{CentralView, Command};
use promptdesk::app::{AppConfig, PromptDeskApp};
use promptdesk::backends::{
    Backend, BackendConfig, BackendError, BackendKind, BackendsFile, Catalogues, GenerateRequest,
    Generated, GeneratedImage, ModelInfo, Progress, RunControl,
};
use promptdesk::job_record::JobStatus;
use promptdesk::{HistoryStore, build_run_config_for_manual_prompt, job_record_from_run_config};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Generated history records, and queued manual jobs added after them.
const HISTORY: u64 = 5_000;
const EXTRA_QUEUED: usize = 600;
/// A frame every 1/60 s.
const FRAME: Duration = Duration::from_micros(16_667);
/// How long each printed case runs.
const CASE: Duration = Duration::from_secs(5);
/// The scripted backend: a progress event (with a preview) every 20 ms, an image every 250 ms.
const PROGRESS_EVERY: Duration = Duration::from_millis(20);
const IMAGE_EVERY: Duration = Duration::from_millis(250);

type App = Harness<'static, PromptDeskApp>;

// ---------------------------------------------------------------------------------------------
// What the scripted backend sends.

/// A tiny xorshift generator (the images are noise).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

use promptdesk::outputs::push_png_chunk as png_chunk;

/// A `side`×`side` RGB PNG, built by hand: a gradient with 6 bits of noise per byte, deflated
/// with flate2's fast level (about 2.9 MB at 1024×1024, as a generated image's PNG is).
fn noise_png(side: u32, seed: u64) -> Vec<u8> {
    let mut noise = Noise(seed | 1);
    let mut raw = Vec::with_capacity((side * (side * 3 + 1)) as usize);
    for y in 0..side {
        raw.push(0); // filter: none
        for x in 0..side {
            let bits = noise.next();
            let base = [(x * 191 / side) as u8, (y * 191 / side) as u8, 96u8];
            for (c, b) in base.iter().enumerate() {
                raw.push(b.wrapping_add(((bits >> (c * 8)) & 0x3f) as u8));
            }
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&raw).expect("deflate");
    let idat = z.finish().expect("deflate");
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(&mut png, b"IDAT", &idat);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

/// A 128×128 JPEG latent preview: blurred noise that gets sharper with `step`.
fn preview_jpeg(step: u32, steps: u32, seed: u64) -> Vec<u8> {
    let mut noise = Noise(seed | 1);
    let amp = 255 * (steps - step + 1) / steps;
    let image = image::RgbImage::from_fn(128, 128, |x, y| {
        let n = noise.next();
        let jitter = |c: u64| ((n >> c) & 0xff) as u32 * amp / 255;
        image::Rgb([
            ((x * 2 + jitter(0)) / 2).min(255) as u8,
            ((y * 2 + jitter(8)) / 2).min(255) as u8,
            ((128 + jitter(16)) / 2) as u8,
        ])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Jpeg)
        .expect("encode the preview");
    bytes.into_inner()
}

/// What the scripted backend sent (read by the benchmark).
#[derive(Default)]
struct Sent {
    previews: AtomicU64,
    preview_bytes: AtomicU64,
    images: AtomicU64,
    image_bytes: AtomicU64,
}

struct Media {
    previews: Vec<Arc<Vec<u8>>>,
    images: Vec<Vec<u8>>,
}

/// A backend that paints noise: progress every [`PROGRESS_EVERY`], one image per request after
/// [`IMAGE_EVERY`].
struct Scripted {
    config: BackendConfig,
    media: Arc<Media>,
    sent: Arc<Sent>,
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
            samplers: vec!["Euler a".into()],
            schedulers: vec!["Karras".into()],
        })
    }

    fn generate(
        &self,
        request: &GenerateRequest<'_>,
        control: &RunControl,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generated, BackendError> {
        let start = Instant::now();
        let steps = self.media.previews.len() as u32;
        for step in 1..=steps {
            let due = start + PROGRESS_EVERY * step;
            while Instant::now() < due {
                if control.is_cancelled() {
                    return Err(BackendError::Interrupted {
                        backend: self.config.name.clone(),
                    });
                }
                std::thread::sleep(due.saturating_duration_since(Instant::now()).min(FRAME));
            }
            let preview = self.media.previews[step as usize - 1].clone();
            self.sent.previews.fetch_add(1, Ordering::Relaxed);
            self.sent
                .preview_bytes
                .fetch_add(preview.len() as u64, Ordering::Relaxed);
            progress(Progress {
                fraction: step as f32 / steps as f32,
                step,
                steps,
                eta_secs: Some((IMAGE_EVERY.saturating_sub(start.elapsed())).as_secs_f32()),
                preview: Some(preview),
            });
        }
        std::thread::sleep((start + IMAGE_EVERY).saturating_duration_since(Instant::now()));
        let n = self.sent.images.fetch_add(1, Ordering::Relaxed);
        let bytes = self.media.images[n as usize % self.media.images.len()].clone();
        self.sent
            .image_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(Generated {
            images: vec![GeneratedImage {
                bytes,
                seed: 1000 + n as i64,
                parameters: Some(format!(
                    "{}\nSteps: {steps}, Seed: {}",
                    request.prompt,
                    1000 + n
                )),
            }],
            model_name: Some("scripted_v1".into()),
            model_hash: Some("abcd1234".into()),
            warnings: Vec::new(),
            ended_early: None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The app.

/// A data folder with the generated history, `EXTRA_QUEUED` queued manual jobs after it and one
/// backend configured.
fn data_dir(root: &Path) -> std::path::PathBuf {
    let data = root.join("data");
    std::fs::create_dir_all(&data).expect("data folder");
    let history = data.join("history.jsonl");
    support::history::write_history(&history, HISTORY, 12).expect("write the history");
    let mut store = HistoryStore::open(&history).expect("open the history");
    let newest = store
        .records()
        .iter()
        .map(|r| r.created_at)
        .max()
        .expect("records");
    for i in 0..EXTRA_QUEUED {
        let cfg = build_run_config_for_manual_prompt(
            &format!("a lighthouse in fog, storm clouds, study {i}"),
            "blurry, lowres",
            None,
        );
        let mut record = job_record_from_run_config(&format!("bench-queued-{i:04}"), &cfg);
        record.created_at = newest + chrono::Duration::seconds(60 * (i as i64 + 1));
        store.append(&record).expect("append a queued job");
    }
    drop(store);
    let mut file = BackendsFile::default();
    file.upsert(BackendConfig::new(
        "scripted",
        BackendKind::A1111,
        "http://127.0.0.1:9",
    ))
    .expect("a backend");
    file.save(&data).expect("backends.json");
    data
}

fn harness(data: &Path, packs: &Path, media: &Arc<Media>, sent: &Arc<Sent>) -> App {
    let config = AppConfig {
        data_dir: data.to_path_buf(),
        packs_dir: packs.to_path_buf(),
        restore_packs_dir: false,
    };
    let mut h = Harness::builder()
        .with_size([1400.0, 950.0])
        .build_eframe(move |cc| PromptDeskApp::new(cc, config));
    let (media, sent) = (media.clone(), sent.clone());
    h.state_mut().state.queue_runner.connector = Arc::new(move |config, _| {
        Ok(Box::new(Scripted {
            config: config.clone(),
            media: media.clone(),
            sent: sent.clone(),
        }))
    });
    h
}

/// Steps (about 60 frames a second) until the app is idle.
fn settle(h: &mut App, limit: Duration) {
    let start = Instant::now();
    loop {
        h.step();
        if !h.state().state.is_busy() {
            break;
        }
        assert!(
            start.elapsed() < limit,
            "the app did not settle in {limit:?}"
        );
        std::thread::sleep(FRAME);
    }
    h.step();
}

fn store_generation(h: &App) -> u64 {
    h.state()
        .state
        .store
        .as_ref()
        .and_then(|s| s.read().ok().map(|s| s.generation()))
        .unwrap_or(0)
}

/// The progress steps shown, summed over the running jobs (changes when a progress event was
/// taken).
fn progress_mark(h: &App) -> u64 {
    h.state()
        .state
        .queue_runner
        .status
        .running
        .values()
        .map(|j| u64::from(j.step) + (j.request as u64) * 1000)
        .sum::<u64>()
        + h.state().state.queue_runner.status.running.len() as u64 * 1_000_000
}

fn completed(h: &App) -> usize {
    h.state()
        .state
        .store
        .as_ref()
        .and_then(|s| s.read().ok())
        .map_or(0, |s| {
            s.records()
                .iter()
                .filter(|r| {
                    r.status == JobStatus::Completed && r.backend.as_deref() == Some("scripted")
                })
                .count()
        })
}

// ---------------------------------------------------------------------------------------------
// Measuring.

/// What one frame took in, and cost.
#[derive(Clone, Copy)]
struct Frame {
    cpu: Duration,
    wall: Duration,
    /// The store changed (a job started or ended: the history table and the Queue view
    /// re-read it).
    history_change: bool,
    /// A progress event (with its preview) was taken.
    progress: bool,
    /// Of the wall time: waiting for a core (other processes) and blocked (a lock, the disk).
    runqueue: Duration,
    blocked: Duration,
}

/// This thread's time on a CPU and waiting on a run queue so far (`/proc/thread-self/schedstat`;
/// zero where there is none).
fn schedstat() -> (Duration, Duration) {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let mut fields = text
        .split_whitespace()
        .map(|f| Duration::from_nanos(f.parse().unwrap_or(0)));
    (
        fields.next().unwrap_or_default(),
        fields.next().unwrap_or_default(),
    )
}

/// Draws one frame, timed.
fn frame(h: &mut App) -> Frame {
    let (generation, mark) = (store_generation(h), progress_mark(h));
    let s0 = schedstat();
    let (t0, w0) = (support::thread_cpu(), Instant::now());
    h.step();
    let (cpu, wall) = (support::thread_cpu() - t0, w0.elapsed());
    let s1 = schedstat();
    let runqueue = s1.1.saturating_sub(s0.1);
    Frame {
        cpu,
        wall,
        history_change: store_generation(h) != generation,
        progress: progress_mark(h) != mark,
        runqueue,
        blocked: wall
            .saturating_sub(s1.0.saturating_sub(s0.0))
            .saturating_sub(runqueue),
    }
}

/// Sleeps until the next frame is due (frames at 60 Hz; a late frame does not pile up).
fn pace(next: &mut Instant) {
    *next += FRAME;
    let now = Instant::now();
    if *next > now {
        std::thread::sleep(*next - now);
    } else {
        *next = now;
    }
}

/// Frames at 60 Hz for `how_long`.
fn frames_for(h: &mut App, how_long: Duration) -> Vec<Frame> {
    let start = Instant::now();
    let mut next = start;
    let mut frames = Vec::new();
    while start.elapsed() < how_long {
        frames.push(frame(h));
        pace(&mut next);
    }
    frames
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Stats {
    n: usize,
    mean: f64,
    p50: f64,
    p95: f64,
    max: f64,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    if v.is_empty() {
        return Stats {
            n: 0,
            mean: 0.0,
            p50: 0.0,
            p95: 0.0,
            max: 0.0,
        };
    }
    v.sort();
    let pct = |p: f64| ms(v[((v.len() - 1) as f64 * p).round() as usize]);
    Stats {
        n: v.len(),
        mean: ms(v.iter().sum::<Duration>()) / v.len() as f64,
        p50: pct(0.5),
        p95: pct(0.95),
        max: pct(1.0),
    }
}

fn describe(s: &Stats) -> String {
    format!(
        "mean {:.3} ms, p50 {:.3} ms, p95 {:.3} ms, max {:.3} ms",
        s.mean, s.p50, s.p95, s.max
    )
}

/// Prints a case; returns its UI-thread CPU stats.
fn report(case: &str, frames: &[Frame], elapsed: Duration, process_cpu: Duration) -> Stats {
    let cpu = stats(frames.iter().map(|f| f.cpu).collect());
    let wall = stats(frames.iter().map(|f| f.wall).collect());
    let late = frames
        .iter()
        .filter(|f| f.wall > Duration::from_millis(16))
        .count();
    let heavy = frames
        .iter()
        .filter(|f| f.cpu > Duration::from_millis(8))
        .count();
    println!(
        "queue_frame/{case}: {} frames in {:.2} s ({:.1} fps); UI-thread CPU {}",
        frames.len(),
        elapsed.as_secs_f64(),
        frames.len() as f64 / elapsed.as_secs_f64(),
        describe(&cpu)
    );
    println!(
        "queue_frame/{case}: frame wall {}; {late} frames over 16 ms wall, {heavy} over 8 ms \
         CPU; process CPU (all threads) {:.0} % of one core",
        describe(&wall),
        process_cpu.as_secs_f64() / elapsed.as_secs_f64() * 100.0
    );
    println!(
        "queue_frame/{case}: of the wall time, waiting for a core (other processes) {}; \
         blocked (locks, disk) {}",
        describe(&stats(frames.iter().map(|f| f.runqueue).collect())),
        describe(&stats(frames.iter().map(|f| f.blocked).collect())),
    );
    cpu
}

/// A case of paced frames, printed.
fn case(h: &mut App, name: &str, sent: &Sent) -> (Stats, Vec<Frame>) {
    let (p0, i0, c0) = (
        sent.previews.load(Ordering::Relaxed),
        sent.images.load(Ordering::Relaxed),
        completed(h),
    );
    let probe = StoreProbe::start(h);
    let (start, process0) = (Instant::now(), support::process_cpu());
    let frames = frames_for(h, CASE);
    let (elapsed, process) = (start.elapsed(), support::process_cpu() - process0);
    let waits = probe.finish();
    let cpu = report(name, &frames, elapsed, process);
    let over = |limit: Duration| waits.iter().filter(|w| **w > limit).count();
    let tenth = Duration::from_micros(100);
    println!(
        "queue_frame/{name}: a reader of the history store (as the UI thread reads it every \
         frame), probed every 2 ms: {} of {} reads blocked over 0.1 ms, {} over 1 ms, {} over \
         8 ms; those blocked {}",
        over(tenth),
        waits.len(),
        over(Duration::from_millis(1)),
        over(Duration::from_millis(8)),
        describe(&stats(
            waits.iter().copied().filter(|w| *w > tenth).collect()
        )),
    );
    let (previews, images) = (
        sent.previews.load(Ordering::Relaxed) - p0,
        sent.images.load(Ordering::Relaxed) - i0,
    );
    let changes = frames.iter().filter(|f| f.history_change).count();
    println!(
        "queue_frame/{case}: meanwhile {previews} previews ({:.1}/s), {images} images \
         ({:.1}/s) saved, {} jobs completed, {changes} frames took a history change",
        previews as f64 / elapsed.as_secs_f64(),
        images as f64 / elapsed.as_secs_f64(),
        completed(h) - c0,
        case = name,
    );
    (cpu, frames)
}

/// A thread that reads the app's history store every 2 ms, as the UI thread does each frame,
/// and notes how long each read was blocked (off CPU and not waiting for a core: the lock was
/// held by a writer).
struct StoreProbe {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Duration>>,
}

impl StoreProbe {
    fn start(h: &App) -> StoreProbe {
        let store = h.state().state.store.clone().expect("a store");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut waits = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                let s0 = schedstat();
                let w0 = Instant::now();
                let guard = store.read().expect("read the store");
                let wall = w0.elapsed();
                drop(guard);
                let s1 = schedstat();
                let runqueue = s1.1.saturating_sub(s0.1);
                // The reads of /proc are on CPU too: blocked is what is left.
                waits.push(
                    wall.saturating_sub(s1.0.saturating_sub(s0.0))
                        .saturating_sub(runqueue),
                );
                std::thread::sleep(Duration::from_millis(2));
            }
            waits
        });
        StoreProbe { stop, thread }
    }

    fn finish(self) -> Vec<Duration> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the probe")
    }
}

/// The running case's frames split by what they took in.
fn split(name: &str, frames: &[Frame]) {
    type Pick = fn(&Frame) -> bool;
    let kinds: [(&str, Pick); 3] = [
        ("history_change", |f| f.history_change),
        ("progress_only", |f| f.progress && !f.history_change),
        ("nothing_new", |f| !f.progress && !f.history_change),
    ];
    for (kind, pick) in kinds {
        let picked: Vec<&Frame> = frames.iter().filter(|f| pick(f)).collect();
        let cpu = stats(picked.iter().map(|f| f.cpu).collect());
        let wall = stats(picked.iter().map(|f| f.wall).collect());
        let blocked = stats(picked.iter().map(|f| f.blocked).collect());
        println!(
            "queue_frame/{name}/{kind}: {} frames; UI-thread CPU {}; wall {}; blocked {}",
            cpu.n,
            describe(&cpu),
            describe(&wall),
            describe(&blocked)
        );
    }
}

/// A criterion function of paced frames: each iteration is one frame; the sleep between
/// frames is not timed.
fn paced(h: &mut App, iters: u64, wall: bool) -> Duration {
    let mut total = Duration::ZERO;
    let mut next = Instant::now();
    for _ in 0..iters {
        let f = frame(h);
        total += if wall { f.wall } else { f.cpu };
        pace(&mut next);
    }
    total
}

/// What a history change costs the UI thread, piece by piece, on the app's own store.
fn parts(h: &App) {
    let state = &h.state().state;
    let store = state.store.as_ref().expect("a store").read().expect("read");
    let records = store.records();
    let time = |f: &mut dyn FnMut()| {
        let mut v = Vec::new();
        for _ in 0..30 {
            let (t0, w0) = (support::thread_cpu(), Instant::now());
            f();
            v.push((support::thread_cpu() - t0, w0.elapsed()));
        }
        (
            stats(v.iter().map(|x| x.0).collect()),
            stats(v.iter().map(|x| x.1).collect()),
        )
    };
    let view = &state.view;
    let (cpu, wall) = time(&mut || {
        std::hint::black_box(promptdesk::history::query_indices(
            records,
            &view.filter,
            view.sort_column,
            view.sort_descending,
        ));
    });
    println!(
        "queue_frame/{}/parts_history_query (history table rows, on the UI thread below \
         20000 records): UI-thread CPU {}; wall {}",
        records.len(),
        describe(&cpu),
        describe(&wall)
    );
    let (cpu, wall) = time(&mut || {
        let waiting: Vec<String> = promptdesk::runner::queued_in_order(records)
            .into_iter()
            .map(|r| r.job_id.clone())
            .collect();
        let running = records
            .iter()
            .filter(|r| r.status == JobStatus::Running)
            .count();
        let mut failed: Vec<_> = records
            .iter()
            .filter(|r| r.status == JobStatus::Failed)
            .collect();
        failed.sort_by_key(|r| std::cmp::Reverse(r.completed_at.unwrap_or(r.created_at)));
        std::hint::black_box((waiting, running, failed.len()));
    });
    println!(
        "queue_frame/{}/parts_queue_rescan (the Queue view's rows, re-read per history \
         change): UI-thread CPU {}; wall {}",
        records.len(),
        describe(&cpu),
        describe(&wall)
    );
}

fn queue_frame(c: &mut Criterion) {
    let root = tempfile::Builder::new()
        .prefix("queue-frame-")
        .tempdir_in({
            let dir = support::cache_dir().join("work");
            std::fs::create_dir_all(&dir).expect("work folder");
            dir
        })
        .expect("a work folder");
    let data = data_dir(root.path());
    let packs = support::cached_packs(100);
    let steps = (IMAGE_EVERY.as_millis() / PROGRESS_EVERY.as_millis()) as u32;
    let media = Arc::new(Media {
        previews: (1..=steps)
            .map(|s| Arc::new(preview_jpeg(s, steps, 77 + u64::from(s))))
            .collect(),
        images: (0..4).map(|i| noise_png(1024, 1234 + i)).collect(),
    });
    let sent = Arc::new(Sent::default());
    println!(
        "queue_frame: previews {} bytes (128x128 JPEG, {steps} per image), images {} bytes \
         (1024x1024 PNG)",
        media.previews[0].len(),
        media.images[0].len()
    );

    let mut h = harness(&data, &packs, &media, &sent);
    settle(&mut h, Duration::from_secs(120));
    let total = h.state().state.counts().0;
    let name = |case: &str| format!("{total}/{case}");
    // For reference: the Compose view, idle (what the Queue view itself adds).
    case(&mut h, &name("compose_view_idle"), &sent);
    h.state_mut().state.central = CentralView::Queue;
    settle(&mut h, Duration::from_secs(60));
    let waiting = h.state().state.queue_view.waiting.len();
    println!(
        "queue_frame: {total} jobs in the history, {waiting} waiting, {} shown as running by \
         another process; Queue view shown",
        h.state().state.queue_view.running.len()
    );
    assert!(waiting >= EXTRA_QUEUED);

    // (a) The queue idle: Run queue off, the runner never started.
    let (idle, _) = case(&mut h, &name("idle"), &sent);

    let mut group = c.benchmark_group(format!("queue_frame/{total}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for (id, wall) in [("idle_cpu_ui_thread", false), ("idle_wall", true)] {
        group.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter_custom(|iters| paced(&mut h, iters, wall))
        });
    }
    assert_eq!(sent.previews.load(Ordering::Relaxed), 0, "nothing ran");

    // (b) Run queue on: previews every 20 ms, an image every 250 ms, jobs ending and starting.
    h.state_mut().push(Command::SetRunQueue(true));
    let start = Instant::now();
    while sent.images.load(Ordering::Relaxed) < 2 {
        h.step();
        std::thread::sleep(FRAME);
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the runner never ran a job"
        );
    }
    let (arriving, frames) = case(&mut h, &name("arriving"), &sent);
    split(&name("arriving"), &frames);
    for (id, wall) in [("arriving_cpu_ui_thread", false), ("arriving_wall", true)] {
        group.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter_custom(|iters| paced(&mut h, iters, wall))
        });
    }
    group.finish();
    assert!(
        !h.state().state.queue_view.waiting.is_empty(),
        "jobs were still waiting at the end (the queue never ran dry)"
    );

    // (c) Run queue off again: the running job ends, then nothing arrives.
    h.state_mut().push(Command::SetRunQueue(false));
    let start = Instant::now();
    while !h.state().state.queue_runner.status.running.is_empty() {
        h.step();
        std::thread::sleep(FRAME);
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the job never ended"
        );
    }
    settle(&mut h, Duration::from_secs(60));
    let (paused, _) = case(&mut h, &name("paused"), &sent);

    println!(
        "queue_frame/{total}: arriving / idle UI-thread CPU per frame: mean {:.2}x, p95 {:.2}x, \
         max {:.2}x (paused / idle: mean {:.2}x)",
        arriving.mean / idle.mean,
        arriving.p95 / idle.p95,
        arriving.max / idle.max,
        paused.mean / idle.mean,
    );
    parts(&h);

    h.state_mut().state.queue_runner.begin_stop();
    let start = Instant::now();
    while !h.state().state.queue_runner.is_stopped() {
        h.step();
        std::thread::sleep(FRAME);
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the runner never stopped"
        );
    }
    drop(h);
    drop(root);
}

criterion_group!(benches, queue_frame);
criterion_main!(benches);
