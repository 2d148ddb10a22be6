//! What Submit sends: the draft rendered (styles applied, `[[matrix]]` tokens, `__wildcards__`
//! and `{a|b}` variants replaced), the Styles picker, the draw seed, and the list of requests
//! with their count.
//!
//! The render is cached: it is redone only when its inputs change (the draft's prompts, the
//! styles, the seed, the packs and wildcards scan), never every frame.

use super::Composer;
use crate::app::commands::{Command, CommandQueue};
use crate::app::state::{ViewContext, draft_run_config};
use crate::render::{RenderError, RenderPlan, Wildcards, render_with_pack};
use crate::run_config::{PromptSource, StyleRef};
use crate::styles::style_sources;
use egui::RichText;
use std::hash::{Hash, Hasher};

/// The last render and the inputs it was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderCache {
    key: u64,
    pub(crate) result: Result<RenderPlan, RenderError>,
}

impl Composer {
    /// Renders the draft again when its inputs changed since the last render. The inputs are
    /// hashed as they are (no payload is built or serialised per frame): the mode, the typed
    /// prompt or the pack, its checked keys and the loaded job's recorded texts, the styles,
    /// the seed, and the packs and wildcards scan.
    pub(crate) fn refresh_render(&mut self, ctx: &ViewContext<'_>) {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.mode.hash(&mut h);
        match self.mode {
            PromptSource::Manual => (&self.prompt, &self.negative).hash(&mut h),
            PromptSource::Pack => {
                ctx.selected_pack.map(|p| &p.id).hash(&mut h);
                ctx.checked_keys.hash(&mut h);
                self.recorded
                    .as_ref()
                    .map(|r| (&r.job_id, &r.pack_id))
                    .hash(&mut h);
            }
        }
        self.styles.hash(&mut h);
        self.wildcard_seed.hash(&mut h);
        ctx.packs_version.hash(&mut h);
        (ctx.wildcards as *const Wildcards as usize).hash(&mut h);
        let key = h.finish();
        if self.rendered.as_ref().is_some_and(|r| r.key == key) {
            return;
        }
        let Ok(mut cfg) = draft_run_config(self, ctx.selected_pack, ctx.checked_keys) else {
            self.rendered = None;
            return;
        };
        let result = render_with_pack(
            &mut cfg,
            ctx.selected_pack,
            ctx.packs,
            ctx.wildcards,
            &self.styles,
            self.wildcard_seed,
        );
        self.rendered = Some(RenderCache { key, result });
    }

    /// Why the draft cannot be rendered (a token with no values, a style that is gone).
    pub(crate) fn render_error(&self) -> Option<&RenderError> {
        self.rendered.as_ref().and_then(|r| r.result.as_ref().err())
    }
}

