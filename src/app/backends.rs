//! The configured backends as the app knows them, and the commands on them: the backends
//! file (`backends.json`) read at start and saved through the core's [`BackendsFile`], on
//! background tasks; "Test connection" reading a backend's catalogues on a task; the
//! catalogues read feeding the composer's Model, Sampler and Scheduler suggestions; and the
//! "Run queue" switch (with its notice when no backend is configured).
//!
//! The Backends window (`backends_window.rs`) draws this state and pushes commands.

use super::queue_runner::{BackendsRead, read_backends, read_catalogues};
use super::state::{AppState, Message};
use super::tasks::{Repaint, Task};
use crate::backends::{BackendConfig, BackendsFile, Catalogues};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A connection test: running, or its result.
pub enum TestState {
    Running(Task<Result<Catalogues, String>>),
    Done(Result<Catalogues, String>),
}

/// The backends, their tests and catalogues.
#[derive(Default)]
pub struct BackendsState {
    /// The file as last read or saved (`None` until read).
    read: Option<BackendsRead>,
    /// Why the file could not be read or saved.
    pub error: Option<String>,
    load: Option<Task<Result<BackendsRead, String>>>,
    save: Option<Task<Result<BackendsRead, String>>>,
    /// Connection tests by backend name.
    tests: BTreeMap<String, TestState>,
    /// Run queue was switched on before the file was read: go on once it is.
    switch_on_when_read: bool,
}

impl BackendsState {
    /// Starts reading the backends file (and listing `workflows/`).
    pub fn start(data_dir: PathBuf, repaint: &Repaint) -> BackendsState {
        BackendsState {
            load: Some(Task::spawn("backends-load", repaint, move || {
                read_backends(&data_dir)
            })),
            ..BackendsState::default()
        }
    }

    /// The configured backends (empty until read).
    pub fn configs(&self) -> &[BackendConfig] {
        self.read.as_ref().map_or(&[], |r| &r.file.backends)
    }

    /// True once the file was read (or failed to be).
    pub fn is_read(&self) -> bool {
        self.read.is_some() || (self.load.is_none() && self.error.is_some())
    }

    /// The workflow files found in `workflows/`.
    pub fn workflows(&self) -> &[String] {
        self.read.as_ref().map_or(&[], |r| &r.workflows)
    }

    pub fn is_saving(&self) -> bool {
        self.save.is_some()
    }

    pub fn is_busy(&self) -> bool {
        self.load.is_some()
            || self.save.is_some()
            || self
                .tests
                .values()
                .any(|t| matches!(t, TestState::Running(_)))
    }

    /// The test of backend `name`, if one ran or runs.
    pub fn test(&self, name: &str) -> Option<&TestState> {
        self.tests.get(name)
    }

    /// The catalogues read so far, joined: (models, samplers, schedulers), each once, in
    /// backend order.
    pub fn catalogue_names(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        let mut models = Vec::new();
        let mut samplers = Vec::new();
        let mut schedulers = Vec::new();
        let push = |list: &mut Vec<String>, name: &str| {
            if !name.trim().is_empty() && !list.iter().any(|n| n == name) {
                list.push(name.to_owned());
            }
        };
        for test in self.tests.values() {
            if let TestState::Done(Ok(c)) = test {
                for m in &c.models {
                    push(&mut models, &m.title);
                }
                for s in &c.samplers {
                    push(&mut samplers, s);
                }
                for s in &c.schedulers {
                    push(&mut schedulers, s);
                }
            }
        }
        (models, samplers, schedulers)
    }
}

impl AppState {
    /// The Run queue switch. On with no backend configured: the notice that offers the
    /// Backends window, and the switch stays off.
    pub(crate) fn set_run_queue(&mut self, on: bool) {
        if !on {
            self.backends.switch_on_when_read = false;
            self.queue_runner.switch_off();
            self.message = Some(Message::Info(
                "Run queue is off: no new job starts (a running job goes on to its end).".into(),
            ));
            return;
        }
        if !self.backends.is_read() {
            self.backends.switch_on_when_read = true;
            return;
        }
        let configs = self.backends.configs().to_vec();
        if configs.is_empty() {
            self.backends_window.no_backend_notice = true;
            return;
        }
        let queue = self.writer.queue();
        self.queue_runner.switch_on(configs.clone(), queue);
        // The catalogues of the backends not tested yet feed the composer's suggestions.
        for config in configs {
            if !self.backends.tests.contains_key(&config.name) {
                self.test_backend(config);
            }
        }
        self.message = Some(Message::Info(
            "Run queue is on: queued jobs run, oldest first.".into(),
        ));
    }

