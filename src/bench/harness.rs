//! An in-process platform for benchmarks: a store, the server on a
//! loopback port, and a signed-in platform admin.

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::Client;
use crate::llm::Providers;
use crate::server::{self, password, AppState, ServerSettings};
use crate::store::DynStore;

pub struct BenchServer {
    pub base: String,
    /// A platform admin.
    pub admin: Client,
    pub store: DynStore,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl BenchServer {
    pub async fn start(
        store: DynStore,
        settings: ServerSettings,
        providers: Providers,
    ) -> anyhow::Result<Self> {
        let state = AppState::new(store.clone(), settings).with_providers(providers);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve_on(listener, state, async {
            let _ = stopped.await;
        }));
        let hash = password::hash("bench-password".into()).await?;
        store
            .create_user("bench@local", "bench", Some(&hash), true)
            .await
            .context("cannot create the bench user")?;
        let login = Client::new(&base)?
            .login("bench@local", "bench-password")
            .await?;
        let admin = Client::new(&base)?.with_token(login.token);
        Ok(Self {
            base,
            admin,
            store,
            stop,
            task,
        })
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}
