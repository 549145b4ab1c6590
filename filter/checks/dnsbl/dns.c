/*
 * dns.c - asynchronous lookups for the DNS lists, on libunbound.
 *
 * libunbound over c-ares: both are maintained and asynchronous, but
 * unbound keeps a TTL-respecting cache of its own (the c-ares of Debian
 * 12 has none), follows CNAMEs and retries servers itself, and delivers
 * every answer through one file descriptor: no thread per query, no
 * thread per message.  Its worker runs as one more thread
 * (ub_ctx_async; without it, libunbound forks a process).  The answers
 * are read by the threads waiting for them: one waiter at a time reads
 * unbound's descriptor (ub_process) for all, the others sleep on the
 * condition it signals once a batch is read.  No event thread of our
 * own: an answer costs no wake-up of a thread that only passes it on.
 *
 * Owns: the unbound context and the table of lookups
 * (name and type -> struct dns_q), which also dedups lookups that
 * several messages start at once.  An answered lookup stays in the table
 * for its TTL (clamped to [10 s, 1 h]; to [0, 1 h] for SPF, DKIM and
 * DMARC, dns_shared); an unanswered one is asked again
 * after DNS_RETRY_US.  With a DNSZoneFile, each lookup is answered from
 * the zone (authdns.c) when it starts and nothing is cached.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <glib.h>
#include <unbound.h>

#include "checks/auth/auth.h"
#include "checks/dnsbl/dns.h"
#include "lib/log.h"
#include "lib/util.h"

#define DNS_TTL_MIN	10
#define DNS_TTL_MAX	3600
#define DNS_RETRY_US	(30 * 1000000ull)
#define DNS_TABLE_MAX	50000	/* entries before expired ones are swept */

struct dns_q {
	char		*name;
	int		 type;
	enum dns_rc	 rc;		/* under dns->lock */
	char		**answers;	/* adns_pack block, or NULL */
	size_t		 nanswers;
	uint64_t	 started_us;
	uint64_t	 expires_us;	/* when done */
	unsigned	 refs;		/* under dns->lock */
	bool		 in_table;
};

struct dns {
	struct adns	*zone;		/* DNSZoneFile, or NULL */
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* answers were read */
	struct ub_ctx	*ctx;		/* created with the first lookup */
	bool		 is_reading;	/* a waiter reads unbound's fd */
	char		*ctx_err;	/* why ctx could not be built */
	GHashTable	*table;		/* "type/name" -> struct dns_q */
	GHashTable	*inflight;	/* struct cb_arg *: sent, unanswered */
	int		 ttl_min;	/* seconds an answer is kept at least */
	uint64_t	 n_lookups, n_cached, n_sent;	/* under lock */
};

const char *
dns_rc_name(enum dns_rc rc)
{
	switch (rc) {
	case DNS_PENDING: return "timeout";
	case DNS_OK: return "ok";
	case DNS_NODATA: return "nodata";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_ERROR: return "error";
	}
	return "?";
}

static void
q_free(struct dns_q *q)
{
	free(q->name);
	free(q->answers);
	free(q);
}

/* Under d->lock. */
static void
q_unref_locked(struct dns_q *q)
{
	if (q != NULL && --q->refs == 0)
		q_free(q);
}

struct dns *
dns_new(const char *zone_path, char **err_r)
{
	struct dns *d = calloc(1, sizeof(*d));
	pthread_condattr_t ca;

	if (d == NULL)
		log_oom(sizeof(*d), "dns");
	if (zone_path != NULL &&
	    (d->zone = adns_new(zone_path, 1000, err_r)) == NULL) {
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &ca);
	pthread_condattr_destroy(&ca);
	d->table = g_hash_table_new(g_str_hash, g_str_equal);
	d->inflight = g_hash_table_new(g_direct_hash, g_direct_equal);
	d->ttl_min = DNS_TTL_MIN;
	return d;
}

/*
 * The resolver of SPF, DKIM and DMARC (authdns.c): one for the process,
 * made on first use (after the daemon forked), freed at exit.  Answers
 * are kept for their TTL exactly, however short: a record published
 * with TTL 0 is asked again by the next message (lookups in flight are
 * still shared), and a failure is not remembered.
 */
static struct dns	*shared;
static pthread_once_t	 shared_once = PTHREAD_ONCE_INIT;

static void
shared_free(void)
{
	dns_free(&shared);
}

static void
shared_init(void)
{
	char *err = NULL;

	if ((shared = dns_new(NULL, &err)) == NULL)
		BUG("dns: %s", err != NULL ? err : "cannot make the resolver");
	shared->ttl_min = 0;
	atexit(shared_free);
}

