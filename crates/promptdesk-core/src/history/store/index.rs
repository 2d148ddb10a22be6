//! The in-memory index of jobs: what the lines of the history mean, without any disk.
//!
//! The rules: the first line of a job adds it (jobs stay in the order of their first line);
//! a later line replaces it (last line wins) but the prompt origin stays the one the job was
//! created with; a delete removes it and remembers its place, so a later line for it brings it
//! back there (undo). Lines of other versions are kept (with their place) for compaction, and
//! a delete drops the job's lines of every version.
//!
//! A full load folds lines into a [`Fold`] (slots in first-appearance order, cheap per line)
//! and [`JobIndex::install`]s it; lines read later are applied one by one
//! ([`JobIndex::record_line`], [`JobIndex::delete_line`], [`JobIndex::foreign_line`]). Both
//! give the same index.

use crate::job_record::JobRecord;
use std::collections::HashMap;
use std::ops::Range;

/// Where a record's last line is in the file: compaction copies that line unchanged (every
/// value exactly as written, whichever version wrote it) instead of serialising the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Loc {
    pub(super) offset: u64,
    pub(super) len: u64,
}

/// The location of `range` (a line without its '\n') of a chunk that starts at `chunk_start`.
pub(super) fn loc_of(chunk_start: u64, range: &Range<usize>) -> Option<Loc> {
    Some(Loc {
        offset: chunk_start + range.start as u64,
        len: range.len() as u64,
    })
}

/// A foreign line kept in memory so that compaction writes it back.
#[derive(Debug, Clone)]
pub(super) struct KeptLine {
    /// Written before the job with this sequence number (the slots allocated before it).
    pub(super) before_seq: u64,
    pub(super) job_id: String,
    pub(super) bytes: Box<[u8]>,
    /// Its line number in the file.
    pub(super) line: usize,
}

/// One line a compaction writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Item {
    /// The record at this index of [`JobIndex::records`].
    Record(usize),
    /// The kept foreign line at this index of [`JobIndex::foreign`].
    Foreign(usize),
}

/// Keeps the prompt origin of `old` in `new` (an update never changes where a prompt came
/// from). Returns true when `new` had another origin.
pub(super) fn keep_origin(new: &mut JobRecord, old: &JobRecord) -> bool {
    let changed = new.prompt_source != old.prompt_source
        || new.prompt_pack_id != old.prompt_pack_id
        || new.prompt_keys != old.prompt_keys
        || new.run_config.prompt_source != old.run_config.prompt_source
        || new.run_config.prompt_pack_id != old.run_config.prompt_pack_id
        || new.run_config.prompt_keys != old.run_config.prompt_keys;
    if !changed {
        return false;
    }
    new.prompt_source = old.prompt_source;
    new.prompt_pack_id.clone_from(&old.prompt_pack_id);
    new.prompt_keys.clone_from(&old.prompt_keys);
    let (nc, oc) = (&mut new.run_config, &old.run_config);
    nc.prompt_source = oc.prompt_source;
    nc.prompt_pack_id.clone_from(&oc.prompt_pack_id);
    nc.prompt_keys.clone_from(&oc.prompt_keys);
    true
}

/// What a record line did to the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecordLine {
    /// A new job, or a deleted one back at its place.
    Added,
    /// A later snapshot of a live job; `changed` when the record differs from the one before.
    Updated { changed: bool },
}

/// Every live job in submission order, with what is needed to apply more lines and to compact.
#[derive(Debug, Default)]
pub(super) struct JobIndex {
    /// Live records, in submission order.
    records: Vec<JobRecord>,
    /// Submission sequence number of each record (strictly increasing).
    seqs: Vec<u64>,
    /// Per record: where its last line is in the file, if the record is exactly that line (not
    /// when an origin was kept from an earlier line).
    locs: Vec<Option<Loc>>,
    /// job_id -> index into `records`.
    ids: HashMap<String, usize>,
    /// job_id -> sequence number of deleted jobs (so a restore goes back to its place).
    deleted: HashMap<String, u64>,
    next_seq: u64,
    /// Lines of other versions this one cannot read, kept for compaction, in file order.
    foreign: Vec<KeptLine>,
    /// Jobs with foreign lines -> the line number of their last readable line after the first
    /// of them (0 if none): compaction keeps a job's lines in that order.
    foreign_last: HashMap<String, usize>,
    /// Bumped when an existing record changes or moves (anything but jobs added at the end).
    edits: u64,
}

