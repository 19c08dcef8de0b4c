//! The `tradsys` command.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand};
use tradsys_host::admin::{self, AdminContext, request};
use tradsys_host::bindings::{connector, matcher, risk_validator, strategy};
use tradsys_host::watch::WatchContext;
use tradsys_host::{
    FileState, HostConfig, KindBindings, Loading, Plugin, PluginInstance, PluginKind, Readiness,
    Registry, Report, Runtime, Session, TrustPolicy, api_compatible, api_version, cache_path,
    read_interface, watch,
};
use tradsys_signing::{
    KeyId, PublicKey, SecretKey, SignatureStatus, TrustStore, digest, hex, read_manifest, sign,
    signature_statuses, verify,
};

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
    /// host, rollback, shadow, promote, discard.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// What a running host runs: versions, kept versions, swaps, shadows.
    Status(AdminArgs),
}

#[derive(Args)]
struct AdminArgs {
    /// The running host's admin endpoint
    #[arg(long, value_name = "ADDR", default_value = tradsys_host::DEFAULT_ADMIN)]
    admin: String,
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
    /// Also write the report as JSON to FILE
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Compile every selected plugin before the session starts [default: run.loading, lazy]
    #[arg(long)]
    eager: bool,
    /// Swap in newer versions dropped into the plugin directory while running [default: run.watch]
    #[arg(long)]
    watch: bool,
    /// Serve the admin endpoint (for `tradsys status`, `plugin rollback`, ...) [default: admin.listen]
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = tradsys_host::DEFAULT_ADMIN)]
    admin: Option<std::net::SocketAddr>,
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

