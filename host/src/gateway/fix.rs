//! The FIX 4.4 acceptor: one task per connection. The first message must
//! be a Logon (A) naming the venue (TargetCompID, `gateway.fix_comp_id`), an
//! account's SenderCompID (`fix_sender` in the accounts file) and its key
//! in Password (554); a refused logon is told why in a Logout and the
//! connection closes. After it, the session's rules (`fix_session.rs`) and
//! the application messages (`fix_orders.rs`) as the session and the
//! client's requests run through the same inbox and reply queues as the
//! WebSocket's.
//!
//! Garbled bytes (a bad BodyLength or CheckSum, a field that is no
//! `tag=value`) are dropped and counted, as FIX says: the message's number
//! is then missing, and the next one starts a resend request.

use std::io::{Read as _, Seek as _, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Notify, mpsc, watch};
use tradsys_fix::{Decoder, Garbled, Message};

use super::fix_fields::{self, Refusal};
use super::fix_orders::FixOrders;
use super::fix_session::{BEGIN, FixSession, Sequences, Step};
use super::protocol::Reply;
use super::{Bucket, Conn, FAREWELL, LOGON_TIMEOUT, SEND_TIMEOUT, Shared};

/// The longest heartbeat interval a client may ask for.
const MAX_HEARTBEAT: u64 = 3_600;

/// Replies written in one go at most.
const PER_WRITE: usize = 256;

/// An account's sequence numbers on disk, so that they survive a restart:
/// one line (`NEXT_IN NEXT_OUT`) rewritten in place whenever they moved (to
/// the operating system, not fsynced: a crash of the host loses none, a
/// power cut may).
struct SeqFile {
    file: std::fs::File,
    written: (u64, u64),
}

impl SeqFile {
    /// The file of SenderCompID `sender` in `dir`, and the numbers it holds.
    fn open(dir: &Path, sender: &str) -> std::io::Result<(Self, Option<Sequences>)> {
        std::fs::create_dir_all(dir)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(format!("{sender}.seq")))?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let numbers: Vec<u64> = text
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        let stored = match numbers[..] {
            [next_in, next_out] if next_in > 0 && next_out > 0 => {
                Some(Sequences::starting(next_in, next_out))
            }
            _ => None,
        };
        let written = stored.as_ref().map_or((0, 0), |s| (s.next_in, s.next_out));
        Ok((Self { file, written }, stored))
    }

    /// Write `seq`'s numbers if they moved.
    fn save(&mut self, seq: &Sequences) {
        let now = (seq.next_in, seq.next_out);
        if now == self.written {
            return;
        }
        let line = format!("{:020} {:020}\n", now.0, now.1);
        let written = self
            .file
            .seek(std::io::SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(line.as_bytes()));
        match written {
            Ok(()) => self.written = now,
            Err(e) => tracing::warn!("gateway: FIX sequence numbers not kept: {e}"),
        }
    }
}

/// Serve on `listener` until `stop`.
pub(super) async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("gateway: FIX: {e}");
            return;
        }
    };
    loop {
        tokio::select! {
            () = async { let _ = stop.wait_for(|stopped| *stopped).await; } => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tokio::spawn(connection(stream, shared.clone(), peer));
                }
                Err(e) => {
                    tracing::warn!("gateway: FIX: accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
}

/// Bytes from the peer, into `decoder`; `false` when the connection ended.
async fn read_some(reader: &mut OwnedReadHalf, decoder: &mut Decoder, buf: &mut [u8]) -> bool {
    match reader.read(buf).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            decoder.push(&buf[..n]);
            true
        }
    }
}

/// A frame dropped: counted and logged.
fn garbled(shared: &Shared, peer: SocketAddr, why: &Garbled) {
    shared.counts.malformed.fetch_add(1, Ordering::Relaxed);
    tracing::warn!("gateway: FIX {peer}: {why}");
}

