//! Recorded data: `tradsys run --replay FILE_OR_DIR` (the connector chosen by
//! file type, granted that file's directory only) and `tradsys inspect-data
//! FILE` (what a file holds).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use tradsys_data::{inspect, read};
use tradsys_host::{ConfigValue, HostConfig};

use crate::cli::template;

/// The connector that replays DBN files.
pub(crate) const DBN_CONNECTOR: &str = "dbn-replay";
/// The connector that replays CSV quotes and bars.
pub(crate) const CSV_CONNECTOR: &str = "csv-replay";

/// The formats a path can hold.
enum Format {
    Dbn,
    Csv,
}

fn format_of(name: &str) -> Option<Format> {
    if read::is_dbn(name) {
        Some(Format::Dbn)
    } else if name.ends_with(".csv") {
        Some(Format::Csv)
    } else {
        None
    }
}

/// Make `config` replay `path`: its connector, granted read access to the
/// file's directory (or the directory) only, told which file to read.
pub(crate) fn replay(config: &mut HostConfig, path: &Path) -> Result<()> {
    let shown = path.display();
    let meta = std::fs::metadata(path).with_context(|| format!("--replay {shown}"))?;
    let (connector, dir, file) = if meta.is_dir() {
        let has_dbn = std::fs::read_dir(path)
            .with_context(|| format!("--replay {shown}"))?
            .flatten()
            .any(|e| e.file_name().to_str().is_some_and(read::is_dbn));
        if !has_dbn {
            bail!(
                "--replay {shown}: a directory replays its DBN files (.dbn, .dbn.zst) and it has none"
            );
        }
        (DBN_CONNECTOR, path.to_path_buf(), ".".to_string())
    } else {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("--replay {shown}: not a file name"))?;
        let connector = match format_of(name) {
            Some(Format::Dbn) => DBN_CONNECTOR,
            Some(Format::Csv) => CSV_CONNECTOR,
            None => bail!(
                "--replay {shown}: unknown format (replays .dbn and .dbn.zst Databento files, and .csv quotes or bars)"
            ),
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        (connector, dir, name.to_string())
    };
    config.run.connector = connector.to_string();
    let settings = config.plugins.entry(connector.to_string()).or_default();
    settings.read_dir = Some(dir);
    settings
        .config
        .insert("file".to_string(), ConfigValue::Text(file));
    Ok(())
}

/// `tradsys inspect-data FILE [--config-template]`.
pub(crate) fn inspect_data(path: &Path, config_template: bool) -> Result<()> {
    let shown = path.display().to_string();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if config_template {
        let (prices, connector) = match format_of(name) {
            Some(Format::Dbn) => (template::dbn_prices(path, &shown)?, DBN_CONNECTOR),
            Some(Format::Csv) => (template::csv_prices(path, &shown)?, CSV_CONNECTOR),
            None => {
                bail!("{shown}: unknown format (sizes a config for .dbn, .dbn.zst and .csv files)")
            }
        };
        let sizing = template::sizing(&prices)?;
        print!(
            "{}",
            template::template(&prices, &sizing, &shown, connector)
        );
        return Ok(());
    }
    match format_of(name) {
        Some(Format::Dbn) => {
            let summary = inspect::inspect(path, &shown).map_err(anyhow::Error::msg)?;
            print!("{summary}");
        }
        Some(Format::Csv) => print!("{}", csv_summary(path)?),
        None => bail!("{shown}: unknown format (inspects .dbn, .dbn.zst and .csv files)"),
    }
    Ok(())
}

/// A CSV file's layout, rows and first and last timestamps.
fn csv_summary(path: &Path) -> Result<String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {shown}"))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty()).peekable();
    let header = lines
        .peek()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .map(|l| l.to_string());
    if header.is_some() {
        lines.next();
    }
    let rows: Vec<&str> = lines.collect();
    let first_field = |line: Option<&&str>| {
        line.and_then(|l| l.split(',').next())
            .unwrap_or("-")
            .to_string()
    };
    Ok(format!(
        "file: {shown} ({} bytes)\nlayout: {}\nrows: {}\ntime: {} to {}\n",
        text.len(),
        match &header {
            Some(h) => format!("bars (header `{h}`)"),
            None => "quotes (no header: time,bid,ask,volume)".to_string(),
        },
        rows.len(),
        first_field(rows.first()),
        first_field(rows.last()),
    ))
}
