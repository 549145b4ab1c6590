/*
 * ctl_help.c - prints the help table (ctl_help_table.c) two ways: as
 * text for `vigilctl help` and `COMMAND --help`, and as the mdoc of
 * vigilctl(8)'s COMMANDS and EXIT STATUS sections, which the build puts
 * into the page (`vigilctl help --mdoc`).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cfg.h"
#include "ctl/ctl_help.h"
#include "ctl/ctl_help_int.h"
#include "ctl/vigilctl.h"

#define WIDTH		78
#define PROG		"vigilctl"
#define GLOBAL_OPTS	"[-c FILE] [-o Keyword=value]..."

/* Does entry e belong to command cmd (its first word)? */
static bool
is_of(const struct ctl_help *e, const char *cmd)
{
	size_t n = strlen(cmd);

	return strncmp(e->cmd, cmd, n) == 0 &&
	    (e->cmd[n] == '\0' || e->cmd[n] == ' ');
}

/* The first word of e's command: "quarantine" of "quarantine list". */
static size_t
group_len(const struct ctl_help *e)
{
	return strcspn(e->cmd, " ");
}

/* Writes text from column col, wrapped at WIDTH, continuation lines
 * indented by indent; ends the line. */
static void
wrap(FILE *out, const char *text, size_t col, size_t indent)
{
	const char *p = text;
	bool first = true;
	int depth = 0;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		/* A word: to a space outside [...], so that an optional
		 * part is not broken. */
		for (n = 0; p[n] != '\0' && (p[n] != ' ' || depth > 0);
		    n++)
			depth += p[n] == '[' ? 1 : p[n] == ']' && depth > 0 ?
			    -1 : 0;
		if (!first && col + 1 + n > WIDTH) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
			first = true;
		}
		if (!first) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, n, out);
		col += n;
		p += n;
		first = false;
	}
	fputc('\n', out);
}

void
ctl_help_usage(const char *cmd, FILE *out)
{
	const char *lead = "usage:";

	for (const struct ctl_help *e = ctl_help_table; e->cmd; e++) {
		size_t col;

		if (!is_of(e, cmd))
			continue;
		col = (size_t)fprintf(out, "%s " PROG " %s", lead, e->cmd);
		if (*e->synopsis != '\0') {
			fputc(' ', out);
			wrap(out, e->synopsis, col + 1, col + 1);
		} else
			fputc('\n', out);
		lead = "      ";
	}
}

bool
ctl_help_has(const char *cmd)
{
	for (const struct ctl_help *e = ctl_help_table; e->cmd; e++)
		if (is_of(e, cmd))
			return true;
	return false;
}

bool
ctl_help_command(const char *cmd, FILE *out)
{
	bool found = false;

	for (const struct ctl_help *e = ctl_help_table; e->cmd; e++)
		found |= is_of(e, cmd);
	if (!found)
		return false;
	ctl_help_usage(cmd, out);
	for (const struct ctl_help *e = ctl_help_table; e->cmd; e++) {
		size_t w = 0;

		if (!is_of(e, cmd))
			continue;
		fputc('\n', out);
		if (strcmp(e->cmd, cmd) != 0) {
			fprintf(out, "  %s: ", e->cmd + strlen(cmd) + 1);
			wrap(out, e->text, 3 + strlen(e->cmd) - strlen(cmd), 4);
		} else {
			fputs("  ", out);
			wrap(out, e->text, 2, 2);
		}
		for (const struct ctl_help_opt *o = e->opts; o->opt; o++)
			if (strlen(o->opt) > w)
				w = strlen(o->opt);
		if (w > 24)
			w = 24;
		for (const struct ctl_help_opt *o = e->opts; o->opt; o++) {
			if (strlen(o->opt) > w) {
				fprintf(out, "    %s\n%*s", o->opt,
				    (int)(w + 6), "");
			} else
				fprintf(out, "    %-*s  ", (int)w, o->opt);
			wrap(out, o->desc, w + 6, w + 6);
		}
	}
	for (const struct ctl_help *e = ctl_help_table; e->cmd; e++)
		if (is_of(e, cmd) && e->exit != NULL) {
			fputs("\nexit status: ", out);
			wrap(out, e->exit, 13, 2);
		}
	return true;
}

