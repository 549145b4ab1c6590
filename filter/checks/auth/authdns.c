/*
 * authdns.c - the DNS client of SPF, DKIM and DMARC: the system's
 * resolvers through the process's shared cache on c-ares (dns.c's
 * dns_shared: one lookup for a name and type while its TTL lasts,
 * whatever the message, lookups in flight shared; each wait bounded by
 * the message's DNS budget), or a static zone file for tests and offline
 * runs.  Within a message the answers are kept (adns_budget_keep), so no
 * name is asked twice even when its TTL is 0.
 *
 * Owns: the zone table of a resolver built from DNSZoneFile.  The
 * answers it returns belong to the caller (one malloc'd block).
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "cfg.h"
#include "checks/auth/auth.h"
#include "checks/dnsbl/dns.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"

const struct opt authdns_opts[] = {
	{ "DNSTimeout", OPT_DURATION, "5s", 1000, 120000, NULL,
	  "Time one message may spend on SPF, DKIM and DMARC lookups each "
	  "(1s resolution); past it results are temperror" },
	{ "DNSZoneFile", OPT_PATH, NULL, 0, 0, NULL,
	  "Answer SPF/DKIM/DMARC lookups from this file (`name TYPE data` "
	  "lines) instead of DNS: tests and offline checks" },
	{ NULL }
};

/* One zone line.  type 0: the name exists (EXISTS).  data NULL with a
 * type: lookups of that type time out (TIMEOUT). */
struct zrec {
	char		*name;
	int		 type;
	char		*data;
};

struct adns {
	uint64_t	 timeout_ms;
	struct zrec	*zone;		/* NULL: system resolver */
	size_t		 nzone;
	bool		 is_zone;
};

static const struct {
	const char	*name;
	int		 type;
} types[] = {
	{ "A", ADNS_A }, { "AAAA", ADNS_AAAA }, { "MX", ADNS_MX },
	{ "TXT", ADNS_TXT }, { "SPF", ADNS_TXT }, { "PTR", ADNS_PTR },
	{ "NS", ADNS_NS },
	{ "EXISTS", 0 },
};

const char *
adns_rc_name(enum adns_rc rc)
{
	switch (rc) {
	case ADNS_OK: return "ok";
	case ADNS_NODATA: return "no data";
	case ADNS_NXDOMAIN: return "no such domain";
	case ADNS_TEMPFAIL: return "temporary failure";
	}
	return "?";
}

