/*
 * daemon.c - the running filter's shared state: the current snapshot
 * behind a lock (messages take a reference and keep it), counters, and
 * the control socket that answers vigilctl.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cfg.h"
#include "check.h"
#include "daemon.h"
#include "lib/histo.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "quarantine/quarantine.h"
#include "lib/util.h"
#include "pipeline.h"
#include "scanpool.h"
#include "snap.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snap *current;

static atomic_ullong n_msgs[ACTION_DISCARD + 1];
static atomic_ullong scan_us_total;
static atomic_int conns_active;
static atomic_int msgs_active;		/* MAIL FROM seen, no verdict yet */
static atomic_bool is_stopping;
static atomic_ullong conns_total;
static atomic_ullong n_reloads, n_reload_failures;
static uint64_t started_us;
static struct histo msg_time;

/*
 * Messages by action and reason.  Reasons are few and fixed by the code
 * ("spam", "clean", "virus", "oversize", ...), but an admin's pass text
 * is one too, so the table is bounded: the first MAX_REASONS distinct
 * reasons get a row, later ones count under "other".  Rows are only
 * ever added (under reason_lock), never removed, so readers scan the
 * published prefix without the lock.
 */
#define MAX_REASONS	32
struct reason_row {
	const char	*name;		/* strdup'd, never freed */
	atomic_ullong	 n[ACTION_DISCARD + 1];
};
static struct reason_row reasons[MAX_REASONS + 1];	/* last: "other" */
static atomic_size_t nreasons;
static pthread_mutex_t reason_lock = PTHREAD_MUTEX_INITIALIZER;

static struct reason_row *
reason_row(const char *name)
{
	size_t n = atomic_load(&nreasons);

	for (size_t i = 0; i < n; i++)
		if (strcmp(reasons[i].name, name) == 0)
			return &reasons[i];
	pthread_mutex_lock(&reason_lock);
	n = atomic_load(&nreasons);
	for (size_t i = 0; i < n; i++)
		if (strcmp(reasons[i].name, name) == 0) {
			pthread_mutex_unlock(&reason_lock);
			return &reasons[i];
		}
	if (n < MAX_REASONS && (reasons[n].name = strdup(name)) != NULL) {
		atomic_store(&nreasons, n + 1);
		pthread_mutex_unlock(&reason_lock);
		return &reasons[n];
	}
	pthread_mutex_unlock(&reason_lock);
	return &reasons[MAX_REASONS];
}

void
daemon_set_snap(struct snap *s)
{
	struct snap *old;

	pthread_mutex_lock(&snap_lock);
	old = current;
	current = s;
	if (started_us == 0)
		started_us = util_now_us();
	pthread_mutex_unlock(&snap_lock);
	snap_unref(&old);	/* freed when its last message ends */
}

struct snap *
daemon_snap(void)
{
	struct snap *s;

	pthread_mutex_lock(&snap_lock);
	s = snap_ref(current);
	pthread_mutex_unlock(&snap_lock);
	return s;
}

int
daemon_reload(const struct daemon_args *args, char **err_r)
{
	struct cfg *c;
	struct snap *s;

	/* One reload at a time; mail keeps flowing on the old snapshot. */
	pthread_mutex_lock(&reload_lock);
	c = cfg_load(args->cfg_path, args->overrides, args->noverrides, err_r);
	if (c == NULL)
		goto fail;
	s = snap_build(c, err_r);
	cfg_unref(&c);
	if (s == NULL)
		goto fail;
	daemon_set_snap(s);
	atomic_fetch_add(&n_reloads, 1);
	pthread_mutex_unlock(&reload_lock);
	log_sys(LOG_INFO, "reload: new configuration and rules in service");
	return 0;
fail:
	atomic_fetch_add(&n_reload_failures, 1);
	pthread_mutex_unlock(&reload_lock);
	log_sys(LOG_ERR, "reload refused, still serving the previous configuration: %s",
	    *err_r);
	return -1;
}

void
daemon_count_message(enum verdict_action a, const char *reason, double ms)
{
	uint64_t us = ms > 0 ? (uint64_t)(ms * 1000) : 0;

	if ((size_t)a <= ACTION_DISCARD) {
		atomic_fetch_add(&n_msgs[a], 1);
		atomic_fetch_add(&reason_row(reason ? reason : "none")->n[a], 1);
	}
	atomic_fetch_add(&scan_us_total, us);
	histo_observe(&msg_time, us);
}

void
daemon_conn_opened(void)
{
	atomic_fetch_add(&conns_active, 1);
	atomic_fetch_add(&conns_total, 1);
}

void
daemon_conn_closed(void)
{
	atomic_fetch_sub(&conns_active, 1);
}

int
daemon_conns_active(void)
{
	return atomic_load(&conns_active);
}

void
daemon_msg_started(void)
{
	atomic_fetch_add(&msgs_active, 1);
}

