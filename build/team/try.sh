#!/bin/sh
# Try team mode on this machine: a throwaway PostgreSQL cluster in a new
# temporary directory, a lead user, a team secret key and two console
# instances (`modconsole serve --db`) sharing that database. Ctrl-C (or
# SIGTERM) stops the instances and the cluster and removes the directory.
#
#   build/team/try.sh [PATH-TO-MODCONSOLE]     (default: ./modconsole, from `make build`)
#
# Environment: MODCONSOLE_PG_BIN (default /usr/lib/postgresql/15/bin, Debian's
# postgresql package), TRY_PASSWORD (the lead's password; default: random,
# printed), TRY_ADDR1 / TRY_ADDR2 (the instances' --addr; default a free
# loopback port each), TRY_PUBLIC_URL (their --public-url, to try them behind
# a reverse proxy such as build/team/nginx.conf; default none). As root the cluster runs as the postgres user through
# runuser (PostgreSQL refuses to run as root), like the tests' pgtest.
# Nothing is written outside the temporary directory.
set -eu

bin=${1:-./modconsole}
pgbin=${MODCONSOLE_PG_BIN:-/usr/lib/postgresql/15/bin}
addr1=${TRY_ADDR1:-127.0.0.1:0}
addr2=${TRY_ADDR2:-127.0.0.1:0}

if [ ! -x "$bin" ]; then
	echo "try.sh: no console binary at $bin: run \`make build\` first, or pass its path" >&2
	exit 2
fi
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
for p in initdb pg_ctl; do
	if [ ! -x "$pgbin/$p" ]; then
		echo "try.sh: $pgbin/$p not found: install Debian's postgresql package (or set MODCONSOLE_PG_BIN)" >&2
		exit 2
	fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/modconsole-team.XXXXXX")
pids=""
cleanup() {
	trap - EXIT INT TERM
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	if [ -f "$dir/pg/data/postmaster.pid" ]; then
		pg stop "$pgbin/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null || true
	fi
	rm -rf "$dir"
	echo "try.sh: stopped; removed $dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# pg runs a PostgreSQL program as the cluster's owner: as root, the postgres user.
mkdir "$dir/pg"
if [ "$(id -u)" = 0 ]; then
	chown postgres: "$dir/pg"
	chmod 711 "$dir" # postgres passes through to its own directory
	pg() { shift; runuser -u postgres -- "$@"; }
else
	pg() { shift; "$@"; }
fi

pg init "$pgbin/initdb" -D "$dir/pg/data" -U postgres --auth=trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
# Only a Unix socket in the private directory: no TCP port to collide with.
pg start "$pgbin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w \
	-o "-c listen_addresses='' -k $dir/pg -c fsync=off" start >/dev/null ||
	{ cat "$dir/pg/log" >&2; exit 1; }
db="postgres://postgres@/postgres?host=$dir/pg&sslmode=disable"
echo "try.sh: PostgreSQL in $dir (socket only): MODCONSOLE_DB='$db'"

password=${TRY_PASSWORD:-try-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')}
printf '%s\n' "$password" | "$bin" team add-user --db "$db" --name lead --role lead
"$bin" team new-key "$dir/secrets.key" | head -n 1

set --
if [ -n "${TRY_PUBLIC_URL:-}" ]; then
	set -- --public-url "$TRY_PUBLIC_URL"
fi
n=0
for addr in "$addr1" "$addr2"; do
	n=$((n + 1))
	"$bin" serve --no-open --addr "$addr" --data "$dir/instance$n" --db "$db" \
		--secrets-key-file "$dir/secrets.key" "$@" 2>"$dir/instance$n.log" &
	pids="$pids $!"
done
echo "try.sh: two instances starting; log in as lead with password $password (logs: $dir/instance*.log); Ctrl-C stops all"
wait
