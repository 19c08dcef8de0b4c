//! FIX tag-value messages: the frame (BeginString, BodyLength, CheckSum)
//! built and checked, fields as `tag=value` separated by SOH, and a byte
//! stream split into messages. No dependencies and no I/O: the `fix-venue`
//! connector uses it inside wasm, the host's gateway natively; what either
//! sends is held to FIX's rules by QuickFIX in the tests, not by this crate.

pub mod time;

use std::fmt;

/// The field separator.
pub const SOH: u8 = 0x01;

/// The most bytes a message may have: a larger BodyLength is garbage.
pub const MAX_BODY: usize = 1 << 20;

/// One message: its fields in wire order, frame fields (8, 9, 10) excluded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// BeginString (8) as received; empty for a message being built.
    pub begin: String,
    /// (tag, value) in order; a repeating group is its fields in order.
    pub fields: Vec<(u32, String)>,
}

impl Message {
    /// A message of type `msg_type` (tag 35) and nothing else yet.
    pub fn new(msg_type: &str) -> Self {
        Self {
            begin: String::new(),
            fields: vec![(35, msg_type.to_string())],
        }
    }

    /// Append `tag=value`.
    pub fn with(mut self, tag: u32, value: impl fmt::Display) -> Self {
        self.push(tag, value);
        self
    }

    /// Append `tag=value`.
    pub fn push(&mut self, tag: u32, value: impl fmt::Display) {
        self.fields.push((tag, value.to_string()));
    }

    /// The first value of `tag`.
    pub fn get(&self, tag: u32) -> Option<&str> {
        self.fields
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_str())
    }

    /// The message type (35).
    pub fn msg_type(&self) -> &str {
        self.get(35).unwrap_or("")
    }

    /// The first value of `tag` as a number.
    pub fn num(&self, tag: u32) -> Option<u64> {
        self.get(tag).and_then(|v| v.parse().ok())
    }

    /// The repeating group counted by `count_tag`: each entry's fields, an
    /// entry starting at each `first_tag`.
    pub fn group(&self, count_tag: u32, first_tag: u32) -> Vec<Vec<(u32, &str)>> {
        let Some(start) = self.fields.iter().position(|(t, _)| *t == count_tag) else {
            return Vec::new();
        };
        let mut entries: Vec<Vec<(u32, &str)>> = Vec::new();
        for (tag, value) in &self.fields[start + 1..] {
            if *tag == first_tag {
                entries.push(Vec::new());
            }
            match entries.last_mut() {
                Some(entry) => entry.push((*tag, value.as_str())),
                None => break,
            }
        }
        entries
    }

    /// The message on the wire with `begin` (tag 8), its BodyLength and
    /// CheckSum.
    pub fn encode(&self, begin: &str) -> Vec<u8> {
        let mut body = Vec::with_capacity(64 + self.fields.len() * 12);
        for (tag, value) in &self.fields {
            body.extend_from_slice(tag.to_string().as_bytes());
            body.push(b'=');
            body.extend_from_slice(value.as_bytes());
            body.push(SOH);
        }
        let mut out = format!("8={begin}\u{1}9={}\u{1}", body.len()).into_bytes();
        out.extend_from_slice(&body);
        let sum = checksum(&out);
        out.extend_from_slice(format!("10={sum:03}\u{1}").as_bytes());
        out
    }
}

/// The sum of `bytes` modulo 256 (FIX's CheckSum).
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, b| sum.wrapping_add(*b))
}

/// Why bytes from the peer are not a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Garbled {
    /// Bytes before a message's start were skipped.
    Skipped(usize),
    /// The frame is broken: a bad BodyLength, CheckSum or field.
    Frame(String),
}

impl fmt::Display for Garbled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Skipped(n) => write!(f, "{n} bytes that start no FIX message skipped"),
            Self::Frame(why) => write!(f, "garbled FIX message dropped: {why}"),
        }
    }
}

/// Splits a byte stream into messages; a message may arrive in pieces.
#[derive(Debug, Default)]
pub struct Decoder {
    buffer: Vec<u8>,
}

impl Decoder {
    /// Bytes that arrived.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes held for a message not complete yet.
    pub fn held(&self) -> &[u8] {
        &self.buffer
    }

