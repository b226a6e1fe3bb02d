//! Logs go to a file for the console (never to the terminal it draws on),
//! a new one each day with the last [`KEPT_FILES`] kept, and to stderr for
//! `serve`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// Daily log files kept; older ones are deleted when a new day starts.
pub const KEPT_FILES: usize = 7;

const PREFIX: &str = "switchboard";
const SUFFIX: &str = "log";

/// The filter `log_level` names (checked when the configuration loaded).
fn filter(level: &str) -> anyhow::Result<EnvFilter> {
    EnvFilter::try_new(level).with_context(|| format!("invalid log_level {level:?}"))
}

/// Today's log file in `dir` (the day is UTC): `switchboard.YYYY-MM-DD.log`.
pub fn current_file(dir: &Path) -> PathBuf {
    let day = chrono::Utc::now().format("%Y-%m-%d");
    dir.join(format!("{PREFIX}.{day}.{SUFFIX}"))
}

/// The log files in `dir`, oldest first.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.starts_with(&format!("{PREFIX}."))
                            && n.ends_with(&format!(".{SUFFIX}"))
                            && n.len() == PREFIX.len() + SUFFIX.len() + 12
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    // The date in the name sorts by time.
    out.sort();
    out
}

/// Logs to [`current_file`] in `log_dir`; keep the guard alive to flush.
pub fn to_file(config: &Config) -> anyhow::Result<WorkerGuard> {
    std::fs::create_dir_all(&config.log_dir)
        .with_context(|| format!("cannot create the log dir {}", config.log_dir.display()))?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix(SUFFIX)
        .max_log_files(KEPT_FILES)
        .build(&config.log_dir)
        .with_context(|| format!("cannot open a log file in {}", config.log_dir.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::fmt()
        .with_env_filter(filter(&config.log_level)?)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))?;
    Ok(guard)
}

pub fn to_stderr(config: &Config) {
    if let Ok(filter) = filter(&config.log_level) {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dated_log_files_are_listed_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "switchboard.2026-12-02.log",
            "switchboard.2026-11-30.log",
            "switchboard.log",
            "switchboard.db",
            "other.2026-12-01.log",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let names: Vec<String> = files(dir.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["switchboard.2026-11-30.log", "switchboard.2026-12-02.log"]
        );
        // Today's file is one of them (the appender names it the same way).
        let today = current_file(dir.path());
        std::fs::write(&today, "").unwrap();
        assert_eq!(files(dir.path()).last(), Some(&today));
    }
}
