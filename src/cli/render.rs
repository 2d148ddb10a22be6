//! `promptdesk render`: print the requests a run would send, one per line, and record nothing.
//!
//! The prompts come as for `submit` (`--pack ID --keys K1,K2`, or `--prompt TEXT` /
//! `--prompt-file FILE` with `--negative TEXT` / `--negative-file FILE`), styles with
//! `--style PACK:NAME` (repeatable, applied in order). Each line is one request:
//! `key 3 #2: <prompt> | negative: <negative>` (a typed prompt: `prompt #1: ...`), or with
//! `--json` one object `{"key", "variant", "prompt", "negative_prompt", "values"}`. stderr
//! says how many requests and which seed the draws used (`--seed N` draws the same again).
//! A token with no values, an unknown pack, key or style is bad input (exit 2).

use super::command_error::CommandError;
use super::context::Context;
use super::output::one_line;
use super::submit::{PromptArgs, StyleArgs, build_config, render_config};
use crate::render::new_seed;
use crate::run_config::RenderedRequest;
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub(crate) struct RenderArgs {
    #[command(flatten)]
    prompts: PromptArgs,
    #[command(flatten)]
    styles: StyleArgs,
    /// The seed of the wildcard, `{a|b}` and random matrix draws (default: a new one, said on
    /// stderr); `submit --wildcard-seed N` sends what this shows.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// One JSON object per request: key, variant, prompt, negative_prompt, values.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(
    ctx: &Context,
    args: &RenderArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CommandError> {
    let (mut cfg, found) = build_config(ctx, &args.prompts, "render", err)?;
    let seed = args.seed.unwrap_or_else(new_seed);
    let plan = render_config(ctx, &mut cfg, found, &args.styles.styles, seed, err)?;
    for request in &plan.requests {
        if args.json {
            writeln!(out, "{}", json_line(request))?;
        } else {
            writeln!(out, "{}", text_line(request))?;
        }
    }
    out.flush()?;
    let drawn = if plan.seeded {
        format!("seed {seed} (--seed {seed} draws the same again)")
    } else {
        format!("seed {seed} (no draws: nothing depended on it)")
    };
    writeln!(err, "promptdesk: {}; {drawn}", plan.summary())?;
    Ok(0)
}

/// `key 3 #2: prompt | negative: negative`, on one line (a typed prompt: `prompt #1: ...`).
fn text_line(r: &RenderedRequest) -> String {
    let mut line = if r.key.is_empty() {
        format!("prompt #{}: {}", r.variant, one_line(&r.prompt))
    } else {
        format!(
            "key {} #{}: {}",
            one_line(&r.key),
            r.variant,
            one_line(&r.prompt)
        )
    };
    if !r.negative_prompt.trim().is_empty() {
        line.push_str(" | negative: ");
        line.push_str(&one_line(&r.negative_prompt));
    }
    line
}

/// The request as one compact JSON object (the texts exactly as sent).
fn json_line(r: &RenderedRequest) -> String {
    serde_json::json!({
        "key": r.key,
        "variant": r.variant,
        "prompt": r.prompt,
        "negative_prompt": r.negative_prompt,
        "values": r.values,
    })
    .to_string()
}
