//! File → Import pack files (and files dropped on the window): copying pack files into the
//! packs folder on a background task (`AppState` runs [`import_pack_files`] as a
//! [`super::tasks::Task`]), so the UI never waits for a slow disk.
//!
//! A source must be a pack file (one of [`crate::packs::PACK_EXTENSIONS`]) that is a regular
//! file, or a symbolic link to one, of at most [`MAX_PACK_FILE_BYTES`]. It is checked exactly
//! as the packs folder scan checks its files ([`open_pack_file`]): a FIFO, a device such as
//! `/dev/zero`, a folder, a link loop or a dangling link is refused with the same reason and
//! never opened (so the copy can neither block on a FIFO nor fill the disk). The copy is
//! created with `create_new`: an existing file, or a symbolic link, at the target is never
//! followed nor overwritten.

use crate::packs::{
    MAX_PACK_FILE_BYTES, PackError, PackErrorKind, escape_control, has_pack_extension,
    open_pack_file,
};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// What one import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Files copied.
    pub copied: usize,
    /// One line per file that was not copied, naming it and saying why.
    pub errors: Vec<String>,
}

/// The status-line text while `count` files are being copied: `Importing 1 pack file...`.
pub fn starting_message(count: usize) -> String {
    format!(
        "Importing {}...",
        super::widgets::plural(count, "pack file")
    )
}

impl ImportReport {
    /// The status-line text: `Imported 1 pack file.` (`N pack files`), then the errors.
    pub fn message(&self) -> String {
        let copied = super::widgets::plural(self.copied, "pack file");
        if self.errors.is_empty() {
            format!("Imported {copied}.")
        } else {
            format!("Imported {copied}; {}", self.errors.join("; "))
        }
    }
}

/// Copies each of `files` into `packs_dir` (created if missing), keeping its file name.
/// Blocks for the time of the copies (at most [`MAX_PACK_FILE_BYTES`] each), never on a FIFO
/// or a device; run it off the UI thread.
pub fn import_pack_files(packs_dir: &Path, files: &[PathBuf]) -> ImportReport {
    let mut report = ImportReport::default();
    if let Err(e) = fs::create_dir_all(packs_dir) {
        report.errors.push(format!(
            "cannot create the packs folder {}: {e}",
            packs_dir.display()
        ));
        return report;
    }
    for file in files {
        match import_one(packs_dir, file) {
            Ok(()) => report.copied += 1,
            Err(e) => report.errors.push(e),
        }
    }
    report
}

