//! The Gallery from the window, driven headless (egui_kittest): the images of the rows the
//! history's filters select, keyboard navigation, rating keys stored through the history
//! writer, "Favourites only" / "Rated at least", Enter opening the viewer, marking images for
//! Compare, a missing file named in its cell, and a long gallery keeping only a bounded number
//! of textures. No timing assumptions: every wait is a bounded loop of frames.

use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use promptdesk::app::PromptDeskApp;
use promptdesk::app::state::{CentralView, Command};
use promptdesk::outputs::{JobResult, OutputImage, sha256_hex};
use promptdesk::{
    HistoryStore, JobStatus, build_run_config_for_manual_prompt, job_record_from_run_config,
};

mod support;
use support::*;

type App = Harness<'static, PromptDeskApp>;

/// `jobs` completed jobs `job-000`, `job-001`, … (the last is the newest), each with
/// `per_job` images on disk (distinct colours, so distinct hashes), prompts "subject N".
/// `missing`: the file of job 0's first image is not written.
fn seed_jobs(setup: &Setup, jobs: usize, per_job: usize, missing: bool) {
    let outputs = setup.data_dir.join("outputs");
    std::fs::create_dir_all(&outputs).unwrap();
    let mut store = HistoryStore::open(history_file(setup)).unwrap();
    let start = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut records = Vec::new();
    for j in 0..jobs {
        let cfg = build_run_config_for_manual_prompt(&format!("subject {j}"), "blurry", None);
        let mut record = job_record_from_run_config(&format!("job-{j:03}"), &cfg);
        record.created_at = start + chrono::Duration::seconds(j as i64);
        record.status = JobStatus::Completed;
        record.completed_at = Some(record.created_at);
        let images = (0..per_job)
            .map(|i| {
                let n = j * per_job + i;
                let bytes = solid_png(
                    48,
                    32,
                    [(n % 251) as u8, (n / 251 % 251) as u8, 90 + i as u8],
                );
                let name = format!("outputs/j{j}_{i}.png");
                if !(missing && j == 0 && i == 0) {
                    std::fs::write(setup.data_dir.join(&name), &bytes).unwrap();
                }
                OutputImage {
                    path: name,
                    seed: 1000 + n as i64,
                    width: 48,
                    height: 32,
                    sha256: sha256_hex(&bytes),
                    key: String::new(),
                    variant: 1,
                    rating: None,
                    favorite: false,
                }
            })
            .collect();
        record.result = Some(JobResult {
            backend: "scripted".into(),
            images,
            ..JobResult::default()
        });
        records.push(record);
    }
    store.append_many(&records).unwrap();
}

/// Asks the app (its history writer) to give image `index` of `job` this many stars.
fn rate(harness: &mut App, setup: &Setup, job: &str, index: usize, stars: u8) {
    let sha256 = image_in_history(setup, job, index).sha256;
    harness.state_mut().push(Command::RateImage {
        job_id: job.into(),
        sha256,
        change: promptdesk::app::writer::RatingChange::Stars(Some(stars)),
    });
}

fn image_in_history(setup: &Setup, job: &str, index: usize) -> OutputImage {
    let store = HistoryStore::open(history_file(setup)).unwrap();
    store.get(job).unwrap().result.clone().unwrap().images[index].clone()
}

