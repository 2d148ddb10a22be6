//! Names between vocabularies: A1111's samplers and schedulers (what packs, StableNew presets
//! and the composer use) and ComfyUI's; checkpoint names matched against a backend's list.

use super::ModelInfo;

/// A1111 sampler names (1.9+, after the sampler/scheduler split) and their ComfyUI
/// `sampler_name`. A1111's k-diffusion aliases (`k_euler_a`) are accepted too.
const SAMPLERS: &[(&str, &str, &str)] = &[
    // (A1111 name, A1111 alias, ComfyUI name)
    ("Euler a", "k_euler_a", "euler_ancestral"),
    ("Euler", "k_euler", "euler"),
    ("LMS", "k_lms", "lms"),
    ("Heun", "k_heun", "heun"),
    ("DPM2", "k_dpm_2", "dpm_2"),
    ("DPM2 a", "k_dpm_2_a", "dpm_2_ancestral"),
    ("DPM++ 2S a", "k_dpmpp_2s_a", "dpmpp_2s_ancestral"),
    ("DPM++ 2M", "k_dpmpp_2m", "dpmpp_2m"),
    ("DPM++ SDE", "k_dpmpp_sde", "dpmpp_sde"),
    ("DPM++ 2M SDE", "k_dpmpp_2m_sde", "dpmpp_2m_sde"),
    ("DPM++ 3M SDE", "k_dpmpp_3m_sde", "dpmpp_3m_sde"),
    ("DPM fast", "k_dpm_fast", "dpm_fast"),
    ("DPM adaptive", "k_dpm_ad", "dpm_adaptive"),
    ("DDIM", "ddim", "ddim"),
    ("UniPC", "unipc", "uni_pc"),
    ("LCM", "k_lcm", "lcm"),
    ("DDPM", "ddpm", "ddpm"),
];

/// A1111 scheduler labels (and names) and their ComfyUI `scheduler`. The first row for a
/// ComfyUI name is the one shown when translating back.
const SCHEDULERS: &[(&str, &str, &str)] = &[
    // (A1111 label, A1111 name, ComfyUI name)
    ("Automatic", "automatic", "normal"),
    ("Karras", "karras", "karras"),
    ("Exponential", "exponential", "exponential"),
    ("SGM Uniform", "sgm_uniform", "sgm_uniform"),
    ("Simple", "simple", "simple"),
    ("DDIM", "ddim", "ddim_uniform"),
    ("Beta", "beta", "beta"),
    ("KL Optimal", "kl_optimal", "kl_optimal"),
    ("Normal", "normal", "normal"),
    ("Uniform", "uniform", "normal"),
];

/// Old A1111 names carried the scheduler (`DPM++ 2M Karras`): the suffixes that split off.
const SCHEDULER_SUFFIXES: &[(&str, &str)] = &[
    (" Karras", "Karras"),
    (" Exponential", "Exponential"),
    (" SGM Uniform", "SGM Uniform"),
];

fn comfy_sampler(name: &str) -> Option<&'static str> {
    let n = name.trim();
    SAMPLERS
        .iter()
        .find(|(a, alias, comfy)| {
            a.eq_ignore_ascii_case(n)
                || alias.eq_ignore_ascii_case(n)
                || comfy.eq_ignore_ascii_case(n)
        })
        .map(|(_, _, comfy)| *comfy)
}

fn comfy_scheduler(name: &str) -> Option<&'static str> {
    let n = name.trim();
    if n.is_empty() {
        return Some("normal");
    }
    SCHEDULERS
        .iter()
        .find(|(label, a, comfy)| {
            label.eq_ignore_ascii_case(n)
                || a.eq_ignore_ascii_case(n)
                || comfy.eq_ignore_ascii_case(n)
        })
        .map(|(_, _, comfy)| *comfy)
}

