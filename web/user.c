/*
 * user.c - the pages a digest link opens (see vigil-web.c): the
 * recipient's list (/u), one message as text (/m), and its actions
 * (POST /m/release, /m/allow, /m/delete).  Every request carries a link
 * signed for its recipient (weblink.h); a user only ever sees and acts
 * on entries that recipient received, and a release goes to them alone.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "cfg.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "quarantine/quarantine.h"
#include "quarantine/release.h"
#include "quarantine/userallow.h"
#include "quarantine/weblink.h"
#include "web/page.h"
#include "web/web.h"

static bool
rcpt_of(const struct qentry *e, const char *rcpt)
{
	struct arena *a = arena_new("web rcpt");
	bool found = false;

	for (size_t i = 0; i < e->nrcpts && !found; i++)
		found = strcmp(weblink_rcpt_norm(a, e->rcpts[i]), rcpt) == 0;
	arena_free(&a);
	return found;
}


struct link {
	const char	*rcpt;		/* normalised */
	const char	*id;		/* "" for the list */
	const char	*x;
	const char	*s;
	int64_t		 expires;
};

/*
 * Checks the link of a request (query or form); 0 when valid, else the
 * answer already queued in *rc.
 */
static bool
link_check(struct ans *r, const char *rcpt, const char *id, const char *x,
    const char *s, bool want_id, struct link *l, enum MHD_Result *rc)
{
	enum weblink_check wc;
	char esc[80];

	if (!want_id)
		id = "";
	wc = weblink_verify(&web_key, rcpt, id != NULL ? id : "", x, s,
	    (int64_t)time(NULL));
	if (want_id && (id == NULL || *id == '\0'))
		wc = WEBLINK_MALFORMED;
	if (wc != WEBLINK_VALID) {
		log_sys(LOG_NOTICE, "web: refused link=%s rcpt=\"%s\" id=%s "
		    "client=%s", weblink_check_name(wc),
		    log_escape(esc, sizeof(esc), rcpt != NULL ? rcpt : "", 64),
		    id != NULL && quarantine_id_is_valid(id) ? id : "-",
		    r->client);
		*rc = wc == WEBLINK_EXPIRED ?
		    web_reply_msg(r, MHD_HTTP_GONE, "Link expired", "This link "
		    "has expired. The next digest brings a fresh one.") :
		    web_reply_msg(r, MHD_HTTP_FORBIDDEN, "Invalid link", "This "
		    "link is not valid.");
		return false;
	}
	l->rcpt = weblink_rcpt_norm(r->a, rcpt);
	l->id = id;
	l->x = x;
	l->s = s;
	l->expires = strtoll(x, NULL, 10);
	return true;
}

/* The entry of a message link, if it is still the recipient's to act on;
 * else the answer is queued. */
static const struct qentry *
link_entry(struct ans *r, struct qstore *q, const struct link *l,
    enum MHD_Result *rc)
{
	const struct qentry *e = quarantine_get(q, l->id);

	if (e == NULL) {
		*rc = web_reply_msg(r, MHD_HTTP_NOT_FOUND, "Not found", "This "
		    "message is no longer in the quarantine.");
		return NULL;
	}
	if (!rcpt_of(e, l->rcpt)) {
		log_sys(LOG_NOTICE, "web: refused id=%s: not a recipient "
		    "client=%s", e->id, r->client);
		*rc = web_reply_msg(r, MHD_HTTP_FORBIDDEN, "Invalid link",
		    "This link is not valid.");
		return NULL;
	}
	if (e->released != 0) {
		*rc = web_reply_msg(r, MHD_HTTP_GONE, "Already released", "This "
		    "message was already released; look in your mailbox.");
		return NULL;
	}
	return e;
}

static const char *
list_url(struct ans *r, const struct link *l)
{
	return weblink_url(r->a, &web_key, "", "/u", l->rcpt, "", l->expires);
}

enum MHD_Result
web_user_list(struct ans *r)
{
	struct link l;
	struct qfilter f = { 0 };
	const struct qentry **v;
	const char *err;
	struct qstore *q;
	struct page p;
	enum MHD_Result rc;
	size_t n, shown = 0;

	if (!link_check(r, web_qarg(r->conn, "r"), "", web_qarg(r->conn, "x"),
	    web_qarg(r->conn, "s"), false, &l, &rc))
		return rc;
	if ((q = web_store_open(r, &err)) == NULL)
		return web_reply_store_error(r, err);
	f.rcpt = l.rcpt;
	if (!quarantine_list(q, &f, &v, &n)) {
		rc = web_reply_store_error(r, quarantine_error(q));
		quarantine_close(&q);
		return rc;
	}
	if (!page_begin(&p, r->a, "Your quarantined mail")) {
		quarantine_close(&q);
		return MHD_NO;
	}
	page_raw(&p, "<p>For ");
	page_text(&p, l.rcpt);
	page_raw(&p, ". Open a message to read it as text, release it to "
	    "your mailbox or delete it.</p>\n<table><thead><tr><th>Date</th>"
	    "<th>From</th><th>Subject</th><th>Score</th></tr></thead>"
	    "<tbody>\n");
	/* Newest first; only entries this address received (the filter is a
	 * substring match). */
	for (size_t i = n; i-- > 0;) {
		const struct qentry *e = v[i];
		char t[40];

		if (e->released != 0 || !rcpt_of(e, l.rcpt))
			continue;
		web_time_text(t, sizeof(t), e->time);
		page_raw(&p, "<tr><td>%s</td><td>", t);
		page_text(&p, *e->sender != '\0' ? e->sender : "<>");
		page_raw(&p, "</td><td><a href=\"");
		page_text(&p, weblink_url(r->a, &web_key, "", "/m", l.rcpt, e->id,
		    l.expires));
		page_raw(&p, "\">");
		page_text(&p, *e->subject != '\0' ? e->subject :
		    "(no subject)");
		page_raw(&p, "</a></td><td>%.1f</td></tr>\n", e->score);
		shown++;
	}
	page_raw(&p, "</tbody></table>\n");
	if (shown == 0)
		page_raw(&p, "<p class=\"ok\">Nothing of yours is in the "
		    "quarantine.</p>\n");
	quarantine_close(&q);
	return web_reply_page(r, MHD_HTTP_OK, &p);
}

