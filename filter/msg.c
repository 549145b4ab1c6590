/*
 * msg.c - one message and everything it owns: envelope, spooled bytes,
 * the lazily built flat view, findings and outputs.  Everything lives in
 * the message's arena except the spool, which the arena's defer frees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "lib/log.h"
#include "lib/util.h"
#include "mime.h"
#include "msg.h"
#include "snap.h"
#include "spool.h"

#define MAX_SLOTS	32

/* A growable array of T in the arena (lib/arena.h arena_grow()). */
#define VEC(T)	struct { T *v; size_t n, cap; }
#define VEC_PUSH(a, vec, item) do {					\
	(vec).v = arena_grow((a), (vec).v, (vec).n, &(vec).cap,		\
	    sizeof(*(vec).v));						\
	(vec).v[(vec).n++] = (item);					\
} while (0)

struct kv {
	const char	*k, *v;
};

struct msg {
	struct arena	*arena;
	struct snap	*snap;
	const char	*sid;
	uint64_t	 t0;
	/* Envelope. */
	const char	*client_addr, *client_name, *helo, *mail_from;
	const char	*qid, *auth_user;
	bool		 mail_from_guessed;	/* from the headers, offline */
	VEC(const char *) rcpts;
	/* Content. */
	VEC(struct mhdr) hdrs;
	size_t		 hdr_bytes;	/* of the fields in hdrs */
	bool		 hdr_limited;	/* some went past the limits */
	bool		 no_separator;	/* msg_set_no_separator() */
	struct spool	*spool;
	size_t		 body_off;	/* where the body starts in the spool */
	bool		 eoh;
	bool		 oversize;
	size_t		 seen;		/* bytes offered, past the cut too */
	/* Past the cut (OversizeAction scan): MIME part header blocks. */
	struct {
		char	 line[1000];	/* the line being assembled */
		size_t	 len;
		bool	 is_long;	/* longer than line[]: not a header */
		char	 dash[200];	/* a "--..." line, maybe a boundary */
		size_t	 dash_len;
		bool	 in_block;
		VEC(char) out;		/* blocks to append at the end */
		bool	 is_done;	/* appended */
	} cut;
	const char	*spool_err;
	struct mview	*view;
	/* Findings and outputs. */
	VEC(struct hit)	 hits;
	double		 score;
	enum score_set	 score_set;
	bool		 bayes_votes;
	bool		 net_votes;
	int		 forced;	/* enum verdict_action or -1 */
	const char	*f_rcode, *f_xcode, *f_text, *f_reason;
	const char	*pass;		/* msg_set_pass(), or NULL */
	size_t		 nfailures;
	VEC(const char *) failed;	/* the checks that failed, in order */
	VEC(struct kv)	 hout;
	VEC(struct kv)	 fields;
	void		*slots[MAX_SLOTS];
	const char	*versions[SNAP_V_N];	/* NULL: the snapshot's */
	VEC(const char *) shadow;		/* shadow rules that hit */
	bool		 live;
	/* The budget (MessageTimeLimit, MessageMemoryLimit). */
	struct {
		uint64_t	 cpu_us;	/* spent in closed segments */
		uint64_t	 mark_us;	/* thread CPU at msg_budget_enter */
		uint64_t	 mark_wall_us;	/* wall clock at the same time */
		uint64_t	 eom_us;	/* wall clock at end of message */
		size_t		 charged;	/* bytes held outside the arena */
		unsigned	 polls;
		int		 depth;		/* nested enters */
		bool		 is_spent;	/* sticky */
		bool		 is_cut;	/* a poll said stop */
		const char	*why;
		VEC(const char *) incomplete;	/* checks cut or not run */
	} b;
};

/* The message whose check runs on this thread (msg_budget_enter). */
static _Thread_local struct msg *budget_cur;

static void
spool_defer(void *p)
{
	struct spool *s = p;

	spool_free(&s);
}

struct msg *
msg_new(struct snap *s, const char *session_id)
{
	struct arena *a = arena_new("msg");
	struct msg *m = arena_alloc(a, sizeof(*m));
	const struct snap_core *k = snap_core(s);

	m->arena = a;
	m->snap = snap_ref(s);
	m->sid = arena_strdup(a, session_id ? session_id : "-");
	m->t0 = util_now_us();
	m->qid = "-";
	m->mail_from = "";
	m->forced = -1;
	m->score_set = SCORE_SET_BAYES;
	m->spool = spool_new(k->spool_mem_max, k->tmp_dir);
	arena_defer(a, spool_defer, m->spool);
	return m;
}

