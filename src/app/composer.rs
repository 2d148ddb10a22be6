//! The composer (centre): Pack / Manual switch, manual prompt boxes, generation settings, a
//! preview of the RunConfig, and Submit (Ctrl+Enter).

use super::PromptDeskApp;
use super::state::{Command, Message};
use super::widgets;
use crate::run_config::PromptSource;
use egui::RichText;

const SAMPLERS: &[&str] = &[
    "Euler a",
    "Euler",
    "DPM++ 2M",
    "DPM++ 2M SDE",
    "DPM++ SDE",
    "DPM++ 3M SDE",
    "DDIM",
    "UniPC",
    "LMS",
    "Heun",
];
const SCHEDULERS: &[&str] = &[
    "Automatic",
    "Karras",
    "Exponential",
    "SGM Uniform",
    "Simple",
    "Normal",
];

pub fn show(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical()
            .id_salt("composer")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                message_bar(app, ui);
                mode_switch(app, ui);
                submit_row(app, ui);
                ui.add_space(6.0);
                match app.state.composer.mode {
                    PromptSource::Manual => manual_inputs(app, ui),
                    PromptSource::Pack => pack_summary(app, ui),
                }
                ui.add_space(8.0);
                settings_grid(app, ui);
                ui.add_space(6.0);
                preview(app, ui);
            });
    });
}

fn message_bar(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    let Some(message) = app.state.message.clone() else {
        return;
    };
    let (text, color) = match &message {
        Message::Info(t) => (t.as_str(), ui.visuals().text_color()),
        Message::Error(t) => (t.as_str(), ui.visuals().error_fg_color),
    };
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                    app.push(Command::DismissMessage);
                }
                if app.state.view.last_deleted.is_some() && ui.small_button("Undo").clicked() {
                    app.push(Command::UndoDelete);
                }
            });
        });
    });
}

fn mode_switch(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.heading("Compose");
        ui.add_space(12.0);
        let mode = app.state.composer.mode;
        if ui
            .selectable_label(mode == PromptSource::Pack, "Pack")
            .on_hover_text("Use the checked prompts of the selected pack")
            .clicked()
        {
            app.push(Command::SetMode(PromptSource::Pack));
        }
        if ui
            .selectable_label(mode == PromptSource::Manual, "Manual")
            .on_hover_text("Type a prompt")
            .clicked()
        {
            app.push(Command::SetMode(PromptSource::Manual));
        }
    });
}

fn manual_inputs(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    let label = ui.label("Prompt");
    ui.add(
        egui::TextEdit::multiline(&mut app.state.composer.prompt)
            .hint_text("a lighthouse on a cliff at dawn, <lora:name:0.7>")
            .desired_rows(4)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
    let label = ui.label("Negative prompt");
    ui.add(
        egui::TextEdit::multiline(&mut app.state.composer.negative)
            .hint_text("blurry, low quality")
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
}

fn pack_summary(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    let Some(pack) = app.state.selected_pack() else {
        ui.weak("Select a pack on the left and check the prompts to run.");
        return;
    };
    ui.horizontal_wrapped(|ui| {
        widgets::source_badge(ui, PromptSource::Pack);
        ui.strong(crate::packs::escape_control(&pack.id));
        let keys: Vec<&str> = pack
            .keys()
            .into_iter()
            .filter(|k| app.state.checked_keys.iter().any(|c| c == k))
            .collect();
        if keys.is_empty() {
            ui.weak("no prompt checked");
        } else {
            ui.label(format!("keys {}", keys.join(", ")));
        }
    });
    for key in &app.state.checked_keys {
        if let Some(prompt) = pack.get(key) {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                super::pack_browser::prompt_details(ui, prompt);
            });
        }
    }
}

