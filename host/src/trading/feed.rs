//! The feed: market batches pulled from the connector, on the session's
//! thread or decoded ahead on a second one (`[run] decode_ahead`), in chunks
//! of several batches per connector call (`[run] connector_chunk`, [`Pull`]).
//!
//! Decoding ahead moves the connector's instance to a worker thread that
//! pulls batches into a bounded queue while the session works on the ones
//! before. The batches are the ones the session's thread would pull, in the
//! same order and of the same sizes: what the worker asks for depends only
//! on what the connector delivered so far ([`Pull`]), never on the session's
//! progress. So a replay's results, and its journal, are the same either
//! way (a test compares the digests). The connector comes back to its slot
//! whenever something needs it there: a control request (a status, a swap,
//! a shadow), a snapshot for the dashboard, the end of the stream. What the
//! worker pulled by then is kept and handed out first.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::bindings::types::MarketEvent;
use crate::engine::Runtime;
use crate::journal::Stop;
use crate::sandbox::kinds::Connector;
use crate::sandbox::{Fault, PluginInstance};

/// First back-off before restarting a failed connector, milliseconds.
const CONNECTOR_BACKOFF_MS: u64 = 10;

/// Consecutive empty batches after which a session gives up on its connector.
const MAX_EMPTY_POLLS: u32 = 10_000;

/// Batches the worker may pull ahead of the session.
const AHEAD: usize = 256;

/// One pull's outcome.
pub(crate) enum Pulled {
    /// A non-empty batch; `restarts`: connector restarts it took.
    Events {
        events: Vec<MarketEvent>,
        trades_flagged: bool,
        restarts: u32,
    },
    /// The stream ended, or the event budget is spent.
    End { restarts: u32 },
    /// The connector stopped the session.
    Stopped { stop: Stop, restarts: u32 },
}

/// How the feed pulls: chunks of whole batches, up to a budget.
///
/// The connector is asked for a chunk of several batches per call (`[run]
/// connector_chunk`), which is then cut into batches of `batch_size`. A
/// connector that hands what it is asked for (every replay does, until its
/// stream ends) so yields the very batches it would one call per batch, and
/// the session's results do not change; the calls are fewer. Near the end
/// of a budget, where a whole chunk no longer fits, it is asked batch by batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pull {
    /// Events per batch.
    batch_size: u32,
    /// Events per connector call while whole chunks fit: a multiple of
    /// `batch_size`.
    chunk: u32,
    /// Events to take in all; 0 for the whole stream.
    budget: u64,
}

impl Pull {
    /// Pull batches of `batch_size`, about `chunk` events per connector
    /// call (rounded down to whole batches, at least one), `budget` events
    /// in all (0: no end).
    pub(crate) fn new(batch_size: u32, chunk: u32, budget: u64) -> Self {
        Self {
            batch_size,
            chunk: Self::whole_batches(batch_size, chunk),
            budget,
        }
    }

    /// `events` rounded down to a multiple of `batch_size`, at least one batch.
    fn whole_batches(batch_size: u32, events: u32) -> u32 {
        batch_size.max(events / batch_size * batch_size)
    }

    /// How many events to ask for once `taken` count against the budget, of
    /// a connector that may hand `max_output` per call; `None` when the
    /// budget is spent.
    fn want(&self, taken: u64, max_output: u32) -> Option<u32> {
        let chunk = self
            .chunk
            .min(Self::whole_batches(self.batch_size, max_output));
        match self.budget {
            0 => Some(chunk),
            n if taken + u64::from(chunk) <= n => Some(chunk),
            n if taken >= n => None,
            n => Some(
                self.batch_size
                    .min((n - taken).min(u64::from(u32::MAX)) as u32),
            ),
        }
    }

    /// `pulled` cut into batches of `batch_size` (its restarts count with
    /// the first).
    fn batches(&self, pulled: Pulled) -> impl Iterator<Item = Pulled> {
        let size = self.batch_size as usize;
        let mut pieces = Vec::new();
        match pulled {
            Pulled::Events {
                events,
                trades_flagged,
                mut restarts,
            } if events.len() > size => {
                let mut events = events.into_iter();
                loop {
                    let batch: Vec<MarketEvent> = events.by_ref().take(size).collect();
                    if batch.is_empty() {
                        break;
                    }
                    pieces.push(Pulled::Events {
                        events: batch,
                        trades_flagged,
                        restarts: std::mem::take(&mut restarts),
                    });
                }
            }
            other => pieces.push(other),
        }
        pieces.into_iter()
    }

    /// Whether a whole batch fits in the budget after `taken` events.
    fn whole_batch_after(&self, taken: u64) -> bool {
        self.budget == 0 || taken + u64::from(self.batch_size) <= self.budget
    }

