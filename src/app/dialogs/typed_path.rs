//! The typed-path form: what the user gets instead of a file dialog when none could open (or
//! when they ask for it). A path field, OK and Cancel (Enter and Escape); the path is checked
//! on a background thread (it touches the disk) and a bad one is refused with the reason.

use super::Pick;
use crate::app::commands::Command;
use crate::app::tasks::{Repaint, Task};
use crate::packs::{PACK_EXTENSIONS, escape_control, has_pack_extension};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// The typed-path form, while it is open.
pub struct TypedPath {
    pub(crate) pick: Pick,
    /// The path(s) typed.
    pub(crate) text: String,
    /// Why no file dialog opened (`None`: the form was asked for directly).
    pub(crate) unavailable: Option<String>,
    /// Why the path typed was refused.
    pub(crate) error: Option<String>,
    /// An export target that exists: OK again replaces it.
    pub(crate) replace: Option<PathBuf>,
    /// The check of the typed path, while it runs.
    pub(crate) checking: Option<Task<Checked>>,
    /// Focus the path field on the next frame.
    focus: bool,
}

/// What the check of a typed path found.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    /// The path is good: carry out this command.
    Go(Command),
    /// The path is refused, for this reason.
    Refused(String),
    /// The export target exists (OK again replaces it).
    Exists(PathBuf),
}

impl TypedPath {
    /// The form for `pick`; `unavailable` says why no file dialog opened.
    pub fn new(pick: Pick, unavailable: Option<String>) -> TypedPath {
        let text = pick
            .suggested_path()
            .map_or_else(String::new, |path| path.display().to_string());
        TypedPath {
            pick,
            text,
            unavailable,
            error: None,
            replace: None,
            checking: None,
            focus: true,
        }
    }

    /// Starts checking the path typed (on its own thread).
    fn submit(&mut self, repaint: &Repaint) {
        if self.checking.is_some() {
            return;
        }
        let pick = self.pick.clone();
        let text = self.text.clone();
        let replace = self.replace.clone();
        self.checking = Some(Task::spawn("path-check", repaint, move || {
            check(&pick, &text, replace.as_deref())
        }));
    }

    /// Takes the finished check: the command to carry out when the path is good.
    fn finish_check(&mut self) -> Option<Command> {
        let answer = self.checking.as_ref()?.poll()?;
        self.checking = None;
        self.focus = true;
        match answer {
            Ok(Checked::Go(command)) => return Some(command),
            Ok(Checked::Refused(why)) => {
                self.error = Some(why);
                self.replace = None;
            }
            Ok(Checked::Exists(path)) => {
                self.error = Some(format!(
                    "{} exists. Press Replace to overwrite it, or type another name.",
                    shown(&path)
                ));
                self.replace = Some(path);
            }
            Err(e) => self.error = Some(format!("The path could not be checked: {e}.")),
        }
        None
    }
}

/// What the user did with the form this frame.
pub enum FormAnswer {
    /// Still open.
    Open,
    /// Closed without doing anything.
    Cancelled,
    /// The path was good: carry out this command.
    Go(Command),
}

