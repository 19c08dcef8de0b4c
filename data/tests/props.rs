//! Property tests of reading DBN files from untrusted bytes: arbitrary bytes,
//! arbitrary bytes behind a DBN prelude, and valid files (one made here, and
//! the shared samples when they are there) with bytes flipped, set, inserted,
//! deleted or cut, each as `.dbn` and as `.dbn.zst`.
//!
//! Opening, reading every record and `inspect` never panic, return within a
//! bounded time, never grow the heap past a cap (a length field is not
//! believed before its bytes are there), and every error names the file and
//! what was wrong. `PROPTEST_CASES` sets the number of cases; `cargo xtask
//! fuzz` runs many.

use std::ffi::c_char;
use std::path::Path;

use proptest::prelude::*;
use tradsys_data::dbn::decode::{DbnMetadata, DecodeRecordRef};
use tradsys_data::dbn::encode::{EncodeRecord, dbn::Encoder};
use tradsys_data::dbn::{
    self, FlagSet, InstrumentDefMsg, MappingInterval, MboMsg, Mbp1Msg, MetadataBuilder, OhlcvMsg,
    RecordHeader, SType, Schema, StatusMsg, SymbolMapping, TradeMsg, rtype,
};
use tradsys_data::{inspect, read};
use tradsys_props::{ZSTD_HEAP_LIMIT, bounded, dbn_samples, mutated};

// Valid inputs.

fn header<R: dbn::HasRType>(rtype: u8, ts: u64) -> RecordHeader {
    RecordHeader::new::<R>(rtype, 1, 42, ts)
}

/// A small mixed-schema DBN file with symbol mappings and one record of each
/// kind `inspect` tells apart.
fn valid_dbn() -> Vec<u8> {
    let date = |day| time::Date::from_calendar_date(2023, time::Month::December, day).unwrap();
    let metadata = MetadataBuilder::new()
        .dataset("GLBX.MDP3")
        .schema(None)
        .start(1_703_462_400_000_000_000)
        .stype_in(Some(SType::RawSymbol))
        .stype_out(SType::InstrumentId)
        .symbols(vec!["ESH4".to_owned()])
        .mappings(vec![SymbolMapping {
            raw_symbol: "ESH4".to_owned(),
            intervals: vec![MappingInterval {
                start_date: date(25),
                end_date: date(26),
                symbol: "42".to_owned(),
            }],
        }])
        .build();
    let ts = 1_703_545_200_000_000_000;
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, &metadata).expect("metadata encodes");
    for (i, action) in [b'A', b'C'].into_iter().enumerate() {
        encoder
            .encode_record(&MboMsg {
                hd: header::<MboMsg>(rtype::MBO, ts + i as u64),
                order_id: 7,
                price: 4_810_250_000_000,
                size: 3,
                flags: FlagSet::new(0x80),
                action: action as c_char,
                side: b'B' as c_char,
                ..MboMsg::default()
            })
            .expect("an MBO record encodes");
    }
    encoder
        .encode_record(&TradeMsg {
            hd: header::<TradeMsg>(rtype::MBP_0, ts + 2),
            price: 4_810_500_000_000,
            size: 1,
            action: b'T' as c_char,
            side: b'A' as c_char,
            ..TradeMsg::default()
        })
        .expect("a trade encodes");
    encoder
        .encode_record(&Mbp1Msg {
            hd: header::<Mbp1Msg>(rtype::MBP_1, ts + 3),
            ..Mbp1Msg::default()
        })
        .expect("an MBP-1 record encodes");
    let mut bar = OhlcvMsg::default_for_schema(Schema::Ohlcv1M);
    bar.hd = header::<OhlcvMsg>(rtype::OHLCV_1M, ts + 4);
    encoder.encode_record(&bar).expect("a bar encodes");
    encoder
        .encode_record(&StatusMsg {
            hd: header::<StatusMsg>(rtype::STATUS, ts + 5),
            ..StatusMsg::default()
        })
        .expect("a status encodes");
    encoder
        .encode_record(&InstrumentDefMsg {
            hd: header::<InstrumentDefMsg>(rtype::INSTRUMENT_DEF, ts + 6),
            min_price_increment: 250_000_000,
            ..InstrumentDefMsg::default()
        })
        .expect("a definition encodes");
    out
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// Every frame of a zstd stream, unpacked.
fn unzstd(mut packed: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while !packed.is_empty() {
        let mut frame = ruzstd::decoding::StreamingDecoder::new(&mut packed).expect("a zstd frame");
        std::io::Read::read_to_end(&mut frame, &mut out).expect("the frame unpacks");
    }
    out
}

