//! Judging output images: a rating of 1 to 5 stars and a favourite mark per image.
//!
//! Both live in the image's entry of its job's record ([`OutputImage::rating`],
//! [`OutputImage::favorite`]), so they follow the image (its sha256 and its place in the job),
//! not its file path: moving or renaming the file loses nothing. A change is a new snapshot
//! line of the job written by [`HistoryStore::update_if`] under the history lock, after
//! catching up with other processes: it is on disk (fsynced) when the call returns, and
//! survives a crash, [`HistoryStore::compact`] (which keeps each job's last line) and a JSON
//! Lines export and re-import of the record (the record carries it).
//!
//! A job's rating is its best image's ([`JobRecord::rating`]); a job is a favourite when any
//! of its images is ([`JobRecord::is_favorite`]).
//!
//! Re-queuing a failed or cancelled job ([`crate::runner::retried`]: `promptdesk requeue`, the
//! app's Re-queue) clears its `result`, so the images it had finished before failing leave
//! its record, their ratings and favourite marks with them (the files stay on disk). A
//! completed job cannot be re-queued, so the ratings of its images are never dropped this way.
//!
//! [`OutputImage::rating`]: crate::outputs::OutputImage::rating
//! [`OutputImage::favorite`]: crate::outputs::OutputImage::favorite

use super::{HistoryError, HistoryStore};
use crate::job_record::JobRecord;
use crate::outputs::OutputImage;
use std::path::PathBuf;

/// The most stars an image can get.
pub const MAX_STARS: u8 = 5;

/// Why an image could not be rated.
#[derive(Debug, thiserror::Error)]
pub enum RateError {
    /// The history has no job with this id.
    #[error("there is no job {job_id} in {path}", path = .path.display())]
    NoSuchJob { job_id: String, path: PathBuf },
    /// The job recorded no images (queued, running, failed before its first image, ...).
    #[error("job {job_id} has no images to rate (it is {status})")]
    NoImages { job_id: String, status: String },
    /// The image index is past the job's images.
    #[error(
        "job {job_id} has {count} {images}; there is no image {number} (images are numbered from 1)",
        images = images_word(.count),
        number = one_based(.index)
    )]
    NoSuchImage {
        job_id: String,
        /// 0-based, as given.
        index: usize,
        count: usize,
    },
    /// A rating above [`MAX_STARS`].
    #[error("{stars} stars is not a rating: give 1 to 5 stars, or 0 to clear the rating")]
    BadStars { stars: u8 },
    /// The history could not be read or written.
    #[error(transparent)]
    History(HistoryError),
}

fn images_word(count: &usize) -> &'static str {
    if *count == 1 { "image" } else { "images" }
}

fn one_based(index: &usize) -> usize {
    index.saturating_add(1)
}

impl RateError {
    /// True for a mistake in what was asked (no such job or image, a bad star count), as
    /// opposed to a history that could not be written: the CLI exits 2 for these.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, RateError::History(_))
    }
}

impl From<HistoryError> for RateError {
    fn from(e: HistoryError) -> RateError {
        match e {
            HistoryError::UnknownJob { path, job_id } => RateError::NoSuchJob { job_id, path },
            e => RateError::History(e),
        }
    }
}

/// Rates image `image_index` (0-based, in the order of the job's `result.images`) of a job:
/// `stars` 1 to 5, or 0 to clear its rating; `favorite` `Some` sets or clears the favourite
/// mark, `None` leaves it as it is. Returns the job's record as it now stands (nothing is
/// written when nothing changes). The check runs on the record as it is on disk, under the
/// history lock. See the [module docs](self) for what keeps the rating.
pub fn rate_image(
    store: &mut HistoryStore,
    job_id: &str,
    image_index: usize,
    stars: u8,
    favorite: Option<bool>,
) -> Result<JobRecord, RateError> {
    if stars > MAX_STARS {
        return Err(RateError::BadStars { stars });
    }
    mark_image(store, job_id, image_index, Some(stars), favorite)
}

