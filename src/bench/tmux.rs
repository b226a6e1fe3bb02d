//! The real console in a tmux server of its own: benchmarks type into it,
//! read its screen, its log and its process, and count what it writes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;

/// A private tmux server, killed when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A new server socket; fails with a clear message when tmux is missing.
    pub fn new(tag: &str) -> anyhow::Result<Tmux> {
        Command::new("tmux")
            .arg("-V")
            .output()
            .context("tmux is needed to run the real console (apt-get install tmux)")?;
        Ok(Tmux {
            socket: format!("switchboard-bench-{tag}-{}", std::process::id()),
        })
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self
            .cmd()
            .args(args)
            .output()
            .with_context(|| format!("tmux {args:?}"))?;
        if !out.status.success() {
            anyhow::bail!(
                "tmux {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A detached session `name` of `width`×`height` running `command`.
    pub fn session(
        &self,
        name: &str,
        width: u16,
        height: u16,
        command: &str,
    ) -> anyhow::Result<()> {
        let (w, h) = (width.to_string(), height.to_string());
        let args = ["new-session", "-d", "-s", name, "-x", &w, "-y", &h, command];
        // When the last session just ended (a console that quit), the
        // server may still be exiting as this one connects: tmux then says
        // "server exited unexpectedly" and a moment later starts afresh.
        let mut tries = 0;
        loop {
            match self.run(&args) {
                Err(e) if tries < 5 && e.to_string().contains("server exited unexpectedly") => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                other => return other.map(|_| ()),
            }
        }
    }

    /// A new window in session `session`, named `name`, running `command`.
    pub fn window(&self, session: &str, name: &str, command: &str) -> anyhow::Result<()> {
        self.run(&[
            "new-window",
            "-d",
            "-t",
            &format!("{session}:"),
            "-n",
            name,
            command,
        ])?;
        Ok(())
    }

    /// Resizes the window, as a user dragging the terminal's corner would.
    pub fn resize(&self, target: &str, width: u16, height: u16) -> anyhow::Result<()> {
        let (w, h) = (width.to_string(), height.to_string());
        self.run(&["resize-window", "-t", target, "-x", &w, "-y", &h])?;
        Ok(())
    }

    /// A tmux format for the pane, e.g. `#{alternate_on}`.
    pub fn display(&self, target: &str, format: &str) -> anyhow::Result<String> {
        Ok(self
            .run(&["display-message", "-p", "-t", target, format])?
            .trim()
            .to_string())
    }

    pub fn kill_window(&self, target: &str) {
        let _ = self.run(&["kill-window", "-t", target]);
    }

    pub fn capture(&self, target: &str) -> anyhow::Result<String> {
        self.run(&["capture-pane", "-p", "-t", target])
    }

    pub fn keys(&self, target: &str, keys: &[&str]) -> anyhow::Result<()> {
        let mut args = vec!["send-keys", "-t", target];
        args.extend_from_slice(keys);
        self.run(&args)?;
        Ok(())
    }

    /// Waits until the screen shows `needle`.
    pub fn wait_for(
        &self,
        target: &str,
        needle: &str,
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.capture(target)?;
            if screen.contains(needle) {
                return Ok(screen);
            }
            if Instant::now() > deadline {
                anyhow::bail!("waited {timeout:?} for {needle:?}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen no longer shows `needle`.
    pub fn wait_gone(&self, target: &str, needle: &str, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        while self.capture(target)?.contains(needle) {
            if Instant::now() > deadline {
                anyhow::bail!("{needle:?} still on screen after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// The pid of the pane's process (the console itself when started with `exec`).
    pub fn pane_pid(&self, target: &str) -> anyhow::Result<u32> {
        let out = self.run(&["display-message", "-p", "-t", target, "#{pane_pid}"])?;
        out.trim()
            .parse()
            .with_context(|| format!("tmux gave the pane pid {out:?}"))
    }

    /// Appends everything the pane's program writes to its terminal to `file`
    /// (None stops it).
    pub fn pipe(&self, target: &str, file: Option<&Path>) -> anyhow::Result<()> {
        match file {
            Some(f) => self.run(&[
                "pipe-pane",
                "-o",
                "-t",
                target,
                &format!("cat >> '{}'", f.display()),
            ])?,
            None => self.run(&["pipe-pane", "-t", target])?,
        };
        Ok(())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

/// The command line that runs the console with its HOME, XDG dirs and log
/// inside `root`, and nothing else from this environment.
pub fn console_command(bin: &Path, root: &Path, server: Option<&str>) -> String {
    let r = root.display();
    let server = server.map(|s| format!(" --server {s}")).unwrap_or_default();
    format!(
        "exec env -i PATH=\"$PATH\" TERM=xterm-256color HOME={r} XDG_CONFIG_HOME={r}/config \
         XDG_DATA_HOME={r}/data SWITCHBOARD_LOG_DIR={r}/log {}{server}",
        bin.display()
    )
}

/// The console's log file under `root` (see [`console_command`]): today's.
pub fn console_log(root: &Path) -> PathBuf {
    crate::commands::logging::current_file(&root.join("log"))
}

/// CPU time (user + system) a process has used, from /proc.
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // After the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("unexpected /proc/{pid}/stat"))
    };
    // Field n (1-based, see proc(5)) is at n - 3 once pid and comm are cut off.
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_millis(total * 1000 / clock_ticks()))
}

fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .filter(|t| *t > 0)
        .unwrap_or(100)
}

/// Resident and peak resident set size in KiB, from /proc.
pub fn rss_kib(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}
