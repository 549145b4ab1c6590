/*
 * test_av.c - the antivirus and attachment checks through the real
 * pipeline and the real libclamav, with a signature database and messages
 * that tests/av/gen_samples.py writes into a temp dir (EICAR included):
 * every sample's expected finding and action, OnVirus and AttachAction,
 * a scanner error under AVOnError, startup refusing a missing or empty
 * DatabaseDirectory, a signature reload while threads keep scanning (no
 * miss, no error, the old engine freed), the MIME oracle messages, and
 * AVFastText: which messages skip libclamav's mail parser (PATHS), that
 * they then leave no file in AVTempDirectory, and the limits it keeps.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "cfg.h"
#include "check.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "verdict.h"
#include "lib/log.h"
#include "lib/util.h"
#include "av_fsspy.h"
#include "t.h"

extern const struct check check_av;

static char tmp[] = "/tmp/vigil-test-av-XXXXXX";
static void write_file(const char *, const char *);
static char dbopt[300];

/* A snapshot with the defaults plus overrides; NULL with *err_r. */
static struct snap *
snap_with(const char **ov, size_t n, char **err_r)
{
	struct cfg *c;
	struct snap *s;
	const char *all[16] = { "Checks=headers,av,attach" };

	/* Only the checks under test: no DNS lookups from the others. */
	assert_true(n < 16);
	memcpy(all + 1, ov, n * sizeof(*ov));
	*err_r = NULL;
	if ((c = cfg_load(NULL, all, n + 1, err_r)) == NULL)
		return NULL;
	s = snap_build(c, err_r);
	cfg_unref(&c);
	return s;
}

static struct msg *
scan_file(struct snap *s, const char *path, const struct verdict **v_r)
{
	struct scan_env env = { .helo = "client.example.org" };
	size_t len;
	char *data = slurp_path(path, &len);
	struct msg *m;

	if (data == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	m = scan_buffer(s, &env, (const unsigned char *)data, len, "test",
	    v_r);
	free(data);
	return m;
}

static const struct hit *
find_hit(const struct msg *m, const char *name)
{
	for (size_t i = 0; i < msg_hit_count(m); i++)
		if (strcmp(msg_hit(m, i)->name, name) == 0)
			return msg_hit(m, i);
	return NULL;
}

static const char *
header_out(const struct msg *m, const char *name)
{
	const char *n, *v;

	for (size_t i = 0; i < msg_header_out_count(m); i++) {
		msg_header_out(m, i, &n, &v);
		if (strcmp(n, name) == 0)
			return v;
	}
	return NULL;
}

/* The av check's JSON object, or "". */
static const char *
av_json(const struct msg *m)
{
	const char *k, *j;

	for (size_t i = 0; i < msg_field_count(m); i++) {
		msg_field(m, i, &k, &j);
		if (strcmp(k, "av") == 0)
			return j;
	}
	return "";
}

/* Did the in-process scan of m take path ("fast" or "full")? */
static bool
took_path(const struct msg *m, const char *path)
{
	char want[64];

	snprintf(want, sizeof(want), "\"path\":\"%s\"", path);
	return strstr(av_json(m), want) != NULL;
}

/* The path PATHS expects for file, or NULL. */
static const char *
want_path(const char *file, char *buf, size_t size)
{
	char path[1024];
	FILE *f;
	const char *r = NULL;

	snprintf(path, sizeof(path), "%s/PATHS", tmp);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(buf, (int)size, f) != NULL) {
		char *tab = strchr(buf, '\t');

		if (tab == NULL)
			continue;
		*tab++ = '\0';
		tab[strcspn(tab, "\n")] = '\0';
		if (strcmp(buf, file) == 0) {
			r = tab;
			break;
		}
	}
	fclose(f);
	return r;
}

