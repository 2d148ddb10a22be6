//! The desktop app driven headless through AccessKit (egui_kittest): no display, no GPU.
//! Each test builds the real app state on a temporary data folder and clicks through it as a
//! user would.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use promptdesk::app::PromptDeskApp;
use promptdesk::{
    GenerationSettings, HistoryStore, JobStatus, PromptSource, RunConfig,
    build_run_config_for_manual_prompt, job_record_from_run_config,
};
use std::path::Path;
use std::time::Duration;

mod support;
use support::*;

/// Focuses a text field (as a click would) and types into it.
fn type_into(harness: &mut Harness<'static, PromptDeskApp>, role: Role, label: &str, text: &str) {
    harness.get_by_role_and_label(role, label).focus();
    harness.run();
    harness.get_by_role_and_label(role, label).type_text(text);
    harness.run();
}

fn submit_is_disabled(harness: &Harness<'static, PromptDeskApp>) -> bool {
    harness
        .get_by_label("Submit")
        .accesskit_node()
        .is_disabled()
}

fn records_on_disk(path: &Path) -> Vec<promptdesk::JobRecord> {
    HistoryStore::open(path).unwrap().records().to_vec()
}

fn select_pack_and_check_two_keys(harness: &mut Harness<'static, PromptDeskApp>) {
    harness.get_by_label_contains("harbour_scenes").click();
    harness.run();
    harness.get_by_label_contains("1: a red lighthouse").click();
    harness.run();
    harness.get_by_label_contains("2: fishing boats").click();
    harness.run();
}

#[test]
fn pack_submit_records_a_pack_job_and_shows_its_row() {
    let setup = setup();
    let mut harness = harness(&setup);
    select_pack_and_check_two_keys(&mut harness);
    harness.get_by_label("Submit").click();
    settle(&mut harness);

    // On disk: one record tagged with the pack and keys.
    let records = records_on_disk(&history_file(&setup));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].prompt_source, PromptSource::Pack);
    assert_eq!(records[0].prompt_pack_id.as_deref(), Some("harbour_scenes"));
    assert_eq!(records[0].prompt_keys, vec!["1", "2"]);

    // In the table: switch the composer to Manual and close the details, so the only PACK
    // badge, pack id and keys left on screen are the history row's.
    harness.get_by_label("Manual").click();
    harness.key_press(egui::Key::Escape);
    settle(&mut harness);
    assert!(harness.query_by_label("Job id").is_none(), "details closed");
    assert_eq!(harness.get_all_by_label("PACK").count(), 1);
    harness.get_by_label("1, 2");
    harness.get_by_label("harbour_scenes");
    harness.get_by_label("1 record, 1 shown");
}

#[test]
fn manual_submit_records_a_manual_job() {
    let setup = setup();
    let mut harness = harness(&setup);
    harness.get_by_label("Manual").click();
    harness.run();
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        "Prompt",
        "A dragon over a lake",
    );
    harness.run();
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        "Negative prompt",
        "no gore",
    );
    harness.run();
    harness.get_by_label("Submit").click();
    settle(&mut harness);

    let records = records_on_disk(&history_file(&setup));
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.prompt_source, PromptSource::Manual);
    assert_eq!(record.prompt_pack_id, None);
    assert!(record.prompt_keys.is_empty());
    assert_eq!(
        record.run_config.prompt_payload["prompt"],
        "A dragon over a lake"
    );
    assert_eq!(
        record.run_config.prompt_payload["negative_prompt"],
        "no gore"
    );
    assert_eq!(record.status, JobStatus::Queued);

    harness.key_press(egui::Key::Escape);
    settle(&mut harness);
    assert_eq!(harness.get_all_by_label("MANUAL").count(), 1);
    harness.get_by_label("A dragon over a lake");
}

#[test]
fn ctrl_enter_submits() {
    let setup = setup();
    let mut harness = harness(&setup);
    select_pack_and_check_two_keys(&mut harness);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    settle(&mut harness);
    assert_eq!(records_on_disk(&history_file(&setup)).len(), 1);
}

