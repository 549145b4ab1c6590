/*
 * cfg.h - the configuration: `Keyword value` lines checked against option
 * tables that each module declares once (name, type, default, bounds,
 * help).  A loaded configuration is an immutable, reference-counted
 * snapshot; reload builds a new one and keeps the old one on any error.
 *
 * Modules read their options in their setup() through the typed
 * accessors below; asking for an option no table declares is a bug.
 */
#ifndef VIGIL_CFG_H
#define VIGIL_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cfg;

enum opt_type {
	OPT_BOOL,	/* yes|no|true|false|on|off|1|0 */
	OPT_INT,	/* integer within [min, max] */
	OPT_DOUBLE,	/* real number within [min, max] */
	OPT_SIZE,	/* bytes: 10, 64k, 1m, 2g */
	OPT_DURATION,	/* 500ms, 30s, 5m, 2h, 30d; plain number = seconds */
	OPT_STRING,	/* the rest of the line; surrounding "" removed */
	OPT_PATH,	/* a file name, relative to the config file's folder */
	OPT_ENUM,	/* one of choices, "a|b|c" */
	OPT_LIST,	/* words split at commas and blanks; repeats add */
	OPT_MULTI,	/* each line is one item; repeats add */
};

struct opt {
	const char	*name;
	enum opt_type	 type;
	const char	*def;		/* default as written in a config; NULL = unset */
	double		 min, max;	/* bounds for INT, DOUBLE, SIZE, DURATION(ms) */
	const char	*choices;	/* OPT_ENUM: "a|b|c" */
	const char	*help;		/* one line, for the sample config and --help */
};

/* Option tables, each ending with an entry whose name is NULL (registry.c). */
extern const struct opt *const cfg_tables[];
extern const struct opt core_opts[];
/* The title of each table in vigil.conf(5), in the same order. */
extern const char *const cfg_table_titles[];

/*
 * Loads path (NULL: only defaults and overrides) and applies overrides,
 * each "Keyword=value".  Returns a snapshot with one reference, or NULL
 * with *err_r set to a malloc'd "file:line: Keyword: problem" (caller
 * frees).
 */
struct cfg	*cfg_load(const char *path, const char *const *overrides,
		    size_t noverrides, char **err_r);
struct cfg	*cfg_ref(struct cfg *);
void		 cfg_unref(struct cfg **);

bool		 cfg_bool(const struct cfg *, const char *name);
long long	 cfg_int(const struct cfg *, const char *name);
double		 cfg_double(const struct cfg *, const char *name);
uint64_t	 cfg_size(const struct cfg *, const char *name);
uint64_t	 cfg_duration_ms(const struct cfg *, const char *name);
/* STRING or PATH (paths resolved); NULL when unset.  Owned by the cfg. */
const char	*cfg_str(const struct cfg *, const char *name);
/* ENUM: the index of the value in choices. */
int		 cfg_enum(const struct cfg *, const char *name);
/* ENUM: the value as text. */
const char	*cfg_enum_str(const struct cfg *, const char *name);
/* LIST or MULTI: the items (NULL-terminated), count in *n_r if non-NULL. */
const char *const *cfg_list(const struct cfg *, const char *name, size_t *n_r);
/* Was the option set in the file or by an override (not a default)? */
bool		 cfg_is_set(const struct cfg *, const char *name);
/* The config file as given (or "(defaults)") and its folder. */
const char	*cfg_file(const struct cfg *);
const char	*cfg_dir(const struct cfg *);
/* Resolves a relative path against the config's folder; malloc'd. */
char		*cfg_resolve(const struct cfg *, const char *path);

/* Writes an annotated config listing every option with its default. */
void		 cfg_write_defaults(FILE *);
/* Writes vigil.conf(5) in mdoc from the option tables (every option, its
 * type, default and meaning), so that the manual cannot drift. */
void		 cfg_write_man(FILE *);
/* Writes the effective settings of c, one `Keyword value` a line. */
void		 cfg_dump(FILE *, const struct cfg *c);
/* Finds an option's declaration by name (case-insensitive); NULL if none. */
const struct opt *cfg_find_opt(const char *name);

#endif
