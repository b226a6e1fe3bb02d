//! `switchboard bench …`: benchmarks that print figures (hidden from the
//! user's help; `.ci/run` smoke-runs each). The arguments and which
//! benchmark runs; the benchmarks themselves live in `crate::bench`.

use clap::Subcommand;

use crate::bench;
use crate::config::Config;
use crate::llm::fetch::model_path;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Leads/s through HTTP ingest vs raw insert transactions into the same store.
    Ingest {
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Leads in total.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// Run on PostgreSQL: a URL of a role that may create databases
        /// (a fresh one is made and dropped). Default: a temp SQLite file.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Frame time and bytes per keystroke of the Leads pane, 100 vs 100k leads;
    /// bytes and CPU of the real console while idle.
    Render {
        /// Leads loaded in the large run.
        #[arg(long, default_value_t = 100_000)]
        leads: usize,
        /// Frames drawn per measurement.
        #[arg(long, default_value_t = 300)]
        frames: usize,
        /// Seconds of each idle period of the real console (0 skips it).
        #[arg(long, default_value_t = 60)]
        idle_secs: u64,
    },
    /// Process start to first frame of the console with the embedded platform.
    Startup {
        /// Starts measured (each with a fresh and with the same data dir).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// RSS of a remote console browsing a large vs a small tenant.
    Memory {
        /// Leads in the large tenant.
        #[arg(long, default_value_t = 100_000)]
        leads: usize,
        /// Leads in the small tenant.
        #[arg(long, default_value_t = 100)]
        small: usize,
        /// PageDown presses on the Leads pane.
        #[arg(long, default_value_t = 100)]
        pages: usize,
    },
    /// Overdue queue and filtered page latency at 10k and at N leads.
    Queue {
        /// Leads in the large run.
        #[arg(long, default_value_t = 1_000_000)]
        leads: usize,
        /// Tenants the leads are spread over.
        #[arg(long, default_value_t = 1000)]
        tenants: usize,
        /// Queries of each kind.
        #[arg(long, default_value_t = 500)]
        queries: usize,
        /// Run on PostgreSQL (a role that may create databases; a fresh
        /// database per size, dropped after). Default: a temp SQLite file.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Ingest 2xx to SSE event latency, one server and (PostgreSQL) across two.
    Events {
        /// Measured ingests.
        #[arg(long, default_value_t = 1000)]
        samples: usize,
        /// Pause between ingests in milliseconds.
        #[arg(long, default_value_t = 5)]
        pause_ms: u64,
        /// Run on PostgreSQL (a role that may create databases); default SQLite.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Fault harness: kill -9 `serve` mid-ingest, restart, retry; asserts
    /// every acknowledged lead is stored exactly once.
    Crash {
        /// Ingest requests in total.
        #[arg(long, default_value_t = 10_000)]
        requests: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Kill the server once this share of requests was acknowledged.
        #[arg(long, default_value_t = 0.5)]
        kill_at: f64,
        /// Run on PostgreSQL (a role that may create databases); default SQLite.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Load time, prompt and generation speed, and TTFT of the embedded model.
    LocalModel {
        /// Generations per prompt.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Upper bound on generated tokens per run.
        #[arg(long, default_value_t = 128)]
        max_tokens: u32,
    },
    /// Qualification over the labelled lead messages in assets/: agreement
    /// with a person's category, precision/recall, confusion matrix.
    Qualify {
        /// `provider/model` (default the embedded model).
        #[arg(long, default_value = "local/smollm2-135m")]
        model: String,
        /// Generate the answer and parse it (how it was done before scoring).
        #[arg(long, conflicts_with = "uncalibrated")]
        generate: bool,
        /// Score without the content-free calibration.
        #[arg(long)]
        uncalibrated: bool,
        /// Only the first N messages (0: all).
        #[arg(long, default_value_t = 0)]
        limit: usize,
        /// Print each message's answer.
        #[arg(long)]
        verbose: bool,
    },
    /// Workflow throughput on the embedded model: leads/min from ingest to
    /// drafts awaiting approval.
    Workflows {
        /// Leads ingested into an active workspace.
        #[arg(long, default_value_t = 12)]
        leads: usize,
        /// Workflow workers.
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
    /// Playground relay overhead: time to first token through Switchboard
    /// vs calling the provider directly; and the local model through the
    /// playground when its weights are installed.
    Relay {
        /// Replies measured each way.
        #[arg(long, default_value_t = 200)]
        replies: usize,
        /// Tokens per upstream reply.
        #[arg(long, default_value_t = 20)]
        tokens: usize,
    },
}

/// Runs one benchmark.
pub async fn run(config: &Config, command: BenchCommand) -> anyhow::Result<()> {
    let local_model = || {
        config
            .llm
            .local
            .model_path
            .clone()
            .unwrap_or_else(|| model_path(&config.dirs.data))
    };
    match command {
        BenchCommand::Render {
            leads,
            frames,
            idle_secs,
        } => bench::render::run(leads.max(1), frames.max(1), idle_secs).await,
        BenchCommand::Startup { runs } => {
            bench::startup::run(bench::startup::Options { runs: runs.max(1) }).await
        }
        BenchCommand::Memory {
            leads,
            small,
            pages,
        } => {
            bench::memory::run(bench::memory::Options {
                leads: leads.max(1),
                small: small.max(1),
                pages,
            })
            .await
        }
        BenchCommand::Queue {
            leads,
            tenants,
            queries,
            database_url,
        } => {
            let opts = bench::queue::Options {
                leads: leads.max(10_000),
                tenants: tenants.max(1),
                queries: queries.max(1),
            };
            bench::queue::run_on(opts, database_url).await
        }
        BenchCommand::Ingest {
            clients,
            requests,
            database_url,
        } => {
            bench::ingest::run(bench::ingest::Options {
                clients: clients.max(1),
                requests: requests.max(1),
                database_url,
            })
            .await
        }
        BenchCommand::Workflows { leads, workers } => {
            bench::workflows::run(bench::workflows::Options {
                leads: leads.max(1),
                workers: workers.max(1),
                model_path: local_model(),
            })
            .await
        }
        BenchCommand::Events {
            samples,
            pause_ms,
            database_url,
        } => {
            bench::events::run(bench::events::Options {
                samples: samples.max(1),
                pause_ms,
                database_url,
            })
            .await
        }
        BenchCommand::Relay { replies, tokens } => {
            let model = local_model();
            let local_model = model.is_file().then_some(model);
            if local_model.is_none() {
                println!(
                    "(the local model is not installed: its playground figures are left out; \
                     `switchboard model fetch` adds them)"
                );
            }
            bench::relay::run(bench::relay::Options {
                replies: replies.max(1),
                tokens: tokens.max(1),
                local_model,
            })
            .await
        }
        BenchCommand::Crash {
            requests,
            clients,
            kill_at,
            database_url,
        } => {
            let work = bench::target::tempfile_dir()?;
            let result = bench::crash::run(bench::crash::Options {
                requests: requests.max(1),
                clients: clients.max(1),
                kill_at: kill_at.clamp(0.0, 1.0),
                database_url,
                bin: bench::process::current_binary()?,
                work_dir: work.clone(),
            })
            .await;
            std::fs::remove_dir_all(&work).ok();
            result
        }
        BenchCommand::Qualify {
            model,
            generate,
            uncalibrated,
            limit,
            verbose,
        } => {
            use crate::llm::qualify::Method;
            let method = match (generate, uncalibrated) {
                (true, _) => Method::Generate,
                (false, true) => Method::ScoreUncalibrated,
                (false, false) => Method::Score,
            };
            let opts = bench::qualify::Options {
                model,
                method,
                limit,
                verbose,
            };
            bench::qualify::run(config, opts).await
        }
        BenchCommand::LocalModel { runs, max_tokens } => {
            bench::local_model::run(
                config,
                bench::local_model::Options {
                    runs: runs.max(1),
                    max_tokens: max_tokens.max(1),
                },
            )
            .await
        }
    }
}
