#!/usr/bin/env bash
# Bulk-push benchmark (docs/benchmarks.md): pushes N case records in batches
# over HTTP to a release build on a fresh database, then, in the same run and
# against the same PostgreSQL, upserts the same rows with psql (INSERT … ON
# CONFLICT, same batch size) and loads them with COPY. Prints rows/s and the
# ratios. Installs what it needs from Debian's packages when missing.
#
#   bench/bulk_push.sh            # N=100000 BATCH=1000
#   N=20000 bench/bulk_push.sh    # a quicker run
N=${N:-100000}
BATCH=${BATCH:-1000}
PORT=${PORT:-18090}
source "$(dirname "$0")/lib.sh"

need_tools curl python3 psql initdb
build_release
say "generating $N records in batches of $BATCH…"
python3 bench/gen_records.py "$work/data" "$N" "$BATCH"
start_pulang
token=$(client_token)

say "pushing over HTTP…"
t0=$(now); push_batches "$token" "$work"/data/batch-*.json; t1=$(now)
created=$(last_totals)
say "pushing the same records again (all unchanged)…"
t2=$(now); push_batches "$token" "$work"/data/batch-*.json; t3=$(now)
again=$(last_totals)
baseline_bulk "$work/data" "$N"
total=$(psql_run -At -c "SELECT count(*) FROM cases")

api=$(rate "$N" "$t0" "$t1"); repeat=$(rate "$N" "$t2" "$t3")
echo
echo "bulk push of $N records in batches of $BATCH ($(nproc) cores, $(date -u +%Y-%m-%d))"
echo "  cases in the database: $total; last batch first push: $created; again: $again"
printf '| %-32s | %10s | %-28s |\n' "figure" "rows/s" "ratio"
printf '| %-32s | %10s | %-28s |\n' "API push (new records)" "$api" "$(ratio "$api" "$upsert_rate") × psql upsert, $(ratio "$api" "$copy_rate") × COPY"
printf '| %-32s | %10s | %-28s |\n' "API push again (unchanged)" "$repeat" "$(ratio "$repeat" "$upsert_rate") × psql upsert"
printf '| %-32s | %10s | %-28s |\n' "psql INSERT … ON CONFLICT" "$upsert_rate" "baseline"
printf '| %-32s | %10s | %-28s |\n' "psql COPY" "$copy_rate" "baseline"
