//! `dbn-replay`: a data-only connector that replays Databento DBN files
//! (`.dbn`, or `.dbn.zst` decompressed in pure Rust) from the directory the
//! host preopens read-only at `/data`. What each record becomes is in
//! [`map`].
//!
//! Config keys (defaults in brackets):
//! - `file` [required]: a file or a directory relative to `/data` (`.` for
//!   the directory itself), or several separated by commas; a directory
//!   stands for every `.dbn` and `.dbn.zst` file in it. Definition files are
//!   read first, whole; the data files replay one after the other in the
//!   order of their start time (then name), so a directory of daily files
//!   replays in time order.
//! - `schema` [whatever the files hold]: the schema the data files must have
//!   (`mbo`, `mbp-1`, `mbp-10`, `tbbo`, `trades`, `bbo-1s`, `ohlcv-1m`, ...).
//!   Without it the data files must share one schema (a status file may sit
//!   beside them).
//! - `symbol` [the file's symbol mappings, else `DBN-<id>`]: the symbol of an
//!   instrument neither a definition nor the metadata names.
//! - `tick` [the definition's, else inferred from the first 10,000 records]:
//!   the tick of an instrument without a definition.
//! - `multiplier` [the definition's, else 1]: likewise.
//!
//! A file that cannot be read, a corrupt or truncated one, ends the stream
//! with an error naming the file and the byte offset; unknown record types
//! are skipped and counted (logged at the end). Save-state is the exact
//! record position, so a restart or a new version resumes at the next
//! record. Orders are refused: this is a data-only connector.

pub mod map;
#[cfg(test)]
mod props;

use std::collections::VecDeque;
use std::path::{Component, Path, PathBuf};

use map::Mapper;
use tradsys_data::dbn::decode::{DbnMetadata, DecodeRecordRef};
use tradsys_data::dbn::{RecordRefEnum, Schema};
use tradsys_data::read::{self, FileDecoder, Offset};
use tradsys_sdk::host::{self, LogLevel};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{Config, Connector, MarketEvent, OrderCommand, OrderEvent, fixed};

/// Where the host mounts the data directory inside the guest.
pub const DATA_DIR: &str = "/data";

/// Records read ahead to infer the tick of instruments without a definition.
pub const TICK_SCAN: usize = 10_000;

const STATE_VERSION: u8 = 1;

const DATA_ONLY: &str = "dbn-replay is a data-only connector";

/// A data file to replay.
#[derive(Debug, Clone)]
struct DataFile {
    path: PathBuf,
    /// As the user named it (relative to `/data`).
    shown: String,
    tbbo: bool,
}

/// The file being read.
struct Reading {
    decoder: FileDecoder,
    offset: Offset,
}

/// The replay connector; see the crate documentation.
pub struct DbnReplay {
    files: Vec<DataFile>,
    /// Index of the file being read (`files.len()` once all are read).
    index: usize,
    /// Records consumed from that file.
    records: u64,
    reading: Option<Reading>,
    mapper: Mapper,
    queued: VecDeque<MarketEvent>,
    clock: u64,
    reported_skips: bool,
    /// Why the stream cannot go on, once what came before is delivered.
    failure: Option<String>,
}

impl Connector for DbnReplay {
    fn new(config: &Config) -> Result<Self, String> {
        Self::open(Path::new(DATA_DIR), config)
    }

    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<MarketEvent>>, String> {
        self.fill(max);
        if self.queued.is_empty() {
            if let Some(failure) = &self.failure {
                return Err(failure.clone());
            }
            self.report_skips();
            return Ok(None);
        }
        let n = max.min(self.queued.len());
        let batch: Vec<MarketEvent> = self.queued.drain(..n).collect();
        if let Some(ts) = batch.iter().rev().find_map(MarketEvent::ts) {
            self.clock = self.clock.max(ts);
        }
        Ok(Some(batch))
    }

    fn submit_orders(&mut self, orders: &[OrderCommand]) -> Vec<OrderEvent> {
        orders
            .iter()
            .map(|o| o.refused(self.clock, DATA_ONLY))
            .collect()
    }

