//! The AUTOMATIC1111/Forge client against a fake A1111 server: what is sent, what comes
//! back, and every way a request can go wrong.

#[path = "support/fake_a1111.rs"]
mod fake_a1111;

use base64::Engine as _;
use fake_a1111::{FakeA1111, FakeModel, FakeOptions, Txt2Img, UnknownSampler, free_port};
use promptdesk_core::backends::a1111::{A1111, txt2img_payload};
use promptdesk_core::backends::{
    Backend, BackendConfig, BackendError, BackendKind, GenerateRequest, Generated, Progress,
    RunControl,
};
use promptdesk_core::outputs::{png_size, png_text};
use promptdesk_core::run_config::GenerationSettings;
use serde_json::json;
use std::time::{Duration, Instant};

const TXT2IMG: &str = "/sdapi/v1/txt2img";

fn client(url: &str) -> A1111 {
    A1111::new(BackendConfig::new("gpu1", BackendKind::A1111, url))
}

fn client_with_login(url: &str, user: &str, password: &str) -> A1111 {
    let mut c = BackendConfig::new("gpu1", BackendKind::A1111, url);
    c.user = Some(user.into());
    c.password = Some(password.into());
    A1111::new(c)
}

fn settings() -> GenerationSettings {
    GenerationSettings {
        model: String::new(),
        sampler: "DPM++ 2M".into(),
        scheduler: "Karras".into(),
        steps: 4,
        cfg_scale: 6.5,
        width: 64,
        height: 48,
        seed: 1234,
        batch_size: 1,
        batch_count: 1,
        clip_skip: 2,
    }
}

fn control() -> RunControl {
    let mut c = RunControl::default();
    c.poll_interval = Duration::from_millis(20);
    c.stall_timeout = Duration::from_secs(10);
    c
}

fn run(backend: &A1111, s: &GenerationSettings) -> Result<Generated, BackendError> {
    run_with(backend, s, &control(), &mut |_| {})
}

fn run_with(
    backend: &A1111,
    s: &GenerationSettings,
    control: &RunControl,
    progress: &mut dyn FnMut(Progress),
) -> Result<Generated, BackendError> {
    let request = GenerateRequest {
        job_id: "job-1",
        prompt: "a lighthouse at dusk",
        negative_prompt: "blurry, lowres",
        settings: s,
    };
    backend.generate(&request, control, progress)
}

fn parameters_of(png: &[u8]) -> Option<String> {
    png_text(png)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == "parameters")
        .map(|(_, v)| v)
}

#[test]
fn the_request_carries_every_setting_and_the_server_s_model_title() {
    let fake = FakeA1111::start(FakeOptions::default());
    let backend = client(&fake.url());
    let mut s = settings();
    s.model = "juggernautXL_v9".into();
    let generated = run(&backend, &s).unwrap();
    assert_eq!(generated.images.len(), 1);

    assert_eq!(fake.count("POST", TXT2IMG), 1);
    let bodies = fake.txt2img_bodies();
    assert_eq!(
        bodies[0],
        json!({
            "prompt": "a lighthouse at dusk",
            "negative_prompt": "blurry, lowres",
            "seed": 1234,
            "sampler_name": "DPM++ 2M",
            "scheduler": "Karras",
            "steps": 4,
            "cfg_scale": 6.5,
            "width": 64,
            "height": 48,
            "batch_size": 1,
            "n_iter": 1,
            "override_settings": {
                "sd_model_checkpoint": "SDXL/juggernautXL_v9.safetensors [a1b2c3d4e5]",
                "CLIP_stop_at_last_layers": 2,
                "samples_format": "png"
            },
            "override_settings_restore_afterwards": true,
            "send_images": true,
            "save_images": false,
        })
    );
    let post = &fake.requests_to("POST", TXT2IMG)[0];
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(post.header("authorization"), None);

    // The builder sends the model as named; with no model there is no checkpoint override.
    let mut s = settings();
    s.model = String::new();
    let request = GenerateRequest {
        job_id: "j",
        prompt: "p",
        negative_prompt: "",
        settings: &s,
    };
    assert_eq!(
        txt2img_payload(&request)["override_settings"],
        json!({"CLIP_stop_at_last_layers": 2, "samples_format": "png"})
    );
    run(&backend, &s).unwrap();
    let last = fake.txt2img_bodies().pop().unwrap();
    assert_eq!(
        last["override_settings"],
        json!({"CLIP_stop_at_last_layers": 2, "samples_format": "png"})
    );
}