/// Sets or clears the favourite mark of image `image_index` (0-based) of a job, leaving its
/// rating as it is (the app's F key). Errors as [`rate_image`].
pub fn set_favorite(
    store: &mut HistoryStore,
    job_id: &str,
    image_index: usize,
    favorite: bool,
) -> Result<JobRecord, RateError> {
    mark_image(store, job_id, image_index, None, Some(favorite))
}

fn mark_image(
    store: &mut HistoryStore,
    job_id: &str,
    index: usize,
    stars: Option<u8>,
    favorite: Option<bool>,
) -> Result<JobRecord, RateError> {
    let mut refused: Option<RateError> = None;
    let written = store.update_if(
        job_id,
        |stored| match image_count(stored) {
            0 => {
                refused = Some(RateError::NoImages {
                    job_id: stored.job_id.clone(),
                    status: stored.status_text().into_owned(),
                });
                false
            }
            count if index >= count => {
                refused = Some(RateError::NoSuchImage {
                    job_id: stored.job_id.clone(),
                    index,
                    count,
                });
                false
            }
            _ => true,
        },
        |stored| {
            let mut r = stored.clone();
            if let Some(image) = r
                .result
                .as_mut()
                .and_then(|result| result.images.get_mut(index))
            {
                apply_mark(image, stars, favorite);
            }
            r
        },
    )?;
    match (written, refused) {
        (Some(record), _) => Ok(record),
        (None, Some(e)) => Err(e),
        // `check` refused without saying why: cannot happen, but never panic over it.
        (None, None) => Err(RateError::NoImages {
            job_id: job_id.to_owned(),
            status: "changed meanwhile".to_owned(),
        }),
    }
}

/// A change to one image's marks, as the app's keys make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingChange {
    /// 1 to 5 stars; `None` (or 0) clears the rating; above 5 is 5.
    Stars(Option<u8>),
    /// Favourite on or off, from what the history holds when the change is made.
    ToggleFavorite,
}

impl RatingChange {
    /// Applies the change to one image.
    pub fn apply(self, image: &mut OutputImage) {
        match self {
            RatingChange::Stars(stars) => apply_mark(image, Some(stars.unwrap_or(0)), None),
            RatingChange::ToggleFavorite => apply_mark(image, None, Some(!image.favorite)),
        }
    }
}

/// Changes the marks of the image with this sha256 in job `job_id` (every entry of it, should
/// the job hold the same picture twice): a new snapshot line, as [`rate_image`] writes. The
/// image is named by its hash, not its place, so a change made while the job changed
/// elsewhere still lands on the right picture. `Ok(None)` when the job no longer holds the
/// image, [`HistoryError::UnknownJob`] when the job is gone: nothing written either way.
pub fn change_image(
    store: &mut HistoryStore,
    job_id: &str,
    sha256: &str,
    change: RatingChange,
) -> Result<Option<OutputImage>, HistoryError> {
    let holds = |r: &JobRecord| {
        r.result
            .as_ref()
            .is_some_and(|res| res.images.iter().any(|i| i.sha256 == sha256))
    };
    let written = store.update_if(job_id, holds, |stored| {
        let mut r = stored.clone();
        if let Some(result) = r.result.as_mut() {
            for image in result.images.iter_mut().filter(|i| i.sha256 == sha256) {
                change.apply(image);
            }
        }
        r
    })?;
    Ok(written.and_then(|r| {
        r.result
            .and_then(|res| res.images.into_iter().find(|i| i.sha256 == sha256))
    }))
}

fn image_count(record: &JobRecord) -> usize {
    record.result.as_ref().map_or(0, |r| r.images.len())
}

fn apply_mark(image: &mut OutputImage, stars: Option<u8>, favorite: Option<bool>) {
    if let Some(stars) = stars {
        image.rating = (stars > 0).then_some(stars.min(MAX_STARS));
    }
    if let Some(favorite) = favorite {
        image.favorite = favorite;
    }
}

