//! Rendering what a run sends: matrix modes (loose names, limit), wildcards (sub-folders,
//! comments, missing files, nesting), `{a|b}` variants, seeds, styles before tokens, the
//! NoValues error, a styles pack used as a pack, and the request cap. Fixtures:
//! `tests/fixtures/render/packs` at the workspace root.

use promptdesk_core::packs::{MatrixConfig, MatrixSlot, PackFormat, discover_packs};
use promptdesk_core::render::{
    MAX_REQUESTS, PromptInput, RenderError, RenderOptions, RenderPlan, Wildcards, drop_brackets,
    render, render_into,
};
use promptdesk_core::run_config::StyleRef;
use promptdesk_core::styles::resolve_styles;
use promptdesk_core::{PackPrompt, PromptPack, build_run_config_for_manual_prompt};
use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

fn packs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/render/packs")
}

struct Fixture {
    packs: Vec<PromptPack>,
    wildcards: Wildcards,
}

fn fixture() -> Fixture {
    let found = discover_packs(packs_dir());
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    let (wildcards, errors) = Wildcards::load(&packs_dir());
    assert!(errors.is_empty(), "{errors:?}");
    Fixture {
        packs: found.packs,
        wildcards,
    }
}

impl Fixture {
    fn pack(&self, id: &str) -> &PromptPack {
        self.packs.iter().find(|p| p.id == id).unwrap()
    }

    fn render_pack(
        &self,
        pack: &PromptPack,
        keys: &[&str],
        seed: u64,
    ) -> Result<RenderPlan, RenderError> {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        render(
            PromptInput::Pack { pack, keys: &keys },
            &RenderOptions {
                styles: &[],
                wildcards: &self.wildcards,
                seed,
            },
        )
    }

    fn render_text(
        &self,
        prompt: &str,
        negative: &str,
        styles: &[&str],
        seed: u64,
    ) -> Result<RenderPlan, RenderError> {
        let refs: Vec<StyleRef> = styles.iter().map(|s| StyleRef::parse(s).unwrap()).collect();
        let resolved = resolve_styles(&self.packs, &refs).unwrap();
        render(
            PromptInput::Manual { prompt, negative },
            &RenderOptions {
                styles: &resolved,
                wildcards: &self.wildcards,
                seed,
            },
        )
    }
}

fn prompts(plan: &RenderPlan) -> Vec<&str> {
    plan.requests.iter().map(|r| r.prompt.as_str()).collect()
}

fn with_matrix(pack: &PromptPack, f: impl FnOnce(&mut MatrixConfig)) -> PromptPack {
    let mut pack = pack.clone();
    f(pack.matrix.as_mut().unwrap());
    pack
}

#[test]
fn fanout_sends_every_value_of_the_slots_a_prompt_uses() {
    let fx = fixture();
    let seasons = fx.pack("Seasons");
    let plan = fx.render_pack(seasons, &["3"], 1).unwrap();
    assert_eq!(prompts(&plan), ["a quiet harbour at dawn"]);
    assert_eq!(plan.summary(), "1 request");

    // Key 2 uses both slots: 4 seasons x 2 hair colours = 8 = the limit. `[[Hair Color]]`
    // names the slot `hair-color`; the pack's slot order decides, the last slot fastest.
    let plan = fx.render_pack(seasons, &["2"], 1).unwrap();
    assert_eq!(
        prompts(&plan),
        [
            "portrait, red hair, spring light",
            "portrait, black hair, spring light",
            "portrait, red hair, summer light",
            "portrait, black hair, summer light",
            "portrait, red hair, autumn light",
            "portrait, black hair, autumn light",
            "portrait, red hair, winter light",
            "portrait, black hair, winter light",
        ]
    );
    // The negative takes the same combination.
    assert_eq!(plan.requests[2].negative_prompt, "summer haze");
    let variants: Vec<u32> = plan.requests.iter().map(|r| r.variant).collect();
    assert_eq!(variants, (1..=8).collect::<Vec<_>>());
    let values = &plan.requests[3].values;
    assert_eq!(values["[[season]]"], "summer");
    assert_eq!(values["[[Hair Color]]"], "black");
    assert_eq!(values.len(), 2);
    assert!(!plan.seeded, "no draw used the seed");

    let plan = fx.render_pack(seasons, &["2", "3"], 1).unwrap();
    assert_eq!(plan.requests.len(), 9);
    assert_eq!(
        plan.summary(),
        "9 requests from 2 prompts (up to 8 combinations each)"
    );
}

