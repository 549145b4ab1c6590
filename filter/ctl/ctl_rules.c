/*
 * ctl_rules.c - `vigilctl rules lint|test|bench`: what a rule set does
 * before it goes live.  lint loads and compiles rule files with a stress
 * test of every regex; test runs messages through the real pipeline and
 * shows each rule that hit, where, on what text, for how many points;
 * bench reports the rules' own time on a set of messages.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include <glib.h>

#include "cfg.h"
#include "lib/log.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "ctl/vigilctl.h"
#include "ctl/ctl_help.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_check.h"

/* s with control bytes, DEL and bytes that are not UTF-8 as \xHH: a rules
 * file may be anything, the terminal must not obey it. */
static void
put_escaped(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n = 1;

		/* A UTF-8 sequence prints whole; a bad one byte by byte. */
		if (*p >= 0x80) {
			n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 :
			    0;
			if (n > 0 && (strnlen((const char *)p, n) < n ||
			    !g_utf8_validate((const gchar *)p, (gssize)n,
			    NULL)))
				n = 0;
		}
		if (n == 0 || *p < 0x20 || *p == 0x7f ||
		    (*p == 0xc2 && p[1] <= 0x9f)) {
			fprintf(out, "\\x%02x", *p);
			p++;
			continue;
		}
		fwrite(p, 1, n, out);
		p += n;
	}
}

static void
diag_print(FILE *out, enum rules_sev sev, const char *file, int line,
    int col, const char *name, const char *what)
{
	put_escaped(out, file);
	fprintf(out, ":%d:%d: ", line, col);
	put_escaped(out, name);
	fprintf(out, ": %s", sev == RULES_WARN ? "warning: " : "");
	put_escaped(out, what);
	fputc('\n', out);
}

/*
 * What lint adds to the loader's diagnostics: the warnings that mean a
 * rule will not do what its author meant become errors (a duplicate name
 * silently replaces a rule, a meta naming nothing counts it as 0, a regex
 * that backtracks to the match limit counts as not hit), and
 * --warn-only prints every error as a warning and exits 0.
 */
struct lint_ctx {
	bool	 warn_only;
	size_t	 promoted;	/* warnings printed as errors */
	size_t	 demoted;	/* errors printed as warnings (--warn-only) */
	size_t	 nerrors;	/* errors lint found itself (not UTF-8) */
};

static const char *const lint_strict[] = {
	"duplicate name: ",
	"meta names unknown rule ",
	"regex reaches the match limit ",
	NULL
};

static void
lint_diag(void *arg, enum rules_sev sev, const char *file, int line, int col,
    const char *name, const char *what)
{
	struct lint_ctx *lc = arg;

	if (sev == RULES_WARN)
		for (size_t i = 0; lint_strict[i] != NULL; i++)
			if (strncmp(what, lint_strict[i],
			    strlen(lint_strict[i])) == 0) {
				sev = RULES_ERROR;
				lc->promoted++;
				break;
			}
	if (sev == RULES_ERROR && lc->warn_only) {
		sev = RULES_WARN;
		lc->demoted++;
	}
	diag_print(stdout, sev, file, line, col, name, what);
}

/* A rules file that is not UTF-8 (SpamAssassin's are): an error at the
 * first bad byte. */
static void
lint_utf8_file(struct lint_ctx *lc, const char *path)
{
	gchar *data = NULL, *what;
	gsize len = 0;
	const gchar *bad;
	int line = 1, col = 1;

	if (!g_file_get_contents(path, &data, &len, NULL))
		return;		/* the loader says why */
	if (memchr(data, '\0', len) == NULL &&
	    !g_utf8_validate(data, (gssize)len, &bad)) {
		for (const gchar *p = data; p < bad; p++, col++)
			if (*p == '\n') {
				line++;
				col = 0;
			}
		what = g_strdup_printf("not UTF-8: byte \\x%02x",
		    (unsigned char)*bad);
		lint_diag(lc, RULES_ERROR, path, line, col, "-", what);
		lc->nerrors++;
		g_free(what);
	}
	g_free(data);
}

