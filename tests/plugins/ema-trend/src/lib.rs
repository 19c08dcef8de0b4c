//! EMA trend: per instrument, the cross of a fast and a slow exponential
//! moving average of the quote mid, one lot at a time. With `source = "own"`
//! (the default) it computes the averages from every quote; with `source =
//! "signals"` it reads them from its `signals` entry (fast first, then slow:
//! `signals = "ema:10, ema:40"`, what the `indicators` processor derives).
//! Both ways it decides once per instrument per batch, after the batch, so
//! the two trade exactly alike: the test of the processor's signals, and the
//! benchmark of a processor against indicators inside each strategy.
//!
//! When the fast average is above the slow one it holds `+1` lot, below `-1`:
//! an IOC at the touch (the batch's last quote) moves it there. State: the
//! averages and the position, so it survives a swap.
//!
//! Config: `source` (`own`), `fast` (10), `slow` (40), `signals`.

use std::collections::BTreeMap;

use tradsys_sdk::series::Ema;
use tradsys_sdk::signals::Subscriptions;
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, MarketEvent, NewOrder, OrderCommand, OrderEvent, OrderType, Quote, Side, Strategy,
    TimeInForce, fixed,
};

const STATE_VERSION: u8 = 1;

#[derive(Debug, Clone)]
struct Instrument {
    fast: Ema,
    slow: Ema,
    /// Lots held (from fills).
    position: i64,
    /// An order is in flight.
    pending: bool,
}

/// The strategy; see the crate docs.
pub struct EmaTrend {
    spans: (u32, u32),
    signals: Option<Subscriptions>,
    instruments: BTreeMap<u32, Instrument>,
    next_id: u64,
}

impl EmaTrend {
    fn instrument(&mut self, id: u32) -> &mut Instrument {
        let (fast, slow) = self.spans;
        self.instruments.entry(id).or_insert_with(|| Instrument {
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            position: 0,
            pending: false,
        })
    }
}

impl Strategy for EmaTrend {
    fn new(config: &Config) -> Result<Self, String> {
        let spans = (config.parse_or("fast", 10)?, config.parse_or("slow", 40)?);
        let signals = match config.get("source").unwrap_or("own") {
            "own" => None,
            "signals" => {
                let subs = Subscriptions::from_config(config)?;
                if subs.len() != 2 {
                    return Err(format!(
                        "config `signals`: name the fast and the slow EMA, not {:?}",
                        subs.names()
                    ));
                }
                Some(subs)
            }
            other => return Err(format!("config `source`: `{other}` is not own or signals")),
        };
        Ok(Self {
            spans,
            signals,
            instruments: BTreeMap::new(),
            next_id: 0,
        })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        let mut last: BTreeMap<u32, &Quote> = BTreeMap::new();
        for event in events {
            match event {
                MarketEvent::Quote(q) => {
                    if let Some(mid) = q.mid() {
                        last.insert(q.instrument, q);
                        if self.signals.is_none() {
                            let inst = self.instrument(q.instrument);
                            inst.fast.update(fixed::to_f64(mid));
                            inst.slow.update(fixed::to_f64(mid));
                        }
                    }
                }
                MarketEvent::Signal(s) => {
                    let which = self.signals.as_ref().and_then(|subs| subs.get(event));
                    if let Some((at, _)) = which {
                        let inst = self.instrument(s.instrument);
                        let ema = if at == 0 {
                            &mut inst.fast
                        } else {
                            &mut inst.slow
                        };
                        ema.set(Some(s.value));
                    }
                }
                _ => {}
            }
        }
        for (id, q) in last {
            let inst = self.instrument(id);
            let (Some(fast), Some(slow)) = (inst.fast.value(), inst.slow.value()) else {
                continue;
            };
            let target = if fast > slow {
                1
            } else if fast < slow {
                -1
            } else {
                inst.position
            };
            if inst.pending || target == inst.position {
                continue;
            }
            inst.pending = true;
            let buy = target > inst.position;
            self.next_id += 1;
            orders.push(OrderCommand::Submit(NewOrder {
                id: self.next_id,
                instrument: id,
                side: if buy { Side::Buy } else { Side::Sell },
                order_type: OrderType::Limit,
                time_in_force: TimeInForce::Ioc,
                price: if buy { q.ask_price } else { q.bid_price },
                quantity: fixed::from_units(1),
            }));
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            let inst = self.instrument(event.instrument());
            match event {
                OrderEvent::Filled(f) => {
                    let lots = f.quantity / fixed::SCALE;
                    inst.position += if f.side == Side::Buy { lots } else { -lots };
                    if f.leaves_quantity == 0 {
                        inst.pending = false;
                    }
                }
                OrderEvent::Rejected(_) | OrderEvent::Canceled(_) => inst.pending = false,
                _ => {}
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION)
            .u64(self.next_id)
            .u32(self.instruments.len() as u32);
        for (&id, inst) in &self.instruments {
            w.u32(id);
            for ema in [&inst.fast, &inst.slow] {
                w.option(ema.value(), |w, v| {
                    w.f64(v);
                });
            }
            w.i64(inst.position).bool(inst.pending);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let next_id = r.u64()?;
        let mut instruments = BTreeMap::new();
        for _ in 0..r.u32()? {
            let id = r.u32()?;
            let (mut fast, mut slow) = (Ema::new(self.spans.0), Ema::new(self.spans.1));
            fast.set(r.option(|r| r.f64())?);
            slow.set(r.option(|r| r.f64())?);
            let (position, pending) = (r.i64()?, r.bool()?);
            instruments.insert(
                id,
                Instrument {
                    fast,
                    slow,
                    position,
                    pending,
                },
            );
        }
        r.finish()?;
        self.next_id = next_id;
        self.instruments = instruments;
        Ok(())
    }
}

tradsys_sdk::export_strategy!(EmaTrend);
