//! Encodings for `save-state` / `load-state`.
//!
//! Plugins choose their own state format. The short way is serde: derive
//! `Serialize` and `Deserialize` for what the plugin keeps and call [`save`]
//! and [`load`] with a format version ([`crate::keeper::Keeper`] is
//! serializable too):
//!
//! ```
//! use std::collections::BTreeMap;
//! use tradsys_sdk::keeper::Keeper;
//! use tradsys_sdk::state;
//!
//! let (keeper, mids) = (Keeper::default(), BTreeMap::from([(7u32, vec![100i64, 101])]));
//! let bytes = state::save(1, &(&keeper, &mids));
//! let (k, m): (Keeper, BTreeMap<u32, Vec<i64>>) = state::load(1, &bytes).unwrap();
//! assert_eq!((k, m), (keeper, mids));
//! assert_eq!(
//!     state::load::<(Keeper, BTreeMap<u32, Vec<i64>>)>(2, &bytes).unwrap_err(),
//!     "state format 1, this version reads 2"
//! );
//! ```
//!
//! [`StateWriter`] and [`StateReader`] write and read by hand (a version
//! byte, then integers, strings and the WIT event records), short and safe
//! to decode, for a format that must stay byte for byte.

use crate::{
    Bar, BookAction, BookDelta, BookFlags, DepthLevel, DepthSnapshot, Fill, InstrumentDefinition,
    MarketEvent, OrderAccepted, OrderCanceled, OrderEvent, OrderModified, OrderRejected, Quote,
    RejectReason, Rejection, Side, Signal, StatusChange, Trade, TradingStatus,
};

/// `value` after the format byte `format`, in postcard's compact encoding
/// (integers as varints): what [`load`] reads.
pub fn save<T: serde::Serialize + ?Sized>(format: u8, value: &T) -> Vec<u8> {
    // Writing to a vector fails only for a type whose Serialize fails.
    postcard::to_extend(value, vec![format]).expect("a serializable state")
}

/// Read what [`save`] wrote: refuse any format byte but `format` (naming
/// both), a truncated or garbled value, and trailing bytes.
pub fn load<T: serde::de::DeserializeOwned>(format: u8, bytes: &[u8]) -> Result<T, String> {
    let mut r = StateReader::new(bytes);
    r.format(format)?;
    let (value, rest) =
        postcard::take_from_bytes(r.bytes).map_err(|e| format!("state: cannot decode: {e}"))?;
    match rest.len() {
        0 => Ok(value),
        n => Err(format!("state has {n} unexpected trailing bytes")),
    }
}

/// The WIT enums a strategy keeps in its state, serializable: as serde's
/// unit variants (`"Buy"` in JSON, an index in postcard).
mod wit_serde {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::{Side, TimeInForce};

    macro_rules! by_repr {
        ($wit:ident, $name:literal, $repr:ident { $($variant:ident),* }) => {
            #[derive(Serialize, Deserialize)]
            #[serde(rename = $name)]
            enum $repr { $($variant),* }

            impl Serialize for $wit {
                fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    match self { $($wit::$variant => $repr::$variant),* }.serialize(s)
                }
            }

            impl<'de> Deserialize<'de> for $wit {
                fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    Ok(match $repr::deserialize(d)? { $($repr::$variant => $wit::$variant),* })
                }
            }
        };
    }

    by_repr!(Side, "Side", SideRepr { Buy, Sell });
    by_repr!(
        TimeInForce,
        "TimeInForce",
        TimeInForceRepr { Gtc, Ioc, Fok }
    );
}

/// Appends little-endian values to a buffer.
#[derive(Debug, Default)]
pub struct StateWriter {
    bytes: Vec<u8>,
}

