//! The queue as the history holds it: queued jobs in run order, moving them, and the store the
//! runner reads and changes jobs through.

use crate::history::{HistoryError, HistoryStore};
use crate::job_record::{JobRecord, JobStatus};
use std::sync::Mutex;

/// A check on a job's current state, run under the history's write lock.
pub type Check = Box<dyn FnOnce(&JobRecord) -> bool + Send>;
/// The new state of a job, from its current one.
pub type Change = Box<dyn FnOnce(&JobRecord) -> JobRecord + Send>;

/// What the runner needs from the history. The CLI gives it a [`StoreQueue`] (the store itself,
/// re-read before each look); the app gives it one that sends every change to its history
/// writer thread (the one thread that writes the history).
pub trait QueueStore: Send + Sync {
    /// The jobs that are queued or running, in history order, as of now (other processes'
    /// changes included).
    fn active(&self) -> Result<Vec<JobRecord>, HistoryError>;

    /// Changes a job only if `check` accepts its current state (see
    /// [`HistoryStore::update_if`]); the record written, or `None`.
    fn transition(
        &self,
        job_id: &str,
        check: Check,
        change: Change,
    ) -> Result<Option<JobRecord>, HistoryError>;
}

/// A history store shared by the runner's threads (the CLI's `run`).
pub struct StoreQueue {
    store: Mutex<HistoryStore>,
}

impl StoreQueue {
    pub fn new(store: HistoryStore) -> StoreQueue {
        StoreQueue {
            store: Mutex::new(store),
        }
    }

    /// The store back (for a final look at the records).
    pub fn into_inner(self) -> HistoryStore {
        self.store.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HistoryStore> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl QueueStore for StoreQueue {
    fn active(&self) -> Result<Vec<JobRecord>, HistoryError> {
        let mut store = self.lock();
        store.reload()?;
        Ok(store
            .records()
            .iter()
            .filter(|r| matches!(r.status, JobStatus::Queued | JobStatus::Running))
            .cloned()
            .collect())
    }

    fn transition(
        &self,
        job_id: &str,
        check: Check,
        change: Change,
    ) -> Result<Option<JobRecord>, HistoryError> {
        self.lock().update_if(job_id, check, change)
    }
}

/// A queued job's place: its `queue_order`, else its creation time in milliseconds.
pub fn queue_key(record: &JobRecord) -> i64 {
    record
        .queue_order
        .unwrap_or_else(|| record.created_at.timestamp_millis())
}

/// The queued jobs among `records`, in the order the runner takes them: by
/// [`queue_key`], then history order.
pub fn queued_in_order(records: &[JobRecord]) -> Vec<&JobRecord> {
    let mut queued: Vec<(usize, &JobRecord)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == JobStatus::Queued)
        .collect();
    queued.sort_by_key(|&(i, r)| (queue_key(r), i));
    queued.into_iter().map(|(_, r)| r).collect()
}

/// A move in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueMove {
    Up,
    Down,
    Top,
    Bottom,
}

/// The records to write (new `queue_order`s) to move `job_id` in the queue; empty when it
/// is not queued or already there.
pub fn move_in_queue(records: &[JobRecord], job_id: &str, how: QueueMove) -> Vec<JobRecord> {
    let order = queued_in_order(records);
    let Some(at) = order.iter().position(|r| r.job_id == job_id) else {
        return Vec::new();
    };
    let with_order = |r: &JobRecord, key: i64| {
        let mut r = r.clone();
        r.queue_order = Some(key);
        r
    };
    match how {
        QueueMove::Top if at > 0 => vec![with_order(order[at], queue_key(order[0]) - 1)],
        QueueMove::Bottom if at + 1 < order.len() => {
            vec![with_order(order[at], queue_key(order[order.len() - 1]) + 1)]
        }
        QueueMove::Up if at > 0 => swap(&order, at - 1),
        QueueMove::Down if at + 1 < order.len() => swap(&order, at),
        _ => Vec::new(),
    }
}

/// The records that make `order[i + 1]` run just before `order[i]`: their keys swapped when
/// they differ; when they are equal (jobs created in the same millisecond), every queued job
/// is numbered again in the new order, so no third job's place changes.
fn swap(order: &[&JobRecord], i: usize) -> Vec<JobRecord> {
    let (first, second) = (order[i], order[i + 1]);
    let (a, b) = (queue_key(first), queue_key(second));
    if a < b {
        let mut s = second.clone();
        s.queue_order = Some(a);
        let mut f = first.clone();
        f.queue_order = Some(b);
        return vec![s, f];
    }
    let mut new_order: Vec<&JobRecord> = order.to_vec();
    new_order.swap(i, i + 1);
    let base = queue_key(order[0]);
    new_order
        .into_iter()
        .enumerate()
        .filter_map(|(n, r)| {
            let key = base + n as i64;
            (queue_key(r) != key || r.queue_order.is_none()).then(|| {
                let mut r = r.clone();
                r.queue_order = Some(key);
                r
            })
        })
        .collect()
}

