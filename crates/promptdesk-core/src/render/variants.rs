//! Expanding one request's text: `[[name]]` matrix tokens, `__name__` wildcards and `{a|b|c}`
//! inline variants, in one left-to-right pass.
//!
//! - `[[name]]` takes the value of its slot in the request's combination. A matrix token that
//!   only appears inside a drawn wildcard line or variant (so no combination covers it) draws
//!   one of its slot's values.
//! - `__name__` draws one line of the wildcard file `name` (Dynamic Prompts).
//! - `{a|b|c}` draws one option. Only braces holding a `|` (outside nested braces) are
//!   variants; any other brace is text (`{prompt}`, `{}`). Options are trimmed. Also from
//!   Dynamic Prompts: an option may start with a weight, `{3::common|rare}`; `{2$$a|b|c}` draws
//!   two different options joined with `", "`, `{1-3$$a|b|c}` one to three, and
//!   `{2$$ and $$a|b|c}` joins them with `" and "`.
//! - A drawn line or option is expanded in turn, at most [`MAX_DEPTH`] levels deep.
//! - Extra-network markup (`<lora:name:0.8>`, `<embedding:x>`, ...) is copied as written: a
//!   `__` in a LoRA's name is no wildcard.
//!
//! Every draw has its own random stream: the seed, the prompt's key, the request's variant
//! number and the draw's number within the request (see [`super::rng`]).

use super::RenderError;
use super::matrix::usable_slot;
use super::rng::SplitMix64;
use super::wildcards::Wildcards;
use crate::packs::MatrixConfig;
use std::collections::BTreeMap;

/// How deep a drawn line or option may itself hold tokens.
pub const MAX_DEPTH: usize = 10;

/// The most draws one request may make (a wildcard file whose lines each hold several
/// wildcards multiplies quickly).
pub const MAX_DRAWS_PER_REQUEST: u64 = 100_000;

/// What expands one request, and what it chose.
pub(crate) struct Expander<'a> {
    pub wildcards: &'a Wildcards,
    pub matrix: Option<&'a MatrixConfig>,
    /// (slot index in the pack, value) of the request's combination.
    pub combination: &'a [(usize, &'a str)],
    pub pack_id: Option<&'a str>,
    pub key: &'a str,
    pub seed: u64,
    pub variant: u32,
    /// Draws made so far in this request.
    draws: u64,
    /// True once a draw used the seed.
    pub seeded: bool,
    /// The value each token written at the top level took (see [`super::render`]).
    pub values: BTreeMap<String, String>,
    /// How often each drawn token (wildcard, variant) occurred at the top level.
    occurrences: BTreeMap<String, usize>,
}

