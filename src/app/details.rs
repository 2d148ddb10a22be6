//! The selected job's details (right): every field of the record, its prompts as recorded,
//! and the actions Load into composer, Copy prompt, Copy as infotext, Cancel and Delete.
//!
//! Its state, [`DetailsState`], holds the selected record's text formatted once per record
//! and store generation, so a frame copies nothing from the store. Every action is a command.

use super::commands::{Command, CommandQueue};
use super::state::{AppState, ViewContext};
use super::widgets;
use crate::history::is_stablenew_import;
use crate::job_record::{JobRecord, JobStatus};
use crate::run_config::{PromptSource, RunMode, RunSource};
use egui::RichText;

/// The details panel's state: the shown record's text, kept while the record is unchanged.
#[derive(Debug, Default)]
pub struct DetailsState {
    shown: Option<Shown>,
    /// Another job was selected: the next frame shows its details from the top.
    scroll_to_top: bool,
    /// Enter in the table: the next frame gives the keyboard focus to the first action.
    focus_first: bool,
    /// The thumbnails and the viewer's image.
    cache: super::viewer::ImageCache,
    /// The image viewer.
    viewer: super::viewer::Viewer,
}

/// One row of the details: a name, its value, and what it means (on hover).
#[derive(Debug)]
struct Field {
    name: std::borrow::Cow<'static, str>,
    value: String,
    help: Option<&'static str>,
}

fn field(name: impl Into<std::borrow::Cow<'static, str>>, value: impl Into<String>) -> Field {
    Field {
        name: name.into(),
        value: value.into(),
        help: None,
    }
}

fn explained(name: &'static str, value: impl Into<String>, help: &'static str) -> Field {
    Field {
        name: name.into(),
        value: value.into(),
        help: Some(help),
    }
}

/// What the panel shows of one record.
#[derive(Debug)]
struct Shown {
    job_id: String,
    generation: u64,
    source: PromptSource,
    cancellable: bool,
    /// Failed or cancelled: Re-queue runs it again.
    requeueable: bool,
    fields: Vec<Field>,
    /// The images the job produced (path relative to the data folder, seed, size).
    images: Vec<crate::outputs::OutputImage>,
    /// (key, positive, negative) per prompt.
    prompts: Vec<(Option<String>, String, String)>,
}

/// Which program recorded the job, as a user knows them.
fn created_by(record: &JobRecord) -> &'static str {
    if is_stablenew_import(record) {
        return "imported from StableNew";
    }
    match record.source {
        RunSource::Gui => "promptdesk app",
        RunSource::Cli => "promptdesk CLI (promptdesk submit)",
        RunSource::Api => "another program (API)",
    }
}

/// The run mode with what it means.
fn run_mode_text(mode: RunMode) -> &'static str {
    match mode {
        RunMode::Direct => "direct (run at once)",
        RunMode::Queue => "queue (waits its turn in a job queue)",
    }
}

/// The name of the time a job ended, which depends on how it ended.
fn end_time_name(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Completed => "Completed",
        JobStatus::Failed => "Failed at",
        JobStatus::Cancelled => "Cancelled at",
        _ => "Ended",
    }
}

const CREATED_HELP: &str =
    "When the job was submitted (for an imported job: when StableNew created it).";
const SOURCE_HELP: &str =
    "Where the prompt came from: the checked keys of a pack (PACK) or typed by hand (MANUAL).";
const CREATED_BY_HELP: &str = "Which program recorded the job: the promptdesk app, the promptdesk CLI (`promptdesk submit`), or an import of a StableNew history (File > Import StableNew history).";
const RUN_MODE_HELP: &str = "How the job was to be run: direct = at once, queue = after the jobs before it in the front end's queue. The promptdesk app records direct, `promptdesk submit` queue; imported jobs keep StableNew's. It does not change the image.";
const HASH_HELP: &str = "SHA-256 of the generation settings only (model, sampler, scheduler, steps, CFG, size, seed, batch, clip skip), not of the prompts: jobs with the same settings share it.";
const FORMAT_HELP: &str = "The version of the history's record format this job was written in.";
const NOTE_HELP: &str = "Why the job ended this way.";

