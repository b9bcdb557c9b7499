#!/usr/bin/env bash
# Installs the Debian packages that the tests drive as real programs, when
# they are missing. Needs root (or sudo) only when something is missing.
set -euo pipefail

# package → a command it provides. chromium: the authorization code login
# is tested in a real headless browser. nginx: serve's forward-auth is
# tested behind a real nginx auth_request (in /usr/sbin, which a user's
# PATH may lack). wrk: bench/forward-auth.sh. tmux: the console end to end
# in a terminal. systemd: systemd-analyze security scores the unit.
declare -A needs=(
  [chromium]=chromium
  [tmux]=tmux
  [nginx]=/usr/sbin/nginx
  [wrk]=wrk
  [systemd]=systemd-analyze
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
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