#[test]
fn batch_2_by_2_maps_four_images_to_their_seeds_past_the_grid() {
    let fake = FakeA1111::start(FakeOptions {
        return_grid: true,
        extra_images: 1,
        random_seed: 5000,
        ..FakeOptions::default()
    });
    let backend = client(&fake.url());
    let mut s = settings();
    s.seed = -1;
    s.batch_size = 2;
    s.batch_count = 2;
    let generated = run(&backend, &s).unwrap();

    let seeds: Vec<i64> = generated.images.iter().map(|i| i.seed).collect();
    assert_eq!(seeds, [5000, 5001, 5002, 5003]);
    for image in &generated.images {
        assert_eq!(png_size(&image.bytes).unwrap(), (64, 48));
        // The PNG carries A1111's own parameters with this image's seed: kept as it is.
        let own = parameters_of(&image.bytes).unwrap();
        assert!(own.contains(&format!("Seed: {}", image.seed)), "{own}");
        assert_eq!(image.parameters, None);
    }
    assert_eq!(
        generated.model_name.as_deref(),
        Some("sd_xl_base_1.0"),
        "the loaded model, as info names it"
    );
    assert_eq!(generated.model_hash.as_deref(), Some("31e35c80fc"));
    assert!(generated.warnings.is_empty(), "{:?}", generated.warnings);
    let body = &fake.txt2img_bodies()[0];
    assert_eq!(
        (body["batch_size"].clone(), body["n_iter"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(body["seed"], json!(-1));
}

#[test]
fn images_without_a_parameters_chunk_get_their_infotext() {
    let fake = FakeA1111::start(FakeOptions {
        png_parameters: false,
        return_grid: true,
        ..FakeOptions::default()
    });
    let backend = client(&fake.url());
    let mut s = settings();
    s.batch_size = 2;
    let generated = run(&backend, &s).unwrap();
    assert_eq!(generated.images.len(), 2);
    for image in &generated.images {
        let text = image.parameters.as_deref().unwrap();
        assert!(text.starts_with("a lighthouse at dusk\nNegative prompt: blurry, lowres\n"));
        assert!(text.contains(&format!("Seed: {},", image.seed)), "{text}");
    }
    assert_eq!(generated.images[1].seed, 1235);
}

#[test]
fn progress_reports_advancing_steps_and_a_preview() {
    let fake = FakeA1111::start(FakeOptions {
        step_delay: Duration::from_millis(40),
        ..FakeOptions::default()
    });
    let backend = client(&fake.url());
    let mut s = settings();
    s.steps = 5;
    s.batch_count = 2;
    let mut seen: Vec<Progress> = Vec::new();
    let generated = run_with(&backend, &s, &control(), &mut |p| seen.push(p)).unwrap();
    assert_eq!(generated.images.len(), 2);

    let running: Vec<&Progress> = seen.iter().filter(|p| p.steps == 5).collect();
    let mut steps: Vec<u32> = running.iter().map(|p| p.step).collect();
    steps.dedup();
    assert!(steps.len() >= 3, "steps seen: {steps:?}");
    assert!(
        running.iter().any(|p| p.fraction > 0.5),
        "the second image's progress counts: {running:?}"
    );
    assert!(seen.iter().all(|p| (0.0..=1.0).contains(&p.fraction)));
    let preview = running
        .iter()
        .find_map(|p| p.preview.clone())
        .expect("a live preview");
    assert_eq!(png_size(&preview).unwrap(), (8, 8));
    let polls = fake.requests_to("GET", "/sdapi/v1/progress");
    assert!(polls.iter().all(|r| r.query == "skip_current_image=false"));
}

#[test]
fn cancel_interrupts_the_server_and_fails_as_interrupted() {
    let fake = FakeA1111::start(FakeOptions {
        step_delay: Duration::from_millis(50),
        ..FakeOptions::default()
    });
    let backend = client(&fake.url());
    let mut s = settings();
    s.steps = 100; // 5 s if not interrupted
    let control = control();
    let canceller = control.clone();
    let started = Instant::now();
    let result = run_with(&backend, &s, &control, &mut |p| {
        if p.step >= 2 {
            canceller.cancel();
        }
    });
    assert!(
        matches!(result, Err(BackendError::Interrupted { ref backend }) if backend == "gpu1"),
        "{result:?}"
    );
    assert_eq!(fake.interrupts(), 1);
    assert!(started.elapsed() < Duration::from_secs(4));
    // The client waited for the server to answer (with what it had) before returning.
    assert_eq!(fake.txt2img_answered(), 1);

    // Cancelled before anything was sent: nothing is sent.
    let before = fake.count("POST", TXT2IMG);
    let result = run_with(&backend, &s, &control, &mut |_| {});
    assert!(matches!(result, Err(BackendError::Interrupted { .. })));
    assert_eq!(fake.count("POST", TXT2IMG), before);
}

#[test]
fn a_refused_login_says_to_check_user_and_password_and_names_the_url() {
    let fake = FakeA1111::start(FakeOptions {
        auth: Some(("alice".into(), "s3cret".into())),
        ..FakeOptions::default()
    });
    for backend in [
        client(&fake.url()),
        client_with_login(&fake.url(), "alice", "wrong"),
    ] {
        let e = run(&backend, &settings()).unwrap_err();
        assert!(matches!(e, BackendError::Unauthorized { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("check the user and password"), "{text}");
        assert!(text.contains(&fake.url()), "{text}");
        assert!(!e.is_retryable());
        let e = backend.ping().unwrap_err();
        assert!(matches!(e, BackendError::Unauthorized { .. }), "{e:?}");
    }

    let backend = client_with_login(&fake.url(), "alice", "s3cret");
    backend.ping().unwrap();
    assert_eq!(run(&backend, &settings()).unwrap().images.len(), 1);
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
    );
    let post = fake.requests_to("POST", TXT2IMG).pop().unwrap();
    assert_eq!(post.header("authorization"), Some(expected.as_str()));
}

#[test]
fn out_of_memory_fails_with_the_server_s_text() {
    let fake = FakeA1111::start(FakeOptions {
        txt2img: Txt2Img::OutOfMemory,
        ..FakeOptions::default()
    });
    let e = run(&client(&fake.url()), &settings()).unwrap_err();
    match &e {
        BackendError::OutOfMemory { backend, message } => {
            assert_eq!(backend, "gpu1");
            assert!(
                message.contains("CUDA out of memory. Tried to allocate 20.00 MiB"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.is_retryable());
}

#[test]
fn a_server_that_is_down_is_unreachable_and_retryable_until_it_comes_back() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let backend = client(&url);
    let check = |e: BackendError| {
        assert!(matches!(e, BackendError::Unreachable { .. }), "{e:?}");
        assert!(e.is_retryable());
        assert!(e.to_string().contains(&url), "{e}");
    };
    check(backend.ping().unwrap_err());
    check(backend.catalogues().unwrap_err());
    check(run(&backend, &settings()).unwrap_err());

    let fake = FakeA1111::start_on(port, FakeOptions::default()).unwrap();
    backend.ping().unwrap();
    assert_eq!(run(&backend, &settings()).unwrap().images.len(), 1);
    assert_eq!(fake.count("POST", TXT2IMG), 1);
}

#[test]
fn a_stalled_server_is_interrupted_and_the_request_fails_as_stalled() {
    let fake = FakeA1111::start(FakeOptions {
        txt2img: Txt2Img::Hang,
        ..FakeOptions::default()
    });
    let backend = client(&fake.url());
    let mut control = control();
    control.stall_timeout = Duration::from_secs(1);
    control.poll_interval = Duration::from_millis(100);
    let started = Instant::now();
    let mut seen = 0;
    let result = run_with(&backend, &settings(), &control, &mut |_| seen += 1);
    let took = started.elapsed();
    match &result {
        Err(BackendError::Stalled { backend, secs }) => {
            assert_eq!(backend, "gpu1");
            assert!(*secs >= 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(result.unwrap_err().to_string().contains("stalled"));
    assert_eq!(fake.interrupts(), 1);
    assert!(seen > 0, "the stuck progress was still reported");
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(
        took < Duration::from_secs(8),
        "the hung call was not waited for: {took:?}"
    );
}

#[test]
fn a_cut_short_answer_is_malformed_and_names_the_url() {
    let fake = FakeA1111::start(FakeOptions {
        txt2img: Txt2Img::Truncated,
        ..FakeOptions::default()
    });
    let e = run(&client(&fake.url()), &settings()).unwrap_err();
    assert!(matches!(e, BackendError::Malformed { .. }), "{e:?}");
    assert!(
        e.to_string().contains(&format!("{}{TXT2IMG}", fake.url())),
        "{e}"
    );
    assert!(!e.is_retryable());
}

#[test]
fn answers_that_cannot_be_read_are_malformed_never_a_panic() {
    let fake = FakeA1111::start(FakeOptions {
        txt2img: Txt2Img::MalformedJson,
        ..FakeOptions::default()
    });
    let backend = client(&fake.url());
    let e = run(&backend, &settings()).unwrap_err();
    assert!(matches!(e, BackendError::Malformed { .. }), "{e:?}");
    assert!(e.to_string().contains(TXT2IMG), "{e}");

    let png = base64::engine::general_purpose::STANDARD.encode(fake_a1111::png(
        2,
        2,
        [0, 0, 0],
        Some("x"),
    ));
    let bodies = [
        // info is not a JSON string
        json!({"images": [png], "parameters": {}, "info": 17}).to_string(),
        // info is a string but not JSON
        json!({"images": [png], "parameters": {}, "info": "Steps: 20"}).to_string(),
        // fewer images than seeds
        json!({"images": [png], "parameters": {}, "info": json!({"all_seeds": [1, 2], "index_of_first_image": 0}).to_string()}).to_string(),
        // an image that is not base64
        json!({"images": ["not base64!"], "parameters": {}, "info": json!({"all_seeds": [1]}).to_string()}).to_string(),
        // no images at all
        json!({"parameters": {}, "info": "{}"}).to_string(),
    ];
    for body in bodies {
        fake.update(|o| {
            o.txt2img = Txt2Img::Respond {
                status: 200,
                body: body.clone(),
            }
        });
        let e = run(&backend, &settings()).unwrap_err();
        assert!(matches!(e, BackendError::Malformed { .. }), "{body}: {e:?}");
        assert!(e.to_string().contains(TXT2IMG), "{e}");
    }
}

#[test]
fn catalogues_list_models_samplers_and_scheduler_labels() {
    let fake = FakeA1111::start(FakeOptions::default());
    let cats = client(&fake.url()).catalogues().unwrap();
    assert_eq!(cats.models.len(), 2);
    let jugg = &cats.models[1];
    assert_eq!(jugg.title, "SDXL/juggernautXL_v9.safetensors [a1b2c3d4e5]");
    assert_eq!(jugg.name, "juggernautXL_v9");
    assert_eq!(jugg.hash.as_deref(), Some("a1b2c3d4e5"));
    assert!(cats.samplers.iter().any(|s| s == "DPM++ 2M"));
    assert!(cats.samplers.iter().any(|s| s == "Euler a"));
    assert!(cats.schedulers.iter().any(|s| s == "Karras"));
    assert!(cats.schedulers.iter().any(|s| s == "Automatic"));
    assert!(
        !cats.schedulers.iter().any(|s| s == "karras"),
        "labels, not names"
    );

    // Before A1111 1.9 there is no scheduler list: none, and no error.
    let old = FakeA1111::start(FakeOptions {
        schedulers: None,
        ..FakeOptions::default()
    });
    let cats = client(&old.url()).catalogues().unwrap();
    assert!(cats.schedulers.is_empty());
    assert!(!cats.models.is_empty());
}

#[test]
fn a_server_before_1_9_gets_the_old_combined_sampler_name() {
    let mut options = FakeOptions {
        schedulers: None,
        ..FakeOptions::default()
    };
    options
        .samplers
        .push(("DPM++ 2M Karras".into(), vec!["k_dpmpp_2m_ka".into()]));
    let fake = FakeA1111::start(options);
    let backend = client(&fake.url());
    let generated = run(&backend, &settings()).unwrap();
    assert_eq!(fake.txt2img_bodies()[0]["sampler_name"], "DPM++ 2M Karras");
    assert!(generated.warnings.is_empty(), "{:?}", generated.warnings);

    // Already combined: sent as it is.
    let mut s = settings();
    s.sampler = "DPM++ 2M Karras".into();
    let generated = run(&backend, &s).unwrap();
    assert_eq!(fake.txt2img_bodies()[1]["sampler_name"], "DPM++ 2M Karras");
    assert!(generated.warnings.is_empty(), "{:?}", generated.warnings);

    // No combined name for it: the scheduler cannot be applied, and the user is told.
    s.sampler = "Euler a".into();
    let generated = run(&backend, &s).unwrap();
    assert_eq!(fake.txt2img_bodies()[2]["sampler_name"], "Euler a");
    assert_eq!(generated.warnings.len(), 1, "{:?}", generated.warnings);
    assert!(
        generated.warnings[0].contains("\"Karras\""),
        "{:?}",
        generated.warnings
    );
}

#[test]
fn a_sampler_the_server_does_not_know_is_a_warning_or_its_refusal() {
    // A1111 1.10 falls back to Euler and says so in info.
    let fake = FakeA1111::start(FakeOptions::default());
    let backend = client(&fake.url());
    let mut s = settings();
    s.sampler = "Fancy Sampler".into();
    let generated = run(&backend, &s).unwrap();
    assert_eq!(generated.images.len(), 1);
    assert_eq!(generated.warnings.len(), 1, "{:?}", generated.warnings);
    let w = &generated.warnings[0];
    assert!(
        w.contains("\"Euler\"") && w.contains("\"Fancy Sampler\""),
        "{w}"
    );

    // Known samplers by alias, any case, or an old combined name: no warning.
    for name in ["euler a", "k_euler_a", "DPM++ 2M Karras"] {
        s.sampler = name.into();
        let generated = run(&backend, &s).unwrap();
        assert!(
            generated.warnings.is_empty(),
            "{name}: {:?}",
            generated.warnings
        );
    }

    // Older versions refuse it.
    fake.update(|o| o.unknown_sampler = UnknownSampler::NotFound);
    s.sampler = "Fancy Sampler".into();
    let e = run(&backend, &s).unwrap_err();
    match &e {
        BackendError::Rejected {
            status, message, ..
        } => {
            assert_eq!(*status, 404);
            assert_eq!(message, "Sampler not found");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_model_is_refused_before_anything_is_sent() {
    let fake = FakeA1111::start(FakeOptions::default());
    let backend = client(&fake.url());
    let mut s = settings();
    s.model = "dreamshaper_8".into();
    let e = run(&backend, &s).unwrap_err();
    match &e {
        BackendError::Config { backend, reason } => {
            assert_eq!(backend, "gpu1");
            assert!(reason.contains("\"dreamshaper_8\""), "{reason}");
            assert!(
                reason.contains("sd_xl_base_1.0.safetensors [31e35c80fc]"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.count("POST", TXT2IMG), 0);

    // Models match by file name, with or without folder and extension, and by hash.
    for name in [
        "sd_xl_base_1.0",
        "sd_xl_base_1.0.safetensors",
        "SDXL/juggernautXL_v9.safetensors",
        "a1b2c3d4e5",
    ] {
        s.model = name.into();
        run(&backend, &s).unwrap();
    }
    let sent: Vec<String> = fake
        .txt2img_bodies()
        .iter()
        .map(|b| {
            b["override_settings"]["sd_model_checkpoint"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        sent,
        [
            "sd_xl_base_1.0.safetensors [31e35c80fc]",
            "sd_xl_base_1.0.safetensors [31e35c80fc]",
            "SDXL/juggernautXL_v9.safetensors [a1b2c3d4e5]",
            "SDXL/juggernautXL_v9.safetensors [a1b2c3d4e5]",
        ]
    );
}

#[test]
fn a_model_added_after_the_lists_were_read_is_found() {
    let fake = FakeA1111::start(FakeOptions::default());
    let backend = client(&fake.url());
    backend.catalogues().unwrap();
    fake.update(|o| {
        o.models
            .push(FakeModel::new("dreamshaper_8.safetensors", "879db523c3"))
    });
    let mut s = settings();
    s.model = "dreamshaper_8".into();
    let generated = run(&backend, &s).unwrap();
    assert_eq!(generated.model_name.as_deref(), Some("dreamshaper_8"));
    assert_eq!(
        fake.txt2img_bodies()[0]["override_settings"]["sd_model_checkpoint"],
        "dreamshaper_8.safetensors [879db523c3]"
    );
}

#[test]
fn lists_that_cannot_be_read_do_not_stop_a_request() {
    let fake = FakeA1111::start(FakeOptions {
        broken_catalogues: true,
        ..FakeOptions::default()
    });
    let backend = client(&fake.url());
    assert!(matches!(
        backend.catalogues(),
        Err(BackendError::Rejected { status: 500, .. })
    ));
    let mut s = settings();
    s.model = "whatever_the_user_typed".into();
    run(&backend, &s).unwrap();
    assert_eq!(
        fake.txt2img_bodies()[0]["override_settings"]["sd_model_checkpoint"],
        "whatever_the_user_typed"
    );
}

#[test]
fn images_finished_before_a_cancel_are_kept() {
    let fake = FakeA1111::start(FakeOptions {
        step_delay: Duration::from_millis(30),
        ..FakeOptions::default()
    });
    let backend = client(&fake.url());
    let mut s = settings();
    s.steps = 4;
    s.batch_size = 1;
    s.batch_count = 4;
    s.seed = 500;
    let control = control();
    let canceller = control.clone();
    // Cancel once the second batch is under way (the first one is finished).
    let result = run_with(&backend, &s, &control, &mut |p| {
        if p.fraction >= 0.3 {
            canceller.cancel();
        }
    });
    let generated = result.expect("the finished images come back");
    assert!(
        matches!(
            generated.ended_early,
            Some(BackendError::Interrupted { .. })
        ),
        "{:?}",
        generated.ended_early
    );
    let seeds: Vec<i64> = generated.images.iter().map(|i| i.seed).collect();
    assert!(!seeds.is_empty() && seeds.len() < 4, "{seeds:?}");
    assert_eq!(seeds[0], 500);
    assert_eq!(fake.interrupts(), 1);
}

#[test]
fn a_model_with_the_same_name_but_another_hash_runs_with_a_warning() {
    let fake = FakeA1111::start(FakeOptions::default());
    let backend = client(&fake.url());
    let mut s = settings();
    s.model = "juggernautXL_v9.safetensors [ffff0000]".into();
    let generated = run(&backend, &s).unwrap();
    assert_eq!(
        fake.txt2img_bodies()[0]["override_settings"]["sd_model_checkpoint"],
        "SDXL/juggernautXL_v9.safetensors [a1b2c3d4e5]"
    );
    let warning = generated.warnings.join("\n");
    assert!(warning.contains("[a1b2c3d4e5]"), "{warning}");
    // The same hash, shorter or longer, is no warning.
    s.model = "juggernautXL_v9.safetensors [a1b2c3d4]".into();
    let generated = run(&backend, &s).unwrap();
    assert!(
        generated.warnings.iter().all(|w| !w.contains("hash")),
        "{:?}",
        generated.warnings
    );
}
