//! Bringing a folder of images into the history (`promptdesk import-images`, File → "Import
//! images folder…").
//!
//! Every PNG, JPEG and WebP file (by extension, any case; hidden files and folders, those
//! whose name starts with `.`, are left out; symbolic links to files are followed, to folders
//! not) becomes a **completed job** whose one image is the file itself, referenced where it
//! is (never copied): [`OutputImage::path`] is the file's absolute path, its `sha256` the
//! file's. The job's prompts and settings are the ones the file's metadata gives
//! ([`super::metadata`]); a setting it does not give is recorded as unknown
//! ([`RunConfig::set_unknown_settings`]), except the size, which the image itself gives. An
//! image without metadata is imported too, with an empty prompt and a `"no parameters"` entry
//! in `result.warnings`. The job is created at the file's modification time; its prompt source
//! is manual, unless the file's `promptdesk` chunk names a pack key (an image promptdesk made
//! whose job is not in this history). `result.backend` is `"import"` and
//! `result.backend_kind` the tool that made the image (`a1111`, `comfyui`, `invokeai`,
//! `swarmui`, empty when unknown); the payload's `imported_from` is `"image"`.
//!
//! **Idempotent by content.** A file whose SHA-256 is already an image of a job in the history
//! is not imported again, so a re-scan adds only new files, and a copy of a known image adds
//! nothing. A known image found at a new place, whose recorded file is gone (moved or
//! renamed), keeps its job: the job's image entry gets the new path ([`HistoryStore::update_if`]),
//! so ratings and thumbnails keyed by the hash stay with it. A file whose `promptdesk` chunk
//! names a job in the history is linked to that job (its image entry added) instead of
//! becoming a new job.
//!
//! **Fast re-scans.** Hashes are remembered per path, size and modification time in the data
//! folder ([`super::index`]); a file that did not change is not read again, so a re-scan of a
//! folder with nothing new costs a listing and a `stat` per file. New files are read and
//! hashed on all cores (rayon), 256 at a time; new jobs are written 1,000 at a time with one
//! [`HistoryStore::append_many`] (one lock, one sync) each.
//!
//! A file that cannot be read (damaged, not an image, too large, unreadable) is skipped and
//! listed with the reason in [`ImportImagesReport::unreadable`]; nothing stops the import but a
//! history error. A cancel (the flag set) stops between batches: what was found so far is
//! written and reported ([`ImportImagesReport::cancelled`]).
//!
//! **Where the history is.** [`import_images`] reads and writes the history only through an
//! [`ImportTarget`]: a [`HistoryStore`] of its own (the CLI), or the app's history writer, which
//! owns every change the window makes; the files are listed, read and hashed on the caller's
//! thread either way.

use super::index::HashIndex;
use super::metadata::{ImageMetadata, read_image_metadata};
use crate::history::{HistoryError, HistoryStore, IMPORTED_FROM_KEY};
use crate::job_record::{JOB_RECORD_SCHEMA_VERSION, JobRecord, JobStatus};
use crate::outputs::{JobResult, OutputImage, sha256_hex};
use crate::run_config::{GenerationSettings, PromptSource, RunConfig, RunMode, RunSource};
use crate::settings_override::SettingsOverride;
use crate::wording::plural;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

/// `run_config.prompt_payload.imported_from` of a job imported from an image.
pub const IMPORTED_FROM_IMAGE: &str = "image";
/// `result.backend` of a job imported from an image.
pub const IMPORT_BACKEND: &str = "import";
/// The `result.warnings` entry of an image imported without generation metadata.
pub const NO_PARAMETERS: &str = "no parameters";
/// Files larger than this are not read (reported unreadable).
pub const MAX_IMAGE_BYTES: u64 = 256 << 20;

/// Files read and hashed together (on all cores) between two progress reports and cancel
/// checks.
const CHUNK_FILES: usize = 256;
/// New jobs written with one `append_many`.
const BATCH_JOBS: usize = 1000;

/// True for a job [`import_images`] created.
pub fn is_image_import(record: &JobRecord) -> bool {
    record
        .run_config
        .prompt_payload
        .get(IMPORTED_FROM_KEY)
        .and_then(Value::as_str)
        == Some(IMPORTED_FROM_IMAGE)
}

