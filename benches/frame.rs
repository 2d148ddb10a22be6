//! One frame of the desktop app with 1,000,000 records and the filter bar in use, headless
//! (egui_kittest, no display, no GPU), release build. Target: under 2 ms of CPU.
//!
//! The app is the real one (`PromptDeskApp::new`) on a data folder whose `history.jsonl` is the
//! cached 1,000,000-record history and whose packs folder holds 100 generated packs.
//!
//! Measured:
//! * `loading/*` (printed): while the history loads in the background (a frame every 16 ms):
//!   when the first frame and the first rows appear, when everything is in, and how long the
//!   frames take meanwhile (wall time: a frame that waits for a lock shows here, not in CPU);
//! * `frame/1000000/idle_filtered_*`: a frame with the filter "castle" applied and its result
//!   cached (nothing changes), as UI-thread CPU time, process CPU time (every thread) and wall
//!   time;
//! * `frame/1000000/keystroke_*`: a frame in which the filter text changes (the query is handed
//!   to the worker; the frame itself must not do O(N) work), UI-thread CPU and wall time;
//! * `frame/1000000/tessellate_wall` (the part of a real frame the harness skips: turning the
//!   shapes into triangles; painting them is the GPU's job);
//! * `typing/*` (printed): keystroke-to-rows latency, for one keystroke and for six
//!   keystrokes 100 ms apart.
//!
//! The harness also builds the AccessKit tree every frame (a real window does so only when a
//! screen reader asks), so these frames cost a little more than a real one.

mod support;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use egui_kittest::Harness;
use promptdesk::app::{AppConfig, PromptDeskApp};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const N: u64 = 1_000_000;

/// A data folder whose history is the cached 1M file (hard-linked, or copied).
fn data_dir() -> PathBuf {
    let src = support::cached_history(N);
    let dir = support::cache_dir().join("work").join("frame-data");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("work folder");
    let dst = dir.join("history.jsonl");
    if std::fs::hard_link(&src, &dst).is_err() {
        std::fs::copy(&src, &dst).expect("copy the 1M history");
    }
    dir
}

fn harness(data: &Path, packs: &Path) -> Harness<'static, PromptDeskApp> {
    let config = AppConfig {
        data_dir: data.to_path_buf(),
        packs_dir: packs.to_path_buf(),
        restore_packs_dir: false,
    };
    Harness::builder()
        .with_size([1400.0, 950.0])
        .build_eframe(move |cc| PromptDeskApp::new(cc, config))
}

/// UI-thread CPU, process CPU and wall time of one `step`.
fn step_costs(h: &mut Harness<'static, PromptDeskApp>) -> (Duration, Duration, Duration) {
    let (t0, p0, w0) = (
        support::thread_cpu(),
        support::process_cpu(),
        Instant::now(),
    );
    h.step();
    (
        support::thread_cpu() - t0,
        support::process_cpu() - p0,
        w0.elapsed(),
    )
}

