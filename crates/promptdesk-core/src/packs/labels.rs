//! Short labels that tell the prompts of one pack apart in a list.
//!
//! Real packs often repeat a long quality preamble in every prompt (`(masterpiece, best
//! quality) epic creature concept, ...`), so their first words are the same everywhere. A
//! prompt's label is therefore its slot name when it has one, and its text from where it stops
//! matching the other prompts of the pack: the longest word prefix it shares with any other
//! prompt is left out, when that prefix weighs at least [`MIN_SHARED_WEIGHT`] (three words, or
//! six Chinese or Japanese characters; punctuation weighs nothing). A prompt whose words are
//! all shared (the start of another prompt, or the same as another) keeps its last word:
//! "…dragon" for "P dragon" beside "P dragon, breathing fire". LoRA and embedding markup is
//! left out of the text; `[[matrix]]` and `__wildcard__` tokens stay, they are part of what a
//! prompt asks for.
//!
//! Words are split at whitespace and at `,` and `;`; Chinese and Japanese characters (and CJK
//! punctuation) are one word each, as those scripts write no spaces between words. A word
//! counts (weighs) only when it has letters or digits: a whole word 2, a Chinese or Japanese
//! character 1. Korean is written with spaces and is split like Latin text.
//!
//! [`prompt_labels`] works on the whole pack at once (sorting the prompts' word lists, so each
//! prompt is compared with its neighbours only): compute it once per pack load, not per frame.

use super::syntax::{TokenKind, normalize_matrix_name, token_spans};
use super::{MatrixConfig, MatrixSlot, PackPrompt};

/// A shared prefix is left out only when it weighs this much: three words of letters or
/// digits (2 each), or six Chinese or Japanese characters (1 each); punctuation weighs
/// nothing. Leaving out a lone "a", or "a cat," helps nobody.
pub const MIN_SHARED_WEIGHT: usize = 6;

/// Separators a label never starts with (the text after a shared `a, b,` starts after them).
const SEPARATORS: &[char] = &[',', ';', '、', '，', '。', '；', ' ', '\t', '\n', '\r'];

/// How one prompt is named in a list of its pack's prompts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromptLabel {
    /// The prompt's own name (a unified slot's `name`), when it has one.
    pub name: Option<String>,
    /// The positive text from where it differs from the pack's other prompts, on one line
    /// (whitespace runs become one space), without LoRA and embedding markup.
    pub text: String,
    /// True when a prefix shared with other prompts was left out of `text`.
    pub prefix_removed: bool,
}

/// One label per prompt, in the same order (see the module documentation).
pub fn prompt_labels(prompts: &[PackPrompt]) -> Vec<PromptLabel> {
    let cleaned: Vec<String> = prompts.iter().map(label_source).collect();
    let words: Vec<Vec<(usize, &str)>> = cleaned.iter().map(|t| words(t)).collect();
    let shared = shared_prefix_lengths(&words);
    prompts
        .iter()
        .enumerate()
        .map(|(i, prompt)| {
            let rest = cut_point(&words[i], shared[i]).map(|cut| {
                let start = words[i][cut].0;
                one_line(cleaned[i][start..].trim_start_matches(SEPARATORS))
            });
            let (text, prefix_removed) = match rest {
                Some(rest) if !rest.is_empty() => (rest, true),
                _ => (one_line(&cleaned[i]), false),
            };
            PromptLabel {
                name: prompt
                    .label
                    .as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(one_line),
                text,
                prefix_removed,
            }
        })
        .collect()
}

/// How many of `words` a label leaves out, given that the first `shared` are shared with
/// another prompt: all of those when a word follows them, else all but the last word; None
/// when what would be left out weighs less than [`MIN_SHARED_WEIGHT`].
fn cut_point(words: &[(usize, &str)], shared: usize) -> Option<usize> {
    let shared = shared.min(words.len());
    let counts = |(_, w): &(usize, &str)| weight(w) > 0;
    let cut = if words[shared..].iter().any(counts) {
        shared
    } else {
        words[..shared].iter().rposition(counts)?
    };
    let left_out: usize = words[..cut].iter().map(|(_, w)| weight(w)).sum();
    (left_out >= MIN_SHARED_WEIGHT).then_some(cut)
}

/// What a word weighs in a shared prefix: 2 for a word with letters or digits, 1 for a
/// Chinese or Japanese character, 0 for punctuation.
fn weight(word: &str) -> usize {
    let mut chars = word.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if is_cjk_word(c) => usize::from(c.is_alphanumeric()),
        _ if word.chars().any(char::is_alphanumeric) => 2,
        _ => 0,
    }
}

/// The matrix slot of a pack that a `[[token]]` takes its values from (names match loosely,
/// as StableNew matches them: `hair-color` = `Hair Color`).
pub fn matrix_slot<'a>(matrix: &'a MatrixConfig, token: &str) -> Option<&'a MatrixSlot> {
    let wanted = normalize_matrix_name(token);
    matrix
        .slots
        .iter()
        .find(|slot| normalize_matrix_name(&slot.name) == wanted)
}

