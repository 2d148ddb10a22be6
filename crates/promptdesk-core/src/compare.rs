//! Compare: two or more jobs (or images of jobs) side by side, with a diff of only what
//! differs among them (issue 13, after A1111 issue #7342).
//!
//! [`compare`] takes the items (a record, and optionally one of its images) and gives a
//! [`Comparison`]: one [`Row`] per field whose value is not the same for every item, and the
//! rows of the fields that are (so a UI can say "12 fields are the same" or show them all).
//! Prompts are compared token by token ([`prompt_tokens`]: split on commas and whitespace,
//! an A1111 weight `(red hair:1.2)` or a `<lora:x:0.8>` kept as one token); each item's
//! tokens say whether every item has them. An image brings its own rendered prompt, seed and
//! size ([`image_request`]). A value the record does not know (a setting an import never
//! recorded, no backend, no rating) shows as [`ABSENT`].

use crate::job_record::JobRecord;
use crate::outputs::OutputImage;
use crate::run_config::{PromptSource, RenderedRequest};
use std::collections::BTreeSet;

/// What an unknown or absent value shows as.
pub const ABSENT: &str = "—";

/// One thing to compare: a job, or one of its images (`image` indexes `result.images`).
#[derive(Debug, Clone, Copy)]
pub struct CompareInput<'a> {
    pub record: &'a JobRecord,
    pub image: Option<usize>,
}

impl<'a> CompareInput<'a> {
    pub fn job(record: &'a JobRecord) -> CompareInput<'a> {
        CompareInput {
            record,
            image: None,
        }
    }

    pub fn image(record: &'a JobRecord, index: usize) -> CompareInput<'a> {
        CompareInput {
            record,
            image: Some(index),
        }
    }

    /// The image, when one is given and the record has it.
    pub fn output_image(&self) -> Option<&'a OutputImage> {
        let index = self.image?;
        self.record.result.as_ref()?.images.get(index)
    }

    /// The seed of this item: the image's own, else the one the job used (or was set to);
    /// None when the record never knew it.
    pub fn seed(&self) -> Option<i64> {
        match self.output_image() {
            Some(image) => Some(image.seed),
            None => crate::history::seed_written(&self.record.run_config),
        }
    }

    /// The rating of this item: the image's, else the job's (its best image's), and
    /// whether it (any of the job's images) is a favourite.
    pub fn rating(&self) -> (Option<u8>, bool) {
        match self.output_image() {
            Some(image) => (image.rating, image.favorite),
            None => {
                let images = self
                    .record
                    .result
                    .as_ref()
                    .map(|r| r.images.as_slice())
                    .unwrap_or_default();
                (
                    images.iter().filter_map(|i| i.rating).max(),
                    images.iter().any(|i| i.favorite),
                )
            }
        }
    }
}

/// The fields compared, in the order rows are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Prompt,
    NegativePrompt,
    Source,
    Styles,
    Backend,
    Model,
    Sampler,
    Scheduler,
    Steps,
    Cfg,
    Size,
    Seed,
    Batch,
    ClipSkip,
    Rating,
}

impl Field {
    pub const ALL: [Field; 15] = [
        Field::Prompt,
        Field::NegativePrompt,
        Field::Source,
        Field::Styles,
        Field::Backend,
        Field::Model,
        Field::Sampler,
        Field::Scheduler,
        Field::Steps,
        Field::Cfg,
        Field::Size,
        Field::Seed,
        Field::Batch,
        Field::ClipSkip,
        Field::Rating,
    ];

    /// The field's name as a row shows it (A1111's infotext names where it has one).
    pub fn label(self) -> &'static str {
        match self {
            Field::Prompt => "Prompt",
            Field::NegativePrompt => "Negative prompt",
            Field::Source => "Prompt source",
            Field::Styles => "Styles",
            Field::Backend => "Backend",
            Field::Model => "Model",
            Field::Sampler => "Sampler",
            Field::Scheduler => "Schedule type",
            Field::Steps => "Steps",
            Field::Cfg => "CFG scale",
            Field::Size => "Size",
            Field::Seed => "Seed",
            Field::Batch => "Batch",
            Field::ClipSkip => "Clip skip",
            Field::Rating => "Rating",
        }
    }

    /// True for the prompt fields (their cells are tokens).
    pub fn is_prompt(self) -> bool {
        matches!(self, Field::Prompt | Field::NegativePrompt)
    }
}

