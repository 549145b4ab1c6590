/*
 * vigilctl.c - the admin command: global options, then a subcommand from
 * the table below.  Each subcommand lives in its own ctl_*.c file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "cfg.h"
#include "lib/log.h"
#include "mime.h"
#include "snap.h"
#include "metrics/stats_view.h"
#include "ctl/vigilctl.h"

#define DEFAULT_CONFIG	SYSCONFDIR "/vigil/vigil.conf"

static int ctl_reload(const struct ctl_opts *, int, char **);
static int ctl_stats(const struct ctl_opts *, int, char **);
static int ctl_config(const struct ctl_opts *, int, char **);

static const struct {
	const char	*name;
	ctl_fn		 fn;
	const char	*usage;
} cmds[] = {
	{ "scan", ctl_scan,
	  "scan [--json] [--ip ADDR] [--helo NAME] [--from ADDR] [--rcpt ADDR]... PATH...\n"
	  "        scan messages offline and explain every point of their score" },
	{ "quarantine", ctl_quarantine,
	  "quarantine list|show|release|delete|purge|migrate ...\n"
	  "        review, release (--learn-ham) and remove quarantined mail" },
	{ "db", ctl_db,
	  "db upgrade    make or upgrade the quarantine store's schema" },
	{ "digest", ctl_digest,
	  "digest [--send] [--since DUR] [--rcpt ADDR]\n"
	  "        mail each recipient the list of their quarantined mail with\n"
	  "        signed links to vigil-web (printed as an mbox without --send)" },
	{ "rules", ctl_rules,
	  "rules lint [--no-stress] [PATH...] | list [PATH...] | test MSG [RULE...]\n"
	  "        | test --batch [--counts] MSG... | bench FILE|DIR...\n"
	  "        check rule files, list them, show which rules a message hits, time them" },
	{ "reload", ctl_reload,
	  "reload        rebuild the running daemon's configuration and rules" },
	{ "stats", ctl_stats,
	  "stats [--json]  the running daemon's counters and versions, grouped\n"
	  "        (--json: one object of every counter, for scripts)" },
	{ "config", ctl_config,
	  "config [--defaults|--man]  print the effective configuration (or all\n"
	  "              defaults, or vigil.conf(5) made from them)" },
	{ "scores", ctl_scores,
	  "scores learn [--spam|--ham PATH]... [--spam-list|--ham-list FILE]...\n"
	  "        [--from-quarantine] [--fp-target PCT] [--fp-target-untrained PCT]\n"
	  "        [-o OUT]\n"
	  "        | diff OLD NEW [--spam|--ham PATH]... [PATH]...\n"
	  "        learn every rule's score from labelled mail (a rules file of score\n"
	  "        lines); show what a new scores file would change before it goes live" },
	{ "bayes", ctl_bayes,
	  "bayes learn --spam|--ham [--forget] [--list FILE] PATH... | stats | expire\n"
	  "        | classify [--list FILE] PATH... | bench [--cv] CORPUS SPLITDIR\n"
	  "        train and inspect the Bayes classifier (files, Maildirs, mbox, -)" },
	{ "trace", ctl_trace,
	  "trace [--from A] [--to B] [--subject TEXT] [--message-id ID] [--queue-id Q]\n"
	  "        [--since 2d] [--log FILE] [--maillog FILE] [--json]\n"
	  "        where is my mail? each matching message's story from LogFile" },
	{ "replay", ctl_replay,
	  "replay [--rules DIR] [--weights FILE] [-o K=V]... SOURCE...\n"
	  "        scan mail with the running and a candidate configuration, show\n"
	  "        what changes (SOURCE: quarantine, quarantine:ID, a folder, an mbox);\n"
	  "        1 if anything does" },
	{ "report", ctl_report,
	  "report [--since 7d] [--until TIME] [--log FILE] [--html FILE]\n"
	  "        what the filter did, from LogFile, against the period before" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: vigilctl [-c FILE] [-o Keyword=value]... COMMAND [ARGS]\n"
	    "       vigilctl -h|--help | -V|--version | help [COMMAND] | COMMAND --help\n"
	    "  -c FILE           configuration (default " DEFAULT_CONFIG ")\n"
	    "  -o Keyword=value  override one setting (repeatable)\n"
	    "commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %s\n", cmds[i].usage);
	fprintf(out, "exit status: 0 ok, 1 the answer is no (lint errors, a rule "
	    "did not hit,\n  refused or failed), 64 usage, 65 bad data (no "
	    "such rule), 66 input\n  missing, 69 daemon unreachable, 78 "
	    "configuration\n");
}

bool
ctl_wants_help(int argc, char **argv, int upto)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    (i <= upto && strcmp(argv[i], "-h") == 0))
			return true;
	}
	return false;
}

/* Help for the commands of this file: their line of the table. */
static bool
own_help(int argc, char **argv)
{
	if (!ctl_wants_help(argc, argv, argc))
		return false;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, argv[0]) == 0)
			printf("usage: vigilctl [-c FILE] [-o Keyword=value]... "
			    "%s\n", cmds[i].usage);
	return true;
}

