#!/usr/bin/env bash
# Desktop end-to-end: the Wails-built binary runs `demo --window` in a real
# GTK/WebKitGTK window under Xvfb, on a private D-Bus session with a
# stand-in notification server (build/ci/notifyd), and is driven through
# its test endpoint (--test-debug): messages from all five platforms, the
# title's queue count, a ban from the queue confirmed, no broken image
# (build/ci/desktop-e2e.mjs); then the saved window geometry restored, a
# second start focusing the first instead of opening, a native
# notification, and a screenshot of the window checked for content.
#   build/ci/desktop-e2e.sh BINARY [SCREENSHOT.png]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "$1")
shot=$(realpath -m "${2:-build/bin/desktop-e2e.png}")
if [ -z "${MODCONSOLE_IN_SESSION:-}" ]; then
  export MODCONSOLE_IN_SESSION=1
  exec dbus-run-session -- xvfb-run -a -s "-screen 0 1400x900x24" "$0" "$bin" "$shot"
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
status=0
fail() { echo "FAIL $*"; status=1; }
ok() { echo "ok   $*"; }

go build -o "$tmp/notifyd" ./build/ci/notifyd
"$tmp/notifyd" >"$tmp/notes.jsonl" 2>"$tmp/notifyd.err" &
pids+=($!)
for _ in $(seq 1 50); do grep -q ready "$tmp/notifyd.err" && break; sleep 0.1; done

# Notifications on, and a saved window geometry for the start to restore.
mkdir -p "$tmp/data"
echo '{"notify": true, "window": {"width": 1300, "height": 820, "x": 20, "y": 30}}' >"$tmp/data/desktop.json"
start=$(date +%s.%N)
"$bin" demo --window --test-debug --data "$tmp/data" >"$tmp/out.log" 2>"$tmp/err.log" &
app=$!
pids+=("$app")
line=""
for _ in $(seq 1 300); do
  line=$(sed -n 's/^modconsole: test endpoint at //p' "$tmp/out.log" | head -n1)
  [ -n "$line" ] && break
  kill -0 "$app" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$line" ]; then
  tail -n 30 "$tmp/err.log"
  echo "desktop-e2e: the app printed no test endpoint"
  exit 1
fi
endpoint=${line%% token *}
token=${line##* token }

node build/ci/desktop-e2e.mjs "$endpoint" "$token" || status=1
echo "desktop-e2e: from start to the end of the drive: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

# The window opened where it was saved, at the saved size.
# (by window id: the title changes with the queue count)
wid=$(xwininfo -root -tree | awk '/"Moderation console/ { print $1; exit }')
geo=$(xwininfo -id "$wid" 2>/dev/null || true)
x=$(sed -n 's/.*Absolute upper-left X: *//p' <<<"$geo") y=$(sed -n 's/.*Absolute upper-left Y: *//p' <<<"$geo")
w=$(sed -n 's/.*Width: *//p' <<<"$geo") h=$(sed -n 's/.*Height: *//p' <<<"$geo")
if [ "$w" = 1300 ] && [ "$h" = 820 ] && [ "$x" = 20 ] && [ "$y" = 30 ]; then
  ok "the window opened at the saved geometry 1300x820+20+30"
else
  fail "the window is ${w}x${h}+${x}+${y}, saved 1300x820+20+30"
fi

# A second start with the same data directory focuses the first window and exits.
if timeout 30 "$bin" demo --window --data "$tmp/data" >"$tmp/second.out" 2>"$tmp/second.err" &&
  grep -q "already running" "$tmp/second.err" && kill -0 "$app" 2>/dev/null; then
  ok "a second start hands over to the first window and exits"
else
  fail "second start: $(tail -n 3 "$tmp/second.err")"
fi

# A native notification reached the session's notification server (the
# window has no focus under Xvfb without a window manager).
if grep -q '"app":"Moderation console"' "$tmp/notes.jsonl"; then
  ok "native notification: $(head -n1 "$tmp/notes.jsonl" | cut -c1-160)"
else
  fail "no notification reached the notification server"
fi

# The screenshot of the window (at 1300x820+20+30): it has content, and
# the queue pane's first row (right of the channel list) is not empty.
import -window root -crop 1300x820+20+30 +repage "$shot"
read -r sd colors < <(convert "$shot" -format '%[fx:standard_deviation] %k\n' info:)
read -r qsd < <(convert "$shot" -crop 900x50+260+100 +repage -format '%[fx:standard_deviation]\n' info:)
if awk -v sd="$sd" -v c="$colors" -v q="$qsd" 'BEGIN { exit !(sd > 0.05 && c > 200 && q > 0.03) }'; then
  ok "screenshot $shot shows the window and the queue (standard deviation $sd, $colors colours; queue pane $qsd)"
else
  fail "screenshot $shot looks blank (standard deviation $sd, $colors colours; queue pane $qsd)"
fi

# A clean quit saves the geometry.
rm -f "$tmp/data/desktop.json"
kill -TERM "$app"
wait "$app" || true
pids=("${pids[@]/$app}")
if grep -q '"width": 1300' "$tmp/data/desktop.json" 2>/dev/null; then
  ok "the window geometry was saved on quit"
else
  fail "no geometry saved on quit: $(cat "$tmp/data/desktop.json" 2>/dev/null)"
fi
if [ $status -ne 0 ]; then
  echo "--- app log (tail)"; tail -n 30 "$tmp/err.log"
fi
exit $status
