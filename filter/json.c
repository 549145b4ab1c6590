/*
 * json.c - see json.h.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "json.h"
#include "lib/arena.h"

static void
escape(GString *o, const char *s)
{
	const char *p = s ? s : "";
	const char *end = p + strlen(p);

	g_string_append_c(o, '"');
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		gunichar u;

		if (c < 0x80) {
			switch (c) {
			case '"': g_string_append(o, "\\\""); break;
			case '\\': g_string_append(o, "\\\\"); break;
			case '\n': g_string_append(o, "\\n"); break;
			case '\r': g_string_append(o, "\\r"); break;
			case '\t': g_string_append(o, "\\t"); break;
			default:
				if (c < 0x20 || c == 0x7f)
					g_string_append_printf(o, "\\u%04x", c);
				else
					g_string_append_c(o, (char)c);
			}
			p++;
			continue;
		}
		u = g_utf8_get_char_validated(p, end - p);
		if (u == (gunichar)-1 || u == (gunichar)-2) {
			g_string_append(o, "\\ufffd");
			p++;
			continue;
		}
		g_string_append_len(o, p, g_utf8_next_char(p) - p);
		p = g_utf8_next_char(p);
	}
	g_string_append_c(o, '"');
}

void
json_put_string(FILE *f, const char *s)
{
	GString *o = g_string_new(NULL);

	escape(o, s);
	fwrite(o->str, 1, o->len, f);
	g_string_free(o, TRUE);
}

char *
json_string(struct arena *a, const char *s)
{
	GString *o = g_string_new(NULL);
	char *r;

	escape(o, s);
	r = arena_strndup(a, o->str, o->len);
	g_string_free(o, TRUE);
	return r;
}
