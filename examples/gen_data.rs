//! Writes realistic synthetic data for the benchmarks (see BENCHMARKS.md), deterministically:
//! the same arguments always give the same bytes.
//!
//! ```text
//! cargo run --release --example gen_data -- --records 1000000 --out target/bench-data/big
//! cargo run --release --example gen_data -- --stablenew-lines 100000 --packs 5000 --out /bench-data
//! ```
//!
//! In `--out` it writes `history.jsonl` (promptdesk's format, `--records` records, one line
//! each, built with the library's RunConfig/JobRecord builders), `job_history.jsonl`
//! (StableNew's format, about `--stablenew-lines` lines, several status lines per job) and
//! `packs/` (`--packs` packs cycling through every pack format). A count of 0 skips that part.

use promptdesk_testdata as testdata;

use clap::Parser;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Generate synthetic promptdesk benchmark data (deterministic)")]
struct Args {
    /// Records in history.jsonl (promptdesk format).
    #[arg(long, default_value_t = 0)]
    records: u64,
    /// Lines in job_history.jsonl (StableNew format).
    #[arg(long, default_value_t = 0)]
    stablenew_lines: u64,
    /// Packs in packs/.
    #[arg(long, default_value_t = 0)]
    packs: usize,
    /// Seed of every generated file.
    #[arg(long, default_value_t = testdata::DEFAULT_SEED)]
    seed: u64,
    /// Output folder (created if missing).
    #[arg(long, required_unless_present = "cache")]
    out: Option<PathBuf>,
    /// Instead: fill the benchmarks' cache (target/bench-data/v<version>) with every file
    /// `cargo bench` uses (histories of 10k/100k/1M records, a StableNew file of 100k lines,
    /// packs folders of 100 and 5,000 packs), generating only what is missing.
    #[arg(long)]
    cache: bool,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("gen_data: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> std::io::Result<()> {
    if args.cache {
        for n in [10_000, 100_000, 1_000_000] {
            println!("{}", testdata::cached_history(n).display());
        }
        println!("{}", testdata::cached_stablenew(100_000).display());
        for m in [100, 5_000] {
            println!("{}", testdata::cached_packs(m).display());
        }
        return Ok(());
    }
    let Some(out) = &args.out else {
        return Ok(());
    };
    std::fs::create_dir_all(out)?;
    if args.records == 0 && args.stablenew_lines == 0 && args.packs == 0 {
        eprintln!("nothing to do: give --records, --stablenew-lines and/or --packs");
    }
    if args.records > 0 {
        let path = out.join("history.jsonl");
        let t = Instant::now();
        let bytes = testdata::write_history(&path, args.records, args.seed)?;
        println!(
            "{}: {} records, {} bytes ({:.1} MB), {:.0} bytes/record, {:.1} s",
            path.display(),
            args.records,
            bytes,
            bytes as f64 / 1e6,
            bytes as f64 / args.records as f64,
            t.elapsed().as_secs_f64()
        );
    }
    if args.stablenew_lines > 0 {
        let path = out.join("job_history.jsonl");
        let t = Instant::now();
        let (lines, bytes) = testdata::write_stablenew(&path, args.stablenew_lines, args.seed)?;
        println!(
            "{}: {} lines, {} bytes ({:.1} MB), {:.0} bytes/line, {:.1} s",
            path.display(),
            lines,
            bytes,
            bytes as f64 / 1e6,
            bytes as f64 / lines as f64,
            t.elapsed().as_secs_f64()
        );
    }
    if args.packs > 0 {
        let dir = out.join("packs");
        let t = Instant::now();
        let files = testdata::write_packs(&dir, args.packs, args.seed)?;
        println!(
            "{}: {} packs in {} files, {} bytes, {:.1} s",
            dir.display(),
            args.packs,
            files,
            testdata::folder_bytes(&dir),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