/// The text a label is made from: the positive prompt without LoRA and embedding markup; when
/// nothing is left, the positive as written; when that is empty too, the negative.
fn label_source(prompt: &PackPrompt) -> String {
    let mut out = String::with_capacity(prompt.positive.len());
    let mut at = 0;
    for (range, kind) in token_spans(&prompt.positive) {
        if matches!(kind, TokenKind::Lora | TokenKind::Embedding) {
            out.push_str(&prompt.positive[at..range.start]);
            out.push(' ');
            at = range.end;
        }
    }
    out.push_str(&prompt.positive[at..]);
    if !out.trim().is_empty() {
        return out;
    }
    if !prompt.positive.trim().is_empty() {
        return prompt.positive.clone();
    }
    if prompt.negative.trim().is_empty() {
        String::new()
    } else {
        format!("neg: {}", prompt.negative)
    }
}

/// True for characters of scripts written without spaces between words (Chinese, Japanese),
/// and for CJK punctuation and full-width forms: each is a word of its own.
fn is_cjk_word(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F     // CJK symbols and punctuation (、。「」)
        | 0x3040..=0x30FF   // Hiragana, Katakana
        | 0x31F0..=0x31FF   // Katakana phonetic extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0xFF00..=0xFFEF   // Half-width and full-width forms (，！ｶ)
        | 0x20000..=0x3134F // CJK extensions B to G
    )
}

