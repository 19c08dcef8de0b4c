//! Opening a DBN file: `.dbn` as it is, `.dbn.zst` through `ruzstd` (pure
//! Rust, so it builds for wasm), every zstd frame in turn. Databento writes
//! the metadata and the records as separate frames; a decoder that stops
//! after the first frame sees a valid file with no records.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use dbn::decode::DbnMetadata;
use dbn::decode::dbn::Decoder;
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
    let reader: Box<dyn Read> = if shown.ends_with(".zst") {
        Box::new(Frames::new(counted, offset.clone()))
    } else {
        Box::new(counted)
    };
    let decoder = Decoder::new(reader).map_err(|e| {
        let (at, why) = offset
            .damage()
            .unwrap_or_else(|| (offset.get(), e.to_string()));
        format!("{shown}: not a readable DBN file (at byte {at}): {why}")
    })?;
    Ok((decoder, offset))
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
