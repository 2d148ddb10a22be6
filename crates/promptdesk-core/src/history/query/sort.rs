//! Sorting rows by a history table column.
//!
//! Sorting works on a vector of small keys built once (in parallel), each carrying the row's
//! position in the input: sorting (key, position) with an unstable parallel sort is then both
//! fast and stable (positions are unique and break every tie in input order).

use super::filter::{HistoryFilter, filter_indices};
use super::text::first_prompt_str;
use super::text_sort::{TextItem, TextRef, directed, sort_text_items};
use crate::job_record::JobRecord;
use rayon::iter::Either;
use rayon::prelude::*;

/// A history table column to sort by.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum SortColumn {
    #[default]
    Time,
    Source,
    Pack,
    Keys,
    Prompt,
    Model,
    Steps,
    Cfg,
    Seed,
    Status,
    ConfigHash,
    /// The job's rating (its best image's); unrated jobs last in either direction.
    Rating,
}

impl SortColumn {
    pub const ALL: [SortColumn; 12] = [
        SortColumn::Time,
        SortColumn::Source,
        SortColumn::Pack,
        SortColumn::Keys,
        SortColumn::Prompt,
        SortColumn::Model,
        SortColumn::Steps,
        SortColumn::Cfg,
        SortColumn::Seed,
        SortColumn::Status,
        SortColumn::ConfigHash,
        SortColumn::Rating,
    ];
}

/// Sorts `indices` by `column` (stable; ties keep their order).
///
/// Orders: Time by `created_at`, then by position in the history (job order), so descending
/// puts the newest, last-submitted job first; Source manual before pack; Pack, Keys (joined
/// with ", "), Prompt (the first prompt), Model and ConfigHash as text, ASCII case ignored
/// first and then exact (records without a pack id before any pack); Steps, Cfg, Seed as
/// numbers; Status in lifecycle order (queued, running, completed, failed, cancelled);
/// Rating by the job's rating ([`JobRecord::rating`]), unrated jobs after the rated ones
/// whether ascending or descending (in input order).
/// `descending` reverses the order, but ties still keep their order (except Time, whose job
/// order tie-break is part of the order and is reversed too).
pub fn sort_indices(
    records: &[JobRecord],
    indices: &mut [u32],
    column: SortColumn,
    descending: bool,
) {
    if indices.len() < 2 {
        return;
    }
    // An index past the end cannot be keyed: leave such input alone rather than panic.
    if indices.iter().any(|&i| i as usize >= records.len()) {
        return;
    }
    match column {
        SortColumn::Time => sort_by_time(records, indices, descending),
        SortColumn::Source => sort_by_num_key(indices, descending, |i| {
            records[i as usize].prompt_source as u8
        }),
        SortColumn::Status => {
            sort_by_num_key(indices, descending, |i| records[i as usize].status as u8)
        }
        SortColumn::Steps => sort_by_num_key(indices, descending, |i| {
            records[i as usize].run_config.settings.steps
        }),
        SortColumn::Seed => sort_by_num_key(indices, descending, |i| {
            records[i as usize].run_config.settings.seed
        }),
        SortColumn::Cfg => sort_by_num_key(indices, descending, |i| {
            total_order_f64(records[i as usize].run_config.settings.cfg_scale)
        }),
        SortColumn::Pack => sort_by_text(indices, descending, |i| {
            records[i as usize]
                .prompt_pack_id
                .as_deref()
                .map(TextRef::Str)
        }),
        SortColumn::Prompt => sort_by_text(indices, descending, |i| {
            Some(TextRef::Str(first_prompt_str(&records[i as usize])))
        }),
        SortColumn::Model => sort_by_text(indices, descending, |i| {
            Some(TextRef::Str(&records[i as usize].run_config.settings.model))
        }),
        SortColumn::Rating => sort_by_num_key(indices, descending, |i| {
            // Unrated sorts past the end in either direction.
            let unrated = if descending { 0 } else { u8::MAX };
            records[i as usize].rating().unwrap_or(unrated)
        }),
        SortColumn::ConfigHash => sort_by_text(indices, descending, |i| {
            Some(TextRef::Str(&records[i as usize].config_hash))
        }),
        SortColumn::Keys => sort_by_text(indices, descending, |i| {
            Some(TextRef::Keys(&records[i as usize].prompt_keys))
        }),
    }
}

