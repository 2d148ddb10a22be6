//! Rendering: the requests a run sends, exactly.
//!
//! A run's prompts (a pack's selected keys, or a typed prompt) become requests:
//! 1. styles are applied to each prompt (see [`crate::styles`]); a prompt of a style source
//!    used as a pack is first its style applied to the empty prompt, so `{prompt}` is never
//!    sent;
//! 2. then the tokens of the composed positive and negative text are replaced (tokens in a
//!    style's text too): `[[name]]` matrix tokens by the values the pack's matrix defines
//!    ([`matrix`]: modes `fanout`, `sequential`/`rotate`, `random`), `__name__` wildcards by a
//!    line drawn from `wildcards/name.txt` in the packs folder ([`wildcards`]) and `{a|b|c}`
//!    inline variants by a drawn option ([`variants`]).
//!
//! Draws are made from a seed the user can see and reuse: the same seed draws the same values,
//! and one more selected key does not change what the others draw ([`rng`]). A token with no
//! values is never sent literally: rendering fails naming the token and the pack
//! ([`RenderError::NoValues`]; [`drop_brackets`] is the composer's fix).
//!
//! Each request records the value each token took, keyed by the token as written
//! (`[[season]]`, `__weather__`, `{a|b|c}`). A matrix token has one value per request (every
//! occurrence, positive or negative, takes the same). Each occurrence of a wildcard or variant
//! draws on its own: the first is recorded under the token, the next ones as `token#2`,
//! `token#3`, ... (positive first, then negative). Tokens inside a drawn line are not recorded
//! on their own: the outer token's value is the fully expanded text.
//!
//! A run renders at most [`MAX_REQUESTS`] requests, so a mistake cannot build millions.

pub mod matrix;
mod rng;
pub mod variants;
pub mod wildcards;

pub use matrix::MatrixMode;
pub use wildcards::{WILDCARDS_DIR, WildcardError, Wildcards};

use crate::packs::{PackFormat, PackPrompt, PromptPack};
use crate::run_config::{PromptSource, RenderedRequest, RunConfig, StyleRef};
use crate::styles::{StyleError, apply_styles, as_pack_prompt_text, resolve_styles};
use matrix::{PromptMatrix, effective_limit, usable_slot};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use variants::Expander;

/// The most requests one run renders: more is [`RenderError::TooManyRequests`].
pub const MAX_REQUESTS: usize = 10_000;

/// The stream tag of `random` matrix draws (variant numbers, the other streams' tag, are u32).
pub(crate) const MATRIX_STREAM: u64 = u64::MAX;

/// Where a run's prompts come from.
#[derive(Debug, Clone, Copy)]
pub enum PromptInput<'a> {
    Pack {
        pack: &'a PromptPack,
        keys: &'a [String],
    },
    Manual {
        prompt: &'a str,
        negative: &'a str,
    },
}

/// What a run renders with besides its prompts.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    /// Styles, resolved, in the order applied.
    pub styles: &'a [&'a PackPrompt],
    pub wildcards: &'a Wildcards,
    /// The seed for wildcard, `{a|b}` and `random` matrix draws.
    pub seed: u64,
}

/// The requests a run sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderPlan {
    pub requests: Vec<RenderedRequest>,
    /// How many prompts (keys, or 1 for a typed prompt) the requests come from.
    pub prompts: usize,
    /// Matrix combinations per prompt (1 without a fanout matrix).
    pub combinations: usize,
    /// The seed the draws were made with.
    pub seed: u64,
    /// True when any draw used the seed (a wildcard, a `{a|b}` variant, a random matrix).
    pub seeded: bool,
}

impl RenderPlan {
    /// "12 requests from 3 prompts x 4 combinations", "3 requests from 3 prompts",
    /// "1 request".
    pub fn summary(&self) -> String {
        self.counted(self.requests.len(), "request", 1)
    }

    /// The wording, images first: "12 images from 3 prompts x 4 combinations", with
    /// `per_request` images per request (batch size x batch count) added when over 1:
    /// "24 images from 3 prompts x 4 combinations x 2 each".
    pub fn summary_images(&self, per_request: u32) -> String {
        let images = self
            .requests
            .len()
            .saturating_mul(usize::try_from(per_request).unwrap_or(usize::MAX));
        self.counted(images, "image", per_request)
    }

