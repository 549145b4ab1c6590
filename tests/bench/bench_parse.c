/*
 * bench_parse.c - the core's per-message cost without any check: store a
 * message as the milter would (headers, CRLF body) and build its flat
 * view (GMime parse, decoded headers, text in UTF-8, HTML rendered,
 * URLs).  Reports CPU microseconds a message for each step, and the
 * instructions a message when perf counters are readable.
 *
 *   bench_parse [-r ROUNDS] [-n MAX] [-d DUMP] PATH...
 *
 * PATH is a message file or a folder of them (read one level down, so
 * the corpus's ham/ and spam/ both count).  Every message is read into
 * memory first; the timed loop does no I/O.  -d writes every message's
 * view to DUMP instead (no timing), to compare two builds' views.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "mime.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"

struct bmsg {
	unsigned char	*data;
	size_t		 len;
};

static struct bmsg *msgs;
static size_t nmsgs;
static char **paths;
static size_t npaths, cappaths;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Notes path, or the files of a folder (and of its sub-folders, one level). */
static void
add_path(const char *path, int depth)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if ((d = opendir(path)) == NULL) {
		/* Not a folder: a message (load() skips what is not a file). */
		if (npaths == cappaths) {
			cappaths = cappaths ? cappaths * 2 : 1024;
			paths = realloc(paths, cappaths * sizeof(*paths));
			if (paths == NULL)
				abort();
		}
		if ((paths[npaths++] = strdup(path)) == NULL)
			abort();
		return;
	}
	if (depth > 1) {
		closedir(d);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((names = realloc(names, cap * sizeof(*names))) == NULL)
				abort();
		}
		if (asprintf(&names[n++], "%s/%s", path, e->d_name) < 0)
			abort();
	}
	closedir(d);
	/* A fixed order, so two runs parse the same messages. */
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		add_path(names[i], depth + 1);
		free(names[i]);
	}
	free(names);
}

/* Reads max messages spread evenly over the paths noted (all when fewer). */
static void
load(size_t max)
{
	size_t want = max < npaths ? max : npaths;

	if ((msgs = calloc(want ? want : 1, sizeof(*msgs))) == NULL)
		abort();
	for (size_t k = 0; k < want; k++) {
		const char *path = paths[k * npaths / want];
		struct stat st;
		FILE *f;

		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
		    (f = fopen(path, "rb")) == NULL)
			continue;
		msgs[nmsgs].data = malloc((size_t)st.st_size + 1);
		if (msgs[nmsgs].data == NULL)
			abort();
		msgs[nmsgs].len = fread(msgs[nmsgs].data, 1, (size_t)st.st_size, f);
		fclose(f);
		nmsgs++;
	}
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
}

static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A counter of user-space instructions of this thread, or -1. */
static int
insn_counter(void)
{
	struct perf_event_attr pe;

	memset(&pe, 0, sizeof(pe));
	pe.type = PERF_TYPE_HARDWARE;
	pe.size = sizeof(pe);
	pe.config = PERF_COUNT_HW_INSTRUCTIONS;
	pe.disabled = 1;
	pe.exclude_kernel = 1;
	pe.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
}

