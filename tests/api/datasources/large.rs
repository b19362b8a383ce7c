//! Many rows: JSON stops at 1,000 and says so, the CSV twin streams them
//! all (through the views' cursor export).

use serde_json::json;

use super::rows_response;
use crate::helpers::TestApp;

const MANY: i64 = 20_000;

#[tokio::test]
async fn json_is_truncated_at_1000_and_the_csv_streams_every_row() {
    let app = TestApp::spawn().await;
    // Straight into the typed table: one outgoing distribution a second.
    sqlx::query(
        "insert into distributions (tenant_id, event_id, occurred_at, distribution_id, direction, wait_time) \
         select $1, 'e' || lpad(g::text, 6, '0'), timestamptz '2026-03-02 00:00:00+00' + g * interval '1 second', \
           'd' || g, 'Outgoing', g / 1000.0 \
         from generate_series(1, $2::bigint) g",
    )
    .bind(app.tenant.id)
    .bind(MANY)
    .execute(&app.pool)
    .await
    .expect("seed");
    let body = json!({"filters": {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"},
        "columns": ["distributionDate", "waitTime"]});

    let answer = rows_response(&app, "outgoing-distributions", &body)
        .await
        .json();
    assert_eq!(answer["truncated"], true);
    let rows = answer["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1000);
    assert_eq!(
        rows[999],
        json!({"distributionDate": "2026-03-02T00:16:40.000Z", "waitTime": 1.0})
    );
    let none = rows_response(&app, "incoming-distributions", &body)
        .await
        .json();
    assert_eq!(none, json!({"rows": [], "truncated": false}));

    let csv = app
        .export("datasources/outgoing-distributions/rows", &body)
        .await;
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(lines.len() as i64, MANY + 1, "a header and every row");
    assert_eq!(lines[0], "distributionDate,waitTime");
    assert_eq!(lines[1], "2026-03-02T00:00:01.000Z,0.001");
    assert_eq!(lines[MANY as usize], "2026-03-02T05:33:20.000Z,20");
}
