//! `switchboard login` / `logout`: a session with a remote platform.

use std::io::{BufRead, Write};

use anyhow::Context;

use super::exit::{self, Code};
use crate::api::Client;
use crate::config::Config;
use crate::console::sanitize::clean;
use crate::credentials::{self, SavedSession};

pub async fn login(config: &Config, password_stdin: bool) -> anyhow::Result<()> {
    let server = config
        .server
        .clone()
        .context(
            "no server given: use `switchboard login --server URL` (or set `server` in \
             config.toml)",
        )
        .map_err(|e| exit::with(Code::Usage, e))?;
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
    let path = credentials::remote_path(&config.dirs.config);
    credentials::save(
        &path,
        &SavedSession {
            server: server.clone(),
            token: login.token,
        },
    )?;
    println!(
        "signed in to {server} as {} (session saved to {})",
        clean(&login.user.email),
        path.display()
    );
    Ok(())
}

pub async fn logout(config: &Config) -> anyhow::Result<()> {
    let path = credentials::remote_path(&config.dirs.config);
    let Some(saved) = credentials::load(&path)? else {
        println!("not signed in");
        return Ok(());
    };
    let client = Client::new_trusting(&saved.server, config.ca_file.as_deref())?
        .with_token(saved.token.clone());
    if let Err(e) = client.logout().await {
        eprintln!(
            "the server did not confirm the sign-out ({}); forgetting the session anyway",
            clean(&e.message())
        );
    }
    credentials::remove(&path)?;
    println!("signed out of {}", saved.server);
    Ok(())
}
