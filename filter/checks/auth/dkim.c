/*
 * dkim.c - DKIM verification (RFC 6376, RSA and ed25519 per RFC 8463)
 * with libopendkim, fed as the headers and body stream in.
 *
 * Up to DKIMMaxSignatures signatures are verified, the author domain's
 * first, as OpenDKIM's MaximumSignaturesToVerify does: each costs a key
 * lookup and a hash, and a message can carry thousands.  The rest are
 * counted (hit DKIM_SIGS_UNVERIFIED), not reported.  A malformed one
 * does not abort the others (DKIM_LIBFLAGS_BADSIGHANDLES).  Keys come
 * through vigil's resolver (authdns.c) within the message's DNS budget;
 * a key published as a bare PKCS#1 RSAPublicKey, which libopendkim
 * cannot load, is handed over as the SubjectPublicKeyInfo it stands for.
 *
 * Owns: the DKIM_LIB (per snapshot); the DKIM handle and the result in
 * the message's slot (per message, freed through the arena).
 */
#include <sys/types.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <opendkim/dkim.h>

#include "cfg.h"
#include "check.h"
#include "msg.h"
#include "snap.h"
#include "checks/auth/auth.h"
#include "lib/log.h"
#include "lib/util.h"

extern const struct check check_dkim;

const struct opt dkim_opts[] = {
	{ "DKIMEnable", OPT_BOOL, "yes", 0, 0, NULL,
	  "Verify DKIM signatures (RFC 6376, RSA and ed25519)" },
	{ "DKIMMinKeyBits", OPT_INT, "1024", 512, 16384, NULL,
	  "Smallest RSA key accepted (RFC 8301: 1024); smaller keys give "
	  "dkim=policy" },
	{ "DKIMClockDrift", OPT_DURATION, "300s", 0, 4e12, NULL,
	  "Tolerated clock difference for the t= and x= tags" },
	{ "DKIMMaxSignatures", OPT_INT, "5", 1, 1000, NULL,
	  "Signatures verified at most per message, the author domain's "
	  "first; more: hit DKIM_SIGS_UNVERIFIED" },
	{ NULL }
};

struct dkim_state {
	DKIM_LIB	*lib;
	struct adns	*dns;
	int		 max_sigs;
	bool		 is_enabled;
};

/* Per message, in the check's slot until EOM, then the result. */
struct dk_msg {
	struct dkim_state *st;
	DKIM		*d;
	struct adns_budget *budget;
	bool		 is_skipped;	/* trusted, disabled or no signature */
	bool		 did_eoh;
	const char	*error;		/* whole-message failure */
	struct arena	*arena;
	struct msg	*m;
	/* "d/s" of keys whose lookup failed temporarily, ';'-joined */
	char		*tempfail_keys;
	size_t		 nsig_fields;	/* DKIM-Signature fields seen */
	size_t		 nsig_withheld;	/* not given to libopendkim */
	/* Withheld fields, for the author domain's at end of headers. */
	const char	**withheld;
	size_t		 nwithheld, withheld_cap;
};

/*
 * DKIM-Signature fields given to libopendkim as they come, as a multiple
 * of DKIMMaxSignatures: it holds each one it is given (some 16 to 25 KB
 * apiece, not all given back when the message ends), so 1000 of them cost
 * 25 MB a message.  Past it a field is withheld; at the end of the
 * headers the author domain's withheld ones (up to DKIMMaxSignatures) are
 * given all the same, and the rest are counted as not verified.
 */
#define DK_FEED_FACTOR	4
#define DK_FEED_MIN	20

/* The slot holds a dk_msg until EOM, then an auth_dkim. */
struct dk_slot {
	struct dk_msg	*dm;
	struct auth_dkim *res;
};

/* ---- key lookup ------------------------------------------------------ */

/*
 * RFC 6376 3.6.1 says p= is a SubjectPublicKeyInfo; some publishers put
 * a PKCS#1 RSAPublicKey there, which other verifiers accept.  Returns a
 * malloc'd record with p= re-encoded, or NULL to keep the record.
 */
