//! Telling "the user cancelled the file dialog" from "no file dialog could open".
//!
//! rfd answers both with `None`. On Linux and the BSDs it first asks xdg-desktop-portal over
//! D-Bus; when that fails it logs an error (no libdbus, no session bus, no portal service)
//! and a warning ("Using zenity fallback") and runs `zenity`; when that fails too it logs an
//! error ("Failed to pick file with zenity: …") and returns `None`. A user cancelling either
//! dialog logs nothing more. So, on the thread that opened the dialog: when the last warning
//! or error rfd logged is an error, no dialog could open; otherwise the user cancelled.
//!
//! rfd logs through the `log` facade, so [`DialogLogCapture`] wraps the app's logger: it
//! passes every record on, and also keeps rfd's warnings and errors made on a thread that is
//! inside [`capture_dialog_log`].

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// A warning or error rfd logged while a file dialog was opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogRecord {
    pub level: Level,
    pub message: String,
}

thread_local! {
    /// The records of the dialog opening on this thread (`None`: no dialog is opening).
    static RECORDS: RefCell<Option<Vec<DialogRecord>>> = const { RefCell::new(None) };
}

/// Set once a [`DialogLogCapture`] is the global logger.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// True when a [`DialogLogCapture`] is the global logger (without it, a dialog that could
/// not open looks like one the user cancelled).
pub fn capture_installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// A logger that passes every record to `inner`, and keeps the warnings and errors rfd logs
/// on a thread inside [`capture_dialog_log`].
pub struct DialogLogCapture<L> {
    inner: L,
}

impl<L: Log + 'static> DialogLogCapture<L> {
    /// Wraps `inner` (for the app: env_logger).
    pub fn new(inner: L) -> DialogLogCapture<L> {
        DialogLogCapture { inner }
    }

    /// Makes this the global logger. `level` is the most verbose level `inner` shows; the
    /// `log` facade lets warnings through in any case (rfd's are needed to tell a cancelled
    /// dialog from one that could not open), and `inner` still drops what it does not show.
    pub fn install(self, level: LevelFilter) -> Result<(), log::SetLoggerError> {
        log::set_boxed_logger(Box::new(self))?;
        log::set_max_level(level.max(LevelFilter::Warn));
        INSTALLED.store(true, Ordering::Relaxed);
        Ok(())
    }
}

/// A warning or error from rfd.
fn is_dialog_record(metadata: &Metadata<'_>) -> bool {
    metadata.level() <= Level::Warn
        && (metadata.target() == "rfd" || metadata.target().starts_with("rfd::"))
}

fn capturing() -> bool {
    RECORDS.with(|records| records.borrow().is_some())
}

impl<L: Log> Log for DialogLogCapture<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        (is_dialog_record(metadata) && capturing()) || self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if is_dialog_record(record.metadata()) {
            RECORDS.with(|records| {
                if let Some(records) = records.borrow_mut().as_mut() {
                    records.push(DialogRecord {
                        level: record.level(),
                        message: record.args().to_string(),
                    });
                }
            });
        }
        if self.inner.enabled(record.metadata()) {
            self.inner.log(record);
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Runs `open` (which opens a file dialog on this thread) and returns what it returned with
/// the warnings and errors rfd logged meanwhile, oldest first.
pub fn capture_dialog_log<T>(open: impl FnOnce() -> T) -> (T, Vec<DialogRecord>) {
    RECORDS.with(|records| *records.borrow_mut() = Some(Vec::new()));
    let answer = open();
    let records = RECORDS.with(|records| records.borrow_mut().take().unwrap_or_default());
    (answer, records)
}

/// Why no dialog could open, when the last of rfd's `records` is an error: every error
/// message, joined. `None` when the dialog opened (the user chose or cancelled).
pub fn failure_reason(records: &[DialogRecord]) -> Option<String> {
    if records.last()?.level != Level::Error {
        return None;
    }
    let errors: Vec<&str> = records
        .iter()
        .filter(|r| r.level == Level::Error)
        .map(|r| r.message.as_str())
        .collect();
    Some(errors.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(level: Level, message: &str) -> DialogRecord {
        DialogRecord {
            level,
            message: message.into(),
        }
    }

    #[test]
    fn nothing_logged_is_a_dialog_that_opened() {
        assert_eq!(failure_reason(&[]), None);
    }

    #[test]
    fn portal_failed_then_zenity_cancelled_is_a_dialog_that_opened() {
        let records = [
            record(Level::Error, "Failed to connect to session bus: no bus"),
            record(Level::Warn, "Using zenity fallback"),
        ];
        assert_eq!(failure_reason(&records), None);
    }

    #[test]
    fn portal_and_zenity_failed_is_no_dialog_with_both_reasons() {
        let records = [
            record(Level::Error, "OpenFile failed: ServiceUnknown"),
            record(Level::Warn, "Using zenity fallback"),
            record(
                Level::Error,
                "Failed to pick folder with zenity: No such file or directory (os error 2)",
            ),
        ];
        assert_eq!(
            failure_reason(&records).as_deref(),
            Some(
                "OpenFile failed: ServiceUnknown; Failed to pick folder with zenity: No such file or directory (os error 2)"
            )
        );
    }

    #[test]
    fn only_rfd_warnings_and_errors_are_dialog_records() {
        let meta =
            |target: &'static str, level| Metadata::builder().target(target).level(level).build();
        assert!(is_dialog_record(&meta("rfd", Level::Error)));
        assert!(is_dialog_record(&meta(
            "rfd::backend::xdg_desktop_portal",
            Level::Warn
        )));
        assert!(!is_dialog_record(&meta("rfd", Level::Info)));
        assert!(!is_dialog_record(&meta("rfdx", Level::Error)));
        assert!(!is_dialog_record(&meta("promptdesk", Level::Error)));
    }
}
