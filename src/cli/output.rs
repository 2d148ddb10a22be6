//! Text helpers shared by the commands: tables, counts, cut and one-line text, key ranges and
//! the quarantine summary.

use std::io::{self, Write};
use std::path::Path;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

pub(crate) use crate::wording::{one_line, plural};

/// How many terminal columns `text` takes, measured on the whole string: wide (CJK, most
/// emoji) characters take two, combining marks none, and an emoji sequence counts as the one
/// picture it draws (`❤️` with its variation selector takes two, a ZWJ family two).
pub(crate) fn display_width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// Control characters as spaces (a cell must not move the cursor or reach the terminal raw).
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// At most `max` terminal columns (see [`display_width`]), with `…` marking a cut; control
/// characters become spaces. The cut falls between grapheme clusters (what a reader sees as
/// one character: a letter with its accents, an emoji sequence), never inside one; a wide one
/// that would not fit whole is left out.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    let clean = clean(text);
    if display_width(&clean) <= max {
        return clean;
    }
    let room = max.saturating_sub(1);
    let mut end = 0;
    let mut width = 0;
    for grapheme in clean.graphemes(true) {
        let w = display_width(grapheme);
        if width + w > room {
            break;
        }
        width += w;
        end += grapheme.len();
    }
    let mut cut = clean[..end].trim_end().to_owned();
    cut.push('…');
    cut
}

/// `1, 2, 3, 4, 7` -> `1-4, 7`; keys holding a comma are quoted.
pub(crate) fn summarize_keys(keys: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        let start: Option<u64> = keys[i].parse().ok().filter(|_| !keys[i].starts_with('0'));
        if let Some(first) = start {
            let mut j = i;
            while j + 1 < keys.len()
                && keys[j + 1].parse::<u64>().ok() == Some(first + (j + 1 - i) as u64)
            {
                j += 1;
            }
            if j - i >= 2 {
                parts.push(format!("{}-{}", keys[i], keys[j]));
                i = j + 1;
                continue;
            }
        }
        if keys[i].contains(',') {
            parts.push(format!("{:?}", keys[i]));
        } else {
            parts.push(keys[i].to_owned());
        }
        i += 1;
    }
    parts.join(", ")
}

