//! What the audit takes from an order journal: each command that reached the
//! venue (when, what), each fill, each answer the venue gave. Read here from
//! the JSON lines themselves (the host's reader is the code under audit's
//! neighbour, not the judge's): `FILE`, then `FILE.1`, `FILE.2`, ... while
//! they exist.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::market::{Ask, Got, Side, Tif};
use crate::{Error, decimal};

/// One command that reached the venue.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    /// The host's order id.
    pub(crate) order: u64,
    pub(crate) strategy: String,
    pub(crate) instrument: String,
    /// When it reached the venue.
    pub(crate) arrives: u64,
    /// Its place in the journal (ties in `arrives` go by it).
    pub(crate) seq: u64,
    pub(crate) ask: Ask,
}

/// Any other answer the venue reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answered {
    pub(crate) order: u64,
    pub(crate) ts: u64,
    /// `accepted`, `rejected`, `canceled`, `modified`.
    pub(crate) event: String,
    /// For a refusal: the reason.
    pub(crate) reason: Option<String>,
    /// The matcher, or `host` for what the host did itself.
    pub(crate) by: String,
}

/// The latencies a session modelled, ns.
#[derive(Debug, Clone, Default)]
pub(crate) struct Latency {
    /// The order latency of every instrument but those below.
    pub(crate) order: u64,
    /// (feed, order, response) by symbol, where they differ.
    pub(crate) by_symbol: BTreeMap<String, [u64; 3]>,
}

/// A session as its journal tells it.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    pub(crate) venue: String,
    /// The session's latencies, if it modelled any.
    pub(crate) latency: Option<Latency>,
    pub(crate) sent: Vec<Sent>,
    /// The fills the venue reported.
    pub(crate) fills: Vec<Got>,
    pub(crate) answers: Vec<Answered>,
    /// When the command that became each order was decided (its record's
    /// time), by host order id: for the latency check.
    pub(crate) decided: BTreeMap<u64, u64>,
    /// The strategy of each host order id.
    pub(crate) owner: BTreeMap<u64, String>,
    /// When trading halted, if it did.
    pub(crate) halted: Option<u64>,
    pub(crate) records: u64,
}

fn parts(path: &Path) -> Vec<PathBuf> {
    let mut files = vec![path.to_path_buf()];
    for n in 1.. {
        let next = PathBuf::from(format!("{}.{n}", path.display()));
        if !next.is_file() {
            break;
        }
        files.push(next);
    }
    files
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn number(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// Read the journal at `path` (and its continuations).
pub(crate) fn read(path: &Path) -> Result<Journal, Error> {
    let mut journal = Journal::default();
    let files = parts(path);
    for file in &files {
        let shown = file.display().to_string();
        let content = std::fs::read_to_string(file).map_err(|e| Error::Journal {
            file: shown.clone(),
            why: format!("cannot read: {e}"),
        })?;
        let lines: Vec<&str> = content.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = |why: String| Error::Journal {
                file: shown.clone(),
                why: format!("line {}: {why}", n + 1),
            };
            let v: Value = match serde_json::from_str(line) {
                Ok(v) => v,
                // A cut last line: the writer stopped mid-line.
                Err(_) if n + 1 == lines.len() && !content.ends_with('\n') => break,
                Err(e) => return Err(at(format!("not JSON: {e}"))),
            };
            if v.get("journal").is_some() {
                continue; // a file's header
            }
            journal.records += 1;
            let ts = number(&v, "ts").ok_or_else(|| at("no `ts`".into()))?;
            match text(&v, "kind") {
                Some("session") => session(&mut journal, &v),
                Some("order") => order(&mut journal, &v, ts).map_err(at)?,
                Some("report") => report(&mut journal, &v).map_err(at)?,
                Some("halt") => {
                    journal.halted.get_or_insert(ts);
                }
                Some(_) => {}
                None => return Err(at("no `kind`".into())),
            }
        }
    }
    if journal.venue.is_empty() {
        return Err(Error::Journal {
            file: path.display().to_string(),
            why: "no session record: not an order journal".into(),
        });
    }
    Ok(journal)
}

fn session(journal: &mut Journal, v: &Value) {
    journal.venue = text(v, "venue").unwrap_or_default().to_string();
    if let Some(l) = v.get("latency") {
        let by_symbol = l
            .get("instruments")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(symbol, d)| {
                        let d: Vec<u64> = d.as_array()?.iter().filter_map(Value::as_u64).collect();
                        Some((symbol.clone(), [*d.first()?, *d.get(1)?, *d.get(2)?]))
                    })
                    .collect()
            })
            .unwrap_or_default();
        journal.latency = Some(Latency {
            order: number(l, "order_ns").unwrap_or(0),
            by_symbol,
        });
    }
}

