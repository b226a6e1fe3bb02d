//! Changes the API makes one lead at a time, sent for many marked leads
//! (spam / not spam, delete: the bulk route has neither): the replies are
//! tallied per tenant, so each tenant gets one toast with its outcome and
//! the leads it refused are named with the reason.

use std::collections::HashMap;

use uuid::Uuid;

use super::LeadsView;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::state::InFlight;
use crate::console::widgets::toast::Toast;

/// A batch under way.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// What was done, for the toast: "marked as spam", "deleted".
    verb: String,
    /// Leads still waiting for their reply: lead → tenant.
    pending: HashMap<Uuid, Uuid>,
    /// Per tenant: how many changed, and the refused leads ("name (why)").
    tally: HashMap<Uuid, (usize, Vec<String>)>,
}

impl LeadsView {
    /// Sends `request` for each of `leads` (tenant, id, name), tallied as
    /// one batch; a batch still under way is replaced (its late replies are
    /// toasted one by one).
    pub(super) fn send_batch(
        &mut self,
        verb: &str,
        leads: Vec<(Uuid, Uuid, String)>,
        request: impl Fn(Uuid, Uuid) -> Request,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let mut batch = Batch {
            verb: verb.to_string(),
            ..Batch::default()
        };
        let mut out = Vec::new();
        for (tenant, id, name) in leads {
            batch.pending.insert(id, tenant);
            batch.tally.entry(tenant).or_default();
            // Empty success text: the tally toasts, not each reply.
            out.extend(cx.send_about(
                request(tenant, id),
                None,
                "",
                &format!("Could not change {name}"),
                Some(tenant),
                Some(id),
            ));
        }
        self.batch = Some(batch);
        out
    }

    /// Whether a reply about `lead` belongs to the batch under way.
    pub(crate) fn in_batch(&self, flight: &InFlight) -> bool {
        flight.ok.is_empty()
            && flight.target.is_some_and(|t| {
                self.batch
                    .as_ref()
                    .is_some_and(|b| b.pending.contains_key(&t))
            })
    }

    /// One lead of the batch answered: changed, or `refused` with why.
    pub(crate) fn batch_step(&mut self, lead: Uuid, refused: Option<&str>, cx: &mut Cx<'_>) {
        let name = self.lead_name(lead);
        let Some(b) = self.batch.as_mut() else {
            return;
        };
        let Some(tenant) = b.pending.remove(&lead) else {
            return;
        };
        let entry = b.tally.entry(tenant).or_default();
        match refused {
            None => entry.0 += 1,
            Some(why) => entry.1.push(format!("{name} ({why})")),
        }
        if b.pending.values().any(|t| *t == tenant) {
            return;
        }
        // The tenant's last reply: say its outcome.
        let (done, refused) = b.tally.remove(&tenant).unwrap_or_default();
        let verb = b.verb.clone();
        if b.pending.is_empty() {
            self.batch = None;
        }
        let place = self.tenant_name(tenant, cx.session);
        if done > 0 {
            let leads = if done == 1 { "lead" } else { "leads" };
            cx.toast(Toast::success(format!("{place}: {done} {leads} {verb}")));
        }
        if !refused.is_empty() {
            cx.toast(Toast::error(format!(
                "{place}: not {verb}: {}",
                refused.join(", ")
            )));
        }
    }
}
