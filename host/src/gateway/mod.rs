//! The gateway: the host as a venue. Clients connect over WebSocket (JSON
//! messages, `protocol.rs`) or FIX 4.4 (`fix.rs`: the session's rules in
//! `fix_session.rs`, its messages in `fix_orders.rs`), log on to an account
//! (`accounts.rs`), and send
//! orders that the session checks, validates and hands to the matcher with
//! the strategies' (`trading/session_gateway.rs`); each account's execution
//! reports come back to its connections only. Subscribers get trades and
//! the venue's book; drop-copy accounts every fill.
//!
//! The connections live on a thread of their own (a current-thread tokio
//! runtime serving both listeners). Between it and the session's thread:
//! - an inbox of checked requests, bounded: a request that finds it full is
//!   refused (`venue busy`), never queued without end;
//! - per connection, a bounded queue of replies. The session never waits
//!   on a client: a connection whose queue is full is a slow consumer and
//!   is closed with the reason, and the others are not slowed. A reply is
//!   put in the queues as it is; each connection writes it in its protocol.

pub(crate) mod accounts;
mod fix;
mod fix_fields;
mod fix_orders;
mod fix_session;
pub(crate) mod protocol;
mod websocket;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::{Notify, mpsc};

use crate::config::GatewaySettings;

pub use accounts::{Accounts, hash_key, new_key};
use protocol::{Reply, Request};

/// Requests waiting for the session at most.
const INBOX: usize = 65_536;

/// A client that has not logged on by then is disconnected.
pub(super) const LOGON_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a closing connection is given to take its last message.
pub(super) const FAREWELL: Duration = Duration::from_secs(1);

/// A client that takes no message for this long while one waits is a slow
/// consumer too (its connection's buffers are full; its queue may not be).
pub(super) const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// A logged-on client's request, for the session.
#[derive(Debug)]
pub(crate) struct Inbound {
    /// The account's index in [`Accounts`].
    pub(crate) account: usize,
    /// The connection it came on.
    pub(crate) conn: u64,
    pub(crate) request: Request,
}

/// What the gateway counted, for the report.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) connections: AtomicU64,
    pub(crate) logons: AtomicU64,
    pub(crate) refused_logons: AtomicU64,
    pub(crate) turned_away: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) busy: AtomicU64,
    pub(crate) slow_consumers: AtomicU64,
}

/// One logged-on connection, as the session reaches it.
struct Conn {
    account: usize,
    /// `websocket` or `fix`.
    protocol: &'static str,
    replies: mpsc::Sender<Arc<Reply>>,
    /// Told when the connection is to close; the reason is in `closing`.
    close: Arc<Notify>,
    closing: Arc<Mutex<Option<String>>>,
}

/// What both threads share.
struct Shared {
    accounts: Accounts,
    settings: GatewaySettings,
    inbox: SyncSender<Inbound>,
    conns: Mutex<HashMap<u64, Conn>>,
    next_conn: AtomicU64,
    /// Connections open now (logged on or not).
    open: AtomicUsize,
    counts: Counts,
    fix: Mutex<FixSessions>,
}

/// Each account's FIX sequence numbers while the venue runs, and the
/// accounts logged on over FIX now (one session each).
#[derive(Default)]
struct FixSessions {
    idle: HashMap<usize, fix_session::Sequences>,
    active: HashSet<usize>,
}

