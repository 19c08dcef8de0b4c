//! Live trading over TLS: the host speaks TLS (rustls) to a terminator in
//! front of the QuickFIX venue, trusting only the CA file its grant names;
//! the connector sees plain FIX.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

use crate::common::plugin_dir_with;
use crate::live::{Host, Venue, live_config, strategy};

/// A CA (its PEM written to `dir/ca.pem`), a client certificate it signed
/// (`dir/client.pem`, its key `dir/client.key`), and a server certificate
/// for `venue.test` it signed, with its key, and the CA's certificate.
fn certificates(
    dir: &Path,
) -> (
    CertificateDer<'static>,
    PrivateKeyDer<'static>,
    CertificateDer<'static>,
) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(vec!["tradsys.test".to_string()])
        .unwrap()
        .signed_by(&client_key, &issuer)
        .unwrap();
    std::fs::write(dir.join("client.pem"), client.pem()).unwrap();
    std::fs::write(dir.join("client.key"), client_key.serialize_pem()).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["venue.test".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (server.der().clone(), key, ca_cert.der().clone())
}

/// A TLS terminator on a free loopback port, forwarding to `venue_port`;
/// with `clients_signed`, it accepts only a client whose certificate the
/// CA signed.
fn terminator(dir: &Path, venue_port: u16, clients_signed: bool) -> u16 {
    let (certificate, key, ca) = certificates(dir);
    #[expect(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if clients_signed {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca).unwrap();
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder.with_single_cert(vec![certificate], key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    break;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(client).await else {
                        return;
                    };
                    let Ok(mut venue) =
                        tokio::net::TcpStream::connect(("127.0.0.1", venue_port)).await
                    else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut venue).await;
                });
            }
        });
    });
    port
}

/// The live config over TLS to `port`, naming `server_name`.
fn tls_config(dir: &Path, port: u16, server_name: &str) -> String {
    let ca = dir.join("ca.pem");
    live_config(port, "live").replace(
        "[plugins.fix-venue]\n",
        &format!(
            "[plugins.fix-venue]\ntls = {{ server_name = \"{server_name}\", ca = \"{}\" }}\n",
            ca.display()
        ),
    )
}

#[test]
fn orders_and_fills_go_over_tls_to_a_venue_the_ca_vouches_for() {
    let mut venue = Venue::start();
    venue.tell("level ESH4 B 4700 10");
    venue.expect("level-done");
    venue.tell("level ESH4 S 4700.25 10");
    venue.expect("level-done");
    let dir = plugin_dir_with(&["fix-venue", "market-maker"]);
    let port = terminator(dir.path(), venue.port, false);
    let host = Host::start_with(dir.path(), &tls_config(dir.path(), port, "venue.test"), &[]);
    venue.expect("logon");
    venue.expect("new ");
    venue.expect("new ");
    venue.tell("trade ESH4 4699.5 1");
    venue.expect("fill ");
    std::thread::sleep(Duration::from_millis(500));
    venue.tell("logout");
    let report = host.finish();
    assert_eq!(strategy(&report, "market-maker")["fills"], 1, "{report:#}");
}

/// Let `host` try for a second and a half, then Ctrl-C it: its log and
/// report.
fn interrupted(host: Host) -> (String, serde_json::Value) {
    // 1.5 s of the session, after its plugins are ready: compiling them
    // cold on a loaded machine takes a second of its own.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !host.log().contains("before the session's clock") {
        assert!(std::time::Instant::now() < deadline, "{}", host.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    host.interrupt();
    let log = host.log();
    (log, host.finish())
}

#[test]
fn a_venue_whose_certificate_names_another_server_is_never_logged_on_to() {
    let mut venue = Venue::start();
    let dir = plugin_dir_with(&["fix-venue", "market-maker"]);
    let port = terminator(dir.path(), venue.port, false);
    let host = Host::start_with(dir.path(), &tls_config(dir.path(), port, "other.test"), &[]);
    let (log, report) = interrupted(host);
    assert_eq!(report["live"]["connections"], 0, "{:#}", report["live"]);
    assert!(
        log.contains("TLS with 127.0.0.1:") && log.contains("(other.test) failed"),
        "{log}"
    );
    venue.tell("orders");
    venue.expect("orders-done");
    assert!(venue.said("logon").is_empty(), "{:?}", venue.seen);
}

#[test]
fn a_venue_that_asks_for_a_client_certificate_gets_the_one_granted_and_no_other_host_gets_in() {
    let mut venue = Venue::start();
    let dir = plugin_dir_with(&["fix-venue", "market-maker"]);
    let port = terminator(dir.path(), venue.port, true);
    // Without a certificate of its own, the host is refused in the
    // handshake and never logs on.
    let host = Host::start_with(dir.path(), &tls_config(dir.path(), port, "venue.test"), &[]);
    let (log, report) = interrupted(host);
    assert_eq!(report["live"]["bytes_in"], 0, "{:#}", report["live"]);
    // TLS 1.3: the refusal comes after the client's half of the handshake,
    // as an alert; the back-off grows, since the venue never said a word.
    assert!(log.contains("CertificateRequired"), "{log}");
    assert!(log.contains("connecting again in 400 ms"), "{log}");
    venue.tell("orders");
    venue.expect("orders-done");
    assert!(venue.said("logon").is_empty(), "{:?}", venue.seen);
    // With the certificate the CA signed, it logs on and trades.
    let config = tls_config(dir.path(), port, "venue.test").replace(
        "tls = {",
        &format!(
            "tls = {{ cert = \"{}\", key = \"{}\",",
            dir.path().join("client.pem").display(),
            dir.path().join("client.key").display()
        ),
    );
    std::fs::remove_file(dir.path().join("journal.jsonl")).unwrap();
    let host = Host::start_with(dir.path(), &config, &[]);
    venue.expect("logon");
    venue.expect("subscribed");
    venue.tell("logout");
    let report = host.finish();
    assert_eq!(report["live"]["connections"], 1, "{:#}", report["live"]);
    // Half a pair is a config error that names the plugin.
    let half = tls_config(dir.path(), port, "venue.test").replace(
        "tls = {",
        &format!(
            "tls = {{ cert = \"{}\",",
            dir.path().join("client.pem").display()
        ),
    );
    let (ok, log) = Host::start_with(dir.path(), &half, &[]).exit();
    assert!(!ok && log.contains("plugins.fix-venue.tls"), "{log}");
}
