//! Names between vocabularies: A1111's samplers and schedulers (what packs, StableNew presets
//! and the composer use) and ComfyUI's; checkpoint names matched against a backend's list.

use super::ModelInfo;

/// A1111 sampler and scheduler (`DPM++ 2M`, `Karras`; also old combined names such as
/// `DPM++ 2M Karras`) as ComfyUI's `(sampler_name, scheduler)`. A name with no counterpart is
/// an error saying so.
pub fn to_comfy(sampler: &str, scheduler: &str) -> Result<(String, String), String> {
    Err(format!("not built yet: {sampler} {scheduler}"))
}

/// A ComfyUI sampler name in A1111's vocabulary, when it has one.
pub fn sampler_from_comfy(name: &str) -> Option<String> {
    let _ = name;
    None
}

/// A ComfyUI scheduler name in A1111's vocabulary (its label), when it has one.
pub fn scheduler_from_comfy(name: &str) -> Option<String> {
    let _ = name;
    None
}

/// The backend's model that `wanted` names: by title, by file name with or without its
/// extension, folder or `[hash]`, or by hash.
pub fn match_model<'a>(wanted: &str, models: &'a [ModelInfo]) -> Option<&'a ModelInfo> {
    models.iter().find(|m| m.title == wanted)
}
