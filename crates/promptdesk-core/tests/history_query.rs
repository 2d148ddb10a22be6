//! History queries: every filter kind, AND of search terms, case-insensitivity and unicode,
//! sorting by every column in both directions (checked against a plain reference sort), and
//! stability. Large data sets cross the parallel chunk boundaries.

extern crate promptdesk_core as promptdesk;

use chrono::{DateTime, TimeZone, Utc};
use promptdesk::history::{
    HistoryFilter, SearchIndex, SortColumn, filter_indices, filter_indices_indexed,
    first_prompt_line, first_prompt_str, query_indices, query_indices_indexed, sort_indices,
};
use promptdesk::outputs::{JobResult, OutputImage};
use promptdesk::{
    GenerationSettings, JobRecord, JobStatus, PromptSource, RunConfig, job_record_from_run_config,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::cmp::Ordering;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_750_000_000 + secs, 0)
        .single()
        .expect("valid time")
}

/// (key, prompt, negative prompt)
type PackPrompt<'a> = (&'a str, &'a str, &'a str);

struct Spec<'a> {
    id: &'a str,
    created: i64,
    pack: Option<(&'a str, &'a [PackPrompt<'a>])>,
    manual: (&'a str, &'a str),
    model: &'a str,
    steps: u32,
    cfg: f64,
    seed: i64,
    status: JobStatus,
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Spec {
            id: "job",
            created: 0,
            pack: None,
            manual: ("", ""),
            model: "",
            steps: 20,
            cfg: 7.0,
            seed: -1,
            status: JobStatus::Completed,
        }
    }
}

fn record(spec: Spec<'_>) -> JobRecord {
    let settings = GenerationSettings {
        model: spec.model.to_owned(),
        steps: spec.steps,
        cfg_scale: spec.cfg,
        seed: spec.seed,
        ..GenerationSettings::default()
    };
    let cfg = match spec.pack {
        Some((pack, prompts)) => {
            let mut map = Map::new();
            for (key, p, n) in prompts {
                map.insert(
                    (*key).to_owned(),
                    json!({"prompt": p, "negative_prompt": n}),
                );
            }
            let mut payload = Map::new();
            payload.insert("pack_id".to_owned(), Value::String(pack.to_owned()));
            payload.insert("prompts".to_owned(), Value::Object(map));
            RunConfig {
                prompt_source: PromptSource::Pack,
                prompt_pack_id: Some(pack.to_owned()),
                prompt_keys: prompts.iter().map(|(k, _, _)| (*k).to_owned()).collect(),
                prompt_payload: payload,
                settings,
                ..RunConfig::default()
            }
        }
        None => promptdesk::build_run_config_for_manual_prompt(
            spec.manual.0,
            spec.manual.1,
            Some(RunConfig {
                settings,
                ..RunConfig::default()
            }),
        ),
    };
    let mut r = job_record_from_run_config(spec.id, &cfg);
    r.created_at = at(spec.created);
    r.status = spec.status;
    r
}

/// A small, varied history.
fn sample() -> Vec<JobRecord> {
    vec![
        record(Spec {
            id: "a-001",
            created: 10,
            manual: ("A Red DRAGON over the castle", "blurry, lowres"),
            model: "sd_xl_base_1.0.safetensors",
            steps: 30,
            cfg: 6.5,
            seed: 42,
            ..Spec::default()
        }),
        record(Spec {
            id: "b-002",
            created: 20,
            pack: Some((
                "fantasy_beasts",
                &[
                    ("1", "a griffin on a cliff", "watermark"),
                    ("2", "a sea serpent in a storm", "text"),
                ],
            )),
            model: "dreamshaper_8.safetensors",
            steps: 25,
            status: JobStatus::Failed,
            ..Spec::default()
        }),
        record(Spec {
            id: "c-003",
            created: 30,
            pack: Some((
                "fantasy_beasts_extra",
                &[("1", "a dragon's hoard of gold", "")],
            )),
            model: "sd_xl_base_1.0.safetensors",
            steps: 40,
            cfg: 9.0,
            seed: 7,
            status: JobStatus::Queued,
            ..Spec::default()
        }),
        record(Spec {
            id: "d-004",
            created: 40,
            manual: ("un été à Paris, café au lait", "ΘΌΡΥΒΟΣ"),
            model: "Juggernaut_XL",
            steps: 20,
            cfg: 7.0,
            seed: 100,
            status: JobStatus::Cancelled,
            ..Spec::default()
        }),
        record(Spec {
            id: "e-005",
            created: 50,
            pack: Some((
                "coastal",
                &[("beacon", "lighthouse at dusk, 東京タワー", "fog")],
            )),
            model: "",
            steps: 28,
            seed: 0,
            status: JobStatus::Running,
            ..Spec::default()
        }),
    ]
}

