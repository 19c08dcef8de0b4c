//! The matcher's `venue-feed` import (1.4.0): what a simulated venue may
//! ask of the host about the feed it is handed, kept per store. The session
//! sets each batch's `before` around the matcher's `on-market` call, and
//! reads which instruments' book deltas the matcher turned off to leave them
//! out of that call. A fresh store has every instrument on.

use crate::bindings::{RestingBefore, VenueFeedImports};
use crate::engine::HostState;

/// One matcher instance's side of the `venue-feed` import.
#[derive(Debug, Default)]
pub struct VenueFeed {
    /// For the `on-market` call under way: one entry per event handed.
    before: Vec<Option<RestingBefore>>,
    /// Instruments whose add, modify, cancel and clear deltas the matcher
    /// turned off, sorted.
    off: Vec<u32>,
}

impl VenueFeed {
    /// The entries `before` answers during the next `on-market` call.
    pub fn set_before(&mut self, before: Vec<Option<RestingBefore>>) {
        self.before = before;
    }

    /// After the call: `before` answers nothing; the buffer is handed back
    /// for the next batch.
    pub fn take_before(&mut self) -> Vec<Option<RestingBefore>> {
        std::mem::take(&mut self.before)
    }

    /// Whether the matcher turned `instrument`'s book deltas off.
    pub fn is_off(&self, instrument: u32) -> bool {
        self.off.binary_search(&instrument).is_ok()
    }

    /// Whether any instrument is off.
    pub fn any_off(&self) -> bool {
        !self.off.is_empty()
    }
}

impl VenueFeedImports for HostState {
    fn before(&mut self) -> Vec<Option<RestingBefore>> {
        self.venue_feed.before.clone()
    }

    fn watch(&mut self, instrument: u32, deltas: bool) {
        let off = &mut self.venue_feed.off;
        match (off.binary_search(&instrument), deltas) {
            (Ok(i), true) => {
                off.remove(i);
            }
            (Err(i), false) => off.insert(i, instrument),
            _ => {}
        }
    }
}
