//! ComfyUI workflows in API format: the built-in txt2img graph, `{{placeholders}}`, and
//! placing values by walking a user's graph back from its image output.
//!
//! A workflow takes a job's values in one of two ways:
//!
//! 1. **Placeholders.** A string input that is exactly `{{prompt}}`, `{{negative_prompt}}`,
//!    `{{seed}}`, `{{steps}}`, `{{cfg}}`, `{{sampler}}`, `{{scheduler}}`, `{{width}}`,
//!    `{{height}}`, `{{batch_size}}`, `{{model}}` or `{{clip_skip}}` (spaces inside the braces
//!    allowed) is replaced by the value, numbers as JSON numbers. `{{clip_skip}}` in a
//!    `stop_at_clip_layer` input becomes `-clip_skip`, the way `CLIPSetLastLayer` counts. A
//!    placeholder inside a longer string (`"masterpiece, {{prompt}}"`) is replaced as text.
//!    A workflow with placeholders must have `{{prompt}}`; an unknown `{{name}}` is refused
//!    (a typo would otherwise reach ComfyUI as text).
//! 2. **Walking the graph** (a workflow without placeholders, and the built-in one): from the
//!    `SaveImage` node (else `PreviewImage`) back through the links to the nearest `KSampler`
//!    or `KSamplerAdvanced` (seed, steps, cfg, sampler, scheduler), from its `positive` and
//!    `negative` inputs to their `CLIPTextEncode` (`text`), from its `latent_image` to the
//!    empty latent (width, height, batch size), from its `model` to the checkpoint loader
//!    (`ckpt_name`), and from the positive encoder's `clip` to a `CLIPSetLastLayer`
//!    (`stop_at_clip_layer = -clip_skip`). The empty latent, the loader, the negative encoder
//!    and `CLIPSetLastLayer` are optional: what a graph lacks is not placed (a job with a
//!    negative prompt is refused by a graph with no negative encoder, and one without a model
//!    by a graph whose loader names none).
//!
//! A workflow that fits neither way is refused with the reason and the file's name: not an
//! object of nodes, ComfyUI's UI format (`nodes`/`links` arrays: use "Export (API)"), no
//! image output node, no sampler feeding it, a prompt that is not a plain `CLIPTextEncode`
//! text.

use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// A workflow in ComfyUI's API format (`{"3": {"class_type": "KSampler", "inputs": {...}}}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    /// Where it came from (`built-in txt2img` or the file's path), for messages.
    pub name: String,
    pub graph: Value,
}

/// The values a job puts into a workflow (sampler and scheduler in ComfyUI's names).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowValues {
    pub prompt: String,
    pub negative_prompt: String,
    pub seed: i64,
    pub steps: u32,
    pub cfg: f64,
    pub sampler: String,
    pub scheduler: String,
    pub width: u32,
    pub height: u32,
    pub batch_size: u32,
    /// The checkpoint file name as ComfyUI lists it; empty = leave the workflow's.
    pub model: String,
    pub clip_skip: u32,
}

/// The placeholders a workflow may hold, as `{{name}}`.
pub const PLACEHOLDERS: [&str; 12] = [
    "prompt",
    "negative_prompt",
    "seed",
    "steps",
    "cfg",
    "sampler",
    "scheduler",
    "width",
    "height",
    "batch_size",
    "model",
    "clip_skip",
];

/// The class types whose images a job collects, in order of preference.
const OUTPUT_CLASSES: [&str; 2] = ["SaveImage", "PreviewImage"];

/// A workflow name from the backend config: a bare file name is looked up in `workflows/`
/// in the data folder; anything with a folder is a path.
pub fn resolve(data_dir: &Path, name: &str) -> PathBuf {
    let p = Path::new(name);
    if p.components().count() == 1 && !p.is_absolute() {
        data_dir.join(super::config::WORKFLOWS_DIR_NAME).join(p)
    } else {
        p.to_path_buf()
    }
}

