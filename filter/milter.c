/*
 * milter.c - libmilter callbacks.  Each one unpacks its arguments, hands
 * them to the pipeline and maps the verdict to SMFIS_* and smfi_* calls.
 * Per connection: struct conn (its own arena); per message: struct msg
 * from MAIL FROM to end of message or abort.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <glib.h>
#include <libmilter/mfapi.h>

#include "cfg.h"
#include "checks/auth/auth.h"
#include "daemon.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "milter.h"
#include "msg.h"
#include "msglog.h"
#include "pipeline.h"
#include "quarantine/quarantine.h"
#include "scanpool.h"
#include "snap.h"
#include "verdict.h"

struct forged {
	const char	*name;
	int		 index;		/* 1-based among headers of that name */
};

struct conn {
	struct arena	*arena;
	char		 sid[17];
	const char	*addr, *name, *helo;
	struct msg	*msg;
	/* Per message (in its arena): incoming headers that pretend to be
	 * ours, every one, and how many fields of each name that we may
	 * remove came so far (lower case name -> count). */
	struct forged	*forged;
	size_t		 nforged, forged_cap;
	GHashTable	*seen;
	unsigned long	 noreply;	/* SMFIP_NR_* the MTA agreed to */
	bool		 is_leadspc;	/* SMFIP_HDR_LEADSPC agreed */
};

static struct conn *
conn_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

static void
conn_msg_end(struct conn *c)
{
	if (c->msg != NULL)
		daemon_msg_ended();
	msg_end(&c->msg);	/* frees forged and seen */
	c->forged = NULL;
	c->nforged = c->forged_cap = 0;
	c->seen = NULL;
}

/* The client address as text; IPv4-mapped IPv6 given as IPv4. */
static const char *
addr_text(struct arena *a, const struct sockaddr *sa)
{
	char buf[INET6_ADDRSTRLEN];

	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf)) != NULL)
			return arena_strdup(a, buf);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			if (inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf,
			    sizeof(buf)) != NULL)
				return arena_strdup(a, buf);
		} else if (inet_ntop(AF_INET6, &in6->sin6_addr, buf,
		    sizeof(buf)) != NULL)
			return arena_strdup(a, buf);
	}
	return NULL;
}

/* The connection's state, created at negotiation (or connect). */
static struct conn *
conn_new(SMFICTX *ctx)
{
	struct arena *a = arena_new("conn");
	struct conn *c = arena_alloc(a, sizeof(*c));
	unsigned char rnd[8];

	c->arena = a;
	if (!util_random(rnd, sizeof(rnd)))
		memset(rnd, 0, sizeof(rnd));
	util_hex(c->sid, rnd, 4);
	smfi_setpriv(ctx, c);
	daemon_conn_opened();
	return c;
}

/*
 * Protocol 6: ask the MTA not to wait for replies where vigil never
 * refuses anything (connect, HELO, RCPT, headers, body), which saves a
 * round trip per header and per body chunk.  MAIL FROM keeps its reply
 * (SPF may reject there) and end of message of course.
 */
#define WANT_NOREPLY	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_RCPT | \
	SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_DATA | SMFIP_NR_UNKN)

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c = conn_get(ctx) ? conn_get(ctx) : conn_new(ctx);

	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
	*pf1 = (f1 & WANT_NOREPLY) | (f1 & (SMFIP_NODATA | SMFIP_NOUNKNOWN |
	    SMFIP_HDR_LEADSPC));
	*pf2 = 0;
	*pf3 = 0;
	c->noreply = *pf1;
	c->is_leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	return SMFIS_CONTINUE;
}

