//! The signed-in user's account: `:invitations` (list, accept, decline, the
//! hint after sign-in), `:password`, `:logout-all` and a session that ends.

use super::leads::now;
use super::views::command;
use super::*;
use switchboard::console::account::{AccountRequest, AccountResponse, Passwords, SignedOut};
use switchboard::domain::{AcceptedInvitation, MembershipSummary, PendingInvitation};

fn invitation(n: u128, tenant: &str, role: Role, by: Option<&str>, days: i64) -> PendingInvitation {
    PendingInvitation {
        id: Uuid::from_u128(700 + n),
        tenant_id: Uuid::from_u128(n),
        tenant_slug: tenant.to_lowercase().replace(' ', "-"),
        tenant_name: tenant.into(),
        role,
        invited_by_email: by.map(String::from),
        created_at: now() - chrono::Duration::days(7 - days),
        expires_at: now() + chrono::Duration::days(days) + chrono::Duration::hours(3),
    }
}

fn two_invitations() -> Vec<PendingInvitation> {
    vec![
        invitation(2, "Beta Co", Role::Agent, Some("maria@beta.example"), 6),
        invitation(5, "Casa Azul", Role::Admin, None, 0),
    ]
}

fn accepted(tenant: &str, role: Role) -> AcceptedInvitation {
    AcceptedInvitation {
        membership: MembershipSummary {
            tenant_id: Uuid::from_u128(2),
            tenant_slug: tenant.to_lowercase().replace(' ', "-"),
            tenant_name: tenant.into(),
            tier: Tier::Pro,
            status: TenantStatus::Active,
            role,
            permissions: role.permissions().to_vec(),
        },
        session: None,
    }
}

fn account_request(fx: &[Effect], pred: impl Fn(&AccountRequest) -> bool) -> RequestId {
    id_of(fx, |r| matches!(r, Request::Account(a) if pred(a)))
}

fn problem(status: u16, title: &str, detail: &str) -> ApiError {
    ApiError::Problem(Problem {
        kind: "about:blank".into(),
        title: title.into(),
        status,
        detail: Some(detail.into()),
        errors: vec![],
        retry_after: None,
    })
}

/// `:invitations` answered with `list`.
fn invitations_open(list: Vec<PendingInvitation>) -> App {
    let mut app = loaded();
    app.now = now();
    let fx = command(&mut app, "invitations");
    let id = account_request(&fx, |a| *a == AccountRequest::MyInvitations);
    assert!(render(&app, 80, 24).contains("Loading your invitations"));
    app.on_response(
        id,
        Response::Account(AccountResponse::MyInvitations(Ok(list))),
    );
    app
}

// ---------------------------------------------------------------- invitations

#[test]
fn snapshot_invitations_list() {
    let app = invitations_open(two_invitations());
    let screen = render(&app, 80, 24);
    for text in [
        "Your invitations (2)",
        "Beta Co",
        "maria@beta.example",
        "(in 6 days)",
        "(in 3 h)",
        "enter joins Beta Co (beta-co) as an agent",
        "accept (join the tenant)",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_invitations_empty_says_what_they_are() {
    let app = invitations_open(vec![]);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("No invitations are waiting for you"),
        "{screen}"
    );
    assert!(
        screen.contains("switchboard invitation accept TOKEN"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn a_failed_load_is_inline_and_r_retries() {
    let mut app = loaded();
    let fx = command(&mut app, "invitations");
    let id = account_request(&fx, |a| *a == AccountRequest::MyInvitations);
    app.on_response(
        id,
        Response::Account(AccountResponse::MyInvitations(Err(unreachable()))),
    );
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Could not load your invitations"),
        "{screen}"
    );
    assert!(screen.contains("Press r to retry"), "{screen}");
    let fx = press(&mut app, &[key('r')]);
    account_request(&fx, |a| *a == AccountRequest::MyInvitations);
}

#[test]
fn accepting_joins_the_tenant_reloads_tenants_and_toasts() {
    let mut app = invitations_open(two_invitations());
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let beta = Uuid::from_u128(702);
    let id = account_request(&fx, |a| *a == AccountRequest::Accept { id: beta });
    // A second press while it is in flight sends nothing.
    assert!(requests(&press(&mut app, &[key('a')])).is_empty());
    assert!(render(&app, 80, 24).contains("Answering…"));
    let fx = app.on_response(
        id,
        Response::Account(AccountResponse::Accepted(Ok(accepted(
            "Beta Co",
            Role::Agent,
        )))),
    );
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text == "Joined Beta Co as agent"),
        "{:?}",
        app.toasts
    );
    id_of(&fx, |r| *r == Request::ListTenants);
    assert_eq!(app.invitations.items().len(), 1);
    assert_eq!(app.invitations.items()[0].tenant_name, "Casa Azul");
}

#[test]
fn a_refused_accept_says_why_and_reloads_the_list() {
    let mut app = invitations_open(two_invitations());
    press(&mut app, &[key('j')]);
    let fx = press(&mut app, &[key('a')]);
    let id = account_request(&fx, |a| matches!(a, AccountRequest::Accept { .. }));
    let fx = app.on_response(
        id,
        Response::Account(AccountResponse::Accepted(Err(problem(
            402,
            "Limit reached",
            "Casa Azul has all the users its tier allows",
        )))),
    );
    let toast = app
        .toasts
        .iter()
        .find(|t| t.kind == ToastKind::Error)
        .expect("an error toast");
    assert!(
        toast
            .text
            .starts_with("Could not accept the invitation to Casa Azul: Limit reached"),
        "{}",
        toast.text
    );
    account_request(&fx, |a| *a == AccountRequest::MyInvitations);
    assert!(app.invitations.answering().is_none());
}

#[test]
fn declining_asks_first_then_removes_the_row() {
    let mut app = invitations_open(two_invitations());
    press(&mut app, &[key('d')]);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Decline the invitation to Beta Co?"),
        "{screen}"
    );
    // "no" keeps it and sends nothing.
    assert!(requests(&press(&mut app, &[key('n')])).is_empty());
    assert_eq!(app.invitations.items().len(), 2);
    press(&mut app, &[key('d')]);
    let fx = press(&mut app, &[key('y')]);
    let id = account_request(&fx, |a| {
        *a == AccountRequest::Decline {
            id: Uuid::from_u128(702),
        }
    });
    app.on_response(id, Response::Account(AccountResponse::Declined(Ok(()))));
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Declined the invitation to Beta Co"));
    assert_eq!(app.invitations.items().len(), 1);
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(!app.invitations.is_open());
    assert!(render(&app, 80, 24).contains("Tenants (4)"));
}

