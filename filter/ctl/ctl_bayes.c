/*
 * ctl_bayes.c - `vigilctl bayes learn|stats|expire|classify|bench`: the
 * admin side of the Bayes classifier.  Messages come from files, Maildir
 * folders, mbox files, plain folders (recursively), list files or stdin;
 * each is parsed by the same code as the milter's (msg_view()), so the
 * tokens learned here are the tokens the filter looks up.
 *
 * The store is the one check_bayes opened in the snapshot; this file owns
 * the message sources and the batches it hands to the store.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "cfg.h"
#include "checks/bayes/bayes.h"
#include "lib/log.h"
#include "lib/util.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "ctl/vigilctl.h"
#include "ctl/ctl_help.h"

/* ---- message sources ---- */

typedef ctl_msg_fn src_fn;

static int	src_path(const char *path, src_fn fn, void *arg);

/* Paths that could not be read: reported, skipped, and the exit status
 * says so; a callback's non-zero return (the store failed) stops all. */
static unsigned src_nerrors;
/* Who reports them: "vigilctl bayes", or ctl_read_messages()'s caller. */
static const char *src_who = "vigilctl bayes";
static int	src_list(const char *list, src_fn fn, void *arg);

/* Splits an mbox at "From " lines that follow a blank line. */
static int
src_mbox(const char *name, const unsigned char *d, size_t len, src_fn fn,
    void *arg)
{
	size_t	 start = 0, i = 0, n = 0;
	int	 rc;

	/* Skip the first envelope line. */
	const unsigned char *nl = memchr(d, '\n', len);
	start = nl != NULL ? (size_t)(nl - d) + 1 : len;
	for (i = start; i + 6 < len; i++) {
		if (d[i] != '\n' || d[i + 1] != '\n' ||
		    memcmp(d + i + 2, "From ", 5) != 0)
			continue;
		char	*mname = g_strdup_printf("%s#%zu", name, ++n);
		rc = fn(arg, mname, d + start, i + 1 - start);
		g_free(mname);
		if (rc != 0)
			return rc;
		nl = memchr(d + i + 2, '\n', len - i - 2);
		start = nl != NULL ? (size_t)(nl - d) + 1 : len;
		i = start - 1;
	}
	if (start < len) {
		char	*mname = g_strdup_printf("%s#%zu", name, ++n);
		rc = fn(arg, mname, d + start, len - start);
		g_free(mname);
		return rc;
	}
	return 0;
}

static int
src_buffer(const char *name, const unsigned char *d, size_t len, src_fn fn,
    void *arg)
{
	if (len >= 5 && memcmp(d, "From ", 5) == 0)
		return src_mbox(name, d, len, fn, arg);
	return fn(arg, name, d, len);
}

