//! Layout of the whole window at the sizes users have (640×480 to 1280×800): Submit stays in
//! view and clickable with every panel open, panel sizes give way to a small window and come
//! back, the status line is always visible, the pack list / prompts split, and how a pack's
//! prompts are labelled (slot names, the part that differs, matrix values, settings source).

use egui::accesskit::{Orientation, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use promptdesk::app::layout::{
    CENTRAL_MIN_HEIGHT, CENTRAL_MIN_WIDTH, DEFAULT_HISTORY_MIN, DEFAULT_HISTORY_SHARE,
};
use promptdesk::app::state::{Command, Message};
use promptdesk::app::{AppConfig, PromptDeskApp};
use promptdesk::{HistoryStore, build_run_config_for_manual_prompt, job_record_from_run_config};
use std::path::Path;
use std::sync::Arc;

mod support;
use support::*;

const LAYOUT_PACKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/layout");

/// The window sizes every layout test is run at.
const SIZES: [[f32; 2]; 4] = [
    [640.0, 480.0],
    [800.0, 600.0],
    [1024.0, 700.0],
    [1280.0, 800.0],
];

/// The UI fixture packs plus this file's (a unified pack with a shared preamble, slot names and
/// a matrix; a .txt with its settings in a .json; a .txt with none).
fn layout_setup() -> Setup {
    let setup = setup();
    for entry in std::fs::read_dir(LAYOUT_PACKS).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), setup.packs_dir.join(entry.file_name())).unwrap();
    }
    // These tests need a pack with no companion (no settings, a matrix with no values).
    std::fs::remove_file(setup.packs_dir.join("harbour_scenes.json")).unwrap();
    setup
}

/// One manual job in the history, so a row can be selected and the details panel shown.
fn seed_job(setup: &Setup) {
    let mut store = HistoryStore::open(history_file(setup)).unwrap();
    let cfg = build_run_config_for_manual_prompt("a seeded lighthouse", "", None);
    store
        .append(&job_record_from_run_config("job-seeded", &cfg))
        .unwrap();
}

fn records_on_disk(path: &Path) -> usize {
    HistoryStore::open(path).unwrap().records().len()
}

fn window(harness: &Harness<'static, PromptDeskApp>) -> egui::Rect {
    egui::Rect::from_min_size(egui::Pos2::ZERO, harness.ctx.content_rect().size())
}

/// `inner` lies inside `outer` (half a point of rounding allowed).
fn inside(inner: egui::Rect, outer: egui::Rect) -> bool {
    outer.expand(0.5).contains_rect(inner)
}

/// Selects the seeded job (as a click on its row does): the details panel opens.
fn select_seeded_job(harness: &mut Harness<'static, PromptDeskApp>) {
    harness
        .state_mut()
        .push(Command::SelectJob(Some("job-seeded".into())));
    settle(harness);
    harness.get_by_label("Load into composer");
}

/// Manual mode with a prompt typed, so Submit is enabled.
fn type_manual_prompt(harness: &mut Harness<'static, PromptDeskApp>, text: &str) {
    harness.get_by_label("Manual").click();
    harness.run();
    harness
        .get_by_role_and_label(Role::MultilineTextInput, "Prompt")
        .focus();
    harness.run();
    harness
        .get_by_role_and_label(Role::MultilineTextInput, "Prompt")
        .type_text(text);
    harness.run();
}

/// Submit lies in the window, inside the central area (which no panel covers), away from the
/// details panel, and the central area keeps its minimum size.
fn assert_submit_in_view(harness: &Harness<'static, PromptDeskApp>, what: &str) {
    let window = window(harness);
    let central = harness.state().central_rect;
    let submit = harness.get_by_label("Submit");
    assert!(
        !submit.accesskit_node().is_disabled(),
        "{what}: Submit enabled"
    );
    let rect = submit.rect();
    assert!(
        inside(rect, window),
        "{what}: Submit {rect:?} in the window {window:?}"
    );
    assert!(
        inside(rect, central),
        "{what}: Submit {rect:?} in the central area {central:?}"
    );
    assert!(
        central.width() >= CENTRAL_MIN_WIDTH - 1.0 && central.height() >= CENTRAL_MIN_HEIGHT - 1.0,
        "{what}: the central area keeps its minimum, {central:?}"
    );
    if let Some(load) = harness.query_by_label("Load into composer") {
        assert!(
            !load.rect().intersects(rect),
            "{what}: the details panel does not cover Submit"
        );
        assert!(
            !central.intersects(load.rect().shrink(1.0)),
            "{what}: details {:?} beside the central area {central:?}",
            load.rect()
        );
    }
}