/// True when a Gallery cell's name contains `label` (the status line may name an image too).
fn has_cell(harness: &App, label: &str) -> bool {
    harness
        .query_all_by_label_contains(label)
        .any(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
}

fn press(harness: &mut App, key: Key) {
    harness.key_press(key);
    harness.step();
}

/// The app showing the Gallery, every visible thumbnail uploaded.
fn gallery(setup: &Setup) -> App {
    let mut harness = harness(setup);
    harness
        .state_mut()
        .push(Command::ShowView(CentralView::Gallery));
    harness.step();
    step_until(&mut harness, "the thumbnails are shown", |h| {
        let thumbs = &h.state().state.thumbs;
        thumbs.stats.uploads > 0 && !thumbs.is_busy()
    });
    harness.run();
    harness
}

fn cursor_job(harness: &App) -> Option<String> {
    harness
        .state()
        .state
        .gallery
        .cursor()
        .map(|c| c.job_id.clone())
}

#[test]
fn the_gallery_shows_the_images_of_the_rows_the_filters_select_newest_first() {
    let setup = setup();
    seed_jobs(&setup, 4, 2, false);
    let mut harness = gallery(&setup);
    assert!(has_label(&harness, "8 images of 4 jobs"));
    // Newest job first, its images in order.
    let items = harness.state().state.gallery.items().to_vec();
    assert_eq!(items.len(), 8);
    assert!(has_cell(&harness, "Image 1 of job job-003"));
    assert!(has_cell(&harness, "Image 2 of job job-000"));
    assert!(
        harness.state().state.thumbs.textures() >= 8,
        "every image on screen has its thumbnail"
    );

    // The history's search narrows the gallery too.
    harness.state_mut().state.view.filter.text = "job-002".into();
    step_until(&mut harness, "the gallery follows the filter", |h| {
        has_label(h, "2 images of 1 job")
    });
    assert!(!has_label(&harness, "job-003"));
    assert!(has_cell(&harness, "Image 2 of job job-002"));
}

#[test]
fn arrow_keys_move_and_number_keys_rate_the_image_under_the_cursor() {
    let setup = setup();
    seed_jobs(&setup, 3, 2, false);
    let mut harness = gallery(&setup);
    harness
        .get_by_label_contains("Image 1 of job job-002")
        .click();
    harness.run();
    assert_eq!(cursor_job(&harness).as_deref(), Some("job-002"));
    // Its job is selected (the details show it).
    assert_eq!(
        harness.state().state.view.selected.as_deref(),
        Some("job-002")
    );

    // Right: the job's second image; Right again: the next job's first.
    press(&mut harness, Key::ArrowRight);
    press(&mut harness, Key::ArrowRight);
    harness.run();
    assert_eq!(cursor_job(&harness).as_deref(), Some("job-001"));
    assert_eq!(
        harness.state().state.view.selected.as_deref(),
        Some("job-001")
    );
    // The table scrolled to its row (the second, newest first).
    assert_eq!(harness.state().state.view.cursor_row, Some(1));

    // 4 rates it, F makes it a favourite: both in the history file.
    press(&mut harness, Key::Num4);
    step_until(&mut harness, "4 stars stored", |_| {
        image_in_history(&setup, "job-001", 0).rating == Some(4)
    });
    press(&mut harness, Key::F);
    step_until(&mut harness, "favourite stored", |_| {
        image_in_history(&setup, "job-001", 0).favorite
    });
    assert_eq!(image_in_history(&setup, "job-002", 1).rating, None);
    step_until(&mut harness, "the cell says so", |h| {
        has_cell(h, "Image 1 of job job-001, 4 stars, favourite")
    });

    // Home and End.
    press(&mut harness, Key::End);
    harness.run();
    assert_eq!(cursor_job(&harness).as_deref(), Some("job-000"));
    press(&mut harness, Key::Home);
    harness.run();
    assert_eq!(cursor_job(&harness).as_deref(), Some("job-002"));

    // Enter opens the viewer on the image under the cursor.
    press(&mut harness, Key::Enter);
    harness.run();
    assert_eq!(
        harness.state().state.details.viewer_open(),
        Some(("job-002".to_owned(), 0))
    );
    // The viewer's arrows step through the Gallery, across jobs.
    press(&mut harness, Key::ArrowRight);
    harness.run();
    assert_eq!(
        harness.state().state.details.viewer_open(),
        Some(("job-002".to_owned(), 1))
    );
    press(&mut harness, Key::ArrowRight);
    harness.run();
    assert_eq!(
        harness.state().state.details.viewer_open(),
        Some(("job-001".to_owned(), 0))
    );
    assert_eq!(
        harness.state().state.view.selected.as_deref(),
        Some("job-001"),
        "the job shown is selected"
    );
    assert_eq!(cursor_job(&harness).as_deref(), Some("job-001"));
    press(&mut harness, Key::ArrowLeft);
    harness.run();
    assert_eq!(
        harness.state().state.details.viewer_open(),
        Some(("job-002".to_owned(), 1))
    );
    // Rating keys in the viewer rate the image shown.
    press(&mut harness, Key::Num2);
    step_until(&mut harness, "2 stars stored", |_| {
        image_in_history(&setup, "job-002", 1).rating == Some(2)
    });
}

#[test]
fn favourites_only_and_rated_at_least_narrow_the_gallery() {
    let setup = setup();
    seed_jobs(&setup, 3, 2, false);
    let mut harness = gallery(&setup);
    rate(&mut harness, &setup, "job-000", 1, 5);
    rate(&mut harness, &setup, "job-002", 1, 2);
    step_until(&mut harness, "both ratings shown", |h| {
        has_cell(h, "Image 2 of job job-000, 5 stars") && has_cell(h, "job-002, 2 stars")
    });
    harness.state_mut().state.gallery.min_rating = 4;
    step_until(&mut harness, "only the 5-star image", |h| {
        has_label(h, "1 image of 1 job")
    });
    assert!(has_cell(&harness, "Image 2 of job job-000"));
    assert!(!has_cell(&harness, "Image 2 of job job-002"));
    assert!(!has_cell(&harness, "Image 1 of job job-000"));

    harness.state_mut().state.gallery.min_rating = 0;
    harness.get_by_label("Favourites only").click();
    step_until(&mut harness, "no favourites yet", |h| {
        has_label(h, "No image matches")
    });
}

#[test]
fn marked_images_are_compared() {
    let setup = setup();
    seed_jobs(&setup, 3, 1, false);
    let mut harness = gallery(&setup);
    harness
        .get_by_label_contains("Image 1 of job job-002")
        .click();
    harness.run();
    press(&mut harness, Key::Space);
    press(&mut harness, Key::ArrowRight);
    press(&mut harness, Key::Space);
    harness.run();
    let marked: Vec<String> = harness
        .state()
        .state
        .gallery
        .marked()
        .iter()
        .map(|m| m.job_id.clone())
        .collect();
    assert_eq!(marked, ["job-002", "job-001"]);
    assert!(has_cell(&harness, "Image 1 of job job-001"));
    // Esc (in the grid) clears the marks; Ctrl+click marks too.
    press(&mut harness, Key::Escape);
    harness.run();
    assert!(harness.state().state.gallery.marked().is_empty());
    assert!(!has_label(&harness, "Compare 2"));
    for job in ["job-000", "job-002"] {
        let label = format!("Image 1 of job {job}");
        harness
            .get_by_label_contains(&label)
            .click_modifiers(egui::Modifiers::COMMAND);
        harness.run();
    }
    assert_eq!(harness.state().state.gallery.marked().len(), 2);
    harness.get_by_label("Compare 2").click();
    harness.run();
    assert!(harness.state().state.compare.open);
    assert_eq!(harness.state().state.compare.items.len(), 2);
    step_until(&mut harness, "the comparison is shown", |h| {
        h.state().state.compare.comparison().is_some()
    });
}

#[test]
fn a_missing_file_is_named_in_its_cell_and_the_job_stays() {
    let setup = setup();
    seed_jobs(&setup, 2, 1, true);
    let mut harness = gallery(&setup);
    step_until(&mut harness, "the missing file is named", |h| {
        has_cell(h, "Image 1 of job job-000. ") && has_label(h, "j0_0.png")
    });
    assert!(has_label(&harness, "2 images of 2 jobs"));
}

#[test]
fn a_long_gallery_keeps_a_bounded_number_of_textures() {
    let setup = setup();
    seed_jobs(&setup, 300, 2, false);
    let mut harness = gallery(&setup);
    assert!(has_label(&harness, "600 images of 300 jobs"));
    harness
        .get_by_label_contains("Image 1 of job job-299")
        .click();
    harness.run();
    // Page through the whole gallery.
    for _ in 0..60 {
        press(&mut harness, Key::PageDown);
    }
    press(&mut harness, Key::End);
    step_until(&mut harness, "the last image is on screen", |h| {
        has_cell(h, "Image 2 of job job-000") && !h.state().state.thumbs.is_busy()
    });
    assert_eq!(cursor_job(&harness).as_deref(), Some("job-000"));
    let held = harness.state().state.thumbs.textures();
    assert!(held < 600, "{held} textures held for 600 images");
    assert!(held <= 320, "the LRU keeps about three screens: {held}");
    // The first image is off screen: not laid out at all.
    assert!(!has_cell(&harness, "Image 1 of job job-299"));

    // Down from the top keeps the cursor's image on screen.
    press(&mut harness, Key::Home);
    for _ in 0..12 {
        press(&mut harness, Key::ArrowDown);
    }
    harness.run();
    let job = cursor_job(&harness).unwrap();
    assert_ne!(job, "job-299");
    assert_wholly_on_screen(&harness, &job);
    // And Up back again.
    for _ in 0..5 {
        press(&mut harness, Key::ArrowUp);
    }
    harness.run();
    let job = cursor_job(&harness).unwrap();
    assert_wholly_on_screen(&harness, &job);
}

/// The cursor's cell (an image of `job`, the one the cursor is on) is inside the grid.
fn assert_wholly_on_screen(harness: &App, job: &str) {
    let gallery = &harness.state().state.gallery;
    let grid = gallery.grid_rect;
    let sha = gallery.cursor().unwrap().sha256.clone();
    let index = image_index(harness, job, &sha);
    let label = format!("Image {} of job {job}", index + 1);
    let cell = harness.get_by_label_contains(&label).rect();
    assert!(
        grid.contains_rect(cell),
        "the cursor's image ({label}) at {cell:?} is wholly inside the grid {grid:?}"
    );
}

/// The index of the image `sha` among its job's images.
fn image_index(harness: &App, job: &str, sha: &str) -> usize {
    let state = &harness.state().state;
    let store = state.store.as_ref().unwrap().read().unwrap();
    let images = &store.get(job).unwrap().result.as_ref().unwrap().images;
    images.iter().position(|i| i.sha256 == sha).unwrap()
}

#[test]
fn the_history_table_shows_thumbnails_when_switched_on_and_remembers_it() {
    let setup = setup();
    seed_jobs(&setup, 3, 2, false);
    let mut harness = harness(&setup);
    assert_eq!(harness.state().state.thumbs.textures(), 0);
    harness.get_by_label("Thumbnails").click();
    step_until(&mut harness, "a thumbnail per row", |h| {
        h.state().state.thumbs.textures() == 3 && !h.state().state.thumbs.is_busy()
    });
    assert!(harness.state().state.persisted().history_thumbnails);
    // Off again: with nothing showing thumbnails for a while, their textures are freed.
    harness.get_by_label("Thumbnails").click();
    harness.run();
    assert!(!harness.state().state.persisted().history_thumbnails);
    step_until(&mut harness, "the textures freed", |h| {
        h.state().state.thumbs.textures() == 0
    });
}

#[test]
fn the_rating_column_sorts_the_best_rated_jobs_first() {
    let setup = setup();
    seed_jobs(&setup, 3, 1, false);
    let mut harness = harness(&setup);
    rate(&mut harness, &setup, "job-000", 0, 5);
    step_until(&mut harness, "5 stars stored", |_| {
        image_in_history(&setup, "job-000", 0).rating == Some(5)
    });
    // One click on the header: best first.
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, "Rating")
        .click();
    step_until(&mut harness, "sorted by rating", |h| {
        let state = &h.state().state;
        let store = state.store.as_ref().unwrap().read().unwrap();
        state
            .view
            .rows
            .first()
            .map(|&i| store.records()[i as usize].job_id.clone())
            == Some("job-000".to_owned())
    });
    // The filter bar: rated at least 4 leaves that job alone; "♥ only" none.
    harness.state_mut().state.view.filter.min_rating = Some(4);
    step_until(&mut harness, "one row", |h| {
        has_label(h, "3 records, 1 shown")
    });
    harness.get_by_label("♥").click();
    step_until(&mut harness, "no row", |h| {
        has_label(h, "No rows match these filters")
    });
}

