//! Python plugins (componentize-py): a strategy and a validator from
//! `plugin new --lang python` build, pass their unit tests, and run signed
//! and sandboxed with their WASI imports linked inert; the Python strategy
//! trades exactly as the Rust template strategy with the same logic does;
//! an exception, an endless loop and memory growth are contained as a Rust
//! plugin's are.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{plugin, strategy, tradsys_bin, workspace_root};

/// componentize-py: `$TRADSYS_COMPONENTIZE_PY` (`cargo xtask test` installs
/// it in `target/python`), else that virtual environment's.
fn componentize_py() -> PathBuf {
    let program = std::env::var_os("TRADSYS_COMPONENTIZE_PY").map_or_else(
        || workspace_root().join("target/python/bin/componentize-py"),
        PathBuf::from,
    );
    let works = Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        works,
        "{} does not run: `cargo xtask test` installs componentize-py into target/python \
         (or `pip install componentize-py==0.25.1` and set TRADSYS_COMPONENTIZE_PY)",
        program.display()
    );
    program
}

fn run_in(dir: &Path, program: &Path, args: &[&str]) -> String {
    let componentize_py = componentize_py();
    let env = [("TRADSYS_COMPONENTIZE_PY", componentize_py.as_path())];
    crate::authoring::run_in(dir, program, args, &env)
}

fn tradsys_in(dir: &Path, args: &[&str]) -> String {
    run_in(dir, &tradsys_bin(), args)
}

/// A new project of `kind` in `lang`, built and signed into its `plugins/`.
fn new_built(parent: &Path, name: &str, kind: &str, lang: &str) -> PathBuf {
    tradsys_in(
        parent,
        &["plugin", "new", name, "--kind", kind, "--lang", lang],
    );
    let project = parent.join(name);
    let built = build(&project);
    assert!(built.contains(&format!("{name}@0.1.0")), "{built}");
    project
}

/// `plugin build` of `project`, signed by its key.
fn build(project: &Path) -> String {
    let componentize_py = componentize_py();
    let env = [("TRADSYS_COMPONENTIZE_PY", componentize_py.as_path())];
    crate::authoring::build_signed(project, &env)
}

/// The session of `project`'s `host.toml` (with `extra` appended): its report.
fn session(project: &Path, extra: &str) -> Value {
    let config = std::fs::read_to_string(project.join("host.toml")).unwrap() + extra;
    std::fs::write(project.join("session.toml"), config).unwrap();
    tradsys_in(
        project,
        &[
            "run",
            "--config",
            "session.toml",
            "--report-json",
            "report.json",
        ],
    );
    serde_json::from_slice(&std::fs::read(project.join("report.json")).unwrap()).unwrap()
}

#[test]
fn a_python_strategy_tests_builds_and_trades_exactly_as_the_rust_one_with_its_logic() {
    let parent = tempfile::tempdir().unwrap();
    let py = new_built(parent.path(), "pyfade", "strategy", "python");
    let readme = std::fs::read_to_string(py.join("README.md")).unwrap();
    assert!(
        readme.contains("A tradsys strategy in Python") && readme.contains("python3 -m unittest"),
        "{readme}"
    );
    run_in(&py, Path::new("python3"), &["-m", "unittest", "--quiet"]);
    let inspected = tradsys_in(&py, &["plugin", "inspect", "plugins/pyfade.wasm"]);
    assert!(
        inspected.contains("its WASI imports are linked inert (unused_wasi)"),
        "{inspected}"
    );
    assert!(
        inspected.contains("imports   wasi:filesystem/preopens"),
        "{inspected}"
    );
    let py_report = session(&py, "");
    let rust = new_built(parent.path(), "fader", "strategy", "rust");
    let rust_report = session(&rust, "");

    let python = strategy(&py_report, "pyfade");
    let rust = strategy(&rust_report, "fader");
    assert!(python["fills"].as_u64().unwrap() > 10, "{python}");
    for field in [
        "submitted",
        "approved",
        "fills",
        "realized_pnl",
        "pnl",
        "positions",
    ] {
        assert_eq!(
            python[field], rust[field],
            "{field}: Python {python}\nRust {rust}"
        );
    }
    let author = tradsys_signing::PublicKey::read(&py.join("keys/author.pub")).unwrap();
    let me = plugin(&py_report, "pyfade");
    assert_eq!(me["signers"], serde_json::json!([author.id().to_string()]));
    assert_eq!(me["faults"], serde_json::json!({}), "{me}");
}

