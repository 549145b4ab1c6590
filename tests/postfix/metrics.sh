#!/bin/bash
# metrics.sh - the MetricsListen endpoint read by a real Prometheus:
# Debian's prometheus server runs as a private instance (own config, data
# folder, loopback port) scraping vigil every second, mail goes through a
# private Postfix with vigil as its milter (tests/postfix/lib.sh), and the
# counters are read back through Prometheus' query API (/api/v1/query),
# as a dashboard or an alert rule would see them.  The exposition also
# passes `promtool check metrics`.  Also end to end here: the versions a
# verdict was made with (log line, X-Spam-Status, vigil_version_info,
# stats --json) and a shadow rule (counted and logged, never scored).
# Opt-in (make check-postfix), as root.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/postfix/lib.sh"
pf_need_root
CTL=$top_builddir/filter/vigilctl
PROM=${PROMETHEUS:-prometheus}
if ! command -v "$PROM" >/dev/null 2>&1; then
	echo "metrics.sh: prometheus not found (apt-get install prometheus)" >&2
	exit 77
fi

pf_setup || exit 1
PROM_PID=
trap '[ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null &&
    wait "$PROM_PID" 2>/dev/null; pf_teardown' EXIT

MPORT=$(pf_free_port)
# A rule on trial: it would tag both clean messages if it scored.
mkdir -p "$PF_WORK/shadow"
printf 'header T_SHADOW_LUNCH Subject =~ /lunch/\nscore T_SHADOW_LUNCH 50\n' \
    > "$PF_WORK/shadow/trial.rules"
OPTS=(Checks=headers,rules TagScore=0.4 RejectScore=0 AddHeaders=all
    "MetricsListen=127.0.0.1:$MPORT" MetricsTopRules=3
    "ShadowRulesDir=$PF_WORK/shadow")
if ! pf_vigil_start "$top_srcdir/samples/vigil.conf" "${OPTS[@]}" ||
    ! pf_wait_sock "127.0.0.1:$MPORT" 10; then
	pf_fail "vigil starts with MetricsListen" "$(tail -5 "$PF_VIGIL_LOG")"
	pf_summary
	exit 1
fi
pf_ok "vigil listens for scrapes on 127.0.0.1:$MPORT"

# --- Prometheus, private: its own config, data and port ---------------
PPORT=$(pf_free_port)
mkdir -p "$PF_WORK/prom/data"
cat > "$PF_WORK/prom/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: vigil
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOC
"$PROM" --config.file="$PF_WORK/prom/prometheus.yml" \
    --storage.tsdb.path="$PF_WORK/prom/data" \
    --web.listen-address="127.0.0.1:$PPORT" \
    --log.level=warn >"$PF_WORK/prom/log" 2>&1 &
PROM_PID=$!
if ! pf_wait_sock "127.0.0.1:$PPORT" 60; then
	pf_fail "prometheus starts" "$(tail -5 "$PF_WORK/prom/log")"
	pf_summary
	exit 1
fi

# q EXPR: the value of an instant query's first result ("" if none).
q() {
	"$PYTHON" - "127.0.0.1:$PPORT" "$1" <<'EOP'
import json, sys, urllib.parse, urllib.request
url = "http://%s/api/v1/query?query=%s" % (sys.argv[1],
    urllib.parse.quote(sys.argv[2]))
try:
	r = json.load(urllib.request.urlopen(url, timeout=5))
except Exception as e:
	print("error: %s" % e, file=sys.stderr)
	sys.exit(0)
res = r.get("data", {}).get("result", [])
if res:
	v = float(res[0]["value"][1])
	print(int(v) if v == int(v) else v)
EOP
}

# expect NAME EXPR WANT: wait (up to 30 s: scrapes are 1 s apart) until
# Prometheus answers WANT for EXPR.
expect() {
	local name=$1 expr=$2 want=$3 got= i=0
	while [ $i -lt 60 ]; do
		got=$(q "$expr")
		[ "$got" = "$want" ] && break
		sleep 0.5
		i=$((i + 1))
	done
	if [ "$got" = "$want" ]; then
		pf_ok "$name ($expr = $got)"
	else
		pf_fail "$name" "$expr = '${got}', want $want"
	fi
}

expect "prometheus scrapes vigil" 'up{job="vigil"}' 1
expect "nothing counted before mail" 'sum(vigil_messages_total) or vector(0)' 0

# --- Mail: two clean messages (-2.8) and one tagged (0.5: no Date,
# no Message-ID, a From without an address) ---------------------------
for i in 1 2; do
	printf 'From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: lunch %s\r\nDate: Tue, 24 Nov 2026 10:15:00 +0100\r\nMessage-ID: <m%s@example.org>\r\n\r\nsee you at noon\r\n' \
	    "$i" "$i" > "$PF_WORK/ham$i.eml"
done
printf 'From: nobody\r\nTo: user@example.net\r\nSubject: casino winner\r\n\r\nclick free money now\r\n' \
    > "$PF_WORK/spam.eml"
pf_send --xclient 192.0.2.30 --id-prefix ham "$PF_WORK/ham1.eml" \
    "$PF_WORK/ham2.eml" > "$PF_WORK/ham.tsv"
pf_send --xclient 192.0.2.31 --id-prefix spam "$PF_WORK/spam.eml" \
    > "$PF_WORK/spam.tsv"