static char *
dk_fix_pkcs1(const char *rec)
{
	const char *p = rec, *v, *ve;
	unsigned char *der = NULL, *spki = NULL;
	const unsigned char *q;
	char *b64 = NULL, *clean = NULL, *out = NULL;
	EVP_PKEY *pk;
	int dlen, slen, pad = 0;
	size_t n = 0;

	/* Find the p= tag (tag-list: name "=" value ";"). */
	for (;;) {
		p += strspn(p, " \t\r\n;");
		if (*p == '\0')
			return NULL;
		if (p[0] == 'p' && p[strspn(p + 1, " \t") + 1] == '=')
			break;
		p += strcspn(p, ";");
	}
	v = strchr(p, '=') + 1;
	ve = v + strcspn(v, ";");
	if ((clean = malloc(ve - v + 1)) == NULL)
		log_oom(ve - v + 1, "dkim key");
	for (const char *c = v; c < ve; c++)
		if (strchr(" \t\r\n", *c) == NULL)
			clean[n++] = *c;
	clean[n] = '\0';
	if (n == 0 || n % 4 != 0)
		goto out;
	for (size_t i = n; i > 0 && clean[i - 1] == '='; i--)
		pad++;
	if ((der = malloc(n)) == NULL)
		log_oom(n, "dkim key");
	if ((dlen = EVP_DecodeBlock(der, (unsigned char *)clean, (int)n)) <= 0)
		goto out;
	dlen -= pad;
	/* A SubjectPublicKeyInfo is a SEQUENCE that opens with a SEQUENCE,
	 * an RSAPublicKey one that opens with an INTEGER: look before
	 * asking OpenSSL, whose decoders cost more than the verification. */
	{
		int hdr = dlen > 2 && der[0] == 0x30 ? (der[1] < 0x80 ? 2 :
		    2 + (der[1] & 0x7f)) : 0;

		if (hdr == 0 || hdr >= dlen || der[hdr] != 0x02)
			goto out;
	}
	q = der;
	if ((pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, dlen)) == NULL)
		goto out;
	slen = i2d_PUBKEY(pk, &spki);
	EVP_PKEY_free(pk);
	if (slen <= 0)
		goto out;
	if ((b64 = malloc(((size_t)slen + 2) / 3 * 4 + 1)) == NULL)
		log_oom((size_t)slen * 2, "dkim key");
	EVP_EncodeBlock((unsigned char *)b64, spki, slen);
	if (asprintf(&out, "%.*s%s%s", (int)(v - rec), rec, b64, ve) < 0)
		out = NULL;
out:
	OPENSSL_free(spki);
	free(der);
	free(clean);
	free(b64);
	return out;
}

/*
 * Does the signature's q= allow a DNS lookup?  RFC 6376 3.5: q= lists
 * methods ("dns/txt" is the only one defined); unknown ones are ignored,
 * and without a known one there is no key.  libopendkim checks q= only
 * for its own lookups, not for a lookup callback like ours.
 */
static bool
dk_is_dns_query(DKIM_SIGINFO *sig)
{
	const char *q = (const char *)dkim_sig_gettagvalue(sig, false,
	    (u_char *)"q");

	if (q == NULL)
		return true;
	while (*q != '\0') {
		size_t n;

		q += strspn(q, " \t\r\n:");
		n = strcspn(q, " \t\r\n:");
		if ((n == 3 && strncasecmp(q, "dns", 3) == 0) ||
		    (n >= 7 && strncasecmp(q, "dns/txt", 7) == 0 &&
		    (n == 7 || q[7] == ' ')))
			return true;
		q += n;
	}
	return false;
}

