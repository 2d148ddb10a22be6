//! The app on the user's platform: the system clipboard, the system's fonts for every script,
//! and file dialogs that cannot open (the typed-path form instead).
//!
//! Some checks need what only some machines have (an X display and xclip for the clipboard,
//! system fonts for a script); where it is missing they say so on stderr ("SKIPPED ...") and
//! pass.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use promptdesk::HistoryStore;
use promptdesk::app::PromptDeskApp;
use promptdesk::app::commands::Command;
use promptdesk::app::dialogs::{DialogBackend, DialogLogCapture, Pick, PickResult, SystemDialogs};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod support;
use support::*;

const PLATFORM_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/platform");

type App = Harness<'static, PromptDeskApp>;

/// Steps frames until `done` (at most ~10 s: the dialog and path check threads answer in
/// milliseconds); fails with `what` otherwise.
fn step_until(harness: &mut App, what: &str, done: impl Fn(&App) -> bool) {
    for _ in 0..2000 {
        harness.step();
        if done(harness) {
            harness.run();
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("never happened: {what}");
}

/// Focuses a text field and types into it (as a click and typing would).
fn type_into(harness: &mut App, role: Role, label: &str, text: &str) {
    harness.get_by_role_and_label(role, label).focus();
    harness.run();
    harness.get_by_role_and_label(role, label).type_text(text);
    harness.run();
}

/// Replaces the text of the focused field (Ctrl+A, then typing).
fn retype(harness: &mut App, label: &str, text: &str) {
    harness
        .get_by_role_and_label(Role::TextInput, label)
        .focus();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run();
    harness
        .get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
    harness.run();
}

fn click_menu(harness: &mut App, path: &[&str]) {
    for label in path {
        harness.get_by_label(label).click();
        harness.run();
    }
}

/// The app with a dialog backend that records what it was asked and answers `result`.
fn app_with_dialogs(setup: &Setup, result: PickResult) -> (App, Arc<Mutex<Vec<Pick>>>) {
    let mut harness = harness(setup);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let backend = move |pick: &Pick| {
        seen.lock().unwrap().push(pick.clone());
        result.clone()
    };
    harness.state_mut().state.dialogs.backend = Arc::new(backend);
    (harness, asked)
}

const NO_DIALOG: &str = "Failed to pick folder with zenity: No such file or directory (os error 2)";

fn form_is_open(harness: &App) -> bool {
    harness.state().state.dialogs.typed.is_some()
}

/// Opens the packs-folder dialog from the menu; the stand-in says no dialog could open.
fn open_typed_packs_form(setup: &Setup) -> App {
    let (mut harness, asked) = app_with_dialogs(setup, PickResult::Unavailable(NO_DIALOG.into()));
    click_menu(&mut harness, &["File", "Open packs folder..."]);
    step_until(&mut harness, "the typed-path form", form_is_open);
    assert_eq!(
        *asked.lock().unwrap(),
        vec![Pick::PacksFolder(setup.packs_dir.clone())]
    );
    harness
}

fn records(setup: &Setup) -> Vec<promptdesk::JobRecord> {
    HistoryStore::open(history_file(setup))
        .unwrap()
        .records()
        .to_vec()
}

// ---- Clipboard ------------------------------------------------------------------------

/// The text the last frame handed to the platform's clipboard (what eframe passes on).
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

#[test]
fn copy_prompt_and_infotext_hand_the_text_to_the_platform_clipboard() {
    let setup = setup();
    let mut harness = harness(&setup);
    harness.get_by_label("Manual").click();
    harness.run();
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        "Prompt",
        "a lighthouse in fog, <lora:grain:0.4>",
    );
    harness.get_by_label("Submit").click();
    settle(&mut harness);
    assert!(
        harness.state().state.view.selected.is_some(),
        "the new job is selected"
    );

    harness.get_by_label("Copy prompt").click();
    harness.step();
    assert_eq!(
        copied_text(&harness).as_deref(),
        Some("a lighthouse in fog, <lora:grain:0.4>")
    );
    harness.run();

    harness.get_by_label("Copy as infotext").click();
    harness.step();
    let infotext = copied_text(&harness).expect("the infotext is handed to the clipboard");
    assert!(
        infotext.starts_with("a lighthouse in fog, <lora:grain:0.4>\n")
            && infotext.contains("Steps: "),
        "{infotext}"
    );
}

/// Runs `xclip` with `args`, `input` on its stdin; its stdout, or `None` when it failed.
fn xclip(args: &[&str], input: Option<&str>) -> Option<String> {
    // `xclip -i` leaves a process behind that serves the text until another program takes
    // the clipboard: it must not hold our stdout pipe open.
    let stdout = if input.is_some() {
        Stdio::null()
    } else {
        Stdio::piped()
    };
    let mut child = Process::new("xclip")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    if let Some(input) = input {
        std::io::Write::write_all(&mut stdin, input.as_bytes()).ok()?;
    }
    drop(stdin);
    let output = child.wait_with_output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// eframe hands copied text to egui-winit's clipboard and asks it for the text to paste on
/// Ctrl+V. Built without eframe's `clipboard` feature, that clipboard only keeps text inside
/// the app: another program never sees a copy, and a paste never gets another program's text.
/// With an X display and xclip, both directions are checked against the X clipboard.
#[test]
fn the_clipboard_eframe_uses_is_the_system_clipboard() {
    if std::env::var_os("DISPLAY").is_none() {
        eprintln!(
            "SKIPPED the_clipboard_eframe_uses_is_the_system_clipboard: no DISPLAY (needs an X server and xclip)"
        );
        return;
    }
    // Paste direction: another program (xclip) owns the clipboard.
    let outside = format!("from another program {}", std::process::id());
    if xclip(&["-i", "-selection", "clipboard"], Some(&outside)).is_none() {
        eprintln!(
            "SKIPPED the_clipboard_eframe_uses_is_the_system_clipboard: xclip is missing or cannot open the display"
        );
        return;
    }
    // SAFETY: no display handle is passed, so there is none that must outlive the clipboard.
    let mut clipboard = unsafe { egui_winit::clipboard::Clipboard::new(None) };
    assert_eq!(
        clipboard.get().as_deref(),
        Some(outside.as_str()),
        "Ctrl+V would not paste another program's text: is eframe's `clipboard` feature on?"
    );

    // Copy direction: another program reads what the app copied.
    let copied = format!("copied by promptdesk {}", std::process::id());
    clipboard.set_text(copied.clone());
    assert_eq!(
        xclip(&["-o", "-selection", "clipboard"], None).as_deref(),
        Some(copied.as_str()),
        "another program does not see the app's copy: is eframe's `clipboard` feature on?"
    );
}

// ---- Fonts ----------------------------------------------------------------------------

/// Scripts users type, each with a sample and one character for fontconfig to look up.
const SCRIPTS: [(&str, &str, char); 8] = [
    ("Japanese", "日本語の桜", '桜'),
    ("Simplified Chinese", "中文山水画", '画'),
    ("Traditional Chinese", "繁體龍鳳", '龍'),
    ("Korean", "한국어 풍경", '한'),
    ("Thai", "ไทย วัด", 'ไ'),
    ("Arabic", "العربية", 'ع'),
    ("Hebrew", "עברית", 'ע'),
    ("Devanagari", "हिन्दी", 'ह'),
];

/// True when fontconfig lists a font with `c`; `None` when fontconfig cannot be asked.
fn system_has_font_for(c: char) -> Option<bool> {
    let output = Process::new("fc-list")
        .arg(format!(":charset={:x}", c as u32))
        .arg("family")
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| !output.stdout.trim_ascii().is_empty())
}

#[test]
fn system_fonts_draw_every_script_the_machine_has_a_font_for() {
    let setup = setup();
    let harness = harness(&setup);
    let font = egui::FontId::proportional(14.0);
    let ctx = &harness.ctx;

    // egui's own fonts come first: Latin, Cyrillic, Greek and emoji need no system font.
    let (own, discovered) = ctx.fonts_mut(|f| {
        (
            f.has_glyphs(&font, "Aa Жж Ωω 🌄✨"),
            f.discovered_fonts().len(),
        )
    });
    assert!(own, "egui's own fonts are installed");
    assert_eq!(discovered, 0, "no system font was looked up for them");

    let mut checked = 0;
    for (script, sample, probe) in SCRIPTS {
        match system_has_font_for(probe) {
            None => {
                eprintln!("SKIPPED fonts: fc-list (fontconfig) is not available here");
                return;
            }
            Some(false) => {
                eprintln!("SKIPPED {script}: this machine has no font for {probe:?}");
                continue;
            }
            Some(true) => {}
        }
        let start = std::time::Instant::now();
        let missing: Vec<char> = ctx.fonts_mut(|f| {
            sample
                .chars()
                .filter(|c| !c.is_whitespace() && !f.has_glyph(&font, *c))
                .collect()
        });
        eprintln!("fonts: {script} looked up in {:?}", start.elapsed());
        assert!(missing.is_empty(), "{script}: no glyph for {missing:?}");
        checked += 1;
    }
    let names: Vec<String> = ctx.fonts(|f| {
        f.discovered_fonts()
            .iter()
            .map(|d| d.name.clone())
            .collect()
    });
    eprintln!("fonts: {checked} scripts drawn with system fonts {names:?}");
    if checked > 0 {
        assert!(!names.is_empty(), "system fonts were found: {names:?}");
    }
}

/// The UI-level check for CJK: the three languages render in the pack list (kittest fails a
/// frame that draws a character no font has).
#[test]
fn a_pack_in_japanese_chinese_and_korean_is_listed_with_its_prompts() {
    for c in ['日', '中', '한'] {
        if system_has_font_for(c) != Some(true) {
            eprintln!(
                "SKIPPED a_pack_in_japanese_chinese_and_korean_is_listed_with_its_prompts: no system font for {c:?}"
            );
            return;
        }
    }
    let setup = setup();
    std::fs::write(
        setup.packs_dir.join("cjk_scenes.txt"),
        "日本語の桜\n\n中文山水\n\n한국어 풍경\n",
    )
    .unwrap();
    let mut harness = harness(&setup);
    harness.get_by_label_contains("cjk_scenes").click();
    harness.run();
    harness.get_by_label_contains("日本語の桜");
    harness.get_by_label_contains("中文山水");
    harness.get_by_label_contains("한국어 풍경");
    let glyphs = harness
        .ctx
        .fonts_mut(|f| f.has_glyphs(&egui::FontId::proportional(14.0), "日本語中文한국어"));
    assert!(glyphs);
}

// ---- File dialogs that cannot open ------------------------------------------------------

#[test]
fn no_dialog_shows_why_and_a_typed_folder_becomes_the_packs_folder() {
    let setup = setup();
    let mut harness = open_typed_packs_form(&setup);
    harness.get_by_label("No file dialog could open, so type the path here.");
    harness.get_by_label_contains("zenity: No such file or directory");
    // The field starts with the packs folder now.
    let field = harness.get_by_role_and_label(Role::TextInput, "Packs folder");
    assert_eq!(
        field.value().as_deref(),
        Some(setup.packs_dir.display().to_string().as_str())
    );

    let other = PathBuf::from(PLATFORM_FIXTURES).join("other_packs");
    retype(&mut harness, "Packs folder", &other.display().to_string());
    harness.get_by_label("OK").click();
    step_until(&mut harness, "the form closes", |h| !form_is_open(h));
    settle(&mut harness);

    assert_eq!(harness.state().state.packs_dir, other);
    harness.get_by_label_contains("forest_walk");
    assert!(harness.query_by_label_contains("harbour_scenes").is_none());
}

#[test]
fn shortcuts_do_not_act_behind_the_typed_path_form() {
    let setup = setup();
    let mut harness = open_typed_packs_form(&setup);
    // A manual prompt that Ctrl+Enter would submit if the form did not own the keyboard.
    harness.state_mut().state.composer.mode = promptdesk::PromptSource::Manual;
    harness.state_mut().state.composer.prompt = "a lighthouse at dawn".into();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    harness.key_press(egui::Key::F5);
    harness.run();
    assert!(form_is_open(&harness), "the form stays open");
    assert!(
        harness.state().state.writes_in_flight() == 0 && records(&setup).is_empty(),
        "Ctrl+Enter behind the form recorded a job"
    );
}

#[test]
fn a_bad_typed_path_says_why_and_the_form_stays() {
    let setup = setup();
    let mut harness = open_typed_packs_form(&setup);
    let missing = setup.data_dir.join("no such packs");
    retype(&mut harness, "Packs folder", &missing.display().to_string());
    harness.key_press(egui::Key::Enter);
    let why = format!("No such folder: {}", missing.display());
    step_until(&mut harness, "the reason", |h| {
        h.query_by_label(&why).is_some()
    });
    assert!(form_is_open(&harness));

    let file = history_file(&setup);
    std::fs::write(&file, "").unwrap();
    retype(&mut harness, "Packs folder", &file.display().to_string());
    harness.key_press(egui::Key::Enter);
    let why = format!("{} is a file, not a folder.", file.display());
    step_until(&mut harness, "the reason", |h| {
        h.query_by_label(&why).is_some()
    });

    retype(&mut harness, "Packs folder", "   ");
    harness.get_by_label("OK").click();
    step_until(&mut harness, "the reason", |h| {
        h.query_by_label("Type packs folder first.").is_some()
    });
    assert!(form_is_open(&harness));
    assert_eq!(harness.state().state.packs_dir, setup.packs_dir);
}

#[test]
fn cancel_and_escape_close_the_form_and_change_nothing() {
    let setup = setup();
    let other = PathBuf::from(PLATFORM_FIXTURES).join("other_packs");
    let mut harness = open_typed_packs_form(&setup);
    retype(&mut harness, "Packs folder", &other.display().to_string());
    harness.get_by_label("Cancel").click();
    harness.run();
    assert!(!form_is_open(&harness));

    // With a job's details open: Escape closes the form only.
    harness.state_mut().push(Command::ImportStableNew(
        Path::new(PLATFORM_FIXTURES).join("stablenew_history.jsonl"),
    ));
    settle(&mut harness);
    harness.get_by_label("typed path import 0").click();
    harness.run();
    assert!(harness.state().state.view.selected.is_some());
    click_menu(&mut harness, &["File", "Open packs folder..."]);
    step_until(&mut harness, "the form again", form_is_open);
    retype(&mut harness, "Packs folder", &other.display().to_string());
    harness.key_press(egui::Key::Escape);
    harness.run();
    assert!(!form_is_open(&harness));
    assert!(
        harness.state().state.view.selected.is_some(),
        "Escape in the form leaves the job's details open"
    );

    settle(&mut harness);
    assert_eq!(harness.state().state.packs_dir, setup.packs_dir);
    harness.get_by_label_contains("harbour_scenes");
}

#[test]
fn a_typed_stablenew_file_is_imported() {
    let setup = setup();
    let (mut harness, asked) = app_with_dialogs(&setup, PickResult::Unavailable(NO_DIALOG.into()));
    click_menu(&mut harness, &["File", "Import StableNew history..."]);
    step_until(&mut harness, "the typed-path form", form_is_open);
    assert_eq!(*asked.lock().unwrap(), vec![Pick::StableNewFile]);
    harness.get_by_label("Import StableNew history");

    let file = Path::new(PLATFORM_FIXTURES).join("stablenew_history.jsonl");
    type_into(
        &mut harness,
        Role::TextInput,
        "StableNew history file",
        &file.display().to_string(),
    );
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "the form closes", |h| !form_is_open(h));
    settle(&mut harness);

    let imported: Vec<String> = records(&setup).into_iter().map(|r| r.job_id).collect();
    assert_eq!(imported.len(), 2, "{imported:?}");
    harness.get_by_label("2 records, 2 shown");
}

