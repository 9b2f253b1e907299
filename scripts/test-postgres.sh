#!/usr/bin/env bash
# Starts (idempotently) the private PostgreSQL cluster that the PostgreSQL store tests use, and prints its
# connection string on stdout: scripts/test.sh exports it as CRUCIBLE_TEST_POSTGRES.
# Usage: bash scripts/test-postgres.sh [start|stop]
# The cluster lives in /tmp/crucible-test-pg (trust authentication, Unix socket in that folder and 127.0.0.1:$PORT only);
# it is a throwaway for tests, never a place for real data, and stays running after the tests (stop: ... stop).
# Needs the Debian package postgresql (scripts/setup.sh). Each test creates and drops a database of its own there.
set -euo pipefail
port=${CRUCIBLE_TEST_POSTGRES_PORT:-54329}
dir=/tmp/crucible-test-pg
data=$dir/data
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "test-postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
# one caller at a time (test projects run in parallel and may both start it)
exec 9>/tmp/crucible-test-pg.lock
flock 9
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "${1:-start}" = stop ]; then
  [ -d "$data" ] && as_pg "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
  exit 0
fi
if [ ! -f "$data/PG_VERSION" ]; then
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
fi
if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  as_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null 9>&- \
    || { tail -n 20 "$dir/server.log" >&2; exit 1; }
fi
echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
