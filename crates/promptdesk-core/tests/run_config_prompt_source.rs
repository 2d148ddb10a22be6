//! The prompt-origin contract: RunConfig and JobRecord built from packs and manual prompts
//! (the seed design's section 4 cases, plus base-config handling and JSON round trips).

extern crate promptdesk_core as promptdesk;

use promptdesk::{
    GenerationSettings, JobRecord, JobStatus, PackDefaults, PackErrorKind, PackPrompt, PromptPack,
    PromptSource, RunConfig, RunMode, RunSource, build_run_config_for_manual_prompt,
    build_run_config_from_prompt_pack, job_record_from_run_config,
};
use serde_json::json;

fn pack_123() -> PromptPack {
    PromptPack {
        id: "pack-123".into(),
        name: "Pack 123".into(),
        prompts: vec![
            PackPrompt::from_texts("p1", "a castle at dusk <lora:detail:0.5>", "blurry", None)
                .unwrap(),
            PackPrompt::from_texts("p2", "a lighthouse in fog", "", None).unwrap(),
            PackPrompt::from_texts("p3", "a quiet harbour", "people", None).unwrap(),
        ],
        defaults: PackDefaults {
            steps: Some(34),
            cfg_scale: Some(6.5),
            sampler: Some("DPM++ 2M".into()),
            ..PackDefaults::default()
        },
        ..PromptPack::default()
    }
}

fn custom_base() -> RunConfig {
    RunConfig {
        run_mode: RunMode::Queue,
        source: RunSource::Cli,
        settings: GenerationSettings {
            model: "sdxl.safetensors".into(),
            steps: 42,
            cfg_scale: 4.5,
            width: 832,
            height: 1216,
            seed: 1234,
            ..GenerationSettings::default()
        },
        ..RunConfig::default()
    }
}

#[test]
fn run_config_built_from_prompt_pack() {
    let cfg = build_run_config_from_prompt_pack(&pack_123(), &["p1", "p2"], None).unwrap();
    assert_eq!(cfg.prompt_source, PromptSource::Pack);
    assert_eq!(cfg.prompt_pack_id.as_deref(), Some("pack-123"));
    assert_eq!(cfg.prompt_keys, vec!["p1", "p2"]);
    assert_eq!(cfg.prompt_payload["pack_id"], "pack-123");
    let prompts = cfg.prompt_payload["prompts"].as_object().unwrap();
    let keys: Vec<&str> = prompts.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec!["p1", "p2"],
        "exactly the selected keys, in order"
    );
    assert_eq!(
        prompts["p1"],
        json!({"prompt": "a castle at dusk <lora:detail:0.5>", "negative_prompt": "blurry"})
    );
}

#[test]
fn pack_keys_keep_the_order_given() {
    let cfg = build_run_config_from_prompt_pack(&pack_123(), &["p3", "p1"], None).unwrap();
    assert_eq!(cfg.prompt_keys, vec!["p3", "p1"]);
    let pairs = cfg.prompt_pairs();
    assert_eq!(pairs[0].0, "a quiet harbour");
    assert_eq!(pairs[1].1, "blurry");
}

#[test]
fn pack_defaults_apply_when_there_is_no_base() {
    let cfg = build_run_config_from_prompt_pack(&pack_123(), &["p1"], None).unwrap();
    assert_eq!(cfg.settings.steps, 34);
    assert_eq!(cfg.settings.cfg_scale, 6.5);
    assert_eq!(cfg.settings.sampler, "DPM++ 2M");
    // Settings the pack does not name keep the defaults.
    assert_eq!(cfg.settings.width, GenerationSettings::default().width);
}

#[test]
fn base_config_fields_are_kept_for_pack_runs() {
    let base = custom_base();
    let cfg = build_run_config_from_prompt_pack(&pack_123(), &["p2"], Some(base.clone())).unwrap();
    assert_eq!(
        cfg.settings, base.settings,
        "base settings win over pack defaults"
    );
    assert_eq!(cfg.run_mode, RunMode::Queue);
    assert_eq!(cfg.source, RunSource::Cli);
    assert_eq!(cfg.prompt_keys, vec!["p2"]);
}

