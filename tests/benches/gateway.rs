//! The host as a venue under load: `tradsys run` (release) as an exchange
//! venue (`fifo-matcher`, the synthetic market's instruments, no strategy),
//! clients on loopback over WebSocket (`tungstenite`), orders sent at fixed
//! offered rates.
//!
//! Each order's latency is taken from its planned send time (the rate's
//! schedule), not from when the client got round to sending it, to its
//! `accepted` (HdrHistogram): a venue that falls behind shows its queue in
//! the figures instead of slowing the sender (coordinated omission). The
//! orders alternate buy and sell at one price within each account, so each
//! sell trades with the buy before it and the book stays small.
//!
//! Per session: without validators, and with the four of the replay
//! benchmark; without a journal, and with one (every reply after the
//! journal's writer has its records). Two connections, each with a writer
//! and a reader thread, on the same two cores as the host.
//!
//! In process, without the network: a journal of client orders is handed to
//! `tradsys run --resume`, which enters them one after another through the
//! host's checks, the validators and the matcher (and the new journal), as
//! it does after a crash; the host logs how long that took.
//!
//! Run with `cargo xtask bench` (it builds the plugins and the release host);
//! the figures go in docs/BENCHMARKS.md. Not a test: nothing here passes or
//! fails on a figure.

use std::io::{BufRead as _, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

/// Client connections (each its own account).
const CONNECTIONS: usize = 2;

/// How long each rate is offered.
const SECONDS: f64 = 2.0;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venue, killed when dropped.
struct Venue {
    child: Child,
    url: String,
    keys: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Venue {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tradsys() -> PathBuf {
    root().join("target/release/tradsys")
}

/// A venue's directory with `validators`: its plugins, accounts and
/// config (`venue.toml`); the keys, and the port it serves on.
fn prepare(validators: &[&str]) -> (tempfile::TempDir, PathBuf, Vec<String>, u16) {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    for name in ["synthetic-market", "fifo-matcher"]
        .iter()
        .chain(validators)
    {
        let file = format!("{name}.wasm");
        std::fs::copy(
            root().join("target/plugins").join(&file),
            plugins.join(&file),
        )
        .unwrap_or_else(|e| panic!("{file}: {e}: run `cargo xtask bench`"));
    }
    let mut accounts = String::new();
    let mut keys = Vec::new();
    for n in 0..CONNECTIONS {
        let out = Command::new(tradsys())
            .args(["gateway", "key", &format!("c{n}")])
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let (key, table) = stdout.split_once('\n').unwrap();
        keys.push(key.to_string());
        accounts.push_str(table);
    }
    std::fs::write(dir.path().join("accounts.toml"), accounts).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let list = tradsys_tests::toml_list;
    let config = format!(
        "[run]\nevents = 100\nstrategies = []\nvalidators = [{}]\n\
         [venue]\nmodel = \"exchange\"\n\
         [gateway]\nwebsocket = \"127.0.0.1:{port}\"\naccounts = \"accounts.toml\"\n\
         max_messages_per_second = 1000000\noutbound_queue = 1000000\n\
         [plugins.max-notional]\nconfig = {{ max_notional = \"1000000\", max_quantity = 1000 }}\n\
         [plugins.position-limit]\nconfig = {{ max_position = \"1000000\" }}\n\
         [plugins.order-throttle]\nconfig = {{ max_orders = 100000000, window_ms = 1000 }}\n\
         [plugins.price-collar]\nconfig = {{ band_bps = 10000 }}\n",
        list(validators)
    );
    std::fs::write(dir.path().join("venue.toml"), config).unwrap();
    (dir, plugins, keys, port)
}

/// `tradsys run` of the venue in `dir`.
fn run(dir: &Path, plugins: &Path) -> Command {
    let mut command = Command::new(tradsys());
    command
        .args(["run", "--plugins"])
        .arg(plugins)
        .arg("--trust")
        .arg(root().join("target/dev-keys/trust"))
        .arg("--config")
        .arg(dir.join("venue.toml"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Start the venue with `validators`, journaling or not.
fn venue(validators: &[&str], journal: bool) -> Venue {
    let (dir, plugins, keys, port) = prepare(validators);
    let mut command = run(dir.path(), &plugins);
    if journal {
        command
            .arg("--journal")
            .arg(dir.path().join("journal.jsonl"));
    }
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (ready, serving) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("serving clients until stopped") {
                let _ = ready.send(());
            }
        }
    });
    serving
        .recv_timeout(Duration::from_secs(60))
        .expect("the venue did not start");
    Venue {
        child,
        url: format!("ws://127.0.0.1:{port}/"),
        keys,
        _dir: dir,
    }
}

/// What one connection saw.
struct Seen {
    /// Latencies of the orders accepted, ns.
    latencies: Histogram<u64>,
    sent: u64,
    /// Orders rejected, and messages refused (`error`), and the first
    /// message of each kind.
    rejected: u64,
    refused: u64,
    reasons: Vec<String>,
}

/// One connection's run at `rate` orders a second.
fn client(url: &str, account: &str, key: &str, rate: f64, start: Instant) -> Seen {
    let (mut reader, _) = tungstenite::connect(url).unwrap();
    let logon = format!(r#"{{"type":"logon","account":"{account}","key":"{key}"}}"#);
    reader.send(Message::text(logon)).unwrap();
    assert!(
        reader
            .read()
            .unwrap()
            .to_text()
            .unwrap()
            .contains("logged_on")
    );
    let tungstenite::stream::MaybeTlsStream::Plain(stream) = reader.get_ref() else {
        unreachable!("ws:// is plain TCP")
    };
    stream.set_nodelay(true).unwrap();
    let stream: TcpStream = stream.try_clone().unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // The writer: its own WebSocket over the same connection (the reader
    // never writes, the writer never reads).
    let mut writer = WebSocket::from_raw_socket(stream, Role::Client, None);
    let period = Duration::from_secs_f64(1.0 / rate);
    let orders = (rate * SECONDS) as u64;
    let sending = std::thread::spawn(move || {
        for n in 0..orders {
            let at = start + period.mul_f64(n as f64);
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            let side = if n % 2 == 0 { "buy" } else { "sell" };
            let order = format!(
                r#"{{"type":"order","id":{},"symbol":"SYN-A","side":"{side}","price":"100","quantity":"1"}}"#,
                n + 1
            );
            if writer.send(Message::text(order)).is_err() {
                return n;
            }
        }
        orders
    });
    let mut latencies = Histogram::<u64>::new_with_bounds(1_000, 60_000_000_000, 3).unwrap();
    let (mut acked, mut rejected, mut refused) = (0u64, 0u64, 0u64);
    let mut reasons: Vec<String> = Vec::new();
    let deadline = start + Duration::from_secs_f64(SECONDS + 10.0);
    while acked + rejected + refused < orders && Instant::now() < deadline {
        let Ok(message) = reader.read() else { break };
        let Ok(text) = message.to_text() else {
            continue;
        };
        let Some(rest) = text.strip_prefix(r#"{"type":"accepted","id":"#) else {
            let error = text.starts_with(r#"{"type":"error""#);
            if error || text.starts_with(r#"{"type":"rejected""#) {
                *(if error { &mut refused } else { &mut rejected }) += 1;
                let kind = &text[..text.len().min(20)];
                if !reasons.iter().any(|r| r.starts_with(kind)) {
                    reasons.push(text.to_string());
                }
            }
            continue;
        };
        let id: u64 = rest[..rest.find(',').unwrap()].parse().unwrap();
        let planned = start + period.mul_f64((id - 1) as f64);
        let latency = Instant::now().saturating_duration_since(planned);
        latencies.saturating_record(latency.as_nanos() as u64);
        acked += 1;
    }
    let sent = sending.join().unwrap();
    Seen {
        latencies,
        sent,
        rejected,
        refused,
        reasons,
    }
}

/// `orders` client orders entered in process by a venue with
/// `validators`, `run` orders of one account in a row (then the other's,
/// which trade with them), after the feed: how many a second, and how many
/// the venue approved (from the journal it wrote).
fn in_process(validators: &[&str], orders: u64, run_of: u64) -> (f64, usize) {
    let (dir, plugins, _keys, _port) = prepare(validators);
    let journal = dir.path().join("orders.jsonl");
    let mut text =
        String::from("{\"journal\":1,\"part\":0,\"host\":\"bench\",\"wall_started_ms\":0}\n");
    for n in 0..orders {
        let block = n / run_of;
        let (account, side) = if block.is_multiple_of(2) {
            ("c0", "buy")
        } else {
            ("c1", "sell")
        };
        text.push_str(&format!(
            "{{\"seq\":{},\"ts\":0,\"kind\":\"order\",\"strategy\":\"gateway\",\
             \"account\":\"{account}\",\"batch\":1000000000,\"version\":\"0\",\"signers\":[],\
             \"action\":\"submit\",\"id\":{},\"instrument\":\"SYN-A\",\"side\":\"{side}\",\
             \"type\":\"limit\",\"tif\":\"gtc\",\"price\":\"100\",\"quantity\":\"1\",\
             \"approved\":true}}\n",
            n + 1,
            n + 1
        ));
    }
    std::fs::write(&journal, text).unwrap();
    let mut child = run(dir.path(), &plugins)
        .arg("--resume")
        .arg(&journal)
        .arg("--journal")
        .arg(dir.path().join("after.jsonl"))
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut rate = 0.0;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        // `the recorded requests are in (N in X ms)`
        if let Some(rest) = line.split("requests are in (").nth(1) {
            let mut words = rest.split_whitespace();
            let n: f64 = words.next().unwrap().parse().unwrap();
            let ms: f64 = words.nth(1).unwrap().parse().unwrap();
            rate = n / (ms / 1e3);
            break;
        }
    }
    // Ctrl-C, and the journal it wrote: the orders it approved.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let written = std::fs::read_to_string(dir.path().join("after.jsonl")).unwrap_or_default();
    let approved = written
        .lines()
        .filter(|l| l.contains("\"kind\":\"order\"") && l.contains("\"approved\":true"))
        .count();
    (rate, approved)
}

fn main() {
    if !tradsys().is_file() {
        eprintln!("gateway benchmark skipped: build the release host (`cargo xtask bench`)");
        return;
    }
    let four = [
        "max-notional",
        "price-collar",
        "position-limit",
        "order-throttle",
    ];
    println!(
        "in process (no network; the host's checks, the validators, the matcher, and the journal \
         the resumed session writes), 200,000 orders, median of three:"
    );
    for (label, validators) in [("matcher alone", &[][..]), ("four validators", &four[..])] {
        for run_of in [1, 64] {
            let runs: Vec<(f64, usize)> = (0..3)
                .map(|_| in_process(validators, 200_000, run_of))
                .collect();
            let mut rates: Vec<f64> = runs.iter().map(|r| r.0).collect();
            rates.sort_by(f64::total_cmp);
            println!(
                "  {label}, {run_of} order(s) of an account in a row: {:.0} orders/s \
                 (runs {:.0} to {:.0}); approved {:?}",
                rates[1],
                rates[0],
                rates[2],
                runs.iter().map(|r| r.1).collect::<Vec<_>>()
            );
        }
    }
    // `cargo bench --bench gateway -- in-process`: that part only.
    if std::env::args().any(|a| a == "in-process") {
        return;
    }
    println!(
        "the host as a venue: {CONNECTIONS} WebSocket connections on loopback, {SECONDS} s per \
         offered rate, latency from each order's planned send time to its acknowledgement"
    );
    let sessions: [(&str, &[&str], bool); 3] = [
        ("matcher alone, no journal", &[], false),
        ("four validators, no journal", &four, false),
        ("four validators, journal", &four, true),
    ];
    for (label, validators, journal) in sessions {
        println!("{label}:");
        for rate in [10_000.0, 50_000.0, 100_000.0, 150_000.0, 200_000.0] {
            let venue = venue(validators, journal);
            let start = Instant::now() + Duration::from_millis(200);
            let per = rate / CONNECTIONS as f64;
            let handles: Vec<_> = (0..CONNECTIONS)
                .map(|n| {
                    let (url, key) = (venue.url.clone(), venue.keys[n].clone());
                    std::thread::spawn(move || client(&url, &format!("c{n}"), &key, per, start))
                })
                .collect();
            let mut all = Histogram::<u64>::new_with_bounds(1_000, 60_000_000_000, 3).unwrap();
            let (mut sent, mut rejected, mut refused) = (0, 0, 0);
            let mut reasons: Vec<String> = Vec::new();
            for handle in handles {
                let seen = handle.join().unwrap();
                all.add(&seen.latencies).unwrap();
                sent += seen.sent;
                rejected += seen.rejected;
                refused += seen.refused;
                reasons.extend(seen.reasons);
            }
            let us = |q: f64| all.value_at_quantile(q) as f64 / 1e3;
            println!(
                "  offered {rate:>7.0} orders/s: {sent} sent, {} accepted, {rejected} rejected, \
                 {refused} refused; accepted in p50 {:.0} µs, p99 {:.0} µs, p99.9 {:.0} µs, \
                 max {:.0} µs",
                all.len(),
                us(0.5),
                us(0.99),
                us(0.999),
                all.max() as f64 / 1e3
            );
            for reason in reasons.iter().take(3) {
                println!("    for example: {reason}");
            }
            drop(venue);
        }
    }
}
