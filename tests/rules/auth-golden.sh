#!/usr/bin/env bash
# auth-golden.sh - SpamAssassin's SPF, DKIM and DMARC rules (25_spf.cf,
# 25_dkim.cf, 25_dmarc.cf; the SPF and DKIM welcomelists of
# 60_welcomelist_spf.cf and 60_welcomelist_dkim.cf, and ADSP's
# DKIM_ADSP_* from adsp_override) run by vigil from its own checks' results
# (rules_eval_auth.c), against SpamAssassin 4 with its network tests on,
# both asking a real DNS server: in a network namespace, dnsmasq on its
# own loopback serves the SPF, DKIM key and DMARC records of the example.com
# domains the messages of tests/golden/auth use (each one came from
# 192.0.2.10, as its Received header says; vigil is given the same
# client, HELO and envelope sender).  Checked, message by message:
#   - SpamAssassin ran the plugins (it asked the records);
#   - both sides hit the same of those rules (sub-rules and the metas
#     over them, __DKIM_DEPENDABLE and DKIM_INVALID, included), and
#     each message hits the rules it was written for;
#   - vigil's verdict carries each name once, and never both a rule and
#     the finding of vigil's own check that says the same (DMARC_REJECT
#     and DMARC_FAIL_REJECT): no evidence counted twice.
# Needs root (the namespace), iproute2, dnsmasq, SpamAssassin with
# Mail::SPF and Mail::DMARC; skipped (exit 77) without them.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
SA_RULES=${SA_RULES:-/usr/share/spamassassin}
HERE="$top_srcdir/tests/rules"
GOLDEN="$top_srcdir/tests/golden/auth"

TEST=auth-golden
if [ -z "${VIGIL_AUTH_GOLDEN_NETNS:-}" ]; then
	. "$top_srcdir/tests/tools/needs.sh"
	needs_bins perl python3
	needs_sa Mail::SPF Mail::DMARC::PurePerl Mail::DKIM
	. "$top_srcdir/tests/tools/netns.sh"
	netns_enter authgold VIGIL_AUTH_GOLDEN_NETNS "$0" "$@"
fi

# ------------------------------------------------------------ inside
. "$top_srcdir/tests/tools/netns.sh"
. "$top_srcdir/tests/tools/tap.sh"
TMP=$(mktemp -d)
netns_trap "$TMP"

# Every sender domain exists (Mail::DMARC gives no result for a From
# domain without an address).  tests/data/auth's 2048-bit key (s2048.private signed the messages), in
# two strings of at most 255 bytes.
key=$(grep -o 'p=[A-Za-z0-9+/=]*' "$top_srcdir/tests/data/auth/zone.txt" |
    head -n 1)
k1="v=DKIM1; k=rsa; ${key:0:200}"
k2=${key:200}
netns_dnsmasq "$TMP" --local=/example.com/ \
    --txt-record=pass.example.com,"v=spf1 ip4:192.0.2.10 -all" \
    --txt-record=mail.pass.example.com,"v=spf1 ip4:192.0.2.10 -all" \
    --txt-record=_dmarc.pass.example.com,"v=DMARC1; p=reject" \
    --txt-record=fail.example.com,"v=spf1 -all" \
    --txt-record=mail.fail.example.com,"v=spf1 -all" \
    --txt-record=_dmarc.fail.example.com,"v=DMARC1; p=quarantine" \
    --txt-record=soft.example.com,"v=spf1 ~all" \
    --txt-record=_dmarc.soft.example.com,"v=DMARC1; p=none" \
    --txt-record=neutral.example.com,"v=spf1 ?all" \
    --host-record=example.com,192.0.2.20 \
    --host-record=pass.example.com,192.0.2.20 \
    --host-record=fail.example.com,192.0.2.20 \
    --host-record=soft.example.com,192.0.2.20 \
    --host-record=neutral.example.com,192.0.2.20 \
    --host-record=nospf.example.com,192.0.2.20 \
    --host-record=dkim.example.com,192.0.2.20 \
    --host-record=author.example.com,192.0.2.20 \
    --host-record=news.dkim.example.com,192.0.2.20 \
    --host-record=bank.example.com,192.0.2.20 \
    --txt-record=_adsp._domainkey.nospf.example.com,"dkim=discardable" \
    --txt-record=_adsp._domainkey.bank.example.com,"dkim=all" \
    --txt-record=dkim.example.com,"v=spf1 ip4:192.0.2.10 -all" \
    --txt-record=_dmarc.dkim.example.com,"v=DMARC1; p=reject" \
    --txt-record=s2048._domainkey.dkim.example.com,"$k1","$k2"

