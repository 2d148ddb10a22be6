//! Generation metadata read back from an image file: what the tools that made it wrote.
//!
//! | Tool | Where (PNG) | Where (JPEG, WebP) | Read as |
//! |---|---|---|---|
//! | A1111 / Forge | `parameters` (`tEXt`, or `iTXt` when not Latin-1) | EXIF `UserComment` | infotext ([`crate::infotext::parse_infotext`]) |
//! | SwarmUI | `parameters` (`iTXt`): JSON with `sui_image_params` | EXIF `UserComment` | JSON |
//! | InvokeAI (3.x and later) | `invokeai_metadata`: JSON | – | JSON |
//! | ComfyUI | `prompt` (the graph run, API format) and `workflow` (the UI's) | – | the graph walked ([`crate::backends::workflow::read_graph`]) |
//! | promptdesk | `promptdesk`: JSON `{job_id, key, variant, seed}` | – | a link to the job |
//!
//! When a file carries several, the first readable one in this order wins: SwarmUI, A1111's
//! infotext, InvokeAI, ComfyUI's `prompt`, ComfyUI's `workflow`, and last a `parameters` text
//! that is a prompt alone (no parameters line). Samplers and schedulers are stored in A1111's
//! names (ComfyUI's and InvokeAI's translated where A1111 has a counterpart, else kept as
//! written). The `promptdesk` link is read beside whatever else the file has.
//!
//! Metadata that is there but cannot be read (JSON that does not parse, a graph without a
//! sampler) is not an error: it is listed in [`ImageMetadata::problems`] and the image is
//! read as having no parameters from that source.

use super::container::{ContainerError, ImageFormat, read_container};
use crate::backends::names::{sampler_from_comfy, scheduler_from_comfy};
use crate::backends::workflow::{GraphReading, read_graph};
use crate::infotext::parse_infotext;
use crate::settings_override::SettingsOverride;
use serde_json::{Map, Value};

/// The tool whose metadata an image carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetadataSource {
    /// AUTOMATIC1111, Forge, reForge and everything else writing A1111's infotext.
    A1111,
    ComfyUi,
    InvokeAi,
    SwarmUi,
}

impl MetadataSource {
    /// `a1111`, `comfyui`, `invokeai` or `swarmui` (what an imported job's
    /// `result.backend_kind` says).
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataSource::A1111 => "a1111",
            MetadataSource::ComfyUi => "comfyui",
            MetadataSource::InvokeAi => "invokeai",
            MetadataSource::SwarmUi => "swarmui",
        }
    }

    /// The tool's name as shown.
    pub fn label(self) -> &'static str {
        match self {
            MetadataSource::A1111 => "A1111/Forge",
            MetadataSource::ComfyUi => "ComfyUI",
            MetadataSource::InvokeAi => "InvokeAI",
            MetadataSource::SwarmUi => "SwarmUI",
        }
    }
}

/// The prompts and settings an image's metadata gives.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationMetadata {
    pub source: MetadataSource,
    pub prompt: String,
    pub negative_prompt: String,
    /// The settings the metadata names (the others it does not give).
    pub settings: SettingsOverride,
    /// A1111's `Model hash`.
    pub model_hash: Option<String>,
}

/// promptdesk's own `promptdesk` chunk: the job an image was made by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptdeskLink {
    pub job_id: String,
    /// The pack key (empty for a manual prompt).
    pub key: String,
    pub variant: u32,
    pub seed: Option<i64>,
    /// The pack, when the chunk names it (promptdesk does not write it yet; read for images
    /// whose job is not in the history).
    pub pack_id: Option<String>,
}

/// What an image file says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageMetadata {
    pub format: ImageFormat,
    /// From the file's header (no pixel is decoded).
    pub width: u32,
    pub height: u32,
    pub generation: Option<GenerationMetadata>,
    pub link: Option<PromptdeskLink>,
    /// Metadata present but unreadable, one sentence each.
    pub problems: Vec<String>,
}

/// Reads an image's size and metadata from its bytes. An error only when the bytes are not a
/// PNG, JPEG or WebP image, or one too damaged to read its header.
pub fn read_image_metadata(bytes: &[u8]) -> Result<ImageMetadata, ContainerError> {
    let container = read_container(bytes)?;
    let (generation, link, problems) = interpret(&container.texts);
    Ok(ImageMetadata {
        format: container.format,
        width: container.width,
        height: container.height,
        generation,
        link,
        problems,
    })
}