/// How a workflow takes its values.
#[derive(Debug)]
enum Shape {
    /// The placeholders it holds.
    Placeholders(BTreeSet<&'static str>),
    Walked(Targets),
}

/// The nodes a walked graph's values go into (node ids).
#[derive(Debug)]
struct Targets {
    sampler: String,
    /// `KSamplerAdvanced` (`noise_seed`) rather than `KSampler` (`seed`).
    advanced: bool,
    positive: String,
    negative: Option<String>,
    latent: Option<String>,
    loader: Option<String>,
    clip_layer: Option<String>,
}

impl Workflow {
    /// The built-in txt2img graph: checkpoint, CLIP skip, two prompts, an empty latent,
    /// KSampler, VAE decode, SaveImage (`promptdesk` prefix). Its checkpoint is empty: a
    /// job names one, or the server's first is used.
    pub fn builtin() -> Workflow {
        let graph = json!({
            "4": {
                "class_type": "CheckpointLoaderSimple",
                "inputs": {"ckpt_name": ""},
                "_meta": {"title": "Load Checkpoint"}
            },
            "10": {
                "class_type": "CLIPSetLastLayer",
                "inputs": {"clip": ["4", 1], "stop_at_clip_layer": -1},
                "_meta": {"title": "CLIP Set Last Layer"}
            },
            "6": {
                "class_type": "CLIPTextEncode",
                "inputs": {"clip": ["10", 0], "text": ""},
                "_meta": {"title": "Positive prompt"}
            },
            "7": {
                "class_type": "CLIPTextEncode",
                "inputs": {"clip": ["10", 0], "text": ""},
                "_meta": {"title": "Negative prompt"}
            },
            "5": {
                "class_type": "EmptyLatentImage",
                "inputs": {"width": 512, "height": 512, "batch_size": 1},
                "_meta": {"title": "Empty Latent Image"}
            },
            "3": {
                "class_type": "KSampler",
                "inputs": {
                    "seed": 0,
                    "steps": 20,
                    "cfg": 7.0,
                    "sampler_name": "euler",
                    "scheduler": "normal",
                    "denoise": 1.0,
                    "model": ["4", 0],
                    "positive": ["6", 0],
                    "negative": ["7", 0],
                    "latent_image": ["5", 0]
                },
                "_meta": {"title": "KSampler"}
            },
            "8": {
                "class_type": "VAEDecode",
                "inputs": {"samples": ["3", 0], "vae": ["4", 2]},
                "_meta": {"title": "VAE Decode"}
            },
            "9": {
                "class_type": "SaveImage",
                "inputs": {"filename_prefix": "promptdesk", "images": ["8", 0]},
                "_meta": {"title": "Save Image"}
            }
        });
        Workflow {
            name: "built-in txt2img".into(),
            graph,
        }
    }

    /// Reads a workflow file and checks that it can take a job's values; the error names the
    /// file and says what is wrong.
    pub fn load(path: &Path) -> Result<Workflow, String> {
        let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let graph: Value = serde_json::from_slice(&text).map_err(|e| {
            format!(
                "{}: not a ComfyUI workflow (not valid JSON: {e})",
                path.display()
            )
        })?;
        Workflow::from_graph(&path.display().to_string(), graph)
    }

    /// A workflow from a graph already read, checked like [`Workflow::load`] does.
    pub fn from_graph(name: &str, graph: Value) -> Result<Workflow, String> {
        let workflow = Workflow {
            name: name.to_owned(),
            graph,
        };
        workflow.check()?;
        Ok(workflow)
    }

    /// Why this workflow cannot take a job's values, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        self.shape().map(|_| ())
    }

    /// True when the job's model is put into the workflow (a `{{model}}` placeholder, or a
    /// checkpoint loader the sampler's model comes from).
    pub fn takes_model(&self) -> bool {
        match self.shape() {
            Ok(Shape::Placeholders(names)) => names.contains("model"),
            Ok(Shape::Walked(t)) => t.loader.is_some(),
            Err(_) => false,
        }
    }

    /// True when the workflow names no checkpoint of its own, so a job without a model needs
    /// one chosen for it (the built-in graph, a `{{model}}` placeholder, an empty
    /// `ckpt_name`).
    pub fn needs_model(&self) -> bool {
        match self.shape() {
            Ok(Shape::Placeholders(names)) => names.contains("model"),
            Ok(Shape::Walked(t)) => t.loader.as_deref().is_some_and(|id| {
                !matches!(input(&self.graph, id, "ckpt_name"), Some(Value::String(s)) if !s.trim().is_empty())
            }),
            Err(_) => false,
        }
    }

    /// The checkpoint a filled graph loads: the first `ckpt_name` given as text.
    pub fn checkpoint(graph: &Value) -> Option<String> {
        let nodes = graph.as_object()?;
        nodes
            .values()
            .find_map(|node| match node.get("inputs")?.get("ckpt_name")? {
                Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
                _ => None,
            })
    }

