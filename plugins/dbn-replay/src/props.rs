//! Property tests of the connector over untrusted bytes: DBN files whose
//! records hold arbitrary values (every record type the mapping knows, with
//! the edge values of its fields), valid files with bytes flipped, set,
//! inserted, deleted or cut, and saved states. The mapping ([`map`]) and the
//! whole connector read them.
//!
//! Nothing panics, each call returns within a bounded time without growing
//! the heap past a cap, every error names the file, and an instrument's
//! definition comes before its first event. `PROPTEST_CASES` sets the
//! number of cases; `cargo xtask fuzz` runs many.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use tradsys_data::dbn::decode::DecodeRecordRef;
use tradsys_data::dbn::encode::dbn::Encoder;
use tradsys_data::dbn::{self, MetadataBuilder, SType, rtype};
use tradsys_data::read;
use tradsys_props::{ZSTD_HEAP_LIMIT, bounded, dbn_samples, mutated};
use tradsys_sdk::{Config, Connector as _, MarketEvent};

use crate::DbnReplay;
use crate::map::{self, Mapper};

// Files of arbitrary records.

/// Every record type the mapping knows (or skips): its rtype and size.
fn kinds() -> Vec<(u8, usize)> {
    use std::mem::size_of;
    vec![
        (rtype::MBO, size_of::<dbn::MboMsg>()),
        (rtype::MBP_0, size_of::<dbn::TradeMsg>()),
        (rtype::MBP_1, size_of::<dbn::Mbp1Msg>()),
        (rtype::MBP_10, size_of::<dbn::Mbp10Msg>()),
        (rtype::BBO_1S, size_of::<dbn::BboMsg>()),
        (rtype::CMBP_1, size_of::<dbn::Cmbp1Msg>()),
        (rtype::CBBO_1S, size_of::<dbn::CbboMsg>()),
        (rtype::OHLCV_1S, size_of::<dbn::OhlcvMsg>()),
        (rtype::OHLCV_1D, size_of::<dbn::OhlcvMsg>()),
        (rtype::OHLCV_EOD, size_of::<dbn::OhlcvMsg>()),
        (rtype::STATUS, size_of::<dbn::StatusMsg>()),
        (rtype::INSTRUMENT_DEF, size_of::<dbn::InstrumentDefMsg>()),
        (rtype::IMBALANCE, size_of::<dbn::ImbalanceMsg>()),
        (rtype::STATISTICS, size_of::<dbn::StatMsg>()),
        (rtype::SYSTEM, size_of::<dbn::SystemMsg>()),
        (0xee, 16),
    ]
}

/// Eight bytes of a record's body: mostly the edge values of its fields.
fn word() -> impl Strategy<Value = [u8; 8]> {
    let actions = b"AMCRFTN".iter().flat_map(|&a| {
        b"BAN"
            .iter()
            .map(move |&s| u64::from_le_bytes([1, 0, 0, 0, 0, 0, a, s]))
    });
    let edges: Vec<u64> = [
        0,
        1,
        u64::MAX,
        i64::MAX as u64,
        i64::MIN as u64,
        250_000_000,
        4_810_250_000_000,
        u64::from(u32::MAX),
    ]
    .into_iter()
    .chain(actions)
    .collect();
    prop_oneof![
        3 => prop::sample::select(edges),
        1 => any::<u64>(),
    ]
    .prop_map(u64::to_le_bytes)
}

/// One record: its length and rtype right, the header's instrument one of a
/// few and its time an edge value, the body made of [`word`]s.
fn record() -> impl Strategy<Value = Vec<u8>> {
    let ts = prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        1_700_000_000_000_000_000u64..1_800_000_000_000_000_000
    ];
    let body = prop::sample::select(kinds()).prop_flat_map(|kind| {
        (
            Just(kind),
            prop::collection::vec(word(), kind.1.div_ceil(8)),
        )
    });
    (body, 0u32..3, ts).prop_map(|(((rtype, size), words), instrument, ts)| {
        let mut bytes = vec![(size / 4) as u8, rtype, 1, 0];
        bytes.extend_from_slice(&instrument.to_le_bytes());
        bytes.extend_from_slice(&ts.to_le_bytes());
        bytes.extend(words.concat());
        bytes.truncate(size);
        bytes
    })
}

