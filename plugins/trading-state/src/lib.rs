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
        let mut all = State::Active;
        let mut overrides = BTreeMap::new();
        for (key, value) in config.entries() {
            if key == ALL_KEY {
                all = State::parse(key, value)?;
            } else if let Some(symbol) = key.strip_prefix(PREFIX) {
                if symbol.is_empty() {
                    return Err(format!(
                        "config `{key}`: no symbol after `{PREFIX}` (write `{PREFIX}SYN-A`)"
                    ));
                }
                overrides.insert(symbol.to_string(), State::parse(key, value)?);
            } else {
                return Err(format!(
                    "config `{key}`: unknown key (the keys are `{ALL_KEY}` and `{PREFIX}SYMBOL`)"
                ));
            }
        }
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
mod tests {
    use super::*;
    use tradsys_sdk::OpenOrder;
    use tradsys_sdk::testing::{
        self, RiskContextBuilder, approvals, approved, rejected, units, validate, validate_one,
    };

    /// Strategy 0 in the synthetic market with the given positions and working orders
    /// `(id, instrument, side, leaves)`.
    fn context(positions: &[(u32, i64)], open: &[(u64, u32, Side, i64)]) -> RiskContext {
        let mut ctx = RiskContextBuilder::new(1_000_000_000);
        ctx.instruments(testing::synthetic_instruments())
            .last_price(0, units(100));
        for &(instrument, qty) in positions {
            ctx.position(instrument, units(qty), units(100));
        }
        for &(id, instrument, side, leaves) in open {
            ctx.open_order(id, instrument, side, units(100), units(leaves));
        }
        ctx.build()
    }

    fn submit(id: u64, instrument: u32, side: Side, quantity: i64) -> OrderCommand {
        testing::limit(id, instrument, side, units(100), units(quantity))
    }

    fn buy(instrument: u32, quantity: i64) -> OrderCommand {
        submit(1, instrument, Side::Buy, quantity)
    }

    fn sell(instrument: u32, quantity: i64) -> OrderCommand {
        submit(1, instrument, Side::Sell, quantity)
    }

    fn market(instrument: u32, side: Side, quantity: i64) -> OrderCommand {
        testing::market(2, instrument, side, units(quantity))
    }

    fn modify(id: u64, instrument: u32, quantity: i64) -> OrderCommand {
        testing::modify(id, instrument, units(101), units(quantity))
    }

    fn validator(config: &[(&str, &str)]) -> TradingState {
        testing::validator(config)
    }

    #[test]
    fn defaults_and_bad_config() {
        let v = validator(&[]);
        assert_eq!(v.all, State::Active);
        assert!(v.overrides.is_empty());
        let v = validator(&[
            ("state", " Reducing "),
            ("state.SYN-A", "HALTED"),
            ("state.SYN-B", "halted"),
            ("state.SYN-B", "active"),
        ]);
        assert_eq!(v.all, State::Reducing);
        assert_eq!(
            v.overrides.into_iter().collect::<Vec<_>>(),
            [
                ("SYN-A".to_string(), State::Halted),
                ("SYN-B".to_string(), State::Active)
            ]
        );
        for (key, value, error) in [
            (
                "state",
                "stopped",
                "config `state`: `stopped` is not a trading state (active, reducing or halted)",
            ),
            (
                "state.SYN-A",
                "",
                "config `state.SYN-A`: `` is not a trading state (active, reducing or halted)",
            ),
            (
                "state.",
                "halted",
                "config `state.`: no symbol after `state.` (write `state.SYN-A`)",
            ),
            (
                "states",
                "halted",
                "config `states`: unknown key (the keys are `state` and `state.SYMBOL`)",
            ),
            (
                "State.SYN-A",
                "halted",
                "config `State.SYN-A`: unknown key (the keys are `state` and `state.SYMBOL`)",
            ),
        ] {
            let err = TradingState::new(&Config::new([(key, value)])).unwrap_err();
            assert_eq!(err, error);
        }
    }

    #[test]
    fn active_passes_everything() {
        let mut v = validator(&[("state", "active")]);
        let ctx = context(&[(0, 500)], &[(7, 0, Side::Buy, 100)]);
        let orders = [
            buy(0, 1000),
            sell(1, 1000),
            market(2, Side::Buy, 1),
            modify(7, 0, 2000),
            modify(99, 0, 1),
            testing::cancel(7, 0),
            buy(42, 1),
        ];
        assert!(validate(&mut v, &ctx, &orders).iter().all(approved));
    }