#[test]
fn typed_pack_files_are_imported_and_a_non_pack_is_refused() {
    let setup = setup();
    let (mut harness, _) = app_with_dialogs(&setup, PickResult::Unavailable(NO_DIALOG.into()));
    click_menu(&mut harness, &["File", "Import pack files..."]);
    step_until(&mut harness, "the typed-path form", form_is_open);

    let jsonl = Path::new(PLATFORM_FIXTURES).join("stablenew_history.jsonl");
    type_into(
        &mut harness,
        Role::TextInput,
        "Pack files",
        &jsonl.display().to_string(),
    );
    harness.key_press(egui::Key::Enter);
    let why = format!(
        "{} is not a pack file (packs end in .json, .txt, .tsv, .csv).",
        jsonl.display()
    );
    step_until(&mut harness, "the reason", |h| {
        h.query_by_label(&why).is_some()
    });

    let pack = Path::new(PLATFORM_FIXTURES).join("other_packs/forest_walk.txt");
    retype(&mut harness, "Pack files", &pack.display().to_string());
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "the form closes", |h| !form_is_open(h));
    settle(&mut harness);
    assert!(setup.packs_dir.join("forest_walk.txt").is_file());
    harness.get_by_label_contains("forest_walk");
}

#[test]
fn a_typed_export_asks_before_replacing_a_file() {
    let setup = setup();
    let (mut harness, _) = app_with_dialogs(&setup, PickResult::Unavailable(NO_DIALOG.into()));
    harness.state_mut().push(Command::ImportStableNew(
        Path::new(PLATFORM_FIXTURES).join("stablenew_history.jsonl"),
    ));
    settle(&mut harness);
    harness.get_by_label("2 records, 2 shown");

    let target = setup.data_dir.join("export.csv");
    std::fs::write(&target, "keep me").unwrap();
    click_menu(
        &mut harness,
        &["File", "Export history (shown rows)", "CSV..."],
    );
    step_until(&mut harness, "the typed-path form", form_is_open);
    harness.get_by_label("Export history as CSV");
    retype(
        &mut harness,
        "Export to file",
        &target.display().to_string(),
    );
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "the question", |h| {
        h.query_by_label("Replace").is_some()
    });
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");

    harness.get_by_label("Replace").click();
    step_until(&mut harness, "the form closes", |h| !form_is_open(h));
    settle(&mut harness);
    let csv = std::fs::read_to_string(&target).unwrap();
    assert!(csv.contains("typed path import 0"), "{csv}");
}

