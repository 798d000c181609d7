#!/usr/bin/env bash
# The performance suite (docs/benchmarks.md): one command that builds a
# release, starts Pulang on a fresh database, loads N cases through the bulk
# path, and measures each figure against PostgreSQL's own limit in the same
# run on the same machine — wrk against the API, pgbench with the same SQL
# against the database, the same number of clients for both. Prints one
# table; exits non-zero only when it could not run.
#
#   bench/suite.sh                          # N=1000000 cases, 8 clients, 20 s per load
#   N=200000 DURATION=10 bench/suite.sh     # a quicker run
N=${N:-1000000}
BULK=${BULK:-100000}
BATCH=1000
CLIENTS=${CLIENTS:-8}
DURATION=${DURATION:-20}
PORT=${PORT:-18092}
STATEMENT_STATS=1
source "$(dirname "$0")/lib.sh"
[ "$N" -ge "$BULK" ] && [ "$N" -le 1000000 ] || die "N must be at least BULK and at most 1000000 (the generator's NIKs stay unique up to a million)"
rows_tsv="$work/rows.tsv"
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$rows_tsv"; }
met() { python3 -c "import sys; print('yes' if eval(sys.argv[1]) else 'no')" "$1"; }

need_tools curl python3 psql initdb pgbench wrk
build_release
say "generating $N records (the first $BULK also as psql and COPY input)…"
python3 bench/gen_records.py "$work/data" "$N" "$BATCH" "$BULK"
mapfile -t batches < <(ls "$work"/data/batch-*.json)
first=$((BULK / BATCH))

start_pulang
pid=$server
curl -fs "http://127.0.0.1:$PORT/api/v1/me" -H "Authorization: Bearer $(client_token)" >/dev/null
sleep 1
idle_rss=$(rss_mib "$pid")
say "Pulang is ready; resident size idle: $idle_rss MiB"

# 1. Bulk push: the first BULK records, then the same again, against psql.
token=$(client_token)
say "pushing $BULK new records…"
t0=$(now); push_batches "$token" "${batches[@]:0:first}"; t1=$(now)
say "pushing the same $BULK records again (all unchanged)…"
t2=$(now); push_batches "$token" "${batches[@]:0:first}"; t3=$(now)
[ "$(last_totals)" = "{'created': 0, 'updated': 0, 'unchanged': 1000, 'linked': 0, 'rejected': 0}" ] ||
  die "the repeat push changed records: $(last_totals)"
baseline_bulk "$work/data" "$BULK"
push_new=$(rate "$BULK" "$t0" "$t1"); push_again=$(rate "$BULK" "$t2" "$t3")

# 2. The rest of the load through the same path.
rest=$((N - BULK))
if [ "$rest" -gt 0 ]; then
  say "loading the other $rest cases through the bulk path…"
  token=$(client_token)
  t4=$(now); push_batches "$token" "${batches[@]:first}"; t5=$(now)
  load_rate=$(rate "$rest" "$t4" "$t5")
fi
say "VACUUM ANALYZE…"
psql_run -c "VACUUM ANALYZE"
cases=$(psql_run -At -c "SELECT count(*) FROM cases")
[ "$cases" -eq "$N" ] || die "expected $N cases, found $cases"
# wrk reads ids from a file; pgbench reaches the same rows by case number.
psql_run -At -c "SELECT id FROM cases TABLESAMPLE SYSTEM (5) LIMIT 50000" >"$work/ids.txt"
max_number=$((N < 999999 ? N : 999999))

