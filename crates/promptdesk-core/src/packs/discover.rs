//! Loading one pack (with its companions) and scanning a folder.
//!
//! Files sharing a stem (case-insensitively) in one folder are one pack: `.json`, `.txt`,
//! `.tsv` and `.csv` (any case). Prompts come from whichever companion has them, the `.json`
//! first when several do (it is the richest); generation defaults, matrix and declared name
//! come from the `.json`. A `.json` with zero slots or only settings therefore never hides the
//! prompts of its `.txt` (a StableNew bug), and a broken companion never hides a good one.
//!
//! Every file is checked before it is parsed: not a regular file (a folder, FIFO, device, link
//! loop or dangling link is reported by name and never opened), over [`MAX_PACK_FILE_BYTES`]
//! (read from the metadata, the file is not read), empty or whitespace-only, not UTF-8. A UTF-8
//! BOM is dropped.

use super::entry::open_pack_file;
use super::{
    MAX_PACK_FILE_BYTES, PACK_EXTENSIONS, PackError, PackErrorKind, PackFormat, ParsedFile,
    PromptPack, invokeai_presets, keyed_json, styles_csv, styles_json, swarmui_presets, tsv, txt,
    unified_json,
};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Every pack found in a folder, plus one error per bad file.
#[derive(Debug, Clone, Default)]
pub struct DiscoveredPacks {
    pub packs: Vec<PromptPack>,
    pub errors: Vec<PackError>,
}

/// The kind of file a pack file is, from its extension (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FileKind {
    // Declaration order is the order companions are preferred in.
    Json,
    Txt,
    Tsv,
    Csv,
}

impl FileKind {
    /// The kind of each of [`PACK_EXTENSIONS`], in its order.
    const ALL: [FileKind; PACK_EXTENSIONS.len()] =
        [FileKind::Json, FileKind::Txt, FileKind::Tsv, FileKind::Csv];

    fn of(path: &Path) -> Option<FileKind> {
        let ext = path.extension()?.to_str()?;
        PACK_EXTENSIONS
            .into_iter()
            .zip(FileKind::ALL)
            .find_map(|(e, kind)| ext.eq_ignore_ascii_case(e).then_some(kind))
    }
}

/// One file that parsed.
struct LoadedFile {
    path: PathBuf,
    kind: FileKind,
    format: PackFormat,
    parsed: ParsedFile,
}

/// The stem of `path` as written, and its case-folded grouping key.
fn stem_of(path: &Path) -> (String, String) {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let key = stem.to_lowercase();
    (stem, key)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// Reads a pack file with the common checks: a regular file (or a link to one; anything else
/// is refused from its metadata and never opened, see [`super::entry`]), size limit (from the
/// metadata, before reading), not empty, UTF-8 (the error names the line and file offset of
/// the bad byte), BOM dropped.
fn read_text(path: &Path) -> Result<String, PackError> {
    let (file, len) = open_pack_file(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // Read at most one byte over the limit, in case the file grew since the metadata.
    file.take(MAX_PACK_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| PackError::in_file(path, None, PackErrorKind::Io(e.to_string())))?;
    if bytes.len() as u64 > MAX_PACK_FILE_BYTES {
        return Err(PackError::in_file(
            path,
            None,
            PackErrorKind::TooLarge {
                size: bytes.len() as u64,
            },
        ));
    }
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let bytes = e.as_bytes();
            let offset = e.utf8_error().valid_up_to();
            let line = memchr::memchr_iter(b'\n', &bytes[..offset]).count() + 1;
            return Err(PackError::in_file(
                path,
                Some(line),
                PackErrorKind::InvalidUtf8 { offset },
            ));
        }
    };
    let mut text = text;
    text.drain(..bom);
    if text.trim().is_empty() {
        return Err(PackError::in_file(path, None, PackErrorKind::Empty));
    }
    Ok(text)
}