/* What a callback answers when it has nothing to say. */
static sfsistat
go_on(const struct conn *c, unsigned long nr_flag)
{
	return (c->noreply & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct conn *c = conn_get(ctx) ? conn_get(ctx) : conn_new(ctx);
	struct arena *a = c->arena;

	c->addr = addr_text(a, hostaddr);
	c->name = arena_strdup(a, hostname);
	log_sys(LOG_DEBUG, "s=%s q=- connect client=%s[%s]", c->sid,
	    c->name ? c->name : "unknown", c->addr ? c->addr : "unknown");
	if (c->addr != NULL) {
		/* DNS lists: the client's lookups start now, not at MAIL. */
		struct snap *s = daemon_snap();

		if (s != NULL)
			pipeline_connect(s, c->addr);
		snap_unref(&s);
	}
	return go_on(c, SMFIP_NR_CONN);
}

static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	c->helo = arena_strdup(c->arena, helo);
	return go_on(c, SMFIP_NR_HELO);
}

/* Sets the SMTP reply; '%' doubled, line ends and controls removed. */
static void
set_reply(SMFICTX *ctx, struct msg *m, const char *rcode, const char *xcode,
    const char *text)
{
	struct arena *a = msg_arena(m);
	size_t n = strlen(text ? text : "");
	char *t = arena_alloc(a, 2 * n + 1), *o = t;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == '%')
			*o++ = '%';
		*o++ = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	*o = '\0';
	if (smfi_setreply(ctx, (char *)rcode, (char *)xcode, t) != MI_SUCCESS)
		log_msg(LOG_WARNING, m, "smfi_setreply %s %s failed; MTA default reply used",
		    rcode, xcode);
}

static sfsistat
reply_status(enum verdict_action a)
{
	switch (a) {
	case ACTION_REJECT: return SMFIS_REJECT;
	case ACTION_TEMPFAIL: return SMFIS_TEMPFAIL;
	case ACTION_DISCARD: return SMFIS_DISCARD;
	default: return SMFIS_CONTINUE;
	}
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);
	struct snap *s;
	const char *auth, *rcode, *xcode, *text, *reason;
	int forced;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	conn_msg_end(c);
	/* Stopping: the messages begun finish, new ones come back later. */
	if (daemon_is_stopping()) {
		(void)smfi_setreply(ctx, "451", "4.3.2",
		    "Mail filter restarting, try again later");
		log_sys(LOG_INFO, "s=%s q=%s verdict=tempfail stage=mail "
		    "reason=stopping", c->sid, smfi_getsymval(ctx, "i") ?
		    smfi_getsymval(ctx, "i") : "-");
		return SMFIS_TEMPFAIL;
	}
	s = daemon_snap();
	c->msg = msg_new(s, c->sid);
	daemon_msg_started();
	snap_unref(&s);
	msg_set_live(c->msg, true);
	msg_set_client(c->msg, c->addr, c->name);
	msg_set_helo(c->msg, c->helo);
	auth = smfi_getsymval(ctx, "{auth_authen}");
	if (auth != NULL)
		msg_set_auth_user(c->msg, auth);
	msg_set_mail_from(c->msg, argv && argv[0] ? argv[0] : "");
	msg_set_queue_id(c->msg, smfi_getsymval(ctx, "i"));
	pipeline_phase(c->msg, PHASE_CONNECT);
	pipeline_phase(c->msg, PHASE_ENVFROM);
	/* A deciding check may refuse the sender right here. */
	forced = msg_forced_action(c->msg, &rcode, &xcode, &text, &reason);
	if (forced == ACTION_REJECT || forced == ACTION_TEMPFAIL) {
		set_reply(ctx, c->msg, rcode ? rcode : (forced == ACTION_REJECT ? "550" : "451"),
		    xcode ? xcode : (forced == ACTION_REJECT ? "5.7.1" : "4.7.1"),
		    text ? text : "Sender refused");
		log_msg(LOG_INFO, c->msg, "verdict=%s stage=mail from=<%s> reason=%s",
		    action_name((enum verdict_action)forced), msg_mail_from(c->msg),
		    reason ? reason : "policy");
		msglog_refused(c->msg, (enum verdict_action)forced, rcode,
		    xcode, text, reason ? reason : "policy");
		daemon_count_message((enum verdict_action)forced,
		    reason ? reason : "policy", msg_elapsed_ms(c->msg));
		conn_msg_end(c);
		return reply_status((enum verdict_action)forced);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	if (argv && argv[0])
		msg_add_rcpt(c->msg, argv[0]);
	return go_on(c, SMFIP_NR_RCPT);
}

