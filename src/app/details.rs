//! The selected job's details (right): every field of the record, its prompts as recorded,
//! and the actions Load into composer, Copy prompt, Copy as infotext, Cancel and Delete.
//!
//! Its state, [`DetailsState`], holds the selected record's text formatted once per record
//! and store generation, so a frame copies nothing from the store. Every action is a command.

use super::commands::{Command, CommandQueue};
use super::state::{AppState, ViewContext};
use super::widgets;
use crate::job_record::JobRecord;
use crate::run_config::PromptSource;
use egui::RichText;

/// The details panel's state: the shown record's text, kept while the record is unchanged.
#[derive(Debug, Default)]
pub struct DetailsState {
    shown: Option<Shown>,
}

/// What the panel shows of one record.
#[derive(Debug)]
struct Shown {
    job_id: String,
    generation: u64,
    source: PromptSource,
    cancellable: bool,
    fields: Vec<(&'static str, String)>,
    /// (key, positive, negative) per prompt.
    prompts: Vec<(Option<String>, String, String)>,
}

impl Shown {
    fn of(record: &JobRecord, generation: u64) -> Shown {
        let s = &record.run_config.settings;
        let seed = if s.seed < 0 {
            "random (-1)".to_owned()
        } else {
            s.seed.to_string()
        };
        let mut fields: Vec<(&'static str, String)> = vec![
            ("Job id", record.job_id.clone()),
            ("Created", when(record.created_at)),
            ("Status", record.status.to_string()),
            ("Source", record.prompt_source.as_str().to_uppercase()),
            (
                "Pack",
                record.prompt_pack_id.clone().unwrap_or_else(|| "—".into()),
            ),
            (
                "Keys",
                if record.prompt_keys.is_empty() {
                    "—".into()
                } else {
                    record.prompt_keys.join(", ")
                },
            ),
            ("Run mode", record.run_mode.as_str().into()),
            ("Created by", record.source.as_str().into()),
            (
                "Model",
                if s.model.is_empty() {
                    "—".into()
                } else {
                    s.model.clone()
                },
            ),
            ("Sampler", s.sampler.clone()),
            ("Scheduler", s.scheduler.clone()),
            ("Steps", s.steps.to_string()),
            ("CFG scale", super::history_table::format_cfg(s.cfg_scale)),
            ("Size", format!("{}×{}", s.width, s.height)),
            ("Seed", seed),
            ("Batch", format!("{} × {}", s.batch_size, s.batch_count)),
            ("Clip skip", s.clip_skip.to_string()),
            ("Config hash", record.config_hash.clone()),
            ("Schema", record.schema_version.to_string()),
        ];
        if let Some(t) = record.started_at {
            fields.push(("Started", when(t)));
        }
        if let Some(t) = record.completed_at {
            fields.push(("Completed", when(t)));
        }
        if let Some(d) = record.duration_ms {
            fields.push(("Duration", format!("{:.1} s", d as f64 / 1000.0)));
        }
        if let Some(e) = &record.error_message {
            fields.push(("Error", e.clone()));
        }
        let prompts = record
            .run_config
            .prompt_pairs()
            .into_iter()
            .enumerate()
            .map(|(i, (positive, negative))| {
                (record.prompt_keys.get(i).cloned(), positive, negative)
            })
            .collect();
        Shown {
            job_id: record.job_id.clone(),
            generation,
            source: record.prompt_source,
            cancellable: AppState::can_cancel(record),
            fields,
            prompts,
        }
    }
}

impl DetailsState {
    /// Brings the shown text up to date with the record `job_id` in the store (formats it
    /// again only when the selection or the store changed). False when there is no such
    /// record.
    pub(crate) fn refresh(&mut self, ctx: &ViewContext<'_>, job_id: &str) -> bool {
        let Some(store) = ctx.store.and_then(|s| s.read().ok()) else {
            return false;
        };
        let generation = store.generation();
        let fresh = self
            .shown
            .as_ref()
            .is_some_and(|s| s.job_id == job_id && s.generation == generation);
        if !fresh {
            self.shown = store.get(job_id).map(|r| Shown::of(r, generation));
        }
        self.shown.is_some()
    }

    /// Draws the details of job `job_id` into `ui`; draws nothing when the store does not
    /// have it.
    pub fn show(
        &mut self,
        ctx: &ViewContext<'_>,
        job_id: &str,
        ui: &mut egui::Ui,
        commands: &mut CommandQueue,
    ) {
        if !self.refresh(ctx, job_id) {
            return;
        }
        let Some(shown) = &self.shown else { return };
        let id = &shown.job_id;
        ui.horizontal(|ui| {
            ui.heading("Job");
            widgets::source_badge(ui, shown.source);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("×").on_hover_text("Close (Esc)").clicked()
                    || (ui.input(|i| i.key_pressed(egui::Key::Escape))
                        && ui.ctx().memory(|m| m.top_modal_layer().is_none()))
                {
                    commands.push(Command::SelectJob(None));
                }
            });
        });
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Load into composer")
                .on_hover_text("Same origin, keys and settings")
                .clicked()
            {
                commands.push(Command::LoadIntoComposer(id.clone()));
            }
            if ui.button("Copy prompt").clicked() {
                commands.push(Command::CopyPrompt(id.clone()));
            }
            if ui
                .button("Copy as infotext")
                .on_hover_text("AUTOMATIC1111 parameters text")
                .clicked()
            {
                commands.push(Command::CopyInfotext(id.clone()));
            }
            if shown.cancellable && ui.button("Cancel job").clicked() {
                commands.push(Command::CancelJob(id.clone()));
            }
            if ui
                .button(RichText::new("Delete").color(ui.visuals().error_fg_color))
                .on_hover_text("Delete this record (undo with Ctrl+Shift+Z)")
                .clicked()
            {
                commands.push(Command::DeleteJob(id.clone()));
            }
        });
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("details_scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("details_grid")
                    .num_columns(2)
                    .striped(true)
                    .show(ui, |ui| {
                        for (name, value) in &shown.fields {
                            ui.label(RichText::new(*name).strong());
                            ui.add(egui::Label::new(RichText::new(value).monospace()).wrap());
                            ui.end_row();
                        }
                    });
                ui.add_space(6.0);
                for (key, positive, negative) in &shown.prompts {
                    egui::Frame::group(ui.style()).show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        match key {
                            Some(key) => ui.strong(format!("Prompt (key {key})")),
                            None => ui.strong("Prompt"),
                        };
                        widgets::highlighted_prompt(ui, positive);
                        if !negative.is_empty() {
                            ui.label(RichText::new("Negative").small().strong());
                            widgets::highlighted_prompt(ui, negative);
                        }
                    });
                }
            });
    }
}

/// A timestamp as local time with its offset, to the second.
fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}