static int
src_dir(const char *path, src_fn fn, void *arg)
{
	struct dirent **ents;
	char	*sub;
	int	 n, rc = 0;
	struct stat sb;

	/* A Maildir: its cur/ and new/ only. */
	sub = g_build_filename(path, "cur", NULL);
	bool	 is_maildir = stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode);
	g_free(sub);
	if (is_maildir) {
		static const char *const subs[] = { "cur", "new" };

		for (size_t i = 0; i < 2 && rc == 0; i++) {
			sub = g_build_filename(path, subs[i], NULL);
			if (stat(sub, &sb) == 0)
				rc = src_path(sub, fn, arg);
			g_free(sub);
		}
		return rc;
	}
	if ((n = scandir(path, &ents, NULL, alphasort)) < 0) {
		fprintf(stderr, "%s: %s: %s\n", src_who, path,
		    strerror(errno));
		src_nerrors++;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (rc == 0 && ents[i]->d_name[0] != '.') {
			sub = g_build_filename(path, ents[i]->d_name, NULL);
			rc = src_path(sub, fn, arg);
			g_free(sub);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
src_path(const char *path, src_fn fn, void *arg)
{
	struct stat sb;
	gchar	*data;
	gsize	 len;
	GError	*gerr = NULL;
	int	 rc;

	if (strcmp(path, "-") == 0) {
		GString	*s = g_string_new(NULL);
		char	 buf[65536];
		size_t	 r;

		while ((r = fread(buf, 1, sizeof(buf), stdin)) > 0)
			g_string_append_len(s, buf, (gssize)r);
		if (ferror(stdin)) {
			fprintf(stderr, "%s: stdin: %s\n", src_who,
			    strerror(errno));
			g_string_free(s, TRUE);
			src_nerrors++;
			return 0;
		}
		rc = src_buffer("-", (unsigned char *)s->str, s->len, fn, arg);
		g_string_free(s, TRUE);
		return rc;
	}
	if (stat(path, &sb) == -1) {
		fprintf(stderr, "%s: %s: %s\n", src_who, path,
		    strerror(errno));
		src_nerrors++;
		return 0;
	}
	if (S_ISDIR(sb.st_mode))
		return src_dir(path, fn, arg);
	if (!g_file_get_contents(path, &data, &len, &gerr)) {
		fprintf(stderr, "%s: %s\n", src_who, gerr->message);
		g_error_free(gerr);
		src_nerrors++;
		return 0;
	}
	rc = src_buffer(path, (unsigned char *)data, len, fn, arg);
	g_free(data);
	return rc;
}

int
ctl_read_list(const char *who, const char *list, ctl_msg_fn fn, void *arg,
    unsigned *nerrors_r)
{
	unsigned n0 = src_nerrors;
	int rc;

	src_who = who;
	rc = src_list(list, fn, arg);
	*nerrors_r += src_nerrors - n0;
	return rc;
}

int
ctl_read_messages(const char *who, const char *path, ctl_msg_fn fn,
    void *arg, unsigned *nerrors_r)
{
	unsigned n0 = src_nerrors;
	int rc;

	src_who = who;
	rc = src_path(path, fn, arg);
	*nerrors_r += src_nerrors - n0;
	return rc;
}

const char *
ctl_not_mail(const unsigned char *data, size_t len)
{
	size_t i, hdr_end;

	for (i = 0; i < len; i++)
		if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' &&
		    data[i] != '\n')
			break;
	if (i == len)
		return len == 0 ? "empty" : "blank";
	/* The header ends at the first empty line. */
	for (hdr_end = 0; hdr_end < len; hdr_end++) {
		if (data[hdr_end] == '\0')
			return "binary (NUL byte in the header)";
		if (data[hdr_end] == '\n' && hdr_end + 1 < len &&
		    (data[hdr_end + 1] == '\n' || (data[hdr_end + 1] == '\r' &&
		    hdr_end + 2 < len && data[hdr_end + 2] == '\n')))
			break;
	}
	if (len >= 5 && memcmp(data, "From ", 5) == 0)
		return NULL;
	/* RFC 5322 2.2: a field name is printable ASCII but ':', then ':'. */
	for (i = 0; i < len && data[i] > ' ' && data[i] < 0x7f &&
	    data[i] != ':'; i++)
		;
	if (i == 0 || i == len || data[i] != ':')
		return "no header field at the start";
	return NULL;
}

/* Each line of a list file is a path (the accuracy adapter's format). */
static int
src_list(const char *list, src_fn fn, void *arg)
{
	FILE	*f = strcmp(list, "-") == 0 ? stdin : fopen(list, "r");
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 rc = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", src_who, list,
		    strerror(errno));
		return 1;
	}
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > 0)
			rc = src_path(line, fn, arg);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* ---- parsing a message the way the milter does ---- */

/* Parses data into a message whose view is built (no check runs). */
static struct msg *
ctl_parse(struct snap *s, const unsigned char *data, size_t len)
{
	return parse_buffer(s, data, len, "bayes");
}

/* ---- learn ---- */

#define LEARN_BATCH	1024

struct learn_ctx {
	struct snap	*snap;
	struct bayes_store *store;
	enum bayes_class cls;
	bool		 forget;
	bool		 is_tty;
	uint64_t	 total;		/* expected messages (0: unknown) */
	struct bayes_learn items[LEARN_BATCH];
	size_t		 nitems;
	uint64_t	 counts[5];	/* by result */
	uint64_t	 nmsgs;
	uint64_t	 t0;
	int		 status;
};

