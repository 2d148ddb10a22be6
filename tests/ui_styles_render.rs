//! The composer renders what Submit sends (issue 11): the Styles picker, the list of
//! requests with its count, Submit blocked by a token with no values (and dropping its
//! brackets), the record keeping styles, seed and every request, and Load into composer
//! bringing the styles and seed back.

mod support;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use promptdesk::app::PromptDeskApp;
use promptdesk::history::HistoryStore;
use promptdesk::{JobRecord, StyleRef};
use support::{Setup, history_file, settle, setup_with, sized_harness};

const PACKS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/styles_render/packs"
);

type App = Harness<'static, PromptDeskApp>;

fn app() -> (Setup, App) {
    let setup = setup_with(PACKS);
    let mut harness = sized_harness(&setup, [1280.0, 1000.0]);
    settle(&mut harness);
    (setup, harness)
}

fn records(setup: &Setup) -> Vec<JobRecord> {
    HistoryStore::open(history_file(setup))
        .unwrap()
        .records()
        .to_vec()
}

fn type_manual_prompt(harness: &mut App, text: &str) {
    harness.get_by_label("Manual").click();
    harness.run();
    let field = harness.get_by_role_and_label(Role::MultilineTextInput, "Prompt");
    field.focus();
    harness.run();
    harness
        .get_by_role_and_label(Role::MultilineTextInput, "Prompt")
        .type_text(text);
    harness.run();
}

fn submit_enabled(harness: &App) -> bool {
    !harness
        .get_by_label("Submit")
        .accesskit_node()
        .is_disabled()
}

#[test]
fn styles_chosen_in_order_shape_the_preview_and_the_record() {
    let (setup, mut harness) = app();
    type_manual_prompt(&mut harness, "a fox");
    harness.get_by_label_contains("Styles").click();
    harness.run();
    // Search narrows the list; Soft is chosen first, then Film.
    let search = harness.get_by_role_and_label(Role::TextInput, "Search styles");
    search.focus();
    harness.run();
    harness
        .get_by_role_and_label(Role::TextInput, "Search styles")
        .type_text("soft");
    harness.run();
    assert!(harness.query_by_label_contains("Film  ·  styles").is_none());
    harness.get_by_label_contains("Soft  ·  styles").click();
    harness.run();
    harness
        .get_by_role_and_label(Role::TextInput, "Search styles")
        .focus();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.key_press(egui::Key::Backspace);
    harness.run();
    harness.get_by_label_contains("Film  ·  styles").click();
    harness.run();
    harness.run();

    harness.get_by_label_contains("What Submit sends: 1 image");
    harness.get_by_label("#1 — film still of a fox, soft window light, grain");
    harness.get_by_label("Negative: cartoon");

    harness.get_by_label("Submit").click();
    settle(&mut harness);
    let records = records(&setup);
    assert_eq!(records.len(), 1);
    let cfg = &records[0].run_config;
    assert_eq!(
        cfg.prompt_styles(),
        vec![
            StyleRef::new("styles", "Soft"),
            StyleRef::new("styles", "Film")
        ]
    );
    assert_eq!(records[0].prompt_styles, cfg.prompt_styles());
    let rendered = cfg.rendered();
    assert_eq!(rendered.len(), 1);
    assert_eq!(
        rendered[0].prompt,
        "film still of a fox, soft window light, grain"
    );
    assert_eq!(rendered[0].negative_prompt, "cartoon");
    // The prompt as typed is kept beside what was sent.
    assert_eq!(cfg.prompt_pairs()[0].0, "a fox");
}

#[test]
fn a_pack_run_lists_every_combination_and_records_each_request_with_its_values() {
    let (setup, mut harness) = app();
    harness.get_by_label_contains("meadows").click();
    harness.run();
    harness.get_by_label_contains("1 Hill:").click();
    settle(&mut harness);
    harness.get_by_label_contains("What Submit sends: 3 images from 1 prompt x 3 combinations");
    for season in ["spring", "summer", "autumn"] {
        harness.get_by_label_contains(&format!("a hill in {season}, "));
    }
    harness.get_by_label("Submit").click();
    settle(&mut harness);
    let records = records(&setup);
    let rendered = records[0].run_config.rendered();
    assert_eq!(rendered.len(), 3);
    assert_eq!(rendered[1].key, "1");
    assert_eq!(rendered[1].variant, 2);
    assert_eq!(rendered[1].values["[[season]]"], "summer");
    let sky = &rendered[1].values["__sky__"];
    assert!(sky == "clear" || sky == "stormy", "{sky}");
    assert!(
        !rendered
            .iter()
            .any(|r| r.prompt.contains("[[") || r.prompt.contains("__"))
    );
    assert!(records[0].run_config.wildcard_seed().is_some());
}