void
ctl_help_overview(FILE *out)
{
	fputs("usage: " PROG " " GLOBAL_OPTS " COMMAND [ARGS]\n"
	    "       " PROG " -h|--help | -V|--version | help [COMMAND] | "
	    "COMMAND --help\n"
	    "  -c FILE           configuration (default "
	    SYSCONFDIR "/vigil/vigil.conf)\n"
	    "  -o Keyword=value  override one setting (repeatable)\n"
	    "commands:\n", out);
	for (const struct ctl_help *e = ctl_help_table; e->cmd; e++) {
		GString *s = g_string_new(NULL);

		const struct ctl_help *b;

		g_string_printf(s, "%s%s%s", e->cmd,
		    *e->synopsis != '\0' ? " " : "", e->synopsis);
		fputs("  ", out);
		wrap(out, s->str, 2, 6);
		g_string_free(s, true);
		/* The group's brief, after its last form. */
		if (e[1].cmd != NULL && group_len(e) == group_len(e + 1) &&
		    strncmp(e->cmd, e[1].cmd, group_len(e)) == 0)
			continue;
		for (b = e; b > ctl_help_table && group_len(b - 1) ==
		    group_len(e) && strncmp(b[-1].cmd, e->cmd,
		    group_len(e)) == 0; b--)
			;
		if (b->brief != NULL) {
			fputs("        ", out);
			wrap(out, b->brief, 8, 8);
		}
	}
	{
		GString *s = g_string_new("exit status:");

		for (const struct ctl_help_exit *x = ctl_help_exits;
		    x->meaning; x++)
			g_string_append_printf(s, " %d %s%s", x->code,
			    x->meaning, x[1].meaning != NULL ? "," : "");
		wrap(out, s->str, 0, 2);
		g_string_free(s, true);
	}
	fputs("`" PROG " help COMMAND` says more of each.\n", out);
}

bool
ctl_help_wanted(int argc, char **argv)
{
	bool h_is_help = true;
	int upto = argc;

	for (const struct ctl_help *e = ctl_help_table; e->cmd; e++)
		if (group_len(e) == strlen(argv[0]) &&
		    strncmp(e->cmd, argv[0], group_len(e)) == 0) {
			h_is_help = !e->h_is_option;
			break;
		}
	if (!h_is_help)
		upto = 1;
	return ctl_wants_help(argc, argv, upto);
}

/* ---- mdoc ---- */

/* Escapes what roff would read: a backslash; a leading . or ' is
 * guarded by the caller. */
static void
roff_str(GString *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\')
			g_string_append(s, "\\e");
		else if (p[i] == '-' && (i == 0 || p[i - 1] == '-' ||
		    p[i - 1] == ' '))
			g_string_append(s, "\\-");
		else
			g_string_append_c(s, p[i]);
	}
}

/* Is w (n bytes) one of the entry's argument names (ADDR, PATH)? */
static bool
is_arg(GPtrArray *args, const char *w, size_t n)
{
	for (guint i = 0; i < args->len; i++) {
		const char *a = args->pdata[i];

		if (strlen(a) == n && strncmp(a, w, n) == 0)
			return true;
	}
	return false;
}

static bool
is_upper_word(const char *w, size_t n)
{
	bool letter = false;

	for (size_t i = 0; i < n; i++) {
		if (islower((unsigned char)w[i]))
			return false;
		letter |= isupper((unsigned char)w[i]) != 0;
	}
	return letter;
}

