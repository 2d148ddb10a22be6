//! The real binary: `history` keeps its columns straight with wide (CJK) text and emoji
//! sequences, and `submit` reads long prompts from a file or stdin (`--prompt-file`,
//! `--negative-file`), naming standard input as such and telling a terminal what it awaits.

use promptdesk::history::HistoryStore;
use promptdesk::{GenerationSettings, PromptSource, RunConfig, job_record_from_run_config};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use unicode_width::UnicodeWidthStr;

struct Env {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    data: PathBuf,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let data = dir.join("data");
        std::fs::create_dir_all(dir.join("packs")).unwrap();
        Env {
            _tmp: tmp,
            dir,
            data,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_promptdesk"));
        command
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--packs-dir")
            .arg(self.dir.join("packs"))
            .args(args)
            .env_remove("PROMPTDESK_DATA_DIR");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs with `input` on stdin.
    fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        out
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn history_bytes(&self) -> Vec<u8> {
        std::fs::read(self.data.join("history.jsonl")).unwrap_or_default()
    }

    fn prompts_of(&self, out: &Output) -> (String, String) {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
        let id = String::from_utf8(out.stdout.clone()).unwrap();
        let store = HistoryStore::open(self.data.join("history.jsonl")).unwrap();
        let record = store.get(id.trim()).expect("the job is recorded");
        assert_eq!(record.prompt_source, PromptSource::Manual);
        record.run_config.prompt_pairs().remove(0)
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A refusal: exit 2, one stderr line, which is returned.
fn refused(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("promptdesk: error: "), "{err}");
    assert!(out.stdout.is_empty());
    err
}

fn seed(data: &Path, rows: &[(&str, &str, &str, u32)]) {
    let mut store = HistoryStore::open(data.join("history.jsonl")).unwrap();
    for (i, (pack, prompt, model, steps)) in rows.iter().enumerate() {
        let mut prompts = serde_json::Map::new();
        prompts.insert("1".into(), serde_json::json!({ "prompt": prompt }));
        let mut payload = serde_json::Map::new();
        payload.insert("prompts".into(), prompts.into());
        let cfg = RunConfig {
            prompt_source: PromptSource::Pack,
            prompt_pack_id: Some(pack.to_string()),
            prompt_keys: vec!["1".into()],
            prompt_payload: payload,
            settings: GenerationSettings {
                model: model.to_string(),
                steps: *steps,
                ..GenerationSettings::default()
            },
            ..RunConfig::default()
        };
        let mut record = job_record_from_run_config(&format!("job-{i}"), &cfg);
        record.created_at += chrono::Duration::seconds(i as i64);
        store.append(&record).unwrap();
    }
}

/// The display column at which `needle` starts in `line`.
fn column_of(line: &str, needle: &str) -> usize {
    let at = line
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {line:?}"));
    line[..at].width()
}

#[test]
fn history_columns_line_up_with_wide_characters() {
    let env = Env::new();
    seed(
        &env.data,
        &[
            ("harbour", "a red lighthouse at dawn", "sdxl", 30),
            (
                "港の風景",
                "夜明けの赤い灯台、静かな港、漁船、霧、柔らかな光、油絵、細密描写、傑作、最高品質",
                "アニメ風モデル",
                8,
            ),
            ("mixed_港", "a lighthouse 灯台 at dawn", "m", 125),
        ],
    );
    let out = env.run(&["history"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    // Each column starts at the same terminal column on every line.
    for (header, cells) in [
        ("PROMPT", ["a lighthouse", "夜明け", "a red"]),
        ("MODEL", ["m ", "アニメ", "sdxl"]),
        ("STATUS", ["queued"; 3]),
    ] {
        let at = column_of(lines[0], header);
        for (line, cell) in lines[1..].iter().zip(cells) {
            assert_eq!(column_of(line, cell), at, "{header}:\n{text}");
        }
    }
    // The right-aligned STEPS column ends where its header ends.
    let end = column_of(lines[0], "STEPS") + "STEPS".len();
    for (line, steps) in lines[1..].iter().zip(["125", "8", "30"]) {
        assert_eq!(
            column_of(line, &format!(" {steps} ")) + 1 + steps.len(),
            end
        );
    }
    // The long prompt is cut to 40 columns (not 40 characters), with an ellipsis.
    let prompt_at = column_of(lines[0], "PROMPT");
    let model_at = column_of(lines[0], "MODEL");
    assert!(model_at - prompt_at <= 42, "{text}");
    assert!(lines[2].contains("…"), "{text}");
}

#[test]
fn a_prompt_longer_than_the_command_line_allows_is_read_from_a_file() {
    let env = Env::new();
    // Over Linux's 128 KiB limit for one argument.
    let prompt: String = (0..20_000)
        .map(|i| format!("港{i}, "))
        .collect::<String>()
        .trim_end()
        .to_owned();
    assert!(prompt.len() > 128 * 1024);
    let file = env.file("long prompt.txt", format!("{prompt}\n").as_bytes());
    let negative = env.file("neg.txt", "\u{feff}blurry, 文字\r\n".as_bytes());
    let out = env.run(&[
        "submit",
        "--prompt-file",
        file.to_str().unwrap(),
        "--negative-file",
        negative.to_str().unwrap(),
    ]);
    assert_eq!(env.prompts_of(&out), (prompt, "blurry, 文字".to_owned()));
}

#[test]
fn a_dash_reads_the_prompt_from_stdin() {
    let env = Env::new();
    let out = env.run_with_stdin(
        &["submit", "--prompt-file", "-", "--negative", "text"],
        "a harbour at dawn\nsecond line, 灯台\n".as_bytes(),
    );
    assert_eq!(
        env.prompts_of(&out),
        (
            "a harbour at dawn\nsecond line, 灯台".to_owned(),
            "text".to_owned()
        )
    );
    let out = env.run_with_stdin(
        &["submit", "--prompt", "typed", "--negative-file", "-"],
        b"from stdin",
    );
    assert_eq!(
        env.prompts_of(&out),
        ("typed".to_owned(), "from stdin".to_owned())
    );
}

#[test]
fn bad_prompt_files_are_refused_naming_the_file_and_nothing_is_written() {
    let env = Env::new();
    assert_eq!(
        env.run(&["submit", "--prompt", "first"]).status.code(),
        Some(0)
    );
    let before = env.history_bytes();
    let latin1 = env.file("latin1.txt", b"a caf\xe9 at night\n");
    let bad_line = env.file("bad_line.txt", b"ok\nline two \xe6\xb8\xaf\xff");
    let empty = env.file("empty.txt", b"\n\n");
    let missing = env.dir.join("missing.txt");
    let folder = env.dir.join("packs");
    let (latin1, bad_line, empty, missing, folder) = (
        latin1.to_str().unwrap(),
        bad_line.to_str().unwrap(),
        empty.to_str().unwrap(),
        missing.to_str().unwrap(),
        folder.to_str().unwrap(),
    );
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["submit", "--prompt-file", latin1],
            &["--prompt-file", latin1, "not UTF-8", "line 1, column 6"],
        ),
        (
            &["submit", "--prompt", "x", "--negative-file", bad_line],
            &["--negative-file", bad_line, "not UTF-8", "line 2"],
        ),
        (
            &["submit", "--prompt-file", missing],
            &["--prompt-file", missing, "no such file"],
        ),
        (
            &["submit", "--prompt-file", folder],
            &["--prompt-file", folder, "folder"],
        ),
        (&["submit", "--prompt-file", empty], &[empty, "empty"]),
        (
            &["submit", "--prompt-file", "-", "--negative-file", "-"],
            &["standard input"],
        ),
        (
            &["submit", "--prompt", "x", "--prompt-file", empty],
            &["--prompt-file"],
        ),
        (
            &[
                "submit",
                "--pack",
                "Harbour",
                "--keys",
                "1",
                "--prompt-file",
                empty,
            ],
            &["not both"],
        ),
        (
            &[
                "submit",
                "--pack",
                "Harbour",
                "--keys",
                "1",
                "--negative-file",
                empty,
            ],
            &["--negative-file"],
        ),
    ];
    for (args, needles) in cases {
        let err = refused(&env.run_with_stdin(args, b""));
        for needle in *needles {
            assert!(err.contains(needle), "{args:?}: {err}");
        }
        assert_eq!(env.history_bytes(), before, "{args:?} changed the history");
    }
}

#[test]
fn history_columns_line_up_with_emoji_sequences() {
    let env = Env::new();
    let family = "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}";
    seed(
        &env.data,
        &[
            ("plain", "a harbour", "sdxl", 30),
            (
                "\u{2764}\u{fe0f}_love",
                &format!(
                    "{family} a family portrait, \u{2764}\u{fe0f} hearts, cafe\u{301} sign, warm light, film grain, soft focus"
                ),
                "m\u{2764}\u{fe0f}",
                8,
            ),
        ],
    );
    let out = env.run(&["history"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (header, cells) in [
        ("PROMPT", [family, "a harbour"]),
        ("MODEL", ["m\u{2764}", "sdxl"]),
        ("STATUS", ["queued"; 2]),
    ] {
        let at = column_of(lines[0], header);
        for (line, cell) in lines[1..].iter().zip(cells) {
            assert_eq!(column_of(line, cell), at, "{header}:\n{text}");
        }
    }
    // The long prompt is cut between whole characters: no sequence left half.
    assert!(lines[1].contains("…"), "{text}");
    assert!(!lines[1].contains("\u{200d}…"), "{text}");
}

#[test]
fn standard_input_is_named_and_a_terminal_is_told_what_is_awaited() {
    let env = Env::new();
    // Nothing piped: the empty prompt is said to come from standard input.
    let err = refused(&env.run_with_stdin(&["submit", "--prompt-file", "-"], b"\n"));
    assert!(
        err.contains("--prompt-file - (standard input): the prompt is empty"),
        "{err}"
    );
    assert!(!err.contains("in -"), "{err}");
    // A pipe gets no hint (stderr holds only what the job needs: nothing).
    let out = env.run_with_stdin(&["submit", "--prompt-file", "-"], b"a harbour");
    assert_eq!(env.prompts_of(&out).0, "a harbour");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // --keys with --prompt-file names the option used, and says so before reading stdin.
    let file = env.file("p.txt", b"a harbour");
    let err = refused(&env.run(&[
        "submit",
        "--prompt-file",
        file.to_str().unwrap(),
        "--keys",
        "1",
    ]));
    assert!(err.contains("not with --prompt-file"), "{err}");
    let err = refused(&env.run(&["submit", "--prompt", "x", "--keys", "1"]));
    assert!(err.contains("not with --prompt"), "{err}");
}

/// `submit --prompt-file -` run on a pseudo-terminal (util-linux `script`), its input typed
/// ahead: returns everything the terminal showed, or None when `script` is not there.
#[cfg(target_os = "linux")]
fn submit_on_a_terminal(env: &Env, typed: &[u8]) -> Option<String> {
    let exe = env!("CARGO_BIN_EXE_promptdesk");
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let command_line = [
        exe,
        "--data-dir",
        env.data.to_str().unwrap(),
        "--packs-dir",
        env.dir.join("packs").to_str().unwrap(),
        "submit",
        "--prompt-file",
        "-",
    ]
    .map(quote)
    .join(" ");
    let mut child = Command::new("script")
        .args(["-qec", &command_line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("PROMPTDESK_DATA_DIR")
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take().unwrap();
    let typed = typed.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&typed));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(target_os = "linux")]
#[test]
fn reading_a_prompt_from_a_terminal_says_how_to_end_it() {
    let env = Env::new();
    // The prompt, then Ctrl+D (end of input) at the start of a line.
    let Some(shown) = submit_on_a_terminal(&env, b"a harbour typed by hand\n\x04") else {
        eprintln!("skipped: util-linux `script` (to run on a pseudo-terminal) is not installed");
        return;
    };
    assert!(
        shown.contains(
            "promptdesk: reading --prompt-file from standard input: type or paste the text, then press Ctrl+D"
        ),
        "{shown}"
    );
    let store = HistoryStore::open(env.data.join("history.jsonl")).unwrap();
    assert_eq!(store.records().len(), 1, "{shown}");
    assert_eq!(
        store.records()[0].run_config.prompt_pairs()[0].0,
        "a harbour typed by hand"
    );
}
