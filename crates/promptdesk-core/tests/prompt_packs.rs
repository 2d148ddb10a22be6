//! Prompt packs: every format, companion merging, folder discovery, every error case, the
//! bundled sample packs, and building a RunConfig from a loaded pack.

extern crate promptdesk_core as promptdesk;

use promptdesk::packs::bundled::{install_sample_packs, sample_pack_files, sample_wildcard_files};
use promptdesk::packs::load_pack_reporting;
use promptdesk::packs::{
    MAX_PACK_FILE_BYTES, ParsedFile, invokeai_presets, keyed_json, styles_csv, styles_json,
    swarmui_presets, tsv, txt, unified_json,
};
use promptdesk::{
    Embedding, Lora, PackError, PackErrorKind, PackFormat, PromptPack, PromptSource, RunConfig,
    build_run_config_from_prompt_pack, discover_packs, load_pack,
};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/packs")
}

fn formats(name: &str) -> PathBuf {
    fixtures().join("formats").join(name)
}

fn companions(name: &str) -> PathBuf {
    fixtures().join("companions").join(name)
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).expect("fixture is readable")
}

fn lora(name: &str, weight: f32) -> Lora {
    Lora {
        name: name.into(),
        weight,
    }
}

fn emb(name: &str, weight: f32) -> Embedding {
    Embedding {
        name: name.into(),
        weight,
    }
}

fn keys(parsed: &ParsedFile) -> Vec<&str> {
    parsed.prompts.iter().map(|p| p.key.as_str()).collect()
}

fn lines(parsed: &ParsedFile) -> Vec<Option<usize>> {
    parsed.prompts.iter().map(|p| p.line).collect()
}

/// The error's file name (not the whole path) and line.
fn where_(err: &PackError) -> (String, Option<usize>) {
    let name = err
        .path
        .as_deref()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (name, err.line)
}

fn file_names(pack: &PromptPack) -> Vec<String> {
    pack.paths
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

// ---------------------------------------------------------------- .txt

#[test]
fn txt_blocks_comments_negatives_and_tokens() {
    let path = formats("night_market.txt");
    let parsed = txt::parse(&path, &read(&path)).unwrap();
    // Comment-only blocks take no number; a whitespace-only line separates blocks.
    assert_eq!(keys(&parsed), ["1", "2", "3"]);
    assert_eq!(lines(&parsed), [Some(6), Some(12), Some(16)]);

    let first = &parsed.prompts[0];
    assert_eq!(
        first.positive,
        "(<embedding:warm_tones>:0.8) bustling night market, paper lanterns, [[food stall]] \
         steam rising from noodle stands, __city__ at night <lora:neon_glow:0.75>"
    );
    assert_eq!(first.negative, "blurry, lowres <embedding:bad_quality>");
    assert_eq!(first.loras, [lora("neon_glow", 0.75)]);
    assert_eq!(
        first.embeddings,
        [emb("warm_tones", 0.8), emb("bad_quality", 1.0)]
    );
    assert_eq!(first.matrix_tokens, ["food stall"]);
    assert_eq!(first.wildcards, ["city"]);

    let second = &parsed.prompts[1];
    assert_eq!(
        second.positive,
        "rainy alley with a ramen shop sign, [[Food-Stall]] glow, <lora:rain_fx>"
    );
    assert_eq!(
        second.negative, "crowds",
        "`NEG:` counts as a negative line"
    );
    assert_eq!(second.loras, [lora("rain_fx", 1.0)]);
    assert_eq!(second.matrix_tokens, ["Food-Stall"]);

    let third = &parsed.prompts[2];
    assert_eq!(third.positive, "quiet harbour at dawn");
    assert_eq!(third.negative, "");
    assert!(parsed.name.is_none());
}

#[test]
fn txt_with_crlf_line_endings_reads_like_lf() {
    let path = formats("night_market.txt");
    let lf = read(&path);
    let crlf = lf.replace('\n', "\r\n");
    assert_eq!(
        txt::parse(&path, &crlf).unwrap(),
        txt::parse(&path, &lf).unwrap()
    );
}

/// `<lora:name:abc>` counts as weight 1.0 (formats.md, StableNew) and the pack loads with a
/// warning naming the file and the prompt's line.
#[test]
fn txt_bad_lora_weight_is_one_with_a_warning_naming_its_line() {
    let path = companions("bad_lora.txt");
    let parsed = txt::parse(&path, &read(&path)).unwrap();
    let p = parsed
        .prompts
        .iter()
        .find(|p| p.loras.iter().any(|l| l.name == "style"))
        .unwrap();
    assert_eq!(
        p.loras.iter().find(|l| l.name == "style").unwrap().weight,
        1.0
    );
    let pack = load_pack(&path).unwrap();
    assert_eq!(pack.warnings.len(), 1, "{:?}", pack.warnings);
    assert_eq!(
        where_(&pack.warnings[0]),
        ("bad_lora.txt".into(), Some(3)),
        "the line its prompt starts on"
    );
    assert_eq!(
        pack.warnings[0].kind,
        PackErrorKind::BadLoraWeight {
            name: "style".into(),
            weight: "strong".into()
        }
    );
    assert!(pack.warnings[0].to_string().contains("read as 1.0"));
}

// ---------------------------------------------------------------- .tsv

#[test]
fn tsv_rows_keys_and_lines() {
    let path = formats("city_nights.tsv");
    let parsed = tsv::parse(&path, &read(&path)).unwrap();
    assert_eq!(keys(&parsed), ["1", "2", "3"]);
    assert_eq!(lines(&parsed), [Some(2), Some(5), Some(6)]);
    let p = &parsed.prompts;
    assert_eq!(
        (p[0].positive.as_str(), p[0].negative.as_str()),
        ("neon street in the rain", "blurry, lowres")
    );
    // No tab: positive only.
    assert_eq!(p[1].positive, "lighthouse at dusk <lora:soft_light:0.4>");
    assert_eq!(p[1].negative, "");
    assert_eq!(p[1].loras, [lora("soft_light", 0.4)]);
    assert_eq!(p[2].negative, "crowds\textra column stays in the negative");
    assert_eq!(p[2].matrix_tokens, ["season"]);
}

#[test]
fn tsv_bad_lora_weight_names_the_row_line() {
    let text = "# c\nok\tfine\n\nbad <lora:x:heavy>\tneg\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.tsv");
    fs::write(&path, text).unwrap();
    let pack = load_pack(&path).unwrap();
    assert_eq!(pack.prompts.len(), 2, "the pack loads");
    assert_eq!(pack.warnings.len(), 1);
    assert_eq!(pack.warnings[0].line, Some(4));
    assert!(matches!(
        pack.warnings[0].kind,
        PackErrorKind::BadLoraWeight { .. }
    ));
}

