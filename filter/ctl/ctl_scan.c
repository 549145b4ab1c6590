/*
 * ctl_scan.c - `vigilctl scan`: messages through the same pipeline the
 * milter runs, with every point of the score explained.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <glib.h>

#include "json.h"
#include "checks/auth/auth.h"
#include "checks/bayes/bayes.h"
#include "checks/rules/rules.h"
#include "checks/rules/rules_check.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "verdict.h"
#include "ctl/vigilctl.h"
#include "ctl/ctl_help.h"

/* s[0..n) with control bytes and DEL as \xHH: values come from mail. */
static void
put_safe(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* The character a JSON escape \c stands for (\u aside). */
static char
json_unescape(char c)
{
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'b': return '\b';
	case 'f': return '\f';
	default: return c;	/* \" \\ \/ */
	}
}

/*
 * Prints the JSON value at p the way a person reads it: a string without
 * quotes or escapes, an object as "key=value ..." (null members left
 * out), anything else as written.  Checks store flat values (msg.h);
 * returns the end of the value.
 */
static const char *
put_json_human(const char *p)
{
	bool first = true;
	const char *q;

	while (*p == ' ')
		p++;
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			char c = *p;

			if (c == '\\' && p[1] != '\0') {
				c = *++p;
				if (c != 'u')
					c = json_unescape(c);
				else if (strnlen(p, 5) == 5) {
					char hex[5], buf[8];
					gunichar u;
					size_t n;

					memcpy(hex, p + 1, 4);
					hex[4] = '\0';
					u = (gunichar)strtoul(hex, NULL, 16);
					p += 4;
					n = (size_t)g_unichar_to_utf8(u, buf);
					if (u < 0x20 || u == 0x7f)
						printf("\\x%02x", (unsigned)u);
					else
						fwrite(buf, 1, n, stdout);
					continue;
				}
			}
			put_safe(&c, 1);
		}
		return *p == '"' ? p + 1 : p;
	}
	if (*p == '{') {
		for (p++; *p != '\0' && *p != '}'; ) {
			const char *k = p;

			if (*p == ',' || *p == ' ') {
				p++;
				continue;
			}
			/* "key": */
			if (*k != '"' || (q = strchr(k + 1, '"')) == NULL)
				break;
			p = q + 1;
			while (*p == ' ' || *p == ':')
				p++;
			if (strncmp(p, "null", 4) == 0) {
				p += 4;
				continue;
			}
			printf("%s", first ? "" : "; ");
			first = false;
			put_safe(k + 1, (size_t)(q - k - 1));
			putchar('=');
			p = put_json_human(p);
		}
		return *p == '}' ? p + 1 : p;
	}
	for (q = p; *q != '\0' && *q != ',' && *q != '}' && *q != ' '; q++)
		;
	put_safe(p, (size_t)(q - p));
	return q;
}

/* One field of the checks ("av", "bayes", ...) as a labelled line. */
static void
print_field(const char *k, const char *json)
{
	printf("  ");
	put_safe(k, strlen(k));
	if (strcmp(k, "bayes") == 0) {
		/* The probability, or why there is none (a hit says). */
		if (strcmp(json, "null") == 0)
			printf(": no spam probability (store not ready or "
			    "unavailable, see BAYES_ hits)\n");
		else
			printf(": spam probability %s\n", json);
		return;
	}
	printf(": ");
	if (strcmp(json, "null") == 0)
		printf("-");
	else
		put_json_human(json);
	putchar('\n');
}

/*
 * Why the content checks did not run on m, or NULL when they did: the
 * same conditions as pipeline.c's skip_content(), in words (arena text).
 */
