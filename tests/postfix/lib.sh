# lib.sh - a private Postfix on 127.0.0.1 with vigil as its milter, for
# end-to-end tests.  Source it from bash (as root: Postfix needs it):
#
#	. "$top_srcdir/tests/postfix/lib.sh"
#	pf_setup                          # sink + Postfix, no milter yet
#	pf_vigil_start "$top_srcdir/samples/vigil.conf" TagScore=3
#	pf_send --from a@example.org --rcpt b@sink.invalid msg.eml > res.tsv
#	pf_wait_drain 60
#	f=$(pf_delivered m-0) && grep -q '^X-Spam-Status:' "$f" && pf_ok tagged
#	pf_summary                         # "N passed, N failed"; status
#
# Everything lives in one temporary folder ($PF_WORK, removed on exit
# unless PF_KEEP=1) and on loopback ports picked at run time, so several
# runs can share a machine; an EXIT trap stops every process started here.
#
#   mail path:  smtpsend.py -> smtpd 127.0.0.1:$PF_SMTP_PORT (smtpd_milters =
#               vigil on unix:$PF_SOCK) -> queue -> smtp -> smtp-sink
#               127.0.0.1:$PF_SINK_PORT, which keeps every message it gets as
#               one file under $PF_SINK_DIR (first header: X-Harness-Id).
#   upstream:   smtpd 127.0.0.1:$PF_UPSTREAM_PORT, no milter: queues what it
#               gets and relays it (with XFORWARD) to $PF_SMTP_PORT, like an
#               internet MTA that retries after a 4xx.  Mail that the milter
#               tempfails waits in the deferred queue; pf_flush retries it.
#   XCLIENT and XFORWARD are allowed from 127.0.0.1 (pf_send --xclient).
#   The milter_* and non_smtpd_milters lines come from contrib/postfix-main.cf,
#   so the tests run the settings the project ships (tempfail while down).
#
# Functions (each documented where it is defined):
#   pf_setup                     start the sink and Postfix (no milter)
#   pf_workdir, pf_sink_start    the first two steps of pf_setup alone (for
#                                tests of another MTA: tests/sendmail)
#   pf_vigil_start CONF [K=V...] start vigil (-f -c CONF -o K=V) and make it
#                                Postfix's milter (if Postfix runs); log in
#                                $PF_VIGIL_LOG; its ControlSocket,
#                                BayesDir, QuarantineDir and ListsFile are private
#                                to the run
#   pf_milter_start SPEC CMD...  same for any milter command (SPEC unix:path)
#   pf_vigil_stop / pf_vigil_kill [SIG]   SIGTERM and wait / send SIG (KILL)
#   pf_vigil_pid, pf_vigil_worker_pid   the daemon's (supervisor's) pid,
#                                its worker's (the process handling mail)
#   pf_vigil_rss                 VmRSS in kB of the daemon and its worker
#   pf_vigil_mem                 "rss anon file" kB (VmRSS, RssAnon, RssFile)
#   pf_vigil_log                 print vigil's log (stderr of -f)
#   pf_send [smtpsend args] FILE...  send; prints one line a message:
#                                id file stage code queue_id reply
#   pf_send_upstream [args] FILE...  the same through the upstream port
#   pf_queue_count, pf_hold_count    messages in Postfix's queues / on hold
#   pf_hold_ids                  queue ids on hold, one a line
#   pf_wait_drain [SECS]         wait until the queue is empty (0) or not (1)
#   pf_flush                     postqueue -f on the private instance
#   pf_postfix_reload [SECS]     postfix reload, and wait until every
#                                process runs the new main.cf
#   pf_delivered ID              print the sink file of message ID (1: none)
#   pf_header NAME FILE          the unfolded values of header NAME in FILE
#   pf_account [account.py args] RESULTS...  every message accounted for
#   pf_postfix_log               print Postfix's log
#   pf_ok NAME / pf_fail NAME WHY / pf_check NAME CMD...  test results
#   pf_summary                   print "N passed, N failed"; 0 if none failed
#   pf_need_root                 exit 77 (skip) unless root with Postfix
#
# Environment: top_srcdir, top_builddir (default: this file's tree),
# PF_VIGIL (vigil binary), PF_KEEP=1 (keep $PF_WORK), PF_TMP (parent dir),
# PYTHON (python3), PF_REAL_DNS=1 (pf_vigil_start leaves vigil's DNS
# alone; otherwise lookups are answered from tests/data/dns/empty.zone
# unless the test passes its own DNSZoneFile=), PF_STOP_WAIT (seconds the
# teardown waits for vigil after SIGTERM before SIGKILL, 60).