/* Lower case, no trailing dot, in place. */
static void
name_normalize(char *s)
{
	size_t n;

	for (char *p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	n = strlen(s);
	while (n > 1 && s[n - 1] == '.')
		s[--n] = '\0';
}

/*
 * "text" with \\, \" and \xHH escapes, in place: records with blanks at
 * the ends, control characters or nothing at all.  -1 when malformed.
 */
static int
unquote(char *s)
{
	char *q = s;
	const char *p = s + 1;

	for (; *p != '"'; p++) {
		if (*p == '\0')
			return -1;
		if (*p != '\\') {
			*q++ = *p;
			continue;
		}
		p++;
		if (*p == 'x' && isxdigit((unsigned char)p[1]) &&
		    isxdigit((unsigned char)p[2])) {
			char hex[3] = { p[1], p[2], '\0' };

			/* \x00 as \x01, as for DNS answers (rr_text) */
			*q = (char)strtol(hex, NULL, 16);
			if (*q++ == '\0')
				q[-1] = '\x01';
			p += 2;
		} else if (*p == '\\' || *p == '"') {
			*q++ = *p;
		} else
			return -1;
	}
	if (p[1] != '\0')
		return -1;
	*q = '\0';
	return 0;
}

static int
zone_load(struct adns *r, const char *path, char **err_r)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, lineno = 0, zcap = 0;
	ssize_t len;

	if ((f = fopen(path, "r")) == NULL) {
		if (asprintf(err_r, "DNSZoneFile %s: %s", path,
		    strerror(errno)) < 0)
			*err_r = NULL;
		return -1;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		char *p = line, *name, *word, *data;
		int type = -1;
		bool quoted, explicit;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		p += strspn(p, " \t");
		if (*p == '#' || *p == '\0')
			continue;
		name = p;
		if (*p == '"') {
			/* a quoted name: it may hold blanks */
			for (p++; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '"')
				p++;
		} else
			p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
		if (*name == '"' && unquote(name) == -1) {
			if (asprintf(err_r, "%s:%zu: bad quoted name", path,
			    lineno) < 0)
				*err_r = NULL;
			goto fail;
		}
		p += strspn(p, " \t");
		word = p;
		p += strcspn(p, " \t");
		for (size_t i = 0; i < NELEM(types); i++)
			if ((size_t)(p - word) == strlen(types[i].name) &&
			    strncasecmp(word, types[i].name, p - word) == 0)
				type = types[i].type;
		explicit = type != -1;
		if (type == -1) {
			/* "name TXT-data": the DKIM key file format */
			type = ADNS_TXT;
			data = word;
		} else {
			data = p + strspn(p, " \t");
		}
		quoted = *data == '"';
		if (quoted && unquote(data) == -1) {
			if (asprintf(err_r, "%s:%zu: %s: bad quoted data", path,
			    lineno, name) < 0)
				*err_r = NULL;
			goto fail;
		}
		if (explicit && type != 0 && *data == '\0' && !quoted) {
			if (asprintf(err_r, "%s:%zu: %s: no data", path,
			    lineno, name) < 0)
				*err_r = NULL;
			goto fail;
		}
		if (r->nzone == zcap) {
			zcap = zcap ? zcap * 2 : 64;
			r->zone = realloc(r->zone, zcap * sizeof(*r->zone));
			if (r->zone == NULL)
				log_oom(zcap * sizeof(*r->zone), "adns zone");
		}
		r->zone[r->nzone].name = strdup(name);
		name_normalize(r->zone[r->nzone].name);
		r->zone[r->nzone].type = type;
		r->zone[r->nzone].data = type == 0 ||
		    (!quoted && strcmp(data, "TIMEOUT") == 0) ? NULL :
		    strdup(data);
		r->nzone++;
	}
	if (ferror(f)) {
		if (asprintf(err_r, "DNSZoneFile %s: read: %s", path,
		    strerror(errno)) < 0)
			*err_r = NULL;
		goto fail;
	}
	free(line);
	fclose(f);
	return 0;
fail:
	free(line);
	fclose(f);
	return -1;
}

struct adns *
adns_new(const char *zone_path, uint64_t timeout_ms, char **err_r)
{
	struct adns *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		log_oom(sizeof(*r), "adns");
	r->timeout_ms = timeout_ms;
	if (zone_path != NULL) {
		r->is_zone = true;
		if (zone_load(r, zone_path, err_r) == -1) {
			adns_free(&r);
			return NULL;
		}
	}
	return r;
}

void
adns_free(struct adns **ap)
{
	struct adns *r = *ap;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nzone; i++) {
		free(r->zone[i].name);
		free(r->zone[i].data);
	}
	free(r->zone);
	free(r);
	*ap = NULL;
}

uint64_t
adns_timeout_ms(const struct adns *r)
{
	return r->timeout_ms;
}


struct adns *
adns_from_cfg(const struct cfg *c, char **err_r)
{
	return adns_new(cfg_str(c, "DNSZoneFile"),
	    cfg_duration_ms(c, "DNSTimeout"), err_r);
}

char **
adns_pack(char *const *strs, size_t n)
{
	size_t sz = (n + 1) * sizeof(char *);
	char **out, *p;

	for (size_t i = 0; i < n; i++)
		sz += strlen(strs[i]) + 1;
	if ((out = malloc(sz)) == NULL)
		log_oom(sz, "adns answer");
	p = (char *)(out + n + 1);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(strs[i]) + 1;

		memcpy(p, strs[i], l);
		out[i] = p;
		p += l;
	}
	out[n] = NULL;
	return out;
}

