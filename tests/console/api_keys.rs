//! The API keys tab: the new-key form (a key may be bound to one of the
//! tenant's workspaces, so the leads its form posts land there), the table
//! with each key's workspace and state, and rotating a key.

use super::agents::workspaces;
use super::*;
use switchboard::domain::RotatedApiKey;

/// Beta Co's detail on its API keys tab, with `keys` and its workspaces
/// listed, on the fixed clock.
fn keys_tab(keys: Vec<ApiKey>) -> App {
    let mut app = loaded();
    app.now = now();
    let fx = press(&mut app, &[key('j'), code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadTenantDetail { .. }));
    let data = TenantDetailData {
        members: Ok(vec![]),
        invitations: Ok(vec![]),
        keys: Ok(keys),
        workspaces: Ok(workspaces()),
    };
    app.on_response(id, Response::TenantDetail(Box::new(data)));
    press(&mut app, &[code(KeyCode::Tab), code(KeyCode::Tab)]);
    app
}

/// The new-key form open over an empty keys tab.
fn key_form_open() -> App {
    let mut app = keys_tab(vec![]);
    press(&mut app, &[key('n')]);
    app
}

/// A key made a day before `now()`, bound to `workspace` (by id).
fn api_key(n: u128, name: &str, workspace: Option<u128>) -> ApiKey {
    ApiKey {
        id: Uuid::from_u128(n),
        name: name.into(),
        prefix: format!("sbk_{n:06}"),
        last_four: "wxyz".into(),
        scope: ApiKeyScope::LeadsIngest,
        created_by: None,
        workspace_id: workspace.map(Uuid::from_u128),
        created_at: now() - chrono::Duration::days(1),
        last_used_at: None,
        revoked_at: None,
        expires_at: None,
        replaced_by: None,
    }
}

/// One key in each state: active (bound to Website), rotating with 45
/// minutes left (replaced by the active one), expired, revoked.
fn keys_in_every_state() -> Vec<ApiKey> {
    let active = api_key(71, "website form", Some(301));
    let mut rotating = api_key(72, "website form", Some(301));
    rotating.expires_at = Some(now() + chrono::Duration::minutes(45));
    rotating.replaced_by = Some(active.id);
    rotating.last_used_at = Some(now());
    let mut expired = api_key(73, "old import", None);
    expired.expires_at = Some(now() - chrono::Duration::hours(2));
    expired.replaced_by = Some(Uuid::from_u128(99));
    let mut revoked = api_key(74, "chat widget", Some(303));
    revoked.revoked_at = Some(now() - chrono::Duration::days(3));
    vec![active, rotating, expired, revoked]
}

#[test]
fn snapshot_the_keys_table_shows_each_keys_workspace_and_state() {
    let mut app = keys_tab(keys_in_every_state());
    // The rotating key, whose story is told under the table.
    press(&mut app, &[key('j')]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Workspace"), "{screen}");
    assert!(screen.contains("expires in 45m"), "{screen}");
    assert!(
        screen.contains("replaced by sbk_000071…wxyz; works until 2026-03-02 12:45 UTC."),
        "{screen}"
    );
    assert!(
        screen.contains("—"),
        "a key bound to no workspace: {screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_the_rotate_form_asks_the_overlap() {
    let mut app = keys_tab(keys_in_every_state());
    press(&mut app, &[key('R')]);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Rotate key sbk_000071…"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn rotating_sends_the_overlap_and_shows_the_new_secret_once() {
    let mut app = keys_tab(keys_in_every_state());
    press(&mut app, &[key('R')]);
    // 60 is offered; make it 90.
    press(
        &mut app,
        &[code(KeyCode::Backspace), code(KeyCode::Backspace)],
    );
    typed(&mut app, "90");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a rotation");
    assert_eq!(
        req,
        Request::RotateKey {
            tenant: Uuid::from_u128(2).to_string(),
            id: Uuid::from_u128(71),
            overlap_minutes: 90,
        }
    );
    let mut previous = api_key(71, "website form", Some(301));
    previous.expires_at = Some(now() + chrono::Duration::minutes(90));
    previous.replaced_by = Some(Uuid::from_u128(75));
    let secret = "sbk_000075SECRETSECRETSECRETSECRETwxyz".to_string();
    app.on_response(
        id,
        Response::KeyRotated(Ok(RotatedApiKey {
            api_key: api_key(75, "website form", Some(301)),
            key: secret.clone(),
            previous,
        })),
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains(&secret), "{screen}");
    assert!(screen.contains("shown only once"), "{screen}");
    // Copied with the secret dialog's key, as on creation.
    let fx = press(&mut app, &[key('c')]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::CopyToClipboard(s) if *s == secret)),
        "{fx:?}"
    );
    press(&mut app, &[code(KeyCode::Esc)]);
    let screen = render(&app, 80, 24);
    assert!(!screen.contains(&secret), "shown once: {screen}");
    // The old key (still selected) now expires, replaced by the new one.
    assert!(
        screen.contains("replaced by sbk_000075…wxyz; works until 2026-03-02 13:30 UTC."),
        "{screen}"
    );
    assert!(screen.contains("sbk_000075…wxyz Website"), "{screen}");
}

