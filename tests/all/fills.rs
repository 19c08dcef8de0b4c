//! Fills an exchange would have given: the ES day replayed through the
//! simulated venue and judged by `tradsys journal audit` (the independent
//! check against the raw MBO records), at several batch sizes and with a
//! latency; and the audit itself shown to catch fills that are wrong.
//! The recorded files are in ../shared/data (skipped when absent).

use std::path::Path;

use crate::common::{plugin_dir_with, run_report, shared_data, tradsys, typed, workspace_root};

const ES: &str = "esh4-glbx-mdp3-20231225.mbo.dbn.zst";

/// The plugins of these sessions: strategies that rest and take, the
/// validators the ES config sizes, the DBN connector and the venue.
const SET: [&str; 9] = [
    "dbn-replay",
    "sim-venue",
    "market-maker",
    "momentum",
    "mean-reversion",
    "ma-crossover",
    "max-notional",
    "position-limit",
    "price-collar",
];

/// The ES day through `dir` with `extra` config (appended to
/// `host/es-replay.toml`), writing the journal to `journal`: the report.
fn es_session(dir: &Path, data: &Path, extra: &str, journal: &Path) -> serde_json::Value {
    let base = std::fs::read_to_string(workspace_root().join("host/es-replay.toml")).unwrap();
    let config = dir.join("host.toml");
    std::fs::write(&config, format!("{base}\n{extra}\n")).unwrap();
    run_report(
        dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "--replay",
            data.join(ES).to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
        ],
    )
}

/// `tradsys journal audit JOURNAL DATA --json`: whether it passed, and its findings.
fn audit(journal: &Path, data: &Path) -> (bool, serde_json::Value) {
    let out = tradsys(&[
        "journal",
        "audit",
        journal.to_str().unwrap(),
        data.join(ES).to_str().unwrap(),
        "--json",
    ]);
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no audit: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), json)
}

