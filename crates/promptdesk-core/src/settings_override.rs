//! [`SettingsOverride`]: the generation settings something names, each one optional, laid
//! over a [`GenerationSettings`]. Pack defaults, the StableNew import and the CLI's setting
//! flags all use it, so a new setting is added in one place.

use crate::run_config::GenerationSettings;
use serde::{Deserialize, Serialize};

/// Every [`GenerationSettings`] field as an `Option`: `Some` overrides, `None` keeps what is
/// there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SettingsOverride {
    pub model: Option<String>,
    pub sampler: Option<String>,
    pub scheduler: Option<String>,
    pub steps: Option<u32>,
    pub cfg_scale: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub seed: Option<i64>,
    pub batch_size: Option<u32>,
    pub batch_count: Option<u32>,
    pub clip_skip: Option<u32>,
}

impl SettingsOverride {
    /// True when no setting is named.
    pub fn is_empty(&self) -> bool {
        *self == SettingsOverride::default()
    }

    /// Overwrites the settings this names, keeps the others.
    pub fn apply_to(&self, settings: &mut GenerationSettings) {
        // Destructured so that a field added to the type cannot be forgotten here.
        let SettingsOverride {
            model,
            sampler,
            scheduler,
            steps,
            cfg_scale,
            width,
            height,
            seed,
            batch_size,
            batch_count,
            clip_skip,
        } = self;
        fn set<T: Clone>(slot: &mut T, v: &Option<T>) {
            if let Some(v) = v {
                slot.clone_from(v);
            }
        }
        set(&mut settings.model, model);
        set(&mut settings.sampler, sampler);
        set(&mut settings.scheduler, scheduler);
        set(&mut settings.steps, steps);
        set(&mut settings.cfg_scale, cfg_scale);
        set(&mut settings.width, width);
        set(&mut settings.height, height);
        set(&mut settings.seed, seed);
        set(&mut settings.batch_size, batch_size);
        set(&mut settings.batch_count, batch_count);
        set(&mut settings.clip_skip, clip_skip);
    }

    /// Lays `later` over this one: every setting `later` names wins, the others stay.
    pub fn merge(&mut self, later: &SettingsOverride) {
        let SettingsOverride {
            model,
            sampler,
            scheduler,
            steps,
            cfg_scale,
            width,
            height,
            seed,
            batch_size,
            batch_count,
            clip_skip,
        } = later;
        fn take<T: Clone>(slot: &mut Option<T>, v: &Option<T>) {
            if v.is_some() {
                slot.clone_from(v);
            }
        }
        take(&mut self.model, model);
        take(&mut self.sampler, sampler);
        take(&mut self.scheduler, scheduler);
        take(&mut self.steps, steps);
        take(&mut self.cfg_scale, cfg_scale);
        take(&mut self.width, width);
        take(&mut self.height, height);
        take(&mut self.seed, seed);
        take(&mut self.batch_size, batch_size);
        take(&mut self.batch_count, batch_count);
        take(&mut self.clip_skip, clip_skip);
    }

    /// The settings that differ between `from` and `to`, with `to`'s values.
    pub fn differences(from: &GenerationSettings, to: &GenerationSettings) -> SettingsOverride {
        // Destructured so that a field added to the type cannot be forgotten here.
        let GenerationSettings {
            model,
            sampler,
            scheduler,
            steps,
            cfg_scale,
            width,
            height,
            seed,
            batch_size,
            batch_count,
            clip_skip,
        } = to;
        fn diff<T: Clone + PartialEq>(old: &T, new: &T) -> Option<T> {
            (old != new).then(|| new.clone())
        }
        SettingsOverride {
            model: diff(&from.model, model),
            sampler: diff(&from.sampler, sampler),
            scheduler: diff(&from.scheduler, scheduler),
            steps: diff(&from.steps, steps),
            cfg_scale: diff(&from.cfg_scale, cfg_scale),
            width: diff(&from.width, width),
            height: diff(&from.height, height),
            seed: diff(&from.seed, seed),
            batch_size: diff(&from.batch_size, batch_size),
            batch_count: diff(&from.batch_count, batch_count),
            clip_skip: diff(&from.clip_skip, clip_skip),
        }
    }

