/*
 * test_attach.c - the attachment policy on archives built here with
 * libarchive: decompression bombs (a compressed tar declaring a large
 * member of zeros) stop at AttachArchiveMaxBytes, AttachMaxMembers ends
 * the listing with a hit, and a nested archive is opened by its content
 * whatever its member name says.
 */
#include "t.h"

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>

#include "check.h"
#include "lib/util.h"

enum { F_NONE, F_GZIP, F_BZIP2, F_XZ, F_ZIP };

struct member {
	const char	*name;
	size_t		 size;		/* of zeros, when data is NULL */
	const void	*data;
	int		 size_unset;	/* zip: size in a data descriptor */
};

/* An archive (tar with filter f, or zip) of the members, malloc'd. */
static unsigned char *
build(int f, const struct member *mem, size_t n, size_t *len_r)
{
	struct archive *a = archive_write_new();
	size_t cap = 1 << 20, used = 0;
	unsigned char *out = malloc(cap);
	static unsigned char zeros[1 << 16];

	assert_non_null(a);
	if (f == F_ZIP)
		assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	else
		assert_int_equal(archive_write_set_format_pax_restricted(a),
		    ARCHIVE_OK);
	if (f == F_GZIP)
		archive_write_add_filter_gzip(a);
	else if (f == F_BZIP2)
		archive_write_add_filter_bzip2(a);
	else if (f == F_XZ) {
		archive_write_add_filter_xz(a);
		archive_write_set_filter_option(a, "xz", "compression-level",
		    "0");
	}
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open_memory(a, out, cap, &used),
	    ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		size_t left = mem[i].size;

		archive_entry_set_pathname(e, mem[i].name);
		if (!mem[i].size_unset)
			archive_entry_set_size(e, (la_int64_t)mem[i].size);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (mem[i].data != NULL)
			assert_int_equal(archive_write_data(a, mem[i].data,
			    left), (la_ssize_t)left);
		else
			while (left > 0) {
				size_t k = left < sizeof(zeros) ? left :
				    sizeof(zeros);

				assert_true(archive_write_data(a, zeros, k) > 0);
				left -= k;
			}
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*len_r = used;
	return out;
}

/* A message carrying data as an octet-stream attachment named name. */
static char *
message(const char *name, const unsigned char *data, size_t len)
{
	gchar *b64 = g_base64_encode(data, len);
	char *text = g_strdup_printf(
	    "From: Alice <alice@example.org>\nTo: bob@example.com\n"
	    "Subject: files\nDate: Tue, 24 Nov 2026 10:15:00 +0100\n"
	    "Message-ID: <a@example.org>\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
	    "--b\nContent-Type: text/plain\n\nhere\n"
	    "--b\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"%s\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n--b--\n", name, b64);

	g_free(b64);
	return text;
}

static const struct hit *
find_hit(const struct msg *m, const char *name)
{
	for (size_t i = 0; i < msg_hit_count(m); i++)
		if (strcmp(msg_hit(m, i)->name, name) == 0)
			return msg_hit(m, i);
	return NULL;
}

/* Scans an attachment with the attach check alone and the overrides. */
static struct msg *
scan(const char *const *ov, size_t nov, const char *name,
    const unsigned char *data, size_t len, struct snap **s_r)
{
	const struct verdict *v;
	char *text = message(name, data, len);
	struct msg *m;

	*s_r = t_snap("Checks attach\n", ov, nov);
	m = t_scan(*s_r, text, &v);
	g_free(text);
	return m;
}

/*
 * issue 15.2: a compressed tar with one big member of zeros was inflated
 * in full just to reach the end of the member list.
 */
static void
test_bomb_stops_at_max_bytes(void **state)
{
	static const char *const ov[] = { "AttachArchiveMaxBytes=1m",
	    "AttachArchiveMaxTime=60s" };
	static const struct { int f; const char *name; } cases[] = {
		{ F_GZIP, "zeros.tar.gz" },
		{ F_BZIP2, "zeros.tar.bz2" },
		{ F_XZ, "zeros.tar.xz" },
	};
	const struct member mem[] = {
		{ "zeros.bin", 48u << 20, NULL },
		{ "after.exe", 10, "MZ-after!\n" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		size_t len;
		unsigned char *arc = build(cases[i].f, mem, NELEM(mem), &len);
		struct snap *s;
		struct msg *m = scan(ov, NELEM(ov), cases[i].name, arc, len,
		    &s);
		const struct hit *h = find_hit(m, "ATTACH_ARCHIVE_LIMIT");

		assert_true(len < 200000);
		if (h == NULL)
			fail_msg("case %zu %s: no ATTACH_ARCHIVE_LIMIT",
			    i, cases[i].name);
		assert_non_null(strstr(h->detail, "bytes decompressed"));
		/* The walk stopped inside the bomb. */
		assert_null(find_hit(m, "ATTACH_ARCHIVE_BANNED"));
		msg_end(&m);
		snap_unref(&s);
		if (cases[i].f == F_XZ) {
			/* Bytes unbounded: the clock stops it.  Inflating
			 * 48 MB of xz takes well over 10 ms. */
			static const char *const tov[] = {
			    "AttachArchiveMaxBytes=4g",
			    "AttachArchiveMaxTime=10ms" };

			m = scan(tov, NELEM(tov), cases[i].name, arc, len, &s);
			h = find_hit(m, "ATTACH_ARCHIVE_LIMIT");
			assert_non_null(h);
			assert_non_null(strstr(h->detail, "listing took more "
			    "than 10 ms"));
			msg_end(&m);
			snap_unref(&s);
		}
		free(arc);
	}
}

/*
 * A zip without its central directory is read as a stream; a member
 * sized only by its trailing data descriptor is inflated to be skipped.
 */
static void
test_streamed_zip_bomb(void **state)
{
	static const char *const ov[] = { "AttachArchiveMaxBytes=1m",
	    "AttachArchiveMaxTime=60s" };
	const struct member mem[] = {
		{ "zeros.bin", 48u << 20, NULL, 1 },
		{ "after.exe", 10, "MZ-after!\n", 0 },
	};
	size_t len, cut;
	unsigned char *arc = build(F_ZIP, mem, NELEM(mem), &len);
	struct snap *s;
	struct msg *m;

	(void)state;
	/* Cut at the central directory's first entry. */
	for (cut = 0; cut + 4 <= len; cut++)
		if (memcmp(arc + cut, "PK\x01\x02", 4) == 0)
			break;
	assert_true(cut + 4 <= len);
	m = scan(ov, NELEM(ov), "stream.zip", arc, cut, &s);
	assert_non_null(find_hit(m, "ATTACH_ARCHIVE_LIMIT"));
	msg_end(&m);
	snap_unref(&s);
	free(arc);
}

/* Within the bounds, every member of a compressed tar is listed. */
static void
test_small_tar_listed(void **state)
{
	const struct member mem[] = {
		{ "readme.txt", 100000, NULL },
		{ "setup.exe", 10, "MZ-setup!\n" },
	};
	size_t len;
	unsigned char *arc = build(F_GZIP, mem, NELEM(mem), &len);
	struct snap *s;
	struct msg *m = scan(NULL, 0, "files.tgz", arc, len, &s);

	(void)state;
	assert_null(find_hit(m, "ATTACH_ARCHIVE_LIMIT"));
	assert_non_null(find_hit(m, "ATTACH_ARCHIVE_BANNED"));
	msg_end(&m);
	snap_unref(&s);
	free(arc);
}

/*
 * Members a zip can skip for free cost only their first bytes: many big
 * ones do not use up AttachArchiveMaxBytes before the banned name.
 */
static void
test_big_zip_listed(void **state)
{
	static const char *const ov[] = { "AttachArchiveMaxBytes=1m",
	    "AttachArchiveMaxTime=60s" };
	enum { N = 150 };
	struct member mem[N + 1];
	char names[N][16];
	size_t len;
	unsigned char *arc;
	struct snap *s;
	struct msg *m;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "photo%03d.jpg", i);
		mem[i] = (struct member){ names[i], 300000, NULL };
	}
	mem[N] = (struct member){ "z.exe", 10, "MZ-z-exe!\n" };
	arc = build(F_ZIP, mem, N + 1, &len);
	m = scan(ov, NELEM(ov), "photos.zip", arc, len, &s);
	assert_null(find_hit(m, "ATTACH_ARCHIVE_LIMIT"));
	assert_non_null(find_hit(m, "ATTACH_ARCHIVE_BANNED"));
	msg_end(&m);
	snap_unref(&s);
	free(arc);
}