/// One prompt token of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    /// What separates it from the token before, as the prompt has it: ", " when a comma
    /// does, else " "; empty for the first token.
    pub sep: &'static str,
    /// Every item's prompt has this token.
    pub in_all: bool,
}

/// One item's value of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    /// A prompt, token by token (empty: no prompt).
    Tokens(Vec<Token>),
}

impl Cell {
    /// The cell as plain text: a prompt's tokens with their separators, an empty prompt as
    /// [`ABSENT`].
    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Tokens(tokens) if tokens.is_empty() => ABSENT.to_owned(),
            Cell::Tokens(tokens) => tokens
                .iter()
                .map(|t| format!("{}{}", t.sep, t.text))
                .collect(),
        }
    }

    /// The tokens not every item has.
    pub fn differing_tokens(&self) -> Vec<&str> {
        match self {
            Cell::Text(_) => Vec::new(),
            Cell::Tokens(tokens) => tokens
                .iter()
                .filter(|t| !t.in_all)
                .map(|t| t.text.as_str())
                .collect(),
        }
    }
}

/// One field: one cell per item, in the items' order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub field: Field,
    pub cells: Vec<Cell>,
}

/// What [`compare`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// The fields whose values differ among the items, in [`Field::ALL`] order.
    pub rows: Vec<Row>,
    /// The fields equal for every item, in the same order.
    pub same: Vec<Row>,
}

impl Comparison {
    /// How many fields are the same for every item.
    pub fn same_count(&self) -> usize {
        self.same.len()
    }

    /// The row of `field` when it differs.
    pub fn row(&self, field: Field) -> Option<&Row> {
        self.rows.iter().find(|r| r.field == field)
    }

    /// Every row, differing or not, in [`Field::ALL`] order.
    pub fn all_rows(&self) -> Vec<&Row> {
        let mut all: Vec<&Row> = self.rows.iter().chain(&self.same).collect();
        all.sort_by_key(|r| r.field);
        all
    }
}

/// The request an image was rendered from: the job's request of the same key and variant,
/// else the first of its key, else the job's only request.
pub fn image_request(record: &JobRecord, image: &OutputImage) -> Option<RenderedRequest> {
    let requests = record.run_config.requests();
    let exact = requests
        .iter()
        .position(|r| r.key == image.key && r.variant == image.variant);
    let at = exact.or_else(|| requests.iter().position(|r| r.key == image.key));
    at.map(|i| requests[i].clone())
        .or_else(|| (requests.len() == 1).then(|| requests[0].clone()))
}

/// A prompt's tokens: split on commas and whitespace, except inside brackets, so an A1111
/// weight `(red hair:1.2)`, `[from:to:0.5]` or `<lora:x:0.8>` stays one token (its inner
/// whitespace made single spaces). A bracket that is never closed is an ordinary character.
pub fn prompt_tokens(text: &str) -> Vec<String> {
    split_prompt(text).into_iter().map(|(_, t)| t).collect()
}

/// [`prompt_tokens`], each with what separates it from the one before (see [`Token::sep`]).
fn split_prompt(text: &str) -> Vec<(&'static str, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens: Vec<(&'static str, String)> = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    // A comma since the last token.
    let mut comma = false;
    let flush =
        |current: &mut String, tokens: &mut Vec<(&'static str, String)>, comma: &mut bool| {
            let token = current.trim();
            if !token.is_empty() {
                let sep = match (tokens.is_empty(), *comma) {
                    (true, _) => "",
                    (false, true) => ", ",
                    (false, false) => " ",
                };
                tokens.push((sep, token.to_owned()));
                *comma = false;
            }
            current.clear();
        };
    for (i, &c) in chars.iter().enumerate() {
        if depth == 0 && (c == ',' || c.is_whitespace()) {
            flush(&mut current, &mut tokens, &mut comma);
            comma |= c == ',';
            continue;
        }
        if is_opener(c) {
            if depth > 0 || closes_later(&chars[i..]) {
                depth += 1;
            }
        } else if is_closer(c) && depth > 0 {
            depth -= 1;
        }
        if c.is_whitespace() {
            if !current.ends_with(' ') {
                current.push(' ');
            }
        } else {
            current.push(c);
        }
    }
    flush(&mut current, &mut tokens, &mut comma);
    tokens
}

fn is_opener(c: char) -> bool {
    matches!(c, '(' | '[' | '{' | '<')
}