    /// The graph with the job's values in place, or why this workflow cannot take them.
    pub fn fill(&self, values: &WorkflowValues) -> Result<Value, String> {
        let mut graph = self.graph.clone();
        match self.shape()? {
            Shape::Placeholders(_) => {
                if let Some(nodes) = graph.as_object_mut() {
                    for node in nodes.values_mut() {
                        if let Some(Value::Object(inputs)) = node.get_mut("inputs") {
                            for (key, value) in inputs.iter_mut() {
                                replace_placeholders(key, value, values);
                            }
                        }
                    }
                }
            }
            Shape::Walked(t) => {
                let seed_key = if t.advanced { "noise_seed" } else { "seed" };
                set(&mut graph, &t.sampler, seed_key, json!(values.seed));
                set(&mut graph, &t.sampler, "steps", json!(values.steps));
                set(&mut graph, &t.sampler, "cfg", json!(values.cfg));
                set(
                    &mut graph,
                    &t.sampler,
                    "sampler_name",
                    json!(values.sampler),
                );
                set(&mut graph, &t.sampler, "scheduler", json!(values.scheduler));
                set(&mut graph, &t.positive, "text", json!(values.prompt));
                match &t.negative {
                    Some(id) => set(&mut graph, id, "text", json!(values.negative_prompt)),
                    None if !values.negative_prompt.trim().is_empty() => {
                        return Err(format!(
                            "{}: the job has a negative prompt but the workflow's sampler \"{}\" has no CLIPTextEncode for its negative input to put it in",
                            self.name, t.sampler
                        ));
                    }
                    None => {}
                }
                if let Some(id) = &t.latent {
                    set(&mut graph, id, "width", json!(values.width));
                    set(&mut graph, id, "height", json!(values.height));
                    set(
                        &mut graph,
                        id,
                        "batch_size",
                        json!(values.batch_size.max(1)),
                    );
                }
                if let Some(id) = &t.loader {
                    if !values.model.trim().is_empty() {
                        set(&mut graph, id, "ckpt_name", json!(values.model));
                    } else if self.needs_model() {
                        return Err(format!(
                            "{}: no model was given and the workflow's checkpoint loader \"{id}\" names none",
                            self.name
                        ));
                    }
                }
                if let Some(id) = &t.clip_layer {
                    set(
                        &mut graph,
                        id,
                        "stop_at_clip_layer",
                        json!(-i64::from(values.clip_skip.max(1))),
                    );
                }
            }
        }
        Ok(graph)
    }

