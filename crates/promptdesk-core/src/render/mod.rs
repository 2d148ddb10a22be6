//! Rendering: the requests a run sends, exactly.
//!
//! A run's prompts (a pack's selected keys, or a typed prompt) become requests: styles applied
//! (see [`crate::styles`]), `[[name]]` matrix tokens replaced by the values the pack defines
//! (mode `fanout`, `sequential`/`rotate`, `random`), `__name__` wildcards drawn from
//! `wildcards/name.txt` in the packs folder and `{a|b|c}` inline variants chosen, every draw
//! made from a seed the user can see and reuse. A token with no values is never sent
//! literally: rendering fails naming the token and the pack.
//!
//! SKELETON (issue 11 foundation): only styles are applied; any token is an error. The
//! matrix, wildcards and variants are being filled in.

use crate::packs::{PackPrompt, PromptPack};
use crate::run_config::{PromptSource, RenderedRequest, RunConfig, StyleRef};
use crate::styles::{StyleError, apply_styles, resolve_styles};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The wildcard files of a packs folder: `wildcards/**/*.txt`, each by its name relative to
/// `wildcards/` without `.txt` (`weather`, `dir/name`), its usable lines in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wildcards {
    pub files: BTreeMap<String, Vec<String>>,
}

/// A wildcard file that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct WildcardError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for WildcardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl Wildcards {
    /// Reads `packs_dir/wildcards` (absent: no wildcards, no error).
    pub fn load(packs_dir: &Path) -> (Wildcards, Vec<WildcardError>) {
        let _ = packs_dir;
        (Wildcards::default(), Vec::new())
    }

    /// The lines of wildcard `name` (matched as written, then case-insensitively).
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.files.get(name).map(Vec::as_slice)
    }
}

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
    /// "12 requests from 3 prompts x 4 combinations", "1 request".
    pub fn summary(&self) -> String {
        let n = self.requests.len();
        let requests = crate::wording::plural(n, "request");
        if self.combinations > 1 {
            format!(
                "{requests} from {} x {}",
                crate::wording::plural(self.prompts, "prompt"),
                crate::wording::plural(self.combinations, "combination")
            )
        } else if self.prompts > 1 {
            format!(
                "{requests} from {}",
                crate::wording::plural(self.prompts, "prompt")
            )
        } else {
            requests
        }
    }
}

/// Why a run cannot be rendered.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderError {
    /// A token has no values: a `[[name]]` the pack's matrix does not define, a `__name__`
    /// with no wildcard file (or an empty one), an empty `{}`.
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
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::NoValues { token, pack, key } => match pack {
                Some(pack) => write!(
                    f,
                    "{token} in pack \"{pack}\" (key {key}) has no values to send; define it or drop its brackets"
                ),
                None => write!(
                    f,
                    "{token} in the prompt has no values to send; define it or drop its brackets"
                ),
            },
            RenderError::Style(e) => e.fmt(f),
            RenderError::UnknownPack(id) => write!(f, "there is no pack \"{id}\""),
            RenderError::UnknownKey { pack, key } => {
                write!(f, "pack \"{pack}\" has no prompt \"{key}\"")
            }
            RenderError::Empty => f.write_str("nothing to render: no prompt selected"),
        }
    }
}

impl std::error::Error for RenderError {}

impl From<StyleError> for RenderError {
    fn from(e: StyleError) -> Self {
        RenderError::Style(e)
    }
}

/// Renders `input` into the requests a run sends.
pub fn render(
    input: PromptInput<'_>,
    options: &RenderOptions<'_>,
) -> Result<RenderPlan, RenderError> {
    let mut requests = Vec::new();
    let (pack_id, prompts): (Option<&str>, Vec<(String, String, String)>) = match input {
        PromptInput::Pack { pack, keys } => {
            if keys.is_empty() {
                return Err(RenderError::Empty);
            }
            let mut out = Vec::with_capacity(keys.len());
            for key in keys {
                let p = pack.get(key).ok_or_else(|| RenderError::UnknownKey {
                    pack: pack.id.clone(),
                    key: key.clone(),
                })?;
                out.push((key.clone(), p.positive.clone(), p.negative.clone()));
            }
            (Some(pack.id.as_str()), out)
        }
        PromptInput::Manual { prompt, negative } => (
            None,
            vec![(String::new(), prompt.to_owned(), negative.to_owned())],
        ),
    };
    let count = prompts.len();
    for (key, positive, negative) in prompts {
        let (prompt, negative_prompt) = apply_styles(&positive, &negative, options.styles);
        for text in [&prompt, &negative_prompt] {
            let tokens = crate::packs::parse_prompt_tokens(text).unwrap_or_default();
            let token = tokens
                .matrix_tokens
                .first()
                .map(|m| format!("[[{m}]]"))
                .or_else(|| tokens.wildcards.first().map(|w| format!("__{w}__")));
            if let Some(token) = token {
                return Err(RenderError::NoValues {
                    token,
                    pack: pack_id.map(str::to_owned),
                    key,
                });
            }
        }
        requests.push(RenderedRequest {
            key,
            variant: 1,
            prompt,
            negative_prompt,
            values: BTreeMap::new(),
        });
    }
    Ok(RenderPlan {
        requests,
        prompts: count,
        combinations: 1,
        seed: options.seed,
        seeded: false,
    })
}

/// Renders the prompts `cfg` carries (its pack and keys, found in `packs`, or its typed prompt
/// from the payload) with `styles` and records the result in `cfg`: the styles, the seed
/// (when a draw used it) and every rendered request.
pub fn render_into(
    cfg: &mut RunConfig,
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
            let id = cfg.prompt_pack_id.clone().unwrap_or_default();
            let pack = packs
                .iter()
                .find(|p| p.id == id)
                .ok_or(RenderError::UnknownPack(id))?;
            let keys = cfg.prompt_keys.clone();
            render(PromptInput::Pack { pack, keys: &keys }, &options)?
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
