//! A1111 infotext read back as A1111's `parse_generation_parameters` reads it (issue 11):
//! examples written here in A1111's shape, expected values worked out from A1111's code.

extern crate promptdesk_core as promptdesk;

use promptdesk::history::export::infotext_block;
use promptdesk::infotext::parse_infotext;
use promptdesk::run_config::GenerationSettings;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn multi_line_prompt_and_negative_with_quoted_values() {
    let text = "a lighthouse on a cliff, (stormy sky:1.2)\n\
                waves, spray\n\
                Negative prompt: blurry, lowres\n\
                watermark\n\
                Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234, \
                Size: 832x1216, Model hash: 31e35c80fc, Model: \"coast, v2: final\", \
                Lora hashes: \"sea: 1a2b, sky: 3c4d\", Version: v1.10.1";
    let t = parse_infotext(text).expect("an infotext");
    assert_eq!(
        t.prompt,
        "a lighthouse on a cliff, (stormy sky:1.2)\nwaves, spray"
    );
    assert_eq!(t.negative_prompt, "blurry, lowres\nwatermark");
    let s = &t.settings;
    assert_eq!(s.steps, Some(30));
    assert_eq!(s.sampler.as_deref(), Some("DPM++ 2M"));
    assert_eq!(s.scheduler.as_deref(), Some("Karras"));
    assert_eq!(s.cfg_scale, Some(6.5));
    assert_eq!(s.seed, Some(1234));
    assert_eq!((s.width, s.height), (Some(832), Some(1216)));
    assert_eq!(s.model.as_deref(), Some("coast, v2: final"));
    assert_eq!(
        t.unknown,
        pairs(&[
            ("Model hash", "31e35c80fc"),
            ("Lora hashes", "sea: 1a2b, sky: 3c4d"),
            ("Version", "v1.10.1"),
        ])
    );
}

#[test]
fn a_plain_prompt_is_not_an_infotext() {
    assert_eq!(parse_infotext("a quiet harbour at night, lanterns"), None);
    // A last line with only 2 `key: value` pairs is prompt text, not parameters.
    assert_eq!(
        parse_infotext("a harbour\nmood: calm, light: low"),
        None,
        "2 pairs are not a parameters line"
    );
    assert!(parse_infotext("a harbour\nmood: calm, light: low, Steps: 20").is_some());
}

/// A1111 reads a missing Clip skip as 1 and a missing Schedule type as Automatic; promptdesk's
/// export leaves both out at those values, so they read back.
#[test]
fn missing_clip_skip_and_schedule_type_read_as_a1111_defaults() {
    let t = parse_infotext("a pier\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5").unwrap();
    assert_eq!(t.settings.clip_skip, Some(1));
    assert_eq!(t.settings.scheduler.as_deref(), Some("Automatic"));

    let settings = GenerationSettings {
        model: "harbour_v1".into(),
        sampler: "Euler a".into(),
        scheduler: "Automatic".into(),
        steps: 24,
        cfg_scale: 7.0,
        width: 768,
        height: 512,
        seed: 99,
        clip_skip: 1,
        ..Default::default()
    };
    let block = infotext_block("a pier at dusk", "fog", &settings);
    let t = parse_infotext(&block).unwrap();
    let mut back = settings.clone();
    t.settings.apply_to(&mut back);
    assert_eq!(back, settings, "{block}");
    assert_eq!(t.prompt, "a pier at dusk");
    assert_eq!(t.negative_prompt, "fog");
}

/// As A1111's `get_sampler_and_scheduler`: a scheduler written in the sampler name wins, a
/// scheduler's internal name reads as its label.
#[test]
fn schedulers_in_sampler_names_and_internal_names() {
    let t = parse_infotext(
        "x\nSteps: 20, Sampler: DPM++ 2M SDE Karras, Schedule type: Exponential, CFG scale: 7",
    )
    .unwrap();
    assert_eq!(t.settings.sampler.as_deref(), Some("DPM++ 2M SDE"));
    assert_eq!(t.settings.scheduler.as_deref(), Some("Karras"));

    let t =
        parse_infotext("x\nSteps: 20, Sampler: Euler, Schedule type: sgm_uniform, CFG scale: 7")
            .unwrap();
    assert_eq!(t.settings.sampler.as_deref(), Some("Euler"));
    assert_eq!(t.settings.scheduler.as_deref(), Some("SGM Uniform"));
}

#[test]
fn pairs_read_as_a1111_keeps_them() {
    // An empty value is skipped (A1111's `v[0]` fails); a key given twice keeps its first
    // place and its last value; CRLF lines read as LF.
    let t = parse_infotext(
        "a quay\r\nNegative prompt: rain\r\nSteps: 20, Denoising strength: , ENSD: 1, \
         Sampler: Euler, ENSD: 31337, CFG scale: 7",
    )
    .unwrap();
    assert_eq!(t.prompt, "a quay");
    assert_eq!(t.negative_prompt, "rain");
    assert_eq!(t.unknown, pairs(&[("ENSD", "31337")]));
}

#[test]
fn a_hypernetwork_is_added_to_the_prompt_as_a1111_does() {
    let t = parse_infotext(
        "a dune\nSteps: 20, Sampler: Euler, CFG scale: 7, Hypernet: sandy, Hypernet strength: 0.6",
    )
    .unwrap();
    assert_eq!(t.prompt, "a dune<hypernet:sandy:0.6>");
    let t = parse_infotext("a dune\nSteps: 20, Sampler: Euler, Hypernet: sandy").unwrap();
    assert_eq!(t.prompt, "a dune<hypernet:sandy:1.0>");
}