#[test]
fn submit_is_disabled_with_its_reason() {
    let setup = setup();
    let mut harness = harness(&setup);
    assert!(submit_is_disabled(&harness));
    harness.get_by_label("Select a pack on the left.");

    harness.get_by_label_contains("harbour_scenes").click();
    harness.run();
    assert!(submit_is_disabled(&harness));
    harness.get_by_label("Check at least one prompt of the pack.");

    harness.get_by_label("Manual").click();
    harness.run();
    assert!(submit_is_disabled(&harness));
    harness.get_by_label("Type a prompt first.");

    // Clicking a disabled Submit (or Ctrl+Enter) records nothing.
    harness.get_by_label("Submit").click();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    settle(&mut harness);
    assert!(records_on_disk(&history_file(&setup)).is_empty());

    type_into(
        &mut harness,
        Role::MultilineTextInput,
        "Prompt",
        "a quiet harbour",
    );
    harness.run();
    assert!(!submit_is_disabled(&harness));
}

#[test]
fn compose_is_the_default_view_and_insights_is_not_there_yet() {
    let setup = setup();
    let harness = harness(&setup);
    for title in ["Compose", "Queue", "Gallery"] {
        assert!(
            !harness.get_by_label(title).accesskit_node().is_disabled(),
            "{title} is there"
        );
    }
    assert!(
        harness
            .get_by_label("Insights")
            .accesskit_node()
            .is_disabled(),
        "Insights is not available yet"
    );
    // The composer is what the central area shows.
    harness.get_by_label("Submit");
    harness.get_by_label("Manual");
}

fn seed_history(setup: &Setup) -> Vec<String> {
    let mut store = HistoryStore::open(history_file(setup)).unwrap();
    let mut ids = Vec::new();
    for (i, (prompt, steps)) in [
        ("alpha sunrise", 30),
        ("beta harbour", 10),
        ("gamma forest", 20),
    ]
    .into_iter()
    .enumerate()
    {
        let base = RunConfig {
            settings: GenerationSettings {
                steps,
                ..GenerationSettings::default()
            },
            ..RunConfig::default()
        };
        let cfg = build_run_config_for_manual_prompt(prompt, "", Some(base));
        let mut record = job_record_from_run_config(&format!("job-{i}"), &cfg);
        record.created_at += chrono::Duration::seconds(i as i64);
        store.append(&record).unwrap();
        ids.push(record.job_id);
    }
    ids
}

fn shown_prompts(harness: &Harness<'static, PromptDeskApp>) -> Vec<String> {
    let state = &harness.state().state;
    let store = state.store.as_ref().unwrap().read().unwrap();
    state
        .view
        .rows
        .iter()
        .map(|&i| store.records()[i as usize].first_prompt())
        .collect()
}

#[test]
fn history_filters_and_sorts() {
    let setup = setup();
    seed_history(&setup);
    let mut harness = harness(&setup);
    harness.get_by_label("3 records, 3 shown");
    // Newest first by default.
    assert_eq!(
        shown_prompts(&harness),
        ["gamma forest", "beta harbour", "alpha sunrise"]
    );

    type_into(&mut harness, Role::TextInput, "Search history", "HARBOUR");
    settle(&mut harness);
    harness.get_by_label("3 records, 1 shown");
    assert_eq!(shown_prompts(&harness), ["beta harbour"]);

    harness.get_by_label("Clear filters").click();
    settle(&mut harness);
    harness.get_by_label("3 records, 3 shown");

    harness.get_by_role_and_label(Role::Button, "Steps").click();
    settle(&mut harness);
    assert_eq!(
        shown_prompts(&harness),
        ["beta harbour", "gamma forest", "alpha sunrise"]
    );
    harness
        .get_by_role_and_label(Role::Button, "Steps ⬆")
        .click();
    settle(&mut harness);
    assert_eq!(
        shown_prompts(&harness),
        ["alpha sunrise", "gamma forest", "beta harbour"]
    );
}