static DKIM_CBSTAT
dk_key_lookup(DKIM *d, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct dk_msg *dm = dkim_get_user_context(d);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	char name[1024], **rrs, *fixed;
	size_t n;
	enum adns_rc rc;

	if (dm == NULL || dom == NULL || sel == NULL)
		return DKIM_CBSTAT_ERROR;
	/* Each signature's key is a safe point: a message whose budget is
	 * spent verifies no more (the signature stays unverified). */
	if (msg_budget_spent())
		return DKIM_CBSTAT_TRYAGAIN;
	if (!dk_is_dns_query(sig))
		return DKIM_CBSTAT_NOTFOUND;	/* no key we can ask for */
	if ((size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", sel,
	    dom) >= sizeof(name))
		return DKIM_CBSTAT_NOTFOUND;
	rc = adns_query(dm->st->dns, name, ADNS_TXT, dm->budget, &rrs, &n);
	switch (rc) {
	case ADNS_OK:
		break;
	case ADNS_NODATA:
	case ADNS_NXDOMAIN:
		return DKIM_CBSTAT_NOTFOUND;
	case ADNS_TEMPFAIL:
	default:
		dm->tempfail_keys = arena_printf(dm->arena, "%s%s/%s;",
		    dm->tempfail_keys != NULL ? dm->tempfail_keys : "", dom,
		    sel);
		return DKIM_CBSTAT_TRYAGAIN;
	}
	fixed = dk_fix_pkcs1(rrs[0]);
	snprintf((char *)buf, buflen, "%s", fixed != NULL ? fixed : rrs[0]);
	free(fixed);
	free(rrs);
	return DKIM_CBSTAT_CONTINUE;
}

/*
 * Called once the signatures are parsed: keeps DKIMMaxSignatures of them,
 * those of the author domain (DMARC's) first, then the others in order,
 * and has libopendkim ignore the rest (no key lookup, no hashing).
 */
static DKIM_CBSTAT
dk_prescreen(DKIM *d, DKIM_SIGINFO **sigs, int nsigs)
{
	struct dk_msg *dm = dkim_get_user_context(d);
	const char *from;
	int max, kept = 0;

	if (dm == NULL || nsigs <= dm->st->max_sigs)
		return DKIM_CBSTAT_CONTINUE;
	max = dm->st->max_sigs;
	from = auth_from_domain(dm->m);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < nsigs; i++) {
			const char *dom = (const char *)dkim_sig_getdomain(
			    sigs[i]);
			bool is_author = from != NULL && dom != NULL &&
			    strcasecmp(dom, from) == 0;

			if ((dkim_sig_getflags(sigs[i]) &
			    DKIM_SIGFLAG_IGNORE) != 0 ||
			    is_author != (pass == 0))
				continue;
			if (kept < max)
				kept++;
			else
				dkim_sig_ignore(sigs[i]);
		}
	return DKIM_CBSTAT_CONTINUE;
}

/* ---- setup ------------------------------------------------------------ */