#[test]
fn a_cancelled_dialog_does_nothing_and_a_chosen_folder_is_opened() {
    let setup = setup();
    let (mut harness, asked) = app_with_dialogs(&setup, PickResult::Cancelled);
    click_menu(&mut harness, &["File", "Open packs folder..."]);
    step_until(&mut harness, "the dialog was asked", |_| {
        !asked.lock().unwrap().is_empty()
    });
    step_until(&mut harness, "the dialog's answer", |h| {
        h.state().state.dialogs.open.is_empty()
    });
    assert!(!form_is_open(&harness), "a cancel shows no form");
    assert_eq!(harness.state().state.packs_dir, setup.packs_dir);
    assert!(harness.state().state.message.is_none());

    let other = PathBuf::from(PLATFORM_FIXTURES).join("other_packs");
    harness.state_mut().state.dialogs.backend =
        Arc::new(move |_: &Pick| PickResult::Picked(vec![other.clone()]));
    click_menu(&mut harness, &["File", "Open packs folder..."]);
    step_until(&mut harness, "the folder opens", |h| {
        h.state().state.packs_dir.ends_with("other_packs")
    });
    settle(&mut harness);
    harness.get_by_label_contains("forest_walk");
    assert!(!form_is_open(&harness));
}

// ---- rfd itself, in a child process with a controlled PATH and D-Bus ------------------