/// An image the history holds: its SHA-256, the job holding it and the path it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownImage {
    pub sha256: String,
    pub job_id: String,
    pub path: String,
}

/// What [`import_images`] reads and writes the history through: a [`HistoryStore`] (the CLI,
/// the tests), or a handle that forwards each call to the one thread that owns the history's
/// changes (the app's history writer). Listing, reading, hashing and parsing the files happen
/// in [`import_images`] itself, on the caller's thread; only these few calls reach the
/// history, so a writer thread is busy with an import only for the moments they take.
pub trait ImportTarget {
    /// The history file (its folder holds the hash index and is where relative image paths
    /// are).
    fn history_path(&self) -> PathBuf;
    /// Every image the history holds, after reading other processes' changes; an image held
    /// by several jobs is listed for each, in the history's order (the first one counts).
    fn known_images(&mut self) -> Result<Vec<KnownImage>, HistoryError>;
    /// Writes new jobs with one locked write ([`HistoryStore::append_many`]).
    fn append_jobs(&mut self, records: Vec<JobRecord>) -> Result<(), HistoryError>;
    /// The file of image `sha256` of job `job_id`, recorded at `old_path`, is now at
    /// `new_path`: its entry gets the new path. `Ok(false)` when the job is gone or no longer
    /// records the image there (changed meanwhile): nothing written.
    fn move_image(
        &mut self,
        job_id: &str,
        sha256: &str,
        old_path: &str,
        new_path: &str,
    ) -> Result<bool, HistoryError>;
    /// Adds `image` to the images of job `job_id`. `Ok(false)` when the history has no such
    /// job: nothing written.
    fn add_image(&mut self, job_id: &str, image: &OutputImage) -> Result<bool, HistoryError>;
}

impl ImportTarget for HistoryStore {
    fn history_path(&self) -> PathBuf {
        self.path().to_path_buf()
    }

    fn known_images(&mut self) -> Result<Vec<KnownImage>, HistoryError> {
        self.reload()?;
        Ok(known_images_of(self.records()))
    }

    fn append_jobs(&mut self, records: Vec<JobRecord>) -> Result<(), HistoryError> {
        self.append_many(&records)
    }

