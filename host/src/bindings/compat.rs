//! Older versions ⇄ the host's (1.3.0): the records of a plugin built
//! against 1.0.0, 1.1.0 or 1.2.0 convert at its boundary, so the rest of the
//! host speaks only [`super::current`].
//!
//! 1.2.0 differs from 1.3.0 only in its trade (no `flags`): a 1.2.0 plugin
//! sees trades without them. A 1.2.0 connector's trades arrive flagged
//! `last` (as if each stood alone); the host does not group an older
//! connector's trades with the book deltas around them (`WholeGroups`).
//!
//! 1.1.0 differs from 1.2.0 only in its market event: a 1.1.0 plugin never
//! sees a `signal` (1.2.0's processors derive them).
//!
//! Everything of 1.0.0 exists in 1.3.0 unchanged in shape but the trade.
//! What later versions added is dropped on the way to a 1.0.0 plugin: a
//! `fill` book delta (it changes no book), a status change and a signal are
//! not delivered, and a depth snapshot arrives as the quote of its best
//! levels (when both sides have one). Book-delta and trade flags are not
//! delivered.

use super::current::strategy::tradsys::plugins::types as new;
use super::v1_0::strategy::tradsys::plugins::types as old;
use super::v1_1::types as v1_1;
use super::v1_2::types as v1_2;

/// `From` both ways between records of the same fields.
macro_rules! same_record {
    ($($name:ident { $($field:ident),* $(,)? })*) => {$(
        impl From<&old::$name> for new::$name {
            fn from(r: &old::$name) -> Self {
                Self { $($field: (&r.$field).into_same()),* }
            }
        }
        impl From<&new::$name> for old::$name {
            fn from(r: &new::$name) -> Self {
                Self { $($field: (&r.$field).into_same()),* }
            }
        }
    )*};
}

/// `From` both ways between enums of the same cases.
macro_rules! same_enum {
    ($($name:ident { $($case:ident),* $(,)? })*) => {$(
        impl From<&old::$name> for new::$name {
            fn from(e: &old::$name) -> Self {
                match e { $(old::$name::$case => Self::$case),* }
            }
        }
        impl From<&new::$name> for old::$name {
            fn from(e: &new::$name) -> Self {
                match e { $(new::$name::$case => Self::$case),* }
            }
        }
    )*};
}

/// `From` both ways between variants of the same cases, each with a payload.
macro_rules! same_variant {
    ($($name:ident { $($case:ident),* $(,)? })*) => {$(
        impl From<&old::$name> for new::$name {
            fn from(v: &old::$name) -> Self {
                match v { $(old::$name::$case(x) => Self::$case(x.into())),* }
            }
        }
        impl From<&new::$name> for old::$name {
            fn from(v: &new::$name) -> Self {
                match v { $(new::$name::$case(x) => Self::$case(x.into())),* }
            }
        }
    )*};
}

/// A field converted to the same field of the other version: plain values
/// are copied, records, enums, options and lists converted.
trait IntoSame<T> {
    fn into_same(self) -> T;
}

macro_rules! plain {
    ($($t:ty),*) => {$(
        impl IntoSame<$t> for &$t {
            fn into_same(self) -> $t {
                self.clone()
            }
        }
    )*};
}
plain!(u8, u32, u64, i64, bool, String);

impl<'a, A, B> IntoSame<B> for &'a A
where
    B: From<&'a A>,
    A: Converted,
{
    fn into_same(self) -> B {
        B::from(self)
    }
}

impl<'a, A, B> IntoSame<Option<B>> for &'a Option<A>
where
    B: From<&'a A>,
{
    fn into_same(self) -> Option<B> {
        self.as_ref().map(B::from)
    }
}

impl<'a, A, B> IntoSame<Vec<B>> for &'a Vec<A>
where
    B: From<&'a A>,
{
    fn into_same(self) -> Vec<B> {
        self.iter().map(B::from).collect()
    }
}

/// Types of either version that convert (keeps the blanket impl above off
/// the plain types).
trait Converted {}

macro_rules! converted {
    ($($name:ident),*) => {$(
        impl Converted for old::$name {}
        impl Converted for new::$name {}
    )*};
}
converted!(
    Side,
    OrderType,
    TimeInForce,
    RejectReason,
    InstrumentDefinition,
    Quote,
    Trade,
    Bar,
    NewOrder,
    CancelOrder,
    ModifyOrder,
    OrderCommand,
    Rejection,
    OrderAccepted,
    OrderRejected,
    Fill,
    OrderCanceled,
    OrderModified,
    OrderEvent,
    Position,
    OpenOrder,
    LastPrice,
    Account,
    RiskContext,
    Verdict,
    DepthLevel,
    BookDepth
);

