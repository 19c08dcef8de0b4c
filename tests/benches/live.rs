//! Live trading against the QuickFIX venue (`tests/venue/`), over loopback:
//! the ES MBO day (`../shared/data`, skipped without it) turned into price
//! levels and trades the venue streams as incremental refreshes at full
//! speed, and `tradsys run` (release) trading it through `fix-venue`.
//!
//! - tick-to-order, as the host measures it (the report's
//!   `live.tick_to_order`): an event taken from the connection to the bytes
//!   of the order it caused handed to the socket, p50, p99 and p99.9
//!   (HdrHistogram), with one strategy, and with three strategies and four
//!   validators;
//! - from the session's journal (each wire record stamped with the wall
//!   clock at which the host took the event it belongs to): the round trip,
//!   the market data message that caused a NewOrderSingle to its
//!   acknowledgement (ExecutionReport, ExecType 0, or 5 for a replace)
//!   taken; the orders sent per second; how fast the host took the market
//!   data in;
//! - the orders a second sustained: a market whose best bid moves with
//!   every update, so the market maker replaces its quotes each time, paced
//!   at 2,000, 5,000 and 10,000 updates a second (at full speed the host
//!   takes many updates per read, and the moves cancel out within one).
//!
//! Run with `cargo xtask bench` (it builds the venue and the release host);
//! the figures go in docs/BENCHMARKS.md. Not a test: nothing here passes or
//! fails on a figure.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hdrhistogram::Histogram;
use tradsys_tests::venue_market::market_file;

const ES: &str = "esh4-glbx-mdp3-20231225.mbo.dbn.zst";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One session: the venue streams the file (`pace`: its `md` arguments
/// after the file: a rate and a limit, or nothing for all of it at full
/// speed), the host trades it with `strategies` and `validators`; the
/// journal's wire records and the report's `live` object.
fn session(
    market: &Path,
    pace: &str,
    strategies: &[&str],
    validators: &[&str],
) -> (Vec<serde_json::Value>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut venue = Command::new(root().join("target/venue/quickfix-venue"))
        .arg(port.to_string())
        .arg(dir.path().join("store"))
        .arg(root().join("tests/venue/FIX44-tradsys.xml"))
        .arg(dir.path().join("log"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("target/venue/quickfix-venue: run `cargo xtask bench`, which builds it");
    let mut stdin = venue.stdin.take().unwrap();
    let (tx, said) = mpsc::channel::<String>();
    let stdout = venue.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |prefix: &str| loop {
        let line = said
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("the venue never said {prefix}"));
        if line.starts_with(prefix) || line.starts_with(&format!("EVENT {prefix}")) {
            return line;
        }
    };
    wait_for("READY");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    for name in ["fix-venue", "sim-venue"]
        .iter()
        .chain(strategies)
        .chain(validators)
    {
        let file = format!("{name}.wasm");
        std::fs::copy(
            root().join("target/plugins").join(&file),
            plugins.join(&file),
        )
        .unwrap();
    }
    let list = tradsys_tests::toml_list;
    let config = format!(
        r#"
[run]
connector = "fix-venue"
strategies = [{}]
validators = [{}]
events = 0
[venue]
model = "live"
[plugins.fix-venue]
network = ["127.0.0.1:{port}"]
config = {{ sender_comp_id = "TRADSYS", target_comp_id = "VENUE", heartbeat_s = 30, symbols = "ESH4", "tick.ESH4" = "0.25" }}
[plugins.market-maker]
config = {{ quantity = "1", max_position = "5", min_requote_ms = "0" }}
"#,
        list(strategies),
        list(validators)
    );
    let config_path = dir.path().join("host.toml");
    std::fs::write(&config_path, config).unwrap();
    let journal = dir.path().join("session.journal");
    let mut host = Command::new(root().join("target/release/tradsys"))
        .args(["run", "--plugins"])
        .arg(&plugins)
        .arg("--trust")
        .arg(root().join("target/dev-keys/trust"))
        .arg("--config")
        .arg(&config_path)
        .arg("--journal")
        .arg(&journal)
        .arg("--report-json")
        .arg(dir.path().join("report.json"))
        .arg("--eager") // compiled before the session: no first-call compile in the figures
        // LIVE_BENCH_REPORT=1 shows each session's report (plugin timings).
        .stdout(if std::env::var_os("LIVE_BENCH_REPORT").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::null())
        .spawn()
        .expect("target/release/tradsys: run `cargo xtask bench`");
    wait_for("subscribed");
    writeln!(stdin, "md {} {pace}", market.display()).unwrap();
    let done = wait_for("md-done");
    eprintln!("  venue: {done}");
    std::thread::sleep(Duration::from_secs(1));
    writeln!(stdin, "logout").unwrap();
    let status = host.wait().unwrap();
    assert!(status.success(), "tradsys failed");
    let _ = writeln!(stdin, "quit");
    let _ = venue.wait();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let wire = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["kind"] == "wire")
        .collect();
    (wire, report["live"].clone())
}

fn field<'a>(message: &'a str, tag: &str) -> Option<&'a str> {
    let needle = format!("\u{1}{tag}=");
    let start = message.find(&needle)? + needle.len();
    let end = message[start..].find('\u{1}')? + start;
    Some(&message[start..end])
}

