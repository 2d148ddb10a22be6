//! A job's images from the window, driven headless (egui_kittest): the thumbnails in the
//! details panel, the image viewer (seed, next image, Copy infotext, Re-run with this seed),
//! the rating keys stored through the history writer, and a missing image file shown as its
//! path. No timing assumptions: every wait is a bounded loop of frames.

use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use promptdesk::app::PromptDeskApp;
use promptdesk::app::state::Command;
use promptdesk::outputs::{JobResult, OutputImage};
use promptdesk::{
    HistoryStore, JobStatus, build_run_config_for_manual_prompt, job_record_from_run_config,
};

mod support;
use support::*;

type App = Harness<'static, PromptDeskApp>;

const JOB: &str = "job-with-images";

fn output(path: &str, seed: i64, sha: &str) -> OutputImage {
    OutputImage {
        path: path.into(),
        seed,
        width: 64,
        height: 48,
        sha256: sha.into(),
        key: String::new(),
        variant: 1,
        rating: None,
        favorite: false,
    }
}

/// A completed job whose result names two images; `missing_second`: the second file is not
/// written.
fn seed_job(setup: &Setup, missing_second: bool) {
    let outputs = setup.data_dir.join("outputs");
    std::fs::create_dir_all(&outputs).unwrap();
    std::fs::write(outputs.join("a.png"), solid_png(64, 48, [200, 40, 40])).unwrap();
    if !missing_second {
        std::fs::write(outputs.join("b.png"), solid_png(64, 48, [40, 200, 40])).unwrap();
    }
    let cfg = build_run_config_for_manual_prompt("a red fox in snow", "blurry", None);
    let mut record = job_record_from_run_config(JOB, &cfg);
    record.status = JobStatus::Completed;
    record.completed_at = Some(chrono::Utc::now());
    record.result = Some(JobResult {
        backend: "scripted".into(),
        images: vec![
            output("outputs/a.png", 1111, "aaaa"),
            output("outputs/b.png", 2222, "bbbb"),
        ],
        ..JobResult::default()
    });
    let mut store = HistoryStore::open(history_file(setup)).unwrap();
    store.append(&record).unwrap();
}

fn images_in_history(setup: &Setup) -> Vec<OutputImage> {
    let store = HistoryStore::open(history_file(setup)).unwrap();
    store.get(JOB).unwrap().result.clone().unwrap().images
}

/// The app with the job selected and its details shown.
fn app_with_job(setup: &Setup) -> App {
    let mut harness = harness(setup);
    harness
        .state_mut()
        .push(Command::SelectJob(Some(JOB.to_owned())));
    // The command is applied after this frame; the details are drawn by the next.
    harness.step();
    settle(&mut harness);
    harness
}

/// The text the last frame handed to the platform's clipboard.
fn copied_text(harness: &App) -> Option<String> {
    harness
        .output()
        .platform_output
        .commands
        .iter()
        .rev()
        .find_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
}

fn press(harness: &mut App, key: Key) {
    harness.key_press(key);
    harness.step();
}

/// Waits until the writer has recorded the image `index`'s state `check` in the history file.
fn wait_for_history(
    harness: &mut App,
    setup: &Setup,
    what: &str,
    check: impl Fn(&OutputImage) -> bool,
) {
    step_until(harness, what, |_| check(&images_in_history(setup)[1]));
}

#[test]
fn thumbnails_viewer_rating_and_copy() {
    let setup = setup();
    seed_job(&setup, false);
    let mut harness = app_with_job(&setup);

    // Two thumbnails, decoded off the UI thread.
    assert!(has_label(&harness, "Image 1 of 2"));
    assert!(has_label(&harness, "Image 2 of 2"));
    step_until(&mut harness, "both thumbnails held", |h| {
        h.state().state.thumbs.textures() == 2
    });

    // A click opens the viewer on the first image.
    harness.get_by_label("Image 1 of 2").click();
    harness.run();
    assert_eq!(
        harness.state().state.details.viewer_open(),
        Some((JOB.to_owned(), 0))
    );
    assert!(has_label(&harness, "Seed: 1111"));
    // The image's settings: sampler, scheduler, steps, CFG and clip skip.
    assert!(has_label(&harness, "20 steps · CFG 7 · clip skip 1"));

    // Right arrow: the second image.
    press(&mut harness, Key::ArrowRight);
    harness.run();
    assert_eq!(
        harness.state().state.details.viewer_open(),
        Some((JOB.to_owned(), 1))
    );
    assert!(has_label(&harness, "Seed: 2222"));

    // 4: four stars on that image, in the history file.
    press(&mut harness, Key::Num4);
    wait_for_history(&mut harness, &setup, "rating 4 stored", |i| {
        i.rating == Some(4)
    });
    assert_eq!(images_in_history(&setup)[0].rating, None);
    // F: favourite on.
    press(&mut harness, Key::F);
    wait_for_history(&mut harness, &setup, "favourite stored", |i| i.favorite);
    // 0: the stars cleared, the favourite kept.
    press(&mut harness, Key::Num0);
    wait_for_history(&mut harness, &setup, "rating cleared", |i| {
        i.rating.is_none() && i.favorite
    });

    // Copy infotext: this image's seed.
    harness.get_by_label("Copy infotext").click();
    harness.step();
    let text = copied_text(&harness).expect("the infotext is handed to the clipboard");
    assert!(text.contains("Seed: 2222"), "{text}");
    assert!(text.starts_with("a red fox in snow"), "{text}");
    harness.run();

    // Re-run with this seed: the composer gets the job with the image's seed.
    harness.get_by_label("Re-run with this seed").click();
    harness.run();
    let composer = &harness.state().state.composer;
    assert_eq!(composer.settings.seed, 2222);
    assert!(!composer.random_seed);
    assert_eq!(composer.prompt, "a red fox in snow");
    assert!(
        !composer.undo_load.is_empty(),
        "the previous draft can be brought back"
    );
    assert_eq!(harness.state().state.details.viewer_open(), None);
}

