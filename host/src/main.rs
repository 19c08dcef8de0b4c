//! The `tradsys` command.

mod cli;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand};
use tradsys_host::{Host, HostConfig, Loading, admin, watch};

/// Run trading-system plugins (signed WebAssembly components) in a sandboxed host.
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
    /// Signing keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Plugin files: sign, verify, inspect, list, install; and, on a running
    /// host, rollback, shadow, promote, discard, configure, disable, enable, remove.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// What a running host runs: versions, kept versions, swaps, shadows.
    Status(AdminArgs),
    /// The kill switch, on a running host: no new order or modify from now
    /// on (cancels still go); with --cancel-all every working order is
    /// canceled at the venue.
    Halt {
        /// Cancel every working order at the venue too
        #[arg(long)]
        cancel_all: bool,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Read an order journal: its records, or what they add up to.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// The host as a venue: its clients' accounts.
    #[command(subcommand)]
    Gateway(GatewayCommand),
    /// What a market-data file holds: schema, instruments, time range, records per action.
    InspectData {
        /// A DBN (.dbn, .dbn.zst) or CSV file
        file: PathBuf,
        /// Print a host config sized for the file instead: its connector's
        /// table, the example strategies' quantities and the example
        /// validators' limits from its prices, each number explained
        #[arg(long)]
        config_template: bool,
    },
}

#[derive(Subcommand)]
enum GatewayCommand {
    /// Make a new API key for a client account: the key (shown once, for
    /// the client) and the account's table for the accounts file (its hash)
    Key {
        /// The account's name
        account: String,
    },
}

#[derive(Args)]
struct AdminArgs {
    /// The running host's admin endpoint
    #[arg(long, value_name = "ADDR", default_value = tradsys_host::DEFAULT_ADMIN)]
    admin: String,
    /// The token the host wrote at start (beside its state file)
    #[arg(
        long,
        value_name = "FILE",
        default_value = "target/plugins.admin-token"
    )]
    token_file: PathBuf,
}

#[derive(Args)]
struct HostArgs {
    /// Plugin directory [default: run.plugins_dir from the config, else ./target/plugins]
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,
    /// Host configuration file (TOML)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Trust store: a directory of *.pub keys and a `revoked` list [default: trust.dir from the config]
    #[arg(long, value_name = "DIR")]
    trust: Option<PathBuf>,
    /// Development only: also run plugins without a trusted signature (the report says so)
    #[arg(long)]
    allow_unsigned: bool,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    host: HostArgs,
    /// Market events to process, 0 for the whole stream [default: run.events, 20000]
    #[arg(long, value_name = "N")]
    events: Option<u64>,
    /// Seed of the synthetic market [default: run.seed, 42]
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Replay recorded data: a DBN file (.dbn, .dbn.zst), a directory of them, or a
    /// CSV of quotes or bars; its connector reads that directory only. The whole
    /// file unless --events
    #[arg(long, value_name = "FILE_OR_DIR")]
    replay: Option<PathBuf>,
    /// Live: resume the session of JOURNAL (after a crash, a kill): replay it
    /// offline to where it ended (the connector's sequence numbers and
    /// orders, the strategies, the books), then connect and go on. A venue
    /// ([gateway]): run again with its clients' order requests entered where
    /// they were served, then serve them. The new journal (--journal) holds
    /// both
    #[arg(long, value_name = "JOURNAL")]
    resume: Option<PathBuf>,
    /// Also write the report as JSON to FILE
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Also write the report as one self-contained HTML page (equity curves, fills, rejections, latency histograms)
    #[arg(long, value_name = "FILE")]
    report_html: Option<PathBuf>,
    /// Write the order journal to FILE (JSON lines; never over an existing file) [default: run.journal]
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Compile every selected plugin before the session starts [default: run.loading, lazy]
    #[arg(long)]
    eager: bool,
    /// Swap in newer versions dropped into the plugin directory while running [default: run.watch]
    #[arg(long)]
    watch: bool,
    /// Serve the admin endpoint (for `tradsys status`, `plugin rollback`, ...) [default: admin.listen]
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = tradsys_host::DEFAULT_ADMIN)]
    admin: Option<std::net::SocketAddr>,
    /// Serve the dashboard (`/`), metrics (`/metrics`), `/healthz` and `/readyz` beside the admin API, on ADDR
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = tradsys_host::DEFAULT_DASHBOARD)]
    dashboard: Option<std::net::SocketAddr>,
    /// After the session ends, keep serving the dashboard, metrics and status until Ctrl-C
    #[arg(long)]
    linger: bool,
}

