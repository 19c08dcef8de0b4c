//! The functions the host offers a plugin: log, clock and config, the
//! host's order books ([`depth`], [`queue`]; every kind but connectors),
//! and for matchers the owner of an order ([`owner`]) and what a simulated
//! venue needs to keep no copy of the feed's book ([`before`], [`watch`]).
//!
//! How a risk validator sees the market: only when it is asked, through its
//! risk context (last prices, the strategy's positions and working orders)
//! and [`depth`]; it has no market call of its own, so a time series it
//! needs (a volatility, a volume) it samples at its validations.
//!
//! Inside a component these call the host. Compiled natively (a plugin's own
//! unit tests) they use a per-thread stand-in: [`set_now`] sets the clock,
//! log lines go to stderr, `config_get` answers from [`set_config`],
//! `depth` from [`set_depth`], `queue` from [`set_queue`], `before` from
//! [`set_before`], and [`watched`] says what `watch` asked for.

pub use crate::bindings::matcher::tradsys::plugins::venue_feed::{PriceBand, Resting};
pub use crate::bindings::strategy::tradsys::plugins::host::LogLevel;
pub use crate::bindings::strategy::tradsys::plugins::market::QueuedOrder;

#[cfg(target_family = "wasm")]
mod imp {
    use crate::bindings::strategy::tradsys::plugins::host;

    pub fn log(level: super::LogLevel, message: &str) {
        host::log(level, message)
    }

    pub fn now() -> u64 {
        host::now()
    }

    pub fn config_get(key: &str) -> Option<String> {
        host::config_get(key)
    }

    pub fn depth(instrument: u32, levels: u32) -> crate::BookDepth {
        crate::bindings::strategy::tradsys::plugins::market::depth(instrument, levels)
    }

    pub fn owner(order_id: u64) -> Option<u32> {
        crate::bindings::matcher::tradsys::plugins::orders::owner(order_id)
    }

    pub fn queue(instrument: u32, side: crate::Side, price: i64) -> Vec<super::QueuedOrder> {
        crate::bindings::strategy::tradsys::plugins::market::queue(instrument, side, price)
    }

    pub fn before() -> Vec<Option<super::Resting>> {
        crate::bindings::matcher::tradsys::plugins::venue_feed::before()
    }

    pub fn watch(instrument: u32, bands: super::Bands) {
        let (bids, asks, trades) = bands;
        crate::bindings::matcher::tradsys::plugins::venue_feed::watch(
            instrument, bids, asks, trades,
        )
    }
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    use std::cell::{Cell, RefCell};

    /// A price level: instrument, side, price.
    type Level = (u32, crate::Side, i64);

    thread_local! {
        pub static NOW: Cell<u64> = const { Cell::new(0) };
        pub static CONFIG: RefCell<crate::Config> = RefCell::new(crate::Config::default());
        pub static BOOKS: RefCell<Vec<crate::BookDepth>> = const { RefCell::new(Vec::new()) };
        pub static OWNERS: RefCell<std::collections::HashMap<u64, u32>> =
            RefCell::new(std::collections::HashMap::new());
        pub static QUEUES: RefCell<Vec<(Level, Vec<super::QueuedOrder>)>> =
            const { RefCell::new(Vec::new()) };
        pub static BEFORE: RefCell<Vec<Option<super::Resting>>> = const { RefCell::new(Vec::new()) };
        pub static BANDS: RefCell<Vec<(u32, super::Bands)>> = const { RefCell::new(Vec::new()) };
    }

    pub fn queue(instrument: u32, side: crate::Side, price: i64) -> Vec<super::QueuedOrder> {
        QUEUES.with(|q| {
            q.borrow()
                .iter()
                .find(|(at, _)| *at == (instrument, side, price))
                .map(|(_, orders)| orders.clone())
                .unwrap_or_default()
        })
    }

    pub fn before() -> Vec<Option<super::Resting>> {
        BEFORE.with(|b| b.borrow().clone())
    }

    pub fn watch(instrument: u32, asked: super::Bands) {
        BANDS.with(|b| {
            let mut bands = b.borrow_mut();
            bands.retain(|(i, _)| *i != instrument);
            bands.push((instrument, asked));
        })
    }

    pub fn owner(order_id: u64) -> Option<u32> {
        OWNERS.with(|o| o.borrow().get(&order_id).copied())
    }

    pub fn log(level: super::LogLevel, message: &str) {
        eprintln!("[{level:?}] {message}");
    }

    pub fn now() -> u64 {
        NOW.with(Cell::get)
    }

    pub fn config_get(key: &str) -> Option<String> {
        CONFIG.with(|c| c.borrow().get(key).map(str::to_owned))
    }

    pub fn depth(instrument: u32, levels: u32) -> crate::BookDepth {
        let levels = levels as usize;
        BOOKS.with(|b| {
            let found = b
                .borrow()
                .iter()
                .find(|d| d.instrument == instrument)
                .cloned();
            let mut depth = found.unwrap_or(crate::BookDepth {
                instrument,
                bids: Vec::new(),
                asks: Vec::new(),
            });
            depth.bids.truncate(levels);
            depth.asks.truncate(levels);
            depth
        })
    }
}

