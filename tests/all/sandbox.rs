//! The sandbox: every limit tested as a pair (obeyed and violated), the trap
//! told apart by its code, and the host and other plugins unaffected.

use std::sync::Arc;

use tradsys_host::Trap;
use tradsys_host::testing::Strategy;
use tradsys_host::testing::types::{MarketEvent, Quote};
use tradsys_host::testing::{PluginInstance, Registry, Runtime};
use tradsys_host::{Fault, HostConfig, TrustPolicy, TrustSettings};

use crate::common::{
    DEFAULT_SET, U, dev_trust, plugin, plugin_dir_with, run_report, session_with, strategy, typed,
    workspace_root,
};

/// The misbehaving strategy of `tests/plugins/hostile`, configured by `toml`
/// (its `[plugins.hostile]` table and limits).
fn hostile(toml: &str) -> (Arc<Runtime>, PluginInstance<Strategy>) {
    let dir = tempfile::tempdir().unwrap();
    let built = workspace_root().join("target/test-plugins/hostile.wasm");
    assert!(
        built.is_file(),
        "{} is missing: run `cargo xtask test`",
        built.display()
    );
    std::fs::copy(&built, dir.path().join("hostile.wasm")).unwrap();
    let config: HostConfig = toml::from_str(toml).unwrap();
    let trust = TrustSettings {
        dir: Some(dev_trust()),
        allow_unsigned: false,
    };
    let policy = TrustPolicy::from_settings(&trust).unwrap();
    let runtime = Arc::new(Runtime::new().unwrap());
    let registry = Registry::load_dir(dir.path(), &config, &policy).unwrap();
    let plugin = registry.get("hostile").expect("hostile loads").clone();
    // Compile before the temporary directory goes.
    plugin.prepare(&runtime).unwrap();
    (runtime.clone(), PluginInstance::new(runtime, plugin))
}

fn batch() -> Vec<MarketEvent> {
    (0..10)
        .map(|i| {
            MarketEvent::Quote(Quote {
                instrument: 0,
                ts: i,
                bid_price: 100 * U,
                bid_size: U,
                ask_price: 101 * U,
                ask_size: U,
            })
        })
        .collect()
}

fn on_market(instance: &mut PluginInstance<Strategy>) -> Result<usize, Fault> {
    let events = batch();
    instance
        .call(|b, s| b.on_market(s, &events))
        .and_then(|orders| instance.limit_output(orders))
        .map(|orders| orders.len())
}

fn trap_of(result: Result<usize, Fault>) -> Trap {
    match result {
        Err(Fault::Trap { trap, .. }) => trap,
        other => panic!("expected a trap, got {other:?}"),
    }
}

fn config(mode: &str, extra: &str, limits: &str) -> String {
    format!(
        "[plugins.hostile]\nconfig = {{ mode = \"{mode}\"{extra} }}\n[plugins.hostile.limits]\n{limits}\n"
    )
}

#[test]
fn an_endless_loop_is_stopped_at_its_deadline_and_the_next_call_works() {
    let (_rt, mut quiet) = hostile(&config("quiet", "", "deadline_ms = 20"));
    assert_eq!(on_market(&mut quiet).ok(), Some(0));

    let (_rt, mut spin) = hostile(&config(
        "spin",
        "",
        "deadline_ms = 20\nfuel_per_call = 100000000000000",
    ));
    let started = std::time::Instant::now();
    assert_eq!(trap_of(on_market(&mut spin)), Trap::Interrupt);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "stopped, not left running"
    );
    // The same loop under fuel alone runs out of fuel instead.
    let (_rt, mut spin) = hostile(&config(
        "spin",
        "",
        "deadline_ms = 100000\nfuel_per_call = 10000000",
    ));
    assert_eq!(trap_of(on_market(&mut spin)), Trap::OutOfFuel);
}

#[test]
fn a_slow_finite_loop_fails_on_a_small_budget_and_passes_on_a_larger_one() {
    let (_rt, mut small) = hostile(&config(
        "loop",
        ", iterations = 2000000",
        "fuel_per_call = 1000000",
    ));
    assert_eq!(trap_of(on_market(&mut small)), Trap::OutOfFuel);
    let (_rt, mut large) = hostile(&config(
        "loop",
        ", iterations = 2000000",
        "fuel_per_call = 1000000000",
    ));
    assert_eq!(on_market(&mut large).ok(), Some(0));
}

#[test]
fn a_memory_bomb_is_refused_at_its_cap_and_traps() {
    let (_rt, mut bomb) = hostile(&config("memory-bomb", "", "memory_bytes = 16777216"));
    // The grow beyond 16 MiB fails inside the guest; Rust's allocator aborts.
    assert_eq!(trap_of(on_market(&mut bomb)), Trap::UnreachableCodeReached);
    // A plugin within the same cap runs.
    let (_rt, mut quiet) = hostile(&config("quiet", "", "memory_bytes = 16777216"));
    assert_eq!(on_market(&mut quiet).ok(), Some(0));
}

