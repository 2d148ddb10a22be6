fn main() {
    match promptdesk::cli::run() {
        promptdesk::cli::Outcome::Exit(code) => std::process::exit(code),
        promptdesk::cli::Outcome::Gui {
            data_dir,
            packs_dir,
        } => {
            let _ = (data_dir, packs_dir);
        }
    }
}