/* The same for the *.rules and *.cf files of a folder, as loaded. */
static void
lint_utf8(struct lint_ctx *lc, const char *path)
{
	GDir *d;
	const gchar *n;
	GPtrArray *names;

	if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
		lint_utf8_file(lc, path);
		return;
	}
	if ((d = g_dir_open(path, 0, NULL)) == NULL)
		return;
	names = g_ptr_array_new_with_free_func(g_free);
	while ((n = g_dir_read_name(d)) != NULL)
		if (g_str_has_suffix(n, ".rules") || g_str_has_suffix(n, ".cf"))
			g_ptr_array_add(names, g_build_filename(path, n, NULL));
	g_dir_close(d);
	for (guint i = 0; i < names->len; i++)
		lint_utf8_file(lc, g_ptr_array_index(names, i));
	g_ptr_array_free(names, TRUE);
}

/* Limits from the configuration, or the built-in defaults when there is
 * none (lint of loose files needs no vigil.conf). */
static void
ctl_limits(const struct ctl_opts *o, struct rules_limits *lim, char **dir_r,
    char **local_r)
{
	/* The set reads RulesCacheDir when it is compiled, after the
	 * configuration is gone: a copy that lives as long as the command. */
	static char *cache_dir;
	char *err = NULL;
	struct cfg *c = cfg_load(o->cfg_path, o->overrides, o->noverrides,
	    &err);

	memset(lim, 0, sizeof(*lim));
	if (c == NULL) {
		free(err);
		err = NULL;
		c = cfg_load(NULL, o->overrides, o->noverrides, &err);
	} else if (dir_r != NULL) {
		const char *dir, *local;

		/* Both folders, as the daemon reads them. */
		rules_dirs_from_cfg(c, &dir, &local);
		*dir_r = g_strdup(dir != NULL ? dir : cfg_str(c, "RulesDir"));
		*local_r = g_strdup(local);
	}
	free(err);
	if (c == NULL) {
		/* The table's defaults. */
		lim->match_limit = 500000;
		lim->depth_limit = 5000;
		lim->body_scan = 50 * 1024;
		lim->raw_scan = 500 * 1024;
		return;
	}
	rules_limits_from_cfg(c, lim);
	g_free(cache_dir);
	lim->cache_dir = cache_dir = g_strdup(lim->cache_dir);
	cfg_unref(&c);
}

/* An eval function a skipped rule needs ("eval:FN is not implemented",
 * "eval:FN('arg'): ... not computed"): counted by function. */
static void
count_eval(const char *name, const char *why, void *data)
{
	GHashTable *by_fn = data;
	size_t n;
	char *fn;

	(void)name;
	if (strncmp(why, "eval:", 5) != 0)
		return;
	why += 5;
	n = strcspn(why, "( :");
	if (n == 0)
		return;
	fn = g_strndup(why, n);
	g_hash_table_replace(by_fn, fn, GSIZE_TO_POINTER(
	    GPOINTER_TO_SIZE(g_hash_table_lookup(by_fn, fn)) + 1));
}

static gint
by_count(gconstpointer a, gconstpointer b, gpointer data)
{
	GHashTable *by_fn = data;
	size_t na = GPOINTER_TO_SIZE(g_hash_table_lookup(by_fn, a));
	size_t nb = GPOINTER_TO_SIZE(g_hash_table_lookup(by_fn, b));

	if (na != nb)
		return na > nb ? -1 : 1;
	return strcmp(a, b);
}

/* "eval functions vigil lacks: FN (N rules), ...", most rules first. */
static void
print_missing_evals(const struct rules_set *set)
{
	GHashTable *by_fn = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	GList *keys, *l;

	rules_skipped_each(set, count_eval, by_fn);
	if (g_hash_table_size(by_fn) > 0) {
		keys = g_list_sort_with_data(g_hash_table_get_keys(by_fn),
		    by_count, by_fn);
		printf("eval functions vigil lacks (rules each would bring):");
		for (l = keys; l != NULL; l = l->next)
			printf("%s %s (%zu)", l == keys ? "" : ",",
			    (const char *)l->data, GPOINTER_TO_SIZE(
			    g_hash_table_lookup(by_fn, l->data)));
		putchar('\n');
		g_list_free(keys);
	}
	g_hash_table_destroy(by_fn);
}

