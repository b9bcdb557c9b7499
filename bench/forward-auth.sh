#!/usr/bin/env bash
# Forward-auth throughput and latency of `oidcctl serve`, with wrk on
# loopback, against a bare Go net/http handler answering 200 (the ceiling)
# measured in the same run:
#
#   ceiling  the bare handler
#   (a)      /auth with one token, repeated
#   (b)      /auth with 10,000 distinct valid tokens, in turn
#   (c)      /auth with 10,000 distinct invalid tokens (changed signatures)
#
# Each of (a), (b) and (c) is a share of the ceiling, and also of the bare
# handler sent the same requests (the same 1.2 KB Authorization header,
# and for (b) and (c) the same wrk script, which costs wrk's share of the
# two cores): the "same req." column, what serve adds to net/http and wrk
# for the same requests. The bare handler also answers each case's
# requests as serve answers them (an accepted token: the request id, the
# user headers, Cache-Control; a refused one: 401, the WWW-Authenticate
# challenge and the JSON error body): the "same exch." column, what serve
# adds to net/http for the same exchange. The ceilings' allocations per
# call are net/http's own.
#
# and, for each run, serve's resident memory after it and at its peak so
# far, and the allocations per call (go_memstats_mallocs_total over
# oidcctl_requests_total from /metrics: the validation and the HTTP
# handling together). Needs go and wrk (make
# test-deps); everything runs on 127.0.0.1 and is removed afterwards.
#
#   bench/forward-auth.sh                  # 10 s per run, 2 threads, 32 connections
#   DURATION=30s CONNECTIONS=64 bench/forward-auth.sh
#   STORE=postgres bench/forward-auth.sh   # the store on PostgreSQL (bench/postgres.sh)
#   bench/forward-auth-engines.sh          # both, and PostgreSQL's req/s over SQLite's
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
AUTH_DEBUG=${AUTH_DEBUG:-refused}
STORE=${STORE:-sqlite}

command -v wrk >/dev/null || { echo "forward-auth.sh: wrk is missing: run make test-deps" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_http() { # url
  for _ in $(seq 1 200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "forward-auth.sh: $1 does not answer" >&2
  exit 1
}

echo "building…" >&2
go build -o "$work/oidcctl" ./cmd/oidcctl
go build -o "$work/fabench" ./bench/cmd/fabench

store_args=()
case $STORE in
  sqlite) ;;
  postgres)
    . bench/postgres.sh
    chmod 711 "$work"
    bench_postgres "$work/pg"
    [ -z "$PG_PID" ] || pids+=("$PG_PID")
    store_args=(--db "$PG_CONN") ;;
  *) echo "forward-auth.sh: STORE=$STORE: want sqlite or postgres" >&2; exit 2 ;;
esac

echo "preparing the provider, the database ($STORE) and 10,000 tokens…" >&2
mkfifo "$work/setup.out"
"$work/fabench" setup --dir "$work" "${store_args[@]}" > "$work/setup.out" &
pids+=($!)
while read -r line; do
  [ "$line" = READY ] && break
  export "${line?}"
done < "$work/setup.out"

ceiling_port=$(free_port)
"$work/fabench" ceiling --listen "127.0.0.1:$ceiling_port" &
pids+=($!)

serve_port=$(free_port)
"$work/oidcctl" serve --listen "127.0.0.1:$serve_port" --auth-profile op --no-scheduler \
  --auth-debug "$AUTH_DEBUG" --log-level error 2> "$work/serve.log" &
serve_pid=$!
pids+=($serve_pid)

wait_http "http://127.0.0.1:$ceiling_port/"
for _ in $(seq 1 200); do
  curl -fsS -o /dev/null "http://127.0.0.1:$serve_port/readyz" 2>/dev/null && break
  sleep 0.05
done
curl -fsS -o /dev/null "http://127.0.0.1:$serve_port/readyz" || { echo "serve is not ready:" >&2; cat "$work/serve.log" >&2; exit 1; }

# Check the answers before measuring them.
same=$(head -1 "$work/same.txt")
code() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:$serve_port/auth"; }
[ "$(code "$same")" = 200 ] || { echo "the repeated token is not accepted" >&2; exit 1; }
[ "$(code "$(head -1 "$work/valid.txt")")" = 200 ] || { echo "a valid token is not accepted" >&2; exit 1; }
[ "$(code "$(head -1 "$work/invalid.txt")")" = 401 ] || { echo "an invalid token is not refused" >&2; exit 1; }

# scrape_ceiling prints the bare handler's allocations so far.
scrape_ceiling() { curl -fsS "http://127.0.0.1:$ceiling_port/allocs"; }

