//! Text helpers shared by the commands: tables, counts, cut and one-line text, key ranges and
//! the quarantine summary.

use std::io::{self, Write};
use std::path::Path;
use unicode_width::UnicodeWidthChar;

pub(crate) use crate::wording::{one_line, plural};

/// How many terminal columns `text` takes: wide (CJK, most emoji) characters take two,
/// combining marks none.
pub(crate) fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| UnicodeWidthChar::width(c).unwrap_or(0))
        .sum()
}

/// Control characters as spaces (a cell must not move the cursor or reach the terminal raw).
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// At most `max` terminal columns (see [`display_width`]), with `…` marking a cut; control
/// characters become spaces. A wide character that would not fit whole is left out.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    let clean = clean(text);
    if display_width(&clean) <= max {
        return clean;
    }
    let room = max.saturating_sub(1);
    let mut cut = String::new();
    let mut width = 0;
    for c in clean.chars() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if width + w > room {
            break;
        }
        width += w;
        cut.push(c);
    }
    cut.truncate(cut.trim_end().len());
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
        ];
        write_table(&mut out, &rows, &[false, true]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "PACK       N\n港の灯台   3\nharbour   12\n");
        let widths: Vec<usize> = text.lines().map(display_width).collect();
        assert_eq!(widths, [12, 12, 12]);
    }
}
