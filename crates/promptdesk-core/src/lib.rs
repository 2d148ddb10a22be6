//! promptdesk's core: prompt packs, prompt-origin-tagged run configs and a crash-safe job
//! history. It depends on no GUI or CLI crate; the `promptdesk` package (the desktop app and
//! the CLI) re-exports it at its crate root.

pub mod backends;
pub mod compare;
pub mod fsutil;
pub mod history;
pub mod images;
pub mod infotext;
pub mod job_record;
pub mod outputs;
pub mod packs;
pub mod paths;
pub mod prompt_packs;
pub mod render;
pub mod run_config;
pub mod runner;
pub mod settings_override;
pub mod styles;
pub mod thumbs;
pub mod wording;

pub use compare::{CompareInput, Comparison};
pub use history::{HistoryError, HistoryStore};
pub use job_record::{JOB_RECORD_SCHEMA_VERSION, JobRecord, JobStatus, job_record_from_run_config};
pub use packs::{
    DiscoveredPacks, Embedding, Lora, MatrixConfig, MatrixSlot, PackDefaults, PackError,
    PackErrorKind, PackFormat, PackPrompt, PromptPack, discover_packs, load_pack,
};
pub use prompt_packs::{build_run_config_for_manual_prompt, build_run_config_from_prompt_pack};
pub use run_config::{
    GenerationSettings, JobSource, PromptSource, RenderedRequest, RunConfig, RunMode, RunSource,
    StyleRef,
};
pub use settings_override::SettingsOverride;
