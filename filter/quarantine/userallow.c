/*
 * userallow.c - the users' allowed senders (see userallow.h): appended
 * by vigil-web under flock(2), read by the policy check through one
 * process-wide parsed copy (a GLib hash set under a mutex), reloaded
 * when the file changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "cfg.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "quarantine/userallow.h"
#include "quarantine/weblink.h"

#define LINE_MAX_LEN	700

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char		*path;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
	GHashTable	*set;		/* "rcpt sender" lines */
} cache;

char *
userallow_path(const struct cfg *c)
{
	const char *p = cfg_str(c, "UserAllowFile");
	const char *dir = cfg_str(c, "QuarantineDir");
	char *s = NULL;

	if (p != NULL)
		s = strdup(p);
	else if (dir != NULL && asprintf(&s, "%s/user-allow", dir) == -1)
		s = NULL;
	else if (dir == NULL)
		return NULL;
	if (s == NULL)
		log_oom(256, "user allow path");
	return s;
}

/* An address as the file keeps it: lower case, no <>, nothing that
 * could split a line; NULL when unusable. */
static const char *
addr_norm(struct arena *a, const char *s)
{
	const char *n;

	if (s == NULL)
		return NULL;
	n = weblink_rcpt_norm(a, s);
	if (*n == '\0' || strchr(n, '@') == NULL || strlen(n) > 320)
		return NULL;
	for (const char *p = n; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return NULL;
	return n;
}

bool
userallow_add(struct arena *a, const struct cfg *c, const char *rcpt,
    const char *sender, const char **err_r)
{
	const char *r = addr_norm(a, rcpt), *s = addr_norm(a, sender);
	char *path = userallow_path(c), *line, *buf = NULL;
	size_t cap = 0, len = 0;
	bool found = false, ok = true;
	ssize_t n;
	int fd;

	if (path == NULL) {
		*err_r = "user allow list: neither UserAllowFile nor "
		    "QuarantineDir is set";
		return false;
	}
	if (r == NULL || s == NULL) {
		*err_r = arena_printf(a, "user allow list %s: not an address "
		    "to allow (a bounce cannot be allowed)", path);
		free(path);
		return false;
	}
	line = arena_printf(a, "%s %s\n", r, s);
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd == -1 || flock(fd, LOCK_EX) == -1) {
		*err_r = arena_printf(a, "user allow list %s: open: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		free(path);
		return false;
	}
	/* Already there?  Read it all under the lock. */
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = (len + 4096) * 2);

			if (nb == NULL)
				log_oom(cap, "user allow list");
			buf = nb;
		}
		n = pread(fd, buf + len, cap - len - 1, (off_t)len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0) {
		*err_r = arena_printf(a, "user allow list %s: read: %s", path,
		    strerror(errno));
		ok = false;
	} else {
		buf[len] = '\0';
		for (char *p = buf; p != NULL && *p != '\0' && !found;) {
			char *nl = strchr(p, '\n');

			found = nl != NULL && (size_t)(nl - p + 1) ==
			    strlen(line) && memcmp(p, line, strlen(line)) == 0;
			p = nl != NULL ? nl + 1 : NULL;
		}
		/* A line cut by a crash: start ours on a line of its own. */
		if (!found && len > 0 && buf[len - 1] != '\n')
			line = arena_printf(a, "\n%s", line);
		if (!found && (write(fd, line, strlen(line)) !=
		    (ssize_t)strlen(line) || fsync(fd) == -1)) {
			*err_r = arena_printf(a, "user allow list %s: write: "
			    "%s", path, strerror(errno));
			ok = false;
		}
	}
	free(buf);
	close(fd);	/* drops the lock */
	free(path);
	return ok;
}

/* Reads path into a new set; NULL with errno. */
static GHashTable *
set_load(const char *path)
{
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		int e = errno;

		g_hash_table_destroy(set);
		errno = e;
		return NULL;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || n > LINE_MAX_LEN || line[0] == '#' ||
		    strchr(line, ' ') == NULL)
			continue;
		g_hash_table_add(set, g_strdup(line));
	}
	free(line);
	fclose(f);
	return set;
}

int
userallow_match(struct arena *a, const struct cfg *c, const char *sender,
    const char *const *rcpts, size_t n, const char **err_r)
{
	const char *s = addr_norm(a, sender);
	char *path;
	struct stat st;
	int rc = 1;

	if (s == NULL || n == 0)
		return 0;
	if ((path = userallow_path(c)) == NULL)
		return 0;
	pthread_mutex_lock(&cache_lock);
	if (stat(path, &st) == -1) {
		if (errno != ENOENT) {
			*err_r = arena_printf(a, "user allow list %s: %s",
			    path, strerror(errno));
			rc = -1;
		} else
			rc = 0;
		goto out;
	}
	if (cache.set == NULL || cache.path == NULL ||
	    strcmp(cache.path, path) != 0 || cache.dev != st.st_dev ||
	    cache.ino != st.st_ino || cache.size != st.st_size ||
	    cache.mtime.tv_sec != st.st_mtim.tv_sec ||
	    cache.mtime.tv_nsec != st.st_mtim.tv_nsec) {
		GHashTable *set = set_load(path);

		if (set == NULL) {
			*err_r = arena_printf(a, "user allow list %s: %s",
			    path, strerror(errno));
			rc = -1;
			goto out;
		}
		if (cache.set != NULL)
			g_hash_table_destroy(cache.set);
		free(cache.path);
		cache.set = set;
		cache.path = path;
		path = NULL;
		cache.dev = st.st_dev;
		cache.ino = st.st_ino;
		cache.size = st.st_size;
		cache.mtime = st.st_mtim;
	}
	for (size_t i = 0; i < n && rc == 1; i++) {
		const char *r = addr_norm(a, rcpts[i]);

		if (r == NULL || !g_hash_table_contains(cache.set,
		    arena_printf(a, "%s %s", r, s)))
			rc = 0;
	}
out:
	pthread_mutex_unlock(&cache_lock);
	free(path);
	return rc;
}

void
userallow_cache_free(void)
{
	pthread_mutex_lock(&cache_lock);
	if (cache.set != NULL)
		g_hash_table_destroy(cache.set);
	cache.set = NULL;
	free(cache.path);
	cache.path = NULL;
	pthread_mutex_unlock(&cache_lock);
}
