#!/usr/bin/env bash
# List pages: how long a page of 100 criteria, 100 performance records or 100 plans takes
# against a page of one (issue 10: a list makes a fixed number of store reads, not several per
# item).
#
# 1. Builds caseload (release) and starts it on a fresh database: PostgreSQL by default
#    (a new database on BENCH_POSTGRES, dropped at the end), or SQLite with BACKEND=sqlite.
# 2. Fills one plan with ITEMS criteria (each with an expression, EVALUATIONS recorded
#    evaluations with outcomes, one back-test and one open intervention request) and ITEMS
#    performance records of a type the service does not compute, and ITEMS plans each with
#    an open intervention request.
# 3. Runs wrk --latency for DURATION at CONNECTIONS connections on each list, with
#    page_size=ITEMS and page_size=1, and prints p50/p99 and requests per second.
#
# Environment: BACKEND (postgres), BENCH_POSTGRES (postgres://postgres@127.0.0.1:5432),
#              ITEMS (100), EVALUATIONS (3), DURATION (5s), CONNECTIONS (4), PORT (18185),
#              CARGO_TARGET_DIR.
set -euo pipefail

BACKEND="${BACKEND:-postgres}"
BENCH_POSTGRES="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
ITEMS="${ITEMS:-100}"
EVALUATIONS="${EVALUATIONS:-3}"
DURATION="${DURATION:-5s}"
CONNECTIONS="${CONNECTIONS:-4}"
PORT="${PORT:-18185}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
URL="http://127.0.0.1:$PORT"

die() { echo "lists.sh: $*" >&2; exit 1; }
command -v curl >/dev/null || die "curl is required"
command -v wrk >/dev/null || die "wrk is required (apt-get install -y wrk)"

echo "==> building (release)"
(cd "$ROOT" && cargo build --release --bin caseload)
BIN="$TARGET_DIR/release/caseload"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/caseload-lists.XXXXXX")"
PID=""
DB_NAME=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    if [ -n "$DB_NAME" ]; then
        psql -q "$BENCH_POSTGRES/postgres" -c "DROP DATABASE IF EXISTS $DB_NAME" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$BACKEND" in
postgres)
    command -v psql >/dev/null || die "psql is required for BACKEND=postgres"
    DB_NAME="caseload_bench_lists_$$"
    psql -q "$BENCH_POSTGRES/postgres" -c "CREATE DATABASE $DB_NAME" >/dev/null || die "cannot create a database on $BENCH_POSTGRES"
    export DATABASE_URL="$BENCH_POSTGRES/$DB_NAME"
    ;;
sqlite) export DATABASE_URL="sqlite://$WORK/lists.db" ;;
*) die "BACKEND is postgres or sqlite" ;;
esac

RUST_LOG=warn "$BIN" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
    curl -sf -o /dev/null --max-time 1 "$URL/health/ready" && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "server exited"; }
    sleep 0.1
done

post() { curl -sf -H 'Content-Type: application/json' -X "$1" --data "$3" "$URL$2"; }
id_of() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p"; }

echo "==> filling: $ITEMS criteria ($EVALUATIONS evaluations, a back-test and a request each), $ITEMS performance records, $ITEMS plans"
PLAN="$(post POST /customer-case-management '{"CustomerCaseManagementPlanPeriod":"2027"}' | id_of CustomerCaseManagementId)"
[ -n "$PLAN" ] || die "creating a plan failed"
for i in $(seq 1 "$ITEMS"); do
    r="/customer-case-management/$PLAN/rules/r$i"
    post PUT "$r" '{"CustomerCaseDecisionCriterion":"refunds","Expression":"amount <= limit","Parameters":{"limit":50}}' >/dev/null || die "rule $i"
    for e in $(seq 1 "$EVALUATIONS"); do
        ev="$(post POST "$r/evaluations" "{\"Facts\":{\"amount\":$((e * 20))},\"Record\":true}" | id_of EvaluationId)"
        post PATCH "$r/evaluations/$ev" '{"Outcome":"upheld"}' >/dev/null || die "outcome $i/$e"
    done
    post POST "$r/backtests" '{"Parameters":{"limit":30}}' >/dev/null || die "back-test $i"
    post POST "$r/requests" '{"Reason":"check"}' >/dev/null || die "request $i"
    post PUT "/customer-case-management/$PLAN/performances/p$i" '{"CustomerCaseServiceStatisticType":"custom"}' >/dev/null || die "performance $i"
done
for i in $(seq 2 "$ITEMS"); do
    p="$(post POST /customer-case-management '{}' | id_of CustomerCaseManagementId)"
    post POST "/customer-case-management/$p/requests" '{"Reason":"check"}' >/dev/null || die "plan request $i"
done

measure() {
    local name="$1" path="$2"
    local out
    out="$(wrk --latency -t1 -c"$CONNECTIONS" -d"$DURATION" "$URL$path")"
    local p50 p99 rps
    p50="$(echo "$out" | awk '$1 == "50%" {print $2}')"
    p99="$(echo "$out" | awk '$1 == "99%" {print $2}')"
    rps="$(echo "$out" | awk '/^Requests\/sec/ {print $2}')"
    printf '  %-28s p50 %8s  p99 %8s  %9s req/s\n' "$name" "$p50" "$p99" "$rps"
}

echo "==> wrk: $DURATION, $CONNECTIONS connections ($BACKEND)"
measure "rules, page of $ITEMS" "/customer-case-management/$PLAN/rules?page_size=$ITEMS"
measure "rules, page of 1" "/customer-case-management/$PLAN/rules?page_size=1"
measure "performances, page of $ITEMS" "/customer-case-management/$PLAN/performances?page_size=$ITEMS"
measure "performances, page of 1" "/customer-case-management/$PLAN/performances?page_size=1"
measure "plans, page of $ITEMS" "/customer-case-management?page_size=$ITEMS"
measure "plans, page of 1" "/customer-case-management?page_size=1"