#[test]
fn a_token_with_no_values_blocks_submit_until_its_brackets_are_dropped() {
    let (setup, mut harness) = app();
    type_manual_prompt(&mut harness, "a castle under __nowhere__ clouds");
    settle(&mut harness);
    assert!(
        !submit_enabled(&harness),
        "a literal wildcard is never sent"
    );
    assert!(
        harness
            .query_all_by_label_contains("__nowhere__ in the prompt has no values")
            .count()
            >= 1
    );
    harness
        .get_by_label("Drop the brackets of __nowhere__")
        .click();
    settle(&mut harness);
    assert_eq!(
        harness.state().state.composer.prompt,
        "a castle under nowhere clouds"
    );
    assert!(submit_enabled(&harness));

    // In a pack the reason names the token and the pack; the fix copies the prompt to a
    // manual draft (the pack file is not edited).
    // Selecting a pack switches to Pack mode.
    harness.get_by_label_contains("meadows").click();
    harness.run();
    harness.get_by_label_contains("2 Pond:").click();
    settle(&mut harness);
    assert!(!submit_enabled(&harness));
    assert!(
        harness
            .query_all_by_label_contains("[[mood]] in pack \"meadows\"")
            .count()
            >= 1
    );
    harness
        .get_by_label("Copy key 2 to a manual prompt without the brackets of [[mood]]")
        .click();
    settle(&mut harness);
    assert_eq!(
        harness.state().state.composer.prompt,
        "a quiet pond, mood mood"
    );
    assert!(submit_enabled(&harness));
    assert!(
        std::fs::read_to_string(std::path::Path::new(PACKS).join("meadows.json"))
            .unwrap()
            .contains("[[mood]]")
    );
    assert!(
        records(&setup).is_empty(),
        "nothing was recorded on the way"
    );
}