/// Draws the form as a modal window.
pub fn show(form: &mut TypedPath, ctx: &egui::Context) -> FormAnswer {
    if let Some(command) = form.finish_check() {
        return FormAnswer::Go(command);
    }
    let mut answer = FormAnswer::Open;
    let mut ok = false;
    egui::Modal::new(egui::Id::unique("typed_path")).show(ctx, |ui| {
        ui.set_max_width(560.0);
        ui.heading(form.pick.title());
        if let Some(why) = &form.unavailable {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "No file dialog could open, so type the path here.",
            );
            ui.label(
                egui::RichText::new(
                    "File dialogs need xdg-desktop-portal (with a GTK or KDE backend) or zenity: install one to get them back.",
                )
                .small(),
            );
            ui.label(
                egui::RichText::new(format!("What failed: {}", escape_control(why)))
                    .small()
                    .weak(),
            );
        }
        ui.add_space(4.0);
        let label = ui.label(form.pick.field_label());
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut form.text)
                    .desired_width(f32::INFINITY)
                    .hint_text(form.pick.hint()),
            )
            .labelled_by(label.id);
        if form.focus {
            field.request_focus();
            form.focus = false;
        }
        if field.changed() {
            form.error = None;
            form.replace = None;
        }
        ok |= field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.label(
            egui::RichText::new(form.pick.field_help())
                .small()
                .weak(),
        );
        if let Some(error) = &form.error {
            // A question (replace this file?) in the warning colour, a refusal in red.
            let colour = if form.replace.is_some() {
                ui.visuals().warn_fg_color
            } else {
                ui.visuals().error_fg_color
            };
            ui.colored_label(colour, error);
        }
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            let checking = form.checking.is_some();
            let ok_label = if form.replace.is_some() { "Replace" } else { "OK" };
            ok |= ui
                .add_enabled(!checking, egui::Button::new(ok_label))
                .clicked();
            if ui.button("Cancel").clicked() {
                answer = FormAnswer::Cancelled;
            }
            if checking {
                ui.spinner();
                ui.label("Checking...");
            }
        });
    });
    if ctx.input(|i| i.key_pressed(egui::Key::Escape)) {
        answer = FormAnswer::Cancelled;
    }
    if ok && matches!(answer, FormAnswer::Open) {
        let repaint = Repaint::default();
        repaint.set(ctx);
        form.submit(&repaint);
    }
    answer
}

/// A path for a message (control characters escaped).
fn shown(path: &Path) -> String {
    escape_control(&path.display().to_string()).into_owned()
}

/// The paths typed: several separated as in `PATH` (':' on Unix, ';' on Windows) for pack
/// files, else one. Each is trimmed, loses surrounding quotes and a `file://` prefix, and a
/// leading `~` is the home folder.
pub fn parse_paths(pick: &Pick, text: &str) -> Vec<PathBuf> {
    let parts: Vec<String> = if matches!(pick, Pick::PackFiles) {
        std::env::split_paths(text)
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    } else {
        vec![text.to_owned()]
    };
    parts
        .iter()
        .map(|part| clean_path(part))
        .filter(|part| !part.is_empty())
        .map(|part| expand_home(&part))
        .collect()
}

/// `text` trimmed, without surrounding quotes or a `file://` prefix (percent-decoded).
fn clean_path(text: &str) -> String {
    let text = text.trim();
    let text = ['"', '\'']
        .iter()
        .find_map(|q| text.strip_prefix(*q).and_then(|t| t.strip_suffix(*q)))
        .unwrap_or(text);
    match text.strip_prefix("file://") {
        Some(rest) => percent_decode(rest),
        None => text.to_owned(),
    }
}

/// Decodes `%XX` escapes (as in a `file://` address); anything else is kept.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `~` and `~/…` as the home folder.
fn expand_home(path: &str) -> PathBuf {
    let home = || directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    if path == "~" {
        return home().unwrap_or_else(|| PathBuf::from(path));
    }
    if let Some(rest) = path.strip_prefix("~/").or_else(|| path.strip_prefix("~\\"))
        && let Some(home) = home()
    {
        return home.join(rest);
    }
    PathBuf::from(path)
}

/// Checks the path(s) typed for `pick` (reads the disk): the command to carry out, or why
/// not. `replace` is an export target the user agreed to overwrite.
pub fn check(pick: &Pick, text: &str, replace: Option<&Path>) -> Checked {
    let paths = parse_paths(pick, text);
    let Some(first) = paths.first().cloned() else {
        return Checked::Refused(format!("Type {} first.", pick.field_label().to_lowercase()));
    };
    let result = match pick {
        Pick::PacksFolder(_) => check_folder(&first).map(|()| Command::SetPacksDir(first)),
        Pick::PackFiles => paths
            .iter()
            .try_for_each(|p| check_pack_file(p))
            .map(|()| Command::ImportPackFiles(paths)),
        Pick::StableNewFile => check_file(&first).map(|()| Command::ImportStableNew(first)),
        Pick::ImagesFolder { recursive } => check_folder(&first).map(|()| Command::ImportImages {
            dir: first,
            recursive: *recursive,
        }),
        Pick::ExportFile(format) => match check_export_target(&first, *format) {
            Ok(true) if replace != Some(first.as_path()) => return Checked::Exists(first),
            Ok(_) => Ok(Command::Export(first, *format)),
            Err(why) => Err(why),
        },
    };
    match result {
        Ok(command) => Checked::Go(command),
        Err(why) => Checked::Refused(why),
    }
}

