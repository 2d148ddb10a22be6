//! Work that runs off the UI thread: scanning the packs folder, opening the history, and
//! filtering/sorting a large history. Each task hands its result back through a channel; the
//! UI polls once per frame and never waits.

use crate::history::{
    HistoryFilter, HistoryStore, LoadProgress, SearchIndex, SortColumn, query_indices,
    query_indices_indexed,
};
use crate::packs::{DiscoveredPacks, discover_packs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

/// A cheap fingerprint of a folder: names, sizes and modification times of its entries.
fn folder_fingerprint(dir: &Path) -> Vec<(std::ffi::OsString, u64, Option<SystemTime>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let meta = e.metadata().ok();
                    (
                        e.file_name(),
                        meta.as_ref().map_or(0, |m| m.len()),
                        meta.and_then(|m| m.modified().ok()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

type Fingerprint = Vec<(std::ffi::OsString, u64, Option<SystemTime>)>;

/// Scans the packs folder in the background, and again when its files change.
pub struct PackScan {
    dir: PathBuf,
    rx: Option<Receiver<(DiscoveredPacks, Fingerprint)>>,
    fingerprint: Option<Fingerprint>,
    check: Option<Receiver<Fingerprint>>,
}

impl PackScan {
    /// Starts scanning `dir`.
    pub fn start(dir: PathBuf) -> PackScan {
        let mut scan = PackScan {
            dir: dir.clone(),
            rx: None,
            fingerprint: None,
            check: None,
        };
        scan.restart(dir);
        scan
    }

    /// Scans `dir` afresh (a newer scan replaces a running one).
    pub fn restart(&mut self, dir: PathBuf) {
        self.dir = dir.clone();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let fingerprint = folder_fingerprint(&dir);
            let _ = tx.send((discover_packs(&dir), fingerprint));
        });
        self.rx = Some(rx);
        self.check = None;
    }

    pub fn is_running(&self) -> bool {
        self.rx.is_some()
    }

    /// The finished scan, once.
    pub fn take_result(&mut self) -> Option<DiscoveredPacks> {
        if let Some(rx) = &self.check {
            match rx.try_recv() {
                Ok(now) => {
                    self.check = None;
                    if self.fingerprint.as_ref() != Some(&now) {
                        self.restart(self.dir.clone());
                    }
                }
                Err(TryRecvError::Disconnected) => self.check = None,
                Err(TryRecvError::Empty) => {}
            }
        }
        let rx = self.rx.as_ref()?;
        match rx.try_recv() {
            Ok((found, fingerprint)) => {
                self.rx = None;
                self.fingerprint = Some(fingerprint);
                Some(found)
            }
            Err(TryRecvError::Disconnected) => {
                self.rx = None;
                None
            }
            Err(TryRecvError::Empty) => None,
        }
    }

    /// Checks (in the background) whether the folder changed; rescans when it did.
    pub fn refresh_if_changed(&mut self) {
        if self.rx.is_some() || self.check.is_some() {
            return;
        }
        let dir = self.dir.clone();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let _ = tx.send(folder_fingerprint(&dir));
        });
        self.check = Some(rx);
    }
}

/// What the history loader reports.
pub enum LoadEvent {
    /// The first part of the file is in: rows can be shown while the rest streams in.
    Opened(Arc<RwLock<HistoryStore>>),
    /// Everything is read.
    Done,
    /// Opening or reading failed.
    Failed(String),
}

/// How long a write from the window waits for another process's history lock.
pub const GUI_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(750);

/// Bytes read before the window first shows rows.
const FIRST_BYTES: u64 = 4 * 1024 * 1024;
/// Bytes read per step afterwards; the store is write-locked only for one step at a time (a
/// few milliseconds), so the UI never waits long for it.
const STEP_BYTES: u64 = 2 * 1024 * 1024;

/// Opens the history in the background and streams the rest of the file in, with progress.
pub struct HistoryLoad {
    pub bytes_done: Arc<AtomicU64>,
    pub bytes_total: Arc<AtomicU64>,
    pub records: Arc<AtomicUsize>,
    rx: Receiver<LoadEvent>,
}