struct dns *
dns_shared(void)
{
	pthread_once(&shared_once, shared_init);
	return shared;
}

bool
dns_is_zone(const struct dns *d)
{
	return d->zone != NULL;
}

struct cb_arg {
	struct dns	*d;
	struct dns_q	*q;
};

void
dns_free(struct dns **dp)
{
	struct dns *d = *dp;
	GHashTableIter it;
	gpointer k, v;

	if (d == NULL)
		return;
	/* Lookups still in flight are cancelled with the context; their
	 * callbacks never run: their arguments, and the lookups no longer
	 * in the table, go here, the table's with it. */
	if (d->ctx != NULL)
		ub_ctx_delete(d->ctx);
	g_hash_table_iter_init(&it, d->inflight);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		struct cb_arg *a = k;

		if (!a->q->in_table)
			q_free(a->q);
		free(a);
	}
	g_hash_table_destroy(d->inflight);
	g_hash_table_iter_init(&it, d->table);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		free(k);
		q_free(v);
	}
	g_hash_table_destroy(d->table);
	adns_free(&d->zone);
	free(d->ctx_err);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d);
	*dp = NULL;
}

/* Under d->lock: the context, once.  False when it cannot be built
 * (d->ctx_err says why; logged once). */
static bool
ctx_ready(struct dns *d)
{
	int rc;

	if (d->ctx != NULL)
		return true;
	if (d->ctx_err != NULL)
		return false;
	if ((d->ctx = ub_ctx_create()) == NULL) {
		d->ctx_err = strdup("ub_ctx_create failed");
		goto fail;
	}
	/* The system's resolvers (the test namespace's too), one thread
	 * for unbound's work.  A local caching resolver is what DNS lists
	 * want (public resolvers are refused), and unbound will not ask
	 * one on 127.0.0.1 unless told. */
	if ((rc = ub_ctx_set_option(d->ctx, "do-not-query-localhost:",
	    "no")) != 0 ||
	    (rc = ub_ctx_set_option(d->ctx, "module-config:",
	    "iterator")) != 0 ||
	    (rc = ub_ctx_resolvconf(d->ctx, NULL)) != 0 ||
	    (rc = ub_ctx_async(d->ctx, 1)) != 0) {
		if (asprintf(&d->ctx_err, "unbound: %s", ub_strerror(rc)) < 0)
			d->ctx_err = NULL;
		ub_ctx_delete(d->ctx);
		d->ctx = NULL;
		goto fail;
	}
	return true;
fail:
	if (d->ctx_err == NULL)
		d->ctx_err = strdup("out of memory");
	log_sys(LOG_ERR, "dns: cannot start the resolver: %s: DNS lists "
	    "get no answers", d->ctx_err);
	return false;
}

/* Text of one answer record (A, AAAA, NS, PTR, MX's host, TXT); false to
 * skip it. */
static bool
rdata_text(int type, const char *rd, int len, char *out, size_t outsz)
{
	size_t o = 0;

	if (type == DNS_T_A)
		return len == 4 && inet_ntop(AF_INET, rd, out,
		    (socklen_t)outsz) != NULL;
	if (type == DNS_T_AAAA)
		return len == 16 && inet_ntop(AF_INET6, rd, out,
		    (socklen_t)outsz) != NULL;
	if (type == DNS_T_MX) {
		/* The preference, then the host. */
		if (len < 3)
			return false;
		rd += 2;
		len -= 2;
		type = DNS_T_NS;
	}
	if (type == DNS_T_NS || type == DNS_T_PTR) {
		/* A name, uncompressed in unbound's answers: labels joined
		 * by dots, no final dot. */
		for (int i = 0; i < len && rd[i] != 0; ) {
			int l = (unsigned char)rd[i++];

			if (l > 63 || i + l > len || o + (size_t)l + 2 > outsz)
				return false;
			if (o > 0)
				out[o++] = '.';
			memcpy(out + o, rd + i, (size_t)l);
			o += (size_t)l;
			i += l;
		}
		out[o] = '\0';
		return o > 0;
	}
	if (type != DNS_T_TXT)
		return false;
	for (int i = 0; i < len; ) {
		int l = (unsigned char)rd[i++];

		if (i + l > len || o + (size_t)l >= outsz)
			return false;
		for (int k = 0; k < l; k++)
			out[o++] = rd[i + k] != '\0' ? rd[i + k] : '\x01';
		i += l;
	}
	out[o] = '\0';
	return true;
}