fn search<'a>(records: &'a [JobRecord], filter: &HistoryFilter) -> Vec<&'a str> {
    let idx = filter_indices(records, filter);
    // The one-record API agrees with the bulk one.
    let one_by_one: Vec<u32> = (0..records.len() as u32)
        .filter(|&i| filter.matches(&records[i as usize]))
        .collect();
    assert_eq!(idx, one_by_one, "matches() and filter_indices() disagree");
    idx.iter()
        .map(|&i| records[i as usize].job_id.as_str())
        .collect()
}

fn text(t: &str) -> HistoryFilter {
    HistoryFilter {
        text: t.to_owned(),
        ..HistoryFilter::default()
    }
}

#[test]
fn an_empty_filter_keeps_every_record_in_order() {
    let records = sample();
    let f = HistoryFilter::default();
    assert!(f.is_empty());
    assert_eq!(
        search(&records, &f),
        vec!["a-001", "b-002", "c-003", "d-004", "e-005"]
    );
    assert_eq!(search(&records, &text("  \t ")).len(), 5);
}

#[test]
fn source_pack_key_and_status_filters_are_exact() {
    let records = sample();
    let source = |s| HistoryFilter {
        source: Some(s),
        ..HistoryFilter::default()
    };
    assert_eq!(
        search(&records, &source(PromptSource::Manual)),
        vec!["a-001", "d-004"]
    );
    assert_eq!(
        search(&records, &source(PromptSource::Pack)),
        vec!["b-002", "c-003", "e-005"]
    );
    let pack = |p: &str| HistoryFilter {
        pack: Some(p.to_owned()),
        ..HistoryFilter::default()
    };
    // Exact: the longer pack id does not match, nor a different case.
    assert_eq!(search(&records, &pack("fantasy_beasts")), vec!["b-002"]);
    assert!(search(&records, &pack("Fantasy_Beasts")).is_empty());
    assert!(search(&records, &pack("fantasy")).is_empty());
    let key = |k: &str| HistoryFilter {
        key: Some(k.to_owned()),
        ..HistoryFilter::default()
    };
    assert_eq!(search(&records, &key("2")), vec!["b-002"]);
    assert_eq!(search(&records, &key("1")), vec!["b-002", "c-003"]);
    assert!(search(&records, &key("light")).is_empty());
    let status = |s| HistoryFilter {
        status: Some(s),
        ..HistoryFilter::default()
    };
    assert_eq!(search(&records, &status(JobStatus::Failed)), vec!["b-002"]);
    assert_eq!(search(&records, &status(JobStatus::Running)), vec!["e-005"]);
    assert_eq!(
        search(&records, &status(JobStatus::Completed)),
        vec!["a-001"]
    );
    // Combined: every part must hold.
    let both = HistoryFilter {
        source: Some(PromptSource::Pack),
        key: Some("1".to_owned()),
        status: Some(JobStatus::Queued),
        ..HistoryFilter::default()
    };
    assert_eq!(search(&records, &both), vec!["c-003"]);
}

#[test]
fn text_search_covers_prompts_negatives_pack_keys_model_and_job_id() {
    let records = sample();
    // positive prompt of a second pack key
    assert_eq!(search(&records, &text("serpent")), vec!["b-002"]);
    // negative prompts
    assert_eq!(search(&records, &text("watermark")), vec!["b-002"]);
    assert_eq!(search(&records, &text("lowres")), vec!["a-001"]);
    // pack id (substring)
    assert_eq!(search(&records, &text("beasts_ext")), vec!["c-003"]);
    // key
    assert_eq!(search(&records, &text("BEACON")), vec!["e-005"]);
    // model
    assert_eq!(search(&records, &text("dreamshaper")), vec!["b-002"]);
    assert_eq!(search(&records, &text("sd_xl")), vec!["a-001", "c-003"]);
    // job id
    assert_eq!(search(&records, &text("d-004")), vec!["d-004"]);
    // settings other than the model are not text: "euler" (every sampler) matches nothing
    assert!(search(&records, &text("euler")).is_empty());
    assert!(search(&records, &text("unicorn")).is_empty());
}