impl StateWriter {
    /// Append a `u8`.
    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.bytes.push(value);
        self
    }

    /// Append a `u32`.
    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// Append a `u64`.
    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// Append an `i64`.
    pub fn i64(&mut self, value: i64) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// Append an `f64`.
    pub fn f64(&mut self, value: f64) -> &mut Self {
        self.u64(value.to_bits())
    }

    /// Append a `bool` (one byte).
    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.u8(u8::from(value))
    }

    /// Append a side (one byte: 0 buy, 1 sell).
    pub fn side(&mut self, side: Side) -> &mut Self {
        self.u8(side_code(side))
    }

    /// Append a presence flag, then the value with `write` if there is one.
    pub fn option<T>(&mut self, value: Option<T>, write: impl FnOnce(&mut Self, T)) -> &mut Self {
        self.bool(value.is_some());
        if let Some(value) = value {
            write(self, value);
        }
        self
    }

    /// Append a byte string: its length as a `u32`, then the bytes.
    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        let len = u32::try_from(value.len()).expect("state field over 4 GiB");
        self.u32(len);
        self.bytes.extend_from_slice(value);
        self
    }

    /// Append a string (as [`bytes`](Self::bytes) of its UTF-8).
    pub fn str(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    /// Append a market event (any variant), for a plugin that buffers events.
    pub fn market_event(&mut self, event: &MarketEvent) -> &mut Self {
        match event {
            MarketEvent::Instrument(d) => {
                self.u8(0).u32(d.id).str(&d.symbol).i64(d.tick_size);
                self.i64(d.lot_size)
                    .u8(d.price_precision)
                    .u8(d.size_precision);
                self.i64(d.multiplier)
            }
            MarketEvent::Quote(q) => {
                self.u8(1).u32(q.instrument).u64(q.ts);
                self.i64(q.bid_price)
                    .i64(q.bid_size)
                    .i64(q.ask_price)
                    .i64(q.ask_size)
            }
            // Tag 2 was a trade before 1.3.0 (no flags); it is still read.
            MarketEvent::Trade(t) => {
                self.u8(9)
                    .u32(t.instrument)
                    .u64(t.ts)
                    .i64(t.price)
                    .i64(t.size);
                self.u8(t.aggressor.map_or(0, |side| 1 + side_code(side)))
                    .u8(t.flags.bits())
            }
            MarketEvent::Bar(b) => {
                self.u8(3).u32(b.instrument).u64(b.ts);
                self.i64(b.open)
                    .i64(b.high)
                    .i64(b.low)
                    .i64(b.close)
                    .i64(b.volume)
            }
            // Tag 4 was a 1.0.0 book delta (no flags); it is still read.
            MarketEvent::BookDelta(d) => {
                self.u8(5).u32(d.instrument).u64(d.ts);
                self.u8(d.action as u8).side(d.side);
                self.i64(d.price).i64(d.size).u64(d.order_id);
                self.u8(d.flags.bits())
            }
            MarketEvent::Depth(d) => {
                self.u8(6).u32(d.instrument).u64(d.ts);
                for levels in [&d.bids, &d.asks] {
                    self.u32(levels.len() as u32);
                    for l in levels {
                        self.i64(l.price).i64(l.quantity).u32(l.orders);
                    }
                }
                self
            }
            MarketEvent::Status(s) => self.u8(7).u32(s.instrument).u64(s.ts).u8(s.status as u8),
            MarketEvent::Signal(s) => self
                .u8(8)
                .u32(s.instrument)
                .u64(s.ts)
                .u32(s.name)
                .f64(s.value),
        }
    }

    /// Append an execution report (any variant), for a plugin that holds
    /// reports not yet delivered (a venue connector).
    pub fn order_event(&mut self, event: &OrderEvent) -> &mut Self {
        match event {
            OrderEvent::Accepted(e) => self.u8(0).u64(e.id).u32(e.instrument).u64(e.ts),
            OrderEvent::Rejected(e) => {
                self.u8(1).u64(e.id).u32(e.instrument).u64(e.ts);
                self.u8(e.rejection.reason as u8);
                match &e.rejection.message {
                    Some(message) => self.u8(1).str(message),
                    None => self.u8(0),
                }
            }
            OrderEvent::Filled(f) => {
                self.u8(2)
                    .u64(f.id)
                    .u32(f.instrument)
                    .u64(f.ts)
                    .side(f.side);
                self.i64(f.price)
                    .i64(f.quantity)
                    .i64(f.leaves_quantity)
                    .bool(f.maker)
            }
            OrderEvent::Canceled(e) => {
                self.u8(3).u64(e.id).u32(e.instrument).u64(e.ts);
                self.i64(e.canceled_quantity)
            }
            OrderEvent::Modified(e) => {
                self.u8(4).u64(e.id).u32(e.instrument).u64(e.ts);
                self.i64(e.price).i64(e.leaves_quantity)
            }
        }
    }

    /// The encoded bytes.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads values written by [`StateWriter`], failing cleanly on short input.
#[derive(Debug)]
pub struct StateReader<'a> {
    bytes: &'a [u8],
}