// What is checked.

/// What reading a file gave: its records, or the error.
type Outcome = Result<u64, String>;

/// `bytes` in a file shown as `shown`: opened, its metadata and symbols
/// read, every record decoded and converted, and the stop checked; then
/// `inspect`. Both outcomes, within the bounds.
fn read_all(bytes: Vec<u8>, shown: &'static str) -> (Outcome, Outcome) {
    bounded(ZSTD_HEAP_LIMIT, move || {
        let file = tempfile::NamedTempFile::new().expect("a temporary file");
        std::fs::write(file.path(), &bytes).expect("the case is written");
        let path = file.path();
        (records(path, shown), inspected(path, shown))
    })
}

fn records(path: &Path, shown: &str) -> Outcome {
    let metadata = read::metadata(path, shown)?;
    let (mut decoder, offset) = read::open(path, shown)?;
    assert_eq!(
        decoder.metadata(),
        &metadata,
        "the same file gives the same metadata"
    );
    read::symbols(&metadata);
    let mut count = 0u64;
    loop {
        match decoder.decode_record_ref() {
            Ok(Some(record)) => {
                count += 1;
                let _ = record.header().ts_event;
                let _ = read::as_enum(&record);
            }
            Ok(None) => match read::stopped(shown, &offset, count, None) {
                Some(damage) => return Err(damage),
                None => return Ok(count),
            },
            Err(e) => {
                return Err(read::stopped(shown, &offset, count, Some(&e))
                    .expect("a decoder error is a stop"));
            }
        }
    }
}

fn inspected(path: &Path, shown: &str) -> Outcome {
    inspect::inspect(path, shown).map(|summary| {
        summary.to_string();
        summary.total()
    })
}

/// Each error names the file, says it is DBN it could not read, and why.
fn check(outcome: &(Outcome, Outcome), shown: &str) -> Result<(), TestCaseError> {
    for error in [&outcome.0, &outcome.1]
        .into_iter()
        .filter_map(|o| o.as_ref().err())
    {
        prop_assert!(error.starts_with(&format!("{shown}: ")), "{error}");
        prop_assert!(
            error.contains("not a readable DBN file") || error.contains("corrupt or truncated"),
            "{error}"
        );
        let why = error.rsplit(": ").next().unwrap_or("");
        prop_assert!(!why.trim().is_empty(), "no reason: {error}");
    }
    if let (Ok(records), Ok(inspected)) = outcome {
        prop_assert_eq!(records, inspected, "inspect counts every record");
    }
    Ok(())
}

/// Bytes that start like a DBN file: the prelude with any version and a
/// metadata length that is often far larger than the file.
fn behind_a_prelude() -> impl Strategy<Value = Vec<u8>> {
    let length = prop_oneof![0u32..512, Just(0x7fff_ffff), Just(u32::MAX), any::<u32>(),];
    (0u8..6, length, prop::collection::vec(any::<u8>(), 0..512)).prop_map(
        |(version, length, rest)| {
            let mut bytes = b"DBN".to_vec();
            bytes.push(version);
            bytes.extend_from_slice(&length.to_le_bytes());
            bytes.extend_from_slice(&rest);
            bytes
        },
    )
}

#[test]
fn the_valid_file_made_here_reads_whole() {
    let plain = read_all(valid_dbn(), "made.dbn");
    assert_eq!(plain, (Ok(7), Ok(7)));
    let compressed = read_all(zstd(&valid_dbn()), "made.dbn.zst");
    assert_eq!(compressed, (Ok(7), Ok(7)));
}

/// Where the records of [`valid_dbn`] start: after the prelude and metadata.
fn first_record(bytes: &[u8]) -> usize {
    8 + u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize
}