#[test]
fn the_overlap_left_empty_is_an_hour() {
    let mut app = keys_tab(keys_in_every_state());
    press(&mut app, &[key('R')]);
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).iter().any(|(_, r)| matches!(
        r,
        Request::RotateKey {
            overlap_minutes: 60,
            ..
        }
    )));
}

#[test]
fn an_overlap_past_seven_days_is_caught_in_the_form() {
    let mut app = keys_tab(keys_in_every_state());
    press(&mut app, &[key('R')]);
    press(
        &mut app,
        &[code(KeyCode::Backspace), code(KeyCode::Backspace)],
    );
    typed(&mut app, "10081");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty(), "{fx:?}");
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("must be 0 to 10080 minutes (7 days)"),
        "{screen}"
    );
}

#[test]
fn a_revoked_or_rotated_key_is_not_offered_for_rotation() {
    for row in [1, 2, 3] {
        let mut app = keys_tab(keys_in_every_state());
        let down = vec![key('j'); row];
        press(&mut app, &down);
        let fx = press(&mut app, &[key('R')]);
        assert!(requests(&fx).is_empty());
        assert!(
            !matches!(app.modal, Some(Modal::Form(_))),
            "row {row} opened the form"
        );
        assert!(
            app.toasts.iter().any(|t| t.text.contains("rotate")),
            "row {row} says why"
        );
    }
}

#[test]
fn snapshot_the_key_form_offers_the_tenants_workspaces() {
    let mut app = key_form_open();
    typed(&mut app, "website form");
    // To the workspace choice, then on to the second workspace.
    press(
        &mut app,
        &[
            code(KeyCode::Tab),
            code(KeyCode::Right),
            code(KeyCode::Right),
        ],
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Inbox"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn the_created_key_request_carries_the_chosen_workspace() {
    let mut app = key_form_open();
    typed(&mut app, "website form");
    press(&mut app, &[code(KeyCode::Tab), code(KeyCode::Right)]);
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a create");
    let Request::CreateKey { new, .. } = req else {
        panic!("expected a key creation, got {req:?}");
    };
    assert_eq!(new.name, "website form");
    assert_eq!(new.workspace_id, Some(Uuid::from_u128(301)));
    let api_key = ApiKey {
        id: Uuid::from_u128(77),
        name: "website form".into(),
        prefix: "sbk_ab12".into(),
        last_four: "wxyz".into(),
        scope: ApiKeyScope::LeadsIngest,
        created_by: None,
        workspace_id: Some(Uuid::from_u128(301)),
        created_at: Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap(),
        last_used_at: None,
        revoked_at: None,
        expires_at: None,
        replaced_by: None,
    };
    app.on_response(
        id,
        Response::KeyCreated(Ok(CreatedApiKey {
            api_key,
            key: "sbk_ab12SECRETwxyz".into(),
        })),
    );
    assert!(app
        .toasts
        .iter()
        .any(|t| t.text == "Created API key website form for Website"));
}

#[test]
fn a_key_left_on_none_is_bound_to_no_workspace() {
    let mut app = key_form_open();
    typed(&mut app, "import script");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).iter().any(|(_, r)| matches!(
        r,
        Request::CreateKey { new, .. } if new.name == "import script" && new.workspace_id.is_none()
    )));
}
