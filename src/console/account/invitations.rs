//! `:invitations`: the invitations sent to the signed-in user's email,
//! accepted or declined from the Tenants pane, where the view is shown
//! instead of the table while open.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::{AccountRequest, AccountResponse};
use crate::api::ApiResult;
use crate::console::action::Action;
use crate::console::component::{Component, Cx, Shared};
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::keymap::Context;
use crate::console::panes::{screen_contexts, ListState};
use crate::console::request::Response;
use crate::console::sanitize::clean;
use crate::console::state::{Confirmable, InFlight, Load, Slot};
use crate::console::widgets::toast::Toast;
use crate::domain::{AcceptedInvitation, PendingInvitation};

#[derive(Debug, Clone, Default)]
pub struct InvitationsView {
    open: bool,
    list: ListState<PendingInvitation>,
    /// The invitation whose accept or decline is in flight: its row says so
    /// and a second key press does not send it again.
    answering: Option<Uuid>,
    /// The count was told once after sign-in; later loads stay quiet.
    announced: bool,
}

impl InvitationsView {
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Another view takes the Tenants pane.
    pub fn close(&mut self) {
        self.open = false;
    }

    pub fn items(&self) -> &[PendingInvitation] {
        self.list.loaded().map_or(&[], Vec::as_slice)
    }

    pub fn selected_item(&self) -> Option<&PendingInvitation> {
        self.list.selected_item()
    }

    pub fn answering(&self) -> Option<Uuid> {
        self.answering
    }

    /// Whether the count was already told after sign-in.
    pub fn announced(&self) -> bool {
        self.announced
    }

    pub(super) fn list(&self) -> &Load<Vec<PendingInvitation>> {
        &self.list.items
    }

    pub(super) fn selected(&self) -> usize {
        self.list.selected
    }

    /// Opens the list and (re)loads it; the router shows the Tenants pane.
    pub(crate) fn open(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.open = true;
        self.load(cx)
    }

    fn load(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.list.loading();
        cx.send(
            Request::Account(AccountRequest::MyInvitations),
            Some(Slot::MyInvitations),
            "",
            "Could not load your invitations",
        )
    }

    /// After sign-in: looks for invitations without a spinner, to tell the
    /// user about them once.
    pub(crate) fn check(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let out = cx.send(
            Request::Account(AccountRequest::MyInvitations),
            Some(Slot::MyInvitations),
            "",
            "Could not load your invitations",
        );
        if let Some(Effect::Api(id, _)) = out.first() {
            if let Some(f) = cx.requests.in_flight.get_mut(id) {
                f.quiet = true;
            }
        }
        out
    }

    fn accept(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.answering.is_some() {
            return Vec::new();
        }
        let Some(i) = self.selected_item() else {
            return Vec::new();
        };
        let (id, tenant) = (i.id, clean(&i.tenant_name).into_owned());
        self.answering = Some(id);
        cx.send_about(
            Request::Account(AccountRequest::Accept { id }),
            None,
            "",
            &format!("Could not accept the invitation to {tenant}"),
            None,
            Some(id),
        )
    }

    /// The confirmed decline.
    pub(crate) fn decline(&mut self, id: Uuid, tenant: &str, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.answering = Some(id);
        cx.send_about(
            Request::Account(AccountRequest::Decline { id }),
            None,
            &format!("Declined the invitation to {tenant}"),
            &format!("Could not decline the invitation to {tenant}"),
            None,
            Some(id),
        )
    }

    /// The invitation replies of the account's.
    pub(crate) fn on_account(
        &mut self,
        flight: &InFlight,
        response: AccountResponse,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        match response {
            AccountResponse::MyInvitations(r) => self.on_list(flight, r, cx),
            AccountResponse::Accepted(r) => return self.on_accepted(flight, r, cx),
            AccountResponse::Declined(r) => {
                self.answering = None;
                match r {
                    Ok(()) => {
                        self.forget(flight.target);
                        cx.toast(Toast::success(flight.ok.clone()));
                    }
                    Err(e) => {
                        cx.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
                        return self.load(cx);
                    }
                }
            }
            // The router keeps these.
            AccountResponse::PasswordChanged(_) | AccountResponse::LoggedOutEverywhere(_) => {}
        }
        Vec::new()
    }

    fn on_list(
        &mut self,
        flight: &InFlight,
        r: ApiResult<Vec<PendingInvitation>>,
        cx: &mut Cx<'_>,
    ) {
        // The quiet check after sign-in fails quietly: the log has it.
        if flight.quiet && !self.open {
            if let Ok(list) = r {
                let n = list.len();
                self.list.arrived(Ok(list));
                if !self.announced && n > 0 {
                    cx.toast(Toast::info(match n {
                        1 => "You have a pending invitation: :invitations to answer it".into(),
                        n => format!("You have {n} pending invitations: :invitations to answer"),
                    }));
                }
                self.announced = true;
            }
            return;
        }
        self.announced = true;
        self.list.arrived(r);
    }

    fn on_accepted(
        &mut self,
        flight: &InFlight,
        r: ApiResult<AcceptedInvitation>,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        self.answering = None;
        match r {
            Ok(accepted) => {
                let m = &accepted.membership;
                self.forget(flight.target);
                cx.toast(Toast::success(format!(
                    "Joined {} as {}",
                    clean(&m.tenant_name),
                    m.role
                )));
                // The new tenant belongs in the list and, if it is the
                // first, in the header as the current one.
                cx.load_tenants()
            }
            Err(e) => {
                cx.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
                // Expired or revoked meanwhile: the list shows what is left.
                self.load(cx)
            }
        }
    }

    fn forget(&mut self, id: Option<Uuid>) {
        self.list.retain(|i| Some(i.id) != id);
    }
}

impl Component for InvitationsView {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        let choice = self
            .selected_item()
            .is_some()
            .then_some(Context::InvitationChoice);
        let contexts = [choice, Some(Context::MyInvitations)];
        screen_contexts(self.list.is_failed(), contexts.into_iter().flatten())
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.list.step(&action, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Back => {
                self.open = false;
                cx.requests.forget(Slot::MyInvitations);
            }
            Action::Retry => return self.load(cx),
            Action::Accept => return self.accept(cx),
            Action::Decline => {
                if self.answering.is_some() {
                    return Vec::new();
                }
                if let Some(i) = self.selected_item() {
                    let tenant = clean(&i.tenant_name).into_owned();
                    cx.confirm(
                        format!(
                            "Decline the invitation to {tenant}? Its admins can invite you again."
                        ),
                        Confirmable::DeclineInvitation { id: i.id, tenant },
                    );
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_response(
        &mut self,
        _id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        match response {
            Response::Account(r) => self.on_account(flight, r, cx),
            _ => Vec::new(),
        }
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        super::invitations_pane::render(self, shared, area, buf)
    }
}