static int
learn_flush(struct learn_ctx *lc)
{
	char	*err = NULL;

	if (lc->nitems == 0)
		return 0;
	if (lc->store->ops->learn(lc->store, lc->items, lc->nitems,
	    &err) == -1) {
		fprintf(stderr, "vigilctl bayes learn: %s\n", err);
		free(err);
		lc->status = 1;
	} else
		for (size_t i = 0; i < lc->nitems; i++)
			lc->counts[lc->items[i].result]++;
	for (size_t i = 0; i < lc->nitems; i++)
		free((void *)lc->items[i].toks);
	lc->nitems = 0;
	return lc->status;
}

static void
learn_progress(struct learn_ctx *lc, bool is_final)
{
	double	 secs = (double)(util_now_us() - lc->t0) / 1e6;
	double	 rate = secs > 0 ? (double)lc->nmsgs / secs : 0.0;
	char	 bar[41];

	if (!lc->is_tty)
		return;
	if (lc->total > 0) {
		size_t	 done = (size_t)(40 * (lc->nmsgs > lc->total ?
		    lc->total : lc->nmsgs) / lc->total);

		memset(bar, '#', done);
		memset(bar + done, '.', 40 - done);
		bar[40] = '\0';
		printf("\r[%s] %llu/%llu  %.0f msg/s%s", bar,
		    (unsigned long long)lc->nmsgs,
		    (unsigned long long)lc->total, rate, is_final ? "\n" : "");
	} else
		printf("\r%llu messages  %.0f msg/s%s",
		    (unsigned long long)lc->nmsgs, rate, is_final ? "\n" : "");
	fflush(stdout);
}

/* Counts the files under path (for the progress bar; an mbox counts one). */
static uint64_t
count_files(const char *path)
{
	struct stat sb;
	uint64_t n = 0;

	if (strcmp(path, "-") == 0 || stat(path, &sb) == -1)
		return 0;
	if (!S_ISDIR(sb.st_mode))
		return 1;
	GDir	*d = g_dir_open(path, 0, NULL);
	const char *e;

	while (d != NULL && (e = g_dir_read_name(d)) != NULL) {
		if (e[0] == '.')
			continue;
		char	*sub = g_build_filename(path, e, NULL);
		n += count_files(sub);
		g_free(sub);
	}
	if (d != NULL)
		g_dir_close(d);
	return n;
}

