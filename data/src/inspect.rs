//! What a DBN file holds, without replaying it: schema, dataset,
//! instruments, time range, and records counted per kind and action.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use dbn::RecordRefEnum;
use dbn::decode::{DbnMetadata, DecodeRecordRef};

use crate::read;

/// The summary of one file.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The file, as given.
    pub file: String,
    /// Its schema (`mbo`, `mbp-10`, ...), when the metadata states one.
    pub schema: Option<String>,
    /// Its dataset (`GLBX.MDP3`, ...).
    pub dataset: String,
    /// The DBN version it was written in.
    pub dbn_version: u8,
    /// Instruments: id → (symbol when known, records).
    pub instruments: BTreeMap<u32, (Option<String>, u64)>,
    /// Records by kind and action (`mbo add`, `mbo cancel`, `ohlcv-1m`, ...).
    pub records: BTreeMap<String, u64>,
    /// Event time of the first and last record, ns since the epoch.
    pub first_ts: Option<u64>,
    /// See `first_ts`.
    pub last_ts: Option<u64>,
    /// Bytes of the file.
    pub bytes: u64,
    /// Prices and sizes per instrument, for sizing a config to the file
    /// (at most [`MAX_SAMPLES`] of each kind per instrument).
    pub samples: BTreeMap<u32, Samples>,
}

/// At most this many prices of each kind are kept per instrument.
pub const MAX_SAMPLES: usize = 1_000_000;

/// An instrument's prices in file order, fixed point with nine decimals,
/// with their sizes.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// Trades: (price, size).
    pub trades: Vec<(i64, u64)>,
    /// Bar closes: (close, volume).
    pub closes: Vec<(i64, u64)>,
}

fn keep(list: &mut Vec<(i64, u64)>, price: i64, size: u64) {
    if list.len() < MAX_SAMPLES && price != dbn::UNDEF_PRICE {
        list.push((price, size));
    }
}

impl Summary {
    /// Records in the file.
    pub fn total(&self) -> u64 {
        self.records.values().sum()
    }
}

fn action_name(action: std::ffi::c_char) -> &'static str {
    match action as u8 {
        b'A' => "add",
        b'M' => "modify",
        b'C' => "cancel",
        b'R' => "clear",
        b'T' => "trade",
        b'F' => "fill",
        _ => "none",
    }
}

