/*
 * fuzz_authres.c - the forged-header matcher: does an incoming
 * Authentication-Results value name our authserv-id, as RFC 8601 parses
 * it (CFWS with nested comments first, then a token or a quoted-string,
 * any case)?  The milter removes those that do.  The first input line is
 * the authserv-id, the rest the field's value.  Besides surviving any
 * input in linear time, the answer must not change when more CFWS is put
 * before the value: RFC 8601 allows any amount there.
 */
#include "fuzz.h"

#include <glib.h>

#include "checks/auth/auth.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *nl, *value, *id;
	gchar *more, *ours;
	bool is_ours;

	if ((nl = strchr(text, '\n')) == NULL) {
		id = "mx.example.test";
		value = text;
	} else {
		*nl = '\0';
		id = text;
		value = nl + 1;
	}
	is_ours = authres_names_id(value, id);
	more = g_strdup_printf(" (a (nested) comment)\r\n\t%s", value);
	if (authres_names_id(more, id) != is_ours)
		abort();
	/* A plain authserv-id (a dot-atom, no quote or backslash) followed
	 * by a result is always named. */
	if (*id != '\0' && strspn(id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(id) &&
	    id[0] != '.' && id[0] != '-') {
		ours = g_strdup_printf("%s; spf=pass smtp.mailfrom=a@b.c", id);
		if (!authres_names_id(ours, id))
			abort();
		g_free(ours);
	}
	g_free(more);
	free(text);
	return 0;
}