/// Write a line to the host log.
pub fn log(level: LogLevel, message: &str) {
    imp::log(level, message)
}

/// The host clock, nanoseconds since the Unix epoch (replayed time in a replay).
pub fn now() -> u64 {
    imp::now()
}

/// One of this plugin's configuration values.
pub fn config_get(key: &str) -> Option<String> {
    imp::config_get(key)
}

/// The best `levels` price levels of each side of `instrument`'s book as the
/// host keeps it from the feed (at most 100 per side; both lists empty when
/// the instrument has no book). Every kind but connectors (matchers since
/// 1.4.0).
pub fn depth(instrument: u32, levels: u32) -> crate::BookDepth {
    imp::depth(instrument, levels)
}

/// The feed's orders resting on `side` at `price` in `instrument`'s book by
/// order, first in the queue first (empty for a book by price or by touch,
/// which names no orders). For a matcher, whenever `execute` is called the
/// book holds the feed up to the last event it was handed.
pub fn queue(instrument: u32, side: crate::Side, price: i64) -> Vec<QueuedOrder> {
    imp::queue(instrument, side, price)
}

/// Matchers only, inside `on_market`: for each event of the batch, in
/// order, the order a book delta names as it rested just before the delta
/// (`None` when it was not resting, and for every other event). A simulated
/// venue reads it instead of keeping its own copy of the feed's book.
pub fn before() -> Vec<Option<Resting>> {
    imp::before()
}

/// What a `watch` asks for: the bids' price band, the asks', and whether
/// trades, fills and quotes.
pub type Bands = (Option<PriceBand>, Option<PriceBand>, bool);

/// Matchers only: which of `instrument`'s events `on_market` hands, as
/// `(bids, asks, trades)`. Of the book deltas that add, modify or cancel an
/// order: a bid's when its price (or, for a modify or a cancel, its price
/// before it) is within `bids`, an ask's likewise within `asks`, none of a
/// side without a band; with `trades` false, none of its trades, fills and
/// quotes either. A clear and the rest of its exchange event, status and
/// every other event always come; every event until told otherwise; a batch
/// left with nothing is not handed (no call). The host may hand more (a
/// fresh instance starts with every event on): an event outside what was
/// asked for must change nothing the matcher keeps.
pub fn watch(instrument: u32, asked: Bands) {
    imp::watch(instrument, asked)
}

/// The owner of host order `order_id`: a number the same for every order of
/// one strategy and different between strategies, for self-trade prevention;
/// `None` for an id the host did not send (or that finished). Matchers only:
/// the other worlds do not import it.
pub fn owner(order_id: u64) -> Option<u32> {
    imp::owner(order_id)
}

/// Native tests only: set (or with `None` clear) what [`owner`] returns for
/// `order_id` on this thread.
#[cfg(not(target_family = "wasm"))]
pub fn set_owner(order_id: u64, owner: Option<u32>) {
    imp::OWNERS.with(|o| {
        let mut owners = o.borrow_mut();
        match owner {
            Some(owner) => owners.insert(order_id, owner),
            None => owners.remove(&order_id),
        };
    });
}

/// Native tests only: set what [`depth`] returns for `depth.instrument` on
/// this thread.
#[cfg(not(target_family = "wasm"))]
pub fn set_depth(depth: crate::BookDepth) {
    imp::BOOKS.with(|b| {
        let mut books = b.borrow_mut();
        books.retain(|d| d.instrument != depth.instrument);
        books.push(depth);
    });
}

/// Native tests only: set what [`queue`] returns for `instrument`, `side`
/// and `price` on this thread.
#[cfg(not(target_family = "wasm"))]
pub fn set_queue(instrument: u32, side: crate::Side, price: i64, orders: Vec<QueuedOrder>) {
    imp::QUEUES.with(|q| {
        let mut queues = q.borrow_mut();
        queues.retain(|(at, _)| *at != (instrument, side, price));
        queues.push(((instrument, side, price), orders));
    });
}

/// Native tests only: set what [`before`] returns on this thread.
#[cfg(not(target_family = "wasm"))]
pub fn set_before(before: Vec<Option<Resting>>) {
    imp::BEFORE.with(|b| *b.borrow_mut() = before);
}

/// Native tests only: the bands [`watch`] last asked for `instrument` on
/// this thread (`None`: never asked, every delta).
#[cfg(not(target_family = "wasm"))]
pub fn watched(instrument: u32) -> Option<Bands> {
    imp::BANDS.with(|b| {
        b.borrow()
            .iter()
            .find(|(i, _)| *i == instrument)
            .map(|(_, bands)| *bands)
    })
}

/// Native tests only: set the clock that [`now`] returns on this thread.
#[cfg(not(target_family = "wasm"))]
pub fn set_now(ts: u64) {
    imp::NOW.with(|n| n.set(ts));
}

/// Native tests only: set the values that [`config_get`] returns on this thread.
#[cfg(not(target_family = "wasm"))]
pub fn set_config(config: crate::Config) {
    imp::CONFIG.with(|c| *c.borrow_mut() = config);
}
