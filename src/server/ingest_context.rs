//! What an ingest key stands for (its owner and tenant), remembered for a
//! few seconds so a form's lead costs no read before its write.
//!
//! Safe to serve stale: the store's write re-checks the key (revoked, or
//! expired at the request's `now`), the tenant's status and its deletion
//! inside the transaction. What only the read gives (SLA clock, spam
//! keywords, first stage, tier) is forgotten whenever a request through
//! this process may have changed a tenant or a key (see
//! [`forget_on_change`]); changes made elsewhere (another server on the same
//! PostgreSQL, the CLI) show within the TTL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::domain::Tenant;
use crate::store::{DynStore, KeyOwner, StoreResult};

/// Keys remembered at once. Only keys the store knows are kept, so a client
/// spraying random keys cannot grow it; past the bound, reads are not kept.
const MAX_KEYS: usize = 4096;

/// The ingest route: the one mutating request that changes no tenant or key.
const INGEST_PATH: &str = "/api/v1/ingest/leads";

struct Entry {
    owner: KeyOwner,
    tenant: Arc<Tenant>,
    /// The change generation the read started in.
    generation: u64,
    read_at: Instant,
}

/// Key hash → (owner, tenant), each for at most `ttl` and only within the
/// change generation it was read in.
pub struct IngestContexts {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for IngestContexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key hashes stay out of logs too.
        f.debug_struct("IngestContexts")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl IngestContexts {
    /// A zero `ttl` remembers nothing: every ingest reads the store.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic elsewhere while holding the lock leaves a valid map.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key's owner and tenant, from memory when read lately in this
    /// generation, else from the store. `None`: no such ingest key.
    pub async fn get(
        &self,
        store: &DynStore,
        key_hash: &str,
    ) -> StoreResult<Option<(KeyOwner, Arc<Tenant>)>> {
        // Read before the store is: a change that lands during the read
        // bumps it, and what was read is then never served.
        let generation = self.generation.load(Ordering::Acquire);
        if let Some(hit) = self.lookup(key_hash, generation) {
            return Ok(Some(hit));
        }
        let Some((owner, tenant)) = store.ingest_context(key_hash).await? else {
            return Ok(None);
        };
        let tenant = Arc::new(tenant);
        self.remember(key_hash, &owner, &tenant, generation);
        Ok(Some((owner, tenant)))
    }

    fn lookup(&self, key_hash: &str, generation: u64) -> Option<(KeyOwner, Arc<Tenant>)> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries();
        let entry = entries.get(key_hash)?;
        (entry.generation == generation && entry.read_at.elapsed() < self.ttl)
            .then(|| (entry.owner.clone(), Arc::clone(&entry.tenant)))
    }

    fn remember(&self, key_hash: &str, owner: &KeyOwner, tenant: &Arc<Tenant>, generation: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= MAX_KEYS && !entries.contains_key(key_hash) {
            let current = self.generation.load(Ordering::Acquire);
            entries.retain(|_, e| e.generation == current && e.read_at.elapsed() < self.ttl);
            if entries.len() >= MAX_KEYS {
                return;
            }
        }
        entries.insert(
            key_hash.to_string(),
            Entry {
                owner: owner.clone(),
                tenant: Arc::clone(tenant),
                generation,
                read_at: Instant::now(),
            },
        );
    }

    /// Forgets one key: its write was refused, so what was read is stale.
    pub fn forget(&self, key_hash: &str) {
        self.entries().remove(key_hash);
    }

    /// Forgets every key: a tenant or a key may have changed. Reads in
    /// flight will not be kept either.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries().clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries().len()
    }
}

/// Every request that may have changed something (any method but GET, HEAD
/// and OPTIONS, not refused with a 4xx) except an ingest forgets the
/// remembered keys once it is answered, before the client hears the answer:
/// one place for every route that changes a tenant, its settings, limits or
/// keys, including those added later.
pub async fn forget_on_change(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let may_change = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && req.uri().path() != INGEST_PATH;
    let resp = next.run(req).await;
    if may_change && !resp.status().is_client_error() {
        state.ingest_contexts.forget_all();
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> KeyOwner {
        KeyOwner {
            tenant_id: uuid::Uuid::now_v7(),
            key_id: uuid::Uuid::now_v7(),
            revoked: false,
            workspace_id: None,
            expires_at: None,
        }
    }

    fn tenant() -> Arc<Tenant> {
        Arc::new(Tenant {
            id: uuid::Uuid::now_v7(),
            name: "T".into(),
            slug: "t".into(),
            tier: crate::domain::Tier::Pro,
            status: crate::domain::TenantStatus::Active,
            is_platform: false,
            created_at: chrono::Utc::now(),
            settings: Default::default(),
            user_limit_override: None,
            usage: crate::domain::TenantUsage {
                users: 0,
                user_limit: None,
                leads_this_month: 0,
                lead_limit: None,
            },
        })
    }

    #[test]
    fn a_read_is_served_within_its_generation_and_ttl_only() {
        let cache = IngestContexts::new(Duration::from_secs(60));
        let o = owner();
        cache.remember("a", &o, &tenant(), 0);
        assert_eq!(cache.lookup("a", 0).map(|(o, _)| o.key_id), Some(o.key_id));
        cache.forget_all();
        assert!(cache.lookup("a", 1).is_none(), "a change forgets every key");
        // A read that started before the change is not served after it.
        cache.remember("b", &o, &tenant(), 0);
        assert!(cache.lookup("b", 1).is_none());
        cache.remember("c", &o, &tenant(), 1);
        cache.forget("c");
        assert!(cache.lookup("c", 1).is_none());

        let short = IngestContexts::new(Duration::from_millis(1));
        short.remember("a", &o, &tenant(), 0);
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            short.lookup("a", 0).is_none(),
            "past the TTL it is read again"
        );

        let off = IngestContexts::new(Duration::ZERO);
        off.remember("a", &o, &tenant(), 0);
        assert!(off.lookup("a", 0).is_none() && off.len() == 0);
    }

    #[test]
    fn it_never_holds_more_than_its_bound() {
        let cache = IngestContexts::new(Duration::from_secs(60));
        let (o, t) = (owner(), tenant());
        for i in 0..MAX_KEYS + 100 {
            cache.remember(&format!("k{i}"), &o, &t, 0);
        }
        assert_eq!(cache.len(), MAX_KEYS);
        // Entries of an older generation make room.
        cache.generation.fetch_add(1, Ordering::AcqRel);
        cache.remember("new", &o, &t, 1);
        assert_eq!(cache.len(), 1);
    }
}