/* Is this a name of the headers we add, so that we may remove it? */
static bool
is_our_name(const char *name)
{
	return util_has_prefix_ci(name, "X-Spam-") ||
	    util_has_prefix_ci(name, "X-Virus-") ||
	    strcasecmp(name, "X-Vigil-Scan") == 0 ||
	    strcasecmp(name, "X-Vigil-Release") == 0 ||
	    strcasecmp(name, "Authentication-Results") == 0;
}

/*
 * Is this incoming header one of ours, forged by the sender?  X-Spam-*
 * and X-Virus-* are always ours, and so is a release token (the policy
 * check has read it; delivered mail never carries one);
 * Authentication-Results only when it names our authserv-id, as RFC 8601
 * reads it (after comments, or quoted).
 */
static bool
is_forged(struct msg *m, const char *name, const char *value)
{
	if (strcasecmp(name, "Authentication-Results") != 0)
		return true;
	return authres_names_id(value, snap_core(msg_snap(m))->authserv_id);
}

static void
seen_free(void *p)
{
	g_hash_table_destroy(p);
}

/*
 * Notes an incoming header that pretends to be ours, for removal at end
 * of message: all of them, at constant cost each (chgheader counts
 * occurrences of the same name, any case, from 1).
 */
static void
note_forged(struct conn *c, const char *name, const char *value)
{
	struct arena *a = msg_arena(c->msg);
	char *key;
	int idx;

	if (!is_our_name(name))
		return;
	if (c->seen == NULL) {
		c->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		    NULL);
		arena_defer(a, seen_free, c->seen);
	}
	key = g_ascii_strdown(name, -1);
	idx = GPOINTER_TO_INT(g_hash_table_lookup(c->seen, key)) + 1;
	g_hash_table_replace(c->seen, key, GINT_TO_POINTER(idx));
	if (!is_forged(c->msg, name, value))
		return;
	c->forged = arena_grow(a, c->forged, c->nforged, &c->forged_cap,
	    sizeof(*c->forged));
	c->forged[c->nforged].name = arena_strdup(a, name);
	c->forged[c->nforged].index = idx;
	c->nforged++;
}

/*
 * SMFIP_HDR_LEADSPC: header values travel exactly as written after the
 * colon, both ways.  Without it the MTA drops the one space after the
 * colon (Postfix and Sendmail alike) and adds one to the headers we add;
 * put it back, unless the value opens with a tab ("Name:\tvalue").
 */
static const char *
header_in(const struct conn *c, const char *value)
{
	if (c->is_leadspc || value[0] == '\t')
		return value;
	return arena_printf(msg_arena(c->msg), " %s", value);
}

static char *
header_out(const struct conn *c, const char *value)
{
	if (!c->is_leadspc)
		return (char *)value;
	return arena_printf(msg_arena(c->msg), " %s", value);
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	value = (char *)header_in(c, value ? value : "");
	if (strcmp(msg_queue_id(c->msg), "-") == 0)
		msg_set_queue_id(c->msg, smfi_getsymval(ctx, "i"));
	note_forged(c, name, value);
	pipeline_header(c->msg, name, value);
	return go_on(c, SMFIP_NR_HDR);
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	if (strcmp(msg_queue_id(c->msg), "-") == 0)
		msg_set_queue_id(c->msg, smfi_getsymval(ctx, "i"));
	pipeline_eoh(c->msg);
	return go_on(c, SMFIP_NR_EOH);
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	pipeline_body(c->msg, chunk, len);
	return go_on(c, SMFIP_NR_BODY);
}

