//! Live trading against a real FIX engine: `tests/venue/quickfix_venue.cpp`,
//! a QuickFIX 4.4 acceptor built by `cargo xtask test` (`build-venue`), over
//! TCP on loopback. The host runs `fix-venue`, a network connector; QuickFIX
//! holds it to the FIX session rules, and its own log and order book say
//! what reached it.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::{dev_trust, plugin_dir_with, tradsys_bin, typed, workspace_root};

const WAIT: Duration = Duration::from_secs(60);

/// The QuickFIX venue (or the gateway's QuickFIX client, `program`),
/// driven through its stdin, heard through its stdout.
pub(crate) struct Venue {
    child: Child,
    stdin: ChildStdin,
    events: mpsc::Receiver<String>,
    pub(crate) seen: Vec<String>,
    pub(crate) port: u16,
    _dir: tempfile::TempDir,
}

impl Venue {
    /// Start the venue on a free loopback port, its store and log in a
    /// temporary directory.
    pub(crate) fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = dir.path().join("store");
        let log = dir.path().join("log");
        let dictionary = workspace_root().join("tests/venue/FIX44-tradsys.xml");
        let args = [port.to_string().into(), store, dictionary, log];
        Self::program("quickfix-venue", &args, port, dir)
    }

    /// `target/venue/NAME` run with `args` (its files in `dir`), once it
    /// says `READY`.
    pub(crate) fn program(name: &str, args: &[PathBuf], port: u16, dir: tempfile::TempDir) -> Self {
        let binary = workspace_root().join("target/venue").join(name);
        assert!(
            binary.exists(),
            "{} is missing: `cargo xtask test` builds it (or `cargo xtask build-venue`)",
            binary.display()
        );
        let mut child = Command::new(&binary)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut venue = Self {
            child,
            stdin,
            events,
            seen: Vec::new(),
            port,
            _dir: dir,
        };
        venue.expect("READY");
        venue
    }

    pub(crate) fn tell(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Wait for a line starting with `prefix` (after `EVENT `, or the
    /// whole line); the line.
    pub(crate) fn expect(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    let event = line.strip_prefix("EVENT ").unwrap_or(&line);
                    if event.starts_with(prefix) {
                        return event.to_string();
                    }
                }
                Err(_) => panic!(
                    "the venue never said `{prefix}`; it said:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Tell it to quit, and wait until it has (a client logs out first).
    pub(crate) fn quit(mut self) {
        self.tell("quit");
        let deadline = Instant::now() + WAIT;
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "it did not quit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every line said so far that starts with `prefix`.
    pub(crate) fn said(&self, prefix: &str) -> Vec<String> {
        self.seen
            .iter()
            .filter_map(|l| l.strip_prefix("EVENT "))
            .filter(|l| l.starts_with(prefix))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Venue {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tradsys run` over `dir` with `config`, in the background; killed when
/// dropped (a test that fails leaves no host running).
pub(crate) struct Host {
    pub(crate) child: Child,
    report: PathBuf,
    stderr: PathBuf,
}

impl Host {
    /// With `extra` arguments to `tradsys run`.
    pub(crate) fn start_with(dir: &Path, config: &str, extra: &[&str]) -> Self {
        let config_path = dir.join("host.toml");
        std::fs::write(&config_path, config).unwrap();
        let report = dir.join("report.json");
        let journal = dir.join("journal.jsonl");
        let stderr = dir.join("stderr.log");
        let child = Command::new(tradsys_bin())
            .args(["run", "--plugins"])
            .arg(dir)
            .arg("--trust")
            .arg(dev_trust())
            .arg("--config")
            .arg(&config_path)
            .arg("--report-json")
            .arg(&report)
            .arg("--journal")
            .arg(&journal)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Self {
            child,
            report,
            stderr,
        }
    }

    /// Ctrl-C: the session ends after its current batch.
    pub(crate) fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// What the host logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGKILL it: no logout, no report, its journal as it was.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Wait for the host to end on its own: whether it succeeded, and its
    /// log.
    pub(crate) fn exit(mut self) -> (bool, String) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.success(), self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("tradsys did not end; its log:\n{}", self.log());
    }

    /// Wait for the host to end on its own; its report.
    pub(crate) fn finish(mut self) -> serde_json::Value {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(&self.stderr).unwrap_or_default();
                assert!(status.success(), "tradsys failed: {log}");
                let report: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&self.report).unwrap()).unwrap();
                typed(&report);
                return report;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "tradsys did not end; its log:\n{}",
                    std::fs::read_to_string(&self.stderr).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // Harmless once it has exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn live_config(port: u16, model: &str) -> String {
    format!(
        r#"
[run]
connector = "fix-venue"
strategies = ["market-maker"]
validators = []
events = 0

[venue]
model = "{model}"
answer_ms = 200

[plugins.fix-venue]
network = ["127.0.0.1:{port}"]
config = {{ sender_comp_id = "TRADSYS", target_comp_id = "VENUE", heartbeat_s = 5, symbols = "ESH4", "tick.ESH4" = "0.25", status_after_ms = "500" }}

[plugins.market-maker]
config = {{ quantity = "1", max_position = "5", half_spread_ticks = "1" }}
"#
    )
}

/// A venue with a book (4700 bid, 4700.25 offered) and a host trading
/// with the market maker (`model` its venue), logged on and subscribed.
pub(crate) fn trading(model: &str) -> (Venue, Host, tempfile::TempDir) {
    trading_with(model, &[], |_| Vec::new())
}

/// As [`trading`], with the extra `tradsys run` arguments `extra` makes
/// for the plugin directory.
pub(crate) fn trading_with(
    model: &str,
    setup: &[(&str, &str)],
    extra: impl FnOnce(&Path) -> Vec<String>,
) -> (Venue, Host, tempfile::TempDir) {
    let mut venue = Venue::start();
    venue.tell("level ESH4 B 4700 10");
    venue.expect("level-done");
    venue.tell("level ESH4 S 4700.25 10");
    venue.expect("level-done");
    // Told to the venue before the host starts: (line, its answer).
    for (line, answer) in setup {
        venue.tell(line);
        venue.expect(answer);
    }
    // Live, no matcher is installed (the venue matches); paper trading
    // needs the simulated venue's.
    let dir = match model {
        "simulated" => plugin_dir_with(&["fix-venue", "market-maker", "sim-venue"]),
        _ => plugin_dir_with(&["fix-venue", "market-maker"]),
    };
    let extra = extra(dir.path());
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let host = Host::start_with(dir.path(), &live_config(venue.port, model), &extra);
    venue.expect("logon");
    venue.expect("subscribed");
    (venue, host, dir)
}

/// The ClOrdID of a `new CLORDID ORDERID` line.
pub(crate) fn cl_ord_id(line: &str) -> String {
    line.split_whitespace().nth(1).unwrap().to_string()
}

pub(crate) fn strategy(report: &serde_json::Value, name: &str) -> serde_json::Value {
    report["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
        .clone()
}

#[test]
fn orders_go_to_the_quickfix_venue_and_its_fills_are_booked() {
    let (mut venue, host, dir) = trading("live");
    // The market maker quotes both sides one tick off the mid: 4699.75 and 4700.5.
    let first = venue.expect("new ");
    let second = venue.expect("new ");
    assert_ne!(first, second);
    // A trade through the bid fills it at its limit (the venue's rule).
    venue.tell("trade ESH4 4699.5 1");
    let fill = venue.expect("fill ");
    assert!(fill.ends_with("1 @ 4699.75"), "{fill}");
    // The host books it; then the venue logs out and the session ends.
    std::thread::sleep(Duration::from_millis(500));
    venue.tell("logout");
    let report = host.finish();
    let mm = strategy(&report, "market-maker");
    assert_eq!(mm["fills"], 1, "{mm:#}");
    assert_eq!(
        mm["maker_fills"], 1,
        "the venue said its resting order made it: {mm:#}"
    );
    assert_eq!(report["venue"], "live");
    let stopped = report["stopped"].as_str().unwrap_or_default();
    assert!(
        stopped.contains("the venue logged out: venue logout"),
        "{report:#}"
    );
    let live = &report["live"];
    assert_eq!(live["connections"], 1, "{live:#}");
    assert_eq!(live["refused_reports"], 0, "{live:#}");
    // Every byte both ways is in the journal, and the fill as a report.
    let journal = host_journal(&dir);
    let wire: Vec<&serde_json::Value> = journal.iter().filter(|r| r["kind"] == "wire").collect();
    let text_of = |event: &str| -> String {
        wire.iter()
            .filter(|r| r["event"] == event)
            .filter_map(|r| r["text"].as_str())
            .collect()
    };
    let sent = text_of("out");
    let received = text_of("in");
    assert!(
        sent.contains("\u{1}35=A\u{1}") && sent.contains("\u{1}35=D\u{1}"),
        "{sent}"
    );
    assert!(received.contains("\u{1}35=8\u{1}") && received.contains("\u{1}150=F\u{1}"));
    let fills = journal
        .iter()
        .filter(|r| r["kind"] == "report" && r["event"] == "filled")
        .count();
    assert_eq!(fills, 1);
    // QuickFIX never rejected a message of ours.
    assert!(venue.said("reject-received").is_empty(), "{:?}", venue.seen);
    drop(venue);
    // `journal show` prints the wire as FIX with `|` for SOH.
    let shown = crate::common::tradsys(&[
        "journal",
        "show",
        dir.path().join("journal.jsonl").to_str().unwrap(),
    ]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    let order = shown
        .lines()
        .find(|l| l.contains("wire") && l.contains("|35=D|"))
        .unwrap_or_else(|| panic!("no NewOrderSingle on the wire:\n{shown}"));
    assert!(
        order.contains(" out ") && order.contains("|55=ESH4|"),
        "{order}"
    );
    // Offline, from the journal alone: the same session again, record for record.
    let (ok, replayed) = replay(&dir);
    assert!(ok, "the replay failed: {replayed}");
    assert!(
        replayed.contains("records the same, 2 orders, 1 fills"),
        "{replayed}"
    );
    // A session that would trade differently is caught: quotes of 2 lots.
    let config = std::fs::read_to_string(dir.path().join("host.toml")).unwrap();
    let config = config.replace("quantity = \"1\"", "quantity = \"2\"");
    std::fs::write(dir.path().join("host.toml"), config).unwrap();
    std::fs::remove_file(dir.path().join("journal.jsonl.replay")).unwrap();
    let (ok, said) = replay(&dir);
    assert!(
        !ok && said.contains("the replay differs at record"),
        "{said}"
    );
}

/// `tradsys journal replay` of the session in `dir` (its journal, plugins
/// and config): whether it found the same session, and what it printed.
pub(crate) fn replay(dir: &tempfile::TempDir) -> (bool, String) {
    let out = Command::new(tradsys_bin())
        .args(["journal", "replay"])
        .arg(dir.path().join("journal.jsonl"))
        .arg("--plugins")
        .arg(dir.path())
        .arg("--trust")
        .arg(dev_trust())
        .arg("--config")
        .arg(dir.path().join("host.toml"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

pub(crate) fn host_journal(dir: &tempfile::TempDir) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.path().join("journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn paper_trading_takes_the_venues_market_and_keeps_orders_at_home() {
    let (mut venue, host, _dir) = trading("simulated");
    venue.tell("level ESH4 S 4700.5 3");
    venue.expect("level-done");
    std::thread::sleep(Duration::from_millis(500));
    venue.tell("logout");
    let report = host.finish();
    assert_eq!(report["venue"], "simulated");
    assert!(report["events"].as_u64().unwrap() >= 2, "{report:#}");
    let mm = strategy(&report, "market-maker");
    assert!(mm["approved"].as_u64().unwrap() >= 2, "{mm:#}");
    // Not one order reached the venue.
    assert!(venue.said("new ").is_empty(), "{:?}", venue.seen);
}

#[test]
fn ctrl_c_logs_out_of_the_venue() {
    let (mut venue, host, _dir) = trading("live");
    venue.expect("new ");
    host.interrupt();
    venue.expect("logout");
    let report = host.finish();
    assert!(report["stopped"].is_null(), "{report:#}");
    let ended = report["live"]["ended"].as_str().unwrap();
    assert!(ended.starts_with("logged out"), "{ended}");
}

#[test]
fn live_trading_needs_a_network_connector_with_an_address() {
    let dir = plugin_dir_with(&["synthetic-market", "fix-venue", "market-maker", "sim-venue"]);
    let config = dir.path().join("host.toml");
    let run = |toml: &str| {
        std::fs::write(&config, toml).unwrap();
        let out = crate::common::tradsys_run(dir.path(), &["--config", config.to_str().unwrap()]);
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run("[run]\nconnector = \"synthetic-market\"\n[venue]\nmodel = \"live\"\n");
    assert!(
        err.contains("needs a network connector") && err.contains("synthetic-market"),
        "{err}"
    );
    let err = run("[run]\nconnector = \"fix-venue\"\n[venue]\nmodel = \"live\"\n");
    assert!(
        err.contains("fix-venue") && err.contains("network = [\"HOST:PORT\"]"),
        "{err}"
    );
}

#[test]
fn the_es_day_streamed_over_fix_leaves_the_hosts_book_as_the_venues() {
    let Some(data) = crate::common::shared_data("esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    let files = tempfile::tempdir().unwrap();
    let market = files.path().join("es.md");
    let updates = tradsys_tests::venue_market::market_file(
        &data.join("esh4-glbx-mdp3-20231225.mbo.dbn.zst"),
        &market,
        Some(20_000),
    );
    assert_eq!(updates, 20_000);
    let mut venue = Venue::start();
    let dir = plugin_dir_with(&["fix-venue", "market-maker"]);
    let host = Host::start_with(dir.path(), &live_config(venue.port, "live"), &[]);
    venue.expect("logon");
    venue.expect("subscribed");
    venue.tell(&format!("md {}", market.display()));
    venue.expect("md-done 20000");
    // The venue's own five best levels a side, as it kept them.
    venue.tell("book ESH4");
    let mut levels = Vec::new();
    loop {
        let line = venue.expect("book");
        if line == "book-done" {
            break;
        }
        levels.push(line);
    }
    assert!(
        levels.iter().any(|l| l.starts_with("book B"))
            && levels.iter().any(|l| l.starts_with("book S")),
        "{levels:?}"
    );
    // The logout goes after every refresh on the same connection: when the
    // host has it, it has had them all.
    venue.tell("logout");
    let report = host.finish();
    let book = &report["books"]["ESH4"];
    let ours: Vec<String> = ["bids", "asks"]
        .iter()
        .flat_map(|side| {
            let tag = if *side == "bids" { "B" } else { "S" };
            book[side]
                .as_array()
                .unwrap()
                .iter()
                .map(move |l| {
                    let size = l["size"].as_str().unwrap();
                    format!("book {tag} {} {size}", l["price"].as_str().unwrap())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        ours, levels,
        "the host's book (left) and QuickFIX's (right)"
    );
}

#[test]
fn a_venues_security_definition_sets_the_tick_the_config_leaves_out() {
    // The config says nothing of ESH4's tick (0.01 by default); QuickFIX
    // defines it (0.25, with a multiplier of 50) before its snapshot.
    let setup = [("secdef ESH4 0.25 1 50", "secdef ESH4")];
    let mut venue = Venue::start();
    for (line, answer) in [
        ("level ESH4 B 4700 10", "level-done"),
        ("level ESH4 S 4700.25 10", "level-done"),
    ]
    .into_iter()
    .chain(setup)
    {
        venue.tell(line);
        venue.expect(answer);
    }
    let dir = plugin_dir_with(&["fix-venue", "market-maker"]);
    let config = live_config(venue.port, "live").replace(", \"tick.ESH4\" = \"0.25\"", "");
    assert!(!config.contains("tick.ESH4"));
    let host = Host::start_with(dir.path(), &config, &[]);
    venue.expect("logon");
    venue.expect("new ");
    venue.expect("new ");
    venue.tell("logout");
    host.finish();
    // The market maker quotes a tick either side of the mid (4700.125),
    // rounded outwards to the venue's tick: 4699.75 and 4700.5. With the
    // default tick of 0.01 it would join the touch (4700 and 4700.25).
    let mut prices: Vec<String> = host_journal(&dir)
        .iter()
        .filter(|r| r["kind"] == "order" && r["action"] == "submit")
        .map(|r| r["price"].as_str().unwrap().to_string())
        .collect();
    prices.sort();
    assert_eq!(prices, ["4699.75", "4700.5"]);
}
