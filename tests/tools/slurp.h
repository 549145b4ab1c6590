/*
 * slurp.h - reading a whole file into memory, for the test programs
 * (unit tests through t.h, the conformance runners, bench_av, dkim_sign).
 * Header-only: each of them is its own program.
 */
#ifndef VIGIL_TESTS_SLURP_H
#define VIGIL_TESTS_SLURP_H

#include <stdio.h>
#include <stdlib.h>

/* The rest of f, NUL-terminated and malloc'd; NULL when reading fails
 * (a folder, an I/O error) or memory runs out. */
static inline char *
slurp_stream(FILE *f, size_t *len_r)
{
	size_t cap = 65536, n = 0, r;
	char *buf = malloc(cap + 1), *nb;

	*len_r = 0;
	while (buf != NULL && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			if ((nb = realloc(buf, (cap *= 2) + 1)) == NULL)
				free(buf);
			buf = nb;
		}
	}
	if (buf != NULL && ferror(f)) {
		free(buf);
		buf = NULL;
	}
	if (buf == NULL)
		return NULL;
	buf[n] = '\0';
	*len_r = n;
	return buf;
}

/* The file at path, as slurp_stream; NULL (errno set) when it cannot be
 * opened or read. */
static inline char *
slurp_path(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	*len_r = 0;
	if (f == NULL)
		return NULL;
	buf = slurp_stream(f, len_r);
	fclose(f);
	return buf;
}

#endif