#[test]
fn submit_stays_in_view_and_clickable_with_the_details_open_at_every_size() {
    for size in SIZES {
        let what = format!("{}x{}", size[0], size[1]);
        let setup = layout_setup();
        seed_job(&setup);
        let mut harness = sized_harness(&setup, size);
        select_seeded_job(&mut harness);
        type_manual_prompt(&mut harness, "a lighthouse in a small window");
        assert_submit_in_view(&harness, &what);
        // Every panel keeps a usable minimum: the pack list, the history and the details.
        harness.get_by_label("Search packs");
        harness.get_by_label("Search history");
        harness.get_by_label("Job id");

        // A real click at the button's centre reaches it (a clipped button would not).
        harness.get_by_label("Submit").click();
        settle(&mut harness);
        assert_eq!(
            records_on_disk(&history_file(&setup)),
            2,
            "{what}: submitted"
        );
    }
}

/// The resize handle of the history panel (the only horizontal egui panel splitter).
fn history_edge(harness: &Harness<'static, PromptDeskApp>) -> egui::Rect {
    harness
        .get_all_by_role(Role::Splitter)
        .find(|n| {
            n.accesskit_node().label().as_deref() == Some("Resize panel")
                && n.accesskit_node().orientation() == Some(Orientation::Horizontal)
        })
        .expect("the history panel's resize handle")
        .rect()
}

fn drag(harness: &mut Harness<'static, PromptDeskApp>, from: egui::Pos2, to: egui::Pos2) {
    harness.hover_at(from);
    harness.run();
    harness.drag_at(from);
    harness.run();
    for i in 1..=8 {
        harness.hover_at(from + (to - from) * (i as f32 / 8.0));
        harness.run();
    }
    harness.drop_at(to);
    harness.run();
}

#[test]
fn a_panel_dragged_large_gives_way_to_a_small_window_and_comes_back() {
    let setup = layout_setup();
    seed_job(&setup);
    let mut harness = sized_harness(&setup, [1280.0, 800.0]);
    type_manual_prompt(&mut harness, "a tall history");
    // Drag the history's edge to the top of the window: it stops where the composer keeps
    // its minimum height.
    let edge = history_edge(&harness).center();
    drag(&mut harness, edge, egui::pos2(edge.x, 30.0));
    settle(&mut harness);
    let dragged_to = history_edge(&harness).center().y;
    assert!(
        dragged_to < edge.y - 100.0,
        "the history grew: {edge:?} -> {dragged_to}"
    );
    assert_submit_in_view(&harness, "1280x800 after the drag");

    // A small window: the history gives way, Submit stays in view and clickable.
    for size in [[640.0, 480.0], [800.0, 600.0]] {
        harness.set_size(size.into());
        settle(&mut harness);
        assert_submit_in_view(&harness, &format!("{size:?} after the drag"));
    }
    // The size the user dragged to comes back with the large window (it was not overwritten
    // by the small window's).
    harness.set_size([1280.0, 800.0].into());
    settle(&mut harness);
    let back = history_edge(&harness).center().y;
    assert!((back - dragged_to).abs() < 2.0, "{back} vs {dragged_to}");

    // Frames without a drag do not move it (no growth by repaint).
    for _ in 0..20 {
        harness.hover_at(egui::pos2(700.0, 600.0));
        harness.run();
        harness.hover_at(egui::pos2(720.0, 650.0));
        harness.run();
    }
    assert!((history_edge(&harness).center().y - back).abs() < 0.5);
}

