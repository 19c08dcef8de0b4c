//! The admin endpoint of a running host: HTTP on loopback (another address
//! only with `[admin] allow_remote`). Each answer is JSON with `ok` and
//! `message`; `tradsys status` and `tradsys plugin rollback | shadow |
//! promote | discard` are its clients.
//!
//! | request | what it does |
//! |---|---|
//! | `GET /status` | running versions, each plugin's state, memory, evictions, calls and faults, kept versions, swaps, shadows |
//! | `POST /rollback/NAME` (`?pin=true`) | swap back to the version NAME ran before |
//! | `POST /shadow` (body: a plugin file's path) | run that candidate in shadow |
//! | `POST /promote/NAME` | swap NAME's shadow candidate in |
//! | `POST /discard/NAME` | drop NAME's shadow |
//!
//! New versions are prepared on the endpoint's thread, never on the data
//! path, and go through the same swap path as the directory watcher's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde_json::json;

use crate::config::HostConfig;
use crate::registry::{Registry, TrustPolicy};
use crate::runtime::Runtime;
use crate::session::StatusRequest;
use crate::shadow::{self, Candidates, ShadowCommand, ShadowLog};
use crate::swap::{History, Prepared, Running, SwapLog, SwapRequest};

/// How long a request waits for the session to act (between two batches).
const SESSION_WAIT: Duration = Duration::from_secs(10);

/// Everything the endpoint needs from the host.
pub struct AdminContext {
    /// The plugin directory (for the rollback floor).
    pub dir: PathBuf,
    /// The host config.
    pub config: HostConfig,
    /// How signatures are checked (a shadow candidate is verified too).
    pub policy: TrustPolicy,
    /// Where candidates are compiled and instantiated.
    pub runtime: Arc<Runtime>,
    /// What runs now.
    pub running: Running,
    /// What ran before.
    pub history: History,
    /// The session's swap path.
    pub swaps: Sender<SwapRequest>,
    /// The session's shadow commands.
    pub shadows: Sender<ShadowCommand>,
    /// Swaps so far.
    pub swap_log: SwapLog,
    /// Shadows so far.
    pub shadow_log: ShadowLog,
    /// The candidates in shadow now.
    pub candidates: Candidates,
    /// Where to ask the session for its plugins' status.
    pub status: Sender<StatusRequest>,
}

/// A running endpoint; it serves until the process ends.
pub struct AdminServer {
    address: SocketAddr,
}

impl AdminServer {
    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

/// Listen on `address` and serve on a thread of its own.
pub fn serve(
    address: SocketAddr,
    allow_remote: bool,
    context: AdminContext,
) -> Result<AdminServer> {
    if !address.ip().is_loopback() && !allow_remote {
        bail!(
            "admin endpoint {address} is not a loopback address; set [admin] allow_remote = true to expose it"
        );
    }
    let server = tiny_http::Server::http(address)
        .map_err(|e| anyhow::anyhow!("admin endpoint {address}: {e}"))?;
    let address = server
        .server_addr()
        .to_ip()
        .context("the admin endpoint has no IP address")?;
    tracing::info!(%address, "admin endpoint listening");
    std::thread::Builder::new()
        .name("tradsys-admin".into())
        .spawn(move || {
            for mut request in server.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let method = request.method().as_str().to_string();
                let url = request.url().to_string();
                let (code, answer) = match handle(&context, &method, &url, &body) {
                    Ok(answer) => (200, answer),
                    Err(message) => (409, json!({ "ok": false, "message": message })),
                };
                let response = tiny_http::Response::from_string(answer.to_string())
                    .with_status_code(code)
                    .with_header(
                        "Content-Type: application/json"
                            .parse::<tiny_http::Header>()
                            .expect("a valid header"),
                    );
                let _ = request.respond(response);
            }
        })
        .context("starting the admin thread")?;
    Ok(AdminServer { address })
}

fn handle(
    context: &AdminContext,
    method: &str,
    url: &str,
    body: &str,
) -> Result<serde_json::Value, String> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["status"]) => Ok(status(context)),
        ("POST", ["rollback", name]) => rollback(context, name, query.contains("pin=true")),
        ("POST", ["shadow"]) => shadow(context, Path::new(body.trim())),
        ("POST", ["promote", name]) => promote(context, name),
        ("POST", ["discard", name]) => {
            let (reply, answer) = std::sync::mpsc::channel();
            send(
                &context.shadows,
                ShadowCommand::Discard(name.to_string(), reply),
            )?;
            let message = wait(&answer)??;
            Ok(json!({ "ok": true, "message": message }))
        }
        _ => Err(format!("no such request: {method} {path}")),
    }
}

