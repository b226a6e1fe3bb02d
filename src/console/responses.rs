//! What the console does with each API reply: update the data, close or keep
//! the form, and say what happened in a toast.

use super::account::SignedOut;
use super::app::{App, FormPurpose, InFlight, Load, Modal, OpenForm, Slot};
use super::effect::{Effect, RequestId};
use super::request::Response;
use super::widgets::dialog::SecretDialog;
use super::widgets::toast::Toast;
use crate::api::ApiError;
use crate::domain::Tenant;

impl App {
    /// Applies a reply. Replies to unknown or superseded requests are dropped.
    pub fn on_response(&mut self, id: RequestId, response: Response) -> Vec<Effect> {
        let mut out = self.apply_response(id, response);
        // The tenants list may have chosen the current tenant just now.
        out.extend(self.sync_leads(false));
        out.extend(self.sync_agents(false));
        out.extend(self.sync_playground(false));
        out.extend(self.sync_approvals());
        out.extend(self.sync_analytics());
        out.extend(self.sync_audit());
        out
    }

    fn apply_response(&mut self, id: RequestId, response: Response) -> Vec<Effect> {
        let Some(flight) = self.in_flight.remove(&id) else {
            return Vec::new();
        };
        if let Some(slot) = flight.slot {
            if self.latest.get(&slot) != Some(&id) {
                self.dirty = true; // the spinner may stop
                return Vec::new();
            }
            self.latest.remove(&slot);
        }
        self.dirty = true;
        // Signed out elsewhere, or idle too long: nothing else can work now.
        if response.error().is_some_and(Self::session_ended) {
            return self.sign_out(SignedOut::SessionEnded);
        }
        if let Response::Account(r) = response {
            return self.on_account_response(&flight, r);
        }
        if let Response::ExportExists(path) = response {
            self.on_export_exists(&flight, path);
            return Vec::new();
        }
        if self
            .onboarding
            .as_ref()
            .is_some_and(|o| o.pending == Some(id))
        {
            return self.on_init_response(&flight, response);
        }
        if matches!(
            response,
            Response::PlaygroundSessions(_)
                | Response::PlaygroundSessionCreated(_)
                | Response::PlaygroundTranscript(_)
                | Response::PlaygroundSessionDeleted(_)
                | Response::PlaygroundCancelled(_)
                | Response::PlaygroundLeadSaved(_)
        ) {
            return self.on_playground_response(id, &flight, response);
        }
        if flight.slot == Some(Slot::NotifiedLead) {
            return self.on_notified_lead(&flight, response);
        }
        if let Response::Audit(r) = response {
            self.on_audit(&flight, r);
            return Vec::new();
        }
        if let Response::Analytics(r) = response {
            self.on_analytics(flight.tenant, r);
            return Vec::new();
        }
        if let Response::Overview(r) = response {
            self.on_overview(r);
            return Vec::new();
        }
        if Self::is_workflow_response(&response) {
            return self.on_workflow_response(id, &flight, response);
        }
        if let Some(err) = response.error().cloned() {
            // A detail load reports each list's failure in its tab instead.
            if !matches!(response, Response::TenantDetail(_) | Response::Lead(_)) {
                return self.on_failure(id, &flight, err, &response);
            }
        }
        match response {
            r @ (Response::Leads(_)
            | Response::LeadMembers(_)
            | Response::Lead(_)
            | Response::LeadUpdated(_)
            | Response::LeadDeleted(_)
            | Response::NoteAdded(_)
            | Response::LeadCreated(_)
            | Response::Usage(_)
            | Response::Imported(_)
            | Response::Exported(_)) => return self.on_lead_response(id, &flight, r),
            r @ (Response::Agents(_)
            | Response::AgentVersions(_)
            | Response::AgentCreated(_)
            | Response::AgentUpdated(_)
            | Response::AgentRestored(_)
            | Response::AgentShared(_)
            | Response::AgentDeleted(_)
            | Response::Workspaces(_)
            | Response::WorkspaceSaved(_)
            | Response::WorkspaceDeleted(_)
            | Response::Models(_)) => return self.on_agent_response(id, &flight, r),
            Response::Me(Ok(me)) => {
                let user = me.user.id;
                self.me = Load::Loaded(me);
                self.maybe_onboard();
                // The notification history is kept per user.
                let mut out = self.load_history(user);
                if !self.invitations.announced {
                    out.extend(self.check_invitations());
                }
                return out;
            }
            Response::Tenants(Ok(list)) => self.on_tenants(list),
            Response::TenantCreated(Ok(t)) => {
                self.finish_form(id);
                let onboarding = self
                    .onboarding
                    .as_ref()
                    .is_some_and(|f| f.pending == Some(id));
                if onboarding {
                    self.onboarding = None;
                }
                if let Some(list) = self.tenants.loaded_mut() {
                    list.push(t.clone());
                }
                self.filter.clear();
                self.selected = self
                    .visible_tenants()
                    .iter()
                    .position(|x| x.id == t.id)
                    .unwrap_or(0);
                if onboarding || self.current_tenant.is_none() {
                    self.current_tenant = Some(t.id);
                }
                self.toast(Toast::success(flight.ok));
            }
            Response::TenantUpdated(Ok(t)) => {
                self.finish_form(id);
                self.replace_tenant(t);
                self.toast(Toast::success(flight.ok));
            }
            Response::TenantDetail(data) => {
                if let Some(d) = self
                    .detail
                    .as_mut()
                    .filter(|d| Some(d.tenant) == flight.tenant)
                {
                    let msg = |e: ApiError| e.message();
                    d.members = data
                        .members
                        .map_or_else(|e| Load::Failed(msg(e)), Load::Loaded);
                    d.invitations = data
                        .invitations
                        .map_or_else(|e| Load::Failed(msg(e)), Load::Loaded);
                    d.keys = data
                        .keys
                        .map_or_else(|e| Load::Failed(msg(e)), Load::Loaded);
                    d.selected = d.selected.min(d.rows().saturating_sub(1));
                }
            }
            Response::MemberAdded(Ok(crate::domain::MemberAdded::Invited(invitation))) => {
                self.finish_form(id);
                let email = invitation.email.clone();
                if let Some(list) = self
                    .detail_for(&flight)
                    .and_then(|d| d.invitations.loaded_mut())
                {
                    list.push(invitation);
                }
                self.toast(Toast::success(format!(
                    "Invited {email}: they join when they accept it, signed in (:invitations)"
                )));
            }
            Response::MemberAdded(Ok(crate::domain::MemberAdded::Added(m))) => {
                self.finish_form(id);
                if let Some(list) = self
                    .detail_for(&flight)
                    .and_then(|d| d.members.loaded_mut())
                {
                    list.push(m);
                }
                self.toast(Toast::success(flight.ok));
                // The header and the table show member counts.
                return self.load_tenants();
            }
            Response::RoleChanged(Ok(m)) => {
                self.finish_form(id);
                if let Some(list) = self
                    .detail_for(&flight)
                    .and_then(|d| d.members.loaded_mut())
                {
                    if let Some(x) = list.iter_mut().find(|x| x.user_id == m.user_id) {
                        *x = m;
                    }
                }
                self.toast(Toast::success(flight.ok));
            }
            Response::MemberRemoved(Ok(())) => {
                if let Some(list) = self
                    .detail_for(&flight)
                    .and_then(|d| d.members.loaded_mut())
                {
                    list.retain(|m| Some(m.user_id) != flight.target);
                }
                self.clamp_detail();
                self.toast(Toast::success(flight.ok));
                return self.load_tenants();
            }
            Response::Invited(Ok(created)) => {
                self.finish_form(id);
                let email = created.invitation.email.clone();
                if let Some(list) = self
                    .detail_for(&flight)
                    .and_then(|d| d.invitations.loaded_mut())
                {
                    list.push(created.invitation.clone());
                }
                self.modal = Some(Modal::Secret(SecretDialog {
                    title: "Invitation token".into(),
                    what: format!("Send this token to {email}; they accept with it."),
                    secret: created.token,
                    copied: false,
                }));
                self.toast(Toast::success(flight.ok));
            }
            Response::KeyCreated(Ok(created)) => {
                self.finish_form(id);
                let name = created.api_key.name.clone();
                if let Some(list) = self.detail_for(&flight).and_then(|d| d.keys.loaded_mut()) {
                    list.push(created.api_key.clone());
                }
                self.modal = Some(Modal::Secret(SecretDialog {
                    title: "New API key".into(),
                    what: format!("API key “{name}” (scope leads:ingest):"),
                    secret: created.key,
                    copied: false,
                }));
                self.toast(Toast::success(flight.ok));
            }
            Response::KeyRevoked(Ok(())) => {
                self.toast(Toast::success(flight.ok));
                // The list shows when it was revoked, which only the server knows.
                if let Some(t) = flight
                    .tenant
                    .filter(|t| self.detail.as_ref().is_some_and(|d| d.tenant == *t))
                {
                    return self.load_detail(t);
                }
            }
            Response::InvitationRevoked(Ok(())) => {
                if let Some(list) = self
                    .detail_for(&flight)
                    .and_then(|d| d.invitations.loaded_mut())
                {
                    list.retain(|i| Some(i.id) != flight.target);
                }
                self.clamp_detail();
                self.toast(Toast::success(flight.ok));
            }
            // Failures were handled above; these arms cannot be reached.
            _ => {}
        }
        Vec::new()
    }

