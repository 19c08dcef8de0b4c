//! How an update, a session and its trading ended, as states rather than
//! text: what became of a swap ([`SwapOutcome`]), why a session stopped
//! early ([`Stop`]), why trading halted ([`Halt`]).
//!
//! Each is spelled in reports and journals as the sentence its
//! [`Display`](std::fmt::Display) gives (`swapped`, `refused: ...; the
//! running versions go on`, `connector failed: ...`), as it was when these
//! were strings, and read back from that sentence; a test holds the spelling.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What became of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwapOutcome {
    /// Every member was installed.
    Swapped,
    /// Every member already runs (two scans sent the same file).
    AlreadyRunning,
    /// A member's handoff failed (the reason); the running versions go on.
    Refused(String),
    /// A file in the plugin directory was refused (the reason); it never
    /// reached the session.
    FileRefused(String),
    /// A candidate in the `shadow/` folder was refused (the reason).
    ShadowRefused(String),
}

const REFUSED_TAIL: &str = "; the running versions go on";

impl SwapOutcome {
    /// The outcome's kind, without its reason: `swapped`, `already-running`,
    /// `refused`, `file-refused` or `shadow-refused`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Swapped => "swapped",
            Self::AlreadyRunning => "already-running",
            Self::Refused(_) => "refused",
            Self::FileRefused(_) => "file-refused",
            Self::ShadowRefused(_) => "shadow-refused",
        }
    }

    /// Whether the update was made or was already in place (not a refusal).
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Swapped | Self::AlreadyRunning)
    }

    /// The outcome a sentence of [`fmt::Display`] names.
    fn from_sentence(text: &str) -> Option<Self> {
        if let Some(reason) = text.strip_prefix("file refused: ") {
            return Some(Self::FileRefused(reason.to_string()));
        }
        if let Some(reason) = text.strip_prefix("shadow refused: ") {
            return Some(Self::ShadowRefused(reason.to_string()));
        }
        if let Some(rest) = text.strip_prefix("refused: ") {
            let reason = rest.strip_suffix(REFUSED_TAIL).unwrap_or(rest);
            return Some(Self::Refused(reason.to_string()));
        }
        match text {
            "swapped" => Some(Self::Swapped),
            "already running" => Some(Self::AlreadyRunning),
            _ => None,
        }
    }
}

impl fmt::Display for SwapOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Swapped => f.write_str("swapped"),
            Self::AlreadyRunning => f.write_str("already running"),
            Self::Refused(reason) => write!(f, "refused: {reason}{REFUSED_TAIL}"),
            Self::FileRefused(reason) => write!(f, "file refused: {reason}"),
            Self::ShadowRefused(reason) => write!(f, "shadow refused: {reason}"),
        }
    }
}

/// Why a session stopped before its connector's stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The connector said its stream cannot go on, or its feed broke a rule
    /// the host holds it to (the reason).
    Connector {
        /// The connector.
        name: String,
        /// Its reason, or the rule.
        reason: String,
    },
    /// The connector's circuit breaker opened (the reason).
    ConnectorQuarantined(String),
    /// The connector cannot be restarted: its `init` fails, or it lost its
    /// position in the stream (the reason).
    ConnectorFailed(String),
    /// The connector answered this many empty batches in a row.
    EmptyBatches(u32),
    /// The journal could not be written (the writer's error, naming the file).
    Journal(String),
}

impl Stop {
    fn from_sentence(text: &str) -> Self {
        if let Some(reason) = text.strip_prefix("connector quarantined: ") {
            return Self::ConnectorQuarantined(reason.to_string());
        }
        if let Some(reason) = text.strip_prefix("connector failed: ") {
            return Self::ConnectorFailed(reason.to_string());
        }
        if let Some(n) = text
            .strip_prefix("connector sent ")
            .and_then(|rest| rest.strip_suffix(" empty batches in a row"))
            .and_then(|n| n.parse().ok())
        {
            return Self::EmptyBatches(n);
        }
        if let Some((name, reason)) = text
            .strip_prefix("connector ")
            .and_then(|rest| rest.split_once(": "))
        {
            return Self::Connector {
                name: name.to_string(),
                reason: reason.to_string(),
            };
        }
        Self::Journal(text.to_string())
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connector { name, reason } => write!(f, "connector {name}: {reason}"),
            Self::ConnectorQuarantined(reason) => write!(f, "connector quarantined: {reason}"),
            Self::ConnectorFailed(reason) => write!(f, "connector failed: {reason}"),
            Self::EmptyBatches(n) => write!(f, "connector sent {n} empty batches in a row"),
            Self::Journal(error) => f.write_str(error),
        }
    }
}

/// Why trading halted for the rest of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Halt {
    /// The matcher failed (its fault): its books can no longer be trusted.
    MatcherFailed {
        /// The matcher.
        matcher: String,
        /// Its fault.
        fault: String,
    },
    /// The operator pulled the kill switch (`tradsys halt`): no new order
    /// or modify from now on, cancels still go.
    Operator {
        /// Every working order was canceled at the venue too.
        cancel_all: bool,
    },
}