# The rules at issue, scored in every set so that both sides run them
# (SpamAssassin's score set 2, which both read, leaves SPF_FAIL and the
# DMARC failures at 0: they count only with network tests).
RULES="SPF_PASS SPF_NEUTRAL SPF_FAIL SPF_SOFTFAIL SPF_NONE SPF_HELO_PASS
SPF_HELO_NEUTRAL SPF_HELO_FAIL SPF_HELO_SOFTFAIL SPF_HELO_NONE
T_SPF_PERMERROR T_SPF_TEMPERROR T_SPF_HELO_PERMERROR T_SPF_HELO_TEMPERROR
DKIM_SIGNED DKIM_VALID DKIM_INVALID DKIM_VALID_AU DKIM_VALID_EF
__DKIM_DEPENDABLE DMARC_PASS DMARC_REJECT DMARC_QUAR DMARC_NONE
DMARC_MISSING USER_IN_SPF_WELCOMELIST USER_IN_DEF_SPF_WL
USER_IN_DKIM_WELCOMELIST USER_IN_DEF_DKIM_WL DKIM_ADSP_NXDOMAIN
DKIM_ADSP_DISCARD DKIM_ADSP_ALL DKIM_ADSP_CUSTOM_LOW DKIM_ADSP_CUSTOM_MED
DKIM_ADSP_CUSTOM_HIGH"
cp -R "$SA_RULES" "$TMP/rules"
for r in $RULES; do
	case $r in __*) ;; *) echo "score $r 1" ;; esac
done >"$TMP/rules/99_auth_golden.cf"
# The SPF and DKIM welcomelists (Plugin::SPF, Plugin::DKIM) and ADSP's
# overrides, each entry for a message's hit or miss (want, nowant below);
# the author domains without an override have their practices asked
# (_adsp._domainkey TXT, and MX for whether the domain exists).
cat >>"$TMP/rules/99_auth_golden.cf" <<'EOF'
# SPF: the envelope sender whose SPF passed, not the From
welcomelist_from_spf bob@pass.example.com
welcomelist_from_spf ceo@bank.example.com
def_welcomelist_from_spf bounce@pass.example.com
welcomelist_auth bounce@dkim.example.com
def_welcomelist_auth *@fail.example.com
whitelist_from_spf x@neutral.example.com
unwelcomelist_from_spf x@neutral.example.com
# DKIM: an author signature, or one of the domain named
welcomelist_from_dkim alice@dkim.example.com
welcomelist_from_dkim carol@author.example.com
def_welcomelist_from_dkim carol@author.example.com dkim.example.com
welcomelist_from_dkim *@news.dkim.example.com .dkim.example.com
def_whitelist_from_dkim *@news.dkim.example.com dkim.example.com
unwhitelist_from_dkim *@news.dkim.example.com dkim.example.com
# ADSP: the author domains with no valid author signature
adsp_override dkim.example.com
adsp_override fail.example.com custom_high
adsp_override soft.example.com NXDOMAIN
adsp_override @neutral.example.com custom_med
adsp_override *.pass.example.com all
adsp_override author.example.com unknown
adsp_override author.example.com all
EOF

