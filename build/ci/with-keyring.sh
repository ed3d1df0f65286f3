#!/usr/bin/env bash
# Runs a command with a real Secret Service: a private D-Bus session with an
# unlocked gnome-keyring, so keyring tests use the OS keyring as a desktop
# session would, and nothing of the user's own keyring is touched.
set -euo pipefail
if [ -z "${MODCONSOLE_IN_KEYRING:-}" ] && command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  export MODCONSOLE_IN_KEYRING=1
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # A throwaway home for the keyring's files.
  exec env HOME="$tmp" XDG_DATA_HOME="$tmp/share" XDG_RUNTIME_DIR="$tmp" GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)" GOPATH="$(go env GOPATH)" \
    dbus-run-session -- bash -c 'echo -n ci | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$@"' keyring "$@"
fi
exec "$@"