/// An image's rating as the queries read it: 1 to 5, or `None` when unrated. A stored 0
/// (never written by promptdesk) reads as unrated, anything above 5 as 5.
pub fn image_rating(image: &OutputImage) -> Option<u8> {
    image.rating.filter(|&r| r > 0).map(|r| r.min(MAX_STARS))
}

impl JobRecord {
    /// The job's rating: its best-rated image's (see [`image_rating`]), `None` when no image
    /// is rated (or the job has none).
    pub fn rating(&self) -> Option<u8> {
        self.result
            .as_ref()?
            .images
            .iter()
            .filter_map(image_rating)
            .max()
    }

    /// True when any of the job's images is marked favourite.
    pub fn is_favorite(&self) -> bool {
        self.result
            .as_ref()
            .is_some_and(|r| r.images.iter().any(|i| i.favorite))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job_record::{JobStatus, job_record_from_run_config};
    use crate::outputs::JobResult;
    use crate::prompt_packs::build_run_config_for_manual_prompt;

    fn image(n: u32) -> OutputImage {
        OutputImage {
            path: format!("outputs/2026-11-28/job_manual_v{n}_{n}.png"),
            seed: i64::from(n),
            width: 64,
            height: 64,
            sha256: format!("{n:064x}"),
            key: String::new(),
            variant: n,
            rating: None,
            favorite: false,
        }
    }

    fn job(id: &str, images: u32) -> JobRecord {
        let cfg = build_run_config_for_manual_prompt("a lighthouse", "", Default::default());
        let mut r = job_record_from_run_config(id, &cfg);
        if images > 0 {
            r.status = JobStatus::Completed;
            r.result = Some(JobResult {
                backend: "local".into(),
                images: (1..=images).map(image).collect(),
                ..JobResult::default()
            });
        }
        r
    }

    fn store_with(records: &[JobRecord]) -> (tempfile::TempDir, HistoryStore) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = HistoryStore::open(dir.path()).unwrap();
        store.append_many(records).unwrap();
        (dir, store)
    }

    fn ratings(r: &JobRecord) -> Vec<(Option<u8>, bool)> {
        r.result
            .as_ref()
            .unwrap()
            .images
            .iter()
            .map(|i| (i.rating, i.favorite))
            .collect()
    }

    #[test]
    fn rate_rerate_clear_and_favourite_one_image() {
        let (dir, mut store) = store_with(&[job("a", 3)]);
        let r = rate_image(&mut store, "a", 1, 4, None).unwrap();
        assert_eq!(
            ratings(&r),
            [(None, false), (Some(4), false), (None, false)]
        );
        assert_eq!((r.rating(), r.is_favorite()), (Some(4), false));
        let r = rate_image(&mut store, "a", 2, 2, Some(true)).unwrap();
        assert_eq!((r.rating(), r.is_favorite()), (Some(4), true));
        let r = rate_image(&mut store, "a", 1, 1, None).unwrap();
        assert_eq!(r.rating(), Some(2), "the best image's rating");
        let r = rate_image(&mut store, "a", 1, 0, None).unwrap();
        let r2 = rate_image(&mut store, "a", 2, 0, Some(false)).unwrap();
        assert_eq!(ratings(&r)[1], (None, false));
        assert_eq!((r2.rating(), r2.is_favorite()), (None, false));
        let r = set_favorite(&mut store, "a", 0, true).unwrap();
        assert_eq!(ratings(&r)[0], (None, true));
        // On disk, read by a fresh store.
        let fresh = HistoryStore::open(dir.path()).unwrap();
        assert_eq!(fresh.get("a").unwrap(), &r);
        assert_eq!(store.get("a").unwrap(), &r);
    }

