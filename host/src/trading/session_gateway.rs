//! The session's side of the gateway (`gateway/`): the clients' requests
//! taken between batches, in the order they arrived, checked, validated and
//! matched like a strategy's commands (each account is an owner of its own,
//! from `CLIENT_BASE`: its ledger, its ids, its validators' context), and
//! their execution reports sent to the account's connections only, after
//! the journal has them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::bindings::types::{CancelOrder, ModifyOrder, NewOrder, OrderCommand};
use crate::config::GatewaySettings;
use crate::engine::Runtime;
use crate::gateway::protocol::{Level, OpenOrder, Reply, Request};
use crate::gateway::{Gateway, Inbound};
use crate::journal::Stop;
use crate::journal::decimal::{self, decimal};
use crate::loading::Plugin;
use crate::sandbox::PluginInstance;
use crate::sandbox::kinds::RiskValidator;
use crate::trading::accounts::CLIENT_BASE;
use crate::trading::report::{ClientReport, GatewayReport};
use crate::trading::report_gateway::{ConnectedClient, VenueBook};
use crate::trading::reporting::open_positions;
use crate::trading::router::OrderRouter;

use super::Session;

#[path = "session_resume.rs"]
mod resume;

/// Requests taken in one turn at most, so that a flood of them does not
/// starve the feed.
const PER_TURN: usize = 4_096;

/// Commands of one account routed together at most: each validator is
/// asked about them in one call, under one call's fuel (a strategy's call
/// seldom sends more).
const PER_RUN: usize = 256;

/// How long a session without a feed waits for a request before it looks
/// at its controls again.
const IDLE_WAIT: Duration = Duration::from_millis(20);

/// The gateway and each account's owner index at the router.
pub(crate) struct Clients {
    pub(crate) gateway: Gateway,
    owners: Vec<usize>,
    /// Requests naming an instrument the venue does not know.
    unknown_instruments: u64,
    /// Per instrument, the connections subscribed and the depth each wants.
    subscribers: BTreeMap<u32, Vec<(u64, u32)>>,
    /// Instruments whose book at the venue may have changed since their
    /// subscribers last heard.
    changed: BTreeSet<u32>,
    /// An earlier session's requests still to enter (`--resume`), and
    /// when entering them began and how many there were.
    recorded: resume::Recorded,
    replay_started: Option<(std::time::Instant, usize)>,
    /// Instruments clients sent orders for since their books were last
    /// read, and those books (best [`BOOK_LEVELS`] a side), for the
    /// operators (the report, the dashboard).
    touched: BTreeSet<u32>,
    books: BTreeMap<u32, (Vec<Level>, Vec<Level>)>,
    /// Per account, by validator name, the validator under the account's
    /// config (`validators` in the accounts file); made at start for every
    /// one an account names.
    own_validators: HashMap<usize, HashMap<String, PluginInstance<RiskValidator>>>,
    runtime: Arc<Runtime>,
    /// Per account, the reports that found none of its connections (the
    /// newest [`MISSED`]), told at its next logon after its open orders.
    missed: HashMap<usize, std::collections::VecDeque<Reply>>,
}

/// Reports kept for an account while none of its connections is logged on.
const MISSED: usize = 10_000;

/// Levels a side of the books the operators see.
const BOOK_LEVELS: u32 = 5;

impl Clients {
    /// Serve clients as `settings` say, their accounts added to `router`
    /// (none without a `[gateway]`).
    pub(crate) fn start(
        settings: &GatewaySettings,
        router: &mut OrderRouter,
        validators: &[PluginInstance<RiskValidator>],
        runtime: &Arc<Runtime>,
    ) -> Result<Option<Self>> {
        if !settings.is_on() {
            return Ok(None);
        }
        let gateway = Gateway::start(settings)?;
        // Each account's own validator configs, each tried once now: a
        // validator that is not installed, or that refuses the config,
        // stops the venue before it serves anyone.
        let mut own_validators = HashMap::new();
        for (index, account) in gateway.accounts().iter().enumerate() {
            for (name, entries) in &account.validators {
                let shared = validators
                    .iter()
                    .find(|v| v.plugin().name() == name.as_str())
                    .with_context(|| {
                        format!(
                            "account `{}`: validators.{name}: no such validator is installed",
                            account.name
                        )
                    })?;
                let mut own = PluginInstance::new(runtime.clone(), shared.plugin().clone())
                    .with_config_overlay(entries.clone());
                own.ensure_live().map_err(|fault| {
                    anyhow::anyhow!(
                        "account `{}`: validators.{name}: the validator refused the config: {fault}",
                        account.name
                    )
                })?;
                own_validators
                    .entry(index)
                    .or_insert_with(HashMap::new)
                    .insert(name.clone(), own);
            }
        }
        // Trades and the drop copy come from the fills the router books.
        router.keep_fills();
        let owners = gateway
            .accounts()
            .iter()
            .map(|account| router.add_client(&account.name))
            .collect();
        Ok(Some(Self {
            gateway,
            owners,
            unknown_instruments: 0,
            subscribers: BTreeMap::new(),
            changed: BTreeSet::new(),
            recorded: resume::Recorded::new(),
            replay_started: None,
            touched: BTreeSet::new(),
            books: BTreeMap::new(),
            own_validators,
            runtime: runtime.clone(),
            missed: HashMap::new(),
        }))
    }

