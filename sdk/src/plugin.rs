//! The traits a plugin implements, one per kind.

use crate::{
    BookDepth, Config, MarketEvent, NetworkOutput, OrderCommand, OrderEvent, RiskContext, Verdict,
};

/// A trading strategy: market data and its own order events in, order commands out.
pub trait Strategy: Sized + 'static {
    /// Build the strategy from its configuration; an error fails the plugin's `init`.
    fn new(config: &Config) -> Result<Self, String>;

    /// React to a batch of market events (oldest first) by pushing commands to `orders`.
    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>);

    /// React to execution reports of this strategy's own orders.
    fn on_order_events(&mut self, events: &[OrderEvent], orders: &mut Vec<OrderCommand>) {
        let _ = (events, orders);
    }

    /// Serialise state for a hot swap. The default keeps no state.
    fn save_state(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Restore state from `save_state`. The default accepts only empty state.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        accept_no_state("strategy", state)
    }
}

/// The default `load_state` of a plugin that keeps no state.
fn accept_no_state(kind: &str, state: &[u8]) -> Result<(), String> {
    if state.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "this {kind} keeps no state but was given {} bytes",
            state.len()
        ))
    }
}

/// A pre-trade risk validator.
pub trait RiskValidator: Sized + 'static {
    /// Build the validator from its configuration.
    fn new(config: &Config) -> Result<Self, String>;

    /// Push exactly one verdict per command in `orders`, in order.
    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    );

    /// Serialise state (for example a rate window) so it survives eviction
    /// and a hot swap. The default keeps no state.
    fn save_state(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Restore state from `save_state`. The default accepts only empty state.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        accept_no_state("validator", state)
    }
}

/// An order-matching engine holding one book per instrument.
pub trait Matcher: Sized + 'static {
    /// Build the matcher from its configuration.
    fn new(config: &Config) -> Result<Self, String>;

    /// Apply commands in order, pushing every execution report they cause.
    fn execute(&mut self, commands: &[OrderCommand], reports: &mut Vec<OrderEvent>);

    /// The feed's events of one batch (simulated venue only): push the
    /// reports of resting orders the market reached. By default the matcher
    /// ignores the feed.
    fn on_market(&mut self, events: &[MarketEvent], reports: &mut Vec<OrderEvent>) {
        let _ = (events, reports);
    }

    /// The best `levels` levels of each side of `instrument`'s book.
    fn depth(&self, instrument: u32, levels: u32) -> BookDepth;

    /// Serialise every book.
    fn save_state(&self) -> Vec<u8>;

    /// Restore books from `save_state`.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String>;
}

/// A market-data (and optionally venue) connector.
pub trait Connector: Sized + 'static {
    /// Build the connector from its configuration.
    fn new(config: &Config) -> Result<Self, String>;

    /// Up to `max` events, oldest first; `Ok(None)` once the stream has
    /// ended; `Err` when it cannot go on (the host stops the session with the
    /// message: name the file and where).
    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<MarketEvent>>, String>;

    /// Send commands to the venue; return the reports known at once.
    fn submit_orders(&mut self, orders: &[OrderCommand]) -> Vec<OrderEvent>;

    /// Reports produced by the venue since the last call.
    fn poll_reports(&mut self) -> Vec<OrderEvent> {
        Vec::new()
    }

    /// Serialise the position in the stream (and any venue state), so a new
    /// version or a restarted instance carries on after the last batch
    /// delivered. The host calls it between every two calls, so keep it
    /// small. A live feed that holds nothing returns an empty vector.
    fn save_state(&self) -> Vec<u8>;

    /// Restore state from `save_state`, after `new` with the same config.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String>;
}

/// A connector that speaks a venue's protocol over a connection the host
/// owns (live trading): no I/O of its own. Each call gives the host time
/// `now` and pushes to `out` the bytes to send, market events, execution
/// reports of host orders and whether to close the connection.
pub trait NetworkConnector: Sized + 'static {
    /// Build the connector from its configuration.
    fn new(config: &Config) -> Result<Self, String>;

    /// The host opened the connection (log on).
    fn connected(&mut self, now: u64, out: &mut NetworkOutput);

    /// Bytes arrived; a message may be split across calls.
    fn received(&mut self, bytes: &[u8], now: u64, out: &mut NetworkOutput);

    /// The connection closed, for `reason`.
    fn disconnected(&mut self, reason: &str, now: u64, out: &mut NetworkOutput);

    /// Time passed (at least once a second while connected).
    fn tick(&mut self, now: u64, out: &mut NetworkOutput);

    /// Approved orders in host ids: send them, or reject what cannot go.
    fn submit_orders(&mut self, orders: &[OrderCommand], now: u64, out: &mut NetworkOutput);

    /// The host is stopping: end the session politely (log out), then
    /// close the connection once the venue answers.
    fn stop(&mut self, now: u64, out: &mut NetworkOutput);

    /// Serialise the session (sequence numbers, ids, open orders).
    fn save_state(&self) -> Vec<u8>;

    /// Restore state from `save_state`, after `new` with the same config.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String>;
}

/// A market-data processor: derives bars and signals from each market batch
/// before the strategies get it (see [`crate::signals`] for signal names).
pub trait Processor: Sized + 'static {
    /// Build the processor from its configuration; an error fails its `init`.
    fn new(config: &Config) -> Result<Self, String>;

    /// A batch (the feed's events, then what the processors before this one
    /// derived, oldest first): push the bars and signals it derives to
    /// `derived`, stamped no later than the batch's last event, about
    /// instruments the batch's definitions named. Anything else is a
    /// contract fault and the host drops the whole output.
    fn process(&mut self, events: &[MarketEvent], derived: &mut Vec<MarketEvent>);

    /// Serialise state (running indicators, open bars) so it survives
    /// eviction and a hot swap. The default keeps no state.
    fn save_state(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Restore state from `save_state`. The default accepts only empty state.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        accept_no_state("processor", state)
    }
}