#[test]
fn the_status_line_stays_visible_when_the_composer_is_scrolled() {
    let setup = layout_setup();
    let mut harness = sized_harness(&setup, [640.0, 480.0]);
    type_manual_prompt(&mut harness, "scrolled");
    let long = format!(
        "Could not record the job: {} is read-only. {}",
        "/a/very/long/path/to/the/data/folder/history.jsonl",
        "Nothing you typed is lost; check the folder's permissions and press Submit again. "
            .repeat(6)
    );
    harness.state_mut().state.message = Some(Message::Error(long.clone()));
    harness.run();

    // Scroll the composer's body down as far as it goes.
    let prompt_label_before = harness.get_by_label("Negative prompt").rect();
    for _ in 0..10 {
        harness.get_by_label("Negative prompt").scroll_down();
        harness.run();
    }
    let prompt_label_after = harness.get_by_label("Negative prompt").rect();
    assert!(
        prompt_label_after.top() < prompt_label_before.top() - 50.0,
        "the composer scrolled: {prompt_label_before:?} -> {prompt_label_after:?}"
    );

    let window = window(&harness);
    let central = harness.state().central_rect;
    let message = harness.get_by_label_contains("Could not record the job");
    let rect = message.rect();
    assert!(inside(rect, window), "message {rect:?} in the window");
    assert!(
        !rect.intersects(central),
        "message apart from the scrolled area"
    );
    // A long message is cut to a few lines, with the whole text on hover.
    assert!(rect.height() < 80.0, "cut to three lines: {rect:?}");
    message.hover();
    harness.run();
    harness.run();
    assert!(
        harness
            .query_all_by_label_contains("press Submit again")
            .any(|n| n.rect().height() > rect.height()),
        "the whole text on hover"
    );
    // Dismiss still there, and clears it.
    harness
        .get_all_by_label("×")
        .find(|n| n.rect().top() >= central.bottom() - 0.5)
        .expect("Dismiss in the status bar")
        .click();
    harness.run();
    assert!(harness.state().state.message.is_none());
    assert!(
        harness
            .query_by_label_contains("Could not record the job")
            .is_none()
    );
}

#[test]
fn undo_is_in_the_status_line_after_a_delete() {
    let setup = layout_setup();
    seed_job(&setup);
    let mut harness = sized_harness(&setup, [800.0, 600.0]);
    select_seeded_job(&mut harness);
    harness.get_by_label("Delete").click();
    settle(&mut harness);
    assert_eq!(
        HistoryStore::open(history_file(&setup)).unwrap().len(),
        0,
        "deleted"
    );
    let undo = harness.get_by_label("Undo");
    assert!(undo.rect().top() > harness.state().central_rect.bottom() - 0.5);
    undo.click();
    settle(&mut harness);
    assert_eq!(HistoryStore::open(history_file(&setup)).unwrap().len(), 1);
}

/// A pack of `count` prompts, some of them long enough to wrap in a narrow panel.
fn write_many_prompts(setup: &Setup, count: usize) {
    let mut text = String::new();
    for i in 0..count {
        let extra = if i % 7 == 0 {
            " with a very long tail of descriptive words that would never fit on one line of a narrow pack browser"
        } else {
            ""
        };
        text.push_str(&format!("prompt number {i} of the big pack{extra}\n\n"));
    }
    std::fs::write(setup.packs_dir.join("big_pack.txt"), text).unwrap();
}

/// The pack browser's prompt checkboxes (`key: text`; the composer's "Random seed" is not one).
fn prompt_checkboxes<'h>(
    harness: &'h Harness<'static, PromptDeskApp>,
) -> impl Iterator<Item = egui_kittest::Node<'h>> + 'h {
    harness.get_all_by_role(Role::CheckBox).filter(|n| {
        n.accesskit_node()
            .label()
            .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_digit()))
    })
}

fn prompt_rows(harness: &Harness<'static, PromptDeskApp>) -> Vec<egui::Rect> {
    let mut rows: Vec<egui::Rect> = prompt_checkboxes(harness).map(|n| n.rect()).collect();
    rows.sort_by(|a, b| a.top().total_cmp(&b.top()));
    rows
}

/// The pack list row of the pack `id` (its label has the id, the prompt count and format).
fn pack_row(harness: &Harness<'static, PromptDeskApp>, id: &str) -> egui::Rect {
    harness
        .get_all_by_label_contains(id)
        .find(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.contains(" · "))
        })
        .unwrap_or_else(|| panic!("no pack row for {id}"))
        .rect()
}

