//! Opening a DBN file: `.dbn` as it is, `.dbn.zst` through `ruzstd` (pure
//! Rust, so it builds for wasm), every zstd frame in turn. Databento writes
//! the metadata and the records as separate frames; a decoder that stops
//! after the first frame sees a valid file with no records.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use dbn::decode::DbnMetadata;
use dbn::decode::dbn::Decoder;
use dbn::{Record as _, RecordRef, RecordRefEnum};
use ruzstd::decoding::StreamingDecoder;
use ruzstd::decoding::errors::FrameDecoderError;

/// Bytes consumed from the file so far, and the damage found in it, shared
/// with the reader stack so an error can say where in the file it happened.
///
/// A damaged zstd stream reads as its end, with the damage kept here: the
/// DBN decoder then hands out every whole record decoded before it (instead
/// of dropping what it had buffered), and the caller reports the damage
/// once the records run out.
#[derive(Debug, Clone, Default)]
pub struct Offset(std::rc::Rc<Progress>);

#[derive(Debug, Default)]
struct Progress {
    bytes: std::cell::Cell<u64>,
    damage: std::cell::RefCell<Option<(u64, String)>>,
}

impl Offset {
    /// Bytes of the file read so far.
    pub fn get(&self) -> u64 {
        self.0.bytes.get()
    }

    /// Where the stream was found damaged, and how, if it was.
    pub fn damage(&self) -> Option<(u64, String)> {
        self.0.damage.borrow().clone()
    }

    fn add(&self, n: usize) {
        self.0.bytes.set(self.0.bytes.get() + n as u64);
    }

    fn damaged(&self, error: &io::Error) {
        let mut damage = self.0.damage.borrow_mut();
        if damage.is_none() {
            *damage = Some((self.get(), error.to_string()));
        }
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    offset: Offset,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.offset.add(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.offset.add(amt);
        self.inner.consume(amt)
    }
}

/// Every zstd frame of a stream, decoded one after the other; damage ends
/// the stream and is noted in `offset`.
struct Frames<R: BufRead> {
    frame: Option<StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
    /// The source between frames.
    idle: Option<R>,
    offset: Offset,
}

impl<R: BufRead> Frames<R> {
    fn new(source: R, offset: Offset) -> Self {
        Self {
            frame: None,
            idle: Some(source),
            offset,
        }
    }

    fn next(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                let frame = self.frame.take().expect("a frame is open");
                self.idle = Some(frame.into_inner());
            }
            let Some(mut source) = self.idle.take() else {
                return Ok(0);
            };
            if source.fill_buf()?.is_empty() {
                self.idle = Some(source);
                return Ok(0);
            }
            self.frame = Some(StreamingDecoder::new(source).map_err(frame_error)?);
        }
    }
}

fn frame_error(e: FrameDecoderError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}"))
}

impl<R: BufRead> Read for Frames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.offset.damage().is_some() {
            return Ok(0);
        }
        match self.next(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                self.offset.damaged(&e);
                self.frame = None;
                self.idle = None;
                Ok(0)
            }
        }
    }
}

/// A DBN decoder over one file.
pub type FileDecoder = Decoder<Box<dyn Read>>;

/// Whether `name` is a DBN file this connector reads.
pub fn is_dbn(name: &str) -> bool {
    name.ends_with(".dbn") || name.ends_with(".dbn.zst")
}

/// Open `path` (shown as `shown` in errors): its decoder, metadata read, and
/// the offset counter of the file.
pub fn open(path: &Path, shown: &str) -> Result<(FileDecoder, Offset), String> {
    let file = File::open(path).map_err(|e| format!("{shown}: cannot open: {e}"))?;
    let offset = Offset::default();
    let counted = Counting {
        inner: BufReader::with_capacity(64 << 10, file),
        offset: offset.clone(),
    };
    let mut reader: Box<dyn Read> = if shown.ends_with(".zst") {
        Box::new(Frames::new(counted, offset.clone()))
    } else {
        Box::new(counted)
    };
    let refused = |why: String| {
        let (at, why) = offset.damage().unwrap_or_else(|| (offset.get(), why));
        format!("{shown}: not a readable DBN file (at byte {at}): {why}")
    };
    let head = head(&mut reader).map_err(|e| refused(e.to_string()))?;
    // The versions this decoder reads (it refuses the others at the prelude).
    let check = head.starts_with(b"DBN") && head.get(3).is_some_and(|v| (1..=3).contains(v));
    let reader: Box<dyn Read> = Box::new(Checked {
        head: io::Cursor::new(head),
        rest: reader,
        offset: offset.clone(),
        check,
        left: 0,
    });
    let decoder = Decoder::new(reader).map_err(|e| refused(e.to_string()))?;
    Ok((decoder, offset))
}

/// Bytes of the prelude: `DBN`, the version, the metadata's length.
const PRELUDE: usize = 8;

/// The prelude and the metadata of a stream, read here because the DBN
/// decoder sizes its buffer from the length field alone: a length larger
/// than the stream (up to 4 GiB) is refused before anything that large is
/// allocated. Anything that is not a DBN prelude is handed on as it is.
fn head(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(PRELUDE);
    reader.take(PRELUDE as u64).read_to_end(&mut head)?;
    if head.len() == PRELUDE && head.starts_with(b"DBN") {
        let length = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        // Grows with the bytes read, never ahead of them.
        reader.take(u64::from(length)).read_to_end(&mut head)?;
        let read = head.len() - PRELUDE;
        if read < length as usize {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the metadata claims {length} bytes but the stream ends after {read}"),
            ));
        }
    }
    Ok(head)
}

