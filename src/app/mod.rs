//! The desktop app (eframe/egui): a thin face on the library.
//!
//! - [`state::AppState`] holds the data the panels share (packs, history store, selection,
//!   status line) and one state per panel (pack browser, composer, history view, details).
//! - Each panel's `show` gets its own state, a read-only [`state::ViewContext`] and a
//!   [`commands::CommandQueue`] (the shape of rerun's `show_panel(&mut self, ctx, ..)`). The
//!   rule: form fields are bound directly; anything touching the disk, the selection or
//!   another panel is a [`commands::Command`], applied after the frame
//!   (`command_handling.rs`).
//! - Every change to the history goes through one thread, the history writer ([`writer`]),
//!   the queue runner's included (it asks the writer and waits on its own threads);
//!   other background work runs as [`tasks::Task`]s, and filtering a large history on the
//!   query worker. The UI thread polls once per frame and never waits for a file lock or an
//!   fsync.
//! - The queue runner ([`queue_runner`]) runs queued jobs on the configured backends
//!   (`backends.rs`, drawn by `backends_window.rs`); the Queue view (`queue_view.rs`) shows it.

mod backends;
mod backends_window;
mod central;
mod command_handling;
pub mod commands;
pub mod compare;
mod composer;
mod composer_commands;
mod details;
pub mod dialogs;
mod fonts;
pub mod gallery;
mod history_table;
pub mod image_import;
pub mod layout;
mod menu;
mod pack_browser;
pub mod pack_import;
mod persist;
pub mod queue_runner;
mod queue_view;
mod shortcuts;
pub mod state;
pub mod tasks;
pub mod thumb_textures;
pub mod viewer;
mod widgets;
pub mod writer;

pub use backends_window::{BackendForm, BackendsWindow};
pub use compare::{CompareItem, CompareWindow};
pub use composer::Composer;
pub use details::DetailsState;
pub use history_table::HistoryView;
pub use pack_browser::PackBrowserState;
pub use queue_view::{QueueRow, QueueView};

use commands::{Command, CommandQueue};
use state::{AppState, Persisted, ThemeChoice, testing_pub_struct};
use std::path::PathBuf;

/// Where the app keeps its data, and where its packs are.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub data_dir: PathBuf,
    pub packs_dir: PathBuf,
    /// Use the packs folder saved from the last run, if any (off when `--packs-dir` was given).
    pub restore_packs_dir: bool,
}

