//! The headless CLI, run in-process through `cli::run_from` (and, where the process matters,
//! as the real binary): pack listing, submit from a pack or a typed prompt, bad input that
//! exits 2 with one stderr line and writes nothing, history filters, export files, verify and
//! compact.

mod support;
use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use promptdesk::cli::{Outcome, run_from};
use promptdesk::history::HistoryStore;
use promptdesk::{
    JobRecord, JobStatus, PromptSource, RunSource, build_run_config_for_manual_prompt,
    job_record_from_run_config,
};
use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use support::cli::{Run, cli_plain as cli};

/// A data folder plus a packs folder with two good packs and two bad files.
struct Env {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    packs: PathBuf,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let packs = tmp.path().join("my packs");
        fs::create_dir_all(&packs).unwrap();
        fs::write(
            packs.join("Harbour.txt"),
            "# two harbour scenes\n\
             fishing boats at dawn, calm water\n\
             neg: people, text\n\
             \n\
             lighthouse on a rocky point, stormy sky\n\
             \n\
             old stone quay at night, lanterns\n",
        )
        .unwrap();
        fs::write(
            packs.join("Kitchen.json"),
            r#"{
  "name": "Kitchen",
  "settings": {"steps": 40, "cfg_scale": 5.5, "sampler_name": "DPM++ 2M", "width": 832},
  "prompts": {
    "bread": {"prompt": "crusty loaf on a wooden board", "negative_prompt": "blurry"},
    "soup, hot": "steaming bowl of tomato soup",
    "tea": "teapot and two cups on a tray"
  }
}"#,
        )
        .unwrap();
        fs::write(packs.join("Broken.json"), "{\"prompts\": {\"a\": \"x\",, }").unwrap();
        fs::write(packs.join("Empty.tsv"), "").unwrap();
        Env {
            data,
            packs,
            _tmp: tmp,
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut all = vec![
            "--data-dir",
            self.data.to_str().unwrap(),
            "--packs-dir",
            self.packs.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        cli(&all)
    }

    fn history(&self) -> PathBuf {
        self.data.join("history.jsonl")
    }

    fn store(&self) -> HistoryStore {
        HistoryStore::open(self.history()).unwrap()
    }

    fn history_bytes(&self) -> Option<Vec<u8>> {
        fs::read(self.history()).ok()
    }
}

fn one_error_line(run: &Run) -> &str {
    let lines: Vec<&str> = run.err.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one stderr line, got {:?}", run.err);
    assert!(
        lines[0].starts_with("promptdesk: error: "),
        "{:?}",
        lines[0]
    );
    lines[0]
}