    /// This override without the settings `names` names (whatever values `names` holds).
    pub fn without(&self, names: &SettingsOverride) -> SettingsOverride {
        let SettingsOverride {
            model,
            sampler,
            scheduler,
            steps,
            cfg_scale,
            width,
            height,
            seed,
            batch_size,
            batch_count,
            clip_skip,
        } = names;
        fn keep<T: Clone, U>(mine: &Option<T>, named: &Option<U>) -> Option<T> {
            if named.is_some() { None } else { mine.clone() }
        }
        SettingsOverride {
            model: keep(&self.model, model),
            sampler: keep(&self.sampler, sampler),
            scheduler: keep(&self.scheduler, scheduler),
            steps: keep(&self.steps, steps),
            cfg_scale: keep(&self.cfg_scale, cfg_scale),
            width: keep(&self.width, width),
            height: keep(&self.height, height),
            seed: keep(&self.seed, seed),
            batch_size: keep(&self.batch_size, batch_size),
            batch_count: keep(&self.batch_count, batch_count),
            clip_skip: keep(&self.clip_skip, clip_skip),
        }
    }

    /// An override naming every setting, with the values of `settings` (what a recorded job
    /// asked for, laid over whatever is below it).
    pub fn from_settings(settings: &GenerationSettings) -> SettingsOverride {
        let GenerationSettings {
            model,
            sampler,
            scheduler,
            steps,
            cfg_scale,
            width,
            height,
            seed,
            batch_size,
            batch_count,
            clip_skip,
        } = settings.clone();
        SettingsOverride {
            model: Some(model),
            sampler: Some(sampler),
            scheduler: Some(scheduler),
            steps: Some(steps),
            cfg_scale: Some(cfg_scale),
            width: Some(width),
            height: Some(height),
            seed: Some(seed),
            batch_size: Some(batch_size),
            batch_count: Some(batch_count),
            clip_skip: Some(clip_skip),
        }
    }

