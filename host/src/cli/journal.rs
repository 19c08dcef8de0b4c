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
