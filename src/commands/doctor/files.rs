//! The config file, the paths in use on this OS, the session file's mode
//! and the model's weights.

use std::path::{Path, PathBuf};

use super::{exists, size, Check};
use crate::commands::logging;
use crate::commands::serve::redact;
use crate::config::{self, Config, Dirs, FileConfig, Flags};
use crate::credentials;
use crate::llm::fetch;

/// Whether the config file exists and parses; its keys when it does (the
/// defaults when it is absent and was not named).
pub fn config_file(flags: &Flags, dirs: &Dirs) -> (Check, Option<FileConfig>) {
    let (path, named) = config::file_path(flags, dirs);
    let shown = path.display();
    match std::fs::read_to_string(&path) {
        Ok(text) => match config::parse_file(&path, &text) {
            Ok(file) => (
                Check::ok("config file", format!("{shown} (parses)")),
                Some(file),
            ),
            Err(e) => (
                Check::fail("config file", format!("{e:#}"))
                    .hint("fix the line and key named above; config.example.toml lists every key"),
                None,
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => (
            Check::ok(
                "config file",
                format!("{shown} (not present: every key at its default)"),
            ),
            Some(FileConfig::default()),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
            Check::fail(
                "config file",
                format!("{shown} does not exist (named by --config or SWITCHBOARD_CONFIG)"),
            )
            .hint("create it (config.example.toml documents every key) or name another file"),
            None,
        ),
        Err(e) => (
            Check::fail("config file", format!("cannot read {shown}: {e}"))
                .hint("make it readable by this user"),
            None,
        ),
    }
}

/// The paths a configuration puts things at.
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log_dir: PathBuf,
    pub server: Option<String>,
}

impl Paths {
    pub fn of(config: &Config) -> Self {
        Self {
            config_dir: config.dirs.config.clone(),
            data_dir: config.dirs.data.clone(),
            database_url: config.database_url.clone(),
            log_dir: config.log_dir.clone(),
            // The server of this run's context, not only a configured one.
            server: match crate::commands::context::target(config) {
                Some(crate::commands::context::Target::Remote { server, .. }) => Some(server),
                _ => None,
            },
        }
    }

    /// The defaults (for a configuration that does not load).
    pub fn defaults(dirs: &Dirs) -> Self {
        Self {
            config_dir: dirs.config.clone(),
            data_dir: dirs.data.clone(),
            database_url: format!("sqlite://{}", dirs.data.join("switchboard.db").display()),
            log_dir: dirs.data.clone(),
            server: None,
        }
    }
}

/// The SQLite file a `sqlite:` URL names; `None` for PostgreSQL.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    use std::str::FromStr;
    if crate::store::is_postgres(url) {
        return None;
    }
    sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .ok()
        .map(|o| o.get_filename().to_path_buf())
}

fn dir_check(name: &'static str, dir: &Path, what: &str) -> Check {
    if dir.exists() && !dir.is_dir() {
        return Check::fail(name, format!("{} is not a directory", dir.display())).hint(format!(
            "move that file away; switchboard keeps {what} there"
        ));
    }
    Check::ok(name, format!("{} ({})", dir.display(), exists(dir)))
}

/// The directories and files in use, each with its state.
pub fn paths(p: &Paths) -> Vec<Check> {
    let mut checks = vec![
        dir_check(
            "config dir",
            &p.config_dir,
            "the config file and the session",
        ),
        dir_check("data dir", &p.data_dir, "the database, logs and the model"),
    ];
    checks.push(match sqlite_file(&p.database_url) {
        Some(file) => Check::ok(
            "database",
            format!("{} ({})", file.display(), exists(&file)),
        ),
        None => Check::ok("database", redact(&p.database_url)),
    });
    let today = logging::current_file(&p.log_dir);
    let kept = logging::files(&p.log_dir).len();
    checks.push(if p.log_dir.exists() && !p.log_dir.is_dir() {
        Check::fail(
            "logs",
            format!("{} is not a directory", p.log_dir.display()),
        )
        .hint("set log_dir (SWITCHBOARD_LOG_DIR) to a directory")
    } else {
        Check::ok(
            "logs",
            format!(
                "{} ({kept} of at most {} daily files there; the console logs here, `serve` \
                 to stderr)",
                today.display(),
                logging::KEPT_FILES
            ),
        )
    });
    checks.push(credentials_file(p));
    checks
}

/// The session file: the remote one when a server is configured, else the
/// embedded platform's; readable only by its owner.
fn credentials_file(p: &Paths) -> Check {
    let path = match &p.server {
        Some(_) => credentials::remote_path(&p.config_dir),
        None => credentials::local_path(&p.data_dir),
    };
    let shown = path.display();
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(_) => {
            return match &p.server {
                Some(server) => Check::warn("credentials", format!("{shown} (not present)")).hint(
                    format!("not signed in: run `switchboard login --server {server}`"),
                ),
                None => Check::ok(
                    "credentials",
                    format!("{shown} (not created yet: the console signs the local admin in)"),
                ),
            }
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Check::fail(
                "credentials",
                format!("{shown} has mode {mode:04o}: other users can read the session token"),
            )
            .hint(format!("chmod 600 {shown}"));
        }
        Check::ok("credentials", format!("{shown} (mode {mode:04o})"))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Check::ok("credentials", format!("{shown} (exists)"))
    }
}

/// Whether the embedded model's weights are installed and match the pin.
pub fn model(config: &Config) -> Check {
    let local = &config.llm.local;
    if !local.enabled {
        return Check::ok(
            "model",
            "the local model is turned off ([llm.local] enabled = false)",
        );
    }
    let path = local
        .model_path
        .clone()
        .unwrap_or_else(|| fetch::model_path(&config.dirs.data));
    let shown = path.display();
    let Ok(meta) = std::fs::metadata(&path) else {
        return Check::warn(
            "model",
            format!("not installed ({shown}): agents on local/smollm2-135m cannot answer"),
        )
        .hint(format!(
            "`{}` downloads it (about 93 MB); `--from FILE` installs a copy on an offline machine",
            fetch::FETCH_COMMAND
        ));
    };
    let size = size(meta.len());
    // A fraction of a second for ~98 MB (sha2 is built optimised even in
    // debug): cheap enough to check on every run.
    match fetch::sha256_file(&path) {
        Ok(sum) if sum == fetch::SMOLLM2.sha256 => Check::ok(
            "model",
            format!("{shown} ({size}, SHA-256 matches the pin)"),
        ),
        Ok(_) => Check::warn(
            "model",
            format!("{shown} ({size}): its SHA-256 is not the pinned SmolLM2-135M's"),
        )
        .hint(format!(
            "`{}` replaces it with the verified file",
            fetch::FETCH_COMMAND
        )),
        Err(e) => Check::fail("model", format!("{e:#}"))
            .hint("make the file readable, or reinstall it with `switchboard model fetch`"),
    }
}
