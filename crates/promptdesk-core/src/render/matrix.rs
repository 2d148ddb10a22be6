//! `[[name]]` matrix tokens: which slot a token names, and the combinations of slot values each
//! prompt is rendered with.
//!
//! Read from StableNew2 (`src/utils/randomizer.py`, `src/pipeline/prompt_pack_job_builder.py`,
//! `src/utils/prompt_pack_utils.py`) and kept where it agrees with promptdesk's rules:
//! - Combinations are the Cartesian product of the slots in the pack's slot order, the last
//!   slot changing fastest (StableNew's `itertools.product` / backtracking order). promptdesk
//!   takes the product of the slots the prompt uses only (StableNew takes every slot and then
//!   drops the duplicate prompts, which gives the same prompts unless `limit` cuts the product
//!   short).
//! - `limit` caps the combinations of one prompt (0 or missing: 8, StableNew's default).
//! - `fanout` (also `grid`, `all`): every combination, each its own request.
//!   `sequential` (also `round_robin`) and `rotate`: the i-th selected prompt gets combination
//!   i of the first `limit`, wrapping. `random` (also `per_prompt`): one combination per
//!   prompt, each slot's value drawn on its own (seeded). An unknown mode is `sequential`, as
//!   in StableNew.
//! - A disabled matrix (`"enabled": false`) expands nothing in StableNew, which then sends the
//!   token as written; promptdesk never sends a token literally, so its tokens have no values.
//! - Slot names match loosely ([`normalize_matrix_name`]: `hair-color` = `Hair Color`).

use super::rng::SplitMix64;
use crate::packs::unified_json::DEFAULT_MATRIX_LIMIT;
use crate::packs::{MatrixConfig, MatrixSlot, normalize_matrix_name};

/// How a matrix spreads its combinations over the prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatrixMode {
    Fanout,
    Sequential,
    Rotate,
    Random,
}

impl MatrixMode {
    /// The mode a pack names (any case; StableNew's aliases too; unknown = sequential).
    pub fn parse(mode: &str) -> MatrixMode {
        match mode.trim().to_ascii_lowercase().as_str() {
            "fanout" | "grid" | "all" => MatrixMode::Fanout,
            "rotate" => MatrixMode::Rotate,
            "random" | "per_prompt" => MatrixMode::Random,
            _ => MatrixMode::Sequential,
        }
    }
}

/// The limit a matrix applies (0 means the default, 8).
pub fn effective_limit(matrix: &MatrixConfig) -> usize {
    let limit = if matrix.limit == 0 {
        DEFAULT_MATRIX_LIMIT
    } else {
        matrix.limit
    };
    usize::try_from(limit).unwrap_or(usize::MAX)
}

/// The slot `name` (a token's name) takes its values from: `None` when there is no matrix, it
/// is disabled, no slot has that name (loosely), or the slot has no values.
pub fn usable_slot<'a>(
    matrix: Option<&'a MatrixConfig>,
    name: &str,
) -> Option<(usize, &'a MatrixSlot)> {
    let matrix = matrix.filter(|m| m.enabled)?;
    let wanted = normalize_matrix_name(name);
    matrix
        .slots
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == name)
        .or_else(|| {
            matrix
                .slots
                .iter()
                .enumerate()
                .find(|(_, s)| normalize_matrix_name(&s.name) == wanted)
        })
        .filter(|(_, s)| !s.values.is_empty())
}

/// The slots a prompt uses, in the pack's slot order, and how its combinations are spread.
#[derive(Debug, Clone)]
pub(crate) struct PromptMatrix<'a> {
    /// (slot index in the pack, slot), sorted by index, each once.
    pub slots: Vec<(usize, &'a MatrixSlot)>,
    pub mode: MatrixMode,
    pub limit: usize,
}

impl<'a> PromptMatrix<'a> {
    /// The number of combinations of all the used slots (saturating).
    fn product(&self) -> usize {
        self.slots
            .iter()
            .fold(1usize, |n, (_, s)| n.saturating_mul(s.values.len().max(1)))
    }

    /// How many requests one prompt becomes.
    pub fn count(&self) -> usize {
        if self.slots.is_empty() {
            return 1;
        }
        match self.mode {
            MatrixMode::Fanout => self.product().min(self.limit).max(1),
            _ => 1,
        }
    }

    /// The value index of each used slot in combination `index` (last slot fastest).
    fn decode(&self, mut index: usize) -> Vec<usize> {
        let mut out = vec![0; self.slots.len()];
        for (i, (_, slot)) in self.slots.iter().enumerate().rev() {
            let n = slot.values.len().max(1);
            out[i] = index % n;
            index /= n;
        }
        out
    }

    /// The combinations prompt number `prompt_index` (0-based among the selected prompts, key
    /// `key`) is rendered with: each a list of (slot index in the pack, value). `seeded` is set
    /// when a draw used the seed.
    pub fn combinations(
        &self,
        prompt_index: usize,
        key: &str,
        seed: u64,
        seeded: &mut bool,
    ) -> Vec<Vec<(usize, &'a str)>> {
        let pick = |values: Vec<usize>| -> Vec<(usize, &'a str)> {
            self.slots
                .iter()
                .zip(values)
                .map(|((i, slot), v)| (*i, slot.values[v].as_str()))
                .collect()
        };
        if self.slots.is_empty() {
            return vec![Vec::new()];
        }
        match self.mode {
            MatrixMode::Fanout => (0..self.count()).map(|i| pick(self.decode(i))).collect(),
            MatrixMode::Sequential | MatrixMode::Rotate => {
                let n = self.product().min(self.limit).max(1);
                vec![pick(self.decode(prompt_index % n))]
            }
            MatrixMode::Random => {
                *seeded = true;
                let values = self
                    .slots
                    .iter()
                    .map(|(i, slot)| {
                        let mut rng =
                            SplitMix64::for_draw(seed, key, &[super::MATRIX_STREAM, *i as u64]);
                        rng.below(slot.values.len())
                    })
                    .collect();
                vec![pick(values)]
            }
        }
    }
}
