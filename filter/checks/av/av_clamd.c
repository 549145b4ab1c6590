/*
 * av_clamd.c - clamd client: one connection per message, the message sent
 * with the INSTREAM command (zero-terminated command, 4-byte big-endian
 * length + data chunks, a zero-length chunk to end), the one-line answer
 * read back ("stream: OK", "stream: NAME FOUND", "... ERROR").
 *
 * Every step is bounded by ClamdTimeout.  The client owns only its parsed
 * address; each scan's socket is closed before av_clamd_scan() returns.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "checks/av/av.h"

#define CLAMD_CHUNK	(64 * 1024)
#define CLAMD_REPLY_MAX	1024

struct av_clamd {
	char		*spec;		/* as configured */
	bool		 is_unix;
	char		*path;		/* unix */
	char		*host;		/* inet */
	char		*port;
	uint64_t	 timeout_ms;
};

struct av_clamd *
av_clamd_new(const char *spec, uint64_t timeout_ms, char **err_r)
{
	struct av_clamd *c;
	const char *at;
	char *e = NULL;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->spec = strdup(spec)) == NULL)
		log_oom(strlen(spec), "clamd");
	c->timeout_ms = timeout_ms;
	if (util_has_prefix_ci(spec, "unix:") || spec[0] == '/') {
		const char *p = spec[0] == '/' ? spec : spec + 5;

		if (*p != '/')
			e = strdup("unix socket path must be absolute");
		else if (strlen(p) >=
		    sizeof(((struct sockaddr_un *)0)->sun_path))
			e = strdup("unix socket path too long");
		else if ((c->path = strdup(p)) == NULL)
			log_oom(strlen(p), "clamd");
		c->is_unix = true;
	} else if (util_has_prefix_ci(spec, "inet:") &&
	    (at = strchr(spec + 5, '@')) != NULL && at > spec + 5 &&
	    at[1] != '\0') {
		char *end;
		long port = strtol(spec + 5, &end, 10);

		if (end != at || port < 1 || port > 65535)
			e = strdup("port must be 1-65535 (inet:port@host)");
		else if ((c->port = strndup(spec + 5,
		    (size_t)(at - (spec + 5)))) == NULL ||
		    (c->host = strdup(at + 1)) == NULL)
			log_oom(strlen(spec), "clamd");
	} else
		e = strdup("expected unix:/path or inet:port@host");
	if (e != NULL) {
		*err_r = e;
		av_clamd_free(&c);
		return NULL;
	}
	return c;
}

void
av_clamd_free(struct av_clamd **cp)
{
	struct av_clamd *c = *cp;

	*cp = NULL;
	if (c == NULL)
		return;
	free(c->spec);
	free(c->path);
	free(c->host);
	free(c->port);
	free(c);
}

const char *
av_clamd_describe(const struct av_clamd *c)
{
	return c->spec;
}

static int
ms_left(uint64_t deadline)
{
	uint64_t now = util_now_us();

	if (now >= deadline)
		return 0;
	return (int)((deadline - now + 999) / 1000);
}

