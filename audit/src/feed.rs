//! The raw records: a Databento market-by-order file read natively (the
//! replay connector's decoding is not used), each record with the symbol
//! of its instrument.

use std::path::Path;

use tradsys_data::dbn::decode::{DbnMetadata, DecodeRecordRef};
use tradsys_data::dbn::{self, RecordRefEnum};
use tradsys_data::read;

use crate::Error;
use crate::market::{Action, Record, Side};

/// Fixed-point units per lot.
const UNIT: i64 = 1_000_000_000;

/// The records of a file, by instrument symbol, and how many records it holds.
pub(crate) struct Feed {
    /// Instrument symbol of each record, and the record, in file order.
    pub(crate) records: Vec<(u32, Record)>,
    /// Symbol by instrument id.
    pub(crate) symbols: std::collections::BTreeMap<u32, String>,
}

/// Read every market-by-order record of `path`.
pub(crate) fn read(path: &Path) -> Result<Feed, Error> {
    let shown = path.display().to_string();
    let data = |why: String| Error::Data {
        file: shown.clone(),
        why,
    };
    let (mut decoder, offset) = read::open(path, &shown).map_err(data)?;
    let metadata = decoder.metadata().clone();
    if metadata.schema != Some(dbn::Schema::Mbo) {
        return Err(data(format!(
            "the audit needs market-by-order (MBO) records; this file is {}",
            metadata.schema.map_or("of mixed schemas", |s| s.as_str())
        )));
    }
    let mut symbols = read::symbols(&metadata);
    let mut records = Vec::new();
    let mut error = None;
    loop {
        let record = match decoder.decode_record_ref() {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        };
        let Ok(RecordRefEnum::Mbo(m)) = read::as_enum(&record) else {
            continue;
        };
        let action = match m.action as u8 {
            b'A' => Action::Add,
            b'M' => Action::Modify,
            b'C' => Action::Cancel,
            b'R' => Action::Clear,
            b'F' => Action::Fill,
            b'T' => Action::Trade,
            _ => continue,
        };
        let side = match m.side as u8 {
            b'B' => Some(Side::Buy),
            b'A' => Some(Side::Sell),
            _ => None,
        };
        let id = m.hd.instrument_id;
        records.push((
            id,
            Record {
                ts: m.hd.ts_event,
                action,
                side,
                price: m.price,
                size: i64::from(m.size) * UNIT,
                id: m.order_id,
                last: m.flags.is_last(),
            },
        ));
    }
    let n = records.len() as u64;
    if let Some(why) = read::stopped(&shown, &offset, n, error.as_ref()) {
        return Err(Error::Data {
            file: shown.clone(),
            why,
        });
    }
    // A file of one instrument without symbol mappings: its own id.
    if symbols.is_empty()
        && let Some((id, _)) = records.first()
    {
        symbols.insert(*id, format!("DBN-{id}"));
    }
    Ok(Feed { records, symbols })
}