fn settings_grid(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    let s = &mut app.state.composer.settings;
    egui::CollapsingHeader::new(RichText::new("Generation settings").strong())
        .id_salt("settings")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("settings_grid")
                .num_columns(4)
                .spacing([12.0, 6.0])
                .show(ui, |ui| {
                    let label = ui.label("Model");
                    ui.add(
                        egui::TextEdit::singleline(&mut s.model)
                            .hint_text("checkpoint (empty = current)")
                            .desired_width(220.0),
                    )
                    .labelled_by(label.id);
                    let label = ui.label("Sampler");
                    combo(ui, "sampler", &mut s.sampler, SAMPLERS).labelled_by(label.id);
                    ui.end_row();

                    let label = ui.label("Scheduler");
                    combo(ui, "scheduler", &mut s.scheduler, SCHEDULERS).labelled_by(label.id);
                    let label = ui.label("Steps");
                    ui.add(egui::DragValue::new(&mut s.steps).range(1..=150))
                        .labelled_by(label.id);
                    ui.end_row();

                    let label = ui.label("CFG scale");
                    ui.add(
                        egui::DragValue::new(&mut s.cfg_scale)
                            .range(1.0..=30.0)
                            .speed(0.1)
                            .max_decimals(2),
                    )
                    .labelled_by(label.id);
                    ui.label("Size");
                    ui.horizontal(|ui| {
                        ui.add(
                            egui::DragValue::new(&mut s.width)
                                .range(64..=4096)
                                .speed(8)
                                .suffix(" w"),
                        )
                        .on_hover_text("Width");
                        ui.label("×");
                        ui.add(
                            egui::DragValue::new(&mut s.height)
                                .range(64..=4096)
                                .speed(8)
                                .suffix(" h"),
                        )
                        .on_hover_text("Height");
                        if ui
                            .small_button("Swap")
                            .on_hover_text("Swap width and height")
                            .clicked()
                        {
                            std::mem::swap(&mut s.width, &mut s.height);
                        }
                    });
                    ui.end_row();

                    let label = ui.label("Seed");
                    ui.horizontal(|ui| {
                        ui.add_enabled(
                            !app.state.composer.random_seed,
                            egui::DragValue::new(&mut s.seed).range(0..=i64::from(u32::MAX)),
                        )
                        .labelled_by(label.id);
                        ui.checkbox(&mut app.state.composer.random_seed, "Random seed");
                    });
                    let label = ui.label("Clip skip");
                    ui.add(egui::DragValue::new(&mut s.clip_skip).range(1..=12))
                        .labelled_by(label.id);
                    ui.end_row();

                    let label = ui.label("Batch size");
                    ui.add(egui::DragValue::new(&mut s.batch_size).range(1..=64))
                        .labelled_by(label.id);
                    let label = ui.label("Batch count");
                    ui.add(egui::DragValue::new(&mut s.batch_count).range(1..=100))
                        .labelled_by(label.id);
                    ui.end_row();
                });
        });
}

fn combo(ui: &mut egui::Ui, id: &str, value: &mut String, options: &[&str]) -> egui::Response {
    egui::ComboBox::from_id_salt(id)
        .selected_text(value.as_str())
        .width(160.0)
        .show_ui(ui, |ui| {
            for option in options {
                ui.selectable_value(value, (*option).to_owned(), *option);
            }
            if !value.is_empty() && !options.contains(&value.as_str()) {
                let current = value.clone();
                ui.selectable_value(value, current.clone(), current);
            }
        })
        .response
}

fn submit_row(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    let blocker = app.state.submit_blocker();
    ui.horizontal(|ui| {
        let button =
            egui::Button::new(RichText::new("Submit").strong()).min_size([120.0, 30.0].into());
        let response = ui
            .add_enabled(blocker.is_none(), button)
            .on_hover_text("Record this job in the history (Ctrl+Enter)");
        if response.clicked() {
            app.push(Command::Submit);
        }
        match &blocker {
            Some(reason) => {
                ui.label(RichText::new(reason).color(ui.visuals().warn_fg_color));
            }
            None => {
                ui.weak("Ctrl+Enter");
            }
        }
    });
}

fn preview(app: &mut PromptDeskApp, ui: &mut egui::Ui) {
    egui::CollapsingHeader::new("RunConfig preview")
        .id_salt("preview")
        .default_open(false)
        .show(ui, |ui| match app.state.draft_run_config() {
            Ok(cfg) => {
                let mut text = serde_json::to_string_pretty(&cfg).unwrap_or_default();
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(format!("config hash {}", &cfg.config_hash()[..12]))
                            .small()
                            .monospace(),
                    );
                    if ui.small_button("Copy").clicked() {
                        ui.ctx().copy_text(text.clone());
                    }
                });
                let label = ui.label(RichText::new("JSON that Submit will record").small());
                ui.add(
                    egui::TextEdit::multiline(&mut text)
                        .code_editor()
                        .interactive(false)
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
            }
            Err(e) => {
                ui.weak(e);
            }
        });
}
