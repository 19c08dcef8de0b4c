//! `tradsys plugin new`: a project of each kind, written outside the
//! repository, passes its own unit tests, builds and signs with its README's
//! command, and runs in the session its `host.toml` describes, where it does
//! what a user would look for.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use tradsys_tests::{FOUR_VALIDATORS, THREE_STRATEGIES};

use crate::common::{plugin, strategy, tradsys, workspace_root};

/// Run `program` with `args` in `dir`, with `env` and a cargo target
/// directory the projects share (the SDK and its dependencies compile
/// once), asserting it succeeds: its standard output.
pub(crate) fn run_in(dir: &Path, program: &Path, args: &[&str], env: &[(&str, &Path)]) -> String {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", workspace_root().join("target/scaffold"))
        .env("RUST_LOG", "warn");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{} {args:?} in {} failed:\n{}{}",
        program.display(),
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `plugin build` of `project` into its `plugins/`, signed by its key (a
/// Rust project's cargo target directory shared with the other tests').
pub(crate) fn build_signed(project: &Path, env: &[(&str, &Path)]) -> String {
    let target = workspace_root().join("target/scaffold");
    let args = [
        "plugin",
        "build",
        ".",
        "--key",
        "keys/author.key",
        "--out",
        "plugins",
        "--target-dir",
        target.to_str().unwrap(),
    ];
    run_in(project, &crate::common::tradsys_bin(), &args, env)
}

fn cargo_in(project: &Path, args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_in(project, Path::new(&cargo), args, &[]);
}

fn tradsys_in(project: &Path, args: &[&str]) -> String {
    run_in(project, &crate::common::tradsys_bin(), args, &[])
}

/// `plugin new` of `kind` in `parent`, then the README's three commands;
/// the session's report.
fn new_project_session(parent: &Path, name: &str, kind: &str) -> Value {
    let made = tradsys_in(parent, &["plugin", "new", name, "--kind", kind]);
    assert!(made.contains(&format!("a {kind} in Rust")), "{made}");
    let project = parent.join(name);
    let cargo = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    assert!(
        cargo.contains("[workspace]"),
        "a project of its own: {cargo}"
    );
    cargo_in(&project, &["test", "--quiet"]);
    let built = build_signed(&project, &[]);
    assert!(built.contains(&format!("{name}@0.1.0")), "{built}");
    tradsys_in(
        &project,
        &[
            "run",
            "--config",
            "host.toml",
            "--report-json",
            "report.json",
        ],
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(project.join("report.json")).unwrap()).unwrap();
    let author = tradsys_signing::PublicKey::read(&project.join("keys/author.pub"))
        .unwrap()
        .id()
        .to_string();
    let me = plugin(&report, name);
    assert_eq!(
        me["signers"],
        serde_json::json!([author]),
        "signed by its own key"
    );
    assert_eq!(me["state"], "live", "{me}");
    assert!(me["calls"].as_u64().unwrap() > 0, "{me}");
    report
}

#[test]
fn a_project_of_every_kind_tests_builds_signs_and_does_its_job_in_a_session() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path();

    // A strategy trades on the synthetic market, its fills from sim-venue.
    let report = new_project_session(dir, "fader", "strategy");
    let fader = strategy(&report, "fader");
    assert!(fader["submitted"].as_u64().unwrap() > 10, "{fader}");
    assert!(fader["fills"].as_u64().unwrap() > 10, "{fader}");

    // A validator refuses ma-crossover's orders of 5 over its limit of 10
    // only when they would pass its position limit, and lets the rest through.
    let report = new_project_session(dir, "guard", "risk-validator");
    let rejections = report["orders"]["rejections"].as_array().unwrap();
    let by_guard: Vec<&str> = rejections
        .iter()
        .filter(|r| r["by"] == "guard")
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(by_guard.contains(&"position-limit"), "{rejections:?}");
    let ma = strategy(&report, "ma-crossover");
    assert!(ma["all_refused"].is_null(), "most orders pass: {ma}");
    assert!(report["fills"].as_u64().unwrap() > 10, "{report}");

    // A matcher fills ma-crossover against the quotes.
    let report = new_project_session(dir, "quote-venue", "matcher");
    assert!(
        report["fills"].as_u64().unwrap() > 10,
        "{}",
        report["orders"]
    );

    // A connector feeds a session of its instrument to the end of its events.
    let report = new_project_session(dir, "walk", "connector");
    assert_eq!(report["events"], 20000);
    assert!(report["books"]["DEMO"].is_object(), "{}", report["books"]);
    assert!(
        report["fills"].as_u64().unwrap() > 10,
        "{}",
        report["orders"]
    );

    // A processor's signal reaches the session.
    let report = new_project_session(dir, "micro", "processor");
    let processors = report["processors"].as_array().unwrap();
    let micro = processors.iter().find(|p| p["name"] == "micro").unwrap();
    assert!(micro["signals"].as_u64().unwrap() > 1000, "{micro}");
}

#[test]
fn plugin_new_refuses_a_bad_name_a_used_directory_and_a_python_matcher_and_writes_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().to_str().unwrap();
    let refused = |args: &[&str], expected: &str| {
        let output = tradsys(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    };
    let bad = format!("{dir}/Bad");
    refused(
        &[
            "plugin", "new", "Bad_Name", "--kind", "strategy", "--dir", &bad,
        ],
        "`Bad_Name` is not a plugin name",
    );
    assert!(!Path::new(&bad).exists(), "nothing written for a bad name");
    let used = parent.path().join("used");
    std::fs::create_dir(&used).unwrap();
    std::fs::write(used.join("notes.txt"), "mine").unwrap();
    refused(
        &[
            "plugin",
            "new",
            "fine",
            "--kind",
            "matcher",
            "--dir",
            used.to_str().unwrap(),
        ],
        "exists and is not empty: nothing written",
    );
    assert_eq!(std::fs::read_dir(&used).unwrap().count(), 1);
    let py = format!("{dir}/py");
    refused(
        &[
            "plugin", "new", "snake", "--kind", "matcher", "--lang", "python", "--dir", &py,
        ],
        "Python projects are strategies and risk validators; write a matcher in Rust",
    );
    assert!(!Path::new(&py).exists());
}

#[test]
fn the_demo_notes_installed_plugins_it_does_not_use_and_logs_no_error() {
    let every: Vec<String> = std::fs::read_dir(crate::common::plugins_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".wasm").map(str::to_string)
        })
        .collect();
    let names: Vec<&str> = every.iter().map(String::as_str).collect();
    assert!(names.contains(&"csv-replay"), "{names:?}");
    let dir = crate::common::plugin_dir_with(&names);
    let demo = workspace_root().join("host/demo.toml");
    let output = crate::common::tradsys_run(
        dir.path(),
        &["--config", demo.to_str().unwrap(), "--events", "3000"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stderr}");
    assert!(
        !stderr.contains("ERROR"),
        "an error for an unused plugin:\n{stderr}"
    );
    let note = stdout
        .split("installed, not used (a grant it needs is not given):")
        .nth(1)
        .unwrap_or_else(|| panic!("no note in:\n{stdout}"));
    assert!(
        note.contains("csv-replay@1.0.0): not granted: read_dir"),
        "{note}"
    );
    assert!(!stdout.contains("refused plugin files"), "{stdout}");
}

