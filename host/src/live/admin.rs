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
//!
//! State-changing requests (every `POST`) need the token the host writes at
//! start to a file only its user can read ([`token_path`], beside the state
//! file), sent as `Authorization: Bearer TOKEN`; without it, or with a wrong
//! one, the answer is 401 and the attempt is logged. `GET /status` on
//! loopback stays open; on any other address every request needs the token.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde_json::json;

use crate::live::control::{Control, SESSION_WAIT};

/// A running endpoint; it serves until the process ends.
pub struct AdminServer {
    address: SocketAddr,
    token_file: PathBuf,
}

impl AdminServer {
    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The file holding the token its clients must send.
    pub fn token_file(&self) -> &Path {
        &self.token_file
    }
}

/// Where the admin token of the host whose state file is `state_file` is
/// kept: `<dir>.admin-token` beside `<dir>.state.json`.
pub fn token_path(state_file: &Path) -> PathBuf {
    let name = state_file
        .file_name()
        .map_or_else(|| "tradsys".into(), |n| n.to_string_lossy().into_owned());
    let stem = name.strip_suffix(".state.json").unwrap_or(&name);
    state_file.with_file_name(format!("{stem}.admin-token"))
}

/// Listen on `address` and serve on a thread of its own, after writing a
/// fresh token to `token_file` (mode 0600).
pub fn serve(
    address: SocketAddr,
    allow_remote: bool,
    token_file: &Path,
    context: Control,
) -> Result<AdminServer> {
    if !address.ip().is_loopback() && !allow_remote {
        bail!(
            "admin endpoint {address} is not a loopback address; set [admin] allow_remote = true to expose it"
        );
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("generating the admin token: {e}"))?;
    let token: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    tradsys_signing::file::write_atomically(
        token_file,
        format!("{token}\n").as_bytes(),
        tradsys_signing::file::Access::Private,
    )
    .with_context(|| format!("writing the admin token {}", token_file.display()))?;
    let open_reads = address.ip().is_loopback();
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
                let needs_token = method != "GET" || !open_reads;
                let sent = request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Authorization"))
                    .and_then(|h| h.value.as_str().strip_prefix("Bearer "))
                    .map(str::trim);
                let (code, answer) = if needs_token && !sent.is_some_and(|t| same(t, &token)) {
                    let peer = request.remote_addr().map(ToString::to_string);
                    tracing::warn!(
                        peer,
                        "admin request {method} {url} refused: {} token",
                        if sent.is_some() { "wrong" } else { "no" }
                    );
                    let message = "this request needs the host's admin token \
                                   (Authorization: Bearer; tradsys reads it from --token-file)";
                    (401, json!({ "ok": false, "message": message }))
                } else {
                    match handle(&context, &method, &url, &body) {
                        Ok(answer) => (200, answer),
                        Err(message) => (409, json!({ "ok": false, "message": message })),
                    }
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
    Ok(AdminServer {
        address,
        token_file: token_file.to_path_buf(),
    })
}

/// Whether two tokens are equal, in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

fn handle(
    context: &Control,
    method: &str,
    url: &str,
    body: &str,
) -> Result<serde_json::Value, String> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let said = |message: String| json!({ "ok": true, "message": message });
    let swapped = |record: crate::live::swap::SwapRecord| {
        let message = format!("{}: {}", record.plugins.join(", "), record.outcome);
        json!({ "ok": true, "message": message, "swap": record })
    };
    match (method, segments.as_slice()) {
        ("GET", ["status"]) => {
            let status = context.status();
            let mut answer = serde_json::to_value(&status).expect("status serialises");
            answer["ok"] = json!(true);
            answer["message"] = json!(format!("{} plugins running", status.running.len()));
            Ok(answer)
        }
        ("POST", ["rollback", name]) => context
            .rollback(name, query.contains("pin=true"))
            .map(swapped),
        ("POST", ["shadow"]) => context.shadow(Path::new(body.trim())).map(said),
        ("POST", ["promote", name]) => context.promote(name).map(swapped),
        ("POST", ["discard", name]) => context.discard(name).map(said),
        _ => Err(format!("no such request: {method} {path}")),
    }
}

/// Send `method` `path` (with `body`) to the admin endpoint at `address`,
/// with the token read from `token_file` when it can be read: the answer's
/// message, or an error holding it.
pub fn request(
    address: &str,
    token_file: &Path,
    method: &str,
    path: &str,
    body: &str,
) -> Result<serde_json::Value> {
    let token = std::fs::read_to_string(token_file).ok();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(SESSION_WAIT + Duration::from_secs(5)))
        .build()
        .into();
    let url = format!("http://{address}{path}");
    let bearer = token.map(|t| format!("Bearer {}", t.trim()));
    let response = match (method, &bearer) {
        ("GET", None) => agent.get(&url).call(),
        ("GET", Some(bearer)) => agent.get(&url).header("Authorization", bearer).call(),
        (_, None) => agent.post(&url).send(body),
        (_, Some(bearer)) => agent.post(&url).header("Authorization", bearer).send(body),
    };
    let mut response = response.with_context(|| {
        format!("no running host answers at {address} (start one with `tradsys run --admin`)")
    })?;
    let text = response.body_mut().read_to_string()?;
    let answer: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{address} did not answer as a tradsys host: {text}"))?;
    if response.status() == 401 {
        bail!(
            "{address} refused the request: {} (token file {})",
            answer["message"].as_str().unwrap_or(&text),
            token_file.display()
        );
    }
    if answer["ok"] != true {
        bail!("{}", answer["message"].as_str().unwrap_or(&text));
    }
    Ok(answer)
}
