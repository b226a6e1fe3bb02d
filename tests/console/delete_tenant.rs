//! Deleting a tenant from the Tenants list: `D` asks to type the slug,
//! nothing is sent until it is typed exactly, and the deleted tenant leaves
//! the list (and stops being current).

use super::*;
use switchboard::domain::TenantDeletion;

fn open_arms() -> Uuid {
    Uuid::from_u128(1)
}

#[test]
fn snapshot_delete_asks_for_the_slug_and_sends_nothing_until_it_is_typed() {
    let mut app = loaded();
    assert_eq!(app.session.current_tenant, Some(open_arms()));
    press(&mut app, &[key('D')]);
    typed(&mut app, "open-arm");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty(), "nothing is sent: {fx:?}");
    app.toasts.clear();
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("type open-arms exactly; nothing was deleted"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);

    // Typed exactly: the request goes.
    typed(&mut app, "s");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = requests(&fx).into_iter().next().expect("a delete");
    assert_eq!(
        req,
        Request::DeleteTenant {
            tenant: open_arms().to_string()
        }
    );
    let gone = TenantDeletion {
        id: open_arms(),
        name: "Open Arms".into(),
        slug: "open-arms".into(),
        requested_at: Utc::now(),
    };
    app.on_response(id, Response::TenantDeleted(Ok(gone)));
    let listed = app.session.tenants.loaded().expect("loaded");
    assert!(listed.iter().all(|t| t.id != open_arms()));
    assert_ne!(app.session.current_tenant, Some(open_arms()));
    assert!(app.session.current_tenant.is_some(), "another is current");
    let said: Vec<&str> = app.toasts.iter().map(|t| t.text.as_str()).collect();
    assert!(
        said.contains(&"Deleted Open Arms; its data is being purged"),
        "{said:?}"
    );
    assert!(app.modal.is_none(), "the form closed");
}

#[test]
fn a_refused_delete_keeps_the_form_and_the_tenant() {
    let mut app = loaded();
    press(&mut app, &[key('D')]);
    typed(&mut app, "open-arms");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, _) = requests(&fx).into_iter().next().expect("a delete");
    let refused = ApiError::Problem(Problem {
        kind: "/problems/forbidden".into(),
        title: "Not allowed".into(),
        status: 403,
        detail: Some(
            "your role (manager) lacks the tenant:delete permission; ask a tenant admin".into(),
        ),
        errors: vec![],
        retry_after: None,
    });
    app.on_response(id, Response::TenantDeleted(Err(refused)));
    let listed = app.session.tenants.loaded().expect("loaded");
    assert!(listed.iter().any(|t| t.id == open_arms()));
    let screen = render(&app, 100, 24);
    assert!(screen.contains("tenant:delete"), "{screen}");
}

#[test]
fn the_platform_tenant_is_not_offered_for_deletion() {
    let mut app = loaded();
    // The platform tenant is listed first.
    press(&mut app, &[key('g'), key('D')]);
    assert!(app.modal.is_none(), "no form opens");
    let said: Vec<&str> = app.toasts.iter().map(|t| t.text.as_str()).collect();
    assert!(
        said.contains(&"The platform tenant cannot be deleted"),
        "{said:?}"
    );
}
