/*
 * vigil-web.c - the users' quarantine page: a small HTTP server
 * (libmicrohttpd) meant to sit behind the site's TLS reverse proxy.
 *
 * Users arrive with a signed link from their digest (vigilctl digest,
 * weblink.h): /u lists the recipient's quarantined mail, /m shows one
 * message as escaped text (never its HTML, nothing remote) with forms to
 * release it, release it and allow its sender (userallow.h: the policy
 * check then lets that sender's mail to this user through), or delete
 * it.  /admin is
 * the admin's view of every entry with the filters of `vigilctl
 * quarantine list`, behind HTTP basic authentication against
 * WebAdminPasswordFile (crypt(3) hashes).
 *
 * Every action goes through quarantine.h and release.h, as vigilctl's
 * do, and is logged once (action, id, who, client).  Every POST carries
 * a CSRF token bound to a SameSite=Strict cookie and to the link, and is
 * refused from another origin.  Every answer carries a CSP without
 * script, frame-ancestors 'none', nosniff and no-referrer.
 *
 * One thread serves every request (MHD's internal polling thread): the
 * store is opened per request, so what the page shows is what the
 * shared index holds now.
 */
#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "cfg.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "mime.h"
#include "quarantine/quarantine.h"
#include "quarantine/release.h"
#include "quarantine/userallow.h"
#include "quarantine/weblink.h"
#include "web/page.h"

#define PREVIEW_MAX	(16 * 1024)
#define FIELD_MAX	400
#define COOKIE_NAME	"vw"
#define ADMIN_REALM	"vigil quarantine admin"

static const char security_csp[] =
	"default-src 'none'; style-src 'self'; img-src 'none'; "
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

static struct cfg *cfg;
static struct weblink_key key;
static char *base_origin;		/* scheme://host[:port] of WebBaseURL */
static bool secure_cookie;

/* The form fields a POST may carry. */
enum { F_R, F_ID, F_X, F_S, F_CSRF, NFIELD };
static const char *const field_names[NFIELD] = { "r", "id", "x", "s", "csrf" };

struct req {
	struct MHD_PostProcessor *pp;
	char		 field[NFIELD][FIELD_MAX + 1];
	size_t		 flen[NFIELD];
	bool		 too_long;
};

/* One answer being built: its arena, status, body and cookie. */
struct ans {
	struct MHD_Connection *conn;
	struct arena	*a;
	const char	*client;
	const char	*cookie;	/* the browser's, or a new one */
	bool		 new_cookie;
};

/* ----------------------------------------------------------- replies */

static enum MHD_Result
reply(struct ans *r, unsigned status, const char *ctype, char *body,
    size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(len, body,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    ctype);
	(void)MHD_add_response_header(resp, "Content-Security-Policy",
	    security_csp);
	(void)MHD_add_response_header(resp, "X-Content-Type-Options",
	    "nosniff");
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	(void)MHD_add_response_header(resp, "Cross-Origin-Opener-Policy",
	    "same-origin");
	(void)MHD_add_response_header(resp, "Cross-Origin-Resource-Policy",
	    "same-origin");
	if (r->new_cookie) {
		char *c = arena_printf(r->a, "%s=%s; Path=/; HttpOnly; "
		    "SameSite=Strict%s", COOKIE_NAME, r->cookie,
		    secure_cookie ? "; Secure" : "");

		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE,
		    c);
	}
	if (status == MHD_HTTP_UNAUTHORIZED) {
		rc = MHD_queue_basic_auth_fail_response(r->conn, ADMIN_REALM,
		    resp);
	} else
		rc = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
reply_page(struct ans *r, unsigned status, struct page *p)
{
	page_end(p);
	return reply(r, status, "text/html; charset=utf-8", p->buf, p->len);
}

/* A short page saying why; the text is ours. */
static enum MHD_Result
reply_msg(struct ans *r, unsigned status, const char *title,
    const char *text)
{
	struct page p;

	if (!page_begin(&p, r->a, title))
		return MHD_NO;
	page_raw(&p, "<p class=\"%s\">", status < 300 ? "ok" : "err");
	page_text(&p, text);
	page_raw(&p, "</p>\n");
	return reply_page(r, status, &p);
}

/* ------------------------------------------------------------ helpers */