#[test]
fn text_search_ignores_case() {
    let records = sample();
    assert_eq!(search(&records, &text("dragon")), vec!["a-001", "c-003"]);
    assert_eq!(search(&records, &text("DRAGON")), vec!["a-001", "c-003"]);
    assert_eq!(search(&records, &text("dRaGoN")), vec!["a-001", "c-003"]);
    assert_eq!(search(&records, &text("JUGGERNAUT_xl")), vec!["d-004"]);
}

#[test]
fn search_terms_must_all_match_anywhere_in_the_record() {
    let records = sample();
    assert_eq!(search(&records, &text("dragon castle")), vec!["a-001"]);
    assert_eq!(search(&records, &text("  castle   dragon ")), vec!["a-001"]);
    // terms found in different fields (prompt + model, prompt + negative)
    assert_eq!(search(&records, &text("dragon sd_xl gold")), vec!["c-003"]);
    assert_eq!(search(&records, &text("griffin text")), vec!["b-002"]);
    // one term missing -> no match
    assert!(search(&records, &text("dragon unicorn")).is_empty());
    // a phrase is two terms, not an exact phrase
    assert_eq!(search(&records, &text("castle red")), vec!["a-001"]);
}

#[test]
fn text_search_handles_unicode() {
    let records = sample();
    assert_eq!(search(&records, &text("ÉTÉ")), vec!["d-004"]);
    assert_eq!(search(&records, &text("Café")), vec!["d-004"]);
    assert_eq!(search(&records, &text("θόρυβος")), vec!["d-004"]);
    assert_eq!(search(&records, &text("東京")), vec!["e-005"]);
    // "ete" without accents is another word ("safetensors" has it, the French prompt not)
    assert_eq!(
        search(&records, &text("ete")),
        vec!["a-001", "b-002", "c-003"]
    );
    // Apostrophes, punctuation and regex metacharacters are plain text.
    assert_eq!(search(&records, &text("dragon's")), vec!["c-003"]);
    assert!(search(&records, &text("drag.n")).is_empty());
    assert!(search(&records, &text("(detailed")).is_empty());
}

#[test]
fn first_prompt_helpers_read_the_first_selected_prompt() {
    let records = sample();
    assert_eq!(first_prompt_str(&records[1]), "a griffin on a cliff");
    assert_eq!(
        first_prompt_str(&records[0]),
        "A Red DRAGON over the castle"
    );
    for r in &records {
        assert_eq!(first_prompt_str(r), r.first_prompt());
    }
    let multi = record(Spec {
        id: "m",
        manual: ("\n  \n  first line  \nsecond", ""),
        ..Spec::default()
    });
    assert_eq!(first_prompt_line(&multi), "first line");
    let empty = record(Spec::default());
    assert_eq!(first_prompt_line(&empty), "");
}

// ---- sorting ----

/// Text order the history table uses: ASCII case ignored first, then exact.
fn ref_text(a: &str, b: &str) -> Ordering {
    a.to_ascii_lowercase()
        .cmp(&b.to_ascii_lowercase())
        .then_with(|| a.cmp(b))
}

fn ref_cmp(column: SortColumn, a: &JobRecord, b: &JobRecord) -> Ordering {
    let (sa, sb) = (&a.run_config.settings, &b.run_config.settings);
    match column {
        SortColumn::Time => a.created_at.cmp(&b.created_at),
        SortColumn::Source => {
            let rank = |s: PromptSource| if s == PromptSource::Manual { 0 } else { 1 };
            rank(a.prompt_source).cmp(&rank(b.prompt_source))
        }
        SortColumn::Pack => match (&a.prompt_pack_id, &b.prompt_pack_id) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => ref_text(x, y),
        },
        SortColumn::Keys => ref_text(&a.prompt_keys.join(", "), &b.prompt_keys.join(", ")),
        SortColumn::Prompt => ref_text(&a.first_prompt(), &b.first_prompt()),
        SortColumn::Model => ref_text(&sa.model, &sb.model),
        SortColumn::Steps => sa.steps.cmp(&sb.steps),
        SortColumn::Cfg => sa.cfg_scale.total_cmp(&sb.cfg_scale),
        SortColumn::Seed => sa.seed.cmp(&sb.seed),
        SortColumn::Status => a.status.cmp(&b.status),
        SortColumn::ConfigHash => ref_text(&a.config_hash, &b.config_hash),
        // Directed by `reference_sort` itself (unrated last both ways).
        SortColumn::Rating => a.rating().cmp(&b.rating()),
    }
}