static void
action_form(struct page *p, const char *action, const char *label,
    const struct link *l, const char *csrf)
{
	page_raw(p, "<form class=\"act\" method=\"post\" action=\"%s\">",
	    action);
	page_hidden(p, "r", l->rcpt);
	page_hidden(p, "id", l->id);
	page_hidden(p, "x", l->x);
	page_hidden(p, "s", l->s);
	page_hidden(p, "csrf", csrf);
	page_raw(p, "<button type=\"submit\">%s</button></form>\n", label);
}

enum MHD_Result
web_user_show(struct ans *r)
{
	const struct qentry *e;
	const char *err, *csrf;
	struct qstore *q;
	struct link l;
	struct page p;
	enum MHD_Result rc;

	if (!link_check(r, web_qarg(r->conn, "r"), web_qarg(r->conn, "id"),
	    web_qarg(r->conn, "x"), web_qarg(r->conn, "s"), true, &l, &rc))
		return rc;
	if ((q = web_store_open(r, &err)) == NULL)
		return web_reply_store_error(r, err);
	if ((e = link_entry(r, q, &l, &rc)) == NULL) {
		quarantine_close(&q);
		return rc;
	}
	if (!page_begin(&p, r->a, "Quarantined message")) {
		quarantine_close(&q);
		return MHD_NO;
	}
	web_meta_table(&p, e, false);
	csrf = weblink_csrf(r->a, &web_key, r->cookie, l.rcpt, l.id);
	page_raw(&p, "<p>");
	action_form(&p, "/m/release", "Release", &l, csrf);
	if (*e->sender != '\0')
		action_form(&p, "/m/allow", "Release and allow the sender",
		    &l, csrf);
	/* A message for several people is theirs too: only theirs to keep. */
	if (e->nrcpts == 1)
		action_form(&p, "/m/delete", "Delete", &l, csrf);
	page_raw(&p, "</p>\n<p><a href=\"");
	page_text(&p, list_url(r, &l));
	page_raw(&p, "\">Back to the list</a></p>\n");
	web_preview(&p, q, e);
	quarantine_close(&q);
	return web_reply_page(r, MHD_HTTP_OK, &p);
}

enum MHD_Result
web_user_action(struct ans *r, const struct req *rq, const char *what)
{
	const struct qentry *e;
	const char *err = NULL, *to[1], *done, *e_sender;
	struct qstore *q;
	struct link l;
	struct page p;
	enum MHD_Result rc;
	bool ok;

	if (!link_check(r, rq->field[F_R], rq->field[F_ID], rq->field[F_X],
	    rq->field[F_S], true, &l, &rc))
		return rc;
	if (!web_post_check(r, rq, l.rcpt, l.id, &rc))
		return rc;
	if ((q = web_store_open(r, &err)) == NULL)
		return web_reply_store_error(r, err);
	if ((e = link_entry(r, q, &l, &rc)) == NULL) {
		quarantine_close(&q);
		return rc;
	}
	to[0] = l.rcpt;
	e_sender = arena_strdup(r->a, e->sender);
	if (strcmp(what, "delete") == 0) {
		if (e->nrcpts != 1) {
			quarantine_close(&q);
			return web_reply_msg(r, MHD_HTTP_FORBIDDEN, "Refused",
			    "This message was sent to others too; it leaves "
			    "the quarantine on its own.");
		}
		ok = quarantine_delete_by(q, e->id, arena_printf(r->a,
		    "web (recipient %s)", l.rcpt));
		if (!ok)
			err = quarantine_error(q);
		done = "Deleted.";
	} else {
		/* The allowance first: the released copy then meets it. */
		ok = strcmp(what, "allow") != 0 ||
		    userallow_add(r->a, web_cfg, l.rcpt, e->sender, &err);
		if (ok)
			ok = release_send(r->a, q, e, to, 1, &err);
		done = "Released: the message is on its way to your mailbox.";
	}
	log_sys(ok ? LOG_NOTICE : LOG_ERR, "web: action=%s id=%s by=user "
	    "rcpt=%s client=%s%s%s", what, e->id, l.rcpt, r->client,
	    ok ? "" : " error=", ok ? "" : err);
	quarantine_close(&q);
	if (!ok)
		return web_reply_msg(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Failed",
		    "That did not work; nothing was changed. Try again "
		    "later.");
	if (!page_begin(&p, r->a, "Done"))
		return MHD_NO;
	page_raw(&p, "<p class=\"ok\">");
	page_text(&p, done);
	if (strcmp(what, "allow") == 0) {
		page_raw(&p, " Mail from ");
		page_text(&p, e_sender);
		page_raw(&p, " to you will not be held from now on.");
	}
	page_raw(&p, "</p>\n<p><a href=\"");
	page_text(&p, list_url(r, &l));
	page_raw(&p, "\">Back to the list</a></p>\n");
	return web_reply_page(r, MHD_HTTP_OK, &p);
}

