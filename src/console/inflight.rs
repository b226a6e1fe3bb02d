//! Request bookkeeping: each API call is tagged with an id and remembers what
//! to say about its outcome; a load superseded by a newer one is dropped.

use std::collections::HashMap;

use uuid::Uuid;

use super::effect::{Effect, Request, RequestId};
use super::state::{InFlight, Slot};

#[derive(Debug, Clone, Default)]
pub struct Requests {
    pub(crate) next_id: u64,
    pub(crate) in_flight: HashMap<RequestId, InFlight>,
    pub(crate) latest: HashMap<Slot, RequestId>,
}

impl Requests {
    /// Tags a request and remembers what to say about its outcome.
    pub fn send_about(
        &mut self,
        req: Request,
        slot: Option<Slot>,
        ok: &str,
        fail: &str,
        tenant: Option<Uuid>,
        target: Option<Uuid>,
    ) -> Vec<Effect> {
        self.next_id += 1;
        let id = RequestId(self.next_id);
        if let Some(s) = slot {
            self.latest.insert(s, id);
        }
        self.in_flight.insert(
            id,
            InFlight {
                slot,
                ok: ok.to_string(),
                fail: fail.to_string(),
                tenant,
                target,
                quiet: false,
            },
        );
        vec![Effect::Api(id, req)]
    }

    /// The id of the request sent last, for a form to know its save.
    pub fn last_id(&self) -> RequestId {
        RequestId(self.next_id)
    }

    /// Whatever the load in `slot` answers now is of no use.
    pub fn forget(&mut self, slot: Slot) {
        self.latest.remove(&slot);
    }

    /// Whether a load in `slot` is on its way.
    pub fn awaits(&self, slot: Slot) -> bool {
        self.latest.contains_key(&slot)
    }

    pub fn is_busy(&self) -> bool {
        self.in_flight.values().any(|f| !f.quiet)
    }

    /// Takes the bookkeeping of a reply: `None` when the request is unknown
    /// or a newer load superseded it.
    pub fn settle(&mut self, id: RequestId) -> Result<InFlight, Stale> {
        let flight = self.in_flight.remove(&id).ok_or(Stale::Unknown)?;
        if let Some(slot) = flight.slot {
            if self.latest.get(&slot) != Some(&id) {
                return Err(Stale::Superseded);
            }
            self.latest.remove(&slot);
        }
        Ok(flight)
    }
}

/// Why a reply is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    Unknown,
    /// The spinner may stop: redraw.
    Superseded,
}
