use super::*;
use tradsys_sdk::book::{Level, OrderBook, Side as BookSide};
use tradsys_sdk::{BookAction, BookFlags, Side};

/// `../shared/data` beside the checkout, if it is there.
fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/data (the recorded market data) is absent");
        None
    }
}

fn replay(base: &Path, config: &[(&str, &str)]) -> Result<DbnReplay, String> {
    DbnReplay::open(base, &Config::new(config.iter().copied()))
}

fn drain(r: &mut DbnReplay, max: usize) -> Vec<MarketEvent> {
    let mut events = Vec::new();
    while let Some(batch) = r.next_batch(max).unwrap() {
        assert!(batch.len() <= max);
        events.extend(batch);
    }
    events
}

fn kind(e: &MarketEvent) -> &'static str {
    match e {
        MarketEvent::Instrument(_) => "instrument",
        MarketEvent::Quote(_) => "quote",
        MarketEvent::Trade(_) => "trade",
        MarketEvent::Bar(_) => "bar",
        MarketEvent::BookDelta(_) => "delta",
        MarketEvent::Depth(_) => "depth",
        MarketEvent::Status(_) => "status",
        MarketEvent::Signal(_) => "signal",
    }
}

#[test]
fn every_sample_schema_decodes_into_its_events() {
    let Some(data) = shared() else { return };
    let base = data.join("databento");
    // (file, the kinds of events it must produce, data events at least)
    let cases = [
        ("test_data.mbo.dbn.zst", &["delta"][..], 2),
        ("test_data.mbp-1.dbn.zst", &["quote"][..], 1),
        ("test_data.mbp-10.dbn.zst", &["depth"][..], 2),
        ("test_data.tbbo.dbn.zst", &["quote", "trade"][..], 3),
        ("test_data.bbo-1s.dbn.zst", &["quote"][..], 1),
        ("test_data.cmbp-1.dbn.zst", &["quote"][..], 1),
        ("test_data.trades.dbn.zst", &["trade"][..], 2),
        ("test_data.ohlcv-1s.dbn.zst", &["bar"][..], 2),
        ("test_data.ohlcv-1m.dbn.zst", &["bar"][..], 2),
        ("test_data.ohlcv-1h.dbn.zst", &["bar"][..], 2),
        ("test_data.status.dbn.zst", &["status"][..], 1),
    ];
    for (file, kinds, at_least) in cases {
        let mut r = replay(&base, &[("file", file)]).unwrap_or_else(|e| panic!("{file}: {e}"));
        let events = drain(&mut r, 3);
        let MarketEvent::Instrument(def) = &events[0] else {
            panic!("{file}: the first event is not a definition: {events:?}")
        };
        assert!(
            def.tick_size > 0 && !def.symbol.is_empty(),
            "{file}: {def:?}"
        );
        let data: Vec<&str> = events
            .iter()
            .map(kind)
            .filter(|k| *k != "instrument")
            .collect();
        assert!(data.len() >= at_least, "{file}: {data:?}");
        for k in kinds {
            assert!(data.contains(k), "{file}: no {k} in {data:?}");
        }
        assert!(data.iter().all(|k| kinds.contains(k)), "{file}: {data:?}");
    }
    let empty = drain(
        &mut replay(&base, &[("file", "test_data.ohlcv-1d.dbn.zst")]).unwrap(),
        5,
    );
    assert!(
        empty.is_empty(),
        "the empty file replays nothing: {empty:?}"
    );
}

#[test]
fn a_definitions_file_defines_the_instrument_with_its_tick_and_multiplier() {
    let Some(data) = shared() else { return };
    let base = data.join("databento");
    let r = replay(
        &base,
        &[("file", "test_data.definition.futures_contract.dbn.zst")],
    )
    .unwrap();
    let def = r
        .mapper
        .definitions
        .values()
        .next()
        .expect("one definition");
    assert!(def.tick_size > 0 && def.multiplier > 0, "{def:?}");
    assert_eq!(def.price_precision, map::precision(def.tick_size));
    let es = replay(&data, &[("file", "definition-glbx-es-fut.dbn.zst")]).unwrap();
    let def = es
        .mapper
        .definitions
        .values()
        .next()
        .expect("the ES definition");
    assert_eq!(
        (def.tick_size, def.multiplier),
        (fixed::SCALE / 4, 50),
        "{def:?}"
    );
}