/// A1111 sampler and scheduler (`DPM++ 2M`, `Karras`; also old combined names such as
/// `DPM++ 2M Karras`, and ComfyUI's own names typed as they are) as ComfyUI's
/// `(sampler_name, scheduler)`. A name with no counterpart is an error saying so, so nothing
/// is sent with a sampler the user did not ask for.
pub fn to_comfy(sampler: &str, scheduler: &str) -> Result<(String, String), String> {
    let mut sampler = sampler.trim();
    let mut scheduler = scheduler.trim().to_owned();
    if comfy_sampler(sampler).is_none() {
        for (suffix, label) in SCHEDULER_SUFFIXES {
            if let Some(base) = sampler.strip_suffix(suffix) {
                sampler = base;
                if scheduler.is_empty() || scheduler.eq_ignore_ascii_case("automatic") {
                    scheduler = (*label).to_owned();
                }
                break;
            }
        }
    }
    let Some(s) = comfy_sampler(sampler) else {
        return Err(format!(
            "the sampler {sampler:?} has no ComfyUI counterpart (ComfyUI has e.g. Euler a, Euler, DPM++ 2M, DPM++ 2M SDE, DPM++ SDE, UniPC, DDIM)"
        ));
    };
    let Some(sch) = comfy_scheduler(&scheduler) else {
        return Err(format!(
            "the scheduler {scheduler:?} has no ComfyUI counterpart (ComfyUI has Automatic/Normal, Karras, Exponential, SGM Uniform, Simple, DDIM, Beta, KL Optimal)"
        ));
    };
    Ok((s.to_owned(), sch.to_owned()))
}

/// A ComfyUI sampler name in A1111's vocabulary, when it has one.
pub fn sampler_from_comfy(name: &str) -> Option<String> {
    SAMPLERS
        .iter()
        .find(|(_, _, comfy)| *comfy == name.trim())
        .map(|(a, _, _)| (*a).to_owned())
}

/// A ComfyUI scheduler name in A1111's vocabulary (its label), when it has one.
pub fn scheduler_from_comfy(name: &str) -> Option<String> {
    SCHEDULERS
        .iter()
        .find(|(_, _, comfy)| *comfy == name.trim())
        .map(|(label, _, _)| (*label).to_owned())
}

/// A model name reduced for matching: no folder, no ` [hash]`, no extension, lower case.
fn stem(name: &str) -> String {
    let mut s = name.trim();
    if let Some(open) = s.rfind(" [")
        && s.ends_with(']')
    {
        s = &s[..open];
    }
    let s = s.rsplit(['/', '\\']).next().unwrap_or(s);
    let lower = s.to_lowercase();
    for ext in [
        ".safetensors",
        ".ckpt",
        ".pt",
        ".pth",
        ".bin",
        ".gguf",
        ".sft",
    ] {
        if let Some(base) = lower.strip_suffix(ext) {
            return base.to_owned();
        }
    }
    lower
}

/// The `[hash]` at the end of an A1111 title, if any.
fn bracket_hash(name: &str) -> Option<&str> {
    let s = name.trim();
    let open = s.rfind(" [")?;
    s.ends_with(']').then(|| &s[open + 2..s.len() - 1])
}