impl HistoryLoad {
    pub fn start(path: PathBuf) -> HistoryLoad {
        let bytes_done = Arc::new(AtomicU64::new(0));
        let bytes_total = Arc::new(AtomicU64::new(0));
        let records = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel();
        let (d, t, r) = (bytes_done.clone(), bytes_total.clone(), records.clone());
        std::thread::spawn(move || {
            let report = |p: LoadProgress| {
                d.store(p.bytes_done, Ordering::Relaxed);
                t.store(p.bytes_total, Ordering::Relaxed);
                r.store(p.records, Ordering::Relaxed);
            };
            let store = match HistoryStore::open_partial(&path, FIRST_BYTES) {
                Ok(mut store) => {
                    // The window never waits long for another process: a write that finds the
                    // history busy fails fast and is retried on its own (see AppState).
                    store.set_lock_timeout(GUI_LOCK_TIMEOUT);
                    store
                }
                Err(e) => {
                    let _ = tx.send(LoadEvent::Failed(e.to_string()));
                    return;
                }
            };
            report(store.load_progress());
            let store = Arc::new(RwLock::new(store));
            if tx.send(LoadEvent::Opened(store.clone())).is_err() {
                return;
            }
            loop {
                let step = match store.write() {
                    Ok(mut s) => s
                        .load_more(STEP_BYTES)
                        .map(|done| (done, s.load_progress())),
                    Err(_) => return,
                };
                match step {
                    Ok((done, progress)) => {
                        report(progress);
                        if done {
                            let _ = tx.send(LoadEvent::Done);
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(LoadEvent::Failed(e.to_string()));
                        return;
                    }
                }
            }
        });
        HistoryLoad {
            bytes_done,
            bytes_total,
            records,
            rx,
        }
    }

    /// Fraction of the file read so far.
    pub fn fraction(&self) -> f32 {
        let total = self.bytes_total.load(Ordering::Relaxed);
        if total == 0 {
            0.0
        } else {
            self.bytes_done.load(Ordering::Relaxed) as f32 / total as f32
        }
    }

    /// The next event, if any.
    pub fn next_event(&self) -> Option<LoadEvent> {
        match self.rx.try_recv() {
            Ok(event) => Some(event),
            Err(TryRecvError::Disconnected) => Some(LoadEvent::Failed(
                "the history loader stopped unexpectedly".to_owned(),
            )),
            Err(TryRecvError::Empty) => None,
        }
    }
}

/// The key a query result belongs to: filter, sort column, descending, store generation.
pub type QueryKey = (HistoryFilter, SortColumn, bool, u64);

/// Filters and sorts a large history on a worker thread. Text searches use a
/// [`SearchIndex`] kept for the store's current generation, so typing a search costs one
/// linear scan per keystroke instead of a cache miss per string.
pub struct QueryWorker {
    pending: Option<(QueryKey, Receiver<Vec<u32>>)>,
    index: Arc<IndexCache>,
}

/// The search index and the store edit count it was built at.
type IndexCache = Mutex<Option<(u64, Arc<SearchIndex>)>>;

/// The search index for the store as it is: the cached one when the store's edit count is
/// unchanged (extended with jobs added since), else a new one.
fn current_index(cache: &IndexCache, store: &HistoryStore) -> Arc<SearchIndex> {
    let records = store.records();
    let edits = store.edit_count();
    let Ok(mut cache) = cache.lock() else {
        return Arc::new(SearchIndex::build(records));
    };
    let index = match cache.take() {
        Some((e, mut index)) if e == edits && index.len() <= records.len() => {
            if index.len() < records.len() {
                let from = index.len();
                Arc::make_mut(&mut index).extend(&records[from..]);
            }
            index
        }
        _ => Arc::new(SearchIndex::build(records)),
    };
    *cache = Some((edits, index.clone()));
    index
}

impl QueryWorker {
    pub fn start() -> QueryWorker {
        QueryWorker {
            pending: None,
            index: Arc::new(Mutex::new(None)),
        }
    }

    pub fn is_busy(&self) -> bool {
        self.pending.is_some()
    }

    /// Starts computing the rows for `key`. `use_index`: build or reuse the search index
    /// (off while the history is still streaming in, when every step would rebuild it).
    pub fn request(&mut self, store: Arc<RwLock<HistoryStore>>, key: QueryKey, use_index: bool) {
        let (tx, rx) = channel();
        let (filter, column, descending) = (key.0.clone(), key.1, key.2);
        let cache = self.index.clone();
        std::thread::spawn(move || {
            let Ok(store) = store.read() else { return };
            let records = store.records();
            let rows = if use_index && !filter.text.trim().is_empty() {
                let index = current_index(&cache, &store);
                query_indices_indexed(records, &index, &filter, column, descending)
            } else {
                query_indices(records, &filter, column, descending)
            };
            let _ = tx.send(rows);
        });
        self.pending = Some((key, rx));
    }

    /// The finished query's key and rows, once.
    pub fn take_result(&mut self) -> Option<(QueryKey, Vec<u32>)> {
        let (_, rx) = self.pending.as_ref()?;
        match rx.try_recv() {
            Ok(rows) => self.pending.take().map(|(key, _)| (key, rows)),
            Err(TryRecvError::Disconnected) => {
                self.pending = None;
                None
            }
            Err(TryRecvError::Empty) => None,
        }
    }
}
