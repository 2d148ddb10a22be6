//! The Backends window: the configured backends (name, kind, URL, its last connection test)
//! with Edit, Remove and Test connection; a form to add or edit one (name, kind, URL, user,
//! password (masked), ComfyUI workflow from `workflows/` in the data folder). Saving,
//! removing and testing are commands carried out on background tasks (`backends.rs`).
//!
//! Also the notice shown when Run queue is switched on with no backend configured.

use super::backends::TestState;
use super::commands::{Command, CommandQueue};
use super::state::ViewContext;
use crate::backends::{BackendConfig, BackendKind, BackendsFile};
use egui::RichText;

/// The window's own state: open or not, and the form being filled in.
#[derive(Debug, Default)]
pub struct BackendsWindow {
    pub open: bool,
    pub form: Option<BackendForm>,
    /// "Run queue needs a backend" is shown.
    pub no_backend_notice: bool,
}

/// The add / edit form.
#[derive(Debug, Clone)]
pub struct BackendForm {
    /// The backend edited (`None`: a new one); its fields a newer version wrote are kept.
    pub base: Option<BackendConfig>,
    pub name: String,
    pub kind: BackendKind,
    pub url: String,
    pub user: String,
    pub password: String,
    /// Empty: ComfyUI's built-in txt2img graph.
    pub workflow: String,
    /// Why the form cannot be saved yet.
    pub error: Option<String>,
}

impl BackendForm {
    fn new() -> BackendForm {
        BackendForm {
            base: None,
            name: String::new(),
            kind: BackendKind::A1111,
            url: "http://127.0.0.1:7860".into(),
            user: String::new(),
            password: String::new(),
            workflow: String::new(),
            error: None,
        }
    }

    fn edit(config: &BackendConfig) -> BackendForm {
        BackendForm {
            base: Some(config.clone()),
            name: config.name.clone(),
            kind: config.kind,
            url: config.url.clone(),
            user: config.user.clone().unwrap_or_default(),
            password: config.password.clone().unwrap_or_default(),
            workflow: config.workflow.clone().unwrap_or_default(),
            error: None,
        }
    }

    /// The backend the form describes, or why it cannot be saved.
    fn config(&self, others: &[BackendConfig]) -> Result<BackendConfig, String> {
        let name = self.name.trim();
        let previous = self.base.as_ref().map(|b| b.name.as_str());
        if previous != Some(name) && others.iter().any(|b| b.name == name) {
            return Err(format!(
                "A backend named {name} exists already: choose another name."
            ));
        }
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let mut config = self
            .base
            .clone()
            .unwrap_or_else(|| BackendConfig::new(name, self.kind, &self.url));
        config.name = name.to_owned();
        config.kind = self.kind;
        config.url = crate::backends::config::normalize_url(&self.url);
        config.user = text(&self.user);
        config.password = Some(self.password.clone()).filter(|p| !p.is_empty());
        config.workflow = match self.kind {
            BackendKind::ComfyUi => text(&self.workflow),
            BackendKind::A1111 => None,
        };
        // The same checks the file applies (a name, an http(s) URL without credentials).
        BackendsFile::default()
            .upsert(config.clone())
            .map_err(|e| e.to_string())?;
        Ok(config)
    }
}

/// Draws the window (when open) and the no-backend notice.
pub fn show(
    window: &mut BackendsWindow,
    ctx: &ViewContext<'_>,
    egui_ctx: &egui::Context,
    commands: &mut CommandQueue,
) {
    no_backend_notice(window, egui_ctx, commands);
    if !window.open {
        return;
    }
    let mut open = true;
    egui::Window::new("Backends")
        .open(&mut open)
        .default_width(560.0)
        .collapsible(false)
        .show(egui_ctx, |ui| contents(window, ctx, ui, commands));
    window.open &= open;
}

fn contents(
    window: &mut BackendsWindow,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    let backends = ctx.backends;
    ui.label(format!(
        "Saved in {} (readable by you only: it may hold passwords).",
        BackendsFile::path(ctx.data_dir).display()
    ));
    if let Some(e) = &backends.error {
        ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
    }
    if backends.is_saving() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Saving...");
        });
    }
    ui.separator();
    if backends.configs().is_empty() {
        ui.weak("No backend yet: add AUTOMATIC1111 / Forge or ComfyUI below.");
    }
    for config in backends.configs() {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.strong(&config.name);
                ui.weak(format!(
                    "{} · {}",
                    kind_name(config.kind),
                    config.base_url()
                ));
            });
            ui.horizontal(|ui| {
                let testing = matches!(backends.test(&config.name), Some(TestState::Running(_)));
                if ui
                    .add_enabled(!testing, egui::Button::new("Test connection"))
                    .on_hover_text("Read the models, samplers and schedulers it offers")
                    .clicked()
                {
                    commands.push(Command::TestBackend(config.name.clone()));
                }
                if ui.button("Edit").clicked() {
                    window.form = Some(BackendForm::edit(config));
                }
                if ui
                    .button(RichText::new("Remove").color(ui.visuals().error_fg_color))
                    .clicked()
                {
                    commands.push(Command::RemoveBackend(config.name.clone()));
                }
            });
            match backends.test(&config.name) {
                Some(TestState::Running(_)) => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Testing...");
                    });
                }
                Some(TestState::Done(Ok(c))) => {
                    ui.label(format!(
                        "Connected: {}, {}, {}.",
                        crate::wording::plural(c.models.len(), "model"),
                        crate::wording::plural(c.samplers.len(), "sampler"),
                        crate::wording::plural(c.schedulers.len(), "scheduler"),
                    ));
                }
                Some(TestState::Done(Err(e))) => {
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!("⚠ {e}")).color(ui.visuals().error_fg_color),
                        )
                        .wrap(),
                    );
                }
                None => {}
            }
        });
    }
    ui.separator();
    match &mut window.form {
        None => {
            if ui.button("Add backend").clicked() {
                window.form = Some(BackendForm::new());
            }
        }
        Some(form) => {
            let done = form_ui(form, backends.configs(), backends.workflows(), ui, commands);
            if done {
                window.form = None;
            }
        }
    }
}

