//! The inline prompt syntax shared by every format: `<lora:name:weight>`,
//! `<embedding:name>`, `(<embedding:name>:weight)`, `[[matrix]]` and `__wildcard__`.

use super::PackErrorKind;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::LazyLock;

/// A LoRA named in a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lora {
    pub name: String,
    pub weight: f32,
}

/// A textual-inversion embedding named in a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    pub name: String,
    pub weight: f32,
}

/// Every special token found in one text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptTokens {
    pub loras: Vec<Lora>,
    pub embeddings: Vec<Embedding>,
    pub matrix_tokens: Vec<String>,
    pub wildcards: Vec<String>,
    /// What was read with a guess: a LoRA weight that is not a number (read as 1.0).
    pub warnings: Vec<PackErrorKind>,
}

impl PromptTokens {
    /// Appends `other`'s tokens, keeping the first occurrence of each matrix/wildcard name.
    pub fn merge(&mut self, other: PromptTokens) {
        self.loras.extend(other.loras);
        self.embeddings.extend(other.embeddings);
        self.warnings.extend(other.warnings);
        for m in other.matrix_tokens {
            if !self.matrix_tokens.contains(&m) {
                self.matrix_tokens.push(m);
            }
        }
        for w in other.wildcards {
            if !self.wildcards.contains(&w) {
                self.wildcards.push(w);
            }
        }
    }
}

/// The kind of a marked span of prompt text (for highlighting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Lora,
    Embedding,
    Matrix,
    Wildcard,
}

static TOKEN_RE: LazyLock<Regex> = LazyLock::new(|| {
    // No capture groups: `find_iter` is much faster than `captures_iter`, and each match is
    // taken apart by `classify`.
    Regex::new(concat!(
        r"\(<embedding:[^<>:]+>:[^)]*\)",
        r"|<embedding:[^<>]+>",
        r"|<lora:[^<>]*>",
        r"|\[\[[A-Za-z0-9_\- ]+\]\]",
        r"|__[A-Za-z0-9][A-Za-z0-9_\-/.]*?__",
    ))
    .expect("token regex is valid")
});