/// The keywords that may hold A1111's infotext or SwarmUI's JSON: PNG's `parameters`, EXIF's
/// `UserComment` (then `ImageDescription` and `XPComment`, which some tools use), a JPEG
/// comment.
const PARAMETER_KEYS: [&str; 5] = [
    "parameters",
    "UserComment",
    "ImageDescription",
    "XPComment",
    "comment",
];

fn interpret(
    texts: &[(String, String)],
) -> (
    Option<GenerationMetadata>,
    Option<PromptdeskLink>,
    Vec<String>,
) {
    let mut problems = Vec::new();
    let text = |key: &str| {
        texts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, t)| t.as_str())
    };
    let link = text("promptdesk").and_then(|t| match read_link(t) {
        Ok(link) => Some(link),
        Err(e) => {
            problems.push(format!("its promptdesk chunk cannot be read ({e})"));
            None
        }
    });
    let parameter_texts: Vec<&str> = PARAMETER_KEYS
        .iter()
        .filter_map(|k| text(k))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();

    // SwarmUI: JSON with `sui_image_params`, in `parameters` (or a chunk of that name).
    let swarm = parameter_texts
        .iter()
        .copied()
        .chain(text("sui_image_params"))
        .filter(|t| t.trim_start().starts_with('{'))
        .find_map(|t| {
            let doc: Value = serde_json::from_str(t).ok()?;
            match doc.get("sui_image_params") {
                Some(Value::Object(params)) => Some(from_swarm(params)),
                _ => None,
            }
        });
    let a1111 = || {
        parameter_texts
            .iter()
            .find_map(|t| parse_infotext(t))
            .map(|info| GenerationMetadata {
                source: MetadataSource::A1111,
                model_hash: info
                    .unknown
                    .iter()
                    .find(|(k, _)| k == "Model hash")
                    .map(|(_, v)| v.clone()),
                prompt: info.prompt,
                negative_prompt: info.negative_prompt,
                settings: info.settings,
            })
    };
    let mut invoke = || {
        let t = text("invokeai_metadata")?;
        match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(doc)) => Some(from_invoke(&doc)),
            Ok(_) => {
                problems.push("its invokeai_metadata chunk is not a JSON object".to_owned());
                None
            }
            Err(e) => {
                problems.push(format!(
                    "its invokeai_metadata chunk is not valid JSON ({e})"
                ));
                None
            }
        }
    };
    let generation = swarm.or_else(a1111).or_else(&mut invoke);
    let generation = generation.or_else(|| {
        let mut comfy = |key: &str, convert: fn(&Value) -> Option<Value>| {
            let t = text(key)?;
            let doc: Value = match serde_json::from_str(t) {
                Ok(doc) => doc,
                Err(e) => {
                    problems.push(format!(
                        "its {key} chunk is not a ComfyUI graph (not valid JSON: {e})"
                    ));
                    return None;
                }
            };
            match convert(&doc).as_ref().and_then(read_graph) {
                Some(reading) => Some(from_graph(&reading)),
                None => {
                    problems.push(format!(
                        "its ComfyUI {key} chunk holds no graph with a sampler to read"
                    ));
                    None
                }
            }
        };
        comfy("prompt", |v| Some(v.clone())).or_else(|| comfy("workflow", ui_to_api))
    });
    // Last: a `parameters` text that is not an infotext nor JSON: the prompt alone.
    let generation = generation.or_else(|| {
        let t = text("parameters")
            .map(str::trim)
            .filter(|t| !t.is_empty())?;
        if t.starts_with('{') && serde_json::from_str::<Value>(t).is_ok() {
            problems.push(
                "its parameters chunk holds JSON that no tool promptdesk knows writes".to_owned(),
            );
            return None;
        }
        Some(GenerationMetadata {
            source: MetadataSource::A1111,
            prompt: t.to_owned(),
            negative_prompt: String::new(),
            settings: SettingsOverride::default(),
            model_hash: None,
        })
    });
    (generation, link, problems)
}

fn read_link(text: &str) -> Result<PromptdeskLink, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let job_id = doc
        .get("job_id")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or("no job_id")?
        .to_owned();
    Ok(PromptdeskLink {
        job_id,
        key: doc
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        variant: doc
            .get("variant")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v >= 1)
            .unwrap_or(1),
        seed: doc.get("seed").and_then(Value::as_i64),
        pack_id: doc
            .get("pack_id")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned),
    })
}

