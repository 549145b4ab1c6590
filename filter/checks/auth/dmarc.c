/*
 * dmarc.c - DMARC (RFC 7489) from the SPF and DKIM results and the From
 * domain, with libopendmarc parsing the record and deciding the policy.
 *
 * vigil finds the record itself (authdns.c, within the message's DNS
 * budget) and corrects two things Debian's libopendmarc 1.4.2 gets
 * wrong: alignment is re-checked here (its strict mode passes a
 * subdomain once the PSL is loaded), and a record with rua= but no valid
 * p= acts as p=none (RFC 7489 6.6.3).  pct= sampling is applied here.
 *
 * Owns: the From-domain cache and the result in the message's slot.
 * The public suffix list is process-wide and read-only once loaded.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <libpsl.h>
#include <opendmarc/dmarc.h>

#include "cfg.h"
#include "check.h"
#include "mime.h"
#include "msg.h"
#include "snap.h"
#include "checks/auth/auth.h"
#include "lib/log.h"
#include "lib/util.h"

extern const struct check check_dmarc;

const struct opt dmarc_opts[] = {
	{ "DMARCEnable", OPT_BOOL, "yes", 0, 0, NULL,
	  "Evaluate DMARC (RFC 7489) from the SPF and DKIM results" },
	{ "DMARCEnforce", OPT_ENUM, "none", 0, 0, "none|quarantine|reject",
	  "Strictest DMARC policy vigil acts on: a failing message whose "
	  "domain asks for it is quarantined or rejected" },
	{ "DMARCRejectMultiFrom", OPT_BOOL, "yes", 0, 0, NULL,
	  "Reject (550 5.7.1) a message whose From addresses (one field or "
	  "several) name more than one domain; no: evaluate every domain and "
	  "apply the strictest result (RFC 7489 6.6.1)" },
	{ NULL }
};

struct dmarc_state {
	struct adns	*dns;
	bool		 is_enabled;
	bool		 is_multi_reject;	/* DMARCRejectMultiFrom */
	enum dmarc_policy enforce;
};