/// Reads a `.json` pack whatever its layout: `pack_data` = unified, `prompts` = keyed,
/// StableNew v1 stage settings such as `txt2img` = a settings-only file; and the style
/// sources: a list = InvokeAI presets (`preset_data` or `positive_prompt`) or the JSON list of
/// styles, an object of `param_map` presets = SwarmUI presets.
pub(crate) fn parse_json(path: &Path, text: &str) -> Result<(PackFormat, ParsedFile), PackError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value = keyed_json::parse_value(path, text)?;
    if invokeai_presets::is_presets_list(&value) {
        return Ok((
            PackFormat::InvokeAiPresets,
            invokeai_presets::from_value(path, text, &value)?,
        ));
    }
    if styles_json::is_styles_list(&value) {
        return Ok((
            PackFormat::StylesJson,
            styles_json::from_value(path, text, &value)?,
        ));
    }
    let top = keyed_json::top_object(path, &value)?;
    if top.contains_key("pack_data") {
        Ok((
            PackFormat::UnifiedJson,
            unified_json::from_value(path, text, &value)?,
        ))
    } else if top.contains_key("prompts") {
        Ok((
            PackFormat::KeyedJson,
            keyed_json::from_value(path, text, &value)?,
        ))
    } else if [
        "slots",
        "txt2img",
        "preset_data",
        "img2img",
        "upscale",
        "pipeline",
    ]
    .iter()
    .any(|k| top.contains_key(*k))
    {
        Ok((
            PackFormat::UnifiedJson,
            unified_json::from_value(path, text, &value)?,
        ))
    } else if swarmui_presets::is_presets_object(&value) {
        Ok((
            PackFormat::SwarmUiPresets,
            swarmui_presets::from_value(path, text, &value)?,
        ))
    } else {
        Err(PackError::in_file(
            path,
            Some(1),
            PackErrorKind::Structure(
                "not a prompt pack: expected \"pack_data\", \"prompts\", stage settings such as \"txt2img\", a list of styles or SwarmUI presets"
                    .to_owned(),
            ),
        ))
    }
}

/// Reads and parses one pack file.
fn load_file(path: &Path) -> Result<LoadedFile, PackError> {
    let kind = FileKind::of(path)
        .ok_or_else(|| PackError::in_file(path, None, PackErrorKind::UnsupportedExtension))?;
    let text = read_text(path)?;
    let (format, parsed) = match kind {
        FileKind::Json => parse_json(path, &text)?,
        FileKind::Txt => (PackFormat::Txt, txt::parse(path, &text)?),
        FileKind::Tsv => (PackFormat::Tsv, tsv::parse(path, &text)?),
        FileKind::Csv => (PackFormat::StylesCsv, styles_csv::parse(path, &text)?),
    };
    Ok(LoadedFile {
        path: path.to_path_buf(),
        kind,
        format,
        parsed,
    })
}

/// Merges the results of one stem's files into a pack, plus the errors of its bad files.
/// `results` may come in any order.
fn merge(mut results: Vec<Result<LoadedFile, PackError>>) -> (Option<PromptPack>, Vec<PackError>) {
    let mut errors = Vec::new();
    let mut files = Vec::with_capacity(results.len());
    for result in results.drain(..) {
        match result {
            Ok(file) => files.push(file),
            Err(e) => errors.push(e),
        }
    }
    files.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| a.path.cmp(&b.path)));
    errors.sort_by(|a, b| a.path.cmp(&b.path));

    let Some(source) = files.iter().position(|f| !f.parsed.prompts.is_empty()) else {
        if errors.is_empty() {
            // Every file read fine but none holds a prompt: say so on the first of them.
            if let Some(first) = files.first() {
                errors.push(PackError::in_file(
                    &first.path,
                    None,
                    PackErrorKind::NoPrompts,
                ));
            }
        }
        return (None, errors);
    };
    let prompts_file = files.remove(source);
    let (id, _) = stem_of(&prompts_file.path);

    let mut companions = files;
    // Settings, matrix and name: from the .json (companions are sorted .json first), else
    // from the prompts file itself.
    let declared = |pick: &dyn Fn(&ParsedFile) -> bool| -> Option<&ParsedFile> {
        std::iter::once(&prompts_file)
            .chain(companions.iter())
            .filter(|f| f.kind == FileKind::Json)
            .map(|f| &f.parsed)
            .find(|p| pick(p))
    };
    let defaults = declared(&|p| !p.defaults.is_empty())
        .map(|p| p.defaults.clone())
        .unwrap_or_default();
    let matrix = declared(&|p| p.matrix.is_some()).and_then(|p| p.matrix.clone());
    let name = declared(&|p| p.name.is_some())
        .and_then(|p| p.name.clone())
        .or_else(|| prompts_file.parsed.name.clone())
        .unwrap_or_else(|| id.clone());

    let mut warnings = prompts_file.parsed.warnings;
    // A LoRA weight that is not a number is read as 1.0 (StableNew's reading): said, per
    // prompt, naming the file and the prompt's line.
    for p in &prompts_file.parsed.prompts {
        for kind in super::syntax::lora_warnings(&p.positive)
            .into_iter()
            .chain(super::syntax::lora_warnings(&p.negative))
        {
            warnings.push(PackError::in_file(&prompts_file.path, p.line, kind));
        }
    }
    for companion in &companions {
        warnings.extend(companion.parsed.warnings.iter().cloned());
    }
    let mut paths = Vec::with_capacity(1 + companions.len());
    paths.push(prompts_file.path);
    paths.extend(companions.drain(..).map(|f| f.path));
    let pack = PromptPack {
        id,
        name,
        paths,
        format: Some(prompts_file.format),
        defaults,
        matrix,
        prompts: prompts_file.parsed.prompts,
        warnings,
    };
    (Some(pack), errors)
}