ls "$GOLDEN"/*.eml >"$TMP/files"
SA_HITS_SET=3 SA_HITS_DNS=127.0.0.1 perl "$HERE/sa-hits.pl" "$TMP/rules" <"$TMP/files" \
    >"$TMP/sa" 2>"$TMP/sa.err"
V() {
	"$top_builddir/filter/vigilctl" -c "$top_srcdir/samples/vigil.conf" \
	    -o Checks=spf,dkim,dmarc,rules -o SPFCheckHelo=yes -o DNSLists=yes \
	    -o "RulesDir=$TMP/rules" "$@"
}
: >"$TMP/vigil"
: >"$TMP/scan"
while IFS= read -r f; do
	rcvd=$(sed -n 's/^Received: from \([^ ]*\) ([^[]*\[\([0-9.]*\)\]).*/\1 \2/p' "$f" | head -n 1)
	helo=${rcvd% *}
	ip=${rcvd#* }
	from=$(sed -n 's/^Return-Path: <\(.*\)>.*/\1/p' "$f" | head -n 1)
	V rules test --ip "$ip" --helo "$helo" --from "$from" --batch "$f" \
	    >>"$TMP/vigil" 2>>"$TMP/vigil.err"
	printf '%s:' "$f" >>"$TMP/scan"
	V scan --json --ip "$ip" --helo "$helo" --from "$from" "$f" \
	    2>>"$TMP/vigil.err" | python3 -c '
import json, sys
print(" " + " ".join(h["name"] for h in json.load(sys.stdin)["hits"]))' \
	    >>"$TMP/scan"
done <"$TMP/files"

n=$(wc -l <"$TMP/files")
if [ "$n" -ge 9 ] && [ "$(wc -l <"$TMP/sa")" -eq "$n" ] &&
    [ "$(wc -l <"$TMP/vigil")" -eq "$n" ] &&
    [ "$(wc -l <"$TMP/scan")" -eq "$n" ]; then
	ok "both sides read the $n messages"
else
	cat "$TMP/sa.err" "$TMP/vigil.err" >&2
	bad "the messages were not all read"
fi
# SpamAssassin's plugins ran: they asked for the records.
for q in "TXT] pass.example.com" "TXT] mail.fail.example.com" \
    "TXT] s2048._domainkey.dkim.example.com" "TXT] _dmarc.soft.example.com" \
    "TXT] _adsp._domainkey.nospf.example.com" "MX] gone.example.com"; do
	if grep -qF "query[$q from" "$TMP/dnsmasq.log"; then
		ok "SpamAssassin asked $q"
	else
		bad "SpamAssassin did not ask $q"
	fi
done

# The rules each message was written for: SpamAssassin must hit them (a
# test message that misses its point proves nothing), and so must vigil.
declare -A want=(
	[spf-pass]="SPF_PASS SPF_HELO_PASS DMARC_PASS USER_IN_SPF_WELCOMELIST"
	[spf-fail]="SPF_FAIL SPF_HELO_FAIL DMARC_QUAR DKIM_ADSP_CUSTOM_HIGH"
	[spf-softfail]="SPF_SOFTFAIL DMARC_NONE DKIM_ADSP_NXDOMAIN"
	[spf-neutral]="SPF_NEUTRAL DMARC_MISSING DKIM_ADSP_CUSTOM_MED"
	[spf-none]="SPF_NONE DMARC_MISSING DKIM_ADSP_DISCARD"
	[dkim-valid]="DKIM_SIGNED DKIM_VALID DKIM_VALID_AU __DKIM_DEPENDABLE DMARC_PASS USER_IN_DKIM_WELCOMELIST USER_IN_DEF_SPF_WL"
	[dkim-ef]="DKIM_VALID DKIM_VALID_EF SPF_PASS DMARC_MISSING USER_IN_SPF_WELCOMELIST USER_IN_DEF_DKIM_WL DKIM_ADSP_ALL"
	[dkim-broken]="DKIM_SIGNED DKIM_INVALID SPF_FAIL DMARC_REJECT DKIM_ADSP_DISCARD"
	[dkim-identity]="DKIM_VALID DMARC_PASS DKIM_ADSP_DISCARD"
	[dkim-identity-au]="DKIM_VALID DKIM_VALID_AU USER_IN_DKIM_WELCOMELIST"
	[wl-spf-forged]="SPF_PASS USER_IN_DEF_SPF_WL DKIM_ADSP_ALL"
	[adsp-nxdomain]="SPF_PASS DKIM_ADSP_NXDOMAIN"
)
# ... and those it was written not to hit (a welcomelisted From with
# another domain's SPF pass, a third-party signature for an entry that
# wants the author's, an entry removed, a "*." override and the domain
# itself, a valid author signature and the domain's override).
declare -A nowant=(
	[spf-pass]="DKIM_ADSP_ALL DKIM_ADSP_NXDOMAIN USER_IN_DKIM_WELCOMELIST"
	[spf-fail]="USER_IN_DEF_SPF_WL USER_IN_DEF_DKIM_WL"
	[spf-neutral]="USER_IN_SPF_WELCOMELIST"
	[dkim-valid]="DKIM_ADSP_DISCARD"
	[dkim-ef]="USER_IN_DKIM_WELCOMELIST"
	[dkim-broken]="USER_IN_DKIM_WELCOMELIST USER_IN_DEF_SPF_WL USER_IN_DEF_DKIM_WL"
	[dkim-identity]="USER_IN_DKIM_WELCOMELIST"
	[dkim-identity-au]="USER_IN_DEF_DKIM_WL DKIM_ADSP_ALL"
	[wl-spf-forged]="USER_IN_SPF_WELCOMELIST USER_IN_DKIM_WELCOMELIST"
)
# Rule names of a side's line for f, the rules at issue only.
of() {
	grep -F "$2:" "$1" | head -n 1 | cut -d: -f2- | tr ' ' '\n' |
	    grep -xF -f <(echo "$RULES" | tr ' ' '\n' | grep .) | sort -u |
	    tr '\n' ' '
}
while IFS= read -r f; do
	b=$(basename "$f" .eml)
	s=$(of "$TMP/sa" "$f")
	v=$(of "$TMP/vigil" "$f")
	if [ "$s" = "$v" ]; then
		ok "$b: the same hits: ${s:-none}"
	else
		bad "$b: SpamAssassin ${s:-none}; vigil ${v:-none}"
	fi
	for r in ${want[$b]:-}; do
		case " $s " in *" $r "*) ;; *)
			bad "$b: SpamAssassin does not hit $r" ;;
		esac
	done
	for r in ${nowant[$b]:-}; do
		case " $s " in *" $r "*)
			bad "$b: SpamAssassin hits $r" ;;
		esac
	done
	# One finding a name, and no rule beside vigil's finding of the
	# same meaning.
	hits=$(grep -F "$f:" "$TMP/scan" | head -n 1 | cut -d: -f2-)
	dup=$(echo "$hits" | tr ' ' '\n' | grep . | sort | uniq -d | tr '\n' ' ')
	for p in DMARC_REJECT/DMARC_FAIL_REJECT DMARC_QUAR/DMARC_FAIL_QUARANTINE \
	    DMARC_NONE/DMARC_FAIL_NONE; do
		case " $hits " in *" ${p%/*} "*" ${p#*/} "*|*" ${p#*/} "*" ${p%/*} "*)
			dup="$dup$p " ;;
		esac
	done
	if [ -z "$dup" ] && [ -n "$hits" ]; then
		ok "$b: each finding once:$hits"
	else
		bad "$b: counted twice: ${dup:-no findings}"
	fi