#[test]
fn a_strategy_whose_every_order_one_validator_refuses_is_told_in_one_line_with_the_key() {
    let plugins = [
        "synthetic-market",
        "sim-venue",
        "ma-crossover",
        "price-collar",
        "max-notional",
    ];
    let dir = crate::common::plugin_dir_with(&plugins);
    let config = dir.path().join("host.toml");
    // Prices of 40 to 250: not one unit fits a notional of 10.
    std::fs::write(
        &config,
        "[run]\nconnector = \"synthetic-market\"\nmatcher = \"sim-venue\"\n\
         strategies = [\"ma-crossover\"]\nvalidators = [\"price-collar\", \"max-notional\"]\n\
         processors = []\n\n[plugins.max-notional]\nconfig = { max_notional = 10 }\n",
    )
    .unwrap();
    let report_file = dir.path().join("report.json");
    let output = crate::common::tradsys_run(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--events",
            "6000",
            "--report-json",
            report_file.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    let ma = strategy(&report, "ma-crossover");
    assert!(ma["submitted"].as_u64().unwrap() > 10, "{ma}");
    let refused = &ma["all_refused"];
    assert_eq!(refused["by"], "max-notional", "{ma}");
    assert_eq!(refused["reason"], "notional-limit");
    assert_eq!(refused["orders"], ma["submitted"]);
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("above `max_notional` 10.00"), "{message}");
    let line = stdout
        .lines()
        .find(|l| l.contains("orders of ma-crossover refused by max-notional"))
        .unwrap_or_else(|| panic!("no line in:\n{stdout}"));
    assert!(line.contains("[plugins.max-notional] config"), "{line}");
    assert!(line.contains("`max_notional`"), "{line}");
    assert!(!stdout.contains("refused by price-collar ("), "{stdout}");
}