    /// The next batch from `connector`: faults restart it (after a back-off
    /// that doubles, 10 ms to 1 s), empty batches are polled again (up to
    /// [`MAX_EMPTY_POLLS`]), until `stop` is set.
    fn next(
        &self,
        connector: &mut PluginInstance<Connector>,
        stop: &AtomicBool,
        taken: u64,
    ) -> Pulled {
        let mut empty_polls = 0;
        let mut consecutive_faults: u32 = 0;
        let mut restarts = 0;
        let max_output = connector.plugin().grants().limits.max_output;
        let Some(want) = self.want(taken, max_output) else {
            return Pulled::End { restarts };
        };
        loop {
            if stop.load(Ordering::Relaxed) {
                return Pulled::End { restarts };
            }
            let mut trades_flagged = true;
            let batch = connector
                .call(|c, s| {
                    trades_flagged = c.flags_trades();
                    c.next_batch(s, want)
                })
                .and_then(|batch| match batch {
                    Ok(Some(events)) if events.len() > want as usize => Err(connector
                        .contract_fault(format!(
                            "returned {} events when asked for at most {want}",
                            events.len()
                        ))),
                    Ok(Some(events)) => connector.limit_output(events).map(|e| Ok(Some(e))),
                    other => Ok(other),
                });
            let stopped = |stop| Pulled::Stopped { stop, restarts };
            let events = match batch {
                Ok(Ok(Some(events))) => events,
                Ok(Ok(None)) => return Pulled::End { restarts },
                Ok(Err(reason)) => {
                    return stopped(Stop::Connector {
                        name: connector.plugin().name().to_string(),
                        reason: crate::sandbox::texts::reason(reason),
                    });
                }
                Err(Fault::Quarantined { reason, .. }) => {
                    return stopped(Stop::ConnectorQuarantined(reason));
                }
                Err(fault) => {
                    if let Some(reason) = connector.quarantined() {
                        return stopped(Stop::ConnectorQuarantined(reason.to_string()));
                    }
                    if let Some(reason) = connector.failure() {
                        // It cannot be restarted: its init fails, or it lost its position.
                        return stopped(Stop::ConnectorFailed(reason));
                    }
                    // Restart: the next call makes a fresh instance.
                    consecutive_faults += 1;
                    restarts += 1;
                    let backoff =
                        (CONNECTOR_BACKOFF_MS << (consecutive_faults - 1).min(10)).min(1_000);
                    tracing::warn!("restarting connector in {backoff} ms after: {fault}");
                    std::thread::sleep(Duration::from_millis(backoff));
                    continue;
                }
            };
            if events.is_empty() {
                empty_polls += 1;
                if empty_polls >= MAX_EMPTY_POLLS {
                    return stopped(Stop::EmptyBatches(MAX_EMPTY_POLLS));
                }
                continue;
            }
            return Pulled::Events {
                events,
                trades_flagged,
                restarts,
            };
        }
    }
}

/// The batches between the worker and the session. The worker that finds
/// it full sleeps until the session has taken half, so a worker far ahead
/// costs the session one wake-up per [`AHEAD`]/2 batches, not one per batch.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    /// The session waits here for a batch.
    filled: Condvar,
    /// The worker waits here for room, or a recall.
    drained: Condvar,
}

