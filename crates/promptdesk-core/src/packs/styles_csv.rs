//! AUTOMATIC1111 `styles.csv` (also read by InvokeAI and SwarmUI), read as A1111 reads it.
//!
//! A1111 (`modules/styles.py`, `StyleDatabase.load_from_csv`) opens the file as `utf-8-sig`
//! and reads it with Python's `csv.DictReader(file, skipinitialspace=True)`; this module
//! follows that reader rule for rule (the state machine of CPython's `_csv.c`, Excel dialect,
//! not strict), so every file A1111 loads gives the same styles here:
//!
//! - The first row names the columns: `name`, `prompt` (or the legacy `text`) and, optionally,
//!   `negative_prompt`; other columns (including an empty name from a header ending in `,`)
//!   are ignored. A1111 wants these names exactly; a header that differs only in case or
//!   surrounding spaces (`Name`, ` Prompt`) is read too.
//! - Ragged rows: a missing field is empty, extra fields are ignored (trailing commas, rows
//!   with more commas than the header). Blank lines are skipped.
//! - Spaces after a `,` are dropped before a value, so `a, "b, c"` is two values: `a` and
//!   `b, c`. A quote inside an unquoted value is an ordinary character; text after a closing
//!   quote is kept (`"a"b` reads `ab`). Quoted values may span lines; line ends in them are kept
//!   as written. A quote never closed swallows the rest of the file into one value (a warning).
//! - Each row is one style keyed by its name (surrounding spaces trimmed). Rows whose name
//!   starts with `#` are skipped, and so are rows without a name. A divider row (a name and
//!   nothing else) is an ordinary style with empty texts, as in A1111's list.
//! - A name used twice: the later row replaces the earlier one, which keeps its place (a
//!   Python dict); a warning names the later row's line.
//! - A value over 131072 characters stops the reading there, as Python's field limit stops
//!   A1111: the styles before it are kept (a warning).
//!
//! Line numbers count `\n`, `\r\n` and a lone `\r` each as one line end.

use super::{PackError, PackErrorKind, PackPrompt, ParsedFile};
use std::collections::HashMap;
use std::path::Path;

/// Python's default `csv.field_size_limit()`: a longer value is an error that stops A1111's
/// reading of the file.
pub const FIELD_LIMIT: usize = 131_072;

/// One CSV record and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    fields: Vec<String>,
    line: usize,
}

/// Why the reading ended early or oddly.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ending {
    /// The whole text was read.
    Complete,
    /// The last record's quote opened on this line is never closed.
    UnclosedQuote { line: usize },
    /// A value of the record starting on this line is over [`FIELD_LIMIT`]: the reading stops.
    FieldTooLong { line: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StartRecord,
    StartField,
    InField,
    InQuotedField,
    QuoteInQuotedField,
    EatCrnl,
}

/// The lines of `text` with their line ends (`\n`, `\r\n` or a lone `\r`), as Python's text
/// file gives them when opened with `newline=''`.
fn lines_with_ends(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let mut i = start;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    i += 1;
                    break;
                }
                b'\r' => {
                    i += 1;
                    if bytes.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                    break;
                }
                _ => i += 1,
            }
        }
        let line = &text[start..i];
        start = i;
        Some(line)
    })
}