/* The value of "key N" in the av check's stats. */
static double
av_stat(struct snap *s, const char *key)
{
	char *buf = NULL, line[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	double v = -1;

	assert_non_null(f);
	check_av.stats(snap_state(s, &check_av), f);
	fclose(f);
	f = fmemopen(buf, len, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		size_t k = strlen(key);

		if (strncmp(line, key, k) == 0 && line[k] == ' ')
			v = strtod(line + k + 1, NULL);
	}
	if (f != NULL)
		fclose(f);
	free(buf);
	return v;
}

/* Waits up to 5 s for the number of live engines to become n. */
static double
wait_engines(struct snap *s, double n)
{
	uint64_t t0 = util_now_us();

	while (av_stat(s, "av.engines_live") != n &&
	    util_now_us() - t0 < 5 * 1000000ULL)
		usleep(10 * 1000);
	return av_stat(s, "av.engines_live");
}

/* A database change that does not load keeps the running engine. */
static void
test_reload_failure(void **state)
{
	char dir[400], opt[420], path[512], *err;
	const char *ov[] = { "AVScan=yes", opt, "AVReloadCheck=100ms" };
	struct snap *s;
	double fails0;
	uint64_t t0;

	snprintf(dir, sizeof(dir), "%s/fdb", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "cp '%s/db/vigil-test.ndb' '%s/'", tmp,
	    dir);
	assert_int_equal(system(path), 0);
	snprintf(opt, sizeof(opt), "DatabaseDirectory=%s", dir);
	if ((s = snap_with(ov, 3, &err)) == NULL)
		fail_msg("%s", err);
	fails0 = av_stat(s, "av.reload_failures");
	snprintf(path, sizeof(path), "%s/broken.ndb", dir);
	write_file(path, "Vigil.Test.Broken:0:*:zz-not-hex\n");
	t0 = util_now_us();
	while (av_stat(s, "av.reload_failures") == fails0 &&
	    util_now_us() - t0 < 20 * 1000000ULL)
		usleep(50 * 1000);
	assert_int_equal(av_stat(s, "av.reload_failures"), fails0 + 1);
	assert_int_equal(av_stat(s, "av.engine.generation"), 1);
	/* The database in service: without a CVD header its version is
	 * its signature count, its age that of its newest file. */
	assert_int_equal(av_stat(s, "av.engine.db_version"), 0);
	assert_true(av_stat(s, "av.engine.db_age_s") >= 0 &&
	    av_stat(s, "av.engine.db_age_s") < 3600);
	/* Still scanning with the first engine. */
	snprintf(path, sizeof(path), "%s/msg/eicar-zip.eml", tmp);
	{
		const struct verdict *v;
		struct msg *m = scan_file(s, path, &v);

		assert_int_equal(v->action, ACTION_REJECT);
		assert_int_equal(strncmp(v->versions[SNAP_V_AV], "sigs:", 5), 0);
		assert_int_equal(msg_failure_count(m), 0);
		msg_end(&m);
	}
	snap_unref(&s);
}

/*
 * A database file removed is a change too (libclamav's cl_statchkdir
 * only notices files added or touched): the engine is rebuilt without
 * that file's signatures.
 */
static void
test_reload_removed(void **state)
{
	char dir[400], opt[420], path[512], *err;
	const char *ov[] = { "AVScan=yes", opt, "AVReloadCheck=100ms" };
	struct snap *s;
	uint64_t t0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/rmdb", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "cp '%s/db/vigil-test.ndb' '%s/'", tmp,
	    dir);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "%s/extra.ndb", dir);
	write_file(path, "Vigil.Test.Extra:0:*:5649474"
	    "94c2d455854524121\n");
	snprintf(opt, sizeof(opt), "DatabaseDirectory=%s", dir);
	if ((s = snap_with(ov, 3, &err)) == NULL)
		fail_msg("%s", err);
	assert_int_equal(av_stat(s, "av.engine.generation"), 1);
	assert_int_equal(unlink(path), 0);
	t0 = util_now_us();
	while (av_stat(s, "av.engine.generation") == 1 &&
	    util_now_us() - t0 < 20 * 1000000ULL)
		usleep(50 * 1000);
	assert_int_equal(av_stat(s, "av.engine.generation"), 2);
	snap_unref(&s);
}

