//! The session over a network connector (live trading, paper trading): the
//! host owns the connection ([`Link`]), hands the connector what arrives and
//! a tick at least once a second, writes what it returns and journals every
//! byte both ways. Its market events go through the books, processors and
//! strategies as a replay's do. With `[venue] model = "live"` approved
//! orders go to the connector and its execution reports are checked
//! ([`OrderRouter::venue_report`](crate::trading::router::OrderRouter))
//! before any is booked; with the simulated venue (paper trading) they go
//! to the matcher as in a replay.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};

use crate::bindings::NetworkOutput;
use crate::bindings::types::{OrderCommand, OrderEvent};
use crate::journal::{Entry, Stop, WireEntry, WireEvent};
use crate::network::{Inbound, Link};
use crate::sandbox::kinds::NetworkCall;
use crate::trading::report::ConnectionReport;

use super::Session;

/// The connector is ticked at least this often.
const TICK: Duration = Duration::from_millis(200);
/// The first wait before connecting again; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long a stopping session waits for the connector to close.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Refused venue reports kept for the report.
const KEEP_REFUSALS: usize = 20;

/// What the session keeps of its connection.
pub(crate) struct Live {
    link: Link,
    /// Modifies and cancels sent and not answered yet, by host order id.
    unanswered: HashMap<u64, Vec<OrderCommand>>,
    /// The connector asked to close for good, and why.
    ending: Option<String>,
    /// Orders, cancels and modifies sent and not answered yet, by host id.
    awaiting: HashMap<u64, Instant>,
    pub(crate) figures: ConnectionReport,
}