/// `tradsys run --replay FILE` over the examples a template names, with
/// `config` (none: the examples' defaults); the JSON report.
fn replay_with(file: &Path, config: Option<&str>) -> Value {
    let mut names = vec!["csv-replay", "dbn-replay", "sim-venue"];
    names.extend(THREE_STRATEGIES);
    names.extend(FOUR_VALIDATORS);
    let dir = crate::common::plugin_dir_with(&names);
    let path = dir.path().join("host.toml");
    std::fs::write(
        &path,
        config.unwrap_or(&format!(
            "[run]\nevents = 0\nstrategies = {THREE_STRATEGIES:?}\nvalidators = {FOUR_VALIDATORS:?}\n\
             processors = []\n"
        )),
    )
    .unwrap();
    crate::common::run_report(
        dir.path(),
        &[
            "--config",
            path.to_str().unwrap(),
            "--replay",
            file.to_str().unwrap(),
        ],
    )
}

#[test]
fn a_config_template_sized_from_the_file_makes_btc_bars_and_eurusd_quotes_trade_and_fill() {
    for file in ["btc-perp-2022-01-1m.csv", "eurusd-quotes-2020-01.csv"] {
        let Some(data) = crate::common::shared_data(file) else {
            continue;
        };
        let path = data.join(file);
        let output = tradsys(&["inspect-data", path.to_str().unwrap(), "--config-template"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let template = String::from_utf8(output.stdout).unwrap();
        assert!(template.contains("[plugins.max-notional]"), "{template}");
        let report = replay_with(&path, Some(&template));
        for name in ["ma-crossover", "momentum", "mean-reversion"] {
            let s = strategy(&report, name);
            assert!(s["approved"].as_u64().unwrap() > 10, "{file}: {s}");
            assert!(s["fills"].as_u64().unwrap() > 10, "{file}: {s}");
            assert!(s["all_refused"].is_null(), "{file}: {s}");
        }
        if file.starts_with("btc") {
            // The examples' defaults suit prices near 100: every order of
            // BTC near 42,000 is refused, and the report says by whom.
            let report = replay_with(&path, None);
            for name in ["ma-crossover", "momentum", "mean-reversion"] {
                let s = strategy(&report, name);
                assert_eq!(s["approved"], 0, "{s}");
                assert_eq!(s["all_refused"]["by"], "max-notional", "{s}");
            }
        }
    }
}

#[test]
fn a_config_template_of_a_file_without_prices_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.csv");
    std::fs::write(&file, "timestamp,open,high,low,close,volume\n").unwrap();
    let output = tradsys(&["inspect-data", file.to_str().unwrap(), "--config-template"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("empty: fewer than two bar closes to size a config from"),
        "{stderr}"
    );
    std::fs::write(&file, "timestamp,open,high,low,close,volume\nx,1,2,3\n").unwrap();
    let output = tradsys(&["inspect-data", file.to_str().unwrap(), "--config-template"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2: fewer than 5 fields"), "{stderr}");
}