/// One token, taken apart.
enum Token<'a> {
    /// `(<embedding:name>:weight)`: name and the raw weight text.
    WeightedEmbedding(&'a str, &'a str),
    Embedding(&'a str),
    /// `<lora:body>`: the text between `<lora:` and `>`.
    Lora(&'a str),
    Matrix(&'a str),
    Wildcard(&'a str),
}

fn classify(m: &str) -> Token<'_> {
    if let Some(rest) = m.strip_prefix("(<embedding:") {
        // rest = "name>:weight)"
        let (name, weight) = rest.split_once(">:").unwrap_or((rest, ""));
        Token::WeightedEmbedding(name, weight.strip_suffix(')').unwrap_or(weight))
    } else if let Some(rest) = m.strip_prefix("<embedding:") {
        Token::Embedding(rest.strip_suffix('>').unwrap_or(rest))
    } else if let Some(rest) = m.strip_prefix("<lora:") {
        Token::Lora(rest.strip_suffix('>').unwrap_or(rest))
    } else if let Some(rest) = m.strip_prefix("[[") {
        Token::Matrix(rest.strip_suffix("]]").unwrap_or(rest))
    } else {
        let inner = m.strip_prefix("__").unwrap_or(m);
        Token::Wildcard(inner.strip_suffix("__").unwrap_or(inner))
    }
}

fn parse_weight(text: &str) -> Option<f32> {
    let w: f32 = text.trim().parse().ok()?;
    w.is_finite().then_some(w)
}

/// Finds the LoRAs, embeddings, matrix tokens and wildcards of one prompt text.
///
/// `<lora:name>` has weight 1.0; `<lora:name:x>` with a non-numeric `x` counts as 1.0 and is
/// listed in [`PromptTokens::warnings`].
pub fn parse_prompt_tokens(text: &str) -> Result<PromptTokens, PackErrorKind> {
    let mut tokens = PromptTokens::default();
    if !text.contains(['<', '[', '_']) {
        return Ok(tokens);
    }
    for m in TOKEN_RE.find_iter(text) {
        match classify(m.as_str()) {
            Token::WeightedEmbedding(name, raw) => {
                let weight =
                    parse_weight(raw).ok_or_else(|| PackErrorKind::BadEmbeddingWeight {
                        name: name.to_owned(),
                        weight: raw.to_owned(),
                    })?;
                tokens.embeddings.push(Embedding {
                    name: name.trim().to_owned(),
                    weight,
                });
            }
            Token::Embedding(name) => tokens.embeddings.push(Embedding {
                name: name.trim().to_owned(),
                weight: 1.0,
            }),
            Token::Lora(body) => {
                let (lora, warnings) = parse_lora_body(body);
                tokens.warnings.extend(warnings);
                tokens.loras.push(lora);
            }
            Token::Matrix(name) => {
                let name = name.trim();
                if !name.is_empty() && !tokens.matrix_tokens.iter().any(|m| m == name) {
                    tokens.matrix_tokens.push(name.to_owned());
                }
            }
            Token::Wildcard(name) => {
                if !tokens.wildcards.iter().any(|w| w == name) {
                    tokens.wildcards.push(name.to_owned());
                }
            }
        }
    }
    Ok(tokens)
}

/// The byte ranges of every special token in `text`, in order, for highlighting.
pub fn token_spans(text: &str) -> Vec<(Range<usize>, TokenKind)> {
    TOKEN_RE
        .find_iter(text)
        .map(|m| {
            let kind = match classify(m.as_str()) {
                Token::WeightedEmbedding(..) | Token::Embedding(_) => TokenKind::Embedding,
                Token::Lora(_) => TokenKind::Lora,
                Token::Matrix(_) => TokenKind::Matrix,
                Token::Wildcard(_) => TokenKind::Wildcard,
            };
            (m.range(), kind)
        })
        .collect()
}

/// Matrix names match loosely: case, `-`, `_` and spaces do not matter
/// (`hair-color` = `Hair Color`).
pub fn normalize_matrix_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Reads the text between `<lora:` and `>` as A1111 does (`extra_networks.ExtraNetworkParams`
/// and `extra_networks_lora.activate`): the body splits at `:`; an item that splits at `=` into
/// exactly two parts is named (`te=0.8`, `unet=0.5`, `dyn=16`; names as written, case
/// included), any other item is positional. The first positional item is the name, then the
/// text-encoder multiplier, the UNet multiplier and the dyn dimension; a named `te`/`unet`/`dyn`
/// wins over its positional one. The LoRA's weight is its text-encoder multiplier (1.0 when
/// none is given). A multiplier that is not a number (or a dyn that is not a whole number)
/// counts as 1.0 (as StableNew reads it; A1111 would fail the generation); each such value is
/// returned as a warning.
pub fn parse_lora_body(body: &str) -> (Lora, Vec<PackErrorKind>) {
    let mut positional: Vec<&str> = Vec::new();
    let mut named: Vec<(&str, &str)> = Vec::new();
    for item in body.split(':') {
        let parts: Vec<&str> = item.splitn(3, '=').collect();
        if let [key, value] = parts[..] {
            // A later `te=` replaces an earlier one, as in A1111's dict.
            named.retain(|(k, _)| *k != key);
            named.push((key, value));
        } else {
            positional.push(item);
        }
    }
    let named_value = |key: &str| named.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let name = positional
        .first()
        .copied()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let mut warnings = Vec::new();
    let te_raw = named_value("te").or(positional.get(1).copied());
    for raw in [te_raw, named_value("unet").or(positional.get(2).copied())]
        .into_iter()
        .flatten()
    {
        if parse_weight(raw).is_none() {
            warnings.push(PackErrorKind::BadLoraWeight {
                name: name.clone(),
                weight: raw.trim().to_owned(),
            });
        }
    }
    if let Some(raw) = named_value("dyn").or(positional.get(3).copied())
        && raw.trim().parse::<i64>().is_err()
    {
        warnings.push(PackErrorKind::Note(format!(
            "LoRA {name:?}: dyn {:?} is not a whole number (A1111 stops on it)",
            raw.trim()
        )));
    }
    (
        Lora {
            name,
            weight: te_raw.and_then(parse_weight).unwrap_or(1.0),
        },
        warnings,
    )
}

/// The warnings of the LoRAs written in `text` (a weight that is not a number).
///
/// A plain scan (no regex): pack discovery runs it over every prompt, so it must cost next to
/// nothing when, as usual, every weight is a number.
pub fn lora_warnings(text: &str) -> Vec<PackErrorKind> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("<lora:") {
        let after = &rest[at + "<lora:".len()..];
        let Some(end) = after.find(['<', '>']) else {
            break;
        };
        if after.as_bytes()[end] == b'>' {
            let body = &after[..end];
            // Only a body with a multiplier that is not a number is taken apart (rare).
            let suspicious = body.split(':').skip(1).any(|part| {
                let value = part.split_once('=').map_or(part, |(_, v)| v);
                parse_weight(value).is_none()
            });
            // A dyn (fourth item or `dyn=`) must be a whole number: rare enough to check whole.
            if suspicious || body.contains("dyn=") || body.split(':').nth(3).is_some() {
                out.extend(parse_lora_body(body).1);
            }
        }
        rest = &after[end..];
    }
    out
}

/// Renders a LoRA as prompt text: `<lora:name:0.65>`.
pub fn render_lora(lora: &Lora) -> String {
    format!("<lora:{}:{}>", lora.name, lora.weight)
}

/// Renders an embedding as prompt text: `<embedding:name>`, or `(<embedding:name>:0.8)` when
/// its weight is not 1.
pub fn render_embedding(embedding: &Embedding) -> String {
    if (embedding.weight - 1.0).abs() < f32::EPSILON {
        format!("<embedding:{}>", embedding.name)
    } else {
        format!("(<embedding:{}>:{})", embedding.name, embedding.weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_kind_of_token() {
        let t = parse_prompt_tokens(
            "(<embedding:detail>:0.8) <embedding:plain> hero [[Hair Color]] __season__ <lora:cine:0.65> <lora:bare>",
        )
        .unwrap();
        assert_eq!(
            t.embeddings,
            vec![
                Embedding {
                    name: "detail".into(),
                    weight: 0.8
                },
                Embedding {
                    name: "plain".into(),
                    weight: 1.0
                }
            ]
        );
        assert_eq!(
            t.loras,
            vec![
                Lora {
                    name: "cine".into(),
                    weight: 0.65
                },
                Lora {
                    name: "bare".into(),
                    weight: 1.0
                }
            ]
        );
        assert_eq!(t.matrix_tokens, vec!["Hair Color"]);
        assert_eq!(t.wildcards, vec!["season"]);
    }

    #[test]
    fn a_non_numeric_lora_weight_counts_as_one_with_a_warning() {
        let t = parse_prompt_tokens("a <lora:style:strong> b").unwrap();
        assert_eq!(
            t.loras,
            vec![Lora {
                name: "style".into(),
                weight: 1.0
            }]
        );
        assert_eq!(
            t.warnings,
            vec![PackErrorKind::BadLoraWeight {
                name: "style".into(),
                weight: "strong".into()
            }]
        );
    }

    #[test]
    fn a1111_named_and_positional_multipliers_are_valid() {
        for (text, weight) in [
            ("<lora:x:te=0.8>", 0.8),
            ("<lora:x:unet=0.5:te=0.8>", 0.8),
            ("<lora:x:unet=0.5>", 1.0),
            ("<lora:x:0.7:0.3>", 0.7),
            ("<lora:x:0.6:unet=0.2:dyn=16>", 0.6),
            // Positions count positional items only; a named item does not take one.
            ("<lora:x:unet=0.5:0.7>", 0.7),
            ("<lora:x:0.7:te=0.2>", 0.2),
            ("<lora:x:te=0.1:te=0.3>", 0.3),
            // Names are matched as written: A1111 ignores `TE=`.
            ("<lora:x:TE=0.8>", 1.0),
            ("<lora:x:0.5:0.4:16>", 0.5),
        ] {
            let t = parse_prompt_tokens(text).unwrap();
            assert!(t.warnings.is_empty(), "{text}: {:?}", t.warnings);
            assert_eq!(t.loras[0].name, "x", "{text}");
            assert!((t.loras[0].weight - weight).abs() < 1e-6, "{text}");
        }
        let t = parse_prompt_tokens("<lora:x:te=loud>").unwrap();
        assert_eq!(t.loras[0].weight, 1.0);
        assert_eq!(t.warnings.len(), 1);
    }

    #[test]
    fn matrix_names_match_loosely() {
        assert_eq!(
            normalize_matrix_name("hair-color"),
            normalize_matrix_name("Hair Color")
        );
        assert_ne!(
            normalize_matrix_name("hair"),
            normalize_matrix_name("hairs")
        );
    }

    #[test]
    fn spans_cover_the_tokens() {
        let text = "a <lora:x:1> [[m]]";
        let spans = token_spans(text);
        assert_eq!(&text[spans[0].0.clone()], "<lora:x:1>");
        assert_eq!(spans[1].1, TokenKind::Matrix);
    }
}
