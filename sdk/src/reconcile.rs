//! Reconciliation, for a [`NetworkConnector`](crate::NetworkConnector):
//! what it finds when it compares the venue's view with its own after a
//! logon, told to the host, which decides, books, journals and reports.
//!
//! - [`unknown_order`]: a working order at the venue that this session did
//!   not send. The host answers with its config (`[venue] unknown_orders`):
//!   cancel it, keep it, or adopt it as a host order (its reports then name
//!   the id given).
//! - [`position`]: the venue's net position in an instrument; the host
//!   compares it with its ledgers.
//! - [`difference`]: the venue's word on a host order differed from the
//!   connector's (fills or an end it missed, an order the venue does not
//!   know).
//!
//! Compiled natively (a plugin's unit tests), the host is a per-thread
//! stand-in: [`set_decision`] sets the answer to unknown orders (cancel by
//! default), and [`take_calls`] returns what was told.

pub use crate::bindings::network_connector::tradsys::plugins::reconciliation::{
    Decision, VenueOrder,
};

#[cfg(target_family = "wasm")]
mod imp {
    use super::{Decision, VenueOrder};
    use crate::bindings::network_connector::tradsys::plugins::reconciliation as host;

    pub fn unknown_order(order: &VenueOrder, now: u64) -> Decision {
        host::unknown_order(order, now)
    }

    pub fn position(instrument: u32, quantity: i64, now: u64) {
        host::position(instrument, quantity, now)
    }

    pub fn difference(order: u64, text: &str, now: u64) {
        host::difference(order, text, now)
    }
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    use std::cell::{Cell, RefCell};

    use super::{Call, Decision, VenueOrder};

    thread_local! {
        pub static DECISION: Cell<Decision> = const { Cell::new(Decision::Cancel) };
        pub static CALLS: RefCell<Vec<Call>> = const { RefCell::new(Vec::new()) };
    }

    pub fn unknown_order(order: &VenueOrder, _now: u64) -> Decision {
        let decision = DECISION.with(Cell::get);
        CALLS.with(|c| {
            c.borrow_mut()
                .push(Call::UnknownOrder(order.clone(), decision))
        });
        decision
    }

    pub fn position(instrument: u32, quantity: i64, _now: u64) {
        CALLS.with(|c| c.borrow_mut().push(Call::Position(instrument, quantity)));
    }

    pub fn difference(order: u64, text: &str, _now: u64) {
        CALLS.with(|c| {
            c.borrow_mut()
                .push(Call::Difference(order, text.to_string()))
        });
    }
}

/// What a connector told the native stand-in (unit tests).
#[cfg(not(target_family = "wasm"))]
#[derive(Debug, Clone)]
pub enum Call {
    /// [`unknown_order`], and the answer given.
    UnknownOrder(VenueOrder, Decision),
    /// [`position`]: the instrument and the quantity.
    Position(u32, i64),
    /// [`difference`]: the host order and the text.
    Difference(u64, String),
}

/// The stand-in's answer to [`unknown_order`] from now on (this thread).
#[cfg(not(target_family = "wasm"))]
pub fn set_decision(decision: Decision) {
    imp::DECISION.with(|d| d.set(decision));
}

/// What this thread told the stand-in since the last call, oldest first.
#[cfg(not(target_family = "wasm"))]
pub fn take_calls() -> Vec<Call> {
    imp::CALLS.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

/// A working order at the venue that this session did not send: the host's
/// decision (cancel it, keep it, or adopt it as a host order).
pub fn unknown_order(order: &VenueOrder, now: u64) -> Decision {
    imp::unknown_order(order, now)
}

/// The venue's net position in `instrument` (long positive), for the host
/// to compare with its own.
pub fn position(instrument: u32, quantity: i64, now: u64) {
    imp::position(instrument, quantity, now)
}

/// The venue's word on host order `order` differed from the connector's:
/// what was found (the reports the connector returns book what the venue
/// said).
pub fn difference(order: u64, text: &str, now: u64) {
    imp::difference(order, text, now)
}
