//! Small drawing helpers shared by the panels.

use crate::packs::syntax::{TokenKind, token_spans};
use crate::run_config::PromptSource;
use egui::text::LayoutJob;
use egui::{Color32, FontId, RichText, TextFormat};

/// The colour of a PACK / MANUAL badge.
pub fn source_color(source: PromptSource, dark: bool) -> Color32 {
    match (source, dark) {
        (PromptSource::Pack, true) => Color32::from_rgb(90, 170, 255),
        (PromptSource::Pack, false) => Color32::from_rgb(20, 90, 190),
        (PromptSource::Manual, true) => Color32::from_rgb(240, 180, 80),
        (PromptSource::Manual, false) => Color32::from_rgb(160, 95, 0),
    }
}

/// A coloured PACK / MANUAL badge.
pub fn source_badge(ui: &mut egui::Ui, source: PromptSource) -> egui::Response {
    let dark = ui.visuals().dark_mode;
    let text = match source {
        PromptSource::Pack => "PACK",
        PromptSource::Manual => "MANUAL",
    };
    ui.label(
        RichText::new(text)
            .strong()
            .monospace()
            .color(source_color(source, dark)),
    )
}

fn token_color(kind: TokenKind, dark: bool) -> Color32 {
    match (kind, dark) {
        (TokenKind::Lora, true) => Color32::from_rgb(200, 140, 255),
        (TokenKind::Lora, false) => Color32::from_rgb(120, 40, 180),
        (TokenKind::Embedding, true) => Color32::from_rgb(110, 210, 150),
        (TokenKind::Embedding, false) => Color32::from_rgb(10, 120, 60),
        (TokenKind::Matrix, true) => Color32::from_rgb(255, 150, 120),
        (TokenKind::Matrix, false) => Color32::from_rgb(180, 60, 20),
        (TokenKind::Wildcard, true) => Color32::from_rgb(120, 200, 230),
        (TokenKind::Wildcard, false) => Color32::from_rgb(0, 110, 140),
    }
}

/// Prompt text with LoRAs, embeddings, `[[matrix]]` tokens and `__wildcards__` coloured and
/// underlined, wrapping to the available width.
pub fn highlighted_prompt(ui: &mut egui::Ui, text: &str) -> egui::Response {
    let dark = ui.visuals().dark_mode;
    let base_color = ui.visuals().text_color();
    let font = FontId::monospace(12.5);
    let mut job = LayoutJob::default();
    job.wrap.max_width = ui.available_width();
    let plain = TextFormat {
        font_id: font.clone(),
        color: base_color,
        ..Default::default()
    };
    let mut at = 0;
    for (range, kind) in token_spans(text) {
        if range.start > at {
            job.append(&text[at..range.start], 0.0, plain.clone());
        }
        let color = token_color(kind, dark);
        job.append(
            &text[range.clone()],
            0.0,
            TextFormat {
                font_id: font.clone(),
                color,
                underline: egui::Stroke::new(1.0, color),
                ..Default::default()
            },
        );
        at = range.end;
    }
    if at < text.len() {
        job.append(&text[at..], 0.0, plain);
    }
    ui.label(job)
}

/// A small legend for the token colours.
pub fn token_legend(ui: &mut egui::Ui) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal_wrapped(|ui| {
        for (kind, name) in [
            (TokenKind::Lora, "LoRA"),
            (TokenKind::Embedding, "embedding"),
            (TokenKind::Matrix, "[[matrix]]"),
            (TokenKind::Wildcard, "__wildcard__"),
        ] {
            ui.label(RichText::new(name).small().color(token_color(kind, dark)));
        }
    });
}

/// `text` cut to `max` characters with an ellipsis (borrowed when it is short enough).
pub fn truncate_chars(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", text[..end].trim_end()).into(),
        None => text.into(),
    }
}

/// `n` and the noun in the right number: `1 prompt`, `3 prompts` (the CLI's wording).
pub use crate::wording::plural;

/// A focus target that takes the arrow keys (and Esc when `escape`) while it has the focus,
/// so they move its cursor rather than the focus; outlines `rect` meanwhile (the history
/// table, the Gallery).
pub fn hold_arrow_keys(ui: &egui::Ui, id: egui::Id, rect: egui::Rect, escape: bool) {
    ui.memory_mut(|m| {
        m.set_focus_lock_filter(
            id,
            egui::EventFilter {
                vertical_arrows: true,
                horizontal_arrows: true,
                tab: false,
                escape,
            },
        );
    });
    let stroke = ui.visuals().selection.stroke;
    ui.painter()
        .rect_stroke(rect.shrink(1.0), 2.0, stroke, egui::StrokeKind::Inside);
}