#[test]
fn packs_lists_good_packs_and_bad_files() {
    let env = Env::new();
    let run = env.run(&["packs"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let lines: Vec<&str> = run.out.lines().collect();
    let harbour = lines.iter().find(|l| l.starts_with("Harbour")).unwrap();
    assert!(
        harbour.contains("txt") && harbour.contains(" 3 ") && harbour.contains("1-3"),
        "{harbour}"
    );
    let kitchen = lines.iter().find(|l| l.starts_with("Kitchen")).unwrap();
    assert!(kitchen.contains("keyed-json"), "{kitchen}");
    assert!(
        kitchen.contains("bread") && kitchen.contains("\"soup, hot\""),
        "{kitchen}"
    );
    let bad: Vec<&&str> = lines.iter().filter(|l| l.starts_with("bad file")).collect();
    assert_eq!(bad.len(), 2, "{}", run.out);
    assert!(bad.iter().any(|l| l.contains("Broken.json")));
    assert!(bad.iter().any(|l| l.contains("Empty.tsv")));
    assert!(run.out.contains("2 packs"), "{}", run.out);
    assert!(run.out.contains("2 bad files"), "{}", run.out);
    assert!(!env.history().exists(), "listing packs writes no history");

    let run = env.run(&["packs", "--json"]);
    assert_eq!(run.code, 0);
    let doc: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    let packs = doc["packs"].as_array().unwrap();
    let ids: Vec<&str> = packs.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["Harbour", "Kitchen"]);
    assert_eq!(packs[0]["prompts"], 3);
    assert_eq!(packs[0]["keys"], serde_json::json!(["1", "2", "3"]));
    assert_eq!(packs[1]["format"], "keyed-json");
    assert_eq!(doc["errors"].as_array().unwrap().len(), 2);
}

#[test]
fn the_default_packs_folder_gets_the_sample_packs_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let run = cli(&["--data-dir", data.to_str().unwrap(), "packs", "--json"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let doc: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    let n = doc["packs"].as_array().unwrap().len();
    assert!(n >= 3, "sample packs installed: {n}");
    assert!(doc["errors"].as_array().unwrap().is_empty(), "{doc}");
    // A user's change is not undone by a later run.
    let first = fs::read_dir(data.join("packs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    fs::remove_file(&first).unwrap();
    assert_eq!(
        cli(&["--data-dir", data.to_str().unwrap(), "packs"]).code,
        0
    );
    assert!(!first.exists(), "samples are installed on first use only");

    // An explicit packs folder is never created or filled.
    let missing = tmp.path().join("nowhere");
    let run = cli(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--packs-dir",
        missing.to_str().unwrap(),
        "packs",
    ]);
    assert_eq!(run.code, 2);
    assert!(one_error_line(&run).contains("nowhere"));
    assert!(!missing.exists());
}

#[test]
fn no_command_means_the_gui_with_the_resolved_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    let argv: Vec<OsString> = vec![
        "promptdesk".into(),
        "--data-dir".into(),
        data.clone().into(),
    ];
    let (mut out, mut err) = (Vec::new(), Vec::new());
    match run_from(argv, &mut out, &mut err) {
        Outcome::Gui {
            data_dir,
            packs_dir,
            packs_dir_is_default,
        } => {
            assert_eq!(data_dir, data);
            assert_eq!(packs_dir, data.join("packs"));
            assert!(packs_dir_is_default);
        }
        Outcome::Exit(code) => panic!("exit {code}"),
    }
    assert!(out.is_empty() && err.is_empty());
}

#[test]
fn submit_from_a_pack_uses_its_defaults_and_the_flags() {
    let env = Env::new();
    let run = env.run(&[
        "submit",
        "--pack",
        "Kitchen",
        "--keys",
        "tea,bread",
        "--cfg",
        "8",
        "--seed",
        "-1",
    ]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.err.is_empty());
    let id = run.out.trim();
    assert_eq!(run.out, format!("{id}\n"), "only the id on stdout");
    let store = env.store();
    let r = store.get(id).unwrap();
    assert_eq!(r.prompt_source, PromptSource::Pack);
    assert_eq!(r.prompt_pack_id.as_deref(), Some("Kitchen"));
    assert_eq!(r.prompt_keys, vec!["tea", "bread"]);
    assert_eq!(r.source, RunSource::Cli);
    assert_eq!(r.status, JobStatus::Queued);
    let s = &r.run_config.settings;
    assert_eq!(s.steps, 40, "from the pack");
    assert_eq!(s.sampler, "DPM++ 2M", "from the pack");
    assert_eq!(s.width, 832, "from the pack");
    assert_eq!(s.cfg_scale, 8.0, "the flag wins");
    assert_eq!(r.config_hash, r.run_config.config_hash());
    let pairs = r.run_config.prompt_pairs();
    assert_eq!(pairs[0].0, "teapot and two cups on a tray");
    assert_eq!(
        pairs[1],
        ("crusty loaf on a wooden board".into(), "blurry".into())
    );

    // A key with a comma in its name is taken whole.
    let run = env.run(&["submit", "--pack", "Kitchen", "--keys", "soup, hot"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let r = env.store().get(run.out.trim()).unwrap().clone();
    assert_eq!(r.prompt_keys, vec!["soup, hot"]);

    // Pack ids match case-insensitively when unambiguous; row keys of a .txt pack.
    let run = env.run(&[
        "submit", "--pack", "harbour", "--keys", "3", "--steps", "12",
    ]);
    assert_eq!(run.code, 0, "{}", run.err);
    let r = env.store().get(run.out.trim()).unwrap().clone();
    assert_eq!(r.prompt_pack_id.as_deref(), Some("Harbour"));
    assert_eq!(r.first_prompt(), "old stone quay at night, lanterns");
    assert_eq!(r.run_config.settings.steps, 12);
}

#[test]
fn submit_a_typed_prompt() {
    let env = Env::new();
    let run = env.run(&[
        "submit",
        "--prompt",
        "a café in Kyōto at night, 雨",
        "--negative",
        "text, watermark",
        "--model",
        "sdxl_base.safetensors",
        "--sampler",
        "Euler",
        "--scheduler",
        "Karras",
        "--steps",
        "31",
        "--cfg",
        "6.5",
        "--width",
        "1024",
        "--height",
        "768",
        "--seed",
        "42",
        "--batch-size",
        "2",
        "--batch-count",
        "3",
        "--clip-skip",
        "2",
    ]);
    assert_eq!(run.code, 0, "{}", run.err);
    let store = env.store();
    let r = store.get(run.out.trim()).unwrap();
    assert_eq!(r.prompt_source, PromptSource::Manual);
    assert_eq!(r.prompt_pack_id, None);
    assert!(r.prompt_keys.is_empty());
    assert_eq!(
        r.run_config.prompt_pairs(),
        vec![(
            "a café in Kyōto at night, 雨".to_owned(),
            "text, watermark".to_owned()
        )]
    );
    let s = &r.run_config.settings;
    assert_eq!(
        (
            s.model.as_str(),
            s.sampler.as_str(),
            s.scheduler.as_str(),
            s.steps,
            s.cfg_scale
        ),
        ("sdxl_base.safetensors", "Euler", "Karras", 31, 6.5)
    );
    assert_eq!(
        (
            s.width,
            s.height,
            s.seed,
            s.batch_size,
            s.batch_count,
            s.clip_skip
        ),
        (1024, 768, 42, 2, 3, 2)
    );
}

#[test]
fn bad_input_exits_2_with_one_line_and_writes_nothing() {
    let env = Env::new();
    // One good job first, so that "nothing written" means the file is unchanged.
    assert_eq!(env.run(&["submit", "--prompt", "first"]).code, 0);
    let before = env.history_bytes();
    let cases: &[(&[&str], &str)] = &[
        (&["submit"], "nothing to submit"),
        (
            &[
                "submit", "--pack", "Kitchen", "--keys", "tea", "--prompt", "x",
            ],
            "not both",
        ),
        (&["submit", "--pack", "Nope", "--keys", "1"], "Nope"),
        (
            &["submit", "--pack", "Kitchen", "--keys", "coffee"],
            "coffee",
        ),
        (&["submit", "--pack", "Kitchen", "--keys", "tea,tea"], "tea"),
        (&["submit", "--pack", "Kitchen"], "--keys"),
        (&["submit", "--pack", "Broken", "--keys", "a"], "Broken"),
        (&["submit", "--prompt", "   "], "empty"),
        (&["submit", "--prompt", "x", "--keys", "1"], "--keys"),
        (
            &[
                "submit",
                "--pack",
                "Harbour",
                "--keys",
                "1",
                "--negative",
                "n",
            ],
            "--negative",
        ),
        (&["submit", "--prompt", "x", "--steps", "abc"], "abc"),
        (&["submit", "--prompt", "x", "--steps", "0"], "0"),
        (&["submit", "--prompt", "x", "--cfg", "NaN"], "NaN"),
        (&["submit", "--prompt", "x", "--width", "-5"], "-5"),
        (&["submit", "--prompt", "x", "--seed", "-7"], "-7"),
        (&["submit", "--prompt", "x", "--bogus"], "--bogus"),
        (&["history", "--status", "sleeping"], "sleeping"),
        (&["history", "--source", "robot"], "robot"),
        (&["export", "--format", "pdf", "--output", "x.pdf"], "pdf"),
        (&["no-such-command"], "no-such-command"),
    ];
    for (args, needle) in cases {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.err);
        let line = one_error_line(&run);
        assert!(line.contains(needle), "{args:?}: {line}");
        assert!(run.out.is_empty(), "{args:?}: {}", run.out);
        assert_eq!(env.history_bytes(), before, "{args:?} changed the history");
    }
    assert_eq!(env.store().len(), 1);
}

#[test]
fn bad_input_before_any_history_creates_nothing() {
    let env = Env::new();
    let run = env.run(&["submit", "--pack", "Kitchen", "--keys", "nope"]);
    assert_eq!(run.code, 2);
    assert!(
        !env.data.exists(),
        "no data folder created for a refused submit"
    );
}

#[test]
fn a_store_error_exits_1_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain-file");
    fs::write(&file, "x").unwrap();
    let data = file.join("data");
    let run = cli(&[
        "--data-dir",
        data.to_str().unwrap(),
        "submit",
        "--prompt",
        "x",
    ]);
    assert_eq!(run.code, 1);
    assert!(one_error_line(&run).contains("plain-file"));
    assert!(run.out.is_empty());
}

/// (pack and keys, or None for a manual job), prompt, status.
type JobSpec<'a> = (Option<(&'a str, &'a [&'a str])>, &'a str, JobStatus);

