//! File → Import images folder: every PNG, JPEG and WebP image of a folder (and, when asked,
//! of its sub-folders) becomes a completed job, as with `promptdesk import-images`
//! ([`crate::images::import`]).
//!
//! The import runs on a task of its own ([`ImageImportRun`]); the window stays usable and the
//! status bar shows its progress with a Cancel button. The task lists, reads and hashes the
//! files itself and reaches the history only through the history writer
//! ([`super::writer::WriterQueue`] as the import's [`crate::images::ImportTarget`]): the writer
//! owns every change, and it is busy with the import only for the moments of its appends
//! (1,000 jobs at a time), so ratings, Submit and the queue runner's changes go on meanwhile.
//! Running the whole import on the writer thread would have held them back for as long as
//! the files take to read. One import at a time: the menu entries are disabled while one
//! runs.

use super::commands::CommandQueue;
use super::state::{AppState, Message};
use super::tasks::Task;
use super::widgets::truncate_chars;
use crate::images::{
    ImportImagesError, ImportImagesOptions, ImportImagesPhase, ImportImagesProgress,
    ImportImagesReport, import_images,
};
use crate::packs::escape_control;
use crate::run_config::RunSource;
use crate::wording::plural;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Unreadable files the finished message names (the others are counted).
pub const UNREADABLE_NAMED: usize = 3;

/// Why the menu entries are disabled while an import runs.
pub const ALREADY_RUNNING: &str =
    "An image import is running: wait for it to finish, or cancel it in the status bar.";

/// An image import under way.
pub struct ImageImportRun {
    dir: PathBuf,
    recursive: bool,
    /// The last progress the import reported (`None` until its first report).
    progress: Arc<Mutex<Option<ImportImagesProgress>>>,
    cancel: Arc<AtomicBool>,
    task: Task<Result<ImportImagesReport, ImportImagesError>>,
}

impl ImageImportRun {
    /// The folder imported.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True when the import reaches into sub-folders.
    pub fn recursive(&self) -> bool {
        self.recursive
    }

    /// The last progress reported.
    pub fn progress(&self) -> Option<ImportImagesProgress> {
        self.progress.lock().ok().and_then(|p| *p)
    }

    /// True once Cancel was pressed (the import stops at the end of its current batch).
    pub fn cancelling(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The progress line: the phase and the counts.
    pub fn progress_text(&self) -> String {
        let dir = shown(&self.dir);
        let what = match self.progress() {
            None => "starting".to_owned(),
            Some(p) => match p.phase {
                ImportImagesPhase::Scanning => {
                    format!("looking for images, {} found", p.found)
                }
                ImportImagesPhase::Importing => {
                    format!("reading images, {} of {}", p.done, p.total)
                }
            },
        };
        let cancelling = if self.cancelling() {
            " (cancelling after this batch)"
        } else {
            ""
        };
        format!("Importing images from {dir}: {what}{cancelling}")
    }

    /// How far the import got (0 to 1; 0 while the folder is listed).
    pub fn fraction(&self) -> f32 {
        match self.progress() {
            Some(p) if p.phase == ImportImagesPhase::Importing && p.total > 0 => {
                p.done as f32 / p.total as f32
            }
            _ => 0.0,
        }
    }
}

/// A path for a message (control characters escaped).
fn shown(path: &Path) -> String {
    escape_control(&path.display().to_string()).into_owned()
}

/// The message once the import is done: what the report says, naming the folder, the first
/// unreadable files and why, and what a cancel left.
pub fn finished_message(dir: &Path, report: &ImportImagesReport) -> Message {
    let dir = shown(dir);
    let mut text = format!("Imported images from {dir}: {}.", report.summary());
    if !report.unreadable.is_empty() {
        let named: Vec<String> = report
            .unreadable
            .iter()
            .take(UNREADABLE_NAMED)
            .map(|(path, reason)| {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                format!(
                    "{} ({})",
                    escape_control(&name),
                    truncate_chars(&escape_control(reason), 80)
                )
            })
            .collect();
        text.push_str(&format!(" Unreadable: {}", named.join("; ")));
        let more = report.unreadable.len().saturating_sub(UNREADABLE_NAMED);
        if more > 0 {
            text.push_str(&format!("; and {more} more"));
        }
        text.push('.');
    }
    if report.cancelled && report.imported == 0 {
        text.push_str(" Cancelled before any image was imported.");
    } else if report.cancelled {
        text.push_str(&format!(
            " Cancelled: {} imported before the cancel (they stay in the history); import the folder again for the rest.",
            plural(report.imported, "image")
        ));
    }
    for warning in &report.warnings {
        text.push_str(&format!(" {}.", escape_control(warning)));
    }
    if report.unreadable.is_empty() && report.warnings.is_empty() {
        Message::Info(text)
    } else {
        Message::Error(text)
    }
}

/// The message when the import failed: the folder and why.
pub fn failed_message(dir: &Path, error: &ImportImagesError) -> Message {
    let shown = shown(dir);
    let why = match error {
        ImportImagesError::NotFound { .. } => "there is no such folder".to_owned(),
        ImportImagesError::NotAFolder { .. } => "it is not a folder".to_owned(),
        ImportImagesError::Unreadable { source, .. } => {
            format!("the folder cannot be read ({source})")
        }
        ImportImagesError::History(e) => format!(
            "the history could not be written ({e}); the images recorded before stay, import the folder again for the rest"
        ),
    };
    Message::Error(format!("Could not import images from {shown}: {why}."))
}

impl AppState {
    /// Starts importing the images of `dir` on a task of its own (one import at a time).
    pub(crate) fn import_images(&mut self, dir: PathBuf, recursive: bool) {
        if self.image_import.is_some() {
            self.message = Some(Message::Error(ALREADY_RUNNING.to_owned()));
            return;
        }
        let progress = Arc::new(Mutex::new(None));
        let cancel = Arc::new(AtomicBool::new(false));
        let mut target = self.writer.queue();
        let options = ImportImagesOptions {
            recursive,
            source: RunSource::Gui,
        };
        let task = {
            let (dir, progress, cancel) = (dir.clone(), progress.clone(), cancel.clone());
            let repaint = self.repaint.clone();
            Task::spawn("image-import", &self.repaint, move || {
                import_images(
                    &mut target,
                    &dir,
                    &options,
                    &mut |p| {
                        if let Ok(mut last) = progress.lock() {
                            *last = Some(*p);
                        }
                        repaint.request();
                    },
                    &cancel,
                )
            })
        };
        let run = ImageImportRun {
            dir,
            recursive,
            progress,
            cancel,
            task,
        };
        self.message = Some(Message::Info(format!("{}...", run.progress_text())));
        self.image_import = Some(run);
    }

