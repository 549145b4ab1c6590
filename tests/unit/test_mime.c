/*
 * test_mime.c - the flat view: decoded headers, charsets, HTML rendering,
 * URLs and registrable domains, attachments, nesting; and every message
 * of the shared MIME torture corpus gets a view without a crash.
 */
#include <dirent.h>
#include <glib.h>
#include <sys/stat.h>

#include "t.h"

#include "html.h"
#include "lib/arena.h"
#include "url.h"

static const char *multipart =
    "From: =?ISO-8859-1?Q?J=FCrgen?= <j@example.org>\n"
    "Subject: =?UTF-8?B?R3LDvMOfZQ==?= und mehr\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\n"
    "\n"
    "preamble\n"
    "--b1\n"
    "Content-Type: multipart/alternative; boundary=\"b2\"\n"
    "\n"
    "--b2\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Gr=FC=DFe, see http://Example.COM/a?b=1#frag and www.shop.example.co.uk.\n"
    "--b2\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<html><head><style>p{}</style><title>t</title></head><body>"
    "<p>Hello&nbsp;&amp; welcome</p><a href=\"https://user@b%61d.Example.net:443/x\">click</a>"
    "<div style=\"display: none\">hidden words</div><img src=\"http://img.example.org/p.gif\">"
    "<script>var x='<p>not text</p>';</script></body></html>\n"
    "--b2--\n"
    "--b1\n"
    "Content-Type: application/octet-stream; name=\"invoice.pdf.exe\"\n"
    "Content-Disposition: attachment; filename=\"invoice.pdf.exe\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\n"
    "--b1\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: inner\n"
    "Content-Type: text/plain\n"
    "\n"
    "inner body text\n"
    "--b1--\n";

static void
test_view(void **state)
{
	struct snap *s = t_snap(NULL, NULL, 0);
	const struct verdict *v;
	struct msg *m = t_scan(s, multipart, &v);
	const struct mview *view = msg_view(m);
	const struct mpart *plain = NULL, *html = NULL, *exe = NULL, *inner = NULL;
	bool saw_example = false, saw_shop = false, saw_bad = false, saw_img = false;

	assert_false(view->parse_error);
	assert_string_equal(view->subject, "Grüße und mehr");
	assert_string_equal(view->hdrs[0].value, "Jürgen <j@example.org>");
	for (size_t i = 0; i < view->nparts; i++) {
		const struct mpart *p = &view->parts[i];

		if (strcmp(p->type, "text/plain") == 0 && p->depth == 2 && plain == NULL)
			plain = p;
		else if (p->is_html)
			html = p;
		else if (p->filename && strcmp(p->filename, "invoice.pdf.exe") == 0)
			exe = p;
		else if (p->text && strstr(p->text, "inner body"))
			inner = p;
	}
	assert_non_null(plain);
	assert_non_null(strstr(plain->text, "Grüße"));
	assert_non_null(html);
	assert_non_null(strstr(html->text, "Hello & welcome"));
	assert_null(strstr(html->text, "not text"));
	assert_null(strstr(html->text, "p{}"));
	assert_true(html->html_hidden_chars >= strlen("hiddenwords"));
	assert_int_equal(html->html_images, 1);
	assert_non_null(exe);
	assert_true(exe->is_attachment);
	assert_false(exe->is_text);
	assert_string_equal(exe->sniffed_type, "application/x-dosexec");
	assert_non_null(inner);
	for (size_t i = 0; i < view->nurls; i++) {
		const struct murl *u = &view->urls[i];

		if (strcmp(u->url, "http://example.com/a?b=1") == 0)
			saw_example = true;
		if (strcmp(u->host, "www.shop.example.co.uk") == 0 &&
		    strcmp(u->domain, "example.co.uk") == 0)
			saw_shop = true;
		if (strcmp(u->host, "bad.example.net") == 0 && (u->src & MURL_HREF) &&
		    u->anchor_text && strcmp(u->anchor_text, "click") == 0 &&
		    strcmp(u->domain, "example.net") == 0)
			saw_bad = true;
		if (strcmp(u->host, "img.example.org") == 0 && (u->src & MURL_SRC))
			saw_img = true;
	}
	assert_true(saw_example);
	assert_true(saw_shop);
	assert_true(saw_bad);
	assert_true(saw_img);
	assert_non_null(strstr(view->body_text, "inner body text"));
	msg_end(&m);
	snap_unref(&s);
}