/// The operator's halt, as a sentence.
const OPERATOR_HALT: &str = "the operator halted trading";
const AND_CANCELED: &str = " and canceled every working order";

impl Halt {
    fn from_sentence(text: &str) -> Option<Self> {
        if let Some(rest) = text.strip_prefix(OPERATOR_HALT) {
            return match rest {
                "" => Some(Self::Operator { cancel_all: false }),
                AND_CANCELED => Some(Self::Operator { cancel_all: true }),
                _ => None,
            };
        }
        let (matcher, fault) = text.strip_prefix("matcher ")?.split_once(" failed: ")?;
        Some(Self::MatcherFailed {
            matcher: matcher.to_string(),
            fault: fault.to_string(),
        })
    }
}

impl fmt::Display for Halt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MatcherFailed { matcher, fault } => {
                write!(f, "matcher {matcher} failed: {fault}")
            }
            Self::Operator { cancel_all } => {
                let canceled = if *cancel_all { AND_CANCELED } else { "" };
                write!(f, "{OPERATOR_HALT}{canceled}")
            }
        }
    }
}

/// Serde as the sentence: `Serialize` writes [`fmt::Display`]'s text,
/// `Deserialize` reads it back (an unknown sentence is an error naming it).
macro_rules! as_sentence {
    ($type:ty, $parse:expr) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                let parse: fn(&str) -> Option<$type> = $parse;
                parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!("`{text}` is not a {}", stringify!($type)))
                })
            }
        }
    };
}

as_sentence!(SwapOutcome, SwapOutcome::from_sentence);
as_sentence!(Stop, |text| Some(Stop::from_sentence(text)));
as_sentence!(Halt, Halt::from_sentence);

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON spelling is the sentence the strings had, and reads back.
    #[test]
    fn states_are_spelled_as_before_and_read_back() {
        let cases: Vec<(serde_json::Value, &str)> = vec![
            (serde_json::json!(SwapOutcome::Swapped), "swapped"),
            (
                serde_json::json!(SwapOutcome::AlreadyRunning),
                "already running",
            ),
            (
                serde_json::json!(SwapOutcome::Refused("ma-crossover: no state".into())),
                "refused: ma-crossover: no state; the running versions go on",
            ),
            (
                serde_json::json!(SwapOutcome::FileRefused("bad signature".into())),
                "file refused: bad signature",
            ),
            (
                serde_json::json!(SwapOutcome::ShadowRefused("a matcher".into())),
                "shadow refused: a matcher",
            ),
            (
                serde_json::json!(Stop::Connector {
                    name: "dbn-replay".into(),
                    reason: "time went back".into()
                }),
                "connector dbn-replay: time went back",
            ),
            (
                serde_json::json!(Stop::ConnectorQuarantined("5 faults".into())),
                "connector quarantined: 5 faults",
            ),
            (
                serde_json::json!(Stop::ConnectorFailed("init: x".into())),
                "connector failed: init: x",
            ),
            (
                serde_json::json!(Stop::EmptyBatches(1000)),
                "connector sent 1000 empty batches in a row",
            ),
            (
                serde_json::json!(Stop::Journal("journal j.1: disk full".into())),
                "journal j.1: disk full",
            ),
            (
                serde_json::json!(Halt::MatcherFailed {
                    matcher: "fifo-matcher".into(),
                    fault: "trap: unreachable".into()
                }),
                "matcher fifo-matcher failed: trap: unreachable",
            ),
        ];
        for (json, text) in &cases {
            assert_eq!(json, text);
        }
        for outcome in [
            SwapOutcome::Swapped,
            SwapOutcome::AlreadyRunning,
            SwapOutcome::Refused("a: b; c".into()),
            SwapOutcome::FileRefused("x".into()),
            SwapOutcome::ShadowRefused("y".into()),
        ] {
            let back: SwapOutcome =
                serde_json::from_value(serde_json::json!(outcome.clone())).unwrap();
            assert_eq!(back, outcome);
        }
        for stop in [
            Stop::Connector {
                name: "c".into(),
                reason: "r: s".into(),
            },
            Stop::ConnectorQuarantined("q".into()),
            Stop::ConnectorFailed("f".into()),
            Stop::EmptyBatches(7),
            Stop::Journal("journal j: e".into()),
        ] {
            let back: Stop = serde_json::from_value(serde_json::json!(stop.clone())).unwrap();
            assert_eq!(back, stop);
        }
        for halt in [
            Halt::MatcherFailed {
                matcher: "m".into(),
                fault: "f".into(),
            },
            Halt::Operator { cancel_all: false },
            Halt::Operator { cancel_all: true },
        ] {
            let back: Halt = serde_json::from_value(serde_json::json!(halt.clone())).unwrap();
            assert_eq!(back, halt);
        }
        let err = serde_json::from_value::<SwapOutcome>(serde_json::json!("exploded")).unwrap_err();
        assert!(
            err.to_string().contains("`exploded` is not a SwapOutcome"),
            "{err}"
        );
    }
}
