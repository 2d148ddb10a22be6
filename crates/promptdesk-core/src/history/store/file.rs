//! File operations on the history: finding and opening it, positioned reads of whole lines,
//! the lock loop, and appends that are cut back when they fail.

use super::HistoryError;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bytes read (and parsed in parallel) per step of a load.
pub(super) const CHUNK_BYTES: usize = 32 * 1024 * 1024;

/// `history.jsonl` -> `history.quarantine.jsonl` (same folder).
pub fn quarantine_path_for(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "history".to_owned());
    path.with_file_name(format!("{stem}.quarantine.jsonl"))
}

/// The history file for `path`: the file itself, or a folder meaning `folder/history.jsonl`.
/// A folder that is itself named like a history file (`history.jsonl/`) is an error, as is a
/// history path that exists but is not a regular file (after following links): a device, a
/// FIFO (never opened: it would block), a folder.
pub(super) fn resolve_history_path(path: &Path) -> Result<PathBuf, HistoryError> {
    let mut path = path.to_path_buf();
    if path.is_dir() {
        let named_like_history = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
        if !named_like_history {
            path.push(crate::paths::HISTORY_FILE_NAME);
        }
    }
    match fs::metadata(&path) {
        Ok(meta) => {
            if let Some(what) = super::super::private_fs::describe_non_regular(&meta) {
                let what = match fs::read_link(&path) {
                    Ok(target) => format!("a link to {} ({what})", target.display()),
                    Err(_) => what.to_owned(),
                };
                return Err(HistoryError::NotAFile { path, what });
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Ok(target) = fs::read_link(&path) {
                // A dangling link would be "created" somewhere unexpected: say so.
                return Err(HistoryError::NotAFile {
                    what: format!("a link to {}, which does not exist", target.display()),
                    path,
                });
            }
        }
        Err(e) => return Err(HistoryError::from_io(&path, "open the history", e)),
    }
    Ok(path)
}

/// Opens the history for reading and appending (creating it, 0600), or read-only when writing
/// is not allowed but the file exists. Never blocks on a FIFO swapped in meanwhile.
pub(super) fn open_handle(path: &Path) -> Result<(File, bool), HistoryError> {
    let opened = super::super::private_fs::safe_options(false)
        .read(true)
        .append(true)
        .create(true)
        .open(path);
    let (file, read_only) = match opened {
        Ok(f) => (f, false),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
            ) && path.is_file() =>
        {
            (open_existing_read_only(path)?, true)
        }
        Err(e) => return Err(HistoryError::from_io(path, "open the history", e)),
    };
    check_regular(&file, path)?;
    Ok((file, read_only))
}

/// Opens an existing history for reading only.
pub(super) fn open_existing_read_only(path: &Path) -> Result<File, HistoryError> {
    let file = super::super::private_fs::safe_options(false)
        .read(true)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => HistoryError::NoHistory {
                path: path.to_path_buf(),
            },
            _ => HistoryError::from_io(path, "open the history", e),
        })?;
    check_regular(&file, path)?;
    Ok(file)
}

fn check_regular(file: &File, path: &Path) -> Result<(), HistoryError> {
    let meta = file
        .metadata()
        .map_err(|e| HistoryError::from_io(path, "open the history", e))?;
    match super::super::private_fs::describe_non_regular(&meta) {
        None => Ok(()),
        Some(what) => Err(HistoryError::NotAFile {
            path: path.to_path_buf(),
            what: what.to_owned(),
        }),
    }
}

/// `file` still is the file at `path` (not replaced by a compaction); false when nothing is
/// at `path` any more.
pub(super) fn is_same_file(file: &File, path: &Path) -> Result<bool, HistoryError> {
    let on_disk = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(HistoryError::from_io(path, "read the history", e)),
    };
    let ours = file
        .metadata()
        .map_err(|e| HistoryError::from_io(path, "read the history", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(ours.dev() == on_disk.dev() && ours.ino() == on_disk.ino())
    }
    #[cfg(not(unix))]
    {
        Ok(ours.len() == on_disk.len())
    }
}

/// The length of the open history.
pub(super) fn file_len(file: &File, path: &Path) -> Result<u64, HistoryError> {
    file.metadata()
        .map(|m| m.len())
        .map_err(|e| HistoryError::from_io(path, "read the history", e))
}

