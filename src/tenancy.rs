//! The second wall between tenants: PostgreSQL row-level security
//! (migration 0016). Every table with a `tenant_id` lets the role
//! `cx_tenant` see and write only the rows of the tenant named by the
//! session setting `cx.tenant_id`.
//!
//! A request authenticated for a tenant runs inside [`scope`]; whenever it
//! takes a connection from the pool (a new one or an idle one), the pool's
//! hooks ([`prepare`]) switch that connection to `cx_tenant` with the
//! request's tenant, so a query that forgot its own `tenant_id` condition
//! still reads and writes nothing of another tenant. Work outside any
//! request (migrations, the fold worker, the two-way scheduler, token
//! issuance, which looks a client up before it knows the tenant) runs as
//! the service's own role, which the policies do not restrict.

use std::future::Future;

use sqlx::PgConnection;
use uuid::Uuid;

tokio::task_local! {
    static TENANT: Uuid;
}

/// Runs `work` on behalf of `tenant`: every connection it takes from the
/// pool is restricted to that tenant's rows.
pub async fn scope<F: Future>(tenant: Uuid, work: F) -> F::Output {
    TENANT.scope(tenant, work).await
}

/// The tenant of the running request, if any.
pub fn current() -> Option<Uuid> {
    TENANT.try_with(|t| *t).ok()
}

/// Sets a connection's role and tenant for the task taking it: `cx_tenant`
/// and the request's tenant inside [`scope`], else the service's own role
/// (`none` resets to the session user) and no tenant. One round trip.
/// With `enabled` false (`CX_ROW_LEVEL_SECURITY=false`, for measuring its
/// cost) every connection keeps the service's own role.
pub async fn prepare(conn: &mut PgConnection, enabled: bool) -> sqlx::Result<()> {
    let (role, tenant) = match current().filter(|_| enabled) {
        Some(tenant) => ("cx_tenant", tenant.to_string()),
        None => ("none", String::new()),
    };
    sqlx::query("select set_config('role', $1, false), set_config('cx.tenant_id', $2, false)")
        .bind(role)
        .bind(tenant)
        .execute(conn)
        .await?;
    Ok(())
}
