/*
 * spf.c - SPF (RFC 7208) at MAIL FROM with libspf2: the MAIL FROM
 * identity (the HELO identity for the null sender), optionally HELO too.
 *
 * libspf2 does the evaluation; vigil gives it a DNS layer of its own
 * (authdns.c, so lookups share the message's time budget and tests use a
 * zone file) and corrects what the library gets wrong around it:
 *  - SPF_RESULT_INVALID with an error code is permerror, or temperror
 *    for a DNS error;
 *  - an IPv4-mapped IPv6 client is checked as IPv4;
 *  - records are checked against RFC 7208's grammar (spfsyntax.c), so
 *    malformed records libspf2 accepts give permerror;
 *  - more than two void lookups give permerror (RFC 7208 4.6.4);
 *  - the library's explanation text is logged, never sent to clients.
 * Left as it is: libspf2 passes loopback clients (127.0.0.0/8, ::1)
 * without a lookup; TrustedNetworks normally skips them anyway.
 *
 * Owns: the libspf2 server and DNS layer (per snapshot), the result in
 * the message's slot (per message).
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>

#include "cfg.h"
#include "check.h"
#include "msg.h"
#include "snap.h"
#include "checks/auth/auth.h"
#include "checks/auth/spfsyntax.h"
#include "lib/log.h"
#include "lib/util.h"

extern const struct check check_spf;

const struct opt spf_opts[] = {
	{ "SPFEnable", OPT_BOOL, "yes", 0, 0, NULL,
	  "Check SPF (RFC 7208) at MAIL FROM" },
	{ "SPFCheckHelo", OPT_BOOL, "no", 0, 0, NULL,
	  "Also check the HELO identity (findings SPF_HELO_*)" },
	{ "SPFRejectFail", OPT_BOOL, "no", 0, 0, NULL,
	  "Reject at MAIL FROM with 550 5.7.23 when SPF fails" },
	{ NULL }
};

struct spf_state {
	struct adns	*dns;
	SPF_dns_server_t dnsl;		/* our layer under libspf2 */
	SPF_server_t	*server;
	bool		 is_enabled;
	bool		 check_helo;
	bool		 reject_fail;
	char		*err;
};

/* One evaluation in progress on this thread (the DNS layer's view). */
struct spf_eval {
	struct adns_budget *budget;
	unsigned	 voids;
	unsigned	 lookups;
	bool		 had_tempfail;
	const char	*bad_record;	/* malloc'd: name of a malformed record */
	char		*bad_why;	/* malloc'd */
};

static __thread struct spf_eval *cur_eval;

const char spf_default_explanation[] = "no explanation published";

/* Findings and their default scores, by result. */
static const struct {
	const char	*mailfrom, *helo;
	double		 score;
} spf_hits[] = {
	[AUTH_NONE] = { "SPF_NONE", "SPF_HELO_NONE", 0.001 },
	[AUTH_PASS] = { "SPF_PASS", "SPF_HELO_PASS", -0.001 },
	[AUTH_FAIL] = { "SPF_FAIL", "SPF_HELO_FAIL", 2.0 },
	[AUTH_SOFTFAIL] = { "SPF_SOFTFAIL", "SPF_HELO_SOFTFAIL", 0.7 },
	[AUTH_NEUTRAL] = { "SPF_NEUTRAL", "SPF_HELO_NEUTRAL", 0.6 },
	[AUTH_POLICY] = { "SPF_PERMERROR", "SPF_HELO_PERMERROR", 0.01 },
	[AUTH_TEMPERROR] = { "SPF_TEMPERROR", "SPF_HELO_TEMPERROR", 0.01 },
	[AUTH_PERMERROR] = { "SPF_PERMERROR", "SPF_HELO_PERMERROR", 0.01 },
};

const char *
auth_res_name(enum auth_res r)
{
	static const char *const names[] = {
		"none", "pass", "fail", "softfail", "neutral", "policy",
		"temperror", "permerror",
	};

	return (size_t)r < NELEM(names) ? names[r] : "?";
}

/* ---- DNS layer ------------------------------------------------------ */