# scrape prints "mallocs requests" from serve's /metrics.
scrape() {
  curl -fsS "http://127.0.0.1:$serve_port/metrics" | awk '
    /^go_memstats_mallocs_total / {m=$2}
    /^oidcctl_requests_total\{/ {r+=$2}
    END {printf "%.0f %.0f\n", m, r}'
}

results=()
run() { # name url [wrk args…]
  local name=$1 url=$2
  shift 2
  local out before="" before_ceiling=""
  case $name in ceiling*) before_ceiling=$(scrape_ceiling) ;; *) before=$(scrape) ;; esac
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
  echo "$out" > "$work/wrk-$name.txt"
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  local rss="-" peak="-" allocs="-"
  if [ -n "$before" ]; then
    rss="$(( $(awk '/^VmRSS:/ {print $2}' "/proc/$serve_pid/status") / 1024 )) MiB"
    peak="$(( $(awk '/^VmHWM:/ {print $2}' "/proc/$serve_pid/status") / 1024 )) MiB"
    allocs=$(awk -v a="$before" -v b="$(scrape)" 'BEGIN {split(a, x, " "); split(b, y, " ");
      if (y[2] > x[2]) printf "%.0f", (y[1] - x[1]) / (y[2] - x[2]); else print "-"}')
  else
    allocs=$(awk -v a="$before_ceiling" -v b="$(scrape_ceiling)" -v n="$(awk '/requests in/ {print $1}' <<<"$out")" \
      'BEGIN {if (n > 0) printf "%.0f", (b - a) / n; else print "-"}')
  fi
  results+=("$name|$rps|$p50|$p99|${non2xx:-0}|$rss|$peak|$allocs")
  echo "  $name: $rps req/s, p50 $p50, p99 $p99, serve RSS $rss (peak $peak), $allocs allocs/call" >&2
}

echo "measuring ($THREADS threads, $CONNECTIONS connections, $DURATION each)…" >&2
run ceiling "http://127.0.0.1:$ceiling_port/"
run "ceiling (a)" "http://127.0.0.1:$ceiling_port/" -H "Authorization: Bearer $same"
run "ceiling (a) answer" "http://127.0.0.1:$ceiling_port/answer" -H "Authorization: Bearer $same"
TOKENS="$work/valid.txt" run "ceiling (b)" "http://127.0.0.1:$ceiling_port/" -s bench/rotate.lua
TOKENS="$work/valid.txt" run "ceiling (b) answer" "http://127.0.0.1:$ceiling_port/answer" -s bench/rotate.lua
TOKENS="$work/invalid.txt" run "ceiling (c)" "http://127.0.0.1:$ceiling_port/" -s bench/rotate.lua
TOKENS="$work/invalid.txt" run "ceiling (c) answer" "http://127.0.0.1:$ceiling_port/refuse" -s bench/rotate.lua
run "(a) same token" "http://127.0.0.1:$serve_port/auth" -H "Authorization: Bearer $same"
TOKENS="$work/valid.txt" run "(b) 10k valid" "http://127.0.0.1:$serve_port/auth" -s bench/rotate.lua
TOKENS="$work/invalid.txt" run "(c) 10k invalid" "http://127.0.0.1:$serve_port/auth" -s bench/rotate.lua

rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$serve_pid/status")
hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$serve_pid/status")
metrics=$(curl -fsS "http://127.0.0.1:$serve_port/metrics")
dropped=$(awk '/^oidcctl_debug_dropped_total/ {print $2}' <<<"$metrics")
written=$(awk '/^oidcctl_debug_entries_written_total/ {print $2}' <<<"$metrics")

ceiling_rps=$(cut -d'|' -f2 <<<"${results[0]}")
echo
echo "forward-auth on $(nproc) cores, store $STORE, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, go $(go env GOVERSION), --auth-debug $AUTH_DEBUG"
declare -A same_rps answer_rps
printf '%-20s %12s %10s %10s %10s %10s %11s %10s %12s %12s %12s\n' run "req/s" p50 p99 ceiling "same req." "same exch." non-2xx "serve RSS" "peak RSS" "allocs/call"
for r in "${results[@]}"; do
  IFS='|' read -r name rps p50 p99 non2xx rss peak allocs <<<"$r"
  ratio=$(awk -v a="$rps" -v b="$ceiling_rps" 'BEGIN {printf "%.0f%%", 100*a/b}')
  case=${name:0:3} same="-" exch="-"
  case $name in
    "ceiling ("*answer) answer_rps[${name:8:3}]=$rps ;;
    "ceiling ("*) same_rps[${name:8:3}]=$rps ;;
    "("*)
      same=$(awk -v a="$rps" -v b="${same_rps[$case]}" 'BEGIN {printf "%.0f%%", 100*a/b}')
      [ -z "${answer_rps[$case]:-}" ] || exch=$(awk -v a="$rps" -v b="${answer_rps[$case]}" 'BEGIN {printf "%.0f%%", 100*a/b}') ;;
  esac
  printf '%-20s %12s %10s %10s %10s %10s %11s %10s %12s %12s %12s\n' "$name" "$rps" "$p50" "$p99" "$ratio" "$same" "$exch" "$non2xx" "$rss" "$peak" "$allocs"
done
echo "serve RSS at the end: $((rss_kb / 1024)) MiB (peak $((hwm_kb / 1024)) MiB)"
echo "debugger: ${written:-0} entries written, ${dropped:-0} dropped (queue full)"
echo "result cache: $(awk '/^oidcctl_validation_cache_(entries|bytes|hits_total|misses_total)/ {printf "%s %s  ", $1, $2}' <<<"$metrics")"
