//! `promptdesk submit`: add a queued job from pack keys or a typed prompt.

use super::command_error::CommandError;
use super::context::Context;
use super::output::{one_line, summarize_keys, truncate};
use super::prompt_file::{display_name, read_prompt_file};
use crate::history::HistoryStore;
use crate::job_record::job_record_from_run_config;
use crate::packs::{DiscoveredPacks, PromptPack};
use crate::prompt_packs::{build_run_config_for_manual_prompt, build_run_config_from_prompt_pack};
use crate::render::{RenderPlan, Wildcards, new_seed, render_into};
use crate::run_config::{RunConfig, RunMode, RunSource, StyleRef};
use crate::settings_override::SettingsOverride;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub(crate) struct SubmitArgs {
    #[command(flatten)]
    prompts: PromptArgs,
    #[command(flatten)]
    styles: StyleArgs,
    /// The seed of the wildcard, `{a|b}` and random matrix draws (default: a new one, said on
    /// stderr when a draw used it). `promptdesk render --seed N` shows what N draws.
    #[arg(long, value_name = "N")]
    wildcard_seed: Option<u64>,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// Where a run's prompts come from: pack keys or a typed prompt (`submit` and `render`).
#[derive(Args, Debug)]
pub(crate) struct PromptArgs {
    /// The pack id (its file name without extension).
    #[arg(long, value_name = "ID")]
    pack: Option<String>,
    /// The pack keys to run, comma-separated (or the option repeated).
    #[arg(long, value_name = "K1,K2")]
    keys: Vec<String>,
    /// A typed prompt (instead of --pack).
    #[arg(long, value_name = "TEXT")]
    prompt: Option<String>,
    /// The typed prompt, read from FILE (UTF-8; `-` reads stdin): for prompts too long for
    /// the command line.
    #[arg(long, value_name = "FILE", conflicts_with = "prompt")]
    prompt_file: Option<PathBuf>,
    /// The negative prompt of a typed prompt.
    #[arg(long, value_name = "TEXT")]
    negative: Option<String>,
    /// The negative prompt, read from FILE (UTF-8; `-` reads stdin).
    #[arg(long, value_name = "FILE", conflicts_with = "negative")]
    negative_file: Option<PathBuf>,
}

/// The styles applied to the prompts.
#[derive(Args, Debug)]
pub(crate) struct StyleArgs {
    /// A style to apply, as PACK:NAME (a style source in the packs folder, e.g. an A1111
    /// styles.csv, and the style's name); repeat it to apply several, in order.
    #[arg(long = "style", value_name = "PACK:NAME", value_parser = parse_style)]
    pub(crate) styles: Vec<StyleRef>,
}

fn parse_style(text: &str) -> Result<StyleRef, String> {
    StyleRef::parse(text).ok_or_else(|| format!("{text:?} is not PACK:NAME"))
}

impl PromptArgs {
    /// The typed prompt and negative prompt, from the command line or read from their files
    /// (a hint on `err` when one is read from a terminal).
    fn typed_prompts(
        &self,
        err: &mut dyn Write,
    ) -> Result<(Option<String>, Option<String>), CommandError> {
        let stdin = Path::new("-");
        if self.prompt_file.as_deref() == Some(stdin)
            && self.negative_file.as_deref() == Some(stdin)
        {
            return Err(CommandError::usage(
                "--prompt-file and --negative-file cannot both read standard input (-); give one of them a file",
            ));
        }
        let mut read =
            |text: &Option<String>, file: &Option<PathBuf>, flag: &str| match (text, file) {
                (Some(text), _) => Ok(Some(text.clone())),
                (None, Some(file)) => read_prompt_file(flag, file, &mut *err).map(Some),
                (None, None) => Ok(None),
            };
        Ok((
            read(&self.prompt, &self.prompt_file, "--prompt-file")?,
            read(&self.negative, &self.negative_file, "--negative-file")?,
        ))
    }
}

/// Generation settings; for a pack they override the pack's defaults.
#[derive(Args, Debug, Default)]
struct SettingsArgs {
    /// Checkpoint name.
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    sampler: Option<String>,
    #[arg(long)]
    scheduler: Option<String>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    steps: Option<u32>,
    /// CFG scale.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_cfg)]
    cfg: Option<f64>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(8..=65_536))]
    width: Option<u32>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(8..=65_536))]
    height: Option<u32>,
    /// -1 for a random seed.
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(-1..))]
    seed: Option<i64>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch_size: Option<u32>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch_count: Option<u32>,
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=100))]
    clip_skip: Option<u32>,
}

