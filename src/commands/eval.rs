//! `switchboard eval run`: runs an eval set against an agent's version (and
//! optionally another to compare with) on the signed-in server, or on the
//! embedded platform when no server is configured; prints the table and
//! gates on the pass rate (exit 6), so a team's CI can refuse a prompt
//! change that answers worse.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::Context;

use super::context::Target;
use super::exit::{self, Code};
use crate::api::Client;
use crate::config::Config;
use crate::console::sanitize::cleaned;
use crate::domain::eval::{EvalResult, EvalRunDetail, EvalRunStatus, NewEvalRun};
use crate::domain::text::one_line;
use crate::embedded;

/// What `eval run` was asked.
#[derive(Debug, Clone)]
pub struct EvalRunArgs {
    pub tenant: String,
    pub set: String,
    pub agent: String,
    pub version: Option<u32>,
    pub against: Option<u32>,
    /// The lowest acceptable pass rate, from 0 to 1.
    pub min_pass: Option<f64>,
}

/// Reads `--min-pass`: a fraction (`0.8`) or a percentage (`80%`).
pub fn parse_min_pass(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let (number, percent) = match s.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (s, false),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a pass rate; write 0.8 or 80%"))?;
    let rate = if percent { value / 100.0 } else { value };
    if !(0.0..=1.0).contains(&rate) || (!percent && value > 1.0) {
        return Err(format!(
            "{s:?} is not a pass rate between 0 and 1 (or 0% and 100%)"
        ));
    }
    Ok(rate)
}

/// How often the run is polled while it runs.
const POLL: Duration = Duration::from_millis(500);

pub async fn run(config: &Config, args: EvalRunArgs) -> anyhow::Result<()> {
    // The server of this run's context (`--context`, `--server`, the
    // current one), as the console picks it.
    let creds = super::context::load(config)?;
    match super::context::resolve(config, &creds)? {
        Target::Remote {
            server,
            token: Some(token),
            ..
        } => {
            let client =
                Client::new_trusting(&server, config.ca_file.as_deref())?.with_token(token);
            run_on(&client, &args).await
        }
        target @ Target::Remote { .. } => Err(super::context::not_signed_in(&target)),
        Target::Local => {
            embedded::providers(config).map_err(|e| exit::with(Code::Config, e))?;
            let platform = embedded::start(config).await?;
            let client = Client::new(&platform.url())?.with_token(platform.token.clone());
            let result = run_on(&client, &args).await;
            platform.stop().await?;
            result
        }
    }
}

