//! The composer (central area, Compose view): Pack / Manual switch, manual prompt boxes,
//! generation settings, a preview of the RunConfig, and Submit (Ctrl+Enter).
//!
//! Its state is [`Composer`]: the prompt, the settings and the mode are form fields bound
//! directly; Submit and the mode switch are commands (they read or change the selection).

use super::commands::{Command, CommandQueue};
use super::persist::Persisted;
use super::state::{ViewContext, draft_run_config, submit_blocker, testing_pub_struct};
use super::widgets;
use crate::run_config::{GenerationSettings, PromptSource};
use egui::RichText;

testing_pub_struct! {
    /// The composer's inputs.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Composer {
        mode: PromptSource,
        prompt: String,
        negative: String,
        settings: GenerationSettings,
        /// When set, the recorded seed is -1 (random) whatever `settings.seed` says.
        random_seed: bool,
    }
}

impl Default for Composer {
    fn default() -> Self {
        Composer {
            mode: PromptSource::Pack,
            prompt: String::new(),
            negative: String::new(),
            settings: GenerationSettings::default(),
            random_seed: true,
        }
    }
}

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

impl Composer {
    /// The composer as the last run left it.
    pub fn restored(persisted: &Persisted) -> Composer {
        let mut composer = Composer::default();
        if let Some(settings) = &persisted.settings {
            composer.settings = settings.clone();
        }
        if let Some(random) = persisted.random_seed {
            composer.random_seed = random;
        }
        composer
    }

    /// Saves what the next run restores ([`Composer::restored`]).
    pub fn save(&self, persisted: &mut Persisted) {
        persisted.settings = Some(self.settings.clone());
        persisted.random_seed = Some(self.random_seed);
    }

    /// Draws the composer's header: the Pack / Manual switch and the Submit row (the central
    /// area keeps it in view; the rest, [`Composer::show`], scrolls).
    pub fn show_header(
        &mut self,
        ctx: &ViewContext<'_>,
        ui: &mut egui::Ui,
        commands: &mut CommandQueue,
    ) {
        mode_switch(self, ui, commands);
        submit_row(self, ctx, ui, commands);
    }

    /// Draws the composer's body (prompts, settings, preview) into `ui` (the central area gives
    /// it a scroll area).
    pub fn show(&mut self, ctx: &ViewContext<'_>, ui: &mut egui::Ui, _commands: &mut CommandQueue) {
        match self.mode {
            PromptSource::Manual => manual_inputs(self, ui),
            PromptSource::Pack => pack_summary(ctx, ui),
        }
        ui.add_space(8.0);
        settings_grid(self, ui);
        ui.add_space(6.0);
        preview(self, ctx, ui);
    }
}

fn mode_switch(composer: &Composer, ui: &mut egui::Ui, commands: &mut CommandQueue) {
    ui.horizontal(|ui| {
        let mode = composer.mode;
        if ui
            .selectable_label(mode == PromptSource::Pack, "Pack")
            .on_hover_text("Use the checked prompts of the selected pack")
            .clicked()
        {
            commands.push(Command::SetMode(PromptSource::Pack));
        }
        if ui
            .selectable_label(mode == PromptSource::Manual, "Manual")
            .on_hover_text("Type a prompt")
            .clicked()
        {
            commands.push(Command::SetMode(PromptSource::Manual));
        }
    });
}

fn manual_inputs(composer: &mut Composer, ui: &mut egui::Ui) {
    let label = ui.label("Prompt");
    ui.add(
        egui::TextEdit::multiline(&mut composer.prompt)
            .hint_text("a lighthouse on a cliff at dawn, <lora:name:0.7>")
            .desired_rows(4)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
    let label = ui.label("Negative prompt");
    ui.add(
        egui::TextEdit::multiline(&mut composer.negative)
            .hint_text("blurry, low quality")
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
}

fn pack_summary(ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    let Some(pack) = ctx.selected_pack else {
        ui.weak("Select a pack on the left and check the prompts to run.");
        return;
    };
    ui.horizontal_wrapped(|ui| {
        widgets::source_badge(ui, PromptSource::Pack);
        ui.strong(crate::packs::escape_control(&pack.id));
        let keys: Vec<&str> = pack
            .keys()
            .into_iter()
            .filter(|k| ctx.checked_keys.iter().any(|c| c == k))
            .collect();
        if keys.is_empty() {
            ui.weak("no prompt checked");
        } else {
            ui.label(format!("keys {}", keys.join(", ")));
        }
    });
    for key in ctx.checked_keys {
        if let Some(prompt) = pack.get(key) {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                super::pack_browser::prompt_details(ui, prompt, pack.matrix.as_ref());
            });
        }
    }
}

fn settings_grid(composer: &mut Composer, ui: &mut egui::Ui) {
    let Composer {
        settings: s,
        random_seed,
        ..
    } = composer;
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
                            !*random_seed,
                            egui::DragValue::new(&mut s.seed).range(0..=i64::from(u32::MAX)),
                        )
                        .labelled_by(label.id);
                        ui.checkbox(random_seed, "Random seed");
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

fn submit_row(
    composer: &Composer,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    let blocker = submit_blocker(composer, ctx.selected_pack, ctx.checked_keys, &ctx.history);
    ui.horizontal(|ui| {
        let button =
            egui::Button::new(RichText::new("Submit").strong()).min_size([120.0, 30.0].into());
        let response = ui
            .add_enabled(blocker.is_none(), button)
            .on_hover_text("Record this job in the history (Ctrl+Enter)");
        if response.clicked() {
            commands.push(Command::Submit);
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

fn preview(composer: &Composer, ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    egui::CollapsingHeader::new("RunConfig preview")
        .id_salt("preview")
        .default_open(false)
        .show(ui, |ui| {
            match draft_run_config(composer, ctx.selected_pack, ctx.checked_keys) {
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
            }
        });
}
