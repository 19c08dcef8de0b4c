//! The harness of the property tests of tradsys's parsers of untrusted
//! bytes (plugin files, keys, saved state, DBN and CSV files, configs):
//! each call under test runs within [`bounded`], a time limit and a cap on
//! the heap it may grow, and gets arbitrary input or a valid input with
//! bytes flipped, set, inserted, deleted or cut ([`mutated`],
//! [`mutated_text`]).
//!
//! A test binary that uses this crate counts its allocations with this
//! crate's global allocator ([`HEAP`]); it must not declare its own.
//! `PROPTEST_CASES` sets the number of cases; `cargo xtask fuzz` runs many.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, mpsc};
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::Index;

// The bounds every call is held to.

/// Every allocation of a test binary linking this crate is counted, so a
/// call can be capped.
#[global_allocator]
pub static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// Wall time one call may take (a debug build on a loaded machine).
pub const TIME_LIMIT: Duration = Duration::from_secs(30);

/// A heap limit for [`bounded`] far above what inputs of a few KiB need.
/// Past it an allocation fails and the test binary aborts with "memory
/// allocation of N bytes failed": a length field was believed before its
/// bytes were read.
pub const HEAP_LIMIT: usize = 64 << 20;

/// A heap limit for [`bounded`] when a call unpacks zstd: a window (at most
/// 128 MiB, ruzstd's default cap) and the decoder's buffers.
pub const ZSTD_HEAP_LIMIT: usize = 192 << 20;

/// One capped call at a time, so the cap measures that call alone.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `call` on a thread of its own, within [`TIME_LIMIT`] and adding at most
/// `heap_limit` bytes ([`HEAP_LIMIT`], [`ZSTD_HEAP_LIMIT`]) to the heap live
/// when it starts; a panic in it is the caller's panic.
pub fn bounded<T: Send + 'static>(
    heap_limit: usize,
    call: impl FnOnce() -> T + Send + 'static,
) -> T {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    HEAP.set_limit(HEAP.allocated() + heap_limit)
        .expect("a cap above the live heap");
    let (done, result) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = done.send(call());
    });
    let result = result.recv_timeout(TIME_LIMIT);
    HEAP.set_limit(usize::MAX).expect("the cap lifted");
    match result {
        Ok(value) => {
            worker.join().expect("the call returned");
            value
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the call took over {TIME_LIMIT:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the call neither returned nor panicked"),
        },
    }
}

// Mutations of a valid input.

/// One change to a byte string; indices are taken modulo its length.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Flip one bit.
    Flip(Index, u8),
    /// Overwrite one byte (for text, often one of its alphabet).
    Set(Index, u8),
    /// Overwrite four bytes with a little-endian value (a length field;
    /// binary inputs only).
    Word(Index, u32),
    /// Insert bytes.
    Insert(Index, Vec<u8>),
    /// Delete up to n bytes.
    Delete(Index, usize),
    /// Cut the input short.
    Truncate(Index),
}

/// An edit of a binary input: any byte, or a word of edge values.
pub fn edit() -> impl Strategy<Value = Edit> {
    let word = prop_oneof![
        Just(0u32),
        Just(1),
        Just(0x7f),
        Just(0xff),
        Just(0xffff),
        Just(0x7fff_ffff),
        Just(0x8000_0000),
        Just(u32::MAX),
        any::<u32>(),
    ];
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Edit::Flip(at, bit)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Edit::Set(at, byte)),
        (any::<Index>(), word).prop_map(|(at, value)| Edit::Word(at, value)),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (any::<Index>(), 1usize..32).prop_map(|(at, n)| Edit::Delete(at, n)),
        any::<Index>().prop_map(Edit::Truncate),
    ]
}

/// An edit of a text input: the bytes set or inserted are three times in
/// four from `alphabet` (the bytes its syntax uses), and no [`Edit::Word`].
pub fn text_edit(alphabet: &'static [u8]) -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![
        3 => prop::sample::select(alphabet),
        1 => any::<u8>(),
    ];
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Edit::Flip(at, bit)),
        (any::<Index>(), byte.clone()).prop_map(|(at, byte)| Edit::Set(at, byte)),
        (any::<Index>(), prop::collection::vec(byte, 1..16))
            .prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (any::<Index>(), 1usize..32).prop_map(|(at, n)| Edit::Delete(at, n)),
        any::<Index>().prop_map(Edit::Truncate),
    ]
}

/// `bytes` with `edits` made in order.
pub fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len();
        match edit {
            Edit::Insert(at, new) => {
                let at = at.index(len + 1);
                bytes.splice(at..at, new.iter().copied());
            }
            _ if len == 0 => {}
            Edit::Flip(at, bit) => bytes[at.index(len)] ^= 1 << bit,
            Edit::Set(at, byte) => bytes[at.index(len)] = *byte,
            Edit::Word(at, value) => {
                let at = at.index(len);
                let end = (at + 4).min(len);
                bytes[at..end].copy_from_slice(&value.to_le_bytes()[..end - at]);
            }
            Edit::Delete(at, n) => {
                let at = at.index(len);
                bytes.drain(at..(at + n).min(len));
            }
            Edit::Truncate(at) => bytes.truncate(at.index(len)),
        }
    }
    bytes
}

/// `valid` (a binary input) with one to six [`edit`]s.
pub fn mutated(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    edited(valid, edit())
}

/// `valid` (a text input) with one to six [`text_edit`]s from `alphabet`.
pub fn mutated_text(valid: Vec<u8>, alphabet: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    edited(valid, text_edit(alphabet))
}

fn edited(valid: Vec<u8>, edit: impl Strategy<Value = Edit>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(edit, 1..6).prop_map(move |edits| apply(valid.clone(), &edits))
}

// Valid inputs.

/// The shared DBN sample files (`shared/data/databento` beside the
/// checkout), if there; sorted by name.
pub fn dbn_samples() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/databento");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "skipped: {} (the shared DBN samples) is absent",
            dir.display()
        );
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".dbn.zst"))
        .map(|p| std::fs::read(p).expect("a sample reads"))
        .collect()
}
