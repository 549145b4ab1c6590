/*
 * authres.c - the Authentication-Results header (RFC 8601) from what
 * spf.c, dkim.c and dmarc.c found, e.g.
 *
 *   mx.example.com; spf=pass smtp.mailfrom=example.org;
 *    dkim=pass header.d=example.org header.s=sel header.b=abcd1234;
 *    dmarc=pass header.from=example.org
 *
 * Runs last of the three at end of message.  The value is built in one
 * growing buffer and copied to the arena once: re-printing it per
 * signature made it quadratic in the message's arena.  Incoming copies
 * that claim our authserv-id are removed by the milter, not here.
 */
#include <ctype.h>
#include <glib.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfg.h"
#include "check.h"
#include "json.h"
#include "msg.h"
#include "snap.h"
#include "checks/auth/auth.h"
#include "lib/log.h"
#include "lib/util.h"

extern const struct check check_authres;

const struct opt authres_opts[] = {
	{ "AuthResults", OPT_BOOL, "yes", 0, 0, NULL,
	  "Add an Authentication-Results header (RFC 8601) with the SPF, "
	  "DKIM and DMARC results; its authserv-id is AuthservID" },
	{ NULL }
};

struct authres_state {
	bool		 is_enabled;
	char		 authserv[256];
};

/* Skips CFWS (RFC 5322 3.2.2): blanks, line ends, nested comments. */
static const char *
skip_cfws(const char *p)
{
	for (;;) {
		int depth = 0;

		p += strspn(p, " \t\r\n");
		if (*p != '(')
			return p;
		for (; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
		if (depth > 0)
			return p;	/* unclosed: at the end */
	}
}

bool
authres_names_id(const char *value, const char *id)
{
	size_t n = strlen(id);
	const char *p = skip_cfws(value);

	if (*p == '"') {
		/* quoted-string: compare its content, quoted-pairs undone. */
		size_t i = 0;

		for (p++; *p != '"' && *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '\r' || *p == '\n')
				continue;	/* folding inside the quotes */
			if (i >= n || tolower((unsigned char)*p) !=
			    tolower((unsigned char)id[i]))
				return false;
			i++;
		}
		return *p == '"' && i == n;
	}
	/* token (RFC 2045): up to a blank, a control or a tspecial. */
	if (strncasecmp(p, id, n) != 0)
		return false;
	p += n;
	return *p == '\0' || (unsigned char)*p <= 0x20 || *p == 0x7f ||
	    strchr("()<>@,;:\\\"/[]?=", *p) != NULL;
}

/* A property value: as is when it is a plain token, else quoted. */
static const char *
ar_value(struct arena *a, const char *v)
{
	char *out, *q;

	if (v == NULL || *v == '\0')
		return "\"\"";
	for (const char *p = v; ; p++) {
		if (*p == '\0')
			return v;
		if (!isascii((unsigned char)*p) ||
		    (!isalnum((unsigned char)*p) && strchr(".-_@+", *p) == NULL))
			break;
	}
	q = out = arena_alloc(a, strlen(v) * 2 + 3);
	*q++ = '"';
	for (const char *p = v; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			continue;
		if (*p == '"' || *p == '\\')
			*q++ = '\\';
		*q++ = *p;
	}
	*q++ = '"';
	*q = '\0';
	return out;
}

/* " (text)" with what cannot stand in a comment left out; "" for NULL. */
static const char *
ar_comment(struct arena *a, const char *why)
{
	char *out, *q;

	if (why == NULL)
		return "";
	q = out = arena_alloc(a, strlen(why) + 4);
	*q++ = ' ';
	*q++ = '(';
	for (const char *p = why; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f &&
		    strchr("()\\", *p) == NULL)
			*q++ = *p;
	*q++ = ')';
	*q = '\0';
	return out;
}

static void *
authres_setup(struct snap *s, const char **err_r)
{
	struct authres_state *st;
	const char *id = snap_core(s)->authserv_id;

	(void)err_r;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		log_oom(sizeof(*st), "authres state");
	st->is_enabled = cfg_bool(snap_cfg(s), "AuthResults");
	if (id != NULL && *id != '\0')
		snprintf(st->authserv, sizeof(st->authserv), "%s", id);
	else if (gethostname(st->authserv, sizeof(st->authserv) - 1) != 0)
		snprintf(st->authserv, sizeof(st->authserv), "localhost");
	return st;
}

static void
authres_teardown(void *state)
{
	free(state);
}

static enum check_rc
authres_run(void *state, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	struct authres_state *st = state;
	struct arena *a = msg_arena(m);
	const struct auth_spf *spf = auth_spf(m);
	const struct auth_dkim *dk = auth_dkim(m);
	const struct auth_dmarc *dm = auth_dmarc(m);
	GString *g;
	char *v;
	static const char *const pol[] = { "none", "quarantine", "reject" };

	(void)phase;
	if (!st->is_enabled) {
		*why_r = "AuthResults is off";
		return CHECK_SKIP;
	}
	if (spf == NULL && dk == NULL && dm == NULL) {
		*why_r = "no authentication results";
		return CHECK_SKIP;
	}
	g = g_string_new(st->authserv);
	if (spf != NULL) {
		g_string_append_printf(g, "; spf=%s smtp.%s=%s",
		    auth_res_name(spf->result), spf->identity,
		    ar_value(a, spf->domain));
		if (spf->helo_checked)
			g_string_append_printf(g, "; spf=%s smtp.helo=%s",
			    auth_res_name(spf->helo_result),
			    ar_value(a, spf->helo));
	}
	if (dk != NULL && dk->nsigs == 0)
		g_string_append(g, "; dkim=none");
	for (size_t i = 0; dk != NULL && i < dk->nsigs; i++) {
		const struct auth_dkim_sig *s = &dk->sigs[i];

		g_string_append_printf(g, "; dkim=%s%s header.d=%s header.s=%s "
		    "header.a=%s header.b=%s", auth_res_name(s->result),
		    ar_comment(a, s->why), ar_value(a, s->domain),
		    ar_value(a, s->selector), s->algorithm, ar_value(a, s->b));
	}
	if (dm != NULL && dm->from_domain != NULL) {
		if (dm->result == AUTH_FAIL)
			g_string_append_printf(g, "; dmarc=fail (p=%s dis=%s) "
			    "header.from=%s", pol[dm->policy],
			    pol[dm->applied], ar_value(a, dm->from_domain));
		else
			g_string_append_printf(g, "; dmarc=%s header.from=%s",
			    auth_res_name(dm->result),
			    ar_value(a, dm->from_domain));
	}
	v = arena_strndup(a, g->str, g->len);
	g_string_free(g, TRUE);
	msg_add_header_out(m, "Authentication-Results", v);
	msg_set_field(m, "authentication_results", json_string(a, v));
	return CHECK_DONE;
}

const struct check check_authres = {
	.name = "authres",
	.phases = PHASE_EOM,
	.is_content = 0,
	.setup = authres_setup,
	.run = authres_run,
	.teardown = authres_teardown,
};
