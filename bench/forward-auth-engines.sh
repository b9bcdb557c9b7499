#!/usr/bin/env bash
# Forward-auth throughput with the store on PostgreSQL as a ratio to the
# same run on SQLite: bench/forward-auth.sh with STORE=sqlite, then with
# STORE=postgres (same DURATION, THREADS, CONNECTIONS, AUTH_DEBUG), ROUNDS
# times in turn (default 3: a busy machine makes single runs differ by
# tens of percent), then the median req/s of each run on PostgreSQL over
# its median on SQLite. The target
# is at least 0.95: the validation of a known token reads nothing from the
# database (TestForwardAuthDoesNotWaitForTheDatabase in cmd/oidcctl shows
# it with every table locked), so what remains is noise between the runs.
#
#   bench/forward-auth-engines.sh
#   DURATION=5s ROUNDS=5 bench/forward-auth-engines.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq 1 "$ROUNDS"); do
  for store in sqlite postgres; do
    echo "== round $round, store $store" >&2
    STORE=$store bench/forward-auth.sh > "$out/$store.$round.txt"
    cat "$out/$store.$round.txt"
    echo
  done
done

# median STORE prints "run|median req/s" over the rounds of STORE; the
# table rows have the run's name in their first 20 columns, then req/s.
median() {
  awk 'substr($0, 1, 1) == "(" || /^ceiling / { name = substr($0, 1, 20); sub(/ +$/, "", name); split(substr($0, 21), f, " "); print name "|" f[1] }' "$out/$1".*.txt |
    sort -t'|' -k1,1 -k2,2g |
    awk -F'|' '{ v[$1] = v[$1] " " $2; n[$1]++ }
      END { for (k in v) { split(substr(v[k], 2), a, " "); m = n[k] % 2 ? a[(n[k] + 1) / 2] : (a[n[k] / 2] + a[n[k] / 2 + 1]) / 2; print k "|" m } }' | sort
}
echo "PostgreSQL over SQLite, median req/s of $ROUNDS rounds (target >= 0.95 for the serve runs):"
printf '%-20s %12s %12s %8s\n' run sqlite postgres ratio
join -t'|' <(median sqlite) <(median postgres) |
  awk -F'|' '{ printf "%-20s %12.0f %12.0f %8.3f\n", $1, $2, $3, $3 / $2 }' | sort
