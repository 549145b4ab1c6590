/*
 * t.h - helpers shared by the unit tests: the source tree, reading and
 * writing files, snapshots from config text, and scanning a message
 * given as a string.
 */
#ifndef VIGIL_T_H
#define VIGIL_T_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"
#include "mime.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "verdict.h"

#include "../tools/slurp.h"	/* slurp_path(): a whole file */

/* The source tree: $top_srcdir (make check sets it), else ".". */
static inline const char *
t_srcdir(void)
{
	const char *s = getenv("top_srcdir");

	return s != NULL ? s : ".";
}

/*
 * Path of `sub` in the shared data (corpus, oracles) that live outside
 * the repository: $VIGIL_SHARED (run-all.sh sets it), else ../shared
 * beside the source tree; written to buf.  Returns buf, or NULL if it is
 * not there: the caller then says so and skips (a bare clone has none).
 */
static inline const char *
t_shared(const char *sub, char *buf, size_t size)
{
	const char *s = getenv("VIGIL_SHARED");

	if (s != NULL && *s != '\0')
		snprintf(buf, size, "%s/%s", s, sub);
	else
		snprintf(buf, size, "%s/../shared/%s", t_srcdir(), sub);
	if (access(buf, R_OK) != 0) {
		print_message("%s not found: shared data live outside the "
		    "repository (../shared or $VIGIL_SHARED); skipped\n", buf);
		return NULL;
	}
	return buf;
}

/* Writes text to a new temp file; returns its malloc'd path. */
static inline char *
t_write_file(const char *text)
{
	char *path = strdup("/tmp/vigil-test-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/*
 * A snapshot from config text (NULL: only "Checks headers", so that the
 * core's verdict tests see only the structural header checks) and
 * overrides.
 */
static inline struct snap *
t_snap(const char *conf, const char *const *ov, size_t nov)
{
	char *path = t_write_file(conf ? conf : "Checks headers\n");
	char *err = NULL;
	struct cfg *c = cfg_load(path, ov, nov, &err);
	struct snap *s;

	if (c == NULL)
		fail_msg("cfg_load: %s", err);
	s = snap_build(c, &err);
	if (s == NULL)
		fail_msg("snap_build: %s", err);
	cfg_unref(&c);
	unlink(path);
	free(path);
	return s;
}

/* Scans text as a message from an internet client. */
static inline struct msg *
t_scan(struct snap *s, const char *text, const struct verdict **v_r)
{
	static const char *rcpt[] = { "bob@example.com" };
	struct scan_env env = { .client_addr = "192.0.2.7",
	    .client_name = "mx.example.net", .helo = "mx.example.net",
	    .rcpts = rcpt, .nrcpts = 1 };

	mime_init();
	return scan_buffer(s, &env, (const unsigned char *)text, strlen(text),
	    "test", v_r);
}

#endif
