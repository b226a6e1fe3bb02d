//! `switchboard doctor` in a fresh environment, with a database and its
//! backups, with a broken configuration and a readable session file, and
//! against a team server.

use super::*;

fn doctor(root: &Path, args: &[&str]) -> (bool, String) {
    // The file's log_level, not the tests' SWITCHBOARD_LOG.
    let out = cmd(root)
        .env_remove("SWITCHBOARD_LOG")
        .arg("doctor")
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The line of the check `name`, e.g. `  ok    database  …`.
fn line<'a>(report: &'a str, name: &str) -> &'a str {
    report
        .lines()
        .find(|l| {
            l.split_whitespace()
                .skip(1)
                .collect::<Vec<_>>()
                .join(" ")
                .starts_with(name)
        })
        .unwrap_or_else(|| panic!("no {name:?} line in:\n{report}"))
}

#[test]
fn doctor_in_a_fresh_environment_names_every_path_and_touches_nothing() {
    let root = test_root();
    let (ok, report) = doctor(root.path(), &[]);
    assert!(ok, "{report}");
    let r = root.path().display();
    assert!(
        report.starts_with(&format!(
            "switchboard {} (schema: sqlite {}, postgres {})",
            env!("CARGO_PKG_VERSION"),
            switchboard::store::schema::sqlite_version(),
            switchboard::store::schema::postgres_version()
        )),
        "{report}"
    );
    assert!(
        line(&report, "config file")
            .contains(&format!("{r}/config/switchboard/config.toml (not present")),
        "{report}"
    );
    assert!(line(&report, "data dir").contains(&format!("{r}/data/switchboard (not created yet)")));
    assert!(line(&report, "database").contains(&format!(
        "{r}/data/switchboard/switchboard.db (not created yet)"
    )));
    assert!(line(&report, "logs").contains(&format!("{r}/data/switchboard/switchboard.20")));
    assert!(
        line(&report, "credentials").contains(&format!("{r}/data/switchboard/local-session.toml"))
    );
    assert!(line(&report, "server").contains("the embedded platform"));
    // No model in a fresh data dir: a warning that says what to run.
    let model = line(&report, "model");
    assert!(model.starts_with("  warn"), "{report}");
    assert!(
        report.contains("`switchboard model fetch` downloads it"),
        "{report}"
    );
    assert!(
        line(&report, "schema").contains("no database yet"),
        "{report}"
    );
    // The tests' environment has no TERM: said, with what to set.
    assert!(
        line(&report, "colour").contains("TERM is not set"),
        "{report}"
    );
    assert!(report.contains("0 failed"), "{report}");
    // It only looks: nothing was created.
    assert!(
        !root.path().join("data").exists(),
        "doctor created the data dir"
    );
    assert!(
        !root.path().join("config").exists(),
        "doctor created the config dir"
    );
}

#[test]
fn doctor_shows_the_schema_and_the_backups_kept() {
    let root = test_root();
    let out = cmd(root.path()).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cmd(root.path()).arg("backup").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let backups = root.path().join("data/switchboard/backups");
    let manual = std::fs::read_dir(&backups)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // What the embedded platform leaves before a risky migration.
    let automatic = backups.join("switchboard-before-migrating-20261201T101010.000Z-schema-3.db");
    std::fs::copy(&manual, &automatic).unwrap();

    let (ok, report) = doctor(root.path(), &[]);
    assert!(ok, "{report}");
    let schema = switchboard::store::schema::sqlite_version();
    assert!(
        line(&report, "schema").contains(&format!(
            "version {schema}, this binary's {schema}: up to date"
        )),
        "{report}"
    );
    assert!(line(&report, "backups").contains("2 in"), "{report}");
    let listed = |path: &Path, kind: &str| {
        report
            .lines()
            .any(|l| l.contains(&path.display().to_string()) && l.contains(kind))
    };
    assert!(listed(&manual, "(by hand)"), "{report}");
    assert!(
        listed(&automatic, "(automatic, before migrating)"),
        "{report}"
    );
}

#[test]
fn doctor_fails_on_a_broken_config_and_still_shows_the_paths() {
    let root = test_root();
    let dir = root.path().join("config/switchboard");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "log_level = \"verbose\"\n").unwrap();
    let (ok, report) = doctor(root.path(), &[]);
    assert!(!ok, "{report}");
    let settings = line(&report, "settings");
    assert!(settings.starts_with("  FAIL"), "{report}");
    assert!(settings.contains("log_level"), "{report}");
    assert!(
        settings.contains("accepted: off, error, warn, info, debug, trace"),
        "{report}"
    );
    assert!(
        line(&report, "data dir").contains("data/switchboard"),
        "{report}"
    );
    assert!(report.contains("1 failed"), "{report}");
    assert!(report.contains("switchboard: 1 check failed"), "{report}");

    std::fs::write(dir.join("config.toml"), "bind = \"x\"\nsevrer = 1\n").unwrap();
    let (ok, report) = doctor(root.path(), &[]);
    assert!(!ok);
    let file = line(&report, "config file");
    assert!(file.starts_with("  FAIL"), "{report}");
    assert!(report.contains("sevrer"), "{report}");
}