    fn counted(&self, n: usize, what: &str, per_request: u32) -> String {
        use crate::wording::plural;
        let mut out = plural(n, what);
        let uniform = self.prompts.saturating_mul(self.combinations) == self.requests.len();
        if self.combinations > 1 && uniform {
            out.push_str(&format!(
                " from {} x {}",
                plural(self.prompts, "prompt"),
                plural(self.combinations, "combination")
            ));
        } else if self.combinations > 1 {
            out.push_str(&format!(
                " from {} (up to {} each)",
                plural(self.prompts, "prompt"),
                plural(self.combinations, "combination")
            ));
        } else if self.prompts > 1 {
            out.push_str(&format!(" from {}", plural(self.prompts, "prompt")));
        }
        if per_request > 1 && (self.prompts > 1 || self.combinations > 1) {
            out.push_str(&format!(" x {per_request} each"));
        } else if per_request > 1 {
            out.push_str(&format!(" ({per_request} per request)"));
        }
        out
    }
}

/// Why a run cannot be rendered.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderError {
    /// A token has no values: a `[[name]]` the pack's matrix does not define (no such slot, no
    /// values, no matrix, or the matrix is disabled), a `__name__` with no wildcard file (or an
    /// empty one).
    NoValues {
        /// The token as written, e.g. `[[season]]`.
        token: String,
        /// The pack, `None` for a typed prompt.
        pack: Option<String>,
        /// The key of the prompt that holds it, empty for a typed prompt.
        key: String,
    },
    Style(StyleError),
    /// The config names a pack that is not in the packs folder.
    UnknownPack(String),
    /// The config names a key the pack lacks.
    UnknownKey {
        pack: String,
        key: String,
    },
    /// Nothing to render (a pack run without keys).
    Empty,
    /// A token's drawn text holds tokens more than [`variants::MAX_DEPTH`] levels deep (a
    /// wildcard file drawing itself, say), or into more than
    /// [`variants::MAX_DRAWS_PER_REQUEST`] draws.
    TooDeep {
        /// The token as written whose expansion went too deep.
        token: String,
        pack: Option<String>,
        key: String,
    },
    /// The run would send more than [`MAX_REQUESTS`] requests.
    TooManyRequests {
        count: usize,
    },
}

/// Why a token has no values, from its shape.
fn no_values_reason(token: &str, pack: Option<&str>) -> String {
    if let Some(name) = token.strip_prefix("[[").and_then(|t| t.strip_suffix("]]")) {
        match pack {
            Some(_) => format!(
                "the pack's matrix has no slot \"{}\" with values (or the matrix is disabled)",
                name.trim()
            ),
            None => "a typed prompt has no matrix".to_owned(),
        }
    } else if let Some(name) = token.strip_prefix("__").and_then(|t| t.strip_suffix("__")) {
        format!(
            "there is no wildcard file {WILDCARDS_DIR}/{name}.txt with lines in the packs folder"
        )
    } else {
        "it has no options".to_owned()
    }
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::NoValues { token, pack, key } => {
                let reason = no_values_reason(token, pack.as_deref());
                match pack {
                    Some(pack) => write!(
                        f,
                        "{token} in pack \"{pack}\" (key {key}) has no values to send: {reason}; define it or drop its brackets"
                    ),
                    None => write!(
                        f,
                        "{token} in the prompt has no values to send: {reason}; define it or drop its brackets"
                    ),
                }
            }
            RenderError::Style(e) => e.fmt(f),
            RenderError::UnknownPack(id) => write!(f, "there is no pack \"{id}\""),
            RenderError::UnknownKey { pack, key } => {
                write!(f, "pack \"{pack}\" has no prompt \"{key}\"")
            }
            RenderError::Empty => f.write_str("nothing to render: no prompt selected"),
            RenderError::TooDeep { token, pack, key } => {
                let depth = variants::MAX_DEPTH;
                match pack {
                    Some(pack) => write!(
                        f,
                        "{token} in pack \"{pack}\" (key {key}) expands too deeply (more than {depth} levels of tokens in drawn lines, or too many draws); does a wildcard file draw itself?"
                    ),
                    None => write!(
                        f,
                        "{token} in the prompt expands too deeply (more than {depth} levels of tokens in drawn lines, or too many draws); does a wildcard file draw itself?"
                    ),
                }
            }
            RenderError::TooManyRequests { count } => write!(
                f,
                "the run would send {count} requests, over the limit of {MAX_REQUESTS}; select fewer prompts or lower the pack's matrix limit"
            ),
        }
    }
}

impl std::error::Error for RenderError {}

impl From<StyleError> for RenderError {
    fn from(e: StyleError) -> Self {
        RenderError::Style(e)
    }
}

