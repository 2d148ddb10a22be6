//! Work that runs off the UI thread.
//!
//! One task type, [`Task`], runs a closure on a named thread, asks for a repaint when it is
//! done and hands its result to the next [`Task::poll`]: the pack scan and its change check,
//! pack-file imports and file dialogs use it. The query worker ([`QueryWorker`]) is one
//! persistent thread that filters and sorts a large history. Everything that writes the
//! history runs on the history writer (see [`super::writer`]). The UI polls once per frame and
//! never waits.

use crate::history::{
    HistoryFilter, HistoryStore, SearchIndex, SortColumn, query_indices, query_indices_indexed,
};
use crate::packs::{DiscoveredPacks, discover_packs};
use crate::render::{WILDCARDS_DIR, WildcardError, Wildcards};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::SystemTime;

/// Asks the window for a repaint from any thread; does nothing until the app has set the
/// egui context (a state built without a window, as in tests, is polled by hand).
#[derive(Clone, Default)]
pub struct Repaint(Arc<OnceLock<egui::Context>>);

impl Repaint {
    /// Repaints go to `ctx` from now on (the first context set wins).
    pub fn set(&self, ctx: &egui::Context) {
        let _ = self.0.set(ctx.clone());
    }

    /// Requests a repaint, so the UI polls the finished work.
    pub fn request(&self) {
        if let Some(ctx) = self.0.get() {
            ctx.request_repaint();
        }
    }
}

/// Spawns a named thread; `None` when the system has no thread for it.
pub(crate) fn spawn_named(name: &str, work: impl FnOnce() + Send + 'static) -> Option<()> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(work)
        .ok()
        .map(drop)
}

/// A closure running on its own named thread; its result is taken with [`Task::poll`].
pub struct Task<T> {
    name: &'static str,
    rx: Receiver<T>,
}

impl<T: Send + 'static> Task<T> {
    /// Runs `work` on a thread named `name`; asks for a repaint when it is done.
    pub fn spawn(
        name: &'static str,
        repaint: &Repaint,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Task<T> {
        let (tx, rx) = channel();
        let repaint = repaint.clone();
        // Without a thread (out of resources) the closure is dropped with its sender, and
        // `poll` reports the task as stopped.
        let _ = spawn_named(name, move || {
            let _ = tx.send(work());
            repaint.request();
        });
        Task { name, rx }
    }

    /// `None` while the task runs; then its result once (`Err` when the thread stopped
    /// without one: it panicked or could not start). Drop the task after a `Some`.
    pub fn poll(&self) -> Option<Result<T, String>> {
        match self.rx.try_recv() {
            Ok(value) => Some(Ok(value)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                Some(Err(format!("the {} task stopped unexpectedly", self.name)))
            }
        }
    }
}

/// A cheap fingerprint of the packs folder: names, sizes and modification times of its
/// entries, and of every entry under its `wildcards/` folder (a wildcard file edited in place
/// changes neither the packs folder nor `wildcards/` itself).
fn folder_fingerprint(dir: &Path) -> Fingerprint {
    let mut out = Vec::new();
    add_entries(dir, Path::new(""), &mut out);
    let mut visited = std::collections::HashSet::new();
    add_tree(
        &dir.join(WILDCARDS_DIR),
        Path::new(WILDCARDS_DIR),
        0,
        &mut visited,
        &mut out,
    );
    out.sort();
    out
}

/// How deep the change check follows sub-folders of `wildcards/` (as the wildcard reader).
const MAX_WILDCARD_DEPTH: usize = 16;

/// Adds the entries of `dir` (named `rel/<name>`) to `out`; returns the sub-folders.
fn add_entries(dir: &Path, rel: &Path, out: &mut Fingerprint) -> Vec<(PathBuf, PathBuf)> {
    let mut folders = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return folders;
    };
    for e in entries.flatten() {
        // Followed links: a linked wildcard file or folder counts by what it points at.
        let meta = std::fs::metadata(e.path()).ok();
        if meta.as_ref().is_some_and(std::fs::Metadata::is_dir) {
            folders.push((e.path(), rel.join(e.file_name())));
        }
        out.push((
            rel.join(e.file_name()).into_os_string(),
            meta.as_ref().map_or(0, std::fs::Metadata::len),
            meta.and_then(|m| m.modified().ok()),
        ));
    }
    folders
}

/// Adds every entry under `dir` (each folder once, however it is linked).
fn add_tree(
    dir: &Path,
    rel: &Path,
    depth: usize,
    visited: &mut std::collections::HashSet<PathBuf>,
    out: &mut Fingerprint,
) {
    if depth > MAX_WILDCARD_DEPTH {
        return;
    }
    let Ok(real) = std::fs::canonicalize(dir) else {
        return;
    };
    if !visited.insert(real) {
        return;
    }
    for (sub, sub_rel) in add_entries(dir, rel, out) {
        add_tree(&sub, &sub_rel, depth + 1, visited, out);
    }
}