#[test]
fn deep_recursion_overflows_the_stack_and_shallow_recursion_does_not() {
    let (_rt, mut deep) = hostile(&config("recurse", ", depth = 10000000", ""));
    assert_eq!(trap_of(on_market(&mut deep)), Trap::StackOverflow);
    let (_rt, mut shallow) = hostile(&config("recurse", ", depth = 1000", ""));
    assert_eq!(on_market(&mut shallow).ok(), Some(0));
}

#[test]
fn a_flood_of_orders_is_cut_off_as_a_fault() {
    let (_rt, mut flood) = hostile(&config("flood", ", count = 20000", "max_output = 10000"));
    assert!(matches!(
        on_market(&mut flood),
        Err(Fault::OutputLimit {
            items: 20000,
            limit: 10000,
            ..
        })
    ));
    let (_rt, mut trickle) = hostile(&config("flood", ", count = 10000", "max_output = 10000"));
    assert_eq!(on_market(&mut trickle).ok(), Some(10000));
}

#[test]
fn a_panic_ends_that_call_only_and_the_next_call_gets_a_fresh_instance() {
    let (_rt, mut plugin) = hostile(&config("panic-on", ", n = 2", ""));
    assert_eq!(on_market(&mut plugin).ok(), Some(0));
    assert_eq!(
        trap_of(on_market(&mut plugin)),
        Trap::UnreachableCodeReached
    );
    assert_eq!(
        on_market(&mut plugin).ok(),
        Some(0),
        "a fresh instance, whose call count starts again"
    );
    assert_eq!(plugin.stats().instantiations, 2);
    assert_eq!(plugin.stats().faults.get("trap:unreachable"), Some(&1));
}

/// The example strategies' results, which a misbehaving neighbour must not change.
fn example_strategies(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] != "hostile")
        .cloned()
        .collect()
}

#[test]
fn a_strategy_that_traps_mid_batch_or_spins_changes_nothing_for_the_others_and_is_quarantined() {
    let baseline_dir = plugin_dir_with(&DEFAULT_SET);
    let baseline = run_report(baseline_dir.path(), &["--events", "3000"]);
    for (mode, limits, fault) in [
        ("trap-mid-batch", "", "trap:unreachable"),
        (
            "spin",
            "deadline_ms = 5\nfuel_per_call = 100000000000000",
            "trap:interrupt",
        ),
    ] {
        let dir = plugin_dir_with(&DEFAULT_SET);
        std::fs::copy(
            workspace_root().join("target/test-plugins/hostile.wasm"),
            dir.path().join("hostile.wasm"),
        )
        .unwrap();
        let toml = dir.path().join("host.toml");
        std::fs::write(&toml, config(mode, "", limits)).unwrap();
        let report = run_report(
            dir.path(),
            &["--events", "3000", "--config", toml.to_str().unwrap()],
        );
        assert_eq!(
            example_strategies(&report),
            example_strategies(&baseline),
            "{mode} disturbed the others"
        );
        assert_eq!(
            report["orders"]["approved"], baseline["orders"]["approved"],
            "{mode}: no order lost or added"
        );
        assert_eq!(report["fills"], baseline["fills"]);
        let hostile = plugin(&report, "hostile");
        assert_eq!(hostile["faults"][fault], 5, "{mode}: {hostile}");
        assert!(
            hostile["quarantined"]
                .as_str()
                .unwrap()
                .contains("5 faults"),
            "{hostile}"
        );
        assert_eq!(
            strategy(&report, "hostile")["submitted"],
            0,
            "orders of a trapped call are never passed on"
        );
    }
}

/// hostile-io, granted `grants` (a TOML fragment of its `[plugins.hostile-io]`
/// table), trying `try_this`: what its `init` reported, or why it did not load.
fn reach(grants: &str, try_this: &str) -> Result<String, String> {
    use tradsys_host::testing::Connector;
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(
        workspace_root().join("target/test-plugins/hostile-io.wasm"),
        plugins.join("hostile-io.wasm"),
    )
    .unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("inside.txt"), "inside").unwrap();
    std::fs::write(dir.path().join("outside.txt"), "outside").unwrap();
    let toml = format!(
        "[plugins.hostile-io]\n{}\nconfig = {{ {try_this} }}\n",
        grants.replace("DATA", &format!("{data:?}"))
    );
    let config: HostConfig = toml::from_str(&toml).unwrap();
    let trust = TrustSettings {
        dir: Some(dev_trust()),
        allow_unsigned: false,
    };
    let runtime = Arc::new(Runtime::new().unwrap());
    let policy = TrustPolicy::from_settings(&trust).unwrap();
    let registry = Registry::load_dir(&plugins, &config, &policy).unwrap();
    let Some(plugin) = registry.get("hostile-io") else {
        return Err(registry.rejected()[0].reason.clone());
    };
    let mut instance = PluginInstance::<Connector>::new(runtime, plugin.clone());
    match instance.ensure_live() {
        Err(Fault::Init { reason, .. }) => Ok(reason),
        other => panic!("hostile-io reports through init: {other:?}"),
    }
}

