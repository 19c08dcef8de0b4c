//! The session over a network connector (live trading, paper trading): the
//! host owns the connection ([`Link`]), hands the connector what arrives and
//! a tick at least once a second, writes what it returns and journals every
//! byte both ways. Its market events go through the books, processors and
//! strategies as a replay's do. With `[venue] model = "live"` approved
//! orders go to the connector and its execution reports are checked
//! ([`OrderRouter::venue_report`](crate::trading::router::OrderRouter))
//! before any is booked; with the simulated venue (paper trading) they go
//! to the matcher as in a replay.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use anyhow::{Context as _, Result};

use crate::bindings::NetworkOutput;
use crate::bindings::types::{OrderCommand, OrderEvent};
use crate::journal::{Entry, Reader as JournalReader, Stop, WireEntry, WireEvent};
use crate::network::{Inbound, Link, Tls};
use crate::sandbox::kinds::NetworkCall;
use crate::trading::report::{ConnectionReport, Percentiles};

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

/// Where the connection's events come from.
enum Source {
    /// The network: the host's TCP connection.
    Tcp(Link),
    /// A live session's journal, its wire records in order (`tradsys
    /// journal replay`): what arrived, when, the ticks and the stop; then
    /// the network when `then_live` (`tradsys run --resume`).
    Replay {
        records: VecDeque<WireEntry>,
        then_live: bool,
    },
}

impl Source {
    fn connect(&self) {
        if let Self::Tcp(link) = self {
            link.connect();
        }
    }

    fn send(&self, bytes: Vec<u8>) {
        if let Self::Tcp(link) = self {
            link.send(bytes);
        }
    }

    fn close(&self) {
        if let Self::Tcp(link) = self {
            link.close();
        }
    }
}

/// One thing for the connector.
enum Happening {
    Inbound(Inbound),
    Tick,
    Stop,
    /// A replay ran out of records.
    End,
    /// A resumed session's replay ran out of records: go live.
    Resume,
}

/// What the session keeps of its connection.
pub(crate) struct Live {
    source: Source,
    /// The time the connector is given for the event being handled (and for
    /// the orders it causes): the wall clock when it happened, or the
    /// journal's in a replay. The journal has it, so a replay gives the same.
    now: u64,
    /// When the event being handled was taken (tick-to-order starts here).
    taken: Instant,
    /// Modifies and cancels sent and not answered yet, by host order id.
    unanswered: HashMap<u64, Vec<OrderCommand>>,
    /// The connector asked to close for good, and why (the first reason).
    ending: Option<String>,
    /// The connector asked to close: nothing more is handed to it until
    /// the link says the connection closed.
    closing: bool,
    /// Orders, cancels and modifies sent and not answered yet, by host id.
    awaiting: HashMap<u64, Instant>,
    /// Taking an event to writing the order it caused, ns.
    tick_to_order: Histogram<u64>,
    pub(crate) figures: ConnectionReport,
}

impl Live {
    fn new(source: Source) -> Self {
        Self {
            source,
            now: 0,
            taken: Instant::now(),
            unanswered: HashMap::new(),
            ending: None,
            closing: false,
            awaiting: HashMap::new(),
            tick_to_order: Histogram::new(3).expect("three significant figures"),
            figures: ConnectionReport::default(),
        }
    }

    /// The connection's figures, tick-to-order's percentiles with them.
    pub(crate) fn figures(&self) -> ConnectionReport {
        let mut figures = self.figures.clone();
        let h = &self.tick_to_order;
        if !h.is_empty() {
            figures.tick_to_order = Some(Percentiles {
                samples: h.len(),
                p50_ns: h.value_at_quantile(0.5),
                p99_ns: h.value_at_quantile(0.99),
                p999_ns: h.value_at_quantile(0.999),
                max_ns: h.max(),
            });
        }
        figures
    }
}

