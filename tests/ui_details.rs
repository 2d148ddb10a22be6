//! The job details and what goes with them, driven headless (egui_kittest) as a user would:
//! Ctrl+Z restores deleted jobs (several deep, not from inside a text field), the details of
//! another job start at the top and name their fields so a user understands them, exports
//! from the window are oldest first like the CLI's, and the StableNew import message says
//! what the CLI says.

use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use promptdesk::app::PromptDeskApp;
use promptdesk::app::state::{Command, Message};
use promptdesk::cli::{Outcome, run_from};
use promptdesk::history::ExportFormat;
use promptdesk::{
    HistoryStore, JobRecord, JobStatus, RunMode, RunSource, build_run_config_for_manual_prompt,
    job_record_from_run_config,
};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

mod support;
use support::*;

const STABLENEW_HISTORY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/details/job_history.jsonl"
);

fn records_on_disk(path: &Path) -> Vec<JobRecord> {
    HistoryStore::open(path).unwrap().records().to_vec()
}

/// The ids of the jobs in the history file, sorted.
fn live_ids(setup: &Setup) -> Vec<String> {
    let mut ids: Vec<String> = records_on_disk(&history_file(setup))
        .into_iter()
        .map(|r| r.job_id)
        .collect();
    ids.sort();
    ids
}

fn message(harness: &Harness<'static, PromptDeskApp>) -> String {
    match &harness.state().state.message {
        Some(Message::Info(m) | Message::Error(m)) => m.clone(),
        None => String::new(),
    }
}

/// Appends manual jobs `job-0`, `job-1`, ... one second apart (the last is the newest).
fn seed(setup: &Setup, prompts: &[(&str, &str)]) {
    let mut store = HistoryStore::open(history_file(setup)).unwrap();
    for (i, (prompt, negative)) in prompts.iter().enumerate() {
        let cfg = build_run_config_for_manual_prompt(prompt, negative, None);
        let mut record = job_record_from_run_config(&format!("job-{i}"), &cfg);
        record.created_at += chrono::Duration::seconds(i as i64);
        store.append(&record).unwrap();
    }
}

const THREE: &[(&str, &str)] = &[
    ("alpha sunrise", ""),
    ("beta harbour", ""),
    ("gamma forest", ""),
];

/// Runs the CLI in-process on the same folders; returns (exit code, stdout).
fn cli(setup: &Setup, data_dir: &Path, args: &[&str]) -> (i32, String) {
    let mut argv: Vec<OsString> = vec![
        "promptdesk".into(),
        "--data-dir".into(),
        data_dir.into(),
        "--packs-dir".into(),
        setup.packs_dir.clone().into(),
    ];
    argv.extend(args.iter().map(OsString::from));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let Outcome::Exit(code) = run_from(argv, &mut out, &mut err) else {
        panic!("expected a command to run")
    };
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    (code, String::from_utf8(out).unwrap())
}

fn select_row(harness: &mut Harness<'static, PromptDeskApp>, prompt: &str) {
    harness.get_by_label(prompt).click();
    settle(harness);
}

fn delete_row(harness: &mut Harness<'static, PromptDeskApp>, prompt: &str) {
    select_row(harness, prompt);
    harness.get_by_label("Delete").click();
    settle(harness);
}

/// The undo keys as the messages name them here (Cmd+Z on macOS).
fn undo_keys() -> &'static str {
    if cfg!(target_os = "macos") {
        "Cmd+Z"
    } else {
        "Ctrl+Z"
    }
}

fn press(harness: &mut Harness<'static, PromptDeskApp>, modifiers: Modifiers, key: Key) {
    harness.key_press_modifiers(modifiers, key);
    settle(harness);
}

