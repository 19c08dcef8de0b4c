//! The fills audit beside a simulated-venue session: `tradsys-audit`'s
//! rules (the exchange's, not the venue's code) given the feed's records as
//! the venue gets them, each command as it reaches the venue and each fill
//! the router booked. What it finds goes in the report (per strategy: the
//! share of reachable maker volume not taken, zero when the venue is right)
//! and the journal's end record. It judges a feed by order only; `tradsys
//! journal audit` is the same check from the journal and the raw file.
//!
//! The audit's own book runs on a thread of its own: the session hands it
//! what it saw, in order, in chunks (it never waits for the audit, unless
//! the audit falls [`CHUNKS`] chunks behind), and asks for the figures when
//! it publishes and at its end (then it waits until the audit has caught
//! up). The audit never changes what the session does.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender};

use tradsys_audit::{Action, Ask, Live, Record, Side as AuditSide, Tif};

use crate::bindings::types::{
    BookAction, BookFlags, MarketEvent, OrderCommand, OrderType, Side, TimeInForce,
};
use crate::journal::{Judged, StrategyAudit};
use crate::trading::accounts::HOST;
use crate::trading::router::{BookedFill, OrderRouter};

/// Inputs gathered before they go to the audit's thread.
const CHUNK: usize = 1024;

/// Chunks the session may get ahead of the audit before it waits.
const CHUNKS: usize = 64;

/// What the session saw, in its order.
enum Input {
    Record(u32, Record),
    Command {
        instrument: u32,
        order: u64,
        owner: String,
        ask: Ask,
        ts: u64,
    },
    Filled(BookedFill),
}

enum Message {
    Inputs(Vec<Input>),
    Figures(std::sync::mpsc::Sender<Figures>),
}

/// Per strategy; `None` unless the feed is by order.
type Figures = Option<BTreeMap<String, StrategyAudit>>;

/// The audit of a session's fills, as it runs (on its own thread).
pub(crate) struct FillsAudit {
    pending: RefCell<Vec<Input>>,
    tx: Option<SyncSender<Message>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Default for FillsAudit {
    fn default() -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(CHUNKS);
        let thread = std::thread::Builder::new()
            .name("fills-audit".into())
            .spawn(move || audit(&rx))
            .map_err(|e| tracing::warn!("the fills audit has no thread, so no figures: {e}"))
            .ok();
        Self {
            pending: RefCell::new(Vec::with_capacity(CHUNK)),
            tx: thread.as_ref().map(|_| tx),
            thread,
        }
    }
}

impl Drop for FillsAudit {
    fn drop(&mut self) {
        self.tx = None; // the thread's channel closes: it ends
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The audit's thread: apply the inputs in order, answer for the figures.
fn audit(rx: &Receiver<Message>) {
    let mut live = Live::default();
    while let Ok(message) = rx.recv() {
        match message {
            Message::Inputs(inputs) => {
                for input in inputs {
                    match input {
                        Input::Record(instrument, record) => live.record(instrument, &record),
                        Input::Command {
                            instrument,
                            order,
                            owner,
                            ask,
                            ts,
                        } => live.command(instrument, order, &owner, &ask, ts),
                        Input::Filled(f) => {
                            live.filled(f.order, f.ts, f.price, f.quantity, f.maker)
                        }
                    }
                }
            }
            Message::Figures(reply) => {
                let _ = reply.send(figures(&live));
            }
        }
    }
}

fn side(side: Side) -> AuditSide {
    match side {
        Side::Buy => AuditSide::Buy,
        Side::Sell => AuditSide::Sell,
    }
}

impl FillsAudit {
    /// Queue `inputs`; a full chunk goes to the audit's thread.
    fn push(&self, inputs: impl IntoIterator<Item = Input>) {
        let mut pending = self.pending.borrow_mut();
        pending.extend(inputs);
        if pending.len() >= CHUNK {
            let chunk = std::mem::replace(&mut *pending, Vec::with_capacity(CHUNK));
            drop(pending);
            self.send(Message::Inputs(chunk));
        }
    }

    fn send(&self, message: Message) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(message);
        }
    }

    /// The feed's events the venue is about to be given.
    pub(crate) fn record(&mut self, events: &[MarketEvent]) {
        self.push(events.iter().filter_map(|event| {
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
                _ => return None,
            };
            Some(Input::Record(instrument, record))
        }));
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
            let owner = router.owner_name(command.id()).unwrap_or(HOST);
            self.push([Input::Command {
                instrument: command.instrument(),
                order: command.id(),
                owner: owner.to_string(),
                ask,
                ts,
            }]);
        }
    }

    /// Fills the router booked.
    pub(crate) fn fills(&mut self, fills: Vec<BookedFill>) {
        if !fills.is_empty() {
            self.push(fills.into_iter().map(Input::Filled));
        }
    }

    /// Per strategy, so far (the audit's thread catches up first); `None`
    /// unless the feed is by order.
    pub(crate) fn figures(&self) -> Figures {
        let rest = std::mem::take(&mut *self.pending.borrow_mut());
        if !rest.is_empty() {
            self.send(Message::Inputs(rest));
        }
        let (reply, answer) = std::sync::mpsc::channel();
        self.send(Message::Figures(reply));
        answer.recv().ok().flatten()
    }
}

/// What `live` found so far, per strategy.
fn figures(live: &Live) -> Figures {
    if !live.judges() {
        return None;
    }
    let figures = live.figures();
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
