//! `switchboard serve` as a child process (the real binary), for harnesses
//! that kill or restart the platform or run several servers on one database.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// A running `switchboard serve`, killed when dropped.
pub struct ServeProcess {
    child: Child,
    pub url: String,
    // Held open: the server's stdout stays a valid pipe while it runs.
    _stdout: BufReader<ChildStdout>,
}

/// How to start one: the binary, its database, and where it keeps its files.
#[derive(Clone)]
pub struct ServeSpec {
    pub bin: PathBuf,
    pub database_url: String,
    /// HOME and the XDG dirs point inside it.
    pub home: PathBuf,
    /// Where its log (stderr) is appended.
    pub log: PathBuf,
}

impl ServeSpec {
    /// Starts the server on `bind` (port 0 for a free port) and waits for
    /// the `listening on` line.
    pub async fn start(&self, bind: &str) -> anyhow::Result<ServeProcess> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("cannot open {}", self.log.display()))?;
        let mut child = Command::new(&self.bin)
            .args([
                "serve",
                "--bind",
                bind,
                "--database-url",
                &self.database_url,
            ])
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join("config"))
            .env("XDG_DATA_HOME", self.home.join("data"))
            // Harnesses post far faster than a website form; the per-key
            // limit is not what they measure.
            .env("SWITCHBOARD_INGEST_RATE_PER_MINUTE", "100000000")
            .env("SWITCHBOARD_INGEST_BURST", "10000000")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        let stdout = child.stdout.take().context("serve has no stdout")?;
        let mut stdout = BufReader::new(stdout);
        let mut first = String::new();
        tokio::time::timeout(Duration::from_secs(60), stdout.read_line(&mut first))
            .await
            .context("serve did not announce its address within 60 s")??;
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .with_context(|| {
                format!(
                    "serve printed {first:?} instead of its address (log: {})",
                    self.log.display()
                )
            })?
            .to_string();
        Ok(ServeProcess {
            child,
            url,
            _stdout: stdout,
        })
    }
}

impl ServeProcess {
    /// `host:port` of the listener, to restart on the same address.
    pub fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// SIGKILL: no shutdown, no flush, nothing in flight finishes.
    pub async fn kill9(mut self) -> anyhow::Result<()> {
        self.child.start_kill().context("cannot kill serve")?;
        self.child.wait().await.context("cannot reap serve")?;
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

/// The binary to start: this very executable when run as `switchboard bench`.
pub fn current_binary() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("cannot find the switchboard binary")
}

/// A directory for a harness's homes and logs.
pub fn ensure_dir(path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(path).with_context(|| format!("cannot create {}", path.display()))
}
