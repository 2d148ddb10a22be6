//! File dialogs: each opens on its own thread and answers with a [`Command`].
//!
//! [`Dialogs`] is the app's state for them (held by `AppState`); [`show`] draws whatever they
//! need in the window (drawn by the app after the panels).
//!
//! A dialog that could not open at all (on Linux without xdg-desktop-portal or zenity, see
//! [`log_capture`]) is not silent: the window shows the typed-path form instead (a message,
//! a path field, OK and Cancel, see [`typed_path`]). A dialog the user cancelled does nothing.

pub mod log_capture;
pub mod typed_path;

use super::command_handling::export_label;
use super::commands::{Command, CommandQueue};
use super::state::{AppState, testing_pub_struct};
use super::tasks::Task;
use crate::history::ExportFormat;
use std::path::PathBuf;
use std::sync::Arc;

pub use log_capture::{DialogLogCapture, DialogRecord};
pub use typed_path::{Checked, TypedPath};

/// What a file dialog asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    /// A packs folder (the dialog starts in this one).
    PacksFolder(PathBuf),
    /// Pack files to import.
    PackFiles,
    /// A StableNew history file to import.
    StableNewFile,
    /// A folder of images to import (`recursive`: its sub-folders too).
    ImagesFolder { recursive: bool },
    /// Where to export the rows shown.
    ExportFile(ExportFormat),
}

impl Pick {
    /// What a `Pick…` command asks for (`packs_dir`: the packs folder now).
    pub fn from_command(command: &Command, packs_dir: &std::path::Path) -> Option<Pick> {
        Some(match command {
            Command::PickPacksFolder => Pick::PacksFolder(packs_dir.to_path_buf()),
            Command::PickPackFiles => Pick::PackFiles,
            Command::PickStableNewFile => Pick::StableNewFile,
            Command::PickImagesFolder { recursive } => Pick::ImagesFolder {
                recursive: *recursive,
            },
            Command::PickExportFile(format) => Pick::ExportFile(*format),
            _ => return None,
        })
    }

    /// The command that carries out the choice of `paths` (`None` when nothing was chosen).
    pub fn command(&self, mut paths: Vec<PathBuf>) -> Option<Command> {
        if paths.is_empty() {
            return None;
        }
        Some(match self {
            Pick::PacksFolder(_) => Command::SetPacksDir(paths.swap_remove(0)),
            Pick::PackFiles => Command::ImportPackFiles(paths),
            Pick::StableNewFile => Command::ImportStableNew(paths.swap_remove(0)),
            Pick::ImagesFolder { recursive } => Command::ImportImages {
                dir: paths.swap_remove(0),
                recursive: *recursive,
            },
            Pick::ExportFile(format) => Command::Export(paths.swap_remove(0), *format),
        })
    }

    /// The dialog's title (as the menu names it).
    pub fn title(&self) -> String {
        match self {
            Pick::PacksFolder(_) => "Open packs folder".into(),
            Pick::PackFiles => "Import pack files".into(),
            Pick::StableNewFile => "Import StableNew history".into(),
            Pick::ImagesFolder { recursive: false } => "Import images folder".into(),
            Pick::ImagesFolder { recursive: true } => {
                "Import images folder with sub-folders".into()
            }
            Pick::ExportFile(format) => format!("Export history as {}", export_label(*format).0),
        }
    }

    /// The typed-path field's label.
    pub fn field_label(&self) -> &'static str {
        match self {
            Pick::PacksFolder(_) => "Packs folder",
            Pick::PackFiles => "Pack files",
            Pick::StableNewFile => "StableNew history file",
            Pick::ImagesFolder { .. } => "Images folder",
            Pick::ExportFile(_) => "Export to file",
        }
    }

    /// A placeholder for the empty field.
    fn hint(&self) -> &'static str {
        match self {
            Pick::PacksFolder(_) => "~/prompt-packs",
            Pick::PackFiles => "~/Downloads/landscapes.txt",
            Pick::StableNewFile => "~/StableNew/job_history.jsonl",
            Pick::ImagesFolder { .. } => "~/stable-diffusion-webui/outputs/txt2img-images",
            Pick::ExportFile(_) => "~/promptdesk-history.jsonl",
        }
    }

    /// Help under the field.
    fn field_help(&self) -> String {
        let home = "~ is your home folder.";
        match self {
            Pick::PackFiles => format!(
                "Pack files end in .txt, .json, .tsv or .csv. Several: separate them with '{}'. {home}",
                if cfg!(windows) { ';' } else { ':' }
            ),
            Pick::ExportFile(_) => {
                format!("An existing file is replaced (you are asked first). {home}")
            }
            _ => home.into(),
        }
    }

    /// What the typed-path field starts with.
    fn suggested_path(&self) -> Option<PathBuf> {
        match self {
            Pick::PacksFolder(dir) => Some(dir.clone()),
            Pick::ExportFile(format) => {
                let home = directories::BaseDirs::new()?.home_dir().to_path_buf();
                Some(home.join(format!("promptdesk-history.{}", export_label(*format).1)))
            }
            Pick::PackFiles | Pick::StableNewFile | Pick::ImagesFolder { .. } => None,
        }
    }
}