done <"$TMP/files"
# One weight: vigil's check's.  With SpamAssassin's stock rules read
# after the shipped ones (the default setup), each finding of vigil's
# checks weighs what it weighs without them (SpamAssassin's SPF_FAIL,
# 0 outside its network score sets, does not replace it).
W() {
	"$top_builddir/filter/vigilctl" -c "$top_srcdir/samples/vigil.conf" \
	    -o Checks=spf,dkim,dmarc,rules -o SPFCheckHelo=yes -o DNSLists=yes \
	    -o "SpamAssassinRules=$1" scan --json --ip 192.0.2.10 \
	    --helo "$2" --from "$3" "$GOLDEN/$4" 2>/dev/null |
	    python3 -c '
import json, sys
print(" ".join("%s=%.3f" % (h["name"], h["score"])
    for h in json.load(sys.stdin)["hits"] if h["name"].split("_")[0] in
    ("SPF", "DKIM", "DMARC")))'
}
for m in "mail.fail.example.com x@fail.example.com spf-fail.eml" \
    "mail.pass.example.com bounce@pass.example.com dkim-valid.eml" \
    "mail.fail.example.com bounce@fail.example.com dkim-broken.eml"; do
	set -- $m
	with=$(W "$SA_RULES" "$@")
	without=$(W no "$@")
	# DKIM_SIGNED is SpamAssassin's alone (vigil's DKIM adds none).
	with=$(echo "$with" | tr ' ' '\n' | grep -v '^DKIM_SIGNED=' | tr '\n' ' ')
	if [ -n "$without" ] && [ "$with" = "$without " ]; then
		ok "$3: the same weights with SpamAssassin's rules: $without"
	else
		bad "$3: weights with SpamAssassin's rules: $with;" \
		    "without: $without"
	fi