/* issue 15.2: past AttachMaxMembers the listing stops with a hit. */
static void
test_max_members(void **state)
{
	static const char *const ov[] = { "AttachMaxMembers=3" };
	const struct member mem[] = {
		{ "a.txt", 1, "a" }, { "b.txt", 1, "b" }, { "c.txt", 1, "c" },
		{ "d.txt", 1, "d" }, { "e.exe", 1, "e" },
	};
	size_t len;
	unsigned char *arc = build(F_ZIP, mem, NELEM(mem), &len);
	struct snap *s;
	struct msg *m = scan(ov, NELEM(ov), "many.zip", arc, len, &s);

	(void)state;
	assert_non_null(find_hit(m, "ATTACH_ARCHIVE_LIMIT"));
	assert_null(find_hit(m, "ATTACH_ARCHIVE_BANNED"));
	msg_end(&m);
	snap_unref(&s);
	free(arc);
}

/*
 * issue 15.2: a nested archive under an innocent name (holiday.jpg) was
 * never opened, so the executable inside it went unseen.
 */
static void
test_nested_by_magic(void **state)
{
	const struct member inner[] = { { "run.exe", 10, "MZ-inner!\n" } };
	static const int outer_f[] = { F_ZIP, F_GZIP };
	size_t ilen;
	unsigned char *in = build(F_ZIP, inner, NELEM(inner), &ilen);

	(void)state;
	for (size_t i = 0; i < NELEM(outer_f); i++) {
		const struct member outer[] = {
			{ "notes.txt", 5, "notes" },
			{ "holiday.jpg", ilen, in },
		};
		size_t len;
		unsigned char *arc = build(outer_f[i], outer, NELEM(outer),
		    &len);
		struct snap *s;
		struct msg *m = scan(NULL, 0, "photos.zip", arc, len, &s);
		const struct hit *h = find_hit(m, "ATTACH_ARCHIVE_BANNED");

		if (h == NULL)
			fail_msg("case %zu: run.exe inside holiday.jpg unseen",
			    i);
		assert_non_null(strstr(h->detail, "run.exe in holiday.jpg"));
		assert_null(find_hit(m, "ATTACH_ARCHIVE_LIMIT"));
		msg_end(&m);
		snap_unref(&s);
		free(arc);
	}
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bomb_stops_at_max_bytes),
		cmocka_unit_test(test_streamed_zip_bomb),
		cmocka_unit_test(test_small_tar_listed),
		cmocka_unit_test(test_big_zip_listed),
		cmocka_unit_test(test_max_members),
		cmocka_unit_test(test_nested_by_magic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
