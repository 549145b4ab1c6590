#!/usr/bin/env bash
# pg-quarantine.sh - the quarantine on PostgreSQL end to end: two vigil
# instances behind two private Postfix instances (MX 1 and MX 2) share
# one PostgreSQL (Debian's server, started here in a private folder on a
# free loopback port as user postgres; tests/postfix/pg-lib.sh) through
# QuarantineDB, and one ReleaseKeyFile.  make check-postfix-pg; root.
#
#   1. spam through MX 1 gets 250, is not delivered, and is listed and
#      shown by vigilctl configured for MX 2 (and for MX 1);
#   2. released from vigilctl of MX 2 (MX 2's sendmail) with --learn-ham:
#      delivered by MX 2, its nonce used in the database, not quarantined
#      again; the false positive it counts is in the database, reported by
#      vigilctl stats of MX 1;
#   3. a replay of that token (same key, id, nonce and body) is
#      quarantined by either MX ("already used");
#   4. PostgreSQL stopped (immediate) in the middle of 120 messages at 4
#      connections to MX 1: every message is either 250 and in the
#      database once it is back, or 451 (the client retries; a commit
#      whose answer the dying server never sent is stored too); none is
#      delivered, refused or lost; after the restart MX 1 quarantines
#      again without a restart of its own;
#   5. `vigilctl quarantine migrate` moves the database's store into a
#      folder (SQLite) and that into a second, empty database, with the
#      same entries and messages; `vigilctl db upgrade` makes the schema
#      of an empty database and reports one that is up to date; a
#      delete from MX 2 leaves the row, listed as deleted by MX 1, whose
#      release of it is refused;
#   6. one redis-server started here (127.0.0.1, a free port, its own
#      folder) is added as both MXes' ReputationRedis, with a grey band
#      (GreylistScore 3..8, one rule scoring 4) and RateLimitSenderDomain
#      3/1h: a grey-band message gets 451 4.7.1 Greylisted from MX 1 and
#      its retry after the delay passes through MX 2 (GREYLIST_RETRIED,
#      deferred once in all); a sender domain's bucket drained through
#      both MXes answers 451 4.7.1 with the time to retry on both.
# Prints ok/FAIL lines and ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg-lib.sh"
pf_need_root
pg_have || { echo "pg-quarantine: 0 passed, 0 failed, 1 skipped (no PostgreSQL server: apt-get install postgresql)"; exit 77; }

CONF=${PF_CONF:-$top_srcdir/samples/vigil.conf}
VIGILCTL=$top_builddir/filter/vigilctl
SPAMMER=spammer@bad.example
RCPT1=alice@sink.invalid
RCPT2=bob@sink.invalid
N=${PF_PG_N:-120}

# lib.sh runs one instance: each MX's variables are saved and swapped.
MXVARS="PF_WORK PF_PFC PF_PFQ PF_PFD PF_PFLOG PF_SINK_DIR PF_SOCK PF_VIGIL_LOG
PF_SINK_PID PF_SINK_PORT PF_SMTP_PORT PF_UPSTREAM_PORT PF_MILTER_PID"
mx_save() { local v; for v in $MXVARS; do eval "MX$1_$v=\${$v-}"; done; }
mx_use() { local v; for v in $MXVARS; do eval "$v=\${MX$1_$v-}"; done; }
redis_pid=
teardown_all() {
	local keep=$PF_PASSED
	if [ -n "$redis_pid" ]; then
		kill -KILL "$redis_pid" 2>/dev/null
		wait "$redis_pid" 2>/dev/null
	fi
	if [ -n "${MX1_PF_WORK:-}" ]; then mx_use 1; pf_teardown; fi
	if [ -n "${MX2_PF_WORK:-}" ]; then mx_use 2; pf_teardown; fi
	pg_stop
	: "$keep"
}

