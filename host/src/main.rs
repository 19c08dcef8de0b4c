//! The `tradsys` command.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use tradsys_host::HostConfig;
use tradsys_host::Registry;
use tradsys_host::Report;
use tradsys_host::Runtime;
use tradsys_host::Session;

/// Run trading-system plugins (WebAssembly components) in a sandboxed host.
#[derive(Parser)]
#[command(name = "tradsys", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a trading session over the plugins of a directory and print its report.
    Run(RunArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Plugin directory [default: run.plugins_dir from the config, else ./target/plugins]
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,
    /// Host configuration file (TOML)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Market events to process, 0 for the whole stream [default: run.events, 20000]
    #[arg(long, value_name = "N")]
    events: Option<u64>,
    /// Seed of the synthetic market [default: run.seed, 42]
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Also write the report as JSON to FILE
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> Result<()> {
    let mut config = match &args.config {
        Some(path) => HostConfig::load(path)?,
        None => HostConfig::default(),
    };
    if let Some(events) = args.events {
        config.run.events = events;
    }
    if let Some(seed) = args.seed {
        config.run.seed = seed;
    }
    let dir = plugin_dir(args.plugins.as_deref(), &config)?;
    let runtime = Arc::new(Runtime::new()?);
    let registry = Registry::load_dir(&runtime, &dir, &config)?;
    let mut session = Session::new(runtime, &registry, &config)
        .with_context(|| format!("setting up a session over {}", dir.display()))?;
    session.run()?;
    let report = Report::new(&session);
    print!("{}", report.render());
    if let Some(path) = &args.report_json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing report {}", path.display()))?;
    }
    Ok(())
}

fn plugin_dir(flag: Option<&Path>, config: &HostConfig) -> Result<PathBuf> {
    if let Some(dir) = flag.or(config.run.plugins_dir.as_deref()) {
        return Ok(dir.to_path_buf());
    }
    let default = Path::new("target/plugins");
    if default.is_dir() {
        return Ok(default.to_path_buf());
    }
    bail!(
        "no plugin directory: pass --plugins DIR (or build the examples with `cargo xtask build-plugins`)"
    )
}
