/*
 * logread.c - see logread.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <glib.h>

#include "cfg.h"
#include "ctl/logread.h"
#include "ctl/vigilctl.h"
#include "lib/util.h"

char *
logread_path(const struct ctl_opts *o, const char *given, const char *who,
    int *rc_r)
{
	struct cfg *c;
	char *p;

	if (given != NULL)
		return strdup(given);
	if ((c = ctl_cfg(o)) == NULL) {
		*rc_r = EX_CONFIG;
		return NULL;
	}
	if (cfg_str(c, "LogFile") == NULL) {
		fprintf(stderr, "%s: no LogFile in %s (set LogFile and LogFormat "
		    "json, or give --log FILE)\n", who, cfg_file(c));
		cfg_unref(&c);
		*rc_r = EX_USAGE;
		return NULL;
	}
	p = strdup(cfg_str(c, "LogFile"));
	cfg_unref(&c);
	return p;
}

bool
logread_since(const char *text, double *since_r)
{
	uint64_t ms;

	if (!util_parse_duration(text, &ms))
		return false;
	*since_r = (double)time(NULL) - (double)ms / 1000.0;
	return true;
}

const char *
lr_str(struct json_object *rec, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(rec, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

double
lr_num(struct json_object *rec, const char *key, double def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(rec, key, &v) ||
	    (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int)))
		return def;
	return json_object_get_double(v);
}

/* One file; missing_ok for the rotated one. */
static int
read_file(const char *who, const char *path, bool missing_ok, double since,
    logread_fn fn, void *arg, unsigned *nbad_r)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		if (missing_ok && errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: %s: %s\n", who, path, strerror(errno));
		return EX_NOINPUT;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct json_object *rec;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		rec = json_tokener_parse(line);
		if (rec == NULL || !json_object_is_type(rec, json_type_object)) {
			(*nbad_r)++;
			json_object_put(rec);
			continue;
		}
		if (lr_num(rec, "ts", 0) >= since)
			fn(arg, rec);
		json_object_put(rec);
	}
	free(line);
	fclose(f);
	return 0;
}

int
logread_each(const char *who, const char *path, double since, logread_fn fn,
    void *arg, unsigned *nbad_r)
{
	char *old = g_strdup_printf("%s.1", path);
	int rc = read_file(who, old, true, since, fn, arg, nbad_r);

	g_free(old);
	if (rc != 0)
		return rc;
	return read_file(who, path, false, since, fn, arg, nbad_r);
}
