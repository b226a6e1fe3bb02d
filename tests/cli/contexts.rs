//! Contexts through the real binary against two served instances: login
//! names and refreshes them, `context list|use|rename|remove`, `--context`
//! and SWITCHBOARD_CONTEXT for one run, logout of one context, the file of
//! the release before contexts read as a context, and `:ctx` in the console.

use super::*;
use switchboard::api::Client;
use switchboard::domain::NewTenant;

const PASSWORD: &str = "a good long password";

/// A served instance of its own (its own data dir) with `email` as its
/// platform admin.
fn server_with_admin(email: &str) -> (TestRoot, Server) {
    let root = test_root();
    let mut add = cmd(root.path());
    add.args(["user", "add", email, "--platform-admin", "--password-stdin"]);
    let out = run_with_stdin(add, &format!("{PASSWORD}\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = serve(root.path());
    (root, server)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn login(root: &Path, args: &[&str], email: &str) -> std::process::Output {
    let mut c = cmd(root);
    c.arg("login").args(args).arg("--password-stdin");
    run_with_stdin(c, &format!("{email}\n{PASSWORD}\n"))
}

fn run(root: &Path, args: &[&str]) -> std::process::Output {
    cmd(root).args(args).output().unwrap()
}

/// The line of `context list` for a context.
fn listed(root: &Path, name: &str) -> String {
    let out = run(root, &["context", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = text(&out.stdout);
    list.lines()
        .find(|l| {
            l.get(2..)
                .is_some_and(|l| l.split_whitespace().next() == Some(name))
        })
        .unwrap_or_else(|| panic!("no context {name} in:\n{list}"))
        .to_string()
}

fn session_line(root: &Path, args: &[&str], env: Option<(&str, &str)>) -> String {
    let mut c = cmd(root);
    c.env_remove("SWITCHBOARD_LOG").args(args).arg("doctor");
    if let Some((k, v)) = env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let report = text(&out.stdout);
    report
        .lines()
        .filter(|l| l.contains(" context ") || l.contains(" session "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tokens(root: &Path) -> Vec<String> {
    let saved = std::fs::read_to_string(root.join("config/switchboard/session.toml")).unwrap();
    saved
        .lines()
        .filter_map(|l| l.strip_prefix("token = "))
        .map(|t| t.trim_matches('"').to_string())
        .collect()
}

#[tokio::test]
async fn two_servers_are_two_contexts_one_flag_apart() {
    let (_a_root, staging) = server_with_admin("ana@staging.example");
    let (_b_root, prod) = server_with_admin("bo@prod.example");
    let me = test_root();
    let home = me.path();

    // Named on purpose, then by default after the host.
    let out = login(
        home,
        &["--server", &staging.url, "--context", "staging"],
        "ana@staging.example",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("context staging"),
        "{}",
        text(&out.stdout)
    );
    let out = login(home, &["--server", &prod.url], "bo@prod.example");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("context 127.0.0.1"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(tokens(home).len(), 2, "one token per context");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = home.join("config/switchboard/session.toml");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The last login is current; local is always there.
    assert!(listed(home, "127.0.0.1").starts_with('*'));
    assert!(listed(home, "127.0.0.1").contains(&prod.url));
    assert!(listed(home, "staging").contains("signed in"));
    assert!(listed(home, "local").contains("embedded"));

    let out = run(home, &["context", "rename", "127.0.0.1", "prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(listed(home, "prod").starts_with('*'));
    for bad in [
        &["context", "rename", "prod", "staging"][..],
        &["context", "rename", "local", "x"],
        &["context", "use", "nope"],
        &["context", "remove", "local"],
    ] {
        let out = run(home, bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out.stderr));
    }
    let out = run(home, &["context", "use", "staging"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(listed(home, "staging").starts_with('*'));

    // Doctor names the context; --context and the environment pick another
    // for one run, and the current one stays.
    let current = session_line(home, &[], None);
    assert!(current.contains("staging"), "{current}");
    assert!(
        current.contains("signed in as ana@staging.example"),
        "{current}"
    );
    let flagged = session_line(home, &["--context", "prod"], None);
    assert!(
        flagged.contains("signed in as bo@prod.example"),
        "{flagged}"
    );
    let env = session_line(home, &[], Some(("SWITCHBOARD_CONTEXT", "prod")));
    assert!(env.contains("signed in as bo@prod.example"), "{env}");
    assert!(listed(home, "staging").starts_with('*'));

    // Logout ends one context's session, on its server too.
    let before = tokens(home);
    let out = run(home, &["logout", "--context", "prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(listed(home, "prod").contains("signed out"));
    assert_eq!(tokens(home).len(), 1);
    let gone: Vec<_> = before
        .iter()
        .filter(|t| !tokens(home).contains(t))
        .collect();
    let err = Client::new(&prod.url)
        .unwrap()
        .with_token(gone[0].clone())
        .me()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(session_line(home, &[], None).contains("ana@staging.example"));
    // The context remembers its server: signing in again needs only its name.
    let out = login(home, &["--context", "prod"], "bo@prod.example");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("signed in to {}", prod.url)));
    assert!(listed(home, "prod").starts_with('*'));

    // Remove ends the session and forgets the context; local is current again.
    let prod_token = tokens(home)
        .into_iter()
        .find(|t| !before.contains(t))
        .unwrap();
    let out = run(home, &["context", "use", "prod"]);
    assert!(out.status.success());
    let out = run(home, &["context", "remove", "prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(listed(home, "local").starts_with('*'));
    assert!(!text(&run(home, &["context", "list"]).stdout).contains("prod"));
    let err = Client::new(&prod.url)
        .unwrap()
        .with_token(prod_token)
        .me()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn the_single_session_file_of_the_last_release_is_read_as_a_context() {
    let (_root, server) = server_with_admin("ana@staging.example");
    let home = test_root();
    let token = Client::new(&server.url)
        .unwrap()
        .login("ana@staging.example", PASSWORD)
        .await
        .unwrap()
        .token;
    let dir = home.path().join("config/switchboard");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("session.toml"),
        format!("server = \"{}\"\ntoken = \"{token}\"\n", server.url),
    )
    .unwrap();
    assert!(listed(home.path(), "127.0.0.1").starts_with('*'));
    let report = session_line(home.path(), &[], None);
    assert!(
        report.contains("signed in as ana@staging.example"),
        "{report}"
    );
    // `--server` finds the context that has the server.
    let report = session_line(home.path(), &["--server", &server.url], None);
    assert!(report.contains("127.0.0.1"), "{report}");
    assert!(
        report.contains("signed in as ana@staging.example"),
        "{report}"
    );
    // A change writes the file in the new form, without losing the session.
    let out = run(home.path(), &["context", "rename", "127.0.0.1", "staging"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let saved = std::fs::read_to_string(dir.join("session.toml")).unwrap();
    assert!(saved.contains("[contexts.staging]"), "{saved}");
    assert_eq!(tokens(home.path()), vec![token]);
}

/// `:ctx` switches servers in a running console, with the context in the
/// header and the last tenant of each context remembered.
#[tokio::test]
async fn the_console_switches_context_without_restarting() {
    let (_a_root, staging) = server_with_admin("ana@staging.example");
    let (_b_root, prod) = server_with_admin("bo@prod.example");
    for (server, email, tenants) in [
        (
            &staging,
            "ana@staging.example",
            ["Alpha Staging", "Beta Staging"],
        ),
        (&prod, "bo@prod.example", ["Gamma Prod", "Omega Prod"]),
    ] {
        let client = Client::new(&server.url).unwrap();
        let token = client.login(email, PASSWORD).await.unwrap().token;
        let client = client.with_token(token);
        for name in tenants {
            client
                .create_tenant(&NewTenant {
                    name: name.into(),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
    }
    let me = test_root();
    let home = me.path();
    for (url, ctx, email) in [
        (&prod.url, "prod", "bo@prod.example"),
        (&staging.url, "staging", "ana@staging.example"),
    ] {
        let out = login(home, &["--server", url, "--context", ctx], email);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let Some(tmux) = console_in_tmux(home) else {
        return;
    };
    let screen = tmux.wait_for("tenant: Alpha Staging");
    assert!(screen.contains("[staging]"), "{screen}");
    // Another tenant here, then the other server.
    tmux.keys(&[":tenant beta-staging", "Enter"]);
    tmux.wait_for("tenant: Beta Staging");
    tmux.keys(&[":ctx p", "Tab"]);
    tmux.wait_for(":ctx prod");
    tmux.keys(&["Enter"]);
    tmux.wait_for("tenant: Gamma Prod");
    // Who is signed in there (the profile may come after the tenants).
    let screen = tmux.wait_for("bo@prod.example");
    assert!(screen.contains("[prod]"), "{screen}");
    assert!(!screen.contains("Beta Staging"), "{screen}");
    // Back: the tenant last worked on there is current again.
    tmux.keys(&[":ctx staging", "Enter"]);
    let screen = tmux.wait_for("tenant: Beta Staging");
    assert!(screen.contains("[staging]"), "{screen}");
    // An unknown context is refused in the command line.
    tmux.keys(&[":ctx nowhere", "Enter"]);
    tmux.wait_for("no context named \"nowhere\"");
    tmux.escape();
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0");
    let saved = std::fs::read_to_string(home.join("config/switchboard/session.toml")).unwrap();
    assert!(saved.contains("staging = \"beta-staging\""), "{saved}");
}

/// A served instance that delivers webhooks to loopback receivers (a team
/// server refuses them unless told).
fn serve_allowing_loopback_hooks(root: &Path) -> Server {
    let log = std::fs::File::create(root.join("serve.log")).expect("serve.log");
    let mut child = cmd(root)
        .env("SWITCHBOARD_WEBHOOK_PRIVATE_TARGETS", "true")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    Server { child, url }
}

/// An in-test webhook receiver: answers 200 to every POST and counts them.
struct Receiver {
    url: String,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Receiver {
    fn start() -> Receiver {
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then as much body as Content-Length says.
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if data.len() >= end + 4 + len {
                            seen.lock().unwrap().push(text[end + 4..].to_string());
                            break;
                        }
                    }
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nreceived",
                );
            }
        });
        Receiver { url, bodies }
    }

    fn count(&self) -> usize {
        self.bodies.lock().unwrap().len()
    }

    fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.count() < n {
            assert!(
                Instant::now() < deadline,
                "the receiver got {} of {n}",
                self.count()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The whole path over tmux: two servers, `:ctx` between them, a webhook
/// created on one to an in-test receiver, a test event's delivery seen
/// turning delivered live, and a replay that reaches the receiver again.
#[tokio::test]
async fn tmux_two_contexts_then_a_webhook_delivered_and_replayed() {
    let staging_root = test_root();
    let prod_root = test_root();
    let mut servers = Vec::new();
    for (root, email, tenant) in [
        (&staging_root, "ana@staging.example", "Alpha Staging"),
        (&prod_root, "bo@prod.example", "Gamma Prod"),
    ] {
        let mut add = cmd(root.path());
        add.args(["user", "add", email, "--platform-admin", "--password-stdin"]);
        let out = run_with_stdin(add, &format!("{PASSWORD}\n"));
        assert!(out.status.success(), "{}", text(&out.stderr));
        let server = serve_allowing_loopback_hooks(root.path());
        let client = Client::new(&server.url).unwrap();
        let token = client.login(email, PASSWORD).await.unwrap().token;
        client
            .with_token(token)
            .create_tenant(&NewTenant {
                name: tenant.into(),
                ..Default::default()
            })
            .await
            .unwrap();
        servers.push((server, email));
    }
    let me = test_root();
    let home = me.path();
    for ((server, email), ctx) in servers.iter().zip(["staging", "prod"]).rev() {
        let out = login(home, &["--server", &server.url, "--context", ctx], email);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let rx = Receiver::start();
    let Some(tmux) = console_in_tmux(home) else {
        return;
    };
    tmux.wait_for("tenant: Alpha Staging");
    tmux.keys(&[":ctx prod", "Enter"]);
    tmux.wait_for("tenant: Gamma Prod");
    tmux.keys(&[":ctx staging", "Enter"]);
    tmux.wait_for("tenant: Alpha Staging");

    tmux.keys(&[":webhooks", "Enter"]);
    tmux.wait_for("No webhook endpoints yet");
    tmux.keys(&["n"]);
    tmux.wait_for("New webhook");
    tmux.keys(&[&rx.url]);
    tmux.keys(&["C-s"]);
    let screen = tmux.wait_for("Webhook created");
    assert!(screen.contains("whsec_"), "the secret, once:\n{screen}");
    tmux.escape();
    tmux.wait_for("Webhooks (1)");

    // The deliveries, then a test event: pending, then delivered, live.
    tmux.keys(&["Enter"]);
    tmux.wait_for("No deliveries yet");
    tmux.keys(&["t"]);
    rx.wait_for(1);
    let screen = tmux.wait_for("delivered 1");
    assert!(screen.contains("webhook.test"), "{screen}");
    assert!(rx.bodies.lock().unwrap()[0].contains("\"type\":\"webhook.test\""));

    // The delivery: what the receiver answered and the body it was sent.
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Request body");
    assert!(
        screen.contains("received"),
        "the response excerpt:\n{screen}"
    );
    assert!(screen.contains("1 attempt"), "{screen}");

    // Replay: the receiver gets the same event again; the delivery counts it.
    tmux.keys(&["p"]);
    tmux.wait_for("Replay queued");
    rx.wait_for(2);
    let (first, again) = {
        let b = rx.bodies.lock().unwrap();
        (b[0].clone(), b[1].clone())
    };
    assert_eq!(first, again, "the same event, byte for byte");
    tmux.wait_for_within("2 attempts", 30);
    tmux.escape();
    tmux.wait_for("delivered 2");
    tmux.escape();
    tmux.escape();
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0");
}
