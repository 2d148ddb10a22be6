//! Checking what a packs-folder entry is before anything opens it, and opening it safely.
//!
//! A folder can hold anything under a pack file name: a FIFO (opening it for reading blocks
//! until a writer appears), a link to `/dev/zero` or `/dev/urandom` (reading never ends), a
//! symbolic link loop, a dangling link, a folder. [`check_regular_file`] tells them apart from
//! the metadata alone, so they are reported by name and never opened. [`open_pack_file`]
//! then opens a file that passed without blocking (on Unix `O_NONBLOCK | O_NOCTTY`), and checks
//! the opened handle's own metadata again, so an entry swapped for a FIFO or a device between
//! the check and the open is still refused. A symbolic link to a regular file is followed.

use super::{EntryKind, MAX_PACK_FILE_BYTES, NotAFile, PackError, PackErrorKind};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The kind of a non-regular entry, `None` for a regular file.
fn kind_of(file_type: &fs::FileType) -> Option<EntryKind> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some(EntryKind::Folder);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some(EntryKind::Fifo);
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return Some(EntryKind::Device);
        }
        if file_type.is_socket() {
            return Some(EntryKind::Socket);
        }
    }
    Some(EntryKind::Other)
}

/// True when following links failed because they loop (or nest too deeply).
fn is_link_loop(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(windows)]
    {
        // ERROR_CANT_RESOLVE_FILENAME
        e.raw_os_error() == Some(1921)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = e;
        false
    }
}

fn not_a_file(path: &Path, why: NotAFile) -> PackError {
    PackError::in_file(path, None, PackErrorKind::NotAFile(why))
}

fn io_error(path: &Path, e: &io::Error) -> PackError {
    PackError::in_file(path, None, PackErrorKind::Io(e.to_string()))
}

/// Checks, from the metadata alone (nothing is opened), that `path` is a regular file or a
/// symbolic link to one, and returns the (followed) metadata. Otherwise the error says what
/// it is: a folder, a FIFO, a device, a socket, a link to one of those, a symbolic link loop
/// or a dangling link ([`PackErrorKind::NotAFile`]), or why it cannot be examined
/// ([`PackErrorKind::Io`]).
pub fn check_regular_file(path: &Path) -> Result<fs::Metadata, PackError> {
    let own = fs::symlink_metadata(path).map_err(|e| io_error(path, &e))?;
    if !own.file_type().is_symlink() {
        return match kind_of(&own.file_type()) {
            None => Ok(own),
            Some(kind) => Err(not_a_file(path, NotAFile::Is(kind))),
        };
    }
    let link_target = || fs::read_link(path).unwrap_or_default();
    match fs::metadata(path) {
        Ok(meta) => match kind_of(&meta.file_type()) {
            None => Ok(meta),
            Some(kind) => {
                // The final target (through a chain of links), else the link's own text.
                let target: PathBuf = fs::canonicalize(path).unwrap_or_else(|_| link_target());
                Err(not_a_file(path, NotAFile::PointsTo { kind, target }))
            }
        },
        Err(e) if is_link_loop(&e) => Err(not_a_file(path, NotAFile::SymlinkLoop)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Err(not_a_file(
                path,
                NotAFile::DanglingLink {
                    target: link_target(),
                },
            ))
        }
        Err(e) => Err(PackError::in_file(
            path,
            None,
            PackErrorKind::Io(format!(
                "cannot follow the symbolic link to {}: {e}",
                link_target().display()
            )),
        )),
    }
}

/// Opens for reading without blocking: a FIFO that slipped past the metadata check opens at
/// once instead of waiting for a writer, and a terminal never becomes the controlling one.
/// On a regular file `O_NONBLOCK` changes nothing.
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<fs::File> {
    fs::File::open(path)
}

fn too_large(path: &Path, size: u64) -> PackError {
    PackError::in_file(path, None, PackErrorKind::TooLarge { size })
}