PF_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$PF_LIB_DIR/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${PF_VIGIL:=$top_builddir/filter/vigil}"
# the system's python3 first: a version-manager shim can cost seconds a call
if [ -z "${PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then
		PYTHON=/usr/bin/python3
	else
		PYTHON=python3
	fi
fi
PF_PASSED=0
PF_FAILED=0
PF_MILTER_PID=
PF_SINK_PID=

pf_log() {
	printf '[pf %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

# pf_need_root: Postfix can only be run privately as root; skip otherwise.
pf_need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: the Postfix tests need root" >&2
		exit 77
	fi
	local b
	for b in postfix postconf postqueue smtp-sink "$PYTHON"; do
		if ! command -v "$b" >/dev/null 2>&1; then
			echo "SKIP: $b missing (apt-get install postfix python3)" >&2
			exit 77
		fi
	done
	if ! id postfix >/dev/null 2>&1; then
		echo "SKIP: no postfix user (apt-get install postfix)" >&2
		exit 77
	fi
}

# pf_free_port: print a TCP port on 127.0.0.1 that is free right now.
pf_free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pf_wait_sock SPEC [SECS]: wait until unix:PATH or HOST:PORT accepts.
pf_wait_sock() {
	"$PYTHON" - "$1" "${2:-30}" <<'EOF'
import socket, sys, time
spec, end = sys.argv[1], time.time() + float(sys.argv[2])
while True:
	try:
		if spec.startswith("unix:"):
			s = socket.socket(socket.AF_UNIX)
			s.settimeout(2)
			s.connect(spec[5:])
		else:
			host, port = spec.rsplit(":", 1)
			s = socket.create_connection((host, int(port)), timeout=2)
		s.close()
		sys.exit(0)
	except OSError:
		if time.time() > end:
			sys.exit(1)
		time.sleep(0.1)
EOF
}

# pf_teardown (the EXIT trap): stops Postfix, then vigil with SIGTERM, so
# that its worker leaves by its own exit path (where the sanitizer build
# checks for leaks); SIGKILL only when it has not stopped after
# PF_STOP_WAIT seconds (60), and then it says so.  A vigil that was
# running and exits non-zero (a leak found, a crash while stopping) or
# had to be killed fails the script (exit 1; otherwise the script's own
# status stands).
pf_teardown() {
	local vrc bad=0
	set +e
	if [ -n "${PF_PFC:-}" ] && [ -f "$PF_PFC/main.cf" ]; then
		postfix -c "$PF_PFC" stop >/dev/null 2>&1
	fi
	if [ -n "$PF_MILTER_PID" ] && kill -0 "$PF_MILTER_PID" 2>/dev/null; then
		pf_vigil_stop "${PF_STOP_WAIT:-60}"
		vrc=$?
		case $vrc in
		0) ;;
		124)
			echo "teardown: vigil still running ${PF_STOP_WAIT:-60} s" \
			    "after SIGTERM: killed with SIGKILL" >&2
			bad=1 ;;
		*)
			echo "teardown: vigil exited with status $vrc after SIGTERM;" \
			    "its log ends:" >&2
			tail -5 "$PF_VIGIL_LOG" >&2 2>/dev/null
			bad=1 ;;
		esac
	else
		pf_vigil_kill KILL >/dev/null 2>&1
	fi
	if [ -n "$PF_SINK_PID" ]; then
		kill "$PF_SINK_PID" 2>/dev/null
		wait "$PF_SINK_PID" 2>/dev/null
	fi
	# postfix stop returns before master has exited: wait for its pid file.
	local i=0
	while [ -n "${PF_PFQ:-}" ] && [ -s "$PF_PFQ/pid/master.pid" ] && [ $i -lt 50 ] &&
	    kill -0 "$(cat "$PF_PFQ/pid/master.pid" 2>/dev/null)" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ -n "${PF_WORK:-}" ] && [ -d "$PF_WORK" ]; then
		if [ "${PF_KEEP:-0}" = 1 ]; then
			pf_log "kept $PF_WORK"
		else
			rm -rf "$PF_WORK"
		fi
	fi
	[ "$bad" -eq 0 ] || exit 1
}

