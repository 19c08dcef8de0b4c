//! Writing a journal off the data path.
//!
//! [`Journal`] is the cheap handle the data path records through: entries
//! are gathered and handed, a chunk at a time (at the latest at the
//! batch's end), through a bounded channel to the writer thread, which
//! numbers, serialises, hashes and writes them. When the channel is full
//! the data path waits rather than lose a record. [`JournalWriter`] owns the
//! thread: [`JournalWriter::sync`] at the end of every batch waits until
//! the writer has handed everything so far to the operating system (a crash
//! then loses at most the records of the batch it interrupts: a live
//! session does this), [`JournalWriter::check`] only asks whether it failed
//! (a replay, which a crash loses nothing of that running it again does
//! not give back), and [`JournalWriter::close`] ends the file and gives the
//! digest.
//!
//! Files: the path given, then `PATH.1`, `PATH.2`, ... each time the current
//! one would pass `max_bytes` (0: never). A regular file that exists is
//! never overwritten; something else that exists (`/dev/stdout`, a pipe) is
//! written as it is, without rotation. A file is flushed to disk (fsync)
//! when it is rotated and when the journal closes.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::journal::entry::{Entry, FORMAT, Header, Record};

/// Entries gathered on the data path before they go to the writer (at the
/// latest at the batch's end): one hand-over per batch, not per record.
const CHUNK: usize = 256;

/// Chunks the data path may get ahead of the writer before it waits.
const CHANNEL: usize = 32;

/// How long the writer polls for more before it sleeps.
const WRITER_SPIN: std::time::Duration = std::time::Duration::from_micros(300);

/// How long [`JournalWriter::sync`] polls before it sleeps until the writer answers.
const SPIN: std::time::Duration = std::time::Duration::from_millis(2);

/// The data path's handle on the session's journal; off by default, when
/// recording costs one branch.
#[derive(Debug, Clone, Default)]
pub struct Journal(Option<Arc<Sink>>);

#[derive(Debug)]
struct Sink {
    tx: SyncSender<Message>,
    /// Entries recorded and not yet handed to the writer, with their times.
    pending: Mutex<Vec<(u64, Entry)>>,
    /// Entries recorded so far.
    sent: AtomicU64,
    /// Entries written out at the last sync.
    synced: AtomicU64,
}

impl Sink {
    /// Hand the pending entries to the writer (waiting while it is behind);
    /// false when the writer has gone.
    fn hand_over(&self) -> bool {
        let chunk = std::mem::take(&mut *self.pending.lock().expect("journal"));
        chunk.is_empty() || self.tx.send(Message::Entries(chunk)).is_ok()
    }
}

enum Message {
    Entries(Vec<(u64, Entry)>),
    /// Write out everything sent so far and answer with this count.
    Sync(u64),
    /// Write the rest and end (handles may still be around).
    Close,
}

impl Journal {
    /// Whether a journal is being written.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Record what `entry` makes, stamped with market time `ts`; `entry`
    /// is called only when the journal is on. Waits while the writer is
    /// behind; after the writer failed the entry is lost, and the session
    /// learns why at its next [`JournalWriter::sync`].
    pub fn write(&self, ts: u64, entry: impl FnOnce() -> Entry) {
        if let Some(sink) = &self.0 {
            let (first, full) = {
                let mut pending = sink.pending.lock().expect("journal");
                pending.push((ts, entry()));
                (pending.len() == 1, pending.len() >= CHUNK)
            };
            let before = sink.sent.fetch_add(1, Ordering::Relaxed);
            // The first record since the last sync goes at once: the writer
            // wakes while the batch goes on, and is awake at its end.
            if full || (first && before == sink.synced.load(Ordering::Relaxed)) {
                sink.hand_over();
            }
        }
    }
}

/// What a closed journal wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalReport {
    /// The files, in order.
    pub files: Vec<PathBuf>,
    /// Records written (headers not counted).
    pub records: u64,
    /// Bytes written, headers included.
    pub bytes: u64,
    /// BLAKE3 over the records' lines, hex: equal for two runs of the same
    /// plugins, config and data (no wall time is in a record).
    pub digest: String,
    /// Why the journal is incomplete, if it is.
    pub error: Option<String>,
}

