//! `tradsys-audit`: every fill of a simulated-venue session judged against
//! the raw market-by-order records and the exchange's matching rules
//! (CME's: price-time priority, fills that consume the queue within the
//! event, nothing before the open), independently of the venue that made
//! them.
//!
//! ```no_run
//! let audit = tradsys_audit::audit(
//!     std::path::Path::new("session.journal"),
//!     std::path::Path::new("esh4.mbo.dbn.zst"),
//! )?;
//! print!("{}", audit.render());
//! assert!(audit.is_clean());
//! # Ok::<(), tradsys_audit::Error>(())
//! ```
//!
//! The audit rebuilds the exchange's book from the raw records (its own
//! book: not the host's, not the venue's) and places each order of the
//! journal in it where and when it reached the venue (the journal's
//! `arrives`: after every exchange event stamped at or before then). What
//! each order could have got is then what the records say reached it (see
//! the `market` module's rules); each fill of the journal is compared with
//! it:
//!
//! - a maker fill beyond what had reached the order by then is
//!   **unreachable** (too early, or never);
//! - volume that reached an order and that it did not get by then is
//!   **missed**;
//! - a taker fill is right only at the prices and sizes the book showed
//!   when the order arrived (less what our earlier orders took there);
//! - the venue's answers (accepted, refused and why, canceled, modified)
//!   are compared too, and so is each order's arrival with the session's
//!   order latency.
//!
//! Architecture invariant: this crate knows neither the host nor the SDK nor
//! the book crate: it judges the venue from the data and the journal alone.

#![deny(missing_docs)]

mod feed;
mod journal;
mod live;
mod market;
mod render;

pub use live::Live;
pub use market::{Action, Ask, Record, Side, Tif};

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::journal::Sent;
use crate::market::{Answer, Got, Market};

/// Why an audit could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The journal cannot be read.
    #[error("journal {file}: {why}")]
    Journal {
        /// The file.
        file: String,
        /// What is wrong.
        why: String,
    },
    /// The data file cannot be read, or is not market by order.
    #[error("{why}")]
    Data {
        /// The file.
        file: String,
        /// What is wrong (names the file).
        why: String,
    },
    /// The journal is not one the audit can judge.
    #[error("journal {file}: {why}")]
    Unfit {
        /// The journal.
        file: String,
        /// Why.
        why: String,
    },
}

/// Findings listed in full at most (the counts are always whole).
pub const MAX_LISTED: usize = 50;

/// One thing the audit found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The strategy whose order it is.
    pub strategy: String,
    /// The host's order id.
    pub order: u64,
    /// Market time, ns.
    pub ts: u64,
    /// What was wrong.
    pub what: String,
}

/// Fills of one kind: how many, how many right.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Fills reported.
    pub fills: u64,
    /// Of them, right.
    pub right: u64,
}

/// One strategy's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Maker fills.
    pub maker: Tally,
    /// Taker fills.
    pub taker: Tally,
    /// Mean market time from an order's arrival to each maker fill, ms.
    pub avg_queue_wait_ms: f64,
    /// Quantity of its orders that rested (what they did not take on
    /// arrival), lots.
    pub rested: f64,
    /// Of it, filled as maker: the passive fill ratio.
    pub passive_fill_ratio: f64,
    /// Maker volume that reached its orders, lots.
    pub reachable: f64,
    /// Of it, not taken (zero when the venue is right).
    pub missed_share: f64,
}

/// The audit of one session.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Audit {
    /// The journal, as given.
    pub journal: String,
    /// The data file, as given.
    pub data: String,
    /// Raw records read.
    pub records: u64,
    /// Commands that reached the venue.
    pub commands: u64,
    /// When each instrument opened (its first trade), by symbol.
    pub opened: BTreeMap<String, u64>,
    /// Maker fills: reported, right.
    pub maker: Tally,
    /// Taker fills: reported, right.
    pub taker: Tally,
    /// Fills that came before the volume that gives them reached the order
    /// (the first [`MAX_LISTED`]).
    pub early: Vec<Finding>,
    /// How many.
    pub early_count: u64,
    /// Fills that came after the volume that gives them had reached the
    /// order (the first [`MAX_LISTED`]).
    pub late: Vec<Finding>,
    /// How many.
    pub late_count: u64,
    /// Fills that nothing gives: no volume reached the order (maker), or
    /// the book did not show them (taker) (the first [`MAX_LISTED`]).
    pub unreachable: Vec<Finding>,
    /// How many.
    pub unreachable_count: u64,
    /// Volume that reached an order and was never taken (the first [`MAX_LISTED`]).
    pub missed: Vec<Finding>,
    /// How many.
    pub missed_count: u64,
    /// Missed volume, lots.
    pub missed_volume: f64,
    /// The venue's answers that differ from the rules' (first [`MAX_LISTED`]).
    pub answers: Vec<Finding>,
    /// How many.
    pub answers_count: u64,
    /// Orders whose arrival is not the session's order latency after they
    /// were sent (first [`MAX_LISTED`]).
    pub arrivals: Vec<Finding>,
    /// How many.
    pub arrivals_count: u64,
    /// Per strategy.
    pub strategies: BTreeMap<String, Figures>,
}

