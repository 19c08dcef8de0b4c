//! Lazy loading: nothing compiled at start-up, preloading by priority,
//! dependency order and cycles, the init timeout, eviction under the memory
//! budget with state kept, and what `plugin list` shows.

use tradsys_host::testing::PluginInstance;
use tradsys_host::testing::RiskValidator;
use tradsys_host::{FileState, Loading, Readiness};

use crate::common::{
    DEFAULT_SET, artifacts, discover, plugin, plugin_dir_with, renamed, run_report, session_with,
    strategy, tradsys, typed,
};
use crate::session::without_timing;

fn order(registry: &tradsys_host::testing::Registry, name: &str) -> u64 {
    match registry.get(name).unwrap().readiness() {
        Readiness::Compiled(load) => load.order,
        other => panic!("{name} is not compiled: {other:?}"),
    }
}

fn is_discovered(registry: &tradsys_host::testing::Registry, name: &str) -> bool {
    matches!(
        registry.get(name).unwrap().readiness(),
        Readiness::Discovered
    )
}

#[test]
fn start_up_reads_headers_only_and_a_plugin_compiles_on_its_first_call() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let (runtime, registry) = discover(dir.path(), "");
    assert_eq!(registry.plugins().len(), DEFAULT_SET.len());
    assert!(
        registry
            .plugins()
            .iter()
            .all(|p| is_discovered(&registry, p.name()))
    );
    assert_eq!(artifacts(dir.path()), 0, "nothing compiled at start-up");

    let plugin = registry.get("max-notional").unwrap().clone();
    let mut validator = PluginInstance::<RiskValidator>::new(runtime.clone(), plugin);
    assert_eq!(validator.state(), tradsys_host::LifeState::Discovered);
    validator.ensure_live().unwrap();
    assert_eq!(validator.state(), tradsys_host::LifeState::Live);
    assert!(validator.memory_bytes() > 0);
    assert_eq!(runtime.memory_in_use(), validator.memory_bytes());
    assert_eq!(
        artifacts(dir.path()),
        1,
        "only the plugin used was compiled"
    );
    assert!(is_discovered(&registry, "price-collar"));

    assert!(
        validator.evict().unwrap(),
        "a live validator can be evicted"
    );
    assert_eq!(validator.state(), tradsys_host::LifeState::Evicted);
    assert_eq!(runtime.memory_in_use(), 0, "its memory is given back");
}

#[test]
fn a_session_compiles_only_what_it_uses_and_eager_loading_gives_the_same_results() {
    let config =
        "[run]\nstrategies = [\"momentum\"]\nvalidators = [\"max-notional\", \"position-limit\"]\n";
    let lazy = session_with(&DEFAULT_SET, config, "2000");
    let mut unused: Vec<&str> = lazy["unused_plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().split('@').next().unwrap())
        .collect();
    unused.sort_unstable();
    assert_eq!(
        unused,
        [
            "ma-crossover",
            "mean-reversion",
            "order-throttle",
            "price-collar"
        ]
    );
    for name in [
        "synthetic-market",
        "fifo-matcher",
        "momentum",
        "max-notional",
    ] {
        assert_eq!(plugin(&lazy, name)["state"], "live", "{name}");
        assert_eq!(plugin(&lazy, name)["load"]["source"], "compiled", "{name}");
    }
    assert!(lazy["orders"]["approved"].as_u64().unwrap() > 0);

    let dir = plugin_dir_with(&DEFAULT_SET);
    let toml = dir.path().join("host.toml");
    std::fs::write(&toml, config).unwrap();
    let args = ["--events", "2000", "--config", toml.to_str().unwrap()];
    let first = run_report(dir.path(), &args);
    assert_eq!(artifacts(dir.path()), 5, "the five plugins in use, no more");
    // They were made ready before the session's clock started, in
    // parallel, and the report says so apart from the session's time.
    let startup = &first["timing"]["startup"];
    assert_eq!(
        (&startup["plugins"], &startup["from_cache"]),
        (&5.into(), &0.into()),
        "{startup}"
    );
    assert!(startup["elapsed_ms"].as_f64().unwrap() > 0.0, "{startup}");
    let again = run_report(dir.path(), &args);
    assert_eq!(again["timing"]["startup"]["from_cache"], 5, "{again:#}");
    let eager = run_report(dir.path(), &[&args[..], &["--eager"]].concat());
    assert_eq!(
        artifacts(dir.path()),
        DEFAULT_SET.len(),
        "eager compiles everything"
    );
    assert_eq!(without_timing(first.clone()), without_timing(eager));
    assert_eq!(without_timing(first), without_timing(lazy));
}

#[test]
fn preloading_compiles_marked_plugins_in_the_background_highest_priority_first() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let toml = "[plugins.price-collar]\npreload = true\npriority = 5\n\
                [plugins.position-limit]\npreload = true\npriority = 9\n\
                [plugins.order-throttle]\npreload = true\n";
    let (runtime, registry) = discover(dir.path(), toml);
    let preloader = registry
        .prepare(&runtime, Loading::Lazy)
        .expect("a preloader thread");
    preloader.join().unwrap();
    let position = order(&registry, "position-limit");
    let collar = order(&registry, "price-collar");
    let throttle = order(&registry, "order-throttle");
    assert!(
        position < collar && collar < throttle,
        "priority 9, then 5, then 0 (the manifest's): {position} {collar} {throttle}"
    );
    assert!(
        is_discovered(&registry, "momentum"),
        "not marked: not compiled"
    );
    assert_eq!(artifacts(dir.path()), 3);
}

