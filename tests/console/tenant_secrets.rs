//! A tenant's secrets from its Settings tab: `k` sets or clears one
//! (write-only: typed masked, never shown back or in a debug line), a bad
//! name or a removal of nothing is refused before sending, and the tab says
//! which are set.

use super::*;

const KEY: &str = "sk-test-0123456789abcd";

/// Open Arms' detail on its Settings tab, with the secret form open.
fn secret_form() -> App {
    let mut app = loaded();
    press(&mut app, &[code(KeyCode::Enter)]);
    press(&mut app, &[key('l'); 3]);
    press(&mut app, &[key('k')]);
    assert!(app.modal.is_some(), "the secret form opens");
    app
}

#[test]
fn setting_a_secret_sends_it_once_and_shows_it_nowhere() {
    let mut app = secret_form();
    typed(&mut app, "openai_api_key");
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, KEY);
    let screen = render(&app, 100, 30);
    assert!(!screen.contains(KEY), "typed masked:\n{screen}");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(!format!("{fx:?}").contains(KEY), "no debug line holds it");
    let (id, req) = requests(&fx).into_iter().next().expect("a save");
    let Request::UpdateTenant { patch, .. } = req else {
        panic!("expected an update, got {req:?}");
    };
    let secrets = patch.settings.and_then(|s| s.secrets).expect("secrets");
    assert_eq!(secrets.get("openai_api_key").map(String::as_str), Some(KEY));
    assert_eq!(secrets.len(), 1, "only the one typed");

    // The server answers with the tenant, its secrets masked.
    let mut t = app
        .session
        .tenant(Uuid::from_u128(1))
        .cloned()
        .expect("Open Arms");
    t.settings
        .secrets
        .insert("openai_api_key".into(), "••••abcd".into());
    app.on_response(id, Response::TenantUpdated(Ok(t)));
    app.toasts.clear();
    let screen = render(&app, 120, 30);
    assert!(
        screen.contains("openai_api_key  set (••••abcd)"),
        "{screen}"
    );
    assert!(!screen.contains(KEY));
}

#[test]
fn a_bad_name_or_removing_nothing_is_refused_before_sending() {
    let mut app = secret_form();
    typed(&mut app, "open ai");
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, KEY);
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty());
    let screen = render(&app, 100, 30);
    assert!(
        screen.contains("use 1 to 64 letters, digits, _ or -"),
        "{screen}"
    );

    let mut app = secret_form();
    typed(&mut app, "crm_token");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty());
    let screen = render(&app, 100, 30);
    assert!(
        screen.contains("crm_token is not set, so there is nothing to remove"),
        "{screen}"
    );
}

#[test]
fn an_empty_value_removes_a_secret_that_is_set() {
    let mut app = loaded();
    let mut t = app
        .session
        .tenant(Uuid::from_u128(1))
        .cloned()
        .expect("Open Arms");
    t.settings
        .secrets
        .insert("crm_token".into(), "••••wxyz".into());
    app.session.replace_tenant(t);
    press(&mut app, &[code(KeyCode::Enter)]);
    press(&mut app, &[key('l'); 3]);
    press(&mut app, &[key('k')]);
    typed(&mut app, "crm_token");
    let fx = press(&mut app, &[ctrl('s')]);
    let (_, req) = requests(&fx).into_iter().next().expect("a save");
    let Request::UpdateTenant { patch, .. } = req else {
        panic!("expected an update, got {req:?}");
    };
    let secrets = patch.settings.and_then(|s| s.secrets).expect("secrets");
    assert_eq!(secrets.get("crm_token").map(String::as_str), Some(""));
}
