//! Logs go to a file for the console (never to the terminal it draws on) and
//! to stderr for `serve`.

use anyhow::Context;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

fn filter(level: &str) -> EnvFilter {
    EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Logs to `<log_dir>/switchboard.log`; keep the guard alive to flush.
pub fn to_file(config: &Config) -> anyhow::Result<WorkerGuard> {
    std::fs::create_dir_all(&config.log_dir)
        .with_context(|| format!("cannot create the log dir {}", config.log_dir.display()))?;
    let appender = tracing_appender::rolling::never(&config.log_dir, "switchboard.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::fmt()
        .with_env_filter(filter(&config.log_level))
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))?;
    Ok(guard)
}

pub fn to_stderr(config: &Config) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(&config.log_level))
        .with_writer(std::io::stderr)
        .try_init();
}