    #[test]
    fn halted_passes_only_cancels() {
        let mut v = validator(&[("state", "halted")]);
        let ctx = context(&[(0, 100)], &[(7, 0, Side::Sell, 50)]);
        let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(0, 100)));
        assert_eq!(reason, RejectReason::InstrumentHalted);
        assert_eq!(
            message,
            "trading state of SYN-A is halted: only cancels pass (refused buy 100 at 100.00; \
             set by `state`)"
        );
        // Even an order that would reduce the position, and any modify.
        let (_, message) = rejected(validate_one(&mut v, &ctx, market(0, Side::Sell, 50)));
        assert!(
            message.contains("(refused sell 50 at market; "),
            "{message}"
        );
        let (reason, message) = rejected(validate_one(&mut v, &ctx, modify(7, 0, 10)));
        assert_eq!(reason, RejectReason::InstrumentHalted);
        assert!(
            message.contains("(refused modify of order 7 to 10 at 101.00; "),
            "{message}"
        );
        assert!(approved(&validate_one(&mut v, &ctx, testing::cancel(7, 0))));
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            testing::cancel(8, 42)
        )));
    }

    #[test]
    fn per_instrument_states_win() {
        let mut v = validator(&[
            ("state", "halted"),
            ("state.SYN-A", "active"),
            ("state.SYN-B", "reducing"),
        ]);
        let ctx = context(&[(1, 100)], &[]);
        assert!(approved(&validate_one(&mut v, &ctx, buy(0, 100))));
        assert!(approved(&validate_one(&mut v, &ctx, sell(1, 100))));
        let (_, message) = rejected(validate_one(&mut v, &ctx, buy(1, 1)));
        assert!(
            message.starts_with("trading state of SYN-B is reducing: "),
            "{message}"
        );
        assert!(message.ends_with("; set by `state.SYN-B`)"), "{message}");
        let (reason, message) = rejected(validate_one(&mut v, &ctx, sell(2, 1)));
        assert_eq!(reason, RejectReason::InstrumentHalted);
        assert!(
            message.starts_with("trading state of SYN-C is halted: only cancels pass"),
            "{message}"
        );
        assert!(message.ends_with("; set by `state`)"), "{message}");
        // One instrument halted, the rest active by default.
        let mut v = validator(&[("state.SYN-C", "halted")]);
        assert!(approved(&validate_one(&mut v, &ctx, buy(0, 100))));
        assert!(!approved(&validate_one(&mut v, &ctx, buy(2, 100))));
        // Symbols match exactly.
        let mut v = validator(&[("state.syn-c", "halted")]);
        assert!(approved(&validate_one(&mut v, &ctx, buy(2, 100))));
    }

    #[test]
    fn undefined_instruments_get_the_most_restrictive_state() {
        let ctx = context(&[], &[]);
        let mut v = validator(&[("state.SYN-A", "reducing"), ("state.SYN-B", "halted")]);
        let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(9, 1)));
        assert_eq!(reason, RejectReason::InstrumentHalted);
        assert_eq!(
            message,
            "trading state of instrument 9 (not defined) is halted: only cancels pass (refused \
             buy 1 at 100.00; set by `state.SYN-B`)"
        );
        let mut v = validator(&[("state", "reducing"), ("state.SYN-A", "active")]);
        let (_, message) = rejected(validate_one(&mut v, &ctx, buy(9, 1)));
        assert!(message.contains("is reducing: "), "{message}");
        assert!(message.ends_with("set by `state`)"), "{message}");
        let mut v = validator(&[("state.SYN-A", "active")]);
        assert!(approved(&validate_one(&mut v, &ctx, buy(9, 1))));
    }

    #[test]
    fn reducing_passes_only_what_reduces() {
        let mut v = validator(&[("state", "reducing")]);
        let long = context(&[(0, 100), (1, -50)], &[]);
        // Long 100 in SYN-A: sells up to 100 reduce.
        assert!(approved(&validate_one(&mut v, &long, sell(0, 100))));
        assert!(approved(&validate_one(
            &mut v,
            &long,
            market(0, Side::Sell, 1)
        )));
        let (reason, message) = rejected(validate_one(&mut v, &long, sell(0, 101)));
        assert_eq!(reason, RejectReason::Other);
        assert_eq!(
            message,
            "trading state of SYN-A is reducing: only cancels and orders that reduce the \
             position pass (refused sell 101 at 100.00: the position is long 100 and working \
             sells already 0, so a sell of more than 100 would pass flat; set by `state`)"
        );
        let (_, message) = rejected(validate_one(&mut v, &long, buy(0, 1)));
        assert!(
            message
                .contains("(refused buy 1 at 100.00: the position is long 100, a buy raises it;"),
            "{message}"
        );
        // Short 50 in SYN-B: buys up to 50 reduce.
        assert!(approved(&validate_one(&mut v, &long, buy(1, 50))));
        assert!(!approved(&validate_one(&mut v, &long, buy(1, 51))));
        let (_, message) = rejected(validate_one(&mut v, &long, sell(1, 1)));
        assert!(
            message.contains("the position is short 50, a sell raises it"),
            "{message}"
        );
        // Flat in SYN-C: nothing reduces.
        let (_, message) = rejected(validate_one(&mut v, &long, buy(2, 1)));
        assert!(
            message.contains("(refused buy 1 at 100.00: the position is flat;"),
            "{message}"
        );
        let (reason, message) = rejected(validate_one(&mut v, &long, sell(0, 0)));
        assert_eq!(reason, RejectReason::Other);
        assert!(message.contains("quantity 0 is not positive"), "{message}");
    }

    #[test]
    fn reducing_counts_working_orders_and_the_batch() {
        let mut v = validator(&[("state", "reducing")]);
        // Long 100 with a working sell of 60: room for 40 more.
        let ctx = context(
            &[(0, 100)],
            &[(7, 0, Side::Sell, 60), (8, 0, Side::Buy, 30)],
        );
        assert!(approved(&validate_one(&mut v, &ctx, sell(0, 40))));
        let (_, message) = rejected(validate_one(&mut v, &ctx, sell(0, 41)));
        assert!(
            message.contains(
                "the position is long 100 and working sells already 60, so a sell of more than \
                 40 would pass flat"
            ),
            "{message}"
        );
        let verdicts = validate(
            &mut v,
            &ctx,
            &[
                submit(10, 0, Side::Sell, 30),
                submit(11, 0, Side::Sell, 20),
                testing::cancel(7, 0),
                submit(12, 0, Side::Sell, 20),
                submit(13, 0, Side::Sell, 51),
                modify(10, 0, 40),
                submit(14, 0, Side::Sell, 41),
            ],
        );
        // 30 fits (room 40), 20 does not (room 10); the cancel frees 60: 20 fits (room
        // 70), 51 does not (room 50); order 10 to 40 fits in 100 − 20, leaving room 40,
        // too little for 41.
        assert_eq!(
            approvals(&verdicts),
            [true, false, true, true, false, true, false]
        );
        // The next batch starts again from the context.
        assert!(approved(&validate_one(&mut v, &ctx, sell(0, 40))));
    }

    #[test]
    fn reducing_modifies() {
        let mut v = validator(&[("state", "reducing")]);
        let ctx = context(
            &[(0, 100)],
            &[
                (7, 0, Side::Sell, 60),
                (8, 0, Side::Buy, 30),
                (9, 0, Side::Sell, 30),
            ],
        );
        // Order 7 on the reducing side: up to 100 − 30 (order 9).
        assert!(approved(&validate_one(&mut v, &ctx, modify(7, 0, 70))));
        assert!(approved(&validate_one(&mut v, &ctx, modify(7, 0, 10))));
        let (reason, message) = rejected(validate_one(&mut v, &ctx, modify(7, 0, 71)));
        assert_eq!(reason, RejectReason::Other);
        assert_eq!(
            message,
            "trading state of SYN-A is reducing: only cancels and orders that reduce the \
             position pass (refused modify of order 7 to 71 at 101.00: the position is long 100 \
             and other working sells already 30, so a sell of more than 70 would pass flat; set \
             by `state`)"
        );
        // Order 8 buys while long: no modify of it passes, not even a smaller one.
        let (_, message) = rejected(validate_one(&mut v, &ctx, modify(8, 0, 10)));
        assert!(
            message.contains("the position is long 100, a buy raises it"),
            "{message}"
        );
        // Not working (or another instrument's id): its side is unknown.
        let (_, message) = rejected(validate_one(&mut v, &ctx, modify(7, 1, 10)));
        assert!(
            message.contains("order 7 is not working, so its side is unknown"),
            "{message}"
        );
        // A modify of an order submitted earlier in the batch.
        let verdicts = validate(
            &mut v,
            &context(&[(0, -50)], &[]),
            &[
                submit(20, 0, Side::Buy, 10),
                modify(20, 0, 50),
                modify(20, 0, 51),
            ],
        );
        assert_eq!(approvals(&verdicts), [true, true, false]);
        assert!(approved(&validate_one(&mut v, &ctx, testing::cancel(8, 0))));
    }

    #[test]
    fn extreme_values_neither_overflow_nor_panic() {
        let mut v = validator(&[("state", "reducing")]);
        let mut ctx = context(&[(0, 0), (1, 0)], &[]);
        ctx.positions[0].quantity = i64::MIN;
        ctx.positions[1].quantity = i64::MAX;
        ctx.positions.push(ctx.positions[1]);
        ctx.open_orders = (0..4)
            .map(|id| OpenOrder {
                id,
                instrument: 0,
                side: Side::Buy,
                price: 0,
                leaves_quantity: i64::MAX,
            })
            .collect();
        let mut big = buy(0, 1);
        if let OrderCommand::Submit(o) = &mut big {
            o.quantity = i64::MAX;
        }
        assert!(!approved(&validate_one(&mut v, &ctx, big)));
        assert!(approved(&validate_one(&mut v, &ctx, sell(1, 1))));
        let mut huge = modify(0, 0, 1);
        if let OrderCommand::Modify(m) = &mut huge {
            m.quantity = i64::MAX;
        }
        assert!(!approved(&validate_one(&mut v, &ctx, huge)));
    }

    #[test]
    fn no_state_is_kept() {
        let mut v = validator(&[("state", "halted")]);
        assert!(v.save_state().is_empty());
        assert!(v.load_state(&[]).is_ok());
        assert!(v.load_state(&[1]).is_err());
    }
}