/* A config reload with the same database shares the engine. */
static void
test_config_reload_shares(void **state)
{
	const char *ov[] = { "AVScan=yes", dbopt };
	const char *ov2[] = { "AVScan=yes", dbopt, "TagScore=3" };
	const char *ov3[] = { "AVScan=yes", dbopt, "AVMaxFiles=50" };
	struct snap *s1, *s2, *s3;
	char *err;

	if ((s1 = snap_with(ov, 2, &err)) == NULL ||
	    (s2 = snap_with(ov2, 3, &err)) == NULL)
		fail_msg("%s", err);
	assert_int_equal(wait_engines(s2, 1), 1);
	snap_unref(&s1);
	/* Other limits: an engine of its own. */
	if ((s3 = snap_with(ov3, 3, &err)) == NULL)
		fail_msg("%s", err);
	assert_int_equal(wait_engines(s3, 2), 2);
	snap_unref(&s2);
	assert_int_equal(wait_engines(s3, 1), 1);
	snap_unref(&s3);
}

static int
group_setup(void **state)
{
	char cmd[1024];

	log_init("test_av", 1, LOG_MAIL);
	log_set_level(LOG_WARNING);
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "python3 '%s/tests/av/gen_samples.py' '%s'",
	    t_srcdir(), tmp);
	if (system(cmd) != 0)
		return -1;
	snprintf(dbopt, sizeof(dbopt), "DatabaseDirectory=%s/db", tmp);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_missing_dir(void **state)
{
	char opt[400], *err;
	const char *ov[] = { "AVScan=yes", opt };
	struct snap *s;

	snprintf(opt, sizeof(opt), "DatabaseDirectory=%s/no-such-dir", tmp);
	s = snap_with(ov, 2, &err);
	assert_null(s);
	assert_non_null(err);
	assert_non_null(strstr(err, "no-such-dir"));
	free(err);
}

static void
test_empty_dir(void **state)
{
	char dir[400], opt[420], *err;
	const char *ov[] = { "AVScan=yes", opt };
	struct snap *s;

	snprintf(dir, sizeof(dir), "%s/empty", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(opt, sizeof(opt), "DatabaseDirectory=%s", dir);
	s = snap_with(ov, 2, &err);
	assert_null(s);
	assert_non_null(err);
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, "no signatures"));
	free(err);
}

