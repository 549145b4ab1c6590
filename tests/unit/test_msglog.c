/*
 * test_msglog.c - LogFile: lib/log.c's appending sink (one line a record,
 * reopened when asked or when the path moved, a failed open said) and
 * msglog.c's records (JSON with the fields trace and report read, the
 * text line, a sender's quotes and control characters escaped), parsed
 * back with json-c.
 */
#include "t.h"

#include <fcntl.h>
#include <errno.h>
#include <sys/stat.h>

#include <glib.h>

#include <json-c/json.h>

#include "lib/log.h"
#include "msglog.h"

static char dir[] = "/tmp/vigil-msglog-XXXXXX";

static char *
path_in(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

/* The file's lines; *n_r how many. */
static char **
lines(const char *path, size_t *n_r)
{
	gchar *text = NULL;
	gchar **v;

	if (!g_file_get_contents(path, &text, NULL, NULL)) {
		*n_r = 0;
		return g_new0(char *, 1);
	}
	v = g_strsplit(text, "\n", -1);
	g_free(text);
	*n_r = g_strv_length(v) - 1;	/* after the last newline: "" */
	return v;
}

static void
test_append_and_reopen(void **state)
{
	char live[256], moved[256];
	char **v;
	size_t n;

	(void)state;
	snprintf(live, sizeof(live), "%s", path_in("a.log"));
	snprintf(moved, sizeof(moved), "%s", path_in("a.log.1"));
	assert_int_equal(log_file_open(live), 0);
	assert_true(log_file_is_open());
	log_file_write("one", 3);
	log_file_write("two", 3);
	/* logrotate's move, then SIGUSR1's request: the next record goes
	 * to a new file at the path. */
	assert_int_equal(rename(live, moved), 0);
	log_file_reopen();
	log_file_write("three", 5);
	v = lines(moved, &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "one");
	assert_string_equal(v[1], "two");
	g_strfreev(v);
	v = lines(live, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "three");
	g_strfreev(v);
	/* Moved again without a signal: seen within a second. */
	assert_int_equal(rename(live, moved), 0);
	sleep(1);		/* lint-sleep: the once-a-second check */
	usleep(100000);		/* lint-sleep: the same */
	log_file_write("four", 4);
	v = lines(live, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "four");
	g_strfreev(v);
	log_file_close();
	assert_false(log_file_is_open());
	unlink(live);
	unlink(moved);
}

static void
test_open_fails(void **state)
{
	(void)state;
	assert_int_equal(log_file_open("/nonexistent-dir/x/vigil.json"), -1);
	assert_int_equal(errno, ENOENT);
	log_file_close();
	/* A FIFO at the path: refused at once (ENXIO without a reader,
	 * EINVAL with one), not waited on for a reader. */
	assert_int_equal(mkfifo(path_in("fifo"), 0600), 0);
	assert_int_equal(log_file_open(path_in("fifo")), -1);
	assert_true(errno == ENXIO || errno == EINVAL);
	log_file_close();
	unlink(path_in("fifo"));
}

/*
 * LogFile is opened by root before the privilege drop, in a folder the
 * daemon's user may own: a symlink or a second hard link planted there
 * must not hand root's append to another file.
 */
static void
test_open_refuses_links(void **state)
{
	char target[256];
	char **v;
	size_t n;

	(void)state;
	snprintf(target, sizeof(target), "%s", path_in("victim"));
	g_assert_true(g_file_set_contents(target, "precious\n", -1, NULL));
	assert_int_equal(symlink(target, path_in("sym.log")), 0);
	assert_int_equal(log_file_open(path_in("sym.log")), -1);
	assert_int_equal(errno, ELOOP);
	log_file_close();
	assert_int_equal(link(target, path_in("hard.log")), 0);
	assert_int_equal(log_file_open(path_in("hard.log")), -1);
	assert_int_equal(errno, EMLINK);
	log_file_close();
	v = lines(target, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "precious");
	g_strfreev(v);
	unlink(path_in("sym.log"));
	unlink(path_in("hard.log"));
	unlink(target);
}

static const char spam[] =
	"From: \"Evil\" <e@x.example>\r\n"
	"To: bob@example.com\r\n"
	"Subject: =?UTF-8?Q?caf=C3=A9_\"quoted\"?=\r\n"
	"Message-ID:  <abc-1@x.example>\r\n"
	"\r\n"
	"hello\r\n";

static struct json_object *
one_record(const char *format)
{
	const char *ov[] = { "LogFile=", "LogFormat=json" };
	char o1[300], o2[64];
	struct snap *s;
	struct msg *m;
	const struct verdict *v;
	struct json_object *rec;
	char **l;
	size_t n;
	char *err = NULL;

	snprintf(o1, sizeof(o1), "LogFile=%s", path_in("m.log"));
	snprintf(o2, sizeof(o2), "LogFormat=%s", format);
	ov[0] = o1;
	ov[1] = o2;
	unlink(path_in("m.log"));
	s = t_snap(NULL, ov, 2);
	assert_int_equal(msglog_open(snap_cfg(s), &err), 0);
	m = t_scan(s, spam, &v);
	msglog_verdict(m, v, v->action, " quarantine=0123abcd");
	msg_end(&m);
	snap_unref(&s);
	log_file_close();
	l = lines(path_in("m.log"), &n);
	assert_int_equal(n, 1);
	rec = strcmp(format, "json") == 0 ? json_tokener_parse(l[0]) :
	    json_object_new_string(l[0]);
	g_strfreev(l);
	assert_non_null(rec);
	return rec;
}

static const char *
str(struct json_object *o, const char *k)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_string(v);
}

static void
test_json_record(void **state)
{
	struct json_object *rec = one_record("json"), *v;

	(void)state;
	assert_string_equal(str(rec, "from"), "e@x.example");
	assert_string_equal(str(rec, "message_id"), "<abc-1@x.example>");
	assert_string_equal(str(rec, "subject"), "caf\xc3\xa9 \"quoted\"");
	assert_string_equal(str(rec, "client_addr"), "192.0.2.7");
	assert_string_equal(str(rec, "quarantine"), "0123abcd");
	assert_string_equal(str(rec, "stage"), "data");
	assert_true(json_object_object_get_ex(rec, "rcpts", &v));
	assert_int_equal(json_object_array_length(v), 1);
	assert_string_equal(json_object_get_string(
	    json_object_array_get_idx(v, 0)), "bob@example.com");
	assert_true(json_object_object_get_ex(rec, "hits", &v));
	assert_true(json_object_is_type(v, json_type_object));
	assert_true(json_object_object_get_ex(rec, "versions", &v));
	assert_non_null(str(v, "rules"));
	assert_string_equal(str(v, "config"), "1");
	assert_true(json_object_object_get_ex(rec, "ts", &v));
	assert_true(json_object_get_double(v) > 1.7e9);
	json_object_put(rec);
}

static void
test_text_record(void **state)
{
	struct json_object *rec = one_record("text");
	const char *line = json_object_get_string(rec);

	(void)state;
	assert_non_null(strstr(line, " s=test q=- verdict="));
	assert_non_null(strstr(line, " from=<e@x.example> rcpts=1 "));
	assert_non_null(strstr(line, " message-id=\"<abc-1@x.example>\""));
	assert_non_null(strstr(line, " quarantine=0123abcd ms="));
	json_object_put(rec);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path_in("m.log"));
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_reopen),
		cmocka_unit_test(test_open_fails),
		cmocka_unit_test(test_open_refuses_links),
		cmocka_unit_test(test_json_record),
		cmocka_unit_test(test_text_record),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