#[test]
fn base_config_fields_are_kept_for_manual_runs_and_origin_is_reset() {
    // A base that still carries a pack origin must not leak it into a manual run.
    let base =
        build_run_config_from_prompt_pack(&pack_123(), &["p1"], Some(custom_base())).unwrap();
    let cfg = build_run_config_for_manual_prompt("A dragon", "no gore", Some(base.clone()));
    assert_eq!(cfg.prompt_source, PromptSource::Manual);
    assert_eq!(cfg.prompt_pack_id, None);
    assert!(cfg.prompt_keys.is_empty());
    assert_eq!(cfg.prompt_payload.len(), 2);
    assert_eq!(cfg.settings, base.settings);
    assert_eq!(cfg.run_mode, RunMode::Queue);
}

#[test]
fn run_config_built_for_manual_prompt() {
    let cfg = build_run_config_for_manual_prompt("A dragon", "no gore", None);
    assert_eq!(cfg.prompt_source, PromptSource::Manual);
    assert_eq!(cfg.prompt_pack_id, None);
    assert!(cfg.prompt_keys.is_empty());
    assert_eq!(cfg.prompt_payload["prompt"], "A dragon");
    assert_eq!(cfg.prompt_payload["negative_prompt"], "no gore");
    assert_eq!(cfg.settings, GenerationSettings::default());
}

#[test]
fn bad_selections_name_the_key_and_the_pack() {
    let pack = pack_123();
    let err = build_run_config_from_prompt_pack(&pack, &["p1", "nope"], None).unwrap_err();
    assert_eq!(
        err.kind,
        PackErrorKind::UnknownKey {
            pack: "pack-123".into(),
            key: "nope".into()
        }
    );
    let text = err.to_string();
    assert!(text.contains("nope") && text.contains("pack-123"), "{text}");

    let err = build_run_config_from_prompt_pack(&pack, &["p2", "p2"], None).unwrap_err();
    assert_eq!(
        err.kind,
        PackErrorKind::RepeatedKey {
            pack: "pack-123".into(),
            key: "p2".into()
        }
    );

    let none: [&str; 0] = [];
    let err = build_run_config_from_prompt_pack(&pack, &none, None).unwrap_err();
    assert_eq!(
        err.kind,
        PackErrorKind::EmptySelection {
            pack: "pack-123".into()
        }
    );
    assert!(err.to_string().contains("pack-123"));
}

#[test]
fn selected_keys_accept_owned_strings() {
    let keys = vec![String::from("p1")];
    let cfg = build_run_config_from_prompt_pack(&pack_123(), &keys, None).unwrap();
    assert_eq!(cfg.prompt_keys, keys);
}

#[test]
fn job_record_from_manual_run_config() {
    let cfg = build_run_config_for_manual_prompt("A dragon", "no gore", None);
    let before = chrono::Utc::now();
    let record = job_record_from_run_config("job-1", &cfg);
    assert_eq!(record.job_id, "job-1");
    assert_eq!(record.prompt_source, "manual");
    assert_eq!(record.prompt_source, PromptSource::Manual);
    assert_eq!(record.prompt_pack_id, None);
    assert!(record.prompt_keys.is_empty());
    assert_eq!(record.status, JobStatus::Queued);
    assert!(record.created_at >= before && record.created_at <= chrono::Utc::now());
    assert_eq!(record.config_hash, cfg.config_hash());
    assert_eq!(record.run_config, cfg);
}

#[test]
fn job_record_from_pack_run_config() {
    let cfg = build_run_config_from_prompt_pack(&pack_123(), &["p1", "p2"], None).unwrap();
    let record = job_record_from_run_config("job-2", &cfg);
    assert_eq!(record.prompt_source, "pack");
    assert_eq!(record.prompt_pack_id.as_deref(), Some("pack-123"));
    assert_eq!(record.prompt_keys, vec!["p1", "p2"]);
    assert_eq!(record.run_mode, cfg.run_mode);
    assert_eq!(record.source, cfg.source);
}