/*
 * A TXT string that is not an SPF record can only be an explanation
 * (exp=).  libspf2 parses it as a macro-string in which a space is not
 * allowed and turns spaces into "%", so hand it spaces as the "%_" macro
 * (RFC 7208 7.3), which it expands back to spaces.  An explanation that
 * is not ASCII or not a valid macro-string is dropped, and so is a name
 * with several: the default text applies then (RFC 7208 6.2).
 */
static void
spf_fix_txt(char **rrs, size_t n, size_t *keep_r, char ***out_r)
{
	size_t nspf = 0;
	char **out;

	*keep_r = n;
	if ((out = calloc(n + 1, sizeof(char *))) == NULL)
		log_oom(n, "spf txt");
	*out_r = out;
	for (size_t i = 0; i < n; i++)
		if (strncasecmp(rrs[i], "v=spf1", 6) == 0 &&
		    (rrs[i][6] == ' ' || rrs[i][6] == '\0')) {
			nspf++;
			/* CIDR lengths of 0, which libspf2 refuses */
			out[i] = spfsyntax_rewrite_cidr0(rrs[i]);
		}
	if (nspf > 0)
		return;
	if (n != 1 || !spfsyntax_is_explanation(rrs[0])) {
		*keep_r = 0;
		return;
	}
	if (strchr(rrs[0], ' ') == NULL)
		return;
	if ((out[0] = malloc(strlen(rrs[0]) * 2 + 1)) == NULL)
		log_oom(strlen(rrs[0]) * 2 + 1, "spf exp");
	{
		char *q = out[0];

		for (const char *p = rrs[0]; *p != '\0'; p++) {
			if (*p == ' ') {
				*q++ = '%';
				*q++ = '_';
			} else
				*q++ = *p;
		}
		*q = '\0';
	}
}

/* Records malformed records and void lookups seen during evaluation. */
static void
spf_note_answer(const char *domain, ns_type type, enum adns_rc rc,
    char **rrs, size_t n)
{
	struct spf_eval *ev = cur_eval;
	const char *why;

	if (ev == NULL)
		return;
	ev->lookups++;
	/* Void lookups of a, mx, ptr and exists terms (RFC 7208 4.6.4);
	 * not TXT, so a missing exp= domain does not count. */
	if ((rc == ADNS_NODATA || rc == ADNS_NXDOMAIN) && type != ns_t_txt)
		ev->voids++;
	if (rc == ADNS_TEMPFAIL)
		ev->had_tempfail = true;
	if (type != ns_t_txt || rc != ADNS_OK || ev->bad_record != NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		if (strncasecmp(rrs[i], "v=spf1", 6) != 0 ||
		    (rrs[i][6] != ' ' && rrs[i][6] != '\0'))
			continue;
		if ((why = spfsyntax_check_record(rrs[i])) != NULL) {
			ev->bad_record = strdup(domain);
			ev->bad_why = strdup(why);
		}
	}
}

static bool
spf_is_cidr0_name(const char *name)
{
	size_t nl = strlen(name), sl = strlen("." SPFSYNTAX_CIDR0_SUFFIX);

	return nl > sl && strcasecmp(name + nl - sl,
	    "." SPFSYNTAX_CIDR0_SUFFIX) == 0;
}

/*
 * Answers "D.KIND.vigil-cidr0.invalid", the name a term with a zero CIDR
 * length was rewritten to (spfsyntax_rewrite_cidr0): the addresses of D
 * (KIND "a...") or of its first ten MX hosts ("mx..."); for a family
 * whose length was 0 ("4", "6" in KIND), two addresses that with /1
 * cover the whole family, as long as there is any address at all.
 */
