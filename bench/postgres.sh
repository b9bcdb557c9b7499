# Sourced by the bench scripts: bench_postgres DIR sets PG_CONN to an
# empty PostgreSQL database and PG_PID to the server to stop afterwards
# (empty when none was started). With BENCH_POSTGRES set (the connection
# string of an empty database) that database is used; otherwise a
# throwaway cluster is started in DIR
# (Debian's postgresql package: make test-deps), on a unix socket in DIR
# only, as the "postgres" user when run as root (PostgreSQL refuses root),
# with the settings of db/pgtest.
bench_postgres() { # dir
  local dir=$1 bin
  PG_PID=""
  if [ -n "${BENCH_POSTGRES:-}" ]; then
    PG_CONN=$BENCH_POSTGRES
    return
  fi
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$bin/postgres" ] || { echo "bench: PostgreSQL is missing: run make test-deps, or set BENCH_POSTGRES" >&2; return 1; }
  local as=()
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    chmod o+x "$(dirname "$dir")"
    chown postgres: "$dir"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
  "${as[@]}" "$bin/postgres" -D "$dir/data" -k "$dir" -c listen_addresses= -c fsync=off \
    -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 >"$dir/postgres.log" 2>&1 &
  PG_PID=$!
  for _ in $(seq 1 300); do
    "$bin/pg_isready" -q -h "$dir" && break
    sleep 0.1
  done
  "$bin/createdb" -h "$dir" -U postgres oidcctl
  PG_CONN="postgres://postgres@/oidcctl?host=$dir"
}