/// A value as text (strings as they are, numbers and booleans written out).
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number given as a number or as text (`"7.0"`).
fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_u32(v: &Value) -> Option<u32> {
    as_i64(v).and_then(|n| u32::try_from(n).ok())
}

/// A ComfyUI sampler in A1111's name where it has one, else as written.
fn comfy_sampler(name: &str) -> String {
    sampler_from_comfy(name).unwrap_or_else(|| name.to_owned())
}

fn comfy_scheduler(name: &str) -> String {
    scheduler_from_comfy(name).unwrap_or_else(|| name.to_owned())
}

fn from_graph(r: &GraphReading) -> GenerationMetadata {
    GenerationMetadata {
        source: MetadataSource::ComfyUi,
        prompt: r.prompt.clone().unwrap_or_default(),
        negative_prompt: r.negative_prompt.clone().unwrap_or_default(),
        settings: SettingsOverride {
            model: r.model.clone(),
            sampler: r.sampler.as_deref().map(comfy_sampler),
            scheduler: r.scheduler.as_deref().map(comfy_scheduler),
            steps: r.steps,
            cfg_scale: r.cfg,
            width: r.width,
            height: r.height,
            seed: r.seed,
            batch_size: r.batch_size,
            batch_count: None,
            clip_skip: r.clip_skip,
        },
        model_hash: None,
    }
}

/// SwarmUI's `sui_image_params` (values may be numbers or text; sampler and scheduler in
/// ComfyUI's names; `clipstopatlayer` counts like ComfyUI's `CLIPSetLastLayer`, -2 = skip 2).
fn from_swarm(p: &Map<String, Value>) -> GenerationMetadata {
    let text = |k: &str| p.get(k).and_then(as_text);
    GenerationMetadata {
        source: MetadataSource::SwarmUi,
        prompt: text("prompt").unwrap_or_default(),
        negative_prompt: text("negativeprompt").unwrap_or_default(),
        settings: SettingsOverride {
            model: text("model").filter(|s| !s.trim().is_empty()),
            sampler: text("sampler").as_deref().map(comfy_sampler),
            scheduler: text("scheduler").as_deref().map(comfy_scheduler),
            steps: p.get("steps").and_then(as_u32),
            cfg_scale: p.get("cfgscale").and_then(as_f64),
            width: p.get("width").and_then(as_u32),
            height: p.get("height").and_then(as_u32),
            seed: p.get("seed").and_then(as_i64),
            batch_size: p.get("batchsize").and_then(as_u32),
            batch_count: None,
            clip_skip: p
                .get("clipstopatlayer")
                .and_then(as_i64)
                .filter(|n| *n < 0)
                .and_then(|n| u32::try_from(-n).ok()),
        },
        model_hash: None,
    }
}

/// InvokeAI's schedulers (diffusers-based; `_k` = Karras sigmas) in A1111's sampler names.
const INVOKE_SAMPLERS: &[(&str, &str)] = &[
    ("euler", "Euler"),
    ("euler_a", "Euler a"),
    ("heun", "Heun"),
    ("lms", "LMS"),
    ("kdpm_2", "DPM2"),
    ("kdpm_2_a", "DPM2 a"),
    ("dpmpp_2m", "DPM++ 2M"),
    ("dpmpp_sde", "DPM++ SDE"),
    ("dpmpp_2m_sde", "DPM++ 2M SDE"),
    ("ddim", "DDIM"),
    ("ddpm", "DDPM"),
    ("unipc", "UniPC"),
    ("lcm", "LCM"),
];

/// An InvokeAI scheduler as A1111's (sampler, scheduler): `dpmpp_2m_k` is DPM++ 2M with
/// Karras; a name A1111 has no sampler for is kept as written, scheduler Automatic.
fn invoke_scheduler(name: &str) -> (String, String) {
    let name = name.trim();
    let (base, schedule) = match name.strip_suffix("_k") {
        Some(base) => (base, "Karras"),
        None => (name, "Automatic"),
    };
    match INVOKE_SAMPLERS.iter().find(|(n, _)| *n == base) {
        Some((_, a1111)) => ((*a1111).to_owned(), schedule.to_owned()),
        None => (name.to_owned(), "Automatic".to_owned()),
    }
}