static enum adns_rc
spf_cidr0_query(struct spf_state *st, const char *name, ns_type type,
    char ***rrs_r, size_t *n_r)
{
	static char any4_0[] = "0.0.0.0", any4_1[] = "128.0.0.0";
	static char any6_0[] = "::", any6_1[] = "8000::";
	struct adns_budget *b = cur_eval != NULL ? cur_eval->budget : NULL;
	size_t nl = strlen(name), sl = strlen("." SPFSYNTAX_CIDR0_SUFFIX);
	char base[NS_MAXDNAME], **hosts = NULL, **addrs, *found[64];
	const char *kind;
	size_t nh = 0, na, nf = 0;
	enum adns_rc rc = ADNS_OK;
	bool is_mx, is_zero;

	*rrs_r = NULL;
	*n_r = 0;
	if ((type != ns_t_a && type != ns_t_aaaa) || nl - sl >= sizeof(base))
		return ADNS_NODATA;
	memcpy(base, name, nl - sl);
	base[nl - sl] = '\0';
	if ((kind = strrchr(base, '.')) == NULL)
		return ADNS_NXDOMAIN;
	base[kind - base] = '\0';
	kind++;
	is_mx = strncasecmp(kind, "mx", 2) == 0;
	is_zero = strchr(kind, type == ns_t_a ? '4' : '6') != NULL;
	if (is_mx) {
		if ((rc = adns_query(st->dns, base, ADNS_MX, b, &hosts, &nh)) !=
		    ADNS_OK)
			return rc;
	} else {
		char *one[] = { base };

		hosts = adns_pack(one, 1);
		nh = 1;
	}
	for (size_t i = 0; i < nh && i < 10; i++) {
		enum adns_rc hr = adns_query(st->dns, hosts[i],
		    (enum adns_type)type, b, &addrs, &na);

		if (hr == ADNS_TEMPFAIL || (!is_mx && hr != ADNS_OK)) {
			rc = hr;
			break;
		}
		for (size_t j = 0; hr == ADNS_OK && j < na && nf < 64; j++)
			found[nf++] = strdup(addrs[j]);
		if (hr == ADNS_OK)
			free(addrs);
	}
	free(hosts);
	if (rc == ADNS_OK && nf == 0)
		rc = ADNS_NODATA;
	if (rc == ADNS_OK && is_zero) {
		char *any[] = { type == ns_t_a ? any4_0 : any6_0,
		    type == ns_t_a ? any4_1 : any6_1 };

		*rrs_r = adns_pack(any, 2);
		*n_r = 2;
	} else if (rc == ADNS_OK) {
		*rrs_r = adns_pack(found, nf);
		*n_r = nf;
	}
	for (size_t i = 0; i < nf; i++)
		free(found[i]);
	return rc;
}

static SPF_dns_rr_t *
spf_dns_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type,
    int should_cache)
{
	struct spf_state *st = layer->hook;
	SPF_dns_rr_t *rr;
	char **rrs = NULL, **fixed = NULL;
	size_t n = 0, keep;
	enum adns_rc rc;

	if (type == ns_t_spf)	/* RFC 7208 3.1: TXT only */
		return SPF_dns_rr_new_init(layer, domain, type, 0, NO_DATA);
	if (spf_is_cidr0_name(domain))
		rc = spf_cidr0_query(st, domain, type, &rrs, &n);
	else
		rc = adns_query(st->dns, domain, (enum adns_type)type,
		    cur_eval != NULL ? cur_eval->budget : NULL, &rrs, &n);
	if (rc == ADNS_OK && type == ns_t_txt) {
		spf_fix_txt(rrs, n, &keep, &fixed);
		if (keep == 0) {
			rc = ADNS_NODATA;
			for (size_t i = 0; i < n; i++)
				free(fixed[i]);
			free(fixed);
			fixed = NULL;
		}
	}
	spf_note_answer(domain, type, rc, rrs, n);
	switch (rc) {
	case ADNS_OK:
		break;
	case ADNS_NODATA:
		free(rrs);
		return SPF_dns_rr_new_init(layer, domain, type, 0, NO_DATA);
	case ADNS_NXDOMAIN:
		free(rrs);
		return SPF_dns_rr_new_init(layer, domain, type, 0,
		    HOST_NOT_FOUND);
	case ADNS_TEMPFAIL:
	default:
		free(rrs);
		return SPF_dns_rr_new_init(layer, domain, type, 0, TRY_AGAIN);
	}
	rr = SPF_dns_rr_new_init(layer, domain, type, 60, NETDB_SUCCESS);
	if (rr == NULL)
		log_oom(sizeof(*rr), "spf rr");
	for (size_t i = 0; i < n; i++) {
		const char *s = fixed != NULL && fixed[i] != NULL ? fixed[i] :
		    rrs[i];
		size_t len;
		int idx = rr->num_rr;

		len = type == ns_t_a ? sizeof(struct in_addr) :
		    type == ns_t_aaaa ? sizeof(struct in6_addr) :
		    strlen(s) + 1;
		if (SPF_dns_rr_buf_realloc(rr, idx, len) != SPF_E_SUCCESS)
			log_oom(len, "spf rr");
		if (type == ns_t_a) {
			if (inet_pton(AF_INET, s, &rr->rr[idx]->a) != 1)
				continue;
		} else if (type == ns_t_aaaa) {
			if (inet_pton(AF_INET6, s, &rr->rr[idx]->aaaa) != 1)
				continue;
		} else {
			memcpy(rr->rr[idx]->txt, s, len);
		}
		rr->num_rr++;
	}
	for (size_t i = 0; fixed != NULL && i < n; i++)
		free(fixed[i]);
	free(fixed);
	free(rrs);
	return rr;
}