/// The Styles picker: the chosen styles in order (move, remove), a search over every style
/// of the style sources in the packs folder, and the draw seed.
pub(super) fn styles_section(composer: &mut Composer, ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    let title = if composer.styles.is_empty() {
        "Styles".to_owned()
    } else {
        format!("Styles ({})", composer.styles.len())
    };
    egui::CollapsingHeader::new(title)
        .id_salt("styles")
        .default_open(!composer.styles.is_empty())
        .show(ui, |ui| {
            chosen_styles(composer, ui);
            let label = ui.label("Search styles");
            ui.add(
                egui::TextEdit::singleline(&mut composer.style_search)
                    .hint_text("name or text")
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
            style_list(composer, ctx, ui);
        });
    ui.horizontal(|ui| {
        let label = ui.label("Draw seed");
        ui.add(egui::DragValue::new(&mut composer.wildcard_seed).speed(1.0))
            .labelled_by(label.id)
            .on_hover_text(
                "The seed of wildcard (__name__), {a|b} and random matrix draws: the same seed draws the same values again",
            );
        if ui
            .small_button("New seed")
            .on_hover_text("Draw with another seed")
            .clicked()
        {
            composer.wildcard_seed = crate::render::new_seed();
        }
    });
}

fn chosen_styles(composer: &mut Composer, ui: &mut egui::Ui) {
    if composer.styles.is_empty() {
        ui.weak("No style chosen: the prompts are sent as written.");
        return;
    }
    let mut action: Option<(usize, i32)> = None;
    let count = composer.styles.len();
    for (i, style) in composer.styles.iter().enumerate() {
        ui.horizontal(|ui| {
            ui.label(format!("{}.", i + 1));
            ui.strong(&style.name);
            ui.weak(&style.source);
            if ui
                .add_enabled(i > 0, egui::Button::new("⬆").small())
                .on_hover_text("Apply earlier")
                .clicked()
            {
                action = Some((i, -1));
            }
            if ui
                .add_enabled(i + 1 < count, egui::Button::new("⬇").small())
                .on_hover_text("Apply later")
                .clicked()
            {
                action = Some((i, 1));
            }
            if ui
                .small_button("✕")
                .on_hover_text(format!("Remove style {}", style.name))
                .clicked()
            {
                action = Some((i, 0));
            }
        });
    }
    match action {
        Some((i, 0)) => {
            composer.styles.remove(i);
        }
        Some((i, d)) => {
            let j = (i as i32 + d) as usize;
            composer.styles.swap(i, j);
        }
        None => {}
    }
}

/// At most this many matching styles are listed (refine the search for the others).
const MAX_LISTED_STYLES: usize = 200;

/// The styles the picker's search matches, as (pack index, prompt index) into the packs, with
/// the search and packs scan they were found for: the search runs once per change, not every
/// frame (an A1111 styles file can hold hundreds of styles).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StyleMatches {
    key: Option<(String, u64)>,
    hits: Vec<(usize, usize)>,
}

impl StyleMatches {
    fn refresh(&mut self, search: &str, packs: &[crate::packs::PromptPack], packs_version: u64) {
        let needle = search.trim().to_lowercase();
        let key = (needle, packs_version);
        if self.key.as_ref() == Some(&key) {
            return;
        }
        let needle = &key.0;
        self.hits.clear();
        for (pi, pack) in packs.iter().enumerate() {
            if !pack
                .format
                .is_some_and(crate::packs::PackFormat::is_style_source)
            {
                continue;
            }
            for (si, style) in pack.prompts.iter().enumerate() {
                if needle.is_empty()
                    || style.key.to_lowercase().contains(needle.as_str())
                    || style.positive.to_lowercase().contains(needle.as_str())
                {
                    self.hits.push((pi, si));
                }
            }
        }
        self.key = Some(key);
    }
}

fn style_list(composer: &mut Composer, ctx: &ViewContext<'_>, ui: &mut egui::Ui) {
    if style_sources(ctx.packs).next().is_none() {
        ui.weak(
            "No style source in the packs folder: add an A1111 styles.csv, an SDXL Prompt Styler / Fooocus .json, InvokeAI or SwarmUI presets.",
        );
        return;
    }
    composer
        .style_matches
        .refresh(&composer.style_search, ctx.packs, ctx.packs_version);
    let hits = &composer.style_matches.hits;
    let styles = &mut composer.styles;
    egui::ScrollArea::vertical()
        .id_salt("style list")
        .max_height(180.0)
        .show(ui, |ui| {
            for &(pi, si) in hits.iter().take(MAX_LISTED_STYLES) {
                let (pack, style) = (&ctx.packs[pi], &ctx.packs[pi].prompts[si]);
                let r = StyleRef::new(pack.id.clone(), style.key.clone());
                let mut on = styles.contains(&r);
                let response = ui
                    .checkbox(&mut on, format!("{}  ·  {}", style.key, pack.id))
                    .on_hover_ui(|ui| {
                        ui.label(&style.positive);
                        if !style.negative.trim().is_empty() {
                            ui.label(format!("Negative: {}", style.negative));
                        }
                    });
                if response.changed() {
                    if on {
                        styles.push(r);
                    } else {
                        styles.retain(|s| s != &r);
                    }
                }
            }
            let more = hits.len().saturating_sub(MAX_LISTED_STYLES);
            if more > 0 {
                ui.weak(format!("{more} more: refine the search"));
            }
            if hits.is_empty() {
                ui.weak("No style matches the search.");
            }
        });
}