/// The session's end of a journal: the writer thread and its answers.
#[derive(Debug)]
pub struct JournalWriter {
    journal: Journal,
    path: PathBuf,
    acks: Receiver<Result<u64, String>>,
    thread: Option<std::thread::JoinHandle<JournalReport>>,
    synced: u64,
    failed: Option<String>,
    /// Time the session spent waiting in `sync`.
    waited: std::time::Duration,
}

impl JournalWriter {
    /// Start a journal at `path` (its header written and flushed), rotated
    /// past `max_bytes` (0: never). The error names the file.
    pub fn create(path: &Path, max_bytes: u64) -> Result<Self, String> {
        let named = |e: &dyn std::fmt::Display| format!("journal {}: {e}", path.display());
        let (file, rotate) = open_first(path).map_err(|e| named(&e))?;
        let mut files = Files {
            base: path.to_path_buf(),
            rotate,
            max_bytes,
            out: BufWriter::new(file),
            part: 0,
            part_bytes: 0,
            part_records: 0,
            report: JournalReport {
                files: vec![path.to_path_buf()],
                records: 0,
                bytes: 0,
                digest: String::new(),
                error: None,
            },
        };
        files.header().map_err(|e| named(&e))?;
        files.out.flush().map_err(|e| named(&e))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(CHANNEL);
        let (ack_tx, acks) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || files.run(&rx, &ack_tx))
            .map_err(|e| named(&e))?;
        Ok(Self {
            journal: Journal(Some(Arc::new(Sink {
                tx,
                pending: Mutex::default(),
                sent: AtomicU64::new(0),
                synced: AtomicU64::new(0),
            }))),
            path: path.to_path_buf(),
            acks,
            thread: Some(thread),
            synced: 0,
            failed: None,
            waited: std::time::Duration::ZERO,
        })
    }

    /// Time the session has spent waiting for the writer so far.
    pub fn waited(&self) -> std::time::Duration {
        self.waited
    }

    /// The handle to record through.
    pub fn journal(&self) -> Journal {
        self.journal.clone()
    }

    /// Wait until every record sent so far is written out (to the operating
    /// system); at once when nothing was sent since the last time. The error
    /// names the file and says why the journal is incomplete.
    pub fn sync(&mut self) -> Result<(), String> {
        if let Some(failed) = &self.failed {
            return Err(failed.clone());
        }
        let Some(sink) = &self.journal.0 else {
            return Ok(());
        };
        let sent = sink.sent.load(Ordering::Relaxed);
        if sent == self.synced {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let handed = sink.hand_over();
        let answer = match handed.then(|| sink.tx.send(Message::Sync(sent))) {
            Some(Ok(())) => loop {
                // The writer is usually done within microseconds: poll (a
                // thread's sleep and wake-up cost more than the wait), then block.
                let ack = if started.elapsed() < SPIN {
                    match self.acks.try_recv() {
                        Ok(ack) => Ok(ack),
                        Err(TryRecvError::Empty) => {
                            std::thread::yield_now();
                            continue;
                        }
                        Err(TryRecvError::Disconnected) => Err(()),
                    }
                } else {
                    self.acks.recv().map_err(|_| ())
                };
                match ack {
                    Ok(Ok(n)) if n >= sent => break Ok(()),
                    Ok(Ok(_)) => continue,
                    Ok(Err(e)) => break Err(e),
                    Err(()) => break Err("the writer thread ended".to_string()),
                }
            },
            _ => Err(self
                .acks
                .try_iter()
                .find_map(Result::err)
                .unwrap_or_else(|| "the writer thread ended".to_string())),
        };
        self.waited += started.elapsed();
        match answer {
            Ok(()) => {
                self.synced = sent;
                sink.synced.store(sent, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                let failed = format!("journal {}: {e}", self.path.display());
                self.failed = Some(failed.clone());
                Err(failed)
            }
        }
    }

    /// Whether the writer has failed, without waiting for it (a replay's
    /// check between batches; [`Self::sync`] waits). The error names the file.
    pub fn check(&mut self) -> Result<(), String> {
        if let Some(failed) = &self.failed {
            return Err(failed.clone());
        }
        if let Some(e) = self.acks.try_iter().find_map(Result::err) {
            let failed = format!("journal {}: {e}", self.path.display());
            self.failed = Some(failed.clone());
            return Err(failed);
        }
        Ok(())
    }

    /// End the journal: write the rest, flush it to disk, and say what was
    /// written. Records sent through a handle after this are dropped.
    pub fn close(mut self) -> JournalReport {
        let _ = self.sync();
        self.end()
    }

    fn end(&mut self) -> JournalReport {
        if let Some(sink) = &self.journal.0
            && sink.hand_over()
        {
            let _ = sink.tx.send(Message::Close);
        }
        let mut report = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_else(|| JournalReport {
                files: vec![self.path.clone()],
                records: 0,
                bytes: 0,
                digest: String::new(),
                error: Some("the writer thread panicked".to_string()),
            });
        // The writer's own error, named; else why a sync failed (named already).
        let path = self.path.display();
        report.error = match report.error.take() {
            Some(e) => Some(format!("journal {path}: {e}")),
            None => self.failed.take(),
        };
        report
    }
}

impl Drop for JournalWriter {
    /// A journal not closed (its session never ran) still ends its thread.
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.end();
        }
    }
}

