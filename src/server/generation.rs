//! Concurrent model generations per tenant. The playground and workflows
//! share the model, so one tenant's burst of playground messages or leads
//! cannot take every generation the server can run: a tenant holds at most
//! `generations_per_tenant` at once. A playground message over the cap is
//! refused at once (429 with Retry-After); a workflow step waits its turn.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use uuid::Uuid;

#[derive(Debug)]
pub struct GenerationSlots {
    per_tenant: usize,
    open: Mutex<HashMap<Uuid, usize>>,
    freed: Notify,
}

/// Generations held for a tenant; given back when dropped.
#[derive(Debug)]
pub struct GenerationSlot {
    slots: Arc<GenerationSlots>,
    tenant: Uuid,
    n: usize,
}

impl GenerationSlots {
    pub fn new(per_tenant: usize) -> Self {
        Self {
            per_tenant: per_tenant.max(1),
            open: Mutex::new(HashMap::new()),
            freed: Notify::new(),
        }
    }

    /// `n` generations for `tenant` now, or `None` when that would pass the
    /// cap. Asking for more than the cap at once is allowed when the tenant
    /// holds none (a side-by-side comparison wider than the cap still runs,
    /// alone).
    pub fn try_take(self: &Arc<Self>, tenant: Uuid, n: usize) -> Option<GenerationSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let held = open.get(&tenant).copied().unwrap_or(0);
        if held > 0 && held + n > self.per_tenant {
            return None;
        }
        open.insert(tenant, held + n);
        Some(GenerationSlot {
            slots: self.clone(),
            tenant,
            n,
        })
    }

    /// One generation for `tenant`, waiting until one is free.
    pub async fn take(self: &Arc<Self>, tenant: Uuid) -> GenerationSlot {
        loop {
            let freed = self.freed.notified();
            if let Some(slot) = self.try_take(tenant, 1) {
                return slot;
            }
            freed.await;
        }
    }

    /// Generations `tenant` holds now.
    pub fn held(&self, tenant: Uuid) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&tenant).copied().unwrap_or(0)
    }
}

impl Drop for GenerationSlot {
    fn drop(&mut self) {
        {
            let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(held) = open.get_mut(&self.tenant) {
                *held = held.saturating_sub(self.n);
                if *held == 0 {
                    open.remove(&self.tenant);
                }
            }
        }
        self.slots.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tenant_holds_at_most_its_cap_and_others_are_unaffected() {
        let slots = Arc::new(GenerationSlots::new(2));
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let one = slots.try_take(a, 1).unwrap();
        let two = slots.try_take(a, 1).unwrap();
        assert!(slots.try_take(a, 1).is_none());
        assert!(
            slots.try_take(b, 2).is_some(),
            "another tenant is not held up"
        );
        // A waiter gets the slot as soon as one is given back.
        let waiter = {
            let slots = slots.clone();
            tokio::spawn(async move { slots.take(a).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(one);
        let three = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(slots.held(a), 2);
        drop((two, three));
        assert_eq!(slots.held(a), 0);
        // Wider than the cap, alone: allowed.
        assert!(slots.try_take(a, 3).is_some());
    }
}
