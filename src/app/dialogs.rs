//! File dialogs: each opens on its own thread and answers with a [`Command`].
//!
//! [`Dialogs`] is the app's state for them (held by `AppState`); [`show`] draws whatever they
//! need in the window (drawn by the app after the panels).

use super::command_handling::export_label;
use super::commands::{Command, CommandQueue};
use super::state::AppState;
use super::tasks::Task;

/// The file dialogs open now.
#[derive(Default)]
pub struct Dialogs {
    pub(crate) open: Vec<Task<Option<Command>>>,
}

impl AppState {
    /// Opens the file dialog a `Pick…` command asks for.
    pub(crate) fn pick(&mut self, command: Command) {
        match command {
            Command::PickPacksFolder => {
                let start = self.packs_dir.clone();
                self.dialog(move || {
                    rfd::FileDialog::new()
                        .set_directory(start)
                        .pick_folder()
                        .map(Command::SetPacksDir)
                });
            }
            Command::PickPackFiles => self.dialog(|| {
                rfd::FileDialog::new()
                    .add_filter("Prompt packs", &crate::packs::PACK_EXTENSIONS)
                    .pick_files()
                    .map(Command::ImportPackFiles)
            }),
            Command::PickStableNewFile => self.dialog(|| {
                rfd::FileDialog::new()
                    .add_filter("StableNew job history", &["jsonl", "json"])
                    .pick_file()
                    .map(Command::ImportStableNew)
            }),
            Command::PickExportFile(format) => self.dialog(move || {
                let (label, ext) = export_label(format);
                rfd::FileDialog::new()
                    .set_file_name(format!("promptdesk-history.{ext}"))
                    .add_filter(label, &[ext])
                    .save_file()
                    .map(|path| Command::Export(path, format))
            }),
            _ => {}
        }
    }

    /// Opens a file dialog on its own thread; its answer arrives as a command.
    fn dialog(&mut self, pick: impl FnOnce() -> Option<Command> + Send + 'static) {
        self.dialogs
            .open
            .push(Task::spawn("file-dialog", &self.repaint, pick));
    }

    /// Applies the answers of closed file dialogs.
    pub(crate) fn finish_dialogs(&mut self) {
        let mut answers = Vec::new();
        self.dialogs.open.retain(|task| match task.poll() {
            Some(answer) => {
                answers.extend(answer.ok().flatten());
                false
            }
            None => true,
        });
        for command in answers {
            self.apply(command);
        }
    }
}

/// Draws what open dialogs need in the window (nothing so far).
pub fn show(_dialogs: &mut Dialogs, _ctx: &egui::Context, _commands: &mut CommandQueue) {}