#[test]
fn load_into_composer_restores_origin_keys_and_settings() {
    let setup = setup();
    let mut harness = harness(&setup);
    select_pack_and_check_two_keys(&mut harness);
    // Change a setting, submit, then change everything back before loading the job.
    harness.state_mut().state.composer.settings.steps = 33;
    harness.state_mut().state.composer.settings.sampler = "DPM++ 2M".into();
    harness.get_by_label("Submit").click();
    settle(&mut harness);
    harness.get_by_label("Manual").click();
    harness.get_by_label_contains("1: a red lighthouse").click();
    harness.state_mut().state.composer.settings = GenerationSettings::default();
    settle(&mut harness);

    // The new job is selected; its details offer Load into composer.
    harness.get_by_label("Load into composer").click();
    settle(&mut harness);
    let state = &harness.state().state;
    assert_eq!(state.composer.mode, PromptSource::Pack);
    assert_eq!(state.selected_pack.as_deref(), Some("harbour_scenes"));
    assert_eq!(state.checked_keys, vec!["1", "2"]);
    assert_eq!(state.composer.settings.steps, 33);
    assert_eq!(state.composer.settings.sampler, "DPM++ 2M");
}

#[test]
fn selecting_a_row_shows_its_details_and_delete_can_be_undone() {
    let setup = setup();
    seed_history(&setup);
    let mut harness = harness(&setup);
    harness.get_by_label("beta harbour").click();
    settle(&mut harness);
    assert_eq!(
        harness.state().state.view.selected.as_deref(),
        Some("job-1")
    );
    harness.get_by_label("job-1");
    harness.get_by_label("Delete").click();
    settle(&mut harness);
    harness.get_by_label("2 records, 2 shown");
    assert!(
        records_on_disk(&history_file(&setup))
            .iter()
            .all(|r| r.job_id != "job-1")
    );
    harness.get_by_label("Undo").click();
    settle(&mut harness);
    assert!(
        records_on_disk(&history_file(&setup))
            .iter()
            .any(|r| r.job_id == "job-1")
    );
}

#[test]
fn a_damaged_history_shows_a_banner_and_submits_still_work() {
    let setup = setup();
    seed_history(&setup);
    // Garbage in the middle of the file.
    let path = history_file(&setup);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(1, "{\"job_id\": \"broken\", this is not json");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let mut harness = harness(&setup);
    harness.get_by_label_contains("The history file is damaged: 1 line could not be read (line 2)");
    harness.get_by_label("3 records, 3 shown");

    harness.get_by_label("Manual").click();
    harness.run();
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        "Prompt",
        "after the damage",
    );
    harness.run();
    harness.get_by_label("Submit").click();
    settle(&mut harness);
    let records = records_on_disk(&path);
    assert_eq!(records.len(), 4);
    assert!(
        records
            .iter()
            .any(|r| r.first_prompt() == "after the damage")
    );
}

#[test]
fn a_broken_pack_file_beside_good_ones() {
    let setup = setup();
    std::fs::copy(BROKEN_PACK, setup.packs_dir.join("broken_pack.json")).unwrap();
    let mut harness = harness(&setup);
    harness.get_by_label_contains("1 file could not be loaded");
    harness.get_by_label_contains("broken_pack.json");
    // The good packs still load and submit.
    harness.get_by_label_contains("studio_still_life").click();
    harness.run();
    harness.get_by_label_contains("1: a bowl of lemons").click();
    harness.run();
    harness.get_by_label("Submit").click();
    settle(&mut harness);
    let records = records_on_disk(&history_file(&setup));
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].prompt_pack_id.as_deref(),
        Some("studio_still_life")
    );
}

