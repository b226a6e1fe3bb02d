//! Where a benchmark or harness runs: a fresh SQLite file in a temp dir, or
//! a fresh PostgreSQL database (migrated as the given role, served as the
//! application role, dropped afterwards).

use std::time::Instant;

use anyhow::Context;

use crate::store;

/// Where the bench runs: a temp SQLite file, or a fresh PostgreSQL database
/// migrated as the given user and served as the application role.
pub enum Target {
    Sqlite {
        dir: std::path::PathBuf,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        owner_url: String,
        app_url: String,
    },
}

impl Target {
    pub async fn create(database_url: Option<&str>) -> anyhow::Result<Target> {
        let Some(admin_url) = database_url.filter(|u| store::is_postgres(u)) else {
            let dir = tempfile_dir()?;
            let url = format!("sqlite://{}", dir.join("bench.db").display());
            return Ok(Target::Sqlite { dir, url });
        };
        let name = format!("sb_bench_{}", uuid::Uuid::new_v4().simple());
        let admin = store::postgres::pool(admin_url, 1).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .context("cannot create the bench database")?;
        admin.close().await;
        let with = |user: Option<&str>| -> anyhow::Result<String> {
            let mut u = reqwest::Url::parse(admin_url).context("invalid database URL")?;
            u.set_path(&format!("/{name}"));
            if let Some(user) = user {
                u.set_username(user)
                    .map_err(|()| anyhow::anyhow!("cannot set the user of {admin_url}"))?;
                u.set_password(None)
                    .map_err(|()| anyhow::anyhow!("cannot clear the password of {admin_url}"))?;
            }
            Ok(u.to_string())
        };
        let owner_url = with(None)?;
        store::postgres::migrate(&owner_url).await?;
        Ok(Target::Postgres {
            app_url: with(Some(store::postgres::APP_ROLE))?,
            owner_url,
            admin_url: admin_url.to_string(),
            name,
        })
    }

    pub fn serve_url(&self) -> &str {
        match self {
            Target::Sqlite { url, .. } => url,
            Target::Postgres { app_url, .. } => app_url,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Target::Sqlite { .. } => "SQLite (WAL, synchronous=FULL)",
            Target::Postgres { .. } => "PostgreSQL (RLS, synchronous_commit as configured)",
        }
    }

    /// Raw single-row insert transactions into a scratch table, same
    /// database, same durability: the floor HTTP ingest is compared with.
    pub async fn raw_inserts(&self, clients: usize, requests: usize) -> anyhow::Result<f64> {
        let started;
        let mut tasks = Vec::new();
        match self {
            Target::Sqlite { url, .. } => {
                let pool = store::sqlite::pool(url).await?;
                sqlx::query("CREATE TABLE bench_raw (id TEXT PRIMARY KEY, payload TEXT NOT NULL)")
                    .execute(&pool)
                    .await?;
                started = Instant::now();
                for c in 0..clients {
                    let pool = pool.clone();
                    let n = requests / clients + usize::from(c < requests % clients);
                    tasks.push(tokio::spawn(async move {
                        for i in 0..n {
                            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                            sqlx::query("INSERT INTO bench_raw (id, payload) VALUES (?, ?)")
                                .bind(format!("{c}-{i}"))
                                .bind("Benchmark lead asking for a quote")
                                .execute(&mut *tx)
                                .await?;
                            tx.commit().await?;
                        }
                        anyhow::Ok(())
                    }));
                }
            }
            Target::Postgres { owner_url, .. } => {
                let pool = store::postgres::pool(owner_url, clients as u32).await?;
                sqlx::query("CREATE TABLE bench_raw (id text PRIMARY KEY, payload text NOT NULL)")
                    .execute(&pool)
                    .await?;
                started = Instant::now();
                for c in 0..clients {
                    let pool = pool.clone();
                    let n = requests / clients + usize::from(c < requests % clients);
                    tasks.push(tokio::spawn(async move {
                        for i in 0..n {
                            let mut tx = pool.begin().await?;
                            sqlx::query("INSERT INTO bench_raw (id, payload) VALUES ($1, $2)")
                                .bind(format!("{c}-{i}"))
                                .bind("Benchmark lead asking for a quote")
                                .execute(&mut *tx)
                                .await?;
                            tx.commit().await?;
                        }
                        anyhow::Ok(())
                    }));
                }
            }
        }
        for t in tasks {
            t.await.context("a raw insert task panicked")??;
        }
        Ok(requests as f64 / started.elapsed().as_secs_f64())
    }

    /// What a running PostgreSQL has after its first minute: statistics of
    /// every table, as autovacuum (or pgbench's initialisation) takes them.
    /// Without them, a fresh database plans the foreign-key checks each
    /// connection caches for empty tables: the check of a lead from its
    /// timeline entry walks `leads_created` over all of the tenant's leads
    /// instead of probing the primary key, and keeps doing so until the
    /// table is analyzed. SQLite plans with no statistics, as it does in
    /// production (the store never runs ANALYZE): nothing to do.
    pub async fn analyze(&self) -> anyhow::Result<()> {
        if let Target::Postgres { owner_url, .. } = self {
            let pool = store::postgres::pool(owner_url, 1).await?;
            sqlx::query("ANALYZE")
                .execute(&pool)
                .await
                .context("cannot analyze the bench database")?;
            pool.close().await;
        }
        Ok(())
    }

    pub async fn remove(self) {
        match self {
            Target::Sqlite { dir, .. } => {
                std::fs::remove_dir_all(&dir).ok();
            }
            Target::Postgres {
                admin_url, name, ..
            } => {
                if let Ok(admin) = store::postgres::pool(&admin_url, 1).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    if let Err(e) = sqlx::query(&drop).execute(&admin).await {
                        eprintln!("could not drop the bench database {name}: {e}");
                    }
                }
            }
        }
    }
}

/// A fresh directory under the system temp dir.
pub fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "switchboard-bench-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}