void
msg_end(struct msg **mp)
{
	struct msg *m;
	struct snap *s;
	struct arena *a;

	if (mp == NULL || (m = *mp) == NULL)
		return;
	*mp = NULL;
	s = m->snap;
	a = m->arena;
	/* The arena's defers may still need the snapshot's check states. */
	arena_free(&a);
	snap_unref(&s);
}

struct arena *
msg_arena(struct msg *m)
{
	return m->arena;
}

struct snap *
msg_snap(const struct msg *m)
{
	return m->snap;
}

const char *
msg_session_id(const struct msg *m)
{
	return m->sid;
}

/* ---------------------------------------------------------------- envelope */

void
msg_set_client(struct msg *m, const char *addr, const char *name)
{
	m->client_addr = arena_strdup(m->arena, addr);
	m->client_name = arena_strdup(m->arena, name);
}

void
msg_set_helo(struct msg *m, const char *helo)
{
	m->helo = arena_strdup(m->arena, helo);
}

static const char *
strip_brackets(struct arena *a, const char *s)
{
	size_t n;

	if (s == NULL)
		return "";
	while (*s == ' ')
		s++;
	n = strlen(s);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		return arena_strndup(a, s + 1, n - 2);
	return arena_strdup(a, s);
}

void
msg_set_mail_from(struct msg *m, const char *addr)
{
	m->mail_from = strip_brackets(m->arena, addr);
	m->mail_from_guessed = false;
}

void
msg_guess_mail_from(struct msg *m, const char *addr)
{
	m->mail_from = strip_brackets(m->arena, addr);
	m->mail_from_guessed = true;
}

void
msg_add_rcpt(struct msg *m, const char *addr)
{
	VEC_PUSH(m->arena, m->rcpts, strip_brackets(m->arena, addr));
}

void
msg_set_queue_id(struct msg *m, const char *qid)
{
	if (qid != NULL && *qid != '\0')
		m->qid = arena_strdup(m->arena, qid);
}

void
msg_set_auth_user(struct msg *m, const char *user)
{
	m->auth_user = (user && *user) ? arena_strdup(m->arena, user) : NULL;
}

const char *msg_client_addr(const struct msg *m) { return m->client_addr; }
const char *msg_client_name(const struct msg *m) { return m->client_name; }
const char *msg_helo(const struct msg *m) { return m->helo; }
const char *msg_mail_from(const struct msg *m) { return m->mail_from; }
bool msg_mail_from_guessed(const struct msg *m) { return m->mail_from_guessed; }
size_t msg_rcpt_count(const struct msg *m) { return m->rcpts.n; }
const char *msg_queue_id(const struct msg *m) { return m->qid; }
const char *msg_auth_user(const struct msg *m) { return m->auth_user; }

const char *
msg_rcpt(const struct msg *m, size_t i)
{
	return i < m->rcpts.n ? m->rcpts.v[i] : NULL;
}

bool
msg_is_trusted(const struct msg *m)
{
	return m->auth_user != NULL ||
	    (m->client_addr != NULL && snap_is_trusted_ip(m->snap, m->client_addr));
}

/* ---------------------------------------------------------------- content */

/* Part header blocks past the cut are kept up to this many bytes. */
#define CUT_HEADERS_MAX	(256 * 1024)

static void
cut_keep(struct msg *m, const char *p, size_t n)
{
	for (size_t i = 0; i < n && m->cut.out.n < CUT_HEADERS_MAX; i++)
		VEC_PUSH(m->arena, m->cut.out, p[i]);
}

/* Is line[0..n) a header field ("Name:" with a printable name)? */
static bool
cut_is_field(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] != ':' && p[i] > 0x20 && p[i] < 0x7f)
		i++;
	return i > 0 && i < n && p[i] == ':';
}

/*
 * One body line past the cut (no line end): a line that starts with
 * "--" followed by header fields opens a part's header block, which is
 * kept up to its blank line, so that the view lists every part with its
 * name and type, as its headers say.
 */