#[derive(Subcommand)]
enum JournalCommand {
    /// Print the records, one per line (the file and its numbered continuations).
    Show {
        /// The journal (its first file)
        file: PathBuf,
        /// Only what concerns this plugin: a strategy's orders and reports, a plugin's faults, swaps, shadows
        #[arg(long, value_name = "NAME")]
        strategy: Option<String>,
        /// Only the order with this id (the strategy's own id)
        #[arg(long, value_name = "ID")]
        order: Option<u64>,
        /// Only the order with this host id (the id the matcher saw)
        #[arg(long, value_name = "ID")]
        host_order: Option<u64>,
        /// The records as JSON lines, as stored
        #[arg(long)]
        json: bool,
    },
    /// Per-strategy counts as the session's report gives them, and the digest.
    Summary {
        /// The journal (its first file)
        file: PathBuf,
        /// As JSON
        #[arg(long)]
        json: bool,
    },
    /// Judge every fill of a simulated-venue session against the raw
    /// market-by-order data it replayed (independently of the venue): exit 0
    /// only when every fill is one the exchange's rules give and no
    /// reachable volume was missed.
    Audit {
        /// The journal (its first file)
        file: PathBuf,
        /// The market-by-order data file (DBN) the session replayed
        data: PathBuf,
        /// As JSON
        #[arg(long)]
        json: bool,
    },
    /// Replay a live session from its journal, offline: its connector is
    /// given what arrived, each tick and the stop, at the journal's times,
    /// and the session runs again with the same plugins and config; exit 0
    /// only when the new journal is the same, record for record (digest).
    Replay {
        /// The live session's journal (its first file)
        file: PathBuf,
        /// Where the replay's journal goes [default: FILE.replay]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        host: HostArgs,
    },
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    host: HostArgs,
    /// Also compile, instantiate and init each selected plugin, showing times and memory
    #[arg(long)]
    check: bool,
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Write DIR/NAME.key (private, mode 0600) and DIR/NAME.pub.
    Generate {
        /// Key name
        #[arg(long)]
        name: String,
        /// Directory to write to
        #[arg(long, value_name = "DIR", default_value = "keys")]
        out: PathBuf,
    },
    /// List the keys of a directory with their ids.
    List {
        /// Directory to list
        #[arg(long, value_name = "DIR", default_value = "keys")]
        dir: PathBuf,
    },
}

/// The kinds `plugin new` makes.
#[derive(Clone, Copy, clap::ValueEnum)]
enum NewKind {
    Strategy,
    RiskValidator,
    Matcher,
    Connector,
    Processor,
}