#[test]
fn dependencies_are_made_ready_first_and_a_cycle_is_refused_with_the_cycle_named() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: Vec<u8>| {
        std::fs::write(dir.path().join(format!("{name}.wasm")), bytes).unwrap();
    };
    write("top", renamed("max-notional", "top", &[("middle", "^1")]));
    write(
        "middle",
        renamed("price-collar", "middle", &[("base", "^1")]),
    );
    write("base", renamed("position-limit", "base", &[]));
    write(
        "loop-a",
        renamed("max-notional", "loop-a", &[("loop-b", "^1")]),
    );
    write(
        "loop-b",
        renamed("price-collar", "loop-b", &[("loop-a", "^1")]),
    );
    write(
        "needs-loop",
        renamed("order-throttle", "needs-loop", &[("loop-a", "^1")]),
    );
    let (runtime, registry) = discover(dir.path(), "");

    let refused = |name: &str| {
        registry
            .files()
            .iter()
            .find(|f| {
                f.plugin
                    .as_deref()
                    .is_some_and(|p| p.starts_with(&format!("{name}@")))
            })
            .map(|f| match &f.state {
                FileState::Rejected { reason } => reason.clone(),
                other => panic!("{name} was not refused: {other:?}"),
            })
            .unwrap()
    };
    for name in ["loop-a", "loop-b"] {
        assert_eq!(
            refused(name),
            "dependency cycle: loop-a → loop-b → loop-a",
            "{name}"
        );
    }
    assert!(
        refused("needs-loop").contains("unmet dependency: needs loop-a ^1, not installed"),
        "{}",
        refused("needs-loop")
    );

    let top = registry.get("top").unwrap().clone();
    PluginInstance::<RiskValidator>::new(runtime, top)
        .ensure_live()
        .unwrap();
    let (base, middle, top) = (
        order(&registry, "base"),
        order(&registry, "middle"),
        order(&registry, "top"),
    );
    assert!(base < middle && middle < top, "{base} {middle} {top}");
}

#[test]
fn an_init_that_times_out_fails_that_plugin_only_and_is_not_retried() {
    let baseline = session_with(&DEFAULT_SET, "", "2000");
    let plugins: Vec<&str> = DEFAULT_SET
        .iter()
        .copied()
        .chain(["test:hostile"])
        .collect();
    let toml = "[plugins.hostile]\nconfig = { mode = \"init-spin\" }\n\
                [plugins.hostile.limits]\ninit_deadline_ms = 20\ninit_fuel = 100000000000000\n";
    let report = session_with(&plugins, toml, "2000");
    let hostile = plugin(&report, "hostile");
    assert_eq!(hostile["state"], "failed", "{hostile}");
    assert!(
        hostile["failure"]
            .as_str()
            .unwrap()
            .contains("init timed out (deadline 20 ms"),
        "{hostile}"
    );
    assert_eq!(hostile["instantiations"], 1, "a failed init is not retried");
    assert_eq!(hostile["faults"]["init"], 1, "{hostile}");
    let others = |r: &serde_json::Value| {
        r["strategies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["name"] != "hostile")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(others(&report), others(&baseline));
    assert_eq!(report["fills"], baseline["fills"]);
}

/// What a session traded: orders, fills and each strategy's books.
fn results(report: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "orders": report["orders"],
        "fills": report["fills"],
        "strategies": report["strategies"],
        "halted": report["halted"],
    })
}

