//! Helpers shared by the UI test binaries (each includes this module with `mod support;`):
//! a data folder with the fixture packs, and the real app driven headless.
#![allow(dead_code)]

use egui_kittest::Harness;
use promptdesk::app::{AppConfig, PromptDeskApp};
use std::path::PathBuf;
use std::time::Duration;

pub const FIXTURE_PACKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/packs");
pub const BROKEN_PACK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/ui/broken_pack.json"
);

pub struct Setup {
    pub _dir: tempfile::TempDir,
    pub data_dir: PathBuf,
    pub packs_dir: PathBuf,
}

pub fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let packs_dir = dir.path().join("packs");
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::create_dir_all(&packs_dir).unwrap();
    for entry in std::fs::read_dir(FIXTURE_PACKS).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), packs_dir.join(entry.file_name())).unwrap();
    }
    Setup {
        _dir: dir,
        data_dir,
        packs_dir,
    }
}

pub fn history_file(setup: &Setup) -> PathBuf {
    setup.data_dir.join("history.jsonl")
}

pub fn harness(setup: &Setup) -> Harness<'static, PromptDeskApp> {
    let config = AppConfig {
        data_dir: setup.data_dir.clone(),
        packs_dir: setup.packs_dir.clone(),
        restore_packs_dir: false,
    };
    let mut harness = Harness::builder()
        // Background work (pack scan, queries, the history writer) finishing during run() asks for
        // a few more frames; do not fail for that on a slow machine.
        .with_max_steps(64)
        .with_size([1400.0, 950.0])
        .build_eframe(move |cc| PromptDeskApp::new(cc, config));
    settle(&mut harness);
    harness
}

/// Steps frames until background loading and queries are done, then lets the UI settle.
pub fn settle(harness: &mut Harness<'static, PromptDeskApp>) {
    for _ in 0..1000 {
        harness.step();
        if !harness.state().state.is_busy() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        !harness.state().state.is_busy(),
        "the app never finished loading"
    );
    harness.run();
}
