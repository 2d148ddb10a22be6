//! The ComfyUI client against a fake ComfyUI (tests/support/fake_comfyui.rs), and user
//! workflows (tests/fixtures/workflows/) taking a job's values.

extern crate promptdesk_core as promptdesk;

#[path = "support/fake_comfyui.rs"]
mod fake_comfyui;

use fake_comfyui::{Behaviour, FakeComfyUi, FakeOptions, HistoryAnswer, ObjectInfoFormat};
use promptdesk::GenerationSettings;
use promptdesk::backends::comfyui::ComfyUi;
use promptdesk::backends::workflow::{Workflow, WorkflowValues};
use promptdesk::backends::{
    Backend, BackendConfig, BackendError, BackendKind, GenerateRequest, Generated, Progress,
    RunControl,
};
use promptdesk::outputs::png_text;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/workflows")
        .join(name)
}

fn values() -> WorkflowValues {
    WorkflowValues {
        prompt: "a lighthouse in a storm".into(),
        negative_prompt: "text, frame".into(),
        seed: 3_000_000_001,
        steps: 24,
        cfg: 5.5,
        sampler: "dpmpp_2m_sde".into(),
        scheduler: "karras".into(),
        width: 768,
        height: 1344,
        batch_size: 3,
        model: "SDXL/juggernautXL_v9.safetensors".into(),
        clip_skip: 2,
    }
}

fn settings() -> GenerationSettings {
    GenerationSettings {
        model: String::new(),
        sampler: "DPM++ 2M".into(),
        scheduler: "Karras".into(),
        steps: 12,
        cfg_scale: 6.0,
        width: 832,
        height: 1216,
        seed: 1234,
        batch_size: 1,
        batch_count: 1,
        clip_skip: 1,
    }
}

fn control() -> RunControl {
    let mut c = RunControl::default();
    c.stall_timeout = Duration::from_secs(5);
    c.poll_interval = Duration::from_millis(40);
    c
}

fn config(url: &str) -> BackendConfig {
    BackendConfig::new("gpu-box", BackendKind::ComfyUi, url)
}

fn client(fake: &FakeComfyUi) -> ComfyUi {
    ComfyUi::new(config(&fake.url()), Path::new("/nonexistent")).unwrap()
}

/// Runs one request; the result and every progress report.
fn generate(
    comfy: &ComfyUi,
    settings: &GenerationSettings,
    control: &RunControl,
    on_progress: impl Fn(&Progress, &RunControl),
) -> (Result<Generated, BackendError>, Vec<Progress>) {
    let request = GenerateRequest {
        job_id: "job-1",
        prompt: "a red fox in the snow",
        negative_prompt: "blurry",
        settings,
    };
    let mut seen = Vec::new();
    let result = comfy.generate(&request, control, &mut |p| {
        on_progress(&p, control);
        seen.push(p);
    });
    (result, seen)
}

