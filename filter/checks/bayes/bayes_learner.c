/*
 * bayes_learner.c - autolearn off the message path.  The check hands each
 * message it wants learned (digest and a copy of its tokens) to a bounded
 * queue; one background thread per store takes the queue in batches and
 * learns each batch with one call of the store's learn op (LMDB: one write
 * transaction and one fsync; Redis: one pipeline).  A message never waits
 * for the store: when the queue is full the item is dropped and counted.
 *
 * The thread starts with the first item (a snapshot that is only used
 * offline, or built before the daemon forks, starts none).  Freeing the
 * learner drains what was accepted, within a time bound, before the caller
 * closes the store.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checks/bayes/bayes.h"
#include "lib/log.h"

struct bayes_learner {
	struct bayes_store *store;
	pthread_mutex_t	 mu;
	pthread_cond_t	 more;		/* items queued, or stopping */
	pthread_cond_t	 idle;		/* queue empty and nothing in flight */
	struct bayes_al_item **q;	/* ring of queue_max */
	size_t		 queue_max, head, n;
	size_t		 in_flight;	/* taken by the thread, not yet done */
	bool		 started, stopping;
	int64_t		 drain_deadline_ms;	/* when stopping */
	int64_t		 batch_ms;	/* how long a batch gathers */
	pthread_t	 thr;
	struct bayes_learner_stats st;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
deadline_ts(struct timespec *ts, int64_t ms_from_now)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms_from_now / 1000;
	ts->tv_nsec += (ms_from_now % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

void
bayes_al_item_free(struct bayes_al_item *it)
{
	if (it == NULL)
		return;
	free(it->toks);
	free(it);
}

static const char *
cls_name(enum bayes_class c)
{
	return c == BAYES_SPAM ? "spam" : "ham";
}

/* Learns one batch (mutex not held) and logs each item. */
static void
commit(struct bayes_learner *l, struct bayes_al_item **b, size_t n)
{
	struct bayes_learn *items = calloc(n, sizeof(*items));
	char	*err = NULL;
	int	 rc;

	if (items == NULL)
		log_oom(n * sizeof(*items), "bayes");
	for (size_t i = 0; i < n; i++) {
		memcpy(items[i].digest, b[i]->digest, BAYES_DIGEST_LEN);
		items[i].toks = b[i]->toks;
		items[i].ntoks = b[i]->ntoks;
		items[i].cls = b[i]->cls;
		items[i].forget = false;
	}
	rc = l->store->ops->learn(l->store, items, n, &err);
	for (size_t i = 0; i < n; i++) {
		const struct bayes_al_item *it = b[i];

		if (rc == -1) {
			atomic_fetch_add(&l->st.failed, 1);
			log_sys(LOG_WARNING, "s=%s q=%s check=bayes autolearn=%s "
			    "score=%.1f result=error why=\"%s\"", it->sid, it->qid,
			    cls_name(it->cls), it->score, err);
			continue;
		}
		atomic_fetch_add(it->cls == BAYES_SPAM ? &l->st.spam :
		    &l->st.ham, 1);
		log_sys(LOG_INFO, "s=%s q=%s check=bayes autolearn=%s score=%.1f "
		    "result=%s", it->sid, it->qid, cls_name(it->cls), it->score,
		    bayes_result_name(items[i].result));
	}
	if (rc != -1)
		atomic_fetch_add(&l->st.batches, 1);
	free(err);
	free(items);
}

static void *
learner_main(void *arg)
{
	struct bayes_learner *l = arg;
	struct bayes_al_item *batch[BAYES_AL_BATCH_MAX];
	struct timespec ts;
	size_t	 n, ntoks;
	int64_t	 wait_ms;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (l->n == 0 && !l->stopping)
			pthread_cond_wait(&l->more, &l->mu);
		if (l->n == 0 && l->stopping)
			break;
		/* Gather a batch: wait for more until the oldest item has
		 * waited batch_ms, unless the batch is full or the
		 * queue is being drained. */
		wait_ms = l->q[l->head]->queued_ms + l->batch_ms - now_ms();
		if (l->n < BAYES_AL_BATCH_MAX && !l->stopping && wait_ms > 0) {
			deadline_ts(&ts, wait_ms);
			while (l->n < BAYES_AL_BATCH_MAX && !l->stopping &&
			    pthread_cond_timedwait(&l->more, &l->mu, &ts) !=
			    ETIMEDOUT)
				;
		}
		if (l->stopping && now_ms() > l->drain_deadline_ms) {
			/* Out of time: what is left is dropped, said once. */
			log_sys(LOG_WARNING, "check=bayes autolearn: %zu "
			    "queued messages dropped at shutdown (the store "
			    "did not keep up)", l->n);
			while (l->n > 0) {
				bayes_al_item_free(l->q[l->head]);
				l->head = (l->head + 1) % l->queue_max;
				l->n--;
				atomic_fetch_add(&l->st.dropped, 1);
			}
			break;
		}
		ntoks = 0;
		for (n = 0; n < l->n && n < BAYES_AL_BATCH_MAX; n++) {
			struct bayes_al_item *it = l->q[l->head];

			if (n > 0 && ntoks + it->ntoks > BAYES_AL_BATCH_TOKS)
				break;
			ntoks += it->ntoks;
			batch[n] = it;
			l->head = (l->head + 1) % l->queue_max;
		}
		l->n -= n;
		l->in_flight = n;
		pthread_mutex_unlock(&l->mu);
		commit(l, batch, n);
		for (size_t i = 0; i < n; i++)
			bayes_al_item_free(batch[i]);
		pthread_mutex_lock(&l->mu);
		l->in_flight = 0;
		if (l->n == 0)
			pthread_cond_broadcast(&l->idle);
	}
	pthread_cond_broadcast(&l->idle);
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

struct bayes_learner *
bayes_learner_new(struct bayes_store *store, size_t queue_max)
{
	struct bayes_learner *l = calloc(1, sizeof(*l));
	pthread_condattr_t ca;

	if (l == NULL)
		log_oom(sizeof(*l), "bayes");
	if (queue_max == 0)
		queue_max = 1;
	l->store = store;
	l->queue_max = queue_max;
	l->batch_ms = BAYES_AL_BATCH_MS;
	if ((l->q = calloc(queue_max, sizeof(*l->q))) == NULL)
		log_oom(queue_max * sizeof(*l->q), "bayes");
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->more, &ca);
	pthread_cond_init(&l->idle, &ca);
	pthread_condattr_destroy(&ca);
	return l;
}

