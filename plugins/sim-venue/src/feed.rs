//! The feed's events at the venue of one instrument: the book by order
//! (the host's: each delta comes with its order as it rested before it) or
//! by level, the session's phases and their auction, and the fills our
//! resting orders get as the market trades through them.

use std::collections::BTreeMap;

use tradsys_sdk::book::{Detail, Level};
use tradsys_sdk::host::{self, Resting as Before};
use tradsys_sdk::{
    Bar, BookAction, BookDelta, BookFlags, DepthLevel, DepthSnapshot, Quote, Side, Trade,
};

use crate::levels::Levels;

use crate::market::{
    MAX_LEVELS, Market, Reports, better, book_levels, book_side, fill_ours, opposite, reaches,
};
use crate::queue::{Entry, Key, key};

impl Market {
    /// The book turns into a book by order (its first delta): orders of
    /// ours resting from before join their levels' queues, in arrival order.
    pub(crate) fn become_by_order(&mut self) {
        self.by_order = true;
        if self.session.awaiting_open {
            self.opening = Some(Levels::default()); // the day's book starts empty
        }
        let ids: Vec<(u64, Side, i64)> = self
            .resting
            .iter()
            .map(|r| (r.id, r.side, r.price))
            .collect();
        for (id, side, price) in ids {
            self.queues.join(key(side, price), id, Vec::new);
        }
        for r in &mut self.resting {
            r.ahead = 0;
        }
    }

    /// Forget our orders that are filled.
    pub(crate) fn drop_filled(&mut self) {
        let filled: Vec<(u64, Side, i64)> = self
            .resting
            .iter()
            .filter(|r| r.leaves() <= 0)
            .map(|r| (r.id, r.side, r.price))
            .collect();
        for (id, side, price) in filled {
            self.resting.retain(|r| r.id != id);
            self.queues.leave(key(side, price), id);
        }
    }

    /// The prices of our orders on `side` that `accepts` takes, best first.
    pub(crate) fn our_prices(&self, side: Side, accepts: impl Fn(i64) -> bool) -> Vec<i64> {
        let mut prices: Vec<i64> = self
            .resting
            .iter()
            .filter(|r| r.side == side && accepts(r.price))
            .map(|r| r.price)
            .collect();
        prices.sort_unstable_by(|a, b| match side {
            Side::Buy => b.cmp(a),
            Side::Sell => a.cmp(b),
        });
        prices.dedup();
        prices
    }

    /// A book by order: `volume` traded with feed order `until` resting on
    /// `side` at `price`. In a market with our orders it would have reached
    /// ours first where they come first: every one at a better price, then
    /// those ahead of that order in its level's queue.
    pub(crate) fn volume_at(
        &mut self,
        side: Side,
        price: i64,
        volume: i64,
        until: Option<u64>,
        out: &mut Reports<'_>,
    ) {
        let mut left = volume;
        for p in self.our_prices(side, |p| better(side, p, price)) {
            let resting = &mut self.resting;
            left = self.queues.offer(key(side, p), left, None, |id, v| {
                fill_ours(resting, id, v, out)
            });
        }
        let resting = &mut self.resting;
        self.queues.offer(key(side, price), left, until, |id, v| {
            fill_ours(resting, id, v, out)
        });
        self.drop_filled();
    }

    /// A book by order: a feed order on the other side added (or moved) to
    /// `price`, crossing our orders on `side`: it would have traded with
    /// them, best price first, up to its `size`.
    pub(crate) fn crossing(&mut self, side: Side, price: i64, size: i64, out: &mut Reports<'_>) {
        let mut left = size;
        for p in self.our_prices(side, |p| reaches(side, p, price)) {
            let resting = &mut self.resting;
            left = self.queues.offer(key(side, p), left, None, |id, v| {
                fill_ours(resting, id, v, out)
            });
        }
        self.drop_filled();
    }

