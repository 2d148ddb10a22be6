//! The app's keyboard shortcuts outside text fields and tables, as commands.

use super::commands::{Command, CommandQueue};
use std::path::PathBuf;

/// Turns this frame's shortcuts (and dropped files) into commands.
pub fn handle(ctx: &egui::Context, commands: &mut CommandQueue) {
    use egui::{Key, KeyboardShortcut, Modifiers};
    let submit = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
    let undo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    let reload = KeyboardShortcut::new(Modifiers::NONE, Key::F5);
    if ctx.input_mut(|i| i.consume_shortcut(&submit)) {
        commands.push(Command::Submit);
    }
    if ctx.input_mut(|i| i.consume_shortcut(&undo)) {
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
