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
#include <fcntl.h>
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
#include <sys/fsuid.h>
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
#include "startup.h"
#include "msglog.h"
#include "checks/dnsbl/dnsbl.h"

#define DEFAULT_CONFIG	SYSCONFDIR "/vigil/vigil.conf"

/*
 * The sanitizer build (configure --enable-sanitizers): the worker ends
 * with _exit(), where LeakSanitizer's own exit hook never runs, so it
 * asks for the leak check itself (worker_exit()).
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIGIL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(VIGIL_ASAN)
#define VIGIL_ASAN 1
#endif
#ifdef VIGIL_ASAN
#include <sanitizer/lsan_interface.h>
#endif

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: vigil [-fnV] [-c FILE] [-p SOCKET] [-o Keyword=value]...\n"
	    "  -c FILE     configuration (default " DEFAULT_CONFIG ")\n"
	    "  -p SOCKET   milter socket: unix:/path or inet:port@host\n"
	    "  -f          stay in the foreground, log to stderr\n"
	    "  -n          check the configuration (and rules), say what will\n"
	    "              run and what will not, and exit\n"
	    "  -o K=V      override one setting of the configuration file\n"
	    "  -V          print the version and exit\n"
	    "  --defaults  print every option with its default and exit\n");
}

struct user {
	uid_t	uid;
	gid_t	gid;
	char	name[64];
	bool	set;
	gid_t	sock_gid;	/* SocketGroup, else the daemon's group */
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

/* The path of a unix: socket spec; NULL for inet: ones. */
static const char *
socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/*
 * Opens the milter socket.  A unix socket is created mode 0660 in group
 * SocketGroup, both fixed before bind() (the umask, this thread's
 * filesystem gid): root never chowns or chmods the path afterwards, when
 * the daemon's user, who owns the folder, could have swapped a symlink
 * in.  Other local users cannot speak the milter protocol; the MTA's
 * user joins the group.
 */