/// Jobs with known times, sources, packs, keys and statuses.
fn seeded_history(env: &Env) -> Vec<JobRecord> {
    let t0 = Utc.with_ymd_and_hms(2025, 1, 10, 8, 0, 0).unwrap();
    let mut records = Vec::new();
    let specs: &[JobSpec] = &[
        (Some(("Harbour", &["1"])), "boats", JobStatus::Completed),
        (None, "a red kite over a beach", JobStatus::Failed),
        (
            Some(("Kitchen", &["tea", "bread"])),
            "tea",
            JobStatus::Queued,
        ),
        (None, "snowy owl, macro", JobStatus::Completed),
        (
            Some(("Harbour", &["2", "3"])),
            "lighthouse",
            JobStatus::Running,
        ),
    ];
    for (i, (pack, prompt, status)) in specs.iter().enumerate() {
        let mut cfg = build_run_config_for_manual_prompt(prompt, "", None);
        if let Some((id, keys)) = pack {
            cfg.prompt_source = PromptSource::Pack;
            cfg.prompt_pack_id = Some((*id).to_owned());
            cfg.prompt_keys = keys.iter().map(|k| (*k).to_owned()).collect();
            let mut prompts = serde_json::Map::new();
            for k in *keys {
                prompts.insert(
                    (*k).to_owned(),
                    serde_json::json!({"prompt": format!("{prompt} {k}"), "negative_prompt": ""}),
                );
            }
            cfg.prompt_payload = serde_json::Map::new();
            cfg.prompt_payload
                .insert("pack_id".into(), serde_json::json!(id));
            cfg.prompt_payload
                .insert("prompts".into(), serde_json::Value::Object(prompts));
        }
        cfg.settings.steps = 10 + i as u32;
        let mut r = job_record_from_run_config(&HistoryStore::new_job_id(), &cfg);
        r.status = *status;
        // Submission order is not time order: job 3 is the newest.
        let offset = [0, 1, 2, 9, 3][i];
        r.created_at = t0 + ChronoDuration::hours(offset);
        records.push(r);
    }
    let mut store = HistoryStore::open(env.history()).unwrap();
    store.append_many(&records).unwrap();
    records
}

