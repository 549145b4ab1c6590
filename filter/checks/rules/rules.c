/*
 * rules.c - the rules check: loads and compiles RulesDir when a snapshot
 * is built (a set with errors fails setup, so a reload keeps the running
 * set), sets every `score` line in the snapshot's score table, and at end
 * of message runs the set and adds a finding per scored rule that hit.
 * The full hit list (sub-rules too) stays in the message's slot for
 * `vigilctl rules test`.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "cfg.h"
#include "check.h"
#include "lib/log.h"
#include "msg.h"
#include "snap.h"
#include "checks/auth/auth.h"
#include "checks/bayes/bayes.h"
#include "checks/dnsbl/dnsbl.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_auth.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_input.h"
#include "checks/rules/rules_check.h"

/* Where Debian keeps SpamAssassin's rules, and sa-update its own. */
#define SA_SHARE_DIR	"/usr/share/spamassassin"
#define SA_UPDATE_DIR	"/var/lib/spamassassin"

const struct opt rules_opts[] = {
	{ "RulesDir", OPT_PATH, DATADIR "/vigil/rules", 0, 0, NULL,
	  "Rule files (*.rules, *.cf) in the SpamAssassin rule language, "
	  "read in lexical order: the shipped set, replaced on upgrade" },
	{ "LocalRulesDir", OPT_PATH, SYSCONFDIR "/vigil/rules.d", 0, 0, NULL,
	  "The site's own rule files, read after RulesDir in lexical order, "
	  "so that their scores win (a missing default folder is skipped)" },
	{ "SpamAssassinRules", OPT_STRING, "auto", 0, 0, NULL,
	  "SpamAssassin's installed rule set, read after RulesDir and before "
	  "LocalRulesDir, weighed by the scores learned with it "
	  "(RulesDir/spamassassin.scores): auto (with the default RulesDir: "
	  "sa-update's newest, else /usr/share/spamassassin, when installed), "
	  "no, or a folder" },
	{ "ShadowRulesDir", OPT_PATH, NULL, 0, 0, NULL,
	  "Rule files loaded after RulesDir whose rules are shadow rules: "
	  "evaluated and counted (stats, metrics, log shadow=), never "
	  "scored, as `tflags NAME shadow` (unset: none)" },
	{ "ShadowRulesScore", OPT_BOOL, "no", 0, 0, NULL,
	  "Shadow rules score like the others: what they would do live "
	  "(vigilctl replay's candidate sets it)" },
	{ "RulesMatchLimit", OPT_INT, "500000", 1000, 100000000, NULL,
	  "PCRE2 match limit per regex and text; a rule reaching it counts "
	  "as not hit" },
	{ "RulesDepthLimit", OPT_INT, "5000", 100, 10000000, NULL,
	  "PCRE2 backtracking depth limit (when JIT is unavailable)" },
	{ "RulesBodyScanSize", OPT_SIZE, "50k", 0, 1 << 30, NULL,
	  "Rendered text per part that body rules see (0: all)" },
	{ "RulesRawScanSize", OPT_SIZE, "500k", 0, 1 << 30, NULL,
	  "Decoded text per part that rawbody rules see (0: all)" },
	{ "RulesRegexPrefilter", OPT_BOOL, "no", 0, 0, NULL,
	  "Run body and rawbody rules without literals only on the chunks a "
	  "Hyperscan prefilter of them matches, the patterns worth it "
	  "measured when it is compiled (doc/rules.md; the same hits). "
	  "Off by default: with SpamAssassin's rules its database holds about "
	  "15 MB and tens of seconds of compiling (kept in RulesCacheDir), "
	  "for 7 % fewer instructions a message (make bench-eom)" },
	{ "RulesCacheDir", OPT_PATH, LOCALSTATEDIR "/cache/vigil", 0, 0, NULL,
	  "Where the compiled regex prefilter of the body rules without "
	  "literals (a Hyperscan database, tens of seconds to compile for "
	  "SpamAssassin's rules) is kept between starts and reloads, one file "
	  "per rule set and Hyperscan version; a file that fails its checks "
	  "is compiled again (empty: compiled at every load)" },
	{ NULL }
};

struct rules_state {
	struct rules_set	*set;
	struct rules_limits	 lim;
	uint64_t		 n_msgs;	/* atomic */
	uint64_t		 ns_total;	/* atomic: build + evaluation */
	bool			 has_mimeheader;	/* parts' headers needed */
	bool			 is_shadow_scored;	/* ShadowRulesScore */
	bool			 has_bayes_rules;	/* eval:check_bayes */
	struct adns		*dns;	/* check_dkim_adsp's lookups */
	char			*where;		/* the folders read, for status */
};

