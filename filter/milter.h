/*
 * milter.h - the libmilter front door: registers the callbacks, opens the
 * socket and runs libmilter's loop until it is told to stop.
 */
#ifndef VIGIL_MILTER_H
#define VIGIL_MILTER_H

/* Registers with libmilter and opens spec (unix:/path, inet:port@host);
 * returns 0, or -1 with *err_r. */
int	milter_open(const char *spec, const char **err_r);
/* Runs libmilter's loop; returns when it stops (SIGTERM to the worker,
 * which aborts the connections open: main.c's stop_gracefully() lets
 * their messages finish first). */
int	milter_run(void);

#endif
