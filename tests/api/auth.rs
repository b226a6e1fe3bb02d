use switchboard::domain::ProblemKind;
use switchboard::server::ServerSettings;

use crate::common::{spawn, spawn_with, PASSWORD};

#[tokio::test]
async fn login_me_and_logout() {
    let app = spawn().await;
    let (user, client) = app.user("ana@example.com", false).await;
    let me = client.me().await.unwrap();
    assert_eq!(me.user.id, user.id);
    assert!(!me.platform_admin);
    assert!(me.memberships.is_empty());

    // Emails are case-insensitive at sign-in.
    let again = app.anon().login("ANA@Example.com", PASSWORD).await.unwrap();
    assert!(again.token.starts_with("sbt_"));
    assert_eq!(again.user.id, user.id);

    client.logout().await.unwrap();
    let err = client.me().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(err.is(ProblemKind::Unauthorized));
}

#[tokio::test]
async fn bad_credentials_say_nothing_about_which_part_was_wrong() {
    let app = spawn().await;
    app.user("ana@example.com", false).await;
    let wrong_pw = app
        .anon()
        .login("ana@example.com", "not the password")
        .await
        .unwrap_err();
    let no_user = app
        .anon()
        .login("nobody@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(wrong_pw.status(), Some(401));
    assert_eq!(wrong_pw.problem(), no_user.problem());
    let anon = app.anon().me().await.unwrap_err();
    assert_eq!(anon.status(), Some(401));
    let garbage = app.anon().with_token("sbt_nope").me().await.unwrap_err();
    assert_eq!(garbage.status(), Some(401));
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited_per_email() {
    let app = spawn_with(ServerSettings {
        login_failures_per_email: 3,
        ..ServerSettings::default()
    })
    .await;
    app.user("ana@example.com", false).await;
    for _ in 0..3 {
        let e = app
            .anon()
            .login("ana@example.com", "wrong-password")
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(401));
    }
    // Even the right password waits now.
    let e = app
        .anon()
        .login("ana@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(429));
    assert!(e.is(ProblemKind::RateLimited));
    assert!(e.problem().unwrap().retry_after.unwrap() > 0);
    // Another account from elsewhere is unaffected.
    app.user("bo@example.com", false).await;
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_ip() {
    let app = spawn_with(ServerSettings {
        login_failures_per_ip: 4,
        ..ServerSettings::default()
    })
    .await;
    for i in 0..4 {
        let e = app
            .anon()
            .login(&format!("spray{i}@example.com"), "wrong-password")
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(401));
    }
    let e = app
        .anon()
        .login("spray9@example.com", "x")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(429));
}

#[tokio::test]
async fn problems_are_problem_json_and_the_openapi_document_lists_every_route() {
    let app = spawn().await;
    let resp = reqwest::get(format!("{}/api/v1/tenants", app.url))
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "/problems/unauthorized");
    assert_eq!(body["status"], 401);
    assert!(body["title"].is_string() && body["detail"].is_string());

    let resp = reqwest::get(format!("{}/api/v1/nowhere", app.url))
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );

    // Malformed JSON is a 422 that says what was wrong.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.url))
        .header("content-type", "application/json")
        .body("{\"email\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "/problems/validation");

    let doc = app.anon().openapi().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/tenants",
        "/api/v1/tenants/{tenant}",
        "/api/v1/tenants/{tenant}/suspend",
        "/api/v1/tenants/{tenant}/reactivate",
        "/api/v1/tenants/{tenant}/members",
        "/api/v1/tenants/{tenant}/members/{user_id}",
        "/api/v1/tenants/{tenant}/invitations",
        "/api/v1/tenants/{tenant}/invitations/{id}",
        "/api/v1/invitations/accept",
        "/api/v1/tenants/{tenant}/api-keys",
        "/api/v1/tenants/{tenant}/api-keys/{id}",
        "/api/v1/tenants/{tenant}/api-keys/{id}/rotate",
        "/api/v1/tenants/{tenant}/audit",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
    app.anon().healthz().await.unwrap();
}