struct dmarc_slot {
	struct adns_budget budget;	/* shared by SPF, DKIM and DMARC */
	bool		 from_parsed;
	const char	*from_domain;	/* the one author domain, or NULL */
	const char	**from_domains;	/* every distinct one, in order */
	size_t		 nfrom_domains;
	size_t		 nfrom_fields;	/* From fields */
	size_t		 nfrom_bad;	/* fields or addresses without a domain */
	struct auth_dmarc *res;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static psl_ctx_t *psl;

static void
dmarc_lib_init(void)
{
	static OPENDMARC_LIB_T lib;

	/* The library's own TLD handling stays off: alignment is ours. */
	lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
	(void)opendmarc_policy_library_init(&lib);	/* only copies lib */
	if ((psl = psl_latest(NULL)) == NULL)
		psl = (psl_ctx_t *)psl_builtin();
}

/* ---- alignment --------------------------------------------------------- */

/* Lower case, no leading or trailing dots; false if nothing is left. */
static bool
dom_normalize(const char *in, char *out, size_t outsz)
{
	size_t n;

	in += strspn(in, ".");
	n = strlen(in);
	while (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n >= outsz)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return true;
}

/* The organizational domain (RFC 7489 3.2), or the name itself when it
 * is a public suffix. */
static const char *
dom_org(const char *d)
{
	const char *r;

	pthread_once(&lib_once, dmarc_lib_init);
	r = psl != NULL ? psl_registrable_domain(psl, d) : NULL;
	return r != NULL ? r : d;
}

bool
dmarc_is_aligned(const char *sub, const char *dom, bool strict)
{
	char a[256], b[256];

	if (sub == NULL || dom == NULL || !dom_normalize(sub, a, sizeof(a)) ||
	    !dom_normalize(dom, b, sizeof(b)))
		return false;
	if (strcmp(a, b) == 0)
		return true;
	if (strict || strstr(a, "..") != NULL || strstr(b, "..") != NULL)
		return false;
	return strcmp(dom_org(a), dom_org(b)) == 0;
}

/* ---- evaluation ---------------------------------------------------------- */

static const struct {
	int		 v;
	const char	*n;
} dmarc_names[] = {
#define N(x)	{ x, #x }
	N(DMARC_PARSE_OKAY), N(DMARC_PARSE_ERROR_EMPTY),
	N(DMARC_PARSE_ERROR_NULL_CTX), N(DMARC_PARSE_ERROR_BAD_VERSION),
	N(DMARC_PARSE_ERROR_BAD_VALUE), N(DMARC_PARSE_ERROR_NO_REQUIRED_P),
	N(DMARC_PARSE_ERROR_NO_DOMAIN), N(DMARC_PARSE_ERROR_NO_ALLOC),
	N(DMARC_PARSE_ERROR_BAD_SPF_MACRO), N(DMARC_DNS_ERROR_NO_RECORD),
	N(DMARC_DNS_ERROR_NXDOMAIN), N(DMARC_DNS_ERROR_TMPERR),
	N(DMARC_TLD_ERROR_UNKNOWN), N(DMARC_FROM_DOMAIN_ABSENT),
	N(DMARC_POLICY_ABSENT), N(DMARC_POLICY_PASS), N(DMARC_POLICY_REJECT),
	N(DMARC_POLICY_QUARANTINE), N(DMARC_POLICY_NONE),
#undef N
};

static const char *
dmarc_status_name(int v)
{
	for (size_t i = 0; i < NELEM(dmarc_names); i++)
		if (dmarc_names[i].v == v)
			return dmarc_names[i].n;
	return "DMARC_UNKNOWN_STATUS";
}

const char *
dmarc_parse_status(const char *domain, const char *record)
{
	DMARC_POLICY_T *p;
	int st;

	pthread_once(&lib_once, dmarc_lib_init);
	p = opendmarc_policy_connect_init((u_char *)"192.0.2.1",
	    DMARC_POLICY_IP_TYPE_IPV4);
	if (p == NULL)
		log_oom(0, "dmarc policy");
	st = opendmarc_policy_parse_dmarc(p, (u_char *)domain,
	    (u_char *)record);
	opendmarc_policy_connect_shutdown(p);
	return dmarc_status_name(st);
}

/* Does the record have a rua= tag with a mailto: URI? */
static bool
has_rua(const char *rec)
{
	for (const char *p = rec; (p = strcasestr(p, "rua")) != NULL; p++) {
		const char *q = p + 3;

		if (p != rec && p[-1] != ';' && p[-1] != ' ' && p[-1] != '\t')
			continue;
		q += strspn(q, " \t");
		if (*q != '=')
			continue;
		q++;
		q += strspn(q, " \t");
		if (strncasecmp(q, "mailto:", 7) == 0 && q[7] != '\0' &&
		    q[7] != ';')
			return true;
	}
	return false;
}

static enum dmarc_policy
policy_of(int p)
{
	switch (p) {
	case DMARC_RECORD_P_REJECT: return DMARC_P_REJECT;
	case DMARC_RECORD_P_QUARANTINE: return DMARC_P_QUARANTINE;
	default: return DMARC_P_NONE;
	}
}

bool
dmarc_evaluate(const struct dmarc_input *in, unsigned roll,
    struct auth_dmarc *out)
{
	DMARC_POLICY_T *p;
	const char *org = NULL;
	char *fixed = NULL;
	int st, lib_res, adkim = 0, aspf = 0, pp = 0, sp = 0, pct = 100;
	bool is_sub;

	pthread_once(&lib_once, dmarc_lib_init);
	memset(out, 0, sizeof(*out));
	out->from_domain = in->from_domain;
	out->record_domain = in->record_domain;
	is_sub = in->record_domain != NULL &&
	    strcasecmp(in->record_domain, in->from_domain) != 0;
	if (is_sub)
		org = in->record_domain;