same_enum! {
    Side { Buy, Sell }
    OrderType { Limit, Market }
    TimeInForce { Gtc, Ioc, Fok }
    RejectReason {
        NotionalLimit, QuantityLimit, PriceCollar, PositionLimit, RateLimit, InvalidOrder,
        UnknownOrder, FillOrKillUnfilled, NoLiquidity, ValidatorFault, InstrumentHalted, Other
    }
}

same_record! {
    InstrumentDefinition { id, symbol, tick_size, lot_size, price_precision, size_precision, multiplier }
    Quote { instrument, ts, bid_price, bid_size, ask_price, ask_size }
    Bar { instrument, ts, open, high, low, close, volume }
    NewOrder { id, instrument, side, order_type, time_in_force, price, quantity }
    CancelOrder { id, instrument }
    ModifyOrder { id, instrument, price, quantity }
    Rejection { reason, message }
    OrderAccepted { id, instrument, ts }
    OrderRejected { id, instrument, ts, rejection }
    Fill { id, instrument, ts, side, price, quantity, leaves_quantity, maker }
    OrderCanceled { id, instrument, ts, canceled_quantity }
    OrderModified { id, instrument, ts, price, leaves_quantity }
    Position { instrument, quantity, average_price }
    OpenOrder { id, instrument, side, price, leaves_quantity }
    LastPrice { instrument, price }
    Account { cash, realized_pnl }
    RiskContext { now, strategy, positions, open_orders, last_prices, account, instruments }
    DepthLevel { price, quantity, orders }
    BookDepth { instrument, bids, asks }
}

same_variant! {
    OrderCommand { Submit, Cancel, Modify }
    OrderEvent { Accepted, Rejected, Filled, Canceled, Modified }
}

impl From<&old::Trade> for new::Trade {
    fn from(t: &old::Trade) -> Self {
        Self {
            instrument: t.instrument,
            ts: t.ts,
            price: t.price,
            size: t.size,
            aggressor: t.aggressor.as_ref().map(Into::into),
            flags: new::BookFlags::LAST,
        }
    }
}

impl From<&new::Trade> for old::Trade {
    fn from(t: &new::Trade) -> Self {
        Self {
            instrument: t.instrument,
            ts: t.ts,
            price: t.price,
            size: t.size,
            aggressor: t.aggressor.as_ref().map(Into::into),
        }
    }
}

/// 1.2.0's trade: 1.3.0's without its flags.
fn trade_to_v1_2(t: &new::Trade) -> v1_2::Trade {
    v1_2::Trade {
        instrument: t.instrument,
        ts: t.ts,
        price: t.price,
        size: t.size,
        aggressor: t.aggressor,
    }
}

/// A trade of a 1.2.0 (or 1.1.0) connector: it stands alone (`last`).
fn trade_from_v1_2(t: v1_2::Trade) -> new::Trade {
    new::Trade {
        instrument: t.instrument,
        ts: t.ts,
        price: t.price,
        size: t.size,
        aggressor: t.aggressor,
        flags: new::BookFlags::LAST,
    }
}

impl From<&old::Verdict> for new::Verdict {
    fn from(v: &old::Verdict) -> Self {
        match v {
            old::Verdict::Approve => Self::Approve,
            old::Verdict::Reject(r) => Self::Reject(r.into()),
        }
    }
}

/// Market events as a 1.0.0 plugin sees them (see the module docs for what
/// it cannot see).
pub fn market_events_to_v1_0(events: &[new::MarketEvent]) -> Vec<old::MarketEvent> {
    events.iter().filter_map(market_event_to_v1_0).collect()
}

