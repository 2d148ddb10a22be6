//! Styles: a prompt modifier applied as AUTOMATIC1111 does.
//!
//! A style is a prompt of a *style source* (a pack in the packs folder read from an A1111
//! `styles.csv`, an SDXL Prompt Styler / Fooocus JSON list, InvokeAI presets or SwarmUI
//! presets), named by [`StyleRef`] `source:name`. Applying it: when the style's text holds the
//! placeholder (`{prompt}`, or SwarmUI's `{value}`), the prompt replaces it; otherwise the two
//! are joined with `", "`, empty parts left out. Negatives the same way. Several styles apply
//! in the order chosen. A placeholder is never left in the result.

use crate::packs::{PackPrompt, PromptPack};
use crate::run_config::StyleRef;
use std::fmt;

/// The placeholders a style's text may hold for the prompt it is applied to.
pub const PLACEHOLDERS: [&str; 2] = ["{prompt}", "{value}"];

/// Applies one style text to `prompt` (A1111 `apply_styles_to_prompt`, with `{value}` too).
pub fn apply_style_text(style: &str, prompt: &str) -> String {
    if PLACEHOLDERS.iter().any(|p| style.contains(p)) {
        let mut out = style.to_owned();
        for p in PLACEHOLDERS {
            out = out.replace(p, prompt);
        }
        return out;
    }
    let parts: Vec<&str> = [prompt, style]
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .collect();
    parts.join(", ")
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
