//! promptdesk: prompt packs, prompt-origin-tagged run configs and a crash-safe job history.
//!
//! The core lives in the `promptdesk-core` crate (no GUI or CLI dependency) and is re-exported
//! here at the crate root, so `promptdesk::HistoryStore`, `promptdesk::history::...` and the
//! other names keep their paths. This package adds the two faces on it: the desktop app
//! (`app`) and the CLI (`cli`).

pub use promptdesk_core::*;

pub mod app;
pub mod cli;