    /// The instance of validator `shared` that answers for `owner`: one
    /// under the account's own config if it has one, else none. After a
    /// swap or a reconfiguration it is made again from the running version
    /// and handed the earlier one's state (as the shared instance was).
    pub(crate) fn own_validator(
        &mut self,
        owner: usize,
        shared: &Arc<Plugin>,
    ) -> Option<&mut PluginInstance<RiskValidator>> {
        // Accounts are owners from `CLIENT_BASE` on, in order.
        let account = owner.checked_sub(CLIENT_BASE)?;
        let own = self
            .own_validators
            .get_mut(&account)?
            .get_mut(shared.name())?;
        if !Arc::ptr_eq(own.plugin(), shared) {
            let entries = self
                .gateway
                .accounts()
                .get(account)?
                .validators
                .get(shared.name())?;
            let mut fresh = PluginInstance::new(self.runtime.clone(), shared.clone())
                .with_config_overlay(entries.clone());
            if let Err(why) = own.hand_over_to(&mut fresh) {
                tracing::warn!(
                    "gateway: account `{}`: {} under its own config starts afresh: {why}",
                    self.gateway.accounts().get(account).map_or("", |a| &a.name),
                    shared.id()
                );
            }
            *own = fresh;
        }
        Some(own)
    }

    /// The matcher is about to execute `commands`: their books may change.
    pub(crate) fn book_may_change(&mut self, commands: &[OrderCommand]) {
        self.touched
            .extend(commands.iter().map(OrderCommand::instrument));
        let subscribed = &self.subscribers;
        self.changed.extend(
            commands
                .iter()
                .map(OrderCommand::instrument)
                .filter(|i| subscribed.contains_key(i)),
        );
    }

    /// Connection `conn` subscribes to `instrument` at `depth` (again: the
    /// new depth), or, with `None`, unsubscribes.
    fn subscribe(&mut self, conn: u64, instrument: u32, depth: Option<u32>) {
        let subscribers = self.subscribers.entry(instrument).or_default();
        subscribers.retain(|(c, _)| *c != conn);
        if let Some(depth) = depth {
            subscribers.push((conn, depth));
            self.changed.insert(instrument);
        }
        if subscribers.is_empty() {
            self.subscribers.remove(&instrument);
        }
    }
}

impl Session {
    /// Hand the clients the reports waiting for them, then take the
    /// requests waiting (the first one waiting up to `wait`). Whether any
    /// request came.
    pub(super) fn serve_clients(&mut self, wait: Option<Duration>) -> bool {
        if self.clients.is_none() {
            return false;
        }
        // Resuming: the recorded requests due, and none of the clients'
        // until they are all in.
        if let Some(due) = self.due_recorded(false) {
            self.route_requests(due);
            self.forget_replies();
            return false;
        }
        self.reply_to_clients();
        self.publish_market();
        let mut taken: Vec<Inbound> = Vec::new();
        let mut wait = wait;
        while taken.len() < PER_TURN {
            let clients = self.clients.as_ref().expect("checked above");
            match clients.gateway.next(wait.take()) {
                Some(inbound) => taken.push(inbound),
                None => break,
            }
        }
        if taken.is_empty() {
            return false;
        }
        self.route_requests(taken);
        self.reply_to_clients();
        self.publish_market();
        true
    }