/* ---- evaluation ----------------------------------------------------- */

static enum auth_res
spf_map(SPF_result_t r, SPF_errcode_t err)
{
	switch (r) {
	case SPF_RESULT_PASS: return AUTH_PASS;
	case SPF_RESULT_FAIL: return AUTH_FAIL;
	case SPF_RESULT_SOFTFAIL: return AUTH_SOFTFAIL;
	case SPF_RESULT_NEUTRAL: return AUTH_NEUTRAL;
	case SPF_RESULT_NONE: return AUTH_NONE;
	case SPF_RESULT_TEMPERROR: return AUTH_TEMPERROR;
	case SPF_RESULT_PERMERROR: return AUTH_PERMERROR;
	case SPF_RESULT_INVALID:
	default:
		/* Debian's 1.2.10: a record that does not compile, or a
		 * failed TXT lookup, leaves INVALID plus the error. */
		return err == SPF_E_DNS_ERROR ? AUTH_TEMPERROR :
		    AUTH_PERMERROR;
	}
}

/* "::ffff:192.0.2.1" -> "192.0.2.1"; "IPv6:..." -> "..."; else as is. */
static const char *
spf_client_ip(const char *ip, char *buf, size_t bufsz)
{
	struct in6_addr a6;

	if (util_has_prefix_ci(ip, "IPv6:"))
		ip += 5;
	if (inet_pton(AF_INET6, ip, &a6) == 1 && IN6_IS_ADDR_V4MAPPED(&a6)) {
		if (inet_ntop(AF_INET, &a6.s6_addr[12], buf, bufsz) != NULL)
			return buf;
	}
	return ip;
}

/* The domain of an address: after the last '@', or the whole. */
static const char *
spf_domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : addr;
}

struct spf_answer {
	enum auth_res	 result;
	char		*explanation;	/* malloc'd or NULL */
	char		*why;		/* malloc'd or NULL: our reason */
};

/*
 * Evaluates sender (an address, or "" for the HELO identity) for ip and
 * helo within the message's DNS budget b.
 */
