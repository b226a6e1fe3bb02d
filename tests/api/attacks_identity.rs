//! Attacks on identity: invitations, sessions and passwords. Each test is
//! named after the attack and the OWASP API Security Top 10 (2023) item it
//! belongs to (API1 object level authorisation, API2 broken authentication,
//! API5 function level authorisation).

use switchboard::domain::{
    AcceptInvitation, MemberAdded, NewInvitation, NewMember, PasswordChange, Role, Tier,
};

use super::common::{spawn, PASSWORD};

fn accept(token: &str, password: Option<&str>) -> AcceptInvitation {
    AcceptInvitation {
        token: token.to_string(),
        password: password.map(str::to_string),
        name: None,
    }
}

/// The takeover of issue 13: a tenant admin invites the platform admin's
/// email and accepts the invitation without credentials.
#[tokio::test]
async fn api2_invitation_to_an_existing_account_yields_no_session_without_its_credentials() {
    let app = spawn().await;
    let tenant = app.tenant("Mallory Co", Tier::Pro).await;
    let (_, mallory) = app.member(&tenant, "mallory@evil.test", Role::Admin).await;
    let created = mallory
        .create_invitation(
            "mallory-co",
            &NewInvitation {
                email: "root@platform.test".into(),
                role: Role::Viewer,
            },
        )
        .await
        .unwrap();

    // Without credentials, with or without a password of the attacker's choosing.
    for password in [None, Some("attacker chosen password")] {
        let err = app
            .anon()
            .accept_invitation(&accept(&created.token, password))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(401), "{err}");
        assert!(err.to_string().contains("sign in"), "{err}");
    }
    // Signed in as someone else (the attacker) is refused too.
    let err = mallory
        .accept_invitation(&accept(&created.token, None))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    // Nothing changed: root is no member, the password is unchanged and the
    // invitation is still pending.
    let me = app.admin.me().await.unwrap();
    assert!(me.memberships.is_empty());
    assert!(app
        .anon()
        .login("root@platform.test", "attacker chosen password")
        .await
        .is_err());
    let pending = app.admin.my_invitations().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].tenant_slug, "mallory-co");

    // The account's owner, signed in, accepts it, and gets no new session.
    let accepted = app
        .admin
        .accept_invitation(&accept(&created.token, None))
        .await
        .unwrap();
    assert!(accepted.session.is_none());
    assert_eq!(accepted.membership.tenant_slug, "mallory-co");
    assert_eq!(accepted.membership.role, Role::Viewer);
    assert!(app.admin.my_invitations().await.unwrap().is_empty());
}

#[tokio::test]
async fn api2_invitation_for_a_new_email_creates_an_account_marked_with_its_tenant() {
    let app = spawn().await;
    let tenant = app.tenant("Open Arms", Tier::Pro).await;
    let (_, admin) = app.member(&tenant, "boss@arms.test", Role::Admin).await;
    let created = admin
        .create_invitation(
            "open-arms",
            &NewInvitation {
                email: "fresh@arms.test".into(),
                role: Role::Agent,
            },
        )
        .await
        .unwrap();
    // Signed in as another account: refused, the invitation is for someone else.
    let err = admin
        .accept_invitation(&accept(&created.token, Some("a long enough password")))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");

    let accepted = app
        .anon()
        .accept_invitation(&accept(&created.token, Some("a long enough password")))
        .await
        .unwrap();
    let login = accepted.session.expect("a session for the new account");
    assert_eq!(login.user.email, "fresh@arms.test");
    assert_eq!(login.user.invited_by_tenant, Some(tenant.id));
    let members = admin
        .list_members("open-arms", &Default::default())
        .await
        .unwrap();
    let fresh = members
        .items
        .iter()
        .find(|m| m.email == "fresh@arms.test")
        .unwrap();
    assert_eq!(fresh.invited_by_tenant, Some(tenant.id));
}

