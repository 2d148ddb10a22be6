//! Style sources: A1111 `styles.csv` read as A1111's `csv.DictReader(skipinitialspace=True)`
//! reads it, the JSON list of styles (SDXL Prompt Styler, Fooocus), InvokeAI presets and
//! SwarmUI presets found in the packs folder, and styles applied as A1111's `merge_prompts`.

extern crate promptdesk_core as promptdesk;

use promptdesk::packs::{ParsedFile, styles_csv};
use promptdesk::run_config::StyleRef;
use promptdesk::styles::{
    apply_style_text, apply_styles, as_pack_prompt_text, resolve_styles, style_sources,
};
use promptdesk::{PackError, PackErrorKind, PackFormat, PromptPack, discover_packs, load_pack};
use std::fs;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/styles")
        .join(name)
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).expect("fixture is readable")
}

fn keys(prompts: &[promptdesk::PackPrompt]) -> Vec<&str> {
    prompts.iter().map(|p| p.key.as_str()).collect()
}

/// (positive, negative) of the style `key`.
fn texts<'a>(prompts: &'a [promptdesk::PackPrompt], key: &str) -> (&'a str, &'a str) {
    let p = prompts
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("no style {key:?}"));
    (p.positive.as_str(), p.negative.as_str())
}

fn warning_lines(warnings: &[PackError]) -> Vec<(Option<usize>, String)> {
    warnings
        .iter()
        .map(|w| (w.line, format!("{:?}", w.kind)))
        .collect()
}

