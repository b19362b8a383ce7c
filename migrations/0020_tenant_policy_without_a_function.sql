-- The row-level security policy of every tenant table (migration 0016)
-- compares with the session's tenant directly instead of through
-- cx_request_tenant(). All plans are custom (src/state.rs), so the policy
-- is planned for every table reference of every statement, and inlining
-- the SQL function each time doubled its planning cost: 0.026 ms against
-- 0.012 ms on the count tile's statement (median of 300 plans each). The
-- meaning is the same: no tenant set, no row. A later migration that
-- creates a tenant table adds this policy the same way (a test fails for
-- any tenant table without one).
do $$
declare
    t text;
begin
    for t in
        select tablename from pg_policies
        where schemaname = 'public' and policyname = 'tenant_rows'
    loop
        execute format('alter policy tenant_rows on %I '
            'using (tenant_id = nullif(current_setting(''cx.tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''cx.tenant_id'', true), '''')::uuid)', t);
    end loop;
end
$$;
