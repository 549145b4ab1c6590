/*
 * ctl_replay.c - vigilctl replay: what would a change do to real mail?
 * Each message is scanned twice, offline as `vigilctl scan` does: with
 * the running configuration and with a candidate one, the same with
 *   --rules DIR     DIR's rules added,
 *   --weights FILE  FILE's `score` lines read last,
 *   -o K=V          settings changed,
 * and with every shadow rule (ShadowRulesDir, `tflags shadow`) scoring
 * (ShadowRulesScore yes).  The added files are loaded as shadow rules
 * from a private folder of links, so that the candidate is the running
 * rule set plus them, in that order.  Prints the messages whose action
 * changes and why (rules gained and lost, with points), then the totals.
 * Exit 0 when nothing changes, 1 when something does.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <glib.h>

#include "cfg.h"
#include "ctl/vigilctl.h"
#include "ctl/ctl_help.h"
#include "msg.h"
#include "pipeline.h"
#include "quarantine/quarantine.h"
#include "snap.h"
#include "verdict.h"

#define NACTIONS	(ACTION_DISCARD + 1)

/* A rule gained or lost over the run: on how many messages, points. */
struct rule_delta {
	unsigned	 gained, lost, rescored;
	double		 points;	/* the last seen */
};

struct replay {
	struct snap	*run, *cand;
	unsigned	 n, changed_action, changed_score, nerrors;
	unsigned	 before[NACTIONS], after[NACTIONS];
	GHashTable	*rules;		/* name -> struct rule_delta */
	bool		 all;		/* --all: score-only changes too */
};

static struct rule_delta *
delta(struct replay *r, const char *name)
{
	struct rule_delta *d = g_hash_table_lookup(r->rules, name);

	if (d == NULL) {
		d = g_new0(struct rule_delta, 1);
		g_hash_table_insert(r->rules, g_strdup(name), d);
	}
	return d;
}

static const struct hit *
find_hit(const struct msg *m, const char *name)
{
	for (size_t i = 0; i < msg_hit_count(m); i++)
		if (strcmp(msg_hit(m, i)->name, name) == 0)
			return msg_hit(m, i);
	return NULL;
}

/* One message, both ways. */
static void
replay_one(struct replay *r, const char *name, const struct scan_env *env,
    const unsigned char *data, size_t len)
{
	const struct verdict *va, *vb;
	struct msg *a = scan_buffer(r->run, env, data, len, "replay", &va);
	struct msg *b = scan_buffer(r->cand, env, data, len, "replay", &vb);
	bool hits_differ = false;
	GString *why = g_string_new(NULL);

	r->n++;
	r->before[va->action]++;
	r->after[vb->action]++;
	for (size_t i = 0; i < msg_hit_count(b); i++) {
		const struct hit *hb = msg_hit(b, i), *ha = find_hit(a, hb->name);

		if (ha == NULL) {
			struct rule_delta *d = delta(r, hb->name);

			d->gained++;
			d->points = hb->score;
			g_string_append_printf(why, "    + %-24s %+6.1f\n",
			    hb->name, hb->score);
			hits_differ = true;
		} else if (ha->score != hb->score) {
			struct rule_delta *d = delta(r, hb->name);

			d->rescored++;
			d->points = hb->score;
			g_string_append_printf(why, "    ~ %-24s %+6.1f -> %+.1f\n",
			    hb->name, ha->score, hb->score);
			hits_differ = true;
		}
	}
	for (size_t i = 0; i < msg_hit_count(a); i++) {
		const struct hit *ha = msg_hit(a, i);

		if (find_hit(b, ha->name) == NULL) {
			struct rule_delta *d = delta(r, ha->name);

			d->lost++;
			d->points = ha->score;
			g_string_append_printf(why, "    - %-24s %+6.1f\n",
			    ha->name, ha->score);
			hits_differ = true;
		}
	}
	if (va->action != vb->action)
		r->changed_action++;
	else if (hits_differ || va->score != vb->score)
		r->changed_score++;
	if (va->action != vb->action || (r->all && (hits_differ ||
	    va->score != vb->score))) {
		printf("%s: %s -> %s (score %.1f -> %.1f)\n", name,
		    action_name(va->action), action_name(vb->action),
		    va->score, vb->score);
		fputs(why->str, stdout);
	}
	g_string_free(why, TRUE);
	msg_end(&a);
	msg_end(&b);
}

static int
replay_file(void *arg, const char *name, const unsigned char *data,
    size_t len)
{
	static const struct scan_env env = { .helo = NULL };

	replay_one(arg, name, &env, data, len);
	return 0;
}

/* Every quarantined message (only is NULL) or entry `only', with the
 * envelope it came with. */
