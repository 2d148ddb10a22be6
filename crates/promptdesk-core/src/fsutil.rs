//! File-system helpers shared by the CLI, the app and the history: replacing a file
//! atomically through a private temp file, and removing the temp files a crash left behind.
//!
//! A temp file for `folder/NAME` is `folder/.NAME.promptdesk-<32 hex digits>.tmp` (a random
//! UUID v4). It is created with `create_new` (so it is never a file or symlink that was there
//! before), mode 0600 on Unix (or the mode of the file it replaces), and its writer holds an
//! exclusive lock ([`File::try_lock`]) on it until it has been renamed into place. A temp file
//! that still exists, is old, and can be locked belongs to a writer that died:
//! [`remove_stale_temps`] removes those, and only those.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The part of a temp file's name between the target's name and the random part.
pub const TEMP_MARK: &str = ".promptdesk-";
/// The end of a temp file's name.
pub const TEMP_SUFFIX: &str = ".tmp";
/// How old a temp file must be before [`remove_stale_temps`] takes it for a dead writer's
/// (callers pass it; a live writer also holds a lock, so this is a second safeguard).
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(5 * 60);

/// The longest random part a temp name may have to count as ours (we write a UUID v4 in its
/// simple form, 32 hex digits; any 1 to 64 ASCII letters and digits are recognised, so temp
/// files of other promptdesk code with shorter random parts are cleaned too).
const MAX_RANDOM_LEN: usize = 64;

/// The folder `path` is in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A fresh temp path for replacing `target`: `.{file_name}.promptdesk-{random}.tmp` in the
/// target's folder. Fails when `target` has no file name (`/`, `..`).
pub fn temp_path_for(target: &Path) -> io::Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", target.display()),
        )
    })?;
    let mut temp = OsString::from(".");
    temp.push(name);
    temp.push(TEMP_MARK);
    temp.push(uuid::Uuid::new_v4().simple().to_string());
    temp.push(TEMP_SUFFIX);
    Ok(parent_dir(target).join(temp))
}

/// True when `name` (a bare file name) is one of our temp names for the target `file_name`:
/// `.{file_name}.promptdesk-{1 to 64 ASCII letters and digits}.tmp` (or the
/// `.{file_name}.compact-{..}.tmp` of earlier versions' compactions).
pub fn is_temp_name_for(name: &OsStr, file_name: &OsStr) -> bool {
    let name = name.as_encoded_bytes();
    let Some(rest) = name.strip_prefix(b".") else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(file_name.as_encoded_bytes()) else {
        return false;
    };
    // `.compact-` is how promptdesk 0.1 named the history's compaction temps.
    let Some(rest) = rest
        .strip_prefix(TEMP_MARK.as_bytes())
        .or_else(|| rest.strip_prefix(b".compact-"))
    else {
        return false;
    };
    let Some(random) = rest.strip_suffix(TEMP_SUFFIX.as_bytes()) else {
        return false;
    };
    (1..=MAX_RANDOM_LEN).contains(&random.len()) && random.iter().all(u8::is_ascii_alphanumeric)
}

/// Creates `path` as a new file (never opening or following anything already there), for
/// reading and writing, with mode 0600 on Unix.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    create_new_private_with(path, false)
}

