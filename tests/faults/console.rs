//! The real console in tmux: a server killed under it and brought back, a
//! window shrunk to 20×5 and grown again, and a panic in raw mode.

use std::path::Path;
use std::time::{Duration, Instant};

use switchboard::api::Client;
use switchboard::bench::fixture;
use switchboard::bench::process::ServeSpec;
use switchboard::bench::tmux::{console_command, Tmux};
use switchboard::credentials::{self, SavedSession};
use switchboard::domain::LeadInput;

use super::{have_tmux, logs, BIN};

const WAIT: Duration = Duration::from_secs(60);

fn lead(name: &str) -> LeadInput {
    LeadInput {
        name: name.into(),
        email: Some(format!(
            "{}@example.com",
            name.to_lowercase().replace(' ', ".")
        )),
        message: "Call me back please".into(),
        ..Default::default()
    }
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn the_console_survives_a_dying_server_and_a_tiny_window() {
    if !have_tmux() {
        return;
    }
    let root = logs("console-server-killed");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let spec = ServeSpec {
        bin: BIN.into(),
        database_url: format!("sqlite://{}", root.join("platform.db").display()),
        home: root.join("serve-home"),
        log: root.join("serve.log"),
    };
    let (server, key) = rt.block_on(async {
        let store = switchboard::store::open(&spec.database_url).await.unwrap();
        fixture::create_admin(&store).await.unwrap();
        drop(store);
        let server = spec.start("127.0.0.1:0").await.unwrap();
        let admin = fixture::admin_client(&server.url).await.unwrap();
        let (_, key) = fixture::tenant_with_key(&admin, "Faulty").await.unwrap();
        let poster = Client::new(&server.url).unwrap();
        for name in ["Ada Lovelace", "Alan Turing", "Grace Hopper"] {
            poster.ingest_lead(&key, &lead(name), None).await.unwrap();
        }
        let token = admin.token().unwrap().to_string();
        let console = root.join("console");
        credentials::save(
            &credentials::remote_path(&console.join("config/switchboard")),
            &SavedSession {
                server: server.url.clone(),
                token,
            },
        )
        .unwrap();
        (server, key)
    });
    let url = server.url.clone();
    let addr = server.addr().to_string();

    let tmux = Tmux::new("faults").unwrap();
    let s = "console";
    let command = console_command(Path::new(BIN), &root.join("console"), Some(&url));
    tmux.session(s, 100, 30, &command).unwrap();
    let pid = tmux.pane_pid(s).unwrap();
    tmux.wait_for(s, "Faulty", WAIT).unwrap();
    tmux.keys(s, &[":", "tenant faulty", "Enter"]).unwrap();
    tmux.wait_for(s, "tenant: Faulty", WAIT).unwrap();
    tmux.keys(s, &["2"]).unwrap();
    tmux.wait_for(s, "Leads (3)", WAIT).unwrap();

    // Down to 20×5 and back: still drawing, still taking keys.
    tmux.resize(s, 20, 5).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let tiny = tmux.capture(s).unwrap();
    assert!(alive(pid), "the console died at 20x5:\n{tiny}");
    assert!(tiny.lines().count() <= 5, "{tiny}");
    tmux.keys(s, &["j"]).unwrap();
    tmux.resize(s, 100, 30).unwrap();
    tmux.wait_for(s, "Leads (3)", WAIT).unwrap();
    tmux.wait_for(s, "Grace Hopper", WAIT).unwrap();

    // The server dies: a reload fails inline, with the key that retries.
    rt.block_on(server.kill9()).unwrap();
    tmux.keys(s, &["r"]).unwrap();
    let screen = tmux.wait_for(s, "Could not load leads", WAIT).unwrap();
    assert!(screen.contains("to retry"), "{screen}");
    assert!(alive(pid), "the console exited:\n{screen}");
    // Not frozen: the other panes still answer.
    tmux.keys(s, &["1"]).unwrap();
    tmux.wait_for(s, "Faulty", WAIT).unwrap();
    tmux.keys(s, &["2"]).unwrap();
    tmux.wait_for(s, "Could not load leads", WAIT).unwrap();

    // Back on the same address and database: retry works, live events resume.
    let server = rt.block_on(spec.start(&addr)).unwrap();
    assert_eq!(server.url, url);
    tmux.keys(s, &["r"]).unwrap();
    tmux.wait_for(s, "Leads (3)", WAIT).unwrap();
    // The event stream reconnects with a growing pause (at most 30 s): post
    // until one arrives live.
    let deadline = Instant::now() + WAIT;
    let poster = Client::new(&url).unwrap();
    let mut n = 0;
    loop {
        n += 1;
        let name = format!("Back Again {n}");
        rt.block_on(poster.ingest_lead(&key, &lead(&name), None))
            .unwrap();
        if tmux
            .wait_for(s, "New lead: Back Again", Duration::from_secs(5))
            .is_ok()
        {
            break;
        }
        assert!(Instant::now() < deadline, "{}", tmux.capture(s).unwrap());
    }
    tmux.keys(s, &["q"]).unwrap();
    let deadline = Instant::now() + WAIT;
    while alive(pid) {
        assert!(Instant::now() < deadline, "the console did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);
}

/// Run only inside a terminal by `a_panic_restores_the_terminal`: puts the
/// terminal in the console's modes, installs the console's panic hook, and
/// panics with no guard left to clean up, so only the hook can restore.
#[test]
#[ignore = "a helper: run in tmux by a_panic_restores_the_terminal"]
fn panic_in_console_terminal_modes() {
    let guard = switchboard::console::terminal::TerminalGuard::enter().unwrap();
    std::mem::forget(guard);
    switchboard::console::terminal::install_panic_hook();
    panic!("deliberate panic with the console's terminal modes on");
}

#[test]
fn a_panic_restores_the_terminal() {
    if !have_tmux() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let tmux = Tmux::new("panic").unwrap();
    let s = "panic";
    let command = format!(
        "{} --ignored --exact console::panic_in_console_terminal_modes --nocapture --test-threads=1; \
         echo; stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo END; sleep 600",
        exe.display()
    );
    tmux.session(s, 100, 30, &command).unwrap();
    let screen = tmux.wait_for(s, "END", WAIT).unwrap();
    assert!(
        screen.contains("deliberate panic with the console's terminal modes on"),
        "the panic message is not readable:\n{screen}"
    );
    // Raw mode is off: canonical input and echo are back.
    assert!(screen.contains("icanon echo END"), "{screen}");
    assert_eq!(tmux.display(s, "#{alternate_on}").unwrap(), "0", "{screen}");
    assert_eq!(tmux.display(s, "#{cursor_flag}").unwrap(), "1", "{screen}");
}