/// Writes rows as columns separated by two spaces, padded by display width (so wide CJK
/// characters keep the columns straight); `right[i]` right-aligns column i.
pub(crate) fn write_table<const N: usize>(
    out: &mut dyn Write,
    rows: &[[String; N]],
    right: &[bool; N],
) -> io::Result<()> {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(display_width(cell));
        }
    }
    let mut line = String::new();
    for row in rows {
        line.clear();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths[i] - display_width(cell);
            if right[i] {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if i + 1 < N {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// What the quarantine file holds: how many lines, when they were set aside, from which lines.
pub(crate) fn write_quarantine_summary(path: &Path, out: &mut dyn Write) -> io::Result<()> {
    use crate::history::quarantine::format_time;
    let summary = match crate::history::read_quarantine(path) {
        Ok(s) => s,
        Err(e) => {
            writeln!(out, "quarantine: {}: cannot read it: {e}", path.display())?;
            return Ok(());
        }
    };
    if summary.entries.is_empty() {
        return Ok(());
    }
    let when = match summary.span() {
        Some((a, b)) if a == b => format!(", set aside {}", format_time(a)),
        Some((a, b)) => format!(
            ", set aside between {} and {}",
            format_time(a),
            format_time(b)
        ),
        None => String::new(),
    };
    writeln!(
        out,
        "quarantine: {} holds {} set aside from the history{when}:",
        path.display(),
        plural(summary.entries.len(), "damaged line"),
    )?;
    for e in summary.entries.iter().take(50) {
        let line = e
            .history_line
            .map_or_else(|| "line ?".to_owned(), |l| format!("line {l}"));
        let at =
            e.at.map(|t| format!(" ({})", format_time(t)))
                .unwrap_or_default();
        let reason = e.reason.as_deref().map(one_line).unwrap_or_default();
        writeln!(
            out,
            "  {line}{at}: {} bytes{}",
            e.bytes,
            if reason.is_empty() {
                String::new()
            } else {
                format!(", {reason}")
            }
        )?;
    }
    if summary.entries.len() > 50 {
        writeln!(out, "  ... and {} more", summary.entries.len() - 50)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_cuts_and_key_ranges() {
        assert_eq!(plural(1, "job"), "1 job");
        assert_eq!(plural(0, "job"), "0 jobs");
        assert_eq!(one_line("a\n  b\r\n\nc "), "a b c");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("a\tb", 10), "a b");
        assert_eq!(truncate("abcdef ghij", 8), "abcdef…");
        // Cut by terminal columns: each of these takes two.
        assert_eq!(display_width("港の灯台"), 8);
        assert_eq!(truncate("港の灯台", 8), "港の灯台");
        assert_eq!(truncate("港の灯台と漁船", 8), "港の灯…");
        // A wide character that does not fit whole is left out.
        assert_eq!(truncate("港の灯台と漁船", 7), "港の灯…");
        assert_eq!(display_width(&truncate("a港の灯台と漁船", 8)), 8);
        assert_eq!(
            summarize_keys(&["1", "2", "3", "4", "7", "8", "a,b", "09"]),
            "1-4, 7, 8, \"a,b\", 09"
        );
    }

    #[test]
    fn emoji_sequences_and_accents_are_measured_and_cut_whole() {
        // A heart with its emoji variation selector draws as one wide emoji.
        assert_eq!(display_width("\u{2764}\u{fe0f}"), 2);
        assert_eq!(display_width("a\u{2764}\u{fe0f}b"), 4);
        // A ZWJ family is one picture, two columns wide.
        let family = "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}";
        assert_eq!(display_width(family), 2);
        // A cut never splits a sequence: the family goes whole or not at all.
        assert_eq!(
            truncate(&format!("ab{family}cd"), 5),
            format!("ab{family}…")
        );
        assert_eq!(truncate(&format!("abc{family}d"), 5), "abc…");
        // Nor a letter from its combining accent.
        let accented = "cafe\u{301}s au lait";
        assert_eq!(truncate(accented, 6), "cafe\u{301}s…");
        assert_eq!(truncate(accented, 5), "cafe\u{301}…");
        for max in 1..12 {
            let cut = truncate(&format!("x{family}\u{2764}\u{fe0f} cafe\u{301}"), max);
            assert!(display_width(&cut) <= max, "{max}: {cut:?}");
            assert!(!cut.contains("\u{200d}…"), "{max}: {cut:?}");
        }
    }

    #[test]
    fn tables_pad_columns_and_trim_line_ends() {
        let mut out = Vec::new();
        let rows = [
            ["ID".to_owned(), "N".to_owned(), "X".to_owned()],
            ["long-id".to_owned(), "12".to_owned(), String::new()],
        ];
        write_table(&mut out, &rows, &[false, true, false]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ID        N  X\nlong-id  12\n"
        );
    }

    #[test]
    fn wide_characters_keep_the_columns_straight() {
        let mut out = Vec::new();
        let rows = [
            ["PACK".to_owned(), "N".to_owned()],
            ["港の灯台".to_owned(), "3".to_owned()],
            ["harbour".to_owned(), "12".to_owned()],
            ["\u{2764}\u{fe0f} love".to_owned(), "4".to_owned()],
        ];
        write_table(&mut out, &rows, &[false, true]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "PACK       N\n港の灯台   3\nharbour   12\n\u{2764}\u{fe0f} love    4\n"
        );
        let widths: Vec<usize> = text.lines().map(display_width).collect();
        assert_eq!(widths, [12, 12, 12, 12]);
    }
}
