//! The dashboard in a real browser: headless Chromium driven through
//! WebDriver (chromedriver; `cargo xtask test` installs both when missing).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

use crate::common::{DEFAULT_SET, plugin_dir_with, workspace_root};
use crate::operations::RunningHost;
use crate::swap::version_of;

/// A chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver (Debian package `chromium-driver`; `cargo xtask test` installs it)",
            );
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

/// `script`'s value in the page.
async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap()
}

/// Poll `script` in the page until `wanted` holds of its value: the value
/// and how long it took.
async fn until(
    client: &Client,
    what: &str,
    script: &str,
    wanted: impl Fn(&Value) -> bool,
) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let value = js(client, script).await;
        if wanted(&value) {
            return (value, started.elapsed());
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the dashboard never showed {what}; last: {value}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const PLUGIN_ROWS: &str = "return [...document.querySelectorAll('#plugins tbody tr')].map(r => \
     [...r.cells].map(c => c.textContent))";
const SERIES: &str = "return [...document.querySelectorAll('#pnl-chart path.series')].map(p => \
     [p.dataset.strategy, (p.getAttribute('d').match(/L/g) || []).length])";
const EVENTS: &str =
    "return Number(document.getElementById('events').textContent.replace(/,/g, ''))";

/// A WebDriver session with headless Chromium.
async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1200"] }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session with headless Chromium")
}

fn cell(rows: &Value, plugin: &str, column: usize) -> String {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == plugin)
        .map(|r| r[column].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn the_dashboard_shows_live_plugins_charts_a_joined_strategy_a_reconfigured_validator_and_a_promoted_shadow_in_a_real_browser()
 {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let config = dir.path().join("host.toml");
    std::fs::write(
        &config,
        "[run]\nevents = 0\nbatch_size = 4\nwatch = true\n[swap]\ndebounce_ms = 50\n",
    )
    .unwrap();
    let host = RunningHost::start(dir.path(), &["--config", config.to_str().unwrap()]);
    host.until("/readyz", "ready", |s, _| s == 200);
    let view: Value = serde_json::from_str(&host.get("/api/snapshot").1).unwrap();
    let plugins = view["plugins"].as_array().unwrap().len();
    let strategies = view["strategies"].as_array().unwrap().len();
    assert!(plugins >= 9 && strategies >= 3, "{view}");
    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = browser(&driver).await;
        client.goto(&format!("http://{}/", host.address)).await.unwrap();

        // Every plugin in the table, with live call counts.
        let (rows, _) = until(&client, "the plugin table", PLUGIN_ROWS, |rows| {
            rows.as_array().unwrap().len() == plugins
                && cell(rows, "fifo-matcher", 5).replace(',', "").parse::<u64>().unwrap_or(0) > 0
        })
        .await;
        assert_eq!(cell(&rows, "fifo-matcher", 2), "matcher");
        assert_eq!(cell(&rows, "fifo-matcher", 3), "live");
        assert_eq!(cell(&rows, "max-notional", 1), "1.0.1");
        assert_ne!(cell(&rows, "max-notional", 4), "unsigned", "the signer is shown");
        // The counters move without a reload.
        let (first, _) = until(&client, "events", EVENTS, |v| v.as_f64() > Some(0.0)).await;
        until(&client, "more events", EVENTS, |v| v.as_f64() > first.as_f64()).await;
        // A PnL line per strategy, drawn through several samples.
        let (series, _) = until(&client, "the PnL chart", SERIES, |s| {
            let s = s.as_array().unwrap();
            s.len() == strategies && s.iter().all(|p| p[1].as_u64() > Some(3))
        })
        .await;
        assert!(series.as_array().unwrap().iter().any(|p| p[0] == "ma-crossover"), "{series}");
        let state = js(&client, "return document.getElementById('state').textContent").await;
        assert_eq!(state, "trading");

        // A shadow started and promoted through the admin API shows up.
        let candidates = tempfile::tempdir().unwrap();
        let candidate = candidates.path().join("max-notional-2.wasm");
        std::fs::write(&candidate, version_of("price-collar", "max-notional", "2.0.0")).unwrap();
        let (ok, text) = host.endpoint.cli(&["plugin", "shadow", candidate.to_str().unwrap()]);
        assert!(ok, "{text}");
        let shadow_rows = "return [...document.querySelectorAll('#shadows tbody tr')].map(r => r.textContent)";
        let (_, shown) = until(&client, "the shadow", shadow_rows, |rows| {
            rows.as_array().unwrap().iter().any(|r| {
                let r = r.as_str().unwrap();
                r.contains("max-notional") && r.contains("1.0.1 → 2.0.0") && r.contains("running")
            })
        })
        .await;
        eprintln!("the shadow showed on the dashboard {} ms after the command returned", shown.as_millis());
        let (ok, text) = host.endpoint.cli(&["plugin", "promote", "max-notional"]);
        assert!(ok, "{text}");
        let (rows, shown) = until(&client, "the promoted version", PLUGIN_ROWS, |rows| {
            cell(rows, "max-notional", 1) == "2.0.0"
        })
        .await;
        eprintln!("the promotion showed on the dashboard {} ms after the command returned", shown.as_millis());
        assert_eq!(cell(&rows, "max-notional", 3), "live");
        let timeline = "return [...document.querySelectorAll('#timeline div')].map(d => [d.dataset.kind, d.textContent])";
        let (entries, _) = until(&client, "the swap on the timeline", timeline, |entries| {
            entries.as_array().unwrap().iter().any(|e| {
                e[0] == "swap" && e[1].as_str().unwrap().contains("max-notional 1.0.1 → 2.0.0")
            })
        })
        .await;
        assert!(
            entries.as_array().unwrap().iter().any(|e| e[0] == "shadow"
                && e[1].as_str().unwrap().contains("promoted")),
            "{entries}"
        );
        // Its outputs differed (another validator's rules): an alert.
        assert!(
            entries.as_array().unwrap().iter().any(|e| e[0] == "shadow-differs"
                && e[1].as_str().unwrap().contains("max-notional@2.0.0")),
            "{entries}"
        );
        let (_, metrics) = host.get("/metrics");
        assert!(
            metrics.contains("tradsys_alerts_total{kind=\"shadow-differs\"} 1"),
            "{metrics}"
        );

        // A strategy added to the directory joins; the page shows it trading.
        let file = crate::common::plugins_dir().join("market-maker.wasm");
        crate::swap::install(dir.path(), "market-maker.wasm", &std::fs::read(file).unwrap());
        let strategy_rows = "return [...document.querySelectorAll('#strategies tbody tr')].map(r => \
             [r.dataset.strategy, Number(r.cells[1].textContent.replace(/,/g, ''))])";
        let (_, shown) = until(&client, "the new strategy", strategy_rows, |rows| {
            rows.as_array().unwrap().iter().any(|r| r[0] == "market-maker" && r[1].as_u64() > Some(0))
        })
        .await;
        eprintln!("the new strategy showed trading {} ms after its file was installed", shown.as_millis());
        until(&client, "its PnL line", SERIES, |s| {
            s.as_array().unwrap().iter().any(|p| p[0] == "market-maker")
        })
        .await;
        // A validator reconfigured: its change, old and new values, on the timeline.
        let (ok, text) = host.endpoint.cli(&["plugin", "configure", "position-limit", "max_position=500"]);
        assert!(ok, "{text}");
        let (_, shown) = until(&client, "the config change", timeline, |entries| {
            entries.as_array().unwrap().iter().any(|e| {
                e[0] == "config" && e[1].as_str().unwrap().contains("config.max_position (unset) → 500")
            })
        })
        .await;
        eprintln!("the reconfiguration showed on the dashboard {} ms after the command returned", shown.as_millis());

        let png = client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let file = workspace_root().join("target/dashboard.png");
        std::fs::write(&file, png).unwrap();
        eprintln!("screenshot: {}", file.display());
        client.close().await.unwrap();
    });
}