static void
spf_eval(struct spf_state *st, const char *ip_in, const char *helo,
    const char *sender, struct adns_budget *b, struct spf_answer *ans)
{
	SPF_request_t *req;
	SPF_response_t *resp = NULL;
	SPF_errcode_t err;
	struct spf_eval ev = { .budget = b };
	char ipbuf[INET6_ADDRSTRLEN];
	const char *ip = spf_client_ip(ip_in, ipbuf, sizeof(ipbuf));
	const char *exp;
	uint64_t t0;

	memset(ans, 0, sizeof(*ans));
	if ((req = SPF_request_new(st->server)) == NULL)
		log_oom(0, "spf request");
	err = strchr(ip, ':') != NULL ? SPF_request_set_ipv6_str(req, ip) :
	    SPF_request_set_ipv4_str(req, ip);
	if (err != SPF_E_SUCCESS) {
		ans->result = AUTH_NONE;
		if (asprintf(&ans->why, "client address %s: %s", ip,
		    SPF_strerror(err)) < 0)
			ans->why = NULL;
		SPF_request_free(req);
		return;
	}
	/* HELO first: the null sender's identity is postmaster@helo. */
	if (helo != NULL && *helo != '\0')
		SPF_request_set_helo_dom(req, helo);
	if (SPF_request_set_env_from(req, sender) != 0) {
		/* RFC 7208 4.3: a malformed domain gives none. */
		ans->result = AUTH_NONE;
		if (asprintf(&ans->why, "no valid domain in \"%s\"",
		    sender) < 0)
			ans->why = NULL;
		SPF_request_free(req);
		return;
	}
	t0 = util_now_us();
	cur_eval = &ev;
	err = SPF_request_query_mailfrom(req, &resp);
	cur_eval = NULL;
	t0 = (util_now_us() - t0) / 1000;
	ans->result = resp != NULL ? spf_map(SPF_response_result(resp), err) :
	    AUTH_TEMPERROR;
	if (ev.bad_record != NULL) {
		/* RFC 7208 4.6: a syntax error anywhere is permerror. */
		ans->result = AUTH_PERMERROR;
		if (asprintf(&ans->why, "record of %s: %s", ev.bad_record,
		    ev.bad_why) < 0)
			ans->why = NULL;
	} else if (ans->result != AUTH_TEMPERROR && ev.had_tempfail &&
	    ans->result != AUTH_PASS && ans->result != AUTH_FAIL &&
	    ans->result != AUTH_SOFTFAIL) {
		ans->result = AUTH_TEMPERROR;
	} else if (ans->result != AUTH_TEMPERROR &&
	    ans->result != AUTH_PERMERROR && ev.voids > 2) {
		ans->result = AUTH_PERMERROR;
		if (asprintf(&ans->why, "%u void lookups (limit 2)",
		    ev.voids) < 0)
			ans->why = NULL;
	}
	if (ans->result == AUTH_TEMPERROR && ans->why == NULL) {
		if (asprintf(&ans->why, "DNS lookups for %s failed after "
		    "%llums (DNSTimeout %llums)", spf_domain_of(*sender !=
		    '\0' ? sender : helo != NULL ? helo : "-"),
		    (unsigned long long)t0,
		    (unsigned long long)adns_timeout_ms(st->dns)) < 0)
			ans->why = NULL;
	}
	if (resp != NULL && ans->result == AUTH_FAIL &&
	    (exp = SPF_response_get_explanation(resp)) != NULL)
		ans->explanation = strdup(exp);
	free((void *)ev.bad_record);
	free(ev.bad_why);
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
}

/* ---- the check ------------------------------------------------------ */

static void *
spf_setup(struct snap *s, const char **err_r)
{
	static __thread char *last_err;
	const struct cfg *c = snap_cfg(s);
	const char *authserv = snap_core(s)->authserv_id;
	struct spf_state *st;
	char *err = NULL;

	free(last_err);
	last_err = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		log_oom(sizeof(*st), "spf state");
	st->is_enabled = cfg_bool(c, "SPFEnable");
	st->check_helo = cfg_bool(c, "SPFCheckHelo");
	st->reject_fail = cfg_bool(c, "SPFRejectFail");
	if ((st->dns = adns_from_cfg(c, &err)) == NULL) {
		last_err = err;
		*err_r = last_err != NULL ? last_err : "spf: DNS setup failed";
		free(st);
		return NULL;
	}
	st->dnsl.destroy = NULL;	/* ours: freed in teardown */
	st->dnsl.lookup = spf_dns_lookup;
	st->dnsl.name = "vigil";
	st->dnsl.hook = st;
	if ((st->server = SPF_server_new_dns(&st->dnsl, 0)) == NULL) {
		adns_free(&st->dns);
		free(st);
		*err_r = "spf: SPF_server_new_dns failed";
		return NULL;
	}
	if (authserv != NULL && *authserv != '\0')
		SPF_server_set_rec_dom(st->server, authserv);
	{
		SPF_response_t *resp = NULL;

		/* Spaces as the %_ macro: libspf2 mangles plain ones. */
		SPF_server_set_explanation(st->server,
		    "no%_explanation%_published", &resp);
		if (resp != NULL)
			SPF_response_free(resp);
	}
	return st;
}

