/*
 * groups.c - findings that fire on the same evidence (groups.h).  The
 * hits of every two findings are counted in one pass over the rows (a
 * d x d matrix: a rule set has a few thousand findings at most); the
 * groups are then grown greedily, the findings that hit most first.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>

#include "lib/log.h"
#include "scores/groups.h"


/* More hits first, then the lower index: the same groups every run. */
static int
cmp_hits(const void *a, const void *b, void *arg)
{
	const uint32_t *count = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (count[x] != count[y])
		return count[x] > count[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

static double
jaccard(const uint32_t *co, const uint32_t *count, size_t d, uint32_t a,
    uint32_t b)
{
	uint32_t both = co[(size_t)a * d + b];
	uint32_t either = count[a] + count[b] - both;

	return either == 0 ? 0.0 : (double)both / either;
}

size_t
feature_groups(size_t n, size_t d, const size_t *row, const uint32_t *idx,
    const signed char *sign, double min_jaccard, uint32_t *group)
{
	uint32_t *co, *count, *ord, *members;
	size_t	 ngroups = 0;

	for (size_t j = 0; j < d; j++)
		group[j] = UINT32_MAX;
	if (d == 0)
		return 0;
	co = calloc(d * d, sizeof(*co));
	count = calloc(d, sizeof(*count));
	ord = malloc(d * sizeof(*ord));
	members = malloc(d * sizeof(*members));
	if (co == NULL || count == NULL || ord == NULL || members == NULL)
		log_oom(d * d * sizeof(*co), "scores");
	for (size_t i = 0; i < n; i++)
		for (size_t k = row[i]; k < row[i + 1]; k++) {
			count[idx[k]]++;
			for (size_t l = row[i]; l < row[i + 1]; l++)
				co[(size_t)idx[k] * d + idx[l]]++;
		}
	for (size_t j = 0; j < d; j++)
		ord[j] = (uint32_t)j;
	qsort_r(ord, d, sizeof(*ord), cmp_hits, count);
	for (size_t a = 0; a < d; a++) {
		size_t	 nm = 0;

		if (group[ord[a]] != UINT32_MAX)
			continue;
		members[nm++] = ord[a];
		for (size_t b = a + 1; b < d && min_jaccard <= 1.0; b++) {
			uint32_t f = ord[b];
			bool	 alike = group[f] == UINT32_MAX &&
			    (sign == NULL || sign[f] == sign[ord[a]]);

			for (size_t m = 0; m < nm && alike; m++)
				alike = jaccard(co, count, d, members[m], f) >=
				    min_jaccard;
			if (alike)
				members[nm++] = f;
		}
		for (size_t m = 0; m < nm; m++)
			group[members[m]] = (uint32_t)ngroups;
		ngroups++;
	}
	free(co);
	free(count);
	free(ord);
	free(members);
	return ngroups;
}
