//! Processors, the fifth kind: signals and bars derived before the
//! strategies see a batch, delivered by subscription, run in dependency
//! order, lazily loaded and evicted with their state, failing open or closed.
//! (Their swaps and shadows are in `swap.rs`.)

use tradsys_host::testing::{PluginInstance, Processor};

use crate::common::{
    artifacts, discover, plugin, plugin_dir_with, renamed, run_report, session_with, strategy,
    typed,
};

/// The synthetic market by order on the simulated venue, `indicators` and
/// the EMA strategy (its `source` as given), plus `extra`.
fn ema_session(source: &str, extra_plugins: &[&str], extra_toml: &str) -> serde_json::Value {
    let mut plugins = vec![
        "synthetic-market",
        "sim-venue",
        "indicators",
        "test:ema-trend",
    ];
    plugins.extend_from_slice(extra_plugins);
    let toml = format!(
        "[plugins.synthetic-market]\nconfig = {{ book = \"orders\" }}\n\
         [plugins.indicators]\nconfig = {{ ema = \"10, 40\", imbalance = \"3\" }}\n\
         [plugins.ema-trend]\nconfig = {{ source = \"{source}\", signals = \"ema:10, ema:40\" }}\n\
         {extra_toml}"
    );
    session_with(&plugins, &toml, "6000")
}

/// The quote market, a matcher and the auditor test strategy, which answers
/// every market event but definitions with one order.
const AUDITOR: [&str; 3] = ["synthetic-market", "fifo-matcher", "test:auditor"];

/// What a strategy traded, for comparing two runs.
fn traded(report: &serde_json::Value, name: &str) -> serde_json::Value {
    let s = strategy(report, name);
    serde_json::json!([s["submitted"], s["fills"], s["pnl"], s["positions"]])
}

fn processor<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["processors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no processor {name} in {}", report["processors"]))
}

#[test]
fn emas_from_the_processor_trade_exactly_as_emas_inside_the_strategy() {
    let own = ema_session("own", &[], "");
    let signalled = ema_session("signals", &["test:legacy-1-1-strategy"], "");
    assert!(
        strategy(&own, "ema-trend")["fills"].as_u64().unwrap() > 20,
        "{}",
        strategy(&own, "ema-trend")
    );
    // The same averages, computed once by the processor and delivered by
    // subscription, make the same decisions.
    assert_eq!(traded(&signalled, "ema-trend"), traded(&own, "ema-trend"));
    let indicators = processor(&signalled, "indicators");
    assert!(
        indicators["signals"].as_u64().unwrap() > 1000,
        "{indicators}"
    );
    assert_eq!(indicators["batches_dropped"], 0);
    assert_eq!(plugin(&signalled, "indicators")["kind"], "processor");
    // A 1.1.0 strategy beside them never sees a signal and trades on.
    let legacy = plugin(&signalled, "legacy-1-1-strategy");
    assert!(
        legacy["faults"].as_object().is_none_or(|f| f.is_empty()),
        "{legacy}"
    );
    assert!(
        strategy(&signalled, "legacy-1-1-strategy")["submitted"]
            .as_u64()
            .unwrap()
            > 100
    );
}

#[test]
fn evicting_processors_after_every_batch_changes_no_result() {
    let plain = ema_session("signals", &[], "[run]\nbatch_size = 4\n");
    let forced = ema_session(
        "signals",
        &[],
        "[run]\nbatch_size = 4\n[memory]\nidle_evict_ms = 0\n",
    );
    let evictions = plugin(&forced, "indicators")["memory"]["evictions"]
        .as_u64()
        .unwrap();
    assert!(evictions > 100, "indicators evicted {evictions} times");
    assert_eq!(traded(&forced, "ema-trend"), traded(&plain, "ema-trend"));
    assert_eq!(
        processor(&forced, "indicators")["signals"],
        processor(&plain, "indicators")["signals"]
    );
}

#[test]
fn a_processor_compiles_on_its_first_call_only() {
    let dir = plugin_dir_with(&["indicators", "bar-aggregator"]);
    let (runtime, registry) = discover(dir.path(), "");
    assert_eq!(artifacts(dir.path()), 0, "nothing compiled at start-up");
    let plugin = registry.get("indicators").unwrap().clone();
    assert_eq!(plugin.kind(), tradsys_host::PluginKind::Processor);
    let mut indicators = PluginInstance::<Processor>::new(runtime, plugin);
    assert_eq!(indicators.state(), tradsys_host::LifeState::Discovered);
    indicators.ensure_live().unwrap();
    assert_eq!(indicators.state(), tradsys_host::LifeState::Live);
    assert_eq!(
        artifacts(dir.path()),
        1,
        "only the processor used was compiled"
    );
    assert!(
        indicators.evict().unwrap(),
        "a live processor can be evicted"
    );
}