impl Shown {
    fn of(record: &JobRecord, generation: u64) -> Shown {
        let s = &record.run_config.settings;
        let unknown = record.run_config.unknown_settings();
        // A setting the source never recorded shows as "—", never as a placeholder value.
        let known = |name: &str, text: String| {
            if unknown.iter().any(|u| u == name) {
                "— (not recorded)".to_owned()
            } else {
                text
            }
        };
        let seed = known(
            "seed",
            if s.seed < 0 {
                "random (-1)".to_owned()
            } else {
                s.seed.to_string()
            },
        );
        let source = match record.prompt_source {
            PromptSource::Pack => "PACK (a pack's prompts)",
            PromptSource::Manual => "MANUAL (a typed prompt)",
        };
        let mut fields = vec![
            field("Job id", record.job_id.clone()),
            explained("Created", when(record.created_at), CREATED_HELP),
            field("Status", record.status_text()),
            explained("Source", source, SOURCE_HELP),
            field(
                "Pack",
                record.prompt_pack_id.clone().unwrap_or_else(|| "—".into()),
            ),
            field(
                "Keys",
                if record.prompt_keys.is_empty() {
                    "—".into()
                } else {
                    record.prompt_keys.join(", ")
                },
            ),
            explained("Created by", created_by(record), CREATED_BY_HELP),
            explained("Run mode", run_mode_text(record.run_mode), RUN_MODE_HELP),
            field(
                "Model",
                known(
                    "model",
                    if s.model.is_empty() {
                        "— (the front end's current one)".into()
                    } else {
                        s.model.clone()
                    },
                ),
            ),
            field("Sampler", known("sampler", s.sampler.clone())),
            field("Scheduler", known("scheduler", s.scheduler.clone())),
            field("Steps", known("steps", s.steps.to_string())),
            field(
                "CFG scale",
                known("cfg_scale", super::history_table::format_cfg(s.cfg_scale)),
            ),
            field(
                "Size",
                known(
                    "width",
                    known("height", format!("{}×{}", s.width, s.height)),
                ),
            ),
            field("Seed", seed),
            field(
                "Batch",
                known(
                    "batch_size",
                    known(
                        "batch_count",
                        format!("{} × {} (size × count)", s.batch_size, s.batch_count),
                    ),
                ),
            ),
            field("Clip skip", known("clip_skip", s.clip_skip.to_string())),
            explained("Config hash", record.config_hash.clone(), HASH_HELP),
            explained(
                "Record format",
                format!("version {}", record.schema_version),
                FORMAT_HELP,
            ),
        ];
        // The seed the backend drew, where the record knows it (next to the configured one).
        if let Some(used) = crate::history::seed_used(&record.run_config)
            && let Some(at) = fields.iter().position(|f| f.name == "Seed")
        {
            fields.insert(at + 1, field("Seed used", used.to_string()));
        }
        let styles = record.run_config.prompt_styles();
        if !styles.is_empty() {
            let names: Vec<String> = styles.iter().map(ToString::to_string).collect();
            fields.push(field("Styles", names.join(", ")));
        }
        if let Some(seed) = record.run_config.wildcard_seed() {
            fields.push(field("Draw seed", seed.to_string()));
        }
        // What was sent: every rendered request (matrix values, wildcard draws, styles).
        let rendered = record.run_config.rendered();
        if !rendered.is_empty() {
            fields.push(field(
                "Requests sent",
                crate::wording::plural(rendered.len(), "request"),
            ));
            const SHOWN: usize = 20;
            for r in rendered.iter().take(SHOWN) {
                let head = if r.key.is_empty() {
                    format!("Request #{}", r.variant)
                } else {
                    format!("Key {} #{}", r.key, r.variant)
                };
                let mut text = r.prompt.clone();
                if !r.negative_prompt.trim().is_empty() {
                    text.push_str(&format!("\nNegative: {}", r.negative_prompt));
                }
                if !r.values.is_empty() {
                    let values: Vec<String> =
                        r.values.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    text.push_str(&format!("\nValues: {}", values.join(", ")));
                }
                fields.push(field(head, text));
            }
            if rendered.len() > SHOWN {
                fields.push(field(
                    "More requests",
                    format!(
                        "{} more (export the job to see them all)",
                        rendered.len() - SHOWN
                    ),
                ));
            }
        }
        if let Some(t) = record.started_at {
            fields.push(field("Started", when(t)));
        }
        if let Some(t) = record.completed_at {
            fields.push(field(end_time_name(record.status), when(t)));
        }
        if let Some(d) = record.duration_ms {
            fields.push(field("Duration", format!("{:.1} s", d as f64 / 1000.0)));
        }
        if let Some(e) = &record.error_message {
            let name = if record.status == JobStatus::Failed {
                "Error"
            } else {
                "Note"
            };
            fields.push(explained(name, e.clone(), NOTE_HELP));
        }
        result_fields(record, &mut fields);
        let mut prompts: Vec<(Option<String>, String, String)> = record
            .run_config
            .prompt_pairs()
            .into_iter()
            .enumerate()
            .map(|(i, (positive, negative))| {
                (record.prompt_keys.get(i).cloned(), positive, negative)
            })
            .collect();
        // An import that recorded no prompt text: StableNew's summary stands in, marked.
        if prompts.iter().all(|(_, p, n)| p.is_empty() && n.is_empty())
            && let Some(summary) =
                crate::history::query::summary_prompt(&record.run_config.prompt_payload)
        {
            fields.push(field(
                "Prompt",
                format!("{summary} (StableNew's summary: the full prompt was not recorded)"),
            ));
            prompts.clear();
        }
        Shown {
            job_id: record.job_id.clone(),
            generation,
            source: record.prompt_source,
            cancellable: AppState::can_cancel(record),
            requeueable: super::queue_runner::can_requeue(record),
            fields,
            images: record
                .result
                .as_ref()
                .map(|r| r.images.clone())
                .unwrap_or_default(),
            prompts,
        }
    }
}