/// Write what the session has to send; within [`SEND_TIMEOUT`], or the
/// client is a slow consumer.
async fn flush(writer: &mut OwnedWriteHalf, session: &mut FixSession) -> Result<(), String> {
    if session.out.is_empty() {
        return Ok(());
    }
    let bytes = std::mem::take(&mut session.out);
    match tokio::time::timeout(SEND_TIMEOUT, writer.write_all(&bytes)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(String::new()),
        Err(_) => Err("taking no message for 5 s".into()),
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, peer: SocketAddr) {
    let _open = match shared.open_connection() {
        Ok(open) => open,
        Err(why) => {
            // Before a logon there is no session to log out of.
            tracing::warn!("gateway: FIX {peer} turned away: {why}");
            return;
        }
    };
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let mut decoder = Decoder::default();
    let mut buf = vec![0_u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + LOGON_TIMEOUT;
    let logon = loop {
        match decoder.next_message() {
            Some(Ok(message)) => break message,
            Some(Err(why)) => garbled(&shared, peer, &why),
            None => {
                let read = read_some(&mut reader, &mut decoder, &mut buf);
                match tokio::time::timeout_at(deadline, read).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(_) => {
                        tracing::info!("gateway: FIX {peer}: no logon within 10 s, closed");
                        return;
                    }
                }
            }
        }
    };
    let mut seq_file = None;
    let (account, mut session) = match log_on(&shared, peer, &logon, &mut seq_file) {
        Ok(accepted) => accepted,
        Err(logout) => {
            let _ = tokio::time::timeout(FAREWELL, writer.write_all(&logout)).await;
            return;
        }
    };
    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let name = shared
        .accounts
        .get(account)
        .map_or_else(String::new, |a| a.name.clone());
    tracing::info!(
        "gateway: FIX {peer} logged on as `{name}` (SenderCompID {}, connection {id})",
        session.theirs()
    );
    let (replies_tx, mut replies) = mpsc::channel::<Arc<Reply>>(shared.settings.outbound_queue);
    let close = Arc::new(Notify::new());
    let closing = Arc::new(Mutex::new(None));
    shared.conns().insert(
        id,
        Conn {
            account,
            protocol: "fix",
            replies: replies_tx,
            close: close.clone(),
            closing: closing.clone(),
        },
    );
    let mut orders = FixOrders::new(id);
    // Its working orders, first thing (after a reconnection, a restart).
    if let Err(why) = shared.forward(account, id, super::protocol::Request::OpenOrders) {
        tracing::warn!("gateway: FIX connection {id}: {why}");
    }
    let mut bucket = Bucket::new(shared.settings.max_messages_per_second);
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let max_quantity = shared.settings.max_order_quantity;
    // Why the session ends: `Some` to be told in a Logout, `None` when it
    // was (or the connection is gone).
    let ended: Option<String> = 'session: loop {
        if let Some(file) = seq_file.as_mut() {
            file.save(&session.seq);
        }
        if let Err(why) = flush(&mut writer, &mut session).await {
            if why.is_empty() {
                break None;
            }
            break Some(shared.slow_consumer(id, &name, &why));
        }
        tokio::select! {
            biased;
            () = close.notified() => {
                break closing.lock().unwrap_or_else(|p| p.into_inner()).take()
                    .or_else(|| Some("the venue closes the connection".into()));
            }
            reply = replies.recv() => {
                let Some(first) = reply else { break None };
                let mut reply = Some(first);
                let mut written = 0;
                while let Some(now) = reply.take() {
                    let (messages, requests) = orders.write(&now);
                    for message in messages {
                        session.send(message);
                    }
                    for request in requests {
                        if let Err(why) = shared.forward(account, id, request) {
                            session.send(fix_fields::business_reject("V", &why));
                        }
                    }
                    written += 1;
                    if written < PER_WRITE {
                        reply = replies.try_recv().ok();
                    }
                }
            }
            more = read_some(&mut reader, &mut decoder, &mut buf) => {
                if !more {
                    break None;
                }
                while let Some(next) = decoder.next_message() {
                    let message = match next {
                        Ok(message) => message,
                        Err(why) => {
                            garbled(&shared, peer, &why);
                            continue;
                        }
                    };
                    for step in session.receive(message) {
                        match step {
                            Step::App(message) => {
                                let refused = application(
                                    &shared,
                                    (account, id),
                                    &mut bucket,
                                    &mut orders,
                                    &message,
                                    max_quantity,
                                );
                                if let Some((seq, refusal)) = refused {
                                    answer(&mut session, seq, &message, refusal);
                                }
                            }
                            Step::End(why) => {
                                tracing::info!("gateway: FIX {peer} (`{name}`): {why}");
                                break 'session None;
                            }
                        }
                    }
                }
            }
            _ = ticker.tick() => {
                if let Some(Step::End(why)) = session.tick() {
                    tracing::info!("gateway: FIX {peer} (`{name}`): {why}");
                    break None;
                }
            }
        }
    };
    shared.conns().remove(&id);
    if let Some(why) = ended {
        session.logout(&why);
    }
    if let Some(file) = seq_file.as_mut() {
        file.save(&session.seq);
    }
    let _ = tokio::time::timeout(FAREWELL, flush(&mut writer, &mut session)).await;
    let _ = writer.shutdown().await;
    let mut sessions = shared.fix_sessions();
    sessions.active.remove(&account);
    sessions
        .idle
        .insert(account, std::mem::take(&mut session.seq));
    tracing::info!("gateway: FIX {peer} (`{name}`, connection {id}) disconnected");
}