static uint64_t
insn_read(int fd)
{
	uint64_t v = 0;

	if (fd < 0 || read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void
dump_str(FILE *f, const char *tag, const char *s, size_t n)
{
	fprintf(f, "%s %zu:", tag, n);
	if (s != NULL)
		fwrite(s, 1, n, f);
	fputc('\n', f);
}

static void
dump_cstr(FILE *f, const char *tag, const char *s)
{
	if (s == NULL)
		fprintf(f, "%s (null)\n", tag);
	else
		dump_str(f, tag, s, strlen(s));
}

/* Everything the checks can read of each message's view, in order. */
static int
dump(struct snap *s, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		return 1;
	}
	for (size_t i = 0; i < nmsgs; i++) {
		struct msg *m = parse_buffer(s, msgs[i].data, msgs[i].len, "dump");
		const struct mview *v = msg_view(m);

		size_t rawlen;
		const unsigned char *raw = msg_raw(m, &rawlen);

		fprintf(f, "== message %zu parse_error=%d\n", i, v->parse_error);
		dump_str(f, "raw", (const char *)raw, rawlen);
		dump_cstr(f, "subject", v->subject);
		for (size_t k = 0; k < v->nhdrs; k++) {
			dump_cstr(f, "hname", v->hdrs[k].name);
			dump_cstr(f, "hvalue", v->hdrs[k].value);
		}
		for (size_t k = 0; k < v->nparts; k++) {
			const struct mpart *p = &v->parts[k];

			fprintf(f, "part %zu depth=%u text=%d html=%d att=%d "
			    "size=%zu img=%u forms=%u links=%u hidden=%zu\n", k,
			    p->depth, p->is_text, p->is_html, p->is_attachment,
			    p->size, p->html_images, p->html_forms,
			    p->html_links, p->html_hidden_chars);
			dump_cstr(f, "type", p->type);
			dump_cstr(f, "charset", p->charset);
			dump_cstr(f, "filename", p->filename);
			dump_cstr(f, "disposition", p->disposition);
			dump_cstr(f, "encoding", p->encoding);
			dump_cstr(f, "sniffed", p->sniffed_type);
			dump_str(f, "data", (const char *)p->data, p->size);
			dump_str(f, "text", p->text, p->text_len);
			dump_str(f, "html", p->html, p->html_len);
		}
		for (size_t k = 0; k < v->nurls; k++) {
			fprintf(f, "url src=%u\n", v->urls[k].src);
			dump_cstr(f, " url", v->urls[k].url);
			dump_cstr(f, " host", v->urls[k].host);
			dump_cstr(f, " domain", v->urls[k].domain);
			dump_cstr(f, " anchor", v->urls[k].anchor_text);
		}
		dump_str(f, "body", v->body_text, v->body_len);
		msg_end(&m);
	}
	return fclose(f) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const char *const ov[] = { "Checks=headers", "Syslog=no" };
	size_t maxmsgs = SIZE_MAX;
	const char *dump_path = NULL;
	unsigned rounds = 3;
	int ch, fd, fd_errno;
	char *err = NULL;
	struct cfg *c;
	struct snap *s;
	uint64_t store_ns = 0, view_ns = 0, insn = 0, t0, t1, t2, i0;
	size_t bytes = 0, parts = 0, urls = 0;

	while ((ch = getopt(argc, argv, "r:n:d:")) != -1)
		switch (ch) {
		case 'd': dump_path = optarg; break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': maxmsgs = strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	if (optind >= argc || rounds == 0)
		goto usage;
	for (int i = optind; i < argc; i++)
		add_path(argv[i], 0);
	load(maxmsgs);
	if (nmsgs == 0) {
		fprintf(stderr, "bench_parse: no messages\n");
		return 1;
	}
	if ((c = cfg_load(NULL, ov, sizeof(ov) / sizeof(ov[0]), &err)) == NULL ||
	    (s = snap_build(c, &err)) == NULL) {
		fprintf(stderr, "bench_parse: %s\n", err ? err : "setup failed");
		return 1;
	}
	cfg_unref(&c);
	mime_init();
	if (dump_path != NULL)
		return dump(s, dump_path);
	for (size_t i = 0; i < nmsgs; i++)
		bytes += msgs[i].len;

	/* One untimed round warms caches and GMime's lazily built tables. */
	for (size_t i = 0; i < nmsgs; i++) {
		struct msg *m = parse_buffer(s, msgs[i].data, msgs[i].len, "bench");

		(void)msg_view(m);
		msg_end(&m);
	}
	fd = insn_counter();
	fd_errno = errno;
	if (fd >= 0) {
		ioctl(fd, PERF_EVENT_IOC_RESET, 0);
		ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	}
	for (unsigned r = 0; r < rounds; r++)
		for (size_t i = 0; i < nmsgs; i++) {
			const struct mview *v;
			struct msg *m;

			t0 = cpu_ns();
			m = parse_buffer(s, msgs[i].data, msgs[i].len, "bench");
			t1 = cpu_ns();
			v = msg_view(m);
			parts += v->nparts;
			urls += v->nurls;
			msg_end(&m);
			t2 = cpu_ns();
			store_ns += t1 - t0;
			view_ns += t2 - t1;
		}
	i0 = insn_read(fd);
	insn = i0;
	if (fd >= 0)
		close(fd);

	double n = (double)nmsgs * rounds;
	printf("bench_parse: %zu messages (%.1f KB mean), %u rounds\n",
	    nmsgs, (double)bytes / (double)nmsgs / 1024.0, rounds);
	printf("  store (headers + body, as the milter): %7.1f us/msg CPU\n",
	    (double)store_ns / 1000.0 / n);
	printf("  view (MIME, text, HTML, URLs):         %7.1f us/msg CPU\n",
	    (double)view_ns / 1000.0 / n);
	printf("  total:                                 %7.1f us/msg CPU",
	    (double)(store_ns + view_ns) / 1000.0 / n);
	if (fd >= 0)
		printf(", %.0f instructions/msg\n", (double)insn / n);
	else
		printf("\n  (no instruction counter: %s; valgrind "
		    "--tool=cachegrind counts them)\n", strerror(fd_errno));
	printf("  %.2f parts and %.2f URLs a message\n", (double)parts / n,
	    (double)urls / n);
	snap_unref(&s);
	for (size_t i = 0; i < nmsgs; i++)
		free(msgs[i].data);
	free(msgs);
	return 0;
usage:
	fprintf(stderr, "usage: bench_parse [-r ROUNDS] [-n MAX] [-d DUMP] "
	    "PATH...\n");
	return 2;
}