#[test]
fn after_sign_in_pending_invitations_are_told_once_without_a_spinner() {
    let mut app = new_app();
    let fx = app.start();
    let me_id = id_of(&fx, |r| *r == Request::Me);
    let list_id = id_of(&fx, |r| *r == Request::ListTenants);
    app.on_response(list_id, Response::Tenants(Ok(three_tenants())));
    let fx = app.on_response(me_id, Response::Me(Ok(me(false))));
    let id = account_request(&fx, |a| *a == AccountRequest::MyInvitations);
    // A background check: the header shows no spinner for it.
    assert!(!app.is_busy());
    app.on_response(
        id,
        Response::Account(AccountResponse::MyInvitations(Ok(two_invitations()))),
    );
    let hint = "You have 2 pending invitations: :invitations to answer";
    assert!(
        app.toasts.iter().any(|t| t.text == hint),
        "{:?}",
        app.toasts
    );
    // Opening the list shows them at once while it reloads.
    let fx = command(&mut app, "invitations");
    account_request(&fx, |a| *a == AccountRequest::MyInvitations);
    assert!(render(&app, 80, 24).contains("Casa Azul"));
}

#[test]
fn the_commands_complete_and_the_help_lists_the_keys() {
    let mut app = loaded();
    press(&mut app, &[key(':')]);
    typed(&mut app, "invi");
    press(&mut app, &[code(KeyCode::Tab)]);
    assert_eq!(
        app.command.as_ref().map(|c| c.input.as_str()),
        Some("invitations")
    );
    press(&mut app, &[code(KeyCode::Esc)]);
    let lines = app.keymap.help_lines();
    let at = lines
        .iter()
        .position(|l| *l == switchboard::console::keymap::HelpLine::Heading("Your invitations"))
        .expect("a help section");
    // Its two sections (the list, the selected invitation) come last.
    let keys: Vec<_> = lines[at + 1..].iter().collect();
    assert!(
        keys.contains(&&switchboard::console::keymap::HelpLine::Heading(
            "Your invitations: the selected one"
        ))
    );
    for want in ["enter/a", "d", "esc"] {
        assert!(
            keys.iter().any(|l| matches!(
                l,
                switchboard::console::keymap::HelpLine::Key { keys, .. } if keys == want
            )),
            "{want} missing from {keys:?}"
        );
    }
}

// ---------------------------------------------------------------- password

fn fill_password(app: &mut App, current: &str, new: &str, repeat: &str) -> Vec<Effect> {
    command(app, "password");
    typed(app, current);
    press(app, &[code(KeyCode::Tab)]);
    typed(app, new);
    press(app, &[code(KeyCode::Tab)]);
    typed(app, repeat);
    press(app, &[ctrl('s')])
}

#[test]
fn snapshot_password_form_masks_what_is_typed() {
    let mut app = loaded();
    command(&mut app, "password");
    typed(&mut app, "hunter22");
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, "a new long one");
    let screen = render(&app, 80, 24);
    assert!(!screen.contains("hunter22"), "{screen}");
    assert!(!screen.contains("a new long one"), "{screen}");
    assert!(screen.contains("••••••••"), "{screen}");
    // The state's debug output does not carry it either.
    assert!(!format!("{:?}", app.modal).contains("hunter22"));
    insta::assert_snapshot!(screen);
}

