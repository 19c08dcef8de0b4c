//! A venue comes back after a crash (`tradsys run --resume JOURNAL`): the
//! session runs again from the start, as before (the same feed, the same
//! seed), and each client order request of the earlier journal is entered
//! again where it was served (the batches taken then: the order record's
//! `batch`), so the matcher's books, every account's ledger and ids, and
//! the validators' state come back as they were. Nothing is told to the
//! clients while it replays; requests that arrive meanwhile wait, and are
//! taken once the last recorded one is in. The new journal holds the
//! replayed records and what follows.

use std::collections::VecDeque;
use std::path::Path;

use anyhow::{Context as _, Result};

use crate::bindings::types::{OrderType, Side, TimeInForce};
use crate::gateway::protocol::Request;
use crate::gateway::{Accounts, Inbound};
use crate::journal::decimal;
use crate::journal::{Entry, OrderEntry, Reader as JournalReader};

use super::super::Session;

/// Client requests of an earlier session, by the batches taken when each
/// was served, in their order.
pub(crate) type Recorded = VecDeque<(u64, Inbound)>;

/// The client order requests `journal` recorded, by account in `accounts`.
pub(crate) fn recorded(journal: &Path, accounts: &Accounts) -> Result<Recorded> {
    let mut out = VecDeque::new();
    for record in JournalReader::open(journal).map_err(anyhow::Error::msg)? {
        let record = record.map_err(anyhow::Error::msg)?;
        let Entry::Order(order) = record.entry else {
            continue;
        };
        let Some(name) = order.account.clone() else {
            continue;
        };
        let account = accounts
            .iter()
            .position(|a| a.name == name)
            .with_context(|| {
                format!(
                    "{}: account `{name}` (record {}) is not in the accounts file",
                    journal.display(),
                    record.seq
                )
            })?;
        let request = request(&order)
            .with_context(|| format!("{}: record {}", journal.display(), record.seq))?;
        out.push_back((
            order.batch.unwrap_or(0),
            Inbound {
                account,
                // No connection has id 0: nobody hears the replay.
                conn: 0,
                request,
            },
        ));
    }
    Ok(out)
}

/// The request an order record of a client's was.
fn request(order: &OrderEntry) -> Result<Request> {
    let fixed = |what: &str, text: Option<&String>| -> Result<i64> {
        let text = text.with_context(|| format!("{} without its {what}", order.action))?;
        let value = decimal::parse(text).map_err(anyhow::Error::msg)?;
        i64::try_from(value).with_context(|| format!("{what} {text} out of range"))
    };
    let symbol = order.instrument.clone();
    let id = order.id;
    Ok(match order.action.as_str() {
        "submit" => {
            let order_type = match order.order_type.as_deref() {
                Some("market") => OrderType::Market,
                _ => OrderType::Limit,
            };
            Request::Submit {
                id,
                symbol,
                side: match order.side.as_deref() {
                    Some("sell") => Side::Sell,
                    _ => Side::Buy,
                },
                order_type,
                tif: match order.tif.as_deref() {
                    Some("ioc") => TimeInForce::Ioc,
                    Some("fok") => TimeInForce::Fok,
                    _ => TimeInForce::Gtc,
                },
                price: match order_type {
                    OrderType::Market => 0,
                    OrderType::Limit => fixed("price", order.price.as_ref())?,
                },
                quantity: fixed("quantity", order.quantity.as_ref())?,
            }
        }
        "cancel" => Request::Cancel { id, symbol },
        "modify" => Request::Modify {
            id,
            symbol,
            price: fixed("price", order.price.as_ref())?,
            quantity: fixed("quantity", order.quantity.as_ref())?,
        },
        other => anyhow::bail!("an order record of action `{other}`"),
    })
}

impl Session {
    /// Resume the venue of `journal`: its clients' requests are entered
    /// again as the session runs. How many.
    pub(crate) fn resume_clients(&mut self, journal: &Path) -> Result<usize> {
        let clients = self
            .clients
            .as_mut()
            .context("--resume of a venue needs its [gateway]")?;
        let recorded = recorded(journal, clients.gateway.accounts())?;
        let count = recorded.len();
        tracing::info!(
            "gateway: resuming {}: {count} client requests to enter again",
            journal.display()
        );
        clients.recorded = recorded;
        Ok(count)
    }

    /// The recorded requests due now (served at or before the batches
    /// taken; all of them once the feed has ended), if any are left.
    pub(super) fn due_recorded(&mut self, ended: bool) -> Option<Vec<Inbound>> {
        let batches = self.counts.batches;
        let clients = self.clients.as_mut()?;
        if clients.recorded.is_empty() {
            // The last ones were routed: how long entering them took (the
            // venue's in-process rate, without the network).
            if let Some((started, count)) = clients.replay_started.take() {
                let ms = started.elapsed().as_secs_f64() * 1e3;
                tracing::info!(
                    "gateway: the recorded requests are in ({count} in {ms:.1} ms); serving clients"
                );
            }
            return None;
        }
        clients
            .replay_started
            .get_or_insert_with(|| (std::time::Instant::now(), clients.recorded.len()));
        let mut due = Vec::new();
        while let Some((batch, _)) = clients.recorded.front() {
            if *batch > batches && !ended {
                break;
            }
            let (_, inbound) = clients.recorded.pop_front().expect("looked at");
            due.push(inbound);
        }
        Some(due)
    }
}
