//! The Queue view (central area): each backend's state, the running jobs with their
//! progress and live preview, the waiting jobs in run order (Move up / Move down / Move to
//! top / Cancel) and the recent failed jobs (their error, Re-queue).
//!
//! Its state, [`QueueView`], holds the rows taken from the history once per store
//! generation (a frame reads no records). Every action is a command.

use super::command_handling::job_label;
use super::commands::{Command, CommandQueue};
use super::queue_runner::{COUNTDOWN_REPAINT, QueueStatus, RunningJob};
use super::state::{ViewContext, short_id};
use crate::job_record::{JobRecord, JobStatus};
use crate::runner::{QueueMove, queued_in_order};
use egui::RichText;

/// How many failed jobs the view lists (the newest).
pub const FAILED_SHOWN: usize = 20;
/// How many waiting jobs the view lists (the next to run; the rest are counted).
pub const WAITING_SHOWN: usize = 200;

/// One job as the view lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub job_id: String,
    /// Short id and start of the prompt.
    pub label: String,
    /// The backend running it (running jobs) or its error (failed ones).
    pub detail: Option<String>,
}

/// The Queue view's state: its rows, taken from the history when it changes.
#[derive(Debug, Default)]
pub struct QueueView {
    generation: Option<u64>,
    /// A waiting row's height with its spacing (measured on one drawn): rows out of sight
    /// take it without being laid out.
    waiting_row_height: Option<f32>,
    pub waiting: Vec<QueueRow>,
    pub running: Vec<QueueRow>,
    pub failed: Vec<QueueRow>,
}

impl QueueView {
    /// Takes the rows from the store when its generation changed.
    fn refresh(&mut self, ctx: &ViewContext<'_>) {
        let Some(store) = ctx.store.and_then(|s| s.read().ok()) else {
            return;
        };
        if self.generation == Some(store.generation()) {
            return;
        }
        self.generation = Some(store.generation());
        let records = store.records();
        self.waiting = queued_in_order(records)
            .into_iter()
            .map(|r| row(r, None))
            .collect();
        self.running = records
            .iter()
            .filter(|r| r.status == JobStatus::Running)
            .map(|r| row(r, r.backend.clone()))
            .collect();
        let mut failed: Vec<&JobRecord> = records
            .iter()
            .filter(|r| r.status == JobStatus::Failed)
            .collect();
        failed.sort_by_key(|r| std::cmp::Reverse(r.completed_at.unwrap_or(r.created_at)));
        self.failed = failed
            .into_iter()
            .take(FAILED_SHOWN)
            .map(|r| row(r, r.error_message.clone()))
            .collect();
    }

