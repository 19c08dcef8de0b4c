//! Trading-state: the kill switch, a pre-trade risk validator that lets trading run,
//! only reduce positions, or stop, for every instrument or per instrument.
//!
//! Each instrument is in one of three states:
//!
//! - **`active`**: every command passes;
//! - **`reducing`**: cancels pass, and submits and modifies that reduce the strategy's
//!   absolute position in the instrument without taking it past flat; the rest is
//!   refused with `Other`;
//! - **`halted`**: only cancels pass; submits and modifies are refused with
//!   `InstrumentHalted`.
//!
//! Every refusal says which state refused it, for which instrument and which config key
//! set that state, then the command and the figures, e.g. `trading state of SYN-A is
//! halted: only cancels pass (refused buy 100 at 100.00; set by `state.SYN-A`)`.
//!
//! # Reducing
//!
//! With a long position only sells reduce, with a short one only buys, and with none
//! nothing does. The reducing room is the absolute position less the leaves of the
//! strategy's working orders already on the reducing side: an order passes when its
//! quantity fits in the room, so all of them filling together at most flattens the
//! position (as an exchange's reduce-only orders). A modify passes when the order it
//! modifies (found by id and instrument among the working orders) is on the reducing
//! side and its new total quantity fits in the room left by the other working orders.
//! The new total is counted whole, though part of it may have filled: that can only
//! refuse too much. A modify of an order that is not working has no known side and is
//! refused (the matcher would refuse it anyway).
//!
//! Orders of one batch count in order: a submit approved earlier in the batch is
//! working for the commands after it, an approved modify changes its order's working
//! quantity, and a cancel removes its order. Positions change only with fills, so the
//! position is the context's for every command of a batch.
//!
//! An order on an instrument the host never defined (no symbol to look up) gets the
//! most restrictive of the configured states, so an override cannot be escaped.
//!
//! # Config keys
//!
//! | key            | meaning                                                    | default  |
//! |----------------|------------------------------------------------------------|----------|
//! | `state`        | state of every instrument: `active`, `reducing` or `halted` | `active` |
//! | `state.SYMBOL` | state of the instrument `SYMBOL` (e.g. `state.SYN-A`), over `state` | `state` |
//!
//! States are read without regard to case; symbols must match exactly. Any other key is
//! refused, so a misspelt kill switch fails the plugin's `init` rather than leaving
//! trading on. The plugin config holds strings only, so in the host's TOML a
//! per-instrument key is quoted (a bare `state.SYN-A` would be a nested table):
//!
//! ```toml
//! [plugins.trading-state.config]
//! state = "reducing"
//! "state.SYN-C" = "halted"
//! ```
//!
//! The default lets everything through: the switch is off until configured. In the
//! synthetic market `state = "reducing"` lets the strategies close out what they hold
//! and nothing more, and `"state.SYN-B" = "halted"` stops one instrument alone.
//!
//! The state is configuration, not state: the validator saves none. It changes when the
//! configuration changes: edit the host config and restart the session. (The host reads
//! its config once, at start: a hot swap or an eviction initialises the plugin again
//! with that config, so neither picks up an edited file.)

use std::collections::BTreeMap;
use std::fmt;

use tradsys_sdk::{
    Config, InstrumentDefinition, OrderCommand, OrderType, RejectReason, Rejection, RiskContext,
    RiskValidator, Side, Verdict, fixed,
};

/// The key of the state of every instrument.
const ALL_KEY: &str = "state";
/// The prefix of a per-instrument key: `state.SYMBOL`.
const PREFIX: &str = "state.";

/// What may trade in an instrument; ordered from the least restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    /// Everything passes.
    Active,
    /// Cancels and orders that reduce the position pass.
    Reducing,
    /// Only cancels pass.
    Halted,
}

