//! The signed-in user's own account: the invitations waiting for them
//! (`:invitations`), the password (`:password`) and signing out everywhere
//! (`:logout-all`).

pub(crate) mod keys;
mod password;
mod requests;

pub use password::Passwords;
pub use requests::{execute, AccountRequest, AccountResponse};

use uuid::Uuid;

use crate::api::ApiResult;
use crate::console::action::Action;
use crate::console::app::{App, Confirmable, InFlight, Load, Modal, Pane, Slot};
use crate::console::effect::{Effect, Request};
use crate::console::sanitize::clean;
use crate::console::widgets::toast::Toast;
use crate::domain::{AcceptedInvitation, PendingInvitation};

/// The list of invitations sent to the signed-in user's email.
#[derive(Debug, Clone, Default)]
pub struct InvitationsView {
    /// Shown in the Tenants pane instead of the table.
    pub open: bool,
    pub list: Load<Vec<PendingInvitation>>,
    pub selected: usize,
    /// The invitation whose accept or decline is in flight: its row says so
    /// and a second key press does not send it again.
    pub answering: Option<Uuid>,
    /// The count was told once after sign-in; later loads stay quiet.
    pub announced: bool,
}

impl InvitationsView {
    pub fn items(&self) -> &[PendingInvitation] {
        self.list.loaded().map_or(&[], Vec::as_slice)
    }

    pub fn selected_item(&self) -> Option<&PendingInvitation> {
        self.items().get(self.selected)
    }
}

/// How the console ended the session it ran with; `main` says what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedOut {
    /// The user signed out everywhere (`:logout-all`).
    Everywhere,
    /// The server no longer accepts the session (signed out elsewhere, the
    /// password changed on another device, or idle too long).
    SessionEnded,
}

impl App {
    /// `:invitations`: opens the list in the Tenants pane and (re)loads it.
    pub(crate) fn open_invitations(&mut self) -> Vec<Effect> {
        self.pane = Pane::Tenants;
        self.tenants.close_detail();
        self.overview.close();
        self.invitations.open = true;
        self.load_invitations()
    }

    fn load_invitations(&mut self) -> Vec<Effect> {
        if !matches!(self.invitations.list, Load::Loaded(_)) {
            self.invitations.list = Load::Loading;
        }
        self.send(
            Request::Account(AccountRequest::MyInvitations),
            Some(Slot::MyInvitations),
            "",
            "Could not load your invitations",
        )
    }

    /// After sign-in: looks for invitations without a spinner, to tell the
    /// user about them once.
    pub(crate) fn check_invitations(&mut self) -> Vec<Effect> {
        let out = self.send(
            Request::Account(AccountRequest::MyInvitations),
            Some(Slot::MyInvitations),
            "",
            "Could not load your invitations",
        );
        if let Some(Effect::Api(id, _)) = out.first() {
            if let Some(f) = self.requests.in_flight.get_mut(id) {
                f.quiet = true;
            }
        }
        out
    }

