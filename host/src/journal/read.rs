//! Reading a journal back: its files in order, record by record.
//!
//! A journal is the file given and its continuations (`FILE.1`, ...), each
//! starting with its header. A last line without its newline is what a
//! crash leaves: it is ignored with a warning. Anything else that is not a
//! record of this format, a record out of sequence, or a header of the
//! wrong part is an error naming the file and the line.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::journal::entry::{FORMAT, Header, Record};
use crate::journal::writer::part_path;

/// The records of a journal, one at a time.
pub struct Reader {
    base: PathBuf,
    part: u32,
    path: PathBuf,
    input: BufReader<File>,
    line_no: u64,
    line: Vec<u8>,
    seq: u64,
    hasher: blake3::Hasher,
    warnings: Vec<String>,
    files: Vec<PathBuf>,
    done: bool,
}

impl Reader {
    /// Open the journal at `path` (its first file). The error names the file.
    pub fn open(path: &Path) -> Result<Self, String> {
        let input = open_part(path, 0)?;
        let mut reader = Self {
            base: path.to_path_buf(),
            part: 0,
            path: path.to_path_buf(),
            input,
            line_no: 0,
            line: Vec::new(),
            seq: 0,
            hasher: blake3::Hasher::new(),
            warnings: Vec::new(),
            files: vec![path.to_path_buf()],
            done: false,
        };
        reader.read_header()?;
        Ok(reader)
    }

    /// What was ignored so far (a truncated last line).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The files read so far.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The digest of the records read so far (the report's, once all are read).
    pub fn digest(&self) -> String {
        self.hasher.finalize().to_hex().to_string()
    }

    fn at(&self) -> String {
        format!("{}:{}", self.path.display(), self.line_no)
    }

    /// The next line, with its newline; `None` at the end of the file.
    fn next_line(&mut self) -> Result<Option<bool>, String> {
        self.line.clear();
        let n = self
            .input
            .read_until(b'\n', &mut self.line)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        Ok(Some(self.line.ends_with(b"\n")))
    }

    fn read_header(&mut self) -> Result<(), String> {
        let not_journal = |at: String| format!("{at}: not a tradsys journal (no header line)");
        match self.next_line()? {
            Some(true) => {}
            _ => return Err(not_journal(format!("{}", self.path.display()))),
        }
        let header: Header =
            serde_json::from_slice(&self.line).map_err(|_| not_journal(self.at()))?;
        if header.journal != FORMAT {
            return Err(format!(
                "{}: journal format {}; this host reads format {FORMAT}",
                self.at(),
                header.journal
            ));
        }
        if header.part != self.part {
            return Err(format!(
                "{}: the header says part {}, but the file is part {}",
                self.at(),
                header.part,
                self.part
            ));
        }
        Ok(())
    }

    /// Move to the next file, if there is one.
    fn next_part(&mut self) -> Result<bool, String> {
        let path = part_path(&self.base, self.part + 1);
        if !path.exists() {
            return Ok(false);
        }
        self.input = open_part(&path, self.part + 1)?;
        self.part += 1;
        self.path = path.clone();
        self.files.push(path);
        self.line_no = 0;
        self.read_header()?;
        Ok(true)
    }

    fn next_record(&mut self) -> Result<Option<Record>, String> {
        loop {
            match self.next_line()? {
                None if self.next_part()? => continue,
                None => return Ok(None),
                Some(false) => {
                    if part_path(&self.base, self.part + 1).exists() {
                        return Err(format!("{}: a line cut short", self.at()));
                    }
                    self.warnings.push(format!(
                        "{}: the last line is cut short (the session ended while writing it); ignored",
                        self.at()
                    ));
                    return Ok(None);
                }
                Some(true) => {}
            }
            let record: Record = serde_json::from_slice(&self.line)
                .map_err(|e| format!("{}: not a journal record: {e}", self.at()))?;
            if record.seq != self.seq + 1 {
                return Err(format!(
                    "{}: record {} follows record {}: records are missing",
                    self.at(),
                    record.seq,
                    self.seq
                ));
            }
            self.seq = record.seq;
            self.hasher.update(&self.line);
            return Ok(Some(record));
        }
    }
}

impl Iterator for Reader {
    type Item = Result<Record, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_record().transpose();
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }
}

fn open_part(path: &Path, part: u32) -> Result<BufReader<File>, String> {
    let what = if part == 0 { "journal" } else { "journal part" };
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::entry::{Entry, HaltEntry};
    use crate::journal::writer::JournalWriter;

    fn journal(dir: &Path, max_bytes: u64, records: u64) -> (PathBuf, String) {
        let path = dir.join("j");
        let writer = JournalWriter::create(&path, max_bytes).unwrap();
        let journal = writer.journal();
        for n in 0..records {
            journal.write(n * 10, || {
                Entry::Halt(HaltEntry {
                    reason: crate::journal::Halt::MatcherFailed {
                        matcher: "m".into(),
                        fault: format!("r{n}"),
                    },
                })
            });
        }
        (path, writer.close().digest)
    }

    fn read_all(path: &Path) -> Result<(Vec<Record>, Reader), String> {
        let mut reader = Reader::open(path)?;
        let records = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
        Ok((records, reader))
    }

    #[test]
    fn every_part_is_read_in_order_and_the_digest_is_the_writers() {
        let dir = tempfile::tempdir().unwrap();
        let (path, digest) = journal(dir.path(), 300, 40);
        let (records, reader) = read_all(&path).unwrap();
        assert_eq!(records.len(), 40);
        assert!(
            records
                .iter()
                .enumerate()
                .all(|(i, r)| r.seq == i as u64 + 1)
        );
        assert!(reader.files().len() > 2);
        assert_eq!(reader.digest(), digest);
        assert!(reader.warnings().is_empty());
    }

    #[test]
    fn a_cut_last_line_is_ignored_with_a_warning_and_a_bad_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = journal(dir.path(), 0, 5);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &text[..text.len() - 7]).unwrap();
        let (records, reader) = read_all(&path).unwrap();
        assert_eq!(records.len(), 4);
        assert!(
            reader.warnings()[0].contains(":6: the last line is cut short"),
            "{:?}",
            reader.warnings()
        );

        let mut lines: Vec<&str> = text.lines().collect();
        lines[3] = r#"{"seq":3,"ts":20,"kind":"halt"}"#;
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let error = read_all(&path).err().unwrap();
        assert!(error.contains(":4: not a journal record"), "{error}");

        lines.remove(3);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let error = read_all(&path).err().unwrap();
        assert!(
            error.contains(":4: record 4 follows record 2: records are missing"),
            "{error}"
        );

        std::fs::write(&path, "hello\n").unwrap();
        let error = read_all(&path).err().unwrap();
        assert!(error.contains("not a tradsys journal"), "{error}");
        let missing = dir.path().join("nope");
        let error = read_all(&missing).err().unwrap();
        assert!(
            error.starts_with(&format!("journal {}", missing.display())),
            "{error}"
        );
    }
}
