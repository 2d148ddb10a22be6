//! ComfyUI workflows in API format: the built-in txt2img graph, `{{placeholders}}`, and
//! placing values by walking a user's graph back from its image output.

use serde_json::Value;
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

impl Workflow {
    pub fn builtin() -> Workflow {
        Workflow {
            name: "built-in txt2img".into(),
            graph: Value::Object(Default::default()),
        }
    }

    /// Reads a workflow file; the error names the file and says what is wrong.
    pub fn load(path: &Path) -> Result<Workflow, String> {
        let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let graph: Value = serde_json::from_slice(&text)
            .map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
        Ok(Workflow {
            name: path.display().to_string(),
            graph,
        })
    }

    /// The graph with the job's values in place, or why this workflow cannot take them.
    pub fn fill(&self, _values: &WorkflowValues) -> Result<Value, String> {
        Err(format!("{}: not built yet", self.name))
    }
}
