-- Row-level security, the second wall between tenants (issue 10; see
-- src/tenancy.rs). A request authenticated for a tenant takes its
-- connections as the role `cx_tenant` with `cx.tenant_id` set to that
-- tenant; on every table with a tenant_id, that role sees and writes only
-- that tenant's rows. The service's own role (the owner of the tables) is
-- not restricted: migrations, the fold worker, the scheduler and token
-- issuance work across tenants.
do $$
begin
    if not exists (select from pg_roles where rolname = 'cx_tenant') then
        create role cx_tenant nologin;
    end if;
    execute format('grant cx_tenant to %I', current_user);
end
$$;
grant usage on schema public to cx_tenant;
grant select, insert, update, delete on all tables in schema public to cx_tenant;
grant usage, select on all sequences in schema public to cx_tenant;
alter default privileges in schema public grant select, insert, update, delete on tables to cx_tenant;
alter default privileges in schema public grant usage, select on sequences to cx_tenant;

-- The request's tenant (null outside a request: no row matches).
create function cx_request_tenant() returns uuid language sql stable as
$$ select nullif(current_setting('cx.tenant_id', true), '')::uuid $$;

-- One policy per tenant table, present and future ones alike: a later
-- migration that creates a tenant table adds its policy the same way (a
-- test fails for any tenant table without one). cx_request_tenant() is
-- inlined: with the query's own `tenant_id = $1` the planner compares the
-- two once per statement (a one-time filter), not per row.
do $$
declare
    t text;
begin
    for t in
        select c.relname
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
        join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
        where c.relkind in ('r', 'p')
    loop
        execute format('alter table %I enable row level security', t);
        execute format('create policy tenant_rows on %I to cx_tenant '
            'using (tenant_id = cx_request_tenant()) '
            'with check (tenant_id = cx_request_tenant())', t);
    end loop;
end
$$;

-- Views run with their owner's rights unless they say otherwise.
alter view conversation_outcomes set (security_invoker = true);
