//! The details of an imported job show the seed the backend used next to the configured one,
//! and Copy as infotext writes it (issue 11).

mod support;

use egui_kittest::kittest::Queryable;
use promptdesk::history::HistoryStore;
use support::{history_file, settle, setup, sized_harness};

#[test]
fn an_imported_job_shows_and_copies_the_seed_it_was_rendered_with() {
    let setup = setup();
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/promptdesk-core/tests/fixtures/reimport/seed_done.jsonl"
    );
    let mut store = HistoryStore::open(history_file(&setup)).unwrap();
    promptdesk::history::import_stablenew(&mut store, std::path::Path::new(file)).unwrap();
    drop(store);
    let mut harness = sized_harness(&setup, [1280.0, 1000.0]);
    settle(&mut harness);
    harness
        .get_by_label("a lighthouse on a cliff, evening")
        .click();
    settle(&mut harness);
    harness.get_by_label("Seed used");
    harness.get_by_label("1234567890");
    harness.get_by_label("random (-1)");

    harness.get_by_label("Copy as infotext").click();
    harness.step();
    let copied = harness
        .output()
        .platform_output
        .commands
        .iter()
        .rev()
        .find_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
        .expect("the infotext is handed to the clipboard");
    assert!(copied.contains("Seed: 1234567890,"), "{copied}");
    assert!(copied.starts_with("a lighthouse on a cliff, evening\nNegative prompt: blurry\n"));
}