    #[test]
    fn a_change_by_hash_marks_that_image_and_says_when_it_is_gone() {
        let (dir, mut store) = store_with(&[job("a", 2)]);
        let sha = format!("{:064x}", 2);
        let image = change_image(&mut store, "a", &sha, RatingChange::Stars(Some(3))).unwrap();
        assert_eq!(image.map(|i| i.rating), Some(Some(3)));
        let image = change_image(&mut store, "a", &sha, RatingChange::ToggleFavorite).unwrap();
        assert_eq!(image.map(|i| (i.rating, i.favorite)), Some((Some(3), true)));
        let image = change_image(&mut store, "a", &sha, RatingChange::Stars(None)).unwrap();
        assert_eq!(image.map(|i| (i.rating, i.favorite)), Some((None, true)));
        let fresh = HistoryStore::open(dir.path()).unwrap();
        assert_eq!(
            ratings(fresh.get("a").unwrap()),
            [(None, false), (None, true)]
        );
        // No such image, no such job: nothing written.
        let other = format!("{:064x}", 9);
        assert_eq!(
            change_image(&mut store, "a", &other, RatingChange::ToggleFavorite).unwrap(),
            None
        );
        assert!(matches!(
            change_image(&mut store, "gone", &sha, RatingChange::ToggleFavorite),
            Err(HistoryError::UnknownJob { .. })
        ));
    }

    #[test]
    fn the_same_rating_again_writes_nothing() {
        let (dir, mut store) = store_with(&[job("a", 1)]);
        rate_image(&mut store, "a", 0, 5, Some(true)).unwrap();
        let len = std::fs::metadata(dir.path().join("history.jsonl"))
            .unwrap()
            .len();
        let r = rate_image(&mut store, "a", 0, 5, Some(true)).unwrap();
        assert_eq!(r.rating(), Some(5));
        let after = std::fs::metadata(dir.path().join("history.jsonl"))
            .unwrap()
            .len();
        assert_eq!(len, after);
    }

    #[test]
    fn bad_requests_are_clear_errors_and_write_nothing() {
        let (dir, mut store) = store_with(&[job("a", 2), job("queued", 0)]);
        let file = dir.path().join("history.jsonl");
        let before = std::fs::read(&file).unwrap();
        let e = rate_image(&mut store, "nope", 0, 3, None).unwrap_err();
        assert!(matches!(e, RateError::NoSuchJob { .. }), "{e:?}");
        assert!(e.to_string().contains("there is no job nope"), "{e}");
        let e = rate_image(&mut store, "queued", 0, 3, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "job queued has no images to rate (it is queued)"
        );
        let e = rate_image(&mut store, "a", 2, 3, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "job a has 2 images; there is no image 3 (images are numbered from 1)"
        );
        let e = rate_image(&mut store, "a", 0, 6, None).unwrap_err();
        assert!(matches!(e, RateError::BadStars { stars: 6 }), "{e:?}");
        assert!(e.is_bad_input());
        assert_eq!(std::fs::read(&file).unwrap(), before);
    }

    #[test]
    fn ratings_survive_compact_and_a_jsonl_round_trip() {
        let (dir, mut store) = store_with(&[job("a", 2), job("b", 1)]);
        rate_image(&mut store, "a", 1, 5, Some(true)).unwrap();
        rate_image(&mut store, "b", 0, 3, None).unwrap();
        rate_image(&mut store, "a", 0, 2, None).unwrap();
        store.compact().unwrap();
        let fresh = HistoryStore::open(dir.path()).unwrap();
        let a = fresh.get("a").unwrap();
        assert_eq!(ratings(a), [(Some(2), false), (Some(5), true)]);
        assert_eq!(fresh.get("b").unwrap().rating(), Some(3));
        let line = a.to_json_line();
        assert!(line.contains(r#""rating":5,"favorite":true"#), "{line}");
        assert_eq!(&JobRecord::from_json_line(line.as_bytes()).unwrap(), a);
    }

    #[test]
    fn stored_ratings_out_of_range_are_read_sensibly() {
        let mut r = job("a", 3);
        let images = &mut r.result.as_mut().unwrap().images;
        images[0].rating = Some(0);
        images[1].rating = Some(9);
        assert_eq!(r.rating(), Some(5));
        r.result.as_mut().unwrap().images[1].rating = None;
        assert_eq!(r.rating(), None);
        assert!(!r.is_favorite());
        assert_eq!(job("q", 0).rating(), None);
    }
}
