//! File-system rules for the files promptdesk keeps in its data folder.
//!
//! * Prompts can be private: a data folder we create is `0700`, and the history, quarantine
//!   and temp files we create are `0600` (Unix). A mode the user already set is kept.
//! * Files we create or append to in the data folder (other than `history.jsonl` itself, which
//!   may be a link into a synced folder) are never reached through a symbolic link.
//! * A FIFO or a device is never opened for reading: it would block or never end.

use std::fs::{self, File};
use std::io;
use std::path::Path;

pub(crate) use crate::fsutil::{describe_non_regular, safe_options};

/// True when an open failed because the last component is a symbolic link (`O_NOFOLLOW`).
pub(crate) fn is_symlink_refusal(err: &io::Error, path: &Path) -> bool {
    #[cfg(unix)]
    {
        if err.raw_os_error() == Some(libc::ELOOP) {
            return fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        }
    }
    let _ = (err, path);
    false
}

/// Opens `path` for appending (creating it 0600), never through a symbolic link, and checks
/// that it is a regular file.
pub(crate) fn open_append_no_follow(path: &Path) -> io::Result<File> {
    let file = safe_options(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| refusal_error(e, path))?;
    ensure_regular(&file)?;
    Ok(file)
}

/// Opens an existing `path` for reading, never through a symbolic link, never blocking on a
/// FIFO, and checks that it is a regular file.
pub(crate) fn open_read_no_follow(path: &Path) -> io::Result<File> {
    let file = safe_options(true)
        .read(true)
        .open(path)
        .map_err(|e| refusal_error(e, path))?;
    ensure_regular(&file)?;
    Ok(file)
}

fn refusal_error(e: io::Error, path: &Path) -> io::Error {
    if is_symlink_refusal(&e, path) {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a symbolic link; promptdesk does not follow links for the files it writes beside the history",
        )
    } else {
        e
    }
}

/// Fails unless the open handle is a regular file.
pub(crate) fn ensure_regular(file: &File) -> io::Result<()> {
    let meta = file.metadata()?;
    match describe_non_regular(&meta) {
        None => Ok(()),
        Some(what) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {what}, not a regular file"),
        )),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn appending_never_follows_a_link_and_never_opens_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.txt");
        fs::write(&target, b"").unwrap();
        let link = dir.path().join("q.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = open_append_no_follow(&link).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let err = open_read_no_follow(&fifo).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
    }
}