static void *
dk_setup(struct snap *s, const char **err_r)
{
	static __thread char *last_err;
	const struct cfg *c = snap_cfg(s);
	struct dkim_state *st;
	unsigned flags = DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_ACCEPTV05 |
	    DKIM_LIBFLAGS_FIXCRLF;
	unsigned minbits = (unsigned)cfg_int(c, "DKIMMinKeyBits");
	uint64_t drift = cfg_duration_ms(c, "DKIMClockDrift") / 1000;
	char *err = NULL;

	free(last_err);
	last_err = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		log_oom(sizeof(*st), "dkim state");
	st->is_enabled = cfg_bool(c, "DKIMEnable");
	st->max_sigs = (int)cfg_int(c, "DKIMMaxSignatures");
	if ((st->dns = adns_from_cfg(c, &err)) == NULL) {
		last_err = err;
		*err_r = last_err != NULL ? last_err : "dkim: DNS setup failed";
		free(st);
		return NULL;
	}
	if ((st->lib = dkim_init(NULL, NULL)) == NULL) {
		adns_free(&st->dns);
		free(st);
		*err_r = "dkim: dkim_init failed";
		return NULL;
	}
	if (dkim_options(st->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(st->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS,
	    &minbits, sizeof(minbits)) != DKIM_STAT_OK ||
	    dkim_options(st->lib, DKIM_OP_SETOPT, DKIM_OPTS_CLOCKDRIFT,
	    &drift, sizeof(drift)) != DKIM_STAT_OK ||
	    dkim_set_key_lookup(st->lib, dk_key_lookup) != DKIM_STAT_OK ||
	    dkim_set_prescreen(st->lib, dk_prescreen) != DKIM_STAT_OK) {
		dkim_close(st->lib);
		adns_free(&st->dns);
		free(st);
		*err_r = "dkim: setting libopendkim options failed";
		return NULL;
	}
	return st;
}

static void
dk_teardown(void *state)
{
	struct dkim_state *st = state;

	if (st == NULL)
		return;
	dkim_close(st->lib);
	adns_free(&st->dns);
	free(st);
}

/* ---- streaming --------------------------------------------------------- */

static void
dk_free_handle(void *arg)
{
	struct dk_msg *dm = arg;

	if (dm->d != NULL)
		dkim_free(dm->d);
	dm->d = NULL;
}

static struct dk_slot *
dk_slot(struct msg *m)
{
	void **slot = msg_slot(m, &check_dkim);

	if (*slot == NULL)
		*slot = arena_alloc(msg_arena(m), sizeof(struct dk_slot));
	return *slot;
}

/* The message's verifier, made on first use; NULL when not verifying. */
static struct dk_msg *
dk_msg_get(struct dkim_state *st, struct msg *m)
{
	struct dk_slot *sl = dk_slot(m);
	struct dk_msg *dm = sl->dm;
	DKIM_STAT stat;

	if (dm == NULL) {
		dm = sl->dm = arena_alloc(msg_arena(m), sizeof(*dm));
		dm->st = st;
		dm->arena = msg_arena(m);
		dm->m = m;
		if (!st->is_enabled || msg_is_trusted(m) ||
		    msg_client_addr(m) == NULL) {
			dm->is_skipped = true;
			return NULL;
		}
		dm->d = dkim_verify(st->lib,
		    (const unsigned char *)msg_session_id(m), NULL, &stat);
		if (dm->d == NULL) {
			dm->error = arena_printf(msg_arena(m),
			    "dkim_verify: %s", dkim_getresultstr(stat));
			dm->is_skipped = true;
			return NULL;
		}
		arena_defer(msg_arena(m), dk_free_handle, dm);
		dkim_set_user_context(dm->d, dm);
	}
	return dm->is_skipped || dm->error != NULL ? NULL : dm;
}

static void dk_feed(struct dk_msg *, struct msg *, const char *name,
    const char *value);

static void
dk_hook_header(void *state, struct msg *m, const char *name, const char *value)
{
	struct dk_msg *dm = dk_msg_get(state, m);
	size_t feed_max;

	if (dm == NULL || dm->did_eoh)
		return;
	feed_max = (size_t)dm->st->max_sigs * DK_FEED_FACTOR;
	if (feed_max < DK_FEED_MIN)
		feed_max = DK_FEED_MIN;
	if (strcasecmp(name, "DKIM-Signature") == 0 &&
	    ++dm->nsig_fields > feed_max) {
		dm->withheld = arena_grow(dm->arena, dm->withheld,
		    dm->nwithheld, &dm->withheld_cap, sizeof(*dm->withheld));
		dm->withheld[dm->nwithheld++] = arena_strdup(dm->arena, value);
		dm->nsig_withheld++;
		return;
	}
	dk_feed(dm, m, name, value);
}

/* Is the d= tag of DKIM-Signature value v domain dom (any case)? */
static bool
dk_sig_is_from(const char *v, const char *dom)
{
	size_t dl = strlen(dom);

	for (const char *p = v; p != NULL; p = strchr(p, ';')) {
		if (*p == ';')
			p++;
		p += strspn(p, " \t\r\n");
		if (p[0] == 'd' && (p[1] == '=' || p[1] == ' ' || p[1] == '\t')) {
			p += 1 + strspn(p + 1, " \t\r\n");
			if (*p++ != '=')
				continue;
			p += strspn(p, " \t\r\n");
			return strncasecmp(p, dom, dl) == 0 &&
			    (p[dl] == '\0' || p[dl] == ';' || p[dl] == ' ' ||
			    p[dl] == '\t' || p[dl] == '\r' || p[dl] == '\n');
		}
	}
	return false;
}

/* One header field to libopendkim. */
static void
dk_feed(struct dk_msg *dm, struct msg *m, const char *name, const char *value)
{
	char *line;
	size_t len;
	DKIM_STAT stat;

	/* value is every byte after the colon as it was signed (the milter
	 * negotiates SMFIP_HDR_LEADSPC), so "Name:" + value is the header
	 * that simple canonicalization hashes.  Folded lines come from the
	 * MTA with bare LF: make them CRLF, or relaxed canonicalization
	 * would not unfold them. */
	line = arena_alloc(msg_arena(m), strlen(name) + 2 * strlen(value) + 2);
	len = (size_t)sprintf(line, "%s:", name);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			line[len++] = '\r';
		line[len++] = *p;
	}
	line[len] = '\0';
	stat = dkim_header(dm->d, (u_char *)line, len);
	if (stat != DKIM_STAT_OK)
		log_msg(LOG_DEBUG, m, "check=dkim header=%s stat=\"%s\"", name,
		    dkim_getresultstr(stat));
}

