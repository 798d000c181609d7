#!/usr/bin/env bash
# Bulk-push benchmark (docs/benchmarks.md): pushes N case records in batches
# over HTTP to a release build on a fresh database, then, in the same run and
# against the same PostgreSQL, upserts the same rows with psql (INSERT … ON
# CONFLICT, same batch size) and loads them with COPY. Prints rows/s and the
# ratios. Needs PostgreSQL's server binaries, psql, curl and python3.
#
#   bench/bulk_push.sh            # N=100000 BATCH=1000
#   N=20000 bench/bulk_push.sh    # a quicker run
set -euo pipefail
N=${N:-100000}
BATCH=${BATCH:-1000}
PORT=${PORT:-18090}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d /tmp/pulang-bench-XXXXXX)
chmod 755 "$work"
server=""
cleanup() {
  [ -n "$server" ] && kill -INT "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
rate() { python3 -c "import sys; n,a,b=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(round(n/(b-a)))" "$@"; }

echo "building the release binary…" >&2
cargo build --release --quiet
bin="$root/target/release/pulang"

echo "generating $N records in batches of $BATCH…" >&2
python3 bench/gen_records.py "$work/data" "$N" "$BATCH"

export PULANG_DATA_DIR="$work/pulang" PULANG_BIND="127.0.0.1:$PORT" RUST_LOG=warn
"$bin" seed > "$work/seed.txt"
secret=$(awk '/client_secret/ {print $4}' "$work/seed.txt")
"$bin" serve > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
token=$(curl -fs "http://127.0.0.1:$PORT/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"bp3tki-pontianak\",\"client_secret\":\"$secret\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

push_all() {
  for f in "$work"/data/batch-*.json; do
    code=$(curl -s -o "$work/last.json" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/cases/batch" \
      -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data-binary @"$f")
    if [ "$code" != 200 ]; then echo "push failed ($code): $(head -c 400 "$work/last.json")" >&2; exit 1; fi
  done
}
echo "pushing over HTTP…" >&2
t0=$(now); push_all; t1=$(now)
created=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"])' "$work/last.json")
echo "pushing the same records again (all unchanged)…" >&2
t2=$(now); push_all; t3=$(now)
again=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"])' "$work/last.json")

psql_run() { psql -X -q -v ON_ERROR_STOP=1 -h "$work/pulang/run" -U postgres -d pulang "$@"; }
# The baseline writes the same records into a table with the cases table's columns,
# constraints and indexes plus the person's name, NIK and sex with the persons
# table's indexes: the database's own cost of storing them, without the API.
psql_run <<'SQL'
CREATE TABLE bench_cases (LIKE cases INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE bench_cases
  ALTER person_id SET DEFAULT gen_random_uuid(),
  ALTER status SET DEFAULT 'registered',
  ALTER source_agency_id SET DEFAULT '00000000-0000-0000-0000-000000000001',
  ADD COLUMN full_name text NOT NULL, ADD COLUMN nik text, ADD COLUMN sex text;
CREATE UNIQUE INDEX ON bench_cases (nik) WHERE nik IS NOT NULL;
CREATE INDEX ON bench_cases USING gin (full_name gin_trgm_ops);
SQL
echo "psql upsert, batches of $BATCH…" >&2
t4=$(now); cat "$work"/data/batch-*.sql | psql_run >/dev/null; t5=$(now)
psql_run -c "TRUNCATE bench_cases"
echo "COPY…" >&2
t6=$(now)
psql_run -c "\\copy bench_cases (external_reference, case_number, full_name, nik, sex, category, arrived_at, entry_point, country_left, origin_region, origin_province, handling_province, funding_scope) FROM '$work/data/all.csv' WITH (FORMAT csv)"
t7=$(now)
total=$(psql_run -At -c "SELECT count(*) FROM cases")

api=$(rate "$N" "$t0" "$t1"); repeat=$(rate "$N" "$t2" "$t3")
upsert=$(rate "$N" "$t4" "$t5"); copy=$(rate "$N" "$t6" "$t7")
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1])/float(sys.argv[2])))" "$1" "$2"; }
echo
echo "bulk push of $N records in batches of $BATCH ($(nproc) cores, $(date -u +%Y-%m-%d))"
echo "  cases in the database: $total; last batch first push: $created; again: $again"
printf '| %-32s | %10s | %-28s |\n' "figure" "rows/s" "ratio"
printf '| %-32s | %10s | %-28s |\n' "API push (new records)" "$api" "$(ratio "$api" "$upsert") × psql upsert, $(ratio "$api" "$copy") × COPY"
printf '| %-32s | %10s | %-28s |\n' "API push again (unchanged)" "$repeat" "$(ratio "$repeat" "$upsert") × psql upsert"
printf '| %-32s | %10s | %-28s |\n' "psql INSERT … ON CONFLICT" "$upsert" "baseline"
printf '| %-32s | %10s | %-28s |\n' "psql COPY" "$copy" "baseline"
