//! Helpers shared by the UI test binaries (each includes this module with `mod support;`):
//! a data folder with the fixture packs, and the real app driven headless.
#![allow(dead_code)]

pub mod cli;

use egui_kittest::Harness;
use promptdesk::app::state::AppState;
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

/// A data folder and a packs folder holding the fixture packs of tests/fixtures/ui/packs.
pub fn setup() -> Setup {
    setup_with(FIXTURE_PACKS)
}

/// Copies the files of `from` into `to`, sub-folders (such as `wildcards/`) included.
pub fn copy_folder(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A data folder and a packs folder holding a copy of the files in `packs`.
pub fn setup_with(packs: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let packs_dir = dir.path().join("packs");
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::create_dir_all(&packs_dir).unwrap();
    copy_folder(std::path::Path::new(packs), &packs_dir);
    Setup {
        _dir: dir,
        data_dir,
        packs_dir,
    }
}

pub fn history_file(setup: &Setup) -> PathBuf {
    setup.data_dir.join("history.jsonl")
}

/// The real app on the setup's folders in a 1400 x 950 window, settled.
pub fn harness(setup: &Setup) -> Harness<'static, PromptDeskApp> {
    sized_harness(setup, [1400.0, 950.0])
}

/// The real app on the setup's folders in a window of `size`, settled.
pub fn sized_harness(setup: &Setup, size: [f32; 2]) -> Harness<'static, PromptDeskApp> {
    let config = AppConfig {
        data_dir: setup.data_dir.clone(),
        packs_dir: setup.packs_dir.clone(),
        restore_packs_dir: false,
    };
    settled(builder(size).build_eframe(move |cc| PromptDeskApp::new(cc, config)))
}

/// The app around a state the test built, in a 1400 x 950 window, settled.
pub fn harness_of_state(state: AppState) -> Harness<'static, PromptDeskApp> {
    settled(builder([1400.0, 950.0]).build_eframe(move |_| PromptDeskApp::with_state(state)))
}

/// A harness builder for a window of `size`.
pub fn builder(size: [f32; 2]) -> egui_kittest::HarnessBuilder<PromptDeskApp> {
    Harness::<PromptDeskApp>::builder()
        // Background work (pack scan, queries, the history writer) finishing during run() asks for
        // a few more frames; do not fail for that on a slow machine.
        .with_max_steps(64)
        .with_size(size)
}

fn settled(mut harness: Harness<'static, PromptDeskApp>) -> Harness<'static, PromptDeskApp> {
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

/// The status line's text (empty without a message).
pub fn status_text(harness: &Harness<'static, PromptDeskApp>) -> String {
    use promptdesk::app::state::Message;
    match &harness.state().state.message {
        Some(Message::Info(t) | Message::Error(t)) => t.clone(),
        None => String::new(),
    }
}

/// Steps frames until `done` holds (at most 3000 frames, a few ms apart); panics naming
/// `what` and the status line otherwise. No timing assumption: a bounded loop of frames.
pub fn step_until(
    harness: &mut Harness<'static, PromptDeskApp>,
    what: &str,
    mut done: impl FnMut(&Harness<'static, PromptDeskApp>) -> bool,
) {
    for _ in 0..3000 {
        harness.step();
        if done(harness) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!(
        "never happened: {what} (status line: {})",
        status_text(harness)
    );
}

/// How many widgets' accessible names contain `label`.
pub fn count_labels(harness: &Harness<'static, PromptDeskApp>, label: &str) -> usize {
    use egui_kittest::kittest::Queryable;
    harness.query_all_by_label_contains(label).count()
}

/// True when some widget's accessible name contains `label`.
pub fn has_label(harness: &Harness<'static, PromptDeskApp>, label: &str) -> bool {
    count_labels(harness, label) > 0
}

/// A `w` × `h` PNG of one colour (test images).
pub fn solid_png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    let image = image::RgbaImage::from_pixel(w, h, image::Rgba([rgb[0], rgb[1], rgb[2], 255]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}