#[cfg(unix)]
#[test]
fn doctor_fails_on_a_session_file_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let root = test_root();
    let data = root.path().join("data/switchboard");
    std::fs::create_dir_all(&data).unwrap();
    let session = data.join("local-session.toml");
    std::fs::write(&session, "server = \"embedded\"\ntoken = \"x\"\n").unwrap();
    std::fs::set_permissions(&session, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, report) = doctor(root.path(), &[]);
    assert!(!ok, "{report}");
    assert!(
        line(&report, "credentials").contains("mode 0644"),
        "{report}"
    );
    assert!(
        report.contains(&format!("→ chmod 600 {}", session.display())),
        "{report}"
    );
    std::fs::set_permissions(&session, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (ok, report) = doctor(root.path(), &[]);
    assert!(ok, "{report}");
    assert!(
        line(&report, "credentials").contains("(mode 0600)"),
        "{report}"
    );
}

#[test]
fn doctor_reaches_the_team_server_and_says_whether_signed_in() {
    let root = test_root();
    let server = serve(root.path());
    let (ok, report) = doctor(root.path(), &["--server", &server.url]);
    assert!(ok, "{report}");
    assert!(
        line(&report, "server").contains(&format!("{} answers in", server.url)),
        "{report}"
    );
    let session = line(&report, "session");
    assert!(
        session.starts_with("  warn") && session.contains("not signed in"),
        "{report}"
    );
    assert!(
        report.contains(&format!("run `switchboard login --server {}`", server.url)),
        "{report}"
    );
    drop(server);

    let closed = super::exit_codes::closed_port_url();
    let (ok, report) = doctor(root.path(), &["--server", &closed]);
    assert!(!ok, "{report}");
    assert!(line(&report, "server").starts_with("  FAIL"), "{report}");
    assert!(line(&report, "server").contains("cannot reach"), "{report}");
}

#[tokio::test]
async fn doctor_fails_on_a_database_from_a_newer_binary_and_names_both_versions() {
    let root = test_root();
    let db = root.path().join("elsewhere.db");
    let url = format!("sqlite://{}", db.display());
    let out = cmd(root.path())
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, report) = doctor(root.path(), &["--database-url", &url]);
    assert!(ok, "{report}");
    assert!(
        line(&report, "database").contains("elsewhere.db (exists)"),
        "{report}"
    );

    let binary = switchboard::store::schema::sqlite_version();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (?, 'from the future', 1, x'00', 0)",
    )
    .bind(binary + 1)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let (ok, report) = doctor(root.path(), &["--database-url", &url]);
    assert!(!ok, "{report}");
    let schema = line(&report, "schema");
    assert!(schema.starts_with("  FAIL"), "{report}");
    assert!(
        schema.contains(&format!(
            "schema version {}, newer than this binary's {binary}",
            binary + 1
        )),
        "{report}"
    );
}

#[tokio::test]
async fn doctor_names_the_signed_in_account_and_fails_on_an_ended_session() {
    let root = test_root();
    let mut add = cmd(root.path());
    add.args(["user", "add", "boss@example.com", "--password-stdin"]);
    let out = run_with_stdin(add, "a good long password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = serve(root.path());
    let mut login = cmd(root.path());
    login.args(["login", "--server", &server.url, "--password-stdin"]);
    let out = run_with_stdin(login, "boss@example.com\na good long password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (ok, report) = doctor(root.path(), &["--server", &server.url]);
    assert!(ok, "{report}");
    assert!(
        line(&report, "session").contains("signed in as boss@example.com"),
        "{report}"
    );
    let session = root.path().join("config/switchboard/session.toml");
    assert!(
        line(&report, "credentials").contains(&format!("{} (mode 0600)", session.display())),
        "{report}"
    );

    // The session ends on the server (signed out elsewhere): doctor says so.
    let saved = std::fs::read_to_string(&session).unwrap();
    let token = saved
        .lines()
        .find_map(|l| l.strip_prefix("token = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    switchboard::api::Client::new(&server.url)
        .unwrap()
        .with_token(token)
        .logout()
        .await
        .unwrap();
    let (ok, report) = doctor(root.path(), &["--server", &server.url]);
    assert!(!ok, "{report}");
    let ended = line(&report, "session");
    assert!(
        ended.starts_with("  FAIL") && ended.contains("has ended"),
        "{report}"
    );
}
