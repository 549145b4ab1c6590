/*
 * pipeline.c - runs the registered checks in their phases, turns check
 * failures into the configured policy (logged once, here), and feeds a
 * whole message from memory for offline scans.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "check.h"
#include "lib/histo.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "msg.h"
#include "msg_private.h"
#include "pipeline.h"
#include "snap.h"
#include "verdict.h"
#include "lib/util.h"

#define MAX_TIMED	32

/* Per check (by registry position): runs, microseconds, failures, and
 * messages whose budget cut the check short or left it unrun. */
static atomic_ullong check_runs[MAX_TIMED], check_us[MAX_TIMED],
    check_fails[MAX_TIMED], check_incomplete[MAX_TIMED];
static struct histo check_time[MAX_TIMED];

static enum verdict_action
error_policy(const struct snap *s, const struct check *c)
{
	const struct cfg *cfg = snap_cfg(s);

	if (c->on_error_opt != NULL)
		return strcasecmp(cfg_enum_str(cfg, c->on_error_opt), "accept") == 0 ?
		    ACTION_ACCEPT : ACTION_TEMPFAIL;
	return snap_core(s)->on_error;
}

static bool
skip_content(struct msg *m)
{
	const struct snap_core *k = snap_core(msg_snap(m));

	return (k->skip_trusted && msg_is_trusted(m)) ||
	    (msg_is_oversize(m) && !msg_is_truncated(m));
}

void
pipeline_phase(struct msg *m, enum check_phase phase)
{
	struct snap *s = msg_snap(m);
	bool skip = skip_content(m);

	for (size_t i = 0; checks[i] != NULL; i++) {
		const struct check *c = checks[i];
		const char *why = NULL;
		enum check_rc rc;

		void *st = snap_state(s, c);

		if (!(c->phases & phase) || c->run == NULL || st == NULL)
			continue;
		if (c->is_content && skip)
			continue;
		if (msg_budget_over(m)) {
			/* Spent: the rest of the checks do not run. */
			msg_budget_note_incomplete(m, c->name);
			continue;
		}
		uint64_t t0 = util_now_us();

		msg_budget_enter(m);
		rc = c->run(st, m, phase, &why);
		msg_budget_leave(m);
		if (msg_budget_take_cut(m))
			msg_budget_note_incomplete(m, c->name);
		if (i < MAX_TIMED) {
			uint64_t us = util_now_us() - t0;

			atomic_fetch_add(&check_runs[i], 1);
			atomic_fetch_add(&check_us[i], us);
			histo_observe(&check_time[i], us);
			if (rc == CHECK_TEMPFAIL || rc == CHECK_FAIL)
				atomic_fetch_add(&check_fails[i], 1);
		}
		if (rc == CHECK_TEMPFAIL || rc == CHECK_FAIL) {
			enum verdict_action pol = error_policy(s, c);

			log_msg(LOG_WARNING, m, "check=%s rc=%s policy=%s why=\"%s\"",
			    c->name, check_rc_name(rc), action_name(pol),
			    why ? why : "unknown");
			msg_note_failure(m, c->name, pol, why);
		} else if (rc == CHECK_SKIP && why != NULL)
			log_msg(LOG_DEBUG, m, "check=%s skipped why=\"%s\"", c->name, why);
	}
}

void
pipeline_connect(struct snap *s, const char *addr)
{
	for (size_t i = 0; checks[i] != NULL; i++) {
		void *st = snap_state(s, checks[i]);

		if (checks[i]->connect != NULL && st != NULL)
			checks[i]->connect(st, s, addr);
	}
}

void
pipeline_write_stats(FILE *out)
{
	for (size_t i = 0; checks[i] != NULL && i < MAX_TIMED; i++) {
		unsigned long long n = atomic_load(&check_runs[i]);

		fprintf(out, "check.%s.runs %llu\n", checks[i]->name, n);
		fprintf(out, "check.%s.failures %llu\n", checks[i]->name,
		    atomic_load(&check_fails[i]));
		fprintf(out, "check.%s.ms.mean %.3f\n", checks[i]->name,
		    n ? (double)atomic_load(&check_us[i]) / 1000.0 / (double)n : 0.0);
		fprintf(out, "check.%s.incomplete %llu\n", checks[i]->name,
		    atomic_load(&check_incomplete[i]));
	}
}

void
pipeline_write_metrics(const struct metrics_fmt *f, const struct snap *s)
{
	char labels[96];

	metrics_family(f, "vigil_check_duration_seconds", METRICS_HISTOGRAM,
	    "Time one check took per run, by check (all phases)");
	for (size_t i = 0; checks[i] != NULL && i < MAX_TIMED; i++) {
		struct histo_read h;

		if (s != NULL && snap_state(s, checks[i]) == NULL)
			continue;	/* not enabled */
		histo_read(&check_time[i], &h);
		snprintf(labels, sizeof(labels), "check=\"%s\"", checks[i]->name);
		metrics_histo(f, "vigil_check_duration_seconds", labels, &h);
	}
}

