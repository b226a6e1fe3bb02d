//! `:password` (the form and its answer), `:logout-all`, and the end of the
//! session the console runs with.

use super::{AccountRequest, SignedOut};
use crate::api::{ApiError, ApiResult};
use crate::console::app::{App, Confirmable, FormPurpose, InFlight, Modal, OpenForm};
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::widgets::form::Field;
use crate::console::widgets::toast::Toast;

/// The current and the new password, as typed; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Passwords {
    pub current: String,
    pub new: String,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passwords { <redacted> }")
    }
}

/// What the local admin is told instead of a password form.
pub const LOCAL_ADMIN_HAS_NO_PASSWORD: &str = "The local admin has no password: it signs in \
     through the local session file, so there is none to change.";

impl App {
    /// `:password`: the form, or why there is none.
    pub(crate) fn password_command(&mut self) -> Vec<Effect> {
        if self.local_session {
            self.toast(Toast::info(LOCAL_ADMIN_HAS_NO_PASSWORD));
        } else {
            self.open_form(FormPurpose::ChangePassword);
        }
        Vec::new()
    }

    pub(crate) fn password_fields() -> (String, Vec<Field>) {
        (
            "Change your password".to_string(),
            vec![
                Field::secret("current_password", "Current"),
                Field::secret("new_password", "New"),
                Field::secret("repeat_password", "Repeat new"),
            ],
        )
    }

    /// Checks what can be checked here (the repeat), then sends.
    pub(crate) fn submit_password(&mut self, open: &mut OpenForm) -> (Vec<Effect>, bool) {
        let f = &mut open.form;
        f.clear_errors();
        let (current, new) = (f.value("current_password"), f.value("new_password"));
        let theme = self.theme.clone();
        if current.is_empty() {
            f.set_error("current_password", "enter your current password", &theme);
        }
        if new.chars().count() < 8 {
            f.set_error("new_password", "must be at least 8 characters", &theme);
        } else if new != f.value("repeat_password") {
            f.set_error("repeat_password", "does not match the new password", &theme);
        }
        if f.fields.iter().any(|x| x.error.is_some()) {
            f.set_failure("Fix the marked field and save again.".into());
            return (Vec::new(), true);
        }
        let req = Request::Account(AccountRequest::ChangePassword(Passwords { current, new }));
        let effects = self.send(
            req,
            None,
            "Password changed; your other sessions were signed out",
            "Could not change the password",
        );
        open.pending = Some(RequestId(self.requests.next_id));
        open.form.submitting = true;
        (effects, true)
    }

    pub(crate) fn on_password_changed(&mut self, flight: &InFlight, r: ApiResult<()>) {
        let open = match &mut self.modal {
            Some(Modal::Form(open)) if open.purpose == FormPurpose::ChangePassword => Some(open),
            _ => None,
        };
        match r {
            Ok(()) => {
                if open.is_some() {
                    self.modal = None;
                }
                self.toast(Toast::success(flight.ok.clone()));
            }
            // The open form says what went wrong where it went wrong; a
            // toast would cover it.
            Err(e) => match open {
                Some(open) => {
                    open.pending = None;
                    open.form.submitting = false;
                    password_failure(open, &e, &self.theme);
                }
                None => self.toast(Toast::error(format!("{}: {}", flight.fail, e.message()))),
            },
        }
    }

    /// `:logout-all`: asks first; every session ends, this one too.
    pub(crate) fn logout_all_command(&mut self) -> Vec<Effect> {
        let who = self
            .session
            .me
            .loaded()
            .map(|m| crate::console::sanitize::cleaned(&m.user.email))
            .unwrap_or_else(|| "your account".into());
        self.modal = Some(Modal::Confirm {
            question: format!(
                "Sign out everywhere? Every session of {who} ends, this console's too; \
                 you sign in again afterwards."
            ),
            action: Confirmable::LogoutEverywhere,
        });
        Vec::new()
    }

    pub(crate) fn logout_everywhere(&mut self) -> Vec<Effect> {
        self.send(
            Request::Account(AccountRequest::LogoutEverywhere),
            None,
            "",
            "Could not sign out everywhere",
        )
    }

    pub(crate) fn on_logged_out_everywhere(&mut self, r: ApiResult<()>) -> Vec<Effect> {
        match r {
            Ok(()) => self.sign_out(SignedOut::Everywhere),
            Err(e) => {
                self.toast(Toast::error(format!(
                    "Could not sign out everywhere: {}",
                    e.message()
                )));
                Vec::new()
            }
        }
    }

    /// The session is over: the console closes and says how to sign in again.
    pub(crate) fn sign_out(&mut self, how: SignedOut) -> Vec<Effect> {
        self.signed_out = Some(how);
        self.quit = true;
        let mut out = self.notifications.save_history();
        out.push(Effect::Quit);
        out
    }

    /// Whether `err` says the server no longer knows this session.
    pub(crate) fn session_ended(err: &ApiError) -> bool {
        err.status() == Some(401)
    }
}

/// Shows a refused change in the form: a wrong current password under its
/// field (emptied, to type again), anything else where it belongs.
fn password_failure(open: &mut OpenForm, e: &ApiError, theme: &crate::console::theme::Theme) {
    let form = &mut open.form;
    match e.problem() {
        Some(p) if p.status == 403 => {
            form.clear_errors();
            if let Some(f) = form
                .fields
                .iter_mut()
                .find(|f| f.name == "current_password")
            {
                *f = Field::secret("current_password", "Current");
            }
            form.set_error(
                "current_password",
                "wrong password; nothing was changed",
                theme,
            );
            form.set_failure("The current password is wrong.".into());
        }
        Some(p) => form.apply_problem(p),
        None => form.set_failure(e.message()),
    }
}