static int
open_socket(const char *spec, const struct user *u, const char **err_r)
{
	const char *path = socket_path(spec);
	bool set_gid = path != NULL && u->sock_gid != getegid();
	mode_t old_mask;
	int old_gid = 0, rc, saved;
	struct stat st;

	if (path == NULL)
		return milter_open(spec, err_r);
	if (set_gid)
		old_gid = setfsgid(u->sock_gid);
	old_mask = umask(0117);
	rc = milter_open(spec, err_r);
	saved = errno;
	umask(old_mask);
	if (set_gid)
		(void)setfsgid((gid_t)old_gid);	/* the previous value */
	if (rc == 0 && lstat(path, &st) == 0 && st.st_gid != u->sock_gid)
		log_sys(LOG_WARNING, "socket %s: group %ld, not SocketGroup's "
		    "%ld (a setgid folder, or not started as root)", path,
		    (long)st.st_gid, (long)u->sock_gid);
	errno = saved;
	return rc;
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

/*
 * The supervisor's stop (SIGUSR2): new messages are deferred (451 at
 * MAIL FROM), the ones begun finish within ShutdownTimeout, then
 * libmilter's loop stops.  Stopping the loop first would not do: it
 * aborts, or takes the threads of, the connections still open.
 */
static void
stop_gracefully(void)
{
	struct snap *s = daemon_snap();
	uint64_t deadline = util_now_us() + (uint64_t)cfg_duration_ms(
	    snap_cfg(s), "ShutdownTimeout") * 1000;

	snap_unref(&s);
	daemon_set_stopping();
	log_sys(LOG_INFO, "stopping: %d message%s in flight finish first",
	    daemon_msgs_active(), daemon_msgs_active() == 1 ? "" : "s");
	while (daemon_msgs_active() > 0 && util_now_us() < deadline)
		usleep(20000);
	if (daemon_msgs_active() > 0)
		log_sys(LOG_WARNING, "ShutdownTimeout: stopping with %d "
		    "message%s in flight (the MTA retries them)",
		    daemon_msgs_active(), daemon_msgs_active() == 1 ? "" : "s");
	/* Now libmilter's own stop (its signal thread takes SIGTERM): what
	 * is still open is idle, and its loop ends at once, where
	 * smfi_stop() would wait out its poll. */
	kill(getpid(), SIGTERM);
}

static void *
reload_thread(void *arg)
{
	sigset_t set;
	struct timespec every = { TRIM_INTERVAL_S, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGWINCH);
	for (;;) {
		char *err = NULL;
		int sig = sigtimedwait(&set, NULL, &every);

		if (sig == SIGUSR2) {
			/*
			 * The supervisor's stop: no new connection, and the
			 * ones open finish their messages (libmilter's own
			 * SIGTERM would abort them at their next command).
			 */
			stop_gracefully();
			continue;
		}
		if (sig == SIGWINCH) {
			/* The supervisor's SIGUSR1: logrotate moved LogFile. */
			log_file_reopen();
			continue;
		}
		if (sig != SIGUSR1) {
			if (errno == EAGAIN)
				(void)malloc_trim(0);
			continue;
		}
		(void)daemon_reload(reload_args, &err);	/* logs either way */
		free(err);
	}
	return arg;
}

#ifdef VIGIL_ASAN
/*
 * VIGIL_TEST_LEAK=1 in the environment, in the sanitizer build only:
 * the worker loses one allocation on purpose, so that a test
 * (tests/tools/leak-test.sh) can see the leak check report it and fail
 * the worker's exit.  Any other build ignores the variable.
 */
static void *volatile test_leak_sink;

static __attribute__((noinline)) void
test_leak(void)
{
	const char *v = getenv("VIGIL_TEST_LEAK");

	if (v == NULL || strcmp(v, "1") != 0)
		return;
	log_sys(LOG_WARNING, "VIGIL_TEST_LEAK=1: losing 4096 bytes on purpose");
	test_leak_sink = malloc(4096);
	if (test_leak_sink != NULL)
		memset(test_leak_sink, 0x5a, 4096);
	test_leak_sink = NULL;
}
#endif

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
	pid_t supervisor = getppid();

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);	/* die with the supervisor */
	/* Blocked in every thread (threads inherit the mask): SIGUSR1 is
	 * (reload) and SIGUSR2 (stop, letting messages finish) by
	 * reload_thread alone, SIGTERM/SIGINT/SIGHUP by libmilter's signal
	 * thread, which aborts the connections open. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
#ifdef VIGIL_ASAN
	test_leak();
#endif
	/* State and run folders first: the snapshot opens the stores.  A
	 * store an earlier root-run version made is given to the daemon's
	 * user (by descriptor, never read). */
	startup_make_dirs(cfg, spec, u->set ? u->uid : (uid_t)-1, u->gid);
	if (u->set)
		startup_give_store(cfg, u->uid, u->gid);
	/* LogFile, opened before privileges go (it may be root's folder);
	 * rotated files are made by logrotate for the daemon's user. */
	if (msglog_open(cfg, &err) < 0) {
		log_sys(LOG_ERR, "%s", err);
		free(err);
		return EX_CANTCREAT;
	}
	reload_args = args;
	if (open_socket(spec, u, &e) < 0) {
		log_sys(LOG_ERR, "socket %s: %s: %s", spec, e, strerror(errno));
		return EX_UNAVAILABLE;
	}
	if (drop_privileges(u) < 0)
		return EX_NOPERM;
	/* A change of user clears the death signal: set it again, and
	 * leave if the supervisor is already gone. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		log_sys(LOG_WARNING, "prctl(PR_SET_PDEATHSIG): %s; the worker "
		    "may outlive its supervisor", strerror(errno));
	if (getppid() != supervisor) {
		log_sys(LOG_ERR, "supervisor %ld gone before the worker started",
		    (long)supervisor);
		return EX_UNAVAILABLE;
	}
	/*
	 * The snapshot only now, with the daemon's rights: it reads the
	 * Bayes store, the quarantine, ClamAV's databases and the rules,
	 * files the daemon's user may write, so root parses none of them
	 * (as every reload already builds it).  The MTA's connections wait
	 * in the socket's backlog meanwhile.
	 */
	s = snap_build(cfg, &err);
	if (s == NULL) {
		log_sys(LOG_ERR, "%s", err);
		free(err);
		if (socket_path(spec) != NULL)
			(void)unlink(socket_path(spec));
		return EX_CONFIG;
	}
	daemon_set_snap(s);
	ctl = cfg_str(cfg, "ControlSocket");
	if (ctl != NULL && daemon_control_start(ctl, args, &e) < 0)
		log_sys(LOG_WARNING, "%s (%s: %s); vigilctl reload/stats unavailable",
		    e, ctl, strerror(errno));
	if (cfg_str(cfg, "MetricsListen") != NULL) {
		char *merr = NULL;

		/* Asked for and unavailable: say so and stop, rather than
		 * run unwatched. */
		if (daemon_metrics_start(cfg_str(cfg, "MetricsListen"), &merr) < 0) {
			log_sys(LOG_ERR, "%s", merr ? merr : "MetricsListen failed");
			free(merr);
			return EX_UNAVAILABLE;
		}
	}
	if (pthread_create(&t, NULL, reload_thread, NULL) != 0)
		log_sys(LOG_WARNING, "reload thread: %s; SIGHUP will not reload",
		    strerror(errno));
	log_sys(LOG_INFO, "vigil %s started on %s (pid %ld, uid %ld)", PACKAGE_VERSION,
	    spec, (long)getpid(), (long)getuid());
	startup_log_checks(s);
	if (milter_run() < 0)
		log_sys(LOG_ERR, "milter loop failed");
	/* Stopped (stop_gracefully() waited for the messages in flight;
	 * libmilter's own SIGTERM did not): messages still open get the
	 * rest of ShutdownTimeout. */
	deadline = util_now_us() + cfg_duration_ms(cfg, "ShutdownTimeout") * 1000;
	while (daemon_msgs_active() > 0 && util_now_us() < deadline)
		usleep(50000);
	if (daemon_msgs_active() > 0)
		log_sys(LOG_WARNING, "stopping with %d messages still open",
		    daemon_msgs_active());
	daemon_control_stop();
	daemon_metrics_stop();
	/* Release the snapshot: its checks tear down (Bayes learns what
	 * autolearn still has queued) unless a message still holds it. */
	daemon_set_snap(NULL);
	log_sys(LOG_INFO, "vigil stopped");
	return 0;
}

