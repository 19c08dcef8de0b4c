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
//! The same over FIX 4.4: each connection a FIX session (its Logon, then
//! NewOrderSingles framed here, latency to each New ExecutionReport).
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
use tradsys_tests::fix_frame as frame;
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
    /// Where FIX clients connect.
    fix: u16,
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
fn prepare(validators: &[&str]) -> (tempfile::TempDir, PathBuf, Vec<String>, [u16; 2]) {
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
        accounts.push_str(&format!("fix_sender = \"C{n}\"\n"));
    }
    std::fs::write(dir.path().join("accounts.toml"), accounts).unwrap();
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (port, fix) = (free(), free());
    let list = tradsys_tests::toml_list;
    let config = format!(
        "[run]\nevents = 100\nstrategies = []\nvalidators = [{}]\n\
         [venue]\nmodel = \"exchange\"\n\
         [gateway]\nwebsocket = \"127.0.0.1:{port}\"\nfix = \"127.0.0.1:{fix}\"\n\
         accounts = \"accounts.toml\"\n\
         max_messages_per_second = 1000000\noutbound_queue = 1000000\n\
         [plugins.max-notional]\nconfig = {{ max_notional = \"1000000\", max_quantity = 1000 }}\n\
         [plugins.position-limit]\nconfig = {{ max_position = \"1000000\" }}\n\
         [plugins.order-throttle]\nconfig = {{ max_orders = 100000000, window_ms = 1000 }}\n\
         [plugins.price-collar]\nconfig = {{ band_bps = 10000 }}\n",
        list(validators)
    );
    std::fs::write(dir.path().join("venue.toml"), config).unwrap();
    (dir, plugins, keys, [port, fix])
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
    let (dir, plugins, keys, [port, fix]) = prepare(validators);
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
        fix,
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

/// Send order `n` of `orders` with `send` at `start` + `n` × `period`
/// (the schedule the latencies are taken from), on a thread of its own; how
/// many were sent (fewer when `send` fails).
fn paced(
    start: Instant,
    period: Duration,
    orders: u64,
    mut send: impl FnMut(u64) -> bool + Send + 'static,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        for n in 0..orders {
            let at = start + period.mul_f64(n as f64);
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            if !send(n) {
                return n;
            }
        }
        orders
    })
}

/// The value of `tag` in a message with SOH separators.
fn tag<'a>(message: &'a str, tag: &str) -> Option<&'a str> {
    message
        .split('\u{1}')
        .find_map(|f| f.strip_prefix(tag).and_then(|v| v.strip_prefix('=')))
}

