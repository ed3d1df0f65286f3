#!/usr/bin/env bash
# Installs the desktop app's .deb as a user would (apt-get install ./….deb,
# which also pulls its Depends) and starts the installed binary: --version,
# --help, and the demo in its desktop window under Xvfb until the window is
# mapped, then a clean stop.
#   build/ci/package-test.sh build/bin/modconsole_VERSION_ARCH.deb
set -euo pipefail
deb=$(realpath "$1")
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
install_deb() { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --reinstall --allow-downgrades "$deb" >/dev/null; }
if ! install_deb; then
  $sudo apt-get update -qq
  install_deb
fi
want=$(dpkg-deb -f "$deb" Version)
got=$(dpkg-query -W -f '${Version}' modconsole)
[ "$got" = "$want" ] || { echo "package-test: installed version $got, want $want"; exit 1; }
for f in /usr/bin/modconsole /usr/share/applications/modconsole.desktop /usr/share/metainfo/modconsole.metainfo.xml \
  /usr/share/icons/hicolor/48x48/apps/modconsole.png /usr/share/icons/hicolor/256x256/apps/modconsole.png; do
  dpkg -S "$f" >/dev/null || { echo "package-test: $f is not from the package"; exit 1; }
done
v=$(/usr/bin/modconsole --version)
[[ "$v" == "modconsole "* ]] || { echo "package-test: --version printed $v"; exit 1; }
h=$(/usr/bin/modconsole --help)
[[ "$h" == *"modconsole demo [flags]"* ]] || { echo "package-test: --help printed $h"; exit 1; }
echo "package-test: $v"

# Headless start: the installed binary opens its window on a private X
# display; xwininfo finds it by title.
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  /usr/bin/modconsole demo --window --data "$1/data" >"$1/out.log" 2>"$1/err.log" &
  app=$!
  for _ in $(seq 1 300); do
    if xwininfo -root -tree 2>/dev/null | grep -q "\"Moderation console"; then
      echo "package-test: the installed binary opened its window"
      kill -TERM $app; wait $app; exit $?
    fi
    kill -0 $app 2>/dev/null || { echo "package-test: the app exited"; tail -20 "$1/err.log"; exit 1; }
    sleep 0.1
  done
  echo "package-test: no window after 30 s"; tail -20 "$1/err.log"; kill $app; exit 1
' window-check "$tmp" &
pid=$!
wait "$pid"
pid=""
echo "package-test: installed $(basename "$deb"), --version, --help and the window: ok"