static int
replay_quarantine(struct replay *r, const struct ctl_opts *o,
    const char *only)
{
	struct cfg *c = ctl_cfg(o);
	struct qstore *q;
	const struct qentry **e;
	size_t n;
	char *err = NULL;
	int rc = 0;

	if (c == NULL)
		return EX_CONFIG;
	/* The store reads the configuration it was opened with. */
	q = quarantine_open(c, false, &err);
	if (q == NULL) {
		fprintf(stderr, "vigilctl replay: quarantine: %s\n", err);
		free(err);
		cfg_unref(&c);
		return EX_NOINPUT;
	}
	if (!quarantine_list(q, NULL, &e, &n)) {
		fprintf(stderr, "vigilctl replay: quarantine: %s\n",
		    quarantine_error(q));
		quarantine_close(&q);
		cfg_unref(&c);
		return EX_SOFTWARE;
	}
	if (only != NULL && quarantine_get(q, only) == NULL) {
		fprintf(stderr, "vigilctl replay: quarantine:%s: no such entry\n",
		    only);
		quarantine_close(&q);
		cfg_unref(&c);
		return EX_NOINPUT;
	}
	for (size_t i = 0; i < n; i++) {
		struct scan_env env = {
			.client_addr = e[i]->client,
			.mail_from = e[i]->sender,
			.rcpts = e[i]->rcpts,
			.nrcpts = e[i]->nrcpts,
			.queue_id = e[i]->queue_id,
		};
		const unsigned char *data;
		size_t len;

		if (only != NULL && strcmp(e[i]->id, only) != 0)
			continue;
		if ((data = quarantine_read(q, e[i]->id, &len)) == NULL) {
			fprintf(stderr, "vigilctl replay: quarantine %s: %s\n",
			    e[i]->id, quarantine_error(q));
			r->nerrors++;
			continue;
		}
		replay_one(r, e[i]->id, &env, data, len);
	}
	quarantine_close(&q);
	cfg_unref(&c);
	return rc;
}

/* Links path (a file, or a folder's rule files) into dir as PREFIX-NAME. */
static bool
link_rules(const char *dir, const char *prefix, const char *path,
    bool force_ext)
{
	struct stat st;
	GDir *d;
	const char *n;
	char *abs, *to;
	bool ok = true;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "vigilctl replay: %s: %s\n", path, strerror(errno));
		return false;
	}
	abs = g_canonicalize_filename(path, NULL);
	if (!S_ISDIR(st.st_mode)) {
		char *base = g_path_get_basename(abs);

		to = g_strdup_printf("%s/%s-%s%s", dir, prefix, base,
		    force_ext && !g_str_has_suffix(base, ".rules") &&
		    !g_str_has_suffix(base, ".cf") ? ".rules" : "");
		if (symlink(abs, to) < 0) {
			fprintf(stderr, "vigilctl replay: %s: %s\n", to,
			    strerror(errno));
			ok = false;
		}
		g_free(to);
		g_free(base);
		g_free(abs);
		return ok;
	}
	if ((d = g_dir_open(abs, 0, NULL)) == NULL) {
		fprintf(stderr, "vigilctl replay: %s: cannot read\n", path);
		g_free(abs);
		return false;
	}
	while (ok && (n = g_dir_read_name(d)) != NULL) {
		char *from;

		if (n[0] == '.' || !(g_str_has_suffix(n, ".rules") ||
		    g_str_has_suffix(n, ".cf")))
			continue;
		from = g_build_filename(abs, n, NULL);
		to = g_strdup_printf("%s/%s-%s", dir, prefix, n);
		if (symlink(from, to) < 0) {
			fprintf(stderr, "vigilctl replay: %s: %s\n", to,
			    strerror(errno));
			ok = false;
		}
		g_free(from);
		g_free(to);
	}
	g_dir_close(d);
	g_free(abs);
	return ok;
}

static void
rm_links(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *n;

	if (d != NULL) {
		while ((n = g_dir_read_name(d)) != NULL) {
			char *p = g_build_filename(dir, n, NULL);

			(void)unlink(p);	/* our own links */
			g_free(p);
		}
		g_dir_close(d);
	}
	(void)rmdir(dir);		/* emptied above */
}

/*
 * The candidate: the global settings, ShadowRulesScore yes, the shadow
 * rules with --rules and --weights linked after them, then -o.
 */
