//! The per-tenant background walks this process is running (recomputing
//! SLA deadlines, purging a deleted tenant), so a sweep that resumes
//! unfinished ones does not start a second beside a running one.

use std::collections::HashSet;
use std::sync::Mutex;

use uuid::Uuid;

#[derive(Debug, Default)]
pub struct Running(Mutex<HashSet<Uuid>>);

impl Running {
    /// Claims `tenant`; false when its walk already runs here. (Tests
    /// claim one to stand for a walk that died with its process.)
    pub fn claim(&self, tenant: Uuid) -> bool {
        self.0.lock().map(|mut s| s.insert(tenant)).unwrap_or(false)
    }

    pub fn release(&self, tenant: Uuid) {
        if let Ok(mut s) = self.0.lock() {
            s.remove(&tenant);
        }
    }
}
