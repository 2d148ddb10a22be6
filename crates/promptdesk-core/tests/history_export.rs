//! Export round trips: JSON Lines re-reads exactly, CSV reads back with the csv crate, and
//! A1111 infotext parses back (A1111's own rules) to the prompts and settings.

extern crate promptdesk_core as promptdesk;

use chrono::{TimeZone, Utc};
use promptdesk::history::{
    CSV_HEADER, ExportFormat, csv_row, export_records, infotext_block, infotext_for_record,
    parse_infotext,
};
use promptdesk::{
    GenerationSettings, JobRecord, JobStatus, PromptSource, RunConfig, RunMode, RunSource,
    build_run_config_for_manual_prompt, job_record_from_run_config,
};
use serde_json::json;

fn settings() -> GenerationSettings {
    GenerationSettings {
        model: "sd_xl_base_1.0.safetensors".to_owned(),
        sampler: "DPM++ 2M".to_owned(),
        scheduler: "Karras".to_owned(),
        steps: 28,
        cfg_scale: 6.5,
        width: 832,
        height: 1216,
        seed: 965_400_086,
        batch_size: 2,
        batch_count: 3,
        clip_skip: 2,
    }
}

/// A pack run with two keys, finished, with every optional field set.
fn pack_record() -> JobRecord {
    let cfg = RunConfig {
        prompt_source: PromptSource::Pack,
        prompt_pack_id: Some("Fantasy Beasts, vol. 2".to_owned()),
        prompt_keys: vec!["3".to_owned(), "odd, key|with \"quotes\"".to_owned()],
        prompt_payload: json!({
            "pack_id": "Fantasy Beasts, vol. 2",
            "prompts": {
                "3": {"prompt": "a griffin over snowy peaks, (detailed:1.2)", "negative_prompt": "blurry, lowres"},
                "odd, key|with \"quotes\"": {"prompt": "a sea serpent, storm", "negative_prompt": ""}
            }
        })
        .as_object()
        .cloned()
        .unwrap_or_default(),
        run_mode: RunMode::Queue,
        source: RunSource::Cli,
        settings: settings(),
    };
    let mut r = job_record_from_run_config("0191e0a2-7c3d-7000-8000-00000000aaaa", &cfg);
    r.created_at = Utc
        .with_ymd_and_hms(2025, 3, 4, 5, 6, 7)
        .single()
        .expect("date")
        + chrono::Duration::microseconds(123_456);
    r.status = JobStatus::Completed;
    r.started_at = Some(r.created_at + chrono::Duration::seconds(2));
    r.completed_at = Some(r.created_at + chrono::Duration::seconds(40));
    r.duration_ms = Some(38_000);
    r
}

/// A manual run with unicode, a multi-line prompt and an error.
fn manual_record() -> JobRecord {
    let mut base = RunConfig {
        settings: GenerationSettings {
            model: String::new(),
            cfg_scale: 7.0,
            seed: -1,
            scheduler: "Automatic".to_owned(),
            clip_skip: 1,
            ..GenerationSettings::default()
        },
        ..RunConfig::default()
    };
    base.source = RunSource::Gui;
    let cfg = promptdesk::build_run_config_for_manual_prompt(
        "été à Paris: 東京の夜, neon\nsecond line",
        "",
        Some(base),
    );
    let mut r = job_record_from_run_config("manual-1", &cfg);
    r.status = JobStatus::Failed;
    r.error_message = Some("WebUI said: \"out of memory\", retry".to_owned());
    r
}

fn export_to_string(records: &[JobRecord], format: ExportFormat) -> String {
    let mut out = Vec::new();
    let n = export_records(records, format, &mut out).expect("export to memory");
    assert_eq!(n, records.len());
    String::from_utf8(out).expect("exports are UTF-8")
}

#[test]
fn jsonl_export_reads_back_to_equal_records() {
    let records = vec![pack_record(), manual_record(), pack_record()];
    let text = export_to_string(&records, ExportFormat::Jsonl);
    assert!(text.ends_with('\n'));
    let back: Vec<JobRecord> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JobRecord"))
        .collect();
    assert_eq!(back, records);
}

#[test]
fn an_empty_export_writes_only_what_the_format_needs() {
    let none: Vec<JobRecord> = Vec::new();
    assert_eq!(export_to_string(&none, ExportFormat::Jsonl), "");
    assert_eq!(export_to_string(&none, ExportFormat::Infotext), "");
    let csv = export_to_string(&none, ExportFormat::Csv);
    assert_eq!(csv.trim_end(), CSV_HEADER.join(","));
}

