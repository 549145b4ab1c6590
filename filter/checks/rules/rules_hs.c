/*
 * rules_hs.c - the regex prefilter: the body and rawbody rules that have
 * no literal for the literal prefilter (rules_pf.c), such as
 * SpamAssassin's obfuscation rules, in one Hyperscan database per type,
 * compiled in prefilter mode (HS_FLAG_PREFILTER) and scanned once over
 * each chunk of a message.  A rule runs (PCRE2, as written) only on the
 * chunks where its prefilter reported a match.
 *
 * Why that is sound: Hyperscan's prefilter mode compiles an
 * approximation of each pattern that matches wherever the pattern does
 * (a superset: constructs it cannot express, such as back references,
 * are widened), so a chunk it reports no match in holds no match of the
 * pattern.  Each chunk is scanned on its own, as PCRE2 runs on it, so
 * ^, $, \A, \z and \b see the same text.  The byte semantics agree:
 * neither is in UTF mode, \w \d \s and caseless matching are ASCII in
 * both.  A pattern Hyperscan does not parse (PCRE2's literal unknown
 * escapes, lookbehinds, /x) or that may match the empty string keeps no
 * prefilter and runs on every chunk, as before.
 *
 * Not every pattern is worth it: a prefilter costs Hyperscan a scan of
 * every chunk, and for some patterns (SpamAssassin's FUZZY_PHENT, whose
 * approximation Hyperscan runs as a large NFA) that scan costs several
 * times what PCRE2 spends on the pattern itself, while PCRE2 passes over
 * others (a rare first byte) at almost no cost.  So, when the database
 * is compiled, each pattern is measured on its own (worth_it): the time
 * Hyperscan takes to scan a probe of English mail text with the
 * pattern's approximation alone (less that of an empty database's scan,
 * which the whole database pays once) against the time PCRE2 (the
 * rule's screen, then its regex, as rules_eval.c runs them) takes on the
 * probe's chunks the approximation rules out.  Only the patterns whose
 * prefilter saves more than it costs go into the database; the others
 * run on every chunk, as without a prefilter.  Which ones were kept is
 * stored with the database, so a cached file gives the same choice.
 * The choice never changes a hit, only where time goes.
 *
 * Compiling such a database takes seconds for SpamAssassin's rules, so
 * it is cached on disk (RulesCacheDir): one file a database, named by
 * the hash of what it is compiled from (the patterns, their flags and
 * ids) and Hyperscan's version, holding a header (magic, Hyperscan's
 * version string, that key, the payload's length and XXH3 checksum)
 * and hs_serialize_database()'s bytes.  A file whose header or checksum
 * does not match, or that Hyperscan does not deserialize, is never
 * used: the database is compiled again and the file replaced, with a
 * warning.  Files are written to a temporary name and renamed, so a
 * reader never sees half of one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#ifdef HAVE_HYPERSCAN
#include <hs.h>
#endif

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"

/* Counters for `vigilctl stats` (rules_hs_write_stats). */
static _Atomic uint64_t	hs_n_compiled, hs_n_cached, hs_n_rebuilt,
			hs_n_left_out;

#define HS_MAGIC	"VIGILHS1"
#define HS_VERLEN	64

struct hs_file_header {
	char		magic[8];
	char		version[HS_VERLEN];	/* hs_version() */
	uint64_t	key;
	uint64_t	len;			/* of the payload */
	uint64_t	sum;			/* XXH3 of the payload */
	uint64_t	nkept;
};
/* The payload: the patterns kept (uint32_t positions among those the
 * key was made from: the compile may refuse some), then the database. */

struct rules_hs {
#ifdef HAVE_HYPERSCAN
	hs_database_t	*db;
	uint64_t	 serial;
#endif
	size_t		 n;		/* patterns: rule hs_id - 1 */
};

struct hs_scan {
	const struct rules_hs	*hs;
	size_t			 nc;
	uint8_t			*bits;	/* [id * nc + chunk], bit by bit */
};

#ifdef HAVE_HYPERSCAN
static pthread_key_t	hs_key;
static pthread_once_t	hs_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t	hs_serials;

#define HS_FITTED	8
struct hs_tls {
	hs_scratch_t	*s;
	uint64_t	 fitted[HS_FITTED];
	unsigned	 n;
};

static struct util_spares hs_spares = UTIL_SPARES_INIT;

