#!/usr/bin/env bash
# Installs the Debian packages that the tests drive as real programs, when
# they are missing. Needs root (or sudo) only when something is missing.
set -euo pipefail

# package → a command it provides. chromium: the authorization code login
# is tested in a real headless browser. nginx: serve's forward-auth is
# tested behind a real nginx auth_request (in /usr/sbin, which a user's
# PATH may lack). wrk: bench/forward-auth.sh. tmux: the console end to end
# in a terminal. systemd: systemd-analyze security scores the unit.
# postgresql: the PostgreSQL store is tested against a real server, which
# the tests start themselves in a temporary directory (see db/pgtest);
# installing the package must not start a cluster of its own.
declare -A needs=(
  [chromium]=chromium
  [tmux]=tmux
  [nginx]=/usr/sbin/nginx
  [wrk]=wrk
  [systemd]=systemd-analyze
  [postgresql]=/usr/lib/postgresql/15/bin/initdb
)

missing=()
for pkg in "${!needs[@]}"; do
  command -v "${needs[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "test-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "test-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
# No cluster started by the package's scripts: the tests start their own.
if [[ " ${missing[*]} " == *" postgresql "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod 755 /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
