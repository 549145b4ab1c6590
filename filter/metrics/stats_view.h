/*
 * stats_view.h - `vigilctl stats` output from the daemon's "name value"
 * lines: a JSON object for scripts, or a grouped, sorted view for people.
 * Pure formatting; the caller owns the text and the stream.
 */
#ifndef VIGIL_STATS_VIEW_H
#define VIGIL_STATS_VIEW_H

#include <stddef.h>
#include <stdio.h>

/* {"messages.accept": 12, "version.rules": "0a1b...", ...}: every line,
 * in name order; values that are numbers stay numbers, except versions
 * (version.*), which are always strings. */
void	stats_write_json(FILE *out, const char *text);
/* The same "name value" lines, grouped under "# title" lines and sorted:
 * versions first, then messages, scanning, checks, the rules that hit
 * (busiest first, each with its time and limit lines; rules without
 * hits are counted, not listed), then every other group.  Scripts that
 * read "name value" lines (awk '$1 == "messages.tag"') keep working. */
void	stats_write_human(FILE *out, const char *text);

#endif
