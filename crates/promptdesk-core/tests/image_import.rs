//! Images made elsewhere: their metadata read back (A1111/Forge in PNG tEXt and iTXt, JPEG
//! and WebP EXIF; ComfyUI's graph; InvokeAI; SwarmUI; promptdesk's own chunk), and folders of
//! them imported as completed jobs: idempotent by content, moved files keeping their jobs,
//! promptdesk's images linked to theirs, recursive or not, cancellable. Fixtures:
//! tests/fixtures/images (made by tests/support/image_fixtures.rs).

extern crate promptdesk_core as promptdesk;

#[path = "support/image_fixtures.rs"]
mod image_fixtures;

use image_fixtures as fx;
use promptdesk::history::{IMPORTED_FROM_KEY, seed_used};
use promptdesk::images::{
    IMAGE_INDEX_FILE_NAME, ImageFormat, ImportImagesError, ImportImagesOptions, ImportImagesPhase,
    ImportImagesReport, MetadataSource, NO_PARAMETERS, import_images, is_image_import,
    read_image_metadata,
};
use promptdesk::outputs::{JobResult, OutputImage};
use promptdesk::{HistoryStore, JobRecord, JobStatus, PromptSource, RunSource};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn fixtures_are_up_to_date() {
    let update = std::env::var_os("PROMPTDESK_UPDATE_FIXTURES").is_some();
    for (name, bytes) in fx::fixtures() {
        assert!(bytes.len() < 10 * 1024, "{name} is {} bytes", bytes.len());
        let path = fixtures_dir().join(name);
        if update {
            std::fs::create_dir_all(fixtures_dir()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        assert!(
            std::fs::read(&path).is_ok_and(|b| b == bytes),
            "{name} differs from what tests/support/image_fixtures.rs makes: run the tests with PROMPTDESK_UPDATE_FIXTURES=1"
        );
    }
}

#[test]
fn the_fixtures_are_real_images_of_the_size_read() {
    for (name, bytes) in fx::fixtures() {
        let Ok(decoded) = image::load_from_memory(&bytes) else {
            assert!(
                ["damaged.png", "not_an_image.jpg"].contains(&name),
                "{name} does not decode"
            );
            continue;
        };
        let meta = read_image_metadata(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (meta.width, meta.height),
            (decoded.width(), decoded.height()),
            "{name}"
        );
    }
}

#[test]
fn a1111_png_text_reads_with_every_setting() {
    let meta = read_image_metadata(&fixture("a1111.png")).unwrap();
    assert_eq!(meta.format, ImageFormat::Png);
    assert_eq!((meta.width, meta.height), (fx::W, fx::H));
    assert!(meta.link.is_none() && meta.problems.is_empty());
    let g = meta.generation.unwrap();
    assert_eq!(g.source, MetadataSource::A1111);
    assert_eq!(g.prompt, "a lighthouse at dusk, oil painting");
    assert_eq!(g.negative_prompt, "blurry, lowres");
    let s = &g.settings;
    assert_eq!(s.steps, Some(28));
    assert_eq!(s.sampler.as_deref(), Some("DPM++ 2M"));
    assert_eq!(s.scheduler.as_deref(), Some("Karras"));
    assert_eq!(s.cfg_scale, Some(6.5));
    assert_eq!(s.seed, Some(1234567));
    assert_eq!((s.width, s.height), (Some(832), Some(1216)));
    assert_eq!(s.model.as_deref(), Some("sdxl_base"));
    assert_eq!(s.clip_skip, Some(2));
    assert_eq!(g.model_hash.as_deref(), Some("31e35c80fc"));
}

#[test]
fn a1111_itxt_keeps_a_non_latin1_prompt() {
    let g = read_image_metadata(&fixture("a1111_itxt.png"))
        .unwrap()
        .generation
        .unwrap();
    assert_eq!(g.prompt, "港の灯台, 夕暮れ");
    assert_eq!(g.negative_prompt, "ぼやけ");
    assert_eq!(g.settings.model.as_deref(), Some("anime_v3"));
}

#[test]
fn a1111_jpeg_and_webp_read_the_exif_user_comment() {
    for name in ["a1111.jpg", "a1111_little_endian.jpeg"] {
        let meta = read_image_metadata(&fixture(name)).unwrap();
        assert_eq!(meta.format, ImageFormat::Jpeg);
        let g = meta.generation.unwrap_or_else(|| panic!("{name}"));
        assert_eq!(g.source, MetadataSource::A1111);
        assert_eq!(g.prompt, "ein Kätzchen im Schnee, 猫", "{name}");
        assert_eq!(g.negative_prompt, "text");
        assert_eq!(g.settings.sampler.as_deref(), Some("DPM++ 2M"));
        assert_eq!(g.settings.scheduler.as_deref(), Some("Karras"));
        assert_eq!(g.settings.seed, Some(987654321));
    }
    let meta = read_image_metadata(&fixture("a1111.webp")).unwrap();
    assert_eq!(meta.format, ImageFormat::Webp);
    assert_eq!((meta.width, meta.height), (fx::W, fx::H));
    let g = meta.generation.unwrap();
    assert_eq!(g.prompt, "a red fox, winter forest");
    assert_eq!(g.negative_prompt, "");
    assert_eq!(g.settings.cfg_scale, Some(4.5));
    assert_eq!(g.settings.model.as_deref(), Some("flux_dev"));
    // Some writers keep JPEG's `Exif\0\0` header in the WebP chunk.
    let with_header = fx::webp(8, 8, [1, 2, 3], Some(fx::A1111_WEBP_TEXT), true);
    let g = read_image_metadata(&with_header)
        .unwrap()
        .generation
        .unwrap();
    assert_eq!(g.prompt, "a red fox, winter forest");
}

#[test]
fn comfyui_reads_the_graph_run_with_a1111_names() {
    let meta = read_image_metadata(&fixture("comfyui.png")).unwrap();
    assert!(meta.problems.is_empty(), "{:?}", meta.problems);
    let g = meta.generation.unwrap();
    assert_eq!(g.source, MetadataSource::ComfyUi);
    // The `prompt` chunk (what ran) wins over the `workflow` one.
    assert_eq!(g.prompt, "a castle on a hill, 城");
    assert_eq!(g.negative_prompt, "watermark");
    let s = &g.settings;
    // Through the seed node the sampler's seed is linked from.
    assert_eq!(s.seed, Some(8566257));
    assert_eq!(s.steps, Some(24));
    assert_eq!(s.cfg_scale, Some(7.5));
    assert_eq!(s.sampler.as_deref(), Some("Euler a"));
    assert_eq!(s.scheduler.as_deref(), Some("Karras"));
    assert_eq!(
        (s.width, s.height, s.batch_size),
        (Some(512), Some(768), Some(1))
    );
    assert_eq!(s.model.as_deref(), Some("dreamshaper_8.safetensors"));
    assert_eq!(s.clip_skip, Some(2));
    // The workflow alone is read when there is no graph.
    let only = fx::png(
        8,
        8,
        [0, 0, 0],
        &[(
            "workflow",
            &fx::comfy_workflow().to_string(),
            fx::Text::Plain,
        )],
    );
    let g = read_image_metadata(&only).unwrap().generation.unwrap();
    assert_eq!(g.prompt, "from the workflow");
    assert_eq!(g.settings.seed, Some(1));
    assert_eq!(g.settings.steps, Some(20));
    assert_eq!(g.settings.sampler.as_deref(), Some("Euler"));
}

#[test]
fn invokeai_and_swarmui_json_read() {
    let g = read_image_metadata(&fixture("invokeai.png"))
        .unwrap()
        .generation
        .unwrap();
    assert_eq!(g.source, MetadataSource::InvokeAi);
    assert_eq!(g.prompt, "a cozy cabin in the woods");
    assert_eq!(g.negative_prompt, "people");
    let s = &g.settings;
    assert_eq!(s.model.as_deref(), Some("Juggernaut XL v9"));
    assert_eq!(s.seed, Some(3400881859));
    assert_eq!(s.steps, Some(32));
    assert_eq!(s.cfg_scale, Some(6.0));
    assert_eq!(s.sampler.as_deref(), Some("DPM++ 2M"));
    assert_eq!(s.scheduler.as_deref(), Some("Karras"));
    assert_eq!((s.width, s.height), (Some(1024), Some(1024)));
    assert_eq!(s.clip_skip, Some(1));

    let g = read_image_metadata(&fixture("swarmui.png"))
        .unwrap()
        .generation
        .unwrap();
    assert_eq!(g.source, MetadataSource::SwarmUi);
    assert_eq!(g.prompt, "a photo of a cat, ネコ");
    assert_eq!(g.negative_prompt, "dog");
    let s = &g.settings;
    assert_eq!(
        s.model.as_deref(),
        Some("OfficialStableDiffusion/sd_xl_base_1.0")
    );
    // Numbers written as text read as numbers.
    assert_eq!(s.seed, Some(17));
    assert_eq!(s.cfg_scale, Some(7.0));
    assert_eq!(s.steps, Some(20));
    assert_eq!(s.sampler.as_deref(), Some("DPM++ 2M SDE"));
    assert_eq!(s.scheduler.as_deref(), Some("Karras"));
    assert_eq!(s.clip_skip, Some(1));
}

#[test]
fn promptdesk_chunk_is_a_link_beside_the_parameters() {
    let meta = read_image_metadata(&fixture("promptdesk.png")).unwrap();
    let link = meta.link.unwrap();
    assert_eq!(link.job_id, fx::PROMPTDESK_JOB_ID);
    assert_eq!(
        (link.key.as_str(), link.variant, link.seed),
        ("3", 2, Some(77))
    );
    assert_eq!(meta.generation.unwrap().prompt, "a harbour at night");
}

#[test]
fn no_metadata_and_damaged_files() {
    for name in ["plain.png", "plain.webp"] {
        let meta = read_image_metadata(&fixture(name)).unwrap();
        assert!(meta.generation.is_none() && meta.link.is_none(), "{name}");
        assert_eq!((meta.width, meta.height), (fx::W, fx::H));
    }
    let e = read_image_metadata(&fixture("damaged.png")).unwrap_err();
    assert!(e.to_string().contains("cut short"), "{e}");
    let e = read_image_metadata(&fixture("not_an_image.jpg")).unwrap_err();
    assert!(e.to_string().contains("not a PNG, JPEG or WebP"), "{e}");
    // A JPEG cut in its image data, and one whose header lies about a segment's length.
    let jpeg = fx::jpeg(16, 16, [1, 2, 3], Some("x"), true);
    let e = read_image_metadata(&jpeg[..jpeg.len() - 30]).unwrap_err();
    assert!(e.to_string().contains("cut short"), "{e}");
    let mut lying = jpeg.clone();
    lying[4] = 0xff;
    lying[5] = 0xff;
    assert!(read_image_metadata(&lying).is_err());
}

#[test]
fn compressed_text_bombs_are_bounded_all_together() {
    use std::io::Write;
    // 40 zTXt chunks of 16 MiB of zeros each (16 KiB compressed): 640 MiB if all inflated.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![b'a'; 16 << 20]).unwrap();
    let bomb = z.finish().unwrap();
    let plain = fx::png(8, 8, [0, 0, 0], &[]);
    let mut png = plain[..33].to_vec();
    for i in 0..40 {
        let mut data = format!("bomb{i}").into_bytes();
        data.extend_from_slice(&[0, 0]);
        data.extend_from_slice(&bomb);
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut chunk = b"zTXt".to_vec();
        chunk.extend_from_slice(&data);
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32fast::hash(&chunk).to_be_bytes());
    }
    png.extend_from_slice(&plain[33..]);
    let texts = promptdesk::outputs::png_text(&png).unwrap();
    let total: usize = texts.iter().map(|(_, t)| t.len()).sum();
    assert!(total <= 64 << 20, "{total} bytes of text inflated");
    let meta = read_image_metadata(&png).unwrap();
    assert!(meta.generation.is_none());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

    /// Flipped, cut and spliced bytes of every fixture give an answer or an error, never a
    /// panic.
    #[test]
    fn damaged_bytes_never_panic(
        which in 0usize..13,
        edits in proptest::collection::vec((0usize..10_000, proptest::prelude::any::<u8>()), 0..12),
        cut in proptest::option::of(0usize..10_000),
    ) {
        let fixtures = fx::fixtures();
        let mut bytes = fixtures[which % fixtures.len()].1.clone();
        for (at, value) in edits {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = value;
            }
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        let _ = read_image_metadata(&bytes);
    }
}

// ----- importing -----

struct Env {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    pics: PathBuf,
}

fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let pics = tmp.path().join("pics");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&pics).unwrap();
    Env {
        data: data.canonicalize().unwrap(),
        pics: pics.canonicalize().unwrap(),
        _tmp: tmp,
    }
}

