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
#include "lib/log.h"
#include "msg.h"
#include "pipeline.h"
#include "scanpool.h"
#include "snap.h"

struct job {
	struct msg		*m;
	const struct verdict	*v;
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
		j->v = pipeline_eom(j->m);
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
		return pipeline_eom(m);
	}
	idle--;		/* reserved: the job below is this thread's */
	pthread_cond_init(&j.cv, NULL);
	if (tail != NULL)
		tail->next = &j;
	else
		head = &j;
	tail = &j;
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
}