async fn run_on(client: &Client, args: &EvalRunArgs) -> anyhow::Result<()> {
    let t = &args.tenant;
    let sets = client
        .eval_sets(t)
        .await
        .context("cannot list the eval sets")?;
    let set = sets
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(args.set.trim()))
        .with_context(|| {
            let names: Vec<String> = sets.iter().map(|s| cleaned(&s.name)).collect();
            format!(
                "{t} has no eval set named {:?}; its sets: {}",
                args.set,
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            )
        })?;
    let agents = client
        .list_agents(t)
        .await
        .context("cannot list the agents")?;
    let mut named: Vec<_> = agents
        .iter()
        .filter(|a| a.name.eq_ignore_ascii_case(args.agent.trim()))
        .collect();
    // A copy made with "use as template" keeps the library agent's name:
    // the tenant's own agent is the one meant.
    if named.iter().filter(|a| !a.read_only).count() == 1 {
        named.retain(|a| !a.read_only);
    }
    let agent = match named.as_slice() {
        [one] => *one,
        [] => anyhow::bail!(
            "{t} has no agent named {:?}; its agents: {}",
            args.agent,
            agents
                .iter()
                .map(|a| cleaned(&a.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => anyhow::bail!(
            "{} agents are named {:?} in {t} (shared ones among them); rename one",
            named.len(),
            args.agent
        ),
    };
    let new = NewEvalRun {
        agent_id: agent.id,
        version: args.version,
        against: args.against,
    };
    let started = client
        .start_eval_run(t, set.id, &new)
        .await
        .context("the eval run was not started")?;
    let detail = follow(client, t, set.id, started.id).await?;
    print!("{}", table(&detail));
    let run = &detail.run;
    if run.status != EvalRunStatus::Completed {
        anyhow::bail!(
            "the run ended {}: {}",
            run.status.as_str(),
            run.error.as_deref().map(cleaned).unwrap_or_default()
        );
    }
    gate(&detail, args.min_pass)
}

/// Polls the run until it ends, showing progress on a terminal; Ctrl-C
/// cancels it on the server.
async fn follow(
    client: &Client,
    tenant: &str,
    set: uuid::Uuid,
    run: uuid::Uuid,
) -> anyhow::Result<EvalRunDetail> {
    let terminal = std::io::stderr().is_terminal();
    loop {
        let detail = client.eval_run(tenant, set, run).await?;
        let p = detail.run.progress;
        if terminal {
            eprint!("\r{} of {} case results…", p.done, p.total);
            let _ = std::io::stderr().flush();
        }
        if detail.run.status.is_finished() {
            if terminal {
                eprintln!();
            }
            return Ok(detail);
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = tokio::signal::ctrl_c() => {
                client.cancel_eval_run(tenant, set, run).await?;
                anyhow::bail!("cancelled: the run stopped on the server (its results so far are kept)");
            }
        }
    }
}

/// One lane's cell for a case: pass, or what failed.
fn cell(result: Option<&EvalResult>) -> String {
    let Some(r) = result else {
        return "-".into();
    };
    if let Some(e) = &r.error {
        return format!("ERROR {}", one_line(e, 40));
    }
    match r.checks.iter().find(|c| !c.passed) {
        None => "pass".into(),
        Some(c) => format!("FAIL {}", one_line(&cleaned(&c.detail), 40)),
    }
}

/// The run as a table: a row per case, a column per version, the pass
/// rates, and the cases whose outcome differs.
pub fn table(detail: &EvalRunDetail) -> String {
    let run = &detail.run;
    let mut out = format!(
        "eval {:?} · agent {} · run {}\n",
        cleaned(&run.set_name),
        cleaned(&run.agent_name),
        run.id
    );
    let header: Vec<String> = run
        .lanes
        .iter()
        .map(|l| format!("v{} ({})", l.version, cleaned(&l.model)))
        .collect();
    out.push_str(&format!("{:>4}  {:<40}", "#", "message"));
    for h in &header {
        out.push_str(&format!("  {:<48}", one_line(h, 48)));
    }
    out.push('\n');
    let mut positions: Vec<(u32, uuid::Uuid, String)> = Vec::new();
    for r in &detail.results {
        if !positions.iter().any(|(_, id, _)| *id == r.case_id) {
            positions.push((r.case.position, r.case_id, r.case.message.clone()));
        }
    }
    positions.sort();
    for (position, case, message) in &positions {
        out.push_str(&format!(
            "{position:>4}  {:<40}",
            one_line(&cleaned(message), 40)
        ));
        for lane in 0..run.lanes.len() {
            let result = detail
                .results
                .iter()
                .find(|r| r.case_id == *case && usize::from(r.lane) == lane);
            out.push_str(&format!("  {:<48}", cell(result)));
        }
        out.push('\n');
    }
    out.push_str(&format!("{:>4}  {:<40}", "", "pass rate"));
    for s in &run.summary {
        let rate = format!("{}/{} ({:.0}%)", s.passed, s.cases, s.pass_rate * 100.0);
        out.push_str(&format!("  {rate:<48}"));
    }
    out.push('\n');
    if run.lanes.len() > 1 {
        let numbers: Vec<String> = positions
            .iter()
            .filter(|(_, id, _)| detail.differing.contains(id))
            .map(|(p, _, _)| format!("#{p}"))
            .collect();
        out.push_str(&format!(
            "{} case(s) differ between v{} and v{}{}\n",
            numbers.len(),
            run.lanes[0].version,
            run.lanes[1].version,
            if numbers.is_empty() {
                String::new()
            } else {
                format!(": {}", numbers.join(", "))
            }
        ));
    }
    out
}

/// Exit 6 when the first version's pass rate is below `min_pass`, or below
/// the version it was compared against.
fn gate(detail: &EvalRunDetail, min_pass: Option<f64>) -> anyhow::Result<()> {
    let summary = &detail.run.summary;
    let Some(first) = summary.first() else {
        return Ok(());
    };
    let pct = |r: f64| format!("{:.0}%", r * 100.0);
    if let Some(min) = min_pass {
        if first.pass_rate < min {
            return Err(exit::with(
                Code::EvalBelow,
                anyhow::anyhow!(
                    "v{} passes {} of the cases, below --min-pass {}",
                    first.version,
                    pct(first.pass_rate),
                    pct(min)
                ),
            ));
        }
    }
    if let Some(other) = summary.get(1) {
        if first.pass_rate < other.pass_rate {
            return Err(exit::with(
                Code::EvalBelow,
                anyhow::anyhow!(
                    "v{} passes {} of the cases, below v{}'s {}",
                    first.version,
                    pct(first.pass_rate),
                    other.version,
                    pct(other.pass_rate)
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_rate_is_a_fraction_or_a_percentage() {
        assert_eq!(parse_min_pass("0.8"), Ok(0.8));
        assert_eq!(parse_min_pass("80%"), Ok(0.8));
        assert_eq!(parse_min_pass("1"), Ok(1.0));
        assert!(parse_min_pass("80").is_err(), "80 is neither");
        assert!(parse_min_pass("-0.1").is_err());
        assert!(parse_min_pass("lots").is_err());
    }
}