#[test]
fn a_faulting_processor_fails_open_by_default() {
    // No snapshots: a fresh instance after each trap, so it traps every fourth call.
    let hostile = "[plugins.hostile-processor]\nconfig = { mode = \"trap\", every = \"4\" }\n\
                   [faults]\nquarantine_after = 1000\nsnapshot_every = 0\n";
    let clean = ema_session("signals", &[], "");
    let report = ema_session("signals", &["test:hostile-processor"], hostile);
    let hostile = processor(&report, "hostile-processor");
    assert_eq!(hostile["on_fault"], "open");
    let dropped = hostile["batches_dropped"].as_u64().unwrap();
    let batches = report["batches"].as_u64().unwrap();
    assert_eq!(dropped, batches / 4, "every fourth batch: {hostile}");
    let last = hostile["last_fault"].as_str().unwrap();
    assert!(
        last.contains("hostile-processor") && last.contains("trap"),
        "{last}"
    );
    assert_eq!(hostile["batches_withheld"], 0);
    // The strategies got every batch, and the other processor's output.
    assert_eq!(traded(&report, "ema-trend"), traded(&clean, "ema-trend"));
}

#[test]
fn a_processor_set_to_fail_closed_withholds_the_batch_from_the_strategies() {
    let closed = "[plugins.hostile-processor]\non_fault = \"closed\"\n\
                  config = { mode = \"trap\", every = \"2\" }\n\
                  [faults]\nquarantine_after = 1000\nsnapshot_every = 0\n";
    let open = closed.replace("on_fault = \"closed\"\n", "");
    let closed = ema_session("signals", &["test:hostile-processor"], closed);
    let open = ema_session("signals", &["test:hostile-processor"], &open);
    let hostile = processor(&closed, "hostile-processor");
    assert_eq!(hostile["on_fault"], "closed");
    let withheld = hostile["batches_withheld"].as_u64().unwrap();
    assert_eq!(
        withheld,
        closed["batches"].as_u64().unwrap() / 2,
        "{hostile}"
    );
    // Half the batches never reached the strategy.
    let calls = |r: &serde_json::Value| plugin(r, "ema-trend")["calls"].as_u64().unwrap();
    assert!(
        calls(&closed) < calls(&open) * 3 / 4,
        "closed {} open {}",
        calls(&closed),
        calls(&open)
    );
    assert_eq!(typed(&closed).stopped, None, "the session itself goes on");
}

#[test]
fn output_the_host_refuses_is_a_contract_fault_and_is_dropped_whole() {
    for (mode, rule) in [
        ("quote", "derives bars and signals, not a quote"),
        ("nan", "is NaN"),
        ("future", "after the batch's last event"),
        ("unknown", "unknown instrument 999999"),
    ] {
        let toml = format!(
            "[plugins.hostile-processor]\nconfig = {{ mode = \"{mode}\", every = \"5\" }}\n\
             [faults]\nquarantine_after = 1000\nsnapshot_every = 0\n"
        );
        let report = session_with(
            &["synthetic-market", "fifo-matcher", "test:hostile-processor"],
            &toml,
            "2000",
        );
        let hostile = processor(&report, "hostile-processor");
        let faults = &plugin(&report, "hostile-processor")["faults"];
        let batches = report["batches"].as_u64().unwrap();
        assert_eq!(faults["contract"], batches / 5, "{mode}: {faults}");
        assert_eq!(hostile["batches_dropped"], batches / 5, "{mode}: {hostile}");
        let last = hostile["last_fault"].as_str().unwrap();
        assert!(last.contains(rule), "{mode}: {last}");
        // Only the good batches' signal counted: the bad batch's good signal
        // was dropped with the rest.
        assert_eq!(
            hostile["signals"],
            batches - batches / 5,
            "{mode}: {hostile}"
        );
    }
}

