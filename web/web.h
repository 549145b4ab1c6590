/*
 * web.h - what the parts of vigil-web share: the request being answered,
 * the answer helpers (every answer carries the security headers), and
 * the pages of users (user.c) and of the admin (admin.c).  One thread
 * serves every request (vigil-web.c), so nothing here is locked.
 */
#ifndef VIGIL_WEB_H
#define VIGIL_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "quarantine/weblink.h"

struct arena;
struct cfg;
struct page;
struct qentry;
struct qstore;

#define FIELD_MAX	400

/* The configuration and the link key, loaded once at startup. */
extern struct cfg *web_cfg;
extern struct weblink_key web_key;

/* The form fields a POST may carry. */
enum { F_R, F_ID, F_X, F_S, F_CSRF, NFIELD };

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

/* Queues body (malloc'd; freed by MHD, or here on failure). */
enum MHD_Result	 web_reply(struct ans *, unsigned status, const char *ctype,
		    char *body, size_t len);
/* Ends p and queues it as HTML. */
enum MHD_Result	 web_reply_page(struct ans *, unsigned status, struct page *);
/* A short page of ours saying why. */
enum MHD_Result	 web_reply_msg(struct ans *, unsigned status,
		    const char *title, const char *text);
/* Logs err and answers 503. */
enum MHD_Result	 web_reply_store_error(struct ans *, const char *err);
/* A query argument (decoded by MHD), or NULL. */
const char	*web_qarg(struct MHD_Connection *, const char *name);
void		 web_time_text(char *buf, size_t sz, int64_t t);
/* The quarantine, opened for this request; NULL with *err_r (in r->a). */
struct qstore	*web_store_open(struct ans *, const char **err_r);
/* The message's text, escaped, at most PREVIEW_MAX bytes. */
void		 web_preview(struct page *, struct qstore *,
		    const struct qentry *);
/* Date, sender, subject, score (and recipients and id for the admin). */
void		 web_meta_table(struct page *, const struct qentry *,
		    bool all_rcpts);
/* A POST's origin, cookie and CSRF token for scope and id; false with
 * the refusal queued in *rc. */
bool		 web_post_check(struct ans *, const struct req *,
		    const char *scope, const char *id, enum MHD_Result *rc);

/* user.c: the pages a digest link opens. */
enum MHD_Result	 web_user_list(struct ans *);
enum MHD_Result	 web_user_show(struct ans *);
enum MHD_Result	 web_user_action(struct ans *, const struct req *,
		    const char *what);

/* admin.c: /admin and below, behind WebAdminPasswordFile. */
enum MHD_Result	 web_admin(struct ans *, const char *url, bool is_post,
		    const struct req *);

#endif
