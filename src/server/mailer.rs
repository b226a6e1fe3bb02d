//! The mailer: a background task that sends the outbox (SLA alerts, and
//! later approval requests) through SMTP and marks each message sent. A
//! failed send counts an attempt and is retried with backoff; messages stay
//! in the outbox until sent, so nothing is lost across restarts. Without
//! `[smtp]` configured the task does not run and the outbox keeps them.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::Tls;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::broadcast;

use super::supervise::{catch_panic, keep_running};
use super::AppState;
pub use crate::config::smtp::{SmtpSettings, SmtpTls};
use crate::store::{MailJob, MailQuota};

/// Messages sent per look at the outbox.
const BATCH: u32 = 20;

/// The transport `smtp` describes: its host and port, TLS as configured,
/// and its credentials.
fn transport(smtp: &SmtpSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host);
    let builder = match smtp.tls {
        SmtpTls::None => builder,
        SmtpTls::Starttls => builder.tls(Tls::Required(smtp.tls_parameters()?)),
        SmtpTls::Tls => builder.tls(Tls::Wrapper(smtp.tls_parameters()?)),
    };
    let mut builder = builder.port(smtp.port).timeout(Some(smtp.timeout));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// What a send that panicked records (the panic is in the log).
pub const SEND_PANICKED: &str = "internal error: sending panicked; see the server log";

/// Runs until the server stops; a panic in the mailer itself restarts it.
pub async fn mailer(state: AppState, smtp: SmtpSettings) {
    keep_running("mailer", Duration::from_secs(1), || {
        mail_loop(state.clone(), smtp.clone())
    })
    .await
}

async fn mail_loop(state: AppState, smtp: SmtpSettings) {
    let transport = match transport(&smtp) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "cannot set up SMTP; the outbox keeps every message");
            return;
        }
    };
    let mut wake = state.events.subscribe();
    loop {
        match send_due(&state, &smtp, &transport).await {
            Ok(n) if n == BATCH as usize => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the outbox"),
        }
        tokio::select! {
            r = wake.recv() => {
                if matches!(r, Err(broadcast::error::RecvError::Closed)) {
                    return;
                }
                super::settle(&mut wake).await;
            }
            _ = tokio::time::sleep(state.settings.outbound_interval) => {}
        }
    }
}

async fn send_due(
    state: &AppState,
    smtp: &SmtpSettings,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let lease =
        now + chrono::Duration::from_std(smtp.timeout * 4).unwrap_or(chrono::Duration::minutes(5));
    let jobs = state.store.claim_mail(now, lease, BATCH).await?;
    let count = jobs.len();
    for job in jobs {
        if within_quota(state, &job, now).await {
            let sending = async {
                super::supervise::inject!(state, Mail);
                send(smtp, transport, &job).await
            };
            record(state, &job, sending).await;
        }
    }
    Ok(count)
}

/// Takes `job` from its tenant's daily quota; a message over it is deferred
/// to the next UTC day (recorded on it and in the audit log) and not sent.
async fn within_quota(state: &AppState, job: &MailJob, now: chrono::DateTime<chrono::Utc>) -> bool {
    let quota = MailQuota::on(state.settings.email_daily_quota_per_tenant, now);
    match state.store.take_mail_quota(job, quota).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!(tenant = %job.tenant_id, message = %job.id, quota = quota.limit,
                until = %quota.defer_until, "email deferred: the tenant's daily quota is spent");
            false
        }
        Err(e) => {
            // Not sent; the lease expires and the message is looked at again.
            tracing::error!(tenant = %job.tenant_id, message = %job.id, error = %e,
                "cannot count an email against the daily quota");
            false
        }
    }
}

/// Sends one message with `sending` and records the outcome; a send that
/// panics counts as a failed attempt, retried with backoff.
async fn record(
    state: &AppState,
    job: &MailJob,
    sending: impl std::future::Future<Output = Result<(), String>>,
) {
    let what = format!("email {}", job.id);
    let sent = catch_panic(&what, sending)
        .await
        .unwrap_or_else(|_| Err(SEND_PANICKED.to_string()));
    let at = state.clock.now();
    let outcome = match sent {
        Ok(()) => {
            tracing::info!(tenant = %job.tenant_id, message = %job.id, "email sent");
            Ok(at)
        }
        Err(e) => {
            let retry = at + state.settings.outbound_retry.delay(job.attempts + 1);
            tracing::warn!(tenant = %job.tenant_id, message = %job.id, error = %e,
                attempts = job.attempts + 1, "email not sent; will retry");
            Err((retry, e.chars().take(500).collect()))
        }
    };
    if let Err(e) = state.store.record_mail(job, outcome).await {
        // The lease expires and the message is sent again: at least once.
        tracing::error!(error = %e, "cannot record a mail attempt");
    }
}

async fn send(
    smtp: &SmtpSettings,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    job: &MailJob,
) -> Result<(), String> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| format!("bad from address: {e}"))?;
    let to: Mailbox = job
        .recipient
        .parse()
        .map_err(|e| format!("bad recipient address: {e}"))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(job.subject.clone())
        .message_id(Some(format!("<{}@switchboard>", job.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(job.body.clone())
        .map_err(|e| format!("cannot build the message: {e}"))?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| describe(&e))
}

/// An SMTP failure for the outbox's `last_error`: a rejected certificate
/// says so and what to do, rather than lettre's "Connection error".
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(rustls::Error::InvalidCertificate(cert)) = rustls_error(err) {
            let detail = format!("{cert:?}");
            return match cert {
                rustls::CertificateError::UnknownIssuer
                | rustls::CertificateError::BadSignature => format!(
                    "SMTP: the server's certificate is not trusted ({detail}); if the relay \
                     uses a private CA or a self-signed certificate, set smtp.ca_file to it"
                ),
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. } => format!(
                    "SMTP: the server's certificate is not valid for the host name in \
                     smtp.host ({detail})"
                ),
                _ => format!("SMTP: the server's certificate was rejected ({detail})"),
            };
        }
        source = err.source();
    }
    format!("SMTP: {e}")
}

/// rustls reports through `std::io::Error`, whose `source()` skips the
/// wrapped error itself: look inside.
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    err.downcast_ref::<rustls::Error>().or_else(|| {
        err.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::supervise::fixture::Fixture;

    /// Issue 13: a panic while sending one email is that email's failed
    /// attempt (retried), and the mailer goes on.
    #[tokio::test]
    async fn a_panicking_send_is_recorded_as_a_failed_attempt() {
        let fx = Fixture::new(Some("manager@oak.test")).await;
        fx.overdue_lead().await;
        let store = &fx.state.store;
        let now = chrono::Utc::now();
        store.sla_sweep(now).await.unwrap();
        let lease = now + chrono::Duration::minutes(5);
        let jobs = store.claim_mail(now, lease, 10).await.unwrap();
        assert!(!jobs.is_empty(), "an SLA alert to the manager");

        record(&fx.state, &jobs[0], async {
            panic!("injected into the send")
        })
        .await;

        let outbox = store.pending_outbox(fx.tenant.id).await.unwrap();
        let mail = outbox.iter().find(|m| m.id == jobs[0].id).unwrap();
        assert_eq!(mail.attempts, 1);
        assert_eq!(mail.last_error.as_deref(), Some(SEND_PANICKED));
    }
}
