//! Logs go to a file for the console (never to the terminal it draws on),
//! a new one each day with the last [`KEPT_FILES`] kept, and to stderr for
//! `serve`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, RollingFileAppender, Rotation};
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

/// Today's file in `dir`, rolled over at midnight UTC; opening it deletes
/// all but the newest [`KEPT_FILES`].
fn appender(dir: &Path) -> anyhow::Result<RollingFileAppender> {
    Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix(SUFFIX)
        .max_log_files(KEPT_FILES)
        .build(dir)
        .with_context(|| format!("cannot open a log file in {}", dir.display()))
}

/// Logs to [`current_file`] in `log_dir`; keep the guard alive to flush.
pub fn to_file(config: &Config) -> anyhow::Result<WorkerGuard> {
    std::fs::create_dir_all(&config.log_dir)
        .with_context(|| format!("cannot create the log dir {}", config.log_dir.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender(&config.log_dir)?);
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
    fn opening_the_log_keeps_only_the_newest_files() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        // Ten earlier days, oldest first (the appender goes by creation time).
        for day in 1..=10 {
            let path = dir.path().join(format!("switchboard.2026-01-{day:02}.log"));
            std::fs::write(path, "old\n").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(15));
        }
        let mut appender = appender(dir.path()).unwrap();
        appender.write_all(b"today\n").unwrap();
        appender.flush().unwrap();
        let kept = files(dir.path());
        assert_eq!(kept.len(), KEPT_FILES, "{kept:?}");
        assert_eq!(kept.last(), Some(&current_file(dir.path())));
        assert_eq!(
            std::fs::read_to_string(current_file(dir.path())).unwrap(),
            "today\n"
        );
        // The oldest went, the newest stayed.
        assert!(!dir.path().join("switchboard.2026-01-01.log").exists());
        assert!(dir.path().join("switchboard.2026-01-10.log").exists());
    }

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
