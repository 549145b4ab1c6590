/*
 * bench_av.c - what antivirus scanning costs per message: the corpus is
 * scanned through the pipeline with AVScan on, and each message's AV time
 * (the check's own measure, vigilctl's "av" field) is collected.
 *
 *   bench_av DBDIR CORPUSDIR [MAXMSGS [Keyword=value...]]
 *
 * Prints one line: messages, engine load time, signatures, mean, p50,
 * p99 and max per message in ms, and MB/s.  The same cost appears in
 * `vigilctl stats` as av.scan_ms_total / av.scanned.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "check.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "lib/log.h"
#include "lib/util.h"
#include "../tools/slurp.h"

extern const struct check check_av;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The "ms" of the message's av field, or -1. */
static double
av_ms(const struct msg *m)
{
	const char *k, *j, *p;

	for (size_t i = 0; i < msg_field_count(m); i++) {
		msg_field(m, i, &k, &j);
		if (strcmp(k, "av") == 0 && (p = strstr(j, "\"ms\":")) != NULL)
			return strtod(p + 5, NULL);
	}
	return -1;
}

int
main(int argc, char **argv)
{
	char opt[1100], *err = NULL, path[2048];
	const char *ov[32] = { "AVScan=yes", opt, "Checks=headers,av" };
	size_t nov = 3;
	struct scan_env env = { .helo = "client.example.org" };
	struct cfg *c;
	struct snap *s;
	struct dirent *e;
	DIR *d;
	double *ms, load_ms = 0, sum = 0, sigs = 0;
	size_t n = 0, max, bytes = 0;
	FILE *st;
	char *sb = NULL;
	size_t sblen = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_av DBDIR CORPUSDIR [MAXMSGS]\n");
		return 2;
	}
	max = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
	for (int i = 4; i < argc && nov < NELEM(ov); i++)
		ov[nov++] = argv[i];
	log_init("bench_av", 1, LOG_MAIL);
	log_set_level(LOG_WARNING);
	snprintf(opt, sizeof(opt), "DatabaseDirectory=%s", argv[1]);
	if ((c = cfg_load(NULL, ov, nov, &err)) == NULL ||
	    (s = snap_build(c, &err)) == NULL) {
		fprintf(stderr, "bench_av: %s\n", err);
		return 1;
	}
	cfg_unref(&c);
	if ((d = opendir(argv[2])) == NULL) {
		fprintf(stderr, "bench_av: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if ((ms = calloc(max, sizeof(*ms))) == NULL)
		log_oom(max * sizeof(*ms), "bench");
	while (n < max && (e = readdir(d)) != NULL) {
		const struct verdict *v;
		struct msg *m;
		size_t len;
		char *data;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[2], e->d_name);
		if ((data = slurp_path(path, &len)) == NULL)
			continue;
		m = scan_buffer(s, &env, (const unsigned char *)data, len,
		    "bench", &v);
		if ((ms[n] = av_ms(m)) >= 0) {
			sum += ms[n];
			bytes += len;
			n++;
		}
		msg_end(&m);
		free(data);
	}
	closedir(d);
	if ((st = open_memstream(&sb, &sblen)) == NULL)
		return 1;
	check_av.stats(snap_state(s, &check_av), st);
	fclose(st);
	for (char *p = sb; p != NULL && *p != '\0'; p = strchr(p, '\n') ?
	    strchr(p, '\n') + 1 : NULL) {
		if (sscanf(p, "av.engine.load_ms %lf", &load_ms) == 1 ||
		    sscanf(p, "av.engine.signatures %lf", &sigs) == 1)
			continue;
	}
	free(sb);
	if (n == 0) {
		fprintf(stderr, "bench_av: no message scanned in %s\n",
		    argv[2]);
		return 1;
	}
	qsort(ms, n, sizeof(*ms), cmp_double);
	printf("av: db=%s signatures=%.0f load_ms=%.0f messages=%zu "
	    "mean_ms=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f MB/s=%.1f\n",
	    argv[1], sigs, load_ms, n, sum / n, ms[n / 2],
	    ms[(size_t)(n * 0.99)], ms[n - 1],
	    sum > 0 ? bytes / 1e6 / (sum / 1000) : 0);
	free(ms);
	snap_unref(&s);
	return 0;
}