/// The wall clock, ns since the Unix epoch: a connector's `now`.
fn wall_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The host's connection for network connector `plugin`: its granted
/// addresses, with TLS when its grant asks for it.
fn start_link(plugin: &crate::loading::Plugin) -> Result<Link> {
    let name = plugin.name();
    let tls = match &plugin.grants().tls {
        Some(grant) => {
            Some(Tls::from_grant(grant).map_err(|e| anyhow::anyhow!("plugins.{name}.{e}"))?)
        }
        None => None,
    };
    Link::start(name, plugin.grants().network.clone(), tls)
        .with_context(|| format!("starting the connection of {name}"))
}

impl Session {
    /// Replay a live session from its journal instead of connecting: the
    /// connector is given what arrived, the ticks and the stop, each at the
    /// time the journal says, and the session runs as it did. Returns how
    /// many wire records it will replay. Call before [`Session::run`].
    pub fn replay_wire(&mut self, journal: &Path) -> Result<usize> {
        self.replay_source(journal, false)
    }

    /// Resume the live session of `journal` (after a crash or a kill):
    /// replay it offline to where it ended, as [`Session::replay_wire`]
    /// does (the connector's sequence numbers and orders, the strategies'
    /// state, the books and ledgers come back as they were), then tell the
    /// connector the connection is gone, connect and go on live. The
    /// session's own journal holds the replayed records and what follows.
    /// Returns how many wire records it replays.
    pub fn resume_from(&mut self, journal: &Path) -> Result<usize> {
        if self.clients.is_some() && !self.slots.connector.plugin().is_network_connector() {
            // A venue: its clients' requests are entered again.
            return self.resume_clients(journal);
        }
        self.replay_source(journal, true)
    }

    fn replay_source(&mut self, journal: &Path, then_live: bool) -> Result<usize> {
        let name = self.slots.connector.plugin().name().to_string();
        anyhow::ensure!(
            self.slots.connector.plugin().is_network_connector(),
            "connector {name} is not a network connector: only a live session replays from its wire records"
        );
        let mut records = VecDeque::new();
        for record in JournalReader::open(journal).map_err(anyhow::Error::msg)? {
            let record = record.map_err(anyhow::Error::msg)?;
            if let Entry::Wire(wire) = record.entry
                && wire.plugin == name
                && wire.event != WireEvent::Out
            {
                records.push_back(wire);
            }
        }
        anyhow::ensure!(
            !records.is_empty(),
            "{}: no wire records of {name}: not a live session's journal",
            journal.display()
        );
        let count = records.len();
        self.live = Some(Live::new(Source::Replay { records, then_live }));
        Ok(count)
    }