/// The wall clock, ns since the Unix epoch: a connector's `now`.
fn wall_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Session {
    /// Trade over the network connector until a stop is asked for, the
    /// event budget is spent, or the connector ends the session.
    pub(super) fn run_network(&mut self) -> Result<()> {
        let plugin = self.slots.connector.plugin().clone();
        let link = Link::start(plugin.name(), plugin.grants().network.clone())
            .with_context(|| format!("starting the connection of {}", plugin.name()))?;
        link.connect();
        self.live = Some(Live {
            link,
            unanswered: HashMap::new(),
            ending: None,
            awaiting: HashMap::new(),
            figures: ConnectionReport::default(),
        });
        let mut backoff = MIN_BACKOFF;
        let mut reconnect_at: Option<Instant> = None;
        let mut stopping: Option<Instant> = None;
        let mut last_tick = Instant::now();
        loop {
            let budget_spent =
                self.settings.events > 0 && self.counts.events >= self.settings.events;
            if stopping.is_none() && (self.control.stop_requested() || budget_spent) {
                stopping = Some(Instant::now());
                self.network_call(NetworkCall::Stop);
            }
            if stopping.is_some_and(|since| since.elapsed() >= STOP_GRACE) {
                break;
            }
            if let Some(at) = reconnect_at
                && Instant::now() >= at
            {
                reconnect_at = None;
                self.link().connect();
            }
            let wait = TICK.saturating_sub(last_tick.elapsed());
            let next = self.link().next(wait);
            let name = plugin.name();
            match next {
                Some(Inbound::Connected(address)) => {
                    backoff = MIN_BACKOFF;
                    self.wire(WireEntry::change(
                        name,
                        WireEvent::Connected,
                        wall_now(),
                        address.to_string(),
                    ));
                    self.figures().connections += 1;
                    tracing::info!("{name}: connected to {address}");
                    self.network_call(NetworkCall::Connected);
                }
                Some(Inbound::Bytes(bytes)) => {
                    self.wire(WireEntry::bytes(name, WireEvent::In, wall_now(), &bytes));
                    self.figures().bytes_in += bytes.len() as u64;
                    self.network_call(NetworkCall::Received(&bytes));
                }
                Some(Inbound::Closed(why)) => {
                    self.wire(WireEntry::change(
                        name,
                        WireEvent::Closed,
                        wall_now(),
                        why.clone(),
                    ));
                    self.figures().disconnects += 1;
                    self.network_call(NetworkCall::Disconnected(&why));
                    let ending = self.live.as_ref().and_then(|l| l.ending.clone());
                    if stopping.is_some() || ending.is_some() {
                        break;
                    }
                    tracing::warn!(
                        "{name}: {why}; connecting again in {} ms",
                        backoff.as_millis()
                    );
                    reconnect_at = Some(Instant::now() + backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Some(Inbound::Failed(why)) => {
                    tracing::warn!("{name}: {why}; trying again in {} ms", backoff.as_millis());
                    if stopping.is_some() {
                        break;
                    }
                    reconnect_at = Some(Instant::now() + backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                None => {}
            }
            if last_tick.elapsed() >= TICK {
                last_tick = Instant::now();
                self.network_call(NetworkCall::Tick);
                self.overdue();
            }
            if let Some(reason) = self.market.stop() {
                self.counts.stopped = Some(Stop::Connector {
                    name: name.to_string(),
                    reason: reason.to_string(),
                });
                break;
            }
            // A connector that can no longer be called ends the session: no
            // one is left to speak the protocol (the venue sees the
            // connection close).
            let connector = &self.slots.connector;
            if let Some(reason) = connector.quarantined() {
                self.counts.stopped = Some(Stop::ConnectorQuarantined(reason.to_string()));
                break;
            }
            if let Some(reason) = connector.failure() {
                self.counts.stopped = Some(Stop::ConnectorFailed(reason));
                break;
            }
            if !self.between_batches() {
                break;
            }
        }
        if let Some(live) = &mut self.live {
            if stopping.is_none()
                && let Some(reason) = &live.ending
            {
                self.counts.stopped = Some(Stop::Connector {
                    name: plugin.name().to_string(),
                    reason: reason.clone(),
                });
            }
            live.figures.ended = live.ending.clone().or(Some("stopped".into()));
        }
        Ok(())
    }

    fn link(&self) -> &Link {
        &self.live.as_ref().expect("a live session has a link").link
    }

    fn figures(&mut self) -> &mut ConnectionReport {
        &mut self
            .live
            .as_mut()
            .expect("a live session has a link")
            .figures
    }

    fn wire(&self, entry: WireEntry) {
        self.journal
            .write(self.runtime.clock().now(), || Entry::Wire(entry));
    }

    /// Call the network connector and do what it asks: send, book the
    /// reports (checked), take the market events, close.
    pub(super) fn network_call(&mut self, call: NetworkCall<'_>) {
        let now = wall_now();
        let connector = &mut self.slots.connector;
        let name = connector.plugin().name().to_string();
        let output = connector
            .call(|c, s| c.network(s, call, now))
            .and_then(|out| {
                let NetworkOutput {
                    send,
                    market,
                    reports,
                    close,
                } = out;
                let market = connector.limit_output(market)?;
                let reports = connector.limit_output(reports)?;
                Ok((send, market, reports, close))
            });
        let (send, market, reports, close) = match output {
            Ok(output) => output,
            Err(fault) => {
                // The next call makes a fresh instance from the state saved
                // before this one; what this call was given is lost, and the
                // protocol's own recovery (a resend) brings it again.
                tracing::warn!("{name}: {fault}");
                if let NetworkCall::Submit(orders) = call {
                    self.refuse_unsent(orders, &fault.to_string());
                }
                return;
            }
        };
        if !send.is_empty() {
            // Stamped as they go to the socket (tick-to-order ends here).
            self.wire(WireEntry::bytes(&name, WireEvent::Out, wall_now(), &send));
            self.figures().bytes_out += send.len() as u64;
            self.link().send(send);
        }
        if !reports.is_empty() {
            self.book_venue_reports(reports, &name);
        }
        if !market.is_empty() {
            let mut events = self.groups.complete(market, true);
            if !events.is_empty() {
                self.on_market(&mut events);
            }
        }
        if let Some(close) = close {
            tracing::info!("{name}: closing the connection: {}", close.reason);
            if !close.reconnect
                && let Some(live) = &mut self.live
            {
                live.ending = Some(close.reason);
            }
            self.link().close();
        }
    }

    /// Orders the venue has not answered in `answer_after`: an alert each
    /// (a log line now, and the report's `live.unanswered`, which the
    /// alerts count); the connector asks their status itself.
    fn overdue(&mut self) {
        let after = self.answer_after;
        let Some(live) = &mut self.live else { return };
        let mut late: Vec<(u64, Duration)> = live
            .awaiting
            .iter()
            .map(|(id, since)| (*id, since.elapsed()))
            .filter(|(_, waited)| *waited >= after)
            .collect();
        late.sort_unstable();
        for (id, waited) in late {
            live.awaiting.remove(&id);
            live.figures.unanswered += 1;
            let name = self.slots.connector.plugin().name();
            tracing::warn!(
                "alert: no-answer: {name}: host order {id}: the venue has not answered in {} ms",
                waited.as_millis()
            );
        }
    }

    /// Approved orders to the live venue.
    pub(super) fn submit_live(&mut self, orders: Vec<OrderCommand>) {
        if let Some(live) = &mut self.live {
            let now = Instant::now();
            for order in &orders {
                live.awaiting.insert(order.id(), now);
                if !matches!(order, OrderCommand::Submit(_)) {
                    live.unanswered.entry(order.id()).or_default().push(*order);
                }
            }
        }
        self.network_call(NetworkCall::Submit(&orders));
    }

    /// Commands the connector failed on: refused, so no strategy waits for
    /// an answer (a cancel or modify refused leaves its order working).
    fn refuse_unsent(&mut self, orders: &[OrderCommand], why: &str) {
        let ts = self.runtime.clock().now();
        let reports: Vec<OrderEvent> = orders
            .iter()
            .map(|o| {
                OrderEvent::Rejected(crate::bindings::types::OrderRejected {
                    id: o.id(),
                    instrument: o.instrument(),
                    ts,
                    rejection: crate::bindings::types::Rejection {
                        reason: crate::bindings::types::RejectReason::Other,
                        message: Some(format!("the connector failed: {why}")),
                    },
                })
            })
            .collect();
        let name = self.slots.connector.plugin().name().to_string();
        self.book_venue_reports(reports, &name);
    }

    /// The venue's reports, each checked before it is booked; a refused one
    /// is counted, kept for the report and logged, and the rest stand.
    fn book_venue_reports(&mut self, reports: Vec<OrderEvent>, name: &str) {
        let now = self.runtime.clock().now();
        for report in reports {
            let id = report.id();
            if let Some(live) = &mut self.live {
                live.awaiting.remove(&id);
            }
            let commands = self
                .live
                .as_ref()
                .and_then(|l| l.unanswered.get(&id).cloned())
                .unwrap_or_default();
            let answered = matches!(report, OrderEvent::Modified(_) | OrderEvent::Rejected(_));
            match self
                .router
                .venue_report(report, &commands, &self.market, now, name)
            {
                Ok(()) => {
                    if let Some(live) = &mut self.live {
                        let done = !self.router.knows(id);
                        if done {
                            live.unanswered.remove(&id);
                        } else if answered && let Some(list) = live.unanswered.get_mut(&id) {
                            list.drain(..1.min(list.len()));
                        }
                    }
                }
                Err(breach) => {
                    tracing::warn!("{name}: venue report refused: {breach}");
                    let figures = self.figures();
                    figures.refused_reports += 1;
                    figures.refusals.push(breach.to_string());
                    if figures.refusals.len() > KEEP_REFUSALS {
                        figures.refusals.remove(0);
                    }
                }
            }
        }
        self.deliver_reports();
    }
}