/// What `path` is on disk: `Ok(true)` a folder, `Ok(false)` anything else; `Err` says why not
/// (no such folder or file, cannot read).
fn is_folder(path: &Path, missing: &str) -> Result<bool, String> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(meta.is_dir()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            Err(format!("No such {missing}: {}", shown(path)))
        }
        Err(e) => Err(format!("Cannot read {}: {e}", shown(path))),
    }
}

fn check_folder(path: &Path) -> Result<(), String> {
    if is_folder(path, "folder")? {
        Ok(())
    } else {
        Err(format!("{} is a file, not a folder.", shown(path)))
    }
}

fn check_file(path: &Path) -> Result<(), String> {
    if is_folder(path, "file")? {
        Err(format!(
            "{} is a folder: type the path of a file in it.",
            shown(path)
        ))
    } else {
        Ok(())
    }
}

fn check_pack_file(path: &Path) -> Result<(), String> {
    check_file(path)?;
    if has_pack_extension(path) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a pack file (packs end in .{}).",
            shown(path),
            PACK_EXTENSIONS.join(", .")
        ))
    }
}

/// Checks where an export goes: its folder exists and it is not a folder itself. `Ok(true)`
/// when a file is there already.
fn check_export_target(path: &Path, format: crate::history::ExportFormat) -> Result<bool, String> {
    let example = || {
        let (_, ext) = crate::app::command_handling::export_label(format);
        shown(&path.join(format!("promptdesk-history.{ext}")))
    };
    let folder = crate::fsutil::parent_dir(path);
    if path.file_name().is_none() || is_folder(path, "file").unwrap_or(false) {
        return Err(format!(
            "{} is a folder: add a file name, e.g. {}",
            shown(path),
            example()
        ));
    }
    if !is_folder(folder, "folder")? {
        return Err(format!("{} is a file, not a folder.", shown(folder)));
    }
    Ok(path.exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_is_cleaned() {
        let one = |text| parse_paths(&Pick::StableNewFile, text);
        assert_eq!(
            one("  /a b/c.jsonl \n"),
            vec![PathBuf::from("/a b/c.jsonl")]
        );
        assert_eq!(one("'/a b/c'"), vec![PathBuf::from("/a b/c")]);
        assert_eq!(one("\"/a b/c\""), vec![PathBuf::from("/a b/c")]);
        assert_eq!(
            one("file:///tmp/my%20packs/%E6%97%A5.txt"),
            vec![PathBuf::from("/tmp/my packs/日.txt")]
        );
        assert_eq!(one("100%.txt"), vec![PathBuf::from("100%.txt")]);
        assert!(one("   ").is_empty());
    }

    #[test]
    fn tilde_is_the_home_folder() {
        let Some(home) = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()) else {
            eprintln!("SKIPPED tilde_is_the_home_folder: no home folder known here");
            return;
        };
        let one = |text| parse_paths(&Pick::StableNewFile, text);
        assert_eq!(one("~/x.jsonl"), vec![home.join("x.jsonl")]);
        assert_eq!(one("~"), vec![home]);
        assert_eq!(one("a~/b"), vec![PathBuf::from("a~/b")]);
    }

    #[cfg(unix)]
    #[test]
    fn several_pack_files_are_separated_as_in_path() {
        assert_eq!(
            parse_paths(&Pick::PackFiles, "/a/one.txt: /b/two.json"),
            vec![PathBuf::from("/a/one.txt"), PathBuf::from("/b/two.json")]
        );
    }
}
