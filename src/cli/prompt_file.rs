//! Prompts read from a file or from stdin (`submit --prompt-file FILE`, `--negative-file FILE`,
//! `-` for stdin), for prompts longer than the command line allows (an argument is limited to
//! 128 KiB on Linux, the whole command line to a few hundred KiB elsewhere).
//!
//! The text must be UTF-8: a bad byte is reported with its line and column. A UTF-8 byte
//! order mark at the start (Windows Notepad adds one) and line breaks at the end (`echo`
//! adds one) are dropped; everything else is kept as written. Every failure is bad input
//! (exit 2, nothing written) naming the option and the file.
//!
//! Reading `-` from a terminal (nothing piped in) first says on stderr that the prompt is
//! awaited and how to end it, so the command never seems to hang.

use super::command_error::CommandError;
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;

/// The largest prompt file read (the same limit as a pack file).
pub(crate) const MAX_PROMPT_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// How the messages name standard input.
pub(crate) const STDIN_NAME: &str = "- (standard input)";

/// True when `path` is `-`, standard input.
pub(crate) fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// `path` as the messages name it (`-` is standard input).
pub(crate) fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        STDIN_NAME.to_owned()
    } else {
        path.display().to_string()
    }
}

/// What stderr says before `flag -` reads a terminal: that the text is awaited, and how to end
/// it (the end-of-input key of this platform).
pub(crate) fn terminal_hint(flag: &str) -> String {
    let end = if cfg!(windows) {
        "Ctrl+Z then Enter"
    } else {
        "Ctrl+D at the start of a line"
    };
    format!(
        "promptdesk: reading {flag} from standard input: type or paste the text, then press {end} to end it (Ctrl+C cancels)"
    )
}

/// The text of `path` (`-`: stdin) given to the option `flag` (e.g. `--prompt-file`). When
/// stdin is a terminal, [`terminal_hint`] goes to `err` first.
pub(crate) fn read_prompt_file(
    flag: &str,
    path: &Path,
    err: &mut dyn Write,
) -> Result<String, CommandError> {
    let from_stdin = is_stdin(path);
    let name = display_name(path);
    let bad = |what: String| CommandError::usage(format!("{flag} {name}: {what}"));
    let bytes = if from_stdin {
        let stdin = io::stdin();
        if stdin.is_terminal() {
            let _ = writeln!(err, "{}", terminal_hint(flag));
            let _ = err.flush();
        }
        read_limited(stdin.lock())
    } else {
        if path.is_dir() {
            return Err(bad("is a folder, not a file".into()));
        }
        match std::fs::File::open(path) {
            Ok(file) => read_limited(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(bad("no such file".into()));
            }
            Err(e) => Err(e),
        }
    }
    .map_err(|e| bad(format!("cannot read it: {e}")).with_source(e))?;
    if bytes.len() as u64 > MAX_PROMPT_FILE_BYTES {
        return Err(bad(format!(
            "is larger than {} MiB, the limit for a prompt",
            MAX_PROMPT_FILE_BYTES / (1024 * 1024)
        )));
    }
    let text = decode_utf8(bytes).map_err(bad)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// Reads at most one byte more than [`MAX_PROMPT_FILE_BYTES`] (so a device such as
/// `/dev/zero` cannot fill the memory).
fn read_limited(reader: impl Read) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_PROMPT_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The bytes as text, or where the first bad byte is (1-based line and column, in characters).
fn decode_utf8(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        // Everything before `at` is valid UTF-8.
        let before = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        format!(
            "is not UTF-8 text (byte 0x{:02x} at line {line}, column {column}); save it as UTF-8",
            bytes[at]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bytes_are_located_by_line_and_column() {
        let err = decode_utf8(b"a lighthouse\n\xe6\xb8\xaf at \xff dawn".to_vec()).unwrap_err();
        assert_eq!(
            err,
            "is not UTF-8 text (byte 0xff at line 2, column 6); save it as UTF-8"
        );
        assert_eq!(decode_utf8("港".as_bytes().to_vec()).unwrap(), "港");
    }

    #[test]
    fn a_bom_and_trailing_line_breaks_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.txt");
        std::fs::write(&path, "\u{feff}  a harbour\n\nat dawn \r\n\n").unwrap();
        assert_eq!(
            read_prompt_file("--prompt-file", &path, &mut io::sink()).unwrap(),
            "  a harbour\n\nat dawn "
        );
    }
}
