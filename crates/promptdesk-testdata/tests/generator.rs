//! The generator is deterministic, and its files are what the benchmarks say they are.

use promptdesk_core::history::{HistoryStore, import_stablenew};
use promptdesk_testdata as testdata;

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let [a, b, c] = ["a", "b", "c"].map(|n| dir.path().join(n));
    testdata::write_history(&a, 300, 7).unwrap();
    testdata::write_history(&b, 300, 7).unwrap();
    testdata::write_history(&c, 300, 8).unwrap();
    let (a, b, c) = (
        std::fs::read(a).unwrap(),
        std::fs::read(b).unwrap(),
        std::fs::read(c).unwrap(),
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(testdata::count_lines(&a), 300);
}

#[test]
fn a_generated_history_opens_with_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    testdata::write_history(&path, 500, testdata::DEFAULT_SEED).unwrap();
    let store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.len(), 500);
    assert!(!store.load_report().is_damaged());
}

#[test]
fn a_stablenew_file_of_n_jobs_imports_as_n_records() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("job_history.jsonl");
    let (lines, _) = testdata::write_stablenew_jobs(&source, 700, testdata::DEFAULT_SEED).unwrap();
    assert!(lines > 700, "several lines per job ({lines})");
    // The first lines are those of the line-count generator.
    let by_lines = dir.path().join("by_lines.jsonl");
    testdata::write_stablenew(&by_lines, lines, testdata::DEFAULT_SEED).unwrap();
    let (jobs_text, lines_text) = (
        std::fs::read_to_string(&source).unwrap(),
        std::fs::read_to_string(&by_lines).unwrap(),
    );
    assert!(lines_text.starts_with(&jobs_text[..jobs_text.len() / 2]));

    let mut store = HistoryStore::open(dir.path().join("history.jsonl")).unwrap();
    let report = import_stablenew(&mut store, &source).unwrap();
    assert_eq!((report.jobs, report.imported), (700, 700));
    assert_eq!(store.len(), 700);
}
