#!/usr/bin/env bash
# Performance Retrieve benchmark: how long reading a computed Performance record takes once a
# plan has a long history (target, issue 3: p99 under 10 ms with 1,000,000 events), how long
# the first read after new events takes, and the server's memory.
#
# 1. Builds caseload (release) and fills a fresh SQLite file with `caseload demo --no-serve`
#    (EVENTS events over DAYS days: one plan with goals, calendar, resources and one
#    Performance record per statistic type), timing it.
# 2. Starts caseload on that file and reads each of the ten Performance records once, cold
#    (timelines read from the store and every figure computed), printing each time.
# 3. Runs wrk --latency for DURATION with CONNECTIONS connections, rotating over the ten
#    records, and prints the latency distribution (p50/p90/p99).
# 4. Sends one batch of new events (which raises the plan's generation), and times the next
#    read of each record again (recomputed once, then reused).
# 5. Prints the server's resident memory now (VmRSS) and at its peak (VmHWM).
# Results also go to bench/results/performance-<date>.md.
#
# Environment: EVENTS (1000000), DAYS (180), DURATION (20s), CONNECTIONS (16), PORT (18184),
#              PIN (1: server on core 0, wrk on core 1), CARGO_TARGET_DIR.
set -euo pipefail

EVENTS="${EVENTS:-1000000}"
DAYS="${DAYS:-180}"
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-16}"
PORT="${PORT:-18184}"
PIN="${PIN:-1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
URL="http://127.0.0.1:$PORT"
SERVER_CPU=()
CLIENT_CPU=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    SERVER_CPU=(taskset -c 0)
    CLIENT_CPU=(taskset -c 1)
fi

die() { echo "performance.sh: $*" >&2; exit 1; }
command -v curl >/dev/null || die "curl is required"
command -v wrk >/dev/null || die "wrk is required (apt-get install -y wrk)"

echo "==> building (release)"
(cd "$ROOT" && cargo build --release --bin caseload)
BIN="$TARGET_DIR/release/caseload"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/caseload-perf.XXXXXX")"
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export DATABASE_URL="sqlite://$WORK/perf.db"

echo "==> demo: $EVENTS events over $DAYS days into $WORK/perf.db"
start=$(date +%s.%N)
RUST_LOG=warn "$BIN" demo --events "$EVENTS" --days "$DAYS" --no-serve
fill_s=$(echo "$(date +%s.%N) - $start" | bc)

RUST_LOG=warn "${SERVER_CPU[@]}" "$BIN" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
    curl -sf -o /dev/null --max-time 1 "$URL/health/ready" && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "server exited"; }
    sleep 0.1
done
PLAN="$(curl -sf "$URL/customer-case-management?page_size=1" | sed -n 's/.*"CustomerCaseManagementId" *: *"\([^"]*\)".*/\1/p')"
[ -n "$PLAN" ] || die "no plan found"
TYPES="throughput backlog first-response-time resolution-time effort-per-case sla-attainment reopen-rate appeal-rate utilization profit-loss"

read_each() {
    local t
    for t in $TYPES; do
        curl -sf -o /dev/null -w "  $t: %{time_total}s\n" "$URL/CustomerCaseManagement/$PLAN/Performance/$t/Retrieve" \
            || die "retrieving $t failed"
    done
}

echo "==> cold reads (first read of each record)"
cold="$(read_each)"
echo "$cold"

cat >"$WORK/rotate.lua" <<EOF
local types = {}
for t in string.gmatch("$TYPES", "%S+") do types[#types + 1] = t end
local i = 0
request = function()
    i = i % #types + 1
    return wrk.format("GET", "/CustomerCaseManagement/$PLAN/Performance/" .. types[i] .. "/Retrieve")
end
EOF
echo "==> wrk: $DURATION, $CONNECTIONS connections, rotating over the ten records"
"${CLIENT_CPU[@]}" wrk --latency -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/rotate.lua" "$URL" | tee "$WORK/wrk.txt"

echo "==> one new batch, then the next read of each record"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
curl -sf -o /dev/null -H 'Content-Type: application/json' \
    --data "[{\"EventId\":\"bench-$(date +%s%N)\",\"CaseId\":\"bench-case\",\"EventType\":\"opened\",\"OccurredAt\":\"$now\"}]" \
    "$URL/customer-case-management/$PLAN/case-events" || die "ingesting failed"
after="$(read_each)"
echo "$after"
again="$(read_each)"

rss="$(grep -E 'VmRSS|VmHWM' /proc/$PID/status | tr -s ' \t' ' ' | tr '\n' ' ')"
echo "==> server memory: $rss"

mkdir -p "$ROOT/bench/results"
out="$ROOT/bench/results/performance-$(date -u +%Y-%m-%d).md"
{
    echo "# Performance Retrieve, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "EVENTS=$EVENTS DAYS=$DAYS DURATION=$DURATION CONNECTIONS=$CONNECTIONS PIN=$PIN; demo fill ${fill_s}s"
    echo
    echo "## Cold reads"; echo '```'; echo "$cold"; echo '```'
    echo "## wrk (rotating over ten records)"; echo '```'; cat "$WORK/wrk.txt"; echo '```'
    echo "## After one new batch: first read, then second"; echo '```'; echo "$after"; echo "--"; echo "$again"; echo '```'
    echo "## Memory"; echo "$rss"
} >"$out"
echo "==> written to $out"