/// Copies one file; the error is one message naming the file.
fn import_one(packs_dir: &Path, file: &Path) -> Result<(), String> {
    // The Display of a PackError names the file with control characters escaped.
    let describe = |kind: PackErrorKind| PackError::in_file(file, None, kind).to_string();
    if !has_pack_extension(file) {
        return Err(describe(PackErrorKind::UnsupportedExtension));
    }
    let Some(name) = file.file_name() else {
        return Err(describe(PackErrorKind::UnsupportedExtension));
    };
    let target = packs_dir.join(name);
    let target_error =
        |e: String| PackError::in_file(&target, None, PackErrorKind::Io(e)).to_string();
    // Refused from the metadata (never opened) unless a regular file within the size limit.
    let (source, _) = open_pack_file(file).map_err(|e| e.to_string())?;
    // create_new: fails on anything at the target, a symbolic link included (not followed).
    let mut copy = match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
    {
        Ok(copy) => copy,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(format!(
                "{}: already in the packs folder",
                escape_control(&target.display().to_string())
            ));
        }
        Err(e) => return Err(target_error(e.to_string())),
    };
    // At most one byte over the limit, in case the source grew since it was checked.
    let result = io::copy(&mut source.take(MAX_PACK_FILE_BYTES + 1), &mut copy)
        .and_then(|n| copy.sync_all().map(|()| n));
    drop(copy);
    match result {
        Ok(n) if n <= MAX_PACK_FILE_BYTES => Ok(()),
        Ok(n) => {
            let _ = fs::remove_file(&target);
            Err(describe(PackErrorKind::TooLarge { size: n }))
        }
        Err(e) => {
            let _ = fs::remove_file(&target);
            Err(target_error(e.to_string()))
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Runs the import on a thread and fails (instead of hanging the test run) when it does
    /// not return within 20 s, as it would if it opened a FIFO or read /dev/zero.
    fn import_guarded(packs_dir: &Path, files: Vec<PathBuf>) -> ImportReport {
        let (tx, rx) = mpsc::channel();
        let dir = packs_dir.to_path_buf();
        std::thread::spawn(move || {
            let _ = tx.send(import_pack_files(&dir, &files));
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("the import hung on a hostile source")
    }

    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[test]
    fn hostile_sources_are_refused_with_their_reason_and_good_ones_copied() {
        let src = tempfile::tempdir().unwrap();
        let packs = tempfile::tempdir().unwrap();
        let s = src.path();
        fs::write(s.join("good.txt"), "a lighthouse at dawn\n").unwrap();
        symlink(s.join("good.txt"), s.join("linked.txt")).unwrap();
        mkfifo(&s.join("pipe.txt"));
        symlink("/dev/zero", s.join("zero.txt")).unwrap();
        symlink("/dev/urandom", s.join("random.json")).unwrap();
        symlink("loop.txt", s.join("loop.txt")).unwrap();
        symlink("absent.txt", s.join("dangling.txt")).unwrap();
        fs::create_dir(s.join("folder.txt")).unwrap();
        let big = fs::File::create(s.join("big.txt")).unwrap();
        big.set_len(MAX_PACK_FILE_BYTES + 1).unwrap();
        drop(big);

        let names = [
            "good.txt",
            "linked.txt",
            "pipe.txt",
            "zero.txt",
            "random.json",
            "loop.txt",
            "dangling.txt",
            "folder.txt",
            "big.txt",
        ];
        let mut files: Vec<PathBuf> = names.iter().map(|n| s.join(n)).collect();
        files.push(PathBuf::from("/dev/zero"));
        let report = import_guarded(packs.path(), files);

        assert_eq!(report.copied, 2, "{report:?}");
        for name in ["good.txt", "linked.txt"] {
            assert_eq!(
                fs::read_to_string(packs.path().join(name)).unwrap(),
                "a lighthouse at dawn\n"
            );
            assert!(
                !fs::symlink_metadata(packs.path().join(name))
                    .unwrap()
                    .file_type()
                    .is_symlink(),
                "the link's content is copied, not the link"
            );
        }
        let reason = |name: &str| -> &str {
            report
                .errors
                .iter()
                .find(|e| e.contains(&format!("/{name}:")))
                .unwrap_or_else(|| panic!("no error for {name}: {report:?}"))
        };
        assert!(reason("pipe.txt").ends_with("is a FIFO (named pipe), not a file"));
        assert!(reason("zero.txt").contains("points to a device (/dev/zero)"));
        assert!(reason("random.json").contains("points to a device (/dev/urandom)"));
        assert!(reason("loop.txt").ends_with("is a symbolic link loop"));
        assert!(
            reason("dangling.txt")
                .ends_with("is a dangling symbolic link (target absent.txt does not exist)")
        );
        assert!(reason("folder.txt").ends_with("is a folder, not a file"));
        assert!(reason("big.txt").contains("over the 16 MiB limit"));
        assert!(
            report
                .errors
                .iter()
                .any(|e| e == "/dev/zero: not a pack file (expected .json, .txt, .tsv or .csv)")
        );
        assert_eq!(report.errors.len(), 8, "{report:?}");
        // Nothing but the two good copies landed in the packs folder.
        let mut landed: Vec<String> = fs::read_dir(packs.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        landed.sort();
        assert_eq!(landed, ["good.txt", "linked.txt"]);
        assert!(
            report.message().starts_with("Imported 2 pack files; "),
            "{}",
            report.message()
        );
    }

    #[test]
    fn an_existing_target_or_a_link_at_the_target_is_never_overwritten() {
        let src = tempfile::tempdir().unwrap();
        let packs = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(src.path().join("a.txt"), "new a\n").unwrap();
        fs::write(src.path().join("b.txt"), "new b\n").unwrap();
        fs::write(packs.path().join("a.txt"), "old a\n").unwrap();
        // A link at the target pointing outside the packs folder: not followed.
        fs::write(outside.path().join("victim.txt"), "victim\n").unwrap();
        symlink(
            outside.path().join("victim.txt"),
            packs.path().join("b.txt"),
        )
        .unwrap();
        // And a dangling link at the target: not followed to create its target either.
        fs::write(src.path().join("c.txt"), "new c\n").unwrap();
        symlink(
            outside.path().join("created.txt"),
            packs.path().join("c.txt"),
        )
        .unwrap();

        let files = ["a.txt", "b.txt", "c.txt"].map(|n| src.path().join(n));
        let report = import_guarded(packs.path(), files.to_vec());
        assert_eq!(report.copied, 0, "{report:?}");
        assert_eq!(report.errors.len(), 3, "{report:?}");
        assert!(
            report
                .errors
                .iter()
                .all(|e| e.ends_with(": already in the packs folder"))
        );
        assert_eq!(
            fs::read_to_string(packs.path().join("a.txt")).unwrap(),
            "old a\n"
        );
        assert_eq!(
            fs::read_to_string(outside.path().join("victim.txt")).unwrap(),
            "victim\n"
        );
        assert!(!outside.path().join("created.txt").exists());
    }

    #[test]
    fn the_background_import_reports_on_a_later_poll() {
        let src = tempfile::tempdir().unwrap();
        let packs = tempfile::tempdir().unwrap();
        fs::write(src.path().join("p.tsv"), "a castle\tblurry\n").unwrap();
        let (dir, files) = (packs.path().to_path_buf(), vec![src.path().join("p.tsv")]);
        let import = crate::app::tasks::Task::spawn(
            "pack-import",
            &crate::app::tasks::Repaint::default(),
            move || import_pack_files(&dir, &files),
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let report = loop {
            if let Some(report) = import.poll() {
                break report.unwrap();
            }
            assert!(std::time::Instant::now() < deadline, "the import hung");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(
            report,
            ImportReport {
                copied: 1,
                errors: Vec::new()
            }
        );
        assert_eq!(report.message(), "Imported 1 pack file.");
        assert!(packs.path().join("p.tsv").is_file());
    }
}