testing_pub_struct! {
    /// The eframe app.
    pub struct PromptDeskApp {
        state: AppState,
        commands: CommandQueue,
        applied_theme: Option<ThemeChoice>,
        /// Closing was asked for while history changes were still with the writer.
        confirm_quit: bool,
        /// The user chose to quit anyway.
        quit_anyway: bool,
        /// Where the central area (view switch, composer) was drawn last frame.
        central_rect: egui::Rect,
        /// Closing waits for the queue runner to stop (running jobs go back to the queue).
        close_after_stop: bool,
    }
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
        fonts::install(&cc.egui_ctx);
        let repaint = tasks::Repaint::default();
        repaint.set(&cc.egui_ctx);
        PromptDeskApp::with_state(AppState::with_repaint(
            config.data_dir,
            config.packs_dir,
            persisted,
            repaint,
        ))
    }

    /// Wraps an existing state (tests build one directly).
    pub fn with_state(state: AppState) -> PromptDeskApp {
        PromptDeskApp {
            state,
            commands: CommandQueue::default(),
            applied_theme: None,
            confirm_quit: false,
            quit_anyway: false,
            central_rect: egui::Rect::NOTHING,
            close_after_stop: false,
        }
    }

    /// Closing the window while changes to the history are still with the writer (a busy
    /// history being retried) would lose them: ask first. When they are done meanwhile, the
    /// window closes by itself.
    fn guard_close(&mut self, ctx: &egui::Context) {
        if self.stop_runner_first(ctx) {
            return;
        }
        let pending = self.state.writes_in_flight();
        if ctx.input(|i| i.viewport().close_requested()) && pending > 0 && !self.quit_anyway {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm_quit = true;
        }
        if !self.confirm_quit {
            return;
        }
        if pending == 0 {
            self.confirm_quit = false;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        egui::Modal::new(egui::Id::unique("confirm_quit")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            ui.heading("Changes are still waiting");
            let changes = widgets::plural(pending, "change");
            let (are, they) = if pending == 1 {
                ("is", "it is")
            } else {
                ("are", "they are")
            };
            ui.label(format!(
                "{changes} to the history {are} not recorded yet (still being written, or waiting while another promptdesk process holds the history; promptdesk retries by itself). The window closes by itself once {they} recorded."
            ));
            ui.horizontal(|ui| {
                if ui.button("Wait").clicked() {
                    self.confirm_quit = false;
                }
                if ui.button("Quit anyway (lose them)").clicked() {
                    self.quit_anyway = true;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
        });
    }

    /// Closing the window stops the queue runner first, on a background thread: running
    /// jobs go back to the queue. True while it is stopping (the window closes by itself
    /// once it has).
    fn stop_runner_first(&mut self, ctx: &egui::Context) -> bool {
        let runner = &mut self.state.queue_runner;
        if ctx.input(|i| i.viewport().close_requested()) && !runner.is_stopped() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            runner.begin_stop();
            self.close_after_stop = true;
        }
        if !self.close_after_stop {
            return false;
        }
        if runner.is_stopped() {
            self.close_after_stop = false;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return false;
        }
        egui::Modal::new(egui::Id::unique("stopping_queue")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            ui.heading("Stopping the queue");
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Running jobs go back to the queue; the window closes by itself.");
            });
        });
        true
    }

    /// "Replace your draft?" after a Re-run with this seed while the composer holds a typed
    /// prompt.
    fn confirm_rerun(&mut self, ctx: &egui::Context) {
        let Some((job_id, seed)) = &self.state.rerun_confirm else {
            return;
        };
        let (job, seed) = (state::short_id(job_id).to_owned(), *seed);
        let modal = egui::Modal::new(egui::Id::unique("confirm_rerun")).show(ctx, |ui| {
            ui.set_max_width(440.0);
            ui.heading("Replace your draft?");
            ui.label(format!(
                "The composer holds a draft (a prompt you typed or pack keys you checked). Re-run loads job {job} with seed {seed} in its place; Undo load brings your draft back."
            ));
            ui.horizontal(|ui| {
                if ui.button("Replace the draft").clicked() {
                    self.commands.push(Command::ConfirmRerun(true));
                }
                if ui.button("Keep my draft").clicked() {
                    self.commands.push(Command::ConfirmRerun(false));
                }
            });
        });
        if modal.should_close() {
            self.commands.push(Command::ConfirmRerun(false));
        }
    }

    /// Queues a command, applied after the current frame.
    pub fn push(&mut self, command: Command) {
        self.commands.push(command);
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

    /// Draws every panel; each gets its own state, the context and the command queue. The
    /// status bar is at the bottom of the window; the side panels are fitted to the window
    /// ([`layout`]) so the central area, with Submit, always has room.
    fn panels(&mut self, ui: &mut egui::Ui) {
        self.state
            .thumbs
            .begin_frame(ui.ctx(), &self.state.data_dir);
        self.draw_panels(ui);
        self.state.thumbs.end_frame(ui.ctx());
    }

    fn draw_panels(&mut self, ui: &mut egui::Ui) {
        let (ctx, panels) = self.state.split();
        let commands = &mut self.commands;
        egui::Panel::top("menu_bar").show(ui, |ui| menu::show(&ctx, ui, commands));
        // Before the panels: the viewer takes the keys it uses (arrows, ratings, Esc).
        panels.details.show_viewer(&ctx, ui.ctx(), commands);
        // Before the panels too: Esc closes it (and must not close the details behind it).
        panels.compare.show(&ctx, ui.ctx(), commands);
        backends_window::show(panels.backends_window, &ctx, ui.ctx(), commands);
        // Always there (a hint when there is no message): a message never moves the panels.
        egui::Panel::bottom("status_bar")
            .resizable(false)
            .show(ui, |ui| central::status_bar(&ctx, ui, commands));
        let details_id = panels
            .view
            .selected
            .clone()
            .filter(|id| panels.details.refresh(&ctx, id));
        let fit = layout::fit(ui, details_id.is_some());
        layout::PACK_BROWSER.show(ui, fit.left, fit.left_max, |ui| {
            panels.pack_browser.show(&ctx, ui, commands);
        });
        layout::HISTORY.show(ui, fit.history, fit.history_max, |ui| {
            panels
                .view
                .show_with(&ctx, ui, commands, Some(&mut *panels.thumbs));
        });
        if let (Some(id), Some(right)) = (details_id.as_deref(), fit.right) {
            layout::JOB_DETAILS.show(ui, right, fit.right_max, |ui| {
                panels.details.show(&ctx, id, ui, panels.thumbs, commands);
            });
        }
        let central = egui::CentralPanel::default().show(ui, |ui| {
            central::show(
                central::Views {
                    view: panels.central,
                    composer: panels.composer,
                    queue: panels.queue_view,
                    gallery: panels.gallery,
                    history: panels.view,
                    thumbs: panels.thumbs,
                },
                &ctx,
                ui,
                commands,
            );
        });
        self.central_rect = central.response.rect;
    }
}

impl eframe::App for PromptDeskApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.state.repaint.set(&ctx);
        self.apply_theme(&ctx);
        self.state.poll();
        self.state.queue_runner.upload_previews(&ctx);
        shortcuts::handle(&ctx, self.state.queue_runner.status.on, &mut self.commands);
        self.panels(ui);
        dialogs::show(&mut self.state.dialogs, &ctx, &mut self.commands);
        self.confirm_rerun(&ctx);
        self.guard_close(&ctx);
        for command in self.commands.take() {
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
            .with_min_inner_size(layout::MIN_WINDOW)
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