    /// How the workflow takes its values, or why it cannot.
    fn shape(&self) -> Result<Shape, String> {
        let name = &self.name;
        let nodes = match &self.graph {
            Value::Object(nodes) => nodes,
            other => {
                return Err(format!(
                    "{name}: not a ComfyUI workflow in API format (the file holds {}, not an object of nodes)",
                    json_kind(other)
                ));
            }
        };
        if nodes.get("nodes").is_some_and(Value::is_array)
            || nodes.get("links").is_some_and(Value::is_array)
        {
            return Err(format!(
                "{name}: this workflow is in ComfyUI's UI format (\"nodes\" and \"links\"), which promptdesk cannot run: open it in ComfyUI and save it with Workflow → \"Export (API)\", then use that file"
            ));
        }
        if nodes.is_empty() {
            return Err(format!("{name}: the workflow has no nodes"));
        }
        for (id, node) in nodes {
            let ok = node.get("class_type").is_some_and(Value::is_string)
                && node.get("inputs").is_some_and(Value::is_object);
            if !ok {
                return Err(format!(
                    "{name}: node \"{id}\" has no class_type and inputs, so this is not a workflow in ComfyUI's API format: in ComfyUI use Workflow → \"Export (API)\""
                ));
            }
        }
        let found = placeholders_in(nodes).map_err(|e| format!("{name}: {e}"))?;
        if !found.is_empty() {
            if !found.contains("prompt") {
                return Err(format!(
                    "{name}: the workflow has placeholders ({}) but no {{{{prompt}}}}, so the job's prompt would go nowhere",
                    found
                        .iter()
                        .map(|p| format!("{{{{{p}}}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            return Ok(Shape::Placeholders(found));
        }
        self.walk(nodes).map(Shape::Walked)
    }

    fn walk(&self, nodes: &Map<String, Value>) -> Result<Targets, String> {
        let name = &self.name;
        let output = OUTPUT_CLASSES
            .iter()
            .find_map(|class| nodes.iter().find(|(_, n)| class_of(n) == *class))
            .map(|(id, _)| id.clone())
            .ok_or_else(|| {
                format!(
                    "{name}: the workflow has no SaveImage or PreviewImage node, so it makes no image promptdesk could collect"
                )
            })?;
        let sampler = upstream(nodes, &output, &[], &|n| {
            matches!(class_of(n), "KSampler" | "KSamplerAdvanced")
        })
        .ok_or_else(|| {
            format!(
                "{name}: no KSampler or KSamplerAdvanced feeds the {} node \"{output}\", so promptdesk has nowhere to put the seed, steps and sampler (put {{{{placeholders}}}} in the workflow instead)",
                class_of(&nodes[&output])
            )
        })?;
        let advanced = class_of(&nodes[&sampler]) == "KSamplerAdvanced";
        let encoder = |input_name: &str| -> Result<Option<String>, String> {
            let Some(start) = link(nodes, &sampler, input_name) else {
                return Ok(None);
            };
            let found = upstream(nodes, &start, &[input_name, "conditioning"], &|n| {
                class_of(n).starts_with("CLIPTextEncode")
            });
            let Some(id) = found else { return Ok(None) };
            let class = class_of(&nodes[&id]);
            if class != "CLIPTextEncode" {
                return Err(format!(
                    "{name}: the {input_name} prompt goes into a {class} node (\"{id}\"), not a plain CLIPTextEncode: promptdesk cannot place it there (put {{{{prompt}}}} and {{{{negative_prompt}}}} in the workflow instead)"
                ));
            }
            if !input(&self.graph, &id, "text").is_some_and(Value::is_string) {
                return Err(format!(
                    "{name}: the {input_name} prompt's CLIPTextEncode node \"{id}\" takes its text from another node, not as plain text: promptdesk cannot place the prompt (put {{{{prompt}}}} where the text is made instead)"
                ));
            }
            Ok(Some(id))
        };
        let positive = encoder("positive")?.ok_or_else(|| {
            format!(
                "{name}: the sampler \"{sampler}\" has no CLIPTextEncode on its positive input, so promptdesk has nowhere to put the prompt"
            )
        })?;
        let negative = encoder("negative")?;
        if negative.as_deref() == Some(positive.as_str()) {
            return Err(format!(
                "{name}: the same CLIPTextEncode node \"{positive}\" feeds the sampler's positive and negative inputs, so the two prompts cannot be told apart"
            ));
        }
        let latent = link(nodes, &sampler, "latent_image").and_then(|start| {
            upstream(
                nodes,
                &start,
                &["samples", "latent", "latent_image"],
                &|n| {
                    let inputs = &n["inputs"];
                    class_of(n).contains("Latent")
                        && ["width", "height", "batch_size"]
                            .iter()
                            .all(|k| inputs.get(k).is_some_and(|v| link_target(v).is_none()))
                },
            )
        });
        let loader = link(nodes, &sampler, "model").and_then(|start| {
            upstream(nodes, &start, &["model"], &|n| {
                n["inputs"].get("ckpt_name").is_some()
            })
        });
        let clip_layer = link(nodes, &positive, "clip").and_then(|start| {
            upstream(nodes, &start, &["clip"], &|n| {
                class_of(n) == "CLIPSetLastLayer"
            })
        });
        Ok(Targets {
            sampler,
            advanced,
            positive,
            negative,
            latent,
            loader,
            clip_layer,
        })
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a true/false value",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn class_of(node: &Value) -> &str {
    node.get("class_type").and_then(Value::as_str).unwrap_or("")
}

fn input<'a>(graph: &'a Value, id: &str, key: &str) -> Option<&'a Value> {
    graph.get(id)?.get("inputs")?.get(key)
}

fn set(graph: &mut Value, id: &str, key: &str, value: Value) {
    if let Some(Value::Object(inputs)) = graph.get_mut(id).and_then(|n| n.get_mut("inputs")) {
        inputs.insert(key.to_owned(), value);
    }
}

/// The node a link (`["4", 1]`) points at.
fn link_target(v: &Value) -> Option<String> {
    match v.as_array()?.as_slice() {
        [Value::String(id), Value::Number(_)] => Some(id.clone()),
        [Value::Number(id), Value::Number(_)] => Some(id.to_string()),
        _ => None,
    }
}

/// The node an input of `id` is linked to, when the node exists.
fn link(nodes: &Map<String, Value>, id: &str, input_name: &str) -> Option<String> {
    let target = link_target(nodes.get(id)?.get("inputs")?.get(input_name)?)?;
    nodes.contains_key(&target).then_some(target)
}

/// The nearest node upstream of `start` (itself included) that `wanted` accepts, walking
/// back through links breadth first. At a node with one of the `prefer` inputs linked, only
/// the first of those is followed (a `ControlNetApplyAdvanced` between the sampler and the
/// prompts has both `positive` and `negative`).
fn upstream(
    nodes: &Map<String, Value>,
    start: &str,
    prefer: &[&str],
    wanted: &dyn Fn(&Value) -> bool,
) -> Option<String> {
    let mut seen = HashSet::new();
    let mut queue = std::collections::VecDeque::from([start.to_owned()]);
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let Some(node) = nodes.get(&id) else { continue };
        if wanted(node) {
            return Some(id);
        }
        if let Some(next) = prefer.iter().find_map(|p| link(nodes, &id, p)) {
            queue.push_back(next);
            continue;
        }
        if let Some(inputs) = node.get("inputs").and_then(Value::as_object) {
            for value in inputs.values() {
                if let Some(next) = link_target(value)
                    && nodes.contains_key(&next)
                {
                    queue.push_back(next);
                }
            }
        }
    }
    None
}

/// Every `{{name}}` in the node inputs' strings; an unknown name is an error.
fn placeholders_in(nodes: &Map<String, Value>) -> Result<BTreeSet<&'static str>, String> {
    fn scan(v: &Value, found: &mut BTreeSet<&'static str>) -> Result<(), String> {
        match v {
            Value::String(s) => {
                let mut rest = s.as_str();
                while let Some(start) = rest.find("{{") {
                    let after = &rest[start + 2..];
                    let Some(end) = after.find("}}") else { break };
                    let name = after[..end].trim();
                    if !name.is_empty()
                        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        match PLACEHOLDERS.iter().find(|p| **p == name) {
                            Some(p) => {
                                found.insert(p);
                            }
                            None => {
                                return Err(format!(
                                    "unknown placeholder {{{{{name}}}}}; the known ones are {}",
                                    PLACEHOLDERS
                                        .iter()
                                        .map(|p| format!("{{{{{p}}}}}"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ));
                            }
                        }
                    }
                    rest = &after[end + 2..];
                }
                Ok(())
            }
            Value::Array(items) => items.iter().try_for_each(|i| scan(i, found)),
            Value::Object(map) => map.values().try_for_each(|i| scan(i, found)),
            _ => Ok(()),
        }
    }
    let mut found = BTreeSet::new();
    for node in nodes.values() {
        if let Some(inputs) = node.get("inputs") {
            scan(inputs, &mut found)?;
        }
    }
    Ok(found)
}

/// The placeholder a string is exactly (`{{ seed }}` → `seed`).
fn exact_placeholder(s: &str) -> Option<&'static str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    PLACEHOLDERS.iter().copied().find(|p| *p == inner)
}

fn placeholder_value(name: &str, key: &str, v: &WorkflowValues) -> Value {
    match name {
        "prompt" => json!(v.prompt),
        "negative_prompt" => json!(v.negative_prompt),
        "seed" => json!(v.seed),
        "steps" => json!(v.steps),
        "cfg" => json!(v.cfg),
        "sampler" => json!(v.sampler),
        "scheduler" => json!(v.scheduler),
        "width" => json!(v.width),
        "height" => json!(v.height),
        "batch_size" => json!(v.batch_size.max(1)),
        "model" => json!(v.model),
        "clip_skip" if key == "stop_at_clip_layer" => json!(-i64::from(v.clip_skip.max(1))),
        "clip_skip" => json!(v.clip_skip),
        _ => Value::Null,
    }
}

fn replace_placeholders(key: &str, value: &mut Value, values: &WorkflowValues) {
    match value {
        Value::String(s) => {
            if let Some(name) = exact_placeholder(s) {
                *value = placeholder_value(name, key, values);
            } else if s.contains("{{") {
                let mut text = std::mem::take(s);
                for name in PLACEHOLDERS {
                    if !text.contains(name) {
                        continue;
                    }
                    let replacement = match placeholder_value(name, key, values) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    text = replace_braced(&text, name, &replacement);
                }
                *s = text;
            }
        }
        Value::Array(items) => {
            for item in items {
                replace_placeholders(key, item, values);
            }
        }
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                replace_placeholders(k, item, values);
            }
        }
        _ => {}
    }
}

