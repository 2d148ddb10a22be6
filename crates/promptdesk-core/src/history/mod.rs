//! The job history: a crash-safe JSON Lines store, queries over it, StableNew import and
//! export to JSON Lines, CSV and AUTOMATIC1111 infotext.

pub mod export;
pub mod import;
mod private_fs;
pub mod quarantine;
pub mod query;
pub mod ratings;
pub mod store;

pub use export::*;
pub use import::*;
pub use quarantine::{QuarantineEntry, QuarantineSummary, read_quarantine};
pub use query::*;
pub use ratings::{
    MAX_STARS, RateError, RatingChange, change_image, image_rating, rate_image, set_favorite,
};
pub use store::*;
