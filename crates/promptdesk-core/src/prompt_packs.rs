//! Building RunConfigs from a prompt pack selection or from a manual prompt.

use crate::packs::{PackError, PackErrorKind, PromptPack};
use crate::run_config::{PromptSource, RunConfig};
use serde_json::{Map, Value, json};

/// A RunConfig for the selected prompts of `pack`: source Pack, the pack id, the keys in the
/// order given, and a payload `{"pack_id", "prompts": {key: {"prompt", "negative_prompt"}}}`
/// holding exactly those keys. Every other field comes from `base`, or from a default config
/// with the pack's defaults applied when `base` is None.
///
/// An empty selection, a key the pack lacks or a key given twice is an error naming the key
/// and the pack.
pub fn build_run_config_from_prompt_pack<S: AsRef<str>>(
    pack: &PromptPack,
    selected_keys: &[S],
    base: Option<RunConfig>,
) -> Result<RunConfig, PackError> {
    if selected_keys.is_empty() {
        return Err(PackError::of_pack(PackErrorKind::EmptySelection {
            pack: pack.id.clone(),
        }));
    }
    let mut prompts = Map::with_capacity(selected_keys.len());
    let mut keys = Vec::with_capacity(selected_keys.len());
    for key in selected_keys {
        let key = key.as_ref();
        let prompt = pack.get(key).ok_or_else(|| {
            PackError::of_pack(PackErrorKind::UnknownKey {
                pack: pack.id.clone(),
                key: key.to_owned(),
            })
        })?;
        if prompts.contains_key(key) {
            return Err(PackError::of_pack(PackErrorKind::RepeatedKey {
                pack: pack.id.clone(),
                key: key.to_owned(),
            }));
        }
        prompts.insert(
            key.to_owned(),
            json!({"prompt": prompt.positive, "negative_prompt": prompt.negative}),
        );
        keys.push(key.to_owned());
    }
    let mut cfg = base.unwrap_or_else(|| {
        let mut cfg = RunConfig::default();
        pack.defaults.apply_to(&mut cfg.settings);
        cfg
    });
    cfg.prompt_source = PromptSource::Pack;
    cfg.prompt_pack_id = Some(pack.id.clone());
    cfg.prompt_keys = keys;
    let mut payload = Map::with_capacity(2);
    payload.insert("pack_id".to_owned(), Value::String(pack.id.clone()));
    payload.insert("prompts".to_owned(), Value::Object(prompts));
    cfg.prompt_payload = payload;
    Ok(cfg)
}

/// A RunConfig for a typed prompt: source Manual, no pack id, no keys, payload
/// `{"prompt", "negative_prompt"}`; every other field comes from `base`.
pub fn build_run_config_for_manual_prompt(
    prompt: &str,
    negative_prompt: &str,
    base: Option<RunConfig>,
) -> RunConfig {
    let mut cfg = base.unwrap_or_default();
    cfg.prompt_source = PromptSource::Manual;
    cfg.prompt_pack_id = None;
    cfg.prompt_keys = Vec::new();
    let mut payload = Map::with_capacity(2);
    payload.insert("prompt".to_owned(), Value::String(prompt.to_owned()));
    payload.insert(
        "negative_prompt".to_owned(),
        Value::String(negative_prompt.to_owned()),
    );
    cfg.prompt_payload = payload;
    cfg
}