# pf_workdir: make $PF_WORK and install the EXIT trap.  Sets PF_WORK,
# PF_PFC (config_directory), PF_PFQ (queue_directory), PF_SINK_DIR,
# PF_SOCK, PF_VIGIL_LOG, PF_PFLOG.
pf_workdir() {
	pf_need_root
	PF_WORK=$(mktemp -d "${PF_TMP:-${TMPDIR:-/tmp}}/vigil-pf.XXXXXX") || return 1
	chmod 755 "$PF_WORK"
	trap pf_teardown EXIT
	trap 'exit 130' INT TERM
	PF_PFC=$PF_WORK/etc
	PF_PFQ=$PF_WORK/spool
	PF_PFD=$PF_WORK/data
	PF_PFLOG=$PF_WORK/maillog
	PF_SINK_DIR=$PF_WORK/sink
	PF_SOCK=$PF_WORK/run/vigil.sock
	PF_VIGIL_LOG=$PF_WORK/vigil.log
	mkdir -p "$PF_SINK_DIR" "$PF_WORK/run"
	chown postfix "$PF_SINK_DIR"
	chmod 755 "$PF_WORK/run"
}

# pf_sink_start: smtp-sink on $PF_SINK_ADDR (127.0.0.1) and a free port
# (PF_SINK_PORT), one file per message it gets under $PF_SINK_DIR
# (%H%M%S.<random hex>).
pf_sink_start() {
	: "${PF_SINK_ADDR:=127.0.0.1}"
	PF_SINK_PORT=$(pf_free_port)
	smtp-sink -u postfix -d "$PF_SINK_DIR/%H%M%S." \
	    "$PF_SINK_ADDR:$PF_SINK_PORT" 1024 \
	    </dev/null >"$PF_WORK/sink.log" 2>&1 &
	PF_SINK_PID=$!
	if ! pf_wait_sock "$PF_SINK_ADDR:$PF_SINK_PORT" 20; then
		cat "$PF_WORK/sink.log" >&2
		echo "pf_sink_start: smtp-sink did not start on port $PF_SINK_PORT" >&2
		return 1
	fi
}

# pf_setup: pf_workdir, pf_sink_start, then a private Postfix with no
# milter on PF_SMTP_PORT and PF_UPSTREAM_PORT.
pf_setup() {
	pf_workdir || return 1
	pf_sink_start || return 1
	mkdir -p "$PF_PFC" "$PF_PFQ" "$PF_PFD"
	chown postfix "$PF_PFD"
	PF_SMTP_PORT=$(pf_free_port)
	PF_UPSTREAM_PORT=$(pf_free_port)
	while [ "$PF_SMTP_PORT" = "$PF_SINK_PORT" ]; do
		PF_SMTP_PORT=$(pf_free_port)
	done
	while [ "$PF_UPSTREAM_PORT" = "$PF_SMTP_PORT" ] ||
	    [ "$PF_UPSTREAM_PORT" = "$PF_SINK_PORT" ]; do
		PF_UPSTREAM_PORT=$(pf_free_port)
	done

	cat >"$PF_PFC/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF_PFQ
data_directory = $PF_PFD
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.vigil-test.invalid
mydomain = vigil-test.invalid
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = sink.invalid
relay_transport = relay:[127.0.0.1]:$PF_SINK_PORT
default_transport = smtp:[127.0.0.1]:$PF_SINK_PORT
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_authorized_xclient_hosts = 127.0.0.1
# Treat test mail as mail from the internet: no header rewriting and no
# added Date/Message-ID, so vigil sees what the sender wrote.
local_header_rewrite_clients =
always_add_missing_headers = no
smtpd_authorized_xforward_hosts = 127.0.0.1
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
message_size_limit = 52428800
in_flow_delay = 0s
maillog_file_prefixes = $PF_WORK
maillog_file = $PF_PFLOG
smtpd_banner = \$myhostname ESMTP
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 120s
smtpd_milters =
non_smtpd_milters =
EOF
	cat >"$PF_PFC/master.cf" <<EOF
127.0.0.1:$PF_SMTP_PORT inet n - n - - smtpd
127.0.0.1:$PF_UPSTREAM_PORT inet n - n - - smtpd
  -o smtpd_milters=
  -o content_filter=upstream:[127.0.0.1]:$PF_SMTP_PORT
upstream  unix  -       -       n       -       -       smtp
  -o smtp_send_xforward_command=yes
  -o smtp_connection_cache_on_demand=no
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	# The milter lines shipped in contrib/postfix-main.cf, but for the
	# socket: smtpd_milters is set when a milter starts (pf_milter_start).
	if [ -f "$top_srcdir/contrib/postfix-main.cf" ]; then
		local k v
		while IFS='=' read -r k v; do
			k=${k%% *}
			case $k in
			milter_*|non_smtpd_milters)
				postconf -c "$PF_PFC" -e "$k =$v" ;;
			esac
		done <"$top_srcdir/contrib/postfix-main.cf"
	fi
	# (postfix start checks the instance and makes its queue folders)
	if ! postfix -c "$PF_PFC" start >"$PF_WORK/postfix-start.log" 2>&1 ||
	    ! pf_wait_sock "127.0.0.1:$PF_SMTP_PORT" 30; then
		cat "$PF_WORK/postfix-start.log" >&2
		tail -20 "$PF_PFLOG" >&2 2>/dev/null
		echo "pf_setup: Postfix did not start on port $PF_SMTP_PORT" >&2
		return 1
	fi
	pf_log "Postfix on 127.0.0.1:$PF_SMTP_PORT (upstream $PF_UPSTREAM_PORT)," \
	    "sink $PF_SINK_PORT, work $PF_WORK"
}