#[test]
fn a_metadata_length_past_the_end_is_refused_before_it_is_allocated() {
    let mut bytes = valid_dbn();
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let (records, inspected) = read_all(bytes, "huge.dbn");
    let error = records.unwrap_err();
    assert!(
        error.starts_with("huge.dbn: not a readable DBN file (at byte ")
            && error.contains("the metadata claims 4294967295 bytes"),
        "{error}"
    );
    assert_eq!(inspected, Err(error));
}

#[test]
fn a_record_length_off_the_8_byte_grid_ends_the_file_as_damage() {
    let mut bytes = valid_dbn();
    let first = first_record(&bytes);
    assert_eq!(bytes[first], 14, "an MBO record: 56 bytes in words of 4");
    bytes[first] = 15;
    let (records, inspected) = read_all(bytes, "odd.dbn");
    let error = records.unwrap_err();
    assert!(
        error.starts_with("odd.dbn: corrupt or truncated at byte ")
            && error.ends_with(
                "(after record 0): a record of 60 bytes, not a whole number of 8-byte words"
            ),
        "{error}"
    );
    assert_eq!(inspected, Err(error));
}

#[test]
fn a_record_shorter_than_its_type_is_counted_not_read_past() {
    let valid = valid_dbn();
    let first = first_record(&valid);
    let mut bytes = valid[..first].to_vec();
    // An MBO record cut to 48 of its 56 bytes, its length saying so.
    bytes.extend_from_slice(&valid[first..first + 48]);
    bytes[first] = 12;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &bytes).unwrap();
    let summary = inspect::inspect(file.path(), "short.dbn").unwrap();
    assert_eq!(
        summary.records.into_iter().collect::<Vec<_>>(),
        [("unknown or short record type 0xa0".to_owned(), 1)]
    );
    let (mut decoder, _) = read::open(file.path(), "short.dbn").unwrap();
    let record = decoder.decode_record_ref().unwrap().unwrap();
    let error = read::as_enum(&record).unwrap_err().to_string();
    assert!(error.contains("has 48 bytes, its type needs 56"), "{error}");
}

proptest! {
    #[test]
    fn arbitrary_bytes_are_refused_with_a_reason_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        compressed in any::<bool>(),
    ) {
        let shown = if compressed { "case.dbn.zst" } else { "case.dbn" };
        check(&read_all(bytes, shown), shown)?;
    }

    #[test]
    fn a_huge_or_short_metadata_length_is_refused_before_it_is_allocated(
        bytes in behind_a_prelude(),
        compressed in any::<bool>(),
    ) {
        let (bytes, shown) = if compressed {
            (zstd(&bytes), "case.dbn.zst")
        } else {
            (bytes, "case.dbn")
        };
        check(&read_all(bytes, shown), shown)?;
    }

    #[test]
    fn a_mutated_dbn_file_reads_or_is_refused_with_a_reason(bytes in mutated(valid_dbn())) {
        check(&read_all(bytes, "case.dbn"), "case.dbn")?;
    }

    #[test]
    fn a_mutated_dbn_file_behind_zstd_reads_or_is_refused_with_a_reason(
        bytes in mutated(valid_dbn()),
    ) {
        check(&read_all(zstd(&bytes), "case.dbn.zst"), "case.dbn.zst")?;
    }

    #[test]
    fn a_mutated_zstd_stream_reads_or_is_refused_with_a_reason(
        bytes in mutated(zstd(&valid_dbn())),
    ) {
        check(&read_all(bytes, "case.dbn.zst"), "case.dbn.zst")?;
    }
}

/// Mutations of every shared sample, compressed as they are and unpacked.
#[test]
fn a_mutated_shared_sample_reads_or_is_refused_with_a_reason() {
    let samples = dbn_samples();
    if samples.is_empty() {
        return;
    }
    let unpacked: Vec<Vec<u8>> = samples.iter().map(|s| unzstd(s)).collect();
    let cases = (0..samples.len()).prop_flat_map(move |i| {
        prop_oneof![
            mutated(samples[i].clone()).prop_map(|b| (b, "sample.dbn.zst")),
            mutated(unpacked[i].clone()).prop_map(|b| (b, "sample.dbn")),
        ]
    });
    proptest!(|(case in cases)| {
        let (bytes, shown) = case;
        check(&read_all(bytes, shown), shown)?;
    });
}