impl Env {
    fn store(&self) -> HistoryStore {
        HistoryStore::open(&self.data).unwrap()
    }

    fn copy_fixtures(&self) {
        for (name, _) in fx::fixtures() {
            std::fs::copy(fixtures_dir().join(name), self.pics.join(name)).unwrap();
        }
    }

    fn import(&self, recursive: bool) -> ImportImagesReport {
        self.import_dir(&self.pics, recursive)
    }

    fn import_dir(&self, dir: &Path, recursive: bool) -> ImportImagesReport {
        let mut store = self.store();
        import_images(
            &mut store,
            dir,
            &ImportImagesOptions {
                recursive,
                source: RunSource::Cli,
            },
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap()
    }
}

fn image_of(record: &JobRecord) -> &OutputImage {
    let images = &record.result.as_ref().expect("a result").images;
    assert_eq!(images.len(), 1, "{}", record.job_id);
    &images[0]
}

fn job_with_file<'a>(records: &'a [JobRecord], file: &Path) -> &'a JobRecord {
    let text = file.to_str().unwrap();
    records
        .iter()
        .find(|r| {
            r.result
                .as_ref()
                .is_some_and(|res| res.images.iter().any(|i| i.path == text))
        })
        .unwrap_or_else(|| panic!("no job has {text}"))
}