/// Steps (about 60 frames a second) until the app is idle; returns the number of frames.
fn settle(h: &mut Harness<'static, PromptDeskApp>, limit: Duration) -> usize {
    let start = Instant::now();
    let mut frames = 0;
    loop {
        h.step();
        frames += 1;
        if !h.state().state.is_busy() {
            break;
        }
        assert!(
            start.elapsed() < limit,
            "the app did not settle in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(16));
    }
    h.step();
    frames + 1
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn frame(c: &mut Criterion) {
    let data = data_dir();
    let packs = support::cached_packs(100);

    // --- The window while a 1M history loads: a frame every 16 ms, as a window would draw.
    let build = Instant::now();
    let mut h = harness(&data, &packs);
    let first = step_costs(&mut h);
    let first_wall = build.elapsed();
    let mut walls = vec![first.2];
    let mut cpus = vec![first.0];
    let mut first_rows: Option<Duration> = None;
    while h.state().state.history_load.is_some() {
        std::thread::sleep(Duration::from_millis(16));
        let (ui, _, wall) = step_costs(&mut h);
        walls.push(wall);
        cpus.push(ui);
        if first_rows.is_none() && h.state().state.counts().1 > 0 {
            first_rows = Some(build.elapsed());
        }
        assert!(
            build.elapsed() < Duration::from_secs(300),
            "load never ended"
        );
    }
    let loaded = build.elapsed();
    settle(&mut h, Duration::from_secs(120));
    let ready = build.elapsed();
    let (total, shown) = h.state().state.counts();
    assert_eq!(total as u64, N);
    walls.sort();
    cpus.sort();
    let pct = |v: &[Duration], p: f64| ms(v[((v.len() - 1) as f64 * p).round() as usize]);
    println!(
        "loading/1000000: first frame {:.1} ms after start (UI-thread CPU {:.2} ms); first rows \
         after {}; all {total} records loaded after {:.2} s, all {shown} rows shown after {:.2} s",
        ms(first_wall),
        ms(first.0),
        first_rows.map_or("(only at the end)".to_owned(), |t| format!(
            "{:.2} s",
            t.as_secs_f64()
        )),
        loaded.as_secs_f64(),
        ready.as_secs_f64(),
    );
    println!(
        "loading/1000000: {} frames while loading; frame wall median {:.1} ms, p90 {:.1} ms, p99 \
         {:.1} ms, max {:.1} ms ({} over 16 ms, {} over 100 ms); UI-thread CPU median {:.2} ms, \
         max {:.2} ms",
        walls.len(),
        pct(&walls, 0.5),
        pct(&walls, 0.9),
        pct(&walls, 0.99),
        pct(&walls, 1.0),
        walls
            .iter()
            .filter(|w| **w > Duration::from_millis(16))
            .count(),
        walls
            .iter()
            .filter(|w| **w > Duration::from_millis(100))
            .count(),
        pct(&cpus, 0.5),
        pct(&cpus, 1.0),
    );

    // --- The filter bar in use: "castle", result cached.
    h.state_mut().state.view.filter.text = "castle".to_owned();
    settle(&mut h, Duration::from_secs(60));
    let (_, shown) = h.state().state.counts();
    println!("frame/1000000: filter \"castle\" shows {shown} rows");
    assert!(shown > 0 && (shown as u64) < N);

    let mut group = c.benchmark_group(format!("frame/{N}"));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    for (name, pick) in [
        ("idle_filtered_cpu_ui_thread", 0usize),
        ("idle_filtered_cpu_process", 1),
        ("idle_filtered_wall", 2),
    ] {
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let costs = step_costs(&mut h);
                    total += [costs.0, costs.1, costs.2][pick];
                }
                total
            })
        });
    }
    assert!(!h.state().state.is_busy(), "idle frames started no work");

    // A keystroke frame: the text changes, the query goes to the worker. Wait (untimed) for
    // the worker between keystrokes so that queries never pile up.
    let texts = ["castle", "castl", "castle f", "castle"];
    let mut k = 0usize;
    for (name, pick) in [("keystroke_cpu_ui_thread", 0usize), ("keystroke_wall", 2)] {
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    k += 1;
                    h.state_mut().state.view.filter.text = texts[k % texts.len()].to_owned();
                    let costs = step_costs(&mut h);
                    total += [costs.0, costs.1, costs.2][pick];
                    settle(&mut h, Duration::from_secs(60));
                }
                total
            })
        });
    }

    // Tessellation of one frame's shapes (a real frame does it; the harness does not).
    h.state_mut().state.view.filter.text = "castle".to_owned();
    settle(&mut h, Duration::from_secs(60));
    group.bench_function(BenchmarkId::from_parameter("tessellate_wall"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                h.step();
                let shapes = h.output().shapes.clone();
                let ppp = h.output().pixels_per_point;
                let start = Instant::now();
                let prims = h.ctx.tessellate(shapes, ppp);
                total += start.elapsed();
                std::hint::black_box(prims);
            }
            total
        })
    });
    group.finish();

    // --- Keystroke to rows on screen.
    h.state_mut().state.view.filter.text.clear();
    settle(&mut h, Duration::from_secs(60));
    let start = Instant::now();
    h.state_mut().state.view.filter.text = "lighthouse".to_owned();
    let frames = settle(&mut h, Duration::from_secs(60));
    println!(
        "typing/1000000: one keystroke (\"\" -> \"lighthouse\") to rows shown: {:.0} ms ({frames} frames)",
        ms(start.elapsed())
    );
    h.state_mut().state.view.filter.text.clear();
    settle(&mut h, Duration::from_secs(60));
    let word = "dragon";
    let start = Instant::now();
    for i in 1..=word.len() {
        h.state_mut().state.view.filter.text = word[..i].to_owned();
        let typed = Instant::now();
        while typed.elapsed() < Duration::from_millis(100) {
            h.step();
            std::thread::sleep(Duration::from_millis(16));
        }
    }
    let last_key = start.elapsed();
    let frames = settle(&mut h, Duration::from_secs(120));
    println!(
        "typing/1000000: six keystrokes 100 ms apart (\"dragon\"): rows shown {:.0} ms after the \
         last one ({frames} frames)",
        ms(start.elapsed() - last_key)
    );
    drop(h);
    let _ = std::fs::remove_dir_all(&data);
}

criterion_group!(benches, frame);
criterion_main!(benches);
