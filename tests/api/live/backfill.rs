//! Migration 0010 derives the conversations of the events stored before
//! it and their rollup counts: its backfill statements, run over ingested
//! events whose derived rows and rollups were removed, give back the
//! answers of the ingest path.

use serde_json::{json, Value};

use super::{body, voice, webchat, ACC_V, ACC_W};
use crate::helpers::TestApp;

const MIGRATION: &str = include_str!("../../../migrations/0010_conversations.sql");

fn backfill() -> &'static str {
    let start = MIGRATION.find("-- backfill:begin").expect("begin marker");
    let end = MIGRATION.find("-- backfill:end").expect("end marker");
    &MIGRATION[start..end]
}

async fn answers(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    for channel in ["WebChat", "Voice"] {
        let mut request = body(channel);
        out.push(app.report("conversations/live/count", &request).await);
        request["accounts"] = json!([ACC_W, ACC_V]);
        for measure in ["totals", "durations"] {
            let tile = format!("conversations/live/count/by-accounts/{measure}");
            out.push(app.report(&tile, &request).await);
        }
        let mut view = request["filters"].clone();
        view["newState"] = json!(["Closed"]);
        out.push(
            app.report("view/conversations", &json!({"filters": view}))
                .await,
        );
    }
    out
}

#[tokio::test]
async fn the_backfill_of_migration_0010_gives_the_rows_the_ingest_derives() {
    let app = TestApp::spawn().await;
    let other = app.new_tenant("Other").await;
    let events = Value::Array([webchat(), voice()].concat());
    app.ingest(&events).await;
    app.ingest_as(&other, &events).await;
    let derived = answers(&app).await;
    assert_eq!(derived[0]["total"], 5, "the ingest derived the rows");

    app.fold().await;
    for forget in [
        "delete from conversations",
        "delete from count_rollups where source = 3",
        "delete from count_rollup_deltas where source = 3",
    ] {
        sqlx::query(forget)
            .execute(&app.pool)
            .await
            .expect("delete");
    }
    assert_eq!(answers(&app).await[0]["total"], 0);
    sqlx::raw_sql(backfill())
        .execute(&app.pool)
        .await
        .expect("backfill");
    // w1..w7 and v1..v5, for each tenant.
    let rows: i64 = sqlx::query_scalar("select count(*) from conversations")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(rows, 2 * 12);
    assert_eq!(answers(&app).await, derived);
}