    fn move_image(
        &mut self,
        job_id: &str,
        sha256: &str,
        old_path: &str,
        new_path: &str,
    ) -> Result<bool, HistoryError> {
        let written = self.update_if(
            job_id,
            |r| {
                r.result.as_ref().is_some_and(|res| {
                    res.images
                        .iter()
                        .any(|i| i.sha256 == sha256 && i.path == old_path)
                })
            },
            |r| {
                let mut new = r.clone();
                if let Some(res) = new.result.as_mut() {
                    for image in res.images.iter_mut().filter(|i| i.sha256 == sha256) {
                        if image.path == old_path {
                            new_path.clone_into(&mut image.path);
                        }
                    }
                }
                new
            },
        );
        match written {
            Ok(written) => Ok(written.is_some()),
            Err(HistoryError::UnknownJob { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn add_image(&mut self, job_id: &str, image: &OutputImage) -> Result<bool, HistoryError> {
        if self.get(job_id).is_none() {
            return Ok(false);
        }
        let written = self.update_if(
            job_id,
            |_| true,
            |r| {
                let mut new = r.clone();
                new.result
                    .get_or_insert_with(|| JobResult {
                        backend: IMPORT_BACKEND.to_owned(),
                        ..JobResult::default()
                    })
                    .images
                    .push(image.clone());
                new
            },
        );
        match written {
            Ok(_) => Ok(true),
            Err(HistoryError::UnknownJob { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Every image of `records` with a SHA-256 ([`ImportTarget::known_images`]).
pub fn known_images_of(records: &[JobRecord]) -> Vec<KnownImage> {
    records
        .iter()
        .flat_map(|r| {
            r.result
                .iter()
                .flat_map(|res| &res.images)
                .filter(|image| !image.sha256.is_empty())
                .map(|image| KnownImage {
                    sha256: image.sha256.clone(),
                    job_id: r.job_id.clone(),
                    path: image.path.clone(),
                })
        })
        .collect()
}

/// How to import.
#[derive(Debug, Clone, Copy)]
pub struct ImportImagesOptions {
    /// Also the images in the folder's subfolders (at any depth).
    pub recursive: bool,
    /// The face of the program that imports (the new jobs' `source`).
    pub source: RunSource,
}

impl Default for ImportImagesOptions {
    fn default() -> Self {
        ImportImagesOptions {
            recursive: false,
            source: RunSource::Gui,
        }
    }
}

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportImagesPhase {
    /// Listing the folder: `found` files so far.
    Scanning,
    /// Reading the files: `done` of `total`.
    Importing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportImagesProgress {
    pub phase: ImportImagesPhase,
    /// Image files found so far.
    pub found: usize,
    /// Files dealt with.
    pub done: usize,
    /// Files to deal with (known once the listing is done).
    pub total: usize,
}

/// What an import found and did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportImagesReport {
    /// PNG, JPEG and WebP files found (by extension).
    pub scanned: usize,
    /// New jobs created (one per image).
    pub imported: usize,
    /// Files the history already had (same SHA-256), nothing to do.
    pub already_known: usize,
    /// Files that belong to a job already in the history and were linked to it: the file of
    /// a known image at a new place (its old one gone: the path was updated), or an image
    /// whose `promptdesk` chunk names a job of the history (added to that job).
    pub linked: usize,
    /// Of the imported: images without generation metadata.
    pub no_parameters: usize,
    /// Of the imported: per tool (`a1111`, `comfyui`, `invokeai`, `swarmui`).
    pub by_source: BTreeMap<&'static str, usize>,
    /// Files (or folders) that could not be read, with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Files read and hashed (the others were known from the hash index).
    pub hashed: usize,
    /// True when the import was cancelled before the end (what it found so far is written).
    pub cancelled: bool,
    /// Things that did not stop the import (the hash index could not be saved).
    pub warnings: Vec<String>,
}

impl ImportImagesReport {
    /// The counts in one sentence, as the CLI and the app say them.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!(
            "{} found: {} imported, {} already in the history",
            plural(self.scanned, "image"),
            self.imported,
            self.already_known
        )];
        if self.linked > 0 {
            parts.push(format!("{} linked to their jobs", self.linked));
        }
        if self.no_parameters > 0 {
            parts.push(format!(
                "{} imported without parameters",
                self.no_parameters
            ));
        }
        if !self.unreadable.is_empty() {
            parts.push(format!("{} unreadable", self.unreadable.len()));
        }
        if self.cancelled {
            parts.push("cancelled before the end".to_owned());
        }
        parts.join("; ")
    }
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportImagesError {
    #[error("{path}: no such folder", path = .path.display())]
    NotFound { path: PathBuf },
    #[error("{path} is not a folder", path = .path.display())]
    NotAFolder { path: PathBuf },
    #[error("{path}: the folder cannot be read: {source}", path = .path.display())]
    Unreadable { path: PathBuf, source: io::Error },
    /// Writing the history failed (what was written before stays).
    #[error(transparent)]
    History(#[from] HistoryError),
}

impl ImportImagesError {
    /// True when the folder given is at fault (the CLI's exit 2).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ImportImagesError::History(_))
    }
}

/// An image file found by the listing.
struct Found {
    path: PathBuf,
    /// The path as text (what the history records).
    text: String,
    size: u64,
    mtime_ns: i128,
    mtime: DateTime<Utc>,
}

/// A known image: the job holding it and the path it records.
struct Known {
    job_id: String,
    path: String,
}

/// What reading a file gave.
enum Examined {
    /// Its hash (from the index, or read and hashed) is the history's already.
    Known {
        sha: String,
        hashed: bool,
    },
    /// Read and hashed; its metadata (or why it is not an image).
    New {
        sha: String,
        meta: Result<Box<ImageMetadata>, String>,
    },
    Failed(String),
}

/// Imports the images in `dir` into `store`; see the [module docs](self). `progress` is called
/// during the listing and after every 256 files; setting `cancel` stops the import between
/// them.
pub fn import_images(
    store: &mut dyn ImportTarget,
    dir: &Path,
    options: &ImportImagesOptions,
    progress: &mut dyn FnMut(&ImportImagesProgress),
    cancel: &AtomicBool,
) -> Result<ImportImagesReport, ImportImagesError> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(ImportImagesError::NotAFolder {
                path: dir.to_path_buf(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ImportImagesError::NotFound {
                path: dir.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(ImportImagesError::Unreadable {
                path: dir.to_path_buf(),
                source,
            });
        }
    }
    let root = fs::canonicalize(dir).map_err(|source| ImportImagesError::Unreadable {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut report = ImportImagesReport::default();
    let files = list(&root, options.recursive, cancel, progress, &mut report)?;
    report.scanned = files.len();

    // Catch up with other processes, then what the history holds, once.
    let held = store.known_images()?;
    let history_path = store.history_path();
    let data_dir = crate::fsutil::parent_dir(&history_path).to_path_buf();
    let data_dir = fs::canonicalize(&data_dir).unwrap_or(data_dir);
    let mut known: HashMap<String, Known> = HashMap::with_capacity(held.len() + files.len());
    for image in held {
        known.entry(image.sha256).or_insert(Known {
            job_id: image.job_id,
            path: image.path,
        });
    }
    let mut index = HashIndex::load(&data_dir);
    let mut run = Run {
        store,
        data_dir: &data_dir,
        options,
        known,
        pending: Vec::new(),
        report,
    };
    let result = run.all(&files, &mut index, progress, cancel);
    let mut report = run.report;
    if result.is_ok() && !report.cancelled {
        let seen: HashSet<&str> = files.iter().map(|f| f.text.as_str()).collect();
        let recursive = options.recursive;
        index.forget_unseen(
            |p| {
                if recursive {
                    p.starts_with(&root)
                } else {
                    p.parent() == Some(root.as_path())
                }
            },
            &seen,
        );
    }
    // Saved whatever happened: the hashes are right even when the history write failed.
    if let Err(e) = index.save() {
        report.warnings.push(format!(
            "the image hash index in {} could not be saved ({e}); the next scan reads every file again",
            data_dir.display()
        ));
    }
    result?;
    Ok(report)
}

/// The image files under `root` (sorted by path), listing errors into `report`.
fn list(
    root: &Path,
    recursive: bool,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&ImportImagesProgress),
    report: &mut ImportImagesReport,
) -> Result<Vec<Found>, ImportImagesError> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        if cancel.load(Ordering::Relaxed) {
            report.cancelled = true;
            break;
        }
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(source) if dir == root => {
                return Err(ImportImagesError::Unreadable { path: dir, source });
            }
            Err(e) => {
                report
                    .unreadable
                    .push((dir, format!("the folder cannot be read: {e}")));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    report
                        .unreadable
                        .push((dir.clone(), format!("the folder cannot be listed: {e}")));
                    break;
                }
            };
            let name = entry.file_name();
            if name.as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if recursive {
                    dirs.push(path);
                }
                continue;
            }
            if !has_image_extension(&name) {
                continue;
            }
            // A link to a file is followed; to a folder, not (no cycles).
            let meta = match fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) => {
                    report
                        .unreadable
                        .push((path, format!("cannot be read: {e}")));
                    continue;
                }
            };
            if meta.is_dir() {
                continue;
            }
            if let Some(what) = crate::fsutil::describe_non_regular(&meta) {
                report
                    .unreadable
                    .push((path, format!("{what}, not a file")));
                continue;
            }
            let Some(text) = path.to_str().map(str::to_owned) else {
                report.unreadable.push((
                    path,
                    "its path is not valid Unicode, which the history cannot record".to_owned(),
                ));
                continue;
            };
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            found.push(Found {
                path,
                text,
                size: meta.len(),
                mtime_ns: nanos_since_epoch(modified),
                mtime: DateTime::<Utc>::from(modified),
            });
            if found.len().is_multiple_of(1000) {
                progress(&ImportImagesProgress {
                    phase: ImportImagesPhase::Scanning,
                    found: found.len(),
                    done: 0,
                    total: 0,
                });
            }
        }
    }
    found.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

fn nanos_since_epoch(t: SystemTime) -> i128 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

fn has_image_extension(name: &std::ffi::OsStr) -> bool {
    let name = name.as_encoded_bytes();
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let ext = &name[dot + 1..];
    ["png", "jpg", "jpeg", "webp"]
        .iter()
        .any(|e| ext.eq_ignore_ascii_case(e.as_bytes()))
}

/// Reads a whole regular file, at most [`MAX_IMAGE_BYTES`], never blocking on a FIFO swapped in
/// after the listing.
fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| format!("cannot be opened: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if let Some(what) = crate::fsutil::describe_non_regular(&meta) {
        return Err(format!("{what}, not a file"));
    }
    if meta.len() > MAX_IMAGE_BYTES {
        return Err(format!(
            "too large ({} MB; images over {} MB are not read)",
            meta.len() >> 20,
            MAX_IMAGE_BYTES >> 20
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_IMAGE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        return Err(format!(
            "too large (images over {} MB are not read)",
            MAX_IMAGE_BYTES >> 20
        ));
    }
    Ok(bytes)
}

fn examine(f: &Found, index: &HashIndex, known: &HashMap<String, Known>) -> Examined {
    if let Some(sha) = index.lookup(&f.text, f.size, f.mtime_ns)
        && known.contains_key(sha)
    {
        return Examined::Known {
            sha: sha.to_owned(),
            hashed: false,
        };
    }
    let bytes = match read_file(&f.path) {
        Ok(bytes) => bytes,
        Err(reason) => return Examined::Failed(reason),
    };
    let sha = sha256_hex(&bytes);
    if known.contains_key(&sha) {
        return Examined::Known { sha, hashed: true };
    }
    let meta = read_image_metadata(&bytes)
        .map(Box::new)
        .map_err(|e| e.to_string());
    Examined::New { sha, meta }
}

/// One import under way.
struct Run<'a> {
    store: &'a mut dyn ImportTarget,
    data_dir: &'a Path,
    options: &'a ImportImagesOptions,
    /// Every image the history holds (and this import added), by SHA-256.
    known: HashMap<String, Known>,
    /// New jobs not written yet.
    pending: Vec<JobRecord>,
    report: ImportImagesReport,
}

impl Run<'_> {
    fn all(
        &mut self,
        files: &[Found],
        index: &mut HashIndex,
        progress: &mut dyn FnMut(&ImportImagesProgress),
        cancel: &AtomicBool,
    ) -> Result<(), ImportImagesError> {
        let total = files.len();
        let mut done = 0;
        progress(&ImportImagesProgress {
            phase: ImportImagesPhase::Importing,
            found: total,
            done,
            total,
        });
        for chunk in files.chunks(CHUNK_FILES) {
            if self.report.cancelled || cancel.load(Ordering::Relaxed) {
                self.report.cancelled = true;
                break;
            }
            let examined: Vec<Examined> = {
                let (index, known) = (&*index, &self.known);
                chunk.par_iter().map(|f| examine(f, index, known)).collect()
            };
            for (f, examined) in chunk.iter().zip(examined) {
                match examined {
                    Examined::Failed(reason) => {
                        self.report.unreadable.push((f.path.clone(), reason));
                    }
                    Examined::Known { sha, hashed } => {
                        self.report.hashed += usize::from(hashed);
                        index.record(&f.text, f.size, f.mtime_ns, &sha);
                        self.known_again(f, &sha)?;
                    }
                    Examined::New { sha, meta } => {
                        self.report.hashed += 1;
                        index.record(&f.text, f.size, f.mtime_ns, &sha);
                        match meta {
                            Err(reason) => self.report.unreadable.push((f.path.clone(), reason)),
                            // A copy met earlier in this same import.
                            Ok(_) if self.known.contains_key(&sha) => self.known_again(f, &sha)?,
                            Ok(meta) => self.new_image(f, sha, &meta)?,
                        }
                    }
                }
            }
            if self.pending.len() >= BATCH_JOBS {
                self.flush()?;
            }
            done += chunk.len();
            progress(&ImportImagesProgress {
                phase: ImportImagesPhase::Importing,
                found: total,
                done,
                total,
            });
        }
        self.flush()
    }

    fn flush(&mut self) -> Result<(), ImportImagesError> {
        if !self.pending.is_empty() {
            self.store.append_jobs(std::mem::take(&mut self.pending))?;
        }
        Ok(())
    }

    /// The path a recorded image path stands for (relative ones are in the data folder).
    fn resolve(&self, recorded: &str) -> PathBuf {
        self.data_dir.join(recorded)
    }

    /// A file whose content the history has: nothing to do, unless the recorded file is gone
    /// (the file moved here): then its job's entry gets this path.
    fn known_again(&mut self, f: &Found, sha: &str) -> Result<(), ImportImagesError> {
        let Some(entry) = self.known.get(sha) else {
            return Ok(());
        };
        let recorded = self.resolve(&entry.path);
        if recorded == f.path || fs::symlink_metadata(&recorded).is_ok() {
            // The same file, or a copy of one the history has.
            self.report.already_known += 1;
            return Ok(());
        }
        // Still in this import's unwritten batch: that file was here a moment ago.
        if self.pending.iter().any(|r| r.job_id == entry.job_id) {
            self.report.already_known += 1;
            return Ok(());
        }
        let (job_id, old_path) = (entry.job_id.clone(), entry.path.clone());
        let new_path = f.text.clone();
        if self.store.move_image(&job_id, sha, &old_path, &new_path)? {
            self.report.linked += 1;
            if let Some(entry) = self.known.get_mut(sha) {
                entry.path = new_path;
            }
        } else {
            // Changed by someone else meanwhile, or deleted: leave it.
            self.report.already_known += 1;
        }
        Ok(())
    }

    /// A file the history does not have: linked to its job when its `promptdesk` chunk names
    /// one of the history, else a new job.
    fn new_image(
        &mut self,
        f: &Found,
        sha: String,
        meta: &ImageMetadata,
    ) -> Result<(), ImportImagesError> {
        if let Some(link) = &meta.link {
            let image = OutputImage {
                path: f.text.clone(),
                seed: link
                    .seed
                    .or_else(|| meta.generation.as_ref().and_then(|g| g.settings.seed))
                    .unwrap_or(-1),
                width: meta.width,
                height: meta.height,
                sha256: sha.clone(),
                key: link.key.clone(),
                variant: link.variant,
                rating: None,
                favorite: false,
            };
            // Not in the history (or deleted by another process meanwhile): imported as a
            // job of its own.
            if self.store.add_image(&link.job_id, &image)? {
                self.report.linked += 1;
                self.known.insert(
                    sha,
                    Known {
                        job_id: link.job_id.clone(),
                        path: f.text.clone(),
                    },
                );
                return Ok(());
            }
        }
        let record = job_for_image(f, &sha, meta, self.options.source);
        self.report.imported += 1;
        match &meta.generation {
            Some(g) => *self.report.by_source.entry(g.source.as_str()).or_default() += 1,
            None => self.report.no_parameters += 1,
        }
        self.known.insert(
            sha,
            Known {
                job_id: record.job_id.clone(),
                path: f.text.clone(),
            },
        );
        self.pending.push(record);
        Ok(())
    }
}

/// The [`GenerationSettings`] fields `known` does not name.
fn unknown_setting_names(known: &SettingsOverride) -> Vec<String> {
    let SettingsOverride {
        model,
        sampler,
        scheduler,
        steps,
        cfg_scale,
        width,
        height,
        seed,
        batch_size,
        batch_count,
        clip_skip,
    } = known;
    [
        ("model", model.is_some()),
        ("sampler", sampler.is_some()),
        ("scheduler", scheduler.is_some()),
        ("steps", steps.is_some()),
        ("cfg_scale", cfg_scale.is_some()),
        ("width", width.is_some()),
        ("height", height.is_some()),
        ("seed", seed.is_some()),
        ("batch_size", batch_size.is_some()),
        ("batch_count", batch_count.is_some()),
        ("clip_skip", clip_skip.is_some()),
    ]
    .into_iter()
    .filter(|(_, named)| !named)
    .map(|(name, _)| name.to_owned())
    .collect()
}

/// The completed job an image becomes.
fn job_for_image(f: &Found, sha: &str, meta: &ImageMetadata, source: RunSource) -> JobRecord {
    let generation = meta.generation.as_ref();
    let mut known = generation.map(|g| g.settings.clone()).unwrap_or_default();
    // The image's own size stands in for a size the metadata does not give.
    if meta.width > 0 && meta.height > 0 && known.width.is_none() && known.height.is_none() {
        known.width = Some(meta.width);
        known.height = Some(meta.height);
    }
    let mut settings = GenerationSettings::default();
    known.apply_to(&mut settings);
    let (prompt, negative) = generation.map_or((String::new(), String::new()), |g| {
        (g.prompt.clone(), g.negative_prompt.clone())
    });
    let pair = || {
        let mut m = Map::new();
        m.insert("prompt".to_owned(), Value::String(prompt.clone()));
        m.insert(
            "negative_prompt".to_owned(),
            Value::String(negative.clone()),
        );
        m
    };
    let mut payload = Map::new();
    // An image promptdesk made whose job is not in this history: its pack key (and pack, if
    // the chunk names it) is its origin.
    let pack_link = meta.link.as_ref().filter(|l| !l.key.is_empty());
    let (prompt_source, pack_id, keys, key, variant) = match pack_link {
        Some(link) => {
            if let Some(id) = &link.pack_id {
                payload.insert("pack_id".to_owned(), Value::String(id.clone()));
            }
            let mut prompts = Map::new();
            prompts.insert(link.key.clone(), Value::Object(pair()));
            payload.insert("prompts".to_owned(), Value::Object(prompts));
            (
                PromptSource::Pack,
                link.pack_id.clone(),
                vec![link.key.clone()],
                link.key.clone(),
                link.variant,
            )
        }
        None => {
            payload.extend(pair());
            (
                PromptSource::Manual,
                None,
                Vec::new(),
                String::new(),
                meta.link.as_ref().map_or(1, |l| l.variant),
            )
        }
    };
    payload.insert(
        IMPORTED_FROM_KEY.to_owned(),
        Value::String(IMPORTED_FROM_IMAGE.to_owned()),
    );
    let mut run_config = RunConfig {
        prompt_source,
        prompt_pack_id: pack_id.clone(),
        prompt_keys: keys.clone(),
        prompt_payload: payload,
        run_mode: RunMode::Direct,
        source,
        settings,
    };
    run_config.set_unknown_settings(&unknown_setting_names(&known));
    let seed = known
        .seed
        .or_else(|| meta.link.as_ref().and_then(|l| l.seed));
    crate::history::set_seed_used(&mut run_config, seed);
    let mut warnings = Vec::new();
    if generation.is_none() {
        warnings.push(NO_PARAMETERS.to_owned());
    }
    warnings.extend(meta.problems.iter().cloned());
    let result = JobResult {
        backend: IMPORT_BACKEND.to_owned(),
        backend_kind: generation
            .map(|g| g.source.as_str().to_owned())
            .unwrap_or_default(),
        backend_url: String::new(),
        model_name: known.model.clone(),
        model_hash: generation.and_then(|g| g.model_hash.clone()),
        images: vec![OutputImage {
            path: f.text.clone(),
            seed: seed.unwrap_or(-1),
            width: meta.width,
            height: meta.height,
            sha256: sha.to_owned(),
            key,
            variant,
            rating: None,
            favorite: false,
        }],
        warnings,
    };
    JobRecord {
        schema_version: JOB_RECORD_SCHEMA_VERSION,
        job_id: HistoryStore::new_job_id(),
        created_at: f.mtime,
        status: JobStatus::Completed,
        prompt_source,
        prompt_pack_id: pack_id,
        prompt_keys: keys,
        prompt_styles: Vec::new(),
        run_mode: RunMode::Direct,
        source,
        config_hash: run_config.config_hash(),
        run_config,
        started_at: None,
        completed_at: Some(f.mtime),
        duration_ms: None,
        error_message: None,
        backend: None,
        runner: None,
        queue_order: None,
        result: Some(result),
        unknown: Default::default(),
    }
}
