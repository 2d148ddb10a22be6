//! `promptdesk render` and `submit --style/--wildcard-seed`, run in-process: the requests a
//! run sends (styles applied, matrix and wildcards replaced), reproducible by seed, recorded
//! by submit, and a token with no values refused before anything is written.

mod support;
use promptdesk::history::HistoryStore;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use support::cli::{Run, run_args};

const PACKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/render/packs");

fn cli(data: &Path, args: &[&str]) -> Run {
    cli_in(Path::new(PACKS), data, args)
}

fn cli_in(packs: &Path, data: &Path, args: &[&str]) -> Run {
    let mut argv: Vec<OsString> = vec![
        "--data-dir".into(),
        data.into(),
        "--packs-dir".into(),
        packs.into(),
    ];
    argv.extend(args.iter().map(OsString::from));
    run_args(argv)
}

fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    (tmp, data)
}

#[test]
fn render_prints_one_line_per_request_with_styles_and_matrix_values_and_records_nothing() {
    let (_tmp, data) = data_dir();
    let run = cli(
        &data,
        &[
            "render",
            "--pack",
            "Seasons",
            "--keys",
            "1",
            "--style",
            "styles:Cinematic",
            "--seed",
            "7",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    let lines: Vec<&str> = run.out.lines().collect();
    assert_eq!(lines.len(), 4, "one request per season: {}", run.out);
    for (line, season) in lines.iter().zip(["spring", "summer", "autumn", "winter"]) {
        assert!(
            line.starts_with("key 1 #")
                && line.contains(&format!("cinematic still of a lighthouse in {season}, ")),
            "{line}"
        );
        assert!(
            line.contains("film grain | negative: blurry, cartoon"),
            "{line}"
        );
        assert!(
            !line.contains("[[") && !line.contains("__") && !line.contains("{prompt}"),
            "{line}"
        );
    }
    assert!(run.err.contains("4 requests"), "{}", run.err);
    assert!(
        !data.join("history.jsonl").exists(),
        "render records nothing"
    );
}

#[test]
fn render_json_gives_key_variant_texts_and_values_and_the_seed_draws_the_same_again() {
    let (_tmp, data) = data_dir();
    let args = [
        "render", "--pack", "Seasons", "--keys", "1,3", "--seed", "42", "--json",
    ];
    let first = cli(&data, &args);
    assert_eq!(first.code, 0, "{}", first.err);
    let objects: Vec<serde_json::Value> = first
        .out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(objects.len(), 5, "4 seasons for key 1, 1 request for key 3");
    let o = &objects[0];
    assert_eq!(o["key"], "1");
    assert_eq!(o["variant"], 1);
    assert_eq!(o["negative_prompt"], "blurry");
    assert_eq!(o["values"]["[[season]]"], "spring");
    let weather = o["values"]["__weather__"]
        .as_str()
        .expect("the drawn weather is listed");
    assert!(o["prompt"].as_str().unwrap().ends_with(weather));
    assert_eq!(objects[4]["key"], "3");
    assert_eq!(objects[4]["prompt"], "a quiet harbour at dawn");

    assert_eq!(
        cli(&data, &args).out,
        first.out,
        "the same seed draws the same"
    );
    let mut differs = false;
    for seed in ["1", "2", "3", "4", "5"] {
        let other = cli(
            &data,
            &[
                "render", "--pack", "Seasons", "--keys", "1", "--seed", seed, "--json",
            ],
        );
        differs |= other.out.lines().next() != first.out.lines().next();
    }
    assert!(differs, "other seeds draw other weather");
}

#[test]
fn a_typed_prompt_renders_with_wildcards_and_inline_variants() {
    let (_tmp, data) = data_dir();
    let run = cli(
        &data,
        &[
            "render",
            "--prompt",
            "a {red|blue} kite in __weather__",
            "--negative",
            "text",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    let o: serde_json::Value = serde_json::from_str(run.out.trim()).unwrap();
    assert_eq!(o["key"], "");
    let prompt = o["prompt"].as_str().unwrap();
    assert!(
        prompt.starts_with("a red kite in ") || prompt.starts_with("a blue kite in "),
        "{prompt}"
    );
    assert!(!prompt.contains("__") && !prompt.contains('{'), "{prompt}");
    assert!(
        run.err.contains("seed"),
        "the seed used is said: {}",
        run.err
    );
}

#[test]
fn a_token_with_no_values_is_refused_naming_it_and_the_pack() {
    let (_tmp, data) = data_dir();
    let run = cli(&data, &["render", "--prompt", "a castle in __nowhere__"]);
    assert_eq!(run.code, 2, "{}", run.err);
    assert!(run.err.contains("__nowhere__"), "{}", run.err);

    let run = cli(&data, &["submit", "--pack", "Disabled", "--keys", "1"]);
    assert_eq!(run.code, 2, "{}", run.err);
    assert!(
        run.err.contains("[[mood]]") && run.err.contains("Disabled"),
        "{}",
        run.err
    );
    assert!(!data.join("history.jsonl").exists(), "nothing is written");
}

#[test]
fn submit_records_the_styles_the_seed_and_every_rendered_request() {
    let (_tmp, data) = data_dir();
    let shown = cli(
        &data,
        &[
            "render",
            "--pack",
            "Seasons",
            "--keys",
            "1",
            "--style",
            "styles:Plain",
            "--seed",
            "9",
            "--json",
        ],
    );
    let run = cli(
        &data,
        &[
            "submit",
            "--pack",
            "Seasons",
            "--keys",
            "1",
            "--style",
            "styles:Plain",
            "--wildcard-seed",
            "9",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    let store = HistoryStore::open(data.join("history.jsonl")).unwrap();
    let records = store.records();
    assert_eq!(records.len(), 1);
    let cfg = &records[0].run_config;
    assert_eq!(
        cfg.prompt_styles(),
        vec![promptdesk::StyleRef::new("styles", "Plain")]
    );
    assert_eq!(
        records[0].prompt_styles,
        cfg.prompt_styles(),
        "next to the origin fields"
    );
    assert_eq!(cfg.wildcard_seed(), Some(9));
    let rendered = cfg.rendered();
    assert_eq!(rendered.len(), 4);
    let shown: Vec<serde_json::Value> = shown
        .out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (r, s) in rendered.iter().zip(&shown) {
        assert_eq!(
            r.prompt,
            s["prompt"].as_str().unwrap(),
            "submit sends what render showed"
        );
        assert!(r.prompt.ends_with(", sharp focus") || r.prompt.contains("sharp focus"));
    }
    assert_eq!(records[0].prompt_source, promptdesk::PromptSource::Pack);
}

#[test]
fn a_lora_weight_that_is_no_number_loads_as_one_and_packs_warns_naming_file_and_line() {
    let (tmp, data) = data_dir();
    let packs = tmp.path().join("packs");
    std::fs::create_dir_all(&packs).unwrap();
    std::fs::write(
        packs.join("Loras.txt"),
        "# named multipliers are A1111 syntax\na <lora:x:te=0.8> <lora:y:unet=0.5:te=0.8>\n\nb <lora:z:abc>\n",
    )
    .unwrap();
    let run = cli_in(&packs, &data, &["packs"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("Loras"), "the pack loads: {}", run.out);
    let warnings: Vec<&str> = run
        .out
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.out);
    assert!(
        warnings[0].contains("Loras.txt:4")
            && warnings[0].contains("\"abc\"")
            && warnings[0].contains("1.0"),
        "{}",
        warnings[0]
    );
    let run = cli_in(&packs, &data, &["render", "--pack", "Loras", "--keys", "2"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(
        run.out.contains("b <lora:z:abc>"),
        "the text is sent as written: {}",
        run.out
    );
}