const CHILD_ENV: &str = "PROMPTDESK_RFD_CHILD";

/// A do-nothing logger for the child (stderr stays quiet).
struct NoLogger;

impl log::Log for NoLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        false
    }
    fn log(&self, _: &log::Record<'_>) {}
    fn flush(&self) {}
}

/// Run by [`system_dialogs_tell_no_dialog_from_cancel`] in a child process: opens rfd's
/// dialog with no portal (a D-Bus address that does not exist) and the PATH it was given,
/// and prints what [`SystemDialogs`] made of it.
#[test]
#[ignore = "run in a child process by system_dialogs_tell_no_dialog_from_cancel"]
fn rfd_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    DialogLogCapture::new(NoLogger)
        .install(log::LevelFilter::Off)
        .unwrap();
    let result = SystemDialogs.pick(&Pick::StableNewFile);
    println!("RFD-RESULT {result:?}");
}

/// What [`SystemDialogs`] says when rfd runs with `path` as PATH and no D-Bus session bus.
fn rfd_outcome(path: &Path) -> String {
    let output = Process::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "rfd_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env("PATH", path)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/promptdesk-test-bus",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once("RFD-RESULT ").map(|(_, result)| result))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            panic!(
                "the child printed no result:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

/// A fake `zenity` in a folder of its own: prints `stdout` and exits with `code`.
#[cfg(unix)]
fn fake_zenity(dir: &Path, stdout: &str, code: i32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let script = dir.join("zenity");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' '{stdout}'\nexit {code}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// rfd answers `None` both when the user cancels and when no dialog could open; the app tells
/// them apart from rfd's log records. Checked with the real rfd: no portal and no zenity
/// (nothing opens), a zenity the user cancels, and a zenity the user chooses a file in.
#[cfg(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd"
))]
#[test]
fn system_dialogs_tell_no_dialog_from_cancel() {
    let dir = tempfile::tempdir().unwrap();

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let none = rfd_outcome(&empty);
    assert!(
        none.starts_with("Unavailable(") && none.contains("zenity"),
        "no portal and no zenity: {none}"
    );

    let cancels = dir.path().join("cancels");
    fake_zenity(&cancels, "", 1);
    assert_eq!(rfd_outcome(&cancels), "Cancelled");

    let chooses = dir.path().join("chooses");
    fake_zenity(&chooses, "/home/me/job_history.jsonl", 0);
    assert_eq!(
        rfd_outcome(&chooses),
        format!(
            "{:?}",
            PickResult::Picked(vec!["/home/me/job_history.jsonl".into()])
        )
    );
}