/* A lookup's answer, in the thread reading unbound's fd (dns_wait),
 * which wakes the other waiters once it has read a batch. */
static void
dns_answered(void *arg, int err, struct ub_result *res)
{
	struct cb_arg *a = arg;
	struct dns *d = a->d;
	struct dns_q *q = a->q;
	enum dns_rc rc = DNS_ERROR;
	char **texts = NULL;
	size_t n = 0;
	int ttl = 60;

	if (err == 0 && res != NULL) {
		if (res->havedata) {
			size_t cnt = 0;

			while (res->data[cnt] != NULL)
				cnt++;
			texts = g_new0(char *, cnt + 1);
			for (size_t i = 0; i < cnt; i++) {
				char buf[4096];

				if (rdata_text(q->type, res->data[i],
				    res->len[i], buf, sizeof(buf)))
					texts[n++] = g_strdup(buf);
			}
			rc = n > 0 ? DNS_OK : DNS_NODATA;
		} else if (res->nxdomain)
			rc = DNS_NXDOMAIN;
		else if (res->rcode == 0)
			rc = DNS_NODATA;
		ttl = res->ttl;
	}
	if (res != NULL)
		ub_resolve_free(res);
	ttl = ttl < 0 ? 0 : ttl > DNS_TTL_MAX ? DNS_TTL_MAX : ttl;
	pthread_mutex_lock(&d->lock);
	g_hash_table_remove(d->inflight, a);
	free(a);
	if (n > 0)
		q->answers = adns_pack(texts, n);
	q->nanswers = n;
	if (ttl < d->ttl_min)
		ttl = d->ttl_min;
	q->expires_us = util_now_us() + (uint64_t)(rc == DNS_ERROR ?
	    d->ttl_min : ttl) * 1000000u;
	q->rc = rc;
	q_unref_locked(q);		/* the lookup's own reference */
	pthread_mutex_unlock(&d->lock);
	if (texts != NULL)
		g_strfreev(texts);
}

/* Under d->lock: drops answers past their TTL when the table is big. */
static void
table_sweep(struct dns *d, uint64_t now)
{
	GHashTableIter it;
	gpointer k, v;

	if (g_hash_table_size(d->table) < DNS_TABLE_MAX)
		return;
	g_hash_table_iter_init(&it, d->table);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct dns_q *q = v;

		if (q->rc != DNS_PENDING && q->expires_us <= now) {
			g_hash_table_iter_remove(&it);
			free(k);
			q->in_table = false;
			q_unref_locked(q);
		}
	}
}

static struct dns_q *
q_new(const char *name, int type)
{
	struct dns_q *q = calloc(1, sizeof(*q));

	if (q == NULL || (q->name = strdup(name)) == NULL)
		log_oom(sizeof(*q), "dns lookup");
	q->type = type;
	q->started_us = util_now_us();
	return q;
}

/* A zone-file lookup: done at once, or never (TIMEOUT). */
static struct dns_q *
zone_start(struct dns *d, const char *name, int type)
{
	struct dns_q *q = q_new(name, type);
	char **rrs = NULL;
	size_t n = 0;

	q->refs = 1;
	switch (adns_query(d->zone, name, (enum adns_type)type, NULL, &rrs,
	    &n)) {
	case ADNS_OK:
		q->rc = DNS_OK;
		q->answers = rrs;
		q->nanswers = n;
		break;
	case ADNS_NODATA: q->rc = DNS_NODATA; break;
	case ADNS_NXDOMAIN: q->rc = DNS_NXDOMAIN; break;
	case ADNS_TEMPFAIL: q->rc = DNS_PENDING; break;
	}
	pthread_mutex_lock(&d->lock);
	d->n_lookups++;
	pthread_mutex_unlock(&d->lock);
	return q;
}

