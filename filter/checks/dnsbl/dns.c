/*
 * dns.c - asynchronous lookups for the DNS lists (and SPF, DKIM and
 * DMARC: dns_shared), on c-ares.
 *
 * c-ares over libunbound.  The cache that matters is ours (the table
 * below: shared by every message, TTL-respecting, negative answers kept
 * by their SOA's minimum), so unbound's own cache, iterator and worker
 * thread only added work: with it each lookup was serialized through a
 * pipe to unbound's thread and back, and sent from a fresh UDP socket
 * (about a dozen system calls and two thread wake-ups a lookup).  c-ares
 * sends on one UDP socket a server, kept open, and hands back the
 * answer packet, read here with libresolv's parser: a lookup is one
 * send() and one recv().  A caching resolver on the host (what DNS lists
 * want: public resolvers are refused) follows CNAMEs and retries
 * authorities; c-ares retries it as resolv.conf says (attempts, timeout).
 * No thread of our own: the threads waiting for answers read them, one
 * at a time for all (is_reading: it polls c-ares's sockets without the
 * lock, then lets c-ares read them under it), the others sleep on the
 * condition it signals once a batch is read.
 *
 * Owns: the c-ares channel (every call to it under the lock; its
 * callbacks run under it too) and the table of lookups
 * (name and type -> struct dns_q), which also dedups lookups that
 * several messages start at once.  An answered lookup stays in the table
 * for its TTL (clamped to [10 s, 1 h]; to [0, 1 h] for SPF, DKIM and
 * DMARC, dns_shared); a name that does not exist, or has no record of
 * the type, for the minimum TTL of the SOA the answer carries (RFC 2308;
 * none: 0, so the floor); an unanswered one is asked again
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
#include <arpa/nameser.h>
#include <resolv.h>

#include <ares.h>
#include <glib.h>

#include "checks/auth/auth.h"
#include "checks/dnsbl/dns.h"
#include "lib/log.h"
#include "lib/util.h"

#define DNS_TTL_MIN	10
#define DNS_TTL_MAX	3600
#define DNS_RETRY_US	(30 * 1000000ull)
#define DNS_TABLE_MAX	50000	/* entries before expired ones are swept */
#define DNS_POLL_MAX_US	100000	/* a reader looks for new sockets */
#define DNS_CH_QUERIES	200	/* queries a channel sends before a new one */