/* At a thread's exit: kept for the next thread (util_spare_keep). */
static void
tls_free(void *p)
{
	struct hs_tls *t = p;

	if (util_spare_keep(&hs_spares, t))
		return;
	hs_free_scratch(t->s);
	g_free(t);
}

static void
key_init(void)
{
	if (pthread_key_create(&hs_key, tls_free) != 0)
		BUG("rules: pthread_key_create failed");
}

/* This thread's scratch, grown to fit hs's database (as rules_pf.c's). */
static hs_scratch_t *
scratch_get(const struct rules_hs *hs)
{
	struct hs_tls *t;

	pthread_once(&hs_once, key_init);
	if ((t = pthread_getspecific(hs_key)) == NULL) {
		if ((t = util_spare_take(&hs_spares)) == NULL)
			t = g_new0(struct hs_tls, 1);
		if (pthread_setspecific(hs_key, t) != 0)
			BUG("rules: pthread_setspecific failed");
	}
	for (unsigned k = 0; k < t->n; k++)
		if (t->fitted[k] == hs->serial)
			return t->s;
	if (hs_alloc_scratch(hs->db, &t->s) != HS_SUCCESS)
		log_oom(1 << 20, "rules hyperscan scratch");
	if (t->n == HS_FITTED)
		t->n = 0;
	t->fitted[t->n++] = hs->serial;
	return t->s;
}

static unsigned
hs_flags(const char *flags, bool *ok_r)
{
	unsigned f = HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH;

	*ok_r = true;
	for (const char *c = flags; *c != '\0'; c++)
		switch (*c) {
		case 'i': f |= HS_FLAG_CASELESS; break;
		case 'm': f |= HS_FLAG_MULTILINE; break;
		case 's': f |= HS_FLAG_DOTALL; break;
		case 'g': case 'o': case 'p': case 'a': case 'u': case 'l':
		case 'd':
			break;
		default:	/* x and anything else: no prefilter */
			*ok_r = false;
		}
	return f;
}

static char *
cache_path(const char *dir, const char *label, uint64_t key)
{
	return g_strdup_printf("%s/rules-%s-%016llx.hsdb", dir, label,
	    (unsigned long long)key);
}

/*
 * The database cached in path for key, or NULL: missing (quietly), or
 * anything wrong with it (*bad_r set, why in why).
 */
static hs_database_t *
cache_load(const char *path, uint64_t key, uint32_t npat, GArray *kept,
    bool *bad_r, char *why, size_t whylen)
{
	const uint32_t *k;
	size_t klen;
	struct hs_file_header h;
	gchar *buf = NULL;
	gsize len = 0;
	hs_database_t *db = NULL;
	char ver[HS_VERLEN] = { 0 };

	*bad_r = false;
	if (!g_file_get_contents(path, &buf, &len, NULL))
		return NULL;
	*bad_r = true;
	snprintf(ver, sizeof(ver), "%s", hs_version());
	if (len < sizeof(h)) {
		snprintf(why, whylen, "shorter than its header");
		goto out;
	}
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, HS_MAGIC, sizeof(h.magic)) != 0)
		snprintf(why, whylen, "not a rules cache file");
	else if (memcmp(h.version, ver, HS_VERLEN) != 0)
		snprintf(why, whylen, "made by another Hyperscan (%.*s)",
		    HS_VERLEN - 1, h.version);
	else if (h.key != key)
		snprintf(why, whylen, "made for other rules");
	else if (h.len != len - sizeof(h))
		snprintf(why, whylen, "truncated or overlong");
	else if (XXH3_64bits(buf + sizeof(h), (size_t)h.len) != h.sum)
		snprintf(why, whylen, "checksum mismatch");
	else if (h.nkept == 0 || h.nkept > npat ||
	    (klen = (size_t)h.nkept * sizeof(uint32_t)) > h.len)
		snprintf(why, whylen, "bad pattern count");
	else if (hs_deserialize_database(buf + sizeof(h) + klen,
	    (size_t)h.len - klen, &db) != HS_SUCCESS) {
		snprintf(why, whylen, "Hyperscan does not deserialize it");
		db = NULL;
	} else {
		k = (const uint32_t *)(const void *)(buf + sizeof(h));
		g_array_set_size(kept, 0);
		for (size_t i = 0; i < h.nkept; i++) {
			uint32_t v;

			memcpy(&v, k + i, sizeof(v));
			if (v >= npat || (i > 0 && v <= g_array_index(kept,
			    uint32_t, i - 1))) {
				snprintf(why, whylen, "bad pattern list");
				hs_free_database(db);
				db = NULL;
				goto out;
			}
			g_array_append_val(kept, v);
		}
		*bad_r = false;
	}
