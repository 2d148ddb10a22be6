//! `promptdesk`: with no subcommand, the desktop app; otherwise a headless command.

use promptdesk::app::dialogs::DialogLogCapture;
use promptdesk::app::{AppConfig, run_native};
use promptdesk::cli::{Outcome, run};

fn main() {
    install_logger();
    match run() {
        Outcome::Exit(code) => std::process::exit(code),
        Outcome::Gui {
            data_dir,
            packs_dir,
            packs_dir_is_default,
        } => {
            let config = AppConfig {
                data_dir,
                packs_dir,
                restore_packs_dir: packs_dir_is_default,
            };
            if let Err(e) = run_native(config) {
                eprintln!("promptdesk: error: cannot open the window: {e}");
                std::process::exit(1);
            }
        }
    }
}

/// Warnings and errors, but not the font lookup's warning that a locale such as `C` names no
/// language (harmless: fonts are then chosen without one).
const DEFAULT_LOG: &str = "warn,egui_system_font_provider=error";

/// Sends log records to stderr: warnings and errors by default (from the file dialogs, the
/// window, the fonts and promptdesk itself), more with `RUST_LOG` (e.g. `RUST_LOG=debug`,
/// `RUST_LOG=rfd=debug`). The file dialogs' records are also how the app tells that no
/// dialog could open (see `promptdesk::app::dialogs::log_capture`).
fn install_logger() {
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(DEFAULT_LOG))
            .build();
    let level = logger.filter();
    if let Err(e) = DialogLogCapture::new(logger).install(level) {
        eprintln!("promptdesk: warning: no logger: {e}");
    }
}
