//! The app's keyboard shortcuts outside text fields and tables, as commands: Ctrl+Enter
//! submits, Ctrl+Z (or Ctrl+Shift+Z) restores the job deleted last when no text field has the
//! focus (a text field keeps them for its own undo and redo), F5 reloads the packs.

use super::commands::{Command, CommandQueue};
use std::path::PathBuf;

/// Turns this frame's shortcuts (and dropped files) into commands.
pub fn handle(ctx: &egui::Context, commands: &mut CommandQueue) {
    use egui::{Key, KeyboardShortcut, Modifiers};
    let submit = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
    // Shift first: the plain pattern matches Ctrl+Shift+Z too (shift is ignored unless asked).
    let undo_shift = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    let undo = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
    let reload = KeyboardShortcut::new(Modifiers::NONE, Key::F5);
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