/// A prompt as written: key, positive, negative.
type WrittenPrompt<'a> = (&'a str, Cow<'a, str>, Cow<'a, str>);

/// True for a pack whose prompts are styles (a style source used as a pack).
fn is_style_pack(pack: &PromptPack) -> bool {
    pack.format.is_some_and(PackFormat::is_style_source)
}

/// Renders `input` into the requests a run sends (see the module documentation).
pub fn render(
    input: PromptInput<'_>,
    options: &RenderOptions<'_>,
) -> Result<RenderPlan, RenderError> {
    // The prompts as written: (key, positive, negative).
    let (pack, prompts): (Option<&PromptPack>, Vec<WrittenPrompt<'_>>) = match input {
        PromptInput::Pack { pack, keys } => {
            if keys.is_empty() {
                return Err(RenderError::Empty);
            }
            let styled = is_style_pack(pack);
            let mut out = Vec::with_capacity(keys.len());
            for key in keys {
                let p = pack.get(key).ok_or_else(|| RenderError::UnknownKey {
                    pack: pack.id.clone(),
                    key: key.clone(),
                })?;
                if styled {
                    out.push((
                        key.as_str(),
                        Cow::Owned(as_pack_prompt_text(&p.positive)),
                        Cow::Owned(as_pack_prompt_text(&p.negative)),
                    ));
                } else {
                    out.push((
                        key.as_str(),
                        Cow::Borrowed(p.positive.as_str()),
                        Cow::Borrowed(p.negative.as_str()),
                    ));
                }
            }
            (Some(pack), out)
        }
        PromptInput::Manual { prompt, negative } => (
            None,
            vec![("", Cow::Borrowed(prompt), Cow::Borrowed(negative))],
        ),
    };
    let pack_id = pack.map(|p| p.id.as_str());
    let matrix = pack.and_then(|p| p.matrix.as_ref());
    let mode = matrix.map_or(MatrixMode::Fanout, |m| MatrixMode::parse(&m.mode));
    let limit = matrix.map_or(1, effective_limit);

    // Styles first, then the matrix slots each composed prompt uses.
    let mut composed = Vec::with_capacity(prompts.len());
    let mut total = 0usize;
    for (key, positive, negative) in &prompts {
        let (positive, negative) = if options.styles.is_empty() {
            (positive.clone().into_owned(), negative.clone().into_owned())
        } else {
            apply_styles(positive, negative, options.styles)
        };
        let mut slots = Vec::new();
        for (written, name) in variants::matrix_tokens(&positive)
            .into_iter()
            .chain(variants::matrix_tokens(&negative))
        {
            let slot = usable_slot(matrix, name).ok_or_else(|| RenderError::NoValues {
                token: written.to_owned(),
                pack: pack_id.map(str::to_owned),
                key: (*key).to_owned(),
            })?;
            if !slots.iter().any(|(i, _)| *i == slot.0) {
                slots.push(slot);
            }
        }
        slots.sort_by_key(|(i, _)| *i);
        let plan = PromptMatrix { slots, mode, limit };
        total = total.saturating_add(plan.count());
        composed.push((*key, positive, negative, plan));
    }
    if total > MAX_REQUESTS {
        return Err(RenderError::TooManyRequests { count: total });
    }

    let mut requests = Vec::with_capacity(total);
    let mut seeded = false;
    // The most combinations any prompt has (the summary says when they differ).
    let mut combinations = 1;
    for (index, (key, positive, negative, plan)) in composed.iter().enumerate() {
        let combos = plan.combinations(index, key, options.seed, &mut seeded);
        combinations = combinations.max(combos.len());
        for (v, combo) in combos.iter().enumerate() {
            let variant = u32::try_from(v + 1).unwrap_or(u32::MAX);
            let mut expander = Expander::new(
                options.wildcards,
                matrix,
                combo,
                pack_id,
                key,
                options.seed,
                variant,
            );
            let prompt = expander.expand_top(positive)?;
            let negative_prompt = expander.expand_top(negative)?;
            seeded |= expander.seeded;
            requests.push(RenderedRequest {
                key: (*key).to_owned(),
                variant,
                prompt,
                negative_prompt,
                values: expander.values,
            });
        }
    }
    Ok(RenderPlan {
        requests,
        prompts: composed.len(),
        combinations,
        seed: options.seed,
        seeded,
    })
}

