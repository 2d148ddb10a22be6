//! The on-disk cache of generated data under `target/bench-data` (built once, appears atomically).

use crate::history::write_history;
use crate::packs::write_packs;
use crate::stablenew::{write_stablenew, write_stablenew_jobs};
use crate::{DATA_VERSION, DEFAULT_SEED};
use promptdesk_core::history::{HistoryStore, import_stablenew};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The workspace's root folder (two levels above this crate).
fn workspace_root() -> &'static Path {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().and_then(Path::parent).unwrap_or(here)
}

/// `target/bench-data/v<DATA_VERSION>` under the workspace root (git-ignored).
pub fn cache_dir() -> PathBuf {
    workspace_root()
        .join("target")
        .join("bench-data")
        .join(format!("v{DATA_VERSION}"))
}

/// Builds `final_path` with `make(tmp_path)` unless it already exists; the result appears
/// atomically (a rename), so an interrupted run never leaves a half-written file in the cache.
pub(crate) fn cached(final_path: PathBuf, make: impl FnOnce(&Path) -> io::Result<()>) -> PathBuf {
    if final_path.exists() {
        return final_path;
    }
    let parent = final_path.parent().expect("cache paths have a parent");
    fs::create_dir_all(parent).expect("create the bench-data folder");
    let tmp = parent.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        final_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let _ = fs::remove_dir_all(&tmp);
    let _ = fs::remove_file(&tmp);
    let started = std::time::Instant::now();
    eprintln!("generating {} ...", final_path.display());
    make(&tmp).expect("generate bench data");
    fs::rename(&tmp, &final_path).expect("move generated data into the cache");
    eprintln!("  done in {:.1} s", started.elapsed().as_secs_f64());
    final_path
}

/// A promptdesk history of `n` records (default seed), generated once.
pub fn cached_history(n: u64) -> PathBuf {
    cached(cache_dir().join(format!("history-{n}.jsonl")), |tmp| {
        write_history(tmp, n, DEFAULT_SEED).map(|_| ())
    })
}

/// A StableNew `job_history.jsonl` of `lines` lines (default seed), generated once.
pub fn cached_stablenew(lines: u64) -> PathBuf {
    cached(
        cache_dir().join(format!("stablenew-{lines}.jsonl")),
        |tmp| write_stablenew(tmp, lines, DEFAULT_SEED).map(|_| ()),
    )
}

/// A packs folder of `m` packs (default seed), generated once.
pub fn cached_packs(m: usize) -> PathBuf {
    cached(cache_dir().join(format!("packs-{m}")), |tmp| {
        write_packs(tmp, m, DEFAULT_SEED).map(|_| ())
    })
}

/// A StableNew `job_history.jsonl` of exactly `jobs` jobs (default seed), generated once.
pub fn cached_stablenew_jobs(jobs: u64) -> PathBuf {
    cached(
        cache_dir().join(format!("stablenew-{jobs}-jobs.jsonl")),
        |tmp| write_stablenew_jobs(tmp, jobs, DEFAULT_SEED).map(|_| ()),
    )
}

/// A promptdesk history of `jobs` records made the way users make theirs from StableNew: the
/// file of [`cached_stablenew_jobs`]`(jobs)` imported with the real import code
/// (`import_stablenew` into a new, empty history), generated once.
pub fn cached_imported_stablenew(jobs: u64) -> PathBuf {
    let source = cached_stablenew_jobs(jobs);
    cached(
        cache_dir().join(format!("imported-stablenew-{jobs}.jsonl")),
        |tmp| {
            let mut store = HistoryStore::open(tmp).map_err(io::Error::other)?;
            let report = import_stablenew(&mut store, &source).map_err(io::Error::other)?;
            eprintln!(
                "  imported {} of {} jobs from {}",
                report.imported,
                report.jobs,
                source.display()
            );
            Ok(())
        },
    )
}