    /// The names (as a user reads them: "CFG scale", "batch count") of the settings this
    /// override names, in the order of [`GenerationSettings`].
    pub fn named_fields(&self) -> Vec<&'static str> {
        let SettingsOverride {
            model,
            sampler,
            scheduler,
            steps,
            cfg_scale,
            width,
            height,
            seed,
            batch_size,
            batch_count,
            clip_skip,
        } = self;
        [
            ("model", model.is_some()),
            ("sampler", sampler.is_some()),
            ("scheduler", scheduler.is_some()),
            ("steps", steps.is_some()),
            ("CFG scale", cfg_scale.is_some()),
            ("width", width.is_some()),
            ("height", height.is_some()),
            ("seed", seed.is_some()),
            ("batch size", batch_size.is_some()),
            ("batch count", batch_count.is_some()),
            ("clip skip", clip_skip.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, named)| named.then_some(name))
        .collect()
    }

    /// Reads the settings from a StableNew `txt2img` object (`sampler_name`, `n_iter`, ...), as
    /// a pack's `preset_data.txt2img` or a v1 companion's stage settings hold them. Unknown or
    /// ill-typed fields are ignored.
    pub fn from_txt2img(obj: &serde_json::Map<String, serde_json::Value>) -> SettingsOverride {
        use serde_json::Value;
        let s = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
        let u = |k: &str| {
            obj.get(k)
                .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f as u64)))
                .and_then(|v| u32::try_from(v).ok())
        };
        SettingsOverride {
            model: s("model")
                .or_else(|| s("sd_model_checkpoint"))
                .filter(|m| !m.is_empty()),
            sampler: s("sampler_name").or_else(|| s("sampler")),
            scheduler: s("scheduler"),
            steps: u("steps"),
            cfg_scale: obj.get("cfg_scale").and_then(Value::as_f64),
            width: u("width"),
            height: u("height"),
            seed: obj.get("seed").and_then(Value::as_i64),
            batch_size: u("batch_size"),
            batch_count: u("batch_count").or_else(|| u("n_iter")),
            clip_skip: u("clip_skip"),
        }
    }

    /// [`GenerationSettings::default`] with this laid over it.
    pub fn to_settings(&self) -> GenerationSettings {
        let mut settings = GenerationSettings::default();
        self.apply_to(&mut settings);
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> SettingsOverride {
        SettingsOverride {
            model: Some("sdxl.safetensors".into()),
            sampler: Some("DPM++ 2M".into()),
            scheduler: Some("Karras".into()),
            steps: Some(30),
            cfg_scale: Some(5.5),
            width: Some(1024),
            height: Some(768),
            seed: Some(42),
            batch_size: Some(2),
            batch_count: Some(3),
            clip_skip: Some(2),
        }
    }

    #[test]
    fn an_empty_override_changes_nothing() {
        let mut s = GenerationSettings::default();
        SettingsOverride::default().apply_to(&mut s);
        assert_eq!(s, GenerationSettings::default());
        assert!(SettingsOverride::default().is_empty());
        assert!(!full().is_empty());
    }

    #[test]
    fn apply_to_sets_every_named_field() {
        let mut s = GenerationSettings::default();
        full().apply_to(&mut s);
        assert_eq!(
            s,
            GenerationSettings {
                model: "sdxl.safetensors".into(),
                sampler: "DPM++ 2M".into(),
                scheduler: "Karras".into(),
                steps: 30,
                cfg_scale: 5.5,
                width: 1024,
                height: 768,
                seed: 42,
                batch_size: 2,
                batch_count: 3,
                clip_skip: 2,
            }
        );
        assert_eq!(full().to_settings(), s);
    }

    #[test]
    fn apply_to_keeps_the_fields_it_does_not_name() {
        let mut s = GenerationSettings {
            model: "base".into(),
            steps: 12,
            ..GenerationSettings::default()
        };
        SettingsOverride {
            steps: Some(40),
            seed: Some(-1),
            ..SettingsOverride::default()
        }
        .apply_to(&mut s);
        assert_eq!(s.model, "base");
        assert_eq!(s.steps, 40);
        assert_eq!(s.seed, -1);
        assert_eq!(s.sampler, GenerationSettings::default().sampler);
    }

    #[test]
    fn merge_lets_later_values_win_and_keeps_the_rest() {
        let mut base = full();
        base.merge(&SettingsOverride {
            model: Some("other".into()),
            steps: Some(8),
            seed: Some(-1),
            ..SettingsOverride::default()
        });
        assert_eq!(
            base,
            SettingsOverride {
                model: Some("other".into()),
                steps: Some(8),
                seed: Some(-1),
                ..full()
            }
        );
        // Merging an empty override changes nothing; merging into an empty one copies.
        let before = base.clone();
        base.merge(&SettingsOverride::default());
        assert_eq!(base, before);
        let mut empty = SettingsOverride::default();
        empty.merge(&full());
        assert_eq!(empty, full());
    }

    #[test]
    fn differences_name_exactly_the_changed_settings_with_the_new_values() {
        let from = GenerationSettings::default();
        assert!(SettingsOverride::differences(&from, &from).is_empty());
        let to = full().to_settings();
        // Every field of `full()` differs from the defaults.
        assert_eq!(SettingsOverride::differences(&from, &to), full());
        let mut one = from.clone();
        one.cfg_scale = 4.5;
        assert_eq!(
            SettingsOverride::differences(&from, &one),
            SettingsOverride {
                cfg_scale: Some(4.5),
                ..SettingsOverride::default()
            }
        );
        // Applying the differences to `from` gives `to`.
        let mut applied = from.clone();
        SettingsOverride::differences(&from, &to).apply_to(&mut applied);
        assert_eq!(applied, to);
    }

    #[test]
    fn without_drops_the_named_settings_whatever_their_values() {
        let names = SettingsOverride {
            steps: Some(0),
            model: Some(String::new()),
            ..SettingsOverride::default()
        };
        let rest = full().without(&names);
        assert_eq!(rest.steps, None);
        assert_eq!(rest.model, None);
        assert_eq!(
            rest,
            SettingsOverride {
                steps: None,
                model: None,
                ..full()
            }
        );
        assert_eq!(full().without(&SettingsOverride::default()), full());
        assert!(full().without(&full()).is_empty());
    }

    #[test]
    fn from_settings_names_every_setting_and_gives_them_back() {
        let settings = full().to_settings();
        let named = SettingsOverride::from_settings(&settings);
        assert_eq!(named, full());
        assert_eq!(named.named_fields().len(), 11);
        // Laid over anything, it gives exactly `settings`.
        let mut other = GenerationSettings {
            model: "x".into(),
            steps: 3,
            ..GenerationSettings::default()
        };
        named.apply_to(&mut other);
        assert_eq!(other, settings);
    }

    #[test]
    fn named_fields_lists_what_is_named_in_settings_order() {
        assert!(SettingsOverride::default().named_fields().is_empty());
        assert_eq!(full().named_fields().len(), 11);
        let some = SettingsOverride {
            clip_skip: Some(2),
            sampler: Some("Euler".into()),
            cfg_scale: Some(5.0),
            ..SettingsOverride::default()
        };
        assert_eq!(some.named_fields(), ["sampler", "CFG scale", "clip skip"]);
    }

    #[test]
    fn merge_then_apply_equals_applying_in_order() {
        let first = SettingsOverride {
            width: Some(640),
            sampler: Some("Euler".into()),
            ..SettingsOverride::default()
        };
        let second = SettingsOverride {
            width: Some(896),
            clip_skip: Some(2),
            ..SettingsOverride::default()
        };
        let mut in_order = GenerationSettings::default();
        first.apply_to(&mut in_order);
        second.apply_to(&mut in_order);
        let mut merged = first.clone();
        merged.merge(&second);
        assert_eq!(merged.to_settings(), in_order);
    }
}
