//! The WebSocket listener (axum) and one task per connection: the logon,
//! then the client's messages one by one and the session's replies, each
//! connection with its rate limit and its bounded queue of replies.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::SinkExt as _;
use tokio::sync::{Notify, mpsc, watch};

use super::protocol::{self, Incoming, Reply};
use super::{Bucket, Conn, FAREWELL, LOGON_TIMEOUT, SEND_TIMEOUT, Shared};

/// The largest frame read at all; a larger one ends the connection (up to
/// it, a message over [`protocol::MAX_MESSAGE_BYTES`] is refused and the
/// connection stays).
const MAX_FRAME_BYTES: usize = 1 << 20;

/// Serve on `listener` until `stop`.
pub(super) async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("gateway: {e}");
            return;
        }
    };
    let app = axum::Router::new()
        .route("/", get(upgrade))
        .with_state(shared);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    });
    if let Err(e) = server.await {
        tracing::error!("gateway: {e}");
    }
}

async fn upgrade(
    ws: WebSocketUpgrade,
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let open = match shared.open_connection() {
        Ok(open) => open,
        Err(why) => {
            tracing::warn!("gateway: {peer} turned away: {why}");
            return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
        }
    };
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            let _open = open;
            connection(socket, shared, peer).await;
        })
}

async fn connection(mut socket: WebSocket, shared: Arc<Shared>, peer: SocketAddr) {
    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let mut bucket = Bucket::new(shared.settings.max_messages_per_second);
    let account = match logon(&mut socket, &shared, peer, &mut bucket).await {
        Ok(account) => account,
        Err(reason) => {
            farewell(&mut socket, reason).await;
            return;
        }
    };
    let name = shared
        .accounts
        .get(account)
        .map_or_else(String::new, |a| a.name.clone());
    tracing::info!("gateway: {peer} logged on as `{name}` (connection {id})");
    let (replies_tx, mut replies) = mpsc::channel(shared.settings.outbound_queue);
    let close = Arc::new(Notify::new());
    let closing = Arc::new(Mutex::new(None));
    let _ = replies_tx.try_send(Arc::new(Reply::LoggedOn {
        account: name.clone(),
    }));
    shared.conns().insert(
        id,
        Conn {
            account,
            protocol: "websocket",
            replies: replies_tx.clone(),
            close: close.clone(),
            closing: closing.clone(),
        },
    );
    // Its working orders, first thing (after a reconnection, a restart).
    if let Err(why) = shared.forward(account, id, protocol::Request::OpenOrders) {
        tracing::warn!("gateway: connection {id}: {why}");
    }
    let reason = |closing: &Mutex<Option<String>>| {
        closing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_else(|| "the venue closes the connection".into())
    };
    let ended: Option<String> = loop {
        tokio::select! {
            biased;
            () = close.notified() => break Some(reason(&closing)),
            reply = replies.recv() => {
                let Some(reply) = reply else { break None };
                // A client that does not read is not waited on for ever:
                // the session may close it meanwhile. The replies waiting
                // go out together (one write, not one a message).
                tokio::select! {
                    sent = write_waiting(&mut socket, &reply, &mut replies) => {
                        if sent.is_err() {
                            break None;
                        }
                    }
                    () = close.notified() => break Some(reason(&closing)),
                    () = tokio::time::sleep(SEND_TIMEOUT) => {
                        break Some(shared.slow_consumer(id, &name, "taking no message for 5 s"));
                    }
                }
            }
            message = socket.recv() => {
                let answer = match message {
                    Some(Ok(Message::Text(text))) => {
                        request(&shared, (account, id), &mut bucket, text.as_str())
                    }
                    Some(Ok(Message::Binary(_))) => {
                        shared.counts.malformed.fetch_add(1, Ordering::Relaxed);
                        Some(Reply::Error {
                            reason: "binary messages are not understood: send JSON text".into(),
                            symbol: None,
                        })
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(e)) => {
                        tracing::info!("gateway: {peer} (`{name}`): {e}");
                        break None;
                    }
                };
                if let Some(answer) = answer
                    && replies_tx.try_send(Arc::new(answer)).is_err()
                {
                    let unread = format!("{} messages waiting unread", shared.settings.outbound_queue);
                    break Some(shared.slow_consumer(id, &name, &unread));
                }
            }
        }
    };
    shared.conns().remove(&id);
    tracing::info!("gateway: {peer} (`{name}`, connection {id}) disconnected");
    if let Some(reason) = ended {
        farewell(&mut socket, reason).await;
    }
}

