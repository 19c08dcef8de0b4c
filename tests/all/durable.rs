//! Operations survive a crash: a host killed with SIGKILL at random moments
//! of directory swaps and promotions comes back with a valid state file, a
//! cache that refuses and rebuilds a bad entry, and the versions installed.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tradsys_host::testing::{RollbackState, state_path};

use crate::common::{DEFAULT_SET, Endpoint, dev_trust, plugin, plugin_dir_with, run_report, typed};
use crate::swap::{install, version_of};

/// The highest version of `name` among the plugin files of `dir`.
fn highest(dir: &Path, name: &str) -> semver::Version {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            let file = path.file_name()?.to_str()?;
            if file.starts_with('.') || !file.ends_with(".wasm") {
                return None;
            }
            let manifest = tradsys_signing::read_manifest(&std::fs::read(&path).ok()?).ok()?;
            (manifest.name.as_str() == name).then_some(manifest.version)
        })
        .max()
        .unwrap()
}

fn spawn_host(dir: &Path, config: &Path) -> Child {
    Command::new(crate::common::tradsys_bin())
        .args(["run", "--plugins", dir.to_str().unwrap()])
        .args(["--trust", dev_trust().to_str().unwrap()])
        .args(["--config", config.to_str().unwrap()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Truncate every compiled artifact of the cache; how many there were.
fn damage_cache(dir: &Path) -> usize {
    let cache = tradsys_host::testing::cache_path(dir);
    let artifacts: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    for path in &artifacts {
        let bytes = std::fs::read(path).unwrap();
        std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
    }
    artifacts.len()
}

#[test]
fn a_host_killed_during_swaps_and_promotions_restarts_with_the_versions_installed() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let endpoint = Endpoint::for_dir(dir.path());
    let config = dir.path().join("host.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nevents = 0\nbatch_size = 4\nwatch = true\n[swap]\ndebounce_ms = 20\n\
             [admin]\nlisten = \"{}\"\n",
            endpoint.address
        ),
    )
    .unwrap();
    let candidates = tempfile::tempdir().unwrap();
    // A fixed xorshift: the moments differ from round to round, not from run to run.
    let mut random = 0x2545_f491_4f6c_dd1d_u64;
    let mut recompiled = 0;
    for round in 1..=20u64 {
        let mut host = spawn_host(dir.path(), &config);
        endpoint.status_until("a running host", |s| s.contains("momentum"));
        let version = format!("1.{round}.0");
        let mut client = None;
        if round % 2 == 1 {
            // A directory swap: a newer ma-crossover dropped in.
            let file = format!("ma-crossover-{version}.wasm");
            install(
                dir.path(),
                &file,
                &version_of("ma-crossover", "ma-crossover", &version),
            );
        } else {
            // A promotion: a momentum candidate in shadow, promoted at once.
            let file = candidates.path().join(format!("momentum-{version}.wasm"));
            std::fs::write(&file, version_of("momentum", "momentum", &version)).unwrap();
            let (ok, text) = endpoint.cli(&["plugin", "shadow", file.to_str().unwrap()]);
            assert!(ok, "round {round}: {text}");
            let token = endpoint.token_file.to_str().unwrap();
            client = Some(
                Command::new(crate::common::tradsys_bin())
                    .args([
                        "plugin",
                        "promote",
                        "momentum",
                        "--admin",
                        &endpoint.address,
                    ])
                    .args(["--token-file", token])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            );
        }
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        std::thread::sleep(Duration::from_millis(random % 400));
        host.kill().unwrap();
        host.wait().unwrap();
        if let Some(mut client) = client {
            let _ = client.wait();
        }

        // The state file is whole, and no floor is above what is installed.
        let state = RollbackState::load(&state_path(dir.path()))
            .unwrap_or_else(|e| panic!("round {round}: {e:#}"));
        if round % 5 == 0 {
            assert!(damage_cache(dir.path()) > 0, "round {round}: no artifact");
        }
        let report = run_report(dir.path(), &["--events", "40"]);
        for name in ["ma-crossover", "momentum"] {
            let expected = highest(dir.path(), name);
            let entry = plugin(&report, name);
            assert_eq!(entry["version"], expected.to_string(), "round {round}");
            assert!(
                state.floor(name).is_none_or(|f| *f <= expected),
                "round {round}: floor {:?} above {expected}",
                state.floor(name)
            );
        }
        for entry in typed(&report).plugins {
            assert_eq!(entry.failure, None, "round {round}: {}", entry.name);
        }
        for entry in report["plugins"].as_array().unwrap() {
            recompiled += u32::from(entry["load"]["source"] == "recompiled");
        }
        // Only the versions the floor left behind are refused.
        for refused in report["rejected_files"].as_array().unwrap() {
            let reason = refused["reason"].as_str().unwrap();
            assert!(
                reason.starts_with("rollback refused"),
                "round {round}: {refused}"
            );
        }
    }
    assert!(
        recompiled >= 4,
        "damaged artifacts were rebuilt: {recompiled}"
    );
}