// ---------------------------------------------------------------- keyed .json

#[test]
fn keyed_json_keys_in_file_order_with_defaults_and_name() {
    let path = formats("keyed.json");
    let parsed = keyed_json::parse(&path, &read(&path)).unwrap();
    assert_eq!(parsed.name.as_deref(), Some("Keyed Test"));
    assert_eq!(keys(&parsed), ["zebra", "apple", "Mixed Case Key"]);
    assert_eq!(lines(&parsed), [Some(7), Some(8), Some(9)]);
    let p = &parsed.prompts;
    assert_eq!(p[0].positive, "zebra at a watering hole <lora:safari:0.5>");
    assert_eq!(p[0].loras, [lora("safari", 0.5)]);
    assert_eq!(
        (p[1].positive.as_str(), p[1].negative.as_str()),
        ("red apple on a table, __lighting__", "blurry")
    );
    assert_eq!(p[1].wildcards, ["lighting"]);
    assert_eq!(p[2].negative, "");
    assert_eq!(p[2].matrix_tokens, ["style"]);
    assert_eq!(parsed.defaults.steps, Some(12));
    assert_eq!(parsed.defaults.sampler.as_deref(), Some("Heun"));
    assert_eq!(
        (parsed.defaults.width, parsed.defaults.height),
        (Some(640), Some(448))
    );
    assert_eq!(
        parsed.defaults.cfg_scale, None,
        "settings the pack does not name stay unset"
    );
}

#[test]
fn keyed_json_accepts_a_settings_object() {
    let text = r#"{"settings": {"steps": 9, "cfg_scale": 4.5}, "prompts": {"a": "x"}}"#;
    let parsed = keyed_json::parse(Path::new("s.json"), text).unwrap();
    assert_eq!(parsed.defaults.steps, Some(9));
    assert_eq!(parsed.defaults.cfg_scale, Some(4.5));
}

#[test]
fn keyed_json_duplicate_key_is_reported_on_its_line() {
    let path = companions("dupes.json");
    let err = keyed_json::parse(&path, &read(&path)).unwrap_err();
    assert_eq!(err.kind, PackErrorKind::DuplicateKey("castle".into()));
    assert_eq!(where_(&err), ("dupes.json".into(), Some(5)));
}

