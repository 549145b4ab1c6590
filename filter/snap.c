/*
 * snap.c - a snapshot: configuration, core settings, each check's state
 * and the score table, built together and released together.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "cfg.h"
#include "check.h"
#include "lib/log.h"
#include "lib/util.h"
#include "quarantine/quarantine.h"
#include "snap.h"

#define MAX_CHECKS	32

struct snap {
	atomic_int	 refs;
	struct cfg	*cfg;
	struct snap_core core;
	void		*states[MAX_CHECKS];	/* NULL: check not enabled */
	bool		 enabled[MAX_CHECKS];
	size_t		 nchecks;
	GHashTable	*scores;	/* name -> double* */
	struct util_cidr *trusted;
	size_t		 ntrusted;
	char		*authserv_id;
	char		*versions[SNAP_V_N];	/* NULL: "-" */
};

/* Snapshots built by this process: the configuration generation. */
static atomic_uint generations;

const char *const snap_version_names[SNAP_V_N] = {
	"rules", "scores", "config", "bayes", "av",
};

void
snap_set_version(struct snap *s, enum snap_version k, const char *value)
{
	free(s->versions[k]);
	if ((s->versions[k] = strdup(value)) == NULL)
		log_oom(strlen(value) + 1, "snap");
}

const char *
snap_version(const struct snap *s, enum snap_version k)
{
	return s->versions[k] != NULL ? s->versions[k] : "-";
}

static const char *const action_names[] = {
	"accept", "tag", "quarantine", "reject", "tempfail", "discard",
};

const char *
action_name(enum verdict_action a)
{
	if ((size_t)a < NELEM(action_names))
		return action_names[a];
	return "?";
}

const char *
check_rc_name(enum check_rc rc)
{
	switch (rc) {
	case CHECK_DONE: return "done";
	case CHECK_SKIP: return "skip";
	case CHECK_TEMPFAIL: return "tempfail";
	case CHECK_FAIL: return "fail";
	}
	return "?";
}

static void
snap_free(struct snap *s)
{
	/* Tear down in reverse order of setup. */
	for (size_t i = s->nchecks; i-- > 0;)
		if (s->states[i] != NULL && checks[i]->teardown != NULL)
			checks[i]->teardown(s->states[i]);
	if (s->scores != NULL)
		g_hash_table_destroy(s->scores);
	free(s->trusted);
	free(s->authserv_id);
	for (size_t k = 0; k < SNAP_V_N; k++)
		free(s->versions[k]);
	cfg_unref(&s->cfg);
	free(s);
}

static int
core_setup(struct snap *s, char **err_r)
{
	const struct cfg *c = s->cfg;
	struct snap_core *k = &s->core;
	const char *const *nets;
	size_t n;
	char host[256];

	k->tag_score = cfg_double(c, "TagScore");
	k->subject_score = cfg_double(c, "SubjectScore");
	k->quarantine_score = cfg_double(c, "QuarantineScore");
	k->reject_score = cfg_double(c, "RejectScore");
	k->discard_score = cfg_double(c, "DiscardScore");
	k->rewrite_subject = cfg_str(c, "RewriteSubject");
	k->reject_text = cfg_str(c, "RejectText");
	k->on_error = cfg_enum(c, "OnError") == 0 ? ACTION_TEMPFAIL : ACTION_ACCEPT;
	k->oversize_scan = cfg_enum(c, "OversizeAction") == 0;
	k->oversize_action = cfg_enum(c, "OversizeAction") == 2 ?
	    ACTION_TEMPFAIL : ACTION_ACCEPT;
	k->max_scan_size = cfg_size(c, "MaxScanSize");
	k->spool_mem_max = cfg_size(c, "SpoolMemoryMax");
	k->max_hdr_count = (size_t)cfg_int(c, "MaxHeaderCount");
	k->max_hdr_bytes = cfg_size(c, "MaxHeaderBytes");
	k->time_limit_us = cfg_duration_ms(c, "MessageTimeLimit") * 1000;
	k->mem_limit = cfg_size(c, "MessageMemoryLimit");
	k->on_incomplete = cfg_enum(c, "OnIncomplete") == 0 ?
	    ACTION_TEMPFAIL : ACTION_ACCEPT;
	k->tmp_dir = cfg_str(c, "TempDirectory");
	k->skip_trusted = cfg_bool(c, "SkipTrusted");
	k->add_headers_always = cfg_enum(c, "AddHeaders") == 0;
	if (k->rewrite_subject != NULL && strstr(k->rewrite_subject, "%s") == NULL) {
		if (asprintf(err_r, "%s: RewriteSubject: must contain %%s (the old subject)",
		    cfg_file(c)) < 0)
			log_oom(64, "snap");
		return -1;
	}
	if (!quarantine_cfg_check(c, err_r))
		return -1;
	if (cfg_str(c, "AuthservID") != NULL)
		s->authserv_id = strdup(cfg_str(c, "AuthservID"));
	else if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		s->authserv_id = strdup(host);
	} else
		s->authserv_id = strdup("localhost");
	if (s->authserv_id == NULL)
		log_oom(256, "snap");
	k->authserv_id = s->authserv_id;

	nets = cfg_list(c, "TrustedNetworks", &n);
	s->trusted = calloc(n ? n : 1, sizeof(*s->trusted));
	if (s->trusted == NULL)
		log_oom(n * sizeof(*s->trusted), "snap");
	for (size_t i = 0; i < n; i++) {
		if (!util_parse_cidr(nets[i], &s->trusted[i])) {
			if (asprintf(err_r, "%s: TrustedNetworks: %s is not an address or network",
			    cfg_file(c), nets[i]) < 0)
				log_oom(64, "snap");
			return -1;
		}
	}
	s->ntrusted = n;
	return 0;
}