#[test]
fn ctrl_3_shows_the_gallery_and_ctrl_1_the_composer() {
    let setup = setup();
    seed_jobs(&setup, 1, 1, false);
    let mut harness = harness(&setup);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, Key::Num3);
    harness.run();
    assert_eq!(harness.state().state.central, CentralView::Gallery);
    step_until(&mut harness, "its image is shown", |h| {
        has_label(h, "1 image of 1 job")
    });
    harness.key_press_modifiers(egui::Modifiers::COMMAND, Key::Num1);
    harness.run();
    assert_eq!(harness.state().state.central, CentralView::Compose);
}

/// Files in the thumbnail cache.
fn cached_thumbnails(setup: &Setup) -> usize {
    let dir = setup.data_dir.join("thumbs");
    let Ok(shards) = std::fs::read_dir(dir) else {
        return 0;
    };
    shards
        .flatten()
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .map(|files| files.flatten().count())
        .sum()
}

#[test]
fn thumbnails_are_made_for_the_screen_not_for_the_whole_history() {
    let setup = setup();
    seed_jobs(&setup, 250, 2, false);
    assert_eq!(cached_thumbnails(&setup), 0);
    let harness = gallery(&setup);
    let shown = harness.state().state.thumbs.textures();
    let made = cached_thumbnails(&setup);
    assert!(shown >= 8, "the first screen is shown: {shown}");
    assert!(
        made >= shown && made < 200,
        "{made} thumbnails made for {shown} on screen (500 images in the history)"
    );
}