/* End of headers: false when there is nothing more to feed. */
static bool
dk_eoh(struct dk_msg *dm, struct msg *m)
{
	DKIM_STAT stat;
	const char *from;
	size_t given = 0;

	if (dm->did_eoh)
		return !dm->is_skipped;
	dm->did_eoh = true;
	dm->budget = auth_budget(m, dm->st->dns);
	/* The author domain's withheld signatures, as many as are verified. */
	if (dm->nwithheld > 0 && (from = auth_from_domain(m)) != NULL)
		for (size_t i = 0; i < dm->nwithheld && given <
		    (size_t)dm->st->max_sigs; i++)
			if (dk_sig_is_from(dm->withheld[i], from)) {
				dk_feed(dm, m, "DKIM-Signature", dm->withheld[i]);
				dm->nsig_withheld--;
				given++;
			}
	stat = dkim_eoh(dm->d);
	if (stat == DKIM_STAT_NOSIG) {
		dm->is_skipped = true;	/* no signature: DKIM_NONE */
		return false;
	}
	if (stat != DKIM_STAT_OK)
		log_msg(LOG_DEBUG, m, "check=dkim eoh stat=\"%s\" error=\"%s\"",
		    dkim_getresultstr(stat), dkim_geterror(dm->d) != NULL ?
		    dkim_geterror(dm->d) : "");
	return true;
}

static void
dk_hook_body(void *state, struct msg *m, const unsigned char *chunk, size_t len)
{
	struct dk_msg *dm = dk_msg_get(state, m);
	DKIM_STAT stat;

	if (dm == NULL || !dk_eoh(dm, m))
		return;
	stat = dkim_body(dm->d, (u_char *)chunk, len);
	if (stat != DKIM_STAT_OK && stat != DKIM_STAT_NOSIG)
		log_msg(LOG_DEBUG, m, "check=dkim body stat=\"%s\"",
		    dkim_getresultstr(stat));
}

/* ---- end of message ----------------------------------------------------- */

static const char *
dk_alg_name(DKIM_SIGINFO *sig)
{
	dkim_alg_t alg;

	if (dkim_sig_getsignalg(sig, &alg) != DKIM_STAT_OK)
		return "unknown";
	switch (alg) {
	case DKIM_SIGN_RSASHA1: return "rsa-sha1";
	case DKIM_SIGN_RSASHA256: return "rsa-sha256";
	case DKIM_SIGN_ED25519SHA256: return "ed25519-sha256";
	default: return "unknown";
	}
}