#[test]
fn the_pack_list_takes_what_it_needs_and_the_split_can_be_dragged() {
    let setup = layout_setup();
    write_many_prompts(&setup, 200);
    let mut harness = sized_harness(&setup, [1280.0, 800.0]);
    harness
        .get_by_label_contains("big_pack   200 prompts")
        .click();
    settle(&mut harness);

    // Six packs need about 150 px: the prompts start right below them, not at a fixed share.
    let last_pack = pack_row(&harness, "studio_still_life");
    let first_prompt = prompt_rows(&harness)[0];
    assert!(
        first_prompt.top() - last_pack.bottom() < 110.0,
        "prompts start below the list: {last_pack:?}, {first_prompt:?}"
    );
    let shown_before = prompt_rows(&harness).len();
    assert!(
        shown_before >= 12,
        "the prompts use the free space: {shown_before} rows"
    );

    // Drag the split up: the pack list scrolls, the prompts get the room.
    let splitter = harness
        .get_by_label("Drag to resize the pack list")
        .rect()
        .center();
    drag(&mut harness, splitter, splitter - egui::vec2(0.0, 70.0));
    harness.run();
    let moved = prompt_rows(&harness)[0];
    assert!(
        (first_prompt.top() - moved.top() - 70.0).abs() < 6.0,
        "the prompts moved up with the split: {first_prompt:?} -> {moved:?}"
    );
    assert!(prompt_rows(&harness).len() > shown_before);

    // Dragged far down, the list grows only as far as its rows need.
    let splitter = harness
        .get_by_label("Drag to resize the pack list")
        .rect()
        .center();
    drag(&mut harness, splitter, splitter + egui::vec2(0.0, 400.0));
    harness.run();
    let back = prompt_rows(&harness)[0];
    assert!(
        (back.top() - first_prompt.top()).abs() < 2.0,
        "{back:?} vs {first_prompt:?}"
    );
}

fn pack_rows_shown(harness: &Harness<'static, PromptDeskApp>) -> usize {
    harness
        .get_all_by_role(Role::Button)
        .filter(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.contains(" prompts · ") || l.contains(" prompt · "))
        })
        .count()
}

/// The browser's bottom edge: the status bar's top (the pack browser ends above it).
fn status_bar_top(harness: &Harness<'static, PromptDeskApp>) -> f32 {
    harness.get_by_label_contains("Ready · ").rect().top() - 4.0
}

/// Item 25: the pack list takes the room the prompts leave: all of it with no pack selected,
/// nearly all of it for a pack of one prompt (whose row sits right below the list), its share
/// for a pack of many prompts, and what the user drags it to.
#[test]
fn the_pack_list_uses_the_room_the_prompts_leave() {
    let setup = layout_setup();
    for i in 0..60 {
        let path = setup.packs_dir.join(format!("extra_{i:02}.txt"));
        std::fs::write(path, format!("extra prompt {i}\n")).unwrap();
    }
    write_many_prompts(&setup, 200);
    let mut harness = sized_harness(&setup, [1280.0, 800.0]);
    let unselected = pack_rows_shown(&harness);
    assert!(
        unselected >= 25,
        "the list fills the panel: {unselected} rows"
    );

    harness
        .get_by_label_contains("extra_00   1 prompt · txt")
        .click();
    settle(&mut harness);
    let one_prompt = pack_rows_shown(&harness);
    assert!(
        one_prompt + 6 >= unselected,
        "a one-prompt pack leaves the list its room: {one_prompt} rows (was {unselected})"
    );
    let row = prompt_rows(&harness);
    assert_eq!(row.len(), 1);
    let free_below = status_bar_top(&harness) - row[0].bottom();
    assert!(
        free_below < 60.0,
        "no empty area below the prompt: {free_below} px free"
    );

    harness
        .get_by_label_contains("big_pack   200 prompts")
        .click();
    settle(&mut harness);
    let many_prompts = pack_rows_shown(&harness);
    assert!(
        many_prompts + 5 < unselected,
        "a pack of many prompts gets its share: {many_prompts} rows (was {unselected})"
    );

    // The user's drag holds, also for the one-prompt pack.
    let splitter = harness
        .get_by_label("Drag to resize the pack list")
        .rect()
        .center();
    drag(&mut harness, splitter, splitter - egui::vec2(0.0, 100.0));
    settle(&mut harness);
    let dragged = pack_rows_shown(&harness);
    assert!(dragged + 3 < many_prompts, "{dragged} vs {many_prompts}");
    harness
        .get_by_label_contains("extra_00   1 prompt · txt")
        .click();
    settle(&mut harness);
    assert!(
        pack_rows_shown(&harness) <= dragged + 1,
        "the dragged split holds"
    );
}