#[test]
fn every_4_star_image_of_pack_x_key_3() {
    let setup = setup();
    seed_jobs(&setup, 2, 1, false);
    // A pack job that ran keys 1 to 3, one image per key: key 3's rated 4, key 1's rated 5.
    let outputs = setup.data_dir.join("outputs");
    let cfg = build_run_config_for_manual_prompt("a harbour at dawn", "", None);
    let mut record = job_record_from_run_config("pack-job", &cfg);
    record.prompt_source = promptdesk::run_config::PromptSource::Pack;
    record.prompt_pack_id = Some("Landscapes".into());
    record.prompt_keys = vec!["1".into(), "2".into(), "3".into()];
    record.status = JobStatus::Completed;
    let images = ["1", "2", "3"]
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let bytes = solid_png(48, 32, [200, 10 * i as u8, 30]);
            let path = format!("outputs/pack_{key}.png");
            std::fs::write(outputs.join(format!("pack_{key}.png")), &bytes).unwrap();
            OutputImage {
                path,
                seed: 7 + i as i64,
                width: 48,
                height: 32,
                sha256: sha256_hex(&bytes),
                key: (*key).into(),
                variant: 1,
                rating: [Some(5), None, Some(4)][i],
                favorite: false,
            }
        })
        .collect();
    record.result = Some(JobResult {
        backend: "scripted".into(),
        images,
        ..JobResult::default()
    });
    HistoryStore::open(history_file(&setup))
        .unwrap()
        .append(&record)
        .unwrap();

    let mut harness = gallery(&setup);
    assert!(has_label(&harness, "5 images of 3 jobs"));
    {
        let state = &mut harness.state_mut().state;
        state.view.filter.pack = Some("Landscapes".into());
        state.view.filter.key = Some("3".into());
        state.gallery.min_rating = 4;
    }
    step_until(&mut harness, "key 3's 4-star image alone", |h| {
        has_label(h, "1 image of 1 job")
    });
    assert!(has_cell(&harness, "Image 3 of job pack-job, 4 stars"));
    assert!(!has_cell(&harness, "Image 1 of job pack-job"));
}