fn show(name: &str, h: &Histogram<u64>) {
    if h.is_empty() {
        eprintln!("  {name}: no samples");
        return;
    }
    eprintln!(
        "  {name}: {} samples, p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
        h.len(),
        h.value_at_quantile(0.5) as f64 / 1e3,
        h.value_at_quantile(0.99) as f64 / 1e3,
        h.value_at_quantile(0.999) as f64 / 1e3,
        h.max() as f64 / 1e3
    );
}

/// Tick-to-order from the report's `live`; the round trip, the order rate
/// and how fast the host took the market data in from the wire records.
fn figures(wire: &[serde_json::Value], live: &serde_json::Value) {
    let t = &live["tick_to_order"];
    let us = |key: &str| t[key].as_u64().unwrap_or(0) as f64 / 1e3;
    eprintln!(
        "  tick-to-order (the host's): {} orders, p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
        t["samples"],
        us("p50_ns"),
        us("p99_ns"),
        us("p999_ns"),
        us("max_ns")
    );
    let ins: Vec<(u64, usize)> = wire
        .iter()
        .filter(|r| r["event"] == "in")
        .map(|r| {
            let text = r["text"].as_str().unwrap_or_default();
            (
                r["at"].as_u64().unwrap_or(0),
                text.matches("\u{1}35=X\u{1}").count(),
            )
        })
        .collect();
    if let (Some(first), Some(last)) = (ins.first(), ins.last()) {
        let messages: usize = ins.iter().map(|(_, n)| n).sum();
        let seconds = (last.0 - first.0) as f64 / 1e9;
        eprintln!(
            "  market data taken in: {messages} incremental refreshes in {seconds:.2} s: {:.0} per second, in {} reads",
            messages as f64 / seconds.max(1e-9),
            ins.len()
        );
    }
    let mut round_trip = Histogram::<u64>::new(3).unwrap();
    let mut sent_at: HashMap<String, u64> = HashMap::new();
    let (mut first, mut last, mut orders) = (None, 0u64, 0u64);
    for record in wire {
        let at = record["at"].as_u64().unwrap_or(0);
        let text = record["text"].as_str().unwrap_or_default();
        match record["event"].as_str() {
            Some("in") => {
                for message in text
                    .split("8=FIX.4.4")
                    .filter(|m| m.contains("\u{1}35=8\u{1}"))
                {
                    // The acknowledgement of a new order (0) or a replace (5).
                    if matches!(field(message, "150"), Some("0" | "5"))
                        && let Some(sent) = field(message, "11").and_then(|id| sent_at.remove(id))
                    {
                        round_trip.record(at.saturating_sub(sent)).unwrap();
                    }
                }
            }
            Some("out") => {
                let mut is_order = false;
                for message in text.split("8=FIX.4.4") {
                    let kind = field(message, "35");
                    if matches!(kind, Some("D" | "F" | "G")) {
                        is_order = true;
                        orders += 1;
                        if matches!(kind, Some("D" | "G"))
                            && let Some(id) = field(message, "11")
                        {
                            sent_at.insert(id.to_string(), at);
                        }
                    }
                }
                if is_order {
                    first.get_or_insert(at);
                    last = at;
                }
            }
            _ => {}
        }
    }
    show(
        "market data to the acknowledgement of the order or replace it caused",
        &round_trip,
    );
    if let Some(first) = first {
        let seconds = (last - first) as f64 / 1e9;
        eprintln!(
            "  orders sent (D, F, G): {orders} in {seconds:.2} s: {:.0} per second",
            orders as f64 / seconds.max(1e-9)
        );
    }
}