static enum adns_rc
zone_query(struct adns *r, const char *qname, int type, char ***rrs_r,
    size_t *n_r)
{
	char name[NS_MAXDNAME];
	char **found;
	size_t n = 0;
	bool exists = false, timeout = false;

	snprintf(name, sizeof(name), "%s", qname);
	name_normalize(name);
	if ((found = calloc(r->nzone + 1, sizeof(char *))) == NULL)
		log_oom(r->nzone, "adns zone answer");
	for (size_t i = 0; i < r->nzone; i++) {
		if (strcmp(r->zone[i].name, name) != 0)
			continue;
		exists = true;
		if (r->zone[i].type != type)
			continue;
		if (r->zone[i].data == NULL)
			timeout = true;
		else if (type == ADNS_MX) {
			/* "10 mx.example.org" or "mx.example.org": the host */
			const char *d = r->zone[i].data;

			d += strspn(d, "0123456789");
			d += strspn(d, " \t");
			found[n++] = (char *)(*d != '\0' ? d : r->zone[i].data);
		} else
			found[n++] = r->zone[i].data;
	}
	if (timeout || n > 0) {
		if (n > 0) {
			*rrs_r = adns_pack(found, n);
			*n_r = n;
		}
		free(found);
		return n > 0 ? ADNS_OK : ADNS_TEMPFAIL;
	}
	free(found);
	return exists ? ADNS_NODATA : ADNS_NXDOMAIN;
}

static void
memo_free(void *arg)
{
	struct adns_budget *b = arg;
	GHashTableIter it;
	gpointer k, v;

	if (b->memo == NULL)
		return;
	g_hash_table_iter_init(&it, b->memo);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct dns_q *q = v;

		dns_q_unref(dns_shared(), &q);
	}
	g_hash_table_destroy(b->memo);
	b->memo = NULL;
}

void
adns_budget_keep(struct adns_budget *b, struct arena *a)
{
	if (b->memo != NULL)
		return;
	b->memo = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	arena_defer(a, memo_free, b);
}

/*
 * A lookup through the shared cache, waiting at most what is left of b;
 * the answer is kept in b's memo for the rest of the message.
 */
static enum adns_rc
cache_query(const char *qname, int type, struct adns_budget *b,
    char ***rrs_r, size_t *n_r)
{
	struct dns *d = dns_shared();
	struct dns_q *q;
	char name[NS_MAXDNAME], *key;
	uint64_t t0 = util_now_us(), spent;
	enum dns_rc rc;
	const char *const *ans;
	size_t n = 0;
	bool kept = false;

	snprintf(name, sizeof(name), "%s", qname);
	name_normalize(name);
	key = g_strdup_printf("%d/%s", type, name);
	if (b->memo != NULL && (q = g_hash_table_lookup(b->memo, key)) !=
	    NULL) {
		rc = dns_wait(d, q, t0);
		kept = true;
	} else {
		if (b->left_us == 0) {
			g_free(key);
			return ADNS_TEMPFAIL;
		}
		q = dns_start(d, name, type);
		rc = dns_wait(d, q, t0 + b->left_us);
		spent = util_now_us() - t0;
		b->left_us = b->left_us > spent ? b->left_us - spent : 0;
	}
	if (rc == DNS_OK && (ans = dns_q_answers(q, &n)) != NULL && n > 0) {
		*rrs_r = adns_pack((char *const *)ans, n);
		*n_r = n;
	}
	if (kept)
		g_free(key);
	else if (rc != DNS_PENDING && b->memo != NULL)
		g_hash_table_insert(b->memo, key, q);	/* its reference */
	else {
		g_free(key);
		dns_q_unref(d, &q);
	}
	switch (rc) {
	case DNS_OK: return n > 0 ? ADNS_OK : ADNS_NODATA;
	case DNS_NODATA: return ADNS_NODATA;
	case DNS_NXDOMAIN: return ADNS_NXDOMAIN;
	default: return ADNS_TEMPFAIL;
	}
}

enum adns_rc
adns_query(struct adns *r, const char *name, enum adns_type type,
    struct adns_budget *b, char ***rrs_r, size_t *n_r)
{
	struct adns_budget own;
	enum adns_rc rc;

	*rrs_r = NULL;
	*n_r = 0;
	if (name == NULL || *name == '\0' || strlen(name) >= NS_MAXDNAME)
		return ADNS_NXDOMAIN;
	if (b == NULL) {
		own.left_us = r->timeout_ms * 1000;
		b = &own;
	}
	if (!r->is_zone)
		return cache_query(name, type, b, rrs_r, n_r);
	if (b->left_us == 0)
		return ADNS_TEMPFAIL;
	if ((rc = zone_query(r, name, type, rrs_r, n_r)) == ADNS_TEMPFAIL)
		b->left_us = 0;		/* a timeout spends the budget */
	return rc;
}