/// The words of `text` with their byte offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let own_word = is_cjk_word(c) || matches!(c, ',' | ';');
        if c.is_whitespace() || own_word {
            if let Some(s) = start.take() {
                out.push((s, &text[s..i]));
            }
            if own_word {
                out.push((i, &text[i..i + c.len_utf8()]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// For each word list, the length of the longest word prefix it shares with any other list.
/// After sorting, the list sharing the longest prefix with a given one is next to it.
fn shared_prefix_lengths(lists: &[Vec<(usize, &str)>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..lists.len()).collect();
    order.sort_by(|&a, &b| {
        let a = lists[a].iter().map(|(_, w)| *w);
        let b = lists[b].iter().map(|(_, w)| *w);
        a.cmp(b)
    });
    let mut shared = vec![0; lists.len()];
    for pair in order.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let common = lists[a]
            .iter()
            .zip(&lists[b])
            .take_while(|((_, x), (_, y))| x == y)
            .count();
        shared[a] = shared[a].max(common);
        shared[b] = shared[b].max(common);
    }
    shared
}

/// `text` trimmed, with every run of whitespace (newlines included) made one space.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(key: &str, positive: &str) -> PackPrompt {
        PackPrompt::from_texts(key, positive, "", None).unwrap()
    }

    fn texts(prompts: &[PackPrompt]) -> Vec<String> {
        prompt_labels(prompts).into_iter().map(|l| l.text).collect()
    }

    const PREAMBLE: &str = "(<embedding:pos>:0.8) (masterpiece, best quality) epic creature concept, dramatic contrast,\n";

    #[test]
    fn a_shared_preamble_is_left_out() {
        let prompts = [
            prompt(
                "1",
                &format!(
                    "{PREAMBLE}armored basilisk glaring across [[environment]] <lora:detail:0.6>"
                ),
            ),
            prompt(
                "2",
                &format!("{PREAMBLE}giant frost wyrm circling over [[environment]]"),
            ),
            prompt(
                "3",
                &format!("{PREAMBLE}colossal hydra rising from __place__"),
            ),
        ];
        let labels = prompt_labels(&prompts);
        assert_eq!(
            labels.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            [
                "armored basilisk glaring across [[environment]]",
                "giant frost wyrm circling over [[environment]]",
                "colossal hydra rising from __place__",
            ]
        );
        assert!(labels.iter().all(|l| l.prefix_removed && l.name.is_none()));
    }

    #[test]
    fn each_prompt_drops_what_it_shares_with_its_closest_neighbour() {
        // Two groups with their own preambles, and one prompt that shares nothing.
        let prompts = [
            prompt("a", "portrait photo of a woman, red hair"),
            prompt("b", "portrait photo of a woman, blue dress"),
            prompt("c", "city street at night, neon rain"),
            prompt("d", "city street at night, snow"),
            prompt("e", "a bowl of lemons"),
        ];
        assert_eq!(
            texts(&prompts),
            [
                "red hair",
                "blue dress",
                "neon rain",
                "snow",
                "a bowl of lemons"
            ]
        );
    }

    #[test]
    fn short_or_unshared_prompts_are_kept_whole() {
        let prompts = [
            prompt("1", "a cat"),
            prompt("2", "a dog"),
            prompt("3", "cat"),
            prompt("4", ""),
        ];
        let labels = prompt_labels(&prompts);
        assert_eq!(
            labels.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["a cat", "a dog", "cat", ""]
        );
        assert!(labels.iter().all(|l| !l.prefix_removed));
        // A single prompt, and no prompt at all.
        assert_eq!(
            texts(&[prompt("1", "a lighthouse at dawn")]),
            ["a lighthouse at dawn"]
        );
        assert!(prompt_labels(&[]).is_empty());
    }

    #[test]
    fn a_prompt_that_is_all_shared_keeps_its_last_word() {
        // Identical prompts, and one that is the start of another: each keeps its last word.
        let prompts = [
            prompt("1", "a misty forest at dawn"),
            prompt("2", "a misty forest at dawn"),
            prompt("3", "a misty forest at dawn, deer"),
        ];
        let labels = prompt_labels(&prompts);
        assert_eq!(labels[0].text, "dawn");
        assert!(labels[0].prefix_removed);
        assert_eq!(labels[1].text, "dawn");
        assert_eq!(labels[2].text, "deer");
        // The preamble and a word, beside the same with more: "…dragon".
        let prompts = [
            prompt("1", &format!("{PREAMBLE}dragon")),
            prompt("2", &format!("{PREAMBLE}dragon, breathing fire")),
        ];
        assert_eq!(texts(&prompts), ["dragon", "breathing fire"]);
        // Trailing punctuation is no word.
        let prompts = [
            prompt("1", &format!("{PREAMBLE}dragon,")),
            prompt("2", &format!("{PREAMBLE}dragon, breathing fire")),
        ];
        assert_eq!(texts(&prompts), ["dragon,", "breathing fire"]);
        // Too little would be left out: kept whole.
        let prompts = [prompt("1", "two cats"), prompt("2", "two cats, sleeping")];
        assert_eq!(texts(&prompts), ["two cats", "two cats, sleeping"]);
    }

    #[test]
    fn punctuation_and_single_kana_weigh_less_than_words() {
        // Two words and a comma are not three words.
        let prompts = [prompt("1", "a cat, red"), prompt("2", "a cat, blue")];
        assert_eq!(texts(&prompts), ["a cat, red", "a cat, blue"]);
        // Three shared kana are not enough; six characters are.
        let prompts = [prompt("1", "かわいい猫"), prompt("2", "かわいい犬")];
        assert_eq!(texts(&prompts), ["かわいい猫", "かわいい犬"]);
        let prompts = [
            prompt("1", "とてもかわいい猫"),
            prompt("2", "とてもかわいい犬"),
        ];
        assert_eq!(texts(&prompts), ["猫", "犬"]);
    }

    #[test]
    fn chinese_and_japanese_are_compared_character_by_character() {
        let prompts = [
            prompt("1", "幻想的な風景、青い空と城"),
            prompt("2", "幻想的な風景、赤い夕日"),
            prompt("3", "傑作，最高品質，猫"),
            prompt("4", "傑作，最高品質，犬が走る"),
        ];
        assert_eq!(
            texts(&prompts),
            ["青い空と城", "赤い夕日", "猫", "犬が走る"]
        );
        // Mixed with Latin words, and Korean (written with spaces) split at spaces.
        let prompts = [
            prompt("1", "masterpiece, best 品質 猫が座る"),
            prompt("2", "masterpiece, best 品質 犬"),
            prompt("3", "아름다운 풍경 화 푸른 하늘"),
            prompt("4", "아름다운 풍경 화 붉은 노을"),
        ];
        assert_eq!(
            texts(&prompts),
            ["猫が座る", "犬", "푸른 하늘", "붉은 노을"]
        );
    }

    #[test]
    fn a_slot_name_is_given_beside_the_text() {
        let mut named = prompt("1", &format!("{PREAMBLE}hero  in\tarmour"));
        named.label = Some("  The\nHero ".into());
        let other = prompt("2", &format!("{PREAMBLE}villain"));
        let labels = prompt_labels(&[named, other]);
        assert_eq!(labels[0].name.as_deref(), Some("The Hero"));
        assert_eq!(labels[0].text, "hero in armour");
        assert_eq!(labels[1].name, None);
    }

    #[test]
    fn markup_only_prompts_fall_back_to_their_text_or_negative() {
        let only_lora = prompt("1", "<lora:style:0.5>");
        let only_negative = PackPrompt::from_texts("2", "", "blurry,  text", None).unwrap();
        assert_eq!(
            texts(&[only_lora, only_negative]),
            ["<lora:style:0.5>", "neg: blurry, text"]
        );
    }

    #[test]
    fn thousands_of_prompts_sharing_a_preamble() {
        let prompts: Vec<PackPrompt> = (0..5000)
            .map(|i| prompt(&i.to_string(), &format!("{PREAMBLE}creature number {i}")))
            .collect();
        let labels = prompt_labels(&prompts);
        assert_eq!(labels.len(), 5000);
        assert_eq!(labels[42].text, "42");
        assert_eq!(labels[4999].text, "4999");
    }

    #[test]
    fn matrix_slots_are_found_by_loose_name() {
        let matrix = MatrixConfig {
            enabled: true,
            mode: "fanout".into(),
            limit: 8,
            slots: vec![MatrixSlot {
                name: "Hair Color".into(),
                values: vec!["red".into(), "black".into()],
            }],
        };
        assert_eq!(
            matrix_slot(&matrix, "hair-color").map(|s| s.values.len()),
            Some(2)
        );
        assert!(matrix_slot(&matrix, "hair").is_none());
    }
}
