/*
 * av.h - pieces shared by the antivirus check (av.c) and its clamd client
 * (av_clamd.c).  Library types stay out: only av.c includes <clamav.h>.
 */
#ifndef VIGIL_CHECKS_AV_H
#define VIGIL_CHECKS_AV_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct av_clamd;

/* Result of one scan, whichever scanner ran it. */
enum av_result {
	AV_CLEAN,
	AV_FOUND,	/* *name_r: the signature */
	AV_ERROR,	/* *why_r: what failed */
};

/*
 * Parses spec ("unix:/path", "/path" or "inet:port@host") into a client.
 * Returns it (caller frees with av_clamd_free), or NULL with *err_r set
 * to a malloc'd message (caller frees).
 */
struct av_clamd	*av_clamd_new(const char *spec, uint64_t timeout_ms,
		    char **err_r);
void		 av_clamd_free(struct av_clamd **);
/* The socket as configured, for headers and logs. */
const char	*av_clamd_describe(const struct av_clamd *);
/*
 * Sends len bytes at buf over clamd's INSTREAM and reads the answer.
 * Strings returned through name_r and why_r live in arena a.  The socket
 * is closed before returning.
 */
enum av_result	 av_clamd_scan(const struct av_clamd *, struct arena *a,
		    const unsigned char *buf, size_t len, const char **name_r,
		    const char **why_r);
/* PING/PONG round trip; 0, or -1 with *why_r (arena a). */
int		 av_clamd_ping(const struct av_clamd *, struct arena *a,
		    const char **why_r);

#endif
