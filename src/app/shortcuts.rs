//! The app's keyboard shortcuts outside text fields and tables, as commands: Ctrl+Enter
//! submits, Ctrl+Z (or Ctrl+Shift+Z) restores the job deleted last when no text field has the
//! focus (a text field keeps them for its own undo and redo), F5 reloads the packs, Ctrl+R
//! switches Run queue on or off ([`RUN_QUEUE`]), Ctrl+1/2/3 show Compose, Queue and Gallery
//! ([`VIEW_KEYS`]). On macOS
//! Cmd takes Ctrl's place, and messages name the keys as the platform does ([`undo_keys`]).
//! None of them acts while a modal window is open.

use super::commands::{Command, CommandQueue};
use egui::{Key, KeyboardShortcut, ModifierNames, Modifiers};
use std::path::PathBuf;

/// Undo of a delete: Ctrl+Z (Cmd+Z on macOS).
pub const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);

/// Add the selected job, or the image in the viewer, to Compare: Ctrl+Shift+C (Shift+Cmd+C
/// on macOS). Handled where the job or image is known (the details panel, the viewer).
pub const ADD_TO_COMPARE: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::C);

/// The Run queue switch: Ctrl+R (Cmd+R on macOS).
pub const RUN_QUEUE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::R);

/// The central views' shortcuts: Ctrl+1 Compose, Ctrl+2 Queue, Ctrl+3 Gallery (Cmd on macOS).
pub const VIEW_KEYS: [(super::state::CentralView, KeyboardShortcut); 3] = [
    (
        super::state::CentralView::Compose,
        KeyboardShortcut::new(Modifiers::COMMAND, Key::Num1),
    ),
    (
        super::state::CentralView::Queue,
        KeyboardShortcut::new(Modifiers::COMMAND, Key::Num2),
    ),
    (
        super::state::CentralView::Gallery,
        KeyboardShortcut::new(Modifiers::COMMAND, Key::Num3),
    ),
];

/// The shortcut of a central view, if it has one.
pub fn view_shortcut(view: super::state::CentralView) -> Option<KeyboardShortcut> {
    VIEW_KEYS.iter().find(|(v, _)| *v == view).map(|(_, k)| *k)
}

/// The undo shortcut as messages name it on this platform: "Ctrl+Z", or "Cmd+Z" on macOS.
pub fn undo_keys() -> String {
    keys_text(&UNDO)
}

/// A shortcut as text names it on this platform ("Ctrl+Enter"; "Cmd+Enter" on macOS), for
/// messages and hovers (a menu's shortcut text is `Context::format_shortcut`).
pub fn keys_text(shortcut: &KeyboardShortcut) -> String {
    keys_text_on(
        shortcut,
        egui::os::OperatingSystem::from_target_os().is_mac(),
    )
}

/// A shortcut as named on a Mac (`is_mac`) or elsewhere.
fn keys_text_on(shortcut: &KeyboardShortcut, is_mac: bool) -> String {
    shortcut.format(&ModifierNames::NAMES, is_mac)
}

/// Turns this frame's shortcuts (and dropped files) into commands. `queue_on`: the Run
/// queue switch as it is.
pub fn handle(ctx: &egui::Context, queue_on: bool, commands: &mut CommandQueue) {
    let submit = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
    // Shift first: the plain pattern matches Ctrl+Shift+Z too (shift is ignored unless asked).
    let undo_shift = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    let undo = UNDO;
    let reload = KeyboardShortcut::new(Modifiers::NONE, Key::F5);
    // A modal (a typed-path form, the quit question) owns the keyboard: nothing behind it
    // acts on a shortcut.
    if ctx.memory(|m| m.top_modal_layer().is_some()) {
        return;
    }
    if ctx.input_mut(|i| i.consume_shortcut(&submit)) {
        commands.push(Command::Submit);
    }
    // In a text field, Ctrl+Z and Ctrl+Shift+Z are the field's own undo and redo.
    if !ctx.text_edit_focused()
        && ctx.input_mut(|i| i.consume_shortcut(&undo_shift) || i.consume_shortcut(&undo))
    {
        commands.push(Command::UndoDelete);
    }
    if ctx.input_mut(|i| i.consume_shortcut(&reload)) {
        commands.push(Command::ReloadPacks);
    }
    if ctx.input_mut(|i| i.consume_shortcut(&RUN_QUEUE)) {
        commands.push(Command::SetRunQueue(!queue_on));
    }
    for (view, keys) in VIEW_KEYS {
        if ctx.input_mut(|i| i.consume_shortcut(&keys)) {
            commands.push(Command::ShowView(view));
        }
    }
    let dropped: Vec<PathBuf> = ctx.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| !p.as_os_str().is_empty())
            .collect()
    });
    if !dropped.is_empty() {
        commands.push(Command::ImportPackFiles(dropped));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_undo_keys_are_named_as_each_platform_names_them() {
        assert_eq!(keys_text_on(&UNDO, false), "Ctrl+Z");
        assert_eq!(keys_text_on(&UNDO, true), "Cmd+Z");
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        assert_eq!(keys_text_on(&redo, false), "Ctrl+Shift+Z");
        assert_eq!(keys_text_on(&redo, true), "Shift+Cmd+Z");
        let here = if cfg!(target_os = "macos") {
            "Cmd+Z"
        } else {
            "Ctrl+Z"
        };
        assert_eq!(undo_keys(), here);
    }
}