/// Item 25 (the error list): a collapsed list of files that could not be loaded gives its
/// room back to the pack list.
#[test]
fn a_collapsed_error_list_gives_its_room_to_the_pack_list() {
    let setup = layout_setup();
    for i in 0..8 {
        let path = setup.packs_dir.join(format!("broken_{i}.json"));
        std::fs::copy(BROKEN_PACK, path).unwrap();
    }
    for i in 0..60 {
        let path = setup.packs_dir.join(format!("extra_{i:02}.txt"));
        std::fs::write(path, format!("extra prompt {i}\n")).unwrap();
    }
    let mut harness = sized_harness(&setup, [1280.0, 800.0]);
    let open = pack_rows_shown(&harness);
    harness
        .get_by_label_contains("8 files could not be loaded")
        .click();
    settle(&mut harness);
    let collapsed = pack_rows_shown(&harness);
    assert!(
        collapsed >= open + 3,
        "the list takes the room: {collapsed} rows (was {open})"
    );
}

#[test]
fn pack_and_prompt_rows_are_one_line_each_at_every_size() {
    for size in SIZES {
        let setup = layout_setup();
        write_many_prompts(&setup, 40);
        let mut harness = sized_harness(&setup, size);
        harness.get_by_label_contains("Mythical beasts").click();
        settle(&mut harness);
        let rows = prompt_rows(&harness);
        assert!(rows.len() >= 5, "{size:?}: {rows:?}");
        assert_even(&rows, &format!("{size:?} mythical beasts"));

        harness
            .get_by_label_contains("big_pack   40 prompts")
            .click();
        settle(&mut harness);
        assert_even(&prompt_rows(&harness), &format!("{size:?} big pack"));

        let mut packs: Vec<egui::Rect> = [
            "big_pack",
            "harbour_scenes",
            "landscapes",
            "mythical_beasts",
            "structures",
            "studio_still_life",
        ]
        .iter()
        .map(|id| pack_row(&harness, id))
        .collect();
        packs.sort_by(|a, b| a.top().total_cmp(&b.top()));
        assert_even(&packs, &format!("{size:?} packs"));
    }
}

/// Same heights, no overlap, a constant step.
fn assert_even(rows: &[egui::Rect], what: &str) {
    assert!(rows.len() >= 2, "{what}: {rows:?}");
    let height = rows[0].height();
    let step = rows[1].top() - rows[0].top();
    for pair in rows.windows(2) {
        assert!(
            (pair[1].height() - height).abs() < 0.5,
            "{what}: heights {rows:?}"
        );
        assert!(
            (pair[1].top() - pair[0].top() - step).abs() < 0.5,
            "{what}: steps {rows:?}"
        );
        assert!(
            pair[0].bottom() <= pair[1].top() + 0.5,
            "{what}: overlap {rows:?}"
        );
    }
}

fn prompt_labels(harness: &Harness<'static, PromptDeskApp>) -> Vec<String> {
    let mut nodes: Vec<(f32, String)> = prompt_checkboxes(harness)
        .map(|n| {
            (
                n.rect().top(),
                n.accesskit_node().label().unwrap_or_default(),
            )
        })
        .collect();
    nodes.sort_by(|a, b| a.0.total_cmp(&b.0));
    nodes.into_iter().map(|(_, l)| l).collect()
}

#[test]
fn prompts_sharing_a_preamble_are_told_apart_by_name_or_by_what_differs() {
    let setup = layout_setup();
    let mut harness = sized_harness(&setup, [1280.0, 800.0]);
    harness.get_by_label_contains("Mythical beasts").click();
    settle(&mut harness);
    let labels = prompt_labels(&harness);
    assert_eq!(labels.len(), 10);
    assert_eq!(
        labels[0],
        "1: …armored basilisk glaring across [[environment]]"
    );
    assert_eq!(
        labels[4],
        "5 Dragon: …towering dragon coiled above [[environment]]"
    );
    let distinct: std::collections::HashSet<&String> = labels.iter().collect();
    assert_eq!(distinct.len(), 10, "{labels:?}");
    assert!(
        labels.iter().all(|l| !l.contains("masterpiece")),
        "{labels:?}"
    );

    // The full text, and the values of its matrix token, on hover.
    harness.get_by_label(&labels[0]).hover();
    harness.run();
    harness.run();
    harness.get_by_label_contains("epic creature concept");
    harness.get_by_label("Matrix (random, at most 4 combinations per prompt)");
    harness.get_by_label(
        "[[environment]]: frost cavern · volcano pit · burial tomb · glowing under-dark · dungeon",
    );

    // Labels are computed once per pack load, not each frame.
    let rows = |h: &Harness<'static, PromptDeskApp>| {
        h.state()
            .state
            .pack_browser
            .prompt_rows
            .as_ref()
            .unwrap()
            .2
            .clone()
    };
    let first = rows(&harness);
    harness.run();
    assert!(Arc::ptr_eq(&first, &rows(&harness)));
}