#[test]
fn keyed_json_ill_typed_prompt_is_a_structure_error_on_its_line() {
    let text = "{\"prompts\": {\n\"a\": \"fine\",\n\"b\": 42\n}}";
    let err = keyed_json::parse(Path::new("t.json"), text).unwrap_err();
    assert!(matches!(err.kind, PackErrorKind::Structure(_)), "{err}");
    assert_eq!(err.line, Some(3));
}

#[test]
fn keyed_json_bad_lora_weight_names_the_key_line() {
    let text = "{\"prompts\": {\n\"a\": \"fine\",\n\"b\": {\"prompt\": \"x <lora:y:loud>\"}\n}}";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    fs::write(&path, text).unwrap();
    let pack = load_pack(&path).unwrap();
    assert_eq!(pack.get("b").unwrap().loras[0].weight, 1.0);
    assert_eq!(pack.warnings.len(), 1);
    assert!(matches!(
        pack.warnings[0].kind,
        PackErrorKind::BadLoraWeight { .. }
    ));
    assert_eq!(pack.warnings[0].line, Some(3));
}

// ---------------------------------------------------------------- unified .json

#[test]
fn unified_json_renders_slots_with_embeddings_and_loras() {
    let path = formats("unified.json");
    let parsed = unified_json::parse(&path, &read(&path)).unwrap();
    assert_eq!(parsed.name.as_deref(), Some("Unified Test"));
    assert_eq!(keys(&parsed), ["1", "2"]);
    assert_eq!(lines(&parsed), [Some(6), Some(14)]);

    let hero = &parsed.prompts[0];
    assert_eq!(
        hero.positive,
        "<embedding:detail_boost> (<embedding:soft_skin>:0.6) hero portrait, [[outfit]] \
         <lora:cinematic:0.65> <lora:film:1.0>",
        "as StableNew's read_prompt_pack renders the slot"
    );
    assert_eq!(hero.negative, "<embedding:bad_hands> blurry");
    assert_eq!(hero.loras, [lora("cinematic", 0.65), lora("film", 1.0)]);
    assert_eq!(
        hero.embeddings,
        [
            emb("detail_boost", 1.0),
            emb("soft_skin", 0.6),
            emb("bad_hands", 1.0)
        ]
    );
    assert_eq!(hero.matrix_tokens, ["outfit"]);
    assert_eq!(hero.label, None);

    // A slot with a name and no index; its LoRA is both listed and written in the text:
    // StableNew sends it twice, the prompt lists it once.
    let wide = &parsed.prompts[1];
    assert_eq!(wide.label.as_deref(), Some("Wide shot"));
    assert_eq!(
        wide.positive,
        "city skyline <lora:cinematic:0.65> __weather__ <lora:cinematic:0.65>"
    );
    assert_eq!(wide.loras, [lora("cinematic", 0.65)]);
    assert_eq!(wide.wildcards, ["weather"]);

    let d = &parsed.defaults;
    assert_eq!(d.steps, Some(30), "txt2img wins over img2img");
    assert_eq!(d.cfg_scale, Some(5.5));
    assert_eq!((d.width, d.height), (Some(1024), Some(768)));
    assert_eq!(d.sampler.as_deref(), Some("DPM++ 2M"));
    assert_eq!(d.scheduler.as_deref(), Some("Karras"));
    assert_eq!((d.clip_skip, d.seed), (Some(2), Some(1234)));

    let matrix = parsed.matrix.as_ref().expect("matrix");
    assert!(matrix.enabled);
    assert_eq!(matrix.mode, "fanout");
    assert_eq!(matrix.limit, 8, "the default limit");
    assert_eq!(matrix.slots.len(), 1);
    assert_eq!(matrix.slots[0].name, "outfit");
    assert_eq!(matrix.slots[0].values, ["raincoat", "suit"]);
}

#[test]
fn unified_json_zero_slots_has_no_prompts_but_keeps_settings() {
    let path = companions("zero_slots.json");
    let parsed = unified_json::parse(&path, &read(&path)).unwrap();
    assert!(parsed.prompts.is_empty());
    assert_eq!(parsed.name.as_deref(), Some("Zero Slots Pack"));
    assert_eq!(parsed.defaults.steps, Some(40));
}