    /// Draws the view into `ui`.
    pub fn show(&mut self, ctx: &ViewContext<'_>, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        self.refresh(ctx);
        let queue = ctx.queue;
        if queue.counting_down() {
            ui.ctx().request_repaint_after(COUNTDOWN_REPAINT);
        }
        ui.horizontal(|ui| {
            let (text, color) = match (queue.on, queue.starting, queue.stopping) {
                (_, _, true) => ("Stopping the queue...", ui.visuals().warn_fg_color),
                (true, true, _) => ("Starting the queue...", ui.visuals().text_color()),
                (true, _, _) => ("Run queue is on", ui.visuals().text_color()),
                (false, _, _) => ("Run queue is off", ui.visuals().weak_text_color()),
            };
            ui.label(RichText::new(text).color(color).strong());
            if ui.button("Backends...").clicked() {
                commands.push(Command::OpenBackends);
            }
        });
        if let Some(e) = &queue.history_error {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
        }
        for e in &queue.unusable {
            ui.colored_label(ui.visuals().warn_fg_color, format!("⚠ {e}"));
        }
        egui::ScrollArea::vertical()
            .id_salt("queue_view")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                backends_section(ctx, ui);
                ui.add_space(6.0);
                self.running_section(queue, ui, commands);
                ui.add_space(6.0);
                self.waiting_section(ui, commands);
                ui.add_space(6.0);
                self.failed_section(ui, commands);
            });
    }

    fn running_section(&self, queue: &QueueStatus, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        ui.heading(format!("Running ({})", self.running.len()));
        if self.running.is_empty() {
            ui.weak("No job is running.");
        }
        for row in &self.running {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    ui.label(&row.label);
                    if let Some(backend) = &row.detail {
                        ui.weak(format!("on {backend}"));
                    }
                });
                match queue.running.get(&row.job_id) {
                    Some(job) => {
                        progress(ui, &row.job_id, job);
                        if ui
                            .button("Interrupt")
                            .on_hover_text("Stop this job now (it ends cancelled, keeping the images already saved)")
                            .clicked()
                        {
                            commands.push(Command::InterruptJob(row.job_id.clone()));
                        }
                    }
                    None => {
                        ui.weak("Run by another promptdesk process (or starting).");
                    }
                }
            });
        }
    }

    fn waiting_section(&mut self, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        ui.heading(format!("Waiting ({})", self.waiting.len()));
        if self.waiting.is_empty() {
            ui.weak("No job is waiting. Submit one from the composer.");
            return;
        }
        let last = self.waiting.len() - 1;
        let clip = ui.clip_rect();
        let gap = ui.spacing().item_spacing.y;
        for (i, row) in self.waiting.iter().enumerate().take(WAITING_SHOWN) {
            // Rows out of sight take their height without being laid out (the view scrolls
            // as one; 200 rows of buttons would cost every frame).
            let top = ui.cursor().top();
            if let Some(height) = self.waiting_row_height
                && (top > clip.bottom() || top + height < clip.top())
            {
                ui.add_space(height);
                continue;
            }
            let drawn = ui.horizontal(|ui| {
                ui.label(RichText::new(format!("{}.", i + 1)).monospace());
                let id = &row.job_id;
                let mut action = |ui: &mut egui::Ui, enabled: bool, text: &str, command| {
                    if ui
                        .add_enabled(enabled, egui::Button::new(text).small())
                        .clicked()
                    {
                        commands.push(command);
                    }
                };
                action(
                    ui,
                    i > 0,
                    "Move up",
                    Command::MoveInQueue(id.clone(), QueueMove::Up),
                );
                action(
                    ui,
                    i < last,
                    "Move down",
                    Command::MoveInQueue(id.clone(), QueueMove::Down),
                );
                action(
                    ui,
                    i > 0,
                    "Move to top",
                    Command::MoveInQueue(id.clone(), QueueMove::Top),
                );
                action(ui, true, "Cancel", Command::CancelJob(id.clone()));
                ui.add(egui::Label::new(&row.label).truncate());
            });
            self.waiting_row_height = Some(drawn.response.rect.height() + gap);
        }
        if self.waiting.len() > WAITING_SHOWN {
            ui.weak(format!(
                "... and {} more after them.",
                self.waiting.len() - WAITING_SHOWN
            ));
        }
    }

    fn failed_section(&self, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        if self.failed.is_empty() {
            return;
        }
        ui.heading(format!("Failed (the last {})", self.failed.len()));
        for row in &self.failed {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    if ui
                        .button("Re-queue")
                        .on_hover_text("Queue this job again, at the end of the queue")
                        .clicked()
                    {
                        commands.push(Command::RequeueJob(row.job_id.clone()));
                    }
                    if ui.small_button("Details").clicked() {
                        commands.push(Command::SelectJob(Some(row.job_id.clone())));
                    }
                    ui.add(egui::Label::new(&row.label).truncate());
                });
                if let Some(error) = &row.detail {
                    ui.add(
                        egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color))
                            .wrap(),
                    );
                }
            });
        }
    }
}

fn row(record: &JobRecord, detail: Option<String>) -> QueueRow {
    QueueRow {
        job_id: record.job_id.clone(),
        label: job_label(record),
        detail,
    }
}

/// Each configured backend and its state.
fn backends_section(ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    ui.heading("Backends");
    let configs = ctx.backends.configs();
    if configs.is_empty() {
        ui.weak("No backend is configured: add one in the Backends window (Run > Backends...).");
        return;
    }
    egui::Grid::new("queue_backends")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for config in configs {
                ui.strong(&config.name);
                ui.weak(format!("{} {}", config.kind, config.base_url()));
                let state = match ctx.queue.backends.get(&config.name) {
                    Some(shown) => QueueStatus::describe(shown),
                    None if ctx.queue.on => "starting".to_owned(),
                    None => "not running (Run queue is off)".to_owned(),
                };
                ui.label(state);
                ui.end_row();
            }
        });
}

/// A running job's progress bar, steps, request count, ETA and preview.
fn progress(ui: &mut egui::Ui, job_id: &str, job: &RunningJob) {
    let bar = egui::ProgressBar::new(job.fraction.clamp(0.0, 1.0))
        .show_percentage()
        .desired_width(ui.available_width().min(400.0));
    ui.add(bar);
    ui.horizontal_wrapped(|ui| {
        if job.steps > 0 {
            ui.label(format!("step {}/{}", job.step, job.steps));
        }
        if job.requests > 0 {
            ui.label(format!("request {} of {}", job.request + 1, job.requests));
        }
        if let Some(eta) = job.eta_secs {
            ui.label(format!("ETA {} s", eta.max(0.0).round() as u64));
        }
    });
    if let Some(texture) = &job.preview {
        let size = texture.size_vec2();
        // Latent previews are small (ComfyUI's and A1111's cheap ones are 1/8 of the image):
        // shown at 256 px either way.
        let scale = 256.0 / size.x.max(size.y).max(1.0);
        ui.add(
            egui::Image::new((texture.id(), size * scale))
                .alt_text(format!("Live preview of job {}", short_id(job_id))),
        );
    }
}