/// What the decoder reads: the head [`head`] read (freed once read), then
/// the records, their framing checked on the way. A record whose length is
/// not a whole number of 8-byte words ends the stream as damage: the decoder
/// refers to each record where it lies in its buffer, and the record after
/// such a one would be misaligned.
struct Checked<R> {
    head: io::Cursor<Vec<u8>>,
    rest: R,
    offset: Offset,
    /// Whether the head is the prelude of a version whose records start
    /// with a one-byte length in words of 4 (1 to 3); else the decoder
    /// refuses the file and nothing is checked.
    check: bool,
    /// Bytes of the current record still to come.
    left: usize,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.head.position() < self.head.get_ref().len() as u64 {
            return self.head.read(buf);
        }
        if self.head.get_ref().capacity() > 0 {
            self.head = io::Cursor::new(Vec::new());
        }
        if self.offset.damage().is_some() {
            return Ok(0);
        }
        let n = self.rest.read(buf)?;
        if !self.check {
            return Ok(n);
        }
        let mut at = 0;
        while at < n {
            if self.left == 0 {
                let length = usize::from(buf[at]) * 4;
                if !length.is_multiple_of(8) {
                    self.offset.damaged(&io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("a record of {length} bytes, not a whole number of 8-byte words"),
                    ));
                    // The records before it are whole.
                    return Ok(at);
                }
                // A length of 0 is the decoder's to refuse.
                self.left = length.max(1);
            }
            let step = self.left.min(n - at);
            self.left -= step;
            at += step;
        }
        Ok(n)
    }
}

/// The error for a file whose records stopped after `records`: the damage
/// the stream noted, else the decoder's `error`; `None` for a clean end.
pub fn stopped(
    shown: &str,
    offset: &Offset,
    records: u64,
    error: Option<&dbn::Error>,
) -> Option<String> {
    let (at, why) = match (offset.damage(), error) {
        (Some(damage), _) => damage,
        (None, Some(e)) => (offset.get(), e.to_string()),
        (None, None) => return None,
    };
    Some(format!(
        "{shown}: corrupt or truncated at byte {at} (after record {records}): {why}"
    ))
}

/// `record` as the enum of its type: dbn's `RecordRef::as_enum`, but a
/// record shorter than its type (a damaged file states any length) is an
/// error, where `as_enum` would read past its end.
pub fn as_enum<'a>(record: &RecordRef<'a>) -> dbn::Result<RecordRefEnum<'a>> {
    use dbn::RType as R;
    use std::mem::size_of;
    #[allow(deprecated)] // OhlcvDeprecated: still a type a file may hold
    let needed = match record.header().rtype()? {
        R::Mbp0 => size_of::<dbn::TradeMsg>(),
        R::Mbp1 | R::Tbbo => size_of::<dbn::Mbp1Msg>(),
        R::Mbp10 => size_of::<dbn::Mbp10Msg>(),
        R::OhlcvDeprecated | R::Ohlcv1S | R::Ohlcv1M | R::Ohlcv1H | R::Ohlcv1D | R::OhlcvEod => {
            size_of::<dbn::OhlcvMsg>()
        }
        R::Status => size_of::<dbn::StatusMsg>(),
        R::InstrumentDef => size_of::<dbn::InstrumentDefMsg>(),
        R::Imbalance => size_of::<dbn::ImbalanceMsg>(),
        R::Error => size_of::<dbn::ErrorMsg>(),
        R::SymbolMapping => size_of::<dbn::SymbolMappingMsg>(),
        R::System => size_of::<dbn::SystemMsg>(),
        R::Statistics => size_of::<dbn::StatMsg>(),
        R::Mbo => size_of::<dbn::MboMsg>(),
        R::Cmbp1 | R::Tcbbo => size_of::<dbn::Cmbp1Msg>(),
        R::Cbbo1S | R::Cbbo1M => size_of::<dbn::CbboMsg>(),
        R::Bbo1S | R::Bbo1M => size_of::<dbn::BboMsg>(),
    };
    let size = record.record_size();
    if size < needed {
        return Err(dbn::Error::decode(format!(
            "a record of type 0x{:02x} has {size} bytes, its type needs {needed}",
            record.header().rtype
        )));
    }
    RecordRefEnum::try_from(*record)
}

/// The raw symbol of each instrument id the metadata's symbol mappings name
/// (when they map to instrument ids).
pub fn symbols(metadata: &dbn::Metadata) -> std::collections::BTreeMap<u32, String> {
    let mut symbols = std::collections::BTreeMap::new();
    if metadata.stype_out == dbn::SType::InstrumentId {
        for mapping in &metadata.mappings {
            for interval in &mapping.intervals {
                if let Ok(id) = interval.symbol.parse::<u32>() {
                    symbols.insert(id, mapping.raw_symbol.clone());
                }
            }
        }
    }
    symbols
}

/// The metadata of a file: read from its head only.
pub fn metadata(path: &Path, shown: &str) -> Result<dbn::Metadata, String> {
    let (decoder, _) = open(path, shown)?;
    Ok(decoder.metadata().clone())
}
