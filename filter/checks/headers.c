/*
 * checks/headers.c - structural header checks every message gets: the
 * fields RFC 5322 requires (Date, From), a Message-ID, a From that holds
 * an address, and whether the MIME structure could be parsed at all.
 * SpamAssassin's rules name four of these findings alike (MISSING_DATE,
 * MISSING_MID, MISSING_FROM, MISSING_SUBJECT: "the header is absent",
 * the same test): with its rules loaded, the finding here stays the one
 * of that name and keeps its weight (check.h's findings, rules.c).
 */
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "cfg.h"
#include "check.h"
#include "msg.h"

static size_t
count_hdr(const struct mview *v, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < v->nhdrs; i++)
		if (strcasecmp(v->hdrs[i].name, name) == 0)
			n++;
	return n;
}

static const char *
first_hdr(const struct mview *v, const char *name)
{
	for (size_t i = 0; i < v->nhdrs; i++)
		if (strcasecmp(v->hdrs[i].name, name) == 0)
			return v->hdrs[i].value;
	return NULL;
}

/* Does the From value hold exactly parseable mailbox addresses? */
static bool
from_is_valid(const char *value)
{
	InternetAddressList *l;
	bool ok = false;

	if (value == NULL || strchr(value, '@') == NULL)
		return false;
	l = internet_address_list_parse(NULL, value);
	if (l == NULL)
		return false;
	for (int i = 0; i < internet_address_list_length(l); i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr = internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia));
			const char *at = addr ? strchr(addr, '@') : NULL;

			ok = at != NULL && at != addr && at[1] != '\0' &&
			    strchr(at + 1, '@') == NULL;
			if (!ok)
				break;
		}
	}
	g_object_unref(l);
	return ok;
}

static enum check_rc
headers_run(void *state, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	const struct mview *v = msg_view(m);
	const char *from;

	if (v->parse_error)
		msg_add_hit(m, "MIME_PARSE_ERROR", 1.0, "%s; scanned as raw text",
		    v->parse_error_why);
	if (count_hdr(v, "Date") == 0)
		msg_add_hit(m, "MISSING_DATE", 1.4, "no Date header");
	if (count_hdr(v, "Message-ID") == 0)
		msg_add_hit(m, "MISSING_MID", 0.5, "no Message-ID header");
	from = first_hdr(v, "From");
	if (from == NULL)
		msg_add_hit(m, "MISSING_FROM", 2.0, "no From header");
	else if (!from_is_valid(from))
		msg_add_hit(m, "FROM_MALFORMED", 2.0, "From has no valid address");
	if (count_hdr(v, "From") > 1)
		msg_add_hit(m, "MULTIPLE_FROM", 1.5, "%zu From headers",
		    count_hdr(v, "From"));
	if (count_hdr(v, "Subject") == 0)
		msg_add_hit(m, "MISSING_SUBJECT", 0.5, "no Subject header");
	return CHECK_DONE;
}

static const char *const headers_findings[] = {
	"MIME_PARSE_ERROR", "MISSING_DATE", "MISSING_MID", "MISSING_FROM",
	"FROM_MALFORMED", "MULTIPLE_FROM", "MISSING_SUBJECT", NULL
};

const struct check check_headers = {
	.name = "headers",
	.phases = PHASE_EOM,
	.is_content = 1,
	.run = headers_run,
	.findings = headers_findings,
};
