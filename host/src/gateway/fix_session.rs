//! A FIX 4.4 session of the venue's acceptor after its logon: sequence
//! numbers both ways, gaps (a ResendRequest, the messages ahead of the gap
//! held until it is filled), the client's resend requests (application
//! messages resent with PossDupFlag, administrative ones gap-filled),
//! heartbeats and test requests, session-level rejects and the logout. The
//! rules are QuickFIX's (`Session.cpp`) in the cases a client meets; the
//! tests hold this to a QuickFIX initiator. No I/O: bytes to write pile up
//! in `out`, the connection (`fix.rs`) writes them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use tradsys_fix::Message;

/// The only BeginString served.
pub(super) const BEGIN: &str = "FIX.4.4";

/// Messages held ahead of a gap at most; more ends the session.
const MAX_AHEAD: usize = 10_000;

/// Application messages kept for a client's resend request, per account;
/// older ones are gap-filled.
const MAX_KEPT: usize = 100_000;

/// A session's sequence numbers and the application messages it sent:
/// the account's, kept across its connections while the venue runs (a
/// logon with ResetSeqNumFlag starts them again).
#[derive(Debug)]
pub(super) struct Sequences {
    pub(super) next_in: u64,
    pub(super) next_out: u64,
    /// Sent application messages by sequence number, with their
    /// SendingTime.
    sent: BTreeMap<u64, (Message, String)>,
}

impl Sequences {
    /// Numbers kept from before, without the messages (a resend of those
    /// is a gap fill).
    pub(super) fn starting(next_in: u64, next_out: u64) -> Self {
        Self {
            next_in,
            next_out,
            sent: BTreeMap::new(),
        }
    }
}

impl Default for Sequences {
    fn default() -> Self {
        Self {
            next_in: 1,
            next_out: 1,
            sent: BTreeMap::new(),
        }
    }
}

/// What a message asks of the connection.
#[derive(Debug)]
pub(super) enum Step {
    /// An application message for the venue.
    App(Message),
    /// The session ends (a Logout was sent); why, for the log.
    End(String),
}

/// SessionRejectReason (373) values used.
pub(super) mod reason {
    pub(crate) const REQUIRED_TAG_MISSING: u32 = 1;
    pub(crate) const VALUE_INCORRECT: u32 = 5;
    pub(crate) const INCORRECT_FORMAT: u32 = 6;
    pub(crate) const COMP_ID_PROBLEM: u32 = 9;
    pub(crate) const INVALID_MSG_TYPE: u32 = 11;
}

/// A logged-on session.
#[derive(Debug)]
pub(super) struct FixSession {
    /// The venue's CompID and the client's.
    ours: String,
    theirs: String,
    pub(super) seq: Sequences,
    heartbeat: Duration,
    /// Messages that arrived ahead of a gap, by sequence number.
    ahead: BTreeMap<u64, Message>,
    resend_asked: bool,
    last_in: Instant,
    last_out: Instant,
    test_sent: Option<Instant>,
    /// Bytes to write.
    pub(super) out: Vec<u8>,
}

impl FixSession {
    pub(super) fn new(ours: &str, theirs: &str, seq: Sequences, heartbeat: Duration) -> Self {
        let now = Instant::now();
        Self {
            ours: ours.to_string(),
            theirs: theirs.to_string(),
            seq,
            heartbeat,
            ahead: BTreeMap::new(),
            resend_asked: false,
            last_in: now,
            last_out: now,
            test_sent: None,
            out: Vec::new(),
        }
    }

    /// The client's Logon, message `seq`, was answered: a gap before it
    /// is asked for.
    pub(super) fn logged_on(&mut self, seq: u64) {
        if seq == self.seq.next_in {
            self.seq.next_in += 1;
        } else if seq > self.seq.next_in {
            self.resend_asked = true;
            self.ask_resend();
        }
    }

    /// The client's CompID.
    pub(super) fn theirs(&self) -> &str {
        &self.theirs
    }

