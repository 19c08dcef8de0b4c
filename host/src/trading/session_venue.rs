//! The session's side of the venue: a batch through the books and the
//! simulated venue with the commands in flight reaching it between exchange
//! events, the strategies' clock, the matcher's calls and what they booked,
//! and the fills audit beside it.

use crate::bindings::types::{MarketEvent, OrderCommand};
use crate::trading::events::{event_instrument, event_ts, open_after};

use super::Session;

impl Session {
    /// Apply `events` to the market state (books, instruments, last
    /// prices) and move the exchange's clock: the number of feed events.
    pub(super) fn ingest(&mut self, events: &mut Vec<MarketEvent>) -> u64 {
        let ingested = self.market.ingest(events);
        if let Some(ts) = ingested.latest_ts {
            self.runtime.clock().advance(ts);
        }
        ingested.feed_events as u64
    }

    /// The simulated venue: `events` go to the books and the venue, and a
    /// command in flight reaches the venue after every exchange event
    /// stamped at or before its arrival, never inside an event (one that
    /// arrives after the batch waits for the next). The number of feed
    /// events.
    pub(super) fn through_venue(&mut self, events: &mut Vec<MarketEvent>) -> u64 {
        // The matcher (which a swap may change) reads each delta's order as
        // it was before it, or not.
        let before = self.slots.matcher.as_ref();
        let before = before.is_some_and(|m| m.plugin().reads_venue_feed());
        self.market.keep_before(before);
        if self.router.in_flight() == 0 {
            let count = self.ingest(events);
            self.feed_matcher(events);
            return count;
        }
        let mut count = 0;
        let mut rest = std::mem::take(events);
        let mut done = Vec::with_capacity(rest.len() + 4);
        while let Some(arrival) = self.router.next_arrival() {
            let cut = first_after(&rest, arrival, self.trades_flagged);
            if cut > 0 {
                let mut chunk: Vec<MarketEvent> = rest.drain(..cut).collect();
                count += self.ingest(&mut chunk);
                self.feed_matcher(&chunk);
                done.append(&mut chunk);
            }
            let Some(next) = rest.first().and_then(event_ts) else {
                break; // the batch ends first: they arrive with the next
            };
            for (arrival, commands) in self.router.arrived(Some(next)) {
                self.runtime.clock().advance(arrival);
                self.execute(commands);
            }
        }
        if !rest.is_empty() {
            count += self.ingest(&mut rest);
            self.feed_matcher(&rest);
            done.append(&mut rest);
        }
        *events = done;
        count
    }

    /// When the strategies see `events`: the latest exchange time plus the
    /// feed latency of its instrument (the strategies' clock, which never
    /// goes back). Returns that clock.
    pub(super) fn see(&mut self, events: &[MarketEvent]) -> u64 {
        let exchange = self.runtime.clock().now();
        let local = self.runtime.local_clock();
        if self.router.latency().is_zero() {
            local.advance(exchange);
            return local.now();
        }
        let mut seen = exchange;
        for event in events {
            if let (Some(ts), Some(instrument)) = (event_ts(event), event_instrument(event)) {
                let definition = self.market.definition(instrument);
                let feed = self.router.latency().delays(definition, ts).feed;
                seen = seen.max(ts.saturating_add(feed));
            }
        }
        local.advance(seen);
        local.now()
    }

    /// The stream ended: the commands still in flight reach the venue (after
    /// every event), and the strategies get what the venue answered, for at
    /// most `run.max_rounds` rounds; what is left then never reaches it.
    pub(super) fn finish_in_flight(&mut self) {
        for _ in 0..self.settings.max_rounds {
            let arrived = self.router.arrived(None);
            if arrived.is_empty() {
                break;
            }
            for (arrival, commands) in arrived {
                self.runtime.clock().advance(arrival);
                self.execute(commands);
            }
            let local = self.runtime.local_clock();
            local.advance(self.runtime.clock().now());
            self.deliver_all_reports();
        }
        let now = self.runtime.clock().now();
        for i in 0..self.slots.strategies.len() {
            self.router.recall(i, &self.market, now);
        }
    }

    /// Send host-numbered commands to the matcher and book what comes back.
    /// The simulated venue sees the batch; the fills it reports are booked.
    pub(super) fn feed_matcher(&mut self, events: &[MarketEvent]) {
        if let Some(audit) = &mut self.fills_audit {
            audit.record(events);
        }
        // A live session without a matcher never comes here (the venue
        // matches); a replay always has one.
        let Some(matcher) = self.slots.matcher.as_mut() else {
            return;
        };
        let plugin = matcher.plugin().clone();
        let now = self.runtime.clock().now();
        let before = self
            .market
            .take_before(std::mem::take(&mut self.spent_before));
        // What the matcher asked for (`venue-feed.watch`) of a live
        // instance; a fresh one is handed every event.
        let hands = matcher
            .store_data()
            .filter(|data| data.venue_feed.any_banded())
            .map(|data| data.venue_feed.hands(events, &before))
            // Every event handed: the batch goes as it is, not copied.
            .filter(|h| h.contains(&false));
        if hands.as_ref().is_some_and(|h| !h.contains(&true)) {
            self.spent_before = before;
            return self.audit_fills(); // nothing to hand: no call
        }
        let spent = &mut self.spent_before;
        let breach = self
            .router
            .feed(events, &self.market, now, plugin.name(), || {
                matcher
                    .call(|b, s| hand_to_matcher(b, s, events, before, hands, spent))
                    .and_then(|reports| matcher.limit_output(reports))
            });
        if let Some(reason) = breach {
            matcher.contract_fault(reason);
        }
        self.audit_fills();
    }