#[test]
fn v1_settings_only_json_has_defaults_and_no_prompts() {
    let path = companions("legacy.json");
    let parsed = unified_json::parse(&path, &read(&path)).unwrap();
    assert!(parsed.prompts.is_empty());
    assert_eq!(
        parsed.defaults.steps,
        Some(22),
        "top-level txt2img, not img2img"
    );
    assert_eq!(parsed.defaults.sampler.as_deref(), Some("Euler a"));
    assert_eq!(
        (parsed.defaults.width, parsed.defaults.height),
        (Some(768), Some(512))
    );
}

#[test]
fn unified_json_non_numeric_lora_weight_names_the_slot_line() {
    let text = "{\"pack_data\": {\"slots\": [\n{\"text\": \"a\"},\n{\"text\": \"b\", \"loras\": [[\"glow\", \"bright\"]]}\n]}}";
    let parsed = unified_json::parse(Path::new("u.json"), text).unwrap();
    assert_eq!(parsed.prompts[1].positive, "b <lora:glow:1.0>");
    assert_eq!(
        parsed.warnings[0].kind,
        PackErrorKind::BadLoraWeight {
            name: "glow".into(),
            weight: "bright".into()
        }
    );
    assert_eq!(parsed.warnings[0].line, Some(3));
}

#[test]
fn malformed_json_names_the_line() {
    let path = companions("broken.json");
    let err = unified_json::parse(&path, &read(&path)).unwrap_err();
    assert!(matches!(err.kind, PackErrorKind::Json(_)), "{err}");
    assert_eq!(where_(&err), ("broken.json".into(), Some(4)));
}

// ---------------------------------------------------------------- styles.csv

#[test]
fn styles_csv_with_bom_any_column_order_and_multiline_values() {
    let path = formats("styles.csv");
    let text = read(&path);
    assert!(text.starts_with('\u{feff}'), "the fixture has a BOM");
    let parsed = styles_csv::parse(&path, &text).unwrap();
    // `#Disabled` and the row without a name are skipped; "None" is an ordinary style.
    assert_eq!(keys(&parsed), ["Cinematic", "Two lines", "None"]);
    assert_eq!(lines(&parsed), [Some(2), Some(3), Some(7)]);
    let p = &parsed.prompts;
    assert_eq!(p[0].positive, "cinematic still of {prompt}, film grain");
    assert_eq!(p[0].negative, "cartoon, lowres");
    assert_eq!(p[1].positive, "{prompt},\nsoft light <lora:glow:0.3>");
    assert_eq!(p[1].loras, [lora("glow", 0.3)]);
    assert_eq!(p[2].positive, "plain text");
}

#[test]
fn styles_csv_legacy_text_column_and_no_negative_column() {
    let text = "name,text\nOld,\"old style {prompt}\"\n";
    let parsed = styles_csv::parse(Path::new("old.csv"), text).unwrap();
    assert_eq!(keys(&parsed), ["Old"]);
    assert_eq!(parsed.prompts[0].positive, "old style {prompt}");
    assert_eq!(parsed.prompts[0].negative, "");
}

#[test]
fn styles_csv_duplicate_name_the_later_row_wins_with_a_warning_on_its_line() {
    // As A1111 (a Python dict): the later "Warm" replaces the earlier one in its place.
    let path = companions("dupe_styles.csv");
    let parsed = styles_csv::parse(&path, &read(&path)).unwrap();
    assert_eq!(keys(&parsed), ["Warm", "Cool"]);
    assert_eq!(parsed.prompts[0].positive, "warm again");
    assert_eq!(lines(&parsed), [Some(4), Some(3)]);
    assert_eq!(parsed.warnings.len(), 1);
    let warning = &parsed.warnings[0];
    assert_eq!(warning.kind, PackErrorKind::DuplicateKey("Warm".into()));
    assert_eq!(where_(warning), ("dupe_styles.csv".into(), Some(4)));
}

#[test]
fn styles_csv_row_with_more_fields_than_the_header_keeps_the_first_ones() {
    // Python's DictReader puts extra fields aside; A1111 never looks at them.
    let path = companions("malformed.csv");
    let parsed = styles_csv::parse(&path, &read(&path)).unwrap();
    assert_eq!(keys(&parsed), ["Good", "Bad"]);
    assert_eq!(parsed.prompts[1].positive, "too");
    assert_eq!(parsed.prompts[1].negative, "many");
    assert!(parsed.warnings.is_empty());
}

#[test]
fn styles_csv_without_a_prompt_column_is_a_structure_error() {
    let err = styles_csv::parse(Path::new("x.csv"), "title,body\na,b\n").unwrap_err();
    assert!(matches!(err.kind, PackErrorKind::Structure(_)), "{err}");
}