/* Which checks the Checks option turns on; unknown names are errors. */
static int
enabled_checks(struct snap *s, char **err_r)
{
	size_t n;
	const char *const *names = cfg_list(s->cfg, "Checks", &n);

	for (size_t j = 0; j < n; j++) {
		bool known = strcmp(names[j], "all") == 0;

		for (size_t i = 0; checks[i] != NULL && !known; i++)
			known = strcmp(checks[i]->name, names[j]) == 0;
		if (!known) {
			if (asprintf(err_r, "%s: Checks: no check named \"%s\"",
			    cfg_file(s->cfg), names[j]) < 0)
				log_oom(64, "snap");
			return -1;
		}
	}
	for (size_t i = 0; checks[i] != NULL && i < MAX_CHECKS; i++)
		for (size_t j = 0; j < n; j++)
			if (strcmp(names[j], "all") == 0 ||
			    strcmp(names[j], checks[i]->name) == 0)
				s->enabled[i] = true;
	return 0;
}

struct snap *
snap_build(struct cfg *cfg, char **err_r)
{
	struct snap *s = calloc(1, sizeof(*s));

	*err_r = NULL;
	if (s == NULL)
		log_oom(sizeof(*s), "snap");
	atomic_init(&s->refs, 1);
	s->cfg = cfg_ref(cfg);
	s->scores = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (core_setup(s, err_r) < 0)
		goto fail;
	if (enabled_checks(s, err_r) < 0)
		goto fail;
	for (size_t i = 0; checks[i] != NULL; i++) {
		const char *err = NULL;

		if (i >= MAX_CHECKS)
			BUG("more than %d checks registered", MAX_CHECKS);
		s->nchecks = i + 1;
		if (!s->enabled[i])
			continue;
		s->states[i] = checks[i]->setup ? checks[i]->setup(s, &err) : s;
		if (s->states[i] == NULL) {
			if (asprintf(err_r, "check %s: %s", checks[i]->name,
			    err ? err : "setup failed") < 0)
				log_oom(64, "snap");
			goto fail;
		}
	}
	/* Counted only for snapshots that can go into service. */
	{
		char gen[16];

		snprintf(gen, sizeof(gen), "%u", atomic_fetch_add(&generations,
		    1) + 1);
		snap_set_version(s, SNAP_V_CONFIG, gen);
	}
	return s;
fail:
	snap_free(s);
	return NULL;
}

struct snap *
snap_ref(struct snap *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void
snap_unref(struct snap **sp)
{
	struct snap *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	*sp = NULL;
	if (atomic_fetch_sub(&s->refs, 1) == 1)
		snap_free(s);
}

const struct cfg *
snap_cfg(const struct snap *s)
{
	return s->cfg;
}

const struct snap_core *
snap_core(const struct snap *s)
{
	return &s->core;
}

void *
snap_state(const struct snap *s, const struct check *c)
{
	for (size_t i = 0; i < s->nchecks; i++)
		if (checks[i] == c)
			return s->states[i];
	return NULL;
}

void
snap_check_status(const struct snap *s, const struct check *c, char *buf,
    size_t bufsz)
{
	void *st = snap_state(s, c);

	if (st == NULL)
		snprintf(buf, bufsz, "off: not in Checks");
	else if (c->status == NULL)
		snprintf(buf, bufsz, "on");
	else
		c->status(st, buf, bufsz);
}

void
snap_set_scores(struct snap *s, const char *name, const double v[SCORE_SETS])
{
	double *d = g_new(double, SCORE_SETS);

	memcpy(d, v, SCORE_SETS * sizeof(*d));
	g_hash_table_replace(s->scores, g_strdup(name), d);
}

void
snap_set_score(struct snap *s, const char *name, double score)
{
	const double v[SCORE_SETS] = { score, score, score, score };

	snap_set_scores(s, name, v);
}

double
snap_score(const struct snap *s, const char *name, double def)
{
	const double *d = g_hash_table_lookup(s->scores, name);

	return d ? d[SCORE_SET_BAYES] : def;
}

const double *
snap_score_sets(const struct snap *s, const char *name)
{
	return g_hash_table_lookup(s->scores, name);
}

bool
snap_has_score(const struct snap *s, const char *name)
{
	return g_hash_table_contains(s->scores, name);
}

bool
snap_is_trusted_ip(const struct snap *s, const char *ip)
{
	for (size_t i = 0; i < s->ntrusted; i++)
		if (util_cidr_match(&s->trusted[i], ip))
			return true;
	return false;
}
