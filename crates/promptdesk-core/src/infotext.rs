//! A1111 "infotext" (generation parameters as text): reading it back, as A1111's
//! `parse_generation_parameters` (modules/infotext_utils.py) does.
//!
//! The text's last line is the parameters line only when A1111's pattern finds at least 3
//! `key: value` pairs in it; otherwise every line is prompt. Lines before are the prompt,
//! until a line starting with `Negative prompt:`, from which on they are the negative (lines
//! joined with `\n`, each trimmed). A value in double quotes is JSON-unquoted; a pair with an
//! empty value is skipped; `Size: WxH` gives the width and height. Settings promptdesk knows
//! fill [`Infotext::settings`]; every other pair is kept in [`Infotext::unknown`], in order (a
//! key given twice: first place, last value). As A1111: a missing `Clip skip` is 1 and a
//! missing `Schedule type` is `Automatic`; a sampler written with its scheduler
//! (`DPM++ 2M Karras`) is split; a `Hypernet` is added to the prompt as
//! `<hypernet:name:strength>`. Not done: A1111's removal of the user's styles from the prompt
//! (it depends on A1111's own styles file).

use crate::settings_override::SettingsOverride;
use regex::Regex;
use std::sync::LazyLock;

/// What an infotext holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Infotext {
    pub prompt: String,
    pub negative_prompt: String,
    /// Every setting promptdesk knows (Steps, Sampler, Schedule type, CFG scale, Seed, Size,
    /// Model, Clip skip, Batch size, ...).
    pub settings: SettingsOverride,
    /// The other `key: value` pairs of the parameters line, in order, unquoted.
    pub unknown: Vec<(String, String)>,
}

/// A1111's `re_param`: `key: value` where the value is JSON-quoted or runs to the next comma.
static PARAM_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)"#)
        .expect("param regex is valid")
});

static SIZE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d+)x(\d+)$").expect("size regex is valid"));

/// A1111's schedulers (`modules/sd_schedulers.py`): the label it shows and writes, then the
/// other names it accepts for it (its internal name and aliases).
const SCHEDULERS: [(&str, &[&str]); 12] = [
    ("Automatic", &["automatic"]),
    ("Uniform", &["uniform"]),
    ("Karras", &["karras"]),
    ("Exponential", &["exponential"]),
    ("Polyexponential", &["polyexponential"]),
    ("SGM Uniform", &["sgm_uniform", "SGMUniform"]),
    ("KL Optimal", &["kl_optimal"]),
    ("Align Your Steps", &["align_your_steps"]),
    ("Simple", &["simple"]),
    ("Normal", &["normal"]),
    ("DDIM", &["ddim"]),
    ("Beta", &["beta"]),
];

/// The label of the scheduler A1111 knows by `name` (label or internal name), if any.
fn scheduler_label(name: &str) -> Option<&'static str> {
    SCHEDULERS
        .iter()
        .find(|(label, others)| *label == name || others.contains(&name))
        .map(|(label, _)| *label)
}

/// A sampler name older A1111 versions wrote with the scheduler in it (`DPM++ 2M Karras`): the
/// sampler and the scheduler's label. As A1111's `get_sampler_and_scheduler`, any scheduler
/// label, name or alias after a space counts (case as written); the longest match wins, so
/// `SGM Uniform` is not read as `Uniform` (A1111 tries `Uniform` first and then finds no
/// sampler `... SGM`).
fn split_sampler(sampler: &str) -> Option<(&str, &'static str)> {
    SCHEDULERS
        .iter()
        .flat_map(|(label, others)| {
            std::iter::once(*label)
                .chain(others.iter().copied())
                .map(move |option| (option, *label))
        })
        .filter_map(|(option, label)| {
            let base = sampler.strip_suffix(option)?.strip_suffix(' ')?;
            Some((option.len(), base, label))
        })
        .max_by_key(|(len, ..)| *len)
        .map(|(_, base, label)| (base, label))
}

/// The `key: value` pairs A1111 finds in `line`, values unquoted.
fn params(line: &str) -> Vec<(String, String)> {
    PARAM_RE
        .captures_iter(line)
        // An empty value makes A1111's `v[0]` fail: the pair is skipped.
        .filter(|c| !c[2].trim().is_empty())
        .map(|c| {
            let key = c[1].trim().to_owned();
            let raw = c[2].trim();
            let value = if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
                serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_owned())
            } else {
                raw.to_owned()
            };
            (key, value)
        })
        .collect()
}

