//! Issue 13: the Gallery at scale. The real app (`PromptDeskApp::new`), headless (egui_kittest:
//! no display, no GPU), release build, in a 1280x800 window, over a history of 50,000
//! completed jobs with two images each (100,000 images).
//!
//! Cases, side by side in one run:
//! * **open** (thumbnails cached): every image has its thumbnail in the cache (hard links to
//!   a few real 256 px JPEGs, so the cache is complete without 800 MB of disk) and its file in
//!   `outputs/`. From the frame that switches to the Gallery to the frame where every cell
//!   on screen shows its thumbnail: wall time, frames, and the first frame's UI-thread CPU
//!   (it builds the list of 100,000 images).
//! * **idle / scrolling**: UI-thread CPU and wall time per frame at 60 Hz with the Gallery
//!   still, then scrolling with the mouse wheel for 8 s each: slowly (60 points a frame, a
//!   row every three frames) and fast (600 points a frame, four rows a frame) with 160-point
//!   thumbnails, and fast with the smallest, 64 points (six times the cells); how many frames
//!   drew a cell before its thumbnail was ready.
//! * **first-time thumbnails**: a second data folder whose 96 images are 1024x1024 PNGs (each
//!   its own file) with no thumbnail yet; from opening the Gallery until every thumbnail on
//!   screen is shown, the thumbnails written to the cache, and the UI-thread CPU and wall time
//!   of those frames (the pool makes thumbnails on the other core).
//!
//! CPU is the UI thread's (`CLOCK_THREAD_CPUTIME_ID`); texture uploads to a GPU are not part
//! of a headless frame. Run: `cargo bench --bench gallery` (about a minute after the data
//! is written; the printed lines are the report).

mod support;

use egui_kittest::Harness;
use promptdesk::app::state::{CentralView, Command};
use promptdesk::app::{AppConfig, PromptDeskApp};
use promptdesk::job_record::JobStatus;
use promptdesk::outputs::{JobResult, OutputImage};
use promptdesk::thumbs::thumbnail_path;
use promptdesk::{HistoryStore, build_run_config_for_manual_prompt, job_record_from_run_config};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type App = Harness<'static, PromptDeskApp>;

const JOBS: usize = 50_000;
const PER_JOB: usize = 2;
const COLD_IMAGES: usize = 96;
const FRAME: Duration = Duration::from_micros(16_667);
const SIZE: [f32; 2] = [1280.0, 800.0];

