/*
 * xfail.h - expected-failure lists for the conformance runners: one case
 * name a line, '#' comments.  A failure not listed is a regression (the
 * runner exits 1); a listed case that passes is reported as fixed, so the
 * list can shrink.  Header-only: each runner is one program.
 */
#ifndef VIGIL_XFAIL_H
#define VIGIL_XFAIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xfail {
	char	**names;
	size_t	  n;
	char	**unexpected, **fixed;
	size_t	  nunexpected, nfixed, nexpected;
};

static inline struct xfail *
xfail_load(const char *path)
{
	struct xfail *xf = calloc(1, sizeof(*xf));
	char line[512];
	FILE *f;

	if (xf == NULL)
		return NULL;
	if (path == NULL)
		return xf;
	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		free(xf);
		return NULL;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line + strspn(line, " \t");

		p[strcspn(p, " \t\r\n#")] = '\0';
		if (*p == '\0')
			continue;
		xf->names = realloc(xf->names, (xf->n + 1) * sizeof(char *));
		xf->names[xf->n++] = strdup(p);
	}
	fclose(f);
	return xf;
}

static inline bool
xfail_listed(const struct xfail *xf, const char *name)
{
	for (size_t i = 0; i < xf->n; i++)
		if (strcmp(xf->names[i], name) == 0)
			return true;
	return false;
}

static inline void
xfail_note(struct xfail *xf, const char *name, bool passed)
{
	bool listed = xfail_listed(xf, name);

	if (!passed && listed)
		xf->nexpected++;
	else if (!passed) {
		xf->unexpected = realloc(xf->unexpected,
		    (xf->nunexpected + 1) * sizeof(char *));
		xf->unexpected[xf->nunexpected++] = strdup(name);
	} else if (listed) {
		xf->fixed = realloc(xf->fixed, (xf->nfixed + 1) * sizeof(char *));
		xf->fixed[xf->nfixed++] = strdup(name);
	}
}

/*
 * Prints "SUITE: N passed, N failed, N expected failures (LIST)" where
 * "failed" counts the failures the list does not name, then a detail
 * line; true when nothing failed unexpectedly.
 */
static inline bool
xfail_report(const struct xfail *xf, const char *suite, int npass,
    const char *list, const char *extra)
{
	printf("%s: %d passed, %zu failed, %zu expected failures (%s)%s\n",
	    suite, npass, xf->nunexpected, xf->nexpected, list, extra);
	printf("# %s: %zu expected failures (listed), %zu unexpected",
	    suite, xf->nexpected, xf->nunexpected);
	for (size_t i = 0; i < xf->nunexpected; i++)
		printf("%s%s", i ? " " : ": ", xf->unexpected[i]);
	printf(", %zu listed but passing", xf->nfixed);
	for (size_t i = 0; i < xf->nfixed; i++)
		printf("%s%s", i ? " " : ": ", xf->fixed[i]);
	printf("\n");
	return xf->nunexpected == 0;
}

#endif
