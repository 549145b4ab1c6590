/*
 * metrics.h - the Prometheus / OpenMetrics text exposition of vigil's
 * counters.  Pure formatting: the daemon hands it what it counted (its
 * own families and the "name value" lines that `vigilctl stats` shows)
 * when a scrape comes in; nothing here runs per message.
 */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/histo.h"

enum metrics_type {
	METRICS_COUNTER,	/* samples get _total */
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
	METRICS_UNKNOWN,	/* "untyped" in the Prometheus text format */
};

/* One exposition being written. */
struct metrics_fmt {
	FILE		*out;
	bool		 is_openmetrics;	/* else text format 0.0.4 */
	size_t		 top_rules;		/* rule="NAME" series kept */
};

#define METRICS_CT_PROMETHEUS	"text/plain; version=0.0.4; charset=utf-8"
#define METRICS_CT_OPENMETRICS \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"

/* # HELP and # TYPE of family name (counters: without _total). */
void	metrics_family(const struct metrics_fmt *, const char *name,
	    enum metrics_type, const char *help);
/* One sample of a counter or gauge family; labels is "" or
 * `a="x",b="y"` (already escaped, see metrics_escape). */
void	metrics_sample(const struct metrics_fmt *, const char *name,
	    enum metrics_type, const char *labels, double v);
/* The _bucket, _sum and _count samples of one histogram series. */
void	metrics_histo(const struct metrics_fmt *, const char *name,
	    const char *labels, const struct histo_read *);
/* s as a label value (backslash, quote and newline escaped) into buf,
 * truncated to bufsz; returns buf. */
char	*metrics_escape(char *buf, size_t bufsz, const char *s);
/*
 * Turns `vigilctl stats` lines ("rules.hits.NAME 12") into families:
 * known names get Prometheus names, types, units and labels; per-rule
 * hits keep the top_rules busiest rules and sum the rest into
 * rule="other"; "version.KEY value" lines become one vigil_version_info
 * series; lines nobody mapped come out as vigil_<name> untyped.
 */
void	metrics_from_stats(const struct metrics_fmt *, const char *text);
/* Ends the exposition ("# EOF" in OpenMetrics). */
void	metrics_end(const struct metrics_fmt *);

#endif
