#!/usr/bin/env bash
# Ingest benchmark: how many case events a second caseload stores into SQLite, in batches.
#
# Starts caseload (release build) on a fresh SQLite file and runs the load client
# crates/server/examples/ingest_load.rs, which
#   - creates a plan, then builds every batch before the clock starts: BATCHES batches of
#     BATCH_SIZE events as NDJSON (a simulated case desk: many interleaved cases going through
#     opened ... closed, optional properties as a real feed gives them, all of them on one
#     event in ten, unique EventIds);
#   - sends one warm-up batch to a second plan;
#   - "new" phase: sends the batches with SENDERS concurrent senders and times first send to
#     last answer (every event must be accepted);
#   - "dup" phase: sends the same batches again (every event must come back a duplicate).
# Once batches pause, the server folds the new events into its case timelines in the
# background; the report lists each fold (through which batch, how long).
# It prints events/s, batches/s, per-batch latency p50/p99/max, the server's CPU use and the
# bytes it wrote (wchar: WAL, checkpoints, responses) in each phase, and its peak RSS (VmHWM)
# at the end. Results also go to bench/results/ingest-<date>.md.
# Target (issue 3): at least 100,000 events/s into SQLite on the 2-core machine.
#
# By default (PIN=1, on a machine with at least 2 cores) the server runs on core 0 and the
# client on core 1, like bench/load.sh; PIN=0 lets them share all cores (the server can then
# parse one batch while its writer thread stores another).
#
# Environment: BATCHES (50), BATCH_SIZE (10000), SENDERS (2), IDS (v4: random UUIDs; v7; seq),
#              FORMAT (ndjson or array), OPEN_CASES (5000), WARMUP (1), PIN (1),
#              PORT (18183), PERF (0; 1 records `perf record -g` of the server during both
#              phases into bench/results/ingest-<date>.perf.data), CARGO_TARGET_DIR.
set -euo pipefail

BATCHES="${BATCHES:-50}"
BATCH_SIZE="${BATCH_SIZE:-10000}"
SENDERS="${SENDERS:-2}"
IDS="${IDS:-v4}"
FORMAT="${FORMAT:-ndjson}"
OPEN_CASES="${OPEN_CASES:-5000}"
WARMUP="${WARMUP:-1}"
PORT="${PORT:-18183}"
PERF="${PERF:-0}"
PIN="${PIN:-1}"
SERVER_CPU=()
CLIENT_CPU=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    SERVER_CPU=(taskset -c 0)
    CLIENT_CPU=(taskset -c 1)
else
    PIN=0
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
URL="http://127.0.0.1:$PORT"

die() { echo "ingest.sh: $*" >&2; exit 1; }

command -v curl >/dev/null || die "curl is required"
if [ "$PERF" = 1 ]; then command -v perf >/dev/null || die "PERF=1 needs perf"; fi

# --- build -------------------------------------------------------------------------------
echo "==> building (release)"
(cd "$ROOT" && cargo build --release --bin caseload --example ingest_load)
CASELOAD_BIN="$TARGET_DIR/release/caseload"
CLIENT_BIN="$TARGET_DIR/release/examples/ingest_load"
[ -x "$CASELOAD_BIN" ] || die "missing $CASELOAD_BIN"
[ -x "$CLIENT_BIN" ] || die "missing $CLIENT_BIN"