/// One FIX session's run at `rate` orders a second (SenderCompID `sender`).
fn fix_client(port: u16, sender: &str, key: &str, rate: f64, start: Instant) -> Seen {
    use std::io::{Read as _, Write as _};
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let header = |seq: u64| format!("49={sender}|56=TRADSYS|34={seq}|52=20260101-00:00:00.000");
    stream
        .write_all(&frame(&format!(
            "35=A|{}|98=0|108=30|141=Y|554={key}|",
            header(1)
        )))
        .unwrap();
    let mut held: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    // The messages in `held` that are whole, taken out.
    let whole = |held: &mut Vec<u8>| -> Vec<String> {
        let mut out = Vec::new();
        while let Some(at) = held.windows(4).position(|w| w == b"\x0110=") {
            let end = at + 8;
            if held.len() < end {
                break;
            }
            out.push(String::from_utf8_lossy(&held.drain(..end).collect::<Vec<_>>()).into_owned());
        }
        out
    };
    'logon: loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the venue closed the FIX session");
        held.extend_from_slice(&buf[..n]);
        for message in whole(&mut held) {
            if tag(&message, "35") == Some("A") {
                break 'logon;
            }
        }
    }
    let mut writer = stream.try_clone().unwrap();
    let period = Duration::from_secs_f64(1.0 / rate);
    let orders = (rate * SECONDS) as u64;
    let sender_id = sender.to_string();
    let sending = paced(start, period, orders, move |n| {
        let header = format!(
            "49={sender_id}|56=TRADSYS|34={}|52=20260101-00:00:00.000",
            n + 2
        );
        let side = if n % 2 == 0 { 1 } else { 2 };
        let order = frame(&format!(
            "35=D|{header}|11={}|55=SYN-A|54={side}|60=20260101-00:00:00|38=1|40=2|44=100|",
            n + 1
        ));
        writer.write_all(&order).is_ok()
    });
    let mut latencies = Histogram::<u64>::new_with_bounds(1_000, 60_000_000_000, 3).unwrap();
    let (mut acked, mut rejected, mut refused) = (0u64, 0u64, 0u64);
    let mut reasons: Vec<String> = Vec::new();
    let deadline = start + Duration::from_secs_f64(SECONDS + 10.0);
    while acked + rejected + refused < orders && Instant::now() < deadline {
        let Ok(n) = stream.read(&mut buf) else { break };
        if n == 0 {
            break;
        }
        held.extend_from_slice(&buf[..n]);
        for message in whole(&mut held) {
            match (tag(&message, "35"), tag(&message, "150")) {
                (Some("8"), Some("0")) => {
                    let id: u64 = tag(&message, "11").unwrap().parse().unwrap();
                    let planned = start + period.mul_f64((id - 1) as f64);
                    let latency = Instant::now().saturating_duration_since(planned);
                    latencies.saturating_record(latency.as_nanos() as u64);
                    acked += 1;
                }
                (Some("8"), Some("8")) | (Some("3" | "j"), _) => {
                    if tag(&message, "35") == Some("8") {
                        rejected += 1;
                    } else {
                        refused += 1;
                    }
                    if reasons.len() < 3 {
                        reasons.push(message.replace('\u{1}', "|"));
                    }
                }
                _ => {}
            }
        }
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

/// A session of the benchmark: its label, validators, whether it journals
/// and its clients speak FIX, and the rates offered.
type Session<'a> = (&'a str, &'a [&'a str], bool, bool, &'a [f64]);

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
    let sending = paced(start, period, orders, move |n| {
        let side = if n % 2 == 0 { "buy" } else { "sell" };
        let order = format!(
            r#"{{"type":"order","id":{},"symbol":"SYN-A","side":"{side}","price":"100","quantity":"1"}}"#,
            n + 1
        );
        writer.send(Message::text(order)).is_ok()
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
    let (dir, plugins, _keys, _ports) = prepare(validators);
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
        "the host as a venue: {CONNECTIONS} connections on loopback (WebSocket, then FIX), {SECONDS} s per \
         offered rate, latency from each order's planned send time to its acknowledgement"
    );
    let all_rates = [10_000.0, 50_000.0, 100_000.0, 150_000.0, 200_000.0];
    let sessions: [Session<'_>; 5] = [
        ("matcher alone, no journal", &[], false, false, &all_rates),
        (
            "four validators, no journal",
            &four,
            false,
            false,
            &all_rates,
        ),
        ("four validators, journal", &four, true, false, &all_rates),
        (
            "over FIX: matcher alone, no journal",
            &[],
            false,
            true,
            &all_rates[..3],
        ),
        (
            "over FIX: four validators, no journal",
            &four,
            false,
            true,
            &all_rates[..3],
        ),
    ];
    for (label, validators, journal, fix, rates) in sessions {
        println!("{label}:");
        for &rate in rates {
            let venue = venue(validators, journal);
            let start = Instant::now() + Duration::from_millis(200);
            let per = rate / CONNECTIONS as f64;
            let handles: Vec<_> = (0..CONNECTIONS)
                .map(|n| {
                    let (url, key, port) = (venue.url.clone(), venue.keys[n].clone(), venue.fix);
                    std::thread::spawn(move || {
                        if fix {
                            fix_client(port, &format!("C{n}"), &key, per, start)
                        } else {
                            client(&url, &format!("c{n}"), &key, per, start)
                        }
                    })
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
