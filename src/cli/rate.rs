//! `promptdesk rate JOB_ID STARS [--image N] [--favorite|--no-favorite]`: rates one output
//! image of a job (1-5 stars, 0 clears) and sets or clears its favourite mark, as a new line
//! of the job in the history (see `history::ratings`).

use super::command_error::CommandError;
use super::context::Context;
use crate::history::{MAX_STARS, RateError, rate_image};
use crate::job_record::JobRecord;
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub(crate) struct RateArgs {
    /// The job whose image to rate.
    #[arg(value_name = "JOB_ID")]
    job: String,
    /// 1 to 5 stars; 0 clears the rating.
    #[arg(value_name = "STARS", value_parser = parse_stars, allow_hyphen_values = true)]
    stars: u8,
    /// Which of the job's images, numbered from 1 in the order `history --json` lists them.
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_image)]
    image: usize,
    /// Mark the image favourite.
    #[arg(long, conflicts_with = "no_favorite")]
    favorite: bool,
    /// Clear the image's favourite mark.
    #[arg(long)]
    no_favorite: bool,
}

fn parse_stars(text: &str) -> Result<u8, String> {
    match text.trim().parse::<u8>() {
        Ok(n) if n <= MAX_STARS => Ok(n),
        _ => Err(format!(
            "{text:?} is not a star count: give 1 to 5, or 0 to clear the rating"
        )),
    }
}

fn parse_image(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "{text:?} is not an image number (the first image is 1)"
        )),
    }
}

pub(crate) fn run(
    ctx: &Context,
    args: &RateArgs,
    out: &mut dyn Write,
) -> Result<i32, CommandError> {
    let path = ctx.history_path();
    if !path.exists() {
        // Nothing to rate, and nothing is created for it.
        return Err(CommandError::usage(format!(
            "there is no job {} (no history yet at {})",
            args.job,
            path.display()
        )));
    }
    let mut store = ctx.open_store()?;
    let favorite = match (args.favorite, args.no_favorite) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let record = rate_image(&mut store, &args.job, args.image - 1, args.stars, favorite)
        .map_err(rate_error)?;
    writeln!(out, "{}", summary(&record, args.image))?;
    Ok(0)
}

/// Bad input (no such job or image) exits 2; a history that cannot be written, 1.
fn rate_error(e: RateError) -> CommandError {
    match e {
        RateError::History(e) => e.into(),
        e => CommandError::usage(e.to_string()).with_source(e),
    }
}

/// `JOB image N: 4 stars, favourite (job: 5 stars, favourite)`.
fn summary(record: &JobRecord, number: usize) -> String {
    let image = record
        .result
        .as_ref()
        .and_then(|r| r.images.get(number - 1));
    let marks = |stars: Option<u8>, favorite: bool| {
        let mut s = match stars {
            Some(1) => "1 star".to_owned(),
            Some(n) => format!("{n} stars"),
            None => "unrated".to_owned(),
        };
        if favorite {
            s.push_str(", favourite");
        }
        s
    };
    let this = image.map_or_else(String::new, |i| {
        marks(crate::history::image_rating(i), i.favorite)
    });
    format!(
        "{} image {number}: {this} (job: {})",
        super::output::clean(&record.job_id),
        marks(record.rating(), record.is_favorite())
    )
}