	/* Parse and store the record; rua= without p= acts as p=none. */
	p = opendmarc_policy_connect_init((u_char *)"192.0.2.1",
	    DMARC_POLICY_IP_TYPE_IPV4);
	if (p == NULL)
		log_oom(0, "dmarc policy");
	opendmarc_policy_store_from_domain(p, (u_char *)in->from_domain);
	st = opendmarc_policy_store_dmarc(p, (u_char *)in->record,
	    (u_char *)in->from_domain, (u_char *)org);
	if (st == DMARC_PARSE_ERROR_NO_REQUIRED_P && has_rua(in->record)) {
		opendmarc_policy_connect_shutdown(p);
		if (asprintf(&fixed, "%s; p=none", in->record) < 0)
			log_oom(strlen(in->record), "dmarc record");
		p = opendmarc_policy_connect_init((u_char *)"192.0.2.1",
		    DMARC_POLICY_IP_TYPE_IPV4);
		if (p == NULL)
			log_oom(0, "dmarc policy");
		opendmarc_policy_store_from_domain(p,
		    (u_char *)in->from_domain);
		st = opendmarc_policy_store_dmarc(p, (u_char *)fixed,
		    (u_char *)in->from_domain, (u_char *)org);
		free(fixed);
	}
	if (st != DMARC_PARSE_OKAY) {
		opendmarc_policy_connect_shutdown(p);
		out->result = AUTH_PERMERROR;
		out->why = dmarc_status_name(st);
		return false;
	}

	/* The results it decides from. */
	for (size_t i = 0; i < in->ndkim; i++) {
		int o = in->dkim_results[i] == AUTH_PASS ?
		    DMARC_POLICY_DKIM_OUTCOME_PASS :
		    in->dkim_results[i] == AUTH_FAIL ?
		    DMARC_POLICY_DKIM_OUTCOME_FAIL :
		    in->dkim_results[i] == AUTH_TEMPERROR ?
		    DMARC_POLICY_DKIM_OUTCOME_TMPFAIL :
		    DMARC_POLICY_DKIM_OUTCOME_NONE;

		opendmarc_policy_store_dkim(p, (u_char *)in->dkim_domains[i],
		    (u_char *)"-", o, (u_char *)"");
	}
	if (in->spf_domain != NULL)
		opendmarc_policy_store_spf(p, (u_char *)in->spf_domain,
		    in->spf_result == AUTH_PASS ? DMARC_POLICY_SPF_OUTCOME_PASS :
		    in->spf_result == AUTH_TEMPERROR ?
		    DMARC_POLICY_SPF_OUTCOME_TMPFAIL :
		    in->spf_result == AUTH_NONE ? DMARC_POLICY_SPF_OUTCOME_NONE :
		    DMARC_POLICY_SPF_OUTCOME_FAIL,
		    DMARC_POLICY_SPF_ORIGIN_MAILFROM, (u_char *)"");
	lib_res = opendmarc_get_policy_to_enforce(p);
	opendmarc_policy_fetch_adkim(p, &adkim);
	opendmarc_policy_fetch_aspf(p, &aspf);
	opendmarc_policy_fetch_p(p, &pp);
	opendmarc_policy_fetch_sp(p, &sp);
	opendmarc_policy_fetch_pct(p, &pct);
	opendmarc_policy_connect_shutdown(p);

	/* Alignment, re-checked (libopendmarc 1.4.2's strict mode is wrong). */
	for (size_t i = 0; i < in->ndkim && !out->dkim_aligned; i++)
		out->dkim_aligned = in->dkim_results[i] == AUTH_PASS &&
		    dmarc_is_aligned(in->dkim_domains[i], in->from_domain,
		    adkim == DMARC_RECORD_A_STRICT);
	out->spf_aligned = in->spf_domain != NULL &&
	    in->spf_result == AUTH_PASS &&
	    dmarc_is_aligned(in->spf_domain, in->from_domain,
	    aspf == DMARC_RECORD_A_STRICT);