out:
	g_free(buf);
	return db;
}

/* Writes db to path (through a temporary file); false with errno. */
static bool
cache_store(const char *path, const hs_database_t *db, uint64_t key,
    const GArray *kept)
{
	size_t klen = kept->len * sizeof(uint32_t);
	XXH3_state_t *xs;
	struct hs_file_header h;
	char *bytes = NULL, *tmp;
	size_t len = 0;
	FILE *f;
	bool ok;

	if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS) {
		errno = ENOMEM;
		return false;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, HS_MAGIC, sizeof(h.magic));
	snprintf(h.version, sizeof(h.version), "%s", hs_version());
	h.key = key;
	h.len = klen + len;
	h.nkept = kept->len;
	xs = XXH3_createState();
	XXH3_64bits_reset(xs);
	XXH3_64bits_update(xs, kept->data, klen);
	XXH3_64bits_update(xs, bytes, len);
	h.sum = XXH3_64bits_digest(xs);
	XXH3_freeState(xs);
	{
		char *dir = g_path_get_dirname(path);

		(void)g_mkdir_with_parents(dir, 0750);
		g_free(dir);
	}
	tmp = g_strdup_printf("%s.%ld.tmp", path, (long)getpid());
	if ((f = fopen(tmp, "wb")) == NULL) {
		free(bytes);
		g_free(tmp);
		return false;
	}
	ok = fwrite(&h, sizeof(h), 1, f) == 1 && (klen == 0 ||
	    fwrite(kept->data, 1, klen, f) == klen) && fwrite(bytes, 1, len,
	    f) == len;
	ok = fclose(f) == 0 && ok;
	free(bytes);
	if (ok && rename(tmp, path) == 0) {
		g_free(tmp);
		return true;
	}
	{
		int e = errno;

		unlink(tmp);
		errno = e;
	}
	g_free(tmp);
	return false;
}

/*
 * The probe worth_it measures patterns on: paragraphs of ordinary mail
 * text (English, with the numbers, prices, addresses, links and
 * punctuation mail has), each a chunk as a body rule sees one.
 */
static const char *const probe[] = {
	"Hello Anna,",
	"Thanks for your message of Tuesday. I have looked at the draft of "
	"the report and made a few changes to the second section; the "
	"figures for March were off by a week, so the totals moved a bit.",
	"Could you send me the latest version of the spreadsheet before "
	"the meeting on Friday at 10:30? If that does not work for you, "
	"Monday morning is fine as well.",
	"The order (ref. 48213-B) shipped yesterday and should arrive "
	"within 3-5 business days. The total was $129.95 including tax; "
	"you can track it at https://www.example.com/track?id=48213 or "
	"call us on +1 (555) 010-4477.",
	"We are pleased to announce the release of version 2.4 of the "
	"library. This release fixes several bugs, improves performance "
	"on large inputs and adds support for new platforms. See the "
	"release notes for details.",
	"-- ",
	"John Smith, Project Manager | Example Corp. | 12 Main Street, "
	"Springfield | Phone: 555-0199 | john.smith@example.com",
	"On Mon, 3 Jun 2024 at 09:12, Anna Lee <anna@example.org> wrote:",
	"> I think we should move the deadline to the end of the month, "
	"> since the team is still waiting for the data from the vendor.",
	"UNSUBSCRIBE: if you no longer wish to receive these emails, "
	"click here or reply with \"remove\" in the subject line.",
	"Best regards, and have a nice weekend!",
	"P.S. The photos from the trip are in the shared folder: "
	"IMG_2041.JPG to IMG_2097.JPG, about 45 MB in all.",
};
#define PROBE_N		(sizeof(probe) / sizeof(probe[0]))
#define PROBE_REPS	16	/* scans of the probe a measure */
#define PROBE_ROUNDS	3	/* measures; the least is taken */

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
on_probe(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	*(bool *)arg = true;
	return 1;	/* one match tells enough */
}

/* The least time PROBE_REPS scans of the probe with db take; pass (if
 * not NULL) marks the chunks the database matches in. */