/// Renders the prompts `cfg` carries with `styles` and records the result in `cfg`: the
/// styles, the seed (when a draw used it) and every rendered request.
///
/// The texts are the payload's: a typed prompt, or for a pack run each key's recorded text
/// (which, after Load into composer, may differ from the pack's current one); the pack (found
/// in `packs` by id) gives the keys' order checks, labels and the matrix.
pub fn render_into(
    cfg: &mut RunConfig,
    packs: &[PromptPack],
    wildcards: &Wildcards,
    styles: &[StyleRef],
    seed: u64,
) -> Result<RenderPlan, RenderError> {
    let pack = match cfg.prompt_source {
        PromptSource::Pack => {
            let id = cfg.prompt_pack_id.clone().unwrap_or_default();
            Some(
                packs
                    .iter()
                    .find(|p| p.id == id)
                    .ok_or(RenderError::UnknownPack(id))?,
            )
        }
        PromptSource::Manual => None,
    };
    render_with_pack(cfg, pack, packs, wildcards, styles, seed)
}

/// [`render_into`] with the pack of a pack run given (a panel drawn alone has its selected
/// pack, not necessarily a folder's packs); `packs` are where the styles are found.
pub fn render_with_pack(
    cfg: &mut RunConfig,
    pack: Option<&PromptPack>,
    packs: &[PromptPack],
    wildcards: &Wildcards,
    styles: &[StyleRef],
    seed: u64,
) -> Result<RenderPlan, RenderError> {
    let resolved = resolve_styles(packs, styles)?;
    let options = RenderOptions {
        styles: &resolved,
        wildcards,
        seed,
    };
    let plan = match cfg.prompt_source {
        PromptSource::Pack => {
            let pack = pack.ok_or_else(|| {
                RenderError::UnknownPack(cfg.prompt_pack_id.clone().unwrap_or_default())
            })?;
            let overlay = with_payload_texts(pack, cfg)?;
            let keys = cfg.prompt_keys.clone();
            render(
                PromptInput::Pack {
                    pack: &overlay,
                    keys: &keys,
                },
                &options,
            )?
        }
        PromptSource::Manual => {
            let text = |k: &str| {
                cfg.prompt_payload
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let (prompt, negative) = (text("prompt"), text("negative_prompt"));
            render(
                PromptInput::Manual {
                    prompt: &prompt,
                    negative: &negative,
                },
                &options,
            )?
        }
    };
    cfg.set_prompt_styles(styles);
    cfg.set_wildcard_seed(plan.seeded.then_some(plan.seed));
    cfg.set_rendered(&plan.requests);
    Ok(plan)
}

/// `pack` with only the keys `cfg` names, each with the text the payload carries for it
/// (`{"prompts": {key: text | {"prompt", "negative_prompt"}}}`); a key the payload has no
/// text for keeps the pack's.
fn with_payload_texts(pack: &PromptPack, cfg: &RunConfig) -> Result<PromptPack, RenderError> {
    let prompts = cfg.prompt_payload.get("prompts");
    let mut overlay = PromptPack {
        id: pack.id.clone(),
        name: pack.name.clone(),
        format: pack.format,
        matrix: pack.matrix.clone(),
        ..PromptPack::default()
    };
    for key in &cfg.prompt_keys {
        let mut p = pack
            .get(key)
            .cloned()
            .ok_or_else(|| RenderError::UnknownKey {
                pack: pack.id.clone(),
                key: key.clone(),
            })?;
        match prompts.and_then(|m| m.get(key.as_str())) {
            Some(Value::String(text)) => {
                p.positive.clone_from(text);
                p.negative.clear();
            }
            Some(entry @ Value::Object(_)) => {
                let text = |k: &str| entry.get(k).and_then(Value::as_str).unwrap_or_default();
                p.positive = text("prompt").to_owned();
                p.negative = text("negative_prompt").to_owned();
            }
            _ => {}
        }
        overlay.prompts.push(p);
    }
    Ok(overlay)
}

/// A fresh seed for draws, from the clock and the process's hasher keys.
pub fn new_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    // Keep seeds short enough to read and type: under 10^12.
    h.finish() % 1_000_000_000_000
}

/// `text` with the brackets of `token` dropped wherever it appears: `[[season]]` becomes
/// `season`, `__weather__` becomes `weather`, `{a|b}` becomes `a|b`.
pub fn drop_brackets(text: &str, token: &str) -> String {
    let inner = token
        .strip_prefix("[[")
        .and_then(|t| t.strip_suffix("]]"))
        .or_else(|| token.strip_prefix("__").and_then(|t| t.strip_suffix("__")))
        .or_else(|| token.strip_prefix('{').and_then(|t| t.strip_suffix('}')))
        .unwrap_or(token);
    text.replace(token, inner)
}
