/*
 * main.c - startup of the vigil daemon: arguments, configuration check,
 * a supervisor process that turns signals into actions and restarts a
 * worker that dies, and the worker: snapshot, socket, privileges, loop.
 *
 * Why two processes: libmilter's own signal thread takes SIGHUP as "stop".
 * The supervisor receives SIGHUP and tells the worker to reload with
 * SIGUSR1, which libmilter leaves alone.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "daemon.h"
#include "lib/log.h"
#include "lib/util.h"
#include "milter.h"
#include "mime.h"
#include "snap.h"
#include "checks/dnsbl.h"

#define DEFAULT_CONFIG	SYSCONFDIR "/vigil/vigil.conf"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: vigil [-fnV] [-c FILE] [-p SOCKET] [-o Keyword=value]...\n"
	    "  -c FILE     configuration (default " DEFAULT_CONFIG ")\n"
	    "  -p SOCKET   milter socket: unix:/path or inet:port@host\n"
	    "  -f          stay in the foreground, log to stderr\n"
	    "  -n          check the configuration (and rules) and exit\n"
	    "  -o K=V      override one setting of the configuration file\n"
	    "  -V          print the version and exit\n"
	    "  --defaults  print every option with its default and exit\n");
}

struct user {
	uid_t	uid;
	gid_t	gid;
	char	name[64];
	bool	set;
};

/* Resolves UserID "user[:group]"; returns -1 with the problem in err. */
static int
resolve_user(const char *spec, struct user *u, char *err, size_t errsz)
{
	char name[64];
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (n == 0 || n >= sizeof(name)) {
		snprintf(err, errsz, "UserID: bad user name \"%s\"", spec);
		return -1;
	}
	memcpy(name, spec, n);
	name[n] = '\0';
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, errsz, "UserID: no such user \"%s\"", name);
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	strcpy(u->name, name);
	if (colon != NULL) {
		struct group *gr = getgrnam(colon + 1);

		if (gr == NULL) {
			snprintf(err, errsz, "UserID: no such group \"%s\"", colon + 1);
			return -1;
		}
		u->gid = gr->gr_gid;
	}
	u->set = true;
	return 0;
}

static int
drop_privileges(const struct user *u)
{
	if (!u->set) {
		if (geteuid() == 0)
			log_sys(LOG_WARNING, "running as root: set UserID to drop privileges");
		return 0;
	}
	if (geteuid() != 0) {
		if (getuid() == u->uid)
			return 0;
		log_sys(LOG_ERR, "UserID %s: cannot switch user: not started as root",
		    u->name);
		return -1;
	}
	if (setgroups(0, NULL) < 0 || initgroups(u->name, u->gid) < 0 ||
	    setgid(u->gid) < 0 || setuid(u->uid) < 0) {
		log_sys(LOG_ERR, "UserID %s: cannot drop privileges: %s", u->name,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		log_sys(LOG_ERR, "UserID %s: root privileges could be regained", u->name);
		return -1;
	}
	return 0;
}

/* The folder of a unix: socket spec, created for the daemon's user. */
static void
prepare_socket_dir(const char *spec, const struct user *u)
{
	const char *path = NULL;
	char dir[4096], *slash;

	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	else if (spec[0] == '/')
		path = spec;
	if (path == NULL || strlen(path) >= sizeof(dir))
		return;
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0 && u->set && geteuid() == 0)
		(void)chown(dir, u->uid, u->gid);	/* best effort; bind reports */
}

/* After bind: the socket belongs to the daemon's user, group-writable so
 * that the MTA's group can be given access. */
static void
fix_socket_owner(const char *spec, const struct user *u)
{
	const char *path = NULL;

	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	if (path == NULL)
		return;
	if (u->set && geteuid() == 0 && chown(path, u->uid, u->gid) < 0)
		log_sys(LOG_WARNING, "socket %s: chown: %s", path, strerror(errno));
	if (chmod(path, 0666) < 0)
		log_sys(LOG_WARNING, "socket %s: chmod: %s", path, strerror(errno));
}

static const struct daemon_args *reload_args;

/*
 * How often the worker hands the heap's free pages back to the kernel.
 * libmilter runs each SMTP connection on its own thread, and glibc gives
 * concurrent threads their own malloc arenas (up to 8 per core), each
 * keeping the pages its messages freed for its next ones.  Under load
 * that is about as much again as what is in use, spread over the arenas
 * and creeping up as rare peaks meet in one arena: resident memory that
 * looks like a leak (tests/postfix/load.sh) but is free.  malloc_trim
 * returns those pages (madvise) without moving anything; it takes each
 * arena's lock in turn for a few milliseconds.
 */
#define TRIM_INTERVAL_S	10