done
# ADSP's lookups are network tests: without DNSLists none is asked, and
# adsp-nxdomain.eml's author domain is not found missing.
f=$GOLDEN/adsp-nxdomain.eml
rcvd=$(sed -n 's/^Received: from \([^ ]*\) ([^[]*\[\([0-9.]*\)\]).*/\1 \2/p' "$f" | head -n 1)
from=$(sed -n 's/^Return-Path: <\(.*\)>.*/\1/p' "$f" | head -n 1)
off=$(V -o DNSLists=no rules test --ip "${rcvd#* }" --helo "${rcvd% *}" \
    --from "$from" --batch "$f" 2>/dev/null)
case " $off " in
*" DKIM_ADSP_NXDOMAIN"*) bad "adsp-nxdomain: DKIM_ADSP_NXDOMAIN with DNSLists off" ;;
*"$f"*) ok "adsp-nxdomain: no ADSP lookup with DNSLists off" ;;
*) bad "adsp-nxdomain: not read with DNSLists off" ;;
esac
# The messages written for the i= rule: a valid signature of
# dkim.example.com whose identity is @news.dkim.example.com is an author
# signature for From: news.dkim.example.com (dkim-identity-au), not for
# From: dkim.example.com (dkim-identity).  vigil's DKIM check alone
# (without SpamAssassin's rules) must mean by its DKIM_VALID_AU what
# SpamAssassin's rule of that name means, on every message.
case " $(of "$TMP/vigil" "$GOLDEN/dkim-identity.eml") " in
*" DKIM_VALID_AU "*) bad "dkim-identity: vigil hits DKIM_VALID_AU" ;;
*) ok "dkim-identity: no DKIM_VALID_AU for a subdomain's i=" ;;
esac
while IFS= read -r f; do
	b=$(basename "$f")
	rcvd=$(sed -n 's/^Received: from \([^ ]*\) ([^[]*\[\([0-9.]*\)\]).*/\1 \2/p' "$f" | head -n 1)
	own=$(W no "${rcvd% *}" \
	    "$(sed -n 's/^Return-Path: <\(.*\)>.*/\1/p' "$f" | head -n 1)" "$b")
	case " $own " in *" DKIM_VALID_AU="*) v=yes ;; *) v=no ;; esac
	case " $(of "$TMP/sa" "$f") " in *" DKIM_VALID_AU "*) s=yes ;; *) s=no ;; esac
	if [ "$v" = "$s" ]; then
		ok "${b%.eml}: vigil's DKIM check's DKIM_VALID_AU: $v, as SpamAssassin's"
	else
		bad "${b%.eml}: vigil's DKIM check's DKIM_VALID_AU: $v;" \
		    "SpamAssassin's: $s"
	fi
done <"$TMP/files"
echo "auth-golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