    /// Route `taken`, in arrival order; one account's requests in a row go
    /// together, up to `PER_RUN` (its validators are asked once for them).
    fn route_requests(&mut self, taken: Vec<Inbound>) {
        let mut run: Vec<OrderCommand> = Vec::new();
        let mut run_of = None;
        for inbound in taken {
            // A list of open orders follows what came before it.
            let listing = matches!(inbound.request, Request::OpenOrders);
            if (run_of != Some(inbound.account) || run.len() >= PER_RUN || listing)
                && !run.is_empty()
            {
                let account = run_of.expect("a run has an account");
                self.route_client(account, std::mem::take(&mut run));
            }
            run_of = Some(inbound.account);
            if let Some(command) = self.client_command(inbound) {
                run.push(command);
            }
        }
        if let Some(account) = run_of {
            self.route_client(account, run);
        }
    }

    /// What replaying recorded requests led to is told to nobody (the
    /// clients heard it the first time).
    fn forget_replies(&mut self) {
        let Some(clients) = self.clients.as_mut() else {
            return;
        };
        for owner in &clients.owners {
            self.router.take_pending(*owner, None);
        }
        self.router.take_fills();
        clients.changed.clear();
    }

    /// Serve the clients after the feed ended, until a stop is asked for.
    pub(super) fn serve_until_stopped(&mut self) {
        if self.clients.is_none() {
            return;
        }
        while let Some(due) = self.due_recorded(true) {
            self.route_requests(due);
            self.forget_replies();
        }
        tracing::info!("gateway: the feed ended; serving clients until stopped (Ctrl-C)");
        while !self.control.stop_requested() {
            self.serve_clients(Some(IDLE_WAIT));
            if !self.between_batches() {
                break;
            }
        }
    }

    /// The session ends: the clients hear the last of their reports, and
    /// that the venue closes.
    pub(super) fn close_gateway(&mut self) {
        self.reply_to_clients();
        self.publish_market();
        if let Some(clients) = self.clients.as_mut() {
            clients.gateway.close();
        }
    }

    fn route_client(&mut self, account: usize, commands: Vec<OrderCommand>) {
        let owner = self.clients.as_ref().expect("serving clients").owners[account];
        self.route(owner, commands);
    }

    /// The command a request asks for; `None` for a subscription (done
    /// here) or when its instrument is unknown (the client is told; nothing
    /// reaches the host's checks).
    fn client_command(&mut self, inbound: Inbound) -> Option<OrderCommand> {
        let now = self.runtime.local_clock().now();
        if matches!(inbound.request, Request::OpenOrders) {
            self.list_open_orders(inbound.account, inbound.conn);
            return None;
        }
        let clients = self.clients.as_mut().expect("serving clients");
        let symbol = inbound.request.symbol().to_string();
        let Some(instrument) = self.market.instrument(&symbol) else {
            clients.unknown_instruments += 1;
            let message = format!("unknown instrument `{symbol}`");
            match inbound.request {
                Request::Submit { id, .. }
                | Request::Cancel { id, .. }
                | Request::Modify { id, .. } => {
                    let reply = Reply::Rejected {
                        id,
                        symbol,
                        reason: "invalid-order".into(),
                        message: Some(message),
                        ts: now,
                    };
                    clients.gateway.send(inbound.account, &reply);
                }
                Request::Subscribe { .. } | Request::Unsubscribe { .. } | Request::OpenOrders => {
                    let reply = Reply::Error {
                        reason: message,
                        symbol: Some(symbol),
                    };
                    clients.gateway.send_to(inbound.conn, &reply);
                }
            }
            return None;
        };
        Some(match inbound.request {
            Request::Submit {
                id,
                side,
                order_type,
                tif,
                price,
                quantity,
                ..
            } => OrderCommand::Submit(NewOrder {
                id,
                instrument,
                side,
                order_type,
                time_in_force: tif,
                price,
                quantity,
            }),
            Request::Cancel { id, .. } => OrderCommand::Cancel(CancelOrder { id, instrument }),
            Request::Modify {
                id,
                price,
                quantity,
                ..
            } => OrderCommand::Modify(ModifyOrder {
                id,
                instrument,
                price,
                quantity,
            }),
            Request::Subscribe { depth, .. } => {
                clients.subscribe(inbound.conn, instrument, Some(depth));
                let reply = Reply::Subscribed { symbol, depth };
                clients.gateway.send_to(inbound.conn, &reply);
                return None;
            }
            Request::Unsubscribe { .. } => {
                clients.subscribe(inbound.conn, instrument, None);
                let reply = Reply::Unsubscribed { symbol };
                clients.gateway.send_to(inbound.conn, &reply);
                return None;
            }
            // Answered before the instrument is looked up.
            Request::OpenOrders => return None,
        })
    }