#[test]
fn evicting_every_instance_after_every_event_changes_no_result() {
    let run = "[run]\nbatch_size = 1\n";
    let plain = session_with(&DEFAULT_SET, run, "1500");
    let forced = session_with(
        &DEFAULT_SET,
        &format!("{run}[memory]\nidle_evict_ms = 0\n"),
        "1500",
    );
    assert_eq!(plain["memory"]["evictions"], 0);
    assert!(forced["memory"]["evictions"].as_u64().unwrap() > 1500);
    for name in ["fifo-matcher", "ma-crossover", "order-throttle"] {
        let evictions = plugin(&forced, name)["memory"]["evictions"]
            .as_u64()
            .unwrap();
        assert!(evictions > 100, "{name} evicted {evictions} times");
    }
    assert_eq!(
        plugin(&forced, "synthetic-market")["memory"]["evictions"],
        0,
        "a connector has no state interface and is never evicted"
    );
    assert!(plain["orders"]["approved"].as_u64().unwrap() > 10);
    assert!(plain["fills"].as_u64().unwrap() > 10);
    assert_eq!(results(&forced), results(&plain));
}

#[test]
fn under_memory_pressure_low_priority_instances_go_first_and_results_hold() {
    let plain = session_with(&DEFAULT_SET, "", "3000");
    let peak = plain["memory"]["peak_bytes"].as_u64().unwrap();
    assert!(peak > 0);
    // Everything live is about 90% of the budget: medium pressure, so about
    // half the memory must go after each batch, lowest priority first.
    let toml = format!(
        "[memory]\nbudget_bytes = {}\nmedium = 0.5\nhigh = 0.99\ncritical = 1.0\nmin_idle_ms = 0\n\
         [plugins.fifo-matcher]\npriority = 100\n\
         [plugins.ma-crossover]\npriority = 50\n[plugins.momentum]\npriority = 50\n\
         [plugins.mean-reversion]\npriority = 50\n\
         [plugins.max-notional]\npriority = 4\n[plugins.order-throttle]\npriority = 3\n\
         [plugins.position-limit]\npriority = 2\n[plugins.price-collar]\npriority = 1\n",
        peak * 10 / 9
    );
    let squeezed = session_with(&DEFAULT_SET, &toml, "3000");
    assert_eq!(
        squeezed["memory"]["peak_pressure"], "medium",
        "{}",
        squeezed["memory"]
    );
    let evictions = |name: &str| {
        plugin(&squeezed, name)["memory"]["evictions"]
            .as_u64()
            .unwrap()
    };
    assert!(evictions("price-collar") > 0, "the lowest priority goes");
    assert_eq!(evictions("fifo-matcher"), 0, "the highest priority stays");
    assert!(evictions("price-collar") >= evictions("ma-crossover"));
    assert_eq!(results(&squeezed), results(&plain));
}

#[test]
fn at_critical_pressure_low_priority_plugins_get_no_instance_and_the_host_runs_on() {
    let toml = "[memory]\nbudget_bytes = 1048576\n[run]\nstrategies = [\"momentum\", \"ma-crossover\"]\n\
                [plugins.ma-crossover]\npriority = 5\n";
    let report = session_with(&DEFAULT_SET, toml, "1000");
    assert_eq!(report["memory"]["peak_pressure"], "critical");
    let momentum = plugin(&report, "momentum");
    assert!(
        momentum["faults"]["memory-budget"].as_u64().unwrap() > 5,
        "{momentum}"
    );
    let typed_momentum = typed(&report)
        .plugins
        .into_iter()
        .find(|p| p.name == "momentum")
        .unwrap();
    assert_eq!(
        typed_momentum.quarantined, None,
        "memory refusals are not the plugin's fault"
    );
    let crossover = plugin(&report, "ma-crossover");
    assert!(
        crossover["faults"]["memory-budget"].is_null(),
        "priority 5 is above the reserved 1: {crossover}"
    );
    let submitted = |name: &str| strategy(&report, name)["submitted"].as_u64().unwrap();
    assert_eq!(submitted("momentum"), 0);
    assert!(submitted("ma-crossover") > 0);
    // Validators (priority 0) are refused too, so every order is refused: fail closed.
    assert_eq!(report["orders"]["approved"], 0);
    // The matcher is never refused an instance: it is evicted and comes back.
    assert_eq!(
        plugin(&report, "fifo-matcher")["faults"],
        serde_json::json!({})
    );
    assert_eq!(typed(&report).halted, None);
}

#[test]
fn plugin_list_reads_headers_only_and_check_instantiates_each_plugin() {
    let dir = plugin_dir_with(&["max-notional", "momentum"]);
    let trust = crate::common::dev_trust();
    let args = [
        "plugin",
        "list",
        "--plugins",
        dir.path().to_str().unwrap(),
        "--trust",
        trust.to_str().unwrap(),
    ];
    let out = tradsys(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("discovered (priority 0)"), "{text}");
    assert_eq!(artifacts(dir.path()), 0);

    let out = tradsys(&[&args[..], &["--check"]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(
        text.matches("live: instantiated and initialised in")
            .count(),
        2,
        "{text}"
    );
    assert!(text.contains("KiB of memory"), "{text}");
    let out = tradsys(&args);
    assert!(String::from_utf8_lossy(&out.stdout).contains("artifact cached"));
}
