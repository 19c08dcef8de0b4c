//! The FIX session layer, as an initiator: Logon, Heartbeat and
//! TestRequest, sequence numbers both ways (kept in the plugin's state),
//! gaps answered by ResendRequest, the venue's ResendRequest answered with
//! PossDup resends of application messages and gap fills for the rest,
//! SequenceReset, Reject, Logout. No I/O: bytes in, bytes out.

use std::collections::VecDeque;

use tradsys_sdk::state::{StateReader, StateWriter};

use tradsys_fix::time;
use tradsys_fix::{Decoder, Message};

/// FIX 4.4.
pub const BEGIN: &str = "FIX.4.4";

/// Application messages kept for the venue's resend requests (older ones
/// are gap-filled): the state is saved before every call, so it stays small.
const KEEP_SENT: usize = 64;

/// Seconds to wait for the answer to our Logon, and to our Logout.
const LOGON_TIMEOUT_NS: u64 = 10_000_000_000;
const LOGOUT_TIMEOUT_NS: u64 = 2_000_000_000;

/// How the session is set up (the plugin's config).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Our CompID (49 on what we send).
    pub sender: String,
    /// The venue's CompID (56 on what we send).
    pub target: String,
    /// HeartBtInt (108), seconds.
    pub heartbeat_s: u64,
    /// Send ResetSeqNumFlag (141=Y) on every Logon: both sides start at 1.
    pub reset_on_logon: bool,
}

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No connection.
    Disconnected,
    /// Connected, our Logon sent, no answer yet.
    LogonSent,
    /// Logged on: application messages flow.
    Active,
    /// Our Logout sent, waiting for the venue's.
    LogoutSent,
}

/// What one step of the session produced.
#[derive(Debug, Default)]
pub struct Step {
    /// Bytes to send.
    pub send: Vec<u8>,
    /// Application messages that arrived in sequence, for the application layer.
    pub app: Vec<Message>,
    /// The venue accepted our Logon in this step.
    pub logged_on: bool,
    /// Close the connection: why, and whether to connect again.
    pub close: Option<(String, bool)>,
    /// What the operator should know (garbled input, rejects).
    pub warnings: Vec<String>,
}

/// One FIX session over successive connections.
#[derive(Debug)]
pub struct Session {
    settings: Settings,
    /// Where the session is.
    pub phase: Phase,
    /// The sequence number of the next message we send.
    pub next_out: u64,
    /// The sequence number we expect next from the venue.
    pub next_in: u64,
    decoder: Decoder,
    since: u64,
    last_sent: u64,
    last_received: u64,
    test_request: Option<u64>,
    /// A ResendRequest is out; the venue's messages above the gap wait for it.
    resending: bool,
    /// Application messages sent: (seq, SendingTime, message) for resends.
    sent: VecDeque<(u64, String, Message)>,
}