    /// Send `body` (its MsgType and body fields) with the next sequence
    /// number; an application message is kept for resending.
    pub(super) fn send(&mut self, body: Message) {
        let seq = self.seq.next_out;
        self.seq.next_out += 1;
        let time = sending_time();
        let wire = self.frame(&body, seq, &time, None);
        self.out.extend_from_slice(&wire);
        if !is_admin(body.msg_type()) {
            self.seq.sent.insert(seq, (body, time));
            while self.seq.sent.len() > MAX_KEPT {
                self.seq.sent.pop_first();
            }
        }
        self.last_out = Instant::now();
    }

    /// `body` on the wire as message `seq`; resent (PossDupFlag) when
    /// `original` is the SendingTime it first had.
    fn frame(&self, body: &Message, seq: u64, time: &str, original: Option<&str>) -> Vec<u8> {
        let mut message = Message::new(body.msg_type());
        message.push(49, &self.ours);
        message.push(56, &self.theirs);
        message.push(34, seq);
        if let Some(original) = original {
            message.push(43, "Y");
            message.push(122, original);
        }
        message.push(52, time);
        message.fields.extend(body.fields.iter().skip(1).cloned());
        message.encode(BEGIN)
    }

    /// A session-level Reject (3) of message `seq`.
    pub(super) fn reject(
        &mut self,
        seq: u64,
        of: &Message,
        tag: Option<u32>,
        code: u32,
        text: &str,
    ) {
        let mut reject = Message::new("3").with(45, seq);
        if let Some(tag) = tag {
            reject.push(371, tag);
        }
        reject.push(372, of.msg_type());
        reject.push(373, code);
        reject.push(58, text);
        self.send(reject);
    }

    /// Log out saying `why`; the session's end.
    pub(super) fn logout(&mut self, why: &str) -> Step {
        self.send(Message::new("5").with(58, why));
        Step::End(why.to_string())
    }

    /// A message from the client; what it asks of the connection.
    pub(super) fn receive(&mut self, message: Message) -> Vec<Step> {
        self.last_in = Instant::now();
        self.test_sent = None;
        let mut steps = Vec::new();
        if message.begin != BEGIN {
            let why = format!("BeginString (8) is {}, not {BEGIN}", message.begin);
            steps.push(self.logout(&why));
            return steps;
        }
        let Some(seq) = message.num(34) else {
            steps.push(self.logout("MsgSeqNum (34) missing or not a number"));
            return steps;
        };
        if message.get(49) != Some(self.theirs.as_str()) || message.get(56) != Some(&self.ours) {
            let text = format!(
                "CompID problem: SenderCompID (49) must be {} and TargetCompID (56) {}",
                self.theirs, self.ours
            );
            self.reject(seq, &message, None, reason::COMP_ID_PROBLEM, &text);
            steps.push(self.logout(&text));
            return steps;
        }
        // A SequenceReset in reset mode sets the next number whatever this
        // one's.
        if message.msg_type() == "4" && message.get(123) != Some("Y") {
            self.new_seq_no(seq, &message);
            return steps;
        }
        if seq > self.seq.next_in {
            self.ahead.insert(seq, message);
            if self.ahead.len() > MAX_AHEAD {
                steps.push(self.logout("too many messages ahead of a sequence gap"));
                return steps;
            }
            if !self.resend_asked {
                self.resend_asked = true;
                self.ask_resend();
            }
            return steps;
        }
        if seq < self.seq.next_in {
            if message.get(43) == Some("Y") {
                return steps;
            }
            let why = format!(
                "MsgSeqNum too low, expecting {} but received {seq}",
                self.seq.next_in
            );
            steps.push(self.logout(&why));
            return steps;
        }
        let mut next = Some(message);
        while let Some(message) = next.take() {
            if let Some(step) = self.process(message) {
                let end = matches!(step, Step::End(_));
                steps.push(step);
                if end {
                    return steps;
                }
            }
            next = self.ahead.remove(&self.seq.next_in);
        }
        // Whatever is still held is behind another gap: ask again.
        self.ahead.retain(|seq, _| *seq > self.seq.next_in);
        self.resend_asked = false;
        if !self.ahead.is_empty() {
            self.resend_asked = true;
            self.ask_resend();
        }
        steps
    }