/* The argument names of a synopsis or option: its upper-case words. */
static void
collect_args(GPtrArray *args, const char *syn)
{
	const char *p = syn;

	while (*p != '\0') {
		size_t n = strcspn(p, " []|.");

		if (n > 0 && p[0] != '-' && is_upper_word(p, n) &&
		    !is_arg(args, p, n))
			g_ptr_array_add(args, g_strndup(p, n));
		p += n;
		if (*p != '\0')
			p++;
	}
}

/* A word of usage syntax as mdoc macros: --x Fl, ARG Ar, word Cm. */
static void
syn_word(GString *s, const char *w, size_t n)
{
	size_t dots = 0;

	if (n == 0)
		return;
	if (w[0] == '-' && n > 1) {
		g_string_append(s, " Fl ");
		roff_str(s, w + 1, n - 1);
		return;
	}
	if (n > 3 && strncmp(w + n - 3, "...", 3) == 0 &&
	    is_upper_word(w, n - 3)) {
		n -= 3;
		dots = 3;
	}
	if (is_upper_word(w, n)) {
		g_string_append(s, " Ar ");
		for (size_t i = 0; i < n; i++)
			g_string_append_c(s, (char)tolower((unsigned char)w[i]));
	} else {
		g_string_append(s, " Cm ");
		roff_str(s, w, n);
	}
	if (dots)
		g_string_append(s, " ...");
}

/* Usage syntax as the arguments of a macro line. */
static void
syn_mdoc(GString *s, const char *syn)
{
	const char *p = syn;

	while (*p != '\0') {
		size_t n;

		switch (*p) {
		case ' ': p++; continue;
		case '[': g_string_append(s, " Oo"); p++; continue;
		case ']': g_string_append(s, " Oc"); p++; continue;
		case '|': g_string_append(s, " |"); p++; continue;
		case ',': g_string_append(s, " ,"); p++; continue;
		default: break;
		}
		n = strcspn(p, " []|,");
		syn_word(s, p, n);
		p += n;
	}
}

static void
text_flush(FILE *out, GString *line)
{
	if (line->len == 0)
		return;
	fprintf(out, "%s%s\n", line->str[0] == '.' || line->str[0] == '\''
	    ? "\\&" : "", line->str);
	g_string_truncate(line, 0);
}

/* The punctuation mdoc reads as delimiters around a macro's argument. */
#define OPENING	"(["
#define CLOSING	".,:;)]?!"

/*
 * Plain sentences as mdoc: a sentence a line; --options, the entry's
 * ARGs, configuration keywords and page(N) become Fl, Ar, Cm and Xr.
 */