/// The pack file names in `dir` (not recursive): supported extension, not hidden. Whatever
/// their type: a folder, FIFO, device, link loop or dangling link named like a pack file is
/// listed too, and [`load_file`] reports it (from its metadata, without opening it).
fn pack_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        if is_hidden(&path) || FileKind::of(&path).is_none() {
            continue;
        }
        out.push(path);
    }
    Ok(out)
}

/// Loads the pack at `path` together with its companion files (same stem, case-insensitively,
/// any of `.json`/`.txt`/`.tsv`/`.csv` in the same folder).
///
/// The pack loads when any of its files holds prompts, even if a companion is broken (use
/// [`load_pack_reporting`] to also see the companions' errors). When none does, the error is
/// that of a bad file, or `NoPrompts`.
pub fn load_pack(path: impl AsRef<Path>) -> Result<PromptPack, PackError> {
    let path = path.as_ref();
    match load_pack_reporting(path) {
        (Some(pack), _) => Ok(pack),
        (None, errors) => Err(errors
            .into_iter()
            .next()
            .unwrap_or_else(|| PackError::in_file(path, None, PackErrorKind::NoPrompts))),
    }
}

/// Like [`load_pack`], but also returns the errors of the pack's bad files (when the pack
/// loads from a good companion, those errors would otherwise be lost).
pub fn load_pack_reporting(path: impl AsRef<Path>) -> (Option<PromptPack>, Vec<PackError>) {
    let path = path.as_ref();
    if FileKind::of(path).is_none() {
        return (
            None,
            vec![PackError::in_file(
                path,
                None,
                PackErrorKind::UnsupportedExtension,
            )],
        );
    }
    let (_, key) = stem_of(path);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut files: Vec<PathBuf> = pack_files(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| stem_of(p).1 == key)
        .collect();
    // The file asked for counts even when it is hidden, or when the folder cannot be listed.
    let same = |p: &PathBuf| p.file_name() == path.file_name();
    if !files.iter().any(same) {
        files.push(dir.join(path.file_name().unwrap_or_default()));
    }
    let results = files.iter().map(|p| load_file(p)).collect();
    merge(results)
}

/// Finds every pack in `dir` (not recursive). A bad file never stops the scan: each gets one
/// error naming it (and the line, where known). Hidden files and other extensions (`.bak`, ...)
/// are ignored. Packs are sorted by id, case-insensitively; errors by file.
pub fn discover_packs(dir: impl AsRef<Path>) -> DiscoveredPacks {
    let dir = dir.as_ref();
    let files = match pack_files(dir) {
        Ok(files) => files,
        Err(e) => {
            return DiscoveredPacks {
                packs: Vec::new(),
                errors: vec![PackError::in_file(
                    dir,
                    None,
                    PackErrorKind::Io(e.to_string()),
                )],
            };
        }
    };
    let loaded: Vec<(String, Result<LoadedFile, PackError>)> = files
        .into_par_iter()
        .map(|path| (stem_of(&path).1, load_file(&path)))
        .collect();
    let mut groups: BTreeMap<String, Vec<Result<LoadedFile, PackError>>> = BTreeMap::new();
    for (key, result) in loaded {
        groups.entry(key).or_default().push(result);
    }
    let merged: Vec<(Option<PromptPack>, Vec<PackError>)> = groups
        .into_values()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(merge)
        .collect();

    let mut found = DiscoveredPacks::default();
    for (pack, errors) in merged {
        found.packs.extend(pack);
        found.errors.extend(errors);
    }
    found
        .packs
        .sort_by_cached_key(|p| (p.id.to_lowercase(), p.id.clone()));
    found
        .errors
        .sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pack_extension_has_its_kind_in_preference_order() {
        let kinds: Vec<FileKind> = PACK_EXTENSIONS
            .iter()
            .map(|e| FileKind::of(Path::new(&format!("p.{}", e.to_uppercase()))).unwrap())
            .collect();
        assert_eq!(kinds, FileKind::ALL);
        assert!(kinds.is_sorted(), "the .json companion comes first");
        assert!(FileKind::of(Path::new("p.bak")).is_none());
        assert!(FileKind::of(Path::new("json")).is_none());
        for e in PACK_EXTENSIONS {
            assert!(super::super::has_pack_extension(Path::new(&format!(
                "a.b.{e}"
            ))));
        }
        assert!(!super::super::has_pack_extension(Path::new("a.jsonl")));
    }
}
