# netns.sh - the private network a DNS test runs in; sourced (". netns.sh")
# after tests/tools/needs.sh.
#
# netns_enter TAG VAR SCRIPT [ARG...]: make the namespace vigil-TAG-PID,
# with its loopback up and a resolv.conf (which `ip netns exec` mounts
# over /etc/resolv.conf) naming 127.0.0.1, where the test's dnsmasq will
# listen; run SCRIPT again inside it with VAR set to the namespace's
# name; remove the namespace and exit with the script's status.  The
# script calls it while VAR is unset, and does its work once it is set.
# Skips the script (needs.sh) unless root, with ip and dnsmasq.
netns_enter() {
	needs_root
	needs_bins ip dnsmasq
	_ns_tag=$1 _ns_var=$2
	shift 2
	_ns=vigil-$_ns_tag-$$
	mkdir -p "/etc/netns/$_ns" || exit 1
	printf 'nameserver 127.0.0.1\noptions attempts:1\n' \
	    >"/etc/netns/$_ns/resolv.conf"
	if ! ip netns add "$_ns"; then
		rm -rf "/etc/netns/$_ns"
		echo "$_ns_tag: cannot create network namespace $_ns" >&2
		echo "$_ns_tag: 0 passed, 1 failed"
		exit 1
	fi
	trap 'ip netns del "$_ns" 2>/dev/null; rm -rf "/etc/netns/$_ns"' EXIT
	ip netns exec "$_ns" ip link set lo up
	env "$_ns_var=$_ns" ip netns exec "$_ns" bash "$@"
	exit $?
}

# netns_dnsmasq DIR ARG...: inside the namespace, start dnsmasq on
# 127.0.0.1 with the test's records (ARG...), no other source of answers,
# logging every query to DIR/dnsmasq.log; DNSMASQ_PID is its pid.
# Returns once it has started (or after five seconds).
netns_dnsmasq() {
	_ns_dir=$1
	shift
	dnsmasq --keep-in-foreground --no-resolv --no-hosts --user=root \
	    --listen-address=127.0.0.1 --bind-interfaces "$@" \
	    --log-queries --log-facility="$_ns_dir/dnsmasq.log" \
	    --pid-file="$_ns_dir/dnsmasq.pid" 2>"$_ns_dir/dnsmasq.err" &
	DNSMASQ_PID=$!
	for _ in $(seq 50); do
		grep -q "started" "$_ns_dir/dnsmasq.log" 2>/dev/null && return 0
		sleep 0.1
	done
}

# netns_trap [DIR]: on exit, stop netns_dnsmasq's dnsmasq (if it was
# started) and remove DIR (the script's work folder; none: kept).
netns_trap() {
	_ns_rm=${1:-}
	DNSMASQ_PID=
	trap '[ -n "$DNSMASQ_PID" ] && kill "$DNSMASQ_PID" 2>/dev/null &&
	    wait "$DNSMASQ_PID" 2>/dev/null; [ -n "$_ns_rm" ] && rm -rf "$_ns_rm"' EXIT
}
