//! `tradsys run --report-html FILE`: the session report as one
//! self-contained HTML page (inline style and SVG; no script, nothing
//! fetched): each strategy's equity curve and position over the session,
//! fills, rejections by reason, and every plugin's latency histogram.

use std::fmt::Write as _;

use crate::journal::decimal;
use crate::trading::Report;
use crate::trading::telemetry::Curve;

const COLORS: [&str; 8] = [
    "#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568",
];

/// Text made safe for HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A line chart of one series per strategy over the events of `curve`.
fn line_chart(curve: &Curve, title: &str, value: impl Fn(usize, usize) -> f64) -> String {
    let (width, height, left, bottom) = (720.0, 220.0, 60.0, 18.0);
    let points = &curve.points;
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg class=\"chart\" viewBox=\"0 0 {width} {height}\">",
        esc(title)
    );
    if points.is_empty() || curve.strategies.is_empty() {
        svg.push_str("<text x=\"70\" y=\"100\">no samples</text></svg></figure>");
        return svg;
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in 0..points.len() {
        for s in 0..curve.strategies.len() {
            let v = value(p, s);
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if (hi - lo).abs() < f64::EPSILON {
        lo -= 1.0;
        hi += 1.0;
    }
    let first = points[0].events as f64;
    let last = (points[points.len() - 1].events as f64).max(first + 1.0);
    let x = |events: u64| left + (width - left - 6.0) * (events as f64 - first) / (last - first);
    let y = |v: f64| 6.0 + (height - bottom - 12.0) * (hi - v) / (hi - lo);
    let _ = write!(
        svg,
        "<line x1=\"{left}\" x2=\"{width}\" y1=\"{0:.1}\" y2=\"{0:.1}\" stroke=\"#d9dde4\"/>\
         <text x=\"2\" y=\"14\">{hi:.2}</text><text x=\"2\" y=\"{1:.1}\">{lo:.2}</text>\
         <text x=\"{left}\" y=\"{2:.1}\">{first} events</text>\
         <text x=\"{3:.1}\" y=\"{2:.1}\">{last} events</text>",
        y(0.0).clamp(0.0, height),
        height - bottom,
        height - 3.0,
        width - 120.0,
    );
    for (s, name) in curve.strategies.iter().enumerate() {
        let mut d = String::new();
        for (i, p) in points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { 'M' } else { 'L' },
                x(p.events),
                y(value(i, s))
            );
        }
        let _ = write!(
            svg,
            "<path data-strategy=\"{}\" d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>",
            esc(name),
            COLORS[s % COLORS.len()]
        );
    }
    svg.push_str("</svg><div class=\"legend\">");
    for (s, name) in curve.strategies.iter().enumerate() {
        let _ = write!(
            svg,
            "<span><i style=\"background:{}\"></i>{}</span>",
            COLORS[s % COLORS.len()],
            esc(name)
        );
    }
    svg.push_str("</div></figure>");
    svg
}

/// A bar per latency bucket of one plugin.
fn histogram(plugin: &crate::trading::report::PluginReport) -> String {
    let timing = &plugin.timing;
    let bars: Vec<(String, u64)> = timing
        .buckets
        .iter()
        .map(|&(bound, n)| {
            let label = match bound {
                u64::MAX => "more".to_string(),
                ns if ns >= 1_000_000 => format!("≤{} ms", ns / 1_000_000),
                ns => format!("≤{} µs", ns as f64 / 1e3),
            };
            (label, n)
        })
        .collect();
    let most = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let (width, height) = (340.0, 90.0);
    let step = width / bars.len() as f64;
    let mut svg = format!(
        "<figure class=\"histogram\" data-plugin=\"{}\"><figcaption>{} {} ({}): {} calls, p50 {:.1} µs, \
         p99 {:.1} µs</figcaption><svg viewBox=\"0 0 {width} {}\">",
        esc(&plugin.name),
        esc(&plugin.name),
        esc(&plugin.version),
        esc(&plugin.kind.to_string()),
        timing.timed,
        timing.p50_ns as f64 / 1e3,
        timing.p99_ns as f64 / 1e3,
        height + 14.0
    );
    for (i, (label, count)) in bars.iter().enumerate() {
        let h = height * *count as f64 / most as f64;
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"#2b6cb0\">\
             <title>{label}: {count}</title></rect>",
            i as f64 * step + 1.0,
            height - h,
            step - 2.0
        );
    }
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"{0}\">1 µs</text><text x=\"{1}\" y=\"{0}\">1 s</text></svg></figure>",
        height + 12.0,
        width - 24.0
    );
    svg
}