static void
count_gated(const char *name, const char *plugin, void *data)
{
	GHashTable *by_plugin = data;

	(void)name;
	g_hash_table_replace(by_plugin, g_strdup(plugin), GSIZE_TO_POINTER(
	    GPOINTER_TO_SIZE(g_hash_table_lookup(by_plugin, plugin)) + 1));
}

/* "N rules not loaded, in blocks of plugins vigil does not provide:
 * PLUGIN (N), ...", most rules first; returns N. */
static size_t
print_gated(const struct rules_set *set)
{
	GHashTable *by_plugin = g_hash_table_new_full(g_str_hash,
	    g_str_equal, g_free, NULL);
	GList *keys, *l;
	size_t total = 0;

	rules_gated_each(set, count_gated, by_plugin);
	if (g_hash_table_size(by_plugin) > 0) {
		keys = g_list_sort_with_data(g_hash_table_get_keys(by_plugin),
		    by_count, by_plugin);
		for (l = keys; l != NULL; l = l->next)
			total += GPOINTER_TO_SIZE(g_hash_table_lookup(by_plugin,
			    l->data));
		printf("%zu rules not loaded, in blocks of plugins vigil does "
		    "not provide (ifplugin false):", total);
		for (l = keys; l != NULL; l = l->next)
			printf("%s %s (%zu)", l == keys ? "" : ",",
			    (const char *)l->data, GPOINTER_TO_SIZE(
			    g_hash_table_lookup(by_plugin, l->data)));
		putchar('\n');
		g_list_free(keys);
	}
	g_hash_table_destroy(by_plugin);
	return total;
}

static int
rules_lint(const struct ctl_opts *o, int argc, char **argv)
{
	struct lint_ctx lc = { 0 };
	struct rules_diag diag = { .fn = lint_diag, .arg = &lc,
	    .is_strict = true };
	struct rules_limits lim;
	struct rules_set *set;
	struct rules_counts c;
	char *dir = NULL, *local = NULL;
	size_t gated;
	bool stress = true;
	size_t nerr, nwarn;
	int i = 1;

	for (; i < argc; i++) {
		if (strcmp(argv[i], "--no-stress") == 0)
			stress = false;
		else if (strcmp(argv[i], "--warn-only") == 0)
			lc.warn_only = true;
		else
			break;
	}
	ctl_limits(o, &lim, &dir, &local);
	if (i >= argc && dir == NULL) {
		fprintf(stderr, "vigilctl rules lint: no PATH and no RulesDir "
		    "(cannot load %s)\n", o->cfg_path);
		return EX_USAGE;
	}
	set = rules_set_new(&lim);
	if (i >= argc) {
		lint_utf8(&lc, dir);
		rules_load_path(set, dir, &diag);
		if (local != NULL) {
			lint_utf8(&lc, local);
			rules_load_path(set, local, &diag);
		}
	}
	for (; i < argc; i++) {
		lint_utf8(&lc, argv[i]);
		rules_load_path(set, argv[i], &diag);
	}
	rules_compile(set, stress, &diag);
	rules_get_counts(set, &c);
	print_missing_evals(set);
	gated = print_gated(set);
	/* The loader's counts, as lint printed them. */
	nerr = c.errors + lc.nerrors + lc.promoted - lc.demoted;
	nwarn = c.warnings - lc.promoted + lc.demoted;
	printf("%zu rules loaded, %zu skipped, %zu errors, %zu warnings",
	    c.loaded, c.skipped, nerr, nwarn);
	if (c.disabled > 0)
		printf("; %zu scored 0 (off)", c.disabled);
	if (gated > 0)
		printf("; %zu in blocks of plugins not provided", gated);
	if (c.unread > 0)
		printf("; %zu lines of directives not read", c.unread);
	if (lc.warn_only && lc.demoted > 0)
		printf("; --warn-only: %zu errors shown as warnings",
		    lc.demoted);
	putchar('\n');
	rules_set_free(&set);
	g_free(dir);
	g_free(local);
	return nerr > 0 ? 1 : 0;
}