/* Every generated sample gets its expected finding and action. */
static void
test_samples(void **state)
{
	const char *ov[] = { "AVScan=yes", dbopt };
	char path[1024], line[512], pbuf[512], *err;
	struct snap *s = snap_with(ov, 2, &err);
	double errors0;
	FILE *ex;
	int n = 0, paths = 0;

	if (s == NULL)
		fail_msg("snap_build: %s", err);
	errors0 = av_stat(s, "av.errors");
	snprintf(path, sizeof(path), "%s/EXPECTED", tmp);
	assert_non_null(ex = fopen(path, "r"));
	while (fgets(line, sizeof(line), ex) != NULL) {
		char *file = line, *want = strchr(line, '\t');
		const struct verdict *v;
		const struct hit *h;
		const char *text, *status, *wpath;
		struct msg *m;

		assert_non_null(want);
		*want++ = '\0';
		want[strcspn(want, "\n")] = '\0';
		snprintf(path, sizeof(path), "%s/msg/%s", tmp, file);
		m = scan_file(s, path, &v);
		status = header_out(m, "X-Virus-Status");
		if (status == NULL)
			fail_msg("%s: no X-Virus-Status", file);
		if ((wpath = want_path(file, pbuf, sizeof(pbuf))) != NULL) {
			if (!took_path(m, wpath))
				fail_msg("%s: want path %s, got %s", file,
				    wpath, av_json(m));
			paths++;
		}
		if (header_out(m, "X-Virus-Scanned") == NULL)
			fail_msg("%s: no X-Virus-Scanned", file);
		if (strncmp(want, "virus:", 6) == 0) {
			if ((h = find_hit(m, "AV_VIRUS")) == NULL ||
			    strncmp(h->detail, want + 6, strlen(want + 6)) != 0)
				fail_msg("%s: want %s, got %s", file, want,
				    h ? h->detail : "no AV_VIRUS");
			assert_int_equal(msg_forced_action(m, NULL, NULL,
			    &text, NULL), ACTION_REJECT);
			assert_int_equal(v->action, ACTION_REJECT);
			assert_string_equal(v->rcode, "554");
			assert_string_equal(v->xcode, "5.7.1");
			assert_non_null(strstr(v->text, h->detail));
			assert_non_null(strstr(status, "Infected"));
		} else if (strncmp(want, "heuristic:", 10) == 0) {
			if ((h = find_hit(m, "AV_HEURISTIC")) == NULL ||
			    strcmp(h->detail, want + 10) != 0)
				fail_msg("%s: want %s, got %s", file, want,
				    h ? h->detail : "no AV_HEURISTIC");
			assert_null(find_hit(m, "AV_VIRUS"));
			assert_int_equal(msg_forced_action(m, NULL, NULL, NULL,
			    NULL), -1);
		} else if (strncmp(want, "hit:", 4) == 0) {
			if (find_hit(m, want + 4) == NULL)
				fail_msg("%s: no %s", file, want + 4);
			assert_null(find_hit(m, "AV_VIRUS"));
			assert_string_equal(status, "Clean");
		} else {
			assert_string_equal(want, "clean");
			for (size_t i = 0; i < msg_hit_count(m); i++) {
				h = msg_hit(m, i);
				if (strncmp(h->name, "AV_", 3) == 0 ||
				    strncmp(h->name, "ATTACH_", 7) == 0)
					fail_msg("%s: unexpected %s %s", file,
					    h->name, h->detail);
			}
			assert_string_equal(status, "Clean");
		}
		msg_end(&m);
		n++;
	}
	fclose(ex);
	assert_true(n >= 24);
	assert_true(paths >= 15);
	assert_int_equal(av_stat(s, "av.errors"), errors0);
	snap_unref(&s);
}

static void
test_on_virus(void **state)
{
	static const struct { const char *opt; int want; } cases[] = {
		{ "OnVirus=reject", ACTION_REJECT },
		{ "OnVirus=quarantine", ACTION_QUARANTINE },
		{ "OnVirus=tag", ACTION_TAG },
		{ "OnVirus=discard", ACTION_DISCARD },
	};
	char path[512], *err;

	snprintf(path, sizeof(path), "%s/msg/eicar-zip.eml", tmp);
	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *ov[] = { "AVScan=yes", dbopt, cases[i].opt };
		struct snap *s = snap_with(ov, 3, &err);
		const struct verdict *v;
		struct msg *m;

		if (s == NULL)
			fail_msg("%s: %s", cases[i].opt, err);
		m = scan_file(s, path, &v);
		if (msg_forced_action(m, NULL, NULL, NULL, NULL) !=
		    cases[i].want || (int)v->action != cases[i].want)
			fail_msg("%s: forced %d, verdict %s", cases[i].opt,
			    msg_forced_action(m, NULL, NULL, NULL, NULL),
			    action_name(v->action));
		assert_string_equal(v->reason, "virus");
		msg_end(&m);
		snap_unref(&s);
	}
}

static void
test_attach_action(void **state)
{
	const char *ov[] = { "AttachAction=reject" };
	char path[512], *err;
	struct snap *s = snap_with(ov, 1, &err);
	const struct verdict *v;
	const char *text;
	struct msg *m;

	if (s == NULL)
		fail_msg("%s", err);
	snprintf(path, sizeof(path), "%s/msg/att-zip-in-zip-double.eml", tmp);
	m = scan_file(s, path, &v);
	assert_int_equal(msg_forced_action(m, NULL, NULL, &text, NULL),
	    ACTION_REJECT);
	assert_non_null(strstr(text, "invoice.pdf.exe"));
	assert_int_equal(v->action, ACTION_REJECT);
	msg_end(&m);
	snprintf(path, sizeof(path), "%s/msg/att-zip-clean.eml", tmp);
	m = scan_file(s, path, &v);
	assert_int_equal(msg_forced_action(m, NULL, NULL, NULL, NULL), -1);
	msg_end(&m);
	snap_unref(&s);
}