static void
spf_teardown(void *state)
{
	struct spf_state *st = state;

	if (st == NULL)
		return;
	SPF_server_free(st->server);
	adns_free(&st->dns);
	free(st);
}

const struct auth_spf *
auth_spf(struct msg *m)
{
	return *msg_slot(m, &check_spf);
}

static void
spf_add_hit(struct msg *m, enum auth_res r, bool is_helo, const char *dom,
    const char *why)
{
	const char *name = is_helo ? spf_hits[r].helo : spf_hits[r].mailfrom;

	msg_add_hit(m, name, spf_hits[r].score, "%s%s%s", dom,
	    why != NULL ? ": " : "", why != NULL ? why : "");
}

static enum check_rc
spf_run(void *state, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	struct spf_state *st = state;
	struct arena *a = msg_arena(m);
	struct auth_spf *res;
	struct spf_answer ans;
	const char *ip = msg_client_addr(m), *helo = msg_helo(m);
	const char *from = msg_mail_from(m);
	struct adns_budget *budget;
	enum check_rc rc = CHECK_DONE;

	if (!st->is_enabled) {
		*why_r = "SPFEnable is off";
		return CHECK_SKIP;
	}
	if (msg_is_trusted(m)) {
		*why_r = "trusted or authenticated client";
		return CHECK_SKIP;
	}
	if (ip == NULL || *ip == '\0') {
		*why_r = "client address unknown";
		return CHECK_SKIP;
	}
	if (from == NULL)
		from = "";
	res = arena_alloc(a, sizeof(*res));
	res->helo = arena_strdup(a, helo);
	budget = auth_budget(m, st->dns);

	/* The MAIL FROM identity, or HELO's for the null sender. */
	spf_eval(st, ip, helo, from, budget, &ans);
	res->result = ans.result;
	res->identity = *from != '\0' ? "mailfrom" : "helo";
	res->sender = *from != '\0' ? arena_strdup(a, from) :
	    arena_printf(a, "postmaster@%s", helo != NULL ? helo : "");
	res->domain = arena_strdup(a, spf_domain_of(res->sender));
	res->explanation = arena_strdup(a, ans.explanation);
	*msg_slot(m, &check_spf) = res;
	spf_add_hit(m, ans.result, *from == '\0', res->domain, ans.why);
	log_msg(LOG_DEBUG, m, "check=spf identity=%s domain=%s result=%s%s%s",
	    res->identity, res->domain, auth_res_name(ans.result),
	    ans.explanation != NULL ? " exp=" : "",
	    ans.explanation != NULL ? ans.explanation : "");
	if (ans.result == AUTH_TEMPERROR) {
		*why_r = arena_printf(a, "spf: %s", ans.why != NULL ?
		    ans.why : "temporary DNS failure");
		rc = CHECK_TEMPFAIL;
	}
	free(ans.explanation);
	free(ans.why);

	/* HELO as its own identity, when asked and not done above. */
	if (st->check_helo && *from != '\0' && helo != NULL && *helo != '\0') {
		spf_eval(st, ip, helo, "", budget, &ans);
		res->helo_checked = true;
		res->helo_result = ans.result;
		spf_add_hit(m, ans.result, true, helo, ans.why);
		free(ans.explanation);
		free(ans.why);
	}

	if (st->reject_fail && res->result == AUTH_FAIL)
		msg_force_action(m, ACTION_REJECT, "550", "5.7.23",
		    arena_printf(a, "SPF: %s is not allowed to send mail "
		    "from %s", spf_client_ip(ip, (char[INET6_ADDRSTRLEN]){0},
		    INET6_ADDRSTRLEN), res->domain), "spf");
	(void)phase;
	return rc;
}

const struct check check_spf = {
	.name = "spf",
	.phases = PHASE_ENVFROM,
	.is_content = 0,
	.setup = spf_setup,
	.run = spf_run,
	.teardown = spf_teardown,
};