/// Python's `csv.reader(lines, skipinitialspace=True)` with the Excel dialect, not strict.
/// Returns every record (blank lines as records without fields) and how the reading ended.
fn read_records(text: &str) -> (Vec<Record>, Ending) {
    struct Parser {
        state: State,
        fields: Vec<String>,
        field: String,
        field_chars: usize,
        too_long: bool,
    }
    impl Parser {
        fn save_field(&mut self) {
            self.fields.push(std::mem::take(&mut self.field));
            self.field_chars = 0;
        }
        fn add(&mut self, c: char) {
            if self.field_chars >= FIELD_LIMIT {
                self.too_long = true;
                return;
            }
            self.field.push(c);
            self.field_chars += 1;
        }
        /// One character, or `None` for the end of a line (Python's `EOL`).
        fn process(&mut self, c: Option<char>) {
            let newline = matches!(c, Some('\n' | '\r'));
            let after_line = |c: Option<char>| {
                if c.is_none() {
                    State::StartRecord
                } else {
                    State::EatCrnl
                }
            };
            match self.state {
                State::StartRecord if c.is_none() => {}
                State::StartRecord if newline => self.state = State::EatCrnl,
                State::StartRecord | State::StartField => match c {
                    None | Some('\n' | '\r') => {
                        self.save_field();
                        self.state = after_line(c);
                    }
                    Some('"') => self.state = State::InQuotedField,
                    Some(' ') => self.state = State::StartField,
                    Some(',') => {
                        self.save_field();
                        self.state = State::StartField;
                    }
                    Some(c) => {
                        self.add(c);
                        self.state = State::InField;
                    }
                },
                State::InField => match c {
                    None | Some('\n' | '\r') => {
                        self.save_field();
                        self.state = after_line(c);
                    }
                    Some(',') => {
                        self.save_field();
                        self.state = State::StartField;
                    }
                    Some(c) => self.add(c),
                },
                State::InQuotedField => match c {
                    None => {}
                    Some('"') => self.state = State::QuoteInQuotedField,
                    Some(c) => self.add(c),
                },
                State::QuoteInQuotedField => match c {
                    Some('"') => {
                        self.add('"');
                        self.state = State::InQuotedField;
                    }
                    Some(',') => {
                        self.save_field();
                        self.state = State::StartField;
                    }
                    None | Some('\n' | '\r') => {
                        self.save_field();
                        self.state = after_line(c);
                    }
                    Some(c) => {
                        self.add(c);
                        self.state = State::InField;
                    }
                },
                // With lines split as Python splits them, only line-end characters follow.
                State::EatCrnl => {
                    if c.is_none() {
                        self.state = State::StartRecord;
                    }
                }
            }
        }
    }

    let mut parser = Parser {
        state: State::StartRecord,
        fields: Vec::new(),
        field: String::new(),
        field_chars: 0,
        too_long: false,
    };
    let mut records = Vec::new();
    let mut record_line = 1;
    let mut quote_line = 1;
    let mut line_no = 0;
    for line in lines_with_ends(text) {
        line_no += 1;
        if parser.state == State::StartRecord {
            record_line = line_no;
        }
        for c in line.chars() {
            let before = parser.state;
            parser.process(Some(c));
            if parser.state == State::InQuotedField
                && matches!(before, State::StartRecord | State::StartField)
            {
                quote_line = line_no;
            }
        }
        parser.process(None);
        if parser.too_long {
            return (records, Ending::FieldTooLong { line: record_line });
        }
        if parser.state == State::StartRecord {
            records.push(Record {
                fields: std::mem::take(&mut parser.fields),
                line: record_line,
            });
        }
    }
    if parser.state == State::InQuotedField {
        parser.save_field();
        records.push(Record {
            fields: std::mem::take(&mut parser.fields),
            line: record_line,
        });
        return (records, Ending::UnclosedQuote { line: quote_line });
    }
    (records, Ending::Complete)
}

/// The column Python's `DictReader` row would give for `name`: the last header field equal to
/// it (a dict keeps the last of repeated keys); else, leniently, the last one equal to it
/// ignoring case and surrounding spaces.
fn column(header: &[String], name: &str) -> Option<usize> {
    header.iter().rposition(|h| h == name).or_else(|| {
        header
            .iter()
            .rposition(|h| h.trim().eq_ignore_ascii_case(name))
    })
}

