//! The host's generated bindings: the only `bindgen!` calls, one module per
//! `tradsys:plugins` version the host runs. [`current`] (1.4.0) is what the
//! host speaks everywhere, and drives plugins built against 1.3.0 as well
//! (1.4.0 added imports only); [`v1_2`], [`v1_1`] and [`v1_0`] drive plugins
//! built against 1.2.0, 1.1.0 and 1.0.0, and [`compat`] converts their
//! records at their boundary.
//! Here too: the host's one copy of the id accessors of the order records.

pub mod compat;
pub mod current;
pub mod v1_0;
pub mod v1_1;
pub mod v1_2;

pub use current::matcher::tradsys::plugins::orders::Host as OrdersImports;
pub use current::matcher::tradsys::plugins::venue_feed::{
    Host as VenueFeedImports, PriceBand, Resting as RestingBefore,
};
pub use current::network_connector::exports::tradsys::plugins::network_connector_api::NetworkOutput;
pub use current::strategy::tradsys::plugins::host::{Host as HostImports, LogLevel};
pub use current::strategy::tradsys::plugins::market::Host as MarketImports;
pub use current::strategy::tradsys::plugins::signals::Host as SignalImports;
pub use current::strategy::tradsys::plugins::types;

/// The interface a network connector exports (without its version): a
/// connector kind since 1.3.0, a venue's protocol over a connection the
/// host owns.
pub const NETWORK_CONNECTOR_API: &str = "tradsys:plugins/network-connector-api";

/// The interface a simulated venue imports (without its version) to read
/// each book delta's order as it rested before it (1.4.0).
pub const VENUE_FEED: &str = "tradsys:plugins/venue-feed";

// The host's one copy of the id accessors of the order records (a plugin
// author has the SDK's).
impl types::OrderCommand {
    /// The order the command is about.
    pub fn id(&self) -> u64 {
        match self {
            Self::Submit(o) => o.id,
            Self::Cancel(c) => c.id,
            Self::Modify(m) => m.id,
        }
    }

    /// The instrument the command is about.
    pub fn instrument(&self) -> u32 {
        match self {
            Self::Submit(o) => o.instrument,
            Self::Cancel(c) => c.instrument,
            Self::Modify(m) => m.instrument,
        }
    }
}

impl types::OrderEvent {
    /// The order the report is about.
    pub fn id(&self) -> u64 {
        match self {
            Self::Accepted(e) => e.id,
            Self::Rejected(e) => e.id,
            Self::Filled(e) => e.id,
            Self::Canceled(e) => e.id,
            Self::Modified(e) => e.id,
        }
    }

    /// The instrument the report is about.
    pub fn instrument(&self) -> u32 {
        match self {
            Self::Accepted(e) => e.instrument,
            Self::Rejected(e) => e.instrument,
            Self::Filled(e) => e.instrument,
            Self::Canceled(e) => e.instrument,
            Self::Modified(e) => e.instrument,
        }
    }

    /// Renumber the report to `id`.
    pub fn set_id(&mut self, id: u64) {
        match self {
            Self::Accepted(e) => e.id = id,
            Self::Rejected(e) => e.id = id,
            Self::Filled(e) => e.id = id,
            Self::Canceled(e) => e.id = id,
            Self::Modified(e) => e.id = id,
        }
    }
}

impl types::Side {
    /// `buy` or `sell`, as the journal, the report and the gateway spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
        }
    }
}

impl types::RejectReason {
    /// Its WIT name (`notional-limit`, ...), as the report spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::NotionalLimit => "notional-limit",
            Self::QuantityLimit => "quantity-limit",
            Self::PriceCollar => "price-collar",
            Self::PositionLimit => "position-limit",
            Self::RateLimit => "rate-limit",
            Self::InvalidOrder => "invalid-order",
            Self::UnknownOrder => "unknown-order",
            Self::FillOrKillUnfilled => "fill-or-kill-unfilled",
            Self::NoLiquidity => "no-liquidity",
            Self::ValidatorFault => "validator-fault",
            Self::InstrumentHalted => "instrument-halted",
            Self::Other => "other",
        }
    }
}
