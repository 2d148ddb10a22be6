//! How counts and messages are worded, the same in the CLI, the app and the core's own
//! messages (such as [`crate::history::ImportReport::summary`]).

/// `n` and `what` with an English plural `s` when `n` is not 1: `1 job`, `3 jobs`, `0 lines`.
pub fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// `text` on one line: its lines trimmed, blank ones dropped, the rest joined by a space (so
/// a message quoted in another keeps to one line).
pub fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_lines() {
        assert_eq!(plural(1, "job"), "1 job");
        assert_eq!(plural(0, "job"), "0 jobs");
        assert_eq!(plural(2, "line"), "2 lines");
        assert_eq!(one_line("a\n  b\r\n\nc "), "a b c");
        assert_eq!(one_line(""), "");
    }
}
