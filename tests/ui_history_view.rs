//! The history panel as a user meets it (issue 10, items 3, 6, 12, 13, 14, 21, 23 and the
//! history parts of 28): a panel that keeps its size, a saved search applied after loading a
//! large history, the damage banner, the Pack filter, empty states, keyboard navigation, a
//! new job the filters hide, and the counts, plurals and headers.

use egui::accesskit::Role;
use egui::{Key, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use promptdesk::app::PromptDeskApp;
use promptdesk::app::commands::Command;
use promptdesk::app::state::{AppState, Persisted};
use promptdesk::{
    GenerationSettings, HistoryStore, PromptSource, RunConfig, build_run_config_for_manual_prompt,
    job_record_from_run_config,
};
use std::path::Path;

mod support;
use support::*;

/// A manual job with this prompt, `steps` and id, `minutes` after a fixed time.
fn manual_record(id: &str, prompt: &str, steps: u32, minutes: i64) -> promptdesk::JobRecord {
    let base = RunConfig {
        settings: GenerationSettings {
            steps,
            ..GenerationSettings::default()
        },
        ..RunConfig::default()
    };
    let cfg = build_run_config_for_manual_prompt(prompt, "", Some(base));
    let mut record = job_record_from_run_config(id, &cfg);
    record.created_at += chrono::Duration::minutes(minutes);
    record
}

/// Writes `n` manual jobs `job-0`.. (`job-{n-1}` newest) to the setup's history.
fn seed(setup: &Setup, prompts: &[&str]) {
    let mut store = HistoryStore::open(history_file(setup)).unwrap();
    for (i, prompt) in prompts.iter().enumerate() {
        store
            .append(&manual_record(&format!("job-{i}"), prompt, 20, i as i64))
            .unwrap();
    }
}

/// The job ids of the rows shown, in order.
fn shown_ids(harness: &Harness<'static, PromptDeskApp>) -> Vec<String> {
    let state = &harness.state().state;
    let store = state.store.as_ref().unwrap().read().unwrap();
    state
        .view
        .rows
        .iter()
        .map(|&i| store.records()[i as usize].job_id.clone())
        .collect()
}

fn selected(harness: &Harness<'static, PromptDeskApp>) -> Option<String> {
    harness.state().state.view.selected.clone()
}

fn press(harness: &mut Harness<'static, PromptDeskApp>, key: Key) {
    harness.key_press(key);
    harness.run();
}

/// Item 21: with the table focused (a row clicked), Up/Down, Home/End, PageUp/PageDown move
/// the selection, Enter opens the details again after Esc, Delete deletes (undoable); keys
/// typed in a text field do not move it.
#[test]
fn the_table_is_driven_from_the_keyboard() {
    let setup = setup();
    let prompts: Vec<String> = (0..40).map(|i| format!("prompt number {i}")).collect();
    let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
    seed(&setup, &refs);
    let mut harness = harness(&setup);
    let ids = shown_ids(&harness);
    assert_eq!(ids[0], "job-39", "newest first");

    harness.get_by_label("prompt number 37").click();
    settle(&mut harness);
    assert_eq!(selected(&harness).as_deref(), Some("job-37"));
    assert!(
        harness.get_by_label("History rows").is_focused(),
        "a click on a row gives the table the keyboard focus"
    );

    press(&mut harness, Key::ArrowDown);
    assert_eq!(selected(&harness).as_deref(), Some("job-36"));
    for _ in 0..3 {
        press(&mut harness, Key::ArrowUp);
    }
    assert_eq!(selected(&harness).as_deref(), Some("job-39"));
    press(&mut harness, Key::ArrowUp);
    assert_eq!(
        selected(&harness).as_deref(),
        Some("job-39"),
        "stays on the first row"
    );
    press(&mut harness, Key::End);
    assert_eq!(selected(&harness).as_deref(), Some("job-0"));
    // The last row was scrolled into view (its cell and the details show its prompt), the
    // first out of it (only the visible rows are laid out).
    assert_eq!(harness.get_all_by_label("prompt number 0").count(), 2);
    assert!(harness.query_by_label("prompt number 39").is_none());
    press(&mut harness, Key::Home);
    assert_eq!(selected(&harness).as_deref(), Some("job-39"));
    assert_eq!(harness.get_all_by_label("prompt number 39").count(), 2);
    assert!(harness.query_by_label("prompt number 0").is_none());
    press(&mut harness, Key::PageDown);
    let page = harness.state().state.view.page_rows;
    assert!(page > 1, "a page is several rows ({page})");
    assert_eq!(selected(&harness), Some(ids[page].clone()));
    press(&mut harness, Key::PageUp);
    assert_eq!(selected(&harness).as_deref(), Some("job-39"));

    // Enter with the details open keeps the row selected and moves the keyboard focus into
    // the details (their first action), so Tab/Space work them; clicking the table takes it back.
    press(&mut harness, Key::Enter);
    assert_eq!(selected(&harness).as_deref(), Some("job-39"));
    assert!(
        harness
            .get_by_label("Load into composer")
            .accesskit_node()
            .is_focused(),
        "Enter gives the details the keyboard focus"
    );
    harness.get_by_label("History rows").focus();
    harness.run();
    // Esc closes the details (no selection); Enter opens them again on the same row.
    press(&mut harness, Key::Escape);
    assert_eq!(selected(&harness), None);
    harness.get_by_label("History rows").focus();
    harness.run();
    press(&mut harness, Key::Enter);
    assert_eq!(selected(&harness).as_deref(), Some("job-39"));
    harness.get_by_label("History rows").focus();
    harness.run();

    // Delete deletes the selected job, undoably; Down then selects the row that took its place.
    press(&mut harness, Key::ArrowDown);
    assert_eq!(selected(&harness).as_deref(), Some("job-38"));
    press(&mut harness, Key::Delete);
    settle(&mut harness);
    assert!(
        !shown_ids(&harness).contains(&"job-38".to_owned()),
        "deleted"
    );
    assert!(
        HistoryStore::open(history_file(&setup))
            .unwrap()
            .get("job-38")
            .is_none()
    );
    press(&mut harness, Key::ArrowDown);
    assert_eq!(selected(&harness).as_deref(), Some("job-37"));
    harness.get_by_label("Undo").click();
    settle(&mut harness);
    assert!(shown_ids(&harness).contains(&"job-38".to_owned()), "undone");

    // Typing in a text field: the arrows are the field's, the selection stays.
    let before = selected(&harness);
    harness
        .get_by_role_and_label(Role::TextInput, "Search history")
        .focus();
    harness.run();
    press(&mut harness, Key::ArrowDown);
    press(&mut harness, Key::Delete);
    settle(&mut harness);
    assert_eq!(selected(&harness), before);
    assert_eq!(shown_ids(&harness).len(), 40);
}

/// The "History" heading's top edge: it moves when the panel's height changes.
fn history_top(harness: &Harness<'static, PromptDeskApp>) -> f32 {
    harness.get_by_label("History").rect().min.y
}

/// Item 3: the panel's height changes only when the user drags its edge, not by itself on
/// every repaint (it used to grow about 0.05 px per frame, until the composer was squeezed).
#[test]
fn the_history_panel_keeps_its_height_while_the_pointer_moves() {
    let setup = setup();
    seed(&setup, &["alpha sunrise", "beta harbour", "gamma forest"]);
    let mut harness = harness(&setup);
    let top = history_top(&harness);
    for i in 0..600 {
        let x = 400.0 + (i % 300) as f32;
        let y = 150.0 + (i % 250) as f32 * 3.0;
        harness.hover_at(Pos2::new(x, y));
        harness.step();
    }
    harness.run();
    assert_eq!(
        history_top(&harness),
        top,
        "the panel's height changed by itself"
    );
}

/// Item 6: a text search saved from the last run applies to a history above the size the
/// window filters on its own thread, once it is loaded, even when the window saw the store at
/// its final state before it heard that loading was done (the race that left every record
/// shown, newest first, with the words in the search box).
#[test]
fn a_saved_text_search_applies_once_a_large_history_is_loaded() {
    use promptdesk::app::state::SYNC_QUERY_LIMIT;
    use promptdesk::app::writer::WriteEvent;
    use promptdesk::history::{HistoryFilter, SortColumn, query_indices};

    let setup = setup();
    let n = SYNC_QUERY_LIMIT + 5_000;
    promptdesk_testdata::write_history(
        &history_file(&setup),
        n as u64,
        promptdesk_testdata::DEFAULT_SEED,
    )
    .unwrap();
    let filter = HistoryFilter {
        text: "windmill koi".into(),
        ..HistoryFilter::default()
    };
    let persisted = Persisted {
        filter: filter.clone(),
        ..Persisted::default()
    };
    let mut state = AppState::new(setup.data_dir.clone(), setup.packs_dir.clone(), persisted);

    // Let the history writer read the whole file, without taking its events.
    let progress = state.history_load.clone().expect("loading");
    let start = std::time::Instant::now();
    while progress
        .bytes_total
        .load(std::sync::atomic::Ordering::Relaxed)
        == 0
        || progress.fraction() < 1.0
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(300),
            "the history never loaded"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // The window takes the store (the writer's first event), draws a frame while "loaded"
    // is still in the channel, and so sees the final store with the load still running.
    if state.store.is_none() {
        match state.writer.next_event() {
            Some(WriteEvent::Opened(store)) => state.store = Some(store),
            other => panic!("expected the store first, got {other:?}"),
        }
    }
    state.apply(Command::DismissMessage);
    assert_eq!(
        state.view.rows.len(),
        n,
        "while loading, every record shows newest first"
    );

    let harness = harness_of_state(state);
    let expected = {
        let state = &harness.state().state;
        let store = state.store.as_ref().unwrap().read().unwrap();
        assert_eq!(store.len(), n);
        query_indices(store.records(), &filter, SortColumn::Time, true)
    };
    assert!(!expected.is_empty() && expected.len() < n);
    assert!(
        harness.state().state.view.rows == expected,
        "{} rows shown, {} match the saved search",
        harness.state().state.view.rows.len(),
        expected.len()
    );
    harness.get_by_label(&format!("{n} records, {} shown", expected.len()));
    assert_eq!(
        harness
            .get_by_role_and_label(Role::TextInput, "Search history")
            .accesskit_node()
            .value()
            .as_deref(),
        Some("windmill koi")
    );
}

/// A history with a job of a pack that is not in the packs folder (any more).
fn seed_with_retired_pack(setup: &Setup) {
    let mut store = HistoryStore::open(history_file(setup)).unwrap();
    store
        .append(&manual_record("job-manual", "a manual prompt", 20, 0))
        .unwrap();
    let mut record = manual_record("job-retired", "from a retired pack", 20, 1);
    record.prompt_source = PromptSource::Pack;
    record.prompt_pack_id = Some("retired_pack".into());
    record.prompt_keys = vec!["1".into()];
    store.append(&record).unwrap();
}

/// Item 13: the Pack filter offers every pack id of the history (also of packs no longer in
/// the folder), beside the packs in the folder.
#[test]
fn the_pack_filter_lists_the_packs_of_the_history() {
    let setup = setup();
    seed_with_retired_pack(&setup);
    let mut harness = harness(&setup);
    harness
        .get_by_role_and_label(Role::ComboBox, "Pack")
        .click();
    harness.run();
    // In the folder (the pack list shows it too) and in the filter's list.
    assert!(harness.get_all_by_label_contains("harbour_scenes").count() >= 2);
    // The table's cell is a label; the filter's choice is not.
    harness
        .get_all_by_label("retired_pack")
        .find(|n| n.accesskit_node().role() != Role::Label)
        .expect("retired_pack among the Pack filter's choices")
        .click();
    settle(&mut harness);
    assert_eq!(
        harness.state().state.view.filter.pack.as_deref(),
        Some("retired_pack")
    );
    assert_eq!(shown_ids(&harness), ["job-retired"]);
}

/// Item 14: a first run says how to get a first job instead of an empty grid.
#[test]
fn a_first_run_says_how_to_record_a_job() {
    let setup = setup();
    let harness = harness(&setup);
    harness.get_by_label("No jobs yet: check a prompt and press Submit.");
    harness.get_by_label("0 records, 0 shown");
}

/// Item 14: filters that match nothing say so and offer to clear them; Source MANUAL
/// disables the Pack and Key filters (manual jobs have neither): they are kept, do not hide
/// the manual jobs, and apply again with Source All.
#[test]
fn filters_that_match_nothing_say_so() {
    let setup = setup();
    seed_with_retired_pack(&setup);
    let mut harness = harness(&setup);
    assert!(
        harness
            .query_by_label("No rows match these filters.")
            .is_none()
    );

    harness
        .get_by_role_and_label(Role::TextInput, "Search history")
        .focus();
    harness.run();
    harness
        .get_by_role_and_label(Role::TextInput, "Search history")
        .type_text("nothing-has-this");
    settle(&mut harness);
    harness.get_by_label("No rows match these filters.");
    // The filter bar's Clear filters and the one under the message.
    let clear: Vec<_> = harness.get_all_by_label("Clear filters").collect();
    assert_eq!(clear.len(), 2);
    clear[1].click();
    settle(&mut harness);
    assert!(harness.state().state.view.filter.is_empty());
    assert!(
        harness
            .query_by_label("No rows match these filters.")
            .is_none()
    );

    // A pack filter, then Source MANUAL: the pack filter is kept but disabled, and does not
    // hide the manual jobs; back to All, it applies again.
    harness.state_mut().state.view.filter.pack = Some("retired_pack".into());
    settle(&mut harness);
    assert_eq!(shown_ids(&harness), ["job-retired"]);
    assert!(
        !harness
            .get_by_role_and_label(Role::ComboBox, "Pack")
            .accesskit_node()
            .is_disabled()
    );
    choose_source(&mut harness, "MANUAL");
    let state = &harness.state().state;
    assert_eq!(state.view.filter.source, Some(PromptSource::Manual));
    assert_eq!(
        state.view.filter.pack.as_deref(),
        Some("retired_pack"),
        "the pack filter is kept"
    );
    assert!(
        harness
            .get_by_role_and_label(Role::ComboBox, "Pack")
            .accesskit_node()
            .is_disabled()
    );
    assert!(
        harness
            .get_by_role_and_label(Role::TextInput, "Key")
            .accesskit_node()
            .is_disabled()
    );
    assert_eq!(
        shown_ids(&harness),
        ["job-manual"],
        "a pack filter does not hide manual jobs"
    );
    choose_source(&mut harness, "All");
    assert_eq!(shown_ids(&harness), ["job-retired"], "it applies again");
    assert!(
        !harness
            .get_by_role_and_label(Role::ComboBox, "Pack")
            .accesskit_node()
            .is_disabled()
    );
}

/// Opens the Source filter and chooses `choice`.
fn choose_source(harness: &mut Harness<'static, PromptDeskApp>, choice: &str) {
    harness
        .get_by_role_and_label(Role::ComboBox, "Source")
        .click();
    harness.run();
    harness
        .get_all_by_label(choice)
        .find(|n| n.accesskit_node().role() != Role::ComboBox)
        .expect("the choice")
        .click();
    settle(harness);
}

/// Item 23: a job submitted while the filters hide it is announced, with a way to show it.
#[test]
fn a_new_job_the_filters_hide_is_announced() {
    let setup = setup();
    seed_with_retired_pack(&setup);
    let mut harness = harness(&setup);
    harness.state_mut().state.view.filter.source = Some(PromptSource::Manual);
    settle(&mut harness);
    // A pack job.
    harness.get_by_label_contains("harbour_scenes").click();
    harness.run();
    harness.get_by_label_contains("1: a red lighthouse").click();
    harness.run();
    harness.get_by_label("Submit").click();
    settle(&mut harness);
    let job_id = harness
        .state()
        .state
        .view
        .selected
        .clone()
        .expect("selected");
    let short = &job_id[job_id.len() - 8..];
    harness.get_by_label(&format!(
        "ℹ Job {short} was recorded; the current filters hide it."
    ));
    assert!(!shown_ids(&harness).contains(&job_id));

    harness.get_by_label("Show it").click();
    settle(&mut harness);
    assert!(harness.state().state.view.filter.is_empty());
    assert!(shown_ids(&harness).contains(&job_id));
    assert!(
        harness
            .query_by_label_contains("the current filters hide it")
            .is_none()
    );
}

/// Item 28: one record is "1 record".
#[test]
fn counts_use_the_singular_for_one() {
    let setup = setup();
    seed(&setup, &["just one"]);
    let harness = harness(&setup);
    harness.get_by_label("1 record, 1 shown");
}

/// The history panel drawn alone on a store of its own (no app, no background thread), with
/// an optional loading progress.
struct PanelTest {
    view: promptdesk::app::HistoryView,
    store: std::sync::Arc<std::sync::RwLock<HistoryStore>>,
    loading: Option<promptdesk::app::writer::LoadProgress>,
    commands: promptdesk::app::state::CommandQueue,
    /// The rows are those of the current filter (false: a query is still running).
    rows_current: bool,
}

fn panel_harness(store: HistoryStore, width: f32) -> Harness<'static, PanelTest> {
    let view = promptdesk::app::HistoryView {
        rows: (0..store.len() as u32).rev().collect(),
        sort_descending: true,
        ..Default::default()
    };
    let state = PanelTest {
        view,
        store: std::sync::Arc::new(std::sync::RwLock::new(store)),
        loading: None,
        commands: Default::default(),
        rows_current: true,
    };
    Harness::builder()
        .with_max_steps(64)
        .with_size([width, 500.0])
        .build_ui_state(
            |ui, t: &mut PanelTest| {
                let ctx = promptdesk::app::state::ViewContext {
                    store: Some(&t.store),
                    history: promptdesk::app::state::HistoryStatus {
                        loading: t.loading.as_ref(),
                        ..Default::default()
                    },
                    rows_current: t.rows_current,
                    ..promptdesk::app::state::ViewContext::empty(Path::new("/packs"))
                };
                t.view.show(&ctx, ui, &mut t.commands);
            },
            state,
        )
}

