//! Memory of a remote console: the real binary (client and app state) in
//! tmux, signed in to a platform in this process, opening the Leads pane of
//! a small and of a large tenant and paging through it; RSS from /proc.

use std::path::Path;
use std::time::Duration;

use super::platform::Platform;
use super::process::{current_binary, ensure_dir};
use super::target::tempfile_dir;
use super::tmux::{console_command, rss_kib, Tmux};

pub struct Options {
    /// Leads in the large tenant.
    pub leads: usize,
    /// Leads in the small tenant.
    pub small: usize,
    /// PageDown presses on the Leads pane.
    pub pages: usize,
}

struct Row {
    name: String,
    leads: usize,
    /// The pane title after browsing, e.g. `Leads (2400+)`.
    loaded: String,
    rss_kib: u64,
    peak_kib: u64,
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let work = tempfile_dir()?;
    let result = run_in(&work, &opts).await;
    std::fs::remove_dir_all(&work).ok();
    let rows = result?;
    println!(
        "memory benchmark: remote console (real binary in tmux, 200x50) on the Leads pane after {} PageDown",
        opts.pages
    );
    println!(
        "{:<8} {:>10} {:>16} {:>10} {:>10}",
        "tenant", "leads", "loaded in pane", "RSS MiB", "peak MiB"
    );
    for r in &rows {
        println!(
            "{:<8} {:>10} {:>16} {:>10.1} {:>10.1}",
            r.name,
            r.leads,
            r.loaded,
            r.rss_kib as f64 / 1024.0,
            r.peak_kib as f64 / 1024.0
        );
    }
    if let [small, large] = &rows[..] {
        let ratio = large.rss_kib as f64 / small.rss_kib.max(1) as f64;
        println!(
            "memory: {:.1} MiB RSS browsing {} leads, {:.2}x the {}-lead tenant (target <= 50 MB, flat)",
            large.rss_kib as f64 / 1024.0,
            large.leads,
            ratio,
            small.leads
        );
    }
    Ok(())
}

async fn run_in(work: &Path, opts: &Options) -> anyhow::Result<Vec<Row>> {
    let platform = Platform::start().await?;
    let result = async {
        let small = platform.tenant_with_leads("Small", opts.small).await?;
        let large = platform.tenant_with_leads("Large", opts.leads).await?;
        let tmux = Tmux::new("memory")?;
        let mut rows = Vec::new();
        for (tenant, leads) in [(small, opts.small), (large, opts.leads)] {
            let root = work.join(&tenant.slug);
            ensure_dir(&root)?;
            platform.save_session(&root)?;
            let name = tenant.name.to_lowercase();
            let command = console_command(&current_binary()?, &root, Some(&platform.url));
            tmux.session(&name, 200, 50, &command)?;
            let wait = Duration::from_secs(60);
            tmux.wait_for(&name, "Large", wait)?;
            tmux.keys(&name, &[":", &format!("tenant {}", tenant.slug), "Enter"])?;
            tmux.wait_for(&name, &format!("tenant: {}", tenant.name), wait)?;
            tmux.keys(&name, &["2"])?;
            tmux.wait_for(&name, "Lead number", wait)?;
            for _ in 0..opts.pages {
                tmux.keys(&name, &["PageDown"])?;
                std::thread::sleep(Duration::from_millis(20));
            }
            // Let the last pages arrive and the frame settle.
            std::thread::sleep(Duration::from_secs(2));
            let screen = tmux.capture(&name)?;
            let loaded = screen
                .split("Leads (")
                .nth(1)
                .and_then(|s| s.split(')').next())
                .unwrap_or("?")
                .to_string();
            let pid = tmux.pane_pid(&name)?;
            let (rss_kib, peak_kib) = rss_kib(pid)?;
            tmux.keys(&name, &["q"])?;
            rows.push(Row {
                name: tenant.name.to_lowercase(),
                leads,
                loaded,
                rss_kib,
                peak_kib,
            });
        }
        anyhow::Ok(rows)
    }
    .await;
    platform.stop().await?;
    result
}