/// A tenant admin cannot pull an existing account into their tenant: it gets
/// an invitation that its owner accepts while signed in.
#[tokio::test]
async fn api5_members_add_of_an_existing_account_by_a_tenant_admin_only_invites() {
    let app = spawn().await;
    let tenant = app.tenant("Open Arms", Tier::Pro).await;
    let (_, admin) = app.member(&tenant, "boss@arms.test", Role::Admin).await;
    let (victim, victim_client) = app.user("victim@else.test", false).await;
    let added = admin
        .add_member(
            "open-arms",
            &NewMember {
                email: "victim@else.test".into(),
                role: Role::Admin,
            },
        )
        .await
        .unwrap();
    let MemberAdded::Invited(invitation) = added else {
        panic!("a tenant admin added an existing account directly: {added:?}");
    };
    assert_eq!(invitation.email, "victim@else.test");
    let members = admin
        .list_members("open-arms", &Default::default())
        .await
        .unwrap();
    assert!(members.items.iter().all(|m| m.user_id != victim.id));

    let pending = victim_client.my_invitations().await.unwrap();
    assert_eq!(pending.len(), 1);
    // Declining removes it and adds nothing.
    victim_client
        .decline_my_invitation(pending[0].id)
        .await
        .unwrap();
    assert!(victim_client.my_invitations().await.unwrap().is_empty());
    assert!(victim_client.me().await.unwrap().memberships.is_empty());
    // Someone else's invitation cannot be accepted by id.
    let again = admin
        .add_member(
            "open-arms",
            &NewMember {
                email: "victim@else.test".into(),
                role: Role::Viewer,
            },
        )
        .await
        .unwrap();
    let MemberAdded::Invited(again) = again else {
        panic!("expected an invitation");
    };
    let err = admin.accept_my_invitation(again.id).await.unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    let accepted = victim_client.accept_my_invitation(again.id).await.unwrap();
    assert_eq!(accepted.membership.role, Role::Viewer);

    // A platform admin still adds directly.
    app.user("direct@else.test", false).await;
    let direct = app
        .admin
        .add_member(
            "open-arms",
            &NewMember {
                email: "direct@else.test".into(),
                role: Role::Viewer,
            },
        )
        .await
        .unwrap();
    assert!(matches!(direct, MemberAdded::Added(_)), "{direct:?}");
}

#[tokio::test]
async fn api2_password_change_needs_the_current_password_and_ends_other_sessions() {
    let app = spawn().await;
    let (_, first) = app.user("pat@x.test", false).await;
    let second_login = app.anon().login("pat@x.test", PASSWORD).await.unwrap();
    let second = app.anon().with_token(second_login.token);

    let wrong = first
        .change_password(&PasswordChange {
            current_password: "not the password".into(),
            new_password: "a brand new password".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(wrong.status(), Some(403), "{wrong}");
    let short = first
        .change_password(&PasswordChange {
            current_password: PASSWORD.into(),
            new_password: "short".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(short.status(), Some(422), "{short}");
    // Neither attempt changed anything.
    second.me().await.unwrap();
    app.anon().login("pat@x.test", PASSWORD).await.unwrap();

    first
        .change_password(&PasswordChange {
            current_password: PASSWORD.into(),
            new_password: "a brand new password".into(),
        })
        .await
        .unwrap();
    first.me().await.expect("the session that changed it stays");
    assert_eq!(second.me().await.unwrap_err().status(), Some(401));
    assert!(app.anon().login("pat@x.test", PASSWORD).await.is_err());
    app.anon()
        .login("pat@x.test", "a brand new password")
        .await
        .unwrap();
}

#[tokio::test]
async fn api2_sign_out_everywhere_ends_every_session_of_the_user_only() {
    let app = spawn().await;
    let (_, one) = app.user("pat@x.test", false).await;
    let two = app.anon().with_token(
        app.anon()
            .login("pat@x.test", PASSWORD)
            .await
            .unwrap()
            .token,
    );
    let (_, other) = app.user("other@x.test", false).await;
    one.logout_everywhere().await.unwrap();
    assert_eq!(one.me().await.unwrap_err().status(), Some(401));
    assert_eq!(two.me().await.unwrap_err().status(), Some(401));
    other
        .me()
        .await
        .expect("another user's session is untouched");
}

#[tokio::test]
async fn api2_an_idle_session_expires_and_a_used_one_slides() {
    let settings = switchboard::server::ServerSettings {
        session_idle: chrono::Duration::seconds(3),
        ..Default::default()
    };
    let app = super::common::spawn_with(settings).await;
    let (_, active) = app.user("active@x.test", false).await;
    let (_, idle) = app.user("idle@x.test", false).await;
    // Used every second for five seconds: past the idle timeout, still valid.
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        active.me().await.expect("a session in use slides");
    }
    assert_eq!(idle.me().await.unwrap_err().status(), Some(401));
}