/* AVHeuristics no: neither the scan's heuristics nor phishing alerts. */
static void
test_heuristics_off(void **state)
{
	static const char *const files[] = {
		"phish-ssl.eml", "eicar-encrypted-zip.eml", "eicar-zip.eml",
	};
	const char *ov[] = { "AVScan=yes", dbopt, "AVHeuristics=no" };
	char path[512], *err;
	struct snap *s = snap_with(ov, 3, &err);

	if (s == NULL)
		fail_msg("%s", err);
	for (size_t i = 0; i < NELEM(files); i++) {
		const struct verdict *v;
		struct msg *m;

		snprintf(path, sizeof(path), "%s/msg/%s", tmp, files[i]);
		m = scan_file(s, path, &v);
		if (find_hit(m, "AV_HEURISTIC") != NULL)
			fail_msg("%s: AV_HEURISTIC with AVHeuristics=no",
			    files[i]);
		/* Signatures still count. */
		assert_int_equal(find_hit(m, "AV_VIRUS") != NULL, i == 2);
		msg_end(&m);
	}
	snap_unref(&s);
}

/* A scanner that cannot answer: AVOnError decides, never a silent pass. */
static void
test_scan_error(void **state)
{
	static const struct { const char *opt; int want; } cases[] = {
		{ "AVOnError=tempfail", ACTION_TEMPFAIL },
		{ "AVOnError=accept", ACTION_ACCEPT },
	};
	char sock[400], path[512], *err;

	snprintf(sock, sizeof(sock), "ClamdSocket=unix:%s/no-clamd.sock", tmp);
	snprintf(path, sizeof(path), "%s/msg/clean.eml", tmp);
	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *ov[] = { "AVScan=yes", sock, cases[i].opt };
		struct snap *s = snap_with(ov, 3, &err);
		const struct verdict *v;
		struct msg *m;

		if (s == NULL)
			fail_msg("%s: %s", cases[i].opt, err);
		m = scan_file(s, path, &v);
		if ((int)v->action != cases[i].want)
			fail_msg("%s: action %s", cases[i].opt,
			    action_name(v->action));
		assert_true(msg_failure_count(m) >= 1);
		msg_end(&m);
		snap_unref(&s);
	}
}

/*
 * libclamav 1.4 answers clean, unscanned, when it cannot create its
 * per-scan temp folder: a virus must not pass that way (AVOnError), on
 * the whole-message path nor on the fast path, whose scans need the
 * folder as much.
 */
static void
test_tmpdir_missing(void **state)
{
	static const struct { const char *file, *path; } cases[] = {
		{ "eicar-base64.eml", NULL },
		{ "text-7bit.eml", "fast" },
	};
	char tdir[400], path[512], *err;
	const char *ov[] = { "AVScan=yes", dbopt, tdir };
	struct snap *s;

	snprintf(tdir, sizeof(tdir), "AVTempDirectory=%s/no-such-folder", tmp);
	if ((s = snap_with(ov, 3, &err)) == NULL)
		fail_msg("%s", err);
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct verdict *v;
		struct msg *m;

		snprintf(path, sizeof(path), "%s/msg/%s", tmp, cases[i].file);
		m = scan_file(s, path, &v);
		if ((int)v->action != ACTION_TEMPFAIL)
			fail_msg("%s with no temp folder: action %s",
			    cases[i].file, action_name(v->action));
		assert_true(msg_failure_count(m) >= 1);
		if (cases[i].path != NULL)
			assert_true(took_path(m, cases[i].path));
		assert_null(find_hit(m, "AV_VIRUS"));
		msg_end(&m);
	}
	snap_unref(&s);
}