    /// A SequenceReset's NewSeqNo (36) becomes the next number expected;
    /// one missing or lower is rejected.
    fn new_seq_no(&mut self, seq: u64, message: &Message) {
        match message.num(36) {
            Some(new) if new >= self.seq.next_in => self.seq.next_in = new,
            _ => self.reject(
                seq,
                message,
                Some(36),
                reason::VALUE_INCORRECT,
                "NewSeqNo (36) missing or lower than the next expected",
            ),
        }
    }

    /// Ask for every message from the next one expected (a ResendRequest).
    fn ask_resend(&mut self) {
        let from = self.seq.next_in;
        self.send(Message::new("2").with(7, from).with(16, 0));
    }

    /// Message `next_in`, in order.
    fn process(&mut self, message: Message) -> Option<Step> {
        let seq = self.seq.next_in;
        self.seq.next_in += 1;
        match message.msg_type() {
            "0" | "3" => None,
            "1" => {
                let id = message.get(112).unwrap_or("").to_string();
                self.send(Message::new("0").with(112, id));
                None
            }
            "2" => {
                match (message.num(7), message.num(16)) {
                    (Some(from), Some(to)) if from > 0 => self.resend(from, to),
                    _ => self.reject(
                        seq,
                        &message,
                        Some(7),
                        reason::REQUIRED_TAG_MISSING,
                        "BeginSeqNo (7) and EndSeqNo (16) are required",
                    ),
                }
                None
            }
            "4" => {
                // A gap fill: the numbers up to NewSeqNo were administrative.
                self.new_seq_no(seq, &message);
                None
            }
            "5" => Some(self.logout("logged out at the client's request")),
            "A" => {
                self.reject(
                    seq,
                    &message,
                    None,
                    reason::VALUE_INCORRECT,
                    "already logged on",
                );
                None
            }
            _ => Some(Step::App(message)),
        }
    }

    /// Resend messages `from` to `to` (0: to the last): the application
    /// messages kept, with PossDupFlag; a gap fill for the rest.
    fn resend(&mut self, from: u64, to: u64) {
        let last = self.seq.next_out - 1;
        let to = if to == 0 || to > last { last } else { to };
        let mut gap_from: Option<u64> = None;
        let mut wire = Vec::new();
        for seq in from..=to {
            match self.seq.sent.get(&seq) {
                Some((body, original)) => {
                    if let Some(start) = gap_from.take() {
                        wire.extend(self.gap_fill(start, seq));
                    }
                    wire.extend(self.frame(body, seq, &sending_time(), Some(original)));
                }
                None => {
                    gap_from.get_or_insert(seq);
                }
            }
        }
        if let Some(start) = gap_from {
            wire.extend(self.gap_fill(start, to + 1));
        }
        self.out.extend_from_slice(&wire);
        self.last_out = Instant::now();
    }

    /// A SequenceReset-GapFill sent as message `seq`, the next being `next`.
    fn gap_fill(&self, seq: u64, next: u64) -> Vec<u8> {
        let mut message = Message::new("4");
        message.push(49, &self.ours);
        message.push(56, &self.theirs);
        message.push(34, seq);
        message.push(43, "Y");
        message.push(52, sending_time());
        message.push(123, "Y");
        message.push(36, next);
        message.encode(BEGIN)
    }

    /// Time passed: a Heartbeat when nothing was sent for the interval, a
    /// TestRequest when nothing came, the end when that went unanswered.
    pub(super) fn tick(&mut self) -> Option<Step> {
        let now = Instant::now();
        if now.duration_since(self.last_out) >= self.heartbeat {
            self.send(Message::new("0"));
        }
        match self.test_sent {
            Some(sent) if now.duration_since(sent) >= self.heartbeat => {
                Some(self.logout("no answer to a TestRequest: the client is gone"))
            }
            Some(_) => None,
            None if now.duration_since(self.last_in) >= self.heartbeat + self.heartbeat / 5 => {
                self.test_sent = Some(now);
                self.send(Message::new("1").with(112, "TEST"));
                None
            }
            None => None,
        }
    }
}

