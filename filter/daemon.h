/*
 * daemon.h - process-wide state of the running filter: the current
 * snapshot (swapped on reload), counters, the control socket, and the
 * supervisor that keeps a worker process running.
 */
#ifndef VIGIL_DAEMON_H
#define VIGIL_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "snap.h"

struct cfg;

struct daemon_args {
	const char	*cfg_path;
	const char	**overrides;
	size_t		 noverrides;
	const char	*socket;	/* -p, or NULL for the config's */
	bool		 foreground;
};

/* Installs the first snapshot (takes the reference). */
void		 daemon_set_snap(struct snap *);
/* The current snapshot with a new reference (caller unrefs). */
struct snap	*daemon_snap(void);
/* Loads the config again and swaps in a new snapshot if it is good;
 * returns 0, or -1 with the error logged (the old snapshot stays). */
int		 daemon_reload(const struct daemon_args *, char **err_r);

/* Counters: one message's final action, the verdict's reason ("spam",
 * "virus", ...; the first 32 distinct reasons get their own series, the
 * rest count as "other") and its time in the filter. */
void		 daemon_count_message(enum verdict_action, const char *reason,
		    double ms);
void		 daemon_conn_opened(void);
void		 daemon_conn_closed(void);
int		 daemon_conns_active(void);
/* Messages between MAIL FROM and their verdict (or abort). */
void		 daemon_msg_started(void);
void		 daemon_msg_ended(void);
int		 daemon_msgs_active(void);
/* A graceful stop: new messages are deferred, those begun finish. */
void		 daemon_set_stopping(void);
bool		 daemon_is_stopping(void);

/* Control socket at path (mode 0600); a thread answers "reload" and
 * "stats".  Returns 0, or -1 with *err_r. */
int		 daemon_control_start(const char *path,
		    const struct daemon_args *, const char **err_r);
void		 daemon_control_stop(void);

/* Writes "name value" counter lines (core and every check's hook). */
void		 daemon_write_stats(FILE *out);

/* Writes the metrics exposition (metrics.h) of everything counted:
 * what daemon_write_stats shows plus messages by action and reason, the
 * time histograms and the quarantine's size.  Runs on scrape only. */
struct metrics_fmt;
void		 daemon_write_metrics(const struct metrics_fmt *);

/* The HTTP endpoint (metrics_http.c): MetricsListen "host:port".
 * Returns 0, or -1 with a malloc'd *err_r naming the address. */
int		 daemon_metrics_start(const char *listen, char **err_r);
void		 daemon_metrics_stop(void);

#endif
