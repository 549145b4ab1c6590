# pg-lib.sh - a private PostgreSQL for the tests (sourced): Debian's
# server binaries, a data folder of its own under $TMPDIR, 127.0.0.1 on a
# free port, run by an unprivileged user (postgres when the test is root,
# since initdb refuses root), with a database "vigil" owned by role vigil.
#
#   pg_start         sets PG_URI, PG_PORT, PG_DIR; false if it cannot
#   pg_halt [MODE]   stops the server (fast; immediate for a crash)
#   pg_resume        starts it again on the same folder and port
#   pg_stop          stops it and removes its folder
#   pg_sql SQL       runs SQL in database vigil (psql, unaligned, quiet)
#
# PG_BIN is the newest /usr/lib/postgresql/*/bin; pg_have says whether
# there is one.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_AS=()
PG_DIR=
pg_have() { [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]; }
pg_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
pg_ctl_() { "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" "$@"; }
pg_resume() {
	pg_ctl_ -w -t 60 -l "$PG_DIR/server.log" \
	    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_DIR -c fsync=on" \
	    start >/dev/null
}
pg_start() {
	pg_have || return 1
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vigil-pg-XXXXXX") || return 1
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || return 1
		PG_AS=(runuser -u postgres --)
		chown postgres "$PG_DIR"
	fi
	PG_PORT=$(pg_port)
	"${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U vigil -A trust \
	    -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 || {
		cat "$PG_DIR/initdb.log" >&2; return 1; }
	pg_resume || { cat "$PG_DIR/server.log" >&2; return 1; }
	"$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U vigil -d postgres \
	    -c 'CREATE DATABASE vigil' >/dev/null || return 1
	PG_URI="postgresql://vigil@127.0.0.1:$PG_PORT/vigil"
}
pg_sql() {
	"$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U vigil -d vigil -c "$1"
}
pg_halt() { [ -n "$PG_DIR" ] && pg_ctl_ -m "${1:-fast}" -w stop >/dev/null 2>&1; }
pg_stop() {
	local pid
	[ -n "$PG_DIR" ] || return 0
	# a test that stopped the server (SIGSTOP) and failed before SIGCONT
	pid=$(head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)
	if [ -n "$pid" ]; then
		kill -CONT "$pid" $(pgrep -P "$pid") 2>/dev/null
	fi
	pg_halt immediate
	rm -rf "$PG_DIR"
	PG_DIR=
}