impl JobIndex {
    pub(super) fn records(&self) -> &[JobRecord] {
        &self.records
    }

    pub(super) fn len(&self) -> usize {
        self.records.len()
    }

    pub(super) fn get(&self, job_id: &str) -> Option<&JobRecord> {
        self.ids.get(job_id).map(|&i| &self.records[i])
    }

    pub(super) fn position(&self, job_id: &str) -> Option<usize> {
        self.ids.get(job_id).copied()
    }

    pub(super) fn contains(&self, job_id: &str) -> bool {
        self.ids.contains_key(job_id)
    }

    pub(super) fn edits(&self) -> u64 {
        self.edits
    }

    /// Where the last line of record `i` is, when the record is exactly that line.
    pub(super) fn loc(&self, i: usize) -> Option<Loc> {
        self.locs[i]
    }

    /// The foreign lines kept for compaction, in file order.
    pub(super) fn foreign(&self) -> &[KeptLine] {
        &self.foreign
    }

    /// Applies a record line (line number `line`, at `loc` in the file).
    pub(super) fn record_line(
        &mut self,
        mut r: JobRecord,
        loc: Option<Loc>,
        line: usize,
    ) -> RecordLine {
        if let Some(last) = self.foreign_last.get_mut(r.job_id.as_str()) {
            *last = line;
        }
        let Some(&i) = self.ids.get(r.job_id.as_str()) else {
            self.insert_new(r, loc);
            return RecordLine::Added;
        };
        let kept = keep_origin(&mut r, &self.records[i]);
        self.locs[i] = if kept { None } else { loc };
        let changed = self.records[i] != r;
        if changed {
            self.records[i] = r;
            self.edits += 1;
        }
        RecordLine::Updated { changed }
    }

    /// Applies a delete line: the job's foreign lines go, and the job if it is live (returned).
    pub(super) fn delete_line(&mut self, job_id: &str) -> Option<JobRecord> {
        self.drop_foreign(job_id);
        self.remove_live(job_id)
    }

    /// Keeps a line of another version (line number `line`) for compaction.
    pub(super) fn foreign_line(&mut self, job_id: String, bytes: Box<[u8]>, line: usize) {
        self.foreign_last.entry(job_id.clone()).or_insert(0);
        self.foreign.push(KeptLine {
            before_seq: self.next_seq,
            job_id,
            bytes,
            line,
        });
    }

    /// Adds a job that is not live: back at its old place if it was deleted, else at the end.
    pub(super) fn insert_new(&mut self, r: JobRecord, loc: Option<Loc>) {
        match self.deleted.remove(r.job_id.as_str()) {
            Some(seq) => {
                let pos = self.seqs.partition_point(|&s| s < seq);
                self.records.insert(pos, r);
                self.locs.insert(pos, loc);
                self.edits += 1;
                self.seqs.insert(pos, seq);
                self.reindex_from(pos);
            }
            None => {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.ids.insert(r.job_id.clone(), self.records.len());
                self.records.push(r);
                self.locs.push(loc);
                self.seqs.push(seq);
            }
        }
    }

    /// Replaces live record `i` by `new`, whose line is at `loc` (a locked write of ours).
    pub(super) fn replace(&mut self, i: usize, new: JobRecord, loc: Loc) {
        self.records[i] = new;
        self.locs[i] = Some(loc);
        self.edits += 1;
    }

    /// Removes a live job, remembering its place.
    fn remove_live(&mut self, job_id: &str) -> Option<JobRecord> {
        let i = self.ids.remove(job_id)?;
        let r = self.records.remove(i);
        self.locs.remove(i);
        self.edits += 1;
        let seq = self.seqs.remove(i);
        self.deleted.insert(r.job_id.clone(), seq);
        self.reindex_from(i);
        Some(r)
    }

    /// A delete ends a job for every version: its foreign lines so far go with it.
    fn drop_foreign(&mut self, job_id: &str) {
        if self.foreign_last.remove(job_id).is_some() {
            self.foreign.retain(|f| f.job_id != job_id);
        }
    }