	out->policy = policy_of(is_sub && sp != DMARC_RECORD_P_UNSPECIFIED ?
	    sp : pp);
	if (out->dkim_aligned || out->spf_aligned) {
		out->result = AUTH_PASS;
		out->applied = DMARC_P_NONE;
		out->why = out->dkim_aligned ? "aligned DKIM pass" :
		    "aligned SPF pass";
		return true;
	}
	out->result = AUTH_FAIL;
	out->applied = out->policy;
	if (pct >= 0 && pct < 100 && roll >= (unsigned)pct &&
	    out->applied != DMARC_P_NONE)
		out->applied--;		/* not sampled: one step down (6.6.4) */
	out->why = lib_res == DMARC_POLICY_PASS ?
	    "no aligned pass (libopendmarc's pass corrected)" :
	    "no aligned SPF or DKIM pass";
	return true;
}

/* ---- From domain ------------------------------------------------------------ */

static struct dmarc_slot *
dmarc_slot_get(struct msg *m)
{
	void **slot = msg_slot(m, &check_dmarc);

	if (*slot == NULL)
		*slot = arena_alloc(msg_arena(m), sizeof(struct dmarc_slot));
	return *slot;
}

static void
from_domains_free(void *p)
{
	g_hash_table_destroy(p);
}

/*
 * Adds the domain of one From address to the author domains, lower case,
 * once each in the order met; an address without one counts as bad.
 * The members of a group (RFC 6854: "From: list: a@x, b@y;") are authors
 * like any other address, or a group would hide a domain from DMARC; a
 * group without members, or one inside another, counts as bad.
 */
static void
from_add(struct arena *a, struct dmarc_slot *sl, GHashTable **seen,
    size_t *cap, InternetAddress *ia, bool in_group)
{
	const char *addr = NULL, *at;
	char dom[256];

	if (ia != NULL && INTERNET_ADDRESS_IS_GROUP(ia) && !in_group) {
		InternetAddressList *members = internet_address_group_get_members(
		    INTERNET_ADDRESS_GROUP(ia));
		int n = members != NULL ?
		    internet_address_list_length(members) : 0;

		if (n == 0)
			sl->nfrom_bad++;
		for (int k = 0; k < n; k++)
			from_add(a, sl, seen, cap,
			    internet_address_list_get_address(members, k), true);
		return;
	}
	if (ia != NULL && INTERNET_ADDRESS_IS_MAILBOX(ia))
		addr = internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(ia));
	if (addr == NULL || (at = strrchr(addr, '@')) == NULL ||
	    !dom_normalize(at + 1, dom, sizeof(dom))) {
		sl->nfrom_bad++;
		return;
	}
	if (*seen == NULL) {
		*seen = g_hash_table_new(g_str_hash, g_str_equal);
		arena_defer(a, from_domains_free, *seen);
	}
	if (g_hash_table_contains(*seen, dom))
		return;
	sl->from_domains = arena_grow(a, sl->from_domains, sl->nfrom_domains,
	    cap, sizeof(char *));
	sl->from_domains[sl->nfrom_domains] = arena_strdup(a, dom);
	g_hash_table_add(*seen, (char *)sl->from_domains[sl->nfrom_domains]);
	sl->nfrom_domains++;
}

/*
 * Every author domain of the message (RFC 7489 6.6.1): each address of
 * each From field, group members included.  A field that does not
 * parse, an empty group, or an address without a domain counts as bad.
 */
static void
from_parse(struct msg *m, struct dmarc_slot *sl)
{
	struct arena *a = msg_arena(m);
	GHashTable *seen = NULL;
	size_t cap = 0;

	mime_init();	/* GMime's parser options; once per process */
	for (size_t i = 0; i < msg_hdr_count(m); i++) {
		const struct mhdr *h = msg_hdr(m, i);
		InternetAddressList *list;
		int n;

		if (strcasecmp(h->name, "From") != 0)
			continue;
		sl->nfrom_fields++;
		list = internet_address_list_parse(NULL, h->raw);
		n = list != NULL ? internet_address_list_length(list) : 0;
		if (n == 0)
			sl->nfrom_bad++;
		for (int k = 0; k < n; k++)
			from_add(a, sl, &seen, &cap,
			    internet_address_list_get_address(list, k), false);
		if (list != NULL)
			g_object_unref(list);
	}
	if (sl->nfrom_domains == 1 && sl->nfrom_bad == 0)
		sl->from_domain = sl->from_domains[0];
}