# pf_milter_start SPEC CMD [ARGS...]: run CMD in the background (stdout
# and stderr appended to $PF_VIGIL_LOG), wait until SPEC (unix:PATH)
# accepts, let the postfix user connect, and point smtpd_milters at it.
pf_milter_start() {
	local spec=$1 path
	shift
	path=${spec#unix:}
	rm -f "$path"
	"$@" >>"$PF_VIGIL_LOG" 2>&1 &
	PF_MILTER_PID=$!
	if ! pf_wait_sock "$spec" 30; then
		tail -20 "$PF_VIGIL_LOG" >&2
		echo "pf_milter_start: $1 did not listen on $spec" >&2
		return 1
	fi
	# smtpd runs as postfix: open the socket to it, unless the milter
	# already gives it to the postfix group (PF_MILTER_CHMOD empty).
	[ -z "${PF_MILTER_CHMOD-666}" ] || chmod "${PF_MILTER_CHMOD-666}" "$path"
	if [ -f "$PF_PFC/main.cf" ] &&
	    [ "$(postconf -c "$PF_PFC" -h smtpd_milters)" != "$spec" ]; then
		postconf -c "$PF_PFC" -e "smtpd_milters = $spec"
		pf_postfix_reload || return 1
	fi
}

# pf_postfix_reload [SECS]: postfix reload, then wait (SECS, 30, at most)
# until master has logged the reload and every process it ran before has
# gone (an idle smtpd, cleanup or pickup exits at once; one with a client
# after it): from then on every process has read the new main.cf.  1, and
# says why, when that does not happen in time.
pf_postfix_reload() {
	local m p old left n0 end=$(($(date +%s) + ${1:-30}))
	m=$(tr -d ' ' <"$PF_PFQ/pid/master.pid" 2>/dev/null)
	old=$(pgrep -P "$m" 2>/dev/null)
	n0=$(grep -c 'postfix/master.*reload -- ' "$PF_PFLOG" 2>/dev/null)
	if ! postfix -c "$PF_PFC" reload >/dev/null 2>&1; then
		echo "pf_postfix_reload: postfix reload failed" >&2
		return 1
	fi
	while :; do
		left=
		for p in $old; do
			kill -0 "$p" 2>/dev/null && left="$left $p"
		done
		if [ -z "$left" ] && [ "$(grep -c 'postfix/master.*reload -- ' \
		    "$PF_PFLOG" 2>/dev/null)" -gt "${n0:-0}" ]; then
			return 0
		fi
		if [ "$(date +%s)" -ge "$end" ]; then
			if [ -n "$left" ]; then
				echo "pf_postfix_reload: ${1:-30} s after the reload," \
				    "processes from before it still run:$left" >&2
			else
				echo "pf_postfix_reload: master has not logged" \
				    "the reload in ${1:-30} s" >&2
			fi
			return 1
		fi
		sleep 0.1
	done
}

# pf_vigil_start CONF [Keyword=value...]: start filter/vigil in the
# foreground mode on unix:$PF_SOCK with the given config and overrides.
pf_vigil_start() {
	local conf=$1 kv
	shift
	# a private control socket: several runs may share the machine
	local args=("$PF_VIGIL" -f -c "$conf" -p "unix:$PF_SOCK"
	    -o "ControlSocket=$PF_WORK/run/control.sock")
	# SPF/DKIM/DMARC lookups are answered from an empty zone file unless
	# the test brings its own DNS (PF_REAL_DNS=1: a resolver on loopback
	# in a network namespace) or its own DNSZoneFile: nothing a test does
	# may query the machine's resolver.
	case " $* " in
	*" DNSZoneFile="*) ;;
	*) [ "${PF_REAL_DNS:-0}" = 1 ] ||
	    args+=(-o "DNSZoneFile=$PF_LIB_DIR/../data/dns/empty.zone") ;;
	esac
	# A private Bayes store: what one test autolearns stays in its folder.
	case " $* " in
	*" BayesDir="*) ;;
	*) args+=(-o "BayesDir=$PF_WORK/bayes") ;;
	esac
	# A private quarantine too (the default and the sample's are shared).
	case " $* " in
	*" QuarantineDir="*) ;;
	*) args+=(-o "QuarantineDir=$PF_WORK/quarantine") ;;
	esac
	# And private allow/block lists: the default ListsFile is the
	# machine's state folder, which a test must neither read nor need.
	case " $* " in
	*" ListsFile="*) ;;
	*) args+=(-o "ListsFile=$PF_WORK/lists") ;;
	esac
	for kv in "$@"; do
		args+=(-o "$kv")
	done
	if [ ! -x "$PF_VIGIL" ]; then
		echo "pf_vigil_start: $PF_VIGIL not built (make)" >&2
		return 1
	fi
	# The socket is 0660 in SocketGroup, as deployed: the postfix user
	# reaches it through its group, after a worker restart too.
	case " $* " in
	*" SocketGroup="*) ;;
	*) args+=(-o "SocketGroup=postfix") ;;
	esac
	PF_MILTER_CHMOD= pf_milter_start "unix:$PF_SOCK" "${args[@]}"
}

