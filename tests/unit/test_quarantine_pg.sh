#!/usr/bin/env bash
# test_quarantine_pg.sh - runs test_quarantine_pg (cmocka) against a
# private PostgreSQL started here (tests/postfix/pg-lib.sh): its own data
# folder, 127.0.0.1 on a free port, an unprivileged user; stopped and
# removed at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=${top_srcdir:-$here/../..}
. "$src/tests/postfix/pg-lib.sh"
if ! pg_have; then
	echo "test_quarantine_pg: 0 passed, 0 failed, 1 skipped (no PostgreSQL server: apt-get install postgresql)"
	exit 77
fi
trap pg_stop EXIT
if ! pg_start; then
	echo "test_quarantine_pg: PostgreSQL did not start" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
VIGIL_TEST_PG_PID=$(head -1 "$PG_DIR/data/postmaster.pid") \
VIGIL_TEST_PG_URI=$PG_URI "${top_builddir:-$here/../..}/tests/unit/test_quarantine_pg"
