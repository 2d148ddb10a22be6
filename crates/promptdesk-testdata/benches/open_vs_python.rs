//! Issue 9's speed target, measured side by side in one run on the same file: opening a
//! 100,000-record history (as `import-stablenew` writes it from StableNew's file) with
//! `HistoryStore::open`, against CPython's `json.loads` over its lines.
//!
//! ```text
//! cargo bench -p promptdesk-testdata --bench open_vs_python            # 100,000 records, 7 reps
//! cargo bench -p promptdesk-testdata --bench open_vs_python -- 20000 5 # records, repetitions
//! ```
//!
//! The history is generated once (a StableNew file of exactly that many jobs, imported with the
//! real import code) and cached under `target/bench-data`. Both sides read the file and parse
//! every line each repetition; the page cache is warm for both (one untimed read first). Python
//! runs as a subprocess (`python3`, or `$PYTHON`) and times itself with `time.perf_counter`
//! around `[json.loads(line) for line in file]`, so its start-up is not counted. The Rust side
//! and the Python side alternate in two halves, so a load change on the machine hits both.
//! Every repetition runs in a fresh process on both sides (as an app start does), so none pays
//! for freeing the previous one's records.
//! Prints every repetition, min and median of each, and the ratio (Python / Rust). With
//! `OPEN_BREAKDOWN=1`, first prints where the open's time goes (read, parse on one thread and
//! on every core, with and without the unknown-field capture).

use promptdesk_core::{HistoryStore, JobRecord};
use promptdesk_testdata as testdata;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PYTHON_LOADS: &str = r#"
import json, sys, time
path, reps = sys.argv[1], int(sys.argv[2])
for _ in range(reps):
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        records = [json.loads(line) for line in f]
    t1 = time.perf_counter()
    print(f"{t1 - t0:.6f} {len(records)}", flush=True)
    del records
"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--open-once") {
        open_once(Path::new(&args[i + 1]));
        return;
    }
    // `cargo bench` passes `--bench`; only plain numbers are ours.
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    // Without `--bench` (`cargo test --benches`), a quick smoke run on a small file.
    let benching = args.iter().any(|a| a == "--bench");
    let records = numbers
        .first()
        .copied()
        .unwrap_or(if benching { 100_000 } else { 2_000 });
    let reps = numbers.get(1).copied().unwrap_or(7).max(2);

    let path = testdata::cached_imported_stablenew(records);
    let bytes = std::fs::read(&path).expect("the generated history");
    let lines = testdata::count_lines(&bytes);
    drop(bytes);
    println!(
        "open_vs_python: {} ({} lines, {:.1} MB), {} threads, {reps} repetitions each, {} allocator",
        path.display(),
        lines,
        std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
        rayon::current_num_threads(),
        if cfg!(feature = "mimalloc") {
            "mimalloc"
        } else {
            "the system"
        },
    );

    if std::env::var_os("OPEN_BREAKDOWN").is_some() {
        breakdown(&path);
    }
    let first = reps / 2;
    let mut rust = rust_open(&path, first, lines);
    let mut python = python_loads(&path, first, lines);
    rust.extend(rust_open(&path, reps - first, lines));
    python.extend(python_loads(&path, reps - first, lines));

    let (r_min, r_med) = min_median(&mut rust);
    let (p_min, p_med) = min_median(&mut python);
    println!(
        "HistoryStore::open   min {:.3} s  median {:.3} s",
        r_min.as_secs_f64(),
        r_med.as_secs_f64()
    );
    println!(
        "python json.loads    min {:.3} s  median {:.3} s",
        p_min.as_secs_f64(),
        p_med.as_secs_f64()
    );
    println!(
        "ratio (python / rust): {:.2}x by min, {:.2}x by median",
        p_min.as_secs_f64() / r_min.as_secs_f64(),
        p_med.as_secs_f64() / r_med.as_secs_f64()
    );
}

