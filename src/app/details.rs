//! The selected job's details (right): every field of the record, its prompts as recorded,
//! and the actions Load into composer, Copy prompt, Copy as infotext, Cancel and Delete.

use super::PromptDeskApp;
use super::state::{AppState, Command};
use super::widgets;
use egui::RichText;

pub fn show(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    let Some(id) = app.state.view.selected.clone() else {
        return;
    };
    let Some(record) = app.state.record(&id) else {
        return;
    };
    egui::Panel::right("job_details")
        .resizable(true)
        .default_size(380.0)
        .size_range(260.0..=800.0)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("Job");
                widgets::source_badge(ui, record.prompt_source);
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.small_button("×").on_hover_text("Close (Esc)").clicked()
                        || ui.input(|i| i.key_pressed(egui::Key::Escape))
                    {
                        app.push(Command::SelectJob(None));
                    }
                });
            });
            ui.horizontal_wrapped(|ui| {
                if ui
                    .button("Load into composer")
                    .on_hover_text("Same origin, keys and settings")
                    .clicked()
                {
                    app.push(Command::LoadIntoComposer(id.clone()));
                }
                if ui.button("Copy prompt").clicked() {
                    app.push(Command::CopyPrompt(id.clone()));
                }
                if ui
                    .button("Copy as infotext")
                    .on_hover_text("AUTOMATIC1111 parameters text")
                    .clicked()
                {
                    app.push(Command::CopyInfotext(id.clone()));
                }
                if AppState::can_cancel(&record) && ui.button("Cancel job").clicked() {
                    app.push(Command::CancelJob(id.clone()));
                }
                if ui
                    .button(RichText::new("Delete").color(ui.visuals().error_fg_color))
                    .on_hover_text("Delete this record (undo with Ctrl+Shift+Z)")
                    .clicked()
                {
                    app.push(Command::DeleteJob(id.clone()));
                }
            });
            ui.separator();
            egui::ScrollArea::vertical()
                .id_salt("details_scroll")
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    let s = &record.run_config.settings;
                    let seed = if s.seed < 0 {
                        "random (-1)".to_owned()
                    } else {
                        s.seed.to_string()
                    };
                    let fields: Vec<(&str, String)> = vec![
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
                    let mut extra: Vec<(&str, String)> = Vec::new();
                    if let Some(t) = record.started_at {
                        extra.push(("Started", when(t)));
                    }
                    if let Some(t) = record.completed_at {
                        extra.push(("Completed", when(t)));
                    }
                    if let Some(d) = record.duration_ms {
                        extra.push(("Duration", format!("{:.1} s", d as f64 / 1000.0)));
                    }
                    if let Some(e) = &record.error_message {
                        extra.push(("Error", e.clone()));
                    }
                    egui::Grid::new("details_grid")
                        .num_columns(2)
                        .striped(true)
                        .show(ui, |ui| {
                            for (name, value) in fields.iter().chain(extra.iter()) {
                                ui.label(RichText::new(*name).strong());
                                ui.add(egui::Label::new(RichText::new(value).monospace()).wrap());
                                ui.end_row();
                            }
                        });
                    ui.add_space(6.0);
                    let pairs = record.run_config.prompt_pairs();
                    let keys = &record.prompt_keys;
                    for (i, (positive, negative)) in pairs.iter().enumerate() {
                        egui::Frame::group(ui.style()).show(ui, |ui| {
                            ui.set_width(ui.available_width());
                            match keys.get(i) {
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
        });
}

/// A timestamp as local time with its offset, to the second.
fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}
