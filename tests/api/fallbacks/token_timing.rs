//! An unknown client id at `POST /oauth/token` costs the same argon2 work
//! as a wrong secret, so its answer time does not tell which ids exist.

use std::time::{Duration, Instant};

use axum::http::Method;

use crate::helpers::{TestApp, TestResponse};

/// One token request with a wrong secret, timed.
async fn timed_token_request(app: &TestApp, client_id: &str) -> (Duration, TestResponse) {
    let form =
        format!("grant_type=client_credentials&client_id={client_id}&client_secret=wrong-secret");
    let start = Instant::now();
    let response = app
        .request(
            Method::POST,
            "/oauth/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            form.into_bytes(),
        )
        .await;
    (start.elapsed(), response)
}

#[tokio::test]
async fn an_unknown_client_id_costs_the_same_argon2_work_as_a_wrong_secret() {
    let app = TestApp::spawn().await;
    // A known id (wrong secret), a well-formed id of an unknown tenant,
    // another id of this tenant, and an id that is not ours at all.
    let ids = [
        app.tenant.credentials.client_id.clone(),
        format!("cx_{}_abcdefghij", uuid::Uuid::new_v4().simple()),
        format!("cx_{}_abcdefghij", app.tenant.id.simple()),
        "nobody".to_owned(),
    ];
    // The fastest of ten tries each, taken in turns so that load on the
    // machine weighs on every id alike.
    let mut fastest = [Duration::MAX; 4];
    let mut bodies = vec![None; ids.len()];
    for _ in 0..10 {
        for (i, id) in ids.iter().enumerate() {
            let (elapsed, response) = timed_token_request(&app, id).await;
            fastest[i] = fastest[i].min(elapsed);
            bodies[i] = Some(response.problem(401));
        }
    }
    for (i, id) in ids.iter().enumerate().skip(1) {
        assert_eq!(bodies[i], bodies[0], "the same 401 body for {id}");
        // Skipping argon2 would answer in well under a millisecond against
        // about 15 ms: a factor of 4 tells that apart, and leaves room for
        // a loaded 2-core machine (a factor of 2 failed there while the
        // rest of the suite ran: 16 ms against 34 ms).
        assert!(
            fastest[i] * 4 >= fastest[0],
            "{id}: {:?} against {:?} for a wrong secret",
            fastest[i],
            fastest[0]
        );
    }
}