    /// The opening auction traded `volume` at `price`: on each side our
    /// orders that cross it fill at it, in price priority, behind the
    /// feed's orders at better prices, at their own price ahead of them in
    /// the queue, and at the auction's price behind all of the feed's.
    pub(crate) fn auction(&mut self, price: i64, volume: i64, out: &mut Reports<'_>) {
        for side in [Side::Buy, Side::Sell] {
            let ours = self.our_prices(side, |p| reaches(side, p, price));
            if ours.is_empty() {
                continue;
            }
            let levels: Vec<Level> = self
                .opening
                .as_ref()
                .map(|l| l.side(side))
                .unwrap_or_default();
            let mut prices: Vec<i64> = levels
                .iter()
                .map(|l| l.price)
                .filter(|p| reaches(side, *p, price))
                .chain(ours.iter().copied())
                .collect();
            prices.sort_unstable_by(|a, b| match side {
                Side::Buy => b.cmp(a),
                Side::Sell => a.cmp(b),
            });
            prices.dedup();
            let mut left = volume;
            for p in prices {
                if left <= 0 {
                    break;
                }
                let shown = levels.iter().find(|l| l.price == p).map_or(0, |l| l.size);
                let level = key(side, p);
                if p == price || !self.queues.has(level) {
                    left -= shown;
                    if p == price && left > 0 {
                        let ids: Vec<u64> = self
                            .resting
                            .iter()
                            .filter(|r| r.side == side && r.price == p)
                            .map(|r| r.id)
                            .collect();
                        for id in ids {
                            left -= self.auction_fill(id, price, left, out);
                        }
                    }
                    continue;
                }
                for entry in self.queues.entries(level).to_vec() {
                    if left <= 0 {
                        break;
                    }
                    match entry {
                        Entry::Feed { size, .. } => left -= size,
                        Entry::Ours(id) => {
                            left -= self.auction_fill(id, price, left, out);
                        }
                    }
                }
            }
        }
        self.drop_filled();
    }

    /// Our order `id` fills up to `volume` in the auction, at its `price`.
    pub(crate) fn auction_fill(
        &mut self,
        id: u64,
        price: i64,
        volume: i64,
        out: &mut Reports<'_>,
    ) -> i64 {
        let Some(r) = self.resting.iter_mut().find(|r| r.id == id) else {
            return 0;
        };
        let q = r.leaves().min(volume);
        if q <= 0 {
            return 0;
        }
        r.filled += q;
        out.fill(r.id, r.side, price, q, r.leaves(), true);
        q
    }

    pub(crate) fn on_status(&mut self, status: tradsys_sdk::TradingStatus) {
        self.session.status(status);
    }

    /// A book delta, and its order as it rested before it (`prior`).
    pub(crate) fn on_delta(&mut self, d: &BookDelta, prior: Option<Before>, out: &mut Reports<'_>) {
        self.session.book_by_order();
        if !self.by_order() {
            self.become_by_order();
        }
        // One outside what the venue asked for (a fresh instance of the
        // host's store hands every one) changes nothing it keeps.
        self.delta(d, prior, out);
        if d.flags.contains(BookFlags::LAST) {
            self.session.event_end();
            self.queues.event_end();
        }
    }

    fn delta(&mut self, d: &BookDelta, prior: Option<Before>, out: &mut Reports<'_>) {
        let side = d.side;
        let ours = !self.resting.is_empty();
        match d.action {
            BookAction::Add => {
                if ours && self.session.trading() {
                    self.crossing(opposite(side), d.price, d.size, out);
                }
                self.taken.remove(&key(side, d.price));
                if let Some(levels) = &mut self.opening {
                    levels.add(side, d.price, d.size);
                }
                self.queues
                    .feed_joined(key(side, d.price), d.order_id, d.size);
            }
            BookAction::Modify => {
                let moved = prior
                    .as_ref()
                    .is_none_or(|o| o.price != d.price || o.side != side);
                let grew = prior.as_ref().is_some_and(|o| d.size > o.size);
                if let Some(o) = &prior {
                    let level = key(o.side, o.price);
                    if moved || grew {
                        self.queues.feed_left(level, d.order_id);
                    } else {
                        self.queues.feed_at_most(level, d.order_id, d.size);
                    }
                    self.taken.remove(&level);
                }
                if moved && ours && self.session.trading() {
                    self.crossing(opposite(side), d.price, d.size, out);
                }
                self.taken.remove(&key(side, d.price));
                if let Some(levels) = &mut self.opening {
                    if let Some(o) = &prior {
                        levels.remove(o.side, o.price, o.size, true);
                    }
                    levels.add(side, d.price, d.size);
                }
                if moved || grew {
                    self.queues
                        .feed_joined(key(side, d.price), d.order_id, d.size);
                }
            }
            BookAction::Cancel => {
                if let Some(o) = &prior {
                    let level = key(o.side, o.price);
                    let gone = d.size.clamp(0, o.size);
                    let left = o.size - gone;
                    if left == 0 {
                        self.queues.feed_left(level, d.order_id);
                    } else {
                        self.queues.feed_at_most(level, d.order_id, left);
                    }
                    self.taken.remove(&level);
                    if let Some(levels) = &mut self.opening {
                        levels.remove(o.side, o.price, gone, left == 0);
                    }
                }
            }
            BookAction::Clear => {
                // A snapshot follows: the same orders again keep their places.
                if let Some(levels) = &mut self.opening {
                    levels.clear();
                }
                self.taken.clear();
                self.queues.feed_cleared();
            }
            BookAction::Fill => {
                // A trade at a level: only a fill of an order resting at that
                // price (not the aggressor's record, not an aggressive
                // modify's, not the auction's).
                if let Some(o) = &prior
                    && o.price == d.price
                {
                    self.session.fill();
                    let level = key(o.side, o.price);
                    if ours && self.session.trading() {
                        self.volume_at(o.side, o.price, d.size, Some(d.order_id), out);
                    }
                    self.queues.feed_traded(level, d.order_id, d.size);
                }
            }
        }
    }