#[test]
fn a_matrix_token_the_pack_gives_no_values_says_so() {
    let setup = layout_setup();
    let mut harness = sized_harness(&setup, [1280.0, 800.0]);
    harness.get_by_label_contains("harbour_scenes").click();
    settle(&mut harness);
    harness.get_by_label_contains("1: a red lighthouse").hover();
    harness.run();
    harness.run();
    harness.get_by_label("[[season]]: no values defined in this pack");
}

#[test]
fn counts_are_in_the_right_number_and_settings_say_where_they_come_from() {
    let setup = layout_setup();
    std::fs::copy(BROKEN_PACK, setup.packs_dir.join("broken_pack.json")).unwrap();
    let mut harness = sized_harness(&setup, [1280.0, 800.0]);
    harness.get_by_label_contains("structures   1 prompt · txt");
    harness.get_by_label_contains("landscapes   2 prompts · txt");
    harness.get_by_label_contains("⚠ 1 file could not be loaded");

    for (pack, settings) in [
        ("landscapes", "Settings from landscapes.json"),
        ("structures", "No settings (no structures.json)"),
        ("Mythical beasts", "Settings from mythical_beasts.json"),
        ("harbour_scenes", "No settings (no harbour_scenes.json)"),
    ] {
        harness.get_by_label_contains(pack).click();
        settle(&mut harness);
        let hint = harness.get_by_label(settings);
        hint.hover();
        harness.run();
        harness.run();
        if settings.starts_with("Settings from landscapes") {
            harness.get_by_label_contains("sampler Euler a, 20 steps, CFG 7, size 512×512");
        }
    }

    // Importing one pack file says "1 pack file".
    let source = tempfile::tempdir().unwrap();
    let file = source.path().join("extra.txt");
    std::fs::write(&file, "a castle\n").unwrap();
    harness
        .state_mut()
        .push(Command::ImportPackFiles(vec![file]));
    harness.run();
    let message = format!("{:?}", harness.state().state.message);
    assert!(message.contains("Importing 1 pack file..."), "{message}");
    settle(&mut harness);
    let message = format!("{:?}", harness.state().state.message);
    assert!(message.contains("Imported 1 pack file."), "{message}");
}

/// The history panel's size as fitted this frame (its stored state).
fn history_size(harness: &Harness<'static, PromptDeskApp>) -> f32 {
    egui::PanelState::load(&harness.ctx, history_panel_id())
        .expect("the history panel's state")
        .size()
        .y
}

/// The id of the history panel (a panel of the root Ui).
fn history_panel_id() -> egui::Id {
    egui::ViewportId::ROOT.root_ui_id().with("history")
}

/// A history of `jobs` manual jobs (`row prompt N`) with one damaged line after the first.
fn seed_damaged_history(setup: &Setup, jobs: usize) {
    let mut text = String::new();
    for i in 0..jobs {
        let cfg = build_run_config_for_manual_prompt(&format!("row prompt {i}"), "", None);
        text.push_str(&job_record_from_run_config(&format!("job-{i:02}"), &cfg).to_json_line());
        text.push('\n');
        if i == 0 {
            text.push_str("{\"job_id\": \"torn\", not json\n");
        }
    }
    std::fs::write(history_file(setup), text).unwrap();
}

