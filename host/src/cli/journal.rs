//! `tradsys journal show`, `summary` and `audit`.

use std::io::Write as _;

use anyhow::{Result, anyhow, bail};
use tradsys_host::{JournalFilter, JournalReader, JournalSummary, journal_line};

use crate::JournalCommand;

pub(crate) fn journal(command: JournalCommand) -> Result<()> {
    match command {
        JournalCommand::Show {
            file,
            strategy,
            order,
            host_order,
            json,
        } => {
            let filter = JournalFilter {
                plugin: strategy,
                order,
                host_order,
            };
            let mut reader = JournalReader::open(&file).map_err(|e| anyhow!(e))?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for record in reader.by_ref() {
                let record = record.map_err(|e| anyhow!(e))?;
                if !filter.passes(&record) {
                    continue;
                }
                let line = if json {
                    serde_json::to_string(&record)?
                } else {
                    journal_line(&record)
                };
                if writeln!(out, "{line}").is_err() {
                    return Ok(()); // the reader went away (`| head`)
                }
            }
            out.flush().ok();
            for warning in reader.warnings() {
                eprintln!("warning: {warning}");
            }
            Ok(())
        }
        JournalCommand::Summary { file, json } => {
            let summary = JournalSummary::read(&file).map_err(|e| anyhow!(e))?;
            for warning in &summary.warnings {
                eprintln!("warning: {warning}");
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print!("{}", summary.render());
            }
            Ok(())
        }
        JournalCommand::Replay { file, out, host } => replay(&file, out, &host),
        JournalCommand::Audit { file, data, json } => {
            let audit = tradsys_audit::audit(&file, &data)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&audit)?);
            } else {
                print!("{}", audit.render());
            }
            if !audit.is_clean() {
                bail!(
                    "the audit of {} found fills the rules do not give",
                    file.display()
                );
            }
            Ok(())
        }
    }
}

/// `tradsys journal replay`: the live session of `file` again, offline, into
/// a journal of its own; the two compared record for record.
fn replay(
    file: &std::path::Path,
    out: Option<std::path::PathBuf>,
    args: &crate::HostArgs,
) -> Result<()> {
    let out = out.unwrap_or_else(|| {
        let mut name = file.as_os_str().to_owned();
        name.push(".replay");
        name.into()
    });
    let mut config = crate::host_config(args)?;
    config.run.journal = Some(out.clone());
    config.run.events = 0;
    config.run.watch = false;
    let host = crate::host(args, config)?;
    let mut session = host.session()?;
    let records = session.replay_wire(file)?;
    eprintln!("replaying {records} wire records of {}", file.display());
    session.run()?;
    let report = session.report();
    let (mut ours, mut theirs) = (
        JournalReader::open(file).map_err(|e| anyhow!(e))?,
        JournalReader::open(&out).map_err(|e| anyhow!(e))?,
    );
    let mut n = 0u64;
    loop {
        match (ours.next(), theirs.next()) {
            (None, None) => break,
            (a, b) => {
                n += 1;
                let a = a.transpose().map_err(|e| anyhow!(e))?;
                let b = b.transpose().map_err(|e| anyhow!(e))?;
                if a != b {
                    let show = |r: Option<tradsys_host::JournalRecord>| {
                        r.map_or("(none)".to_string(), |r| journal_line(&r))
                    };
                    bail!(
                        "the replay differs at record {n}:\n  {}: {}\n  replay: {}",
                        file.display(),
                        show(a),
                        show(b)
                    );
                }
            }
        }
    }
    let (digest, again) = (ours.digest(), theirs.digest());
    anyhow::ensure!(digest == again, "the digests differ: {digest} and {again}");
    println!(
        "replayed {}: {n} records the same, {} orders, {} fills; digest {digest}; its journal: {}",
        file.display(),
        report.orders.submitted,
        report.fills,
        out.display()
    );
    Ok(())
}
