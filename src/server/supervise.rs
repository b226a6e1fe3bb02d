//! Keeps background work alive: a panic inside one job (a workflow step, a
//! webhook attempt, an email, an SLA sweep, a retention pass) is caught,
//! logged and handed back as that job's failure, so it never takes its
//! worker, or every tenant's work with it, down.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;

/// What a job that panicked records as its error: the panic itself is for
/// the operator (in the log), not for the tenant.
pub const PANICKED: &str = "internal error: the step panicked; see the server log";

/// A job panicked; the panic was logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked {
    pub message: String,
}

/// Runs `job` to completion; a panic inside it is logged with `what` and
/// returned as `Err` instead of unwinding into the caller.
///
/// `AssertUnwindSafe`: callers drop whatever the job held and record it as
/// failed, so no half-updated state of the job is used afterwards (shared
/// locks recover from poisoning where they are taken).
pub async fn catch_panic<F: Future>(what: &str, job: F) -> Result<F::Output, Panicked> {
    match AssertUnwindSafe(job).catch_unwind().await {
        Ok(out) => Ok(out),
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            tracing::error!(job = what, panic = %message,
                "a job panicked; it is recorded as failed and its worker goes on");
            Err(Panicked { message })
        }
    }
}

/// Runs a long-lived loop, starting it again (after `pause`) whenever it
/// panics; returns when the loop itself returns.
pub async fn keep_running<F, Fut>(what: &str, pause: Duration, mut start: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    while catch_panic(what, start()).await.is_err() {
        tracing::error!(task = what, "restarting a background task after a panic");
        tokio::time::sleep(pause).await;
    }
}

/// Test-only fault injection (the `fault-injection` feature, which only the
/// test suite enables): a test arms a job kind and the next job of it
/// panics where the real work would run, so containment is proven through
/// the running server. Without the feature, [`inject`] compiles to nothing.
#[cfg(feature = "fault-injection")]
pub mod faults {
    use std::sync::atomic::{AtomicU32, Ordering};

    /// The background jobs a panic can be injected into.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Fault {
        WebhookAttempt,
        Mail,
        SlaSweep,
    }

    /// Panics still to inject, per job kind.
    #[derive(Debug, Default)]
    pub struct Faults {
        webhook: AtomicU32,
        mail: AtomicU32,
        sla: AtomicU32,
    }

    impl Faults {
        fn counter(&self, fault: Fault) -> &AtomicU32 {
            match fault {
                Fault::WebhookAttempt => &self.webhook,
                Fault::Mail => &self.mail,
                Fault::SlaSweep => &self.sla,
            }
        }

        /// The next `times` jobs of `fault`'s kind panic.
        pub fn arm(&self, fault: Fault, times: u32) {
            self.counter(fault).fetch_add(times, Ordering::SeqCst);
        }

        /// Panics still armed for `fault`.
        pub fn armed(&self, fault: Fault) -> u32 {
            self.counter(fault).load(Ordering::SeqCst)
        }

        pub(crate) fn trip(&self, fault: Fault) {
            let take = |n: u32| n.checked_sub(1);
            if self
                .counter(fault)
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, take)
                .is_ok()
            {
                panic!("injected by a test: {fault:?}");
            }
        }
    }
}

/// Where a job of `kind` starts its real work: panics when a test armed it.
#[cfg(feature = "fault-injection")]
macro_rules! inject {
    ($state:expr, $kind:ident) => {
        $state
            .faults
            .trip($crate::server::supervise::faults::Fault::$kind)
    };
}
#[cfg(not(feature = "fault-injection"))]
macro_rules! inject {
    ($state:expr, $kind:ident) => {};
}
pub(crate) use inject;

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// A store with one tenant, for tests of background jobs.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::domain::{LeadInput, LeadSource, Tenant, TenantSettings, Tier};
    use crate::server::{AppState, ServerSettings};
    use crate::store::{Actor, LeadLimit, NewLeadRow, TenantRow};

    pub(crate) struct Fixture {
        pub state: AppState,
        pub tenant: Tenant,
        _dir: tempfile::TempDir,
    }

    impl Fixture {
        /// A SQLite store with the tenant `oak` (its manager: `manager`).
        pub async fn new(manager: Option<&str>) -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("t.db").display());
            let store = crate::store::open(&url).await.unwrap();
            let settings = TenantSettings {
                manager_email: manager.map(String::from),
                ..TenantSettings::default()
            };
            let row = TenantRow {
                name: "Oak".into(),
                slug: "oak".into(),
                tier: Tier::Pro,
                settings,
                user_limit: None,
            };
            let tenant = store.create_tenant(&Actor::system(), row).await.unwrap();
            Fixture {
                state: AppState::new(store, ServerSettings::default()),
                tenant,
                _dir: dir,
            }
        }

        /// A lead whose SLA was due an hour ago.
        pub async fn overdue_lead(&self) {
            let due = chrono::Utc::now() - chrono::Duration::hours(1);
            let lead = NewLeadRow {
                input: LeadInput {
                    name: "Ana".into(),
                    email: Some("ana@example.com".into()),
                    ..Default::default()
                },
                source: LeadSource::Api,
                stage: self.tenant.settings.first_stage(),
                spam_reason: None,
                sla_due_at: due,
                sla_at_risk_at: due,
                received_at: Some(due - chrono::Duration::hours(1)),
                workspace_id: None,
                import_key: None,
            };
            let limit = LeadLimit {
                tier: Tier::Pro,
                limit: None,
            };
            let (actor, now) = (Actor::system(), chrono::Utc::now());
            let store = &self.state.store;
            store
                .insert_lead(&actor, self.tenant.id, lead, limit, None, now)
                .await
                .unwrap();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_panic_becomes_an_error_with_its_message() {
        let out = catch_panic("test", async { 7 }).await;
        assert_eq!(out, Ok(7));
        let out: Result<(), Panicked> = catch_panic("test", async {
            tokio::task::yield_now().await;
            panic!("injected: {}", 42)
        })
        .await;
        assert_eq!(out.unwrap_err().message, "injected: 42");
        let out: Result<(), Panicked> = catch_panic("test", async { panic!("plain") }).await;
        assert_eq!(out.unwrap_err().message, "plain");
    }

    #[tokio::test]
    async fn a_loop_that_panics_is_started_again() {
        let starts = AtomicU32::new(0);
        keep_running("test", Duration::from_millis(1), || async {
            if starts.fetch_add(1, Ordering::SeqCst) < 2 {
                panic!("injected");
            }
        })
        .await;
        assert_eq!(starts.load(Ordering::SeqCst), 3);
    }
}
