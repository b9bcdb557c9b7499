#!/usr/bin/env bash
# Forward-auth throughput with the store on PostgreSQL as a ratio to the
# same run on SQLite: bench/forward-auth.sh once with STORE=sqlite, once
# with STORE=postgres (same DURATION, THREADS, CONNECTIONS, AUTH_DEBUG),
# then req/s of each run on PostgreSQL over its req/s on SQLite. The target
# is at least 0.95: the validation of a known token reads nothing from the
# database (TestForwardAuthDoesNotWaitForTheDatabase in cmd/oidcctl shows
# it with every table locked), so what remains is noise between the runs.
#
#   bench/forward-auth-engines.sh
#   DURATION=20s bench/forward-auth-engines.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for store in sqlite postgres; do
  echo "== store $store" >&2
  STORE=$store bench/forward-auth.sh > "$out/$store.txt"
  cat "$out/$store.txt"
  echo
done

# The table rows: the run's name in the first 18 columns, then req/s.
rates() { awk 'substr($0, 1, 1) == "(" || /^ceiling / { name = substr($0, 1, 18); sub(/ +$/, "", name); split(substr($0, 19), f, " "); print name "|" f[1] }' "$1"; }
echo "PostgreSQL over SQLite (req/s; target >= 0.95 for the serve runs):"
join -t'|' <(rates "$out/sqlite.txt" | sort) <(rates "$out/postgres.txt" | sort) |
  awk -F'|' '{ printf "%-18s %12s %12s %8.3f\n", $1, $2, $3, $3 / $2 }' | sort
