//! Issue 10, the second wall: PostgreSQL row-level security (migration
//! 0016, `src/tenancy.rs`). Queries that deliberately forget their
//! `tenant_id` condition, run as a request of tenant B runs them, read and
//! write nothing of tenant A's; outside a request (the fold worker, the
//! scheduler) the service still sees every tenant.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::TestApp;

fn events(prefix: &str) -> serde_json::Value {
    json!([
        {"id": format!("{prefix}-1"), "type": "interaction.state_changed", "occurredAt": "2026-01-01T10:00:00Z",
         "interactionId": format!("{prefix}-int"), "reference": "R", "channel": "Email", "oldState": null, "newState": "Created"},
        {"id": format!("{prefix}-2"), "type": "message.created", "occurredAt": "2026-01-01T10:01:00Z",
         "interactionId": format!("{prefix}-int"), "direction": "Inbound", "channel": "Email"},
    ])
}

/// Row counts of a few tenant tables, with no tenant condition at all.
async fn unscoped_counts(pool: &PgPool) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "events",
        "interaction_audits",
        "messages",
        "count_rollups",
        "tenants",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(pool)
            .await
            .expect("count");
        counts.push(n);
    }
    counts
}

#[tokio::test]
async fn an_unscoped_query_in_a_request_of_b_sees_only_b() {
    let app = TestApp::spawn().await;
    let a = app.tenant.clone();
    let b = app.new_tenant("B").await;
    app.ingest_as(&a, &events("a")).await;
    app.ingest_as(&b, &events("b")).await;
    app.ingest_as(
        &b,
        &json!([{"id": "b-3", "type": "message.created",
        "occurredAt": "2026-01-01T10:02:00Z", "interactionId": "b-int", "direction": "Outbound",
        "channel": "Email"}]),
    )
    .await;
    app.fold().await;

    // Outside a request: every tenant's rows (the fold worker's view).
    let all = unscoped_counts(&app.pool).await;
    assert!(all[0] >= 5 && all[4] >= 2, "{all:?}");

    // As a request of B: B's rows only, though no query names a tenant;
    // the same for A; and for a tenant with no data, nothing at all.
    let as_b = cx_reporting::tenancy::scope(b.id, unscoped_counts(&app.pool)).await;
    assert_eq!(
        as_b[..3],
        [3, 1, 2],
        "events, audits, messages of B: {as_b:?}"
    );
    assert!(as_b[3] > 0, "B's rollups: {as_b:?}");
    assert_eq!(as_b[4], 1, "B sees its own tenant row only");
    let as_a = cx_reporting::tenancy::scope(a.id, unscoped_counts(&app.pool)).await;
    assert_eq!(as_a[..3], [2, 1, 1], "{as_a:?}");
    let nobody = cx_reporting::tenancy::scope(Uuid::new_v4(), unscoped_counts(&app.pool)).await;
    assert_eq!(nobody, [0, 0, 0, 0, 0]);

    // B can neither write a row under A's id nor change or delete A's.
    let forged = cx_reporting::tenancy::scope(b.id, async {
        sqlx::query(
            "insert into events (tenant_id, event_id, event_type, occurred_at) \
             values ($1, 'forged', 'message.created', now())",
        )
        .bind(a.id)
        .execute(&app.pool)
        .await
    })
    .await;
    let error = forged.expect_err("a row under A's id");
    assert!(error.to_string().contains("row-level security"), "{error}");
    let touched = cx_reporting::tenancy::scope(b.id, async {
        let updated = sqlx::query("update messages set channel = 'SMS'")
            .execute(&app.pool)
            .await
            .expect("update")
            .rows_affected();
        let deleted = sqlx::query("delete from interaction_audits where interaction_id = 'a-int'")
            .execute(&app.pool)
            .await
            .expect("delete")
            .rows_affected();
        (updated, deleted)
    })
    .await;
    assert_eq!(touched, (2, 0), "B changed only its two messages");
    let a_channels: Vec<String> =
        sqlx::query_scalar("select channel from messages where tenant_id = $1")
            .bind(a.id)
            .fetch_all(&app.pool)
            .await
            .expect("A's messages");
    assert_eq!(a_channels, ["Email"]);
}

#[tokio::test]
async fn every_tenant_table_has_its_policy() {
    let app = TestApp::spawn().await;
    let unguarded: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c
         join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
         join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
         where c.relkind in ('r', 'p')
           and (not c.relrowsecurity
                or not exists (select 1 from pg_policy p where p.polrelid = c.oid))
         order by 1",
    )
    .fetch_all(&app.pool)
    .await
    .expect("catalogue");
    assert!(
        unguarded.is_empty(),
        "tenant tables without row-level security: {unguarded:?}"
    );
    let views: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c
         join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
         where c.relkind = 'v'
           and not coalesce('security_invoker=true' = any(c.reloptions), false)",
    )
    .fetch_all(&app.pool)
    .await
    .expect("views");
    assert!(
        views.is_empty(),
        "views that bypass the policies: {views:?}"
    );
}