fn parse_csv(name: &str) -> ParsedFile {
    let path = fixture(name);
    styles_csv::parse(&path, &read(&path)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

// ---------------------------------------------------------------- styles.csv as A1111 reads it

#[test]
fn a_styles_csv_with_every_quirk_a1111_accepts_loads_whole() {
    // BOM, CRLF, a header ending in ",", a divider row, values after ", ", a short row, a long
    // row with a trailing comma, a blank line, a `#` row, a repeated name, a two-line value.
    let parsed = parse_csv("quirks.csv");
    let p = &parsed.prompts;
    assert_eq!(
        keys(p),
        [
            "==== Photo ====",
            "Film",
            "Short",
            "Long",
            "Two lines",
            "Last"
        ]
    );
    // The divider is a style with empty texts, as in A1111's list.
    assert_eq!(texts(p, "==== Photo ===="), ("", ""));
    // `Film, "film still of {prompt}, grain"` was two values in A1111; the later Film wins.
    assert_eq!(texts(p, "Film"), ("film again {prompt}", ""));
    assert_eq!(texts(p, "Short"), ("short text", ""));
    assert_eq!(texts(p, "Long"), ("long text", "long neg"));
    assert_eq!(texts(p, "Two lines"), ("first\r\nsecond {prompt}", "soft"));
    // Lines count CRLF line ends once each; the repeated Film is on its later line.
    let lines: Vec<Option<usize>> = p.iter().map(|p| p.line).collect();
    assert_eq!(
        lines,
        [Some(2), Some(8), Some(4), Some(5), Some(9), Some(11)]
    );
    assert_eq!(
        warning_lines(&parsed.warnings),
        [(Some(8), "DuplicateKey(\"Film\")".to_owned())]
    );
}

#[test]
fn values_after_a_comma_and_space_are_quoted_values() {
    let text = "name, prompt, negative_prompt\nFilm, \"film still of {prompt}, grain\", \"cartoon, flat\"\n";
    let parsed = styles_csv::parse(Path::new("s.csv"), text).unwrap();
    assert_eq!(
        texts(&parsed.prompts, "Film"),
        ("film still of {prompt}, grain", "cartoon, flat")
    );
}

#[test]
fn an_error_in_a_crlf_file_names_the_right_line() {
    let path = fixture("crlf_error.csv");
    let text = read(&path);
    assert!(text.contains("\r\n"), "the fixture has CRLF line ends");
    let err = styles_csv::parse(&path, &text).unwrap_err();
    assert!(
        matches!(err.kind, PackErrorKind::BadEmbeddingWeight { .. }),
        "{err}"
    );
    // Line 1 header, lines 2-3 the two-line "Glow" value, line 4 the bad weight.
    assert_eq!(err.line, Some(4), "{err}");
}

#[test]
fn the_legacy_text_column_is_the_prompt() {
    let parsed = parse_csv("legacy_text.csv");
    assert_eq!(texts(&parsed.prompts, "Old"), ("old style {prompt}", ""));
}

#[test]
fn a_quote_never_closed_takes_the_rest_of_the_file_with_a_warning() {
    // Python's csv reader (not strict) keeps the open value to the end of the file.
    let parsed = parse_csv("unclosed.csv");
    assert_eq!(keys(&parsed.prompts), ["Fine", "Open"]);
    assert_eq!(
        texts(&parsed.prompts, "Open").0,
        "never closed\nRest,of the file\n"
    );
    assert_eq!(parsed.warnings.len(), 1);
    assert_eq!(parsed.warnings[0].line, Some(3));
    assert!(
        parsed.warnings[0].to_string().contains("never closed"),
        "{}",
        parsed.warnings[0]
    );
}

#[test]
fn a_duplicate_style_name_loads_the_pack_and_the_warning_reaches_it() {
    let pack = load_pack(fixture("quirks.csv")).unwrap();
    assert_eq!(pack.format, Some(PackFormat::StylesCsv));
    assert_eq!(pack.prompts.len(), 6);
    assert_eq!(pack.warnings.len(), 1);
    assert!(pack.warnings[0].to_string().contains("quirks.csv:8"));
}

// ---------------------------------------------------------------- the JSON style sources

#[test]
fn the_sdxl_prompt_styler_list_is_a_style_source() {
    let pack = load_pack(fixture("sdxl_styler.json")).unwrap();
    assert_eq!(pack.format, Some(PackFormat::StylesJson));
    assert_eq!(pack.format_name(), "styles-json");
    // The later "paper-cut" wins in the earlier one's place; the nameless entry is skipped.
    assert_eq!(keys(&pack.prompts), ["paper-cut", "clay"]);
    assert_eq!(
        texts(&pack.prompts, "paper-cut"),
        ("paper cut {prompt}, second version", "")
    );
    assert_eq!(
        texts(&pack.prompts, "clay"),
        ("clay figure, soft light", "")
    );
    assert_eq!(
        warning_lines(&pack.warnings),
        [
            (
                Some(7),
                "Structure(\"the element has no \\\"name\\\": it is skipped\")".to_owned()
            ),
            (Some(14), "DuplicateKey(\"paper-cut\")".to_owned()),
        ]
    );
}

#[test]
fn invokeai_presets_and_its_import_list_are_style_sources() {
    let pack = load_pack(fixture("invokeai_presets.json")).unwrap();
    assert_eq!(pack.format, Some(PackFormat::InvokeAiPresets));
    assert_eq!(pack.format_name(), "invokeai-presets");
    assert_eq!(keys(&pack.prompts), ["Watercolor", "Ink Sketch"]);
    assert_eq!(
        texts(&pack.prompts, "Watercolor"),
        (
            "{prompt}, watercolor wash, paper texture",
            "photo, harsh lines"
        )
    );
    assert_eq!(pack.prompts[1].line, Some(10));

    // The import list: `positive_prompt` or its alias `prompt`, every value stripped.
    let pack = load_pack(fixture("invokeai_import.json")).unwrap();
    assert_eq!(pack.format, Some(PackFormat::InvokeAiPresets));
    assert_eq!(keys(&pack.prompts), ["Pastel", "Mosaic"]);
    assert_eq!(
        texts(&pack.prompts, "Pastel"),
        ("pastel drawing of {prompt}", "dark")
    );
    assert_eq!(
        texts(&pack.prompts, "Mosaic"),
        ("mosaic tiles, {prompt}", "")
    );
}

#[test]
fn swarmui_presets_are_a_style_source_named_by_title() {
    let pack = load_pack(fixture("swarmui_presets.json")).unwrap();
    assert_eq!(pack.format, Some(PackFormat::SwarmUiPresets));
    assert_eq!(pack.format_name(), "swarmui-presets");
    // The title, else the key; a preset that sets no prompt is no style.
    assert_eq!(keys(&pack.prompts), ["art/charcoal", "untitled"]);
    assert_eq!(
        texts(&pack.prompts, "art/charcoal"),
        (
            "charcoal drawing of {value}, smudged",
            "{value} color, photo"
        )
    );
    assert_eq!(pack.prompts[1].line, Some(11));
}

#[test]
fn a_json_list_of_no_known_shape_keeps_a_clear_error() {
    let err = load_pack(fixture("not_styles.json")).unwrap_err();
    assert!(matches!(err.kind, PackErrorKind::Structure(_)), "{err}");
    assert!(err.to_string().contains("not_styles.json"), "{err}");
}

// ---------------------------------------------------------------- the picker's list

#[test]
fn style_sources_are_the_packs_of_a_style_format() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "quirks.csv",
        "sdxl_styler.json",
        "invokeai_presets.json",
        "swarmui_presets.json",
    ] {
        fs::copy(fixture(name), dir.path().join(name)).unwrap();
    }
    fs::write(
        dir.path().join("plain.json"),
        r#"{"prompts": {"a": "a quiet harbor"}}"#,
    )
    .unwrap();
    fs::write(dir.path().join("lines.txt"), "a quiet harbor\n").unwrap();
    let found = discover_packs(dir.path());
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    assert_eq!(found.packs.len(), 6);

    let sources: Vec<(&str, PackFormat)> = style_sources(&found.packs)
        .map(|p| (p.id.as_str(), p.format.unwrap()))
        .collect();
    assert_eq!(
        sources,
        [
            ("invokeai_presets", PackFormat::InvokeAiPresets),
            ("quirks", PackFormat::StylesCsv),
            ("sdxl_styler", PackFormat::StylesJson),
            ("swarmui_presets", PackFormat::SwarmUiPresets),
        ]
    );
    for pack in &found.packs {
        let format = pack.format.unwrap();
        assert_eq!(
            format.is_style_source(),
            sources.iter().any(|(id, _)| *id == pack.id),
            "{format}"
        );
    }
}

