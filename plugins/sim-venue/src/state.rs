//! The venue's state across a swap: every instrument's book (levels or the
//! touch; for a book by order, which the host keeps, its levels while an
//! auction may come), session, resting orders, queues, taken liquidity and
//! last bar. Version 3; a version 2 state (sim-venue 1.1: a book by order's
//! every order) loads with those orders made levels while an auction may
//! come and dropped otherwise, and a version 1 state (sim-venue 1.0.0: a
//! queue of feed orders per order of ours, no sessions) into trading
//! markets.

use std::collections::BTreeMap;

use tradsys_sdk::book::{Detail, Level};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{MarketEvent, Side};

use crate::levels::Levels;
use crate::market::{Market, Resting};
use crate::queue::{Entry, Key, key};
use crate::session::{Phase, Session};

const STATE_VERSION: u8 = 3;

pub(crate) fn save(markets: &BTreeMap<u32, Market>) -> Vec<u8> {
    let mut w = StateWriter::default();
    w.u8(STATE_VERSION).u32(markets.len() as u32);
    for (id, m) in markets {
        w.u32(*id).u8(m.detail() as u8);
        let sides = match (&m.opening, m.detail()) {
            (Some(levels), Detail::Orders) => [levels.side(Side::Buy), levels.side(Side::Sell)],
            (None, Detail::Orders) => [Vec::new(), Vec::new()],
            _ => [m.feed.bids().collect(), m.feed.asks().collect()],
        };
        if m.detail() == Detail::Orders {
            w.bool(m.opening.is_some());
        }
        for levels in sides {
            w.u32(levels.len() as u32);
            for l in levels {
                w.i64(l.price).i64(l.size).u32(l.orders);
            }
        }
        let s = &m.session;
        w.u8(s.phase.code())
            .bool(s.by_status)
            .bool(s.awaiting_open)
            .bool(s.in_auction);
        w.u32(m.resting.len() as u32);
        for r in &m.resting {
            w.u64(r.id)
                .side(r.side)
                .i64(r.price)
                .i64(r.quantity)
                .i64(r.filled)
                .i64(r.ahead);
        }
        let levels: Vec<_> = m.queues.all().collect();
        w.u32(levels.len() as u32);
        for ((side, price), entries) in levels {
            w.u8(side).i64(price).u32(entries.len() as u32);
            for entry in entries {
                match entry {
                    Entry::Feed { id, size } => w.u8(0).u64(*id).i64(*size),
                    Entry::Ours(id) => w.u8(1).u64(*id),
                };
            }
        }
        w.u32(m.taken.len() as u32);
        for ((side, price), q) in &m.taken {
            w.u8(*side).i64(*price).i64(*q);
        }
        w.option(m.bar, |w, b| {
            w.market_event(&MarketEvent::Bar(b));
        });
    }
    w.finish()
}

pub(crate) fn load(state: &[u8]) -> Result<BTreeMap<u32, Market>, String> {
    let mut r = StateReader::new(state);
    let version = r.u8()?;
    if !(1..=STATE_VERSION).contains(&version) {
        return Err(format!(
            "state: format {version}, this sim-venue reads 1 to {STATE_VERSION}"
        ));
    }
    let mut markets = BTreeMap::new();
    for _ in 0..r.u32()? {
        let id = r.u32()?;
        let mut m = Market::new(id);
        read_book(&mut r, &mut m, version)?;
        if version == 1 {
            read_v1_orders(&mut r, &mut m)?;
        } else {
            m.session = Session {
                phase: Phase::from_code(r.u8()?)?,
                by_status: r.bool()?,
                awaiting_open: r.bool()?,
                in_auction: r.bool()?,
            };
            if version == 2 && !m.session.awaiting_open {
                m.opening = None; // its orders were the book: no auction to come
            }
            for _ in 0..r.u32()? {
                m.resting.push(Resting {
                    id: r.u64()?,
                    side: r.side()?,
                    price: r.i64()?,
                    quantity: r.i64()?,
                    filled: r.i64()?,
                    ahead: r.i64()?,
                });
            }
            for _ in 0..r.u32()? {
                let level: Key = (side_code(r.u8()?)?, r.i64()?);
                let mut entries = Vec::new();
                for _ in 0..r.u32()? {
                    entries.push(match r.u8()? {
                        0 => Entry::Feed {
                            id: r.u64()?,
                            size: r.i64()?,
                        },
                        1 => Entry::Ours(r.u64()?),
                        other => return Err(format!("state: bad queue entry {other}")),
                    });
                }
                m.queues.restore(level, entries);
            }
        }
        for _ in 0..r.u32()? {
            m.taken.insert((side_code(r.u8()?)?, r.i64()?), r.i64()?);
        }
        m.bar = match r.bool()? {
            true => match r.market_event()? {
                MarketEvent::Bar(b) => Some(b),
                other => return Err(format!("state: expected a bar, got {other:?}")),
            },
            false => None,
        };
        markets.insert(id, m);
    }
    r.finish()?;
    Ok(markets)
}