/// `record` put back in the queue (it had not really started: its server was down, or the
/// runner stopped): no start time, backend or runner.
pub fn requeued(record: &JobRecord) -> JobRecord {
    let mut r = record.clone();
    r.status = JobStatus::Queued;
    r.started_at = None;
    r.completed_at = None;
    r.duration_ms = None;
    r.backend = None;
    r.runner = None;
    r
}

/// A failed or cancelled job queued again (one action in the app, `run --job` in the CLI
/// after `requeue`): its error and results cleared, at the end of the queue.
pub fn retried(record: &JobRecord) -> JobRecord {
    let mut r = requeued(record);
    r.error_message = None;
    r.result = None;
    // A newer version's fields inside the old result belong to its images, not the next ones.
    r.unknown.forget("result");
    // Queue places are creation times unless moved: now is after every job queued so far.
    r.queue_order = Some(chrono::Utc::now().timestamp_millis());
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job_record::job_record_from_run_config;
    use crate::prompt_packs::build_run_config_for_manual_prompt;

    fn job(id: &str, minute: i64) -> JobRecord {
        let cfg = build_run_config_for_manual_prompt(id, "", Default::default());
        let mut r = job_record_from_run_config(id, &cfg);
        r.created_at = chrono::DateTime::from_timestamp(1_700_000_000 + minute * 60, 0).unwrap();
        r
    }

    fn ids(records: &[JobRecord]) -> Vec<String> {
        queued_in_order(records)
            .into_iter()
            .map(|r| r.job_id.clone())
            .collect()
    }

    fn apply(records: &mut [JobRecord], changes: Vec<JobRecord>) {
        for c in changes {
            let slot = records.iter_mut().find(|r| r.job_id == c.job_id).unwrap();
            *slot = c;
        }
    }

    #[test]
    fn oldest_first_and_moves_reorder_it() {
        let mut records = vec![job("c", 3), job("a", 1), job("b", 2), job("d", 4)];
        records[3].status = JobStatus::Completed;
        assert_eq!(ids(&records), ["a", "b", "c"]);
        let ch = move_in_queue(&records, "c", QueueMove::Top);
        apply(&mut records, ch);
        assert_eq!(ids(&records), ["c", "a", "b"]);
        let ch = move_in_queue(&records, "b", QueueMove::Up);
        apply(&mut records, ch);
        assert_eq!(ids(&records), ["c", "b", "a"]);
        let ch = move_in_queue(&records, "c", QueueMove::Down);
        apply(&mut records, ch);
        assert_eq!(ids(&records), ["b", "c", "a"]);
        let ch = move_in_queue(&records, "b", QueueMove::Bottom);
        apply(&mut records, ch);
        assert_eq!(ids(&records), ["c", "a", "b"]);
        assert!(move_in_queue(&records, "c", QueueMove::Up).is_empty());
        assert!(move_in_queue(&records, "d", QueueMove::Top).is_empty());
    }

    #[test]
    fn swapping_jobs_with_equal_keys_moves_no_third_job() {
        // A and B created in the same millisecond, C a millisecond later but earlier in the
        // history file.
        let mut records = vec![job("c", 1), job("a", 1), job("b", 1)];
        let t = records[1].created_at.timestamp_millis();
        records[0].queue_order = Some(t + 1);
        assert_eq!(ids(&records), ["a", "b", "c"]);
        let ch = move_in_queue(&records, "b", QueueMove::Up);
        apply(&mut records, ch);
        assert_eq!(ids(&records), ["b", "a", "c"]);
    }

    #[test]
    fn a_retried_job_drops_a_newer_versions_fields_inside_its_old_result_only() {
        let mut r = job("x", 1);
        r.status = JobStatus::Failed;
        r.result = Some(crate::outputs::JobResult {
            backend: "gpu".into(),
            images: vec![crate::outputs::OutputImage::default()],
            ..Default::default()
        });
        let mut line: serde_json::Value = serde_json::from_str(&r.to_json_line()).unwrap();
        line["result"]["images"][0]["thumb"] = "thumbs/ab/cd.jpg".into();
        line["mood"] = "calm".into();
        let read = JobRecord::from_json_line(line.to_string().as_bytes()).unwrap();
        assert_eq!(read.unknown.field_count(), 2);
        let again = retried(&read).to_json_line();
        assert!(!again.contains("thumbs/ab"), "{again}");
        assert!(again.contains("\"mood\":\"calm\""), "{again}");
    }

    #[test]
    fn equal_keys_still_swap() {
        let mut records = vec![job("a", 1), job("b", 1)];
        assert_eq!(ids(&records), ["a", "b"]);
        let ch = move_in_queue(&records, "b", QueueMove::Up);
        apply(&mut records, ch);
        assert_eq!(ids(&records), ["b", "a"]);
    }
}
