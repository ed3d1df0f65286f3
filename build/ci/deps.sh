#!/usr/bin/env bash
# Installs what building and testing the console needs and is missing:
# Debian packages (given as arguments, or the test set), npm packages of the
# frontend and of the Socket.IO interop fixture, and Go modules.
set -euo pipefail
cd "$(dirname "$0")/../.."

pkgs=("$@")
if [ "${1:-}" = "--no-debian" ]; then
  pkgs=()
elif [ ${#pkgs[@]} -eq 0 ]; then
  pkgs=(chromium gnome-keyring dbus-x11)
fi
missing=()
for p in "${pkgs[@]+"${pkgs[@]}"}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for dir in frontend backend/connector/socketio/testdata/node; do
  if [ -f "$dir/package-lock.json" ] && { [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; }; then
    echo "deps: npm ci in $dir"
    # npm 11 can write lock files without the other platforms' optional
    # packages (rollup's native builds) and then refuses its own file in
    # `npm ci`; `npm install` honours the same pinned versions.
    (cd "$dir" && { npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error; })
  fi
done

go mod download