/* Reads a message file into a g_malloc'd buffer. */
static gchar *
read_msg(const char *path, size_t *len_r)
{
	gchar *data = NULL;
	gsize len = 0;
	GError *gerr = NULL;

	if (!g_file_get_contents(path, &data, &len, &gerr)) {
		fprintf(stderr, "vigilctl rules: %s\n", gerr->message);
		g_error_free(gerr);
		return NULL;
	}
	*len_r = len;
	return data;
}

static bool
wanted(const char *name, char **names, int n)
{
	if (n == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* What rules test carries from one message to the next. */
struct test_ctx {
	struct snap		*snap;
	const struct scan_env	*env;
	bool			 batch, counts;
	char			**names;	/* RULE... of rules test MSG */
	int			 nnames;
	int			 rc;
};

/* One message of rules test (ctl_read_messages). */
static int
test_one(void *arg, const char *name, const unsigned char *data, size_t len)
{
	struct test_ctx *tc = arg;
	struct snap *s = tc->snap;
	const struct verdict *v;
	struct rules_result *res;
	struct msg *m;

	m = scan_buffer(s, tc->env, data, len, "rules", &v);
	res = rules_result(m);
	if (tc->batch) {
		printf("%s:", name);
		for (size_t k = 0; res != NULL && k < res->nhits; k++)
			if (tc->counts)
				printf(" %s:%u", res->hits[k].rule->name,
				    res->hits[k].count);
			else
				printf(" %s", res->hits[k].rule->name);
		printf("\n");
	} else if (res == NULL) {
		printf("%s: the rules did not run (oversize or "
		    "skipped; see vigilctl scan)\n", name);
		tc->rc = 1;
	} else {
		printf("%s: %zu rule%s hit, score %.2f, rules took "
		    "%.3f ms\n", name, res->nhits,
		    res->nhits == 1 ? "" : "s", msg_score(m),
		    (double)res->ns / 1e6);
		for (size_t k = 0; k < res->nhits; k++) {
			const struct rules_hit *h = &res->hits[k];
			const struct rule *r = h->rule;

			if (!wanted(r->name, tc->names, tc->nnames))
				continue;
			if (strncmp(r->name, "__", 2) == 0)
				printf("  %-28s    -  ", r->name);
			else
				printf("  %-28s %5.2f ", r->name,
				    snap_score(s, r->name, r->score));
			if (h->count > 1)
				printf("x%u ", h->count);
			printf("%s", h->where);
			if (h->match[0] != '\0')
				printf(": \"%s\"", h->match);
			printf("\n");
		}
		/* Named rules that did not hit say so. */
		for (int k = 0; k < tc->nnames; k++) {
			bool hit = false;

			for (size_t j = 0; j < res->nhits; j++)
				if (strcmp(res->hits[j].rule->name,
				    tc->names[k]) == 0)
					hit = true;
			if (hit)
				continue;
			if (rules_find(rules_state_set(snap_state(s,
			    &check_rules)), tc->names[k]) == NULL) {
				printf("  %-28s  no hit (no such "
				    "rule)\n", tc->names[k]);
				fprintf(stderr, "vigilctl rules test: "
				    "no such rule: %s\n", tc->names[k]);
				tc->rc = EX_DATAERR;
			} else {
				printf("  %-28s  no hit\n", tc->names[k]);
				if (tc->rc == 0)
					tc->rc = 1;
			}
		}
	}
	msg_end(&m);
	return 0;
}

/*
 * rules test MSG [RULE...]: every rule that hit, sub-rules included.
 * rules test --batch MSG...: one line per message, "FILE: RULE RULE ...",
 * for scripts (tests/rules/sa-compare.sh); --batch --counts writes
 * RULE:N, N the matches counted (tflags multiple), for
 * tests/rules/plain-compare.sh.  MSG is read as scan reads it: a file,
 * a folder, a Maildir, an mbox (each message as MSG#N) or - for stdin.
 */
static int
rules_test(const struct ctl_opts *o, int argc, char **argv)
{
	struct scan_env env = { 0 };
	struct test_ctx tc = { .env = &env };
	unsigned nerrors = 0;
	int i = 1, nfiles;

	/* --batch [--counts], and the SMTP envelope as scan takes it (SPF
	 * and DMARC need the client, SpamAssassin's rules of theirs read
	 * the result), in any order before MSG. */
	for (;;) {
		if (i < argc && strcmp(argv[i], "--batch") == 0) {
			tc.batch = true;
			i++;
		} else if (tc.batch && i < argc &&
		    strcmp(argv[i], "--counts") == 0) {
			tc.counts = true;
			i++;
		} else if (i + 1 < argc && strcmp(argv[i], "--ip") == 0) {
			env.client_addr = argv[i + 1];
			i += 2;
		} else if (i + 1 < argc && strcmp(argv[i], "--helo") == 0) {
			env.helo = argv[i + 1];
			i += 2;
		} else if (i + 1 < argc && strcmp(argv[i], "--from") == 0) {
			env.mail_from = argv[i + 1];
			i += 2;
		} else
			break;
	}
	if (i >= argc) {
		ctl_help_usage("rules test", stderr);
		return EX_USAGE;
	}
	nfiles = tc.batch ? argc - i : 1;
	if (!tc.batch) {
		tc.names = argv + i + 1;
		tc.nnames = argc - i - 1;
	}
	if ((tc.snap = ctl_snap(o)) == NULL)
		return EX_CONFIG;
	for (int f = i; f < i + nfiles; f++)
		(void)ctl_read_messages("vigilctl rules test", argv[f],
		    test_one, &tc, &nerrors);	/* test_one never stops */
	fflush(stdout);
	snap_unref(&tc.snap);
	/* A missing input first, as before: nothing was tested of it. */
	return nerrors > 0 ? EX_NOINPUT : tc.rc;
}

/* The files under path (path itself if not a folder); false after saying
 * which folder could not be read. */
static bool
collect(GPtrArray *files, const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	bool ok = true;

	if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		g_ptr_array_add(files, g_strdup(path));
		return true;
	}
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "vigilctl rules: %s: opendir: %s\n", path,
		    strerror(errno));
		return false;
	}
	while ((de = readdir(d)) != NULL) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = g_build_filename(path, de->d_name, NULL);
		ok = collect(files, p) && ok;
		g_free(p);
	}
	closedir(d);
	return ok;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *const type_names[RULE_NTYPES] = {
	"header", "body", "rawbody", "uri", "full", "mimeheader", "meta",
};

