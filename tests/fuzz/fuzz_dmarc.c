/*
 * fuzz_dmarc.c - the author domains DMARC evaluates (RFC 7489 6.6.1):
 * each input line is the value of one From field (lines starting with a
 * blank fold into the one before), fed through the pipeline as the milter
 * does, then the DMARC check runs over an empty DNS zone and
 * auth_from_domain() is read back.  A message with several From fields,
 * several addresses in one, groups, comments and quoted strings is what
 * the parser must survive in linear time and space.
 */
#include "fuzz.h"

#include <glib.h>

#include "checks/auth/auth.h"
#include "msg.h"
#include "pipeline.h"
#include "verdict.h"

/* A config whose lookups all answer NXDOMAIN from an empty zone file. */
static const char *
conf_text(void)
{
	static char *text;
	char *zone;

	if (text != NULL)
		return text;
	zone = fuzz_write_temp("; empty\n", 8);
	if (asprintf(&text, "Checks spf,dkim,dmarc\nDNSZoneFile %s\n"
	    "MaxHeaderCount 1000\n", zone) < 0)
		abort();
	free(zone);	/* the file stays for the process's life */
	return text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap *s = fuzz_snap(conf_text());
	char *text = fuzz_cstr(data, size), *line, *next;
	GString *value = NULL;
	struct msg *m = msg_new(s, "fuzz");
	const char *dom;
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
			g_string_append(value, "\r\n");
			g_string_append(value, line);
			continue;
		}
		if (value != NULL) {
			pipeline_header(m, "From", value->str);
			g_string_free(value, TRUE);
		}
		value = g_string_new(" ");
		g_string_append(value, line);
	}
	if (value != NULL) {
		pipeline_header(m, "From", value->str);
		g_string_free(value, TRUE);
	}
	pipeline_header(m, "Subject", " fuzz");
	pipeline_eoh(m);
	pipeline_body(m, (const unsigned char *)"body\r\n", 6);
	if (pipeline_eom(m) == NULL)
		abort();
	if ((dom = auth_from_domain(m)) != NULL) {
		/* One author domain: a lower-case name, never empty. */
		if (*dom == '\0')
			abort();
		for (const char *p = dom; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
		sink += strlen(dom);
	}
	(void)sink;
	msg_end(&m);
	free(text);
	return 0;
}