/// One token found in the text.
enum Token<'t> {
    Matrix(&'t str),
    Wildcard(&'t str),
    /// The text between the braces.
    Variant(&'t str),
}

impl<'a> Expander<'a> {
    pub fn new(
        wildcards: &'a Wildcards,
        matrix: Option<&'a MatrixConfig>,
        combination: &'a [(usize, &'a str)],
        pack_id: Option<&'a str>,
        key: &'a str,
        seed: u64,
        variant: u32,
    ) -> Expander<'a> {
        Expander {
            wildcards,
            matrix,
            combination,
            pack_id,
            key,
            seed,
            variant,
            draws: 0,
            seeded: false,
            values: BTreeMap::new(),
            occurrences: BTreeMap::new(),
        }
    }

    fn no_values(&self, token: &str) -> RenderError {
        RenderError::NoValues {
            token: token.to_owned(),
            pack: self.pack_id.map(str::to_owned),
            key: self.key.to_owned(),
        }
    }

    fn too_deep(&self, token: &str) -> RenderError {
        RenderError::TooDeep {
            token: token.to_owned(),
            pack: self.pack_id.map(str::to_owned),
            key: self.key.to_owned(),
        }
    }

    /// A fresh random stream for the next draw.
    fn next_rng(&mut self, token: &str) -> Result<SplitMix64, RenderError> {
        self.draws += 1;
        if self.draws > MAX_DRAWS_PER_REQUEST {
            return Err(self.too_deep(token));
        }
        self.seeded = true;
        Ok(SplitMix64::for_draw(
            self.seed,
            self.key,
            &[u64::from(self.variant), self.draws],
        ))
    }

    /// Expands a request's text (a positive or negative prompt), recording what each token
    /// written in it took.
    pub fn expand_top(&mut self, text: &str) -> Result<String, RenderError> {
        let mut out = String::with_capacity(text.len());
        self.expand(text, 0, &mut out)?;
        Ok(out)
    }

    fn expand(&mut self, text: &str, depth: usize, out: &mut String) -> Result<(), RenderError> {
        let bytes = text.as_bytes();
        let mut literal = 0;
        let mut i = 0;
        while i < bytes.len() {
            let found = match bytes[i] {
                b'<' => {
                    if let Some(end) = markup_end(text, i) {
                        i = end;
                        continue;
                    }
                    None
                }
                b'[' => matrix_at(text, i).map(|(end, name)| (end, Token::Matrix(name))),
                b'_' => wildcard_at(text, i).map(|(end, name)| (end, Token::Wildcard(name))),
                b'{' => variant_at(text, i).map(|(end, body)| (end, Token::Variant(body))),
                _ => None,
            };
            let Some((end, token)) = found else {
                i += 1;
                continue;
            };
            out.push_str(&text[literal..i]);
            let written = &text[i..end];
            let start = out.len();
            match token {
                Token::Matrix(name) => {
                    let value = self.matrix_value(written, name)?;
                    out.push_str(value);
                }
                Token::Wildcard(name) => {
                    let lines = self
                        .wildcards
                        .get(name)
                        .filter(|l| !l.is_empty())
                        .ok_or_else(|| self.no_values(written))?;
                    let mut rng = self.next_rng(written)?;
                    let line = &lines[rng.below(lines.len())];
                    self.nested(written, line, depth, out)?;
                }
                Token::Variant(body) => {
                    let chosen = self.choose(written, body)?;
                    for (n, (sep, option)) in chosen.iter().enumerate() {
                        if n > 0 {
                            out.push_str(sep);
                        }
                        self.nested(written, option, depth, out)?;
                    }
                }
            }
            if depth == 0 {
                self.record(written, &out[start..]);
            }
            i = end;
            literal = end;
        }
        out.push_str(&text[literal..]);
        Ok(())
    }

    /// Expands drawn text one level deeper.
    fn nested(
        &mut self,
        token: &str,
        text: &str,
        depth: usize,
        out: &mut String,
    ) -> Result<(), RenderError> {
        if !has_token_start(text) {
            out.push_str(text);
            return Ok(());
        }
        if depth + 1 > MAX_DEPTH {
            return Err(self.too_deep(token));
        }
        self.expand(text, depth + 1, out)
    }

    /// Records what a top-level token took: under the token as written; a drawn token that
    /// occurs again is recorded as `token#2`, `token#3`, ... (each occurrence draws on its
    /// own). A matrix token takes one value per request, recorded once.
    fn record(&mut self, written: &str, value: &str) {
        if written.starts_with("[[") {
            self.values
                .entry(written.to_owned())
                .or_insert_with(|| value.to_owned());
            return;
        }
        let n = self.occurrences.entry(written.to_owned()).or_insert(0);
        *n += 1;
        let name = if *n == 1 {
            written.to_owned()
        } else {
            format!("{written}#{n}")
        };
        self.values.insert(name, value.to_owned());
    }

    /// The value of a matrix token in this request.
    fn matrix_value(&mut self, written: &str, name: &str) -> Result<&'a str, RenderError> {
        let (index, slot) =
            usable_slot(self.matrix, name).ok_or_else(|| self.no_values(written))?;
        if let Some((_, value)) = self.combination.iter().find(|(i, _)| *i == index) {
            return Ok(value);
        }
        // Only reached from drawn text: no combination covers it, so draw.
        let mut rng = self.next_rng(written)?;
        Ok(slot.values[rng.below(slot.values.len())].as_str())
    }

    /// Draws the options of `{body}`: each with the separator put before it.
    fn choose<'t>(
        &mut self,
        written: &str,
        body: &'t str,
    ) -> Result<Vec<(&'t str, &'t str)>, RenderError> {
        let mut options = split_options(body);
        // `{N$$...}`, `{N-M$$...}`, `{N$$sep$$...}`: several options.
        let mut count = (1, 1);
        let mut sep = ", ";
        if let Some(first) = options.first().copied()
            && let Some((quantity, rest)) = first.split_once("$$")
            && let Some(range) = parse_quantity(quantity)
        {
            count = range;
            let rest = match rest.split_once("$$") {
                Some((s, rest)) => {
                    sep = s;
                    rest
                }
                None => rest,
            };
            options[0] = rest;
        }
        let weighted: Vec<(f64, &'t str)> = options.iter().map(|o| weighted_option(o)).collect();
        let mut rng = self.next_rng(written)?;
        let (low, high) = count;
        let mut n = if high > low {
            low + rng.below(high - low + 1)
        } else {
            low
        };
        n = n.min(weighted.len());
        let mut left: Vec<(f64, &'t str)> = weighted;
        let mut chosen = Vec::with_capacity(n);
        for _ in 0..n {
            let total: f64 = left.iter().map(|(w, _)| *w).sum();
            let pick = if total > 0.0 && left.iter().any(|(w, _)| *w != left[0].0) {
                let mut r = rng.unit() * total;
                let mut pick = left.len() - 1;
                for (i, (w, _)) in left.iter().enumerate() {
                    if r < *w {
                        pick = i;
                        break;
                    }
                    r -= w;
                }
                pick
            } else {
                rng.below(left.len())
            };
            let (_, option) = left.remove(pick);
            chosen.push((sep, option));
        }
        if chosen.is_empty() {
            return Err(self.no_values(written));
        }
        Ok(chosen)
    }
}

/// The matrix tokens written in `text` (outside extra-network markup), in order: each as
/// written and its name.
pub(crate) fn matrix_tokens(text: &str) -> Vec<(&str, &str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                if let Some(end) = markup_end(text, i) {
                    i = end;
                    continue;
                }
            }
            b'[' => {
                if let Some((end, name)) = matrix_at(text, i) {
                    out.push((&text[i..end], name));
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// True when `text` may hold a token (cheap pre-check).
fn has_token_start(text: &str) -> bool {
    text.bytes().any(|b| matches!(b, b'[' | b'_' | b'{'))
}

/// At `<`: the end of an extra-network tag `<word:...>` (copied as written).
fn markup_end(text: &str, start: usize) -> Option<usize> {
    let rest = &text[start + 1..];
    let colon = rest.find(':')?;
    let word = &rest[..colon];
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let close = rest.find('>')?;
    if rest[..close].contains('<') || close < colon {
        return None;
    }
    Some(start + 1 + close + 1)
}

/// At `[`: a matrix token `[[name]]` (name of letters, digits, `_`, `-`, spaces): its end and
/// its trimmed name.
fn matrix_at(text: &str, start: usize) -> Option<(usize, &str)> {
    let rest = text[start..].strip_prefix("[[")?;
    let close = rest.find("]]")?;
    let inner = &rest[..close];
    if inner.is_empty()
        || !inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' '))
    {
        return None;
    }
    let name = inner.trim();
    if name.is_empty() {
        return None;
    }
    Some((start + 2 + close + 2, name))
}

/// At `_`: a wildcard `__name__` (a letter or digit, then letters, digits, `_ - / .`, up to
/// the first `__`): its end and its name. The same tokens as the pack syntax finds.
fn wildcard_at(text: &str, start: usize) -> Option<(usize, &str)> {
    let rest = text[start..].strip_prefix("__")?;
    let bytes = rest.as_bytes();
    if !bytes.first()?.is_ascii_alphanumeric() {
        return None;
    }
    let mut j = 1;
    while j < bytes.len() {
        if bytes[j] == b'_' && bytes.get(j + 1) == Some(&b'_') {
            return Some((start + 2 + j + 2, &rest[..j]));
        }
        let b = bytes[j];
        if !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.')) {
            return None;
        }
        j += 1;
    }
    None
}

