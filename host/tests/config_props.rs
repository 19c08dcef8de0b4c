//! Property tests of the host config loader, `HostConfig::load`, over
//! untrusted text: arbitrary bytes, TOML made of the config's own tables and
//! keys with edge values, and the documented example with bytes flipped,
//! set, inserted, deleted or cut.
//!
//! Loading never panics, returns within a bounded time without growing the
//! heap past a cap, and every error names the file and what was wrong; a
//! config it accepts holds what `check` promises. No generated config names
//! a host by name: `network` entries are checked by resolving them, and these
//! tests make no DNS queries. `PROPTEST_CASES` sets the number of cases;
//! `cargo xtask fuzz` runs many.

use proptest::prelude::*;
use tradsys_host::HostConfig;
use tradsys_props::{HEAP_LIMIT, bounded, mutated_text};

// Inputs.

/// The bytes TOML uses, which edits of [`example`] set and insert most often.
const TOML_BYTES: &[u8] = b"[]{}=\",.#\n 0-";

/// The documented example, without its (commented) `network` line: an
/// edit could turn that into a host name, which loading would resolve.
fn example() -> Vec<u8> {
    include_str!("../config.example.toml")
        .lines()
        .filter(|line| !line.contains("network"))
        .flat_map(|line| [line, "\n"])
        .collect::<String>()
        .into_bytes()
}

/// TOML of the config's own tables and keys, with edge values.
fn toml_like() -> impl Strategy<Value = Vec<u8>> {
    let table = prop::sample::select(vec![
        "[run]",
        "[memory]",
        "[trust]",
        "[logs]",
        "[swap]",
        "[admin]",
        "[venue]",
        "[venue.fees.ESH4]",
        "[plugins.a]",
        "[plugins.a.limits]",
        "[limits.strategy]",
        "[limits.risk-validator]",
        "[faults]",
        "[robot]",
    ]);
    let key = prop::sample::select(vec![
        "events",
        "seed",
        "batch_size",
        "connector",
        "matcher",
        "max_rounds",
        "plugins_dir",
        "state_file",
        "loading",
        "watch",
        "strategies",
        "budget_bytes",
        "medium",
        "high",
        "critical",
        "dir",
        "allow_unsigned",
        "max_message_bytes",
        "lines_per_second",
        "burst",
        "groups",
        "debounce_ms",
        "keep_versions",
        "listen",
        "allow_remote",
        "model",
        "maker_bps",
        "taker_per_unit",
        "enabled",
        "version",
        "priority",
        "preload",
        "config",
        "read_dir",
        "network",
        "random",
        "fuel_per_call",
        "deadline_ms",
        "memory_bytes",
        "max_output",
        "quarantine_after",
        "colour",
    ]);
    // No value names a host: only addresses, and text without a port.
    let value = prop::sample::select(vec![
        "0",
        "1",
        "-1",
        "16",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551616",
        "0.5",
        "0.75",
        "1.0",
        "-0.0",
        "nan",
        "inf",
        "1e308",
        "true",
        "false",
        "\"lazy\"",
        "\"eager\"",
        "\"exchange\"",
        "\"^1.0\"",
        "\"not a version\"",
        "\"-0.2\"",
        "\"1e3\"",
        "\"127.0.0.1:7878\"",
        "\"[::1]:0\"",
        "[\"127.0.0.1:9000\"]",
        "[\"127.0.0.1:99999\"]",
        "[\"no port\"]",
        "[\"a\", \"b\"]",
        "[[\"a\", \"b\"]]",
        "[]",
        "{ file = \"x.csv\", n = 5 }",
        "{}",
        "\"relative/dir\"",
        "\"/absolute/dir\"",
    ]);
    let line = prop_oneof![
        1 => table.prop_map(str::to_owned),
        4 => (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
    ];
    prop::collection::vec(line, 0..16).prop_map(|lines| (lines.join("\n") + "\n").into_bytes())
}

// What is checked.

/// `text` as a config file, loaded within the bounds; the error as text
/// (with its causes), and the file's path.
fn load(text: Vec<u8>) -> (Result<HostConfig, String>, String) {
    bounded(HEAP_LIMIT, move || {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("host.toml");
        std::fs::write(&path, &text).expect("the case is written");
        let loaded = HostConfig::load(&path).map_err(|e| format!("{e:#}"));
        (loaded, path.display().to_string())
    })
}

/// An error names the config file and what was wrong; a config loaded
/// keeps what `check` promises, its paths made absolute.
fn check(text: Vec<u8>) -> Result<(), TestCaseError> {
    let (loaded, path) = load(text);
    match loaded {
        Err(error) => {
            prop_assert!(
                error.starts_with(&format!("config {path} is invalid: "))
                    || error.starts_with(&format!("reading config {path}: ")),
                "`{error}` does not name the config file"
            );
            let why = error.split_once(": ").map_or("", |(_, why)| why);
            prop_assert!(!why.trim().is_empty(), "`{error}` gives no reason");
        }
        Ok(config) => {
            prop_assert!(config.run.batch_size >= 1 && config.run.max_rounds >= 1);
            let m = &config.memory;
            prop_assert!(0.0 < m.medium && m.medium <= m.high);
            prop_assert!(m.high <= m.critical && m.critical <= 1.0);
            prop_assert!(m.budget_bytes >= 1);
            prop_assert!(config.logs.max_message_bytes >= 16);
            prop_assert!(config.logs.burst >= 1 && config.logs.lines_per_second >= 1);
            let paths = [
                config.run.plugins_dir.as_ref(),
                config.run.state_file.as_ref(),
                config.trust.dir.as_ref(),
            ];
            let read_dirs = config.plugins.values().map(|p| p.read_dir.as_ref());
            for path in paths.into_iter().chain(read_dirs).flatten() {
                prop_assert!(path.is_absolute(), "{} is relative", path.display());
            }
        }
    }
    Ok(())
}

#[test]
fn the_documented_example_loads() {
    let (loaded, _) = load(include_str!("../config.example.toml").as_bytes().to_vec());
    loaded.expect("the example loads");
    let (loaded, _) = load(example());
    loaded.expect("the example without its network line loads");
}

proptest! {
    #[test]
    fn arbitrary_bytes_are_refused_as_a_config_with_a_reason_never_a_panic(
        text in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            any::<String>().prop_map(String::into_bytes),
        ],
    ) {
        check(text)?;
    }

    #[test]
    fn a_config_of_known_keys_and_edge_values_loads_or_is_refused_with_a_reason(
        text in toml_like(),
    ) {
        check(text)?;
    }

    #[test]
    fn a_mutated_example_config_loads_or_is_refused_with_a_reason(text in mutated_text(example(), TOML_BYTES)) {
        check(text)?;
    }
}