static void
cut_line(struct msg *m, const char *l, size_t n, bool is_long)
{
	if (m->cut.in_block) {
		if (!is_long && n > 0 && (l[0] == ' ' || l[0] == '\t' ||
		    cut_is_field(l, n))) {
			cut_keep(m, l, n);
			cut_keep(m, "\r\n", 2);
			return;
		}
		cut_keep(m, "\r\n", 2);
		m->cut.in_block = false;
		if (n == 0)
			return;
	}
	if (m->cut.dash_len > 0 && !is_long && cut_is_field(l, n)) {
		cut_keep(m, m->cut.dash, m->cut.dash_len);
		cut_keep(m, "\r\n", 2);
		cut_keep(m, l, n);
		cut_keep(m, "\r\n", 2);
		m->cut.in_block = true;
		m->cut.dash_len = 0;
		return;
	}
	m->cut.dash_len = 0;
	if (!is_long && n > 2 && n <= sizeof(m->cut.dash) && l[0] == '-' &&
	    l[1] == '-') {
		memcpy(m->cut.dash, l, n);
		m->cut.dash_len = n;
	}
}

/* Body bytes past the cut: assembled into lines for cut_line(). */
static void
cut_scan(struct msg *m, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = (char)p[i];

		if (c == '\n') {
			size_t len = m->cut.len;

			if (len > 0 && m->cut.line[len - 1] == '\r')
				len--;
			cut_line(m, m->cut.line, len, m->cut.is_long);
			m->cut.len = 0;
			m->cut.is_long = false;
		} else if (m->cut.len < sizeof(m->cut.line))
			m->cut.line[m->cut.len++] = c;
		else
			m->cut.is_long = true;
	}
}

static void
spool_put(struct msg *m, const void *p, size_t n)
{
	const struct snap_core *k = snap_core(m->snap);
	size_t room;

	m->seen += n;
	if (m->spool_err != NULL)
		return;
	if (m->oversize) {
		if (k->oversize_scan && m->eoh)
			cut_scan(m, p, n);
		return;
	}
	room = k->max_scan_size - spool_size(m->spool);
	if (n > room) {
		/*
		 * Past the scan limit: with OversizeAction scan the first
		 * MaxScanSize bytes stay (the body truncated as SpamAssassin
		 * does) and the rest is read for part headers; else the
		 * message passes unscanned (or is tempfailed).
		 */
		m->oversize = true;
		if (!k->oversize_scan)
			return;
		if (spool_append(m->spool, p, room, &m->spool_err) < 0)
			log_msg(LOG_ERR, m, "spool: %s in %s: %m",
			    m->spool_err, k->tmp_dir);
		if (m->eoh)
			cut_scan(m, (const unsigned char *)p + room, n - room);
		return;
	}
	if (spool_append(m->spool, p, n, &m->spool_err) < 0)
		log_msg(LOG_ERR, m, "spool: %s in %s: %m", m->spool_err, k->tmp_dir);
}

/*
 * The body is complete: a truncated message gets the part header blocks
 * found past the cut, each after a line end, as empty parts; MIME
 * parsing then lists every part.  Once; they count toward the budget
 * like the rest of the spool, not toward MaxScanSize.
 */
static void
cut_finish(struct msg *m)
{
	if (!m->oversize || m->cut.is_done || !snap_core(m->snap)->oversize_scan)
		return;
	m->cut.is_done = true;
	if (m->cut.len > 0)
		cut_line(m, m->cut.line, m->cut.len, m->cut.is_long);
	if (m->cut.in_block)
		cut_keep(m, "\r\n", 2);
	if (m->spool_err == NULL && spool_append(m->spool, "\r\n", 2,
	    &m->spool_err) == 0 && m->cut.out.n > 0)
		(void)spool_append(m->spool, m->cut.out.v, m->cut.out.n,
		    &m->spool_err);	/* a failure is in spool_err */
}

bool
msg_is_truncated(const struct msg *m)
{
	return m->oversize && snap_core(m->snap)->oversize_scan;
}

size_t
msg_seen_size(const struct msg *m)
{
	return m->seen;
}

/*
 * Appends the NUL-terminated s with every line end (LF, CR, CRLF)
 * written as CRLF.
 */
