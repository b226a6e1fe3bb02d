use switchboard::domain::{
    AcceptInvitation, MemberAdded, NewInvitation, NewMember, PageQuery, ProblemKind, Role, Tier,
};

use crate::common::{spawn, PASSWORD};

#[tokio::test]
async fn add_change_and_remove_members_with_the_last_admin_rule() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let (admin_user, admin) = app.member(&t, "admin@oa.test", Role::Admin).await;
    let (bo, bo_client) = app.user("bo@oa.test", false).await;

    // A tenant admin's add of an existing account is an invitation that
    // its owner accepts, signed in.
    let added = admin
        .add_member(
            "open-arms",
            &NewMember {
                email: "BO@oa.test".into(),
                role: Role::Agent,
            },
        )
        .await
        .unwrap();
    let MemberAdded::Invited(invitation) = added else {
        panic!("added without the owner's consent: {added:?}");
    };
    let m = bo_client
        .accept_my_invitation(invitation.id)
        .await
        .unwrap()
        .membership;
    assert_eq!(m.tenant_id, t.id);
    let m = admin
        .list_members("open-arms", &PageQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|m| m.user_id == bo.id)
        .unwrap();
    assert_eq!(m.user_id, bo.id);
    assert_eq!(m.role, Role::Agent);
    let dup = admin
        .add_member(
            "open-arms",
            &NewMember {
                email: "bo@oa.test".into(),
                role: Role::Agent,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(dup.status(), Some(409));
    let unknown = admin
        .add_member(
            "open-arms",
            &NewMember {
                email: "ghost@oa.test".into(),
                role: Role::Agent,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(unknown.status(), Some(422));
    assert!(unknown
        .problem()
        .unwrap()
        .field("email")
        .unwrap()
        .contains("invitation"));

    // The last admin can be neither demoted nor removed.
    let e = admin
        .change_role("open-arms", admin_user.id, Role::Viewer)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409));
    let e = admin
        .remove_member("open-arms", admin_user.id)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409));
    // With a second admin, the first may step down.
    admin
        .change_role("open-arms", bo.id, Role::Admin)
        .await
        .unwrap();
    let down = admin
        .change_role("open-arms", admin_user.id, Role::Manager)
        .await
        .unwrap();
    assert_eq!(down.role, Role::Manager);

    let members = app
        .admin
        .list_members("open-arms", &PageQuery::default())
        .await
        .unwrap();
    assert_eq!(members.items.len(), 2);
    app.admin
        .remove_member("open-arms", admin_user.id)
        .await
        .unwrap();
    let members = app
        .admin
        .list_members("open-arms", &PageQuery::default())
        .await
        .unwrap();
    assert_eq!(members.items.len(), 1);
    assert_eq!(
        app.admin
            .remove_member("open-arms", admin_user.id)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );

    let audit = app
        .admin
        .list_audit("open-arms", &PageQuery::default())
        .await
        .unwrap();
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"member.add"));
    assert!(actions.contains(&"member.role_change"));
    assert!(actions.contains(&"member.remove"));
}

#[tokio::test]
async fn the_tier_user_limit_is_enforced() {
    let app = spawn().await;
    let t = app.tenant("Small", Tier::Starter).await;
    for i in 0..3 {
        app.user(&format!("u{i}@small.test"), false).await;
        app.admin
            .add_member(
                "small",
                &NewMember {
                    email: format!("u{i}@small.test"),
                    role: Role::Viewer,
                },
            )
            .await
            .unwrap();
    }
    app.user("u3@small.test", false).await;
    let err = app
        .admin
        .add_member(
            "small",
            &NewMember {
                email: "u3@small.test".into(),
                role: Role::Viewer,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(402));
    assert!(err.is(ProblemKind::LimitReached));
    assert!(err.message().contains("starter"), "{}", err.message());
    let inv = app
        .admin
        .create_invitation(
            "small",
            &NewInvitation {
                email: "new@small.test".into(),
                role: Role::Viewer,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(inv.status(), Some(402));
    assert_eq!(app.admin.tenant("small").await.unwrap().usage.users, 3);
    let _ = t;
}

#[tokio::test]
async fn invitations_are_shown_once_and_accepted_once() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let created = app
        .admin
        .create_invitation(
            "open-arms",
            &NewInvitation {
                email: "New@Person.test".into(),
                role: Role::Manager,
            },
        )
        .await
        .unwrap();
    assert!(created.token.starts_with("sbi_"));
    assert_eq!(created.invitation.email, "new@person.test");
    let listed = app
        .admin
        .list_invitations("open-arms", &PageQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(!serde_json::to_string(&listed)
        .unwrap()
        .contains(&created.token));

    // A new account needs a password.
    let no_pw = app
        .anon()
        .accept_invitation(&AcceptInvitation {
            token: created.token.clone(),
            password: None,
            name: None,
        })
        .await
        .unwrap_err();
    assert!(no_pw.problem().unwrap().field("password").is_some());
    let short = app
        .anon()
        .accept_invitation(&AcceptInvitation {
            token: created.token.clone(),
            password: Some("short".into()),
            name: None,
        })
        .await
        .unwrap_err();
    assert_eq!(short.status(), Some(422));

    let login = app
        .anon()
        .accept_invitation(&AcceptInvitation {
            token: created.token.clone(),
            password: Some("a long enough password".into()),
            name: Some("New Person".into()),
        })
        .await
        .unwrap()
        .session
        .expect("a session for the new account");
    assert_eq!(login.user.email, "new@person.test");
    let me = app.anon().with_token(login.token).me().await.unwrap();
    assert_eq!(me.memberships[0].role, Role::Manager);
    app.anon()
        .login("new@person.test", "a long enough password")
        .await
        .unwrap();

    let again = app
        .anon()
        .accept_invitation(&AcceptInvitation {
            token: created.token,
            password: Some("a long enough password".into()),
            name: None,
        })
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(422));
    assert!(again.problem().unwrap().field("token").is_some());
}

#[tokio::test]
async fn existing_users_accept_signed_in_without_a_password_and_revoked_invitations_fail() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let (_, known) = app.user("known@x.test", false).await;
    let inv = app
        .admin
        .create_invitation(
            "open-arms",
            &NewInvitation {
                email: "known@x.test".into(),
                role: Role::Viewer,
            },
        )
        .await
        .unwrap();
    let accepted = known
        .accept_invitation(&AcceptInvitation {
            token: inv.token,
            password: None,
            name: None,
        })
        .await
        .unwrap();
    assert!(
        accepted.session.is_none(),
        "no new session for a signed-in user"
    );
    let me = known.me().await.unwrap();
    assert_eq!(me.memberships.len(), 1);
    // The existing password still works.
    app.anon().login("known@x.test", PASSWORD).await.unwrap();

    let inv = app
        .admin
        .create_invitation(
            "open-arms",
            &NewInvitation {
                email: "late@x.test".into(),
                role: Role::Viewer,
            },
        )
        .await
        .unwrap();
    app.admin
        .revoke_invitation("open-arms", inv.invitation.id)
        .await
        .unwrap();
    let err = app
        .anon()
        .accept_invitation(&AcceptInvitation {
            token: inv.token,
            password: Some("a long enough password".into()),
            name: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert!(app
        .anon()
        .login("late@x.test", "a long enough password")
        .await
        .is_err());
}