static char	*setup_err;	/* kept until the next setup call */
bool		 rules_cpu_time;

struct setup_diag {
	GString	*errors;
	size_t	 nerrors;
};

static void
setup_diag_fn(void *arg, enum rules_sev sev, const char *file, int line,
    int col, const char *name, const char *what)
{
	struct setup_diag *d = arg;

	if (sev != RULES_ERROR)
		return;
	log_sys(LOG_ERR, "rules: %s:%d:%d: %s: %s", file, line, col, name,
	    what);
	if (d->nerrors++ < 5)
		g_string_append_printf(d->errors, "%s%s:%d:%d: %s: %s",
		    d->errors->len ? "; " : "", file, line, col, name, what);
}

/* Loads and compiles dir, then local (if not NULL); NULL with *err_r
 * (malloc'd) on any error. */
struct rules_set *
rules_build(const char *dir, const char *sa_dir, const char *local,
    const char *shadow_dir, const struct rules_limits *lim,
    const struct rules_diag *diag, bool stress, char **err_r)
{
	struct rules_set *set = rules_set_new(lim);

	if (dir != NULL)
		rules_load_path(set, dir, diag);
	if (sa_dir != NULL) {
		/*
		 * SpamAssassin's rules, then the scores learned with them
		 * beside the shipped rules: their own score lines were made
		 * for another engine (vigilctl scores learn, make scores).
		 */
		char *learned = dir != NULL ? g_build_filename(dir,
		    "spamassassin.scores", NULL) : NULL;

		rules_load_path(set, sa_dir, diag);
		if (learned != NULL && access(learned, R_OK) == 0)
			rules_load_path(set, learned, diag);
		g_free(learned);
	}
	if (local != NULL)
		rules_load_path(set, local, diag);
	if (shadow_dir != NULL)
		rules_load_shadow_path(set, shadow_dir, diag);
	rules_compile(set, stress, diag);
	{
		struct rules_counts c;

		rules_get_counts(set, &c);
		if (c.errors > 0) {
			*err_r = g_strdup_printf("RulesDir %s%s%s: %zu "
			    "error%s", dir ? dir : "-", local ? ", LocalRulesDir "
			    : "", local ? local : "", c.errors,
			    c.errors > 1 ? "s" : "");
			rules_set_free(&set);
			return NULL;
		}
	}
	return set;
}

void
rules_limits_from_cfg(const struct cfg *cfg, struct rules_limits *lim)
{
	lim->match_limit = (uint32_t)cfg_int(cfg, "RulesMatchLimit");
	lim->depth_limit = (uint32_t)cfg_int(cfg, "RulesDepthLimit");
	lim->body_scan = (size_t)cfg_size(cfg, "RulesBodyScanSize");
	lim->raw_scan = (size_t)cfg_size(cfg, "RulesRawScanSize");
	lim->cache_dir = cfg_str(cfg, "RulesCacheDir");
	lim->regex_prefilter = cfg_bool(cfg, "RulesRegexPrefilter");
}

/* Does folder dir hold a file that rules_load_path would read (cf_only:
 * a *.cf file, SpamAssassin's)? */
static bool
has_rule_files(const char *dir, bool cf_only)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *n;
	bool found = false;

	if (d == NULL)
		return false;
	while (!found && (n = g_dir_read_name(d)) != NULL)
		found = n[0] != '.' && (g_str_has_suffix(n, ".cf") ||
		    (!cf_only && g_str_has_suffix(n, ".rules")));
	g_dir_close(d);
	return found;
}

void
rules_dirs_from_cfg(const struct cfg *cfg, const char **dir_r,
    const char **local_r)
{
	const char *dir = cfg_str(cfg, "RulesDir");
	const char *local = cfg_str(cfg, "LocalRulesDir");

	/* A default folder may be missing (a build run from its source
	 * tree, a site without local rules): skipped, and the caller says
	 * so for RulesDir.  A folder the config names must exist. */
	if (!cfg_is_set(cfg, "RulesDir") && access(dir, F_OK) == -1)
		dir = NULL;
	/* An empty local folder is the normal case, not worth a warning. */
	if (local != NULL && !cfg_is_set(cfg, "LocalRulesDir") &&
	    !has_rule_files(local, false))
		local = NULL;
	*dir_r = dir;
	*local_r = local;
}