struct cfg *
ctl_cfg(const struct ctl_opts *o)
{
	char *err = NULL;
	struct cfg *c = cfg_load(o->cfg_path, o->overrides, o->noverrides, &err);

	if (c == NULL) {
		fprintf(stderr, "vigilctl: %s\n", err);
		free(err);
	}
	return c;
}

struct snap *
ctl_snap(const struct ctl_opts *o)
{
	struct cfg *c = ctl_cfg(o);
	struct snap *s;
	char *err = NULL;

	if (c == NULL)
		return NULL;
	s = snap_build(c, &err);
	if (s == NULL) {
		fprintf(stderr, "vigilctl: %s: %s\n", cfg_file(c), err);
		free(err);
	}
	cfg_unref(&c);
	return s;
}

int
ctl_control(const struct ctl_opts *o, const char *line)
{
	return ctl_control_to(o, line, stdout);
}

int
ctl_control_to(const struct ctl_opts *o, const char *line, FILE *out)
{
	struct cfg *c = ctl_cfg(o);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path;
	char buf[4096];
	ssize_t n;
	int fd, rc = 0;
	bool first = true;

	if (c == NULL)
		return EX_CONFIG;
	path = cfg_str(c, "ControlSocket");
	if (path == NULL || strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vigilctl: no usable ControlSocket in %s\n", cfg_file(c));
		cfg_unref(&c);
		return EX_CONFIG;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "vigilctl: control socket %s: %s (is vigil running?)\n",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		cfg_unref(&c);
		return EX_UNAVAILABLE;
	}
	cfg_unref(&c);
	if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0) {
		fprintf(stderr, "vigilctl: control socket %s: %s\n", path, strerror(errno));
		close(fd);
		return EX_UNAVAILABLE;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		size_t skip = 0;

		/* The first line is "ok ..." or "error ...". */
		if (first) {
			first = false;
			if (strncmp(buf, "error", 5) == 0)
				rc = 1;
			if (strncmp(buf, "ok\n", 3) == 0)
				skip = 3;
		}
		fwrite(buf + skip, 1, (size_t)n - skip, rc ? stderr : out);
	}
	close(fd);
	return rc;
}

/* A command that takes no arguments got some: say which, usage. */
static int
no_args(int argc, char **argv)
{
	if (argc < 2)
		return 0;
	fprintf(stderr, "vigilctl %s: unexpected argument \"%s\"\n"
	    "usage: vigilctl %s%s\n", argv[0], argv[1], argv[0],
	    strcmp(argv[0], "config") == 0 ? " [--defaults|--man]" : "");
	return EX_USAGE;
}