type Fingerprint = Vec<(std::ffi::OsString, u64, Option<SystemTime>)>;

/// What a packs-folder scan finds: the packs, and the wildcard files of its `wildcards/`
/// folder with the ones that could not be read.
pub struct ScanResult {
    pub found: DiscoveredPacks,
    pub wildcards: Wildcards,
    pub wildcard_errors: Vec<WildcardError>,
}

/// Scans the packs folder in the background, and again when its files change.
pub struct PackScan {
    dir: PathBuf,
    repaint: Repaint,
    scan: Option<Task<(ScanResult, Fingerprint)>>,
    fingerprint: Option<Fingerprint>,
    check: Option<Task<Fingerprint>>,
}

impl PackScan {
    /// Starts scanning `dir`.
    pub fn start(dir: PathBuf, repaint: &Repaint) -> PackScan {
        let mut scan = PackScan {
            dir: dir.clone(),
            repaint: repaint.clone(),
            scan: None,
            fingerprint: None,
            check: None,
        };
        scan.restart(dir);
        scan
    }

    /// Scans `dir` afresh (a newer scan replaces a running one).
    pub fn restart(&mut self, dir: PathBuf) {
        self.dir = dir.clone();
        self.scan = Some(Task::spawn("pack-scan", &self.repaint, move || {
            let fingerprint = folder_fingerprint(&dir);
            let (wildcards, wildcard_errors) = Wildcards::load(&dir);
            let result = ScanResult {
                found: discover_packs(&dir),
                wildcards,
                wildcard_errors,
            };
            (result, fingerprint)
        }));
        self.check = None;
    }

    pub fn is_running(&self) -> bool {
        self.scan.is_some()
    }

    /// True while a scan or a change check runs.
    pub fn is_busy(&self) -> bool {
        self.scan.is_some() || self.check.is_some()
    }

    /// The finished scan, once.
    pub fn take_result(&mut self) -> Option<ScanResult> {
        if let Some(result) = self.check.as_ref().and_then(Task::poll) {
            self.check = None;
            if let Ok(now) = result
                && self.fingerprint.as_ref() != Some(&now)
            {
                self.restart(self.dir.clone());
            }
        }
        let result = self.scan.as_ref()?.poll()?;
        self.scan = None;
        let (found, fingerprint) = result.ok()?;
        self.fingerprint = Some(fingerprint);
        Some(found)
    }

    /// Checks (in the background) whether the folder changed; rescans when it did.
    pub fn refresh_if_changed(&mut self) {
        if self.scan.is_some() || self.check.is_some() {
            return;
        }
        let dir = self.dir.clone();
        self.check = Some(Task::spawn("pack-folder-check", &self.repaint, move || {
            folder_fingerprint(&dir)
        }));
    }
}

/// The key a query result belongs to: filter, sort column, descending, store generation.
pub type QueryKey = (HistoryFilter, SortColumn, bool, u64);

/// The search index and the store edit count it was built at. The history writer empties it
/// when it replaces the store's contents (an import), whose edit count says nothing about the
/// old one.
pub type IndexCache = Mutex<Option<(u64, Arc<SearchIndex>)>>;

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

/// One query for the worker.
struct QueryRequest {
    store: Arc<RwLock<HistoryStore>>,
    key: QueryKey,
    use_index: bool,
}

/// Filters and sorts a large history on one persistent thread (`history-query`). Text
/// searches use a [`SearchIndex`] kept for the store's current edit count, so typing a search
/// costs one linear scan per keystroke instead of a cache miss per string. Requests queued
/// while one runs are coalesced: only the latest is computed.
pub struct QueryWorker {
    tx: Option<Sender<QueryRequest>>,
    rx: Receiver<(QueryKey, Vec<u32>)>,
    pending: Option<QueryKey>,
    index: Arc<IndexCache>,
}

impl QueryWorker {
    /// Starts the worker thread.
    pub fn start(repaint: &Repaint) -> QueryWorker {
        let (tx, requests) = channel::<QueryRequest>();
        let (results, rx) = channel();
        let index: Arc<IndexCache> = Arc::new(Mutex::new(None));
        let cache = index.clone();
        let repaint = repaint.clone();
        let started = spawn_named("history-query", move || {
            while let Ok(mut request) = requests.recv() {
                // Only the latest request matters.
                while let Ok(newer) = requests.try_recv() {
                    request = newer;
                }
                let rows = run_query(&cache, &request);
                if results.send((request.key, rows)).is_err() {
                    return;
                }
                repaint.request();
            }
        });
        QueryWorker {
            tx: started.map(|()| tx),
            rx,
            pending: None,
            index,
        }
    }

