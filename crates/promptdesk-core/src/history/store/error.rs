//! The store's error type: what failed and where, each message one line. An error that comes
//! from an I/O failure keeps it as its [`source`](std::error::Error::source).

use crate::job_record::JobStatus;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A history store error, saying what failed and where. Every message reads as one line.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Any other I/O failure; `message` says which operation failed and why, `source` is the
    /// failure itself.
    #[error("{path}: {message}", path = .path.display())]
    Io {
        path: PathBuf,
        message: String,
        #[source]
        source: io::Error,
    },
    /// Another process held the history lock for longer than the timeout.
    #[error(
        "{path}: the history is locked by another promptdesk process (waited {secs:.1} s); nothing was written, try again",
        path = .path.display(), secs = .waited.as_secs_f64()
    )]
    Locked { path: PathBuf, waited: Duration },
    /// The disk (or quota) is full.
    #[error("{path}: the disk is full; the change was not saved (free some space and retry)", path = .path.display())]
    DiskFull { path: PathBuf },
    /// The history is read-only (file or file system); loads work, writes do not.
    #[error("{path}: the history is read-only; the change was not saved", path = .path.display())]
    ReadOnly { path: PathBuf },
    /// The operating system refused access.
    #[error("{path}: permission denied (cannot {op})", path = .path.display())]
    PermissionDenied { path: PathBuf, op: &'static str },
    /// A part of the path that should be a folder is a regular file.
    #[error("{path}: cannot {op}: a part of this path is a file, not a folder", path = .path.display())]
    NotAFolder { path: PathBuf, op: &'static str },
    /// `append`/`restore` of a job id the history already has.
    #[error("{path}: job {job_id} is already in the history", path = .path.display())]
    DuplicateJobId { path: PathBuf, job_id: String },
    /// `update`/`delete`/`set_status`/`cancel` of a job id the history does not have.
    #[error("{path}: there is no job {job_id} in the history", path = .path.display())]
    UnknownJob { path: PathBuf, job_id: String },
    /// `cancel` of a job that is no longer queued.
    #[error("job {job_id} is {status}; only a queued job can be cancelled")]
    NotCancellable { job_id: String, status: JobStatus },
    /// The history path is not a regular file (a folder, a device, a FIFO, a link to one).
    #[error("{path}: this is {what}, not a history file; promptdesk keeps its history in a regular file", path = .path.display())]
    NotAFile { path: PathBuf, what: String },
    /// There is no history file yet (only from [`HistoryStore::open_read_only`], which never
    /// creates one).
    ///
    /// [`HistoryStore::open_read_only`]: super::HistoryStore::open_read_only
    #[error("{path}: there is no history yet", path = .path.display())]
    NoHistory { path: PathBuf },
    /// Other processes kept replacing the file (compacting it) for the whole lock timeout.
    #[error(
        "{path}: the history kept being replaced by other promptdesk processes compacting it (waited {secs:.1} s); nothing was written, try again",
        path = .path.display(), secs = .waited.as_secs_f64()
    )]
    Busy { path: PathBuf, waited: Duration },
    /// A record that cannot be stored (empty id, a value JSON cannot carry, ...).
    #[error("{path}: job {job_id:?} cannot be stored: {reason}", path = .path.display())]
    InvalidRecord {
        path: PathBuf,
        job_id: String,
        reason: String,
    },
}

impl HistoryError {
    /// True for failures that go away by themselves (another process held the lock or kept
    /// replacing the file): retrying later succeeds.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            HistoryError::Locked { .. } | HistoryError::Busy { .. }
        )
    }

    /// Maps an I/O error of operation `op` ("append to the history", ...) on `path` to a
    /// clear error: a full disk, a read-only file system, a refused permission and a file
    /// where a folder should be get their own variants; any other failure is
    /// [`HistoryError::Io`], keeping `err` as its source.
    pub fn from_io(path: &Path, op: &'static str, err: io::Error) -> HistoryError {
        let path = path.to_path_buf();
        match err.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                HistoryError::DiskFull { path }
            }
            io::ErrorKind::ReadOnlyFilesystem => HistoryError::ReadOnly { path },
            io::ErrorKind::PermissionDenied => HistoryError::PermissionDenied { path, op },
            io::ErrorKind::NotADirectory => HistoryError::NotAFolder { path, op },
            _ => HistoryError::Io {
                path,
                message: format!("cannot {op}: {err}"),
                source: err,
            },
        }
    }

    /// An [`HistoryError::Io`] for a failure that has no I/O error of its own: the source is
    /// an `io::Error` carrying `message`.
    pub(crate) fn other(path: &Path, message: String) -> HistoryError {
        HistoryError::Io {
            path: path.to_path_buf(),
            source: io::Error::other(message.clone()),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn an_io_error_keeps_its_source_and_its_message() {
        let err = HistoryError::from_io(
            Path::new("dir/history.jsonl"),
            "read the history",
            io::Error::new(io::ErrorKind::UnexpectedEof, "cut short"),
        );
        assert_eq!(
            err.to_string(),
            "dir/history.jsonl: cannot read the history: cut short"
        );
        let source = err.source().expect("an I/O error keeps its source");
        let io = source.downcast_ref::<io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(io.to_string(), "cut short");
        // The kinds with their own variants still read as before.
        let full = HistoryError::from_io(
            Path::new("h"),
            "append to the history",
            io::Error::from(io::ErrorKind::StorageFull),
        );
        assert!(matches!(full, HistoryError::DiskFull { .. }), "{full}");
        let other = HistoryError::other(Path::new("q"), "cannot compact".to_owned());
        assert_eq!(other.to_string(), "q: cannot compact");
        assert!(other.source().is_some());
    }
}
