#!/usr/bin/env bash
# Server CPU time per request: runs wrk (1 thread, 32 connections, D seconds, on core 1)
# against URL and divides the CPU time the process PID used meanwhile (/proc/PID/stat) by the
# requests answered. Unlike req/s, this hardly moves when other work shares the machine, so
# it compares two builds on a busy machine. LUA is an optional wrk script (headers, bodies).
#
#   bash bench/cpureq.sh PID URL [LUA]        # D=5s by default
set -euo pipefail
PID=$1; URL=$2; LUA=${3:-}
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' /proc/$PID/stat; }
c0=$(cpu)
args=(-t1 -c32 -d${D:-5s})
[ -n "$LUA" ] && args+=(-s "$LUA")
out=$(taskset -c 1 wrk "${args[@]}" "$URL")
c1=$(cpu)
reqs=$(awk '/requests in/ {print $1}' <<<"$out")
rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
awk -v c=$((c1-c0)) -v t=$tck -v r=$reqs -v rps=$rps -v bad=${bad:-0} 'BEGIN {printf "%s req/s, %.2f us CPU/request, bad %s\n", rps, c/t*1e6/r, bad}'