/// True when [`parse_infotext`] would read `text` (its last line yields at least 3 `key:
/// value` pairs), found from the last line alone, without copying the text: cheap enough to
/// ask every frame of a prompt box.
pub fn has_parameters_line(text: &str) -> bool {
    let text = text.trim();
    let last = text.rsplit_once('\n').map_or(text, |(_, last)| last);
    params(last.trim_end_matches('\r')).len() >= 3
}

/// Reads an infotext. `None` when the text has no parameters line (its last line yields fewer
/// than 3 `key: value` pairs), so a plain prompt is not mistaken for one.
pub fn parse_infotext(text: &str) -> Option<Infotext> {
    let text = text.trim().replace("\r\n", "\n");
    let (body, last) = match text.rsplit_once('\n') {
        Some((body, last)) => (body, last),
        None => ("", text.as_str()),
    };
    let pairs = params(last);
    if pairs.len() < 3 {
        return None;
    }
    let mut out = Infotext::default();
    let mut done_with_prompt = false;
    // `split`, not `lines`: a blank line before the parameters line stays in the prompt as
    // A1111 keeps it (`a\n`).
    for line in body.split('\n') {
        let mut line = line.trim();
        if let Some(rest) = line.strip_prefix("Negative prompt:") {
            done_with_prompt = true;
            line = rest.trim();
        }
        let target = if done_with_prompt {
            &mut out.negative_prompt
        } else {
            &mut out.prompt
        };
        if !target.is_empty() {
            target.push('\n');
        }
        target.push_str(line);
    }
    for (key, value) in pairs {
        if apply_known(&mut out.settings, &key, &value) {
            continue;
        }
        // A1111 keeps the pairs in a dict: a key given twice keeps its first place and its
        // last value.
        match out.unknown.iter_mut().find(|(k, _)| *k == key) {
            Some(pair) => pair.1 = value,
            None => out.unknown.push((key, value)),
        }
    }
    // A1111 adds a hypernetwork to the prompt.
    if let Some(hypernet) = unknown_value(&out.unknown, "Hypernet") {
        let strength = unknown_value(&out.unknown, "Hypernet strength").unwrap_or("1.0");
        out.prompt = format!("{}<hypernet:{hypernet}:{strength}>", out.prompt);
    }
    // `Sampler: DPM++ 2M Karras`: the scheduler is in the name (it wins over a Schedule type,
    // as in A1111).
    if let Some(sampler) = out.settings.sampler.clone()
        && let Some((base, scheduler)) = split_sampler(&sampler)
    {
        out.settings.sampler = Some(base.to_owned());
        out.settings.scheduler = Some(scheduler.to_owned());
    }
    // What A1111 reads when the key is missing: Clip skip 1, Schedule type Automatic (so what
    // promptdesk's export leaves out at those values reads back).
    out.settings.clip_skip.get_or_insert(1);
    out.settings
        .scheduler
        .get_or_insert_with(|| "Automatic".to_owned());
    Some(out)
}

