//! Panels drawn alone (`Harness::new_ui_state`): each gets its own state, a context built by
//! hand and a command queue; the tests click and type and look at the state and the commands
//! it emitted. No app, no background thread.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use promptdesk::app::state::{Command, CommandQueue, ViewContext};
use promptdesk::app::{Composer, HistoryView};
use promptdesk::history::SortColumn;
use promptdesk::packs::discover_packs;
use promptdesk::{
    HistoryStore, PromptPack, PromptSource, RunConfig, build_run_config_for_manual_prompt,
    job_record_from_run_config,
};
use std::path::Path;
use std::sync::{Arc, RwLock};

const FIXTURE_PACKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/packs");

/// The composer's state and what the test feeds its context.
struct ComposerTest {
    composer: Composer,
    pack: Option<PromptPack>,
    checked: Vec<String>,
    commands: CommandQueue,
}

fn composer_harness(pack: Option<PromptPack>, checked: &[&str]) -> Harness<'static, ComposerTest> {
    let state = ComposerTest {
        composer: Composer::default(),
        pack,
        checked: checked.iter().map(|s| s.to_string()).collect(),
        commands: CommandQueue::default(),
    };
    Harness::builder()
        // Background work (pack scan, queries, the history writer) finishing during run() asks for
        // a few more frames; do not fail for that on a slow machine.
        .with_max_steps(64)
        .with_size([900.0, 700.0])
        .build_ui_state(
            |ui, t: &mut ComposerTest| {
                let ctx = ViewContext {
                    selected_pack: t.pack.as_ref(),
                    checked_keys: &t.checked,
                    ..ViewContext::empty(Path::new("/packs"))
                };
                t.composer.show_header(&ctx, ui, &mut t.commands);
                t.composer.show(&ctx, ui, &mut t.commands);
            },
            state,
        )
}

fn submit_is_disabled<S>(harness: &Harness<'_, S>) -> bool {
    harness
        .get_by_label("Submit")
        .accesskit_node()
        .is_disabled()
}

fn harbour_pack() -> PromptPack {
    discover_packs(Path::new(FIXTURE_PACKS))
        .packs
        .into_iter()
        .find(|p| p.id == "harbour_scenes")
        .expect("fixture pack")
}

#[test]
fn the_composer_binds_its_fields_and_emits_commands_for_the_rest() {
    let mut harness = composer_harness(None, &[]);
    harness.run();
    assert!(submit_is_disabled(&harness));
    harness.get_by_label("Select a pack on the left.");

    // The mode switch reaches the selection: a command, the state is unchanged until applied.
    harness.get_by_label("Manual").click();
    harness.run();
    assert_eq!(
        harness.state_mut().commands.take(),
        vec![Command::SetMode(PromptSource::Manual)]
    );
    assert_eq!(harness.state().composer.mode, PromptSource::Pack);

    // Applied (as the app would), the manual boxes show; typing binds directly.
    harness.state_mut().composer.mode = PromptSource::Manual;
    harness.run();
    harness.get_by_label("Type a prompt first.");
    harness
        .get_by_role_and_label(Role::MultilineTextInput, "Prompt")
        .focus();
    harness.run();
    harness
        .get_by_role_and_label(Role::MultilineTextInput, "Prompt")
        .type_text("a quiet harbour");
    harness.run();
    assert_eq!(harness.state().composer.prompt, "a quiet harbour");
    assert!(
        harness.state_mut().commands.take().is_empty(),
        "typing is no command"
    );

    assert!(!submit_is_disabled(&harness));
    harness.get_by_label("Submit").click();
    harness.run();
    assert_eq!(harness.state_mut().commands.take(), vec![Command::Submit]);
}

#[test]
fn the_composer_shows_the_selected_pack_and_its_checked_keys() {
    let mut harness = composer_harness(Some(harbour_pack()), &[]);
    harness.run();
    assert!(submit_is_disabled(&harness));
    harness.get_by_label("Check at least one prompt of the pack.");
    harness.get_by_label("no prompt checked");

    harness.state_mut().checked = vec!["2".to_owned(), "1".to_owned()];
    harness.run();
    assert!(!submit_is_disabled(&harness));
    // In the pack's key order, whatever order they were checked in.
    harness.get_by_label("keys 1, 2");
    harness.get_by_label("harbour_scenes");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    harness.run();
    assert!(
        harness.state_mut().commands.take().is_empty(),
        "Ctrl+Enter is the app's shortcut, not the panel's"
    );
    harness.get_by_label("Submit").click();
    harness.run();
    assert_eq!(harness.state_mut().commands.take(), vec![Command::Submit]);
}