fn side(v: &Value) -> Result<Side, String> {
    match text(v, "side") {
        Some("buy") => Ok(Side::Buy),
        Some("sell") => Ok(Side::Sell),
        other => Err(format!("side {other:?}")),
    }
}

fn amount(v: &Value, key: &str) -> Result<i64, String> {
    let t = text(v, key).ok_or_else(|| format!("no `{key}`"))?;
    decimal(t).ok_or_else(|| format!("`{key}` {t:?} is not a decimal"))
}

fn order(journal: &mut Journal, v: &Value, ts: u64) -> Result<(), String> {
    if v.get("approved").and_then(Value::as_bool) != Some(true) {
        return Ok(()); // refused before the venue
    }
    let order = number(v, "host_id").ok_or("an approved order without `host_id`")?;
    let strategy = text(v, "strategy").unwrap_or_default().to_string();
    let seq = number(v, "seq").unwrap_or(0);
    let ask = match text(v, "action") {
        Some("submit") => Ask::Submit {
            side: side(v)?,
            limit: match text(v, "type") {
                Some("market") => None,
                _ => Some(amount(v, "price")?),
            },
            tif: match text(v, "tif") {
                Some("ioc") => Tif::Ioc,
                Some("fok") => Tif::Fok,
                _ => Tif::Gtc,
            },
            quantity: amount(v, "quantity")?,
        },
        Some("cancel") => Ask::Cancel,
        Some("modify") => Ask::Modify {
            price: amount(v, "price")?,
            quantity: amount(v, "quantity")?,
        },
        other => return Err(format!("order action {other:?}")),
    };
    if journal.venue != "simulated" {
        return Ok(());
    }
    let arrives = number(v, "arrives").ok_or(
        "an approved order without `arrives`: the journal predates arrival times (tradsys 0.1 \
         journals from before the latency model cannot be audited)",
    )?;
    if matches!(ask, Ask::Submit { .. }) {
        journal.decided.insert(order, ts);
        journal.owner.insert(order, strategy.clone());
    }
    journal.sent.push(Sent {
        order,
        strategy,
        instrument: text(v, "instrument").unwrap_or_default().to_string(),
        arrives,
        seq,
        ask,
    });
    Ok(())
}

fn report(journal: &mut Journal, v: &Value) -> Result<(), String> {
    let order = number(v, "host_id").ok_or("a report without `host_id`")?;
    let ts = number(v, "venue_ts").ok_or("a report without `venue_ts`")?;
    let event = text(v, "event").unwrap_or_default();
    if event == "filled" {
        journal.fills.push(Got {
            order,
            ts,
            price: amount(v, "price")?,
            quantity: amount(v, "quantity")?,
            maker: v.get("maker").and_then(Value::as_bool).unwrap_or(false),
        });
    } else {
        journal.answers.push(Answered {
            order,
            ts,
            event: event.to_string(),
            reason: text(v, "reason").map(str::to_string),
            by: text(v, "matcher").unwrap_or_default().to_string(),
        });
    }
    Ok(())
}