fn read_csv(text: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    (header, rows)
}

fn cell<'a>(header: &[String], row: &'a csv::StringRecord, name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    row.get(i)
        .unwrap_or_else(|| panic!("row too short for {name}"))
}

#[test]
fn csv_export_reads_back_with_origin_columns_and_settings() {
    let records = vec![pack_record(), manual_record()];
    let text = export_to_string(&records, ExportFormat::Csv);
    let (header, rows) = read_csv(&text);
    assert_eq!(header, CSV_HEADER.to_vec());
    for name in [
        "job_id",
        "created_at",
        "status",
        "prompt_source",
        "prompt_pack_id",
        "prompt_keys",
        "run_mode",
        "source",
        "config_hash",
        "prompt",
        "negative_prompt",
        "model",
        "sampler",
        "scheduler",
        "steps",
        "cfg_scale",
        "width",
        "height",
        "seed",
        "batch_size",
        "batch_count",
        "clip_skip",
        "started_at",
        "completed_at",
        "duration_ms",
        "error_message",
    ] {
        assert!(header.iter().any(|h| h == name), "missing column {name}");
    }
    assert_eq!(rows.len(), 2);

    let (p, r) = (&records[0], &rows[0]);
    assert_eq!(cell(&header, r, "job_id"), p.job_id);
    assert_eq!(cell(&header, r, "status"), "completed");
    assert_eq!(cell(&header, r, "prompt_source"), "pack");
    assert_eq!(cell(&header, r, "prompt_pack_id"), "Fantasy Beasts, vol. 2");
    let keys: Vec<String> =
        serde_json::from_str(cell(&header, r, "prompt_keys")).expect("keys are a JSON array");
    assert_eq!(keys, p.prompt_keys);
    assert_eq!(cell(&header, r, "run_mode"), "queue");
    assert_eq!(cell(&header, r, "source"), "cli");
    assert_eq!(cell(&header, r, "config_hash"), p.config_hash);
    assert_eq!(
        cell(&header, r, "prompt"),
        "a griffin over snowy peaks, (detailed:1.2)\n\na sea serpent, storm"
    );
    assert_eq!(cell(&header, r, "negative_prompt"), "blurry, lowres\n\n");
    let created = chrono::DateTime::parse_from_rfc3339(cell(&header, r, "created_at"))
        .expect("RFC 3339 time");
    assert_eq!(created, p.created_at);
    assert_eq!(cell(&header, r, "duration_ms"), "38000");
    assert_eq!(cell(&header, r, "error_message"), "");
    let s = &p.run_config.settings;
    assert_eq!(cell(&header, r, "model"), s.model);
    assert_eq!(cell(&header, r, "sampler"), s.sampler);
    assert_eq!(cell(&header, r, "scheduler"), s.scheduler);
    let num = |name: &str| -> f64 {
        cell(&header, r, name)
            .parse()
            .unwrap_or_else(|e| panic!("{name} is a number: {e}"))
    };
    assert_eq!(num("steps"), s.steps as f64);
    assert_eq!(num("cfg_scale"), s.cfg_scale);
    assert_eq!(num("width"), s.width as f64);
    assert_eq!(num("height"), s.height as f64);
    assert_eq!(num("seed"), s.seed as f64);
    assert_eq!(num("batch_size"), s.batch_size as f64);
    assert_eq!(num("batch_count"), s.batch_count as f64);
    assert_eq!(num("clip_skip"), s.clip_skip as f64);

    let (m, r) = (&records[1], &rows[1]);
    assert_eq!(cell(&header, r, "prompt_source"), "manual");
    assert_eq!(cell(&header, r, "prompt_pack_id"), "");
    assert_eq!(cell(&header, r, "prompt_keys"), "[]");
    assert_eq!(
        cell(&header, r, "prompt"),
        "été à Paris: 東京の夜, neon\nsecond line"
    );
    assert_eq!(
        cell(&header, r, "error_message"),
        m.error_message.as_deref().unwrap_or("")
    );
    assert_eq!(cell(&header, r, "cfg_scale"), "7");
    assert_eq!(cell(&header, r, "seed"), "-1");
    assert_eq!(cell(&header, r, "started_at"), "");
    assert_eq!(cell(&header, r, "duration_ms"), "");
}