/// Rating order: rated jobs by their rating in the direction asked, unrated ones after them.
fn ref_rating(a: &JobRecord, b: &JobRecord, desc: bool) -> Ordering {
    match (a.rating(), b.rating()) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) if desc => y.cmp(&x),
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

/// The reference: std's stable sort with a plain comparator. Time ties fall back to job order
/// (part of the order, so descending reverses it); other ties keep their input order.
fn reference_sort(
    records: &[JobRecord],
    input: &[u32],
    column: SortColumn,
    desc: bool,
) -> Vec<u32> {
    let mut out = input.to_vec();
    out.sort_by(|&x, &y| {
        let (a, b) = (&records[x as usize], &records[y as usize]);
        if column == SortColumn::Rating {
            return ref_rating(a, b, desc);
        }
        let mut o = ref_cmp(column, a, b);
        if column == SortColumn::Time {
            o = o.then(x.cmp(&y));
        }
        if desc { o.reverse() } else { o }
    });
    out
}

/// A deterministic pseudo-random history with many ties, upper/lower case and unicode.
fn generated(n: usize) -> Vec<JobRecord> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    let words = [
        "dragon",
        "Dragon",
        "castle",
        "apple",
        "Apple",
        "banana",
        "zebra",
        "Éclair",
        "été",
        "東京",
        "griffin",
        "",
        "a",
        "A",
        "fog",
        "Fog lights",
        "apple pie",
    ];
    let models = [
        "",
        "sd_xl_base_1.0",
        "SD_XL_base_1.0",
        "dreamshaper",
        "Juggernaut",
    ];
    let packs = ["fantasy", "Fantasy", "coastal", "beasts_vol_2", "Beasts"];
    let keys = ["1", "2", "10", "Hero", "hero", "a key", ""];
    let statuses = JobStatus::ALL;
    (0..n)
        .map(|i| {
            let w1 = words[next(words.len() as u64) as usize];
            let w2 = words[next(words.len() as u64) as usize];
            let prompt = format!("{w1} {w2}");
            let negative = words[next(words.len() as u64) as usize];
            let id = format!("job-{i:06}");
            let mut r = if next(2) == 0 {
                let k1 = keys[next(keys.len() as u64) as usize];
                let k2 = keys[next(keys.len() as u64) as usize];
                let prompts: Vec<(&str, &str, &str)> = if k1 == k2 || next(2) == 0 {
                    vec![(k1, prompt.as_str(), negative)]
                } else {
                    vec![(k1, prompt.as_str(), negative), (k2, w2, "")]
                };
                record(Spec {
                    id: &id,
                    pack: Some((packs[next(packs.len() as u64) as usize], prompts.as_slice())),
                    ..Spec::default()
                })
            } else {
                record(Spec {
                    id: &id,
                    manual: (&prompt, negative),
                    ..Spec::default()
                })
            };
            r.created_at = at(next(50) as i64);
            let s = &mut r.run_config.settings;
            s.model = models[next(models.len() as u64) as usize].to_owned();
            s.steps = 10 + next(4) as u32 * 10;
            s.cfg_scale = [7.0, 6.5, 12.0, -0.0, 0.0][next(5) as usize];
            s.seed = next(5) as i64 - 1;
            r.config_hash = r.run_config.config_hash();
            r.status = statuses[next(statuses.len() as u64) as usize];
            // Ratings from the job's number, leaving the sequence above as it was.
            r.result = rated_images(i);
            r
        })
        .collect()
}

