/*
 * admin.c - the admin's view (/admin): every entry with the filters of
 * `vigilctl quarantine list`, one entry with its hits and text, release
 * to its recipients and delete.  HTTP basic authentication against
 * WebAdminPasswordFile (crypt(3) hashes); the forms' CSRF tokens are
 * bound to "admin:USER".
 */
#include <crypt.h>
#include <errno.h>
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
#include <openssl/crypto.h>

#include "quarantine/weblink.h"
#include "web/page.h"
#include "web/web.h"

/* The admin's name when basic auth matches WebAdminPasswordFile; NULL
 * (and a log line on a wrong password) otherwise. */
static const char *
admin_auth(struct ans *r)
{
	const char *path = cfg_str(web_cfg, "WebAdminPasswordFile");
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
	const char *since = nonempty(web_qarg(r->conn, "since"));
	const char *min = nonempty(web_qarg(r->conn, "min_score"));
	const char *reason = nonempty(web_qarg(r->conn, "reason"));
	const struct qentry **v;
	const char *err;
	struct qstore *q;
	struct page p;
	enum MHD_Result rc;
	char *end;
	size_t n;

	f.sender = nonempty(web_qarg(r->conn, "sender"));
	f.rcpt = nonempty(web_qarg(r->conn, "rcpt"));
	if (since != NULL && !util_parse_since(since, &f.since))
		return web_reply_msg(r, MHD_HTTP_BAD_REQUEST, "Bad filter",
		    "since: want a duration (30d) or a date (2026-11-27).");
	if (min != NULL) {
		f.min_score = strtod(min, &end);
		if (*end != '\0')
			return web_reply_msg(r, MHD_HTTP_BAD_REQUEST, "Bad filter",
			    "min_score: want a number.");
		f.has_min_score = true;
	}
	if (reason != NULL && strspn(reason, "abcdefghijklmnopqrstuvwxyz") !=
	    strlen(reason))
		return web_reply_msg(r, MHD_HTTP_BAD_REQUEST, "Bad filter",
		    "reason: want virus, spam, policy or a reason such as "
		    "dmarc.");
	f.reason = reason;
	if ((q = web_store_open(r, &err)) == NULL)
		return web_reply_store_error(r, err);
	if (!quarantine_list(q, &f, &v, &n)) {
		rc = web_reply_store_error(r, quarantine_error(q));
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

		web_time_text(t, sizeof(t), e->time);
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
			web_time_text(t, sizeof(t), e->released);
			page_raw(&p, "</td><td>%s</td></tr>\n", t);
		} else
			page_raw(&p, "</td><td>-</td></tr>\n");
	}
	page_raw(&p, "</tbody></table>\n");
	quarantine_close(&q);
	return web_reply_page(r, MHD_HTTP_OK, &p);
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
	const char *id = web_qarg(r->conn, "id"), *err, *csrf;
	const struct qentry *e;
	struct qstore *q;
	struct page p;

	if (id == NULL || !quarantine_id_is_valid(id))
		return web_reply_msg(r, MHD_HTTP_BAD_REQUEST, "Bad request",
		    "Give a quarantine id.");
	if ((q = web_store_open(r, &err)) == NULL)
		return web_reply_store_error(r, err);
	if ((e = quarantine_get(q, id)) == NULL) {
		quarantine_close(&q);
		return web_reply_msg(r, MHD_HTTP_NOT_FOUND, "Not found", "No such "
		    "entry in the quarantine.");
	}
	if (!page_begin(&p, r->a, "Quarantined message")) {
		quarantine_close(&q);
		return MHD_NO;
	}
	web_meta_table(&p, e, true);
	page_raw(&p, "<h2>Hits</h2>\n<table>");
	for (size_t i = 0; i < e->nhits; i++) {
		page_raw(&p, "<tr><td>");
		page_text(&p, e->hits[i].name);
		page_raw(&p, "</td><td>%.2f</td><td>", e->hits[i].score);
		page_text(&p, e->hits[i].detail);
		page_raw(&p, "</td></tr>\n");
	}
	page_raw(&p, "</table>\n<p>");
	csrf = weblink_csrf(r->a, &web_key, r->cookie,
	    arena_printf(r->a, "admin:%s", who), e->id);
	if (e->released == 0)
		admin_form(&p, "/admin/release", "Release to its recipients",
		    e->id, csrf);
	admin_form(&p, "/admin/delete", "Delete", e->id, csrf);
	page_raw(&p, "</p>\n<p><a href=\"/admin\">Back to the list</a></p>\n");
	web_preview(&p, q, e);
	quarantine_close(&q);
	return web_reply_page(r, MHD_HTTP_OK, &p);
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
		return web_reply_msg(r, MHD_HTTP_BAD_REQUEST, "Bad request",
		    "Give a quarantine id.");
	if (!web_post_check(r, rq, arena_printf(r->a, "admin:%s", who), id, &rc))
		return rc;
	if ((q = web_store_open(r, &err)) == NULL)
		return web_reply_store_error(r, err);
	if ((e = quarantine_get(q, id)) == NULL) {
		quarantine_close(&q);
		return web_reply_msg(r, MHD_HTTP_NOT_FOUND, "Not found", "No such "
		    "entry in the quarantine.");
	}
	if (strcmp(what, "delete") == 0) {
		ok = quarantine_delete_by(q, id, arena_printf(r->a,
		    "web (admin %s)", who));
		if (!ok)
			err = quarantine_error(q);
	} else if (e->released != 0) {
		quarantine_close(&q);
		return web_reply_msg(r, MHD_HTTP_CONFLICT, "Already released",
		    "This message was already released (vigilctl quarantine "
		    "release --force sends it again).");
	} else
		ok = release_send(r->a, q, e, NULL, 0, &err);
	log_sys(ok ? LOG_NOTICE : LOG_ERR, "web: action=%s id=%s by=admin:%s "
	    "client=%s%s%s", what, id, who, r->client, ok ? "" : " error=",
	    ok ? "" : err);
	quarantine_close(&q);
	if (!ok)
		return web_reply_msg(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Failed",
		    err);
	return web_reply_msg(r, MHD_HTTP_OK, "Done", strcmp(what, "delete") == 0 ?
	    "Deleted." : "Released to its recipients.");
}


enum MHD_Result
web_admin(struct ans *r, const char *url, bool is_post, const struct req *rq)
{
	const char *who;

	if (cfg_str(web_cfg, "WebAdminPasswordFile") == NULL)
		return web_reply_msg(r, MHD_HTTP_NOT_FOUND, "Not found",
		    "No such page.");
	if ((who = admin_auth(r)) == NULL)
		return web_reply_msg(r, MHD_HTTP_UNAUTHORIZED, "Sign in",
		    "This page needs the admin's name and password.");
	if (!is_post && strcmp(url, "/admin") == 0)
		return admin_list(r, who);
	if (!is_post && strcmp(url, "/admin/m") == 0)
		return admin_show(r, who);
	if (is_post && strcmp(url, "/admin/release") == 0)
		return admin_action(r, rq, who, "release");
	if (is_post && strcmp(url, "/admin/delete") == 0)
		return admin_action(r, rq, who, "delete");
	return web_reply_msg(r, MHD_HTTP_NOT_FOUND, "Not found",
	    "No such page.");
}