static const char *
qarg(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static const char *
client_text(struct arena *a, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *fwd = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "X-Forwarded-For");
	char buf[INET6_ADDRSTRLEN] = "?", esc[80];

	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, buf, sizeof(buf));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr, buf, sizeof(buf));
	}
	if (fwd == NULL)
		return arena_strdup(a, buf);
	return arena_printf(a, "%s fwd=\"%s\"", buf,
	    log_escape(esc, sizeof(esc), fwd, 64));
}

/* The browser's cookie when it is of our shape, else a new one. */
static void
cookie_init(struct ans *r)
{
	const char *c = MHD_lookup_connection_value(r->conn,
	    MHD_COOKIE_KIND, COOKIE_NAME);
	unsigned char rnd[16];
	char hex[33];

	if (c != NULL && strlen(c) == 32 &&
	    strspn(c, "0123456789abcdef") == 32) {
		r->cookie = c;
		return;
	}
	if (!util_random(rnd, sizeof(rnd)))
		log_oom(sizeof(rnd), "web cookie");
	util_hex(hex, rnd, sizeof(rnd));
	r->cookie = arena_strdup(r->a, hex);
	r->new_cookie = true;
}

/*
 * A POST from a page of ours: refused when the browser says it came from
 * another site.  Sec-Fetch-Site is the browser's own word; Origin must be
 * WebBaseURL's, except "null", which browsers send for our own forms
 * under Referrer-Policy no-referrer.
 */
static const char *
cross_origin(struct MHD_Connection *conn)
{
	const char *sfs = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, "Origin");

	if (sfs != NULL && strcmp(sfs, "same-origin") != 0)
		return "sec-fetch-site";
	if (origin != NULL && strcmp(origin, "null") != 0 &&
	    strcasecmp(origin, base_origin) != 0)
		return "origin";
	return NULL;
}

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

static void
time_text(char *buf, size_t sz, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sz, "%Y-%m-%d %H:%M UTC", &tm);
}

static struct qstore *
store_open(struct ans *r, const char **err_r)
{
	char *err = NULL;
	struct qstore *q = quarantine_open(cfg, false, &err);

	if (q == NULL) {
		*err_r = arena_strdup(r->a, err != NULL ? err : "?");
		free(err);
	}
	return q;
}

static enum MHD_Result
reply_store_error(struct ans *r, const char *err)
{
	log_sys(LOG_ERR, "web: quarantine: %s", err);
	return reply_msg(r, MHD_HTTP_SERVICE_UNAVAILABLE, "Quarantine",
	    "The quarantine cannot be read right now; try again later.");
}

/* The text preview of a stored message: decoded text, escaped. */
static void
preview(struct page *p, struct qstore *q, const struct qentry *e)
{
	size_t len = 0, blen = 0;
	const unsigned char *msg = quarantine_read(q, e->id, &len);
	const char *body;
	bool cut;

	if (msg == NULL) {
		page_raw(p, "<p class=\"err\">The message file cannot be "
		    "read.</p>\n");
		return;
	}
	body = mime_body_text(p->a, msg, len, &blen);
	if (body == NULL)
		body = (const char *)release_body(msg, len, &blen);
	cut = blen > PREVIEW_MAX;
	page_raw(p, "<h2>Text</h2>\n<pre>");
	page_textn(p, body, cut ? PREVIEW_MAX : blen);
	if (cut)
		page_raw(p, "\n[... %zu more bytes]", blen - PREVIEW_MAX);
	page_raw(p, "</pre>\n");
}

static void
meta_table(struct page *p, const struct qentry *e, bool all_rcpts)
{
	char t[40];

	time_text(t, sizeof(t), e->time);
	page_raw(p, "<table class=\"meta\"><tr><td>Date</td><td>%s</td></tr>"
	    "<tr><td>From</td><td>", t);
	page_text(p, *e->sender != '\0' ? e->sender : "<>");
	page_raw(p, "</td></tr><tr><td>Subject</td><td>");
	page_text(p, e->subject);
	if (all_rcpts) {
		page_raw(p, "</td></tr><tr><td>To</td><td>");
		for (size_t i = 0; i < e->nrcpts; i++) {
			page_text(p, e->rcpts[i]);
			page_raw(p, i + 1 < e->nrcpts ? ", " : "");
		}
		page_raw(p, "</td></tr><tr><td>Id</td><td>%s", e->id);
	}
	page_raw(p, "</td></tr><tr><td>Score</td><td>%.1f (", e->score);
	page_text(p, e->reason);
	page_raw(p, ")</td></tr></table>\n");
}

