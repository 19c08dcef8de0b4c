//! A journal's records as lines a person reads (`tradsys journal show`),
//! and the filters that pick them.

use crate::journal::entry::{Entry, Record};

/// Which records to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only what concerns this plugin: its orders and their reports (a
    /// strategy), its faults, swaps and shadows.
    pub plugin: Option<String>,
    /// Only the order with this id: the strategy's id (of any strategy
    /// unless `plugin` names one).
    pub order: Option<u64>,
    /// Only the order with this host id.
    pub host_order: Option<u64>,
}

impl Filter {
    /// Whether `record` passes.
    pub fn passes(&self, record: &Record) -> bool {
        let (plugin, ids) = about(&record.entry);
        if let Some(name) = &self.plugin {
            let named = |p: &str| {
                p.strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '@']))
            };
            if !plugin.is_some_and(named) {
                return false;
            }
        }
        let client_ok = self
            .order
            .is_none_or(|id| ids.is_some_and(|(client, _)| client == id));
        let host_ok = self
            .host_order
            .is_none_or(|id| ids.is_some_and(|(_, host)| host == Some(id)));
        client_ok && host_ok
    }
}

/// The plugin a record is about, and the order ids (strategy's, host's).
fn about(entry: &Entry) -> (Option<&str>, Option<(u64, Option<u64>)>) {
    match entry {
        Entry::Order(o) => (Some(&o.strategy), Some((o.id, o.host_id))),
        Entry::Report(r) => (Some(&r.strategy), Some((r.id, Some(r.host_id)))),
        Entry::Fault(f) => (Some(&f.plugin), None),
        Entry::Quarantine(q) => (Some(&q.plugin), None),
        Entry::Shadow(s) => (Some(&s.plugin), None),
        // `name from → to`: the filter matches the name before the space.
        Entry::Swap(s) => (s.plugins.first().map(String::as_str), None),
        Entry::Membership(m) => (m.plugin.split('@').next(), None),
        Entry::Wire(w) => (Some(&w.plugin), None),
        Entry::Reconcile(r) => (Some(&r.plugin), r.order.map(|id| (id, Some(id)))),
        Entry::Session(_) | Entry::Halt(_) | Entry::End(_) => (None, None),
    }
}

/// Market time as UTC: `2023-12-25 14:30:00.123456789` (the data crate's, without its suffix).
pub fn utc(ns: u64) -> String {
    let text = tradsys_data::inspect::utc(ns);
    text.strip_suffix(" UTC").unwrap_or(&text).to_string()
}