#[test]
fn a_folder_of_fixtures_becomes_completed_jobs_referencing_the_files() {
    let env = env();
    env.copy_fixtures();
    let report = env.import(false);
    assert_eq!(report.scanned, 13, "{report:?}");
    assert_eq!(report.imported, 11, "{report:?}");
    assert_eq!(report.no_parameters, 2);
    assert_eq!((report.already_known, report.linked), (0, 0));
    assert_eq!(report.hashed, 13);
    assert!(!report.cancelled);
    let unreadable: Vec<String> = report
        .unreadable
        .iter()
        .map(|(p, r)| format!("{}: {r}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    assert_eq!(unreadable.len(), 2, "{unreadable:?}");
    assert!(unreadable[0].starts_with("damaged.png: the PNG image is cut short"));
    assert!(unreadable[1].starts_with("not_an_image.jpg: not a PNG, JPEG or WebP"));
    assert_eq!(report.by_source["a1111"], 6);
    assert_eq!(report.by_source["comfyui"], 1);
    assert_eq!(report.by_source["invokeai"], 1);
    assert_eq!(report.by_source["swarmui"], 1);
    assert!(
        report
            .summary()
            .starts_with("13 images found: 11 imported, 0 already in the history")
    );

    let store = env.store();
    let records = store.records();
    assert_eq!(records.len(), 11);
    for r in records {
        assert_eq!(r.status, JobStatus::Completed);
        assert_eq!(r.source, RunSource::Cli);
        assert!(is_image_import(r));
        assert_eq!(r.run_config.prompt_payload[IMPORTED_FROM_KEY], "image");
        let res = r.result.as_ref().unwrap();
        assert_eq!(res.backend, "import");
        let img = image_of(r);
        let path = Path::new(&img.path);
        assert!(
            path.is_absolute() && path.starts_with(&env.pics),
            "{}",
            img.path
        );
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(img.sha256, promptdesk::outputs::sha256_hex(&bytes));
        assert_eq!((img.width, img.height), (fx::W, fx::H));
        // Created when the file was last modified.
        let mtime = chrono::DateTime::<chrono::Utc>::from(
            std::fs::metadata(path).unwrap().modified().unwrap(),
        );
        assert_eq!(r.created_at, mtime);
        assert_eq!(r.completed_at, Some(mtime));
    }

    let a1111 = job_with_file(records, &env.pics.join("a1111.png"));
    assert_eq!(a1111.prompt_source, PromptSource::Manual);
    assert_eq!(a1111.first_prompt(), "a lighthouse at dusk, oil painting");
    let s = &a1111.run_config.settings;
    assert_eq!(
        (s.steps, s.seed, s.width, s.height),
        (28, 1234567, 832, 1216)
    );
    assert_eq!(s.model, "sdxl_base");
    // What A1111's infotext does not hold is unknown.
    assert_eq!(
        a1111.run_config.unknown_settings(),
        vec!["batch_size".to_owned(), "batch_count".to_owned()]
    );
    assert_eq!(seed_used(&a1111.run_config), Some(1234567));
    let res = a1111.result.as_ref().unwrap();
    assert_eq!(res.backend_kind, "a1111");
    assert_eq!(res.model_name.as_deref(), Some("sdxl_base"));
    assert_eq!(res.model_hash.as_deref(), Some("31e35c80fc"));
    assert_eq!(image_of(a1111).seed, 1234567);
    assert!(res.warnings.is_empty());

    let comfy = job_with_file(records, &env.pics.join("comfyui.png"));
    assert_eq!(comfy.result.as_ref().unwrap().backend_kind, "comfyui");
    assert_eq!(comfy.first_prompt(), "a castle on a hill, 城");
    assert_eq!(comfy.run_config.settings.sampler, "Euler a");

    let plain = job_with_file(records, &env.pics.join("plain.png"));
    assert_eq!(plain.first_prompt(), "");
    assert_eq!(plain.error_message, None);
    let res = plain.result.as_ref().unwrap();
    assert_eq!(res.warnings, vec![NO_PARAMETERS.to_owned()]);
    assert_eq!(res.backend_kind, "");
    // The image's own size is known; nothing else is.
    let unknown = plain.run_config.unknown_settings();
    assert!(!unknown.contains(&"width".to_owned()) && unknown.contains(&"seed".to_owned()));
    assert_eq!(unknown.len(), 9, "{unknown:?}");
    assert_eq!(
        (
            plain.run_config.settings.width,
            plain.run_config.settings.height
        ),
        (fx::W, fx::H)
    );
    assert_eq!(image_of(plain).seed, -1);

    // promptdesk's image whose job is not in this history: its key is its origin.
    let ours = job_with_file(records, &env.pics.join("promptdesk.png"));
    assert_eq!(ours.prompt_source, PromptSource::Pack);
    assert_eq!(ours.prompt_keys, vec!["3".to_owned()]);
    assert_eq!(ours.first_prompt(), "a harbour at night");
    let img = image_of(ours);
    assert_eq!((img.key.as_str(), img.variant, img.seed), ("3", 2, 77));
}

#[test]
fn a_second_scan_adds_nothing_and_reads_nothing() {
    let env = env();
    env.copy_fixtures();
    env.import(false);
    let before = std::fs::read(env.data.join("history.jsonl")).unwrap();
    let again = env.import(false);
    assert_eq!(again.imported, 0, "{again:?}");
    assert_eq!(again.already_known, 11);
    assert_eq!(again.unreadable.len(), 2);
    // Known from the hash index: only the unreadable files are read again.
    assert_eq!(again.hashed, 2);
    assert_eq!(
        std::fs::read(env.data.join("history.jsonl")).unwrap(),
        before
    );
    assert!(env.data.join(IMAGE_INDEX_FILE_NAME).exists());

    // Without the index every file is hashed, and still nothing is added.
    std::fs::remove_file(env.data.join(IMAGE_INDEX_FILE_NAME)).unwrap();
    let rehashed = env.import(false);
    assert_eq!(
        (rehashed.imported, rehashed.already_known, rehashed.hashed),
        (0, 11, 13)
    );

    // A new file is the only one imported; a copy of a known one is not.
    std::fs::write(
        env.pics.join("new.png"),
        fx::png(
            8,
            8,
            [1, 1, 1],
            &[(
                "parameters",
                "a new one\nSteps: 1, Sampler: Euler, Seed: 3",
                fx::Text::Plain,
            )],
        ),
    )
    .unwrap();
    std::fs::copy(
        env.pics.join("a1111.png"),
        env.pics.join("copy of a1111.png"),
    )
    .unwrap();
    let third = env.import(false);
    assert_eq!(
        (third.imported, third.already_known, third.linked),
        (1, 12, 0),
        "{third:?}"
    );
    assert_eq!(env.store().len(), 12);

    // A file changed in place (same name, new content) is hashed again and imported.
    std::fs::write(
        env.pics.join("new.png"),
        fx::png(
            8,
            8,
            [2, 2, 2],
            &[(
                "parameters",
                "changed\nSteps: 1, Sampler: Euler, Seed: 4",
                fx::Text::Plain,
            )],
        ),
    )
    .unwrap();
    let fourth = env.import(false);
    assert_eq!(fourth.imported, 1, "{fourth:?}");
}

#[test]
fn a_moved_file_keeps_its_job_and_rating() {
    let env = env();
    env.copy_fixtures();
    env.import(false);
    let old = env.pics.join("a1111.jpg");
    let job_id = job_with_file(env.store().records(), &old).job_id.clone();
    // Rate it, as the app will.
    let mut store = env.store();
    store
        .update_if(
            &job_id,
            |_| true,
            |r| {
                let mut new = r.clone();
                new.result.as_mut().unwrap().images[0].rating = Some(5);
                new
            },
        )
        .unwrap();
    drop(store);

    let moved_dir = env.pics.join("sorted");
    std::fs::create_dir(&moved_dir).unwrap();
    let new = moved_dir.join("best fox.jpg");
    std::fs::rename(&old, &new).unwrap();
    let report = env.import(true);
    assert_eq!((report.imported, report.linked), (0, 1), "{report:?}");
    let store = env.store();
    assert_eq!(store.len(), 11);
    let job = store.get(&job_id).unwrap();
    let img = image_of(job);
    assert_eq!(img.path, new.to_str().unwrap());
    assert_eq!(img.rating, Some(5));
    // Nothing to do the next time.
    let again = env.import(true);
    assert_eq!(
        (again.imported, again.linked, again.already_known),
        (0, 0, 11)
    );
}

#[test]
fn promptdesks_own_image_links_back_to_its_job() {
    let env = env();
    // The job the image's chunk names, already holding another image.
    let mut store = env.store();
    let mut cfg = promptdesk::RunConfig::default();
    cfg.prompt_payload
        .insert("prompt".into(), "a harbour at night".into());
    let mut job = promptdesk::job_record_from_run_config(fx::PROMPTDESK_JOB_ID, &cfg);
    job.status = JobStatus::Completed;
    job.result = Some(JobResult {
        backend: "local".into(),
        backend_kind: "a1111".into(),
        images: vec![OutputImage {
            path: "outputs/2025-01-01/first.png".into(),
            sha256: "00".repeat(32),
            seed: 76,
            variant: 1,
            key: "3".into(),
            ..OutputImage::default()
        }],
        ..JobResult::default()
    });
    store.append(&job).unwrap();
    drop(store);
    std::fs::copy(
        fixtures_dir().join("promptdesk.png"),
        env.pics.join("promptdesk.png"),
    )
    .unwrap();
    let report = env.import(false);
    assert_eq!((report.imported, report.linked), (0, 1), "{report:?}");
    let store = env.store();
    assert_eq!(store.len(), 1);
    let images = &store
        .get(fx::PROMPTDESK_JOB_ID)
        .unwrap()
        .result
        .as_ref()
        .unwrap()
        .images;
    assert_eq!(images.len(), 2);
    let linked = &images[1];
    assert_eq!(
        linked.path,
        env.pics.join("promptdesk.png").to_str().unwrap()
    );
    assert_eq!(
        (linked.key.as_str(), linked.variant, linked.seed),
        ("3", 2, 77)
    );
    // Linked once: the next scan knows it.
    let again = env.import(false);
    assert_eq!(
        (again.imported, again.linked, again.already_known),
        (0, 0, 1)
    );
}

#[test]
fn promptdesks_saved_outputs_are_already_known() {
    let env = env();
    let mut store = env.store();
    let mut cfg = promptdesk::RunConfig::default();
    cfg.prompt_payload.insert("prompt".into(), "a cat".into());
    let mut job = promptdesk::job_record_from_run_config(&HistoryStore::new_job_id(), &cfg);
    let saved = promptdesk::outputs::save_image(
        &env.data,
        &promptdesk::outputs::ImageToSave {
            job_id: &job.job_id,
            key: "",
            variant: 1,
            seed: 5,
            parameters: Some("a cat\nSteps: 20, Sampler: Euler, Seed: 5"),
            when: chrono::Utc::now(),
        },
        &fx::png(8, 8, [3, 3, 3], &[]),
    )
    .unwrap();
    job.status = JobStatus::Completed;
    job.result = Some(JobResult {
        backend: "local".into(),
        images: vec![saved],
        ..JobResult::default()
    });
    store.append(&job).unwrap();
    drop(store);
    // The data folder's outputs, recorded relative to it: the same files.
    let report = env.import_dir(&env.data.join("outputs"), true);
    assert_eq!(
        (
            report.scanned,
            report.imported,
            report.linked,
            report.already_known
        ),
        (1, 0, 0, 1)
    );
}

#[test]
fn subfolders_only_when_recursive_and_hidden_ones_never() {
    let env = env();
    let nested = env.pics.join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::create_dir_all(env.pics.join(".thumbnails")).unwrap();
    std::fs::copy(fixtures_dir().join("a1111.png"), env.pics.join("top.PNG")).unwrap();
    std::fs::copy(fixtures_dir().join("a1111.jpg"), nested.join("deep.jpg")).unwrap();
    std::fs::copy(
        fixtures_dir().join("plain.png"),
        env.pics.join(".thumbnails/t.png"),
    )
    .unwrap();
    std::fs::copy(
        fixtures_dir().join("plain.webp"),
        env.pics.join(".hidden.webp"),
    )
    .unwrap();
    std::fs::write(env.pics.join("notes.txt"), "not an image").unwrap();
    let flat = env.import(false);
    assert_eq!((flat.scanned, flat.imported), (1, 1), "{flat:?}");
    let deep = env.import(true);
    assert_eq!(
        (deep.scanned, deep.imported, deep.already_known),
        (2, 1, 1),
        "{deep:?}"
    );
    job_with_file(env.store().records(), &nested.join("deep.jpg"));
}

#[test]
fn a_missing_folder_or_a_file_is_refused() {
    let env = env();
    let mut store = env.store();
    let run = |store: &mut HistoryStore, dir: &Path| {
        import_images(
            store,
            dir,
            &ImportImagesOptions::default(),
            &mut |_| {},
            &AtomicBool::new(false),
        )
    };
    let e = run(&mut store, &env.pics.join("nope")).unwrap_err();
    assert!(
        matches!(e, ImportImagesError::NotFound { .. }) && e.is_bad_input(),
        "{e}"
    );
    std::fs::write(env.pics.join("f.png"), b"x").unwrap();
    let e = run(&mut store, &env.pics.join("f.png")).unwrap_err();
    assert!(matches!(e, ImportImagesError::NotAFolder { .. }), "{e}");
    assert!(store.is_empty());
}

#[test]
fn a_cancel_keeps_what_was_imported_and_a_rescan_finishes() {
    let env = env();
    for i in 0..300 {
        std::fs::write(
            env.pics.join(format!("img{i:04}.png")),
            fx::png(4, 4, [i as u8, (i >> 8) as u8, 0], &[]),
        )
        .unwrap();
    }
    let cancel = AtomicBool::new(false);
    let mut phases = Vec::new();
    let mut store = env.store();
    let report = import_images(
        &mut store,
        &env.pics,
        &ImportImagesOptions::default(),
        &mut |p| {
            phases.push(*p);
            if p.phase == ImportImagesPhase::Importing && p.done > 0 {
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        },
        &cancel,
    )
    .unwrap();
    assert!(report.cancelled);
    assert_eq!(report.imported, 256, "{report:?}");
    assert_eq!(store.len(), 256);
    assert_eq!(phases.last().unwrap().total, 300);
    let rest = env.import(false);
    assert_eq!((rest.imported, rest.already_known), (44, 256));
}