#[test]
fn the_limit_caps_each_prompts_combinations() {
    let fx = fixture();
    let three = with_matrix(fx.pack("Seasons"), |m| m.limit = 3);
    let plan = fx.render_pack(&three, &["2"], 1).unwrap();
    assert_eq!(
        prompts(&plan),
        [
            "portrait, red hair, spring light",
            "portrait, black hair, spring light",
            "portrait, red hair, summer light",
        ]
    );
    // 0 means the default, 8.
    let zero = with_matrix(fx.pack("Seasons"), |m| m.limit = 0);
    assert_eq!(fx.render_pack(&zero, &["2"], 1).unwrap().requests.len(), 8);
    let plan = fx.render_pack(&three, &["2"], 1).unwrap();
    assert_eq!(plan.summary(), "3 requests from 1 prompt x 3 combinations");
    // Key 1 uses the season only: 3 of its 4 values.
    let lighthouse = fx.render_pack(&three, &["1", "2"], 1).unwrap();
    assert_eq!(
        lighthouse.summary_images(1),
        "6 images from 2 prompts x 3 combinations"
    );
    assert_eq!(
        lighthouse.summary_images(2),
        "12 images from 2 prompts x 3 combinations x 2 each"
    );
}

#[test]
fn sequential_gives_each_prompt_the_next_combination_from_a_txt_packs_companion() {
    let fx = fixture();
    let harbour = fx.pack("Harbour");
    assert_eq!(harbour.format, Some(PackFormat::Txt));
    let plan = fx.render_pack(harbour, &["1", "2", "3", "4"], 1).unwrap();
    assert_eq!(
        prompts(&plan),
        [
            "fishing boats at dawn",
            "stone quay at noon, lanterns",
            "lighthouse keeper's cottage at dusk",
            "gulls over the breakwater at dawn",
        ]
    );
    assert_eq!(plan.requests[0].negative_prompt, "people");
    // rotate is the same for a pack run.
    let rotate = with_matrix(harbour, |m| m.mode = "rotate".into());
    assert_eq!(
        prompts(&fx.render_pack(&rotate, &["1", "2"], 1).unwrap()),
        ["fishing boats at dawn", "stone quay at noon, lanterns"]
    );
}

#[test]
fn random_draws_one_seeded_combination_per_prompt() {
    let fx = fixture();
    let random = with_matrix(fx.pack("Seasons"), |m| m.mode = "random".into());
    let mut seen = BTreeSet::new();
    for seed in 0..40 {
        let plan = fx.render_pack(&random, &["2"], seed).unwrap();
        assert_eq!(plan.requests.len(), 1);
        assert!(plan.seeded);
        assert_eq!(plan, fx.render_pack(&random, &["2"], seed).unwrap());
        seen.insert(plan.requests[0].prompt.clone());
    }
    assert!(seen.len() > 4, "40 seeds drew only {seen:?}");
}

#[test]
fn wildcards_draw_a_line_from_their_file_skipping_comments_and_blanks() {
    let fx = fixture();
    assert_eq!(
        fx.wildcards.get("weather").unwrap(),
        ["light rain", "fog", "clear sky"]
    );
    assert_eq!(fx.wildcards.get("empty").unwrap().len(), 0);
    let mut seen = BTreeSet::new();
    for seed in 0..40 {
        let plan = fx
            .render_text("rooftops, __weather__", "", &[], seed)
            .unwrap();
        assert!(plan.seeded);
        let r = &plan.requests[0];
        let drawn = r.prompt.strip_prefix("rooftops, ").unwrap();
        assert_eq!(r.values["__weather__"], drawn);
        seen.insert(drawn.to_owned());
    }
    assert_eq!(
        seen,
        BTreeSet::from([
            "clear sky".to_owned(),
            "fog".to_owned(),
            "light rain".to_owned()
        ])
    );
}

#[test]
fn sub_folders_case_and_nested_tokens() {
    let fx = fixture();
    // `nature/Flower.txt` (with a BOM) is `__nature/flower__`, any case; its line
    // `__colour__ rose` is expanded in turn.
    let mut seen = BTreeSet::new();
    for seed in 0..60 {
        let plan = fx
            .render_text("a vase of __Nature/flower__", "", &[], seed)
            .unwrap();
        let r = &plan.requests[0];
        assert_eq!(
            r.values.len(),
            1,
            "nested tokens are part of the outer value"
        );
        seen.insert(r.values["__Nature/flower__"].clone());
    }
    assert_eq!(
        seen,
        BTreeSet::from([
            "red rose".to_owned(),
            "tulip".to_owned(),
            "white rose".to_owned()
        ])
    );
}