/// A result for job `i` of a generated history: none for a third of the jobs, else one to
/// three images, each unrated or rated 1-5, some favourite.
fn rated_images(i: usize) -> Option<JobResult> {
    let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
    if h.is_multiple_of(3) {
        return None;
    }
    let images = (0..1 + (h >> 2) % 3)
        .map(|n| {
            let bits = h >> (4 + 4 * n);
            OutputImage {
                path: format!("outputs/x/{i}_{n}.png"),
                sha256: format!("{i:032x}{n:032x}"),
                rating: match bits % 8 {
                    0..=2 => None,
                    r => Some(r as u8 - 2),
                },
                favorite: bits.is_multiple_of(11),
                ..OutputImage::default()
            }
        })
        .collect();
    Some(JobResult {
        images,
        ..JobResult::default()
    })
}

#[test]
fn sorting_by_every_column_in_both_directions_matches_the_reference() {
    let records = generated(3_000);
    // A shuffled subset as input, to check that ties keep the *input* order.
    let mut input: Vec<u32> = (0..records.len() as u32).filter(|i| i % 3 != 1).collect();
    input.reverse();
    input.swap(0, 100);
    for column in SortColumn::ALL {
        for desc in [false, true] {
            let mut got = input.clone();
            sort_indices(&records, &mut got, column, desc);
            let want = reference_sort(&records, &input, column, desc);
            assert_eq!(got, want, "{column:?} descending={desc}");
        }
    }
}

#[test]
fn sorting_large_inputs_across_parallel_chunks_matches_the_reference() {
    // 40,000 rows with few distinct texts per column: the text columns take the rank path.
    let records = generated(40_000);
    let input: Vec<u32> = (0..records.len() as u32).collect();
    for column in SortColumn::ALL {
        for desc in [false, true] {
            let mut got = input.clone();
            sort_indices(&records, &mut got, column, desc);
            assert_eq!(
                got,
                reference_sort(&records, &input, column, desc),
                "{column:?} descending={desc}"
            );
        }
    }
}

#[test]
fn sorting_is_stable_and_time_ties_follow_job_order() {
    // Five jobs created in the same second, two later ones.
    let mut records: Vec<JobRecord> = (0..7)
        .map(|i| {
            record(Spec {
                id: &format!("j{i}"),
                created: if i < 5 { 100 } else { 200 + i as i64 },
                steps: if i % 2 == 0 { 20 } else { 30 },
                ..Spec::default()
            })
        })
        .collect();
    records.swap(5, 6); // j6 (created 206) now comes before j5 (created 205) in the file
    let ids = |idx: &[u32]| -> Vec<String> {
        idx.iter()
            .map(|&i| records[i as usize].job_id.clone())
            .collect()
    };
    let all: Vec<u32> = (0..7).collect();

    let mut newest_first = all.clone();
    sort_indices(&records, &mut newest_first, SortColumn::Time, true);
    assert_eq!(
        ids(&newest_first),
        ["j6", "j5", "j4", "j3", "j2", "j1", "j0"]
    );
    let mut oldest_first = all.clone();
    sort_indices(&records, &mut oldest_first, SortColumn::Time, false);
    assert_eq!(
        ids(&oldest_first),
        ["j0", "j1", "j2", "j3", "j4", "j5", "j6"]
    );

    // Steps ties keep their input order in both directions.
    let mut input = vec![3, 0, 6, 1, 4, 2, 5];
    sort_indices(&records, &mut input, SortColumn::Steps, false);
    // steps: j0 20, j1 30, j2 20, j3 30, j4 20, j5(idx 6) 30, j6(idx 5) 20
    assert_eq!(ids(&input), ["j0", "j4", "j2", "j6", "j3", "j5", "j1"]);
    let mut input = vec![3, 0, 6, 1, 4, 2, 5];
    sort_indices(&records, &mut input, SortColumn::Steps, true);
    assert_eq!(ids(&input), ["j3", "j5", "j1", "j0", "j4", "j2", "j6"]);
}