static struct dmarc_slot *
from_get(struct msg *m)
{
	struct dmarc_slot *sl = dmarc_slot_get(m);

	if (!sl->from_parsed) {
		sl->from_parsed = true;
		from_parse(m, sl);
	}
	return sl;
}

const char *
auth_from_domain(struct msg *m)
{
	return from_get(m)->from_domain;
}

struct adns_budget *
auth_budget(struct msg *m, const struct adns *r)
{
	struct dmarc_slot *sl = dmarc_slot_get(m);

	if (!sl->budget.is_set) {
		sl->budget.is_set = true;
		sl->budget.left_us = adns_timeout_ms(r) * 1000;
		adns_budget_keep(&sl->budget, msg_arena(m));
	}
	return &sl->budget;
}

const struct auth_dmarc *
auth_dmarc(struct msg *m)
{
	struct dmarc_slot *sl = *msg_slot(m, &check_dmarc);

	return sl != NULL ? sl->res : NULL;
}

/* ---- the check ------------------------------------------------------------ */

/* The one v=DMARC1 record at _dmarc.domain, if any. */
static enum adns_rc
record_at(struct dmarc_state *st, struct msg *m, const char *domain,
    struct adns_budget *b, const char **rec_r)
{
	char name[300], **rrs;
	size_t n, nrec = 0;
	enum adns_rc rc;

	*rec_r = NULL;
	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	rc = adns_query(st->dns, name, ADNS_TXT, b, &rrs, &n);
	if (rc != ADNS_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const char *r = rrs[i] + strspn(rrs[i], " \t");

		if (strncmp(r, "v=DMARC1", 8) == 0 &&
		    (r[8] == ';' || r[8] == ' ' || r[8] == '\t' ||
		    r[8] == '\0')) {
			*rec_r = arena_strdup(msg_arena(m), r);
			nrec++;
		}
	}
	free(rrs);
	if (nrec != 1) {	/* none, or several: no policy (6.6.3) */
		*rec_r = NULL;
		return ADNS_NODATA;
	}
	return ADNS_OK;
}

static void *
dmarc_setup(struct snap *s, const char **err_r)
{
	static __thread char *last_err;
	const struct cfg *c = snap_cfg(s);
	struct dmarc_state *st;
	char *err = NULL;

	free(last_err);
	last_err = NULL;
	pthread_once(&lib_once, dmarc_lib_init);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		log_oom(sizeof(*st), "dmarc state");
	st->is_enabled = cfg_bool(c, "DMARCEnable");
	st->enforce = (enum dmarc_policy)cfg_enum(c, "DMARCEnforce");
	st->is_multi_reject = cfg_bool(c, "DMARCRejectMultiFrom");
	if ((st->dns = adns_from_cfg(c, &err)) == NULL) {
		last_err = err;
		*err_r = last_err != NULL ? last_err : "dmarc: DNS setup failed";
		free(st);
		return NULL;
	}
	return st;
}

static void
dmarc_teardown(void *state)
{
	struct dmarc_state *st = state;

	if (st == NULL)
		return;
	adns_free(&st->dns);
	free(st);
}

static const char *const fail_hits[] = {
	[DMARC_P_NONE] = "DMARC_FAIL_NONE",
	[DMARC_P_QUARANTINE] = "DMARC_FAIL_QUARANTINE",
	[DMARC_P_REJECT] = "DMARC_FAIL_REJECT",
};
static const double fail_scores[] = { 0.1, 1.5, 3.0 };

/* What one author domain came to, from the mildest to the strictest. */
enum dm_outcome {
	DM_PASS,
	DM_NONE,		/* no record */
	DM_UNUSABLE,		/* a record that does not parse */
	DM_FAIL_NONE,
	DM_TEMP,		/* could have failed: DNS, SPF or DKIM */
	DM_FAIL_QUARANTINE,
	DM_FAIL_REJECT,
};