#[test]
fn processors_run_in_dependency_order_and_a_cycle_is_refused() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher", "indicators"]);
    crate::common::copy_test_plugins(dir.path(), &["signal-echo"]);
    let config = dir.path().join("host.toml");
    std::fs::write(
        &config,
        "[run]\nprocessors = [\"signal-echo\", \"indicators\"]\n\
         [plugins.indicators]\nconfig = { ema = \"10\" }\n",
    )
    .unwrap();
    let report = run_report(
        dir.path(),
        &["--events", "3000", "--config", config.to_str().unwrap()],
    );
    let order: Vec<&str> = report["processors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["indicators", "signal-echo"], "dependencies first");
    // signal-echo saw every EMA the indicators derived in the same batch.
    let emas = processor(&report, "indicators")["signals"]
        .as_u64()
        .unwrap();
    assert!(emas > 100);
    assert_eq!(processor(&report, "signal-echo")["signals"], emas);

    // indicators needing signal-echo closes a cycle: both are refused.
    let cycle = renamed("indicators", "indicators", &[("signal-echo", "^1.0")]);
    std::fs::write(dir.path().join("indicators.wasm"), cycle).unwrap();
    std::fs::write(&config, "").unwrap();
    let report = run_report(dir.path(), &["--events", "100"]);
    let refused = report["rejected_files"].to_string();
    assert!(refused.contains("dependency cycle"), "{refused}");
    assert!(report["processors"].as_array().unwrap().is_empty());
}

#[test]
fn bars_from_the_aggregator_reach_the_strategies_after_the_feed() {
    // The auditor answers every market event but definitions with one order:
    // each bar it is given is one more order.
    let plain = session_with(&AUDITOR, "", "4000");
    let with_bars = session_with(
        &[
            "synthetic-market",
            "fifo-matcher",
            "bar-aggregator",
            "test:auditor",
        ],
        "[plugins.bar-aggregator]\nconfig = { time_ms = \"500\", volume = \"1000\" }\n",
        "4000",
    );
    let bars = processor(&with_bars, "bar-aggregator");
    assert!(bars["bars"].as_u64().unwrap() > 20, "{bars}");
    assert_eq!(bars["signals"], 0);
    let submitted = |r: &serde_json::Value| strategy(r, "auditor")["submitted"].as_u64().unwrap();
    assert_eq!(
        submitted(&with_bars),
        submitted(&plain) + bars["bars"].as_u64().unwrap()
    );
}