fn unknown_value<'a>(unknown: &'a [(String, String)], key: &str) -> Option<&'a str> {
    unknown
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Sets the setting `key` names when promptdesk knows it and `value` reads; false otherwise
/// (the pair is then listed as unknown, never lost).
fn apply_known(s: &mut SettingsOverride, key: &str, value: &str) -> bool {
    fn num<T: std::str::FromStr>(v: &str) -> Option<T> {
        v.trim().parse().ok()
    }
    match key {
        "Steps" => num(value).map(|v| s.steps = Some(v)).is_some(),
        "Sampler" => {
            s.sampler = Some(value.to_owned());
            true
        }
        "Schedule type" => {
            // A1111's label for a scheduler it knows by another name (`karras`).
            s.scheduler = Some(scheduler_label(value).unwrap_or(value).to_owned());
            true
        }
        "CFG scale" => num::<f64>(value)
            .filter(|v| v.is_finite())
            .map(|v| s.cfg_scale = Some(v))
            .is_some(),
        "Seed" => num(value).map(|v| s.seed = Some(v)).is_some(),
        "Size" => match SIZE_RE.captures(value.trim()) {
            Some(c) => match (num(&c[1]), num(&c[2])) {
                (Some(w), Some(h)) => {
                    s.width = Some(w);
                    s.height = Some(h);
                    true
                }
                _ => false,
            },
            None => false,
        },
        "Model" => {
            s.model = Some(value.to_owned());
            true
        }
        "Clip skip" => num(value).map(|v| s.clip_skip = Some(v)).is_some(),
        "Batch size" => num(value).map(|v| s.batch_size = Some(v)).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_infotext_reads_back() {
        let text = "a fox in the snow, (detailed:1.2)\nsecond line\nNegative prompt: blurry\nlowres\nSteps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5.5, Seed: 42, Size: 832x1216, Model hash: 31e35c80fc, Model: sdxl_base, Clip skip: 2, Lora hashes: \"a: 1, b: 2\", Version: v1.10.1";
        let t = parse_infotext(text).unwrap();
        assert_eq!(t.prompt, "a fox in the snow, (detailed:1.2)\nsecond line");
        assert_eq!(t.negative_prompt, "blurry\nlowres");
        let s = &t.settings;
        assert_eq!(s.steps, Some(30));
        assert_eq!(s.sampler.as_deref(), Some("DPM++ 2M"));
        assert_eq!(s.scheduler.as_deref(), Some("Karras"));
        assert_eq!(s.cfg_scale, Some(5.5));
        assert_eq!(s.seed, Some(42));
        assert_eq!((s.width, s.height), (Some(832), Some(1216)));
        assert_eq!(s.model.as_deref(), Some("sdxl_base"));
        assert_eq!(s.clip_skip, Some(2));
        assert_eq!(
            t.unknown,
            vec![
                ("Model hash".to_owned(), "31e35c80fc".to_owned()),
                ("Lora hashes".to_owned(), "a: 1, b: 2".to_owned()),
                ("Version".to_owned(), "v1.10.1".to_owned()),
            ]
        );
    }

    #[test]
    fn the_cheap_check_agrees_with_the_parser() {
        for text in [
            "a fox\nNegative prompt: blurry\nSteps: 30, Sampler: Euler a, CFG scale: 7, Seed: 1",
            "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7\r\n",
            "a lighthouse at dusk, oil painting",
            "a cat\nStyle: warm, Mood: calm",
            "<lora:x:0.5> a: b, c: d, e: f",
            "",
        ] {
            assert_eq!(
                has_parameters_line(text),
                parse_infotext(text).is_some(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_plain_prompt_is_not_an_infotext() {
        assert_eq!(parse_infotext("a lighthouse at dusk, oil painting"), None);
        assert_eq!(parse_infotext("a cat\nStyle: warm, Mood: calm"), None);
        assert_eq!(parse_infotext(""), None);
    }

    #[test]
    fn the_parameters_line_alone_and_the_old_sampler_names_read() {
        let t =
            parse_infotext("Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1").unwrap();
        assert_eq!(t.prompt, "");
        assert_eq!(t.settings.sampler.as_deref(), Some("DPM++ 2M"));
        assert_eq!(t.settings.scheduler.as_deref(), Some("Karras"));
    }

    #[test]
    fn what_export_writes_reads_back_equal() {
        let settings = crate::run_config::GenerationSettings {
            model: "juggernaut, v9: final".into(),
            sampler: "Euler a".into(),
            scheduler: "Karras".into(),
            steps: 28,
            cfg_scale: 6.5,
            width: 1024,
            height: 768,
            seed: 123456789,
            clip_skip: 2,
            ..Default::default()
        };
        let block = crate::history::export::infotext_block("a castle\non a hill", "fog", &settings);
        let t = parse_infotext(&block).unwrap();
        assert_eq!(t.prompt, "a castle\non a hill");
        assert_eq!(t.negative_prompt, "fog");
        assert_eq!(t.settings.steps, Some(28));
        assert_eq!(t.settings.sampler.as_deref(), Some("Euler a"));
        assert_eq!(t.settings.scheduler.as_deref(), Some("Karras"));
        assert_eq!(t.settings.cfg_scale, Some(6.5));
        assert_eq!(t.settings.seed, Some(123456789));
        assert_eq!(
            (t.settings.width, t.settings.height),
            (Some(1024), Some(768))
        );
        assert_eq!(t.settings.clip_skip, Some(2));
        assert!(t.settings.model.is_some());
    }
}