impl SettingsArgs {
    /// The settings the flags name.
    fn to_override(&self) -> SettingsOverride {
        SettingsOverride {
            model: self.model.clone(),
            sampler: self.sampler.clone(),
            scheduler: self.scheduler.clone(),
            steps: self.steps,
            cfg_scale: self.cfg,
            width: self.width,
            height: self.height,
            seed: self.seed,
            batch_size: self.batch_size,
            batch_count: self.batch_count,
            clip_skip: self.clip_skip,
        }
    }
}

fn parse_cfg(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !v.is_finite() || !(0.0..=100.0).contains(&v) {
        return Err(format!("{text} is not between 0 and 100"));
    }
    Ok(v)
}

pub(crate) fn run(
    ctx: &Context,
    args: &SubmitArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CommandError> {
    let (mut cfg, found) = build_config(ctx, &args.prompts, "submit", err)?;
    cfg.source = RunSource::Cli;
    cfg.run_mode = RunMode::Queue;
    // The flags win over the pack's defaults.
    args.settings.to_override().apply_to(&mut cfg.settings);
    // What the run sends: a token with no values refuses the job before anything is written.
    let seed = args.wildcard_seed.unwrap_or_else(new_seed);
    let plan = render_config(ctx, &mut cfg, found, &args.styles.styles, seed, err)?;
    if plan.seeded && args.wildcard_seed.is_none() {
        writeln!(
            err,
            "promptdesk: wildcard seed {seed} (--wildcard-seed {seed} draws the same again)"
        )?;
    }
    // Adding one job must not cost a read of the whole history.
    let mut store = HistoryStore::open_append_only(ctx.history_path())?;
    let record = job_record_from_run_config(&HistoryStore::new_job_id(), &cfg);
    store.append(&record)?;
    writeln!(out, "{}", record.job_id)?;
    out.flush()?;
    Ok(0)
}

/// The RunConfig of the prompts `args` name (`verb` is the command, for the messages), and
/// the packs folder's packs when they were read. Bad input names the pack, key or file.
pub(crate) fn build_config(
    ctx: &Context,
    args: &PromptArgs,
    verb: &str,
    err: &mut dyn Write,
) -> Result<(RunConfig, Option<DiscoveredPacks>), CommandError> {
    let usage = |m: &str| Err(CommandError::usage(m));
    if args.pack.is_some() && (args.negative.is_some() || args.negative_file.is_some()) {
        return usage(
            "--negative (or --negative-file) goes with --prompt; a pack's prompts bring their own negatives",
        );
    }
    if args.pack.is_some() && args.prompt_file.is_some() {
        return usage("give either --pack ID --keys K1,K2 or --prompt-file FILE, not both");
    }
    // Before stdin is read: a wrong command line is said at once.
    if args.prompt_file.is_some() && !args.keys.is_empty() {
        return usage("--keys goes with --pack, not with --prompt-file");
    }
    let (prompt, negative) = args.typed_prompts(err)?;
    match (&args.pack, &prompt) {
        (Some(_), Some(_)) => usage(
            "give either --pack ID --keys K1,K2 or --prompt TEXT (or --prompt-file FILE), not both",
        ),
        (None, None) => Err(CommandError::usage(format!(
            "nothing to {verb}: give --pack ID --keys K1,K2, --prompt TEXT or --prompt-file FILE"
        ))),
        (None, Some(prompt)) => {
            if !args.keys.is_empty() {
                return usage("--keys goes with --pack, not with --prompt");
            }
            if prompt.trim().is_empty() {
                return Err(CommandError::usage(match &args.prompt_file {
                    Some(file) => {
                        format!("--prompt-file {}: the prompt is empty", display_name(file))
                    }
                    None => "the prompt is empty".to_owned(),
                }));
            }
            let cfg = build_run_config_for_manual_prompt(
                prompt,
                negative.as_deref().unwrap_or(""),
                Some(RunConfig::default()),
            );
            Ok((cfg, None))
        }
        (Some(pack_id), None) => {
            let found = ctx.discover()?;
            let pack = find_pack(&found, pack_id, &ctx.packs_dir)?;
            if args.keys.iter().all(|k| k.trim().is_empty()) {
                return Err(CommandError::usage(format!(
                    "--pack needs --keys K1,K2 (pack {:?} has keys {})",
                    pack.id,
                    truncate(&summarize_keys(&pack.keys()), 80)
                )));
            }
            let keys = split_keys(&args.keys, pack);
            let cfg = build_run_config_from_prompt_pack(pack, &keys, None).map_err(|e| {
                CommandError::usage(format!(
                    "{e} (its keys: {})",
                    truncate(&summarize_keys(&pack.keys()), 80)
                ))
            })?;
            Ok((cfg, Some(found)))
        }
    }
}

/// Renders `cfg` with `styles` and the packs folder's wildcards, recording the styles, the
/// seed and the requests in it (see [`render_into`]). `found` are the packs when already
/// read. Wildcard files that cannot be read are warned about on `err`; a token with no values,
/// an unknown style and the like are bad input.
pub(crate) fn render_config(
    ctx: &Context,
    cfg: &mut RunConfig,
    found: Option<DiscoveredPacks>,
    styles: &[StyleRef],
    seed: u64,
    err: &mut dyn Write,
) -> Result<RenderPlan, CommandError> {
    let found = match found {
        Some(found) => found,
        None if styles.is_empty() => DiscoveredPacks::default(),
        None => ctx.discover()?,
    };
    // A style's source matches its pack id as --pack does: exactly, else ignoring case.
    let styles: Vec<StyleRef> = styles
        .iter()
        .map(|s| match find_pack(&found, &s.source, &ctx.packs_dir) {
            Ok(pack) => StyleRef::new(pack.id.clone(), s.name.clone()),
            Err(_) => s.clone(),
        })
        .collect();
    let (wildcards, errors) = Wildcards::load(&ctx.packs_dir);
    for e in &errors {
        writeln!(
            err,
            "promptdesk: warning: wildcard file skipped: {}",
            one_line(&e.to_string())
        )?;
    }
    render_into(cfg, &found.packs, &wildcards, &styles, seed)
        .map_err(|e| CommandError::usage(e.to_string()))
}

/// The keys of `--keys` values: a value that is itself a key of the pack stays whole (styles
/// may have commas in their names), anything else is split at commas.
fn split_keys(values: &[String], pack: &PromptPack) -> Vec<String> {
    let mut keys = Vec::new();
    for v in values {
        if pack.get(v).is_some() {
            keys.push(v.clone());
        } else {
            keys.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    keys
}

/// The pack with this id: exactly, else the only one equal ignoring case. Bad input when
/// there is none, naming the bad file of that stem or the packs there are.
pub(crate) fn find_pack<'a>(
    found: &'a DiscoveredPacks,
    id: &str,
    dir: &Path,
) -> Result<&'a PromptPack, CommandError> {
    if let Some(p) = found.packs.iter().find(|p| p.id == id) {
        return Ok(p);
    }
    let folded: Vec<&PromptPack> = found
        .packs
        .iter()
        .filter(|p| p.id.eq_ignore_ascii_case(id) || p.id.to_lowercase() == id.to_lowercase())
        .collect();
    if let [only] = folded.as_slice() {
        return Ok(only);
    }
    // A pack file with that stem that failed to load.
    let bad = found.errors.iter().find(|e| {
        e.path
            .as_deref()
            .and_then(Path::file_stem)
            .is_some_and(|s| s.to_string_lossy().eq_ignore_ascii_case(id))
    });
    if let Some(e) = bad {
        return Err(CommandError::usage(format!(
            "pack {id:?} could not be loaded: {}",
            one_line(&e.to_string())
        )));
    }
    let names: Vec<&str> = found.packs.iter().map(|p| p.id.as_str()).collect();
    Err(CommandError::usage(format!(
        "no pack {id:?} in {} (packs: {})",
        dir.display(),
        if names.is_empty() {
            "none".to_owned()
        } else {
            truncate(&names.join(", "), 120)
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_config::GenerationSettings;

    #[test]
    fn the_setting_flags_override_only_what_they_name() {
        let flags = SettingsArgs {
            cfg: Some(4.5),
            seed: Some(-1),
            model: Some("m.safetensors".into()),
            ..SettingsArgs::default()
        };
        let mut settings = GenerationSettings {
            steps: 33,
            seed: 7,
            ..GenerationSettings::default()
        };
        flags.to_override().apply_to(&mut settings);
        assert_eq!(settings.cfg_scale, 4.5);
        assert_eq!(settings.seed, -1);
        assert_eq!(settings.model, "m.safetensors");
        assert_eq!(settings.steps, 33);
        assert!(SettingsArgs::default().to_override().is_empty());
    }
}