impl DetailsState {
    /// The image the viewer shows: job id and 0-based index.
    pub fn viewer_open(&self) -> Option<(String, usize)> {
        self.viewer
            .open
            .as_ref()
            .map(|o| (o.job_id.clone(), o.index))
    }

    /// Opens the viewer on image `index` of job `job_id`.
    pub fn open_viewer(&mut self, job_id: &str, index: usize) {
        self.viewer.open(job_id, index);
    }

    /// Opens the viewer on image `index` of job `job_id` from the Gallery (its arrows step
    /// through the Gallery's images).
    pub fn open_viewer_in_gallery(&mut self, job_id: &str, index: usize) {
        self.viewer.open(job_id, index);
        self.viewer.in_gallery = true;
    }

    /// True while the viewer is open and steps through the Gallery.
    pub fn viewer_in_gallery(&self) -> bool {
        self.viewer.open.is_some() && self.viewer.in_gallery
    }

    /// Draws the image viewer when it is open (before the panels: it takes the keys it uses).
    pub fn show_viewer(
        &mut self,
        view: &ViewContext<'_>,
        ctx: &egui::Context,
        commands: &mut CommandQueue,
    ) {
        self.viewer.show(&mut self.cache, view, ctx, commands);
    }

    /// Shows the next job's details from the top (a new selection, even of the job shown
    /// before the panel was closed).
    pub(crate) fn scroll_to_top(&mut self) {
        self.scroll_to_top = true;
    }

