//! Styles: a prompt modifier applied as AUTOMATIC1111 does.
//!
//! A style is a prompt of a *style source* (a pack in the packs folder whose format
//! [`is_style_source`](PackFormat::is_style_source): an A1111 `styles.csv`, an SDXL Prompt
//! Styler / Fooocus JSON list, InvokeAI presets or SwarmUI presets), named by [`StyleRef`]
//! `source:name`. Its texts keep their placeholder as written; it is applied here.
//!
//! Applying a style is A1111's `merge_prompts` (`modules/styles.py`), for every source:
//! - when the style's text holds the placeholder (`{prompt}`, or SwarmUI's `{value}`), every
//!   occurrence is replaced by the prompt as it is (not trimmed), and nothing else changes;
//! - otherwise the prompt and the style text, each trimmed, are joined with `", "`, an empty
//!   one left out.
//!
//! Negatives the same way. Several styles apply in the order chosen, each to the result of the
//! one before. A placeholder is never left in the result. (The tools the JSON shapes come from
//! apply them a little differently: SDXL Prompt Styler puts the style's negative first, SwarmUI
//! replaces the prompt when the preset's text has no `{value}`; promptdesk applies every style
//! as A1111 does.)
//!
//! A style source used as a pack (its styles as prompts) sends each style applied to the empty
//! prompt: [`as_pack_prompt_text`].

use crate::packs::{PackFormat, PackPrompt, PromptPack};
use crate::run_config::StyleRef;
use std::fmt;

/// The placeholders a style's text may hold for the prompt it is applied to.
pub const PLACEHOLDERS: [&str; 2] = ["{prompt}", "{value}"];

/// Applies one style text to `prompt`: A1111's `merge_prompts(style, prompt)`, with SwarmUI's
/// `{value}` as a second placeholder.
pub fn apply_style_text(style: &str, prompt: &str) -> String {
    if PLACEHOLDERS.iter().any(|p| style.contains(p)) {
        // Replaced one after the other, so a prompt holding the other placeholder is not
        // touched twice: `{prompt}` first (A1111), then `{value}` in what the style wrote.
        return style
            .split(PLACEHOLDERS[0])
            .map(|part| part.replace(PLACEHOLDERS[1], prompt))
            .collect::<Vec<_>>()
            .join(prompt);
    }
    let parts: Vec<&str> = [prompt.trim(), style.trim()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    parts.join(", ")
}

/// The text a style source's prompt sends when the source is used as a pack: the style
/// applied to the empty prompt (`{prompt}` becomes empty, as A1111 does with an empty prompt
/// box). The pack keeps the raw style text; render calls this on the positive and the negative
/// of every prompt of a pack whose format [`is_style_source`](PackFormat::is_style_source).
pub fn as_pack_prompt_text(style: &str) -> String {
    apply_style_text(style, "")
}

/// The packs whose format is a style source, in their order: what a styles picker lists.
pub fn style_sources(packs: &[PromptPack]) -> impl Iterator<Item = &PromptPack> {
    packs
        .iter()
        .filter(|p| p.format.is_some_and(PackFormat::is_style_source))
}

/// Applies `styles`, in order, to a prompt and its negative.
pub fn apply_styles(prompt: &str, negative: &str, styles: &[&PackPrompt]) -> (String, String) {
    let mut positive = prompt.to_owned();
    let mut negative = negative.to_owned();
    for style in styles {
        positive = apply_style_text(&style.positive, &positive);
        negative = apply_style_text(&style.negative, &negative);
    }
    (positive, negative)
}

/// A style that cannot be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StyleError {
    /// No pack has this id.
    UnknownSource(StyleRef),
    /// The pack has no prompt with this name.
    UnknownName(StyleRef),
}

impl fmt::Display for StyleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StyleError::UnknownSource(s) => {
                write!(
                    f,
                    "style {s}: there is no style source (pack) \"{}\"",
                    s.source
                )
            }
            StyleError::UnknownName(s) => {
                write!(f, "style {s}: \"{}\" has no style \"{}\"", s.source, s.name)
            }
        }
    }
}

impl std::error::Error for StyleError {}

/// Finds the style `style` names among `packs`.
pub fn resolve_style<'a>(
    packs: &'a [PromptPack],
    style: &StyleRef,
) -> Result<&'a PackPrompt, StyleError> {
    let pack = packs
        .iter()
        .find(|p| p.id == style.source)
        .ok_or_else(|| StyleError::UnknownSource(style.clone()))?;
    pack.get(&style.name)
        .or_else(|| pack.get(style.name.trim()))
        .ok_or_else(|| StyleError::UnknownName(style.clone()))
}

/// Finds every style, in order.
pub fn resolve_styles<'a>(
    packs: &'a [PromptPack],
    styles: &[StyleRef],
) -> Result<Vec<&'a PackPrompt>, StyleError> {
    styles.iter().map(|s| resolve_style(packs, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(positive: &str, negative: &str) -> PackPrompt {
        PackPrompt {
            key: "s".into(),
            positive: positive.into(),
            negative: negative.into(),
            ..PackPrompt::default()
        }
    }

    #[test]
    fn a_placeholder_takes_the_prompt_and_otherwise_the_two_are_joined() {
        assert_eq!(
            apply_style_text("cinematic still of {prompt}, film grain", "a cat"),
            "cinematic still of a cat, film grain"
        );
        assert_eq!(
            apply_style_text("{value}, watercolor", "a cat"),
            "a cat, watercolor"
        );
        assert_eq!(apply_style_text("film grain", "a cat"), "a cat, film grain");
        assert_eq!(apply_style_text("film grain", ""), "film grain");
        assert_eq!(apply_style_text("", "a cat"), "a cat");
        assert_eq!(apply_style_text("photo of {prompt}", ""), "photo of ");
    }

    #[test]
    fn joining_trims_both_parts_and_a_placeholder_keeps_the_prompt_as_is() {
        // A1111 merge_prompts: `", ".join(filter(None, (prompt.strip(), style.strip())))`.
        assert_eq!(
            apply_style_text("  film grain, ", " a cat \n"),
            "a cat, film grain,"
        );
        assert_eq!(apply_style_text("   ", "  a cat  "), "a cat");
        assert_eq!(apply_style_text("", "   "), "");
        // With the placeholder, neither is trimmed and every occurrence is replaced.
        assert_eq!(
            apply_style_text(" {prompt} and {prompt} ", " a cat "),
            "  a cat  and  a cat  "
        );
        // A prompt holding a placeholder is inserted as it is, never replaced again.
        assert_eq!(
            apply_style_text("{prompt}, {value}", "x {value}"),
            "x {value}, x {value}"
        );
        assert_eq!(
            as_pack_prompt_text("photo of {prompt}, 35mm"),
            "photo of , 35mm"
        );
        assert_eq!(as_pack_prompt_text(" film grain "), "film grain");
    }

    #[test]
    fn styles_apply_in_order_to_both_prompts() {
        let a = style("photo of {prompt}", "blurry");
        let b = style("{prompt}, 35mm", "{prompt}, lowres");
        let (p, n) = apply_styles("a fox", "", &[&a, &b]);
        assert_eq!(p, "photo of a fox, 35mm");
        assert_eq!(n, "blurry, lowres");
        let (p, _) = apply_styles("a fox", "", &[&b, &a]);
        assert_eq!(p, "photo of a fox, 35mm");
        let c = style("oil painting", "");
        let (p, _) = apply_styles("a fox", "", &[&c, &a]);
        assert_eq!(p, "photo of a fox, oil painting");
    }
}
