/*
 * startup.c - what the daemon prepares and says before it takes mail:
 * the folders its configuration names (sockets, pid file, quarantine,
 * Bayes store), made when missing and given to the user it runs as, and
 * the summary of what will run and what will not, and why, that `vigil
 * -n` prints and the startup log repeats.  Owns nothing past the call.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "check.h"
#include "lib/log.h"
#include "snap.h"
#include "startup.h"

/* The path of a unix: socket spec, or NULL for inet sockets. */
static const char *
socket_path(const char *spec)
{
	if (spec == NULL)
		return NULL;
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/*
 * Makes path (mode) and its missing parents (0755), giving each folder it
 * makes to uid:gid when uid is not -1.  Returns 0, or -1 with errno set
 * and the folder that failed in failed.
 *
 * Run as root, in folders the daemon's user may own (/run/vigil/...):
 * the walk goes component by component through descriptors (mkdirat,
 * openat), a folder just made is opened with O_NOFOLLOW and given away
 * with fchown, and no symlink is followed inside a folder root does not
 * own.  A symlink the daemon's user swaps in cannot make root create or
 * chown anything elsewhere.  Symlinks in root's own folders (/var/run)
 * are followed as before.
 */
static int
make_dirs(const char *path, mode_t mode, uid_t uid, gid_t gid,
    char *failed, size_t failsz)
{
	char buf[4096];
	size_t n = strlen(path);
	bool is_root = geteuid() == 0;
	int dfd, fd, rc = -1, saved;

	if (n == 0 || n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		snprintf(failed, failsz, "%s", path);
		return -1;
	}
	memcpy(buf, path, n + 1);
	dfd = open(buf[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (dfd < 0) {
		snprintf(failed, failsz, "%s", buf[0] == '/' ? "/" : ".");
		return -1;
	}
	for (char *p = buf;;) {
		struct stat st;
		char *name, *end;
		bool is_last, is_made = false;
		int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		name = p;
		if ((end = strchr(name, '/')) != NULL) {
			*end = '\0';	/* buf now ends at this folder */
			for (p = end + 1; *p == '/'; p++)
				;
			is_last = *p == '\0';
		} else {
			p = name + strlen(name);
			is_last = true;
		}
		if (mkdirat(dfd, name, is_last ? mode : 0755) == 0)
			is_made = true;
		else if (errno != EEXIST)
			goto fail;
		if (is_made || (is_root && fstat(dfd, &st) == 0 &&
		    st.st_uid != 0))
			flags |= O_NOFOLLOW;
		if ((fd = openat(dfd, name, flags)) < 0)
			goto fail;
		close(dfd);
		dfd = fd;
		if (is_made && uid != (uid_t)-1 && fstat(fd, &st) == 0 &&
		    st.st_uid == geteuid() && fchown(fd, uid, gid) == -1)
			goto fail;
		if (end != NULL)
			*end = '/';
	}
	rc = 0;
	goto out;
fail:
	saved = errno;
	snprintf(failed, failsz, "%s", buf);	/* cut at the component */
	errno = saved;
out:
	close(dfd);
	return rc;
}

/* The folder part of path (a file's), in buf; false when it has none. */
static bool
parent_of(const char *path, char *buf, size_t bufsz)
{
	const char *slash;

	if (path == NULL || (slash = strrchr(path, '/')) == NULL ||
	    slash == path || (size_t)(slash - path) >= bufsz)
		return false;
	memcpy(buf, path, (size_t)(slash - path));
	buf[slash - path] = '\0';
	return true;
}

/* Does the Checks option turn check name on? */
static bool
check_listed(const struct cfg *c, const char *name)
{
	for (const char *const *l = cfg_list(c, "Checks", NULL); *l; l++)
		if (strcasecmp(*l, "all") == 0 || strcasecmp(*l, name) == 0)
			return true;
	return false;
}

void
startup_make_dirs(const struct cfg *c, const char *spec, uid_t uid,
    gid_t gid)
{
	struct {
		const char	*opt;
		char		 dir[4096];
		mode_t		 mode;
	} want[5];
	size_t n = 0;
	char failed[4096];
	const char *p;

	if (geteuid() != 0)
		uid = (uid_t)-1;	/* ours already */
	/* The MTA must reach the milter socket's folder. */
	if (parent_of(socket_path(spec), want[n].dir, sizeof(want[n].dir))) {
		want[n].opt = "Socket";
		want[n++].mode = 0755;
	}
	if (parent_of(cfg_str(c, "ControlSocket"), want[n].dir,
	    sizeof(want[n].dir))) {
		want[n].opt = "ControlSocket";
		want[n++].mode = 0750;
	}
	if (parent_of(cfg_str(c, "PidFile"), want[n].dir,
	    sizeof(want[n].dir))) {
		want[n].opt = "PidFile";
		want[n++].mode = 0755;
	}
	/* The quarantine's folder when a score sends mail there (a check
	 * that forces it makes the folder on first use). */
	if (cfg_enum(c, "QuarantineMode") == 0 &&
	    cfg_double(c, "QuarantineScore") != 0 &&
	    (p = cfg_str(c, "QuarantineDir")) != NULL) {
		snprintf(want[n].dir, sizeof(want[n].dir), "%s", p);
		want[n].opt = "QuarantineDir";
		want[n++].mode = 0700;
	}
	if (check_listed(c, "bayes") && cfg_bool(c, "BayesEnable") &&
	    cfg_str(c, "BayesRedis") == NULL &&
	    (p = cfg_str(c, "BayesDir")) != NULL) {
		snprintf(want[n].dir, sizeof(want[n].dir), "%s", p);
		want[n].opt = "BayesDir";
		want[n++].mode = 0750;
	}
	for (size_t i = 0; i < n; i++)
		if (make_dirs(want[i].dir, want[i].mode, uid, gid, failed,
		    sizeof(failed)) == -1)
			log_sys(LOG_WARNING, "%s %s: cannot make folder %s: %s "
			    "(make it, writable by the user vigil runs as, or "
			    "set %s elsewhere)", want[i].opt, want[i].dir,
			    failed, strerror(errno), want[i].opt);
}

void
startup_give_store(const struct cfg *c, uid_t uid, gid_t gid)
{
	const char *dir = cfg_str(c, "BayesDir");
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	/* Files root made in the store (earlier versions opened it before
	 * privileges were dropped) become the daemon user's. */
	if (geteuid() != 0 || !check_listed(c, "bayes") ||
	    !cfg_bool(c, "BayesEnable") ||
	    cfg_str(c, "BayesRedis") != NULL || dir == NULL ||
	    (d = opendir(dir)) == NULL)
		return;
	fd = dirfd(d);
	if (fstat(fd, &st) == 0 && st.st_uid == 0 &&
	    fchown(fd, uid, gid) == -1)
		log_sys(LOG_WARNING, "BayesDir %s: chown: %s", dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode) || st.st_uid != 0)
			continue;
		if (fchownat(fd, de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) == -1)
			log_sys(LOG_WARNING, "BayesDir %s/%s: chown: %s", dir,
			    de->d_name, strerror(errno));
	}
	closedir(d);
}

void
startup_log_checks(const struct snap *s)
{
	char line[512];

	for (size_t i = 0; checks[i] != NULL; i++) {
		snap_check_status(s, checks[i], line, sizeof(line));
		log_sys(LOG_INFO, "check=%s %s", checks[i]->name, line);
	}
}

/* "from 5.0" or "off" for a score option where 0 means off. */
static const char *
threshold(const struct cfg *c, const char *name, char *buf, size_t bufsz)
{
	double v = cfg_double(c, name);

	if (v == 0)
		return "off";
	snprintf(buf, bufsz, "from %.1f", v);
	return buf;
}

void
startup_print_summary(FILE *out, const struct snap *s, const char *spec)
{
	const struct cfg *c = snap_cfg(s);
	char line[512], t1[32], t2[32], t3[32];
	const char *p;

	fprintf(out, "milter socket    %s\n", spec);
	fprintf(out, "control socket   %s\n", (p = cfg_str(c,
	    "ControlSocket")) != NULL ? p : "none (vigilctl stats/reload off)");
	fprintf(out, "checks (Checks, and what each has to work with):\n");
	for (size_t i = 0; checks[i] != NULL; i++) {
		snap_check_status(s, checks[i], line, sizeof(line));
		/* A missing store folder is made at startup (-n makes none). */
		if (strcmp(checks[i]->name, "bayes") == 0 &&
		    strncmp(line, "off: lmdb ", 10) == 0 &&
		    cfg_bool(c, "BayesEnable") &&
		    cfg_str(c, "BayesRedis") == NULL &&
		    access(cfg_str(c, "BayesDir"), F_OK) == -1)
			snprintf(line, sizeof(line), "on: learning; the store "
			    "is made in %s at startup", cfg_str(c, "BayesDir"));
		fprintf(out, "  %-8s %s\n", checks[i]->name, line);
	}
	fprintf(out, "DNS for SPF/DKIM/DMARC: %s\n", (p = cfg_str(c,
	    "DNSZoneFile")) != NULL ? p : "the system's resolver");
	fprintf(out, "actions: tag %s, subject %s%s%s, quarantine %s, "
	    "reject %s\n", threshold(c, "TagScore", t1, sizeof(t1)),
	    cfg_str(c, "RewriteSubject") ? "\"" : "",
	    cfg_str(c, "RewriteSubject") ? cfg_str(c, "RewriteSubject") :
	    "unchanged", cfg_str(c, "RewriteSubject") ? "\"" : "",
	    threshold(c, "QuarantineScore", t2, sizeof(t2)),
	    threshold(c, "RejectScore", t3, sizeof(t3)));
	fprintf(out, "quarantine       %s\n", cfg_enum(c, "QuarantineMode") ?
	    "Postfix's hold queue" : cfg_str(c, "QuarantineDB") != NULL ?
	    "PostgreSQL (QuarantineDB)" : cfg_str(c, "QuarantineDir"));
	if (cfg_bool(c, "BayesEnable"))
		fprintf(out, "bayes store      %s\n", cfg_str(c, "BayesRedis") ?
		    cfg_str(c, "BayesRedis") : cfg_str(c, "BayesDir"));
	fprintf(out, "skip trusted     %s (TrustedNetworks, authenticated "
	    "senders)\n", cfg_bool(c, "SkipTrusted") ? "yes" : "no");
}
