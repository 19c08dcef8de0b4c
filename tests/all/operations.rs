//! Operations over HTTP: the metrics a scraper reads (checked by
//! `promtool`), health and readiness, alerts, and the HTML report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{DEFAULT_SET, Endpoint, copy_test_plugins, dev_trust, plugin, plugin_dir_with};

/// A host started for a test, killed when the test ends.
pub struct RunningHost {
    child: Child,
    pub address: String,
    pub endpoint: Endpoint,
    pub stderr: PathBuf,
}

impl Drop for RunningHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RunningHost {
    /// `tradsys run` over `dir` with `args`, serving on a free loopback
    /// address; stderr goes to `dir/stderr.log`.
    pub fn start(dir: &Path, args: &[&str]) -> Self {
        let endpoint = Endpoint::for_dir(dir);
        let stderr = dir.join("stderr.log");
        let trust = dev_trust();
        let child = Command::new(crate::common::tradsys_bin())
            .args(["run", "--plugins", dir.to_str().unwrap()])
            .args(["--trust", trust.to_str().unwrap()])
            .args(["--dashboard", &endpoint.address])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Self {
            child,
            address: endpoint.address.clone(),
            endpoint,
            stderr,
        }
    }

    /// `GET path`: the status and the body (0 when nothing answers).
    pub fn get(&self, path: &str) -> (u16, String) {
        get(&self.address, path, &[])
    }

    /// `POST path` with `body` and the host's admin token: the status and
    /// the answer's message.
    pub fn post(&self, path: &str, body: &str) -> (u16, String) {
        let token = std::fs::read_to_string(&self.endpoint.token_file).unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut response = agent
            .post(format!("http://{}{path}", self.address))
            .header("Authorization", format!("Bearer {}", token.trim()))
            .send(body)
            .unwrap();
        let text = response.body_mut().read_to_string().unwrap();
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        (
            response.status().as_u16(),
            answer["message"].as_str().unwrap_or_default().to_string(),
        )
    }