#[test]
fn rating_an_image_out_of_the_filter_keeps_the_cursor_in_its_place() {
    let setup = setup();
    seed_jobs(&setup, 3, 1, false);
    let mut harness = gallery(&setup);
    for job in ["job-000", "job-001", "job-002"] {
        rate(&mut harness, &setup, job, 0, 5);
    }
    step_until(&mut harness, "three 5-star images", |h| {
        has_cell(h, "job-000, 5 stars") && has_cell(h, "job-002, 5 stars")
    });
    harness.state_mut().state.gallery.min_rating = 4;
    harness.run();
    harness
        .get_by_label_contains("Image 1 of job job-001")
        .click();
    harness.run();
    // 2 stars: the image leaves "Rated at least 4"; the cursor stays second, on job-000.
    press(&mut harness, Key::Num2);
    step_until(&mut harness, "the image left the gallery", |h| {
        has_label(h, "2 images of 2 jobs")
    });
    assert_eq!(cursor_job(&harness).as_deref(), Some("job-000"));
    press(&mut harness, Key::ArrowLeft);
    harness.run();
    assert_eq!(cursor_job(&harness).as_deref(), Some("job-002"));
}

#[test]
fn keys_pressed_in_the_viewer_do_not_reach_the_gallery_behind_it() {
    let setup = setup();
    seed_jobs(&setup, 3, 1, false);
    let mut harness = gallery(&setup);
    harness
        .get_by_label_contains("Image 1 of job job-001")
        .click();
    harness.run();
    press(&mut harness, Key::Enter);
    harness.run();
    assert_eq!(
        harness.state().state.details.viewer_open(),
        Some(("job-001".to_owned(), 0))
    );
    for key in [Key::Space, Key::Home, Key::C, Key::End] {
        press(&mut harness, key);
    }
    harness.run();
    assert!(harness.state().state.gallery.marked().is_empty());
    assert_eq!(cursor_job(&harness).as_deref(), Some("job-001"));
    assert!(!harness.state().state.compare.open);
}
