//! StableNew unified packs read as StableNew reads them (issue 11): slots that render to
//! nothing are dropped, slots at the top level without `pack_data` are read, and a listed
//! LoRA's weight keeps the text written in the file. LoRAs written in prompts follow A1111's
//! syntax.

extern crate promptdesk_core as promptdesk;

use promptdesk::packs::{PackError, PackErrorKind, load_pack};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/faithful")
        .join(name)
}

#[test]
fn empty_slots_are_dropped_and_the_kept_ones_are_numbered_as_stablenew_rows() {
    let pack = load_pack(fixture("sparse_slots.json")).unwrap();
    let keys: Vec<&str> = pack.keys();
    assert_eq!(keys, ["1", "2", "3"], "3 of 5 slots render to something");
    assert!(pack.prompts[0].positive.starts_with("a windmill on a dike"));
    // A slot with no text but an embedding is kept (it renders to something).
    assert_eq!(pack.prompts[1].positive, "<embedding:detail_boost>");
    assert!(pack.prompts[2].positive.starts_with("tulip fields in rows"));
}

#[test]
fn a_listed_lora_weight_keeps_the_text_written_in_the_file() {
    let pack = load_pack(fixture("sparse_slots.json")).unwrap();
    assert_eq!(
        pack.prompts[0].positive,
        "a windmill on a dike <lora:soft_focus:0.4959677419354839>"
    );
    assert_eq!(
        pack.prompts[2].positive, "tulip fields in rows <lora:sharp:1.0> <lora:warm:0.75>",
        "a weight is written as StableNew's f-string writes the float (1 -> 1.0)"
    );
    assert!(pack.warnings.is_empty(), "{:?}", pack.warnings);
}

#[test]
fn a_pack_whose_slots_are_all_empty_is_a_bad_pack_naming_the_file() {
    let err = load_pack(fixture("all_empty.json")).unwrap_err();
    assert_eq!(err.kind, PackErrorKind::NoPrompts);
    assert!(err.to_string().contains("all_empty.json"), "{err}");
}

#[test]
fn slots_at_the_top_level_are_read_as_stablenew_does() {
    let pack = load_pack(fixture("top_level_slots.json")).unwrap();
    assert_eq!(pack.keys(), ["1", "2"]);
    assert_eq!(pack.prompts[0].positive, "a lantern on a jetty");
    assert_eq!(pack.prompts[0].negative, "text");
    assert_eq!(pack.name, "Top level");
}

fn where_(w: &PackError) -> (String, Option<usize>) {
    let file = w
        .path
        .as_deref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (file, w.line)
}

/// Every slot renders to the texts StableNew2's `read_prompt_pack` sends (expected values
/// computed from its `_render_prompt_pack_slot`): text trimmed of spaces and commas, negative
/// lines joined with spaces, listed embeddings with Python's `{:g}` weight, listed LoRAs after
/// the text even when the text names them too, Python's float text (`1.0`, `0.8`, `1e-05`).
#[test]
fn slots_render_to_the_texts_stablenew_sends() {
    let pack = load_pack(fixture("stablenew_rendering.json")).unwrap();
    let texts: Vec<(&str, &str, &str)> = pack
        .prompts
        .iter()
        .map(|p| (p.key.as_str(), p.positive.as_str(), p.negative.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            (
                "1",
                "a harbour at dawn <lora:mist:1.0> <lora:glow:0.8>",
                "blurry lowres watermark"
            ),
            (
                "2",
                "<embedding:calm> (<embedding:crisp>:0.75) <embedding:grain> a reed boat \
                 <lora:mist:0.5> <lora:mist:0.5>",
                ""
            ),
            ("3", "<lora:loud:1.0>", ""),
            ("4", "", "(<embedding:soft_neg>:1.25)"),
            ("5", "a lighthouse <lora:tiny:1e-05>", ""),
        ]
    );
    // The prompt's LoRA list is what it sends, once each.
    let loras: Vec<(&str, f32)> = pack.prompts[0]
        .loras
        .iter()
        .map(|l| (l.name.as_str(), l.weight))
        .collect();
    assert_eq!(loras, [("mist", 1.0), ("glow", 0.8)]);
    assert_eq!(pack.prompts[1].loras.len(), 1);
}

/// What StableNew reads with a guess or skips loads, and each is said with the file and the
/// slot's line: a weight that is not a number (1.0), an entry that is not `[name, weight]`, a
/// slot that is not an object.
#[test]
fn what_stablenew_guesses_or_skips_is_warned_with_file_and_line() {
    let pack = load_pack(fixture("stablenew_rendering.json")).unwrap();
    let warnings: Vec<(String, Option<usize>)> = pack.warnings.iter().map(where_).collect();
    let file = "stablenew_rendering.json".to_owned();
    assert_eq!(
        warnings,
        [
            (file.clone(), Some(6)),
            (file.clone(), Some(7)),
            (file.clone(), Some(8)),
            (file.clone(), Some(10)),
        ],
        "{:?}",
        pack.warnings
    );
    assert_eq!(
        pack.warnings[0].kind,
        PackErrorKind::BadEmbeddingWeight {
            name: "grain".into(),
            weight: "heavy".into()
        }
    );
    assert!(pack.warnings[1].to_string().contains("not an object"));
    assert_eq!(
        pack.warnings[2].kind,
        PackErrorKind::BadLoraWeight {
            name: "loud".into(),
            weight: "abc".into()
        }
    );
    assert!(pack.warnings[3].to_string().contains("as_object"));
}

/// A1111's LoRA forms: positions count positional items only (`unet=0.5:0.7` is te 0.7), names
/// are matched as written (A1111 ignores `TE=`), a whole-number dyn. A dyn of `1.5` would fail
/// in A1111: the pack loads and says so with the prompt's line.
#[test]
fn lora_multipliers_are_read_as_a1111_reads_them() {
    let pack = load_pack(fixture("lora_forms.txt")).unwrap();
    let weights: Vec<Vec<(&str, f32)>> = pack
        .prompts
        .iter()
        .map(|p| {
            p.loras
                .iter()
                .map(|l| (l.name.as_str(), l.weight))
                .collect()
        })
        .collect();
    assert_eq!(
        weights,
        [
            vec![("pier", 0.7)],
            vec![("cliff", 1.0)],
            vec![("quay", 0.6), ("dune", 0.3)],
            vec![("bay", 0.5)],
        ]
    );
    let warnings: Vec<(String, Option<usize>)> = pack.warnings.iter().map(where_).collect();
    assert_eq!(warnings, [("lora_forms.txt".to_owned(), Some(8))]);
    let said = pack.warnings[0].to_string();
    assert!(said.contains("dyn \"1.5\" is not a whole number"), "{said}");
}
