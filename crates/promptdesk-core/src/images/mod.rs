//! Images made elsewhere, brought into the history: reading the generation metadata tools
//! write into PNG, JPEG and WebP files ([`metadata`]), and importing a folder of them as
//! completed jobs ([`import`]), with the hash index that keeps a re-scan fast ([`index`]).

pub mod container;
pub mod import;
pub mod index;
pub mod metadata;

pub use container::{Container, ContainerError, ImageFormat, read_container};
pub use import::{
    IMPORT_BACKEND, IMPORTED_FROM_IMAGE, ImportImagesError, ImportImagesOptions, ImportImagesPhase,
    ImportImagesProgress, ImportImagesReport, ImportTarget, KnownImage, MAX_IMAGE_BYTES,
    NO_PARAMETERS, import_images, is_image_import, known_images_of,
};
pub use index::IMAGE_INDEX_FILE_NAME;
pub use metadata::{
    GenerationMetadata, ImageMetadata, MetadataSource, PromptdeskLink, read_image_metadata,
};