/// Where `HistoryStore::open`'s time goes, on the same file: reading it, and parsing its lines
/// with `JobRecord::from_json_line` (what the store does) and with plain serde_json (no
/// unknown-field capture), on one thread and on every core.
fn breakdown(path: &Path) {
    use rayon::prelude::*;
    let best = |f: &dyn Fn() -> usize| {
        (0..3)
            .map(|_| {
                let start = Instant::now();
                black_box(f());
                start.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    let bytes = std::fs::read(path).expect("read");
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let read = best(&|| std::fs::read(path).expect("read").len());
    let line_1 = best(&|| {
        lines
            .iter()
            .map(|l| JobRecord::from_json_line(l).expect("a record"))
            .collect::<Vec<_>>()
            .len()
    });
    let plain_1 = best(&|| {
        lines
            .iter()
            .map(|l| serde_json::from_slice::<JobRecord>(l).expect("a record"))
            .collect::<Vec<_>>()
            .len()
    });
    let line_par = best(&|| {
        lines
            .par_iter()
            .with_min_len(64)
            .map(|l| JobRecord::from_json_line(l).expect("a record"))
            .collect::<Vec<_>>()
            .len()
    });
    println!("breakdown (best of 3, same file):");
    for (what, t) in [
        ("std::fs::read", read),
        ("from_json_line, 1 thread", line_1),
        ("serde_json::from_slice, 1 thread", plain_1),
        ("from_json_line, rayon", line_par),
    ] {
        println!("  {what:<34} {:.3} s", t.as_secs_f64());
    }
}

/// Each repetition opens the history in a fresh process (this bench run again with
/// `--open-once PATH`), as the app does at start: no repetition pays for freeing the one before.
fn rust_open(path: &Path, reps: u64, lines: usize) -> Vec<Duration> {
    let me = std::env::current_exe().expect("this bench's path");
    (0..reps)
        .map(|_| {
            let out = Command::new(&me)
                .arg("--open-once")
                .arg(path)
                .output()
                .expect("run the bench again");
            assert!(
                out.status.success(),
                "open failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            let fields: Vec<f64> = text
                .split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect();
            let [took, cpu, n] = fields[..] else {
                panic!("unexpected output of --open-once: {text}");
            };
            assert_eq!(n as usize, lines, "one record per line");
            println!(
                "  rust   open {took:.3} s  (cpu {cpu:.3} s, {:.2} cores)",
                cpu / took
            );
            Duration::from_secs_f64(took)
        })
        .collect()
}

/// `--open-once PATH`: opens the history once and prints "seconds cpu-seconds records".
fn open_once(path: &Path) {
    let (cpu0, start) = (testdata::process_cpu(), Instant::now());
    let store = black_box(HistoryStore::open(path).expect("open the history"));
    let took = start.elapsed();
    let cpu = testdata::process_cpu() - cpu0;
    println!(
        "{:.6} {:.6} {}",
        took.as_secs_f64(),
        cpu.as_secs_f64(),
        store.len()
    );
    std::mem::forget(store); // the process ends: no need to free it
}

/// Each repetition in a fresh `python3` process too (start-up not timed).
fn python_loads(path: &Path, reps: u64, lines: usize) -> Vec<Duration> {
    (0..reps)
        .flat_map(|_| python_loads_once(path, lines))
        .collect()
}

fn python_loads_once(path: &Path, lines: usize) -> Vec<Duration> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = Command::new(&python)
        .arg("-c")
        .arg(PYTHON_LOADS)
        .arg(path)
        .arg("1")
        .output()
        .unwrap_or_else(|e| panic!("run {python}: {e}"));
    assert!(
        out.status.success(),
        "{python} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut parts = l.split_whitespace();
            let secs: f64 = parts.next().and_then(|s| s.parse().ok()).expect("seconds");
            let n: usize = parts.next().and_then(|s| s.parse().ok()).expect("count");
            assert_eq!(n, lines, "python read every line");
            println!("  python loads {secs:.3} s");
            Duration::from_secs_f64(secs)
        })
        .collect()
}

fn min_median(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    let mid = times.len() / 2;
    let median = if times.len().is_multiple_of(2) {
        (times[mid - 1] + times[mid]) / 2
    } else {
        times[mid]
    };
    (times[0], median)
}