    /// The next whole message; `None` until one is complete; an error for
    /// bytes dropped (the stream goes on after them).
    pub fn next_message(&mut self) -> Option<Result<Message, Garbled>> {
        if self.buffer.is_empty() {
            return None;
        }
        if !self.buffer.starts_with(b"8=") {
            let start = find(&self.buffer, b"8=FIX").unwrap_or_else(|| {
                // Keep a tail that may be the start of the next message.
                self.buffer.len().saturating_sub(4)
            });
            if start == 0 {
                return None;
            }
            self.buffer.drain(..start);
            return Some(Err(Garbled::Skipped(start)));
        }
        let Some(begin_end) = self.buffer.iter().position(|b| *b == SOH) else {
            return self.too_long_without_frame();
        };
        let rest = &self.buffer[begin_end + 1..];
        if !rest.starts_with(b"9=") {
            if rest.len() < 2 {
                return None;
            }
            return Some(Err(
                self.drop_frame("the second field is not BodyLength (9)")
            ));
        }
        let Some(length_end) = rest.iter().position(|b| *b == SOH) else {
            return self.too_long_without_frame();
        };
        let length = std::str::from_utf8(&rest[2..length_end])
            .ok()
            .and_then(|s| s.parse::<usize>().ok());
        let Some(length) = length.filter(|n| *n <= MAX_BODY) else {
            return Some(Err(
                self.drop_frame("BodyLength (9) is not a number in range")
            ));
        };
        let body_start = begin_end + 1 + length_end + 1;
        let trailer_start = body_start + length;
        let total = trailer_start + 7; // "10=NNN\x01"
        if self.buffer.len() < total {
            return None;
        }
        let trailer = &self.buffer[trailer_start..total];
        if !trailer.starts_with(b"10=") || trailer[6] != SOH {
            return Some(Err(self.drop_frame(
                "no CheckSum (10) where BodyLength (9) says the body ends",
            )));
        }
        let stated = std::str::from_utf8(&trailer[3..6])
            .ok()
            .and_then(|s| s.parse::<u16>().ok());
        let actual = checksum(&self.buffer[..trailer_start]);
        if stated != Some(u16::from(actual)) {
            let stated = String::from_utf8_lossy(&trailer[3..6]).into_owned();
            self.buffer.drain(..total);
            return Some(Err(Garbled::Frame(format!(
                "CheckSum (10) is {stated}, the bytes sum to {actual:03}"
            ))));
        }
        let begin = String::from_utf8_lossy(&self.buffer[2..begin_end]).into_owned();
        let body = self.buffer[body_start..trailer_start].to_vec();
        self.buffer.drain(..total);
        Some(
            parse_fields(&body)
                .map(|fields| Message { begin, fields })
                .map_err(Garbled::Frame),
        )
    }

    fn too_long_without_frame(&mut self) -> Option<Result<Message, Garbled>> {
        if self.buffer.len() < 64 {
            return None;
        }
        Some(Err(
            self.drop_frame("no field separator where the frame starts")
        ))
    }

    /// Drop the broken start of the buffer, up to the next message's start.
    fn drop_frame(&mut self, why: &str) -> Garbled {
        let next = find(&self.buffer[1..], b"8=FIX").map_or(self.buffer.len(), |i| i + 1);
        self.buffer.drain(..next);
        Garbled::Frame(why.to_string())
    }
}

fn parse_fields(body: &[u8]) -> Result<Vec<(u32, String)>, String> {
    let mut fields = Vec::new();
    for field in body.split(|b| *b == SOH) {
        if field.is_empty() {
            continue;
        }
        let eq = field
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(|| format!("field `{}` has no `=`", String::from_utf8_lossy(field)))?;
        let tag = std::str::from_utf8(&field[..eq])
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|t| *t > 0)
            .ok_or_else(|| format!("`{}` is not a tag", String::from_utf8_lossy(&field[..eq])))?;
        let value = std::str::from_utf8(&field[eq + 1..])
            .map_err(|_| format!("the value of tag {tag} is not UTF-8"))?;
        fields.push((tag, value.to_string()));
    }
    if fields.first().map(|(t, _)| *t) != Some(35) {
        return Err("the body does not start with MsgType (35)".to_string());
    }
    Ok(fields)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
