//! An idle console: bytes the real binary writes to its terminal and the
//! CPU time it uses while nothing happens, with its live-event (SSE)
//! connection open. A remote console in tmux, signed in to a platform in
//! this process, so the CPU time is the console's alone.

use std::path::Path;
use std::time::Duration;

use super::platform::Platform;
use super::process::{current_binary, ensure_dir};
use super::target::tempfile_dir;
use super::tmux::{console_command, cpu_time, Tmux};

pub struct Figures {
    pub pane: &'static str,
    pub bytes: u64,
    pub cpu: Duration,
    /// Bytes of opening the help overlay right after the idle period: proof
    /// the count is live.
    pub check_bytes: u64,
}

/// Measures `secs` seconds idle on the Tenants pane, then on the Leads pane
/// (30 leads whose SLA countdowns tick in minutes).
pub async fn measure(secs: u64) -> anyhow::Result<Vec<Figures>> {
    let work = tempfile_dir()?;
    let result = measure_in(&work, secs).await;
    std::fs::remove_dir_all(&work).ok();
    result
}

async fn measure_in(work: &Path, secs: u64) -> anyhow::Result<Vec<Figures>> {
    let platform = Platform::start().await?;
    let result = async {
        // Bulk-loaded leads have had their SLA alerts: none arrives as a toast
        // in the middle of the idle period (imported samples would).
        let tenant = platform.tenant_with_leads("Idle", 30).await?;
        let root = work.join("console");
        ensure_dir(&root)?;
        platform.save_session(&root)?;
        let tmux = Tmux::new("idle")?;
        let s = "idle";
        tmux.session(
            s,
            200,
            50,
            &console_command(&current_binary()?, &root, Some(&platform.url)),
        )?;
        let wait = Duration::from_secs(60);
        tmux.wait_for(s, "Idle", wait)?;
        // The current tenant: its event stream opens.
        tmux.keys(s, &[":", &format!("tenant {}", tenant.slug), "Enter"])?;
        tmux.wait_for(s, "tenant: Idle", wait)?;
        // The "Switched to" toast fades after 4 s; idleness starts after it.
        tmux.wait_gone(s, "Switched to Idle", Duration::from_secs(10))?;
        let pid = tmux.pane_pid(s)?;
        let mut out = Vec::new();
        out.push(idle_period(&tmux, s, pid, work, "Tenants", secs)?);
        tmux.keys(s, &["2"])?;
        tmux.wait_for(s, "Leads (", wait)?;
        out.push(idle_period(
            &tmux,
            s,
            pid,
            work,
            "Leads (30 SLA clocks)",
            secs,
        )?);
        tmux.keys(s, &["q"])?;
        anyhow::Ok(out)
    }
    .await;
    platform.stop().await?;
    result
}

fn idle_period(
    tmux: &Tmux,
    target: &str,
    pid: u32,
    work: &Path,
    pane: &'static str,
    secs: u64,
) -> anyhow::Result<Figures> {
    // Toasts fade after 4 s (several may be stacked); let them and the last
    // replies go, so only idleness is measured.
    std::thread::sleep(Duration::from_secs(6));
    let file = work.join(format!("pipe-{}.bin", pane.len()));
    tmux.pipe(target, Some(&file))?;
    let cpu_before = cpu_time(pid)?;
    std::thread::sleep(Duration::from_secs(secs));
    let cpu = cpu_time(pid)?.saturating_sub(cpu_before);
    let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let bytes = size();
    if bytes > 0 {
        // Say what broke the silence: the text between the escape codes.
        let written = std::fs::read(&file).unwrap_or_default();
        let shown: String =
            String::from_utf8_lossy(&written[..(bytes as usize).min(written.len())])
                .split('\x1b')
                .filter_map(|part| {
                    part.split_once(|c: char| c.is_ascii_alphabetic())
                        .map(|(_, t)| t)
                })
                .filter(|t| !t.trim().is_empty())
                .collect::<Vec<_>>()
                .join("|");
        eprintln!(
            "idle on {pane}: {bytes} bytes, text written: {:.300}",
            shown
        );
    }
    tmux.keys(target, &["?"])?;
    // pipe-pane's `cat` may still be writing what it read.
    std::thread::sleep(Duration::from_millis(500));
    tmux.pipe(target, None)?;
    tmux.keys(target, &["Escape"])?;
    let check_bytes = size() - bytes;
    if check_bytes == 0 {
        anyhow::bail!(
            "the help overlay on the {pane} pane wrote nothing: the byte count is not live"
        );
    }
    Ok(Figures {
        pane,
        bytes,
        cpu,
        check_bytes,
    })
}
