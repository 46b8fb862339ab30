#!/usr/bin/env bash
# Deploy exactly as README "Production" says, into a throw-away PostgreSQL database, and
# check the running server over HTTP (scripts/http_smoke.py): login page, a static file
# of the manifest, login, the home page, a trial dashboard and an API list, all 200.
#
#   scripts/deploy_smoke.sh            # database ci_deploy on the local PostgreSQL
#   DEPLOY_DB=mine DEPLOY_PG=postgres://postgres@127.0.0.1:5432 scripts/deploy_smoke.sh
#
# REDIS_URL is used when set (as in CI); the database is dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PG=${DEPLOY_PG:-postgres://postgres@127.0.0.1:5432}
DB=${DEPLOY_DB:-ci_deploy}
WORK=$(mktemp -d)
PORT=$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GUNICORN_PID=""

cleanup() {
  if [ -n "$GUNICORN_PID" ]; then
    kill "$GUNICORN_PID" 2>/dev/null || true
    wait "$GUNICORN_PID" 2>/dev/null || true
  fi
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
psql "$PG/postgres" -qc "CREATE DATABASE \"$DB\"" >/dev/null

# --- the README's production variables --------------------------------------------------
unset TESTING DJANGO_SETTINGS_MODULE
export DEBUG=0
export SECRET_KEY="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))')"
export FIELD_ENCRYPTION_KEY="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(32))')"
export ALLOWED_HOSTS=trials.example.org
export CSRF_TRUSTED_ORIGINS=https://trials.example.org
export TRUSTED_PROXY_HOPS=1
export DATABASE_URL="$PG/$DB"
export REDIS_URL="${REDIS_URL:-}"
export STATIC_ROOT="$WORK/static"

# --- the README's production steps -----------------------------------------------------
"$BIN/python" manage.py migrate --noinput
"$BIN/python" manage.py collectstatic --noinput
"$BIN/python" manage.py check --deploy --fail-level WARNING
# not a production step: demo accounts and a trial to look at (refused without --force)
"$BIN/python" manage.py seed_demo --force --sites 2 --patients-per-site 3 --quiet-logins
"$BIN/gunicorn" config.wsgi --bind "127.0.0.1:$PORT" --workers 2 --access-logfile - &
GUNICORN_PID=$!

for _ in $(seq 1 60); do
  if "$BIN/python" -c "import socket,sys; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; then
    break
  fi
  sleep 0.5
done
"$BIN/python" scripts/http_smoke.py "http://127.0.0.1:$PORT" trials.example.org lead demo-Trial-2026
echo "deploy smoke: passed"
