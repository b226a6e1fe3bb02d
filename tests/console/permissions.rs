//! A member's permissions in the console: the members tab shows what each
//! member may do (role, grants, withdrawals), `p` opens a checklist that
//! grants or withdraws single permissions, and `?` names the signed-in
//! user's own.

use switchboard::domain::{Grants, MemberPermissions, MembershipSummary, Permission};

use super::*;

fn agent_with_grants() -> Member {
    Member {
        user_id: Uuid::from_u128(7),
        email: "ana@openarms.org".into(),
        name: "Ana Silva".into(),
        role: Role::Agent,
        joined_at: Utc.with_ymd_and_hms(2025, 2, 3, 0, 0, 0).unwrap(),
        invited_by_tenant: None,
        grants: Grants {
            granted: vec![Permission::AuditView],
            withdrawn: vec![Permission::PlaygroundUse],
        },
    }
}

/// The console on Open Arms' members tab, listing Ana.
fn members_tab() -> App {
    let mut app = loaded();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::LoadTenantDetail { .. }));
    app.on_response(
        id,
        Response::TenantDetail(Box::new(TenantDetailData {
            members: Ok(vec![agent_with_grants()]),
            invitations: Ok(vec![]),
            keys: Ok(vec![]),
            workspaces: Ok(vec![]),
        })),
    );
    app
}

fn at(p: Permission) -> usize {
    Permission::ALL.iter().position(|x| *x == p).unwrap()
}

#[test]
fn snapshot_members_tab_shows_a_members_effective_permissions() {
    let app = members_tab();
    let screen = render(&app, 100, 24);
    assert!(screen.contains("+audit:view"), "{screen}");
    assert!(screen.contains("−playground:use"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_the_permissions_checklist_grants_and_withdraws() {
    let mut app = members_tab();
    press(&mut app, &[key('p')]);
    // Down to leads:approve (the agent's role lacks it) and grant it.
    for _ in 0..at(Permission::LeadsApprove) {
        press(&mut app, &[key('j')]);
    }
    press(&mut app, &[key(' ')]);
    let screen = render(&app, 100, 30);
    assert!(screen.contains("not saved"), "{screen}");
    insta::assert_snapshot!(screen);

    // Saving sends the whole set; the reply closes the checklist.
    let fx = press(&mut app, &[ctrl('s')]);
    let reqs = requests(&fx);
    let (id, grants) = match &reqs[..] {
        [(id, Request::SetMemberPermissions { user, grants, .. })] => {
            assert_eq!(*user, Uuid::from_u128(7));
            (*id, grants.clone())
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        grants.granted,
        vec![Permission::LeadsApprove, Permission::AuditView]
    );
    assert_eq!(grants.withdrawn, vec![Permission::PlaygroundUse]);
    let mut member = agent_with_grants();
    member.grants = grants;
    app.on_response(
        id,
        Response::MemberPermissionsSaved(Ok(MemberPermissions::of(&member))),
    );
    let screen = render(&app, 100, 24);
    assert!(!screen.contains("not saved"), "{screen}");
    assert!(screen.contains("+leads:approve"), "{screen}");
}

#[test]
fn esc_leaves_the_checklist_without_saving() {
    let mut app = members_tab();
    press(&mut app, &[key('p'), key(' ')]);
    let fx = press(&mut app, &[code(KeyCode::Esc)]);
    assert!(requests(&fx).is_empty());
    let screen = render(&app, 100, 24);
    assert!(!screen.contains("not saved"), "{screen}");
    // The member's grants are as the server said.
    assert!(screen.contains("−playground:use"), "{screen}");
}

#[test]
fn a_failed_save_keeps_the_checklist_and_its_changes() {
    let mut app = members_tab();
    press(&mut app, &[key('p'), key(' ')]);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let id = id_of(&fx, |r| matches!(r, Request::SetMemberPermissions { .. }));
    app.on_response(id, Response::MemberPermissionsSaved(Err(unreachable())));
    let screen = render(&app, 100, 30);
    assert!(screen.contains("not saved"), "{screen}");
    assert!(
        screen.contains("Could not save the permissions"),
        "{screen}"
    );
}

#[test]
fn snapshot_help_names_your_role_and_permissions_in_the_current_tenant() {
    let mut app = new_app();
    let fx = app.start();
    let me_id = id_of(&fx, |r| *r == Request::Me);
    let list_id = id_of(&fx, |r| *r == Request::ListTenants);
    let mut who = me(false);
    who.memberships = three_tenants()
        .iter()
        .map(|t| MembershipSummary {
            tenant_id: t.id,
            tenant_slug: t.slug.clone(),
            tenant_name: t.name.clone(),
            tier: t.tier,
            status: t.status,
            role: Role::Agent,
            // The agent's, a grant of leads:approve, playground withdrawn.
            permissions: vec![
                Permission::LeadsViewAssigned,
                Permission::LeadsEdit,
                Permission::LeadsApprove,
                Permission::AnalyticsViewOwn,
                Permission::KnowledgeView,
            ],
        })
        .collect();
    app.on_response(me_id, Response::Me(Ok(who)));
    app.on_response(list_id, Response::Tenants(Ok(three_tenants())));
    press(&mut app, &[key('?')]);
    let screen = render(&app, 100, 30);
    assert!(screen.contains("Your permissions (agent)"), "{screen}");
    assert!(screen.contains("(granted)"), "{screen}");
    assert!(screen.contains("withdrawn"), "{screen}");
    insta::assert_snapshot!(screen);
}
