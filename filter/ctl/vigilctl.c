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
#include "ctl/ctl_help.h"

#define DEFAULT_CONFIG	SYSCONFDIR "/vigil/vigil.conf"

static int ctl_reload(const struct ctl_opts *, int, char **);
static int ctl_stats(const struct ctl_opts *, int, char **);
static int ctl_config(const struct ctl_opts *, int, char **);

/*
 * The commands.  What each says of itself (synopsis, options, exit
 * statuses) is its entry in ctl_help_table.c, which help and the man page
 * print: a new command is a line here and an entry there.
 */
static const struct {
	const char	*name;
	ctl_fn		 fn;
} cmds[] = {
	{ "scan", ctl_scan },
	{ "quarantine", ctl_quarantine },
	{ "db", ctl_db },
	{ "digest", ctl_digest },
	{ "rules", ctl_rules },
	{ "reload", ctl_reload },
	{ "stats", ctl_stats },
	{ "config", ctl_config },
	{ "scores", ctl_scores },
	{ "bayes", ctl_bayes },
	{ "trace", ctl_trace },
	{ "replay", ctl_replay },
	{ "allow", ctl_lists },
	{ "block", ctl_lists },
	{ "report", ctl_report },
};

static void
usage(FILE *out)
{
	ctl_help_overview(out);
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
	fprintf(stderr, "vigilctl %s: unexpected argument \"%s\"\n",
	    argv[0], argv[1]);
	ctl_help_usage(argv[0], stderr);
	return EX_USAGE;
}

static int
ctl_reload(const struct ctl_opts *o, int argc, char **argv)
{
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
	/* "help COMMAND" is "COMMAND --help"; "help" alone, -h; "help
	 * --mdoc" the man page's COMMANDS (the build's). */
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		if (optind + 2 < argc) {
			fprintf(stderr, "vigilctl help: unexpected argument \"%s\"\n"
			    "usage: vigilctl help [COMMAND]\n", argv[optind + 2]);
			return EX_USAGE;
		}
		if (strcmp(argv[optind + 1], "--mdoc") == 0) {
			/* The build makes the page with this: a command
			 * without its help entry fails it. */
			for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]);
			    i++)
				if (!ctl_help_has(cmds[i].name)) {
					fprintf(stderr, "vigilctl help: no "
					    "entry for \"%s\" in the help "
					    "table\n", cmds[i].name);
					return EX_SOFTWARE;
				}
			ctl_help_mdoc(stdout);
			return 0;
		}
		if (ctl_help_command(argv[optind + 1], stdout))
			return 0;
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

			if (ctl_help_wanted(subc, sub)) {
				ctl_help_command(sub[0], stdout);
				return 0;
			}
			optind = 1;	/* subcommands parse their own options */
			return cmds[i].fn(&o, subc, sub);
		}
	fprintf(stderr, "vigilctl: unknown command \"%s\"\n", argv[optind]);
	usage(stderr);
	return EX_USAGE;
}