impl Shared {
    fn conns(&self) -> MutexGuard<'_, HashMap<u64, Conn>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fix_sessions(&self) -> MutexGuard<'_, FixSessions> {
        self.fix.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new connection is open, unless `max_connections` are: then why not.
    fn open_connection(self: &Arc<Self>) -> Result<Open, String> {
        let max = self.settings.max_connections;
        if self.open.fetch_add(1, Ordering::Relaxed) >= max {
            self.open.fetch_sub(1, Ordering::Relaxed);
            self.counts.turned_away.fetch_add(1, Ordering::Relaxed);
            return Err(format!("too many connections: {max} are open"));
        }
        self.counts.connections.fetch_add(1, Ordering::Relaxed);
        Ok(Open(self.clone()))
    }

    /// A logged-on client's request for the session; the refusal it is
    /// told when the inbox is full or closed.
    fn forward(&self, account: usize, conn: u64, request: Request) -> Result<(), String> {
        let subject = request.subject();
        match self.inbox.try_send(Inbound {
            account,
            conn,
            request,
        }) {
            Ok(()) => Ok(()),
            Err(std::sync::mpsc::TrySendError::Full(_)) => {
                self.counts.busy.fetch_add(1, Ordering::Relaxed);
                Err(format!("venue busy: {subject} dropped"))
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                Err(format!("the venue is closing: {subject} dropped"))
            }
        }
    }

    /// Connection `id` of account `name` is a slow consumer (`why`): counted
    /// and logged once, by whoever takes it out of the map (the session may
    /// have); the reason it is told.
    fn slow_consumer(&self, id: u64, name: &str, why: &str) -> String {
        if self.conns().remove(&id).is_some() {
            self.counts.slow_consumers.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "gateway: connection {id} of account `{name}` closed as a slow consumer, {why}"
            );
        }
        format!("slow consumer: {why}")
    }
}