#[derive(Subcommand)]
enum PluginCommand {
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().command {
        Command::Run(args) => run(args),
        Command::Key(command) => key(command),
        Command::Plugin(command) => plugin(command),
        Command::Status(args) => status(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The config, plugin directory and trust policy that `args` name.
fn host_setup(args: &HostArgs) -> Result<(HostConfig, PathBuf, TrustPolicy)> {
    let mut config = match &args.config {
        Some(path) => HostConfig::load(path)?,
        None => HostConfig::default(),
    };
    if let Some(dir) = &args.trust {
        config.trust.dir = Some(dir.clone());
    }
    config.trust.allow_unsigned |= args.allow_unsigned;
    let dir = plugin_dir(args.plugins.as_deref(), &config)?;
    let policy = TrustPolicy::from_settings(&config.trust)?;
    Ok((config, dir, policy))
}

fn run(args: RunArgs) -> Result<()> {
    let (mut config, dir, policy) = host_setup(&args.host)?;
    if let Some(events) = args.events {
        config.run.events = events;
    }
    if let Some(seed) = args.seed {
        config.run.seed = seed;
    }
    if args.eager {
        config.run.loading = Loading::Eager;
    }
    config.run.watch |= args.watch;
    let runtime = Arc::new(
        Runtime::new()?
            .with_cache(&cache_path(&dir))?
            .with_memory(config.memory),
    );
    let registry = Registry::load_dir(&dir, &config, &policy)?;
    let mut session = Session::new(runtime.clone(), &registry, &config)
        .with_context(|| format!("setting up a session over {}", dir.display()))?;
    let _watcher = if config.run.watch {
        Some(watch::start(WatchContext {
            dir: dir.clone(),
            config: config.clone(),
            policy: policy.clone(),
            runtime,
            running: session.running(),
            swaps: session.swapper(),
            shadows: session.shadower(),
            candidates: session.shadow_candidates(),
            log: session.swap_log(),
        })?)
    } else {
        None
    };
    if let Some(address) = args.admin.or(config.admin.listen) {
        let server = admin::serve(
            address,
            config.admin.allow_remote,
            AdminContext {
                dir: dir.clone(),
                config: config.clone(),
                policy: policy.clone(),
                runtime: session.runtime().clone(),
                running: session.running(),
                history: session.history(),
                swaps: session.swapper(),
                shadows: session.shadower(),
                swap_log: session.swap_log(),
                shadow_log: session.shadow_log(),
                candidates: session.shadow_candidates(),
                status: session.status_requests(),
            },
        )?;
        eprintln!("admin endpoint on {}", server.address());
    }
    let stop = session.stop_handle();
    ctrlc_stops(stop);
    session.run()?;
    let report = Report::new(&session, &policy);
    print!("{}", report.render());
    if let Some(path) = &args.report_json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing report {}", path.display()))?;
    }
    Ok(())
}

/// Print an admin answer's message.
fn say(answer: serde_json::Value) -> Result<()> {
    println!("{}", answer["message"].as_str().unwrap_or_default());
    Ok(())
}

/// `tradsys status`: what the host at the admin address runs.
fn status(args: &AdminArgs) -> Result<()> {
    let answer = request(&args.admin, "GET", "/status", "")?;
    println!(
        "{:<24} {:<9} {:<15} {:<10} {:>8} {:>6} {:>9} {:>6}  kept",
        "plugin", "version", "kind", "state", "KiB", "evict", "calls", "faults"
    );
    let statuses = answer["plugins"].as_array().cloned().unwrap_or_default();
    for (name, version) in answer["running"].as_object().into_iter().flatten() {
        let kept: Vec<&str> = answer["kept_versions"][name]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        let status = statuses.iter().find(|s| s["name"] == *name);
        let field = |key: &str| {
            status.map_or_else(String::new, |s| match &s[key] {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            })
        };
        let kib = status
            .and_then(|s| s["memory_bytes"].as_u64())
            .map_or_else(String::new, |b| (b / 1024).to_string());
        println!(
            "{name:<24} {:<9} {:<15} {:<10} {kib:>8} {:>6} {:>9} {:>6}  {}",
            version.as_str().unwrap_or(""),
            field("kind"),
            field("state"),
            field("evictions"),
            field("calls"),
            field("faults"),
            kept.join(", ")
        );
        if let Some(failure) = status.and_then(|s| s["failure"].as_str()) {
            println!("  {failure}");
        }
    }
    for swap in answer["swaps"].as_array().into_iter().flatten() {
        println!("swap: {swap}");
    }
    for shadow in answer["shadows"].as_array().into_iter().flatten() {
        println!(
            "shadow: {} {} beside {}: {}, {} compared, {} different",
            shadow["plugin"].as_str().unwrap_or(""),
            shadow["candidate_version"].as_str().unwrap_or(""),
            shadow["live_version"].as_str().unwrap_or(""),
            shadow["state"].as_str().unwrap_or(""),
            shadow["compared"],
            shadow["differing"]
        );
    }
    Ok(())
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

fn key(command: KeyCommand) -> Result<()> {
    match command {
        KeyCommand::Generate { name, out } => {
            let key = SecretKey::generate(&name)?;
            let (secret, public) = key.write(&out)?;
            println!("key {} id {}", name, key.public().id());
            println!("  secret {} (keep it private)", secret.display());
            println!("  public {} (copy into a trust store)", public.display());
            Ok(())
        }
        KeyCommand::List { dir } => {
            let entries = std::fs::read_dir(&dir)
                .with_context(|| format!("reading key directory {}", dir.display()))?;
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            println!("{:<16} {:<20} secret", "id", "name");
            for path in paths
                .iter()
                .filter(|p| p.extension().is_some_and(|x| x == "pub"))
            {
                let key = PublicKey::read(path)?;
                let secret = path.with_extension("key").exists();
                println!(
                    "{:<16} {:<20} {}",
                    key.id(),
                    key.name,
                    if secret { "yes" } else { "no" }
                );
            }
            Ok(())
        }
    }
}

fn read(file: &Path) -> Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("reading {}", file.display()))
}

fn plugin(command: PluginCommand) -> Result<()> {
    match command {
        PluginCommand::Build {
            path,
            out,
            key,
            target_dir,
        } => {
            let manifest_path = if path.is_dir() {
                path.join("Cargo.toml")
            } else {
                path
            };
            let key = key.as_deref().map(SecretKey::read).transpose()?;
            let request = tradsys_build::BuildRequest {
                manifest_path: &manifest_path,
                out_dir: &out,
                target_dir: target_dir.as_deref(),
                key: key.as_ref(),
            };
            for built in tradsys_build::build(&request)? {
                let signed = built.signer.map_or_else(
                    || "unsigned: sign it with `tradsys plugin sign`".to_string(),
                    |id| format!("signed by {id}"),
                );
                println!(
                    "built {} {} ({} bytes, {signed})",
                    built.path.display(),
                    built.manifest.id(),
                    built.size
                );
            }
            Ok(())
        }
        PluginCommand::Sign { file, key, out } => {
            let key = SecretKey::read(&key)?;
            let signed =
                sign(&read(&file)?, &key).with_context(|| format!("signing {}", file.display()))?;
            let out = out.unwrap_or(file);
            write_atomically(&out, &signed)?;
            println!(
                "signed {} with key {} ({})",
                out.display(),
                key.public().id(),
                key.name
            );
            Ok(())
        }
        PluginCommand::Verify { file, trust } => {
            let store = TrustStore::load(&trust)?;
            let verified = verify(&read(&file)?, &store)
                .with_context(|| format!("{} refused", file.display()))?;
            let signers: Vec<String> = verified.signers.iter().map(KeyId::to_string).collect();
            println!(
                "{}: {} signed by {}",
                file.display(),
                verified.manifest.id(),
                signers.join(", ")
            );
            Ok(())
        }
        PluginCommand::Inspect { file, trust } => inspect(&file, trust.as_deref()),
        PluginCommand::List(args) => list(&args),
        PluginCommand::Rollback { name, pin, admin } => {
            let query = if pin { "?pin=true" } else { "" };
            say(request(
                &admin.admin,
                "POST",
                &format!("/rollback/{name}{query}"),
                "",
            )?)
        }
        PluginCommand::Shadow { file, admin } => {
            let file = std::path::absolute(&file)?;
            say(request(
                &admin.admin,
                "POST",
                "/shadow",
                &file.to_string_lossy(),
            )?)
        }
        PluginCommand::Promote { name, admin } => say(request(
            &admin.admin,
            "POST",
            &format!("/promote/{name}"),
            "",
        )?),
        PluginCommand::Discard { name, admin } => say(request(
            &admin.admin,
            "POST",
            &format!("/discard/{name}"),
            "",
        )?),
        PluginCommand::Install { file, plugins } => {
            let name = file.file_name().context("the file has no name")?;
            let dest = plugins.join(name);
            write_atomically(&dest, &read(&file)?)?;
            println!("installed {}", dest.display());
            Ok(())
        }
    }
}

/// `tradsys plugin list`: every file and its state; with `check`, each
/// selected plugin compiled, instantiated and initialised with its config.
fn list(args: &ListArgs) -> Result<()> {
    let (config, dir, policy) = host_setup(&args.host)?;
    let runtime = Arc::new(
        Runtime::new()?
            .with_cache(&cache_path(&dir))?
            .with_memory(config.memory),
    );
    let registry = Registry::load_dir(&dir, &config, &policy)?;
    println!("{:<28} {:<28} state", "file", "plugin");
    for f in registry.files() {
        let name = f
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let plugin = f.plugin.as_deref().and_then(|id| {
            let name = id.split_once('@').map_or(id, |(n, _)| n);
            registry.get(name)
        });
        let state = match (&f.state, plugin) {
            (FileState::Running, Some(plugin)) if args.check => {
                format!("running — {}", check(&runtime, plugin))
            }
            (FileState::Running, Some(plugin)) => {
                let cached = runtime.cache().is_some_and(|c| c.contains(plugin.digest()));
                let priority = plugin.placement().priority;
                format!(
                    "running — discovered (priority {priority}{}{})",
                    if plugin.placement().preload {
                        ", preload"
                    } else {
                        ""
                    },
                    if cached { ", artifact cached" } else { "" }
                )
            }
            (FileState::Running, None) => "running".to_string(),
            (FileState::Standby { reason }, _) => format!("standby: {reason}"),
            (FileState::Disabled, _) => "disabled in config".to_string(),
            (FileState::Rejected { reason }, _) => format!("rejected: {reason}"),
        };
        println!(
            "{name:<28} {:<28} {state}",
            f.plugin.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// Compile (or load from the cache), instantiate and init one plugin.
fn check(runtime: &Arc<Runtime>, plugin: &Arc<Plugin>) -> String {
    fn live<B: KindBindings>(runtime: &Arc<Runtime>, plugin: &Arc<Plugin>) -> String {
        let mut instance = PluginInstance::<B>::new(runtime.clone(), plugin.clone());
        match instance.ensure_live() {
            Ok(()) => format!(
                "live: instantiated and initialised in {:.0} µs, {} KiB of memory",
                instance.stats().instantiate_time.as_secs_f64() * 1e6,
                instance.memory_bytes() >> 10
            ),
            Err(fault) => format!("failed: {fault}"),
        }
    }
    if let Err(reason) = plugin.prepare(runtime) {
        return format!("failed: {reason}");
    }
    let Readiness::Compiled(load) = plugin.readiness() else {
        return "failed".to_string();
    };
    let source = match &load.cache {
        Some(tradsys_host::CacheOutcome::Hit) => "loaded from the cache",
        _ => "compiled",
    };
    let instance = match plugin.kind() {
        PluginKind::Strategy => live::<strategy::Strategy>(runtime, plugin),
        PluginKind::RiskValidator => live::<risk_validator::RiskValidator>(runtime, plugin),
        PluginKind::Matcher => live::<matcher::Matcher>(runtime, plugin),
        PluginKind::Connector => live::<connector::Connector>(runtime, plugin),
    };
    format!(
        "{source} in {:.1} ms; {instance}",
        load.duration.as_secs_f64() * 1e3
    )
}

/// Write to a temporary file beside `path`, then rename it into place, so a
/// watcher never sees a half-written plugin.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().context("no file name")?.to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
}

fn inspect(file: &Path, trust: Option<&Path>) -> Result<()> {
    let bytes = read(file)?;
    println!("file      {} ({} bytes)", file.display(), bytes.len());
    println!(
        "digest    sha256:{} (without signatures)",
        hex(&digest(&bytes)?)
    );
    match read_manifest(&bytes) {
        Ok(m) => {
            println!("plugin    {} {} ({})", m.name, m.version, m.kind);
            println!("api       tradsys:plugins {}", m.api);
            if !m.description.is_empty() {
                println!("about     {}", m.description);
            }
            if !m.author.is_empty() {
                println!("author    {}", m.author);
            }
            println!("priority  {}", m.priority);
            for (dep, req) in &m.dependencies {
                println!("needs     {dep} {req}");
            }
            if m.capabilities.read_dir {
                println!("asks for  read access to one directory");
            }
            for address in &m.capabilities.network {
                println!("asks for  network {address}");
            }
        }
        Err(e) => println!("manifest  {e}"),
    }
    let store = trust.map(TrustStore::load).transpose()?.unwrap_or_default();
    let statuses = signature_statuses(&bytes, &store)?;
    if statuses.is_empty() {
        println!("signature none");
    }
    for (id, status) in statuses {
        let status = match (trust, status) {
            (None, _) => "not checked (no --trust)",
            (_, SignatureStatus::Valid) => "valid",
            (_, SignatureStatus::Bad) => "BAD: the file changed after signing",
            (_, SignatureStatus::UnknownKey) => "unknown key",
            (_, SignatureStatus::Revoked) => "REVOKED key",
        };
        println!("signature key {id}: {status}");
    }
    match read_interface(&bytes) {
        Ok(interface) => {
            for export in &interface.exports {
                let version = export
                    .split_once('@')
                    .and_then(|(_, v)| semver::Version::parse(v).ok());
                let fits = version.is_some_and(|v| api_compatible(&v, &api_version()));
                println!(
                    "exports   {export}{}",
                    if fits {
                        ""
                    } else {
                        " (not compatible with this host)"
                    }
                );
            }
            for import in &interface.imports {
                println!("imports   {import}");
            }
        }
        Err(e) => println!("component not readable: {e:#}"),
    }
    Ok(())
}