#[test]
fn a_token_with_no_values_is_an_error_naming_it_and_the_pack() {
    let fx = fixture();
    for token in ["__rain__", "__empty__"] {
        let err = fx
            .render_text(&format!("a street, {token}"), "", &[], 1)
            .unwrap_err();
        assert_eq!(
            err,
            RenderError::NoValues {
                token: token.into(),
                pack: None,
                key: String::new()
            }
        );
        let text = err.to_string();
        assert!(
            text.contains(token) && text.contains("in the prompt"),
            "{text}"
        );
    }
    let err = fx.render_text("[[season]] field", "", &[], 1).unwrap_err();
    assert!(err.to_string().contains("[[season]]"));

    // A disabled matrix: StableNew would send `[[mood]]` as written; here it has no values.
    let err = fx.render_pack(fx.pack("Disabled"), &["1"], 1).unwrap_err();
    assert_eq!(
        err,
        RenderError::NoValues {
            token: "[[mood]]".into(),
            pack: Some("Disabled".into()),
            key: "1".into()
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("[[mood]]") && text.contains("\"Disabled\"") && text.contains("disabled"),
        "{text}"
    );
    // A slot the matrix lacks, in the negative.
    let mut pack = fx.pack("Seasons").clone();
    pack.prompts[2].negative = "[[fog level]]".into();
    let err = fx.render_pack(&pack, &["3"], 1).unwrap_err();
    assert!(
        err.to_string()
            .contains("[[fog level]] in pack \"Seasons\" (key 3)"),
        "{err}"
    );
    // The composer's fix.
    assert_eq!(
        drop_brackets("an old mill, [[mood]] atmosphere", "[[mood]]"),
        "an old mill, mood atmosphere"
    );
}

#[test]
fn a_wildcard_drawing_itself_stops_with_an_error() {
    let fx = fixture();
    let err = fx.render_text("__loop__", "", &[], 1).unwrap_err();
    assert!(
        matches!(&err, RenderError::TooDeep { token, .. } if token == "__loop__"),
        "{err:?}"
    );
    assert!(err.to_string().contains("__loop__"));
}

#[test]
fn inline_variants_and_literal_braces() {
    let fx = fixture();
    let mut seen = BTreeSet::new();
    for seed in 0..40 {
        let plan = fx
            .render_text(
                "a {red|blue} kite, {prompt}, {}, {big|{small|tiny}}",
                "",
                &[],
                seed,
            )
            .unwrap();
        let r = &plan.requests[0];
        let colour = &r.values["{red|blue}"];
        let size = &r.values["{big|{small|tiny}}"];
        assert_eq!(
            r.prompt,
            format!("a {colour} kite, {{prompt}}, {{}}, {size}")
        );
        seen.insert(size.clone());
    }
    assert_eq!(
        seen,
        BTreeSet::from(["big".to_owned(), "small".to_owned(), "tiny".to_owned()])
    );
    // Each occurrence draws on its own; the second is recorded as `#2`.
    let plan = fx
        .render_text("{a|b|c|d|e|f} and {a|b|c|d|e|f}", "", &[], 3)
        .unwrap();
    let v = &plan.requests[0].values;
    assert_eq!(
        plan.requests[0].prompt,
        format!("{} and {}", v["{a|b|c|d|e|f}"], v["{a|b|c|d|e|f}#2"])
    );
    // Dynamic Prompts' weights and multi-select.
    let plan = fx
        .render_text("{0::never|1::always}, {2$$ and $$x|y}", "", &[], 5)
        .unwrap();
    let p = &plan.requests[0].prompt;
    assert!(p == "always, x and y" || p == "always, y and x", "{p}");
    // LoRA markup is copied as written.
    let plan = fx
        .render_text("<lora:my__style__v2:0.5> boat", "", &[], 1)
        .unwrap();
    assert_eq!(plan.requests[0].prompt, "<lora:my__style__v2:0.5> boat");
    assert!(!plan.seeded);
}

#[test]
fn the_same_seed_draws_the_same_and_another_key_changes_nothing() {
    let fx = fixture();
    let text = "__weather__, __nature/flower__, {a|b|c|d|e|f|g|h}";
    let a = fx.render_text(text, "__weather__", &[], 77).unwrap();
    assert_eq!(a, fx.render_text(text, "__weather__", &[], 77).unwrap());
    let distinct: BTreeSet<String> = (0..20)
        .map(|s| {
            fx.render_text(text, "", &[], s).unwrap().requests[0]
                .prompt
                .clone()
        })
        .collect();
    assert!(distinct.len() > 5, "{distinct:?}");

    let seasons = fx.pack("Seasons");
    let one = fx.render_pack(seasons, &["1"], 9).unwrap();
    let more = fx.render_pack(seasons, &["3", "2", "1"], 9).unwrap();
    let key1: Vec<_> = more
        .requests
        .iter()
        .filter(|r| r.key == "1")
        .cloned()
        .collect();
    assert_eq!(one.requests, key1);
}

#[test]
fn styles_apply_first_and_their_tokens_are_expanded() {
    let fx = fixture();
    let plan = fx
        .render_text(
            "a fox in __weather__",
            "",
            &["styles:Watercolor", "styles:Cinematic"],
            2,
        )
        .unwrap();
    let r = &plan.requests[0];
    let weather = &r.values["__weather__"];
    assert_eq!(
        r.prompt,
        format!("cinematic still of a fox in {weather}, watercolor, cold press paper, film grain")
    );
    assert_eq!(r.values["__paper__"], "cold press paper");
    assert_eq!(r.negative_prompt, "photo, cartoon");
}

#[test]
fn a_styles_pack_used_as_a_pack_never_sends_its_placeholder() {
    let fx = fixture();
    let styles = fx.pack("styles");
    let plan = fx
        .render_pack(styles, &["Cinematic", "Watercolor", "Plain"], 4)
        .unwrap();
    assert_eq!(
        prompts(&plan),
        [
            "cinematic still of , film grain",
            ", watercolor, cold press paper",
            "sharp focus"
        ]
    );
    assert!(plan.requests.iter().all(|r| !r.prompt.contains("{prompt}")));
}

#[test]
fn a_run_is_capped_at_the_request_limit() {
    let slot = |name: &str| MatrixSlot {
        name: name.into(),
        values: (0..30).map(|i| format!("{name}{i}")).collect(),
    };
    let pack = PromptPack {
        id: "Big".into(),
        name: "Big".into(),
        format: Some(PackFormat::UnifiedJson),
        matrix: Some(MatrixConfig {
            enabled: true,
            mode: "fanout".into(),
            limit: 6_000,
            slots: vec![slot("a"), slot("b"), slot("c")],
        }),
        prompts: vec![
            PackPrompt::from_texts("1", "[[a]] [[b]] [[c]]", "", None).unwrap(),
            PackPrompt::from_texts("2", "[[c]] [[b]] [[a]]", "", None).unwrap(),
        ],
        ..PromptPack::default()
    };
    let fx = fixture();
    assert_eq!(
        fx.render_pack(&pack, &["1"], 1).unwrap().requests.len(),
        6_000
    );
    let err = fx.render_pack(&pack, &["1", "2"], 1).unwrap_err();
    assert_eq!(err, RenderError::TooManyRequests { count: 12_000 });
    assert!(
        err.to_string().contains("12000") && err.to_string().contains(&MAX_REQUESTS.to_string())
    );
}

#[test]
fn render_into_records_styles_seed_and_requests() {
    let fx = fixture();
    let mut cfg = build_run_config_for_manual_prompt("boats, __weather__", "", None);
    let styles = [StyleRef::new("styles", "Plain")];
    let plan = render_into(&mut cfg, &fx.packs, &fx.wildcards, &styles, 42).unwrap();
    assert_eq!(cfg.prompt_styles(), styles);
    assert_eq!(cfg.wildcard_seed(), Some(42));
    assert_eq!(cfg.rendered(), plan.requests);
    assert!(cfg.rendered()[0].prompt.ends_with(", sharp focus"));
    // No draw: no seed recorded.
    let mut cfg = build_run_config_for_manual_prompt("boats", "", None);
    render_into(&mut cfg, &fx.packs, &fx.wildcards, &[], 42).unwrap();
    assert_eq!(cfg.wildcard_seed(), None);
    assert_eq!(cfg.rendered()[0].prompt, "boats");
}

#[test]
fn bad_wildcard_files_are_named_and_never_hang() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("wildcards");
    fs::create_dir_all(w.join("sub")).unwrap();
    fs::write(w.join("good.txt"), "one\ntwo\n").unwrap();
    fs::write(w.join("sub/bad.txt"), b"ok\n\xff\xfe\n").unwrap();
    fs::write(w.join("notes.md"), "not a wildcard").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("loop.txt", w.join("loop.txt")).unwrap();
        std::os::unix::fs::symlink("..", w.join("sub/up")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(w.join("pipe.txt"))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let (found, errors) = Wildcards::load(dir.path());
    assert_eq!(found.get("good").unwrap(), ["one", "two"]);
    assert_eq!(found.files.len(), 1, "{:?}", found.files.keys());
    let named: Vec<String> = errors
        .iter()
        .map(|e| e.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(named.contains(&"bad.txt".to_owned()), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.to_string().contains("UTF-8")),
        "{errors:?}"
    );
    #[cfg(unix)]
    {
        assert!(named.contains(&"loop.txt".to_owned()), "{errors:?}");
        assert!(named.contains(&"pipe.txt".to_owned()), "{errors:?}");
    }
    // No folder: no wildcards, no error.
    let (none, errors) = Wildcards::load(&dir.path().join("nowhere"));
    assert!(none.files.is_empty() && errors.is_empty());
}