fn kind_name(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::A1111 => "AUTOMATIC1111 / Forge",
        BackendKind::ComfyUi => "ComfyUI",
    }
}

/// The form; true when it is done with (saved or cancelled).
fn form_ui(
    form: &mut BackendForm,
    others: &[BackendConfig],
    workflows: &[String],
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) -> bool {
    ui.strong(if form.base.is_some() {
        "Edit backend"
    } else {
        "New backend"
    });
    egui::Grid::new("backend_form")
        .num_columns(2)
        .show(ui, |ui| {
            let name = ui.label("Name");
            ui.add(egui::TextEdit::singleline(&mut form.name).hint_text("e.g. forge"))
                .labelled_by(name.id);
            ui.end_row();

            ui.label("Kind");
            ui.horizontal(|ui| {
                for kind in [BackendKind::A1111, BackendKind::ComfyUi] {
                    if ui
                        .radio(form.kind == kind, kind_name(kind))
                        .clicked()
                        && form.kind != kind
                    {
                        // The usual port of the other kind, unless the URL was changed.
                        let default_of = |k| match k {
                            BackendKind::A1111 => "http://127.0.0.1:7860",
                            BackendKind::ComfyUi => "http://127.0.0.1:8188",
                        };
                        if form.url.trim() == default_of(form.kind) || form.url.trim().is_empty()
                        {
                            form.url = default_of(kind).to_owned();
                        }
                        form.kind = kind;
                    }
                }
            });
            ui.end_row();

            let url = ui.label("URL");
            ui.add(egui::TextEdit::singleline(&mut form.url).desired_width(280.0))
                .labelled_by(url.id);
            ui.end_row();

            let user = ui.label("User");
            ui.add(egui::TextEdit::singleline(&mut form.user).hint_text("only with --api-auth"))
                .labelled_by(user.id);
            ui.end_row();

            let password = ui.label("Password");
            ui.add(egui::TextEdit::singleline(&mut form.password).password(true))
                .labelled_by(password.id);
            ui.end_row();

            if form.kind == BackendKind::ComfyUi {
                let label = ui.label("Workflow");
                let shown = if form.workflow.is_empty() {
                    "built-in txt2img".to_owned()
                } else {
                    form.workflow.clone()
                };
                egui::ComboBox::from_id_salt("backend_workflow")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut form.workflow, String::new(), "built-in txt2img");
                        for name in workflows {
                            ui.selectable_value(&mut form.workflow, name.clone(), name);
                        }
                    })
                    .response
                    .labelled_by(label.id)
                    .on_hover_text(
                        "A workflow in ComfyUI's API format, from the workflows folder in the data folder",
                    );
                ui.end_row();
            }
        });
    if let Some(e) = &form.error {
        ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {e}"));
    }
    let mut done = false;
    ui.horizontal(|ui| {
        if ui.button("Save backend").clicked() {
            match form.config(others) {
                Ok(config) => {
                    commands.push(Command::SaveBackend {
                        previous: form.base.as_ref().map(|b| b.name.clone()),
                        config: Box::new(config),
                    });
                    done = true;
                }
                Err(e) => form.error = Some(e),
            }
        }
        if ui.button("Cancel").clicked() {
            done = true;
        }
    });
    done
}

/// "Run queue needs a backend": offers to open the Backends window.
fn no_backend_notice(
    window: &mut BackendsWindow,
    egui_ctx: &egui::Context,
    commands: &mut CommandQueue,
) {
    if !window.no_backend_notice {
        return;
    }
    egui::Modal::new(egui::Id::unique("no_backend_notice")).show(egui_ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading("No backend configured");
        ui.label(
            "Run queue sends the queued jobs to an AUTOMATIC1111 / Forge or ComfyUI server. Add one in the Backends window first.",
        );
        ui.horizontal(|ui| {
            if ui.button("Open Backends").clicked() {
                commands.push(Command::OpenBackends);
            }
            if ui.button("Close").clicked() {
                window.no_backend_notice = false;
            }
        });
    });
}
