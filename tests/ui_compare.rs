//! The Compare window driven headless (egui_kittest): opened by `Command::Compare` (as the
//! gallery opens it) and by the details panel's "Add to compare" (button and Ctrl+Shift+C);
//! it shows only the fields that differ, a prompt word only one job has, the images with a
//! missing file named by its path, and closes on Esc. Every wait is a bounded loop of frames.

use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use promptdesk::app::state::Command;
use promptdesk::app::{CompareItem, PromptDeskApp};
use promptdesk::outputs::{JobResult, OutputImage};
use promptdesk::{
    HistoryStore, JobStatus, build_run_config_for_manual_prompt, job_record_from_run_config,
};
use std::time::Duration;

mod support;
use support::*;

type App = Harness<'static, PromptDeskApp>;

/// Prompt "a red fox in snow", 20 steps, seed 1111; its image is on disk.
const FOX: &str = "job-fox";
/// As FOX with "moonlight" added, 30 steps, seed 2222; its image is on disk.
const MOON: &str = "job-moon";
/// As FOX with seed 3333; its image file is missing.
const LOST: &str = "job-lost";

fn completed(id: &str, prompt: &str, steps: u32, seed: i64, file: &str) -> promptdesk::JobRecord {
    let mut cfg = build_run_config_for_manual_prompt(prompt, "blurry", None);
    cfg.settings.steps = steps;
    cfg.settings.seed = seed;
    let mut record = job_record_from_run_config(id, &cfg);
    record.status = JobStatus::Completed;
    record.completed_at = Some(chrono::Utc::now());
    record.result = Some(JobResult {
        backend: "scripted".into(),
        images: vec![OutputImage {
            path: format!("outputs/{file}"),
            seed,
            width: 64,
            height: 48,
            sha256: format!("sha-{id}"),
            key: String::new(),
            variant: 1,
            rating: None,
            favorite: false,
        }],
        ..JobResult::default()
    });
    record
}

fn seed_jobs(setup: &Setup) {
    let outputs = setup.data_dir.join("outputs");
    std::fs::create_dir_all(&outputs).unwrap();
    std::fs::write(outputs.join("fox.png"), solid_png(64, 48, [200, 40, 40])).unwrap();
    std::fs::write(outputs.join("moon.png"), solid_png(64, 48, [40, 40, 200])).unwrap();
    let mut store = HistoryStore::open(history_file(setup)).unwrap();
    for record in [
        completed(FOX, "a red fox in snow", 20, 1111, "fox.png"),
        completed(MOON, "a red fox in snow, moonlight", 30, 2222, "moon.png"),
        completed(LOST, "a red fox in snow", 20, 3333, "lost.png"),
    ] {
        store.append(&record).unwrap();
    }
}