char *
rules_sa_dir_from_cfg(const struct cfg *cfg)
{
	const char *v = cfg_str(cfg, "SpamAssassinRules");
	char *best = NULL;
	GDir *d;
	const char *n;

	if (v == NULL || strcmp(v, "no") == 0 || strcmp(v, "none") == 0)
		return NULL;
	if (strcmp(v, "auto") != 0)
		return g_strdup(v);
	/* auto joins the shipped set: a configuration that names its own
	 * RulesDir gets what it names (SpamAssassinRules can add them). */
	if (cfg_is_set(cfg, "RulesDir"))
		return NULL;
	/* sa-update's rules, the newest version's (4.000001 ...). */
	if ((d = g_dir_open(SA_UPDATE_DIR, 0, NULL)) != NULL) {
		while ((n = g_dir_read_name(d)) != NULL) {
			char *p = g_build_filename(SA_UPDATE_DIR, n,
			    "updates_spamassassin_org", NULL);

			if (has_rule_files(p, true) && (best == NULL ||
			    strcmp(p, best) > 0)) {
				g_free(best);
				best = p;
			} else
				g_free(p);
		}
		g_dir_close(d);
	}
	if (best == NULL && has_rule_files(SA_SHARE_DIR, true))
		best = g_strdup(SA_SHARE_DIR);
	return best;
}

/* Does another check list name among its findings (check.h)? */
static bool
is_check_finding(const char *name)
{
	for (size_t i = 0; checks[i] != NULL; i++) {
		const char *const *f = checks[i]->findings;

		for (; f != NULL && *f != NULL; f++)
			if (strcmp(*f, name) == 0)
				return true;
	}
	return false;
}

/*
 * Is name's score SpamAssassin's own (a file of SpamAssassinRules) for
 * a finding of vigil's own checks: one of its SPF, DKIM, DMARC and
 * Bayes rules, or a name a check lists (headers.c's MISSING_DATE)?
 * Those findings keep the weight vigil's check gives them:
 * SpamAssassin's (SPF_FAIL 0 0.919 0 0.001) count only in its network
 * score sets, which vigil uses when the DNS lists answered, so they
 * would have left SPF_FAIL at 0 in most verdicts; BAYES_* weigh what
 * vigil's Bayes learned or its bands.  A learned (spamassassin.scores)
 * or local score line wins as for every finding; the rule's own score
 * stays its default.
 */
static bool
is_sa_own_score(const struct rules_set *set, const char *sa_dir,
    const char *name)
{
	const struct rule *r = rules_find(set, name);
	const char *file;
	size_t n = strlen(sa_dir);
	int line;

	if (r == NULL || ((r->evalfn == NULL ||
	    !rules_evalfn_is_auth(r->evalfn)) &&
	    strcmp(name, "DKIM_INVALID") != 0 && !is_check_finding(name)))
		return false;
	return rules_score_source(set, name, &file, &line) &&
	    strncmp(file, sa_dir, n) == 0 && (file[n] == '/' ||
	    (n > 0 && sa_dir[n - 1] == '/'));
}

