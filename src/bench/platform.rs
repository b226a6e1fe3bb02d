//! A platform inside the benchmark process (SQLite in a temp dir, served on
//! a loopback port) for benchmarks of a remote console: tenants, bulk-loaded
//! leads, and a saved session the console signs in with.

use std::path::Path;

use chrono::Utc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::fixture;
use super::target::Target;
use crate::api::Client;
use crate::credentials::{self, SavedSession};
use crate::domain::{LeadInput, Tenant};
use crate::server::{self, AppState, ServerSettings};
use crate::store;

pub struct Platform {
    pub url: String,
    pub admin: Client,
    target: Target,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Platform {
    pub async fn start() -> anyhow::Result<Platform> {
        let target = Target::create(None).await?;
        let store = store::open(target.serve_url()).await?;
        fixture::create_admin(&store).await?;
        let settings = ServerSettings {
            ingest_per_minute: u32::MAX / 2,
            ingest_burst: u32::MAX / 2,
            // Measures the store, not the per-tenant limits.
            tenant_rate_limits: false,
            ..ServerSettings::default()
        };
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(server::serve_on(
            listener,
            AppState::new(store, settings),
            async {
                let _ = stopped.await;
            },
        ));
        let admin = fixture::admin_client(&url).await?;
        Ok(Platform {
            url,
            admin,
            target,
            stop,
            server,
        })
    }

    /// An enterprise tenant with `leads` leads: one through the API (so the
    /// stage is the tenant's real first stage), the rest written straight
    /// into the table, spread over three days, their SLA alerts already sent.
    pub async fn tenant_with_leads(&self, name: &str, leads: usize) -> anyhow::Result<Tenant> {
        let (tenant, key) = fixture::tenant_with_key(&self.admin, name).await?;
        let first = LeadInput {
            name: "First Lead".into(),
            email: Some("first@example.com".into()),
            message: "Quote please".into(),
            ..Default::default()
        };
        let id = Client::new(&self.url)?
            .ingest_lead(&key, &first, None)
            .await?
            .id;
        let stage = self.admin.lead(&tenant.slug, id).await?.stage;
        let pool = store::sqlite::pool(self.target.serve_url()).await?;
        let now = Utc::now().timestamp_millis();
        let mut done = 1;
        while done < leads {
            let end = (done + 20_000).min(leads);
            let mut tx = pool.begin().await?;
            for i in done..end {
                let created = now - (i as i64 * 7919 % (72 * 3_600_000));
                let due = created + 24 * 3_600_000;
                sqlx::query(
                    "INSERT INTO leads (tenant_id, id, name, email, company, message, source, stage, \
                     created_at, updated_at, sla_due_at, at_risk_at, sla_at_risk_alerted_at, \
                     sla_breached_alerted_at) \
                     VALUES (?, ?, ?, ?, ?, 'We would like a quote for next month.', 'form', ?, \
                     ?, ?, ?, ?, ?, ?)",
                )
                .bind(tenant.id.to_string())
                .bind(Uuid::now_v7().to_string())
                .bind(format!("Lead number {i}"))
                .bind(format!("lead{i}@example.com"))
                .bind(format!("Company {}", i % 97))
                .bind(&stage)
                .bind(created)
                .bind(created)
                .bind(due)
                .bind(due - 6 * 3_600_000)
                .bind(created)
                .bind(created)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            done = end;
        }
        pool.close().await;
        Ok(tenant)
    }

    /// Signs the console in: the session file it reads for `--server`.
    pub fn save_session(&self, root: &Path) -> anyhow::Result<()> {
        let token = self
            .admin
            .token()
            .ok_or_else(|| anyhow::anyhow!("the admin client has no token"))?;
        credentials::save(
            &credentials::remote_path(&root.join("config").join("switchboard")),
            &SavedSession {
                server: self.url.clone(),
                token: token.to_string(),
            },
        )
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.server.await??;
        self.target.remove().await;
        Ok(())
    }
}