static void *
reload_thread(void *arg)
{
	sigset_t set;
	struct timespec every = { TRIM_INTERVAL_S, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		char *err = NULL;

		if (sigtimedwait(&set, NULL, &every) != SIGUSR1) {
			if (errno == EAGAIN)
				(void)malloc_trim(0);
			continue;
		}
		(void)daemon_reload(reload_args, &err);	/* logs either way */
		free(err);
	}
	return arg;
}

/* The worker: everything that handles mail. */
static int
worker(const struct daemon_args *args, struct cfg *cfg, const char *spec,
    const struct user *u)
{
	struct snap *s;
	char *err = NULL;
	const char *e = NULL;
	const char *ctl;
	pthread_t t;
	sigset_t set;
	uint64_t deadline;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);	/* die with the supervisor */
	/* Blocked in every thread (threads inherit the mask): SIGUSR1 is
	 * taken by reload_thread alone, SIGTERM/SIGINT/SIGHUP by libmilter's
	 * signal thread, which stops the loop. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	s = snap_build(cfg, &err);
	if (s == NULL) {
		log_sys(LOG_ERR, "%s", err);
		free(err);
		return EX_CONFIG;
	}
	daemon_set_snap(s);
	reload_args = args;
	prepare_socket_dir(spec, u);
	if (milter_open(spec, &e) < 0) {
		log_sys(LOG_ERR, "socket %s: %s: %s", spec, e, strerror(errno));
		return EX_UNAVAILABLE;
	}
	fix_socket_owner(spec, u);
	if (drop_privileges(u) < 0)
		return EX_NOPERM;
	ctl = cfg_str(cfg, "ControlSocket");
	if (ctl != NULL && daemon_control_start(ctl, args, &e) < 0)
		log_sys(LOG_WARNING, "%s (%s: %s); vigilctl reload/stats unavailable",
		    e, ctl, strerror(errno));
	if (pthread_create(&t, NULL, reload_thread, NULL) != 0)
		log_sys(LOG_WARNING, "reload thread: %s; SIGHUP will not reload",
		    strerror(errno));
	log_sys(LOG_INFO, "vigil %s started on %s (pid %ld, uid %ld)", PACKAGE_VERSION,
	    spec, (long)getpid(), (long)getuid());
	if (milter_run() < 0)
		log_sys(LOG_ERR, "milter loop failed");
	/* Stopped: let messages in flight finish, within ShutdownTimeout. */
	deadline = util_now_us() + cfg_duration_ms(cfg, "ShutdownTimeout") * 1000;
	while (daemon_conns_active() > 0 && util_now_us() < deadline)
		usleep(50000);
	if (daemon_conns_active() > 0)
		log_sys(LOG_WARNING, "stopping with %d connections still open",
		    daemon_conns_active());
	daemon_control_stop();
	/* Release the snapshot: its checks tear down (Bayes learns what
	 * autolearn still has queued) unless a message still holds it. */
	daemon_set_snap(NULL);
	log_sys(LOG_INFO, "vigil stopped");
	return 0;
}

static volatile sig_atomic_t got_sig;

static void
on_signal(int sig)
{
	got_sig = sig;
}

static int
write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		log_sys(LOG_ERR, "PidFile %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0) {
		log_sys(LOG_ERR, "PidFile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The supervisor: starts the worker, forwards signals, restarts it. */
static int
supervise(const struct daemon_args *args, struct cfg *cfg, const char *spec,
    const struct user *u)
{
	struct sigaction sa;
	sigset_t block, old;
	pid_t child = -1;
	time_t last_start = 0;
	int restarts = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);

	for (;;) {
		int status;
		pid_t w;

		if (child < 0) {
			if (time(NULL) - last_start < 2 && restarts > 0)
				sleep(1);	/* a crash loop must not spin */
			last_start = time(NULL);
			child = fork();
			if (child < 0) {
				log_sys(LOG_ERR, "fork: %s", strerror(errno));
				sleep(1);
				continue;
			}
			if (child == 0) {
				sigprocmask(SIG_SETMASK, &old, NULL);
				signal(SIGHUP, SIG_DFL);
				signal(SIGTERM, SIG_DFL);
				signal(SIGINT, SIG_DFL);
				signal(SIGCHLD, SIG_DFL);
				_exit(worker(args, cfg, spec, u));
			}
		}
		got_sig = 0;
		sigsuspend(&old);
		switch (got_sig) {
		case SIGHUP:
			log_sys(LOG_INFO, "SIGHUP: reloading");
			kill(child, SIGUSR1);
			break;
		case SIGTERM:
		case SIGINT:
			log_sys(LOG_INFO, "stopping (signal %d)", (int)got_sig);
			kill(child, SIGTERM);
			while (waitpid(child, &status, 0) < 0 && errno == EINTR)
				;
			return 0;
		default:
			break;
		}
		while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
			if (w != child)
				continue;
			child = -1;
			if (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
			    restarts == 0 && time(NULL) - last_start < 5) {
				/* The first start failed: configuration, socket
				 * or privileges.  Restarting would not help. */
				return WEXITSTATUS(status);
			}
			if (WIFSIGNALED(status))
				log_sys(LOG_ERR, "worker killed by signal %d; restarting",
				    WTERMSIG(status));
			else
				log_sys(LOG_ERR, "worker exited with %d; restarting",
				    WEXITSTATUS(status));
			restarts++;
		}
	}
}