    /// The exact position: file, records consumed, events not yet
    /// delivered, and what the host was already told.
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION).u32(self.files.len() as u32);
        for file in &self.files {
            w.str(&file.shown);
        }
        w.u32(self.index as u32).u64(self.records).u64(self.clock);
        w.u32(self.mapper.defined.len() as u32);
        for id in &self.mapper.defined {
            w.u32(*id);
        }
        w.u32(self.mapper.touch.len() as u32);
        for (id, (a, b, c, d)) in &self.mapper.touch {
            w.u32(*id).i64(*a).i64(*b).i64(*c).i64(*d);
        }
        w.u32(self.mapper.skipped.len() as u32);
        for (kind, n) in &self.mapper.skipped {
            w.str(kind).u64(*n);
        }
        w.u32(self.queued.len() as u32);
        for event in &self.queued {
            w.market_event(event);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let files = r.u32()?;
        let mut names = Vec::new();
        for _ in 0..files {
            names.push(r.string()?);
        }
        let now: Vec<&str> = self.files.iter().map(|f| f.shown.as_str()).collect();
        if names != now {
            return Err(format!(
                "the saved position is in the files {names:?}, the config now names {now:?}"
            ));
        }
        let (index, records, clock) = (r.u32()? as usize, r.u64()?, r.u64()?);
        if index > self.files.len() {
            return Err(format!("saved file index {index} is out of range"));
        }
        let mut defined = std::collections::BTreeSet::new();
        for _ in 0..r.u32()? {
            defined.insert(r.u32()?);
        }
        let mut touch = std::collections::BTreeMap::new();
        for _ in 0..r.u32()? {
            touch.insert(r.u32()?, (r.i64()?, r.i64()?, r.i64()?, r.i64()?));
        }
        let mut skipped = std::collections::BTreeMap::new();
        for _ in 0..r.u32()? {
            skipped.insert(r.string()?, r.u64()?);
        }
        let mut queued = VecDeque::new();
        for _ in 0..r.u32()? {
            queued.push_back(r.market_event()?);
        }
        r.finish()?;
        (self.index, self.records, self.clock) = (index, records, clock);
        (self.mapper.defined, self.mapper.touch) = (defined, touch);
        self.mapper.skipped = skipped;
        self.queued = queued;
        self.reading = None; // reopened, and skipped to `records`, on the next call
        Ok(())
    }
}

impl DbnReplay {
    /// The connector over the files `config` names under `base` (the host's
    /// `/data`; a test's own directory natively).
    pub fn open(base: &Path, config: &Config) -> Result<Self, String> {
        config.only(&["file", "schema", "symbol", "tick", "multiplier", "seed"])?;
        let entries = config
            .get("file")
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .ok_or("config `file`: required (a DBN file or directory relative to /data)")?;
        let schema = match config.get("schema").map(str::trim) {
            None | Some("") => None,
            Some(name) => Some(name.parse::<Schema>().map_err(|_| {
                format!("config `schema`: `{name}` is not a DBN schema (mbo, mbp-1, mbp-10, tbbo, trades, bbo-1s, ohlcv-1m, ...)")
            })?),
        };
        let mut mapper = Mapper {
            symbol: config
                .get("symbol")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            tick: match config.get("tick") {
                Some(_) => Some(config.fixed_or("tick", 0)?).filter(|t| *t > 0),
                None => None,
            },
            multiplier: config.parse_or("multiplier", 1i64)?,
            ..Mapper::default()
        };
        if config.get("tick").is_some() && mapper.tick.is_none() {
            return Err("config `tick`: must be positive".into());
        }
        if mapper.multiplier <= 0 {
            return Err("config `multiplier`: must be positive".into());
        }

        let mut found = Vec::new();
        for entry in entries.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            list(base, entry, &mut found)?;
        }
        let mut definitions = Vec::new();
        let mut data = Vec::new();
        for (path, shown) in found {
            let metadata = read::metadata(&path, &shown)?;
            mapper.symbols.extend(read::symbols(&metadata));
            match metadata.schema {
                Some(Schema::Definition) => definitions.push((path, shown)),
                file_schema => data.push((metadata.start, shown.clone(), path, file_schema)),
            }
        }
        if definitions.is_empty() && data.is_empty() {
            return Err(format!(
                "config `file`: no DBN files (.dbn, .dbn.zst) in `{entries}`"
            ));
        }
        data.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        check_schemas(&data, schema)?;

