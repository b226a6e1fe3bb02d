//! `[smtp]`: where email alerts go, as the file says it and as the mailer
//! (`crate::server::mailer`) uses it. Checked once at start-up, so a typo or
//! an unreadable CA file fails loudly.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use serde::Deserialize;

const PEM_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// `[smtp]` as written in the file. The password is never in the file:
/// `password_env` names the environment variable that holds it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SmtpFileConfig {
    pub host: String,
    /// Default: 587 for starttls, 465 for tls, 25 for none.
    pub port: Option<u16>,
    /// The sender, e.g. `Switchboard <alerts@example.com>`.
    pub from: String,
    pub username: Option<String>,
    pub password_env: Option<String>,
    /// `none`, `starttls` (default) or `tls`.
    pub tls: Option<SmtpTls>,
    /// PEM file of CA certificates to trust besides the public roots (a
    /// private CA, or a relay's self-signed certificate).
    pub ca_file: Option<PathBuf>,
    /// Longest wait for the server, in seconds (default 30).
    pub timeout_secs: Option<u32>,
}

impl SmtpFileConfig {
    pub(super) fn resolve(self) -> anyhow::Result<SmtpSettings> {
        let password = match &self.password_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                anyhow::anyhow!(
                    "smtp.password_env names {var:?}, but that environment variable is not set"
                )
            })?),
            None => None,
        };
        if password.is_some() && self.username.is_none() {
            anyhow::bail!("smtp.password_env is set but smtp.username is not");
        }
        let tls = self.tls.unwrap_or(SmtpTls::Starttls);
        if self.ca_file.is_some() && tls == SmtpTls::None {
            anyhow::bail!("smtp.ca_file is set but smtp.tls is \"none\"");
        }
        let settings = SmtpSettings {
            port: self.port.unwrap_or(tls.default_port()),
            host: self.host,
            from: self.from,
            username: self.username,
            password,
            tls,
            ca_file: self.ca_file,
            timeout: std::time::Duration::from_secs(u64::from(self.timeout_secs.unwrap_or(30))),
        };
        settings.check()?;
        Ok(settings)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (a relay on localhost or a private network only).
    None,
    /// STARTTLS on the submission port (587), required.
    Starttls,
    /// TLS from the first byte (465).
    Tls,
}

impl SmtpTls {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

/// Where and as whom mail is sent; the password never appears in `Debug`.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: SmtpTls,
    /// PEM file of extra CA certificates to trust (a private CA or a
    /// self-signed relay), besides the public roots.
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl SmtpSettings {
    /// The public roots, plus `ca_file`'s certificates when set.
    pub fn tls_parameters(&self) -> anyhow::Result<TlsParameters> {
        let mut params = TlsParameters::builder(self.host.clone());
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path)
                .with_context(|| format!("cannot read smtp.ca_file {}", path.display()))?;
            // An empty file or a lone key parses as "no certificates".
            if !pem
                .windows(PEM_CERTIFICATE.len())
                .any(|w| w == PEM_CERTIFICATE)
            {
                anyhow::bail!(
                    "smtp.ca_file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    path.display()
                );
            }
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                anyhow::anyhow!("smtp.ca_file {} is not valid PEM: {e}", path.display())
            })?;
            params = params.add_root_certificate(cert);
        }
        params
            .build_rustls()
            .with_context(|| format!("cannot set up TLS for SMTP to {}", self.host))
    }

    /// Checks `from` once at start-up, so a typo fails loudly.
    pub fn check(&self) -> anyhow::Result<()> {
        self.from
            .parse::<Mailbox>()
            .map_err(|e| anyhow::anyhow!("smtp.from {:?} is not an address: {e}", self.from))?;
        match self.tls {
            SmtpTls::None => Ok(()),
            SmtpTls::Starttls | SmtpTls::Tls => self.tls_parameters().map(|_| ()),
        }
    }
}