/*
 * The checks' streaming hooks for one header field (name set) or body
 * chunk, within the message's budget: once it is spent a check that
 * streams is left out, and its result is incomplete.
 */
static void
stream_hooks(struct msg *m, struct snap *s, const char *name,
    const char *value, const unsigned char *chunk, size_t len)
{
	bool is_open = false;

	for (size_t i = 0; checks[i] != NULL; i++) {
		const struct check *c = checks[i];
		void *st;

		if ((name != NULL ? c->header == NULL : c->body == NULL) ||
		    (st = snap_state(s, c)) == NULL)
			continue;
		if (!is_open && msg_budget_over(m)) {
			msg_budget_note_incomplete(m, c->name);
			continue;
		}
		if (!is_open) {
			msg_budget_enter(m);
			is_open = true;
		}
		if (name != NULL)
			c->header(st, m, name, value);
		else
			c->body(st, m, chunk, len);
		if (msg_budget_take_cut(m) || msg_budget_why(m) != NULL)
			msg_budget_note_incomplete(m, c->name);
	}
	if (is_open)
		msg_budget_leave(m);
}

void
pipeline_header(struct msg *m, const char *name, const char *value)
{
	struct snap *s = msg_snap(m);

	if (!msg_store_header(m, name, value))
		return;		/* past the limits: not examined */
	stream_hooks(m, s, name, value, NULL, 0);
}

void
pipeline_eoh(struct msg *m)
{
	msg_store_eoh(m);
	pipeline_phase(m, PHASE_EOH);
}

void
pipeline_body(struct msg *m, const unsigned char *chunk, size_t len)
{
	struct snap *s = msg_snap(m);

	msg_store_body(m, chunk, len);
	stream_hooks(m, s, NULL, NULL, chunk, len);
}

/*
 * Checks the budget cut short or left unrun: SCAN_INCOMPLETE names them,
 * they are counted, and the message takes OnIncomplete.
 */
static void
budget_outcome(struct msg *m)
{
	const struct snap_core *k = snap_core(msg_snap(m));
	size_t n = msg_budget_incomplete_count(m), len = 1;
	char *names, *o;

	if (n == 0)
		return;
	for (size_t j = 0; j < n; j++) {
		const char *name = msg_budget_incomplete(m, j);

		len += strlen(name) + 1;
		for (size_t i = 0; checks[i] != NULL && i < MAX_TIMED; i++)
			if (strcmp(checks[i]->name, name) == 0)
				atomic_fetch_add(&check_incomplete[i], 1);
	}
	names = o = arena_alloc(msg_arena(m), len);
	for (size_t j = 0; j < n; j++)
		o += sprintf(o, "%s%s", j ? "," : "", msg_budget_incomplete(m, j));
	msg_add_hit(m, "SCAN_INCOMPLETE", 0.0, "%s; not run or cut short: %s",
	    msg_budget_why(m) ? msg_budget_why(m) : "budget spent", names);
	log_msg(LOG_WARNING, m, "budget spent why=\"%s\" incomplete=%s "
	    "policy=%s", msg_budget_why(m) ? msg_budget_why(m) : "-", names,
	    action_name(k->on_incomplete));
	if (k->on_incomplete == ACTION_TEMPFAIL)
		msg_force_action(m, ACTION_TEMPFAIL, "451", "4.7.1",
		    "Message could not be checked in time, try again later",
		    "incomplete");
	else
		msg_add_header_out(m, "X-Vigil-Scan", arena_printf(msg_arena(m),
		    "incomplete, not run or cut short: %s", names));
}

const struct verdict *
pipeline_eom(struct msg *m)
{
	const char *err = msg_spool_error(m);

	msg_store_eoh(m);	/* a message without a body */
	if (err != NULL) {
		const struct snap_core *k = snap_core(msg_snap(m));

		log_msg(LOG_ERR, m, "spool: %s in %s", err, k->tmp_dir);
		msg_note_failure(m, "spool", k->on_error, err);
	}
	if (msg_hdr_limited(m)) {
		const struct snap_core *k = snap_core(msg_snap(m));

		msg_add_hit(m, "HEADER_LIMIT", 5.0, "more than %zu header "
		    "fields or %zu bytes of them; the rest not examined",
		    k->max_hdr_count, k->max_hdr_bytes);
	}
	msg_budget_eom(m);
	if (msg_is_truncated(m))
		msg_add_hit(m, "SCAN_TRUNCATED", 0.0, "scanned the first %zu "
		    "of %zu bytes, and every part's headers",
		    snap_core(msg_snap(m))->max_scan_size, msg_seen_size(m));
	pipeline_phase(m, PHASE_EOM);
	budget_outcome(m);
	msg_set_field(m, "budget", arena_printf(msg_arena(m),
	    "{\"cpu_ms\": %.3f, \"memory\": %zu}", msg_budget_cpu_ms(m),
	    msg_budget_memory(m)));
	return verdict_decide(m);
}