/// `text` with every `{{name}}` (spaces inside the braces allowed) replaced.
fn replace_braced(text: &str, name: &str, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) if after[..end].trim() == name => {
                out.push_str(&rest[..start]);
                out.push_str(replacement);
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What a finished graph (ComfyUI's `prompt` PNG chunk, in API format) says it made: the
/// values read back from its nodes. Every field is `None` when the graph does not give it.
/// Sampler and scheduler are in ComfyUI's names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphReading {
    pub prompt: Option<String>,
    pub negative_prompt: Option<String>,
    pub seed: Option<i64>,
    pub steps: Option<u32>,
    pub cfg: Option<f64>,
    pub sampler: Option<String>,
    pub scheduler: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub batch_size: Option<u32>,
    pub model: Option<String>,
    pub clip_skip: Option<u32>,
}

/// How many links a value is followed through (a seed from a primitive node, a prompt from a
/// string node) before giving up.
const VALUE_HOPS: usize = 8;

/// Reads a finished graph the way [`Workflow::fill`] walks one, but leniently: from the
/// `SaveImage` node (else `PreviewImage`, else any node with "Save" in its class) back to the
/// nearest sampler (`KSampler`, `KSamplerAdvanced`, else any node with "Sampler" in its class
/// that takes a `positive` input), its prompts from the nearest `CLIPTextEncode…` upstream of
/// `positive` / `negative` (`text`, else SDXL's `text_g`), the size from the latent upstream
/// of `latent_image`, the checkpoint from the loader upstream of `model` (`ckpt_name`, else
/// `unet_name`) and the CLIP skip from a `CLIPSetLastLayer`. A value given by a link (a seed
/// from a primitive node, a prompt from a text node) is followed a few nodes back. `None`
/// when the graph is not an object of nodes or has no sampler.
pub fn read_graph(graph: &Value) -> Option<GraphReading> {
    let nodes = graph.as_object()?;
    let is_sampler = |n: &Value| matches!(class_of(n), "KSampler" | "KSamplerAdvanced");
    let is_other_sampler = |n: &Value| {
        class_of(n).contains("Sampler") && n.get("inputs").and_then(|i| i.get("positive")).is_some()
    };
    let output = OUTPUT_CLASSES
        .iter()
        .find_map(|class| nodes.iter().find(|(_, n)| class_of(n) == *class))
        .or_else(|| nodes.iter().find(|(_, n)| class_of(n).contains("Save")))
        .map(|(id, _)| id.clone());
    let sampler = output
        .as_deref()
        .and_then(|out| {
            upstream(nodes, out, &[], &is_sampler)
                .or_else(|| upstream(nodes, out, &[], &is_other_sampler))
        })
        .or_else(|| {
            // No output node, or none fed by a sampler: the graph's only (or first) sampler.
            let mut ids: Vec<&String> = nodes
                .iter()
                .filter(|(_, n)| is_sampler(n) || is_other_sampler(n))
                .map(|(id, _)| id)
                .collect();
            ids.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), (*id).clone()));
            ids.first().map(|id| (*id).clone())
        })?;
    let mut out = GraphReading::default();
    let sampler_input = |key: &str| input(graph, &sampler, key);
    out.seed = sampler_input("seed")
        .or_else(|| sampler_input("noise_seed"))
        .and_then(|v| number_through(nodes, v, &["seed", "noise_seed", "value", "int"]))
        .and_then(|n| n.as_i64());
    out.steps = sampler_input("steps")
        .and_then(|v| number_through(nodes, v, &["steps", "value", "int"]))
        .and_then(|n| n.as_u64())
        .and_then(|n| u32::try_from(n).ok());
    out.cfg = sampler_input("cfg")
        .and_then(|v| number_through(nodes, v, &["cfg", "value", "float"]))
        .and_then(|n| n.as_f64())
        .filter(|f| f.is_finite());
    out.sampler = sampler_input("sampler_name")
        .and_then(|v| text_through(nodes, v, &["sampler_name", "sampler", "value"]));
    out.scheduler =
        sampler_input("scheduler").and_then(|v| text_through(nodes, v, &["scheduler", "value"]));
    let encoder = |input_name: &str| -> Option<String> {
        let start = link(nodes, &sampler, input_name)?;
        upstream(nodes, &start, &[input_name, "conditioning"], &|n| {
            class_of(n).starts_with("CLIPTextEncode")
        })
    };
    let prompt_of = |id: &str| -> Option<String> {
        ["text", "text_g", "prompt", "text_l"]
            .iter()
            .find_map(|key| input(graph, id, key).and_then(|v| text_through(nodes, v, &TEXT_KEYS)))
    };
    let positive = encoder("positive");
    out.prompt = positive.as_deref().and_then(prompt_of);
    let negative = encoder("negative").filter(|n| Some(n) != positive.as_ref());
    out.negative_prompt = negative.as_deref().and_then(prompt_of);
    if let Some(latent) = link(nodes, &sampler, "latent_image").and_then(|start| {
        upstream(
            nodes,
            &start,
            &["samples", "latent", "latent_image"],
            &|n| {
                let inputs = &n["inputs"];
                class_of(n).contains("Latent")
                    && inputs.get("width").is_some()
                    && inputs.get("height").is_some()
            },
        )
    }) {
        let dim = |key: &str| {
            input(graph, &latent, key)
                .and_then(|v| number_through(nodes, v, &[key, "value", "int"]))
                .and_then(|n| n.as_u64())
                .and_then(|n| u32::try_from(n).ok())
        };
        out.width = dim("width");
        out.height = dim("height");
        out.batch_size = dim("batch_size");
    }
    if let Some(loader) = link(nodes, &sampler, "model").and_then(|start| {
        upstream(nodes, &start, &["model"], &|n| {
            let inputs = &n["inputs"];
            inputs.get("ckpt_name").is_some() || inputs.get("unet_name").is_some()
        })
    }) {
        out.model = ["ckpt_name", "unet_name"].iter().find_map(|key| {
            input(graph, &loader, key)
                .and_then(|v| text_through(nodes, v, &[key, "value", "ckpt_name"]))
                .filter(|s| !s.trim().is_empty())
        });
    }
    if let Some(layer) = positive
        .as_deref()
        .and_then(|p| link(nodes, p, "clip"))
        .and_then(|start| {
            upstream(nodes, &start, &["clip"], &|n| {
                class_of(n) == "CLIPSetLastLayer"
            })
        })
    {
        out.clip_skip = input(graph, &layer, "stop_at_clip_layer")
            .and_then(|v| number_through(nodes, v, &["stop_at_clip_layer", "value", "int"]))
            .and_then(|n| n.as_i64())
            .filter(|n| *n < 0)
            .and_then(|n| u32::try_from(-n).ok());
    }
    Some(out)
}