// ---------------------------------------------------------------- applying styles

fn packs() -> Vec<PromptPack> {
    ["quirks.csv", "sdxl_styler.json", "swarmui_presets.json"]
        .iter()
        .map(|n| load_pack(fixture(n)).unwrap())
        .collect()
}

fn style(source: &str, name: &str) -> StyleRef {
    StyleRef {
        source: source.into(),
        name: name.into(),
    }
}

#[test]
fn styles_from_several_sources_apply_in_the_order_chosen() {
    let packs = packs();
    let chosen = resolve_styles(
        &packs,
        &[
            style("swarmui_presets", "art/charcoal"),
            style("quirks", "Long"),
        ],
    )
    .unwrap();
    let (positive, negative) = apply_styles("a lighthouse", "", &chosen);
    // SwarmUI's `{value}` takes the prompt; A1111's join adds the style without a placeholder.
    assert_eq!(
        positive,
        "charcoal drawing of a lighthouse, smudged, long text"
    );
    assert_eq!(negative, "color, photo, long neg");
    assert!(!positive.contains("{value}") && !negative.contains("{value}"));
}

#[test]
fn joining_trims_and_leaves_empty_parts_out_as_a1111_does() {
    // A1111 merge_prompts: ", ".join(filter(None, (prompt.strip(), style.strip())))
    assert_eq!(
        apply_style_text("  film grain  ", "  a lighthouse "),
        "a lighthouse, film grain"
    );
    assert_eq!(apply_style_text("film grain", "   "), "film grain");
    assert_eq!(apply_style_text("", "a lighthouse"), "a lighthouse");
}

#[test]
fn a_style_source_used_as_a_pack_sends_each_style_on_the_empty_prompt() {
    let pack = load_pack(fixture("sdxl_styler.json")).unwrap();
    let sent: Vec<String> = pack
        .prompts
        .iter()
        .map(|p| as_pack_prompt_text(&p.positive))
        .collect();
    assert_eq!(
        sent,
        ["paper cut , second version", "clay figure, soft light"]
    );
    let pack = load_pack(fixture("swarmui_presets.json")).unwrap();
    assert_eq!(
        as_pack_prompt_text(&pack.prompts[0].negative),
        " color, photo"
    );
}