impl<'a> StateReader<'a> {
    /// Read from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        if self.bytes.len() < N {
            return Err(format!(
                "state truncated: needed {N} more bytes, {} left",
                self.bytes.len()
            ));
        }
        let (head, rest) = self.bytes.split_at(N);
        self.bytes = rest;
        Ok(head.try_into().expect("split at N"))
    }

    /// Read the leading format byte and refuse any but `expected`, naming both.
    pub fn format(&mut self, expected: u8) -> Result<(), String> {
        match self.u8()? {
            version if version == expected => Ok(()),
            version => Err(format!(
                "state format {version}, this version reads {expected}"
            )),
        }
    }

    /// Read a `u8`.
    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take::<1>()?[0])
    }

    /// Read a `u32`.
    pub fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    /// Read a `u64`.
    pub fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take()?))
    }

    /// Read an `i64`.
    pub fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.take()?))
    }

    /// Read an `f64`.
    pub fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(self.u64()?))
    }

    /// Read a `bool`; any byte but 0 or 1 is an error.
    pub fn bool(&mut self) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(format!("state: bad boolean {other}")),
        }
    }

    /// Read a side written by [`StateWriter::side`].
    pub fn side(&mut self) -> Result<Side, String> {
        side_from_code(self.u8()?)
    }

    /// Read what [`StateWriter::option`] wrote, the value with `read`.
    pub fn option<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        if self.bool()? {
            read(self).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Read a byte string written by [`StateWriter::bytes`].
    pub fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = self.u32()? as usize;
        if self.bytes.len() < len {
            return Err(format!(
                "state truncated: a field of {len} bytes, {} left",
                self.bytes.len()
            ));
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    /// Read a string written by [`StateWriter::str`].
    pub fn string(&mut self) -> Result<String, String> {
        let bytes = self.bytes()?;
        String::from_utf8(bytes.to_vec()).map_err(|e| format!("state: a string is not UTF-8: {e}"))
    }

    /// Read a market event written by [`StateWriter::market_event`].
    pub fn market_event(&mut self) -> Result<MarketEvent, String> {
        Ok(match self.u8()? {
            0 => MarketEvent::Instrument(InstrumentDefinition {
                id: self.u32()?,
                symbol: self.string()?,
                tick_size: self.i64()?,
                lot_size: self.i64()?,
                price_precision: self.u8()?,
                size_precision: self.u8()?,
                multiplier: self.i64()?,
            }),
            1 => MarketEvent::Quote(Quote {
                instrument: self.u32()?,
                ts: self.u64()?,
                bid_price: self.i64()?,
                bid_size: self.i64()?,
                ask_price: self.i64()?,
                ask_size: self.i64()?,
            }),
            tag @ (2 | 9) => MarketEvent::Trade(Trade {
                instrument: self.u32()?,
                ts: self.u64()?,
                price: self.i64()?,
                size: self.i64()?,
                aggressor: match self.u8()? {
                    0 => None,
                    code => Some(side_from_code(code - 1)?),
                },
                flags: match tag {
                    2 => BookFlags::LAST,
                    _ => BookFlags::from_bits_retain(self.u8()? & 0b11),
                },
            }),
            3 => MarketEvent::Bar(Bar {
                instrument: self.u32()?,
                ts: self.u64()?,
                open: self.i64()?,
                high: self.i64()?,
                low: self.i64()?,
                close: self.i64()?,
                volume: self.i64()?,
            }),
            tag @ (4 | 5) => MarketEvent::BookDelta(BookDelta {
                instrument: self.u32()?,
                ts: self.u64()?,
                action: book_action(self.u8()?)?,
                side: self.side()?,
                price: self.i64()?,
                size: self.i64()?,
                order_id: self.u64()?,
                flags: match tag {
                    4 => BookFlags::empty(),
                    _ => BookFlags::from_bits_retain(self.u8()? & 0b11),
                },
            }),
            6 => {
                let (instrument, ts) = (self.u32()?, self.u64()?);
                let mut sides = [Vec::new(), Vec::new()];
                for levels in &mut sides {
                    let n = self.u32()?;
                    for _ in 0..n {
                        levels.push(DepthLevel {
                            price: self.i64()?,
                            quantity: self.i64()?,
                            orders: self.u32()?,
                        });
                    }
                }
                let [bids, asks] = sides;
                MarketEvent::Depth(DepthSnapshot {
                    instrument,
                    ts,
                    bids,
                    asks,
                })
            }
            7 => MarketEvent::Status(StatusChange {
                instrument: self.u32()?,
                ts: self.u64()?,
                status: trading_status(self.u8()?)?,
            }),
            8 => MarketEvent::Signal(Signal {
                instrument: self.u32()?,
                ts: self.u64()?,
                name: self.u32()?,
                value: self.f64()?,
            }),
            tag => return Err(format!("state: unknown market event tag {tag}")),
        })
    }

    /// Read an execution report written by [`StateWriter::order_event`].
    pub fn order_event(&mut self) -> Result<OrderEvent, String> {
        Ok(match self.u8()? {
            0 => OrderEvent::Accepted(OrderAccepted {
                id: self.u64()?,
                instrument: self.u32()?,
                ts: self.u64()?,
            }),
            1 => OrderEvent::Rejected(OrderRejected {
                id: self.u64()?,
                instrument: self.u32()?,
                ts: self.u64()?,
                rejection: Rejection {
                    reason: reject_reason(self.u8()?)?,
                    message: match self.bool()? {
                        true => Some(self.string()?),
                        false => None,
                    },
                },
            }),
            2 => OrderEvent::Filled(Fill {
                id: self.u64()?,
                instrument: self.u32()?,
                ts: self.u64()?,
                side: self.side()?,
                price: self.i64()?,
                quantity: self.i64()?,
                leaves_quantity: self.i64()?,
                maker: self.bool()?,
            }),
            3 => OrderEvent::Canceled(OrderCanceled {
                id: self.u64()?,
                instrument: self.u32()?,
                ts: self.u64()?,
                canceled_quantity: self.i64()?,
            }),
            4 => OrderEvent::Modified(OrderModified {
                id: self.u64()?,
                instrument: self.u32()?,
                ts: self.u64()?,
                price: self.i64()?,
                leaves_quantity: self.i64()?,
            }),
            tag => return Err(format!("state: unknown order event tag {tag}")),
        })
    }

    /// Succeeds only when every byte was read.
    pub fn finish(self) -> Result<(), String> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "state has {} unexpected trailing bytes",
                self.bytes.len()
            ))
        }
    }
}

