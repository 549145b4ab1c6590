/*
 * fuzz_html.c - html_render() on any bytes: the rendered text must be
 * NUL-terminated at len and every link complete.
 */
#include "fuzz.h"

#include "html.h"
#include "lib/arena.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct html_out out;
	struct arena *a;
	char *copy;

	(void)fuzz_snap("Checks headers\n");
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	a = arena_new("fuzz-html");
	memset(&out, 0, sizeof(out));
	html_render(a, copy, size, &out);
	if (out.text == NULL || out.text[out.len] != '\0')
		abort();
	for (size_t i = 0; i < out.nlinks; i++)
		if (out.links[i].url == NULL ||
		    strlen(out.links[i].url) > size)
			abort();	/* a link is made of the input */
	arena_free(&a);
	free(copy);
	return 0;
}