        for (path, shown) in &definitions {
            read_definitions(&mut mapper, path, shown)?;
        }
        let files: Vec<DataFile> = data
            .into_iter()
            .map(|(_, shown, path, schema)| DataFile {
                path,
                shown,
                tbbo: schema == Some(Schema::Tbbo),
            })
            .collect();
        if mapper.tick.is_none() {
            for file in &files {
                infer_ticks(&mut mapper, file)?;
            }
        }
        let mut replay = Self {
            files,
            index: 0,
            records: 0,
            reading: None,
            mapper,
            queued: VecDeque::new(),
            clock: 0,
            reported_skips: false,
            failure: None,
        };
        // The first record decoded now, in `init`: a decoder's first record
        // costs about 9 ms (natively) and belongs to opening the data, not to
        // the first batch. Damage found here ends the stream when its turn
        // comes, as any damage does.
        replay.fill(1);
        Ok(replay)
    }

    /// Decode records until `max` events are queued, the files end, or a
    /// file is found damaged (`failure`, reported once what came before it
    /// was delivered).
    fn fill(&mut self, max: usize) {
        let mut out = Vec::new();
        while self.failure.is_none() && self.queued.len() < max && self.index < self.files.len() {
            let file = &self.files[self.index];
            if self.reading.is_none() {
                match resume(&mut self.mapper, file, self.records) {
                    Ok(reading) => self.reading = Some(reading),
                    Err(e) => {
                        self.failure = Some(e);
                        return;
                    }
                }
            }
            let reading = self.reading.as_mut().expect("a file is open");
            match reading.decoder.decode_record_ref() {
                Ok(Some(record)) => {
                    self.records += 1;
                    self.mapper.map(&record, file.tbbo, &mut out);
                    self.queued.extend(out.drain(..));
                }
                Ok(None) => {
                    if let Some(damage) =
                        read::stopped(&file.shown, &reading.offset, self.records, None)
                    {
                        self.failure = Some(damage);
                        return;
                    }
                    self.index += 1;
                    self.records = 0;
                    self.reading = None;
                }
                Err(e) => {
                    let failure =
                        read::stopped(&file.shown, &reading.offset, self.records, Some(&e));
                    self.failure = failure;
                    return;
                }
            }
        }
    }

    /// Log the records skipped, once, at the end.
    fn report_skips(&mut self) {
        if self.reported_skips || self.mapper.skipped.is_empty() {
            return;
        }
        self.reported_skips = true;
        let skipped: Vec<String> = self
            .mapper
            .skipped
            .iter()
            .map(|(kind, n)| format!("{kind}: {n}"))
            .collect();
        host::log(
            LogLevel::Info,
            &format!(
                "records skipped (no market event for them): {}",
                skipped.join(", ")
            ),
        );
    }

    /// Records skipped so far, by kind.
    pub fn skipped(&self) -> &std::collections::BTreeMap<String, u64> {
        &self.mapper.skipped
    }
}

/// `entry` under `base`: the file, or every DBN file of the directory.
fn list(base: &Path, entry: &str, out: &mut Vec<(PathBuf, String)>) -> Result<(), String> {
    let relative = Path::new(entry);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "config `file`: `{entry}` must be a plain path relative to /data (no leading `/`, no `..`)"
        ));
    }
    let path = base.join(relative);
    let meta = std::fs::metadata(&path).map_err(|e| format!("config `file`: {entry}: {e}"))?;
    if !meta.is_dir() {
        if !read::is_dbn(entry) {
            return Err(format!(
                "config `file`: {entry}: not a DBN file (.dbn or .dbn.zst)"
            ));
        }
        out.push((path, entry.to_owned()));
        return Ok(());
    }
    let mut names: Vec<String> = std::fs::read_dir(&path)
        .map_err(|e| format!("config `file`: {entry}: {e}"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| !name.starts_with('.') && read::is_dbn(name))
        .collect();
    names.sort();
    for name in names {
        let shown = if entry == "." {
            name.clone()
        } else {
            format!("{}/{name}", entry.trim_end_matches('/'))
        };
        out.push((path.join(&name), shown));
    }
    Ok(())
}