pf_wait_drain 60 || pf_fail "queue drains" "$(pf_queue_count) left"

expect "clean mail by action and reason" \
    'vigil_messages_total{action="accept",reason="clean"}' 2
expect "tagged mail by action and reason" \
    'vigil_messages_total{action="tag",reason="spam"}' 1
expect "message time histogram counts every message" \
    'vigil_message_duration_seconds_count' 3
expect "per-check time histogram (rules ran on each message)" \
    'vigil_check_duration_seconds_count{check="rules"}' 3
expect "the +Inf bucket equals the count" \
    'vigil_check_duration_seconds_bucket{check="headers",le="+Inf"} - on() vigil_check_duration_seconds_count{check="headers"}' 0
expect "no check failed" 'sum(vigil_check_failures_total)' 0
expect "end-of-message stages: scan timed for every message" \
    'vigil_eom_stage_duration_seconds_count{stage="scan"}' 3
expect "end-of-message stages: handoff and reply too" \
    'vigil_eom_stage_duration_seconds_count{stage="handoff"} + on() vigil_eom_stage_duration_seconds_count{stage="reply"}' 6
expect "end-of-message stages: no store without a quarantine" \
    'vigil_eom_stage_duration_seconds_count{stage="store"}' 0
expect "rule hits: bounded series (top 3 plus other)" \
    'count(vigil_rule_hits_total) <= bool 4' 1
expect "rule hits: the rest summed as other" \
    'count(vigil_rule_hits_total{rule="other"})' 1
expect "scan threads are reported" 'vigil_scan_threads >= bool 0' 1
expect "every message scanned somewhere" 'sum(vigil_scan_messages_total)' 3
expect "configuration generation 1 at start" 'vigil_config_generation' 1
expect "shadow rule counted, apart from live rules" \
    'vigil_shadow_rule_hits_total{rule="T_SHADOW_LUNCH"}' 2
expect "shadow rule not among live rule hits" \
    'count(vigil_rule_hits_total{rule="T_SHADOW_LUNCH"}) or vector(0)' 0
if [ "$(grep -c 'verdict=accept .* shadow=T_SHADOW_LUNCH ' "$PF_VIGIL_LOG")" = 2 ]; then
	pf_ok "log: shadow=T_SHADOW_LUNCH on the clean messages, still accepted"
else
	pf_fail "log: shadow=" "$(grep verdict= "$PF_VIGIL_LOG")"
fi
expect "versions in service: rule set and scores hashes" \
    'count(vigil_version_info{rules=~"[0-9a-f]{16}",scores=~"[0-9a-f]{16}",config="1"})' 1

# --- Versioned verdicts: the log line and X-Spam-Status agree ---------
line=$(grep 'verdict=tag' "$PF_VIGIL_LOG" | tail -1)
lver=$(printf '%s\n' "$line" | sed -n 's/.* version=\([0-9a-f]*\) .*/\1/p')
f=$(pf_delivered spam-0)
status=$(pf_header X-Spam-Status "$f")
if printf '%s\n' "$line" | grep -Eq ' versions=rules:[0-9a-f]{16},scores:[0-9a-f]{16},config:1,bayes:-,av:- ' &&
    [ ${#lver} = 8 ]; then
	pf_ok "log line: version=$lver and every version"
else
	pf_fail "log line carries the versions" "$line"
fi
case $status in
"Yes, score="*" required="*" version=$lver tests="*)
	pf_ok "X-Spam-Status: version=$lver, tests= last" ;;
*)	pf_fail "X-Spam-Status carries the log line's version" "$status" ;;
esac

# --- A reload shows up as a counter and a new generation --------------
if "$CTL" -c "$top_srcdir/samples/vigil.conf" \
    -o "ControlSocket=$PF_WORK/run/control.sock" reload >/dev/null; then
	expect "reload counted" 'vigil_reloads_total' 1
	expect "configuration generation 2 after a reload" \
	    'vigil_config_generation' 2
	expect "version info follows the reload" \
	    'count(vigil_version_info{config="2"})' 1
	st=$("$CTL" -c "$top_srcdir/samples/vigil.conf" \
	    -o "ControlSocket=$PF_WORK/run/control.sock" stats --json)
	if printf '%s\n' "$st" | "$PYTHON" -c 'import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["version.config"] == "2" and len(d["version.rules"]) == 16
    and d["messages.tag"] == 1 and d["eom.scan.count"] == 3
    and 0 < d["eom.scan.ms.p99"] <= d["eom.scan.ms.max"] else 1)'; then
		pf_ok "vigilctl stats --json: versions in service, counters, stage times"
	else
		pf_fail "vigilctl stats --json" "$(printf '%s\n' "$st" | head -20)"
	fi
else
	pf_fail "vigilctl reload" "refused"
fi

# --- The exposition itself is well formed -----------------------------
if command -v promtool >/dev/null 2>&1; then
	"$PYTHON" -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
	    "http://127.0.0.1:$MPORT/metrics" > "$PF_WORK/metrics.txt"
	if promtool check metrics < "$PF_WORK/metrics.txt" > "$PF_WORK/lint" 2>&1; then
		pf_ok "promtool check metrics: clean"
	else
		pf_fail "promtool check metrics" "$(head -5 "$PF_WORK/lint")"
	fi
fi

pf_summary
