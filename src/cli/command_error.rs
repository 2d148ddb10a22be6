//! The one error type of the CLI's commands (modelled on jj's `cli/src/command_error.rs`): a
//! kind that decides the exit code, the message printed as the one stderr line, an optional
//! hint, and the error it came from, kept as its [`source`](Error::source).
//!
//! Every failure is reported as one line on stderr, `promptdesk: error: <message>` (line
//! breaks in the message are folded into spaces). A hint, when a command gives one, follows on
//! its own line, `promptdesk: hint: <hint>`; no command gives one where a caller expects
//! exactly one stderr line. A closed output pipe is reported by its exit code alone.

use crate::history::{ExportError, HistoryError, ImportError};
use crate::images::ImportImagesError;
use std::error::Error;
use std::fmt;
use std::io::{self, Write};

use super::output::one_line;

/// What kind of failure a [`CommandError`] is; it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandErrorKind {
    /// Bad input (an unknown pack or key, an empty prompt, a bad option, a file that is no
    /// StableNew history, an export target that is the history itself): exit 2, nothing was
    /// written.
    Usage,
    /// The history or another file could not be read or written: exit 1.
    Failure,
    /// Our own output went to a closed pipe (`promptdesk history | head`): exit 1, nothing
    /// printed.
    BrokenPipe,
}

impl CommandErrorKind {
    /// The process exit code for this kind.
    pub fn exit_code(self) -> i32 {
        match self {
            CommandErrorKind::Usage => 2,
            CommandErrorKind::Failure | CommandErrorKind::BrokenPipe => 1,
        }
    }
}