fn market_event_to_v1_0(event: &new::MarketEvent) -> Option<old::MarketEvent> {
    Some(match event {
        new::MarketEvent::Instrument(d) => old::MarketEvent::Instrument(d.into()),
        new::MarketEvent::Quote(q) => old::MarketEvent::Quote(q.into()),
        new::MarketEvent::Trade(t) => old::MarketEvent::Trade(t.into()),
        new::MarketEvent::Bar(b) => old::MarketEvent::Bar(b.into()),
        new::MarketEvent::BookDelta(d) => {
            let action = match d.action {
                new::BookAction::Add => old::BookAction::Add,
                new::BookAction::Modify => old::BookAction::Modify,
                new::BookAction::Cancel => old::BookAction::Cancel,
                new::BookAction::Clear => old::BookAction::Clear,
                new::BookAction::Fill => return None,
            };
            old::MarketEvent::BookDelta(old::BookDelta {
                instrument: d.instrument,
                ts: d.ts,
                action,
                side: (&d.side).into(),
                price: d.price,
                size: d.size,
                order_id: d.order_id,
            })
        }
        new::MarketEvent::Depth(d) => {
            let (bid, ask) = (d.bids.first()?, d.asks.first()?);
            old::MarketEvent::Quote(old::Quote {
                instrument: d.instrument,
                ts: d.ts,
                bid_price: bid.price,
                bid_size: bid.quantity,
                ask_price: ask.price,
                ask_size: ask.quantity,
            })
        }
        new::MarketEvent::Status(_) | new::MarketEvent::Signal(_) => return None,
    })
}

/// Market events of a 1.0.0 connector in the host's version (every 1.0.0
/// event exists in 1.1.0). 1.0.0 had no flags: each of its book deltas is a
/// whole change (`last`).
pub fn market_events_from_v1_0(events: &[old::MarketEvent]) -> Vec<new::MarketEvent> {
    events
        .iter()
        .map(|event| match event {
            old::MarketEvent::Instrument(d) => new::MarketEvent::Instrument(d.into()),
            old::MarketEvent::Quote(q) => new::MarketEvent::Quote(q.into()),
            old::MarketEvent::Trade(t) => new::MarketEvent::Trade(t.into()),
            old::MarketEvent::Bar(b) => new::MarketEvent::Bar(b.into()),
            old::MarketEvent::BookDelta(d) => new::MarketEvent::BookDelta(new::BookDelta {
                instrument: d.instrument,
                ts: d.ts,
                action: match d.action {
                    old::BookAction::Add => new::BookAction::Add,
                    old::BookAction::Modify => new::BookAction::Modify,
                    old::BookAction::Cancel => new::BookAction::Cancel,
                    old::BookAction::Clear => new::BookAction::Clear,
                },
                side: (&d.side).into(),
                price: d.price,
                size: d.size,
                order_id: d.order_id,
                flags: new::BookFlags::LAST,
            }),
        })
        .collect()
}

/// Market events as a 1.1.0 plugin sees them: all but signals.
pub fn market_events_to_v1_1(events: &[new::MarketEvent]) -> Vec<v1_1::MarketEvent> {
    events
        .iter()
        .filter_map(|event| {
            Some(match event {
                new::MarketEvent::Instrument(d) => v1_1::MarketEvent::Instrument(d.clone()),
                new::MarketEvent::Quote(q) => v1_1::MarketEvent::Quote(*q),
                new::MarketEvent::Trade(t) => v1_1::MarketEvent::Trade(trade_to_v1_2(t)),
                new::MarketEvent::Bar(b) => v1_1::MarketEvent::Bar(*b),
                new::MarketEvent::BookDelta(d) => v1_1::MarketEvent::BookDelta(*d),
                new::MarketEvent::Depth(d) => v1_1::MarketEvent::Depth(d.clone()),
                new::MarketEvent::Status(s) => v1_1::MarketEvent::Status(*s),
                new::MarketEvent::Signal(_) => return None,
            })
        })
        .collect()
}

/// Market events of a 1.1.0 connector in the host's version (each exists
/// unchanged in 1.2.0; a trade stands alone).
pub fn market_events_from_v1_1(events: Vec<v1_1::MarketEvent>) -> Vec<new::MarketEvent> {
    events
        .into_iter()
        .map(|event| match event {
            v1_1::MarketEvent::Instrument(d) => new::MarketEvent::Instrument(d),
            v1_1::MarketEvent::Quote(q) => new::MarketEvent::Quote(q),
            v1_1::MarketEvent::Trade(t) => new::MarketEvent::Trade(trade_from_v1_2(t)),
            v1_1::MarketEvent::Bar(b) => new::MarketEvent::Bar(b),
            v1_1::MarketEvent::BookDelta(d) => new::MarketEvent::BookDelta(d),
            v1_1::MarketEvent::Depth(d) => new::MarketEvent::Depth(d),
            v1_1::MarketEvent::Status(s) => new::MarketEvent::Status(s),
        })
        .collect()
}

