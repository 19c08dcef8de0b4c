//! The host's one HTTP server (axum on a tokio runtime of its own thread; the
//! data path never waits for it): the admin API, the dashboard, the metrics
//! and the health checks. Loopback only, unless `[admin] allow_remote`.
//!
//! | request | what it answers |
//! |---|---|
//! | `GET /` | the dashboard (one page, every asset served from here) |
//! | `GET /events` | server-sent events: the dashboard's view twice a second |
//! | `GET /api/snapshot` | the same view once, as JSON |
//! | `GET /metrics` | Prometheus metrics (`ops/metrics.rs`) |
//! | `GET /healthz` | 200 while the process is up |
//! | `GET /readyz` | 200 while the session runs with a live connector and matcher and trading is not halted; else 503 and why |
//! | `GET /status` | running versions, each plugin's state, memory, evictions, calls and faults, kept versions, swaps, shadows |
//! | `POST /rollback/NAME` (`?pin=true`) | swap back to the version NAME ran before |
//! | `POST /shadow` (body: a plugin file's path) | run that candidate in shadow |
//! | `POST /promote/NAME` | swap NAME's shadow candidate in |
//! | `POST /discard/NAME` | drop NAME's shadow |
//! | `POST /configure/NAME` (body: `key=value` lines) | re-initialise NAME with those config entries (`live/reconfigure.rs`) |
//! | `POST /disable/NAME`, `/enable/NAME`, `/remove/NAME` | stop or resume calling NAME, or remove it from the session (`live/membership.rs`) |
//!
//! The admin answers are JSON with `ok` and `message`; `tradsys status` and
//! `tradsys plugin rollback | shadow | promote | discard` are their clients
//! (`ops/client.rs`). New versions are prepared on a blocking thread of the
//! server, never on the data path, and go through the swap path.
//!
//! Every `POST` needs the token the host writes at start to a file only its
//! user can read (`Authorization: Bearer TOKEN`); without it, or with a wrong
//! one, the answer is 401 and the attempt is logged. On loopback every `GET`
//! is open; on another address every request but `/healthz` and `/readyz`
//! needs the token (a browser passes it as `?token=`, which the dashboard
//! page hands on to its event stream).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::live::swap::SwapRecord;
use crate::live::{Change, Control, ControlError, RollbackMode};
use crate::ops::{dashboard, metrics};
use crate::trading::Telemetry;

/// How often the event stream sends the dashboard's view.
pub const STREAM_EVERY: Duration = Duration::from_millis(500);

/// A running server; it serves until the process ends.
pub struct Server {
    address: SocketAddr,
    token_file: PathBuf,
}

impl Server {
    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The file holding the token its clients must send.
    pub fn token_file(&self) -> &Path {
        &self.token_file
    }
}

#[derive(Clone)]
struct App {
    control: Control,
    telemetry: Telemetry,
    token: Arc<str>,
    open_reads: bool,
}

/// Listen on `address` and serve on a thread of its own, after writing a
/// fresh token to `token_file` (mode 0600).
pub fn serve(
    address: SocketAddr,
    allow_remote: bool,
    token_file: &Path,
    control: Control,
    telemetry: Telemetry,
) -> Result<Server> {
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
    let listener = std::net::TcpListener::bind(address)
        .with_context(|| format!("admin endpoint {address}: cannot listen"))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let app = App {
        control,
        telemetry,
        token: token.into(),
        open_reads: address.ip().is_loopback(),
    };
    let router = routes(app);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("tradsys-http")
        .build()
        .context("starting the HTTP server's runtime")?;
    std::thread::Builder::new()
        .name("tradsys-http".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(error) => return tracing::error!("HTTP server {address}: {error}"),
                };
                let service = router.into_make_service_with_connect_info::<SocketAddr>();
                if let Err(error) = axum::serve(listener, service).await {
                    tracing::error!("HTTP server {address} stopped: {error}");
                }
            });
        })
        .context("starting the HTTP server's thread")?;
    tracing::info!(%address, "HTTP server listening");
    Ok(Server {
        address,
        token_file: token_file.to_path_buf(),
    })
}

fn routes(app: App) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/events", get(events))
        .route("/api/snapshot", get(view))
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/status", get(status))
        .route("/rollback/{name}", post(rollback))
        .route("/shadow", post(shadow))
        .route("/promote/{name}", post(promote))
        .route("/discard/{name}", post(discard))
        .route("/halt", post(halt))
        .route("/halt/cancel-all", post(halt_cancel_all))
        .route("/disable/{name}", post(disable))
        .route("/enable/{name}", post(enable))
        .route("/remove/{name}", post(remove))
        .route("/configure/{name}", post(configure))
        .fallback(|method: Method, uri: axum::http::Uri| async move {
            let message = format!("no such request: {method} {}", uri.path());
            (StatusCode::NOT_FOUND, axum::Json(refused(message)))
        })
        .layer(axum::middleware::from_fn_with_state(app.clone(), authorize))
        .with_state(app)
}

fn refused(message: String) -> Value {
    json!({ "ok": false, "message": message })
}

/// Whether two tokens are equal, in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// The token a request carries: `Authorization: Bearer`, else `?token=`.
fn sent_token(request: &Request) -> Option<String> {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    bearer.or_else(|| {
        request.uri().query().and_then(|q| {
            q.split('&')
                .find_map(|pair| pair.strip_prefix("token="))
                .map(str::to_string)
        })
    })
}

