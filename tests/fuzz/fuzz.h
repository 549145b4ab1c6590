/*
 * fuzz.h - what the fuzz targets share: one snapshot built from config
 * text on first use, quiet logging, and a NUL-terminated copy of the
 * input.  Each target defines LLVMFuzzerTestOneInput(); libFuzzer
 * (--enable-fuzzers) or replay.c (every other build) provides main().
 */
#ifndef VIGIL_FUZZ_H
#define VIGIL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "lib/log.h"
#include "mime.h"
#include "snap.h"
#include "url.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes n bytes to a new temp file; returns its malloc'd path or NULL. */
static inline char *
fuzz_write_temp(const void *data, size_t n)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (asprintf(&path, "%s/vigil-fuzz-XXXXXX", dir ? dir : "/tmp") < 0)
		return NULL;
	fd = mkstemp(path);
	if (fd < 0) {
		perror(path);
		abort();	/* the harness is broken, not the code */
	}
	if (write(fd, data, n) != (ssize_t)n) {
		perror(path);
		abort();
	}
	close(fd);
	return path;
}

/*
 * The snapshot every scan uses, built once from conf_text (e.g. "Checks
 * headers\n").  A config the core refuses is a harness bug: abort.
 */
static inline struct snap *
fuzz_snap(const char *conf_text)
{
	static struct snap *s;
	char *path, *err = NULL;
	struct cfg *c;

	if (s != NULL)
		return s;
	log_init("vigil-fuzz", 1, LOG_MAIL);
	log_set_level(getenv("FUZZ_VERBOSE") ? LOG_DEBUG : LOG_EMERG);
	mime_init();
	url_init();
	path = fuzz_write_temp(conf_text, strlen(conf_text));
	c = cfg_load(path, NULL, 0, &err);
	unlink(path);
	free(path);
	if (c == NULL) {
		fprintf(stderr, "fuzz: config: %s\n", err);
		abort();
	}
	s = snap_build(c, &err);
	cfg_unref(&c);
	if (s == NULL) {
		fprintf(stderr, "fuzz: snapshot: %s\n", err);
		abort();
	}
	return s;
}

/* A NUL-terminated malloc'd copy of the input (the caller frees). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
