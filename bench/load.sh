#!/usr/bin/env bash
# Load test: caseload against a bare axum baseline (crates/server/examples/baseline.rs).
#
# Runs wrk (32 connections, 2 threads by default) against:
#   baseline GET /fixed      vs  caseload GET  /CustomerCaseManagement/{id}/Retrieve
#   baseline POST /echo      vs  caseload POST /CustomerCaseManagement/Create
# and prints requests/sec, p50/p99 latency and the ratios Retrieve/fixed (target >= 0.5)
# and Create/echo (target >= 0.25). Results also go to bench/results/load-<date>.md.
#
# This machine's throughput drifts by a third from one run to the next (shared cores), so the
# four scenarios run in ROUNDS alternating rounds and the report uses each scenario's median.
#
# By default (PIN=1, on a machine with at least 2 cores) the servers run on core 0 and wrk on
# core 1, so the load generator does not take CPU from the server it measures; PIN=0 lets
# them share all cores.
#
# AUTH=apikey runs caseload as in production: an API key (scopes read,write, all business units)
# is created in the database before the server starts, which switches authentication on, and
# every caseload request sends it in X-API-Key. AUTH=none (the default) is development mode.
#
# Environment: DURATION (default 10s), ROUNDS (3), PIN (1), CONNECTIONS (32), THREADS (2, or 1 pinned),
#              AUTH (none or apikey), BASELINE_PORT (18181), CASELOAD_PORT (18182), CARGO_TARGET_DIR.
set -euo pipefail

DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-32}"
PIN="${PIN:-1}"
SERVER_CPU=()
WRK_CPU=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    SERVER_CPU=(taskset -c 0)
    WRK_CPU=(taskset -c 1)
    THREADS="${THREADS:-1}"
else
    PIN=0
    THREADS="${THREADS:-2}"
fi
BASELINE_PORT="${BASELINE_PORT:-18181}"
CASELOAD_PORT="${CASELOAD_PORT:-18182}"
AUTH="${AUTH:-none}"
case "$AUTH" in none|apikey) ;; *) echo "load.sh: AUTH must be none or apikey" >&2; exit 1 ;; esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
BASELINE_URL="http://127.0.0.1:$BASELINE_PORT"
CASELOAD_URL="http://127.0.0.1:$CASELOAD_PORT"