static void
spool_put_crlf(struct msg *m, const char *s)
{
	for (;;) {
		size_t run = strcspn(s, "\r\n");

		spool_put(m, s, run);
		s += run;
		if (*s == '\0')
			return;
		spool_put(m, "\r\n", 2);
		s += (s[0] == '\r' && s[1] == '\n') ? 2 : 1;
	}
}

bool
msg_store_header(struct msg *m, const char *name, const char *value)
{
	const struct snap_core *k = snap_core(m->snap);
	struct mhdr h = { 0 };
	size_t nl = strlen(name), vl;
	char line[512];

	if (value == NULL)
		value = "";
	vl = strlen(value);
	/*
	 * Past the limits a field is kept (the message stays whole) but not
	 * listed, so that no check spends time on it; From fields all the
	 * same, as DMARC must see every author (RFC 7489 6.6.1).
	 */
	if (!m->hdr_limited && (m->hdrs.n >= k->max_hdr_count ||
	    nl + vl + 3 > k->max_hdr_bytes - m->hdr_bytes))
		m->hdr_limited = true;
	if (!m->hdr_limited || strcasecmp(name, "From") == 0) {
		if (!m->hdr_limited)
			m->hdr_bytes += nl + vl + 3;
		h.name = arena_strndup(m->arena, name, nl);
		/* value is exactly what follows the colon; raw drops the one
		 * space there, as the milter protocol does without
		 * SMFIP_HDR_LEADSPC. */
		h.raw = value[0] == ' ' ?
		    arena_strndup(m->arena, value + 1, vl - 1) :
		    arena_strndup(m->arena, value, vl);
		VEC_PUSH(m->arena, m->hdrs, h);
	}
	/* A short unfolded field goes to the spool in one piece. */
	if (nl + vl + 3 <= sizeof(line) && strpbrk(value, "\r\n") == NULL) {
		memcpy(line, name, nl);
		line[nl] = ':';
		memcpy(line + nl + 1, value, vl);
		line[nl + 1 + vl] = '\r';
		line[nl + 2 + vl] = '\n';
		spool_put(m, line, nl + vl + 3);
	} else {
		spool_put(m, name, nl);
		spool_put(m, ":", 1);
		spool_put_crlf(m, value);
		spool_put(m, "\r\n", 2);
	}
	return !m->hdr_limited;
}

bool
msg_hdr_limited(const struct msg *m)
{
	return m->hdr_limited;
}

void
msg_set_no_separator(struct msg *m)
{
	m->no_separator = true;
}

bool
msg_no_separator(const struct msg *m)
{
	return m->no_separator;
}

void
msg_store_eoh(struct msg *m)
{
	if (m->eoh)
		return;
	m->eoh = true;
	spool_put(m, "\r\n", 2);
	m->body_off = spool_size(m->spool);
}

void
msg_store_body(struct msg *m, const unsigned char *p, size_t n)
{
	if (!m->eoh)
		msg_store_eoh(m);
	spool_put(m, p, n);
}

size_t
msg_hdr_count(const struct msg *m)
{
	return m->hdrs.n;
}

const struct mhdr *
msg_hdr(const struct msg *m, size_t i)
{
	return i < m->hdrs.n ? &m->hdrs.v[i] : NULL;
}

const char *
msg_hdr_raw(const struct msg *m, const char *name)
{
	for (size_t i = 0; i < m->hdrs.n; i++)
		if (strcasecmp(m->hdrs.v[i].name, name) == 0)
			return m->hdrs.v[i].raw;
	return NULL;
}

struct mhdr *
msg_hdrs_mutable(struct msg *m, size_t *n_r)
{
	*n_r = m->hdrs.n;
	return m->hdrs.v;
}

const unsigned char *
msg_raw(struct msg *m, size_t *len_r)
{
	const char *err = NULL;
	const unsigned char *p;

	cut_finish(m);
	p = spool_data(m->spool, &err);

	if (p == NULL) {
		log_msg(LOG_ERR, m, "spool: %s: %m", err);
		*len_r = 0;
		return (const unsigned char *)"";
	}
	*len_r = spool_size(m->spool);
	return p;
}

const unsigned char *
msg_body(struct msg *m, size_t *len_r)
{
	size_t len;
	const unsigned char *p = msg_raw(m, &len);

	if (len < m->body_off) {
		*len_r = 0;
		return p + len;
	}
	*len_r = len - m->body_off;
	return p + m->body_off;
}

