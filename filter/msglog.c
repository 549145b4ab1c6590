/*
 * msglog.c - see msglog.h.  Builds each record from the message and its
 * verdict; lib/log.c owns the file.
 *
 * A JSON record holds what the verdict line says and what "where is my
 * mail?" needs besides:
 *   time, ts         ISO 8601 UTC and seconds since the epoch
 *   session, queue_id, stage ("mail": refused at MAIL FROM; "data")
 *   action           what was done: accept, tag, quarantine, reject,
 *                    tempfail (a quarantine that could not be stored)
 *   verdict          the verdict's action
 *   score, required, reason, client_name, client_addr, helo, from, rcpts
 *   size, message_id, subject, hits {NAME: points}, shadow [NAME...]
 *   reply {code, xcode, text} for reject and tempfail
 *   headers {NAME: value} added to delivered mail, subject_new
 *   quarantine       the entry id ("hold": Postfix's hold queue)
 *   release          the entry id when this is a released copy
 *   failures [CHECK...], the extra fields checks set (bayes, av, ...),
 *   version, versions {...}, ms
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <glib.h>

#include "cfg.h"
#include "json.h"
#include "lib/log.h"
#include "msg.h"
#include "msglog.h"
#include "verdict.h"

int
msglog_open(const struct cfg *cfg, char **err_r)
{
	const char *path = cfg_str(cfg, "LogFile");

	if (path == NULL)
		return 0;
	if (log_file_open(path) < 0) {
		if (asprintf(err_r, "LogFile %s: open: %s", path,
		    strerror(errno)) < 0)
			*err_r = NULL;
		return -1;
	}
	return 0;
}

/* A header value without the space after the colon and the folding. */
static const char *
trimmed(struct msg *m, const char *s)
{
	char *t;

	if (s == NULL)
		return NULL;
	t = arena_strdup(msg_arena(m), s);
	g_strdelimit(t, "\r\n", ' ');
	return g_strstrip(t);
}

static bool
is_json(struct msg *m)
{
	return strcasecmp(cfg_enum_str(snap_cfg(msg_snap(m)), "LogFormat"),
	    "json") == 0;
}

static void
put_str(GString *o, struct msg *m, const char *key, const char *val)
{
	g_string_append_printf(o, ",\"%s\":%s", key, val != NULL ?
	    json_string(msg_arena(m), val) : "null");
}