struct dns_q {
	struct dns	*d;
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
	ares_channel	 ch;		/* made with the first lookup */
	bool		 has_ch;
	unsigned	 ch_sent;	/* queries the channel sent */
	unsigned	 inflight;	/* its queries not answered yet */
	bool		 is_reading;	/* a waiter reads c-ares's sockets */
	char		*ctx_err;	/* why ctx could not be built */
	GHashTable	*table;		/* "type/name" -> struct dns_q */
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

void
dns_free(struct dns **dp)
{
	struct dns *d = *dp;
	GHashTableIter it;
	gpointer k, v;

	if (d == NULL)
		return;
	/* Lookups still in flight end with ARES_EDESTRUCTION: their
	 * callbacks drop the lookups' own references. */
	if (d->has_ch) {
		pthread_mutex_lock(&d->lock);
		ares_destroy(d->ch);
		d->has_ch = false;
		pthread_mutex_unlock(&d->lock);
	}
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

static int		 lib_rc = ARES_SUCCESS;
static pthread_once_t	 lib_once = PTHREAD_ONCE_INIT;

static void
lib_init(void)
{
	lib_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

/* Under d->lock: the channel, once.  False when it cannot be made
 * (d->ctx_err says why; logged once). */
static bool
ctx_ready(struct dns *d)
{
	struct ares_options o;
	int rc;

	if (d->has_ch)
		return true;
	if (d->ctx_err != NULL)
		return false;
	pthread_once(&lib_once, lib_init);
	/* The system's resolvers (resolv.conf: the test namespace's too),
	 * its attempts and timeout; names asked as written (no search
	 * list, no HOSTALIASES); the sockets kept open between messages
	 * (c-ares closes them whenever no lookup is in flight); EDNS for
	 * DKIM's long keys (TCP when an answer is truncated all the same). */
	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS |
	    ARES_FLAG_STAYOPEN;
	o.ednspsz = 1232;
	if ((rc = lib_rc) != ARES_SUCCESS || (rc = ares_init_options(&d->ch,
	    &o, ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ)) != ARES_SUCCESS) {
		if (asprintf(&d->ctx_err, "c-ares: %s", ares_strerror(rc)) < 0)
			d->ctx_err = NULL;
		if (d->ctx_err == NULL)
			d->ctx_err = strdup("out of memory");
		log_sys(LOG_ERR, "dns: cannot start the resolver: %s: DNS "
		    "lists get no answers", d->ctx_err);
		return false;
	}
	d->has_ch = true;
	d->ch_sent = 0;
	return true;
}

/* Text of one answer record (A, AAAA, TXT: its strings joined); false
 * to skip it. */
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

/* The answers of q's type in a reply (texts g_malloc'd into *texts_r,
 * *ttl_r their least TTL); DNS_OK, or DNS_NODATA when there is none
 * (a CNAME alone). */
static enum dns_rc
reply_answers(const struct dns_q *q, const unsigned char *buf, int len,
    char ***texts_r, size_t *n_r, int *ttl_r)
{
	ns_msg h;
	ns_rr rr;
	int cnt;
	size_t n = 0;
	char **texts;
	int ttl = -1;

	*texts_r = NULL;
	*n_r = 0;
	if (ns_initparse(buf, len, &h) < 0)
		return DNS_ERROR;
	cnt = ns_msg_count(h, ns_s_an);
	texts = g_new0(char *, (size_t)cnt + 1);
	for (int i = 0; i < cnt; i++) {
		char out[4096];
		const unsigned char *rd;
		int type = q->type;
		bool ok;

		if (ns_parserr(&h, ns_s_an, i, &rr) < 0)
			break;
		if ((int)ns_rr_type(rr) != q->type || ns_rr_class(rr) != ns_c_in)
			continue;
		rd = ns_rr_rdata(rr);
		if (type == DNS_T_MX) {
			/* The preference, then the host. */
			if (ns_rr_rdlen(rr) < 3)
				continue;
			rd += 2;
			type = DNS_T_NS;
		}
		if (type == DNS_T_NS || type == DNS_T_PTR)
			ok = ns_name_uncompress(ns_msg_base(h), ns_msg_end(h),
			    rd, out, sizeof(out)) > 0 && strcmp(out, ".") != 0;
		else
			ok = rdata_text(type, (const char *)rd,
			    ns_rr_rdlen(rr), out, sizeof(out));
		if (!ok)
			continue;
		texts[n++] = g_strdup(out);
		if (ttl < 0 || (int)ns_rr_ttl(rr) < ttl)
			ttl = (int)ns_rr_ttl(rr);
	}
	if (n == 0) {
		g_free(texts);
		return DNS_NODATA;
	}
	*texts_r = texts;
	*n_r = n;
	*ttl_r = ttl;
	return DNS_OK;
}

/* How long a negative reply may be kept: its SOA's TTL or minimum,
 * whichever is less (RFC 2308); 0 without an SOA. */
static int
reply_negative_ttl(const unsigned char *buf, int len)
{
	ns_msg h;
	ns_rr rr;

	if (buf == NULL || ns_initparse(buf, len, &h) < 0)
		return 0;
	for (int i = 0; i < ns_msg_count(h, ns_s_ns); i++) {
		const unsigned char *p, *end;
		int l;
		uint32_t min;

		if (ns_parserr(&h, ns_s_ns, i, &rr) < 0)
			break;
		if (ns_rr_type(rr) != ns_t_soa)
			continue;
		p = ns_rr_rdata(rr);
		end = p + ns_rr_rdlen(rr);
		/* MNAME and RNAME, then five 32-bit fields: MINIMUM last. */
		for (int k = 0; k < 2; k++) {
			if ((l = dn_skipname(p, end)) < 0)
				return 0;
			p += l;
		}
		if (end - p < 20)
			return 0;
		min = ns_get32(p + 16);
		return (int)(min < ns_rr_ttl(rr) ? min : ns_rr_ttl(rr));
	}
	return 0;
}

/* A lookup's reply, under d->lock (every c-ares call runs under it),
 * in the thread reading c-ares's sockets (dns_wait), which wakes the
 * other waiters once it has read a batch. */
static void
dns_answered(void *arg, int status, int timeouts, unsigned char *buf,
    int len)
{
	struct dns_q *q = arg;
	struct dns *d = q->d;
	enum dns_rc rc = DNS_ERROR;
	char **texts = NULL;
	size_t n = 0;
	int ttl = 0;

	(void)timeouts;
	d->inflight--;
	switch (status) {
	case ARES_SUCCESS:
		rc = reply_answers(q, buf, len, &texts, &n, &ttl);
		if (rc == DNS_NODATA)
			ttl = reply_negative_ttl(buf, len);
		break;
	case ARES_ENODATA:
		rc = DNS_NODATA;
		ttl = reply_negative_ttl(buf, len);
		break;
	case ARES_ENOTFOUND:
		rc = DNS_NXDOMAIN;
		ttl = reply_negative_ttl(buf, len);
		break;
	case ARES_EDESTRUCTION:		/* dns_free */
		q_unref_locked(q);
		return;
	}
	ttl = ttl < 0 ? 0 : ttl > DNS_TTL_MAX ? DNS_TTL_MAX : ttl;
	if (n > 0)
		q->answers = adns_pack(texts, n);
	q->nanswers = n;
	if (ttl < d->ttl_min)
		ttl = d->ttl_min;
	q->expires_us = util_now_us() + (uint64_t)(rc == DNS_ERROR ?
	    d->ttl_min : ttl) * 1000000u;
	q->rc = rc;
	q_unref_locked(q);		/* the lookup's own reference */
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

/* "TYPE/NAME", malloc'd (a key of the table; no format parsing: one
 * a lookup of every message). */
static char *
q_key(int type, const char *name)
{
	char t[12];
	size_t n = sizeof(t), len = strlen(name);
	unsigned v = type > 0 ? (unsigned)type : 0;
	char *k;

	t[--n] = '/';
	do
		t[--n] = (char)('0' + v % 10);
	while ((v /= 10) != 0 && n > 0);
	if ((k = malloc(sizeof(t) - n + len + 1)) == NULL)
		log_oom(sizeof(t) - n + len + 1, "dns lookup");
	memcpy(k, t + n, sizeof(t) - n);
	memcpy(k + sizeof(t) - n, name, len + 1);
	return k;
}

struct dns_q *
dns_start(struct dns *d, const char *name, int type)
{
	char *key;
	struct dns_q *q, *old;
	uint64_t now = util_now_us();

	if (d->zone != NULL)
		return zone_start(d, name, type);
	key = q_key(type, name);
	pthread_mutex_lock(&d->lock);
	d->n_lookups++;
	old = g_hash_table_lookup(d->table, key);
	if (old != NULL && (old->rc == DNS_PENDING ?
	    now - old->started_us < DNS_RETRY_US : old->expires_us > now)) {
		d->n_cached++;
		old->refs++;
		pthread_mutex_unlock(&d->lock);
		free(key);
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
	g_hash_table_insert(d->table, key, q);	/* the table owns key */
	/* c-ares keeps one source port a socket (ours stay open): a new
	 * channel, with new sockets on new random ports, every
	 * DNS_CH_QUERIES queries, once none is in flight, so that a forged
	 * answer has to guess the port again and not only the query id. */
	if (d->has_ch && d->ch_sent >= DNS_CH_QUERIES && d->inflight == 0) {
		ares_destroy(d->ch);
		d->has_ch = false;
	}
	if (!ctx_ready(d)) {
		q->rc = DNS_ERROR;
		q->expires_us = now + DNS_TTL_MIN * 1000000ull;
		pthread_mutex_unlock(&d->lock);
		return q;
	}
	q->refs++;		/* the lookup's, dropped by its callback */
	q->d = d;
	d->n_sent++;
	d->ch_sent++;
	d->inflight++;
	/* Sent at once; the callback may run here (a send that failed). */
	ares_query(d->ch, name, ns_c_in, type, dns_answered, q);
	pthread_mutex_unlock(&d->lock);
	return q;
}

/* Under d->lock, which it drops while it waits: polls c-ares's sockets
 * until a reply comes, deadline_us or c-ares's next timeout, lets c-ares
 * read them (the callbacks), then wakes the other waiters.  A socket
 * c-ares opens meanwhile is seen at the next round (DNS_POLL_MAX_US). */
static void
read_answers(struct dns *d, uint64_t deadline_us)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd p[ARES_GETSOCK_MAXNUM];
	struct timeval maxtv, tv, *tvp;
	struct timespec ts;
	uint64_t left = deadline_us - util_now_us();
	unsigned bits;
	int np = 0, n;

	if (left > DNS_POLL_MAX_US)
		left = DNS_POLL_MAX_US;
	maxtv.tv_sec = (time_t)(left / 1000000u);
	maxtv.tv_usec = (suseconds_t)(left % 1000000u);
	tvp = ares_timeout(d->ch, &maxtv, &tv);
	ts.tv_sec = tvp->tv_sec;
	ts.tv_nsec = (long)tvp->tv_usec * 1000;
	/* Bit i: socket i is read, bit ARES_GETSOCK_MAXNUM + i: written
	 * (ares.h's macros shift a signed 1 into the sign bit). */
	bits = (unsigned)ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
	for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		short ev = (short)(((bits >> i) & 1u ? POLLIN : 0) |
		    ((bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u ? POLLOUT : 0));

		if (ev != 0) {
			p[np].fd = socks[i];
			p[np].events = ev;
			p[np++].revents = 0;
		}
	}
	d->is_reading = true;
	pthread_mutex_unlock(&d->lock);
	n = ppoll(p, (nfds_t)np, &ts, NULL);
	if (n < 0 && errno != EINTR)
		log_sys(LOG_ERR, "dns: poll on c-ares's sockets: %s",
		    strerror(errno));
	pthread_mutex_lock(&d->lock);
	d->is_reading = false;
	for (int i = 0; i < np && n > 0; i++)
		if (p[i].revents != 0)
			ares_process_fd(d->ch, p[i].revents & (POLLIN | POLLERR |
			    POLLHUP) ? p[i].fd : ARES_SOCKET_BAD,
			    p[i].revents & POLLOUT ? p[i].fd : ARES_SOCKET_BAD);
	/* Timeouts and retries. */
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	pthread_cond_broadcast(&d->cond);
}

enum dns_rc
dns_wait(struct dns *d, struct dns_q *q, uint64_t deadline_us)
{
	enum dns_rc rc;

	if (d->zone != NULL)
		return q->rc;
	pthread_mutex_lock(&d->lock);
	while (q->rc == DNS_PENDING && d->has_ch) {
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