/// Market events as a 1.2.0 plugin sees them: trades without flags.
pub fn market_events_to_v1_2(events: &[new::MarketEvent]) -> Vec<v1_2::MarketEvent> {
    events.iter().map(market_event_to_v1_2).collect()
}

fn market_event_to_v1_2(event: &new::MarketEvent) -> v1_2::MarketEvent {
    match event {
        new::MarketEvent::Instrument(d) => v1_2::MarketEvent::Instrument(d.clone()),
        new::MarketEvent::Quote(q) => v1_2::MarketEvent::Quote(*q),
        new::MarketEvent::Trade(t) => v1_2::MarketEvent::Trade(trade_to_v1_2(t)),
        new::MarketEvent::Bar(b) => v1_2::MarketEvent::Bar(*b),
        new::MarketEvent::BookDelta(d) => v1_2::MarketEvent::BookDelta(*d),
        new::MarketEvent::Depth(d) => v1_2::MarketEvent::Depth(d.clone()),
        new::MarketEvent::Status(s) => v1_2::MarketEvent::Status(*s),
        new::MarketEvent::Signal(s) => v1_2::MarketEvent::Signal(*s),
    }
}

/// Market events of a 1.2.0 plugin (a connector's batch, a processor's
/// output) in the host's version: a trade stands alone (`last`).
pub fn market_events_from_v1_2(events: Vec<v1_2::MarketEvent>) -> Vec<new::MarketEvent> {
    events
        .into_iter()
        .map(|event| match event {
            v1_2::MarketEvent::Instrument(d) => new::MarketEvent::Instrument(d),
            v1_2::MarketEvent::Quote(q) => new::MarketEvent::Quote(q),
            v1_2::MarketEvent::Trade(t) => new::MarketEvent::Trade(trade_from_v1_2(t)),
            v1_2::MarketEvent::Bar(b) => new::MarketEvent::Bar(b),
            v1_2::MarketEvent::BookDelta(d) => new::MarketEvent::BookDelta(d),
            v1_2::MarketEvent::Depth(d) => new::MarketEvent::Depth(d),
            v1_2::MarketEvent::Status(s) => new::MarketEvent::Status(s),
            v1_2::MarketEvent::Signal(s) => new::MarketEvent::Signal(s),
        })
        .collect()
}

/// A list of records in the other version.
pub fn all<'a, A, B: From<&'a A>>(items: &'a [A]) -> Vec<B> {
    items.iter().map(B::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_survives_the_round_trip() {
        let command = new::OrderCommand::Submit(new::NewOrder {
            id: 7,
            instrument: 2,
            side: new::Side::Sell,
            order_type: new::OrderType::Limit,
            time_in_force: new::TimeInForce::Ioc,
            price: 1_250_000_000,
            quantity: 3_000_000_000,
        });
        let back = new::OrderCommand::from(&old::OrderCommand::from(&command));
        assert_eq!(format!("{back:?}"), format!("{command:?}"));
    }

    #[test]
    fn a_1_0_plugin_sees_a_depth_snapshot_as_its_best_quote_and_no_fills_or_status() {
        let level = |price, quantity| new::DepthLevel {
            price,
            quantity,
            orders: 1,
        };
        let events = [
            new::MarketEvent::Depth(new::DepthSnapshot {
                instrument: 0,
                ts: 5,
                bids: vec![level(99, 4), level(98, 1)],
                asks: vec![level(101, 2)],
            }),
            new::MarketEvent::Status(new::StatusChange {
                instrument: 0,
                ts: 6,
                status: new::TradingStatus::Halted,
            }),
            new::MarketEvent::BookDelta(new::BookDelta {
                instrument: 0,
                ts: 7,
                action: new::BookAction::Fill,
                side: new::Side::Buy,
                price: 99,
                size: 1,
                order_id: 3,
                flags: new::BookFlags::LAST,
            }),
        ];
        let seen = market_events_to_v1_0(&events);
        assert_eq!(seen.len(), 1);
        let old::MarketEvent::Quote(q) = &seen[0] else {
            panic!("expected a quote, got {seen:?}")
        };
        assert_eq!(
            (q.bid_price, q.bid_size, q.ask_price, q.ask_size),
            (99, 4, 101, 2)
        );
    }
}