/// A history of `good` jobs with a damaged line after every one of the first `bad`.
fn damaged_history(path: &Path, good: usize, bad: usize) {
    let mut text = String::new();
    for i in 0..good {
        text.push_str(&manual_record(&format!("job-{i}"), "fine", 20, i as i64).to_json_line());
        text.push('\n');
        if i < bad {
            text.push_str("{\"job_id\": \"torn\", not json\n");
        }
    }
    std::fs::write(path, text).unwrap();
}

/// Item 12: the damage banner names the damaged lines (the first five, then how many more),
/// says what `promptdesk verify` and `promptdesk compact` do, and can be dismissed until the
/// damage changes.
#[test]
fn the_damage_banner_names_the_lines_and_can_be_dismissed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    damaged_history(&path, 10, 7);
    let store = HistoryStore::open(&path).unwrap();
    let mut harness = panel_harness(store, 1200.0);
    harness.run();
    harness.get_by_label_contains(
        "The history file is damaged: 7 lines could not be read (lines 2, 4, 6, 8, 10 and 2 more).",
    );
    harness.get_by_label_contains("`promptdesk verify` lists each damaged line");
    harness.get_by_label_contains("`promptdesk compact` rewrites the history");
    harness.get_by_label("10 records, 10 shown");

    harness.get_by_label("Dismiss").click();
    harness.run();
    assert!(
        harness
            .query_by_label_contains("The history file is damaged")
            .is_none()
    );

    // Another damaged line arrives (another process wrote it): the banner is back.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut file, b"not json either\n").unwrap();
    harness.state().store.write().unwrap().reload().unwrap();
    harness.run();
    harness.get_by_label_contains("8 lines could not be read (lines 2, 4, 6, 8, 10 and 3 more)");
}

