//! Market data for the QuickFIX venue of the live tests and benchmark
//! (`tests/venue/`): the ES MBO day as price levels and trades.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use tradsys_data::dbn::RecordRefEnum;
use tradsys_data::dbn::decode::DecodeRecordRef as _;
use tradsys_data::read;

/// A price in 1e-9 units as decimal text.
fn decimal(value: i64) -> String {
    let whole = value / 1_000_000_000;
    let frac = (value % 1_000_000_000).abs();
    if frac == 0 {
        return whole.to_string();
    }
    let text = format!("{whole}.{frac:09}");
    text.trim_end_matches('0').to_string()
}

/// The ES day (`data`) as the QuickFIX venue's market data file (`out`):
/// each add, cancel, modify and clear of the MBO records as the new size of
/// the price level it changed, each trade as a trade; the first `limit`
/// updates, or all. The number of updates written.
pub fn market_file(data: &Path, out: &Path, limit: Option<usize>) -> usize {
    // The name tells the reader the compression (`.zst`).
    let shown = data.file_name().unwrap().to_string_lossy();
    let (mut decoder, _) = read::open(data, &shown).unwrap();
    let mut orders: HashMap<u64, (u8, i64, i64)> = HashMap::new();
    let mut levels: BTreeMap<(u8, i64), i64> = BTreeMap::new();
    let mut lines = Vec::new();
    let level = |levels: &mut BTreeMap<(u8, i64), i64>,
                 lines: &mut Vec<String>,
                 side: u8,
                 price: i64,
                 change: i64| {
        let size = levels.entry((side, price)).or_default();
        *size = (*size + change).max(0);
        let kind = if side == b'B' { 'B' } else { 'S' };
        lines.push(format!("ESH4 {kind} {} {}", decimal(price), *size));
    };
    while let Some(record) = decoder.decode_record_ref().unwrap() {
        if limit.is_some_and(|n| lines.len() >= n) {
            break;
        }
        let Ok(RecordRefEnum::Mbo(m)) = read::as_enum(&record) else {
            continue;
        };
        let side = m.side as u8;
        let size = i64::from(m.size);
        match m.action as u8 {
            b'A' if side == b'B' || side == b'A' => {
                orders.insert(m.order_id, (side, m.price, size));
                level(&mut levels, &mut lines, side, m.price, size);
            }
            b'C' => {
                if let Some((s, p, left)) = orders.get_mut(&m.order_id) {
                    let gone = size.min(*left);
                    *left -= gone;
                    let (s, p, left) = (*s, *p, *left);
                    if left == 0 {
                        orders.remove(&m.order_id);
                    }
                    level(&mut levels, &mut lines, s, p, -gone);
                }
            }
            b'M' => {
                if let Some((s, p, old)) = orders.remove(&m.order_id) {
                    level(&mut levels, &mut lines, s, p, -old);
                    orders.insert(m.order_id, (s, m.price, size));
                    level(&mut levels, &mut lines, s, m.price, size);
                }
            }
            b'T' => lines.push(format!("ESH4 T {} {}", decimal(m.price), size)),
            b'R' => {
                for ((s, p), size) in std::mem::take(&mut levels) {
                    if size > 0 {
                        let kind = if s == b'B' { 'B' } else { 'S' };
                        lines.push(format!("ESH4 {kind} {} 0", decimal(p)));
                    }
                }
                orders.clear();
            }
            _ => {}
        }
    }
    lines.truncate(limit.unwrap_or(usize::MAX));
    std::fs::write(out, lines.join("\n") + "\n").unwrap();
    lines.len()
}