static const char *
skip_reason(struct msg *m)
{
	const struct snap_core *k = snap_core(msg_snap(m));

	if (k->skip_trusted && msg_auth_user(m) != NULL)
		return arena_printf(msg_arena(m), "authenticated sender (SMTP "
		    "AUTH %s; SkipTrusted yes)", msg_auth_user(m));
	if (k->skip_trusted && msg_is_trusted(m))
		return arena_printf(msg_arena(m), "trusted client %s "
		    "(TrustedNetworks; SkipTrusted yes)", msg_client_addr(m));
	if (msg_is_oversize(m) && !msg_is_truncated(m))
		return arena_printf(msg_arena(m), "over MaxScanSize (%zu "
		    "bytes; OversizeAction %s)", k->max_scan_size,
		    k->oversize_action == ACTION_TEMPFAIL ? "tempfail" :
		    "accept");
	return NULL;
}

/* The rules check's hit of rule name in res, or NULL. */
static const struct rules_hit *
rules_hit_of(const struct rules_result *res, const char *name)
{
	for (size_t i = 0; res != NULL && i < res->nhits; i++)
		if (strcmp(res->hits[i].rule->name, name) == 0)
			return &res->hits[i];
	return NULL;
}

/* A rule hit's own words: where and what it matched. */
static void
put_rule_match(const struct rules_hit *rh)
{
	if (rh->where[0] != '\0')
		printf(": ");
	put_safe(rh->where, strlen(rh->where));
	if (rh->match[0] != '\0') {
		printf(": \"");
		put_safe(rh->match, strlen(rh->match));
		putchar('"');
	}
}

#define EXPR_SHOWN	60	/* bytes of a meta expression on the hit's line */
#define BAYES_SHOWN	10	/* --explain: Bayes tokens shown each way */

/*
 * What a hit of the rules check rests on when its detail is empty: a
 * meta rule, its expression and the sub-rules that hit; a negated header
 * rule, the pattern the header did not match.  With explain, a rule's describe text and
 * a meta rule's expression and every sub-rule, hit or not, on lines of
 * their own.
 */
static void
print_rule_why(const struct rules_result *res, const struct hit *h,
    bool explain)
{
	const struct rules_hit *rh = rules_hit_of(res, h->name);
	const struct rule *r = rh != NULL ? rh->rule : NULL;
	const char *const *deps = NULL;
	size_t nd = 0;

	if (r == NULL)
		return;
	if (r->meta != NULL)
		nd = meta_deps(r->meta, &deps);
	if (h->detail[0] == '\0' && r->meta != NULL && r->expr != NULL) {
		unsigned shown = 0;
		size_t len = strlen(r->expr);

		printf("meta ");
		put_safe(r->expr, len > EXPR_SHOWN ? EXPR_SHOWN : len);
		if (len > EXPR_SHOWN)
			printf("...");
		for (size_t k = 0; k < nd; k++)
			if (rules_hit_of(res, deps[k]) != NULL)
				printf("%s %s", shown++ ? "," : "; hit:",
				    deps[k]);
	} else if (r->is_neg && r->hdr != NULL && r->pattern != NULL) {
		/* The detail names the header, when there is one. */
		if (h->detail[0] == '\0')
			put_safe(r->hdr, strlen(r->hdr));
		printf(" does not match /");
		put_safe(r->pattern, strlen(r->pattern));
		putchar('/');
	}
	putchar('\n');
	if (!explain)
		return;
	if (r->describe != NULL) {
		printf("           describe: ");
		put_safe(r->describe, strlen(r->describe));
		putchar('\n');
	}
	if (r->expr != NULL) {
		printf("           meta: ");
		put_safe(r->expr, strlen(r->expr));
		putchar('\n');
	}
	for (size_t k = 0; k < nd; k++) {
		const struct rules_hit *d = rules_hit_of(res, deps[k]);

		printf("             %-26s ", deps[k]);
		if (d == NULL)
			printf("no hit\n");
		else {
			printf("hit");
			put_rule_match(d);
			putchar('\n');
		}
	}
}