pf_vigil_pid() {
	[ -n "$PF_MILTER_PID" ] && kill -0 "$PF_MILTER_PID" 2>/dev/null &&
	    echo "$PF_MILTER_PID"
}

# pf_vigil_kill [SIG]: send SIG (default KILL) and reap the daemon.
pf_vigil_kill() {
	[ -n "$PF_MILTER_PID" ] || return 0
	kill -"${1:-KILL}" "$PF_MILTER_PID" 2>/dev/null
	wait "$PF_MILTER_PID" 2>/dev/null
	PF_MILTER_PID=
}

# pf_vigil_stop [SECS]: SIGTERM, wait up to SECS (30) for a clean exit;
# returns the daemon's exit status (or 124 when it had to be killed).
pf_vigil_stop() {
	local pid=$PF_MILTER_PID i=0 n=$((${1:-30} * 10)) rc
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $i -lt $n ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		pf_vigil_kill KILL
		return 124
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	PF_MILTER_PID=
	return $rc
}

# pf_vigil_worker_pid: the child of the daemon that handles the mail.
pf_vigil_worker_pid() {
	[ -n "$PF_MILTER_PID" ] && pgrep -P "$PF_MILTER_PID" | head -1
}

pf_vigil_rss() {
	pf_vigil_mem | cut -d' ' -f1
}

# pf_vigil_mem: "rss anon file" in kB, daemon and worker summed: VmRSS,
# and its parts RssAnon (heap, stacks: what a leak grows) and RssFile
# (mapped files, e.g. an LMDB store growing as it learns).
pf_vigil_mem() {
	local p
	for p in $PF_MILTER_PID $(pf_vigil_worker_pid); do
		cat "/proc/$p/status" 2>/dev/null
	done | awk '/^VmRSS:/ { r += $2 } /^RssAnon:/ { a += $2 }
	    /^RssFile:/ { f += $2 } END { printf "%d %d %d\n", r, a, f }'
}

pf_vigil_log() {
	cat "$PF_VIGIL_LOG" 2>/dev/null
}

pf_postfix_log() {
	cat "$PF_PFLOG" 2>/dev/null
}

# pf_send [smtpsend.py options] FILE...: send to the milter port; one
# result line a message on stdout (see smtpsend.py).
pf_send() {
	"$PYTHON" "$PF_LIB_DIR/smtpsend.py" --port "$PF_SMTP_PORT" "$@"
}

pf_send_upstream() {
	"$PYTHON" "$PF_LIB_DIR/smtpsend.py" --port "$PF_UPSTREAM_PORT" "$@"
}

pf_queue_count() {
	find "$PF_PFQ/maildrop" "$PF_PFQ/incoming" "$PF_PFQ/active" \
	    "$PF_PFQ/deferred" -type f 2>/dev/null | wc -l
}

