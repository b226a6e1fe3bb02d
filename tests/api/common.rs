//! A fresh platform per test, served on port 0 and reached through the real
//! typed client. The store is SQLite in a temp dir, or — when
//! `SWITCHBOARD_TEST_DATABASE_URL` names a PostgreSQL server (a superuser
//! URL, e.g. `postgres://postgres@127.0.0.1:5432/postgres`) — a fresh
//! database per test, migrated as that user and served through the
//! application role, exactly as a team server runs.

use std::sync::Arc;

use switchboard::api::Client;
use switchboard::domain::{NewTenant, Role, Tenant, Tier, User};
use switchboard::server::clock::{Clock, SystemClock};
use switchboard::server::{self, password, AppState, ServerSettings};
use switchboard::store::{self, Actor, DynStore};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, OnceCell};

pub const PASSWORD: &str = "correct horse battery";

/// Hashing once keeps tests fast; every test user shares this password.
async fn password_hash() -> String {
    static HASH: OnceCell<String> = OnceCell::const_new();
    HASH.get_or_init(|| async {
        password::hash(PASSWORD.to_string())
            .await
            .expect("hash the test password")
    })
    .await
    .clone()
}

pub struct TestApp {
    pub url: String,
    pub store: DynStore,
    pub state: AppState,
    /// A platform admin.
    pub admin: Client,
    /// The URL the server's store was opened with (reopen it to restart).
    pub database_url: String,
    /// PostgreSQL only: the owner's URL for the test database, for raw SQL
    /// that looks past RLS.
    pub owner_url: Option<String>,
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
    // Last: dropped after the server is told to stop.
    _pg: Option<PgDatabase>,
}

/// The PostgreSQL server tests run against, when they should.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("SWITCHBOARD_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A test's own PostgreSQL database, dropped (best effort) with it.
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    pub owner_url: String,
    pub app_url: String,
}

fn with_database(url: &str, user: Option<&str>, db: &str) -> String {
    let mut u = reqwest::Url::parse(url).expect("a valid SWITCHBOARD_TEST_DATABASE_URL");
    u.set_path(&format!("/{db}"));
    if let Some(user) = user {
        u.set_username(user).expect("set user");
        u.set_password(None).expect("clear password");
    }
    u.to_string()
}

impl PgDatabase {
    /// Creates and migrates a fresh database; the application role serves it.
    pub async fn create(admin_url: &str) -> PgDatabase {
        use sqlx::Connection;
        let name = format!("sb_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("connect to SWITCHBOARD_TEST_DATABASE_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        admin.close().await.ok();
        let owner_url = with_database(admin_url, None, &name);
        store::postgres::migrate(&owner_url)
            .await
            .expect("migrate the test database as its owner");
        let app_url = with_database(admin_url, Some(store::postgres::APP_ROLE), &name);
        PgDatabase {
            admin_url: admin_url.to_string(),
            name,
            owner_url,
            app_url,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime: do the async work on a thread
        // of its own. FORCE ends the stopped server's pooled connections.
        let dropped = std::thread::spawn(move || {
            use sqlx::Connection;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        });
        let _ = dropped.join();
    }
}

pub async fn spawn() -> TestApp {
    spawn_with(ServerSettings::default()).await
}

pub async fn spawn_with(settings: ServerSettings) -> TestApp {
    spawn_with_clock(settings, Arc::new(SystemClock)).await
}

/// A platform whose clock the test drives (for SLA transitions).
pub async fn spawn_with_clock(settings: ServerSettings, clock: Arc<dyn Clock>) -> TestApp {
    spawn_full(settings, clock, switchboard::llm::Providers::default()).await
}

/// A platform with its own model providers.
pub async fn spawn_with_providers(providers: switchboard::llm::Providers) -> TestApp {
    spawn_full(ServerSettings::default(), Arc::new(SystemClock), providers).await
}

/// The suite's server logs, at debug level, in one file per run under
/// `target/tmp/test-logs/api/`: `.ci/run` scans them for secrets.
fn log_to_file() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-logs/api");
        std::fs::create_dir_all(&dir).expect("test log dir");
        let file = std::fs::File::create(dir.join(format!("api-{}.log", std::process::id())))
            .expect("test log file");
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,hyper=info,hyper_util=info,reqwest=info,h2=info",
            ))
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    });
}