static int
ctl_reload(const struct ctl_opts *o, int argc, char **argv)
{
	if (own_help(argc, argv))
		return 0;
	if (no_args(argc, argv) != 0)
		return EX_USAGE;
	return ctl_control(o, "reload");
}

static int
ctl_stats(const struct ctl_opts *o, int argc, char **argv)
{
	bool	 is_json = false;
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*mem;
	int	 rc;

	if (own_help(argc, argv))
		return 0;
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		is_json = true;
	else if (no_args(argc, argv) != 0)
		return EX_USAGE;
	if ((mem = open_memstream(&buf, &len)) == NULL) {
		fprintf(stderr, "vigilctl stats: %s\n", strerror(errno));
		return EX_OSERR;
	}
	rc = ctl_control_to(o, "stats", mem);
	/* The daemon's answer has its quarantine's counters; without it,
	 * they are read from the index vigilctl's configuration names. */
	if (rc != 0)
		(void)ctl_quarantine_stats(o, mem);	/* rc says why */
	fclose(mem);
	if (len > 0 || (is_json && rc == 0)) {
		if (is_json)
			stats_write_json(stdout, buf);
		else
			stats_write_human(stdout, buf);
	}
	free(buf);
	return rc;
}

static int
ctl_config(const struct ctl_opts *o, int argc, char **argv)
{
	struct cfg *c;

	if (own_help(argc, argv))
		return 0;
	if (argc == 2 && strcmp(argv[1], "--defaults") == 0) {
		cfg_write_defaults(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--man") == 0) {
		cfg_write_man(stdout);
		return 0;
	}
	if (no_args(argc, argv) != 0)
		return EX_USAGE;
	if ((c = ctl_cfg(o)) == NULL)
		return EX_CONFIG;
	cfg_dump(stdout, c);
	cfg_unref(&c);
	return 0;
}

int
main(int argc, char **argv)
{
	/* static: the overrides array lives as long as the process */
	static struct ctl_opts o = { .cfg_path = DEFAULT_CONFIG };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	bool cfg_given = false;

	o.overrides = calloc((size_t)argc + 1, sizeof(char *));
	if (o.overrides == NULL)
		return EX_OSERR;
	log_init("vigilctl", 1, LOG_MAIL);
	log_set_level(LOG_WARNING);
	/* Global options stop at the subcommand. */
	while ((ch = getopt_long(argc, argv, "+c:o:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.cfg_path = optarg; cfg_given = true; break;
		case 'o': o.overrides[o.noverrides++] = optarg; break;
		case 'V': printf("vigilctl %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	/* "help COMMAND" is "COMMAND --help"; "help" alone, -h. */
	if (strcmp(argv[optind], "help") == 0) {
		static char help_opt[] = "--help";
		char *sub[] = { NULL, help_opt, NULL };

		if (optind + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		if (optind + 2 < argc) {
			fprintf(stderr, "vigilctl help: unexpected argument \"%s\"\n"
			    "usage: vigilctl help [COMMAND]\n", argv[optind + 2]);
			return EX_USAGE;
		}
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (strcmp(cmds[i].name, argv[optind + 1]) == 0) {
				sub[0] = argv[optind + 1];
				optind = 1;
				return cmds[i].fn(&o, 2, sub);
			}
		fprintf(stderr, "vigilctl help: unknown command \"%s\"\n",
		    argv[optind + 1]);
		usage(stderr);
		return EX_USAGE;
	}
	/* No -c and no installed config: the embedded defaults. */
	if (!cfg_given && access(o.cfg_path, F_OK) != 0)
		o.cfg_path = NULL;
	mime_init();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, argv[optind]) == 0) {
			char **sub = argv + optind;
			int subc = argc - optind;

			optind = 1;	/* subcommands parse their own options */
			return cmds[i].fn(&o, subc, sub);
		}
	fprintf(stderr, "vigilctl: unknown command \"%s\"\n", argv[optind]);
	usage(stderr);
	return EX_USAGE;
}