/// The graph of each prompt sent.
fn graphs(fake: &FakeComfyUi) -> Vec<Value> {
    fake.prompts()
        .into_iter()
        .map(|b| b["prompt"].clone())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Workflows

#[test]
fn graph_walking_places_values_in_a_user_workflow_with_ksampler() {
    let wf = Workflow::load(&fixture("lora_ksampler.json")).unwrap();
    assert!(wf.takes_model() && !wf.needs_model());
    let g = wf.fill(&values()).unwrap();
    let k = &g["30"]["inputs"];
    assert_eq!(k["seed"], json!(3_000_000_001_i64));
    assert_eq!(k["steps"], json!(24));
    assert_eq!(k["cfg"], json!(5.5));
    assert_eq!(k["sampler_name"], "dpmpp_2m_sde");
    assert_eq!(k["scheduler"], "karras");
    assert_eq!(k["denoise"], json!(1), "other inputs are kept");
    assert_eq!(g["12"]["inputs"]["text"], "a lighthouse in a storm");
    assert_eq!(g["13"]["inputs"]["text"], "text, frame");
    assert_eq!(
        g["20"]["inputs"],
        json!({"width": 768, "height": 1344, "batch_size": 3})
    );
    assert_eq!(
        g["1"]["inputs"]["ckpt_name"], "SDXL/juggernautXL_v9.safetensors",
        "the loader behind the LoRA gets the model"
    );
    assert_eq!(g["3"]["inputs"]["stop_at_clip_layer"], json!(-2));
    // The LoRA, the decoder and the output node are as the user made them.
    let original: Value =
        serde_json::from_slice(&std::fs::read(fixture("lora_ksampler.json")).unwrap()).unwrap();
    for id in ["2", "40", "50"] {
        assert_eq!(g[id], original[id], "node {id}");
    }
    // No model given: the workflow's own checkpoint stays.
    let mut v = values();
    v.model.clear();
    let g = wf.fill(&v).unwrap();
    assert_eq!(g["1"]["inputs"]["ckpt_name"], "sd_xl_base_1.0.safetensors");
    assert_eq!(
        Workflow::checkpoint(&g).as_deref(),
        Some("sd_xl_base_1.0.safetensors")
    );
}

#[test]
fn graph_walking_places_values_in_a_workflow_with_ksampler_advanced_and_a_controlnet() {
    let wf = Workflow::load(&fixture("advanced_controlnet.json")).unwrap();
    let g = wf.fill(&values()).unwrap();
    let k = &g["11"]["inputs"];
    assert_eq!(k["noise_seed"], json!(3_000_000_001_i64));
    assert!(
        k.get("seed").is_none(),
        "KSamplerAdvanced has no seed input"
    );
    assert_eq!(k["steps"], json!(24));
    assert_eq!(k["cfg"], json!(5.5));
    assert_eq!(k["sampler_name"], "dpmpp_2m_sde");
    assert_eq!(k["scheduler"], "karras");
    assert_eq!(k["end_at_step"], json!(10000));
    // Through ControlNetApplyAdvanced: positive to 5, negative to 6.
    assert_eq!(g["5"]["inputs"]["text"], "a lighthouse in a storm");
    assert_eq!(g["6"]["inputs"]["text"], "text, frame");
    assert_eq!(g["10"]["inputs"]["width"], json!(768));
    assert_eq!(g["10"]["inputs"]["batch_size"], json!(3));
    assert_eq!(
        g["1"]["inputs"]["ckpt_name"],
        "SDXL/juggernautXL_v9.safetensors"
    );
    assert_eq!(g["8"]["inputs"]["image"], "edges.png");
}

#[test]
fn placeholders_in_a_workflow_file_are_replaced_with_numbers_as_numbers() {
    let wf = Workflow::load(&fixture("placeholders.json")).unwrap();
    assert!(wf.needs_model());
    let g = wf.fill(&values()).unwrap();
    let k = &g["3"]["inputs"];
    assert_eq!(k["seed"], json!(3_000_000_001_i64));
    assert!(k["seed"].is_number() && k["steps"].is_number() && k["cfg"].is_number());
    assert_eq!(k["steps"], json!(24));
    assert_eq!(k["cfg"], json!(5.5));
    assert_eq!(k["sampler_name"], "dpmpp_2m_sde");
    assert_eq!(k["scheduler"], "karras");
    assert_eq!(
        g["5"]["inputs"],
        json!({"width": 768, "height": 1344, "batch_size": 3})
    );
    assert_eq!(g["6"]["inputs"]["text"], "a lighthouse in a storm");
    assert_eq!(g["7"]["inputs"]["text"], "text, frame");
    assert_eq!(
        g["4"]["inputs"]["ckpt_name"],
        "SDXL/juggernautXL_v9.safetensors"
    );
    assert!(!g.to_string().contains("{{"), "{g}");
}

#[test]
fn unusable_workflows_are_refused_naming_the_file_and_why() {
    let e = Workflow::load(&fixture("ui_format.json")).unwrap_err();
    assert!(e.contains("ui_format.json"), "{e}");
    assert!(e.contains("UI format") && e.contains("Export (API)"), "{e}");

    let e = Workflow::load(&fixture("no_output.json")).unwrap_err();
    assert!(e.contains("no_output.json"), "{e}");
    assert!(e.contains("SaveImage") && e.contains("PreviewImage"), "{e}");

    let e = Workflow::load(&fixture("missing.json")).unwrap_err();
    assert!(e.contains("missing.json"), "{e}");

    // The client fails early, at connect, with a Config error naming the file.
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("workflows");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("ui_format.json"), dir.join("exported.json")).unwrap();
    std::fs::write(dir.join("broken.json"), "{\"3\": {").unwrap();
    let mut c = config("http://127.0.0.1:9");
    c.workflow = Some("exported.json".into());
    let e = promptdesk::backends::connect(&c, data.path())
        .err()
        .unwrap();
    assert!(
        matches!(&e, BackendError::Config { reason, .. } if reason.contains("exported.json") && reason.contains("Export (API)")),
        "{e}"
    );
    c.workflow = Some("broken.json".into());
    let e = promptdesk::backends::connect(&c, data.path())
        .err()
        .unwrap();
    assert!(
        matches!(&e, BackendError::Config { reason, .. } if reason.contains("broken.json") && reason.contains("JSON")),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------
// Generating

#[test]
fn a_full_generate_sends_our_ids_reports_progress_and_fetches_the_images() {
    let fake = FakeComfyUi::start(FakeOptions {
        steps: 4,
        subfolder: "day 1&2".into(),
        ..FakeOptions::default()
    });
    let comfy = client(&fake);
    let mut s = settings();
    s.model = "juggernautXL_v9".into();
    s.batch_size = 2;
    s.clip_skip = 2;
    let (result, seen) = generate(&comfy, &s, &control(), |_, _| {});
    let generated = result.unwrap();

    // One prompt, with our client id and our prompt id, ComfyUI's names and the model.
    let bodies = fake.prompts();
    assert_eq!(bodies.len(), 1);
    let body = &bodies[0];
    let prompt_id = body["prompt_id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(prompt_id).is_ok(), "{prompt_id}");
    let client_id = body["client_id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(client_id).is_ok(), "{client_id}");
    let ws = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/ws")
        .expect("the progress socket was opened");
    assert!(
        ws.query
            .iter()
            .any(|(k, v)| k == "clientId" && v == client_id),
        "{:?}",
        ws.query
    );
    let g = &body["prompt"];
    assert_eq!(g["3"]["inputs"]["seed"], json!(1234));
    assert_eq!(g["3"]["inputs"]["sampler_name"], "dpmpp_2m");
    assert_eq!(g["3"]["inputs"]["scheduler"], "karras");
    assert_eq!(g["3"]["inputs"]["steps"], json!(12));
    assert_eq!(g["3"]["inputs"]["cfg"], json!(6.0));
    assert_eq!(g["6"]["inputs"]["text"], "a red fox in the snow");
    assert_eq!(g["7"]["inputs"]["text"], "blurry");
    assert_eq!(g["5"]["inputs"]["batch_size"], json!(2));
    assert_eq!(g["10"]["inputs"]["stop_at_clip_layer"], json!(-2));
    assert_eq!(
        g["4"]["inputs"]["ckpt_name"],
        "SDXL/juggernautXL_v9.safetensors"
    );

    // Progress steps and a preview reached the callback, in order.
    // (A preview frame read together with a step is reported with it.)
    let mut steps: Vec<(u32, u32)> = seen
        .iter()
        .filter(|p| p.steps > 0)
        .map(|p| (p.step, p.steps))
        .collect();
    steps.dedup();
    // Steps arrive in order and reach the end; the first one can be sent before the client
    // has matched the socket to its prompt (a busy machine), so it may be missing.
    assert!(steps.windows(2).all(|w| w[0].0 < w[1].0), "{steps:?}");
    assert_eq!(steps.last(), Some(&(4, 4)), "{steps:?}");
    assert!(steps.len() >= 3, "{steps:?}");
    let preview = seen
        .iter()
        .find_map(|p| p.preview.clone())
        .expect("a preview");
    assert!(preview.starts_with(b"\x89PNG"));
    assert!(seen.windows(2).all(|w| w[0].fraction <= w[1].fraction));
    assert_eq!(seen.last().unwrap().fraction, 1.0);

    // The two images of the batch were fetched with /view (subfolder URL-encoded).
    assert_eq!(generated.images.len(), 2);
    assert_eq!(fake.count("GET", "/view"), 2);
    let files = fake.files();
    for image in &generated.images {
        assert_eq!(image.seed, 1234);
        assert!(files.values().any(|b| *b == image.bytes));
        let texts = png_text(&image.bytes).unwrap();
        assert!(texts.iter().any(|(k, _)| k == "prompt"), "{texts:?}");
        assert!(!texts.iter().any(|(k, _)| k == "parameters"));
        let parameters = image.parameters.as_deref().unwrap();
        assert!(parameters.starts_with("a red fox in the snow\nNegative prompt: blurry\n"));
        assert!(parameters.contains("Seed: 1234"), "{parameters}");
        assert!(parameters.contains("Sampler: DPM++ 2M"), "{parameters}");
        assert!(parameters.contains("Schedule type: Karras"), "{parameters}");
        assert!(parameters.contains("Clip skip: 2"), "{parameters}");
        assert!(
            parameters.contains("Model: SDXL_juggernautXL_v9"),
            "{parameters}"
        );
    }
    assert!(
        fake.requests()
            .iter()
            .filter(|r| r.path == "/view")
            .all(|r| r.query.contains(&("subfolder".into(), "day 1&2".into())))
    );
    assert_eq!(
        generated.model_name.as_deref(),
        Some("SDXL/juggernautXL_v9.safetensors")
    );
    assert!(generated.warnings.is_empty(), "{:?}", generated.warnings);
    // The history was asked for our prompt id.
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.path == format!("/history/{prompt_id}"))
    );
}

#[test]
fn batch_count_sends_one_prompt_per_seed_and_a_random_seed_is_recorded() {
    let fake = FakeComfyUi::default();
    let comfy = client(&fake);
    let mut s = settings();
    s.seed = 77;
    s.batch_count = 2;
    let (result, seen) = generate(&comfy, &s, &control(), |_, _| {});
    let generated = result.unwrap();
    let seeds: Vec<Value> = graphs(&fake)
        .iter()
        .map(|g| g["3"]["inputs"]["seed"].clone())
        .collect();
    assert_eq!(seeds, [json!(77), json!(78)]);
    let ids: Vec<Value> = fake
        .prompts()
        .iter()
        .map(|b| b["prompt_id"].clone())
        .collect();
    assert_ne!(ids[0], ids[1]);
    let image_seeds: Vec<i64> = generated.images.iter().map(|i| i.seed).collect();
    assert_eq!(image_seeds, [77, 78]);
    assert!(
        generated.images[1]
            .parameters
            .as_deref()
            .unwrap()
            .contains("Seed: 78")
    );
    // The empty model took the server's first checkpoint.
    assert_eq!(
        graphs(&fake)[0]["4"]["inputs"]["ckpt_name"],
        "sd_xl_base_1.0.safetensors"
    );
    assert_eq!(
        generated.model_name.as_deref(),
        Some("sd_xl_base_1.0.safetensors")
    );
    // Fractions cover both prompts.
    assert!(seen.iter().any(|p| p.fraction > 0.0 && p.fraction < 0.5));
    assert!(seen.iter().any(|p| p.fraction > 0.5 && p.fraction < 1.0));

    // Seed -1: one random seed in 0..2^32, sent and recorded.
    s.seed = -1;
    s.batch_count = 1;
    let generated = generate(&comfy, &s, &control(), |_, _| {}).0.unwrap();
    let sent = graphs(&fake)[2]["3"]["inputs"]["seed"].as_i64().unwrap();
    assert!((0..1_i64 << 32).contains(&sent), "{sent}");
    assert_eq!(generated.images[0].seed, sent);
    assert!(
        generated.images[0]
            .parameters
            .as_deref()
            .unwrap()
            .contains(&format!("Seed: {sent}"))
    );
}

#[test]
fn a_user_workflow_from_the_data_folder_runs_with_the_job_values() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("workflows");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("lora_ksampler.json"), dir.join("castle.json")).unwrap();
    let fake = FakeComfyUi::default();
    let mut c = config(&fake.url());
    c.workflow = Some("castle.json".into());
    let comfy = promptdesk::backends::connect(&c, data.path()).unwrap();
    let request = GenerateRequest {
        job_id: "job-2",
        prompt: "a castle",
        negative_prompt: "",
        settings: &settings(),
    };
    let generated = comfy.generate(&request, &control(), &mut |_| {}).unwrap();
    assert_eq!(generated.images.len(), 1);
    let g = &graphs(&fake)[0];
    assert_eq!(g["30"]["inputs"]["seed"], json!(1234));
    assert_eq!(g["12"]["inputs"]["text"], "a castle");
    assert_eq!(g["13"]["inputs"]["text"], "");
    assert_eq!(g["2"]["class_type"], "LoraLoader");
    // The workflow's own checkpoint, reported as the model used.
    assert_eq!(
        generated.model_name.as_deref(),
        Some("sd_xl_base_1.0.safetensors")
    );
    assert!(
        generated.images[0]
            .parameters
            .as_deref()
            .unwrap()
            .contains("Model: sd_xl_base_1.0")
    );
    let view = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/view")
        .unwrap();
    assert!(
        view.query
            .iter()
            .any(|(k, v)| k == "filename" && v.starts_with("castle_"))
    );
}

