//! The network edge: the connections the host owns for network connectors
//! (live trading). A [`Link`] is one TCP connection at a time to the
//! addresses the config granted a plugin, and nothing else: the plugin
//! never holds a socket. Its I/O runs on a thread of its own (a tokio
//! runtime); the session talks to it through channels, so a slow or silent
//! venue never blocks the data path.
//!
//! Bytes are bytes here: what they mean is the connector's business, and
//! everything the venue sends is untrusted until the host's checks have
//! seen what the connector made of it.

use std::net::SocketAddr;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::mpsc as async_mpsc;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use crate::policy::TlsGrant;

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The most bytes one read hands on.
const READ_CHUNK: usize = 64 * 1024;

/// What happened on the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// Connected to this address.
    Connected(SocketAddr),
    /// Bytes arrived.
    Bytes(Vec<u8>),
    /// The connection closed (the peer, an error, or asked for), and why.
    Closed(String),
    /// A connection attempt failed, and why.
    Failed(String),
}

enum Command {
    Connect,
    Send(Vec<u8>),
    Close,
}

/// TLS on a link: rustls (ring), trusting only the granted CA file.
#[derive(Clone)]
pub struct Tls {
    connector: TlsConnector,
    name: ServerName<'static>,
    shown: String,
}

impl Tls {
    /// The client side of `grant`; the error names the file or the name.
    pub fn from_grant(grant: &TlsGrant) -> Result<Self, String> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject as _;
        let file = grant.ca.display();
        let mut roots = RootCertStore::empty();
        let certificates =
            CertificateDer::pem_file_iter(&grant.ca).map_err(|e| format!("tls.ca {file}: {e}"))?;
        for certificate in certificates {
            let certificate = certificate.map_err(|e| format!("tls.ca {file}: {e}"))?;
            roots
                .add(certificate)
                .map_err(|e| format!("tls.ca {file}: {e}"))?;
        }
        if roots.is_empty() {
            return Err(format!("tls.ca {file}: no certificate in it"));
        }
        // ring: it builds with nothing but a C compiler (aws-lc-rs, which
        // rustls now prefers for its post-quantum key exchange, needs cmake).
        #[expect(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots);
        let config = match (&grant.cert, &grant.key) {
            (Some(cert), Some(key)) => {
                let (chain, key) = client_identity(cert, key)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| format!("tls.cert {}: {e}", cert.display()))?
            }
            _ => builder.with_no_client_auth(),
        };
        let name = ServerName::try_from(grant.server_name.clone())
            .map_err(|e| format!("tls.server_name `{}`: {e}", grant.server_name))?;
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
            name,
            shown: grant.server_name.clone(),
        })
    }
}

/// The host's certificate chain and its key, from PEM files.
fn client_identity(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<
    (
        Vec<rustls_pki_types::CertificateDer<'static>>,
        rustls_pki_types::PrivateKeyDer<'static>,
    ),
    String,
> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let file = cert.display();
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("tls.cert {file}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("tls.cert {file}: {e}"))?;
    if chain.is_empty() {
        return Err(format!("tls.cert {file}: no certificate in it"));
    }
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("tls.key {}: {e}", key.display()))?;
    Ok((chain, key))
}

type Reader = Box<dyn AsyncRead + Unpin + Send>;
type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// One plugin's connection, owned by the host.
pub struct Link {
    inbound: mpsc::Receiver<Inbound>,
    commands: Option<async_mpsc::UnboundedSender<Command>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Link {
    /// A link to `addresses` (tried in turn, one per attempt), for the
    /// plugin `name`; nothing connects until [`Self::connect`].
    pub fn start(
        name: &str,
        addresses: Vec<SocketAddr>,
        tls: Option<Tls>,
    ) -> std::io::Result<Self> {
        assert!(!addresses.is_empty(), "a link needs an address");
        let (to_session, inbound) = mpsc::channel();
        let (commands, from_session) = async_mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let thread = std::thread::Builder::new()
            .name(format!("link-{name}"))
            .spawn(move || runtime.block_on(run(addresses, tls, from_session, to_session)))?;
        Ok(Self {
            inbound,
            commands: Some(commands),
            thread: Some(thread),
        })
    }

    fn command(&self, command: Command) {
        if let Some(commands) = &self.commands {
            // The I/O thread ends only when the link is dropped.
            let _ = commands.send(command);
        }
    }

    /// Connect (to the next granted address); the answer is an
    /// [`Inbound::Connected`] or an [`Inbound::Failed`].
    pub fn connect(&self) {
        self.command(Command::Connect);
    }

    /// Write `bytes` to the connection (dropped when there is none: the
    /// connector learns of the close from an [`Inbound::Closed`]).
    pub fn send(&self, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.command(Command::Send(bytes));
        }
    }

