//! Prompt text and generation settings drawn from fixed vocabularies.

use crate::rng::Rng;
use promptdesk_core::GenerationSettings;

pub(crate) const SUBJECTS: &[&str] = &[
    "a lighthouse on a rocky cliff",
    "an old stone castle",
    "a red fox in fresh snow",
    "a busy night market",
    "a quiet harbour at dawn",
    "a mountain village",
    "a steam locomotive",
    "a portrait of an elderly fisherman",
    "a glass greenhouse full of ferns",
    "a dragon curled around a tower",
    "a desert caravan",
    "a cozy reading nook",
    "a futuristic city skyline",
    "a bowl of ramen",
    "a sailing ship in a storm",
    "a koi pond in autumn",
    "an astronaut tending a garden",
    "a cathedral interior",
    "a snowy pine forest",
    "a vintage motorcycle",
    "a tram crossing a bridge",
    "a lavender field",
    "a café terrace at night",
    "a windmill by a canal",
    "a paper lantern festival",
    "a waterfall in a jungle",
    "a clockmaker's workshop",
    "a herd of horses on a beach",
    "a treehouse village",
    "an owl on a mossy branch",
];

pub(crate) const DETAILS: &[&str] = &[
    "golden hour",
    "volumetric fog",
    "soft rim light",
    "dramatic clouds",
    "highly detailed",
    "sharp focus",
    "cinematic composition",
    "shallow depth of field",
    "wide angle",
    "35mm photo",
    "oil painting",
    "watercolor",
    "ink sketch",
    "studio lighting",
    "overcast sky",
    "reflections on wet pavement",
    "warm color palette",
    "muted tones",
    "intricate ornaments",
    "morning mist",
    "long exposure",
    "bokeh",
    "rule of thirds",
    "isometric view",
    "matte painting",
    "film grain",
    "backlit",
    "blue hour",
    "light rays through the trees",
    "symmetrical",
    "trending colors",
    "hand painted texture",
    "8k",
    "masterpiece",
    "best quality",
    "ultra wide shot",
    "macro shot",
    "snow falling",
    "rain drops",
    "lens flare",
    "über detailed stonework",
    "Fuji-san in the distance",
];

pub(crate) const NEGATIVES: &[&str] = &[
    "blurry",
    "lowres",
    "jpeg artifacts",
    "watermark",
    "text",
    "signature",
    "bad anatomy",
    "extra fingers",
    "deformed",
    "oversaturated",
    "cropped",
    "worst quality",
    "out of frame",
    "duplicate",
    "noise",
    "grainy",
];

pub(crate) const LORAS: &[&str] = &[
    "detail_tweaker",
    "film_look",
    "soft_light",
    "watercolor_style",
    "neon_glow",
];
pub(crate) const EMBEDDINGS: &[&str] = &["warm_tones", "bad_quality", "fine_detail", "clean_hands"];
pub(crate) const MATRIX: &[&str] = &["season", "time of day", "art-style"];
pub(crate) const WILDCARDS: &[&str] = &["weather", "color", "animal"];

/// A positive prompt of about `len` characters (at least one subject), with the odd LoRA,
/// embedding, matrix token or wildcard.
pub fn positive_prompt(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 64);
    if rng.chance(10) {
        s.push_str(&format!("(<embedding:{}>:0.8) ", rng.word(EMBEDDINGS)));
    }
    s.push_str(rng.word(SUBJECTS));
    while s.len() < len {
        s.push_str(", ");
        match rng.below(40) {
            0 => s.push_str(&format!("[[{}]]", rng.word(MATRIX))),
            1 => s.push_str(&format!("__{}__", rng.word(WILDCARDS))),
            2 => s.push_str(rng.word(SUBJECTS)),
            _ => s.push_str(rng.word(DETAILS)),
        }
    }
    if rng.chance(25) {
        s.push_str(&format!(
            " <lora:{}:{:.2}>",
            rng.word(LORAS),
            0.3 + rng.below(8) as f64 * 0.1
        ));
    }
    s
}

/// Positive prompt lengths: 50–600 characters, and about 3 in 100 near 2 KB.
pub fn prompt_len(rng: &mut Rng) -> usize {
    if rng.chance(3) {
        rng.range(1800, 2300) as usize
    } else {
        rng.range(50, 600) as usize
    }
}

/// A negative prompt of 0–250 characters.
pub fn negative_prompt(rng: &mut Rng) -> String {
    let len = match rng.below(10) {
        0..=2 => 0,
        3..=7 => rng.range(10, 80) as usize,
        _ => rng.range(80, 250) as usize,
    };
    let mut s = String::new();
    while s.len() < len {
        if !s.is_empty() {
            s.push_str(", ");
        }
        s.push_str(rng.word(NEGATIVES));
    }
    if rng.chance(8) {
        s.push_str(&format!(" <embedding:{}>", rng.word(EMBEDDINGS)));
    }
    s
}

// Settings

pub(crate) const MODELS: &[&str] = &[
    "sd_xl_base_1.0.safetensors",
    "juggernautXL_v9.safetensors",
    "dreamshaper_8.safetensors",
    "realisticVision_v60.safetensors",
    "v1-5-pruned-emaonly.safetensors",
    "protovisionXL_v6.safetensors",
    "animagineXL_v31.safetensors",
    "ponyDiffusionV6XL.safetensors",
    "epicrealism_naturalSin.safetensors",
    "sdxl_lightning_4step.safetensors",
    "flux1-dev-fp8.safetensors",
    "",
];
pub(crate) const SAMPLERS: &[&str] = &[
    "Euler a",
    "Euler",
    "DPM++ 2M",
    "DPM++ SDE",
    "DPM++ 2M SDE",
    "DDIM",
    "UniPC",
    "Heun",
    "LMS",
];
pub(crate) const SCHEDULERS: &[&str] = &[
    "Automatic",
    "Karras",
    "Exponential",
    "Normal",
    "SGM Uniform",
];
pub(crate) const SIZES: &[u32] = &[512, 640, 768, 832, 896, 1024, 1152, 1216];

pub fn settings(rng: &mut Rng) -> GenerationSettings {
    GenerationSettings {
        model: rng.word(MODELS).to_string(),
        sampler: rng.word(SAMPLERS).to_string(),
        scheduler: rng.word(SCHEDULERS).to_string(),
        steps: rng.range(8, 60) as u32,
        cfg_scale: 1.5 + rng.below(22) as f64 * 0.5,
        width: *rng.pick(SIZES),
        height: *rng.pick(SIZES),
        seed: if rng.chance(30) {
            -1
        } else {
            (rng.next_u64() >> 32) as i64
        },
        batch_size: rng.range(1, 4) as u32,
        batch_count: rng.range(1, 4) as u32,
        clip_skip: rng.range(1, 2) as u32,
    }
}
