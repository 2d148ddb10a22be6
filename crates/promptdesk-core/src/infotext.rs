//! A1111 "infotext" (generation parameters as text): reading it back.
//!
//! SKELETON (issue 11 foundation): [`parse_infotext`] is being ported from A1111's
//! `parse_generation_parameters`.

use crate::settings_override::SettingsOverride;

/// What an infotext holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Infotext {
    pub prompt: String,
    pub negative_prompt: String,
    /// Every setting promptdesk knows (Steps, Sampler, Schedule type, CFG scale, Seed, Size,
    /// Model, Clip skip, Batch size, ...).
    pub settings: SettingsOverride,
    /// The other `key: value` pairs of the parameters line, in order, unquoted.
    pub unknown: Vec<(String, String)>,
}

/// Reads an infotext. `None` when the text has no parameters line (its last line yields fewer
/// than 3 `key: value` pairs), so a plain prompt is not mistaken for one.
pub fn parse_infotext(text: &str) -> Option<Infotext> {
    let _ = text;
    None
}