/* -------------------------------------------------------- user pages */

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
	wc = weblink_verify(&key, rcpt, id != NULL ? id : "", x, s,
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
		    reply_msg(r, MHD_HTTP_GONE, "Link expired", "This link "
		    "has expired. The next digest brings a fresh one.") :
		    reply_msg(r, MHD_HTTP_FORBIDDEN, "Invalid link", "This "
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
		*rc = reply_msg(r, MHD_HTTP_NOT_FOUND, "Not found", "This "
		    "message is no longer in the quarantine.");
		return NULL;
	}
	if (!rcpt_of(e, l->rcpt)) {
		log_sys(LOG_NOTICE, "web: refused id=%s: not a recipient "
		    "client=%s", e->id, r->client);
		*rc = reply_msg(r, MHD_HTTP_FORBIDDEN, "Invalid link",
		    "This link is not valid.");
		return NULL;
	}
	if (e->released != 0) {
		*rc = reply_msg(r, MHD_HTTP_GONE, "Already released", "This "
		    "message was already released; look in your mailbox.");
		return NULL;
	}
	return e;
}

static const char *
list_url(struct ans *r, const struct link *l)
{
	return weblink_url(r->a, &key, "", "/u", l->rcpt, "", l->expires);
}

static enum MHD_Result
user_list(struct ans *r)
{
	struct link l;
	struct qfilter f = { 0 };
	const struct qentry **v;
	const char *err;
	struct qstore *q;
	struct page p;
	enum MHD_Result rc;
	size_t n, shown = 0;

	if (!link_check(r, qarg(r->conn, "r"), "", qarg(r->conn, "x"),
	    qarg(r->conn, "s"), false, &l, &rc))
		return rc;
	if ((q = store_open(r, &err)) == NULL)
		return reply_store_error(r, err);
	f.rcpt = l.rcpt;
	if (!quarantine_list(q, &f, &v, &n)) {
		rc = reply_store_error(r, quarantine_error(q));
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
		time_text(t, sizeof(t), e->time);
		page_raw(&p, "<tr><td>%s</td><td>", t);
		page_text(&p, *e->sender != '\0' ? e->sender : "<>");
		page_raw(&p, "</td><td><a href=\"");
		page_text(&p, weblink_url(r->a, &key, "", "/m", l.rcpt, e->id,
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
	return reply_page(r, MHD_HTTP_OK, &p);
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

static enum MHD_Result
user_show(struct ans *r)
{
	const struct qentry *e;
	const char *err, *csrf;
	struct qstore *q;
	struct link l;
	struct page p;
	enum MHD_Result rc;

	if (!link_check(r, qarg(r->conn, "r"), qarg(r->conn, "id"),
	    qarg(r->conn, "x"), qarg(r->conn, "s"), true, &l, &rc))
		return rc;
	if ((q = store_open(r, &err)) == NULL)
		return reply_store_error(r, err);
	if ((e = link_entry(r, q, &l, &rc)) == NULL) {
		quarantine_close(&q);
		return rc;
	}
	if (!page_begin(&p, r->a, "Quarantined message")) {
		quarantine_close(&q);
		return MHD_NO;
	}
	meta_table(&p, e, false);
	csrf = weblink_csrf(r->a, &key, r->cookie, l.rcpt, l.id);
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
	preview(&p, q, e);
	quarantine_close(&q);
	return reply_page(r, MHD_HTTP_OK, &p);
}

/* A POST's CSRF token and origin; false with the answer queued. */
static bool
post_check(struct ans *r, const struct req *rq, const char *scope,
    const char *id, enum MHD_Result *rc)
{
	const char *why = NULL;

	if (rq->too_long)
		why = "form too long";
	else if ((why = cross_origin(r->conn)) != NULL)
		;
	else if (r->new_cookie)
		why = "no cookie";
	else if (!weblink_csrf_ok(&key, r->cookie, scope, id,
	    rq->field[F_CSRF]))
		why = "csrf token";
	if (why == NULL)
		return true;
	log_sys(LOG_NOTICE, "web: refused post id=%s: %s client=%s",
	    quarantine_id_is_valid(id) ? id : "-", why, r->client);
	*rc = reply_msg(r, MHD_HTTP_FORBIDDEN, "Refused", "This form is not "
	    "valid any more; open the message again from your digest.");
	return false;
}

static enum MHD_Result
user_action(struct ans *r, const struct req *rq, const char *what)
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
	if (!post_check(r, rq, l.rcpt, l.id, &rc))
		return rc;
	if ((q = store_open(r, &err)) == NULL)
		return reply_store_error(r, err);
	if ((e = link_entry(r, q, &l, &rc)) == NULL) {
		quarantine_close(&q);
		return rc;
	}
	to[0] = l.rcpt;
	e_sender = arena_strdup(r->a, e->sender);
	if (strcmp(what, "delete") == 0) {
		if (e->nrcpts != 1) {
			quarantine_close(&q);
			return reply_msg(r, MHD_HTTP_FORBIDDEN, "Refused",
			    "This message was sent to others too; it leaves "
			    "the quarantine on its own.");
		}
		ok = quarantine_delete(q, e->id);
		if (!ok)
			err = quarantine_error(q);
		done = "Deleted.";
	} else {
		/* The allowance first: the released copy then meets it. */
		ok = strcmp(what, "allow") != 0 ||
		    userallow_add(r->a, cfg, l.rcpt, e->sender, &err);
		if (ok)
			ok = release_send(r->a, q, e, to, 1, &err);
		done = "Released: the message is on its way to your mailbox.";
	}
	log_sys(ok ? LOG_NOTICE : LOG_ERR, "web: action=%s id=%s by=user "
	    "rcpt=%s client=%s%s%s", what, e->id, l.rcpt, r->client,
	    ok ? "" : " error=", ok ? "" : err);
	quarantine_close(&q);
	if (!ok)
		return reply_msg(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Failed",
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
	return reply_page(r, MHD_HTTP_OK, &p);
}

/* ------------------------------------------------------- admin pages */

/* The admin's name when basic auth matches WebAdminPasswordFile; NULL
 * (and a log line on a wrong password) otherwise. */
static const char *
admin_auth(struct ans *r)
{
	const char *path = cfg_str(cfg, "WebAdminPasswordFile");
	char *pass = NULL, *user, *line = NULL, esc[80];
	const char *who = NULL;
	size_t cap = 0;
	FILE *f;

	user = MHD_basic_auth_get_username_password(r->conn, &pass);
	if (user == NULL || pass == NULL || path == NULL) {
		MHD_free(user);
		MHD_free(pass);
		return NULL;
	}
	if ((f = fopen(path, "re")) == NULL) {
		log_sys(LOG_ERR, "web: WebAdminPasswordFile %s: %s", path,
		    strerror(errno));
	} else {
		struct crypt_data *cd = calloc(1, sizeof(*cd));

		bool known = false;

		while (cd != NULL && getline(&line, &cap, f) != -1) {
			char *colon = strchr(line, ':'), *h;
			const char *got;

			line[strcspn(line, "\r\n")] = '\0';
			if (colon == NULL || line[0] == '#')
				continue;
			*colon = '\0';
			if (strcmp(line, user) != 0)
				continue;
			known = true;
			h = colon + 1;
			got = crypt_r(pass, h, cd);
			if (got != NULL && got[0] != '*' &&
			    strlen(got) == strlen(h) &&
			    CRYPTO_memcmp(got, h, strlen(h)) == 0)
				who = arena_strdup(r->a, user);
			break;
		}
		/* An unknown name costs a hash too: the answer's time does
		 * not tell which names exist. */
		if (cd != NULL && !known)
			(void)crypt_r(pass, "$6$rounds=5000$vigilwebdummy$", cd);
		if (cd != NULL)
			OPENSSL_cleanse(cd, sizeof(*cd));
		free(cd);
		free(line);
		fclose(f);
	}
	if (who == NULL)
		log_sys(LOG_NOTICE, "web: admin login refused user=\"%s\" "
		    "client=%s", log_escape(esc, sizeof(esc), user, 64),
		    r->client);
	OPENSSL_cleanse(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return who;
}

/* "30d", "2h" (ago) or "2026-11-27" / "2026-11-27T10:00:00" (UTC). */
static bool
since_parse(const char *s, int64_t *t_r)
{
	uint64_t ms;
	struct tm tm;
	const char *end;

	if (util_parse_duration(s, &ms)) {
		*t_r = (int64_t)time(NULL) - (int64_t)(ms / 1000);
		return true;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (end == NULL || *end != '\0')
		return false;
	*t_r = (int64_t)timegm(&tm);
	return true;
}

static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

static void
filter_field(struct page *p, const char *name, const char *label,
    const char *value)
{
	page_raw(p, "<label>%s <input name=\"%s\" value=\"", label, name);
	page_text(p, value != NULL ? value : "");
	page_raw(p, "\"></label>\n");
}

static enum MHD_Result
admin_list(struct ans *r, const char *who)
{
	struct qfilter f = { 0 };
	const char *since = nonempty(qarg(r->conn, "since"));
	const char *min = nonempty(qarg(r->conn, "min_score"));
	const char *reason = nonempty(qarg(r->conn, "reason"));
	const struct qentry **v;
	const char *err;
	struct qstore *q;
	struct page p;
	enum MHD_Result rc;
	char *end;
	size_t n;

	f.sender = nonempty(qarg(r->conn, "sender"));
	f.rcpt = nonempty(qarg(r->conn, "rcpt"));
	if (since != NULL && !since_parse(since, &f.since))
		return reply_msg(r, MHD_HTTP_BAD_REQUEST, "Bad filter",
		    "since: want a duration (30d) or a date (2026-11-27).");
	if (min != NULL) {
		f.min_score = strtod(min, &end);
		if (*end != '\0')
			return reply_msg(r, MHD_HTTP_BAD_REQUEST, "Bad filter",
			    "min_score: want a number.");
		f.has_min_score = true;
	}
	if (reason != NULL && strspn(reason, "abcdefghijklmnopqrstuvwxyz") !=
	    strlen(reason))
		return reply_msg(r, MHD_HTTP_BAD_REQUEST, "Bad filter",
		    "reason: want virus, spam, policy or a reason such as "
		    "dmarc.");
	f.reason = reason;
	if ((q = store_open(r, &err)) == NULL)
		return reply_store_error(r, err);
	if (!quarantine_list(q, &f, &v, &n)) {
		rc = reply_store_error(r, quarantine_error(q));
		quarantine_close(&q);
		return rc;
	}
	if (!page_begin(&p, r->a, "Quarantine")) {
		quarantine_close(&q);
		return MHD_NO;
	}
	page_raw(&p, "<p>Signed in as ");
	page_text(&p, who);
	page_raw(&p, ".</p>\n<form method=\"get\" action=\"/admin\">\n");
	filter_field(&p, "since", "Since", since);
	filter_field(&p, "sender", "Sender", f.sender);
	filter_field(&p, "rcpt", "Recipient", f.rcpt);
	filter_field(&p, "min_score", "Min. score", min);
	filter_field(&p, "reason", "Reason", reason);
	page_raw(&p, "<button type=\"submit\">Filter</button></form>\n"
	    "<p>%zu entries.</p>\n<table><thead><tr><th>Date</th><th>From</th>"
	    "<th>To</th><th>Subject</th><th>Score</th><th>Reason</th>"
	    "<th>Released</th></tr></thead><tbody>\n", n);
	for (size_t i = n; i-- > 0;) {
		const struct qentry *e = v[i];
		char t[40];

		time_text(t, sizeof(t), e->time);
		page_raw(&p, "<tr><td>%s</td><td>", t);
		page_text(&p, *e->sender != '\0' ? e->sender : "<>");
		page_raw(&p, "</td><td>");
		for (size_t j = 0; j < e->nrcpts; j++) {
			page_text(&p, e->rcpts[j]);
			page_raw(&p, j + 1 < e->nrcpts ? ", " : "");
		}
		page_raw(&p, "</td><td><a href=\"/admin/m?id=%s\">", e->id);
		page_text(&p, *e->subject != '\0' ? e->subject :
		    "(no subject)");
		page_raw(&p, "</a></td><td>%.1f</td><td>", e->score);
		page_text(&p, e->reason);
		if (e->released != 0) {
			time_text(t, sizeof(t), e->released);
			page_raw(&p, "</td><td>%s</td></tr>\n", t);
		} else
			page_raw(&p, "</td><td>-</td></tr>\n");
	}
	page_raw(&p, "</tbody></table>\n");
	quarantine_close(&q);
	return reply_page(r, MHD_HTTP_OK, &p);
}

static void
admin_form(struct page *p, const char *action, const char *label,
    const char *id, const char *csrf)
{
	page_raw(p, "<form class=\"act\" method=\"post\" action=\"%s\">",
	    action);
	page_hidden(p, "id", id);
	page_hidden(p, "csrf", csrf);
	page_raw(p, "<button type=\"submit\">%s</button></form>\n", label);
}

static enum MHD_Result
admin_show(struct ans *r, const char *who)
{
	const char *id = qarg(r->conn, "id"), *err, *csrf;
	const struct qentry *e;
	struct qstore *q;
	struct page p;

	if (id == NULL || !quarantine_id_is_valid(id))
		return reply_msg(r, MHD_HTTP_BAD_REQUEST, "Bad request",
		    "Give a quarantine id.");
	if ((q = store_open(r, &err)) == NULL)
		return reply_store_error(r, err);
	if ((e = quarantine_get(q, id)) == NULL) {
		quarantine_close(&q);
		return reply_msg(r, MHD_HTTP_NOT_FOUND, "Not found", "No such "
		    "entry in the quarantine.");
	}
	if (!page_begin(&p, r->a, "Quarantined message")) {
		quarantine_close(&q);
		return MHD_NO;
	}
	meta_table(&p, e, true);
	page_raw(&p, "<h2>Hits</h2>\n<table>");
	for (size_t i = 0; i < e->nhits; i++) {
		page_raw(&p, "<tr><td>");
		page_text(&p, e->hits[i].name);
		page_raw(&p, "</td><td>%.2f</td><td>", e->hits[i].score);
		page_text(&p, e->hits[i].detail);
		page_raw(&p, "</td></tr>\n");
	}
	page_raw(&p, "</table>\n<p>");
	csrf = weblink_csrf(r->a, &key, r->cookie,
	    arena_printf(r->a, "admin:%s", who), e->id);
	if (e->released == 0)
		admin_form(&p, "/admin/release", "Release to its recipients",
		    e->id, csrf);
	admin_form(&p, "/admin/delete", "Delete", e->id, csrf);
	page_raw(&p, "</p>\n<p><a href=\"/admin\">Back to the list</a></p>\n");
	preview(&p, q, e);
	quarantine_close(&q);
	return reply_page(r, MHD_HTTP_OK, &p);
}

static enum MHD_Result
admin_action(struct ans *r, const struct req *rq, const char *who,
    const char *what)
{
	const char *id = rq->field[F_ID], *err = NULL;
	const struct qentry *e;
	struct qstore *q;
	enum MHD_Result rc;
	bool ok;

	if (!quarantine_id_is_valid(id))
		return reply_msg(r, MHD_HTTP_BAD_REQUEST, "Bad request",
		    "Give a quarantine id.");
	if (!post_check(r, rq, arena_printf(r->a, "admin:%s", who), id, &rc))
		return rc;
	if ((q = store_open(r, &err)) == NULL)
		return reply_store_error(r, err);
	if ((e = quarantine_get(q, id)) == NULL) {
		quarantine_close(&q);
		return reply_msg(r, MHD_HTTP_NOT_FOUND, "Not found", "No such "
		    "entry in the quarantine.");
	}
	if (strcmp(what, "delete") == 0) {
		ok = quarantine_delete(q, id);
		if (!ok)
			err = quarantine_error(q);
	} else if (e->released != 0) {
		quarantine_close(&q);
		return reply_msg(r, MHD_HTTP_CONFLICT, "Already released",
		    "This message was already released (vigilctl quarantine "
		    "release --force sends it again).");
	} else
		ok = release_send(r->a, q, e, NULL, 0, &err);
	log_sys(ok ? LOG_NOTICE : LOG_ERR, "web: action=%s id=%s by=admin:%s "
	    "client=%s%s%s", what, id, who, r->client, ok ? "" : " error=",
	    ok ? "" : err);
	quarantine_close(&q);
	if (!ok)
		return reply_msg(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Failed",
		    err);
	return reply_msg(r, MHD_HTTP_OK, "Done", strcmp(what, "delete") == 0 ?
	    "Deleted." : "Released to its recipients.");
}

/* ------------------------------------------------------------ routing */

static enum MHD_Result
post_field(void *cls, enum MHD_ValueKind kind, const char *k,
    const char *filename, const char *ctype, const char *enc,
    const char *data, uint64_t off, size_t size)
{
	struct req *rq = cls;

	for (int i = 0; i < NFIELD; i++) {
		if (strcmp(k, field_names[i]) != 0)
			continue;
		if (rq->flen[i] + size > FIELD_MAX) {
			rq->too_long = true;
			return MHD_NO;
		}
		memcpy(rq->field[i] + rq->flen[i], data, size);
		rq->flen[i] += size;
		rq->field[i][rq->flen[i]] = '\0';
	}
	return MHD_YES;
}

static void
req_done(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	if (rq == NULL)
		return;
	if (rq->pp != NULL)
		MHD_destroy_post_processor(rq->pp);
	free(rq);
	*con_cls = NULL;
}

static enum MHD_Result
route(struct ans *r, const char *url, bool is_post, const struct req *rq)
{
	const char *who;

	if (!is_post && strcmp(url, "/style.css") == 0) {
		char *css = strdup(page_css);

		if (css == NULL)
			return MHD_NO;
		return reply(r, MHD_HTTP_OK, "text/css; charset=utf-8", css,
		    strlen(css));
	}
	if (!is_post && strcmp(url, "/") == 0)
		return reply_msg(r, MHD_HTTP_OK, "Quarantine", "Open the link "
		    "in your quarantine digest to see your mail.");
	if (!is_post && strcmp(url, "/u") == 0)
		return user_list(r);
	if (!is_post && strcmp(url, "/m") == 0)
		return user_show(r);
	if (is_post && strcmp(url, "/m/release") == 0)
		return user_action(r, rq, "release");
	if (is_post && strcmp(url, "/m/allow") == 0)
		return user_action(r, rq, "allow");
	if (is_post && strcmp(url, "/m/delete") == 0)
		return user_action(r, rq, "delete");
	if (strcmp(url, "/admin") == 0 || strncmp(url, "/admin/", 7) == 0) {
		if (cfg_str(cfg, "WebAdminPasswordFile") == NULL)
			return reply_msg(r, MHD_HTTP_NOT_FOUND, "Not found",
			    "No such page.");
		if ((who = admin_auth(r)) == NULL)
			return reply_msg(r, MHD_HTTP_UNAUTHORIZED,
			    "Sign in", "This page needs the admin's name "
			    "and password.");
		if (!is_post && strcmp(url, "/admin") == 0)
			return admin_list(r, who);
		if (!is_post && strcmp(url, "/admin/m") == 0)
			return admin_show(r, who);
		if (is_post && strcmp(url, "/admin/release") == 0)
			return admin_action(r, rq, who, "release");
		if (is_post && strcmp(url, "/admin/delete") == 0)
			return admin_action(r, rq, who, "delete");
	}
	return reply_msg(r, MHD_HTTP_NOT_FOUND, "Not found", "No such page.");
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct req *rq = *con_cls;
	bool is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	struct ans r = { conn, NULL, NULL, NULL, false };
	enum MHD_Result rc;

	/* A POST's body comes in later calls; anything else is answered
	 * at once. */
	if (rq == NULL && is_post) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		/* Not a form: no processor, answered below, refused. */
		rq->pp = MHD_create_post_processor(conn, 4096, post_field, rq);
		return MHD_YES;
	}
	if (is_post && *upload_size != 0) {
		if (rq->pp != NULL &&
		    MHD_post_process(rq->pp, upload, *upload_size) != MHD_YES)
			rq->too_long = true;
		*upload_size = 0;
		return MHD_YES;
	}
	r.a = arena_new("web request");
	r.client = client_text(r.a, conn);
	cookie_init(&r);
	if (!is_post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		rc = reply_msg(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "Refused",
		    "Method not allowed.");
	else if (is_post && (rq == NULL || rq->pp == NULL))
		rc = reply_msg(&r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Refused",
		    "Not a form.");
	else
		rc = route(&r, url, is_post, rq);
	arena_free(&r.a);
	return rc;
}

/* ------------------------------------------------------------ startup */

static int
usage(FILE *out, int rc)
{
	fputs("usage: vigil-web [-c FILE] [-o Keyword=value]...\n"
	    "  serves the users' quarantine page on WebListen until SIGTERM\n"
	    "  exit: 0 stopped, 64 usage, 69 cannot listen, 78 configuration\n",
	    out);
	return rc;
}

/* "127.0.0.1:8025", "[::1]:8025" or ":8025" (every address). */
static bool
listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len_r)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(s, ':');
	char host[64];
	char *end;
	long port;
	size_t hl;

	if (colon == NULL)
		return false;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return false;
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len_r = sizeof(*s6);
		return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1;
	}
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	*len_r = sizeof(*s4);
	return hl == 0 || inet_pton(AF_INET, host, &s4->sin_addr) == 1;
}

/* scheme://host[:port] of a URL, lower case. */
static char *
origin_of(const char *url)
{
	const char *p = strstr(url, "://");
	size_t n;
	char *o;

	if (p == NULL)
		return NULL;
	n = (size_t)(p + 3 - url) + strcspn(p + 3, "/?#");
	if ((o = strndup(url, n)) == NULL)
		log_oom(n, "web origin");
	for (char *c = o; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return o;
}

int
main(int argc, char **argv)
{
	const char *cfg_path = SYSCONFDIR "/vigil/vigil.conf", *err = NULL;
	const char **ov = calloc((size_t)argc + 1, sizeof(*ov));
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct MHD_Daemon *mhd;
	struct arena *a;
	char *cerr = NULL;
	size_t nov = 0;
	sigset_t set;
	int ch, sig;

	if (ov == NULL)
		return 1;
	while ((ch = getopt(argc, argv, "c:o:hV")) != -1) {
		switch (ch) {
		case 'c': cfg_path = optarg; break;
		case 'o': ov[nov++] = optarg; break;
		case 'h': free(ov); return usage(stdout, 0);
		case 'V': free(ov); puts("vigil-web " PACKAGE_VERSION);
			return 0;
		default: free(ov); return usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc) {
		free(ov);
		return usage(stderr, EX_USAGE);
	}
	log_init("vigil-web", 1, LOG_MAIL);
	mime_init();
	cfg = cfg_load(cfg_path, ov, nov, &cerr);
	free(ov);
	if (cfg == NULL) {
		log_sys(LOG_ERR, "%s", cerr);
		free(cerr);
		return EX_CONFIG;
	}
	a = arena_new("web startup");
	if (!weblink_key_load(a, cfg, &key, &err)) {
		log_sys(LOG_ERR, "%s (vigilctl quarantine release or digest "
		    "makes it)", err);
		arena_free(&a);
		cfg_unref(&cfg);
		return EX_CONFIG;
	}
	arena_free(&a);
	base_origin = origin_of(cfg_str(cfg, "WebBaseURL"));
	if (base_origin == NULL || !listen_parse(cfg_str(cfg, "WebListen"),
	    &ss, &sslen)) {
		log_sys(LOG_ERR, "%s: WebListen wants ADDRESS:PORT and "
		    "WebBaseURL a URL (http[s]://host[:port])", cfg_file(cfg));
		free(base_origin);
		cfg_unref(&cfg);
		return EX_CONFIG;
	}
	secure_cookie = strncasecmp(base_origin, "https:", 6) == 0;

	/* Signals are for this thread's sigwait; MHD's inherits the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, answer, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_NOTIFY_COMPLETED, req_done, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_END);
	if (mhd == NULL) {
		log_sys(LOG_ERR, "WebListen %s: cannot listen: %s",
		    cfg_str(cfg, "WebListen"), strerror(errno));
		free(base_origin);
		cfg_unref(&cfg);
		return EX_UNAVAILABLE;
	}
	log_sys(LOG_INFO, "listening on %s for %s", cfg_str(cfg, "WebListen"),
	    cfg_str(cfg, "WebBaseURL"));
	(void)sslen;
	do {
		if (sigwait(&set, &sig) != 0)
			break;
		if (sig == SIGHUP)
			log_sys(LOG_INFO, "SIGHUP: restart vigil-web to "
			    "read a new configuration");
	} while (sig == SIGHUP);
	log_sys(LOG_INFO, "stopping on signal %d", sig);
	MHD_stop_daemon(mhd);
	OPENSSL_cleanse(&key, sizeof(key));
	free(base_origin);
	cfg_unref(&cfg);
	return 0;
}