/// Whether messages of `msg_type` are administrative (session level).
pub(super) fn is_admin(msg_type: &str) -> bool {
    matches!(msg_type, "0" | "1" | "2" | "3" | "4" | "5" | "A")
}

/// Now as FIX's UTCTimestamp with milliseconds.
pub(super) fn sending_time() -> String {
    let ns = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    tradsys_fix::time::format(ns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_fix::Decoder;

    fn from_client(seq: u64, msg_type: &str) -> Message {
        let mut m = Message::new(msg_type)
            .with(49, "ALICE")
            .with(56, "TRADSYS")
            .with(34, seq)
            .with(52, "20260101-00:00:00.000");
        m.begin = BEGIN.to_string();
        m
    }

    fn sent(session: &mut FixSession) -> Vec<Message> {
        let mut decoder = Decoder::default();
        decoder.push(&std::mem::take(&mut session.out));
        std::iter::from_fn(|| decoder.next_message().map(|m| m.unwrap())).collect()
    }

    fn session() -> FixSession {
        FixSession::new(
            "TRADSYS",
            "ALICE",
            Sequences::default(),
            Duration::from_secs(30),
        )
    }

    #[test]
    fn a_gap_is_asked_for_and_the_messages_ahead_of_it_wait_for_it() {
        let mut s = session();
        assert!(matches!(s.receive(from_client(1, "D"))[..], [Step::App(_)]));
        // 2 was lost (a garbled frame): 3 waits, 2 is asked for once.
        assert!(s.receive(from_client(3, "D")).is_empty());
        assert!(s.receive(from_client(4, "F")).is_empty());
        let asked = sent(&mut s);
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].msg_type(), "2");
        assert_eq!(asked[0].get(7), Some("2"));
        let mut resent = from_client(2, "G");
        resent.push(43, "Y");
        let steps = s.receive(resent);
        let types: Vec<String> = steps
            .iter()
            .map(|s| match s {
                Step::App(m) => m.msg_type().to_string(),
                Step::End(why) => why.clone(),
            })
            .collect();
        assert_eq!(types, ["G", "D", "F"]);
        assert_eq!(s.seq.next_in, 5);
    }

    #[test]
    fn too_low_a_number_without_possdup_logs_out_and_a_wrong_comp_id_is_refused() {
        let mut s = session();
        s.receive(from_client(1, "0"));
        let steps = s.receive(from_client(1, "0"));
        assert!(
            matches!(&steps[..], [Step::End(why)] if why.contains("expecting 2 but received 1"))
        );
        let mut s = session();
        let mut stranger = from_client(1, "D");
        stranger.fields[1].1 = "MALLORY".into();
        assert!(matches!(s.receive(stranger)[..], [Step::End(_)]));
        let told = sent(&mut s);
        assert_eq!(told[0].msg_type(), "3");
        assert_eq!(told[0].get(373), Some("9"));
        assert_eq!(told[1].msg_type(), "5");
    }

    #[test]
    fn a_resend_request_resends_application_messages_and_gap_fills_the_rest() {
        let mut s = session();
        s.send(Message::new("0")); // 1
        s.send(Message::new("8").with(11, "7")); // 2
        s.send(Message::new("0")); // 3
        s.send(Message::new("0")); // 4
        sent(&mut s);
        s.receive(from_client(1, "2").with(7, 1).with(16, 0));
        let again = sent(&mut s);
        let summary: Vec<(String, Option<&str>, Option<&str>)> = again
            .iter()
            .map(|m| (m.msg_type().to_string(), m.get(34), m.get(36)))
            .collect();
        assert_eq!(
            summary,
            [
                ("4".to_string(), Some("1"), Some("2")),
                ("8".to_string(), Some("2"), None),
                ("4".to_string(), Some("3"), Some("5")),
            ]
        );
        assert_eq!(again[1].get(43), Some("Y"));
        assert!(again[1].get(122).is_some());
    }
}