void
daemon_msg_ended(void)
{
	atomic_fetch_sub(&msgs_active, 1);
}

int
daemon_msgs_active(void)
{
	return atomic_load(&msgs_active);
}

void
daemon_set_stopping(void)
{
	atomic_store(&is_stopping, true);
}

bool
daemon_is_stopping(void)
{
	return atomic_load(&is_stopping);
}

void
daemon_write_stats(FILE *out)
{
	unsigned long long total = 0;
	struct snap *s = daemon_snap();

	for (int a = 0; a <= ACTION_DISCARD; a++) {
		unsigned long long n = atomic_load(&n_msgs[a]);

		fprintf(out, "messages.%s %llu\n", action_name((enum verdict_action)a), n);
		total += n;
	}
	fprintf(out, "messages.total %llu\n", total);
	fprintf(out, "scan.ms.mean %.3f\n", total ?
	    (double)atomic_load(&scan_us_total) / 1000.0 / (double)total : 0.0);
	scanpool_write_stats(out);
	fprintf(out, "connections.active %d\n", atomic_load(&conns_active));
	fprintf(out, "connections.total %llu\n", atomic_load(&conns_total));
	fprintf(out, "reloads %llu\n", atomic_load(&n_reloads));
	fprintf(out, "reloads.failed %llu\n", atomic_load(&n_reload_failures));
	if (s != NULL) {
		fprintf(out, "config.generation %s\n",
		    snap_version(s, SNAP_V_CONFIG));
		/* The Bayes store's and AV engine's come from their checks. */
		for (int k = SNAP_V_RULES; k <= SNAP_V_CONFIG; k++)
			fprintf(out, "version.%s %s\n", snap_version_names[k],
			    snap_version(s, (enum snap_version)k));
	}
	fprintf(out, "uptime.s %llu\n",
	    (unsigned long long)((util_now_us() - started_us) / 1000000));
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
	{
		/* The heap as malloc sees it, all arenas: what is allocated
		 * (a leak grows it) and what is free but still held. */
		struct mallinfo2 mi = mallinfo2();

		fprintf(out, "heap.in_use %zu\n", mi.uordblks + mi.hblkhd);
		fprintf(out, "heap.free %zu\n", mi.fordblks);
	}
#endif
	pipeline_write_stats(out);
	for (size_t i = 0; checks[i] != NULL; i++) {
		char line[512];

		snap_check_status(s, checks[i], line, sizeof(line));
		fprintf(out, "check.%s.status %s\n", checks[i]->name, line);
	}
	for (size_t i = 0; checks[i] != NULL; i++)
		if (checks[i]->stats != NULL && snap_state(s, checks[i]) != NULL)
			checks[i]->stats(snap_state(s, checks[i]), out);
	snap_unref(&s);
}

/* The quarantine's counters, read from its index (none yet: nothing). */
static void
write_quarantine_stats(FILE *out)
{
	struct snap *s = daemon_snap();
	const struct cfg *c = s != NULL ? snap_cfg(s) : NULL;
	struct qstore *q;
	char *err = NULL, *index = NULL;

	if (c == NULL)
		goto out;
	/* A database is asked; a folder without an index holds nothing. */
	if (!quarantine_is_shared(c) && (cfg_str(c, "QuarantineDir") == NULL ||
	    asprintf(&index, "%s/index.sqlite", cfg_str(c, "QuarantineDir")) < 0 ||
	    access(index, F_OK) != 0))
		goto out;
	if ((q = quarantine_open(c, false, &err)) == NULL ||
	    !quarantine_write_stats(q, out))
		log_sys(LOG_WARNING, "metrics: quarantine %s: %s",
		    quarantine_is_shared(c) ? "database" :
		    cfg_str(c, "QuarantineDir"), q == NULL ? err :
		    quarantine_error(q));
	quarantine_close(&q);
out:
	free(index);
	free(err);
	snap_unref(&s);
}

/*
 * Where the running configuration keeps the quarantine, one "Keyword
 * value" line per option that is set, so that vigilctl finds the store
 * (and the release key) the daemon uses without repeating its -o.
 */
static void
write_quarantine_where(FILE *out)
{
	static const char *const keys[] = { "QuarantineDir", "QuarantineDB",
	    "ReleaseKeyFile" };
	struct snap *s = daemon_snap();
	const struct cfg *c = s != NULL ? snap_cfg(s) : NULL;

	for (size_t i = 0; c != NULL && i < NELEM(keys); i++)
		if (cfg_str(c, keys[i]) != NULL &&
		    strchr(cfg_str(c, keys[i]), '\n') == NULL)
			fprintf(out, "%s %s\n", keys[i], cfg_str(c, keys[i]));
	snap_unref(&s);
}

