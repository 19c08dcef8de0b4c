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

/// The QuickFIX venue, driven through its stdin, heard through its stdout.
struct Venue {
    child: Child,
    stdin: ChildStdin,
    events: mpsc::Receiver<String>,
    seen: Vec<String>,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Venue {
    /// Start the venue on a free loopback port, its store and log in a
    /// temporary directory.
    fn start() -> Self {
        let binary = workspace_root().join("target/venue/quickfix-venue");
        assert!(
            binary.exists(),
            "{} is missing: `cargo xtask test` builds it (or `cargo xtask build-venue`)",
            binary.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = dir.path().join("store");
        let log = dir.path().join("log");
        let dictionary = workspace_root().join("tests/venue/FIX44-tradsys.xml");
        let mut child = Command::new(&binary)
            .arg(port.to_string())
            .arg(&store)
            .arg(&dictionary)
            .arg(&log)
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

    fn tell(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Wait for a line starting with `prefix` (after `EVENT `, or the
    /// whole line); the line.
    fn expect(&mut self, prefix: &str) -> String {
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

    /// Every line said so far that starts with `prefix`.
    fn said(&self, prefix: &str) -> Vec<String> {
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

/// `tradsys run` over `dir` with `config`, in the background.
struct Host {
    child: Child,
    report: PathBuf,
    stderr: PathBuf,
}

impl Host {
    fn start(dir: &Path, config: &str) -> Self {
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

    /// Wait for the host to end on its own; its report.
    fn finish(mut self) -> serde_json::Value {
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

fn live_config(port: u16, model: &str) -> String {
    format!(
        r#"
[run]
connector = "fix-venue"
strategies = ["market-maker"]
validators = []
events = 0

[venue]
model = "{model}"

[plugins.fix-venue]
network = ["127.0.0.1:{port}"]
config = {{ sender_comp_id = "TRADSYS", target_comp_id = "VENUE", heartbeat_s = 5, symbols = "ESH4", "tick.ESH4" = "0.25" }}

[plugins.market-maker]
config = {{ quantity = "1", max_position = "5", half_spread_ticks = "1" }}
"#
    )
}

#[test]
fn orders_go_to_the_quickfix_venue_and_its_fills_are_booked() {
    let mut venue = Venue::start();
    venue.tell("level ESH4 B 4700 10");
    venue.expect("level-done");
    venue.tell("level ESH4 S 4700.25 10");
    venue.expect("level-done");
    let dir = plugin_dir_with(&["fix-venue", "market-maker", "sim-venue"]);
    let host = Host::start(dir.path(), &live_config(venue.port, "live"));
    venue.expect("logon");
    venue.expect("subscribed");
    // The market maker quotes both sides one tick off the mid: 4699.75 and 4700.5.
    let first = venue.expect("new ");
    let second = venue.expect("new ");
    assert_ne!(first, second);
    // A trade through the bid fills it at its limit (the venue's rule).
    venue.tell("trade ESH4 4699.5 1");
    let fill = venue.expect("fill ");
    assert!(fill.ends_with("1 @ 4699.75"), "{fill}");
    // `sim-venue` is installed but, live, never asked: no matcher trades.
    // The host books it; then the venue logs out and the session ends.
    std::thread::sleep(Duration::from_millis(500));
    venue.tell("logout");
    let report = host.finish();
    let mm = &report["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "market-maker")
        .unwrap()
        .clone();
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
}

fn host_journal(dir: &tempfile::TempDir) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.path().join("journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
