//! `switchboard eval run` against a served platform whose model is a
//! scripted OpenAI-compatible server: the table, and the exit codes a CI
//! gates on (0 pass, 6 below --min-pass or below the version compared
//! against, 1 for a set that does not exist).

use std::io::{Read, Write};
use std::net::TcpListener;

use switchboard::domain::eval::{Category, EvalCaseInput, EvalExpectations, NewEvalSet, Phrase};
use switchboard::domain::{AgentPatch, NewAgent, NewTenant};

use super::*;

/// Answers qualify requests `warm`; drafts with the opening hours when the
/// agent's prompt asks for them, else without.
fn scripted_model() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { return };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let body = loop {
                    let n = socket.read(&mut chunk).unwrap_or(0);
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_lowercase()
                                    .strip_prefix("content-length:")
                                    .and_then(|v| v.trim().parse::<usize>().ok())
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length || n == 0 {
                            break text[end + 4..].to_string();
                        }
                    }
                    if n == 0 {
                        break text;
                    }
                };
                let text = if body.contains("CATEGORY:") {
                    "CATEGORY: warm\nREASON: scripted"
                } else if body.contains("Give the hours.") {
                    "We are open Monday to Friday."
                } else {
                    "Thanks, we will call you."
                };
                let mut out = String::from(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
                );
                for piece in text.split_inclusive(' ') {
                    out.push_str(&format!(
                        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{piece:?}}}}}]}}\n\n"
                    ));
                }
                out.push_str("data: [DONE]\n\n");
                let _ = socket.write_all(out.as_bytes());
            });
        }
    });
    url
}

fn eval_run(root: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    let mut c = cmd(root);
    c.args(["--server", url, "eval", "run", "--tenant", "open-arms"]);
    c.args(["--set", "faq", "--agent", "front desk"]);
    c.args(extra);
    c.output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn eval_run_prints_the_table_and_exits_6_below_the_bar() {
    let root = test_root();
    let model = scripted_model();
    let dir = root.path().join("config/switchboard");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[llm.local]\nenabled = false\n\n[llm.providers.up]\nkind = \"openai\"\n\
             base_url = \"{model}\"\nmodels = [\"tiny\"]\n"
        ),
    )
    .unwrap();
    let mut add = cmd(root.path());
    add.args(["user", "add", "ci@example.com", "--platform-admin"]);
    add.arg("--password-stdin");
    assert!(run_with_stdin(add, "a good long password\n")
        .status
        .success());
    let server = serve(root.path());
    let mut login = cmd(root.path());
    login.args(["login", "--server", &server.url, "--password-stdin"]);
    let out = run_with_stdin(login, "ci@example.com\na good long password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let anon = switchboard::api::Client::new(&server.url).unwrap();
    let token = anon
        .login("ci@example.com", "a good long password")
        .await
        .unwrap()
        .token;
    let c = anon.with_token(token);
    let new = NewTenant {
        name: "Open Arms".into(),
        ..Default::default()
    };
    c.create_tenant(&new).await.unwrap();
    let agent = NewAgent {
        name: "Front desk".into(),
        system_prompt: "Answer new patients.".into(),
        model: "up/tiny".into(),
        ..Default::default()
    };
    let agent = c.create_agent("open-arms", &agent).await.unwrap();
    let patch = AgentPatch {
        system_prompt: Some("Answer new patients. Give the hours.".into()),
        ..Default::default()
    };
    c.update_agent("open-arms", agent.id, &patch).await.unwrap();
    let case = |message: &str, phrase: &str| EvalCaseInput {
        message: message.into(),
        expect: EvalExpectations {
            category: Some(Category::Warm),
            must_contain: vec![Phrase(phrase.into())],
            ..Default::default()
        },
        ..Default::default()
    };
    let set = NewEvalSet {
        name: "FAQ".into(),
        cases: vec![
            case("When are you open?", "Monday"),
            case("Can someone call me back?", "we"),
        ],
        ..Default::default()
    };
    c.create_eval_set("open-arms", &set).await.unwrap();

    // Version 2 names the hours: both cases pass, one more than version 1.
    let out = eval_run(
        root.path(),
        &server.url,
        &["--version", "2", "--against", "1"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("v2 (up/tiny)") && stdout.contains("v1 (up/tiny)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2/2 (100%)") && stdout.contains("1/2 (50%)"),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL missing from the reply"), "{stdout}");
    assert!(
        stdout.contains("1 case(s) differ between v2 and v1: #1"),
        "{stdout}"
    );

    // Version 1 against 2: below the version compared against.
    let out = eval_run(
        root.path(),
        &server.url,
        &["--version", "1", "--against", "2"],
    );
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("below v2's 100%"));

    // Alone, against a bar.
    let out = eval_run(
        root.path(),
        &server.url,
        &["--version", "1", "--min-pass", "80%"],
    );
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("below --min-pass 80%"));
    let out = eval_run(
        root.path(),
        &server.url,
        &["--version", "1", "--min-pass", "0.5"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A set that does not exist says which do; a bad bar is a usage error.
    let mut c = cmd(root.path());
    c.args([
        "--server",
        &server.url,
        "eval",
        "run",
        "--tenant",
        "open-arms",
    ]);
    c.args(["--set", "nope", "--agent", "front desk"]);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("its sets: FAQ"));
    let out = eval_run(root.path(), &server.url, &["--min-pass", "80"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
