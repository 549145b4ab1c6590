/*
 * verdict.c - findings + thresholds -> one action, its SMTP reply and the
 * X-Spam-Status text.  Forced actions from deciding checks win when they
 * are stricter than what the score alone says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cfg.h"
#include "checks/policy.h"
#include "json.h"
#include "lib/arena.h"
#include "msg.h"
#include "msg_private.h"
#include "snap.h"
#include "verdict.h"

/* The thresholds that apply to m: the core's, then the overrides of
 * its recipients' domains (checks/policy.c). */
static void
verdict_thresholds(const struct msg *m, struct thresholds *t)
{
	const struct snap_core *k = snap_core(msg_snap(m));

	t->tag = k->tag_score;
	t->subject = k->subject_score;
	t->quarantine = k->quarantine_score;
	t->reject = k->reject_score;
	t->discard = k->discard_score;
	policy_thresholds(m, t);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The versions m's verdict is made with, and their short hash. */
static void
versions_fill(struct msg *m, struct verdict *v)
{
	XXH3_state_t st;

	XXH3_64bits_reset(&st);
	for (int k = 0; k < SNAP_V_N; k++) {
		v->versions[k] = msg_version(m, (enum snap_version)k);
		if (k == SNAP_V_BAYES)
			continue;
		XXH3_64bits_update(&st, v->versions[k],
		    strlen(v->versions[k]) + 1);
	}
	v->version = arena_printf(msg_arena(m), "%08llx",
	    (unsigned long long)(XXH3_64bits_digest(&st) >> 32));
}

const char *
verdict_versions_text(struct msg *m, const struct verdict *v)
{
	GString *s = g_string_new(NULL);
	const char *out;

	for (int k = 0; k < SNAP_V_N; k++)
		g_string_append_printf(s, "%s%s:%s", k ? "," : "",
		    snap_version_names[k], v->versions[k]);
	out = arena_strdup(msg_arena(m), s->str);
	g_string_free(s, TRUE);
	return out;
}

const char *
verdict_versions_json(struct msg *m, const struct verdict *v)
{
	GString *s = g_string_new("{");
	const char *out;

	for (int k = 0; k < SNAP_V_N; k++)
		g_string_append_printf(s, "%s\"%s\": %s", k ? ", " : "",
		    snap_version_names[k], json_string(msg_arena(m),
		    v->versions[k]));
	g_string_append_printf(s, ", \"combined\": \"%s\"}", v->version);
	out = arena_strdup(msg_arena(m), s->str);
	g_string_free(s, TRUE);
	return out;
}

/* "Yes, score=7.3 required=5.0 version=0a1b2c3d tests=A,B" with tests
 * sorted; tests= stays last, so parsers that read it to the end of the
 * line keep working. */
static const char *
status_text(struct msg *m, bool is_spam, double score, double required,
    const char *version)
{
	struct arena *a = msg_arena(m);
	size_t n = msg_hit_count(m), len = 0;
	const char **names = arena_alloc(a, (n + 1) * sizeof(*names));
	char *tests, *o;

	for (size_t i = 0; i < n; i++) {
		names[i] = msg_hit(m, i)->name;
		len += strlen(names[i]) + 1;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	tests = o = arena_alloc(a, len + 5);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		o += sprintf(o, "%s%s", o == tests ? "" : ",", names[i]);
	}
	if (o == tests)
		strcpy(tests, "none");
	return arena_printf(a, "%s, score=%.1f required=%.1f version=%s tests=%s",
	    is_spam ? "Yes" : "No", score, required, version, tests);
}

bool
verdict_pass_holds(const struct msg *m)
{
	const char *rcode, *xcode, *text, *reason;

	return msg_pass(m) != NULL && !(msg_forced_action(m, &rcode, &xcode,
	    &text, &reason) == ACTION_TEMPFAIL && msg_failure_count(m) > 0);
}

const struct verdict *
verdict_decide(struct msg *m)
{
	struct arena *a = msg_arena(m);
	const struct snap_core *k = snap_core(msg_snap(m));
	struct verdict *v = arena_alloc(a, sizeof(*v));
	struct thresholds t;
	const char *rcode, *xcode, *text, *reason;
	int forced;

	/* Scores as the evidence at hand was weighed, as SpamAssassin
	 * does: with Bayes's sets when a mature store voted, with the net
	 * sets when the DNS lists answered. */
	msg_use_score_set(m, msg_bayes_votes(m) ? (msg_net_votes(m) ?
	    SCORE_SET_BAYES_NET : SCORE_SET_BAYES) : (msg_net_votes(m) ?
	    SCORE_SET_NET : SCORE_SET_PLAIN));
	verdict_thresholds(m, &t);
	v->score = msg_score(m);
	v->required = t.tag;
	v->is_spam = v->score >= t.tag;
	v->reason = v->is_spam ? "spam" : "clean";

	/* The score alone. */
	if (t.reject > 0 && v->score >= t.reject)
		v->action = ACTION_REJECT;
	else if (t.discard > 0 && v->score >= t.discard)
		v->action = ACTION_DISCARD;
	else if (t.quarantine > 0 && v->score >= t.quarantine)
		v->action = ACTION_QUARANTINE;
	else if (v->is_spam)
		v->action = ACTION_TAG;
	else
		v->action = ACTION_ACCEPT;

	/* A deciding check or a failure can make it stricter; at equal
	 * severity its reply and reason win over the score's generic one. */
	forced = msg_forced_action(m, &rcode, &xcode, &text, &reason);
	if (forced >= 0 && action_severity((enum verdict_action)forced) >=
	    action_severity(v->action)) {
		v->action = (enum verdict_action)forced;
		v->rcode = rcode;
		v->xcode = xcode;
		v->text = text;
		v->reason = reason ? reason : "policy";
	}

	/* Scanned on its first MaxScanSize bytes: decided as scanned, said
	 * so; a quarantined copy would be those bytes only, so a message
	 * the store would keep cut short is rejected instead. */
	if (msg_is_truncated(m)) {
		msg_add_header_out(m, "X-Vigil-Scan", arena_printf(a,
		    "truncated, the first %zu of %zu bytes scanned",
		    k->max_scan_size, msg_seen_size(m)));
		if (v->action == ACTION_QUARANTINE && strcasecmp(cfg_enum_str(
		    snap_cfg(msg_snap(m)), "QuarantineMode"), "hold") != 0) {
			v->action = ACTION_REJECT;
			v->rcode = v->xcode = v->text = NULL;
		}
	} else if (msg_is_oversize(m)) {
		/* Too big to scan: passed with a note, or deferred. */
		v->action = k->oversize_action;
		v->reason = "oversize";
		if (v->action == ACTION_TEMPFAIL) {
			v->rcode = "452";
			v->xcode = "4.3.4";
			v->text = "Message too large to scan now";
		}
		msg_add_header_out(m, "X-Vigil-Scan",
		    arena_printf(a, "skipped, message larger than %zu bytes",
		    k->max_scan_size));
	}

	/* An admin's pass (a released message) beats all but a failure:
	 * score, deciding checks and the oversize policy. */
	if (verdict_pass_holds(m)) {
		v->action = ACTION_ACCEPT;
		v->rcode = v->xcode = v->text = NULL;
		v->reason = msg_pass(m);
	}

	if (v->action == ACTION_REJECT && v->rcode == NULL) {
		v->rcode = "550";
		v->xcode = "5.7.1";
		v->text = k->reject_text;
	}
	if (v->action == ACTION_TEMPFAIL && v->rcode == NULL) {
		v->rcode = "451";
		v->xcode = "4.7.1";
		v->text = "Message could not be checked, try again later";
	}
	versions_fill(m, v);
	v->status = status_text(m, v->is_spam, v->score, v->required,
	    v->version);
	v->add_spam_headers = (!msg_is_oversize(m) || msg_is_truncated(m)) &&
	    (k->add_headers_always || v->is_spam);
	if (k->rewrite_subject != NULL && v->score >= t.subject &&
	    (v->action == ACTION_TAG || v->action == ACTION_QUARANTINE)) {
		const char *old = msg_hdr_raw(m, "Subject");
		GString *s = g_string_new(NULL);

		if (old == NULL)
			old = "";
		while (*old == ' ' || *old == '\t')
			old++;
		for (const char *p = k->rewrite_subject; *p; p++) {
			if (p[0] == '%' && p[1] == 's') {
				g_string_append(s, old);
				p++;
			} else
				g_string_append_c(s, *p);
		}
		v->new_subject = arena_strdup(a, s->str);
		g_string_free(s, TRUE);
	}
	return v;
}