/// Why a command failed. See the [module docs](self).
#[derive(Debug)]
pub struct CommandError {
    kind: CommandErrorKind,
    message: String,
    hint: Option<String>,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl CommandError {
    fn new(kind: CommandErrorKind, message: impl Into<String>) -> CommandError {
        CommandError {
            kind,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    /// Bad input: exit 2.
    pub fn usage(message: impl Into<String>) -> CommandError {
        CommandError::new(CommandErrorKind::Usage, message)
    }

    /// A history or file error: exit 1.
    pub fn failure(message: impl Into<String>) -> CommandError {
        CommandError::new(CommandErrorKind::Failure, message)
    }

    /// Writing the command's own output failed: a closed pipe exits 1 quietly, anything else
    /// (a full disk behind a redirection, ...) is a failure saying so.
    pub fn output(e: io::Error) -> CommandError {
        if e.kind() == io::ErrorKind::BrokenPipe {
            CommandError::new(CommandErrorKind::BrokenPipe, e.to_string()).with_source(e)
        } else {
            CommandError::failure(format!("cannot write the output: {e}")).with_source(e)
        }
    }

    /// The same error, remembering what caused it.
    pub fn with_source(mut self, source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The same error with a hint, printed on its own stderr line after the error.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn kind(&self) -> CommandErrorKind {
        self.kind
    }

    /// The message, as given (before line breaks are folded).
    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }

    /// Writes the error (and hint) to `err` as the module docs say, and returns the exit code.
    pub fn report(&self, err: &mut dyn Write) -> i32 {
        if self.kind == CommandErrorKind::BrokenPipe {
            return self.exit_code();
        }
        let _ = writeln!(err, "promptdesk: error: {}", one_line(&self.message));
        if let Some(hint) = &self.hint {
            let _ = writeln!(err, "promptdesk: hint: {}", one_line(hint));
        }
        let _ = err.flush();
        self.exit_code()
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for CommandError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// The history could not be opened, read or written: exit 1.
impl From<HistoryError> for CommandError {
    fn from(e: HistoryError) -> CommandError {
        CommandError::failure(e.to_string()).with_source(e)
    }
}

/// Writing the command's own output failed (see [`CommandError::output`]). Commands write
/// only their output through `?` on an `io::Error`; other I/O goes through the history's own
/// errors, which name the file.
impl From<io::Error> for CommandError {
    fn from(e: io::Error) -> CommandError {
        CommandError::output(e)
    }
}

/// A refused target (the history itself, a folder, ...) is bad input; a failed write is a
/// failure.
impl From<ExportError> for CommandError {
    fn from(e: ExportError) -> CommandError {
        let kind = if e.is_refusal() {
            CommandErrorKind::Usage
        } else {
            CommandErrorKind::Failure
        };
        CommandError::new(kind, e.to_string()).with_source(e)
    }
}

/// A file that is missing, not a file or not StableNew's is bad input; a history error is a
/// failure.
impl From<ImportError> for CommandError {
    fn from(e: ImportError) -> CommandError {
        let kind = if e.is_bad_input() {
            CommandErrorKind::Usage
        } else {
            CommandErrorKind::Failure
        };
        CommandError::new(kind, e.to_string()).with_source(e)
    }
}

/// A missing folder, or one that is no folder or cannot be read, is bad input; a history error
/// is a failure.
impl From<ImportImagesError> for CommandError {
    fn from(e: ImportImagesError) -> CommandError {
        let kind = if e.is_bad_input() {
            CommandErrorKind::Usage
        } else {
            CommandErrorKind::Failure
        };
        CommandError::new(kind, e.to_string()).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reported(e: &CommandError) -> (i32, String) {
        let mut err = Vec::new();
        let code = e.report(&mut err);
        (code, String::from_utf8(err).unwrap())
    }

    #[test]
    fn kinds_decide_the_exit_code_and_the_text() {
        assert_eq!(
            reported(&CommandError::usage("the prompt is empty")),
            (2, "promptdesk: error: the prompt is empty\n".to_owned())
        );
        assert_eq!(
            reported(&CommandError::failure("a\n  b\r\nc")),
            (1, "promptdesk: error: a b c\n".to_owned())
        );
        let pipe = CommandError::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(pipe.kind(), CommandErrorKind::BrokenPipe);
        assert_eq!(reported(&pipe), (1, String::new()));
        let full = CommandError::from(io::Error::other("disk full"));
        assert_eq!(full.kind(), CommandErrorKind::Failure);
        assert_eq!(
            reported(&full).1,
            "promptdesk: error: cannot write the output: disk full\n"
        );
    }

    #[test]
    fn a_hint_goes_on_its_own_line() {
        let e = CommandError::usage("no pack \"x\"").with_hint("run `promptdesk packs`");
        assert_eq!(e.hint(), Some("run `promptdesk packs`"));
        assert_eq!(
            reported(&e),
            (
                2,
                "promptdesk: error: no pack \"x\"\npromptdesk: hint: run `promptdesk packs`\n"
                    .to_owned()
            )
        );
    }

    #[test]
    fn the_source_is_kept() {
        let e = CommandError::from(io::Error::other("disk full"));
        let source = e.source().expect("a source");
        assert_eq!(source.to_string(), "disk full");
        assert!(source.downcast_ref::<io::Error>().is_some());

        let refused = CommandError::from(ExportError::IsAFolder {
            path: "/tmp/out".into(),
        });
        assert_eq!(refused.kind(), CommandErrorKind::Usage);
        assert!(refused.message().contains("is a folder"));
        assert!(
            refused
                .source()
                .unwrap()
                .downcast_ref::<ExportError>()
                .is_some()
        );
        let failed = CommandError::from(ExportError::Io {
            path: "/tmp/out".into(),
            source: io::Error::other("disk full"),
        });
        assert_eq!(failed.kind(), CommandErrorKind::Failure);
        // The chain goes on: the export error's own source is the io::Error.
        let chain: Vec<String> = std::iter::successors(failed.source(), |&e| e.source())
            .map(|e| e.to_string())
            .collect();
        assert_eq!(chain.last().map(String::as_str), Some("disk full"));
        let missing = CommandError::from(ImportError::NotFound {
            path: "/tmp/none.jsonl".into(),
        });
        assert_eq!(missing.exit_code(), 2);
        assert!(
            missing
                .source()
                .unwrap()
                .downcast_ref::<ImportError>()
                .is_some()
        );
        assert!(CommandError::usage("x").source().is_none());
    }
}
