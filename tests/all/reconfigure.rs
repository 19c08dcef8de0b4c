//! Runtime reconfiguration: `tradsys plugin configure` and an edit of the
//! watched host config re-initialise a plugin through the swap path; a
//! config its `init` refuses leaves the old one running, with the reason.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{DEFAULT_SET, plugin_dir_with};
use crate::operations::{RunningHost, json_file};

/// A change's settings: old and new values.
type Diffs = BTreeMap<String, (Value, Value)>;

/// Refusals by `validator` so far, from the metrics.
fn refusals_by(host: &RunningHost, validator: &str) -> u64 {
    let (_, text) = host.get("/metrics");
    let prefix = format!("tradsys_order_rejections_total{{by=\"{validator}\"");
    text.lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Wait for a timeline entry of kind `config` about `plugin` containing `text`.
fn config_entry(host: &RunningHost, plugin: &str, text: &str) -> Value {
    let body = host.until("/api/snapshot", &format!("{plugin}: {text}"), |_, body| {
        serde_json::from_str::<Value>(body).is_ok_and(|v| {
            v["timeline"].as_array().is_some_and(|t| {
                t.iter().any(|e| {
                    e["kind"] == "config"
                        && e["plugin"].as_str().unwrap_or("").starts_with(plugin)
                        && e["message"].as_str().unwrap_or("").contains(text)
                })
            })
        })
    });
    serde_json::from_str(&body).unwrap()
}

#[test]
fn a_plugin_reconfigured_by_command_or_by_editing_the_config_runs_with_it_and_a_refused_config_changes_nothing()
 {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let config = dir.path().join("host.toml");
    let toml = |extra: &str| {
        format!(
            "[run]\nevents = 0\nbatch_size = 4\nwatch = true\n[swap]\ndebounce_ms = 50\n{extra}"
        )
    };
    std::fs::write(&config, toml("")).unwrap();
    let report_file = dir.path().join("report.json");
    let host = RunningHost::start(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--report-json",
            report_file.to_str().unwrap(),
        ],
    );
    host.until("/readyz", "ready", |s, _| s == 200);
    host.until("/api/snapshot", "orders validated", |s, body| {
        s == 200
            && serde_json::from_str::<Value>(body)
                .is_ok_and(|v| v["orders"]["submitted"].as_u64() > Some(0))
    });
    let before = refusals_by(&host, "max-notional");

    // By command: a quantity limit of 1 refuses most orders from then on.
    let (ok, text) = host
        .endpoint
        .cli(&["plugin", "configure", "max-notional", "max_quantity=1"]);
    assert!(ok, "{text}");
    assert!(text.contains("config.max_quantity: (unset) → 1"), "{text}");
    config_entry(&host, "max-notional@", "applied");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while refusals_by(&host, "max-notional") < before + 20 {
        assert!(
            std::time::Instant::now() < deadline,
            "the new limit never refused"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // A config its init refuses: the reason, and the running one goes on.
    let (ok, text) = host
        .endpoint
        .cli(&["plugin", "configure", "max-notional", "max_quantity=-5"]);
    assert!(!ok, "{text}");
    assert!(text.contains("must be positive"), "{text}");
    let (ok, text) = host.endpoint.cli(&["status"]);
    assert!(
        ok && text.contains("config: max-notional@1.0.1 config.max_quantity 1 → -5: refused"),
        "{text}"
    );
    // A key it does not know is refused the same way, naming the key.
    let (ok, text) = host
        .endpoint
        .cli(&["plugin", "configure", "max-notional", "max_quantiy=50"]);
    assert!(!ok, "{text}");
    assert!(
        text.contains(
            "config `max_quantiy`: unknown key (the keys are `max_notional`, `max_quantity`)"
        ),
        "{text}"
    );
    let still = refusals_by(&host, "max-notional");
    host.until("/metrics", "the limit of 1 still refusing", |_, _| {
        refusals_by(&host, "max-notional") > still
    });
    let (ok, text) = host.endpoint.cli(&["plugin", "configure", "nobody", "a=1"]);
    assert!(!ok && text.contains("not in this session"), "{text}");

    // By editing the watched host config: a validator's config and another's limits.
    std::fs::write(
        &config,
        toml(
            "[plugins.max-notional]\nconfig = { max_quantity = 1 }\n\
             [plugins.position-limit]\nconfig = { max_position = 100 }\n\
             [plugins.price-collar.limits]\nfuel_per_call = 12345678\n",
        ),
    )
    .unwrap();
    config_entry(
        &host,
        "position-limit@",
        "config.max_position (unset) → 100",
    );
    config_entry(
        &host,
        "price-collar@",
        "limits.fuel_per_call 50000000 → 12345678",
    );
    // A config file that does not load changes nothing.
    std::fs::write(&config, "[run\nbroken").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let log = std::fs::read_to_string(&host.stderr).unwrap();
        if log
            .lines()
            .any(|l| l.contains("host config") && l.contains("is invalid"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no refusal logged:\n{log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    host.until("/readyz", "still trading", |s, _| s == 200);

    host.interrupt();
    let report = json_file(&report_file, "report");
    let changes: Vec<(String, bool, Diffs)> = report["config_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let name = c["plugin"]
                .as_str()
                .unwrap()
                .split('@')
                .next()
                .unwrap()
                .to_string();
            let diffs = c["differences"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let setting = d["setting"].as_str().unwrap().to_string();
                    (setting, (d["old"].clone(), d["new"].clone()))
                })
                .collect();
            (name, c["applied"].as_bool().unwrap(), diffs)
        })
        .collect();
    assert_eq!(changes.len(), 5, "{changes:?}");
    assert_eq!(changes[0].0, "max-notional");
    assert!(changes[0].1);
    assert_eq!(
        changes[0].2["config.max_quantity"],
        (Value::Null, Value::from("1"))
    );
    assert_eq!(changes[1].0, "max-notional");
    assert!(!changes[1].1, "refused");
    assert_eq!(
        changes[1].2["config.max_quantity"],
        (Value::from("1"), Value::from("-5"))
    );
    assert!(
        report["config_changes"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("must be positive")
    );
    assert_eq!(changes[2].0, "max-notional");
    assert!(!changes[2].1, "refused");
    assert!(changes[2].2.contains_key("config.max_quantiy"));
    let rest: BTreeMap<&str, &Diffs> = changes[3..]
        .iter()
        .map(|(name, applied, diffs)| {
            assert!(applied, "{name}");
            (name.as_str(), diffs)
        })
        .collect();
    assert!(rest["position-limit"].contains_key("config.max_position"));
    assert_eq!(
        rest["price-collar"]["limits.fuel_per_call"],
        (Value::from("50000000"), Value::from("12345678"))
    );
    // Each reconfiguration went through the swap path.
    let swaps = report["swaps"].as_array().unwrap();
    let reconfigured = swaps
        .iter()
        .filter(|s| {
            s["outcome"] == "swapped" && s["cause"].as_str().unwrap().starts_with("reconfigured")
        })
        .count();
    assert_eq!(reconfigured, 3, "{swaps:?}");
}