static uint64_t
count_lines(const char *list)
{
	FILE	*f = fopen(list, "r");
	uint64_t n = 0;
	int	 c;

	if (f == NULL)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static int
learn_one(void *arg, const char *name, const unsigned char *data, size_t len)
{
	struct learn_ctx *lc = arg;
	struct bayes_learn *it = &lc->items[lc->nitems];
	struct bayes_toks tk;
	struct msg *m;
	const char *why;

	if ((why = ctl_not_mail(data, len)) != NULL) {
		fprintf(stderr, "vigilctl bayes learn: %s: not learned: not "
		    "mail: %s\n", name, why);
		lc->status = EX_DATAERR;
		return 0;	/* go on with the others */
	}
	if ((m = ctl_parse(lc->snap, data, len)) == NULL) {
		fprintf(stderr, "vigilctl bayes learn: %s: cannot parse\n",
		    name);
		lc->status = 1;
		return 0;	/* go on with the others */
	}
	bayes_tokenize(msg_arena(m), msg_view(m), &tk);
	bayes_msg_digest(m, it->digest);
	it->toks = g_memdup2(tk.v, tk.n * sizeof(*tk.v));
	it->ntoks = tk.n;
	it->cls = lc->cls;
	it->forget = lc->forget;
	msg_end(&m);
	lc->nitems++;
	lc->nmsgs++;
	if (lc->nitems == LEARN_BATCH) {
		if (learn_flush(lc) != 0)
			return 1;
		learn_progress(lc, false);
	}
	return 0;
}

static int
bayes_learn_cmd(struct snap *s, struct bayes_store *store, int argc,
    char **argv)
{
	struct learn_ctx *lc;
	const char *list = NULL;
	int	 c, cls = -1, forget = 0, status;
	static const struct option lopts[] = {
		{ "spam", no_argument, NULL, 's' },
		{ "ham", no_argument, NULL, 'h' },
		{ "forget", no_argument, NULL, 'f' },
		{ "list", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};

	optind = 1;
	while ((c = getopt_long(argc, argv, "shfl:", lopts, NULL)) != -1) {
		switch (c) {
		case 's': cls = BAYES_SPAM; break;
		case 'h': cls = BAYES_HAM; break;
		case 'f': forget = 1; break;
		case 'l': list = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (cls < 0 || (optind == argc && list == NULL)) {
		ctl_help_usage("bayes learn", stderr);
		return EX_USAGE;
	}
	if ((lc = calloc(1, sizeof(*lc))) == NULL)
		log_oom(sizeof(*lc), "bayes");
	lc->snap = s;
	lc->store = store;
	lc->cls = (enum bayes_class)cls;
	lc->forget = forget;
	lc->is_tty = isatty(STDOUT_FILENO);
	if (lc->is_tty) {
		if (list != NULL && strcmp(list, "-") != 0)
			lc->total += count_lines(list);
		for (int i = optind; i < argc; i++)
			lc->total += count_files(argv[i]);
	}
	lc->t0 = util_now_us();
	int	 rc = 0;
	if (list != NULL)
		rc = src_list(list, learn_one, lc);
	for (int i = optind; i < argc && rc == 0; i++)
		rc = src_path(argv[i], learn_one, lc);
	learn_flush(lc);
	learn_progress(lc, true);
	double	 secs = (double)(util_now_us() - lc->t0) / 1e6;
	printf("%s: %llu messages as %s: %llu learned, %llu moved, "
	    "%llu already known, %llu forgotten, %llu unknown "
	    "(%.2f s, %.0f msg/s)\n", store->where,
	    (unsigned long long)lc->nmsgs, cls == BAYES_SPAM ? "spam" : "ham",
	    (unsigned long long)lc->counts[BAYES_LEARNED],
	    (unsigned long long)lc->counts[BAYES_MOVED],
	    (unsigned long long)lc->counts[BAYES_ALREADY],
	    (unsigned long long)lc->counts[BAYES_FORGOTTEN],
	    (unsigned long long)lc->counts[BAYES_UNKNOWN], secs,
	    secs > 0 ? (double)lc->nmsgs / secs : 0.0);
	/* The store failing is 1; a path that cannot be read, 66 (the
	 * others are learned); input that is not mail, 65. */
	status = rc != 0 ? 1 : src_nerrors > 0 ? EX_NOINPUT : lc->status;
	free(lc);
	return status;
}

/* ---- stats ---- */

static int
bayes_stats_cmd(struct snap *s, struct bayes_store *store)
{
	const struct cfg *c = snap_cfg(s);
	struct bayes_totals t;
	char	*err = NULL;
	uint64_t min_spam = (uint64_t)cfg_int(c, "BayesMinSpam");
	uint64_t min_ham = (uint64_t)cfg_int(c, "BayesMinHam");

	if (store->ops->totals(store, &t, &err) == -1) {
		fprintf(stderr, "vigilctl bayes stats: %s\n", err);
		free(err);
		return 1;
	}
	printf("store: %s %s\n", store->ops->name, store->where);
	printf("spam messages: %llu\n", (unsigned long long)t.nspam);
	printf("ham messages: %llu\n", (unsigned long long)t.nham);
	printf("tokens: %llu\n", (unsigned long long)t.ntokens);
	printf("size: %llu bytes\n", (unsigned long long)t.bytes);
	if (t.last_learn > 0) {
		char	 when[64];
		time_t	 tt = (time_t)t.last_learn;
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    gmtime_r(&tt, &tm));
		printf("last learn: %s\n", when);
	} else
		printf("last learn: never\n");
	if (t.nspam >= min_spam && t.nham >= min_ham)
		printf("ready: yes\n");
	else
		printf("ready: no: needs %llu more spam and %llu more ham\n",
		    (unsigned long long)(t.nspam < min_spam ?
		    min_spam - t.nspam : 0),
		    (unsigned long long)(t.nham < min_ham ?
		    min_ham - t.nham : 0));
	return 0;
}

/* ---- expire ---- */

static int
bayes_expire_cmd(struct snap *s, struct bayes_store *store, int argc,
    char **argv)
{
	const struct cfg *c = snap_cfg(s);
	struct bayes_expire_stats st;
	char	*err = NULL;
	int64_t	 age_s = (int64_t)(cfg_duration_ms(c, "BayesExpireAge") / 1000);
	uint64_t budget = (uint64_t)cfg_int(c, "BayesExpireBatch");
	uint32_t maxc = (uint32_t)cfg_int(c, "BayesExpireMaxCount");

	if (argc > 1) {
		ctl_help_usage("bayes expire", stderr);
		return EX_USAGE;
	}
	if (store->ops->expire(store, (int64_t)time(NULL) - age_s, maxc,
	    budget, &st, &err) == -1) {
		fprintf(stderr, "vigilctl bayes expire: %s\n", err);
		free(err);
		return 1;
	}
	printf("%s: visited %llu tokens, dropped %llu%s\n", store->where,
	    (unsigned long long)st.scanned, (unsigned long long)st.dropped,
	    st.done ? " (pass complete)" : " (run again to go on)");
	return 0;
}

/* ---- classify ---- */

struct class_ctx {
	struct snap	*snap;
	struct bayes_store *store;
	double		 threshold;
	uint64_t	 min_spam, min_ham;
	bool		 is_rank;	/* --rank: for the accuracy harness */
	int		 status;
};

/* Scores one parsed message; p and the ranking score in *_r, -1 on error. */
static int
classify_msg(struct bayes_store *store, struct msg *m, double *p_r,
    double *rank_r, struct bayes_totals *tot, char **err_r)
{
	struct bayes_toks tk;
	struct bayes_count *cnt;

	bayes_tokenize(msg_arena(m), msg_view(m), &tk);
	cnt = arena_alloc(msg_arena(m), (tk.n + 1) * sizeof(*cnt));
	if (store->ops->lookup(store, tk.v, tk.n, cnt, tot, err_r) == -1)
		return -1;
	*p_r = bayes_classify_ex(&bayes_params_default, tk.v, cnt, tk.n,
	    tot->nspam, tot->nham, rank_r);
	return 0;
}

static int
classify_one(void *arg, const char *name, const unsigned char *data,
    size_t len)
{
	struct class_ctx *cc = arg;
	struct bayes_totals tot;
	struct msg *m;
	char	*err = NULL;
	double	 p, rank;

	if ((m = ctl_parse(cc->snap, data, len)) == NULL) {
		fprintf(stderr, "vigilctl bayes classify: %s: cannot parse\n",
		    name);
		cc->status = 1;
		return 0;
	}
	if (classify_msg(cc->store, m, &p, &rank, &tot, &err) == -1) {
		fprintf(stderr, "vigilctl bayes classify: %s\n", err);
		free(err);
		msg_end(&m);
		return 1;
	}
	msg_end(&m);
	if (tot.nspam < cc->min_spam || tot.nham < cc->min_ham) {
		if (cc->is_rank)
			printf("%s\tnan\tunsure\n", name);
		else
			printf("%s\tp(spam)=-\tunsure (not ready: learned "
			    "%llu spam and %llu ham of %llu and %llu)\n", name,
			    (unsigned long long)tot.nspam,
			    (unsigned long long)tot.nham,
			    (unsigned long long)cc->min_spam,
			    (unsigned long long)cc->min_ham);
	} else if (cc->is_rank)
		/* The ranking score orders like p but does not saturate:
		 * what an ROC curve needs, not what a person reads. */
		printf("%s\t%.6f\t%s\n", name, rank,
		    p >= cc->threshold ? "spam" : "ham");
	else
		printf("%s\tp(spam)=%.4f\t%s\n", name, p,
		    p >= cc->threshold ? "spam" : "ham");
	return 0;
}

static int
bayes_classify_cmd(struct snap *s, struct bayes_store *store, int argc,
    char **argv)
{
	const struct cfg *c = snap_cfg(s);
	struct class_ctx cc = {
		.snap = s, .store = store,
		.threshold = cfg_double(c, "BayesSpamThreshold"),
		.min_spam = (uint64_t)cfg_int(c, "BayesMinSpam"),
		.min_ham = (uint64_t)cfg_int(c, "BayesMinHam"),
	};
	int	 rc = 0;

	if (argc >= 2 && strcmp(argv[1], "--rank") == 0) {
		cc.is_rank = true;
		argc--;
		argv++;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] != '\0' &&
		    !(i == 1 && strcmp(argv[i], "--list") == 0)) {
			fprintf(stderr, "vigilctl bayes classify: unknown "
			    "option \"%s\"\n", argv[i]);
			ctl_help_usage("bayes classify", stderr);
			return EX_USAGE;
		}
	if (argc >= 3 && strcmp(argv[1], "--list") == 0) {
		rc = src_list(argv[2], classify_one, &cc);
		argc -= 2;
		argv += 2;
	}
	for (int i = 1; i < argc && rc == 0; i++)
		rc = src_path(argv[i], classify_one, &cc);
	if (argc < 2 && rc == 0 && cc.status == 0 && argv[0] != NULL &&
	    strcmp(argv[0], "classify") == 0) {
		ctl_help_usage("bayes classify", stderr);
		return EX_USAGE;
	}
	return rc != 0 ? 1 : src_nerrors > 0 ? EX_NOINPUT : cc.status;
}

int
ctl_bayes(const struct ctl_opts *o, int argc, char **argv)
{
	struct snap *s;
	struct bayes_store *store;
	int	 rc;

	/* -h is --ham for learn: only --help, or -h right after bayes. */
	if (ctl_wants_help(argc, argv, 1)) {
		ctl_help_command("bayes", stdout);
		return 0;
	}
	if (argc < 2) {
		ctl_help_usage("bayes", stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "bench") == 0)
		return ctl_bayes_bench(o, argc - 1, argv + 1);
	if (strcmp(argv[1], "learn") != 0 && strcmp(argv[1], "stats") != 0 &&
	    strcmp(argv[1], "expire") != 0 &&
	    strcmp(argv[1], "classify") != 0) {
		fprintf(stderr, "vigilctl bayes: unknown command %s\n",
		    argv[1]);
		ctl_help_usage("bayes", stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "stats") == 0 && argc > 2) {
		fprintf(stderr, "vigilctl bayes stats: unexpected argument "
		    "\"%s\"\n", argv[2]);
		ctl_help_usage("bayes stats", stderr);
		return EX_USAGE;
	}
	/*
	 * The snapshot parses messages; the store is opened here from the
	 * same settings, whether or not Checks and BayesEnable turn the
	 * check on (one trains before enabling it).
	 */
	if ((s = ctl_snap(o)) == NULL)
		return 1;
	struct bayes_store_cfg sc;
	char	*err = NULL;
	bayes_store_cfg_from(snap_cfg(s), &sc);
	sc.create_parents = strcmp(argv[1], "learn") == 0;
	if ((store = bayes_store_open(&sc, &err)) == NULL) {
		fprintf(stderr, "vigilctl bayes: %s\n", err);
		free(err);
		snap_unref(&s);
		return 1;
	}
	if (strcmp(argv[1], "learn") == 0)
		rc = bayes_learn_cmd(s, store, argc - 1, argv + 1);
	else if (strcmp(argv[1], "stats") == 0)
		rc = bayes_stats_cmd(s, store);
	else if (strcmp(argv[1], "expire") == 0)
		rc = bayes_expire_cmd(s, store, argc - 1, argv + 1);
	else if (strcmp(argv[1], "classify") == 0)
		rc = bayes_classify_cmd(s, store, argc - 1, argv + 1);
	else {
		fprintf(stderr, "vigilctl bayes: unknown command %s\n",
		    argv[1]);
		rc = EX_USAGE;
	}
	bayes_store_close(&store);
	snap_unref(&s);
	return rc;
}
