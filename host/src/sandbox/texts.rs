//! Bounds on the text a plugin hands the host: an order's rejection message
//! (a validator's verdict, a matcher's report), a reason (a failed `init`,
//! a refused state, a connector's end of stream). What is longer is cut, at a
//! character boundary, with a marker, and counted per plugin (the report's
//! `texts_cut`). An instrument symbol is not cut (two cut symbols could
//! collide): a definition with a longer one is dropped where instruments are
//! interned (`trading/market.rs`, `long-symbol`). Log lines have their own
//! limit (`[logs] max_message_bytes`).

use crate::bindings::types::{MarketEvent, OrderCommand, OrderEvent, Verdict};

/// The longest rejection message kept, bytes.
pub const MAX_MESSAGE_BYTES: usize = 256;

/// The longest reason kept (an `init` error, a refused state, a connector's
/// end of stream), bytes.
pub const MAX_REASON_BYTES: usize = 1024;

/// The longest instrument symbol the host interns, bytes.
pub const MAX_SYMBOL_BYTES: usize = 64;

const MARKER: &str = "…[cut]";

/// Cut `text` to at most `max` bytes (the marker included); whether it was.
pub fn cut(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let mut end = max.saturating_sub(MARKER.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(MARKER);
    true
}

/// `reason` cut to [`MAX_REASON_BYTES`].
pub fn reason(mut reason: String) -> String {
    cut(&mut reason, MAX_REASON_BYTES);
    reason
}

/// A plugin's output whose text is bounded: cut what is over, and say how
/// many texts were cut.
pub trait Texts {
    /// Cut every text over its bound; the number cut.
    fn bound(&mut self) -> u64;
}

fn message(message: &mut Option<String>) -> u64 {
    message
        .as_mut()
        .map_or(0, |m| u64::from(cut(m, MAX_MESSAGE_BYTES)))
}

impl Texts for OrderEvent {
    fn bound(&mut self) -> u64 {
        match self {
            Self::Rejected(r) => message(&mut r.rejection.message),
            _ => 0,
        }
    }
}

impl Texts for Verdict {
    fn bound(&mut self) -> u64 {
        match self {
            Self::Reject(r) => message(&mut r.message),
            Self::Approve => 0,
        }
    }
}

/// Commands carry no text.
impl Texts for OrderCommand {
    fn bound(&mut self) -> u64 {
        0
    }
}

/// Market events: a symbol is refused where it is interned, not cut.
impl Texts for MarketEvent {
    fn bound(&mut self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_at_a_character_boundary_with_a_marker() {
        let mut short = "fits".to_string();
        assert!(!cut(&mut short, 8));
        let mut long = "é".repeat(300);
        assert!(cut(&mut long, MAX_MESSAGE_BYTES));
        assert!(long.len() <= MAX_MESSAGE_BYTES, "{}", long.len());
        assert!(long.ends_with(MARKER));
        assert!(reason("x".repeat(5000)).len() <= MAX_REASON_BYTES);
    }
}