static void
print_human(const char *file, struct msg *m, const struct verdict *v, double ms,
    bool explain)
{
	size_t n = msg_hit_count(m);
	const char *skipped = skip_reason(m);
	const struct rules_result *res = rules_result(m);

	printf("%s: %s score=%.1f required=%.1f (%.2f ms)\n", file,
	    action_name(v->action), v->score, v->required, ms);
	if (skipped != NULL) {
		printf("  content checks skipped: ");
		put_safe(skipped, strlen(skipped));
		putchar('\n');
	}
	if (v->action == ACTION_REJECT || v->action == ACTION_TEMPFAIL)
		printf("  reply: %s %s %s\n", v->rcode, v->xcode, v->text);
	for (size_t i = 0; i < n; i++) {
		const struct hit *h = msg_hit(m, i);

		printf("  %6.1f %-28s %s", h->score, h->name, h->detail);
		if (res != NULL && rules_hit_of(res, h->name) != NULL)
			print_rule_why(res, h, explain);
		else
			putchar('\n');
	}
	if (n == 0)
		printf("  (no hits)\n");
	for (size_t i = 0; i < msg_field_count(m); i++) {
		const char *k, *j;

		msg_field(m, i, &k, &j);
		print_field(k, j);
	}
	if (explain)
		ctl_scan_bayes_human(m, BAYES_SHOWN);
}

static void
print_json(const char *file, struct msg *m, const struct verdict *v, double ms,
    bool explain)
{
	printf("{\"file\":");
	json_put_string(stdout, file);
	printf(",\"action\":\"%s\",\"score\":%.2f,\"required\":%.2f,",
	    action_name(v->action), v->score, v->required);
	printf("\"skipped\":");
	if (skip_reason(m) != NULL)
		json_put_string(stdout, skip_reason(m));
	else
		printf("null");
	printf(",\"hits\":[");
	for (size_t i = 0; i < msg_hit_count(m); i++) {
		const struct hit *h = msg_hit(m, i);

		printf("%s{\"name\":", i ? "," : "");
		json_put_string(stdout, h->name);
		printf(",\"score\":%.2f,\"detail\":", h->score);
		json_put_string(stdout, h->detail);
		printf("}");
	}
	printf("]");
	if (v->action == ACTION_REJECT || v->action == ACTION_TEMPFAIL) {
		printf(",\"reply\":");
		json_put_string(stdout, v->text);
		printf(",\"rcode\":\"%s\",\"xcode\":\"%s\"", v->rcode, v->xcode);
	}
	for (size_t i = 0; i < msg_field_count(m); i++) {
		const char *k, *j;

		msg_field(m, i, &k, &j);
		printf(",");
		json_put_string(stdout, k);
		printf(":%s", j);
	}
	printf(",\"versions\":%s", verdict_versions_json(m, v));
	printf(",\"shadow\":[");
	for (size_t i = 0; i < msg_shadow_hit_count(m); i++) {
		printf("%s", i ? "," : "");
		json_put_string(stdout, msg_shadow_hit(m, i));
	}
	printf("]");
	if (explain) {
		printf(",\"bayes_tokens\":");
		ctl_scan_bayes_json(m, BAYES_SHOWN);
	}
	printf(",\"elapsed_ms\":%.3f}\n", ms);
}

/*
 * An incoming header field the milter removes as one of ours, forged by
 * the sender (milter.c's is_our_name() and is_forged()): X-Spam-*,
 * X-Virus-*, X-Vigil-Scan and X-Vigil-Release, and Authentication-Results
 * naming our authserv-id.
 */
static bool
is_forged_field(struct msg *m, const char *name, const char *value)
{
	if (util_has_prefix_ci(name, "X-Spam-") ||
	    util_has_prefix_ci(name, "X-Virus-") ||
	    strcasecmp(name, "X-Vigil-Scan") == 0 ||
	    strcasecmp(name, "X-Vigil-Release") == 0)
		return true;
	return strcasecmp(name, "Authentication-Results") == 0 &&
	    authres_names_id(value, snap_core(msg_snap(m))->authserv_id);
}