    /// Tell connection `conn` the working orders of `account`, then the
    /// reports the account missed while none of its connections was on.
    fn list_open_orders(&mut self, account: usize, conn: u64) {
        let clients = self.clients.as_ref().expect("serving clients");
        let amount = |v: i64| decimal::exact(i128::from(v));
        let orders = self
            .router
            .open_orders(clients.owners[account])
            .into_iter()
            .map(|o| OpenOrder {
                id: o.id,
                symbol: crate::trading::audit::symbol(&self.market, o.instrument),
                side: o.side.name(),
                price: o.limit.map(amount),
                leaves: amount(o.leaves),
                filled: amount(o.filled),
                average: o.average.map(amount),
            })
            .collect();
        clients.gateway.send_to(conn, &Reply::OpenOrders { orders });
        let clients = self.clients.as_mut().expect("serving clients");
        for reply in clients.missed.remove(&account).unwrap_or_default() {
            clients.gateway.send_to(conn, &reply);
        }
    }

    /// What the venue's subscribers and drop copies hear: each fill booked
    /// since (a trade per taker fill; every fill to the drop copies), then
    /// the books that may have changed, from the matcher's `depth`.
    fn publish_market(&mut self) {
        let Some(clients) = self.clients.as_mut() else {
            return;
        };
        let market = &self.market;
        let symbol = |id: u32| crate::trading::audit::symbol(market, id);
        let amount = |v: i64| decimal::exact(i128::from(v));
        let mut closed = Vec::new();
        for fill in self.router.take_fills() {
            let (strategy, account) = self.router.sender(fill.owner);
            let execution = Reply::Execution {
                account: account.map(str::to_string),
                strategy: account.is_none().then(|| strategy.to_string()),
                id: fill.client_id,
                symbol: symbol(fill.instrument),
                side: fill.side.name(),
                price: amount(fill.price),
                quantity: amount(fill.quantity),
                maker: fill.maker,
                ts: fill.ts,
            };
            clients.gateway.send_drop_copy(&execution);
            if fill.maker {
                continue;
            }
            let trade = Reply::Trade {
                symbol: symbol(fill.instrument),
                price: amount(fill.price),
                quantity: amount(fill.quantity),
                aggressor: fill.side.name(),
                ts: fill.ts,
            };
            for (conn, _) in clients
                .subscribers
                .get(&fill.instrument)
                .into_iter()
                .flatten()
            {
                if !clients.gateway.send_to(*conn, &trade) {
                    closed.push(*conn);
                }
            }
        }
        let now = self.runtime.local_clock().now();
        for instrument in std::mem::take(&mut clients.changed) {
            let Some(subscribers) = clients.subscribers.get(&instrument) else {
                continue;
            };
            let deepest = subscribers.iter().map(|(_, d)| *d).max().unwrap_or(0);
            let Some(book) = depth(self.slots.matcher.as_mut(), instrument, deepest, &symbol)
            else {
                continue;
            };
            for (conn, depth) in subscribers.iter().filter(|(_, d)| *d > 0) {
                let reply = Reply::Book {
                    symbol: symbol(instrument),
                    bids: levels(&book.bids, *depth),
                    asks: levels(&book.asks, *depth),
                    ts: now,
                };
                if !clients.gateway.send_to(*conn, &reply) {
                    closed.push(*conn);
                }
            }
        }
        for conn in closed {
            let instruments: Vec<u32> = clients.subscribers.keys().copied().collect();
            for instrument in instruments {
                clients.subscribe(conn, instrument, None);
            }
        }
    }

    /// The operators' view of the books clients traded since it was last
    /// read (the report, the dashboard): read when a snapshot is taken, not
    /// per order.
    pub(crate) fn refresh_venue_books(&mut self) {
        let Some(clients) = self.clients.as_mut() else {
            return;
        };
        let market = &self.market;
        let symbol = |id: u32| crate::trading::audit::symbol(market, id);
        for instrument in std::mem::take(&mut clients.touched) {
            if let Some(book) = depth(
                self.slots.matcher.as_mut(),
                instrument,
                BOOK_LEVELS,
                &symbol,
            ) {
                let top = (
                    levels(&book.bids, BOOK_LEVELS),
                    levels(&book.asks, BOOK_LEVELS),
                );
                clients.books.insert(instrument, top);
            }
        }
    }

