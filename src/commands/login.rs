//! `switchboard login` / `logout`: a context's session with a remote platform.

use std::io::{BufRead, Write};

use anyhow::Context;

use super::context::{self, Target};
use super::exit::{self, Code};
use crate::api::Client;
use crate::config::Config;
use crate::console::sanitize::clean;
use crate::credentials::{self, check_name, Credentials};

/// Signs in and keeps the session as a context: `--context NAME`, else the
/// context that already has this server, else one named after its host.
/// The context becomes the current one.
pub async fn login(config: &Config, password_stdin: bool) -> anyhow::Result<()> {
    let path = credentials::remote_path(&config.dirs.config);
    let creds = Credentials::load(&path)?;
    let usage = |e: anyhow::Error| exit::with(Code::Usage, e);
    if let Some(name) = &config.context {
        check_name(name).map_err(|e| usage(anyhow::Error::msg(e)))?;
    }
    // A context named without --server signs in to its own server again.
    let known = config.context.as_deref().and_then(|n| creds.get(n));
    let server = match (&config.server, known) {
        (Some(s), _) if !config.server_from_file => s.clone(),
        (_, Some(c)) => c.server.clone(),
        (Some(s), None) => s.clone(),
        (None, None) => {
            return Err(usage(anyhow::anyhow!(
                "no server given: use `switchboard login --server URL [--context NAME]` (or \
                 set `server` in config.toml)"
            )))
        }
    };
    let name = match &config.context {
        Some(n) => n.clone(),
        None => creds
            .by_server(&server)
            .map(str::to_string)
            .unwrap_or_else(|| creds.name_for(&server)),
    };
    let stdin = std::io::stdin();
    print!("email: ");
    std::io::stdout().flush()?;
    let mut email = String::new();
    stdin.lock().read_line(&mut email)?;
    let password = if password_stdin {
        let mut p = String::new();
        stdin.lock().read_line(&mut p)?;
        p.trim_end_matches(['\n', '\r']).to_string()
    } else {
        rpassword::prompt_password("password: ").context("cannot read the password")?
    };
    let client = Client::new_trusting(&server, config.ca_file.as_deref())?;
    let login = client.login(email.trim(), &password).await.map_err(|e| {
        exit::with(
            exit::of_api(&e),
            anyhow::anyhow!("sign-in failed: {}", clean(&e.message())),
        )
    })?;
    // The session it replaces (a refresh) ends on the server.
    let replaced = creds
        .get(&name)
        .filter(|c| credentials::same_server(&c.server, &server))
        .and_then(|c| c.token.clone());
    Credentials::update(&path, |c| {
        c.sign_in(&name, &server, login.token);
        Ok(())
    })?;
    if let Some(old) = replaced {
        let _ = Client::new_trusting(&server, config.ca_file.as_deref())?
            .with_token(old)
            .logout()
            .await;
    }
    println!(
        "signed in to {server} as {} (context {}, now current; session saved to {})",
        clean(&login.user.email),
        clean(&name),
        path.display()
    );
    Ok(())
}

/// Ends the session of this run's context (`--context`, else the current
/// one) and forgets its token; the context stays, to sign in again.
pub async fn logout(config: &Config) -> anyhow::Result<()> {
    let path = credentials::remote_path(&config.dirs.config);
    let creds = Credentials::load(&path)?;
    let target = context::resolve(config, &creds)?;
    let (name, server, token) = match target {
        Target::Local => {
            println!(
                "the context {} is the embedded platform: its local admin has no remote session \
                 to sign out of (`:logout-all` in the console ends its sessions)",
                credentials::LOCAL
            );
            return Ok(());
        }
        Target::Remote {
            context: Some(name),
            server,
            token: Some(token),
        } => (name, server, token),
        Target::Remote { server, .. } => {
            println!("not signed in to {}", clean(&server));
            return Ok(());
        }
    };
    context::end_session(config, &server, token).await;
    Credentials::update(&path, |c| {
        if let Some(entry) = c.contexts.get_mut(&name) {
            entry.token = None;
        }
        Ok(())
    })?;
    println!(
        "signed out of {} (context {}; `switchboard login --context {}` signs in again)",
        clean(&server),
        clean(&name),
        clean(&name)
    );
    Ok(())
}
