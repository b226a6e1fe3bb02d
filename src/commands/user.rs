//! `switchboard user add`: creates a user directly in the store.

use std::io::BufRead;

use anyhow::Context;

use crate::config::Config;
use crate::domain::validate::{is_email, normalize_email};
use crate::server::password;
use crate::store::{self, StoreError};

pub async fn add(
    config: &Config,
    email: &str,
    name: Option<&str>,
    platform_admin: bool,
) -> anyhow::Result<()> {
    let email = normalize_email(email);
    if !is_email(&email) {
        anyhow::bail!("{email:?} is not an email address");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    password::validate(&pw).map_err(|m| anyhow::anyhow!("the password {m}"))?;
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.dirs.data).ok();
    }
    let store = store::open(&config.database_url).await?;
    let hash = password::hash(pw).await?;
    let name = name
        .map(str::to_string)
        .unwrap_or_else(|| email.split('@').next().unwrap_or("user").to_string());
    match store
        .create_user(&email, &name, Some(&hash), platform_admin)
        .await
    {
        Ok(user) => {
            println!(
                "created user {} ({}){}",
                user.email,
                user.id,
                if platform_admin {
                    ", platform admin"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Err(StoreError::Conflict { .. }) => {
            anyhow::bail!("a user with the email {email} already exists")
        }
        Err(e) => Err(e.into()),
    }
}