fn status(context: &AdminContext) -> serde_json::Value {
    // Lifecycle states and memory come from the session, between two batches;
    // without an answer (the session has ended) the status has none.
    let (reply, answer) = std::sync::mpsc::channel();
    let plugins = match context.status.send(reply) {
        Ok(()) => wait(&answer).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let running: BTreeMap<String, String> = context
        .running
        .lock()
        .expect("running")
        .iter()
        .map(|(name, p)| (name.clone(), p.version().to_string()))
        .collect();
    let kept: BTreeMap<String, Vec<String>> = context
        .history
        .lock()
        .expect("history")
        .iter()
        .map(|(name, versions)| {
            let versions = versions.iter().map(|p| p.version().to_string()).collect();
            (name.clone(), versions)
        })
        .collect();
    json!({
        "ok": true,
        "message": format!("{} plugins running", running.len()),
        "running": running,
        "kept_versions": kept,
        "plugins": plugins,
        "swaps": *context.swap_log.lock().expect("swap log"),
        "shadows": *context.shadow_log.lock().expect("shadow log"),
    })
}

/// Swap `name` back to the version it ran before, through the swap path.
fn rollback(context: &AdminContext, name: &str, pin: bool) -> Result<serde_json::Value, String> {
    let target = context
        .history
        .lock()
        .expect("history")
        .get(name)
        .and_then(|versions| versions.last().cloned())
        .ok_or_else(|| format!("{name} has no earlier version kept to roll back to"))?;
    let floor =
        Registry::floor(&context.dir, &context.config, name).map_err(|e| format!("{e:#}"))?;
    if let Some(floor) = floor.filter(|f| target.version() < f)
        && !pin
    {
        return Err(format!(
            "rolling {name} back to {} goes below its rollback-protection floor {floor}; \
             pass --pin to do it anyway (the operator's explicit pin; pin the version in \
             [plugins.{name}] to keep it across restarts)",
            target.version()
        ));
    }
    let prepared = Prepared::prepare(&context.runtime, target)?;
    swap(context, prepared, "rollback", true)
}

/// Swap `prepared` in and wait for the outcome.
fn swap(
    context: &AdminContext,
    prepared: Prepared,
    cause: &str,
    rollback: bool,
) -> Result<serde_json::Value, String> {
    let (reply, answer) = std::sync::mpsc::channel();
    let request = SwapRequest {
        rollback,
        reply: Some(reply),
        ..SwapRequest::new(vec![prepared], cause)
    };
    send(&context.swaps, request)?;
    let record = wait(&answer)?;
    let message = format!("{}: {}", record.plugins.join(", "), record.outcome);
    if record.outcome == "swapped" {
        Ok(json!({ "ok": true, "message": message, "swap": record }))
    } else {
        Err(message)
    }
}

/// Verify the candidate file and start it in shadow.
fn shadow(context: &AdminContext, file: &Path) -> Result<serde_json::Value, String> {
    let prepared =
        shadow::prepare_candidate(file, &context.policy, &context.config, &context.runtime)?;
    let (reply, answer) = std::sync::mpsc::channel();
    send(
        &context.shadows,
        ShadowCommand::Start(Box::new(prepared), reply),
    )?;
    let message = wait(&answer)??;
    Ok(json!({ "ok": true, "message": message }))
}

/// Swap the shadow candidate of `name` in (the session ends the shadow as
/// promoted when it installs it).
fn promote(context: &AdminContext, name: &str) -> Result<serde_json::Value, String> {
    let candidate = context
        .candidates
        .lock()
        .expect("candidates")
        .get(name)
        .cloned()
        .ok_or_else(|| format!("{name} has no shadow to promote"))?;
    let prepared = Prepared::prepare(&context.runtime, candidate)?;
    swap(context, prepared, "promoted from shadow", false)
}

fn send<T>(to: &Sender<T>, message: T) -> Result<(), String> {
    to.send(message)
        .map_err(|_| "the session has ended".to_string())
}

fn wait<T>(answer: &std::sync::mpsc::Receiver<T>) -> Result<T, String> {
    answer
        .recv_timeout(SESSION_WAIT)
        .map_err(|_| "the session did not answer (has it ended?)".to_string())
}

/// Send `method` `path` (with `body`) to the admin endpoint at `address`:
/// the answer's message, or an error holding it.
pub fn request(address: &str, method: &str, path: &str, body: &str) -> Result<serde_json::Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(SESSION_WAIT + Duration::from_secs(5)))
        .build()
        .into();
    let url = format!("http://{address}{path}");
    let response = match method {
        "GET" => agent.get(&url).call(),
        _ => agent.post(&url).send(body),
    };
    let mut response = response.with_context(|| {
        format!("no running host answers at {address} (start one with `tradsys run --admin`)")
    })?;
    let text = response.body_mut().read_to_string()?;
    let answer: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{address} did not answer as a tradsys host: {text}"))?;
    if answer["ok"] != true {
        bail!("{}", answer["message"].as_str().unwrap_or(&text));
    }
    Ok(answer)
}
