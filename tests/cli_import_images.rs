//! `promptdesk import-images`, run in-process: a folder of A1111, ComfyUI, InvokeAI, SwarmUI
//! and plain images imported as completed jobs (the core's fixtures), a second run adding
//! nothing, `--json`, `--recursive`, and a missing folder refused with exit 2.

mod support;
use promptdesk::history::HistoryStore;
use std::path::PathBuf;
use support::cli::cli;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/promptdesk-core/tests/fixtures/images"
);

/// A data folder and a folder holding a copy of the fixtures.
fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let pics = tmp.path().join("pics");
    std::fs::create_dir_all(&pics).unwrap();
    for entry in std::fs::read_dir(FIXTURES).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), pics.join(entry.file_name())).unwrap();
    }
    (tmp, data, pics)
}

#[test]
fn a_folder_is_imported_once_and_the_jobs_show_in_the_history() {
    let (_tmp, data, pics) = setup();
    let dir = pics.to_str().unwrap();
    let run = cli(&data, &["import-images", dir]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(
        run.out
            .starts_with(&format!("{dir}: 13 images found: 11 imported, 0 already in the history; 2 imported without parameters; 2 unreadable\n")),
        "{}",
        run.out
    );
    assert!(
        run.out
            .contains("imported from: 6 A1111/Forge, 1 ComfyUI, 1 InvokeAI, 1 SwarmUI\n"),
        "{}",
        run.out
    );
    assert!(
        run.out.contains("damaged.png: the PNG image is cut short"),
        "{}",
        run.out
    );
    // Not a terminal: no progress bar.
    assert_eq!(run.err, "");

    let history = cli(&data, &["history", "--json"]);
    assert_eq!(history.code, 0, "{}", history.err);
    let jobs: Vec<serde_json::Value> = history
        .out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(jobs.len(), 11);
    for job in &jobs {
        assert_eq!(job["status"], "completed");
        assert_eq!(job["source"], "cli");
        assert_eq!(job["result"]["backend"], "import");
        let path = job["result"]["images"][0]["path"].as_str().unwrap();
        assert!(path.starts_with(dir), "{path}");
    }
    let table = cli(&data, &["history"]);
    assert!(table.out.contains("a castle on a hill"), "{}", table.out);

    let again = cli(&data, &["import-images", dir]);
    assert_eq!(again.code, 0, "{}", again.err);
    assert!(
        again.out.starts_with(&format!(
            "{dir}: 13 images found: 0 imported, 11 already in the history; 2 unreadable\n"
        )),
        "{}",
        again.out
    );
    assert_eq!(
        HistoryStore::open_read_only(data.join("history.jsonl"))
            .unwrap()
            .len(),
        11
    );
}

#[test]
fn json_reports_every_count_and_recursive_reaches_subfolders() {
    let (_tmp, data, pics) = setup();
    let top = pics.join("top");
    std::fs::create_dir_all(top.join("nested")).unwrap();
    std::fs::rename(pics.join("a1111.png"), top.join("a1111.png")).unwrap();
    std::fs::rename(pics.join("comfyui.png"), top.join("nested/comfyui.png")).unwrap();
    let flat = cli(&data, &["import-images", top.to_str().unwrap(), "--json"]);
    assert_eq!(flat.code, 0, "{}", flat.err);
    let r: serde_json::Value = serde_json::from_str(flat.out.trim()).unwrap();
    assert_eq!(
        (r["scanned"].as_u64(), r["imported"].as_u64()),
        (Some(1), Some(1))
    );
    let deep = cli(
        &data,
        &[
            "import-images",
            "--recursive",
            top.to_str().unwrap(),
            "--json",
        ],
    );
    let r: serde_json::Value = serde_json::from_str(deep.out.trim()).unwrap();
    assert_eq!(r["scanned"], 2);
    assert_eq!(r["imported"], 1);
    assert_eq!(r["already_known"], 1);
    assert_eq!(r["by_source"]["comfyui"], 1);
    assert_eq!(r["unreadable"], serde_json::json!([]));
    assert_eq!(r["cancelled"], false);
    let all = cli(
        &data,
        &["import-images", "-r", pics.to_str().unwrap(), "--json"],
    );
    let r: serde_json::Value = serde_json::from_str(all.out.trim()).unwrap();
    assert_eq!(
        (r["imported"].as_u64(), r["already_known"].as_u64()),
        (Some(9), Some(2))
    );
    let unreadable = r["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 2);
    assert!(
        unreadable[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("damaged.png")
    );
}

#[test]
fn a_missing_folder_exits_2_and_writes_nothing() {
    let (tmp, data, _pics) = setup();
    let missing = tmp.path().join("nowhere");
    let run = cli(&data, &["import-images", missing.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.err,
        format!("promptdesk: error: {}: no such folder\n", missing.display())
    );
    assert_eq!(run.out, "");
    let file = tmp.path().join("pics/a1111.png");
    let run = cli(&data, &["import-images", file.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.err.contains("is not a folder"), "{}", run.err);
    assert!(!data.join("history.jsonl").exists());
}