/// The history view's state, the store it shows and its command queue.
struct TableTest {
    view: HistoryView,
    store: Arc<RwLock<HistoryStore>>,
    commands: CommandQueue,
}

fn table_harness(dir: &Path) -> Harness<'static, TableTest> {
    let mut store = HistoryStore::open(dir.join("history.jsonl")).unwrap();
    for (i, (prompt, steps)) in [("alpha sunrise", 30), ("beta harbour", 10)]
        .into_iter()
        .enumerate()
    {
        let mut base = RunConfig::default();
        base.settings.steps = steps;
        let cfg = build_run_config_for_manual_prompt(prompt, "", Some(base));
        let mut record = job_record_from_run_config(&format!("job-{i}"), &cfg);
        // A foreign config hash with multi-byte text: the cell must not cut a character.
        record.config_hash = "ééééééééééééé".to_owned();
        store.append(&record).unwrap();
    }
    let view = HistoryView {
        rows: vec![1, 0],
        sort_descending: true,
        ..HistoryView::default()
    };
    let state = TableTest {
        view,
        store: Arc::new(RwLock::new(store)),
        commands: CommandQueue::default(),
    };
    Harness::builder()
        // Background work (pack scan, queries, the history writer) finishing during run() asks for
        // a few more frames; do not fail for that on a slow machine.
        .with_max_steps(64)
        .with_size([1200.0, 500.0])
        .build_ui_state(
            |ui, t: &mut TableTest| {
                let ctx = ViewContext {
                    store: Some(&t.store),
                    ..ViewContext::empty(Path::new("/packs"))
                };
                t.view.show(&ctx, ui, &mut t.commands);
            },
            state,
        )
}

#[test]
fn the_history_table_emits_selection_and_sort_commands_and_binds_its_filter() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = table_harness(dir.path());
    harness.run();
    harness.get_by_label("2 records, 2 shown");
    harness.get_by_label("alpha sunrise");
    assert_eq!(harness.get_all_by_label("éééééééééé").count(), 2);

    // Selecting a row is the selection: a command.
    harness.get_by_label("beta harbour").click();
    harness.run();
    assert_eq!(
        harness.state_mut().commands.take(),
        vec![Command::SelectJob(Some("job-1".to_owned()))]
    );

    // Sorting is a command too (it changes what the rows are).
    harness.get_by_role_and_label(Role::Button, "Steps").click();
    harness.run();
    assert_eq!(
        harness.state_mut().commands.take(),
        vec![Command::SortBy(SortColumn::Steps)]
    );

    // The filter is a form field: bound directly, no command.
    harness
        .get_by_role_and_label(Role::TextInput, "Search history")
        .focus();
    harness.run();
    harness
        .get_by_role_and_label(Role::TextInput, "Search history")
        .type_text("harbour");
    harness.run();
    assert_eq!(harness.state().view.filter.text, "harbour");
    assert!(harness.state_mut().commands.take().is_empty());
    harness.get_by_label("Clear filters").click();
    harness.run();
    assert!(harness.state().view.filter.is_empty());

    // A selected row shows in the footer.
    harness.state_mut().view.selected = Some("job-1".to_owned());
    harness.run();
    harness.get_by_label("· selected job-1");
}

#[test]
fn the_history_table_asks_to_scroll_to_a_new_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = table_harness(dir.path());
    harness.state_mut().view.scroll_to = Some("job-0".to_owned());
    harness.step();
    assert_eq!(
        harness.state_mut().commands.take(),
        vec![Command::ScrolledToSelection]
    );
    // Applied (as the app would): the table settles and asks nothing more.
    harness.state_mut().view.scroll_to = None;
    harness.run();
    assert!(harness.state_mut().commands.take().is_empty());
}