/* " shadow=A,B" for the log line when shadow rules hit, else "". */
static const char *
shadow_text(struct msg *m)
{
	GString *s;
	const char *out;

	if (msg_shadow_hit_count(m) == 0)
		return "";
	s = g_string_new(" shadow=");
	for (size_t i = 0; i < msg_shadow_hit_count(m); i++)
		g_string_append_printf(s, "%s%s", i ? "," : "",
		    msg_shadow_hit(m, i));
	out = arena_strdup(msg_arena(m), s->str);
	g_string_free(s, TRUE);
	return out;
}

/* Writes hits as NAME=score,... for the log line; each piece is sized
 * by formatting it, whatever the score. */
static const char *
hits_text(struct msg *m)
{
	struct arena *a = msg_arena(m);
	size_t n = msg_hit_count(m);
	GString *s;
	char *out;

	if (n == 0)
		return "-";
	s = g_string_new(NULL);
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%s%s=%.1f", i ? "," : "",
		    msg_hit(m, i)->name, msg_hit(m, i)->score);
	out = arena_strndup(a, s->str, s->len);
	g_string_free(s, TRUE);
	return out;
}

static void
log_verdict(struct msg *m, const struct verdict *v, enum verdict_action done,
    const char *extra)
{
	char from[256];
	const char *client = arena_printf(msg_arena(m), "%s[%s]",
	    msg_client_name(m) ? msg_client_name(m) : "unknown",
	    msg_client_addr(m) ? msg_client_addr(m) : "unknown");

	log_escape(from, sizeof(from), msg_mail_from(m), 200);
	log_msg(LOG_INFO, m, "verdict=%s score=%.1f/%.1f client=%s from=<%s> rcpts=%zu "
	    "size=%zu reason=%s hits=%s%s%s version=%s versions=%s ms=%.1f",
	    action_name(done), v->score, v->required, client, from,
	    msg_rcpt_count(m), msg_size(m), v->reason, hits_text(m),
	    shadow_text(m), extra ? extra : "", v->version,
	    verdict_versions_text(m, v),
	    msg_elapsed_ms(m));
	daemon_count_message(done, v->reason, msg_elapsed_ms(m));
	msglog_verdict(m, v, done, extra);
}