# --- server ------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/caseload-ingest.XXXXXX")"
CASELOAD_PID=""
PERF_PID=""
cleanup() {
    local pid
    for pid in "$PERF_PID" "$CASELOAD_PID"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if curl -s -o /dev/null --max-time 1 "$URL/"; then
    die "port $PORT is already in use; set PORT"
fi

echo "==> starting caseload on $URL (db in $WORK)"
RUST_LOG=warn,caseload::api::ops::performance=info "${SERVER_CPU[@]}" "$CASELOAD_BIN" --listen "127.0.0.1:$PORT" \
    --database-url "sqlite://$WORK/bench.db" >"$WORK/caseload.log" 2>&1 &
CASELOAD_PID=$!

ready=0
for _ in $(seq 1 300); do
    if ! kill -0 "$CASELOAD_PID" 2>/dev/null; then
        echo "--- caseload log:" >&2; cat "$WORK/caseload.log" >&2
        die "caseload exited before becoming ready"
    fi
    if curl -sf -o /dev/null --max-time 1 "$URL/health/ready"; then ready=1; break; fi
    sleep 0.1
done
if [ "$ready" != 1 ]; then
    echo "--- caseload log:" >&2; cat "$WORK/caseload.log" >&2
    die "caseload not ready at $URL after 30 s"
fi
RSS_START="$(awk '/^VmRSS:/ {print $2}' "/proc/$CASELOAD_PID/status")"

# --- run ---------------------------------------------------------------------------------
DATE="$(date +%Y-%m-%d-%H%M%S)"
mkdir -p "$ROOT/bench/results"
if [ "$PERF" = 1 ]; then
    # Covers the warm-up and both phases (the server is idle while the client builds batches).
    perf record ${PERF_CALLGRAPH:--g} -o "$ROOT/bench/results/ingest-$DATE.perf.data" -p "$CASELOAD_PID" \
        >"$WORK/perf.log" 2>&1 &
    PERF_PID=$!
fi
if [ "$PIN" = 1 ]; then WHERE="server on core 0, client on core 1"; else WHERE="server and client share all $(nproc) cores"; fi
echo "==> $BATCHES batches x $BATCH_SIZE events ($FORMAT, EventIds $IDS), $SENDERS senders; $WHERE"
set +e
"${CLIENT_CPU[@]}" "$CLIENT_BIN" --url "$URL" --batches "$BATCHES" --batch-size "$BATCH_SIZE" \
    --senders "$SENDERS" --ids "$IDS" --format "$FORMAT" --open-cases "$OPEN_CASES" \
    --warmup "$WARMUP" --server-pid "$CASELOAD_PID" --clk-tck "$(getconf CLK_TCK)" \
    | tee "$WORK/client.out" | grep -v '^RESULT '
status=${PIPESTATUS[0]}
set -e
if [ -n "$PERF_PID" ]; then
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
    PERF_PID=""
fi
if ! kill -0 "$CASELOAD_PID" 2>/dev/null; then
    echo "--- caseload log:" >&2; cat "$WORK/caseload.log" >&2
    die "caseload died during the run"
fi
[ "$status" = 0 ] || { echo "--- caseload log:" >&2; tail -20 "$WORK/caseload.log" >&2; die "the load client failed"; }

# Timelines are folded in the background once batches pause (the "new" phase's events while
# the "dup" phase runs); wait for the last fold and report each.
for _ in $(seq 1 600); do
    grep -q "generation=$((BATCHES + WARMUP))\b\|generation=$BATCHES\b" "$WORK/caseload.log" 2>/dev/null && break
    sleep 0.1
done
FOLDS="$(grep 'case events folded' "$WORK/caseload.log" | sed -n 's/.*generation=\([0-9]*\).*elapsed_ms=\([0-9]*\).*/through batch \1 in \2 ms/p' | paste -sd ';' -)"
HWM="$(awk '/^VmHWM:/ {print $2}' "/proc/$CASELOAD_PID/status")"
DB_BYTES="$(du -cb "$WORK"/bench.db* | awk 'END {print $1}')"

# --- report ------------------------------------------------------------------------------
declare -A R
while IFS='=' read -r key value; do
    R[$key]="$value"
done < <(sed -n 's/^RESULT //p' "$WORK/client.out")
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
verdict() { awk -v r="$1" 'BEGIN { print (r + 0 >= 100000) ? "ok" : "BELOW TARGET" }'; }

table() {
    echo "| phase | events | seconds | events/s | batches/s | MB/s | batch p50 | batch p99 | batch max | server CPU | server µs/event | server writes | client CPU |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local k
    for k in new dup; do
        echo "| $k | ${R[${k}_events]} | ${R[${k}_seconds]} | ${R[${k}_events_per_sec]} | ${R[${k}_batches_per_sec]} | ${R[${k}_mb_per_sec]} | ${R[${k}_p50_ms]} ms | ${R[${k}_p99_ms]} ms | ${R[${k}_max_ms]} ms | ${R[${k}_server_cpu_pct]:-?}% | ${R[${k}_server_us_per_event]:-?} | ${R[${k}_server_wchar_mb]:-?} MB | ${R[${k}_client_cpu_pct]:-?}% |"
    done
    echo
    echo "| measure | value |"
    echo "|---|---:|"
    echo "| new events/s vs target 100,000 | ${R[new_events_per_sec]} ($(verdict "${R[new_events_per_sec]}")) |"
    echo "| duplicate events/s | ${R[dup_events_per_sec]} |"
    echo "| background folds into case timelines | ${FOLDS:-none logged} |"
    echo "| server RSS after start | $(mib "$RSS_START") MiB |"
    echo "| server peak RSS (VmHWM) | $(mib "$HWM") MiB |"
    echo "| database files at the end | $(awk -v b="$DB_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }') MiB |"
}
REPORT="$(table)"
echo
printf '%s\n' "$REPORT"

RESULT_FILE="$ROOT/bench/results/ingest-$DATE.md"
{
    echo "# Ingest benchmark $DATE"
    echo
    echo "- commit: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo ' (dirty)')"
    echo "- $BATCHES batches x $BATCH_SIZE events, $FORMAT, EventIds $IDS, $OPEN_CASES open cases, $SENDERS senders, $WARMUP warm-up batch(es); $WHERE"
    echo "- caseload: SQLite file in a temp dir, RUST_LOG=warn; $(nproc) cores"
    sed -n 's/^built /- built /p' "$WORK/client.out"
    echo
    printf '%s\n' "$REPORT"
    if [ "$PERF" = 1 ]; then
        echo
        echo "perf data: bench/results/ingest-$DATE.perf.data (\`perf report -i ...\`)"
    fi
} >"$RESULT_FILE"
echo
echo "results written to $RESULT_FILE"