    /// Close the connection (answered by an [`Inbound::Closed`]).
    pub fn close(&self) {
        self.command(Command::Close);
    }

    /// What happened next, waiting at most `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<Inbound> {
        self.inbound.recv_timeout(timeout).ok()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.commands = None; // ends the I/O thread's loop
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Open a connection to `address`: TCP, then TLS when asked.
async fn open(address: SocketAddr, tls: Option<&Tls>) -> Result<(Reader, Writer), String> {
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(format!("cannot connect to {address}: {e}")),
        Err(_) => {
            return Err(format!(
                "cannot connect to {address}: no answer in {} s",
                CONNECT_TIMEOUT.as_secs()
            ));
        }
    };
    let _ = stream.set_nodelay(true);
    let Some(tls) = tls else {
        let (reader, writer) = stream.into_split();
        return Ok((Box::new(reader), Box::new(writer)));
    };
    let handshake = tls.connector.connect(tls.name.clone(), stream);
    match tokio::time::timeout(CONNECT_TIMEOUT, handshake).await {
        Ok(Ok(stream)) => {
            let (reader, writer) = tokio::io::split(stream);
            Ok((Box::new(reader), Box::new(writer)))
        }
        Ok(Err(e)) => Err(format!("TLS with {address} ({}) failed: {e}", tls.shown)),
        Err(_) => Err(format!(
            "TLS with {address} ({}): no handshake in {} s",
            tls.shown,
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

async fn run(
    addresses: Vec<SocketAddr>,
    tls: Option<Tls>,
    mut commands: async_mpsc::UnboundedReceiver<Command>,
    inbound: mpsc::Sender<Inbound>,
) {
    let mut next_address = 0;
    let mut buffer = vec![0u8; READ_CHUNK];
    loop {
        // Not connected: wait for the session to ask.
        match commands.recv().await {
            None => return,
            Some(Command::Send(_) | Command::Close) => continue,
            Some(Command::Connect) => {}
        }
        let address = addresses[next_address % addresses.len()];
        next_address += 1;
        let (mut reader, mut writer) = match open(address, tls.as_ref()).await {
            Ok(halves) => halves,
            Err(why) => {
                let _ = inbound.send(Inbound::Failed(why));
                continue;
            }
        };
        if inbound.send(Inbound::Connected(address)).is_err() {
            return;
        }
        // Connected: bytes both ways until either side closes.
        let why = loop {
            tokio::select! {
                command = commands.recv() => match command {
                    None => {
                        let _ = writer.shutdown().await;
                        return;
                    }
                    Some(Command::Send(bytes)) => {
                        if let Err(e) = writer.write_all(&bytes).await {
                            break format!("writing to {address} failed: {e}");
                        }
                    }
                    Some(Command::Close) => {
                        let _ = writer.shutdown().await;
                        break "closed by the connector".to_string();
                    }
                    Some(Command::Connect) => {}
                },
                read = reader.read(&mut buffer) => match read {
                    Ok(0) => break format!("{address} closed the connection"),
                    Ok(n) => {
                        if inbound.send(Inbound::Bytes(buffer[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                    Err(e) => break format!("reading from {address} failed: {e}"),
                },
            }
        };
        if inbound.send(Inbound::Closed(why)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::{Read as _, Write as _};

    const WAIT: Duration = Duration::from_secs(10);

    #[test]
    fn bytes_go_both_ways_and_a_close_is_reported() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let link = Link::start("test", vec![address], None).unwrap();
        link.connect();
        let (mut peer, _) = listener.accept().unwrap();
        assert_eq!(link.next(WAIT), Some(Inbound::Connected(address)));
        link.send(b"ping".to_vec());
        let mut got = [0u8; 4];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ping");
        peer.write_all(b"pong").unwrap();
        assert_eq!(link.next(WAIT), Some(Inbound::Bytes(b"pong".to_vec())));
        drop(peer);
        match link.next(WAIT) {
            Some(Inbound::Closed(why)) => assert!(why.contains("closed the connection"), "{why}"),
            other => panic!("{other:?}"),
        }
        // It connects again when asked.
        link.connect();
        let (_peer, _) = listener.accept().unwrap();
        assert_eq!(link.next(WAIT), Some(Inbound::Connected(address)));
        link.close();
        assert_eq!(
            link.next(WAIT),
            Some(Inbound::Closed("closed by the connector".into()))
        );
    }

    #[test]
    fn a_refused_connection_names_the_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let link = Link::start("test", vec![address], None).unwrap();
        link.connect();
        match link.next(WAIT) {
            Some(Inbound::Failed(why)) => {
                assert!(why.contains(&address.to_string()), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }
}