#[test]
fn infotext_block_follows_a1111_layout() {
    let block = infotext_block("a griffin", "blurry", &settings());
    assert_eq!(
        block,
        "a griffin\nNegative prompt: blurry\nSteps: 28, Sampler: DPM++ 2M, Schedule type: Karras, \
         CFG scale: 6.5, Seed: 965400086, Size: 832x1216, Model: sd_xl_base_1.0, Clip skip: 2"
    );
    // Empty negative: no line; CFG 7.0 is "7"; Automatic schedule, clip skip 1 and an empty
    // model are left out.
    let plain = GenerationSettings::default();
    assert_eq!(
        infotext_block("a cat", "", &plain),
        "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: -1, Size: 512x512"
    );
    // A checkpoint title with a hash gives Model hash and Model.
    let titled = GenerationSettings {
        model: "juggernautXL_v9.safetensors [dd08fa32f9]".to_owned(),
        ..GenerationSettings::default()
    };
    assert!(
        infotext_block("x", "", &titled)
            .ends_with("Size: 512x512, Model hash: dd08fa32f9, Model: juggernautXL_v9")
    );
}

#[test]
fn infotext_parses_back_to_prompt_negative_and_settings() {
    for record in [pack_record(), manual_record()] {
        let text = infotext_for_record(&record);
        let blocks: Vec<&str> = text.split("\n\n").collect();
        let pairs = record.run_config.prompt_pairs();
        assert_eq!(blocks.len(), pairs.len(), "one block per prompt: {text}");
        for (block, (prompt, negative)) in blocks.iter().zip(&pairs) {
            let parsed = parse_infotext(block).expect("a block parses");
            assert_eq!(&parsed.prompt, prompt);
            assert_eq!(&parsed.negative, negative);
            let s = &record.run_config.settings;
            assert_eq!(parsed.get("Steps"), Some(s.steps.to_string().as_str()));
            assert_eq!(parsed.get("Sampler"), Some(s.sampler.as_str()));
            let cfg: f64 = parsed
                .get("CFG scale")
                .and_then(|v| v.parse().ok())
                .expect("CFG scale is a number");
            assert_eq!(cfg, s.cfg_scale);
            assert_eq!(parsed.get("Seed"), Some(s.seed.to_string().as_str()));
            assert_eq!(
                parsed.get("Size"),
                Some(format!("{}x{}", s.width, s.height).as_str())
            );
            let keys: Vec<&str> = parsed.params.iter().map(|(k, _)| k.as_str()).collect();
            let expected_order: Vec<&str> = [
                "Steps",
                "Sampler",
                "Schedule type",
                "CFG scale",
                "Seed",
                "Size",
                "Model",
                "Clip skip",
            ]
            .into_iter()
            .filter(|k| keys.contains(k))
            .collect();
            assert_eq!(keys, expected_order, "parameter order");
        }
    }
}

#[test]
fn infotext_values_with_separators_are_quoted_and_unquote_on_parse() {
    let odd = GenerationSettings {
        sampler: "Weird, sampler".to_owned(),
        model: "folder/name: v2".to_owned(),
        scheduler: "Align Your Steps".to_owned(),
        ..GenerationSettings::default()
    };
    let block = infotext_block("castle", "fog", &odd);
    assert!(block.contains("Sampler: \"Weird, sampler\""), "{block}");
    let parsed = parse_infotext(&block).expect("parses");
    assert_eq!(parsed.get("Sampler"), Some("Weird, sampler"));
    // As A1111 writes a checkpoint's name: folders joined with "_", "," and ":" removed.
    assert_eq!(parsed.get("Model"), Some("folder_name v2"));
    assert_eq!(parsed.get("Schedule type"), Some("Align Your Steps"));
    assert_eq!(parsed.get("Steps"), Some("20"));
}

#[test]
fn infotext_export_separates_blocks_with_one_blank_line() {
    let records = vec![manual_record(), pack_record()];
    let text = export_to_string(&records, ExportFormat::Infotext);
    // manual: 1 block, pack: 2 blocks
    let blocks: Vec<&str> = text.trim_end().split("\n\n").collect();
    assert_eq!(blocks.len(), 3, "{text}");
    assert!(!text.contains("\n\n\n"));
    assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
    let prompts: Vec<String> = blocks
        .iter()
        .map(|b| parse_infotext(b).expect("block parses").prompt)
        .collect();
    assert_eq!(
        prompts,
        vec![
            "été à Paris: 東京の夜, neon\nsecond line".to_owned(),
            "a griffin over snowy peaks, (detailed:1.2)".to_owned(),
            "a sea serpent, storm".to_owned(),
        ]
    );
}