    /// Hand the fills just booked to the audit beside the venue.
    fn audit_fills(&mut self) {
        if let Some(audit) = &mut self.fills_audit {
            audit.fills(self.router.take_fills());
        }
    }

    /// Each strategy's fills judged by the exchange's rules so far: none
    /// without a simulated venue over a feed by order, or once trading
    /// halted (what the host canceled then is no venue's doing).
    pub(crate) fn fills_audit(
        &self,
    ) -> Option<std::collections::BTreeMap<String, crate::journal::StrategyAudit>> {
        if self.router.counts.halted.is_some() {
            return None;
        }
        self.fills_audit.as_ref()?.figures()
    }

    /// The operator's kill switch: trading halts, and with `cancel_all`
    /// every working order is canceled at the venue (the live venue's
    /// connector, or the matcher). After a matcher failure there is nothing
    /// left to do.
    pub(super) fn operator_halt(&mut self, cancel_all: bool) {
        if matches!(
            self.router.counts.halted,
            Some(crate::journal::Halt::MatcherFailed { .. })
        ) {
            return;
        }
        let now = self.runtime.clock().now();
        let cancels = self.router.operator_halt(cancel_all, now);
        if cancels.is_empty() {
            return;
        }
        match self.venue {
            crate::config::VenueModel::Live => self.submit_live(cancels),
            crate::config::VenueModel::Simulated | crate::config::VenueModel::Exchange => {
                self.execute(cancels)
            }
        }
        self.deliver_reports();
    }

    pub(crate) fn execute(&mut self, commands: Vec<OrderCommand>) {
        let now = self.runtime.clock().now();
        if let Some(clients) = &mut self.clients {
            clients.book_may_change(&commands);
        }
        if let Some(audit) = &mut self.fills_audit
            && !commands.is_empty()
        {
            audit.commands(&commands, &self.router, now);
        }
        // A live session without a matcher never comes here (the venue
        // matches); a replay always has one.
        let Some(matcher) = self.slots.matcher.as_mut() else {
            return;
        };
        let plugin = matcher.plugin().clone();
        let breach = self
            .router
            .execute(commands, &self.market, now, plugin.name(), |commands| {
                matcher
                    .call(|b, s| b.execute(s, commands))
                    .and_then(|reports| matcher.limit_output(reports))
            });
        if let Some(reason) = breach {
            matcher.contract_fault(reason);
        }
        self.audit_fills();
    }
}

/// The index of the first event of `events` stamped after `arrival` that
/// starts an exchange event (`events.len()` if none does): a command
/// arriving at `arrival` reaches the venue just before it.
fn first_after(events: &[MarketEvent], arrival: u64, trades_flagged: bool) -> usize {
    let mut open = false;
    for (i, event) in events.iter().enumerate() {
        if !open && event_ts(event).is_some_and(|ts| ts > arrival) {
            return i;
        }
        open = open_after(event, open, trades_flagged);
    }
    events.len()
}

/// The matcher's `on-market` over a batch of the feed: with `before` (one
/// entry per event) for its `venue-feed.before` import, and only the events
/// `hands` says it asked for (`venue-feed.watch`; all without). The buffer
/// comes back in `spent`.
fn hand_to_matcher(
    matcher: &crate::sandbox::Matcher,
    store: &mut wasmtime::Store<crate::engine::HostState>,
    events: &[MarketEvent],
    before: Vec<Option<crate::bindings::RestingBefore>>,
    hands: Option<Vec<bool>>,
    spent: &mut Vec<Option<crate::bindings::RestingBefore>>,
) -> wasmtime::Result<Vec<crate::bindings::types::OrderEvent>> {
    let feed = &mut store.data_mut().venue_feed;
    let out = match hands {
        Some(hands) => {
            let mut handed = Vec::with_capacity(events.len());
            let mut handed_before = Vec::with_capacity(before.len());
            for (i, event) in events.iter().enumerate() {
                if hands[i] {
                    handed.push(event.clone());
                    handed_before.push(before.get(i).cloned().flatten());
                }
            }
            feed.set_before(handed_before);
            matcher.on_market(store, &handed)
        }
        None => {
            feed.set_before(before);
            matcher.on_market(store, events)
        }
    };
    *spent = store.data_mut().venue_feed.take_before();
    out
}
