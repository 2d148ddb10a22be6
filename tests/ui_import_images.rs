//! File → Import images folder, driven headless (egui_kittest): the folder picked (a stand-in
//! for the system dialog), the import running off the UI thread through the history writer,
//! the jobs it adds shown in the history table with their prompts, the message with the
//! report's counts, a second import adding nothing, Cancel between batches (the menu entries
//! disabled meanwhile) and a missing folder named in the message. No timing assumptions:
//! every wait is a bounded loop of frames.

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use promptdesk::HistoryStore;
use promptdesk::app::PromptDeskApp;
use promptdesk::app::dialogs::{Pick, PickResult};
use promptdesk::app::state::Command;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod support;
use support::*;

#[path = "../crates/promptdesk-core/tests/support/image_fixtures.rs"]
mod image_fixtures;
use image_fixtures::Text;

type App = Harness<'static, PromptDeskApp>;

/// The prompts of the images [`images_folder`] writes.
const PROMPTS: [&str; 3] = [
    "a lighthouse at dawn",
    "a red fox in snow",
    "an old castle in fog",
];

/// A1111's `parameters` text for `prompt`.
fn parameters(prompt: &str, seed: u32) -> String {
    format!(
        "{prompt}\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: {seed}, Size: 8x8, Model: dreamshaper"
    )
}

/// A folder beside the data folder with one A1111 PNG per prompt of [`PROMPTS`] and a file
/// named like a PNG that is not one.
fn images_folder(setup: &Setup) -> PathBuf {
    let pics = setup.data_dir.parent().unwrap().join("pics");
    std::fs::create_dir_all(&pics).unwrap();
    for (i, prompt) in PROMPTS.iter().enumerate() {
        let text = parameters(prompt, 1000 + i as u32);
        let png = image_fixtures::png(
            8,
            8,
            [40 * i as u8, 90, 160],
            &[("parameters", &text, Text::Plain)],
        );
        std::fs::write(pics.join(format!("{i:02}.png")), png).unwrap();
    }
    std::fs::write(pics.join("broken.png"), b"not a png at all").unwrap();
    pics
}

fn importing(harness: &App) -> bool {
    harness.state().state.image_import.is_some()
}

/// Starts an import of `dir` through the command the folder dialog answers with, and waits
/// for it to finish; the history table is settled afterwards.
fn import(harness: &mut App, dir: &Path) -> String {
    harness.state_mut().push(Command::ImportImages {
        dir: dir.to_path_buf(),
        recursive: false,
    });
    harness.step();
    step_until(harness, "the import finishes", |h| !importing(h));
    settle(harness);
    status_text(harness)
}

fn records_on_disk(setup: &Setup) -> usize {
    HistoryStore::open(history_file(setup)).unwrap().len()
}

fn menu_entry_disabled(harness: &App, label: &str) -> bool {
    harness.get_by_label(label).accesskit_node().is_disabled()
}

#[test]
fn a_picked_folder_is_imported_and_its_jobs_show_in_the_table_once() {
    let setup = setup();
    let pics = images_folder(&setup);
    let mut harness = harness(&setup);
    harness.get_by_label("0 records, 0 shown");

    // File → Import images folder..., answered by a stand-in for the system dialog.
    let picked = pics.clone();
    harness.state_mut().state.dialogs.backend = Arc::new(move |pick: &Pick| {
        assert_eq!(*pick, Pick::ImagesFolder { recursive: false });
        PickResult::Picked(vec![picked.clone()])
    });
    harness.get_by_label("File").click();
    harness.run();
    harness.get_by_label("Import images folder...").click();
    harness.step();
    step_until(&mut harness, "the import starts", importing);
    step_until(&mut harness, "the import finishes", |h| !importing(h));
    settle(&mut harness);

    let dir = pics.display().to_string();
    let text = status_text(&harness);
    assert!(
        text.starts_with(&format!(
            "Imported images from {dir}: 4 images found: 3 imported, 0 already in the history; 1 unreadable."
        )),
        "{text}"
    );
    assert!(text.contains("Unreadable: broken.png ("), "{text}");
    // The message is on screen, and the new jobs are rows of the table, with their prompts.
    harness.get_by_label_contains("3 imported, 0 already in the history");
    harness.get_by_label("3 records, 3 shown");
    for prompt in PROMPTS {
        harness.get_by_label(prompt);
    }
    assert_eq!(records_on_disk(&setup), 3);

    // The same folder again: nothing new.
    let text = import(&mut harness, &pics);
    assert!(
        text.starts_with(&format!(
            "Imported images from {dir}: 4 images found: 0 imported, 3 already in the history; 1 unreadable."
        )),
        "{text}"
    );
    harness.get_by_label("3 records, 3 shown");
    assert_eq!(records_on_disk(&setup), 3);
}