void
daemon_write_metrics(const struct metrics_fmt *f)
{
	char *buf = NULL, esc[128], labels[256];
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct histo_read h;
	size_t n = atomic_load(&nreasons);
	struct snap *s;

	metrics_family(f, "vigil_messages", METRICS_COUNTER,
	    "Messages by the action taken and the verdict's reason");
	for (size_t i = 0; i <= MAX_REASONS; i++) {
		const char *name = i < n ? reasons[i].name : "other";

		if (i >= n && i < MAX_REASONS)
			continue;
		for (int a = 0; a <= ACTION_DISCARD; a++) {
			unsigned long long v = atomic_load(&reasons[i].n[a]);

			if (v == 0)
				continue;
			snprintf(labels, sizeof(labels),
			    "action=\"%s\",reason=\"%s\"",
			    action_name((enum verdict_action)a),
			    metrics_escape(esc, sizeof(esc), name));
			metrics_sample(f, "vigil_messages", METRICS_COUNTER, labels,
			    (double)v);
		}
	}
	metrics_family(f, "vigil_message_duration_seconds", METRICS_HISTOGRAM,
	    "Time from MAIL FROM to the verdict, per message");
	histo_read(&msg_time, &h);
	metrics_histo(f, "vigil_message_duration_seconds", "", &h);
	scanpool_write_metrics(f);
	s = daemon_snap();
	pipeline_write_metrics(f, s);
	snap_unref(&s);
	if (mem == NULL) {
		log_sys(LOG_ERR, "metrics: open_memstream: %s", strerror(errno));
		return;
	}
	daemon_write_stats(mem);
	write_quarantine_stats(mem);
	fclose(mem);
	metrics_from_stats(f, buf);
	free(buf);
}

/* ---------------------------------------------------------------- control */

static int ctl_fd = -1;
static pthread_t ctl_thread;
static const struct daemon_args *ctl_args;
static char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static atomic_bool ctl_stop;

static void
ctl_answer(int fd)
{
	char line[256];
	ssize_t n;
	size_t len = 0;
	FILE *out;
	char *buf = NULL;
	size_t bufsz = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	/* One command line, bounded in size and time. */
	while (len < sizeof(line) - 1 && poll(&p, 1, 2000) == 1) {
		n = read(fd, line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(line, '\n', len) != NULL)
			break;
	}
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	out = open_memstream(&buf, &bufsz);
	if (out == NULL)
		return;
	if (strcmp(line, "reload") == 0) {
		char *err = NULL;

		if (daemon_reload(ctl_args, &err) == 0)
			fprintf(out, "ok reloaded\n");
		else
			fprintf(out, "error %s\n", err ? err : "reload failed");
		free(err);
	} else if (strcmp(line, "stats") == 0) {
		fprintf(out, "ok\n");
		daemon_write_stats(out);
		/* What /metrics has: vigilctl stats needs no -o to find it. */
		write_quarantine_stats(out);
	} else if (strcmp(line, "quarantine") == 0) {
		fprintf(out, "ok\n");
		write_quarantine_where(out);
	} else
		fprintf(out, "error unknown command (reload, stats, "
		    "quarantine)\n");
	fclose(out);
	for (size_t off = 0; off < bufsz;) {
		n = write(fd, buf + off, bufsz - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(buf);
}

static void *
ctl_loop(void *arg)
{
	while (!atomic_load(&ctl_stop)) {
		struct pollfd p = { .fd = ctl_fd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 500) != 1)
			continue;
		fd = accept(ctl_fd, NULL, NULL);
		if (fd < 0)
			continue;
		ctl_answer(fd);
		close(fd);
	}
	return arg;
}

int
daemon_control_start(const char *path, const struct daemon_args *args,
    const char **err_r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*err_r = "control socket path too long";
		return -1;
	}
	strcpy(sun.sun_path, path);
	strcpy(ctl_path, path);
	ctl_args = args;
	if ((ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		*err_r = "control socket: socket() failed";
		return -1;
	}
	(void)unlink(path);	/* a stale socket from an earlier run */
	/* Only the daemon's user may connect: the socket is 0600. */
	old = umask(0177);
	if (bind(ctl_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		*err_r = "control socket: bind() failed";
		close(ctl_fd);
		ctl_fd = -1;
		return -1;
	}
	umask(old);
	if (listen(ctl_fd, 8) < 0 ||
	    pthread_create(&ctl_thread, NULL, ctl_loop, NULL) != 0) {
		*err_r = "control socket: listen or thread failed";
		close(ctl_fd);
		ctl_fd = -1;
		return -1;
	}
	return 0;
}

void
daemon_control_stop(void)
{
	if (ctl_fd < 0)
		return;
	atomic_store(&ctl_stop, true);
	pthread_join(ctl_thread, NULL);
	close(ctl_fd);
	ctl_fd = -1;
	(void)unlink(ctl_path);
}