fn count(audit: &serde_json::Value, key: &str) -> u64 {
    audit[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {audit}"))
}

#[test]
fn on_the_es_day_every_fill_survives_the_audit_at_every_batch_size_and_with_latency() {
    let Some(data) = shared_data(ES) else { return };
    let dir = plugin_dir_with(&SET);
    for (batch, latency_ns) in [(32, 0), (1, 0), (4096, 0), (32, 100_000), (4096, 100_000)] {
        let journal = dir.path().join(format!("es-{batch}-{latency_ns}.journal"));
        let extra =
            format!("[run]\nbatch_size = {batch}\n[venue.latency]\norder_ns = {latency_ns}\n");
        let report = es_session(dir.path(), &data, &extra, &journal);
        assert_eq!(typed(&report).stopped, None);
        let (passed, audit) = audit(&journal, &data);
        let case = format!("batch size {batch}, order latency {latency_ns} ns");
        assert!(passed, "{case}: {audit:#}");
        let (maker, taker) = (&audit["maker"], &audit["taker"]);
        // Fewer, larger batches give the strategies fewer chances to trade.
        let least = if batch > 32 { 5 } else { 100 };
        assert!(
            maker["fills"].as_u64().unwrap() > least && taker["fills"].as_u64().unwrap() > least,
            "{case}: the strategies both rest and take: {audit}"
        );
        assert_eq!(maker["fills"], maker["right"], "{case}");
        assert_eq!(taker["fills"], taker["right"], "{case}");
        for key in [
            "early_count",
            "late_count",
            "unreachable_count",
            "missed_count",
        ] {
            assert_eq!(count(&audit, key), 0, "{case}: {key}: {audit:#}");
        }
        // The report counts the same fills the journal holds.
        assert_eq!(
            report["fills"].as_u64().unwrap(),
            maker["fills"].as_u64().unwrap() + taker["fills"].as_u64().unwrap(),
            "{case}"
        );
        // Nothing fills before the open, which the first trade marked.
        let open = &report["books"]["ESH4"]["open"];
        assert_eq!(open["marked_by"], "first-trade", "{open}");
        assert_eq!(open["ts"], 1_703_545_200_000_000_000u64, "23:00:00 UTC");
        assert_eq!(audit["opened"]["ESH4"], open["ts"]);
    }
}

/// The records of `journal`, as JSON values.
fn records(journal: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write(journal: &Path, records: &[serde_json::Value]) {
    let text: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    std::fs::write(journal, text.join("\n") + "\n").unwrap();
}

#[test]
fn the_audit_finds_a_fill_too_early_too_late_from_nowhere_and_volume_never_taken() {
    let Some(data) = shared_data(ES) else { return };
    let dir = plugin_dir_with(&SET);
    let journal = dir.path().join("es.journal");
    es_session(dir.path(), &data, "", &journal);
    let (passed, _) = audit(&journal, &data);
    assert!(passed, "the session's own journal is clean");
    let original = records(&journal);
    let is_fill = |r: &serde_json::Value, maker: bool| {
        r["kind"] == "report" && r["event"] == "filled" && r["maker"] == maker
    };
    let first = |maker: bool| {
        original
            .iter()
            .position(|r| is_fill(r, maker))
            .expect("a fill of each kind")
    };
    let (maker, taker) = (first(true), first(false));
    let lie = |name: &str, change: &dyn Fn(&mut Vec<serde_json::Value>)| {
        let mut records = original.clone();
        change(&mut records);
        let file = dir.path().join(format!("{name}.journal"));
        write(&file, &records);
        let (passed, audit) = audit(&file, &data);
        assert!(!passed, "{name}: the audit passed a wrong journal");
        audit
    };
    // A maker fill an hour early (before the open): nothing reached it then.
    let early = lie("early", &|r| {
        let ts = r[maker]["venue_ts"].as_u64().unwrap();
        r[maker]["venue_ts"] = (ts - 3_600_000_000_000).into();
    });
    assert!(
        count(&early, "early_count") + count(&early, "unreachable_count") >= 1,
        "{early:#}"
    );
    // The same fill a second late: the market reached it before.
    let late = lie("late", &|r| {
        let ts = r[maker]["venue_ts"].as_u64().unwrap();
        r[maker]["venue_ts"] = (ts + 1_000_000_000).into();
    });
    assert_eq!(count(&late, "late_count"), 1, "{late:#}");
    // A fill dropped: volume that reached the order was never taken.
    let missed = lie("missed", &|r| {
        r.remove(maker);
    });
    assert_eq!(count(&missed, "missed_count"), 1, "{missed:#}");
    assert!(missed["missed_volume"].as_f64().unwrap() >= 1.0);
    // A taker fill a tick through the book: it did not show that price.
    let through = lie("through", &|r| {
        let price = r[taker]["price"].as_str().unwrap().to_string();
        let ticked = format!("{}", price.parse::<f64>().unwrap() + 10.0);
        r[taker]["price"] = ticked.into();
    });
    assert_eq!(count(&through, "unreachable_count"), 1, "{through:#}");
    assert_eq!(
        through["taker"]["right"].as_u64().unwrap() + 1,
        through["taker"]["fills"].as_u64().unwrap()
    );
}

#[test]
fn the_audit_refuses_what_it_cannot_judge_naming_it() {
    let Some(data) = shared_data(ES) else { return };
    let dir = tempfile::tempdir().unwrap();
    let run = |journal: &Path, data: &Path| {
        let out = tradsys(&[
            "journal",
            "audit",
            journal.to_str().unwrap(),
            data.to_str().unwrap(),
        ]);
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let none = dir.path().join("none.journal");
    std::fs::write(
        &none,
        "{\"seq\":1,\"ts\":0,\"kind\":\"end\",\"events\":0,\"batches\":0}\n",
    )
    .unwrap();
    let said = run(&none, &data.join(ES));
    assert!(
        said.contains("none.journal") && said.contains("no session record"),
        "{said}"
    );
    // A journal of the exchange venue: there is no feed to judge it by.
    let exchange = dir.path().join("exchange.journal");
    let session = |venue: &str| {
        format!(
            "{{\"seq\":1,\"ts\":0,\"kind\":\"session\",\"venue\":\"{venue}\",\"seed\":1,\"plugins\":[]}}\n"
        )
    };
    std::fs::write(&exchange, session("exchange")).unwrap();
    let said = run(&exchange, &data.join(ES));
    assert!(
        said.contains("simulated venue") && said.contains("exchange"),
        "{said}"
    );
    // Data that is not market by order, or not DBN at all.
    let simulated = dir.path().join("simulated.journal");
    std::fs::write(&simulated, session("simulated")).unwrap();
    let mbp = data.join("databento/test_data.mbp-1.dbn.zst");
    let said = run(&simulated, &mbp);
    assert!(
        said.contains("market-by-order") && said.contains("mbp-1"),
        "{said}"
    );
    let csv = data.join("eurusd-quotes-2020-01.csv");
    let said = run(&simulated, &csv);
    assert!(said.contains("eurusd-quotes-2020-01.csv"), "{said}");
}

/// Every exchange time stamp of the ES file.
fn event_times(data: &Path) -> std::collections::HashSet<u64> {
    use tradsys_data::dbn::decode::DecodeRecordRef;
    let file = data.join(ES);
    let (mut decoder, _) = tradsys_data::read::open(&file, ES).unwrap();
    let mut times = std::collections::HashSet::new();
    while let Ok(Some(record)) = decoder.decode_record_ref() {
        times.insert(record.header().ts_event);
    }
    times
}

#[test]
fn with_a_feed_latency_strategies_decide_that_long_after_an_exchange_event() {
    let Some(data) = shared_data(ES) else { return };
    let dir = plugin_dir_with(&SET);
    let journal = dir.path().join("feed.journal");
    let feed_ns = 1_000_000;
    let order_ns = 250_000;
    let extra = format!("[venue.latency]\nfeed_ns = {feed_ns}\norder_ns = {order_ns}\n");
    let report = es_session(dir.path(), &data, &extra, &journal);
    assert_eq!(typed(&report).stopped, None);
    let times = event_times(&data);
    let orders: Vec<serde_json::Value> = records(&journal)
        .into_iter()
        .filter(|r| r["kind"] == "order" && r["approved"] == true)
        .collect();
    assert!(orders.len() > 100, "{}", orders.len());
    for o in &orders {
        let decided = o["ts"].as_u64().unwrap();
        // A strategy's time is the exchange's time of the last event it saw
        // plus the feed latency; its order arrives the order latency later.
        assert!(
            times.contains(&(decided - feed_ns)),
            "order decided at {decided}: no exchange event {feed_ns} ns before"
        );
        assert_eq!(o["arrives"].as_u64().unwrap(), decided + order_ns, "{o}");
    }
    let (passed, audit) = audit(&journal, &data);
    assert!(passed, "{audit:#}");
}