    fn reindex_from(&mut self, from: usize) {
        for (i, r) in self.records.iter().enumerate().skip(from) {
            if let Some(slot) = self.ids.get_mut(r.job_id.as_str()) {
                *slot = i;
            } else {
                self.ids.insert(r.job_id.clone(), i);
            }
        }
    }

    /// Forgets everything (the file is read again from its start).
    pub(super) fn clear(&mut self) {
        *self = JobIndex {
            edits: self.edits + 1,
            ..JobIndex::default()
        };
    }

    /// Keeps the live records but forgets everything tied to the file's lines (an append-only
    /// store whose file was replaced: it goes on from the new file's end).
    pub(super) fn forget_lines(&mut self) {
        self.edits += 1;
        self.locs = vec![None; self.records.len()];
        self.deleted.clear();
        self.foreign.clear();
        self.foreign_last.clear();
        self.next_seq = self.seqs.last().map_or(0, |s| s + 1);
    }

    /// Turns the slots of a full load into the live list, its index and the deleted places
    /// (replacing what the index held).
    pub(super) fn install(&mut self, fold: Fold) {
        let Fold {
            mut records,
            dead,
            mut slot_of,
            live: _,
            foreign,
            mut locs,
            foreign_last,
        } = fold;
        let mut pos_of_slot = Vec::with_capacity(dead.len());
        let mut seqs = Vec::with_capacity(records.len());
        let mut live = 0usize;
        for (slot, &d) in dead.iter().enumerate() {
            pos_of_slot.push(live);
            if !d {
                seqs.push(slot as u64);
                live += 1;
            }
        }
        let mut k = 0usize;
        records.retain(|_| {
            let keep = !dead[k];
            k += 1;
            keep
        });
        let mut k = 0usize;
        locs.retain(|_| {
            let keep = !dead[k];
            k += 1;
            keep
        });
        let mut deleted = HashMap::new();
        slot_of.retain(|id, slot| {
            if dead[*slot] {
                deleted.insert(id.clone(), *slot as u64);
                false
            } else {
                *slot = pos_of_slot[*slot];
                true
            }
        });
        *self = JobIndex {
            records,
            seqs,
            locs,
            ids: slot_of,
            deleted,
            next_seq: dead.len() as u64,
            foreign,
            foreign_last,
            edits: self.edits + 1,
        };
    }

    /// The lines a compaction writes: every live record in submission order, with the foreign
    /// lines of other versions at their places among them.
    ///
    /// For every version, the last line of a job must stay the last: a job's foreign lines
    /// that came before its last readable line are written just before its record line; the
    /// others keep their place after it.
    pub(super) fn compaction_order(&self) -> Vec<Item> {
        let mut order = Vec::with_capacity(self.records.len() + self.foreign.len());
        let mut early: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut is_early = vec![false; self.foreign.len()];
        for (k, f) in self.foreign.iter().enumerate() {
            if self
                .foreign_last
                .get(f.job_id.as_str())
                .is_some_and(|&last| last > f.line)
                && self.ids.contains_key(f.job_id.as_str())
            {
                early.entry(f.job_id.as_str()).or_default().push(k);
                is_early[k] = true;
            }
        }
        let mut f = 0;
        for (i, &seq) in self.seqs.iter().enumerate() {
            while f < self.foreign.len() && self.foreign[f].before_seq <= seq {
                if !is_early[f] {
                    order.push(Item::Foreign(f));
                }
                f += 1;
            }
            if let Some(lines) = early.get(self.records[i].job_id.as_str()) {
                order.extend(lines.iter().map(|&k| Item::Foreign(k)));
            }
            order.push(Item::Record(i));
        }
        order.extend(
            (f..self.foreign.len())
                .filter(|&k| !is_early[k])
                .map(Item::Foreign),
        );
        order
    }

