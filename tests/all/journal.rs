//! The order journal: what a session writes, what `tradsys journal` reads
//! back, the digest, rotation, and a journal that cannot be written.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::common::{
    plugin_dir_with, plugins_dir, run_report, session_with, shared_data, tradsys, tradsys_run,
    typed, workspace_root,
};

/// The demo's session (every example plugin, `host/demo.toml`) writing a
/// journal into `dir`, with `extra` arguments: the report and the journal.
fn demo_with_journal(dir: &Path, extra: &[&str]) -> (serde_json::Value, PathBuf) {
    let journal = dir.join("demo.journal");
    let config = workspace_root().join("host/demo.toml");
    let mut args = vec![
        "--config",
        config.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    (run_report(&plugins_dir(), &args), journal)
}

fn summary(journal: &Path) -> serde_json::Value {
    let out = tradsys(&["journal", "summary", journal.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn records(journal: &Path, filter: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["journal", "show", journal.to_str().unwrap(), "--json"];
    args.extend_from_slice(filter);
    let out = tradsys(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `positions` sorted by instrument: the report lists them by instrument id,
/// the summary by symbol.
fn sorted(positions: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = positions
        .as_array()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    out.sort();
    out
}

#[test]
fn the_summary_of_a_sessions_journal_is_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let (report, journal) = demo_with_journal(dir.path(), &[]);
    let summary = summary(&journal);
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["digest"], report["journal"]["digest"]);
    assert_eq!(summary["records"], report["journal"]["records"]);
    assert_eq!(summary["events"], report["events"]);
    for key in [
        "submitted",
        "approved",
        "rejected",
        "rejections",
        "venue_rejections",
    ] {
        assert_eq!(
            summary["orders"][key], report["orders"][key],
            "orders.{key}"
        );
    }
    assert_eq!(summary["fills"], report["fills"]);
    let strategies = report["strategies"].as_array().unwrap();
    assert_eq!(
        summary["strategies"].as_array().unwrap().len(),
        strategies.len()
    );
    for (theirs, ours) in strategies
        .iter()
        .zip(summary["strategies"].as_array().unwrap())
    {
        let name = &theirs["name"];
        for key in [
            "name",
            "submitted",
            "approved",
            "rejected",
            "fills",
            "maker_fills",
            "taker_fills",
            "avg_queue_wait_ms",
            "passive_fill_ratio",
            "reachable_not_taken",
            "fees",
            "realized_pnl",
        ] {
            assert_eq!(ours[key], theirs[key], "{name}: {key}");
        }
        // The demo's market is by order: the audit beside the session judged
        // every fill, and none was wrong.
        assert_eq!(ours["reachable_not_taken"], 0.0, "{name}");
        assert_eq!(
            sorted(&ours["positions"]),
            sorted(&theirs["positions"]),
            "{name}: positions"
        );
    }
    // The demo trades: the comparison covers refusals, maker and taker fills.
    assert!(
        report["fills"].as_u64().unwrap() > 100,
        "{}",
        report["fills"]
    );
    assert!(
        !report["orders"]["rejections"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn every_order_carries_its_strategys_version_and_signer_every_verdict_and_its_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (report, journal) = demo_with_journal(dir.path(), &["--events", "5000"]);
    let all = records(&journal, &[]);
    let session = &all[0];
    assert_eq!(session["kind"], "session");
    let plugins = session["plugins"].as_array().unwrap();
    let validators = plugins
        .iter()
        .filter(|p| p["kind"] == "risk-validator")
        .count();
    let signer = report["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "market-maker")
        .unwrap()["signers"][0]
        .clone();
    assert!(signer.is_string(), "{signer}");
    assert_eq!(all.last().unwrap()["kind"], "end");
    // Records are numbered in order, and market time never goes back.
    for (n, pair) in all.windows(2).enumerate() {
        assert_eq!(pair[1]["seq"].as_u64().unwrap(), n as u64 + 2);
        assert!(pair[1]["ts"].as_u64() >= pair[0]["ts"].as_u64());
    }
    let orders: Vec<_> = all.iter().filter(|r| r["kind"] == "order").collect();
    assert_eq!(
        orders.len() as u64,
        report["orders"]["submitted"].as_u64().unwrap()
    );
    for order in &orders {
        if order["rejection"]["by"] == "host" {
            assert!(order["verdicts"].as_array().unwrap().is_empty(), "{order}");
        } else {
            assert_eq!(
                order["verdicts"].as_array().unwrap().len(),
                validators,
                "{order}"
            );
        }
        assert_eq!(order["approved"], order["host_id"].is_u64(), "{order}");
    }

    // One strategy's order, from its submit to its last report.
    let first = orders
        .iter()
        .find(|o| o["strategy"] == "market-maker" && o["approved"] == true)
        .unwrap();
    assert_eq!(
        first["version"],
        crate::common::shipped_version("market-maker")
    );
    assert_eq!(first["signers"][0], signer);
    let id = first["id"].as_u64().unwrap().to_string();
    let one = records(&journal, &["--strategy", "market-maker", "--order", &id]);
    assert_eq!(one[0], **first);
    assert!(one.len() >= 2, "{one:?}");
    let accepted = one.iter().find(|r| r["event"] == "accepted").unwrap();
    assert_eq!(accepted["host_id"], first["host_id"]);
    assert!(
        accepted["queue_ahead"].is_string(),
        "sim-venue queues: {accepted}"
    );
    let by_host = records(&journal, &["--host-order", &first["host_id"].to_string()]);
    assert_eq!(by_host, one);

    // A maker fill says how long it waited and what it left the strategy holding.
    let fill = all
        .iter()
        .find(|r| r["event"] == "filled" && r["maker"] == true)
        .unwrap();
    for key in [
        "price",
        "quantity",
        "leaves",
        "fee",
        "position",
        "average_price",
        "realized_pnl",
    ] {
        assert!(fill[key].is_string(), "{key}: {fill}");
    }
    assert!(fill["queue_wait_ns"].is_u64(), "{fill}");

    // The text form: one line per record.
    let out = tradsys(&[
        "journal",
        "show",
        journal.to_str().unwrap(),
        "--strategy",
        "market-maker",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().all(|l| l.contains("market-maker")), "{text}");
    assert!(text.contains("submit #"), "{text}");
}

#[test]
fn a_journal_is_never_overwritten_and_a_cut_last_line_is_ignored_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (_, journal) = demo_with_journal(dir.path(), &["--events", "2000"]);
    let before = std::fs::read(&journal).unwrap();
    let again = tradsys_run(
        &plugins_dir(),
        &["--events", "100", "--journal", journal.to_str().unwrap()],
    );
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(&format!("journal {}", journal.display())),
        "{stderr}"
    );
    assert!(stderr.contains("never overwritten"), "{stderr}");
    assert_eq!(std::fs::read(&journal).unwrap(), before);

    // A crash in the middle of writing the last line.
    std::fs::write(&journal, &before[..before.len() - 10]).unwrap();
    let out = tradsys(&["journal", "summary", journal.to_str().unwrap()]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the last line is cut short"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("INCOMPLETE"), "{stdout}");

    // Anything else wrong is an error naming the file and line.
    let mut text = String::from_utf8(before).unwrap();
    text.insert_str(text.find('\n').unwrap() + 1, "{\"seq\": \"one\"}\n");
    std::fs::write(&journal, text).unwrap();
    let out = tradsys(&["journal", "show", journal.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:2: not a journal record", journal.display())),
        "{stderr}"
    );
}

#[test]
fn a_long_journal_rotates_into_numbered_files_read_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rotate.toml");
    let demo = std::fs::read_to_string(workspace_root().join("host/demo.toml")).unwrap();
    std::fs::write(
        &config,
        format!("[run]\njournal_max_bytes = 100000\n\n{demo}"),
    )
    .unwrap();
    let journal = dir.path().join("long.journal");
    let report = run_report(
        &plugins_dir(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
            "--events",
            "5000",
        ],
    );
    let files = report["journal"]["files"].as_array().unwrap();
    assert!(files.len() > 2, "{files:?}");
    assert_eq!(
        files[1].as_str().unwrap(),
        format!("{}.1", journal.display())
    );
    for file in files {
        let size = std::fs::metadata(file.as_str().unwrap()).unwrap().len();
        // A file ends before the record that would pass the limit.
        assert!(size <= 100_000, "{file}: {size} bytes");
    }
    let summary = summary(&journal);
    assert_eq!(summary["files"].as_array().unwrap().len(), files.len());
    assert_eq!(summary["digest"], report["journal"]["digest"]);
    assert_eq!(
        summary["orders"]["submitted"],
        report["orders"]["submitted"]
    );
}

#[test]
fn a_lying_matchers_fault_and_the_halt_are_in_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("halt.journal");
    let toml = format!(
        "[run]\nconnector = \"hostile-connector\"\nbatch_size = 1\njournal = \"{}\"\n\n\
         [plugins.hostile-connector]\nconfig = {{ fail_at = 0, lie = \"none\" }}\n\n\
         [plugins.hostile]\nconfig = {{ mode = \"count\" }}\n\n\
         [plugins.lying-matcher]\nconfig = {{ lie = \"overfill\", at = 3, rest_every = 2 }}\n",
        journal.display()
    );
    let report = session_with(
        &[
            "test:hostile-connector",
            "test:lying-matcher",
            "test:hostile",
        ],
        &toml,
        "20",
    );
    let halted = report["halted"].as_str().unwrap();
    let all = records(&journal, &[]);
    let fault = all.iter().find(|r| r["kind"] == "fault").unwrap();
    assert_eq!(fault["plugin"], "lying-matcher");
    assert_eq!(fault["fault"], "contract");
    let halt = all.iter().find(|r| r["kind"] == "halt").unwrap();
    assert_eq!(halt["reason"], halted);
    assert!(
        halted.contains(
            fault["message"]
                .as_str()
                .unwrap()
                .split(": ")
                .last()
                .unwrap()
        )
    );
    // The halt cancels the working order and refuses what comes after.
    let after: Vec<_> = all
        .iter()
        .filter(|r| r["seq"].as_u64() > halt["seq"].as_u64())
        .collect();
    assert!(after.iter().any(|r| r["event"] == "canceled"), "{after:?}");
    assert!(
        after
            .iter()
            .any(|r| r["kind"] == "order" && r["rejection"]["reason"] == "instrument-halted"),
        "{after:?}"
    );
    let summary = summary(&journal);
    assert_eq!(summary["halted"], halted);
    assert_eq!(summary["faults"]["lying-matcher"]["contract"], 1);
    assert_eq!(
        summary["orders"]["rejections"],
        report["orders"]["rejections"]
    );
}

#[test]
fn a_journal_that_cannot_be_written_stops_the_session_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipping: no mkfifo");
        return;
    }
    // A reader that takes the header and goes away: the next write fails.
    let reader = std::thread::spawn({
        let fifo = fifo.clone();
        move || {
            let mut file = std::fs::File::open(&fifo).unwrap();
            let mut header = [0u8; 16];
            file.read_exact(&mut header).unwrap();
        }
    });
    let dir_plugins = plugin_dir_with(&[
        "synthetic-market",
        "fifo-matcher",
        "momentum",
        "market-maker",
    ]);
    let out = tradsys_run(
        dir_plugins.path(),
        &["--events", "20000", "--journal", fifo.to_str().unwrap()],
    );
    reader.join().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("error: journal {}: ", fifo.display())),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("stopped early: journal"), "{stdout}");
    assert!(stdout.contains("JOURNAL INCOMPLETE"), "{stdout}");
    let events: u64 = stdout
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(events < 20_000, "the session stopped early: {stdout}");

    let full = tradsys_run(
        dir_plugins.path(),
        &["--events", "100", "--journal", "/dev/full"],
    );
    assert!(!full.status.success());
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert!(stderr.contains("journal /dev/full: "), "{stderr}");
}

#[test]
fn decoding_ahead_and_in_chunks_journals_what_one_thread_batch_by_batch_does() {
    // The demo's market and plugins, a budget that ends inside a batch,
    // and small batches (many hand-overs between the threads). The
    // connector is asked for 255 events a call (51 batches) or for one
    // batch (5), on a second thread or on the session's.
    let demo = std::fs::read_to_string(workspace_root().join("host/demo.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, ahead: bool, chunk: u32| {
        let config = dir.path().join(format!("{name}.toml"));
        let run = format!(
            "[run]\nevents = 7003\nbatch_size = 5\ndecode_ahead = {ahead}\nconnector_chunk = {chunk}\n"
        );
        std::fs::write(&config, format!("{run}{demo}")).unwrap();
        let journal = dir.path().join(format!("{name}.journal"));
        let args = [
            "--config",
            config.to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
        ];
        let report = run_report(&plugins_dir(), &args);
        assert_eq!(typed(&report).stopped, None);
        report
    };
    let connector_calls = |report: &serde_json::Value| {
        report["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "synthetic-market")
            .map(|p| p["calls"].as_u64().unwrap())
            .unwrap()
    };
    let reference = run("one-thread-by-batch", false, 5);
    assert_eq!(reference["events"], 7003);
    assert!(reference["orders"]["submitted"].as_u64().unwrap() > 50);
    for (name, ahead, chunk) in [
        ("ahead-by-batch", true, 5),
        ("ahead-in-chunks", true, 255),
        ("one-thread-in-chunks", false, 258),
    ] {
        let report = run(name, ahead, chunk);
        assert_eq!(
            report["journal"]["digest"], reference["journal"]["digest"],
            "{name}"
        );
        assert_eq!(report["batches"], reference["batches"], "{name}");
        if chunk > 5 {
            // 27 chunks of 255, then batch by batch: 24 and a last of 3
            // (the calls count the connector's init and its state saves
            // too, so compare with the run batch by batch).
            assert!(
                connector_calls(&report) + 1_000 < connector_calls(&reference),
                "{name}: {} calls against {}",
                connector_calls(&report),
                connector_calls(&reference)
            );
        }
    }
}

#[test]
fn two_replays_of_the_es_day_journal_the_same_digest_and_a_validators_config_changes_it() {
    let Some(data) = shared_data("esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    let dir = plugin_dir_with(&[
        "dbn-replay",
        "sim-venue",
        "ma-crossover",
        "momentum",
        "market-maker",
        "max-notional",
        "price-collar",
    ]);
    let file = data.join("esh4-glbx-mdp3-20231225.mbo.dbn.zst");
    let sized = std::fs::read_to_string(workspace_root().join("host/es-replay.toml")).unwrap();
    let replay = |name: &str, config_text: &str| {
        let config = dir.path().join(format!("{name}.toml"));
        std::fs::write(&config, config_text).unwrap();
        let journal = dir.path().join(format!("{name}.journal"));
        let report = run_report(
            dir.path(),
            &[
                "--config",
                config.to_str().unwrap(),
                "--replay",
                file.to_str().unwrap(),
                "--journal",
                journal.to_str().unwrap(),
            ],
        );
        assert_eq!(typed(&report).stopped, None);
        report
    };
    let first = replay("first", &sized);
    let second = replay("second", &sized);
    let digest = |r: &serde_json::Value| r["journal"]["digest"].as_str().unwrap().to_string();
    assert!(first["orders"]["submitted"].as_u64().unwrap() > 100);
    assert_eq!(digest(&first), digest(&second));
    // The connector decoding on the session's own thread (the first two
    // decoded ahead on a second one): the same journal.
    let one_thread = replay(
        "one-thread",
        &format!("[run]\ndecode_ahead = false\n{sized}"),
    );
    assert_eq!(digest(&first), digest(&one_thread));
    // A tighter collar refuses orders the first runs sent.
    let tighter = sized.replace(
        "[plugins.price-collar]\nconfig = { band_bps = 20 }",
        "[plugins.price-collar]\nconfig = { band_bps = 1 }",
    );
    assert_ne!(tighter, sized);
    let third = replay("third", &tighter);
    assert_ne!(digest(&first), digest(&third));
}