#[test]
fn an_execution_error_fails_with_comfyui_s_message_and_out_of_memory_is_recognised() {
    let fake = FakeComfyUi::default();
    fake.set_behaviour(Behaviour::ExecutionError {
        exception_type: "RuntimeError".into(),
        message: "mat1 and mat2 shapes cannot be multiplied (154x2048 and 768x320)".into(),
    });
    let comfy = client(&fake);
    let (result, _) = generate(&comfy, &settings(), &control(), |_, _| {});
    match result {
        Err(BackendError::Execution { backend, message }) => {
            assert_eq!(backend, "gpu-box");
            assert!(message.contains("RuntimeError"), "{message}");
            assert!(message.contains("mat1 and mat2 shapes"), "{message}");
            assert!(message.contains("KSampler"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    fake.set_behaviour(Behaviour::OutOfMemory);
    let (result, _) = generate(&comfy, &settings(), &control(), |_, _| {});
    assert!(
        matches!(&result, Err(BackendError::OutOfMemory { message, .. }) if message.contains("OutOfMemoryError")),
        "{result:?}"
    );
}

#[test]
fn the_history_alone_reports_an_execution_error_when_there_is_no_socket() {
    let fake = FakeComfyUi::start(FakeOptions {
        websocket: false,
        behaviour: Behaviour::ExecutionError {
            exception_type: "ValueError".into(),
            message: "bad latent".into(),
        },
        ..FakeOptions::default()
    });
    let (result, _) = generate(&client(&fake), &settings(), &control(), |_, _| {});
    assert!(
        matches!(&result, Err(BackendError::Execution { message, .. }) if message.contains("ValueError: bad latent")),
        "{result:?}"
    );
}

#[test]
fn cancelling_a_running_prompt_interrupts_it() {
    let fake = FakeComfyUi::start(FakeOptions {
        steps: 200,
        step_delay: Duration::from_millis(10),
        ..FakeOptions::default()
    });
    let comfy = client(&fake);
    let started = Instant::now();
    let (result, _) = generate(&comfy, &settings(), &control(), |p, c| {
        if p.step >= 2 {
            c.cancel();
        }
    });
    assert!(
        matches!(result, Err(BackendError::Interrupted { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let prompt_id = fake.prompts()[0]["prompt_id"].clone();
    assert_eq!(
        fake.posts("/interrupt"),
        [json!({ "prompt_id": prompt_id })]
    );
    assert!(fake.posts("/queue").is_empty());
}

#[test]
fn cancelling_a_prompt_still_waiting_deletes_it_from_the_queue() {
    let fake = FakeComfyUi::start(FakeOptions {
        behaviour: Behaviour::StayQueued,
        ..FakeOptions::default()
    });
    let comfy = client(&fake);
    let mut ctl = control();
    // Waiting behind others is not a stall.
    ctl.stall_timeout = Duration::from_millis(150);
    let canceller = ctl.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        canceller.cancel();
    });
    let (result, _) = generate(&comfy, &settings(), &ctl, |_, _| {});
    t.join().unwrap();
    assert!(
        matches!(result, Err(BackendError::Interrupted { .. })),
        "{result:?}"
    );
    let prompt_id = fake.prompts()[0]["prompt_id"].clone();
    assert_eq!(fake.posts("/queue"), [json!({ "delete": [prompt_id] })]);
    // The interrupt names our prompt, so it can never stop someone else's.
    assert_eq!(
        fake.posts("/interrupt"),
        [json!({ "prompt_id": prompt_id })]
    );
}

#[test]
fn a_silent_running_prompt_is_interrupted_as_stalled() {
    let fake = FakeComfyUi::start(FakeOptions {
        behaviour: Behaviour::Hang,
        ..FakeOptions::default()
    });
    let comfy = client(&fake);
    let mut ctl = control();
    ctl.stall_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let (result, _) = generate(&comfy, &settings(), &ctl, |_, _| {});
    assert!(
        matches!(result, Err(BackendError::Stalled { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let prompt_id = fake.prompts()[0]["prompt_id"].clone();
    assert_eq!(
        fake.posts("/interrupt"),
        [json!({ "prompt_id": prompt_id })]
    );
}

#[test]
fn without_a_websocket_the_history_still_completes_the_request() {
    let fake = FakeComfyUi::start(FakeOptions {
        websocket: false,
        ..FakeOptions::default()
    });
    let comfy = client(&fake);
    let mut ctl = control();
    // A running prompt without a socket shows no progress: it is not a stall.
    ctl.stall_timeout = Duration::from_millis(250);
    fake.update(|o| {
        o.steps = 20;
        o.step_delay = Duration::from_millis(30);
    });
    let (result, seen) = generate(&comfy, &settings(), &ctl, |_, _| {});
    let generated = result.unwrap();
    assert_eq!(generated.images.len(), 1);
    assert!(fake.count("GET", "/history/") >= 2);
    assert_eq!(fake.sockets(), 0);
    assert!(seen.iter().all(|p| p.preview.is_none()));
    assert_eq!(seen.last().unwrap().fraction, 1.0);
}

#[test]
fn a_socket_lost_mid_run_and_a_late_history_entry_still_complete_the_request() {
    let fake = FakeComfyUi::start(FakeOptions {
        steps: 20,
        step_delay: Duration::from_millis(10),
        history_delay: Duration::from_millis(150),
        ..FakeOptions::default()
    });
    let comfy = client(&fake);
    let (result, seen) = generate(&comfy, &settings(), &control(), |p, _| {
        if p.step == 2 {
            fake.drop_sockets();
        }
    });
    let generated = result.unwrap();
    assert_eq!(generated.images.len(), 1);
    let last_step = seen.iter().map(|p| p.step).max().unwrap();
    assert!(
        last_step < 20,
        "no progress after the socket closed: {last_step}"
    );
    // A late entry after execution_success, with the socket open.
    fake.update(|o| o.steps = 2);
    let generated = generate(&comfy, &settings(), &control(), |_, _| {})
        .0
        .unwrap();
    assert_eq!(generated.images.len(), 1);
}

#[test]
fn a_socket_that_says_nothing_about_the_prompt_does_not_make_it_stall() {
    let fake = FakeComfyUi::start(FakeOptions {
        silent_socket: true,
        steps: 20,
        step_delay: Duration::from_millis(30),
        ..FakeOptions::default()
    });
    let mut ctl = control();
    ctl.stall_timeout = Duration::from_millis(250);
    let (result, _) = generate(&client(&fake), &settings(), &ctl, |_, _| {});
    assert_eq!(result.unwrap().images.len(), 1);
    assert!(fake.count("GET", "/queue") >= 2);
}

#[test]
fn a_validation_error_is_rejected_with_comfyui_s_message_and_node_errors() {
    let fake = FakeComfyUi::start(FakeOptions {
        behaviour: Behaviour::Reject,
        ..FakeOptions::default()
    });
    let (result, _) = generate(&client(&fake), &settings(), &control(), |_, _| {});
    match result {
        Err(BackendError::Rejected {
            status,
            message,
            url,
            ..
        }) => {
            assert_eq!(status, 400);
            assert!(url.ends_with("/prompt"), "{url}");
            assert!(
                message.contains("Prompt outputs failed validation"),
                "{message}"
            );
            assert!(
                message.contains("CheckpointLoaderSimple \"4\": Value not in list"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cut_short_or_malformed_history_answers_are_malformed_errors() {
    for answer in [HistoryAnswer::Truncated, HistoryAnswer::Malformed] {
        let fake = FakeComfyUi::start(FakeOptions {
            history: answer,
            ..FakeOptions::default()
        });
        let (result, _) = generate(&client(&fake), &settings(), &control(), |_, _| {});
        match result {
            Err(BackendError::Malformed { url, reason, .. }) => {
                assert!(url.contains("/history/"), "{url}");
                assert!(!reason.is_empty());
            }
            other => panic!("{answer:?}: {other:?}"),
        }
    }
}

#[test]
fn a_sampler_without_counterpart_or_an_unknown_model_is_refused_before_any_prompt() {
    let fake = FakeComfyUi::default();
    let comfy = client(&fake);
    let mut s = settings();
    s.sampler = "Restart".into();
    let (result, _) = generate(&comfy, &s, &control(), |_, _| {});
    assert!(
        matches!(&result, Err(BackendError::Config { reason, .. }) if reason.contains("Restart")),
        "{result:?}"
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());

    let mut s = settings();
    s.model = "dreamshaper_8".into();
    let (result, _) = generate(&comfy, &s, &control(), |_, _| {});
    assert!(
        matches!(&result, Err(BackendError::Config { reason, .. })
            if reason.contains("dreamshaper_8") && reason.contains("juggernautXL_v9")),
        "{result:?}"
    );
    assert!(fake.prompts().is_empty());
}

#[test]
fn no_model_and_no_checkpoints_on_the_server_is_refused() {
    let fake = FakeComfyUi::start(FakeOptions {
        checkpoints: vec![],
        ..FakeOptions::default()
    });
    let (result, _) = generate(&client(&fake), &settings(), &control(), |_, _| {});
    assert!(
        matches!(&result, Err(BackendError::Config { reason, .. }) if reason.contains("no checkpoints")),
        "{result:?}"
    );
    assert!(fake.prompts().is_empty());
}

// ---------------------------------------------------------------------------------------
// Catalogues and ping

#[test]
fn catalogues_are_read_in_both_object_info_formats_and_translated() {
    for format in [ObjectInfoFormat::Lists, ObjectInfoFormat::Combo] {
        let fake = FakeComfyUi::start(FakeOptions {
            object_info: format,
            ..FakeOptions::default()
        });
        let c = client(&fake).catalogues().unwrap();
        assert_eq!(
            c.samplers,
            [
                "Euler",
                "Euler a",
                "Heun",
                "DPM++ 2M",
                "DPM++ 2M SDE",
                "DPM++ SDE",
                "UniPC",
                "DDIM"
            ],
            "{format:?}"
        );
        assert_eq!(
            c.schedulers,
            [
                "Automatic",
                "Karras",
                "Exponential",
                "SGM Uniform",
                "Simple",
                "DDIM",
                "Beta"
            ],
            "{format:?}"
        );
        let models: Vec<(&str, &str)> = c
            .models
            .iter()
            .map(|m| (m.title.as_str(), m.name.as_str()))
            .collect();
        assert_eq!(
            models,
            [
                ("sd_xl_base_1.0.safetensors", "sd_xl_base_1.0"),
                ("SDXL/juggernautXL_v9.safetensors", "juggernautXL_v9")
            ]
        );
        assert!(c.models.iter().all(|m| m.hash.is_none()));
    }
}

#[test]
fn ping_answers_when_the_server_does_and_names_the_url_when_not() {
    let fake = FakeComfyUi::default();
    client(&fake).ping().unwrap();
    assert_eq!(fake.count("GET", "/system_stats"), 1);
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let comfy = ComfyUi::new(
        config(&format!("http://127.0.0.1:{dead}")),
        Path::new("/nonexistent"),
    )
    .unwrap();
    let e = comfy.ping().unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert!(e.to_string().contains(&dead.to_string()), "{e}");
    // A generate against a dead server is retryable too (nothing ran).
    let (result, _) = generate(&comfy, &settings(), &control(), |_, _| {});
    let e = result.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
}