    /// Every report waiting for a client goes to its account's connections,
    /// once the journal's writer has its records.
    fn reply_to_clients(&mut self) {
        let Some(clients) = self.clients.as_ref() else {
            return;
        };
        let mut due = Vec::new();
        for (account, owner) in clients.owners.iter().enumerate() {
            let events = self.router.take_pending(*owner, None);
            if !events.is_empty() {
                due.push((account, events));
            }
        }
        if due.is_empty() {
            return;
        }
        // Written out before any client hears of it.
        if let Some(writer) = self.journal_writer.as_mut()
            && let Err(why) = writer.sync()
        {
            tracing::error!("gateway: the journal failed, no report is sent: {why}");
            self.counts.stopped = Some(Stop::Journal(why));
            self.control
                .stop_flag()
                .store(true, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        let clients = self.clients.as_mut().expect("checked above");
        for (account, events) in due {
            for event in &events {
                let symbol = crate::trading::audit::symbol(&self.market, event.instrument());
                let reply = Reply::report(event, &symbol);
                if clients.gateway.send(account, &reply) == 0 {
                    let missed = clients.missed.entry(account).or_default();
                    if missed.len() == MISSED {
                        missed.pop_front();
                    }
                    missed.push_back(reply);
                }
            }
        }
    }
}

/// The matcher's book of `instrument` to `levels` a side (none without a
/// matcher, for no levels, or when the call failed: logged).
fn depth(
    matcher: Option<&mut PluginInstance<crate::sandbox::kinds::Matcher>>,
    instrument: u32,
    levels: u32,
    symbol: &dyn Fn(u32) -> String,
) -> Option<crate::bindings::types::BookDepth> {
    let matcher = matcher.filter(|_| levels > 0)?;
    matcher
        .call(|b, s| b.depth(s, instrument, levels))
        .map_err(|fault| {
            tracing::warn!(
                "gateway: the matcher's book of {}: {fault}",
                symbol(instrument)
            );
        })
        .ok()
}

/// The best `depth` levels of one side of a book.
fn levels(side: &[crate::bindings::types::DepthLevel], depth: u32) -> Vec<Level> {
    side.iter()
        .take(depth as usize)
        .map(|l| Level::new(l.price, l.quantity, l.orders))
        .collect()
}

impl Session {
    /// The report's `gateway` object (none without one).
    pub(crate) fn gateway_report(&self) -> Option<GatewayReport> {
        let clients = self.clients.as_ref()?;
        let counts = clients.gateway.counts();
        let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        let symbol = |id: u32| crate::trading::audit::symbol(&self.market, id);
        let accounts = clients
            .gateway
            .accounts()
            .iter()
            .zip(&clients.owners)
            .map(|(account, owner)| {
                let a = &self.router.accounts[*owner];
                ClientReport {
                    account: account.name.clone(),
                    submitted: a.counts.submitted,
                    approved: a.counts.approved,
                    rejected: a.counts.rejected,
                    fills: a.ledger.fills(),
                    fees: decimal(a.ledger.fees(), 2),
                    realized_pnl: decimal(a.ledger.realized_pnl(), 2),
                    positions: open_positions(&a.ledger, symbol),
                }
            })
            .collect();
        Some(GatewayReport {
            websocket: clients.gateway.websocket.map(|a| a.to_string()),
            fix: clients.gateway.fix.map(|a| a.to_string()),
            connections: n(&counts.connections),
            logons: n(&counts.logons),
            refused_logons: n(&counts.refused_logons),
            turned_away: n(&counts.turned_away),
            malformed: n(&counts.malformed),
            rate_limited: n(&counts.rate_limited),
            busy: n(&counts.busy),
            slow_consumers: n(&counts.slow_consumers),
            unknown_instruments: clients.unknown_instruments,
            accounts,
            connected: clients
                .gateway
                .connected()
                .into_iter()
                .map(|(connection, account, protocol)| ConnectedClient {
                    connection,
                    account: clients
                        .gateway
                        .accounts()
                        .get(account)
                        .map_or_else(String::new, |a| a.name.clone()),
                    protocol: protocol.to_string(),
                })
                .collect(),
            books: clients
                .books
                .iter()
                .map(|(instrument, (bids, asks))| VenueBook {
                    symbol: symbol(*instrument),
                    bids: bids.clone(),
                    asks: asks.clone(),
                })
                .collect(),
        })
    }
}