# 3. Reads, as a provincial case worker (scope: cases handled in province 61).
export PULANG_TOKEN IDS_FILE="$work/ids.txt"
PULANG_TOKEN=$(user_token dinsos.kalbar)
export REGIONS="61.01,61.02,61.03,61.04,61.05,61.06,61.07,61.08,61.09,61.10,61.11,61.12,61.71,61.72,32.01,32.03,33.01,33.02,35.07,35.09,52.01,52.03,53.01,18.01,12.01"
api_load() { # name lua
  wrk -t1 -c"$CLIENTS" -d5s -s "bench/load/$2.lua" "http://127.0.0.1:$PORT" >/dev/null
  wrk -t1 -c"$CLIENTS" -d"${DURATION}s" --latency -s "bench/load/$2.lua" "http://127.0.0.1:$PORT" >"$work/$1.wrk"
  python3 bench/report.py wrk "$work/$1.wrk"
}
db_load() { # name sql
  local logs="$work/$1.logs"
  mkdir -p "$logs"
  pgbench -n -h "$work/pulang/run" -U postgres -M prepared -c "$CLIENTS" -j 1 -T 5 -D cases="$max_number" \
    -f "bench/load/$2.sql" pulang >/dev/null 2>&1
  (cd "$logs" && pgbench -n -h "$work/pulang/run" -U postgres -M prepared -c "$CLIENTS" -j 1 -T "$DURATION" \
    -D cases="$max_number" -l -f "$root/bench/load/$2.sql" pulang >"$work/$1.pgbench" 2>&1) ||
    die "pgbench failed: $(tail -3 "$work/$1.pgbench")"
  python3 bench/report.py pgbench "$work/$1.pgbench" "$logs"
}
read_row() { # figure target api db
  local a_rate a_p50 a_p99 a_err d_rate d_p50 d_p99 d_err r
  read -r a_rate a_p50 a_p99 a_err <<<"$3"
  read -r d_rate d_p50 d_p99 d_err <<<"$4"
  [ "$a_err" = 0 ] || die "$1: $a_err requests failed (see $work)"
  r=$(ratio "$a_rate" "$d_rate")
  row "$1" "$a_rate/s (p50 $a_p50 ms, p99 $a_p99 ms)" "$d_rate/s (p50 $d_p50 ms, p99 $d_p99 ms)" \
    "$r ×" "≥ $2 ×" "$(met "$r >= $2")"
}
psql_run -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()" >/dev/null
say "GET a case by id: wrk, then pgbench ($CLIENTS clients, ${DURATION} s each)…"
get_api=$(api_load get get_case); get_db=$(db_load get get_case)
say "list page (origin regency + status, newest first, 50 rows)…"
list_api=$(api_load list list_cases); list_db=$(db_load list list_cases)
psql_run -At -F $'\t' -c "SELECT calls, round(mean_exec_time::numeric, 3), left(regexp_replace(query, '\s+', ' ', 'g'), 160)
  FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE 'SELECT c.*%' ORDER BY calls DESC LIMIT 12" >"$work/statements.tsv"

# 4. The return statistics for a year: the API's time against the statement's
# own — what PostgreSQL logs for parsing, planning and executing it.
say "return statistics for 2019, 10 requests one after another…"
psql_run -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 10); do
  curl -fs -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/api/v1/stats/returns?from=2019-01-01&to=2019-12-31" \
    -H "Authorization: Bearer $PULANG_TOKEN" >>"$work/stats.times" || die "the statistics request failed"
done
psql_run -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
read -r stats_mean stats_p50 <<<"$(python3 bench/report.py latencies "$work/stats.times")"
query_ms=$(python3 bench/report.py statement "$work/pulang/postgres.log" "WITH g AS (") ||
  die "the statistics statement was not found in the server log"
stats_extra=$(python3 -c "import sys; print('%+.1f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$stats_mean" "$query_ms")

peak_rss=$(hwm_mib "$pid")
sleep 5
idle_after=$(rss_mib "$pid")

read_row "GET a case by id" 0.5 "$get_api" "$get_db"
read_row "list page: origin regency + status, newest first, 50 rows" 0.6 "$list_api" "$list_db"
row "return statistics for 2019 (mean of 10)" "$stats_mean ms" "$query_ms ms (the statement: parse, plan, execute)" \
  "$stats_extra ms" "≤ +5 ms" "$(met "$stats_extra <= 5")"
r=$(ratio "$push_new" "$upsert_rate")
row "bulk push, $BULK new records" "$push_new rows/s" "$upsert_rate rows/s (psql upsert)" "$r ×" "≥ 1.5 ×" "$(met "$r >= 1.5")"
r=$(ratio "$push_new" "$copy_rate")
row "bulk push, $BULK new records" "$push_new rows/s" "$copy_rate rows/s (COPY)" "$r ×" "≥ 0.5 ×" "$(met "$r >= 0.5")"
r=$(ratio "$push_again" "$upsert_rate")
row "repeat push, $BULK unchanged records" "$push_again rows/s" "$upsert_rate rows/s (psql upsert)" "$r ×" \
  "≥ the first push" "$(met "$push_again >= $push_new")"
[ "$rest" -gt 0 ] && row "load to $N cases (the other $rest pushed)" "$load_rate rows/s" "—" "—" "—" "—"
row "resident size, idle after start" "$idle_rss MiB" "—" "—" "< 64 MiB" "$(met "$idle_rss < 64")"
row "resident size, peak under load" "$peak_rss MiB" "—" "—" "< 256 MiB" "$(met "$peak_rss < 256")"
row "resident size, idle after the run" "$idle_after MiB" "—" "—" "—" "—"

echo
echo "Pulang performance suite — $(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
  "$(postgres --version | sed 's/postgres (PostgreSQL) /PostgreSQL /'), $N cases, $CLIENTS clients, ${DURATION} s per load"
echo
python3 bench/report.py table "$rows_tsv"
echo
echo "Statements the API sent during the read loads (calls, mean ms, statement):"
sed 's/^/  /' "$work/statements.tsv"
