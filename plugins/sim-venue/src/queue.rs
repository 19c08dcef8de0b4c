//! The queues of the price levels where an order of ours rests, for a book
//! by order: the feed's orders and ours at the level, in time priority.
//!
//! A level's queue starts when the first order of ours joins it (every feed
//! order resting there is ahead of it) and ends when the last one leaves. A
//! feed order that joins later (an add, or a modify that lost its place:
//! a new price or a larger size) goes to the back. A feed order's entry is
//! the size the feed shows for it, less what traded of it since: a fill
//! record consumes its entry at once, and the cancel or modify that follows
//! (the feed's account of the same fill) only caps the entry at the size it
//! leaves, so the same volume never counts twice.

use std::collections::{BTreeMap, BTreeSet};

use tradsys_sdk::Side;

/// A place in a level's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A feed order and its size still ahead of what is behind it.
    Feed { id: u64, size: i64 },
    /// One of our orders.
    Ours(u64),
}

/// A level: (side code, price).
pub(crate) type Key = (u8, i64);

/// The key of `side` at `price`.
pub(crate) fn key(side: Side, price: i64) -> Key {
    (side as u8, price)
}

/// The queues of the levels where an order of ours rests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Queues {
    levels: BTreeMap<Key, Vec<Entry>>,
    /// Feed orders the book was cleared of inside the current event (a
    /// snapshot follows): those it adds again keep their places, the rest
    /// leave at the event's end. Empty between events, so never saved.
    stale: BTreeSet<(Key, u64)>,
}

impl Queues {
    /// Whether no order of ours rests in any queue.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// Whether a queue exists at `level`.
    pub(crate) fn has(&self, level: Key) -> bool {
        self.levels.contains_key(&level)
    }

    /// Our order `id` joins the back of `level`; a level new to us starts
    /// with the feed orders resting there (`feed`), all ahead of it.
    pub(crate) fn join(&mut self, level: Key, id: u64, feed: impl FnOnce() -> Vec<(u64, i64)>) {
        let entries = self.levels.entry(level).or_insert_with(|| {
            let mut ahead = feed();
            ahead.sort_unstable();
            ahead
                .into_iter()
                .map(|(id, size)| Entry::Feed { id, size })
                .collect()
        });
        entries.push(Entry::Ours(id));
    }

    /// Our order `id` leaves `level` (cancelled, filled, moved); the level's
    /// queue ends with its last order of ours.
    pub(crate) fn leave(&mut self, level: Key, id: u64) {
        if let Some(entries) = self.levels.get_mut(&level) {
            entries.retain(|e| *e != Entry::Ours(id));
            if !entries.iter().any(|e| matches!(e, Entry::Ours(_))) {
                self.levels.remove(&level);
            }
        }
    }

    fn feed_entry(&mut self, level: Key, id: u64) -> Option<&mut i64> {
        self.levels
            .get_mut(&level)?
            .iter_mut()
            .find_map(|e| match e {
                Entry::Feed { id: i, size } if *i == id => Some(size),
                _ => None,
            })
    }

    /// The feed's book was cleared: its orders leave at the event's end
    /// unless the snapshot that follows adds them again.
    pub(crate) fn feed_cleared(&mut self) {
        for (level, entries) in &self.levels {
            for e in entries {
                if let Entry::Feed { id, .. } = e {
                    self.stale.insert((*level, *id));
                }
            }
        }
    }

    /// The end of an exchange event: orders a clear took and no snapshot
    /// gave back leave their queues.
    pub(crate) fn event_end(&mut self) {
        if self.stale.is_empty() {
            return;
        }
        for (level, id) in std::mem::take(&mut self.stale) {
            self.feed_left(level, id);
        }
    }

    /// A feed order joined `level` (an add, or a modify that lost its
    /// place): at the back. One already there (a snapshot adding an order
    /// again after a clear) keeps its place and takes the new size.
    pub(crate) fn feed_joined(&mut self, level: Key, id: u64, size: i64) {
        self.stale.remove(&(level, id));
        if let Some(entry) = self.feed_entry(level, id) {
            *entry = size;
        } else if let Some(entries) = self.levels.get_mut(&level) {
            entries.push(Entry::Feed { id, size });
        }
    }

    /// A feed order left `level`, or lost its place there.
    pub(crate) fn feed_left(&mut self, level: Key, id: u64) {
        if let Some(entries) = self.levels.get_mut(&level) {
            entries.retain(|e| !matches!(e, Entry::Feed { id: i, .. } if *i == id));
        }
    }