#[test]
fn load_into_composer_brings_back_the_styles_and_the_draw_seed() {
    let (setup, mut harness) = app();
    harness.state_mut().state.composer.styles = vec![StyleRef::new("styles", "Soft")];
    harness.state_mut().state.composer.wildcard_seed = 777;
    harness.get_by_label_contains("meadows").click();
    harness.run();
    harness.get_by_label_contains("1 Hill:").click();
    settle(&mut harness);
    let before: Vec<String> = {
        harness.get_by_label("Submit").click();
        settle(&mut harness);
        records(&setup)[0]
            .run_config
            .rendered()
            .into_iter()
            .map(|r| r.prompt)
            .collect()
    };
    assert!(before[0].ends_with(", soft window light"), "{}", before[0]);

    harness.state_mut().state.composer.styles.clear();
    harness.state_mut().state.composer.wildcard_seed = 1;
    harness.run();
    harness.get_by_label("Load into composer").click();
    settle(&mut harness);
    assert_eq!(
        harness.state().state.composer.styles,
        vec![StyleRef::new("styles", "Soft")]
    );
    assert_eq!(harness.state().state.composer.wildcard_seed, 777);
    harness.get_by_label("Submit").click();
    settle(&mut harness);
    let again: Vec<String> = records(&setup)
        .iter()
        .find(|r| r.run_config.rendered().len() == 3 && r.job_id != records(&setup)[0].job_id)
        .map(|r| {
            r.run_config
                .rendered()
                .into_iter()
                .map(|r| r.prompt)
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(again, before, "a re-run sends the same requests");

    // Undo load brings back the styles and seed the composer held before the load.
    harness.get_by_label_contains("Undo load").click();
    settle(&mut harness);
    assert!(harness.state().state.composer.styles.is_empty());
    assert_eq!(harness.state().state.composer.wildcard_seed, 1);
}

#[test]
fn read_parameters_fills_the_prompt_the_negative_and_the_settings_from_a_pasted_infotext() {
    let (_setup, mut harness) = app();
    harness.get_by_label("Manual").click();
    harness.run();
    assert!(harness.query_by_label("↙ Read parameters").is_none());
    // What a paste of A1111's text under a picture puts in the box.
    harness.state_mut().state.composer.prompt = "a fox in the snow\nNegative prompt: blurry\nSteps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5.5, Seed: 42, Size: 832x1216, Model: sdxl_base, Version: v1.10.1".to_owned();
    harness.run();
    harness.get_by_label("↙ Read parameters").click();
    settle(&mut harness);
    let composer = &harness.state().state.composer;
    assert_eq!(composer.prompt, "a fox in the snow");
    assert_eq!(composer.negative, "blurry");
    let s = &composer.settings;
    assert_eq!((s.steps, s.cfg_scale, s.seed), (30, 5.5, 42));
    assert_eq!(
        (s.sampler.as_str(), s.scheduler.as_str()),
        ("DPM++ 2M", "Karras")
    );
    assert_eq!((s.width, s.height), (832, 1216));
    assert_eq!(s.model, "sdxl_base");
    assert!(!composer.random_seed, "the seed read is used");
    let message = format!("{:?}", harness.state().state.message);
    assert!(message.contains("Not used here: Version"), "{message}");
    // The settings are the user's own: they stay when the draft is saved.
    let (own, random) = harness.state().state.composer.own_settings();
    assert_eq!((own.steps, own.seed, random), (30, 42, false));
}

#[test]
fn the_details_show_what_was_sent_and_unknown_settings_as_a_dash() {
    let setup = setup_with(PACKS);
    let mut cfg = promptdesk::build_run_config_for_manual_prompt("a [[season]] orchard", "", None);
    cfg.settings.steps = 20;
    cfg.set_prompt_styles(&[StyleRef::new("styles", "Soft")]);
    cfg.set_wildcard_seed(Some(4242));
    cfg.set_rendered(&[promptdesk::RenderedRequest {
        key: String::new(),
        variant: 1,
        prompt: "an autumn orchard, soft window light".into(),
        negative_prompt: String::new(),
        values: [("[[season]]".to_owned(), "autumn".to_owned())].into(),
    }]);
    cfg.set_unknown_settings(&["steps".to_owned(), "model".to_owned()]);
    let record = promptdesk::job_record_from_run_config("job-sent", &cfg);
    HistoryStore::open(history_file(&setup))
        .unwrap()
        .append(&record)
        .unwrap();
    let mut harness = sized_harness(&setup, [1280.0, 1000.0]);
    settle(&mut harness);
    harness
        .get_by_label_contains("a [[season]] orchard")
        .click();
    settle(&mut harness);
    harness.get_by_label("styles:Soft");
    harness.get_by_label("4242");
    harness.get_by_label("an autumn orchard, soft window light\nValues: [[season]] = autumn");
    assert_eq!(
        harness.query_all_by_label("— (not recorded)").count(),
        2,
        "steps and model were not recorded"
    );
    // The table's steps cell says so too.
    assert!(harness.query_all_by_label("—").count() >= 1);
}

#[test]
fn an_imported_job_without_a_prompt_shows_stablenews_summary_and_its_unknown_settings() {
    let setup = setup_with(PACKS);
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/promptdesk-core/tests/fixtures/reimport/all_lines.jsonl"
    );
    let mut store = HistoryStore::open(history_file(&setup)).unwrap();
    promptdesk::history::import_stablenew(&mut store, std::path::Path::new(file)).unwrap();
    drop(store);
    let mut harness = sized_harness(&setup, [1280.0, 1000.0]);
    settle(&mut harness);
    // The table's prompt cell holds the summary's prompt.
    harness
        .get_by_label("a harbour at dawn, soft light")
        .click();
    settle(&mut harness);
    harness.get_by_label_contains("(StableNew's summary: the full prompt was not recorded)");
    assert!(harness.query_all_by_label("— (not recorded)").count() >= 5);
}

/// A pack whose one prompt fans out over `n` values (`n` requests).
fn write_long_pack(setup: &Setup, n: usize) {
    let values: Vec<String> = (1..=n).map(|i| format!("\"stone {i}\"")).collect();
    let pack = format!(
        r#"{{"pack_data": {{"name": "Cairns",
            "slots": [{{"name": "Cairn", "text": "a cairn of [[stone]]", "negative": "fog"}}],
            "matrix": {{"enabled": true, "mode": "fanout", "limit": {n},
                "slots": [{{"name": "stone", "values": [{}]}}]}}}}}}"#,
        values.join(", ")
    );
    std::fs::write(setup.packs_dir.join("cairns.json"), pack).unwrap();
}