impl Audit {
    /// Whether the audit found nothing wrong.
    pub fn is_clean(&self) -> bool {
        self.unreachable_count == 0
            && self.early_count == 0
            && self.late_count == 0
            && self.missed_count == 0
            && self.answers_count == 0
            && self.arrivals_count == 0
    }
}

/// Fixed-point units per lot.
const UNIT: i64 = 1_000_000_000;

/// A decimal as the journal writes it (`"4810.25"`) in 1e-9 units.
pub(crate) fn decimal(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || fraction.len() > 9
        || !(whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<9}").parse().ok()?;
    let value = whole.checked_mul(UNIT)?.checked_add(fraction)?;
    Some(if negative { -value } else { value })
}

fn lots(q: i64) -> f64 {
    q as f64 / UNIT as f64
}

/// Audit the session of `journal` against the market-by-order records of `data`.
pub fn audit(journal_path: &Path, data_path: &Path) -> Result<Audit, Error> {
    let journal = journal::read(journal_path)?;
    let shown = journal_path.display().to_string();
    if journal.venue != "simulated" {
        return Err(Error::Unfit {
            file: shown,
            why: format!(
                "the audit judges the simulated venue's fills; this session's venue was `{}`",
                journal.venue
            ),
        });
    }
    let feed = feed::read(data_path)?;
    let by_symbol: BTreeMap<&str, u32> = feed
        .symbols
        .iter()
        .map(|(id, s)| (s.as_str(), *id))
        .collect();
    for sent in &journal.sent {
        if !by_symbol.contains_key(sent.instrument.as_str()) {
            return Err(Error::Unfit {
                file: shown,
                why: format!(
                    "order {} is for {}, which {} does not hold (it holds {})",
                    sent.order,
                    sent.instrument,
                    data_path.display(),
                    by_symbol.keys().copied().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    let mut out = Audit {
        journal: shown,
        data: data_path.display().to_string(),
        records: feed.records.len() as u64,
        ..Audit::default()
    };
    let commands = commands(&journal);
    out.commands = journal.sent.len() as u64;
    let (expected, answers, markets) = replay(&feed, &commands, &by_symbol);
    for (id, m) in &markets {
        if let (Some(ts), Some(symbol)) = (m.opened, feed.symbols.get(id)) {
            out.opened.insert(symbol.clone(), ts);
        }
    }
    compare_fills(&journal, &expected, &mut out);
    compare_answers(&journal, &commands, &answers, &mut out);
    check_arrivals(&journal, &mut out);
    Ok(out)
}

/// A command in the order it reaches the venue.
struct Command<'a> {
    arrives: u64,
    seq: u64,
    order: u64,
    instrument: &'a str,
    ask: Ask,
}

/// The journal's commands, and the host's own cancels (a halt, a strategy
/// that left): a cancel the venue reported that no command of the strategy
/// asked for, for an order that arrived before.
fn commands(journal: &journal::Journal) -> Vec<Command<'_>> {
    let mut list: Vec<Command<'_>> = journal
        .sent
        .iter()
        .map(|s: &Sent| Command {
            arrives: s.arrives,
            seq: s.seq,
            order: s.order,
            instrument: &s.instrument,
            ask: s.ask.clone(),
        })
        .collect();
    let asked: std::collections::BTreeSet<(u64, u64)> =
        journal.sent.iter().map(|s| (s.order, s.arrives)).collect();
    let instrument: BTreeMap<u64, &str> = journal
        .sent
        .iter()
        .map(|s| (s.order, s.instrument.as_str()))
        .collect();
    for a in &journal.answers {
        if a.event == "canceled"
            && !asked.contains(&(a.order, a.ts))
            && let Some(symbol) = instrument.get(&a.order)
        {
            list.push(Command {
                arrives: a.ts,
                seq: u64::MAX,
                order: a.order,
                instrument: symbol,
                ask: Ask::HostCancel,
            });
        }
    }
    list.sort_by_key(|c| (c.arrives, c.seq));
    list
}

type Replayed = (
    Vec<Got>,
    Vec<(u64, u64, Vec<Answer>)>,
    BTreeMap<u32, Market>,
);

/// Run the records and the commands through the rules: the fills they give
/// and the answers (order, arrival, answer).
fn replay(
    feed: &feed::Feed,
    commands: &[Command<'_>],
    by_symbol: &BTreeMap<&str, u32>,
) -> Replayed {
    let mut markets: BTreeMap<u32, Market> = BTreeMap::new();
    let mut got = Vec::new();
    let mut answers = Vec::new();
    let mut next = 0;
    let mut at_start = true;
    let run = |c: &Command<'_>, markets: &mut BTreeMap<u32, Market>, got: &mut Vec<Got>| {
        let id = by_symbol[c.instrument];
        let market = markets.entry(id).or_default();
        if matches!(c.ask, Ask::HostCancel) && !market.rests(c.order) {
            return None;
        }
        Some((
            c.order,
            c.arrives,
            market.command(c.order, &c.ask, c.arrives, got),
        ))
    };
    for (id, rec) in &feed.records {
        if at_start {
            while next < commands.len() && commands[next].arrives < rec.ts {
                answers.extend(run(&commands[next], &mut markets, &mut got));
                next += 1;
            }
        }
        markets.entry(*id).or_default().record(rec, &mut got);
        at_start = rec.last;
    }
    for c in &commands[next..] {
        answers.extend(run(c, &mut markets, &mut got));
    }
    (got, answers, markets)
}

fn push(list: &mut Vec<Finding>, count: &mut u64, finding: Finding) {
    *count += 1;
    if list.len() < MAX_LISTED {
        list.push(finding);
    }
}

/// One order's fills of one kind (maker or taker): (ts, price, quantity).
type Fills = Vec<(u64, i64, i64)>;

/// How one order's reported fills compare with what the rules give.
#[derive(Default)]
struct Judged {
    /// Reported fill records that were right (at the time and price the
    /// rules give, within what they give).
    right: u64,
    /// (ts, price, quantity) filled before it had reached the order.
    early: Vec<(u64, i64, i64)>,
    /// (ts, price, quantity) filled after it had reached the order.
    late: Vec<(u64, i64, i64)>,
    /// (ts, price, quantity) filled where nothing reached the order.
    never: Vec<(u64, i64, i64)>,
    /// (ts, price, quantity) that reached the order and was never taken.
    missed: Vec<(u64, i64, i64)>,
}

/// Match `reported` with `rules`: at the same time and price first, then
/// what is left by price, earliest first (a fill at another time is early
/// or late); the rest was never reachable, or missed.
fn judge(reported: &Fills, rules: &Fills) -> Judged {
    let mut out = Judged::default();
    let mut want: Vec<(u64, i64, i64)> = rules.clone();
    let mut left: Vec<(u64, i64, i64)> = Vec::new();
    for &(ts, price, q) in reported {
        let mut q_left = q;
        for w in want.iter_mut().filter(|w| w.0 == ts && w.1 == price) {
            let used = w.2.min(q_left);
            w.2 -= used;
            q_left -= used;
        }
        if q_left == 0 {
            out.right += 1;
        } else {
            left.push((ts, price, q_left));
        }
    }
    for (ts, price, mut q) in left {
        for w in want.iter_mut().filter(|w| w.1 == price && w.2 > 0) {
            if q == 0 {
                break;
            }
            let used = w.2.min(q);
            w.2 -= used;
            q -= used;
            if w.0 < ts {
                out.late.push((ts, price, used));
            } else {
                out.early.push((ts, price, used));
            }
        }
        if q > 0 {
            out.never.push((ts, price, q));
        }
    }
    out.missed = want.into_iter().filter(|w| w.2 > 0).collect();
    out
}

fn compare_fills(journal: &journal::Journal, expected: &[Got], out: &mut Audit) {
    let halted = journal.halted.unwrap_or(u64::MAX);
    // Per (order, maker): the reported fills and the rules' fills.
    let mut both: BTreeMap<(u64, bool), (Fills, Fills)> = BTreeMap::new();
    for f in journal.fills.iter().filter(|f| f.ts <= halted) {
        both.entry((f.order, f.maker))
            .or_default()
            .0
            .push((f.ts, f.price, f.quantity));
    }
    for g in expected.iter().filter(|g| g.ts <= halted) {
        both.entry((g.order, g.maker))
            .or_default()
            .1
            .push((g.ts, g.price, g.quantity));
    }
    let owner = |order: u64| journal.owner.get(&order).cloned().unwrap_or_default();
    for ((order, maker), (reported, rules)) in &both {
        let (order, maker) = (*order, *maker);
        let judged = judge(reported, rules);
        let strategy = owner(order);
        let figures = out.strategies.entry(strategy.clone()).or_default();
        let (all, each) = if maker {
            (&mut out.maker, &mut figures.maker)
        } else {
            (&mut out.taker, &mut figures.taker)
        };
        all.fills += reported.len() as u64;
        each.fills += reported.len() as u64;
        all.right += judged.right;
        each.right += judged.right;
        if maker {
            figures.reachable += rules.iter().map(|r| lots(r.2)).sum::<f64>();
            figures.missed_share += judged.missed.iter().map(|m| lots(m.2)).sum::<f64>();
        }
        let kind = if maker { "maker" } else { "taker" };
        let finding = |ts: u64, what: String| Finding {
            strategy: strategy.clone(),
            order,
            ts,
            what,
        };
        for (ts, price, q) in judged.early {
            let what = format!(
                "{kind} fill of {} @ {} before the market had reached it",
                lots(q),
                lots(price)
            );
            push(&mut out.early, &mut out.early_count, finding(ts, what));
        }
        for (ts, price, q) in judged.late {
            let what = format!(
                "{kind} fill of {} @ {} after the market had reached it",
                lots(q),
                lots(price)
            );
            push(&mut out.late, &mut out.late_count, finding(ts, what));
        }
        for (ts, price, q) in judged.never {
            let what = match maker {
                true => format!(
                    "maker fill of {} @ {}: no volume reached it",
                    lots(q),
                    lots(price)
                ),
                false => format!(
                    "taker fill of {} @ {}: the book did not show it",
                    lots(q),
                    lots(price)
                ),
            };
            push(
                &mut out.unreachable,
                &mut out.unreachable_count,
                finding(ts, what),
            );
        }
        for (ts, price, q) in judged.missed {
            out.missed_volume += lots(q);
            let what = format!(
                "{} reached it @ {} ({kind}) and was never taken",
                lots(q),
                lots(price)
            );
            push(&mut out.missed, &mut out.missed_count, finding(ts, what));
        }
    }
    figures(journal, out);
}

/// Queue wait, passive fill ratio and missed share per strategy.
fn figures(journal: &journal::Journal, out: &mut Audit) {
    let mut arrived: BTreeMap<u64, u64> = BTreeMap::new();
    let mut rested: BTreeMap<u64, i64> = BTreeMap::new();
    for s in &journal.sent {
        if let Ask::Submit {
            limit: Some(_),
            tif: Tif::Gtc,
            quantity,
            ..
        } = s.ask
        {
            arrived.entry(s.order).or_insert(s.arrives);
            rested.insert(s.order, quantity);
        }
    }
    let mut waits: BTreeMap<String, (u128, u64)> = BTreeMap::new();
    let mut made: BTreeMap<String, i64> = BTreeMap::new();
    for f in &journal.fills {
        let owner = journal.owner.get(&f.order).cloned().unwrap_or_default();
        if f.maker {
            if let Some(at) = arrived.get(&f.order) {
                let w = waits.entry(owner.clone()).or_default();
                w.0 += u128::from(f.ts.saturating_sub(*at));
                w.1 += 1;
            }
            *made.entry(owner).or_default() += f.quantity;
        } else if let Some(q) = rested.get_mut(&f.order) {
            *q -= f.quantity;
        }
    }
    let mut rested_by: BTreeMap<String, i64> = BTreeMap::new();
    for (order, q) in rested {
        let owner = journal.owner.get(&order).cloned().unwrap_or_default();
        *rested_by.entry(owner).or_default() += q.max(0);
    }
    for (name, f) in &mut out.strategies {
        if let Some((sum, n)) = waits.get(name)
            && *n > 0
        {
            f.avg_queue_wait_ms = (*sum as f64 / *n as f64) / 1e6;
        }
        f.rested = lots(rested_by.get(name).copied().unwrap_or(0));
        if f.rested > 0.0 {
            f.passive_fill_ratio = lots(made.get(name).copied().unwrap_or(0)) / f.rested;
        }
        // `missed_share` holds the missed volume so far.
        f.missed_share = if f.reachable > 0.0 {
            f.missed_share / f.reachable
        } else {
            0.0
        };
    }
}

fn answer_name(a: &Answer) -> String {
    match a {
        Answer::Accepted => "accepted".into(),
        Answer::Refused(why) => format!("rejected ({why})"),
        Answer::Canceled => "canceled".into(),
        Answer::Modified => "modified".into(),
    }
}

fn compare_answers(
    journal: &journal::Journal,
    commands: &[Command<'_>],
    expected: &[(u64, u64, Vec<Answer>)],
    out: &mut Audit,
) {
    // The venue's answers per (order, time), in the order it gave them.
    let mut said: BTreeMap<(u64, u64), Vec<String>> = BTreeMap::new();
    for a in &journal.answers {
        let text = match (a.event.as_str(), &a.reason) {
            ("rejected", Some(why)) => format!("rejected ({why})"),
            (event, _) => event.to_string(),
        };
        said.entry((a.order, a.ts)).or_default().push(text);
    }
    let host_cancels: std::collections::BTreeSet<(u64, u64)> = commands
        .iter()
        .filter(|c| matches!(c.ask, Ask::HostCancel))
        .map(|c| (c.order, c.arrives))
        .collect();
    let mut wanted: BTreeMap<(u64, u64), Vec<String>> = BTreeMap::new();
    for (order, ts, answers) in expected {
        if host_cancels.contains(&(*order, *ts)) {
            continue;
        }
        wanted
            .entry((*order, *ts))
            .or_default()
            .extend(answers.iter().map(answer_name));
    }
    for (key @ &(order, ts), want) in &wanted {
        let got = said.get(key).cloned().unwrap_or_default();
        if &got != want {
            let strategy = journal.owner.get(&order).cloned().unwrap_or_default();
            let show = |v: &[String]| match v.is_empty() {
                true => "nothing".to_string(),
                false => v.join(", "),
            };
            push(
                &mut out.answers,
                &mut out.answers_count,
                Finding {
                    strategy,
                    order,
                    ts,
                    what: format!(
                        "the venue answered {}; the rules say {}",
                        show(&got),
                        show(want)
                    ),
                },
            );
        }
    }
}

/// Each order reaches the venue the session's order latency after it was
/// sent.
fn check_arrivals(journal: &journal::Journal, out: &mut Audit) {
    let (default, by_symbol) = match &journal.latency {
        Some(l) => (l.order, l.by_symbol.clone()),
        None => (0, BTreeMap::new()),
    };
    for s in &journal.sent {
        let Some(decided) = journal.decided.get(&s.order) else {
            continue;
        };
        if !matches!(s.ask, Ask::Submit { .. }) {
            continue;
        }
        let latency = by_symbol.get(&s.instrument).map_or(default, |d| d[1]);
        if s.arrives != decided.saturating_add(latency) {
            push(
                &mut out.arrivals,
                &mut out.arrivals_count,
                Finding {
                    strategy: s.strategy.clone(),
                    order: s.order,
                    ts: s.arrives,
                    what: format!(
                        "arrives {} ns after it was sent; the order latency is {latency} ns",
                        s.arrives.saturating_sub(*decided)
                    ),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_exactly() {
        assert_eq!(decimal("4810.25"), Some(4_810_250_000_000));
        assert_eq!(decimal("-0.5"), Some(-500_000_000));
        assert_eq!(decimal("1"), Some(UNIT));
        assert_eq!(decimal("1.0000000001"), None);
        assert_eq!(decimal("x"), None);
        assert_eq!(decimal(""), None);
    }
}