#[test]
fn a_record_without_prompts_still_exports_its_parameters() {
    let mut r = manual_record();
    r.run_config.prompt_payload.clear();
    let text = infotext_for_record(&r);
    let parsed = parse_infotext(&text).expect("parses");
    assert_eq!(parsed.prompt, "");
    assert_eq!(parsed.get("Steps"), Some("20"));
}

#[test]
fn export_format_names_parse() {
    assert_eq!("CSV".parse::<ExportFormat>(), Ok(ExportFormat::Csv));
    assert_eq!("jsonl".parse::<ExportFormat>(), Ok(ExportFormat::Jsonl));
    assert_eq!(
        "infotext".parse::<ExportFormat>(),
        Ok(ExportFormat::Infotext)
    );
    assert!("xml".parse::<ExportFormat>().is_err());
}

/// Export to a writer that fails: the error comes back, nothing panics.
#[test]
fn a_failing_writer_gives_an_error() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let records = vec![pack_record()];
    for format in [
        ExportFormat::Jsonl,
        ExportFormat::Csv,
        ExportFormat::Infotext,
    ] {
        let err = export_records(&records, format, Broken).expect_err("write fails");
        assert!(
            err.to_string().contains("disk on fire"),
            "{format:?}: {err}"
        );
    }
}

/// Issue 11: the model as A1111 writes it, settings an import never recorded left out (and
/// blank in CSV), and one block per request a record sent.
#[test]
fn infotext_and_csv_write_what_was_sent_and_leave_out_what_is_unknown() {
    let mut cfg = build_run_config_for_manual_prompt("a [[season]] field", "", None);
    cfg.settings.model = "sdxl\\juggernaut, v9:final.safetensors [a1b2c3d4]".to_owned();
    cfg.settings.steps = 31;
    cfg.set_rendered(&[
        promptdesk::RenderedRequest {
            key: String::new(),
            variant: 1,
            prompt: "a spring field".into(),
            negative_prompt: String::new(),
            values: Default::default(),
        },
        promptdesk::RenderedRequest {
            key: String::new(),
            variant: 2,
            prompt: "a winter field".into(),
            negative_prompt: String::new(),
            values: Default::default(),
        },
    ]);
    let record = job_record_from_run_config("job-r", &cfg);
    let text = infotext_for_record(&record);
    let blocks: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(blocks.len(), 2, "{text}");
    assert!(blocks[0].starts_with("a spring field\n"), "{text}");
    assert!(blocks[1].starts_with("a winter field\n"), "{text}");
    assert!(
        text.contains("Model hash: a1b2c3d4, Model: sdxl_juggernaut v9final"),
        "{text}"
    );

    let mut imported = cfg.clone();
    imported.set_unknown_settings(&["model".to_owned(), "steps".to_owned(), "seed".to_owned()]);
    let record = job_record_from_run_config("job-u", &imported);
    let text = infotext_for_record(&record);
    assert!(
        !text.contains("Steps:") && !text.contains("Model") && !text.contains("Seed:"),
        "{text}"
    );
    assert!(text.contains("Sampler: Euler a"), "{text}");
    let row = csv_row(&record);
    let header: Vec<&str> = CSV_HEADER.to_vec();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    assert_eq!(row[col("steps")], "");
    assert_eq!(row[col("model")], "");
    assert_eq!(row[col("seed")], "");
    assert_eq!(row[col("sampler")], "Euler a");
}

#[test]
fn infotext_of_a_job_promptdesk_ran_writes_each_requests_seed_used() {
    let mut r = pack_record();
    r.run_config.settings.seed = -1;
    let image = |key: &str, seed: i64| promptdesk::outputs::OutputImage {
        path: format!("outputs/2025-03-04/x_{seed}.png"),
        seed,
        width: 832,
        height: 1216,
        sha256: "0".repeat(64),
        key: key.to_owned(),
        variant: 1,
        ..Default::default()
    };
    r.result = Some(promptdesk::outputs::JobResult {
        backend: "local".into(),
        images: vec![
            image("3", 1111),
            image("3", 1112),
            image("odd, key|with \"quotes\"", 2222),
        ],
        ..Default::default()
    });
    let text = infotext_for_record(&r);
    let blocks: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(blocks.len(), 2, "{text}");
    assert_eq!(parse_infotext(blocks[0]).unwrap().get("Seed"), Some("1111"));
    assert_eq!(parse_infotext(blocks[1]).unwrap().get("Seed"), Some("2222"));
}
