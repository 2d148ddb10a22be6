//! Everything a user can do that reaches beyond the panel it is done in, as data.
//!
//! The rule: a panel binds its own form fields directly (the prompt text, a generation
//! setting, the history filter, the pack search); anything that touches the disk, the
//! selection or another panel's state is a [`Command`], pushed on the [`CommandQueue`] while
//! the panel draws and applied after the frame (`command_handling.rs`).

use super::compare::CompareItem;
use super::state::{CentralView, ThemeChoice};
use super::writer::RatingChange;
use crate::backends::BackendConfig;
use crate::history::{ExportFormat, SortColumn};
use crate::run_config::PromptSource;
use crate::runner::QueueMove;
use std::path::PathBuf;

/// Everything a user can do, as data. Panels push these; `AppState::apply` carries them out.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    SelectPack(String),
    SetKeyChecked(String, bool),
    CheckAllKeys,
    CheckNoKeys,
    SetMode(PromptSource),
    Submit,
    SelectJob(Option<String>),
    LoadIntoComposer(String),
    CopyPrompt(String),
    CopyInfotext(String),
    CancelJob(String),
    DeleteJob(String),
    UndoDelete,
    SortBy(SortColumn),
    ReloadPacks,
    SetPacksDir(PathBuf),
    ImportPackFiles(Vec<PathBuf>),
    ImportStableNew(PathBuf),
    Export(PathBuf, ExportFormat),
    SetTheme(ThemeChoice),
    DismissMessage,
    /// Close the window (handled by the UI).
    Quit,
    /// The table has scrolled to `view.scroll_to`.
    ScrolledToSelection,
    /// Ask for a packs folder (a file dialog; its answer is a [`Command::SetPacksDir`]).
    PickPacksFolder,
    /// Ask for pack files to import ([`Command::ImportPackFiles`]).
    PickPackFiles,
    /// Ask for a StableNew history file ([`Command::ImportStableNew`]).
    PickStableNewFile,
    /// Ask where to export the rows shown ([`Command::Export`]).
    PickExportFile(ExportFormat),
    /// Ask for a folder of images to import ([`Command::ImportImages`]); `recursive`: its
    /// sub-folders too.
    PickImagesFolder {
        recursive: bool,
    },
    /// Import every image of `dir` (and of its sub-folders when `recursive`) as a completed
    /// job, on a background task (File → Import images folder).
    ImportImages {
        dir: PathBuf,
        recursive: bool,
    },
    /// Stop the image import under way between two batches.
    CancelImageImport,
    /// Bring back the composer and pack selection as they were before the last Load into
    /// composer.
    UndoLoad,
    /// Move the keyboard focus into the details panel (Enter in the table).
    FocusDetails,
    /// Drop the brackets of a token with no values: in the manual prompt, or (Pack mode) in
    /// a manual draft copied from the pack prompt `key`.
    DropBrackets {
        token: String,
        key: String,
    },
    /// The manual prompt holds an A1111 infotext: fill the prompt, the negative and every
    /// known setting from it (A1111's "Read generation parameters" button).
    ReadParameters,
    /// The "Run queue" switch: on starts (or resumes) the runner, off pauses it.
    SetRunQueue(bool),
    /// Show a view of the central area (the View menu).
    ShowView(CentralView),
    /// Open the Backends window.
    OpenBackends,
    /// Save a backend: a new one (`previous` unset) or the one named `previous`.
    SaveBackend {
        previous: Option<String>,
        config: Box<BackendConfig>,
    },
    RemoveBackend(String),
    /// Read a backend's catalogues in the background ("Test connection").
    TestBackend(String),
    /// Move a queued job in the run order.
    MoveInQueue(String, QueueMove),
    /// Interrupt a running job (it ends cancelled).
    InterruptJob(String),
    /// Queue a failed or cancelled job again.
    RequeueJob(String),
    /// Copy an image's path (absolute) to the clipboard.
    CopyPath(String),
    /// Rate or (un)favourite the image `sha256` of a job (through the history writer).
    RateImage {
        job_id: String,
        sha256: String,
        change: RatingChange,
    },
    /// Copy the A1111 infotext of one image of a job (its own prompt and seed).
    CopyImageInfotext {
        job_id: String,
        sha256: String,
    },
    /// Load a job into the composer with the seed of one of its images (Undo load brings the
    /// draft back).
    RerunWithSeed {
        job_id: String,
        seed: i64,
    },
    /// The answer to "Replace your draft?" after a Re-run with this seed: true loads the job
    /// with its seed (Undo load brings the draft back), false keeps the draft.
    ConfirmRerun(bool),
    /// Select a job and open the viewer on its image `index` (from the Gallery: its arrows
    /// then step through the Gallery's images).
    OpenImage {
        job_id: String,
        index: usize,
    },
    /// The viewer opened from the Gallery steps this many images through the Gallery.
    GalleryStep(isize),
    /// Scroll the history table to this job's row (the Gallery selected it).
    ShowInTable(String),
    // Compare (issue 13).
    /// Open the Compare window on these jobs or images, replacing the ones it held.
    Compare(Vec<CompareItem>),
    /// Add a job or an image to the Compare window's items, and open it.
    AddToCompare(CompareItem),
}

/// The commands pushed during one frame, in order.
#[derive(Debug, Default)]
pub struct CommandQueue {
    commands: Vec<Command>,
}

impl CommandQueue {
    /// Queues a command, applied after the current frame.
    pub fn push(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// The queued commands, oldest first (the queue is empty afterwards).
    pub fn take(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.commands)
    }

    /// The queued commands, without taking them.
    pub fn as_slice(&self) -> &[Command] {
        &self.commands
    }
}