static void
test_html_render(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "a<br>b", "a\nb" },
		/* Paragraphs as SpamAssassin's renderer makes them: a blank
		 * line for p (start and end), one newline a br or div. */
		{ "<p>x</p><p>y</p>", "x\n\ny" },
		{ "a<br><br>b", "a\n\nb" },
		{ "a<br><br><br><p>b", "a\n\nb" },
		{ "a<div><div>b", "a\n\nb" },
		{ "<table><tr><td>a</td></tr><tr><td>b</td></tr></table>",
		  "a\nb" },
		{ "&lt;&#65;&#x42;&gt; &euro;", "<AB> €" },
		{ "a  \n\t b", "a b" },
		{ "x < y and <3", "x < y and <3" },
		{ "<!-- secret -->shown", "shown" },
		{ "<a href='u'>unterminated", "unterminated" },
		{ "<div", "" },
		{ "&#0;&#xD800;", "\xef\xbf\xbd\xef\xbf\xbd" },
	};
	struct arena *a = arena_new("t");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct html_out o;

		html_render(a, cases[i].in, strlen(cases[i].in), &o);
		if (strcmp(o.text, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\" want \"%s\"", i, o.text, cases[i].want);
	}
	arena_free(&a);
}

static void
test_url_normalize(void **state)
{
	static const struct {
		const char *in, *url, *domain;
	} cases[] = {
		{ "HTTP://WWW.Example.COM/Path?Q#f", "http://www.example.com/Path?Q", "example.com" },
		{ "www.foo.bar.example.co.uk/x", "http://www.foo.bar.example.co.uk/x", "example.co.uk" },
		{ "https://user:pw@host.example.org:8443/", "https://host.example.org/", "example.org" },
		{ "http://192.0.2.5/x", "http://192.0.2.5/x", "192.0.2.5" },
		{ "http://b\xc3\xbc" "cher.example/", "http://xn--bcher-kva.example/", "xn--bcher-kva.example" },
		{ "mailto:Sales@Example.NET?subject=x", "mailto:Sales@Example.NET", "example.net" },
	};
	struct arena *a = arena_new("t");
	struct murl u;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!url_normalize(a, cases[i].in, strlen(cases[i].in), &u))
			fail_msg("case %zu: %s not recognised", i, cases[i].in);
		if (strcmp(u.url, cases[i].url) != 0 || strcmp(u.domain, cases[i].domain) != 0)
			fail_msg("case %zu: got %s (%s)", i, u.url, u.domain);
	}
	assert_false(url_normalize(a, "javascript:alert(1)", 19, &u));
	assert_false(url_normalize(a, "http://", 7, &u));
	/* Hosts that are not UTF-8 (a lead byte last, a stray continuation
	 * byte, a NUL decoded from %00) are not URLs; g_hostname_to_ascii
	 * read past the first one's end under the fuzzer. */
	assert_false(url_normalize(a, "http://example.com\xf0/", 20, &u));
	assert_false(url_normalize(a, "http://ex\xbf" "ample.com/", 20, &u));
	assert_false(url_normalize(a, "http://exa%00mple.com/", 22, &u));
	assert_true(url_normalize(a, "http://b\xc3\xbc" "cher.example/", 23, &u));
	assert_string_equal(u.host, "xn--bcher-kva.example");
	arena_free(&a);
}

/* One text/plain part in a declared charset: its text in UTF-8. */
static void
test_charsets(void **state)
{
	static const struct {
		const char *charset, *body, *want;
	} cases[] = {
		{ "iso-8859-1", "Gr\xfc\xdf" "e", "Gr\xc3\xbc\xc3\x9f" "e" },
		{ "windows-1252", "\x80 5", "\xe2\x82\xac 5" },
		{ "koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4",
		    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
		/* Stateful: the shift back to ASCII must be flushed, and the
		 * converter reset before its next use. */
		{ "iso-2022-jp", "\x1b$B$3$s$K$A$O\x1b(B!",
		    "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1"
		    "\xe3\x81\xaf!" },
		{ "iso-2022-jp", "\x1b$B$3$s\x1b(B", "\xe3\x81\x93\xe3\x82\x93" },
		/* Declared UTF-8 but not: GMime's guess (Latin-1). */
		{ "utf-8", "caf\xe9", "caf\xc3\xa9" },
		/* Invalid in the declared charset: the same guess. */
		{ "utf-16le", "a", "a" },
		{ "x-no-such-charset", "plain words", "plain words" },
	};
	struct snap *s = t_snap(NULL, NULL, 0);

	/* Twice: the second round takes the converters from the pool. */
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char text[512];
			const struct verdict *v;
			struct msg *m;
			const struct mview *view;

			snprintf(text, sizeof(text), "From: a@example.org\n"
			    "Subject: t\nMIME-Version: 1.0\nContent-Type: "
			    "text/plain; charset=\"%s\"\n\n%s",
			    cases[i].charset, cases[i].body);
			m = t_scan(s, text, &v);
			view = msg_view(m);
			assert_int_equal(view->nparts, 1);
			if (strcmp(view->parts[0].text, cases[i].want) != 0)
				fail_msg("%s: got \"%s\" want \"%s\"",
				    cases[i].charset, view->parts[0].text,
				    cases[i].want);
			assert_true(g_utf8_validate(view->parts[0].text, -1, NULL));
			msg_end(&m);
		}
	snap_unref(&s);
}

