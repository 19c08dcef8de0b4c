//! The fills audit beside a simulated-venue session: `tradsys-audit`'s
//! rules (the exchange's, not the venue's code) given the feed's records as
//! the venue gets them, each command as it reaches the venue and each fill
//! the router booked. What it finds goes in the report (per strategy: the
//! share of reachable maker volume not taken, zero when the venue is right)
//! and the journal's end record. It judges a feed by order only; `tradsys
//! journal audit` is the same check from the journal and the raw file.

use std::collections::BTreeMap;

use tradsys_audit::{Action, Ask, Live, Record, Side as AuditSide, Tif};

use crate::bindings::types::{
    BookAction, BookFlags, MarketEvent, OrderCommand, OrderType, Side, TimeInForce,
};
use crate::journal::{Judged, StrategyAudit};
use crate::trading::router::{BookedFill, OrderRouter};

/// The audit of a session's fills, as it runs.
#[derive(Debug, Default)]
pub(crate) struct FillsAudit {
    live: Live,
}

fn side(side: Side) -> AuditSide {
    match side {
        Side::Buy => AuditSide::Buy,
        Side::Sell => AuditSide::Sell,
    }
}

impl FillsAudit {
    /// The feed's events the venue is about to be given.
    pub(crate) fn record(&mut self, events: &[MarketEvent]) {
        for event in events {
            let (instrument, record) = match event {
                MarketEvent::BookDelta(d) => {
                    let action = match d.action {
                        BookAction::Add => Action::Add,
                        BookAction::Modify => Action::Modify,
                        BookAction::Cancel => Action::Cancel,
                        BookAction::Clear => Action::Clear,
                        BookAction::Fill => Action::Fill,
                    };
                    let record = Record {
                        ts: d.ts,
                        action,
                        side: Some(side(d.side)),
                        price: d.price,
                        size: d.size,
                        id: d.order_id,
                        last: d.flags.contains(BookFlags::LAST),
                    };
                    (d.instrument, record)
                }
                MarketEvent::Trade(t) => {
                    let record = Record {
                        ts: t.ts,
                        action: Action::Trade,
                        side: t.aggressor.map(side),
                        price: t.price,
                        size: t.size,
                        id: 0,
                        last: t.flags.contains(BookFlags::LAST),
                    };
                    (t.instrument, record)
                }
                _ => continue,
            };
            self.live.record(instrument, &record);
        }
    }

    /// Host-numbered `commands` reaching the venue at `ts`.
    pub(crate) fn commands(&mut self, commands: &[OrderCommand], router: &OrderRouter, ts: u64) {
        for command in commands {
            let ask = match command {
                OrderCommand::Submit(o) => Ask::Submit {
                    side: side(o.side),
                    limit: (o.order_type == OrderType::Limit).then_some(o.price),
                    tif: match o.time_in_force {
                        TimeInForce::Gtc => Tif::Gtc,
                        TimeInForce::Ioc => Tif::Ioc,
                        TimeInForce::Fok => Tif::Fok,
                    },
                    quantity: o.quantity,
                },
                OrderCommand::Cancel(_) => Ask::Cancel,
                OrderCommand::Modify(m) => Ask::Modify {
                    price: m.price,
                    quantity: m.quantity,
                },
            };
            let owner = router.owner_name(command.id()).unwrap_or("host");
            self.live
                .command(command.instrument(), command.id(), owner, &ask, ts);
        }
    }

    /// Fills the router booked.
    pub(crate) fn fills(&mut self, fills: Vec<BookedFill>) {
        for f in fills {
            self.live
                .filled(f.order, f.ts, f.price, f.quantity, f.maker);
        }
    }

    /// Per strategy, so far; `None` unless the feed is by order.
    pub(crate) fn figures(&self) -> Option<BTreeMap<String, StrategyAudit>> {
        if !self.live.judges() {
            return None;
        }
        let figures = self.live.figures();
        Some(
            figures
                .into_iter()
                .map(|(name, f)| {
                    let audit = StrategyAudit {
                        maker: Judged {
                            fills: f.maker.fills,
                            right: f.maker.right,
                        },
                        taker: Judged {
                            fills: f.taker.fills,
                            right: f.taker.right,
                        },
                        reachable: f.reachable,
                        reachable_not_taken: f.missed_share,
                    };
                    (name, audit)
                })
                .collect(),
        )
    }
}
