//! StableNew unified packs read as StableNew reads them (issue 11): slots that render to
//! nothing are dropped, slots at the top level without `pack_data` are read, and a listed
//! LoRA's weight keeps the text written in the file.

extern crate promptdesk_core as promptdesk;

use promptdesk::packs::{PackErrorKind, load_pack};
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
        pack.prompts[2].positive,
        "tulip fields in rows <lora:sharp:1> <lora:warm:0.75>"
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