/*
 * A plain text message leaves no file in AVTempDirectory (libclamav
 * still makes its per-scan folder); the whole-message path writes its
 * parts there, which shows the count sees them.
 */
static void
test_fast_no_temp_files(void **state)
{
	static const struct {
		const char *file, *fast;
		bool files;
	} cases[] = {
		{ "text-clean.eml", "AVFastText=yes", false },
		{ "text-alt-qp.eml", "AVFastText=yes", false },
		{ "text-clean.eml", "AVFastText=no", true },
		{ "clean.eml", "AVFastText=yes", true },
	};
	char dir[400], tdir[420], path[512], *err;

	snprintf(dir, sizeof(dir), "%s/avtmp", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(tdir, sizeof(tdir), "AVTempDirectory=%s", dir);
	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *ov[] = { "AVScan=yes", dbopt, tdir, cases[i].fast };
		struct snap *s = snap_with(ov, 4, &err);
		const struct verdict *v;
		struct msg *m;

		if (s == NULL)
			fail_msg("%s", err);
		snprintf(path, sizeof(path), "%s/msg/%s", tmp, cases[i].file);
		fsspy_watch(dir);
		m = scan_file(s, path, &v);
		print_message("%s %s: %lu folders, %lu files created; %s\n",
		    cases[i].file, cases[i].fast, fsspy_dirs(), fsspy_files(),
		    av_json(m));
		/* libclamav's per-scan folders: the count sees libclamav. */
		assert_true(fsspy_dirs() >= 1);
		if (cases[i].files)
			assert_true(fsspy_files() >= 1);
		else
			assert_int_equal(fsspy_files(), 0);
		assert_true(took_path(m, cases[i].files ? "full" : "fast"));
		assert_int_equal(msg_failure_count(m), 0);
		msg_end(&m);
		snap_unref(&s);
	}
	fsspy_watch("");
}

/* Scans over AVMaxScanSize together take the whole-message path. */
static void
test_fast_limits(void **state)
{
	const char *ov[] = { "AVScan=yes", dbopt, "AVMaxScanSize=1024" };
	const char *ov2[] = { "AVScan=yes", dbopt };
	char path[512], *err;
	struct snap *s;
	const struct verdict *v;
	struct msg *m;

	snprintf(path, sizeof(path), "%s/msg/text-big.eml", tmp);
	if ((s = snap_with(ov, 3, &err)) == NULL)
		fail_msg("%s", err);
	m = scan_file(s, path, &v);
	/* The raw message fits, raw plus its decoded text does not. */
	assert_true(msg_size(m) < 1024);
	if (!took_path(m, "full"))
		fail_msg("over AVMaxScanSize: %s", av_json(m));
	msg_end(&m);
	snap_unref(&s);
	if ((s = snap_with(ov2, 2, &err)) == NULL)
		fail_msg("%s", err);
	m = scan_file(s, path, &v);
	if (!took_path(m, "fast"))
		fail_msg("within AVMaxScanSize: %s", av_json(m));
	assert_non_null(find_hit(m, "AV_VIRUS"));
	msg_end(&m);
	snap_unref(&s);
}

/*
 * A message past MaxScanSize is scanned on its first MaxScanSize bytes
 * (OversizeAction scan, the default): a virus there is found however
 * much padding follows; with OversizeAction accept it is not scanned.
 */
