# Shared plumbing of the benchmark scripts (sourced, not run): tools, a
# release build, a fresh Pulang on its own cluster, tokens, pushes, the psql
# baselines and the arithmetic.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$pg_bin" ] && PATH="$PATH:$pg_bin"
work=$(mktemp -d /tmp/pulang-bench-XXXXXX)
chmod 755 "$work"
server=""
cleanup() {
  if [ -n "$server" ]; then kill -INT "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

say() { echo "$(date +%H:%M:%S) $*" >&2; }
die() { echo "cannot run: $*" >&2; exit 1; }

# Installs what is missing from Debian's packages (wrk, PostgreSQL, curl).
need_tools() {
  local missing=()
  for tool in "$@"; do
    case "$tool" in
      pgbench | initdb) command -v "$tool" >/dev/null || missing+=(postgresql postgresql-contrib) ;;
      *) command -v "$tool" >/dev/null || missing+=("$tool") ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]} from Debian's packages…"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null ||
    die "could not install ${missing[*]}"
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PATH="$PATH:$pg_bin"
}

build_release() {
  say "building the release binary…"
  cargo build --release --quiet || die "the release build failed"
  bin="$root/target/release/pulang"
}

now() { date +%s.%N; }
rate() { python3 -c "import sys; n,a,b=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(round(n/(b-a)))" "$@"; }
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1])/float(sys.argv[2])))" "$1" "$2"; }

# Starts `pulang serve` on a fresh data folder after `pulang seed`, as
# `cargo run --release` would. With STATEMENT_STATS=1 the cluster also loads
# pg_stat_statements, so that the suite can read each query's own time.
start_pulang() {
  # Tokens outlive the longest phase (loading a million cases).
  export PULANG_DATA_DIR="$work/pulang" PULANG_BIND="127.0.0.1:$PORT" RUST_LOG=warn PULANG_TOKEN_TTL_SECONDS=7200
  "$bin" seed >"$work/seed.txt" || die "pulang seed failed"
  if [ "${STATEMENT_STATS:-0}" = 1 ]; then
    echo "shared_preload_libraries = 'pg_stat_statements'" >>"$work/pulang/postgres/postgresql.auto.conf"
  fi
  "$bin" serve >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && return
    kill -0 "$server" 2>/dev/null || die "pulang serve exited: $(tail -5 "$work/server.log")"
    sleep 0.2
  done
  die "pulang did not become ready"
}

psql_run() { psql -X -q -v ON_ERROR_STOP=1 -h "$work/pulang/run" -U postgres -d pulang "$@"; }

access_token() {
  curl -fs "http://127.0.0.1:$PORT/api/v1/auth/token" -H 'Content-Type: application/json' -d "$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
# The BP3TKI Pontianak client that `pulang seed` creates.
client_token() {
  local secret
  secret=$(awk '/client_secret/ {print $4}' "$work/seed.txt")
  access_token "{\"grant_type\":\"client_credentials\",\"client_id\":\"bp3tki-pontianak\",\"client_secret\":\"$secret\"}"
}
# A demo user of `pulang seed`, by name.
user_token() {
  local password
  password=$(awk -v u="$1" '$1 == u {print $2}' "$work/seed.txt")
  access_token "{\"grant_type\":\"password\",\"username\":\"$1\",\"password\":\"$password\"}"
}

# Pushes the given batch files one after another, as one source system would.
push_batches() {
  local token=$1 f code
  shift
  for f in "$@"; do
    code=$(curl -s -o "$work/last.json" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/cases/batch" \
      -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data-binary @"$f")
    [ "$code" = 200 ] || die "push of $f failed ($code): $(head -c 400 "$work/last.json")"
  done
}
last_totals() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"])' "$work/last.json"; }

# The database's own cost of storing the same records, without the API: the
# same rows upserted with psql (INSERT … ON CONFLICT, one batch per
# statement, one session) and loaded with COPY into a table with the cases
# table's columns, constraints and indexes plus the identity's NIK with its
# unique index and the report's (source, reference) key. Sets upsert_rate and
# copy_rate.
baseline_bulk() {
  local dir=$1 rows=$2 t0 t1 t2 t3
  psql_run <<'SQL'
CREATE TABLE bench_cases (LIKE cases INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE bench_cases
  ALTER person_id SET DEFAULT gen_random_uuid(),
  ALTER status SET DEFAULT 'registered',
  ALTER source_agency_id SET DEFAULT '00000000-0000-0000-0000-000000000001',
  ADD COLUMN nik text;
-- The name, sex and their indexes are the case's own since the persons issue
-- (13); the NIK stays the identity's. The (source, reference) key moved to
-- case_reports with issue 21: the baseline keeps it on its one table.
CREATE UNIQUE INDEX ON bench_cases (nik) WHERE nik IS NOT NULL;
CREATE UNIQUE INDEX ON bench_cases (source_agency_id, external_reference) WHERE external_reference IS NOT NULL;
SQL
  say "psql upsert of $rows rows…"
  t0=$(now); cat "$dir"/batch-*.sql | psql_run >/dev/null; t1=$(now)
  psql_run -c "TRUNCATE bench_cases"
  say "COPY of $rows rows…"
  t2=$(now)
  psql_run -c "\\copy bench_cases (external_reference, case_number, full_name, nik, sex, category, arrived_at, entry_point, country_left, origin_region, origin_province, handling_province, funding_scope) FROM '$dir/baseline.csv' WITH (FORMAT csv)"
  t3=$(now)
  psql_run -c "DROP TABLE bench_cases"
  upsert_rate=$(rate "$rows" "$t0" "$t1")
  copy_rate=$(rate "$rows" "$t2" "$t3")
}

# Resident and peak resident size of a process, in MiB.
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
hwm_mib() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
