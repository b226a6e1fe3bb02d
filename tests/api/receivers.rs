//! In-test receivers on loopback: an HTTP endpoint for webhooks (answers a
//! status the test sets) and a minimal SMTP server (plain, STARTTLS or
//! implicit TLS with a per-test CA), both recording what arrives.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Clone)]
struct Shared {
    status: Arc<AtomicU16>,
    /// Milliseconds to wait before answering (a slow receiver).
    delay_ms: Arc<AtomicU64>,
    seen: Arc<Mutex<Vec<Received>>>,
}

/// A webhook receiver answering `status()` (200 unless told otherwise).
pub struct HookReceiver {
    pub url: String,
    shared: Shared,
}

async fn record(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let at = Instant::now();
    s.seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Received { headers, body, at });
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let code = StatusCode::from_u16(s.status.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK);
    let reply = if code.is_success() {
        "thanks".to_string()
    } else {
        format!("receiver down ({}) {}", code.as_u16(), "x".repeat(600))
    };
    (code, reply)
}

impl HookReceiver {
    pub async fn start() -> HookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Shared {
            status: Arc::new(AtomicU16::new(200)),
            delay_ms: Arc::default(),
            seen: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(record))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        HookReceiver {
            url: format!("http://{addr}/hook"),
            shared,
        }
    }

    pub fn answer(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Answers each request only after `delay`.
    pub fn delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits (up to 10 s) until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let seen = self.received();
            if seen.len() >= n {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {n} webhook requests arrived",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A loopback address nothing listens on (yet).
pub async fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    l.local_addr().expect("addr")
}

/// One message as the SMTP receiver saw it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    /// Whether it came over TLS (implicit, or after STARTTLS).
    pub tls: bool,
}

/// How the SMTP receiver speaks.
#[derive(Clone)]
pub enum SmtpMode {
    Plain,
    /// Offers STARTTLS after EHLO and requires it before MAIL.
    StartTls(TlsAcceptor),
    /// TLS from the first byte.
    Tls(TlsAcceptor),
}

/// A minimal SMTP server: greeting, EHLO/HELO, STARTTLS, MAIL, RCPT, DATA,
/// RSET, NOOP, QUIT. Enough for lettre without auth.
pub struct SmtpReceiver {
    mails: Arc<Mutex<Vec<Mail>>>,
    /// TLS handshakes that failed (e.g. the client did not trust us).
    refused: Arc<AtomicUsize>,
}

impl SmtpReceiver {
    pub async fn start(addr: SocketAddr) -> SmtpReceiver {
        Self::start_with(addr, SmtpMode::Plain, Duration::ZERO).await
    }