fn main() {
    let data = root().join("../shared/data").join(ES);
    if !data.exists() {
        eprintln!("live: skipped: {} is absent", data.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let market = dir.path().join("es.md");
    let updates = market_file(&data, &market, None);
    // LIVE_BENCH_MARKET=FILE: only write the venue's market data file (to
    // drive a session by hand, under a profiler).
    if let Some(keep) = std::env::var_os("LIVE_BENCH_MARKET") {
        std::fs::copy(&market, &keep).unwrap();
        eprintln!(
            "live: {updates} updates written to {}",
            Path::new(&keep).display()
        );
        return;
    }
    eprintln!("live: the ES day as {updates} market data updates, streamed by QuickFIX");
    // A market whose best bid moves a point up and back with every update:
    // the market maker replaces its quotes each time (an order per update),
    // which measures the orders a second the host and QuickFIX sustain.
    let requotes = dir.path().join("requotes.md");
    let mut lines = String::from("ESH4 S 4702 10\nESH4 B 4700 10\n");
    for n in 0..20_000 {
        lines.push_str(if n % 2 == 0 {
            "ESH4 B 4701 5\n"
        } else {
            "ESH4 B 4701 0\n"
        });
    }
    std::fs::write(&requotes, lines).unwrap();
    let one = (&["market-maker"][..], &[][..]);
    let many = (
        &["market-maker", "momentum", "mean-reversion"][..],
        &[
            "max-notional",
            "price-collar",
            "position-limit",
            "order-throttle",
        ][..],
    );
    // Paced, one update at a time: what a message costs from the socket to
    // the order it causes. Then the whole day at full speed: how fast the
    // host takes a feed in, and what queueing behind it does to the rest.
    for (name, market, pace, (strategies, validators)) in [
        (
            "one strategy replacing its quotes on every update, 2,000 updates/s",
            &requotes,
            "2000",
            one,
        ),
        (
            "one strategy replacing its quotes on every update, 5,000 updates/s",
            &requotes,
            "5000",
            one,
        ),
        (
            "one strategy replacing its quotes on every update, 10,000 updates/s",
            &requotes,
            "10000",
            one,
        ),
        (
            "one strategy, 2,000 updates/s, the first 20,000",
            &market,
            "2000 20000",
            one,
        ),
        (
            "three strategies and four validators, 2,000 updates/s, the first 20,000",
            &market,
            "2000 20000",
            many,
        ),
        (
            "one strategy, the whole day at full speed",
            &market,
            "",
            one,
        ),
        (
            "three strategies and four validators, the whole day at full speed",
            &market,
            "",
            many,
        ),
    ] {
        eprintln!("live, {name}:");
        let (wire, live) = session(market, pace, strategies, validators);
        figures(&wire, &live);
    }
}