/// Item 12 (one line): singular, and its number.
#[test]
fn one_damaged_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    damaged_history(&path, 3, 1);
    let mut harness = panel_harness(HistoryStore::open(&path).unwrap(), 1200.0);
    harness.run();
    harness.get_by_label_contains(
        "The history file is damaged: 1 line could not be read (line 2). A copy of it is in",
    );
}

/// Item 28: while the history loads, the footer says how many records were read, not
/// "N records, M shown" (which compared rows of an earlier step with the count now).
#[test]
fn the_footer_says_loading_while_the_history_loads() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path().join("history.jsonl")).unwrap();
    for i in 0..3 {
        store
            .append(&manual_record(&format!("job-{i}"), "a prompt", 20, i))
            .unwrap();
    }
    let mut harness = panel_harness(store, 1200.0);
    let progress = promptdesk::app::writer::LoadProgress::default();
    progress
        .records
        .store(42_040, std::sync::atomic::Ordering::Relaxed);
    harness.state_mut().loading = Some(progress);
    // The spinner repaints for ever: a few frames.
    harness.run_steps(4);
    harness.get_by_label("Loading… 42040 records read");
    assert!(harness.query_by_label_contains("shown").is_none());
    harness.state_mut().loading = None;
    harness.run();
    harness.get_by_label("3 records, 3 shown");
}