    /// The feed shows order `id` at `size` now (after a cancel or a modify
    /// that kept its place): its entry is at most that.
    pub(crate) fn feed_at_most(&mut self, level: Key, id: u64, size: i64) {
        if let Some(entry) = self.feed_entry(level, id) {
            *entry = (*entry).min(size);
        }
    }

    /// Feed order `id` traded `quantity` (its fill record): consumed at once.
    pub(crate) fn feed_traded(&mut self, level: Key, id: u64, quantity: i64) {
        if let Some(entry) = self.feed_entry(level, id) {
            *entry = (*entry - quantity).max(0);
        }
    }

    /// `volume` that reached `level`, front first: a feed entry still ahead
    /// takes what it shows (it would have traded first), an order of ours
    /// takes what `take(id, volume)` says. The walk stops before feed order
    /// `until` (the one the volume went to; `None`: the whole level) and
    /// after our last order. Returns the volume left.
    pub(crate) fn offer(
        &mut self,
        level: Key,
        mut volume: i64,
        until: Option<u64>,
        mut take: impl FnMut(u64, i64) -> i64,
    ) -> i64 {
        let Some(entries) = self.levels.get_mut(&level) else {
            return volume;
        };
        let end = entries
            .iter()
            .rposition(|e| matches!(e, Entry::Ours(_)))
            .map_or(0, |i| i + 1);
        let end = match until {
            Some(feed) => entries[..end]
                .iter()
                .position(|e| matches!(e, Entry::Feed { id, .. } if *id == feed))
                .unwrap_or(end),
            None => end,
        };
        for entry in &mut entries[..end] {
            if volume <= 0 {
                break;
            }
            match entry {
                Entry::Feed { size, .. } => {
                    let used = (*size).min(volume);
                    *size -= used;
                    volume -= used;
                }
                Entry::Ours(id) => volume -= take(*id, volume),
            }
        }
        volume
    }

    /// The feed's size ahead of our order `id` at `level`.
    #[cfg(test)]
    pub(crate) fn ahead_of(&self, level: Key, id: u64) -> i64 {
        let Some(entries) = self.levels.get(&level) else {
            return 0;
        };
        entries
            .iter()
            .take_while(|e| **e != Entry::Ours(id))
            .map(|e| match e {
                Entry::Feed { size, .. } => *size,
                Entry::Ours(_) => 0,
            })
            .sum()
    }

    /// The entries of `level`, front first (empty without a queue).
    pub(crate) fn entries(&self, level: Key) -> &[Entry] {
        self.levels.get(&level).map_or(&[], Vec::as_slice)
    }

    /// Every level and its entries, for the state.
    pub(crate) fn all(&self) -> impl Iterator<Item = (Key, &[Entry])> {
        self.levels.iter().map(|(k, v)| (*k, v.as_slice()))
    }

    /// Restore a level from the state.
    pub(crate) fn restore(&mut self, level: Key, entries: Vec<Entry>) {
        self.levels.insert(level, entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Key = (0, 100);

    #[test]
    fn volume_walks_the_queue_front_first_and_stops_at_the_order_it_went_to() {
        let mut q = Queues::default();
        q.join(L, 50, || vec![(1, 3)]);
        q.feed_joined(L, 2, 4);
        q.join(L, 51, Vec::new);
        assert_eq!(q.ahead_of(L, 50), 3);
        assert_eq!(q.ahead_of(L, 51), 7);
        // Order 1 (ahead of ours) traded 3: consumed; nothing reaches us.
        q.feed_traded(L, 1, 3);
        let mut took = Vec::new();
        let left = q.offer(L, 3, Some(1), |id, v| {
            took.push((id, v));
            0
        });
        assert_eq!((left, took.len()), (3, 0));
        // The feed's cancel of the same 3 lots does not count twice.
        q.feed_at_most(L, 1, 0);
        q.feed_left(L, 1);
        assert_eq!(q.ahead_of(L, 50), 0);
        // Order 2 (behind 50, ahead of 51) traded 2: 50 takes 1 of it.
        let left = q.offer(L, 2, Some(2), |id, v| {
            took.push((id, v));
            v.min(1)
        });
        assert_eq!((left, took.as_slice()), (1, &[(50, 2)][..]));
        q.leave(L, 50);
        q.leave(L, 51);
        assert!(q.is_empty(), "the queue ends with our last order");
    }
}