pub async fn spawn_full(
    settings: ServerSettings,
    clock: Arc<dyn Clock>,
    providers: switchboard::llm::Providers,
) -> TestApp {
    log_to_file();
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("test.db");
    let pg = match postgres_admin_url() {
        Some(admin) => Some(PgDatabase::create(&admin).await),
        None => None,
    };
    let database_url = match &pg {
        Some(pg) => pg.app_url.clone(),
        None => format!("sqlite://{}", db_path.display()),
    };
    let store = store::open(&database_url).await.expect("open store");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel();
    let state = AppState::with_clock(Arc::clone(&store), settings, clock).with_providers(providers);
    tokio::spawn(server::serve_on(listener, state.clone(), async {
        let _ = rx.await;
    }));
    let mut app = TestApp {
        url: url.clone(),
        store,
        state,
        admin: Client::new(&url).expect("client"),
        database_url,
        owner_url: pg.as_ref().map(|pg| pg.owner_url.clone()),
        _dir: dir,
        _stop: tx,
        _pg: pg,
    };
    app.admin = app.user("root@platform.test", true).await.1;
    app
}

impl TestApp {
    pub fn anon(&self) -> Client {
        Client::new(&self.url).expect("client")
    }

    /// Creates a user in the store and signs in through the API.
    pub async fn user(&self, email: &str, platform_admin: bool) -> (User, Client) {
        let hash = password_hash().await;
        let user = self
            .store
            .create_user(email, email, Some(&hash), platform_admin)
            .await
            .expect("create user");
        let login = self.anon().login(email, PASSWORD).await.expect("login");
        (user, self.anon().with_token(login.token))
    }

    pub async fn tenant(&self, name: &str, tier: Tier) -> Tenant {
        self.admin
            .create_tenant(&NewTenant {
                name: name.into(),
                tier: Some(tier),
                ..Default::default()
            })
            .await
            .expect("create tenant")
    }

    /// A new user who is a member of `tenant` with `role`.
    pub async fn member(&self, tenant: &Tenant, email: &str, role: Role) -> (User, Client) {
        let (user, client) = self.user(email, false).await;
        self.store
            .add_member(
                &Actor::system(),
                tenant.id,
                user.id,
                role,
                None,
                tenant.tier,
            )
            .await
            .expect("add member");
        (user, client)
    }
}

impl TestApp {
    /// A fresh ingest key for `tenant` (by slug).
    pub async fn ingest_key(&self, slug: &str) -> String {
        self.form_key(slug, None).await.key
    }

    /// A new ingest key of the tenant `slug`, named "Website form" (for
    /// `workspace_id`'s agent when given), as the API answered its creation.
    pub async fn form_key(
        &self,
        slug: &str,
        workspace_id: Option<uuid::Uuid>,
    ) -> switchboard::domain::CreatedApiKey {
        self.admin
            .create_api_key(
                slug,
                &switchboard::domain::NewApiKey {
                    name: "Website form".into(),
                    scope: None,
                    workspace_id,
                },
            )
            .await
            .expect("create key")
    }
}

/// A valid lead as a form would post it.
pub fn lead(name: &str) -> switchboard::domain::LeadInput {
    switchboard::domain::LeadInput {
        name: name.into(),
        email: Some(format!(
            "{}@example.com",
            name.to_lowercase().replace(' ', ".")
        )),
        message: format!("Hello, {name} here. I would like a quote."),
        ..Default::default()
    }
}
