/*
 * metrics_http.c - the MetricsListen endpoint: libmicrohttpd answers
 * GET /metrics on its own thread with daemon_write_metrics(), rendered
 * when the scrape arrives.  Nothing here runs per message.  The only
 * file that includes <microhttpd.h>.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cfg.h"
#include "daemon.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "snap.h"

static struct MHD_Daemon *mhd;

/* Does the scraper prefer OpenMetrics (Prometheus asks for it first)? */
static bool
wants_openmetrics(struct MHD_Connection *conn)
{
	const char *acc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT);

	return acc != NULL && strstr(acc, "application/openmetrics-text") != NULL;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
    char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	/* Fails only out of memory; the body is still right. */
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **req_cls)
{
	struct metrics_fmt f = { 0 };
	struct snap *s;
	char *buf = NULL;
	size_t len = 0;

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)req_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		    strdup("GET /metrics\n"), 13);
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
		    strdup("vigil: metrics are at /metrics\n"), 31);
	if ((f.out = open_memstream(&buf, &len)) == NULL) {
		log_sys(LOG_ERR, "metrics: open_memstream: %s", strerror(errno));
		return MHD_NO;
	}
	f.is_openmetrics = wants_openmetrics(conn);
	s = daemon_snap();
	f.top_rules = s != NULL ?
	    (size_t)cfg_int(snap_cfg(s), "MetricsTopRules") : 50;
	snap_unref(&s);
	daemon_write_metrics(&f);
	metrics_end(&f);
	fclose(f.out);
	return reply(conn, MHD_HTTP_OK, f.is_openmetrics ?
	    METRICS_CT_OPENMETRICS : METRICS_CT_PROMETHEUS, buf, len);
}

/* "host:port" or "[v6]:port" into a socket address. */
static int
parse_listen(const char *spec, struct sockaddr_storage *ss, char **err_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV }, *res = NULL;
	char host[256];
	const char *colon = strrchr(spec, ':'), *h = spec;
	size_t hl;
	int rc;

	if (colon == NULL || colon[1] == '\0') {
		if (asprintf(err_r, "MetricsListen %s: want host:port", spec) < 0)
			*err_r = NULL;
		return -1;
	}
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		h = spec + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host)) {
		if (asprintf(err_r, "MetricsListen %s: want host:port", spec) < 0)
			*err_r = NULL;
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		if (asprintf(err_r, "MetricsListen %s: %s", spec,
		    gai_strerror(rc)) < 0)
			*err_r = NULL;
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

int
daemon_metrics_start(const char *spec, char **err_r)
{
	struct sockaddr_storage ss = { 0 };
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;

	if (parse_listen(spec, &ss, err_r) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* One thread, a few connections, short timeouts: a scraper, not
	 * the world, is expected here. */
	mhd = MHD_start_daemon(flags, 0, NULL, NULL, answer, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_END);
	if (mhd == NULL) {
		if (asprintf(err_r, "MetricsListen %s: cannot listen: %s", spec,
		    strerror(errno)) < 0)
			*err_r = NULL;
		return -1;
	}
	log_sys(LOG_INFO, "metrics at http://%s/metrics", spec);
	return 0;
}

void
daemon_metrics_stop(void)
{
	if (mhd == NULL)
		return;
	MHD_stop_daemon(mhd);
	mhd = NULL;
}