// ---------------------------------------------------------------- BOM in every format

#[test]
fn a_utf8_bom_is_ignored_by_every_parser_and_loader() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, PackFormat); 8] = [
        ("a.txt", "hello\nneg: bye\n", PackFormat::Txt),
        ("b.tsv", "hello\tbye\n", PackFormat::Tsv),
        (
            "c.json",
            r#"{"prompts": {"k": "hello"}}"#,
            PackFormat::KeyedJson,
        ),
        (
            "d.json",
            r#"{"pack_data": {"slots": [{"text": "hello"}]}}"#,
            PackFormat::UnifiedJson,
        ),
        ("e.csv", "name,prompt\nk,hello\n", PackFormat::StylesCsv),
        (
            "f.json",
            r#"[{"name": "k", "prompt": "hello"}]"#,
            PackFormat::StylesJson,
        ),
        (
            "g.json",
            r#"[{"name": "k", "preset_data": {"positive_prompt": "hello", "negative_prompt": ""}}]"#,
            PackFormat::InvokeAiPresets,
        ),
        (
            "h.json",
            r#"{"k": {"title": "k", "param_map": {"prompt": "hello"}}}"#,
            PackFormat::SwarmUiPresets,
        ),
    ];
    for (name, body, format) in cases {
        let with_bom = format!("\u{feff}{body}");
        let path = dir.path().join(name);
        let parsed = match format {
            PackFormat::Txt => txt::parse(&path, &with_bom),
            PackFormat::Tsv => tsv::parse(&path, &with_bom),
            PackFormat::KeyedJson => keyed_json::parse(&path, &with_bom),
            PackFormat::UnifiedJson => unified_json::parse(&path, &with_bom),
            PackFormat::StylesCsv => styles_csv::parse(&path, &with_bom),
            PackFormat::StylesJson => styles_json::parse(&path, &with_bom),
            PackFormat::InvokeAiPresets => invokeai_presets::parse(&path, &with_bom),
            PackFormat::SwarmUiPresets => swarmui_presets::parse(&path, &with_bom),
        }
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.prompts[0].positive, "hello", "{name}");

        fs::write(&path, with_bom.as_bytes()).unwrap();
        let pack = load_pack(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(pack.format, Some(format), "{name}");
        assert_eq!(pack.prompts[0].positive, "hello", "{name}");
    }
}

// ---------------------------------------------------------------- companions and load_pack

#[test]
fn zero_slot_json_does_not_hide_its_txt() {
    let pack = load_pack(companions("zero_slots.json")).unwrap();
    assert_eq!(pack.id, "zero_slots");
    assert_eq!(pack.format, Some(PackFormat::Txt));
    assert_eq!(pack.keys(), ["1", "2"]);
    assert_eq!(pack.prompts[0].positive, "first prompt from the txt");
    assert_eq!(pack.prompts[0].negative, "dull");
    assert_eq!(pack.name, "Zero Slots Pack", "the name the json declares");
    assert_eq!(pack.defaults.steps, Some(40), "settings from the json");
    assert_eq!(pack.defaults.sampler.as_deref(), Some("DDIM"));
    assert_eq!(file_names(&pack), ["zero_slots.txt", "zero_slots.json"]);
    // Loading through either companion gives the same pack.
    assert_eq!(load_pack(companions("zero_slots.txt")).unwrap(), pack);
}

#[test]
fn v1_settings_json_gives_defaults_to_its_txt() {
    let pack = load_pack(companions("legacy.txt")).unwrap();
    assert_eq!(pack.format, Some(PackFormat::Txt));
    assert_eq!(pack.keys(), ["1", "2", "3"]);
    assert_eq!(pack.name, "legacy");
    assert_eq!(pack.defaults.steps, Some(22));
    assert_eq!(pack.defaults.cfg_scale, Some(7.5));
    assert_eq!(pack.defaults.sampler.as_deref(), Some("Euler a"));
    assert_eq!(file_names(&pack), ["legacy.txt", "legacy.json"]);
}

#[test]
fn json_prompts_win_when_json_and_txt_both_have_them() {
    // The companions differ in case ("both.json" + "Both.TXT").
    let pack = load_pack(companions("Both.TXT")).unwrap();
    assert_eq!(pack.format, Some(PackFormat::UnifiedJson));
    assert_eq!(pack.id, "both", "the stem as written on the prompts file");
    assert_eq!(pack.keys(), ["1"]);
    assert_eq!(pack.prompts[0].positive, "the json prompt <lora:crisp:0.5>");
    assert_eq!(pack.defaults.steps, Some(18));
    assert_eq!(file_names(&pack), ["both.json", "Both.TXT"]);
}