size_t
msg_size(const struct msg *m)
{
	return spool_size(m->spool);
}

bool
msg_is_spilled(const struct msg *m)
{
	return m->spool != NULL && spool_is_spilled(m->spool);
}

bool
msg_is_oversize(const struct msg *m)
{
	return m->oversize;
}

const char *
msg_spool_error(const struct msg *m)
{
	return m->spool_err;
}

const struct mview *
msg_view(struct msg *m)
{
	if (m->view == NULL) {
		size_t len;
		const unsigned char *raw = msg_raw(m, &len);

		m->view = mime_build_view(m, raw, len);
	}
	return m->view;
}

/* ---------------------------------------------------------------- findings */

void
msg_add_hit_scored(struct msg *m, const char *name, double score,
    const char *detail)
{
	struct hit h;

	h.name = arena_strdup(m->arena, name);
	h.score = score;
	h.detail = detail ? arena_strdup(m->arena, detail) : "";
	h.sets = NULL;
	VEC_PUSH(m->arena, m->hits, h);
	m->score += score;
}

/* A hit scored from the table: it follows the message's score set. */
static void
msg_add_hit_tabled(struct msg *m, const char *name, double def,
    const char *detail)
{
	const double *sets = snap_score_sets(m->snap, name);

	msg_add_hit_scored(m, name, sets != NULL ? sets[m->score_set] : def,
	    detail);
	m->hits.v[m->hits.n - 1].sets = sets;
}

void
msg_add_hit(struct msg *m, const char *name, double def, const char *fmt, ...)
{
	va_list ap;
	char *detail = NULL;

	if (fmt != NULL) {
		va_start(ap, fmt);
		detail = arena_vprintf(m->arena, fmt, ap);
		va_end(ap);
	}
	msg_add_hit_tabled(m, name, def, detail);
}

size_t msg_hit_count(const struct msg *m) { return m->hits.n; }
double msg_score(const struct msg *m) { return m->score; }
enum score_set msg_score_set(const struct msg *m) { return m->score_set; }
void msg_set_bayes_votes(struct msg *m, bool v) { m->bayes_votes = v; }
bool msg_bayes_votes(const struct msg *m) { return m->bayes_votes; }
void msg_set_net_votes(struct msg *m, bool v) { m->net_votes = v; }
bool msg_net_votes(const struct msg *m) { return m->net_votes; }

double
msg_score_in_set(const struct msg *m, enum score_set set)
{
	double	 sum = 0.0;

	for (size_t i = 0; i < m->hits.n; i++) {
		const struct hit *h = &m->hits.v[i];

		sum += h->sets != NULL ? h->sets[set] : h->score;
	}
	return sum;
}

void
msg_use_score_set(struct msg *m, enum score_set set)
{
	m->score_set = set;
	m->score = 0.0;
	for (size_t i = 0; i < m->hits.n; i++) {
		struct hit *h = &m->hits.v[i];

		if (h->sets != NULL)
			h->score = h->sets[set];
		m->score += h->score;
	}
}

const struct hit *
msg_hit(const struct msg *m, size_t i)
{
	return i < m->hits.n ? &m->hits.v[i] : NULL;
}

bool
msg_has_hit(const struct msg *m, const char *name)
{
	for (size_t i = 0; i < m->hits.n; i++)
		if (strcmp(m->hits.v[i].name, name) == 0)
			return true;
	return false;
}

/* How strict an action is, for "the strictest wins". */
static int
severity(int a)
{
	switch (a) {
	case ACTION_ACCEPT: return 0;
	case ACTION_TAG: return 1;
	case ACTION_QUARANTINE: return 2;
	case ACTION_DISCARD: return 3;
	case ACTION_REJECT: return 4;
	case ACTION_TEMPFAIL: return 5;
	}
	return -1;
}

int
action_severity(enum verdict_action a)
{
	return severity((int)a);
}

void
msg_force_action(struct msg *m, enum verdict_action a, const char *rcode,
    const char *xcode, const char *text, const char *reason)
{
	if (m->forced >= 0 && severity(m->forced) >= severity((int)a))
		return;
	m->forced = (int)a;
	m->f_rcode = arena_strdup(m->arena, rcode);
	m->f_xcode = arena_strdup(m->arena, xcode);
	m->f_text = arena_strdup(m->arena, text);
	m->f_reason = arena_strdup(m->arena, reason);
}