void
bayes_learner_set_wait(struct bayes_learner *l, uint64_t ms)
{
	pthread_mutex_lock(&l->mu);
	l->batch_ms = (int64_t)ms;
	pthread_mutex_unlock(&l->mu);
}

bool
bayes_learner_push(struct bayes_learner *l, struct bayes_al_item *it)
{
	int	 rc;

	pthread_mutex_lock(&l->mu);
	if (l->stopping || l->n >= l->queue_max) {
		pthread_mutex_unlock(&l->mu);
		atomic_fetch_add(&l->st.dropped, 1);
		bayes_al_item_free(it);
		return false;
	}
	if (!l->started) {
		if ((rc = pthread_create(&l->thr, NULL, learner_main, l)) != 0) {
			pthread_mutex_unlock(&l->mu);
			log_sys(LOG_WARNING, "check=bayes autolearn thread: %s",
			    strerror(rc));
			atomic_fetch_add(&l->st.dropped, 1);
			bayes_al_item_free(it);
			return false;
		}
		l->started = true;
	}
	it->queued_ms = now_ms();
	l->q[(l->head + l->n) % l->queue_max] = it;
	l->n++;
	if (l->n >= BAYES_AL_BATCH_MAX)
		pthread_cond_signal(&l->more);
	else if (l->n == 1)
		pthread_cond_signal(&l->more);	/* wake the idle thread */
	pthread_mutex_unlock(&l->mu);
	return true;
}

bool
bayes_learner_flush(struct bayes_learner *l, uint64_t timeout_ms)
{
	struct timespec ts;
	bool	 ok;

	deadline_ts(&ts, (int64_t)timeout_ms);
	pthread_mutex_lock(&l->mu);
	while ((l->n > 0 || l->in_flight > 0) && l->started &&
	    pthread_cond_timedwait(&l->idle, &l->mu, &ts) != ETIMEDOUT)
		;
	ok = l->n == 0 && l->in_flight == 0;
	pthread_mutex_unlock(&l->mu);
	return ok;
}

size_t
bayes_learner_queued(struct bayes_learner *l)
{
	size_t	 n;

	pthread_mutex_lock(&l->mu);
	n = l->n + l->in_flight;
	pthread_mutex_unlock(&l->mu);
	return n;
}

const struct bayes_learner_stats *
bayes_learner_stats(const struct bayes_learner *l)
{
	return &l->st;
}

void
bayes_learner_free(struct bayes_learner **lp, uint64_t drain_ms)
{
	struct bayes_learner *l = *lp;

	if (l == NULL)
		return;
	*lp = NULL;
	pthread_mutex_lock(&l->mu);
	l->stopping = true;
	l->drain_deadline_ms = now_ms() + (int64_t)drain_ms;
	/* Said, so that a stop that loses nothing can be told from one
	 * that had nothing to lose. */
	if (l->n + l->in_flight > 0)
		log_sys(LOG_INFO, "check=bayes autolearn: learning %zu queued "
		    "messages before the store closes", l->n + l->in_flight);
	pthread_cond_broadcast(&l->more);
	pthread_mutex_unlock(&l->mu);
	if (l->started)
		pthread_join(l->thr, NULL);
	/* Never started: nothing was queued. */
	pthread_cond_destroy(&l->more);
	pthread_cond_destroy(&l->idle);
	pthread_mutex_destroy(&l->mu);
	free(l->q);
	free(l);
}
