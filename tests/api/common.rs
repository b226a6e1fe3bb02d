//! A fresh platform per test: SQLite in a temp dir, served on port 0, reached
//! through the real typed client.

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
    pub db_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

pub async fn spawn() -> TestApp {
    spawn_with(ServerSettings::default()).await
}

pub async fn spawn_with(settings: ServerSettings) -> TestApp {
    spawn_with_clock(settings, Arc::new(SystemClock)).await
}

/// A platform whose clock the test drives (for SLA transitions).
pub async fn spawn_with_clock(settings: ServerSettings, clock: Arc<dyn Clock>) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("test.db");
    let store = store::open(&format!("sqlite://{}", db_path.display()))
        .await
        .expect("open store");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel();
    let state = AppState::with_clock(Arc::clone(&store), settings, clock);
    tokio::spawn(server::serve_on(listener, state.clone(), async {
        let _ = rx.await;
    }));
    let mut app = TestApp {
        url: url.clone(),
        store,
        state,
        admin: Client::new(&url).expect("client"),
        db_path,
        _dir: dir,
        _stop: tx,
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
        self.admin
            .create_api_key(
                slug,
                &switchboard::domain::NewApiKey {
                    name: "form".into(),
                    scope: None,
                    workspace_id: None,
                },
            )
            .await
            .expect("create key")
            .key
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