static void *
rules_setup(struct snap *snap, const char **err_r)
{
	const struct cfg *cfg = snap_cfg(snap);
	struct rules_state *st = g_new0(struct rules_state, 1);
	struct setup_diag d = { .errors = g_string_new(NULL) };
	struct rules_diag diag = { .fn = setup_diag_fn, .arg = &d };
	const char *dir, *local;
	char *sa_dir;
	struct rules_counts c;
	char *err = NULL;

	g_free(setup_err);
	setup_err = NULL;
	rules_limits_from_cfg(cfg, &st->lim);
	st->is_shadow_scored = cfg_bool(cfg, "ShadowRulesScore");
	rules_dirs_from_cfg(cfg, &dir, &local);
	if (dir == NULL)
		log_sys(LOG_WARNING, "rules: default RulesDir %s: %s: running "
		    "without the shipped rules (set RulesDir)",
		    cfg_str(cfg, "RulesDir"), strerror(ENOENT));
	sa_dir = rules_sa_dir_from_cfg(cfg);
	if (sa_dir != NULL && access(sa_dir, R_OK) == -1) {
		setup_err = g_strdup_printf("SpamAssassinRules %s: %s",
		    sa_dir, strerror(errno));
		g_free(sa_dir);
		g_string_free(d.errors, TRUE);
		g_free(st);
		*err_r = setup_err;
		return NULL;
	}
	if ((st->set = rules_build(dir, sa_dir, local,
	    cfg_str(cfg, "ShadowRulesDir"), &st->lim, &diag, false,
	    &err)) == NULL) {
		g_free(sa_dir);
		setup_err = g_strdup_printf("%s: %s%s", err, d.errors->str,
		    d.nerrors > 5 ? "; ..." : "");
		g_free(err);
		g_string_free(d.errors, TRUE);
		g_free(st);
		*err_r = setup_err;
		return NULL;
	}
	g_string_free(d.errors, TRUE);
	st->has_mimeheader = rules_has_type(st->set, RULE_MIMEHEADER);
	for (size_t i = 0; i < rules_count(st->set); i++) {
		const struct rule *r = rules_at(st->set, i);

		if (r->is_enabled && rules_evalfn_is_bayes(r->evalfn))
			st->has_bayes_rules = true;
	}
	/* Scores for every finding named in the rule files. */
	for (size_t i = 0; i < rules_score_count(st->set); i++) {
		const char *name;
		const double *sets = rules_score_sets_at(st->set, i, &name);

		if (sa_dir != NULL && is_sa_own_score(st->set, sa_dir, name))
			continue;
		snap_set_scores(snap, name, sets);
	}
	{
		uint64_t hr, hs;
		char hex[17];

		rules_set_hashes(st->set, &hr, &hs);
		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)hr);
		snap_set_version(snap, SNAP_V_RULES, hex);
		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)hs);
		snap_set_version(snap, SNAP_V_SCORES, hex);
	}
	/* ADSP's lookups are network tests (tflags net), as the DNS lists
	 * are: asked only with DNSLists on, as SpamAssassin asks them only
	 * with its network tests on.  (An offline run's empty DNSZoneFile
	 * would otherwise say that every author domain does not exist.) */
	if (!cfg_bool(cfg, "DNSLists"))
		st->dns = NULL;
	else if ((st->dns = adns_from_cfg(cfg, &err)) == NULL) {
		log_sys(LOG_WARNING, "rules: %s: DKIM_ADSP_* use "
		    "adsp_override alone", err);
		free(err);
		err = NULL;
	}
	rules_get_counts(st->set, &c);
	st->where = g_strdup_printf("%s%s%s%s%s%s", dir ? dir :
	    cfg_str(cfg, "RulesDir"), dir ? "" : " (missing)",
	    sa_dir ? " then SpamAssassin's " : "", sa_dir ? sa_dir : "",
	    local ? " then " : "", local ? local : "");
	g_free(sa_dir);
	log_sys(LOG_INFO, "rules: %s: %zu rules loaded, %zu skipped, %zu "
	    "warnings, %zu lines of directives not read (vigilctl rules lint "
	    "lists them)", st->where, c.loaded, c.skipped, c.warnings,
	    c.unread);
	return st;
}

/*
 * SpamAssassin's rules that say what a finding of vigil's own checks
 * says under another name: the message keeps vigil's (its weight, and
 * DMARCEnforce acts on it), the rule only feeds metas.
 */
static const struct {
	const char	*rule;
	const char	*finding;
} same_evidence[] = {
	{ "DMARC_REJECT", "DMARC_FAIL_REJECT" },
	{ "DMARC_QUAR", "DMARC_FAIL_QUARANTINE" },
	{ "DMARC_NONE", "DMARC_FAIL_NONE" },
	{ "T_SPF_PERMERROR", "SPF_PERMERROR" },
	{ "T_SPF_TEMPERROR", "SPF_TEMPERROR" },
	{ "T_SPF_HELO_PERMERROR", "SPF_HELO_PERMERROR" },
	{ "T_SPF_HELO_TEMPERROR", "SPF_HELO_TEMPERROR" },
	{ "DKIM_VERIFIED", "DKIM_VALID" },
};

/*
 * Does m already carry the evidence of rule r from another check: a
 * finding of the same name (spf.c's SPF_PASS, dkim.c's DKIM_INVALID,
 * headers.c's MISSING_DATE), or of the same meaning under vigil's name
 * (same_evidence)?
 */
static bool
has_evidence(struct msg *m, const struct rule *r)
{
	const char *rule = r->name;

	if (msg_has_hit(m, rule))
		return true;
	for (size_t i = 0; i < sizeof(same_evidence) /
	    sizeof(same_evidence[0]); i++)
		if (strcmp(same_evidence[i].rule, rule) == 0)
			return msg_has_hit(m, same_evidence[i].finding);
	return false;
}

/* The evaluation's result for the message, for vigilctl rules test. */
struct rules_result *
rules_result(struct msg *m)
{
	void **slot = msg_slot(m, &check_rules);

	return *slot;
}