fn side_code(code: u8) -> Result<u8, String> {
    match code {
        0 | 1 => Ok(code),
        other => Err(format!("state: bad side {other}")),
    }
}

fn read_book(r: &mut StateReader<'_>, m: &mut Market, version: u8) -> Result<(), String> {
    match r.u8()? {
        3 if version < 3 => {
            // Every order of the book, made levels.
            m.by_order = true;
            let mut levels = Levels::default();
            for _ in 0..r.u32()? {
                let (_order, side) = (r.u64()?, r.side()?);
                levels.add(side, r.i64()?, r.i64()?);
            }
            m.opening = Some(levels);
        }
        3 => {
            m.by_order = true;
            let kept = r.bool()?;
            let mut levels = Levels::default();
            for side in [Side::Buy, Side::Sell] {
                let mut v = Vec::new();
                for _ in 0..r.u32()? {
                    v.push(Level {
                        price: r.i64()?,
                        size: r.i64()?,
                        orders: r.u32()?,
                    });
                }
                levels.set_side(side, &v);
            }
            m.opening = kept.then_some(levels);
        }
        detail @ 0..=2 => {
            let mut sides = [Vec::new(), Vec::new()];
            for levels in &mut sides {
                for _ in 0..r.u32()? {
                    levels.push(Level {
                        price: r.i64()?,
                        size: r.i64()?,
                        orders: r.u32()?,
                    });
                }
            }
            match detail {
                2 => {
                    m.feed.replace_levels(&sides[0], &sides[1]);
                }
                1 => {
                    let top = |l: Option<&Level>| l.map(|l| (l.price, l.size));
                    m.feed.set_top(top(sides[0].first()), top(sides[1].first()));
                }
                _ => {}
            }
        }
        other => return Err(format!("state: bad book detail {other}")),
    }
    Ok(())
}

/// Version 1's resting orders: each with its own set of feed orders ahead
/// (by order) or a quantity. The queues are rebuilt in arrival order: a
/// level starts with the feed orders ahead of its first order of ours, and
/// each later order adds those ahead of it that are not yet there.
fn read_v1_orders(r: &mut StateReader<'_>, m: &mut Market) -> Result<(), String> {
    m.opening = None;
    m.session.phase = if m.detail() == Detail::Empty {
        Phase::Unknown
    } else {
        Phase::Trading
    };
    for _ in 0..r.u32()? {
        let (id, side, price, quantity, filled) =
            (r.u64()?, r.side()?, r.i64()?, r.i64()?, r.i64()?);
        let mut order = Resting {
            id,
            side,
            price,
            quantity,
            filled,
            ahead: 0,
        };
        match r.u8()? {
            0 => {
                let mut ahead = Vec::new();
                for _ in 0..r.u32()? {
                    ahead.push((r.u64()?, r.i64()?));
                }
                let level = key(side, price);
                let known: Vec<u64> = m
                    .queues
                    .entries(level)
                    .iter()
                    .filter_map(|e| match e {
                        Entry::Feed { id, .. } => Some(*id),
                        Entry::Ours(_) => None,
                    })
                    .collect();
                if known.is_empty() && m.queues.entries(level).is_empty() {
                    m.queues.join(level, id, || ahead);
                } else {
                    for (feed, size) in ahead {
                        if !known.contains(&feed) {
                            m.queues.feed_joined(level, feed, size);
                        }
                    }
                    m.queues.join(level, id, Vec::new);
                }
            }
            1 => order.ahead = r.i64()?,
            other => return Err(format!("state: bad queue kind {other}")),
        }
        m.resting.push(order);
    }
    Ok(())
}