impl Session {
    /// A session that has never connected.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            phase: Phase::Disconnected,
            next_out: 1,
            next_in: 1,
            decoder: Decoder::default(),
            since: 0,
            last_sent: 0,
            last_received: 0,
            test_request: None,
            resending: false,
            sent: VecDeque::new(),
        }
    }

    /// The application message we sent with sequence number `seq`, if kept.
    pub fn sent(&self, seq: u64) -> Option<&Message> {
        self.sent
            .iter()
            .find(|(s, _, _)| *s == seq)
            .map(|(_, _, m)| m)
    }

    /// The connection is open: log on.
    pub fn connected(&mut self, now: u64, step: &mut Step) {
        self.decoder = Decoder::default();
        self.phase = Phase::LogonSent;
        self.since = now;
        self.last_received = now;
        self.test_request = None;
        self.resending = false;
        let mut logon = Message::new("A")
            .with(98, 0)
            .with(108, self.settings.heartbeat_s);
        if self.settings.reset_on_logon {
            self.next_out = 1;
            self.next_in = 1;
            self.sent.clear();
            logon.push(141, "Y");
        }
        self.send_admin(logon, now, step);
    }

    /// The connection closed.
    pub fn disconnected(&mut self) {
        self.phase = Phase::Disconnected;
        self.decoder = Decoder::default();
        self.test_request = None;
        self.resending = false;
    }

    /// Log out, saying `text`.
    pub fn logout(&mut self, text: &str, now: u64, step: &mut Step) {
        if matches!(self.phase, Phase::Active | Phase::LogonSent) {
            self.send_admin(Message::new("5").with(58, text), now, step);
            self.phase = Phase::LogoutSent;
            self.since = now;
        }
    }

    /// Send an application message (numbered, kept for resends).
    pub fn send_app(&mut self, message: Message, now: u64, step: &mut Step) {
        let seq = self.next_out;
        let sending = time::format(now);
        self.write(&message, seq, &sending, None, step);
        self.sent.push_back((seq, sending, message));
        if self.sent.len() > KEEP_SENT {
            self.sent.pop_front();
        }
        self.next_out += 1;
        self.last_sent = now;
    }

    fn send_admin(&mut self, message: Message, now: u64, step: &mut Step) {
        let seq = self.next_out;
        self.write(&message, seq, &time::format(now), None, step);
        self.next_out += 1;
        self.last_sent = now;
    }

    /// The message on the wire: header (35, 49, 56, 34, 52, and 43/122 on
    /// a resend), then its fields.
    fn write(
        &self,
        message: &Message,
        seq: u64,
        sending: &str,
        resend_of: Option<&str>,
        step: &mut Step,
    ) {
        let mut wire = Message::new(message.msg_type())
            .with(49, &self.settings.sender)
            .with(56, &self.settings.target)
            .with(34, seq);
        if let Some(original) = resend_of {
            wire.push(43, "Y");
            wire.push(52, sending);
            wire.push(122, original);
        } else {
            wire.push(52, sending);
        }
        wire.fields.extend(message.fields.iter().skip(1).cloned());
        step.send.extend_from_slice(&wire.encode(BEGIN));
    }

    /// Time passed: heartbeats, test requests, timeouts.
    pub fn tick(&mut self, now: u64, step: &mut Step) {
        let hb = self.settings.heartbeat_s.max(1) * 1_000_000_000;
        match self.phase {
            Phase::Disconnected => {}
            Phase::LogonSent if now.saturating_sub(self.since) >= LOGON_TIMEOUT_NS => {
                step.close = Some(("the venue did not answer the Logon".into(), true));
            }
            Phase::LogoutSent if now.saturating_sub(self.since) >= LOGOUT_TIMEOUT_NS => {
                step.close = Some(("the venue did not answer the Logout".into(), false));
            }
            Phase::Active => {
                let quiet = now.saturating_sub(self.last_received);
                if self.test_request.is_some() && quiet >= hb * 12 / 5 {
                    step.close = Some((
                        format!(
                            "nothing from the venue for {} s, TestRequest unanswered",
                            quiet / 1_000_000_000
                        ),
                        true,
                    ));
                    return;
                }
                if self.test_request.is_none() && quiet >= hb * 6 / 5 {
                    self.test_request = Some(now);
                    self.send_admin(Message::new("1").with(112, now), now, step);
                } else if now.saturating_sub(self.last_sent) >= hb {
                    self.send_admin(Message::new("0"), now, step);
                }
            }
            _ => {}
        }
    }

    /// Bytes arrived.
    pub fn received(&mut self, bytes: &[u8], now: u64, step: &mut Step) {
        self.decoder.push(bytes);
        while let Some(next) = self.decoder.next_message() {
            match next {
                // Like QuickFIX: a garbled message is dropped and its
                // sequence number not taken; the gap brings it again.
                Err(garbled) => step.warnings.push(garbled.to_string()),
                Ok(message) => {
                    self.last_received = now;
                    self.handle(message, now, step);
                }
            }
            if step.close.is_some() {
                break;
            }
        }
    }

    fn end(&mut self, text: String, now: u64, step: &mut Step) {
        self.logout(&text, now, step);
        step.close = Some((text, false));
    }

    fn handle(&mut self, message: Message, now: u64, step: &mut Step) {
        let kind = message.msg_type().to_string();
        if message.begin != BEGIN {
            let text = format!("Incorrect BeginString {}", message.begin);
            return self.end(text, now, step);
        }
        let from = message.get(49).unwrap_or("");
        let to = message.get(56).unwrap_or("");
        if from != self.settings.target || to != self.settings.sender {
            let text = format!(
                "CompID problem: from {from} to {to}, expected from {} to {}",
                self.settings.target, self.settings.sender
            );
            if self.phase == Phase::LogonSent {
                step.close = Some((text, true));
                return;
            }
            let mut reject = Message::new("3").with(373, 9).with(58, &text);
            if let Some(seq) = message.num(34) {
                reject.fields.insert(1, (45, seq.to_string()));
            }
            self.send_admin(reject, now, step);
            return self.end(text, now, step);
        }
        let Some(seq) = message.num(34) else {
            return self.end("MsgSeqNum (34) missing".into(), now, step);
        };
        if self.phase == Phase::LogonSent {
            if kind != "A" {
                let text = format!("the venue answered the Logon with a message of type {kind}");
                step.close = Some((text, true));
                return;
            }
            if message.get(141) == Some("Y") {
                self.next_in = 1;
            }
        }
        // A SequenceReset in reset mode moves the expected number whatever it is.
        if kind == "4" && message.get(123) != Some("Y") {
            match message.num(36) {
                Some(n) if n >= self.next_in => self.next_in = n,
                _ => step
                    .warnings
                    .push("SequenceReset to a lower number ignored".into()),
            }
            return;
        }
        if seq < self.next_in {
            if message.get(43) == Some("Y") {
                return; // a duplicate we already have
            }
            let text = format!(
                "MsgSeqNum too low, expecting {} but received {seq}",
                self.next_in
            );
            return self.end(text, now, step);
        }
        if seq > self.next_in {
            // A gap: ask for what is missing once; what follows it is sent again.
            if !self.resending {
                self.resending = true;
                let request = Message::new("2").with(7, self.next_in).with(16, 0);
                self.send_admin(request, now, step);
            }
            match kind.as_str() {
                "A" => self.logged_on(&message, step),
                "5" => self.venue_logout(&message, now, step),
                "2" => self.resend(&message, now, step),
                _ => {}
            }
            return;
        }
        self.next_in += 1;
        self.resending = false;
        match kind.as_str() {
            "A" => self.logged_on(&message, step),
            "0" => {
                if message.get(112).is_some() {
                    self.test_request = None;
                }
            }
            "1" => {
                let id = message.get(112).unwrap_or("").to_string();
                self.send_admin(Message::new("0").with(112, id), now, step);
            }
            "2" => self.resend(&message, now, step),
            "3" => {
                step.warnings.push(format!(
                    "the venue rejected our message {}: {} (reason {})",
                    message.get(45).unwrap_or("?"),
                    message.get(58).unwrap_or(""),
                    message.get(373).unwrap_or("?")
                ));
                step.app.push(message);
            }
            "4" => {
                if let Some(n) = message.num(36).filter(|n| *n > self.next_in) {
                    self.next_in = n;
                }
            }
            "5" => self.venue_logout(&message, now, step),
            _ => step.app.push(message),
        }
    }

    fn logged_on(&mut self, message: &Message, step: &mut Step) {
        if self.phase == Phase::LogonSent {
            self.phase = Phase::Active;
            step.logged_on = true;
            if message.get(141) == Some("Y") && !self.settings.reset_on_logon {
                step.warnings
                    .push("the venue reset the sequence numbers at logon".into());
            }
        }
    }

    fn venue_logout(&mut self, message: &Message, now: u64, step: &mut Step) {
        let text = message.get(58).unwrap_or("no reason given");
        let reason = if self.phase == Phase::LogoutSent {
            format!("logged out (the venue said: {text})")
        } else {
            self.send_admin(Message::new("5"), now, step);
            format!("the venue logged out: {text}")
        };
        self.phase = Phase::Disconnected;
        step.close = Some((reason, false));
    }

    /// The venue's ResendRequest: application messages we kept go again
    /// as PossDup; every other number in the range is gap-filled.
    fn resend(&mut self, message: &Message, now: u64, step: &mut Step) {
        let begin = message.num(7).unwrap_or(1).max(1);
        let last = self.next_out - 1;
        let end = match message.num(16) {
            Some(0) | None => last,
            Some(n) => n.min(last),
        };
        let mut seq = begin;
        while seq <= end {
            let kept = self
                .sent
                .iter()
                .find(|(s, _, _)| *s == seq)
                .map(|(_, sending, m)| (sending.clone(), m.clone()));
            match kept {
                Some((original, m)) => {
                    self.write(&m, seq, &time::format(now), Some(&original), step);
                    seq += 1;
                }
                None => {
                    let next = self
                        .sent
                        .iter()
                        .map(|(s, _, _)| *s)
                        .find(|s| *s > seq && *s <= end)
                        .unwrap_or(end + 1);
                    let fill = Message::new("4").with(123, "Y").with(36, next);
                    self.write(
                        &fill,
                        seq,
                        &time::format(now),
                        Some(&time::format(now)),
                        step,
                    );
                    seq = next;
                }
            }
        }
        self.last_sent = now;
    }

    /// The numbers and the kept messages, for `save-state`.
    pub fn save(&self, w: &mut StateWriter) {
        w.u64(self.next_out).u64(self.next_in);
        w.u32(self.sent.len() as u32);
        for (seq, sending, message) in &self.sent {
            w.u64(*seq).str(sending).u32(message.fields.len() as u32);
            for (tag, value) in &message.fields {
                w.u32(*tag).str(value);
            }
        }
        w.u8(match self.phase {
            Phase::Disconnected => 0,
            Phase::LogonSent => 1,
            Phase::Active => 2,
            Phase::LogoutSent => 3,
        });
        w.u64(self.last_sent)
            .u64(self.last_received)
            .bool(self.resending);
        w.bytes(self.decoder.held());
    }

    /// Restore what [`Self::save`] wrote.
    pub fn load(&mut self, r: &mut StateReader<'_>) -> Result<(), String> {
        self.next_out = r.u64()?;
        self.next_in = r.u64()?;
        let n = r.u32()? as usize;
        self.sent.clear();
        for _ in 0..n.min(KEEP_SENT) {
            let seq = r.u64()?;
            let sending = r.string()?;
            let count = r.u32()? as usize;
            let mut message = Message::default();
            for _ in 0..count.min(1024) {
                message.fields.push((r.u32()?, r.string()?));
            }
            self.sent.push_back((seq, sending, message));
        }
        self.phase = match r.u8()? {
            0 => Phase::Disconnected,
            1 => Phase::LogonSent,
            2 => Phase::Active,
            3 => Phase::LogoutSent,
            n => return Err(format!("session phase {n} is not one")),
        };
        self.last_sent = r.u64()?;
        self.last_received = r.u64()?;
        self.resending = r.bool()?;
        self.decoder = Decoder::default();
        self.decoder.push(r.bytes()?);
        Ok(())
    }
}