impl State {
    fn parse(key: &str, raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        [
            ("active", Self::Active),
            ("reducing", Self::Reducing),
            ("halted", Self::Halted),
        ]
        .into_iter()
        .find(|(name, _)| value.eq_ignore_ascii_case(name))
        .map(|(_, state)| state)
        .ok_or_else(|| {
            format!("config `{key}`: `{raw}` is not a trading state (active, reducing or halted)")
        })
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Active => "active",
            Self::Reducing => "reducing",
            Self::Halted => "halted",
        })
    }
}

/// The validator. Config keys (see the crate docs): `state` (default `active`) and
/// `state.SYMBOL` (default `state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradingState {
    /// The state of every instrument without an override.
    all: State,
    /// Per-instrument overrides, by symbol.
    overrides: BTreeMap<String, State>,
}

/// A working order as far as this batch knows it.
#[derive(Debug, Clone)]
struct Working {
    id: u64,
    instrument: u32,
    side: Side,
    leaves: i64,
}

/// The state that applies to one instrument, where it comes from and how the
/// instrument is named in messages.
struct Applied {
    state: State,
    /// The config key that set it (`state` also when it is the default).
    key: String,
    /// The symbol, or `instrument N (not defined)`.
    name: String,
}

impl TradingState {
    /// The state of `instrument` (see the crate docs for an undefined one).
    fn applied(&self, context: &RiskContext, instrument: u32) -> Applied {
        match context.instruments.iter().find(|d| d.id == instrument) {
            Some(def) => match self.overrides.get(&def.symbol) {
                Some(&state) => Applied {
                    state,
                    key: format!("{PREFIX}{}", def.symbol),
                    name: def.symbol.clone(),
                },
                None => Applied {
                    state: self.all,
                    key: ALL_KEY.to_string(),
                    name: def.symbol.clone(),
                },
            },
            None => {
                let (key, state) = self
                    .overrides
                    .iter()
                    .map(|(symbol, &state)| (format!("{PREFIX}{symbol}"), state))
                    .fold((ALL_KEY.to_string(), self.all), |most, next| {
                        if next.1 > most.1 { next } else { most }
                    });
                Applied {
                    state,
                    key,
                    name: format!("instrument {instrument} (not defined)"),
                }
            }
        }
    }

    /// The verdict for one command; updates `working` when it is approved.
    fn check(
        &self,
        context: &RiskContext,
        working: &mut Vec<Working>,
        command: &OrderCommand,
    ) -> Verdict {
        if let OrderCommand::Cancel(c) = command {
            // Never block a risk-reducing action; its order stops working.
            working.retain(|w| !(w.id == c.id && w.instrument == c.instrument));
            return Verdict::Approve;
        }
        let instrument = command.instrument();
        let applied = self.applied(context, instrument);
        let def = context.instruments.iter().find(|d| d.id == instrument);
        let verdict = match applied.state {
            State::Active => Ok(()),
            State::Halted => Err(Rejection {
                reason: RejectReason::InstrumentHalted,
                message: Some(format!(
                    "trading state of {} is halted: only cancels pass (refused {}; set by `{}`)",
                    applied.name,
                    describe(command, def),
                    applied.key
                )),
            }),
            State::Reducing => reduces(context, working, command, def).map_err(|why| Rejection {
                reason: RejectReason::Other,
                message: Some(format!(
                    "trading state of {} is reducing: only cancels and orders that reduce the \
                     position pass (refused {}: {why}; set by `{}`)",
                    applied.name,
                    describe(command, def),
                    applied.key
                )),
            }),
        };
        match verdict {
            Ok(()) => {
                match command {
                    OrderCommand::Submit(o) => working.push(Working {
                        id: o.id,
                        instrument: o.instrument,
                        side: o.side,
                        leaves: o.quantity,
                    }),
                    OrderCommand::Modify(m) => {
                        if let Some(w) = working
                            .iter_mut()
                            .find(|w| w.id == m.id && w.instrument == m.instrument)
                        {
                            w.leaves = m.quantity;
                        }
                    }
                    OrderCommand::Cancel(_) => {}
                }
                Verdict::Approve
            }
            Err(rejection) => Verdict::Reject(rejection),
        }
    }
}

