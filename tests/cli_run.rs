//! `promptdesk backends`, `run` and `requeue` against in-process fake A1111 and ComfyUI
//! servers (shaped like the real APIs, see crates/promptdesk-core/tests/support): jobs
//! submitted with the CLI run to completion with their images saved and recorded, failures
//! exit 1 and keep the server's message, bad arguments exit 2, a runner killed mid-job leaves
//! a failed job that one command re-queues, and a server that comes up late is waited for.

#[path = "../crates/promptdesk-core/tests/support/fake_a1111.rs"]
mod fake_a1111;
#[path = "../crates/promptdesk-core/tests/support/fake_comfyui.rs"]
mod fake_comfyui;

mod support;
use fake_a1111::{FakeA1111, FakeOptions, Txt2Img};
use fake_comfyui::FakeComfyUi;
use promptdesk::outputs::{png_text, sha256_hex};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::cli::cli;

const BIN: &str = env!("CARGO_BIN_EXE_promptdesk");
const WORKFLOWS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/promptdesk-core/tests/fixtures/workflows"
);

fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    (tmp, data)
}

/// Submits a typed prompt; returns the job id.
fn submit(data: &Path, prompt: &str, extra: &[&str]) -> String {
    let mut args = vec!["submit", "--prompt", prompt, "--negative", "blurry"];
    args.extend_from_slice(extra);
    let run = cli(data, &args);
    assert_eq!(run.code, 0, "{}", run.err);
    run.out.trim().to_owned()
}

