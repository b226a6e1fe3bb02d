//! Fault harnesses that assert: `serve` killed with SIGKILL mid-ingest loses
//! and duplicates nothing; the real console survives a dying server, a tiny
//! terminal and a panic. Their logs stay under `target/tmp/test-logs/` for
//! the secret scan `.ci/run` does after the suite.

use std::path::PathBuf;

#[path = "faults/console.rs"]
mod console;
#[path = "faults/crash.rs"]
mod crash;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A fresh directory for one test's homes, databases and logs, kept after it.
fn logs(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("test-logs")
        .join("faults")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// tmux runs the real console; without it those tests are skipped.
fn have_tmux() -> bool {
    let ok = std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok();
    if !ok {
        eprintln!("SKIPPED: tmux is not installed (bash .ci/run installs it)");
    }
    ok
}