async fn authorize(State(app): State<App>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let health = path == "/healthz" || path == "/readyz";
    let needs_token = !health && (request.method() != Method::GET || !app.open_reads);
    if needs_token {
        let sent = sent_token(&request);
        if !sent.as_deref().is_some_and(|t| same(t, &app.token)) {
            let peer = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.to_string());
            tracing::warn!(
                peer,
                "admin request {} {path} refused: {} token",
                request.method(),
                if sent.is_some() { "wrong" } else { "no" }
            );
            let message = "this request needs the host's admin token \
                           (Authorization: Bearer; tradsys reads it from --token-file)";
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(refused(message.into())),
            )
                .into_response();
        }
    }
    next.run(request).await
}

async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        dashboard::PAGE,
    )
}

async fn view(State(app): State<App>) -> axum::Json<Value> {
    axum::Json(dashboard::view(&app.telemetry.latest()))
}

async fn events(
    State(app): State<App>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let stream = futures_util::stream::unfold((app, true), |(app, first)| async move {
        if !first {
            tokio::time::sleep(STREAM_EVERY).await;
        }
        let view = dashboard::view(&app.telemetry.latest());
        let event = Event::default().event("snapshot").data(view.to_string());
        Some((Ok(event), (app, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn metrics_text(State(app): State<App>, headers: HeaderMap) -> impl IntoResponse {
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/openmetrics-text"));
    let text = metrics::encode(&app.telemetry.latest(), openmetrics);
    let content_type = if openmetrics {
        metrics::OPENMETRICS
    } else {
        metrics::PROMETHEUS_TEXT
    };
    ([(header::CONTENT_TYPE, content_type)], text)
}

async fn ready(State(app): State<App>) -> impl IntoResponse {
    match app.telemetry.latest().ready() {
        Ok(()) => (StatusCode::OK, "ready\n".to_string()),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}

/// The HTTP status of each reason the control facade gives: the one place
/// they are mapped.
fn status_of(error: &ControlError) -> StatusCode {
    match error {
        ControlError::Ended => StatusCode::SERVICE_UNAVAILABLE,
        ControlError::NoAnswer => StatusCode::GATEWAY_TIMEOUT,
        ControlError::UnknownPlugin(_)
        | ControlError::NoEarlierVersion(_)
        | ControlError::NoShadow(_) => StatusCode::NOT_FOUND,
        ControlError::BelowFloor { .. } | ControlError::Refused(_) => StatusCode::CONFLICT,
        ControlError::Invalid(_) => StatusCode::BAD_REQUEST,
        ControlError::NotKept(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Run `f` (which may wait for the session) on a blocking thread: the
/// answer as JSON, 200, or the status of why not ([`status_of`]).
async fn blocking(
    app: App,
    f: impl FnOnce(&Control) -> Result<Value, ControlError> + Send + 'static,
) -> Response {
    let answer = tokio::task::spawn_blocking(move || f(&app.control)).await;
    match answer {
        Ok(Ok(value)) => axum::Json(value).into_response(),
        Ok(Err(error)) => {
            (status_of(&error), axum::Json(refused(error.to_string()))).into_response()
        }
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(refused(format!("the request failed: {error}"))),
        )
            .into_response(),
    }
}

fn said(message: String) -> Value {
    json!({ "ok": true, "message": message })
}

fn swapped(record: SwapRecord) -> Value {
    let message = format!("{}: {}", record.plugins.join(", "), record.outcome);
    json!({ "ok": true, "message": message, "swap": record })
}

async fn status(State(app): State<App>) -> Response {
    blocking(app, |control| {
        let status = control.status();
        let mut answer = serde_json::to_value(&status).expect("status serialises");
        answer["ok"] = json!(true);
        answer["message"] = json!(format!("{} plugins running", status.running.len()));
        Ok(answer)
    })
    .await
}

async fn rollback(
    State(app): State<App>,
    axum::extract::Path(name): axum::extract::Path<String>,
    uri: axum::http::Uri,
) -> Response {
    let pinned = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "pin=true"));
    let mode = if pinned {
        RollbackMode::Pin
    } else {
        RollbackMode::AboveFloor
    };
    blocking(app, move |c| c.rollback(&name, mode).map(swapped)).await
}

async fn shadow(State(app): State<App>, body: String) -> Response {
    blocking(app, move |c| c.shadow(Path::new(body.trim())).map(said)).await
}

async fn promote(
    State(app): State<App>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    blocking(app, move |c| c.promote(&name).map(swapped)).await
}

async fn discard(
    State(app): State<App>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    blocking(app, move |c| c.discard(&name).map(said)).await
}

async fn halt(State(app): State<App>) -> Response {
    blocking(app, move |c| c.halt(false).map(said)).await
}

async fn halt_cancel_all(State(app): State<App>) -> Response {
    blocking(app, move |c| c.halt(true).map(said)).await
}

async fn membership(app: App, name: String, change: Change) -> Response {
    blocking(app, move |c| {
        c.change(&name, change, "the operator").map(said)
    })
    .await
}

async fn disable(
    State(app): State<App>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    membership(app, name, Change::Disable).await
}

async fn enable(
    State(app): State<App>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    membership(app, name, Change::Enable).await
}

async fn remove(
    State(app): State<App>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    membership(app, name, Change::Remove).await
}

async fn configure(
    State(app): State<App>,
    axum::extract::Path(name): axum::extract::Path<String>,
    body: String,
) -> Response {
    let pairs: Result<Vec<(String, String)>, String> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("`{l}` is not key=value"))
        })
        .collect();
    match pairs {
        Ok(pairs) => blocking(app, move |c| c.configure(&name, &pairs).map(said)).await,
        Err(message) => (StatusCode::BAD_REQUEST, axum::Json(refused(message))).into_response(),
    }
}