#[test]
fn a_missing_folder_or_a_file_is_named_in_the_message_and_nothing_is_written() {
    let setup = setup();
    let mut harness = harness(&setup);
    let missing = setup.data_dir.parent().unwrap().join("no-such-pics");
    let text = import(&mut harness, &missing);
    assert_eq!(
        text,
        format!(
            "Could not import images from {}: there is no such folder.",
            missing.display()
        )
    );
    harness.get_by_label(&text);

    let file = setup.data_dir.parent().unwrap().join("one.png");
    std::fs::write(&file, b"x").unwrap();
    let text = import(&mut harness, &file);
    assert_eq!(
        text,
        format!(
            "Could not import images from {}: it is not a folder.",
            file.display()
        )
    );
    harness.get_by_label("0 records, 0 shown");
    assert_eq!(records_on_disk(&setup), 0);
}

/// 1,100 images: the import writes its first 1,024 jobs in one append, then looks at the
/// cancel flag before its next batch. The history's file lock, held here, keeps that append
/// waiting (said in the status line) while Cancel is pressed, so the cancel lands exactly
/// between two batches.
#[test]
fn cancel_stops_between_batches_and_says_how_many_were_imported() {
    let setup = setup();
    let pics = setup.data_dir.parent().unwrap().join("many");
    std::fs::create_dir_all(&pics).unwrap();
    for i in 0..1100u32 {
        let png = image_fixtures::png(2, 2, [i as u8, (i >> 8) as u8, 7], &[]);
        std::fs::write(pics.join(format!("img{i:04}.png")), png).unwrap();
    }
    let mut harness = harness(&setup);
    let history = history_file(&setup);
    if !history.exists() {
        std::fs::write(&history, b"").unwrap();
    }
    let holder = std::fs::File::options()
        .read(true)
        .append(true)
        .open(&history)
        .unwrap();
    holder.lock().unwrap();

    harness.state_mut().push(Command::ImportImages {
        dir: pics.clone(),
        recursive: false,
    });
    harness.step();
    // The progress row: the third batch of 256 is done, the append after the fourth waits.
    step_until(&mut harness, "the import waits for its first append", |h| {
        h.query_by_label_contains("reading images, 768 of 1100")
            .is_some()
    });
    // One import at a time: both menu entries are disabled meanwhile.
    // (Frames are stepped, not run to rest: the progress row's spinner keeps repainting.)
    harness.get_by_label("File").click();
    harness.run_steps(3);
    assert!(menu_entry_disabled(&harness, "Import images folder..."));
    assert!(menu_entry_disabled(
        &harness,
        "Import images folder with sub-folders..."
    ));
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);

    // The append waits for the history: the status line says so (the writer retries).
    step_until(
        &mut harness,
        "the status line says the history is busy",
        |h| status_text(h).contains("promptdesk records the imported images by itself"),
    );

    harness.get_by_label("Cancel import").click();
    harness.step();
    step_until(&mut harness, "the progress says it is cancelling", |h| {
        h.query_by_label_contains("cancelling after this batch")
            .is_some()
    });
    holder.unlock().unwrap();
    step_until(&mut harness, "the import finishes", |h| !importing(h));
    settle(&mut harness);

    let text = status_text(&harness);
    assert!(
        text.contains("1100 images found: 1024 imported, 0 already in the history"),
        "{text}"
    );
    assert!(text.contains("cancelled before the end"), "{text}");
    assert!(
        text.contains(
            "Cancelled: 1024 images imported before the cancel (they stay in the history)"
        ),
        "{text}"
    );
    assert_eq!(records_on_disk(&setup), 1024);
    assert_eq!(harness.state().state.counts().0, 1024);
    assert!(harness.query_by_label("Cancel import").is_none());
    // The menu entries are back.
    harness.get_by_label("File").click();
    harness.run();
    assert!(!menu_entry_disabled(&harness, "Import images folder..."));
}