/// Read the whole of `path` (shown as `shown`) and summarise it; an error
/// names the file and the byte where it stopped.
pub fn inspect(path: &Path, shown: &str) -> Result<Summary, String> {
    let (mut decoder, offset) = read::open(path, shown)?;
    let metadata = decoder.metadata().clone();
    let mut summary = Summary {
        file: shown.to_owned(),
        schema: metadata.schema.map(|s| s.as_str().to_owned()),
        dataset: metadata.dataset.clone(),
        dbn_version: metadata.version,
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        ..Summary::default()
    };
    let mut symbols = read::symbols(&metadata);
    let mut count = 0u64;
    loop {
        let record = match decoder.decode_record_ref() {
            Ok(Some(record)) => record,
            Ok(None) => match read::stopped(shown, &offset, count, None) {
                Some(damage) => return Err(damage),
                None => break,
            },
            Err(e) => {
                return Err(read::stopped(shown, &offset, count, Some(&e)).unwrap_or_default());
            }
        };
        count += 1;
        let header = record.header();
        let ts = header.ts_event;
        summary.first_ts.get_or_insert(ts);
        summary.last_ts = Some(ts);
        let samples = summary.samples.entry(header.instrument_id).or_default();
        // Parsed once, for the price samples and for the count by kind.
        let parsed = read::as_enum(&record);
        match &parsed {
            Ok(RecordRefEnum::Mbo(m)) if m.action as u8 == b'T' => {
                keep(&mut samples.trades, m.price, u64::from(m.size));
            }
            Ok(RecordRefEnum::Trade(t)) => keep(&mut samples.trades, t.price, u64::from(t.size)),
            Ok(RecordRefEnum::Mbp1(m)) if m.action as u8 == b'T' => {
                keep(&mut samples.trades, m.price, u64::from(m.size));
            }
            Ok(RecordRefEnum::Mbp10(m)) if m.action as u8 == b'T' => {
                keep(&mut samples.trades, m.price, u64::from(m.size));
            }
            Ok(RecordRefEnum::Ohlcv(o)) => keep(&mut samples.closes, o.close, o.volume),
            _ => {}
        }
        let kind = match parsed {
            Ok(RecordRefEnum::Mbo(m)) => format!("mbo {}", action_name(m.action)),
            Ok(RecordRefEnum::Mbp1(m)) => format!("mbp-1 {}", action_name(m.action)),
            Ok(RecordRefEnum::Mbp10(m)) => format!("mbp-10 {}", action_name(m.action)),
            Ok(RecordRefEnum::Cmbp1(m)) => format!("cmbp-1 {}", action_name(m.action)),
            Ok(RecordRefEnum::Trade(_)) => "trade".to_owned(),
            Ok(RecordRefEnum::Bbo(_)) => "bbo".to_owned(),
            Ok(RecordRefEnum::Cbbo(_)) => "cbbo".to_owned(),
            Ok(RecordRefEnum::Ohlcv(_)) => match header.rtype {
                dbn::rtype::OHLCV_1S => "ohlcv-1s",
                dbn::rtype::OHLCV_1M => "ohlcv-1m",
                dbn::rtype::OHLCV_1H => "ohlcv-1h",
                dbn::rtype::OHLCV_1D => "ohlcv-1d",
                _ => "ohlcv",
            }
            .to_owned(),
            Ok(RecordRefEnum::Status(_)) => "status".to_owned(),
            Ok(RecordRefEnum::InstrumentDef(def)) => {
                if let Ok(symbol) = def.raw_symbol() {
                    symbols.insert(header.instrument_id, symbol.to_owned());
                }
                "definition".to_owned()
            }
            Ok(RecordRefEnum::Imbalance(_)) => "imbalance".to_owned(),
            Ok(RecordRefEnum::Stat(_)) => "statistics".to_owned(),
            Ok(_) => "other message".to_owned(),
            Err(_) => format!("unknown or short record type 0x{:02x}", header.rtype),
        };
        *summary.records.entry(kind).or_default() += 1;
        summary
            .instruments
            .entry(header.instrument_id)
            .or_default()
            .1 += 1;
    }
    for (id, (symbol, _)) in &mut summary.instruments {
        *symbol = symbols.get(id).cloned();
    }
    Ok(summary)
}

/// `2023-12-25 23:00:00.000000000 UTC` from ns since the epoch.
pub fn utc(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:09} UTC",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60,
        ns % 1_000_000_000
    )
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "file: {} ({} bytes)", self.file, self.bytes)?;
        writeln!(
            f,
            "schema: {}, dataset {}, DBN version {}",
            self.schema.as_deref().unwrap_or("mixed"),
            if self.dataset.is_empty() {
                "-"
            } else {
                &self.dataset
            },
            self.dbn_version
        )?;
        match (self.first_ts, self.last_ts) {
            (Some(first), Some(last)) => {
                writeln!(f, "time: {} to {}", utc(first), utc(last))?;
            }
            _ => writeln!(f, "time: no records")?,
        }
        writeln!(f, "records: {}", self.total())?;
        for (kind, n) in &self.records {
            writeln!(f, "  {kind:<20} {n:>10}")?;
        }
        writeln!(f, "instruments: {}", self.instruments.len())?;
        for (id, (symbol, n)) in &self.instruments {
            writeln!(
                f,
                "  {id:<10} {:<22} {n:>10} records",
                symbol.as_deref().unwrap_or("-")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00.000000000 UTC");
        assert_eq!(
            utc(1_703_545_200_000_000_001),
            "2023-12-25 23:00:00.000000001 UTC"
        );
        assert_eq!(
            utc(951_782_400_000_000_000),
            "2000-02-29 00:00:00.000000000 UTC"
        );
    }
}