static void
text_mdoc(FILE *out, const char *text, GPtrArray *args)
{
	GString *line = g_string_new(NULL), *m = g_string_new(NULL);
	const char *p = text;

	while (*p != '\0') {
		size_t n, lead, trail, core;
		const char *w, *c;
		char *name;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		w = p;
		n = strcspn(p, " ");
		p += n;
		for (lead = 0; lead < n && strchr(OPENING, w[lead]); lead++)
			;
		for (trail = 0; trail < n - lead &&
		    strchr(CLOSING, w[n - 1 - trail]); trail++)
			;
		c = w + lead;
		core = n - lead - trail;
		g_string_truncate(m, 0);
		name = g_strndup(c, core);
		if (core > 1 && c[0] == '-' && isalpha((unsigned char)c[1 +
		    (c[1] == '-')])) {
			g_string_append(m, "Fl ");
			roff_str(m, c + 1, core - 1);
		} else if (is_arg(args, c, core) || (core > 1 &&
		    c[core - 1] == 's' && is_arg(args, c, core - 1))) {
			bool plural = !is_arg(args, c, core);

			g_string_append(m, "Ar ");
			for (size_t i = 0; i < core - plural; i++)
				g_string_append_c(m,
				    (char)tolower((unsigned char)c[i]));
			if (plural)
				g_string_append(m, " Ns s");
		} else if (core > 2 && isupper((unsigned char)c[0]) &&
		    strpbrk(name + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL &&
		    cfg_find_opt(name) != NULL) {
			g_string_append(m, "Cm ");
			g_string_append(m, name);
		} else if (core > 3 && n > lead + core &&
		    w[lead + core] == ')' && isdigit((unsigned char)c[core -
		    1]) && c[core - 2] == '(') {
			/* page(N): the ")" was taken as closing. */
			g_string_append_printf(m, "Xr %.*s %c",
			    (int)core - 2, c, c[core - 1]);
			trail--;
		}
		if (m->len == 0) {
			/* Plain: stays on the text line. */
			if (line->len > 0)
				g_string_append_c(line, ' ');
			roff_str(line, w, n);
		} else {
			text_flush(out, line);
			fputc('.', out);
			if (lead > 0) {
				/* Opening delimiters before the macro's own
				 * words: "(" then the content. */
				fprintf(out, "%.*s", 2, m->str);
				for (size_t i = 0; i < lead; i++)
					fprintf(out, " %c", w[i]);
				fputs(m->str + 2, out);
			} else
				fputs(m->str, out);
			for (size_t i = 0; i < trail; i++)
				fprintf(out, " %c", w[n - trail + i]);
			fputc('\n', out);
		}
		g_free(name);
		/* A sentence ends its line. */
		if (m->len == 0 && n > 1 && w[n - 1] == '.' &&
		    (isalnum((unsigned char)w[n - 2]) || w[n - 2] == ')'))
			text_flush(out, line);
	}
	text_flush(out, line);
	g_string_free(line, true);
	g_string_free(m, true);
}

static void
entry_mdoc(FILE *out, const struct ctl_help *e)
{
	GPtrArray *args = g_ptr_array_new_with_free_func(g_free);
	GString *s = g_string_new(".It Cm ");

	roff_str(s, e->cmd, strlen(e->cmd));
	syn_mdoc(s, e->synopsis);
	fprintf(out, "%s\n", s->str);
	collect_args(args, e->synopsis);
	for (const struct ctl_help_opt *o = e->opts; o->opt; o++)
		collect_args(args, o->opt);
	text_mdoc(out, e->text, args);
	if (e->opts[0].opt != NULL) {
		fputs(".Bl -tag -width Ds\n", out);
		for (const struct ctl_help_opt *o = e->opts; o->opt; o++) {
			g_string_assign(s, ".It");
			syn_mdoc(s, o->opt);
			fprintf(out, "%s\n", s->str);
			text_mdoc(out, o->desc, args);
		}
		fputs(".El\n", out);
	}
	if (e->exit != NULL) {
		GString *x = g_string_new("Exit status: ");

		if (e->opts[0].opt != NULL)
			fputs(".Pp\n", out);

		g_string_append(x, e->exit);
		g_string_append_c(x, '.');
		text_mdoc(out, x->str, args);
		g_string_free(x, true);
	}
	g_string_free(s, true);
	g_ptr_array_free(args, true);
}

void
ctl_help_mdoc(FILE *out)
{
	GPtrArray *none = g_ptr_array_new();

	fputs(".\\\" Made by `vigilctl help --mdoc` from filter/ctl/"
	    "ctl_help_table.c.\n.Sh COMMANDS\n.Bl -tag -width Ds\n", out);
	for (const struct ctl_help *e = ctl_help_table; e->cmd; e++)
		entry_mdoc(out, e);
	fputs(".El\n.Sh EXIT STATUS\n.Bl -tag -width Ds\n", out);
	for (const struct ctl_help_exit *x = ctl_help_exits; x->meaning;
	    x++) {
		fprintf(out, ".It %d\n", x->code);
		text_mdoc(out, x->meaning, none);
	}
	fputs(".El\n", out);
	g_ptr_array_free(none, true);
}
