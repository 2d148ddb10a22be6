//! A fake AUTOMATIC1111 or ComfyUI server to try the runner without a GPU: the same fakes the
//! tests use (crates/promptdesk-core/tests/support), answering in the real APIs' shapes with
//! plain coloured images, taking `STEP_MS` per sampling step.
//!
//! ```sh
//! cargo run --example fake_backend -- a1111 7860      # then: promptdesk backends add fake --kind a1111 --url http://127.0.0.1:7860
//! cargo run --example fake_backend -- comfyui         # prints its URL (a free port)
//! ```

#[path = "../crates/promptdesk-core/tests/support/fake_a1111.rs"]
#[allow(unused_imports)]
mod fake_a1111;
#[path = "../crates/promptdesk-core/tests/support/fake_comfyui.rs"]
#[allow(unused_imports)]
mod fake_comfyui;

use std::time::Duration;

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "a1111".into());
    let port: Option<u16> = args.next().and_then(|p| p.parse().ok());
    let step = Duration::from_millis(
        std::env::var("STEP_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(150),
    );
    match kind.as_str() {
        "a1111" => {
            let options = fake_a1111::FakeOptions {
                step_delay: step,
                ..Default::default()
            };
            let fake = match port {
                Some(p) => fake_a1111::FakeA1111::start_on(p, options).expect("the port is free"),
                None => fake_a1111::FakeA1111::start(options),
            };
            println!("fake A1111 at {}", fake.url());
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        "comfyui" => {
            let fake = fake_comfyui::FakeComfyUi::start(fake_comfyui::FakeOptions {
                step_delay: step,
                steps: 20,
                ..Default::default()
            });
            println!("fake ComfyUI at {}", fake.url());
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        other => {
            eprintln!("{other}: a1111 or comfyui");
            std::process::exit(2);
        }
    }
}