/* "Name: value" and the line end the message uses. */
static void
put_field(const char *name, const char *value, const char *eol)
{
	put_safe(name, strlen(name));
	fputs(": ", stdout);
	put_safe(value, strlen(value));
	fputs(eol, stdout);
}

/*
 * --headers (-t): the message as the milter would have it delivered,
 * as spamassassin -t prints it: our incoming look-alikes removed,
 * Authentication-Results on top, the other headers we add (X-Spam-Flag,
 * -Score, -Status, ...) after the message's own, the subject rewritten.
 * The order of milter.c's apply_headers().
 */
static void
print_delivered(struct msg *m, const struct verdict *v,
    const unsigned char *data, size_t len)
{
	const char *p = (const char *)data, *end = p + len, *eol = "\n";
	const char *n, *val, *body;
	bool subject_done = false;
	size_t i;

	/* Drop an mbox "From " line, as scan_buffer() does. */
	if (len >= 5 && memcmp(p, "From ", 5) == 0) {
		const char *nl = memchr(p, '\n', len);

		p = nl != NULL ? nl + 1 : end;
	}
	if ((n = memchr(p, '\n', (size_t)(end - p))) != NULL && n > p &&
	    n[-1] == '\r')
		eol = "\r\n";
	for (i = 0; i < msg_header_out_count(m); i++) {
		msg_header_out(m, i, &n, &val);
		if (strcasecmp(n, "Authentication-Results") == 0)
			put_field(n, val, eol);
	}
	/* The message's header, field by field (continuation lines kept). */
	while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end &&
	    p[1] == '\n')) {
		const char *f = p, *colon;
		char *name, *value;

		do {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			p = nl != NULL ? nl + 1 : end;
		} while (p < end && (*p == ' ' || *p == '\t'));
		colon = memchr(f, ':', (size_t)(p - f));
		name = g_strndup(f, colon != NULL ? (size_t)(colon - f) : 0);
		value = g_strndup(colon != NULL ? colon + 1 : f,
		    colon != NULL ? (size_t)(p - colon - 1) : 0);
		g_strstrip(name);
		g_strstrip(value);
		if (colon != NULL && is_forged_field(m, name, value)) {
			/* removed */
		} else if (colon != NULL && v->new_subject != NULL &&
		    !subject_done && strcasecmp(name, "Subject") == 0) {
			put_field(name, v->new_subject, eol);
			subject_done = true;
		} else
			fwrite(f, 1, (size_t)(p - f), stdout);
		g_free(name);
		g_free(value);
	}
	body = p;
	for (i = 0; i < msg_header_out_count(m); i++) {
		msg_header_out(m, i, &n, &val);
		if (strcasecmp(n, "Authentication-Results") != 0)
			put_field(n, val, eol);
	}
	if (v->add_spam_headers) {
		char score[32];

		snprintf(score, sizeof(score), "%.1f", v->score);
		if (v->is_spam)
			put_field("X-Spam-Flag", "YES", eol);
		put_field("X-Spam-Score", score, eol);
		put_field("X-Spam-Status", v->status, eol);
	}
	if (v->new_subject != NULL && !subject_done)
		put_field("Subject", v->new_subject, eol);
	if (body < end)
		fwrite(body, 1, (size_t)(end - body), stdout);
	else
		fputs(eol, stdout);
}

struct scan_ctx {
	struct snap		*snap;
	const struct scan_env	*env;
	bool			 json;
	bool			 check;		/* --check: one line, spamc -c */
	bool			 headers;	/* --headers: the message out */
	bool			 explain;	/* --explain: describe, metas */
	unsigned		 njunk;		/* inputs that are not mail */
	unsigned		 nspam;		/* verdicts with is_spam */
};

