//! A log of bounded length: the last `N` entries, and how many were dropped
//! before them, so a month of swaps and shadows holds no more memory than a
//! day's. Entries keep a stable id (their position since the start), so a
//! running shadow finds its entry after older ones were dropped.

use std::collections::VecDeque;

/// The last `N` entries of a log.
#[derive(Debug, Clone)]
pub struct Recent<T, const N: usize> {
    items: VecDeque<T>,
    dropped: u64,
}

impl<T, const N: usize> Default for Recent<T, N> {
    fn default() -> Self {
        Self {
            items: VecDeque::new(),
            dropped: 0,
        }
    }
}

impl<T, const N: usize> Recent<T, N> {
    /// Add `item`, dropping the oldest entry when `N` are held; its id.
    pub fn push(&mut self, item: T) -> u64 {
        if self.items.len() == N {
            self.items.pop_front();
            self.dropped += 1;
        }
        self.items.push_back(item);
        self.dropped + self.items.len() as u64 - 1
    }

    /// The entry with id `id`, unless it was dropped.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        let index = id.checked_sub(self.dropped)?;
        self.items.get_mut(usize::try_from(index).ok()?)
    }

    /// Entries dropped to keep the last `N`.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The entries held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<T: Clone, const N: usize> Recent<T, N> {
    /// The entries held, oldest first.
    pub fn to_vec(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_keeps_the_last_n_counts_the_rest_and_ids_stay_stable() {
        let mut log = Recent::<u32, 3>::default();
        let ids: Vec<u64> = (0..5).map(|i| log.push(i)).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4]);
        assert_eq!(log.to_vec(), [2, 3, 4]);
        assert_eq!(log.dropped(), 2);
        assert_eq!(log.get_mut(1), None, "dropped");
        *log.get_mut(3).unwrap() = 30;
        assert_eq!(log.to_vec(), [2, 30, 4]);
    }
}