/* ---------------------------------------------------------------- offline */

/* Is line[0..n) a header field ("Name:" with a printable name)? */
static bool
is_header_line(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] != ':') {
		unsigned char c = (unsigned char)p[i];

		if (c <= 0x20 || c >= 0x7f)
			return false;
		i++;
	}
	return i > 0 && i < n;
}

static size_t line_len(const char *p, size_t n, size_t *eol_r);

/*
 * The header fields of a message read from a file ended at p without a
 * blank line: would SpamAssassin's parser (Message.pm) say the separator
 * is missing?  It reads on over up to three lines that are not fields
 * (ignored), and folds, until a blank line (no: those lines were part
 * of the header), a line starting "--", a fourth such line or the end.
 */
static bool
sa_no_separator(const char *p, const char *end)
{
	int errors = 0;
	size_t eol;

	while (p < end) {
		size_t l = line_len(p, (size_t)(end - p), &eol), i = 0;

		if (l == 0 || (l == 1 && p[0] == '\r'))
			return false;
		if (l >= 2 && p[0] == '-' && p[1] == '-')
			return true;
		if (p[0] != ' ' && p[0] != '\t') {
			/* /^[\041-\071\073-\176]+[ \t]*:/ */
			while (i < l && p[i] > 0x20 && p[i] < 0x7f &&
			    p[i] != ':')
				i++;
			while (i > 0 && i < l && (p[i] == ' ' || p[i] == '\t'))
				i++;
			if ((i == 0 || i >= l || p[i] != ':') && ++errors > 3)
				return true;
		}
		p += l + eol;
	}
	return true;
}

static size_t
line_len(const char *p, size_t n, size_t *eol_r)
{
	const char *nl = memchr(p, '\n', n);
	size_t len = nl ? (size_t)(nl - p) : n;

	*eol_r = nl ? 1 : 0;
	if (len > 0 && p[len - 1] == '\r') {
		len--;
		(*eol_r)++;
	}
	return len;
}

static void
body_chunk(struct msg *m, const unsigned char *buf, size_t n, bool run_checks)
{
	if (run_checks)
		pipeline_body(m, buf, n);
	else
		msg_store_body(m, buf, n);
}

/* Feeds the body with every bare LF (or lone CR) made CRLF, in chunks. */
static void
feed_body(struct msg *m, const char *p, size_t n, bool run_checks)
{
	unsigned char buf[65536];
	size_t o = 0, i = 0;

	while (i < n) {
		/* Copy the run up to the next line end in one go. */
		const char *nl = memchr(p + i, '\n', n - i);
		const char *cr = memchr(p + i, '\r', (nl ? (size_t)(nl - p) : n) - i);
		size_t end = cr ? (size_t)(cr - p) : nl ? (size_t)(nl - p) : n;
		size_t run = end - i;

		while (run > 0) {
			size_t k = run < sizeof(buf) - 2 - o ? run : sizeof(buf) - 2 - o;

			memcpy(buf + o, p + i, k);
			o += k;
			i += k;
			run -= k;
			if (o >= sizeof(buf) - 2) {
				body_chunk(m, buf, o, run_checks);
				o = 0;
			}
		}
		if (i >= n)
			break;
		buf[o++] = '\r';
		buf[o++] = '\n';
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			i++;
		i++;
		if (o >= sizeof(buf) - 2) {
			body_chunk(m, buf, o, run_checks);
			o = 0;
		}
	}
	if (o > 0)
		body_chunk(m, buf, o, run_checks);
}

/*
 * Feeds the header fields and the body, through the checks' hooks when
 * run_checks, else only stored (parse_buffer).
 */