/* The input SPF and DKIM give every domain; temp_r: any temporary error. */
static void
dm_input(struct msg *m, struct dmarc_input *in, bool *temp_r)
{
	struct arena *a = msg_arena(m);
	const struct auth_spf *spf = auth_spf(m);
	const struct auth_dkim *dk = auth_dkim(m);

	*temp_r = false;
	if (spf != NULL) {
		in->spf_domain = spf->domain;
		in->spf_result = spf->result;
		*temp_r |= spf->result == AUTH_TEMPERROR;
	}
	if (dk != NULL && dk->nsigs > 0) {
		const char **doms = arena_alloc(a, dk->nsigs * sizeof(char *));
		enum auth_res *rs = arena_alloc(a, dk->nsigs * sizeof(*rs));

		for (size_t i = 0; i < dk->nsigs; i++) {
			doms[i] = dk->sigs[i].domain;
			rs[i] = dk->sigs[i].result;
			*temp_r |= rs[i] == AUTH_TEMPERROR;
		}
		in->ndkim = dk->nsigs;
		in->dkim_domains = doms;
		in->dkim_results = rs;
	}
}

/* Evaluates one author domain into *res; *why_r on DM_TEMP. */
static enum dm_outcome
dm_domain(struct dmarc_state *st, struct msg *m, const char *from,
    struct auth_dmarc *res, const char **why_r)
{
	struct arena *a = msg_arena(m);
	struct adns_budget *budget = auth_budget(m, st->dns);
	struct dmarc_input in = { 0 };
	const char *rec, *org;
	enum adns_rc rc;
	unsigned roll = 0;
	bool temp_inputs;

	res->from_domain = from;
	/* Policy discovery: the From domain, then its organizational one. */
	rc = record_at(st, m, from, budget, &rec);
	in.record_domain = from;
	if (rc == ADNS_NODATA || rc == ADNS_NXDOMAIN) {
		org = dom_org(from);
		if (strcmp(org, from) != 0) {
			rc = record_at(st, m, org, budget, &rec);
			in.record_domain = arena_strdup(a, org);
		}
	}
	if (rc == ADNS_TEMPFAIL) {
		res->result = AUTH_TEMPERROR;
		res->why = "DNS lookup failed";
		*why_r = arena_printf(a, "dmarc: lookup of _dmarc.%s failed or "
		    "took longer than %llums", from,
		    (unsigned long long)adns_timeout_ms(st->dns));
		return DM_TEMP;
	}
	if (rc != ADNS_OK) {
		res->why = "no DMARC record";
		return DM_NONE;
	}

	/* Evaluate against what SPF and DKIM found. */
	in.from_domain = from;
	in.record = rec;
	dm_input(m, &in, &temp_inputs);
	if (!util_random(&roll, sizeof(roll)))
		roll = 0;
	roll %= 100;
	if (!dmarc_evaluate(&in, roll, res)) {
		res->record_domain = in.record_domain;
		return DM_UNUSABLE;
	}
	res->record_domain = in.record_domain;
	if (res->result == AUTH_FAIL && temp_inputs) {
		/* It might have passed: SPF or DKIM could not finish. */
		res->result = AUTH_TEMPERROR;
		*why_r = arena_printf(a, "dmarc: %s: SPF or DKIM had a "
		    "temporary error", from);
		return DM_TEMP;
	}
	log_msg(LOG_DEBUG, m, "check=dmarc from=%s record=%s result=%s "
	    "policy=%d applied=%d why=\"%s\"", from, res->record_domain,
	    auth_res_name(res->result), res->policy, res->applied, res->why);
	if (res->result == AUTH_PASS)
		return DM_PASS;
	return res->applied == DMARC_P_REJECT ? DM_FAIL_REJECT :
	    res->applied == DMARC_P_QUARANTINE ? DM_FAIL_QUARANTINE :
	    DM_FAIL_NONE;
}

