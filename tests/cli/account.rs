//! `switchboard passwd` and `switchboard invitation accept` against a served
//! instance: exit codes, what is printed, and the session kept.

use super::*;
use switchboard::api::Client;
use switchboard::domain::{NewInvitation, NewTenant, Role};

/// A served instance with `boss@example.com` (platform admin) signed in
/// through `switchboard login`; the session token.
fn signed_in_boss(root: &Path) -> (Server, String) {
    let mut add = cmd(root);
    add.args([
        "user",
        "add",
        "boss@example.com",
        "--platform-admin",
        "--password-stdin",
    ]);
    let out = run_with_stdin(add, "a good long password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = serve(root);
    let mut login = cmd(root);
    login.args(["login", "--server", &server.url, "--password-stdin"]);
    let out = run_with_stdin(login, "boss@example.com\na good long password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = saved_token(root).expect("a saved session");
    (server, token)
}

fn saved_token(root: &Path) -> Option<String> {
    let saved = std::fs::read_to_string(root.join("config/switchboard/session.toml")).ok()?;
    saved
        .lines()
        .find_map(|l| l.strip_prefix("token = "))
        .map(|t| t.trim_matches('"').to_string())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn passwd_changes_the_password_and_signs_out_the_other_sessions() {
    let root = test_root();
    let (server, token) = signed_in_boss(root.path());
    let anon = Client::new(&server.url).unwrap();
    let other = anon
        .login("boss@example.com", "a good long password")
        .await
        .unwrap();

    // A wrong current password changes nothing and says so.
    let mut wrong = cmd(root.path());
    wrong.args(["passwd", "--password-stdin"]);
    let out = run_with_stdin(wrong, "not the password\nan even longer password\n");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("the current password is wrong; nothing was changed"),
        "{}",
        text(&out.stderr)
    );

    let mut passwd = cmd(root.path());
    passwd.args(["passwd", "--password-stdin"]);
    let out = run_with_stdin(passwd, "a good long password\nan even longer password\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("your other sessions were signed out"),
        "{}",
        text(&out.stdout)
    );
    // The other session ended; this one stays; the new password works.
    let err = anon.clone().with_token(other.token).me().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    let me = anon.clone().with_token(token).me().await.unwrap();
    assert_eq!(me.user.email, "boss@example.com");
    assert!(anon
        .login("boss@example.com", "a good long password")
        .await
        .is_err());
    anon.login("boss@example.com", "an even longer password")
        .await
        .unwrap();

    // A new password that is too short is refused with the server's reason.
    let mut short = cmd(root.path());
    short.args(["passwd", "--password-stdin"]);
    let out = run_with_stdin(short, "an even longer password\nshort\n");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("at least 8"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn passwd_without_a_session_says_how_to_sign_in() {
    let root = test_root();
    let mut passwd = cmd(root.path());
    passwd.args(["passwd", "--password-stdin"]);
    let out = run_with_stdin(passwd, "a\nb\n");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("switchboard login --server URL"), "{err}");
    assert!(err.contains("local admin has no password"), "{err}");
}

#[tokio::test]
async fn invitation_accept_creates_the_account_and_keeps_its_session() {
    let root = test_root();
    let (server, token) = signed_in_boss(root.path());
    let boss = Client::new(&server.url).unwrap().with_token(token);
    // A name that would read backwards if printed as the server has it.
    let tenant = boss
        .create_tenant(&NewTenant {
            name: "Acme\u{202E}gnp.exe".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let invite = |email: &str| {
        let new = NewInvitation {
            email: email.into(),
            role: Role::Agent,
        };
        let boss = boss.clone();
        let slug = tenant.slug.clone();
        async move { boss.create_invitation(&slug, &new).await.unwrap().token }
    };

    // Someone else's home: no session yet.
    let newcomer = test_root();
    let sbi = invite("new@example.com").await;
    let mut accept = cmd(newcomer.path());
    accept.args([
        "invitation",
        "accept",
        &sbi,
        "--server",
        &server.url,
        "--name",
        "New Person",
        "--password-stdin",
    ]);
    let out = run_with_stdin(accept, "a brand new password\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("joined Acmegnp.exe as agent"), "{stdout}");
    assert!(!stdout.contains('\u{202E}'), "{stdout:?}");
    assert!(stdout.contains("signed in to"), "{stdout}");
    let session = newcomer.path().join("config/switchboard/session.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&session).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let kept = saved_token(newcomer.path()).expect("the session was kept");
    let me = Client::new(&server.url)
        .unwrap()
        .with_token(kept)
        .me()
        .await
        .unwrap();
    assert_eq!(me.user.email, "new@example.com");
    assert_eq!(me.user.name, "New Person");
    assert_eq!(me.memberships.len(), 1);

    // The token is spent.
    let mut again = cmd(newcomer.path());
    again.args(["invitation", "accept", &sbi, "--server", &server.url]);
    let out = run_with_stdin(again, "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("invalid, already used, revoked or expired"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn invitation_accept_for_an_existing_account_says_to_sign_in_first() {
    let root = test_root();
    let (server, token) = signed_in_boss(root.path());
    let boss = Client::new(&server.url).unwrap().with_token(token);
    let tenant = boss
        .create_tenant(&NewTenant {
            name: "Acme".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // The platform admin's own email: the takeover the server refuses.
    let sbi = boss
        .create_invitation(
            &tenant.slug,
            &NewInvitation {
                email: "boss@example.com".into(),
                role: Role::Viewer,
            },
        )
        .await
        .unwrap()
        .token;
    let stranger = test_root();
    let mut accept = cmd(stranger.path());
    accept.args([
        "invitation",
        "accept",
        &sbi,
        "--server",
        &server.url,
        "--password-stdin",
    ]);
    let out = run_with_stdin(accept, "an attacker's password\n");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    for want in [
        "already has an account",
        &format!("switchboard login --server {}", server.url),
        ":invitations",
    ] {
        assert!(err.contains(want), "{want} missing: {err}");
    }
    assert!(
        saved_token(stranger.path()).is_none(),
        "no session was kept"
    );
}

#[test]
fn invitation_accept_without_a_server_says_which_flag() {
    let root = test_root();
    let out = cmd(root.path())
        .args(["invitation", "accept", "sbi_x", "--password-stdin"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--server URL"),
        "{}",
        text(&out.stderr)
    );
}

/// The real console in tmux, as a first-time user: `:export` writes a
/// private file and asks before replacing it, refuses a link,
/// `:invitations` explains itself, `:password` tells the local admin it has
/// none, and `:logout-all` closes the console saying what happened.
#[test]
fn console_exports_privately_and_signs_out_everywhere() {
    let root = test_root();
    let Some(tmux) = console_in_tmux(root.path()) else {
        return;
    };
    onboard(&tmux);
    let out = root.path().join("out.csv");
    let export = format!(":export {}", out.display());
    tmux.keys(&[&export, "Enter"]);
    tmux.wait_for("Exported 0 leads");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let first = std::fs::read_to_string(&out).unwrap();
    std::fs::write(&out, "mine").unwrap();
    tmux.keys(&[&export, "Enter"]);
    tmux.wait_for("Replace it?");
    tmux.keys(&["n"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine");
    tmux.keys(&[&export, "Enter"]);
    tmux.wait_for("Replace it?");
    tmux.keys(&["y"]);
    // The first export's toast may still show: wait for the file itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&out).unwrap() == "mine" {
        assert!(
            Instant::now() < deadline,
            "the yes did not replace the file"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
    #[cfg(unix)]
    {
        let link = root.path().join("link.csv");
        std::os::unix::fs::symlink(&out, &link).unwrap();
        tmux.keys(&[&format!(":export {}", link.display()), "Enter"]);
        tmux.wait_for("symbolic link");
        tmux.keys(&["x"]);
    }

    tmux.keys(&[":invitations", "Enter"]);
    tmux.wait_for("No invitations are waiting for you");
    tmux.escape();
    tmux.keys(&[":password", "Enter"]);
    tmux.wait_for("local admin has no password");

    tmux.keys(&[":logout-all", "Enter"]);
    tmux.wait_for("Sign out everywhere?");
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("EXITED 0");
    assert!(screen.contains("Signed out everywhere"), "{screen}");
}
