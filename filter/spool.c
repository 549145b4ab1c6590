/*
 * spool.c - see spool.h.  Owns its buffer or its temp file and mapping.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "spool.h"

struct spool {
	size_t		 mem_max;
	const char	*dir;
	unsigned char	*buf;
	size_t		 len, cap;
	int		 fd;		/* -1 while in memory */
	void		*map;
	size_t		 map_len;
};

struct spool *
spool_new(size_t mem_max, const char *dir)
{
	struct spool *s = calloc(1, sizeof(*s));

	if (s == NULL)
		log_oom(sizeof(*s), "spool");
	s->mem_max = mem_max;
	s->dir = dir ? dir : "/tmp";
	s->fd = -1;
	return s;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
unmap(struct spool *s)
{
	if (s->map != NULL) {
		munmap(s->map, s->map_len);
		s->map = NULL;
		s->map_len = 0;
	}
}

static int
spill(struct spool *s, const char **err_r)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/vigil-spool-XXXXXX", s->dir);
	s->fd = mkstemp(path);
	if (s->fd < 0) {
		*err_r = "create spool file";
		return -1;
	}
	(void)unlink(path);	/* private from now on; failure leaves a stray file only */
	if (write_all(s->fd, s->buf, s->len) < 0) {
		*err_r = "write spool file";
		return -1;
	}
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
	return 0;
}

int
spool_append(struct spool *s, const void *p, size_t n, const char **err_r)
{
	if (n == 0)
		return 0;
	if (s->fd < 0 && s->len + n > s->mem_max && spill(s, err_r) < 0)
		return -1;
	if (s->fd >= 0) {
		unmap(s);
		if (write_all(s->fd, p, n) < 0) {
			*err_r = "write spool file";
			return -1;
		}
		s->len += n;
		return 0;
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 8192;
		unsigned char *b;

		while (cap < s->len + n)
			cap *= 2;
		if ((b = realloc(s->buf, cap)) == NULL)
			log_oom(cap, "spool");
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

size_t
spool_size(const struct spool *s)
{
	return s->len;
}

int
spool_is_spilled(const struct spool *s)
{
	return s->fd >= 0;
}

const unsigned char *
spool_data(struct spool *s, const char **err_r)
{
	static const unsigned char empty[1];

	if (s->len == 0)
		return empty;
	if (s->fd < 0)
		return s->buf;
	if (s->map == NULL) {
		void *m = mmap(NULL, s->len, PROT_READ, MAP_PRIVATE, s->fd, 0);

		if (m == MAP_FAILED) {
			*err_r = "map spool file";
			return NULL;
		}
		s->map = m;
		s->map_len = s->len;
	}
	return s->map;
}

void
spool_free(struct spool **sp)
{
	struct spool *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	*sp = NULL;
	unmap(s);
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	free(s);
}
