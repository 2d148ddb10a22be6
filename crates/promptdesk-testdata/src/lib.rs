//! Seeded, deterministic data for promptdesk's tests and benchmarks: a generator of realistic
//! synthetic data (promptdesk histories, StableNew `job_history.jsonl` files and packs
//! folders), the on-disk cache of generated data under `target/bench-data`, and measuring
//! helpers (CPU-time clocks, resident memory, sizes).
//!
//! Everything is seeded: the same arguments give byte-identical files, whatever the number of
//! threads (each record draws from its own generator, seeded by the file seed and its index).
//!
//! Modules by role: [`rng`] (the generator), [`text`] (prompts and settings), [`history`]
//! (promptdesk records and the packs they refer to), [`stablenew`] (StableNew lines),
//! [`packs`] (packs folders), [`cache`] (generated-once files), [`measure`] (clocks, memory).
//! Everything a benchmark uses is re-exported at the crate root.

pub mod cache;
pub mod history;
pub mod measure;
pub mod packs;
pub mod rng;
pub mod stablenew;
pub mod text;

pub use cache::{
    cache_dir, cached_history, cached_imported_stablenew, cached_packs, cached_stablenew,
    cached_stablenew_jobs,
};
pub use history::{
    HISTORY_PACKS, KEYS_PER_PACK, history_packs, history_record, pack_id, write_history,
};
pub use measure::{
    count_lines, current_rss, folder_bytes, now_rfc3339, peak_rss, process_cpu, thread_cpu,
};
pub use packs::write_packs;
pub use rng::Rng;
pub use stablenew::{write_stablenew, write_stablenew_jobs};
pub use text::{negative_prompt, positive_prompt, prompt_len, settings};

/// Bump when the generator's output changes, so stale cached files are not reused.
pub const DATA_VERSION: u32 = 2;

/// The default seed of every generated file.
pub const DEFAULT_SEED: u64 = 0x5EED_2026;
