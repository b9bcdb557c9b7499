#!/usr/bin/env bash
# Renewal of many due accounts by the refresh scheduler (tokens.RunDue):
# one instance on SQLite, one on PostgreSQL, three on one PostgreSQL
# database, against the in-process provider with rotating refresh tokens.
# Reports accounts per second and the refresh tokens sent twice ("reused",
# which must be 0). PostgreSQL is a throwaway cluster (Debian's postgresql
# package: make test-deps), or the server in OIDCCTL_TEST_POSTGRES.
#
#   bench/renew.sh                 # 1,000 accounts, one pass each
#   ACCOUNTS=200 COUNT=3 bench/renew.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export ACCOUNTS=${ACCOUNTS:-1000}
COUNT=${COUNT:-1}
go test -run '^$' -bench BenchmarkRenewDue -benchtime 1x -count "$COUNT" ./bench/renew/