    /// After a call: a book by order keeps its levels while an auction may
    /// come (the host's, read now that its book holds what this call was
    /// handed, when a halt began inside it), and tells the host which
    /// deltas it needs.
    pub(crate) fn after_call(&mut self) {
        if !self.by_order {
            return;
        }
        match (self.session.awaiting_open, self.opening.is_some()) {
            (true, false) => {
                let depth = host::depth(self.instrument, MAX_LEVELS);
                let mut levels = Levels::default();
                levels.set_side(Side::Buy, &book_levels(depth.bids));
                levels.set_side(Side::Sell, &book_levels(depth.asks));
                self.opening = Some(levels);
            }
            (false, true) => self.opening = None,
            _ => {}
        }
        self.sync_watch();
    }

    pub(crate) fn on_trade(&mut self, t: &Trade, out: &mut Reports<'_>) {
        let last = t.flags.contains(BookFlags::LAST);
        if self.detail() == Detail::Empty {
            self.session.other_data();
        }
        let auction = self.session.trade(t.aggressor.is_some(), last);
        match self.detail() {
            Detail::Orders if auction => self.auction(t.price, t.size, out),
            // By order: the fill records say who traded; bars: the bar does.
            Detail::Orders | Detail::Empty => {}
            Detail::Levels | Detail::Top => {
                if self.session.trading() {
                    self.trade_at_level(t, out);
                }
            }
        }
        if last {
            self.session.event_end();
        }
    }

    /// Levels or the touch: a trade at a price first trades the feed's
    /// queue there, then ours; a trade through our price fills us.
    pub(crate) fn trade_at_level(&mut self, t: &Trade, out: &mut Reports<'_>) {
        for side in [Side::Buy, Side::Sell] {
            if t.aggressor == Some(side) {
                continue;
            }
            // Every one of our orders at the trade's price moves up by its
            // size, and what reaches us is what is left once the shortest
            // queue ahead is gone.
            let mut shortest: Option<i64> = None;
            for r in &mut self.resting {
                if r.side == side && r.price == t.price {
                    shortest = Some(shortest.map_or(r.ahead, |s| s.min(r.ahead)));
                    r.ahead = (r.ahead - t.size).max(0);
                }
            }
            let size = t.size - shortest.unwrap_or(0).min(t.size);
            self.fill_reached(side, t.price, size, true, out);
        }
    }

    /// Without a book by order: fill our orders on `side` that `price`
    /// reaches, best price first then arrival, up to `size`; `at_level`
    /// says whether orders exactly at `price` must first see nothing ahead
    /// of them. Returns what is left.
    pub(crate) fn fill_reached(
        &mut self,
        side: Side,
        price: i64,
        mut size: i64,
        at_level: bool,
        out: &mut Reports<'_>,
    ) -> i64 {
        if self.resting.is_empty() {
            return size; // the common case on the hot path: nothing of ours rests
        }
        let mut order: Vec<usize> = (0..self.resting.len())
            .filter(|&i| {
                let r = &self.resting[i];
                r.side == side && reaches(side, r.price, price)
            })
            .collect();
        order.sort_by(|&a, &b| {
            let (ra, rb) = (&self.resting[a], &self.resting[b]);
            if better(side, ra.price, rb.price) {
                std::cmp::Ordering::Less
            } else if better(side, rb.price, ra.price) {
                std::cmp::Ordering::Greater
            } else {
                a.cmp(&b)
            }
        });
        for i in order {
            if size <= 0 {
                break;
            }
            let r = &mut self.resting[i];
            if at_level && r.price == price && r.ahead > 0 {
                continue;
            }
            let q = r.leaves().min(size);
            r.filled += q;
            size -= q;
            out.fill(r.id, r.side, r.price, q, r.leaves(), true);
        }
        self.resting.retain(|r| r.leaves() > 0);
        size
    }