/// Open the first file: a new regular file, or an existing non-regular one
/// (a device or pipe, never rotated).
fn open_first(path: &Path) -> std::io::Result<(File, bool)> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "already exists (a journal is never overwritten: remove it or choose another path)",
        )),
        Ok(_) => Ok((OpenOptions::new().write(true).open(path)?, false)),
        Err(_) => Ok((
            OpenOptions::new().write(true).create_new(true).open(path)?,
            true,
        )),
    }
}

/// The writer thread's state: the current file and the running digest.
struct Files {
    base: PathBuf,
    rotate: bool,
    max_bytes: u64,
    out: BufWriter<File>,
    part: u32,
    part_bytes: u64,
    part_records: u64,
    report: JournalReport,
}

impl Files {
    fn run(mut self, rx: &Receiver<Message>, acks: &Sender<Result<u64, String>>) -> JournalReport {
        let mut hasher = blake3::Hasher::new();
        let mut line = Vec::with_capacity(512);
        let mut failure = None;
        // Poll a little before sleeping: the session's next chunk or sync
        // usually comes within a batch's time, and a wake-up costs more.
        let next = || {
            let idle = std::time::Instant::now();
            loop {
                match rx.try_recv() {
                    Ok(message) => return Some(message),
                    Err(TryRecvError::Disconnected) => return None,
                    Err(TryRecvError::Empty) if idle.elapsed() < WRITER_SPIN => {
                        std::thread::yield_now();
                    }
                    Err(TryRecvError::Empty) => return rx.recv().ok(),
                }
            }
        };
        while let Some(message) = next() {
            let step = match message {
                Message::Entries(entries) => entries.into_iter().try_for_each(|(ts, entry)| {
                    let record = Record {
                        seq: self.report.records + 1,
                        ts,
                        entry,
                    };
                    line.clear();
                    serde_json::to_writer(&mut line, &record).map_err(std::io::Error::other)?;
                    line.push(b'\n');
                    hasher.update(&line);
                    self.append(&line)
                }),
                Message::Sync(n) => self.out.flush().map(|()| {
                    let _ = acks.send(Ok(n));
                }),
                Message::Close => break,
            };
            if let Err(e) = step {
                let _ = acks.send(Err(e.to_string()));
                failure = Some(e.to_string());
                break; // the channel closes: the data path stops waiting on it
            }
        }
        let end = self
            .out
            .flush()
            .and_then(|()| self.out.get_ref().sync_all());
        if let (None, Err(e)) = (&failure, end) {
            // A device or pipe may not sync; anything else is a lost tail.
            if e.kind() != std::io::ErrorKind::InvalidInput {
                failure = Some(e.to_string());
            }
        }
        self.report.digest = hasher.finalize().to_hex().to_string();
        self.report.error = failure;
        self.report
    }

