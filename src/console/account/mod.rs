//! The signed-in user's own account: the invitations waiting for them
//! (`:invitations`), the password (`:password`) and signing out everywhere
//! (`:logout-all`).

mod invitations;
mod invitations_pane;
pub(crate) mod keys;
mod password;
mod requests;

pub use invitations::InvitationsView;
pub use password::Passwords;
pub use requests::{execute, AccountRequest, AccountResponse};

use crate::console::app::{App, InFlight};
use crate::console::component::with_cx;
use crate::console::effect::Effect;

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
    /// The account's replies: the invitations' go to their view.
    pub(crate) fn on_account_response(
        &mut self,
        flight: &InFlight,
        response: AccountResponse,
    ) -> Vec<Effect> {
        match response {
            AccountResponse::PasswordChanged(r) => {
                self.on_password_changed(flight, r);
                Vec::new()
            }
            AccountResponse::LoggedOutEverywhere(r) => self.on_logged_out_everywhere(r),
            other => with_cx!(self, invitations, |v, cx| v
                .on_account(flight, other, &mut cx)),
        }
    }
}
