/*
 * util.c - see util.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "util.h"

uint64_t
util_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * The number that starts a size or a duration: digits only (no sign, no
 * space), in range; *end_r points at the unit after it.
 */
static bool
parse_count(const char *s, unsigned long long *v_r, const char **end_r)
{
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*v_r = strtoull(s, &end, 10);
	if (errno != 0)
		return false;
	*end_r = end;
	return true;
}

/* v * mul into *out_r, unless it overflows. */
static bool
scale(unsigned long long v, uint64_t mul, uint64_t *out_r)
{
	if (v != 0 && mul > UINT64_MAX / v)
		return false;
	*out_r = v * mul;
	return true;
}

bool
util_parse_size(const char *s, uint64_t *out_r)
{
	const char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!parse_count(s, &v, &end))
		return false;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'k': mul = 1024; end++; break;
	case 'm': mul = 1024 * 1024; end++; break;
	case 'g': mul = 1024ull * 1024 * 1024; end++; break;
	default: return false;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0')
		return false;
	return scale(v, mul, out_r);
}

bool
util_parse_since(const char *s, int64_t *t_r)
{
	uint64_t ms;
	struct tm tm;
	const char *end;

	if (util_parse_duration(s, &ms)) {
		*t_r = (int64_t)time(NULL) - (int64_t)(ms / 1000);
		return true;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (end == NULL || *end != '\0')
		return false;
	*t_r = (int64_t)timegm(&tm);
	return true;
}

bool
util_parse_duration(const char *s, uint64_t *ms_r)
{
	const char *end;
	unsigned long long v;
	uint64_t mul = 1000;

	if (!parse_count(s, &v, &end))
		return false;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mul = 3600 * 1000;
	else if (strcmp(end, "d") == 0)
		mul = 86400ull * 1000;
	else if (strcmp(end, "w") == 0)
		mul = 7 * 86400ull * 1000;
	else
		return false;
	return scale(v, mul, ms_r);
}

bool
util_has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

bool
util_parse_cidr(const char *s, struct util_cidr *out_r)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(out_r, 0, sizeof(*out_r));
	if (inet_pton(AF_INET, buf, out_r->addr) == 1) {
		out_r->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out_r->addr) == 1) {
		out_r->family = AF_INET6;
		max = 128;
	} else
		return false;
	out_r->bits = max;
	if (slash != NULL) {
		char *end;
		unsigned long b;

		if (!isdigit((unsigned char)slash[1]))
			return false;
		b = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || b > max)
			return false;
		out_r->bits = (unsigned)b;
	}
	return true;
}

static bool
prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

bool
util_cidr_match(const struct util_cidr *c, const char *ip)
{
	unsigned char a[16];
	static const unsigned char mapped[12] =
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (ip == NULL)
		return false;
	if (inet_pton(AF_INET, ip, a) == 1) {
		if (c->family != AF_INET)
			return false;
		return prefix_eq(a, c->addr, c->bits);
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return false;
	if (c->family == AF_INET6)
		return prefix_eq(a, c->addr, c->bits);
	if (memcmp(a, mapped, 12) == 0)
		return prefix_eq(a + 12, c->addr, c->bits);
	return false;
}

void
util_hex(char *out, const unsigned char *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

bool
util_random(void *p, size_t n)
{
	unsigned char *b = p;

	while (n > 0) {
		ssize_t r = getrandom(b, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		b += r;
		n -= (size_t)r;
	}
	return true;
}

void *
util_spare_take(struct util_spares *sp)
{
	void *p = NULL;

	pthread_mutex_lock(&sp->mu);
	if (sp->n > 0)
		p = sp->v[--sp->n];
	pthread_mutex_unlock(&sp->mu);
	return p;
}

bool
util_spare_keep(struct util_spares *sp, void *p)
{
	bool kept = false;

	pthread_mutex_lock(&sp->mu);
	if (sp->n < UTIL_SPARES) {
		sp->v[sp->n++] = p;
		kept = true;
	}
	pthread_mutex_unlock(&sp->mu);
	return kept;
}