/// One record as one line.
pub fn line(record: &Record) -> String {
    let what = match &record.entry {
        Entry::Session(s) => {
            let plugins: Vec<String> = s
                .plugins
                .iter()
                .map(|p| format!("{}@{}", p.name, p.version))
                .collect();
            format!(
                "session   seed {}, {} venue: {}",
                s.seed,
                s.venue,
                plugins.join(", ")
            )
        }
        Entry::Order(o) => {
            let host = o
                .host_id
                .map(|h| format!(" (host {h})"))
                .unwrap_or_default();
            let mut fields: Vec<&str> = Vec::new();
            fields.extend(o.side.as_deref());
            fields.extend(o.order_type.as_deref());
            fields.extend(o.tif.as_deref());
            let mut terms = fields.join(" ");
            if let Some(q) = &o.quantity {
                terms.push_str(&format!(" {q}"));
            }
            if let Some(p) = &o.price {
                terms.push_str(&format!(" @ {p}"));
            }
            let signed = o.signers.first().map_or("unsigned", String::as_str);
            let outcome = match &o.rejection {
                None => format!("approved by {} validators", o.verdicts.len()),
                Some(r) => {
                    let message = r
                        .message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default();
                    format!("REJECTED by {} ({}{message})", r.by, r.reason)
                }
            };
            let others: Vec<String> = o
                .verdicts
                .iter()
                .filter(|v| v.verdict != "approve")
                .filter(|v| o.rejection.as_ref().is_none_or(|r| r.by != v.validator))
                .map(|v| {
                    format!(
                        "{} {}",
                        v.validator,
                        v.reason.as_deref().unwrap_or(&v.verdict)
                    )
                })
                .collect();
            let others = if others.is_empty() {
                String::new()
            } else {
                format!("; also {}", others.join(", "))
            };
            format!(
                "order     {}@{} (signed {signed}) {} #{}{host} {} {}: {outcome}{others}",
                o.strategy,
                o.version,
                o.action,
                o.id,
                o.instrument,
                terms.trim()
            )
        }
        Entry::Report(r) => {
            let detail = match r.event.as_str() {
                "filled" => {
                    let role = if r.maker == Some(true) {
                        "maker"
                    } else {
                        "taker"
                    };
                    let waited = r
                        .queue_wait_ns
                        .map(|ns| format!(", waited {:.3} ms", ns as f64 / 1e6))
                        .unwrap_or_default();
                    format!(
                        " {} {} @ {} ({role}, leaves {}, fee {}{waited}; position {} @ {}, realized {})",
                        r.side.as_deref().unwrap_or("?"),
                        r.quantity.as_deref().unwrap_or("?"),
                        r.price.as_deref().unwrap_or("?"),
                        r.leaves.as_deref().unwrap_or("?"),
                        r.fee.as_deref().unwrap_or("0"),
                        r.position.as_deref().unwrap_or("?"),
                        r.average_price.as_deref().unwrap_or("?"),
                        r.realized_pnl.as_deref().unwrap_or("?"),
                    )
                }
                "accepted" => r
                    .queue_ahead
                    .as_ref()
                    .map(|q| format!(" (queue ahead {q})"))
                    .unwrap_or_default(),
                "rejected" => format!(
                    " ({}{})",
                    r.reason.as_deref().unwrap_or("?"),
                    r.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
                "canceled" => format!(" {}", r.quantity.as_deref().unwrap_or("?")),
                "modified" => format!(
                    " to {} @ {}",
                    r.leaves.as_deref().unwrap_or("?"),
                    r.price.as_deref().unwrap_or("?")
                ),
                _ => String::new(),
            };
            format!(
                "report    {} #{} (host {}) {} {} by {}{detail}",
                r.strategy, r.id, r.host_id, r.instrument, r.event, r.matcher
            )
        }
        Entry::Swap(s) => format!(
            "swap      {}: {} ({})",
            s.plugins.join(", "),
            s.outcome,
            s.cause
        ),
        Entry::Shadow(s) => {
            let compared = match (s.compared, s.differing) {
                (Some(c), Some(d)) => format!(": {c} compared, {d} differing"),
                _ => String::new(),
            };
            format!("shadow    {}@{} {}{compared}", s.plugin, s.version, s.event)
        }
        Entry::Fault(f) => format!(
            "FAULT     {}@{} {}: {}",
            f.plugin, f.version, f.fault, f.message
        ),
        Entry::Quarantine(q) => format!("QUARANTINE {}@{}: {}", q.plugin, q.version, q.reason),
        Entry::Halt(h) => format!("HALT      {}", h.reason),
        Entry::Wire(w) => {
            let what = match (&w.text, &w.hex, &w.detail) {
                (Some(text), _, _) => text.replace('\u{1}', "|"),
                (_, Some(hex), _) => format!("hex {hex}"),
                (_, _, Some(detail)) => detail.clone(),
                _ => String::new(),
            };
            let event = match w.event {
                crate::journal::WireEvent::Connected => "connected",
                crate::journal::WireEvent::In => "in",
                crate::journal::WireEvent::Out => "out",
                crate::journal::WireEvent::Closed => "closed",
                crate::journal::WireEvent::Tick => "tick",
                crate::journal::WireEvent::Stop => "stop",
            };
            format!("wire      {} {event:<9} {what}", w.plugin)
        }
        Entry::Reconcile(r) => format!(
            "RECONCILE {} {}: {} ({})",
            r.plugin, r.finding, r.detail, r.action
        ),
        Entry::Membership(m) => format!(
            "member    {} ({}) {}: {}{}",
            m.plugin,
            m.kind,
            m.change,
            m.cause,
            match m.canceled_orders {
                0 => String::new(),
                n => format!("; {n} working orders canceled"),
            }
        ),
        Entry::End(e) => format!(
            "end       {} events in {} batches{}",
            e.events,
            e.batches,
            e.stopped
                .as_ref()
                .map(|s| format!("; stopped early: {s}"))
                .unwrap_or_default()
        ),
    };
    format!("{:>8}  {}  {what}", record.seq, utc(record.ts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_time_reads_as_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00.000000000");
        // 2023-12-25 14:30:00.5 UTC
        assert_eq!(
            utc(1_703_514_600_500_000_000),
            "2023-12-25 14:30:00.500000000"
        );
        assert_eq!(
            utc(951_782_400_000_000_001),
            "2000-02-29 00:00:00.000000001"
        );
    }
}