/// Items 1 and 3 at every size: with a damage banner above the table, the count line and at
/// least three rows lie in the window, and the panel keeps its height while the pointer moves.
#[test]
fn the_history_keeps_its_count_line_and_rows_in_view_with_a_banner_at_every_size() {
    for size in SIZES {
        let what = format!("{}x{}", size[0], size[1]);
        let setup = layout_setup();
        seed_damaged_history(&setup, 12);
        let mut harness = sized_harness(&setup, size);
        harness.get_by_label_contains("The history file is damaged");
        let window = window(&harness);
        let count = harness.get_by_label("12 records, 12 shown").rect();
        assert!(
            inside(count, window),
            "{what}: the count line {count:?} in the window"
        );
        let rows = harness
            .get_all_by_label("MANUAL")
            .filter(|n| inside(n.rect(), window) && n.rect().bottom() <= count.top())
            .count();
        assert!(rows >= 3, "{what}: {rows} rows in view");
        let banner = harness
            .get_by_label_contains("The history file is damaged")
            .rect();
        assert!(
            banner.top() >= history_edge(&harness).top() - 1.0,
            "{what}: the banner in the panel"
        );

        let size_before = history_size(&harness);
        let top_before = history_edge(&harness).center().y;
        for i in 0..300 {
            let x = 20.0 + (i % 30) as f32 * (size[0] - 40.0) / 30.0;
            let y = 20.0 + (i % 25) as f32 * (size[1] - 40.0) / 25.0;
            harness.hover_at(egui::pos2(x, y));
            harness.step();
        }
        harness.run();
        assert_eq!(history_size(&harness), size_before, "{what}: no growth");
        assert_eq!(history_edge(&harness).center().y, top_before, "{what}");
        let count_after = harness.get_by_label("12 records, 12 shown").rect();
        assert_eq!(count_after, count, "{what}");

        // Small or not, the banner names the line and can be dismissed.
        harness.get_by_label_contains("could not be read (line 2)");
        harness.get_by_label("Dismiss").click();
        harness.run();
        assert!(
            harness
                .query_by_label_contains("The history file is damaged")
                .is_none(),
            "{what}"
        );
    }
}

/// Item 10: a panel never dragged takes its share of the window (40% of the height below the
/// menu and status bars for the history, at least 200 px where the composer keeps its
/// minimum) at any size, and follows it both ways.
#[test]
fn a_panel_never_dragged_keeps_its_share_of_the_window() {
    let setup = layout_setup();
    let mut harness = sized_harness(&setup, [1280.0, 800.0]);
    let check = |h: &Harness<'static, PromptDeskApp>, what: &str| {
        let history = history_size(h);
        let room = history + h.state().central_rect.height();
        let expected = (room * DEFAULT_HISTORY_SHARE)
            .round()
            .max(DEFAULT_HISTORY_MIN)
            .min(room - CENTRAL_MIN_HEIGHT);
        assert!(
            (history - expected).abs() < 1.0,
            "{what}: history {history} of {room}, expected {expected}"
        );
        history
    };
    let large = check(&harness, "1280x800");
    assert!((large / (large + harness.state().central_rect.height()) - 0.4).abs() < 0.01);
    let mut sizes = Vec::new();
    for size in SIZES {
        harness.set_size(size.into());
        settle(&mut harness);
        sizes.push(check(&harness, &format!("{size:?}")));
    }
    assert!(sizes[0] < sizes[2] && sizes[2] < sizes[3], "{sizes:?}");
    assert!(
        (sizes[3] - large).abs() < 1.0,
        "the large layout comes back"
    );
}

/// The app with a history panel size saved by an earlier version (before any frame).
fn harness_with_earlier_history_size(
    setup: &Setup,
    earlier: f32,
) -> Harness<'static, PromptDeskApp> {
    let config = AppConfig {
        data_dir: setup.data_dir.clone(),
        packs_dir: setup.packs_dir.clone(),
        restore_packs_dir: false,
    };
    let mut harness = builder([1280.0, 800.0]).build_eframe(move |cc| {
        let rect = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, earlier));
        cc.egui_ctx.data_mut(|d| {
            d.insert_persisted(history_panel_id(), egui::PanelState { outer_rect: rect });
        });
        PromptDeskApp::new(cc, config)
    });
    settle(&mut harness);
    harness
}

/// Items 2 and 10: after an upgrade, a history size the earlier version grew by itself (above
/// its default of 380) is not taken, so the composer is not left at its minimum; a size within
/// it is the user's and is kept.
#[test]
fn a_grown_history_size_saved_by_an_earlier_version_is_not_taken() {
    let setup = layout_setup();
    let fresh = history_size(&sized_harness(&setup, [1280.0, 800.0]));
    assert!(
        (fresh - 250.0).abs() > 5.0,
        "the default is not 250: {fresh}"
    );

    let harness = harness_with_earlier_history_size(&setup, 250.0);
    assert_eq!(history_size(&harness), 250.0, "the user's size is kept");

    let harness = harness_with_earlier_history_size(&setup, 650.0);
    assert_eq!(history_size(&harness), fresh, "the grown size is not taken");
    assert!(harness.state().central_rect.height() > CENTRAL_MIN_HEIGHT + 100.0);
}

