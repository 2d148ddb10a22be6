//! Which runners are alive: each running runner holds an exclusive lock on its own file,
//! `runners/<id>.lock` in the data folder, for as long as it lives. The operating system drops
//! the lock when the process ends, however it ends (crash, SIGKILL, power off), so a lock
//! nobody holds means the runner that wrote `runner: <id>` on a job is gone.

use crate::fsutil;
use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// The folder of runner lock files inside the data folder.
pub const RUNNERS_DIR_NAME: &str = "runners";

fn lock_path(data_dir: &Path, id: &str) -> Option<PathBuf> {
    let safe = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    safe.then(|| data_dir.join(RUNNERS_DIR_NAME).join(format!("{id}.lock")))
}

/// This process's runner: its id and its held lock (released and removed on drop).
#[derive(Debug)]
pub struct RunnerLock {
    id: String,
    path: PathBuf,
    file: File,
}

impl RunnerLock {
    pub fn acquire(data_dir: &Path) -> io::Result<RunnerLock> {
        let id = uuid::Uuid::now_v7().to_string();
        let path = lock_path(data_dir, &id).expect("a uuid is a safe name");
        fsutil::create_private_dir_all(fsutil::parent_dir(&path))?;
        let file = fsutil::create_new_private(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {}
            Err(TryLockError::Error(e)) => return Err(e),
            Err(TryLockError::WouldBlock) => {
                return Err(io::Error::other("a new runner lock file is locked already"));
            }
        }
        Ok(RunnerLock { id, path, file })
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for RunnerLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// True while the runner `id` is alive (its lock is held). A runner whose lock file is gone,
/// or not held, is dead. Where locks are not supported, every runner counts as alive (a job
/// is never failed on a guess).
pub fn is_alive(data_dir: &Path, id: &str) -> bool {
    let Some(path) = lock_path(data_dir, id) else {
        return false;
    };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return false,
        Err(_) => return true,
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => true,
    }
}

/// Removes a dead runner's lock file.
pub fn forget(data_dir: &Path, id: &str) {
    if let Some(path) = lock_path(data_dir, id)
        && !is_alive(data_dir, id)
    {
        let _ = fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_alive_and_a_dropped_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let lock = RunnerLock::acquire(dir.path()).unwrap();
        let id = lock.id().to_owned();
        assert!(is_alive(dir.path(), &id));
        drop(lock);
        assert!(!is_alive(dir.path(), &id));
        assert!(!is_alive(dir.path(), "../../etc/passwd"));
        assert!(!is_alive(dir.path(), "never-existed"));
    }
}