#[test]
fn ctrl_z_and_ctrl_shift_z_restore_deleted_jobs_the_last_first() {
    let setup = setup();
    seed(&setup, THREE);
    let mut harness = harness(&setup);
    delete_row(&mut harness, "alpha sunrise");
    assert!(message(&harness).contains(&format!("{} or Undo restores it", undo_keys())));
    delete_row(&mut harness, "gamma forest");
    delete_row(&mut harness, "beta harbour");
    assert!(live_ids(&setup).is_empty());
    let text = message(&harness);
    assert!(
        text.contains("Deleted job job-1") && text.contains("3 deleted jobs can be restored"),
        "{text}"
    );

    press(&mut harness, Modifiers::COMMAND, Key::Z);
    assert_eq!(live_ids(&setup), ["job-1"]);
    let text = message(&harness);
    assert!(
        text.contains("Restored job job-1") && text.contains("again restores job job-2"),
        "{text}"
    );
    // The restored job is selected.
    assert_eq!(
        harness.state().state.view.selected.as_deref(),
        Some("job-1")
    );

    press(&mut harness, Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    assert_eq!(live_ids(&setup), ["job-1", "job-2"]);
    assert!(message(&harness).contains("again restores job job-0"));

    press(&mut harness, Modifiers::COMMAND, Key::Z);
    assert_eq!(live_ids(&setup), ["job-0", "job-1", "job-2"]);
    let text = message(&harness);
    assert!(
        text.contains("Restored job job-0") && !text.contains("again"),
        "{text}"
    );
    assert!(harness.state().state.view.last_deleted.is_empty());
    assert!(harness.query_by_label("Undo").is_none(), "nothing to undo");

    // Nothing left to restore: another Ctrl+Z changes nothing.
    let before = std::fs::read(history_file(&setup)).unwrap();
    press(&mut harness, Modifiers::COMMAND, Key::Z);
    assert_eq!(std::fs::read(history_file(&setup)).unwrap(), before);
}

#[test]
fn ctrl_z_in_a_text_field_is_the_fields_own_undo() {
    let setup = setup();
    seed(&setup, THREE);
    let mut harness = harness(&setup);
    delete_row(&mut harness, "beta harbour");
    assert_eq!(live_ids(&setup), ["job-0", "job-2"]);

    let search = || (Role::TextInput, "Search history");
    harness
        .get_by_role_and_label(search().0, search().1)
        .focus();
    harness.run();
    harness
        .get_by_role_and_label(search().0, search().1)
        .type_text("a");
    settle(&mut harness);
    assert!(
        harness
            .get_by_role_and_label(search().0, search().1)
            .is_focused()
    );
    press(&mut harness, Modifiers::COMMAND, Key::Z);
    press(&mut harness, Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    assert_eq!(
        live_ids(&setup),
        ["job-0", "job-2"],
        "restored from a text field"
    );
    assert_eq!(harness.state().state.view.last_deleted.len(), 1);

    // Out of the field (Esc), Ctrl+Z restores the job.
    harness.key_press(Key::Escape);
    settle(&mut harness);
    assert!(
        !harness
            .get_by_role_and_label(search().0, search().1)
            .is_focused()
    );
    press(&mut harness, Modifiers::COMMAND, Key::Z);
    assert_eq!(live_ids(&setup), ["job-0", "job-1", "job-2"]);
}

#[test]
fn the_window_exports_oldest_first_the_same_file_as_the_cli() {
    let setup = setup();
    seed(&setup, THREE);
    let mut harness = harness(&setup);
    // The table shows the newest first.
    let view = &harness.state().state.view;
    assert!(view.sort_descending);
    let out = tempfile::tempdir().unwrap();
    for (format, name) in [
        (ExportFormat::Jsonl, "jsonl"),
        (ExportFormat::Csv, "csv"),
        (ExportFormat::Infotext, "infotext"),
    ] {
        let from_app = out.path().join(format!("app.{name}"));
        let from_cli = out.path().join(format!("cli.{name}"));
        // What the export file dialog answers with.
        harness
            .state_mut()
            .push(Command::Export(from_app.clone(), format));
        settle(&mut harness);
        assert!(
            message(&harness).contains("Exported 3"),
            "{}",
            message(&harness)
        );
        cli(
            &setup,
            &setup.data_dir,
            &[
                "export",
                "--format",
                name,
                "--output",
                from_cli.to_str().unwrap(),
            ],
        );
        assert_eq!(
            std::fs::read_to_string(&from_app).unwrap(),
            std::fs::read_to_string(&from_cli).unwrap(),
            "{name}"
        );
    }
    let ids: Vec<String> = std::fs::read_to_string(out.path().join("app.jsonl"))
        .unwrap()
        .lines()
        .map(|l| JobRecord::from_json_line(l.as_bytes()).unwrap().job_id)
        .collect();
    assert_eq!(ids, ["job-0", "job-1", "job-2"], "oldest first");
}

#[test]
fn the_stablenew_import_message_says_what_the_cli_says() {
    let setup = setup();
    let mut harness = harness(&setup);
    let file = PathBuf::from(STABLENEW_HISTORY);
    // What the import file dialog answers with.
    harness
        .state_mut()
        .push(Command::ImportStableNew(file.clone()));
    settle(&mut harness);
    let text = message(&harness);

    let other = tempfile::tempdir().unwrap();
    let (_, out) = cli(
        &setup,
        other.path(),
        &["import-stablenew", file.to_str().unwrap()],
    );
    let cli_line = out.lines().next().unwrap();
    assert_eq!(
        text,
        format!(
            "Imported {cli_line}. 1 line skipped: line 7: {}.",
            out.lines()
                .nth(2)
                .unwrap()
                .trim()
                .trim_start_matches("line 7: ")
        )
    );
    for fact in [
        "5 imported",
        "1 left running by StableNew imported as failed",
        "1 that never ran imported as cancelled",
        "2 with a reused id stored under a new id",
    ] {
        assert!(text.contains(fact), "{fact}: {text}");
    }
    harness.get_by_label(&text);
}

/// True when the details show `value` in the same grid row as the field `name`: the value's
/// node to the right of the name's, their rows overlapping (not merely both on screen).
fn has_field(harness: &Harness<'static, PromptDeskApp>, name: &str, value: &str) -> bool {
    harness.query_all_by_label(name).any(|name| {
        let name = name.rect();
        harness.query_all_by_label(value).any(|value| {
            let value = value.rect();
            let gap = value.left() - name.right();
            (0.0..200.0).contains(&gap) && (value.top()..value.bottom()).contains(&name.center().y)
        })
    })
}

#[test]
fn details_say_who_created_a_job_how_it_runs_and_how_it_ended() {
    let setup = setup();
    // One job from the CLI, one from the app, and StableNew's.
    cli(
        &setup,
        &setup.data_dir,
        &["submit", "--prompt", "from the command line"],
    );
    let mut harness = harness(&setup);
    harness
        .state_mut()
        .push(Command::ImportStableNew(PathBuf::from(STABLENEW_HISTORY)));
    settle(&mut harness);
    harness.get_by_label("Manual").click();
    harness.run();
    harness
        .get_by_role_and_label(Role::MultilineTextInput, "Prompt")
        .focus();
    harness.run();
    harness
        .get_by_role_and_label(Role::MultilineTextInput, "Prompt")
        .type_text("from the app");
    harness.run();
    harness.get_by_label("Submit").click();
    settle(&mut harness);

    // Imported: the truth about where it came from, even though the record says "gui".
    let records = records_on_disk(&history_file(&setup));
    let done = records.iter().find(|r| r.job_id == "sn-done").unwrap();
    assert_eq!(done.source.as_str(), "gui");
    assert_eq!(done.run_config.prompt_payload["imported_from"], "StableNew");
    select_row(&mut harness, "a finished harbour");
    assert!(has_field(&harness, "Created by", "imported from StableNew"));
    assert!(has_field(
        &harness,
        "Run mode",
        "queue (waits its turn in a job queue)"
    ));
    assert!(harness.query_by_label("Completed").is_some());
    assert!(harness.query_by_label("gui").is_none());

    // Never ran: cancelled, with a note (not an "Error") saying why.
    select_row(&mut harness, "a harbour that never ran");
    assert!(harness.query_by_label("Note").is_some());
    assert!(harness.query_by_label("Error").is_none());
    assert!(harness.query_by_label("Completed").is_none());
    // Left running: failed, with its error.
    select_row(&mut harness, "a harbour left running");
    assert!(harness.query_by_label("Error").is_some());

    select_row(&mut harness, "from the command line");
    assert!(has_field(
        &harness,
        "Created by",
        "promptdesk CLI (promptdesk submit)"
    ));

    // The app's job, cancelled: its end time is "Cancelled at", not "Completed".
    select_row(&mut harness, "from the app");
    assert!(has_field(&harness, "Created by", "promptdesk app"));
    assert!(has_field(&harness, "Run mode", "direct (run at once)"));
    // The check is of one row: a value of another row does not pass for this one.
    assert!(!has_field(&harness, "Created by", "direct (run at once)"));
    assert!(!has_field(&harness, "Run mode", "promptdesk app"));
    harness.get_by_label("Cancel job").click();
    settle(&mut harness);
    let app_job = records_on_disk(&history_file(&setup))
        .into_iter()
        .find(|r| r.first_prompt() == "from the app")
        .unwrap();
    assert_eq!(app_job.status, JobStatus::Cancelled);
    assert!(app_job.completed_at.is_some());
    assert!(harness.query_by_label("Cancelled at").is_some());
    assert!(harness.query_by_label("Completed").is_none());
}

/// True when the details' first field is in view (below the action buttons, where the
/// scrolled area starts).
fn first_field_visible(harness: &Harness<'static, PromptDeskApp>) -> bool {
    let top = harness.get_by_label("Load into composer").rect().bottom();
    harness.get_by_label("Job id").rect().top() >= top
}

#[test]
fn the_details_of_another_job_start_at_the_top() {
    let setup = setup();
    let long: Vec<String> = (1..=120)
        .map(|i| format!("line {i} of a long prompt"))
        .collect();
    let long = long.join("\n");
    seed(&setup, &[(&long, "blurry"), ("a short prompt", "")]);
    let mut harness = harness(&setup);
    select_row(&mut harness, "line 1 of a long prompt");
    assert!(first_field_visible(&harness));

    // Scroll the details down to the negative prompt at the end.
    harness.get_by_label("Negative").scroll_to_me();
    settle(&mut harness);
    assert!(!first_field_visible(&harness), "the details did not scroll");

    select_row(&mut harness, "a short prompt");
    assert_eq!(
        harness.state().state.view.selected.as_deref(),
        Some("job-1")
    );
    assert!(first_field_visible(&harness));

    // Back to the long job: from the top again.
    select_row(&mut harness, "line 1 of a long prompt");
    harness.get_by_label("Negative").scroll_to_me();
    settle(&mut harness);
    assert!(!first_field_visible(&harness));
    harness.key_press(Key::Escape);
    settle(&mut harness);
    select_row(&mut harness, "line 1 of a long prompt");
    assert!(
        first_field_visible(&harness),
        "reopened at the old position"
    );
}

/// A job as an import writes it, or as the app writes it: GUI, with the given id, run mode
/// and marker.
fn gui_job(id: &str, prompt: &str, run_mode: RunMode, marked: bool) -> JobRecord {
    let mut cfg = build_run_config_for_manual_prompt(prompt, "", None);
    cfg.source = RunSource::Gui;
    cfg.run_mode = run_mode;
    if marked {
        cfg.prompt_payload
            .insert("imported_from".into(), "StableNew".into());
    }
    let mut record = job_record_from_run_config(id, &cfg);
    record.created_at = chrono::Utc::now();
    record
}

#[test]
fn imported_jobs_are_told_by_their_marker_or_by_what_only_an_import_leaves() {
    let setup = setup();
    let mut store = HistoryStore::open(history_file(&setup)).unwrap();
    // Marked: this version's import, with nothing else that tells (an id like promptdesk's,
    // run mode direct, no StableNew summary or message).
    let marked = gui_job(
        &HistoryStore::new_job_id(),
        "marked import",
        RunMode::Direct,
        true,
    );
    // Imported before the marker: StableNew's own id tells.
    let older = gui_job(
        "5f0c2a9e-1d4b-4c11-9a61-0c8f3b7d2e10",
        "older import",
        RunMode::Queue,
        false,
    );
    // The app's own queued job (the app will queue jobs): not an import.
    let queued = gui_job(
        &HistoryStore::new_job_id(),
        "queued by the app",
        RunMode::Queue,
        false,
    );
    for r in [&marked, &older, &queued] {
        store.append(r).unwrap();
    }
    drop(store);
    let mut harness = harness(&setup);
    for (prompt, created_by) in [
        ("marked import", "imported from StableNew"),
        ("older import", "imported from StableNew"),
        ("queued by the app", "promptdesk app"),
    ] {
        select_row(&mut harness, prompt);
        assert!(
            has_field(&harness, "Created by", created_by),
            "{prompt}: not {created_by}"
        );
    }
    assert!(!has_field(
        &harness,
        "Created by",
        "imported from StableNew"
    ));
}

/// The Undo button of the status bar that is the app's (not another panel's "Undo").
fn status_undo(harness: &Harness<'static, PromptDeskApp>) -> bool {
    harness.query_by_label("Undo").is_some()
}

#[test]
fn undo_sits_only_beside_messages_about_deleted_jobs_and_names_its_job() {
    let setup = setup();
    seed(&setup, THREE);
    let mut harness = harness(&setup);
    delete_row(&mut harness, "beta harbour");
    assert!(status_undo(&harness), "Undo beside the delete message");
    harness.get_by_label("Undo").hover();
    harness.run();
    harness.run();
    assert!(
        harness
            .query_all_by_label_contains("Restore the job deleted last: job job-1 (“beta harbour”)")
            .next()
            .is_some(),
        "the hover names the job"
    );

    // Another message: Undo would restore a job it does not speak of, so it is not offered.
    select_row(&mut harness, "gamma forest");
    harness.get_by_label("Copy prompt").click();
    settle(&mut harness);
    assert_eq!(message(&harness), "Prompt copied.");
    assert!(
        !status_undo(&harness),
        "Undo beside {:?}",
        message(&harness)
    );
    harness.get_by_label("Load into composer").click();
    settle(&mut harness);
    assert!(
        !status_undo(&harness),
        "Undo beside {:?}",
        message(&harness)
    );

    // The shortcut still restores it (outside a text field), and the message says so.
    harness.key_press(Key::Escape);
    settle(&mut harness);
    press(&mut harness, Modifiers::COMMAND, Key::Z);
    assert_eq!(live_ids(&setup), ["job-0", "job-1", "job-2"]);
    assert!(message(&harness).starts_with("Restored job job-1"));
}

#[test]
fn a_restore_that_fails_keeps_the_job_on_the_undo_stack() {
    let setup = setup();
    seed(&setup, THREE);
    let mut harness = harness(&setup);
    delete_row(&mut harness, "beta harbour");
    assert_eq!(live_ids(&setup), ["job-0", "job-2"]);

    // The history cannot be written: a folder stands where the file was.
    let history = history_file(&setup);
    let aside = setup.data_dir.join("history.jsonl.aside");
    std::fs::rename(&history, &aside).unwrap();
    std::fs::create_dir(&history).unwrap();
    press(&mut harness, Modifiers::COMMAND, Key::Z);
    let text = message(&harness);
    assert!(
        matches!(harness.state().state.message, Some(Message::Error(_))),
        "{text}"
    );
    let keys = if cfg!(target_os = "macos") {
        "Cmd+Z"
    } else {
        "Ctrl+Z"
    };
    assert!(
        text.starts_with("Could not restore job job-1")
            && text.contains(&format!(
                "It can still be restored: {keys} or Undo tries again."
            )),
        "{text}"
    );
    let state = &harness.state().state;
    assert_eq!(
        state.view.last_deleted.last().map(|r| r.job_id.as_str()),
        Some("job-1"),
        "the job is still on the undo stack"
    );
    assert!(status_undo(&harness), "Undo offered again");

    // The history is back: Undo restores the job.
    std::fs::remove_dir(&history).unwrap();
    std::fs::rename(&aside, &history).unwrap();
    harness.get_by_label("Undo").click();
    settle(&mut harness);
    assert_eq!(
        live_ids(&setup),
        ["job-0", "job-1", "job-2"],
        "{}",
        message(&harness)
    );
    assert!(harness.state().state.view.last_deleted.is_empty());
}

#[test]
fn a_job_back_in_the_history_is_not_put_back_on_the_undo_stack() {
    let setup = setup();
    seed(&setup, THREE);
    let mut harness = harness(&setup);
    delete_row(&mut harness, "beta harbour");
    // Another process writes job-1 back.
    let deleted = harness.state().state.view.last_deleted[0].clone();
    HistoryStore::open(history_file(&setup))
        .unwrap()
        .restore(&deleted)
        .unwrap();
    press(&mut harness, Modifiers::COMMAND, Key::Z);
    let text = message(&harness);
    assert!(text.contains("already in the history"), "{text}");
    assert!(harness.state().state.view.last_deleted.is_empty(), "{text}");
    assert!(!status_undo(&harness));
}