/// Item 28: every header, sorted by (with its arrow), gets the width its text needs: the
/// arrow is never cut off (it was for "Config hash", cut to "Config ha…", and for Steps and
/// CFG).
#[test]
fn sorted_headers_show_their_arrow() {
    use promptdesk::history::SortColumn;
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path().join("history.jsonl")).unwrap();
    store
        .append(&manual_record("job-0", "a prompt", 20, 0))
        .unwrap();
    let mut harness = panel_harness(store, 1100.0);
    // The width a header (a frameless button) needs for its whole text.
    let needed = |ctx: &egui::Context, text: &str| {
        let font = ctx.global_style().text_styles[&egui::TextStyle::Button].clone();
        let galley =
            ctx.fonts_mut(|f| f.layout_no_wrap(text.to_owned(), font, egui::Color32::WHITE));
        galley.size().x
    };
    for (column, title) in SortColumn::ALL.into_iter().zip([
        "Time",
        "Source",
        "Pack",
        "Keys",
        "Prompt",
        "Model",
        "Steps",
        "CFG",
        "Seed",
        "Status",
        "Config hash",
    ]) {
        harness.state_mut().view.sort_column = column;
        harness.state_mut().view.sort_descending = true;
        harness.run();
        let label = format!("{title} ⬇");
        let width = harness
            .get_by_role_and_label(Role::Button, &label)
            .rect()
            .width();
        let want = needed(&harness.ctx, &label);
        assert!(
            width + 0.5 >= want,
            "{label}: {width} px, its text needs {want} px (cut off)"
        );
    }
}

/// Review 9: while the table waits for a new job's row (a query still running on a large
/// history), the rows are searched for it once per change of the rows, not on every frame.
#[test]
fn a_job_awaited_is_searched_for_once_per_change_of_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(dir.path().join("history.jsonl")).unwrap();
    for i in 0..3 {
        store
            .append(&manual_record(&format!("job-{i}"), "a prompt", 20, i))
            .unwrap();
    }
    let mut harness = panel_harness(store, 1200.0);
    harness.state_mut().rows_current = false;
    harness.state_mut().view.scroll_to = Some("job-new".into());
    for _ in 0..10 {
        harness.step();
    }
    assert_eq!(harness.state().view.follow_searches, 1);

    // The query's rows arrive, with the new job: it is found at once.
    let record = manual_record("job-new", "the new one", 20, 9);
    harness
        .state()
        .store
        .write()
        .unwrap()
        .append(&record)
        .unwrap();
    harness.state_mut().view.rows = vec![3, 2, 1, 0];
    harness.step();
    assert_eq!(harness.state().view.follow_searches, 2);
    assert_eq!(harness.state().view.cursor_row, Some(0));
}
