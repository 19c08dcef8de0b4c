//! The `reconciliation` import (1.3.0, network connectors; the store
//! answers it from here): what a connector finds when it compares the
//! venue's view with its own after a logon. The import only records (and answers an unknown order with the
//! session's policy); the session takes the findings after each call and
//! books, journals and reports them (`trading::reconcile`). Only the
//! session's network connector is heard: a call from any other plugin is
//! ignored (and an unknown order kept).

use std::sync::{Arc, Mutex, MutexGuard};

pub use crate::bindings::current::network_connector::tradsys::plugins::reconciliation::{
    Decision, VenueOrder,
};
use crate::config::UnknownOrders;

/// Findings kept between two takes; a connector that calls more often than
/// this in one call is not heard beyond it (and the overflow is counted).
const MAX_FINDINGS: usize = 10_000;

/// The first host id of adopted orders: far above the ids the router gives
/// (one per order, counting from 1), so the two never meet.
pub const ADOPTED_BASE: u64 = 1 << 62;

/// One thing a connector reported.
#[derive(Debug, Clone)]
pub enum Finding {
    /// A working order at the venue the host did not know, and what the
    /// host decided.
    UnknownOrder {
        order: VenueOrder,
        decision: Decision,
        now: u64,
    },
    /// The venue's net position in an instrument.
    Position {
        instrument: u32,
        quantity: i64,
        now: u64,
    },
    /// The venue's word on a host order differed from the connector's.
    Difference { order: u64, text: String, now: u64 },
}

#[derive(Debug, Default)]
struct State {
    /// The network connector heard (its name); nobody when unset.
    connector: Option<String>,
    policy: UnknownOrders,
    /// The next adopted order's host id.
    next_adopted: u64,
    findings: Vec<Finding>,
    /// Findings dropped for want of room.
    dropped: u64,
}

/// The findings of a session's network connector, shared by the session
/// and every store.
#[derive(Debug, Clone, Default)]
pub struct SharedReconciliation(Arc<Mutex<State>>);

impl SharedReconciliation {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session: hear `connector`, decide unknown orders by `policy`;
    /// nothing found yet, adopted ids from the start.
    pub fn start(&self, connector: &str, policy: UnknownOrders) {
        *self.lock() = State {
            connector: Some(connector.to_string()),
            policy,
            next_adopted: ADOPTED_BASE,
            findings: Vec::new(),
            dropped: 0,
        };
    }

    /// What was found since the last take, oldest first, and how many
    /// findings were dropped.
    pub fn take(&self) -> (Vec<Finding>, u64) {
        let mut state = self.lock();
        let dropped = std::mem::take(&mut state.dropped);
        (std::mem::take(&mut state.findings), dropped)
    }
}

impl SharedReconciliation {
    /// The state, when `caller` is the connector heard.
    fn heard(&self, caller: &str) -> Option<MutexGuard<'_, State>> {
        let state = self.lock();
        (state.connector.as_deref() == Some(caller)).then_some(state)
    }

    /// `unknown-order` from plugin `caller`: the session's decision.
    pub fn unknown_order(&self, caller: &str, order: VenueOrder, now: u64) -> Decision {
        let Some(mut state) = self.heard(caller) else {
            return Decision::Keep;
        };
        // Only an order the host could hold is adopted: an instrument of
        // the session, something left, a positive price or none.
        let adoptable = order.instrument.is_some()
            && order.leaves_quantity > 0
            && order.filled_quantity >= 0
            && order.price.is_none_or(|p| p > 0);
        let decision = match state.policy {
            UnknownOrders::Cancel => Decision::Cancel,
            UnknownOrders::Keep => Decision::Keep,
            UnknownOrders::Adopt if adoptable && state.findings.len() < MAX_FINDINGS => {
                state.next_adopted += 1;
                Decision::Adopt(state.next_adopted - 1)
            }
            UnknownOrders::Adopt => Decision::Keep,
        };
        record(
            &mut state,
            Finding::UnknownOrder {
                order,
                decision,
                now,
            },
        );
        decision
    }

    /// `position` from plugin `caller`.
    pub fn position(&self, caller: &str, instrument: u32, quantity: i64, now: u64) {
        if let Some(mut state) = self.heard(caller) {
            record(
                &mut state,
                Finding::Position {
                    instrument,
                    quantity,
                    now,
                },
            );
        }
    }

    /// `difference` from plugin `caller`.
    pub fn difference(&self, caller: &str, order: u64, text: &str, now: u64) {
        if let Some(mut state) = self.heard(caller) {
            // A line for the operator, not a document.
            let text: String = text.chars().take(500).collect();
            record(&mut state, Finding::Difference { order, text, now });
        }
    }
}

fn record(state: &mut State, finding: Finding) -> bool {
    if state.findings.len() >= MAX_FINDINGS {
        state.dropped += 1;
        return false;
    }
    state.findings.push(finding);
    true
}
