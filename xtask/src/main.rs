//! Build orchestration: `cargo xtask <command>`.
//!
//! - `build-plugins`: install the wasm targets if missing, build every crate of
//!   `plugins/`, embed its manifest (from the crate's Cargo metadata), sign it
//!   with the development key and write it to `target/plugins/`.
//! - `demo [ARGS]`: build the plugins and run `tradsys run` (release) on them,
//!   trusting the development key.
//! - `test`: formatting and lint checks, the plugins' own unit tests, and
//!   every test of the workspace (installing `promtool`, Chromium and
//!   chromedriver with apt-get when missing, and componentize-py into
//!   `target/python` for the Python plugins). CI runs exactly this.
//! - `build-venue`: build the QuickFIX programs of the tests (`tests/venue/`):
//!   the live-trading tests' venue into `target/venue/quickfix-venue`, the
//!   gateway's FIX client into `target/venue/quickfix-client`.
//! - `bench`: the plugin-boundary and lazy-loading benchmarks (release);
//!   `bench --quick`: the regression guard only (the ES day's sessions as
//!   ratios to the native decode floor, appended to docs/bench-history.csv).
//! - `guide`: write `docs/plugin-guide.md`, the author's guide per kind, from
//!   the WIT's doc comments (the `tidy` test keeps it current).
//! - `fuzz [CASES]`: the property tests of every parser of untrusted bytes
//!   (manifests, signatures, keys, revocation lists, plugin state, DBN and
//!   CSV files, the host config) and of the host's checks of connector and
//!   matcher output, with CASES cases each (default 100000; `test` runs them
//!   with proptest's 256).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

mod venue;

/// The development signing key, made on first use (never for production).
const DEV_KEY: &str = "target/dev-keys/dev.key";
/// A trust store holding only the development key's public half.
const DEV_TRUST: &str = "target/dev-keys/trust";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    match args.first().map(String::as_str) {
        Some("build-plugins") => build_plugins(&root),
        Some("build-test-plugins") => build_test_plugins(&root),
        Some("build-venue") => {
            install_test_tools()?;
            venue::build(&root)
        }
        Some("demo") => {
            build_plugins(&root)?;
            let mut run = cargo(&root);
            run.args([
                "run",
                "--release",
                "--package",
                "tradsys-host",
                "--bin",
                "tradsys",
                "--",
                "run",
            ]);
            run.arg("--plugins").arg(root.join("target/plugins"));
            run.arg("--trust").arg(root.join(DEV_TRUST));
            // The demo's market is by order (host/demo.toml), unless the
            // caller brings a config of their own.
            if !args[1..]
                .iter()
                .any(|a| a == "--config" || a.starts_with("--config="))
            {
                run.arg("--config").arg(root.join("host/demo.toml"));
            }
            run.args(&args[1..]);
            tradsys_build::run(run)
        }
        Some("test") => test(&root),
        Some("bench") if args.get(1).is_some_and(|a| a == "--quick") => {
            // The regression guard: the plugins and one benchmark, about a minute.
            build_plugins(&root)?;
            let mut bench = cargo(&root);
            bench.args(["bench", "--package", "tradsys-tests", "--bench", "quick"]);
            tradsys_build::run(bench)
        }
        Some("bench") => {
            build_plugins(&root)?;
            build_test_plugins(&root)?;
            // The lifecycle benchmark runs the release binary.
            let mut host = cargo(&root);
            host.args(["build", "--release", "--package", "tradsys-host"]);
            tradsys_build::run(host)?;
            // The live benchmark trades with the QuickFIX venue.
            install_test_tools()?;
            venue::build(&root)?;
            // The Python benchmark builds a Python plugin.
            let componentize_py = install_componentize_py(&root)?;
            let mut bench = cargo(&root);
            bench
                .args(["bench", "--package", "tradsys-tests"])
                .args(&args[1..])
                .env("TRADSYS_COMPONENTIZE_PY", componentize_py);
            tradsys_build::run(bench)
        }
        Some("guide") => {
            // The author's guide per kind, from the WIT's doc comments.
            let page = tradsys_build::guide(&root.join(tradsys_build::GUIDE_WIT))?;
            let path = root.join(tradsys_build::GUIDE_PAGE);
            std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(())
        }
        Some("fuzz") => fuzz(&root, args.get(1).map_or("100000", String::as_str)),
        _ => bail!(
            "usage: cargo xtask <build-plugins | build-venue | demo [tradsys run args] | test | bench [--quick] | fuzz [CASES] | guide>"
        ),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root);
    command
}