static void
test_oversize_truncated(void **state)
{
	const char *ov[] = { "AVScan=yes", dbopt, "MaxScanSize=4k" };
	const char *ov2[] = { "AVScan=yes", dbopt, "MaxScanSize=4k",
	    "OversizeAction=accept" };
	GString *g = g_string_new("From: a@example.org\nTo: b@example.net\n"
	    "Subject: padded\nDate: Fri, 27 Nov 2026 10:00:00 +0000\n"
	    "Message-ID: <padded@example.org>\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"=b\"\n\n"
	    "--=b\nContent-Type: text/plain\n\nhello\n"
	    "--=b\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"eicar.com.txt\"\n\n"
	    "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!"
	    "$H+H*\n"
	    "--=b\nContent-Type: application/octet-stream; name=pad.bin\n"
	    "Content-Transfer-Encoding: base64\n\n");
	const struct verdict *v;
	struct scan_env env = { .helo = "client.example.org" };
	struct snap *s;
	struct msg *m;
	char *err;

	(void)state;
	for (int i = 0; i < 2000; i++)	/* 150 KB past MaxScanSize */
		g_string_append(g, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
		    "QUFBQUFBQUFBQUFBQUFBQUFB\n");
	g_string_append(g, "--=b--\n");
	if ((s = snap_with(ov, 3, &err)) == NULL)
		fail_msg("%s", err);
	m = scan_buffer(s, &env, (const unsigned char *)g->str, g->len,
	    "test", &v);
	assert_true(msg_is_oversize(m));
	assert_true(msg_is_truncated(m));
	if (find_hit(m, "AV_VIRUS") == NULL)
		fail_msg("truncated scan found no virus: %s", av_json(m));
	assert_string_equal(v->reason, "virus");
	msg_end(&m);
	snap_unref(&s);
	if ((s = snap_with(ov2, 4, &err)) == NULL)
		fail_msg("%s", err);
	m = scan_buffer(s, &env, (const unsigned char *)g->str, g->len,
	    "test", &v);
	assert_null(find_hit(m, "AV_VIRUS"));
	msg_end(&m);
	snap_unref(&s);
	g_string_free(g, TRUE);
}

struct flow {
	struct snap	*s;
	char		 virus[512], clean[512];
	volatile bool	 stop;
	unsigned	 scans, wrong;
};