void
msg_set_pass(struct msg *m, const char *why)
{
	m->pass = arena_strdup(m->arena, why != NULL ? why : "pass");
}

const char *
msg_pass(const struct msg *m)
{
	return m->pass;
}

int
msg_forced_action(const struct msg *m, const char **rcode_r,
    const char **xcode_r, const char **text_r, const char **reason_r)
{
	if (rcode_r) *rcode_r = m->f_rcode;
	if (xcode_r) *xcode_r = m->f_xcode;
	if (text_r) *text_r = m->f_text;
	if (reason_r) *reason_r = m->f_reason;
	return m->forced;
}

void
msg_note_failure(struct msg *m, const char *check, enum verdict_action policy,
    const char *why)
{
	m->nfailures++;
	VEC_PUSH(m->arena, m->failed, arena_strdup(m->arena, check));
	if (policy == ACTION_TEMPFAIL)
		msg_force_action(m, ACTION_TEMPFAIL, "451", "4.7.1",
		    arena_printf(m->arena, "%s check failed, try again later", check),
		    "error");
	(void)why;	/* logged by the pipeline */
}

size_t
msg_failure_count(const struct msg *m)
{
	return m->nfailures;
}

const char *
msg_failure_check(const struct msg *m, size_t i)
{
	return i < m->failed.n ? m->failed.v[i] : NULL;
}

void
msg_add_header_out(struct msg *m, const char *name, const char *value)
{
	struct kv kv = { arena_strdup(m->arena, name), arena_strdup(m->arena, value) };

	VEC_PUSH(m->arena, m->hout, kv);
}

size_t msg_header_out_count(const struct msg *m) { return m->hout.n; }

void
msg_header_out(const struct msg *m, size_t i, const char **name_r,
    const char **value_r)
{
	*name_r = m->hout.v[i].k;
	*value_r = m->hout.v[i].v;
}

void
msg_set_field(struct msg *m, const char *key, const char *json)
{
	for (size_t i = 0; i < m->fields.n; i++)
		if (strcmp(m->fields.v[i].k, key) == 0) {
			m->fields.v[i].v = arena_strdup(m->arena, json);
			return;
		}
	struct kv kv = { arena_strdup(m->arena, key), arena_strdup(m->arena, json) };
	VEC_PUSH(m->arena, m->fields, kv);
}

size_t msg_field_count(const struct msg *m) { return m->fields.n; }

void
msg_add_shadow_hit(struct msg *m, const char *name)
{
	const char *n = arena_strdup(m->arena, name);

	VEC_PUSH(m->arena, m->shadow, n);
}

size_t msg_shadow_hit_count(const struct msg *m) { return m->shadow.n; }

const char *
msg_shadow_hit(const struct msg *m, size_t i)
{
	return m->shadow.v[i];
}

void
msg_set_version(struct msg *m, enum snap_version k, const char *value)
{
	m->versions[k] = arena_strdup(m->arena, value);
}

const char *
msg_version(const struct msg *m, enum snap_version k)
{
	return m->versions[k] != NULL ? m->versions[k] :
	    snap_version(m->snap, k);
}

void
msg_field(const struct msg *m, size_t i, const char **key_r, const char **json_r)
{
	*key_r = m->fields.v[i].k;
	*json_r = m->fields.v[i].v;
}

void **
msg_slot(struct msg *m, const struct check *c)
{
	for (size_t i = 0; checks[i] != NULL && i < MAX_SLOTS; i++)
		if (checks[i] == c)
			return &m->slots[i];
	BUG("msg_slot: check %s is not registered", c->name);
}

void msg_set_live(struct msg *m, bool live) { m->live = live; }
bool msg_is_live(const struct msg *m) { return m->live; }

double
msg_elapsed_ms(const struct msg *m)
{
	return (double)(util_now_us() - m->t0) / 1000.0;
}

/* ---------------------------------------------------------------- budget */

static uint64_t
thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
msg_budget_enter(struct msg *m)
{
	if (m->b.depth++ > 0)
		return;
	m->b.mark_us = thread_cpu_us();
	m->b.mark_wall_us = util_now_us();
	budget_cur = m;
}