/// Filter then sort: the rows of the history table.
pub fn query_indices(
    records: &[JobRecord],
    filter: &HistoryFilter,
    column: SortColumn,
    descending: bool,
) -> Vec<u32> {
    let mut idx = filter_indices(records, filter);
    sort_indices(records, &mut idx, column, descending);
    idx
}

/// An f64 mapped to an i64 that orders like `f64::total_cmp`.
fn total_order_f64(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// Writes the sorted order back: `order` holds input positions.
fn write_back(indices: &mut [u32], order: impl IndexedParallelIterator<Item = u32>) {
    let input = indices.to_vec();
    indices
        .par_iter_mut()
        .zip(order)
        .for_each(|(slot, pos)| *slot = input[pos as usize]);
}

/// Time: created_at, then job order (the record index), packed into one unique i128
/// (seconds, nanoseconds, index), so the sort needs no tie-break.
fn sort_by_time(records: &[JobRecord], indices: &mut [u32], descending: bool) {
    let mut keyed: Vec<i128> = indices
        .par_iter()
        .map(|&i| {
            let t = records[i as usize].created_at;
            ((t.timestamp() as i128) << 62)
                | ((t.timestamp_subsec_nanos() as i128) << 32)
                | i as i128
        })
        .collect();
    if descending {
        keyed.par_sort_unstable_by(|a, b| b.cmp(a));
    } else {
        keyed.par_sort_unstable();
    }
    indices
        .par_iter_mut()
        .zip(keyed.par_iter())
        .for_each(|(slot, &k)| *slot = k as u32);
}

fn sort_by_num_key<K, F>(indices: &mut [u32], descending: bool, key: F)
where
    K: Ord + Copy + Send + Sync,
    F: Fn(u32) -> K + Sync,
{
    let mut keyed: Vec<(K, u32)> = indices
        .par_iter()
        .enumerate()
        .map(|(pos, &i)| (key(i), pos as u32))
        .collect();
    keyed.par_sort_unstable_by(|a, b| directed(a.0.cmp(&b.0), descending).then(a.1.cmp(&b.1)));
    write_back(indices, keyed.into_par_iter().map(|(_, pos)| pos));
}

/// Sorts by a text column. Rows without a text (no pack id) come before every text
/// (after, when descending), in input order.
fn sort_by_text<'r, F>(indices: &mut [u32], descending: bool, text: F)
where
    F: Fn(u32) -> Option<TextRef<'r>> + Sync,
{
    let (missing, mut items): (Vec<u32>, Vec<TextItem<'r>>) = indices
        .par_iter()
        .enumerate()
        .partition_map(|(pos, &i)| match text(i) {
            None => Either::Left(pos as u32),
            Some(t) => Either::Right(TextItem::new(pos as u32, t)),
        });
    sort_text_items(&mut items, descending);
    let sorted = items.into_par_iter().map(|it| it.pos);
    if missing.is_empty() {
        write_back(indices, sorted);
    } else if descending {
        write_back(indices, sorted.chain(missing.into_par_iter()));
    } else {
        write_back(indices, missing.into_par_iter().chain(sorted));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_order_f64_orders_like_total_cmp() {
        let xs = [
            -3.5,
            -0.0,
            0.0,
            1.0,
            6.5,
            7.0,
            f64::INFINITY,
            -f64::INFINITY,
        ];
        for a in xs {
            for b in xs {
                assert_eq!(
                    total_order_f64(a).cmp(&total_order_f64(b)),
                    a.total_cmp(&b),
                    "{a} {b}"
                );
            }
        }
    }
}
