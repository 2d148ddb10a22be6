//! `promptdesk rate` and the rating filters, run in-process: rate, re-rate, clear and
//! favourite an image; the marks survive compact and show in `history` (table and JSON) and
//! `export`; `--min-rating` and `--favorites` select jobs in `history` and `export`; bad input
//! exits 2 with one stderr line naming what is wrong, and writes nothing.

mod support;
use chrono::{TimeZone, Utc};
use promptdesk::history::HistoryStore;
use promptdesk::outputs::{JobResult, OutputImage};
use promptdesk::{
    JobRecord, JobStatus, build_run_config_for_manual_prompt, job_record_from_run_config,
};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use support::cli::cli;

fn ok(data: &Path, args: &[&str]) -> String {
    let run = cli(data, args);
    assert_eq!(run.code, 0, "{args:?}: {}", run.err);
    assert!(run.err.is_empty(), "{args:?}: {}", run.err);
    run.out
}

fn image(job: usize, n: usize) -> OutputImage {
    OutputImage {
        path: format!("outputs/2026-11-28/job{job}_manual_v{n}_{n}.png"),
        seed: n as i64,
        width: 1024,
        height: 1024,
        sha256: format!("{job:032x}{n:032x}"),
        variant: n as u32,
        ..OutputImage::default()
    }
}

/// A history of four jobs, oldest first: `done2` (2 images), `done1` (1 image), `queued` (none)
/// and `done3` (3 images).
fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let t0 = Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap();
    let jobs: Vec<JobRecord> = [("done2", 2), ("done1", 1), ("queued", 0), ("done3", 3)]
        .into_iter()
        .enumerate()
        .map(|(i, (id, images))| {
            let cfg = build_run_config_for_manual_prompt(&format!("prompt of {id}"), "", None);
            let mut r = job_record_from_run_config(id, &cfg);
            r.created_at = t0 + chrono::Duration::minutes(i as i64);
            if images > 0 {
                r.status = JobStatus::Completed;
                r.result = Some(JobResult {
                    backend: "local".into(),
                    images: (1..=images).map(|n| image(i, n)).collect(),
                    ..JobResult::default()
                });
            }
            r
        })
        .collect();
    HistoryStore::open(promptdesk::paths::history_path(&data))
        .unwrap()
        .append_many(&jobs)
        .unwrap();
    (tmp, data)
}

fn record(data: &Path, id: &str) -> JobRecord {
    HistoryStore::open(promptdesk::paths::history_path(data))
        .unwrap()
        .get(id)
        .unwrap()
        .clone()
}

fn marks(r: &JobRecord) -> Vec<(Option<u8>, bool)> {
    r.result
        .as_ref()
        .unwrap()
        .images
        .iter()
        .map(|i| (i.rating, i.favorite))
        .collect()
}

