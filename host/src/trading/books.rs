//! The end-of-session books in the report: per instrument symbol, how many
//! orders rest and the five best levels of each side.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use tradsys_book::Level;

use crate::bindings::types::TradingStatus;
use crate::journal::decimal::decimal;
use crate::journal::show::utc;
use crate::trading::market::{Market, Open, OpenedBy};

/// Levels per side the report shows.
pub const REPORT_LEVELS: usize = 5;

/// One instrument's book at the end of the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookReport {
    /// What built it: `L3` (orders), `L2` (levels) or `L1` (quotes).
    pub detail: String,
    /// Orders resting (from the levels' counts below L3; 0 from quotes).
    pub resting_orders: u64,
    /// Best bids, best first.
    pub bids: Vec<LevelReport>,
    /// Best asks, best first.
    pub asks: Vec<LevelReport>,
    /// The feed's last trading status, if it sent one (`trading`, `halted`, ...).
    pub status: Option<String>,
    /// When its market opened (`ts`) and what said so (`marked_by`: the
    /// feed's `status`, or its `first-trade` when it has no status records).
    pub open: Option<Open>,
    /// Cancels and modifies of orders that were not resting.
    pub unknown_orders: u64,
}

/// One price level in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LevelReport {
    /// Price, in the instrument's display precision.
    pub price: String,
    /// Size resting at the price.
    pub size: String,
    /// Orders at the price.
    pub orders: u32,
}

/// Every book with data, keyed by instrument symbol.
pub fn book_reports(market: &Market) -> BTreeMap<String, BookReport> {
    let books = market.books().read();
    books
        .iter()
        .filter(|(_, book)| book.detail() != tradsys_book::Detail::Empty)
        .filter_map(|(id, book)| {
            let def = market.definition(id)?;
            let (bids, asks) = book.depth(REPORT_LEVELS);
            let show = |levels: Vec<Level>| {
                levels
                    .into_iter()
                    .map(|l| LevelReport {
                        price: decimal(i128::from(l.price), u32::from(def.price_precision.min(9))),
                        size: decimal(i128::from(l.size), u32::from(def.size_precision.min(9))),
                        orders: l.orders,
                    })
                    .collect()
            };
            Some((
                def.symbol.clone(),
                BookReport {
                    detail: book.detail().name().to_string(),
                    resting_orders: book.resting_orders(),
                    bids: show(bids),
                    asks: show(asks),
                    status: market.status(id).map(|s| status_name(s).to_string()),
                    open: market.opened(id),
                    unknown_orders: book.unknown_orders(),
                },
            ))
        })
        .collect()
}

fn status_name(status: TradingStatus) -> &'static str {
    match status {
        TradingStatus::PreOpen => "pre-open",
        TradingStatus::Trading => "trading",
        TradingStatus::Halted => "halted",
        TradingStatus::Closed => "closed",
    }
}

/// The books, briefly: one line per instrument with its touch.
pub fn render_books(books: &BTreeMap<String, BookReport>, out: &mut String) {
    if books.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nbook at the end    detail  resting   best bid           best ask"
    );
    for (symbol, b) in books {
        let side = |levels: &[LevelReport]| {
            levels.first().map_or_else(
                || "-".to_string(),
                |l| format!("{} x {} ({})", l.price, l.size, l.orders),
            )
        };
        let _ = writeln!(
            out,
            "{symbol:<18} {:<6} {:>8}   {:<18} {}{}",
            b.detail,
            b.resting_orders,
            side(&b.bids),
            side(&b.asks),
            b.status
                .as_ref()
                .map(|s| format!("  [{s}]"))
                .unwrap_or_default()
        );
    }
    for (symbol, b) in books {
        if let Some(open) = b.open {
            let by = match open.marked_by {
                OpenedBy::Status => "the feed's status",
                OpenedBy::FirstTrade => "its first trade (the feed has no status records)",
            };
            let _ = writeln!(out, "{symbol} opened at {} UTC, by {by}", utc(open.ts));
        }
    }
}