/* Scans a virus and a clean message in turn until told to stop. */
static void *
flow_run(void *arg)
{
	struct flow *f = arg;

	while (!f->stop) {
		const struct verdict *v;
		struct msg *m = scan_file(f->s, f->virus, &v);

		if (v->action != ACTION_REJECT)
			__atomic_add_fetch(&f->wrong, 1, __ATOMIC_RELAXED);
		msg_end(&m);
		m = scan_file(f->s, f->clean, &v);
		if (v->action != ACTION_ACCEPT || msg_failure_count(m) != 0)
			__atomic_add_fetch(&f->wrong, 1, __ATOMIC_RELAXED);
		msg_end(&m);
		__atomic_add_fetch(&f->scans, 2, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* New signatures are picked up without a config reload, mid-flow. */
static void
test_reload(void **state)
{
	char dir[400], opt[420], src[512], dst[512], tmpf[512], *err;
	const char *ov[] = { "AVScan=yes", opt, "AVReloadCheck=100ms" };
	struct flow f = { 0 };
	pthread_t th[2];
	double errors0;
	char *ndb, *own;
	size_t len;
	bool seen = false;
	uint64_t t0;
	unsigned scans0;

	/* A database with the EICAR pattern only. */
	snprintf(dir, sizeof(dir), "%s/rdb", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(src, sizeof(src), "%s/db/vigil-test.ndb", tmp);
	assert_non_null(ndb = slurp_path(src, &len));
	assert_non_null(own = strstr(ndb, "Vigil.Test.Own.NDB"));
	snprintf(dst, sizeof(dst), "%s/eicar.ndb", dir);
	*own = '\0';
	write_file(dst, ndb);
	snprintf(opt, sizeof(opt), "DatabaseDirectory=%s", dir);
	if ((f.s = snap_with(ov, 3, &err)) == NULL)
		fail_msg("%s", err);
	assert_int_equal(av_stat(f.s, "av.engine.generation"), 1);
	errors0 = av_stat(f.s, "av.errors");

	snprintf(f.virus, sizeof(f.virus), "%s/msg/eicar-zip.eml", tmp);
	snprintf(f.clean, sizeof(f.clean), "%s/msg/clean.eml", tmp);
	for (size_t i = 0; i < NELEM(th); i++)
		assert_int_equal(pthread_create(&th[i], NULL, flow_run, &f), 0);

	/* Add the own-marker signature, atomically as freshclam does. */
	snprintf(src, sizeof(src), "%s/msg/own-zip.eml", tmp);
	*own = 'V';
	snprintf(tmpf, sizeof(tmpf), "%s/own.tmp", dir);
	snprintf(dst, sizeof(dst), "%s/own.ndb", dir);
	write_file(tmpf, own);
	assert_int_equal(rename(tmpf, dst), 0);
	free(ndb);

	t0 = util_now_us();
	while (!seen && util_now_us() - t0 < 20 * 1000000ULL) {
		const struct verdict *v;
		struct msg *m = scan_file(f.s, src, &v);

		seen = msg_has_hit(m, "AV_VIRUS");
		msg_end(&m);
		if (!seen)
			usleep(50 * 1000);
	}
	/* Keep the flow going past the swap: 20 more scans (20 s at most). */
	scans0 = __atomic_load_n(&f.scans, __ATOMIC_RELAXED);
	t0 = util_now_us();
	while (__atomic_load_n(&f.scans, __ATOMIC_RELAXED) < scans0 + 20 &&
	    util_now_us() - t0 < 20 * 1000000ULL)
		usleep(10 * 1000);
	f.stop = true;
	for (size_t i = 0; i < NELEM(th); i++)
		pthread_join(th[i], NULL);

	assert_true(seen);
	assert_true(f.scans >= scans0 + 20);
	assert_int_equal(f.wrong, 0);
	assert_int_equal(av_stat(f.s, "av.engine.generation"), 2);
	assert_int_equal(av_stat(f.s, "av.errors"), errors0);
	/* The first engine went away with its last scan. */
	assert_int_equal(wait_engines(f.s, 1), 1);
	print_message("reload: %u messages scanned during the reload, "
	    "none wrong\n", f.scans);
	snap_unref(&f.s);
}

/* The MIME oracle (torture and malformed mail) carries no virus. */
static void
test_mime_oracle(void **state)
{
	const char *ov[] = { "AVScan=yes", dbopt };
	char dir[512], path[1024], line[2048], *err;
	struct snap *s;
	FILE *man;
	int n = 0, rows = 0;

	if (t_shared("oracles/mime", dir, sizeof(dir)) == NULL)
		skip();
	snprintf(path, sizeof(path), "%s/MANIFEST.tsv", dir);
	if ((man = fopen(path, "r")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	if ((s = snap_with(ov, 2, &err)) == NULL)
		fail_msg("%s", err);
	while (fgets(line, sizeof(line), man) != NULL) {
		char *file = strchr(line, '\t'), *end;
		const struct verdict *v;
		const struct hit *h;
		struct msg *m;

		if (line[0] == '#' || file == NULL ||
		    (end = strchr(++file, '\t')) == NULL)
			continue;
		*end = '\0';
		rows++;
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		m = scan_file(s, path, &v);
		if ((h = find_hit(m, "AV_VIRUS")) != NULL)
			fail_msg("%s: %s", path, h->detail);
		if (msg_failure_count(m) != 0)
			fail_msg("%s: scan failed", path);
		if (header_out(m, "X-Virus-Status") == NULL)
			fail_msg("%s: not scanned", path);
		n++;
		msg_end(&m);
	}
	fclose(man);
	print_message("mime oracle: %d of %d messages scanned clean\n", n,
	    rows);
	assert_true(rows >= 300);
	assert_int_equal(n, rows);
	snap_unref(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_dir),
		cmocka_unit_test(test_empty_dir),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_on_virus),
		cmocka_unit_test(test_attach_action),
		cmocka_unit_test(test_heuristics_off),
		cmocka_unit_test(test_scan_error),
		cmocka_unit_test(test_tmpdir_missing),
		cmocka_unit_test(test_fast_no_temp_files),
		cmocka_unit_test(test_fast_limits),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_reload_failure),
		cmocka_unit_test(test_reload_removed),
		cmocka_unit_test(test_config_reload_shares),
		cmocka_unit_test(test_mime_oracle),
		cmocka_unit_test(test_oversize_truncated),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
