//! `promptdesk backends add|list|remove|test`: the servers jobs run on, kept in
//! `backends.json` in the data folder (mode 0600: it holds passwords in plain text).

use super::command_error::CommandError;
use super::context::Context;
use super::output::{one_line, plural};
use crate::backends::config::{BackendsFile, ConfigError, WORKFLOWS_DIR_NAME};
use crate::backends::workflow::{self, Workflow};
use crate::backends::{BackendConfig, BackendKind, Catalogues};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::Path;

#[derive(Args, Debug)]
pub(crate) struct BackendsArgs {
    #[command(subcommand)]
    command: BackendsCommand,
}

#[derive(Subcommand, Debug)]
enum BackendsCommand {
    /// Add a backend (or replace the one with this name).
    Add(AddArgs),
    /// List the configured backends (passwords are not shown).
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Remove a backend.
    Remove { name: String },
    /// Connect and print what the backend offers: models, samplers, schedulers.
    Test {
        name: String,
        /// The catalogues as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// The connection options `backends add` and `run --url` share.
#[derive(Args, Debug, Clone)]
pub(crate) struct ConnectionArgs {
    /// a1111 (AUTOMATIC1111, Forge, reForge) or comfyui.
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub(crate) kind: Option<BackendKind>,
    /// HTTP Basic user (A1111's --api-auth).
    #[arg(long, value_name = "USER")]
    pub(crate) user: Option<String>,
    /// HTTP Basic password (stored in plain text in backends.json, mode 0600).
    #[arg(long, value_name = "PASSWORD")]
    pub(crate) password: Option<String>,
    /// ComfyUI: a workflow exported with "Export (API)" (copied into workflows/ in the data
    /// folder), or the name of one already there. Default: the built-in txt2img graph.
    #[arg(long, value_name = "FILE")]
    pub(crate) workflow: Option<String>,
}

#[derive(Args, Debug)]
struct AddArgs {
    /// The backend's name (jobs record which backend ran them by this name).
    name: String,
    /// http://127.0.0.1:7860 (A1111) or http://127.0.0.1:8188 (ComfyUI).
    #[arg(long, value_name = "URL")]
    url: String,
    #[command(flatten)]
    connection: ConnectionArgs,
}

fn parse_kind(text: &str) -> Result<BackendKind, String> {
    BackendKind::parse(text)
        .ok_or_else(|| format!("{text:?} is not a backend kind (a1111 or comfyui)"))
}

impl From<ConfigError> for CommandError {
    fn from(e: ConfigError) -> CommandError {
        match e {
            ConfigError::Rejected(m) => CommandError::usage(m),
            other => CommandError::failure(other.to_string()).with_source(other),
        }
    }
}

pub(crate) fn run(
    ctx: &Context,
    args: &BackendsArgs,
    out: &mut dyn Write,
) -> Result<i32, CommandError> {
    match &args.command {
        BackendsCommand::Add(a) => add(ctx, a, out),
        BackendsCommand::List { json } => list(ctx, *json, out),
        BackendsCommand::Remove { name } => {
            let mut file = BackendsFile::load(&ctx.data_dir)?;
            if !file.remove(name) {
                return Err(unknown_backend(&file, name));
            }
            file.save(&ctx.data_dir)?;
            writeln!(out, "removed backend {name}")?;
            Ok(0)
        }
        BackendsCommand::Test { name, json } => {
            let file = BackendsFile::load(&ctx.data_dir)?;
            let config = file.get(name).ok_or_else(|| unknown_backend(&file, name))?;
            test(ctx, config, *json, out)
        }
    }
}

pub(crate) fn unknown_backend(file: &BackendsFile, name: &str) -> CommandError {
    let known: Vec<&str> = file.backends.iter().map(|b| b.name.as_str()).collect();
    CommandError::usage(if known.is_empty() {
        format!(
            "there is no backend {name:?}: none is configured (add one with `promptdesk backends add NAME --kind a1111 --url URL`)"
        )
    } else {
        format!(
            "there is no backend {name:?} (configured: {})",
            known.join(", ")
        )
    })
}

/// A backend config from the connection options (the workflow checked and copied into
/// `workflows/`).
pub(crate) fn config_from_args(
    ctx: &Context,
    name: &str,
    url: &str,
    c: &ConnectionArgs,
) -> Result<BackendConfig, CommandError> {
    let kind = c.kind.ok_or_else(|| {
        CommandError::usage("--kind is needed with --url: a1111 (AUTOMATIC1111, Forge) or comfyui")
    })?;
    crate::backends::config::check_url(url).map_err(CommandError::usage)?;
    let mut config = BackendConfig::new(name, kind, url);
    if c.password.is_some() && c.user.is_none() {
        return Err(CommandError::usage("--password needs --user"));
    }
    config.user.clone_from(&c.user);
    config.password.clone_from(&c.password);
    if let Some(wf) = &c.workflow {
        if kind != BackendKind::ComfyUi {
            return Err(CommandError::usage("--workflow is for comfyui backends"));
        }
        config.workflow = Some(install_workflow(&ctx.data_dir, wf)?);
    }
    Ok(config)
}

/// Checks a workflow file and copies it into `workflows/` (unless it is there already);
/// returns the name to record.
fn install_workflow(data_dir: &Path, given: &str) -> Result<String, CommandError> {
    let source = Path::new(given);
    let in_folder = workflow::resolve(data_dir, given);
    let path = if source.is_file() { source } else { &in_folder };
    Workflow::load(path).map_err(CommandError::usage)?;
    let Some(file_name) = path.file_name() else {
        return Err(CommandError::usage(format!("{given}: not a file")));
    };
    let dir = data_dir.join(WORKFLOWS_DIR_NAME);
    let target = dir.join(file_name);
    if crate::fsutil::parent_dir(path) != dir.as_path() && path != target {
        let bytes = std::fs::read(path)
            .map_err(|e| CommandError::usage(format!("{}: {e}", path.display())))?;
        match std::fs::read(&target) {
            Ok(existing) if existing == bytes => {
                return Ok(file_name.to_string_lossy().into_owned());
            }
            // Another backend may use that one: never replaced behind its back.
            Ok(_) => {
                return Err(CommandError::usage(format!(
                    "{} already holds a different workflow named {}; rename your file (or remove that one) and try again",
                    dir.display(),
                    file_name.to_string_lossy()
                )));
            }
            Err(_) => {}
        }
        crate::fsutil::create_private_dir_all(&dir)
            .and_then(|()| {
                crate::fsutil::write_atomically(&target, |f| std::io::Write::write_all(f, &bytes))
            })
            .map_err(|e| {
                CommandError::failure(format!(
                    "cannot copy {} into {}: {e}",
                    path.display(),
                    dir.display()
                ))
            })?;
    }
    Ok(file_name.to_string_lossy().into_owned())
}

fn add(ctx: &Context, a: &AddArgs, out: &mut dyn Write) -> Result<i32, CommandError> {
    let config = config_from_args(ctx, &a.name, &a.url, &a.connection)?;
    let mut file = BackendsFile::load(&ctx.data_dir)?;
    let replaced = file.get(&a.name).is_some();
    file.upsert(config.clone())?;
    file.save(&ctx.data_dir)?;
    writeln!(
        out,
        "{} backend {} ({}, {}){}",
        if replaced { "replaced" } else { "added" },
        config.name,
        config.kind,
        config.url,
        config
            .workflow
            .as_deref()
            .map(|w| format!(", workflow {w}"))
            .unwrap_or_default()
    )?;
    if config.password.is_some() {
        writeln!(
            out,
            "the password is stored in plain text in {} (readable by you only)",
            BackendsFile::path(&ctx.data_dir).display()
        )?;
    }
    Ok(0)
}

fn list(ctx: &Context, json: bool, out: &mut dyn Write) -> Result<i32, CommandError> {
    let file = BackendsFile::load(&ctx.data_dir)?;
    for b in &file.backends {
        if json {
            let v = serde_json::json!({
                "name": b.name,
                "kind": b.kind,
                "url": b.url,
                "user": b.user,
                "password_set": b.password.is_some(),
                "workflow": b.workflow,
            });
            writeln!(out, "{v}")?;
        } else {
            let mut line = format!("{}\t{}\t{}", b.name, b.kind, b.url);
            if let Some(u) = &b.user {
                line.push_str(&format!("\tuser {u}"));
            }
            if let Some(w) = &b.workflow {
                line.push_str(&format!("\tworkflow {w}"));
            }
            writeln!(out, "{}", one_line(&line))?;
        }
    }
    if file.backends.is_empty() && !json {
        writeln!(
            out,
            "no backends (add one with `promptdesk backends add NAME --kind a1111|comfyui --url URL`)"
        )?;
    }
    Ok(0)
}

fn test(
    ctx: &Context,
    config: &BackendConfig,
    json: bool,
    out: &mut dyn Write,
) -> Result<i32, CommandError> {
    let backend = crate::backends::connect(config, &ctx.data_dir)
        .map_err(|e| CommandError::usage(e.to_string()))?;
    let catalogues = backend
        .catalogues()
        .map_err(|e| CommandError::failure(e.to_string()))?;
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string(&catalogues).expect("serialises")
        )?;
    } else {
        print_catalogues(config, &catalogues, out)?;
    }
    Ok(0)
}

fn print_catalogues(
    config: &BackendConfig,
    c: &Catalogues,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    writeln!(
        out,
        "{} ({}, {}): connected",
        config.name, config.kind, config.url
    )?;
    writeln!(out, "{}:", plural(c.models.len(), "model"))?;
    for m in &c.models {
        writeln!(out, "  {}", one_line(&m.title))?;
    }
    writeln!(
        out,
        "{}: {}",
        plural(c.samplers.len(), "sampler"),
        c.samplers.join(", ")
    )?;
    writeln!(
        out,
        "{}: {}",
        plural(c.schedulers.len(), "scheduler"),
        c.schedulers.join(", ")
    )?;
    Ok(())
}
