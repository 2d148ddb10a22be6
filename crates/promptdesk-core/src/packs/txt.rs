//! StableNew `.txt` packs.
//!
//! A prompt is a block of lines; blocks are separated by one or more blank lines (a line of
//! only whitespace is blank). Lines starting with `#` are comments. Lines starting with `neg:`
//! (any case, after trimming) form the negative prompt, every other line the positive prompt;
//! each side's lines are trimmed and joined with a space.
//!
//! Keys are 1-based block numbers counted over the blocks that hold a prompt: a block made only
//! of comments is not a prompt and takes no number (so key `"1"` is StableNew's row index 0).
//! A prompt's line is the line of its first non-comment line.

use super::{PackError, PackPrompt, ParsedFile, parse_prompt_tokens};
use std::path::Path;

/// One block of a `.txt` file while it is being read.
#[derive(Default)]
struct Block {
    first_line: Option<usize>,
    positive: Vec<(usize, String)>,
    negative: Vec<(usize, String)>,
}

impl Block {
    fn has_prompt(&self) -> bool {
        self.first_line.is_some()
    }
}

/// The text after a leading `neg:` (any case), if the trimmed line starts with one.
fn strip_neg(line: &str) -> Option<&str> {
    let head = line.get(..4)?;
    head.eq_ignore_ascii_case("neg:").then(|| &line[4..])
}

/// Parses one file's text. `path` is only used to name the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<ParsedFile, PackError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut prompts = Vec::new();
    let mut block = Block::default();
    // `str::lines` splits on `\n` and drops a trailing `\r`, so `\r\n` files read the same.
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() {
            finish_block(path, std::mem::take(&mut block), &mut prompts)?;
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        block.first_line.get_or_insert(line_no);
        match strip_neg(line) {
            Some(neg) => block.negative.push((line_no, neg.trim().to_owned())),
            None => block.positive.push((line_no, line.to_owned())),
        }
    }
    finish_block(path, block, &mut prompts)?;
    Ok(ParsedFile {
        prompts,
        ..ParsedFile::default()
    })
}

fn join(parts: &[(usize, String)]) -> String {
    let mut out = String::new();
    for (_, part) in parts.iter().filter(|(_, p)| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

fn finish_block(path: &Path, block: Block, prompts: &mut Vec<PackPrompt>) -> Result<(), PackError> {
    if !block.has_prompt() {
        return Ok(());
    }
    let key = (prompts.len() + 1).to_string();
    let positive = join(&block.positive);
    let negative = join(&block.negative);
    match PackPrompt::from_texts(key, positive, negative, block.first_line) {
        Ok(prompt) => {
            prompts.push(prompt);
            Ok(())
        }
        Err(kind) => {
            // Name the line that holds the bad token, not only the block's first line.
            let line = block
                .positive
                .iter()
                .chain(&block.negative)
                .find(|(_, text)| parse_prompt_tokens(text).is_err())
                .map(|(n, _)| *n)
                .or(block.first_line);
            Err(PackError::in_file(path, line, kind))
        }
    }
}