#[test]
fn escape_closes_the_viewer_and_keys_rate_a_hovered_thumbnail() {
    let setup = setup();
    seed_job(&setup, false);
    let mut harness = app_with_job(&setup);
    harness.get_by_label("Image 1 of 2").click();
    harness.run();
    assert!(harness.state().state.details.viewer_open().is_some());
    press(&mut harness, Key::Escape);
    harness.run();
    assert_eq!(harness.state().state.details.viewer_open(), None);
    // The details stay open behind it.
    assert!(harness.state().state.view.selected.is_some());

    harness.get_by_label("Image 2 of 2").hover();
    harness.run();
    press(&mut harness, Key::Num5);
    wait_for_history(&mut harness, &setup, "rating 5 stored", |i| {
        i.rating == Some(5)
    });
    // The job's rating (its best image's) shows in the details header and the table's
    // Rating column, beside the thumbnail's own stars.
    step_until(
        &mut harness,
        "the header, the table and the thumbnail show five stars",
        |h| count_labels(h, "★★★★★") == 3,
    );
}

#[test]
fn a_missing_image_file_shows_its_path_and_the_job_stays() {
    let setup = setup();
    seed_job(&setup, true);
    let mut harness = app_with_job(&setup);
    step_until(&mut harness, "the missing file is named", |h| {
        has_label(h, "Not found:") && has_label(h, "b.png")
    });
    // The viewer on it says so too, and does not crash.
    harness.get_by_label("Image 2 of 2").click();
    step_until(&mut harness, "the viewer names the missing file", |h| {
        has_label(h, "The image cannot be shown")
    });
    assert!(has_label(&harness, "Seed: 2222"));
    assert_eq!(images_in_history(&setup).len(), 2);
    assert_eq!(
        harness.state().state.view.selected.as_deref(),
        Some(JOB),
        "the job stays"
    );
}

#[test]
fn re_run_with_this_seed_asks_before_replacing_a_typed_draft() {
    let setup = setup();
    seed_job(&setup, false);
    let mut harness = app_with_job(&setup);
    harness.state_mut().state.composer.prompt = "my own draft, not saved anywhere".into();
    harness.get_by_label("Image 2 of 2").click();
    harness.run();
    harness.get_by_label("Re-run with this seed").click();
    harness.run();
    assert!(has_label(&harness, "Replace your draft?"));
    // Keep: nothing changes.
    harness.get_by_label("Keep my draft").click();
    harness.run();
    assert!(!has_label(&harness, "Replace your draft?"));
    assert_eq!(
        harness.state().state.composer.prompt,
        "my own draft, not saved anywhere"
    );
    // Replace: the job with the image's seed; Undo load has the draft.
    harness.get_by_label("Image 2 of 2").click();
    harness.run();
    harness.get_by_label("Re-run with this seed").click();
    harness.run();
    harness.get_by_label("Replace the draft").click();
    harness.run();
    let composer = &harness.state().state.composer;
    assert_eq!(composer.prompt, "a red fox in snow");
    assert_eq!(composer.settings.seed, 2222);
    assert!(
        !composer.undo_load.is_empty(),
        "the draft can be brought back"
    );
}

#[test]
fn re_run_with_this_seed_asks_when_pack_keys_are_checked() {
    let setup = setup();
    seed_job(&setup, false);
    let mut harness = app_with_job(&setup);
    {
        let state = &mut harness.state_mut().state;
        state.composer.mode = promptdesk::run_config::PromptSource::Pack;
        state.checked_keys = vec!["1".into()];
    }
    harness.get_by_label("Image 1 of 2").click();
    harness.run();
    harness.get_by_label("Re-run with this seed").click();
    harness.run();
    assert!(has_label(&harness, "Replace your draft?"));
    press(&mut harness, Key::Escape);
    harness.run();
    assert!(!has_label(&harness, "Replace your draft?"));
    assert_eq!(harness.state().state.checked_keys, ["1"], "kept");
}
