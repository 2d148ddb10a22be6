//! The MSD text sort: text rows ordered by 8-byte case-folded chunks held inline.

use rayon::prelude::*;
use std::cmp::Ordering;

/// `ord`, reversed when `descending`.
pub(super) fn directed(ord: Ordering, descending: bool) -> Ordering {
    if descending { ord.reverse() } else { ord }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// ASCII-lower-cases the 8 bytes of `x` at once (bytes >= 0x80 are left alone).
fn fold_ascii_case(x: u64) -> u64 {
    let low7 = x & !HIGH_BITS;
    // Per byte (no carries: every byte of low7 is <= 0x7f): high bit set when >= 'A' / > 'Z'.
    let at_least_a = low7 + ONES * (0x80 - b'A' as u64);
    let above_z = low7 + ONES * (0x80 - b'Z' as u64 - 1);
    let upper = at_least_a & !above_z & !x & HIGH_BITS;
    x | (upper >> 2)
}

/// The first 8 bytes of `s`, ASCII-lower-cased, big-endian: comparing prefixes orders like
/// comparing the case-folded texts, up to the first 8 bytes.
#[cfg(test)]
fn folded_prefix(s: &str) -> u64 {
    fold_ascii_case(raw_chunk(s.as_bytes(), 0))
}

/// The text order, plainly: ASCII case ignored first, then exact bytes.
#[cfg(test)]
fn cmp_text(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
        .then_with(|| a.cmp(b))
}

/// What a text sort reads: a string, or a key list read as its keys joined with ", ".
#[derive(Clone, Copy)]
pub(super) enum TextRef<'a> {
    Str(&'a str),
    Keys(&'a [String]),
}

impl TextRef<'_> {
    fn byte_len(self) -> usize {
        match self {
            TextRef::Str(s) => s.len(),
            TextRef::Keys(keys) => {
                keys.iter().map(String::len).sum::<usize>() + 2 * keys.len().saturating_sub(1)
            }
        }
    }

    /// Bytes `at..at + 8` (zero-padded past the end), big-endian, ASCII-case-folded unless
    /// `raw`.
    fn chunk(self, at: usize, raw: bool) -> u64 {
        let x = match self {
            TextRef::Str(s) => raw_chunk(s.as_bytes(), at),
            TextRef::Keys(keys) => {
                let mut buf = [0u8; 8];
                let mut filled = 0;
                let mut start = 0; // where the current piece starts in the joined text
                'keys: for (i, key) in keys.iter().enumerate() {
                    let sep: &[u8] = if i == 0 { b"" } else { b", " };
                    for piece in [sep, key.as_bytes()] {
                        let end = start + piece.len();
                        let want = at + filled;
                        if want < end {
                            let from = want - start;
                            let n = (8 - filled).min(piece.len() - from);
                            buf[filled..filled + n].copy_from_slice(&piece[from..from + n]);
                            filled += n;
                            if filled == 8 {
                                break 'keys;
                            }
                        }
                        start = end;
                    }
                }
                u64::from_be_bytes(buf)
            }
        };
        if raw { x } else { fold_ascii_case(x) }
    }
}

/// Bytes `at..at + 8` of `bytes`, zero-padded, big-endian.
fn raw_chunk(bytes: &[u8], at: usize) -> u64 {
    // The common case, a whole chunk: a fixed-size load (a variable-length copy compiles to a
    // call to memcpy per chunk, which dominated text sorts).
    if let Some(whole) = at
        .checked_add(8)
        .and_then(|end| bytes.get(at..end))
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
    {
        return u64::from_be_bytes(whole);
    }
    let mut buf = [0u8; 8];
    let end = bytes.len().min(at.saturating_add(8));
    if at < end {
        buf[..end - at].copy_from_slice(&bytes[at..end]);
    }
    u64::from_be_bytes(buf)
}

/// One row of a text sort.
pub(super) struct TextItem<'a> {
    /// The (folded or raw) 8 bytes at the current offset.
    chunk: u64,
    /// Bytes left from the current offset, capped at 9 ("continues past this chunk").
    rem: u8,
    pub(super) pos: u32,
    len: usize,
    text: TextRef<'a>,
}