/*
 * The worker's end.  The sanitizer build drops what the worker still
 * holds (its reference to the configuration it was started with: its
 * snapshot went in worker()) and runs LeakSanitizer's check before
 * _exit(): a leak turns the exit status into ASan's (1), which the
 * supervisor returns.  The worker's memory is its own copy, made at
 * fork(), so the supervisor's is not touched.
 */
static __attribute__((noreturn)) void
worker_exit(int rc, struct cfg *cfg)
{
#ifdef VIGIL_ASAN
	cfg_unref(&cfg);
	/* (After the change to UserID the process is not dumpable; the
	 * check makes it so itself while its tracer stops the threads.) */
	__lsan_do_leak_check();
#else
	(void)cfg;
#endif
	_exit(rc);
}

static volatile sig_atomic_t got_sig;

static void
on_signal(int sig)
{
	got_sig = sig;
}

/*
 * Writes our pid to path as root.  The folder may belong to the daemon's
 * user (/run/vigil), who could have left a symlink, a hard link or a
 * FIFO there: only a plain file with one link is written, through the
 * descriptor that was checked.
 */
static int
write_pidfile(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0644);
	struct stat st;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (fd < 0) {
		log_sys(LOG_ERR, "PidFile %s: open: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		log_sys(LOG_ERR, "PidFile %s: not a plain file with one link",
		    path);
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
		log_sys(LOG_ERR, "PidFile %s: write: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		log_sys(LOG_ERR, "PidFile %s: close: %s", path, strerror(errno));
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
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
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
				signal(SIGUSR1, SIG_DFL);
				worker_exit(worker(args, cfg, spec, u), cfg);
			}
		}
		got_sig = 0;
		sigsuspend(&old);
		switch (got_sig) {
		case SIGHUP:
			log_sys(LOG_INFO, "SIGHUP: reloading");
			kill(child, SIGUSR1);
			break;
		case SIGUSR1:
			/* logrotate moved LogFile: the worker reopens it
			 * (its own SIGUSR1 is the reload). */
			kill(child, SIGWINCH);
			break;
		case SIGTERM:
		case SIGINT:
			log_sys(LOG_INFO, "stopping (signal %d)", (int)got_sig);
			/* The worker's graceful stop: messages in flight
			 * finish within ShutdownTimeout. */
			kill(child, SIGUSR2);
			while (waitpid(child, &status, 0) < 0 && errno == EINTR)
				;
			/* Say how the worker ended, not that we asked. */
			if (WIFEXITED(status))
				return WEXITSTATUS(status);
			log_sys(LOG_ERR, "worker ended by signal %d while "
			    "stopping", WTERMSIG(status));
			return EX_SOFTWARE;
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
	spec = args.socket ? args.socket : cfg_str(cfg, "Socket");
	if (check_only) {
		struct snap *s;

		/* Read as the daemon reads: root parses none of the files
		 * its user may write (the Bayes store, the quarantine). */
		if (geteuid() == 0 && cfg_str(cfg, "UserID") != NULL) {
			if (resolve_user(cfg_str(cfg, "UserID"), &u, errbuf,
			    sizeof(errbuf)) < 0) {
				fprintf(stderr, "%s: %s\n", cfg_file(cfg), errbuf);
				cfg_unref(&cfg);
				return EX_CONFIG;
			}
			if (drop_privileges(&u) < 0) {
				cfg_unref(&cfg);
				return EX_NOPERM;
			}
		}
		s = snap_build(cfg, &err);
		if (s == NULL) {
			fprintf(stderr, "%s: %s\n", cfg_file(cfg), err);
			free(err);
			cfg_unref(&cfg);
			return EX_CONFIG;
		}
		printf("%s: configuration OK\n", cfg_file(cfg));
		startup_print_summary(stdout, s, spec);
		/* The DNS lists, probed: one that answers wrongly shows. */
		dnsbl_report(s, stdout);
		snap_unref(&s);
		cfg_unref(&cfg);
		return 0;
	}
	if (cfg_str(cfg, "UserID") != NULL &&
	    resolve_user(cfg_str(cfg, "UserID"), &u, errbuf, sizeof(errbuf)) < 0) {
		fprintf(stderr, "%s: %s\n", cfg_file(cfg), errbuf);
		cfg_unref(&cfg);
		return EX_CONFIG;
	} else if (cfg_str(cfg, "UserID") == NULL)
		memset(&u, 0, sizeof(u));
	u.sock_gid = u.set ? u.gid : getegid();
	if (cfg_str(cfg, "SocketGroup") != NULL) {
		struct group *gr = getgrnam(cfg_str(cfg, "SocketGroup"));

		if (gr == NULL) {
			fprintf(stderr, "%s: SocketGroup: no such group \"%s\"\n",
			    cfg_file(cfg), cfg_str(cfg, "SocketGroup"));
			cfg_unref(&cfg);
			return EX_CONFIG;
		}
		u.sock_gid = gr->gr_gid;
	}

	if (!args.foreground) {
		if (daemon(0, 0) < 0) {
			fprintf(stderr, "vigil: daemon: %s\n", strerror(errno));
			return EX_OSERR;
		}
		log_init("vigil", 0, cfg_bool(cfg, "Syslog") ?
		    facility_of(cfg_enum_str(cfg, "SyslogFacility")) : LOG_MAIL);
	}
	pidfile = cfg_str(cfg, "PidFile");
	if (pidfile != NULL && write_pidfile(pidfile) < 0) {
		cfg_unref(&cfg);
		return EX_CANTCREAT;
	}
	rc = supervise(&args, cfg, spec, &u);
	if (pidfile != NULL)
		(void)unlink(pidfile);
	cfg_unref(&cfg);
	return rc;
}