#[test]
fn the_es_day_replays_into_the_book_the_data_readme_states() {
    let Some(data) = shared() else { return };
    let mut r = replay(&data, &[("file", "esh4-glbx-mdp3-20231225.mbo.dbn.zst")]).unwrap();
    let mut book = OrderBook::new();
    let mut definition = None;
    let (mut deltas, mut trades) = (0, 0);
    while let Some(batch) = r.next_batch(512).unwrap() {
        for event in batch {
            match event {
                MarketEvent::Instrument(d) => definition = Some(d),
                MarketEvent::Trade(_) => trades += 1,
                MarketEvent::BookDelta(d) => {
                    deltas += 1;
                    let side = match d.side {
                        Side::Buy => BookSide::Buy,
                        Side::Sell => BookSide::Sell,
                    };
                    match d.action {
                        BookAction::Add => book.add(d.order_id, side, d.price, d.size),
                        BookAction::Modify => book.modify(d.order_id, side, d.price, d.size),
                        BookAction::Cancel => {
                            book.cancel(d.order_id, d.size);
                        }
                        BookAction::Clear => book.clear(),
                        BookAction::Fill => {}
                    }
                }
                other => panic!("an MBO file gave {other:?}"),
            }
        }
    }
    let def = definition.expect("a definition");
    assert_eq!(def.symbol, "ESH4");
    assert_eq!(def.tick_size, fixed::SCALE / 4, "inferred from the prices");
    // Every record is an event but the fills that name no side (the
    // aggressor's, which change no book): skipped and counted.
    let sideless = r
        .skipped()
        .get("mbo F without a side")
        .copied()
        .unwrap_or(0);
    assert_eq!((deltas + sideless, trades), (68_792 - 2_973, 2_973));
    assert!(sideless < 100, "{sideless} fills without a side");
    assert_eq!(book.resting_orders(), 11_217);
    let lots = |levels: Vec<Level>| -> Vec<(String, i64)> {
        levels
            .iter()
            .map(|l| (fixed::format(l.price, 2), l.size / fixed::SCALE))
            .collect()
    };
    let (bids, asks) = book.depth(5);
    let want = |v: [(&str, i64); 5]| v.map(|(p, n)| (p.to_string(), n)).to_vec();
    assert_eq!(
        lots(bids),
        want([
            ("4810.00", 22),
            ("4809.75", 47),
            ("4809.50", 50),
            ("4809.25", 60),
            ("4809.00", 85)
        ])
    );
    assert_eq!(
        lots(asks),
        want([
            ("4810.25", 28),
            ("4810.50", 40),
            ("4810.75", 41),
            ("4811.00", 60),
            ("4811.25", 65)
        ])
    );
}

#[test]
fn no_group_of_the_es_day_is_cut_when_batches_end_at_last_flags() {
    // The connector fills batches to `max`; the host holds back an
    // unfinished group. Here: the flags are there to do it with.
    let Some(data) = shared() else { return };
    let mut r = replay(&data, &[("file", "esh4-glbx-mdp3-20231225.mbo.dbn.zst")]).unwrap();
    let events = drain(&mut r, 1000);
    let last = events.iter().rev().find_map(|e| match e {
        MarketEvent::BookDelta(d) => Some(d.flags),
        _ => None,
    });
    assert!(last.is_some_and(|f| f.contains(BookFlags::LAST)));
    let snapshot = events
        .iter()
        .filter(|e| matches!(e, MarketEvent::BookDelta(d) if d.flags.contains(BookFlags::SNAPSHOT)))
        .count();
    assert!(snapshot > 0, "the day opens with a snapshot");
}

#[test]
fn a_restarted_instance_resumes_at_the_exact_record() {
    let Some(data) = shared() else { return };
    let config = [("file", "esh4-glbx-mdp3-20231225.mbo.dbn.zst")];
    let whole = drain(&mut replay(&data, &config).unwrap(), 777);
    let mut first = replay(&data, &config).unwrap();
    let mut events = Vec::new();
    for _ in 0..40 {
        events.extend(first.next_batch(777).unwrap().unwrap());
    }
    let state = first.save_state();
    let mut second = replay(&data, &config).unwrap();
    second.load_state(&state).unwrap();
    events.extend(drain(&mut second, 777));
    assert_eq!(events.len(), whole.len());
    assert!(
        format!("{events:?}") == format!("{whole:?}"),
        "the resumed stream differs"
    );
}

#[test]
fn bad_files_and_configs_are_named() {
    let dir = std::env::temp_dir().join(format!("dbn-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = |config: &[(&str, &str)]| replay(&dir, config).err().expect("an error");
    assert!(err(&[("file", "missing.dbn")]).contains("missing.dbn"));
    std::fs::write(dir.join("notes.csv"), "x").unwrap();
    assert!(err(&[("file", "notes.csv")]).contains("not a DBN file"));
    std::fs::write(dir.join("junk.dbn"), b"this is not DBN at all").unwrap();
    let junk = err(&[("file", "junk.dbn")]);
    assert!(
        junk.starts_with("junk.dbn: not a readable DBN file"),
        "{junk}"
    );
    assert!(err(&[("file", "../etc")]).contains("relative to /data"));
    assert!(err(&[("file", "junk.dbn"), ("schema", "bogus")]).contains("not a DBN schema"));
    if let Some(data) = shared() {
        // A truncated file: the session ends with the file and the offset.
        let whole = std::fs::read(data.join("esh4-glbx-mdp3-20231225.mbo.dbn.zst")).unwrap();
        std::fs::write(dir.join("cut.dbn.zst"), &whole[..whole.len() / 2]).unwrap();
        let mut cut = replay(&dir, &[("file", "cut.dbn.zst")]).unwrap();
        let failure = loop {
            match cut.next_batch(1000) {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("a truncated file ended cleanly"),
                Err(e) => break e,
            }
        };
        assert!(
            failure.starts_with("cut.dbn.zst: corrupt or truncated at byte "),
            "{failure}"
        );
        // Another schema than the one asked for.
        let mbo = data.join("databento/test_data.mbo.dbn.zst");
        std::fs::copy(&mbo, dir.join("a.mbo.dbn.zst")).unwrap();
        let wrong = err(&[("file", "a.mbo.dbn.zst"), ("schema", "mbp-10")]);
        assert!(
            wrong.contains("a.mbo.dbn.zst: holds mbo records, but config `schema` is mbp-10"),
            "{wrong}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