fn jpeg(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(256, 256, |x, y| {
        image::Rgb([
            (x + seed * 40) as u8,
            (y + seed * 25) as u8,
            ((x ^ y) + seed * 60) as u8,
        ])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// A 1024x1024 PNG with grain (about as slow to decode as a render).
fn big_png(seed: u32) -> Vec<u8> {
    let mut state = 0x9e37_79b9u32 ^ seed.wrapping_mul(2_654_435_761);
    let img = image::RgbImage::from_fn(1024, 1024, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state >> 28) as u8;
        image::Rgb([
            (x / 4) as u8 ^ n,
            (y / 4) as u8 ^ n,
            (((x + y) / 8) as u8)
                .wrapping_add((seed as u8).wrapping_mul(30))
                .wrapping_add(n),
        ])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn sha(n: usize) -> String {
    format!(
        "{:064x}",
        0x1234_5678_9abc_u64 as u128 * 1_000_003 + n as u128
    )
}

/// A data folder with `jobs` jobs of `per_job` images; `cached`: every thumbnail is in the
/// cache; `source(n)` gives the bytes the images' files link to.
fn data_dir(
    root: &Path,
    jobs: usize,
    per_job: usize,
    cached: bool,
    sources: &[Vec<u8>],
) -> PathBuf {
    let data = root.to_path_buf();
    let outputs = data.join("outputs");
    std::fs::create_dir_all(&outputs).unwrap();
    // A file has at most ~65,000 links on ext4: enough copies to stay well below.
    let copies = sources.len().max(jobs * per_job / 20_000 + 1);
    let originals: Vec<PathBuf> = (0..copies)
        .map(|i| {
            let p = root.join(format!("original-{i}.bin"));
            std::fs::write(&p, &sources[i % sources.len()]).unwrap();
            p
        })
        .collect();
    let thumbs: Vec<PathBuf> = (0..8)
        .map(|i| {
            let p = root.join(format!("thumb-{i}.jpg"));
            std::fs::write(&p, jpeg(i)).unwrap();
            p
        })
        .collect();
    let start = chrono::Utc::now() - chrono::Duration::days(30);
    let mut records = Vec::with_capacity(jobs);
    for j in 0..jobs {
        let cfg = build_run_config_for_manual_prompt(
            &format!("a lighthouse on a cliff at dusk, study {j}"),
            "blurry",
            None,
        );
        let mut record = job_record_from_run_config(&format!("gallery-{j:06}"), &cfg);
        record.created_at = start + chrono::Duration::seconds(j as i64 * 20);
        record.status = JobStatus::Completed;
        record.completed_at = Some(record.created_at);
        let images = (0..per_job)
            .map(|i| {
                let n = j * per_job + i;
                let path = format!("outputs/{n}.png");
                std::fs::hard_link(&originals[n % originals.len()], data.join(&path)).unwrap();
                let sha = sha(n);
                if cached {
                    let t = thumbnail_path(&data, &sha);
                    std::fs::create_dir_all(t.parent().unwrap()).unwrap();
                    std::fs::hard_link(&thumbs[n % thumbs.len()], t).unwrap();
                }
                OutputImage {
                    path,
                    seed: n as i64,
                    width: 1024,
                    height: 1024,
                    sha256: sha,
                    key: String::new(),
                    variant: 1,
                    rating: n.is_multiple_of(7).then_some((n % 5) as u8 + 1),
                    favorite: n.is_multiple_of(11),
                }
            })
            .collect();
        record.result = Some(JobResult {
            backend: "bench".into(),
            images,
            ..JobResult::default()
        });
        records.push(record);
    }
    let mut store = HistoryStore::open(data.join("history.jsonl")).unwrap();
    store.append_many(&records).unwrap();
    data
}

fn harness(data: &Path, packs: &Path) -> App {
    let config = AppConfig {
        data_dir: data.to_path_buf(),
        packs_dir: packs.to_path_buf(),
        restore_packs_dir: false,
    };
    Harness::builder()
        .with_size(SIZE)
        .build_eframe(move |cc| PromptDeskApp::new(cc, config))
}

/// Steps until the app is idle (history loaded, queries done).
fn settle(h: &mut App) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        h.step();
        if !h.state().state.is_busy() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    for _ in 0..10 {
        h.step();
    }
}

/// Sleeps until the next frame is due (60 Hz; a late frame does not pile up).
fn pace(next: &mut Instant) {
    *next += FRAME;
    let now = Instant::now();
    if *next > now {
        std::thread::sleep(*next - now);
    } else {
        *next = now;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One frame: UI-thread CPU and wall time.
type Frame = (Duration, Duration);

fn summary(mut v: Vec<Duration>) -> (f64, f64, f64, f64) {
    v.sort();
    let pct = |p: f64| ms(v[((v.len() - 1) as f64 * p).round() as usize]);
    let mean = ms(v.iter().sum::<Duration>()) / v.len() as f64;
    (mean, pct(0.5), pct(0.95), pct(1.0))
}

/// Prints the frames' CPU and wall time; returns the mean CPU.
fn stats(name: &str, frames: Vec<Frame>) -> f64 {
    let n = frames.len();
    let over = frames
        .iter()
        .filter(|(_, w)| *w > Duration::from_millis(16))
        .count();
    let (cpu, wall): (Vec<_>, Vec<_>) = frames.into_iter().unzip();
    let (mean, p50, p95, max) = summary(cpu);
    let (wmean, _, wp95, wmax) = summary(wall);
    println!(
        "gallery/{name}: {n} frames, UI-thread CPU per frame mean {mean:.3} ms, p50 {p50:.3} ms, p95 {p95:.3} ms, max {max:.3} ms; wall mean {wmean:.3} ms, p95 {wp95:.3} ms, max {wmax:.3} ms, {over} over 16 ms"
    );
    mean
}

/// One measured frame.
fn frame(h: &mut App) -> Frame {
    let (t0, w0) = (support::thread_cpu(), Instant::now());
    h.step();
    (support::thread_cpu() - t0, w0.elapsed())
}

/// Opens the Gallery and steps until every cell on screen shows its thumbnail; returns the
/// wall time, frames and the first frame's CPU.
fn open_gallery(h: &mut App) -> (Duration, usize, Duration) {
    h.state_mut().push(Command::ShowView(CentralView::Gallery));
    let start = Instant::now();
    let t0 = support::thread_cpu();
    h.step(); // applies the command
    h.step(); // draws the gallery the first time
    let first = support::thread_cpu() - t0;
    let mut frames = 2;
    loop {
        h.step();
        frames += 1;
        let thumbs = &h.state().state.thumbs;
        if thumbs.stats.uploads > 0 && !thumbs.is_busy() {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            panic!("the gallery never finished its first screen");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    (start.elapsed(), frames, first)
}

/// Frames at 60 Hz for `how_long`, scrolling by `wheel` points each frame; the UI-thread CPU
/// of each and how many frames drew a cell before its thumbnail was ready.
fn frames(h: &mut App, how_long: Duration, wheel: f32) -> (Vec<Frame>, u64) {
    let grid = h.state().state.gallery.grid_rect;
    h.event(egui::Event::PointerMoved(grid.center()));
    let mut cpu = Vec::new();
    let start = Instant::now();
    let mut next = start;
    let mut loading = 0;
    while start.elapsed() < how_long {
        if wheel != 0.0 {
            h.event(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, -wheel),
                phase: egui::TouchPhase::Move,
                modifiers: egui::Modifiers::NONE,
                source: egui::MouseWheelSource::Wheel,
            });
        }
        cpu.push(frame(h));
        if h.state().state.thumbs.drawn_loading() > 0 {
            loading += 1;
        }
        pace(&mut next);
    }
    (cpu, loading)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let packs = root.path().join("packs");
    std::fs::create_dir_all(&packs).unwrap();

    let t = Instant::now();
    let small_png = {
        let img = image::RgbImage::from_pixel(8, 8, image::Rgb([90, 120, 160]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let warm = data_dir(&root.path().join("warm"), JOBS, PER_JOB, true, &[small_png]);
    println!(
        "gallery: wrote {JOBS} jobs, {} images, every thumbnail cached, in {:.1} s",
        JOBS * PER_JOB,
        t.elapsed().as_secs_f64()
    );

    let mut h = harness(&warm, &packs);
    settle(&mut h);
    let (wall, frames_taken, first) = open_gallery(&mut h);
    let visible = h.state().state.thumbs.textures();
    println!(
        "gallery/open_100k: first screen complete {:.0} ms after switching to the Gallery ({frames_taken} frames, {visible} thumbnails on screen); first frame (builds the 100,000-image list) {:.1} ms UI-thread CPU",
        ms(wall),
        ms(first)
    );
    let items = h.state().state.gallery.items().len();
    assert_eq!(items, JOBS * PER_JOB);

    let (idle, _) = frames(&mut h, Duration::from_secs(3), 0.0);
    let idle_mean = stats("idle_100k", idle);
    // Slow (a row every three frames) and fast (four rows a frame) wheel scrolling at the
    // default 160-point thumbnails, then fast at the smallest, 64 points (six times the
    // cells on screen).
    for (name, size, wheel) in [
        ("scrolling_100k", 160.0, 60.0),
        ("fast_scrolling_100k", 160.0, 600.0),
        ("fast_scrolling_100k_64px", 64.0, 600.0),
    ] {
        h.state_mut().state.gallery.thumb_size = size;
        for _ in 0..3 {
            h.step();
        }
        let uploads_before = h.state().state.thumbs.stats.uploads;
        let (scrolling, loading) = frames(&mut h, Duration::from_secs(8), wheel);
        let n = scrolling.len();
        let scroll_mean = stats(name, scrolling);
        let uploads = h.state().state.thumbs.stats.uploads - uploads_before;
        println!(
            "gallery/{name}: {wheel} points a frame; {uploads} thumbnails uploaded; {loading} of {n} frames had a cell still loading; textures held at the end {}; CPU vs the still Gallery {:.2}x",
            h.state().state.thumbs.textures(),
            scroll_mean / idle_mean
        );
    }
    drop(h);

    // First-time thumbnails: 1024x1024 PNGs, nothing cached.
    // A file per image (no two share the page cache).
    let pngs: Vec<Vec<u8>> = (0..COLD_IMAGES as u32).map(big_png).collect();
    let cold = data_dir(&root.path().join("cold"), COLD_IMAGES, 1, false, &pngs);
    let mut h = harness(&cold, &packs);
    settle(&mut h);
    h.state_mut().push(Command::ShowView(CentralView::Gallery));
    let start = Instant::now();
    let mut cpu = Vec::new();
    let mut next = start;
    loop {
        cpu.push(frame(&mut h));
        let thumbs = &h.state().state.thumbs;
        if thumbs.stats.uploads > 0 && !thumbs.is_busy() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(300), "never finished");
        pace(&mut next);
    }
    let wall = start.elapsed();
    // The thumbnails written to the cache.
    let made: usize = std::fs::read_dir(cold.join("thumbs"))
        .map(|shards| {
            shards
                .flatten()
                .filter_map(|d| std::fs::read_dir(d.path()).ok())
                .map(|files| files.count())
                .sum()
        })
        .unwrap_or(0);
    println!(
        "gallery/first_time_thumbnails: {made} thumbnails made from 1024x1024 PNGs for the first screen in {:.2} s ({:.1} images/s with {} pool thread(s)); frames meanwhile:",
        wall.as_secs_f64(),
        made as f64 / wall.as_secs_f64(),
        promptdesk::thumbs::ThumbnailPool::default_threads()
    );
    stats("first_time_thumbnails_frames", cpu);
}