static struct snap *
candidate(const struct ctl_opts *o, const char *rules, const char *weights,
    GPtrArray *sets)
{
	struct cfg *c = ctl_cfg(o);
	struct ctl_opts co = *o;
	GPtrArray *ov = g_ptr_array_new_with_free_func(g_free);
	char *dir = NULL;
	struct snap *s = NULL;
	bool ok = true;

	if (c == NULL)
		goto out;
	for (size_t i = 0; i < o->noverrides; i++)
		g_ptr_array_add(ov, g_strdup(o->overrides[i]));
	g_ptr_array_add(ov, g_strdup("ShadowRulesScore=yes"));
	if (rules != NULL || weights != NULL) {
		char *tmpl = g_build_filename(cfg_str(c, "TempDirectory"),
		    "vigil-replay.XXXXXX", NULL);

		if ((dir = g_mkdtemp(tmpl)) == NULL) {
			fprintf(stderr, "vigilctl replay: %s: %s\n", tmpl,
			    strerror(errno));
			g_free(tmpl);
			goto out;
		}
		if (cfg_str(c, "ShadowRulesDir") != NULL)
			ok = link_rules(dir, "10", cfg_str(c, "ShadowRulesDir"),
			    true);
		if (ok && rules != NULL)
			ok = link_rules(dir, "20", rules, true);
		if (ok && weights != NULL)
			ok = link_rules(dir, "90", weights, true);
		if (!ok)
			goto out;
		g_ptr_array_add(ov, g_strdup_printf("ShadowRulesDir=%s", dir));
	}
	for (guint i = 0; i < sets->len; i++)
		g_ptr_array_add(ov, g_strdup(sets->pdata[i]));
	co.overrides = (const char **)ov->pdata;
	co.noverrides = ov->len;
	s = ctl_snap(&co);
out:
	if (dir != NULL) {
		rm_links(dir);
		g_free(dir);
	}
	if (c != NULL)
		cfg_unref(&c);
	g_ptr_array_free(ov, TRUE);
	return s;
}

static void
print_totals(struct replay *r)
{
	GList *names, *l;

	printf("replayed %u message(s): %u change action, %u change score "
	    "only, %u unchanged\n", r->n, r->changed_action, r->changed_score,
	    r->n - r->changed_action - r->changed_score);
	printf("  %-12s %8s %10s\n", "action", "running", "candidate");
	for (int i = 0; i < NACTIONS; i++)
		if (r->before[i] || r->after[i])
			printf("  %-12s %8u %10u\n",
			    action_name((enum verdict_action)i), r->before[i],
			    r->after[i]);
	names = g_list_sort(g_hash_table_get_keys(r->rules),
	    (GCompareFunc)strcmp);
	for (l = names; l != NULL; l = l->next) {
		struct rule_delta *d = g_hash_table_lookup(r->rules, l->data);

		if (d->gained)
			printf("  rule %s gained on %u message(s), %+.1f\n",
			    (char *)l->data, d->gained, d->points);
		if (d->lost)
			printf("  rule %s lost on %u message(s), %+.1f\n",
			    (char *)l->data, d->lost, d->points);
		if (d->rescored)
			printf("  rule %s rescored on %u message(s), now %+.1f\n",
			    (char *)l->data, d->rescored, d->points);
	}
	g_list_free(names);
}

int
ctl_replay(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "weights", required_argument, NULL, 'w' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct replay r = { 0 };
	const char *rules = NULL, *weights = NULL;
	GPtrArray *sets = g_ptr_array_new();
	int ch, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+o:", lo, NULL)) != -1) {
		switch (ch) {
		case 'r': rules = optarg; break;
		case 'w': weights = optarg; break;
		case 'a': r.all = true; break;
		case 'o':
			if (strchr(optarg, '=') == NULL) {
				fprintf(stderr, "vigilctl replay: -o %s: not "
				    "Keyword=value\n", optarg);
				g_ptr_array_free(sets, TRUE);
				return EX_USAGE;
			}
			g_ptr_array_add(sets, optarg);
			break;
		case 'h':
			ctl_help_command("replay", stdout);
			g_ptr_array_free(sets, TRUE);
			return 0;
		default:
			ctl_help_usage("replay", stderr);
			g_ptr_array_free(sets, TRUE);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		fputs("vigilctl replay: no SOURCE\n", stderr);
		ctl_help_usage("replay", stderr);
		g_ptr_array_free(sets, TRUE);
		return EX_USAGE;
	}
	if ((r.run = ctl_snap(o)) == NULL) {
		g_ptr_array_free(sets, TRUE);
		return EX_CONFIG;
	}
	r.cand = candidate(o, rules, weights, sets);
	g_ptr_array_free(sets, TRUE);
	if (r.cand == NULL) {
		snap_unref(&r.run);
		return EX_CONFIG;
	}
	r.rules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	for (int i = optind; i < argc && rc == 0; i++) {
		if (strcmp(argv[i], "quarantine") == 0 &&
		    access(argv[i], F_OK) != 0)
			rc = replay_quarantine(&r, o, NULL);
		else if (strncmp(argv[i], "quarantine:", 11) == 0 &&
		    access(argv[i], F_OK) != 0)
			rc = replay_quarantine(&r, o, argv[i] + 11);
		else
			rc = ctl_read_messages("vigilctl replay", argv[i],
			    replay_file, &r, &r.nerrors);
	}
	if (rc == 0) {
		print_totals(&r);
		if (r.nerrors > 0)
			rc = EX_NOINPUT;
		else
			rc = r.changed_action + r.changed_score > 0 ? 1 : 0;
	}
	g_hash_table_destroy(r.rules);
	snap_unref(&r.run);
	snap_unref(&r.cand);
	return rc;
}
