//! Fuzz-style properties: random bytes and random damage to valid pack texts never make a
//! parser or the loader panic, and whatever they return is sound (unique keys, lines inside the
//! file, errors naming the file).

extern crate promptdesk_core as promptdesk;

use promptdesk::packs::bundled::sample_pack_files;
use promptdesk::packs::{
    ParsedFile, invokeai_presets, keyed_json, styles_csv, styles_json, swarmui_presets, tsv, txt,
    unified_json,
};
use promptdesk::{PackError, load_pack};
use proptest::prelude::*;
use std::collections::HashSet;
use std::path::Path;

/// Valid texts to damage: the bundled samples plus a few small ones for every format.
fn samples() -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = sample_pack_files()
        .iter()
        .map(|(name, text)| (*name, (*text).to_owned()))
        .collect();
    out.extend([
        (
            "mini.txt",
            "(<embedding:e:0.8>) a [[m]] __w__ <lora:l:0.5>\nneg: bad\n\nb\n".to_owned(),
        ),
        ("mini.tsv", "a <lora:x:1>\tb\n# c\nd\n".to_owned()),
        (
            "mini.json",
            r#"{"prompts": {"a": "x <lora:y:0.3>", "b": {"prompt": "z", "negative_prompt": "n"}}}"#
                .to_owned(),
        ),
        (
            "slots.json",
            r#"{"pack_data": {"name": "n", "slots": [{"text": "t", "loras": [["l", 0.5]], "positive_embeddings": [["e", 0.7]]}], "matrix": {"slots": [{"name": "m", "values": ["v"]}]}}, "preset_data": {"txt2img": {"steps": 3}}}"#
                .to_owned(),
        ),
        ("mini.csv", "name,prompt,negative_prompt\na,\"x\ny\",z\n".to_owned()),
        (
            "ragged.csv",
            "name,prompt,negative_prompt,\r\n-- divider --\r\na, \"x, {prompt}\",z,,\r\na,b\r\n"
                .to_owned(),
        ),
        (
            "styles.json",
            r#"[{"name": "a", "prompt": "x {prompt}", "negative_prompt": "n"}, {"name": "b"}]"#
                .to_owned(),
        ),
        (
            "invoke.json",
            r#"[{"name": "a", "type": "user", "preset_data": {"positive_prompt": "{prompt} x", "negative_prompt": ""}}]"#
                .to_owned(),
        ),
        (
            "swarm.json",
            r#"{"a": {"title": "t", "param_map": {"prompt": "{value} x", "negativeprompt": "n"}}}"#
                .to_owned(),
        ),
    ]);
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop::sample::select(vec![
        "<lora:",
        "<lora:x:",
        ">",
        "[[",
        "]]",
        "__",
        "\"",
        "\t",
        "\n",
        "\r\n",
        "neg:",
        "#",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\\",
        "<embedding:",
        "(<embedding:a>:",
        "\u{feff}",
        "\u{e9}",
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), snippet).prop_map(|(i, s)| Mutation::Insert(i, s)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match *m {
            Mutation::Flip(i, b) if len > 0 => bytes[i % len] ^= b.max(1),
            Mutation::Flip(..) => {}
            Mutation::Truncate(i) => bytes.truncate(i % (len + 1)),
            Mutation::Insert(i, s) => {
                let at = i % (len + 1);
                bytes.splice(at..at, s.bytes());
            }
        }
    }
    bytes
}

/// Lines as the parsers count them: `\n`, `\r\n` and a lone `\r` (Python's reading of
/// styles.csv, as A1111 does) each end one.
fn line_count(text: &str) -> usize {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .lines()
        .count()
        .max(1)
}

/// What every successful parse must satisfy.
fn check_parsed(parsed: &ParsedFile, text: &str) {
    let mut keys = HashSet::new();
    for p in &parsed.prompts {
        assert!(keys.insert(p.key.as_str()), "duplicate key {:?}", p.key);
        if let Some(line) = p.line {
            assert!(
                (1..=line_count(text) + 1).contains(&line),
                "line {line} outside the file"
            );
        }
        for l in &p.loras {
            assert!(l.weight.is_finite());
        }
    }
    for w in &parsed.warnings {
        if let Some(line) = w.line {
            assert!(
                (1..=line_count(text) + 1).contains(&line),
                "warning line {line} outside the file: {w}"
            );
        }
    }
}

fn check_error(err: &PackError, text: &str) {
    if let Some(line) = err.line {
        assert!(
            (1..=line_count(text) + 1).contains(&line),
            "error line {line}: {err}"
        );
    }
    assert!(!err.to_string().is_empty());
}

type Parser = fn(&Path, &str) -> Result<ParsedFile, PackError>;

/// Runs every parser on `text`; none may panic.
fn parse_everywhere(text: &str) {
    let path = Path::new("fuzz");
    let parsers: [Parser; 8] = [
        txt::parse,
        tsv::parse,
        keyed_json::parse,
        unified_json::parse,
        styles_csv::parse,
        styles_json::parse,
        invokeai_presets::parse,
        swarmui_presets::parse,
    ];
    for parse in parsers {
        match parse(path, text) {
            Ok(parsed) => check_parsed(&parsed, text),
            Err(err) => check_error(&err, text),
        }
    }
}

/// Writes `bytes` under every pack extension in a fresh folder and loads each; the loader may
/// refuse the file but never panics, and its errors name a file of that folder.
fn load_everywhere(bytes: &[u8]) {
    let dir = tempfile::tempdir().expect("temp dir");
    for ext in ["txt", "tsv", "json", "csv"] {
        let path = dir.path().join(format!("fuzz.{ext}"));
        std::fs::write(&path, bytes).expect("write");
        match load_pack(&path) {
            Ok(pack) => {
                assert_eq!(pack.id, "fuzz");
                assert!(!pack.prompts.is_empty());
            }
            Err(err) => {
                let named = err.path.as_deref().expect("a file error names its file");
                assert_eq!(named.parent(), Some(dir.path()), "{err}");
            }
        }
        std::fs::remove_file(&path).expect("remove");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_everywhere(&String::from_utf8_lossy(&bytes));
        load_everywhere(&bytes);
    }

    #[test]
    fn damaged_samples_never_panic(
        index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let samples = samples();
        let (_, text) = &samples[index.index(samples.len())];
        let bytes = apply(text.clone().into_bytes(), &mutations);
        parse_everywhere(&String::from_utf8_lossy(&bytes));
        load_everywhere(&bytes);
    }

}
