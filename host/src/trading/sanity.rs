//! What a feed could not have sent, checked per event before the host keeps
//! anything of it (the connector's output is untrusted input): a quote
//! crossed or locked, a price that is not positive (unless the instrument's
//! may be: `[market] negative_prices`), a size that is not positive, a bar
//! whose high and low do not hold its open and close, a depth snapshot out
//! of order or crossed. Each refusal names its rule, which the report counts
//! (`connector_dropped`). What needs the book (an order the book does not
//! hold, a cancel of more than rests) is checked where the book is changed
//! (`market.rs`).

use crate::bindings::types::{BookAction, DepthLevel, MarketEvent};

/// A refusal: the rule's name and what broke it.
pub(crate) type Refusal = (&'static str, String);

fn price(p: i64, negative_ok: bool, what: &str) -> Result<(), Refusal> {
    if p <= 0 && !negative_ok {
        return Err(("non-positive-price", format!("{what} at {p}")));
    }
    Ok(())
}

fn size(s: i64, what: &str) -> Result<(), Refusal> {
    if s <= 0 {
        return Err(("non-positive-size", format!("{what} of size {s}")));
    }
    Ok(())
}

fn levels(levels: &[DepthLevel], bids: bool, negative_ok: bool) -> Result<(), Refusal> {
    for l in levels {
        price(l.price, negative_ok, "a depth level")?;
        size(l.quantity, "a depth level")?;
    }
    let ordered = levels.windows(2).all(|w| {
        if bids {
            w[0].price > w[1].price
        } else {
            w[0].price < w[1].price
        }
    });
    if !ordered {
        let side = if bids { "bids" } else { "asks" };
        return Err(("crossed-depth", format!("{side} not best first")));
    }
    Ok(())
}

/// Whether `event` is one a feed could send; `negative_ok`: its instrument's
/// prices may be zero or negative.
pub(crate) fn event(event: &MarketEvent, negative_ok: bool) -> Result<(), Refusal> {
    match event {
        MarketEvent::Quote(q) => {
            if q.bid_size < 0 || q.ask_size < 0 {
                let why = format!("sizes {} x {}", q.bid_size, q.ask_size);
                return Err(("non-positive-size", why));
            }
            if q.bid_size > 0 {
                price(q.bid_price, negative_ok, "a bid")?;
            }
            if q.ask_size > 0 {
                price(q.ask_price, negative_ok, "an ask")?;
            }
            if q.bid_size > 0 && q.ask_size > 0 && q.bid_price >= q.ask_price {
                let why = format!("bid {} against ask {}", q.bid_price, q.ask_price);
                return Err(("crossed-quote", why));
            }
            Ok(())
        }
        MarketEvent::Trade(t) => {
            price(t.price, negative_ok, "a trade")?;
            size(t.size, "a trade")
        }
        MarketEvent::Bar(b) => {
            for p in [b.open, b.high, b.low, b.close] {
                price(p, negative_ok, "a bar")?;
            }
            if b.low > b.open.min(b.close) || b.high < b.open.max(b.close) || b.volume < 0 {
                return Err(("bad-bar", format!("{b:?}")));
            }
            Ok(())
        }
        MarketEvent::BookDelta(d) => match d.action {
            BookAction::Clear => Ok(()),
            BookAction::Cancel => size(d.size, "a cancel"),
            BookAction::Add | BookAction::Modify | BookAction::Fill => {
                price(d.price, negative_ok, "an order")?;
                size(d.size, "an order")
            }
        },
        MarketEvent::Depth(d) => {
            levels(&d.bids, true, negative_ok)?;
            levels(&d.asks, false, negative_ok)?;
            if let (Some(bid), Some(ask)) = (d.bids.first(), d.asks.first())
                && bid.price >= ask.price
            {
                let why = format!("bid {} against ask {}", bid.price, ask.price);
                return Err(("crossed-depth", why));
            }
            Ok(())
        }
        MarketEvent::Instrument(_) | MarketEvent::Status(_) | MarketEvent::Signal(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::types::{Quote, Trade};

    fn quote(bid: i64, bid_size: i64, ask: i64, ask_size: i64) -> MarketEvent {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts: 1,
            bid_price: bid,
            bid_size,
            ask_price: ask,
            ask_size,
        })
    }

    fn rule(e: &MarketEvent, negative_ok: bool) -> Option<&'static str> {
        event(e, negative_ok).err().map(|(rule, _)| rule)
    }

    #[test]
    fn quotes_that_cannot_be_are_refused_by_rule() {
        assert_eq!(rule(&quote(100, 1, 101, 1), false), None);
        assert_eq!(rule(&quote(101, 1, 100, 1), false), Some("crossed-quote"));
        assert_eq!(rule(&quote(100, 1, 100, 1), false), Some("crossed-quote"));
        assert_eq!(
            rule(&quote(-100, 1, 101, 1), false),
            Some("non-positive-price")
        );
        assert_eq!(rule(&quote(-100, 1, 101, 1), true), None, "a spread may");
        assert_eq!(
            rule(&quote(100, -1, 101, 1), false),
            Some("non-positive-size")
        );
        // An empty side says nothing of its price.
        assert_eq!(rule(&quote(0, 0, 101, 1), false), None);
        let trade = |price, size| {
            MarketEvent::Trade(Trade {
                instrument: 0,
                ts: 1,
                price,
                size,
                aggressor: None,
                flags: crate::bindings::types::BookFlags::LAST,
            })
        };
        assert_eq!(rule(&trade(100, 0), false), Some("non-positive-size"));
        assert_eq!(rule(&trade(0, 1), false), Some("non-positive-price"));
    }
}
