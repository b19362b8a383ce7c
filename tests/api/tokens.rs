//! Access tokens a caller must not get through with, and secrets that must
//! never reach the log (issue 10, "Secrets and tokens").

use base64::Engine;
use chrono::Utc;
use serde_json::{json, Value};

use crate::crash::service::Service;
use crate::helpers::{fresh_database_url, TestApp, JWT_SECRET};

const COUNT: &str = "/reporting/v1.2/interactions/state/count";

fn count_body() -> Value {
    json!({"newState": ["Closed"],
           "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}})
}

/// An HS256 token of `claims`, signed with `key`.
fn signed(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .expect("encode")
}

/// An unsigned token (`alg: none`), as an attacker writes it by hand.
fn unsigned(claims: &Value) -> String {
    let part = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(v).expect("json"))
    };
    format!(
        "{}.{}.",
        part(&json!({"alg": "none", "typ": "JWT"})),
        part(claims)
    )
}

#[tokio::test]
async fn unsigned_expired_early_forged_and_malformed_tokens_are_401() {
    let app = TestApp::spawn().await;
    let now = Utc::now().timestamp();
    let claims = |more: Value| {
        let mut claims = json!({"sub": "intruder", "tid": app.tenant.id, "roles": ["Analytics"],
                                "exp": now + 3600});
        if let (Some(c), Value::Object(more)) = (claims.as_object_mut(), more) {
            c.extend(more);
        }
        claims
    };
    let key = JWT_SECRET.as_bytes();
    // The same claims, validly signed, get through: each refusal below is
    // the one thing changed.
    let valid = signed(&claims(json!({})), key);
    let answer = app.post_as(&valid, COUNT, &count_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let mut no_exp = claims(json!({}));
    no_exp.as_object_mut().expect("an object").remove("exp");
    let refused = [
        ("alg none", unsigned(&claims(json!({})))),
        ("alg none, upper case", {
            let token = unsigned(&claims(json!({})));
            let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(br#"{"alg":"NONE","typ":"JWT"}"#);
            format!("{header}{}", &token[token.find('.').expect("a dot")..])
        }),
        (
            "signed with another key",
            signed(&claims(json!({})), b"another-key-another-key-another-key-0"),
        ),
        (
            "expired an hour ago",
            signed(&claims(json!({"exp": now - 3600})), key),
        ),
        (
            "not valid for an hour",
            signed(&claims(json!({"nbf": now + 3600})), key),
        ),
        ("no expiry", signed(&no_exp, key)),
        ("no tenant", {
            let mut c = claims(json!({}));
            c.as_object_mut().expect("an object").remove("tid");
            signed(&c, key)
        }),
        (
            "the signature cut off",
            valid[..valid.rfind('.').expect("a dot") + 1].to_owned(),
        ),
        ("a payload swapped under a valid signature", {
            let other = signed(&claims(json!({"roles": ["Admin", "Analytics"]})), key);
            let parts: Vec<&str> = valid.split('.').collect();
            let other_parts: Vec<&str> = other.split('.').collect();
            format!("{}.{}.{}", parts[0], other_parts[1], parts[2])
        }),
    ];
    for (what, token) in refused {
        let response = app.post_as(&token, COUNT, &count_body()).await;
        assert_eq!(response.status, 401, "{what}: {}", response.text());
        response.problem(401);
        assert_eq!(
            response.header("www-authenticate").as_deref(),
            Some("Bearer"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn another_tenants_token_reads_and_writes_only_its_own_tenant() {
    let a = TestApp::spawn().await;
    let b = a.new_tenant("B").await;
    let event = json!([{"id": "e1", "type": "interaction.state_changed",
        "occurredAt": "2026-01-01T10:00:00Z", "interactionId": "i1", "reference": "R1",
        "channel": "Email", "oldState": "Assigned", "newState": "Closed"}]);
    let stored = a
        .post_as(&a.tenant.token, "/ingest/v1/events", &event)
        .await;
    assert_eq!(stored.status, 200, "{}", stored.text());
    a.fold().await;
    let count = |token: String| {
        let a = &a;
        async move {
            let answer = a.post_as(&token, COUNT, &count_body()).await;
            assert_eq!(answer.status, 200, "{}", answer.text());
            answer.json()["count"].as_i64().expect("a count")
        }
    };
    assert_eq!(count(a.tenant.token.clone()).await, 1);
    assert_eq!(count(b.token.clone()).await, 0);
    // B sending the same event id stores B's own event, leaving A's alone.
    let again = a.post_as(&b.token, "/ingest/v1/events", &event).await;
    assert_eq!(again.json()["inserted"], 1, "{}", again.text());
    a.fold().await;
    assert_eq!(count(a.tenant.token.clone()).await, 1);
    assert_eq!(count(b.token.clone()).await, 1);
}

/// The service's whole log at the most verbose level, after every path
/// that handles a secret, holds none of them.
#[tokio::test]
async fn secrets_and_tokens_never_reach_the_log() {
    const ADMIN: &str = "operator-token-that-must-never-be-logged-7f3a";
    let client = reqwest::Client::new();
    let log = std::env::temp_dir().join(format!("cx-secrets-{}.log", uuid::Uuid::new_v4()));
    let database = fresh_database_url().await;
    let env = [("CX_ADMIN_TOKEN", ADMIN), ("RUST_LOG", "trace")];
    let service = Service::start_with(&database, log.clone(), &client, &env).await;
    let base = &service.base;

    let created = client
        .post(format!("{base}/admin/v1/tenants"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "log check"}))
        .send()
        .await
        .expect("create a tenant");
    assert_eq!(created.status(), 201);
    let tenant: Value = created.json().await.expect("the new tenant");
    let text = |name: &str| tenant[name].as_str().expect(name).to_owned();
    let (client_id, secret, webhook) = (
        text("clientId"),
        text("clientSecret"),
        text("webhookSecret"),
    );
    // A wrong operator token, a wrong secret, then the right one, by form
    // and by Basic.
    let wrong_admin = client
        .post(format!("{base}/admin/v1/tenants"))
        .bearer_auth(format!("{ADMIN}-wrong"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .expect("wrong operator token");
    assert_eq!(wrong_admin.status(), 401);
    let token_with = |id: &str, secret: &str| {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ];
        client
            .post(format!("{base}/oauth/token"))
            .form(&form)
            .send()
    };
    let wrong = token_with(&client_id, &format!("{secret}x"))
        .await
        .expect("wrong");
    assert_eq!(wrong.status(), 401);
    let basic = client
        .post(format!("{base}/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("basic");
    assert_eq!(basic.status(), 200);
    let issued: Value = token_with(&client_id, &secret)
        .await
        .expect("token")
        .json()
        .await
        .expect("a token answer");
    let access = issued["access_token"].as_str().expect("a token").to_owned();
    let answer = client
        .post(format!("{base}{COUNT}"))
        .bearer_auth(&access)
        .json(&count_body())
        .send()
        .await
        .expect("a tile");
    assert_eq!(answer.status(), 200);
    let refused = client
        .post(format!("{base}{COUNT}"))
        .bearer_auth(format!("{access}x"))
        .json(&count_body())
        .send()
        .await
        .expect("a tile with a broken token");
    assert_eq!(refused.status(), 401);
    let body = serde_json::to_vec(&json!([{"id": "w1", "type": "presence.changed",
        "occurredAt": "2026-01-01T10:00:00Z", "userId": uuid::Uuid::new_v4(), "state": "Online"}]))
    .expect("json");
    let signature = cx_reporting::auth::secrets::sign(&webhook, &body);
    let signed = client
        .post(format!("{base}/ingest/v1/events"))
        .header("x-tenant-id", tenant["tenantId"].as_str().expect("an id"))
        .header("x-signature-256", &signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("a signed webhook");
    assert_eq!(signed.status(), 200);
    service.kill().await;

    let written = std::fs::read_to_string(&log).expect("the service log");
    assert!(
        written.lines().count() > 20 && written.contains("/oauth/token"),
        "the log at trace level should describe the requests: {written}"
    );
    let signature_hex = signature.trim_start_matches("sha256=");
    for (what, value) in [
        ("operator token", ADMIN),
        ("client secret", secret.as_str()),
        ("webhook secret", webhook.as_str()),
        ("access token", access.as_str()),
        (
            "access token signature",
            access.rsplit('.').next().expect("a part"),
        ),
        ("JWT key", JWT_SECRET),
        ("webhook key", crate::crash::WEBHOOK_KEY),
        ("webhook signature", signature_hex),
    ] {
        assert!(!written.contains(value), "the {what} is in the log");
    }
    let _ = std::fs::remove_file(&log);
}