/// `history --json` with these extra arguments, parsed.
fn history_json(data: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["history", "--json"];
    all.extend_from_slice(args);
    ok(data, &all)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ids(values: &[Value]) -> Vec<&str> {
    values
        .iter()
        .map(|v| v["job_id"].as_str().unwrap())
        .collect()
}

#[test]
fn rate_rerate_clear_and_favourite() {
    let (_tmp, data) = setup();
    assert_eq!(
        ok(&data, &["rate", "done3", "4"]),
        "done3 image 1: 4 stars (job: 4 stars)\n"
    );
    assert_eq!(
        ok(&data, &["rate", "done3", "2", "--image", "3", "--favorite"]),
        "done3 image 3: 2 stars, favourite (job: 4 stars, favourite)\n"
    );
    assert_eq!(
        marks(&record(&data, "done3")),
        [(Some(4), false), (None, false), (Some(2), true)]
    );
    // Re-rate: the job's rating follows its best image.
    assert_eq!(
        ok(&data, &["rate", "done3", "1"]),
        "done3 image 1: 1 star (job: 2 stars, favourite)\n"
    );
    // Clear the rating: the favourite mark stays unless asked.
    assert_eq!(
        ok(&data, &["rate", "done3", "0", "--image", "3"]),
        "done3 image 3: unrated, favourite (job: 1 star, favourite)\n"
    );
    ok(
        &data,
        &["rate", "done3", "0", "--image", "3", "--no-favorite"],
    );
    assert_eq!(
        marks(&record(&data, "done3")),
        [(Some(1), false), (None, false), (None, false)]
    );
    // A favourite without stars.
    assert_eq!(
        ok(&data, &["rate", "done1", "0", "--favorite"]),
        "done1 image 1: unrated, favourite (job: unrated, favourite)\n"
    );
    let r = record(&data, "done1");
    assert_eq!((r.rating(), r.is_favorite()), (None, true));
}

#[test]
fn ratings_survive_compact_and_show_in_history_and_export() {
    let (tmp, data) = setup();
    ok(&data, &["rate", "done2", "5", "--image", "2", "--favorite"]);
    ok(&data, &["rate", "done2", "3"]);
    ok(&data, &["rate", "done3", "4", "--image", "2"]);
    let before = HistoryStore::open(promptdesk::paths::history_path(&data))
        .unwrap()
        .records()
        .to_vec();
    ok(&data, &["compact"]);
    let lines = fs::read_to_string(data.join("history.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 4, "one line per job after compact");
    assert_eq!(
        HistoryStore::open(promptdesk::paths::history_path(&data))
            .unwrap()
            .records(),
        &before[..]
    );

    // history --json: per image in result.images, per job at the end of the line.
    let all = history_json(&data, &[]);
    assert_eq!(ids(&all), ["done3", "queued", "done1", "done2"]);
    let done2 = &all[3];
    assert_eq!(done2["rating"], 5);
    assert_eq!(done2["favorite"], true);
    assert_eq!(done2["result"]["images"][0]["rating"], 3);
    assert!(done2["result"]["images"][0].get("favorite").is_none());
    assert_eq!(done2["result"]["images"][1]["rating"], 5);
    assert_eq!(done2["result"]["images"][1]["favorite"], true);
    assert_eq!(
        (&all[0]["rating"], &all[0]["favorite"]),
        (&Value::from(4), &Value::from(false))
    );
    assert_eq!(
        (&all[1]["rating"], &all[1]["favorite"]),
        (&Value::Null, &Value::from(false))
    );

    // The table has a RATING column.
    let table = ok(&data, &["history"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].contains("RATING"), "{table}");
    assert!(
        lines[1].contains(" 4 ") && lines[4].contains(" 5 fav "),
        "{table}"
    );

    // export --format jsonl writes the records themselves (no added keys), and they read back
    // with their ratings.
    let out = tmp.path().join("out.jsonl");
    ok(
        &data,
        &[
            "export",
            "--format",
            "jsonl",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    let exported = fs::read_to_string(&out).unwrap();
    let back: Vec<JobRecord> = exported
        .lines()
        .map(|l| JobRecord::from_json_line(l.as_bytes()).unwrap())
        .collect();
    assert_eq!(back, before);
    for (line, r) in exported.lines().zip(&before) {
        assert_eq!(line, r.to_json_line());
        assert!(back.iter().all(|b| b.unknown.is_empty()));
    }
}

#[test]
fn min_rating_and_favorites_filter_history_and_export() {
    let (tmp, data) = setup();
    ok(&data, &["rate", "done2", "5", "--image", "2"]);
    ok(&data, &["rate", "done1", "3", "--favorite"]);
    ok(&data, &["rate", "done3", "4", "--image", "3"]);
    ok(&data, &["rate", "done3", "0", "--image", "1", "--favorite"]);

    let cases: &[(&[&str], &[&str])] = &[
        (&[], &["done3", "queued", "done1", "done2"]),
        (&["--min-rating", "1"], &["done3", "done1", "done2"]),
        (&["--min-rating", "4"], &["done3", "done2"]),
        (&["--min-rating", "5"], &["done2"]),
        (&["--favorites"], &["done3", "done1"]),
        (&["--favorites", "--min-rating", "4"], &["done3"]),
        (&["--favorites", "--min-rating", "5"], &[]),
        (&["--min-rating", "3", "--search", "done1"], &["done1"]),
    ];
    for (args, want) in cases {
        assert_eq!(&ids(&history_json(&data, args)), want, "history {args:?}");
        let out = tmp.path().join("filtered.jsonl");
        let mut all = vec![
            "export",
            "--format",
            "jsonl",
            "--output",
            out.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        ok(&data, &all);
        let mut exported: Vec<String> = fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| JobRecord::from_json_line(l.as_bytes()).unwrap().job_id)
            .collect();
        // Export is oldest first.
        exported.reverse();
        assert_eq!(&exported, want, "export {args:?}");
    }
    // CSV takes the same filters.
    let csv = tmp.path().join("f.csv");
    ok(
        &data,
        &[
            "export",
            "--format",
            "csv",
            "--output",
            csv.to_str().unwrap(),
            "--favorites",
        ],
    );
    assert_eq!(
        fs::read_to_string(&csv).unwrap().lines().count(),
        3,
        "header + 2 jobs"
    );
}

#[test]
fn bad_input_exits_2_naming_the_problem_and_writes_nothing() {
    let (_tmp, data) = setup();
    let file = data.join("history.jsonl");
    let before = fs::read(&file).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["rate", "done3", "6"], "\"6\" is not a star count"),
        (&["rate", "done3", "-1"], "\"-1\" is not a star count"),
        (&["rate", "done3", "four"], "\"four\" is not a star count"),
        (
            &["rate", "done3", "4", "--image", "0"],
            "\"0\" is not an image number",
        ),
        (
            &["rate", "done3", "4", "--image", "x"],
            "\"x\" is not an image number",
        ),
        (
            &["rate", "done3", "4", "--image", "4"],
            "job done3 has 3 images; there is no image 4",
        ),
        (
            &["rate", "done1", "4", "--image", "2"],
            "job done1 has 1 image; there is no image 2",
        ),
        (&["rate", "nope", "4"], "there is no job nope"),
        (
            &["rate", "queued", "4"],
            "job queued has no images to rate (it is queued)",
        ),
        (
            &["rate", "done3", "4", "--favorite", "--no-favorite"],
            "--favorite",
        ),
        (&["rate", "done3"], "STARS"),
        (&["history", "--min-rating", "0"], "\"0\" is not a rating"),
        (&["history", "--min-rating", "6"], "\"6\" is not a rating"),
        (
            &[
                "export",
                "--format",
                "jsonl",
                "--output",
                "x.jsonl",
                "--min-rating",
                "9",
            ],
            "\"9\" is not a rating",
        ),
    ];
    for (args, want) in cases {
        let run = cli(&data, args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.out, run.err);
        assert_eq!(run.err.lines().count(), 1, "{args:?}: {}", run.err);
        assert!(
            run.err.starts_with("promptdesk: error: ") && run.err.contains(want),
            "{args:?}: {}",
            run.err
        );
        assert!(run.out.is_empty(), "{args:?}: {}", run.out);
    }
    assert_eq!(fs::read(&file).unwrap(), before, "nothing written");

    // No history yet: an error, and no data folder made for it.
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("never-created");
    let run = cli(&fresh, &["rate", "x", "3"]);
    assert_eq!(run.code, 2, "{}", run.err);
    assert!(run.err.contains("there is no job x"), "{}", run.err);
    assert!(!fresh.exists());
}