const VENUE_ROWS: &str = "return [...document.querySelectorAll('#venue-clients tbody tr')].map(r => \
     [...r.cells].map(c => c.textContent))";
const BOOK: &str = "return [...document.querySelectorAll('#venue-books table[data-symbol=\"SYN-A\"] tbody tr')]\
     .map(r => [r.className, ...[...r.cells].map(c => c.textContent)])";

#[test]
fn the_dashboard_shows_the_venues_clients_and_book_in_a_real_browser() {
    use crate::gateway::{free_port, logon, next, order, send, venue_with};
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher"]);
    let address = format!("127.0.0.1:{}", free_port());
    let (host, url, keys) = venue_with(
        dir.path(),
        &["alice", "bob"],
        "",
        &["--dashboard", &address],
    );
    let mut alice = logon(&url, "alice", &keys[0]);
    send(&mut alice, order(1, "buy", "100", "2"));
    send(&mut alice, order(2, "sell", "101", "3"));
    for _ in 0..2 {
        assert_eq!(next(&mut alice)["type"], "accepted");
    }
    let mut bob = logon(&url, "bob", &keys[1]);
    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = browser(&driver).await;
        client.goto(&format!("http://{address}/")).await.unwrap();
        // Both clients connected; Alice's orders in the book.
        until(&client, "the clients", VENUE_ROWS, |rows| {
            cell(rows, "alice", 1) == "websocket"
                && cell(rows, "alice", 2) == "2"
                && cell(rows, "bob", 1) == "websocket"
        })
        .await;
        let (book, _) = until(&client, "the book", BOOK, |rows| {
            rows.as_array().unwrap().len() == 2
        })
        .await;
        assert_eq!(
            book,
            json!([["ask", "101", "3", "1"], ["bid", "100", "2", "1"]])
        );

        // Bob sells into the bid: Alice's fill and position, the bid gone.
        send(&mut bob, order(1, "sell", "100", "2"));
        let (rows, _) = until(&client, "the trade", VENUE_ROWS, |rows| {
            cell(rows, "alice", 4) == "1" && cell(rows, "bob", 4) == "1"
        })
        .await;
        assert_eq!(cell(&rows, "alice", 6), "SYN-A 2", "{rows}");
        assert_eq!(cell(&rows, "bob", 6), "SYN-A -2", "{rows}");
        until(&client, "the book after the trade", BOOK, |rows| {
            rows == &json!([["ask", "101", "3", "1"]])
        })
        .await;
        // Bob leaves: no longer shown connected.
        drop(bob);
        until(&client, "Bob gone", VENUE_ROWS, |rows| {
            cell(rows, "bob", 1) == "-"
        })
        .await;
        client.close().await.unwrap();
    });
    host.interrupt();
    host.finish();
}