    /// After a compaction wrote `order` (line `n + 1` is `order[n]`), with each record's new
    /// line at `new_locs`: renumbers the jobs and the foreign lines as the new file has them.
    pub(super) fn compacted(&mut self, order: &[Item], new_locs: Vec<Option<Loc>>) {
        self.seqs = (0..self.records.len() as u64).collect();
        self.next_seq = self.records.len() as u64;
        self.locs = new_locs;
        let mut records_before = 0u64;
        let mut foreign = Vec::with_capacity(self.foreign.len());
        let mut old_foreign: Vec<Option<KeptLine>> = std::mem::take(&mut self.foreign)
            .into_iter()
            .map(Some)
            .collect();
        for (n, item) in order.iter().enumerate() {
            match *item {
                Item::Record(i) => {
                    records_before += 1;
                    if let Some(last) = self.foreign_last.get_mut(self.records[i].job_id.as_str()) {
                        *last = n + 1;
                    }
                }
                Item::Foreign(f) => {
                    if let Some(mut kept) = old_foreign[f].take() {
                        kept.before_seq = records_before;
                        kept.line = n + 1;
                        foreign.push(kept);
                    }
                }
            }
        }
        self.foreign = foreign;
        self.deleted.clear();
    }
}

/// Folds the lines of a full load: slots in first-appearance order, deleted ones flagged.
#[derive(Default)]
pub(super) struct Fold {
    records: Vec<JobRecord>,
    dead: Vec<bool>,
    slot_of: HashMap<String, usize>,
    live: usize,
    foreign: Vec<KeptLine>,
    /// Per slot: where its last line is.
    locs: Vec<Option<Loc>>,
    /// Jobs with foreign lines -> the line number of their last readable line after the first
    /// of them (0 if none).
    foreign_last: HashMap<String, usize>,
}

impl Fold {
    /// Live jobs so far.
    pub(super) fn live(&self) -> usize {
        self.live
    }

    /// True before the first record line.
    pub(super) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Makes room for about `jobs` jobs.
    pub(super) fn reserve(&mut self, jobs: usize) {
        self.records.reserve(jobs);
        self.dead.reserve(jobs);
    }

    /// A record line. Returns true when it replaced a live job's snapshot (an update).
    pub(super) fn record(&mut self, mut r: JobRecord, mut loc: Option<Loc>, line: usize) -> bool {
        if let Some(last) = self.foreign_last.get_mut(r.job_id.as_str()) {
            *last = line;
        }
        match self.slot_of.get(r.job_id.as_str()) {
            Some(&slot) => {
                let mut update = false;
                if self.dead[slot] {
                    self.dead[slot] = false;
                    self.live += 1;
                } else {
                    if keep_origin(&mut r, &self.records[slot]) {
                        loc = None;
                    }
                    update = true;
                }
                self.records[slot] = r;
                self.locs[slot] = loc;
                update
            }
            None => {
                self.slot_of.insert(r.job_id.clone(), self.records.len());
                self.records.push(r);
                self.locs.push(loc);
                self.dead.push(false);
                self.live += 1;
                false
            }
        }
    }

    /// A line of another version.
    pub(super) fn foreign(&mut self, job_id: String, bytes: Box<[u8]>, line: usize) {
        self.foreign_last.entry(job_id.clone()).or_insert(0);
        self.foreign.push(KeptLine {
            before_seq: self.dead.len() as u64,
            job_id,
            bytes,
            line,
        });
    }