static void
feed_message(struct msg *m, const char *p, const char *end, bool run_checks)
{
	struct arena *a = msg_arena(m);
	size_t eol;

	/* Header fields, with continuation lines folded in as received. */
	while (p < end) {
		size_t l = line_len(p, (size_t)(end - p), &eol);
		const char *colon, *vstart;
		char *name, *value;
		size_t vlen;

		if (l == 0) {
			p += eol;
			break;
		}
		if (!is_header_line(p, l)) {
			if (sa_no_separator(p, end))
				msg_set_no_separator(m);
			break;	/* not a header: the body starts here */
		}
		colon = memchr(p, ':', l);
		name = arena_strndup(a, p, (size_t)(colon - p));
		vstart = colon + 1;	/* the value as written, blanks and all */
		vlen = (size_t)(p + l - vstart);
		/* Measure the continuation lines first, then copy once: a
		 * copy a line made 20k short lines cost gigabytes. */
		{
			const char *q = p + l + eol;
			size_t total = vlen, o, eol0 = eol;

			while (eol != 0 && q < end && (*q == ' ' || *q == '\t')) {
				size_t cl = line_len(q, (size_t)(end - q), &eol);

				total += cl + 2;
				q += cl + eol;
			}
			value = arena_alloc(a, total + 1);
			memcpy(value, vstart, vlen);
			o = vlen;
			p += l + eol0;
			while (p < q) {
				size_t cl = line_len(p, (size_t)(q - p), &eol);

				memcpy(value + o, "\r\n", 2);
				memcpy(value + o + 2, p, cl);
				o += cl + 2;
				p += cl + eol;
			}
			value[o] = '\0';
		}
		if (run_checks)
			pipeline_header(m, name, value);
		else
			(void)msg_store_header(m, name, value);	/* limits: as above */
		if (eol == 0 || p >= end) {
			msg_set_no_separator(m);	/* fields to the end */
			break;
		}
	}
	if (run_checks)
		pipeline_eoh(m);
	else
		msg_store_eoh(m);
	if (p < end)
		feed_body(m, p, (size_t)(end - p), run_checks);
}

static const char *
addr_from_header(struct arena *a, const char *v)
{
	const char *lt, *gt;

	if (v == NULL)
		return "";
	if ((lt = strchr(v, '<')) != NULL && (gt = strchr(lt, '>')) != NULL)
		return arena_strndup(a, lt + 1, (size_t)(gt - lt - 1));
	while (*v == ' ' || *v == '\t')
		v++;
	return arena_strndup(a, v, strcspn(v, " \t\r\n"));
}

struct msg *
scan_buffer(struct snap *s, const struct scan_env *env,
    const unsigned char *data, size_t len, const char *session_id,
    const struct verdict **v_r)
{
	struct msg *m = msg_new(s, session_id);
	struct arena *a = msg_arena(m);
	const char *p = (const char *)data, *end = p + len;
	size_t eol;
	const char *mail_from;

	msg_set_client(m, env->client_addr, env->client_name);
	msg_set_helo(m, env->helo);
	if (env->auth_user)
		msg_set_auth_user(m, env->auth_user);
	for (size_t i = 0; i < env->nrcpts; i++)
		msg_add_rcpt(m, env->rcpts[i]);
	if (env->queue_id)
		msg_set_queue_id(m, env->queue_id);
	pipeline_phase(m, PHASE_CONNECT);

	/* An mbox "From " line is the envelope, not a header. */
	if (len >= 5 && memcmp(p, "From ", 5) == 0) {
		size_t l = line_len(p, (size_t)(end - p), &eol);

		p += l + eol;
	}
	/* Envelope sender: given, else Return-Path, else From. */
	mail_from = env->mail_from;
	if (mail_from == NULL) {
		const char *q = p;
		const char *rp = NULL, *from = NULL;

		while (q < end) {
			size_t l = line_len(q, (size_t)(end - q), &eol);

			if (l == 0)
				break;
			if (l > 12 && strncasecmp(q, "Return-Path:", 12) == 0 && !rp)
				rp = arena_strndup(a, q + 12, l - 12);
			else if (l > 5 && strncasecmp(q, "From:", 5) == 0 && !from)
				from = arena_strndup(a, q + 5, l - 5);
			q += l + eol;
			if (eol == 0)
				break;
		}
		msg_guess_mail_from(m, addr_from_header(a, rp ? rp : from));
	} else
		msg_set_mail_from(m, mail_from);
	pipeline_phase(m, PHASE_ENVFROM);

	feed_message(m, p, end, true);
	*v_r = pipeline_eom(m);
	return m;
}

struct msg *
parse_buffer(struct snap *s, const unsigned char *data, size_t len,
    const char *session_id)
{
	struct msg *m = msg_new(s, session_id);
	const char *p = (const char *)data, *end = p + len;
	size_t eol;

	if (len >= 5 && memcmp(p, "From ", 5) == 0) {
		size_t l = line_len(p, (size_t)(end - p), &eol);

		p += l + eol;
	}
	feed_message(m, p, end, false);
	msg_store_eoh(m);	/* a message without a body */
	return m;
}
