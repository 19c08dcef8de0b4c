//! The presence of each strategy, validator and processor slot of a session
//! (by index, beside `Slots`): whether the data path calls it. A slot is
//! never taken away, so a strategy's index (its account, its order ids)
//! stays valid after it leaves.

use crate::live::Presence;

/// Presence per slot, by kind.
#[derive(Debug, Default)]
pub(crate) struct Roster {
    pub(crate) strategies: Vec<Presence>,
    pub(crate) validators: Vec<Presence>,
    pub(crate) processors: Vec<Presence>,
}

impl Roster {
    /// Every slot present, for a session of these sizes.
    pub(crate) fn new(strategies: usize, validators: usize, processors: usize) -> Self {
        Self {
            strategies: vec![Presence::Active; strategies],
            validators: vec![Presence::Active; validators],
            processors: vec![Presence::Active; processors],
        }
    }

    /// Whether the data path calls strategy `i`.
    pub(crate) fn strategy(&self, i: usize) -> bool {
        self.strategies.get(i).is_none_or(|p| p.active())
    }

    /// Whether the data path asks validator `i`.
    pub(crate) fn validator(&self, i: usize) -> bool {
        self.validators.get(i).is_none_or(|p| p.active())
    }
}