pf_setup || exit 1
mx_save 1
trap teardown_all EXIT
SHARED=$PF_WORK/shared
mkdir -p "$SHARED"
T=$SHARED
# One release key for the site (the MXes check what vigilctl signs).
(umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$SHARED/release.key")
if ! pg_start; then
	pf_fail "PostgreSQL starts" "see above"
	pf_summary
	exit 1
fi
pf_ok "PostgreSQL on 127.0.0.1:$PG_PORT"

# opts MX: the options shared by that MX's vigil and vigilctl.
opts() {
	echo "QuarantineDB=$PG_URI"
	echo "QuarantineDir=$PF_WORK/quarantine"
	echo "ReleaseKeyFile=$SHARED/release.key"
	echo "QuarantineMode=store"
	echo "QuarantineScore=5"
	echo "RejectScore=0"
	echo "BlockSenders=$SPAMMER"
	echo "BlockAction=score"
	echo "SendmailCommand=/usr/sbin/sendmail -C $PF_PFC"
	echo "ControlSocket=$PF_WORK/run/control.sock"
	echo "BayesDir=$PF_WORK/bayes"
}
start_mx() {
	local o=()
	mapfile -t o < <(opts)
	pf_vigil_start "$CONF" "${o[@]}" || return 1
	postconf -c "$PF_PFC" -e "non_smtpd_milters = unix:$PF_SOCK"
	pf_postfix_reload
}
# ctl MX ARGS...: vigilctl with that MX's configuration.
ctl() {
	local mx=$1 o=() kv a=()
	shift
	mx_use "$mx"
	mapfile -t o < <(opts)
	for kv in "${o[@]}"; do a+=(-o "$kv"); done
	"$VIGILCTL" -c "$CONF" "${a[@]}" "$@"
}
json_field() {
	"$PYTHON" -c 'import json, sys
for line in open(sys.argv[1]):
	v = json.loads(line)[sys.argv[2]]
	print(" ".join(v) if isinstance(v, list) else v)' "$1" "$2"
}

start_mx || { pf_fail "vigil 1 starts" "see above"; pf_summary; exit 1; }
mx_save 1
pf_setup || exit 1
trap teardown_all EXIT
start_mx || { pf_fail "vigil 2 starts" "see above"; pf_summary; exit 1; }
mx_save 2
pf_ok "two Postfix instances, each with its vigil, QuarantineDB on one PostgreSQL"

cat >"$T/spam.eml" <<'EOF'
From: Prize Office <spammer@bad.example>
To: Alice <alice@sink.invalid>, Bob <bob@sink.invalid>
Subject: You have won a prize
Date: Fri, 27 Nov 2026 10:00:00 +0000
Message-ID: <prize-1@bad.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Claim your prize today.
.leading dot line stays.
EOF

# ------------------------------------------------------------ 1. via MX 1
mx_use 1
pf_send --xclient 192.0.2.20 --from "$SPAMMER" --rcpt "$RCPT1" \
    --rcpt "$RCPT2" --id-prefix q "$T/spam.eml" >"$T/q.tsv"
pf_wait_drain 30
IFS=$'\t' read -r _ _ _ code qid _ <"$T/q.tsv"
if [ "$code" = 250 ] && [ -z "$(pf_delivered q-0)" ]; then
	pf_ok "spam via MX 1: 250 ($qid), not delivered"
else
	pf_fail "spam via MX 1 quarantined" "code $code; $(tail -3 "$PF_VIGIL_LOG")"
fi
if [ -e "$PF_WORK/quarantine/index.sqlite" ]; then
	pf_fail "no local store with QuarantineDB" "$(ls "$PF_WORK/quarantine")"
else
	pf_ok "MX 1 wrote no local index.sqlite"
fi
ctl 2 quarantine list --json >"$T/list2.json" 2>"$T/list2.err"
ID=$(json_field "$T/list2.json" id 2>/dev/null)
if [ "$(wc -l <"$T/list2.json")" = 1 ] &&
    [ "$(json_field "$T/list2.json" queue_id)" = "$qid" ] &&
    [ "$(json_field "$T/list2.json" rcpts)" = "$RCPT1 $RCPT2" ] &&
    [ "$(json_field "$T/list2.json" sender)" = "$SPAMMER" ]; then
	pf_ok "vigilctl of MX 2 lists it (id $ID, queue id, envelope)"
else
	pf_fail "vigilctl of MX 2 lists it" "$(cat "$T/list2.json" "$T/list2.err")"
fi
ctl 2 quarantine show "$ID" >"$T/show2.out" 2>&1
if grep -q 'POLICY_BLOCK_SENDER' "$T/show2.out" &&
    grep -q 'Claim your prize today' "$T/show2.out"; then
	pf_ok "vigilctl of MX 2 shows its hits and text (body from the database)"
else
	pf_fail "vigilctl of MX 2 shows it" "$(head -30 "$T/show2.out")"
fi
ctl 1 quarantine list >"$T/list1.out" 2>&1
if grep -q "^$ID " "$T/list1.out"; then
	pf_ok "vigilctl of MX 1 lists the same entry"
else
	pf_fail "vigilctl of MX 1 lists it" "$(cat "$T/list1.out")"
fi

# ------------------------------------------------------------ 2. release via MX 2
if ctl 2 quarantine release "$ID" --learn-ham >"$T/rel.out" 2>&1; then
	mx_use 2
	pf_wait_drain 60
	f=$(pf_delivered q-0)
	if [ -n "$f" ] && grep -q "^X-Rcpt-Args: <$RCPT1>" "$f" &&
	    grep -q "^X-Rcpt-Args: <$RCPT2>" "$f" &&
	    grep -q '^\.leading dot line stays' "$f"; then
		pf_ok "released from vigilctl of MX 2: delivered by MX 2 to both recipients"
	else
		pf_fail "release delivered by MX 2" "$(ls "$PF_SINK_DIR"); $(tail -5 "$PF_VIGIL_LOG")"
	fi
else
	pf_fail "vigilctl of MX 2 releases it" "$(cat "$T/rel.out")"
fi
USED=$(pg_sql "SELECT nonce FROM vigil_tokens WHERE id = '$ID' AND used > 0")
if [ -n "$USED" ] && [ "$(ctl 1 quarantine list --json | wc -l)" = 1 ] &&
    [ "$(ctl 1 quarantine list --json | json_field /dev/stdin released)" != 0 ]; then
	pf_ok "its nonce is used in the database; marked released; not quarantined again"
else
	pf_fail "token used, released" "nonce '$USED'; $(ctl 1 quarantine list --json)"
fi
# --learn-ham counted a false positive per rule in the database: MX 1's
# vigil reports it.
out=$(ctl 1 stats 2>&1)
if printf '%s\n' "$out" | grep -q '^quarantine.false_positives.POLICY_BLOCK_SENDER 1$' &&
    [ "$(pg_sql "SELECT count FROM vigil_false_positives WHERE rule = 'POLICY_BLOCK_SENDER'")" = 1 ]; then
	pf_ok "the false positive counted by vigilctl of MX 2 is in the database, shown by vigilctl stats of MX 1"
else
	pf_fail "false positive shared" "$(printf '%s\n' "$out" | grep quarantine; cat "$T/rel.out")"
fi

# ------------------------------------------------------------ 3. replay on either
token() {
	"$PYTHON" - "$@" <<'EOF2'
import hashlib, hmac, sys, time
qid, nonce, keyfile, path, rcpts = sys.argv[1:6]
key = bytes.fromhex(open(keyfile).read().strip())
raw = open(path, "rb").read().replace(b"\r\n", b"\n")
body = raw.split(b"\n\n", 1)[1].rstrip(b"\r\n")
t = str(int(time.time()))
r = sorted(set(a.strip("<>").lower() for a in rcpts.split()))
rh = hashlib.sha256("".join(a + "\n" for a in r).encode()).hexdigest()
msg = b"\0".join([b"vigil-release-v2", qid.encode(), nonce.encode(), t.encode(),
    hashlib.sha256(body).hexdigest().encode(), rh.encode()])
mac = hmac.new(key, msg, hashlib.sha256).hexdigest()
print("X-Vigil-Release: v=2; id=%s; n=%s; t=%s; mac=%s" % (qid, nonce, t, mac))
EOF2
}
replay() {
	local mx=$1 n0 n1 last
	n0=$(ctl 1 quarantine list --json | wc -l)
	mx_use "$mx"
	{ token "$ID" "$USED" "$SHARED/release.key" "$T/spam.eml" "$RCPT1"
	  cat "$T/spam.eml"; } >"$T/replay$mx.eml"
	pf_send --xclient 192.0.2.21 --from "$SPAMMER" --rcpt "$RCPT1" \
	    --id-prefix "replay$mx" "$T/replay$mx.eml" >"$T/replay$mx.tsv"
	pf_wait_drain 30
	n1=$(ctl 1 quarantine list --json | tee "$T/after$mx.json" | wc -l)
	last=$(tail -1 "$T/after$mx.json" | json_field /dev/stdin id)
	mx_use "$mx"
	if [ -z "$(pf_delivered "replay$mx-0")" ] && [ "$n1" = $((n0 + 1)) ] &&
	    ctl 2 quarantine show "$last" 2>&1 | grep -q 'POLICY_RELEASE_INVALID.*already used'; then
		pf_ok "the replayed token via MX $mx: no pass, quarantined (already used)"
	else
		pf_fail "replay via MX $mx" "entries $n0 -> $n1; $(cut -f4 "$T/replay$mx.tsv")"
	fi
}
if [ -n "$USED" ] && [ -s "$SHARED/release.key" ]; then
	replay 1
	replay 2
else
	pf_fail "replay" "no used nonce or no key"
fi

# ------------------------------------------------------------ 4. PostgreSQL stopped
mx_use 1
n0=$(ctl 1 quarantine list --json | wc -l)
mx_use 1
pf_send -n "$N" -c 4 --xclient auto --from "$SPAMMER" --rcpt "$RCPT1" \
    --id-prefix down "$T/spam.eml" >"$T/down.tsv" &
sender=$!
# Stop the server once a quarter of the messages are quarantined.
q0=$(grep -c ' quarantine=' "$PF_VIGIL_LOG")
for _ in $(seq 600); do
	[ "$(grep -c ' quarantine=' "$PF_VIGIL_LOG")" -ge $((q0 + N / 4)) ] && break
	sleep 0.02
done
pg_halt immediate
wait "$sender"
pf_wait_drain 30
pg_resume
codes=$(cut -f4 "$T/down.tsv" | sort | uniq -c | tr '\n' ' ')
n250=$(cut -f4 "$T/down.tsv" | grep -c '^250$')
n451=$(cut -f4 "$T/down.tsv" | grep -c '^451$')
ctl 1 quarantine list --json >"$T/down.json"
json_field "$T/down.json" queue_id | sort >"$T/down.stored"
awk -F'\t' '$4 == 250 { print $5 }' "$T/down.tsv" | sort >"$T/down.acked"
mx_use 1
delivered=$(ls "$PF_SINK_DIR" | wc -l)
mx_use 1
# A COMMIT the server made durable just before it died, whose answer
# never came back, is stored yet tempfailed (its retry stores a second
# copy: at least once, never lost); at most one a connection in flight.
extra=$(($(wc -l <"$T/down.json") - n0 - n250))
if [ "$((n250 + n451))" = "$N" ] && [ "$n451" -gt 0 ] && [ "$n250" -gt 0 ] &&
    [ -z "$(comm -23 "$T/down.acked" "$T/down.stored")" ] &&
    [ "$extra" -ge 0 ] && [ "$extra" -le 4 ]; then
	pf_ok "PostgreSQL stopped mid-run: $n250 quarantined (each in the database), $n451 tempfailed ($extra stored as the server died), none lost"
else
	pf_fail "PostgreSQL stopped mid-run" "replies: $codes; entries $n0 -> $(wc -l <"$T/down.json"); acked but not stored: $(comm -23 "$T/down.acked" "$T/down.stored" | head -3 | tr '\n' ' ')"
fi
if [ "$delivered" = 0 ] && grep -q 'quarantine database.*tempfail' "$PF_VIGIL_LOG"; then
	pf_ok "none delivered; vigil logged the database error with the tempfail"
else
	pf_fail "tempfail logged, none delivered" "delivered $delivered; $(grep -m3 quarantine "$PF_VIGIL_LOG")"
fi
pf_send --xclient 192.0.2.22 --from "$SPAMMER" --rcpt "$RCPT1" \
    --id-prefix back "$T/spam.eml" >"$T/back.tsv"
if [ "$(cut -f4 "$T/back.tsv")" = 250 ] &&
    [ "$(ctl 1 quarantine list --json | wc -l)" = $((n0 + n250 + extra + 1)) ]; then
	pf_ok "PostgreSQL back: MX 1 quarantines again (no restart of vigil)"
else
	pf_fail "quarantine after PostgreSQL is back" "$(cat "$T/back.tsv")"
fi
n=$(ctl 1 quarantine list --json | wc -l)
if ctl 2 stats 2>&1 | grep -q "quarantine.entries *$n\b"; then
	pf_ok "vigilctl stats of MX 2 counts the database's $n entries"
else
	pf_fail "stats from the database" "$(ctl 2 stats 2>&1 | grep -i quarantine)"
fi

# ------------------------------------------------------------ 5. migrate
ctl 1 quarantine list --json | json_field /dev/stdin id | sort >"$T/pg.ids"
plain=("$VIGILCTL" -c "$CONF" -o "QuarantineDir=$T/moved" -o "ControlSocket=$T/none.sock")
pg_sql 'CREATE DATABASE vigil2'
URI2="postgresql://vigil@127.0.0.1:$PG_PORT/vigil2"
if ctl 1 quarantine migrate --to "$T/moved" >"$T/mig1.out" 2>&1 &&
    "${plain[@]}" quarantine list --json | json_field /dev/stdin id | sort >"$T/moved.ids" &&
    cmp -s "$T/pg.ids" "$T/moved.ids" && [ -s "$T/pg.ids" ] &&
    "${plain[@]}" quarantine show "$ID" | grep -q 'Claim your prize today'; then
	pf_ok "migrate PostgreSQL -> folder: $(wc -l <"$T/pg.ids") entries, messages readable"
else
	pf_fail "migrate to a folder" "$(cat "$T/mig1.out")"
fi
if "${plain[@]}" -o "QuarantineDB=$URI2" db upgrade >"$T/up.out" 2>&1 &&
    grep -q '^schema version 0 -> 2$' "$T/up.out" &&
    "${plain[@]}" -o "QuarantineDB=$URI2" db upgrade | grep -q 'version 2: up to date'; then
	pf_ok "db upgrade makes an empty database's schema (0 -> 2), then finds it up to date"
else
	pf_fail "db upgrade" "$(cat "$T/up.out")"
fi
if "${plain[@]}" quarantine migrate --to "$URI2" >"$T/mig2.out" 2>&1 &&
    "${plain[@]}" quarantine migrate --to "$URI2" >>"$T/mig2.out" 2>&1 &&
    "${plain[@]}" -o "QuarantineDB=$URI2" quarantine list --json |
    json_field /dev/stdin id | sort | cmp -s - "$T/pg.ids" &&
    [ "$("$PG_BIN/psql" -X -A -t -h 127.0.0.1 -p "$PG_PORT" -U vigil -d vigil2 \
        -c "SELECT count(*) FROM vigil_tokens WHERE used > 0")" = 1 ]; then
	pf_ok "migrate folder -> PostgreSQL (twice: no duplicates), used nonce kept"
else
	pf_fail "migrate to PostgreSQL" "$(cat "$T/mig2.out")"
fi
# A delete from vigilctl of MX 2 empties the body and keeps the row:
# MX 1 lists it as deleted, its vigil counts it, release refuses it.
ctl 1 quarantine list --state held --json >"$T/held.json" 2>&1
DEL=$(json_field "$T/held.json" id | head -1)
n=$(ctl 1 quarantine list --json | wc -l)
if [ -n "$DEL" ] && ctl 2 quarantine delete "$DEL" >"$T/del.out" 2>&1 &&
    ctl 1 quarantine list --state deleted | grep -q "^$DEL .* deleted$" &&
    [ "$(ctl 1 quarantine list --json | wc -l)" = "$n" ] &&
    [ "$(pg_sql "SELECT length(body) FROM vigil_entries WHERE id = '$DEL'")" = 0 ] &&
    ctl 1 stats 2>&1 | grep -q '^quarantine.deleted 1$'; then
	pf_ok "deleted by vigilctl of MX 2: body gone, row listed as deleted and counted by MX 1"
else
	pf_fail "delete on a shared database" "$(cat "$T/del.out"; ctl 1 quarantine list 2>&1 | tail -3)"
fi
ctl 1 quarantine release "$DEL" >"$T/reldel.out" 2>&1
rc=$?
if [ "$rc" = 65 ] && grep -q "was deleted at" "$T/reldel.out"; then
	pf_ok "release of the deleted entry from MX 1: refused (exit 65)"
else
	pf_fail "release of a deleted entry" "exit $rc: $(cat "$T/reldel.out")"
fi
# ------------------------------------------------------------ 6. one Redis
# Both vigils again, now with one Redis: greylisting and a rate limit.
GDELAY=3
rep_start() {
	command -v redis-server >/dev/null || {
		echo "redis-server is not installed" >&2; return 1; }
	RPORT=$(pf_free_port)
	mkdir -p "$T/redis"
	redis-server --bind 127.0.0.1 --port "$RPORT" --dir "$T/redis" \
	    --save "" --appendonly no --logfile "$T/redis.log" \
	    </dev/null >/dev/null 2>&1 &
	redis_pid=$!
	pf_wait_sock "127.0.0.1:$RPORT" 20 || return 1
	mkdir -p "$T/rules"
	cat >"$T/rules/10_grey.rules" <<'EOF2'
header   VT_GREY_BAND  Subject =~ /grey band/
describe VT_GREY_BAND  Test: puts the message in the grey band
score    VT_GREY_BAND  4.0
EOF2
	local mx o rep=("Checks=rules,greylist,ratelimit" "RulesDir=$T/rules"
	    SpamAssassinRules=no AddHeaders=all TagScore=20
	    "ReputationRedis=127.0.0.1:$RPORT" ReputationRedisPrefix=mx:
	    GreylistScore=3..8 "GreylistDelay=${GDELAY}s"
	    RateLimitSenderDomain=3/1h)
	for mx in 1 2; do
		mx_use $mx
		pf_vigil_stop 30 || true
		mapfile -t o < <(opts)
		pf_vigil_start "$CONF" "${o[@]}" "${rep[@]}" || return 1
		mx_save $mx
	done
}
# sendto MX ID CLIENT FROM RCPT SUBJECT: "stage code reply" of one message
sendto() {
	mx_use "$1"
	printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\nDate: Mon, 07 Dec 2026 01:00:00 +0000\r\n\r\nHello.\r\n' \
	    "$4" "$5" "$6" "$2" >"$T/$2.eml"
	pf_send --id-prefix "$2" --xclient "$3" --from "$4" --rcpt "$5" \
	    "$T/$2.eml" | awk -F'\t' '{ print $3, $4, $6 }'
}
expect() {	# expect NAME GOT WANT-GLOB
	# shellcheck disable=SC2053
	if [[ $2 == $3 ]]; then
		pf_ok "$1: $2"
	else
		pf_fail "$1" "got \"$2\", want $3"
	fi
}
greylisted() {	# greylisted MX: how many greylist tempfails MX logged
	mx_use "$1"
	grep 'verdict=tempfail' "$PF_VIGIL_LOG" | grep -c 'reason=greylist'
}
if rep_start; then
	pf_ok "both vigils again, with one Redis on 127.0.0.1:$RPORT (greylisting, rate limits)"
	expect "grey band via MX 1: deferred" \
	    "$(sendto 1 g1 192.0.2.70 carol@grey.example "$RCPT1" 'a grey band message')" \
	    "eom 451 4.7.1 Greylisted: * try again in [0-9]* seconds"
	# lint-sleep: GreylistDelay must pass before the retry
	sleep $((GDELAY + 1))
	got=$(sendto 2 g1 192.0.2.70 carol@grey.example "$RCPT1" 'a grey band message')
	mx_use 2
	pf_wait_drain 30
	f=$(pf_delivered g1-0)
	st=$([ -n "$f" ] && pf_header X-Spam-Status "$f")
	n1=$(greylisted 1) n2=$(greylisted 2)
	if [[ $got == "eom 250 "* ]] && [[ $st == *GREYLIST_RETRIED* ]] &&
	    [ "$n1" = 1 ] && [ "$n2" = 0 ]; then
		pf_ok "its retry after the delay via MX 2: 250, delivered with GREYLIST_RETRIED; deferred once in all"
	else
		pf_fail "retry via MX 2 passes" "$got; status: ${st:-not delivered}; greylisted by MX 1: $n1, MX 2: $n2"
	fi
	expect "bulk.example 1 via MX 1" "$(sendto 1 r1 10.3.1.1 a@bulk.example r1@sink.invalid lunch)" "eom 250 *"
	expect "bulk.example 2 via MX 2" "$(sendto 2 r2 10.3.2.1 b@bulk.example r2@sink.invalid lunch)" "eom 250 *"
	expect "bulk.example 3 via MX 1" "$(sendto 1 r3 10.3.3.1 c@bulk.example r3@sink.invalid lunch)" "eom 250 *"
	expect "bulk.example 4: MX 2 answers 451 past the bucket" \
	    "$(sendto 2 r4 10.3.4.1 d@bulk.example r4@sink.invalid lunch)" \
	    "mail 451 4.7.1 Rate limit exceeded for sender domain bulk.example; retry after [0-9]* seconds"
	expect "bulk.example 5: MX 1 too" \
	    "$(sendto 1 r5 10.3.5.1 e@bulk.example r5@sink.invalid lunch)" \
	    "mail 451 4.7.1 Rate limit exceeded for sender domain bulk.example; retry after [0-9]* seconds"
else
	pf_fail "both vigils with one Redis" "$(tail -5 "$T/redis.log" 2>/dev/null)"
fi
pf_summary