    pub(crate) fn on_failure(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        err: ApiError,
        response: &Response,
    ) -> Vec<Effect> {
        match response {
            Response::Me(_) => {
                self.me = Load::Failed(err.message());
                // An unreachable server is already shown inline by the
                // tenants list; anything else (not signed in) needs saying.
                if !matches!(err, ApiError::Unreachable { .. }) {
                    self.toast(Toast::error(format!("{}: {}", flight.fail, err.message())));
                }
            }
            // Shown inline in the pane, with the retry key.
            Response::Tenants(_) => self.tenants = Load::Failed(err.message()),
            _ if self.on_lead_failure(flight, &err.message()) => {}
            _ if self.on_agent_failure(id, flight, &err) => {}
            _ => {
                // A form keeps its draft and shows the errors where they belong.
                let on_form = |open: &mut OpenForm| {
                    if open.pending == Some(id) {
                        open.pending = None;
                        open.form.submitting = false;
                        match err.problem() {
                            Some(p) => open.form.apply_problem(p),
                            None => open.form.set_failure(err.message()),
                        }
                    }
                };
                if let Some(Modal::Form(open)) = &mut self.modal {
                    on_form(open);
                }
                if let Some(open) = &mut self.onboarding {
                    on_form(open);
                }
                self.toast(Toast::error(format!("{}: {}", flight.fail, err.message())));
            }
        }
        Vec::new()
    }