    /// Write one record's line, starting the next file first if this one is full.
    fn append(&mut self, line: &[u8]) -> std::io::Result<()> {
        let len = line.len() as u64;
        if self.rotate
            && self.max_bytes > 0
            && self.part_records > 0
            && self.part_bytes + len > self.max_bytes
        {
            self.next_part()?;
        }
        self.out.write_all(line)?;
        self.part_bytes += len;
        self.part_records += 1;
        self.report.bytes += len;
        self.report.records += 1;
        Ok(())
    }

    fn next_part(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        self.part += 1;
        let path = part_path(&self.base, self.part);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        self.out = BufWriter::new(file);
        self.report.files.push(path);
        self.part_bytes = 0;
        self.part_records = 0;
        self.header()
    }

    fn header(&mut self) -> std::io::Result<()> {
        let header = Header {
            journal: FORMAT,
            part: self.part,
            host: format!("tradsys {}", env!("CARGO_PKG_VERSION")),
            wall_started_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        };
        let mut line = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.out.write_all(&line)?;
        self.part_bytes += line.len() as u64;
        self.report.bytes += line.len() as u64;
        Ok(())
    }
}

/// The file of part `part` of the journal at `base` (`base` itself for 0).
pub fn part_path(base: &Path, part: u32) -> PathBuf {
    if part == 0 {
        return base.to_path_buf();
    }
    let mut name = base.as_os_str().to_os_string();
    name.push(format!(".{part}"));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::entry::HaltEntry;

    fn halt(n: u64) -> Entry {
        Entry::Halt(HaltEntry {
            reason: crate::journal::Halt::MatcherFailed {
                matcher: "m".into(),
                fault: format!("reason {n}"),
            },
        })
    }

    #[test]
    fn records_are_numbered_rotated_past_the_size_and_digested_alike() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, max_bytes: u64| {
            let path = dir.path().join(name);
            let mut writer = JournalWriter::create(&path, max_bytes).unwrap();
            let journal = writer.journal();
            for n in 0..100 {
                journal.write(n, || halt(n));
                if n % 10 == 9 {
                    writer.sync().unwrap();
                }
            }
            writer.close()
        };
        let whole = write("whole.journal", 0);
        let rotated = write("rotated.journal", 1000);
        assert_eq!((whole.records, rotated.records), (100, 100));
        assert_eq!(whole.files.len(), 1);
        assert!(rotated.files.len() > 3, "{:?}", rotated.files);
        assert_eq!(rotated.files[1], dir.path().join("rotated.journal.1"));
        for file in &rotated.files {
            let size = std::fs::metadata(file).unwrap().len();
            assert!(size <= 1000 + 100, "{}: {size} bytes", file.display());
        }
        // Headers differ (wall time, part); the records and so the digest do not.
        assert_eq!(whole.digest, rotated.digest);
        assert_eq!(whole.error, None);
        let first = std::fs::read_to_string(&whole.files[0]).unwrap();
        let second_line = first.lines().nth(1).unwrap();
        assert_eq!(
            second_line,
            r#"{"seq":1,"ts":0,"kind":"halt","reason":"matcher m failed: reason 0"}"#
        );
    }

    #[test]
    fn an_existing_journal_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        std::fs::write(&path, "keep me").unwrap();
        let error = JournalWriter::create(&path, 0).unwrap_err();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("never overwritten"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    }

    #[test]
    fn a_device_that_refuses_writes_is_an_error_naming_it() {
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let error = JournalWriter::create(full, 0).unwrap_err();
        assert!(error.starts_with("journal /dev/full: "), "{error}");
    }
}