pf_hold_count() {
	find "$PF_PFQ/hold" -type f 2>/dev/null | wc -l
}

# pf_hold_ids: the queue ids of messages on hold, one a line.
pf_hold_ids() {
	find "$PF_PFQ/hold" -type f -printf '%f\n' 2>/dev/null
}

# pf_wait_drain [SECS]: wait up to SECS (60) until maildrop, incoming,
# active and deferred are empty (held mail stays); 1 on timeout.
# pf_verdict_mark: remembers how many verdicts vigil has logged;
# pf_verdicts_since prints how many it logged after the mark, and
# pf_wait_verdicts N waits (120 s at most) until that reaches N.
pf_verdict_mark() { PF_VERDICT_BASE=$(grep -c 'verdict=' "$PF_VIGIL_LOG"); }
pf_verdicts_since() {
	echo $(($(grep -c 'verdict=' "$PF_VIGIL_LOG") - ${PF_VERDICT_BASE:-0}))
}
pf_wait_verdicts() {
	local i=0
	while [ "$(pf_verdicts_since)" -lt "$1" ] && [ $i -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

pf_wait_drain() {
	local end=$(($(date +%s) + ${1:-60}))
	while [ "$(pf_queue_count)" -gt 0 ]; do
		if [ "$(date +%s)" -ge "$end" ]; then
			pf_log "queue not drained: $(pf_queue_count) left"
			return 1
		fi
		sleep 0.2
	done
	return 0
}

pf_flush() {
	postqueue -c "$PF_PFC" -f
}

# pf_delivered ID: the sink file holding message ID (first match).
pf_delivered() {
	local f
	# only the top header counts (a bounce quotes the id in its body)
	f=$(find "$PF_SINK_DIR" -type f -exec awk -v want="X-Harness-Id: $1" '
	    FNR == 1 { inhdr = 1 }
	    inhdr && /^\r?$/ { inhdr = 0; nextfile }
	    inhdr { sub(/\r$/, ""); if ($0 == want) { print FILENAME; exit } }
	    ' {} + 2>/dev/null | head -1)
	[ -n "$f" ] && echo "$f"
}

# pf_header NAME FILE: the values of header NAME in FILE's top header
# (a sink file: smtp-sink's own X-Client-Addr etc. come first), one a line,
# unfolded (each fold's CRLF and first blank become one space).
pf_header() {
	awk -v want="$(echo "$1" | tr 'A-Z' 'a-z')" '
	    /^\r?$/ { exit }
	    { sub(/\r$/, "") }
	    /^[ \t]/ { if (cur == want) val = val " " substr($0, 2); next }
	    { if (cur == want) print val
	      cur = tolower(substr($0, 1, index($0, ":") - 1))
	      val = substr($0, index($0, ":") + 1); sub(/^[ \t]+/, "", val) }
	    END { if (cur == want) print val }' "$2"
}

# pf_account [account.py options] RESULTS...: check every message sent is
# delivered, rejected or quarantined (see account.py); prints a summary.
pf_account() {
	pf_hold_ids >"$PF_WORK/hold-ids"
	# shellcheck disable=SC2046
	"$PYTHON" "$PF_LIB_DIR/account.py" --sink "$PF_SINK_DIR" \
	    --vigil-log "$PF_VIGIL_LOG" --hold-ids "$PF_WORK/hold-ids" \
	    ${PF_QUARANTINE_DIR:+--quarantine-db "$PF_QUARANTINE_DIR/index.sqlite"} \
	    "$@"
}

# pf_ok NAME, pf_fail NAME WHY: one result line, with the seconds since
# the script started.
pf_ok() {
	PF_PASSED=$((PF_PASSED + 1))
	echo "ok - $1 [${SECONDS}s]"
}

pf_fail() {
	PF_FAILED=$((PF_FAILED + 1))
	echo "FAIL - $1: $2 [${SECONDS}s]"
}

# pf_check NAME CMD [ARGS...]: ok when CMD succeeds, FAIL otherwise.
pf_check() {
	local name=$1
	shift
	if "$@"; then
		pf_ok "$name"
	else
		pf_fail "$name" "command failed: $*"
	fi
}

pf_summary() {
	echo "$PF_PASSED passed, $PF_FAILED failed"
	[ "$PF_FAILED" -eq 0 ] && [ "$PF_PASSED" -gt 0 ]
}