#[test]
fn a_python_validator_refuses_what_its_limits_say() {
    let parent = tempfile::tempdir().unwrap();
    let project = new_built(parent.path(), "pyguard", "risk-validator", "python");
    run_in(
        &project,
        Path::new("python3"),
        &["-m", "unittest", "--quiet"],
    );
    let report = session(&project, "");
    let rejections = report["orders"]["rejections"].as_array().unwrap();
    let reasons: Vec<&str> = rejections
        .iter()
        .filter(|r| r["by"] == "pyguard")
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"position-limit"), "{rejections:?}");
    assert!(
        report["fills"].as_u64().unwrap() > 10,
        "{}",
        report["orders"]
    );
    assert_eq!(plugin(&report, "pyguard")["faults"], serde_json::json!({}));
}

const HOSTILE: &str = r#"
import tradsys


class Hostile(tradsys.Strategy):
    def __init__(self, config):
        config.only("mode")
        self.mode = config.get("mode", "calm")
        self.hog = []

    def on_market(self, events, orders):
        if self.mode == "raise":
            raise RuntimeError("hostile: raising")
        if self.mode == "loop":
            while True:
                pass
        if self.mode == "grow":
            self.hog.append(bytearray(16 << 20))


StrategyApi = tradsys.export_strategy(Hostile)
"#;

#[test]
fn a_python_plugins_exception_endless_loop_and_memory_growth_are_contained() {
    let parent = tempfile::tempdir().unwrap();
    tradsys_in(
        parent.path(),
        &[
            "plugin", "new", "hostile", "--kind", "strategy", "--lang", "python",
        ],
    );
    let project = parent.path().join("hostile");
    std::fs::write(project.join("app.py"), HOSTILE).unwrap();
    build(&project);
    std::fs::copy(
        crate::common::plugins_dir().join("ma-crossover.wasm"),
        project.join("plugins/ma-crossover.wasm"),
    )
    .unwrap();
    let with_mode =
        |mode: &str| {
            let config = std::fs::read_to_string(project.join("host.toml"))
            .unwrap()
            .replace("strategies = [\"hostile\"]", "strategies = [\"hostile\", \"ma-crossover\"]")
            .replace(
                "[plugins.hostile]\nconfig = { quantity = 1, max_position = 5, threshold_bps = 5 }",
                &format!("[plugins.hostile]\nconfig = {{ mode = \"{mode}\" }}"),
            )
            .replace("events = 20000", "events = 3000");
            std::fs::write(project.join("session.toml"), config).unwrap();
            let args = [
                "run",
                "--config",
                "session.toml",
                "--report-json",
                "report.json",
            ];
            let output = Command::new(tradsys_bin())
                .args(args)
                .current_dir(&project)
                .env("RUST_LOG", "warn")
                .output()
                .unwrap();
            let log = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(output.status.success(), "{mode}: {log}");
            let report: Value =
                serde_json::from_slice(&std::fs::read(project.join("report.json")).unwrap())
                    .unwrap();
            (report, log)
        };
    let (calm, _) = with_mode("calm");
    let baseline = strategy(&calm, "ma-crossover").clone();
    assert!(baseline["fills"].as_u64().unwrap() > 5, "{baseline}");
    assert_eq!(plugin(&calm, "hostile")["faults"], serde_json::json!({}));
    for (mode, fault) in [
        ("raise", "trap:unreachable"),
        ("loop", "trap:"),
        ("grow", "trap:"),
    ] {
        let (report, log) = with_mode(mode);
        if mode == "raise" {
            // Its standard error is its log: the traceback names the line.
            assert!(
                log.contains("stderr: RuntimeError: hostile: raising"),
                "{log}"
            );
            assert!(log.contains("app.py\", line 13, in on_market"), "{log}");
        }
        let hostile = plugin(&report, "hostile");
        let faults = hostile["faults"].as_object().unwrap();
        assert!(
            faults.keys().any(|k| k.starts_with(fault)),
            "{mode}: {faults:?}"
        );
        assert!(!hostile["quarantined"].is_null(), "{mode}: {hostile}");
        // The other strategy trades as it does beside a calm one.
        let ma = strategy(&report, "ma-crossover");
        for field in ["submitted", "fills", "pnl"] {
            assert_eq!(ma[field], baseline[field], "{mode}: {field}");
        }
    }
}
