/*
 * pipeline.h - the one path every message takes, from the milter or from
 * vigilctl: envelope, headers and body chunks go in, the checks run in
 * their phases, a verdict comes out.  The pipeline is the only place a
 * check failure is logged and turned into the configured policy.
 */
#ifndef VIGIL_PIPELINE_H
#define VIGIL_PIPELINE_H

#include <stddef.h>
#include <stdio.h>

#include "check.h"

struct msg;
struct verdict;

/* An SMTP client connected from addr (no message yet): checks with a
 * connect hook may start work for the session's messages. */
struct snap;
void	pipeline_connect(struct snap *, const char *addr);
/* Runs every check registered for phase (CONNECT and ENVFROM: call once
 * the envelope setters for that phase have run). */
void	pipeline_phase(struct msg *, enum check_phase);
/* One header as received: value is every byte after the colon, the
 * blanks that open it included (SMFIP_HDR_LEADSPC), folding kept. */
void	pipeline_header(struct msg *, const char *name, const char *value);
/* End of headers: runs PHASE_EOH. */
void	pipeline_eoh(struct msg *);
/* A body chunk (CRLF line ends). */
void	pipeline_body(struct msg *, const unsigned char *chunk, size_t len);
/* End of message: runs PHASE_EOM and decides.  The verdict lives in the
 * message's arena. */
const struct verdict *pipeline_eom(struct msg *);

/* Writes per-check counters (runs, failures, mean time) for stats. */
void	pipeline_write_stats(FILE *out);
/* vigil_check_duration_seconds: one histogram per check that s runs
 * (metrics.h). */
struct metrics_fmt;
struct snap;
void	pipeline_write_metrics(const struct metrics_fmt *, const struct snap *s);

/* Envelope of an offline scan (vigilctl, tests, fuzzers). */
struct scan_env {
	const char	*client_addr;	/* NULL: unknown */
	const char	*client_name;
	const char	*helo;
	const char	*mail_from;	/* NULL: taken from Return-Path or From */
	const char *const *rcpts;
	size_t		 nrcpts;
	const char	*auth_user;
	const char	*queue_id;
};

/*
 * Scans a whole message in memory exactly as the milter would see it:
 * LF line ends become CRLF, a leading mbox "From " line is dropped, the
 * headers and the body are fed through the calls above.  Returns the
 * message (caller ends it with msg_end) and its verdict in *v_r.
 */
struct msg *scan_buffer(struct snap *, const struct scan_env *,
	    const unsigned char *data, size_t len, const char *session_id,
	    const struct verdict **v_r);

/*
 * Parses a whole message as scan_buffer() does but runs no check: the
 * stored headers and body, and so msg_view(), are what the milter would
 * have.  For trainers (vigilctl bayes learn) that need the parsed view
 * without the side effects and cost of scanning.  Caller ends the
 * message with msg_end.
 */
struct msg *parse_buffer(struct snap *, const unsigned char *data,
	    size_t len, const char *session_id);

#endif
