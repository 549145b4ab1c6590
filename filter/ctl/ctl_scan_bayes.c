/*
 * ctl_scan_bayes.c - the Bayes part of `vigilctl scan --explain`: the
 * message's strongest tokens toward spam and toward ham, as the tokenizer
 * made them, each with its probability f(w) and the messages of each
 * class that had it.  The store keeps token hashes only, so the texts
 * come from tokenizing the message again (bayes_explain_msg()); the
 * milter never does that.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/bayes/bayes.h"
#include "json.h"
#include "msg.h"

/* s with control bytes and DEL as \xHH: token texts come from mail. */
static void
put_safe(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* Whether the Bayes check ran on m (it sets the "bayes" field). */
static bool
bayes_ran(struct msg *m)
{
	for (size_t i = 0; i < msg_field_count(m); i++) {
		const char *k, *j;

		msg_field(m, i, &k, &j);
		if (strcmp(k, "bayes") == 0)
			return true;
	}
	return false;
}

static void
put_side(const char *title, const struct bayes_tok_why *w, size_t n)
{
	printf("    toward %s:%s\n", title, n == 0 ? " none" : "");
	for (size_t i = 0; i < n; i++) {
		printf("      %.4f  spam %-6u ham %-6u %s ", w[i].fw,
		    (unsigned)w[i].spam, (unsigned)w[i].ham,
		    w[i].is_header ? "hdr " : "body");
		put_safe(w[i].text != NULL ? w[i].text : "?");
		putchar('\n');
	}
}

void
ctl_scan_bayes_human(struct msg *m, size_t max)
{
	struct bayes_explain ex;
	char	*err = NULL;

	if (bayes_explain_msg(m, max, &ex, &err) == -1) {
		printf("  bayes tokens: none (");
		put_safe(err);
		printf(")\n");
		free(err);
		return;
	}
	if (ex.learned_spam == 0 || ex.learned_ham == 0) {
		printf("  bayes tokens: none (the store has learned %llu spam "
		    "and %llu ham; it needs both)\n",
		    (unsigned long long)ex.learned_spam,
		    (unsigned long long)ex.learned_ham);
		return;
	}
	if (!bayes_ran(m))
		printf("  bayes tokens: the check did not run on this message; "
		    "what it would have weighed:\n");
	printf("  bayes tokens: %zu of the message's %zu known to the store "
	    "(%llu spam, %llu ham learned), P=%.4f, logit %.2f; the "
	    "strongest, f(w):\n", ex.nknown, ex.ntoks,
	    (unsigned long long)ex.learned_spam,
	    (unsigned long long)ex.learned_ham, ex.p, ex.logit);
	put_side("spam", ex.spam, ex.nspam);
	put_side("ham", ex.ham, ex.nham);
}

static void
put_json_side(const struct bayes_tok_why *w, size_t n)
{
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"token\":", i ? "," : "");
		json_put_string(stdout, w[i].text != NULL ? w[i].text : "");
		printf(",\"probability\":%.6f,\"spam\":%u,\"ham\":%u,"
		    "\"header\":%s}", w[i].fw, (unsigned)w[i].spam,
		    (unsigned)w[i].ham, w[i].is_header ? "true" : "false");
	}
	putchar(']');
}

void
ctl_scan_bayes_json(struct msg *m, size_t max)
{
	struct bayes_explain ex;
	char	*err = NULL;

	if (bayes_explain_msg(m, max, &ex, &err) == -1) {
		printf("{\"error\":");
		json_put_string(stdout, err);
		printf("}");
		free(err);
		return;
	}
	printf("{\"tokens\":%zu,\"known\":%zu,\"learned_spam\":%llu,"
	    "\"learned_ham\":%llu,\"probability\":%.6f,\"logit\":%.4f,"
	    "\"spam\":", ex.ntoks, ex.nknown,
	    (unsigned long long)ex.learned_spam,
	    (unsigned long long)ex.learned_ham, ex.p, ex.logit);
	put_json_side(ex.spam, ex.nspam);
	printf(",\"ham\":");
	put_json_side(ex.ham, ex.nham);
	printf("}");
}
