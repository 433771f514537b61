#!/usr/bin/env bash
# Until the first release, the schema lives in one initial migration, regenerated from the
# models. Data migrations (reference data) are separate files that follow it.
# The new revision is generated in a scratch copy of migrations/ without any revision files
# (0002 depends on 0001, so Alembic cannot run while 0001 is missing), then copied back:
# migrations/versions/0001_initial_schema.py is replaced only when generation succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r migrations "$tmp/migrations"
rm -f "$tmp"/migrations/versions/*.py
DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/python - "$tmp/migrations" <<'PY' >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
import sys

from flask_migrate import revision

from webapp import create_app

with create_app().app_context():
    revision(directory=sys.argv[1], autogenerate=True, rev_id="0001", message="initial schema")
PY
cp "$tmp/migrations/versions/0001_initial_schema.py" migrations/versions/0001_initial_schema.py
echo "regenerated migrations/versions/0001_initial_schema.py"
