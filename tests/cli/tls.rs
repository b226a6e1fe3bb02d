//! `--ca-file` (issue 18): `login` reaches a server behind a private CA only
//! when told to trust it, by flag or by `SWITCHBOARD_CA_FILE`.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::*;

/// A CA made for this test (PEM) and a TLS acceptor for 127.0.0.1 signed by it.
fn private_ca() -> (String, TlsAcceptor) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Switchboard test private CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    (ca.pem(), TlsAcceptor::from(Arc::new(config)))
}

/// HTTPS on port 0 in front of the plain `serve` at `upstream`; its URL.
async fn tls_front(acceptor: TlsAcceptor, upstream: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    tokio::spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake here.
                let Ok(mut tls) = acceptor.accept(conn).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    url
}

fn login(root: &Path, server: &str, extra: &[&str], env: Option<&Path>) -> std::process::Output {
    let mut c = cmd(root);
    c.args(["login", "--server", server, "--password-stdin"])
        .args(extra);
    if let Some(ca) = env {
        c.env("SWITCHBOARD_CA_FILE", ca);
    }
    run_with_stdin(c, "ca@example.com\na good long password\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_trusts_a_private_ca_only_with_ca_file() {
    let root = test_root();
    let mut add = cmd(root.path());
    add.args(["user", "add", "ca@example.com", "--password-stdin"]);
    let out = run_with_stdin(add, "a good long password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = serve(root.path());
    let (ca_pem, acceptor) = private_ca();
    let url = tls_front(acceptor, &server.url).await;
    let ca_file = root.path().join("private-ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let session = root.path().join("config/switchboard/session.toml");

    // Neither the OS's store nor the bundled roots know this CA.
    let out = login(root.path(), &url, &[], None);
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(!out.status.success());
    assert!(err.contains("certificate"), "{err}");
    assert!(
        err.contains("--ca-file"),
        "the refusal says what to do: {err}"
    );
    assert!(!session.exists(), "nothing saved");

    let ca = ca_file.to_str().unwrap();
    let out = login(root.path(), &url, &["--ca-file", ca], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("signed in to {url}")));
    assert!(session.exists());

    // The same through the environment, then a later command (logout).
    let out = login(root.path(), &url, &[], Some(&ca_file));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cmd(root.path())
        .args(["logout", "--ca-file", ca])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("signed out"), "{said}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("did not confirm"));
}

#[test]
fn a_ca_file_without_a_certificate_is_refused_with_what_to_give() {
    let root = test_root();
    let bad = root.path().join("key-not-cert.pem");
    std::fs::write(
        &bad,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let out = login(
        root.path(),
        "https://127.0.0.1:9",
        &["--ca-file", bad.to_str().unwrap()],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds no certificate"), "{err}");
    assert!(err.contains("BEGIN CERTIFICATE"), "{err}");

    let missing = root.path().join("missing.pem");
    let out = login(
        root.path(),
        "https://127.0.0.1:9",
        &["--ca-file", missing.to_str().unwrap()],
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read the CA file"), "{err}");
}