fn side_code(side: Side) -> u8 {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

fn side_from_code(code: u8) -> Result<Side, String> {
    match code {
        0 => Ok(Side::Buy),
        1 => Ok(Side::Sell),
        other => Err(format!("state: bad side {other}")),
    }
}

fn book_action(code: u8) -> Result<BookAction, String> {
    [
        BookAction::Add,
        BookAction::Modify,
        BookAction::Cancel,
        BookAction::Clear,
        BookAction::Fill,
    ]
    .into_iter()
    .find(|a| *a as u8 == code)
    .ok_or_else(|| format!("state: bad book action {code}"))
}

fn trading_status(code: u8) -> Result<TradingStatus, String> {
    [
        TradingStatus::PreOpen,
        TradingStatus::Trading,
        TradingStatus::Halted,
        TradingStatus::Closed,
    ]
    .into_iter()
    .find(|s| *s as u8 == code)
    .ok_or_else(|| format!("state: bad trading status {code}"))
}

fn reject_reason(code: u8) -> Result<RejectReason, String> {
    use RejectReason::*;
    [
        NotionalLimit,
        QuantityLimit,
        PriceCollar,
        PositionLimit,
        RateLimit,
        InvalidOrder,
        UnknownOrder,
        FillOrKillUnfilled,
        NoLiquidity,
        ValidatorFault,
        InstrumentHalted,
        Other,
    ]
    .into_iter()
    .find(|r| *r as u8 == code)
    .ok_or_else(|| format!("state: bad reject reason {code}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TimeInForce;

    #[test]
    fn serde_states_keep_the_wit_enums_and_refuse_garbage() {
        let value = (
            Side::Sell,
            [TimeInForce::Gtc, TimeInForce::Fok],
            Some(Side::Buy),
        );
        let bytes = save(4, &value);
        assert_eq!(load(4, &bytes), Ok(value));
        let mut bad = bytes.clone();
        bad[1] = 7; // no such side
        let err = load::<(Side, [TimeInForce; 2], Option<Side>)>(4, &bad).unwrap_err();
        assert!(err.starts_with("state: cannot decode"), "{err}");
        let longer = [&bytes[..], &[0]].concat();
        assert_eq!(
            load::<(Side, [TimeInForce; 2], Option<Side>)>(4, &longer),
            Err("state has 1 unexpected trailing bytes".to_string())
        );
    }

    #[test]
    fn round_trips_and_refuses_short_input() {
        let mut w = StateWriter::default();
        w.u8(1).u32(7).i64(-5).f64(1.5);
        let bytes = w.finish();
        let mut r = StateReader::new(&bytes);
        assert_eq!(
            (r.u8(), r.u32(), r.i64(), r.f64()),
            (Ok(1), Ok(7), Ok(-5), Ok(1.5))
        );
        assert!(r.finish().is_ok());
        assert!(StateReader::new(&bytes[..3]).u32().is_err());

        let mut w = StateWriter::default();
        w.option(Some(-7i64), |w, v| {
            w.i64(v);
        })
        .option(None::<i64>, |w, v| {
            w.i64(v);
        })
        .side(Side::Sell);
        let bytes = w.finish();
        let mut r = StateReader::new(&bytes);
        assert_eq!(r.option(|r| r.i64()), Ok(Some(-7)));
        assert_eq!(r.option(|r| r.i64()), Ok(None));
        assert!(matches!(r.side(), Ok(Side::Sell)));
        assert!(StateReader::new(&[2]).side().is_err());
    }

    fn every_event() -> (Vec<MarketEvent>, Vec<OrderEvent>) {
        let market = vec![
            MarketEvent::Instrument(InstrumentDefinition {
                id: 3,
                symbol: "ESH4".into(),
                tick_size: 250_000_000,
                lot_size: 1_000_000_000,
                price_precision: 2,
                size_precision: 0,
                multiplier: 50,
            }),
            MarketEvent::Quote(Quote {
                instrument: 3,
                ts: 9,
                bid_price: 1,
                bid_size: 2,
                ask_price: 3,
                ask_size: 4,
            }),
            MarketEvent::Trade(Trade {
                instrument: 3,
                ts: 10,
                price: -5,
                size: 6,
                aggressor: Some(Side::Sell),
                flags: BookFlags::empty(),
            }),
            MarketEvent::Trade(Trade {
                instrument: 3,
                ts: 11,
                price: 5,
                size: 6,
                aggressor: None,
                flags: BookFlags::LAST,
            }),
            MarketEvent::Bar(Bar {
                instrument: 1,
                ts: 12,
                open: 1,
                high: 4,
                low: 0,
                close: 2,
                volume: 7,
            }),
            MarketEvent::BookDelta(BookDelta {
                instrument: 1,
                ts: 13,
                action: BookAction::Clear,
                side: Side::Buy,
                price: 8,
                size: 9,
                order_id: u64::MAX,
                flags: BookFlags::LAST | BookFlags::SNAPSHOT,
            }),
            MarketEvent::Depth(DepthSnapshot {
                instrument: 2,
                ts: 14,
                bids: vec![DepthLevel {
                    price: 3,
                    quantity: 4,
                    orders: 5,
                }],
                asks: Vec::new(),
            }),
            MarketEvent::Status(StatusChange {
                instrument: 2,
                ts: 15,
                status: TradingStatus::Halted,
            }),
            MarketEvent::Signal(Signal {
                instrument: 2,
                ts: 16,
                name: 3,
                value: -0.25,
            }),
        ];
        let orders = vec![
            OrderEvent::Accepted(OrderAccepted {
                id: 1,
                instrument: 2,
                ts: 3,
            }),
            OrderEvent::Rejected(OrderRejected {
                id: 1,
                instrument: 2,
                ts: 3,
                rejection: Rejection {
                    reason: RejectReason::Other,
                    message: Some("no — thanks".into()),
                },
            }),
            OrderEvent::Rejected(OrderRejected {
                id: 1,
                instrument: 2,
                ts: 3,
                rejection: Rejection {
                    reason: RejectReason::NotionalLimit,
                    message: None,
                },
            }),
            OrderEvent::Filled(Fill {
                id: 4,
                instrument: 0,
                ts: 5,
                side: Side::Sell,
                price: 6,
                quantity: 7,
                leaves_quantity: 0,
                maker: true,
            }),
            OrderEvent::Canceled(OrderCanceled {
                id: 4,
                instrument: 0,
                ts: 5,
                canceled_quantity: 8,
            }),
            OrderEvent::Modified(OrderModified {
                id: 4,
                instrument: 0,
                ts: 5,
                price: 9,
                leaves_quantity: 10,
            }),
        ];
        (market, orders)
    }

    #[test]
    fn every_event_variant_round_trips_and_truncation_is_refused() {
        let (market, orders) = every_event();
        let mut w = StateWriter::default();
        for e in &market {
            w.market_event(e);
        }
        for e in &orders {
            w.order_event(e);
        }
        let bytes = w.finish();
        let mut r = StateReader::new(&bytes);
        let read_market: Vec<_> = market.iter().map(|_| r.market_event().unwrap()).collect();
        let read_orders: Vec<_> = orders.iter().map(|_| r.order_event().unwrap()).collect();
        r.finish().unwrap();
        assert_eq!(format!("{read_market:?}"), format!("{market:?}"));
        assert_eq!(format!("{read_orders:?}"), format!("{orders:?}"));
        for len in 0..bytes.len() {
            let mut r = StateReader::new(&bytes[..len]);
            let all = market.iter().try_for_each(|_| r.market_event().map(drop));
            let all = all.and_then(|()| orders.iter().try_for_each(|_| r.order_event().map(drop)));
            assert!(all.is_err(), "{len} bytes of {} decoded", bytes.len());
        }
        assert!(StateReader::new(&[9]).market_event().is_err());
        assert!(StateReader::new(&[2, 0, 0, 0, 0]).order_event().is_err());
    }

    #[test]
    fn a_trade_saved_before_1_3_reads_back_as_one_that_stands_alone() {
        let mut w = StateWriter::default();
        w.u8(2).u32(3).u64(10).i64(5).i64(6).u8(2);
        let bytes = w.finish();
        let mut r = StateReader::new(&bytes);
        let MarketEvent::Trade(t) = r.market_event().unwrap() else {
            panic!("not a trade")
        };
        r.finish().unwrap();
        assert_eq!((t.instrument, t.ts, t.price, t.size), (3, 10, 5, 6));
        assert_eq!(t.aggressor, Some(Side::Sell));
        assert_eq!(t.flags, BookFlags::LAST);
    }
}
