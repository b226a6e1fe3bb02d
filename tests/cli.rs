//! The real binary: `serve`, `user add`, `login`/`logout`, config errors, the
//! embedded platform's data dir, and a scripted console run in tmux.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

#[path = "cli/account.rs"]
mod account;
#[path = "cli/contexts.rs"]
mod contexts;
#[path = "cli/doctor.rs"]
mod doctor;
#[path = "cli/eval.rs"]
mod eval;
#[path = "cli/exit_codes.rs"]
mod exit_codes;
#[path = "cli/knowledge.rs"]
mod knowledge;
#[path = "cli/queue.rs"]
mod queue;
#[path = "cli/tls.rs"]
mod tls;

/// A test's HOME, under `target/tmp/test-logs/cli/` and kept after the test,
/// so `.ci/run` can scan the logs it leaves for secrets.
struct TestRoot(std::path::PathBuf);

impl TestRoot {
    fn path(&self) -> &Path {
        &self.0
    }
}

fn test_root() -> TestRoot {
    let parent = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-logs/cli");
    std::fs::create_dir_all(&parent).unwrap();
    TestRoot(tempfile::tempdir_in(parent).unwrap().keep())
}

/// A command with HOME and XDG dirs inside `root`, so nothing touches the
/// real ones; logs at debug level, for the secret scan.
fn cmd(root: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", root)
        .env("XDG_CONFIG_HOME", root.join("config"))
        .env("XDG_DATA_HOME", root.join("data"))
        .env("SWITCHBOARD_LOG", "debug");
    c
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(root: &Path) -> Server {
    let log = std::fs::File::create(root.join("serve.log")).expect("serve.log");
    let mut child = cmd(root)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read first line");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    Server { child, url }
}

fn run_with_stdin(mut c: Command, stdin: &str) -> std::process::Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[tokio::test]
async fn serve_user_add_login_and_logout() {
    let root = test_root();
    let mut add = cmd(root.path());
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
    assert!(String::from_utf8_lossy(&out.stdout).contains("platform admin"));

    // A short password is refused, and nothing is created.
    let mut weak = cmd(root.path());
    weak.args(["user", "add", "weak@example.com", "--password-stdin"]);
    let out = run_with_stdin(weak, "short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8"));

    let server = serve(root.path());
    let client = switchboard::api::Client::new(&server.url).unwrap();
    client.healthz().await.unwrap();
    assert!(client.login("weak@example.com", "short").await.is_err());

    let mut login = cmd(root.path());
    login.args(["login", "--server", &server.url, "--password-stdin"]);
    let out = run_with_stdin(login, "boss@example.com\na good long password\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let session = root.path().join("config/switchboard/session.toml");
    let saved = std::fs::read_to_string(&session).unwrap();
    assert!(saved.contains("sbt_"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&session).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token = saved
        .lines()
        .find_map(|l| l.strip_prefix("token = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    let me = client.clone().with_token(token.clone()).me().await.unwrap();
    assert_eq!(me.user.email, "boss@example.com");

    let out = cmd(root.path()).arg("logout").output().unwrap();
    assert!(out.status.success());
    // The context stays, to sign in again; its token is gone.
    assert!(!std::fs::read_to_string(&session).unwrap().contains(&token));
    let err = client.with_token(token).me().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
}

#[test]
fn serve_shuts_down_gracefully_on_sigterm() {
    let root = test_root();
    let mut server = serve(root.path());
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_invalid_config_file_names_file_line_and_key_and_touches_nothing() {
    let root = test_root();
    let dir = root.path().join("config/switchboard");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        "bind = \"127.0.0.1:0\"\nsevrer = \"x\"\n",
    )
    .unwrap();
    let out = cmd(root.path()).args(["serve"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("config.toml"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("sevrer"), "{err}");
    assert!(
        !root.path().join("data/switchboard").exists(),
        "data was touched"
    );
}

#[tokio::test]
async fn two_embedded_platforms_share_one_data_dir_safely() {
    let root = test_root();
    let dirs = switchboard::config::Dirs {
        config: root.path().join("config"),
        data: root.path().join("data"),
    };
    let config = switchboard::config::Config::resolve(
        dirs,
        Default::default(),
        &switchboard::config::Flags::default(),
    )
    .unwrap();
    let a = switchboard::embedded::start(&config).await.unwrap();
    let b = switchboard::embedded::start(&config).await.unwrap();
    let ca = switchboard::api::Client::new(&a.url())
        .unwrap()
        .with_token(a.token.clone());
    let cb = switchboard::api::Client::new(&b.url())
        .unwrap()
        .with_token(b.token.clone());
    assert!(ca.me().await.unwrap().platform_admin);
    // Concurrent writes through both processes' pools all land.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let c = if i % 2 == 0 { ca.clone() } else { cb.clone() };
        tasks.push(tokio::spawn(async move {
            c.create_tenant(&switchboard::domain::NewTenant {
                name: format!("Tenant {i}"),
                ..Default::default()
            })
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let all = cb.list_tenants(&Default::default()).await.unwrap();
    assert_eq!(all.items.len(), 11);
    a.stop().await.unwrap();
    b.stop().await.unwrap();
    // The saved local session is private and still valid on the next start.
    let session = root.path().join("data/local-session.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&session).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let c = switchboard::embedded::start(&config).await.unwrap();
    let me = switchboard::api::Client::new(&c.url())
        .unwrap()
        .with_token(c.token.clone())
        .me()
        .await
        .unwrap();
    assert_eq!(me.user.email, "admin@local");
    c.stop().await.unwrap();
}

/// A tmux server of its own, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    fn capture(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "sb"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", "sb"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    /// Esc alone: a key right behind it would read as Alt-key.
    fn escape(&self) {
        self.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(300));
    }

    fn wait_for(&self, needle: &str) -> String {
        self.wait_for_within(needle, 60)
    }

    fn wait_for_within(&self, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.capture();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {needle:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

/// Starts the real console in its own tmux server, with HOME and XDG dirs
/// in `root`; `None` when tmux is missing.
fn console_in_tmux(root: &Path) -> Option<Tmux> {
    console_in_tmux_with(root, "")
}

/// Like [`console_in_tmux`], with `env` (`NAME=value …`) added to the
/// console's otherwise empty environment.
fn console_in_tmux_with(root: &Path, env: &str) -> Option<Tmux> {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED: tmux is not installed (bash .ci/run installs it)");
        return None;
    }
    let tmux = Tmux {
        socket: format!(
            "switchboard-test-{}-{}",
            std::process::id(),
            root.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        ),
    };
    let r = root.display();
    let script = format!(
        "env -i PATH=\"$PATH\" TERM=xterm-256color HOME={r} XDG_CONFIG_HOME={r}/config \
         XDG_DATA_HOME={r}/data SWITCHBOARD_LOG=debug {env} {BIN}; echo EXITED $?; sleep 600"
    );
    let status = tmux
        .cmd()
        .args([
            "new-session",
            "-d",
            "-s",
            "sb",
            "-x",
            "100",
            "-y",
            "30",
            &script,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    Some(tmux)
}

/// Initializes a pro tenant called Open Arms (with the sample leads or
/// not) and waits in the playground it lands in, ready to chat.
fn initialize(tmux: &Tmux, samples: bool) {
    tmux.wait_for("Initialize tenant");
    tmux.keys(&["Open Arms"]);
    tmux.keys(&["Tab", "Right"]);
    tmux.wait_for("● pro");
    if !samples {
        tmux.keys(&["Tab", "Tab", "Right"]);
        tmux.wait_for("● skip");
    }
    tmux.keys(&["C-s"]);
    tmux.wait_for("Message as a lead");
}

/// Initializes Open Arms without sample leads, then goes to its row in
/// the Tenants pane.
fn onboard(tmux: &Tmux) {
    initialize(tmux, false);
    // Leave the message input, then the pane.
    tmux.escape();
    tmux.keys(&["1"]);
    tmux.wait_for("open-arms");
}

#[test]
fn console_onboarding_then_tenant_then_quit_restores_the_terminal() {
    let root = test_root();
    let Some(tmux) = console_in_tmux(root.path()) else {
        return;
    };
    onboard(&tmux);
    let screen = tmux.capture();
    assert!(screen.contains("tenant: Open Arms"), "{screen}");
    assert!(screen.contains("0/10"), "{screen}");

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("EXITED 0");
    assert!(
        !screen.contains("Tenants ("),
        "the console was left on screen:\n{screen}"
    );
    let out = tmux
        .cmd()
        .args([
            "display-message",
            "-p",
            "-t",
            "sb",
            "#{alternate_on} #{cursor_flag}",
        ])
        .output()
        .unwrap();
    let flags = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        flags.trim(),
        "0 1",
        "alternate screen off and cursor visible"
    );
    // Logs went to the file, not the terminal. Every day's file: a run
    // that crosses midnight UTC logs to two.
    let files = switchboard::commands::logging::files(&root.path().join("data/switchboard"));
    assert!(!files.is_empty(), "no log file was written");
    let log: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(log.contains("embedded platform listening"), "{log}");
}

#[test]
fn console_imports_samples_and_triages_the_overdue_queue() {
    let root = test_root();
    let Some(tmux) = console_in_tmux(root.path()) else {
        return;
    };
    // Initializing imported the sample leads.
    initialize(&tmux, true);
    tmux.escape();
    tmux.keys(&["2"]);
    tmux.wait_for("Leads (27)");
    tmux.wait_for("27/1000 leads");

    // The overdue queue: most overdue first.
    tmux.keys(&["o"]);
    let screen = tmux.wait_for("Leads (5) · overdue queue");
    assert!(screen.contains("Daniel Kim"), "{screen}");
    let first = screen
        .lines()
        .find(|l| l.contains('›'))
        .unwrap_or_default()
        .to_string();
    assert!(first.contains("Daniel Kim"), "{screen}");

    // Open it and move it to the next stage.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Daniel Kim · New");
    tmux.keys(&["m"]);
    tmux.wait_for("Move Daniel Kim to");
    tmux.keys(&["j", "Enter"]);
    let screen = tmux.wait_for("Moved Daniel Kim to Contacted");
    assert!(screen.contains("Daniel Kim · Contacted"), "{screen}");
    assert!(screen.contains("met"), "{screen}");
    tmux.keys(&["Escape"]);
    // Met leads leave the overdue queue.
    tmux.wait_for("Leads (4) · overdue queue");
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0");
}

#[test]
fn a_lead_posted_with_a_key_made_in_the_console_appears_live() {
    let root = test_root();
    let Some(tmux) = console_in_tmux(root.path()) else {
        return;
    };
    onboard(&tmux);
    // Tenant detail → API keys → new key, shown once.
    tmux.keys(&["Enter"]);
    tmux.wait_for("API keys");
    tmux.keys(&["l", "l"]);
    tmux.keys(&["n"]);
    tmux.wait_for("New API key");
    tmux.keys(&["Website form", "C-s"]);
    let screen = tmux.wait_for("shown only once");
    let key = screen
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .find(|w| w.starts_with("sbk_") && w.len() == 47)
        .unwrap_or_else(|| panic!("no full key on screen:\n{screen}"))
        .to_string();
    tmux.keys(&["Escape", "Escape", "2"]);
    tmux.wait_for("No leads yet");

    // The empty pane says where forms post.
    let screen = tmux.capture();
    let url = screen
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no ingest address on screen:\n{screen}"));
    // Scheme, host and port: the line may wrap after them.
    let url = url
        .char_indices()
        .filter(|(_, c)| *c == '/')
        .nth(2)
        .map_or(url, |(i, _)| &url[..i])
        .to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let lead = switchboard::domain::LeadInput {
        name: "Curl Person".into(),
        email: Some("curl@example.com".into()),
        message: "Hello from a website form".into(),
        ..Default::default()
    };
    rt.block_on(
        switchboard::api::Client::new(&url)
            .unwrap()
            .ingest_lead(&key, &lead, None),
    )
    .unwrap();
    let screen = tmux.wait_for("New lead: Curl Person");
    assert!(screen.contains("Leads (1)"), "{screen}");
    tmux.wait_for("1/1000 leads");
}

/// The local model's weights, from `SWITCHBOARD_MODEL_PATH` (`.ci/run`
/// sets it after `switchboard model fetch`); `None`, said aloud, without.
fn local_model() -> Option<std::path::PathBuf> {
    let Some(path) = std::env::var_os("SWITCHBOARD_MODEL_PATH").map(std::path::PathBuf::from)
    else {
        eprintln!("SKIPPED: SWITCHBOARD_MODEL_PATH is not set (bash .ci/run fetches the model)");
        return None;
    };
    if !path.is_file() {
        eprintln!(
            "SKIPPED: no model at SWITCHBOARD_MODEL_PATH={}",
            path.display()
        );
        return None;
    }
    Some(path)
}

#[test]
fn console_initializes_a_tenant_and_streams_a_reply_from_the_local_model() {
    let Some(model) = local_model() else {
        return;
    };
    let root = test_root();
    // The embedded platform looks for the weights in its data dir.
    let models = root.path().join("data/switchboard/models");
    std::fs::create_dir_all(&models).unwrap();
    std::os::unix::fs::symlink(&model, models.join("SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    let Some(tmux) = console_in_tmux_with(root.path(), "CANDLE_NUM_THREADS=1") else {
        return;
    };
    initialize(&tmux, false);
    let screen = tmux.capture();
    assert!(screen.contains("Playground · First response"), "{screen}");

    tmux.keys(&["Hi, I need a bed for tonight. Can you help?"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("You (as the lead)");
    // The stats line closes a stored reply: model, version, speed.
    let screen = tmux.wait_for_within("tok/s", 90);
    assert!(screen.contains("local/smollm2-135m · v1 ·"), "{screen}");
    assert!(screen.contains("First response"), "{screen}");
    assert!(!screen.contains("failed:"), "{screen}");

    tmux.escape();
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("EXITED 0");
    assert!(
        !screen.contains("Playground ·"),
        "the console was left on screen:\n{screen}"
    );
}