die() { echo "load.sh: $*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------------------
command -v curl >/dev/null || die "curl is required"
if ! command -v wrk >/dev/null; then
    echo "load.sh: wrk is not installed."
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "load.sh: installing wrk with apt-get"
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; then
            apt-get update
            DEBIAN_FRONTEND=noninteractive apt-get install -y wrk
        fi
    else
        die "install wrk (e.g. apt-get install -y wrk) and rerun"
    fi
fi

# --- build -------------------------------------------------------------------------------
echo "==> building (release)"
(cd "$ROOT" && cargo build --release --bin caseload --example baseline)
BASELINE_BIN="$TARGET_DIR/release/examples/baseline"
CASELOAD_BIN="$TARGET_DIR/release/caseload"
[ -x "$BASELINE_BIN" ] || die "missing $BASELINE_BIN"
[ -x "$CASELOAD_BIN" ] || die "missing $CASELOAD_BIN"

# --- servers -----------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/caseload-load.XXXXXX")"
BASELINE_PID=""
CASELOAD_PID=""
cleanup() {
    local pid
    for pid in "$BASELINE_PID" "$CASELOAD_PID"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in "$BASELINE_PORT" "$CASELOAD_PORT"; do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
        die "port $port is already in use; set BASELINE_PORT / CASELOAD_PORT"
    fi
done

CURL_AUTH=()
if [ "$AUTH" = apikey ]; then
    # `apikey create` prints the key once, as the only word starting with cl_.
    API_KEY="$("$CASELOAD_BIN" --database-url "sqlite://$WORK/bench.db" apikey create \
        --name "load test" --scopes read,write --business-units '*' | grep -o 'cl_[A-Za-z0-9_-]*' | head -1)"
    [ -n "$API_KEY" ] || die "could not create an API key"
    CURL_AUTH=(-H "X-API-Key: $API_KEY")
fi

echo "==> starting baseline on $BASELINE_URL and caseload on $CASELOAD_URL (db in $WORK, auth: $AUTH)"
"${SERVER_CPU[@]}" "$BASELINE_BIN" "127.0.0.1:$BASELINE_PORT" >"$WORK/baseline.log" 2>&1 &
BASELINE_PID=$!
RUST_LOG=warn "${SERVER_CPU[@]}" "$CASELOAD_BIN" --listen "127.0.0.1:$CASELOAD_PORT" \
    --database-url "sqlite://$WORK/bench.db" >"$WORK/caseload.log" 2>&1 &
CASELOAD_PID=$!

# wait_ready NAME PID URL LOG: poll URL until it answers 2xx (at most ~30 s).
wait_ready() {
    local name=$1 pid=$2 url=$3 log=$4 i
    for i in $(seq 1 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "--- $name log:" >&2; cat "$log" >&2
            die "$name exited before becoming ready"
        fi
        if curl -sf -o /dev/null --max-time 1 "$url"; then
            return 0
        fi
        sleep 0.1
    done
    echo "--- $name log:" >&2; cat "$log" >&2
    die "$name not ready at $url after 30 s"
}
wait_ready baseline "$BASELINE_PID" "$BASELINE_URL/fixed" "$WORK/baseline.log"
wait_ready caseload "$CASELOAD_PID" "$CASELOAD_URL/health/ready" "$WORK/caseload.log"

# --- fixtures ----------------------------------------------------------------------------
BODY='{"CustomerCaseTrainingPlan":"x"}'
created="$(curl -sf -X POST "${CURL_AUTH[@]}" -H 'Content-Type: application/json' --data "$BODY" \
    "$CASELOAD_URL/CustomerCaseManagement/Create")" || die "creating the plan to retrieve failed"
PLAN_ID="$(printf '%s' "$created" | sed -n 's/.*"CustomerCaseManagementId" *: *"\([^"]*\)".*/\1/p')"
[ -n "$PLAN_ID" ] || die "no CustomerCaseManagementId in: $created"
RETRIEVE_PATH="/CustomerCaseManagement/$PLAN_ID/Retrieve"
curl -sf -o /dev/null "${CURL_AUTH[@]}" "$CASELOAD_URL$RETRIEVE_PATH" || die "retrieving plan $PLAN_ID failed"

cat >"$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
EOF
# caseload's requests carry the key (the baseline's never do).
cp "$WORK/post.lua" "$WORK/caseload-post.lua"
: >"$WORK/caseload-get.lua"
if [ "$AUTH" = apikey ]; then
    echo "wrk.headers[\"X-API-Key\"] = \"$API_KEY\"" | tee -a "$WORK/caseload-post.lua" >>"$WORK/caseload-get.lua"
fi

# --- runs --------------------------------------------------------------------------------
declare -A RPS P50 P99 BAD
# run KEY URL [LUA]: one wrk run; fills RPS/P50/P99/BAD[KEY].
run() {
    local key=$1 url=$2 lua=${3:-} out
    local args=(-t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency)
    [ -n "$lua" ] && args+=(-s "$lua")
    echo "==> $key: wrk ${args[*]} $url"
    out="$("${WRK_CPU[@]}" wrk "${args[@]}" "$url")"
    printf '%s\n' "$out" >"$WORK/$key.wrk"
    RPS[$key]="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
    P50[$key]="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    P99[$key]="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    # Non-2xx answers and socket errors would flatter the numbers: count them.
    local non2xx sockerr
    non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")"
    sockerr="$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")"
    BAD[$key]=$(( ${non2xx:-0} + ${sockerr:-0} ))
    [ -n "${RPS[$key]}" ] || { printf '%s\n' "$out" >&2; die "could not parse wrk output for $key"; }
}

declare -A ALL
for round in $(seq 1 "$ROUNDS"); do
    echo "==> round $round of $ROUNDS"
    run fixed    "$BASELINE_URL/fixed"
    run retrieve "$CASELOAD_URL$RETRIEVE_PATH" "$WORK/caseload-get.lua"
    run echo     "$BASELINE_URL/echo" "$WORK/post.lua"
    run create   "$CASELOAD_URL/CustomerCaseManagement/Create" "$WORK/caseload-post.lua"
    for k in fixed retrieve echo create; do
        ALL[$k]="${ALL[$k]:-} ${RPS[$k]}"
    done
done
# The median run of each scenario (by req/s) is the one reported.
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for k in fixed retrieve echo create; do
    RPS[$k]="$(median "${ALL[$k]}")"
done

if ! kill -0 "$CASELOAD_PID" 2>/dev/null; then
    echo "--- caseload log:" >&2; cat "$WORK/caseload.log" >&2
    die "caseload died during the run"
fi

# --- report ------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r + 0 >= t) ? "ok" : "BELOW TARGET" }'; }
R_RETRIEVE="$(ratio "${RPS[retrieve]}" "${RPS[fixed]}")"
R_CREATE="$(ratio "${RPS[create]}" "${RPS[echo]}")"

DATE="$(date +%Y-%m-%d-%H%M%S)"
LABELS=(fixed retrieve echo create)
declare -A NAME=(
    [fixed]="baseline GET /fixed"
    [retrieve]="caseload GET Retrieve"
    [echo]="baseline POST /echo"
    [create]="caseload POST Create"
)

table() {
    echo "| scenario | median req/s | all rounds | p50 | p99 (last round) | non-2xx + socket errors |"
    echo "|---|---:|---|---:|---:|---:|"
    local k
    for k in "${LABELS[@]}"; do
        echo "| ${NAME[$k]} | ${RPS[$k]} |${ALL[$k]} | ${P50[$k]} | ${P99[$k]} | ${BAD[$k]} |"
    done
    echo
    echo "| ratio | value | target | verdict |"
    echo "|---|---:|---:|---|"
    echo "| Retrieve / fixed | $R_RETRIEVE | >= 0.5 | $(verdict "$R_RETRIEVE" 0.5) |"
    echo "| Create / echo | $R_CREATE | >= 0.25 | $(verdict "$R_CREATE" 0.25) |"
}

REPORT="$(table)"
echo
if [ "$PIN" = 1 ]; then WHERE="servers on core 0, wrk on core 1"; else WHERE="wrk shares all $(nproc) cores with the servers"; fi
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS alternating rounds; $WHERE; auth: $AUTH"
echo
printf '%s\n' "$REPORT"

mkdir -p "$ROOT/bench/results"
RESULT_FILE="$ROOT/bench/results/load-$DATE.md"
{
    echo "# Load test $DATE"
    echo
    echo "- commit: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo ' (dirty)')"
    echo "- wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per run, $ROUNDS alternating rounds (medians); $WHERE"
    echo "- caseload: SQLite file in a temp dir, RUST_LOG=warn; auth: $AUTH; POST body \`$BODY\`"
    echo
    printf '%s\n' "$REPORT"
} >"$RESULT_FILE"
echo
echo "results written to $RESULT_FILE"
