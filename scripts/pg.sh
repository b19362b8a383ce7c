# shellcheck shell=bash
# Sourced by scripts/serve, scripts/test and scripts/bench. When DATABASE_URL
# is unset it starts an ephemeral PostgreSQL cluster (as the `postgres` user:
# initdb and postgres refuse to run as root), exports DATABASE_URL and stops
# the cluster when the calling script exits. Installs Debian's postgresql
# package if the server binaries are missing.
#
# The cluster runs with durability off (fsync, synchronous_commit and
# full_page_writes off: fast, and fine for throwaway test data) unless
# CX_PG_DURABLE=1, which keeps production's durability (all three on), as
# scripts/bench does for figures that mean something.

cx_find_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

cx_free_port() {
  local port start
  # From a random point, so that clusters started at once by parallel
  # runs rarely pick the same port (cx_ensure_postgres retries if they do).
  start=$((54320 + RANDOM % 100))
  for port in $(seq "$start" 54420) $(seq 54320 "$start"); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port in 54320-54420" >&2
  return 1
}

cx_ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    echo "using DATABASE_URL from the environment" >&2
    return 0
  fi
  local bin
  bin=$(cx_find_pg_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL server binaries not found: installing Debian's postgresql" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    bin=$(cx_find_pg_bin)
  fi
  local user=postgres
  if [ "$(id -u)" != 0 ]; then user=$(id -un); fi
  CX_PGDATA=$(mktemp -d /tmp/cx-pg.XXXXXX)
  chown "$user" "$CX_PGDATA"
  chmod 700 "$CX_PGDATA"
  local run=()
  if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi
  "${run[@]}" "$bin/initdb" -D "$CX_PGDATA/data" -U postgres -A trust --no-sync -E UTF8 >"$CX_PGDATA/initdb.log" 2>&1 \
    || { cat "$CX_PGDATA/initdb.log" >&2; return 1; }
  # Enough connections for a parallel test run with one small pool per
  # test. Durability off for throwaway test data, on when CX_PG_DURABLE=1.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  if [ "${CX_PG_DURABLE:-0}" = 1 ]; then
    durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  fi
  # Another process may take the free port before the server binds it:
  # then try another.
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(cx_free_port)
    if "${run[@]}" "$bin/pg_ctl" -D "$CX_PGDATA/data" -l "$CX_PGDATA/server.log" -w -s \
      -o "-p $port -k $CX_PGDATA -c listen_addresses=127.0.0.1 -c max_connections=300 $durability -c shared_buffers=512MB" \
      start; then
      break
    fi
    if [ "$attempt" = 5 ] || ! grep -q "could not bind\|could not create any TCP/IP" "$CX_PGDATA/server.log"; then
      cat "$CX_PGDATA/server.log" >&2
      return 1
    fi
    echo "port $port was taken; trying another" >&2
  done
  export CX_PG_BIN="$bin"
  export CX_PGDATA
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  trap cx_stop_postgres EXIT
  local mode="durability off"
  if [ "${CX_PG_DURABLE:-0}" = 1 ]; then mode="durable"; fi
  echo "ephemeral PostgreSQL at $DATABASE_URL (data in $CX_PGDATA, $mode)" >&2
}

cx_stop_postgres() {
  if [ -n "${CX_PGDATA:-}" ] && [ -d "$CX_PGDATA/data" ]; then
    local run=()
    if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi
    "${run[@]}" "$CX_PG_BIN/pg_ctl" -D "$CX_PGDATA/data" -m fast -w -s stop >/dev/null 2>&1 || true
    rm -rf "$CX_PGDATA"
  fi
}