const GRANTED: &str = "read_dir = DATA\nnetwork = [\"127.0.0.1:9\"]";

#[test]
fn a_plugin_importing_what_it_was_not_granted_is_refused_at_load_naming_the_grant() {
    let refused = reach("", "try = \"read\"").unwrap_err();
    assert!(
        refused.contains(
            "not granted: read_dir (imports wasi:filesystem), network (imports wasi:sockets)"
        ),
        "{refused}"
    );
    assert_eq!(
        reach(GRANTED, "try = \"read\"").unwrap(),
        "read /data/inside.txt: inside"
    );
}

#[test]
fn a_granted_directory_is_all_it_can_read() {
    let outside = reach(GRANTED, "try = \"read\", path = \"/data/../outside.txt\"").unwrap();
    assert!(
        outside.starts_with("read /data/../outside.txt: denied"),
        "{outside}"
    );
    let absolute = reach(GRANTED, "try = \"read\", path = \"/etc/passwd\"").unwrap();
    assert!(
        absolute.starts_with("read /etc/passwd: denied"),
        "{absolute}"
    );
}

#[test]
fn environment_clock_and_other_addresses_are_out_of_reach() {
    assert_eq!(
        reach(GRANTED, "try = \"env\"").unwrap(),
        "env HOME: None, 0 variables"
    );
    // The wall clock is the host's market clock (not started yet at init), never the real time.
    assert_eq!(reach(GRANTED, "try = \"clock\"").unwrap(), "clock: 0 ns");
    // Two real listeners on loopback; only the first is granted.
    let granted = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (granted, other) = (granted.local_addr().unwrap(), other.local_addr().unwrap());
    let grants = format!("read_dir = DATA\nnetwork = [\"{granted}\"]");
    let ok = reach(
        &grants,
        &format!("try = \"connect\", address = \"{granted}\""),
    )
    .unwrap();
    assert_eq!(ok, format!("connect {granted}: connected"));
    let refused = reach(
        &grants,
        &format!("try = \"connect\", address = \"{other}\""),
    )
    .unwrap();
    assert!(
        refused.starts_with(&format!("connect {other}: denied")),
        "{refused}"
    );
}

/// A batch of one quote at time `ts`.
fn quote_at(ts: u64) -> Vec<MarketEvent> {
    vec![MarketEvent::Quote(Quote {
        instrument: 0,
        ts,
        bid_price: 100 * U,
        bid_size: U,
        ask_price: 101 * U,
        ask_size: U,
    })]
}

/// The id of the one order the `count` strategy sends for `events`.
fn counted(instance: &mut PluginInstance<Strategy>, events: &[MarketEvent]) -> Result<u64, Fault> {
    use tradsys_host::testing::types::OrderCommand;
    let orders = instance.call(|b, s| b.on_market(s, events))?;
    match orders.as_slice() {
        [OrderCommand::Submit(order)] => Ok(order.id),
        other => panic!("one order expected, got {other:?}"),
    }
}

#[test]
fn a_plugins_statistics_do_not_grow_with_its_calls() {
    let (_rt, mut strategy) = crate::common::instance::<Strategy>("momentum", "");
    let call = |strategy: &mut PluginInstance<Strategy>, ts| {
        strategy.call(|b, s| b.on_market(s, &quote_at(ts))).unwrap();
    };
    for ts in 0..1_000 {
        call(&mut strategy, ts);
    }
    let after_1k = strategy.stats().heap_bytes();
    for ts in 1_000..31_000 {
        call(&mut strategy, ts);
    }
    assert_eq!(
        strategy.stats().latency.count(),
        31_001,
        "init and the calls"
    );
    assert_eq!(
        strategy.stats().heap_bytes(),
        after_1k,
        "30,000 calls later"
    );
}