    /// Cap what is ahead by the level sizes now; fill what the opposite
    /// best level crosses; forget what we took of levels that changed.
    pub(crate) fn after_levels(&mut self, before: &BTreeMap<Key, i64>, out: &mut Reports<'_>) {
        for r in &mut self.resting {
            // Only a level the feed shows (or an empty one within what it
            // shows) says anything; deeper ones are not in the data.
            let deepest = match r.side {
                Side::Buy => self.feed.bids().last(),
                Side::Sell => self.feed.asks().last(),
            };
            if deepest.is_some_and(|d| !better(r.side, d.price, r.price)) {
                let size = self
                    .feed
                    .level(book_side(r.side), r.price)
                    .map_or(0, |l| l.size);
                r.ahead = r.ahead.min(size);
            }
        }
        if self.session.trading() {
            for side in [Side::Buy, Side::Sell] {
                let best = match side {
                    Side::Buy => self.feed.best_ask(),
                    Side::Sell => self.feed.best_bid(),
                };
                if let Some(level) = best {
                    self.fill_reached(side, level.price, level.size, false, out);
                }
            }
        }
        let now = self.level_sizes();
        self.taken.retain(|k, _| before.get(k) == now.get(k));
    }

    pub(crate) fn level_sizes(&self) -> BTreeMap<Key, i64> {
        let bids = self.feed.bids().map(|l| (key(Side::Buy, l.price), l.size));
        let asks = self.feed.asks().map(|l| (key(Side::Sell, l.price), l.size));
        bids.chain(asks).collect()
    }

    pub(crate) fn on_depth(&mut self, d: &DepthSnapshot, out: &mut Reports<'_>) {
        self.session.other_data();
        if self.detail() > Detail::Levels {
            return; // a book by order ignores snapshots (and costs nothing here)
        }
        let before = self.level_sizes();
        let levels = |v: &[DepthLevel]| -> Vec<Level> {
            v.iter()
                .map(|l| Level {
                    price: l.price,
                    size: l.quantity,
                    orders: l.orders,
                })
                .collect()
        };
        if self.feed.replace_levels(&levels(&d.bids), &levels(&d.asks)) {
            self.after_levels(&before, out);
        }
    }

    pub(crate) fn on_quote(&mut self, q: &Quote, out: &mut Reports<'_>) {
        if self.detail() > Detail::Top {
            return; // the quotes the host derives from a book add nothing to it
        }
        self.session.other_data();
        let before = self.level_sizes();
        let side = |price, size| (size > 0 && price > 0).then_some((price, size));
        if self
            .feed
            .set_top(side(q.bid_price, q.bid_size), side(q.ask_price, q.ask_size))
        {
            self.after_levels(&before, out);
        }
    }

    pub(crate) fn on_bar(&mut self, b: &Bar, out: &mut Reports<'_>) {
        self.bar = Some(*b);
        self.session.other_data();
        if self.detail() != Detail::Empty || !self.session.trading() {
            return;
        }
        let mut volume = if b.volume > 0 { b.volume } else { i64::MAX };
        for r in &mut self.resting {
            let price = match r.side {
                Side::Buy if b.open <= r.price => b.open,
                Side::Buy if b.low <= r.price => r.price,
                Side::Sell if b.open >= r.price => b.open,
                Side::Sell if b.high >= r.price => r.price,
                _ => continue,
            };
            let q = r.leaves().min(volume);
            if q <= 0 {
                break;
            }
            volume -= q;
            r.filled += q;
            out.fill(r.id, r.side, price, q, r.leaves(), true);
        }
        self.resting.retain(|r| r.leaves() > 0);
    }
}