    /// Trade over the network connector until a stop is asked for, the
    /// event budget is spent, or the connector ends the session; or replay
    /// a journal's wire records to their end.
    pub(super) fn run_network(&mut self) -> Result<()> {
        let plugin = self.slots.connector.plugin().clone();
        if self.live.is_none() {
            let link = start_link(&plugin)?;
            self.live = Some(Live::new(Source::Tcp(link)));
        }
        self.start_reconciliation()?;
        self.source().connect();
        let name = plugin.name();
        let mut backoff = MIN_BACKOFF;
        let mut reconnect_at: Option<Instant> = None;
        let mut stopping: Option<Instant> = None;
        let mut last_tick = Instant::now();
        loop {
            let (happening, now) = self.next_happening(stopping.is_some(), &mut last_tick);
            let live = self.live.as_mut().expect("a live session has a source");
            live.now = now;
            live.taken = Instant::now();
            let tcp = matches!(live.source, Source::Tcp(_));
            let resuming = matches!(
                live.source,
                Source::Replay {
                    then_live: true,
                    ..
                }
            );
            match happening {
                Happening::End => break,
                Happening::Resume => {
                    // The replayed session's connection is gone (unless its
                    // journal says it closed): the connector is told, then
                    // the host connects.
                    if self.figures().connected() {
                        let why = "the host restarted".to_string();
                        self.wire(WireEntry::change(name, WireEvent::Closed, now, why.clone()));
                        self.figures().disconnects += 1;
                        self.network_call(NetworkCall::Disconnected(&why));
                    }
                    let live = self.live.as_mut().expect("a live session has a source");
                    live.ending = None;
                    live.closing = false;
                    let link = start_link(&plugin)?;
                    live.source = Source::Tcp(link);
                    self.source().connect();
                    tracing::info!("{name}: resumed; connecting");
                }
                Happening::Stop => {
                    self.wire(WireEntry::moment(name, WireEvent::Stop, now));
                    stopping = Some(Instant::now());
                    self.network_call(NetworkCall::Stop);
                    if tcp && !self.figures().connected() {
                        break; // nothing to log out of
                    }
                }
                Happening::Tick => {
                    self.wire(WireEntry::moment(name, WireEvent::Tick, now));
                    self.network_call(NetworkCall::Tick);
                    self.overdue();
                }
                Happening::Inbound(Inbound::Connected(address)) => {
                    if let Some(live) = &mut self.live {
                        live.closing = false;
                    }
                    let detail = address.to_string();
                    self.wire(WireEntry::change(name, WireEvent::Connected, now, detail));
                    self.figures().connections += 1;
                    tracing::info!("{name}: connected to {address}");
                    self.network_call(NetworkCall::Connected);
                }
                Happening::Inbound(Inbound::Bytes(bytes)) => {
                    // The venue answered: the connection works, and the
                    // next loss starts the back-off again. (One it closes
                    // before a word, such as a TLS 1.3 refusal of the
                    // client's certificate, keeps doubling it.)
                    backoff = MIN_BACKOFF;
                    self.wire(WireEntry::bytes(name, WireEvent::In, now, &bytes));
                    self.figures().bytes_in += bytes.len() as u64;
                    if !self.live.as_ref().is_some_and(|l| l.closing) {
                        self.network_call(NetworkCall::Received(&bytes));
                    }
                }
                Happening::Inbound(Inbound::Closed(why)) => {
                    self.wire(WireEntry::change(name, WireEvent::Closed, now, why.clone()));
                    self.figures().disconnects += 1;
                    self.network_call(NetworkCall::Disconnected(&why));
                    let ending = self.live.as_ref().and_then(|l| l.ending.clone());
                    if resuming {
                        // The resumed session ended here once; it goes on now.
                        stopping = None;
                        if let Some(live) = &mut self.live {
                            live.ending = None;
                        }
                    } else if stopping.is_some() || ending.is_some() {
                        break;
                    }
                    if tcp {
                        tracing::warn!(
                            "{name}: {why}; connecting again in {} ms",
                            backoff.as_millis()
                        );
                        reconnect_at = Some(Instant::now() + backoff);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
                Happening::Inbound(Inbound::Failed(why)) => {
                    tracing::warn!("{name}: {why}; trying again in {} ms", backoff.as_millis());
                    if stopping.is_some() {
                        break;
                    }
                    reconnect_at = Some(Instant::now() + backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
            if tcp && stopping.is_some_and(|since| since.elapsed() >= STOP_GRACE) {
                break;
            }
            if let Some(at) = reconnect_at
                && Instant::now() >= at
            {
                reconnect_at = None;
                self.source().connect();
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

    /// The next thing for the connector and its time: from the network (a
    /// stop asked for or the budget spent, a tick due, or what the link
    /// says within a tick), or the journal's next record in a replay.
    fn next_happening(&mut self, stopping: bool, last_tick: &mut Instant) -> (Happening, u64) {
        let budget_spent = self.settings.events > 0 && self.counts.events >= self.settings.events;
        let stop = !stopping && (self.control.stop_requested() || budget_spent);
        let live = self.live.as_mut().expect("a live session has a source");
        match &mut live.source {
            Source::Tcp(link) => {
                if stop {
                    return (Happening::Stop, wall_now());
                }
                // A tick when one is due, even while the feed streams.
                let since = last_tick.elapsed();
                if since >= TICK {
                    *last_tick = Instant::now();
                    return (Happening::Tick, wall_now());
                }
                if let Some(inbound) = link.next(TICK - since) {
                    return (Happening::Inbound(inbound), wall_now());
                }
                *last_tick = Instant::now();
                (Happening::Tick, wall_now())
            }
            Source::Replay { records, then_live } => {
                let Some(record) = records.pop_front() else {
                    if *then_live {
                        return (Happening::Resume, wall_now());
                    }
                    return (Happening::End, live.now);
                };
                let happening = match record.event {
                    WireEvent::Connected => {
                        let address = record
                            .detail
                            .as_deref()
                            .and_then(|a| a.parse().ok())
                            .unwrap_or(std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
                        Happening::Inbound(Inbound::Connected(address))
                    }
                    WireEvent::In => match record.payload() {
                        Ok(bytes) => Happening::Inbound(Inbound::Bytes(bytes)),
                        Err(e) => {
                            tracing::error!("replay: {e}");
                            Happening::End
                        }
                    },
                    WireEvent::Closed => Happening::Inbound(Inbound::Closed(
                        record.detail.clone().unwrap_or_default(),
                    )),
                    WireEvent::Tick => Happening::Tick,
                    WireEvent::Stop => Happening::Stop,
                    WireEvent::Out => return self.next_happening(stopping, last_tick),
                };
                (happening, record.at)
            }
        }
    }

    fn source(&self) -> &Source {
        &self
            .live
            .as_ref()
            .expect("a live session has a source")
            .source
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
        let now = self.live.as_ref().map_or_else(wall_now, |l| l.now);
        let connector = &mut self.slots.connector;
        // The plugin, not a copy of its name: this runs for every message.
        let plugin = connector.plugin().clone();
        let name = plugin.name();
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
                self.discard_findings();
                if let NetworkCall::Submit(orders) = call {
                    self.refuse_unsent(orders, &fault.to_string());
                }
                return;
            }
        };
        if !send.is_empty() {
            self.wire(WireEntry::bytes(name, WireEvent::Out, now, &send));
            self.figures().bytes_out += send.len() as u64;
            // Write-ahead: the bytes are in the journal's file before they
            // go out, so a session killed now resumes knowing it sent them.
            if matches!(self.source(), Source::Tcp(_))
                && let Some(Err(why)) = self.journal_writer.as_mut().map(|w| w.sync())
            {
                tracing::error!("{name}: the journal failed, nothing more is sent: {why}");
                self.counts.stopped = Some(Stop::Journal(why));
                self.source().close();
                return;
            }
            if let Some(live) = &mut self.live
                && matches!(call, NetworkCall::Submit(_))
                && matches!(live.source, Source::Tcp(_))
            {
                // Tick-to-order: the event taken to the order's bytes handed
                // to the socket, the write-ahead sync included.
                let taken = live.taken.elapsed().as_nanos() as u64;
                let _ = live.tick_to_order.record(taken.max(1));
            }
            self.source().send(send);
        }
        let positions = self.take_findings(&market);
        if !reports.is_empty() {
            self.book_venue_reports(reports, name);
        }
        if !market.is_empty() {
            let mut events = self.groups.complete(market, true);
            if !events.is_empty() {
                self.on_market(&mut events);
            }
        }
        if !positions.is_empty() {
            self.compare_positions(positions);
        }
        if let Some(close) = close {
            tracing::info!("{name}: closing the connection: {}", close.reason);
            if let Some(live) = &mut self.live {
                live.closing = true;
                if !close.reconnect && live.ending.is_none() {
                    live.ending = Some(close.reason);
                }
            }
            self.source().close();
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