#[test]
fn broken_json_does_not_hide_a_good_txt_and_its_error_is_kept() {
    let pack = load_pack(companions("broken.json")).unwrap();
    assert_eq!(pack.format, Some(PackFormat::Txt));
    assert_eq!(pack.prompts[0].positive, "good prompt beside a broken json");
    assert_eq!(file_names(&pack), ["broken.txt"]);

    let (pack, errors) = load_pack_reporting(companions("broken.txt"));
    assert!(pack.is_some());
    assert_eq!(errors.len(), 1);
    assert_eq!(where_(&errors[0]), ("broken.json".into(), Some(4)));
    assert!(matches!(errors[0].kind, PackErrorKind::Json(_)));
}

#[test]
fn id_keeps_case_and_spaces() {
    let pack = load_pack(companions("My Pack.txt")).unwrap();
    assert_eq!(pack.id, "My Pack");
    assert_eq!(pack.name, "My Pack");
}

#[test]
fn a_pack_with_no_prompts_is_an_error() {
    let err = load_pack(companions("lonely.json")).unwrap_err();
    assert_eq!(err.kind, PackErrorKind::NoPrompts);
    assert_eq!(where_(&err).0, "lonely.json");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("comments.txt");
    fs::write(&path, "# only\n# comments\n\n# here\n").unwrap();
    assert_eq!(load_pack(&path).unwrap_err().kind, PackErrorKind::NoPrompts);
}

#[test]
fn load_pack_reports_missing_files_and_other_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_pack(dir.path().join("absent.txt")).unwrap_err();
    assert!(matches!(err.kind, PackErrorKind::Io(_)), "{err}");
    let md = dir.path().join("notes.md");
    fs::write(&md, "prompt").unwrap();
    assert_eq!(
        load_pack(&md).unwrap_err().kind,
        PackErrorKind::UnsupportedExtension
    );
}

// ---------------------------------------------------------------- file checks

#[test]
fn invalid_utf8_names_the_line_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.txt");
    fs::write(&path, b"line one\nline two caf\xe9\nline three\n").unwrap();
    let err = load_pack(&path).unwrap_err();
    assert_eq!(err.kind, PackErrorKind::InvalidUtf8 { offset: 21 });
    assert_eq!(where_(&err), ("latin1.txt".into(), Some(2)));
}

#[test]
fn empty_and_whitespace_only_files_are_empty() {
    let dir = tempfile::tempdir().unwrap();
    let zero = dir.path().join("zero.txt");
    fs::write(&zero, b"").unwrap();
    assert_eq!(load_pack(&zero).unwrap_err().kind, PackErrorKind::Empty);
    assert_eq!(
        load_pack(companions("empty.tsv")).unwrap_err().kind,
        PackErrorKind::Empty
    );
    let bom_only = dir.path().join("bom.json");
    fs::write(&bom_only, b"\xEF\xBB\xBF \n").unwrap();
    assert_eq!(load_pack(&bom_only).unwrap_err().kind, PackErrorKind::Empty);
}

#[test]
fn files_over_the_limit_are_refused_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.txt");
    let file = fs::File::create(&path).unwrap();
    // Sparse: takes no disk space, and is never read.
    file.set_len(MAX_PACK_FILE_BYTES + 1).unwrap();
    drop(file);
    let err = load_pack(&path).unwrap_err();
    assert_eq!(
        err.kind,
        PackErrorKind::TooLarge {
            size: MAX_PACK_FILE_BYTES + 1
        }
    );
    assert_eq!(where_(&err).0, "huge.txt");
}

#[test]
fn json_that_is_no_pack_is_a_structure_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in [("list.json", "[1, 2]"), ("other.json", r#"{"version": 3}"#)] {
        let path = dir.path().join(name);
        fs::write(&path, body).unwrap();
        let err = load_pack(&path).unwrap_err();
        assert!(
            matches!(err.kind, PackErrorKind::Structure(_)),
            "{name}: {err}"
        );
    }
}

// ---------------------------------------------------------------- discovery