static int
facility_of(const char *name)
{
	static const struct { const char *n; int f; } tab[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};

	for (size_t i = 0; i < NELEM(tab); i++)
		if (strcasecmp(tab[i].n, name) == 0)
			return tab[i].f;
	return LOG_MAIL;
}

static int
level_of(const char *name)
{
	if (strcmp(name, "err") == 0) return LOG_ERR;
	if (strcmp(name, "warn") == 0) return LOG_WARNING;
	if (strcmp(name, "debug") == 0) return LOG_DEBUG;
	return LOG_INFO;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "defaults", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* static: the overrides array lives as long as the process */
	static struct daemon_args args = { .cfg_path = DEFAULT_CONFIG };
	bool check_only = false, cfg_given = false;
	struct cfg *cfg;
	char *err = NULL, errbuf[256];
	const char *spec, *pidfile;
	struct user u;
	int ch, rc;

	args.overrides = calloc((size_t)argc + 1, sizeof(char *));
	if (args.overrides == NULL)
		log_oom((size_t)argc * sizeof(char *), "args");
	log_init("vigil", 1, LOG_MAIL);
	while ((ch = getopt_long(argc, argv, "c:p:fnVo:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': args.cfg_path = optarg; cfg_given = true; break;
		case 'p': args.socket = optarg; break;
		case 'f': args.foreground = true; break;
		case 'n': check_only = true; break;
		case 'o': args.overrides[args.noverrides++] = optarg; break;
		case 'V':
			printf("vigil %s\n", PACKAGE_VERSION);
			return 0;
		case 'D':
			cfg_write_defaults(stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	/* No -c and no installed config: run on the embedded defaults. */
	if (!cfg_given && access(args.cfg_path, F_OK) != 0) {
		log_sys(LOG_INFO, "%s not found: using the embedded defaults",
		    args.cfg_path);
		args.cfg_path = NULL;
	}
	mime_init();

	cfg = cfg_load(args.cfg_path, args.overrides, args.noverrides, &err);
	if (cfg == NULL) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return EX_CONFIG;
	}
	log_set_level(level_of(cfg_enum_str(cfg, "LogLevel")));
	if (check_only) {
		struct snap *s = snap_build(cfg, &err);

		if (s == NULL) {
			fprintf(stderr, "%s: %s\n", cfg_file(cfg), err);
			free(err);
			cfg_unref(&cfg);
			return EX_CONFIG;
		}
		printf("%s: configuration OK\n", cfg_file(cfg));
		/* The DNS lists, probed: one that answers wrongly shows. */
		dnsbl_report(s, stdout);
		snap_unref(&s);
		cfg_unref(&cfg);
		return 0;
	}
	spec = args.socket ? args.socket : cfg_str(cfg, "Socket");
	if (cfg_str(cfg, "UserID") != NULL &&
	    resolve_user(cfg_str(cfg, "UserID"), &u, errbuf, sizeof(errbuf)) < 0) {
		fprintf(stderr, "%s: %s\n", cfg_file(cfg), errbuf);
		cfg_unref(&cfg);
		return EX_CONFIG;
	} else if (cfg_str(cfg, "UserID") == NULL)
		memset(&u, 0, sizeof(u));

	if (!args.foreground) {
		if (daemon(0, 0) < 0) {
			fprintf(stderr, "vigil: daemon: %s\n", strerror(errno));
			return EX_OSERR;
		}
		log_init("vigil", 0, cfg_bool(cfg, "Syslog") ?
		    facility_of(cfg_enum_str(cfg, "SyslogFacility")) : LOG_MAIL);
	}
	pidfile = cfg_str(cfg, "PidFile");
	if (pidfile != NULL && write_pidfile(pidfile) < 0)
		return EX_CANTCREAT;
	rc = supervise(&args, cfg, spec, &u);
	if (pidfile != NULL)
		(void)unlink(pidfile);
	cfg_unref(&cfg);
	return rc;
}