    /// A delete line.
    pub(super) fn delete(&mut self, job_id: &str) {
        // A delete ends the job for every version: its foreign lines so far go with it.
        if self.foreign_last.remove(job_id).is_some() {
            self.foreign.retain(|f| f.job_id != job_id);
        }
        if let Some(&slot) = self.slot_of.get(job_id)
            && !self.dead[slot]
        {
            self.dead[slot] = true;
            self.live -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job_record::{JobStatus, job_record_from_run_config};
    use crate::prompt_packs::build_run_config_for_manual_prompt;
    use crate::run_config::PromptSource;

    fn job(id: &str, prompt: &str) -> JobRecord {
        let cfg = build_run_config_for_manual_prompt(prompt, "", None);
        job_record_from_run_config(id, &cfg)
    }

    fn from_pack(id: &str) -> JobRecord {
        let mut r = job(id, "from a pack");
        r.prompt_source = PromptSource::Pack;
        r.prompt_pack_id = Some("pack-1".to_owned());
        r.prompt_keys = vec!["hero".to_owned()];
        r.run_config.prompt_source = PromptSource::Pack;
        r.run_config.prompt_pack_id = Some("pack-1".to_owned());
        r.run_config.prompt_keys = vec!["hero".to_owned()];
        r
    }

    /// One line of a history, for feeding both ways of building an index.
    #[allow(clippy::large_enum_variant)]
    enum Line {
        Rec(JobRecord),
        Del(&'static str),
        Foreign(&'static str, &'static str),
    }

    fn at(n: usize) -> Option<Loc> {
        Some(Loc {
            offset: n as u64 * 100,
            len: 99,
        })
    }

    /// The index after `lines`, built line by line.
    fn applied(lines: &[Line]) -> JobIndex {
        let mut index = JobIndex::default();
        for (n, line) in lines.iter().enumerate() {
            match line {
                Line::Rec(r) => {
                    index.record_line(r.clone(), at(n), n + 1);
                }
                Line::Del(id) => {
                    index.delete_line(id);
                }
                Line::Foreign(id, text) => {
                    index.foreign_line((*id).to_owned(), text.as_bytes().into(), n + 1)
                }
            }
        }
        index
    }

    /// The index after `lines`, folded as a full load does.
    fn folded(lines: &[Line]) -> JobIndex {
        let mut fold = Fold::default();
        for (n, line) in lines.iter().enumerate() {
            match line {
                Line::Rec(r) => {
                    fold.record(r.clone(), at(n), n + 1);
                }
                Line::Del(id) => fold.delete(id),
                Line::Foreign(id, text) => {
                    fold.foreign((*id).to_owned(), text.as_bytes().into(), n + 1)
                }
            }
        }
        let mut index = JobIndex::default();
        index.install(fold);
        index
    }

    /// Both ways, checked to agree.
    fn both(lines: &[Line]) -> JobIndex {
        let a = applied(lines);
        let b = folded(lines);
        assert_eq!(a.records, b.records);
        assert_eq!(a.seqs, b.seqs);
        assert_eq!(a.locs, b.locs);
        assert_eq!(a.ids, b.ids);
        assert_eq!(a.deleted, b.deleted);
        assert_eq!(a.next_seq, b.next_seq);
        assert_eq!(a.foreign_last, b.foreign_last);
        assert_eq!(a.compaction_order(), b.compaction_order());
        b
    }

    fn ids(index: &JobIndex) -> Vec<&str> {
        index.records().iter().map(|r| r.job_id.as_str()).collect()
    }

    #[test]
    fn the_last_line_wins_and_jobs_keep_their_first_place() {
        let first = job("a", "first");
        let mut done = first.clone();
        done.status = JobStatus::Completed;
        let index = both(&[
            Line::Rec(first.clone()),
            Line::Rec(job("b", "second")),
            Line::Rec(done.clone()),
        ]);
        assert_eq!(ids(&index), ["a", "b"]);
        assert_eq!(index.get("a"), Some(&done));
        assert_eq!(index.position("b"), Some(1));
        // The record is exactly its last line: compaction may copy it.
        assert_eq!(index.loc(0), at(2));

        let first = job("a", "first");
        let mut index = applied(&[Line::Rec(first.clone())]);
        let again = index.record_line(first, at(1), 2);
        assert_eq!(again, RecordLine::Updated { changed: false });
        let edits = index.edits();
        assert_eq!(
            index.record_line(done, at(2), 3),
            RecordLine::Updated { changed: true }
        );
        assert!(index.edits() > edits);
    }

    #[test]
    fn the_origin_is_kept_across_a_later_line() {
        let mut later = job("p", "rewritten by hand");
        later.status = JobStatus::Running;
        let index = both(&[Line::Rec(from_pack("p")), Line::Rec(later)]);
        let r = index.get("p").unwrap();
        assert_eq!(r.status, JobStatus::Running);
        assert_eq!(r.first_prompt(), "rewritten by hand");
        assert_eq!(r.prompt_source, PromptSource::Pack);
        assert_eq!(r.prompt_pack_id.as_deref(), Some("pack-1"));
        assert_eq!(r.prompt_keys, ["hero"]);
        assert_eq!(r.run_config.prompt_source, PromptSource::Pack);
        assert_eq!(r.run_config.prompt_keys, ["hero"]);
        // The record is not its last line any more: compaction must write it.
        assert_eq!(index.loc(0), None);
    }

    #[test]
    fn delete_then_restore_returns_the_job_to_its_old_place() {
        let lines = [
            Line::Rec(job("a", "1")),
            Line::Rec(job("b", "2")),
            Line::Rec(job("c", "3")),
            Line::Del("b"),
            Line::Rec(job("d", "4")),
        ];
        let mut index = both(&lines);
        assert_eq!(ids(&index), ["a", "c", "d"]);
        assert!(!index.contains("b"));
        assert_eq!(
            index.delete_line("b"),
            None,
            "deleting twice removes nothing"
        );
        let restored = both(&[
            Line::Rec(job("a", "1")),
            Line::Rec(job("b", "2")),
            Line::Rec(job("c", "3")),
            Line::Del("b"),
            Line::Rec(job("d", "4")),
            Line::Rec(job("b", "2")),
        ]);
        assert_eq!(ids(&restored), ["a", "b", "c", "d"]);
        // The same through a write of ours (insert_new), and a delete handing the job back.
        let removed = index.delete_line("c").unwrap();
        assert_eq!(removed.job_id, "c");
        index.insert_new(job("b", "2"), None);
        index.insert_new(removed, None);
        assert_eq!(ids(&index), ["a", "b", "c", "d"]);
        for (i, id) in ["a", "b", "c", "d"].iter().enumerate() {
            assert_eq!(index.position(id), Some(i));
        }
        // New jobs still go to the end.
        index.insert_new(job("e", "5"), None);
        assert_eq!(index.position("e"), Some(4));
    }

    #[test]
    fn a_delete_drops_the_jobs_foreign_lines() {
        let index = both(&[
            Line::Rec(job("a", "1")),
            Line::Foreign("a", r#"{"job_id":"a","op":"rate"}"#),
            Line::Foreign("z", r#"{"job_id":"z","v":9}"#),
            Line::Del("a"),
        ]);
        assert!(index.records().is_empty());
        let kept: Vec<&str> = index.foreign().iter().map(|f| f.job_id.as_str()).collect();
        assert_eq!(kept, ["z"]);
        assert_eq!(index.compaction_order(), [Item::Foreign(0)]);
    }

    #[test]
    fn compaction_keeps_each_jobs_last_line_last() {
        let lines = [
            Line::Foreign("x", r#"{"job_id":"x","v":9}"#),
            Line::Rec(job("a", "1")),
            Line::Rec(job("b", "2")),
            // Another version's line for a, then a's last readable line: on compaction the
            // foreign line must come before a's record.
            Line::Foreign("a", r#"{"job_id":"a","op":"rate"}"#),
            Line::Rec(job("a", "1 again")),
            // b's foreign line is its last: it stays after b's record.
            Line::Foreign("b", r#"{"job_id":"b","op":"rate"}"#),
            Line::Rec(job("c", "3")),
        ];
        let mut index = both(&lines);
        let order = index.compaction_order();
        assert_eq!(
            order,
            [
                Item::Foreign(0),
                Item::Foreign(1),
                Item::Record(0),
                Item::Record(1),
                Item::Foreign(2),
                Item::Record(2),
            ]
        );
        // After the rewrite the places are renumbered, and compacting again gives the same.
        let new_locs = vec![None; index.len()];
        index.compacted(&order, new_locs);
        assert_eq!(index.seqs, [0, 1, 2]);
        let lines_of: Vec<usize> = index.foreign().iter().map(|f| f.line).collect();
        assert_eq!(lines_of, [1, 2, 5]);
        assert_eq!(index.compaction_order(), order);
    }

    #[test]
    fn forgetting_the_lines_keeps_the_records() {
        let mut index = both(&[
            Line::Rec(job("a", "1")),
            Line::Rec(job("b", "2")),
            Line::Del("a"),
        ]);
        index.forget_lines();
        assert_eq!(ids(&index), ["b"]);
        assert_eq!(index.loc(0), None);
        // A deleted job's place is forgotten: it comes back at the end.
        index.insert_new(job("a", "1"), None);
        assert_eq!(ids(&index), ["b", "a"]);
        let edits = index.edits();
        index.clear();
        assert!(index.records().is_empty() && index.edits() > edits);
    }
}
