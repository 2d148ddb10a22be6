//! Fonts: egui's own (Latin, Greek, Cyrillic, emoji) first; for a character none of them has
//! (Japanese, Chinese, Korean, Thai, Devanagari, Arabic…), a system font found when the
//! character is first drawn.
//!
//! The lookup is [`egui_system_font_provider::SystemFontProvider`], the provider eframe's
//! `system_fonts` feature installs, installed here instead so that the app gets it however its
//! window is made (the headless UI tests too). It asks the system's own font fallback:
//! fontconfig on Linux and the BSDs, CoreText on macOS, DirectWrite on Windows (through
//! `fontique`), so a character gets the font the desktop's other programs use for it, with
//! the user's locale choosing between Japanese, Chinese and Korean forms of shared
//! ideographs. Nothing is read at start: the system's font list is enumerated on a background
//! thread (fontconfig answers from its cache), and a font file is memory-mapped only when a
//! character needs it, so a system with hundreds of fonts costs no more than one with three.
//! A character no system font has is drawn as a box, as before.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Installs the fonts into `ctx`: egui's own, then system fonts on demand. Returns how long
/// it took (it starts the font enumeration thread and returns; nothing is read here).
pub fn install(ctx: &egui::Context) -> Duration {
    let start = Instant::now();
    // Replaces eframe's stand-in provider (which only logs that system fonts are off), so
    // the system fonts are enumerated once.
    ctx.set_font_providers(vec![Arc::new(
        egui_system_font_provider::SystemFontProvider::new(),
    )]);
    let took = start.elapsed();
    log::debug!("fonts installed in {took:?}");
    took
}
