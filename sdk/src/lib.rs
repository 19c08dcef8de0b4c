//! Write tradsys plugins in Rust.
//!
//! A plugin is a WebAssembly component that implements one kind: a
//! [`Strategy`], a [`RiskValidator`], a [`Matcher`], a [`Connector`] (or a
//! [`NetworkConnector`], a venue's protocol over a connection the host owns)
//! or a [`Processor`] (bars and [`signals`] for the strategies). Implement
//! the trait, call the kind's export macro once, and build the crate with
//! `cargo xtask build-plugins` (or `tradsys plugin build`). This crate is all a
//! plugin author imports.
//!
//! A complete strategy that buys one lot whenever the spread of a quote is a
//! single tick wide:
//!
//! ```
//! use tradsys_sdk::{fixed, Config, MarketEvent, NewOrder, OrderCommand, OrderType, Side, Strategy, TimeInForce};
//!
//! #[derive(Default)]
//! struct TightSpread {
//!     tick: i64,
//!     next_id: u64,
//! }
//!
//! impl Strategy for TightSpread {
//!     fn new(config: &Config) -> Result<Self, String> {
//!         Ok(Self { tick: config.fixed_or("tick", fixed::parse("0.25").unwrap())?, next_id: 0 })
//!     }
//!
//!     fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
//!         for event in events {
//!             if let MarketEvent::Quote(q) = event {
//!                 if q.ask_price - q.bid_price == self.tick {
//!                     self.next_id += 1;
//!                     orders.push(OrderCommand::Submit(NewOrder {
//!                         id: self.next_id,
//!                         instrument: q.instrument,
//!                         side: Side::Buy,
//!                         order_type: OrderType::Limit,
//!                         time_in_force: TimeInForce::Ioc,
//!                         price: q.ask_price,
//!                         quantity: fixed::from_units(1),
//!                     }));
//!                 }
//!             }
//!         }
//!     }
//! }
//!
//! tradsys_sdk::export_strategy!(TightSpread);
//! # fn main() {}
//! ```
//!
//! Prices and quantities are fixed-point `i64` with nine decimals; see
//! [`fixed`]. The host clock, log and config are in [`host`]; compiled
//! natively for unit tests they fall back to a settable per-thread stand-in.
//! Risk validators that need a price history sample one at validation time
//! with [`series`].

#![deny(missing_docs)]

#[doc(hidden)]
pub mod bindings;
mod config;
#[doc(hidden)]
pub mod export;
pub mod fixed;
pub mod host;
pub mod keeper;
mod plugin;
pub mod reconcile;
pub mod series;
pub mod signals;
pub mod state;
#[cfg(not(target_family = "wasm"))]
pub mod testing;

#[doc(hidden)]
pub use bindings as __bindings;
#[doc(hidden)]
pub use export as __export;

pub use bindings::network_connector::exports::tradsys::plugins::network_connector_api::{
    Close, NetworkOutput,
};
pub use bindings::strategy::tradsys::plugins::types::{
    Account, Bar, BookAction, BookDelta, BookDepth, BookFlags, CancelOrder, DepthLevel,
    DepthSnapshot, Fill, InstrumentDefinition, LastPrice, MarketEvent, ModifyOrder, NewOrder,
    OpenOrder, OrderAccepted, OrderCanceled, OrderCommand, OrderEvent, OrderModified,
    OrderRejected, OrderType, Position, Quote, RejectReason, Rejection, RiskContext, Side, Signal,
    StatusChange, TimeInForce, Trade, TradingStatus, Verdict,
};
pub use config::{Config, Params};
pub use plugin::{Connector, Matcher, NetworkConnector, Processor, RiskValidator, Strategy};
/// Order books by order, by price or the touch (the host keeps the same
/// books for the `depth` import; a plugin may keep its own).
pub use tradsys_book as book;
/// `#[derive(Params)]`: see the trait [`Params`].
pub use tradsys_sdk_derive::Params;

// wit-bindgen makes the record; a derive cannot be added to it there.
#[allow(clippy::derivable_impls)]
impl Default for NetworkOutput {
    fn default() -> Self {
        Self {
            send: Vec::new(),
            market: Vec::new(),
            reports: Vec::new(),
            close: None,
        }
    }
}

