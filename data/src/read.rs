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

/// Bytes consumed from the file so far, shared with the reader stack so an
/// error can say where in the file it happened.
#[derive(Debug, Clone, Default)]
pub struct Offset(std::rc::Rc<std::cell::Cell<u64>>);

impl Offset {
    /// Bytes of the file read so far.
    pub fn get(&self) -> u64 {
        self.0.get()
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
        self.offset.0.set(self.offset.0.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.offset.0.set(self.offset.0.get() + amt as u64);
        self.inner.consume(amt)
    }
}

/// Every zstd frame of a stream, decoded one after the other.
struct Frames<R: BufRead> {
    frame: Option<StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
    /// The source between frames.
    idle: Option<R>,
}

impl<R: BufRead> Frames<R> {
    fn new(source: R) -> Self {
        Self {
            frame: None,
            idle: Some(source),
        }
    }
}

fn frame_error(e: FrameDecoderError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}"))
}

impl<R: BufRead> Read for Frames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
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
        Box::new(Frames::new(counted))
    } else {
        Box::new(counted)
    };
    let decoder = Decoder::new(reader).map_err(|e| {
        format!(
            "{shown}: not a readable DBN file (at byte {}): {e}",
            offset.get()
        )
    })?;
    Ok((decoder, offset))
}

/// The metadata of a file: read from its head only.
pub fn metadata(path: &Path, shown: &str) -> Result<dbn::Metadata, String> {
    let (decoder, _) = open(path, shown)?;
    Ok(decoder.metadata().clone())
}