/// The metadata of a mixed-schema file, and no records.
fn metadata_only() -> Vec<u8> {
    let metadata = MetadataBuilder::new()
        .dataset("GLBX.MDP3")
        .schema(None)
        .start(1_703_462_400_000_000_000)
        .stype_in(Some(SType::RawSymbol))
        .stype_out(SType::InstrumentId)
        .build();
    let mut out = Vec::new();
    Encoder::new(&mut out, &metadata).expect("metadata encodes");
    out
}

/// A DBN file of arbitrary records.
fn arbitrary_file() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(record(), 1..12).prop_map(|records| {
        let mut bytes = metadata_only();
        bytes.extend(records.concat());
        bytes
    })
}

// What is checked.

/// A directory of its own for one case, removed when dropped.
struct CaseDir(PathBuf);

impl CaseDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dbn-replay-props-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a case directory");
        Self(dir)
    }
}

impl Drop for CaseDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every record of `bytes` (a `.dbn` file) through a mapper, as the
/// connector maps them: its tick inferred first. The events, in order.
fn mapped(bytes: Vec<u8>) -> Result<Vec<MarketEvent>, String> {
    bounded(ZSTD_HEAP_LIMIT, move || {
        let dir = CaseDir::new();
        let path = dir.0.join("case.dbn");
        std::fs::write(&path, &bytes).expect("the case is written");
        let mut mapper = Mapper {
            multiplier: 1,
            ..Mapper::default()
        };
        let (mut decoder, _) = read::open(&path, "case.dbn")?;
        let mut ticks = std::collections::BTreeMap::new();
        while let Ok(Some(record)) = decoder.decode_record_ref() {
            map::prices(&record, |id, price| {
                map::fold_tick(ticks.entry(id).or_insert(0), price);
            });
        }
        mapper.inferred_ticks.extend(ticks);
        let (mut decoder, _) = read::open(&path, "case.dbn")?;
        let mut out = Vec::new();
        while let Ok(Some(record)) = decoder.decode_record_ref() {
            let tbbo = record.header().rtype == rtype::MBP_1;
            mapper.map(&record, tbbo, &mut out);
        }
        Ok(out)
    })
}

/// What the mapping promises of its events.
fn kept_promises(events: &[MarketEvent]) -> Result<(), TestCaseError> {
    let mut defined = std::collections::BTreeSet::new();
    for event in events {
        match event {
            MarketEvent::Instrument(d) => {
                prop_assert!(d.tick_size > 0 && d.lot_size > 0, "{d:?}");
                prop_assert!(d.price_precision <= 9, "{d:?}");
                defined.insert(d.id);
            }
            other => prop_assert!(
                defined.contains(&other.instrument()),
                "{other:?} before its instrument's definition"
            ),
        }
        match event {
            MarketEvent::Bar(b) => prop_assert!(b.volume >= 0, "{b:?}"),
            MarketEvent::Quote(q) => prop_assert!(q.bid_size >= 0 && q.ask_size >= 0, "{q:?}"),
            MarketEvent::BookDelta(d) => prop_assert!(d.size >= 0, "{d:?}"),
            _ => {}
        }
    }
    Ok(())
}

