/*
 * fuzz_header.c - header decoding: each input line becomes one header
 * ("Name: value", or the whole line as the value of Subject) fed through
 * the pipeline the way the milter feeds them, then the flat view decodes
 * them (unfolding, RFC 2047, charsets to UTF-8).  Lines starting with a
 * blank continue the previous header, as folding does.
 */
#include "fuzz.h"

#include "msg.h"
#include "pipeline.h"
#include "verdict.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap *s = fuzz_snap("Checks headers\n");
	char *text = fuzz_cstr(data, size), *line, *next, *colon;
	char *name = NULL, *value = NULL;
	size_t vlen = 0;
	const struct mview *v;
	struct msg *m = msg_new(s, "fuzz");
	volatile size_t sink = 0;

	msg_set_client(m, "192.0.2.7", "mx.example.net");
	msg_set_helo(m, "mx.example.net");
	msg_add_rcpt(m, "bob@example.com");
	pipeline_phase(m, PHASE_CONNECT);
	msg_set_mail_from(m, "alice@example.org");
	pipeline_phase(m, PHASE_ENVFROM);
	for (line = text; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if ((*line == ' ' || *line == '\t') && value != NULL) {
			/* folded: value gains CRLF and the line */
			size_t l = strlen(line);
			char *nv = realloc(value, vlen + 2 + l + 1);

			if (nv == NULL)
				abort();
			value = nv;
			memcpy(value + vlen, "\r\n", 2);
			memcpy(value + vlen + 2, line, l + 1);
			vlen += 2 + l;
			continue;
		}
		if (name != NULL)
			pipeline_header(m, name, value);
		free(name);
		free(value);
		colon = strchr(line, ':');
		if (colon != NULL && colon != line) {
			name = strndup(line, (size_t)(colon - line));
			value = strdup(colon + 1 + (colon[1] == ' '));
		} else {
			name = strdup("Subject");
			value = strdup(line);
		}
		if (name == NULL || value == NULL)
			abort();
		vlen = strlen(value);
	}
	if (name != NULL)
		pipeline_header(m, name, value);
	free(name);
	free(value);
	pipeline_eoh(m);
	pipeline_body(m, (const unsigned char *)"body\r\n", 6);
	if (pipeline_eom(m) == NULL)
		abort();
	v = msg_view(m);
	for (size_t i = 0; i < v->nhdrs; i++)
		sink += strlen(v->hdrs[i].value);
	sink += strlen(v->subject);
	(void)sink;
	msg_end(&m);
	free(text);
	return 0;
}