/* The findings and the enforced action of the outcome that counts. */
static enum check_rc
dm_apply(struct dmarc_state *st, struct msg *m, enum dm_outcome o,
    const struct auth_dmarc *res)
{
	struct arena *a = msg_arena(m);
	const char *from = res->from_domain;

	switch (o) {
	case DM_PASS:
		msg_add_hit(m, "DMARC_PASS", -0.1, "%s", from);
		return CHECK_DONE;
	case DM_NONE:
		msg_add_hit(m, "DMARC_MISSING", 0.0, "%s: no record", from);
		return CHECK_DONE;
	case DM_UNUSABLE:
		msg_add_hit(m, "DMARC_MISSING", 0.0, "%s: unusable record: %s",
		    res->record_domain, res->why);
		return CHECK_DONE;
	case DM_TEMP:
		msg_add_hit(m, "DMARC_TEMPERROR", 0.0, "%s", from);
		return CHECK_TEMPFAIL;
	default:
		break;
	}
	msg_add_hit(m, fail_hits[res->applied], fail_scores[res->applied],
	    "%s: %s", from, res->why);

	/* The enforced policy decides when the score alone would not. */
	if (res->applied == DMARC_P_REJECT && st->enforce == DMARC_P_REJECT)
		msg_force_action(m, ACTION_REJECT, "550", "5.7.1",
		    arena_printf(a, "rejected by the DMARC policy of %s",
		    from), "dmarc");
	else if (res->applied >= DMARC_P_QUARANTINE &&
	    st->enforce >= DMARC_P_QUARANTINE)
		msg_force_action(m, ACTION_QUARANTINE, NULL, NULL, NULL,
		    "dmarc");
	return CHECK_DONE;
}

static enum check_rc
dmarc_run(void *state, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	struct dmarc_state *st = state;
	struct arena *a = msg_arena(m);
	struct dmarc_slot *sl;
	struct auth_dmarc *res;
	enum dm_outcome worst = DM_PASS;
	const char *worst_why = NULL;

	(void)phase;
	if (!st->is_enabled) {
		*why_r = "DMARCEnable is off";
		return CHECK_SKIP;
	}
	if (msg_is_trusted(m)) {
		*why_r = "trusted or authenticated client";
		return CHECK_SKIP;
	}
	if (msg_client_addr(m) == NULL) {
		*why_r = "no client address (local submission, or an offline "
		    "scan without --ip)";
		return CHECK_SKIP;
	}
	sl = from_get(m);
	res = sl->res = arena_alloc(a, sizeof(*res));
	if (sl->nfrom_fields == 0) {
		res->why = "no From field";
		msg_add_hit(m, "DMARC_MISSING", 0.0, "%s", res->why);
		return CHECK_DONE;
	}
	/* A From that names no author: nothing to evaluate, and suspect. */
	if (sl->nfrom_bad > 0)
		msg_add_hit(m, "DMARC_FROM_UNPARSEABLE", 3.0, "%zu of the From "
		    "field's addresses have no domain", sl->nfrom_bad);
	if (sl->nfrom_domains == 0) {
		res->result = AUTH_PERMERROR;
		res->why = "no From address with a domain";
		return CHECK_DONE;
	}
	/* Several author domains: refused, or each one evaluated. */
	if (sl->nfrom_domains > 1) {
		msg_add_hit(m, "DMARC_MULTI_FROM", 3.0, "From names %zu domains: "
		    "%s, %s%s", sl->nfrom_domains, sl->from_domains[0],
		    sl->from_domains[1], sl->nfrom_domains > 2 ? ", ..." : "");
		if (st->is_multi_reject) {
			res->result = AUTH_PERMERROR;
			res->from_domain = sl->from_domains[0];
			res->why = "From names several domains";
			msg_force_action(m, ACTION_REJECT, "550", "5.7.1",
			    "several author domains in From are not accepted",
			    "dmarc");
			return CHECK_DONE;
		}
	}
	for (size_t i = 0; i < sl->nfrom_domains; i++) {
		struct auth_dmarc *r = arena_alloc(a, sizeof(*r));
		const char *why = NULL;
		enum dm_outcome o = dm_domain(st, m, sl->from_domains[i], r, &why);

		if (i == 0 || o > worst) {
			worst = o;
			worst_why = why;
			sl->res = res = r;
		}
	}
	if (worst == DM_TEMP)
		*why_r = worst_why;
	return dm_apply(st, m, worst, res);
}

const struct check check_dmarc = {
	.name = "dmarc",
	.phases = PHASE_EOM,
	.is_content = 0,
	.setup = dmarc_setup,
	.run = dmarc_run,
	.teardown = dmarc_teardown,
};