static int
spent_cmp(const void *a, const void *b)
{
	const struct rule *x = *(const struct rule *const *)a;
	const struct rule *y = *(const struct rule *const *)b;

	return x->ns_spent < y->ns_spent ? 1 : x->ns_spent > y->ns_spent ?
	    -1 : strcmp(x->name, y->name);
}

/* VIGIL_BENCH_TOP=N: how many of the costliest rules bench lists. */
static size_t
bench_top_n(void)
{
	const char *e = getenv("VIGIL_BENCH_TOP");

	return e != NULL ? (size_t)strtoul(e, NULL, 10) : 0;
}

/* The n rules that took the most time, for whoever tunes a set. */
static void
bench_top(const struct rules_set *set, size_t n)
{
	size_t nr = rules_count(set);
	const struct rule **v;

	if (n == 0 || nr == 0)
		return;
	v = g_new(const struct rule *, nr);
	for (size_t i = 0; i < nr; i++)
		v[i] = rules_at(set, i);
	qsort(v, nr, sizeof(*v), spent_cmp);
	for (size_t i = 0; i < n && i < nr; i++)
		printf("  %-8s %8.1f ms  %s%s\n", type_names[v[i]->type],
		    (double)v[i]->ns_spent / 1e6, v[i]->name,
		    v[i]->nlit_ids ? " (literal prefilter)" : "");
	g_free(v);
}

