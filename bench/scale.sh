#!/usr/bin/env bash
# oidcctl with many accounts, on SQLite and on PostgreSQL: a refresh
# scheduler pass that finds nothing due, the store's overview of the
# accounts (counts and first page), `oidcctl token list` and the
# console's first frame (the binary in an 80×24 tmux pane), at each size of
# SIZES, as a table of times and peak memory. PostgreSQL is a throwaway
# cluster (Debian's postgresql package: make test-deps), or the server in
# OIDCCTL_TEST_POSTGRES. Seeding 100,000 accounts takes minutes.
#
#   bench/scale.sh                       # 10,000 and 100,000 accounts
#   SIZES=2000,20000 COUNT=10 bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export SIZES=${SIZES:-10000,100000}
COUNT=${COUNT:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench BenchmarkScale -benchtime "${COUNT}x" -timeout 2h ./bench/scale/ | tee "$out" >&2
# BenchmarkScale/sqlite/accounts=10000/token-list-2  5  76241708 ns/op  36.75 peak-RSS-MB
awk '
/^BenchmarkScale\// {
	split($1, p, "/"); backend = p[2]; n = p[3]; sub(/accounts=/, "", n); what = p[4]; sub(/-[0-9]+$/, "", what)
	ms = ""; rss = "-"; allocs = "-"
	for (i = 3; i < NF; i++) {
		if ($(i+1) == "ns/op") ms = sprintf("%.1f", $i / 1e6)
		if ($(i+1) == "peak-RSS-MB") rss = sprintf("%.0f", $i)
		if ($(i+1) == "allocs/op") allocs = $i
	}
	printf "| %-8s | %7d | %-14s | %9s | %11s | %9s |\n", backend, n, what, ms, rss, allocs
	next
}
BEGIN {
	printf "| %-8s | %7s | %-14s | %9s | %11s | %9s |\n", "backend", "accounts", "measure", "ms", "peak RSS MB", "allocs"
	printf "|----------|---------|----------------|-----------|-------------|-----------|\n"
}' "$out"