fn json_ids(run: &Run) -> Vec<String> {
    run.out
        .lines()
        .map(|l| serde_json::from_str::<JobRecord>(l).unwrap().job_id)
        .collect()
}

#[test]
fn history_filters_newest_first() {
    let env = Env::new();
    let rs = seeded_history(&env);
    let id = |i: usize| rs[i].job_id.clone();

    let run = env.run(&["history", "--json"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(json_ids(&run), vec![id(3), id(4), id(2), id(1), id(0)]);
    let cases: &[(&[&str], Vec<String>)] = &[
        (&["--source", "manual"], vec![id(3), id(1)]),
        (&["--source", "pack"], vec![id(4), id(2), id(0)]),
        (&["--pack", "Harbour"], vec![id(4), id(0)]),
        (&["--key", "bread"], vec![id(2)]),
        (&["--status", "completed"], vec![id(3), id(0)]),
        (&["--search", "KITE"], vec![id(1)]),
        (&["--pack", "Harbour", "--key", "3"], vec![id(4)]),
        (&["--limit", "2"], vec![id(3), id(4)]),
        (&["--search", "nothing like this"], vec![]),
    ];
    for (args, expected) in cases {
        let mut all = vec!["history", "--json"];
        all.extend_from_slice(args);
        let run = env.run(&all);
        assert_eq!(run.code, 0, "{args:?}: {}", run.err);
        assert_eq!(&json_ids(&run), expected, "{args:?}");
    }

    // The table: a header and one row per job, with source, pack, keys, status and id.
    let run = env.run(&["history", "--pack", "Harbour"]);
    assert_eq!(run.code, 0);
    let lines: Vec<&str> = run.out.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.out);
    for h in [
        "TIME", "SOURCE", "PACK", "KEYS", "PROMPT", "MODEL", "STEPS", "STATUS", "ID",
    ] {
        assert!(lines[0].contains(h), "{}", lines[0]);
    }
    assert!(lines[1].contains("pack") && lines[1].contains("Harbour"));
    assert!(lines[1].contains("2, 3") && lines[1].contains("running"));
    assert!(lines[1].ends_with(&id(4)), "{}", lines[1]);
    assert!(lines[2].ends_with(&id(0)));
    let run = env.run(&["history", "--search", "zzz"]);
    assert!(run.out.contains("no matching jobs"), "{}", run.out);
}

#[test]
fn export_writes_complete_files_oldest_first() {
    let env = Env::new();
    let rs = seeded_history(&env);
    let out_dir = env.data.join("exports");
    fs::create_dir_all(&out_dir).unwrap();

    let jsonl = out_dir.join("pack.jsonl");
    let run = env.run(&[
        "export",
        "--format",
        "jsonl",
        "--output",
        jsonl.to_str().unwrap(),
        "--source",
        "pack",
    ]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("3 jobs"), "{}", run.out);
    let text = fs::read_to_string(&jsonl).unwrap();
    let got: Vec<JobRecord> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got, vec![rs[0].clone(), rs[2].clone(), rs[4].clone()]);

    let csv_path = out_dir.join("all.csv");
    let run = env.run(&[
        "export",
        "--format",
        "csv",
        "--output",
        csv_path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.err);
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let id_col = headers.iter().position(|h| h == "job_id").unwrap();
    let ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[id_col].to_owned())
        .collect();
    let oldest_first: Vec<String> = [0, 1, 2, 4, 3]
        .iter()
        .map(|&i| rs[i].job_id.clone())
        .collect();
    assert_eq!(ids, oldest_first);

    let info = out_dir.join("owl.txt");
    let run = env.run(&[
        "export",
        "--format",
        "infotext",
        "--output",
        info.to_str().unwrap(),
        "--search",
        "owl",
    ]);
    assert_eq!(run.code, 0, "{}", run.err);
    let text = fs::read_to_string(&info).unwrap();
    assert!(text.starts_with("snowy owl, macro\n"), "{text}");
    assert!(text.contains("Steps: 13"), "{text}");

    // Re-exporting replaces the file; no temp files are left behind.
    let run = env.run(&[
        "export",
        "--format",
        "jsonl",
        "--output",
        jsonl.to_str().unwrap(),
        "--status",
        "failed",
    ]);
    assert_eq!(run.code, 0);
    assert_eq!(fs::read_to_string(&jsonl).unwrap().lines().count(), 1);
    let mut names: Vec<String> = fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["all.csv", "owl.txt", "pack.jsonl"]);

    // A folder that does not exist: exit 1, one line, no file.
    let nowhere = out_dir.join("missing/x.csv");
    let run = env.run(&[
        "export",
        "--format",
        "csv",
        "--output",
        nowhere.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1);
    assert!(one_error_line(&run).contains("x.csv"));
    assert!(!nowhere.exists());
}

