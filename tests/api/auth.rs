use axum::http::Method;
use base64::Engine;
use serde_json::json;

use crate::helpers::{audit, TestApp, ADMIN_TOKEN};

fn count_body() -> serde_json::Value {
    json!({"newState": ["Closed"], "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}})
}

#[tokio::test]
async fn client_credentials_by_form_and_by_basic_give_working_tokens() {
    let app = TestApp::spawn().await;
    let creds = &app.tenant.credentials;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        creds.client_id, creds.client_secret
    );
    let response = app
        .request(
            Method::POST,
            "/oauth/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            form.into_bytes(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().expect("token").to_owned();
    let tile = app
        .post_as(
            &token,
            "/reporting/v1.2/interactions/state/count",
            &count_body(),
        )
        .await;
    assert_eq!(tile.status, 200, "{}", tile.text());
    assert_eq!(tile.json(), json!({"count": 0}));

    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", creds.client_id, creds.client_secret));
    let response = app
        .request(
            Method::POST,
            "/oauth/token",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", &format!("Basic {basic}")),
            ],
            b"grant_type=client_credentials".to_vec(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let basic_token = response.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    // The Basic token ingests into this tenant, and reads it back.
    let ingested = app
        .post_as(
            &basic_token,
            "/ingest/v1/events",
            &json!([audit(
                "basic",
                "i1",
                "2026-01-01T10:00:00Z",
                Some("Assigned"),
                "Closed"
            )]),
        )
        .await;
    assert_eq!(ingested.status, 200, "{}", ingested.text());
    assert_eq!(
        ingested.json(),
        json!({"received": 1, "inserted": 1, "duplicates": 0})
    );
    let tile = app
        .post_as(
            &basic_token,
            "/reporting/v1.2/interactions/state/count",
            &count_body(),
        )
        .await;
    assert_eq!(tile.status, 200, "{}", tile.text());
    assert_eq!(tile.json(), json!({"count": 1}));
    // The form token sees the same tenant's event.
    let tile = app
        .post_as(
            &token,
            "/reporting/v1.2/interactions/state/count",
            &count_body(),
        )
        .await;
    assert_eq!(tile.json(), json!({"count": 1}));
}

#[tokio::test]
async fn wrong_secret_unknown_client_and_bad_grant_are_refused() {
    let app = TestApp::spawn().await;
    let creds = &app.tenant.credentials;
    let wrong = format!(
        "grant_type=client_credentials&client_id={}&client_secret=nope",
        creds.client_id
    );
    let response = app
        .request(Method::POST, "/oauth/token", &[], wrong.into_bytes())
        .await;
    response.problem(401);
    let unknown = "grant_type=client_credentials&client_id=cx_00000000000000000000000000000000_x&client_secret=x";
    app.request(
        Method::POST,
        "/oauth/token",
        &[],
        unknown.as_bytes().to_vec(),
    )
    .await
    .problem(401);
    let bad_grant = format!(
        "grant_type=password&client_id={}&client_secret={}",
        creds.client_id, creds.client_secret
    );
    let problem = app
        .request(Method::POST, "/oauth/token", &[], bad_grant.into_bytes())
        .await
        .problem(400);
    assert_eq!(problem["errors"][0]["field"], "grant_type");
}

#[tokio::test]
async fn missing_or_bad_token_is_401_with_www_authenticate() {
    let app = TestApp::spawn().await;
    let response = app
        .request(
            Method::POST,
            "/reporting/v1.2/interactions/state/count",
            &[],
            serde_json::to_vec(&count_body()).expect("json"),
        )
        .await;
    response.problem(401);
    assert_eq!(
        response.header("www-authenticate").as_deref(),
        Some("Bearer")
    );
    let bad = app
        .post_as(
            "not-a-jwt",
            "/reporting/v1.2/interactions/state/count",
            &count_body(),
        )
        .await;
    bad.problem(401);
    assert_eq!(bad.header("www-authenticate").as_deref(), Some("Bearer"));
    // Signed with another key.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "x", "tid": app.tenant.id, "roles": ["Analytics"], "exp": 4_000_000_000i64}),
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-another"),
    )
    .expect("encode");
    app.post_as(
        &forged,
        "/reporting/v1.2/interactions/state/count",
        &count_body(),
    )
    .await
    .problem(401);
}

#[tokio::test]
async fn user_token_without_the_role_is_403() {
    let app = TestApp::spawn().await;
    let user = uuid::Uuid::new_v4().to_string();
    let ingest_only = app.token_for(app.tenant.id, &user, &["Ingest"]);
    app.post_as(
        &ingest_only,
        "/reporting/v1.2/interactions/state/count",
        &count_body(),
    )
    .await
    .problem(403);
    app.post_as(
        &ingest_only,
        "/reporting/export/v1.2/interactions/state/count",
        &count_body(),
    )
    .await
    .problem(403);
    let analytics_only = app.token_for(app.tenant.id, &user, &["Analytics"]);
    app.post_as(&analytics_only, "/ingest/v1/events", &json!([]))
        .await
        .problem(403);
    let ok = app
        .post_as(
            &analytics_only,
            "/reporting/v1.2/interactions/state/count",
            &count_body(),
        )
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn admin_endpoint_creates_tenants_only_with_the_operator_token() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&json!({"name": "Beta"})).expect("json");
    let refused = app
        .request(
            Method::POST,
            "/admin/v1/tenants",
            &[("authorization", "Bearer wrong")],
            body.clone(),
        )
        .await;
    refused.problem(401);
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let created = app
        .request(
            Method::POST,
            "/admin/v1/tenants",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let tenant = created.json();
    for field in ["tenantId", "clientId", "clientSecret", "webhookSecret"] {
        assert!(tenant[field].is_string(), "{field} in {tenant}");
    }
    // Only the hash of the secret is stored.
    let stored: String =
        sqlx::query_scalar("select secret_hash from client_credentials where client_id = $1")
            .bind(tenant["clientId"].as_str())
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert!(stored.starts_with("$argon2"), "{stored}");
    assert!(!stored.contains(tenant["clientSecret"].as_str().expect("secret")));
    let empty = app
        .request(
            Method::POST,
            "/admin/v1/tenants",
            &[("authorization", &auth)],
            serde_json::to_vec(&json!({"name": "  "})).expect("json"),
        )
        .await;
    empty.problem(422);
}
