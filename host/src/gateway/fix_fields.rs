//! A FIX connection's fields read and checked (a missing or wrong one is a
//! session Reject naming its tag), and the rejects it answers with.

use tradsys_fix::Message;

use super::fix_session::reason;
use super::protocol;
use crate::bindings::types::Side;
use crate::journal::decimal;

/// Why a message is refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// A session-level Reject (3): the tag and SessionRejectReason.
    Session {
        tag: Option<u32>,
        code: u32,
        text: String,
    },
    /// An answer of the application's (an ExecutionReport that rejects an
    /// order, an OrderCancelReject, a BusinessMessageReject).
    Answer(Message),
}

pub(super) fn amount(value: i64) -> String {
    decimal::exact(i128::from(value))
}

pub(super) fn required(message: &Message, tag: u32) -> Result<&str, Refusal> {
    message
        .get(tag)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Refusal::Session {
            tag: Some(tag),
            code: reason::REQUIRED_TAG_MISSING,
            text: format!("required tag {tag} missing"),
        })
}

pub(super) fn incorrect(tag: u32, text: String) -> Refusal {
    Refusal::Session {
        tag: Some(tag),
        code: reason::VALUE_INCORRECT,
        text,
    }
}

pub(super) fn side(message: &Message) -> Result<Side, Refusal> {
    match required(message, 54)? {
        "1" => Ok(Side::Buy),
        "2" => Ok(Side::Sell),
        other => Err(incorrect(
            54,
            format!("Side (54) {other} is not served: 1 (buy) or 2 (sell)"),
        )),
    }
}

pub(super) fn side_code(side: Side) -> &'static str {
    match side {
        Side::Buy => "1",
        Side::Sell => "2",
    }
}

/// A price or quantity field as fixed point (the gateway's rules).
pub(super) fn decimal_field(
    message: &Message,
    tag: u32,
    name: &str,
    max: i128,
) -> Result<i64, Refusal> {
    let text = required(message, tag)?;
    protocol::amount(name, text, max).map_err(|why| Refusal::Session {
        tag: Some(tag),
        code: reason::INCORRECT_FORMAT,
        text: why,
    })
}

/// Whether `msg_type` is an application message of FIX 4.4.
pub(super) fn is_fix44_app_type(msg_type: &str) -> bool {
    let b = msg_type.as_bytes();
    match b {
        [c] => b"6789BCDEFGHJKLMNPQRSTVWXYZabcdefghijklmnopqrstuvwxyz".contains(c),
        [b'A', c] => c.is_ascii_uppercase(),
        [b'B', c] => (b'A'..=b'H').contains(c),
        _ => false,
    }
}

/// A BusinessMessageReject (j) of a message of type `ref_type`.
pub(super) fn business_reject(ref_type: &str, text: &str) -> Message {
    Message::new("j")
        .with(372, ref_type)
        .with(380, 0)
        .with(58, text)
}