/// [`create_new_private`], for appending (`O_APPEND`) when `append`.
fn create_new_private_with(path: &Path, append: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).create_new(true);
    if append {
        options.append(true);
    } else {
        options.write(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Replaces `target` with what `write` writes, atomically: readers see the old file or the
/// whole new one, never a part, and a failure (or a crash) leaves the old file as it was.
///
/// `write` gets the temp file (see the module docs; write-locked for the whole call). After it
/// returns, the temp file is flushed and synced, renamed over `target` and the folder synced.
/// On any error the temp file is removed. A new file gets mode 0600 on Unix; a file that
/// is replaced keeps its permission bits (where the file system lets them be set). `target`
/// itself is replaced (a symlink at `target` is replaced by the file, never written through).
/// An error from syncing the folder comes after the rename: the new file is then in place but
/// may not survive a power cut.
pub fn write_atomically<T>(
    target: &Path,
    write: impl FnOnce(&mut File) -> io::Result<T>,
) -> io::Result<T> {
    // The temp name is gone; the lock goes with the handle.
    replace_atomically(target, false, write).map(|(_file, value)| value)
}

/// Like [`write_atomically`], but the new file is opened for reading and appending
/// (`O_APPEND`: every later write through it goes to its end) and is handed back after the
/// rename and the folder sync, still open and still locked: the caller goes on using the file
/// now at `target` (the history's compaction keeps it as its locked handle) and unlocks it
/// when done. On an error before the rename the temp file is removed and `target` is as it
/// was; after the rename, a failed folder sync is not an error (the file is in place).
pub fn write_atomically_keep_open<T>(
    target: &Path,
    write: impl FnOnce(&mut File) -> io::Result<T>,
) -> io::Result<(File, T)> {
    replace_atomically(target, true, write)
}

/// The one atomic replace: a private temp file beside `target` (appending when `append`),
/// locked, filled by `write`, flushed and synced, renamed over `target`, the folder synced.
fn replace_atomically<T>(
    target: &Path,
    append: bool,
    write: impl FnOnce(&mut File) -> io::Result<T>,
) -> io::Result<(File, T)> {
    let temp = temp_path_for(target)?;
    let mut file = create_new_private_with(&temp, append)?;
    let result = fill_and_rename(&mut file, &temp, target, write);
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    let value = result?;
    // The rename has happened: the new file is in place whatever the folder sync says. A
    // failure here only means the rename may not survive a power cut; it must not make the
    // caller believe the old file is still there (a compaction would drop the new one).
    let _ = sync_dir(parent_dir(target));
    Ok((file, value))
}

fn fill_and_rename<T>(
    file: &mut File,
    temp: &Path,
    target: &Path,
    write: impl FnOnce(&mut File) -> io::Result<T>,
) -> io::Result<T> {
    match file.try_lock() {
        Ok(()) => {}
        // A file system without working locks (unsupported, ENOLCK on NFS): the age check of
        // the cleaner still protects the temp file.
        Err(fs::TryLockError::Error(_)) => {}
        Err(fs::TryLockError::WouldBlock) => {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "{}: another process locked our new temp file",
                    temp.display()
                ),
            ));
        }
    }
    // Best effort: where modes cannot be set (some mounted file systems), the new file stays
    // private (0600), the safe side.
    #[cfg(unix)]
    if let Ok(meta) = fs::metadata(target) {
        use std::os::unix::fs::PermissionsExt;
        if meta.is_file() {
            let mode = meta.permissions().mode() & 0o777;
            let _ = file.set_permissions(fs::Permissions::from_mode(mode));
        }
    }
    let value = write(file)?;
    io::Write::flush(file)?;
    file.sync_all()?;
    fs::rename(temp, target)?;
    Ok(value)
}

/// Syncs a folder, so that a rename in it survives a crash. A no-op where folders cannot be
/// opened or synced (Windows, some file systems).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let Ok(handle) = File::open(dir) else {
            return Ok(());
        };
        match handle.sync_all() {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
                ) => {}
            other => other?,
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes the temp files of ours for the target `file_name` in `dir` that a dead writer left
/// behind, and returns their paths. A file is removed only when its name follows our pattern
/// exactly, it is a regular file (a symlink is never followed nor removed), its modification
/// time is more than `older_than` ago, and its exclusive lock can be taken (no process is
/// writing it). Errors (an unreadable folder, a file that vanished) are skipped.
pub fn remove_stale_temps(
    dir: &Path,
    file_name: impl AsRef<OsStr>,
    older_than: Duration,
) -> Vec<PathBuf> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let file_name = file_name.as_ref();
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let now = SystemTime::now();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        if !is_temp_name_for(&entry.file_name(), file_name) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.file_type().is_file() {
            continue;
        }
        let old_enough = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > older_than);
        if !old_enough {
            continue;
        }
        let Ok(file) = open_no_follow(&path) else {
            continue;
        };
        // The name may have been replaced since it was looked at: only the same file counts.
        if !file.metadata().is_ok_and(|m| same_file(&m, &meta)) {
            continue;
        }
        if file.try_lock().is_err() {
            continue; // a live writer (or no locks here: then we cannot tell, so keep it)
        }
        // Windows cannot remove an open file; Unix removes it while we hold the lock.
        #[cfg(not(unix))]
        drop(file);
        if fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Open options that never block on a FIFO (Unix `O_NONBLOCK`; regular files ignore it),
/// create files private (0600), and, with `no_follow`, refuse a symbolic link as the last
/// path component (`O_NOFOLLOW`).
pub fn safe_options(no_follow: bool) -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = libc::O_NONBLOCK;
        if no_follow {
            flags |= libc::O_NOFOLLOW;
        }
        options.custom_flags(flags).mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = no_follow;
    options
}

/// Opens `path` for reading without following a symlink and without blocking on a FIFO.
pub fn open_no_follow(path: &Path) -> io::Result<File> {
    safe_options(true).read(true).open(path)
}

