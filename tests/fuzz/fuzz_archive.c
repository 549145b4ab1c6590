/*
 * fuzz_archive.c - the archive lister of the attachment check: the input
 * is an attachment (base64 in a multipart message, under a neutral name)
 * that libarchive is asked to list, nested archives and all, within the
 * attachment check's bounds and the message's budget.  Run with
 * -rss_limit_mb and -timeout (tests/fuzz/run.sh), a decompression bomb
 * that escapes the bounds is a crash.
 */
#include "fuzz.h"

#include <glib.h>

#include "msg.h"
#include "pipeline.h"
#include "verdict.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *rcpt[] = { "bob@example.com" };
	static const char head[] =
	    "From: Alice <alice@example.org>\r\nTo: bob@example.com\r\n"
	    "Subject: files\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n"
	    "--zz\r\nContent-Type: application/octet-stream; name=\"f.dat\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n";
	const struct scan_env env = { .client_addr = "192.0.2.7",
	    .client_name = "mx.example.net", .helo = "mx.example.net",
	    .rcpts = rcpt, .nrcpts = 1 };
	struct snap *s = fuzz_snap("Checks attach\nAttachArchiveDepth 3\n"
	    "AttachArchiveMaxBytes 4m\nAttachArchiveMaxTime 2s\n"
	    "MaxScanSize 2m\n");
	const struct verdict *v = NULL;
	gchar *b64 = g_base64_encode(data, size);
	GString *msgtext = g_string_new(head);
	struct msg *m;

	g_string_append(msgtext, b64);
	g_string_append(msgtext, "\r\n--zz--\r\n");
	g_free(b64);
	m = scan_buffer(s, &env, (const unsigned char *)msgtext->str,
	    msgtext->len, "fuzz", &v);
	if (v == NULL || v->status == NULL)
		abort();
	for (size_t i = 0; i < msg_hit_count(m); i++)
		if (strlen(msg_hit(m, i)->detail) > 65536)
			abort();	/* details are sized from what they say */
	msg_end(&m);
	g_string_free(msgtext, TRUE);
	return 0;
}