/// The requests Submit sends, count first, or why there are none; the wildcard files that
/// could not be read.
pub(super) fn requests_preview(
    composer: &Composer,
    ctx: &ViewContext<'_>,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    match composer.rendered.as_ref().map(|c| &c.result) {
        None => {}
        Some(Ok(plan)) => {
            let per_request =
                composer.settings.batch_size.max(1) * composer.settings.batch_count.max(1);
            egui::CollapsingHeader::new(format!(
                "What Submit sends: {}",
                plan.summary_images(per_request)
            ))
            .id_salt("requests")
            .default_open(true)
            .show(ui, |ui| request_rows(plan, ui));
        }
        Some(Err(e)) => {
            ui.label(RichText::new(e.to_string()).color(ui.visuals().warn_fg_color));
            drop_brackets_offer(composer, e, ui, commands);
        }
    }
    for error in ctx.wildcard_errors {
        ui.label(
            RichText::new(format!("Wildcard file not read: {error}"))
                .color(ui.visuals().warn_fg_color),
        );
    }
}

/// The height of the request list before it scrolls.
const REQUEST_LIST_HEIGHT: f32 = 320.0;

/// Every request, in a list that scrolls; only the rows in view are laid out (a fanout over
/// many keys gives hundreds). A row is three lines: the key, variant and final prompt, the
/// negative, the values chosen; a longer text is cut and shown whole on hover.
fn request_rows(plan: &RenderPlan, ui: &mut egui::Ui) {
    let line = ui.text_style_height(&egui::TextStyle::Body);
    let gap = ui.spacing().item_spacing.y;
    let row_height = 3.0 * line + 2.0 * gap + 6.0;
    let rows = |ui: &mut egui::Ui, requests: &[crate::run_config::RenderedRequest]| {
        for r in requests {
            let width = ui.available_width();
            ui.allocate_ui_with_layout(
                egui::vec2(width, row_height),
                egui::Layout::top_down(egui::Align::Min),
                |ui| {
                    ui.set_min_size(egui::vec2(width, row_height));
                    request_row(r, ui);
                },
            );
        }
    };
    let n = plan.requests.len();
    // A list that fits is laid out as it is: an inner scroll area would take the scrolling
    // asked of the composer (egui gives an accessibility scroll to the first area it meets).
    if n as f32 * (row_height + gap) <= REQUEST_LIST_HEIGHT {
        rows(ui, &plan.requests);
        return;
    }
    egui::ScrollArea::vertical()
        .id_salt("request rows")
        .max_height(REQUEST_LIST_HEIGHT)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, n, |ui, range| {
            rows(ui, &plan.requests[range])
        });
}

fn request_row(r: &crate::run_config::RenderedRequest, ui: &mut egui::Ui) {
    let head = if r.key.is_empty() {
        format!("#{}", r.variant)
    } else {
        format!("key {} · #{}", r.key, r.variant)
    };
    // One label per line, each starting with its own words (no label here repeats the text
    // of a prompt box).
    ui.add(egui::Label::new(format!("{head} — {}", r.prompt)).truncate());
    if !r.negative_prompt.trim().is_empty() {
        ui.add(
            egui::Label::new(RichText::new(format!("Negative: {}", r.negative_prompt)).weak())
                .truncate(),
        );
    }
    if !r.values.is_empty() {
        let values = r
            .values
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        ui.add(egui::Label::new(RichText::new(format!("Values: {values}")).weak()).truncate());
    }
}

/// Under a "no values" reason: a button that drops the token's brackets (Manual), or that
/// copies the one checked pack prompt into a manual draft without them (the pack file is
/// never edited from here).
pub(super) fn drop_brackets_offer(
    composer: &Composer,
    error: &RenderError,
    ui: &mut egui::Ui,
    commands: &mut CommandQueue,
) {
    let RenderError::NoValues { token, key, .. } = error else {
        return;
    };
    let label = match composer.mode {
        PromptSource::Manual => format!("Drop the brackets of {token}"),
        PromptSource::Pack => {
            format!("Copy key {key} to a manual prompt without the brackets of {token}")
        }
    };
    if ui.button(label).clicked() {
        commands.push(Command::DropBrackets {
            token: token.clone(),
            key: key.clone(),
        });
    }
}