/*
 * GMime reads the top-level Content-* fields only: folded, in any case,
 * and not confused by other fields that mention them.
 */
static void
test_mime_fields(void **state)
{
	static const char *msgs[] = {
	    "From: a@example.org\nX-Note: Content-Type: text/html\n"
	    "content-type: multipart/alternative;\n\tboundary=\"zz\"\n"
	    "Subject: s\n\n--zz\nContent-Type: text/plain\n\none\n"
	    "--zz\nContent-Type: text/html\n\n<p>two</p>\n--zz--\n",
	    "Received: from x\n  by y\nContent-Transfer-Encoding: base64\n"
	    "Content-Type: text/plain; charset=utf-8\nContent-Disposition: "
	    "inline; filename=\"n.txt\"\n\nb25lIHR3bw==\n",
	};
	struct snap *s = t_snap(NULL, NULL, 0);
	const struct verdict *v;
	struct msg *m;
	const struct mview *view;

	m = t_scan(s, msgs[0], &v);
	view = msg_view(m);
	assert_false(view->parse_error);
	assert_int_equal(view->nparts, 2);
	assert_string_equal(view->parts[0].text, "one");
	assert_true(view->parts[1].is_html);
	assert_string_equal(view->parts[1].text, "two");
	assert_int_equal(view->nhdrs, 4);
	msg_end(&m);
	m = t_scan(s, msgs[1], &v);
	view = msg_view(m);
	assert_int_equal(view->nparts, 1);
	assert_string_equal(view->parts[0].encoding, "base64");
	assert_string_equal(view->parts[0].filename, "n.txt");
	assert_string_equal(view->parts[0].disposition, "inline");
	assert_true(view->parts[0].is_attachment);
	assert_int_equal(view->parts[0].size, 7);
	assert_memory_equal(view->parts[0].data, "one two", 7);
	msg_end(&m);
	snap_unref(&s);
}

/* Scans every regular file under path; returns how many. */
static size_t
scan_tree(struct snap *s, const char *path)
{
	DIR *dp = opendir(path);
	struct dirent *de;
	size_t n = 0;

	if (dp == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		char file[8192];
		struct stat st;
		FILE *f;
		char *buf;
		const struct verdict *v;
		struct msg *m;

		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		if (stat(file, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			n += scan_tree(s, file);
			continue;
		}
		if (!S_ISREG(st.st_mode) || strstr(de->d_name, ".tsv") ||
		    strcmp(de->d_name, "SOURCE.txt") == 0)
			continue;
		f = fopen(file, "rb");
		assert_non_null(f);
		buf = malloc((size_t)st.st_size + 1);
		assert_int_equal(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
		fclose(f);
		m = scan_buffer(s, &(struct scan_env){ 0 }, (unsigned char *)buf,
		    (size_t)st.st_size, "t", &v);
		assert_non_null(v);
		assert_non_null(msg_view(m)->body_text);
		msg_end(&m);
		free(buf);
		n++;
	}
	closedir(dp);
	return n;
}

/* Every message of the shared MIME corpus: a view, no crash, no hang. */
static void
test_torture_corpus(void **state)
{
	char root[4096];
	struct snap *s;
	size_t n;

	if (t_shared("oracles/mime", root, sizeof(root)) == NULL)
		skip();
	s = t_snap(NULL, NULL, 0);
	n = scan_tree(s, root);
	print_message("%zu corpus messages scanned\n", n);
	assert_true(n >= 290);
	snap_unref(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view),
		cmocka_unit_test(test_html_render),
		cmocka_unit_test(test_url_normalize),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_mime_fields),
		cmocka_unit_test(test_torture_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