    /// The search index cache (shared with the history writer, which empties it).
    pub fn index_cache(&self) -> Arc<IndexCache> {
        self.index.clone()
    }

    pub fn is_busy(&self) -> bool {
        self.pending.is_some()
    }

    /// Starts computing the rows for `key`. `use_index`: build or reuse the search index
    /// (off while the history is still streaming in, when every step would rebuild it).
    /// Returns false when the worker is gone (compute the rows some other way).
    pub fn request(
        &mut self,
        store: Arc<RwLock<HistoryStore>>,
        key: QueryKey,
        use_index: bool,
    ) -> bool {
        let Some(tx) = &self.tx else { return false };
        let request = QueryRequest {
            store,
            key: key.clone(),
            use_index,
        };
        if tx.send(request).is_err() {
            self.tx = None;
            return false;
        }
        self.pending = Some(key);
        true
    }

    /// The finished query's key and rows, once.
    pub fn take_result(&mut self) -> Option<(QueryKey, Vec<u32>)> {
        self.pending.as_ref()?;
        match self.rx.try_recv() {
            Ok(result) => {
                self.pending = None;
                Some(result)
            }
            Err(TryRecvError::Disconnected) => {
                self.pending = None;
                self.tx = None;
                None
            }
            Err(TryRecvError::Empty) => None,
        }
    }
}

fn run_query(cache: &IndexCache, request: &QueryRequest) -> Vec<u32> {
    let Ok(store) = request.store.read() else {
        return Vec::new();
    };
    let (filter, column, descending) = (&request.key.0, request.key.1, request.key.2);
    let records = store.records();
    if request.use_index && !filter.text.trim().is_empty() {
        let index = current_index(cache, &store);
        query_indices_indexed(records, &index, filter, column, descending)
    } else {
        query_indices(records, filter, column, descending)
    }
}

/// What the history names, for the lists that offer it: the pack ids (the Pack filter) and
/// the models (the composer's Model suggestions).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryNames {
    pub pack_ids: Vec<String>,
    pub models: Vec<String>,
}

/// Every pack id and model the history names, collected off the UI thread when the store's
/// generation changes (the Pack filter offers the pack ids beside the packs in the folder, the
/// Model field the models). One scan at a time; a change while one runs starts the next when
/// it is done.
pub struct PackIdScan {
    repaint: Repaint,
    task: Option<Task<HistoryNames>>,
    /// The store generation the running or last scan read.
    scanned: Option<u64>,
}

impl PackIdScan {
    pub fn new(repaint: &Repaint) -> PackIdScan {
        PackIdScan {
            repaint: repaint.clone(),
            task: None,
            scanned: None,
        }
    }

    pub fn is_running(&self) -> bool {
        self.task.is_some()
    }

    /// Starts a scan of `store` unless one runs or the last one read `generation`.
    pub fn refresh(&mut self, store: &Arc<RwLock<HistoryStore>>, generation: u64) {
        if self.task.is_some() || self.scanned == Some(generation) {
            return;
        }
        self.scanned = Some(generation);
        let store = store.clone();
        self.task = Some(Task::spawn("history-pack-ids", &self.repaint, move || {
            store
                .read()
                .map(|s| HistoryNames {
                    pack_ids: history_pack_ids(s.records()),
                    models: history_models(s.records()),
                })
                .unwrap_or_default()
        }));
    }

    /// The finished scan's names, once.
    pub fn take_result(&mut self) -> Option<HistoryNames> {
        let result = self.task.as_ref()?.poll()?;
        self.task = None;
        result.ok()
    }
}

/// The distinct pack ids of `records`, sorted case-insensitively.
pub fn history_pack_ids(records: &[crate::job_record::JobRecord]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut ids: Vec<String> = records
        .iter()
        .filter_map(|r| r.prompt_pack_id.as_deref())
        .filter(|id| seen.insert(*id))
        .map(str::to_owned)
        .collect();
    ids.sort_by_key(|id| id.to_lowercase());
    ids
}

/// The distinct non-empty models of `records` (trimmed), sorted.
pub fn history_models(records: &[crate::job_record::JobRecord]) -> Vec<String> {
    let models: std::collections::BTreeSet<&str> = records
        .iter()
        .map(|r| r.run_config.settings.model.trim())
        .filter(|m| !m.is_empty())
        .collect();
    models.into_iter().map(str::to_owned).collect()
}