/*
 * rules bench PATH...: the rules' own time (input building and
 * evaluation, not MIME parsing) per message and in MB/s of message.
 */
static int
rules_bench(const struct ctl_opts *o, int argc, char **argv)
{
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	struct scan_env env = { 0 };
	struct snap *s;
	uint64_t ns = 0, cpu_ns = 0, bytes = 0, hits = 0;
	size_t n = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++)
		if (!collect(files, argv[i]))
			rc = EX_NOINPUT;
	if (files->len == 0) {
		if (rc == 0) {
			ctl_help_usage("rules bench", stderr);
			rc = EX_USAGE;
		}
		g_ptr_array_free(files, TRUE);
		return rc;
	}
	qsort(files->pdata, files->len, sizeof(char *), str_cmp);
	rules_cpu_time = true;
	if ((s = ctl_snap(o)) == NULL) {
		g_ptr_array_free(files, TRUE);
		return EX_CONFIG;
	}
	for (guint i = 0; i < files->len; i++) {
		const struct verdict *v;
		struct rules_result *res;
		struct msg *m;
		size_t len;
		gchar *data = read_msg(files->pdata[i], &len);

		if (data == NULL) {
			rc = EX_NOINPUT;
			continue;
		}
		m = scan_buffer(s, &env, (unsigned char *)data, len, "bench",
		    &v);
		if ((res = rules_result(m)) != NULL) {
			ns += res->ns;
			cpu_ns += res->cpu_ns;
			bytes += len;
			hits += res->nhits;
			n++;
		}
		msg_end(&m);
		g_free(data);
	}
	{
		struct rules_counts c;

		rules_get_counts(rules_state_set(snap_state(s, &check_rules)),
		    &c);
		const struct rules_set *set = rules_state_set(snap_state(s,
		    &check_rules));
		double by_type[RULE_NTYPES] = { 0 };

		printf("rules=%zu messages=%zu bytes=%llu hits=%llu "
		    "total_ms=%.1f ms_per_msg=%.3f mb_per_s=%.2f "
		    "cpu_ms_per_msg=%.3f cpu_mb_per_s=%.2f\n", c.loaded,
		    n, (unsigned long long)bytes, (unsigned long long)hits,
		    (double)ns / 1e6, n ? (double)ns / 1e6 / (double)n : 0,
		    ns ? (double)bytes / (1 << 20) / ((double)ns / 1e9) : 0,
		    n ? (double)cpu_ns / 1e6 / (double)n : 0, cpu_ns ?
		    (double)bytes / (1 << 20) / ((double)cpu_ns / 1e9) : 0);
		for (size_t i = 0; i < rules_count(set); i++) {
			const struct rule *r = rules_at(set, i);

			by_type[r->type] += (double)r->ns_spent / 1e6;
		}
		printf("  ms by rule type:");
		for (int t = 0; t < RULE_NTYPES; t++)
			printf(" %s=%.1f", type_names[t], by_type[t]);
		printf(" (the rest builds the rules' view of the message)\n");
		bench_top(set, bench_top_n());
	}
	snap_unref(&s);
	g_ptr_array_free(files, TRUE);
	return rc;
}

/* list: errors only (warnings are lint's business), on stderr. */
static void
list_diag(void *arg, enum rules_sev sev, const char *file, int line, int col,
    const char *name, const char *what)
{
	(void)arg;
	if (sev == RULES_ERROR)
		diag_print(stderr, sev, file, line, col, name, what);
}

/* NAME TYPE without-Bayes with-Bayes SOURCE: what `rules list
 * --weights` prints for each name. */
static void
list_weights(const struct rules_set *set, const char *name, const char *type)
{
	const struct rule *r = rules_find(set, name);
	const double *sets = NULL;
	const char *file;
	int line;

	for (size_t i = 0; i < rules_score_count(set) && sets == NULL; i++) {
		const char *n;
		const double *v = rules_score_sets_at(set, i, &n);

		if (strcmp(n, name) == 0)
			sets = v;
	}
	if (sets != NULL && rules_score_source(set, name, &file, &line))
		printf("%-28s %-10s %8.3f %8.3f  %s:%d\n", name, type,
		    sets[SCORE_SET_PLAIN], sets[SCORE_SET_BAYES], file, line);
	else
		printf("%-28s %-10s %8.3f %8.3f  default\n", name, type,
		    r != NULL ? r->score : 0.0, r != NULL ? r->score : 0.0);
}