#[test]
fn verify_and_compact() {
    let env = Env::new();
    let rs = seeded_history(&env);
    let run = env.run(&["verify"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert!(run.out.contains("records: 5"), "{}", run.out);

    // Damage the middle of the file.
    let text = fs::read_to_string(env.history()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "{\"job_id\": \"half a line");
    fs::write(env.history(), lines.join("\n") + "\n").unwrap();
    let run = env.run(&["verify"]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run.out.contains("records: 5"), "{}", run.out);
    assert!(run.out.contains("line 3: "), "{}", run.out);
    assert!(run.err.is_empty());

    // Deletes, then compact: same jobs, one line each, and verify is clean again.
    let mut store = env.store();
    store.delete(&rs[1].job_id).unwrap();
    store.set_status(&rs[2].job_id, JobStatus::Running).unwrap();
    let live = store.records().to_vec();
    drop(store);
    let run = env.run(&["compact"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("4 jobs"), "{}", run.out);
    assert_eq!(
        fs::read_to_string(env.history()).unwrap().lines().count(),
        4
    );
    assert_eq!(env.store().records(), &live[..]);
    let run = env.run(&["verify"]);
    assert_eq!(run.code, 0, "{}", run.out);
}

#[test]
fn import_stablenew_adds_jobs_once() {
    let env = Env::new();
    let file = env.data.join("job_history.jsonl");
    fs::create_dir_all(&env.data).unwrap();
    // StableNew writes one snapshot per status change; the last one wins.
    let lines = [
        r#"{"job_id": "sn-1", "created_at": "2025-11-20T10:00:00.000001", "status": "queued", "started_at": null, "completed_at": null, "error_message": null, "worker_id": "local", "run_mode": "queue", "prompt_source": "pack", "prompt_pack_id": "Harbour", "prompt_keys": ["2"]}"#,
        r#"{"job_id": "sn-1", "created_at": "2025-11-20T10:00:00.000001", "status": "completed", "started_at": "2025-11-20T10:00:01", "completed_at": "2025-11-20T10:00:09", "error_message": null, "worker_id": "local", "run_mode": "queue", "prompt_source": "pack", "prompt_pack_id": "Harbour", "prompt_keys": ["2"]}"#,
        r#"{"job_id": "sn-2", "created_at": "2025-11-20T11:00:00", "status": "completed", "started_at": "2025-11-20T11:00:01", "completed_at": "2025-11-20T11:00:03", "error_message": null, "worker_id": "local", "run_mode": "direct", "prompt_source": "manual", "prompt_pack_id": null, "prompt_keys": null}"#,
        "this line is not JSON",
    ];
    fs::write(&file, lines.join("\n") + "\n").unwrap();
    let run = env.run(&["import-stablenew", file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("2 imported"), "{}", run.out);
    assert!(run.out.contains("line 4"), "{}", run.out);
    let store = env.store();
    assert_eq!(store.len(), 2);
    let from_pack = store
        .records()
        .iter()
        .find(|r| r.prompt_source == PromptSource::Pack)
        .unwrap();
    assert_eq!(from_pack.prompt_pack_id.as_deref(), Some("Harbour"));
    assert_eq!(from_pack.status, JobStatus::Completed);

    let run = env.run(&["import-stablenew", file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("0 imported"), "{}", run.out);
    assert_eq!(env.store().len(), 2);

    let run = env.run(&["import-stablenew", "/no/such/file.jsonl"]);
    assert_ne!(run.code, 0);
    one_error_line(&run);
}

#[test]
fn help_and_version_go_to_stdout_and_exit_0() {
    let run = cli(&["--help"]);
    assert_eq!(run.code, 0);
    for cmd in [
        "packs",
        "submit",
        "history",
        "export",
        "import-stablenew",
        "verify",
        "compact",
    ] {
        assert!(run.out.contains(cmd), "{cmd} missing from help");
    }
    assert!(
        !run.out.contains("debug-append-loop"),
        "hidden helper shown"
    );
    let run = cli(&["submit", "--help"]);
    assert_eq!(run.code, 0);
    assert!(run.out.contains("--batch-count"));
    let run = cli(&["--version"]);
    assert_eq!(run.code, 0);
    assert!(run.out.contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_binary_submits_and_reports_like_run_from() {
    let env = Env::new();
    let bin = env!("CARGO_BIN_EXE_promptdesk");
    let out = Command::new(bin)
        .arg("--data-dir")
        .arg(&env.data)
        .args(["submit", "--prompt", "through the real binary"])
        .env_remove("PROMPTDESK_DATA_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(
        env.store().get(&id).unwrap().first_prompt(),
        "through the real binary"
    );

    // PROMPTDESK_DATA_DIR picks the data folder when --data-dir is absent.
    let out = Command::new(bin)
        .args(["history", "--json"])
        .env("PROMPTDESK_DATA_DIR", &env.data)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains(&id));

    let out = Command::new(bin)
        .arg("--data-dir")
        .arg(&env.data)
        .args(["submit", "--prompt", ""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("promptdesk: error: "), "{err}");
}

#[test]
fn history_on_a_fresh_folder_is_empty_not_an_error() {
    let env = Env::new();
    let run = env.run(&["history"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("no matching jobs"));
    let run = env.run(&["history", "--json"]);
    assert_eq!(run.code, 0);
    assert!(run.out.is_empty());
}