/* Adds headers and rewrites the subject of a message that is delivered. */
static int
apply_headers(SMFICTX *ctx, struct conn *c, const struct verdict *v)
{
	struct msg *m = c->msg;
	int rc = 0;

	/* Remove, from the last, the incoming copies of our headers. */
	for (size_t i = c->nforged; i-- > 0;)
		if (smfi_chgheader(ctx, (char *)c->forged[i].name, c->forged[i].index,
		    NULL) != MI_SUCCESS)
			rc = -1;
	for (size_t i = 0; i < msg_header_out_count(m); i++) {
		const char *n, *val;

		msg_header_out(m, i, &n, &val);
		/* Authentication-Results belongs at the top (RFC 8601). */
		if (strcasecmp(n, "Authentication-Results") == 0) {
			if (smfi_insheader(ctx, 0, (char *)n, header_out(c, val)) !=
			    MI_SUCCESS)
				rc = -1;
		} else if (smfi_addheader(ctx, (char *)n, header_out(c, val)) !=
		    MI_SUCCESS)
			rc = -1;
	}
	if (v->add_spam_headers) {
		char *score = arena_printf(msg_arena(m), "%.1f", v->score);

		if (v->is_spam && smfi_addheader(ctx, "X-Spam-Flag",
		    header_out(c, "YES")) != MI_SUCCESS)
			rc = -1;
		if (smfi_addheader(ctx, "X-Spam-Score", header_out(c, score)) !=
		    MI_SUCCESS || smfi_addheader(ctx, "X-Spam-Status",
		    header_out(c, v->status)) != MI_SUCCESS)
			rc = -1;
	}
	if (v->new_subject != NULL) {
		char *subj = header_out(c, v->new_subject);
		int r = msg_hdr_raw(m, "Subject") != NULL ?
		    smfi_chgheader(ctx, "Subject", 1, subj) :
		    smfi_addheader(ctx, "Subject", subj);

		if (r != MI_SUCCESS)
			rc = -1;
	}
	return rc;
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	struct msg *m;
	const struct verdict *v;
	enum verdict_action done;
	sfsistat st;
	const char *extra = NULL;
	uint64_t t_reply, store_us = 0;

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	m = c->msg;
	if (strcmp(msg_queue_id(m), "-") == 0)
		msg_set_queue_id(m, smfi_getsymval(ctx, "i"));
	v = scanpool_eom(m);
	t_reply = util_now_us();
	done = v->action;
	if (done == ACTION_QUARANTINE) {
		const struct cfg *cfg = snap_cfg(msg_snap(m));
		const char *id = NULL, *err = NULL;

		if (strcasecmp(cfg_enum_str(cfg, "QuarantineMode"), "hold") == 0) {
			if (smfi_quarantine(ctx, (char *)v->reason) != MI_SUCCESS) {
				log_msg(LOG_ERR, m, "smfi_quarantine failed; tempfail");
				done = ACTION_TEMPFAIL;
			} else
				extra = " quarantine=hold";
		} else {
			uint64_t t0 = util_now_us();
			bool stored = quarantine_put(m, v, &id, &err);

			store_us = util_now_us() - t0;
			scanpool_stage(EOM_STORE, store_us);
			if (stored) {
				extra = arena_printf(msg_arena(m),
				    " quarantine=%s", id);
				done = ACTION_DISCARD;
			} else {
				log_msg(LOG_ERR, m, "quarantine: %s; tempfail",
				    err ? err : "failed");
				done = ACTION_TEMPFAIL;
			}
		}
		if (done == ACTION_TEMPFAIL)
			set_reply(ctx, m, "451", "4.3.0", "Message could not be stored, try again later");
	}
	switch (done) {
	case ACTION_REJECT:
	case ACTION_TEMPFAIL:
		if (done == v->action)
			set_reply(ctx, m, v->rcode, v->xcode, v->text);
		st = reply_status(done);
		break;
	case ACTION_DISCARD:
		st = SMFIS_DISCARD;
		break;
	default:
		if (apply_headers(ctx, c, v) < 0) {
			log_msg(LOG_ERR, m, "could not change headers; tempfail");
			set_reply(ctx, m, "451", "4.3.0", "Message could not be filtered, try again later");
			/* Noted as a failure, so that a release token this
			 * copy used is given back for the MTA's retry. */
			msg_note_failure(m, "milter", ACTION_TEMPFAIL,
			    "could not change headers");
			done = ACTION_TEMPFAIL;
			st = SMFIS_TEMPFAIL;
		} else
			st = SMFIS_ACCEPT;
		break;
	}
	log_verdict(m, v, done == ACTION_DISCARD && v->action == ACTION_QUARANTINE ?
	    ACTION_QUARANTINE : done, extra);
	conn_msg_end(c);
	/* The replies and the log: what the store took is its own stage. */
	scanpool_stage(EOM_REPLY, util_now_us() - t_reply - store_us);
	return st;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL)
		conn_msg_end(c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	struct arena *a;

	if (c == NULL)
		return SMFIS_CONTINUE;
	conn_msg_end(c);
	smfi_setpriv(ctx, NULL);
	a = c->arena;
	arena_free(&a);
	daemon_conn_closed();
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "vigil",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};

int
milter_open(const char *spec, const char **err_r)
{
	if (smfi_register(desc) != MI_SUCCESS) {
		*err_r = "smfi_register failed";
		return -1;
	}
	if (smfi_setconn((char *)spec) != MI_SUCCESS) {
		*err_r = "smfi_setconn: bad socket specification";
		return -1;
	}
	if (smfi_opensocket(true) != MI_SUCCESS) {
		*err_r = "smfi_opensocket: cannot open the socket";
		return -1;
	}
	return 0;
}

int
milter_run(void)
{
	return smfi_main() == MI_SUCCESS ? 0 : -1;
}