#[test]
fn manual_and_pack_runs_are_distinct() {
    let manual =
        job_record_from_run_config("m", &build_run_config_for_manual_prompt("x", "", None));
    let pack = job_record_from_run_config(
        "p",
        &build_run_config_from_prompt_pack(&pack_123(), &["p1"], None).unwrap(),
    );
    assert_ne!(manual.prompt_source, pack.prompt_source);
    assert_ne!(manual.prompt_pack_id, pack.prompt_pack_id);
    assert_ne!(manual.prompt_keys, pack.prompt_keys);
}

#[test]
fn prompt_source_text_forms() {
    assert_eq!(PromptSource::Manual.as_str(), "manual");
    assert_eq!(PromptSource::Pack.as_str(), "pack");
    assert_eq!(PromptSource::Pack.to_string(), "pack");
    assert_eq!(PromptSource::default(), PromptSource::Manual);
    assert_eq!(
        serde_json::to_string(&PromptSource::Pack).unwrap(),
        "\"pack\""
    );
    assert_eq!(
        serde_json::from_str::<PromptSource>("\"manual\"").unwrap(),
        PromptSource::Manual
    );
    assert!(serde_json::from_str::<PromptSource>("\"PACKED\"").is_err());
}

#[test]
fn config_hash_depends_on_settings_only() {
    let a = build_run_config_for_manual_prompt("A dragon", "", Some(custom_base()));
    let b = build_run_config_from_prompt_pack(&pack_123(), &["p2"], Some(custom_base())).unwrap();
    assert_eq!(
        a.config_hash(),
        b.config_hash(),
        "same settings, different prompts"
    );
    assert_eq!(a.config_hash().len(), 64);
    assert!(a.config_hash().chars().all(|c| c.is_ascii_hexdigit()));

    let mut c = a.clone();
    c.settings.steps += 1;
    assert_ne!(a.config_hash(), c.config_hash());
    let mut d = a.clone();
    d.settings.seed = 7;
    assert_ne!(a.config_hash(), d.config_hash());
}

#[test]
fn config_hash_is_sha256_of_sorted_compact_settings() {
    use sha2::Digest;
    let cfg = RunConfig::default();
    let s = &cfg.settings;
    let canonical = format!(
        concat!(
            r#"{{"batch_count":{},"batch_size":{},"cfg_scale":{:?},"clip_skip":{},"height":{},"#,
            r#""model":"{}","sampler":"{}","scheduler":"{}","seed":{},"steps":{},"width":{}}}"#
        ),
        s.batch_count,
        s.batch_size,
        s.cfg_scale,
        s.clip_skip,
        s.height,
        s.model,
        s.sampler,
        s.scheduler,
        s.seed,
        s.steps,
        s.width
    );
    let expected: String = sha2::Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(cfg.config_hash(), expected, "canonical form: {canonical}");
}

#[test]
fn run_config_json_round_trip() {
    let cfg =
        build_run_config_from_prompt_pack(&pack_123(), &["p2", "p1"], Some(custom_base())).unwrap();
    let text = serde_json::to_string(&cfg).unwrap();
    let back: RunConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(back, cfg);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["prompt_source"], "pack");
    assert_eq!(value["run_mode"], "queue");
    assert_eq!(value["source"], "cli");
}

#[test]
fn job_record_json_round_trip_is_one_line() {
    let cfg = build_run_config_for_manual_prompt("A dragon\nover the sea", "no gore", None);
    let mut record = job_record_from_run_config("job-1", &cfg);
    record.status = JobStatus::Completed;
    record.duration_ms = Some(1234);
    record.error_message = Some("line one\nline two".into());
    let line = record.to_json_line();
    assert!(!line.contains('\n'), "{line}");
    let back: JobRecord = serde_json::from_str(&line).unwrap();
    assert_eq!(back, record);
    let value: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(value["status"], "completed");
    assert_eq!(value["prompt_source"], "manual");
    assert!(value["prompt_pack_id"].is_null());
    let created = value["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "{created}"
    );
    assert!(created.ends_with('Z'), "UTC: {created}");
    assert!(value["schema_version"].as_u64().is_some());
}