/// Whether a submit or modify reduces the position without passing flat (see the
/// crate docs); the reason in words when it does not.
fn reduces(
    context: &RiskContext,
    working: &[Working],
    command: &OrderCommand,
    def: Option<&InstrumentDefinition>,
) -> Result<(), String> {
    let instrument = command.instrument();
    let show = |q: i128| fixed::format_exact(q, def.map_or(0, |d| d.size_precision));
    let (side, quantity, modified) = match command {
        OrderCommand::Submit(o) => (o.side, o.quantity, None),
        OrderCommand::Modify(m) => {
            let Some(order) = working
                .iter()
                .find(|w| w.id == m.id && w.instrument == m.instrument)
            else {
                return Err(format!(
                    "order {} is not working, so its side is unknown",
                    m.id
                ));
            };
            (order.side, m.quantity, Some(m.id))
        }
        OrderCommand::Cancel(_) => return Ok(()),
    };
    if quantity <= 0 {
        return Err(format!(
            "quantity {} is not positive",
            show(i128::from(quantity))
        ));
    }
    let position: i128 = context
        .positions
        .iter()
        .filter(|p| p.instrument == instrument)
        .map(|p| i128::from(p.quantity))
        .sum();
    let reducing_side = match position {
        0 => return Err("the position is flat".to_string()),
        p if p > 0 => Side::Sell,
        _ => Side::Buy,
    };
    let direction = if position > 0 { "long" } else { "short" };
    if side != reducing_side {
        return Err(format!(
            "the position is {direction} {}, a {} raises it",
            show(position.abs()),
            side_name(side)
        ));
    }
    let others: i128 = working
        .iter()
        .filter(|w| w.instrument == instrument && w.side == side && Some(w.id) != modified)
        .map(|w| i128::from(w.leaves.max(0)))
        .sum();
    let room = position.abs() - others;
    if i128::from(quantity) > room {
        let side = side_name(side);
        let other = if modified.is_some() { "other " } else { "" };
        return Err(format!(
            "the position is {direction} {} and {other}working {side}s already {}, so a {side} \
             of more than {} would pass flat",
            show(position.abs()),
            show(others),
            show(room.max(0))
        ));
    }
    Ok(())
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// The command in words, for messages: `buy 100 at 100.25`.
fn describe(command: &OrderCommand, def: Option<&InstrumentDefinition>) -> String {
    let quantity = |q: i64| fixed::format_exact(i128::from(q), def.map_or(0, |d| d.size_precision));
    let price = |p: i64| fixed::format_exact(i128::from(p), def.map_or(2, |d| d.price_precision));
    match command {
        OrderCommand::Submit(o) => match o.order_type {
            OrderType::Limit => format!(
                "{} {} at {}",
                side_name(o.side),
                quantity(o.quantity),
                price(o.price)
            ),
            OrderType::Market => {
                format!("{} {} at market", side_name(o.side), quantity(o.quantity))
            }
        },
        OrderCommand::Modify(m) => format!(
            "modify of order {} to {} at {}",
            m.id,
            quantity(m.quantity),
            price(m.price)
        ),
        OrderCommand::Cancel(c) => format!("cancel of order {}", c.id),
    }
}

impl RiskValidator for TradingState {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&[ALL_KEY, "state.*"])?;
        let read = |key: &str| State::parse(key, config.get(key).unwrap_or_default());
        let all = match config.get(ALL_KEY) {
            Some(_) => read(ALL_KEY)?,
            None => State::Active,
        };
        let overrides = config.per_symbol(ALL_KEY, read)?;
        Ok(Self { all, overrides })
    }

    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    ) {
        let mut working: Vec<Working> = context
            .open_orders
            .iter()
            .map(|o| Working {
                id: o.id,
                instrument: o.instrument,
                side: o.side,
                leaves: o.leaves_quantity,
            })
            .collect();
        for order in orders {
            let verdict = self.check(context, &mut working, order);
            verdicts.push(verdict);
        }
    }
}

tradsys_sdk::export_risk_validator!(TradingState);

#[cfg(test)]
mod tests;
