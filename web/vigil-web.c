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
 * This file holds the server, the answers and their helpers (web.h) and
 * startup; the pages are in user.c and admin.c.  One thread serves every
 * request (MHD's internal polling thread): the store is opened per
 * request, so what the page shows is what the shared index holds now.
 */
#include <arpa/inet.h>
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
#include "web/web.h"

#define PREVIEW_MAX	(16 * 1024)
#define COOKIE_NAME	"vw"
#define ADMIN_REALM	"vigil quarantine admin"	/* admin.c's */

static const char security_csp[] =
	"default-src 'none'; style-src 'self'; img-src 'none'; "
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct cfg *web_cfg;
struct weblink_key web_key;
static char *base_origin;		/* scheme://host[:port] of WebBaseURL */
static bool secure_cookie;

static const char *const field_names[NFIELD] = { "r", "id", "x", "s", "csrf" };

/* ----------------------------------------------------------- replies */

enum MHD_Result
web_reply(struct ans *r, unsigned status, const char *ctype, char *body,
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

enum MHD_Result
web_reply_page(struct ans *r, unsigned status, struct page *p)
{
	page_end(p);
	return web_reply(r, status, "text/html; charset=utf-8", p->buf, p->len);
}

/* A short page saying why; the text is ours. */
enum MHD_Result
web_reply_msg(struct ans *r, unsigned status, const char *title,
    const char *text)
{
	struct page p;

	if (!page_begin(&p, r->a, title))
		return MHD_NO;
	page_raw(&p, "<p class=\"%s\">", status < 300 ? "ok" : "err");
	page_text(&p, text);
	page_raw(&p, "</p>\n");
	return web_reply_page(r, status, &p);
}

/* ------------------------------------------------------------ helpers */

const char *
web_qarg(struct MHD_Connection *conn, const char *name)
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

void
web_time_text(char *buf, size_t sz, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sz, "%Y-%m-%d %H:%M UTC", &tm);
}

struct qstore *
web_store_open(struct ans *r, const char **err_r)
{
	char *err = NULL;
	struct qstore *q = quarantine_open(web_cfg, false, &err);

	if (q == NULL) {
		*err_r = arena_strdup(r->a, err != NULL ? err : "?");
		free(err);
	}
	return q;
}

enum MHD_Result
web_reply_store_error(struct ans *r, const char *err)
{
	log_sys(LOG_ERR, "web: quarantine: %s", err);
	return web_reply_msg(r, MHD_HTTP_SERVICE_UNAVAILABLE, "Quarantine",
	    "The quarantine cannot be read right now; try again later.");
}

/* The text preview of a stored message: decoded text, escaped. */
void
web_preview(struct page *p, struct qstore *q, const struct qentry *e)
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

void
web_meta_table(struct page *p, const struct qentry *e, bool all_rcpts)
{
	char t[40];

	web_time_text(t, sizeof(t), e->time);
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

/* A POST's CSRF token and origin; false with the answer queued. */
bool
web_post_check(struct ans *r, const struct req *rq, const char *scope,
    const char *id, enum MHD_Result *rc)
{
	const char *why = NULL;

	if (rq->too_long)
		why = "form too long";
	else if ((why = cross_origin(r->conn)) != NULL)
		;
	else if (r->new_cookie)
		why = "no cookie";
	else if (!weblink_csrf_ok(&web_key, r->cookie, scope, id,
	    rq->field[F_CSRF]))
		why = "csrf token";
	if (why == NULL)
		return true;
	log_sys(LOG_NOTICE, "web: refused post id=%s: %s client=%s",
	    quarantine_id_is_valid(id) ? id : "-", why, r->client);
	*rc = web_reply_msg(r, MHD_HTTP_FORBIDDEN, "Refused", "This form is not "
	    "valid any more; open the message again from your digest.");
	return false;
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
	if (!is_post && strcmp(url, "/style.css") == 0) {
		char *css = strdup(page_css);

		if (css == NULL)
			return MHD_NO;
		return web_reply(r, MHD_HTTP_OK, "text/css; charset=utf-8", css,
		    strlen(css));
	}
	if (!is_post && strcmp(url, "/") == 0)
		return web_reply_msg(r, MHD_HTTP_OK, "Quarantine", "Open the link "
		    "in your quarantine digest to see your mail.");
	if (!is_post && strcmp(url, "/u") == 0)
		return web_user_list(r);
	if (!is_post && strcmp(url, "/m") == 0)
		return web_user_show(r);
	if (is_post && strcmp(url, "/m/release") == 0)
		return web_user_action(r, rq, "release");
	if (is_post && strcmp(url, "/m/allow") == 0)
		return web_user_action(r, rq, "allow");
	if (is_post && strcmp(url, "/m/delete") == 0)
		return web_user_action(r, rq, "delete");
	if (strcmp(url, "/admin") == 0 || strncmp(url, "/admin/", 7) == 0)
		return web_admin(r, url, is_post, rq);
	return web_reply_msg(r, MHD_HTTP_NOT_FOUND, "Not found", "No such page.");
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
		rc = web_reply_msg(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "Refused",
		    "Method not allowed.");
	else if (is_post && (rq == NULL || rq->pp == NULL))
		rc = web_reply_msg(&r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Refused",
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
	web_cfg = cfg_load(cfg_path, ov, nov, &cerr);
	free(ov);
	if (web_cfg == NULL) {
		log_sys(LOG_ERR, "%s", cerr);
		free(cerr);
		return EX_CONFIG;
	}
	a = arena_new("web startup");
	if (!weblink_key_load(a, web_cfg, &web_key, &err)) {
		log_sys(LOG_ERR, "%s (vigilctl quarantine release or digest "
		    "makes it)", err);
		arena_free(&a);
		cfg_unref(&web_cfg);
		return EX_CONFIG;
	}
	arena_free(&a);
	base_origin = origin_of(cfg_str(web_cfg, "WebBaseURL"));
	if (base_origin == NULL || !listen_parse(cfg_str(web_cfg, "WebListen"),
	    &ss, &sslen)) {
		log_sys(LOG_ERR, "%s: WebListen wants ADDRESS:PORT and "
		    "WebBaseURL a URL (http[s]://host[:port])", cfg_file(web_cfg));
		free(base_origin);
		cfg_unref(&web_cfg);
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
		    cfg_str(web_cfg, "WebListen"), strerror(errno));
		free(base_origin);
		cfg_unref(&web_cfg);
		return EX_UNAVAILABLE;
	}
	log_sys(LOG_INFO, "listening on %s for %s", cfg_str(web_cfg, "WebListen"),
	    cfg_str(web_cfg, "WebBaseURL"));
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
	OPENSSL_cleanse(&web_key, sizeof(web_key));
	free(base_origin);
	cfg_unref(&web_cfg);
	return 0;
}
