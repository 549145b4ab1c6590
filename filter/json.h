/*
 * json.h - writing JSON text: string escaping for vigilctl's --json
 * output and the quarantine index.
 */
#ifndef VIGIL_JSON_H
#define VIGIL_JSON_H

#include <stddef.h>
#include <stdio.h>

struct arena;

/* Writes s as a JSON string (quotes included); bad UTF-8 as U+FFFD. */
void	json_put_string(FILE *, const char *s);
/* The same into the arena. */
char	*json_string(struct arena *, const char *s);

#endif
