//! The desktop app (eframe/egui): a thin face on the library. [`state::AppState`] holds
//! everything and changes only through [`state::Command`]s, which the panels push while they
//! draw and which are applied after the frame. Loading and heavy queries run off the UI thread
//! (see [`tasks`]).

mod composer;
mod details;
mod history_table;
mod menu;
mod pack_browser;
pub mod pack_import;
pub mod state;
pub mod tasks;
mod widgets;

use state::{AppState, Command, Persisted, ThemeChoice};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

/// Where the app keeps its data, and where its packs are.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub data_dir: PathBuf,
    pub packs_dir: PathBuf,
    /// Use the packs folder saved from the last run, if any (off when `--packs-dir` was given).
    pub restore_packs_dir: bool,
}

/// The eframe app.
pub struct PromptDeskApp {
    pub state: AppState,
    commands: Vec<Command>,
    /// Results of file dialogs, which run on their own threads.
    dialog_tx: Sender<Command>,
    dialog_rx: Receiver<Command>,
    applied_theme: Option<ThemeChoice>,
}

const STORAGE_KEY: &str = "promptdesk-state";

impl PromptDeskApp {
    /// Builds the app; packs and history start loading in the background at once.
    pub fn new(cc: &eframe::CreationContext<'_>, config: AppConfig) -> PromptDeskApp {
        let mut persisted: Persisted = cc
            .storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_default();
        if !config.restore_packs_dir {
            persisted.packs_dir = None;
        }
        PromptDeskApp::with_state(AppState::new(config.data_dir, config.packs_dir, persisted))
    }

    /// Wraps an existing state (tests build one directly).
    pub fn with_state(state: AppState) -> PromptDeskApp {
        let (dialog_tx, dialog_rx) = channel();
        PromptDeskApp {
            state,
            commands: Vec::new(),
            dialog_tx,
            dialog_rx,
            applied_theme: None,
        }
    }

    /// Queues a command, applied after the current frame.
    pub fn push(&mut self, command: Command) {
        self.commands.push(command);
    }

    fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let submit = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
        let undo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        let reload = KeyboardShortcut::new(Modifiers::NONE, Key::F5);
        if ctx.input_mut(|i| i.consume_shortcut(&submit)) {
            self.commands.push(Command::Submit);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&undo)) {
            self.commands.push(Command::UndoDelete);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&reload)) {
            self.commands.push(Command::ReloadPacks);
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            self.commands.push(Command::ImportPackFiles(dropped));
        }
    }

    fn apply_theme(&mut self, ctx: &egui::Context) {
        if self.applied_theme != Some(self.state.theme) {
            self.applied_theme = Some(self.state.theme);
            ctx.set_theme(match self.state.theme {
                ThemeChoice::System => egui::ThemePreference::System,
                ThemeChoice::Dark => egui::ThemePreference::Dark,
                ThemeChoice::Light => egui::ThemePreference::Light,
            });
        }
    }

    /// Runs `pick` (an rfd dialog) on its own thread; its command arrives in a later frame.
    pub(crate) fn spawn_dialog(
        &self,
        ctx: &egui::Context,
        pick: impl FnOnce() -> Option<Command> + Send + 'static,
    ) {
        let tx = self.dialog_tx.clone();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            if let Some(command) = pick() {
                let _ = tx.send(command);
                ctx.request_repaint();
            }
        });
    }
}

impl eframe::App for PromptDeskApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.apply_theme(&ctx);
        while let Ok(command) = self.dialog_rx.try_recv() {
            self.commands.push(command);
        }
        self.state.poll();
        self.handle_shortcuts(&ctx);

        menu::show(self, ui);
        pack_browser::show(self, ui);
        history_table::show(self, ui);
        if self.state.view.selected.is_some() {
            details::show(self, ui);
        }
        composer::show(self, ui);

        for command in std::mem::take(&mut self.commands) {
            if command == Command::Quit {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                continue;
            }
            self.state.apply(command);
        }
        if let Some(text) = self.state.clipboard.take() {
            ctx.copy_text(text);
        }
        if self.state.is_busy() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        } else {
            ctx.request_repaint_after(state::POLL_INTERVAL);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.state.persisted());
    }
}

/// Opens the window and runs until it is closed.
pub fn run_native(config: AppConfig) -> eframe::Result {
    let ui_state = config.data_dir.join("ui-state");
    // eframe writes this file with a plain create: make it private first, and never let it
    // write through a link there (then the window state is not saved at all).
    let ui_state = match crate::fsutil::prepare_private_file(&ui_state, b"{}") {
        Ok(()) => Some(ui_state),
        Err(e) => {
            eprintln!("promptdesk: warning: {e}; the window layout will not be saved");
            None
        }
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("promptdesk")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([720.0, 480.0])
            .with_drag_and_drop(true)
            .with_app_id("promptdesk"),
        persist_window: true,
        // Window, panels, filters and theme are remembered per data folder.
        persistence_path: ui_state,
        ..Default::default()
    };
    eframe::run_native(
        "promptdesk",
        options,
        Box::new(move |cc| Ok(Box::new(PromptDeskApp::new(cc, config)))),
    )
}
