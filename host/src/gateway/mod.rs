//! The gateway: the host as a venue. Clients connect over WebSocket (JSON
//! messages, `protocol.rs`), log on to an account (`accounts.rs`), and send
//! orders that the session checks, validates and hands to the matcher with
//! the strategies' (`trading/session_gateway.rs`); each account's execution
//! reports come back to its connections only. Subscribers get trades and
//! the venue's book; drop-copy accounts every fill.
//!
//! The connections live on a thread of their own (a current-thread tokio
//! runtime, `websocket.rs`). Between it and the session's thread:
//! - an inbox of checked requests, bounded: a request that finds it full is
//!   refused (`venue busy`), never queued without end;
//! - per connection, a bounded queue of replies. The session never waits
//!   on a client: a connection whose queue is full is a slow consumer and
//!   is closed with the reason, and the others are not slowed.

pub(crate) mod accounts;
pub(crate) mod protocol;
mod websocket;

use std::collections::HashMap;
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
    replies: mpsc::Sender<String>,
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
}

impl Shared {
    fn conns(&self) -> MutexGuard<'_, HashMap<u64, Conn>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running gateway, owned by the session.
pub(crate) struct Gateway {
    shared: Arc<Shared>,
    inbox: Receiver<Inbound>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Where WebSocket clients connect.
    pub(crate) websocket: SocketAddr,
}

impl Gateway {
    /// Read the accounts and serve `settings.websocket`.
    pub(crate) fn start(settings: &GatewaySettings) -> Result<Self> {
        let path = settings
            .accounts
            .as_ref()
            .context("gateway.accounts is not set")?;
        let accounts = Accounts::load(path)?;
        let address = settings.websocket.context("gateway.websocket is not set")?;
        let listener = std::net::TcpListener::bind(address)
            .with_context(|| format!("gateway: listening on {address}"))?;
        let websocket = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let (inbox_tx, inbox) = std::sync::mpsc::sync_channel(INBOX);
        let shared = Arc::new(Shared {
            accounts,
            settings: settings.clone(),
            inbox: inbox_tx,
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            open: AtomicUsize::new(0),
            counts: Counts::default(),
        });
        let (shutdown, stop) = tokio::sync::oneshot::channel();
        let serving = shared.clone();
        let thread = std::thread::Builder::new()
            .name("tradsys-gateway".into())
            .spawn(move || websocket::serve(listener, serving, stop))
            .context("starting the gateway's thread")?;
        tracing::info!(
            "gateway: WebSocket clients on ws://{websocket}, {} accounts",
            shared.accounts.len()
        );
        Ok(Self {
            shared,
            inbox,
            shutdown: Some(shutdown),
            thread: Some(thread),
            websocket,
        })
    }

    /// The accounts clients log on to.
    pub(crate) fn accounts(&self) -> &Accounts {
        &self.shared.accounts
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
    pub(crate) fn send(&self, account: usize, reply: &Reply) {
        self.send_where(reply, |_, conn| conn.account == account);
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
        let mut text = None;
        let mut reached = 0;
        let mut conns = self.shared.conns();
        let mut slow = Vec::new();
        for (id, conn) in conns.iter().filter(|(id, conn)| to(**id, conn)) {
            let text = text.get_or_insert_with(|| reply.to_text());
            match conn.replies.try_send(text.clone()) {
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
        let _ = shutdown.send(());
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