impl BookFlags {
    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.bits() & other.bits() == other.bits()
    }
}

impl MarketEvent {
    /// Exchange time of the event (`None` for an instrument definition).
    pub fn ts(&self) -> Option<u64> {
        match self {
            Self::Instrument(_) => None,
            Self::Quote(q) => Some(q.ts),
            Self::Trade(t) => Some(t.ts),
            Self::Bar(b) => Some(b.ts),
            Self::BookDelta(d) => Some(d.ts),
            Self::Depth(d) => Some(d.ts),
            Self::Status(s) => Some(s.ts),
            Self::Signal(s) => Some(s.ts),
        }
    }

    /// Instrument of the event (a definition's own id).
    pub fn instrument(&self) -> u32 {
        match self {
            Self::Instrument(d) => d.id,
            Self::Quote(q) => q.instrument,
            Self::Trade(t) => t.instrument,
            Self::Bar(b) => b.instrument,
            Self::BookDelta(d) => d.instrument,
            Self::Depth(d) => d.instrument,
            Self::Status(s) => s.instrument,
            Self::Signal(s) => s.instrument,
        }
    }
}

impl Quote {
    /// The middle of a two-sided quote (rounded toward zero); `None` when a
    /// side is empty.
    pub fn mid(&self) -> Option<i64> {
        (self.bid_size > 0 && self.ask_size > 0)
            .then(|| ((i128::from(self.bid_price) + i128::from(self.ask_price)) / 2) as i64)
    }
}

impl Side {
    /// `quantity` seen from this side: as is for a buy, negated for a sell
    /// (a fill's change to a position).
    pub fn signed(self, quantity: i64) -> i64 {
        match self {
            Side::Buy => quantity,
            Side::Sell => -quantity,
        }
    }
}

impl RejectReason {
    /// A limit on size: quantity, notional or position (an order smaller
    /// than the refused one may pass).
    pub fn is_size_limit(self) -> bool {
        matches!(
            self,
            RejectReason::QuantityLimit | RejectReason::NotionalLimit | RejectReason::PositionLimit
        )
    }
}

impl OrderEvent {
    /// The venue time of the report.
    pub fn ts(&self) -> u64 {
        match self {
            OrderEvent::Accepted(e) => e.ts,
            OrderEvent::Rejected(e) => e.ts,
            OrderEvent::Filled(e) => e.ts,
            OrderEvent::Canceled(e) => e.ts,
            OrderEvent::Modified(e) => e.ts,
        }
    }

    /// Id of the order the report is about.
    pub fn id(&self) -> u64 {
        match self {
            Self::Accepted(e) => e.id,
            Self::Rejected(e) => e.id,
            Self::Filled(e) => e.id,
            Self::Canceled(e) => e.id,
            Self::Modified(e) => e.id,
        }
    }

    /// Instrument of the order the report is about.
    pub fn instrument(&self) -> u32 {
        match self {
            Self::Accepted(e) => e.instrument,
            Self::Rejected(e) => e.instrument,
            Self::Filled(e) => e.instrument,
            Self::Canceled(e) => e.instrument,
            Self::Modified(e) => e.instrument,
        }
    }
}

impl OrderCommand {
    /// The report refusing this command at `ts` with `message`: `other` for
    /// a submit, `unknown-order` for a cancel or modify (what a data-only
    /// connector answers every order).
    pub fn refused(&self, ts: u64, message: &str) -> OrderEvent {
        let reason = match self {
            Self::Submit(_) => RejectReason::Other,
            Self::Cancel(_) | Self::Modify(_) => RejectReason::UnknownOrder,
        };
        OrderEvent::Rejected(OrderRejected {
            id: self.id(),
            instrument: self.instrument(),
            ts,
            rejection: Rejection {
                reason,
                message: Some(message.to_string()),
            },
        })
    }

    /// Id of the order the command creates or targets.
    pub fn id(&self) -> u64 {
        match self {
            Self::Submit(o) => o.id,
            Self::Cancel(c) => c.id,
            Self::Modify(m) => m.id,
        }
    }

    /// Instrument of the order the command creates or targets.
    pub fn instrument(&self) -> u32 {
        match self {
            Self::Submit(o) => o.instrument,
            Self::Cancel(c) => c.instrument,
            Self::Modify(m) => m.instrument,
        }
    }
}
