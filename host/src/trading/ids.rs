//! Order ids a strategy has used, remembered in bounded memory.

use std::collections::BTreeMap;

/// A set of ids kept as ranges: strategies number their orders mostly in
/// sequence, so remembering every id ever used stays a few ranges however
/// long the session runs.
#[derive(Debug, Default)]
pub(crate) struct IdSet {
    /// Start → end (inclusive) of disjoint, non-adjacent ranges.
    ranges: BTreeMap<u64, u64>,
}

impl IdSet {
    pub(crate) fn contains(&self, id: u64) -> bool {
        self.ranges
            .range(..=id)
            .next_back()
            .is_some_and(|(_, end)| id <= *end)
    }

    pub(crate) fn insert(&mut self, id: u64) {
        if self.contains(id) {
            return;
        }
        let mut start = id;
        let mut end = id;
        // Join the range ending just below it, and the one starting just above.
        if let Some((&s, &e)) = self.ranges.range(..id).next_back()
            && e.checked_add(1) == Some(id)
        {
            start = s;
        }
        if let Some(next) = id.checked_add(1)
            && let Some(e) = self.ranges.remove(&next)
        {
            end = e;
        }
        self.ranges.insert(start, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_sequence_stay_one_range_and_gaps_are_remembered() {
        let mut ids = IdSet::default();
        for id in (1..=1000).chain([2000, 1002, 1001]) {
            ids.insert(id);
        }
        assert_eq!(ids.ranges.len(), 2, "{:?}", ids.ranges);
        assert!(ids.contains(1) && ids.contains(1002) && ids.contains(2000));
        assert!(!ids.contains(0) && !ids.contains(1003) && !ids.contains(1999));
        ids.insert(u64::MAX);
        assert!(ids.contains(u64::MAX));
    }
}
