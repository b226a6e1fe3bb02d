//! `switchboard passwd` and `switchboard invitation accept`: the account's
//! password, and joining a tenant by an invitation's token before having an
//! account. What the server says is printed without format characters.

use std::io::BufRead;

use anyhow::{bail, Context};

use super::context::Target;
use super::exit::{self, Code};
use crate::api::{ApiError, Client};
use crate::config::Config;
use crate::console::sanitize::clean;
use crate::credentials::{self, Credentials};
use crate::domain::{AcceptInvitation, PasswordChange};

/// One line for the terminal: the problem and each field's complaint.
fn describe(e: &ApiError) -> String {
    let mut text = e.message();
    if let Some(p) = e.problem() {
        for f in &p.errors {
            text.push_str(&format!("; {} {}", f.field, f.message));
        }
    }
    clean(&text).into_owned()
}

/// Reads one line of stdin without its line ending.
fn stdin_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("cannot read the {what} from stdin"))?;
    if read == 0 {
        bail!("stdin ended before the {what}");
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn prompt(label: &str) -> anyhow::Result<String> {
    rpassword::prompt_password(label)
        .context("cannot read the password from the terminal (use --password-stdin)")
}

/// A new password, typed twice on the terminal, or one line of stdin;
/// `None` when the two typed differ.
fn new_password(password_stdin: bool, label: &str) -> anyhow::Result<Option<String>> {
    if password_stdin {
        return stdin_line("new password").map(Some);
    }
    let first = prompt(label)?;
    Ok((prompt("again: ")? == first).then_some(first))
}

/// `switchboard passwd`: changes the password of the account signed in
/// with `switchboard login`; every other session of it ends.
pub async fn passwd(config: &Config, password_stdin: bool) -> anyhow::Result<()> {
    let creds = super::context::load(config)?;
    let target = super::context::resolve(config, &creds)?;
    let (server, token) = match &target {
        Target::Remote {
            server,
            token: Some(token),
            ..
        } => (server.clone(), token.clone()),
        Target::Local => {
            return Err(exit::with(
                Code::Auth,
                anyhow::anyhow!(
                    "not signed in to a team server: run `switchboard login --server URL` first \
                     (the embedded platform's local admin has no password: it signs in through \
                     its local session file)"
                ),
            ))
        }
        Target::Remote { .. } => return Err(super::context::not_signed_in(&target)),
    };
    let current = if password_stdin {
        stdin_line("current password")?
    } else {
        prompt("current password: ")?
    };
    let Some(new) = new_password(password_stdin, "new password: ")? else {
        bail!("the two new passwords differ; nothing was changed");
    };
    let client = Client::new_trusting(&server, config.ca_file.as_deref())?.with_token(token);
    let change = PasswordChange {
        current_password: current,
        new_password: new,
    };
    match client.change_password(&change).await {
        Ok(()) => {
            println!(
                "password changed on {server}; your other sessions were signed out (this one \
                 stays)"
            );
            Ok(())
        }
        Err(e) if e.status() == Some(401) => Err(exit::with(
            Code::Auth,
            anyhow::anyhow!(
                "your session with {server} has ended: sign in again with `switchboard login \
                 --server {server}`"
            ),
        )),
        Err(e) if e.status() == Some(403) => Err(exit::with(
            Code::Auth,
            anyhow::anyhow!("the current password is wrong; nothing was changed"),
        )),
        Err(e) => Err(exit::with(
            exit::of_api(&e),
            anyhow::anyhow!("the password was not changed: {}", describe(&e)),
        )),
    }
}

/// `switchboard invitation accept TOKEN`: for someone without an account
/// yet. The account is created with the password they choose, and its
/// session is kept as `switchboard login` keeps one.
pub async fn accept_invitation(
    config: &Config,
    token: &str,
    name: Option<String>,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let server = config
        .server
        .clone()
        .context(
            "no server given: use `switchboard invitation accept TOKEN --server URL` (or set \
             `server` in config.toml)",
        )
        .map_err(|e| exit::with(Code::Usage, e))?;
    let client = Client::new_trusting(&server, config.ca_file.as_deref())?;
    let mut accept = AcceptInvitation {
        token: token.trim().to_string(),
        password: None,
        name,
    };
    // Asked without a password first: an existing account or a bad token is
    // said before anyone types a password for nothing.
    let needs_password = match client.accept_invitation(&accept).await {
        Err(e) if wants_password(&e) => true,
        Err(e) => return Err(refused(&e, &server)),
        Ok(_) => false,
    };
    if needs_password {
        let label = "choose a password for your new account (8 or more characters): ";
        let Some(password) = new_password(password_stdin, label)? else {
            bail!("the two passwords differ; the invitation was not accepted (it still can be)");
        };
        accept.password = Some(password);
    }
    let accepted = client
        .accept_invitation(&accept)
        .await
        .map_err(|e| refused(&e, &server))?;
    let m = &accepted.membership;
    println!(
        "joined {} as {}",
        clean(&m.tenant_name),
        clean(m.role.as_str())
    );
    match accepted.session {
        Some(login) => {
            let path = credentials::remote_path(&config.dirs.config);
            let context = Credentials::update(&path, |c| {
                let name = match &config.context {
                    Some(n) => {
                        credentials::check_name(n).map_err(anyhow::Error::msg)?;
                        n.clone()
                    }
                    None => c
                        .by_server(&server)
                        .map(str::to_string)
                        .unwrap_or_else(|| c.name_for(&server)),
                };
                c.sign_in(&name, &server, login.token);
                Ok(name)
            })?;
            println!(
                "signed in to {server} as {} (context {}, now current; session saved to {}); \
                 open the console with `switchboard`",
                clean(&login.user.email),
                clean(&context),
                path.display()
            );
        }
        None => println!("sign in with `switchboard login --server {server}`"),
    }
    Ok(())
}

/// The server asks for the new account's password.
fn wants_password(e: &ApiError) -> bool {
    e.problem()
        .is_some_and(|p| p.status == 422 && p.errors.iter().any(|f| f.field == "password"))
}

fn refused(e: &ApiError, server: &str) -> anyhow::Error {
    if e.status() == Some(401) {
        return exit::with(
            Code::Auth,
            anyhow::anyhow!(
                "this invitation is for an email that already has an account. Sign in as that \
             account with `switchboard login --server {server}`, then accept it in the console \
             (`switchboard --server {server}`, then :invitations)"
            ),
        );
    }
    let bad_token = e
        .problem()
        .is_some_and(|p| p.errors.iter().any(|f| f.field == "token"));
    if bad_token {
        return anyhow::anyhow!(
            "the invitation token is invalid, already used, revoked or expired; ask the \
             tenant's admin for a new invitation"
        );
    }
    exit::with(
        exit::of_api(e),
        anyhow::anyhow!("the invitation was not accepted: {}", describe(e)),
    )
}