struct dns_q *
dns_start(struct dns *d, const char *name, int type)
{
	char *key;
	struct dns_q *q, *old;
	struct cb_arg *a;
	uint64_t now = util_now_us();
	int rc;

	if (d->zone != NULL)
		return zone_start(d, name, type);
	key = g_strdup_printf("%d/%s", type, name);
	pthread_mutex_lock(&d->lock);
	d->n_lookups++;
	old = g_hash_table_lookup(d->table, key);
	if (old != NULL && (old->rc == DNS_PENDING ?
	    now - old->started_us < DNS_RETRY_US : old->expires_us > now)) {
		d->n_cached++;
		old->refs++;
		pthread_mutex_unlock(&d->lock);
		g_free(key);
		return old;
	}
	if (old != NULL) {
		gpointer okey;

		g_hash_table_lookup_extended(d->table, key, &okey, NULL);
		g_hash_table_remove(d->table, key);
		free(okey);
		old->in_table = false;
		q_unref_locked(old);
	}
	table_sweep(d, now);
	q = q_new(name, type);
	q->refs = 2;		/* the table's and the caller's */
	q->in_table = true;
	g_hash_table_insert(d->table, strdup(key), q);
	g_free(key);
	if (!ctx_ready(d)) {
		q->rc = DNS_ERROR;
		q->expires_us = now + DNS_TTL_MIN * 1000000ull;
		pthread_mutex_unlock(&d->lock);
		return q;
	}
	q->refs++;		/* the lookup's, dropped by its callback */
	d->n_sent++;
	a = malloc(sizeof(*a));
	if (a == NULL)
		log_oom(sizeof(*a), "dns lookup");
	a->d = d;
	a->q = q;
	g_hash_table_add(d->inflight, a);
	/* The callback takes the lock: start the lookup without it. */
	pthread_mutex_unlock(&d->lock);
	rc = ub_resolve_async(d->ctx, name, type, 1, a, dns_answered, NULL);
	if (rc != 0) {
		log_sys(LOG_WARNING, "dns: %s: cannot start the lookup: %s",
		    name, ub_strerror(rc));
		pthread_mutex_lock(&d->lock);
		g_hash_table_remove(d->inflight, a);
		free(a);
		q->rc = DNS_ERROR;
		q->expires_us = now + DNS_TTL_MIN * 1000000ull;
		q_unref_locked(q);
		pthread_mutex_unlock(&d->lock);
	}
	return q;
}

/* Under d->lock, which it drops while it waits: reads unbound's answers
 * until one comes or deadline_us, then wakes the other waiters. */
static void
read_answers(struct dns *d, uint64_t deadline_us)
{
	struct pollfd p = { .fd = ub_fd(d->ctx), .events = POLLIN };
	uint64_t now = util_now_us();
	struct timespec ts;
	int n;

	d->is_reading = true;
	pthread_mutex_unlock(&d->lock);
	ts.tv_sec = (time_t)((deadline_us - now) / 1000000u);
	ts.tv_nsec = (long)((deadline_us - now) % 1000000u) * 1000;
	n = ppoll(&p, 1, &ts, NULL);
	if (n > 0)
		(void)ub_process(d->ctx);	/* answers' callbacks */
	else if (n < 0 && errno != EINTR)
		log_sys(LOG_ERR, "dns: poll on unbound's fd: %s",
		    strerror(errno));
	pthread_mutex_lock(&d->lock);
	d->is_reading = false;
	pthread_cond_broadcast(&d->cond);
}

enum dns_rc
dns_wait(struct dns *d, struct dns_q *q, uint64_t deadline_us)
{
	enum dns_rc rc;

	if (d->zone != NULL)
		return q->rc;
	pthread_mutex_lock(&d->lock);
	while (q->rc == DNS_PENDING && d->ctx != NULL) {
		uint64_t now = util_now_us();
		struct timespec ts;
		uint64_t ns;

		if (now >= deadline_us)
			break;
		if (!d->is_reading) {
			read_answers(d, deadline_us);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ns = (uint64_t)ts.tv_nsec + (deadline_us - now) * 1000u;
		ts.tv_sec += (time_t)(ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
		(void)pthread_cond_timedwait(&d->cond, &d->lock, &ts);
	}
	rc = q->rc;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

const char *const *
dns_q_answers(const struct dns_q *q, size_t *n_r)
{
	*n_r = q->nanswers;
	return (const char *const *)q->answers;
}

const char *
dns_q_name(const struct dns_q *q)
{
	return q->name;
}

void
dns_q_unref(struct dns *d, struct dns_q **qp)
{
	if (*qp == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	q_unref_locked(*qp);
	pthread_mutex_unlock(&d->lock);
	*qp = NULL;
}

void
dns_write_stats(struct dns *d, FILE *out)
{
	pthread_mutex_lock(&d->lock);
	fprintf(out, "dns.lookups %llu\n", (unsigned long long)d->n_lookups);
	fprintf(out, "dns.cache_hits %llu\n", (unsigned long long)d->n_cached);
	fprintf(out, "dns.queries_sent %llu\n", (unsigned long long)d->n_sent);
	fprintf(out, "dns.cache_entries %u\n", g_hash_table_size(d->table));
	pthread_mutex_unlock(&d->lock);
}
