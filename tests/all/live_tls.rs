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

/// A CA (its PEM written to `dir/ca.pem`) and a server certificate for
/// `venue.test` signed by it, with its key.
fn certificates(dir: &Path) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
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
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["venue.test".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (server.der().clone(), key)
}

/// A TLS terminator on a free loopback port, forwarding to `venue_port`.
fn terminator(dir: &Path, venue_port: u16) -> u16 {
    let (certificate, key) = certificates(dir);
    #[expect(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .unwrap();
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
    let port = terminator(dir.path(), venue.port);
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

#[test]
fn a_venue_whose_certificate_names_another_server_is_never_logged_on_to() {
    let mut venue = Venue::start();
    let dir = plugin_dir_with(&["fix-venue", "market-maker"]);
    let port = terminator(dir.path(), venue.port);
    let host = Host::start_with(dir.path(), &tls_config(dir.path(), port, "other.test"), &[]);
    std::thread::sleep(Duration::from_millis(1500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &host.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let log = host.log();
    let report = host.finish();
    assert_eq!(report["live"]["connections"], 0, "{:#}", report["live"]);
    assert!(
        log.contains("TLS with 127.0.0.1:") && log.contains("(other.test) failed"),
        "{log}"
    );
    venue.tell("orders");
    venue.expect("orders-done");
    assert!(venue.said("logon").is_empty(), "{:?}", venue.seen);
}