/// The data files share one schema (a status file aside), the one asked for
/// if `schema` is set.
fn check_schemas(
    data: &[(u64, String, PathBuf, Option<Schema>)],
    wanted: Option<Schema>,
) -> Result<(), String> {
    let name = |s: Option<Schema>| s.map_or("mixed schemas", |s| s.as_str());
    let mut first: Option<(&str, Option<Schema>)> = None;
    for (_, shown, _, schema) in data {
        if *schema == Some(Schema::Status) {
            continue;
        }
        if let Some(wanted) = wanted
            && *schema != Some(wanted)
        {
            return Err(format!(
                "{shown}: holds {} records, but config `schema` is {}",
                name(*schema),
                wanted.as_str()
            ));
        }
        match first {
            None => first = Some((shown, *schema)),
            Some((other, s)) if s != *schema => {
                return Err(format!(
                    "{shown}: holds {} records but {other} holds {}: replay one schema at a time (definition and status files may sit beside)",
                    name(*schema),
                    name(s)
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Open `file` and skip the `records` a saved instance had consumed
/// (definitions among them are noted again, nothing is sent).
fn resume(mapper: &mut Mapper, file: &DataFile, records: u64) -> Result<Reading, String> {
    let (mut decoder, offset) = read::open(&file.path, &file.shown)?;
    let mut ignored = Vec::new();
    for n in 0..records {
        match decoder.decode_record_ref() {
            Ok(Some(record)) => {
                if let Ok(RecordRefEnum::InstrumentDef(def)) = read::as_enum(&record) {
                    mapper.definition(def, &mut ignored);
                }
            }
            Ok(None) => {
                return Err(
                    read::stopped(&file.shown, &offset, n, None).unwrap_or_else(|| {
                        format!(
                            "{}: the saved position is record {records}, the file has {n}",
                            file.shown
                        )
                    }),
                );
            }
            Err(e) => {
                let failure = read::stopped(&file.shown, &offset, n, Some(&e));
                return Err(failure.unwrap_or_default());
            }
        }
    }
    Ok(Reading { decoder, offset })
}

/// Every definition of a definitions file, noted (none is sent yet).
fn read_definitions(mapper: &mut Mapper, path: &Path, shown: &str) -> Result<(), String> {
    let (mut decoder, offset) = read::open(path, shown)?;
    let mut ignored = Vec::new();
    let mut n = 0u64;
    loop {
        match decoder.decode_record_ref() {
            Ok(Some(record)) => {
                n += 1;
                if let Ok(RecordRefEnum::InstrumentDef(def)) = read::as_enum(&record) {
                    mapper.definition(def, &mut ignored);
                }
            }
            Ok(None) => return read::stopped(shown, &offset, n, None).map_or(Ok(()), Err),
            Err(e) => return Err(read::stopped(shown, &offset, n, Some(&e)).unwrap_or_default()),
        }
    }
}

/// The tick of each instrument without a definition: the largest increment
/// every price of the file's first [`TICK_SCAN`] records lies on.
fn infer_ticks(mapper: &mut Mapper, file: &DataFile) -> Result<(), String> {
    let (mut decoder, _) = read::open(&file.path, &file.shown)?;
    let mut ticks = std::collections::BTreeMap::new();
    for _ in 0..TICK_SCAN {
        let Ok(Some(record)) = decoder.decode_record_ref() else {
            break; // errors are reported when the records are replayed
        };
        map::prices(&record, |id, price| {
            map::fold_tick(ticks.entry(id).or_insert(0), price);
        });
    }
    let _ = decoder.metadata();
    for (id, tick) in ticks {
        if tick > 0 && !mapper.definitions.contains_key(&id) {
            mapper
                .inferred_ticks
                .entry(id)
                .or_insert(tick.min(fixed::SCALE));
        }
    }
    Ok(())
}

tradsys_sdk::export_connector!(DbnReplay);

#[cfg(test)]
mod tests;