/// The history as `history --json` prints it, by job id.
fn history(data: &Path) -> Vec<Value> {
    let run = cli(data, &["history", "--json"]);
    assert_eq!(run.code, 0, "{}", run.err);
    run.out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn job(data: &Path, id: &str) -> Value {
    history(data)
        .into_iter()
        .find(|r| r["job_id"] == id)
        .unwrap_or_else(|| panic!("no job {id}"))
}

#[test]
fn backends_are_added_listed_tested_and_removed_and_the_password_stays_private() {
    let (_tmp, data) = data_dir();
    let fake = FakeA1111::start(FakeOptions {
        auth: Some(("me".into(), "s3cret".into())),
        ..FakeOptions::default()
    });
    let url = fake.url();
    let run = cli(
        &data,
        &[
            "backends",
            "add",
            "local",
            "--kind",
            "a1111",
            "--url",
            &url,
            "--user",
            "me",
            "--password",
            "s3cret",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("plain text"), "{}", run.out);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("backends.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let list = cli(&data, &["backends", "list"]);
    assert!(list.out.contains("local\ta1111\t"), "{}", list.out);
    assert!(
        !list.out.contains("s3cret"),
        "the password is never printed: {}",
        list.out
    );

    let test = cli(&data, &["backends", "test", "local"]);
    assert_eq!(test.code, 0, "{}", test.err);
    assert!(
        test.out.contains("sd_xl_base_1.0.safetensors [31e35c80fc]"),
        "{}",
        test.out
    );
    assert!(test.out.contains("DPM++ 2M"), "{}", test.out);
    assert!(test.out.contains("Karras"), "{}", test.out);

    // A wrong password: the message says what to check and names the URL.
    let run = cli(
        &data,
        &[
            "backends",
            "add",
            "local",
            "--kind",
            "a1111",
            "--url",
            &url,
            "--user",
            "me",
            "--password",
            "wrong",
        ],
    );
    assert_eq!(run.code, 0);
    let test = cli(&data, &["backends", "test", "local"]);
    assert_eq!(test.code, 1);
    assert!(test.err.contains("user and password"), "{}", test.err);
    assert!(test.err.contains(&url), "{}", test.err);

    let bad = cli(
        &data,
        &["backends", "add", "x", "--kind", "invokeai", "--url", &url],
    );
    assert_eq!(bad.code, 2, "{}", bad.err);
    assert_eq!(cli(&data, &["backends", "remove", "local"]).code, 0);
    let gone = cli(&data, &["backends", "test", "local"]);
    assert_eq!(gone.code, 2);
    assert!(gone.err.contains("none is configured"), "{}", gone.err);
}

#[test]
fn run_sends_each_job_to_a1111_and_records_every_image_with_its_seed() {
    let (_tmp, data) = data_dir();
    let fake = FakeA1111::start(FakeOptions::default());
    assert_eq!(
        cli(
            &data,
            &[
                "backends",
                "add",
                "local",
                "--kind",
                "a1111",
                "--url",
                &fake.url()
            ]
        )
        .code,
        0
    );
    let first = submit(
        &data,
        "a lighthouse at dusk",
        &[
            "--seed",
            "42",
            "--batch-size",
            "2",
            "--batch-count",
            "2",
            "--model",
            "sd_xl_base_1.0",
            "--sampler",
            "DPM++ 2M",
            "--scheduler",
            "Karras",
            "--steps",
            "12",
            "--clip-skip",
            "2",
            "--width",
            "64",
            "--height",
            "32",
        ],
    );
    let second = submit(
        &data,
        "a harbour in fog",
        &["--width", "16", "--height", "16"],
    );

    let run = cli(&data, &["run"]);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    let lines: Vec<&str> = run.out.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.out);
    assert!(
        lines[0].starts_with(&format!("{first}\tcompleted\tlocal\t4 images")),
        "{}",
        run.out
    );
    assert!(
        lines[1].starts_with(&format!("{second}\tcompleted\tlocal\t1 image")),
        "{}",
        run.out
    );

    // Exactly what A1111's API takes.
    let body = &fake.txt2img_bodies()[0];
    assert_eq!(body["prompt"], "a lighthouse at dusk");
    assert_eq!(body["negative_prompt"], "blurry");
    assert_eq!(body["seed"], 42);
    assert_eq!(body["sampler_name"], "DPM++ 2M");
    assert_eq!(body["scheduler"], "Karras");
    assert_eq!(body["steps"], 12);
    assert_eq!(body["batch_size"], 2);
    assert_eq!(body["n_iter"], 2);
    assert_eq!(
        body["override_settings"]["sd_model_checkpoint"],
        "sd_xl_base_1.0.safetensors [31e35c80fc]"
    );
    assert_eq!(body["override_settings"]["CLIP_stop_at_last_layers"], 2);
    assert_eq!(body["override_settings"]["samples_format"], "png");
    assert_eq!(body["override_settings_restore_afterwards"], true);
    assert_eq!(body["send_images"], true);
    assert_eq!(body["save_images"], false);

    let record = job(&data, &first);
    assert_eq!(record["status"], "completed");
    assert_eq!(record["schema_version"], 2);
    assert_eq!(record["backend"], "local");
    let result = &record["result"];
    assert_eq!(result["backend"], "local");
    assert_eq!(result["model_name"], "sd_xl_base_1.0");
    let images = result["images"].as_array().unwrap();
    let seeds: Vec<i64> = images.iter().map(|i| i["seed"].as_i64().unwrap()).collect();
    assert_eq!(seeds, [42, 43, 44, 45]);
    for image in images {
        let path = image["path"].as_str().unwrap();
        assert!(path.starts_with("outputs/"), "{path}");
        assert_eq!(
            (image["width"].as_u64(), image["height"].as_u64()),
            (Some(64), Some(32))
        );
        assert_eq!(image["key"], "");
        assert_eq!(image["variant"], 1);
        let bytes = std::fs::read(data.join(path)).unwrap();
        assert_eq!(image["sha256"].as_str().unwrap(), sha256_hex(&bytes));
        let texts = png_text(&bytes).unwrap();
        let params = &texts.iter().find(|(k, _)| k == "parameters").unwrap().1;
        assert!(
            params.contains(&format!("Seed: {}", image["seed"])),
            "{params}"
        );
        let link = &texts.iter().find(|(k, _)| k == "promptdesk").unwrap().1;
        assert!(link.contains(&first), "{link}");
    }
    // Nothing left to run: exit 0, and it says so.
    let again = cli(&data, &["run"]);
    assert_eq!(again.code, 0);
    assert!(again.err.contains("no queued job"), "{}", again.err);
}

#[test]
fn run_on_comfyui_fills_a_placeholder_workflow_and_adds_the_parameters_text() {
    let (_tmp, data) = data_dir();
    let fake = FakeComfyUi::start(fake_comfyui::FakeOptions::default());
    let workflow = format!("{WORKFLOWS}/placeholders.json");
    let add = cli(
        &data,
        &[
            "backends",
            "add",
            "comfy",
            "--kind",
            "comfyui",
            "--url",
            &fake.url(),
            "--workflow",
            &workflow,
        ],
    );
    assert_eq!(add.code, 0, "{}", add.err);
    assert!(
        data.join("workflows/placeholders.json").is_file(),
        "the workflow is kept in the data folder"
    );
    let id = submit(
        &data,
        "a red kite over dunes",
        &[
            "--seed",
            "7",
            "--steps",
            "9",
            "--sampler",
            "DPM++ 2M",
            "--scheduler",
            "Karras",
            "--model",
            "sd_xl_base_1.0.safetensors",
        ],
    );
    let run = cli(&data, &["run", "--backend", "comfy"]);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    let prompt = &fake.prompts()[0];
    let graph = &prompt["prompt"];
    assert_eq!(graph["6"]["inputs"]["text"], "a red kite over dunes");
    assert_eq!(graph["3"]["inputs"]["seed"], 7);
    assert_eq!(graph["3"]["inputs"]["steps"], 9);
    assert_eq!(graph["3"]["inputs"]["sampler_name"], "dpmpp_2m");
    assert_eq!(graph["3"]["inputs"]["scheduler"], "karras");
    assert!(prompt["client_id"].is_string());

    let record = job(&data, &id);
    assert_eq!(record["status"], "completed");
    let image = &record["result"]["images"][0];
    assert_eq!(image["seed"], 7);
    let bytes = std::fs::read(data.join(image["path"].as_str().unwrap())).unwrap();
    let texts = png_text(&bytes).unwrap();
    let params = &texts.iter().find(|(k, _)| k == "parameters").unwrap().1;
    assert!(params.starts_with("a red kite over dunes"), "{params}");
    assert!(params.contains("Seed: 7"), "{params}");
    assert!(
        texts.iter().any(|(k, _)| k == "prompt"),
        "ComfyUI's own chunks are kept"
    );
}

#[test]
fn a_failed_job_exits_1_and_keeps_the_servers_message() {
    let (_tmp, data) = data_dir();
    let fake = FakeA1111::start(FakeOptions {
        txt2img: Txt2Img::OutOfMemory,
        ..FakeOptions::default()
    });
    let id = submit(&data, "a very large poster", &[]);
    let run = cli(&data, &["run", "--url", &fake.url(), "--kind", "a1111"]);
    assert_eq!(run.code, 1, "{}\n{}", run.out, run.err);
    assert!(run.out.contains(&format!("{id}\tfailed")), "{}", run.out);
    assert!(run.out.contains("CUDA out of memory"), "{}", run.out);
    let record = job(&data, &id);
    assert_eq!(record["status"], "failed");
    assert!(
        record["error_message"]
            .as_str()
            .unwrap()
            .contains("out of memory")
    );
    assert_eq!(
        fake.txt2img_bodies().len(),
        1,
        "out of memory is not retried"
    );
}

#[test]
fn bad_arguments_exit_2_and_run_nothing() {
    let (_tmp, data) = data_dir();
    let id = submit(&data, "a kite", &[]);
    let none = cli(&data, &["run"]);
    assert_eq!(none.code, 2);
    assert!(none.err.contains("backends add"), "{}", none.err);
    let kind = cli(&data, &["run", "--kind", "a1111"]);
    assert_eq!(kind.code, 2, "{}", kind.err);
    let fake = FakeA1111::start(FakeOptions::default());
    let url = fake.url();
    let unknown = cli(
        &data,
        &["run", "--url", &url, "--kind", "a1111", "--job", "nope"],
    );
    assert_eq!(unknown.code, 2);
    assert!(unknown.err.contains("no job nope"), "{}", unknown.err);
    let no_kind = cli(&data, &["run", "--url", &url]);
    assert_eq!(no_kind.code, 2, "{}", no_kind.err);
    assert_eq!(job(&data, &id)["status"], "queued");
    assert!(fake.txt2img_bodies().is_empty());
    let requeue = cli(&data, &["requeue", &id]);
    assert_eq!(
        requeue.code, 2,
        "a queued job is not re-queued: {}",
        requeue.err
    );
}

/// Waits until `check` holds (the history is read by the CLI in-process).
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_runner_killed_mid_job_leaves_a_failed_job_that_one_command_requeues() {
    let (_tmp, data) = data_dir();
    let hung = FakeA1111::start(FakeOptions {
        txt2img: Txt2Img::Hang,
        ..FakeOptions::default()
    });
    let id = submit(&data, "a job that will be killed", &[]);
    let mut child = Command::new(BIN)
        .args(["--data-dir"])
        .arg(&data)
        .args(["run", "--url", &hung.url(), "--kind", "a1111"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the job to be running", || {
        job(&data, &id)["status"] == "running"
    });
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    assert_eq!(job(&data, &id)["status"], "running");

    let good = FakeA1111::start(FakeOptions::default());
    let run = cli(&data, &["run", "--url", &good.url(), "--kind", "a1111"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(
        run.err
            .contains("left running by a promptdesk that stopped"),
        "{}",
        run.err
    );
    let record = job(&data, &id);
    assert_eq!(record["status"], "failed");
    assert_eq!(
        record["error_message"],
        "interrupted: promptdesk stopped while it ran"
    );

    let requeue = cli(&data, &["requeue", &id]);
    assert_eq!(requeue.code, 0, "{}", requeue.err);
    let run = cli(&data, &["run", "--url", &good.url(), "--kind", "a1111"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let record = job(&data, &id);
    assert_eq!(record["status"], "completed");
    assert!(record.get("error_message").is_none_or(Value::is_null));
}

#[test]
fn a_server_that_is_down_is_waited_for_and_the_job_runs_once_it_is_up() {
    let (_tmp, data) = data_dir();
    let id = submit(&data, "patience", &[]);
    let port = fake_a1111::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .args(["--data-dir"])
        .arg(&data)
        .args([
            "run",
            "--url",
            &url,
            "--kind",
            "a1111",
            "--retry-secs",
            "0.2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let waiting = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a waiting message");
        if line.contains("waiting for") {
            break line;
        }
    };
    assert!(
        waiting.contains(&url),
        "the message names the URL: {waiting}"
    );
    assert_eq!(
        job(&data, &id)["status"],
        "queued",
        "the job stays queued meanwhile"
    );
    let _fake = FakeA1111::start_on(port, FakeOptions::default()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.starts_with(&format!("{id}\tcompleted")), "{out}");
}

#[test]
fn a_backend_that_refuses_the_login_ends_the_run_with_exit_1_and_the_job_stays_queued() {
    let (_tmp, data) = data_dir();
    let fake = FakeA1111::start(FakeOptions {
        auth: Some(("me".into(), "right".into())),
        ..FakeOptions::default()
    });
    let id = submit(&data, "behind a login", &[]);
    let run = cli(
        &data,
        &[
            "run",
            "--url",
            &fake.url(),
            "--kind",
            "a1111",
            "--user",
            "me",
            "--password",
            "wrong",
        ],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.out, run.err);
    assert!(
        run.err.contains("check the user and password"),
        "{}",
        run.err
    );
    assert_eq!(
        job(&data, &id)["status"],
        "queued",
        "nothing ran, nothing is lost"
    );
    assert!(fake.txt2img_bodies().is_empty());
}

#[test]
fn a_workflow_never_replaces_a_different_one_with_the_same_name() {
    let (tmp, data) = data_dir();
    let fake = FakeComfyUi::start(fake_comfyui::FakeOptions::default());
    let url = fake.url();
    let original = format!("{WORKFLOWS}/placeholders.json");
    let add = |name: &str, wf: &str| {
        cli(
            &data,
            &[
                "backends",
                "add",
                name,
                "--kind",
                "comfyui",
                "--url",
                &url,
                "--workflow",
                wf,
            ],
        )
    };
    assert_eq!(add("one", &original).code, 0);
    // The same file again is fine.
    assert_eq!(add("two", &original).code, 0);
    let other = tmp.path().join("placeholders.json");
    let mut text = std::fs::read_to_string(&original).unwrap();
    text = text.replace("\"placeholders\"", "\"other\"");
    std::fs::write(&other, text).unwrap();
    let refused = add("three", other.to_str().unwrap());
    assert_eq!(refused.code, 2, "{}", refused.err);
    assert!(
        refused.err.contains("different workflow"),
        "{}",
        refused.err
    );
    assert_eq!(
        std::fs::read(data.join("workflows/placeholders.json")).unwrap(),
        std::fs::read(&original).unwrap(),
        "the workflow backend one uses is untouched"
    );
}