/* The opening fields every record has. */
static void
put_head(GString *o, struct msg *m, const char *stage, enum verdict_action done)
{
	struct timespec ts;
	struct tm tm;
	char when[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	g_string_append_printf(o, "{\"time\":\"%s.%03ldZ\",\"ts\":%lld.%03ld",
	    when, ts.tv_nsec / 1000000, (long long)ts.tv_sec,
	    ts.tv_nsec / 1000000);
	put_str(o, m, "session", msg_session_id(m));
	put_str(o, m, "queue_id", msg_queue_id(m));
	put_str(o, m, "stage", stage);
	put_str(o, m, "action", action_name(done));
	put_str(o, m, "client_name", msg_client_name(m));
	put_str(o, m, "client_addr", msg_client_addr(m));
	put_str(o, m, "helo", msg_helo(m));
	put_str(o, m, "from", msg_mail_from(m));
	g_string_append(o, ",\"rcpts\":[");
	for (size_t i = 0; i < msg_rcpt_count(m); i++) {
		if (i)
			g_string_append_c(o, ',');
		g_string_append(o, json_string(msg_arena(m), msg_rcpt(m, i)));
	}
	g_string_append_c(o, ']');
}

static void
put_reply(GString *o, struct msg *m, const char *rcode, const char *xcode,
    const char *text)
{
	g_string_append(o, ",\"reply\":{");
	g_string_append_printf(o, "\"code\":%s", json_string(msg_arena(m),
	    rcode ? rcode : ""));
	put_str(o, m, "xcode", xcode ? xcode : "");
	put_str(o, m, "text", text ? text : "");
	g_string_append_c(o, '}');
}

static void
put_failures(GString *o, struct msg *m)
{
	g_string_append(o, ",\"failures\":[");
	for (size_t i = 0; msg_failure_check(m, i) != NULL; i++) {
		if (i)
			g_string_append_c(o, ',');
		g_string_append(o, json_string(msg_arena(m),
		    msg_failure_check(m, i)));
	}
	g_string_append_c(o, ']');
}

static void
emit(GString *o)
{
	log_file_write(o->str, o->len);
	g_string_free(o, TRUE);
}

/* The text record: the verdict line's fields, with a time stamp. */
static void
text_record(struct msg *m, const char *stage, enum verdict_action done,
    double score, double required, const char *reason, const char *extra)
{
	GString *o = g_string_new(NULL);
	char from[256], mid[256];
	struct timespec ts;
	struct tm tm;
	char when[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	log_escape(from, sizeof(from), msg_mail_from(m), 200);
	log_escape(mid, sizeof(mid), strcmp(stage, "mail") == 0 ? NULL :
	    trimmed(m, msg_hdr_raw(m, "Message-ID")), 200);
	g_string_append_printf(o, "%s s=%s q=%s verdict=%s stage=%s "
	    "score=%.1f/%.1f client=%s[%s] from=<%s> rcpts=%zu reason=%s "
	    "message-id=\"%s\"", when, msg_session_id(m), msg_queue_id(m),
	    action_name(done), stage, score, required,
	    msg_client_name(m) ? msg_client_name(m) : "unknown",
	    msg_client_addr(m) ? msg_client_addr(m) : "unknown", from,
	    msg_rcpt_count(m), reason ? reason : "-", mid);
	for (size_t i = 0; i < msg_hit_count(m); i++)
		g_string_append_printf(o, "%s%s=%.1f", i ? "," : " hits=",
		    msg_hit(m, i)->name, msg_hit(m, i)->score);
	if (extra != NULL)
		g_string_append(o, extra);
	g_string_append_printf(o, " ms=%.1f", msg_elapsed_ms(m));
	emit(o);
}

void
msglog_verdict(struct msg *m, const struct verdict *v,
    enum verdict_action done, const char *extra)
{
	struct arena *a = msg_arena(m);
	const struct mview *view;
	GString *o;
	const char *q = NULL;

	if (!log_file_is_open())
		return;
	if (!is_json(m)) {
		text_record(m, "data", done, v->score, v->required, v->reason,
		    extra);
		return;
	}
	o = g_string_new(NULL);
	put_head(o, m, "data", done);
	put_str(o, m, "verdict", action_name(v->action));
	g_string_append_printf(o, ",\"score\":%.2f,\"required\":%.2f",
	    v->score, v->required);
	put_str(o, m, "reason", v->reason);
	g_string_append_printf(o, ",\"size\":%zu", msg_size(m));
	put_str(o, m, "message_id", trimmed(m, msg_hdr_raw(m, "Message-ID")));
	view = msg_view(m);
	put_str(o, m, "subject", view != NULL ? view->subject :
	    trimmed(m, msg_hdr_raw(m, "Subject")));
	g_string_append(o, ",\"hits\":{");
	for (size_t i = 0; i < msg_hit_count(m); i++)
		g_string_append_printf(o, "%s%s:%.2f", i ? "," : "",
		    json_string(a, msg_hit(m, i)->name), msg_hit(m, i)->score);
	g_string_append(o, "},\"shadow\":[");
	for (size_t i = 0; i < msg_shadow_hit_count(m); i++)
		g_string_append_printf(o, "%s%s", i ? "," : "",
		    json_string(a, msg_shadow_hit(m, i)));
	g_string_append_c(o, ']');
	if (done == ACTION_REJECT || done == ACTION_TEMPFAIL) {
		if (done == v->action)
			put_reply(o, m, v->rcode, v->xcode, v->text);
		else
			put_reply(o, m, "451", "4.3.0", "Message could not be "
			    "stored, try again later");
	}
	if (done == ACTION_ACCEPT || done == ACTION_TAG) {
		const char *n, *val;

		g_string_append(o, ",\"headers\":{");
		for (size_t i = 0; i < msg_header_out_count(m); i++) {
			msg_header_out(m, i, &n, &val);
			g_string_append_printf(o, "%s%s:%s", i ? "," : "",
			    json_string(a, n), json_string(a, val));
		}
		if (v->add_spam_headers) {
			const char *sep = msg_header_out_count(m) ? "," : "";

			if (v->is_spam) {
				g_string_append_printf(o, "%s\"X-Spam-Flag\":"
				    "\"YES\"", sep);
				sep = ",";
			}
			g_string_append_printf(o, "%s\"X-Spam-Score\":\"%.1f\","
			    "\"X-Spam-Status\":%s", sep, v->score,
			    json_string(a, v->status));
		}
		g_string_append_c(o, '}');
		if (v->new_subject != NULL)
			put_str(o, m, "subject_new", v->new_subject);
	}
	if (extra != NULL && (q = strstr(extra, "quarantine=")) != NULL)
		put_str(o, m, "quarantine", q + strlen("quarantine="));
	if (msg_pass(m) != NULL && strncmp(msg_pass(m), "released ", 9) == 0)
		put_str(o, m, "release", msg_pass(m) + 9);
	put_failures(o, m);
	for (size_t i = 0; i < msg_field_count(m); i++) {
		const char *k, *json;

		msg_field(m, i, &k, &json);
		g_string_append_printf(o, ",%s:%s", json_string(a, k), json);
	}
	put_str(o, m, "version", v->version);
	g_string_append_printf(o, ",\"versions\":%s,\"ms\":%.1f}",
	    verdict_versions_json(m, v), msg_elapsed_ms(m));
	emit(o);
}

void
msglog_refused(struct msg *m, enum verdict_action done, const char *rcode,
    const char *xcode, const char *text, const char *reason)
{
	GString *o;

	if (!log_file_is_open())
		return;
	if (!is_json(m)) {
		text_record(m, "mail", done, 0, 0, reason, NULL);
		return;
	}
	o = g_string_new(NULL);
	put_head(o, m, "mail", done);
	put_str(o, m, "verdict", action_name(done));
	put_str(o, m, "reason", reason);
	g_string_append(o, ",\"hits\":{");
	for (size_t i = 0; i < msg_hit_count(m); i++)
		g_string_append_printf(o, "%s%s:%.2f", i ? "," : "",
		    json_string(msg_arena(m), msg_hit(m, i)->name),
		    msg_hit(m, i)->score);
	g_string_append_c(o, '}');
	/* The defaults the milter answers with. */
	put_reply(o, m, rcode ? rcode : done == ACTION_REJECT ? "550" : "451",
	    xcode ? xcode : done == ACTION_REJECT ? "5.7.1" : "4.7.1",
	    text ? text : "Sender refused");
	put_failures(o, m);
	g_string_append_printf(o, ",\"ms\":%.1f}", msg_elapsed_ms(m));
	emit(o);
}
