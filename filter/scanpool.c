/*
 * scanpool.c - where the end-of-message checks run.
 *
 * libmilter gives each SMTP connection a thread of its own, and most
 * connections carry one message, so a thread usually lives for one
 * message.  Everything a check keeps per thread (compiled-pattern match
 * data and JIT stacks, Hyperscan scratch, store cursors, allocator
 * caches) and the stack pages its deepest calls touched were then built
 * for one message and thrown away (freed, unmapped, the stack advised
 * away) at its end.  A few scan threads that live as long as the
 * process keep all of that warm.
 *
 * The connection thread hands its message to an idle scan thread and
 * waits for the verdict.  When every scan thread is busy (a slow DNS
 * answer, a large attachment) it runs the checks itself, as it would
 * without the pool: a message never waits for another one, so the pool
 * cannot add latency or lower throughput when checks block.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "lib/histo.h"
#include "lib/log.h"
#include "lib/util.h"
#include "metrics/metrics.h"
#include "msg.h"
#include "pipeline.h"
#include "scanpool.h"
#include "snap.h"

struct job {
	struct msg		*m;
	const struct verdict	*v;
	uint64_t		 queued_us;	/* when it was handed off */
	bool			 done;
	pthread_cond_t		 cv;
	struct job		*next;
};

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 work = PTHREAD_COND_INITIALIZER;
static struct job	*head, *tail;
static int		 idle;		/* scan threads free for a new job */
static int		 nthreads;	/* scan threads started */
static bool		 started;
static atomic_ullong	 n_pooled, n_inline;
static struct histo	 stage_time[EOM_NSTAGES];
static const char *const stage_names[EOM_NSTAGES] = {
	"handoff", "scan", "store", "reply",
};

void
scanpool_stage(enum eom_stage s, uint64_t us)
{
	if ((unsigned)s < EOM_NSTAGES)
		histo_observe(&stage_time[s], us);
}

/* The checks and the verdict, timed. */
static const struct verdict *
scan(struct msg *m)
{
	uint64_t t0 = util_now_us();
	const struct verdict *v = pipeline_eom(m);

	scanpool_stage(EOM_SCAN, util_now_us() - t0);
	return v;
}

static void *
scan_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		struct job *j;

		while (head == NULL)
			pthread_cond_wait(&work, &mu);
		j = head;
		if ((head = j->next) == NULL)
			tail = NULL;
		pthread_mutex_unlock(&mu);
		scanpool_stage(EOM_HANDOFF, util_now_us() - j->queued_us);
		j->v = scan(j->m);
		pthread_mutex_lock(&mu);
		j->done = true;
		pthread_cond_signal(&j->cv);
		idle++;
	}
	return NULL;
}

/* Called with mu held, once. */
static void
start(const struct msg *m)
{
	long	 n = cfg_int(snap_cfg(msg_snap(m)), "ScanThreads");
	pthread_attr_t at;

	started = true;
	if (n < 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		if (n < 1)
			n = 1;
	}
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (long i = 0; i < n; i++) {
		pthread_t t;
		int	 rc;

		if ((rc = pthread_create(&t, &at, scan_thread, NULL)) != 0) {
			/* Fewer scan threads: more messages run inline. */
			log_sys(LOG_WARNING, "scan thread %ld of %ld: %s",
			    i + 1, n, strerror(rc));
			break;
		}
		idle++;
		nthreads++;
	}
	pthread_attr_destroy(&at);
}

const struct verdict *
scanpool_eom(struct msg *m)
{
	struct job j = { .m = m };

	pthread_mutex_lock(&mu);
	if (!started)
		start(m);
	if (idle == 0) {
		pthread_mutex_unlock(&mu);
		atomic_fetch_add(&n_inline, 1);
		scanpool_stage(EOM_HANDOFF, 0);
		return scan(m);
	}
	idle--;		/* reserved: the job below is this thread's */
	pthread_cond_init(&j.cv, NULL);
	if (tail != NULL)
		tail->next = &j;
	else
		head = &j;
	tail = &j;
	j.queued_us = util_now_us();
	pthread_cond_signal(&work);
	while (!j.done)
		pthread_cond_wait(&j.cv, &mu);
	pthread_mutex_unlock(&mu);
	pthread_cond_destroy(&j.cv);
	atomic_fetch_add(&n_pooled, 1);
	return j.v;
}

void
scanpool_write_stats(FILE *out)
{
	fprintf(out, "scan.pooled %llu\n", atomic_load(&n_pooled));
	fprintf(out, "scan.inline %llu\n", atomic_load(&n_inline));
	pthread_mutex_lock(&mu);
	fprintf(out, "scan.threads %d\n", nthreads);
	fprintf(out, "scan.threads.busy %d\n", nthreads - idle);
	pthread_mutex_unlock(&mu);
	for (int s = 0; s < EOM_NSTAGES; s++) {
		struct histo_read h;

		histo_read(&stage_time[s], &h);
		fprintf(out, "eom.%s.count %llu\n", stage_names[s],
		    h.cum[HISTO_NBOUNDS]);
		fprintf(out, "eom.%s.ms.mean %.3f\n", stage_names[s],
		    h.cum[HISTO_NBOUNDS] ? h.sum_s * 1000.0 /
		    (double)h.cum[HISTO_NBOUNDS] : 0.0);
		fprintf(out, "eom.%s.ms.p50 %.3f\n", stage_names[s],
		    histo_quantile(&h, 0.5) * 1000.0);
		fprintf(out, "eom.%s.ms.p99 %.3f\n", stage_names[s],
		    histo_quantile(&h, 0.99) * 1000.0);
		fprintf(out, "eom.%s.ms.max %.3f\n", stage_names[s],
		    h.max_s * 1000.0);
	}
}

void
scanpool_write_metrics(const struct metrics_fmt *f)
{
	char labels[32];

	metrics_family(f, "vigil_eom_stage_duration_seconds",
	    METRICS_HISTOGRAM, "Time of each stage of a message's end of "
	    "message: handoff to a scan thread, scan, quarantine store, "
	    "reply to the MTA and log");
	for (int s = 0; s < EOM_NSTAGES; s++) {
		struct histo_read h;

		histo_read(&stage_time[s], &h);
		snprintf(labels, sizeof(labels), "stage=\"%s\"",
		    stage_names[s]);
		metrics_histo(f, "vigil_eom_stage_duration_seconds", labels,
		    &h);
	}
}