/// Steps frames until `done` holds (at most 2000 frames, a few ms apart).
fn step_until(harness: &mut App, what: &str, mut done: impl FnMut(&App) -> bool) {
    for _ in 0..2000 {
        harness.step();
        if done(harness) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("never happened: {what}");
}

fn window_open(harness: &App) -> bool {
    harness
        .query_by_role_and_label(Role::Window, "Compare")
        .is_some()
}

/// How many labels in the Compare window are exactly `label`.
fn in_window(harness: &App, label: &str) -> usize {
    harness
        .get_by_role_and_label(Role::Window, "Compare")
        .query_all_by_label(label)
        .count()
}

/// How many labels in the Compare window contain `text`.
fn in_window_contains(harness: &App, text: &str) -> usize {
    harness
        .get_by_role_and_label(Role::Window, "Compare")
        .query_all_by_label_contains(text)
        .count()
}

/// Every label of the Compare window, for failure messages.
fn window_labels(harness: &App) -> Vec<String> {
    harness
        .get_by_role_and_label(Role::Window, "Compare")
        .query_all_by_label_contains("")
        .filter_map(|n| {
            let node = n.accesskit_node();
            node.label().or_else(|| node.value())
        })
        .collect()
}

fn select(harness: &mut App, id: &str) {
    harness
        .state_mut()
        .push(Command::SelectJob(Some(id.to_owned())));
    harness.step();
    harness.run();
}

#[test]
fn compare_shows_only_what_differs_and_esc_closes_it() {
    let setup = setup();
    seed_jobs(&setup);
    let mut harness = harness(&setup);
    assert!(!window_open(&harness));

    harness.state_mut().push(Command::Compare(vec![
        CompareItem::job(FOX),
        CompareItem::job(MOON),
    ]));
    step_until(&mut harness, "the Compare window opens", window_open);
    harness.run();

    // Steps and seed differ, and the prompt (one word); the sampler, CFG, size do not.
    let labels = window_labels(&harness);
    assert_eq!(in_window(&harness, "Steps"), 1, "{labels:?}");
    assert_eq!(in_window(&harness, "Seed"), 1, "{labels:?}");
    assert_eq!(in_window(&harness, "Prompt"), 1, "{labels:?}");
    for same in ["Sampler", "CFG scale", "Size", "Negative prompt", "Backend"] {
        assert_eq!(
            in_window(&harness, same),
            0,
            "{same} is the same: {labels:?}"
        );
    }
    assert_eq!(in_window(&harness, "20"), 1, "{labels:?}");
    assert_eq!(in_window(&harness, "30"), 1, "{labels:?}");
    // The word only one job has is named, once (under that job's prompt).
    assert_eq!(
        in_window(&harness, "Not in all: moonlight"),
        1,
        "{labels:?}"
    );
    // Both prompts as written, each once.
    assert_eq!(in_window(&harness, "a red fox in snow"), 1, "{labels:?}");
    assert_eq!(
        in_window(&harness, "a red fox in snow, moonlight"),
        1,
        "{labels:?}"
    );
    // 15 fields compared, 3 differ.
    assert_eq!(
        in_window_contains(&harness, "12 fields are the same"),
        1,
        "{labels:?}"
    );
    // The captions: each job's seed.
    assert_eq!(in_window_contains(&harness, "Seed 1111"), 1, "{labels:?}");
    assert_eq!(in_window_contains(&harness, "Seed 2222"), 1, "{labels:?}");

    // Show all fields: the same ones appear too.
    harness.get_by_label("Show all fields").click();
    harness.run();
    assert_eq!(
        in_window(&harness, "Sampler"),
        1,
        "{:?}",
        window_labels(&harness)
    );
    assert_eq!(in_window(&harness, "CFG scale"), 1);

    // Esc closes it.
    harness.key_press(Key::Escape);
    harness.step();
    harness.run();
    assert!(!window_open(&harness));
    assert!(!harness.state().state.compare.open);
}

#[test]
fn add_to_compare_from_the_details_and_a_missing_image_shows_its_path() {
    let setup = setup();
    seed_jobs(&setup);
    let mut harness = harness(&setup);

    // The button in the details of the selected job.
    select(&mut harness, FOX);
    harness.get_by_label("Add to compare").click();
    harness.step();
    harness.run();
    assert!(window_open(&harness));
    assert!(
        in_window_contains(&harness, "Add at least two") > 0,
        "one item: {:?}",
        window_labels(&harness)
    );

    // Ctrl+Shift+C in the details of another job.
    select(&mut harness, LOST);
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::C);
    harness.step();
    harness.run();
    assert_eq!(
        harness.state().state.compare.items,
        vec![CompareItem::job(FOX), CompareItem::job(LOST)]
    );

    // The two jobs differ only in their seed.
    let labels = window_labels(&harness);
    assert_eq!(in_window(&harness, "Seed"), 1, "{labels:?}");
    assert_eq!(in_window(&harness, "Steps"), 0, "{labels:?}");
    assert_eq!(in_window(&harness, "Prompt"), 0, "{labels:?}");

    // LOST's image file is not there: its path is named; FOX's image is shown.
    step_until(&mut harness, "the missing file is named", |h| {
        in_window_contains(h, "Not found:") == 1 && in_window_contains(h, "lost.png") == 1
    });
    assert_eq!(in_window_contains(&harness, "fox.png"), 0);

    // Remove takes an item out of the tray.
    harness
        .get_by_role_and_label(Role::Window, "Compare")
        .get_all_by_label("Remove")
        .next()
        .unwrap()
        .click();
    harness.step();
    harness.run();
    assert_eq!(
        harness.state().state.compare.items,
        vec![CompareItem::job(LOST)]
    );

    // Esc closes the window, not the details behind it.
    harness.key_press(Key::Escape);
    harness.step();
    harness.run();
    assert!(!window_open(&harness));
    assert_eq!(harness.state().state.view.selected.as_deref(), Some(LOST));
}

#[test]
fn images_of_one_job_compare_by_their_own_seed() {
    let setup = setup();
    seed_jobs(&setup);
    let mut harness = harness(&setup);
    // An image item and a job item of FOX: the image's seed against the job's.
    harness.state_mut().push(Command::Compare(vec![
        CompareItem::image(FOX, "sha-FOX-missing"),
        CompareItem::image(MOON, "sha-job-moon"),
        CompareItem::image(FOX, "sha-job-fox"),
    ]));
    step_until(&mut harness, "the Compare window opens", window_open);
    harness.run();
    let labels = window_labels(&harness);
    // The image that is not in the job is named as gone; the other two are compared.
    assert_eq!(
        in_window_contains(&harness, "is no longer in the history"),
        1,
        "{labels:?}"
    );
    assert_eq!(in_window(&harness, "Seed"), 1, "{labels:?}");
    assert_eq!(
        in_window_contains(&harness, "image 1 of 1"),
        2,
        "{labels:?}"
    );
}

#[test]
fn ctrl_shift_c_in_the_viewer_adds_the_image_it_shows() {
    let setup = setup();
    seed_jobs(&setup);
    let mut harness = harness(&setup);
    select(&mut harness, MOON);
    harness.state_mut().state.details.open_viewer(MOON, 0);
    harness.run();
    // Ctrl+Shift+C in the viewer adds the image it shows (not the job behind it).
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::C);
    harness.step();
    harness.run();
    assert_eq!(
        harness.state().state.compare.items,
        vec![CompareItem::image(MOON, "sha-job-moon")]
    );
    // Again: no repeat, and the status line says so.
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::C);
    harness.step();
    harness.run();
    assert_eq!(harness.state().state.compare.items.len(), 1);
    assert!(
        harness
            .query_by_label_contains("is in Compare already")
            .is_some()
    );
}