/// At `{`: a variant `{a|b}` (a `|` outside nested braces): its end and the text inside.
fn variant_at(text: &str, start: usize) -> Option<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut bar = false;
    for (j, &b) in bytes.iter().enumerate().skip(start) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return bar.then(|| (j + 1, &text[start + 1..j]));
                }
            }
            b'|' if depth == 1 => bar = true,
            _ => {}
        }
    }
    None
}

/// The options of a variant's body: split at `|` outside nested braces, trimmed.
fn split_options(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut from = 0;
    for (j, b) in body.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b'|' if depth == 0 => {
                out.push(body[from..j].trim());
                from = j + 1;
            }
            _ => {}
        }
    }
    out.push(body[from..].trim());
    out
}

/// `N` or `N-M` before `$$`.
fn parse_quantity(text: &str) -> Option<(usize, usize)> {
    let text = text.trim();
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b).then_some((a, b))
        }
        None => text.parse().ok().map(|n| (n, n)),
    }
}

/// `3::text` is `text` with weight 3; anything else weight 1.
fn weighted_option(option: &str) -> (f64, &str) {
    if let Some((w, rest)) = option.split_once("::")
        && let Ok(w) = w.trim().parse::<f64>()
        && w.is_finite()
        && w >= 0.0
    {
        return (w, rest.trim());
    }
    (1.0, option)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_as_the_pack_syntax_finds_them() {
        assert_eq!(matrix_at("[[Hair Color]] x", 0), Some((14, "Hair Color")));
        assert_eq!(matrix_at("[[a.b]]", 0), None);
        assert_eq!(matrix_at("[[ ]]", 0), None);
        assert_eq!(wildcard_at("__dir/name__ x", 0), Some((12, "dir/name")));
        assert_eq!(wildcard_at("__a_b__", 0), Some((7, "a_b")));
        assert_eq!(wildcard_at("___a__", 0), None);
        assert_eq!(wildcard_at("___a__", 1), Some((6, "a")));
        assert_eq!(wildcard_at("__a b__", 0), None);
        assert_eq!(variant_at("{a|{b|c}} x", 0), Some((9, "a|{b|c}")));
        assert_eq!(variant_at("{prompt}", 0), None);
        assert_eq!(variant_at("{a|b", 0), None);
        assert_eq!(split_options(" a | {b|c} |"), vec!["a", "{b|c}", ""]);
        assert_eq!(markup_end("<lora:my__style__:0.5> x", 0), Some(22));
        assert_eq!(markup_end("a < b", 2), None);
        assert_eq!(parse_quantity("1-3"), Some((1, 3)));
        assert_eq!(weighted_option("2.5::rare"), (2.5, "rare"));
        assert_eq!(weighted_option("a::b"), (1.0, "a::b"));
    }
}
