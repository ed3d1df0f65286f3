#!/usr/bin/env bash
# Installs what building and testing the console needs and is missing:
# Debian packages (given as arguments, or the test set), the npm packages of
# the frontend (and, for tests, of every Node test fixture), and Go modules.
#
#   deps.sh              test set: Debian test packages, frontend + fixtures
#   deps.sh --demo       only what `make demo` needs: the frontend's packages
#   deps.sh PKG...       these Debian packages, frontend + fixtures
#
# npm packages are installed with `npm ci` only: a lock file that does not
# match its package.json fails here, loudly, instead of being rewritten (a
# rewritten lock leaves the clone dirty and the version "-dirty").
set -euo pipefail
cd "$(dirname "$0")/../.."

demo=""
pkgs=("$@")
if [ "${1:-}" = "--demo" ]; then
  demo=1
  pkgs=()
elif [ ${#pkgs[@]} -eq 0 ]; then
  # Browser tests, keyring tests, and the desktop app: its build, its .deb
  # (dpkg-dev, lintian) and its end-to-end test under Xvfb.
  pkgs=(chromium gnome-keyring dbus-x11 libgtk-3-dev libwebkit2gtk-4.1-dev pkg-config dpkg-dev lintian
    xvfb xauth x11-utils imagemagick
    postgresql) # the throwaway PostgreSQL clusters of the store tests (backend/store/pgtest)
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

# The frontend, then (tests only) every other tracked package-lock.json:
# the Node interop fixtures, wherever they live.
dirs=(frontend)
if [ -z "$demo" ]; then
  while IFS= read -r lock; do
    d=$(dirname "$lock")
    [ "$d" = frontend ] || dirs+=("$d")
  done < <(git ls-files '*package-lock.json' 2>/dev/null || true)
fi
for dir in "${dirs[@]}"; do
  if [ -f "$dir/package-lock.json" ] && { [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ] || [ "$dir/package.json" -nt "$dir/node_modules/.package-lock.json" ]; }; then
    echo "deps: npm ci in $dir"
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
      echo "deps: npm ci refused $dir/package-lock.json: it does not match $dir/package.json." >&2
      echo "deps: regenerate it (rm -rf node_modules package-lock.json && npm install) and commit it." >&2
      exit 1
    fi
  fi
done

go mod download
(cd backend/connector/socketio/libprobe && go mod download)   # its own module (the measured library)
