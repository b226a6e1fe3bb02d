//! `switchboard doctor`: what this installation uses and whether each part
//! works: the paths for this OS, the configuration, the server, the model,
//! the database's schema and backups, the terminal. One line per check,
//! ok / warn / fail, with what to do; exits 1 when a check fails.
//!
//! It reads and never writes: no directory is created, the database is
//! opened read-only, nothing is migrated.

mod database;
mod files;
mod server;
mod terminal;

use std::fmt::Write as _;

use crate::commands::exit;
use crate::config::{Config, Dirs, Flags};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

/// One line of the report, the lines under it, and what to do.
#[derive(Debug, Clone)]
pub struct Check {
    pub status: Status,
    pub name: &'static str,
    pub detail: String,
    /// Indented lines under the check (e.g. the backups kept).
    pub items: Vec<String>,
    /// What to do (for a warn or a fail).
    pub hint: Option<String>,
}

impl Check {
    pub fn new(status: Status, name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            name,
            detail: detail.into(),
            items: Vec::new(),
            hint: None,
        }
    }

    pub fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Status::Ok, name, detail)
    }

    pub fn warn(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Status::Warn, name, detail)
    }

    pub fn fail(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Status::Fail, name, detail)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn items(mut self, items: Vec<String>) -> Self {
        self.items = items;
        self
    }
}

/// The checks, grouped under headings, in the order they print.
#[derive(Debug, Default)]
pub struct Report {
    pub sections: Vec<(&'static str, Vec<Check>)>,
}

impl Report {
    fn section(&mut self, title: &'static str, checks: Vec<Check>) {
        self.sections.push((title, checks));
    }

    fn count(&self, status: Status) -> usize {
        self.sections
            .iter()
            .flat_map(|(_, checks)| checks)
            .filter(|c| c.status == status)
            .count()
    }

    /// The report as printed.
    pub fn render(&self) -> String {
        let width = self
            .sections
            .iter()
            .flat_map(|(_, checks)| checks)
            .map(|c| c.name.len())
            .max()
            .unwrap_or(0);
        let pad = " ".repeat(10 + width);
        let mut out = String::new();
        for (title, checks) in &self.sections {
            let _ = writeln!(out, "\n{title}");
            for c in checks {
                let mut lines = c.detail.lines();
                let first = lines.next().unwrap_or("");
                let _ = writeln!(
                    out,
                    "  {:<4}  {:<width$}  {first}",
                    c.status.label(),
                    c.name
                );
                for line in lines {
                    let _ = writeln!(out, "{pad}{line}");
                }
                for item in &c.items {
                    let _ = writeln!(out, "{pad}- {item}");
                }
                if let Some(hint) = &c.hint {
                    let _ = writeln!(out, "{pad}→ {hint}");
                }
            }
        }
        let (warn, fail) = (self.count(Status::Warn), self.count(Status::Fail));
        let _ = writeln!(
            out,
            "\n{fail} failed, {warn} {} to look at.",
            if warn == 1 { "warning" } else { "warnings" }
        );
        out
    }
}

/// The version line: the binary's and the schema each store is migrated to.
pub fn version_line() -> String {
    use crate::store::schema;
    format!(
        "switchboard {} (schema: sqlite {}, postgres {}) on {} {}",
        env!("CARGO_PKG_VERSION"),
        schema::sqlite_version(),
        schema::postgres_version(),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// `switchboard doctor`: prints the report; an error (exit 1) when a
/// check failed.
pub fn run(flags: &Flags) -> anyhow::Result<()> {
    let report = report(flags)?;
    print!("{}\n{}", version_line(), report.render());
    match report.count(Status::Fail) {
        0 => Ok(()),
        n => Err(exit::with(
            exit::Code::Failure,
            anyhow::anyhow!(
                "{n} {} failed (see above)",
                if n == 1 { "check" } else { "checks" }
            ),
        )),
    }
}

/// Every check, for the configuration `flags` and the environment name.
pub fn report(flags: &Flags) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let dirs = match Dirs::discover() {
        Ok(dirs) => dirs,
        Err(e) => {
            report.section(
                "Configuration",
                vec![Check::fail("directories", format!("{e:#}"))
                    .hint("set HOME (or XDG_CONFIG_HOME and XDG_DATA_HOME) and run doctor again")],
            );
            report.section("Terminal", terminal::checks());
            return Ok(report);
        }
    };
    let (file_check, file) = files::config_file(flags, &dirs);
    let resolved = file.map(|file| Config::resolve(dirs.clone(), file, flags));
    let mut checks = vec![file_check];
    let config = match resolved {
        Some(Ok(config)) => {
            checks.push(match crate::embedded::providers(&config) {
                Ok(_) => Check::ok("settings", "valid"),
                Err(e) => Check::fail("settings", format!("{e:#}"))
                    .hint("fix the [llm] section named above (config.example.toml shows one)"),
            });
            Some(config)
        }
        Some(Err(e)) => {
            checks.push(
                Check::fail("settings", format!("{e:#}"))
                    .hint("fix the key named above in the config file or the environment"),
            );
            None
        }
        None => None,
    };
    report.section("Configuration", checks);
    // Paths are shown even when the configuration is invalid (the defaults
    // then), so the user still learns where things are.
    let paths = match &config {
        Some(config) => files::Paths::of(config),
        None => files::Paths::defaults(&dirs),
    };
    report.section("Paths", files::paths(&paths));
    let Some(config) = config else {
        report.section("Terminal", terminal::checks());
        return Ok(report);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    report.section("Server", runtime.block_on(server::checks(&config)));
    report.section("Model", vec![files::model(&config)]);
    report.section("Database", runtime.block_on(database::checks(&config)));
    report.section("Terminal", terminal::checks());
    Ok(report)
}

/// A file size for people: KB under a megabyte, else MB.
pub(crate) fn size(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{} KB", bytes.div_ceil(1000))
    } else {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    }
}

/// How `doctor` names a path's state in one word.
pub(crate) fn exists(path: &std::path::Path) -> &'static str {
    if path.exists() {
        "exists"
    } else {
        "not created yet"
    }
}