    /// Speaks `mode`, and waits `delay` before accepting each message (a
    /// slow relay).
    pub async fn start_with(addr: SocketAddr, mode: SmtpMode, delay: Duration) -> SmtpReceiver {
        let listener = TcpListener::bind(addr).await.expect("bind the SMTP port");
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let refused: Arc<AtomicUsize> = Arc::default();
        let (store, failures) = (mails.clone(), refused.clone());
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let session = Session {
                    store: store.clone(),
                    refused: failures.clone(),
                    delay,
                };
                let mode = mode.clone();
                tokio::spawn(async move {
                    let _ = session.run(conn, mode).await;
                });
            }
        });
        SmtpReceiver { mails, refused }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn refused_handshakes(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// Waits until `n` TLS handshakes were refused here: the sender may
    /// record its failed attempt before this side has read its alert.
    pub async fn wait_refused(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.refused_handshakes() < n {
            assert!(
                Instant::now() < deadline,
                "only {} of {n} refused handshakes",
                self.refused_handshakes()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {n} mails",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A private CA and a certificate it signed for 127.0.0.1, made per test.
pub struct TestCa {
    /// The CA's certificate, PEM: what `smtp.ca_file` would hold.
    pub ca_pem: String,
    /// Serves the signed certificate.
    pub acceptor: TlsAcceptor,
}

impl TestCa {
    pub fn new() -> TestCa {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Switchboard test CA");
        let ca_key = KeyPair::generate().expect("CA key");
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA certificate");
        let leaf_key = KeyPair::generate().expect("server key");
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .expect("server params")
            .signed_by(&leaf_key, &ca)
            .expect("server certificate");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .expect("server TLS config");
        TestCa {
            ca_pem: ca.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }
}

struct Session {
    store: Arc<Mutex<Vec<Mail>>>,
    refused: Arc<AtomicUsize>,
    delay: Duration,
}

impl Session {
    async fn run(&self, conn: TcpStream, mode: SmtpMode) -> std::io::Result<()> {
        match mode {
            SmtpMode::Plain => self.converse(conn, false, true, false).await.map(drop),
            SmtpMode::Tls(acceptor) => {
                let tls = self.handshake(&acceptor, conn).await?;
                self.converse(tls, true, true, false).await.map(drop)
            }
            SmtpMode::StartTls(acceptor) => {
                if let Some(conn) = self.converse(conn, false, true, true).await? {
                    let tls = self.handshake(&acceptor, conn).await?;
                    // No second greeting: the client says EHLO again.
                    self.converse(tls, true, false, false).await?;
                }
                Ok(())
            }
        }
    }

    async fn handshake(
        &self,
        acceptor: &TlsAcceptor,
        conn: TcpStream,
    ) -> std::io::Result<tokio_rustls::server::TlsStream<TcpStream>> {
        acceptor.accept(conn).await.inspect_err(|_| {
            self.refused.fetch_add(1, Ordering::SeqCst);
        })
    }

    /// One conversation; returns the stream when the client asked to
    /// upgrade with STARTTLS (only offered when `starttls`).
    async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: S,
        tls: bool,
        greet: bool,
        starttls: bool,
    ) -> std::io::Result<Option<S>> {
        let mut conn = BufReader::new(stream);
        if greet {
            conn.write_all(b"220 receiver.test ESMTP\r\n").await?;
        }
        let mut from = String::new();
        let mut to = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if conn.read_line(&mut line).await? == 0 {
                return Ok(None);
            }
            let line = line.trim_end_matches(['\r', '\n']);
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") && starttls {
                b"250-receiver.test\r\n250 STARTTLS\r\n"
            } else if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250 receiver.test\r\n"
            } else if upper == "STARTTLS" && starttls {
                conn.write_all(b"220 go ahead\r\n").await?;
                conn.flush().await?;
                // The client sends nothing more in clear, so nothing is
                // left in the buffer.
                return Ok(Some(conn.into_inner()));
            } else if upper.starts_with("MAIL FROM:") && starttls {
                b"530 must issue STARTTLS first\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                from = line[10..].trim().to_string();
                b"250 OK\r\n"
            } else if upper.starts_with("RCPT TO:") {
                to.push(line[8..].trim().to_string());
                b"250 OK\r\n"
            } else if upper == "DATA" {
                conn.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                let mut l = String::new();
                loop {
                    l.clear();
                    if conn.read_line(&mut l).await? == 0 {
                        return Ok(None);
                    }
                    let l = l.trim_end_matches(['\r', '\n']);
                    if l == "." {
                        break;
                    }
                    data.push_str(l);
                    data.push('\n');
                }
                tokio::time::sleep(self.delay).await;
                self.store
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Mail {
                        from: std::mem::take(&mut from),
                        to: std::mem::take(&mut to),
                        data,
                        tls,
                    });
                b"250 queued\r\n"
            } else if upper == "QUIT" {
                conn.write_all(b"221 bye\r\n").await?;
                conn.flush().await?;
                return Ok(None);
            } else if upper == "RSET" || upper == "NOOP" {
                b"250 OK\r\n"
            } else {
                b"502 not implemented\r\n"
            };
            conn.write_all(reply).await?;
            conn.flush().await?;
        }
    }
}