#[test]
fn text_columns_ignore_case_and_put_records_without_a_pack_first() {
    let records = vec![
        record(Spec {
            id: "1",
            manual: ("banana", ""),
            model: "b",
            ..Spec::default()
        }),
        record(Spec {
            id: "2",
            pack: Some(("Zoo", &[("k", "Apple", "")])),
            model: "A",
            ..Spec::default()
        }),
        record(Spec {
            id: "3",
            pack: Some(("alpha", &[("k", "apple", "")])),
            model: "a",
            ..Spec::default()
        }),
    ];
    let order = |column, desc| {
        let mut idx = vec![0, 1, 2];
        sort_indices(&records, &mut idx, column, desc);
        idx.iter()
            .map(|&i| records[i as usize].job_id.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(order(SortColumn::Pack, false), ["1", "3", "2"]);
    assert_eq!(order(SortColumn::Pack, true), ["2", "3", "1"]);
    assert_eq!(order(SortColumn::Prompt, false), ["2", "3", "1"]);
    assert_eq!(order(SortColumn::Model, false), ["2", "3", "1"]);
    assert_eq!(order(SortColumn::Source, false), ["1", "2", "3"]);
    assert_eq!(order(SortColumn::Source, true), ["2", "3", "1"]);
}

#[test]
fn bad_indices_are_left_alone_instead_of_panicking() {
    let records = sample();
    let mut idx = vec![4, 99, 0];
    sort_indices(&records, &mut idx, SortColumn::Steps, false);
    assert_eq!(idx, vec![4, 99, 0]);
    let mut empty: Vec<u32> = Vec::new();
    sort_indices(&records, &mut empty, SortColumn::Model, true);
    assert!(empty.is_empty());
}

#[test]
fn query_filters_then_sorts() {
    let records = generated(20_000);
    let filter = HistoryFilter {
        text: "apple".to_owned(),
        source: Some(PromptSource::Pack),
        ..HistoryFilter::default()
    };
    let got = query_indices(&records, &filter, SortColumn::Model, true);
    let filtered: Vec<u32> = (0..records.len() as u32)
        .filter(|&i| {
            let r = &records[i as usize];
            r.prompt_source == PromptSource::Pack && naive_text_match(r, "apple")
        })
        .collect();
    assert!(!filtered.is_empty());
    assert_eq!(
        got,
        reference_sort(&records, &filtered, SortColumn::Model, true)
    );
}

/// The plain way: lower-case every searchable string (allocating) and look for the term.
fn naive_text_match(r: &JobRecord, term: &str) -> bool {
    let term = term.to_lowercase();
    let mut fields: Vec<String> = vec![r.job_id.clone(), r.run_config.settings.model.clone()];
    fields.extend(r.prompt_pack_id.clone());
    fields.extend(r.prompt_keys.iter().cloned());
    for (p, n) in r.run_config.prompt_pairs() {
        fields.push(p);
        fields.push(n);
    }
    fields.iter().any(|f| f.to_lowercase().contains(&term))
}

#[test]
fn filtering_large_inputs_across_parallel_chunks_matches_a_naive_search() {
    let records = generated(40_000);
    for query in [
        "apple",
        "APPLE pie",
        "dragon fog",
        "éclair",
        "東京 zebra",
        "job-0399",
        "hero 10",
    ] {
        let want: Vec<u32> = (0..records.len() as u32)
            .filter(|&i| {
                query
                    .split_whitespace()
                    .all(|t| naive_text_match(&records[i as usize], t))
            })
            .collect();
        let got = filter_indices(&records, &text(query));
        assert_eq!(got, want, "query {query:?}");
    }
}

#[test]
fn the_search_index_gives_the_same_rows_as_the_direct_search() {
    let records = generated(40_000);
    let index = SearchIndex::build(&records);
    assert_eq!(index.len(), records.len());
    let mut filters: Vec<HistoryFilter> = [
        "apple",
        "APPLE pie",
        "dragon fog",
        "éclair",
        "東京 zebra",
        "job-0399",
        "hero 10",
        "e",
        "pie ",
        "no-such-word",
        "fog lights",
        "1.0",
    ]
    .into_iter()
    .map(text)
    .collect();
    filters.push(HistoryFilter {
        text: "dragon".into(),
        source: Some(PromptSource::Pack),
        key: Some("10".into()),
        ..HistoryFilter::default()
    });
    filters.push(HistoryFilter {
        text: "castle".into(),
        status: Some(JobStatus::Failed),
        pack: Some("Fantasy".into()),
        ..HistoryFilter::default()
    });
    filters.push(HistoryFilter {
        source: Some(PromptSource::Manual),
        ..HistoryFilter::default()
    });
    filters.push(HistoryFilter {
        text: "apple".into(),
        min_rating: Some(4),
        ..HistoryFilter::default()
    });
    filters.push(HistoryFilter {
        text: "dragon".into(),
        favorites_only: true,
        ..HistoryFilter::default()
    });
    for filter in &filters {
        let want = filter_indices(&records, filter);
        assert_eq!(
            filter_indices_indexed(&records, &index, filter),
            want,
            "{filter:?}"
        );
        assert_eq!(
            query_indices_indexed(&records, &index, filter, SortColumn::Prompt, true),
            query_indices(&records, filter, SortColumn::Prompt, true),
            "{filter:?}"
        );
    }
    // An index built in two parts (the later records added at the end) answers the same.
    let mut grown = SearchIndex::build(&records[..12_345]);
    grown.extend(&records[12_345..]);
    assert_eq!(grown.len(), records.len());
    for filter in &filters {
        assert_eq!(
            filter_indices_indexed(&records, &grown, filter),
            filter_indices(&records, filter),
            "{filter:?}"
        );
    }
    // An index of other records is not trusted.
    let stale = SearchIndex::build(&records[..100]);
    assert_eq!(
        filter_indices_indexed(&records, &stale, &text("apple")),
        filter_indices(&records, &text("apple"))
    );
}

proptest! {
    #[test]
    fn text_search_agrees_with_lowercase_contains(
        prompt in "[aAbBéÉ ,.]{0,24}",
        negative in "[aAbB]{0,6}",
        term in "[aAbBéÉ,.]{1,4}",
    ) {
        let r = record(Spec { id: "x", manual: (&prompt, &negative), ..Spec::default() });
        let expected = naive_text_match(&r, &term);
        prop_assert_eq!(text(&term).matches(&r), expected);
    }
}

#[test]
fn rating_and_favourite_filters_follow_the_best_image_and_any_favourite() {
    let records = generated(40_000);
    let rated = |min: u8| HistoryFilter {
        min_rating: Some(min),
        ..HistoryFilter::default()
    };
    assert!(!rated(3).is_empty());
    assert!(
        rated(0).is_empty(),
        "at least 0 stars lets every job through"
    );
    assert_eq!(filter_indices(&records, &rated(0)).len(), records.len());
    for min in 1..=5u8 {
        let want: Vec<u32> = (0..records.len() as u32)
            .filter(|&i| {
                let images = records[i as usize]
                    .result
                    .as_ref()
                    .map_or(&[][..], |r| &r.images[..]);
                images.iter().any(|im| im.rating.is_some_and(|r| r >= min))
            })
            .collect();
        assert!(!want.is_empty() && want.len() < records.len(), "{min}");
        assert_eq!(filter_indices(&records, &rated(min)), want, "{min}");
    }
    let favourites = HistoryFilter {
        favorites_only: true,
        ..HistoryFilter::default()
    };
    assert!(!favourites.is_empty());
    let want: Vec<u32> = (0..records.len() as u32)
        .filter(|&i| {
            records[i as usize]
                .result
                .as_ref()
                .is_some_and(|r| r.images.iter().any(|im| im.favorite))
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(filter_indices(&records, &favourites), want);
    // Both, with other filters: every part must hold.
    let both = HistoryFilter {
        min_rating: Some(5),
        favorites_only: true,
        status: Some(JobStatus::Completed),
        ..HistoryFilter::default()
    };
    let got = filter_indices(&records, &both);
    assert!(!got.is_empty());
    for &i in &got {
        let r = &records[i as usize];
        assert!(r.rating() == Some(5) && r.is_favorite() && r.status == JobStatus::Completed);
    }
}

#[test]
fn sorting_by_rating_puts_unrated_jobs_last_both_ways() {
    let mut records = generated(6);
    let ratings = [Some(3), None, Some(5), Some(1), None, Some(3)];
    for (r, stars) in records.iter_mut().zip(ratings) {
        r.result = Some(JobResult {
            images: vec![OutputImage {
                rating: stars,
                ..OutputImage::default()
            }],
            ..JobResult::default()
        });
    }
    let order = |desc| {
        let mut idx: Vec<u32> = (0..6).collect();
        sort_indices(&records, &mut idx, SortColumn::Rating, desc);
        idx
    };
    assert_eq!(order(false), [3, 0, 5, 2, 1, 4]);
    assert_eq!(order(true), [2, 0, 5, 3, 1, 4]);
}