#[test]
fn discovery_loads_good_packs_and_reports_each_bad_file() {
    let found = discover_packs(fixtures().join("companions"));
    let ids: Vec<&str> = found.packs.iter().map(|p| p.id.as_str()).collect();
    // Sorted case-insensitively; .bak, .md and hidden files ignored.
    assert_eq!(
        ids,
        [
            "bad_lora",
            "both",
            "broken",
            "dupe_styles",
            "legacy",
            "malformed",
            "My Pack",
            "zero_slots"
        ]
    );

    let mut errors: Vec<(String, Option<usize>, String)> = found
        .errors
        .iter()
        .map(|e| {
            let (file, line) = where_(e);
            let kind = match &e.kind {
                PackErrorKind::Json(_) => "json".to_owned(),
                PackErrorKind::Csv(_) => "csv".to_owned(),
                other => format!("{other:?}"),
            };
            (file, line, kind)
        })
        .collect();
    errors.sort();
    let expected: Vec<(String, Option<usize>, String)> = [
        ("broken.json", Some(4), "json"),
        ("dupes.json", Some(5), "DuplicateKey(\"castle\")"),
        ("empty.tsv", None, "Empty"),
        ("lonely.json", None, "NoPrompts"),
    ]
    .into_iter()
    .map(|(f, l, k)| (f.to_owned(), l, k.to_owned()))
    .collect();
    assert_eq!(errors, expected);

    // A LoRA weight that is not a number no longer rejects the file: it is a warning.
    let bad_lora = found.packs.iter().find(|p| p.id == "bad_lora").unwrap();
    assert_eq!(bad_lora.warnings.len(), 1);
    assert_eq!(
        where_(&bad_lora.warnings[0]),
        ("bad_lora.txt".into(), Some(3))
    );

    // Every error's message names its file.
    for e in &found.errors {
        let shown = e.to_string();
        assert!(shown.contains(&where_(e).0), "{shown}");
    }
}

#[test]
fn discovery_survives_unreadable_and_binary_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("good.txt"), "a prompt\n").unwrap();
    fs::write(
        dir.path().join("binary.txt"),
        [0u8, 159, 146, 150, 0xff, b'\n'],
    )
    .unwrap();
    fs::File::create(dir.path().join("huge.tsv"))
        .unwrap()
        .set_len(MAX_PACK_FILE_BYTES + 10)
        .unwrap();
    fs::create_dir(dir.path().join("folder.txt")).unwrap();
    fs::create_dir(dir.path().join("nested")).unwrap();
    fs::write(dir.path().join("nested").join("deep.txt"), "not scanned\n").unwrap();

    let found = discover_packs(dir.path());
    let ids: Vec<&str> = found.packs.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["good"], "not recursive; folders are not packs");
    let mut kinds: Vec<(String, bool)> = found
        .errors
        .iter()
        .map(|e| {
            let too_large = matches!(e.kind, PackErrorKind::TooLarge { .. });
            (where_(e).0, too_large)
        })
        .collect();
    kinds.sort();
    // A folder named like a pack file is reported ("is a folder, not a file"), not skipped.
    assert_eq!(
        kinds,
        [
            ("binary.txt".to_owned(), false),
            ("folder.txt".to_owned(), false),
            ("huge.tsv".to_owned(), true)
        ]
    );
}

#[test]
fn discovering_a_missing_folder_is_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let found = discover_packs(dir.path().join("nope"));
    assert!(found.packs.is_empty());
    assert_eq!(found.errors.len(), 1);
    assert!(matches!(found.errors[0].kind, PackErrorKind::Io(_)));
}

#[test]
fn discovery_sorts_by_id_ignoring_case() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["beta.txt", "Alpha.tsv", "gamma.txt", "Delta.txt"] {
        fs::write(dir.path().join(name), "p\n").unwrap();
    }
    let found = discover_packs(dir.path());
    let ids: Vec<&str> = found.packs.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["Alpha", "beta", "Delta", "gamma"]);
    assert!(found.errors.is_empty());
}

// ---------------------------------------------------------------- bundled sample packs

