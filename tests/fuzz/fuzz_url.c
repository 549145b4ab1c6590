/*
 * fuzz_url.c - URL extraction: url_scan_text() over the input, every run
 * it finds through url_normalize(), and the whole input normalised as if
 * it were an href attribute.  A found run must lie inside the input.
 */
#include "fuzz.h"

#include "lib/arena.h"
#include "msg.h"

struct scan {
	struct arena	*a;
	const char	*start;
	size_t		 len;
	size_t		 found;
};

static void
check_url(struct arena *a, const char *s, size_t n)
{
	struct murl u;

	memset(&u, 0, sizeof(u));
	if (!url_normalize(a, s, n, &u))
		return;
	if (u.url == NULL || u.host == NULL || u.domain == NULL)
		abort();	/* a normalised URL is complete */
	(void)strlen(u.url);
	(void)url_domain(a, u.host);
}

static void
on_url(void *arg, const char *url, size_t len)
{
	struct scan *sc = arg;

	if (url < sc->start || len > sc->len ||
	    (size_t)(url - sc->start) > sc->len - len)
		abort();	/* the run lies outside the text */
	sc->found++;
	check_url(sc->a, url, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan sc;
	char *copy;

	(void)fuzz_snap("Checks headers\n");	/* logging, PSL */
	/* Exact-size heap copy: a read past the end is caught. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	sc.a = arena_new("fuzz-url");
	sc.start = copy;
	sc.len = size;
	sc.found = 0;
	url_scan_text(copy, size, on_url, &sc);
	check_url(sc.a, copy, size);
	arena_free(&sc.a);
	free(copy);
	return 0;
}