/* Waits for fd to be ready for events; 0, or -1 with errno (ETIMEDOUT). */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n, left;

	for (;;) {
		if ((left = ms_left(deadline)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, left);
		if (n > 0)
			return 0;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

static void
close_fd(void *arg)
{
	int *fdp = arg;

	if (*fdp != -1)
		(void)close(*fdp);	/* read-only use: nothing to lose */
	*fdp = -1;
}

/* Connects (non-blocking, bounded); the fd, or -1 with *why_r. */
static int
clamd_connect(const struct av_clamd *c, struct arena *a, uint64_t deadline,
    const char **why_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	struct sockaddr_un sun;
	int fd = -1, rc, err = 0;
	socklen_t len = sizeof(err);

	if (c->is_unix) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, c->path, strlen(c->path) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0)) == -1)
			goto fail;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
		    errno != EINPROGRESS && errno != EAGAIN)
			goto fail;
	} else {
		if ((rc = getaddrinfo(c->host, c->port, &hints, &res)) != 0) {
			*why_r = arena_printf(a, "clamd %s: resolving %s: %s",
			    c->spec, c->host, gai_strerror(rc));
			return -1;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if ((fd = socket(ai->ai_family, SOCK_STREAM |
			    SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
				continue;
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
			    errno == EINPROGRESS)
				break;
			err = errno;
			(void)close(fd);	/* never connected */
			fd = -1;
			errno = err;
		}
		freeaddrinfo(res);
		if (fd == -1)
			goto fail;
	}
	if (wait_fd(fd, POLLOUT, deadline) == -1)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		goto fail;
	if (err != 0) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	if (fd != -1)
		(void)close(fd);	/* failed before any data */
	*why_r = arena_printf(a, "clamd %s: connect: %s", c->spec,
	    strerror(err));
	return -1;
}

/* Writes all n bytes; 0, or -1 with errno. */
static int
write_all(int fd, const void *buf, size_t n, uint64_t deadline)
{
	const unsigned char *p = buf;
	ssize_t w;

	while (n > 0) {
		if (wait_fd(fd, POLLOUT, deadline) == -1)
			return -1;
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads clamd's answer up to its terminating NUL (or EOF). */
static int
read_reply(int fd, char *buf, size_t bufsz, uint64_t deadline)
{
	size_t got = 0;
	ssize_t r;

	while (got < bufsz - 1) {
		if (wait_fd(fd, POLLIN, deadline) == -1)
			return -1;
		r = recv(fd, buf + got, bufsz - 1 - got, 0);
		if (r == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (memchr(buf, '\0', got) != NULL)
			break;
	}
	buf[got] = '\0';
	/* Drop the line end clamd adds in newline mode. */
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
		buf[--got] = '\0';
	return 0;
}

int
av_clamd_ping(const struct av_clamd *c, struct arena *a, const char **why_r)
{
	uint64_t deadline = util_now_us() + c->timeout_ms * 1000;
	char reply[64];
	int *fdp = arena_alloc(a, sizeof(*fdp));

	if ((*fdp = clamd_connect(c, a, deadline, why_r)) == -1)
		return -1;
	arena_defer(a, close_fd, fdp);
	if (write_all(*fdp, "zPING", 6, deadline) == -1 ||
	    read_reply(*fdp, reply, sizeof(reply), deadline) == -1) {
		*why_r = arena_printf(a, "clamd %s: PING: %s", c->spec,
		    strerror(errno));
		close_fd(fdp);
		return -1;
	}
	close_fd(fdp);
	if (strcmp(reply, "PONG") != 0) {
		*why_r = arena_printf(a, "clamd %s: PING answered \"%.60s\"",
		    c->spec, reply);
		return -1;
	}
	return 0;
}

enum av_result
av_clamd_scan(const struct av_clamd *c, struct arena *a,
    const unsigned char *buf, size_t len, const char **name_r,
    const char **why_r)
{
	uint64_t deadline = util_now_us() + c->timeout_ms * 1000;
	char reply[CLAMD_REPLY_MAX], *p, *end;
	size_t off = 0, n;
	uint32_t be;
	int err, *fdp = arena_alloc(a, sizeof(*fdp));

	if ((*fdp = clamd_connect(c, a, deadline, why_r)) == -1)
		return AV_ERROR;
	arena_defer(a, close_fd, fdp);
	if (write_all(*fdp, "zINSTREAM", 10, deadline) == -1)
		goto io;
	while (off < len) {
		n = len - off < CLAMD_CHUNK ? len - off : CLAMD_CHUNK;
		be = htonl((uint32_t)n);
		if (write_all(*fdp, &be, 4, deadline) == -1 ||
		    write_all(*fdp, buf + off, n, deadline) == -1)
			goto io;
		off += n;
	}
	be = 0;
	if (write_all(*fdp, &be, 4, deadline) == -1)
		goto io;
	if (read_reply(*fdp, reply, sizeof(reply), deadline) == -1)
		goto io;
	close_fd(fdp);

	/* "stream: OK", "stream: Name FOUND", "...: reason ERROR" */
	p = strncmp(reply, "stream: ", 8) == 0 ? reply + 8 : reply;
	end = p + strlen(p);
	if (strcmp(p, "OK") == 0)
		return AV_CLEAN;
	if (end - p > 6 && strcmp(end - 6, " FOUND") == 0) {
		*name_r = arena_strndup(a, p, (size_t)(end - 6 - p));
		return AV_FOUND;
	}
	*why_r = arena_printf(a, "clamd %s: INSTREAM of %zu bytes answered "
	    "\"%.200s\"", c->spec, len, reply[0] ? reply : "(nothing)");
	return AV_ERROR;
io:
	err = errno;
	/* clamd answers and hangs up when it refuses more (StreamMaxLength):
	 * its answer says more than our EPIPE. */
	if ((err == EPIPE || err == ECONNRESET) &&
	    read_reply(*fdp, reply, sizeof(reply), deadline) == 0 &&
	    reply[0] != '\0')
		*why_r = arena_printf(a, "clamd %s: INSTREAM stopped after %zu "
		    "of %zu bytes: \"%.200s\"", c->spec, off, len, reply);
	else
		*why_r = arena_printf(a, "clamd %s: INSTREAM: sent %zu of %zu "
		    "bytes: %s", c->spec, off, len, strerror(err));
	close_fd(fdp);
	return AV_ERROR;
}
