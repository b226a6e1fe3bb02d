//! `switchboard migrate`: brings a database's schema up to date. On
//! PostgreSQL this runs as the URL's user, who owns the schema, and prepares
//! the application role `serve` connects as.

use crate::commands::serve::redact;
use crate::config::Config;
use crate::store;

pub async fn run(config: &Config) -> anyhow::Result<()> {
    // What migrating did (e.g. where a backup went) is logged.
    super::logging::to_stderr(config);
    let url = &config.database_url;
    if store::is_postgres(url) {
        store::postgres::migrate(url).await?;
        println!(
            "migrated {}; serve with --database-url postgres://{}@HOST/DB",
            redact(url),
            store::postgres::APP_ROLE
        );
    } else {
        if url.starts_with("sqlite:") {
            std::fs::create_dir_all(&config.dirs.data).ok();
        }
        // SQLite migrates on open.
        store::open(url).await?;
        println!("migrated {}", redact(url));
    }
    Ok(())
}
