/*
 * fuzz_mime.c - a whole message through scan_buffer() (the path vigilctl
 * scan and the milter share) with the structural header checks, then
 * every string of the flat view and the verdict read back, so a view
 * pointing outside its arena shows up under ASan.
 */
#include "fuzz.h"

#include "msg.h"
#include "pipeline.h"
#include "verdict.h"

static size_t
touch(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

static size_t
touch_view(const struct mview *v)
{
	size_t n = touch(v->subject) + v->body_len;

	if (v->body_len != 0 && v->body_text[v->body_len - 1] == '\0')
		abort();	/* body_len counts only real text */
	for (size_t i = 0; i < v->nhdrs; i++)
		n += touch(v->hdrs[i].name) + touch(v->hdrs[i].raw) +
		    touch(v->hdrs[i].value);
	for (size_t i = 0; i < v->nparts; i++) {
		const struct mpart *p = &v->parts[i];

		n += touch(p->type) + touch(p->charset) + touch(p->filename) +
		    touch(p->disposition) + touch(p->encoding) +
		    touch(p->sniffed_type);
		if (p->size != 0)
			n += p->data[0] + p->data[p->size - 1];
		if (p->text != NULL && p->text_len != 0)
			n += (unsigned char)p->text[p->text_len - 1];
		if (p->html != NULL && p->html_len != 0)
			n += (unsigned char)p->html[p->html_len - 1];
	}
	for (size_t i = 0; i < v->nurls; i++)
		n += touch(v->urls[i].url) + touch(v->urls[i].host) +
		    touch(v->urls[i].domain) + touch(v->urls[i].anchor_text);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *rcpt[] = { "bob@example.com" };
	const struct scan_env env = { .client_addr = "192.0.2.7",
	    .client_name = "mx.example.net", .helo = "mx.example.net",
	    .rcpts = rcpt, .nrcpts = 1 };
	struct snap *s = fuzz_snap("Checks headers\nMaxScanSize 1m\n");
	const struct verdict *v = NULL;
	struct msg *m;
	volatile size_t sink;

	m = scan_buffer(s, &env, data, size, "fuzz", &v);
	if (m == NULL || v == NULL)
		abort();	/* scan_buffer never fails */
	sink = touch_view(msg_view(m)) + touch(v->status) + touch(v->text);
	(void)sink;
	msg_end(&m);
	return 0;
}
