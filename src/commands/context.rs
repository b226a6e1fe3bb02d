//! Contexts: which server a run talks to (`--context`, the current context,
//! `--server`), and `switchboard context list|use|rename|remove`.

use super::exit::{self, Code};
use crate::api::Client;
use crate::config::Config;
use crate::console::sanitize::clean;
use crate::credentials::{self, Credentials, LOCAL};

/// The server a run talks to.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The embedded platform (the context `local`).
    Local,
    Remote {
        /// The context, when one has this server.
        context: Option<String>,
        server: String,
        /// The context's session, while signed in.
        token: Option<String>,
    },
}

impl Target {
    /// The context's name as the console's header and `doctor` show it.
    pub fn name(&self) -> String {
        match self {
            Target::Local => LOCAL.to_string(),
            Target::Remote {
                context: Some(c), ..
            } => c.clone(),
            Target::Remote { server, .. } => server.clone(),
        }
    }
}

/// Which server this run uses, most specific first: `--context` (or
/// SWITCHBOARD_CONTEXT), `--server` (or SWITCHBOARD_SERVER), the current
/// context, `server` in config.toml, and else the embedded platform.
pub fn resolve(config: &Config, creds: &Credentials) -> anyhow::Result<Target> {
    if let Some(name) = &config.context {
        return named(creds, name).map_err(|e| exit::with(Code::Usage, e));
    }
    let by_server = |server: &String| {
        let context = creds.by_server(server).map(str::to_string);
        let token = context
            .as_deref()
            .and_then(|c| creds.get(c))
            .and_then(|c| c.token.clone());
        Target::Remote {
            context,
            server: server.clone(),
            token,
        }
    };
    match (&config.server, config.server_from_file, &creds.current) {
        (Some(server), false, _) => Ok(by_server(server)),
        (_, _, Some(current)) if creds.has(current) => named(creds, current),
        (Some(server), true, _) => Ok(by_server(server)),
        _ => Ok(Target::Local),
    }
}

/// The context `name` (which must exist).
pub fn named(creds: &Credentials, name: &str) -> anyhow::Result<Target> {
    if name == LOCAL {
        return Ok(Target::Local);
    }
    let entry = creds.get(name).ok_or_else(|| creds.unknown(name))?;
    Ok(Target::Remote {
        context: Some(name.to_string()),
        server: entry.server.clone(),
        token: entry.token.clone(),
    })
}

/// The credentials file of this configuration.
pub fn load(config: &Config) -> anyhow::Result<Credentials> {
    Credentials::load(&credentials::remote_path(&config.dirs.config))
}

/// The target of this run, for `doctor` (which reports a file it cannot
/// read elsewhere): `None` for the embedded platform or an unknown context.
pub fn target(config: &Config) -> Option<Target> {
    let creds = load(config).unwrap_or_default();
    resolve(config, &creds).ok()
}

/// What a command that needs a remote session (`passwd`, the console on a
/// remote context) says when there is none.
pub fn not_signed_in(target: &Target) -> anyhow::Error {
    let how = match target {
        Target::Remote {
            context: Some(c),
            server,
            ..
        } => format!("`switchboard login --server {server} --context {c}`"),
        Target::Remote { server, .. } => format!("`switchboard login --server {server}`"),
        Target::Local => "`switchboard login --server URL`".to_string(),
    };
    let what = match target {
        Target::Local => "a team server".to_string(),
        Target::Remote {
            context: Some(c),
            server,
            ..
        } => format!("{server} (context {c})"),
        Target::Remote { server, .. } => server.clone(),
    };
    exit::with(
        Code::Auth,
        anyhow::anyhow!("not signed in to {what}: run {how} first"),
    )
}

/// `switchboard context list`.
pub fn list(config: &Config) -> anyhow::Result<()> {
    let creds = load(config)?;
    let current = creds.current_name().to_string();
    let mut rows = vec![(
        LOCAL.to_string(),
        "the embedded platform".to_string(),
        "local admin".to_string(),
    )];
    for (name, c) in &creds.contexts {
        let session = if c.token.is_some() {
            "signed in"
        } else {
            "signed out"
        };
        rows.push((name.clone(), c.server.clone(), session.to_string()));
    }
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(4);
    let sw = rows.iter().map(|r| r.1.len()).max().unwrap_or(6).max(6);
    println!("  {:<w$}  {:<sw$}  SESSION", "NAME", "SERVER");
    for (name, server, session) in rows {
        let mark = if name == current { '*' } else { ' ' };
        println!(
            "{mark} {:<w$}  {:<sw$}  {session}",
            clean(&name),
            clean(&server)
        );
    }
    Ok(())
}

/// `switchboard context use NAME`: the context later runs use.
pub fn use_context(config: &Config, name: &str) -> anyhow::Result<()> {
    let path = credentials::remote_path(&config.dirs.config);
    Credentials::update(&path, |c| c.use_context(name)).map_err(|e| exit::with(Code::Usage, e))?;
    println!("current context: {}", clean(name));
    Ok(())
}

/// `switchboard context rename OLD NEW`.
pub fn rename(config: &Config, old: &str, new: &str) -> anyhow::Result<()> {
    let path = credentials::remote_path(&config.dirs.config);
    Credentials::update(&path, |c| c.rename(old, new)).map_err(|e| exit::with(Code::Usage, e))?;
    println!("renamed context {} to {}", clean(old), clean(new));
    Ok(())
}

/// `switchboard context remove NAME`: ends its session on the server when
/// it can, and forgets the context.
pub async fn remove(config: &Config, name: &str) -> anyhow::Result<()> {
    let path = credentials::remote_path(&config.dirs.config);
    let creds = Credentials::load(&path)?;
    let mut check = creds.clone();
    let entry = check.remove(name).map_err(|e| exit::with(Code::Usage, e))?;
    if let Some(token) = entry.token {
        end_session(config, &entry.server, token).await;
    }
    Credentials::update(&path, |c| c.remove(name).map(|_| ()))?;
    println!(
        "removed context {} ({}); current context: {}",
        clean(name),
        clean(&entry.server),
        check.current_name()
    );
    Ok(())
}

/// Asks the server to end a session; says so when it does not answer (the
/// token is forgotten anyway).
pub async fn end_session(config: &Config, server: &str, token: String) {
    let ended = match Client::new_trusting(server, config.ca_file.as_deref()) {
        Ok(client) => client
            .with_token(token)
            .logout()
            .await
            .map_err(|e| e.message()),
        Err(e) => Err(format!("{e:#}")),
    };
    if let Err(e) = ended {
        eprintln!(
            "the server did not confirm the sign-out ({}); forgetting the session anyway",
            clean(&e)
        );
    }
}