    pub(crate) fn update_invitations(&mut self, action: Action) -> Vec<Effect> {
        let rows = self.invitations.items().len();
        let v = &mut self.invitations;
        match action {
            Action::Up => v.selected = v.selected.saturating_sub(1),
            Action::Down => v.selected = (v.selected + 1).min(rows.saturating_sub(1)),
            Action::Top => v.selected = 0,
            Action::Bottom => v.selected = rows.saturating_sub(1),
            Action::Back => {
                v.open = false;
                self.requests.latest.remove(&Slot::MyInvitations);
            }
            Action::Retry => return self.load_invitations(),
            Action::Accept => return self.accept_invitation(),
            Action::Decline => {
                if v.answering.is_some() {
                    return Vec::new();
                }
                if let Some(i) = v.selected_item() {
                    let tenant = clean(&i.tenant_name).into_owned();
                    self.modal = Some(Modal::Confirm {
                        question: format!(
                            "Decline the invitation to {tenant}? Its admins can invite you again."
                        ),
                        action: Confirmable::DeclineInvitation { id: i.id, tenant },
                    });
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn accept_invitation(&mut self) -> Vec<Effect> {
        if self.invitations.answering.is_some() {
            return Vec::new();
        }
        let Some(i) = self.invitations.selected_item() else {
            return Vec::new();
        };
        let (id, tenant) = (i.id, clean(&i.tenant_name).into_owned());
        self.invitations.answering = Some(id);
        self.send_about(
            Request::Account(AccountRequest::Accept { id }),
            None,
            "",
            &format!("Could not accept the invitation to {tenant}"),
            None,
            Some(id),
        )
    }

    /// The confirmed decline.
    pub(crate) fn decline_invitation(&mut self, id: Uuid, tenant: &str) -> Vec<Effect> {
        self.invitations.answering = Some(id);
        self.send_about(
            Request::Account(AccountRequest::Decline { id }),
            None,
            &format!("Declined the invitation to {tenant}"),
            &format!("Could not decline the invitation to {tenant}"),
            None,
            Some(id),
        )
    }

    pub(crate) fn on_account_response(
        &mut self,
        flight: &InFlight,
        response: AccountResponse,
    ) -> Vec<Effect> {
        match response {
            AccountResponse::MyInvitations(r) => self.on_my_invitations(flight, r),
            AccountResponse::Accepted(r) => return self.on_accepted(flight, r),
            AccountResponse::Declined(r) => {
                self.invitations.answering = None;
                match r {
                    Ok(()) => {
                        self.forget_invitation(flight.target);
                        self.toast(Toast::success(flight.ok.clone()));
                    }
                    Err(e) => {
                        self.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
                        return self.load_invitations();
                    }
                }
            }
            AccountResponse::PasswordChanged(r) => self.on_password_changed(flight, r),
            AccountResponse::LoggedOutEverywhere(r) => return self.on_logged_out_everywhere(r),
        }
        Vec::new()
    }

    fn on_my_invitations(&mut self, flight: &InFlight, r: ApiResult<Vec<PendingInvitation>>) {
        // The quiet check after sign-in fails quietly: the log has it.
        if flight.quiet && !self.invitations.open {
            if let Ok(list) = r {
                let n = list.len();
                self.invitations.list = Load::Loaded(list);
                if !self.invitations.announced && n > 0 {
                    self.toast(Toast::info(match n {
                        1 => "You have a pending invitation: :invitations to answer it".into(),
                        n => format!("You have {n} pending invitations: :invitations to answer"),
                    }));
                }
                self.invitations.announced = true;
            }
            return;
        }
        self.invitations.announced = true;
        self.invitations.list = match r {
            Ok(list) => Load::Loaded(list),
            Err(e) => Load::Failed(e.message()),
        };
        let rows = self.invitations.items().len();
        self.invitations.selected = self.invitations.selected.min(rows.saturating_sub(1));
    }

    fn on_accepted(&mut self, flight: &InFlight, r: ApiResult<AcceptedInvitation>) -> Vec<Effect> {
        self.invitations.answering = None;
        match r {
            Ok(accepted) => {
                let m = &accepted.membership;
                self.forget_invitation(flight.target);
                self.toast(Toast::success(format!(
                    "Joined {} as {}",
                    clean(&m.tenant_name),
                    m.role
                )));
                // The new tenant belongs in the list and, if it is the
                // first, in the header as the current one.
                self.load_tenants()
            }
            Err(e) => {
                self.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
                // Expired or revoked meanwhile: the list shows what is left.
                self.load_invitations()
            }
        }
    }

    fn forget_invitation(&mut self, id: Option<uuid::Uuid>) {
        if let Some(list) = self.invitations.list.loaded_mut() {
            list.retain(|i| Some(i.id) != id);
        }
        let rows = self.invitations.items().len();
        self.invitations.selected = self.invitations.selected.min(rows.saturating_sub(1));
    }
}