    fn on_tenants(&mut self, list: Vec<Tenant>) {
        let current_ok = self
            .current_tenant
            .is_some_and(|c| list.iter().any(|t| t.id == c));
        if !current_ok {
            self.current_tenant = list
                .iter()
                .find(|t| !t.is_platform)
                .or(list.first())
                .map(|t| t.id);
        }
        let first_load = !matches!(self.tenants, Load::Loaded(_));
        self.tenants = Load::Loaded(list);
        // Start on the current tenant: it is what the user works on.
        let current = self.current_tenant;
        let at_current = self
            .visible_tenants()
            .iter()
            .position(|t| Some(t.id) == current);
        self.selected = match at_current {
            Some(i) if first_load => i,
            _ => self
                .selected
                .min(self.visible_tenants().len().saturating_sub(1)),
        };
        self.maybe_onboard();
    }

    /// A platform admin with no tenant but the platform's gets the
    /// first-tenant form, once.
    fn maybe_onboard(&mut self) {
        if self.onboarding_offered {
            return;
        }
        let (Some(me), Some(list)) = (self.me.loaded(), self.tenants.loaded()) else {
            return;
        };
        if me.platform_admin && list.iter().all(|t| t.is_platform) {
            self.onboarding_offered = true;
            self.init = Default::default();
            self.open_form(FormPurpose::Onboarding);
        }
    }

    fn replace_tenant(&mut self, t: Tenant) {
        if let Some(list) = self.tenants.loaded_mut() {
            if let Some(x) = list.iter_mut().find(|x| x.id == t.id) {
                *x = t;
            }
        }
    }

    /// Closes the form whose save this reply answers.
    pub(crate) fn finish_form(&mut self, id: RequestId) {
        if matches!(&self.modal, Some(Modal::Form(f)) if f.pending == Some(id)) {
            self.modal = None;
        }
    }

    fn detail_for(&mut self, flight: &InFlight) -> Option<&mut super::app::Detail> {
        self.detail
            .as_mut()
            .filter(|d| Some(d.tenant) == flight.tenant)
    }

    fn clamp_detail(&mut self) {
        if let Some(d) = &mut self.detail {
            d.selected = d.selected.min(d.rows().saturating_sub(1));
        }
    }
}
