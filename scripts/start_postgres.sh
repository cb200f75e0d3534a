#!/usr/bin/env bash
# Start the local Debian PostgreSQL cluster and make sure the test role/database exist:
#   role bedside (password bedside), database bedside_test owned by it, on 127.0.0.1:5432.
# Idempotent: safe to run repeatedly. Exits non-zero with a reason on stderr when
# PostgreSQL cannot be made ready (scripts/test.sh then lets the PG tests skip, or fail in CI).
set -euo pipefail

PG_PORT="${BEDSIDE_PG_PORT:-5432}"
PG_ROLE="bedside"
PG_PASSWORD="bedside"
PG_DB="bedside_test"
WAIT_SECONDS="${BEDSIDE_PG_WAIT:-30}"

say()  { printf '[postgres] %s\n' "$*"; }
fail() { printf '[postgres] ERROR: %s\n' "$*" >&2; exit 1; }

command -v pg_ctlcluster >/dev/null 2>&1 || fail "pg_ctlcluster not found: PostgreSQL (Debian package postgresql) is not installed"
command -v pg_isready    >/dev/null 2>&1 || fail "pg_isready not found: PostgreSQL client tools are not installed"

# Run a command as the postgres OS user (peer auth on the local socket).
as_postgres() {
    if [ "$(id -un)" = "postgres" ]; then
        (cd /tmp && "$@")
    elif [ "$(id -u)" -eq 0 ]; then
        (cd /tmp && runuser -u postgres -- "$@")
    elif command -v sudo >/dev/null 2>&1; then
        (cd /tmp && sudo -n -u postgres -- "$@")
    else
        fail "need root (or sudo) to administer PostgreSQL as the postgres user"
    fi
}

# Newest installed server version: prefer one with a cluster in /etc/postgresql.
VERSION=""
if [ -d /etc/postgresql ]; then
    VERSION="$(ls /etc/postgresql 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1 || true)"
fi
if [ -z "$VERSION" ] && [ -d /usr/lib/postgresql ]; then
    VERSION="$(ls /usr/lib/postgresql 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1 || true)"
fi
[ -n "$VERSION" ] || fail "no PostgreSQL server version found under /etc/postgresql or /usr/lib/postgresql"
CLUSTER="main"

# Create the cluster if the package's postinst did not (e.g. a minimal container).
if [ ! -f "/etc/postgresql/$VERSION/$CLUSTER/postgresql.conf" ]; then
    say "creating cluster $VERSION/$CLUSTER on port $PG_PORT"
    pg_createcluster --port "$PG_PORT" "$VERSION" "$CLUSTER" >/dev/null || fail "pg_createcluster $VERSION $CLUSTER failed"
fi

# The cluster's configured port must be the one the tests use.
CONF_PORT="$(pg_lsclusters -h 2>/dev/null | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $3}')"
if [ -n "$CONF_PORT" ] && [ "$CONF_PORT" != "$PG_PORT" ]; then
    fail "cluster $VERSION/$CLUSTER is configured for port $CONF_PORT, not $PG_PORT (set BEDSIDE_PG_PORT or edit /etc/postgresql/$VERSION/$CLUSTER/postgresql.conf)"
fi

# Start it unless it is already running.
if pg_ctlcluster "$VERSION" "$CLUSTER" status >/dev/null 2>&1; then
    say "cluster $VERSION/$CLUSTER already running"
else
    say "starting cluster $VERSION/$CLUSTER"
    if ! pg_ctlcluster "$VERSION" "$CLUSTER" start; then
        LOG="/var/log/postgresql/postgresql-$VERSION-$CLUSTER.log"
        [ -r "$LOG" ] && tail -n 20 "$LOG" >&2
        fail "pg_ctlcluster $VERSION $CLUSTER start failed"
    fi
fi

# Wait until it accepts TCP connections on loopback.
for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
    if pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
        break
    fi
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || fail "server not ready on 127.0.0.1:$PG_PORT after ${WAIT_SECONDS}s"

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres -tA)

# Role: create if missing, otherwise (re)set login + password so the URL always works.
if [ "$(as_postgres "${PSQL[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE'")" = "1" ]; then
    as_postgres "${PSQL[@]}" -c "ALTER ROLE $PG_ROLE WITH LOGIN PASSWORD '$PG_PASSWORD'" >/dev/null \
        || fail "could not update role $PG_ROLE"
else
    say "creating role $PG_ROLE"
    as_postgres "${PSQL[@]}" -c "CREATE ROLE $PG_ROLE WITH LOGIN PASSWORD '$PG_PASSWORD'" >/dev/null \
        || fail "could not create role $PG_ROLE"
fi

# Database: create if missing, owned by the test role.
if [ "$(as_postgres "${PSQL[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" = "1" ]; then
    :
else
    say "creating database $PG_DB"
    as_postgres "${PSQL[@]}" -c "CREATE DATABASE $PG_DB OWNER $PG_ROLE" >/dev/null \
        || fail "could not create database $PG_DB"
fi

say "ready: postgresql://$PG_ROLE:***@127.0.0.1:$PG_PORT/$PG_DB (PostgreSQL $VERSION)"