    /// Poll `GET path` until `wanted` holds of its answer.
    pub fn until(&self, path: &str, what: &str, wanted: impl Fn(u16, &str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let (status, body) = self.get(path);
            if wanted(status, &body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: GET {path} answered {status}: {body}\nhost log:\n{}",
                std::fs::read_to_string(&self.stderr).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Ctrl-C: the session ends after its batch (a lingering host serves on).
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// `GET http://address/path` with `headers`: status and body.
pub fn get(address: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut request = agent.get(format!("http://{address}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    match request.call() {
        Ok(mut response) => {
            let status = response.status().as_u16();
            (
                status,
                response.body_mut().read_to_string().unwrap_or_default(),
            )
        }
        Err(_) => (0, String::new()),
    }
}

/// A JSON file once it is whole (the host writes it at the session's end).
pub fn json_file(path: &Path, what: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(value) = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
        {
            return value;
        }
        assert!(Instant::now() < deadline, "no {what} at {}", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Samples of a Prometheus text answer: `name{labels}` → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            (series.to_string(), value.parse().unwrap())
        })
        .collect()
}

fn sample(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no series {series} in {samples:?}"))
}

/// `promtool check metrics` over `text`: its verdict (the Debian package
/// `prometheus`, which `cargo xtask test` installs).
pub(crate) fn promtool(text: &str) -> (bool, String) {
    use std::io::Write as _;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package `prometheus`; `cargo xtask test` installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

fn plugin_series(name: &str, report: &serde_json::Value, plugin_name: &str) -> String {
    let p = plugin(report, plugin_name);
    format!(
        "{name}{{plugin=\"{plugin_name}\",version=\"{}\",kind=\"{}\"}}",
        p["version"].as_str().unwrap(),
        p["kind"].as_str().unwrap()
    )
}

#[test]
fn a_running_hosts_metrics_pass_promtool_and_once_it_ends_equal_its_report() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let config = dir.path().join("host.toml");
    std::fs::write(&config, "[run]\nevents = 0\nbatch_size = 4\n").unwrap();
    let report_file = dir.path().join("report.json");
    let host = RunningHost::start(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--linger",
            "--report-json",
            report_file.to_str().unwrap(),
        ],
    );
    assert_eq!(host.until("/healthz", "up", |s, _| s == 200), "ok\n");
    host.until("/readyz", "ready", |s, _| s == 200);
    let first = samples(&host.until("/metrics", "events", |s, b| {
        s == 200 && b.contains("tradsys_events_total")
    }));
    let live = host.until("/metrics", "more events", |_, b| {
        samples(b).get("tradsys_events_total") > first.get("tradsys_events_total")
    });
    let (ok, said) = promtool(&live);
    assert!(ok, "promtool refused a running host's metrics: {said}");
    assert_eq!(sample(&samples(&live), "tradsys_session_running"), 1.0);
    // OpenMetrics for a scraper that asks for it (Prometheus does).
    let (status, open) = get(
        &host.address,
        "/metrics",
        &[("Accept", "application/openmetrics-text; version=1.0.0")],
    );
    assert_eq!(status, 200);
    assert!(open.ends_with("# EOF\n"), "{open}");
    assert!(
        open.contains("# TYPE tradsys_plugin_calls counter"),
        "{open}"
    );

    host.interrupt();
    let report = json_file(&report_file, "report");
    let text = host.until("/readyz", "not ready once ended", |s, _| s == 503);
    assert!(text.contains("the session ended"), "{text}");
    assert_eq!(host.get("/healthz").0, 200, "the lingering process is up");
    let (status, message) = host.post("/disable/ma-crossover", "");
    assert_eq!(
        (status, message.as_str()),
        (503, "the session has ended"),
        "no session to change"
    );
    let (_, last) = host.get("/metrics");
    let (ok, said) = promtool(&last);
    assert!(ok, "promtool: {said}");
    let m = samples(&last);
    assert_eq!(sample(&m, "tradsys_session_running"), 0.0);
    for (series, key) in [
        ("tradsys_events_total", "events"),
        ("tradsys_batches_total", "batches"),
        ("tradsys_fills_total", "fills"),
    ] {
        assert_eq!(
            sample(&m, series),
            report[key].as_f64().unwrap(),
            "{series}"
        );
    }
    let orders = &report["orders"];
    assert!(orders["submitted"].as_u64().unwrap() > 0);
    assert_eq!(
        sample(&m, "tradsys_orders_submitted_total"),
        orders["submitted"].as_f64().unwrap()
    );
    for outcome in ["approved", "rejected"] {
        let series = format!("tradsys_orders_total{{outcome=\"{outcome}\"}}");
        assert_eq!(sample(&m, &series), orders[outcome].as_f64().unwrap());
    }
    for r in orders["rejections"].as_array().unwrap() {
        let series = format!(
            "tradsys_order_rejections_total{{by=\"{}\",reason=\"{}\"}}",
            r["by"].as_str().unwrap(),
            r["reason"].as_str().unwrap()
        );
        assert_eq!(sample(&m, &series), r["count"].as_f64().unwrap());
    }
    for p in report["plugins"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        for (metric, key) in [
            ("tradsys_plugin_calls_total", "calls"),
            ("tradsys_plugin_fuel_consumed_total", "fuel_used"),
            ("tradsys_plugin_instantiations_total", "instantiations"),
        ] {
            let series = plugin_series(metric, &report, name);
            assert_eq!(sample(&m, &series), p[key].as_f64().unwrap(), "{series}");
        }
        let count = plugin_series("tradsys_plugin_call_duration_seconds_count", &report, name);
        assert!(sample(&m, &count) > 0.0, "{count}");
    }
    for s in report["strategies"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let series = format!("tradsys_strategy_realized_pnl{{strategy=\"{name}\"}}");
        let realized: f64 = s["realized_pnl"].as_str().unwrap().parse().unwrap();
        assert!((sample(&m, &series) - realized).abs() < 1e-6, "{series}");
        for p in s["positions"].as_array().unwrap() {
            let series = format!(
                "tradsys_strategy_position{{strategy=\"{name}\",instrument=\"{}\"}}",
                p["instrument"].as_str().unwrap()
            );
            let quantity: f64 = p["quantity"].as_str().unwrap().parse().unwrap();
            assert_eq!(sample(&m, &series), quantity, "{series}");
        }
    }
    assert_eq!(
        sample(&m, "tradsys_memory_budget_bytes"),
        report["memory"]["budget_bytes"].as_f64().unwrap()
    );
}

#[test]
fn a_halt_a_restarting_connector_and_a_quarantine_are_alerts_in_the_log_the_metrics_and_the_timeline()
 {
    let dir = tempfile::tempdir().unwrap();
    copy_test_plugins(
        dir.path(),
        &["hostile-connector", "lying-matcher", "hostile"],
    );
    let toml = dir.path().join("host.toml");
    std::fs::write(
        &toml,
        "[run]\nconnector = \"hostile-connector\"\nbatch_size = 1\n\n\
         [plugins.hostile-connector]\nconfig = { fail_at = 12, lie = \"none\" }\n\n\
         [plugins.hostile]\nconfig = { mode = \"count\" }\n\n\
         [plugins.lying-matcher]\nconfig = { lie = \"overfill\", at = 3, rest_every = 2 }\n",
    )
    .unwrap();
    let report_file = dir.path().join("report.json");
    let host = RunningHost::start(
        dir.path(),
        &[
            "--config",
            toml.to_str().unwrap(),
            "--events",
            "40",
            "--linger",
            "--report-json",
            report_file.to_str().unwrap(),
        ],
    );
    let report = json_file(&report_file, "report");
    assert!(report["halted"].is_string(), "{report}");
    assert!(
        report["stopped"]
            .as_str()
            .unwrap()
            .starts_with("connector quarantined"),
        "{report}"
    );
    let view: serde_json::Value =
        serde_json::from_str(&host.until("/api/snapshot", "final", |s, b| {
            s == 200 && b.contains("\"running\":false")
        }))
        .unwrap();
    let timeline = view["timeline"].as_array().unwrap();
    let connector = format!(
        "hostile-connector@{}",
        plugin(&report, "hostile-connector")["version"]
            .as_str()
            .unwrap()
    );
    for (kind, plugin) in [
        ("halted", "lying-matcher@"),
        ("connector-restart", connector.as_str()),
        ("quarantined", connector.as_str()),
    ] {
        let entry = timeline
            .iter()
            .find(|e| e["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} on the timeline: {timeline:?}"));
        assert!(
            entry["plugin"].as_str().unwrap().starts_with(plugin),
            "{entry}"
        );
        assert_ne!(entry["level"], "info", "{entry}");
    }
    let (_, text) = host.get("/metrics");
    let m = samples(&text);
    assert_eq!(sample(&m, "tradsys_alerts_total{kind=\"halted\"}"), 1.0);
    assert_eq!(
        sample(&m, "tradsys_alerts_total{kind=\"quarantined\"}"),
        1.0
    );
    assert!(sample(&m, "tradsys_alerts_total{kind=\"connector-restart\"}") >= 1.0);
    assert_eq!(sample(&m, "tradsys_trading_halted"), 1.0);
    assert_eq!(
        sample(
            &m,
            &plugin_series("tradsys_plugin_quarantined", &report, "hostile-connector")
        ),
        1.0
    );
    assert_eq!(
        sample(&m, "tradsys_connector_restarts_total"),
        report["connector_restarts"].as_f64().unwrap()
    );
    let log = std::fs::read_to_string(&host.stderr).unwrap();
    for kind in ["halted", "connector-restart", "quarantined"] {
        let line = log
            .lines()
            .find(|l| l.contains(&format!("alert: {kind}")))
            .unwrap_or_else(|| panic!("no {kind} alert in the log:\n{log}"));
        assert!(line.contains("ERROR") || line.contains("WARN"), "{line}");
        assert!(line.contains("version="), "{line}");
    }
    let ready = host.get("/readyz");
    assert_eq!(ready.0, 503);
    assert!(ready.1.contains("connector quarantined"), "{}", ready.1);
}

#[test]
fn the_html_report_is_one_self_contained_page_with_the_reports_figures() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let page = dir.path().join("report.html");
    let report = crate::common::run_report(
        dir.path(),
        &["--events", "5000", "--report-html", page.to_str().unwrap()],
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    for outside in ["http://", "https://", "<script", "<link", "src=", "url("] {
        assert!(
            !html.contains(outside),
            "the page reaches outside: {outside}"
        );
    }
    let strategies = report["strategies"].as_array().unwrap();
    // An equity curve and a position curve per strategy, through several samples.
    for s in strategies {
        let name = s["name"].as_str().unwrap();
        let paths: Vec<&str> = html
            .split(&format!("<path data-strategy=\"{name}\" d=\""))
            .skip(1)
            .collect();
        assert_eq!(paths.len(), 2, "{name}");
        assert!(
            paths
                .iter()
                .all(|d| d.split('"').next().unwrap().matches('L').count() > 10)
        );
        let row = format!(
            "<td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"fills\">{}</td>",
            s["submitted"], s["approved"], s["rejected"], s["fills"]
        );
        assert!(html.contains(&row), "{row}");
        assert!(html.contains(&format!("<td>{}</td>", s["pnl"].as_str().unwrap())));
    }
    for r in report["orders"]["rejections"].as_array().unwrap() {
        let row = format!(
            "<tr><td>{}</td><td class=\"text\">{}</td><td class=\"count\">{}</td>",
            r["by"].as_str().unwrap(),
            r["reason"].as_str().unwrap(),
            r["count"]
        );
        assert!(html.contains(&row), "{row}");
    }
    let plugins = report["plugins"].as_array().unwrap();
    for p in plugins {
        let figure = format!(
            "<figure class=\"histogram\" data-plugin=\"{}\"><figcaption>{} {} ({}): {} calls",
            p["name"].as_str().unwrap(),
            p["name"].as_str().unwrap(),
            p["version"].as_str().unwrap(),
            p["kind"].as_str().unwrap(),
            p["calls"],
        );
        assert!(html.contains(&figure), "{figure}");
    }
    assert!(html.contains(&format!(
        "{} orders submitted, {} approved",
        report["orders"]["submitted"], report["orders"]["approved"]
    )));
}

#[test]
fn high_memory_pressure_is_an_alert() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let toml = dir.path().join("host.toml");
    // Pressure is high from a few instances on.
    std::fs::write(
        &toml,
        "[memory]\nmedium = 0.001\nhigh = 0.002\ncritical = 0.9\n",
    )
    .unwrap();
    let report_file = dir.path().join("report.json");
    let host = RunningHost::start(
        dir.path(),
        &[
            "--config",
            toml.to_str().unwrap(),
            "--events",
            "2000",
            "--linger",
            "--report-json",
            report_file.to_str().unwrap(),
        ],
    );
    let report = json_file(&report_file, "report");
    assert_eq!(
        report["memory"]["peak_pressure"], "high",
        "{}",
        report["memory"]
    );
    let (_, text) = host.get("/metrics");
    assert_eq!(
        sample(
            &samples(&text),
            "tradsys_alerts_total{kind=\"memory-pressure\"}"
        ),
        1.0
    );
    let view: serde_json::Value = serde_json::from_str(&host.get("/api/snapshot").1).unwrap();
    let entry = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "memory-pressure")
        .unwrap_or_else(|| panic!("{}", view["timeline"]));
    assert_eq!(entry["level"], "warn");
    assert!(
        entry["message"].as_str().unwrap().contains("High"),
        "{entry}"
    );
    let log = std::fs::read_to_string(&host.stderr).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("alert: memory-pressure")),
        "{log}"
    );
}