#[test]
fn a_store_error_is_shown_and_the_composer_keeps_its_text() {
    let setup = setup();
    let mut harness = harness(&setup);
    harness.get_by_label("Manual").click();
    harness.run();
    type_into(&mut harness, Role::MultilineTextInput, "Prompt", "keep me");
    harness.run();
    // Replace the history file with a directory: every write now fails.
    let path = history_file(&setup);
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    harness.get_by_label("Submit").click();
    settle(&mut harness);
    harness.get_by_label_contains("Could not record the job");
    assert_eq!(harness.state().state.composer.prompt, "keep me");
}

#[test]
fn a_pack_with_a_broken_companion_still_loads_and_is_marked() {
    let setup = setup();
    // harbour_scenes.txt is good; a broken harbour_scenes.json beside it must not hide it.
    std::fs::copy(BROKEN_PACK, setup.packs_dir.join("harbour_scenes.json")).unwrap();
    let mut harness = harness(&setup);
    harness
        .get_by_label_contains("⚠ harbour_scenes   3 prompts")
        .click();
    harness.run();
    // Key 2 (key 1's [[season]] has no values without the companion's matrix).
    harness.get_by_label_contains("2: fishing boats").click();
    harness.run();
    harness.get_by_label("Submit").click();
    settle(&mut harness);
    let records = records_on_disk(&history_file(&setup));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].prompt_keys, vec!["2"]);
}

/// Another process holds the history lock: Submit does not freeze the window for long, says
/// the history is busy, keeps the composer as it is, and records the job by itself once the
/// lock is released (issue 8, item 7).
#[test]
fn a_submit_the_history_is_too_busy_for_is_retried_by_itself() {
    let setup = setup();
    let mut harness = harness(&setup);
    select_pack_and_check_two_keys(&mut harness);
    let holder = std::fs::File::options()
        .read(true)
        .append(true)
        .open(history_file(&setup))
        .unwrap();
    holder.lock().unwrap();

    let started = std::time::Instant::now();
    harness.get_by_label("Submit").click();
    harness.run();
    let message = format!("{:?}", harness.state().state.message);
    assert!(message.contains("busy"), "{message}");
    assert!(message.contains("by itself"), "{message}");
    assert!(harness.state().state.submit_retry_pending());
    assert!(
        submit_is_disabled(&harness),
        "a second Submit must not replace or race the job waiting to be recorded"
    );
    assert_eq!(
        harness.state().state.checked_keys,
        vec!["1", "2"],
        "the composer keeps its keys"
    );
    assert!(records_on_disk(&history_file(&setup)).is_empty());
    // Not a timing assertion on speed: the window must not wait the store's 10 s default.
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );

    holder.unlock().unwrap();
    std::thread::sleep(promptdesk::app::state::SUBMIT_RETRY_INTERVAL + Duration::from_millis(200));
    settle(&mut harness);
    assert!(!harness.state().state.submit_retry_pending());
    let records = records_on_disk(&history_file(&setup));
    assert_eq!(records.len(), 1, "recorded once the lock was released");
    assert_eq!(records[0].prompt_pack_id.as_deref(), Some("harbour_scenes"));
    assert_eq!(records[0].prompt_keys, vec!["1", "2"]);
    let message = format!("{:?}", harness.state().state.message);
    assert!(message.contains("Recorded job"), "{message}");
    assert!(!submit_is_disabled(&harness));
}

/// A line a newer promptdesk wrote that this version cannot read is not hidden silently: the
/// window says it is kept, and the readable jobs show as usual (issue 8, item 2).
#[test]
fn lines_of_a_newer_version_are_announced_not_hidden() {
    let setup = setup();
    let cfg = build_run_config_for_manual_prompt("a readable job", "", None);
    let record = job_record_from_run_config("readable-1", &cfg);
    std::fs::write(
        history_file(&setup),
        format!(
            "{}\n{}\n",
            record.to_json_line(),
            r#"{"job_id":"from-the-future","prompt_source":"wildcard"}"#
        ),
    )
    .unwrap();
    let harness = harness(&setup);
    harness.get_by_label_contains("written by another (newer) version");
    harness.get_by_label("1 record, 1 shown");
}