#[test]
fn after_a_trap_a_strategy_resumes_from_its_last_saved_state() {
    for (every, after_trap) in [(1, 3), (0, 1)] {
        let toml = format!(
            "[faults]\nsnapshot_every = {every}\n{}",
            config("count", "", "")
        );
        let (_rt, mut strategy) = hostile(&toml);
        assert_eq!(counted(&mut strategy, &quote_at(1)).ok(), Some(1));
        assert_eq!(counted(&mut strategy, &quote_at(2)).ok(), Some(2));
        assert!(matches!(
            counted(&mut strategy, &quote_at(13)),
            Err(Fault::Trap { .. })
        ));
        // Saved after every call: the fresh instance goes on from call 2.
        // Never saved: it starts again from nothing.
        assert_eq!(
            counted(&mut strategy, &quote_at(4)).ok(),
            Some(after_trap),
            "snapshot_every = {every}"
        );
    }
}

#[test]
fn a_failed_matcher_halts_trading_rather_than_guess() {
    let set = [
        "synthetic-market",
        "test:hostile-matcher",
        "ma-crossover",
        "momentum",
        "max-notional",
    ];
    let report = session_with(
        &set,
        // The exchange venue: the matcher gets only `execute` calls to count.
        "[venue]\nmodel = \"exchange\"\n\n[plugins.hostile-matcher]\nconfig = { fail_at = 30 }\n",
        "4000",
    );
    assert_eq!(report["events"], 4000, "market data keeps flowing");
    assert_eq!(typed(&report).stopped, None);
    assert!(
        report["halted"]
            .as_str()
            .unwrap()
            .contains("matcher hostile-matcher failed"),
        "{}",
        report["halted"]
    );
    let matcher = plugin(&report, "hostile-matcher");
    assert_eq!(matcher["faults"]["trap:unreachable"], 1);
    // 29 good calls, the failing one, and none after: nothing is sent to a matcher that lost its books.
    assert_eq!(matcher["calls"], 1 + 30, "{matcher}");
    let halted: u64 = report["orders"]["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["by"] == "host" && r["reason"] == "instrument-halted")
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert!(
        halted > 0,
        "orders after the halt are refused: {}",
        report["orders"]
    );
}

#[test]
fn a_connector_failing_at_one_point_of_its_stream_is_quarantined_without_replaying_it() {
    let set = ["test:hostile-connector", "fifo-matcher", "ma-crossover"];
    let toml = "[run]\nconnector = \"hostile-connector\"\nbatch_size = 1\n\n[plugins.hostile-connector]\nconfig = { fail_at = 10 }\n";
    let report = session_with(&set, toml, "1000");
    let connector = plugin(&report, "hostile-connector");
    // Each restarted instance resumes just before batch 10, which fails again:
    // five faults open the breaker.
    assert_eq!(connector["faults"]["trap:unreachable"], 5, "{connector}");
    assert_eq!(report["connector_restarts"], 4);
    assert_eq!(connector["instantiations"], 5);
    assert!(
        report["stopped"]
            .as_str()
            .unwrap()
            .starts_with("connector quarantined"),
        "{}",
        report["stopped"]
    );
    // The definition and 8 quotes, once each: nothing was delivered twice.
    assert_eq!(report["events"], 9);
}

#[test]
fn a_connector_restarted_after_a_transient_fault_carries_on_where_it_stopped() {
    let set = ["test:hostile-connector", "fifo-matcher", "ma-crossover"];
    let toml = "[run]\nconnector = \"hostile-connector\"\nbatch_size = 1\n\
                [faults]\nquarantine_after = 1000\n\
                [plugins.hostile-connector]\nconfig = { fail_at = 0, fail_every = 7, quotes = 100 }\n";
    let report = session_with(&set, toml, "0");
    let connector = plugin(&report, "hostile-connector");
    // Every instance traps on its 7th call; each new one resumes after the
    // last batch delivered, so the stream ends after exactly its 101 events.
    let faults = connector["faults"]["trap:unreachable"].as_u64().unwrap();
    assert!(faults >= 15, "{connector}");
    assert_eq!(report["connector_restarts"], faults);
    assert_eq!(report["events"], 101, "{report}");
    assert_eq!(typed(&report).stopped, None);
}

#[test]
fn a_connector_that_cannot_save_its_position_stops_the_session_instead_of_repeating_events() {
    let set = ["test:hostile-connector", "fifo-matcher", "ma-crossover"];
    let toml = "[run]\nconnector = \"hostile-connector\"\nbatch_size = 1\n\
                [plugins.hostile-connector]\nconfig = { fail_at = 0, save_fails_at = 6 }\n";
    let report = session_with(&set, toml, "1000");
    let stopped = report["stopped"].as_str().unwrap();
    assert!(
        stopped.starts_with("connector failed")
            && stopped.contains("cannot resume where it stopped"),
        "{stopped}"
    );
    // The definition and five quotes, each delivered once.
    assert_eq!(report["events"], 6);
    assert_eq!(report["connector_restarts"], 0);
}