static int
rules_list(const struct ctl_opts *o, int argc, char **argv)
{
	struct rules_diag diag = { .fn = list_diag };
	struct rules_limits lim;
	struct rules_set *set;
	struct stat st;
	char *dir = NULL, *local = NULL;
	int rc = 0;

	bool is_weights = argc >= 2 && strcmp(argv[1], "--weights") == 0;

	if (is_weights) {
		argc--;
		argv++;
	}
	ctl_limits(o, &lim, &dir, &local);
	if (argc < 2 && dir == NULL) {
		fprintf(stderr, "vigilctl rules list: no PATH and no RulesDir "
		    "(cannot load %s)\n", o->cfg_path);
		return EX_USAGE;
	}
	set = rules_set_new(&lim);
	if (argc < 2 && rules_load_path(set, dir, &diag) > 0)
		rc = 1;
	if (argc < 2 && local != NULL &&
	    rules_load_path(set, local, &diag) > 0)
		rc = 1;
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1)
			rc = EX_NOINPUT;
		if (rules_load_path(set, argv[i], &diag) > 0 && rc == 0)
			rc = 1;
	}
	if (rules_compile(set, false, NULL) > 0 || rc == 1) {
		fprintf(stderr, "vigilctl rules list: the set has errors "
		    "(vigilctl rules lint shows them)\n");
		rc = rc != 0 ? rc : 1;
	}
	for (size_t i = 0; i < rules_count(set); i++) {
		const struct rule *r = rules_at(set, i);

		if (!r->is_enabled)
			continue;
		if (!is_weights) {
			printf("%s %s%s %g\n", r->name, type_names[r->type],
			    r->is_exists ? "-exists" : "", r->score);
			continue;
		}
		list_weights(set, r->name, type_names[r->type]);
	}
	/* Weights of other checks' findings (Bayes's anchors, ...). */
	for (size_t i = 0; is_weights && i < rules_score_count(set); i++) {
		const char *name;

		rules_score_sets_at(set, i, &name);
		if (rules_find(set, name) == NULL)
			list_weights(set, name, "finding");
	}
	rules_set_free(&set);
	g_free(dir);
	g_free(local);
	return rc;
}

/*
 * An option where a path or message belongs ("rules lint --json"): the
 * subcommands read their few options in order, so whatever else starts
 * with "-" is a mistake, not a file name.  "-" alone is not an option.
 */
static bool
stray_option(int argc, char **argv)
{
	static const char *const known[] = { "--no-stress", "--warn-only",
	    "--batch",
	    "--counts", "--weights", "--ip", "--helo", "--from", NULL };

	for (int i = 2; i < argc; i++) {
		size_t k;

		if (argv[i][0] != '-' || argv[i][1] == '\0')
			continue;
		for (k = 0; known[k] != NULL && strcmp(known[k], argv[i]); k++)
			;
		if (known[k] == NULL) {
			fprintf(stderr, "vigilctl rules %s: unknown option "
			    "\"%s\"\n", argv[1], argv[i]);
			return true;
		}
	}
	return false;
}

int
ctl_rules(const struct ctl_opts *o, int argc, char **argv)
{
	if (ctl_wants_help(argc, argv, argc)) {
		ctl_help_command("rules", stdout);
		return 0;
	}
	if (stray_option(argc, argv)) {
		ctl_help_usage("rules", stderr);
		return EX_USAGE;
	}
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return rules_list(o, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "lint") == 0)
		return rules_lint(o, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return rules_test(o, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "bench") == 0)
		return rules_bench(o, argc - 1, argv + 1);
	ctl_help_usage("rules", stderr);
	return EX_USAGE;
}