/// Parses one file's text. `path` is only used to name the file in errors and warnings.
pub fn parse(path: &Path, text: &str) -> Result<ParsedFile, PackError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (records, ending) = read_records(text);
    let mut warnings = Vec::new();
    let warn = |line: usize, message: String| {
        PackError::in_file(path, Some(line), PackErrorKind::Csv(message))
    };

    let mut records = records.into_iter();
    let header = match records.next() {
        Some(header) => header.fields,
        None => match ending {
            Ending::FieldTooLong { line } => {
                return Err(PackError::in_file(
                    path,
                    Some(line),
                    PackErrorKind::Csv(format!(
                        "the header has a value over {FIELD_LIMIT} characters"
                    )),
                ));
            }
            _ => Vec::new(),
        },
    };
    let name_col = column(&header, "name");
    let prompt_col = column(&header, "prompt").or_else(|| column(&header, "text"));
    let (Some(name_col), Some(prompt_col)) = (name_col, prompt_col) else {
        return Err(PackError::in_file(
            path,
            Some(1),
            PackErrorKind::Structure(
                "the header must name the columns \"name\" and \"prompt\" (or \"text\")".to_owned(),
            ),
        ));
    };
    let negative_col = column(&header, "negative_prompt");

    let mut prompts: Vec<PackPrompt> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for record in records {
        // Python's DictReader skips rows without fields (blank lines).
        if record.fields.is_empty() {
            continue;
        }
        let line = record.line;
        let Some(name) = record.fields.get(name_col) else {
            // A1111 fails on this row (its name is None) and keeps the styles read so far.
            warnings.push(warn(
                line,
                "the row has no \"name\" value; A1111 stops reading the file here".to_owned(),
            ));
            break;
        };
        if name.starts_with('#') {
            continue;
        }
        let key = name.trim();
        if key.is_empty() {
            continue;
        }
        let field = |col: Option<usize>| {
            col.and_then(|c| record.fields.get(c))
                .map_or("", String::as_str)
        };
        let prompt = PackPrompt::from_texts(
            key,
            field(Some(prompt_col)),
            field(negative_col),
            Some(line),
        )
        .map_err(|kind| PackError::in_file(path, Some(line), kind))?;
        match index.get(key) {
            Some(&at) => {
                // As A1111 (a Python dict): the later row wins, the earlier one's place stays.
                warnings.push(PackError::in_file(
                    path,
                    Some(line),
                    PackErrorKind::DuplicateKey(key.to_owned()),
                ));
                prompts[at] = prompt;
            }
            None => {
                index.insert(key.to_owned(), prompts.len());
                prompts.push(prompt);
            }
        }
    }
    match ending {
        Ending::Complete => {}
        Ending::UnclosedQuote { line } => warnings.push(warn(
            line,
            "a quote opened here is never closed: the rest of the file is one value (as A1111 reads it)"
                .to_owned(),
        )),
        Ending::FieldTooLong { line } => warnings.push(warn(
            line,
            format!(
                "a value over {FIELD_LIMIT} characters: A1111 stops reading the file here, and so does promptdesk"
            ),
        )),
    }
    Ok(ParsedFile {
        prompts,
        warnings,
        ..ParsedFile::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        read_records(text).0.into_iter().map(|r| r.fields).collect()
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn reads_like_pythons_csv_reader_with_skipinitialspace() {
        assert_eq!(fields("a, \"b, c\",d\n"), [v(&["a", "b, c", "d"])]);
        assert_eq!(fields("a,b\"c\",d\n"), [v(&["a", "b\"c\"", "d"])]);
        assert_eq!(fields("\"a\"b,c\n"), [v(&["ab", "c"])]);
        assert_eq!(fields("\"a \"\"q\"\" b\",\n"), [v(&["a \"q\" b", ""])]);
        assert_eq!(
            fields("a,b,\n\nc\n"),
            [v(&["a", "b", ""]), v(&[]), v(&["c"])]
        );
        assert_eq!(fields("  a ,  b  \n"), [v(&["a ", "b  "])]);
        assert_eq!(fields("a\r\nb\rc"), [v(&["a"]), v(&["b"]), v(&["c"])]);
        assert_eq!(fields("\"x\r\ny\",z\r\n"), [v(&["x\r\ny", "z"])]);
    }

    #[test]
    fn records_start_on_their_own_line_whatever_the_line_ends() {
        for end in ["\n", "\r\n", "\r"] {
            let text = format!("h{end}\"a{end}b\"{end}{end}c{end}");
            let lines: Vec<usize> = read_records(&text).0.iter().map(|r| r.line).collect();
            assert_eq!(lines, [1, 2, 4, 5], "{end:?}");
        }
    }

    #[test]
    fn an_unclosed_quote_takes_the_rest_of_the_file() {
        let (records, ending) = read_records("h\nx,\"open\nmore\n");
        assert_eq!(records[1].fields, v(&["x", "open\nmore\n"]));
        assert_eq!(ending, Ending::UnclosedQuote { line: 2 });
    }

    #[test]
    fn a_value_over_the_field_limit_stops_the_reading() {
        let text = format!("h\nok\n{}\nlater\n", "x".repeat(FIELD_LIMIT + 1));
        let (records, ending) = read_records(&text);
        assert_eq!(records.len(), 2);
        assert_eq!(ending, Ending::FieldTooLong { line: 3 });
    }
}
