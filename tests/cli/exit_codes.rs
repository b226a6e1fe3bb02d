//! The documented exit codes (2 usage, 3 config, 4 auth, 5 unreachable),
//! the console's refusal without a terminal, `--help` and completions.

use super::*;

/// A URL on loopback where nothing listens.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_wrong_command_line_exits_2_with_a_suggestion() {
    let root = test_root();
    let out = cmd(root.path()).arg("doctr").output().unwrap();
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    // clap's suggestions are on again.
    assert!(stderr(&out).contains("doctor"), "{}", stderr(&out));
    let out = cmd(root.path()).arg("--bogus").output().unwrap();
    assert_eq!(code(&out), Some(2));
}

#[test]
fn the_console_without_a_terminal_exits_2_and_says_why() {
    let root = test_root();
    let out = cmd(root.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the console needs a terminal, but stdin and stdout are not one"),
        "{err}"
    );
    assert!(err.contains("ssh -t"), "{err}");
    // Refused before anything started: no data dir, no log.
    assert!(!root.path().join("data").exists(), "the console started");
}

#[test]
fn an_invalid_log_level_exits_3_naming_the_key_and_the_levels() {
    let root = test_root();
    let dir = root.path().join("config/switchboard");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "log_level = \"infoo\"\n").unwrap();
    let out = cmd(root.path())
        .env_remove("SWITCHBOARD_LOG")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("log_level \"infoo\""), "{err}");
    assert!(
        err.contains("accepted: off, error, warn, info, debug, trace"),
        "{err}"
    );
    assert!(!root.path().join("data").exists(), "data was touched");

    // From the environment too, which is named.
    let out = cmd(root.path())
        .env("SWITCHBOARD_LOG", "switchboard=loud")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("SWITCHBOARD_LOG"), "{}", stderr(&out));

    // A filter with targets and known levels is accepted.
    std::fs::write(
        dir.join("config.toml"),
        "log_level = \"warn,switchboard=debug\"\n",
    )
    .unwrap();
    let (ok, report) = {
        let out = cmd(root.path())
            .env_remove("SWITCHBOARD_LOG")
            .arg("doctor")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert!(ok, "{report}");
}

#[test]
fn an_invalid_config_file_exits_3() {
    let root = test_root();
    let dir = root.path().join("config/switchboard");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "session_days = 0\n").unwrap();
    let out = cmd(root.path()).arg("migrate").output().unwrap();
    assert_eq!(code(&out), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("session_days"), "{}", stderr(&out));
    // So is an [llm] section the providers refuse, for `serve` and doctor.
    std::fs::write(
        dir.join("config.toml"),
        "[llm.providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1/v1\"\n\
         models = [\"m\"]\n",
    )
    .unwrap();
    let out = cmd(root.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[llm.providers.local]"),
        "{}",
        stderr(&out)
    );
    let out = cmd(root.path()).arg("doctor").output().unwrap();
    assert_eq!(code(&out), Some(1));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("  FAIL  settings") && l.contains("[llm.providers.local]")),
        "{report}"
    );
    // A named config file that does not exist is a config error too.
    let out = cmd(root.path())
        .args(["--config", "/nonexistent/switchboard.toml", "migrate"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(3), "{}", stderr(&out));
}

#[test]
fn not_signed_in_or_refused_exits_4() {
    let root = test_root();
    let mut passwd = cmd(root.path());
    passwd.args(["passwd", "--password-stdin"]);
    let out = run_with_stdin(passwd, "a\nb\n");
    assert_eq!(code(&out), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("not signed in"), "{}", stderr(&out));

    let server = serve(root.path());
    let mut login = cmd(root.path());
    login.args(["login", "--server", &server.url, "--password-stdin"]);
    let out = run_with_stdin(login, "nobody@example.com\nnot the password\n");
    assert_eq!(code(&out), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("wrong email or password"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unreachable_server_exits_5() {
    let root = test_root();
    let url = closed_port_url();
    let mut login = cmd(root.path());
    login.args(["login", "--server", &url, "--password-stdin"]);
    let out = run_with_stdin(login, "boss@example.com\nnot the password\n");
    assert_eq!(code(&out), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot reach the server"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_lists_exit_codes_and_environment_and_hides_bench() {
    let root = test_root();
    let out = cmd(root.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    // Words, not the line breaks wrapping puts between them.
    let words = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let help = words(&out.stdout);
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("5 the server could not be reached"), "{help}");
    for (var, _) in switchboard::config::ENVIRONMENT {
        assert!(help.contains(var), "{var} missing from:\n{help}");
    }
    assert!(help.contains("[env: SWITCHBOARD_SERVER]"), "{help}");
    assert!(help.contains("doctor"), "{help}");
    assert!(!help.contains("bench"), "{help}");
    let out = cmd(root.path()).args(["serve", "--help"]).output().unwrap();
    let help = words(&out.stdout);
    assert!(help.contains("[env: SWITCHBOARD_BIND]"), "{help}");
    assert!(help.contains("[env: SWITCHBOARD_DATABASE_URL]"), "{help}");
    // Hidden, still there (test builds have the `bench` feature).
    let out = cmd(root.path()).args(["bench", "--help"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("ingest"));
}

#[test]
fn completions_are_generated_for_bash_zsh_and_fish() {
    let root = test_root();
    for (shell, marker) in [
        ("bash", "complete -F _switchboard"),
        ("zsh", "#compdef switchboard"),
        ("fish", "complete -c switchboard"),
    ] {
        let out = cmd(root.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}:\n{script}");
        for word in ["doctor", "completions", "login", "database-url"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
        // Hidden from the help, hidden from completion.
        assert!(!script.contains("bench"), "{shell} completes bench");
        if shell == "bash" {
            let path = root.path().join("switchboard.bash");
            std::fs::write(&path, script.as_bytes()).unwrap();
            let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(check.status.success(), "{}", stderr(&check));
        }
    }
    let out = cmd(root.path())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(2));
}