#[test]
fn bundled_packs_all_load_and_cover_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let written = install_sample_packs(&dir.path().join("packs")).unwrap();
    assert_eq!(written, sample_pack_files().len());
    for (rel, contents) in sample_wildcard_files() {
        assert_eq!(
            fs::read_to_string(dir.path().join("packs").join(rel)).unwrap(),
            *contents,
            "the sample wildcard {rel} is installed with the packs"
        );
    }
    let found = discover_packs(dir.path().join("packs"));
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    let formats: BTreeSet<PackFormat> = found.packs.iter().filter_map(|p| p.format).collect();
    assert_eq!(
        formats,
        BTreeSet::from([
            PackFormat::KeyedJson,
            PackFormat::UnifiedJson,
            PackFormat::Txt,
            PackFormat::Tsv,
            PackFormat::StylesCsv
        ])
    );
    for pack in &found.packs {
        assert!(
            (4..=10).contains(&pack.prompts.len()),
            "{}: {}",
            pack.id,
            pack.prompts.len()
        );
    }
    // The features the samples are meant to show.
    let all = || found.packs.iter().flat_map(|p| p.prompts.iter());
    assert!(all().any(|p| !p.loras.is_empty()));
    assert!(all().any(|p| p.embeddings.iter().any(|e| e.weight != 1.0)));
    assert!(all().any(|p| !p.matrix_tokens.is_empty()));
    assert!(
        all().any(|p| p.positive.contains('\n')),
        "a multi-line styles.csv value"
    );
    assert!(
        found
            .packs
            .iter()
            .any(|p| p.matrix.as_ref().is_some_and(|m| !m.slots.is_empty()))
    );
    assert!(
        found
            .packs
            .iter()
            .any(|p| p.format == Some(PackFormat::Txt) && !p.defaults.is_empty())
    );
}

#[test]
fn installing_samples_never_overwrites_a_users_file() {
    let dir = tempfile::tempdir().unwrap();
    let (first_name, _) = sample_pack_files()[0];
    let mine = dir.path().join(first_name);
    fs::write(&mine, "my own prompt\n").unwrap();
    // A user's file sharing a sample's stem in another case keeps that sample out too.
    fs::write(dir.path().join("still life.TSV"), "my still life\n").unwrap();

    let written = install_sample_packs(dir.path()).unwrap();
    assert_eq!(written, sample_pack_files().len() - 2);
    assert_eq!(fs::read_to_string(&mine).unwrap(), "my own prompt\n");
    assert!(!dir.path().join("Still Life.json").exists());

    assert_eq!(
        install_sample_packs(dir.path()).unwrap(),
        0,
        "a second run writes nothing"
    );
}

// ---------------------------------------------------------------- RunConfig from a loaded pack

#[test]
fn run_config_from_a_loaded_pack_carries_only_the_selected_prompts() {
    let pack = load_pack(formats("unified.json")).unwrap();
    let cfg = build_run_config_from_prompt_pack(&pack, &["2"], None).unwrap();
    assert_eq!(cfg.prompt_source, PromptSource::Pack);
    assert_eq!(cfg.prompt_pack_id.as_deref(), Some("unified"));
    assert_eq!(cfg.prompt_keys, ["2"]);
    let prompts = cfg.prompt_payload["prompts"].as_object().unwrap();
    assert_eq!(prompts.keys().collect::<Vec<_>>(), ["2"]);
    assert_eq!(
        prompts["2"]["prompt"],
        "city skyline <lora:cinematic:0.65> __weather__ <lora:cinematic:0.65>",
        "StableNew appends a listed LoRA even when the text names it"
    );
    assert_eq!(cfg.prompt_payload["pack_id"], "unified");
    // No base: the pack's defaults over the program's defaults.
    assert_eq!(cfg.settings.steps, 30);
    assert_eq!(cfg.settings.cfg_scale, 5.5);
    assert_eq!((cfg.settings.width, cfg.settings.height), (1024, 768));
    assert_eq!(cfg.settings.sampler, "DPM++ 2M");
    assert_eq!(cfg.settings.seed, 1234);
    assert_eq!(
        cfg.settings.batch_size,
        RunConfig::default().settings.batch_size
    );

    // A base config keeps its own settings.
    let mut base = RunConfig::default();
    base.settings.steps = 11;
    let cfg = build_run_config_from_prompt_pack(&pack, &["1", "2"], Some(base)).unwrap();
    assert_eq!(cfg.settings.steps, 11);
    assert_eq!(cfg.prompt_keys, ["1", "2"]);
}

#[test]
fn run_config_from_a_txt_pack_with_json_settings_uses_them() {
    let pack = load_pack(companions("legacy.txt")).unwrap();
    let cfg = build_run_config_from_prompt_pack(&pack, &["3"], None).unwrap();
    assert_eq!(cfg.settings.steps, 22);
    assert_eq!((cfg.settings.width, cfg.settings.height), (768, 512));
    assert_eq!(
        cfg.prompt_payload["prompts"]["3"]["prompt"],
        "snowy village at night"
    );
    let err = build_run_config_from_prompt_pack(&pack, &["4"], None).unwrap_err();
    assert!(matches!(err.kind, PackErrorKind::UnknownKey { .. }));
}
