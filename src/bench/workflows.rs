//! Workflow throughput on the embedded model: leads ingested into an active
//! workspace, timed until every draft awaits approval; leads/min and the
//! step durations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::harness::BenchServer;
use super::percentile;
use crate::domain::{
    Channel, LeadInput, NewAgent, NewApiKey, NewTenant, NewWorkspace, StepKind, Tier,
    WorkflowStatus,
};
use crate::llm::local::LocalProvider;
use crate::llm::Providers;
use crate::server::ServerSettings;
use crate::store;

pub struct Options {
    pub leads: usize,
    pub workers: usize,
    pub model_path: std::path::PathBuf,
}

/// Sample enquiries and the category a person would give each.
const MESSAGES: [(&str, &str); 4] = [
    (
        "hot",
        "Hi, could you send me a quote for 40 oak chairs delivered by Friday?",
    ),
    (
        "support",
        "My order #4411 arrived damaged, who do I talk to?",
    ),
    (
        "warm",
        "Do you have any availability for a consultation next week? Budget is flexible.",
    ),
    ("cold", "Just browsing, maybe next year."),
];

pub async fn run(opts: Options) -> anyhow::Result<()> {
    if !opts.model_path.is_file() {
        anyhow::bail!(
            "the local model is not installed at {}; run `switchboard model fetch` first",
            opts.model_path.display()
        );
    }
    let dir = super::ingest::tempfile_dir()?.join("workflows");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let url = format!("sqlite://{}", dir.join("workflows.db").display());
    let mut providers = Providers::default();
    providers.insert(Arc::new(LocalProvider::new(opts.model_path.clone())));
    let settings = ServerSettings {
        workflow_workers: opts.workers,
        ingest_per_minute: 100_000,
        ingest_burst: 10_000,
        // Measures the store, not the per-tenant limits.
        tenant_rate_limits: false,
        ..ServerSettings::default()
    };
    let server = BenchServer::start(store::open(&url).await?, settings, providers).await?;
    let admin = &server.admin;
    let tenant = admin
        .create_tenant(&NewTenant {
            name: "Workflow Bench".into(),
            tier: Some(Tier::Enterprise),
            ..Default::default()
        })
        .await?;
    let slug = &tenant.slug;
    let agent = admin
        .create_agent(
            slug,
            &NewAgent {
                name: "Front desk".into(),
                system_prompt: "You answer inbound leads for a furniture shop, briefly and warmly."
                    .into(),
                model: "local/smollm2-135m".into(),
                temperature: Some(0.0),
                max_tokens: Some(80),
                ..Default::default()
            },
        )
        .await?;
    let ws = admin
        .create_workspace(
            slug,
            &NewWorkspace {
                name: "Website".into(),
                channel: Channel::WebForm,
                agent_id: Some(agent.id),
                strategy_active: true,
            },
        )
        .await?;
    let key = admin
        .create_api_key(
            slug,
            &NewApiKey {
                name: "bench".into(),
                scope: None,
                workspace_id: Some(ws.id),
            },
        )
        .await?
        .key;

    let started = Instant::now();
    let mut expected = std::collections::HashMap::new();
    for i in 0..opts.leads {
        let (category, message) = MESSAGES[i % MESSAGES.len()];
        let lead = LeadInput {
            name: format!("Bench Lead {i}"),
            email: Some(format!("lead{i}@example.com")),
            message: message.into(),
            ..Default::default()
        };
        let id = admin.ingest_lead(&key, &lead, None).await?.id;
        expected.insert(id, (category, message));
    }
    let done = loop {
        let all = admin.workflows(slug, None, None).await?;
        let finished = all
            .iter()
            .filter(|w| !matches!(w.status, WorkflowStatus::Queued | WorkflowStatus::Running))
            .count();
        if finished >= opts.leads {
            break all;
        }
        if started.elapsed() > Duration::from_secs(1800) {
            anyhow::bail!(
                "only {finished} of {} workflows finished in 30 min",
                opts.leads
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let elapsed = started.elapsed().as_secs_f64();
    let awaiting = done
        .iter()
        .filter(|w| w.status == WorkflowStatus::AwaitingApproval)
        .count();
    let qualified = done.iter().filter(|w| w.qualification.is_some()).count();
    let step_ms = |kind: StepKind| {
        let mut v: Vec<f64> = done
            .iter()
            .flat_map(|w| w.steps.iter())
            .filter(|s| s.kind == kind)
            .map(|s| s.duration_ms as f64)
            .collect();
        v.sort_by(f64::total_cmp);
        (percentile(&v, 0.5), percentile(&v, 0.99))
    };
    let (q50, q99) = step_ms(StepKind::Qualify);
    let (d50, d99) = step_ms(StepKind::Draft);
    // How often the model's category is the one a person would give.
    let agreed = done
        .iter()
        .filter(|w| {
            let want = expected.get(&w.lead_id).map(|e| e.0);
            w.qualification.as_ref().map(|q| q.category.as_str()) == want
        })
        .count();
    let examples: Vec<String> = done
        .iter()
        .take(MESSAGES.len())
        .map(|w| {
            let message = expected.get(&w.lead_id).map_or("?", |e| e.1);
            let answer = w
                .steps
                .iter()
                .find(|s| s.kind == StepKind::Qualify)
                .map_or(String::new(), |s| s.output.replace('\n', " / "));
            format!("{message:?} -> {answer:?}")
        })
        .collect();
    server.stop().await?;
    std::fs::remove_dir_all(&dir).ok();

    println!(
        "workflow benchmark: {} leads, {} workers, local/smollm2-135m",
        opts.leads, opts.workers
    );
    println!("{:<26} {:>10} {:>10}", "step", "p50 ms", "p99 ms");
    println!("{:<26} {:>10.0} {:>10.0}", "qualify", q50, q99);
    println!("{:<26} {:>10.0} {:>10.0}", "draft", d50, d99);
    println!(
        "awaiting approval {awaiting}/{}, qualification read {qualified}/{}, {elapsed:.1} s in all",
        opts.leads, opts.leads
    );
    println!(
        "category as a person would give it: {agreed}/{}",
        opts.leads
    );
    for e in &examples {
        println!("qualify: {e}");
    }
    println!(
        "workflow throughput: {:.1} leads/min",
        opts.leads as f64 * 60.0 / elapsed
    );
    Ok(())
}