/// One connection counted open until dropped.
struct Open(Arc<Shared>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A token bucket of one second's messages: a connection's rate limit.
struct Bucket {
    rate: f64,
    tokens: f64,
    at: std::time::Instant,
}

impl Bucket {
    fn new(per_second: u32) -> Self {
        Self {
            rate: f64::from(per_second),
            tokens: f64::from(per_second),
            at: std::time::Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = std::time::Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.rate);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The running gateway, owned by the session.
pub(crate) struct Gateway {
    shared: Arc<Shared>,
    inbox: Receiver<Inbound>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
    /// Where WebSocket clients connect.
    pub(crate) websocket: Option<SocketAddr>,
    /// Where FIX clients connect.
    pub(crate) fix: Option<SocketAddr>,
}

/// A listener on `address`, for the gateway's runtime.
fn listen(address: SocketAddr, what: &str) -> Result<(std::net::TcpListener, SocketAddr)> {
    let listener = std::net::TcpListener::bind(address)
        .with_context(|| format!("gateway: listening for {what} clients on {address}"))?;
    let bound = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    Ok((listener, bound))
}

impl Gateway {
    /// Read the accounts and serve `settings.websocket` and `settings.fix`.
    pub(crate) fn start(settings: &GatewaySettings) -> Result<Self> {
        let path = settings
            .accounts
            .as_ref()
            .context("gateway.accounts is not set")?;
        let accounts = Accounts::load(path)?;
        let ws = settings
            .websocket
            .map(|a| listen(a, "WebSocket"))
            .transpose()?;
        let fix = settings.fix.map(|a| listen(a, "FIX")).transpose()?;
        let websocket = ws.as_ref().map(|(_, a)| *a);
        let fix_address = fix.as_ref().map(|(_, a)| *a);
        let (inbox_tx, inbox) = std::sync::mpsc::sync_channel(INBOX);
        let shared = Arc::new(Shared {
            accounts,
            settings: settings.clone(),
            inbox: inbox_tx,
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            open: AtomicUsize::new(0),
            counts: Counts::default(),
            fix: Mutex::new(FixSessions::default()),
        });
        let (shutdown, stop) = tokio::sync::watch::channel(false);
        let serving = shared.clone();
        let thread = std::thread::Builder::new()
            .name("tradsys-gateway".into())
            .spawn(move || serve(ws.map(|(l, _)| l), fix.map(|(l, _)| l), serving, stop))
            .context("starting the gateway's thread")?;
        if let Some(address) = websocket {
            tracing::info!("gateway: WebSocket clients on ws://{address}");
        }
        if let Some(address) = fix_address {
            tracing::info!(
                "gateway: FIX 4.4 clients on {address} (TargetCompID {})",
                shared.settings.fix_comp_id
            );
        }
        tracing::info!("gateway: {} accounts", shared.accounts.len());
        Ok(Self {
            shared,
            inbox,
            shutdown: Some(shutdown),
            thread: Some(thread),
            websocket,
            fix: fix_address,
        })
    }

    /// The accounts clients log on to.
    pub(crate) fn accounts(&self) -> &Accounts {
        &self.shared.accounts
    }

    /// The connections logged on now: id, account and protocol, by id.
    pub(crate) fn connected(&self) -> Vec<(u64, usize, &'static str)> {
        let mut connected: Vec<_> = self
            .shared
            .conns()
            .iter()
            .map(|(id, conn)| (*id, conn.account, conn.protocol))
            .collect();
        connected.sort_unstable();
        connected
    }

    /// What the gateway counted so far.
    pub(crate) fn counts(&self) -> &Counts {
        &self.shared.counts
    }

    /// The next request, waiting up to `wait` (none: not at all).
    pub(crate) fn next(&self, wait: Option<Duration>) -> Option<Inbound> {
        match wait {
            None => self.inbox.try_recv().ok(),
            Some(wait) => self.inbox.recv_timeout(wait).ok(),
        }
    }

    /// Send `reply` to every connection of `account`, never waiting: one
    /// whose queue is full is closed as a slow consumer.
    /// How many connections it reached.
    pub(crate) fn send(&self, account: usize, reply: &Reply) -> usize {
        self.send_where(reply, |_, conn| conn.account == account)
    }

    /// Send `reply` to connection `id`; whether it is still open.
    pub(crate) fn send_to(&self, id: u64, reply: &Reply) -> bool {
        self.send_where(reply, |conn, _| conn == id) > 0
    }

    /// Send `reply` to every connection of a drop-copy account.
    pub(crate) fn send_drop_copy(&self, reply: &Reply) {
        let accounts = &self.shared.accounts;
        self.send_where(reply, |_, conn| {
            accounts.get(conn.account).is_some_and(|a| a.drop_copy)
        });
    }

    /// Send `reply` to the connections `to` picks; how many stay open.
    fn send_where(&self, reply: &Reply, to: impl Fn(u64, &Conn) -> bool) -> usize {
        let mut shared_reply = None;
        let mut reached = 0;
        let mut conns = self.shared.conns();
        let mut slow = Vec::new();
        for (id, conn) in conns.iter().filter(|(id, conn)| to(**id, conn)) {
            let reply = shared_reply.get_or_insert_with(|| Arc::new(reply.clone()));
            match conn.replies.try_send(reply.clone()) {
                Ok(()) => reached += 1,
                Err(mpsc::error::TrySendError::Full(_)) => slow.push(*id),
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        for id in slow {
            if let Some(conn) = conns.remove(&id) {
                self.shared
                    .counts
                    .slow_consumers
                    .fetch_add(1, Ordering::Relaxed);
                let limit = self.shared.settings.outbound_queue;
                tracing::warn!(
                    "gateway: connection {id} of account `{}` closed as a slow consumer, \
                     {limit} messages unread",
                    self.shared
                        .accounts
                        .get(conn.account)
                        .map_or("", |a| &a.name)
                );
                close(
                    &conn,
                    format!("slow consumer: {limit} messages waiting unread"),
                );
            }
        }
        reached
    }
}

/// Ask a connection to close, saying `reason`.
fn close(conn: &Conn, reason: String) {
    *conn.closing.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
    conn.close.notify_one();
}

impl Gateway {
    /// Close: every connection is told the venue closes, no new one is
    /// accepted, the thread ends (within about a second).
    pub(crate) fn close(&mut self) {
        let Some(shutdown) = self.shutdown.take() else {
            return;
        };
        for conn in self.shared.conns().values() {
            close(conn, "the venue closes".into());
        }
        let _ = shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.close();
    }
}

/// The gateway's thread: a current-thread runtime serving both listeners
/// until `stop`, then the connections' farewells (up to a second).
fn serve(
    ws: Option<std::net::TcpListener>,
    fix: Option<std::net::TcpListener>,
    shared: Arc<Shared>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("gateway: no runtime: {e}");
            return;
        }
    };
    runtime.block_on(async move {
        let mut tasks = tokio::task::JoinSet::new();
        if let Some(listener) = ws {
            tasks.spawn(websocket::serve(listener, shared.clone(), stop.clone()));
        }
        if let Some(listener) = fix {
            tasks.spawn(fix::serve(listener, shared.clone(), stop.clone()));
        }
        while tasks.join_next().await.is_some() {}
        // The connections told to close say so before the runtime ends.
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        while shared.open.load(Ordering::Relaxed) > 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
}