#[test]
fn a_repeat_that_differs_is_caught_before_anything_is_sent() {
    let mut app = loaded();
    let fx = fill_password(&mut app, "old password", "new password 1", "new password 2");
    assert!(requests(&fx).is_empty());
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("does not match the new password"),
        "{screen}"
    );
}

#[test]
fn snapshot_a_wrong_current_password_is_shown_in_the_form() {
    let mut app = loaded();
    let fx = fill_password(&mut app, "not it", "a new long one", "a new long one");
    let id = account_request(&fx, |a| {
        *a == AccountRequest::ChangePassword(Passwords {
            current: "not it".into(),
            new: "a new long one".into(),
        })
    });
    app.on_response(
        id,
        Response::Account(AccountResponse::PasswordChanged(Err(problem(
            403,
            "Forbidden",
            "the current password is wrong; nothing was changed",
        )))),
    );
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the form closed");
    };
    // Emptied to type again; the new password stays.
    assert_eq!(open.form.value("current_password"), "");
    assert_eq!(open.form.value("new_password"), "a new long one");
    assert!(!open.form.submitting);
    // The form says it; no toast covers the form.
    assert!(app.toasts.is_empty(), "{:?}", app.toasts);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("wrong password; nothing was changed"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn a_changed_password_closes_the_form_and_says_what_happened() {
    let mut app = loaded();
    let fx = fill_password(&mut app, "old password", "a new long one", "a new long one");
    let id = account_request(&fx, |a| matches!(a, AccountRequest::ChangePassword(_)));
    app.on_response(
        id,
        Response::Account(AccountResponse::PasswordChanged(Ok(()))),
    );
    assert!(app.modal.is_none());
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Password changed; your other sessions were signed out"));
    assert!(!app.quit, "this session stays signed in");
}

#[test]
fn snapshot_the_local_admin_is_told_it_has_no_password() {
    let mut app = loaded();
    app.local_session = true;
    let fx = command(&mut app, "password");
    assert!(requests(&fx).is_empty());
    assert!(app.modal.is_none());
    let toast = app.toasts.last().expect("a toast");
    assert!(
        toast.text.contains("local admin has no password"),
        "{}",
        toast.text
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains("local admin has no password"), "{screen}");
    insta::assert_snapshot!(screen);
}

// ---------------------------------------------------------------- sessions

#[test]
fn snapshot_logout_all_asks_first_then_closes_the_console() {
    let mut app = loaded();
    command(&mut app, "logout-all");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Sign out everywhere?"), "{screen}");
    assert!(screen.contains("n/esc no, keep it"), "{screen}");
    insta::assert_snapshot!(screen);
    assert!(requests(&press(&mut app, &[key('n')])).is_empty());
    assert!(!app.quit);
    command(&mut app, "logout-all");
    let fx = press(&mut app, &[key('y')]);
    let id = account_request(&fx, |a| *a == AccountRequest::LogoutEverywhere);
    let fx = app.on_response(
        id,
        Response::Account(AccountResponse::LoggedOutEverywhere(Ok(()))),
    );
    assert!(app.quit);
    assert_eq!(app.signed_out, Some(SignedOut::Everywhere));
    assert!(fx.contains(&Effect::Quit));
}

#[test]
fn a_refused_logout_all_keeps_the_console_open() {
    let mut app = loaded();
    command(&mut app, "logout-all");
    let fx = press(&mut app, &[key('y')]);
    let id = account_request(&fx, |a| *a == AccountRequest::LogoutEverywhere);
    app.on_response(
        id,
        Response::Account(AccountResponse::LoggedOutEverywhere(Err(unreachable()))),
    );
    assert!(!app.quit);
    assert!(app.toasts.iter().any(|t| t.kind == ToastKind::Error));
}

#[test]
fn a_session_the_server_no_longer_accepts_closes_the_console() {
    let mut app = loaded();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadTenantDetail { .. }));
    let gone = ApiError::Problem(Problem {
        kind: "/problems/unauthorized".into(),
        title: "Unauthorized".into(),
        status: 401,
        detail: Some("the session is invalid or has expired".into()),
        errors: vec![],
        retry_after: None,
    });
    let fx = app.on_response(
        id,
        Response::TenantDetail(Box::new(TenantDetailData {
            members: Err(gone.clone()),
            invitations: Err(gone.clone()),
            keys: Err(gone),
            workspaces: Ok(vec![]),
        })),
    );
    assert!(app.quit);
    assert_eq!(app.signed_out, Some(SignedOut::SessionEnded));
    assert!(fx.contains(&Effect::Quit));
    // The live stream noticed it first: the same.
    let mut app = loaded();
    app.update(Action::SessionEnded);
    assert_eq!(app.signed_out, Some(SignedOut::SessionEnded));
}