/// An application message of a logged-on client: its requests go to the
/// session; a refusal comes back with the message's number.
fn application(
    shared: &Shared,
    (account, conn): (usize, u64),
    bucket: &mut Bucket,
    orders: &mut FixOrders,
    message: &Message,
    max_quantity: u64,
) -> Option<(u64, Refusal)> {
    let seq = message.num(34).unwrap_or(0);
    if !bucket.take() {
        shared.counts.rate_limited.fetch_add(1, Ordering::Relaxed);
        let text = format!(
            "rate limit: more than {} messages a second; this one was dropped",
            shared.settings.max_messages_per_second
        );
        let reject = fix_fields::business_reject(message.msg_type(), &text);
        return Some((seq, Refusal::Answer(reject)));
    }
    match orders.read(message, max_quantity) {
        Ok(requests) => {
            for request in requests {
                if let Err(why) = shared.forward(account, conn, request) {
                    let reject = fix_fields::business_reject(message.msg_type(), &why);
                    return Some((seq, Refusal::Answer(reject)));
                }
            }
            None
        }
        Err(refusal) => {
            if matches!(refusal, Refusal::Session { .. }) {
                shared.counts.malformed.fetch_add(1, Ordering::Relaxed);
            }
            Some((seq, refusal))
        }
    }
}

/// Tell the client its message `seq` was refused.
fn answer(session: &mut FixSession, seq: u64, message: &Message, refusal: Refusal) {
    match refusal {
        Refusal::Session { tag, code, text } => session.reject(seq, message, tag, code, &text),
        Refusal::Answer(answer) => session.send(answer),
    }
}

/// Check a Logon: the account and its session (the Logon answered), or
/// the Logout that refuses it. The session's numbers are the account's
/// while the venue runs, else those `fix_store` kept (its file opened into
/// `seq_file`).
fn log_on(
    shared: &Shared,
    peer: SocketAddr,
    logon: &Message,
    seq_file: &mut Option<SeqFile>,
) -> Result<(usize, FixSession), Vec<u8>> {
    let ours = &shared.settings.fix_comp_id;
    let theirs = logon.get(49).unwrap_or("UNKNOWN");
    let refuse = |why: String| {
        tracing::warn!("gateway: FIX {peer} refused: {why}");
        shared.counts.refused_logons.fetch_add(1, Ordering::Relaxed);
        let mut session = FixSession::new(ours, theirs, Sequences::default(), Duration::ZERO);
        session.logout(&why);
        session.out
    };
    if logon.msg_type() != "A" {
        return Err(refuse(format!(
            "the first message must be a Logon (A), not MsgType {}",
            logon.msg_type()
        )));
    }
    if logon.begin != BEGIN {
        return Err(refuse(format!(
            "BeginString (8) is {}, not {BEGIN}",
            logon.begin
        )));
    }
    if logon.get(56) != Some(ours.as_str()) {
        return Err(refuse(format!(
            "TargetCompID (56) must be {ours}, the venue's CompID"
        )));
    }
    if logon.get(98) != Some("0") {
        return Err(refuse("EncryptMethod (98) must be 0".into()));
    }
    let heartbeat = match logon.num(108) {
        Some(seconds) if (1..=MAX_HEARTBEAT).contains(&seconds) => seconds,
        _ => {
            return Err(refuse(format!(
                "HeartBtInt (108) must be 1 to {MAX_HEARTBEAT} seconds"
            )));
        }
    };
    let Some(seq) = logon.num(34) else {
        return Err(refuse("MsgSeqNum (34) missing".into()));
    };
    let key = logon.get(554).unwrap_or("");
    let Some(account) = shared.accounts.authenticate_fix(theirs, key) else {
        return Err(refuse(format!(
            "logon refused: unknown SenderCompID `{theirs}` or a wrong Password (554)"
        )));
    };
    let reset = logon.get(141) == Some("Y");
    let sequences = {
        let mut sessions = shared.fix_sessions();
        if !sessions.active.insert(account) {
            drop(sessions);
            return Err(refuse(format!(
                "SenderCompID `{theirs}` is logged on already (one session at a time)"
            )));
        }
        let idle = sessions.idle.remove(&account);
        drop(sessions);
        let stored = match shared.settings.fix_store() {
            Some(dir) => match SeqFile::open(&dir, theirs) {
                Ok((file, stored)) => {
                    *seq_file = Some(file);
                    stored
                }
                Err(e) => {
                    tracing::warn!(
                        "gateway: FIX sequence numbers of {theirs} in {}: {e}",
                        dir.display()
                    );
                    None
                }
            },
            None => None,
        };
        match (reset, idle, stored) {
            (true, ..) => Sequences::default(),
            (false, Some(kept), _) => kept,
            (false, None, Some(stored)) => stored,
            (false, None, None) => Sequences::default(),
        }
    };
    let mut session = FixSession::new(ours, theirs, sequences, Duration::from_secs(heartbeat));
    if seq < session.seq.next_in {
        let why = format!(
            "MsgSeqNum too low, expecting {} but received {seq}",
            session.seq.next_in
        );
        shared.fix_sessions().active.remove(&account);
        shared
            .fix_sessions()
            .idle
            .insert(account, std::mem::take(&mut session.seq));
        return Err(refuse(why));
    }
    shared.counts.logons.fetch_add(1, Ordering::Relaxed);
    let mut answer = Message::new("A").with(98, 0).with(108, heartbeat);
    if reset {
        answer.push(141, "Y");
    }
    session.send(answer);
    session.logged_on(seq);
    Ok((account, session))
}
