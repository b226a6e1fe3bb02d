//! The new-API-key form: a key may be bound to one of the tenant's
//! workspaces, so the leads its form posts land there.

use super::agents::workspaces;
use super::*;

/// Beta Co's detail on its API keys tab, with its workspaces listed, and
/// the new-key form open.
fn key_form_open() -> App {
    let mut app = loaded();
    let fx = press(&mut app, &[key('j'), code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadTenantDetail { .. }));
    let data = TenantDetailData {
        members: Ok(vec![]),
        invitations: Ok(vec![]),
        keys: Ok(vec![]),
        workspaces: Ok(workspaces()),
    };
    app.on_response(id, Response::TenantDetail(Box::new(data)));
    press(&mut app, &[code(KeyCode::Tab), code(KeyCode::Tab)]);
    press(&mut app, &[key('n')]);
    app
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