/// Write `first` and the replies waiting behind it (up to 256), then flush.
async fn write_waiting(
    socket: &mut WebSocket,
    first: &Reply,
    replies: &mut mpsc::Receiver<Arc<Reply>>,
) -> Result<(), axum::Error> {
    socket.feed(Message::Text(first.to_text().into())).await?;
    for _ in 0..256 {
        let Ok(reply) = replies.try_recv() else { break };
        socket.feed(Message::Text(reply.to_text().into())).await?;
    }
    socket.flush().await
}

/// A logged-on client's message: a request for the session, or the answer
/// that refuses it.
fn request(
    shared: &Shared,
    (account, conn): (usize, u64),
    bucket: &mut Bucket,
    text: &str,
) -> Option<Reply> {
    let error = |reason: String| {
        Some(Reply::Error {
            reason,
            symbol: None,
        })
    };
    if !bucket.take() {
        shared.counts.rate_limited.fetch_add(1, Ordering::Relaxed);
        return error(format!(
            "rate limit: more than {} messages a second; this one was dropped",
            shared.settings.max_messages_per_second
        ));
    }
    match protocol::parse(text, shared.settings.max_order_quantity) {
        Err(reason) => {
            shared.counts.malformed.fetch_add(1, Ordering::Relaxed);
            error(reason)
        }
        Ok(Incoming::Logon(_)) => error("already logged on".into()),
        Ok(Incoming::Request(request)) => {
            shared.forward(account, conn, request).err().and_then(error)
        }
    }
}

/// Wait for the logon: the account, or why the connection ends.
async fn logon(
    socket: &mut WebSocket,
    shared: &Shared,
    peer: SocketAddr,
    bucket: &mut Bucket,
) -> Result<usize, String> {
    let deadline = tokio::time::Instant::now() + LOGON_TIMEOUT;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.recv())
            .await
            .map_err(|_| format!("no logon within {} s", LOGON_TIMEOUT.as_secs()))?;
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(_)) => return Err("log on first, with a JSON text message".into()),
            None | Some(Err(_)) => return Err(String::new()),
        };
        let refused = if bucket.take() {
            match protocol::parse(text.as_str(), shared.settings.max_order_quantity) {
                Ok(Incoming::Logon(logon)) => {
                    return match shared.accounts.authenticate(&logon.account, &logon.key) {
                        Some(account) => {
                            shared.counts.logons.fetch_add(1, Ordering::Relaxed);
                            Ok(account)
                        }
                        None => {
                            shared.counts.refused_logons.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(
                                "gateway: {peer} refused: a logon to account `{}` with an \
                                 unknown account or a wrong key",
                                logon.account
                            );
                            Err("logon refused: unknown account or wrong key".into())
                        }
                    };
                }
                Ok(Incoming::Request(_)) => {
                    r#"log on first: {"type":"logon","account":"NAME","key":"KEY"}"#.to_string()
                }
                Err(reason) => {
                    shared.counts.malformed.fetch_add(1, Ordering::Relaxed);
                    reason
                }
            }
        } else {
            shared.counts.rate_limited.fetch_add(1, Ordering::Relaxed);
            "rate limit: too many messages before the logon".into()
        };
        let reply = Reply::Error {
            reason: refused,
            symbol: None,
        };
        if socket
            .send(Message::Text(reply.to_text().into()))
            .await
            .is_err()
        {
            return Err(String::new());
        }
    }
}

/// Tell the client why the connection ends, and close it (within
/// [`FAREWELL`]); an empty reason closes without a word.
async fn farewell(socket: &mut WebSocket, reason: String) {
    if reason.is_empty() {
        return;
    }
    let goodbye = async {
        let text = Reply::Disconnect {
            reason: reason.clone(),
        }
        .to_text();
        socket.send(Message::Text(text.into())).await?;
        let mut reason = reason;
        // A close frame's reason is at most 123 bytes.
        while reason.len() > 123 {
            reason.pop();
        }
        socket
            .send(Message::Close(Some(CloseFrame {
                code: close_code::POLICY,
                reason: reason.into(),
            })))
            .await
    };
    let _ = tokio::time::timeout(FAREWELL, goodbye).await;
}