static double
probe_scan(const hs_database_t *db, hs_scratch_t *s, bool *pass)
{
	double best = -1;

	for (int k = 0; k < PROBE_ROUNDS; k++) {
		double t0 = cpu_now(), t;

		for (int rep = 0; rep < PROBE_REPS; rep++)
			for (size_t i = 0; i < PROBE_N; i++) {
				bool m = false;

				(void)hs_scan(db, probe[i],
				    (unsigned)strlen(probe[i]), 0, s, on_probe,
				    &m);
				if (pass != NULL && m)
					pass[i] = true;
			}
		t = cpu_now() - t0;
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

/* The least time PROBE_REPS runs of r's PCRE2 take on the chunks pass
 * does not hold (those the prefilter would spare it). */
static double
probe_pcre(const struct rule *r, const bool *pass)
{
	double best = -1;
	size_t so, eo;

	for (int k = 0; k < PROBE_ROUNDS; k++) {
		double t0 = cpu_now(), t;

		for (int rep = 0; rep < PROBE_REPS; rep++)
			for (size_t i = 0; i < PROBE_N; i++) {
				size_t len = strlen(probe[i]);

				if (pass[i] || (r->screen != NULL &&
				    rx_match(r->screen, probe[i], len, 0, &so,
				    &eo) == RX_NOMATCH))
					continue;
				(void)rx_match(r->rx, probe[i], len, 0, &so,
				    &eo);
			}
		t = cpu_now() - t0;
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

/*
 * Is r's prefilter (pat, Hyperscan flags f) worth its scan: does PCRE2
 * spend more on the probe's chunks it rules out than Hyperscan spends
 * scanning with it (base: the scan of an empty database)?  No when the
 * pattern does not compile on its own.
 */
static bool
worth_it(const struct rule *r, const char *pat, unsigned f, double base)
{
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;
	hs_scratch_t *s = NULL;
	bool pass[PROBE_N] = { false }, ok = false;

	if (hs_compile(pat, f, HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
		hs_free_compile_error(ce);
		return false;
	}
	if (hs_alloc_scratch(db, &s) == HS_SUCCESS) {
		double hs_t = probe_scan(db, s, pass) - base;
		double re_t = probe_pcre(r, pass);

		ok = re_t > hs_t;
		hs_free_scratch(s);
		log_sys(LOG_DEBUG, "rules: regex prefilter %s %s: Hyperscan "
		    "%.0f us, PCRE2 spared %.0f us on the probe", ok ? "keeps" :
		    "leaves out", r->name, hs_t * 1e6, re_t * 1e6);
	}
	hs_free_database(db);
	return ok;
}

/* The time of an empty database's scans of the probe: a literal that
 * never occurs in it. */
static double
probe_base(void)
{
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;
	hs_scratch_t *s = NULL;
	double t = 0;

	if (hs_compile("\\x00\\x01\\x02\\x03", 0, HS_MODE_BLOCK, NULL, &db,
	    &ce) != HS_SUCCESS) {
		hs_free_compile_error(ce);
		return 0;
	}
	if (hs_alloc_scratch(db, &s) == HS_SUCCESS) {
		t = probe_scan(db, s, NULL);
		hs_free_scratch(s);
	}
	hs_free_database(db);
	return t;
}

/* Removes label's other cache files in dir (an older rule set's). */
static void
cache_prune(const char *dir, const char *label, const char *keep)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	char *prefix = g_strdup_printf("rules-%s-", label);
	const char *n;

	if (d == NULL) {
		g_free(prefix);
		return;
	}
	while ((n = g_dir_read_name(d)) != NULL) {
		char *p;

		if (!g_str_has_prefix(n, prefix) || !g_str_has_suffix(n,
		    ".hsdb"))
			continue;
		p = g_build_filename(dir, n, NULL);
		if (strcmp(p, keep) != 0)
			unlink(p);
		g_free(p);
	}
	g_dir_close(d);
	g_free(prefix);
}
#endif

struct rules_hs *
hs_build(struct rule *const *rules, size_t n, const char *cache_dir,
    const char *label)
{
#ifdef HAVE_HYPERSCAN
	GPtrArray *exprs = g_ptr_array_new_with_free_func(g_free);
	GArray *flags = g_array_new(FALSE, FALSE, sizeof(unsigned));
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(unsigned));
	GPtrArray *who = g_ptr_array_new();
	GArray *kept = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	struct timespec t0, t1;
	uint32_t npat;
	struct rules_hs *hs = NULL;
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;
	XXH3_state_t *xs;
	const char *how;
	uint64_t key;
	char *path = NULL;

	for (size_t i = 0; i < n; i++) {
		struct rule *r = rules[i];
		const char *why = NULL;
		hs_expr_info_t *info = NULL;
		char *pat;
		unsigned f;
		bool ok;

		r->hs_id = 0;
		f = hs_flags(r->flags, &ok);
		if (!ok || (pat = rx_translate(r->expanded != NULL ?
		    r->expanded : r->pattern, &why)) == NULL)
			continue;
		/* What Hyperscan cannot parse, or an approximation that
		 * matches the empty string (it would say yes everywhere). */
		if (hs_expression_info(pat, f, &info, &ce) != HS_SUCCESS) {
			hs_free_compile_error(ce);
			ce = NULL;
			free(pat);
			continue;
		}
		ok = info->min_width > 0;
		free(info);
		if (!ok) {
			free(pat);
			continue;
		}
		g_ptr_array_add(exprs, g_strdup(pat));
		free(pat);
		g_array_append_val(flags, f);
		g_ptr_array_add(who, r);
	}
	if (exprs->len == 0)
		goto out;
	/* The key: what the database is compiled from, and how its
	 * patterns are chosen (a file of another choice is not used). */
	xs = XXH3_createState();
	XXH3_64bits_reset(xs);
	XXH3_64bits_update(xs, hs_version(), strlen(hs_version()));
	how = getenv("VIGIL_RULES_HS_ALL") != NULL ? "all" : "worth_it";
	XXH3_64bits_update(xs, how, strlen(how) + 1);
	for (unsigned i = 0; i < exprs->len; i++) {
		const char *e = exprs->pdata[i];

		XXH3_64bits_update(xs, &g_array_index(flags, unsigned, i),
		    sizeof(unsigned));
		XXH3_64bits_update(xs, e, strlen(e) + 1);
	}
	key = XXH3_64bits_digest(xs);
	XXH3_freeState(xs);
	npat = exprs->len;
	if (cache_dir != NULL && cache_dir[0] != '\0') {
		char why[128];
		bool bad;

		path = cache_path(cache_dir, label, key);
		if ((db = cache_load(path, key, npat, kept, &bad, why,
		    sizeof(why))) != NULL) {
			atomic_fetch_add(&hs_n_cached, 1);
			log_sys(LOG_INFO, "rules: %s regex prefilter of %u "
			    "patterns loaded from %s", label, kept->len, path);
			goto made;
		}
		if (bad) {
			atomic_fetch_add(&hs_n_rebuilt, 1);
			log_sys(LOG_WARNING, "rules: %s: %s: not used, "
			    "compiled again", path, why);
		}
	}
	/* kept: positions among the patterns, those worth their scan
	 * (all of them with VIGIL_RULES_HS_ALL set); a pattern the whole
	 * compile refuses leaves, one by one. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	g_array_set_size(kept, 0);
	{
		bool all = getenv("VIGIL_RULES_HS_ALL") != NULL;
		double base = all ? 0 : probe_base();

		for (uint32_t i = 0; i < npat; i++)
			if (all || worth_it(who->pdata[i], exprs->pdata[i],
			    g_array_index(flags, unsigned, i), base))
				g_array_append_val(kept, i);
		atomic_fetch_add(&hs_n_left_out, npat - kept->len);
		log_sys(LOG_INFO, "rules: %s regex prefilter: %u of %u patterns "
		    "worth their scan", label, kept->len, npat);
	}
	for (;;) {
		GPtrArray *e = g_ptr_array_new();
		GArray *fl = g_array_new(FALSE, FALSE, sizeof(unsigned));
		int rc;

		if (kept->len == 0) {
			g_ptr_array_free(e, TRUE);
			g_array_free(fl, TRUE);
			goto out;
		}
		g_array_set_size(ids, 0);
		for (unsigned i = 0; i < kept->len; i++) {
			uint32_t at = g_array_index(kept, uint32_t, i);

			g_ptr_array_add(e, exprs->pdata[at]);
			g_array_append_val(fl, g_array_index(flags, unsigned,
			    at));
			g_array_append_val(ids, i);
		}
		rc = hs_compile_multi((const char *const *)e->pdata,
		    (const unsigned *)(void *)fl->data,
		    (const unsigned *)(void *)ids->data, kept->len,
		    HS_MODE_BLOCK, NULL, &db, &ce);
		g_ptr_array_free(e, TRUE);
		g_array_free(fl, TRUE);
		if (rc == HS_SUCCESS)
			break;
		{
			int bad = ce != NULL ? ce->expression : -1;

			hs_free_compile_error(ce);
			ce = NULL;
			db = NULL;
			if (bad < 0 || (unsigned)bad >= kept->len)
				goto out;
			g_array_remove_index(kept, (guint)bad);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	atomic_fetch_add(&hs_n_compiled, 1);
	log_sys(LOG_INFO, "rules: %s regex prefilter of %u patterns compiled "
	    "in %.0f ms", label, kept->len, (double)(t1.tv_sec - t0.tv_sec) *
	    1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	if (path != NULL) {
		if (cache_store(path, db, key, kept))
			cache_prune(cache_dir, label, path);
		else
			log_sys(LOG_NOTICE, "rules: %s: %s: the regex prefilter "
			    "is compiled again next time", path,
			    strerror(errno));
	}
made:
	hs = g_new0(struct rules_hs, 1);
	hs->db = db;
	hs->serial = atomic_fetch_add(&hs_serials, 1) + 1;
	hs->n = kept->len;
	for (unsigned i = 0; i < kept->len; i++)
		((struct rule *)who->pdata[g_array_index(kept, uint32_t,
		    i)])->hs_id = i + 1;
out:
	g_free(path);
	g_ptr_array_free(exprs, TRUE);
	g_array_free(flags, TRUE);
	g_array_free(ids, TRUE);
	g_array_free(kept, TRUE);
	g_ptr_array_free(who, TRUE);
	return hs;
#else
	(void)rules;
	(void)n;
	(void)cache_dir;
	(void)label;
	return NULL;
#endif
}

void
hs_free(struct rules_hs *hs)
{
	if (hs == NULL)
		return;
#ifdef HAVE_HYPERSCAN
	hs_free_database(hs->db);
#endif
	g_free(hs);
}

size_t
hs_count(const struct rules_hs *hs)
{
	return hs != NULL ? hs->n : 0;
}

#ifdef HAVE_HYPERSCAN
struct hs_one {
	struct hs_scan	*sc;
	size_t		 chunk;
};

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
	struct hs_one *o = arg;
	size_t bit = (size_t)id * o->sc->nc + o->chunk;

	(void)from;
	(void)to;
	(void)flags;
	o->sc->bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
	return 0;
}
#endif

struct hs_scan *
hs_run(const struct rules_hs *hs, const struct rules_chunk *c, size_t nc,
    struct arena *a)
{
#ifdef HAVE_HYPERSCAN
	struct hs_scan *sc;
	hs_scratch_t *s;
	size_t nbytes;

	if (hs == NULL || hs->db == NULL)
		return NULL;
	nbytes = (hs->n * nc + 7) / 8 + 1;
	sc = arena_alloc(a, sizeof(*sc));
	sc->hs = hs;
	sc->nc = nc;
	sc->bits = arena_alloc(a, nbytes);
	memset(sc->bits, 0, nbytes);
	s = scratch_get(hs);
	for (size_t i = 0; i < nc; i++) {
		struct hs_one o = { .sc = sc, .chunk = i };

		/* A chunk Hyperscan cannot scan: every rule may match. */
		if (c[i].len > UINT32_MAX || hs_scan(hs->db, c[i].p,
		    (unsigned)c[i].len, 0, s, on_match, &o) != HS_SUCCESS)
			return NULL;
	}
	return sc;
#else
	(void)hs;
	(void)c;
	(void)nc;
	(void)a;
	return NULL;
#endif
}

bool
hs_may_match(const struct hs_scan *sc, const struct rule *r, size_t i)
{
	size_t bit;

	if (sc == NULL || r->hs_id == 0 || i >= sc->nc)
		return true;
	bit = (size_t)(r->hs_id - 1) * sc->nc + i;
	return (sc->bits[bit / 8] >> (bit % 8)) & 1;
}

void
rules_hs_write_stats(FILE *out)
{
	fprintf(out, "rules.regex_prefilter.compiled %llu\n",
	    (unsigned long long)atomic_load(&hs_n_compiled));
	fprintf(out, "rules.regex_prefilter.cache_loads %llu\n",
	    (unsigned long long)atomic_load(&hs_n_cached));
	fprintf(out, "rules.regex_prefilter.cache_rejected %llu\n",
	    (unsigned long long)atomic_load(&hs_n_rebuilt));
	fprintf(out, "rules.regex_prefilter.left_out %llu\n",
	    (unsigned long long)atomic_load(&hs_n_left_out));
}
