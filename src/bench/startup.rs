//! Console start-up: from starting the real binary (in tmux, with the
//! embedded platform) to its first frame on the terminal, read from the
//! `first frame` line the console logs right after flushing that frame.
//! Fresh data dirs (first run: database created, onboarding) and the same
//! dirs again (a later start).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::process::{current_binary, ensure_dir};
use super::target::tempfile_dir;
use super::tmux::{console_command, console_log, Tmux};

pub struct Options {
    pub runs: usize,
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let work = tempfile_dir()?;
    let result = measure_all(&work, &opts);
    std::fs::remove_dir_all(&work).ok();
    let (mut fresh, mut again) = result?;
    fresh.sort_by(f64::total_cmp);
    again.sort_by(f64::total_cmp);
    println!(
        "startup benchmark: process start to first frame, embedded platform, {} runs (tmux, 100x30)",
        opts.runs
    );
    println!(
        "{:<28} {:>10} {:>10} {:>10}",
        "data dir", "median ms", "min ms", "max ms"
    );
    for (label, v) in [
        ("fresh (first run)", &fresh),
        ("existing (later start)", &again),
    ] {
        println!(
            "{:<28} {:>10.1} {:>10.1} {:>10.1}",
            label,
            super::percentile(v, 0.5),
            v.first().copied().unwrap_or(0.0),
            v.last().copied().unwrap_or(0.0)
        );
    }
    println!(
        "startup: {:.1} ms median to the first frame (fresh data dir)",
        super::percentile(&fresh, 0.5)
    );
    Ok(())
}

fn measure_all(work: &Path, opts: &Options) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let bin = current_binary()?;
    let tmux = Tmux::new("startup")?;
    // One tmux server for every run, so its own start is not timed.
    tmux.session("keep", 100, 30, "sleep 100000")?;
    let (mut fresh, mut again) = (Vec::new(), Vec::new());
    for i in 0..opts.runs {
        let root = work.join(format!("run-{i}"));
        ensure_dir(&root)?;
        fresh.push(once(&tmux, &bin, &root, &format!("f{i}"))?);
        again.push(once(&tmux, &bin, &root, &format!("a{i}"))?);
    }
    Ok((fresh, again))
}

/// One start: milliseconds from spawning to the logged first frame.
fn once(tmux: &Tmux, bin: &Path, root: &Path, name: &str) -> anyhow::Result<f64> {
    let log = console_log(root);
    // The log is appended to across starts; only a new line counts.
    let seen = count_first_frames(&log);
    let started = SystemTime::now();
    tmux.window("keep", name, &console_command(bin, root, None))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let stamp = loop {
        if let Some(stamp) = first_frame_after(&log, seen)? {
            break stamp;
        }
        if Instant::now() > deadline {
            anyhow::bail!("no `first frame` in {} after 60 s", log.display());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let target = format!("keep:{name}");
    let pid = tmux.pane_pid(&target)?;
    tmux.kill_window(&target);
    // The next start on this data dir waits until this one is gone.
    let gone = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(20));
    }
    let started: DateTime<Utc> = started.into();
    Ok((stamp - started).num_microseconds().unwrap_or(0) as f64 / 1000.0)
}

fn count_first_frames(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .map(|t| t.lines().filter(|l| l.contains("first frame")).count())
        .unwrap_or(0)
}

/// The timestamp of the `first frame` line after the `seen` earlier ones.
fn first_frame_after(log: &Path, seen: usize) -> anyhow::Result<Option<DateTime<Utc>>> {
    let Ok(text) = std::fs::read_to_string(log) else {
        return Ok(None);
    };
    let Some(line) = text.lines().filter(|l| l.contains("first frame")).nth(seen) else {
        return Ok(None);
    };
    let stamp = line.split_whitespace().next().unwrap_or("");
    let stamp = DateTime::parse_from_rfc3339(stamp)
        .with_context(|| format!("unexpected log line {line:?}"))?;
    Ok(Some(stamp.with_timezone(&Utc)))
}