/// Item 20 (and review 7): the status bar is always there, with a hint when there is no
/// message, so a message coming or going never moves the history.
#[test]
fn a_message_does_not_move_the_history() {
    let setup = layout_setup();
    let mut harness = sized_harness(&setup, [1024.0, 700.0]);
    harness.get_by_label_contains("Ctrl+Enter submits");
    let edge = history_edge(&harness);
    let size = history_size(&harness);
    harness.state_mut().state.message = Some(Message::Info(
        "Submitted job 1a2b3c4d (a lighthouse at dusk). It is in the history below.".into(),
    ));
    harness.run();
    harness.get_by_label_contains("Submitted job 1a2b3c4d");
    assert_eq!(history_edge(&harness), edge);
    assert_eq!(history_size(&harness), size);
    // A long note stays on one line (whole on hover).
    harness.state_mut().state.message = Some(Message::Info("A long note. ".repeat(40)));
    harness.run();
    assert_eq!(history_edge(&harness), edge);
    harness.state_mut().push(Command::DismissMessage);
    harness.step();
    harness.run();
    harness.get_by_label_contains("Ctrl+Enter submits");
    assert_eq!(history_edge(&harness), edge);
}

/// Review 6: the Prompt column, the one people read, keeps at least 180 px (it was squeezed
/// to 100 px at 1024 x 700); the other columns narrow first, to their headers' widths.
#[test]
fn the_prompt_column_keeps_its_share_of_the_table() {
    for size in [[1024.0, 700.0], [1280.0, 800.0]] {
        let setup = layout_setup();
        let mut store = HistoryStore::open(history_file(&setup)).unwrap();
        let long = "a very long prompt about a lighthouse on a cliff at dusk, ".repeat(6);
        let cfg = build_run_config_for_manual_prompt(&long, "", None);
        store
            .append(&job_record_from_run_config("job-long", &cfg))
            .unwrap();
        drop(store);
        let harness = sized_harness(&setup, size);
        let table = harness.get_by_label("History rows").rect();
        let cell = harness
            .get_by_label_contains("a very long prompt about")
            .rect();
        assert!(
            cell.width() >= 170.0,
            "{size:?}: Prompt {} px of a {} px table",
            cell.width(),
            table.width()
        );
        // At 1280 every column is in view; at 1024 the last ones scroll sideways.
        let in_view: &[&str] = if size[0] >= 1280.0 {
            &["Model", "Seed", "Status", "Config hash"]
        } else {
            &["Model"]
        };
        for &header in in_view {
            let rect = harness.get_by_role_and_label(Role::Button, header).rect();
            assert!(
                rect.right() <= table.right(),
                "{size:?}: {header} {rect:?} in the table {table:?}"
            );
        }
    }
}

/// Review 15: the settings line names what is true for an A1111 styles pack and for a
/// companion .json that failed to load.
#[test]
fn the_settings_line_says_why_a_pack_has_none() {
    let setup = layout_setup();
    std::fs::write(
        setup.packs_dir.join("Photo Styles.csv"),
        "name,prompt,negative_prompt\nFilm,\"{prompt}, film grain\",\"blurry\"\n",
    )
    .unwrap();
    std::fs::write(setup.packs_dir.join("castle.txt"), "a castle on a hill\n").unwrap();
    std::fs::write(setup.packs_dir.join("castle.json"), "{\"preset_data\": ").unwrap();
    let mut harness = sized_harness(&setup, [1280.0, 800.0]);

    harness.get_by_label_contains("Photo Styles").click();
    settle(&mut harness);
    harness.get_by_label("No settings (A1111 styles hold prompts only)");
    assert!(harness.query_by_label_contains("StableNew").is_none());

    harness.get_by_label_contains("castle   1 prompt").click();
    settle(&mut harness);
    let line = harness.get_by_label("No settings: castle.json could not be loaded");
    line.hover();
    harness.run();
    harness.run();
    harness.get_by_label_contains("but it could not be loaded: ");

    // The pack row's tooltip (built when hovered) names its files and the same reason.
    harness.hover_at(egui::pos2(640.0, 400.0));
    harness.run();
    harness.get_by_label_contains("castle   1 prompt").hover();
    harness.run();
    harness.run();
    harness.get_by_label_contains("castle: 1 prompt, txt");
    harness.get_by_label_contains("\nNo settings: castle.json could not be loaded");
}