/// Run cargo in `root` with `args`.
fn cargo_run(root: &Path, args: &[&str]) -> Result<()> {
    let mut c = cargo(root);
    c.args(args);
    tradsys_build::run(c)
}

fn test(root: &Path) -> Result<()> {
    // The two plugin workspaces: the examples and the misbehaving test plugins.
    let plugin_workspaces = [
        root.join("plugins/Cargo.toml"),
        root.join("tests/plugins/Cargo.toml"),
    ];
    let native_target = root.join("target/plugins-native");
    let native_target = native_target.to_str().context("target path is not UTF-8")?;
    cargo_run(root, &["fmt", "--all", "--check"])?;
    install_test_tools()?;
    let componentize_py = install_componentize_py(root)?;
    for manifest in &plugin_workspaces {
        let manifest = manifest.to_str().context("path is not UTF-8")?;
        cargo_run(
            root,
            &["fmt", "--all", "--check", "--manifest-path", manifest],
        )?;
    }
    build_plugins(root)?;
    build_test_plugins(root)?;
    venue::build(root)?;
    cargo_run(
        root,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    for manifest in &plugin_workspaces {
        let manifest = manifest.to_str().context("path is not UTF-8")?;
        let common = [
            "--workspace",
            "--all-targets",
            "--manifest-path",
            manifest,
            "--target-dir",
            native_target,
        ];
        cargo_run(
            root,
            &[&["clippy"], &common[..], &["--", "-D", "warnings"]].concat(),
        )?;
        cargo_run(root, &[&["test"], &common[..]].concat())?;
    }
    // The end-to-end tests run the `tradsys` binary, which `cargo test` does
    // not build for a package without integration tests of its own. Building
    // bins and tests in one go resolves features once, as `cargo test` does.
    cargo_run(root, &["build", "--workspace", "--bins", "--tests"])?;
    let mut test = cargo(root);
    test.args(["test", "--workspace"])
        .env("TRADSYS_COMPONENTIZE_PY", componentize_py);
    tradsys_build::run(test)
}

/// componentize-py, which builds the Python plugins of the authoring tests,
/// in a virtual environment under `target/python` (made, and the pinned
/// release installed from PyPI, when missing, saying so); its path.
fn install_componentize_py(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/python");
    let program = venv.join("bin/componentize-py");
    let wanted = tradsys_build::COMPONENTIZE_PY;
    let version = wanted.split("==").nth(1).unwrap_or_default();
    let installed = Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(version));
    if installed {
        return Ok(program);
    }
    eprintln!(
        "installing {wanted} (builds the Python plugins of the tests) into {}",
        venv.display()
    );
    let make = || {
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    // Debian splits `venv`'s pip out into python3-venv.
    if !make() {
        apt_install(&["python3", "python3-venv"], "the Python plugin tests")?;
        if !make() {
            bail!("python3 -m venv {} failed", venv.display());
        }
    }
    let mut pip = Command::new(venv.join("bin/pip"));
    pip.args(["install", "--quiet", wanted]);
    tradsys_build::run(pip)?;
    Ok(program)
}

/// The programs the end-to-end tests drive, by the Debian package holding
/// each: `promtool` checks the metrics, Chromium and its WebDriver open the
/// dashboard, g++, pkg-config and QuickFIX's headers build the FIX venue
/// the live-trading tests trade with (`tests/venue/`).
const TEST_TOOLS: [(&[&str], &str); 6] = [
    (&["promtool", "--version"], "prometheus"),
    (&["chromium", "--version"], "chromium"),
    (&["chromedriver", "--version"], "chromium-driver"),
    (&["g++", "--version"], "g++"),
    (&["pkg-config", "--version"], "pkg-config"),
    (&["pkg-config", "--exists", "quickfix"], "libquickfix-dev"),
];

/// Install the Debian packages of the test tools that are missing (apt-get,
/// through sudo unless root), saying so.
fn install_test_tools() -> Result<()> {
    let found = |check: &[&str]| {
        Command::new(check[0])
            .args(&check[1..])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let missing: Vec<&str> = TEST_TOOLS
        .iter()
        .filter(|(check, _)| !found(check))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing, "the metrics, dashboard and FIX venue tests")
}

/// The property tests of the parsers of untrusted bytes, `cases` cases each
/// (`PROPTEST_CASES`): the workspace's `props` and `config_props` test
/// targets, then the `props` modules of the plugins that parse files.
fn fuzz(root: &Path, cases: &str) -> Result<()> {
    let n: u32 = cases
        .parse()
        .with_context(|| format!("`{cases}` is not a number of cases"))?;
    anyhow::ensure!(n > 0, "fuzz needs at least one case");
    let mut workspace = cargo(root);
    workspace.env("PROPTEST_CASES", cases).args([
        "test",
        "-p",
        "tradsys-signing",
        "-p",
        "tradsys-sdk",
        "-p",
        "tradsys-data",
        "-p",
        "tradsys-host",
        "--test",
        "props",
        "--test",
        "config_props",
    ]);
    tradsys_build::run(workspace)?;
    // The host's checks of connector and matcher output (in-crate).
    let mut checks = cargo(root);
    checks.env("PROPTEST_CASES", cases).args([
        "test",
        "-p",
        "tradsys-host",
        "--lib",
        "trading::props",
    ]);
    tradsys_build::run(checks)?;
    let manifest = root.join("plugins/Cargo.toml");
    let manifest = manifest.to_str().context("path is not UTF-8")?;
    let native_target = root.join("target/plugins-native");
    let native_target = native_target.to_str().context("target path is not UTF-8")?;
    let mut plugins = cargo(root);
    plugins.env("PROPTEST_CASES", cases).args([
        "test",
        "--manifest-path",
        manifest,
        "--target-dir",
        native_target,
        "-p",
        "csv-replay",
        "-p",
        "dbn-replay",
        "--lib",
        "--",
        "props::",
    ]);
    tradsys_build::run(plugins)
}

fn build_plugins(root: &Path) -> Result<()> {
    build_workspace(root, "plugins/Cargo.toml", "target/plugins")
}

/// The misbehaving plugins of the sandbox tests, into `target/test-plugins/`.
fn build_test_plugins(root: &Path) -> Result<()> {
    build_workspace(root, "tests/plugins/Cargo.toml", "target/test-plugins")
}

fn build_workspace(root: &Path, manifest: &str, out: &str) -> Result<()> {
    let key = dev_key(root)?;
    let built = tradsys_build::build(&tradsys_build::BuildRequest {
        manifest_path: &root.join(manifest),
        out_dir: &root.join(out),
        target_dir: Some(&root.join("target/plugins-build")),
        key: Some(&key),
    })?;
    for b in built {
        println!(
            "built {} {} ({} KiB, signed by development key {})",
            b.path.display(),
            b.manifest.version,
            b.size / 1024,
            key.public().id()
        );
    }
    Ok(())
}

/// The development key, generated on first use with its trust store.
fn dev_key(root: &Path) -> Result<tradsys_signing::SecretKey> {
    let path = root.join(DEV_KEY);
    if path.exists() {
        return Ok(tradsys_signing::SecretKey::read(&path)?);
    }
    let key = tradsys_signing::SecretKey::generate("dev")?;
    key.write(path.parent().expect("a directory"))?;
    let trust = root.join(DEV_TRUST);
    std::fs::create_dir_all(&trust).with_context(|| format!("creating {}", trust.display()))?;
    std::fs::write(trust.join("dev.pub"), key.public().to_line())
        .with_context(|| format!("writing {}", trust.display()))?;
    println!(
        "generated development key {} in {}",
        key.public().id(),
        path.display()
    );
    Ok(key)
}

/// Install Debian `packages` with apt-get (through sudo unless root), saying
/// so and what needs them.
fn apt_install(packages: &[&str], needed_by: &str) -> Result<()> {
    eprintln!(
        "installing the Debian packages {needed_by} need: {} (apt-get)",
        packages.join(" ")
    );
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let apt = |args: &[&str]| -> Result<()> {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        let status = command
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("running apt-get")?;
        if !status.success() {
            bail!(
                "apt-get {} failed: install {} by hand ({needed_by} need them)",
                args.join(" "),
                packages.join(" ")
            );
        }
        Ok(())
    };
    apt(&["update", "-qq"])?;
    apt(&[
        &["install", "-y", "-qq", "--no-install-recommends"],
        packages,
    ]
    .concat())
}
