//! What the host keeps per strategy (its account: ledger, counts, ids,
//! working orders, reports on their way) and per session (order counts).

use std::collections::BTreeMap;

use crate::bindings::types::OrderEvent;
use crate::journal::Halt;
use crate::trading::ids::IdSet;
use crate::trading::ledger::Ledger;

/// Counters of one strategy.
#[derive(Debug, Clone, Default)]
pub struct StrategyCounts {
    /// Commands it sent.
    pub submitted: u64,
    /// Commands approved by every validator.
    pub approved: u64,
    /// Commands refused by the host or a validator.
    pub rejected: u64,
    /// Fills of its resting orders (maker).
    pub maker_fills: u64,
    /// Fills of its orders that took liquidity (taker).
    pub taker_fills: u64,
    /// Market time from acceptance to each maker fill, summed, ns.
    pub queue_wait_ns: u128,
    /// Quantity its GTC limit orders offered to rest: their quantity when
    /// accepted, less what they took as takers.
    pub rested_quantity: i128,
    /// Quantity filled as maker.
    pub maker_quantity: i128,
}

/// One strategy's account at the host.
#[derive(Debug, Default)]
pub(crate) struct Account {
    pub(crate) ledger: Ledger,
    pub(crate) counts: StrategyCounts,
    /// Every client id it ever submitted (a client id is used once).
    pub(crate) ids: IdSet,
    /// Client id → host id of its working orders (in flight included).
    pub(crate) working: BTreeMap<u64, u64>,
    /// Reports waiting to be delivered, with when they reach it (the
    /// strategies' clock).
    pub(crate) pending: Vec<(u64, OrderEvent)>,
    /// Its commands refused, by who refused them (a validator, [`HOST`]).
    pub(crate) refused_by: BTreeMap<String, Refused>,
}

/// The name the host's own refusals, cancels and commands go under, where a
/// validator's or a matcher's name goes otherwise.
pub(crate) const HOST: &str = "host";

/// The commands of one strategy that one validator (or the host) refused.
#[derive(Debug, Clone)]
pub(crate) struct Refused {
    pub(crate) count: u64,
    /// The first refusal's reason and message.
    pub(crate) reason: &'static str,
    pub(crate) message: Option<String>,
}

/// Order counts of a session.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrderCounts {
    /// Commands sent by strategies.
    pub(crate) submitted: u64,
    /// Commands approved by every validator.
    pub(crate) approved: u64,
    /// Commands refused before reaching the matcher.
    pub(crate) rejected: u64,
    /// Refusals by (who, reason). One command may be refused by several validators.
    pub(crate) rejections: BTreeMap<(String, &'static str), u64>,
    /// Refusals by the matcher, by reason.
    pub(crate) venue_rejections: BTreeMap<&'static str, u64>,
    /// Fills of strategy orders.
    pub(crate) fills: u64,
    /// Why trading halted (the matcher failed), if it did.
    pub(crate) halted: Option<Halt>,
}

/// Owners from here on are the gateway's client accounts (the first is
/// client 0); an owner below is a strategy's index.
pub(crate) const CLIENT_BASE: usize = 1 << 24;

/// Where journal records name a client's orders as coming from (their
/// `account` names the client).
pub(crate) const GATEWAY: &str = "gateway";

/// The accounts of the strategies, by index, and of the gateway's clients,
/// from [`CLIENT_BASE`]. Iterating goes over the strategies' only.
#[derive(Debug, Default)]
pub(crate) struct Accounts {
    strategies: Vec<Account>,
    clients: Vec<Account>,
}

impl Accounts {
    /// `n` strategies' accounts.
    pub(crate) fn strategies(n: usize) -> Self {
        Self {
            strategies: (0..n).map(|_| Account::default()).collect(),
            clients: Vec::new(),
        }
    }

    /// A joining strategy's account: its index.
    pub(crate) fn add_strategy(&mut self) -> usize {
        self.strategies.push(Account::default());
        self.strategies.len() - 1
    }

    /// A client's account: its owner index.
    pub(crate) fn add_client(&mut self) -> usize {
        self.clients.push(Account::default());
        CLIENT_BASE + self.clients.len() - 1
    }

    /// The strategies' accounts.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Account> {
        self.strategies.iter()
    }
}

impl std::ops::Index<usize> for Accounts {
    type Output = Account;

    fn index(&self, owner: usize) -> &Account {
        match owner.checked_sub(CLIENT_BASE) {
            Some(client) => &self.clients[client],
            None => &self.strategies[owner],
        }
    }
}

impl std::ops::IndexMut<usize> for Accounts {
    fn index_mut(&mut self, owner: usize) -> &mut Account {
        match owner.checked_sub(CLIENT_BASE) {
            Some(client) => &mut self.clients[client],
            None => &mut self.strategies[owner],
        }
    }
}

impl<'a> IntoIterator for &'a Accounts {
    type Item = &'a Account;
    type IntoIter = std::slice::Iter<'a, Account>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