static enum auth_res
dk_sig_result(struct dk_msg *dm, DKIM_SIGINFO *sig, const char *dom,
    const char *sel)
{
	unsigned fl = dkim_sig_getflags(sig);
	int bh = dkim_sig_getbh(sig), err = dkim_sig_geterror(sig);
	char key[1024];

	if ((fl & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH)
		return AUTH_PASS;
	if (err == DKIM_SIGERROR_BADSIG || bh == DKIM_SIGBH_MISMATCH ||
	    ((fl & DKIM_SIGFLAG_PROCESSED) != 0 && err == DKIM_SIGERROR_OK))
		return AUTH_FAIL;
	snprintf(key, sizeof(key), "%s/%s;", dom, sel);
	if (err == DKIM_SIGERROR_KEYFAIL || (dm->tempfail_keys != NULL &&
	    strstr(dm->tempfail_keys, key) != NULL))
		return AUTH_TEMPERROR;
	if (err == DKIM_SIGERROR_KEYTOOSMALL)
		return AUTH_POLICY;
	return AUTH_PERMERROR;
}

const struct auth_dkim *
auth_dkim(struct msg *m)
{
	struct dk_slot *sl = *msg_slot(m, &check_dkim);

	return sl != NULL ? sl->res : NULL;
}

/*
 * The domain of a signature's identity, which SpamAssassin's DKIM rules
 * compare with the author's (Plugin::DKIM: what follows the "@" of i=,
 * up to a blank; d= when the signature has no i=), lower case, in a.
 */
static const char *
dk_idomain(struct arena *a, const char *i, const char *d)
{
	const char *at = i != NULL ? strchr(i, '@') : NULL;
	char *o;

	if (i == NULL)
		o = arena_strdup(a, d);
	else if (at == NULL)
		return "";
	else
		o = arena_strndup(a, at + 1, strcspn(at + 1, " \t\r\n"));
	for (char *p = o; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return o;
}

/* Collects every signature's result into a new auth_dkim. */
static struct auth_dkim *
dk_collect(struct dk_msg *dm, struct msg *m)
{
	struct arena *a = msg_arena(m);
	struct auth_dkim *res = arena_alloc(a, sizeof(*res));
	struct auth_dkim_sig *out;
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	size_t n = 0;

	if (dkim_getsiglist(dm->d, &sigs, &nsigs) != DKIM_STAT_OK || nsigs <= 0)
		return res;
	out = arena_alloc(a, (size_t)nsigs * sizeof(*out));
	for (int j = 0; j < nsigs; j++) {
		DKIM_SIGINFO *sig = sigs[j];
		size_t i = n;
		const char *dom = (const char *)dkim_sig_getdomain(sig);
		const char *sel = (const char *)dkim_sig_getselector(sig);
		const char *b = (const char *)dkim_sig_gettagvalue(sig, false,
		    (u_char *)"b");
		const char *es;
		unsigned bits = 0;
		char bbuf[16];
		size_t bn = 0;

		if ((dkim_sig_getflags(sig) & DKIM_SIGFLAG_IGNORE) != 0) {
			res->nunverified++;
			continue;
		}
		n++;
		dom = dom != NULL ? dom : "";
		sel = sel != NULL ? sel : "";
		out[i].domain = arena_strdup(a, dom);
		out[i].idomain = dk_idomain(a, (const char *)
		    dkim_sig_gettagvalue(sig, false, (u_char *)"i"), dom);
		out[i].selector = arena_strdup(a, sel);
		out[i].result = dk_sig_result(dm, sig, dom, sel);
		out[i].algorithm = dk_alg_name(sig);
		if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
			out[i].key_bits = bits;
		for (; b != NULL && *b != '\0' && bn < 8; b++)
			if (strchr(" \t\r\n", *b) == NULL)
				bbuf[bn++] = *b;
		bbuf[bn] = '\0';
		out[i].b = arena_strdup(a, bbuf);
		if (out[i].result != AUTH_PASS) {
			es = dkim_sig_geterrorstr(dkim_sig_geterror(sig));
			if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
				es = "body hash mismatch";
			else if (out[i].result == AUTH_TEMPERROR)
				es = "key lookup failed or timed out";
			out[i].why = arena_strdup(a, es != NULL ? es :
			    "signature did not verify");
		}
	}
	res->sigs = out;
	res->nsigs = n;
	return res;
}

static enum check_rc
dk_run(void *state, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	struct dkim_state *st = state;
	struct dk_slot *sl;
	struct dk_msg *dm;
	struct auth_dkim *res;
	const char *from_dom = auth_from_domain(m);
	bool any_pass = false, any_au = false, any_temp = false;
	DKIM_STAT stat;

	if (phase != PHASE_EOM)
		return CHECK_DONE;
	if (!st->is_enabled) {
		*why_r = "DKIMEnable is off";
		return CHECK_SKIP;
	}
	(void)dk_msg_get(st, m);
	sl = dk_slot(m);
	dm = sl->dm;
	if (msg_is_trusted(m)) {
		*why_r = "trusted or authenticated client";
		return CHECK_SKIP;
	}
	if (msg_client_addr(m) == NULL) {
		*why_r = "no client address (local submission, or an offline "
		    "scan without --ip)";
		return CHECK_SKIP;
	}
	if (dm->error != NULL) {
		*why_r = dm->error;
		return CHECK_FAIL;
	}
	if (dm->d != NULL && dk_eoh(dm, m)) {
		stat = dkim_eom(dm->d, NULL);
		if (stat != DKIM_STAT_OK)
			log_msg(LOG_DEBUG, m, "check=dkim eom stat=\"%s\"",
			    dkim_getresultstr(stat));
		res = dk_collect(dm, m);
	} else {
		res = arena_alloc(msg_arena(m), sizeof(*res));
	}
	sl->res = res;
	res->nunverified += dm->nsig_withheld;

	if (res->nunverified > 0)
		msg_add_hit(m, "DKIM_SIGS_UNVERIFIED", 0.0, "%zu more signatures "
		    "not verified (DKIMMaxSignatures %d)", res->nunverified,
		    st->max_sigs);
	if (res->nsigs == 0) {
		msg_add_hit(m, "DKIM_NONE", 0.0, "no signature");
		return CHECK_DONE;
	}
	for (size_t i = 0; i < res->nsigs; i++) {
		const struct auth_dkim_sig *s = &res->sigs[i];

		log_msg(LOG_DEBUG, m, "check=dkim d=%s s=%s a=%s result=%s%s%s",
		    s->domain, s->selector, s->algorithm,
		    auth_res_name(s->result), s->why != NULL ? " why=" : "",
		    s->why != NULL ? s->why : "");
		if (s->result == AUTH_PASS) {
			any_pass = true;
			/* SpamAssassin's author signature: by the
			 * identity, not d= (a signature of example.com
			 * for i=@news.example.com is one for
			 * news.example.com's mail, not example.com's) */
			if (from_dom != NULL &&
			    strcasecmp(s->idomain, from_dom) == 0)
				any_au = true;
		}
		if (s->result == AUTH_TEMPERROR)
			any_temp = true;
	}
	if (any_pass) {
		msg_add_hit(m, "DKIM_VALID", -0.1, "%s", res->sigs[0].domain);
		if (any_au)
			msg_add_hit(m, "DKIM_VALID_AU", -0.1, "%s", from_dom);
		return CHECK_DONE;
	}
	if (any_temp) {
		msg_add_hit(m, "DKIM_TEMPERROR", 0.0, "%s",
		    res->sigs[0].domain);
		*why_r = arena_printf(msg_arena(m), "dkim: key lookup for %s "
		    "failed or took longer than %llums", res->sigs[0].domain,
		    (unsigned long long)adns_timeout_ms(st->dns));
		return CHECK_TEMPFAIL;
	}
	msg_add_hit(m, "DKIM_INVALID", 0.1, "%s: %s", res->sigs[0].domain,
	    res->sigs[0].why != NULL ? res->sigs[0].why : "invalid");
	return CHECK_DONE;
}

const struct check check_dkim = {
	.name = "dkim",
	.phases = PHASE_EOM,
	.is_content = 0,
	.setup = dk_setup,
	.run = dk_run,
	.header = dk_hook_header,
	.body = dk_hook_body,
	.teardown = dk_teardown,
};
