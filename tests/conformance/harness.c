/*
 * harness.c - the conformance runners' shared harness (harness.h).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "snap.h"
#include "lib/log.h"
#include "harness.h"

const char *
harness_init(int argc, char **argv, const char *name, const char *arg_name,
    bool *verbose_r, struct xfail **xf_r)
{
	const char *xfpath = NULL;
	int c;

	*verbose_r = false;
	while ((c = getopt(argc, argv, "vx:")) != -1) {
		switch (c) {
		case 'v': *verbose_r = true; break;
		case 'x': xfpath = optarg; break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;
	log_init(name, 1, 0);
	log_set_level(LOG_ERR);
	if ((*xf_r = xfail_load(xfpath)) == NULL)
		exit(2);
	return argv[optind];
usage:
	fprintf(stderr, "usage: %s [-v] [-x xfail-list] %s\n", name, arg_name);
	exit(2);
}

struct snap *
harness_snap(const char *name, const char *const *ov, size_t nov)
{
	char *err = NULL;
	struct cfg *c;
	struct snap *s;

	if ((c = cfg_load(NULL, ov, nov, &err)) == NULL ||
	    (s = snap_build(c, &err)) == NULL) {
		fprintf(stderr, "%s: %s\n", name, err);
		exit(2);
	}
	cfg_unref(&c);
	return s;
}

void
harness_run(void (*fn)(void *, int), void *arg, unsigned secs, char *got,
    size_t gotsz, char *detail, size_t detsz)
{
	char buf[8192];
	int pfd[2], status = 0;
	size_t off = 0;
	ssize_t r;
	pid_t pid;
	char *tab;

	fflush(stdout);
	if (pipe(pfd) < 0) {
		perror("pipe");
		exit(2);
	}
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		alarm(secs);
		fn(arg, pfd[1]);
		_exit(0);
	}
	close(pfd[1]);
	while ((r = read(pfd[0], buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)r;
	buf[off] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	tab = strchr(buf, '\t');
	detail[0] = '\0';
	if (WIFSIGNALED(status))
		snprintf(got, gotsz, "CRASH(signal %d)", WTERMSIG(status));
	else if (tab == NULL)
		snprintf(got, gotsz, "NO-RESULT");
	else {
		*tab = '\0';
		snprintf(got, gotsz, "%s", buf);
		snprintf(detail, detsz, "%s", tab + 1);
	}
}

int
harness_split(char *line, char **fields, int max)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	fields[n++] = line;
	for (char *p = line; *p != '\0' && n < max; p++)
		if (*p == '\t') {
			*p = '\0';
			fields[n++] = p + 1;
		}
	return n;
}

/* ---- expected failures ---------------------------------------------- */

struct xfail *
xfail_load(const char *path)
{
	struct xfail *xf = calloc(1, sizeof(*xf));
	char line[512];
	FILE *f;

	if (xf == NULL)
		return NULL;
	if (path == NULL)
		return xf;
	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		free(xf);
		return NULL;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line + strspn(line, " \t");

		p[strcspn(p, " \t\r\n#")] = '\0';
		if (*p == '\0')
			continue;
		xf->names = realloc(xf->names, (xf->n + 1) * sizeof(char *));
		xf->names[xf->n++] = strdup(p);
	}
	fclose(f);
	return xf;
}

bool
xfail_listed(const struct xfail *xf, const char *name)
{
	for (size_t i = 0; i < xf->n; i++)
		if (strcmp(xf->names[i], name) == 0)
			return true;
	return false;
}

void
xfail_note(struct xfail *xf, const char *name, bool passed)
{
	bool listed = xfail_listed(xf, name);

	if (!passed && listed)
		xf->nexpected++;
	else if (!passed) {
		xf->unexpected = realloc(xf->unexpected,
		    (xf->nunexpected + 1) * sizeof(char *));
		xf->unexpected[xf->nunexpected++] = strdup(name);
	} else if (listed) {
		xf->fixed = realloc(xf->fixed, (xf->nfixed + 1) * sizeof(char *));
		xf->fixed[xf->nfixed++] = strdup(name);
	}
}

bool
xfail_report(const struct xfail *xf, const char *suite, int npass,
    const char *list, const char *extra)
{
	printf("%s: %d passed, %zu failed, %zu expected failures (%s)%s\n",
	    suite, npass, xf->nunexpected, xf->nexpected, list, extra);
	printf("# %s: %zu expected failures (listed), %zu unexpected",
	    suite, xf->nexpected, xf->nunexpected);
	for (size_t i = 0; i < xf->nunexpected; i++)
		printf("%s%s", i ? " " : ": ", xf->unexpected[i]);
	printf(", %zu listed but passing", xf->nfixed);
	for (size_t i = 0; i < xf->nfixed; i++)
		printf("%s%s", i ? " " : ": ", xf->fixed[i]);
	printf("\n");
	return xf->nunexpected == 0;
}