/// The input names a text value is looked for under in a node a prompt is linked from.
const TEXT_KEYS: [&str; 6] = ["text", "string", "value", "prompt", "text_g", "String"];

/// A number given in place, or through up to [`VALUE_HOPS`] links (the linked node's first
/// number among `keys`).
fn number_through(
    nodes: &Map<String, Value>,
    v: &Value,
    keys: &[&str],
) -> Option<serde_json::Number> {
    let mut here = v.clone();
    for _ in 0..VALUE_HOPS {
        match &here {
            Value::Number(n) => return Some(n.clone()),
            Value::String(s) => {
                // Integers stay integral (`"42"` reads as 42, not 42.0).
                let s = s.trim();
                return s
                    .parse::<i64>()
                    .map(serde_json::Number::from)
                    .ok()
                    .or_else(|| s.parse::<f64>().ok().and_then(serde_json::Number::from_f64));
            }
            _ => {}
        }
        let id = link_target(&here)?;
        let inputs = nodes.get(&id)?.get("inputs")?.as_object()?;
        here = keys
            .iter()
            .find_map(|k| inputs.get(*k))
            .or_else(|| {
                inputs
                    .values()
                    .find(|v| v.is_number() || link_target(v).is_some())
            })?
            .clone();
    }
    None
}

