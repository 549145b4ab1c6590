/*
 * logread.h - reading LogFile's JSON records for vigilctl trace and
 * report: one object a line (json-c parses them), the rotated file
 * (FILE.1) before the live one.
 */
#ifndef VIGIL_LOGREAD_H
#define VIGIL_LOGREAD_H

#include <stdbool.h>

#include <json-c/json.h>

struct ctl_opts;

/*
 * The log to read: given (--log), else the configuration's LogFile.
 * NULL with the reason printed after who and *rc_r set (78 configuration,
 * 64 no LogFile); the string is malloc'd (caller frees).
 */
char	*logread_path(const struct ctl_opts *, const char *given,
	    const char *who, int *rc_r);

/* "2d", "12h", "30m": *since_r = now minus that, in seconds since the
 * epoch.  False when text is no duration. */
bool	 logread_since(const char *text, double *since_r);

/*
 * Calls fn for each record of path.1 (if it exists) then path whose "ts"
 * is at least since, in file order; fn owns nothing (json_object_get()
 * to keep one).  Lines that are not JSON objects (a text LogFormat, a
 * cut line) are counted in *nbad_r.  Returns 0, or 66 when path cannot
 * be read (said on stderr after who).
 */
typedef void (*logread_fn)(void *arg, struct json_object *rec);
int	 logread_each(const char *who, const char *path, double since,
	    logread_fn fn, void *arg, unsigned *nbad_r);

/* A record's field: the string (NULL when missing or not one), the
 * number (def when missing). */
const char	*lr_str(struct json_object *rec, const char *key);
double		 lr_num(struct json_object *rec, const char *key, double def);

#endif