/// How a file dialog ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PickResult {
    /// The user chose these paths.
    Picked(Vec<PathBuf>),
    /// The user closed the dialog without choosing.
    Cancelled,
    /// No dialog could open, for this reason.
    Unavailable(String),
}

/// What opens the file dialogs: the system's ([`SystemDialogs`]), or a stand-in in tests (any
/// `Fn(&Pick) -> PickResult`). Runs on the dialog's own thread.
pub trait DialogBackend: Send + Sync {
    /// Opens the dialog for `pick` and waits for the user.
    fn pick(&self, pick: &Pick) -> PickResult;
}

impl<F: Fn(&Pick) -> PickResult + Send + Sync> DialogBackend for F {
    fn pick(&self, pick: &Pick) -> PickResult {
        self(pick)
    }
}

/// The system's file dialogs (rfd: xdg-desktop-portal or zenity on Linux and the BSDs, the
/// native ones on macOS and Windows).
pub struct SystemDialogs;

impl DialogBackend for SystemDialogs {
    fn pick(&self, pick: &Pick) -> PickResult {
        let (paths, records) = log_capture::capture_dialog_log(|| open_rfd(pick));
        match paths {
            Some(paths) if !paths.is_empty() => PickResult::Picked(paths),
            _ => match log_capture::failure_reason(&records) {
                Some(why) => PickResult::Unavailable(why),
                None => PickResult::Cancelled,
            },
        }
    }
}

/// Opens rfd's dialog for `pick` on this thread; `None` or empty when nothing was chosen.
fn open_rfd(pick: &Pick) -> Option<Vec<PathBuf>> {
    let dialog = rfd::FileDialog::new().set_title(pick.title());
    match pick {
        Pick::PacksFolder(start) => dialog.set_directory(start).pick_folder().map(|p| vec![p]),
        Pick::PackFiles => dialog
            .add_filter("Prompt packs", &crate::packs::PACK_EXTENSIONS)
            .pick_files(),
        Pick::StableNewFile => dialog
            .add_filter("StableNew job history", &["jsonl", "json"])
            .pick_file()
            .map(|p| vec![p]),
        Pick::ImagesFolder { .. } => dialog.pick_folder().map(|p| vec![p]),
        Pick::ExportFile(format) => {
            let (label, ext) = export_label(*format);
            dialog
                .set_file_name(format!("promptdesk-history.{ext}"))
                .add_filter(label, &[ext])
                .save_file()
                .map(|p| vec![p])
        }
    }
}

testing_pub_struct! {
    /// The file dialogs open now, and the typed-path form.
    pub struct Dialogs {
        /// Dialogs open on their own threads, each with what it asks for.
        open: Vec<Task<(Pick, PickResult)>>,
        /// What opens them (tests put a stand-in here).
        backend: Arc<dyn DialogBackend>,
        /// The typed-path form, while it is shown.
        typed: Option<TypedPath>,
    }
}

impl Default for Dialogs {
    fn default() -> Dialogs {
        Dialogs {
            open: Vec::new(),
            backend: Arc::new(SystemDialogs),
            typed: None,
        }
    }
}

impl Dialogs {
    /// Shows the typed-path form for `pick` (`unavailable`: why no dialog opened).
    pub fn type_path(&mut self, pick: Pick, unavailable: Option<String>) {
        self.typed = Some(TypedPath::new(pick, unavailable));
    }
}

impl AppState {
    /// Opens the file dialog a `Pick…` command asks for, on its own thread.
    pub(crate) fn pick(&mut self, command: Command) {
        let Some(pick) = Pick::from_command(&command, &self.packs_dir) else {
            return;
        };
        let backend = self.dialogs.backend.clone();
        self.dialogs
            .open
            .push(Task::spawn("file-dialog", &self.repaint, move || {
                let result = backend.pick(&pick);
                (pick, result)
            }));
    }

    /// Applies the answers of closed file dialogs; one that could not open shows the
    /// typed-path form.
    pub(crate) fn finish_dialogs(&mut self) {
        let mut answers = Vec::new();
        self.dialogs.open.retain(|task| match task.poll() {
            Some(answer) => {
                answers.push(answer);
                false
            }
            None => true,
        });
        for answer in answers {
            match answer {
                Ok((pick, PickResult::Picked(paths))) => {
                    if let Some(command) = pick.command(paths) {
                        self.apply(command);
                    }
                }
                Ok((_, PickResult::Cancelled)) => {}
                Ok((pick, PickResult::Unavailable(why))) => self.dialogs.type_path(pick, Some(why)),
                Err(e) => {
                    self.message = Some(super::state::Message::Error(format!(
                        "The file dialog failed: {e}."
                    )));
                }
            }
        }
    }
}

/// Draws the typed-path form while it is shown; a good path's command goes on `commands`.
pub fn show(dialogs: &mut Dialogs, ctx: &egui::Context, commands: &mut CommandQueue) {
    let Some(form) = dialogs.typed.as_mut() else {
        return;
    };
    match typed_path::show(form, ctx) {
        typed_path::FormAnswer::Open => {}
        typed_path::FormAnswer::Cancelled => dialogs.typed = None,
        typed_path::FormAnswer::Go(command) => {
            dialogs.typed = None;
            commands.push(command);
        }
    }
}