/// A text given in place, or through up to [`VALUE_HOPS`] links (the linked node's first
/// text among `keys`).
fn text_through(nodes: &Map<String, Value>, v: &Value, keys: &[&str]) -> Option<String> {
    let mut here = v;
    for _ in 0..VALUE_HOPS {
        if let Value::String(s) = here {
            return Some(s.clone());
        }
        let id = link_target(here)?;
        let inputs = nodes.get(&id)?.get("inputs")?.as_object()?;
        here = keys.iter().find_map(|k| inputs.get(*k)).or_else(|| {
            inputs
                .values()
                .find(|v| v.is_string() || link_target(v).is_some())
        })?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> WorkflowValues {
        WorkflowValues {
            prompt: "a red fox, snow".into(),
            negative_prompt: "blurry".into(),
            seed: 4_000_000_123,
            steps: 28,
            cfg: 6.5,
            sampler: "dpmpp_2m".into(),
            scheduler: "karras".into(),
            width: 832,
            height: 1216,
            batch_size: 2,
            model: "sdxl/juggernautXL_v9.safetensors".into(),
            clip_skip: 2,
        }
    }

    #[test]
    fn the_builtin_graph_is_filled_with_the_exact_values() {
        let wf = Workflow::builtin();
        wf.check().unwrap();
        assert!(wf.takes_model());
        assert!(wf.needs_model());
        let g = wf.fill(&values()).unwrap();
        let k = &g["3"]["inputs"];
        assert_eq!(g["3"]["class_type"], "KSampler");
        assert_eq!(k["seed"], json!(4_000_000_123_i64));
        assert_eq!(k["steps"], json!(28));
        assert_eq!(k["cfg"], json!(6.5));
        assert_eq!(k["sampler_name"], "dpmpp_2m");
        assert_eq!(k["scheduler"], "karras");
        assert_eq!(k["denoise"], json!(1.0));
        assert_eq!(g["6"]["inputs"]["text"], "a red fox, snow");
        assert_eq!(g["7"]["inputs"]["text"], "blurry");
        assert_eq!(g["5"]["inputs"]["width"], json!(832));
        assert_eq!(g["5"]["inputs"]["height"], json!(1216));
        assert_eq!(g["5"]["inputs"]["batch_size"], json!(2));
        assert_eq!(
            g["4"]["inputs"]["ckpt_name"],
            "sdxl/juggernautXL_v9.safetensors"
        );
        assert_eq!(g["10"]["inputs"]["stop_at_clip_layer"], json!(-2));
        assert_eq!(g["9"]["class_type"], "SaveImage");
        assert_eq!(g["9"]["inputs"]["filename_prefix"], "promptdesk");
        assert_eq!(g["9"]["inputs"]["images"], json!(["8", 0]));
        assert_eq!(
            Workflow::checkpoint(&g).as_deref(),
            Some("sdxl/juggernautXL_v9.safetensors")
        );
        // The built-in graph itself is untouched, and clip skip 0 counts as 1.
        assert_eq!(wf.graph["6"]["inputs"]["text"], "");
        let mut v = values();
        v.clip_skip = 0;
        assert_eq!(
            wf.fill(&v).unwrap()["10"]["inputs"]["stop_at_clip_layer"],
            json!(-1)
        );
        // No model: the built-in graph cannot run.
        v.model.clear();
        let e = wf.fill(&v).unwrap_err();
        assert!(
            e.contains("built-in txt2img") && e.contains("no model"),
            "{e}"
        );
    }

    #[test]
    fn placeholders_are_replaced_with_numbers_as_numbers() {
        let graph = json!({
            "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "{{model}}"}},
            "2": {"class_type": "CLIPSetLastLayer", "inputs": {"clip": ["1", 1], "stop_at_clip_layer": "{{clip_skip}}"}},
            "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 0], "text": "masterpiece, {{ prompt }}"}},
            "4": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 0], "text": "{{negative_prompt}}"}},
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": "{{width}}", "height": "{{height}}", "batch_size": "{{batch_size}}"}},
            "6": {"class_type": "MySampler", "inputs": {
                "seed": "{{seed}}", "steps": "{{ steps }}", "cfg": "{{cfg}}",
                "sampler_name": "{{sampler}}", "scheduler": "{{scheduler}}",
                "model": ["1", 0], "positive": ["3", 0], "negative": ["4", 0], "latent_image": ["5", 0],
                "note": "clip skip {{clip_skip}}"
            }},
            "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "x"}}
        });
        let wf = Workflow::from_graph("mine.json", graph).unwrap();
        assert!(wf.takes_model() && wf.needs_model());
        let g = wf.fill(&values()).unwrap();
        let s = &g["6"]["inputs"];
        assert_eq!(s["seed"], json!(4_000_000_123_i64));
        assert!(s["seed"].is_i64() && s["steps"].is_u64() && s["cfg"].is_f64());
        assert_eq!(s["steps"], json!(28));
        assert_eq!(s["cfg"], json!(6.5));
        assert_eq!(s["sampler_name"], "dpmpp_2m");
        assert_eq!(s["scheduler"], "karras");
        assert_eq!(s["note"], "clip skip 2");
        assert_eq!(g["5"]["inputs"]["width"], json!(832));
        assert_eq!(g["5"]["inputs"]["height"], json!(1216));
        assert_eq!(g["5"]["inputs"]["batch_size"], json!(2));
        assert_eq!(g["3"]["inputs"]["text"], "masterpiece, a red fox, snow");
        assert_eq!(g["4"]["inputs"]["text"], "blurry");
        assert_eq!(
            g["1"]["inputs"]["ckpt_name"],
            "sdxl/juggernautXL_v9.safetensors"
        );
        assert_eq!(g["2"]["inputs"]["stop_at_clip_layer"], json!(-2));
        // Links are left alone.
        assert_eq!(g["6"]["inputs"]["model"], json!(["1", 0]));
    }

    #[test]
    fn unknown_placeholders_and_no_prompt_placeholder_are_refused() {
        let graph = json!({
            "1": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{promt}}"}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}
        });
        let e = Workflow::from_graph("typo.json", graph).unwrap_err();
        assert!(
            e.starts_with("typo.json: ") && e.contains("{{promt}}"),
            "{e}"
        );
        let graph = json!({
            "1": {"class_type": "KSampler", "inputs": {"seed": "{{seed}}"}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}
        });
        let e = Workflow::from_graph("noprompt.json", graph).unwrap_err();
        assert!(
            e.contains("noprompt.json") && e.contains("{{prompt}}"),
            "{e}"
        );
    }

    #[test]
    fn shapes_that_are_not_api_workflows_are_refused_with_the_reason() {
        let e = Workflow::from_graph("list.json", json!([1, 2])).unwrap_err();
        assert!(e.contains("list.json") && e.contains("a list"), "{e}");
        let e = Workflow::from_graph("empty.json", json!({})).unwrap_err();
        assert!(e.contains("no nodes"), "{e}");
        let e = Workflow::from_graph(
            "odd.json",
            json!({"1": {"class_type": "SaveImage"}, "version": 0.4}),
        )
        .unwrap_err();
        assert!(e.contains("odd.json") && e.contains("Export (API)"), "{e}");
    }

    #[test]
    fn a_linked_prompt_text_and_a_shared_encoder_are_refused() {
        let mut g = Workflow::builtin().graph;
        g["6"]["inputs"]["text"] = json!(["11", 0]);
        g["11"] = json!({"class_type": "StringConcatenate", "inputs": {"string_a": "a", "string_b": "b"}});
        let e = Workflow::from_graph("linked.json", g).unwrap_err();
        assert!(
            e.contains("linked.json") && e.contains("\"6\"") && e.contains("plain text"),
            "{e}"
        );
        let mut g = Workflow::builtin().graph;
        g["3"]["inputs"]["negative"] = json!(["6", 0]);
        let e = Workflow::from_graph("shared.json", g).unwrap_err();
        assert!(e.contains("positive and negative"), "{e}");
        let mut g = Workflow::builtin().graph;
        g["6"]["class_type"] = json!("CLIPTextEncodeSDXL");
        let e = Workflow::from_graph("sdxl.json", g).unwrap_err();
        assert!(e.contains("CLIPTextEncodeSDXL"), "{e}");
    }

    #[test]
    fn optional_parts_a_graph_lacks_are_not_placed() {
        // No negative encoder, no CLIPSetLastLayer, a named checkpoint.
        let mut g = Workflow::builtin().graph;
        let nodes = g.as_object_mut().unwrap();
        nodes.remove("7");
        nodes.remove("10");
        g["6"]["inputs"]["clip"] = json!(["4", 1]);
        g["4"]["inputs"]["ckpt_name"] = json!("own.safetensors");
        let wf = Workflow::from_graph("small.json", g).unwrap();
        assert!(wf.takes_model() && !wf.needs_model());
        let mut v = values();
        v.model.clear();
        let e = wf.fill(&v).unwrap_err();
        assert!(e.contains("negative prompt"), "{e}");
        v.negative_prompt.clear();
        let filled = wf.fill(&v).unwrap();
        assert_eq!(filled["4"]["inputs"]["ckpt_name"], "own.safetensors");
        assert_eq!(filled["6"]["inputs"]["text"], "a red fox, snow");
    }

    #[test]
    fn workflow_names_resolve_into_the_workflows_folder() {
        let data = Path::new("/data");
        assert_eq!(
            resolve(data, "flux.json"),
            Path::new("/data/workflows/flux.json")
        );
        assert_eq!(resolve(data, "/x/y.json"), Path::new("/x/y.json"));
        assert_eq!(resolve(data, "sub/y.json"), Path::new("sub/y.json"));
    }
}