fn is_closer(c: char) -> bool {
    matches!(c, ')' | ']' | '}' | '>')
}

/// True when the bracket opening `rest` is closed before the text ends.
fn closes_later(rest: &[char]) -> bool {
    let mut depth = 0usize;
    for &c in rest {
        if is_opener(c) {
            depth += 1;
        } else if is_closer(c) {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return true;
            }
        }
    }
    false
}

/// An item's positive and negative prompt: the image's own request, else every request of
/// the job (a pack job with several keys: their prompts one after the other).
fn prompts(item: &CompareInput<'_>) -> (String, String) {
    if let Some(image) = item.output_image()
        && let Some(request) = image_request(item.record, image)
    {
        return (request.prompt, request.negative_prompt);
    }
    let requests = item.record.run_config.requests();
    let join = |f: fn(&RenderedRequest) -> &str| {
        requests
            .iter()
            .map(f)
            .filter(|t| !t.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    };
    (join(|r| &r.prompt), join(|r| &r.negative_prompt))
}

/// Stars as text ("★★★☆☆", or [`ABSENT`] when unrated), with " ♥" for a favourite.
pub fn rating_text(rating: Option<u8>, favorite: bool) -> String {
    let stars = match rating.filter(|r| (1..=5).contains(r)) {
        Some(r) => format!("{}{}", "★".repeat(r as usize), "☆".repeat(5 - r as usize)),
        None => ABSENT.to_owned(),
    };
    if favorite {
        format!("{stars} ♥")
    } else {
        stars
    }
}

/// A seed as text: "-1 (random)" for a random one, [`ABSENT`] when unknown.
pub fn seed_text(seed: Option<i64>) -> String {
    match seed {
        Some(s) if s < 0 => format!("{s} (random)"),
        Some(s) => s.to_string(),
        None => ABSENT.to_owned(),
    }
}

/// The text of a setting field of one item ([`ABSENT`] for what the record does not know).
fn setting_text(item: &CompareInput<'_>, field: Field) -> String {
    let record = item.record;
    let cfg = &record.run_config;
    let s = &cfg.settings;
    let unknown = cfg.unknown_settings();
    let known = |names: &[&str]| !names.iter().any(|n| unknown.iter().any(|u| u == n));
    let or_absent = |text: &str| {
        if text.trim().is_empty() {
            ABSENT.to_owned()
        } else {
            text.to_owned()
        }
    };
    let image = item.output_image();
    match field {
        Field::Source => match record.prompt_source {
            PromptSource::Manual => "MANUAL".to_owned(),
            PromptSource::Pack => {
                let pack = record.prompt_pack_id.as_deref().unwrap_or(ABSENT);
                if record.prompt_keys.is_empty() {
                    format!("PACK {pack}")
                } else {
                    format!("PACK {pack}: {}", record.prompt_keys.join(", "))
                }
            }
        },
        Field::Styles => {
            let styles = cfg.prompt_styles();
            if styles.is_empty() {
                ABSENT.to_owned()
            } else {
                styles
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }
        Field::Backend => match &record.result {
            Some(result) if !result.backend.trim().is_empty() => result.backend.clone(),
            _ => or_absent(record.backend.as_deref().unwrap_or_default()),
        },
        Field::Model if known(&["model"]) => or_absent(&s.model),
        Field::Sampler if known(&["sampler"]) => or_absent(&s.sampler),
        Field::Scheduler if known(&["scheduler"]) => or_absent(&s.scheduler),
        Field::Steps if known(&["steps"]) => s.steps.to_string(),
        Field::Cfg if known(&["cfg_scale"]) => s.cfg_scale.to_string(),
        Field::Size => match image.filter(|i| i.width > 0 && i.height > 0) {
            Some(i) => format!("{}×{}", i.width, i.height),
            None if known(&["width", "height"]) => format!("{}×{}", s.width, s.height),
            None => ABSENT.to_owned(),
        },
        Field::Seed => seed_text(item.seed()),
        Field::Batch if known(&["batch_size", "batch_count"]) => {
            format!("{} × {}", s.batch_size, s.batch_count)
        }
        Field::ClipSkip if known(&["clip_skip"]) => s.clip_skip.to_string(),
        Field::Rating => {
            let (rating, favorite) = item.rating();
            rating_text(rating, favorite)
        }
        _ => ABSENT.to_owned(),
    }
}

/// The prompt row of `tokens` (one token list per item): each token marked with whether
/// every item has it. Differs when the items' token lists differ.
fn prompt_row(field: Field, tokens: &[Vec<(&'static str, String)>]) -> (Row, bool) {
    let sets: Vec<BTreeSet<&str>> = tokens
        .iter()
        .map(|t| t.iter().map(|(_, t)| t.as_str()).collect())
        .collect();
    let cells = tokens
        .iter()
        .map(|item| {
            Cell::Tokens(
                item.iter()
                    .map(|(sep, t)| Token {
                        text: t.clone(),
                        sep,
                        in_all: sets.iter().all(|s| s.contains(t.as_str())),
                    })
                    .collect(),
            )
        })
        .collect();
    // Token by token: a change of separators alone (", " for " ") is no difference.
    let differs = tokens
        .windows(2)
        .any(|w| w[0].len() != w[1].len() || w[0].iter().zip(&w[1]).any(|(a, b)| a.1 != b.1));
    (Row { field, cells }, differs)
}

/// Compares the items: one row per field whose value is not the same for all of them (in
/// [`Comparison::rows`]), the others in [`Comparison::same`]. Fewer than two items differ
/// in nothing.
pub fn compare(items: &[CompareInput<'_>]) -> Comparison {
    let mut out = Comparison::default();
    type Tokens = Vec<(&'static str, String)>;
    let (positives, negatives): (Vec<Tokens>, Vec<Tokens>) = items
        .iter()
        .map(|item| {
            let (p, n) = prompts(item);
            (split_prompt(&p), split_prompt(&n))
        })
        .unzip();
    for field in Field::ALL {
        let (row, differs) = match field {
            Field::Prompt => prompt_row(field, &positives),
            Field::NegativePrompt => prompt_row(field, &negatives),
            _ => {
                let cells: Vec<Cell> = items
                    .iter()
                    .map(|item| Cell::Text(setting_text(item, field)))
                    .collect();
                let differs = cells.windows(2).any(|w| w[0] != w[1]);
                (Row { field, cells }, differs)
            }
        };
        if differs {
            out.rows.push(row);
        } else {
            out.same.push(row);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::JobResult;
    use crate::{build_run_config_for_manual_prompt, job_record_from_run_config};

    fn job(id: &str, prompt: &str, negative: &str) -> JobRecord {
        let cfg = build_run_config_for_manual_prompt(prompt, negative, None);
        job_record_from_run_config(id, &cfg)
    }

    fn with_images(mut record: JobRecord, seeds: &[i64]) -> JobRecord {
        record.result = Some(JobResult {
            backend: "local".into(),
            images: seeds
                .iter()
                .enumerate()
                .map(|(i, &seed)| OutputImage {
                    path: format!("outputs/{}-{i}.png", record.job_id),
                    seed,
                    width: 512,
                    height: 512,
                    sha256: format!("{}-{i}", record.job_id),
                    variant: 1,
                    ..OutputImage::default()
                })
                .collect(),
            ..JobResult::default()
        });
        record
    }

    fn fields(c: &Comparison) -> Vec<Field> {
        c.rows.iter().map(|r| r.field).collect()
    }

    fn texts(row: &Row) -> Vec<String> {
        row.cells.iter().map(Cell::text).collect()
    }

    #[test]
    fn tokens_keep_weights_loras_and_brackets_whole() {
        assert_eq!(
            prompt_tokens("a fox, (red hair:1.2),  <lora:x style:0.8>\nsnow,,[from:to:0.5]"),
            vec![
                "a",
                "fox",
                "(red hair:1.2)",
                "<lora:x style:0.8>",
                "snow",
                "[from:to:0.5]"
            ]
        );
        // Inner whitespace is made one space; an unclosed bracket is an ordinary character.
        assert_eq!(prompt_tokens("((big   cat))"), vec!["((big cat))"]);
        assert_eq!(prompt_tokens("(open paren"), vec!["(open", "paren"]);
        assert_eq!(prompt_tokens("  ,  "), Vec::<String>::new());
        // The separators are kept for display: a comma as ", ", whitespace as " ".
        let a = job("a", "a  fox,snow , (red hair:1.2)", "");
        let b = job("b", "", "");
        let c = compare(&[CompareInput::job(&a), CompareInput::job(&b)]);
        assert_eq!(
            texts(c.row(Field::Prompt).unwrap()),
            vec!["a fox, snow, (red hair:1.2)", ABSENT]
        );
    }

    #[test]
    fn two_equal_items_differ_in_nothing() {
        let a = job("a", "a fox, snow", "blurry");
        let b = job("b", "a fox, snow", "blurry");
        let c = compare(&[CompareInput::job(&a), CompareInput::job(&b)]);
        assert!(c.rows.is_empty(), "{:?}", c.rows);
        assert_eq!(c.same_count(), Field::ALL.len());
        assert_eq!(c.all_rows().len(), Field::ALL.len());
    }

    #[test]
    fn fewer_than_two_items_differ_in_nothing() {
        let a = job("a", "a fox", "");
        assert!(compare(&[CompareInput::job(&a)]).rows.is_empty());
        assert!(compare(&[]).rows.is_empty());
    }

    #[test]
    fn only_the_seed_differs() {
        let mut a = job("a", "a fox", "blurry");
        let mut b = job("b", "a fox", "blurry");
        a.run_config.settings.seed = 1;
        b.run_config.settings.seed = 2;
        let c = compare(&[CompareInput::job(&a), CompareInput::job(&b)]);
        assert_eq!(fields(&c), vec![Field::Seed]);
        assert_eq!(texts(&c.rows[0]), vec!["1", "2"]);
        assert_eq!(c.same_count(), Field::ALL.len() - 1);
    }

    #[test]
    fn a_random_seed_and_an_unknown_setting_are_named() {
        let a = job("a", "a fox", "");
        let mut b = job("b", "a fox", "");
        b.run_config
            .set_unknown_settings(&["steps".into(), "seed".into()]);
        let c = compare(&[CompareInput::job(&a), CompareInput::job(&b)]);
        assert_eq!(fields(&c), vec![Field::Steps, Field::Seed]);
        assert_eq!(texts(c.row(Field::Steps).unwrap()), vec!["20", ABSENT]);
        assert_eq!(
            texts(c.row(Field::Seed).unwrap()),
            vec!["-1 (random)", ABSENT]
        );
    }

    #[test]
    fn a_word_added_is_marked_in_the_item_that_has_it() {
        let a = job("a", "a fox, snow", "");
        let b = job("b", "a fox, snow, moonlight", "");
        let c = compare(&[CompareInput::job(&a), CompareInput::job(&b)]);
        assert_eq!(fields(&c), vec![Field::Prompt]);
        let row = &c.rows[0];
        assert!(row.cells[0].differing_tokens().is_empty());
        assert_eq!(row.cells[1].differing_tokens(), vec!["moonlight"]);
        let Cell::Tokens(tokens) = &row.cells[1] else {
            panic!("a prompt is tokens")
        };
        assert!(tokens.iter().find(|t| t.text == "fox").unwrap().in_all);
    }

    #[test]
    fn a_word_removed_and_a_reweighted_word_are_marked_in_both() {
        let a = job("a", "a fox, (snow:1.2), night", "blurry, lowres");
        let b = job("b", "a fox, (snow:1.4)", "blurry");
        let c = compare(&[CompareInput::job(&a), CompareInput::job(&b)]);
        assert_eq!(fields(&c), vec![Field::Prompt, Field::NegativePrompt]);
        let prompt = c.row(Field::Prompt).unwrap();
        assert_eq!(
            prompt.cells[0].differing_tokens(),
            vec!["(snow:1.2)", "night"]
        );
        assert_eq!(prompt.cells[1].differing_tokens(), vec!["(snow:1.4)"]);
        let negative = c.row(Field::NegativePrompt).unwrap();
        assert_eq!(negative.cells[0].differing_tokens(), vec!["lowres"]);
        assert!(negative.cells[1].differing_tokens().is_empty());
    }

    #[test]
    fn a_reordered_prompt_differs_but_every_token_is_common() {
        let a = job("a", "fox, snow", "");
        let b = job("b", "snow, fox", "");
        let c = compare(&[CompareInput::job(&a), CompareInput::job(&b)]);
        let row = c.row(Field::Prompt).expect("the order differs");
        assert!(row.cells.iter().all(|c| c.differing_tokens().is_empty()));
        // Other separators alone are no difference.
        let a = job("a", "fox, snow", "");
        let b = job("b", "fox snow", "");
        let c = compare(&[CompareInput::job(&a), CompareInput::job(&b)]);
        assert!(c.rows.is_empty(), "{:?}", c.rows);
    }

    #[test]
    fn three_items_where_two_agree() {
        let mut a = job("a", "a fox", "");
        let mut b = job("b", "a fox", "");
        let mut c3 = job("c", "a fox, <lora:ink:0.8>", "");
        a.run_config.settings.steps = 20;
        b.run_config.settings.steps = 20;
        c3.run_config.settings.steps = 30;
        c3.run_config.settings.sampler = "DPM++ 2M".into();
        let c = compare(&[
            CompareInput::job(&a),
            CompareInput::job(&b),
            CompareInput::job(&c3),
        ]);
        assert_eq!(
            fields(&c),
            vec![Field::Prompt, Field::Sampler, Field::Steps]
        );
        assert_eq!(texts(c.row(Field::Steps).unwrap()), vec!["20", "20", "30"]);
        let prompt = c.row(Field::Prompt).unwrap();
        assert!(prompt.cells[0].differing_tokens().is_empty());
        assert_eq!(prompt.cells[2].differing_tokens(), vec!["<lora:ink:0.8>"]);
    }

    #[test]
    fn images_of_one_job_differ_in_their_seed() {
        let a = with_images(job("a", "a fox", ""), &[111, 222]);
        let c = compare(&[CompareInput::image(&a, 0), CompareInput::image(&a, 1)]);
        assert_eq!(fields(&c), vec![Field::Seed]);
        assert_eq!(texts(&c.rows[0]), vec!["111", "222"]);
        // The job itself against its first image: the configured (random) seed differs.
        let c = compare(&[CompareInput::job(&a), CompareInput::image(&a, 0)]);
        assert_eq!(fields(&c), vec![Field::Seed]);
        assert_eq!(texts(&c.rows[0]), vec!["-1 (random)", "111"]);
    }

    #[test]
    fn an_image_uses_its_own_request_of_a_pack_job() {
        let mut a = with_images(job("a", "", ""), &[1, 2]);
        a.prompt_source = PromptSource::Pack;
        a.prompt_pack_id = Some("animals".into());
        a.run_config.set_rendered(&[
            RenderedRequest {
                key: "fox".into(),
                variant: 1,
                prompt: "a fox".into(),
                ..RenderedRequest::default()
            },
            RenderedRequest {
                key: "owl".into(),
                variant: 1,
                prompt: "an owl".into(),
                ..RenderedRequest::default()
            },
        ]);
        let images = &mut a.result.as_mut().unwrap().images;
        images[0].key = "fox".into();
        images[1].key = "owl".into();
        let c = compare(&[CompareInput::image(&a, 0), CompareInput::image(&a, 1)]);
        assert_eq!(fields(&c), vec![Field::Prompt, Field::Seed]);
        let prompt = c.row(Field::Prompt).unwrap();
        assert_eq!(prompt.cells[0].differing_tokens(), vec!["a", "fox"]);
        assert_eq!(prompt.cells[1].differing_tokens(), vec!["an", "owl"]);
        assert_eq!(texts(prompt), vec!["a fox", "an owl"]);
    }

    #[test]
    fn source_backend_and_rating_differ() {
        let mut a = with_images(job("a", "a fox", ""), &[5]);
        let mut b = with_images(job("b", "a fox", ""), &[5]);
        b.prompt_source = PromptSource::Pack;
        b.prompt_pack_id = Some("animals".into());
        b.prompt_keys = vec!["fox".into()];
        b.result.as_mut().unwrap().backend = "remote".into();
        a.result.as_mut().unwrap().images[0].rating = Some(4);
        a.result.as_mut().unwrap().images[0].favorite = true;
        let c = compare(&[CompareInput::image(&a, 0), CompareInput::image(&b, 0)]);
        assert_eq!(
            fields(&c),
            vec![Field::Source, Field::Backend, Field::Rating]
        );
        assert_eq!(
            texts(c.row(Field::Source).unwrap()),
            vec!["MANUAL", "PACK animals: fox"]
        );
        assert_eq!(
            texts(c.row(Field::Backend).unwrap()),
            vec!["local", "remote"]
        );
        assert_eq!(
            texts(c.row(Field::Rating).unwrap()),
            vec!["★★★★☆ ♥", ABSENT]
        );
    }

    #[test]
    fn an_image_index_out_of_range_falls_back_to_the_job() {
        let a = with_images(job("a", "a fox", ""), &[7]);
        let item = CompareInput::image(&a, 9);
        assert!(item.output_image().is_none());
        assert_eq!(item.seed(), Some(-1));
    }
}