void
msg_budget_leave(struct msg *m)
{
	if (m->b.depth == 0 || --m->b.depth > 0)
		return;
	m->b.cpu_us += thread_cpu_us() - m->b.mark_us;
	if (budget_cur == m)
		budget_cur = NULL;
}

void
msg_budget_eom(struct msg *m)
{
	if (m->b.eom_us == 0)
		m->b.eom_us = util_now_us();
}

size_t
msg_budget_memory(const struct msg *m)
{
	size_t n = arena_used(m->arena) + m->b.charged;

	if (m->spool != NULL && !spool_is_spilled(m->spool))
		n += spool_size(m->spool);
	return n;
}

double
msg_budget_cpu_ms(const struct msg *m)
{
	uint64_t us = m->b.cpu_us;

	if (m->b.depth > 0 && budget_cur == m)
		us += thread_cpu_us() - m->b.mark_us;
	return (double)us / 1000.0;
}

bool
msg_budget_over(struct msg *m)
{
	const struct snap_core *k = snap_core(m->snap);
	uint64_t cpu;
	size_t mem;

	if (m->b.is_spent)
		return true;
	mem = msg_budget_memory(m);
	cpu = m->b.cpu_us;
	if (m->b.depth > 0 && budget_cur == m) {
		/* The thread's CPU time since the mark is at most the wall
		 * time since it (with room for clock slewing and rounding):
		 * the thread clock, a system call on many virtual machines,
		 * is read only when that bound could pass the limit. */
		uint64_t wall = util_now_us() - m->b.mark_wall_us;

		if (cpu + wall + wall / 256 + 1000 > k->time_limit_us)
			cpu += thread_cpu_us() - m->b.mark_us;
	}
	if (mem > k->mem_limit)
		m->b.why = arena_printf(m->arena, "memory %zu bytes > "
		    "MessageMemoryLimit %zu", mem, k->mem_limit);
	else if (cpu > k->time_limit_us)
		m->b.why = arena_printf(m->arena, "CPU time %.3fs > "
		    "MessageTimeLimit %.3fs", (double)cpu / 1e6,
		    (double)k->time_limit_us / 1e6);
	else if (m->b.eom_us != 0 &&
	    util_now_us() - m->b.eom_us > 3 * k->time_limit_us)
		m->b.why = arena_printf(m->arena, "wall-clock time %.3fs > "
		    "3 x MessageTimeLimit", (double)(util_now_us() -
		    m->b.eom_us) / 1e6);
	else
		return false;
	m->b.is_spent = true;
	return true;
}

bool
msg_budget_spent(void)
{
	struct msg *m = budget_cur;

	if (m == NULL)
		return false;
	/* Memory is a sum; the clocks are read every 8th poll. */
	if (!m->b.is_spent && (m->b.polls++ & 7) != 0 &&
	    msg_budget_memory(m) <= snap_core(m->snap)->mem_limit)
		return false;
	if (!msg_budget_over(m))
		return false;
	m->b.is_cut = true;
	return true;
}

void
msg_budget_charge(ssize_t n)
{
	struct msg *m = budget_cur;

	if (m == NULL)
		return;
	if (n < 0 && (size_t)-n > m->b.charged)
		m->b.charged = 0;
	else
		m->b.charged += (size_t)n;
}

bool
msg_budget_take_cut(struct msg *m)
{
	bool was = m->b.is_cut;

	m->b.is_cut = false;
	return was;
}

const char *
msg_budget_why(const struct msg *m)
{
	return m->b.is_spent ? m->b.why : NULL;
}

void
msg_budget_note_incomplete(struct msg *m, const char *check)
{
	for (size_t i = 0; i < m->b.incomplete.n; i++)
		if (strcmp(m->b.incomplete.v[i], check) == 0)
			return;
	VEC_PUSH(m->arena, m->b.incomplete, arena_strdup(m->arena, check));
}

size_t
msg_budget_incomplete_count(const struct msg *m)
{
	return m->b.incomplete.n;
}

const char *
msg_budget_incomplete(const struct msg *m, size_t i)
{
	return i < m->b.incomplete.n ? m->b.incomplete.v[i] : NULL;
}

void
log_msg(int level, const struct msg *m, const char *fmt, ...)
{
	char line[8192];
	va_list ap;

	if (level > log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_sys(level, "s=%s q=%s %s", m->sid, m->qid, line);
}