    /// Cancel: the import stops between two batches; what it found so far is written.
    pub(crate) fn cancel_image_import(&mut self) {
        if let Some(run) = &self.image_import {
            run.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// Takes the finished import's report, once: says what it did.
    pub(crate) fn finish_image_import(&mut self) {
        let Some(run) = &self.image_import else {
            return;
        };
        let Some(result) = run.task.poll() else {
            return;
        };
        let dir = run.dir.clone();
        self.image_import = None;
        self.message = Some(match result {
            Ok(Ok(report)) => finished_message(&dir, &report),
            Ok(Err(e)) => failed_message(&dir, &e),
            Err(e) => Message::Error(format!(
                "Could not import images from {}: {e}.",
                shown(&dir)
            )),
        });
    }
}

/// The status bar's progress row while an import runs: the folder, the phase and counts, a
/// progress bar and Cancel.
pub fn show_progress(run: &ImageImportRun, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    ui.horizontal(|ui| {
        ui.set_min_height(ui.spacing().interact_size.y);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let cancel = ui.add_enabled(!run.cancelling(), egui::Button::new("Cancel import"));
            if cancel
                .on_hover_text("Stop after the current batch; the images imported so far stay")
                .clicked()
            {
                commands.push(super::commands::Command::CancelImageImport);
            }
            let bar = egui::ProgressBar::new(run.fraction())
                .desired_width(160.0)
                .show_percentage();
            let bar = if run
                .progress()
                .is_none_or(|p| p.phase == ImportImagesPhase::Scanning)
            {
                bar.animate(true)
            } else {
                bar
            };
            ui.add(bar);
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                ui.spinner();
                ui.add(egui::Label::new(run.progress_text()).truncate());
            });
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(message: &Message) -> &str {
        match message {
            Message::Info(t) | Message::Error(t) => t,
        }
    }

    #[test]
    fn the_finished_message_names_the_first_unreadable_files_and_counts_the_rest() {
        let mut report = ImportImagesReport {
            scanned: 7,
            imported: 2,
            ..ImportImagesReport::default()
        };
        for i in 0..5 {
            report.unreadable.push((
                PathBuf::from(format!("/pics/bad{i}.png")),
                "cut short".into(),
            ));
        }
        let message = finished_message(Path::new("/pics"), &report);
        assert!(matches!(message, Message::Error(_)));
        assert_eq!(
            text(&message),
            "Imported images from /pics: 7 images found: 2 imported, 0 already in the history; 5 unreadable. Unreadable: bad0.png (cut short); bad1.png (cut short); bad2.png (cut short); and 2 more."
        );
    }

    #[test]
    fn a_cancel_says_what_it_left() {
        let mut report = ImportImagesReport {
            scanned: 300,
            cancelled: true,
            ..ImportImagesReport::default()
        };
        let message = finished_message(Path::new("/pics"), &report);
        assert!(matches!(message, Message::Info(_)));
        assert!(
            text(&message)
                .ends_with("cancelled before the end. Cancelled before any image was imported."),
            "{}",
            text(&message)
        );
        report.imported = 1;
        assert!(
            text(&finished_message(Path::new("/pics"), &report))
                .ends_with(" Cancelled: 1 image imported before the cancel (they stay in the history); import the folder again for the rest."),
        );
    }

    #[test]
    fn a_history_error_names_the_folder() {
        let error = ImportImagesError::History(crate::history::HistoryError::Io {
            path: PathBuf::from("/data/history.jsonl"),
            message: "disk full".into(),
            source: std::io::Error::other("disk full"),
        });
        let message = failed_message(Path::new("/pics"), &error);
        assert!(
            text(&message).starts_with(
                "Could not import images from /pics: the history could not be written ("
            ),
            "{}",
            text(&message)
        );
    }
}
