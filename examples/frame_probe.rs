//! The desktop app (headless, egui_kittest) while a large history loads: steps a frame every
//! 16 ms until the history is loaded and the rows are shown, and prints how long each frame
//! took (wall and UI-thread CPU), so that a frame that blocks stands out. For profiling
//! (`perf sched`, `perf record -e sched:sched_switch`) as well as for numbers.
//!
//! ```text
//! cargo run --release --example frame_probe -- DATA_DIR PACKS_DIR
//! ```
//!
//! DATA_DIR must hold `history.jsonl` (e.g. a hard link to a file gen_data wrote).

#[path = "../benches/support/mod.rs"]
mod support;

use egui_kittest::Harness;
use promptdesk::app::{AppConfig, PromptDeskApp};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(data), Some(packs)) = (args.first(), args.get(1)) else {
        eprintln!("usage: frame_probe DATA_DIR PACKS_DIR");
        std::process::exit(2);
    };
    let config = AppConfig {
        data_dir: PathBuf::from(data),
        packs_dir: PathBuf::from(packs),
        restore_packs_dir: false,
    };
    let start = Instant::now();
    let mut h = Harness::builder()
        .with_size([1400.0, 950.0])
        .build_eframe(move |cc| PromptDeskApp::new(cc, config));
    let mut frames: Vec<(f64, f64, f64)> = Vec::new(); // (at ms, wall ms, cpu ms)
    loop {
        let at = start.elapsed();
        let (c0, w0) = (support::thread_cpu(), Instant::now());
        h.step();
        let wall = w0.elapsed();
        let cpu = support::thread_cpu() - c0;
        frames.push((
            at.as_secs_f64() * 1e3,
            wall.as_secs_f64() * 1e3,
            cpu.as_secs_f64() * 1e3,
        ));
        if wall > Duration::from_millis(50) {
            println!(
                "slow frame at {:.0} ms: {:.1} ms wall, {:.2} ms CPU",
                at.as_secs_f64() * 1e3,
                wall.as_secs_f64() * 1e3,
                cpu.as_secs_f64() * 1e3
            );
        }
        let state = &h.state().state;
        if state.history_load.is_none() && !state.is_busy() {
            break;
        }
        if start.elapsed() > Duration::from_secs(600) {
            eprintln!("frame_probe: still loading after 600 s");
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(16));
    }
    let mut walls: Vec<f64> = frames.iter().map(|f| f.1).collect();
    walls.sort_by(f64::total_cmp);
    let pct = |p: f64| walls[((walls.len() - 1) as f64 * p).round() as usize];
    let (total, shown) = h.state().state.counts();
    println!(
        "{} frames over {:.2} s until {total} records loaded and {shown} rows shown; frame wall \
         median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.1} ms; {} frames over 16 ms; max \
         UI-thread CPU {:.2} ms",
        frames.len(),
        start.elapsed().as_secs_f64(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0),
        walls.iter().filter(|&&w| w > 16.0).count(),
        frames.iter().map(|f| f.2).fold(0.0, f64::max),
    );
}
