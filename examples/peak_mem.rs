//! Peak memory (VmHWM from /proc/self/status) of loading a history, against its file size.
//!
//! ```text
//! cargo run --release --example peak_mem -- all target/bench-data/v1/history-1000000.jsonl
//! cargo run --release --example peak_mem -- store FILE
//! ```
//!
//! Modes (each measured in a fresh process, since the peak is per process):
//! * `read`: `std::fs::read` of the file (the bytes alone);
//! * `serde`: the bytes plus plain `serde_json::from_slice::<JobRecord>` per line into a
//!   `Vec<JobRecord>` (the baseline);
//! * `store`: `HistoryStore::open` (the whole file at once);
//! * `stream`: `HistoryStore::open_partial` and `load_more` in 8 MB steps (what the app does);
//! * `stream+index`: the same plus the `SearchIndex` the app's query worker builds for a search;
//! * `import`: `read_stablenew_history` of a StableNew `job_history.jsonl`;
//! * `all`: runs every mode but `import` on FILE, each in a child process.

use promptdesk_testdata as testdata;

use promptdesk::{HistoryStore, JobRecord};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(file)) = (args.first(), args.get(1)) else {
        eprintln!("usage: peak_mem <read|serde|store|stream|stream+index|import|all> FILE");
        std::process::exit(2);
    };
    let path = Path::new(file);
    let size = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => {
            eprintln!("peak_mem: {}: {e}", path.display());
            std::process::exit(1);
        }
    };
    if mode == "all" {
        let exe = std::env::current_exe().expect("own path");
        for m in ["read", "serde", "store", "stream", "stream+index"] {
            let status = Command::new(&exe).args([m, file]).status();
            if !status.is_ok_and(|s| s.success()) {
                eprintln!("peak_mem: mode {m} failed");
                std::process::exit(1);
            }
        }
        return;
    }
    let base = testdata::current_rss();
    let start = Instant::now();
    // What the mode loaded stays alive (in `held`) until after the measurement.
    let (items, kept): (usize, Box<dyn std::any::Any>) = match mode.as_str() {
        "read" => {
            let bytes = std::fs::read(path).expect("read");
            let n = testdata::count_lines(&bytes);
            (n, Box::new(bytes))
        }
        "serde" => {
            let bytes = std::fs::read(path).expect("read");
            let mut records: Vec<JobRecord> = Vec::new();
            for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                if let Ok(r) = serde_json::from_slice::<JobRecord>(line) {
                    records.push(r);
                }
            }
            (records.len(), Box::new(records))
        }
        "store" => {
            let store = HistoryStore::open(path).expect("open");
            (store.len(), Box::new(store))
        }
        "stream" => {
            let mut store = HistoryStore::open_partial(path, 4 << 20).expect("open_partial");
            while !store.load_more(8 << 20).expect("load_more") {}
            (store.len(), Box::new(store))
        }
        "stream+index" => {
            let mut store = HistoryStore::open_partial(path, 4 << 20).expect("open_partial");
            while !store.load_more(8 << 20).expect("load_more") {}
            let index = promptdesk::history::SearchIndex::build(store.records());
            (store.len(), Box::new((store, index)))
        }
        "import" => {
            let (records, _) =
                promptdesk::history::read_stablenew_history(path).expect("read StableNew history");
            (records.len(), Box::new(records))
        }
        other => {
            eprintln!("peak_mem: unknown mode {other}");
            std::process::exit(2);
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let peak = testdata::peak_rss();
    let held = testdata::current_rss();
    std::hint::black_box(&kept);
    println!(
        "{mode:>12}: file {:.1} MB, {items} items, {secs:.2} s; peak RSS {:.1} MB = {:.2} x file \
         (process before: {:.1} MB; held after loading: {:.1} MB = {:.2} x file)",
        size as f64 / 1e6,
        peak as f64 / 1e6,
        peak as f64 / size as f64,
        base as f64 / 1e6,
        held as f64 / 1e6,
        held as f64 / size as f64,
    );
    drop(kept);
}