/// InvokeAI's `invokeai_metadata` (3.x: `model.model_name`; 4.x and later: `model.name`;
/// `clip_skip` counts the layers skipped, 0 = none, which A1111 calls 1).
fn from_invoke(doc: &Map<String, Value>) -> GenerationMetadata {
    let text = |k: &str| doc.get(k).and_then(as_text);
    let (sampler, scheduler) = match text("scheduler") {
        Some(name) => {
            let (s, sch) = invoke_scheduler(&name);
            (Some(s), Some(sch))
        }
        None => (None, None),
    };
    let model = match doc.get("model") {
        Some(Value::Object(m)) => m
            .get("name")
            .or_else(|| m.get("model_name"))
            .and_then(as_text),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
    .filter(|s| !s.trim().is_empty());
    GenerationMetadata {
        source: MetadataSource::InvokeAi,
        prompt: text("positive_prompt").unwrap_or_default(),
        negative_prompt: text("negative_prompt").unwrap_or_default(),
        settings: SettingsOverride {
            model,
            sampler,
            scheduler,
            steps: doc.get("steps").and_then(as_u32),
            cfg_scale: doc.get("cfg_scale").and_then(as_f64),
            width: doc.get("width").and_then(as_u32),
            height: doc.get("height").and_then(as_u32),
            seed: doc.get("seed").and_then(as_i64),
            batch_size: None,
            batch_count: None,
            clip_skip: doc
                .get("clip_skip")
                .and_then(as_u32)
                .and_then(|n| n.checked_add(1)),
        },
        model_hash: None,
    }
}

/// The names of the widgets ComfyUI's UI lists in a node's `widgets_values`, in order, for
/// the node types [`read_graph`] reads. A seed widget is followed in the list by its
/// "control after generate" value (`fixed`, `randomize`, ...), which is skipped.
fn widget_names(class: &str) -> Option<&'static [&'static str]> {
    Some(match class {
        "KSampler" => &[
            "seed",
            "steps",
            "cfg",
            "sampler_name",
            "scheduler",
            "denoise",
        ],
        "KSamplerAdvanced" => &[
            "add_noise",
            "noise_seed",
            "steps",
            "cfg",
            "sampler_name",
            "scheduler",
            "start_at_step",
            "end_at_step",
            "return_with_leftover_noise",
        ],
        "CLIPTextEncode" => &["text"],
        "EmptyLatentImage" | "EmptySD3LatentImage" | "EmptyHunyuanLatentVideo" => {
            &["width", "height", "batch_size"]
        }
        "CheckpointLoaderSimple" | "CheckpointLoader|pysssss" => &["ckpt_name"],
        "UNETLoader" => &["unet_name", "weight_dtype"],
        "CLIPSetLastLayer" => &["stop_at_clip_layer"],
        "PrimitiveNode" => &["value"],
        _ => return None,
    })
}

const SEED_CONTROLS: [&str; 4] = ["fixed", "increment", "decrement", "randomize"];