#[test]
fn every_request_of_a_long_run_is_listed_and_only_the_rows_in_view_are_laid_out() {
    let setup = setup_with(PACKS);
    write_long_pack(&setup, 60);
    let mut harness = sized_harness(&setup, [1280.0, 1000.0]);
    settle(&mut harness);
    harness.get_by_label_contains("cairns").click();
    harness.run();
    harness.get_by_label_contains("1 Cairn:").click();
    settle(&mut harness);
    harness.get_by_label_contains("What Submit sends: 60 images from 1 prompt x 60 combinations");
    harness.get_by_label("key 1 · #1 — a cairn of stone 1");
    // Sixty rows are not all laid out at once.
    assert!(
        harness
            .query_by_label("key 1 · #60 — a cairn of stone 60")
            .is_none()
    );
    // The list scrolls down to the last request.
    for _ in 0..200 {
        if harness
            .query_by_label("key 1 · #60 — a cairn of stone 60")
            .is_some()
        {
            break;
        }
        let rows = harness.query_all_by_label_contains("— a cairn of stone");
        rows.last().expect("a request row in view").scroll_down();
        harness.run();
    }
    harness.get_by_label("key 1 · #60 — a cairn of stone 60");
    assert!(
        harness
            .query_by_label("key 1 · #1 — a cairn of stone 1")
            .is_none()
    );
    harness.get_by_label("Values: [[stone]] = stone 60");
}

#[test]
fn a_wildcard_file_that_cannot_be_read_is_named_under_the_requests() {
    let setup = setup_with(PACKS);
    std::fs::write(
        setup.packs_dir.join("wildcards").join("broken.txt"),
        [0xff, 0xfe, 0x00, 0x41],
    )
    .unwrap();
    let mut harness = sized_harness(&setup, [1280.0, 1000.0]);
    settle(&mut harness);
    type_manual_prompt(&mut harness, "a fox under a __sky__ sky");
    let broken = setup.packs_dir.join("wildcards").join("broken.txt");
    harness.get_by_label_contains(&format!("Wildcard file not read: {}", broken.display()));
    // The other wildcard files still draw.
    assert!(submit_enabled(&harness));
}

#[test]
fn a_wildcard_file_edited_in_place_is_read_again() {
    use promptdesk::app::tasks::{PackScan, Repaint};
    let setup = setup_with(PACKS);
    let finish = |scan: &mut PackScan| {
        let mut result = None;
        while scan.is_busy() {
            if let Some(found) = scan.take_result() {
                result = Some(found);
            }
            std::thread::yield_now();
        }
        result
    };
    let mut scan = PackScan::start(setup.packs_dir.clone(), &Repaint::default());
    let first = finish(&mut scan).expect("the first scan");
    assert_eq!(
        first.wildcards.get("sky").unwrap(),
        ["clear".to_owned(), "stormy".to_owned()]
    );
    // Edited in place, as most editors save: neither folder's own entry changes.
    let sky = setup.packs_dir.join("wildcards").join("sky.txt");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&sky)
        .unwrap();
    std::io::Write::write_all(&mut file, b"hazy\nstarry\npale\n").unwrap();
    drop(file);
    scan.refresh_if_changed();
    let again = finish(&mut scan).expect("the edit is noticed and the folder scanned again");
    assert_eq!(
        again.wildcards.get("sky").unwrap(),
        ["hazy".to_owned(), "starry".to_owned(), "pale".to_owned()]
    );
}
