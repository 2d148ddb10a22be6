//! `promptdesk`: with no subcommand, the desktop app; otherwise a headless command.

use promptdesk::app::{AppConfig, run_native};
use promptdesk::cli::{Outcome, run};

fn main() {
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