#[test]
fn plugin_inspect_names_the_processor_kind_and_its_world() {
    let file = crate::common::plugins_dir().join("indicators.wasm");
    let trust = crate::common::dev_trust();
    let out = crate::common::tradsys(&[
        "plugin",
        "inspect",
        file.to_str().unwrap(),
        "--trust",
        trust.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for expected in [
        "plugin    indicators 1.0.0 (processor)",
        "exports   tradsys:plugins/processor-api@1.4.0",
        "imports   tradsys:plugins/signals@1.4.0",
    ] {
        assert!(stdout.contains(expected), "{expected} not in {stdout}");
    }
}

#[test]
fn a_strategy_that_subscribed_to_nothing_gets_no_signal() {
    // The auditor answers every market event but definitions with one order,
    // so a signal delivered to it would be one more order.
    let plain = session_with(&AUDITOR, "", "3000");
    let with_signals = session_with(
        &[
            "synthetic-market",
            "fifo-matcher",
            "indicators",
            "test:auditor",
        ],
        "[plugins.indicators]\nconfig = { ema = \"5\", imbalance = \"1\" }\n",
        "3000",
    );
    assert!(
        processor(&with_signals, "indicators")["signals"]
            .as_u64()
            .unwrap()
            > 500
    );
    let submitted = |r: &serde_json::Value| strategy(r, "auditor")["submitted"].clone();
    assert_eq!(submitted(&with_signals), submitted(&plain));
    assert!(submitted(&plain).as_u64().unwrap() > 2000);
}

#[test]
fn a_strategy_subscribed_to_event_kinds_is_handed_only_those() {
    // The auditor answers every market event but definitions with one
    // order: what it submits counts what it was handed.
    let submitted = |events: &str| {
        let toml = match events {
            "" => String::new(),
            kinds => format!("[plugins.auditor]\nevents = {kinds}\n"),
        };
        let report = session_with(&AUDITOR, &toml, "3000");
        strategy(&report, "auditor")["submitted"].as_u64().unwrap()
    };
    let every = submitted("");
    let quotes = submitted("[\"quote\"]");
    let trades = submitted("[\"trade\"]");
    let both = submitted("[\"quote\", \"trade\"]");
    assert!(quotes > 0 && trades > 0, "{quotes} {trades}");
    assert_eq!(both, quotes + trades);
    assert!(both <= every, "{both} > {every}");
    assert_eq!(
        submitted("[\"book-delta\"]"),
        0,
        "a quote market has no deltas"
    );
    // A subscription is a strategy's: on a validator the file is refused,
    // with the reason; an unknown kind is a config error naming it.
    let refused = refused_validator("[plugins.max-notional]\nevents = [\"quote\"]\n");
    assert!(
        refused.contains("events is a strategy's subscription"),
        "{refused}"
    );
    let said = refused_config("[plugins.auditor]\nevents = [\"quotes\"]\n");
    assert!(said.contains("quotes"), "{said}");
}

/// What `tradsys run` says when it refuses `toml` (it must).
fn refused_config(toml: &str) -> String {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher"]);
    let config = dir.path().join("host.toml");
    std::fs::write(&config, toml).unwrap();
    let out = crate::common::tradsys(&[
        "run",
        "--plugins",
        dir.path().to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "{toml} was accepted");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A session where the validator `max-notional` is given `toml`'s
/// subscription: the files refused, as the report lists them.
fn refused_validator(toml: &str) -> String {
    let plugins = [
        "synthetic-market",
        "fifo-matcher",
        "momentum",
        "max-notional",
    ];
    session_with(&plugins, toml, "100")["rejected_files"].to_string()
}

#[test]
fn a_strategy_declares_its_kinds_in_its_manifest_and_the_config_overrides_them() {
    // The auditor with `events = ["trade"]` in its manifest, re-signed.
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher"]);
    let file = crate::common::workspace_root().join("target/test-plugins/auditor.wasm");
    let bytes = std::fs::read(file).unwrap();
    let mut manifest = tradsys_signing::read_manifest(&bytes).unwrap();
    manifest.events = Some(vec![tradsys_signing::EventKind::Trade]);
    let embedded = tradsys_signing::embed_manifest(&bytes, &manifest).unwrap();
    let signed = tradsys_signing::sign(&embedded, &crate::common::dev_key()).unwrap();
    std::fs::write(dir.path().join("auditor.wasm"), signed).unwrap();
    let submitted = |toml: &str| {
        let config = dir.path().join("host.toml");
        std::fs::write(&config, toml).unwrap();
        let args = ["--events", "3000", "--config", config.to_str().unwrap()];
        let report = run_report(dir.path(), &args);
        strategy(&report, "auditor")["submitted"].as_u64().unwrap()
    };
    let declared = submitted("");
    let trades = submitted("[plugins.auditor]\nevents = [\"trade\"]\n");
    let quotes = submitted("[plugins.auditor]\nevents = [\"quote\"]\n");
    assert!(declared > 0 && quotes > 0, "{declared} {quotes}");
    assert_eq!(declared, trades, "the manifest's kinds apply");
    assert_ne!(quotes, trades, "the config's kinds override the manifest's");
    // `plugin inspect` shows the subscription.
    let out = crate::common::tradsys(&[
        "plugin",
        "inspect",
        dir.path().join("auditor.wasm").to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("events    trade"), "{said}");
}

#[test]
fn a_strategy_subscribed_to_instruments_is_handed_only_theirs() {
    let report_with = |instruments: &str| {
        let toml = match instruments {
            "" => String::new(),
            list => format!("[plugins.auditor]\ninstruments = {list}\n"),
        };
        session_with(&AUDITOR, &toml, "3000")
    };
    let every = report_with("");
    let submitted = |r: &serde_json::Value| strategy(r, "auditor")["submitted"].as_u64().unwrap();
    let symbols: Vec<String> = every["books"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert!(symbols.len() >= 2, "{symbols:?}");
    let each: Vec<u64> = symbols
        .iter()
        .map(|s| submitted(&report_with(&format!("[\"{s}\"]"))))
        .collect();
    assert!(each.iter().all(|&n| n > 0), "{each:?}");
    // Every event belongs to one instrument: the parts add up to the whole.
    assert_eq!(each.iter().sum::<u64>(), submitted(&every), "{each:?}");
    // One instrument's orders are on that instrument only.
    let one = report_with(&format!("[\"{}\"]", symbols[0]));
    let positions = strategy(&one, "auditor")["positions"].to_string();
    for other in &symbols[1..] {
        assert!(!positions.contains(other.as_str()), "{positions}");
    }
    // A symbol list that names nothing is a config error; on a validator
    // the file is refused.
    let said = refused_config("[plugins.auditor]\ninstruments = []\n");
    assert!(said.contains("plugins.auditor.instruments"), "{said}");
    let refused = refused_validator("[plugins.max-notional]\ninstruments = [\"SYN-A\"]\n");
    assert!(
        refused.contains("instruments is a strategy's subscription"),
        "{refused}"
    );
}