impl<'a> TextItem<'a> {
    pub(super) fn new(pos: u32, text: TextRef<'a>) -> TextItem<'a> {
        TextItem {
            chunk: 0,
            rem: 0,
            pos,
            len: text.byte_len(),
            text,
        }
    }
}

/// Runs this long or longer use rayon.
const PAR_RUN: usize = 4096;

/// How many bytes `it` shares with `first` from `from` (a multiple of 8) on, folded or raw,
/// up to the shorter end.
fn common_len(first: &TextItem<'_>, it: &TextItem<'_>, from: usize, raw: bool) -> usize {
    let n = first.len.min(it.len);
    let mut at = from;
    while at < n {
        let diff = first.text.chunk(at, raw) ^ it.text.chunk(at, raw);
        if diff != 0 {
            return (at + (diff.leading_zeros() / 8) as usize).min(n);
        }
        at += 8;
    }
    n
}

/// Whether two rows hold the very same text.
fn same_text(a: &TextItem<'_>, b: &TextItem<'_>) -> bool {
    a.len == b.len
        && match (a.text, b.text) {
            (TextRef::Str(x), TextRef::Str(y)) => x == y,
            (TextRef::Keys(x), TextRef::Keys(y)) => x == y,
            _ => (0..a.len)
                .step_by(8)
                .all(|at| a.text.chunk(at, true) == b.text.chunk(at, true)),
        }
}

/// A run of rows still to order: `start..end` (relative to the slice being sorted) agree on
/// their first `offset` bytes (case-folded, or exactly in the `raw` phase) and are in input
/// order.
type Run = (usize, usize, usize, bool);

/// Orders `run` by its first chunk that tells rows apart and returns the runs of rows that
/// still tie (to be ordered by later chunks). Runs whose rows all share the chunk skip ahead
/// to the first byte where some row differs.
fn refine_run(
    run: &mut [TextItem<'_>],
    mut offset: usize,
    mut raw: bool,
    descending: bool,
) -> Vec<Run> {
    if run.len() < 2 {
        return Vec::new();
    }
    let par = run.len() >= PAR_RUN;
    loop {
        let at = offset;
        let fill = |it: &mut TextItem<'_>| {
            it.chunk = it.text.chunk(at, raw);
            it.rem = it.len.saturating_sub(at).min(9) as u8;
        };
        if par {
            run.par_iter_mut().for_each(fill);
        } else {
            run.iter_mut().for_each(fill);
        }
        let key0 = (run[0].chunk, run[0].rem);
        let same_key = |it: &TextItem<'_>| (it.chunk, it.rem) == key0;
        let all_same = if par {
            run.par_iter().all(same_key)
        } else {
            run.iter().all(same_key)
        };
        if all_same {
            // The very same text in every row (a model, a pack id repeated)? Then they stay in
            // input order. (Checked first: comparing equal texts is cheap.)
            let first = &run[0];
            let identical = if par {
                run.par_iter().all(|it| same_text(first, it))
            } else {
                run.iter().all(|it| same_text(first, it))
            };
            if identical {
                return Vec::new(); // equal texts keep their input order
            }
            if key0.1 < 9 {
                if raw {
                    return Vec::new(); // (equal exactly: cannot differ, but never loop)
                }
                // They all end here and are equal when case-folded: order them exactly.
                raw = true;
                offset = 0;
                continue;
            }
            // Skip the prefix every row shares.
            let shared = if par {
                run.par_iter()
                    .map(|it| common_len(first, it, at, raw))
                    .min()
            } else {
                run.iter().map(|it| common_len(first, it, at, raw)).min()
            };
            offset = (at + 8).max(shared.unwrap_or(0) / 8 * 8);
            continue;
        }
        let cmp = |a: &TextItem<'_>, b: &TextItem<'_>| {
            directed((a.chunk, a.rem).cmp(&(b.chunk, b.rem)), descending).then(a.pos.cmp(&b.pos))
        };
        if par {
            run.par_sort_unstable_by(cmp);
        } else {
            run.sort_unstable_by(cmp);
        }
        let mut runs = Vec::new();
        let mut i = 0;
        while i < run.len() {
            let key = (run[i].chunk, run[i].rem);
            let mut j = i + 1;
            while j < run.len() && (run[j].chunk, run[j].rem) == key {
                j += 1;
            }
            if j - i >= 2 {
                if key.1 == 9 {
                    runs.push((i, j, at + 8, raw));
                } else if !raw {
                    // These end here and are equal when case-folded: order them exactly.
                    runs.push((i, j, 0, true));
                }
            }
            i = j;
        }
        return runs;
    }
}

/// Orders `run` completely (see [`refine_run`]).
fn sort_run(run: &mut [TextItem<'_>], offset: usize, raw: bool, descending: bool) {
    let mut work: Vec<Run> = vec![(0, run.len(), offset, raw)];
    while let Some((start, end, offset, raw)) = work.pop() {
        for (s, e, o, r) in refine_run(&mut run[start..end], offset, raw, descending) {
            work.push((start + s, start + e, o, r));
        }
    }
}

/// Sorts text rows by their texts compared with ASCII case ignored, then exactly (descending
/// reverses both), ties in input order. An MSD radix-style sort on 8-byte chunks held inline,
/// so comparisons never chase pointers and texts are read in linear passes; the runs left
/// after the first level are ordered in parallel. Every row's `pos` must be unique and the
/// slice must start in `pos` order.
pub(super) fn sort_text_items(items: &mut [TextItem<'_>], descending: bool) {
    let runs = refine_run(items, 0, false, descending);
    // Cut the slice into the (disjoint, ordered) runs and finish them in parallel.
    let mut parts: Vec<(&mut [TextItem<'_>], usize, bool)> = Vec::with_capacity(runs.len());
    let mut rest: &mut [TextItem<'_>] = items;
    let mut done = 0;
    for (start, end, offset, raw) in runs {
        let tail = std::mem::take(&mut rest);
        let (_, tail) = tail.split_at_mut(start - done);
        let (run, tail) = tail.split_at_mut(end - start);
        parts.push((run, offset, raw));
        rest = tail;
        done = end;
    }
    parts
        .into_par_iter()
        .for_each(|(run, offset, raw)| sort_run(run, offset, raw, descending));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_case_folding_matches_byte_by_byte_folding() {
        for start in (0u32..256).step_by(8) {
            let bytes: Vec<u8> = (start..start + 8).map(|b| b as u8).collect();
            let want: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
            let got = fold_ascii_case(u64::from_be_bytes(bytes.clone().try_into().expect("8")));
            assert_eq!(got.to_be_bytes().to_vec(), want, "bytes {bytes:?}");
        }
    }

    fn words() -> Vec<String> {
        let mut words: Vec<String> = [
            "",
            "a",
            "A",
            "a\0",
            "a\0\0",
            "Apple",
            "apple",
            "apple pie, best quality",
            "APPLE PIE, best",
            "apple pie, best quality!",
            "apple pie, best qualitY",
            "masterpiece, best quality, ultra detailed, a cat",
            "masterpiece, best quality, ultra detailed, a Cat",
            "masterpiece, best quality, ultra detailed, a cat",
            "MASTERPIECE, best quality, ultra detailed, a dog",
            "banana",
            "Éclair",
            "éclair",
            "zz",
            "Zebra crossing",
            "12345678",
            "12345678a",
            "1234567",
            "[",
            "_",
            "`",
        ]
        .map(str::to_owned)
        .to_vec();
        let copy = words.clone();
        words.extend(copy); // duplicates, to check ties keep input order
        words
    }

    #[test]
    fn text_sort_matches_a_plain_stable_sort() {
        let words = words();
        for descending in [false, true] {
            let mut items: Vec<TextItem<'_>> = words
                .iter()
                .enumerate()
                .map(|(pos, w)| TextItem::new(pos as u32, TextRef::Str(w)))
                .collect();
            sort_text_items(&mut items, descending);
            let got: Vec<u32> = items.iter().map(|it| it.pos).collect();
            let mut want: Vec<u32> = (0..words.len() as u32).collect();
            want.sort_by(|&a, &b| {
                directed(cmp_text(&words[a as usize], &words[b as usize]), descending)
            });
            assert_eq!(got, want, "descending={descending}");
        }
    }

    #[test]
    fn key_lists_read_as_their_joined_text() {
        let lists: Vec<Vec<String>> = vec![
            vec![],
            vec!["".into()],
            vec!["ab".into(), "cdefgh".into(), "i".into()],
            vec!["Hero".into(), "villain, the".into()],
            vec!["1".into(), "".into(), "22".into()],
        ];
        for keys in &lists {
            let joined = keys.join(", ");
            let text = TextRef::Keys(keys);
            assert_eq!(text.byte_len(), joined.len(), "{keys:?}");
            for at in 0..joined.len() + 9 {
                assert_eq!(
                    text.chunk(at, true),
                    raw_chunk(joined.as_bytes(), at),
                    "{keys:?} at {at}"
                );
            }
        }
    }

    #[test]
    fn folded_prefix_orders_like_folded_text() {
        let words = [
            "",
            "a",
            "Apple",
            "apple pie",
            "B",
            "banana",
            "zz",
            "Zebra crossing",
        ];
        for a in words {
            for b in words {
                let pa = folded_prefix(a);
                let pb = folded_prefix(b);
                if pa != pb {
                    assert_eq!(pa.cmp(&pb), cmp_text(a, b), "{a:?} {b:?}");
                }
            }
        }
    }
}