/// What a file that is not a regular one is, in words ("a folder", "a FIFO (named pipe)",
/// "a device", ...), or `None` for a regular file.
pub fn describe_non_regular(meta: &fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a folder");
    }
    if t.is_symlink() {
        return Some("a symbolic link");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.is_file() && a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    a.is_file() && a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

/// Creates `dir` and its missing parents; the folders created are private (0700 on Unix). A
/// folder that exists keeps its mode.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Gets `path` ready for a library that will write it with a plain `File::create` (eframe's
/// UI state): a missing file is created private (0600 on Unix) holding `initial`, in a private
/// folder; an existing regular file keeps its mode. A symbolic link there is an error (the
/// caller then does not write it: it is never written through, and a link the user made is
/// left alone), as is anything else that is not a regular file (a folder, a FIFO).
pub fn prepare_private_file(path: &Path, initial: &[u8]) -> io::Result<()> {
    create_private_dir_all(parent_dir(path))?;
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is a symbolic link; promptdesk does not write through links in its data folder",
                    path.display()
                ),
            ));
        }
        Ok(meta) if meta.is_file() => return Ok(()),
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", path.display()),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut file = create_new_private(path)?;
    io::Write::write_all(&mut file, initial)
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn a_prepared_file_is_private_and_a_link_there_is_refused_not_followed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("new-data");
        let state = data.join("ui-state");
        super::prepare_private_file(&state, b"{}").unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&data), mode(&state)), (0o700, 0o600));
        assert_eq!(std::fs::read(&state).unwrap(), b"{}");
        // A user's mode and content stay.
        std::fs::write(&state, "(x)").unwrap();
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o640)).unwrap();
        super::prepare_private_file(&state, b"{}").unwrap();
        assert_eq!(
            (mode(&state), std::fs::read(&state).unwrap()),
            (0o640, b"(x)".to_vec())
        );
        // A link there is refused (the caller then does not write it) and left alone.
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "precious").unwrap();
        std::fs::remove_file(&state).unwrap();
        std::os::unix::fs::symlink(&target, &state).unwrap();
        let err = super::prepare_private_file(&state, b"{}").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(
            std::fs::symlink_metadata(&state)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }

    use super::*;
    use std::io::Write;

    fn temps_in(dir: &Path) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(TEMP_MARK))
            })
            .collect();
        found.sort();
        found
    }

    /// A temp file for `target` (pattern-named) with the given age.
    fn temp_with_age(target: &Path, age: Duration) -> PathBuf {
        let path = temp_path_for(target).unwrap();
        let file = create_new_private(&path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
        path
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn temp_names_follow_the_pattern() {
        let t = temp_path_for(Path::new("dir/export.csv")).unwrap();
        assert_eq!(t.parent(), Some(Path::new("dir")));
        let name = t.file_name().unwrap();
        let text = name.to_str().unwrap();
        assert!(text.starts_with(".export.csv.promptdesk-"), "{text}");
        assert!(text.ends_with(".tmp"), "{text}");
        assert!(is_temp_name_for(name, OsStr::new("export.csv")));
        assert!(!is_temp_name_for(name, OsStr::new("export")));
        assert!(!is_temp_name_for(name, OsStr::new("export.cs")));
        let bare = temp_path_for(Path::new("history.jsonl")).unwrap();
        assert_eq!(bare.parent(), Some(Path::new(".")));
        assert!(is_temp_name_for(
            OsStr::new(".export.csv.promptdesk-0123.tmp"),
            OsStr::new("export.csv")
        ));
        for other in [
            ".export.csv.promptdesk-.tmp",
            ".export.csv.promptdesk-0123-4567.tmp",
            ".export.csv.promptdesk-../x.tmp",
            "export.csv.promptdesk-0123456789abcdef0123456789abcdef.tmp",
            ".export.csv.promptdesk-0123456789abcdef0123456789abcdef.tmp~",
            ".export.csv.tmp-1234",
        ] {
            assert!(
                !is_temp_name_for(OsStr::new(other), OsStr::new("export.csv")),
                "{other}"
            );
        }
        assert!(temp_path_for(Path::new("/")).is_err());
    }

    #[test]
    fn writes_replace_the_target_and_leave_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let n = write_atomically(&target, |f| f.write_all(b"one\n").map(|()| 1)).unwrap();
        assert_eq!(n, 1);
        assert_eq!(fs::read(&target).unwrap(), b"one\n");
        write_atomically(&target, |f| f.write_all(b"two\n")).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"two\n");
        assert!(temps_in(dir.path()).is_empty());
    }

    #[test]
    fn a_kept_file_is_the_renamed_one_locked_and_appending() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("history.jsonl");
        fs::write(&target, b"old\n").unwrap();
        let (mut file, n) = write_atomically_keep_open(&target, |f| {
            f.write_all(b"new\n")?;
            Ok(4)
        })
        .unwrap();
        assert_eq!(n, 4);
        assert!(temps_in(dir.path()).is_empty());
        // Still locked by us: another handle cannot take the lock.
        let other = File::open(&target).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(fs::TryLockError::WouldBlock)
        ));
        // Appending: a write lands at the end even after someone else appended.
        fs::OpenOptions::new()
            .append(true)
            .open(&target)
            .unwrap()
            .write_all(b"theirs\n")
            .unwrap();
        file.write_all(b"ours\n").unwrap();
        file.unlock().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new\ntheirs\nours\n");
        // A failed write leaves the target and no temp.
        let err = write_atomically_keep_open(&target, |f| {
            f.write_all(b"half")?;
            Err::<(), _>(io::Error::other("disk on fire"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk on fire"));
        assert_eq!(fs::read(&target).unwrap(), b"new\ntheirs\nours\n");
        assert!(temps_in(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_removes_the_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        fs::write(&target, b"old").unwrap();
        let err = write_atomically(&target, |f| {
            f.write_all(b"half")?;
            Err::<(), _>(io::Error::other("disk on fire"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk on fire"));
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert!(temps_in(dir.path()).is_empty());
        // A target that is a folder: the rename fails, the temp goes.
        let folder = dir.path().join("folder");
        fs::create_dir(&folder).unwrap();
        fs::write(folder.join("inside"), b"x").unwrap();
        assert!(write_atomically(&folder, |f| f.write_all(b"x")).is_err());
        assert!(temps_in(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_private_and_replaced_files_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("new.jsonl");
        write_atomically(&target, |f| f.write_all(b"x")).unwrap();
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let shared = dir.path().join("shared.jsonl");
        fs::write(&shared, b"old").unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomically(&shared, |f| f.write_all(b"new")).unwrap();
        let mode = fs::metadata(&shared).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_target_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"keep me").unwrap();
        let target = dir.path().join("out.txt");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_atomically(&target, |f| f.write_all(b"export")).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"keep me");
        assert!(fs::symlink_metadata(&target).unwrap().is_file());
        assert_eq!(fs::read(&target).unwrap(), b"export");
    }

    #[test]
    fn the_writer_holds_a_lock_the_cleaner_respects() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("history.jsonl");
        write_atomically(&target, |f| {
            f.write_all(b"data")?;
            // Even an old-looking live temp file is left alone.
            f.set_modified(SystemTime::now() - HOUR)?;
            let temps = temps_in(dir.path());
            assert_eq!(temps.len(), 1, "{temps:?}");
            let other = File::open(&temps[0])?;
            assert!(matches!(
                other.try_lock(),
                Err(fs::TryLockError::WouldBlock)
            ));
            assert!(remove_stale_temps(dir.path(), "history.jsonl", Duration::ZERO).is_empty());
            assert!(temps[0].exists());
            Ok(())
        })
        .unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"data");
        assert!(temps_in(dir.path()).is_empty());
    }

    #[test]
    fn a_fresh_temp_is_kept_and_an_old_unlocked_one_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("export.csv");
        let fresh = temp_with_age(&target, Duration::ZERO);
        let old = temp_with_age(&target, HOUR);
        // Someone else's files, and ours for another target, are never touched.
        let other_target = temp_with_age(&dir.path().join("other.csv"), HOUR);
        let lookalike = dir.path().join(".export.csv.tmp-1234");
        fs::write(&lookalike, b"x").unwrap();
        File::options()
            .write(true)
            .open(&lookalike)
            .unwrap()
            .set_modified(SystemTime::now() - HOUR)
            .unwrap();

        let removed = remove_stale_temps(dir.path(), "export.csv", STALE_TEMP_AGE);
        assert_eq!(removed, vec![old.clone()]);
        assert!(!old.exists());
        assert!(fresh.exists());
        assert!(other_target.exists());
        assert!(lookalike.exists());
    }

    #[test]
    fn a_locked_temp_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("export.csv");
        let old = temp_with_age(&target, HOUR);
        let holder = File::options().write(true).open(&old).unwrap();
        holder.lock().unwrap();
        assert!(remove_stale_temps(dir.path(), "export.csv", STALE_TEMP_AGE).is_empty());
        assert!(old.exists());
        drop(holder);
        assert_eq!(
            remove_stale_temps(dir.path(), "export.csv", STALE_TEMP_AGE),
            vec![old.clone()]
        );
        assert!(!old.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_named_like_a_temp_is_neither_followed_nor_removed() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let target = dir.path().join("export.csv");
        // The link points at an old regular file (itself named like a temp of ours).
        let victim = temp_with_age(&elsewhere.path().join("export.csv"), HOUR);
        let link = temp_path_for(&target).unwrap();
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        // And one at a folder holding the file.
        let dir_link = temp_path_for(&target).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), &dir_link).unwrap();

        let removed = remove_stale_temps(dir.path(), "export.csv", Duration::ZERO);
        assert!(removed.is_empty(), "{removed:?}");
        assert!(victim.exists());
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(fs::symlink_metadata(&dir_link).is_ok());
    }

    #[test]
    fn a_missing_folder_removes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(remove_stale_temps(&dir.path().join("nope"), "x", Duration::ZERO).is_empty());
    }
}
