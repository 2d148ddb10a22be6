//! The `imported_from: "StableNew"` marker an import writes into a job's prompt payload says
//! where the job came from: it is not searchable text (a search for "stable" or "new" finds
//! prompts, not every imported job) and it never reaches a CSV or infotext export.

extern crate promptdesk_core as promptdesk;

use promptdesk::history::{
    ExportFormat, HistoryFilter, IMPORTED_FROM_KEY, IMPORTED_FROM_STABLENEW, SearchIndex,
    export_records, filter_indices, filter_indices_indexed, is_stablenew_import,
    read_stablenew_history,
};
use promptdesk::{JobRecord, build_run_config_for_manual_prompt, job_record_from_run_config};
use std::path::Path;

/// The jobs of the StableNew fixture, as the import writes them, and one job of the app's
/// whose prompt says "StableNew" (so a search for the word still finds prompts).
fn records() -> Vec<JobRecord> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stablenew/history/job_history.jsonl");
    let (mut records, _) = read_stablenew_history(&path).expect("fixture is readable");
    assert!(records.len() > 3);
    for r in &records {
        assert_eq!(
            r.run_config.prompt_payload[IMPORTED_FROM_KEY], IMPORTED_FROM_STABLENEW,
            "{}",
            r.job_id
        );
        assert!(is_stablenew_import(r));
    }
    let cfg = build_run_config_for_manual_prompt("a poster that says StableNew", "", None);
    records.push(job_record_from_run_config("mine", &cfg));
    records
}

/// The ids of the records a text search finds, without and with the search index (they must
/// agree).
fn found(records: &[JobRecord], text: &str) -> Vec<String> {
    let filter = HistoryFilter {
        text: text.to_owned(),
        ..HistoryFilter::default()
    };
    let ids = |rows: Vec<u32>| -> Vec<String> {
        rows.into_iter()
            .map(|i| records[i as usize].job_id.clone())
            .collect()
    };
    let plain = ids(filter_indices(records, &filter));
    let index = SearchIndex::build(records);
    assert_eq!(
        ids(filter_indices_indexed(records, &index, &filter)),
        plain,
        "index and plain search differ for {text:?}"
    );
    plain
}

#[test]
fn the_import_marker_is_not_searched() {
    let records = records();
    let mut unmarked = records.clone();
    for r in &mut unmarked {
        r.run_config.prompt_payload.shift_remove(IMPORTED_FROM_KEY);
    }
    // The marker finds nothing the rest of the record does not (ids such as `new-job@…` are
    // still found by "new").
    for word in [
        "stable",
        "new",
        "StableNew",
        "imported",
        "imported_from",
        "from",
    ] {
        assert_eq!(found(&records, word), found(&unmarked, word), "{word:?}");
    }
    // The prompt that says it is still found, by any case; no imported job is.
    assert_eq!(found(&records, "stable"), ["mine"]);
    assert_eq!(found(&records, "imported"), Vec::<String>::new());
    // Prompt words of imported jobs are found as before.
    assert!(found(&records, "a").len() > 3);
}

#[test]
fn the_import_marker_is_not_exported_as_csv_or_infotext() {
    let records = records();
    let imported = &records[..records.len() - 1];
    let export = |format| {
        let mut out = Vec::new();
        export_records(imported, format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    // Infotext is prompts and settings only.
    let infotext = export(ExportFormat::Infotext);
    assert!(!infotext.contains(IMPORTED_FROM_STABLENEW), "{infotext}");
    // CSV: no cell is the marker (error messages may name StableNew: they say what happened).
    let csv_text = export(ExportFormat::Csv);
    let mut rows = csv::Reader::from_reader(csv_text.as_bytes());
    let mut n = 0;
    for row in rows.records() {
        let row = row.unwrap();
        assert!(
            row.iter()
                .all(|cell| cell != IMPORTED_FROM_STABLENEW && !cell.contains(IMPORTED_FROM_KEY)),
            "{row:?}"
        );
        n += 1;
    }
    assert_eq!(n, imported.len());
    // JSON Lines is the whole record: the marker stays, so a history rebuilt from the export
    // still tells the imported jobs apart.
    let mut out = Vec::new();
    export_records(imported, ExportFormat::Jsonl, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text.matches("\"imported_from\":\"StableNew\"").count(),
        imported.len()
    );
}
