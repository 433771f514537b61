#!/usr/bin/env bash
# Until the first release, the schema lives in one initial migration, regenerated from the
# models. Data migrations (reference data) are separate files that follow it.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f migrations/versions/0001_initial_schema.py
DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/flask --app wsgi db revision --autogenerate \
  --rev-id 0001 -m "initial schema" >/dev/null 2>&1
echo "regenerated migrations/versions/0001_initial_schema.py"