static enum check_rc
rules_run(void *state, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	struct rules_state *st = state;
	struct rules_input in;
	struct rules_result *res;
	struct timespec t0, t1, c0, c1;

	if (rules_cpu_time)
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rules_input_build(m, &st->lim, st->has_mimeheader, &in);
	in.ext_hits = dnsbl_msg_hits(m, &in.next_hits);
	/* SpamAssassin's SPF, DKIM and DMARC tests read what vigil's own
	 * checks found (they run before the rules). */
	{
		struct rules_auth *au = arena_alloc(msg_arena(m),
		    sizeof(*au));

		memset(au, 0, sizeof(*au));
		au->spf = auth_spf(m);
		au->dkim = auth_dkim(m);
		au->dmarc = auth_dmarc(m);
		/* Bayes runs after the rules (it sees their score), but
		 * its probability is known now: BAYES_99 works in metas. */
		if (st->has_bayes_rules)
			au->has_bayes = bayes_msg_probability(m, &au->bayes_p);
		/* ADSP asks the DNS only where DKIM did (its budget) */
		if (au->dkim != NULL && st->dns != NULL) {
			au->dns = st->dns;
			au->budget = auth_budget(m, st->dns);
		}
		in.auth = au;
	}
	res = arena_alloc(msg_arena(m), sizeof(*res));
	res->hits = rules_eval(st->set, &in, msg_arena(m), &res->nhits);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
	    (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
	res->cpu_ns = 0;
	if (rules_cpu_time) {
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
		res->cpu_ns = (uint64_t)(c1.tv_sec - c0.tv_sec) * 1000000000u +
		    (uint64_t)c1.tv_nsec - (uint64_t)c0.tv_nsec;
	}
	*msg_slot(m, &check_rules) = res;
	atomic_fetch_add_explicit((_Atomic uint64_t *)&st->n_msgs, 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit((_Atomic uint64_t *)&st->ns_total, res->ns,
	    memory_order_relaxed);
	for (size_t i = 0; i < res->nhits; i++) {
		const struct rules_hit *h = &res->hits[i];

		/* Sub-rules (__NAME) only feed metas, as in SpamAssassin. */
		if (strncmp(h->rule->name, "__", 2) == 0)
			continue;
		/* Shadow rules are counted (the rule's n_hits) and named
		 * in the log, never scored. */
		if ((h->rule->tflags & TF_SHADOW) && !st->is_shadow_scored) {
			msg_add_shadow_hit(m, h->rule->name);
			continue;
		}
		/* BAYES_*: the Bayes check's finding, added after the
		 * rules with the weight it learned, is the one scored. */
		if (rules_evalfn_is_bayes(h->rule->evalfn))
			continue;
		/* A name another check already gave the message (SPF_PASS
		 * from spf.c, DKIM_INVALID from dkim.c, MISSING_DATE from
		 * headers.c ...), or its equivalent, is the same evidence:
		 * one finding, one weight; the rule's hit feeds the metas
		 * only. */
		if (has_evidence(m, h->rule))
			continue;
		if (h->match[0] != '\0')
			msg_add_hit(m, h->rule->name, h->rule->score,
			    "%s: \"%s\"", h->where, h->match);
		else
			msg_add_hit(m, h->rule->name, h->rule->score, "%s",
			    h->where);
	}
	return CHECK_DONE;
}

static void
rules_teardown(void *state)
{
	struct rules_state *st = state;

	if (st == NULL)
		return;
	rules_set_free(&st->set);
	adns_free(&st->dns);
	g_free(st->where);
	g_free(st);
}

static void
rules_status(void *state, char *buf, size_t bufsz)
{
	const struct rules_state *st = state;
	struct rules_counts c;

	rules_get_counts(st->set, &c);
	if (c.loaded == 0)
		snprintf(buf, bufsz, "off: no rules (RulesDir %s)",
		    st->where ? st->where : "-");
	else
		snprintf(buf, bufsz, "on: %zu rules from %s", c.loaded,
		    st->where);
}

static void
rules_stats(void *state, FILE *out)
{
	struct rules_state *st = state;

	fprintf(out, "rules.messages %llu\n", (unsigned long long)
	    atomic_load_explicit((_Atomic uint64_t *)&st->n_msgs,
	    memory_order_relaxed));
	fprintf(out, "rules.us %llu\n", (unsigned long long)
	    atomic_load_explicit((_Atomic uint64_t *)&st->ns_total,
	    memory_order_relaxed) / 1000);
	rules_write_stats(st->set, out);
}

const struct rules_set *
rules_state_set(const void *state)
{
	return ((const struct rules_state *)state)->set;
}

const struct check check_rules = {
	.name = "rules",
	.phases = PHASE_EOM,
	.is_content = 1,
	.setup = rules_setup,
	.run = rules_run,
	.teardown = rules_teardown,
	.stats = rules_stats,
	.status = rules_status,
};
