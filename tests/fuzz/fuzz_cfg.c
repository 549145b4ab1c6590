/*
 * fuzz_cfg.c - the config parser: the input as a config file through
 * cfg_load(), then every option read back and the effective settings
 * written out.  The first line, when it looks like Keyword=value, is
 * also given as a -o override.  A refused config must say why.
 */
#include "fuzz.h"

static void
read_all(const struct cfg *c)
{
	for (size_t t = 0; cfg_tables[t] != NULL; t++)
		for (const struct opt *o = cfg_tables[t]; o->name != NULL; o++) {
			switch (o->type) {
			case OPT_BOOL: (void)cfg_bool(c, o->name); break;
			case OPT_INT: (void)cfg_int(c, o->name); break;
			case OPT_DOUBLE: (void)cfg_double(c, o->name); break;
			case OPT_SIZE: (void)cfg_size(c, o->name); break;
			case OPT_DURATION: (void)cfg_duration_ms(c, o->name); break;
			case OPT_STRING:
			case OPT_PATH: (void)cfg_str(c, o->name); break;
			case OPT_ENUM: (void)cfg_enum_str(c, o->name); break;
			case OPT_LIST:
			case OPT_MULTI: (void)cfg_list(c, o->name, NULL); break;
			}
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	char *path, *err = NULL, *first = NULL, *nl;
	const char *ov[1];
	size_t nov = 0;
	struct cfg *c;

	(void)fuzz_snap("Checks headers\n");
	if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
		abort();
	path = fuzz_write_temp(data, size);
	first = fuzz_cstr(data, size);
	if ((nl = strchr(first, '\n')) != NULL)
		*nl = '\0';
	if (strchr(first, '=') != NULL && first[0] != '#')
		ov[nov++] = first;
	c = cfg_load(path, ov, nov, &err);
	if (c == NULL) {
		if (err == NULL || *err == '\0')
			abort();	/* a refusal always says why */
	} else {
		read_all(c);
		cfg_dump(null, c);
		cfg_unref(&c);
	}
	free(err);
	unlink(path);
	free(path);
	free(first);
	return 0;
}