/// Reads `len` bytes at `pos` (fewer at end of file).
pub(super) fn read_at(file: &File, pos: u64, buf: &mut Vec<u8>, len: usize) -> io::Result<usize> {
    let mut f = file;
    let before = buf.len();
    let mut attempts = 0;
    loop {
        let result = f
            .seek(SeekFrom::Start(pos))
            .and_then(|_| f.take(len as u64).read_to_end(buf));
        match result {
            Ok(_) => return Ok(buf.len() - before),
            // Windows locks are mandatory: a writer in another process holds the file for a
            // moment (ERROR_LOCK_VIOLATION). Wait for it.
            Err(e) if cfg!(windows) && e.raw_os_error() == Some(33) && attempts < 400 => {
                buf.truncate(before);
                attempts += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Reads `file[start..end]` in chunks cut after a '\n' and hands each chunk of complete lines
/// to `on_chunk(chunk, bytes_done)`. Returns the bytes after the last '\n' (the tail).
pub(super) fn read_lines(
    file: &File,
    start: u64,
    end: u64,
    mut on_chunk: impl FnMut(&[u8], u64),
) -> io::Result<Vec<u8>> {
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = start;
    while pos < end {
        let want = usize::try_from(end - pos)
            .unwrap_or(usize::MAX)
            .min(CHUNK_BYTES);
        buf.reserve(want);
        let got = read_at(file, pos, &mut buf, want)?;
        if got == 0 {
            break; // the file shrank while we read it
        }
        pos += got as u64;
        if let Some(last) = memchr::memrchr(b'\n', &buf) {
            on_chunk(&buf[..=last], pos - (buf.len() - last - 1) as u64);
            buf.drain(..=last);
        }
    }
    Ok(buf)
}

/// The offset just after the last '\n' of the first `len` bytes (0 if they have none), read
/// backwards in growing windows.
pub(super) fn last_line_end(file: &File, len: u64) -> io::Result<u64> {
    let mut end = len;
    let mut window = 64 * 1024u64;
    while end > 0 {
        let start = end.saturating_sub(window);
        let mut buf = Vec::new();
        let want = usize::try_from(end - start).unwrap_or(usize::MAX);
        read_at(file, start, &mut buf, want)?;
        if let Some(i) = memchr::memrchr(b'\n', &buf) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
        window = window.saturating_mul(2);
    }
    Ok(0)
}

/// The number of '\n' in the first `end` bytes of the file.
pub(super) fn count_lines_before(file: &File, end: u64) -> io::Result<usize> {
    let mut count = 0;
    let mut pos = 0u64;
    let mut buf = Vec::new();
    while pos < end {
        buf.clear();
        let want = usize::try_from(end - pos)
            .unwrap_or(usize::MAX)
            .min(CHUNK_BYTES);
        let got = read_at(file, pos, &mut buf, want)?;
        if got == 0 {
            break;
        }
        count += memchr::memchr_iter(b'\n', &buf).count();
        pos += got as u64;
    }
    Ok(count)
}

/// Takes the exclusive lock, retrying until `timeout`.
pub(super) fn lock_with_timeout(
    file: &File,
    path: &Path,
    timeout: Duration,
) -> Result<(), HistoryError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) => {}
            // No advisory locks on this platform or file system: go on without.
            Err(fs::TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {
                return Ok(());
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(HistoryError::from_io(path, "lock the history", e));
            }
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(HistoryError::Locked {
                path: path.to_path_buf(),
                waited,
            });
        }
        std::thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(Duration::from_millis(8));
    }
}

/// Appends raw bytes through the `O_APPEND` handle, synced; on failure cuts the file back to
/// `keep_len` bytes (so the next append starts on a fresh line).
pub(super) fn write_raw(
    file: &File,
    path: &Path,
    bytes: &[u8],
    keep_len: u64,
) -> Result<(), HistoryError> {
    let result = (&mut &*file)
        .write_all(bytes)
        .and_then(|()| file.sync_data());
    if let Err(e) = result {
        let _ = file.set_len(keep_len);
        let _ = file.sync_data();
        return Err(HistoryError::from_io(path, "append to the history", e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_in_whole_lines_and_the_tail_is_handed_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        fs::write(&path, b"one\ntwo\nthr").unwrap();
        let file = File::open(&path).unwrap();
        let mut seen = Vec::new();
        let tail = read_lines(&file, 0, 11, |chunk, done| {
            seen.push((chunk.to_vec(), done))
        })
        .unwrap();
        assert_eq!(seen, vec![(b"one\ntwo\n".to_vec(), 8)]);
        assert_eq!(tail, b"thr");
        assert_eq!(last_line_end(&file, 11).unwrap(), 8);
        assert_eq!(last_line_end(&file, 3).unwrap(), 0);
        assert_eq!(count_lines_before(&file, 11).unwrap(), 2);
        assert_eq!(
            quarantine_path_for(&path),
            dir.path().join("h.quarantine.jsonl")
        );
    }
}