    /// Gives the keyboard focus to the first action (Load into composer) when next drawn, so
    /// Tab, Space and Enter work the panel from the keyboard.
    pub(crate) fn focus_first_action(&mut self) {
        self.focus_first = true;
    }

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
            let another = self.shown.as_ref().is_none_or(|s| s.job_id != job_id);
            self.scroll_to_top |= another;
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
        thumbs: &mut super::thumb_textures::ThumbTextures,
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
            let (rating, favorite) = super::viewer::job_rating(&shown.images);
            if rating.is_some() || favorite {
                let mut text = rating
                    .map(|r| super::viewer::stars_text(Some(r)))
                    .unwrap_or_default();
                if favorite {
                    text.push_str(" ♥");
                }
                ui.label(text.trim())
                    .on_hover_text("The job's rating: its best image's (♥: it has a favourite)");
            }
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
            let load = ui
                .button("Load into composer")
                .on_hover_text("Same origin, keys and settings");
            if std::mem::take(&mut self.focus_first) {
                load.request_focus();
            }
            if load.clicked() {
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
            let compare_keys = super::shortcuts::ADD_TO_COMPARE;
            if ui
                .button("Add to compare")
                .on_hover_text(format!(
                    "Compare this job with others, side by side ({})",
                    super::shortcuts::keys_text(&compare_keys)
                ))
                .clicked()
                || (ui.ctx().memory(|m| m.top_modal_layer().is_none())
                    && ui.input_mut(|i| i.consume_shortcut(&compare_keys)))
            {
                commands.push(Command::AddToCompare(super::compare::CompareItem::job(
                    id.clone(),
                )));
            }
            if shown.cancellable && ui.button("Cancel job").clicked() {
                commands.push(Command::CancelJob(id.clone()));
            }
            if shown.requeueable
                && ui
                    .button("Re-queue")
                    .on_hover_text("Queue this job again, at the end of the queue")
                    .clicked()
            {
                commands.push(Command::RequeueJob(id.clone()));
            }
            if ui
                .button(RichText::new("Delete").color(ui.visuals().error_fg_color))
                .on_hover_text(format!(
                    "Delete this record ({} or Undo in the status line restores it)",
                    super::shortcuts::undo_keys()
                ))
                .clicked()
            {
                commands.push(Command::DeleteJob(id.clone()));
            }
        });
        ui.separator();
        let mut scroll = egui::ScrollArea::vertical()
            .id_salt("details_scroll")
            .auto_shrink([false, false]);
        if std::mem::take(&mut self.scroll_to_top) {
            scroll = scroll.vertical_scroll_offset(0.0);
        }
        scroll.show(ui, |ui| {
            if !shown.images.is_empty() {
                super::viewer::thumbnail_strip(
                    ui,
                    thumbs,
                    &mut self.viewer,
                    id,
                    &shown.images,
                    ctx.data_dir,
                    commands,
                );
            }
            images(ui, &shown.images, ctx.data_dir, commands);
            egui::Grid::new("details_grid")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    for f in &shown.fields {
                        let name = ui.label(RichText::new(f.name.as_ref()).strong());
                        let value =
                            ui.add(egui::Label::new(RichText::new(&f.value).monospace()).wrap());
                        if let Some(help) = f.help {
                            name.on_hover_text(help);
                            value.on_hover_text(help);
                        }
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

const BACKEND_HELP: &str =
    "The backend that ran the job: its name in the Backends window, its kind and URL.";
const MODEL_USED_HELP: &str = "The checkpoint the backend reports it used (name and short hash), which may differ from the one asked for.";
const WARNINGS_HELP: &str =
    "Things that did not fail the job (the backend used another sampler than asked, for instance).";

/// The fields of a job that ran: which backend ran it, the model it used, its warnings.
fn result_fields(record: &JobRecord, fields: &mut Vec<Field>) {
    match &record.result {
        Some(result) => {
            let mut backend = result.backend.clone();
            if !result.backend_kind.is_empty() || !result.backend_url.is_empty() {
                backend.push_str(&format!(
                    " ({} {})",
                    result.backend_kind, result.backend_url
                ));
            }
            fields.push(explained(
                "Backend",
                backend.trim().to_owned(),
                BACKEND_HELP,
            ));
            if let Some(name) = &result.model_name {
                let text = match &result.model_hash {
                    Some(hash) => format!("{name} [{hash}]"),
                    None => name.clone(),
                };
                fields.push(explained("Model used", text, MODEL_USED_HELP));
            }
            if !result.warnings.is_empty() {
                fields.push(explained(
                    "Warnings",
                    result.warnings.join("\n"),
                    WARNINGS_HELP,
                ));
            }
            fields.push(field(
                "Images",
                crate::wording::plural(result.images.len(), "image"),
            ));
        }
        None => {
            if let Some(backend) = &record.backend {
                fields.push(explained("Backend", backend.clone(), BACKEND_HELP));
            }
        }
    }
}

/// The images of a job: path, seed and size; a click copies the full path, Open shows it
/// in the system's viewer.
fn images(
    ui: &mut egui::Ui,
    images: &[crate::outputs::OutputImage],
    data_dir: &std::path::Path,
    commands: &mut CommandQueue,
) {
    if images.is_empty() {
        return;
    }
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.strong("Images");
        for image in images {
            ui.horizontal_wrapped(|ui| {
                if ui
                    .link(RichText::new(&image.path).monospace())
                    .on_hover_text("Copy the image's full path")
                    .clicked()
                {
                    commands.push(Command::CopyPath(image.path.clone()));
                }
                ui.weak(format!(
                    "seed {} · {}×{}",
                    image.seed, image.width, image.height
                ));
                let full = data_dir.join(&image.path);
                ui.hyperlink_to("Open", format!("file://{}", full.display()))
                    .on_hover_text("Open with the system's image viewer");
            });
        }
    });
    ui.add_space(6.0);
}

/// A timestamp as local time with its offset, to the second.
fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}