/// The backend's model that `wanted` names: by title (exact, then any case), by the hash in
/// `[...]` or a bare hash, then by file name with or without folder, extension or `[hash]`
/// (`juggernautXL_v9`, `juggernautXL_v9.safetensors`, `SDXL/juggernautXL_v9.safetensors
/// [a1b2c3d4]` all name the same model).
pub fn match_model<'a>(wanted: &str, models: &'a [ModelInfo]) -> Option<&'a ModelInfo> {
    let w = wanted.trim();
    if w.is_empty() {
        return None;
    }
    if let Some(m) = models.iter().find(|m| m.title == w) {
        return Some(m);
    }
    if let Some(m) = models.iter().find(|m| m.title.eq_ignore_ascii_case(w)) {
        return Some(m);
    }
    let hash = bracket_hash(w).unwrap_or(w);
    if hash.len() >= 8
        && hash.chars().all(|c| c.is_ascii_hexdigit())
        && let Some(m) = models.iter().find(|m| {
            m.hash.as_deref().is_some_and(|h| {
                h.eq_ignore_ascii_case(hash)
                    || h.get(..hash.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(hash))
            })
        })
    {
        return Some(m);
    }
    let ws = stem(w);
    models
        .iter()
        .find(|m| stem(&m.title) == ws || (!m.name.is_empty() && stem(&m.name) == ws))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(s: &str, sch: &str) -> (String, String) {
        to_comfy(s, sch).unwrap()
    }

    #[test]
    fn a1111_names_translate_to_comfyui_and_back() {
        assert_eq!(
            pair("Euler a", "Automatic"),
            ("euler_ancestral".into(), "normal".into())
        );
        assert_eq!(
            pair("DPM++ 2M", "Karras"),
            ("dpmpp_2m".into(), "karras".into())
        );
        assert_eq!(
            pair("DPM++ 2M SDE", "Exponential"),
            ("dpmpp_2m_sde".into(), "exponential".into())
        );
        // Old combined names carry the scheduler.
        assert_eq!(
            pair("DPM++ 2M Karras", "Automatic"),
            ("dpmpp_2m".into(), "karras".into())
        );
        assert_eq!(
            pair("DPM++ 2M SDE Karras", ""),
            ("dpmpp_2m_sde".into(), "karras".into())
        );
        // ComfyUI's own names pass, any case.
        assert_eq!(
            pair("dpmpp_2m", "karras"),
            ("dpmpp_2m".into(), "karras".into())
        );
        assert_eq!(
            pair("euler a", "karras"),
            ("euler_ancestral".into(), "karras".into())
        );
        assert_eq!(
            sampler_from_comfy("euler_ancestral").as_deref(),
            Some("Euler a")
        );
        assert_eq!(
            sampler_from_comfy("dpmpp_2m_sde").as_deref(),
            Some("DPM++ 2M SDE")
        );
        assert_eq!(scheduler_from_comfy("normal").as_deref(), Some("Automatic"));
        assert_eq!(scheduler_from_comfy("karras").as_deref(), Some("Karras"));
        assert_eq!(sampler_from_comfy("euler_cfg_pp"), None);
    }

    #[test]
    fn names_without_a_counterpart_are_refused_with_the_name() {
        let e = to_comfy("PLMS", "Automatic").unwrap_err();
        assert!(e.contains("\"PLMS\""), "{e}");
        let e = to_comfy("Euler", "Align Your Steps").unwrap_err();
        assert!(e.contains("Align Your Steps"), "{e}");
    }

    fn model(title: &str, name: &str, hash: Option<&str>) -> ModelInfo {
        ModelInfo {
            title: title.into(),
            name: name.into(),
            hash: hash.map(str::to_owned),
        }
    }

    #[test]
    fn models_match_by_file_name_with_or_without_extension_folder_and_hash() {
        let models = vec![
            model(
                "sd_xl_base_1.0.safetensors [31e35c80fc]",
                "sd_xl_base_1.0",
                Some("31e35c80fc"),
            ),
            model(
                "SDXL/juggernautXL_v9.safetensors [a1b2c3d4]",
                "SDXL_juggernautXL_v9",
                Some("a1b2c3d4"),
            ),
            model("dreamshaper_8.ckpt", "dreamshaper_8", None),
        ];
        let title = |w: &str| match_model(w, &models).map(|m| m.title.as_str());
        assert_eq!(
            title("juggernautXL_v9.safetensors [a1b2c3d4]"),
            Some(models[1].title.as_str())
        );
        assert_eq!(
            title("juggernautXL_v9.safetensors"),
            Some(models[1].title.as_str())
        );
        assert_eq!(title("juggernautXL_v9"), Some(models[1].title.as_str()));
        assert_eq!(title("whatever [a1b2c3d4]"), Some(models[1].title.as_str()));
        assert_eq!(title("sd_xl_base_1.0"), Some(models[0].title.as_str()));
        assert_eq!(title("31e35c80fc"), Some(models[0].title.as_str()));
        assert_eq!(
            title("DreamShaper_8.safetensors"),
            Some("dreamshaper_8.ckpt")
        );
        assert_eq!(title("realisticVision"), None);
        assert_eq!(title(""), None);
    }
}