    /// Saves a backend (new, or replacing `previous` by name) on a task: the file is read
    /// again first, so another process's changes are kept.
    pub(crate) fn save_backend(&mut self, previous: Option<String>, config: BackendConfig) {
        let mut probe = BackendsFile::default();
        if let Err(e) = probe.upsert(config.clone()) {
            self.backends.error = Some(e.to_string());
            return;
        }
        let clash = previous.as_deref() != Some(config.name.as_str())
            && self
                .backends
                .configs()
                .iter()
                .any(|b| b.name == config.name);
        if clash {
            self.backends.error = Some(format!(
                "A backend named {} exists already: choose another name.",
                config.name
            ));
            return;
        }
        let data_dir = self.data_dir.clone();
        let name = config.name.clone();
        self.backends.tests.remove(&name);
        if let Some(old) = &previous {
            self.backends.tests.remove(old);
        }
        self.backends.save = Some(Task::spawn("backends-save", &self.repaint, move || {
            change_file(&data_dir, |file| {
                if let Some(old) = previous.filter(|old| *old != config.name) {
                    file.remove(&old);
                }
                file.upsert(config).map_err(|e| e.to_string())
            })
        }));
        self.message = Some(Message::Info(format!("Saving backend {name}...")));
    }

    /// Removes a backend by name (on a task).
    pub(crate) fn remove_backend(&mut self, name: String) {
        let data_dir = self.data_dir.clone();
        self.backends.tests.remove(&name);
        self.backends.save = Some(Task::spawn("backends-save", &self.repaint, move || {
            change_file(&data_dir, |file| {
                file.remove(&name);
                Ok(())
            })
        }));
    }

    /// Tests the backend `name`: reads its catalogues on a task.
    pub(crate) fn test_backend_named(&mut self, name: &str) {
        if let Some(config) = self.backends.configs().iter().find(|b| b.name == name) {
            self.test_backend(config.clone());
        }
    }

    fn test_backend(&mut self, config: BackendConfig) {
        let data_dir = self.data_dir.clone();
        let name = config.name.clone();
        let connector = self.queue_runner.connector.clone();
        let task = Task::spawn("backend-test", &self.repaint, move || {
            read_catalogues(&connector, &config, &data_dir)
        });
        self.backends.tests.insert(name, TestState::Running(task));
    }

    /// Takes the finished backend tasks: the file read or saved, tests done (their
    /// catalogues go to the composer).
    pub(crate) fn poll_backends(&mut self) {
        if let Some(result) = self.backends.load.as_ref().and_then(Task::poll) {
            self.backends.load = None;
            match result.and_then(|r| r) {
                Ok(read) => {
                    self.backends.read = Some(read);
                    self.backends.error = None;
                }
                Err(e) => self.backends.error = Some(e),
            }
            if std::mem::take(&mut self.backends.switch_on_when_read) {
                self.set_run_queue(true);
            }
        }
        if let Some(result) = self.backends.save.as_ref().and_then(Task::poll) {
            self.backends.save = None;
            match result.and_then(|r| r) {
                Ok(read) => {
                    self.backends.read = Some(read);
                    self.backends.error = None;
                    self.message = Some(Message::Info(format!(
                        "Backends saved to {}.",
                        BackendsFile::path(&self.data_dir).display()
                    )));
                    self.queue_runner.backends_changed();
                }
                Err(e) => {
                    self.message =
                        Some(Message::Error(format!("Could not save the backends: {e}")));
                    self.backends.error = Some(e);
                }
            }
        }
        let mut tested = false;
        for test in self.backends.tests.values_mut() {
            if let TestState::Running(task) = test
                && let Some(result) = task.poll()
            {
                *test = TestState::Done(result.and_then(|r| r));
                tested = true;
            }
        }
        if tested {
            let (models, samplers, schedulers) = self.backends.catalogue_names();
            self.composer
                .set_backend_catalogues(models, samplers, schedulers);
        }
    }
}

/// Reads the backends file, changes it and saves it (on a task); the file as saved.
fn change_file(
    data_dir: &Path,
    change: impl FnOnce(&mut BackendsFile) -> Result<(), String>,
) -> Result<BackendsRead, String> {
    let mut read = read_backends(data_dir)?;
    change(&mut read.file)?;
    read.file.save(data_dir).map_err(|e| e.to_string())?;
    Ok(read)
}