/// The languages `plugin new` writes.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Lang {
    Rust,
    Python,
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Start a plugin project outside this repository: a working example of
    /// the kind with its unit tests, a signing key for development, and a
    /// session to run it in (README: test, build and sign, run).
    New {
        /// The plugin's name: 1 to 64 of a-z, 0-9 and -, starting with a letter
        name: String,
        /// What it is
        #[arg(long, value_enum)]
        kind: NewKind,
        /// Its language
        #[arg(long, value_enum, default_value = "rust")]
        lang: Lang,
        /// Where to write it [default: ./NAME]; must not exist or be empty
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The tradsys checkout whose SDK, example plugins and development key
        /// it uses [default: the one this binary was built from]
        #[arg(long, value_name = "DIR")]
        checkout: Option<PathBuf>,
    },
    /// Build a plugin crate (or a workspace of them) into plugin files with their manifests.
    Build {
        /// The crate's directory or Cargo.toml
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Where to write <name>.wasm
        #[arg(long, value_name = "DIR", default_value = "target/plugins")]
        out: PathBuf,
        /// Sign with this secret key file (NAME.key); unsigned without it
        #[arg(long, value_name = "KEY")]
        key: Option<PathBuf>,
        /// Cargo target directory [default: the crate's own]
        #[arg(long, value_name = "DIR")]
        target_dir: Option<PathBuf>,
    },
    /// Add a signature to a plugin file (in place unless --out is given).
    Sign {
        /// The plugin file
        file: PathBuf,
        /// Secret key file (NAME.key)
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// Write the signed file here instead
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Exit 0 when a file is signed by a trusted, unrevoked key; else print why.
    Verify {
        /// The plugin file
        file: PathBuf,
        /// Trust store directory
        #[arg(long, value_name = "DIR")]
        trust: PathBuf,
    },
    /// Show a file's manifest, signatures, world, imports, size and digest.
    Inspect {
        /// The plugin file
        file: PathBuf,
        /// Trust store to check the signatures against
        #[arg(long, value_name = "DIR")]
        trust: Option<PathBuf>,
    },
    /// Every file of the plugin directory with its state (reads headers only, unless --check).
    List(ListArgs),
    /// On a running host: swap NAME back to the version it ran before.
    Rollback {
        /// Plugin name
        name: String,
        /// Go below the rollback-protection floor (the operator's explicit pin)
        #[arg(long)]
        pin: bool,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// On a running host: run a candidate file in shadow beside the live version.
    Shadow {
        /// The candidate plugin file (readable by the host)
        file: PathBuf,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// On a running host: swap NAME's shadow candidate in.
    Promote {
        /// Plugin name
        name: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// On a running host: drop NAME's shadow.
    Discard {
        /// Plugin name
        name: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// On a running host: set config entries of NAME and re-initialise it (state handed over)
    Configure {
        /// Plugin name
        name: String,
        /// Config entries, `key=value`
        #[arg(required = true, value_name = "KEY=VALUE")]
        entries: Vec<String>,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// On a running host: stop calling NAME (a strategy's working orders are cancelled) until `enable`.
    Disable {
        /// Plugin name
        name: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// On a running host: call NAME again (disabled, removed, or a strategy whose file left).
    Enable {
        /// Plugin name
        name: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// On a running host: remove NAME from the session (confirms a validator whose file was removed).
    Remove {
        /// Plugin name
        name: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Copy a plugin file into the plugin directory atomically (temporary file, then rename).
    Install {
        /// The plugin file
        file: PathBuf,
        /// Plugin directory
        #[arg(long, value_name = "DIR", default_value = "target/plugins")]
        plugins: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    // Logs go through a bounded queue to a writer thread that drops lines
    // when stderr cannot keep up: a log never blocks the data path. The
    // guard flushes what is queued when `main` returns.
    let (stderr, _flush) = tracing_appender::non_blocking(std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_writer(stderr)
        // Colours only for a terminal: a log file or a supervisor's pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match Cli::parse().command {
        Command::Run(args) => run(args),
        Command::Key(command) => cli::plugin::key(command),
        Command::Plugin(command) => cli::plugin::plugin(command),
        Command::Status(args) => cli::status::status(&args),
        Command::Halt { cancel_all, admin } => cli::status::halt(&admin, cancel_all),
        Command::Journal(command) => cli::journal::journal(command),
        Command::Gateway(GatewayCommand::Key { account }) => gateway_key(&account),
        Command::InspectData {
            file,
            config_template,
        } => cli::data::inspect_data(&file, config_template),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The config `args` name, with the trust flags put over it.
pub(crate) fn host_config(args: &HostArgs) -> Result<HostConfig> {
    let mut config = match &args.config {
        Some(path) => HostConfig::load(path)?,
        None => HostConfig::default(),
    };
    if let Some(dir) = &args.trust {
        config.trust.dir = Some(dir.clone());
    }
    config.trust.allow_unsigned |= args.allow_unsigned;
    Ok(config)
}

/// The host over the plugin directory `args` name, under `config`.
pub(crate) fn host(args: &HostArgs, config: HostConfig) -> Result<Host> {
    let dir = plugin_dir(args.plugins.as_deref(), &config)?;
    Host::builder().config(config).plugins_dir(dir).build()
}

fn run(args: RunArgs) -> Result<()> {
    let mut config = host_config(&args.host)?;
    if let Some(events) = args.events {
        config.run.events = events;
    }
    if let Some(seed) = args.seed {
        config.run.seed = seed;
    }
    if let Some(path) = &args.replay {
        cli::data::replay(&mut config, path)?;
        if args.events.is_none() {
            config.run.events = 0;
        }
    }
    if args.eager {
        config.run.loading = Loading::Eager;
    }
    config.run.watch |= args.watch;
    if let Some(path) = &args.journal {
        config.run.journal = Some(path.clone());
    }
    let host = host(&args.host, config)?;
    let config = host.config();
    let mut session = host.session()?;
    if let Some(journal) = &args.resume {
        anyhow::ensure!(
            config.run.journal.is_some(),
            "--resume {}: give the resumed session a journal of its own (--journal)",
            journal.display()
        );
        let records = session.resume_from(journal)?;
        let what = if config.gateway.is_on() {
            "client requests entered again before clients are served"
        } else {
            "wire records replayed before connecting"
        };
        eprintln!("resuming {}: {records} {what}", journal.display());
    }
    let control = session.control();
    let _watcher = if config.run.watch {
        Some(watch::start(control.clone())?)
    } else {
        None
    };
    let _config_watcher = match (&args.host.config, config.run.watch) {
        (Some(path), true) => Some(watch::watch_config(control.clone(), path)?),
        _ => None,
    };
    let address = match (args.admin.or(config.admin.listen), args.dashboard) {
        (Some(admin), Some(dashboard)) if admin != dashboard => bail!(
            "--admin {admin} and --dashboard {dashboard}: the host has one HTTP server; give one address"
        ),
        (admin, dashboard) => dashboard.or(admin),
    };
    let server = match address {
        Some(address) => {
            let token_file = admin::token_path(&host.state_file());
            let telemetry = session.telemetry();
            let server = admin::serve(
                address,
                config.admin.allow_remote,
                &token_file,
                control,
                telemetry,
            )?;
            eprintln!(
                "HTTP server on http://{} (dashboard /, metrics /metrics, admin API; token in {})",
                server.address(),
                server.token_file().display()
            );
            Some(server)
        }
        None => None,
    };
    ctrlc_stops(session.stop_handle());
    session.run()?;
    let report = session.report();
    print!("{}", report.render());
    if let Some(path) = &args.report_json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing report {}", path.display()))?;
    }
    if let Some(path) = &args.report_html {
        let html = tradsys_host::report_html(&report, session.curve());
        std::fs::write(path, html)
            .with_context(|| format!("writing the HTML report {}", path.display()))?;
    }
    if let Some(server) = server.as_ref().filter(|_| args.linger) {
        linger(server, &session.stop_handle());
    }
    if let Some(error) = report.journal.and_then(|j| j.error) {
        bail!("{error}");
    }
    Ok(())
}

/// Serve until Ctrl-C (the session has ended).
fn linger(server: &admin::Server, stop: &std::sync::atomic::AtomicBool) {
    use std::sync::atomic::Ordering;
    eprintln!(
        "session ended; serving on http://{} until Ctrl-C",
        server.address()
    );
    stop.store(false, Ordering::Relaxed);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The first Ctrl-C ends the session after its current batch (the report
/// is printed); a second one ends the process at once.
fn ctrlc_stops(stop: Arc<std::sync::atomic::AtomicBool>) {
    let installed = ctrlc::set_handler(move || {
        if stop.swap(true, std::sync::atomic::Ordering::Relaxed) {
            std::process::exit(130);
        }
        eprintln!("stopping after the current batch (Ctrl-C again to quit at once)");
    });
    if let Err(error) = installed {
        tracing::warn!("Ctrl-C will not stop the session cleanly: {error}");
    }
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

/// `tradsys gateway key ACCOUNT`.
fn gateway_key(account: &str) -> Result<()> {
    let key = tradsys_host::gateway::new_key()?;
    eprintln!("the key for `{account}` (give it to its client; it is not stored anywhere):");
    println!("{key}");
    eprintln!("its table for the accounts file ([gateway] accounts):");
    println!(
        "[{account}]\nkey_hash = \"{}\"",
        tradsys_host::gateway::hash_key(&key)
    );
    Ok(())
}