/// ComfyUI's UI workflow (`{"nodes": [...], "links": [...]}`, the `workflow` chunk) as an
/// API-format graph [`read_graph`] can walk: each node's linked inputs as `[from, slot]`, and
/// the widget values of the node types it reads under their input names. `None` when it is not
/// a UI workflow.
fn ui_to_api(workflow: &Value) -> Option<Value> {
    let nodes = workflow.get("nodes")?.as_array()?;
    // link id -> (from node, from slot); a link is `[id, from, from_slot, to, to_slot, type]`.
    let mut links = std::collections::HashMap::new();
    for l in workflow
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some([id, from, slot, ..]) = l.as_array().map(Vec::as_slice)
            && let (Some(id), Some(from), Some(slot)) = (id.as_i64(), from.as_i64(), slot.as_i64())
        {
            links.insert(id, (from, slot));
        }
    }
    let mut graph = Map::new();
    for node in nodes {
        let Some(id) = node.get("id").and_then(Value::as_i64) else {
            continue;
        };
        // Muted (2) and bypassed (4) nodes did not run.
        if matches!(node.get("mode").and_then(Value::as_i64), Some(2 | 4)) {
            continue;
        }
        let class = node.get("type").and_then(Value::as_str).unwrap_or("");
        let mut inputs = Map::new();
        if let (Some(names), Some(values)) = (
            widget_names(class),
            node.get("widgets_values").and_then(Value::as_array),
        ) {
            let mut values = values.iter().peekable();
            for name in names {
                let Some(value) = values.next() else { break };
                inputs.insert((*name).to_owned(), value.clone());
                if matches!(*name, "seed" | "noise_seed" | "value")
                    && values
                        .peek()
                        .and_then(|v| v.as_str())
                        .is_some_and(|s| SEED_CONTROLS.contains(&s))
                {
                    values.next();
                }
            }
        }
        for input in node
            .get("inputs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(link)) = (
                input.get("name").and_then(Value::as_str),
                input.get("link").and_then(Value::as_i64),
            ) else {
                continue;
            };
            if let Some((from, slot)) = links.get(&link) {
                inputs.insert(name.to_owned(), serde_json::json!([from.to_string(), slot]));
            }
        }
        graph.insert(
            id.to_string(),
            serde_json::json!({"class_type": class, "inputs": inputs}),
        );
    }
    Some(Value::Object(graph))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, t)| ((*k).to_owned(), (*t).to_owned()))
            .collect()
    }

    #[test]
    fn invokeai_schedulers_translate() {
        assert_eq!(
            invoke_scheduler("dpmpp_2m_k"),
            ("DPM++ 2M".to_owned(), "Karras".to_owned())
        );
        assert_eq!(
            invoke_scheduler("euler_a"),
            ("Euler a".to_owned(), "Automatic".to_owned())
        );
        assert_eq!(
            invoke_scheduler("deis_k"),
            ("deis_k".to_owned(), "Automatic".to_owned())
        );
    }

    #[test]
    fn a_ui_workflow_reads_like_its_graph() {
        let workflow = serde_json::json!({
            "nodes": [
                {"id": 4, "type": "CheckpointLoaderSimple", "widgets_values": ["sdxl.safetensors"], "inputs": []},
                {"id": 6, "type": "CLIPTextEncode", "widgets_values": ["a lighthouse"],
                 "inputs": [{"name": "clip", "link": 3}]},
                {"id": 7, "type": "CLIPTextEncode", "widgets_values": ["fog"],
                 "inputs": [{"name": "clip", "link": 5}]},
                {"id": 5, "type": "EmptyLatentImage", "widgets_values": [832, 1216, 1], "inputs": []},
                {"id": 3, "type": "KSampler",
                 "widgets_values": [1234, "randomize", 28, 6.5, "dpmpp_2m", "karras", 1.0],
                 "inputs": [{"name": "model", "link": 1}, {"name": "positive", "link": 4},
                            {"name": "negative", "link": 6}, {"name": "latent_image", "link": 2}]},
                {"id": 8, "type": "VAEDecode", "inputs": [{"name": "samples", "link": 7}]},
                {"id": 9, "type": "SaveImage", "widgets_values": ["ComfyUI"],
                 "inputs": [{"name": "images", "link": 9}]}
            ],
            "links": [[1, 4, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [3, 4, 1, 6, 0, "CLIP"],
                      [4, 6, 0, 3, 1, "CONDITIONING"], [5, 4, 1, 7, 0, "CLIP"],
                      [6, 7, 0, 3, 2, "CONDITIONING"], [7, 3, 0, 8, 0, "LATENT"], [9, 8, 0, 9, 0, "IMAGE"]]
        });
        let (g, link, problems) = interpret(&texts(&[("workflow", &workflow.to_string())]));
        assert!(problems.is_empty(), "{problems:?}");
        assert!(link.is_none());
        let g = g.unwrap();
        assert_eq!(g.source, MetadataSource::ComfyUi);
        assert_eq!(g.prompt, "a lighthouse");
        assert_eq!(g.negative_prompt, "fog");
        assert_eq!(g.settings.seed, Some(1234));
        assert_eq!(g.settings.steps, Some(28));
        assert_eq!(g.settings.cfg_scale, Some(6.5));
        assert_eq!(g.settings.sampler.as_deref(), Some("DPM++ 2M"));
        assert_eq!(g.settings.scheduler.as_deref(), Some("Karras"));
        assert_eq!(
            (g.settings.width, g.settings.height),
            (Some(832), Some(1216))
        );
        assert_eq!(g.settings.model.as_deref(), Some("sdxl.safetensors"));
    }

    #[test]
    fn unreadable_metadata_is_a_problem_not_an_error() {
        let (g, link, problems) = interpret(&texts(&[
            ("invokeai_metadata", "{not json"),
            ("prompt", "[1, 2]"),
            ("promptdesk", "{}"),
        ]));
        assert!(g.is_none() && link.is_none());
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn a_prompt_alone_is_a_prompt_with_no_settings() {
        let (g, _, _) = interpret(&texts(&[("parameters", "  a red fox  ")]));
        let g = g.unwrap();
        assert_eq!(g.prompt, "a red fox");
        assert!(g.settings.is_empty());
    }
}