/// Opens a pack file (or a source file to import) for reading: [`check_regular_file`] first,
/// the size limit from that metadata (the file is not opened when it is over
/// [`MAX_PACK_FILE_BYTES`]), a non-blocking open, and the same two checks again on the opened
/// handle (in case the entry was swapped meanwhile). Returns the file and its size.
///
/// Read it with `take(MAX_PACK_FILE_BYTES + 1)`: the file may still grow.
pub fn open_pack_file(path: &Path) -> Result<(fs::File, u64), PackError> {
    let meta = check_regular_file(path)?;
    if meta.len() > MAX_PACK_FILE_BYTES {
        return Err(too_large(path, meta.len()));
    }
    let file = open_nonblocking(path).map_err(|e| io_error(path, &e))?;
    let meta = file.metadata().map_err(|e| io_error(path, &e))?;
    if let Some(kind) = kind_of(&meta.file_type()) {
        return Err(not_a_file(path, NotAFile::Is(kind)));
    }
    if meta.len() > MAX_PACK_FILE_BYTES {
        return Err(too_large(path, meta.len()));
    }
    Ok((file, meta.len()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn kind(path: &Path) -> PackErrorKind {
        check_regular_file(path).unwrap_err().kind
    }

    #[test]
    fn each_kind_of_entry_is_named_without_opening_it() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("good.txt"), "a prompt\n").unwrap();
        fs::create_dir(d.join("folder.txt")).unwrap();
        let fifo = d.join("pipe.txt");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        symlink("good.txt", d.join("link.txt")).unwrap();
        symlink("loop.txt", d.join("loop.txt")).unwrap();
        symlink("absent.txt", d.join("dangling.txt")).unwrap();
        symlink("/dev/zero", d.join("zero.txt")).unwrap();
        symlink("folder.txt", d.join("to_folder.txt")).unwrap();
        symlink("pipe.txt", d.join("to_pipe.txt")).unwrap();

        assert!(check_regular_file(&d.join("good.txt")).is_ok());
        assert!(check_regular_file(&d.join("link.txt")).unwrap().is_file());
        assert_eq!(
            kind(&d.join("folder.txt")),
            PackErrorKind::NotAFile(NotAFile::Is(EntryKind::Folder))
        );
        assert_eq!(
            kind(&fifo),
            PackErrorKind::NotAFile(NotAFile::Is(EntryKind::Fifo))
        );
        assert_eq!(
            kind(&d.join("loop.txt")),
            PackErrorKind::NotAFile(NotAFile::SymlinkLoop)
        );
        assert_eq!(
            kind(&d.join("dangling.txt")),
            PackErrorKind::NotAFile(NotAFile::DanglingLink {
                target: "absent.txt".into()
            })
        );
        assert_eq!(
            kind(&d.join("zero.txt")),
            PackErrorKind::NotAFile(NotAFile::PointsTo {
                kind: EntryKind::Device,
                target: "/dev/zero".into()
            })
        );
        assert!(matches!(
            kind(&d.join("to_folder.txt")),
            PackErrorKind::NotAFile(NotAFile::PointsTo {
                kind: EntryKind::Folder,
                ..
            })
        ));
        assert!(matches!(
            kind(&d.join("to_pipe.txt")),
            PackErrorKind::NotAFile(NotAFile::PointsTo {
                kind: EntryKind::Fifo,
                ..
            })
        ));
        assert!(matches!(kind(&d.join("absent.txt")), PackErrorKind::Io(_)));
    }

    #[test]
    fn a_fifo_opened_directly_is_refused_by_the_handle_check() {
        // The metadata check is bypassed here (as if the entry were swapped for a FIFO after
        // it): the non-blocking open returns at once and the handle's metadata refuses it.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.txt");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let file = open_nonblocking(&fifo).unwrap();
        assert_eq!(
            kind_of(&file.metadata().unwrap().file_type()),
            Some(EntryKind::Fifo)
        );
        assert_eq!(
            open_pack_file(&fifo).unwrap_err().kind,
            PackErrorKind::NotAFile(NotAFile::Is(EntryKind::Fifo))
        );
    }
}