/// `bytes` as the one file of a connector, replayed to its end: an error
/// names the file; the events keep the mapping's promises.
fn replayed(bytes: Vec<u8>, name: &'static str) -> Result<(), TestCaseError> {
    let (events, error) = bounded(ZSTD_HEAP_LIMIT, move || {
        let dir = CaseDir::new();
        std::fs::write(dir.0.join(name), &bytes).expect("the case is written");
        let mut replay = match DbnReplay::open(&dir.0, &Config::new([("file", name)])) {
            Ok(replay) => replay,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut events = Vec::new();
        loop {
            match replay.next_batch(64) {
                Ok(Some(batch)) => events.extend(batch),
                Ok(None) => return (events, None),
                Err(e) => return (events, Some(e)),
            }
        }
    });
    if let Some(error) = error {
        prop_assert!(error.contains(name), "`{error}` does not name {name}");
        let why = error.rsplit(": ").next().unwrap_or("");
        prop_assert!(!why.trim().is_empty(), "`{error}` gives no reason");
    }
    kept_promises(&events)
}

proptest! {
    #[test]
    fn arbitrary_records_map_without_a_panic_and_define_before_use(bytes in arbitrary_file()) {
        let events = mapped(bytes).map_err(TestCaseError::fail)?;
        kept_promises(&events)?;
    }

    #[test]
    fn a_file_of_arbitrary_records_replays_or_fails_naming_the_file(bytes in arbitrary_file()) {
        replayed(bytes, "case.dbn")?;
    }

    #[test]
    fn a_mutated_file_replays_or_fails_naming_the_file(
        bytes in arbitrary_file().prop_flat_map(mutated),
    ) {
        replayed(bytes, "case.dbn")?;
    }

    #[test]
    fn an_arbitrary_saved_state_is_refused_with_a_reason_never_a_panic(
        state in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            mutated(saved_state()),
        ],
    ) {
        let result = bounded(ZSTD_HEAP_LIMIT, move || {
            let dir = CaseDir::new();
            std::fs::write(dir.0.join("case.dbn"), sample_file()).expect("written");
            let config = Config::new([("file", "case.dbn")]);
            let mut replay = DbnReplay::open(&dir.0, &config).expect("a valid file opens");
            replay.load_state(&state)?;
            while replay.next_batch(7)?.is_some() {}
            Ok::<(), String>(())
        });
        if let Err(e) = result {
            prop_assert!(!e.trim().is_empty(), "an empty error");
        }
    }
}

/// A file of a few well-formed records, made here.
fn sample_file() -> Vec<u8> {
    let mut bytes = metadata_only();
    for (i, action) in [b'A', b'A', b'C', b'T'].into_iter().enumerate() {
        let msg = dbn::MboMsg {
            hd: dbn::RecordHeader::new::<dbn::MboMsg>(
                rtype::MBO,
                1,
                1,
                1_703_545_200_000_000_000 + i as u64,
            ),
            order_id: i as u64,
            price: 4_810_250_000_000,
            size: 2,
            action: action as std::ffi::c_char,
            side: b'B' as std::ffi::c_char,
            ..dbn::MboMsg::default()
        };
        bytes.extend_from_slice(dbn::RecordRef::from(&msg).as_ref());
    }
    bytes
}

/// The state of a connector over [`sample_file`] part way through.
fn saved_state() -> Vec<u8> {
    let dir = CaseDir::new();
    std::fs::write(dir.0.join("case.dbn"), sample_file()).expect("written");
    let mut replay =
        DbnReplay::open(&dir.0, &Config::new([("file", "case.dbn")])).expect("a valid file");
    replay.next_batch(2).expect("a batch");
    replay.save_state()
}

/// Mutations of every shared sample.
#[test]
fn a_mutated_shared_sample_replays_or_fails_naming_the_file() {
    let samples = dbn_samples();
    if samples.is_empty() {
        return;
    }
    let cases = (0..samples.len()).prop_flat_map(move |i| mutated(samples[i].clone()));
    proptest!(|(bytes in cases)| {
        replayed(bytes, "sample.dbn.zst")?;
    });
}

/// The extreme prices a damaged file may hold fold into a tick without a
/// panic (`i64::MIN % -1` panics even in release).
#[test]
fn a_tick_folds_from_the_extreme_prices() {
    let mut tick = 0;
    map::fold_tick(&mut tick, i64::MIN);
    assert_eq!(tick, 0, "2^63 is no tick");
    map::fold_tick(&mut tick, -500);
    map::fold_tick(&mut tick, i64::MIN);
    assert_eq!(tick, 4);
    map::fold_tick(&mut tick, -1);
    assert_eq!(tick, 1);
}