/* One message of a path (ctl_read_messages). */
static int
scan_one(void *arg, const char *name, const unsigned char *data, size_t len)
{
	struct scan_ctx *ctx = arg;
	const struct verdict *v;
	const char *why;
	struct msg *m;

	if ((why = ctl_not_mail(data, len)) != NULL) {
		fprintf(stderr, "vigilctl scan: %s: not mail: %s; not "
		    "scanned\n", name, why);
		ctx->njunk++;
		return 0;
	}
	m = scan_buffer(ctx->snap, ctx->env, data, len, "ctl", &v);
	if (v->is_spam)
		ctx->nspam++;
	if (ctx->headers) {
		if (v->action != ACTION_ACCEPT && v->action != ACTION_TAG)
			fprintf(stderr, "vigilctl scan: %s: %s: the milter "
			    "would not deliver it%s%s%s\n", name,
			    action_name(v->action),
			    v->text != NULL ? " (" : "",
			    v->text != NULL ? v->text : "",
			    v->text != NULL ? ")" : "");
		print_delivered(m, v, data, len);
	} else if (ctx->check) {
		/* spamc -c prints "SCORE/REQUIRED"; the name and action
		 * tell several messages apart. */
		printf("%s: %.1f/%.1f %s\n", name, v->score, v->required,
		    action_name(v->action));
	} else if (ctx->json)
		print_json(name, m, v, msg_elapsed_ms(m), ctx->explain);
	else
		print_human(name, m, v, msg_elapsed_ms(m), ctx->explain);
	msg_end(&m);
	return 0;
}

int
ctl_scan(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "check", no_argument, NULL, 'c' },
		{ "headers", no_argument, NULL, 't' },
		{ "explain", no_argument, NULL, 'e' },
		{ "ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'H' },
		{ "from", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "auth", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct scan_env env = { 0 };
	const char **rcpts = calloc((size_t)argc + 1, sizeof(char *));
	struct scan_ctx ctx = { 0 };
	bool json = false, check = false, headers = false, explain = false;
	struct snap *s;
	unsigned nerrors = 0;
	int ch, rc = 0;

	if (rcpts == NULL)
		return EX_OSERR;
	if (ctl_wants_help(argc, argv, argc)) {
		ctl_help_command("scan", stdout);
		free(rcpts);
		return 0;
	}
	while ((ch = getopt_long(argc, argv, "t", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': json = true; break;
		case 'c': check = true; break;
		case 't': headers = true; break;
		case 'e': explain = true; break;
		case 'i': env.client_addr = optarg; break;
		case 'H': env.helo = optarg; break;
		case 'f': env.mail_from = optarg; break;
		case 'r': rcpts[env.nrcpts++] = optarg; break;
		case 'a': env.auth_user = optarg; break;
		default:
			ctl_help_usage("scan", stderr);
			free(rcpts);
			return EX_USAGE;
		}
	}
	env.rcpts = rcpts;
	if (json + check + headers > 1) {
		fprintf(stderr, "vigilctl scan: one of --json, --check and "
		    "--headers\n");
		ctl_help_usage("scan", stderr);
		free(rcpts);
		return EX_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "vigilctl scan: no message given (use - for stdin)\n");
		free(rcpts);
		return EX_USAGE;
	}
	if ((s = ctl_snap(o)) == NULL) {
		free(rcpts);
		return EX_CONFIG;
	}
	ctx.snap = s;
	ctx.env = &env;
	ctx.json = json;
	ctx.check = check;
	ctx.headers = headers;
	ctx.explain = explain;
	for (int i = optind; i < argc; i++)
		(void)ctl_read_messages("vigilctl scan", argv[i], scan_one,
		    &ctx, &nerrors);	/* scan_one never stops the walk */
	if (nerrors > 0)
		rc = EX_NOINPUT;
	else if (ctx.njunk > 0)
		rc = EX_DATAERR;
	else if (check && ctx.nspam > 0)
		rc = 1;
	fflush(stdout);
	snap_unref(&s);
	free(rcpts);
	return rc;
}