/// `report` (and the curve of its session) as one HTML page.
pub fn render(report: &Report, curve: &Curve) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>tradsys session report</title><style>\
         body{font:13px/1.4 system-ui,sans-serif;color:#1d2430;margin:24px;max-width:1500px}\
         h1{font-size:20px}h2{font-size:15px;margin-top:28px}\
         table{border-collapse:collapse}th,td{padding:3px 8px;border-bottom:1px solid #d9dde4;text-align:right}\
         th:first-child,td:first-child,.text{text-align:left}th{color:#6a7383;font-weight:500}\
         figure{display:inline-block;margin:0 18px 18px 0;vertical-align:top}figcaption{color:#6a7383}\
         svg.chart{width:720px;height:220px}svg text{font-size:10px;fill:#6a7383}\
         .histogram svg{width:340px;height:104px}.legend span{margin-right:12px}\
         .legend i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}\
         .warn{color:#c53030}</style></head><body>",
    );
    let _ = write!(
        html,
        "<h1>Session report</h1><p>{} events in {} batches, seed {}, {:.0} ms ({:.0} events/s); \
         {} orders submitted, {} approved, {} rejected; {} fills ({} venue).</p>",
        report.events,
        report.batches,
        report.seed,
        report.timing.elapsed_ms,
        report.timing.events_per_second,
        report.orders.submitted,
        report.orders.approved,
        report.orders.rejected,
        report.fills,
        serde_json::to_value(report.venue)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    );
    for (what, why) in [
        (
            "Stopped early",
            report.stopped.as_ref().map(ToString::to_string),
        ),
        ("HALTED", report.halted.as_ref().map(ToString::to_string)),
    ] {
        if let Some(why) = why {
            let _ = write!(html, "<p class=\"warn\">{what}: {}</p>", esc(&why));
        }
    }
    html.push_str("<h2>Equity and position</h2>");
    html.push_str(&line_chart(curve, "PnL (realized + unrealized)", |p, s| {
        curve.points[p].pnl[s]
    }));
    html.push_str(&line_chart(
        curve,
        "Net position (all instruments)",
        |p, s| curve.points[p].position[s],
    ));
    html.push_str(
        "<h2>Strategies</h2><table id=\"strategies\"><tr><th>strategy</th><th>orders</th><th>approved</th>\
         <th>rejected</th><th>fills</th><th>maker</th><th>taker</th><th>fees</th><th>realized</th>\
         <th>unrealized</th><th>PnL</th><th class=\"text\">positions</th></tr>",
    );
    for s in &report.strategies {
        let positions: Vec<String> = s
            .positions
            .iter()
            .map(|p| format!("{} {}", p.instrument, p.quantity))
            .collect();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"fills\">{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            esc(&s.name),
            s.submitted,
            s.approved,
            s.rejected,
            s.fills,
            s.maker_fills,
            s.taker_fills,
            esc(&s.fees),
            esc(&s.realized_pnl),
            esc(&s.unrealized_pnl),
            esc(&s.pnl),
            esc(&positions.join(", "))
        );
    }
    html.push_str("</table><h2>Rejections by reason</h2><table id=\"rejections\"><tr><th>refused by</th><th class=\"text\">reason</th><th>orders</th><th class=\"text\"></th></tr>");
    let most = report
        .orders
        .rejections
        .iter()
        .map(|r| r.count)
        .max()
        .unwrap_or(1)
        .max(1);
    let venue = report
        .orders
        .venue_rejections
        .iter()
        .map(|(reason, n)| ("venue".to_string(), reason.clone(), *n));
    let rows = report
        .orders
        .rejections
        .iter()
        .map(|r| (r.by.clone(), r.reason.clone(), r.count))
        .chain(venue);
    for (by, reason, count) in rows {
        let width = 200 * count / most.max(count);
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"text\">{}</td><td class=\"count\">{count}</td>\
             <td class=\"text\"><svg width=\"200\" height=\"10\"><rect width=\"{width}\" height=\"10\" fill=\"#c05621\"/></svg></td></tr>",
            esc(&by),
            esc(&reason)
        );
    }
    html.push_str("</table><h2>Plugin call latency</h2>");
    for plugin in &report.plugins {
        html.push_str(&histogram(plugin));
    }
    html.push_str("<h2>Plugins</h2><table><tr><th>plugin</th><th class=\"text\">version</th><th class=\"text\">kind</th><th class=\"text\">state</th><th>calls</th><th>fuel</th><th>faults</th><th class=\"text\">quarantined</th></tr>");
    for p in &report.plugins {
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            esc(&p.name),
            esc(&p.version),
            esc(&p.kind.to_string()),
            serde_json::to_value(p.state)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            p.calls,
            p.fuel_used,
            p.faults.values().sum::<u64>(),
            esc(p.quarantined.as_deref().unwrap_or("-"))
        );
    }
    let _ = writeln!(
        html,
        "</table><p>Fees, PnL and prices are exact decimals (1e-{} units); the charts sample every {} batches.</p></body></html>",
        decimal::SCALE.ilog10(),
        curve.stride.max(1)
    );
    html
}