#[derive(Default)]
struct QueueState {
    batches: VecDeque<Pulled>,
    session_waits: bool,
    worker_waits: bool,
    /// The session wants the connector back.
    recalled: bool,
    /// The worker stopped pulling (a recall, the end of the stream, a stop).
    finished: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The worker: add `pulled`, after waiting for room. False once recalled.
    fn push(&self, pulled: Pulled) -> bool {
        let mut state = self.lock();
        while state.batches.len() >= AHEAD && !state.recalled {
            state.worker_waits = true;
            state = self.drained.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.batches.push_back(pulled);
        if state.session_waits {
            state.session_waits = false;
            self.filled.notify_one();
        }
        !state.recalled
    }

    /// The worker: whether the session wants the connector back.
    fn recalled(&self) -> bool {
        self.lock().recalled
    }

    /// The worker stopped.
    fn finish(&self) {
        let mut state = self.lock();
        state.finished = true;
        self.filled.notify_one();
    }

    /// The session: the next batch, waiting for it; `None` when the worker
    /// stopped with nothing left.
    fn pop(&self) -> Option<Pulled> {
        let mut state = self.lock();
        loop {
            if let Some(pulled) = state.batches.pop_front() {
                if state.worker_waits && state.batches.len() <= AHEAD / 2 {
                    state.worker_waits = false;
                    self.drained.notify_one();
                }
                return Some(pulled);
            }
            if state.finished {
                return None;
            }
            state.session_waits = true;
            state = self.filled.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The session: ask the worker to stop after its current pull.
    fn recall(&self) {
        let mut state = self.lock();
        state.recalled = true;
        self.drained.notify_one();
    }
}

/// The worker thread while it holds the connector.
struct Ahead {
    thread: JoinHandle<PluginInstance<Connector>>,
    queue: Arc<Queue>,
}

/// The session's feed.
pub(crate) struct Feed {
    pull: Pull,
    /// The session's runtime (for the connector slot's stand-in) and its
    /// stop flag (the worker stops pulling when it is set).
    runtime: Arc<Runtime>,
    stop: Arc<AtomicBool>,
    /// Decode ahead on a second thread.
    ahead_enabled: bool,
    ahead: Option<Ahead>,
    /// Batches pulled ahead and not handed out yet.
    backlog: VecDeque<Pulled>,
    /// The stream ended or stopped: nothing more is pulled.
    done: bool,
    /// Time the session's thread spent getting batches.
    spent: Duration,
}

impl Drop for Feed {
    /// A session dropped with its connector away (a panic on its thread):
    /// the worker stops after its current pull instead of waiting forever.
    fn drop(&mut self) {
        if let Some(ahead) = self.ahead.take() {
            ahead.queue.recall();
            let _ = ahead.thread.join();
        }
    }
}

impl Feed {
    pub(crate) fn new(
        pull: Pull,
        decode_ahead: bool,
        runtime: Arc<Runtime>,
        stop: Arc<AtomicBool>,
    ) -> Self {
        Self {
            pull,
            runtime,
            stop,
            ahead_enabled: decode_ahead,
            ahead: None,
            backlog: VecDeque::new(),
            done: false,
            spent: Duration::ZERO,
        }
    }

    /// Time the session's thread spent getting batches so far: the
    /// connector's calls on one thread; decoding ahead, its waits for the
    /// worker (and for a recalled connector's last call).
    pub(crate) fn spent(&self) -> Duration {
        self.spent
    }

    /// Whether the connector is on the worker thread (its slot holds a
    /// stand-in without an instance).
    pub(crate) fn is_away(&self) -> bool {
        self.ahead.is_some()
    }

    /// The next batch, `taken` events counting against the budget so far
    /// (those processed and those held back: not the ones the host
    /// refused): from the backlog, the worker, or `slot` itself.
    pub(crate) fn next(&mut self, slot: &mut PluginInstance<Connector>, taken: u64) -> Pulled {
        let started = Instant::now();
        let pulled = self.pull_next(slot, taken);
        self.spent += started.elapsed();
        pulled
    }

    fn pull_next(&mut self, slot: &mut PluginInstance<Connector>, taken: u64) -> Pulled {
        if let Some(pulled) = self.backlog.pop_front() {
            return self.handed(pulled);
        }
        if self.done {
            return Pulled::End { restarts: 0 };
        }
        if self.ahead_enabled && (self.ahead.is_some() || self.pull.whole_batch_after(taken)) {
            if self.ahead.is_none() {
                self.send_away(slot, taken);
            }
            let ahead = self.ahead.as_ref().expect("the worker was started");
            match ahead.queue.pop() {
                Some(pulled) => return self.handed(pulled),
                // The worker stopped before a batch the budget may cut
                // (the host's refusals decide its size): that one and any
                // after are pulled here.
                None => self.recall(slot),
            }
        }
        let mut batches = self.pull.batches(self.pull.next(slot, &self.stop, taken));
        let first = batches.next().expect("a pull is at least one batch");
        self.backlog.extend(batches);
        self.handed(first)
    }

    /// Note the end of the stream.
    fn handed(&mut self, pulled: Pulled) -> Pulled {
        if !matches!(pulled, Pulled::Events { .. }) {
            self.done = true;
        }
        pulled
    }

    /// Move the connector to a worker thread that pulls ahead.
    fn send_away(&mut self, slot: &mut PluginInstance<Connector>, mut taken: u64) {
        let stand_in = PluginInstance::new(self.runtime.clone(), slot.plugin().clone());
        let stop = self.stop.clone();
        let mut connector = std::mem::replace(slot, stand_in);
        let pull = self.pull;
        let queue = Arc::new(Queue::default());
        let shared = queue.clone();
        let thread = std::thread::Builder::new()
            .name("tradsys-decode-ahead".into())
            .spawn(move || {
                // Only whole batches: a batch the budget may cut depends on
                // what the host refused before it, which this thread cannot know.
                while !shared.recalled() && pull.whole_batch_after(taken) {
                    let pulled = pull.next(&mut connector, &stop, taken);
                    let last = match &pulled {
                        Pulled::Events { events, .. } => {
                            taken += events.len() as u64;
                            false
                        }
                        _ => true,
                    };
                    // Every batch of the chunk, recalled or not: the
                    // connector is past them.
                    let mut recalled = false;
                    for batch in pull.batches(pulled) {
                        recalled |= !shared.push(batch);
                    }
                    if recalled || last {
                        break;
                    }
                }
                shared.finish();
                connector
            })
            .expect("spawning the decode-ahead thread");
        self.ahead = Some(Ahead { thread, queue });
    }

    /// Bring the connector back to `slot`; what the worker pulled by then
    /// goes to the backlog.
    pub(crate) fn recall(&mut self, slot: &mut PluginInstance<Connector>) {
        let Some(ahead) = self.ahead.take() else {
            return;
        };
        let started = Instant::now();
        ahead.queue.recall();
        while let Some(pulled) = ahead.queue.pop() {
            self.backlog.push_back(pulled);
        }
        *slot = match ahead.thread.join() {
            Ok(connector) => connector,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        self.spent += started.elapsed();
    }
}
