//! Concurrency caps per key: model generations per tenant and live event
//! streams per user.
//!
//! The playground and workflows share the model, so one tenant's burst of
//! playground messages or leads cannot take every generation the server can
//! run: a tenant holds at most `generations_per_tenant` at once. A
//! playground message over the cap is refused at once (429 with
//! Retry-After); a workflow step waits its turn. A user holds at most
//! `streams_per_user` live event streams.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use uuid::Uuid;

#[derive(Debug)]
pub struct Slots {
    per_key: usize,
    open: Mutex<HashMap<Uuid, usize>>,
    freed: Notify,
}

/// Places held under a key's cap; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    key: Uuid,
    n: usize,
}

impl Slots {
    pub fn new(per_key: usize) -> Self {
        Self {
            per_key: per_key.max(1),
            open: Mutex::new(HashMap::new()),
            freed: Notify::new(),
        }
    }

    /// `n` places for `key` now, or `None` when that would pass the cap.
    /// Asking for more than the cap at once is allowed when the key holds
    /// none (a side-by-side comparison wider than the cap still runs,
    /// alone).
    pub fn try_take(self: &Arc<Self>, key: Uuid, n: usize) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let held = open.get(&key).copied().unwrap_or(0);
        if held > 0 && held + n > self.per_key {
            return None;
        }
        open.insert(key, held + n);
        Some(Slot {
            slots: self.clone(),
            key,
            n,
        })
    }

    /// One place for `key`, waiting until one is free.
    pub async fn take(self: &Arc<Self>, key: Uuid) -> Slot {
        loop {
            let freed = self.freed.notified();
            if let Some(slot) = self.try_take(key, 1) {
                return slot;
            }
            freed.await;
        }
    }

    /// Places `key` holds now.
    pub fn held(&self, key: Uuid) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&key).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        {
            let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(held) = open.get_mut(&self.key) {
                *held = held.saturating_sub(self.n);
                if *held == 0 {
                    open.remove(&self.key);
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
    async fn a_key_holds_at_most_its_cap_and_others_are_unaffected() {
        let slots = Arc::new(Slots::new(2));
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let one = slots.try_take(a, 1).unwrap();
        let two = slots.try_take(a, 1).unwrap();
        assert!(slots.try_take(a, 1).is_none());
        assert!(slots.try_take(b, 2).is_some(), "another key is not held up");
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
